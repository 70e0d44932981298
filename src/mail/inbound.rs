//! Email in: one RFC 5322 message, from an MTA pipe (`redress ingest-mail`), the HTTP endpoint
//! (`POST /api/v1/inbound/email`) or the IMAP poller, is filed once, whichever way it came.
//!
//! Two halves:
//! - [`examine`] (in `examine.rs`) is pure (no I/O, no clock): it parses the message and decides everything that
//!   does not need the database — the key that makes filing idempotent (the Message-ID, or the
//!   SHA-256 of the raw message when it has none), the complaints it names, the customer and
//!   summary of a new complaint, the evidence text for an existing one, which attachments pass
//!   the limits (and why the others do not), or why the message must go to quarantine. The fuzz
//!   target `ingest_mail` drives it, with [`Filing::choose`].
//! - [`file`] does the rest against the store: duplicates are answered with their first
//!   outcome, attachments and quarantined raw messages are kept content-addressed
//!   (`files_dir/<sha256>`), the complaint is created or the evidence recorded by the system
//!   actor (with the attachments' rows, in one transaction), and the message is recorded as
//!   processed. Each step is idempotent on the message key, so a crash at any point followed
//!   by a redelivery files the message exactly once.

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use redress_core::{Action, Actor, Channel, Command, Receive, Reference};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

pub use super::examine::{
    Attachment, Choice, Decision, Examined, Filing, Limits, MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS,
    MAX_ATTACHMENTS_TOTAL_BYTES, MAX_MESSAGE_BYTES, RefusedAttachment, UNVERIFIED_ACCOUNT,
    clean_line, clean_text, examine, human_size, letter_reference, sha256_hex, subject_references,
};

use crate::store::{
    Idempotency, InboundRecord, Keyed, NewAttachment, NewQuarantine, Store, StoreError,
};

/// Who the attachments of an email are recorded as uploaded by.
pub const UPLOADED_BY_EMAIL: &str = "email";
/// The idempotency scope of inbound filing (beside API tokens' `token:N` scopes).
const IDEMPOTENCY_SCOPE: &str = "inbound-email";

// ---------------------------------------------------------------------------------------------
// Filing against the store.

/// How a message reached Redress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// `redress ingest-mail`, from an MTA.
    Pipe,
    /// `POST /api/v1/inbound/email`.
    Http,
    /// The IMAP poller.
    Imap,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Pipe => "pipe",
            Source::Http => "http",
            Source::Imap => "imap",
        }
    }
}

/// Where a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    AddedToComplaint,
    NewComplaint,
    Quarantined,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::AddedToComplaint => "added_to_complaint",
            Outcome::NewComplaint => "new_complaint",
            Outcome::Quarantined => "quarantined",
        }
    }

    pub fn parse(text: &str) -> Option<Outcome> {
        match text {
            "added_to_complaint" => Some(Outcome::AddedToComplaint),
            "new_complaint" => Some(Outcome::NewComplaint),
            "quarantined" => Some(Outcome::Quarantined),
            _ => None,
        }
    }
}

/// The answer for one message, as the endpoint and `redress ingest-mail` print it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Filed {
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The message had been filed before (same Message-ID); this is its first outcome.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub duplicate: bool,
}

