//! `/api/v1/complaints`: create, read, list, and run commands.

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use redress_core::{
    Action, Actor, Channel, Command, Customer, Event, Receive, Reference, Role, Sight, Status,
    sight,
};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::AppState;
use super::auth::Caller;
use super::body::{parse_object, read_body, require_json, typed, typed_tagged};
use super::error::{ApiError, Problem};
use crate::store::{
    CommandOutcome, ComplaintFilter, ComplaintView, Created, Idempotency, Keyed, StoreError,
};

/// A new complaint, as sent to `POST /api/v1/complaints`.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct NewComplaint {
    /// telephone | email | letter | web | textphone
    pub channel: String,
    pub customer: CustomerInput,
    pub summary: String,
    /// A category code from the procedure (e.g. `billing_pricing_charges`).
    #[serde(default)]
    pub category: Option<String>,
    /// When it first reached the provider (RFC 3339); may be in the past, not the future.
    #[serde(default)]
    pub received_at: Option<String>,
    /// Staff members the complaint is about; they will never handle it.
    #[serde(default)]
    pub staff_concerned: Vec<String>,
}

/// The customer, as sent to the API.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct CustomerInput {
    pub account: String,
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub telephone: Option<String>,
    #[serde(default)]
    pub address: Vec<String>,
    #[serde(default)]
    pub postcode: Option<String>,
    #[serde(default)]
    pub preferred_channel: Option<String>,
    #[serde(default)]
    pub accessibility_needs: Vec<String>,
    #[serde(default)]
    pub vulnerabilities: Vec<String>,
}

/// The fields `POST /api/v1/complaints` really reads (shared with the schema above).
#[derive(Debug, Deserialize)]
struct CreateBody {
    channel: Channel,
    customer: Customer,
    summary: String,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    received_at: Option<jiff::Timestamp>,
    #[serde(default)]
    staff_concerned: Vec<String>,
}

fn parse_reference(text: &str) -> Result<Reference, ApiError> {
    Reference::parse(text).map_err(|e| ApiError::bad_request("invalid_reference", e.0))
}

/// The path's parameters, or a problem document (not axum's plain-text rejection) when they
/// cannot be read, e.g. percent-encoded bytes that are not UTF-8.
fn path_params<T>(path: Result<Path<T>, PathRejection>) -> Result<T, ApiError> {
    path.map(|Path(params)| params).map_err(|_| {
        ApiError::bad_request(
            "invalid_reference",
            "the address is not valid: a complaint reference looks like CMP-2026-000123",
        )
    })
}

/// The Idempotency-Key header, checked, scoped to the caller and bound to the request.
fn idempotency(
    headers: &HeaderMap,
    caller: &Caller,
    what: &str,
    body: &[u8],
) -> Result<Option<Idempotency>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 200 && k.chars().all(|c| c.is_ascii_graphic()))
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_idempotency_key",
                "the Idempotency-Key must be 1 to 200 visible ASCII characters",
            )
        })?;
    let mut hasher = Sha256::new();
    hasher.update(what.as_bytes());
    hasher.update([0]);
    hasher.update(body);
    let request_hash = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(Some(Idempotency {
        scope: format!("token:{}", caller.token_id),
        key: key.to_owned(),
        request_hash,
    }))
}

/// An event as the API shows it: `sequence`, `at`, `event`, its fields, `by`. A withheld
/// event (a restricted note the caller may not read) keeps its place, time and author and
/// says `"withheld": true`, without its text or whom it is about.
pub fn event_json(
    sequence: Option<i64>,
    recorded_at: Option<jiff::Timestamp>,
    event: &Event,
    sight: Sight,
) -> Value {
    let mut out = Map::new();
    if let Some(sequence) = sequence {
        out.insert("sequence".into(), json!(sequence));
    }
    out.insert("at".into(), json!(event.at.to_string()));
    if let Some(recorded_at) = recorded_at {
        out.insert("recorded_at".into(), json!(recorded_at.to_string()));
    }
    out.insert("event".into(), json!(event.kind.name()));
    if sight == Sight::Withheld {
        out.insert("restricted".into(), json!(true));
        out.insert("withheld".into(), json!(true));
    } else if let Ok(Value::Object(fields)) = serde_json::to_value(&event.kind) {
        for (k, v) in fields {
            if !out.contains_key(&k) {
                out.insert(k, v);
            }
        }
    }
    out.insert(
        "by".into(),
        serde_json::to_value(&event.by).unwrap_or(Value::Null),
    );
    Value::Object(out)
}

