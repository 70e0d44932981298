//! Letters: what Redress writes to a customer (and, for evidence, to a third party), as
//! templates in the procedure file so each provider words its own letters.
//!
//! Each letter kind has a `[letters.<kind>]` table with a `subject` and a `body`, written in
//! minijinja (Jinja2) syntax. Templates produce plain text: the mail shell prints it on a PDF,
//! sends it as the text part of an email, and escapes it into the HTML part (nothing a template
//! or a value writes is ever taken as markup). `{{ none }}` prints nothing, so an optional
//! field can be printed bare or guarded with `{% if field %}`.
//!
//! [`Letters::check`] compiles every template and renders it with a sample [`LetterContext`]:
//! a template naming a variable that does not exist is refused, and the ADR letters
//! (`adr_notice`, `deadlock_letter`) must print the reference and the ombudsman's name,
//! address, telephone, facsimile, textphone and the referral window in months (Ofcom GC C4).
//! Rendering is pure: no I/O, no clock; the shell builds the context.

use std::collections::BTreeMap;
use std::fmt;

use minijinja::value::{Serde, Value};
use minijinja::{Environment, UndefinedBehavior};
use serde::{Deserialize, Serialize};

use crate::model::{Reference, Stage};
use crate::procedure::Procedure;

/// Every kind of letter, by its snake_case name (the outbox's `kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LetterKind {
    Acknowledgement,
    ResolutionOffer,
    EscalationAcknowledgement,
    TransferNotice,
    EvidenceRequest,
    FormalResponse,
    ManagerReviewOutcome,
    AdrNotice,
    DeadlockLetter,
    CompensationOffer,
    RemedyConfirmation,
}

impl LetterKind {
    /// Every kind, in the order of the ladder.
    pub const ALL: [LetterKind; 11] = [
        LetterKind::Acknowledgement,
        LetterKind::ResolutionOffer,
        LetterKind::EscalationAcknowledgement,
        LetterKind::TransferNotice,
        LetterKind::EvidenceRequest,
        LetterKind::FormalResponse,
        LetterKind::ManagerReviewOutcome,
        LetterKind::AdrNotice,
        LetterKind::DeadlockLetter,
        LetterKind::CompensationOffer,
        LetterKind::RemedyConfirmation,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LetterKind::Acknowledgement => "acknowledgement",
            LetterKind::ResolutionOffer => "resolution_offer",
            LetterKind::EscalationAcknowledgement => "escalation_acknowledgement",
            LetterKind::TransferNotice => "transfer_notice",
            LetterKind::EvidenceRequest => "evidence_request",
            LetterKind::FormalResponse => "formal_response",
            LetterKind::ManagerReviewOutcome => "manager_review_outcome",
            LetterKind::AdrNotice => "adr_notice",
            LetterKind::DeadlockLetter => "deadlock_letter",
            LetterKind::CompensationOffer => "compensation_offer",
            LetterKind::RemedyConfirmation => "remedy_confirmation",
        }
    }

    pub fn parse(name: &str) -> Option<LetterKind> {
        LetterKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// The ADR letters (the 8-week notice and the deadlock letter): Ofcom requires them to
    /// give the ombudsman's details and the time the customer has to go there.
    pub fn is_adr_letter(self) -> bool {
        matches!(self, LetterKind::AdrNotice | LetterKind::DeadlockLetter)
    }

    /// The stage a letter of this kind is usually written at (for the sample context).
    fn sample_stage(self) -> u8 {
        match self {
            LetterKind::Acknowledgement | LetterKind::ResolutionOffer | LetterKind::AdrNotice => 1,
            LetterKind::EscalationAcknowledgement => 2,
            LetterKind::TransferNotice
            | LetterKind::EvidenceRequest
            | LetterKind::FormalResponse
            | LetterKind::DeadlockLetter
            | LetterKind::CompensationOffer => 3,
            LetterKind::ManagerReviewOutcome => 4,
            LetterKind::RemedyConfirmation => 5,
        }
    }
}

impl fmt::Display for LetterKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who a letter is written to. Only `evidence_request` has a third-party variant.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum Recipient {
    #[default]
    Customer,
    ThirdParty,
}

impl Recipient {
    pub fn as_str(self) -> &'static str {
        match self {
            Recipient::Customer => "customer",
            Recipient::ThirdParty => "third_party",
        }
    }
}

