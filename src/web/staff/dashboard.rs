//! The manager dashboard: open complaints per stage, what falls due this week, what is overdue
//! and what may go to the ombudsman, as a table and as bar charts drawn on the server (SVG
//! with presentation attributes only: the Content Security Policy forbids inline styles).

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use redress_core::Stage;

use super::{chrome, refuse_non_reader, today};
use crate::state::AppState;
use crate::web::session::StaffSession;
use crate::web::{Chrome, error_page, render};
use crate::words;

#[derive(Debug, Clone, Default)]
pub struct FigureRow {
    pub label: String,
    pub open: i64,
    pub due_this_week: i64,
    pub overdue: i64,
    pub adr_eligible: i64,
}

#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    pub value: i64,
    pub fill: &'static str,
    /// Top of the bar, its width, and where its label and value sit.
    pub y: i64,
    pub width: i64,
    pub text_y: i64,
    pub value_x: i64,
}

#[derive(Debug, Clone)]
pub struct Chart {
    pub id: String,
    pub title: String,
    pub description: String,
    pub width: i64,
    pub height: i64,
    pub label_x: i64,
    pub bar_x: i64,
    pub bar_height: i64,
    pub bars: Vec<Bar>,
}

const LABEL_WIDTH: i64 = 170;
const BAR_SPACE: i64 = 380;
const ROW: i64 = 40;
const BAR_HEIGHT: i64 = 26;

pub(super) fn chart(id: &str, title: &str, bars: Vec<(String, i64, &'static str)>) -> Chart {
    let max = bars.iter().map(|b| b.1).max().unwrap_or(0).max(1);
    let description = bars
        .iter()
        .map(|(label, value, _)| format!("{label}: {value}"))
        .collect::<Vec<_>>()
        .join("; ");
    let bars = bars
        .into_iter()
        .zip(0i64..)
        .map(|((label, value, fill), n)| {
            let width = if value > 0 {
                (value * BAR_SPACE / max).max(2)
            } else {
                0
            };
            let y = 8 + n * ROW;
            Bar {
                label,
                value,
                fill,
                y,
                width,
                text_y: y + BAR_HEIGHT / 2 + 6,
                value_x: LABEL_WIDTH + width + 8,
            }
        })
        .collect::<Vec<_>>();
    let rows = i64::try_from(bars.len()).unwrap_or(0);
    Chart {
        id: id.to_owned(),
        title: title.to_owned(),
        description,
        width: LABEL_WIDTH + BAR_SPACE + 60,
        height: rows * ROW + 16,
        label_x: LABEL_WIDTH - 10,
        bar_x: LABEL_WIDTH,
        bar_height: BAR_HEIGHT,
        bars,
    }
}

#[derive(Template)]
#[template(path = "staff_dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    week: String,
    rows: Vec<FigureRow>,
    totals: FigureRow,
    charts: Vec<Chart>,
    /// Where the procedure differs from the regulatory rules in force (managers and
    /// compliance only).
    rule_warnings: Vec<redress_core::regulation::RuleWarning>,
}

pub async fn dashboard(State(state): State<AppState>, staff: StaffSession) -> Response {
    if let Some(refused) = refuse_non_reader(&staff.user) {
        return refused;
    }
    let procedure = state.store.procedure();
    let today = today(&state);
    let figures = match state.store.dashboard_figures(today).await {
        Ok(figures) => figures,
        Err(error) => return error_page(&error.into()),
    };
    let stage_name = |n: i64| {
        u8::try_from(n)
            .ok()
            .and_then(|n| Stage::new(n).ok())
            .map_or_else(String::new, |s| procedure.stage(s).name.clone())
    };
    let rows: Vec<FigureRow> = figures
        .iter()
        .map(|f| FigureRow {
            label: format!("Stage {}: {}", f.stage, stage_name(f.stage)),
            open: f.open,
            due_this_week: f.due_this_week,
            overdue: f.overdue,
            adr_eligible: f.adr_eligible,
        })
        .collect();
    let totals = FigureRow {
        label: "All stages".into(),
        open: figures.iter().map(|f| f.open).sum(),
        due_this_week: figures.iter().map(|f| f.due_this_week).sum(),
        overdue: figures.iter().map(|f| f.overdue).sum(),
        adr_eligible: figures.iter().map(|f| f.adr_eligible).sum(),
    };
    let per_stage = figures
        .iter()
        .map(|f| (format!("Stage {}", f.stage), f.open, "#1d4ed8"))
        .collect();
    let at_a_glance = vec![
        ("Open".to_owned(), totals.open, "#1d4ed8"),
        ("Due this week".to_owned(), totals.due_this_week, "#b35900"),
        ("Overdue".to_owned(), totals.overdue, "#b10e1e"),
        ("ADR-eligible".to_owned(), totals.adr_eligible, "#5b21b6"),
    ];
    let last = redress_core::clock::add_days(today, 6);
    let rule_warnings = if matches!(
        staff.user.role,
        redress_core::Role::TeamManager
            | redress_core::Role::CustomerResolutionManager
            | redress_core::Role::Compliance
    ) {
        redress_core::regulation::check(procedure)
    } else {
        Vec::new()
    };
    let page = DashboardPage {
        rule_warnings,
        chrome: chrome(&state, &staff),
        week: format!("{} to {}", words::date(today), words::date(last)),
        rows,
        totals,
        charts: vec![
            chart("chart-stages", "Open complaints per stage", per_stage),
            chart(
                "chart-glance",
                "All open complaints at a glance",
                at_a_glance,
            ),
        ],
    };
    render(&page)
}
