//! The published complaints code, generated from the procedure file: the customer-facing
//! procedure at `/complaints-code` and `redress procedure render`.

use askama::Template;
use jiff::civil::Date;
use redress_core::{Procedure, Stage};

/// One stage as the customer reads it.
pub struct StageView {
    pub number: u8,
    pub name: String,
    pub description: String,
    pub department: String,
    pub telephone: Option<String>,
    /// The number for a `tel:` link (no spaces).
    pub telephone_href: String,
    pub telephone_note: Option<String>,
    pub email: Option<String>,
    pub accepts_email: bool,
    pub address: Vec<String>,
}

/// Everything the published code says, from the procedure and the rules in force on a date.
pub struct CodeView {
    pub organisation: String,
    pub organisation_address: Vec<String>,
    pub stages: Vec<StageView>,
    pub formal_response_days: i64,
    /// "28 days", or "20 working days" where the rules count working days.
    pub formal_response_period: String,
    pub adr_after_weeks: i64,
    pub referral_window_months: i64,
    pub deadlock_stages: String,
    pub adr_name: String,
    pub adr_description: Option<String>,
    pub adr_address: Vec<String>,
    pub adr_telephone: String,
    pub adr_telephone_href: String,
    pub adr_facsimile: Option<String>,
    pub adr_textphone: Option<String>,
    pub adr_website: Option<String>,
    pub aims: Option<String>,
    pub compensation_statement: Option<String>,
    pub codes_of_practice: Vec<String>,
    /// The London date the clocks in force took effect, in words.
    pub effective_from: String,
}

impl CodeView {
    pub fn new(procedure: &Procedure, today: Date) -> CodeView {
        let rules = procedure.rules_for(today);
        let stages = (1..=5u8)
            .filter_map(|n| Stage::new(n).ok())
            .map(|stage| {
                let definition = procedure.stage(stage);
                let department = procedure.department(&definition.department);
                StageView {
                    number: stage.number(),
                    name: definition.name.clone(),
                    description: definition.description.clone().unwrap_or_default(),
                    department: department.map_or_else(String::new, |d| d.name.clone()),
                    telephone: department.and_then(|d| d.telephone.clone()),
                    telephone_href: department
                        .and_then(|d| d.telephone.as_deref())
                        .map(tel_href)
                        .unwrap_or_default(),
                    telephone_note: department.and_then(|d| d.telephone_note.clone()),
                    email: department.and_then(|d| d.email.clone()),
                    accepts_email: department.is_some_and(|d| d.accepts_email),
                    // Stage 5 is the ombudsman, whose own details follow; no provider address.
                    address: if stage == Stage::OMBUDSMAN {
                        Vec::new()
                    } else {
                        department.map_or_else(Vec::new, |d| d.address.clone())
                    },
                }
            })
            .collect();
        let adr = &procedure.adr_scheme;
        CodeView {
            organisation: procedure.organisation.name.clone(),
            organisation_address: procedure.organisation.address.clone(),
            stages,
            formal_response_days: rules.formal_response_days,
            formal_response_period: rules.formal_response_in_words(),
            adr_after_weeks: rules.adr_after_weeks,
            referral_window_months: rules.adr_referral_window_months,
            deadlock_stages: rules.deadlock_stages.in_words(),
            adr_name: adr.name.clone(),
            adr_description: adr.description.clone(),
            adr_address: adr.address.clone(),
            adr_telephone: adr.telephone.clone(),
            adr_telephone_href: tel_href(&adr.telephone),
            adr_facsimile: adr.facsimile.clone(),
            adr_textphone: adr.textphone.clone(),
            adr_website: adr.website.clone(),
            aims: procedure.organisation.aims.clone(),
            compensation_statement: procedure.organisation.compensation_statement.clone(),
            codes_of_practice: procedure.organisation.codes_of_practice.clone(),
            effective_from: crate::words::date(rules.effective_from),
        }
    }
}

fn tel_href(number: &str) -> String {
    number.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The code as plain text (`redress procedure render --format text`).
#[derive(Template)]
#[template(path = "complaints_code.txt")]
pub struct CodeText<'a> {
    pub code: &'a CodeView,
}

/// The code as a standalone HTML page (`redress procedure render --format html`); the web
/// page at `/complaints-code` uses the same body inside the site's layout.
#[derive(Template)]
#[template(path = "complaints_code_page.html")]
pub struct CodePage<'a> {
    pub code: &'a CodeView,
    pub chrome: super::Chrome,
}
