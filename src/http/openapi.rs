//! The OpenAPI 3.1 document, generated from the handlers, and the Swagger UI (assets vendored
//! into the binary).

use axum::Json;
use axum::response::IntoResponse;
use utoipa::openapi::ResponseBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::complaints;
use super::error::Problem;
use super::inbound;
use super::letters;
use super::reports;

#[derive(OpenApi)]
#[openapi(
    info(title = "Redress API", description = "Complaints handling for UK communications providers. Errors are RFC 9457 problem documents with a stable snake_case `code`."),
    paths(complaints::create, complaints::get, complaints::list, complaints::command,
        letters::list, letters::pdf, letters::case_file, letters::print_queue, letters::printed,
        inbound::email, inbound::quarantine, inbound::letter, reports::complaints),
    components(schemas(Problem, complaints::NewComplaint, complaints::CustomerInput)),
    modifiers(&BearerAuth, &LayerResponses),
    tags((name = "complaints", description = "Complaints, their timelines, clocks and commands"),
        (name = "reports", description = "Figures across complaints, for Ofcom and the ombudsman"),
        (name = "letters", description = "Letters and emails to customers, as PDFs, and the print queue for post"),
        (name = "inbound", description = "Email in (filed to a complaint, a new complaint or the quarantine) and letters received by post"))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// What the router's layers answer for any operation, whatever its handler does: the request
/// timeout. Added here rather than to each handler's annotation, as no handler returns it.
struct LayerResponses;

impl Modify for LayerResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let timeout = ResponseBuilder::new()
            .description(format!(
                "Not answered within {} seconds; the request may or may not have taken effect \
                 (retry with the same Idempotency-Key where it takes one)",
                super::REQUEST_TIMEOUT.as_secs()
            ))
            .build();
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.options,
                &mut item.head,
                &mut item.patch,
                &mut item.trace,
            ];
            for operation in operations.into_iter().flatten() {
                operation
                    .responses
                    .responses
                    .entry("408".to_owned())
                    .or_insert_with(|| timeout.clone().into());
            }
        }
    }
}

/// `GET /api/v1/openapi.json`
pub async fn document() -> impl IntoResponse {
    Json(ApiDoc::openapi())
}
