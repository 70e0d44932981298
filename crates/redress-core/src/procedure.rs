//! The procedure file: everything provider-specific, as data (DESIGN.md section 2).
//!
//! A procedure is parsed from TOML and checked as a whole: [`Procedure::from_toml`] returns
//! every problem it finds, each with the field path and the line, rather than stopping at the
//! first. The default procedure (kinex's published code) is compiled into the binary.
//!
//! Clocks and limits live in [`Rules`] versions with an `effective_from` date; a complaint keeps
//! the version in force on the London date it was first received.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Range;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::letters::{LetterKind, LetterTemplate, Letters, TemplateProblem};
use crate::model::{Role, Stage};

/// The default procedure's source text.
pub const DEFAULT_PROCEDURE_TOML: &str = include_str!("../procedure/default.toml");

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

/// Who may read what (`[access]`, optional: the defaults are DESIGN's).
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
}

impl Rules {
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

/// Maps field paths and byte offsets of a TOML source to lines.
struct Source<'a> {
    text: &'a str,
    paths: BTreeMap<String, Range<usize>>,
    /// Where each value starts (for lines inside a multi-line string, e.g. a template).
    values: BTreeMap<String, Range<usize>>,
}

impl<'a> Source<'a> {
    fn line_of(&self, offset: usize) -> usize {
        let offset = offset.min(self.text.len());
        self.text.as_bytes()[..offset]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    }

    /// The line of the longest recorded prefix of `path`.
    fn line_of_path(&self, path: &str) -> Option<usize> {
        let mut candidate = path;
        loop {
            if let Some(span) = self.paths.get(candidate) {
                return Some(self.line_of(span.start));
            }
            let cut = candidate.rfind(['.', '['])?;
            candidate = &candidate[..cut];
        }
    }

    /// The file line of line `within` (1-based) of the string value at `path`: a multi-line
    /// string that opens with a line break starts on the next line.
    fn line_within(&self, path: &str, within: usize) -> Option<usize> {
        let span = self.values.get(path)?;
        let rest = self.text.get(span.start..)?;
        let skip = ["\"\"\"\n", "'''\n", "\"\"\"\r\n", "'''\r\n"]
            .iter()
            .any(|open| rest.starts_with(open));
        Some(self.line_of(span.start) + within.saturating_sub(1) + usize::from(skip))
    }

    fn index(&mut self, prefix: &str, value: &Spanned<DeValue<'_>>) {
        match value.get_ref() {
            DeValue::Table(table) => {
                for (key, child) in table {
                    let path = join(prefix, key.get_ref());
                    self.paths.insert(path.clone(), key.span());
                    self.values.insert(path.clone(), child.span());
                    self.index(&path, child);
                }
            }
            DeValue::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    let path = format!("{prefix}[{i}]");
                    self.paths.insert(path.clone(), child.span());
                    self.index(&path, child);
                }
            }
            _ => {}
        }
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}

/// Collects problems while a procedure is read.
struct Checker<'a> {
    source: Source<'a>,
    problems: Vec<Problem>,
}

impl Checker<'_> {
    /// A template problem, on the template's own line where the template engine knows it.
    fn template_problem(&mut self, problem: TemplateProblem) {
        let line = problem
            .template_line
            .and_then(|within| self.source.line_within(&problem.path, within))
            .or_else(|| self.source.line_of_path(&problem.path));
        self.problems.push(Problem {
            line,
            path: problem.path,
            message: problem.message,
        });
    }

    fn problem(&mut self, path: &str, message: impl Into<String>) {
        let line = self.source.line_of_path(path);
        self.problems.push(Problem {
            line,
            path: path.to_owned(),
            message: message.into(),
        });
    }

    /// Deserialises one value, recording a problem (with the line serde points at) on failure.
    fn read<T: DeserializeOwned>(&mut self, path: &str, value: &Spanned<DeValue<'_>>) -> Option<T> {
        match T::deserialize(toml::de::ValueDeserializer::from(value.clone())) {
            Ok(v) => Some(v),
            Err(error) => {
                let line = error
                    .span()
                    .map(|s| self.source.line_of(s.start))
                    .or_else(|| self.source.line_of_path(path));
                let message = error.message().trim().to_owned();
                self.problems.push(Problem {
                    line,
                    path: path.to_owned(),
                    message,
                });
                None
            }
        }
    }
}

