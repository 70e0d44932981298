//! The ombudsman's case file for one complaint, as a zip (`redress case-file`, `GET
//! /api/v1/complaints/{reference}/case-file`, the case page's button):
//!
//! - `summary.pdf`: the complaint, the customer's needs, the timeline in plain words, the
//!   provider's position, every offer and what became of it, each clock and whether it was met;
//! - `correspondence/`: every letter as sent (the kept copy's PDF and text; one not yet sent is
//!   rendered and named so), every email received (`.eml`);
//! - `evidence/`: every other file;
//! - `records/`: calls, the course of events and notes (restricted notes left out), as text;
//! - `manifest.json`: each file's path and SHA-256, the complaint's chain head, when and by
//!   whom it was made.
//!
//! Making one is recorded on the complaint (`case_file_generated`, with the manifest's hash).

use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;
use jiff::Timestamp;
use redress_core::event::EventKind;
use redress_core::letters::{LetterKind, Recipient};
use redress_core::{Actor, Money, Procedure, Reference};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::mail::letters::Letter;
use crate::mail::send::SentCopy;
use crate::store::{ComplaintView, Store, StoreError};
use crate::words;

/// What went wrong making a case file.
#[derive(Debug, thiserror::Error)]
pub enum CaseFileError {
    #[error("there is no complaint with that reference")]
    NotFound,
    /// The complaint's personal data was erased: there is no record left to make one of.
    #[error("{0}")]
    Erased(String),
    #[error("{0}")]
    Store(StoreError),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<StoreError> for CaseFileError {
    fn from(error: StoreError) -> CaseFileError {
        match error {
            StoreError::NotFound => CaseFileError::NotFound,
            other => CaseFileError::Store(other),
        }
    }
}

/// One file of the zip, as the manifest lists it.
#[derive(Debug, Clone, Serialize)]
pub struct ManifestEntry {
    pub path: String,
    pub sha256: String,
    pub size: u64,
}

/// `manifest.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub reference: String,
    /// The hash of the complaint's last event when the file was made.
    pub chain_head: String,
    pub generated_at: Timestamp,
    pub generated_by: String,
    pub files: Vec<ManifestEntry>,
}

/// A case file made: the zip's bytes and its manifest.
pub struct CaseFile {
    pub zip: Vec<u8>,
    pub manifest: Manifest,
}

/// Who asked, in words for the manifest: the staff member, the token's label, or the role.
pub fn who(actor: &Actor) -> String {
    actor
        .staff
        .clone()
        .unwrap_or_else(|| actor.role.as_str().to_owned())
}

/// Makes the case file of `reference` for `by` at `now`, and records that it was made.
pub async fn generate(
    store: &Store,
    files_dir: &Path,
    reference: &Reference,
    by: &Actor,
    now: Timestamp,
) -> Result<CaseFile, CaseFileError> {
    let view = store.get_complaint(reference).await?;
    let procedure = store.procedure();
    if let Some(erased) = view.complaint.erased_at {
        return Err(CaseFileError::Erased(format!(
            "the personal data of {reference} was erased on {}; there is no case file to make",
            redress_core::clock::local_date(procedure.time_zone(), erased)
        )));
    }
    let chain_head = store.chain_head(reference).await?;
    let mut parts: Vec<(String, Vec<u8>)> = Vec::new();
    parts.push((
        "summary.pdf".to_owned(),
        summary_pdf(&view, procedure, now).await?,
    ));
    correspondence(store, files_dir, reference, &mut parts).await?;
    parts.extend(records(&view, procedure));

    let manifest = Manifest {
        reference: reference.to_string(),
        chain_head,
        generated_at: now,
        generated_by: who(by),
        files: listed(&parts),
    };
    let (zip, manifest_sha256) = seal(parts, &manifest, now)?;
    store
        .record_on(
            reference,
            by.clone(),
            EventKind::CaseFileGenerated {
                manifest_sha256,
                files: u32::try_from(manifest.files.len()).unwrap_or(u32::MAX),
            },
            now,
        )
        .await?;
    Ok(CaseFile { zip, manifest })
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The zip itself, every entry dated `now` (in UTC) and compressed.
pub(crate) fn zip_of(parts: &[(String, Vec<u8>)], now: Timestamp) -> anyhow::Result<Vec<u8>> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let when = jiff::tz::TimeZone::UTC.to_datetime(now);
    let modified = zip::DateTime::from_date_and_time(
        u16::try_from(when.year()).unwrap_or(1980),
        u8::try_from(when.month()).unwrap_or(1),
        u8::try_from(when.day()).unwrap_or(1),
        u8::try_from(when.hour()).unwrap_or(0),
        u8::try_from(when.minute()).unwrap_or(0),
        u8::try_from(when.second()).unwrap_or(0),
    )
    .unwrap_or_default();
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(modified);
    for (path, bytes) in parts {
        writer
            .start_file(path.as_str(), options)
            .context("a case file entry")?;
        writer.write_all(bytes).context("a case file entry")?;
    }
    let cursor = writer.finish().context("the case file")?;
    Ok(cursor.into_inner())
}

