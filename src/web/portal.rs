//! The customer portal: the home page, making a complaint on the web, signing in (an emailed
//! one-time link, or reference and postcode), and each customer's own complaints with what
//! they may do next.
//!
//! A customer only ever sees complaints their session's scope covers; anything else is the
//! same "not found" page as a reference that does not exist. Customers see an allow-list of
//! events in plain words, never notes, calls, staff names or internal clocks. Every form works
//! without JavaScript and carries a CSRF token (before sign-in, a double-submit cookie).

mod complain;
pub(crate) use complain::{CONTACTS, Choice, NEEDS, VULNERABILITY_CHARS, Values, Voice, check_in};
mod complaint;
pub(crate) use complaint::letter_words;

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use std::net::SocketAddr;

use axum::extract::rejection::ExtensionRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use redress_core::model::Postcode;
use redress_core::{Reference, Status};

use super::session::{
    CUSTOMER_COOKIE, CustomerSession, anonymous_csrf, anonymous_csrf_ok, cookie, same_secret,
    set_cookie, with_cookie,
};
use super::{Area, Chrome, error_page, render};
use crate::client::client_ip;
use crate::files;
use crate::state::AppState;
use crate::store::{CustomerScope, MAX_FAILURES, SESSION_HOURS, Session, SessionOwner};
use crate::web::PageError;
use crate::web::throttle::{Throttle, Verdict, wait_in_words};
use crate::words;

/// The portal's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/complain", get(complain::form).post(complain::submit))
        .route("/my", get(sign_in_page))
        .route("/my/link", post(request_link))
        .route("/my/link/{token}", get(use_link))
        .route("/my/sign-in", post(sign_in))
        .route("/my/sign-out", post(sign_out))
        .route("/my/complaints", get(my_complaints))
        .route("/my/complaints/{reference}", get(complaint::page))
        .route("/my/complaints/{reference}/accept", post(complaint::accept))
        .route("/my/complaints/{reference}/reject", post(complaint::reject))
        .route(
            "/my/complaints/{reference}/escalate",
            post(complaint::escalate),
        )
        .route("/my/complaints/{reference}/review", post(complaint::review))
        .route(
            "/my/complaints/{reference}/letters/{file}",
            get(complaint::letter),
        )
        .route(
            "/my/complaints/{reference}/accept-compensation",
            post(complaint::accept_compensation),
        )
        .route(
            "/my/complaints/{reference}/evidence",
            post(complaint::evidence).layer(DefaultBodyLimit::max(files::UPLOAD_BODY_LIMIT)),
        )
}

// ----- Forms -----

/// A submitted form's fields in order (a group of checkboxes repeats its name).
#[derive(Debug, Default)]
pub(crate) struct FormData(Vec<(String, String)>);

impl FormData {
    pub(crate) fn parse(bytes: &[u8]) -> FormData {
        FormData(serde_urlencoded::from_bytes(bytes).unwrap_or_default())
    }

    /// The fields of a multipart form.
    pub(crate) fn from_pairs(pairs: Vec<(String, String)>) -> FormData {
        FormData(pairs)
    }

    /// The first value of a field, or "".
    pub(crate) fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Every value of a field.
    pub(crate) fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// One problem with a form: the id of the field at fault (the summary links to it) and what
/// to do about it.
#[derive(Debug, Clone)]
pub(crate) struct FieldError {
    pub field: &'static str,
    pub message: String,
}

/// The problems with a form, in the order of its fields.
#[derive(Debug, Clone, Default)]
pub(crate) struct Errors {
    pub items: Vec<FieldError>,
}

impl Errors {
    pub(crate) fn add(&mut self, field: &'static str, message: impl Into<String>) {
        if self.get(field).is_none() {
            self.items.push(FieldError {
                field,
                message: message.into(),
            });
        }
    }

