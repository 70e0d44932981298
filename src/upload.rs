//! Reading a `multipart/form-data` form within its limits, for the pages that take a file (the
//! portal's "send more information", the staff record form's scan, evidence recorded by
//! staff): text fields kept up to a size, one file field kept up to [`MAX_FILE_BYTES`] (the
//! rest is read and counted, so the sender is told its size rather than cut off), and a body
//! larger than the route takes said so instead of failing.

use axum::extract::Multipart;
use axum::http::StatusCode;

use crate::files::{self, FileProblem, Kind, MAX_FILE_BYTES};

/// A file as it arrived: its cleaned name, the bytes kept, and its whole size.
pub struct Upload {
    pub name: String,
    pub bytes: Vec<u8>,
    pub size: usize,
}

/// What a multipart form held.
#[derive(Default)]
pub struct Form {
    /// Every text field, in order (a name may come more than once).
    pub fields: Vec<(String, String)>,
    /// Text fields longer than the limit (their kept part is in `fields`).
    pub long: Vec<String>,
    pub file: Option<Upload>,
    /// The request was larger than the route takes: it was not read to the end.
    pub body_too_large: bool,
}

impl Form {
    /// The first value of a text field, or "".
    pub fn get(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

/// Whether a request's body is `multipart/form-data` (a form that may carry a file).
pub fn is_multipart(request: &axum::extract::Request) -> bool {
    request
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"))
}

/// Reads the form; `file_field` names the one file it takes, `text_bytes` the most of each
/// text field kept. A malformed body is its status (400).
pub async fn read(
    multipart: &mut Multipart,
    file_field: &str,
    text_bytes: usize,
) -> Result<Form, StatusCode> {
    let mut form = Form::default();
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => return Ok(form),
            Err(error) if error.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                form.body_too_large = true;
                return Ok(form);
            }
            Err(error) => return Err(error.status()),
        };
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let keep = if name == file_field {
            MAX_FILE_BYTES
        } else {
            text_bytes
        };
        let mut bytes = Vec::new();
        let mut size = 0usize;
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    size = size.saturating_add(chunk.len());
                    if size <= keep {
                        bytes.extend_from_slice(&chunk);
                    }
                }
                Ok(None) => break,
                Err(error) if error.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                    form.body_too_large = true;
                    return Ok(form);
                }
                Err(error) => return Err(error.status()),
            }
        }
        if name == file_field {
            let name = file_name.unwrap_or_default();
            // A file input left empty sends an empty part with no name.
            if !(name.is_empty() && size == 0) {
                form.file = Some(Upload {
                    name: files::clean_name(&name),
                    bytes,
                    size,
                });
            }
            continue;
        }
        if size > text_bytes {
            form.long.push(name.clone());
        }
        form.fields
            .push((name, String::from_utf8_lossy(&bytes).into_owned()));
    }
}

/// What is wrong with an upload, in words for the person who sent it, with the status to
/// answer; or the kind of file it is.
pub fn check(upload: &Upload, what: &str) -> Result<Kind, (StatusCode, String)> {
    let too_big = || {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "{what} must be {} MB or smaller",
                MAX_FILE_BYTES / (1024 * 1024)
            ),
        )
    };
    if upload.size > MAX_FILE_BYTES {
        return Err(too_big());
    }
    match files::check(&upload.name, &upload.bytes) {
        Ok(kind) => Ok(kind),
        Err(FileProblem::Empty) => Err((
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("{what} you chose is empty. Choose another file"),
        )),
        Err(FileProblem::TooBig) => Err(too_big()),
        Err(FileProblem::WrongType) => Err((
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("{what} must be a PDF, a JPEG or PNG picture, or a plain text (.txt) file"),
        )),
    }
}

/// Keeps an upload in the files folder (fsynced, by its SHA-256) and gives the row to commit
/// with its event; `by` is who sent it.
pub async fn keep(
    dir: &std::path::Path,
    upload: Upload,
    kind: Kind,
    by: &str,
) -> anyhow::Result<crate::store::NewAttachment> {
    use anyhow::Context as _;
    let size = i64::try_from(upload.size).unwrap_or(i64::MAX);
    let sha256 = files::keep(dir.to_path_buf(), upload.bytes)
        .await
        .context("cannot keep an uploaded file")?;
    Ok(crate::store::NewAttachment {
        sha256,
        filename: upload.name,
        content_type: kind.content_type().to_owned(),
        size,
        uploaded_by: by.to_owned(),
    })
}
