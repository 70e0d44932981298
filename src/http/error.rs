//! The API's errors, rendered as RFC 9457 `application/problem+json` with a stable snake_case
//! `code`. Server faults are logged with their whole cause chain and shown to the client only
//! as "internal_error".

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use redress_core::{Refusal, RefusalCode};
use serde::Serialize;
use utoipa::ToSchema;

use crate::store::StoreError;

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem type (`about:blank` style tags under `urn:redress:problem:`).
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// A sentence for a person.
    pub detail: String,
    /// A stable snake_case code for programs.
    pub code: String,
    /// Fields at fault, where a request was invalid.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
}

/// Everything an API handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{detail}")]
    BadRequest {
        code: &'static str,
        detail: String,
        fields: Vec<String>,
    },
    #[error("{detail}")]
    Unprocessable {
        code: &'static str,
        detail: String,
        fields: Vec<String>,
    },
    #[error("sign in with a bearer token")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("this address does not accept that method")]
    MethodNotAllowed,
    #[error("{0}")]
    Refused(Refusal),
    #[error("the Idempotency-Key was already used for a different request")]
    IdempotencyMismatch,
    #[error("the Idempotency-Key was used before an upgrade")]
    KeptByEarlierVersion,
    #[error("the request body is larger than {0} bytes")]
    TooLarge(usize),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError::BadRequest {
            code,
            detail: detail.into(),
            fields: Vec::new(),
        }
    }

    pub fn invalid(code: &'static str, detail: impl Into<String>, fields: Vec<String>) -> ApiError {
        ApiError::Unprocessable {
            code,
            detail: detail.into(),
            fields,
        }
    }

    fn parts(&self) -> (StatusCode, &'static str, String, Vec<String>) {
        match self {
            ApiError::BadRequest {
                code,
                detail,
                fields,
            } => (
                StatusCode::BAD_REQUEST,
                code,
                detail.clone(),
                fields.clone(),
            ),
            ApiError::Unprocessable {
                code,
                detail,
                fields,
            } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                code,
                detail.clone(),
                fields.clone(),
            ),
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "send a valid API token as 'Authorization: Bearer <token>'".into(),
                Vec::new(),
            ),
            ApiError::Forbidden(detail) => (
                StatusCode::FORBIDDEN,
                "forbidden",
                detail.clone(),
                Vec::new(),
            ),
            ApiError::NotFound(detail) => (
                StatusCode::NOT_FOUND,
                "not_found",
                detail.clone(),
                Vec::new(),
            ),
            ApiError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this address does not accept that method; the Allow header lists those it does"
                    .into(),
                Vec::new(),
            ),
            ApiError::Refused(refusal) => match refusal.code {
                RefusalCode::NotPermitted => (
                    StatusCode::FORBIDDEN,
                    "not_permitted",
                    refusal.reason.clone(),
                    Vec::new(),
                ),
                RefusalCode::InvalidInput => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_input",
                    refusal.reason.clone(),
                    Vec::new(),
                ),
                code => (
                    StatusCode::CONFLICT,
                    code.as_str(),
                    refusal.reason.clone(),
                    Vec::new(),
                ),
            },
            ApiError::IdempotencyMismatch => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "this Idempotency-Key was already used for a different request".into(),
                Vec::new(),
            ),
            ApiError::KeptByEarlierVersion => (
                StatusCode::CONFLICT,
                "idempotency_key_from_earlier_version",
                "this Idempotency-Key was used before the service was upgraded: that request was done then and is not done again; read the complaint to see its state".into(),
                Vec::new(),
            ),
            ApiError::TooLarge(limit) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!("the request body must be at most {limit} bytes"),
                Vec::new(),
            ),
            ApiError::UnsupportedMediaType(detail) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                detail.clone(),
                Vec::new(),
            ),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "something went wrong on our side; the request was not completed".into(),
                Vec::new(),
            ),
        }
    }

    /// The problem document for this error.
    pub fn problem(&self) -> Problem {
        let (status, code, detail, fields) = self.parts();
        Problem {
            kind: format!("urn:redress:problem:{code}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
            code: code.to_owned(),
            fields,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => ApiError::NotFound("no complaint has that reference".into()),
            StoreError::Refused(refusal) => ApiError::Refused(refusal),
            StoreError::IdempotencyMismatch => ApiError::IdempotencyMismatch,
            StoreError::KeptByEarlierVersion => ApiError::KeptByEarlierVersion,
            other => ApiError::Internal(anyhow::Error::new(other)),
        }
    }
}

/// Renders a problem document with its status.
pub fn problem_response(problem: &Problem) -> Response {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_string(problem).unwrap_or_else(|_| "{}".into());
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        // The rest of the body is never read, so the connection cannot be reused: say so, or a
        // client that keeps it for its next request sees that request fail.
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(error) = &self {
            // The whole chain goes to the log; the client sees only the code.
            tracing::error!(error = %error, cause = ?error, "request failed");
        }
        problem_response(&self.problem())
    }
}
