//! `GET /api/v1/reports/complaints?from=&to=`: the complaint report as JSON, or as CSV when
//! the client accepts `text/csv`. Compliance, team managers and the Customer Resolution Manager.

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/reports/complaints", get(complaints))
}

#[utoipa::path(get, path = "/api/v1/reports/complaints", tag = "reports",
    params(
        ("from" = Option<String>, Query, description = "First London date of the period (YYYY-MM-DD); default the first complaint's"),
        ("to" = Option<String>, Query, description = "Last London date of the period; default today"),
        ("customers" = Option<u64>, Query, description = "Customers served, for complaints per 100,000 customers"),
        ("category" = Option<String>, Query, description = "Only complaints of this category"),
        ("channel" = Option<String>, Query, description = "Only complaints received by this channel"),
    ),
    responses(
        (status = 200, description = "The report: JSON, or CSV (section,figure,key,value) with Accept: text/csv"),
        (status = 400, description = "A parameter is wrong", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No bearer token, or not a valid one", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only compliance, team managers and the Customer Resolution Manager read reports", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 500, description = "A fault on our side", body = super::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn complaints(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    if !redress_core::visibility::may_read_reports(caller.actor.role) {
        return Err(ApiError::Forbidden(
            "only compliance staff, team managers and the Customer Resolution Manager read reports"
                .into(),
        ));
    }
    let ask = crate::reports::ask_from_query(query.as_deref())
        .map_err(|e| ApiError::bad_request("invalid_input", e))?;
    let report = state
        .store
        .complaint_report(&ask, state.clock.now())
        .await?;
    let wants_csv = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/csv"));
    if wants_csv {
        let mut response = crate::reports::csv(&report).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/csv; charset=utf-8"),
        );
        return Ok(response);
    }
    Ok(axum::Json(report).into_response())
}
