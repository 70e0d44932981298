//! The HTTP shell: the JSON API under `/api/v1`, its OpenAPI document and Swagger UI, health
//! and metrics. One router per resource, merged here; errors are problem+json (`error.rs`).

pub mod auth;
pub mod body;
pub mod client;
pub mod complaints;
pub mod error;
pub mod inbound;
pub mod letters;
pub mod metrics;
pub mod openapi;
pub mod server;

use std::sync::Arc;
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

use crate::clock::Clock;
use crate::store::Store;
use error::ApiError;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub web: Arc<crate::app::WebConfig>,
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// How long a request may take, body and answer included, before it is answered 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
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
        .merge(letters::router());
    let ops = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics::render));
    Router::new()
        .merge(api)
        .merge(ops)
        .merge(SwaggerUi::new("/api/docs").url("/api/docs/openapi.json", openapi::ApiDoc::openapi()))
        .merge(crate::web::router())
        .fallback(not_found)
        // After every route is merged: it applies to the routes present when it is called.
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn(metrics::track))
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::web::name_error_pages))
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::web::security_headers))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                let id = request.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
                // Method and route only: paths and queries can carry personal data.
                let route = request
                    .extensions()
                    .get::<axum::extract::MatchedPath>()
                    .map_or("unmatched", |p| p.as_str());
                tracing::info_span!("request", request_id = %id, method = %request.method(), route = %route)
            }),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(state)
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

/// A known address asked with a method it does not take (axum adds the `Allow` header).
async fn method_not_allowed(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        ApiError::MethodNotAllowed.into_response()
    } else {
        crate::web::error_page(&ApiError::MethodNotAllowed)
    }
}

/// Unknown addresses: a problem document under `/api`, an HTML page elsewhere.
async fn not_found(uri: axum::http::Uri) -> Response {
    let error = ApiError::NotFound("there is nothing at this address".into());
    if uri.path().starts_with("/api/") {
        error.into_response()
    } else {
        crate::web::error_page(&error)
    }
}
