//! Email and post in: `POST /api/v1/inbound/email` (a raw RFC 5322 message, filed as
//! `redress ingest-mail` files it), `GET /api/v1/inbound/quarantine` (messages that could not be
//! filed) and `POST /api/v1/complaints/{reference}/post` (a letter received, with its scan).

use axum::Router;
use axum::body::Body;
use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::PathRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::StreamExt;
use redress_core::{Action, Channel, Command, Reference, Role};
use serde_json::{Value, json};

use super::AppState;
use super::auth::Caller;
use super::complaints::outcome_json;
use super::error::{ApiError, Problem};
use crate::files;
use crate::mail::inbound::{
    CollectError, Collector, FilingError, Inbox, MAX_MESSAGE_BYTES, Source,
};
use crate::store::NewAttachment;

/// The largest message the endpoint reads. Between [`MAX_MESSAGE_BYTES`] and this, a message is
/// kept and quarantined; beyond it the request is refused (413) and the sender keeps it.
pub const MAX_HTTP_MESSAGE_BYTES: u64 = 2 * MAX_MESSAGE_BYTES as u64;

/// The most of a text field of the post form read.
const TEXT_FIELD_BYTES: usize = 4 * redress_core::model::MAX_TEXT_CHARS + 1024;

/// The routes of email and post in.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/inbound/email", post(email))
        .route("/api/v1/inbound/quarantine", get(quarantine))
        .route(
            "/api/v1/complaints/{reference}/post",
            post(letter).layer(DefaultBodyLimit::max(files::UPLOAD_BODY_LIMIT)),
        )
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// File one raw email (`message/rfc822` or `application/octet-stream`). 202 with where it went:
/// `{"outcome": "added_to_complaint" | "new_complaint" | "quarantined", "reference"?, "reason"?}`
/// (`"duplicate": true` when the same Message-ID was filed before).
#[utoipa::path(post, path = "/api/v1/inbound/email", tag = "inbound",
    request_body(content = String, content_type = "message/rfc822", description = "the raw RFC 5322 message (or application/octet-stream)"),
    responses(
        (status = 202, description = "Stored: `outcome` is added_to_complaint, new_complaint or quarantined", body = Object),
        (status = 400, description = "The body could not be read", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role may not record complaints", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than the endpoint reads", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not message/rfc822 or application/octet-stream", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "A fault on our side", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn email(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    caller.require_intake()?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence != "message/rfc822" && essence != "application/octet-stream" {
        return Err(ApiError::UnsupportedMediaType(
            "send the raw message as message/rfc822 (or application/octet-stream)".into(),
        ));
    }
    if let Some(length) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
        && length > MAX_HTTP_MESSAGE_BYTES
    {
        return Err(ApiError::TooLarge(MAX_HTTP_MESSAGE_BYTES as usize));
    }
    let mut collector = Collector::new(
        state.web.files_dir.clone(),
        MAX_MESSAGE_BYTES,
        Some(MAX_HTTP_MESSAGE_BYTES),
    );
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| {
            ApiError::bad_request("unreadable_body", "the request body could not be read")
        })?;
        collector.push(&chunk).await.map_err(collect_error)?;
    }
    let raw = collector.finish().await.map_err(collect_error)?;
    let inbox = Inbox::new(state.store.clone(), state.web.files_dir.clone());
    let filed = inbox
        .file(raw, Source::Http, None, state.clock.now())
        .await
        .map_err(|error| match error {
            FilingError::Store(error) => ApiError::from(error),
            FilingError::Files(error) => ApiError::Internal(
                anyhow::Error::new(error).context("cannot keep an inbound email"),
            ),
        })?;
    let body = serde_json::to_value(&filed).unwrap_or(Value::Null);
    Ok(json_response(StatusCode::ACCEPTED, &body))
}

fn collect_error(error: CollectError) -> ApiError {
    match error {
        CollectError::TooLarge(limit) => {
            ApiError::TooLarge(usize::try_from(limit).unwrap_or(usize::MAX))
        }
        CollectError::Io(error) => {
            ApiError::Internal(anyhow::Error::new(error).context("cannot keep an inbound email"))
        }
    }
}

