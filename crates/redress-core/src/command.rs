//! Commands: what people ask of a complaint. Their snake_case names are the interface names
//! used by `redress simulate` and the HTTP API.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::event::{CallDirection, EvidenceSource, OmbudsmanOutcome};
use crate::model::{Actor, Channel, Customer, Reference};

/// A new complaint, as recorded by whoever took it. The shell chooses the reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Receive {
    pub reference: Reference,
    pub channel: Channel,
    pub customer: Customer,
    pub summary: String,
    pub category: Option<String>,
    /// When the complaint first reached the provider; `None` means now. May lie in the past (a
    /// letter entered late), never in the future.
    pub received_at: Option<Timestamp>,
    /// Staff members the complaint is about; they never handle it.
    pub staff_concerned: Vec<String>,
    pub by: Actor,
}

/// A command on an existing complaint, with the person asking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Command {
    pub by: Actor,
    pub action: Action,
}

/// What is asked. Field names match the scenario and API formats.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Action {
    Acknowledge {
        #[serde(default)]
        channel: Option<Channel>,
    },
    AddNote {
        text: String,
        #[serde(default)]
        restricted: bool,
        #[serde(default)]
        about_staff: Option<String>,
    },
    RecordCall {
        #[serde(default)]
        direction: CallDirection,
        #[serde(default, alias = "text")]
        summary: Option<String>,
        #[serde(default)]
        duration_minutes: Option<u32>,
    },
    Assign {
        handler: String,
    },
    NameStaffConcerned {
        staff: String,
    },
    OfferResolution {
        text: String,
    },
    AcceptResolution {},
    RejectResolution {
        #[serde(default, alias = "text")]
        reason: Option<String>,
    },
    RequestEscalation {
        #[serde(default)]
        channel: Option<Channel>,
        #[serde(default, alias = "text")]
        reason: Option<String>,
    },
    TransferToResolution {
        #[serde(default, alias = "text")]
        reason: Option<String>,
    },
    RequestEvidence {
        from: EvidenceSource,
        due_days: i64,
        #[serde(default, alias = "text")]
        description: Option<String>,
    },
    ReceiveEvidence {
        #[serde(default)]
        request: Option<u32>,
        #[serde(default, alias = "text")]
        description: Option<String>,
        #[serde(default)]
        channel: Option<Channel>,
    },
    RecordCourseOfEvents {
        text: String,
    },
    EstablishFault {
        #[serde(default, alias = "text")]
        description: Option<String>,
    },
    FindNoFault {
        #[serde(default, alias = "text")]
        reason: Option<String>,
    },
    OfferCompensation {
        amount_pence: i64,
        #[serde(default, alias = "text")]
        reason: Option<String>,
    },
    ApproveCompensation {
        #[serde(default)]
        offer: Option<u32>,
    },
    AcceptCompensation {
        #[serde(default)]
        offer: Option<u32>,
    },
    IssueFormalResponse {
        #[serde(default)]
        text: Option<String>,
    },
    RequestManagerReview {
        #[serde(default)]
        text: Option<String>,
    },
    /// The Customer Resolution Manager's answer to the customer's request for a review.
    RecordReviewOutcome {
        text: String,
    },
    IssueDeadlockLetter {
        #[serde(default)]
        text: Option<String>,
    },
    ReferToOmbudsman {
        #[serde(default)]
        ombudsman_reference: Option<String>,
    },
    RecordOmbudsmanDecision {
        outcome: OmbudsmanOutcome,
        customer_accepted: bool,
        #[serde(default)]
        remedy: Option<String>,
        #[serde(default)]
        award_pence: Option<i64>,
    },
    CompleteRemedy {
        #[serde(default)]
        text: Option<String>,
    },
    Close {
        #[serde(default, alias = "text")]
        reason: Option<String>,
    },
    Reopen {
        #[serde(default, alias = "text")]
        reason: Option<String>,
    },
}

/// Who normally asks for a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asker {
    /// The customer (staff may record it on the customer's behalf).
    Customer,
    /// A member of staff handling the complaint.
    Staff,
}

impl Action {
    /// Every command name, in the order of the ladder.
    pub const NAMES: [&'static str; 28] = [
        "receive",
        "acknowledge",
        "add_note",
        "record_call",
        "assign",
        "name_staff_concerned",
        "offer_resolution",
        "accept_resolution",
        "reject_resolution",
        "request_escalation",
        "transfer_to_resolution",
        "request_evidence",
        "receive_evidence",
        "record_course_of_events",
        "establish_fault",
        "find_no_fault",
        "offer_compensation",
        "approve_compensation",
        "accept_compensation",
        "issue_formal_response",
        "request_manager_review",
        "record_review_outcome",
        "issue_deadlock_letter",
        "refer_to_ombudsman",
        "record_ombudsman_decision",
        "complete_remedy",
        "close",
        "reopen",
    ];