/// The complaint as the API shows it to `viewer` at `now`: its state, the department that owns
/// it, its timeline (as the core's visibility rule allows), its clocks, and what is owed on it
/// (the core's `owed`: the same overdue and ADR point as every page and list).
fn complaint_json(
    state: &AppState,
    view: &ComplaintView,
    viewer: &Actor,
    now: jiff::Timestamp,
) -> Value {
    let c = &view.complaint;
    let mut out = match serde_json::to_value(c) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    out.insert(
        "department".into(),
        json!(state.store.procedure().department_of(c.stage)),
    );
    out.insert(
        "events".into(),
        Value::Array(
            view.events
                .iter()
                .filter_map(|e| {
                    let sight = sight(viewer, c, &e.event, state.store.procedure());
                    (sight != Sight::Hidden)
                        .then(|| event_json(Some(e.sequence), Some(e.recorded_at), &e.event, sight))
                })
                .collect(),
        ),
    );
    out.insert(
        "deadlines".into(),
        serde_json::to_value(&view.deadlines).unwrap_or(Value::Array(Vec::new())),
    );
    out.insert(
        "owed".into(),
        serde_json::to_value(redress_core::owed(c, state.store.procedure(), now))
            .unwrap_or(Value::Array(Vec::new())),
    );
    Value::Object(out)
}

fn json_response(status: StatusCode, body: String, location: Option<&str>) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(location) = location.and_then(|l| HeaderValue::from_str(l).ok()) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// An answer of the API: what the first request got and what a retry with the same
/// Idempotency-Key gets again (built from the store's kept answer, so the same bytes).
struct Answer {
    status: StatusCode,
    body: String,
    location: Option<String>,
}

impl Answer {
    fn first(self) -> Response {
        json_response(self.status, self.body, self.location.as_deref())
    }

    fn replayed(self) -> Response {
        let mut response = json_response(self.status, self.body, self.location.as_deref());
        if self.status.is_client_error() {
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/problem+json"),
            );
        }
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
        response
    }
}

/// The answer to a new complaint: the complaint, its events as recorded and its deadline rows
/// as the store wrote them, so it reads as `GET` would then show it.
fn created_answer(state: &AppState, created: &Created, viewer: &Actor) -> Answer {
    let view = ComplaintView {
        complaint: created.complaint.clone(),
        events: created
            .events
            .iter()
            .enumerate()
            .map(|(i, e)| crate::store::EventRow {
                sequence: i64::try_from(i).unwrap_or(0) + 1,
                recorded_at: created.recorded_at,
                event: e.clone(),
                via: crate::store::via::current().map(str::to_owned),
            })
            .collect(),
        deadlines: created.deadlines.clone(),
    };
    Answer {
        status: StatusCode::CREATED,
        // Worded as of when it was recorded, so a retry gets the same bytes.
        body: complaint_json(state, &view, viewer, created.recorded_at).to_string(),
        location: Some(format!(
            "/api/v1/complaints/{}",
            created.complaint.reference
        )),
    }
}

/// The answer to a command: what it did, or (replayed for a retry with the same
/// Idempotency-Key) its refusal as the problem document first sent.
fn command_answer(state: &AppState, outcome: &CommandOutcome, viewer: &Actor) -> Answer {
    match &outcome.refusal {
        Some(refusal) => {
            let problem = ApiError::Refused(refusal.clone()).problem();
            Answer {
                status: StatusCode::from_u16(problem.status).unwrap_or(StatusCode::CONFLICT),
                body: serde_json::to_string(&problem).unwrap_or_default(),
                location: None,
            }
        }
        None => Answer {
            status: StatusCode::OK,
            body: outcome_json(outcome, viewer, state.store.procedure()).to_string(),
            location: None,
        },
    }
}

