//! Commands: what people ask of a complaint. Their snake_case names are the interface names
//! used by `redress simulate` and the HTTP API.
//!
//! This file holds their shapes. What each is called, its fields' kinds, its words for people
//! and who may take it are in the table in `actions/`, which also gives [`Action::name`],
//! [`Action::NAMES`] and [`Action::in_words`].

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
    /// Changes the customer's details after intake: each field given replaces what is held
    /// (an empty value clears an optional one); a field left out stays as it is. The account
    /// number stays: it is who the customer is.
    UpdateCustomer {
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        email: Option<String>,
        #[serde(default)]
        telephone: Option<String>,
        /// Lines of the postal address: a list, or text with a line each.
        #[serde(default, deserialize_with = "lines", serialize_with = "as_lines")]
        address: Option<Vec<String>>,
        #[serde(default)]
        postcode: Option<String>,
        #[serde(default)]
        preferred_channel: Option<Channel>,
        /// A list, or text with one need a line.
        #[serde(default, deserialize_with = "lines", serialize_with = "as_lines")]
        accessibility_needs: Option<Vec<String>>,
        /// A list, or text with one circumstance a line.
        #[serde(default, deserialize_with = "lines", serialize_with = "as_lines")]
        vulnerabilities: Option<Vec<String>>,
    },
    /// Takes back a compensation offer the customer has not accepted (made in error, or
    /// replaced by another), with the reason, for the record.
    WithdrawOffer {
        #[serde(default)]
        offer: Option<u32>,
        #[serde(alias = "text")]
        reason: String,
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
    /// Records a payment of Ofcom's automatic compensation (no fault finding or approval: the
    /// scheme pays it automatically), worked out by `redress compensation quote`.
    RecordAutomaticCompensation {
        kind: crate::automatic::AutoKind,
        amount_pence: i64,
    },
    /// Keeps the complaint's personal data past its retention period until released
    /// (compliance only).
    PlaceLegalHold {
        #[serde(alias = "text")]
        reason: String,
    },
    ReleaseLegalHold {
        #[serde(alias = "text")]
        reason: String,
    },
    /// Erases the customer's personal data at once, on their request (compliance only; the
    /// complaint must be closed and nothing may hold it).
    ErasePersonalData {
        #[serde(alias = "text")]
        reason: String,
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

/// A list of lines given as a JSON list of strings or as one text with a line each (as a form
/// sends it); `null` is not given.
fn lines<'de, D>(deserializer: D) -> Result<Option<Vec<String>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Lines {
        List(Vec<String>),
        Text(String),
    }
    Ok(match Option::<Lines>::deserialize(deserializer)? {
        None => None,
        Some(Lines::List(list)) => Some(list),
        Some(Lines::Text(text)) => Some(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect(),
        ),
    })
}

/// Lines written back as the form field they came from: one text, a line each.
fn as_lines<S>(value: &Option<Vec<String>>, serializer: S) -> Result<S::Ok, S::Error>
where
    S: serde::Serializer,
{
    match value {
        Some(lines) => serializer.serialize_some(&lines.join("\n")),
        None => serializer.serialize_none(),
    }
}