    /// The command's snake_case name.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Acknowledge { .. } => "acknowledge",
            Action::AddNote { .. } => "add_note",
            Action::RecordCall { .. } => "record_call",
            Action::Assign { .. } => "assign",
            Action::NameStaffConcerned { .. } => "name_staff_concerned",
            Action::OfferResolution { .. } => "offer_resolution",
            Action::AcceptResolution {} => "accept_resolution",
            Action::RejectResolution { .. } => "reject_resolution",
            Action::RequestEscalation { .. } => "request_escalation",
            Action::TransferToResolution { .. } => "transfer_to_resolution",
            Action::RequestEvidence { .. } => "request_evidence",
            Action::ReceiveEvidence { .. } => "receive_evidence",
            Action::RecordCourseOfEvents { .. } => "record_course_of_events",
            Action::EstablishFault { .. } => "establish_fault",
            Action::FindNoFault { .. } => "find_no_fault",
            Action::OfferCompensation { .. } => "offer_compensation",
            Action::ApproveCompensation { .. } => "approve_compensation",
            Action::AcceptCompensation { .. } => "accept_compensation",
            Action::IssueFormalResponse { .. } => "issue_formal_response",
            Action::RequestManagerReview { .. } => "request_manager_review",
            Action::RecordReviewOutcome { .. } => "record_review_outcome",
            Action::IssueDeadlockLetter { .. } => "issue_deadlock_letter",
            Action::ReferToOmbudsman { .. } => "refer_to_ombudsman",
            Action::RecordOmbudsmanDecision { .. } => "record_ombudsman_decision",
            Action::CompleteRemedy { .. } => "complete_remedy",
            Action::Close { .. } => "close",
            Action::Reopen { .. } => "reopen",
        }
    }

    /// What the command does, in words that fit "only X can ... now".
    pub fn in_words(&self) -> &'static str {
        match self {
            Action::Acknowledge { .. } => "acknowledge the complaint",
            Action::AddNote { .. } => "add a note",
            Action::RecordCall { .. } => "record a call",
            Action::Assign { .. } => "assign the complaint",
            Action::NameStaffConcerned { .. } => "name a staff member concerned",
            Action::OfferResolution { .. } => "offer a resolution",
            Action::AcceptResolution {} => "accept the resolution",
            Action::RejectResolution { .. } => "reject the resolution",
            Action::RequestEscalation { .. } => "ask for escalation",
            Action::TransferToResolution { .. } => {
                "transfer the complaint to the Customer Resolution department"
            }
            Action::RequestEvidence { .. } => "request evidence",
            Action::ReceiveEvidence { .. } => "record evidence received",
            Action::RecordCourseOfEvents { .. } => "record the course of events",
            Action::EstablishFault { .. } => "establish fault",
            Action::FindNoFault { .. } => "find no fault",
            Action::OfferCompensation { .. } => "offer compensation",
            Action::ApproveCompensation { .. } => "approve compensation",
            Action::AcceptCompensation { .. } => "accept compensation",
            Action::IssueFormalResponse { .. } => "issue the formal written response",
            Action::RequestManagerReview { .. } => {
                "ask for the Customer Resolution Manager's review"
            }
            Action::RecordReviewOutcome { .. } => {
                "record the outcome of the Customer Resolution Manager's review"
            }
            Action::IssueDeadlockLetter { .. } => "issue a deadlock letter",
            Action::ReferToOmbudsman { .. } => "record a referral to the ombudsman",
            Action::RecordOmbudsmanDecision { .. } => "record the ombudsman's decision",
            Action::CompleteRemedy { .. } => "complete the remedy",
            Action::Close { .. } => "close the complaint",
            Action::Reopen { .. } => "reopen the complaint",
        }
    }

    /// Who normally asks for this command.
    pub fn asker(&self) -> Asker {
        match self {
            Action::AcceptResolution {}
            | Action::RejectResolution { .. }
            | Action::RequestEscalation { .. }
            | Action::ReceiveEvidence { .. }
            | Action::AcceptCompensation { .. }
            | Action::RequestManagerReview { .. }
            | Action::ReferToOmbudsman { .. } => Asker::Customer,
            _ => Asker::Staff,
        }
    }
}