const TOP_LEVEL_KEYS: [&str; 11] = [
    "version",
    "time_zone",
    "reference_prefix",
    "organisation",
    "departments",
    "stages",
    "adr_scheme",
    "rules",
    "categories",
    "letters",
    "access",
];

impl Procedure {
    /// The procedure compiled into the binary: kinex's published complaints code.
    pub fn default_procedure() -> Procedure {
        match Procedure::from_toml(DEFAULT_PROCEDURE_TOML) {
            Ok(procedure) => procedure,
            // The default file is checked by a unit test; reaching this is a build defect.
            Err(errors) => panic!("the built-in default procedure is invalid: {errors}"),
        }
    }

    /// Parses and checks a procedure file, listing every problem found.
    pub fn from_toml(text: &str) -> Result<Procedure, ProcedureErrors> {
        if text.len() > MAX_PROCEDURE_BYTES {
            return Err(ProcedureErrors(vec![Problem {
                line: None,
                path: String::new(),
                message: format!("the file is larger than {MAX_PROCEDURE_BYTES} bytes"),
            }]));
        }
        let (document, syntax) = DeTable::parse_recoverable(text);
        let mut source = Source {
            text,
            paths: BTreeMap::new(),
            values: BTreeMap::new(),
        };
        let root: Spanned<DeValue<'_>> =
            Spanned::new(document.span(), DeValue::Table(document.get_ref().clone()));
        source.index("", &root);
        let mut checker = Checker {
            source,
            problems: Vec::new(),
        };
        for error in &syntax {
            let line = error.span().map(|s| checker.source.line_of(s.start));
            checker.problems.push(Problem {
                line,
                path: String::new(),
                message: error.message().trim().to_owned(),
            });
        }
        if !syntax.is_empty() {
            return Err(ProcedureErrors(checker.problems));
        }
        let table = document.into_inner();
        let parsed = read_sections(&mut checker, &table);
        match parsed {
            Some(procedure) => {
                validate(&mut checker, &procedure);
                if checker.problems.is_empty() {
                    Ok(procedure)
                } else {
                    Err(ProcedureErrors(checker.problems))
                }
            }
            None => Err(ProcedureErrors(checker.problems)),
        }
    }

    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
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
    }
}

fn read_sections(checker: &mut Checker<'_>, table: &DeTable<'_>) -> Option<Procedure> {
    for key in table.keys() {
        if !TOP_LEVEL_KEYS.contains(&key.get_ref().as_ref()) {
            let known = TOP_LEVEL_KEYS.join(", ");
            checker.problem(
                key.get_ref(),
                format!("unknown section; expected one of {known}"),
            );
        }
    }
    let get = |name: &str| table.get(name);

    let mut ok = true;
    let mut required = |checker: &mut Checker<'_>, name: &str| {
        let value = get(name);
        if value.is_none() {
            checker.problem(name, "is missing");
            ok = false;
        }
        value
    };
    let version = required(checker, "version").and_then(|v| checker.read::<String>("version", v));
    let time_zone = match get("time_zone") {
        Some(v) => checker.read::<String>("time_zone", v),
        None => Some("Europe/London".to_owned()),
    };
    let reference_prefix = match get("reference_prefix") {
        Some(v) => checker.read::<String>("reference_prefix", v),
        None => Some("CMP".to_owned()),
    };
    let organisation = required(checker, "organisation")
        .and_then(|v| checker.read::<Organisation>("organisation", v));
    let adr_scheme =
        required(checker, "adr_scheme").and_then(|v| checker.read::<AdrScheme>("adr_scheme", v));

    let departments = required(checker, "departments").and_then(|v| match v.get_ref() {
        DeValue::Table(entries) => {
            let mut out = BTreeMap::new();
            let mut all = true;
            for (key, value) in entries {
                let path = format!("departments.{}", key.get_ref());
                match checker.read::<Department>(&path, value) {
                    Some(d) => {
                        out.insert(key.get_ref().to_string(), d);
                    }
                    None => all = false,
                }
            }
            all.then_some(out)
        }
        _ => {
            checker.problem(
                "departments",
                "must be a table of departments, e.g. [departments.customer_services]",
            );
            None
        }
    });
    let stages = required(checker, "stages")
        .and_then(|v| read_array::<StageDefinition>(checker, "stages", v));
    let rules = required(checker, "rules").and_then(|v| read_array::<Rules>(checker, "rules", v));
    let categories = required(checker, "categories")
        .and_then(|v| read_array::<Category>(checker, "categories", v));
    let letters = required(checker, "letters").and_then(|v| read_letters(checker, v));
    let access = match get("access") {
        Some(v) => checker.read::<Access>("access", v),
        None => Some(Access::default()),
    };

    let tz = match &time_zone {
        Some(name) => match TimeZone::get(name) {
            Ok(tz) => Some(tz),
            Err(_) => {
                checker.problem(
                    "time_zone",
                    format!("'{name}' is not a known time zone (e.g. Europe/London)"),
                );
                None
            }
        },
        None => None,
    };

    if !ok {
        return None;
    }
    let mut rules = rules?;
    rules.sort_by_key(|r| r.effective_from);
    Some(Procedure {
        version: version?,
        time_zone: time_zone?,
        reference_prefix: reference_prefix?,
        organisation: organisation?,
        departments: departments?,
        stages: stages?,
        adr_scheme: adr_scheme?,
        rules,
        categories: categories?,
        letters: letters?,
        access: access?,
        tz: tz?,
    })
}

