//! What each command is, as data: one [`ActionInfo`] per [`Action`], in the order of the
//! ladder. Its interface name, its fields (name, kind, required or not), the words people
//! read (a label, a button, the sentence once done), who may take it, and whether the
//! customer portal offers it.
//!
//! Shells read this table instead of spelling command names out: the staff forms (labels,
//! fields, buttons), the portal (which commands it offers), `redress simulate` and the HTTP
//! API (which names exist), the OpenAPI description (each command's fields), and tests. The
//! table itself is in `table.rs`; this file holds its types and the [`Action`] methods that
//! read it.
//!
//! The table cannot fall behind [`Action`]: [`Action::kind`] matches every variant, the table
//! has exactly one entry per [`ActionKind`], and the tests below check each entry's name and
//! fields against what serde reads and writes for that command.

mod table;

use std::fmt;
use std::str::FromStr;

use crate::command::{Action, Asker};
use crate::model::{InvalidValue, Stage};
use crate::procedure::{Procedure, Rules};

use table::TABLE;

/// The name of the command that records a new complaint ([`crate::Receive`]). It is not an
/// [`Action`] (there is no complaint yet), but it is a command name in the API and scenarios.
pub const RECEIVE: &str = "receive";

/// Every entry of the table, in the order of the ladder (the order of [`ActionKind::ALL`]).
pub static ACTIONS: &[ActionInfo] = &TABLE;

/// How a message reached us (`Channel`, by its name), in the words the staff pages use.
pub static CHANNEL_WORDS: &[(&str, &str)] = table::CHANNELS;

/// Which command, without its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ActionKind {
    Acknowledge,
    AddNote,
    RecordCall,
    Assign,
    NameStaffConcerned,
    OfferResolution,
    AcceptResolution,
    RejectResolution,
    RequestEscalation,
    TransferToResolution,
    RequestEvidence,
    ReceiveEvidence,
    RecordCourseOfEvents,
    EstablishFault,
    FindNoFault,
    OfferCompensation,
    ApproveCompensation,
    AcceptCompensation,
    UpdateCustomer,
    WithdrawOffer,
    IssueFormalResponse,
    RequestManagerReview,
    RecordReviewOutcome,
    IssueDeadlockLetter,
    ReferToOmbudsman,
    RecordOmbudsmanDecision,
    CompleteRemedy,
    Close,
    Reopen,
    RecordAutomaticCompensation,
    PlaceLegalHold,
    ReleaseLegalHold,
    ErasePersonalData,
}

/// Everything known about one command apart from its values.
#[derive(Debug, Clone, Copy)]
pub struct ActionInfo {
    pub kind: ActionKind,
    /// The snake_case interface name (the `command` of the API and scenarios).
    pub name: &'static str,
    /// A title for people: "Offer a resolution", "The customer asks to escalate".
    pub label: &'static str,
    /// What it does in words that fit "only X can ... now": "offer a resolution".
    pub in_words: &'static str,
    /// The button that takes it: "Record the offer".
    pub button: &'static str,
    /// Said once it is done: "The resolution offered was recorded."
    pub done: &'static str,
    /// It cannot simply be taken back (a deadlock letter) or ends the complaint (close), so
    /// pages mark its button as a warning.
    pub warning: bool,
    pub fields: &'static [FieldInfo],
    pub who: Who,
    /// The customer portal offers it (when the customer may take it now).
    pub portal: bool,
    /// An example with ordinary values, for asking "may this person take it now?"
    /// ([`crate::available`]). `None` for `assign` and `name_staff_concerned`, whose answer
    /// depends on who is named.
    pub sample: Option<fn() -> Action>,
}

/// Who may take a command, as [`crate::authorise`] reads it. Whatever this says, the system
/// (Redress itself) may take every command and administrators none; a member of staff named
/// as concerned in a complaint never acts on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Who {
    /// The customer may take it themselves; otherwise only staff. Staff may always record a
    /// customer's command on the customer's behalf.
    pub asker: Asker,
    /// Compliance staff may take it (they read complaints and add notes, nothing else).
    pub compliance: bool,
    /// Only compliance staff may take it (what is done with the record: legal holds,
    /// erasure), never the complaint's handlers or the customer.
    pub only_compliance: bool,
    /// Besides the department that owns the complaint's stage, the department owning this
    /// stage may take it: the customer may ask that department directly (telephone the
    /// Escalation Team, write to the Customer Resolution Manager, the ombudsman's referral).
    pub also_stage: Option<Stage>,
    /// A customer resolution manager may take it at any stage; otherwise from stage 3 on.
    pub manager_at_any_stage: bool,
}

