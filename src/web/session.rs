//! Sessions and CSRF for the web pages.
//!
//! Staff and customers have separate session cookies (HttpOnly, SameSite=Lax, Secure when the
//! site is served over TLS); only a hash of each is stored. Every form carries a CSRF token:
//! the session's own for signed-in forms, and for the forms used before signing in a random
//! value that must match a cookie set with the form (double submit).

use axum::extract::FromRequestParts;
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};

use crate::state::AppState;
use crate::store::{CustomerScope, Session, SessionOwner, User};

pub const STAFF_COOKIE: &str = "redress_staff";
pub const CUSTOMER_COOKIE: &str = "redress_customer";
pub const CSRF_COOKIE: &str = "redress_csrf";

/// A cookie's value from the request headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            (k == name && !v.is_empty() && v.len() <= 200).then(|| v.to_owned())
        })
}

/// A `Set-Cookie` value. `max_age` 0 deletes the cookie.
pub fn set_cookie(name: &str, value: &str, max_age_seconds: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text = format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_seconds}{secure}"
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
}

/// Adds a `Set-Cookie` header to a response.
pub fn with_cookie(mut response: Response, cookie: HeaderValue) -> Response {
    response.headers_mut().append(SET_COOKIE, cookie);
    response
}

/// Compares secrets in constant time.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A signed-in member of staff, with the session's CSRF token. Pages that need one redirect
/// to the sign-in page when there is none.
#[derive(Debug, Clone)]
pub struct StaffSession {
    pub user: User,
    pub csrf: String,
    pub token: String,
}

impl FromRequestParts<AppState> for StaffSession {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let to_sign_in = || Redirect::to("/staff/sign-in").into_response();
        let Some(token) = cookie(&parts.headers, STAFF_COOKIE) else {
            return Err(to_sign_in());
        };
        match state.store.session(&token, state.clock.now()).await {
            Ok(Some(Session {
                owner: SessionOwner::Staff(user),
                csrf_token,
                ..
            })) => Ok(StaffSession {
                user,
                csrf: csrf_token,
                token,
            }),
            Ok(_) => Err(to_sign_in()),
            Err(error) => Err(super::error_page(&error.into())),
        }
    }
}

/// A signed-in customer: which complaints they may see, and the session's CSRF token.
#[derive(Debug, Clone)]
pub struct CustomerSession {
    pub scope: CustomerScope,
    pub csrf: String,
    pub token: String,
}

impl FromRequestParts<AppState> for CustomerSession {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let to_sign_in = || Redirect::to("/my").into_response();
        let Some(token) = cookie(&parts.headers, CUSTOMER_COOKIE) else {
            return Err(to_sign_in());
        };
        match state.store.session(&token, state.clock.now()).await {
            Ok(Some(Session {
                owner: SessionOwner::Customer(scope),
                csrf_token,
                ..
            })) => Ok(CustomerSession {
                scope,
                csrf: csrf_token,
                token,
            }),
            Ok(_) => Err(to_sign_in()),
            Err(error) => Err(super::error_page(&error.into())),
        }
    }
}

/// The CSRF value for a form shown before signing in: the existing cookie's, or a new one
/// (returned so the page can set the cookie, Secure when `secure`: over plain HTTP a network
/// attacker could read it, or plant one of their own, and forge the sign-in forms).
pub fn anonymous_csrf(headers: &HeaderMap, secure: bool) -> (String, Option<HeaderValue>) {
    match cookie(headers, CSRF_COOKIE) {
        Some(value) if value.len() == 64 => (value, None),
        _ => {
            let value = crate::store::random_token();
            let header = set_cookie(CSRF_COOKIE, &value, 60 * 60 * 8, secure);
            (value, Some(header))
        }
    }
}

/// Checks a form's CSRF field against the anonymous cookie.
pub fn anonymous_csrf_ok(headers: &HeaderMap, field: Option<&str>) -> bool {
    match (cookie(headers, CSRF_COOKIE), field) {
        (Some(cookie), Some(field)) => same_secret(&cookie, field),
        _ => false,
    }
}
