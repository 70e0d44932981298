//! Running commands through the whole core: [`execute`] fires what came due, decides, applies
//! and fires what the command made overdue, in the order every shell must follow; and
//! [`available`] lists the commands a person may take now, so pages offer only those.

use jiff::Timestamp;

use crate::actions::ACTIONS;
use crate::command::Command;
use crate::complaint::{Complaint, apply};
use crate::deadline::fire_due;
use crate::event::Event;
use crate::model::Actor;
use crate::procedure::Procedure;

use super::decide;
use super::refusal::Refusal;

/// The result of running one command through the whole core.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub complaint: Complaint,
    /// Deadlines that came due first, the command's events, then deadlines already past that
    /// the command started (e.g. the ADR notice on reopening), in order.
    pub events: Vec<Event>,
    pub refusal: Option<Refusal>,
}

/// Runs a command as every shell must: deadlines due at or before `now` fire first (even if the
/// command is then refused), then the command, then anything it made already overdue.
pub fn execute(c: Complaint, command: Command, now: Timestamp, procedure: &Procedure) -> Outcome {
    let (mut c, mut events) = fire_due(c, now, procedure);
    match decide(&c, command, now, procedure) {
        Ok(decided) => {
            for event in &decided {
                c = apply(c, event);
            }
            events.extend(decided);
            let (c, after) = fire_due(c, now, procedure);
            events.extend(after);
            Outcome {
                complaint: c,
                events,
                refusal: None,
            }
        }
        Err(refusal) => Outcome {
            complaint: c,
            events,
            refusal: Some(refusal),
        },
    }
}

/// The commands `by` may take on this complaint at `now` (names, in ladder order): those the
/// procedure would accept with ordinary values. Pages offer a form for these and no others.
/// (`assign` and `name_staff_concerned` depend on who is named, so they are not listed.)
pub fn available(
    c: &Complaint,
    by: &Actor,
    now: Timestamp,
    procedure: &Procedure,
) -> Vec<&'static str> {
    ACTIONS
        .iter()
        .filter_map(|info| info.sample.map(|sample| sample()))
        .filter(|action| {
            decide(
                c,
                Command {
                    by: by.clone(),
                    action: action.clone(),
                },
                now,
                procedure,
            )
            .is_ok()
        })
        .map(|action| action.name())
        .collect()
}