/// One field of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldInfo {
    /// The field's name in the API and scenarios.
    pub name: &'static str,
    pub kind: FieldKind,
    /// A command without it is not read. An optional field left out is not given (`null`),
    /// or its `default`.
    pub required: bool,
    /// The value an optional field takes when left out, where it is not "not given".
    pub default: Option<&'static str>,
    /// Another name accepted for it (`text` for a reason or description).
    pub alias: Option<&'static str>,
    /// What it holds, for messages: "Enter the reason", "the reason must not be empty".
    pub what: &'static str,
    /// The words a form shows beside it: "Why the customer does not accept it (optional)".
    pub label: &'static str,
}

/// How a field's value is written and what it may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// One line, at most [`crate::model::MAX_SHORT_CHARS`] characters (a name, a reference).
    Text,
    /// Free text, at most [`crate::model::MAX_TEXT_CHARS`] characters, line breaks allowed.
    LongText,
    /// A whole number from `min` to `max`.
    Number { min: i64, max: Limit },
    /// An amount of money in whole pence, from `min` to `max`.
    MoneyPence { min: i64, max: Limit },
    /// `true` or `false`.
    Bool,
    /// One of the values, each with words for people (value, label).
    Choice(&'static [(&'static str, &'static str)]),
    /// The number of something already on the complaint.
    Item(Item),
}

/// The largest value a number may take: fixed, or set by the procedure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Fixed(i64),
    /// The complaint's rules: `evidence_max_days`.
    EvidenceMaxDays,
    /// The complaint's rules: `compensation_max_pence`.
    CompensationMaxPence,
    /// The ADR scheme's `award_limit_pence`.
    AwardLimitPence,
}

impl Limit {
    /// The limit for a complaint kept under `rules`, in a procedure.
    pub fn value(self, rules: &Rules, procedure: &Procedure) -> i64 {
        match self {
            Limit::Fixed(n) => n,
            Limit::EvidenceMaxDays => rules.evidence_max_days,
            Limit::CompensationMaxPence => rules.compensation_max_pence,
            Limit::AwardLimitPence => procedure.adr_scheme.award_limit_pence,
        }
    }
}

/// What an [`FieldKind::Item`] field numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    /// An evidence request (`Complaint::evidence_requests`); left out, the oldest still waiting.
    EvidenceRequest,
    /// A compensation offer (`Complaint::compensation`); left out, the latest.
    CompensationOffer,
}

impl ActionInfo {
    /// The title for people, with the procedure's names of its departments.
    pub fn label_in(&self, procedure: &Procedure) -> String {
        in_procedure(self.label, procedure)
    }

    /// What it does, in words that fit "only X can ... now", with the procedure's names.
    pub fn in_words_in(&self, procedure: &Procedure) -> String {
        in_procedure(self.in_words, procedure)
    }

    /// The sentence said once it is done, with the procedure's names.
    pub fn done_in(&self, procedure: &Procedure) -> String {
        in_procedure(self.done, procedure)
    }

    /// The field of this command named `name`.
    pub fn field(&self, name: &str) -> Option<&'static FieldInfo> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// The table's words with `{stage2}`, `{stage3}` and `{stage4}` replaced by the names the
/// procedure gives those stages ("Escalation Team" in the default procedure).
pub fn in_procedure(words: &str, procedure: &Procedure) -> String {
    let mut out = words.to_owned();
    for stage in [
        Stage::ESCALATION_TEAM,
        Stage::CUSTOMER_RESOLUTION,
        Stage::RESOLUTION_MANAGER,
    ] {
        let placeholder = format!("{{stage{}}}", stage.number());
        if out.contains(&placeholder) {
            out = out.replace(&placeholder, &procedure.stage(stage).name);
        }
    }
    out
}

impl ActionKind {
    /// Every kind, in the order of the ladder.
    pub const ALL: [ActionKind; 33] = {
        let mut all = [ActionKind::Acknowledge; 33];
        let mut i = 0;
        while i < TABLE.len() {
            all[i] = TABLE[i].kind;
            i += 1;
        }
        all
    };

