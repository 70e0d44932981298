//! The outbox's second half: claiming letters to send (a lease), recording what became of each,
//! listing a complaint's letters for staff, and the print queue of post letters.
//!
//! Rows are written by `append` (write.rs) in the transaction of the event that causes them.
//! A sender claims due rows in one short transaction (`FOR UPDATE SKIP LOCKED` on PostgreSQL,
//! so nodes never claim the same row; SQLite has one writer at a time): it adds one to
//! `attempts` and moves `next_attempt_at` a lease ahead, then commits before sending. After
//! sending it sets `sent_at`; after a failure it sets `last_error` and the next attempt.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use redress_core::{Complaint, Event};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Backend, Store, StoreError, from_micros, micros};

/// A letter or email claimed for sending, or looked up.
#[derive(Debug, Clone)]
pub struct OutboxItem {
    pub id: i64,
    pub complaint_id: i64,
    pub reference: String,
    /// The event that caused it (negative for a sign-in link, which no event causes).
    pub event_sequence: i64,
    /// A letter kind (`adr_notice`...) or `sign_in_link`.
    pub kind: String,
    /// `email` or `post`.
    pub channel: String,
    pub payload: serde_json::Value,
    pub created_at: Timestamp,
    /// Attempts so far, this one included once claimed.
    pub attempts: i64,
    pub sent_at: Option<Timestamp>,
    pub printed_at: Option<Timestamp>,
    pub printed_by: Option<String>,
    pub last_error: Option<String>,
    pub large_print: bool,
    pub print_file: Option<String>,
    /// Held back before it went (a compensation offer withdrawn first): when, and why.
    pub cancelled_at: Option<Timestamp>,
    pub cancel_reason: Option<String>,
}

impl OutboxItem {
    /// The complaint's personal data was erased: the letter's words and PDF are gone.
    pub fn erased(&self) -> bool {
        self.payload.get("erased") == Some(&serde_json::Value::Bool(true))
    }

    /// `customer` or `third_party`, as written in the payload.
    pub fn recipient(&self) -> &str {
        self.payload
            .get("recipient")
            .and_then(|r| r.as_str())
            .unwrap_or("customer")
    }
}

const COLUMNS: &str = "o.id, o.complaint_id, c.reference, o.event_sequence, o.kind, o.channel, o.payload, \
     o.created_at, o.attempts, o.sent_at, o.printed_at, o.printed_by, o.last_error, o.large_print, o.print_file, \
     o.cancelled_at, o.cancel_reason";

fn item(row: &AnyRow) -> Result<OutboxItem, StoreError> {
    let optional = |name: &str| -> Result<Option<Timestamp>, StoreError> {
        let value: Option<i64> = row.try_get(name)?;
        value.map(from_micros).transpose()
    };
    let payload: String = row.try_get("payload")?;
    let large_print: i64 = row.try_get("large_print")?;
    Ok(OutboxItem {
        id: row.try_get("id")?,
        complaint_id: row.try_get("complaint_id")?,
        reference: row.try_get("reference")?,
        event_sequence: row.try_get("event_sequence")?,
        kind: row.try_get("kind")?,
        channel: row.try_get("channel")?,
        payload: serde_json::from_str(&payload)
            .map_err(|e| StoreError::Corrupt(format!("outbox payload: {e}")))?,
        created_at: from_micros(row.try_get("created_at")?)?,
        attempts: row.try_get("attempts")?,
        sent_at: optional("sent_at")?,
        printed_at: optional("printed_at")?,
        printed_by: row.try_get("printed_by")?,
        last_error: row.try_get("last_error")?,
        large_print: large_print != 0,
        print_file: row.try_get("print_file")?,
        cancelled_at: optional("cancelled_at")?,
        cancel_reason: row.try_get("cancel_reason")?,
    })
}

fn after(now: Timestamp, wait: Duration) -> Timestamp {
    let wait = SignedDuration::try_from(wait).unwrap_or(SignedDuration::MAX);
    now.checked_add(wait).unwrap_or(Timestamp::MAX)
}

