//! `GET /staff/complaints/{reference}/files/{id}`: a file the customer (or staff) attached, for
//! anyone who reads complaints. Images and PDFs open in the browser; anything else downloads.
//! The file is never interpreted as a page of ours: `nosniff`, a content security policy that
//! runs nothing, and (but for PDFs, which a sandbox stops the browser's viewer from showing) a
//! sandbox. Its bytes are checked against the hash they are kept under before they are sent.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use redress_core::Reference;

use super::refuse_non_reader;
use crate::state::AppState;
use crate::web::error::PageError;
use crate::web::error_page;
use crate::web::session::StaffSession;

/// Shown in the browser; everything else is a download.
const INLINE: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
];

pub async fn file(
    State(state): State<AppState>,
    staff: StaffSession,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Response {
    if let Some(refused) = refuse_non_reader(&staff.user) {
        return refused;
    }
    let not_found = || error_page(&PageError::NotFound("there is no such file".into()));
    let Ok(Path((reference, id))) = path else {
        return not_found();
    };
    let (Ok(reference), Ok(id)) = (Reference::parse(&reference), id.parse::<i64>()) else {
        return not_found();
    };
    let attachments = match state.store.attachments(reference.as_str()).await {
        Ok(rows) => rows,
        Err(error) => return error_page(&error.into()),
    };
    let Some(file) = attachments.into_iter().find(|a| a.id == id) else {
        return not_found();
    };
    // The hash is hex from our own table; anything else is not a name we made.
    if file.sha256.len() != 64 || !file.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return not_found();
    }
    if file.filename == redress_core::erasure::ERASED {
        return error_page(&PageError::Conflict(
            "the customer's personal data was erased, and this file with it; the record keeps that it was attached".into(),
        ));
    }
    let stored = state.web.files_dir.join(&file.sha256);
    let bytes = match tokio::fs::read(&stored).await {
        Ok(bytes) => bytes,
        Err(error) => {
            tracing::error!(id, error = %error, "an attached file cannot be read");
            return error_page(&PageError::Internal(anyhow::anyhow!(
                "the file is missing from the file store"
            )));
        }
    };
    if crate::files::sha256_hex(&bytes) != file.sha256 {
        tracing::error!(id, "an attached file does not match its hash");
        return error_page(&PageError::Internal(anyhow::anyhow!(
            "the file in the file store is not the file that was attached"
        )));
    }
    serve(bytes, &file.content_type, &file.filename)
}

/// Sends a kept file: inline if it is an image or a PDF, else as a download; never run as a
/// page of ours.
pub fn serve(bytes: Vec<u8>, content_type: &str, filename: &str) -> Response {
    let inline = INLINE.contains(&content_type);
    let content_type = if inline {
        content_type
    } else {
        "application/octet-stream"
    };
    let csp = if content_type == "application/pdf" {
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; object-src 'self'; frame-ancestors 'none'"
    } else {
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'; sandbox"
    };
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    let set = |headers: &mut axum::http::HeaderMap, name, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    set(headers, header::CONTENT_TYPE, content_type.to_owned());
    set(
        headers,
        header::CONTENT_DISPOSITION,
        disposition(inline, filename),
    );
    set(headers, header::CONTENT_SECURITY_POLICY, csp.to_owned());
    set(
        headers,
        header::X_CONTENT_TYPE_OPTIONS,
        "nosniff".to_owned(),
    );
    set(
        headers,
        header::CACHE_CONTROL,
        "private, no-store".to_owned(),
    );
    set(
        headers,
        header::HeaderName::from_static("cross-origin-resource-policy"),
        "same-origin".to_owned(),
    );
    response
}

/// `inline` or `attachment`, with the file's name: a plain ASCII name for every browser, and
/// the name as given (RFC 5987) for those that read it.
fn disposition(inline: bool, filename: &str) -> String {
    let plain: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ' | '(' | ')') {
                c
            } else {
                '_'
            }
        })
        .take(120)
        .collect();
    let plain = if plain.trim().is_empty() {
        "file".to_owned()
    } else {
        plain
    };
    let encoded: String = filename
        .bytes()
        .take(400)
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let kind = if inline { "inline" } else { "attachment" };
    format!("{kind}; filename=\"{plain}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::disposition;

    #[test]
    fn file_names_cannot_break_the_header() {
        let d = disposition(false, "evil\"; filename=x.html\r\nSet-Cookie: a=b.pdf");
        assert!(
            d.starts_with("attachment; filename=\"evil__ filename_x.html__Set-Cookie_ a_b.pdf\"")
        );
        assert!(!d.contains('\r') && !d.contains('\n'));
        assert_eq!(
            disposition(true, "Rechnung März.pdf"),
            "inline; filename=\"Rechnung M_rz.pdf\"; filename*=UTF-8''Rechnung%20M%C3%A4rz.pdf"
        );
        assert_eq!(
            disposition(false, ""),
            "attachment; filename=\"file\"; filename*=UTF-8''"
        );
    }
}
