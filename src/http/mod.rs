//! The HTTP shell: the JSON API under `/api/v1`, its OpenAPI document and Swagger UI, health
//! and metrics. One router per resource, merged here; errors are problem+json (`error.rs`).

pub mod auth;
pub mod body;
pub mod complaints;
pub mod error;
pub mod inbound;
pub mod letters;
pub mod metrics;
pub mod openapi;
pub mod reports;
pub mod server;

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderName, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

use error::ApiError;

pub use crate::state::AppState;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// How long a request may take, body and answer included, before it is answered 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The API's routes (under `/api/v1`), the operations endpoints and the API's documentation.
/// The composition root (`app::router`) mounts them beside the web pages.
pub fn router() -> Router<AppState> {
    let api = Router::new()
        .route(
            "/api/v1/complaints",
            post(complaints::create).get(complaints::list),
        )
        .route("/api/v1/complaints/{reference}", get(complaints::get))
        .route(
            "/api/v1/complaints/{reference}/commands/{command}",
            post(complaints::command),
        )
        .route("/api/v1/openapi.json", get(openapi::document))
        .merge(inbound::router())
        .merge(letters::router())
        .merge(reports::router())
        // What the API records came through it (filed email says so itself).
        .layer(axum::middleware::from_fn(
            |request: axum::extract::Request, next: axum::middleware::Next| {
                crate::store::via::through(crate::store::via::API, next.run(request))
            },
        ));
    let ops = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics::render));
    Router::new().merge(api).merge(ops).merge(
        SwaggerUi::new("/api/docs").url("/api/docs/openapi.json", openapi::ApiDoc::openapi()),
    )
}

/// Around every route, API and pages alike: metrics, the request timeout, request ids and a
/// span per request carrying the method and route template only (paths and queries can carry
/// personal data).
pub fn around<S: Clone + Send + Sync + 'static>(routes: Router<S>) -> Router<S> {
    routes
        .layer(axum::middleware::from_fn(metrics::track))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                let id = request.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
                let route = request
                    .extensions()
                    .get::<axum::extract::MatchedPath>()
                    .map_or("unmatched", |p| p.as_str());
                tracing::info_span!("request", request_id = %id, method = %request.method(), route = %route)
            }),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => "ready".into_response(),
        Err(error) => {
            tracing::warn!(%error, "database not reachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database not reachable").into_response()
        }
    }
}

/// The API's answer to a known address asked with a method it does not take.
pub fn method_not_allowed() -> Response {
    ApiError::MethodNotAllowed.into_response()
}

/// The API's answer to an unknown address.
pub fn not_found() -> Response {
    ApiError::NotFound("there is nothing at this address".into()).into_response()
}