/// Why a message could not be filed or quarantined now. Nothing was lost: the caller keeps
/// the message and tries again (an MTA retries; the IMAP poller leaves it unseen).
#[derive(Debug, thiserror::Error)]
pub enum FilingError {
    #[error("the database cannot be reached or failed")]
    Store(#[from] StoreError),
    #[error("a file cannot be kept in the files folder")]
    Files(#[from] std::io::Error),
}

/// A raw message as received: in memory, or, when larger than the filing limit, already
/// kept whole in the files folder (it will only be quarantined).
#[derive(Debug)]
pub enum Raw {
    Bytes(Vec<u8>),
    Kept { sha256: String, size: u64 },
}

/// Everything filing needs besides the message.
#[derive(Clone)]
pub struct Inbox {
    pub store: Store,
    pub files_dir: PathBuf,
    pub limits: Limits,
}

impl Inbox {
    pub fn new(store: Store, files_dir: PathBuf) -> Inbox {
        Inbox {
            store,
            files_dir,
            limits: Limits::default(),
        }
    }

    /// Files one message (see the module documentation). `arrived_at` is when it reached the
    /// provider, if known (IMAP's INTERNALDATE); never later than `now`. What it records came
    /// by email, however the message reached us.
    pub async fn file(
        &self,
        raw: Raw,
        source: Source,
        arrived_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<Filed, FilingError> {
        let filing = self.file_through(raw, source, arrived_at, now);
        crate::store::via::through(crate::store::via::EMAIL, filing).await
    }

    async fn file_through(
        &self,
        raw: Raw,
        source: Source,
        arrived_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<Filed, FilingError> {
        let bytes = match raw {
            Raw::Bytes(bytes) => bytes,
            Raw::Kept { sha256, size } => {
                let key = format!("sha256:{sha256}");
                if let Some(first) = self.store.inbound_processed(&key).await? {
                    return Ok(filed(first));
                }
                let reason = format!(
                    "the message is {}, more than the {} Redress files",
                    human_size(usize::try_from(size).unwrap_or(usize::MAX)),
                    human_size(self.limits.message_bytes)
                );
                let record = NewQuarantine {
                    key: &key,
                    source: source.as_str(),
                    reason: &reason,
                    sha256: &sha256,
                    size: i64::try_from(size).unwrap_or(i64::MAX),
                    message_id: None,
                    sender: None,
                    subject: None,
                };
                return Ok(filed(self.store.quarantine_inbound(&record, now).await?));
            }
        };
        let prefix = self.store.procedure().reference_prefix.clone();
        let limits = self.limits;
        // Parsing a large message takes a while: off the async threads.
        let (examined, bytes) = tokio::task::spawn_blocking(move || {
            let examined = examine(&bytes, &prefix, &limits);
            (examined, bytes)
        })
        .await
        .map_err(std::io::Error::other)?;
        if let Some(first) = self.store.inbound_processed(&examined.key).await? {
            return Ok(filed(first));
        }
        let filing = match examined.decision {
            Decision::Quarantine(ref reason) => {
                return self.quarantine(&examined, reason, bytes, source, now).await;
            }
            Decision::File(ref filing) => filing,
        };
        let mut existing = Vec::new();
        for reference in &filing.names {
            if self.store.complaint_exists(reference).await? {
                existing.push(reference.clone());
            }
        }
        let choice = filing.choose(|r| existing.contains(r));
        let key = Idempotency {
            scope: IDEMPOTENCY_SCOPE.into(),
            key: examined.key.clone(),
            request_hash: "inbound-email".into(),
        };
        let mut sender_note = None;
        let (outcome, reference) = match choice {
            Choice::Quarantine(reason) => {
                return self
                    .quarantine(&examined, &reason, bytes, source, now)
                    .await;
            }
            Choice::AddTo(reference) => {
                let current = self.store.get_complaint(&reference).await?.complaint;
                sender_note = filing.sender_note(current.customer.email.as_deref());
                let command = Command {
                    by: Actor::system(),
                    action: Action::ReceiveEvidence {
                        request: None,
                        description: Some(filing.description.clone()),
                        channel: Some(Channel::Email),
                    },
                };
                // The attachments are kept only if the complaint as it stands takes the
                // evidence, so a refused message leaves no file behind; their rows commit with
                // the evidence event.
                let refused_now =
                    redress_core::execute(current, command.clone(), now, self.store.procedure())
                        .refusal
                        .is_some();
                let attachments = if refused_now {
                    Vec::new()
                } else {
                    self.keep_attachments(filing, &bytes).await?
                };
                // A refusal is kept with the key too, so a redelivery after a crash before the
                // quarantine below is quarantined the same way.
                let result = self
                    .store
                    .run_command_keyed(&reference, command, now, &key, &attachments)
                    .await;
                let refused = match result {
                    Ok(answer) => answer.into_inner().refusal.map(|r| r.reason),
                    Err(StoreError::Refused(refusal)) => Some(refusal.reason),
                    Err(error) => return Err(error.into()),
                };
                if let Some(refused) = refused {
                    let reason = format!("{reference} did not take it as evidence: {refused}");
                    return self
                        .quarantine(&examined, &reason, bytes, source, now)
                        .await;
                }
                (Outcome::AddedToComplaint, reference)
            }
            Choice::NewComplaint => {
                let receive = Receive {
                    reference: Reference::new(&self.store.procedure().reference_prefix, 2000, 0),
                    channel: Channel::Email,
                    customer: filing.customer.clone(),
                    summary: filing.summary.clone(),
                    category: None,
                    received_at: arrived_at.map(|t| t.min(now)),
                    staff_concerned: Vec::new(),
                    by: Actor::system(),
                };
                // Whether the core opens a complaint follows from the message and `now` alone:
                // the attachments are kept only for one it opens, and their rows commit with it.
                let opens =
                    redress_core::open(receive.clone(), now, self.store.procedure()).is_ok();
                let attachments = if opens {
                    self.keep_attachments(filing, &bytes).await?
                } else {
                    Vec::new()
                };
                let result = self
                    .store
                    .create_complaint_keyed(receive, now, &key, attachments)
                    .await;
                let reference = match result {
                    Ok(answer) => answer.into_inner().complaint.reference,
                    Err(StoreError::Refused(refusal)) => {
                        let reason =
                            format!("a complaint cannot be started from it: {}", refusal.reason);
                        return self
                            .quarantine(&examined, &reason, bytes, source, now)
                            .await;
                    }
                    Err(error) => return Err(error.into()),
                };
                (Outcome::NewComplaint, reference)
            }
        };
        drop(bytes);
        let note = match (sender_note, filing.note()) {
            (Some(a), Some(b)) => Some(format!("{a}\n\n{b}")),
            (a, b) => a.or(b),
        };
        if let Some(note) = note {
            let note_key = Idempotency {
                key: format!("{}#note", examined.key),
                ..key.clone()
            };
            let command = Command {
                by: Actor::system(),
                action: Action::AddNote {
                    text: note,
                    restricted: false,
                    about_staff: None,
                },
            };
            let result = self
                .store
                .run_command_keyed(&reference, command, now, &note_key, &[])
                .await?;
            if let Keyed::First(outcome) = result
                && let Some(refusal) = outcome.refusal
            {
                tracing::warn!(%reference, reason = %refusal.reason, "the note of attachments not kept was refused");
            }
        }
        let record = self
            .store
            .finish_inbound(&examined.key, outcome.as_str(), reference.as_str(), now)
            .await?;
        Ok(filed(record))
    }

    /// Keeps a filed message's attachments and the message itself, as received (`.eml`, for
    /// the ombudsman's case file), fsynced, by hash; returns their rows.
    async fn keep_attachments(
        &self,
        filing: &Filing,
        raw: &[u8],
    ) -> Result<Vec<NewAttachment>, FilingError> {
        let mut rows = Vec::with_capacity(filing.attachments.len() + 1);
        for attachment in &filing.attachments {
            let sha256 = keep(&self.files_dir, attachment.bytes.clone()).await?;
            rows.push(NewAttachment {
                sha256,
                filename: attachment.filename.clone(),
                content_type: attachment.content_type.clone(),
                size: i64::try_from(attachment.bytes.len()).unwrap_or(i64::MAX),
                uploaded_by: UPLOADED_BY_EMAIL.to_owned(),
            });
        }
        rows.push(NewAttachment {
            sha256: keep(&self.files_dir, raw.to_vec()).await?,
            filename: "email-received.eml".to_owned(),
            content_type: "message/rfc822".to_owned(),
            size: i64::try_from(raw.len()).unwrap_or(i64::MAX),
            uploaded_by: UPLOADED_BY_EMAIL.to_owned(),
        });
        Ok(rows)
    }

    async fn quarantine(
        &self,
        examined: &Examined,
        reason: &str,
        bytes: Vec<u8>,
        source: Source,
        now: Timestamp,
    ) -> Result<Filed, FilingError> {
        let size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
        let sha256 = keep(&self.files_dir, bytes).await?;
        let record = NewQuarantine {
            key: &examined.key,
            source: source.as_str(),
            reason,
            sha256: &sha256,
            size,
            message_id: examined.message_id.as_deref(),
            sender: examined.sender.as_deref(),
            subject: examined.subject.as_deref(),
        };
        tracing::warn!(%reason, source = source.as_str(), "an inbound email was quarantined");
        Ok(filed(self.store.quarantine_inbound(&record, now).await?))
    }
}

/// The answer for a stored record.
fn filed(record: InboundRecord) -> Filed {
    Filed {
        outcome: Outcome::parse(&record.outcome).unwrap_or(Outcome::Quarantined),
        reference: record.reference,
        reason: record.reason,
        duplicate: record.duplicate,
    }
}

/// Keeps bytes as `dir/<sha256>` (see the customer portal's files).
async fn keep(dir: &Path, bytes: Vec<u8>) -> std::io::Result<String> {
    crate::files::keep(dir.to_path_buf(), bytes).await
}

/// Gathers a raw message arriving in pieces: in memory up to the filing limit, then whole in
/// the files folder (it can only be quarantined, but it is never lost).
pub struct Collector {
    dir: PathBuf,
    limit: usize,
    ceiling: Option<u64>,
    memory: Vec<u8>,
    spill: Option<Spill>,
}

struct Spill {
    file: tokio::fs::File,
    path: PathBuf,
    hasher: Sha256,
    size: u64,
}

/// A message longer than a collector's ceiling.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error("the message is longer than {0} bytes")]
    TooLarge(u64),
    #[error("the message cannot be kept: {0}")]
    Io(#[from] std::io::Error),
}

impl Collector {
    /// Keeps up to `limit` bytes in memory; refuses more than `ceiling` bytes in all.
    pub fn new(dir: PathBuf, limit: usize, ceiling: Option<u64>) -> Collector {
        Collector {
            dir,
            limit,
            ceiling,
            memory: Vec::new(),
            spill: None,
        }
    }

    pub async fn push(&mut self, chunk: &[u8]) -> Result<(), CollectError> {
        let total = self.memory.len() as u64
            + self.spill.as_ref().map_or(0, |s| s.size)
            + chunk.len() as u64;
        if let Some(ceiling) = self.ceiling
            && total > ceiling
        {
            self.discard().await;
            return Err(CollectError::TooLarge(ceiling));
        }
        if let Some(spill) = &mut self.spill {
            spill.hasher.update(chunk);
            spill.size += chunk.len() as u64;
            spill.file.write_all(chunk).await?;
            return Ok(());
        }
        if self.memory.len() + chunk.len() <= self.limit {
            self.memory.extend_from_slice(chunk);
            return Ok(());
        }
        let dir = self.dir.clone();
        tokio::task::spawn_blocking(move || crate::durable::create_dir_all(&dir))
            .await
            .map_err(std::io::Error::other)??;
        let path = self
            .dir
            .join(format!(".inbound.{}.tmp", crate::store::random_token()));
        let mut file = tokio::fs::File::create(&path).await?;
        let mut hasher = Sha256::new();
        let head = std::mem::take(&mut self.memory);
        hasher.update(&head);
        hasher.update(chunk);
        let written = async {
            file.write_all(&head).await?;
            file.write_all(chunk).await
        }
        .await;
        self.spill = Some(Spill {
            file,
            path,
            hasher,
            size: (head.len() + chunk.len()) as u64,
        });
        if let Err(error) = written {
            self.discard().await;
            return Err(error.into());
        }
        Ok(())
    }

    pub async fn finish(mut self) -> Result<Raw, CollectError> {
        let Some(mut spill) = self.spill.take() else {
            return Ok(Raw::Bytes(std::mem::take(&mut self.memory)));
        };
        let done = async {
            spill.file.flush().await?;
            spill.file.sync_all().await?;
            let sha256: String = spill
                .hasher
                .clone()
                .finalize()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            // Renamed into place and its folder synced: on the disk before it is recorded.
            let (copy, target) = (spill.path.clone(), self.dir.join(&sha256));
            tokio::task::spawn_blocking(move || crate::durable::rename_into_place(&copy, &target))
                .await
                .map_err(std::io::Error::other)??;
            Ok::<_, std::io::Error>(sha256)
        }
        .await;
        match done {
            Ok(sha256) => Ok(Raw::Kept {
                sha256,
                size: spill.size,
            }),
            Err(error) => {
                let _ = tokio::fs::remove_file(&spill.path).await;
                Err(error.into())
            }
        }
    }

    async fn discard(&mut self) {
        self.memory = Vec::new();
        if let Some(spill) = self.spill.take() {
            drop(spill.file);
            let _ = tokio::fs::remove_file(&spill.path).await;
        }
    }
}