/// One letter's files, named `name`: as sent (the kept copy's PDF, and its subject and text);
/// or, sent before copies were kept or not sent yet, worded from the event that caused it and
/// named so (`-rendered`, `-not-sent`).
pub(crate) async fn letter_files(
    store: &Store,
    files_dir: &Path,
    reference: &Reference,
    letter: &crate::store::LetterListing,
    name: &str,
) -> Result<Vec<(String, Vec<u8>)>, CaseFileError> {
    if let Some(copy) = store.letter_copy(letter.id).await? {
        let (sent, pdf) = SentCopy::read(files_dir, &copy).await?;
        return Ok(vec![
            (format!("{name}.pdf"), pdf),
            (
                format!("{name}.txt"),
                format!("Subject: {}\n\n{}", sent.subject, sent.text).into_bytes(),
            ),
        ]);
    }
    let (Some(kind), Some(item)) = (
        LetterKind::parse(&letter.kind),
        store
            .complaint_letter(reference.as_str(), letter.id)
            .await?,
    ) else {
        return Ok(Vec::new());
    };
    let recipient = if letter.recipient == "third_party" {
        Recipient::ThirdParty
    } else {
        Recipient::Customer
    };
    let (state, event) = store
        .letter_source(item.complaint_id, item.event_sequence)
        .await?;
    let rendered = crate::mail::letters::render(&state, &event, kind, recipient, store.procedure())
        .map_err(|e| CaseFileError::Other(anyhow::Error::new(e)))?;
    let suffix = if letter.sent_at.is_some() {
        "-rendered"
    } else {
        "-not-sent"
    };
    let text = format!("Subject: {}\n\n{}", rendered.subject, rendered.text());
    let large = rendered.large_print;
    let pdf = crate::mail::send::render_pdf(rendered, large)
        .await
        .map_err(|e| CaseFileError::Other(anyhow::Error::new(e)))?;
    Ok(vec![
        (format!("{name}{suffix}.pdf"), pdf),
        (format!("{name}{suffix}.txt"), text.into_bytes()),
    ])
}

/// Each part as a manifest lists it: its path, SHA-256 and size.
pub(crate) fn listed(parts: &[(String, Vec<u8>)]) -> Vec<ManifestEntry> {
    parts
        .iter()
        .map(|(path, bytes)| ManifestEntry {
            path: path.clone(),
            sha256: hex(&Sha256::digest(bytes)),
            size: bytes.len() as u64,
        })
        .collect()
}

/// Adds `manifest.json` to the parts and zips them all: the zip and the manifest's SHA-256.
pub(crate) fn seal<M: Serialize>(
    mut parts: Vec<(String, Vec<u8>)>,
    manifest: &M,
    now: Timestamp,
) -> anyhow::Result<(Vec<u8>, String)> {
    let manifest_json = serde_json::to_vec_pretty(manifest).context("the manifest")?;
    let manifest_sha256 = hex(&Sha256::digest(&manifest_json));
    parts.push(("manifest.json".to_owned(), manifest_json));
    Ok((zip_of(&parts, now)?, manifest_sha256))
}