/// One letter's templates, as written in the procedure file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LetterTemplate {
    /// The email subject and the PDF's heading (one line).
    pub subject: String,
    /// The letter's text, after the salutation-free address block: paragraphs separated by
    /// blank lines.
    pub body: String,
    /// The variant written to a third party (`[letters.evidence_request.third_party]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub third_party: Option<Box<LetterTemplate>>,
}

/// The letter templates of a procedure, compiled.
#[derive(Clone)]
pub struct Letters {
    templates: BTreeMap<LetterKind, LetterTemplate>,
    env: Environment<'static>,
}

impl fmt::Debug for Letters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.templates.iter()).finish()
    }
}

impl Serialize for Letters {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let by_name: BTreeMap<&str, &LetterTemplate> = self
            .templates
            .iter()
            .map(|(k, t)| (k.as_str(), t))
            .collect();
        by_name.serialize(serializer)
    }
}

/// A letter rendered from its templates: a one-line subject and a plain-text body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedLetter {
    pub subject: String,
    pub body: String,
}

/// Why a letter could not be rendered (a template fault the procedure check would have found,
/// or a letter kind the procedure lacks).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("letter {kind} ({part}): {message}")]
pub struct LetterError {
    pub kind: String,
    pub part: String,
    /// The line within the template, where known.
    pub line: Option<usize>,
    pub message: String,
}

/// A problem with one template, placed by its field path (`letters.adr_notice.body`) and the
/// line within the template where the template engine can say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateProblem {
    pub path: String,
    pub template_line: Option<usize>,
    pub message: String,
}

fn template_name(kind: LetterKind, recipient: Recipient, part: &str) -> String {
    match recipient {
        Recipient::Customer => format!("letters.{}.{part}", kind.as_str()),
        Recipient::ThirdParty => format!("letters.{}.third_party.{part}", kind.as_str()),
    }
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    // Plain text: nothing is escaped here; the HTML email escapes the whole text.
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    // A misspelt variable is an error, found by the procedure check; `{% if x %}` still works.
    env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
    // `none` prints as nothing, so optional fields can be printed bare.
    env.set_formatter(|out, state, value| {
        minijinja::escape_formatter(
            out,
            state,
            if value.is_none() {
                &Value::UNDEFINED
            } else {
                value
            },
        )
    });
    if let Ok(syntax) = minijinja::syntax::SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .build()
    {
        env.set_syntax(syntax);
    }
    env
}

fn describe(error: &minijinja::Error) -> String {
    let mut message = error.kind().to_string();
    if let Some(detail) = error.detail() {
        message = format!("{message}: {detail}");
    }
    message
}

impl Letters {
    /// Compiles the templates as read from a procedure file. Every compile error is returned,
    /// placed by field path; a kind missing from `templates` is not an error here (see
    /// [`Letters::check`]).
    pub fn compile(
        templates: BTreeMap<LetterKind, LetterTemplate>,
    ) -> Result<Letters, Vec<TemplateProblem>> {
        let mut env = environment();
        let mut problems = Vec::new();
        for (kind, template) in &templates {
            let mut parts = vec![(Recipient::Customer, template)];
            if let Some(third) = &template.third_party {
                parts.push((Recipient::ThirdParty, third));
            }
            for (recipient, t) in parts {
                for (part, source) in [("subject", &t.subject), ("body", &t.body)] {
                    let name = template_name(*kind, recipient, part);
                    if let Err(error) = env.add_template_owned(name.clone(), source.clone()) {
                        problems.push(TemplateProblem {
                            path: name,
                            template_line: error.line(),
                            message: format!("the template does not compile: {}", describe(&error)),
                        });
                    }
                }
            }
        }
        if problems.is_empty() {
            Ok(Letters { templates, env })
        } else {
            Err(problems)
        }
    }

    pub fn template(&self, kind: LetterKind) -> Option<&LetterTemplate> {
        self.templates.get(&kind)
    }