/// Messages that could not be filed, newest first (`?limit=` 1 to 200, default 50).
#[utoipa::path(get, path = "/api/v1/inbound/quarantine", tag = "inbound",
    params(("limit" = Option<u32>, Query, description = "1 to 200, default 50")),
    responses(
        (status = 200, description = "`items`: reason, sender, subject, message_id and the raw message's sha256", body = Object),
        (status = 400, description = "A parameter is invalid or unknown", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role may not read complaints", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "A fault on our side", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn quarantine(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    caller.require_reader()?;
    let mut limit = 50;
    for (key, value) in
        serde_urlencoded::from_str::<Vec<(String, String)>>(query.as_deref().unwrap_or(""))
            .map_err(|_| ApiError::bad_request("invalid_query", "the query is not valid"))?
    {
        match key.as_str() {
            "limit" => match value.parse::<i64>() {
                Ok(n) if (1..=200).contains(&n) => limit = n,
                _ => {
                    return Err(ApiError::BadRequest {
                        code: "invalid_query",
                        detail: "limit must be a number from 1 to 200".into(),
                        fields: vec!["limit".into()],
                    });
                }
            },
            other => {
                return Err(ApiError::BadRequest {
                    code: "invalid_query",
                    detail: format!(
                        "unknown query parameter '{}'",
                        other.chars().take(40).collect::<String>()
                    ),
                    fields: vec![other.chars().take(40).collect()],
                });
            }
        }
    }
    let items = state.store.quarantined(limit).await?;
    Ok(json_response(StatusCode::OK, &json!({ "items": items })))
}

/// A letter received by post: `received_on` (YYYY-MM-DD), `file` (the scan: PDF, JPEG or PNG)
/// and an optional `description`, as multipart/form-data. Records `receive_evidence` on the
/// letter channel and keeps the scan with the complaint's files. 201 with the events.
#[utoipa::path(post, path = "/api/v1/complaints/{reference}/post", tag = "inbound",
    params(("reference" = String, Path, description = "e.g. CMP-2026-000123")),
    request_body(content = String, content_type = "multipart/form-data", description = "received_on (YYYY-MM-DD), file (PDF, JPEG or PNG), description (optional)"),
    responses(
        (status = 201, description = "Recorded: `events` and the kept `attachment`", body = Object),
        (status = 400, description = "Not a reference, or a multipart body that cannot be read", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role or department may not do this now", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such complaint", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Refused by the procedure", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body larger than the upload limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not multipart/form-data", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is missing, unknown or invalid", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "A fault on our side", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn letter(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<String>, PathRejection>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    caller.require_reader()?;
    let reference = path
        .map(|Path(reference)| reference)
        .map_err(|_| {
            ApiError::bad_request(
                "invalid_reference",
                "the address is not valid: a complaint reference looks like CMP-2026-000123",
            )
        })
        .and_then(|r| {
            Reference::parse(&r).map_err(|e| ApiError::bad_request("invalid_reference", e.0))
        })?;
    let mut multipart = multipart.map_err(|_| {
        ApiError::UnsupportedMediaType(
            "send the letter as multipart/form-data with the fields received_on and file".into(),
        )
    })?;
    let mut received_on: Option<String> = None;
    let mut description: Option<String> = None;
    let mut file: Option<(String, Vec<u8>)> = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(error) => return Err(multipart_error(error.status())),
        };
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let keep = match name.as_str() {
            "file" => files::MAX_FILE_BYTES,
            "received_on" | "description" => TEXT_FIELD_BYTES,
            other => {
                let other: String = other.chars().take(40).collect();
                return Err(ApiError::invalid(
                    "unknown_field",
                    format!(
                        "unknown field: {other}; the fields are received_on, file and description"
                    ),
                    vec![other],
                ));
            }
        };
        let mut field = field;
        let mut bytes = Vec::new();
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    if bytes.len() + chunk.len() > keep {
                        return Err(if name == "file" {
                            ApiError::invalid(
                                "file_too_large",
                                format!(
                                    "the scan must be at most {} MiB",
                                    files::MAX_FILE_BYTES / (1024 * 1024)
                                ),
                                vec!["file".into()],
                            )
                        } else {
                            ApiError::invalid(
                                "invalid_field",
                                format!("the field `{name}` is too long"),
                                vec![name],
                            )
                        });
                    }
                    bytes.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(error) => return Err(multipart_error(error.status())),
            }
        }
        let text = || String::from_utf8_lossy(&bytes).trim().to_owned();
        match name.as_str() {
            "received_on" => received_on = Some(text()),
            "description" => description = Some(text()).filter(|d| !d.is_empty()),
            _ => file = Some((files::clean_name(&file_name.unwrap_or_default()), bytes)),
        }
    }
    let now = state.clock.now();
    let tz = state.store.procedure().time_zone();
    let today = redress_core::clock::local_date(tz, now);
    let received_on = received_on.filter(|d| !d.is_empty()).ok_or_else(|| {
        ApiError::invalid(
            "invalid_field",
            "the field `received_on` is missing: the date the letter arrived, as YYYY-MM-DD",
            vec!["received_on".into()],
        )
    })?;
    let received_on: jiff::civil::Date = received_on.parse().map_err(|_| {
        ApiError::invalid(
            "invalid_field",
            "the field `received_on` must be a date as YYYY-MM-DD",
            vec!["received_on".into()],
        )
    })?;
    if received_on > today {
        return Err(ApiError::invalid(
            "received_in_future",
            "received_on is in the future; record a letter once it has arrived",
            vec!["received_on".into()],
        ));
    }
    let (filename, bytes) = file.ok_or_else(|| {
        ApiError::invalid(
            "invalid_field",
            "the field `file` is missing: the scan of the letter (PDF, JPEG or PNG)",
            vec!["file".into()],
        )
    })?;
    let kind = files::check(&filename, &bytes).map_err(|problem| {
        let detail = match problem {
            files::FileProblem::Empty => "the scan is empty".to_owned(),
            files::FileProblem::TooBig => format!(
                "the scan must be at most {} MiB",
                files::MAX_FILE_BYTES / (1024 * 1024)
            ),
            files::FileProblem::WrongType => {
                "the scan must be a PDF, JPEG or PNG file whose name ends .pdf, .jpg or .png"
                    .to_owned()
            }
        };
        ApiError::invalid("invalid_file", detail, vec!["file".into()])
    })?;
    if kind == files::Kind::Text {
        return Err(ApiError::invalid(
            "invalid_file",
            "the scan must be a PDF, JPEG or PNG file",
            vec!["file".into()],
        ));
    }
    let size = bytes.len();
    let mut text = format!("Letter received by post on {received_on}. Scan: {filename}");
    if let Some(description) = description {
        text.push_str("\n\n");
        text.push_str(&description);
    }
    let command = Command {
        by: caller.actor.clone(),
        action: Action::ReceiveEvidence {
            request: None,
            description: Some(text),
            channel: Some(Channel::Letter),
        },
    };
    // Nothing is written to disk for someone who may not record it: the command is tried on
    // the complaint as it stands first, and only then is the scan kept.
    let current = state.store.get_complaint(&reference).await?.complaint;
    if let Some(refusal) =
        redress_core::execute(current, command.clone(), now, state.store.procedure()).refusal
    {
        return Err(ApiError::Refused(refusal));
    }
    let sha256 = files::keep(state.web.files_dir.clone(), bytes)
        .await
        .map_err(|e| ApiError::Internal(anyhow::Error::new(e).context("cannot keep a scan")))?;
    let uploaded_by = match (&caller.actor.staff, caller.actor.role) {
        (Some(staff), _) => format!("staff:{staff}"),
        (None, Role::System) => "system".to_owned(),
        (None, role) => format!("staff:{}", role.as_str()),
    };
    let scan = NewAttachment {
        sha256: sha256.clone(),
        filename: filename.clone(),
        content_type: kind.content_type().to_owned(),
        size: i64::try_from(size).unwrap_or(i64::MAX),
        uploaded_by,
    };
    // The evidence event and the scan's row commit together; a refusal records neither.
    let outcome = state
        .store
        .run_command_with_files(&reference, command, now, &[scan])
        .await?;
    if let Some(refusal) = outcome.refusal {
        return Err(ApiError::Refused(refusal));
    }
    let mut body = outcome_json(&outcome, &caller.actor, state.store.procedure());
    body["attachment"] = json!({
        "sha256": sha256,
        "filename": filename,
        "content_type": kind.content_type(),
        "size": size,
    });
    Ok(json_response(StatusCode::CREATED, &body))
}

fn multipart_error(status: StatusCode) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::TooLarge(files::UPLOAD_BODY_LIMIT)
    } else {
        ApiError::bad_request(
            "invalid_multipart",
            "the multipart/form-data body could not be read",
        )
    }
}
