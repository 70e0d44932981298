//! Erasing a complaint's personal data, and the retention run's queue.
//!
//! The core decides that a complaint may be erased (`erase_personal_data`, by compliance on
//! the customer's request or by Redress itself at the end of the retention period) and what
//! of each event is personal (`redress_core::erasure::erased`). Here, in the command's
//! transaction: each event that changes is recorded in `erased_events` (the digest of its
//! payload as it was, which the chain covers, and of the payload as kept), then its payload
//! is replaced; the other rows that hold the customer's words or details are blanked or
//! deleted; the files they name are queued in `erasure_files`. The `personal_data_erased`
//! event that follows carries the digest of the list of changed events, so the chain (and the
//! ledger that seals it) vouches for what is left. After the commit the files go
//! ([`Store::erasure_files`]) and the database's free space is cleared ([`Store::compact`]).

use jiff::Timestamp;
use redress_core::erasure::{ERASED, erased};
use redress_core::{Complaint, Event, Reference};
use sqlx::any::Any;
use sqlx::{Row, Transaction};

use super::chain::payload_digest;
use super::{Backend, Store, StoreError, micros};

/// What blanking a complaint's events did: how many changed, and the SHA-256 of their list.
pub(crate) struct Blanked {
    pub events: u32,
    pub digest: String,
}

/// The outbox payload an erased complaint's letters keep.
const ERASED_PAYLOAD: &str = r#"{"erased":true}"#;