/// What marking a post letter printed did.
#[derive(Debug, Clone)]
pub enum Printed {
    /// Marked now (or marked before: the first mark stands).
    Marked(Box<OutboxItem>),
    /// No post letter has that id.
    NotFound,
    /// The letter is not in the print queue yet (it has not been produced).
    NotQueued,
}

/// What sending a printed letter back to the print queue did.
#[derive(Debug, Clone)]
pub enum Reprinted {
    /// Back in the print queue (and its manifest) now.
    Requeued(Box<OutboxItem>),
    /// No post letter has that id.
    NotFound,
    /// The letter is still waiting to be printed: nothing to do.
    NotPrinted,
}

/// One line of a post letter's print history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrintLogEntry {
    pub outbox_id: i64,
    /// `printed` or `reprint`.
    pub action: String,
    pub at: Timestamp,
    pub by: String,
    pub reason: Option<String>,
}

/// A post letter read inside a write transaction.
async fn post_letter_in(
    w: &mut super::write::WriteTx<'_>,
    id: i64,
) -> Result<Option<OutboxItem>, StoreError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM outbox o JOIN complaints c ON c.id = o.complaint_id \
         WHERE o.id = $1 AND o.channel = 'post'"
    )))
    .bind(id)
    .fetch_optional(&mut *w.tx)
    .await?;
    row.as_ref().map(item).transpose()
}

async fn log_print(
    w: &mut super::write::WriteTx<'_>,
    id: i64,
    action: &str,
    now: Timestamp,
    by: &str,
    reason: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO print_log (outbox_id, action, at, by_staff, reason) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(action)
    .bind(micros(now))
    .bind(by)
    .bind(reason.map(str::to_owned))
    .execute(&mut *w.tx)
    .await?;
    Ok(())
}

/// A letter that went, to record as sent ([`Store::letters_sent`]).
#[derive(Debug, Clone, Copy)]
pub struct SentLetter<'a> {
    pub id: i64,
    /// Its complaint, kind and route, as claimed (`OutboxItem`).
    pub complaint_id: i64,
    pub kind: &'a str,
    pub channel: &'a str,
    pub large_print: bool,
    /// For post: the PDF's name in the print queue.
    pub print_file: Option<&'a str>,
    /// The copy kept of a letter about a complaint (none for a sign-in link or a notice to
    /// staff): already in the files folder, fsynced.
    pub copy: Option<&'a LetterCopy>,
}

/// Where the copy of a letter as sent is kept: files named by their SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LetterCopy {
    /// The subject, text, HTML and the letter's words, as one JSON document.
    pub copy_sha256: String,
    pub pdf_sha256: String,
    pub pdf_size: i64,
}

/// A letter as the staff API lists it.
#[derive(Debug, Clone, Serialize)]
pub struct LetterListing {
    pub id: i64,
    pub kind: String,
    /// `customer` or `third_party`.
    pub recipient: String,
    pub channel: String,
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
    /// For post: when a member of staff marked it printed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub printed_at: Option<Timestamp>,
    pub attempts: i64,
    /// Why the last attempt failed, while it is not sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    pub large_print: bool,
    /// Held back before it went, and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancelled_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancel_reason: Option<String>,
}

impl LetterListing {
    fn of(item: OutboxItem) -> LetterListing {
        LetterListing {
            id: item.id,
            recipient: item.recipient().to_owned(),
            kind: item.kind,
            created_at: item.created_at,
            sent_at: item.sent_at,
            printed_at: if item.channel == "post" {
                item.printed_at
            } else {
                None
            },
            channel: item.channel,
            attempts: item.attempts,
            last_error: if item.sent_at.is_none() {
                item.last_error
            } else {
                None
            },
            large_print: item.large_print,
            cancelled_at: item.cancelled_at,
            cancel_reason: item.cancel_reason,
        }
    }
}

