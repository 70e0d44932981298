//! Email that could not be filed, for staff: `GET /staff/quarantine` (waiting, oldest first,
//! and what was done with the latest), `GET /staff/quarantine/{id}` (why, the header fields and
//! the text, shown as text and never rendered as HTML), `GET /staff/quarantine/{id}/message.eml`
//! (the whole message, as a download), and the three decisions: `POST .../file` (into a
//! complaint, as evidence, the core deciding whether this person may), a complaint started from
//! it (the record form, `GET /staff/complaints/new?quarantine={id}`), and `POST .../discard`
//! (with a reason). Each decision is recorded with who took it and when, and claimed before it
//! is carried out: the first stands, and a decision the complaint refuses is given back.
//! Compliance staff read the quarantine; they do not act on it.

use askama::Template;
use axum::Form;
use axum::extract::rejection::{FormRejection, PathRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use redress_core::Reference;
use std::collections::HashMap;

use super::{
    Names, acting_form, actor, chrome, refuse_non_handler, refuse_non_reader, required_reason,
};
use crate::mail::quarantine::{self as q, Filing};
use crate::state::AppState;
use crate::store::{QuarantineRow, Resolution, Resolved, Resolving};
use crate::web::error::PageError;
use crate::web::session::StaffSession;
use crate::web::{Chrome, error_page, render};
use crate::words;

/// The most messages listed on the quarantine page, waiting and dealt with each.
const LISTED: i64 = 200;
/// The longest reason for discarding a message.
const MAX_REASON_CHARS: usize = 500;

/// A message in the list.
pub struct Item {
    pub id: i64,
    pub received: String,
    pub sender: String,
    pub subject: String,
    pub reason: String,
    pub decision: String,
}

#[derive(Template)]
#[template(path = "staff_quarantine.html")]
struct ListPage {
    chrome: Chrome,
    waiting: Vec<Item>,
    dealt: Vec<Item>,
    may_act: bool,
}

#[derive(Template)]
#[template(path = "staff_quarantine_message.html")]
struct MessagePage {
    chrome: Chrome,
    item: Item,
    source: String,
    size: String,
    shown: q::Shown,
    may_act: bool,
    waiting: bool,
    reference: String,
    reason_text: String,
    error: Option<(String, String)>,
    max_reason: usize,
}

/// Who decided what became of these messages, by name (by address if the names cannot be
/// read: the page still shows every decision).
async fn names(state: &AppState, rows: &[QuarantineRow]) -> Names {
    let emails: Vec<String> = rows
        .iter()
        .filter_map(|r| r.resolved.as_ref().map(|d| d.by.clone()))
        .collect();
    Names::of(state, &emails)
        .await
        .unwrap_or_else(|_| Names(HashMap::new()))
}

fn decision(resolved: &Resolved, names: &Names, state: &AppState) -> String {
    let tz = state.store.procedure().time_zone();
    let who = names.name(&resolved.by);
    let when = words::instant(resolved.at, tz);
    match resolved.resolution {
        Resolution::Filed => format!(
            "Filed into {} by {who}, {when}",
            resolved.reference.as_deref().unwrap_or("a complaint")
        ),
        Resolution::NewComplaint => format!(
            "Complaint {} started from it by {who}, {when}",
            resolved.reference.as_deref().unwrap_or("")
        ),
        Resolution::Discarded => format!(
            "Discarded by {who}, {when}: {}",
            resolved.note.as_deref().unwrap_or("no reason given")
        ),
    }
}

fn item(row: &QuarantineRow, names: &Names, state: &AppState) -> Item {
    let tz = state.store.procedure().time_zone();
    Item {
        id: row.id,
        received: words::instant(row.received_at, tz),
        sender: row
            .sender
            .clone()
            .unwrap_or_else(|| "(no usable sender)".to_owned()),
        subject: row
            .subject
            .clone()
            .unwrap_or_else(|| "(no subject)".to_owned()),
        reason: row.reason.clone(),
        decision: row
            .resolved
            .as_ref()
            .map(|r| decision(r, names, state))
            .unwrap_or_default(),
    }
}

/// `GET /staff/quarantine`
pub async fn list(State(state): State<AppState>, staff: StaffSession) -> Response {
    if let Some(refused) = refuse_non_reader(&staff.user) {
        return refused;
    }
    let (waiting, dealt) = match (
        state.store.quarantine_waiting(LISTED).await,
        state.store.quarantine_dealt(LISTED).await,
    ) {
        (Ok(w), Ok(d)) => (w, d),
        (Err(error), _) | (_, Err(error)) => return error_page(&error.into()),
    };
    let names = names(&state, &dealt).await;
    let page = ListPage {
        chrome: chrome(&state, &staff),
        waiting: waiting.iter().map(|r| item(r, &names, &state)).collect(),
        dealt: dealt.iter().map(|r| item(r, &names, &state)).collect(),
        may_act: staff.user.role.handles_complaints(),
    };
    render(&page)
}

pub(super) fn not_found() -> Response {
    error_page(&PageError::NotFound(
        "there is no quarantined message with that number".into(),
    ))
}

async fn find(
    state: &AppState,
    path: Result<Path<String>, PathRejection>,
) -> Result<QuarantineRow, Response> {
    let Ok(Path(id)) = path else {
        return Err(not_found());
    };
    by_number(state, &id).await
}

/// The quarantined message with this number (as a page's address or a form gives it), or the
/// page saying there is none.
pub(super) async fn by_number(state: &AppState, id: &str) -> Result<QuarantineRow, Response> {
    let Ok(id) = id.trim().parse::<i64>() else {
        return Err(not_found());
    };
    match state.store.quarantine_item(id).await {
        Ok(Some(row)) => Ok(row),
        Ok(None) => Err(not_found()),
        Err(error) => Err(error_page(&error.into())),
    }
}

/// What a form sent, kept to show again.
#[derive(Default)]
struct Typed {
    reference: String,
    reason: String,
    error: Option<(String, String)>,
}

async fn show(
    state: &AppState,
    staff: &StaffSession,
    row: &QuarantineRow,
    typed: Typed,
    status: StatusCode,
    flash: Option<String>,
) -> Response {
    let shown = match q::raw(&state.web.files_dir, row).await {
        Ok(raw) => tokio::task::spawn_blocking(move || q::show(&raw))
            .await
            .unwrap_or_default(),
        Err(error) => {
            tracing::error!(id = row.id, %error, "a quarantined message cannot be read");
            q::Shown {
                unreadable: Some(
                    "The kept message cannot be read from the file store; tell an administrator."
                        .to_owned(),
                ),
                ..q::Shown::default()
            }
        }
    };
    let names = names(state, std::slice::from_ref(row)).await;
    let page = MessagePage {
        chrome: chrome(state, staff).with_flash(flash),
        item: item(row, &names, state),
        source: match row.source.as_str() {
            "imap" => "the mailbox (IMAP)",
            "http" => "the API",
            _ => "the mail server",
        }
        .to_owned(),
        size: crate::mail::examine::human_size(usize::try_from(row.size).unwrap_or(usize::MAX)),
        shown,
        may_act: staff.user.role.handles_complaints(),
        waiting: row.resolved.is_none(),
        reference: typed.reference,
        reason_text: typed.reason,
        error: typed.error,
        max_reason: MAX_REASON_CHARS,
    };
    (status, render(&page)).into_response()
}

/// `GET /staff/quarantine/{id}`
pub async fn message(
    State(state): State<AppState>,
    staff: StaffSession,
    path: Result<Path<String>, PathRejection>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Some(refused) = refuse_non_reader(&staff.user) {
        return refused;
    }
    let row = match find(&state, path).await {
        Ok(row) => row,
        Err(response) => return response,
    };
    let flash = match query.get("done").map(String::as_str) {
        Some("discarded") => Some("The message was discarded.".to_owned()),
        _ => None,
    };
    show(
        &state,
        &staff,
        &row,
        Typed::default(),
        StatusCode::OK,
        flash,
    )
    .await
}

/// `GET /staff/quarantine/{id}/message.eml`: the whole message as it arrived, as a download.
pub async fn download(
    State(state): State<AppState>,
    staff: StaffSession,
    path: Result<Path<String>, PathRejection>,
) -> Response {
    if let Some(refused) = refuse_non_reader(&staff.user) {
        return refused;
    }
    let row = match find(&state, path).await {
        Ok(row) => row,
        Err(response) => return response,
    };
    match q::raw(&state.web.files_dir, &row).await {
        Ok(bytes) => super::files::serve(bytes, "message/rfc822", &format!("email-{}.eml", row.id)),
        Err(error) => {
            tracing::error!(id = row.id, %error, "a quarantined message cannot be read");
            error_page(&PageError::Internal(anyhow::anyhow!(
                "the kept message cannot be read from the file store"
            )))
        }
    }
}

fn refuse_compliance(staff: &StaffSession) -> Option<Response> {
    refuse_non_handler(
        staff,
        "compliance staff read the quarantine; filing and discarding messages is for staff who handle complaints",
    )
}

/// The message as it stands now (someone else has just dealt with it), or as it was read.
async fn as_it_stands(state: &AppState, row: QuarantineRow) -> QuarantineRow {
    match state.store.quarantine_item(row.id).await {
        Ok(Some(now)) => now,
        _ => row,
    }
}

fn dealt_with(first: &Resolved, state: &AppState) -> String {
    format!(
        "Nothing was changed: this message was dealt with already. {}.",
        decision(first, &Names(HashMap::new()), state)
    )
}

/// `POST /staff/quarantine/{id}/file`: `reference`.
pub async fn file(
    State(state): State<AppState>,
    staff: StaffSession,
    path: Result<Path<String>, PathRejection>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let form = match acting_form(&staff, refuse_compliance(&staff), form) {
        Ok(form) => form,
        Err(response) => return *response,
    };
    let row = match find(&state, path).await {
        Ok(row) => row,
        Err(response) => return response,
    };
    let typed_reference: String = form
        .get("reference")
        .map(|r| r.trim().to_uppercase())
        .unwrap_or_default()
        .chars()
        .take(40)
        .collect();
    let again = |message: String, status| {
        let typed = Typed {
            reference: typed_reference.clone(),
            reason: String::new(),
            error: Some(("reference".to_owned(), message)),
        };
        show(&state, &staff, &row, typed, status, None)
    };
    let Ok(reference) = Reference::parse(&typed_reference) else {
        return again(
            "Enter the complaint's reference, like CMP-2026-000123".to_owned(),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    match state.store.complaint_exists(&reference).await {
        Ok(true) => {}
        Ok(false) => {
            return again(
                format!("There is no complaint {reference}"),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
        Err(error) => return error_page(&error.into()),
    }
    let now = state.clock.now();
    match q::file_into(
        &state.store,
        &row,
        &reference,
        actor(&staff.user),
        &staff.user.email,
        now,
    )
    .await
    {
        Ok(Filing::Filed) => Redirect::to(&format!(
            "/staff/complaints/{reference}?done=receive_evidence"
        ))
        .into_response(),
        Ok(Filing::Refused(reason)) => {
            again(
                format!(
                    "{reference} did not take it: {}",
                    crate::web::portal::sentence(&reason)
                ),
                StatusCode::CONFLICT,
            )
            .await
        }
        Ok(Filing::Already(first)) => {
            let flash = dealt_with(&first, &state);
            let row = as_it_stands(&state, row).await;
            show(
                &state,
                &staff,
                &row,
                Typed::default(),
                StatusCode::CONFLICT,
                Some(flash),
            )
            .await
        }
        Ok(Filing::NotFound) => not_found(),
        Err(error) => error_page(&error.into()),
    }
}

/// `POST /staff/quarantine/{id}/discard`: `reason`.
pub async fn discard(
    State(state): State<AppState>,
    staff: StaffSession,
    path: Result<Path<String>, PathRejection>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let form = match acting_form(&staff, refuse_compliance(&staff), form) {
        Ok(form) => form,
        Err(response) => return *response,
    };
    let row = match find(&state, path).await {
        Ok(row) => row,
        Err(response) => return response,
    };
    let typed = form.get("reason").map(String::as_str).unwrap_or_default();
    let reason = match required_reason(
        typed,
        MAX_REASON_CHARS,
        "Say why the message is discarded, for the record",
    ) {
        Ok(reason) => reason,
        Err(problem) => {
            let typed = Typed {
                reference: String::new(),
                reason: typed.chars().take(MAX_REASON_CHARS * 2).collect(),
                error: Some(("reason".to_owned(), problem)),
            };
            return show(
                &state,
                &staff,
                &row,
                typed,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
            )
            .await;
        }
    };
    match state
        .store
        .resolve_quarantine(
            row.id,
            Resolution::Discarded,
            &staff.user.email,
            None,
            Some(&reason),
            state.clock.now(),
        )
        .await
    {
        Ok(Resolving::Done) => {
            Redirect::to(&format!("/staff/quarantine/{}?done=discarded", row.id)).into_response()
        }
        Ok(Resolving::Already(first)) => {
            let row = as_it_stands(&state, row).await;
            let flash = dealt_with(&first, &state);
            show(
                &state,
                &staff,
                &row,
                Typed::default(),
                StatusCode::CONFLICT,
                Some(flash),
            )
            .await
        }
        Ok(Resolving::NotFound) => not_found(),
        Err(error) => error_page(&error.into()),
    }
}
