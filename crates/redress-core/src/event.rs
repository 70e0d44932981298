//! Events: what happened to a complaint, append-only, in the past tense.
//!
//! An event carries everything needed to rebuild the complaint ([`crate::apply`]); nothing is
//! looked up again from the procedure when replaying, so a complaint keeps the rules and wording
//! in force when it was first received.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::model::{Actor, Channel, Customer, Reference, Stage};
use crate::procedure::Rules;

/// One thing that happened to a complaint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// When it happened (for a deadline, when it fired).
    pub at: Timestamp,
    /// Who did it (Redress itself for deadlines).
    pub by: Actor,
    #[serde(flatten)]
    pub kind: EventKind,
}

/// Who is asked for evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceSource {
    Customer,
    ThirdParty,
}

/// Which way a telephone call went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CallDirection {
    #[default]
    Inbound,
    Outbound,
}

/// The ombudsman's finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OmbudsmanOutcome {
    Upheld,
    PartlyUpheld,
    NotUpheld,
}

impl OmbudsmanOutcome {
    /// Whether the decision asks the provider to do something.
    pub fn requires_remedy(self) -> bool {
        !matches!(self, OmbudsmanOutcome::NotUpheld)
    }
}

/// Why a complaint became eligible for ADR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdrReason {
    /// The ADR period (8 weeks by default) passed with the complaint unresolved.
    PeriodPassed,
    /// A deadlock letter was issued.
    DeadlockLetter,
}

/// The facts of a new complaint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Received {
    pub reference: Reference,
    pub channel: Channel,
    pub customer: Customer,
    pub summary: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// When the complaint was first received (may be before it was recorded).
    pub received_at: Timestamp,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub staff_concerned: Vec<String>,
    pub procedure_version: String,
    pub rules: Rules,
}

