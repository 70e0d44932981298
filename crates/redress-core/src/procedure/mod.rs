//! The procedure file: everything provider-specific, as data.
//!
//! A procedure is parsed from TOML and checked as a whole: [`Procedure::from_toml`] returns
//! every problem it finds, each with the field path and the line, rather than stopping at the
//! first. The default procedure (kinex's published code) is compiled into the binary.
//!
//! Clocks and limits live in [`Rules`] versions with an `effective_from` date; a complaint keeps
//! the version in force on the London date it was first received.
//!
//! This file holds the model (the types a procedure is made of) and what the rest of the core
//! asks of it. Reading the file is `parse.rs` (TOML, field paths and their lines), checking a
//! procedure as a whole is `validate.rs`, and checking its letter templates against it is
//! `letters.rs`. Each depends only on the ones after it and on this file, never the other
//! way round.

mod letters;
mod parse;
#[cfg(test)]
mod tests;
mod validate;

use std::collections::BTreeMap;
use std::fmt;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::letters::Letters;
use crate::model::{Channel, Role, Stage};

/// The default procedure's source text.
pub const DEFAULT_PROCEDURE_TOML: &str = include_str!("../../procedure/default.toml");

/// Largest procedure file accepted.
pub const MAX_PROCEDURE_BYTES: usize = 1024 * 1024;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Organisation {
    pub name: String,
    pub address: Vec<String>,
    #[serde(default)]
    pub telephone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub aims: Option<String>,
    #[serde(default)]
    pub compensation_statement: Option<String>,
    #[serde(default)]
    pub codes_of_practice: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Department {
    pub name: String,
    #[serde(default)]
    pub telephone: Option<String>,
    /// Said beside the telephone number, e.g. "ask for the escalation team".
    #[serde(default)]
    pub telephone_note: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// Whether the department takes complaints by email (the seed says "emailing" without
    /// giving an address).
    #[serde(default)]
    pub accepts_email: bool,
    pub address: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageDefinition {
    pub number: u8,
    pub name: String,
    /// The key of the department that owns complaints at this stage.
    pub department: String,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdrScheme {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub address: Vec<String>,
    pub telephone: String,
    #[serde(default)]
    pub facsimile: Option<String>,
    #[serde(default)]
    pub textphone: Option<String>,
    #[serde(default)]
    pub website: Option<String>,
    /// The most the scheme may award, in pence.
    pub award_limit_pence: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    pub code: String,
    pub name: String,
}

/// Who may read what (`[access]`, optional: by default restricted notes are for team managers,
/// the Customer Resolution Manager and compliance).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Access {
    /// The roles that may read restricted notes (never the staff member a note concerns).
    #[serde(default = "Access::default_restricted_note_readers")]
    pub restricted_note_readers: Vec<Role>,
}

impl Access {
    fn default_restricted_note_readers() -> Vec<Role> {
        vec![
            Role::TeamManager,
            Role::CustomerResolutionManager,
            Role::Compliance,
        ]
    }
}

impl Default for Access {
    fn default() -> Access {
        Access {
            restricted_note_readers: Access::default_restricted_note_readers(),
        }
    }
}

/// How complaints are acknowledged (`[acknowledgement]`, optional).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Acknowledgement {
    /// The channels whose complaints the system acknowledges the moment they are recorded, by
    /// the channel the customer chose, with the `acknowledgement` letter (web and email unless
    /// the procedure says otherwise; an empty list leaves every acknowledgement to staff).
    /// Staff acknowledge complaints made by telephone, letter or textphone.
    #[serde(default = "Acknowledgement::default_automatic")]
    pub automatic: Vec<Channel>,
}

impl Acknowledgement {
    fn default_automatic() -> Vec<Channel> {
        vec![Channel::Web, Channel::Email]
    }

    /// Whether the system acknowledges a complaint made through `channel` as it arrives.
    pub fn is_automatic(&self, channel: Channel) -> bool {
        self.automatic.contains(&channel)
    }
}

impl Default for Acknowledgement {
    fn default() -> Acknowledgement {
        Acknowledgement {
            automatic: Acknowledgement::default_automatic(),
        }
    }
}

/// How much compensation each role may approve on its own, in pence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalLimits {
    pub handler: i64,
    pub team_manager: i64,
    pub customer_resolution_manager: i64,
}

impl ApprovalLimits {
    pub fn for_role(&self, role: Role) -> i64 {
        match role {
            Role::Handler => self.handler,
            Role::TeamManager => self.team_manager,
            Role::CustomerResolutionManager => self.customer_resolution_manager,
            _ => 0,
        }
    }
}

/// A set of stages, for rules such as "which stages may issue a deadlock letter".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(from = "Vec<u8>", into = "Vec<u8>")]
pub struct StageSet(u8);

