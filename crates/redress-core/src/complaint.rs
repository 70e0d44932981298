//! The complaint's state, rebuilt by applying its events in order.
//!
//! [`apply`] never refuses: events are facts already decided. It is the only code that changes
//! a [`Complaint`].

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::event::{Event, EventKind, EvidenceSource, OmbudsmanOutcome};
use crate::model::{Channel, Customer, Reference, Stage, Status};
use crate::procedure::Rules;

/// What became of a resolution offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OfferAnswer {
    Pending,
    Accepted,
    Rejected,
    /// The complaint was reopened after the offer was accepted.
    Withdrawn,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolutionOffer {
    pub text: String,
    pub stage: Stage,
    pub at: Timestamp,
    pub answer: OfferAnswer,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceRequest {
    pub id: u32,
    pub from: EvidenceSource,
    pub requested_at: Timestamp,
    /// The last London date for the evidence.
    pub due_by: Date,
    pub received_at: Option<Timestamp>,
    pub overdue_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultFinding {
    Established,
    NoFault,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompensationOffer {
    pub id: u32,
    pub amount_pence: i64,
    pub offered_by: Option<String>,
    pub approved: bool,
    pub accepted: bool,
    /// Taken back before the customer accepted it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub withdrawn: bool,
}

impl CompensationOffer {
    /// Still open: neither accepted nor withdrawn.
    pub fn is_open(&self) -> bool {
        !self.accepted && !self.withdrawn
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OmbudsmanDecision {
    pub outcome: OmbudsmanOutcome,
    pub customer_accepted: bool,
    pub decided_at: Timestamp,
    pub remedy_completed_at: Option<Timestamp>,
    pub remedy_overdue_at: Option<Timestamp>,
}

impl OmbudsmanDecision {
    /// A remedy is owed: the customer accepted a decision that asks something of the provider.
    pub fn remedy_owed(&self) -> bool {
        self.customer_accepted && self.outcome.requires_remedy()
    }
}

/// A payment of Ofcom's automatic compensation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutomaticPayment {
    pub kind: crate::automatic::AutoKind,
    pub amount_pence: i64,
    pub at: Timestamp,
}

/// A legal hold on the complaint's personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegalHold {
    pub reason: String,
    pub since: Timestamp,
}

/// A complaint as it stands after its events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Complaint {
    pub reference: Reference,
    pub customer: Customer,
    pub channel: Channel,
    pub category: Option<String>,
    pub summary: String,
    pub first_received_at: Timestamp,
    pub recorded_at: Timestamp,
    pub procedure_version: String,
    /// The clocks and limits in force when the complaint was first received.
    pub rules: Rules,
    pub stage: Stage,
    pub status: Status,
    pub handler: Option<String>,
    pub staff_concerned: Vec<String>,
    pub acknowledged_at: Option<Timestamp>,
    pub acknowledgement_overdue_at: Option<Timestamp>,
    /// Every resolution offer, oldest first.
    pub offers: Vec<ResolutionOffer>,
    pub escalated_at: Option<Timestamp>,
    pub transferred_at: Option<Timestamp>,
    pub formal_response_at: Option<Timestamp>,
    pub response_overdue_at: Option<Timestamp>,
    pub manager_review_requested_at: Option<Timestamp>,
    /// When the Customer Resolution Manager recorded the review's outcome (absent from states
    /// stored before the event existed).
    #[serde(default)]
    pub review_outcome_at: Option<Timestamp>,
    pub evidence_requests: Vec<EvidenceRequest>,
    pub fault: Option<FaultFinding>,
    pub compensation: Vec<CompensationOffer>,
    pub deadlock_issued_at: Option<Timestamp>,
    pub adr_eligible_at: Option<Timestamp>,
    pub adr_notice_sent_at: Option<Timestamp>,
    pub referred_at: Option<Timestamp>,
    pub ombudsman: Option<OmbudsmanDecision>,
    pub closed_at: Option<Timestamp>,
    pub reopened_count: u32,
    pub notes: u32,
    /// Ofcom's automatic compensation paid, oldest first (absent from states stored before it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub automatic_compensation: Vec<AutomaticPayment>,
    /// Held past its retention period by compliance (absent from states stored before holds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_hold: Option<LegalHold>,
    /// When its personal data was erased; what is left serves reports only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erased_at: Option<Timestamp>,
    /// How many events have been applied (the next event's sequence number is this + 1).
    pub version: u64,
    pub last_event_at: Timestamp,
}

impl Complaint {
    /// Starts a complaint from its `received` event; `None` for any other event.
    pub fn start(event: &Event) -> Option<Complaint> {
        let EventKind::Received(received) = &event.kind else {
            return None;
        };
        let crate::event::Received {
            reference,
            channel,
            customer,
            summary,
            category,
            received_at,
            staff_concerned,
            procedure_version,
            rules,
        } = received.as_ref();
        Some(Complaint {
            reference: reference.clone(),
            customer: customer.clone(),
            channel: *channel,
            category: category.clone(),
            summary: summary.clone(),
            first_received_at: *received_at,
            recorded_at: event.at,
            procedure_version: procedure_version.clone(),
            rules: *rules,
            stage: Stage::CUSTOMER_SERVICES,
            status: Status::Open,
            handler: None,
            staff_concerned: staff_concerned.clone(),
            acknowledged_at: None,
            acknowledgement_overdue_at: None,
            offers: Vec::new(),
            escalated_at: None,
            transferred_at: None,
            formal_response_at: None,
            response_overdue_at: None,
            manager_review_requested_at: None,
            review_outcome_at: None,
            evidence_requests: Vec::new(),
            fault: None,
            compensation: Vec::new(),
            deadlock_issued_at: None,
            adr_eligible_at: None,
            adr_notice_sent_at: None,
            referred_at: None,
            ombudsman: None,
            closed_at: None,
            reopened_count: 0,
            notes: 0,
            automatic_compensation: Vec::new(),
            legal_hold: None,
            erased_at: None,
            version: 1,
            last_event_at: event.at,
        })
    }

    /// Rebuilds a complaint from its whole history; `None` if it does not begin with `received`.
    pub fn replay<'a>(events: impl IntoIterator<Item = &'a Event>) -> Option<Complaint> {
        let mut events = events.into_iter();
        let first = Complaint::start(events.next()?)?;
        Some(events.fold(first, apply))
    }

    /// The latest resolution offer.
    pub fn current_offer(&self) -> Option<&ResolutionOffer> {
        self.offers.last()
    }

    /// Whether an ADR letter (an 8-week notice or a deadlock letter) has been sent.
    pub fn adr_letter_sent_at(&self) -> Option<Timestamp> {
        match (self.adr_notice_sent_at, self.deadlock_issued_at) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }

    /// Resolved or closed: the procedure's clocks stop.
    pub fn is_settled(&self) -> bool {
        matches!(self.status, Status::Resolved | Status::Closed)
    }

    /// The largest open compensation offer still waiting for someone to approve it, in pence;
    /// `None` when nothing waits (or the complaint is closed). Approvers' queues list these.
    pub fn awaiting_approval(&self) -> Option<i64> {
        if self.status == Status::Closed {
            return None;
        }
        self.compensation
            .iter()
            .filter(|o| o.is_open() && !o.approved)
            .map(|o| o.amount_pence)
            .max()
    }

    /// The compensation offer a command names, or the latest one.
    pub fn compensation_offer(&self, id: Option<u32>) -> Option<&CompensationOffer> {
        match id {
            Some(id) => self.compensation.iter().find(|o| o.id == id),
            None => self.compensation.last(),
        }
    }

    /// A remedy is owed and not yet completed.
    pub fn remedy_outstanding(&self) -> bool {
        self.ombudsman
            .as_ref()
            .is_some_and(|d| d.remedy_owed() && d.remedy_completed_at.is_none())
    }
}

/// Applies one event to a complaint. A `received` event is ignored here (use
/// [`Complaint::start`]).
pub fn apply(mut c: Complaint, event: &Event) -> Complaint {
    let at = event.at;
    let previous = c.last_event_at;
    c.version += 1;
    c.last_event_at = at;
    match &event.kind {
        EventKind::Received(_) => {
            c.version -= 1;
        }
        EventKind::Acknowledged { .. } => c.acknowledged_at = Some(at),
        EventKind::NoteAdded { .. }
        | EventKind::CallRecorded { .. }
        | EventKind::CourseOfEventsRecorded { .. } => {
            c.notes += 1;
        }
        EventKind::HandlerAssigned { handler } => c.handler = Some(handler.clone()),
        EventKind::StaffConcernedNamed { staff, unassigned } => {
            if !c.staff_concerned.contains(staff) {
                c.staff_concerned.push(staff.clone());
            }
            if *unassigned {
                c.handler = None;
            }
        }
        EventKind::ResolutionOffered {
            text,
            offered_at_stage,
        } => {
            withdraw_pending_offer(&mut c);
            c.offers.push(ResolutionOffer {
                text: text.clone(),
                stage: *offered_at_stage,
                at,
                answer: OfferAnswer::Pending,
            });
            c.status = Status::ResolutionOffered;
        }
        EventKind::ResolutionAccepted {} => {
            if let Some(offer) = c.offers.last_mut() {
                offer.answer = OfferAnswer::Accepted;
            }
            c.status = Status::Resolved;
        }
        EventKind::ResolutionRejected { .. } => {
            if let Some(offer) = c.offers.last_mut() {
                offer.answer = OfferAnswer::Rejected;
            }
            c.status = Status::Open;
        }
        EventKind::Escalated { to_stage, .. } => {
            c.stage = c.stage.max(*to_stage);
            c.escalated_at = Some(at);
            c.handler = None;
            c.status = Status::Open;
        }
        EventKind::Transferred { to_stage, .. } => {
            withdraw_pending_offer(&mut c);
            c.stage = c.stage.max(*to_stage);
            c.transferred_at = Some(at);
            c.handler = None;
            c.status = Status::Open;
        }
        EventKind::EvidenceRequested {
            request,
            from,
            due_by,
            ..
        } => {
            c.evidence_requests.push(EvidenceRequest {
                id: *request,
                from: *from,
                requested_at: at,
                due_by: *due_by,
                received_at: None,
                overdue_at: None,
            });
        }
        EventKind::EvidenceReceived { request, .. } => {
            if let Some(id) = request
                && let Some(r) = c.evidence_requests.iter_mut().find(|r| r.id == *id)
            {
                r.received_at = Some(at);
            }
        }
        EventKind::EvidenceOverdue { request, .. } => {
            if let Some(r) = c.evidence_requests.iter_mut().find(|r| r.id == *request) {
                r.overdue_at = Some(at);
            }
        }
        EventKind::FaultEstablished { .. } => c.fault = Some(FaultFinding::Established),
        EventKind::NoFaultFound { .. } => c.fault = Some(FaultFinding::NoFault),
        EventKind::CompensationOffered {
            offer,
            amount_pence,
            approved,
            ..
        } => {
            c.compensation.push(CompensationOffer {
                id: *offer,
                amount_pence: *amount_pence,
                offered_by: event.by.staff.clone(),
                approved: *approved,
                accepted: false,
                withdrawn: false,
            });
        }
        EventKind::CompensationApproved { offer, .. } => {
            if let Some(o) = c.compensation.iter_mut().find(|o| o.id == *offer) {
                o.approved = true;
            }
        }
        EventKind::CompensationAccepted { offer, .. } => {
            if let Some(o) = c.compensation.iter_mut().find(|o| o.id == *offer) {
                o.accepted = true;
            }
        }
        EventKind::CustomerUpdated { customer, .. } => c.customer = customer.clone(),
        // A record that a letter went, not a step of the complaint: its clocks and what is
        // owed are as they were.
        EventKind::LetterSent { .. }
        | EventKind::CaseFileGenerated { .. }
        | EventKind::SubjectAccessExported { .. } => c.last_event_at = previous,
        EventKind::AutomaticCompensationPaid { kind, amount_pence } => {
            c.automatic_compensation.push(AutomaticPayment {
                kind: *kind,
                amount_pence: *amount_pence,
                at,
            });
            c.last_event_at = previous;
        }
        EventKind::LegalHoldReleased { .. } => {
            c.legal_hold = None;
            c.last_event_at = previous;
        }
        EventKind::LegalHoldPlaced { reason } => {
            c.legal_hold = Some(LegalHold {
                reason: reason.clone(),
                since: at,
            });
            c.last_event_at = previous;
        }
        EventKind::PersonalDataErased { .. } => {
            c.customer = crate::erasure::erased_customer(&c.customer);
            c.summary = crate::erasure::ERASED.to_owned();
            for offer in &mut c.offers {
                offer.text = crate::erasure::ERASED.to_owned();
            }
            c.erased_at = Some(at);
            c.last_event_at = previous;
        }
        EventKind::CompensationWithdrawn { offer, .. } => {
            if let Some(o) = c.compensation.iter_mut().find(|o| o.id == *offer) {
                o.withdrawn = true;
            }
        }
        EventKind::FormalResponseIssued { .. } => c.formal_response_at = Some(at),
        EventKind::ResponseOverdue { .. } => c.response_overdue_at = Some(at),
        EventKind::AcknowledgementOverdue { .. } => c.acknowledgement_overdue_at = Some(at),
        EventKind::ManagerReviewRequested { to_stage, .. } => {
            withdraw_pending_offer(&mut c);
            c.stage = c.stage.max(*to_stage);
            c.manager_review_requested_at = Some(at);
            c.handler = None;
            c.status = Status::Open;
        }
        EventKind::ReviewOutcomeRecorded { .. } => c.review_outcome_at = Some(at),
        EventKind::DeadlockIssued { .. } => {
            c.deadlock_issued_at = Some(at);
            c.status = Status::Deadlocked;
        }
        EventKind::AdrEligible { .. } => c.adr_eligible_at = Some(at),
        EventKind::AdrNoticeSent { .. } => c.adr_notice_sent_at = Some(at),
        EventKind::ReferredToOmbudsman { .. } => {
            withdraw_pending_offer(&mut c);
            c.closed_at = None;
            c.stage = Stage::OMBUDSMAN;
            c.referred_at = Some(at);
            c.status = Status::ReferredToAdr;
            c.handler = None;
        }
        EventKind::OmbudsmanDecided {
            outcome,
            customer_accepted,
            ..
        } => {
            c.ombudsman = Some(OmbudsmanDecision {
                outcome: *outcome,
                customer_accepted: *customer_accepted,
                decided_at: at,
                remedy_completed_at: None,
                remedy_overdue_at: None,
            });
        }
        EventKind::RemedyCompleted { .. } => {
            if let Some(d) = c.ombudsman.as_mut() {
                d.remedy_completed_at = Some(at);
            }
        }
        EventKind::RemedyOverdue { .. } => {
            if let Some(d) = c.ombudsman.as_mut() {
                d.remedy_overdue_at = Some(at);
            }
        }
        EventKind::Closed { .. } => {
            c.closed_at = Some(at);
            c.status = Status::Closed;
        }
        EventKind::Reopened { .. } => {
            if let Some(offer) = c.offers.last_mut()
                && offer.answer == OfferAnswer::Accepted
            {
                offer.answer = OfferAnswer::Withdrawn;
            }
            c.closed_at = None;
            c.reopened_count += 1;
            c.status = if c.stage == Stage::OMBUDSMAN {
                Status::ReferredToAdr
            } else if c.deadlock_issued_at.is_some() {
                Status::Deadlocked
            } else {
                Status::Open
            };
        }
    }
    c
}

/// An offer still waiting for an answer when the complaint moves on is withdrawn.
fn withdraw_pending_offer(c: &mut Complaint) {
    if let Some(offer) = c.offers.last_mut()
        && offer.answer == OfferAnswer::Pending
    {
        offer.answer = OfferAnswer::Withdrawn;
    }
}
