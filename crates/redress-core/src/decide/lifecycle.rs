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

/// What an `update_customer` command asks to change.
pub(super) struct CustomerChange {
    pub name: Option<String>,
    pub email: Option<String>,
    pub telephone: Option<String>,
    pub address: Option<Vec<String>>,
    pub postcode: Option<String>,
    pub preferred_channel: Option<model::Channel>,
    pub accessibility_needs: Option<Vec<String>>,
    pub vulnerabilities: Option<Vec<String>>,
}

pub(super) fn update_customer(
    cx: &Context<'_>,
    change: CustomerChange,
) -> Result<Vec<Event>, Refusal> {
    let before = &cx.c.customer;
    let mut after = before.clone();
    let blank_is_none = |v: String| Some(v).filter(|v| !v.trim().is_empty());
    if let Some(name) = change.name {
        after.name = name;
    }
    if let Some(email) = change.email {
        after.email = blank_is_none(email);
    }
    if let Some(telephone) = change.telephone {
        after.telephone = blank_is_none(telephone);
    }
    if let Some(address) = change.address {
        after.address = address;
    }
    if let Some(postcode) = change.postcode {
        after.postcode = match blank_is_none(postcode) {
            Some(p) => Some(model::Postcode::parse(&p).map_err(invalid)?),
            None => None,
        };
    }
    if let Some(channel) = change.preferred_channel {
        after.preferred_channel = Some(channel);
    }
    if let Some(needs) = change.accessibility_needs {
        after.accessibility_needs = needs;
    }
    if let Some(vulnerabilities) = change.vulnerabilities {
        after.vulnerabilities = vulnerabilities;
    }
    // The same checks as a new complaint's customer.
    let after = after.validated().map_err(invalid)?;
    let fields = [
        ("name", after.name != before.name),
        ("email", after.email != before.email),
        ("telephone", after.telephone != before.telephone),
        ("address", after.address != before.address),
        ("postcode", after.postcode != before.postcode),
        (
            "preferred_channel",
            after.preferred_channel != before.preferred_channel,
        ),
        (
            "accessibility_needs",
            after.accessibility_needs != before.accessibility_needs,
        ),
        (
            "vulnerabilities",
            after.vulnerabilities != before.vulnerabilities,
        ),
    ];
    let changed: Vec<String> = fields
        .iter()
        .filter(|(_, differs)| *differs)
        .map(|(name, _)| (*name).to_owned())
        .collect();
    if changed.is_empty() {
        return refuse(
            RefusalCode::InvalidInput,
            "nothing would change: give at least one detail that differs from what is held",
        );
    }
    cx.one(EventKind::CustomerUpdated {
        customer: after,
        changed,
    })
}
