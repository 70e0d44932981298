//! One of the customer's complaints: where it is, what is due and when, when they may go to
//! the ombudsman, the letters we wrote, what happened (an allow-list of events in plain
//! words), and the forms for what they may do now.

use askama::Template;
use axum::body::Bytes;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use redress_core::actions::ActionKind;
use redress_core::deadline::{DeadlineKind, referral_window_ends};
use redress_core::event::EvidenceSource;
use redress_core::{
    Action, Actor, Channel, Command, Complaint, Event, EventKind, Money, Procedure, RefusalCode,
    Stage, Standing, Status, available, clock, owed,
};

use super::complain::contact_words;
use super::{
    Errors, FormData, complaint_not_found, customer_chrome, form_expired, internal, sentence,
    session_csrf_ok, status_words, with_status,
};
use crate::files::{self, FileProblem, MAX_FILE_BYTES};
use crate::state::AppState;
use crate::store::{ComplaintView, NewAttachment, StoreError};
use crate::web::PageError;
use crate::web::session::CustomerSession;
use crate::web::{Chrome, render};
use crate::words;

/// Who recorded a file the customer sent (the `uploaded_by` of the attachment).
const UPLOADED_BY_CUSTOMER: &str = "customer";

// ----- What the page shows -----

pub(crate) struct TimelineItem {
    /// ISO 8601, for `<time datetime>`.
    pub datetime: String,
    pub when: String,
    pub text: String,
}

pub(crate) struct LetterItem {
    pub href: String,
    pub what: String,
    pub how: &'static str,
    pub written: String,
    pub sent: Option<String>,
}

pub(crate) struct FileItem {
    pub name: String,
    pub size: String,
    pub when: String,
}

pub(crate) struct OfferView {
    pub by: String,
    pub date: String,
    pub text: String,
}

pub(crate) struct CompensationView {
    pub offer: u32,
    pub amount: String,
}

/// The ombudsman's details, from the procedure.
pub(crate) struct AdrContact {
    pub description: Option<String>,
    pub address: Vec<String>,
    pub telephone: String,
    pub telephone_href: String,
    pub textphone: Option<String>,
    pub facsimile: Option<String>,
    pub website: Option<String>,
}

/// Which forms the customer may use now.
#[derive(Default)]
pub(crate) struct Can {
    pub accept: bool,
    pub reject: bool,
    pub escalate: bool,
    pub review: bool,
    pub send_evidence: bool,
}

/// What the customer typed into a form that was refused, to show again.
#[derive(Default)]
pub(crate) struct Typed {
    pub reason: String,
    pub review: String,
    pub evidence: String,
}

/// What a page shows besides the complaint: a confirmation, problems, a refusal.
#[derive(Default)]
struct Extras {
    flash: Option<String>,
    errors: Errors,
    refusal: Option<String>,
    typed: Typed,
}

#[derive(Template)]
#[template(path = "portal_complaint.html")]
struct ComplaintPage {
    chrome: Chrome,
    csrf: String,
    reference: String,
    received: String,
    about: String,
    summary: String,
    stage_number: u8,
    stage_name: String,
    handled_by: String,
    status: &'static str,
    happening: Vec<String>,
    offer: Option<OfferView>,
    compensation: Option<CompensationView>,
    ombudsman: Vec<String>,
    adr: AdrContact,
    letters: Vec<LetterItem>,
    files: Vec<FileItem>,
    timeline: Vec<TimelineItem>,
    can: Can,
    stage_two: String,
    reviewer: String,
    errors: Errors,
    refusal: Option<String>,
    typed: Typed,
    max_file_mb: usize,
    telephone: String,
}

/// `GET /my/complaints/{reference}/letters/{id}` and `.../{id}.pdf`: a letter written to the
/// customer about their complaint, to read or as its PDF.
pub async fn letter(
    State(state): State<AppState>,
    session: CustomerSession,
    Path((reference, file)): Path<(String, String)>,
) -> Response {
    use crate::web::letters::{self, Asked};
    let view = match load(&state, &session, &reference).await {
        Ok(view) => view,
        Err(response) => return response,
    };
    let reference = view.complaint.reference.to_string();
    let Some(asked) = Asked::parse(&file) else {
        return letters::no_letter();
    };
    let (item, letter, sent) = match letters::find(&state, &reference, &asked, true).await {
        Ok(Some(found)) => found,
        Ok(None) => return letters::no_letter(),
        Err(response) => return response,
    };
    match asked {
        Asked::Pdf(_) => letters::pdf(&item, letter, sent).await,
        Asked::Page(_) => letters::page(
            &state,
            customer_chrome(&state, &session),
            &item,
            &letter,
            "/my",
            false,
        ),
    }
}

/// The complaint, if the reference is well formed, exists and is the customer's; otherwise the
/// page to answer with (the same "not found" whether it exists or not).
async fn load(
    state: &AppState,
    session: &CustomerSession,
    reference: &str,
) -> Result<ComplaintView, Response> {
    let Ok(reference) = redress_core::Reference::parse(reference) else {
        return Err(complaint_not_found());
    };
    match state.store.get_complaint(&reference).await {
        Ok(view) if crate::store::Store::scope_covers(&session.scope, &view.complaint) => Ok(view),
        Ok(_) | Err(StoreError::NotFound) => Err(complaint_not_found()),
        Err(error) => Err(internal(error)),
    }
}