    /// The message for a field, if it has one.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.items
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// A refusal sentence from the core as a sentence: a capital first letter and a full stop.
pub(crate) fn sentence(text: &str) -> String {
    let text = text.trim();
    let mut chars = text.chars();
    let mut out = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect::<String>(),
        None => String::new(),
    };
    if !out.is_empty() && !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

// ----- Sessions and common responses -----

/// The customer's session, when the request carries a live one (for pages anyone may see).
async fn optional_session(state: &AppState, headers: &HeaderMap) -> Option<CustomerSession> {
    let token = cookie(headers, CUSTOMER_COOKIE)?;
    match state.store.session(&token, state.clock.now()).await {
        Ok(Some(Session {
            owner: SessionOwner::Customer(scope),
            csrf_token,
            ..
        })) => Some(CustomerSession {
            scope,
            csrf: csrf_token,
            token,
        }),
        _ => None,
    }
}

/// The layout's chrome for a public page, showing "Sign out" to a signed-in customer.
fn public_chrome(
    state: &AppState,
    session: Option<&CustomerSession>,
    anonymous_csrf: &str,
) -> Chrome {
    match session {
        Some(session) => Chrome::new(
            state,
            Area::Public,
            Some("you".to_owned()),
            session.csrf.clone(),
        ),
        None => Chrome::new(state, Area::Public, None, anonymous_csrf.to_owned()),
    }
}

/// The chrome of a signed-in customer's page.
fn customer_chrome(state: &AppState, session: &CustomerSession) -> Chrome {
    Chrome::new(
        state,
        Area::Public,
        Some("you".to_owned()),
        session.csrf.clone(),
    )
}

fn with_status(status: StatusCode, response: Response) -> Response {
    (status, response).into_response()
}

/// The page for a complaint that does not exist or is not the customer's: the same either way.
fn complaint_not_found() -> Response {
    error_page(&PageError::NotFound(
        "We could not find that complaint among yours. Check the reference, or go back to your complaints.".into(),
    ))
}

/// A signed-in form whose CSRF token did not match.
fn form_expired() -> Response {
    error_page(&PageError::Forbidden(
        "This form has expired, so nothing was changed. Go back, reload the page and try again."
            .into(),
    ))
}

fn internal(error: impl Into<PageError>) -> Response {
    error_page(&error.into())
}

/// Whether a signed-in form's CSRF field matches the session's token.
fn session_csrf_ok(session: &CustomerSession, field: &str) -> bool {
    same_secret(&session.csrf, field)
}

/// The first telephone number of the procedure (Customer Services), for "telephone us".
fn help_telephone(state: &AppState) -> String {
    stage_telephone(state, redress_core::Stage::CUSTOMER_SERVICES)
}

/// The number a customer rings about a complaint at `stage`: its department's, or the
/// organisation's when the department has none.
fn stage_telephone(state: &AppState, stage: redress_core::Stage) -> String {
    let procedure = state.store.procedure();
    procedure
        .department(procedure.department_of(stage))
        .and_then(|d| d.telephone.clone())
        .or_else(|| procedure.organisation.telephone.clone())
        .unwrap_or_default()
}

// ----- Home -----

struct Telephone {
    department: String,
    number: String,
    href: String,
    note: Option<String>,
}

#[derive(Template)]
#[template(path = "portal_home.html")]
struct HomePage {
    chrome: Chrome,
    organisation: String,
    telephones: Vec<Telephone>,
    adr_after_weeks: i64,
    adr_name: String,
}

async fn home(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let session = optional_session(&state, &headers).await;
    let procedure = state.store.procedure();
    let today = redress_core::clock::local_date(procedure.time_zone(), state.clock.now());
    let code = super::code::CodeView::new(procedure, today);
    let mut telephones: Vec<Telephone> = Vec::new();
    for stage in &code.stages {
        if let Some(number) = &stage.telephone
            && stage.number < 5
            && !telephones.iter().any(|t| t.department == stage.department)
        {
            telephones.push(Telephone {
                department: stage.department.clone(),
                number: number.clone(),
                href: stage.telephone_href.clone(),
                note: stage.telephone_note.clone(),
            });
        }
    }
    let page = HomePage {
        chrome: public_chrome(&state, session.as_ref(), ""),
        organisation: code.organisation.clone(),
        telephones,
        adr_after_weeks: code.adr_after_weeks,
        adr_name: code.adr_name.clone(),
    };
    render(&page)
}

// ----- Signing in -----

#[derive(Template)]
#[template(path = "portal_sign_in.html")]
struct SignInPage {
    chrome: Chrome,
    csrf: String,
    errors: Errors,
    email: String,
    reference: String,
    postcode: String,
    telephone: String,
}

fn sign_in_form(
    state: &AppState,
    headers: &HeaderMap,
    errors: Errors,
    values: (&str, &str, &str),
    flash: Option<String>,
) -> Response {
    let (csrf, set) = anonymous_csrf(headers, state.web.https());
    let page = SignInPage {
        chrome: Chrome::new(state, Area::Public, None, csrf.clone()).with_flash(flash),
        csrf,
        errors,
        email: values.0.to_owned(),
        reference: values.1.to_owned(),
        postcode: values.2.to_owned(),
        telephone: help_telephone(state),
    };
    let response = render(&page);
    match set {
        Some(cookie) => with_cookie(response, cookie),
        None => response,
    }
}

#[derive(serde::Deserialize)]
struct SignInQuery {
    #[serde(default)]
    signed_out: Option<String>,
}

async fn sign_in_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<SignInQuery>,
) -> Response {
    if optional_session(&state, &headers).await.is_some() {
        return Redirect::to("/my/complaints").into_response();
    }
    let flash = query.signed_out.map(|_| "You have signed out.".to_owned());
    sign_in_form(&state, &headers, Errors::default(), ("", "", ""), flash)
}

/// Whether text is one email address, as the core will accept it.
fn looks_like_email(text: &str) -> bool {
    redress_core::model::parse_email(text).is_ok()
}

#[derive(Template)]
#[template(path = "portal_link_sent.html")]
struct LinkSentPage {
    chrome: Chrome,
    email: String,
    minutes: i64,
    telephone: String,
}

/// Emails a one-time link. The answer is the same whether or not we know the address.
async fn request_link(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let form = FormData::parse(&body);
    let email = form.get("email").trim().to_owned();
    let mut errors = Errors::default();
    let csrf_ok = anonymous_csrf_ok(&headers, Some(form.get("csrf")));
    if !csrf_ok {
        errors.add(
            "link-email",
            "For your security, this form had expired. Please send it again.",
        );
    } else if email.is_empty() {
        errors.add(
            "link-email",
            "Enter the email address you gave us when you complained",
        );
    } else if !looks_like_email(&email) {
        errors.add(
            "link-email",
            "Enter an email address in the right form, like name@example.com",
        );
    }
    if !errors.is_empty() {
        let status = if csrf_ok {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::FORBIDDEN
        };
        return with_status(
            status,
            sign_in_form(&state, &headers, errors, (&email, "", ""), None),
        );
    }
    let now = state.clock.now();
    // At most a few links per address in the throttle window, so nobody can flood an inbox;
    // the page says the same either way.
    let key = format!("customer-link:{}", email.to_lowercase());
    match state.store.recent_failures(&key, now).await {
        Ok(n) if n >= MAX_FAILURES => {}
        Ok(_) => {
            if let Err(error) = state.store.record_failure(&[key.as_str()], now).await {
                return internal(error);
            }
            let base = format!("{}/my/link/", state.web.public_url.trim_end_matches('/'));
            if let Err(error) = state.store.create_customer_link(&email, &base, now).await {
                return internal(error);
            }
        }
        Err(error) => return internal(error),
    }
    let page = LinkSentPage {
        chrome: Chrome::new(&state, Area::Public, None, String::new()),
        email,
        minutes: crate::store::LINK_MINUTES,
        telephone: help_telephone(&state),
    };
    render(&page)
}

/// Starts a customer session and sends the customer to their complaints.
async fn start_session(state: &AppState, headers: &HeaderMap, scope: CustomerScope) -> Response {
    let now = state.clock.now();
    // A new session every time: any session the browser had before ends.
    if let Some(old) = cookie(headers, CUSTOMER_COOKIE)
        && let Err(error) = state.store.end_session(&old).await
    {
        return internal(error);
    }
    match state
        .store
        .create_session(&SessionOwner::Customer(scope), now)
        .await
    {
        Ok((token, _)) => {
            let cookie = set_cookie(
                CUSTOMER_COOKIE,
                &token,
                SESSION_HOURS * 3600,
                state.web.https(),
            );
            with_cookie(Redirect::to("/my/complaints").into_response(), cookie)
        }
        Err(error) => internal(error),
    }
}

#[derive(Template)]
#[template(path = "portal_link_used.html")]
struct LinkUsedPage {
    chrome: Chrome,
    telephone: String,
}

async fn use_link(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Response {
    match state
        .store
        .use_customer_link(&token, state.clock.now())
        .await
    {
        Ok(Some(email)) => start_session(&state, &headers, CustomerScope::Email { email }).await,
        Ok(None) => {
            let page = LinkUsedPage {
                chrome: Chrome::new(&state, Area::Public, None, String::new()),
                telephone: help_telephone(&state),
            };
            with_status(StatusCode::GONE, render(&page))
        }
        Err(error) => internal(error),
    }
}

async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    peer: Result<ConnectInfo<SocketAddr>, ExtensionRejection>,
    body: Bytes,
) -> Response {
    let form = FormData::parse(&body);
    let reference_text = form.get("reference").trim().to_owned();
    let postcode_text = form.get("postcode").trim().to_owned();
    let values = ("", reference_text.as_str(), postcode_text.as_str());
    let mut errors = Errors::default();
    if !anonymous_csrf_ok(&headers, Some(form.get("csrf"))) {
        errors.add(
            "sign-in-reference",
            "For your security, this form had expired. Please send it again.",
        );
        return with_status(
            StatusCode::FORBIDDEN,
            sign_in_form(&state, &headers, errors, values, None),
        );
    }
    let reference = if reference_text.is_empty() {
        errors.add(
            "sign-in-reference",
            "Enter your complaint reference, like CMP-2026-000123",
        );
        None
    } else {
        match Reference::parse(&reference_text) {
            Ok(reference) => Some(reference),
            Err(_) => {
                errors.add(
                    "sign-in-reference",
                    "Enter the reference as it is written on our letters, like CMP-2026-000123",
                );
                None
            }
        }
    };
    let postcode = if postcode_text.is_empty() {
        errors.add("sign-in-postcode", "Enter the postcode you gave us");
        None
    } else {
        match Postcode::parse(&postcode_text) {
            Ok(postcode) => Some(postcode),
            Err(_) => {
                errors.add("sign-in-postcode", "Enter a real postcode, like M22 4SY");
                None
            }
        }
    };
    let (Some(reference), Some(postcode)) = (reference, postcode) else {
        return with_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            sign_in_form(&state, &headers, errors, values, None),
        );
    };
    let now = state.clock.now();
    // Per reference (growing delays, never a lock-out of the real customer) and per address
    // (guessing across references).
    let throttle = Throttle {
        store: &state.store,
        area: "customer",
        account: reference.as_str().to_owned(),
        address: client_ip(
            &headers,
            peer.ok().map(|ConnectInfo(addr)| addr),
            &state.web.trusted_proxies,
        ),
    };
    let wait = match throttle.check(now).await {
        Ok(Verdict::Go) => None,
        Ok(Verdict::AddressPaused) => Some(format!(
            "{} minutes",
            crate::web::throttle::FAILURE_WINDOW_MINUTES
        )),
        Ok(Verdict::AccountWait(wait)) => Some(wait_in_words(wait)),
        Err(error) => return internal(error),
    };
    if let Some(wait) = wait {
        errors.add(
            "sign-in-reference",
            format!(
                "You have tried to sign in too many times. Please wait {wait} and try again, or telephone us on {}",
                help_telephone(&state)
            ),
        );
        return with_status(
            StatusCode::TOO_MANY_REQUESTS,
            sign_in_form(&state, &headers, errors, values, None),
        );
    }
    match state
        .store
        .customer_scope_for(reference.as_str(), &postcode)
        .await
    {
        Ok(Some(scope)) => {
            if let Err(error) = throttle.succeeded().await {
                return internal(error);
            }
            start_session(&state, &headers, scope).await
        }
        Ok(None) => {
            if let Err(error) = throttle.failed(now).await {
                return internal(error);
            }
            errors.add(
                "sign-in-reference",
                "We could not find a complaint with that reference and postcode. Check both and try again",
            );
            with_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                sign_in_form(&state, &headers, errors, values, None),
            )
        }
        Err(error) => internal(error),
    }
}

