//! Letters rendered for sending: the context a template sees, built from the complaint as it
//! stood when the letter was caused, the event that caused it and the procedure; then the plain
//! text, the HTML email and the PDF.
//!
//! Wording: letters render from the templates of the procedure this server runs with, while the
//! clocks and limits they quote (8 weeks, 12 months) are the complaint's own rules version,
//! kept since it was first received. A provider that changes its letters' wording changes them
//! for letters not yet sent, too; keeping every past wording would mean keeping every past
//! procedure file, which Redress does not do yet.

use askama::Template;
use jiff::Timestamp;
use redress_core::clock;
use redress_core::event::OmbudsmanOutcome;
use redress_core::letters::{
    AdrContext, CustomerContext, DepartmentContext, LetterContext, LetterError, LetterKind,
    OrganisationContext, Recipient, StageContext,
};
use redress_core::{Complaint, Event, EventKind, Money, Procedure};

use crate::words;

/// A letter ready to print or send.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Letter {
    pub kind: LetterKind,
    pub recipient: Recipient,
    pub reference: String,
    /// The letter's date, in words, and the instant of the event that caused it.
    pub date: String,
    pub at: Timestamp,
    pub subject: String,
    /// Plain text: paragraphs separated by blank lines.
    pub body: String,
    /// The name and address lines for the envelope window.
    pub address: Vec<String>,
    /// The provider's name and address, for the letterhead.
    pub from_name: String,
    pub from_address: Vec<String>,
    pub from_telephone: Option<String>,
    /// Printed at 16 pt or more.
    pub large_print: bool,
}

/// Whether a customer's recorded accessibility needs ask for large print.
pub fn needs_large_print(complaint: &Complaint) -> bool {
    complaint.customer.accessibility_needs.iter().any(|need| {
        let need = need.to_lowercase().replace(['-', '_'], " ");
        need.contains("large print") || need.contains("large type") || need.contains("big print")
    })
}

/// The customer's postal address lines, the postcode last (once).
pub fn customer_address(complaint: &Complaint) -> Vec<String> {
    let mut lines: Vec<String> = complaint
        .customer
        .address
        .iter()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect();
    if let Some(postcode) = &complaint.customer.postcode {
        let compact = |s: &str| s.replace(' ', "").to_uppercase();
        if !lines
            .last()
            .is_some_and(|l| compact(l).ends_with(&compact(postcode.as_str())))
        {
            lines.push(postcode.as_str().to_owned());
        }
    }
    lines
}

/// The template context for a letter caused by `event`, `complaint` being its state just after.
pub fn context(complaint: &Complaint, event: &Event, procedure: &Procedure) -> LetterContext {
    let tz = procedure.time_zone();
    let day = |t: Timestamp| words::date(clock::local_date(tz, t));
    let stage = procedure.stage(complaint.stage);
    let department = |key: &str| {
        procedure
            .department(key)
            .map(DepartmentContext::of)
            .unwrap_or_else(|| DepartmentContext {
                name: key.to_owned(),
                telephone: None,
                telephone_note: None,
                email: None,
                address: Vec::new(),
            })
    };
    let rules = &complaint.rules;
    let a = &procedure.adr_scheme;
    let mut ctx = LetterContext {
        reference: complaint.reference.to_string(),
        date: day(event.at),
        organisation: OrganisationContext {
            name: procedure.organisation.name.clone(),
            address: procedure.organisation.address.clone(),
            telephone: procedure.organisation.telephone.clone(),
            email: procedure.organisation.email.clone(),
        },
        customer: CustomerContext {
            name: complaint.customer.name.clone(),
            account: complaint.customer.account.clone(),
            address: customer_address(complaint),
        },
        department: department(&stage.department),
        departments: procedure
            .departments
            .keys()
            .map(|k| (k.clone(), department(k)))
            .collect(),
        stage: StageContext {
            number: complaint.stage.number(),
            name: stage.name.clone(),
        },
        received_on: day(complaint.first_received_at),
        summary: complaint.summary.clone(),
        adr: AdrContext::of(
            a,
            rules,
            day(clock::days_passed_at(
                tz,
                complaint.first_received_at,
                rules.adr_after_days(),
            )),
        ),
        text: None,
        description: None,
        due_by: None,
        amount: None,
        outcome: None,
        remedy: None,
        award: None,
        remedy_due_by: None,
        remedy_completed: false,
    };
    let outcome_words = |o: OmbudsmanOutcome| {
        match o {
            OmbudsmanOutcome::Upheld => "upheld",
            OmbudsmanOutcome::PartlyUpheld => "partly upheld",
            OmbudsmanOutcome::NotUpheld => "not upheld",
        }
        .to_owned()
    };
    match &event.kind {
        EventKind::ResolutionOffered { text, .. } | EventKind::ReviewOutcomeRecorded { text } => {
            ctx.text = Some(text.clone())
        }
        EventKind::Transferred {
            response_due_by,
            reason,
            ..
        } => {
            ctx.due_by = Some(words::date(*response_due_by));
            ctx.text = reason.clone();
        }
        EventKind::EvidenceRequested {
            description,
            due_by,
            ..
        } => {
            ctx.description = Some(
                description
                    .clone()
                    .unwrap_or_else(|| "any documents that show what happened".to_owned()),
            );
            ctx.due_by = Some(words::date(*due_by));
        }
        EventKind::FormalResponseIssued { text } => ctx.text = text.clone(),
        EventKind::AdrNoticeSent {
            referral_window_ends,
            ..
        } => ctx.adr.referral_window_ends = Some(words::date(*referral_window_ends)),
        EventKind::DeadlockIssued { text } => {
            ctx.text = text.clone();
            ctx.adr.referral_window_ends = Some(words::date(
                redress_core::deadline::referral_window_ends(complaint, event.at, procedure),
            ));
        }
        EventKind::CompensationOffered {
            amount_pence,
            reason,
            ..
        } => {
            ctx.amount = Some(Money(*amount_pence).to_string());
            ctx.text = reason.clone();
        }
        EventKind::CompensationApproved { amount_pence, .. } => {
            ctx.amount = Some(Money(*amount_pence).to_string());
        }
        EventKind::CompensationWithdrawn {
            amount_pence,
            reason,
            ..
        } => {
            ctx.amount = Some(Money(*amount_pence).to_string());
            ctx.text = Some(reason.clone());
        }
        EventKind::OmbudsmanDecided {
            outcome,
            remedy,
            award_pence,
            remedy_due_by,
            ..
        } => {
            ctx.outcome = Some(outcome_words(*outcome));
            ctx.remedy = remedy.clone();
            ctx.award = award_pence.filter(|p| *p > 0).map(|p| Money(p).to_string());
            ctx.remedy_due_by = remedy_due_by.map(words::date);
        }
        EventKind::RemedyCompleted { text } => {
            ctx.text = text.clone();
            ctx.remedy_completed = true;
            ctx.outcome = complaint
                .ombudsman
                .as_ref()
                .map(|d| outcome_words(d.outcome));
        }
        _ => {}
    }
    ctx
}

