//! Email in: the messages already processed (so one delivered twice is filed once) and the
//! quarantine of messages that could not be filed (migration 0005).

use jiff::Timestamp;
use redress_core::Reference;
use serde::Serialize;
use sqlx::Row;

use super::{Store, StoreError, from_micros, micros};

/// What became of a processed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundRecord {
    /// `added_to_complaint`, `new_complaint` or `quarantined`.
    pub outcome: String,
    pub reference: Option<String>,
    pub reason: Option<String>,
    /// True when the message had been processed before this delivery.
    pub duplicate: bool,
}

/// A message to quarantine (its raw bytes are already kept as `files_dir/<sha256>`).
pub struct NewQuarantine<'a> {
    pub key: &'a str,
    pub source: &'a str,
    pub reason: &'a str,
    pub sha256: &'a str,
    pub size: i64,
    pub message_id: Option<&'a str>,
    pub sender: Option<&'a str>,
    pub subject: Option<&'a str>,
}

/// A quarantined message, as listed for staff.
#[derive(Debug, Clone, Serialize)]
pub struct QuarantineRow {
    pub id: i64,
    pub received_at: Timestamp,
    pub source: String,
    pub reason: String,
    /// The raw message is kept as `files_dir/<sha256>`.
    pub sha256: String,
    pub size: i64,
    pub message_id: Option<String>,
    pub sender: Option<String>,
    pub subject: Option<String>,
    /// What staff did with it, once they have (migration 0008).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved: Option<Resolved>,
}

/// What staff did with a quarantined message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// Filed into an existing complaint as evidence.
    Filed,
    /// A complaint was started from it.
    NewComplaint,
    /// Set aside with a reason (spam, a message for someone else...).
    Discarded,
}

impl Resolution {
    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::Filed => "filed",
            Resolution::NewComplaint => "new_complaint",
            Resolution::Discarded => "discarded",
        }
    }

    fn parse(text: &str) -> Option<Resolution> {
        match text {
            "filed" => Some(Resolution::Filed),
            "new_complaint" => Some(Resolution::NewComplaint),
            "discarded" => Some(Resolution::Discarded),
            _ => None,
        }
    }
}

/// Who dealt with a quarantined message, when, how and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resolved {
    pub resolution: Resolution,
    pub at: Timestamp,
    /// The staff member's email address.
    pub by: String,
    /// The complaint it was filed into or started.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Why it was discarded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// What resolving a quarantined message did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolving {
    /// Recorded now.
    Done,
    /// Someone had dealt with it already: their decision stands.
    Already(Resolved),
    /// No quarantined message has that id.
    NotFound,
}

const QUARANTINE_COLUMNS: &str = "id, received_at, source, reason, sha256, size_bytes, message_id, sender, subject, \
     resolved_at, resolution, resolved_by, resolved_reference, resolution_note";

fn quarantine_row(r: &sqlx::any::AnyRow) -> Result<QuarantineRow, StoreError> {
    let resolved_at: Option<i64> = r.try_get("resolved_at")?;
    let resolution: Option<String> = r.try_get("resolution")?;
    let resolved = match (
        resolved_at,
        resolution.as_deref().and_then(Resolution::parse),
    ) {
        (Some(at), Some(resolution)) => Some(Resolved {
            resolution,
            at: from_micros(at)?,
            by: r
                .try_get::<Option<String>, _>("resolved_by")?
                .unwrap_or_default(),
            reference: r.try_get("resolved_reference")?,
            note: r.try_get("resolution_note")?,
        }),
        _ => None,
    };
    Ok(QuarantineRow {
        id: r.try_get("id")?,
        received_at: from_micros(r.try_get("received_at")?)?,
        source: r.try_get("source")?,
        reason: r.try_get("reason")?,
        sha256: r.try_get("sha256")?,
        size: r.try_get("size_bytes")?,
        message_id: r.try_get("message_id")?,
        sender: r.try_get("sender")?,
        subject: r.try_get("subject")?,
        resolved,
    })
}

