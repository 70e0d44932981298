//! `/staff/reports`: the complaint report for compliance and managers, with a date range and
//! filters (category, channel, customers served), each figure as a table and the main ones as
//! SVG charts, and the same report as CSV (`/staff/reports.csv`). The figures are the store's
//! (`Store::complaint_report`), the same as `redress report` and the API give.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::chrome;
use super::dashboard::{Chart, chart};
use crate::state::AppState;
use crate::store::{Report, ReportAsk};
use crate::web::session::StaffSession;
use crate::web::{Chrome, PageError, error_page, render};

#[derive(Template)]
#[template(path = "staff_reports.html")]
struct Page {
    chrome: Chrome,
    problem: Option<String>,
    from: String,
    to: String,
    category: String,
    channel: String,
    customers: String,
    categories: Vec<(String, String)>,
    channels: Vec<(&'static str, &'static str)>,
    query: String,
    report: Option<Report>,
    charts: Vec<Chart>,
}

impl Page {
    fn money(&self, pence: &i64) -> String {
        redress_core::Money(*pence).to_string()
    }

    fn opt(&self, v: &Option<i64>) -> String {
        v.map(|v| v.to_string()).unwrap_or_else(|| "–".to_owned())
    }

    fn opt_u(&self, v: &Option<u64>) -> String {
        v.map(|v| format!("{v}%")).unwrap_or_else(|| "–".to_owned())
    }
}

fn refuse(staff: &StaffSession) -> Option<Response> {
    (!redress_core::visibility::may_read_reports(staff.user.role)).then(|| {
        error_page(&PageError::Forbidden(
            "only compliance staff, team managers and the Customer Resolution Manager read reports"
                .into(),
        ))
    })
}

pub async fn page(
    State(state): State<AppState>,
    staff: StaffSession,
    RawQuery(query): RawQuery,
) -> Response {
    if let Some(refused) = refuse(&staff) {
        return refused;
    }
    let procedure = state.store.procedure();
    let raw = query.unwrap_or_default();
    let value = |name: &str| {
        url::form_urlencoded::parse(raw.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.chars().take(100).collect::<String>())
            .unwrap_or_default()
    };
    let mut page = Page {
        chrome: chrome(&state, &staff),
        problem: None,
        from: value("from"),
        to: value("to"),
        category: value("category"),
        channel: value("channel"),
        customers: value("customers"),
        categories: procedure
            .categories
            .iter()
            .map(|c| (c.code.clone(), c.name.clone()))
            .collect(),
        channels: redress_core::actions::CHANNEL_WORDS.to_vec(),
        query: raw.chars().take(500).collect(),
        report: None,
        charts: Vec::new(),
    };
    let status = match crate::reports::ask_from_query(Some(&raw)) {
        Err(problem) => {
            page.problem = Some(crate::web::portal::sentence(&problem));
            StatusCode::BAD_REQUEST
        }
        Ok(ask) => match state.store.complaint_report(&ask, state.clock.now()).await {
            Ok(report) => {
                page.charts = charts(&report);
                if page.from.is_empty() {
                    page.from = report.from.to_string();
                }
                if page.to.is_empty() {
                    page.to = report.to.to_string();
                }
                page.report = Some(report);
                StatusCode::OK
            }
            Err(error) => return error_page(&error.into()),
        },
    };
    let mut response = render(&page);
    *response.status_mut() = status;
    response
}

fn charts(r: &Report) -> Vec<Chart> {
    let mut months: std::collections::BTreeMap<&str, i64> = Default::default();
    for m in &r.received.by_month {
        *months.entry(m.month.as_str()).or_default() += m.count as i64;
    }
    let received = months
        .into_iter()
        .map(|(m, n)| (m.to_owned(), n, "#1d4ed8"))
        .collect();
    let open = r
        .open_at_end
        .by_stage
        .iter()
        .map(|s| (format!("Stage {}", s.stage), s.total as i64, "#b35900"))
        .collect();
    let t = &r.timeliness;
    let timely = [
        ("Responses", &t.formal_responses),
        ("ADR letters", &t.adr_letters),
    ]
    .into_iter()
    .flat_map(|(what, o)| {
        [
            (format!("{what} on time"), o.on_time as i64, "#00703c"),
            (
                format!("{what} late"),
                (o.count - o.on_time) as i64,
                "#b10e1e",
            ),
        ]
    })
    .collect();
    vec![
        chart("chart-received", "Complaints received each month", received),
        chart(
            "chart-open",
            "Open at the end of the period, by stage",
            open,
        ),
        chart(
            "chart-timely",
            "Formal responses and ADR letters: on time or late",
            timely,
        ),
    ]
}

/// `/staff/reports.csv`: the same report as CSV, to download.
pub async fn csv(
    State(state): State<AppState>,
    staff: StaffSession,
    RawQuery(query): RawQuery,
) -> Response {
    if let Some(refused) = refuse(&staff) {
        return refused;
    }
    let ask: ReportAsk = match crate::reports::ask_from_query(query.as_deref()) {
        Ok(ask) => ask,
        Err(problem) => {
            return error_page(&PageError::BadRequest(crate::web::portal::sentence(
                &problem,
            )));
        }
    };
    match state.store.complaint_report(&ask, state.clock.now()).await {
        Ok(report) => {
            let name = format!("complaints-report-{}-to-{}.csv", report.from, report.to);
            let mut response = crate::reports::csv(&report).into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            );
            if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
                headers.insert(header::CONTENT_DISPOSITION, v);
            }
            response
        }
        Err(error) => error_page(&error.into()),
    }
}