/// Renders a letter of `kind` to `recipient`, caused by `event`.
pub fn render(
    complaint: &Complaint,
    event: &Event,
    kind: LetterKind,
    recipient: Recipient,
    procedure: &Procedure,
) -> Result<Letter, LetterError> {
    let ctx = context(complaint, event, procedure);
    let rendered = procedure.letters.render(kind, recipient, &ctx)?;
    let address = match recipient {
        Recipient::Customer => {
            let mut lines = vec![complaint.customer.name.clone()];
            lines.extend(customer_address(complaint));
            lines
        }
        // We hold no address for a third party: staff write it in from the print queue.
        Recipient::ThirdParty => vec![
            "[Name and address of the third party".to_owned(),
            "asked for evidence: to be added]".to_owned(),
        ],
    };
    Ok(Letter {
        kind,
        recipient,
        reference: ctx.reference,
        date: ctx.date,
        at: event.at,
        subject: rendered.subject,
        body: rendered.body,
        address,
        from_name: procedure.organisation.name.clone(),
        from_address: procedure.organisation.address.clone(),
        from_telephone: procedure.organisation.telephone.clone(),
        large_print: recipient == Recipient::Customer && needs_large_print(complaint),
    })
}

/// Paragraphs of a plain-text body: blank lines separate them; line breaks inside one stay.
pub fn paragraphs(body: &str) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    let mut current: Vec<String> = Vec::new();
    for line in body.lines() {
        if line.trim().is_empty() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
        } else {
            current.push(line.trim_end().to_owned());
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// The HTML part of a letter's email: the plain text, every character escaped (askama escapes
/// all it prints in an `.html` template), paragraph by paragraph.
#[derive(Template)]
#[template(path = "mail_letter.html")]
pub struct LetterHtml<'a> {
    pub subject: &'a str,
    pub organisation: &'a str,
    pub reference: &'a str,
    pub date: &'a str,
    pub paragraphs: Vec<Vec<String>>,
    pub large_print: bool,
}

impl Letter {
    /// The email's plain-text part.
    pub fn text(&self) -> String {
        format!(
            "{}\nOur reference: {}\n{}\n\n{}\n",
            self.from_name, self.reference, self.date, self.body
        )
    }

    /// The email's HTML part.
    pub fn html(&self) -> Result<String, askama::Error> {
        LetterHtml {
            subject: &self.subject,
            organisation: &self.from_name,
            reference: &self.reference,
            date: &self.date,
            paragraphs: paragraphs(&self.body),
            large_print: self.large_print,
        }
        .render()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_split_on_blank_lines_and_keep_line_breaks() {
        assert_eq!(
            paragraphs("one\ntwo\n\n\nthree\n"),
            vec![
                vec!["one".to_owned(), "two".to_owned()],
                vec!["three".to_owned()]
            ]
        );
    }

    #[test]
    fn the_html_part_escapes_everything() {
        let html = LetterHtml {
            subject: "A <b>subject</b>",
            organisation: "Fish & Co",
            reference: "CMP-2026-000001",
            date: "1 May 2026",
            paragraphs: vec![vec!["<script>alert(1)</script> & more".to_owned()]],
            large_print: false,
        }
        .render()
        .unwrap();
        assert!(!html.contains("<script>"), "{html}");
        assert!(!html.contains("<b>"), "{html}");
        assert!(
            html.contains("&#60;script&#62;alert(1)&#60;/script&#62; &#38; more"),
            "{html}"
        );
        assert!(html.contains("Fish &#38; Co"), "{html}");
    }
}
