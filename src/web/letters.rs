//! A complaint's letters as people read them in the pages: staff at
//! `/staff/complaints/{reference}/letters/{id}` (and `{id}.pdf`), customers at
//! `/my/complaints/{reference}/letters/{id}` (and `{id}.pdf`), their own letters only. The text
//! and the PDF are rendered from the event that caused the letter, as the sender renders them.

use askama::Template;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use redress_core::letters::{LetterKind, Recipient};

use crate::mail::letters::{Letter, render};
use crate::mail::send::render_pdf;
use crate::state::AppState;
use crate::store::OutboxItem;
use crate::web::{Chrome, PageError, error_page};
use crate::words;

/// What the address asks for: the letter's page, or its PDF.
pub enum Asked {
    Page(i64),
    Pdf(i64),
}

impl Asked {
    /// `12` or `12.pdf`; anything else is no letter.
    pub fn parse(file: &str) -> Option<Asked> {
        match file.strip_suffix(".pdf") {
            Some(id) => id.parse().ok().map(Asked::Pdf),
            None => file.parse().ok().map(Asked::Page),
        }
    }

    fn id(&self) -> i64 {
        match self {
            Asked::Page(id) | Asked::Pdf(id) => *id,
        }
    }
}

pub fn no_letter() -> Response {
    error_page(&PageError::NotFound(
        "this complaint has no letter with that number".into(),
    ))
}

/// The letter `asked` of the complaint `reference`: the copy kept when it was sent (its words
/// and its PDF's bytes), or, not sent yet, rendered now; `None` when there is no such letter
/// or `customer_only` and it is not one written to the customer.
pub async fn find(
    state: &AppState,
    reference: &str,
    asked: &Asked,
    customer_only: bool,
) -> Result<Option<(OutboxItem, Letter, Option<Vec<u8>>)>, Response> {
    let item = match state.store.complaint_letter(reference, asked.id()).await {
        Ok(Some(item)) => item,
        Ok(None) => return Ok(None),
        Err(error) => return Err(error_page(&error.into())),
    };
    let Some(kind) = LetterKind::parse(&item.kind) else {
        return Ok(None);
    };
    if item.erased() {
        return Err(error_page(&PageError::Conflict(
            crate::retention::ERASED_LETTER.into(),
        )));
    }
    let recipient = match item.recipient() {
        "third_party" => Recipient::ThirdParty,
        _ => Recipient::Customer,
    };
    if customer_only && recipient != Recipient::Customer {
        return Ok(None);
    }
    match state.store.letter_copy(item.id).await {
        Ok(Some(copy)) => {
            return match crate::mail::send::SentCopy::read(&state.web.files_dir, &copy).await {
                Ok((sent, pdf)) => Ok(Some((item, sent.letter, Some(pdf)))),
                Err(error) => Err(error_page(&PageError::Internal(error))),
            };
        }
        Ok(None) => {}
        Err(error) => return Err(error_page(&error.into())),
    }
    let (complaint, event) = match state
        .store
        .letter_source(item.complaint_id, item.event_sequence)
        .await
    {
        Ok(source) => source,
        Err(error) => return Err(error_page(&error.into())),
    };
    match render(&complaint, &event, kind, recipient, state.store.procedure()) {
        Ok(letter) => Ok(Some((item, letter, None))),
        Err(error) => Err(error_page(&PageError::Internal(anyhow::Error::new(error)))),
    }
}

/// The letter as a PDF: the bytes that went, or (not sent yet) rendered now, in large print
/// when it goes in large print.
pub async fn pdf(item: &OutboxItem, letter: Letter, sent: Option<Vec<u8>>) -> Response {
    let large = letter.large_print;
    let bytes = match sent {
        Some(bytes) => bytes,
        None => match render_pdf(letter, large).await {
            Ok(bytes) => bytes,
            Err(error) => return error_page(&PageError::Internal(anyhow::Error::new(error))),
        },
    };
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    let name = format!("{}-{}.pdf", item.reference, item.kind);
    if let Ok(value) = HeaderValue::from_str(&format!("inline; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    response
}

#[derive(Template)]
#[template(path = "letter.html")]
struct LetterPage {
    chrome: Chrome,
    heading: String,
    reference: String,
    back_href: String,
    back_text: &'static str,
    pdf_href: String,
    facts: Vec<(&'static str, String)>,
    subject: String,
    /// Paragraphs, each its lines.
    paragraphs: Vec<Vec<String>>,
}

/// The letter's page: how it went and when, then its words as sent.
pub fn page(
    state: &AppState,
    chrome: Chrome,
    item: &OutboxItem,
    letter: &Letter,
    base: &str,
    staff: bool,
) -> Response {
    let tz = state.store.procedure().time_zone();
    let mut facts = vec![
        ("Date", letter.date.clone()),
        (
            "How",
            if item.channel == "email" {
                "By email".to_owned()
            } else if letter.large_print {
                "By post, in large print".to_owned()
            } else {
                "By post".to_owned()
            },
        ),
        (
            "Sent",
            item.sent_at.map_or_else(
                || "Not yet: it is being prepared".to_owned(),
                |t| words::instant(t, tz),
            ),
        ),
    ];
    if staff {
        facts.insert(
            0,
            (
                "To",
                if item.recipient() == "third_party" {
                    "A third party asked for evidence".to_owned()
                } else {
                    "The customer".to_owned()
                },
            ),
        );
        if item.channel == "post" {
            facts.push((
                "Printed",
                item.printed_at.map_or_else(
                    || "Not yet marked printed".to_owned(),
                    |t| {
                        format!(
                            "{}{}",
                            words::instant(t, tz),
                            item.printed_by
                                .as_deref()
                                .map(|b| format!(" by {b}"))
                                .unwrap_or_default()
                        )
                    },
                ),
            ));
        }
        if item.sent_at.is_none()
            && let Some(error) = &item.last_error
        {
            facts.push(("Last attempt", error.clone()));
        }
    }
    let page = LetterPage {
        chrome,
        heading: letter.subject.clone(),
        reference: item.reference.clone(),
        back_href: format!("{base}/complaints/{}", item.reference),
        back_text: if staff {
            "Back to the complaint"
        } else {
            "Back to your complaint"
        },
        pdf_href: format!(
            "{base}/complaints/{}/letters/{}.pdf",
            item.reference, item.id
        ),
        facts,
        subject: letter.subject.clone(),
        paragraphs: letter
            .body
            .split("\n\n")
            .map(|p| p.trim())
            .filter(|p| !p.is_empty())
            .map(|p| p.lines().map(str::to_owned).collect())
            .collect(),
    };
    crate::web::render(&page)
}
