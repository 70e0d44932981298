//! A complaint's letters (`/api/v1/complaints/{reference}/letters`, each as a PDF) and the
//! print queue of post letters (`/api/v1/print-queue`). Read with the same rights as a
//! complaint; marking a letter printed is for staff who handle complaints.

use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use redress_core::letters::{LetterKind, Recipient};
use redress_core::{Reference, Role};
use serde_json::json;

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;
use crate::mail::letters as render;
use crate::mail::print::ManifestEntry;
use crate::mail::send::render_pdf;
use crate::store::Printed;

/// The routes of this file, merged into the API's router.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/complaints/{reference}/letters", get(list))
        .route("/api/v1/complaints/{reference}/letters/{file}", get(pdf))
        .route("/api/v1/complaints/{reference}/case-file", get(case_file))
        .route("/api/v1/print-queue", get(print_queue))
        .route("/api/v1/print-queue/{id}/printed", post(printed))
}

fn reference(text: &str) -> Result<Reference, ApiError> {
    Reference::parse(text).map_err(|e| ApiError::bad_request("invalid_reference", e.0))
}

fn path<T>(path: Result<Path<T>, PathRejection>) -> Result<T, ApiError> {
    path.map(|Path(p)| p).map_err(|_| {
        ApiError::bad_request(
            "invalid_path",
            "the address is not valid: a complaint reference looks like CMP-2026-000123 and a letter is its number",
        )
    })
}