impl Store {
    /// What became of the message with this key, if it was processed before.
    pub async fn inbound_processed(&self, key: &str) -> Result<Option<InboundRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT outcome, reference, reason FROM inbound_messages WHERE message_key = $1",
        )
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(InboundRecord {
                outcome: row.try_get("outcome")?,
                reference: row.try_get("reference")?,
                reason: row.try_get("reason")?,
                duplicate: true,
            })
        })
        .transpose()
    }

    /// Whether a complaint with this reference exists.
    pub async fn complaint_exists(&self, reference: &Reference) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT 1 AS found FROM complaints WHERE reference = $1")
            .bind(reference.as_str())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    /// Quarantines a message and records it as processed, in one transaction. A message
    /// processed before (same key) is not quarantined again: its first outcome is returned.
    pub async fn quarantine_inbound(
        &self,
        q: &NewQuarantine<'_>,
        now: Timestamp,
    ) -> Result<InboundRecord, StoreError> {
        let mut w = self.begin_write().await?;
        if let Some(first) = self.processed_in(&mut w.tx, q.key).await? {
            return Ok(first);
        }
        let row = sqlx::query(
            "INSERT INTO inbound_quarantine (received_at, source, reason, sha256, size_bytes, message_id, sender, subject) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(micros(now))
        .bind(q.source)
        .bind(q.reason)
        .bind(q.sha256)
        .bind(q.size)
        .bind(q.message_id)
        .bind(q.sender)
        .bind(q.subject)
        .fetch_one(&mut *w.tx)
        .await?;
        let id: i64 = row.try_get("id")?;
        sqlx::query(
            "INSERT INTO inbound_messages (message_key, outcome, reference, reason, quarantine_id, processed_at) \
             VALUES ($1, 'quarantined', NULL, $2, $3, $4)",
        )
        .bind(q.key)
        .bind(q.reason)
        .bind(id)
        .bind(micros(now))
        .execute(&mut *w.tx)
        .await?;
        w.tx.commit().await?;
        Ok(InboundRecord {
            outcome: "quarantined".into(),
            reference: None,
            reason: Some(q.reason.to_owned()),
            duplicate: false,
        })
    }

    /// Records a filed message as processed (its complaint or evidence, and its attachments,
    /// were recorded before, once per message key). If another delivery finished first,
    /// nothing is recorded twice and its outcome is returned.
    pub async fn finish_inbound(
        &self,
        key: &str,
        outcome: &str,
        reference: &str,
        now: Timestamp,
    ) -> Result<InboundRecord, StoreError> {
        let mut w = self.begin_write().await?;
        if let Some(first) = self.processed_in(&mut w.tx, key).await? {
            return Ok(first);
        }
        sqlx::query(
            "INSERT INTO inbound_messages (message_key, outcome, reference, reason, quarantine_id, processed_at) \
             VALUES ($1, $2, $3, NULL, NULL, $4)",
        )
        .bind(key)
        .bind(outcome)
        .bind(reference)
        .bind(micros(now))
        .execute(&mut *w.tx)
        .await?;
        w.tx.commit().await?;
        Ok(InboundRecord {
            outcome: outcome.to_owned(),
            reference: Some(reference.to_owned()),
            reason: None,
            duplicate: false,
        })
    }

    /// The record of a processed message, read inside a write transaction (on PostgreSQL,
    /// after waiting for any other delivery of the same message to commit).
    async fn processed_in(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        key: &str,
    ) -> Result<Option<InboundRecord>, StoreError> {
        if self.backend == super::Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                .bind(format!("inbound\u{1f}{key}"))
                .execute(&mut **tx)
                .await?;
        }
        let row = sqlx::query(
            "SELECT outcome, reference, reason FROM inbound_messages WHERE message_key = $1",
        )
        .bind(key)
        .fetch_optional(&mut **tx)
        .await?;
        row.map(|row| {
            Ok(InboundRecord {
                outcome: row.try_get("outcome")?,
                reference: row.try_get("reference")?,
                reason: row.try_get("reason")?,
                duplicate: true,
            })
        })
        .transpose()
    }

    /// Quarantined messages, newest first, whether dealt with or not.
    pub async fn quarantined(&self, limit: i64) -> Result<Vec<QuarantineRow>, StoreError> {
        self.quarantine_rows("1 = 1 ORDER BY id DESC", limit).await
    }

    /// Quarantined messages nobody has dealt with yet, oldest first (the order they are worked).
    pub async fn quarantine_waiting(&self, limit: i64) -> Result<Vec<QuarantineRow>, StoreError> {
        self.quarantine_rows("resolved_at IS NULL ORDER BY id", limit)
            .await
    }

    /// Quarantined messages dealt with, the latest decision first.
    pub async fn quarantine_dealt(&self, limit: i64) -> Result<Vec<QuarantineRow>, StoreError> {
        self.quarantine_rows(
            "resolved_at IS NOT NULL ORDER BY resolved_at DESC, id DESC",
            limit,
        )
        .await
    }

    /// Quarantined messages chosen and ordered by `selection` (one of the fixed clauses above,
    /// never input), at most `limit`.
    async fn quarantine_rows(
        &self,
        selection: &'static str,
        limit: i64,
    ) -> Result<Vec<QuarantineRow>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {QUARANTINE_COLUMNS} FROM inbound_quarantine WHERE {selection} LIMIT $1"
        )))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(quarantine_row).collect()
    }

    /// One quarantined message.
    pub async fn quarantine_item(&self, id: i64) -> Result<Option<QuarantineRow>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {QUARANTINE_COLUMNS} FROM inbound_quarantine WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(quarantine_row).transpose()
    }

    /// Records what staff did with a quarantined message. The first decision stands: a second
    /// (another person at the same moment, or the same form sent twice) changes nothing and is
    /// told the first.
    pub async fn resolve_quarantine(
        &self,
        id: i64,
        resolution: Resolution,
        by: &str,
        reference: Option<&str>,
        note: Option<&str>,
        now: Timestamp,
    ) -> Result<Resolving, StoreError> {
        let mut w = self.begin_write().await?;
        let changed = sqlx::query(
            "UPDATE inbound_quarantine SET resolved_at = $1, resolution = $2, resolved_by = $3, \
             resolved_reference = $4, resolution_note = $5 WHERE id = $6 AND resolved_at IS NULL",
        )
        .bind(micros(now))
        .bind(resolution.as_str())
        .bind(by)
        .bind(reference.map(str::to_owned))
        .bind(note.map(str::to_owned))
        .bind(id)
        .execute(&mut *w.tx)
        .await?
        .rows_affected();
        if changed == 1 {
            w.tx.commit().await?;
            return Ok(Resolving::Done);
        }
        drop(w);
        Ok(match self.quarantine_item(id).await? {
            Some(QuarantineRow {
                resolved: Some(first),
                ..
            }) => Resolving::Already(first),
            _ => Resolving::NotFound,
        })
    }

    /// Gives back a decision taken by `by` that could not be carried out (the complaint
    /// refused it), so that the message waits again.
    pub async fn release_quarantine(
        &self,
        id: i64,
        resolution: Resolution,
        by: &str,
    ) -> Result<(), StoreError> {
        self.write_one(
            sqlx::query(
                "UPDATE inbound_quarantine SET resolved_at = NULL, resolution = NULL, resolved_by = NULL, \
                 resolved_reference = NULL, resolution_note = NULL \
                 WHERE id = $1 AND resolution = $2 AND resolved_by = $3",
            )
            .bind(id)
            .bind(resolution.as_str())
            .bind(by.to_owned()),
        )
        .await?;
        Ok(())
    }

    /// Names the complaint started from a quarantined message, once it exists.
    pub async fn name_started_complaint(
        &self,
        id: i64,
        by: &str,
        reference: &str,
    ) -> Result<(), StoreError> {
        self.write_one(
            sqlx::query(
                "UPDATE inbound_quarantine SET resolved_reference = $1 \
                 WHERE id = $2 AND resolution = 'new_complaint' AND resolved_by = $3",
            )
            .bind(reference.to_owned())
            .bind(id)
            .bind(by.to_owned()),
        )
        .await?;
        Ok(())
    }
}