/// Holds back the letters not yet gone that `events` make wrong (the core's
/// [`redress_core::correspondence::cancels`]): a compensation offer's letter still waiting to
/// be sent, or in the print queue unprinted, when the offer is withdrawn. A letter already
/// being sent at that moment goes; the withdrawal letter follows it.
pub(crate) async fn cancel_overtaken(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    complaint_id: i64,
    events: &[Event],
    now: Timestamp,
) -> Result<(), StoreError> {
    for (kind, offer) in events
        .iter()
        .filter_map(redress_core::correspondence::cancels)
    {
        let waiting = sqlx::query(
            "SELECT o.id, e.payload FROM outbox o JOIN events e \
             ON e.complaint_id = o.complaint_id AND e.sequence = o.event_sequence \
             WHERE o.complaint_id = $1 AND o.kind = $2 AND o.cancelled_at IS NULL \
             AND (o.sent_at IS NULL OR (o.channel = 'post' AND o.printed_at IS NULL))",
        )
        .bind(complaint_id)
        .bind(kind.as_str())
        .fetch_all(&mut **tx)
        .await?;
        for row in waiting {
            let payload: String = row.try_get("payload")?;
            let event: Event = serde_json::from_str(&payload)
                .map_err(|e| StoreError::Corrupt(format!("complaint {complaint_id} event: {e}")))?;
            if redress_core::correspondence::offer_of(&event) != Some(offer) {
                continue;
            }
            let id: i64 = row.try_get("id")?;
            sqlx::query(
                "UPDATE outbox SET cancelled_at = $1, cancel_reason = $2 WHERE id = $3 AND cancelled_at IS NULL",
            )
            .bind(micros(now))
            .bind("the offer was withdrawn before this letter went")
            .bind(id)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}

impl Store {
    /// Whether anything is due to be sent at `now` (a read, so an idle sender never takes the
    /// SQLite write lock).
    pub async fn outbox_due(&self, now: Timestamp) -> Result<bool, StoreError> {
        let row = sqlx::query(
            "SELECT id FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= $1 AND cancelled_at IS NULL LIMIT 1",
        )
        .bind(micros(now))
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    /// Claims up to `batch` due letters for `node`: each gets one more attempt and a lease of
    /// `lease`, committed before anything is sent. Oldest due first.
    pub async fn claim_letters(
        &self,
        now: Timestamp,
        batch: i64,
        lease: Duration,
        node: &str,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        let mut w = self.begin_write().await?;
        let select = match self.backend {
            Backend::Postgres => {
                "SELECT id FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= $1 \
                 AND cancelled_at IS NULL ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED"
            }
            Backend::Sqlite => {
                "SELECT id FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= $1 \
                 AND cancelled_at IS NULL ORDER BY next_attempt_at, id LIMIT $2"
            }
        };
        let ids: Vec<i64> = sqlx::query(select)
            .bind(micros(now))
            .bind(batch)
            .fetch_all(&mut *w.tx)
            .await?
            .iter()
            .map(|r| r.try_get("id"))
            .collect::<Result<_, _>>()?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // One statement for the whole claim, one to read the letters back.
        let lease_end = micros(after(now, lease));
        let marks = placeholders(self.backend, 3, ids.len());
        let mut claim = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = {}, claimed_by = {} \
             WHERE id IN ({marks})",
            placeholder(self.backend, 1),
            placeholder(self.backend, 2),
        )))
        .bind(lease_end)
        .bind(node);
        for id in &ids {
            claim = claim.bind(*id);
        }
        claim.execute(&mut *w.tx).await?;
        let marks = placeholders(self.backend, 1, ids.len());
        let mut read = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM outbox o JOIN complaints c ON c.id = o.complaint_id WHERE o.id IN ({marks})"
        )));
        for id in &ids {
            read = read.bind(*id);
        }
        let mut by_id: std::collections::HashMap<i64, OutboxItem> = read
            .fetch_all(&mut *w.tx)
            .await?
            .iter()
            .map(|row| item(row).map(|i| (i.id, i)))
            .collect::<Result<_, _>>()?;
        w.tx.commit().await?;
        // In the order claimed: oldest due first.
        Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
    }

    /// Renews this sender's lease on a letter just before sending it, so a letter late in a
    /// slow batch is not taken by another node meanwhile. False if the lease was lost (another
    /// node claimed the letter since, or sent it): then this one must not send it.
    pub async fn renew_lease(
        &self,
        id: i64,
        attempts: i64,
        now: Timestamp,
        lease: Duration,
    ) -> Result<bool, StoreError> {
        let renewed = self
            .write_one(
                sqlx::query(
                    "UPDATE outbox SET next_attempt_at = $1 WHERE id = $2 AND attempts = $3 AND sent_at IS NULL",
                )
                .bind(micros(after(now, lease)))
                .bind(id)
                .bind(attempts),
            )
            .await?;
        Ok(renewed == 1)
    }

    /// Records a letter as sent (the first to record it wins; a second send of the same letter,
    /// after a lost lease, keeps the first instant). Returns whether this call recorded it.
    pub async fn letter_sent(
        &self,
        letter: &SentLetter<'_>,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let recorded = self.letters_sent(std::slice::from_ref(letter), now).await?;
        Ok(recorded.first().copied().unwrap_or(false))
    }

    /// Records letters as sent, many in one transaction (one commit, and on SQLite one sync
    /// of the log, for all of them): each as [`Store::letter_sent`] records one. Returns, for
    /// each, whether this call recorded it.
    pub async fn letters_sent(
        &self,
        letters: &[SentLetter<'_>],
        now: Timestamp,
    ) -> Result<Vec<bool>, StoreError> {
        if letters.is_empty() {
            return Ok(Vec::new());
        }
        let mut w = self.begin_write().await?;
        // The complaints whose letters keep a copy are locked first, in order, as a command
        // locks its complaint before it touches the outbox: two writers never wait on each
        // other the other way round.
        let mut ids: Vec<i64> = letters
            .iter()
            .filter(|l| l.copy.is_some())
            .map(|l| l.complaint_id)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let mut states = std::collections::HashMap::new();
        for id in ids {
            states.insert(
                id,
                super::write::lock_complaint_id(&mut w.tx, self.backend, id).await?,
            );
        }
        let mut recorded = Vec::with_capacity(letters.len());
        for letter in letters {
            let done = mark_sent(letter.id, now, letter.large_print, letter.print_file)
                .execute(&mut *w.tx)
                .await?
                .rows_affected();
            recorded.push(done == 1);
            let (Some(copy), true) = (letter.copy, done == 1) else {
                continue;
            };
            let complaint_id = &letter.complaint_id;
            let (Some(kind), Some(before)) = (
                redress_core::letters::LetterKind::parse(letter.kind),
                states.remove(complaint_id),
            ) else {
                continue;
            };
            sqlx::query(
                "INSERT INTO letter_copies (outbox_id, complaint_id, copy_sha256, pdf_sha256, pdf_size, recorded_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(letter.id)
            .bind(*complaint_id)
            .bind(&copy.copy_sha256)
            .bind(&copy.pdf_sha256)
            .bind(copy.pdf_size)
            .bind(micros(now))
            .execute(&mut *w.tx)
            .await?;
            let event = Event {
                at: now,
                by: redress_core::Actor::system(),
                kind: redress_core::EventKind::LetterSent {
                    letter: letter.id,
                    kind,
                    route: if letter.channel == "post" {
                        redress_core::correspondence::Route::Post
                    } else {
                        redress_core::correspondence::Route::Email
                    },
                    copy_sha256: copy.copy_sha256.clone(),
                    pdf_sha256: copy.pdf_sha256.clone(),
                },
            };
            let after = super::write::append(
                &mut w.tx,
                self.backend,
                *complaint_id,
                before,
                std::slice::from_ref(&event),
                now,
                &self.procedure,
            )
            .await?;
            states.insert(*complaint_id, after);
        }
        w.tx.commit().await?;
        Ok(recorded)
    }

    /// Records a failed attempt and when to try again, unless another node has claimed the
    /// letter since (its lease stands).
    pub async fn letter_failed(
        &self,
        id: i64,
        attempts: i64,
        next_attempt_at: Timestamp,
        error: &str,
    ) -> Result<(), StoreError> {
        let error: String = error.chars().take(1000).collect();
        self.write_one(
            sqlx::query(
                "UPDATE outbox SET next_attempt_at = $1, last_error = $2 \
                 WHERE id = $3 AND sent_at IS NULL AND attempts = $4",
            )
            .bind(micros(next_attempt_at))
            .bind(error)
            .bind(id)
            .bind(attempts),
        )
        .await?;
        Ok(())
    }

    /// Gives back letters claimed but not tried (a sender stopping): due again at `now`.
    pub async fn release_letters(
        &self,
        ids: &[(i64, i64)],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut w = self.begin_write().await?;
        for (id, attempts) in ids {
            sqlx::query(
                "UPDATE outbox SET next_attempt_at = $1, attempts = attempts - 1 \
                 WHERE id = $2 AND sent_at IS NULL AND attempts = $3",
            )
            .bind(micros(now))
            .bind(id)
            .bind(attempts)
            .execute(&mut *w.tx)
            .await?;
        }
        w.tx.commit().await?;
        Ok(())
    }

    /// The complaint as it stood just after the event that caused a letter, and that event:
    /// what the letter is rendered from, so a letter sent late (or again) says what it would
    /// have said when it was caused.
    pub async fn letter_source(
        &self,
        complaint_id: i64,
        event_sequence: i64,
    ) -> Result<(Complaint, Event), StoreError> {
        let rows = sqlx::query(
            "SELECT sequence, payload FROM events WHERE complaint_id = $1 AND sequence <= $2 ORDER BY sequence",
        )
        .bind(complaint_id)
        .bind(event_sequence)
        .fetch_all(&self.pool)
        .await?;
        let mut events = Vec::with_capacity(rows.len());
        for row in &rows {
            let payload: String = row.try_get("payload")?;
            let event: Event = serde_json::from_str(&payload)
                .map_err(|e| StoreError::Corrupt(format!("complaint {complaint_id} event: {e}")))?;
            events.push(event);
        }
        let complaint = Complaint::replay(&events).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "complaint {complaint_id} does not begin with received"
            ))
        })?;
        let event = events
            .pop()
            .ok_or_else(|| StoreError::Corrupt("no events".into()))?;
        Ok((complaint, event))
    }

    /// The current state of a complaint, by id (for a sign-in link's message).
    pub async fn complaint_by_id(&self, complaint_id: i64) -> Result<Complaint, StoreError> {
        let row = sqlx::query("SELECT state FROM complaints WHERE id = $1")
            .bind(complaint_id)
            .fetch_one(&self.pool)
            .await?;
        let state: String = row.try_get("state")?;
        serde_json::from_str(&state)
            .map_err(|e| StoreError::Corrupt(format!("complaint {complaint_id}: {e}")))
    }

    /// A complaint's letters for staff, oldest first; `NotFound` for an unknown reference.
    /// Sign-in link emails are not letters about the complaint and are left out.
    pub async fn complaint_letters(
        &self,
        reference: &str,
    ) -> Result<Vec<LetterListing>, StoreError> {
        let exists = sqlx::query("SELECT id FROM complaints WHERE reference = $1")
            .bind(reference)
            .fetch_optional(&self.pool)
            .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM outbox o JOIN complaints c ON c.id = o.complaint_id \
             WHERE c.reference = $1 AND o.kind NOT IN ('sign_in_link', 'assignment_notice') \
             ORDER BY o.created_at, o.id"
        )))
        .bind(reference)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| item(r).map(LetterListing::of))
            .collect()
    }

    /// The Message-ID (without angle brackets) of the latest email filed to a complaint, for
    /// answers to thread with it.
    pub async fn latest_message_id(&self, reference: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(
            "SELECT message_key FROM inbound_messages WHERE reference = $1 \
             AND outcome IN ('added_to_complaint', 'new_complaint') AND message_key LIKE 'message-id:%' \
             ORDER BY processed_at DESC LIMIT 1",
        )
        .bind(reference)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row
            .map(|r| r.try_get::<String, _>("message_key"))
            .transpose()?
            .and_then(|k| k.strip_prefix("message-id:").map(str::to_owned)))
    }

    /// The copy kept of a letter when it was sent, if it was (and sent since copies were kept).
    pub async fn letter_copy(&self, outbox_id: i64) -> Result<Option<LetterCopy>, StoreError> {
        let row = sqlx::query(
            "SELECT copy_sha256, pdf_sha256, pdf_size FROM letter_copies WHERE outbox_id = $1",
        )
        .bind(outbox_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(LetterCopy {
                copy_sha256: r.try_get("copy_sha256")?,
                pdf_sha256: r.try_get("pdf_sha256")?,
                pdf_size: r.try_get("pdf_size")?,
            })
        })
        .transpose()
    }

    /// One letter of a complaint (not a sign-in link).
    pub async fn complaint_letter(
        &self,
        reference: &str,
        id: i64,
    ) -> Result<Option<OutboxItem>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM outbox o JOIN complaints c ON c.id = o.complaint_id \
             WHERE c.reference = $1 AND o.id = $2 \
             AND o.kind NOT IN ('sign_in_link', 'assignment_notice')"
        )))
        .bind(reference)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(item).transpose()
    }

    /// The print queue: post letters in the folder and not yet printed, oldest first.
    pub async fn print_queue(&self) -> Result<Vec<OutboxItem>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM outbox o JOIN complaints c ON c.id = o.complaint_id \
             WHERE o.channel = 'post' AND o.printed_at IS NULL AND o.sent_at IS NOT NULL \
             AND o.cancelled_at IS NULL ORDER BY o.sent_at, o.id"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(item).collect()
    }

    /// Something that changes whenever the print queue does (a letter queued or marked
    /// printed), so a node rewrites its manifest only then.
    pub async fn print_queue_fingerprint(&self) -> Result<(i64, i64, i64), StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(id), 0) AS BIGINT) AS ids, \
             (SELECT COALESCE(MAX(printed_at), 0) FROM outbox WHERE channel = 'post') AS printed \
             FROM outbox WHERE channel = 'post' AND sent_at IS NOT NULL AND printed_at IS NULL \
             AND cancelled_at IS NULL",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok((
            row.try_get("n")?,
            row.try_get("ids")?,
            row.try_get("printed")?,
        ))
    }

    /// Marks a post letter printed (and posted) by `by`. Marking it again changes nothing.
    pub async fn mark_printed(
        &self,
        id: i64,
        now: Timestamp,
        by: &str,
    ) -> Result<Printed, StoreError> {
        let mut w = self.begin_write().await?;
        let Some(found) = post_letter_in(&mut w, id).await? else {
            return Ok(Printed::NotFound);
        };
        if found.sent_at.is_none() {
            return Ok(Printed::NotQueued);
        }
        if found.printed_at.is_some() {
            return Ok(Printed::Marked(Box::new(found)));
        }
        let changed = sqlx::query(
            "UPDATE outbox SET printed_at = $1, printed_by = $2 WHERE id = $3 AND printed_at IS NULL \
             AND cancelled_at IS NULL",
        )
        .bind(micros(now))
        .bind(by)
        .bind(id)
        .execute(&mut *w.tx)
        .await?
        .rows_affected();
        // Marked at the same moment by someone else: their mark stands, and is the one logged.
        if changed == 1 {
            log_print(&mut w, id, "printed", now, by, None).await?;
        }
        let marked = post_letter_in(&mut w, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        w.tx.commit().await?;
        Ok(Printed::Marked(Box::new(marked)))
    }

    /// Post letters printed, the latest first.
    pub async fn printed_recently(&self, limit: i64) -> Result<Vec<OutboxItem>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM outbox o JOIN complaints c ON c.id = o.complaint_id \
             WHERE o.channel = 'post' AND o.printed_at IS NOT NULL \
             ORDER BY o.printed_at DESC, o.id DESC LIMIT $1"
        )))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(item).collect()
    }

    /// Every time these letters were marked printed or sent to be printed again, oldest first.
    pub async fn print_history(&self, ids: &[i64]) -> Result<Vec<PrintLogEntry>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let marks = (1..=ids.len())
            .map(|n| format!("${n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT outbox_id, action, at, by_staff, reason FROM print_log \
             WHERE outbox_id IN ({marks}) ORDER BY id"
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in ids {
            query = query.bind(*id);
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(PrintLogEntry {
                    outbox_id: r.try_get("outbox_id")?,
                    action: r.try_get("action")?,
                    at: from_micros(r.try_get("at")?)?,
                    by: r.try_get("by_staff")?,
                    reason: r.try_get("reason")?,
                })
            })
            .collect()
    }

    /// Sends a printed letter back to the print queue (lost in the post, a spoiled print),
    /// recording who asked, when and why. The letter's PDF is still in the print folder.
    pub async fn reprint(
        &self,
        id: i64,
        now: Timestamp,
        by: &str,
        reason: &str,
    ) -> Result<Reprinted, StoreError> {
        let mut w = self.begin_write().await?;
        let Some(found) = post_letter_in(&mut w, id).await? else {
            return Ok(Reprinted::NotFound);
        };
        if found.printed_at.is_none() {
            return Ok(Reprinted::NotPrinted);
        }
        let changed = sqlx::query(
            "UPDATE outbox SET printed_at = NULL, printed_by = NULL WHERE id = $1 AND printed_at IS NOT NULL",
        )
        .bind(id)
        .execute(&mut *w.tx)
        .await?
        .rows_affected();
        // Sent back at the same moment by someone else: theirs is the one logged.
        if changed != 1 {
            return Ok(Reprinted::NotPrinted);
        }
        log_print(&mut w, id, "reprint", now, by, Some(reason)).await?;
        let requeued = post_letter_in(&mut w, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        w.tx.commit().await?;
        Ok(Reprinted::Requeued(Box::new(requeued)))
    }
}

