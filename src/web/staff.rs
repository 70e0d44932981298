//! The staff side: sign-in and sign-out, the department's queue, a complaint's page with a
//! form for each command the signed-in person may take now, and the manager dashboard.
//!
//! Every page is server-rendered and works without JavaScript. Forms carry a CSRF token (the
//! session's own once signed in; a double-submit cookie on the sign-in form). What a person may
//! do is decided by the core alone: pages offer only what `redress_core::available` lists.

mod audit;
mod case;
mod dashboard;
mod files;
pub mod forms;
mod print_queue;
mod quarantine;
mod queue;
mod record;
mod reports;
mod subject_access;

use std::collections::HashMap;
use std::net::SocketAddr;

use crate::client::client_ip;
use crate::web::throttle::{Throttle, Verdict, wait_in_words};
use askama::Template;
use axum::Router;
use axum::extract::rejection::{ExtensionRejection, FormRejection};
use axum::extract::{ConnectInfo, DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, extract::rejection::QueryRejection};
use jiff::civil::Date;
use redress_core::complaint::Complaint;
use redress_core::deadline::DeadlineKind;
use redress_core::{Actor, Role};

use super::session::{self, StaffSession};
use super::{Area, Chrome, error_page, render};
use crate::state::AppState;
use crate::store::{DeadlineRow, FAILURE_WINDOW_MINUTES, SESSION_HOURS, SessionOwner, User};
use crate::web::PageError;
use crate::words;

/// The staff pages' routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/staff/sign-in", get(sign_in_page).post(sign_in))
        .route("/staff/sign-out", post(sign_out))
        .route("/staff", get(queue::queue))
        .route("/staff/search", get(queue::search))
        .route("/staff/my", get(queue::mine))
        .route("/staff/unassigned", get(queue::unassigned))
        .route("/staff/approvals", get(queue::approvals))
        .route("/staff/assign", post(queue::bulk_assign))
        .route("/staff/audit", get(audit::page).post(audit::verify))
        .route(
            "/staff/subject-access",
            get(subject_access::form).post(subject_access::export),
        )
        .route("/staff/dashboard", get(dashboard::dashboard))
        .route("/staff/reports", get(reports::page))
        .route("/staff/reports.csv", get(reports::csv))
        .route("/staff/complaints/new", get(record::form))
        .route(
            "/staff/complaints",
            post(record::record).layer(DefaultBodyLimit::max(crate::files::UPLOAD_BODY_LIMIT)),
        )
        .route("/staff/complaints/{reference}", get(case::case_page))
        .route(
            "/staff/complaints/{reference}/commands/{command}",
            post(case::command).layer(DefaultBodyLimit::max(crate::files::UPLOAD_BODY_LIMIT)),
        )
        .route("/staff/complaints/{reference}/files/{id}", get(files::file))
        .route(
            "/staff/complaints/{reference}/case-file",
            post(case::case_file),
        )
        .route(
            "/staff/complaints/{reference}/letters/{file}",
            get(case::letter),
        )
        .route("/staff/quarantine", get(quarantine::list))
        .route("/staff/quarantine/{id}", get(quarantine::message))
        .route(
            "/staff/quarantine/{id}/message.eml",
            get(quarantine::download),
        )
        .route("/staff/quarantine/{id}/file", post(quarantine::file))
        .route("/staff/quarantine/{id}/discard", post(quarantine::discard))
        .route("/staff/print-queue", get(print_queue::queue))
        .route(
            "/staff/print-queue/{id}/printed",
            post(print_queue::printed),
        )
        .route(
            "/staff/print-queue/{id}/reprint",
            post(print_queue::reprint),
        )
}

// ---------------------------------------------------------------------------------------------
// Shared by the staff pages
// ---------------------------------------------------------------------------------------------

/// The page chrome for a signed-in member of staff.
fn chrome(state: &AppState, session: &StaffSession) -> Chrome {
    let mut chrome = Chrome::new(
        state,
        Area::Staff,
        Some(session.user.name.clone()),
        session.csrf.clone(),
    );
    chrome.subject_access = redress_core::visibility::may_export_subject_access(session.user.role);
    chrome.reports = redress_core::visibility::may_read_reports(session.user.role);
    chrome
}

/// Who a signed-in member of staff is to the core.
fn actor(user: &User) -> Actor {
    match &user.department {
        Some(department) => Actor::staff(user.role, department, Some(&user.email)),
        None => Actor {
            role: user.role,
            department: None,
            staff: Some(user.email.clone()),
        },
    }
}

