//! A customer's subject access request (UK GDPR article 15), answered as a zip (`redress
//! subject-access --account ACCOUNT [--email ADDRESS] --out FILE.zip`, and from the
//! compliance page `/staff/subject-access`): everything held about them across all their
//! complaints.
//!
//! - `data.json`: each complaint with the customer's details as held, what they told us, and
//!   its record, event by event;
//! - `complaints.pdf`: the same, readable;
//! - `letters/`: every letter written to them, as sent;
//! - `files/`: every file held with their complaints (theirs, and emails as received);
//! - `manifest.json`: each file's path and SHA-256, when and by whom it was made.
//!
//! What is about other people stays out: restricted notes and notes about a member of staff,
//! who a complaint was assigned to, the staff named as concerned, and which member of staff
//! did each thing (only their role is given). Making it is recorded on each complaint.

use std::path::Path;

use anyhow::Context as _;
use jiff::Timestamp;
use redress_core::event::EventKind;
use redress_core::letters::{LetterKind, Recipient};
use redress_core::{Actor, Event, Procedure, Reference};
use serde::Serialize;
use serde_json::json;

use crate::casefile::{CaseFileError, ManifestEntry, letter_files, listed, safe_name, seal, who};
use crate::mail::letters::Letter;
use crate::store::{ComplaintView, Store};
use crate::words;

/// Whose data: an account number, and optionally an email address they used.
#[derive(Debug, Clone)]
pub struct Subject {
    pub account: String,
    pub email: Option<String>,
}

/// `manifest.json` of a subject access export.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub account: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub complaints: Vec<String>,
    pub generated_at: Timestamp,
    pub generated_by: String,
    pub files: Vec<ManifestEntry>,
}

/// An export made: the zip and its manifest.
pub struct Export {
    pub zip: Vec<u8>,
    pub manifest: Manifest,
}

/// Whether an event is about someone other than the customer, and so left out.
fn about_others(event: &Event) -> bool {
    matches!(
        &event.kind,
        EventKind::NoteAdded {
            restricted: true,
            ..
        } | EventKind::HandlerAssigned { .. }
            | EventKind::StaffConcernedNamed { .. }
    ) || matches!(
        &event.kind,
        EventKind::NoteAdded {
            about_staff: Some(_),
            ..
        }
    )
}

/// Makes the export for `subject`; `NotFound` when no complaint is held for them.
pub async fn generate(
    store: &Store,
    files_dir: &Path,
    subject: &Subject,
    by: &Actor,
    now: Timestamp,
) -> Result<Export, CaseFileError> {
    let references = store
        .references_of(&subject.account, subject.email.as_deref())
        .await?;
    if references.is_empty() {
        return Err(CaseFileError::NotFound);
    }
    let procedure = store.procedure();
    let mut parts: Vec<(String, Vec<u8>)> = Vec::new();
    let mut data = Vec::new();
    let mut paragraphs = vec![format!(
        "Everything {} holds about account {}{}, made on {}.",
        procedure.organisation.name,
        subject.account,
        subject
            .email
            .as_deref()
            .map(|e| format!(" and {e}"))
            .unwrap_or_default(),
        words::instant(now, procedure.time_zone())
    )];
    for reference in &references {
        let view = store.get_complaint(reference).await?;
        data.push(complaint_data(&view));
        paragraphs.extend(complaint_words(&view, procedure));
        letters(store, files_dir, reference, &mut parts).await?;
        for file in store.attachments(reference.as_str()).await? {
            let bytes = tokio::fs::read(files_dir.join(&file.sha256))
                .await
                .with_context(|| format!("cannot read file {} of {reference}", file.id))?;
            parts.push((
                format!(
                    "files/{reference}/{:04}-{}",
                    file.id,
                    safe_name(&file.filename)
                ),
                bytes,
            ));
        }
    }
    let document = json!({
        "account": subject.account,
        "email": subject.email,
        "generated_at": now,
        "complaints": data,
    });
    parts.insert(
        0,
        (
            "data.json".to_owned(),
            serde_json::to_vec_pretty(&document).context("the data")?,
        ),
    );
    parts.insert(
        1,
        (
            "complaints.pdf".to_owned(),
            readable_pdf(procedure, &subject.account, paragraphs, now).await?,
        ),
    );
    let manifest = Manifest {
        account: subject.account.clone(),
        email: subject.email.clone(),
        complaints: references.iter().map(ToString::to_string).collect(),
        generated_at: now,
        generated_by: who(by),
        files: listed(&parts),
    };
    let (zip, manifest_sha256) = seal(parts, &manifest, now)?;
    for reference in &references {
        store
            .record_on(
                reference,
                by.clone(),
                EventKind::SubjectAccessExported {
                    manifest_sha256: manifest_sha256.clone(),
                },
                now,
            )
            .await?;
    }
    Ok(Export { zip, manifest })
}