impl StageSet {
    pub fn contains(self, stage: Stage) -> bool {
        self.0 & (1 << stage.number()) != 0
    }

    pub fn numbers(self) -> Vec<u8> {
        (0..8).filter(|n| self.0 & (1 << n) != 0).collect()
    }

    /// "stage 3 or 4", "stage 2, 3 or 4", "no stage".
    pub fn in_words(self) -> String {
        let numbers: Vec<String> = self.numbers().iter().map(u8::to_string).collect();
        match numbers.as_slice() {
            [] => "no stage".to_owned(),
            [one] => format!("stage {one}"),
            [rest @ .., last] => format!("stage {} or {last}", rest.join(", ")),
        }
    }
}

impl From<Vec<u8>> for StageSet {
    fn from(numbers: Vec<u8>) -> Self {
        // Out-of-range numbers are kept (bit 0, 6, 7) so validation can name them.
        StageSet(numbers.iter().fold(0u8, |acc, n| {
            acc | 1u8.checked_shl(u32::from(*n)).unwrap_or(1)
        }))
    }
}

impl From<StageSet> for Vec<u8> {
    fn from(set: StageSet) -> Self {
        set.numbers()
    }
}

/// One version of the procedure's clocks and limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// The London date from which this version applies to newly received complaints.
    pub effective_from: Date,
    /// Days the Customer Resolution department has for its formal written response.
    pub formal_response_days: i64,
    /// Weeks after first receipt at which an unresolved complaint may go to ADR.
    pub adr_after_weeks: i64,
    /// Months after an ADR letter within which the customer may refer to the scheme.
    pub adr_referral_window_months: i64,
    /// Days to carry out a remedy after the customer accepts the ombudsman's decision.
    pub remedy_days: i64,
    /// Stages from which a deadlock letter may be issued.
    pub deadlock_stages: StageSet,
    /// Days within which a complaint should be acknowledged, if the provider sets a target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledgement_days: Option<i64>,
    /// The longest time an evidence request may allow.
    pub evidence_max_days: i64,
    /// The largest single compensation offer, in pence.
    pub compensation_max_pence: i64,
    pub approval_limits_pence: ApprovalLimits,
    /// How long complaint records are kept after closing.
    pub retention_months: i64,
    /// Clocks counted in working days of a nation instead of calendar days (the default, as
    /// the seed): `[rules.working_days]` with `nation` and the clocks it applies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_days: Option<WorkingDays>,
}

/// Which of a rule version's clocks count working days, and whose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkingDays {
    #[serde(default)]
    pub nation: crate::holidays::Nation,
    #[serde(default)]
    pub formal_response: bool,
    #[serde(default)]
    pub remedy: bool,
    #[serde(default)]
    pub acknowledgement: bool,
}

/// The clocks a rule version may count in working days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Acknowledgement,
    FormalResponse,
    Remedy,
}

impl Rules {
    /// Whether `period` counts working days, and whose.
    pub fn working_days_for(&self, period: Period) -> Option<crate::holidays::Nation> {
        let w = self.working_days?;
        let on = match period {
            Period::Acknowledgement => w.acknowledgement,
            Period::FormalResponse => w.formal_response,
            Period::Remedy => w.remedy,
        };
        on.then_some(w.nation)
    }

    /// The last London date of `days` of `period` from `from`: `date(from) + days` in calendar
    /// days, or the `days`th working day after `date(from)` where the rules count working days.
    pub fn period_last_day(
        &self,
        period: Period,
        procedure: &Procedure,
        from: Timestamp,
        days: i64,
    ) -> Date {
        let tz = procedure.time_zone();
        match self.working_days_for(period) {
            Some(nation) => procedure
                .calendar(nation)
                .add_working_days(crate::clock::local_date(tz, from), days),
            None => crate::clock::period_last_day(tz, from, days),
        }
    }

    /// The unit a period is counted in, for words: "day" or "working day".
    pub fn unit(&self, period: Period) -> &'static str {
        if self.working_days_for(period).is_some() {
            "working day"
        } else {
            "day"
        }
    }

    pub fn adr_after_days(&self) -> i64 {
        self.adr_after_weeks * 7
    }
}