async fn sign_out(
    State(state): State<AppState>,
    session: CustomerSession,
    body: Bytes,
) -> Response {
    let form = FormData::parse(&body);
    if !session_csrf_ok(&session, form.get("csrf")) {
        return form_expired();
    }
    if let Err(error) = state.store.end_session(&session.token).await {
        return internal(error);
    }
    let gone = set_cookie(CUSTOMER_COOKIE, "", 0, state.web.https());
    with_cookie(Redirect::to("/my?signed_out=1").into_response(), gone)
}

// ----- The customer's complaints -----

/// A complaint's status in the customer's words.
pub(crate) fn status_words(status: Status) -> &'static str {
    match status {
        Status::Open => "Open: we are working on it",
        Status::ResolutionOffered => "We have offered a resolution and are waiting for your answer",
        Status::Resolved => "Resolved: you accepted our resolution",
        Status::Deadlocked => "We have sent our final position (a deadlock letter)",
        Status::ReferredToAdr => "With the ombudsman",
        Status::Closed => "Closed",
    }
}

fn status_from(text: &str) -> Option<Status> {
    text.parse().ok()
}

struct ListItem {
    reference: String,
    about: String,
    received: String,
    stage: String,
    status: String,
}

#[derive(Template)]
#[template(path = "portal_complaints.html")]
struct ComplaintsPage {
    chrome: Chrome,
    items: Vec<ListItem>,
    telephone: String,
    /// Signed in with a reference: only that complaint is in reach.
    by_reference: bool,
}

