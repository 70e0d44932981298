//! Retention and erasure: when a complaint's personal data must go, what holds it, and what
//! of each event is personal.
//!
//! A closed complaint is kept for the `retention_months` of the rules it was received under,
//! counted in London calendar months from the day it closed. Then its personal data is erased
//! unless something holds it ([`holds`]): a legal hold, the customer's window to go to the
//! ombudsman still open after an ADR letter, a referral not yet decided, or a remedy the
//! provider still owes. What reports need stays: dates, stages, statuses, category, channel,
//! amounts, outcomes, and how many needs and vulnerabilities were recorded (not what they were).
//!
//! [`erased`] takes an event to what is left of it once its personal data is gone; applied to
//! an event already erased it changes nothing. [`Complaint`]'s own erasure (applying a
//! `personal_data_erased` event) does the same to the fold, so replaying erased events gives
//! the same complaint as erasing the complaint itself.

use jiff::Timestamp;
use jiff::civil::Date;

use crate::clock;
use crate::complaint::Complaint;
use crate::deadline::referral_window_ends;
use crate::event::{Event, EventKind, Received};
use crate::model::{Customer, Status};
use crate::procedure::Procedure;

/// What stands in for an erased value.
pub const ERASED: &str = "[erased]";

/// Why a complaint's personal data may not be erased yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hold {
    /// A member of compliance placed a legal hold (litigation, a regulator's inquiry).
    Legal { reason: String, since: Timestamp },
    /// An ADR letter went and the customer may still refer the complaint to the ombudsman
    /// until this London date.
    ReferralWindow { ends: Date },
    /// The complaint is with the ombudsman, who has not decided it.
    ReferralUndecided { since: Timestamp },
    /// The customer accepted the ombudsman's decision and the remedy is not done.
    RemedyOutstanding,
}

impl Hold {
    /// The hold in a sentence, for people and the retention run's report.
    pub fn in_words(&self) -> String {
        match self {
            Hold::Legal { reason, .. } => format!("a legal hold is in place ({reason})"),
            Hold::ReferralWindow { ends } => {
                format!("the customer may refer the complaint to the ombudsman until {ends}")
            }
            Hold::ReferralUndecided { .. } => {
                "the complaint is with the ombudsman, who has not decided it".to_owned()
            }
            Hold::RemedyOutstanding => {
                "the remedy the ombudsman decided is not yet completed".to_owned()
            }
        }
    }

    /// A short snake_case name, for machine-readable output.
    pub fn code(&self) -> &'static str {
        match self {
            Hold::Legal { .. } => "legal_hold",
            Hold::ReferralWindow { .. } => "referral_window_open",
            Hold::ReferralUndecided { .. } => "referral_undecided",
            Hold::RemedyOutstanding => "remedy_outstanding",
        }
    }
}

/// Everything holding the complaint's personal data at `now`.
pub fn holds(c: &Complaint, now: Timestamp, procedure: &Procedure) -> Vec<Hold> {
    let mut holds = Vec::new();
    if let Some(h) = &c.legal_hold {
        holds.push(Hold::Legal {
            reason: h.reason.clone(),
            since: h.since,
        });
    }
    if c.referred_at.is_none()
        && let Some(letter) = c.adr_letter_sent_at()
    {
        let ends = referral_window_ends(c, letter, procedure);
        if clock::local_date(procedure.time_zone(), now) <= ends {
            holds.push(Hold::ReferralWindow { ends });
        }
    }
    if let Some(since) = c.referred_at
        && c.ombudsman.is_none()
    {
        holds.push(Hold::ReferralUndecided { since });
    }
    if let Some(d) = &c.ombudsman
        && d.remedy_owed()
        && d.remedy_completed_at.is_none()
    {
        holds.push(Hold::RemedyOutstanding);
    }
    holds
}

/// The instant the complaint's retention period ends: the start of the London day
/// `retention_months` after the day it closed. `None` while it is not closed.
pub fn retention_ends(c: &Complaint, procedure: &Procedure) -> Option<Timestamp> {
    let closed = c.closed_at.filter(|_| c.status == Status::Closed)?;
    let tz = procedure.time_zone();
    let day = clock::add_months(clock::local_date(tz, closed), c.rules.retention_months);
    Some(clock::start_of_day(tz, day))
}