/// Record a new complaint.
#[utoipa::path(post, path = "/api/v1/complaints", tag = "complaints",
    request_body = NewComplaint,
    params(("Idempotency-Key" = Option<String>, Header, description = "retrying with the same key creates nothing twice")),
    responses(
        (status = 201, description = "Recorded; `Location` names it", body = Object),
        (status = 400, description = "Not JSON, not UTF-8, not an object, or a bad Idempotency-Key", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role may not record complaints", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body larger than 64 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is missing, unknown or invalid, or the Idempotency-Key was used for a different request", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "A fault on our side", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    caller.require_intake()?;
    let bytes = read_body(&headers, body).await?;
    require_json(&headers, &bytes)?;
    let object = parse_object(&bytes)?;
    let input: CreateBody = typed(Value::Object(object))?;
    let now = state.clock.now();
    if input.received_at.is_some_and(|t| t > now) {
        return Err(ApiError::invalid(
            "received_in_future",
            "received_at is in the future; a complaint can only be recorded once it has arrived",
            vec!["received_at".into()],
        ));
    }
    let key = idempotency(&headers, &caller, "POST /api/v1/complaints", &bytes)?;
    let receive = Receive {
        reference: Reference::new(&state.store.procedure().reference_prefix, 2000, 0),
        channel: input.channel,
        customer: input.customer,
        summary: input.summary,
        category: input.category,
        received_at: input.received_at,
        staff_concerned: input.staff_concerned,
        by: caller.actor.clone(),
    };
    let result = match &key {
        Some(key) => {
            state
                .store
                .create_complaint_keyed(receive, now, key, Vec::new())
                .await
        }
        None => state
            .store
            .create_complaint(receive, now)
            .await
            .map(Keyed::First),
    };
    match result {
        Ok(Keyed::First(created)) => {
            metrics::counter!("redress_complaints_created_total").increment(1);
            Ok(created_answer(&state, &created, &caller.actor).first())
        }
        Ok(Keyed::Replayed(created)) => {
            Ok(created_answer(&state, &created, &caller.actor).replayed())
        }
        Err(StoreError::Refused(refusal)) => Err(ApiError::Refused(refusal)),
        Err(other) => Err(other.into()),
    }
}

/// A complaint with its timeline (`events`) and clocks (`deadlines`).
#[utoipa::path(get, path = "/api/v1/complaints/{reference}", tag = "complaints",
    params(("reference" = String, Path, description = "e.g. CMP-2026-000123")),
    responses(
        (status = 200, description = "The complaint", body = Object),
        (status = 400, description = "Not a reference", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role may not read complaints", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such complaint", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "A fault on our side", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    caller.require_reader()?;
    let reference = parse_reference(&path_params(path)?)?;
    let view = state.store.get_complaint(&reference).await?;
    Ok(json_response(
        StatusCode::OK,
        complaint_json(&state, &view, &caller.actor, state.clock.now()).to_string(),
        None,
    ))
}

/// Run a command (`offer_resolution`, `request_escalation`, `issue_deadlock_letter`...) with its
/// fields as the JSON body. A refusal is a 409 whose `detail` is the reason in plain words.
#[utoipa::path(post, path = "/api/v1/complaints/{reference}/commands/{command}", tag = "complaints",
    params(
        ("reference" = String, Path, description = "e.g. CMP-2026-000123"),
        ("command" = String, Path, description = "a snake_case command name"),
        ("Idempotency-Key" = Option<String>, Header, description = "retrying with the same key does nothing twice"),
    ),
    request_body(content = Object, description = "the command's fields, as in `redress simulate`"),
    responses(
        (status = 200, description = "Done: `events` lists what happened", body = Object),
        (status = 400, description = "Not a reference; not JSON, not UTF-8 or not an object; or a bad Idempotency-Key", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role or department may not do this now", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such complaint or command", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Refused by the procedure; `detail` says why", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body larger than 64 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is missing, unknown or invalid, or the Idempotency-Key was used for a different request", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "A fault on our side", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn command(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<(String, String)>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    caller.require_reader()?;
    let (reference, name) = path_params(path)?;
    let reference = parse_reference(&reference)?;
    if name == "receive" || !Action::NAMES.contains(&name.as_str()) {
        return Err(ApiError::NotFound(format!(
            "there is no command '{}'; the commands are {}",
            name.chars().take(60).collect::<String>(),
            &Action::NAMES[1..].join(", ")
        )));
    }
    let bytes = read_body(&headers, body).await?;
    require_json(&headers, &bytes)?;
    let mut object = parse_object(&bytes)?;
    if object.contains_key("command") {
        return Err(ApiError::invalid(
            "unknown_field",
            "the command is named in the path, not the body",
            vec!["command".into()],
        ));
    }
    object.insert("command".into(), Value::String(name.clone()));
    let action: Action = typed_tagged(object)?;
    if let Action::Assign { handler } = &action {
        check_assignee(&state, &reference, handler).await?;
    }
    let key = idempotency(
        &headers,
        &caller,
        &format!("POST {reference}/{name}"),
        &bytes,
    )?;
    let now = state.clock.now();
    let command = Command {
        by: caller.actor.clone(),
        action,
    };
    let result = match &key {
        Some(key) => {
            state
                .store
                .run_command_keyed(&reference, command, now, key, &[])
                .await?
        }
        None => Keyed::First(state.store.run_command(&reference, command, now).await?),
    };
    if let Keyed::First(outcome) = &result {
        crate::retention::after_command(&state.store, &state.web.folders(), outcome).await?;
    }
    match result {
        Keyed::First(CommandOutcome {
            refusal: Some(refusal),
            ..
        }) => Err(ApiError::Refused(refusal)),
        Keyed::First(outcome) => Ok(command_answer(&state, &outcome, &caller.actor).first()),
        Keyed::Replayed(outcome) => Ok(command_answer(&state, &outcome, &caller.actor).replayed()),
    }
}

/// An assignment to a member of staff Redress knows must be to someone who may hold the
/// complaint at its stage (the core's `staffing::may_hold`). An identifier Redress has no
/// account for is the caller's own (a token's staff name) and is left to the core.
async fn check_assignee(
    state: &AppState,
    reference: &Reference,
    handler: &str,
) -> Result<(), ApiError> {
    let people = state.store.staff_by_email(&[handler.to_owned()]).await?;
    let Some(person) = people.get(&handler.trim().to_lowercase()) else {
        return Ok(());
    };
    let view = state.store.get_complaint(reference).await?;
    let procedure = state.store.procedure();
    let stage = view.complaint.stage;
    if redress_core::staffing::may_hold(person.role, person.department.as_deref(), stage, procedure)
    {
        return Ok(());
    }
    let department = procedure
        .department(procedure.department_of(stage))
        .map_or_else(
            || procedure.department_of(stage).to_owned(),
            |d| d.name.clone(),
        );
    Err(ApiError::invalid(
        "invalid_assignee",
        format!(
            "{} is not someone who handles complaints in {department}, which holds stage {stage}",
            person.email
        ),
        vec!["handler".into()],
    ))
}

/// What a command did, as `viewer` may see it: the complaint's stage and status and the events
/// it recorded.
pub fn outcome_json(
    outcome: &CommandOutcome,
    viewer: &Actor,
    procedure: &redress_core::Procedure,
) -> Value {
    let first = outcome.complaint.version as i64 - outcome.events.len() as i64;
    json!({
        "reference": outcome.complaint.reference,
        "stage": outcome.complaint.stage,
        "status": outcome.complaint.status,
        "events": outcome.events.iter().enumerate()
            .filter_map(|(i, e)| {
                let sight = sight(viewer, &outcome.complaint, e, procedure);
                (sight != Sight::Hidden).then(|| event_json(Some(first + i as i64 + 1), None, e, sight))
            })
            .collect::<Vec<_>>(),
    })
}

/// Query parameters of the list.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    stage: Option<String>,
    status: Option<String>,
    department: Option<String>,
    overdue: Option<String>,
    q: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

fn encode_cursor(key: i64, reference: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{key}.{reference}"))
}

fn decode_cursor(cursor: &str) -> Option<(i64, String)> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor.as_bytes()).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (key, reference) = text.split_once('.')?;
    let reference = Reference::parse(reference).ok()?;
    Some((key.parse().ok()?, reference.to_string()))
}

/// A page of complaints, soonest deadline first, with `next_cursor` for the next page.
#[utoipa::path(get, path = "/api/v1/complaints", tag = "complaints",
    params(
        ("stage" = Option<u8>, Query, description = "1 to 5"),
        ("status" = Option<String>, Query, description = "open | resolution_offered | resolved | deadlocked | referred_to_adr | closed"),
        ("department" = Option<String>, Query, description = "a department key from the procedure"),
        ("overdue" = Option<bool>, Query, description = "only complaints with something overdue"),
        ("q" = Option<String>, Query, description = "search reference, account, name, postcode, email"),
        ("limit" = Option<u32>, Query, description = "1 to 200, default 50"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"),
    ),
    responses(
        (status = 200, description = "`items` and `next_cursor`", body = Object),
        (status = 400, description = "A parameter is invalid or unknown", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role may not read complaints", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "A fault on our side", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    caller.require_reader()?;
    let raw = query.unwrap_or_default();
    if raw.len() > 2048 {
        return Err(ApiError::bad_request(
            "query_too_long",
            "the query string is too long",
        ));
    }
    let q: ListQuery = serde_urlencoded::from_str(&raw).map_err(|e| {
        ApiError::bad_request("invalid_query", format!("the query is not valid: {e}"))
    })?;
    let bad = |field: &str, detail: String| ApiError::BadRequest {
        code: "invalid_query",
        detail,
        fields: vec![field.to_owned()],
    };
    let mut filter = ComplaintFilter {
        limit: 50,
        ..ComplaintFilter::default()
    };
    if let Some(stage) = q.stage.filter(|s| !s.is_empty()) {
        match stage.parse::<i64>() {
            Ok(n) if (1..=5).contains(&n) => filter.stage = Some(n),
            _ => return Err(bad("stage", "stage must be a number from 1 to 5".into())),
        }
    }
    if let Some(status) = q.status.filter(|s| !s.is_empty()) {
        match status.parse::<Status>() {
            Ok(s) => filter.status = Some(s.as_str().to_owned()),
            Err(_) => {
                return Err(bad(
                    "status",
                    "status must be one of open, resolution_offered, resolved, deadlocked, referred_to_adr, closed".into(),
                ));
            }
        }
    }
    if let Some(department) = q.department.filter(|s| !s.is_empty()) {
        if state.store.procedure().department(&department).is_none() {
            let known: Vec<&str> = state
                .store
                .procedure()
                .departments
                .keys()
                .map(String::as_str)
                .collect();
            return Err(bad(
                "department",
                format!("department must be one of {}", known.join(", ")),
            ));
        }
        filter.department = Some(department);
    }
    if let Some(overdue) = q.overdue.filter(|s| !s.is_empty()) {
        filter.overdue = Some(match overdue.as_str() {
            "true" | "1" => true,
            "false" | "0" => false,
            _ => return Err(bad("overdue", "overdue must be true or false".into())),
        });
    }
    if let Some(text) = q.q.filter(|s| !s.trim().is_empty()) {
        if text.chars().count() > 200 {
            return Err(bad("q", "the search must be at most 200 characters".into()));
        }
        filter.q = Some(text.trim().to_owned());
    }
    if let Some(limit) = q.limit.filter(|s| !s.is_empty()) {
        match limit.parse::<i64>() {
            Ok(n) if (1..=200).contains(&n) => filter.limit = n,
            _ => return Err(bad("limit", "limit must be a number from 1 to 200".into())),
        }
    }
    if let Some(cursor) = q.cursor.filter(|s| !s.is_empty()) {
        filter.after = Some(
            decode_cursor(&cursor)
                .ok_or_else(|| bad("cursor", "the cursor is not one this API gave out".into()))?,
        );
    }
    let page = state.store.list_complaints(&filter).await?;
    let body = json!({
        "items": page.items,
        "next_cursor": page.next.map(|(key, reference)| encode_cursor(key, &reference)),
    });
    Ok(Json(body).into_response())
}

/// Whether a role is a member of staff with a department (used by the authorisation matrix).
pub fn is_departmental(role: Role) -> bool {
    role.handles_complaints()
}