/// Reads `[letters.<kind>]` tables and compiles their templates.
fn read_letters(checker: &mut Checker<'_>, value: &Spanned<DeValue<'_>>) -> Option<Letters> {
    let DeValue::Table(entries) = value.get_ref() else {
        checker.problem(
            "letters",
            "must be a table of letter templates, e.g. [letters.acknowledgement]",
        );
        return None;
    };
    let mut templates = BTreeMap::new();
    let mut all = true;
    for (key, value) in entries {
        let path = format!("letters.{}", key.get_ref());
        let Some(kind) = LetterKind::parse(key.get_ref()) else {
            let known: Vec<&str> = LetterKind::ALL.iter().map(|k| k.as_str()).collect();
            checker.problem(
                &path,
                format!(
                    "'{}' is not a letter kind; the kinds are {}",
                    key.get_ref(),
                    known.join(", ")
                ),
            );
            all = false;
            continue;
        };
        match checker.read::<LetterTemplate>(&path, value) {
            Some(template) => {
                templates.insert(kind, template);
            }
            None => all = false,
        }
    }
    match Letters::compile(templates) {
        Ok(letters) => all.then_some(letters),
        Err(problems) => {
            for problem in problems {
                checker.template_problem(problem);
            }
            None
        }
    }
}

fn read_array<T: DeserializeOwned>(
    checker: &mut Checker<'_>,
    path: &str,
    value: &Spanned<DeValue<'_>>,
) -> Option<Vec<T>> {
    let DeValue::Array(items) = value.get_ref() else {
        checker.problem(
            path,
            format!("must be an array of tables, written [[{path}]]"),
        );
        return None;
    };
    let mut out = Vec::with_capacity(items.len());
    let mut all = true;
    for (i, item) in items.iter().enumerate() {
        match checker.read::<T>(&format!("{path}[{i}]"), item) {
            Some(v) => out.push(v),
            None => all = false,
        }
    }
    all.then_some(out)
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

fn validate(checker: &mut Checker<'_>, p: &Procedure) {
    if is_blank(&p.version) {
        checker.problem("version", "must name this version of the procedure");
    }
    let prefix_ok = (2..=8).contains(&p.reference_prefix.len())
        && p.reference_prefix.bytes().all(|b| b.is_ascii_uppercase());
    if !prefix_ok {
        checker.problem(
            "reference_prefix",
            "must be 2 to 8 upper-case letters, e.g. CMP",
        );
    }
    if p.access
        .restricted_note_readers
        .iter()
        .any(|r| matches!(r, Role::Customer | Role::System | Role::Handler))
    {
        checker.problem(
            "access.restricted_note_readers",
            "may name team_manager, customer_resolution_manager, compliance or administrator, never handler or customer",
        );
    }
    if is_blank(&p.organisation.name) {
        checker.problem("organisation.name", "must not be empty");
    }
    if p.organisation.address.iter().all(|l| is_blank(l)) {
        checker.problem("organisation.address", "must have at least one line");
    }
    if let Some(t) = &p.organisation.telephone
        && !looks_like_phone_number(t)
    {
        checker.problem(
            "organisation.telephone",
            format!("'{t}' is not a telephone number"),
        );
    }

    if p.departments.is_empty() {
        checker.problem("departments", "must list at least one department");
    }
    for (key, d) in &p.departments {
        let path = format!("departments.{key}");
        if !key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit())
        {
            checker.problem(
                &path,
                "department keys must be snake_case, e.g. customer_services",
            );
        }
        if is_blank(&d.name) {
            checker.problem(&format!("{path}.name"), "must not be empty");
        }
        if d.address.iter().all(|l| is_blank(l)) {
            checker.problem(
                &format!("{path}.address"),
                "must have at least one line (customers may always write)",
            );
        }
        if let Some(t) = &d.telephone
            && !looks_like_phone_number(t)
        {
            checker.problem(
                &format!("{path}.telephone"),
                format!("'{t}' is not a telephone number"),
            );
        }
        if let Some(e) = &d.email
            && !e.contains('@')
        {
            checker.problem(
                &format!("{path}.email"),
                format!("'{e}' is not an email address"),
            );
        }
    }

    let numbers: Vec<u8> = p.stages.iter().map(|s| s.number).collect();
    if numbers != [1, 2, 3, 4, 5] {
        checker.problem(
            "stages",
            format!("must define stages 1 to 5 in order, once each (found {numbers:?})"),
        );
    }
    for (i, stage) in p.stages.iter().enumerate() {
        let path = format!("stages[{i}]");
        if is_blank(&stage.name) {
            checker.problem(&format!("{path}.name"), "must not be empty");
        }
        if !p.departments.contains_key(&stage.department) {
            let known: Vec<&str> = p.departments.keys().map(String::as_str).collect();
            checker.problem(
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
        checker.problem("adr_scheme.name", "must name the ADR scheme");
    }
    if a.address.iter().all(|l| is_blank(l)) {
        checker.problem("adr_scheme.address", "must have at least one line");
    }
    if !looks_like_phone_number(&a.telephone) {
        checker.problem(
            "adr_scheme.telephone",
            format!("'{}' is not a telephone number", a.telephone),
        );
    }
    for (field, value) in [("facsimile", &a.facsimile), ("textphone", &a.textphone)] {
        if let Some(v) = value
            && !looks_like_phone_number(v)
        {
            checker.problem(
                &format!("adr_scheme.{field}"),
                format!("'{v}' is not a telephone number"),
            );
        }
    }
    if a.award_limit_pence <= 0 {
        checker.problem("adr_scheme.award_limit_pence", "must be more than zero");
    }

    if p.rules.is_empty() {
        checker.problem("rules", "must have at least one version of the rules");
    }
    let mut seen_dates = BTreeSet::new();
    for (i, r) in p.rules.iter().enumerate() {
        let path = format!("rules[{i}]");
        let mut range = |field: &str, value: i64, lo: i64, hi: i64| {
            if !(lo..=hi).contains(&value) {
                checker.problem(
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
            checker.problem(
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
            checker.problem(
                &format!("{path}.deadlock_stages"),
                "must name at least one stage that may issue a deadlock letter",
            );
        }
        if stages.iter().any(|n| !(1..=4).contains(n)) {
            checker.problem(
                &format!("{path}.deadlock_stages"),
                "may only name stages 1 to 4 (stage 5 is the ombudsman)",
            );
        }
        if !seen_dates.insert(r.effective_from) {
            checker.problem(
                &format!("{path}.effective_from"),
                format!(
                    "two versions of the rules take effect on {}",
                    r.effective_from
                ),
            );
        }
    }

    for problem in p.letters.check(p) {
        checker.template_problem(problem);
    }

    if p.categories.is_empty() {
        checker.problem("categories", "must list at least one complaint category");
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
            checker.problem(
                &format!("{path}.code"),
                format!("'{}' must be snake_case, e.g. billing", c.code),
            );
        }
        if !codes.insert(c.code.as_str()) {
            checker.problem(
                &format!("{path}.code"),
                format!("'{}' is listed twice", c.code),
            );
        }
        if is_blank(&c.name) {
            checker.problem(&format!("{path}.name"), "must not be empty");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn the_default_procedure_reproduces_the_seed() {
        let p = Procedure::default_procedure();
        assert_eq!(p.organisation.name, "kinex");
        assert_eq!(
            p.organisation.address,
            ["Longley House", "Longley Lane", "Manchester", "M22 4SY"]
        );
        let dept = |stage: u8| {
            p.department(p.department_of(Stage::new(stage).unwrap()))
                .unwrap()
        };
        assert_eq!(dept(1).name, "Customer Services");
        assert_eq!(dept(1).telephone.as_deref(), Some("0161 465 6655"));
        assert_eq!(dept(2).name, "The Escalation Team");
        assert_eq!(dept(2).telephone.as_deref(), Some("0161 465 6655"));
        assert_eq!(dept(3).name, "The Customer Resolution Department");
        assert_eq!(dept(3).telephone.as_deref(), Some("0161 465 6600"));
        assert_eq!(dept(4).name, "The Customer Resolution Manager");
        assert_eq!(
            dept(4).telephone,
            None,
            "the seed says to write to the manager"
        );
        assert!(dept(4).address.iter().any(|l| l == "M22 4SY"));
        let r = p.rules_for(date(2026, 11, 24));
        assert_eq!(r.formal_response_days, 28);
        assert_eq!(r.adr_after_weeks, 8);
        assert_eq!(r.adr_referral_window_months, 12);
        assert_eq!(r.deadlock_stages.numbers(), [3, 4]);
        let a = &p.adr_scheme;
        assert_eq!(a.name, "Ombudsman Services: Communications");
        assert_eq!(
            a.address,
            ["Ombudsman Services: Communications", "PO Box 730"]
        );
        assert_eq!(a.telephone, "0330 440 1614");
        assert_eq!(a.facsimile.as_deref(), Some("0330 440 1615"));
        assert_eq!(a.textphone.as_deref(), Some("0330 440 1600"));
        assert!(p.category("mis_selling").is_some());
        assert!(p.category("unauthorised_transfer").is_some());
    }

    #[test]
    fn rules_are_chosen_by_the_date_first_received() {
        let text = DEFAULT_PROCEDURE_TOML.to_owned()
            + "\n[[rules]]\neffective_from = \"2027-04-01\"\nformal_response_days = 28\nadr_after_weeks = 6\n\
               adr_referral_window_months = 12\nremedy_days = 28\ndeadlock_stages = [3, 4]\nevidence_max_days = 90\n\
               compensation_max_pence = 250000\nretention_months = 15\n\
               approval_limits_pence = { handler = 10000, team_manager = 50000, customer_resolution_manager = 250000 }\n";
        let p = Procedure::from_toml(&text).unwrap();
        assert_eq!(p.rules_for(date(2027, 3, 31)).adr_after_weeks, 8);
        assert_eq!(p.rules_for(date(2027, 4, 1)).adr_after_weeks, 6);
        assert_eq!(p.rules_for(date(2010, 1, 1)).adr_after_weeks, 8);
    }

    #[test]
    fn every_problem_is_listed_with_its_path_and_line() {
        let text = DEFAULT_PROCEDURE_TOML
            .replace(
                "department = \"escalation_team\"",
                "department = \"escalations\"",
            )
            .replace("telephone = \"0330 440 1614\"", "telephone = \"call us\"")
            .replace("deadlock_stages = [3, 4]", "deadlock_stages = [5]")
            .replace("formal_response_days = 28", "formal_response_days = 0");
        let errors = Procedure::from_toml(&text).unwrap_err().0;
        let paths: Vec<&str> = errors.iter().map(|p| p.path.as_str()).collect();
        assert!(paths.contains(&"stages[1].department"), "{errors:?}");
        assert!(paths.contains(&"adr_scheme.telephone"), "{errors:?}");
        assert!(paths.contains(&"rules[0].deadlock_stages"), "{errors:?}");
        assert!(
            paths.contains(&"rules[0].formal_response_days"),
            "{errors:?}"
        );
        let line_of = |needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() + 1;
        let stage = errors
            .iter()
            .find(|p| p.path == "stages[1].department")
            .unwrap();
        assert_eq!(stage.line, Some(line_of("department = \"escalations\"")));
        assert!(stage.message.contains("'escalations' is not a department"));
    }

    #[test]
    fn type_errors_in_several_sections_are_all_reported() {
        let text = DEFAULT_PROCEDURE_TOML
            .replace(
                "award_limit_pence = 1000000",
                "award_limit_pence = \"lots\"",
            )
            .replace("code = \"other\"", "code = 7")
            .replace("remedy_days = 28", "remedy_days = 28\nsurprise = true");
        let errors = Procedure::from_toml(&text).unwrap_err().0;
        assert!(errors.len() >= 3, "{errors:?}");
        let surprise = errors
            .iter()
            .find(|p| p.message.contains("surprise"))
            .unwrap();
        assert_eq!(
            surprise.line,
            Some(text.lines().position(|l| l == "surprise = true").unwrap() + 1)
        );
        assert!(errors.iter().any(|p| p.path == "adr_scheme"), "{errors:?}");
        assert!(
            errors.iter().any(|p| p.path.starts_with("categories[")),
            "{errors:?}"
        );
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let errors = Procedure::from_toml("version = \"x\"\n\n[organisation\n")
            .unwrap_err()
            .0;
        assert_eq!(errors[0].line, Some(3), "{errors:?}");
    }

    #[test]
    fn missing_sections_and_unknown_sections_are_named() {
        let errors = Procedure::from_toml("version = \"x\"\nextra = 1\n")
            .unwrap_err()
            .0;
        let paths: Vec<&str> = errors.iter().map(|p| p.path.as_str()).collect();
        for section in [
            "organisation",
            "departments",
            "stages",
            "adr_scheme",
            "rules",
            "categories",
            "letters",
            "extra",
        ] {
            assert!(paths.contains(&section), "{section} not in {paths:?}");
        }
    }

    /// The default procedure with the ADR notice's body replaced.
    fn with_adr_notice_body(body: &str) -> String {
        let start = DEFAULT_PROCEDURE_TOML
            .find("[letters.adr_notice]")
            .expect("an adr_notice letter");
        let next = start
            + DEFAULT_PROCEDURE_TOML[start..]
                .find("[letters.deadlock_letter]")
                .expect("the next letter");
        format!(
            "{}[letters.adr_notice]\nsubject = \"ADR\"\nbody = \"\"\"\n{body}\n\"\"\"\n\n{}",
            &DEFAULT_PROCEDURE_TOML[..start],
            &DEFAULT_PROCEDURE_TOML[next..]
        )
    }

    #[test]
    fn an_adr_letter_without_the_ombudsmans_details_is_refused_at_its_line() {
        let text = with_adr_notice_body(
            "Dear {{ customer.name }},\nYour complaint {{ reference }} may go to {{ adr.name }} within {{ adr.referral_window_months }} months.",
        );
        let errors = Procedure::from_toml(&text).unwrap_err().0;
        let problem = errors
            .iter()
            .find(|p| p.path == "letters.adr_notice.body")
            .unwrap_or_else(|| panic!("{errors:?}"));
        // The line of `body = """`, just after `subject = "ADR"`.
        let subject = text.lines().position(|l| l == "subject = \"ADR\"").unwrap() + 1;
        assert_eq!(problem.line, Some(subject + 1), "{problem}");
        for missing in ["telephone", "facsimile", "textphone", "PO Box 730"] {
            assert!(problem.message.contains(missing), "{missing}: {problem}");
        }
        assert!(!problem.message.contains("the reference"), "{problem}");
    }

    #[test]
    fn an_adr_letter_must_give_the_referral_window_of_every_rules_version() {
        let text = DEFAULT_PROCEDURE_TOML.replacen(
            "You have {{ adr.referral_window_months }} months",
            "You have 12 months",
            1,
        ) + "\n[[rules]]\neffective_from = \"2027-04-01\"\nformal_response_days = 28\nadr_after_weeks = 6\n\
               adr_referral_window_months = 6\nremedy_days = 28\ndeadlock_stages = [3, 4]\nevidence_max_days = 90\n\
               compensation_max_pence = 250000\nretention_months = 15\n\
               approval_limits_pence = { handler = 10000, team_manager = 50000, customer_resolution_manager = 250000 }\n";
        let errors = Procedure::from_toml(&text).unwrap_err().0;
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].path, "letters.adr_notice.body");
        assert!(errors[0].message.contains("\"6 months\""), "{errors:?}");
    }

    #[test]
    fn letter_templates_are_checked_for_errors_missing_kinds_and_unknown_names() {
        let text = DEFAULT_PROCEDURE_TOML
            .replacen(
                "[letters.compensation_offer]",
                "[letters.compensation_offers]",
                1,
            )
            .replacen(
                "Thank you for your patience while we looked into",
                "Thank you {{ customer.nmae }} for your patience while we looked into",
                1,
            )
            .replacen(
                "To help us investigate your complaint",
                "To help us {% if %} investigate",
                1,
            );
        let errors = Procedure::from_toml(&text).unwrap_err().0;
        let paths: Vec<&str> = errors.iter().map(|p| p.path.as_str()).collect();
        assert!(paths.contains(&"letters.compensation_offers"), "{errors:?}");
        assert!(
            paths.contains(&"letters.evidence_request.body"),
            "{errors:?}"
        );
        let compile = errors
            .iter()
            .find(|p| p.path == "letters.evidence_request.body")
            .unwrap();
        let line = text
            .lines()
            .position(|l| l.contains("To help us {% if %}"))
            .unwrap()
            + 1;
        assert_eq!(compile.line, Some(line), "{compile}");
        // With one kind unreadable the letters are not compiled, so the rest are checked on a
        // second pass once it is fixed.
        let fixed = text.replacen(
            "To help us {% if %} investigate",
            "To help us investigate",
            1,
        );
        let errors = Procedure::from_toml(&fixed).unwrap_err().0;
        let paths: Vec<&str> = errors.iter().map(|p| p.path.as_str()).collect();
        assert!(paths.contains(&"letters.compensation_offers"), "{errors:?}");
        let fixed = fixed.replacen(
            "[letters.compensation_offers]",
            "[letters.compensation_offer]",
            1,
        );
        let errors = Procedure::from_toml(&fixed).unwrap_err().0;
        let typo = errors
            .iter()
            .find(|p| p.path == "letters.resolution_offer.body")
            .unwrap_or_else(|| panic!("{errors:?}"));
        assert!(typo.message.contains("undefined"), "{typo}");
        let without =
            DEFAULT_PROCEDURE_TOML.replacen("[letters.compensation_offer]", "[letters.unused]", 1);
        let errors = Procedure::from_toml(&without).unwrap_err().0;
        assert!(
            errors.iter().any(|p| p.path == "letters.unused"),
            "{errors:?}"
        );
    }

    #[test]
    fn every_letter_kind_is_missing_from_a_procedure_without_letters_but_one() {
        let start = DEFAULT_PROCEDURE_TOML
            .find("[letters.acknowledgement]")
            .unwrap();
        let only_one = &DEFAULT_PROCEDURE_TOML[..start];
        let text = format!("{only_one}[letters.acknowledgement]\nsubject = \"a\"\nbody = \"b\"\n");
        let errors = Procedure::from_toml(&text).unwrap_err().0;
        let paths: Vec<&str> = errors.iter().map(|p| p.path.as_str()).collect();
        for kind in crate::letters::LetterKind::ALL.iter().skip(1) {
            assert!(
                paths.contains(&format!("letters.{kind}").as_str()),
                "{kind}: {paths:?}"
            );
        }
        assert!(!paths.contains(&"letters.acknowledgement"), "{paths:?}");
    }

    #[test]
    fn stage_sets_read_in_words() {
        assert_eq!(StageSet::from(vec![3, 4]).in_words(), "stage 3 or 4");
        assert_eq!(StageSet::from(vec![2, 3, 4]).in_words(), "stage 2, 3 or 4");
        assert_eq!(StageSet::from(vec![4]).in_words(), "stage 4");
    }
}
