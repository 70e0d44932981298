//! The procedure's letter templates checked against the procedure itself: every kind
//! present, every template rendering with a sample complaint drawn from the procedure (for
//! each version of its rules), and the ADR letters carrying what Ofcom requires.
//!
//! These need both the templates and the rest of the procedure, so they live here, above
//! `crate::letters`, which only compiles and renders and knows nothing of the procedure.

use crate::letters::{
    AdrContext, CustomerContext, DepartmentContext, LetterContext, LetterKind, Letters,
    OrganisationContext, Recipient, StageContext, TemplateProblem, template_name,
};
use crate::model::{Reference, Stage};

use super::{Department, Procedure, Rules};

impl Letters {
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
            let Some(template) = self.template(kind) else {
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

/// The stage a letter of this kind is usually written at (for the sample context).
fn sample_stage(kind: LetterKind) -> u8 {
    match kind {
        LetterKind::Acknowledgement | LetterKind::ResolutionOffer | LetterKind::AdrNotice => 1,
        LetterKind::EscalationAcknowledgement => 2,
        LetterKind::TransferNotice
        | LetterKind::EvidenceRequest
        | LetterKind::FormalResponse
        | LetterKind::DeadlockLetter
        | LetterKind::CompensationOffer
        | LetterKind::CompensationWithdrawn => 3,
        LetterKind::ManagerReviewOutcome => 4,
        LetterKind::RemedyConfirmation => 5,
    }
}

impl AdrContext {
    /// The ADR scheme's details as letters quote them, with the complaint's own rules and the
    /// date its ADR period passes (in words); no referral window until an ADR letter sets one.
    pub fn of(scheme: &super::AdrScheme, rules: &Rules, eligible_from: String) -> AdrContext {
        AdrContext {
            name: scheme.name.clone(),
            description: scheme.description.clone(),
            address: scheme.address.clone(),
            telephone: scheme.telephone.clone(),
            facsimile: scheme.facsimile.clone(),
            textphone: scheme.textphone.clone(),
            website: scheme.website.clone(),
            after_weeks: rules.adr_after_weeks,
            eligible_from,
            referral_window_months: rules.adr_referral_window_months,
            referral_window_ends: None,
        }
    }
}

impl DepartmentContext {
    pub fn of(department: &Department) -> DepartmentContext {
        DepartmentContext {
            name: department.name.clone(),
            telephone: department.telephone.clone(),
            telephone_note: department.telephone_note.clone(),
            email: department.email.clone(),
            address: department.address.clone(),
        }
    }
}

impl LetterContext {
    /// A plausible complaint for checking templates: every field filled (`filled`), or only
    /// those every letter has.
    pub fn sample(
        procedure: &Procedure,
        kind: LetterKind,
        rules: &Rules,
        filled: bool,
    ) -> LetterContext {
        let stage = Stage::new(sample_stage(kind)).unwrap_or(Stage::CUSTOMER_SERVICES);
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
                referral_window_ends: some("4 May 2027"),
                ..AdrContext::of(a, rules, "27 April 2026".to_owned())
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
    use std::collections::BTreeMap;

    use super::*;

    fn letters(body: &str) -> Result<Letters, Vec<TemplateProblem>> {
        let mut map = BTreeMap::new();
        map.insert(
            LetterKind::Acknowledgement,
            crate::letters::LetterTemplate {
                subject: "Your complaint {{ reference }}\nsecond line".to_owned(),
                body: body.to_owned(),
                third_party: None,
            },
        );
        Letters::compile(map)
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
