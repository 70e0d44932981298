//! Letters: what Redress writes to a customer (and, for evidence, to a third party), as
//! templates in the procedure file so each provider words its own letters.
//!
//! Each letter kind has a `[letters.<kind>]` table with a `subject` and a `body`, written in
//! minijinja (Jinja2) syntax. Templates produce plain text: the mail shell prints it on a PDF,
//! sends it as the text part of an email, and escapes it into the HTML part (nothing a template
//! or a value writes is ever taken as markup). `{{ none }}` prints nothing, so an optional
//! field can be printed bare or guarded with `{% if field %}`.
//!
//! [`Letters::check`] renders every template with a sample [`LetterContext`]: a template
//! naming a variable that does not exist is refused, and the ADR letters (`adr_notice`,
//! `deadlock_letter`) must print the reference and the ombudsman's name, address, telephone,
//! facsimile, textphone and the referral window in months (Ofcom GC C4). That check and the
//! sample need the whole procedure, so they live with it (`procedure/letters.rs`): this
//! module sits below the procedure and never reads it, and the procedure owns its letters.
//! Rendering is pure: no I/O, no clock; the shell builds the context.

use std::collections::BTreeMap;
use std::fmt;

use minijinja::value::{Serde, Value};
use minijinja::{Environment, UndefinedBehavior};
use serde::{Deserialize, Serialize};

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
    /// A compensation offer taken back before the customer accepted it.
    CompensationWithdrawn,
    RemedyConfirmation,
}

impl LetterKind {
    /// Every kind, in the order of the ladder.
    pub const ALL: [LetterKind; 12] = [
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
        LetterKind::CompensationWithdrawn,
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
            LetterKind::CompensationWithdrawn => "compensation_withdrawn",
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
}

/// The wording of letters a procedure file written before they existed does not have: used
/// in its place, and said so by `Procedure::warnings`.
pub fn built_in_template(kind: LetterKind) -> Option<LetterTemplate> {
    match kind {
        LetterKind::CompensationWithdrawn => Some(LetterTemplate {
            subject: "We have withdrawn our offer of compensation ({{ reference }})".to_owned(),
            body: BUILT_IN_COMPENSATION_WITHDRAWN.to_owned(),
            third_party: None,
        }),
        _ => None,
    }
}

const BUILT_IN_COMPENSATION_WITHDRAWN: &str = "Dear {{ customer.name }},

We offered you compensation of {{ amount }} for your complaint (reference {{ reference }}). We have withdrawn that offer, and we are sorry for any confusion this causes.
{% if text %}

{{ text }}
{% endif %}

Your complaint is still open. If you have any questions, please telephone {{ department.telephone }} or write to {{ department.address | join(\", \") }}.

Yours sincerely,

{{ department.name }}
{{ organisation.name }}
";

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

pub(crate) fn template_name(kind: LetterKind, recipient: Recipient, part: &str) -> String {
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
    fn a_template_that_does_not_compile_is_placed_by_path_and_line() {
        let problems = letters("line one\n{% if %}").unwrap_err();
        assert_eq!(problems[0].path, "letters.acknowledgement.body");
        assert_eq!(problems[0].template_line, Some(2));
    }
}
