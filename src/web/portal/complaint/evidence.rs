//! Sending evidence from the page: files read within their limits, kept on disk, and
//! committed with their evidence event in one transaction.

use super::*;

use crate::upload::Upload;

/// What the "send more information" form held.
#[derive(Default)]
pub(super) struct EvidenceForm {
    csrf: String,
    text: String,
    file: Option<Upload>,
    /// The text was longer than we read.
    text_too_long: bool,
    /// The request was larger than we take: it was not read to the end.
    body_too_large: bool,
}

/// The most of a text field we read (the longest text the core takes, in UTF-8, and more).
pub(super) const TEXT_FIELD_BYTES: usize = 4 * redress_core::model::MAX_TEXT_CHARS + 1024;

/// Reads the multipart form, keeping at most [`MAX_FILE_BYTES`] of the file (the rest is read
/// and counted, so the customer is told its size rather than cut off).
pub(super) async fn read_evidence(multipart: &mut Multipart) -> Result<EvidenceForm, StatusCode> {
    let form = crate::upload::read(multipart, "file", TEXT_FIELD_BYTES).await?;
    Ok(EvidenceForm {
        csrf: form.get("csrf").to_owned(),
        text: form.get("description").to_owned(),
        text_too_long: form.long.iter().any(|f| f == "description"),
        body_too_large: form.body_too_large,
        file: form.file,
    })
}

/// POST /my/complaints/{reference}/evidence (multipart/form-data): "send more information",
/// with an optional file.
pub(crate) async fn evidence(
    State(state): State<AppState>,
    session: CustomerSession,
    Path(reference): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let view = match load(&state, &session, &reference).await {
        Ok(view) => view,
        Err(response) => return response,
    };
    let too_big = format!(
        "The file must be {} MB or smaller. Choose a smaller file, or send it to us by post",
        MAX_FILE_BYTES / (1024 * 1024)
    );
    let read = match multipart {
        Ok(mut multipart) => read_evidence(&mut multipart).await,
        Err(_) => Err(StatusCode::BAD_REQUEST),
    };
    let form = match read {
        Ok(form) => form,
        Err(_) => {
            let mut errors = Errors::default();
            errors.add(
                "evidence-text",
                "We could not read what you sent. Please try again",
            );
            return with_status(
                StatusCode::BAD_REQUEST,
                show(
                    &state,
                    &session,
                    &view,
                    Extras {
                        errors,
                        ..Extras::default()
                    },
                )
                .await,
            );
        }
    };
    if form.body_too_large {
        // Nothing is done, so the form's token need not be read first.
        let mut errors = Errors::default();
        errors.add("evidence-file", too_big);
        return with_status(
            StatusCode::PAYLOAD_TOO_LARGE,
            show(
                &state,
                &session,
                &view,
                Extras {
                    errors,
                    ..Extras::default()
                },
            )
            .await,
        );
    }
    if !session_csrf_ok(&session, &form.csrf) {
        return form_expired();
    }
    let text = form.text.trim().to_owned();
    let mut errors = Errors::default();
    let mut status = StatusCode::UNPROCESSABLE_ENTITY;
    if form.text_too_long || text.chars().count() > redress_core::model::MAX_TEXT_CHARS {
        errors.add(
            "evidence-text",
            "What you write must be 20,000 characters or fewer",
        );
    }
    let file = match form.file {
        Some(upload) if upload.size > MAX_FILE_BYTES => {
            status = StatusCode::PAYLOAD_TOO_LARGE;
            errors.add("evidence-file", too_big.clone());
            None
        }
        Some(upload) => {
            match files::check(&upload.name, &upload.bytes) {
                Ok(kind) => Some((upload, kind)),
                Err(FileProblem::Empty) => {
                    errors.add(
                        "evidence-file",
                        "The file you chose is empty. Choose another file",
                    );
                    None
                }
                Err(FileProblem::TooBig) => {
                    status = StatusCode::PAYLOAD_TOO_LARGE;
                    errors.add("evidence-file", too_big);
                    None
                }
                Err(FileProblem::WrongType) => {
                    errors.add("evidence-file", "The file must be a PDF, a JPEG or PNG picture, or a plain text (.txt) file");
                    None
                }
            }
        }
        None => None,
    };
    if errors.is_empty() && text.is_empty() && file.is_none() {
        errors.add(
            "evidence-text",
            "Tell us what you are sending, or choose a file to send",
        );
    }
    if !errors.is_empty() {
        let typed = Typed {
            evidence: form.text,
            ..Typed::default()
        };
        return with_status(
            status,
            show(
                &state,
                &session,
                &view,
                Extras {
                    errors,
                    typed,
                    ..Extras::default()
                },
            )
            .await,
        );
    }
    let description = match (&file, text.is_empty()) {
        (Some((upload, _)), true) => format!("File sent: {}", upload.name),
        (Some((upload, _)), false) => format!("{text}\n\nFile sent: {}", upload.name),
        (None, _) => text.clone(),
    };
    let reference = view.complaint.reference.clone();
    let action = Action::ReceiveEvidence {
        request: None,
        description: Some(description),
        channel: Some(Channel::Web),
    };
    let command = Command {
        by: Actor::customer(),
        action,
    };
    let now = state.clock.now();
    // Tried on the complaint as it stands before anything is written to disk, so a refused
    // upload leaves no file behind.
    let mut refusal = redress_core::execute(
        view.complaint.clone(),
        command.clone(),
        now,
        state.store.procedure(),
    )
    .refusal;
    let mut stored = None;
    if refusal.is_none() {
        if let Some((upload, kind)) = file {
            match files::keep(state.web.files_dir.clone(), upload.bytes).await {
                Ok(hash) => stored = Some((hash, upload.name, kind, upload.size)),
                Err(error) => {
                    return internal(PageError::Internal(
                        anyhow::Error::new(error).context("cannot keep an uploaded file"),
                    ));
                }
            }
        }
        // The evidence event and the file's row commit together; a refusal records neither.
        let attachments: Vec<NewAttachment> = stored
            .iter()
            .map(|(hash, name, kind, size)| NewAttachment {
                sha256: hash.clone(),
                filename: name.clone(),
                content_type: kind.content_type().to_owned(),
                size: i64::try_from(*size).unwrap_or(i64::MAX),
                uploaded_by: UPLOADED_BY_CUSTOMER.to_owned(),
            })
            .collect();
        let result = state
            .store
            .run_command_with_files(&reference, command, now, &attachments)
            .await;
        refusal = match result {
            Ok(outcome) => outcome.refusal,
            Err(StoreError::Refused(refusal)) => Some(refusal),
            Err(StoreError::NotFound) => return complaint_not_found(),
            Err(error) => return internal(error),
        };
    }
    if let Some(refusal) = refusal {
        let extras = Extras {
            refusal: Some(format!(
                "We could not do that: {}",
                sentence(&refusal.reason)
            )),
            typed: Typed {
                evidence: form.text,
                ..Typed::default()
            },
            ..Extras::default()
        };
        return with_status(
            StatusCode::CONFLICT,
            show(&state, &session, &view, extras).await,
        );
    }
    Redirect::to(&format!("/my/complaints/{reference}?done=evidence")).into_response()
}
