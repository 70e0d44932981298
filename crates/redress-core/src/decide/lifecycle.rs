//! What may happen at any stage of the ladder: notes, calls, who handles the complaint, and
//! closing and reopening it.

use crate::event::{CallDirection, Event, EventKind};
use crate::model::{self, Role};

use super::context::Context;
use super::refusal::{Refusal, RefusalCode, invalid, optional_text, refuse};

pub(super) fn add_note(
    cx: &Context<'_>,
    text: String,
    restricted: bool,
    about_staff: Option<String>,
) -> Result<Vec<Event>, Refusal> {
    let text = model::long_text("the note", &text).map_err(invalid)?;
    let about_staff = match about_staff {
        Some(s) if !s.trim().is_empty() => {
            Some(model::short_text("the staff member", &s).map_err(invalid)?)
        }
        _ => None,
    };
    // Notes about a staff member are always for managers only.
    let restricted = restricted || about_staff.is_some();
    cx.one(EventKind::NoteAdded {
        text,
        restricted,
        about_staff,
    })
}

pub(super) fn record_call(
    cx: &Context<'_>,
    direction: CallDirection,
    summary: Option<String>,
    duration_minutes: Option<u32>,
) -> Result<Vec<Event>, Refusal> {
    let summary =
        optional_text("the call summary", summary)?.unwrap_or_else(|| "Telephone call".to_owned());
    if duration_minutes.is_some_and(|m| m > 24 * 60) {
        return refuse(
            RefusalCode::InvalidInput,
            "a call cannot last more than a day",
        );
    }
    cx.one(EventKind::CallRecorded {
        direction,
        summary,
        duration_minutes,
    })
}

pub(super) fn assign(cx: &Context<'_>, handler: String) -> Result<Vec<Event>, Refusal> {
    let (c, by) = (cx.c, &cx.by);
    let handler = model::short_text("the handler", &handler).map_err(invalid)?;
    if c.staff_concerned.contains(&handler) {
        return refuse(
            RefusalCode::NotPermitted,
            format!(
                "{handler} is named as a staff member concerned in this complaint, so cannot handle it"
            ),
        );
    }
    if by.role == Role::Handler && by.staff.as_deref().is_some_and(|me| me != handler) {
        return refuse(
            RefusalCode::NotPermitted,
            "only a manager can assign a complaint to someone else",
        );
    }
    if c.handler.as_deref() == Some(handler.as_str()) {
        return refuse(
            RefusalCode::AlreadyDone,
            format!("{handler} is already handling this complaint"),
        );
    }
    cx.one(EventKind::HandlerAssigned { handler })
}

pub(super) fn name_staff_concerned(cx: &Context<'_>, staff: String) -> Result<Vec<Event>, Refusal> {
    let c = cx.c;
    let staff = model::short_text("the staff member", &staff).map_err(invalid)?;
    if c.staff_concerned.contains(&staff) {
        return refuse(
            RefusalCode::AlreadyDone,
            format!("{staff} is already named as concerned in this complaint"),
        );
    }
    if c.staff_concerned.len() >= 20 {
        return refuse(
            RefusalCode::InvalidInput,
            "at most 20 staff members can be named as concerned",
        );
    }
    let unassigned = c.handler.as_deref() == Some(staff.as_str());
    cx.one(EventKind::StaffConcernedNamed { staff, unassigned })
}

pub(super) fn close(cx: &Context<'_>, reason: Option<String>) -> Result<Vec<Event>, Refusal> {
    if cx.c.remedy_outstanding() {
        return refuse(
            RefusalCode::NotYet,
            "the ombudsman's remedy must be completed before the complaint is closed",
        );
    }
    let reason = optional_text("the reason", reason)?;
    cx.one(EventKind::Closed { reason })
}

pub(super) fn reopen(cx: &Context<'_>, reason: Option<String>) -> Result<Vec<Event>, Refusal> {
    if !cx.c.is_settled() {
        return refuse(
            RefusalCode::WrongStatus,
            "only a resolved or closed complaint can be reopened",
        );
    }
    if cx.c.ombudsman.is_some() {
        return refuse(
            RefusalCode::NotPermitted,
            "the ombudsman's decision is final, so the complaint cannot be reopened",
        );
    }
    let reason = optional_text("the reason", reason)?;
    cx.one(EventKind::Reopened { reason })
}