/// Blanks the personal data of complaint `id` everywhere but its projection (which the
/// erasure event's own fold rewrites), inside the caller's transaction.
pub(crate) async fn blank(
    tx: &mut Transaction<'static, Any>,
    id: i64,
    reference: &Reference,
    before: &Complaint,
    now: Timestamp,
) -> Result<Blanked, StoreError> {
    let at = micros(now);
    let mut list = String::new();
    let mut events = 0_u32;
    for row in super::audit::stored_events(tx, id).await? {
        let (sequence, payload) = (row.sequence, &row.payload);
        let event: Event = serde_json::from_str(payload)
            .map_err(|e| StoreError::Corrupt(format!("event {sequence} of {reference}: {e}")))?;
        let kept = erased(&event);
        if kept == event {
            continue;
        }
        let kept_json = serde_json::to_string(&kept)
            .map_err(|e| StoreError::Corrupt(format!("an erased event: {e}")))?;
        // A row written before the chain covered payloads by their digest can be checked by
        // its link only once its payload is gone.
        let chained = row
            .link(reference.as_str(), sequence, &row.prev_hash)
            .hash()
            == row.hash;
        let (was, kept_digest) = (payload_digest(payload), payload_digest(&kept_json));
        sqlx::query(
            "INSERT INTO erased_events (complaint_id, sequence, payload_sha256, kept_sha256, chained, erased_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(sequence)
        .bind(&was)
        .bind(&kept_digest)
        .bind(i64::from(chained))
        .bind(at)
        .execute(&mut **tx)
        .await?;
        sqlx::query("UPDATE events SET payload = $1 WHERE complaint_id = $2 AND sequence = $3")
            .bind(kept_json)
            .bind(id)
            .bind(sequence)
            .execute(&mut **tx)
            .await?;
        list.push_str(&redaction_line(sequence, &was, &kept_digest));
        events += 1;
    }
    blank_around(tx, id, reference, before, at).await?;
    Ok(Blanked {
        events,
        digest: payload_digest(&list),
    })
}

/// One line of the list an erasure event's digest covers.
pub(crate) fn redaction_line(sequence: i64, was: &str, kept: &str) -> String {
    format!("{sequence} {was} {kept}\n")
}

/// Everything beside the events that holds the customer's words or details.
async fn blank_around(
    tx: &mut Transaction<'static, Any>,
    id: i64,
    reference: &Reference,
    before: &Complaint,
    at: i64,
) -> Result<(), StoreError> {
    // Files: attachments (evidence, scans, emails received), letters' copies, quarantined
    // messages filed to the complaint. Deleted from files_dir after the commit.
    for sql in [
        "SELECT sha256 AS sha FROM attachments WHERE complaint_id = $1",
        "SELECT copy_sha256 AS sha FROM letter_copies WHERE complaint_id = $1",
        "SELECT pdf_sha256 AS sha FROM letter_copies WHERE complaint_id = $1",
    ] {
        for row in sqlx::query(sql).bind(id).fetch_all(&mut **tx).await? {
            queue_file(tx, &row.try_get::<String, _>("sha")?).await?;
        }
    }
    for row in sqlx::query("SELECT sha256 FROM inbound_quarantine WHERE resolved_reference = $1")
        .bind(reference.as_str())
        .fetch_all(&mut **tx)
        .await?
    {
        queue_file(tx, &row.try_get::<String, _>("sha256")?).await?;
    }
    // Post letters' PDFs in the print queue folder.
    for row in sqlx::query(
        "SELECT print_file FROM outbox WHERE complaint_id = $1 AND print_file IS NOT NULL",
    )
    .bind(id)
    .fetch_all(&mut **tx)
    .await?
    {
        let name: String = row.try_get("print_file")?;
        queue_file(tx, &format!("print:{name}")).await?;
    }
    sqlx::query("UPDATE attachments SET filename = $1 WHERE complaint_id = $2")
        .bind(ERASED)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "UPDATE inbound_quarantine SET sender = NULL, subject = NULL, message_id = NULL, \
         resolution_note = NULL WHERE resolved_reference = $1",
    )
    .bind(reference.as_str())
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "UPDATE print_log SET reason = $1 WHERE reason IS NOT NULL AND outbox_id IN \
         (SELECT id FROM outbox WHERE complaint_id = $2)",
    )
    .bind(ERASED)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    // A letter not yet sent never goes: there is no one to send it to.
    sqlx::query(
        "UPDATE outbox SET cancelled_at = $1, cancel_reason = 'the personal data was erased' \
         WHERE complaint_id = $2 AND sent_at IS NULL AND cancelled_at IS NULL",
    )
    .bind(at)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "UPDATE outbox SET payload = $1, last_error = NULL, print_file = NULL WHERE complaint_id = $2",
    )
    .bind(ERASED_PAYLOAD)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE complaints SET customer_account = $1, erased_at = $2 WHERE id = $3")
        .bind(ERASED)
        .bind(at)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM retention_queue WHERE complaint_id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    // Messages filed to the complaint are remembered by Message-ID (which may hold the
    // sender's address): by its digest from now on. A copy delivered again is then filed
    // anew, to the erased complaint, which refuses it, and is quarantined.
    for row in sqlx::query("SELECT message_key FROM inbound_messages WHERE reference = $1")
        .bind(reference.as_str())
        .fetch_all(&mut **tx)
        .await?
    {
        let key: String = row.try_get("message_key")?;
        if key.starts_with("erased:") {
            continue;
        }
        sqlx::query(
            "UPDATE inbound_messages SET message_key = $1, reason = NULL WHERE message_key = $2",
        )
        .bind(format!("erased:{}", payload_digest(&key)))
        .bind(&key)
        .execute(&mut **tx)
        .await?;
    }
    // Answers kept for retried requests may quote the complaint.
    sqlx::query("DELETE FROM idempotency_keys WHERE body LIKE $1")
        .bind(format!("%{}%", reference.as_str()))
        .execute(&mut **tx)
        .await?;
    // The customer's sign-in links and portal sessions, unless another complaint still held
    // (not erased) has the same address.
    if let Some(email) = before.customer.email.as_deref() {
        let email = email.trim().to_lowercase();
        let others = sqlx::query(
            "SELECT 1 FROM complaints WHERE customer_email = $1 AND id <> $2 AND erased_at IS NULL LIMIT 1",
        )
        .bind(&email)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
        if others.is_none() {
            sqlx::query("DELETE FROM customer_links WHERE email = $1")
                .bind(&email)
                .execute(&mut **tx)
                .await?;
            sqlx::query("DELETE FROM sessions WHERE customer_scope = $1")
                .bind(&email)
                .execute(&mut **tx)
                .await?;
        }
    }
    Ok(())
}