/// The ombudsman's case file of a complaint, as a zip: `summary.pdf`, `correspondence/`
/// (letters as sent, emails received), `evidence/`, `records/` (calls, course of events,
/// notes; restricted notes left out) and `manifest.json` (each file's path and SHA-256, the
/// complaint's chain head, when and by whom). Making it is recorded on the complaint
/// (`case_file_generated`). For compliance, team managers and the Customer Resolution Manager.
#[utoipa::path(get, path = "/api/v1/complaints/{reference}/case-file", tag = "letters",
    params(("reference" = String, Path, description = "e.g. CMP-2026-000123")),
    responses(
        (status = 200, description = "The case file", content_type = "application/zip"),
        (status = 400, description = "Not a reference", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only compliance, team managers and the Customer Resolution Manager make case files", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such complaint", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 500, description = "A fault on our side", body = super::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn case_file(
    State(state): State<AppState>,
    caller: Caller,
    reference_path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    caller.require_reader()?;
    if !redress_core::visibility::may_make_case_file(caller.actor.role) {
        return Err(ApiError::Forbidden(
            "only compliance staff, team managers and the Customer Resolution Manager make case files".into(),
        ));
    }
    let reference = reference(&path(reference_path)?)?;
    let made = crate::casefile::generate(
        &state.store,
        &state.web.files_dir,
        &reference,
        &caller.actor,
        state.clock.now(),
    )
    .await
    .map_err(|error| match error {
        crate::casefile::CaseFileError::NotFound => {
            ApiError::NotFound("there is no complaint with that reference".into())
        }
        crate::casefile::CaseFileError::Store(error) => error.into(),
        crate::casefile::CaseFileError::Erased(reason) => {
            ApiError::Refused(redress_core::Refusal {
                code: redress_core::RefusalCode::WrongStatus,
                reason,
            })
        }
        crate::casefile::CaseFileError::Other(error) => ApiError::Internal(error),
    })?;
    Ok(crate::casefile::download(&reference, made.zip))
}

fn no_letter() -> ApiError {
    ApiError::NotFound("this complaint has no letter with that number".into())
}

/// List a complaint's letters and emails, oldest first: `id`, `kind`, `recipient`
/// (`customer` or `third_party`), `channel` (`email` or `post`), `created_at`, `sent_at`
/// (for post: put in the print queue), `printed_at` (post only, once staff mark it printed),
/// `attempts`, `last_error` while unsent, and `large_print`.
#[utoipa::path(get, path = "/api/v1/complaints/{reference}/letters", tag = "letters",
    params(("reference" = String, Path, description = "e.g. CMP-2026-000123")),
    responses(
        (status = 200, description = "`{reference, letters: [...]}`", body = Object),
        (status = 400, description = "Not a reference", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Customers and administrators cannot read complaints here", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such complaint", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 500, description = "A fault on our side", body = super::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    reference_path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    caller.require_reader()?;
    let reference = reference(&path(reference_path)?)?;
    let letters = state.store.complaint_letters(reference.as_str()).await?;
    Ok(axum::Json(json!({ "reference": reference, "letters": letters })).into_response())
}

/// One letter as a print-ready A4 PDF (`{id}.pdf`). Large print (16 pt and more) for customers
/// whose accessibility needs ask for it, or with `?large_print=true`; `?large_print=false`
/// gives the standard print.
#[utoipa::path(get, path = "/api/v1/complaints/{reference}/letters/{id}.pdf", tag = "letters",
    params(
        ("reference" = String, Path, description = "e.g. CMP-2026-000123"),
        ("id" = i64, Path, description = "the letter's id, from the list"),
        ("large_print" = Option<bool>, Query, description = "large print (true) or standard (false); by default as the customer's needs say"),
    ),
    responses(
        (status = 200, description = "The letter", content_type = "application/pdf"),
        (status = 400, description = "Not a reference, or a query parameter other than large_print=true|false", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Customers and administrators cannot read complaints here", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such complaint or letter", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 500, description = "A fault on our side", body = super::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn pdf(
    State(state): State<AppState>,
    caller: Caller,
    params: Result<Path<(String, String)>, PathRejection>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    caller.require_reader()?;
    let (reference_text, file) = path(params)?;
    let reference = reference(&reference_text)?;
    let id: i64 = file
        .strip_suffix(".pdf")
        .and_then(|n| n.parse().ok())
        .ok_or_else(no_letter)?;
    let large_print = large_print_query(query.as_deref())?;
    let item = state
        .store
        .complaint_letter(reference.as_str(), id)
        .await?
        .ok_or_else(no_letter)?;
    let kind = LetterKind::parse(&item.kind).ok_or_else(no_letter)?;
    if item.erased() {
        return Err(ApiError::Refused(redress_core::Refusal {
            code: redress_core::RefusalCode::WrongStatus,
            reason: crate::retention::ERASED_LETTER.into(),
        }));
    }
    let recipient = match item.recipient() {
        "third_party" => Recipient::ThirdParty,
        _ => Recipient::Customer,
    };
    // A letter that went: the bytes that went (or, asked in the other print size, its words
    // as sent printed again). Not sent yet: rendered now from the procedure's templates.
    let (letter, sent) = match state.store.letter_copy(item.id).await? {
        Some(copy) => {
            let (copy, pdf) = crate::mail::send::SentCopy::read(&state.web.files_dir, &copy)
                .await
                .map_err(ApiError::Internal)?;
            (copy.letter, Some(pdf))
        }
        None => {
            let (complaint, event) = state
                .store
                .letter_source(item.complaint_id, item.event_sequence)
                .await?;
            let letter =
                render::render(&complaint, &event, kind, recipient, state.store.procedure())
                    .map_err(|e| ApiError::Internal(anyhow::Error::new(e)))?;
            (letter, None)
        }
    };
    let large = large_print.unwrap_or(letter.large_print);
    let bytes = match sent.filter(|_| large == letter.large_print) {
        Some(bytes) => bytes,
        None => render_pdf(letter, large)
            .await
            .map_err(|e| ApiError::Internal(anyhow::Error::new(e)))?,
    };
    let name = format!(
        "{}-{}{}.pdf",
        item.reference,
        item.kind,
        if large { "-large-print" } else { "" }
    );
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("inline; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    // Personal data: never kept by a shared cache.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

fn large_print_query(query: Option<&str>) -> Result<Option<bool>, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or_default())
        .map_err(|e| {
            ApiError::bad_request("invalid_query", format!("the query is not valid: {e}"))
        })?;
    let mut asked = None;
    for (key, value) in pairs {
        if key != "large_print" {
            return Err(ApiError::BadRequest {
                code: "invalid_query",
                detail: format!("'{key}' is not a parameter here; the only one is large_print"),
                fields: vec![key],
            });
        }
        asked = Some(match value.as_str() {
            "true" | "1" | "yes" => true,
            "false" | "0" | "no" => false,
            _ => {
                return Err(ApiError::BadRequest {
                    code: "invalid_query",
                    detail: "large_print must be true or false".into(),
                    fields: vec!["large_print".into()],
                });
            }
        });
    }
    Ok(asked)
}

/// The print queue: post letters put in the print folder and not yet marked printed, oldest
/// first, as `manifest.json` lists them (`id`, `reference`, `kind`, `recipient`, `file`,
/// `large_print`, `created_at`, `queued_at`).
#[utoipa::path(get, path = "/api/v1/print-queue", tag = "letters",
    responses(
        (status = 200, description = "`{letters: [...]}`", body = Object),
        (status = 401, description = "No or bad token", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Customers and administrators cannot see letters", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 500, description = "A fault on our side", body = super::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn print_queue(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    caller.require_reader()?;
    let waiting: Vec<ManifestEntry> = state
        .store
        .print_queue()
        .await?
        .iter()
        .map(ManifestEntry::of)
        .collect();
    Ok(axum::Json(json!({ "letters": waiting })).into_response())
}

/// Mark a post letter printed (and posted). Marking it again changes nothing and answers the
/// same. The letter leaves the print queue and its manifest.
#[utoipa::path(post, path = "/api/v1/print-queue/{id}/printed", tag = "letters",
    params(("id" = i64, Path, description = "the letter's id")),
    responses(
        (status = 200, description = "`{id, reference, kind, printed_at, printed_by}`", body = Object),
        (status = 400, description = "The address is not valid UTF-8", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only staff who handle complaints mark letters printed", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No post letter has that id", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The letter is not in the print queue yet", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 500, description = "A fault on our side", body = super::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn printed(
    State(state): State<AppState>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    caller.require_reader()?;
    if caller.actor.role == Role::Compliance {
        return Err(ApiError::Forbidden(
            "compliance staff can read letters, but printing and posting them is for staff who handle complaints".into(),
        ));
    }
    let id: i64 = path(id)?
        .parse()
        .map_err(|_| ApiError::NotFound("no post letter has that number".into()))?;
    let by = caller
        .actor
        .staff
        .clone()
        .unwrap_or_else(|| caller.actor.role.as_str().to_owned());
    match state.store.mark_printed(id, state.clock.now(), &by).await? {
        Printed::Marked(item) => Ok(axum::Json(json!({
            "id": item.id,
            "reference": item.reference,
            "kind": item.kind,
            "printed_at": item.printed_at,
            "printed_by": item.printed_by,
        }))
        .into_response()),
        Printed::NotFound => Err(ApiError::NotFound("no post letter has that number".into())),
        Printed::NotQueued => Err(ApiError::Refused(redress_core::Refusal {
            code: redress_core::RefusalCode::NotYet,
            reason:
                "the letter is not in the print queue yet: it is printed once it has been produced"
                    .into(),
        })),
    }
}