/// A validated procedure. Build one with [`Procedure::from_toml`] or [`Procedure::default_procedure`].
#[derive(Debug, Clone, Serialize)]
pub struct Procedure {
    pub version: String,
    pub time_zone: String,
    pub reference_prefix: String,
    pub organisation: Organisation,
    pub departments: BTreeMap<String, Department>,
    pub stages: Vec<StageDefinition>,
    pub adr_scheme: AdrScheme,
    /// Sorted by `effective_from`, earliest first.
    pub rules: Vec<Rules>,
    pub categories: Vec<Category>,
    /// The letter templates (`[letters.<kind>]`), compiled and checked.
    pub letters: Letters,
    /// Who may read what (`[access]`; optional).
    pub access: Access,
    /// Which complaints the system acknowledges itself (`[acknowledgement]`; optional).
    #[serde(default)]
    pub acknowledgement: Acknowledgement,
    /// Ofcom's automatic compensation amounts by effective date (`[[automatic_compensation]]`;
    /// the built-in table when the file has none), earliest first.
    #[serde(default = "crate::automatic::built_in_rates")]
    pub automatic_compensation: Vec<crate::automatic::Rates>,
    /// Bank holidays beyond the built-in lists (`[[bank_holidays]]`; optional).
    #[serde(default)]
    pub bank_holidays: Vec<crate::holidays::ExtraHoliday>,
    /// Letter kinds the file had no template for: they use the built-in wording.
    #[serde(skip)]
    pub defaulted_letters: Vec<crate::letters::LetterKind>,
    #[serde(skip)]
    tz: TimeZone,
}

/// One thing wrong with a procedure file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line, where the problem can be placed.
    pub line: Option<usize>,
    /// The field path, e.g. `stages[2].department`.
    pub path: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.path.is_empty()) {
            (Some(line), false) => write!(f, "line {line}: {}: {}", self.path, self.message),
            (Some(line), true) => write!(f, "line {line}: {}", self.message),
            (None, false) => write!(f, "{}: {}", self.path, self.message),
            (None, true) => f.write_str(&self.message),
        }
    }
}

/// Every problem found in a procedure file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ProcedureErrors(pub Vec<Problem>);

impl fmt::Display for ProcedureErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.0.len();
        writeln!(
            f,
            "the procedure has {count} problem{}:",
            if count == 1 { "" } else { "s" }
        )?;
        for problem in &self.0 {
            writeln!(f, "  {problem}")?;
        }
        Ok(())
    }
}

impl Procedure {
    /// What a valid procedure leaves customers without, in words for whoever checks it. These
    /// do not make it invalid.
    pub fn warnings(&self) -> Vec<String> {
        let defaulted = self.defaulted_letters.iter().map(|kind| {
            format!(
                "letters.{kind} is missing: the built-in wording is used; add [letters.{kind}] to word it yourself"
            )
        });
        self.departments
            .iter()
            .filter(|(_, d)| d.accepts_email && d.email.as_deref().is_none_or(|e| e.trim().is_empty()))
            .map(|(key, d)| {
                format!(
                    "departments.{key} ({}) takes complaints by email but gives no address (`email`): the published code and letters cannot tell customers where to email, so they say nothing about email",
                    d.name
                )
            })
            .chain(defaulted)
            .collect()
    }

    /// The procedure compiled into the binary: kinex's published complaints code.
    pub fn default_procedure() -> Procedure {
        match Procedure::from_toml(DEFAULT_PROCEDURE_TOML) {
            Ok(procedure) => procedure,
            // The default file is checked by a unit test; reaching this is a build defect.
            Err(errors) => panic!("the built-in default procedure is invalid: {errors}"),
        }
    }

    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    /// The working-day calendar of a nation: its bank holidays and the procedure's extra.
    pub fn calendar(&self, nation: crate::holidays::Nation) -> crate::holidays::Calendar<'_> {
        crate::holidays::Calendar {
            nation,
            extra: &self.bank_holidays,
        }
    }

    /// The rules in force for a complaint first received on `date` (London). A date before
    /// the first version gets the first version.
    pub fn rules_for(&self, date: Date) -> Rules {
        self.rules
            .iter()
            .rev()
            .find(|r| r.effective_from <= date)
            .or_else(|| self.rules.first())
            .copied()
            .unwrap_or_else(unreachable_rules)
    }

    pub fn stage(&self, stage: Stage) -> &StageDefinition {
        // Validation guarantees exactly stages 1..=5 in order.
        &self.stages[usize::from(stage.number() - 1)]
    }

    /// The key of the department that owns a stage.
    pub fn department_of(&self, stage: Stage) -> &str {
        &self.stage(stage).department
    }

    pub fn department(&self, key: &str) -> Option<&Department> {
        self.departments.get(key)
    }

    pub fn category(&self, code: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.code == code)
    }
}

/// Validation refuses a procedure with no rules, so this is never called on a real procedure.
fn unreachable_rules() -> Rules {
    Rules {
        effective_from: Date::MIN,
        formal_response_days: 28,
        adr_after_weeks: 8,
        adr_referral_window_months: 12,
        remedy_days: 28,
        deadlock_stages: StageSet::from(vec![3, 4]),
        acknowledgement_days: None,
        evidence_max_days: 90,
        compensation_max_pence: 0,
        approval_limits_pence: ApprovalLimits {
            handler: 0,
            team_manager: 0,
            customer_resolution_manager: 0,
        },
        retention_months: 15,
        working_days: None,
    }
}
