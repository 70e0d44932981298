//! Letters that go by post, for the staff who print them: `GET /staff/print-queue` (waiting to
//! be printed, oldest first, each with its PDF; printed recently, the latest first, with who
//! marked each and when), `POST /staff/print-queue/{id}/printed` and
//! `POST /staff/print-queue/{id}/reprint` (with a reason: it goes back in the queue). Each is
//! recorded in the letter's print history. Compliance staff read the queue; printing and
//! posting are for staff who handle complaints, as in the API.

use askama::Template;
use axum::Form;
use axum::extract::rejection::{FormRejection, PathRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use std::collections::HashMap;

use super::{Names, acting_form, chrome, refuse_non_handler, refuse_non_reader, required_reason};
use crate::state::AppState;
use crate::store::{OutboxItem, PrintLogEntry, Printed, Reprinted};
use crate::web::error::PageError;
use crate::web::session::StaffSession;
use crate::web::{Chrome, error_page, render};
use crate::words;

/// How many waiting letters the page lists (the oldest first).
const WAITING_LISTED: usize = 200;
/// How many printed letters the page lists.
const PRINTED_LISTED: i64 = 50;
/// The longest reason for printing a letter again.
const MAX_REASON_CHARS: usize = 300;

/// A letter on the page.
pub struct Row {
    pub id: i64,
    pub reference: String,
    pub kind: String,
    pub queued: String,
    pub large_print: bool,
    pub printed: String,
    pub history: Vec<String>,
}

#[derive(Template)]
#[template(path = "staff_print_queue.html")]
struct QueuePage {
    chrome: Chrome,
    waiting: Vec<Row>,
    /// How many letters are waiting in all (the page lists the oldest).
    waiting_total: usize,
    printed: Vec<Row>,
    may_print: bool,
    error: Option<(i64, String)>,
    /// The letter whose form failed (0 for none) and why.
    error_id: i64,
    error_message: String,
    reason_text: String,
    max_reason: usize,
}

fn refuse_compliance(staff: &StaffSession) -> Option<Response> {
    refuse_non_handler(
        staff,
        "compliance staff can read the print queue, but printing and posting letters is for staff who handle complaints",
    )
}

async fn page(
    state: &AppState,
    staff: &StaffSession,
    status: StatusCode,
    flash: Option<String>,
    error: Option<(i64, String)>,
    reason_text: String,
) -> Response {
    let (mut waiting, printed) = match (
        state.store.print_queue().await,
        state.store.printed_recently(PRINTED_LISTED).await,
    ) {
        (Ok(w), Ok(p)) => (w, p),
        (Err(error), _) | (_, Err(error)) => return error_page(&error.into()),
    };
    // The page lists the oldest waiting letters; the rest follow as these are printed.
    let waiting_total = waiting.len();
    waiting.truncate(WAITING_LISTED);
    let ids: Vec<i64> = waiting.iter().chain(printed.iter()).map(|i| i.id).collect();
    let history = match state.store.print_history(&ids).await {
        Ok(h) => h,
        Err(error) => return error_page(&error.into()),
    };
    let mut emails: Vec<String> = history.iter().map(|h| h.by.clone()).collect();
    emails.extend(printed.iter().filter_map(|i| i.printed_by.clone()));
    let names = match Names::of(state, &emails).await {
        Ok(names) => names,
        Err(error) => return error_page(&error.into()),
    };
    let tz = state.store.procedure().time_zone();
    let name = |email: &str| names.name(email);
    let line = |h: &PrintLogEntry| match h.action.as_str() {
        "reprint" => format!(
            "Sent back to be printed again by {}, {}: {}",
            name(&h.by),
            words::instant(h.at, tz),
            h.reason.as_deref().unwrap_or("no reason given")
        ),
        _ => format!(
            "Marked printed by {}, {}",
            name(&h.by),
            words::instant(h.at, tz)
        ),
    };
    let row = |i: &OutboxItem| Row {
        id: i.id,
        reference: i.reference.clone(),
        kind: crate::web::portal::letter_words(&i.kind, state.store.procedure()),
        queued: i.sent_at.map(|t| words::instant(t, tz)).unwrap_or_default(),
        large_print: i.large_print,
        printed: match (i.printed_at, i.printed_by.as_deref()) {
            (Some(at), Some(by)) => format!("{} by {}", words::instant(at, tz), name(by)),
            (Some(at), None) => words::instant(at, tz),
            _ => String::new(),
        },
        history: history
            .iter()
            .filter(|h| h.outbox_id == i.id)
            .map(line)
            .collect(),
    };
    let view = QueuePage {
        chrome: chrome(state, staff).with_flash(flash),
        waiting: waiting.iter().map(row).collect(),
        waiting_total,
        printed: printed.iter().map(row).collect(),
        may_print: staff.user.role.handles_complaints(),
        error_id: error.as_ref().map_or(0, |e| e.0),
        error_message: error.as_ref().map(|e| e.1.clone()).unwrap_or_default(),
        error,
        reason_text,
        max_reason: MAX_REASON_CHARS,
    };
    (status, render(&view)).into_response()
}

/// `GET /staff/print-queue`
pub async fn queue(
    State(state): State<AppState>,
    staff: StaffSession,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Some(refused) = refuse_non_reader(&staff.user) {
        return refused;
    }
    let flash = match query.get("done").map(String::as_str) {
        Some("printed") => Some("The letter was marked printed and posted.".to_owned()),
        Some("reprint") => Some("The letter is back in the print queue.".to_owned()),
        _ => None,
    };
    page(&state, &staff, StatusCode::OK, flash, None, String::new()).await
}

fn letter_id(path: Result<Path<String>, PathRejection>) -> Option<i64> {
    path.ok().and_then(|Path(id)| id.parse::<i64>().ok())
}

fn no_letter() -> Response {
    error_page(&PageError::NotFound(
        "there is no post letter with that number".into(),
    ))
}

/// `POST /staff/print-queue/{id}/printed`
pub async fn printed(
    State(state): State<AppState>,
    staff: StaffSession,
    path: Result<Path<String>, PathRejection>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    if let Err(response) = acting_form(&staff, refuse_compliance(&staff), form) {
        return *response;
    }
    let Some(id) = letter_id(path) else {
        return no_letter();
    };
    match state
        .store
        .mark_printed(id, state.clock.now(), &staff.user.email)
        .await
    {
        Ok(Printed::Marked(_)) => Redirect::to("/staff/print-queue?done=printed").into_response(),
        Ok(Printed::NotFound) => no_letter(),
        Ok(Printed::NotQueued) => {
            let flash = "Nothing was changed: the letter has not been produced yet, so it cannot be printed.".to_owned();
            page(
                &state,
                &staff,
                StatusCode::CONFLICT,
                Some(flash),
                None,
                String::new(),
            )
            .await
        }
        Err(error) => error_page(&error.into()),
    }
}

/// `POST /staff/print-queue/{id}/reprint`: `reason`.
pub async fn reprint(
    State(state): State<AppState>,
    staff: StaffSession,
    path: Result<Path<String>, PathRejection>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let form = match acting_form(&staff, refuse_compliance(&staff), form) {
        Ok(form) => form,
        Err(response) => return *response,
    };
    let Some(id) = letter_id(path) else {
        return no_letter();
    };
    let typed = form.get("reason").map(String::as_str).unwrap_or_default();
    let reason = match required_reason(
        typed,
        MAX_REASON_CHARS,
        "Say why the letter is printed again, for the record",
    ) {
        Ok(reason) => reason,
        Err(problem) => {
            let typed = typed.chars().take(MAX_REASON_CHARS * 2).collect();
            return page(
                &state,
                &staff,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some((id, problem)),
                typed,
            )
            .await;
        }
    };
    match state
        .store
        .reprint(id, state.clock.now(), &staff.user.email, &reason)
        .await
    {
        Ok(Reprinted::Requeued(_)) => {
            Redirect::to("/staff/print-queue?done=reprint").into_response()
        }
        Ok(Reprinted::NotFound) => no_letter(),
        Ok(Reprinted::NotPrinted) => {
            let flash =
                "Nothing was changed: the letter is still waiting to be printed.".to_owned();
            page(
                &state,
                &staff,
                StatusCode::CONFLICT,
                Some(flash),
                None,
                String::new(),
            )
            .await
        }
        Err(error) => error_page(&error.into()),
    }
}
