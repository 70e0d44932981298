//! The people's side: server-rendered pages for staff and customers, and the published
//! complaints code. Every page works without JavaScript; templates auto-escape (askama);
//! every form carries a CSRF token; responses carry a strict Content Security Policy.

pub mod code;
mod error;
pub mod letters;
pub mod portal;
pub mod session;
pub mod staff;
pub mod throttle;

use askama::Template;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use crate::state::AppState;
pub use error::PageError;

/// Which part of the site a page belongs to (its navigation differs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    Public,
    Staff,
}

impl Area {
    fn as_str(self) -> &'static str {
        match self {
            Area::Public => "public",
            Area::Staff => "staff",
        }
    }
}

/// What the layout needs on every page.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub organisation: String,
    pub area: &'static str,
    /// The signed-in person's name, if any.
    pub signed_in: Option<String>,
    /// The CSRF token for forms on the page (the sign-out form among them).
    pub csrf: String,
    pub flash: Option<String>,
    /// A page printed on its own, without the site's navigation.
    pub standalone: bool,
    /// The signed-in member of staff answers subject access requests (the navigation says so).
    pub subject_access: bool,
    /// The member of staff reads the complaint reports (compliance and managers).
    pub reports: bool,
}

impl Chrome {
    pub fn new(state: &AppState, area: Area, signed_in: Option<String>, csrf: String) -> Chrome {
        Chrome {
            organisation: state.store.procedure().organisation.name.clone(),
            area: area.as_str(),
            signed_in,
            csrf,
            flash: None,
            standalone: false,
            subject_access: false,
            reports: false,
        }
    }

    /// For a page printed on its own (`redress procedure render --format html`).
    pub fn standalone(organisation: &str) -> Chrome {
        Chrome {
            organisation: organisation.to_owned(),
            area: "public",
            signed_in: None,
            csrf: String::new(),
            flash: None,
            standalone: true,
            subject_access: false,
            reports: false,
        }
    }

    pub fn with_flash(mut self, flash: Option<String>) -> Chrome {
        self.flash = flash;
        self
    }
}

/// Renders a template as an HTML response (a template error is a logged 500 page).
pub fn render<T: Template>(template: &T) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(error) => {
            tracing::error!(%error, "a page could not be rendered");
            (StatusCode::INTERNAL_SERVER_ERROR, Html(FALLBACK_ERROR)).into_response()
        }
    }
}

const FALLBACK_ERROR: &str = "<!doctype html><html lang=\"en-GB\"><head><meta charset=\"utf-8\"><title>Something went wrong</title></head><body><main><h1>Something went wrong</h1><p>Please try again. If it keeps happening, telephone us.</p></main></body></html>";

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    chrome: Chrome,
    status: u16,
    heading: String,
    detail: String,
}

/// What an error page says, kept on its response: error pages are made where the application's
/// state is not at hand, so [`name_error_pages`] renders them again with the organisation's name.
#[derive(Debug, Clone)]
struct ErrorPageParts {
    status: u16,
    heading: String,
    detail: String,
}

fn error_chrome(organisation: String) -> Chrome {
    Chrome {
        organisation,
        area: "public",
        signed_in: None,
        csrf: String::new(),
        flash: None,
        standalone: false,
        subject_access: false,
        reports: false,
    }
}

/// A consistent HTML error page for an error (details of server faults are logged, not shown).
pub fn error_page(error: &PageError) -> Response {
    if let PageError::Internal(cause) = error {
        tracing::error!(error = %cause, cause = ?cause, "page failed");
    }
    let parts = ErrorPageParts {
        status: error.status(),
        heading: error.heading().to_owned(),
        // Some reasons are the core's ("the form had expired…"): shown as sentences.
        detail: portal::sentence(&error.detail()),
    };
    let page = ErrorPage {
        chrome: error_chrome(String::new()),
        status: parts.status,
        heading: parts.heading.clone(),
        detail: parts.detail.clone(),
    };
    let status = StatusCode::from_u16(parts.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, render(&page)).into_response();
    response.extensions_mut().insert(parts);
    response
}

/// Puts the organisation's name on error pages (in the title, header and footer), keeping
/// their status and headers.
pub async fn name_error_pages(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    let Some(parts) = response.extensions().get::<ErrorPageParts>().cloned() else {
        return response;
    };
    let page = ErrorPage {
        chrome: error_chrome(state.store.procedure().organisation.name.clone()),
        status: parts.status,
        heading: parts.heading,
        detail: parts.detail,
    };
    let Ok(html) = page.render() else {
        return response;
    };
    let (mut head, _) = response.into_parts();
    head.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(head, axum::body::Body::from(html))
}

/// The published complaints code.
async fn complaints_code(State(state): State<AppState>) -> Response {
    let today =
        redress_core::clock::local_date(state.store.procedure().time_zone(), state.clock.now());
    let code = code::CodeView::new(state.store.procedure(), today);
    let chrome = Chrome::new(&state, Area::Public, None, String::new());
    render(&code::CodePage {
        code: &code,
        chrome,
    })
}

const SITE_CSS: &str = include_str!("../../static/site.css");

async fn stylesheet() -> Response {
    let mut response = SITE_CSS.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    response
}

/// Whether a response to this path may be kept by a browser or a shared cache: only what is the
/// same for everyone (the stylesheet, the published complaints code, the API's description and
/// its viewer). Everything else can carry personal data, or a form's CSRF token, so it is
/// `no-store` unless it says otherwise: a page added later is safe without remembering to.
fn may_be_cached(path: &str) -> bool {
    path.starts_with("/static/")
        || path == "/complaints-code"
        || path == "/api/v1/openapi.json"
        || path == "/api/docs"
        || path.starts_with("/api/docs/")
}

/// Security headers on every response: no inline scripts or styles, no framing, no referrer,
/// no caching of anything that may be personal, and over HTTPS, HTTPS only from then on.
pub async fn security_headers(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let is_docs = request.uri().path().starts_with("/api/docs");
    let cacheable = may_be_cached(request.uri().path());
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if !cacheable && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    // Swagger UI needs inline styles and scripts of its own; everything else gets the strict policy.
    let csp = if is_docs {
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'"
    } else {
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    };
    // A response that set its own, stricter policy (an attached file's) keeps it.
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(csp),
        );
    }
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Only when the site is served over HTTPS (a proxy in front that ends TLS passes it on):
    // a browser that saw it would refuse plain HTTP to the host, and its subdomains, for a
    // year, so a site run on plain HTTP (a developer's) must not send it.
    if state.web.https() {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    response
}

/// The web pages' routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/complaints-code", get(complaints_code))
        .route("/static/site.css", get(stylesheet))
        .merge(staff::router())
        .merge(portal::router())
        // What these pages record came through the web.
        .layer(axum::middleware::from_fn(
            |request: axum::extract::Request, next: axum::middleware::Next| {
                crate::store::via::through(crate::store::via::WEB, next.run(request))
            },
        ))
}
