//! Stages 1 and 2: a resolution offered, the customer's answer, and escalation to the
//! Escalation Team when the customer is not satisfied.

use crate::complaint::{Complaint, OfferAnswer};
use crate::event::{Event, EventKind};
use crate::model::{self, Channel, Stage};

use super::context::Context;
use super::refusal::{Refusal, RefusalCode, invalid, optional_text, refuse};

pub(super) fn offer_resolution(cx: &Context<'_>, text: String) -> Result<Vec<Event>, Refusal> {
    let text = model::long_text("the resolution offered", &text).map_err(invalid)?;
    cx.one(EventKind::ResolutionOffered {
        text,
        offered_at_stage: cx.c.stage,
    })
}

pub(super) fn accept_resolution(cx: &Context<'_>) -> Result<Vec<Event>, Refusal> {
    pending_offer(cx.c)?;
    cx.one(EventKind::ResolutionAccepted {})
}

pub(super) fn reject_resolution(
    cx: &Context<'_>,
    reason: Option<String>,
) -> Result<Vec<Event>, Refusal> {
    pending_offer(cx.c)?;
    let reason = optional_text("the reason", reason)?;
    cx.one(EventKind::ResolutionRejected { reason })
}

pub(super) fn request_escalation(
    cx: &Context<'_>,
    channel: Option<Channel>,
    reason: Option<String>,
) -> Result<Vec<Event>, Refusal> {
    let c = cx.c;
    match c.stage.number() {
        1 => {}
        2 => {
            return refuse(
                RefusalCode::WrongStage,
                "the complaint is already with the Escalation Team, who will transfer it to the Customer Resolution department if they cannot resolve it",
            );
        }
        _ => {
            return refuse(
                RefusalCode::WrongStage,
                format!(
                    "the complaint has already been escalated beyond the Escalation Team and is with {}",
                    cx.stage_name(c.stage)
                ),
            );
        }
    }
    if !c.offers.iter().any(|o| o.stage == Stage::CUSTOMER_SERVICES) {
        return refuse(
            RefusalCode::NotYet,
            "Customer Services must offer a resolution before the complaint can be escalated",
        );
    }
    let reason = optional_text("the reason", reason)?;
    let mut events = Vec::with_capacity(2);
    if c.current_offer()
        .is_some_and(|o| o.answer == OfferAnswer::Pending)
    {
        // Asking to escalate is the customer's answer to the offer.
        events.push(cx.event(EventKind::ResolutionRejected { reason }));
    }
    events.push(cx.event(EventKind::Escalated {
        from_stage: c.stage,
        to_stage: Stage::ESCALATION_TEAM,
        channel,
    }));
    Ok(events)
}

/// Accepting or rejecting needs an offer still waiting for the customer's answer.
fn pending_offer(c: &Complaint) -> Result<(), Refusal> {
    match c.current_offer() {
        Some(o) if o.answer == OfferAnswer::Pending => Ok(()),
        _ => refuse(
            RefusalCode::NotYet,
            "there is no resolution offer waiting for the customer's answer",
        ),
    }
}