/// What the retention run does with a complaint at `now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Retention {
    /// Not closed (reopened since), or already erased: nothing to do.
    NotApplicable,
    /// Kept until this instant.
    Kept { until: Timestamp },
    /// Past its retention period, but held.
    Held { holds: Vec<Hold> },
    /// Past its retention period and not held: erase it now.
    Erase,
}

/// Whether the complaint's retention period is over at `now`, and if so whether it is held.
pub fn retention(c: &Complaint, now: Timestamp, procedure: &Procedure) -> Retention {
    if c.erased_at.is_some() {
        return Retention::NotApplicable;
    }
    let Some(until) = retention_ends(c, procedure) else {
        return Retention::NotApplicable;
    };
    if now < until {
        return Retention::Kept { until };
    }
    let holds = holds(c, now, procedure);
    if holds.is_empty() {
        Retention::Erase
    } else {
        Retention::Held { holds }
    }
}

fn text() -> String {
    ERASED.to_owned()
}

fn maybe(v: &Option<String>) -> Option<String> {
    v.as_ref().map(|_| text())
}

/// A customer with nothing personal left: who they were, how to reach them, what they told us
/// of themselves. How many needs and vulnerabilities were recorded stays, for reports; the
/// preferred channel stays.
pub fn erased_customer(c: &Customer) -> Customer {
    Customer {
        account: text(),
        name: text(),
        email: None,
        telephone: None,
        address: Vec::new(),
        postcode: None,
        preferred_channel: c.preferred_channel,
        accessibility_needs: c.accessibility_needs.iter().map(|_| text()).collect(),
        vulnerabilities: c.vulnerabilities.iter().map(|_| text()).collect(),
    }
}

