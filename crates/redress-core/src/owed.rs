//! What the provider owes on a complaint: the one answer every queue, filter, dashboard, page
//! and projection column uses.
//!
//! A running clock ([`crate::deadlines`]) says when something falls due; once it has fired it
//! is no longer running, but what it asked for may still not be done. [`owed`] lists both: each
//! thing still owed, who owes it, since when, by when, and how it stands. The ADR point is a
//! regulatory point rather than a task: once it has passed with the complaint still unresolved
//! (no resolution accepted, no final position in a deadlock letter, not with the ombudsman),
//! the customer may go to the ombudsman and the complaint is a breach to act on first.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::clock;
use crate::complaint::Complaint;
use crate::deadline::DeadlineKind;
use crate::model::Status;
use crate::procedure::{Period, Procedure, Rules};

/// How something owed stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// Its time has not come (for the ADR point: not reached yet).
    Due,
    /// Past its last day and still not done.
    Overdue,
    /// The ADR point passed with the complaint unresolved.
    PastAdrPoint,
}

/// One thing the provider owes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owed {
    pub kind: DeadlineKind,
    /// The evidence request, for evidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<u32>,
    /// The key of the department that owes it (the owner of the complaint's stage).
    pub department: String,
    /// When it began to be owed.
    pub since: Timestamp,
    /// The last London date to do it by (for the ADR point, the date it is reached).
    pub due_by: Date,
    /// The instant it falls overdue (for the ADR point, the instant it is reached).
    pub due_at: Timestamp,
    pub standing: Standing,
}

impl Owed {
    /// Whether it needs acting on now: overdue, or the ADR point passed unresolved.
    pub fn pressing(&self) -> bool {
        self.standing != Standing::Due
    }
}

/// Everything the provider owes on a complaint at `now`, most urgent first: overdue items and
/// a passed ADR point (by when they fell due), then the rest by due date.
pub fn owed(c: &Complaint, procedure: &Procedure, now: Timestamp) -> Vec<Owed> {
    let tz = procedure.time_zone();
    let r = &c.rules;
    let department = procedure.department_of(c.stage).to_owned();
    let mut out = Vec::new();
    let mut push = |kind, request, since: Timestamp, due_by: Date, fired: bool| {
        let due_at = clock::start_of_day(tz, clock::add_days(due_by, 1));
        out.push(Owed {
            kind,
            request,
            department: department.clone(),
            since,
            due_by,
            due_at,
            standing: if fired || now >= due_at {
                Standing::Overdue
            } else {
                Standing::Due
            },
        });
    };
    // Once the customer accepted a resolution or the complaint closed, nothing but an
    // ombudsman's remedy is owed any more.
    if let Some(days) = r.acknowledgement_days
        && c.acknowledged_at.is_none()
        && !c.is_settled()
    {
        let due_by = r.period_last_day(
            Period::Acknowledgement,
            procedure,
            c.first_received_at,
            days,
        );
        push(
            DeadlineKind::Acknowledgement,
            None,
            c.first_received_at,
            due_by,
            c.acknowledgement_overdue_at.is_some(),
        );
    }
    if !c.is_settled() {
        for e in c
            .evidence_requests
            .iter()
            .filter(|e| e.received_at.is_none())
        {
            push(
                DeadlineKind::Evidence,
                Some(e.id),
                e.requested_at,
                e.due_by,
                e.overdue_at.is_some(),
            );
        }
        let response_stopped = c.status == Status::ReferredToAdr || c.deadlock_issued_at.is_some();
        if let Some(transferred) = c.transferred_at
            && c.formal_response_at.is_none()
            && (!response_stopped || c.response_overdue_at.is_some())
        {
            let due_by = r.period_last_day(
                Period::FormalResponse,
                procedure,
                transferred,
                r.formal_response_days,
            );
            push(
                DeadlineKind::FormalResponse,
                None,
                transferred,
                due_by,
                c.response_overdue_at.is_some(),
            );
        }
    }
    if let Some(d) = c.ombudsman.as_ref().filter(|_| c.remedy_outstanding()) {
        let due_by = r.period_last_day(Period::Remedy, procedure, d.decided_at, r.remedy_days);
        push(
            DeadlineKind::Remedy,
            None,
            d.decided_at,
            due_by,
            d.remedy_overdue_at.is_some(),
        );
    }
    if let Some(point) = adr_point(c, procedure) {
        let due_by = clock::local_date(tz, point);
        let unresolved = !c.is_settled()
            && c.deadlock_issued_at.is_none()
            && c.status != Status::ReferredToAdr
            && c.referred_at.is_none();
        let reached = now >= point || c.adr_eligible_at.is_some();
        if unresolved {
            out.push(Owed {
                kind: DeadlineKind::Adr,
                request: None,
                department: department.clone(),
                since: c.first_received_at,
                due_by,
                due_at: point,
                standing: if reached {
                    Standing::PastAdrPoint
                } else {
                    Standing::Due
                },
            });
        }
    }
    out.sort_by_key(|o| (!o.pressing(), o.due_at, o.kind, o.request));
    out
}

/// The instant the ADR period passes for this complaint (00:00 London on the day it is
/// reached), unless a deadlock letter made it eligible first.
fn adr_point(c: &Complaint, procedure: &Procedure) -> Option<Timestamp> {
    if c.deadlock_issued_at.is_some()
        && c.adr_notice_sent_at.is_none()
        && c.adr_eligible_at.is_some()
    {
        return None;
    }
    let tz = procedure.time_zone();
    Some(clock::start_of_day(tz, adr_reached_on(c, procedure)))
}

/// The London date on which the complaint's ADR period (8 weeks in the default procedure)
/// passes, counted from when it was first received: from that day the customer may go to the
/// ombudsman unless the complaint is resolved. Pages that explain the procedure before
/// anything is owed (a new complaint's "what happens next") say this date.
pub fn adr_reached_on(c: &Complaint, procedure: &Procedure) -> Date {
    clock::period_last_day(
        procedure.time_zone(),
        c.first_received_at,
        c.rules.adr_after_days(),
    )
}

/// Whether anything owed is overdue (the `overdue` of every list, filter and page).
pub fn is_overdue(owed: &[Owed]) -> bool {
    owed.iter().any(|o| o.standing == Standing::Overdue)
}

/// Where a queue puts the complaint: by when its most urgent pressing item fell due, else by
/// its next due item; `None` when nothing is owed.
pub fn queue_at(owed: &[Owed]) -> Option<Timestamp> {
    owed.iter()
        .filter(|o| o.pressing())
        .map(|o| o.due_at)
        .min()
        .or_else(|| owed.iter().map(|o| o.due_at).min())
}

impl Rules {
    /// The ADR period in words, from these rules: "8 weeks", "6 weeks".
    pub fn adr_period_in_words(&self) -> String {
        plural(self.adr_after_weeks, "week")
    }

    /// The formal response period in words: "28 days", "20 working days".
    pub fn formal_response_in_words(&self) -> String {
        plural(self.formal_response_days, self.unit(Period::FormalResponse))
    }

    /// The remedy period in words: "28 days", "20 working days".
    pub fn remedy_in_words(&self) -> String {
        plural(self.remedy_days, self.unit(Period::Remedy))
    }
}

fn plural(n: i64, unit: &str) -> String {
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}
