//! What every area of the ladder needs to decide one command: the complaint, who asks, when,
//! and the procedure. Kept apart from `decide` itself so the areas depend on it and on
//! nothing above them.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::complaint::Complaint;
use crate::event::{Event, EventKind};
use crate::model::{Actor, Stage};
use crate::procedure::{Procedure, Rules};

use super::refusal::Refusal;

/// One command being decided. The command itself is passed to each area's function as its
/// fields, already taken apart.
pub(super) struct Context<'a> {
    pub c: &'a Complaint,
    pub by: Actor,
    pub now: Timestamp,
    pub procedure: &'a Procedure,
}

impl Context<'_> {
    /// An event caused by the person asking, now.
    pub fn event(&self, kind: EventKind) -> Event {
        Event {
            at: self.now,
            by: self.by.clone(),
            kind,
        }
    }

    /// The usual answer: exactly one event.
    pub fn one(&self, kind: EventKind) -> Result<Vec<Event>, Refusal> {
        Ok(vec![self.event(kind)])
    }

    /// The rules the complaint keeps from the day it was first received.
    pub fn rules(&self) -> &Rules {
        &self.c.rules
    }

    pub fn tz(&self) -> &TimeZone {
        self.procedure.time_zone()
    }

    /// The procedure's name for a stage, for refusals.
    pub fn stage_name(&self, stage: Stage) -> String {
        self.procedure.stage(stage).name.clone()
    }
}
