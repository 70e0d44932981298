//! `/staff/audit`: compliance staff check the whole record from the staff pages, as `redress
//! audit verify` does: every complaint's hash chain, the projection against the events, the
//! counts, and the ledger's blocks. The result is shown with every problem found.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::response::Response;

use super::chrome;
use crate::state::AppState;
use crate::web::session::StaffSession;
use crate::web::{Chrome, PageError, error_page, render};

/// The most problems listed on the page (the command line lists them all).
const SHOWN: usize = 200;

struct Outcome {
    intact: bool,
    facts: Vec<String>,
    problems: Vec<String>,
    more: usize,
}

#[derive(Template)]
#[template(path = "staff_audit.html")]
struct Page {
    chrome: Chrome,
    outcome: Option<Outcome>,
}

fn refuse(staff: &StaffSession) -> Option<Response> {
    (staff.user.role != redress_core::Role::Compliance).then(|| {
        error_page(&PageError::Forbidden(
            "only compliance staff check the whole record".into(),
        ))
    })
}

/// `GET /staff/audit`: what the check does, and its button.
pub async fn page(State(state): State<AppState>, staff: StaffSession) -> Response {
    if let Some(refused) = refuse(&staff) {
        return refused;
    }
    render(&Page {
        chrome: chrome(&state, &staff),
        outcome: None,
    })
}

/// `POST /staff/audit`: checks the whole record now and shows what was found.
pub async fn verify(
    State(state): State<AppState>,
    staff: StaffSession,
    form: Result<axum::Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    if let Err(refused) = super::acting_form(&staff, refuse(&staff), form) {
        return *refused;
    }
    let report = match state.store.verify_audit().await {
        Ok(report) => report,
        Err(error) => return error_page(&error.into()),
    };
    let mut facts = vec![
        format!(
            "Checked {} complaints and {} events.",
            report.complaints, report.events
        ),
        format!("The ledger has {} sealed blocks.", report.blocks),
    ];
    if report.unsealed_events > 0 {
        facts.push(format!(
            "{} events were recorded after the newest block and are covered by their chains until the next seal.",
            report.unsealed_events
        ));
    }
    facts.push(
        "Block signatures are checked with the public key on the command line (redress audit verify --public-key).".to_owned(),
    );
    let problems: Vec<String> = report
        .problems
        .iter()
        .take(SHOWN)
        .map(|p| {
            let mut at = Vec::new();
            if let Some(reference) = &p.reference {
                at.push(reference.clone());
            }
            if let Some(sequence) = p.sequence {
                at.push(format!("event {sequence}"));
            }
            if let Some(block) = p.block {
                at.push(format!("block {block}"));
            }
            if at.is_empty() {
                p.problem.clone()
            } else {
                format!("{}: {}", at.join(", "), p.problem)
            }
        })
        .collect();
    let outcome = Outcome {
        intact: report.problems.is_empty(),
        more: report.problems.len().saturating_sub(SHOWN),
        facts,
        problems,
    };
    render(&Page {
        chrome: chrome(&state, &staff),
        outcome: Some(outcome),
    })
}