    /// Renders a letter. The subject is one line (line breaks become spaces); the body keeps
    /// its paragraphs, trimmed, with runs of blank lines closed up to one.
    pub fn render(
        &self,
        kind: LetterKind,
        recipient: Recipient,
        context: &LetterContext,
    ) -> Result<RenderedLetter, LetterError> {
        let value = Value::from(Serde(context));
        let run = |part: &str| -> Result<String, LetterError> {
            let name = template_name(kind, recipient, part);
            let template = self.env.get_template(&name).map_err(|_| LetterError {
                kind: kind.as_str().to_owned(),
                part: part.to_owned(),
                line: None,
                message: match recipient {
                    Recipient::Customer => "the procedure has no such letter".to_owned(),
                    Recipient::ThirdParty => {
                        "the procedure has no third-party variant of this letter".to_owned()
                    }
                },
            })?;
            template.render(value.clone()).map_err(|error| LetterError {
                kind: kind.as_str().to_owned(),
                part: part.to_owned(),
                line: error.line(),
                message: describe(&error),
            })
        };
        let subject = run("subject")?
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let body = tidy(&run("body")?);
        Ok(RenderedLetter { subject, body })
    }

    /// Checks the letters against a procedure: every kind present (and the third-party
    /// variant of `evidence_request`, and no other), every template renders with a sample
    /// complaint, and the ADR letters carry what Ofcom requires.
    pub fn check(&self, procedure: &Procedure) -> Vec<TemplateProblem> {
        let mut problems = Vec::new();
        let problem = |path: String, message: String| TemplateProblem {
            path,
            template_line: None,
            message,
        };
        for kind in LetterKind::ALL {
            let Some(template) = self.templates.get(&kind) else {
                problems.push(problem(
                    format!("letters.{kind}"),
                    format!(
                        "is missing: every letter needs a template ([letters.{kind}] with subject and body)"
                    ),
                ));
                continue;
            };
            let mut recipients = vec![Recipient::Customer];
            match (kind, &template.third_party) {
                (LetterKind::EvidenceRequest, Some(_)) => recipients.push(Recipient::ThirdParty),
                (LetterKind::EvidenceRequest, None) => problems.push(problem(
                    format!("letters.{kind}.third_party"),
                    "is missing: evidence may be requested from a third party, so this letter needs a third-party variant ([letters.evidence_request.third_party])".to_owned(),
                )),
                (_, Some(_)) => problems.push(problem(
                    format!("letters.{kind}.third_party"),
                    "only evidence_request has a third-party variant".to_owned(),
                )),
                (_, None) => {}
            }
            for recipient in recipients {
                self.check_one(procedure, kind, recipient, &mut problems);
            }
        }
        problems
    }

    fn check_one(
        &self,
        procedure: &Procedure,
        kind: LetterKind,
        recipient: Recipient,
        problems: &mut Vec<TemplateProblem>,
    ) {
        // One sample per version of the rules (the referral window may differ), each with every
        // optional field filled and with none filled.
        for rules in &procedure.rules {
            for filled in [true, false] {
                let context = LetterContext::sample(procedure, kind, rules, filled);
                let rendered = match self.render(kind, recipient, &context) {
                    Ok(r) => r,
                    Err(error) => {
                        let path = template_name(kind, recipient, &error.part);
                        if !problems.iter().any(|p| p.path == path) {
                            problems.push(TemplateProblem {
                                path,
                                template_line: error.line,
                                message: format!(
                                    "the template cannot be rendered with a sample complaint: {}",
                                    error.message
                                ),
                            });
                        }
                        return;
                    }
                };
                if kind.is_adr_letter() && recipient == Recipient::Customer {
                    let missing = adr_missing(&rendered.body, &context);
                    if !missing.is_empty() {
                        let path = template_name(kind, recipient, "body");
                        problems.push(TemplateProblem {
                            path,
                            template_line: None,
                            message: format!(
                                "an ADR letter must give the complaint's reference and the ombudsman's name, address, telephone, facsimile, textphone and the referral window in months; rendered with a sample complaint{} it leaves out {}",
                                if filled { "" } else { " (optional fields empty)" },
                                missing.join(", ")
                            ),
                        });
                        return;
                    }
                }
            }
        }
    }
}

