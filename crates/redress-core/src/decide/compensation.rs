//! Compensation, once genuine fault is established: an offer, its approval by someone with a
//! high enough limit (never the person who offered it), and the customer's acceptance.

use crate::complaint::FaultFinding;
use crate::event::{Event, EventKind};
use crate::model::{Money, Role};

use super::context::Context;
use super::refusal::{Refusal, RefusalCode, invalid, optional_text, refuse};

pub(super) fn offer_compensation(
    cx: &Context<'_>,
    amount_pence: i64,
    reason: Option<String>,
) -> Result<Vec<Event>, Refusal> {
    let (c, by, rules) = (cx.c, &cx.by, cx.rules());
    if c.fault != Some(FaultFinding::Established) {
        return refuse(
            RefusalCode::NotYet,
            "compensation can only be offered once genuine fault has been established",
        );
    }
    if amount_pence <= 0 || amount_pence > rules.compensation_max_pence {
        return refuse(
            RefusalCode::InvalidInput,
            format!(
                "compensation must be between £0.01 and {}",
                Money(rules.compensation_max_pence)
            ),
        );
    }
    if c.compensation.len() >= 50 {
        return refuse(
            RefusalCode::InvalidInput,
            "a complaint can have at most 50 compensation offers",
        );
    }
    // The same amount offered again while the first still stands is most likely a slip (a
    // form sent twice, two people at once): said so, and the first offer stays.
    if let Some(same) = c
        .compensation
        .iter()
        .find(|o| o.is_open() && o.amount_pence == amount_pence)
    {
        return refuse(
            RefusalCode::AlreadyDone,
            format!(
                "compensation offer {} of {} is already open; withdraw it first if this one replaces it",
                same.id,
                Money(amount_pence)
            ),
        );
    }
    let reason = optional_text("the reason", reason)?;
    // The system approves nothing on its own: its offers always wait for a person.
    let limit = if by.role == Role::System {
        0
    } else {
        rules.approval_limits_pence.for_role(by.role)
    };
    let offer = u32::try_from(c.compensation.len()).unwrap_or(u32::MAX - 1) + 1;
    cx.one(EventKind::CompensationOffered {
        offer,
        amount_pence,
        reason,
        approved: amount_pence <= limit,
    })
}

pub(super) fn approve_compensation(
    cx: &Context<'_>,
    offer: Option<u32>,
) -> Result<Vec<Event>, Refusal> {
    let (c, by, rules) = (cx.c, &cx.by, cx.rules());
    let Some(o) = c.compensation_offer(offer) else {
        return refuse(
            RefusalCode::NotYet,
            "there is no compensation offer to approve",
        );
    };
    if o.withdrawn {
        return refuse(
            RefusalCode::AlreadyDone,
            "this compensation offer was withdrawn",
        );
    }
    if o.approved {
        return refuse(
            RefusalCode::AlreadyDone,
            "this compensation offer has already been approved",
        );
    }
    if !by.role.handles_complaints() {
        return refuse(
            RefusalCode::NotPermitted,
            "only a handler or manager with a high enough limit can approve compensation",
        );
    }
    let limit = rules.approval_limits_pence.for_role(by.role);
    if o.amount_pence > limit {
        return refuse(
            RefusalCode::NotPermitted,
            format!(
                "{} is above your approval limit of {}; someone with a higher limit must approve it",
                Money(o.amount_pence),
                Money(limit)
            ),
        );
    }
    if by.staff.is_some() && by.staff == o.offered_by {
        return refuse(
            RefusalCode::NotPermitted,
            "compensation must be approved by someone other than the person who offered it",
        );
    }
    cx.one(EventKind::CompensationApproved {
        offer: o.id,
        amount_pence: o.amount_pence,
    })
}

pub(super) fn accept_compensation(
    cx: &Context<'_>,
    offer: Option<u32>,
) -> Result<Vec<Event>, Refusal> {
    let Some(o) = cx.c.compensation_offer(offer) else {
        return refuse(
            RefusalCode::NotYet,
            "there is no compensation offer to accept",
        );
    };
    if o.accepted {
        return refuse(
            RefusalCode::AlreadyDone,
            "this compensation offer has already been accepted",
        );
    }
    if o.withdrawn {
        return refuse(
            RefusalCode::AlreadyDone,
            "this compensation offer was withdrawn",
        );
    }
    if !o.approved {
        return refuse(
            RefusalCode::NotYet,
            "this compensation offer has not been approved yet",
        );
    }
    cx.one(EventKind::CompensationAccepted {
        offer: o.id,
        amount_pence: o.amount_pence,
    })
}

pub(super) fn withdraw_offer(
    cx: &Context<'_>,
    offer: Option<u32>,
    reason: String,
) -> Result<Vec<Event>, Refusal> {
    let Some(o) = cx.c.compensation_offer(offer) else {
        return refuse(
            RefusalCode::NotYet,
            "there is no compensation offer to withdraw",
        );
    };
    if o.accepted {
        return refuse(
            RefusalCode::AlreadyDone,
            "the customer has accepted this compensation offer, so it cannot be withdrawn",
        );
    }
    if o.withdrawn {
        return refuse(
            RefusalCode::AlreadyDone,
            "this compensation offer was withdrawn already",
        );
    }
    let reason = crate::model::long_text("the reason", &reason).map_err(invalid)?;
    cx.one(EventKind::CompensationWithdrawn {
        offer: o.id,
        amount_pence: o.amount_pence,
        reason,
        made_to_customer: o.approved,
    })
}

/// A payment of Ofcom's automatic compensation: no fault finding, no approval (the scheme pays
/// it automatically); the amount within the complaint's compensation limit.
pub(super) fn record_automatic_compensation(
    cx: &Context<'_>,
    kind: crate::automatic::AutoKind,
    amount_pence: i64,
) -> Result<Vec<Event>, Refusal> {
    let max = cx.rules().compensation_max_pence;
    if amount_pence <= 0 || amount_pence > max {
        return refuse(
            RefusalCode::InvalidInput,
            format!(
                "the amount must be more than £0.00 and at most {}",
                crate::model::Money(max)
            ),
        );
    }
    cx.one(EventKind::AutomaticCompensationPaid { kind, amount_pence })
}