async fn my_complaints(State(state): State<AppState>, session: CustomerSession) -> Response {
    let procedure = state.store.procedure();
    let tz = procedure.time_zone();
    let complaints = match state.store.customer_complaints(&session.scope).await {
        Ok(complaints) => complaints,
        Err(error) => return internal(error),
    };
    let items = complaints
        .into_iter()
        .map(|c| {
            let stage = u8::try_from(c.stage)
                .ok()
                .and_then(|n| redress_core::Stage::new(n).ok());
            ListItem {
                about: c
                    .category
                    .as_deref()
                    .and_then(|code| procedure.category(code))
                    .map_or_else(|| "Your complaint".to_owned(), |cat| cat.name.clone()),
                received: words::date(redress_core::clock::local_date(tz, c.first_received_at)),
                stage: stage.map_or_else(String::new, |s| {
                    format!("Stage {}: {}", s.number(), procedure.stage(s).name)
                }),
                status: status_from(&c.status).map_or_else(
                    || c.status.replace('_', " "),
                    |s| status_words(s).to_owned(),
                ),
                reference: c.reference,
            }
        })
        .collect();
    let page = ComplaintsPage {
        chrome: customer_chrome(&state, &session),
        items,
        telephone: help_telephone(&state),
        by_reference: matches!(session.scope, CustomerScope::Reference { .. }),
    };
    render(&page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_read_as_sentences() {
        assert_eq!(
            sentence("the complaint is closed"),
            "The complaint is closed."
        );
        assert_eq!(sentence("Already done."), "Already done.");
        assert_eq!(sentence(""), "");
    }

    #[test]
    fn forms_keep_repeated_fields() {
        let form = FormData::parse(b"needs=a&needs=b&name=Ann+Smith&x=%3Cscript%3E");
        assert_eq!(form.all("needs"), vec!["a", "b"]);
        assert_eq!(form.get("name"), "Ann Smith");
        assert_eq!(form.get("x"), "<script>");
        assert_eq!(form.get("missing"), "");
    }

    #[test]
    fn email_addresses_are_checked_loosely() {
        assert!(looks_like_email("ann@example.com"));
        assert!(!looks_like_email("ann@example"));
        assert!(!looks_like_email("ann example@x.com"));
        assert!(!looks_like_email("@x.com"));
    }
}