/// What an ADR letter's body leaves out of what it must say.
fn adr_missing(body: &str, context: &LetterContext) -> Vec<String> {
    let adr = &context.adr;
    let mut required: Vec<(String, String)> = vec![
        ("the reference".to_owned(), context.reference.clone()),
        ("the ombudsman's name".to_owned(), adr.name.clone()),
    ];
    for line in adr.address.iter().filter(|l| !l.trim().is_empty()) {
        required.push(("the ombudsman's address".to_owned(), line.clone()));
    }
    required.push((
        "the ombudsman's telephone".to_owned(),
        adr.telephone.clone(),
    ));
    if let Some(fax) = &adr.facsimile {
        required.push(("the ombudsman's facsimile".to_owned(), fax.clone()));
    }
    if let Some(textphone) = &adr.textphone {
        required.push(("the ombudsman's textphone".to_owned(), textphone.clone()));
    }
    required.push((
        "the referral window".to_owned(),
        format!("{} months", adr.referral_window_months),
    ));
    // Line breaks inside a value (a wrapped address) count as spaces.
    let flat = body.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut missing: Vec<String> = Vec::new();
    for (what, value) in required {
        let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
        if !flat.contains(&value) {
            let item = format!("{what} (\"{value}\")");
            if !missing.contains(&item) {
                missing.push(item);
            }
        }
    }
    missing
}

/// Trims each line's end and the whole text, and closes runs of blank lines up to one.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank_run = 0;
    for line in text.trim().lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank_run += 1;
            if blank_run > 1 {
                continue;
            }
        } else {
            blank_run = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim_end().to_owned()
}

/// A department as a letter names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DepartmentContext {
    pub name: String,
    pub telephone: Option<String>,
    pub telephone_note: Option<String>,
    pub email: Option<String>,
    pub address: Vec<String>,
}