/// What happened. Serialised with its snake_case name under `"event"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// A new complaint (boxed: it is much larger than every other event).
    Received(Box<Received>),
    Acknowledged {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        channel: Option<Channel>,
    },
    NoteAdded {
        text: String,
        /// Visible to managers only (always so for notes about a staff member concerned).
        restricted: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        about_staff: Option<String>,
    },
    CallRecorded {
        direction: CallDirection,
        summary: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        duration_minutes: Option<u32>,
    },
    HandlerAssigned {
        handler: String,
    },
    StaffConcernedNamed {
        staff: String,
        /// Whether the named person was the handler and has been taken off the complaint.
        unassigned: bool,
    },
    ResolutionOffered {
        text: String,
        /// The stage that made the offer.
        offered_at_stage: Stage,
    },
    ResolutionAccepted {},
    ResolutionRejected {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    Escalated {
        from_stage: Stage,
        to_stage: Stage,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        channel: Option<Channel>,
    },
    Transferred {
        to_stage: Stage,
        to_department: String,
        /// The last London date for the formal written response.
        response_due_by: Date,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    EvidenceRequested {
        request: u32,
        from: EvidenceSource,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        description: Option<String>,
        /// The last London date for the evidence.
        due_by: Date,
    },
    EvidenceReceived {
        /// The request it answers; none for evidence sent unasked.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        description: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        channel: Option<Channel>,
    },
    EvidenceOverdue {
        request: u32,
        due_at: Timestamp,
    },
    CourseOfEventsRecorded {
        text: String,
    },
    FaultEstablished {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        description: Option<String>,
    },
    NoFaultFound {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    CompensationOffered {
        offer: u32,
        amount_pence: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        /// Within the offerer's own approval limit, so approved at once.
        approved: bool,
    },
    CompensationApproved {
        offer: u32,
        amount_pence: i64,
    },
    CompensationAccepted {
        offer: u32,
        amount_pence: i64,
    },
    /// A letter went (emailed, or put in the print queue): the copy kept of it, named by the
    /// SHA-256 of its words (subject, text, HTML) and of its PDF, so the record shows what
    /// it said whatever the procedure's templates say later.
    LetterSent {
        /// The outbox row (the letter's number).
        letter: i64,
        kind: crate::letters::LetterKind,
        /// `email` or `post`.
        route: crate::correspondence::Route,
        copy_sha256: String,
        pdf_sha256: String,
    },
    /// A case file for the ombudsman was made: its manifest's SHA-256 and how many files it
    /// lists.
    CaseFileGenerated {
        manifest_sha256: String,
        files: u32,
    },
    /// Everything held about the customer was exported for their subject access request
    /// (UK GDPR): the export's manifest's SHA-256.
    SubjectAccessExported {
        manifest_sha256: String,
    },
    /// The customer's details as they now stand, and which fields changed.
    CustomerUpdated {
        customer: Customer,
        changed: Vec<String>,
    },
    CompensationWithdrawn {
        offer: u32,
        amount_pence: i64,
        reason: String,
        /// The offer had been approved, so the customer had been told of it.
        made_to_customer: bool,
    },
    FormalResponseIssued {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<String>,
    },
    ResponseOverdue {
        due_at: Timestamp,
    },
    AcknowledgementOverdue {
        due_at: Timestamp,
    },
    ManagerReviewRequested {
        from_stage: Stage,
        to_stage: Stage,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<String>,
    },
    /// The Customer Resolution Manager's review is done: what the customer is told.
    ReviewOutcomeRecorded {
        text: String,
    },
    DeadlockIssued {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<String>,
    },
    AdrEligible {
        because: AdrReason,
        /// The instant it became due (the ADR point, or the deadlock letter).
        due_at: Timestamp,
    },
    AdrNoticeSent {
        due_at: Timestamp,
        /// The last London date on which the customer may refer the complaint to the scheme.
        referral_window_ends: Date,
    },
    ReferredToOmbudsman {
        from_stage: Stage,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ombudsman_reference: Option<String>,
    },
    OmbudsmanDecided {
        outcome: OmbudsmanOutcome,
        customer_accepted: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        remedy: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        award_pence: Option<i64>,
        /// The last London date for the remedy, where one is owed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        remedy_due_by: Option<Date>,
    },
    RemedyCompleted {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<String>,
    },
    RemedyOverdue {
        due_at: Timestamp,
    },
    Closed {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    Reopened {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// A payment of Ofcom's automatic compensation was recorded.
    AutomaticCompensationPaid {
        kind: crate::automatic::AutoKind,
        amount_pence: i64,
    },
    /// Compliance holds the complaint's personal data past its retention period (litigation,
    /// a regulator's inquiry), until released.
    LegalHoldPlaced {
        reason: String,
    },
    LegalHoldReleased {
        reason: String,
    },
    /// The complaint's personal data was erased: at the end of its retention period, or at
    /// once on the customer's request (`on_request`). `events` earlier events were blanked;
    /// `redactions_sha256` is the SHA-256 of their list (sequence, digest of the event as it
    /// was, digest of the event as kept), so the chain vouches for what is left of them.
    PersonalDataErased {
        reason: String,
        on_request: bool,
        events: u32,
        redactions_sha256: String,
    },
}

impl EventKind {
    /// The event's snake_case name, as written on every interface.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::Received(_) => "received",
            EventKind::Acknowledged { .. } => "acknowledged",
            EventKind::NoteAdded { .. } => "note_added",
            EventKind::CallRecorded { .. } => "call_recorded",
            EventKind::HandlerAssigned { .. } => "handler_assigned",
            EventKind::StaffConcernedNamed { .. } => "staff_concerned_named",
            EventKind::ResolutionOffered { .. } => "resolution_offered",
            EventKind::ResolutionAccepted {} => "resolution_accepted",
            EventKind::ResolutionRejected { .. } => "resolution_rejected",
            EventKind::Escalated { .. } => "escalated",
            EventKind::Transferred { .. } => "transferred",
            EventKind::EvidenceRequested { .. } => "evidence_requested",
            EventKind::EvidenceReceived { .. } => "evidence_received",
            EventKind::EvidenceOverdue { .. } => "evidence_overdue",
            EventKind::CourseOfEventsRecorded { .. } => "course_of_events_recorded",
            EventKind::FaultEstablished { .. } => "fault_established",
            EventKind::NoFaultFound { .. } => "no_fault_found",
            EventKind::CompensationOffered { .. } => "compensation_offered",
            EventKind::CompensationApproved { .. } => "compensation_approved",
            EventKind::CompensationAccepted { .. } => "compensation_accepted",
            EventKind::CompensationWithdrawn { .. } => "compensation_withdrawn",
            EventKind::CustomerUpdated { .. } => "customer_updated",
            EventKind::LetterSent { .. } => "letter_sent",
            EventKind::CaseFileGenerated { .. } => "case_file_generated",
            EventKind::SubjectAccessExported { .. } => "subject_access_exported",
            EventKind::FormalResponseIssued { .. } => "formal_response_issued",
            EventKind::ResponseOverdue { .. } => "response_overdue",
            EventKind::AcknowledgementOverdue { .. } => "acknowledgement_overdue",
            EventKind::ManagerReviewRequested { .. } => "manager_review_requested",
            EventKind::ReviewOutcomeRecorded { .. } => "review_outcome_recorded",
            EventKind::DeadlockIssued { .. } => "deadlock_issued",
            EventKind::AdrEligible { .. } => "adr_eligible",
            EventKind::AdrNoticeSent { .. } => "adr_notice_sent",
            EventKind::ReferredToOmbudsman { .. } => "referred_to_ombudsman",
            EventKind::OmbudsmanDecided { .. } => "ombudsman_decided",
            EventKind::RemedyCompleted { .. } => "remedy_completed",
            EventKind::RemedyOverdue { .. } => "remedy_overdue",
            EventKind::Closed { .. } => "closed",
            EventKind::Reopened { .. } => "reopened",
            EventKind::AutomaticCompensationPaid { .. } => "automatic_compensation_paid",
            EventKind::LegalHoldPlaced { .. } => "legal_hold_placed",
            EventKind::LegalHoldReleased { .. } => "legal_hold_released",
            EventKind::PersonalDataErased { .. } => "personal_data_erased",
        }
    }

    /// Whether the event was produced by a deadline coming due rather than by a person.
    pub fn is_deadline(&self) -> bool {
        matches!(
            self,
            EventKind::EvidenceOverdue { .. }
                | EventKind::ResponseOverdue { .. }
                | EventKind::AcknowledgementOverdue { .. }
                | EventKind::AdrEligible {
                    because: AdrReason::PeriodPassed,
                    ..
                }
                | EventKind::AdrNoticeSent { .. }
                | EventKind::RemedyOverdue { .. }
        )
    }
}