/// Letters as sent (and any not yet sent), emails received, and files sent in.
async fn correspondence(
    store: &Store,
    files_dir: &Path,
    reference: &Reference,
    parts: &mut Vec<(String, Vec<u8>)>,
) -> Result<(), CaseFileError> {
    for letter in store.complaint_letters(reference.as_str()).await? {
        let name = format!("correspondence/letter-{:04}-{}", letter.id, letter.kind);
        parts.extend(letter_files(store, files_dir, reference, &letter, &name).await?);
    }
    for file in store.attachments(reference.as_str()).await? {
        let bytes = tokio::fs::read(files_dir.join(&file.sha256))
            .await
            .with_context(|| format!("cannot read file {} of the complaint", file.id))?;
        let folder = if file.content_type == "message/rfc822" {
            "correspondence"
        } else {
            "evidence"
        };
        parts.push((
            format!("{folder}/{:04}-{}", file.id, safe_name(&file.filename)),
            bytes,
        ));
    }
    Ok(())
}

/// A file name safe in a zip: no folders, nothing but letters, digits, `.`, `-` and `_`.
pub(crate) fn safe_name(name: &str) -> String {
    let cleaned: String = name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let cleaned = cleaned.trim_start_matches('.');
    if cleaned.is_empty() {
        "file".to_owned()
    } else {
        cleaned.chars().take(100).collect()
    }
}

/// Calls, the course of events and notes, as text; restricted notes are left out.
fn records(view: &ComplaintView, procedure: &Procedure) -> Vec<(String, Vec<u8>)> {
    let tz = procedure.time_zone();
    let (mut calls, mut course, mut notes) = (String::new(), String::new(), String::new());
    for row in &view.events {
        let event = &row.event;
        let when = words::instant(event.at, tz);
        let by = event.by.staff.as_deref().unwrap_or(event.by.role.as_str());
        match &event.kind {
            EventKind::CallRecorded {
                direction,
                summary,
                duration_minutes,
            } => calls.push_str(&format!(
                "{when} ({by}), {direction:?}{}:\n{summary}\n\n",
                duration_minutes
                    .map(|m| format!(", {m} minutes"))
                    .unwrap_or_default()
            )),
            EventKind::CourseOfEventsRecorded { text } => {
                course.push_str(&format!("{when} ({by}):\n{text}\n\n"));
            }
            EventKind::NoteAdded {
                text,
                restricted: false,
                ..
            } => notes.push_str(&format!("{when} ({by}):\n{text}\n\n")),
            _ => {}
        }
    }
    let or_none = |text: String, what: &str| {
        if text.is_empty() {
            format!("No {what} are recorded.\n")
        } else {
            text
        }
    };
    vec![
        (
            "records/calls.txt".to_owned(),
            or_none(calls, "calls").into_bytes(),
        ),
        (
            "records/course-of-events.txt".to_owned(),
            or_none(course, "accounts of the course of events").into_bytes(),
        ),
        (
            "records/notes.txt".to_owned(),
            or_none(
                notes,
                "notes (restricted notes are not part of a case file)",
            )
            .into_bytes(),
        ),
    ]
}