impl DepartmentContext {
    pub fn of(department: &crate::procedure::Department) -> DepartmentContext {
        DepartmentContext {
            name: department.name.clone(),
            telephone: department.telephone.clone(),
            telephone_note: department.telephone_note.clone(),
            email: department.email.clone(),
            address: department.address.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrganisationContext {
    pub name: String,
    pub address: Vec<String>,
    pub telephone: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustomerContext {
    pub name: String,
    pub account: String,
    /// Postal address lines, the postcode last.
    pub address: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StageContext {
    pub number: u8,
    pub name: String,
}

/// The ADR scheme and the customer's time to go to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdrContext {
    pub name: String,
    pub description: Option<String>,
    pub address: Vec<String>,
    pub telephone: String,
    pub facsimile: Option<String>,
    pub textphone: Option<String>,
    pub website: Option<String>,
    /// Weeks after first receipt at which the customer may go to the scheme (8 by default).
    pub after_weeks: i64,
    /// The date those weeks pass, in words.
    pub eligible_from: String,
    /// Months after an ADR letter within which the customer may go to the scheme.
    pub referral_window_months: i64,
    /// The last day to go to the scheme, in words, for an ADR letter.
    pub referral_window_ends: Option<String>,
}

/// Everything a letter template can print. Dates are in words ("7 April 2026"), amounts in
/// pounds ("£25.00"). Fields that only some letters have are `none` (printed as nothing)
/// elsewhere.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LetterContext {
    pub reference: String,
    /// The letter's date.
    pub date: String,
    pub organisation: OrganisationContext,
    pub customer: CustomerContext,
    /// The department writing: the owner of the complaint's stage when the letter was caused.
    pub department: DepartmentContext,
    /// Every department, by its key in the procedure (`departments.escalation_team.telephone`).
    pub departments: BTreeMap<String, DepartmentContext>,
    pub stage: StageContext,
    /// When the complaint was first received.
    pub received_on: String,
    pub summary: String,
    pub adr: AdrContext,
    /// The words of the event: the resolution offered, the formal response, the review's
    /// outcome, the deadlock letter's text, a compensation offer's reason.
    pub text: Option<String>,
    /// What evidence is asked for.
    pub description: Option<String>,
    /// The last day for what the letter asks or promises (evidence, the formal response).
    pub due_by: Option<String>,
    /// A compensation offer.
    pub amount: Option<String>,
    /// The ombudsman's decision: "upheld", "partly upheld" or "not upheld".
    pub outcome: Option<String>,
    pub remedy: Option<String>,
    /// The ombudsman's financial award.
    pub award: Option<String>,
    pub remedy_due_by: Option<String>,
    /// Whether the remedy has been carried out (the confirmation after it), or is promised.
    pub remedy_completed: bool,
}

impl LetterContext {
    /// A plausible complaint for checking templates: every field filled (`filled`), or only
    /// those every letter has.
    pub fn sample(
        procedure: &Procedure,
        kind: LetterKind,
        rules: &crate::procedure::Rules,
        filled: bool,
    ) -> LetterContext {
        let stage = Stage::new(kind.sample_stage()).unwrap_or(Stage::CUSTOMER_SERVICES);
        let definition = procedure.stage(stage);
        let department = procedure
            .department(&definition.department)
            .map(DepartmentContext::of)
            .unwrap_or_else(|| DepartmentContext {
                name: definition.department.clone(),
                telephone: None,
                telephone_note: None,
                email: None,
                address: Vec::new(),
            });
        let some = |s: &str| filled.then(|| s.to_owned());
        let a = &procedure.adr_scheme;
        LetterContext {
            reference: Reference::new(&procedure.reference_prefix, 2026, 4711).to_string(),
            date: "4 May 2026".to_owned(),
            organisation: OrganisationContext {
                name: procedure.organisation.name.clone(),
                address: procedure.organisation.address.clone(),
                telephone: procedure.organisation.telephone.clone(),
                email: procedure.organisation.email.clone(),
            },
            customer: CustomerContext {
                name: "Ann Example".to_owned(),
                account: "KX-000001".to_owned(),
                address: vec![
                    "1 Sample Street".to_owned(),
                    "Manchester".to_owned(),
                    "M1 1AA".to_owned(),
                ],
            },
            department,
            departments: procedure
                .departments
                .iter()
                .map(|(k, d)| (k.clone(), DepartmentContext::of(d)))
                .collect(),
            stage: StageContext {
                number: stage.number(),
                name: definition.name.clone(),
            },
            received_on: "2 March 2026".to_owned(),
            summary: "Broadband drops every evening".to_owned(),
            adr: AdrContext {
                name: a.name.clone(),
                description: a.description.clone(),
                address: a.address.clone(),
                telephone: a.telephone.clone(),
                facsimile: a.facsimile.clone(),
                textphone: a.textphone.clone(),
                website: a.website.clone(),
                after_weeks: rules.adr_after_weeks,
                eligible_from: "27 April 2026".to_owned(),
                referral_window_months: rules.adr_referral_window_months,
                referral_window_ends: some("4 May 2027"),
            },
            text: some("We will credit your account with one month's line rental."),
            description: some("Your bills for January and February"),
            due_by: some("1 June 2026"),
            amount: some("£25.00"),
            outcome: some("upheld"),
            remedy: some("An apology and a credit of £50.00"),
            award: some("£50.00"),
            remedy_due_by: some("1 June 2026"),
            remedy_completed: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn letters(body: &str) -> Result<Letters, Vec<TemplateProblem>> {
        let mut map = BTreeMap::new();
        map.insert(
            LetterKind::Acknowledgement,
            LetterTemplate {
                subject: "Your complaint {{ reference }}\nsecond line".to_owned(),
                body: body.to_owned(),
                third_party: None,
            },
        );
        Letters::compile(map)
    }

    #[test]
    fn kinds_have_snake_case_names() {
        for kind in LetterKind::ALL {
            assert_eq!(LetterKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(LetterKind::parse("sign_in_link"), None);
    }

    #[test]
    fn none_prints_as_nothing_and_blank_runs_close_up() {
        let p = Procedure::default_procedure();
        let l = letters("Dear {{ customer.name }},\n\n\n\n{{ text }}\n\nYours,").unwrap();
        let ctx = LetterContext::sample(&p, LetterKind::Acknowledgement, &p.rules[0], false);
        let r = l
            .render(LetterKind::Acknowledgement, Recipient::Customer, &ctx)
            .unwrap();
        assert_eq!(r.body, "Dear Ann Example,\n\nYours,");
        assert_eq!(
            r.subject,
            format!("Your complaint {} second line", ctx.reference)
        );
    }

    #[test]
    fn a_template_that_does_not_compile_is_placed_by_path_and_line() {
        let problems = letters("line one\n{% if %}").unwrap_err();
        assert_eq!(problems[0].path, "letters.acknowledgement.body");
        assert_eq!(problems[0].template_line, Some(2));
    }

    #[test]
    fn values_are_not_escaped_in_plain_text() {
        let p = Procedure::default_procedure();
        let l = letters("{{ text }}").unwrap();
        let mut ctx = LetterContext::sample(&p, LetterKind::Acknowledgement, &p.rules[0], true);
        ctx.text = Some("Fish & chips <b>".to_owned());
        let r = l
            .render(LetterKind::Acknowledgement, Recipient::Customer, &ctx)
            .unwrap();
        assert_eq!(r.body, "Fish & chips <b>");
    }
}