/// The event with its personal data gone: the customer's details, their words and ours
/// (summaries, notes, calls, offers, reasons, letters' text), the ombudsman's reference and
/// remedy. Kinds, times, stages, amounts, outcomes, offer numbers and the letters' hashes stay.
pub fn erased(event: &Event) -> Event {
    use EventKind as K;
    let kind = match &event.kind {
        K::Received(r) => K::Received(Box::new(Received {
            customer: erased_customer(&r.customer),
            summary: text(),
            ..(**r).clone()
        })),
        K::NoteAdded {
            restricted,
            about_staff,
            ..
        } => K::NoteAdded {
            text: text(),
            restricted: *restricted,
            about_staff: about_staff.clone(),
        },
        K::CallRecorded {
            direction,
            duration_minutes,
            ..
        } => K::CallRecorded {
            direction: *direction,
            summary: text(),
            duration_minutes: *duration_minutes,
        },
        K::ResolutionOffered {
            offered_at_stage, ..
        } => K::ResolutionOffered {
            text: text(),
            offered_at_stage: *offered_at_stage,
        },
        K::ResolutionRejected { reason } => K::ResolutionRejected {
            reason: maybe(reason),
        },
        K::Escalated { .. }
        | K::Acknowledged { .. }
        | K::HandlerAssigned { .. }
        | K::StaffConcernedNamed { .. }
        | K::ResolutionAccepted {}
        | K::EvidenceOverdue { .. }
        | K::CompensationApproved { .. }
        | K::CompensationAccepted { .. }
        | K::LetterSent { .. }
        | K::CaseFileGenerated { .. }
        | K::SubjectAccessExported { .. }
        | K::ResponseOverdue { .. }
        | K::AcknowledgementOverdue { .. }
        | K::AdrEligible { .. }
        | K::AdrNoticeSent { .. }
        | K::RemedyOverdue { .. }
        | K::AutomaticCompensationPaid { .. }
        | K::LegalHoldPlaced { .. }
        | K::LegalHoldReleased { .. }
        | K::PersonalDataErased { .. } => event.kind.clone(),
        K::Transferred {
            to_stage,
            to_department,
            response_due_by,
            reason,
        } => K::Transferred {
            to_stage: *to_stage,
            to_department: to_department.clone(),
            response_due_by: *response_due_by,
            reason: maybe(reason),
        },
        K::EvidenceRequested {
            request,
            from,
            description,
            due_by,
        } => K::EvidenceRequested {
            request: *request,
            from: *from,
            description: maybe(description),
            due_by: *due_by,
        },
        K::EvidenceReceived {
            request,
            description,
            channel,
        } => K::EvidenceReceived {
            request: *request,
            description: maybe(description),
            channel: *channel,
        },
        K::CourseOfEventsRecorded { .. } => K::CourseOfEventsRecorded { text: text() },
        K::FaultEstablished { description } => K::FaultEstablished {
            description: maybe(description),
        },
        K::NoFaultFound { reason } => K::NoFaultFound {
            reason: maybe(reason),
        },
        K::CompensationOffered {
            offer,
            amount_pence,
            reason,
            approved,
        } => K::CompensationOffered {
            offer: *offer,
            amount_pence: *amount_pence,
            reason: maybe(reason),
            approved: *approved,
        },
        K::CustomerUpdated { customer, changed } => K::CustomerUpdated {
            customer: erased_customer(customer),
            changed: changed.clone(),
        },
        K::CompensationWithdrawn {
            offer,
            amount_pence,
            made_to_customer,
            ..
        } => K::CompensationWithdrawn {
            offer: *offer,
            amount_pence: *amount_pence,
            reason: text(),
            made_to_customer: *made_to_customer,
        },
        K::FormalResponseIssued { text: t } => K::FormalResponseIssued { text: maybe(t) },
        K::ManagerReviewRequested {
            from_stage,
            to_stage,
            text: t,
        } => K::ManagerReviewRequested {
            from_stage: *from_stage,
            to_stage: *to_stage,
            text: maybe(t),
        },
        K::ReviewOutcomeRecorded { .. } => K::ReviewOutcomeRecorded { text: text() },
        K::DeadlockIssued { text: t } => K::DeadlockIssued { text: maybe(t) },
        K::ReferredToOmbudsman {
            from_stage,
            ombudsman_reference,
        } => K::ReferredToOmbudsman {
            from_stage: *from_stage,
            ombudsman_reference: maybe(ombudsman_reference),
        },
        K::OmbudsmanDecided {
            outcome,
            customer_accepted,
            remedy,
            award_pence,
            remedy_due_by,
        } => K::OmbudsmanDecided {
            outcome: *outcome,
            customer_accepted: *customer_accepted,
            remedy: maybe(remedy),
            award_pence: *award_pence,
            remedy_due_by: *remedy_due_by,
        },
        K::RemedyCompleted { text: t } => K::RemedyCompleted { text: maybe(t) },
        K::Closed { reason } => K::Closed {
            reason: maybe(reason),
        },
        K::Reopened { reason } => K::Reopened {
            reason: maybe(reason),
        },
    };
    Event {
        at: event.at,
        by: event.by.clone(),
        kind,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::{Action, Command, Receive};
    use crate::model::{Actor, Channel, Reference, Role};
    use crate::{execute, open};

    fn at(s: &str) -> Timestamp {
        s.parse().expect("an instant")
    }

    fn closed_complaint(procedure: &Procedure) -> (Complaint, Vec<Event>) {
        let receive = Receive {
            reference: Reference::new("CMP", 2025, 7),
            channel: Channel::Email,
            customer: Customer {
                account: "ACC-991".into(),
                name: "Morwenna Pellow".into(),
                email: Some("morwenna@example.net".into()),
                telephone: Some("01632 960 111".into()),
                address: vec!["4 Quay Street".into()],
                postcode: None,
                preferred_channel: Some(Channel::Email),
                accessibility_needs: vec!["Large print".into()],
                vulnerabilities: vec!["Recently bereaved".into()],
            },
            summary: "Broadband down for a week".into(),
            category: Some("faults_service_provision".into()),
            received_at: None,
            staff_concerned: Vec::new(),
            by: Actor::staff(Role::Handler, "customer_services", Some("h1")),
        };
        let (mut c, mut events) =
            open(receive, at("2025-01-06T10:00:00Z"), procedure).expect("opens");
        for (when, action) in [
            (
                "2025-01-06T11:00:00Z",
                Action::AddNote {
                    text: "Rang Morwenna back".into(),
                    restricted: false,
                    about_staff: None,
                },
            ),
            (
                "2025-01-07T11:00:00Z",
                Action::Close {
                    reason: Some("Sorted for Morwenna".into()),
                },
            ),
        ] {
            let out = execute(
                c,
                Command {
                    by: Actor::staff(Role::Handler, "customer_services", Some("h1")),
                    action,
                },
                at(when),
                procedure,
            );
            assert!(out.refusal.is_none(), "{:?}", out.refusal);
            c = out.complaint;
            events.extend(out.events);
        }
        (c, events)
    }

    #[test]
    fn retention_counts_calendar_months_in_london_from_the_day_it_closed() {
        let procedure = Procedure::default_procedure();
        let (c, _) = closed_complaint(&procedure);
        let months = c.rules.retention_months;
        let ends = retention_ends(&c, &procedure).expect("closed");
        let day = clock::add_months("2025-01-07".parse().expect("a date"), months);
        assert_eq!(ends, clock::start_of_day(procedure.time_zone(), day));
        let just_before = ends
            .checked_sub(jiff::SignedDuration::from_secs(1))
            .expect("earlier");
        assert_eq!(
            retention(&c, just_before, &procedure),
            Retention::Kept { until: ends }
        );
        assert_eq!(retention(&c, ends, &procedure), Retention::Erase);
    }

    #[test]
    fn a_legal_hold_and_an_open_referral_window_hold_the_data() {
        let procedure = Procedure::default_procedure();
        let (mut c, _) = closed_complaint(&procedure);
        let late = at("2030-01-01T00:00:00Z");
        c.legal_hold = Some(crate::complaint::LegalHold {
            reason: "Litigation".into(),
            since: at("2025-02-01T00:00:00Z"),
        });
        assert!(matches!(
            retention(&c, late, &procedure),
            Retention::Held { holds } if holds.len() == 1 && holds[0].code() == "legal_hold"
        ));
        c.legal_hold = None;
        c.deadlock_issued_at = Some(at("2029-06-01T09:00:00Z"));
        let held = holds(&c, late, &procedure);
        assert_eq!(held.len(), 1, "{held:?}");
        assert_eq!(held[0].code(), "referral_window_open");
        c.referred_at = Some(at("2029-07-01T09:00:00Z"));
        assert_eq!(holds(&c, late, &procedure)[0].code(), "referral_undecided");
    }

    #[test]
    fn erasing_an_event_leaves_no_personal_words_and_erasing_twice_changes_nothing() {
        let procedure = Procedure::default_procedure();
        let (_, events) = closed_complaint(&procedure);
        for e in &events {
            let once = erased(e);
            let json = serde_json::to_string(&once).expect("serialises");
            for word in [
                "Morwenna",
                "ACC-991",
                "example.net",
                "01632",
                "Quay",
                "bereaved",
                "Large print",
                "Broadband down",
            ] {
                assert!(!json.contains(word), "{word} left in {json}");
            }
            assert_eq!(erased(&once), once);
            assert_eq!(once.at, e.at);
            assert_eq!(once.kind.name(), e.kind.name());
        }
        // What reports need stays.
        let EventKind::Received(r) = &erased(&events[0]).kind else {
            panic!("the first event is received")
        };
        assert_eq!(r.category.as_deref(), Some("faults_service_provision"));
        assert_eq!(r.customer.vulnerabilities.len(), 1);
        assert_eq!(r.channel, Channel::Email);
    }

    #[test]
    fn replaying_erased_events_gives_the_erased_complaint() {
        let procedure = Procedure::default_procedure();
        let (c, events) = closed_complaint(&procedure);
        let erasure = Event {
            at: at("2027-01-01T00:00:00Z"),
            by: Actor::system(),
            kind: EventKind::PersonalDataErased {
                reason: "retention".into(),
                on_request: false,
                events: 3,
                redactions_sha256: String::new(),
            },
        };
        let from_state = crate::apply(c, &erasure);
        let mut erased_events: Vec<Event> = events.iter().map(erased).collect();
        erased_events.push(erasure);
        let replayed = Complaint::replay(&erased_events).expect("replays");
        assert_eq!(replayed, from_state);
        assert_eq!(from_state.customer.name, ERASED);
        assert!(from_state.erased_at.is_some());
    }
}