    pub fn info(self) -> &'static ActionInfo {
        // The table is in the order of the enum; a test checks it.
        &ACTIONS[self as usize]
    }

    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// The kind named `name`, if it is a command on an existing complaint.
    pub fn parse(name: &str) -> Option<ActionKind> {
        ACTIONS.iter().find(|a| a.name == name).map(|a| a.kind)
    }
}

impl fmt::Display for ActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ActionKind {
    type Err = InvalidValue;
    fn from_str(name: &str) -> Result<ActionKind, InvalidValue> {
        ActionKind::parse(name).ok_or_else(|| {
            InvalidValue(format!(
                "'{}' is not a command; the commands are {}",
                name.chars().take(60).collect::<String>(),
                Action::NAMES[1..].join(", ")
            ))
        })
    }
}

impl Action {
    /// Every command name, in the order of the ladder: `receive`, then the table's.
    pub const NAMES: [&'static str; 34] = {
        let mut names = [RECEIVE; 34];
        let mut i = 0;
        while i < TABLE.len() {
            names[i + 1] = TABLE[i].name;
            i += 1;
        }
        names
    };

    /// Which command this is.
    pub fn kind(&self) -> ActionKind {
        match self {
            Action::Acknowledge { .. } => ActionKind::Acknowledge,
            Action::AddNote { .. } => ActionKind::AddNote,
            Action::RecordCall { .. } => ActionKind::RecordCall,
            Action::Assign { .. } => ActionKind::Assign,
            Action::NameStaffConcerned { .. } => ActionKind::NameStaffConcerned,
            Action::OfferResolution { .. } => ActionKind::OfferResolution,
            Action::AcceptResolution {} => ActionKind::AcceptResolution,
            Action::RejectResolution { .. } => ActionKind::RejectResolution,
            Action::RequestEscalation { .. } => ActionKind::RequestEscalation,
            Action::TransferToResolution { .. } => ActionKind::TransferToResolution,
            Action::RequestEvidence { .. } => ActionKind::RequestEvidence,
            Action::ReceiveEvidence { .. } => ActionKind::ReceiveEvidence,
            Action::RecordCourseOfEvents { .. } => ActionKind::RecordCourseOfEvents,
            Action::EstablishFault { .. } => ActionKind::EstablishFault,
            Action::FindNoFault { .. } => ActionKind::FindNoFault,
            Action::OfferCompensation { .. } => ActionKind::OfferCompensation,
            Action::ApproveCompensation { .. } => ActionKind::ApproveCompensation,
            Action::AcceptCompensation { .. } => ActionKind::AcceptCompensation,
            Action::UpdateCustomer { .. } => ActionKind::UpdateCustomer,
            Action::WithdrawOffer { .. } => ActionKind::WithdrawOffer,
            Action::IssueFormalResponse { .. } => ActionKind::IssueFormalResponse,
            Action::RequestManagerReview { .. } => ActionKind::RequestManagerReview,
            Action::RecordReviewOutcome { .. } => ActionKind::RecordReviewOutcome,
            Action::IssueDeadlockLetter { .. } => ActionKind::IssueDeadlockLetter,
            Action::ReferToOmbudsman { .. } => ActionKind::ReferToOmbudsman,
            Action::RecordOmbudsmanDecision { .. } => ActionKind::RecordOmbudsmanDecision,
            Action::CompleteRemedy { .. } => ActionKind::CompleteRemedy,
            Action::Close { .. } => ActionKind::Close,
            Action::Reopen { .. } => ActionKind::Reopen,
            Action::RecordAutomaticCompensation { .. } => ActionKind::RecordAutomaticCompensation,
            Action::PlaceLegalHold { .. } => ActionKind::PlaceLegalHold,
            Action::ReleaseLegalHold { .. } => ActionKind::ReleaseLegalHold,
            Action::ErasePersonalData { .. } => ActionKind::ErasePersonalData,
        }
    }

    pub fn info(&self) -> &'static ActionInfo {
        self.kind().info()
    }

    /// The command's snake_case name.
    pub fn name(&self) -> &'static str {
        self.info().name
    }

    /// What the command does, in words that fit "only X can ... now", with the procedure's
    /// names of its departments.
    pub fn in_words(&self, procedure: &Procedure) -> String {
        self.info().in_words_in(procedure)
    }

    /// Who normally asks for this command.
    pub fn asker(&self) -> Asker {
        self.info().who.asker
    }
}

#[cfg(test)]
mod tests;