/// The summary, as paragraphs.
fn summary_text(view: &ComplaintView, procedure: &Procedure, now: Timestamp) -> Vec<String> {
    let c = &view.complaint;
    let tz = procedure.time_zone();
    let mut out = Vec::new();
    out.push(format!(
        "Case file for {}, made on {}.",
        procedure.adr_scheme.name,
        words::instant(now, tz)
    ));
    out.push(format!(
        "The complaint: reference {}. Customer {} (account {}). Received by {} on {}. Category: {}. Now at stage {} ({}), {}.",
        c.reference,
        c.customer.name,
        c.customer.account,
        c.channel.as_str(),
        words::instant(c.first_received_at, tz),
        c.category.as_deref().unwrap_or("none recorded"),
        c.stage,
        procedure.stage(c.stage).name,
        c.status.as_str().replace('_', " "),
    ));
    out.push(format!("What the customer told us: {}", c.summary));
    let needs: Vec<&str> = c
        .customer
        .accessibility_needs
        .iter()
        .chain(&c.customer.vulnerabilities)
        .map(String::as_str)
        .collect();
    out.push(if needs.is_empty() {
        "The customer's needs: none recorded.".to_owned()
    } else {
        format!("The customer's needs: {}.", needs.join("; "))
    });

    out.push("What happened, in order:".to_owned());
    for row in &view.events {
        let event = &row.event;
        if matches!(
            event.kind,
            EventKind::NoteAdded {
                restricted: true,
                ..
            }
        ) {
            continue;
        }
        out.push(format!(
            "{}: {}.",
            words::instant(event.at, tz),
            words::event_sentence(event, procedure, false).trim_end_matches('.')
        ));
    }

    out.push("Our position:".to_owned());
    let mut position = false;
    for row in &view.events {
        let (what, text) = match &row.event.kind {
            EventKind::FormalResponseIssued { text: Some(text) } => {
                ("Formal written response", text)
            }
            EventKind::ReviewOutcomeRecorded { text } => ("Review outcome", text),
            EventKind::DeadlockIssued { text: Some(text) } => ("Deadlock letter", text),
            EventKind::ResolutionOffered { text, .. } => ("Resolution offered", text),
            _ => continue,
        };
        position = true;
        out.push(format!(
            "{what} ({}): {text}",
            words::instant(row.event.at, tz)
        ));
    }
    if !position {
        out.push("No written position has been recorded yet.".to_owned());
    }

    out.push("Offers of compensation and what became of them:".to_owned());
    if c.compensation.is_empty() {
        out.push("None.".to_owned());
    }
    for o in &c.compensation {
        let outcome = if o.accepted {
            "accepted by the customer"
        } else if o.withdrawn {
            "withdrawn"
        } else if o.approved {
            "made to the customer, not yet accepted"
        } else {
            "awaiting approval"
        };
        out.push(format!(
            "Offer {}: {} — {outcome}.",
            o.id,
            Money(o.amount_pence)
        ));
    }

    out.push("The clocks:".to_owned());
    out.push(match c.acknowledged_at {
        Some(at) => format!("Acknowledged on {}.", words::instant(at, tz)),
        None => "Not acknowledged.".to_owned(),
    });
    let due = view
        .events
        .iter()
        .rev()
        .find_map(|row| match &row.event.kind {
            EventKind::Transferred {
                response_due_by, ..
            } => Some(*response_due_by),
            _ => None,
        });
    if let Some(due) = due {
        out.push(match c.formal_response_at {
            Some(at) => {
                let on = redress_core::clock::local_date(tz, at);
                format!(
                    "Formal written response due by {}; issued on {}: {}.",
                    words::date(due),
                    words::date(on),
                    if on <= due { "met" } else { "late" }
                )
            }
            None => format!(
                "Formal written response due by {}; not issued.",
                words::date(due)
            ),
        });
    }
    for d in &view.deadlines {
        let Some(kind) = redress_core::deadline::DeadlineKind::parse(&d.kind) else {
            continue;
        };
        let label = words::deadline_label(kind, &c.rules);
        out.push(match (d.fired_at, kind) {
            (Some(at), redress_core::deadline::DeadlineKind::Adr) => format!(
                "{label}: reached on {} with the complaint unresolved; the customer may go to the ombudsman.",
                words::instant(at, tz)
            ),
            (Some(at), _) => format!(
                "{label}: the last day was {}; it passed on {} before it was met.",
                d.due_by,
                words::instant(at, tz)
            ),
            (None, _) => format!("{label}: running; the last day is {}.", d.due_by),
        });
    }
    out
}

async fn summary_pdf(
    view: &ComplaintView,
    procedure: &Procedure,
    now: Timestamp,
) -> Result<Vec<u8>, CaseFileError> {
    let c = &view.complaint;
    let tz = procedure.time_zone();
    let organisation = &procedure.organisation;
    let letter = Letter {
        kind: LetterKind::FormalResponse,
        recipient: Recipient::ThirdParty,
        reference: c.reference.to_string(),
        date: words::date(redress_core::clock::local_date(tz, now)),
        at: now,
        subject: format!("Case file for the ombudsman: {}", c.reference),
        body: summary_text(view, procedure, now).join("\n\n"),
        address: vec![procedure.adr_scheme.name.clone()]
            .into_iter()
            .chain(procedure.adr_scheme.address.iter().cloned())
            .collect(),
        from_name: organisation.name.clone(),
        from_address: organisation.address.clone(),
        from_telephone: organisation.telephone.clone(),
        large_print: false,
    };
    crate::mail::send::render_pdf(letter, false)
        .await
        .map_err(|e| CaseFileError::Other(anyhow::Error::new(e)))
}

/// A case file's zip as a download (`{reference}-case-file.zip`), never kept by a cache.
pub fn download(reference: &Reference, zip: Vec<u8>) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    use axum::response::IntoResponse as _;
    let mut response = zip.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{reference}-case-file.zip\""
    )) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