async fn queue_file(tx: &mut Transaction<'static, Any>, name: &str) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO erasure_files (sha256) VALUES ($1) ON CONFLICT (sha256) DO NOTHING")
        .bind(name)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A complaint the retention run looks at.
#[derive(Debug, Clone)]
pub struct RetentionCandidate {
    pub id: i64,
    pub reference: Reference,
    pub complaint: Complaint,
}

impl Store {
    /// Closed complaints due a look from the retention run at `as_of`, after complaint id
    /// `after`, at most `limit`.
    pub async fn retention_candidates(
        &self,
        as_of: Timestamp,
        after: i64,
        limit: i64,
    ) -> Result<Vec<RetentionCandidate>, StoreError> {
        let rows = sqlx::query(
            "SELECT q.complaint_id, c.reference, c.state FROM retention_queue q \
             JOIN complaints c ON c.id = q.complaint_id \
             WHERE q.check_at <= $1 AND q.complaint_id > $2 ORDER BY q.complaint_id LIMIT $3",
        )
        .bind(micros(as_of))
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let id: i64 = row.try_get("complaint_id")?;
                let reference: String = row.try_get("reference")?;
                let state: String = row.try_get("state")?;
                Ok(RetentionCandidate {
                    id,
                    reference: Reference::parse(&reference)
                        .map_err(|_| StoreError::Corrupt(format!("reference {reference}")))?,
                    complaint: serde_json::from_str(&state)
                        .map_err(|e| StoreError::Corrupt(format!("complaint {id}: {e}")))?,
                })
            })
            .collect()
    }

    /// When the retention run should look at complaints again, in one transaction: `None`
    /// takes one off the queue (reopened, or erased).
    pub async fn retention_check_at_many(
        &self,
        checks: &[(i64, Option<Timestamp>)],
    ) -> Result<(), StoreError> {
        if checks.is_empty() {
            return Ok(());
        }
        let mut w = self.begin_write().await?;
        for (id, check_at) in checks {
            match check_at {
                Some(at) => {
                    sqlx::query("UPDATE retention_queue SET check_at = $1 WHERE complaint_id = $2")
                        .bind(micros(*at))
                        .bind(*id)
                        .execute(&mut *w.tx)
                        .await?
                }
                None => {
                    sqlx::query("DELETE FROM retention_queue WHERE complaint_id = $1")
                        .bind(*id)
                        .execute(&mut *w.tx)
                        .await?
                }
            };
        }
        w.tx.commit().await?;
        Ok(())
    }

    /// The files erasures left to delete: a SHA-256 in files_dir, or `print:<name>` in the
    /// print queue folder.
    pub async fn erasure_files(&self) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query("SELECT sha256 FROM erasure_files ORDER BY sha256")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<String, _>("sha256")?))
            .collect()
    }

    /// Whether a file in files_dir is still needed by a complaint not erased (the same bytes
    /// attached elsewhere) or by a message still waiting in quarantine.
    pub async fn file_still_held(&self, sha256: &str) -> Result<bool, StoreError> {
        let row = sqlx::query(
            "SELECT 1 FROM attachments a JOIN complaints c ON c.id = a.complaint_id \
               WHERE a.sha256 = $1 AND c.erased_at IS NULL \
             UNION ALL SELECT 1 FROM letter_copies l JOIN complaints c ON c.id = l.complaint_id \
               WHERE (l.copy_sha256 = $1 OR l.pdf_sha256 = $1) AND c.erased_at IS NULL \
             UNION ALL SELECT 1 FROM inbound_quarantine q WHERE q.sha256 = $1 AND q.resolved_at IS NULL",
        )
        .bind(sha256)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    /// The file is gone (or stays for another): it leaves the list.
    pub async fn erasure_file_done(&self, name: &str) -> Result<(), StoreError> {
        self.write_one(
            sqlx::query("DELETE FROM erasure_files WHERE sha256 = $1").bind(name.to_owned()),
        )
        .await?;
        Ok(())
    }

    /// Clears erased values from the database's files: on SQLite, whose deletes zero their
    /// space (`secure_delete`) and whose full-text index drops a row's words at once (FTS5
    /// `secure-delete`, migration 0013), the write-ahead log is checkpointed and truncated; on
    /// PostgreSQL the tables an erasure changes are vacuumed.
    pub async fn compact(&self) -> Result<(), StoreError> {
        match self.backend {
            Backend::Sqlite => {
                let _turn = super::writer_turn(self.write_lock.as_ref()).await;
                sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                    .fetch_all(&self.pool)
                    .await?;
            }
            Backend::Postgres => {
                for table in [
                    "events",
                    "complaints",
                    "attachments",
                    "outbox",
                    "inbound_quarantine",
                    "print_log",
                    "idempotency_keys",
                    "customer_links",
                    "sessions",
                ] {
                    sqlx::query(sqlx::AssertSqlSafe(format!("VACUUM {table}")))
                        .execute(&self.pool)
                        .await?;
                }
            }
        }
        Ok(())
    }
}
