//! How a command is refused: a stable code for machines and a sentence for people.
//!
//! Every area of the ladder refuses through these few helpers, so a refusal always carries
//! a code the HTTP API can rely on and words a handler can read out to a customer.

use serde::{Deserialize, Serialize};

use crate::model;

/// Why a command was refused, in a stable code for machines and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{reason}")]
pub struct Refusal {
    pub code: RefusalCode,
    pub reason: String,
}

/// Stable snake_case refusal codes (the HTTP API uses them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalCode {
    /// The person asking may not do this.
    NotPermitted,
    /// A value given with the command is not acceptable.
    InvalidInput,
    /// The complaint is at the wrong stage of the ladder for this.
    WrongStage,
    /// The complaint's status does not allow this.
    WrongStatus,
    /// Something must happen first.
    NotYet,
    /// It has already been done.
    AlreadyDone,
    /// The time allowed for it has passed.
    TooLate,
}

impl RefusalCode {
    pub fn as_str(self) -> &'static str {
        match self {
            RefusalCode::NotPermitted => "not_permitted",
            RefusalCode::InvalidInput => "invalid_input",
            RefusalCode::WrongStage => "wrong_stage",
            RefusalCode::WrongStatus => "wrong_status",
            RefusalCode::NotYet => "not_yet",
            RefusalCode::AlreadyDone => "already_done",
            RefusalCode::TooLate => "too_late",
        }
    }
}

pub(super) fn refuse<T>(code: RefusalCode, reason: impl Into<String>) -> Result<T, Refusal> {
    Err(Refusal {
        code,
        reason: reason.into(),
    })
}

/// A value from outside that the model refused, as a refusal of the command.
pub(super) fn invalid(e: model::InvalidValue) -> Refusal {
    Refusal {
        code: RefusalCode::InvalidInput,
        reason: e.0,
    }
}

/// Optional free text: blank means not given; anything else is checked like any long text.
pub(super) fn optional_text(field: &str, value: Option<String>) -> Result<Option<String>, Refusal> {
    match value {
        Some(v) if !v.trim().is_empty() => model::long_text(field, &v).map(Some).map_err(invalid),
        _ => Ok(None),
    }
}
