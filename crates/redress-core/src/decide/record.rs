//! What compliance does with the record itself rather than a step of the ladder: legal holds
//! and erasure of the customer's personal data (the rules of both are in `crate::erasure`).

use crate::erasure;
use crate::event::{Event, EventKind};
use crate::model::{self, Role, Status};

use super::context::Context;
use super::refusal::{Refusal, RefusalCode, invalid, refuse};

pub(super) fn place_legal_hold(cx: &Context<'_>, reason: String) -> Result<Vec<Event>, Refusal> {
    let reason = model::long_text("the reason", &reason).map_err(invalid)?;
    if let Some(h) = &cx.c.legal_hold {
        return refuse(
            RefusalCode::AlreadyDone,
            format!("a legal hold is already in place ({})", h.reason),
        );
    }
    cx.one(EventKind::LegalHoldPlaced { reason })
}

pub(super) fn release_legal_hold(cx: &Context<'_>, reason: String) -> Result<Vec<Event>, Refusal> {
    let reason = model::long_text("the reason", &reason).map_err(invalid)?;
    if cx.c.legal_hold.is_none() {
        return refuse(
            RefusalCode::WrongStatus,
            "there is no legal hold on this complaint to release",
        );
    }
    cx.one(EventKind::LegalHoldReleased { reason })
}

/// Erasure on request (compliance) or at the end of the retention period (Redress itself,
/// which the retention run asks only once the period is over). The store blanks the earlier
/// events and fills in how many and the digest of their list.
pub(super) fn erase_personal_data(cx: &Context<'_>, reason: String) -> Result<Vec<Event>, Refusal> {
    let reason = model::long_text("the reason", &reason).map_err(invalid)?;
    let c = cx.c;
    if c.status != Status::Closed {
        return refuse(
            RefusalCode::WrongStatus,
            "the complaint is still open: close it before its personal data is erased",
        );
    }
    let holds = erasure::holds(c, cx.now, cx.procedure);
    if !holds.is_empty() {
        let words: Vec<String> = holds.iter().map(erasure::Hold::in_words).collect();
        return refuse(
            RefusalCode::NotYet,
            format!(
                "the personal data cannot be erased yet: {}",
                words.join("; ")
            ),
        );
    }
    cx.one(EventKind::PersonalDataErased {
        reason,
        on_request: cx.by.role != Role::System,
        events: 0,
        redactions_sha256: String::new(),
    })
}
