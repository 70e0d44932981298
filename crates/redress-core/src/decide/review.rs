//! Stage 4 and the end of the provider's ladder: the Customer Resolution Manager's review
//! and its outcome, and the deadlock letter that lets the customer go to the ombudsman at
//! once.

use crate::event::{AdrReason, Event, EventKind};
use crate::model::{self, Stage};

use super::context::Context;
use super::refusal::{Refusal, RefusalCode, invalid, optional_text, refuse};

pub(super) fn request_manager_review(
    cx: &Context<'_>,
    text: Option<String>,
) -> Result<Vec<Event>, Refusal> {
    let c = cx.c;
    match c.stage.number() {
        1 | 2 => {
            return refuse(
                RefusalCode::WrongStage,
                "the Customer Resolution Manager reviews a complaint after the Customer Resolution department's investigation (stage 3)",
            );
        }
        4 => {
            return refuse(
                RefusalCode::AlreadyDone,
                "the Customer Resolution Manager is already reviewing this complaint",
            );
        }
        _ => {}
    }
    if c.formal_response_at.is_none() {
        return refuse(
            RefusalCode::NotYet,
            "the customer can ask for the Customer Resolution Manager's review once the Customer Resolution department has issued its formal written response",
        );
    }
    let text = optional_text("the customer's letter", text)?;
    cx.one(EventKind::ManagerReviewRequested {
        from_stage: c.stage,
        to_stage: Stage::RESOLUTION_MANAGER,
        text,
    })
}

pub(super) fn record_review_outcome(cx: &Context<'_>, text: String) -> Result<Vec<Event>, Refusal> {
    if cx.c.stage != Stage::RESOLUTION_MANAGER {
        return refuse(
            RefusalCode::WrongStage,
            format!(
                "the outcome of a review is recorded at stage 4, once the customer has asked the {} to review the complaint",
                cx.stage_name(Stage::RESOLUTION_MANAGER)
            ),
        );
    }
    if cx.c.review_outcome_at.is_some() {
        return refuse(
            RefusalCode::AlreadyDone,
            "the outcome of the review has already been recorded",
        );
    }
    let text = model::long_text("the outcome of the review", &text).map_err(invalid)?;
    cx.one(EventKind::ReviewOutcomeRecorded { text })
}

pub(super) fn issue_deadlock_letter(
    cx: &Context<'_>,
    text: Option<String>,
) -> Result<Vec<Event>, Refusal> {
    let (c, rules) = (cx.c, cx.rules());
    if !rules.deadlock_stages.contains(c.stage) {
        return refuse(
            RefusalCode::WrongStage,
            format!(
                "a deadlock letter can only be issued from {}",
                rules.deadlock_stages.in_words()
            ),
        );
    }
    if c.deadlock_issued_at.is_some() {
        return refuse(
            RefusalCode::AlreadyDone,
            "a deadlock letter has already been issued",
        );
    }
    let text = optional_text("the letter", text)?;
    let mut events = vec![cx.event(EventKind::DeadlockIssued { text })];
    // A deadlock letter opens the way to the ombudsman at once, unless it is open already.
    if c.adr_eligible_at.is_none() {
        events.push(cx.event(EventKind::AdrEligible {
            because: AdrReason::DeadlockLetter,
            due_at: cx.now,
        }));
    }
    Ok(events)
}