async fn show(
    state: &AppState,
    session: &CustomerSession,
    view: &ComplaintView,
    extras: Extras,
) -> Response {
    let procedure = state.store.procedure();
    let tz = procedure.time_zone();
    let c = &view.complaint;
    let stage = c.stage;
    let reference = c.reference.to_string();
    let letters = match state.store.customer_letters(&reference).await {
        Ok(letters) => letters,
        Err(error) => return internal(error),
    };
    let attachments = match state.store.attachments(&reference).await {
        Ok(attachments) => attachments,
        Err(error) => return internal(error),
    };
    let events: Vec<Event> = view.events.iter().map(|row| row.event.clone()).collect();
    let now = state.clock.now();
    let names = available(c, &Actor::customer(), now, procedure);
    let may = |kind: ActionKind| names.contains(&kind.name());
    let offer = c
        .current_offer()
        .filter(|o| o.answer == redress_core::complaint::OfferAnswer::Pending)
        .map(|o| OfferView {
            by: department_name(procedure, o.stage),
            date: words::date(clock::local_date(tz, o.at)),
            text: o.text.clone(),
        });
    let compensation = c
        .compensation
        .iter()
        .rev()
        .find(|o| o.approved && o.is_open())
        .filter(|_| may(ActionKind::AcceptCompensation))
        .map(|o| CompensationView {
            offer: o.id,
            amount: Money(o.amount_pence).to_string(),
        });
    let escalate = may(ActionKind::RequestEscalation);
    let can = Can {
        accept: may(ActionKind::AcceptResolution) && offer.is_some(),
        // At stage 1 asking to escalate is the way to say no to an offer.
        reject: may(ActionKind::RejectResolution) && offer.is_some() && !escalate,
        escalate,
        review: may(ActionKind::RequestManagerReview),
        send_evidence: may(ActionKind::ReceiveEvidence),
    };
    let timeline = events
        .iter()
        .filter_map(|event| {
            customer_sentence(event, procedure).map(|text| TimelineItem {
                datetime: event.at.to_string(),
                when: words::instant(event.at, tz),
                text,
            })
        })
        .rev()
        .collect();
    let page = ComplaintPage {
        chrome: customer_chrome(state, session).with_flash(extras.flash),
        csrf: session.csrf.clone(),
        received: words::date(clock::local_date(tz, c.first_received_at)),
        about: c
            .category
            .as_deref()
            .and_then(|code| procedure.category(code))
            .map_or_else(|| "Not given".to_owned(), |cat| cat.name.clone()),
        summary: c.summary.clone(),
        stage_number: c.stage.number(),
        stage_name: procedure.stage(c.stage).name.clone(),
        handled_by: if c.stage == Stage::OMBUDSMAN {
            procedure.adr_scheme.name.clone()
        } else {
            department_name(procedure, c.stage)
        },
        status: status_words(c.status),
        happening: happening(procedure, c, &events, now),
        offer,
        compensation,
        ombudsman: ombudsman(procedure, c),
        adr: adr_contact(procedure),
        letters: letters
            .iter()
            .map(|l| LetterItem {
                href: format!("/my/complaints/{reference}/letters/{}", l.id),
                what: letter_words(&l.kind, procedure),
                how: if l.channel == "email" {
                    "Email"
                } else {
                    "Post"
                },
                written: words::date(clock::local_date(tz, l.created_at)),
                sent: l.sent_at.map(|t| words::date(clock::local_date(tz, t))),
            })
            .collect(),
        files: attachments
            .iter()
            .filter(|a| a.uploaded_by == UPLOADED_BY_CUSTOMER)
            .map(|a| FileItem {
                name: a.filename.clone(),
                size: size_words(a.size),
                when: words::date(clock::local_date(tz, a.uploaded_at)),
            })
            .collect(),
        timeline,
        can,
        stage_two: mid(&department_name(procedure, Stage::ESCALATION_TEAM)),
        reviewer: mid(&department_name(procedure, Stage::RESOLUTION_MANAGER)),
        errors: extras.errors,
        refusal: extras.refusal,
        typed: extras.typed,
        max_file_mb: MAX_FILE_BYTES / (1024 * 1024),
        // The department that holds the complaint now answers its telephone.
        telephone: super::stage_telephone(state, stage),
        reference,
    };
    render(&page)
}

#[derive(serde::Deserialize)]
pub(super) struct PageQuery {
    #[serde(default)]
    done: Option<String>,
}

/// GET /my/complaints/{reference}
pub(super) async fn page(
    State(state): State<AppState>,
    session: CustomerSession,
    Path(reference): Path<String>,
    Query(query): Query<PageQuery>,
) -> Response {
    let view = match load(&state, &session, &reference).await {
        Ok(view) => view,
        Err(response) => return response,
    };
    let flash = query
        .done
        .as_deref()
        .and_then(|d| done_words(d, state.store.procedure()));
    show(
        &state,
        &session,
        &view,
        Extras {
            flash,
            ..Extras::default()
        },
    )
    .await
}

mod actions;
mod evidence;
mod wording;

pub(super) use actions::{accept, accept_compensation, escalate, reject, review};
pub(super) use evidence::evidence;
pub(crate) use wording::letter_words;
use wording::*;

#[cfg(test)]
mod tests;
