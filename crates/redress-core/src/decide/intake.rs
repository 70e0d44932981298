//! A complaint arriving: recording it ([`receive`], [`open`]) and acknowledging it (at once,
//! by the system, for the channels the procedure's `[acknowledgement]` names).
//!
//! A new complaint has no complaint to act on yet, so it is decided apart from every other
//! command: who may record one, when it may have been received, and what it must say.

use jiff::Timestamp;

use crate::clock;
use crate::command::Receive;
use crate::complaint::Complaint;
use crate::deadline::fire_due;
use crate::event::{Event, EventKind};
use crate::model::{self, Actor, Channel, Role};
use crate::procedure::Procedure;

use super::context::Context;
use super::refusal::{Refusal, RefusalCode, invalid, refuse};

/// Decides a new complaint. The events are stamped `now`; `received_at` may lie in the past.
pub fn receive(
    command: Receive,
    now: Timestamp,
    procedure: &Procedure,
) -> Result<Vec<Event>, Refusal> {
    match command.by.role {
        Role::Compliance | Role::Administrator => {
            return refuse(
                RefusalCode::NotPermitted,
                "compliance staff and administrators cannot record complaints; a handler or the customer must",
            );
        }
        role if role.handles_complaints() && command.by.department.is_none() => {
            return refuse(
                RefusalCode::NotPermitted,
                "a member of staff must belong to a department to record a complaint",
            );
        }
        _ => {}
    }
    let received_at = command.received_at.unwrap_or(now);
    if received_at > now {
        return refuse(
            RefusalCode::InvalidInput,
            "a complaint cannot have been received in the future; check the date it was received",
        );
    }
    // Nothing in Redress predates the procedure's first rules: an earlier date is a typing
    // mistake (1900, year 1), and would silently get rules that never applied to it.
    if let Some(first) = procedure.rules.first()
        && clock::local_date(procedure.time_zone(), received_at) < first.effective_from
    {
        return refuse(
            RefusalCode::InvalidInput,
            format!(
                "a complaint cannot have been received before {}, when this procedure's first rules took effect; check the date it was received",
                first.effective_from
            ),
        );
    }
    let customer = command.customer.validated().map_err(invalid)?;
    let summary = model::long_text("the summary", &command.summary).map_err(invalid)?;
    let category = match command.category {
        Some(code) if procedure.category(&code).is_none() => {
            let known: Vec<&str> = procedure
                .categories
                .iter()
                .map(|c| c.code.as_str())
                .collect();
            return refuse(
                RefusalCode::InvalidInput,
                format!(
                    "'{code}' is not a complaint category; the categories are {}",
                    known.join(", ")
                ),
            );
        }
        other => other,
    };
    if command.staff_concerned.len() > 20 {
        return refuse(
            RefusalCode::InvalidInput,
            "at most 20 staff members can be named as concerned",
        );
    }
    let mut staff_concerned = Vec::with_capacity(command.staff_concerned.len());
    for s in &command.staff_concerned {
        let s = model::short_text("a staff member concerned", s).map_err(invalid)?;
        if !staff_concerned.contains(&s) {
            staff_concerned.push(s);
        }
    }
    let rules = procedure.rules_for(clock::local_date(procedure.time_zone(), received_at));
    Ok(vec![Event {
        at: now,
        by: command.by,
        kind: EventKind::Received(Box::new(crate::event::Received {
            reference: command.reference,
            channel: command.channel,
            customer,
            summary,
            category,
            received_at,
            staff_concerned,
            procedure_version: procedure.version.clone(),
            rules,
        })),
    }])
}

/// Opens a complaint: its `received` event, then every deadline already passed (a complaint
/// recorded late gets them at once).
pub fn open(
    command: Receive,
    now: Timestamp,
    procedure: &Procedure,
) -> Result<(Complaint, Vec<Event>), Refusal> {
    let mut events = receive(command, now, procedure)?;
    let Some(c) = events.first().and_then(Complaint::start) else {
        return refuse(
            RefusalCode::InvalidInput,
            "the complaint could not be opened",
        );
    };
    let (mut c, fired) = fire_due(c, now, procedure);
    events.extend(fired);
    // Web and email complaints are acknowledged as they arrive where the procedure says so,
    // by the channel the customer chose (the acknowledgement letter's own route).
    if procedure.acknowledgement.is_automatic(c.channel) && c.acknowledged_at.is_none() {
        let acknowledged = Event {
            at: now,
            by: Actor::system(),
            kind: EventKind::Acknowledged { channel: None },
        };
        c = crate::complaint::apply(c, &acknowledged);
        events.push(acknowledged);
    }
    Ok((c, events))
}

pub(super) fn acknowledge(
    cx: &Context<'_>,
    channel: Option<Channel>,
) -> Result<Vec<Event>, Refusal> {
    if cx.c.acknowledged_at.is_some() {
        return refuse(
            RefusalCode::AlreadyDone,
            "this complaint has already been acknowledged",
        );
    }
    cx.one(EventKind::Acknowledged { channel })
}
