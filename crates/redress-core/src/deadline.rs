//! The clocks: which deadlines a complaint has now, and what happens when one comes due.
//!
//! Deadlines are derived from the complaint's state, never stored in it: a deadline that has
//! fired leaves a mark in the state (e.g. `response_overdue_at`) and so is no longer listed,
//! which is what makes every deadline fire at most once. Shells store the list as rows for
//! their scheduler and recompute it after every event.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::clock;
use crate::complaint::{Complaint, apply};
use crate::event::{AdrReason, Event, EventKind};
use crate::model::{Actor, Status};
use crate::procedure::{Period, Procedure};

/// What a deadline is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineKind {
    /// The provider's own acknowledgement target (only where the procedure sets one).
    Acknowledgement,
    /// Evidence asked for by a given date.
    Evidence,
    /// The Customer Resolution department's formal written response.
    FormalResponse,
    /// The ADR point: 8 weeks (by default) from first receipt.
    Adr,
    /// The remedy after an accepted ombudsman decision.
    Remedy,
}

impl DeadlineKind {
    pub const ALL: [DeadlineKind; 5] = [
        DeadlineKind::Acknowledgement,
        DeadlineKind::Evidence,
        DeadlineKind::FormalResponse,
        DeadlineKind::Adr,
        DeadlineKind::Remedy,
    ];

    pub fn parse(name: &str) -> Option<DeadlineKind> {
        DeadlineKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DeadlineKind::Acknowledgement => "acknowledgement",
            DeadlineKind::Evidence => "evidence",
            DeadlineKind::FormalResponse => "formal_response",
            DeadlineKind::Adr => "adr",
            DeadlineKind::Remedy => "remedy",
        }
    }
}

/// A clock that is running on a complaint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    pub kind: DeadlineKind,
    /// The evidence request it belongs to, for evidence deadlines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<u32>,
    /// The instant it fires (00:00 London after the last day, or when 8 weeks have passed).
    pub due_at: Timestamp,
    /// The last London date to act on (for the ADR point, the date it is reached).
    pub due_by: Date,
}

/// Every deadline now running on a complaint, soonest first.
pub fn deadlines(c: &Complaint, procedure: &Procedure) -> Vec<Deadline> {
    let tz = procedure.time_zone();
    let rules = &c.rules;
    let mut out = Vec::new();
    let period = |kind, request, from: Timestamp, days: i64| {
        let counted = match kind {
            DeadlineKind::Acknowledgement => Period::Acknowledgement,
            DeadlineKind::Remedy => Period::Remedy,
            _ => Period::FormalResponse,
        };
        let due_by = rules.period_last_day(counted, procedure, from, days);
        Deadline {
            kind,
            request,
            due_at: clock::start_of_day(tz, clock::add_days(due_by, 1)),
            due_by,
        }
    };

    if let Some(days) = rules.acknowledgement_days
        && c.acknowledged_at.is_none()
        && c.acknowledgement_overdue_at.is_none()
        && c.status != Status::Closed
    {
        out.push(period(
            DeadlineKind::Acknowledgement,
            None,
            c.first_received_at,
            days,
        ));
    }
    if !c.is_settled() {
        for r in &c.evidence_requests {
            if r.received_at.is_none() && r.overdue_at.is_none() {
                out.push(Deadline {
                    kind: DeadlineKind::Evidence,
                    request: Some(r.id),
                    due_at: clock::start_of_day(tz, clock::add_days(r.due_by, 1)),
                    due_by: r.due_by,
                });
            }
        }
    }
    if let Some(transferred) = c.transferred_at {
        let waiting = c.formal_response_at.is_none() && c.response_overdue_at.is_none();
        // A deadlock letter is the provider's final position in writing, and a complaint with
        // the ombudsman is the ombudsman's to decide: either ends the wait for a response.
        let live =
            !c.is_settled() && c.status != Status::ReferredToAdr && c.deadlock_issued_at.is_none();
        if waiting && live {
            out.push(period(
                DeadlineKind::FormalResponse,
                None,
                transferred,
                rules.formal_response_days,
            ));
        }
    }
    if adr_clock_running(c) {
        let due_by = clock::period_last_day(tz, c.first_received_at, rules.adr_after_days());
        out.push(Deadline {
            kind: DeadlineKind::Adr,
            request: None,
            due_at: clock::start_of_day(tz, due_by),
            due_by,
        });
    }
    if let Some(decision) = &c.ombudsman
        && decision.remedy_owed()
        && decision.remedy_completed_at.is_none()
        && decision.remedy_overdue_at.is_none()
    {
        out.push(period(
            DeadlineKind::Remedy,
            None,
            decision.decided_at,
            rules.remedy_days,
        ));
    }
    out.sort_by_key(|d| (d.due_at, d.kind, d.request));
    out
}

