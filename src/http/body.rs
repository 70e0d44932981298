//! Reading request bodies: size-limited, UTF-8, JSON, no unknown fields; every failure is a
//! problem document naming the field.

use axum::body::Body;
use axum::http::{HeaderMap, header};
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Reads the whole body, refusing more than [`MAX_BODY_BYTES`].
pub async fn read_body(headers: &HeaderMap, body: Body) -> Result<Vec<u8>, ApiError> {
    if let Some(length) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
        && length > MAX_BODY_BYTES
    {
        return Err(ApiError::TooLarge(MAX_BODY_BYTES));
    }
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| ApiError::TooLarge(MAX_BODY_BYTES))?;
    Ok(bytes.to_vec())
}

/// Checks the body is JSON (when it is not empty).
pub fn require_json(headers: &HeaderMap, body: &[u8]) -> Result<(), ApiError> {
    if body.is_empty() {
        return Ok(());
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence == "application/json" || essence.ends_with("+json") {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType(
            "send the body as application/json".into(),
        ))
    }
}

/// Parses a JSON value from bytes: valid UTF-8, valid JSON, an object.
pub fn parse_object(body: &[u8]) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
    if body.is_empty() {
        return Ok(serde_json::Map::new());
    }
    let text = std::str::from_utf8(body).map_err(|_| {
        ApiError::bad_request("invalid_utf8", "the request body is not valid UTF-8")
    })?;
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::bad_request(
            "invalid_json",
            "the request body must be a JSON object",
        )),
        Err(e) => Err(ApiError::bad_request(
            "invalid_json",
            format!("the request body is not valid JSON: {e}"),
        )),
    }
}

/// Like [`typed`], for internally tagged enums such as the core's `Action`: serde hands their
/// fields to the variant through a buffer, so fields the variant ignores are not reported and
/// [`typed`] alone would accept them. Each top-level field is therefore tried with a value no
/// field type accepts; if `T` still reads, the field is unknown.
pub fn typed_tagged<T: DeserializeOwned>(
    object: serde_json::Map<String, serde_json::Value>,
) -> Result<T, ApiError> {
    // Commands have a handful of fields; bounding them keeps the probing below cheap.
    const MAX_FIELDS: usize = 32;
    if object.len() > MAX_FIELDS {
        return Err(ApiError::invalid(
            "unknown_field",
            format!(
                "the request has {} fields; no command takes more than {MAX_FIELDS}",
                object.len()
            ),
            Vec::new(),
        ));
    }
    let value: T = typed(serde_json::Value::Object(object.clone()))?;
    let unknown = crate::json::unused_tagged_fields::<T>(&object);
    if unknown.is_empty() {
        Ok(value)
    } else {
        Err(ApiError::invalid(
            "unknown_field",
            format!(
                "unknown field{}: {}",
                if unknown.len() == 1 { "" } else { "s" },
                unknown.join(", ")
            ),
            unknown,
        ))
    }
}

/// Deserialises a JSON value into `T`, refusing unknown fields and naming the field at fault.
pub fn typed<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    match crate::json::read::<T>(value) {
        Ok(read) if read.unused.is_empty() => Ok(read.value),
        Ok(read) => Err(ApiError::invalid(
            "unknown_field",
            format!(
                "unknown field{}: {}",
                if read.unused.len() == 1 { "" } else { "s" },
                read.unused.join(", ")
            ),
            read.unused,
        )),
        Err(e) => {
            let field = e.field.unwrap_or_default();
            let detail = if e.message == "missing" {
                format!("the field `{field}` is missing")
            } else if field.is_empty() {
                format!("the request is not valid: {}", e.message)
            } else {
                format!("the field `{field}` is not valid: {}", e.message)
            };
            Err(ApiError::invalid("invalid_field", detail, vec![field]))
        }
    }
}
