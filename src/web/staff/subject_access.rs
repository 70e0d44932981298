//! `/staff/subject-access`: compliance staff answer a customer's subject access request (UK
//! GDPR): the form takes the account number and any email address the customer used, and
//! gives the zip of everything held about them (`crate::subject_access`), recorded on each of
//! their complaints.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::{ErrorLink, actor, chrome};
use crate::casefile::CaseFileError;
use crate::subject_access::{Subject, generate};
use crate::web::session::StaffSession;
use crate::web::{Chrome, PageError, error_page, render};

#[derive(Template)]
#[template(path = "staff_subject_access.html")]
struct Page {
    chrome: Chrome,
    errors: Vec<ErrorLink>,
    account: String,
    email: String,
}

impl Page {
    fn error_for(&self, href: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.href == href)
            .map(|e| e.message.as_str())
    }
}

fn refuse(staff: &StaffSession) -> Option<Response> {
    (!redress_core::visibility::may_export_subject_access(staff.user.role)).then(|| {
        error_page(&PageError::Forbidden(
            "only compliance staff answer subject access requests".into(),
        ))
    })
}

/// `GET /staff/subject-access`: the form.
pub async fn form(State(state): State<crate::state::AppState>, staff: StaffSession) -> Response {
    if let Some(refused) = refuse(&staff) {
        return refused;
    }
    render(&Page {
        chrome: chrome(&state, &staff),
        errors: Vec::new(),
        account: String::new(),
        email: String::new(),
    })
}

/// `POST /staff/subject-access`: the zip, or the form again with what was wrong.
pub async fn export(
    State(state): State<crate::state::AppState>,
    staff: StaffSession,
    form: Result<axum::Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let form = match super::acting_form(&staff, refuse(&staff), form) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let field = |name: &str| {
        form.get(name)
            .map(|v| v.trim().chars().take(200).collect::<String>())
            .unwrap_or_default()
    };
    let (account, email) = (field("account"), field("email"));
    let again = |errors: Vec<ErrorLink>, status: StatusCode| {
        let page = Page {
            chrome: chrome(&state, &staff),
            errors,
            account: account.clone(),
            email: email.clone(),
        };
        (status, render(&page)).into_response()
    };
    if account.is_empty() {
        return again(
            vec![ErrorLink {
                href: "#account".into(),
                message: "Enter the customer's account number".into(),
            }],
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let subject = Subject {
        account: account.clone(),
        email: (!email.is_empty()).then(|| email.clone()),
    };
    match generate(
        &state.store,
        &state.web.files_dir,
        &subject,
        &actor(&staff.user),
        state.clock.now(),
    )
    .await
    {
        Ok(made) => {
            let mut response = made.zip.into_response();
            let headers = response.headers_mut();
            headers.insert(
                axum::http::header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static("application/zip"),
            );
            headers.insert(
                axum::http::header::CONTENT_DISPOSITION,
                axum::http::HeaderValue::from_static("attachment; filename=\"subject-access.zip\""),
            );
            response
        }
        Err(CaseFileError::NotFound) => again(
            vec![ErrorLink {
                href: "#account".into(),
                message: "No complaint is held for that account number or email address".into(),
            }],
            StatusCode::NOT_FOUND,
        ),
        Err(CaseFileError::Store(error)) => error_page(&error.into()),
        Err(CaseFileError::Erased(why)) => error_page(&PageError::Conflict(why)),
        Err(CaseFileError::Other(error)) => error_page(&PageError::Internal(error)),
    }
}
