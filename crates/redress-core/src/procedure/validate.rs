//! Checking a procedure as a whole once every section has been read: values in range, names
//! not blank, telephone numbers that are numbers, stages 1 to 5 each owned by a known
//! department, and letter templates that render (`letters.rs`).
//!
//! Problems are placed by field path only; `parse.rs` knows the source and finds their lines,
//! so nothing here depends on how the procedure was read.

use std::collections::BTreeSet;

use crate::letters::TemplateProblem;
use crate::model::{Channel, Role};

use super::Procedure;

/// One problem with a procedure, by field path. `within` is the line inside the value at
/// `path` (a template) where it is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Finding {
    pub path: String,
    pub within: Option<usize>,
    pub message: String,
}

/// The problems found so far, in the order they were found (the order they are reported).
#[derive(Default)]
struct Findings(Vec<Finding>);

impl Findings {
    fn problem(&mut self, path: &str, message: impl Into<String>) {
        self.0.push(Finding {
            path: path.to_owned(),
            within: None,
            message: message.into(),
        });
    }

    fn template_problem(&mut self, problem: TemplateProblem) {
        self.0.push(Finding {
            path: problem.path,
            within: problem.template_line,
            message: problem.message,
        });
    }
}

/// Every problem with a procedure whose sections have all been read.
pub(super) fn validate(p: &Procedure) -> Vec<Finding> {
    let mut found = Findings::default();
    if is_blank(&p.version) {
        found.problem("version", "must name this version of the procedure");
    }
    let prefix_ok = (2..=8).contains(&p.reference_prefix.len())
        && p.reference_prefix.bytes().all(|b| b.is_ascii_uppercase());
    if !prefix_ok {
        found.problem(
            "reference_prefix",
            "must be 2 to 8 upper-case letters, e.g. CMP",
        );
    }
    if p.access
        .restricted_note_readers
        .iter()
        .any(|r| matches!(r, Role::Customer | Role::System | Role::Handler))
    {
        found.problem(
            "access.restricted_note_readers",
            "may name team_manager, customer_resolution_manager, compliance or administrator, never handler or customer",
        );
    }
    if p.acknowledgement
        .automatic
        .iter()
        .any(|c| !matches!(c, Channel::Web | Channel::Email))
    {
        found.problem(
            "acknowledgement.automatic",
            "may name web and email only: staff acknowledge complaints made by telephone, letter or textphone once they have recorded them",
        );
    }
    if is_blank(&p.organisation.name) {
        found.problem("organisation.name", "must not be empty");
    }
    if p.organisation.address.iter().all(|l| is_blank(l)) {
        found.problem("organisation.address", "must have at least one line");
    }
    if let Some(t) = &p.organisation.telephone
        && !looks_like_phone_number(t)
    {
        found.problem(
            "organisation.telephone",
            format!("'{t}' is not a telephone number"),
        );
    }

    if p.departments.is_empty() {
        found.problem("departments", "must list at least one department");
    }
    for (key, d) in &p.departments {
        let path = format!("departments.{key}");
        if !key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit())
        {
            found.problem(
                &path,
                "department keys must be snake_case, e.g. customer_services",
            );
        }
        if is_blank(&d.name) {
            found.problem(&format!("{path}.name"), "must not be empty");
        }
        if d.address.iter().all(|l| is_blank(l)) {
            found.problem(
                &format!("{path}.address"),
                "must have at least one line (customers may always write)",
            );
        }
        if let Some(t) = &d.telephone
            && !looks_like_phone_number(t)
        {
            found.problem(
                &format!("{path}.telephone"),
                format!("'{t}' is not a telephone number"),
            );
        }
        if let Some(e) = &d.email
            && !e.contains('@')
        {
            found.problem(
                &format!("{path}.email"),
                format!("'{e}' is not an email address"),
            );
        }
    }

    let numbers: Vec<u8> = p.stages.iter().map(|s| s.number).collect();
    if numbers != [1, 2, 3, 4, 5] {
        found.problem(
            "stages",
            format!("must define stages 1 to 5 in order, once each (found {numbers:?})"),
        );
    }
    for (i, stage) in p.stages.iter().enumerate() {
        let path = format!("stages[{i}]");
        if is_blank(&stage.name) {
            found.problem(&format!("{path}.name"), "must not be empty");
        }
        if !p.departments.contains_key(&stage.department) {
            let known: Vec<&str> = p.departments.keys().map(String::as_str).collect();
            found.problem(
                &format!("{path}.department"),
                format!(
                    "'{}' is not a department; known departments: {}",
                    stage.department,
                    known.join(", ")
                ),
            );
        }
    }

    let a = &p.adr_scheme;
    if is_blank(&a.name) {
        found.problem("adr_scheme.name", "must name the ADR scheme");
    }
    if a.address.iter().all(|l| is_blank(l)) {
        found.problem("adr_scheme.address", "must have at least one line");
    }
    if !looks_like_phone_number(&a.telephone) {
        found.problem(
            "adr_scheme.telephone",
            format!("'{}' is not a telephone number", a.telephone),
        );
    }
    for (field, value) in [("facsimile", &a.facsimile), ("textphone", &a.textphone)] {
        if let Some(v) = value
            && !looks_like_phone_number(v)
        {
            found.problem(
                &format!("adr_scheme.{field}"),
                format!("'{v}' is not a telephone number"),
            );
        }
    }
    if a.award_limit_pence <= 0 {
        found.problem("adr_scheme.award_limit_pence", "must be more than zero");
    }

    if p.rules.is_empty() {
        found.problem("rules", "must have at least one version of the rules");
    }
    let mut seen_dates = BTreeSet::new();
    for (i, r) in p.rules.iter().enumerate() {
        let path = format!("rules[{i}]");
        let mut range = |field: &str, value: i64, lo: i64, hi: i64| {
            if !(lo..=hi).contains(&value) {
                found.problem(
                    &format!("{path}.{field}"),
                    format!("must be between {lo} and {hi} (is {value})"),
                );
            }
        };
        range("formal_response_days", r.formal_response_days, 1, 365);
        range("adr_after_weeks", r.adr_after_weeks, 1, 52);
        range(
            "adr_referral_window_months",
            r.adr_referral_window_months,
            1,
            120,
        );
        range("remedy_days", r.remedy_days, 1, 365);
        range("evidence_max_days", r.evidence_max_days, 1, 365);
        range("retention_months", r.retention_months, 1, 1200);
        range(
            "compensation_max_pence",
            r.compensation_max_pence,
            0,
            100_000_000,
        );
        if let Some(days) = r.acknowledgement_days {
            range("acknowledgement_days", days, 1, 90);
        }
        let limits = r.approval_limits_pence;
        for (field, value) in [
            ("handler", limits.handler),
            ("team_manager", limits.team_manager),
            (
                "customer_resolution_manager",
                limits.customer_resolution_manager,
            ),
        ] {
            range(
                &format!("approval_limits_pence.{field}"),
                value,
                0,
                r.compensation_max_pence.max(0),
            );
        }
        let highest = limits
            .handler
            .max(limits.team_manager)
            .max(limits.customer_resolution_manager);
        if r.compensation_max_pence > highest {
            found.problem(
                &format!("{path}.compensation_max_pence"),
                format!(
                    "is {} but the highest approval limit is {}: no one could approve the largest offers",
                    crate::model::Money(r.compensation_max_pence),
                    crate::model::Money(highest)
                ),
            );
        }
        let stages = r.deadlock_stages.numbers();
        if stages.is_empty() {
            found.problem(
                &format!("{path}.deadlock_stages"),
                "must name at least one stage that may issue a deadlock letter",
            );
        }
        if stages.iter().any(|n| !(1..=4).contains(n)) {
            found.problem(
                &format!("{path}.deadlock_stages"),
                "may only name stages 1 to 4 (stage 5 is the ombudsman)",
            );
        }
        if !seen_dates.insert(r.effective_from) {
            found.problem(
                &format!("{path}.effective_from"),
                format!(
                    "two versions of the rules take effect on {}",
                    r.effective_from
                ),
            );
        }
    }

    for problem in p.letters.check(p) {
        found.template_problem(problem);
    }

    if p.categories.is_empty() {
        found.problem("categories", "must list at least one complaint category");
    }
    let mut codes = BTreeSet::new();
    for (i, c) in p.categories.iter().enumerate() {
        let path = format!("categories[{i}]");
        if c.code.is_empty()
            || !c
                .code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit())
        {
            found.problem(
                &format!("{path}.code"),
                format!("'{}' must be snake_case, e.g. billing", c.code),
            );
        }
        if !codes.insert(c.code.as_str()) {
            found.problem(
                &format!("{path}.code"),
                format!("'{}' is listed twice", c.code),
            );
        }
        if is_blank(&c.name) {
            found.problem(&format!("{path}.name"), "must not be empty");
        }
    }
    found.0
}

fn is_blank(s: &str) -> bool {
    s.trim().is_empty()
}

fn looks_like_phone_number(s: &str) -> bool {
    let digits = s.chars().filter(char::is_ascii_digit).count();
    (7..=15).contains(&digits)
        && s.chars()
            .all(|c| c.is_ascii_digit() || c == ' ' || c == '+')
}