/// The statement that records one letter as sent, unless it was recorded before.
fn mark_sent(
    id: i64,
    now: Timestamp,
    large_print: bool,
    print_file: Option<&str>,
) -> sqlx::query::Query<'static, sqlx::any::Any, sqlx::any::AnyArguments> {
    // A sign-in link is a secret that works once: once it is in the customer's mailbox no
    // copy stays here (the link itself is stored only as a hash).
    sqlx::query(
        "UPDATE outbox SET sent_at = $1, last_error = NULL, large_print = $2, print_file = $3, \
         payload = CASE WHEN kind = 'sign_in_link' THEN '{\"letter\":\"sign_in_link\",\"removed\":\"sent\"}' ELSE payload END \
         WHERE id = $4 AND sent_at IS NULL",
    )
    .bind(micros(now))
    .bind(i64::from(large_print))
    .bind(print_file.map(str::to_owned))
    .bind(id)
}

/// The `n`th bound value's placeholder: `$n` on PostgreSQL, `?` on SQLite (whose numbered
/// placeholders cost a search each; see `rows::values_sql`).
fn placeholder(backend: Backend, n: usize) -> String {
    match backend {
        Backend::Postgres => format!("${n}"),
        Backend::Sqlite => "?".to_owned(),
    }
}

/// `count` placeholders, comma separated, numbered from `first`.
fn placeholders(backend: Backend, first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| placeholder(backend, n))
        .collect::<Vec<_>>()
        .join(", ")
}