/// The 8-week clock runs until the complaint is resolved or closed, or an ADR letter is sent.
fn adr_clock_running(c: &Complaint) -> bool {
    !c.is_settled() && c.adr_eligible_at.is_none() && c.adr_letter_sent_at().is_none()
}

/// The events a deadline produces when it fires at `now`.
pub fn fire(
    c: &Complaint,
    deadline: &Deadline,
    now: Timestamp,
    procedure: &Procedure,
) -> Vec<Event> {
    let by = Actor::system();
    let event = |kind| Event {
        at: now,
        by: by.clone(),
        kind,
    };
    let due_at = deadline.due_at;
    match deadline.kind {
        DeadlineKind::Acknowledgement => vec![event(EventKind::AcknowledgementOverdue { due_at })],
        DeadlineKind::Evidence => match deadline.request {
            Some(request) => vec![event(EventKind::EvidenceOverdue { request, due_at })],
            None => Vec::new(),
        },
        DeadlineKind::FormalResponse => vec![event(EventKind::ResponseOverdue { due_at })],
        DeadlineKind::Adr => {
            let window = referral_window_ends(c, now, procedure);
            vec![
                event(EventKind::AdrEligible {
                    because: AdrReason::PeriodPassed,
                    due_at,
                }),
                event(EventKind::AdrNoticeSent {
                    due_at,
                    referral_window_ends: window,
                }),
            ]
        }
        DeadlineKind::Remedy => vec![event(EventKind::RemedyOverdue { due_at })],
    }
}

/// The last London date of the referral window for an ADR letter sent at `letter_at`.
pub fn referral_window_ends(c: &Complaint, letter_at: Timestamp, procedure: &Procedure) -> Date {
    let sent = clock::local_date(procedure.time_zone(), letter_at);
    clock::add_months(sent, c.rules.adr_referral_window_months)
}

/// Fires, in order, every deadline due at or before `now`, applying each as it goes (a deadline
/// that fires may stop another). Returns the complaint and the events, each stamped `now`.
pub fn fire_due(
    mut c: Complaint,
    now: Timestamp,
    procedure: &Procedure,
) -> (Complaint, Vec<Event>) {
    let mut fired = Vec::new();
    // Each firing removes its deadline for good and firing never starts a clock, so this ends
    // after at most one pass per running deadline; the bound only guards that invariant.
    let bound = deadlines(&c, procedure).len() + 1;
    for _ in 0..bound {
        let Some(next) = deadlines(&c, procedure)
            .into_iter()
            .find(|d| d.due_at <= now)
        else {
            break;
        };
        let events = fire(&c, &next, now, procedure);
        if events.is_empty() {
            break;
        }
        for event in &events {
            c = apply(c, event);
        }
        fired.extend(events);
    }
    (c, fired)
}

/// The soonest instant any deadline of this complaint fires, if one is running.
pub fn next_due(c: &Complaint, procedure: &Procedure) -> Option<Timestamp> {
    deadlines(c, procedure).first().map(|d| d.due_at)
}