/// The page refusing someone who may not read complaints (administrators manage users and
/// the procedure only); `None` for staff who may.
fn refuse_non_reader(user: &User) -> Option<Response> {
    // Staff sessions are never the system's, so the core's reader rule is the whole answer.
    if redress_core::visibility::reads_complaints(user.role) && user.role != Role::System {
        return None;
    }
    Some(error_page(&PageError::Forbidden(
        "administrators manage users and the procedure; they cannot read complaints".into(),
    )))
}

/// Checks a signed-in form's CSRF field against the session's token.
fn csrf_ok(session: &StaffSession, form: &HashMap<String, String>) -> bool {
    form.get("csrf")
        .is_some_and(|token| session::same_secret(token, &session.csrf))
}

/// Turns away, with `why`, a reader who does not handle complaints (compliance staff read the
/// desk's pages but act on none): the core's [`Role::handles_complaints`].
fn refuse_non_handler(staff: &StaffSession, why: &str) -> Option<Response> {
    (!staff.user.role.handles_complaints())
        .then(|| error_page(&PageError::Forbidden(why.to_owned())))
}

/// Staff shown by name: each address looked up once, an unknown one shown as it is.
pub(super) struct Names(HashMap<String, String>);

impl Names {
    /// The names of the active staff with these addresses.
    pub(super) async fn of(
        state: &AppState,
        emails: &[String],
    ) -> Result<Names, crate::store::StoreError> {
        let people = state.store.staff_by_email(emails).await?;
        Ok(Names(
            people.into_iter().map(|(k, u)| (k, u.name)).collect(),
        ))
    }

    pub(super) fn name(&self, email: &str) -> String {
        self.0
            .get(&email.trim().to_lowercase())
            .cloned()
            .unwrap_or_else(|| email.to_owned())
    }
}

/// The fields of a form posted by someone who may send it: a reader of complaints whom the
/// page's own rule (`refused`) does not turn away, with a form that can be read and carries the
/// session's CSRF token; otherwise the page saying why not.
pub(super) fn acting_form(
    staff: &StaffSession,
    refused: Option<Response>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<HashMap<String, String>, Box<Response>> {
    if let Some(refused) = refuse_non_reader(&staff.user).or(refused) {
        return Err(Box::new(refused));
    }
    let Ok(Form(form)) = form else {
        return Err(Box::new(bad_form()));
    };
    if !csrf_ok(staff, &form) {
        return Err(Box::new(csrf_refused()));
    }
    Ok(form)
}

/// A reason given for the record: required, at most `max` characters, kept as plain text.
/// `Err` is the message for the field.
fn required_reason(text: &str, max: usize, missing: &str) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() {
        Err(missing.to_owned())
    } else if text.chars().count() > max {
        Err(format!("The reason must be at most {max} characters"))
    } else {
        Ok(crate::mail::examine::clean_text(text, max))
    }
}

fn csrf_refused() -> Response {
    error_page(&PageError::Forbidden(
        "the form had expired or did not come from this site, so nothing was changed; go back, reload the page and try again".into(),
    ))
}

fn bad_form() -> Response {
    error_page(&PageError::BadRequest(
        "the form could not be read; go back and try again".into(),
    ))
}

/// Today's London date.
fn today(state: &AppState) -> Date {
    redress_core::clock::local_date(state.store.procedure().time_zone(), state.clock.now())
}

/// A status in words.
fn status_words(status: &str) -> &'static str {
    match status {
        "open" => "Open",
        "resolution_offered" => "Resolution offered",
        "resolved" => "Resolved (the customer accepted)",
        "deadlocked" => "Deadlocked",
        "referred_to_adr" => "Referred to the ombudsman",
        "closed" => "Closed",
        _ => "Unknown",
    }
}

const STATUSES: [&str; 6] = [
    "open",
    "resolution_offered",
    "resolved",
    "deadlocked",
    "referred_to_adr",
    "closed",
];

fn deadline_kind(text: &str) -> Option<DeadlineKind> {
    Some(match text {
        "acknowledgement" => DeadlineKind::Acknowledgement,
        "evidence" => DeadlineKind::Evidence,
        "formal_response" => DeadlineKind::FormalResponse,
        "adr" => DeadlineKind::Adr,
        "remedy" => DeadlineKind::Remedy,
        _ => return None,
    })
}

/// One clock of a complaint, in words.
#[derive(Debug, Clone)]
pub struct ClockView {
    pub label: String,
    /// The last London date to act on, in words.
    pub due_by: String,
    /// How it stands: "formal response due in 3 days", "overdue by 2 days", "done".
    pub state: String,
    /// A tag class ("overdue", "soon", "ok") and its text, when there is one.
    pub tag: Option<(&'static str, &'static str)>,
    pub overdue: bool,
    pub running: bool,
    pub sort: Date,
    pub kind: DeadlineKind,
}

