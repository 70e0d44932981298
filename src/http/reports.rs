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
use crate::store::ReportAsk;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/reports/complaints", get(complaints))
}

/// Reads `from`, `to` (YYYY-MM-DD), `customers`, `category` and `channel`; names what is wrong.
pub fn ask_from_query(query: Option<&str>) -> Result<ReportAsk, String> {
    let mut ask = ReportAsk::default();
    for (key, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        let value = value.trim().to_owned();
        if value.is_empty() {
            continue;
        }
        let date = |v: &str| {
            v.parse::<jiff::civil::Date>().map_err(|_| {
                format!(
                    "{key} must be a date, YYYY-MM-DD (got '{}')",
                    v.chars().take(20).collect::<String>()
                )
            })
        };
        match key.as_ref() {
            "from" => ask.from = Some(date(&value)?),
            "to" => ask.to = Some(date(&value)?),
            "customers" => {
                ask.customers = Some(
                    value
                        .parse::<u64>()
                        .ok()
                        .filter(|n| *n > 0 && *n <= 1_000_000_000)
                        .ok_or("customers must be a whole number from 1 to 1,000,000,000")?,
                )
            }
            "category" => ask.category = Some(value.chars().take(100).collect()),
            "channel" => ask.channel = Some(value.chars().take(40).collect()),
            _ => {
                return Err(format!(
                    "'{}' is not a report parameter; they are from, to, customers, category, channel",
                    key.chars().take(40).collect::<String>()
                ));
            }
        }
    }
    if let (Some(from), Some(to)) = (ask.from, ask.to)
        && from > to
    {
        return Err(format!("from ({from}) is after to ({to})"));
    }
    Ok(ask)
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
        (status = 403, description = "Only compliance, team managers and the Customer Resolution Manager read reports", body = super::error::Problem, content_type = "application/problem+json"),
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
    let ask =
        ask_from_query(query.as_deref()).map_err(|e| ApiError::bad_request("invalid_input", e))?;
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