/// One complaint as data: the customer's details as held, and its record without what is
/// about other people (the actor of each event by role only).
fn complaint_data(view: &ComplaintView) -> serde_json::Value {
    let c = &view.complaint;
    let events: Vec<serde_json::Value> = view
        .events
        .iter()
        .filter(|row| !about_others(&row.event))
        .map(|row| {
            let mut event = serde_json::to_value(&row.event).unwrap_or_default();
            if let Some(by) = event.get_mut("by") {
                *by = json!({"role": row.event.by.role.as_str()});
            }
            event
        })
        .collect();
    json!({
        "reference": c.reference,
        "received_at": c.first_received_at,
        "channel": c.channel.as_str(),
        "category": c.category,
        "summary": c.summary,
        "customer": c.customer,
        "stage": c.stage.number(),
        "status": c.status.as_str(),
        "compensation": c.compensation.iter().map(|o| json!({
            "offer": o.id, "amount_pence": o.amount_pence, "approved": o.approved,
            "accepted": o.accepted, "withdrawn": o.withdrawn,
        })).collect::<Vec<_>>(),
        "events": events,
    })
}

/// One complaint in words, for the readable PDF.
fn complaint_words(view: &ComplaintView, procedure: &Procedure) -> Vec<String> {
    let c = &view.complaint;
    let tz = procedure.time_zone();
    let customer = &c.customer;
    let mut out = vec![format!(
        "Complaint {}: received by {} on {}; now at stage {}, {}.",
        c.reference,
        c.channel.as_str(),
        words::instant(c.first_received_at, tz),
        c.stage,
        c.status.as_str().replace('_', " ")
    )];
    let mut details = vec![
        format!("name {}", customer.name),
        format!("account {}", customer.account),
    ];
    details.extend(customer.email.iter().map(|e| format!("email {e}")));
    details.extend(customer.telephone.iter().map(|t| format!("telephone {t}")));
    if !customer.address.is_empty() {
        details.push(format!("address {}", customer.address.join(", ")));
    }
    details.extend(
        customer
            .postcode
            .iter()
            .map(|p| format!("postcode {}", p.as_str())),
    );
    details.extend(
        customer
            .accessibility_needs
            .iter()
            .map(|n| format!("accessibility need: {n}")),
    );
    details.extend(
        customer
            .vulnerabilities
            .iter()
            .map(|v| format!("circumstance: {v}")),
    );
    out.push(format!("What we hold about you: {}.", details.join("; ")));
    out.push(format!("What you told us: {}", c.summary));
    for row in view.events.iter().filter(|row| !about_others(&row.event)) {
        let event = &row.event;
        let mut line = format!(
            "{}: {}.",
            words::instant(event.at, tz),
            words::event_sentence(event, procedure, true).trim_end_matches('.')
        );
        if let EventKind::NoteAdded { text, .. } = &event.kind {
            line.push_str(&format!(" The note: {text}"));
        }
        out.push(line);
    }
    out
}

/// The customer's letters as sent (or, not yet sent, as they will go).
async fn letters(
    store: &Store,
    files_dir: &Path,
    reference: &Reference,
    parts: &mut Vec<(String, Vec<u8>)>,
) -> Result<(), CaseFileError> {
    for letter in store.complaint_letters(reference.as_str()).await? {
        if letter.recipient != "customer" || letter.cancelled_at.is_some() {
            continue;
        }
        let name = format!(
            "letters/{reference}/letter-{:04}-{}",
            letter.id, letter.kind
        );
        parts.extend(letter_files(store, files_dir, reference, &letter, &name).await?);
    }
    Ok(())
}

async fn readable_pdf(
    procedure: &Procedure,
    account: &str,
    paragraphs: Vec<String>,
    now: Timestamp,
) -> Result<Vec<u8>, CaseFileError> {
    let organisation = &procedure.organisation;
    let letter = Letter {
        kind: LetterKind::Acknowledgement,
        recipient: Recipient::Customer,
        reference: account.to_owned(),
        date: words::date(redress_core::clock::local_date(procedure.time_zone(), now)),
        at: now,
        subject: format!("The information we hold about you (account {account})"),
        body: paragraphs.join("\n\n"),
        address: Vec::new(),
        from_name: organisation.name.clone(),
        from_address: organisation.address.clone(),
        from_telephone: organisation.telephone.clone(),
        large_print: false,
    };
    crate::mail::send::render_pdf(letter, false)
        .await
        .map_err(|e| CaseFileError::Other(anyhow::Error::new(e)))
}
