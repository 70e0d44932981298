//! Reading a procedure file: TOML read section by section so every problem is reported, with
//! the field path and the line it is on (a template's problem on the template's own line).
//!
//! A section that cannot be read is reported and the rest are still read; only once every
//! section reads is the procedure checked as a whole (`validate.rs`).

use std::collections::BTreeMap;
use std::ops::Range;

use jiff::tz::TimeZone;
use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::letters::{LetterKind, LetterTemplate, Letters, TemplateProblem};

use super::validate::{Finding, validate};
use super::{
    Access, Acknowledgement, AdrScheme, Category, Department, MAX_PROCEDURE_BYTES, Organisation,
    Problem, Procedure, ProcedureErrors, Rules, StageDefinition,
};

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
    /// Letter kinds the file has no template for, given the built-in wording.
    defaulted_letters: Vec<LetterKind>,
}

impl Checker<'_> {
    /// A template problem, on the template's own line where the template engine knows it.
    fn template_problem(&mut self, problem: TemplateProblem) {
        self.place(Finding {
            path: problem.path,
            within: problem.template_line,
            message: problem.message,
        });
    }

    /// A problem found by path: on the line inside the value where that is known (a
    /// template's own line), else on the line of the path's key.
    fn place(&mut self, finding: Finding) {
        let line = finding
            .within
            .and_then(|within| self.source.line_within(&finding.path, within))
            .or_else(|| self.source.line_of_path(&finding.path));
        self.problems.push(Problem {
            line,
            path: finding.path,
            message: finding.message,
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

const TOP_LEVEL_KEYS: [&str; 14] = [
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
    "acknowledgement",
    "automatic_compensation",
    "bank_holidays",
];

impl Procedure {
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
            defaulted_letters: Vec::new(),
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
                for finding in validate(&procedure) {
                    checker.place(finding);
                }
                if checker.problems.is_empty() {
                    Ok(procedure)
                } else {
                    Err(ProcedureErrors(checker.problems))
                }
            }
            None => Err(ProcedureErrors(checker.problems)),
        }
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
    let acknowledgement = match get("acknowledgement") {
        Some(v) => checker.read::<Acknowledgement>("acknowledgement", v),
        None => Some(Acknowledgement::default()),
    };

    let automatic_compensation = match get("automatic_compensation") {
        Some(v) => read_array::<crate::automatic::Rates>(checker, "automatic_compensation", v),
        None => Some(crate::automatic::built_in_rates()),
    };
    let bank_holidays = match get("bank_holidays") {
        Some(v) => read_array::<crate::holidays::ExtraHoliday>(checker, "bank_holidays", v),
        None => Some(Vec::new()),
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
        acknowledgement: acknowledgement?,
        automatic_compensation: {
            let mut rates = automatic_compensation?;
            rates.sort_by_key(|r| r.effective_from);
            rates
        },
        bank_holidays: bank_holidays?,
        defaulted_letters: checker.defaulted_letters.clone(),
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
    // Letters newer than the file: the built-in wording, said so by `Procedure::warnings`.
    for kind in LetterKind::ALL {
        if let (false, Some(template)) = (
            templates.contains_key(&kind),
            crate::letters::built_in_template(kind),
        ) {
            templates.insert(kind, template);
            checker.defaulted_letters.push(kind);
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