/// Every clock a complaint has had, running and fired, in words; a fired clock whose work is
/// still owed (the core's [`redress_core::owed`]) is overdue.
fn clocks(
    c: &Complaint,
    rows: &[DeadlineRow],
    owed: &[redress_core::Owed],
    today: Date,
    tz: &jiff::tz::TimeZone,
) -> Vec<ClockView> {
    rows.iter()
        .filter_map(|row| {
            let kind = deadline_kind(&row.kind)?;
            let due_by: Date = row.due_by.parse().ok()?;
            let mut label = words::deadline_label(kind, &c.rules);
            if let Some(n) = row.request {
                label = format!("{label} (request {n})");
            }
            let days = (due_by - today).get_days();
            let view = |state: String, tag, overdue, running| ClockView {
                label: label.clone(),
                due_by: words::date(due_by),
                state,
                tag,
                overdue,
                running,
                sort: due_by,
                kind,
            };
            Some(match row.fired_at {
                None if kind == DeadlineKind::Adr => view(
                    words::time_left(kind, due_by, today, &c.rules),
                    None,
                    false,
                    true,
                ),
                None => {
                    let overdue = words::is_overdue(due_by, today);
                    let tag = if overdue {
                        Some(("overdue", "Overdue"))
                    } else if days <= 3 {
                        Some(("soon", "Due soon"))
                    } else {
                        Some(("ok", "On time"))
                    };
                    view(
                        words::time_left(kind, due_by, today, &c.rules),
                        tag,
                        overdue,
                        true,
                    )
                }
                Some(fired) => {
                    if kind == DeadlineKind::Adr {
                        view(
                            format!(
                                "{} passed on {}: the customer may go to the ombudsman",
                                c.rules.adr_period_in_words(),
                                words::date(due_by)
                            ),
                            None,
                            false,
                            false,
                        )
                    } else if owed.iter().any(|o| {
                        o.kind == kind
                            && o.request.map(i64::from) == row.request
                            && o.standing == redress_core::Standing::Overdue
                    }) {
                        view(
                            words::time_left(kind, due_by, today, &c.rules),
                            Some(("overdue", "Overdue")),
                            true,
                            false,
                        )
                    } else {
                        view(
                            format!(
                                "missed (it fell due {}); dealt with since",
                                words::instant(fired, tz)
                            ),
                            None,
                            false,
                            false,
                        )
                    }
                }
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Signing in and out
// ---------------------------------------------------------------------------------------------

/// An error for the summary at the top of a page, linked to its field.
#[derive(Debug, Clone)]
pub struct ErrorLink {
    pub href: String,
    pub message: String,
}

#[derive(Template)]
#[template(path = "staff_sign_in.html")]
struct SignInPage {
    chrome: Chrome,
    email: String,
    email_error: Option<String>,
    password_error: Option<String>,
    errors: Vec<ErrorLink>,
    /// Why signing in is refused for now (too many failures).
    refusal: Option<String>,
    max_failures: i64,
    window_minutes: i64,
}

#[derive(Debug, serde::Deserialize)]
struct SignInQuery {
    #[serde(default)]
    signed_out: Option<String>,
}

async fn sign_in_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<SignInQuery>, QueryRejection>,
) -> Response {
    // Already signed in: straight to the queue.
    if let Some(token) = session::cookie(&headers, session::STAFF_COOKIE)
        && let Ok(Some(s)) = state.store.session(&token, state.clock.now()).await
        && matches!(s.owner, SessionOwner::Staff(_))
    {
        return Redirect::to("/staff").into_response();
    }
    let signed_out = query.is_ok_and(|Query(q)| q.signed_out.is_some());
    let flash = signed_out.then(|| "You have signed out.".to_owned());
    sign_in_form(
        &state,
        &headers,
        StatusCode::OK,
        SignInForm {
            flash,
            ..Default::default()
        },
    )
}

#[derive(Default)]
struct SignInForm {
    email: String,
    email_error: Option<String>,
    password_error: Option<String>,
    refusal: Option<String>,
    flash: Option<String>,
}

fn sign_in_form(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    form: SignInForm,
) -> Response {
    let (csrf, set) = session::anonymous_csrf(headers, state.web.https());
    let mut errors = Vec::new();
    if let Some(message) = &form.email_error {
        errors.push(ErrorLink {
            href: "#email".into(),
            message: message.clone(),
        });
    }
    if let Some(message) = &form.password_error {
        errors.push(ErrorLink {
            href: "#password".into(),
            message: message.clone(),
        });
    }
    let page = SignInPage {
        chrome: Chrome::new(state, Area::Staff, None, csrf).with_flash(form.flash),
        email: form.email,
        email_error: form.email_error,
        password_error: form.password_error,
        errors,
        refusal: form.refusal,
        max_failures: crate::web::throttle::FREE_FAILURES,
        window_minutes: FAILURE_WINDOW_MINUTES,
    };
    let response = (status, render(&page)).into_response();
    match set {
        Some(cookie) => session::with_cookie(response, cookie),
        None => response,
    }
}

async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    peer: Result<ConnectInfo<SocketAddr>, ExtensionRejection>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return bad_form();
    };
    if !session::anonymous_csrf_ok(&headers, form.get("csrf").map(String::as_str)) {
        return csrf_refused();
    }
    let email = form
        .get("email")
        .map(|e| e.trim().to_lowercase())
        .unwrap_or_default();
    let password = form.get("password").cloned().unwrap_or_default();
    let mut answer = SignInForm {
        email: email.chars().take(200).collect(),
        ..Default::default()
    };
    if email.is_empty() {
        answer.email_error = Some("Enter your email address".into());
    } else if email.len() > 200 || !email.contains('@') {
        answer.email_error = Some("Enter your email address, like name@example.com".into());
    }
    if password.is_empty() {
        answer.password_error = Some("Enter your password".into());
    } else if password.len() > 1024 {
        answer.password_error = Some("That password is too long".into());
    }
    if answer.email_error.is_some() || answer.password_error.is_some() {
        return sign_in_form(&state, &headers, StatusCode::UNPROCESSABLE_ENTITY, answer);
    }
    let now = state.clock.now();
    let throttle = Throttle {
        store: &state.store,
        area: "staff",
        account: email.clone(),
        address: client_ip(
            &headers,
            peer.ok().map(|ConnectInfo(addr)| addr),
            &state.web.trusted_proxies,
        ),
    };
    match throttle.check(now).await {
        Ok(Verdict::Go) => {}
        Ok(Verdict::AddressPaused) => {
            answer.refusal = Some(format!(
                "There have been too many attempts to sign in that failed from your connection. For your security, signing in from it is paused: try again in {FAILURE_WINDOW_MINUTES} minutes, or ask an administrator to check your account."
            ));
            return sign_in_form(&state, &headers, StatusCode::TOO_MANY_REQUESTS, answer);
        }
        Ok(Verdict::AccountWait(wait)) => {
            answer.refusal = Some(format!(
                "There have been too many attempts to sign in that failed. For your security, wait {} and try again, or ask an administrator to check your account.",
                wait_in_words(wait)
            ));
            return sign_in_form(&state, &headers, StatusCode::TOO_MANY_REQUESTS, answer);
        }
        Err(error) => return error_page(&error.into()),
    }
    let user = match state.store.check_password(&email, &password).await {
        Ok(user) => user,
        Err(error) => return error_page(&error.into()),
    };
    let Some(user) = user else {
        if let Err(error) = throttle.failed(now).await {
            return error_page(&error.into());
        }
        answer.email_error = Some("The email address or password is not right".into());
        return sign_in_form(&state, &headers, StatusCode::UNAUTHORIZED, answer);
    };
    if let Err(error) = throttle.succeeded().await {
        return error_page(&error.into());
    }
    // A session cookie from before signing in is never reused.
    if let Some(old) = session::cookie(&headers, session::STAFF_COOKIE)
        && let Err(error) = state.store.end_session(&old).await
    {
        return error_page(&error.into());
    }
    let (token, _) = match state
        .store
        .create_session(&SessionOwner::Staff(user), now)
        .await
    {
        Ok(created) => created,
        Err(error) => return error_page(&error.into()),
    };
    let cookie = session::set_cookie(
        session::STAFF_COOKIE,
        &token,
        SESSION_HOURS * 3600,
        state.web.https(),
    );
    session::with_cookie(Redirect::to("/staff").into_response(), cookie)
}

async fn sign_out(
    State(state): State<AppState>,
    staff: StaffSession,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return bad_form();
    };
    if !csrf_ok(&staff, &form) {
        return csrf_refused();
    }
    if let Err(error) = state.store.end_session(&staff.token).await {
        return error_page(&error.into());
    }
    let cookie = session::set_cookie(session::STAFF_COOKIE, "", 0, state.web.https());
    session::with_cookie(
        Redirect::to("/staff/sign-in?signed_out=1").into_response(),
        cookie,
    )
}
