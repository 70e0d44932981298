//! Changing complaints: run a command (with the files it brings) and keep the answer of a
//! write made once per key. Each is one transaction. The store takes and returns domain
//! values; how an answer is shown (HTTP status, body, `Location`) is the caller's business.
//! Creating complaints is in `intake.rs`; the scheduler's firing of due deadlines in
//! `firing.rs`.

use jiff::Timestamp;
use redress_core::{Command, Complaint, Event, EventKind, Procedure, Reference, Refusal, execute};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sqlx::any::Any;
use sqlx::{Row, Transaction};
use tokio::sync::MutexGuard;

use super::read::DeadlineRow;
use super::rows::{self, NewAttachment, Projection};
use super::{Backend, Store, StoreError, micros};

pub use super::chain::{EventLink, GENESIS_HASH};

/// A key that makes a write happen once: scoped to the caller (an API token, the portal's
/// form, inbound email), with a hash of what was asked so that a key reused for something
/// else is refused.
#[derive(Debug, Clone)]
pub struct Idempotency {
    pub scope: String,
    pub key: String,
    pub request_hash: String,
}

/// What a write with an [`Idempotency`] key answers.
#[derive(Debug, Clone, PartialEq)]
pub enum Keyed<T> {
    /// Done now.
    First(T),
    /// Done before with the same key: the answer kept then, written in the same transaction
    /// as the change.
    Replayed(T),
}

impl<T> Keyed<T> {
    /// The answer, whether done now or before.
    pub fn into_inner(self) -> T {
        match self {
            Keyed::First(answer) | Keyed::Replayed(answer) => answer,
        }
    }
}

/// A complaint just created: its state, the events recorded, when they were recorded, and
/// the deadline rows written for it (the clocks that fired at once and those running), in the
/// order [`Store::get_complaint`] lists them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Created {
    pub complaint: Complaint,
    pub events: Vec<Event>,
    /// As stored: to the microsecond.
    pub recorded_at: Timestamp,
    pub deadlines: Vec<DeadlineRow>,
}

/// What a command did: the events recorded (deadlines that came due first included) and the
/// refusal, if the command itself was refused.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CommandOutcome {
    pub complaint: Complaint,
    pub events: Vec<Event>,
    pub refusal: Option<Refusal>,
}

/// The `status` of an `idempotency_keys` row whose `body` holds a kept answer as JSON.
/// Earlier versions kept an HTTP status, body and `Location` there; such a row still blocks
/// its key, and a retry with it is told so ([`StoreError::KeptByEarlierVersion`]).
const KEPT_AS_JSON: i64 = 0;

/// A write transaction with, on SQLite, this process's writer lock.
pub(crate) struct WriteTx<'a> {
    pub tx: Transaction<'static, Any>,
    _guard: Option<MutexGuard<'a, ()>>,
}

impl Store {
    pub(crate) async fn begin_write(&self) -> Result<WriteTx<'_>, StoreError> {
        let guard = super::writer_turn(self.write_lock.as_ref()).await;
        let tx = self.begin_locked().await?;
        Ok(WriteTx { tx, _guard: guard })
    }

    /// Runs one statement in a write transaction of its own; returns how many rows it changed.
    pub(crate) async fn write_one(
        &self,
        statement: sqlx::query::Query<'static, Any, sqlx::any::AnyArguments>,
    ) -> Result<u64, StoreError> {
        let mut w = self.begin_write().await?;
        let changed = statement.execute(&mut *w.tx).await?.rows_affected();
        w.tx.commit().await?;
        Ok(changed)
    }

    /// Begins a write transaction for a caller that already holds this process's writer lock.
    pub(crate) async fn begin_locked(&self) -> Result<Transaction<'static, Any>, StoreError> {
        Ok(match self.backend {
            // IMMEDIATE takes the write lock at once, so a read-then-write never has to upgrade.
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// The answer kept for an idempotency key, if the request was seen before; refuses a key
    /// kept for a different request.
    pub(crate) async fn kept_answer<T: DeserializeOwned>(
        &self,
        tx: &mut Transaction<'static, Any>,
        key: &Idempotency,
    ) -> Result<Option<T>, StoreError> {
        if self.backend == Backend::Postgres {
            // Two requests with the same key at once: the second waits here for the first to
            // commit, then finds its answer (SQLite's single writer already serialises them).
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                .bind(format!("{}\u{1f}{}", key.scope, key.key))
                .execute(&mut **tx)
                .await?;
        }
        let row = sqlx::query(
            "SELECT request_hash, status, body FROM idempotency_keys WHERE scope = $1 AND key = $2",
        )
        .bind(&key.scope)
        .bind(&key.key)
        .fetch_optional(&mut **tx)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let hash: String = row.try_get("request_hash")?;
        if hash != key.request_hash {
            return Err(StoreError::IdempotencyMismatch);
        }
        let status: i64 = row.try_get("status")?;
        if status != KEPT_AS_JSON {
            return Err(StoreError::KeptByEarlierVersion);
        }
        let body: String = row.try_get("body")?;
        serde_json::from_str(&body)
            .map(Some)
            .map_err(|e| StoreError::Corrupt(format!("the answer kept for a key: {e}")))
    }

    /// Keeps the answer for an idempotency key, in the transaction of the change it answers.
    pub(crate) async fn keep_answer<T: Serialize>(
        tx: &mut Transaction<'static, Any>,
        key: &Idempotency,
        answer: &T,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let body = serde_json::to_string(answer)
            .map_err(|e| StoreError::Corrupt(format!("an answer to keep: {e}")))?;
        sqlx::query(
            "INSERT INTO idempotency_keys (scope, key, request_hash, status, body, location, created_at) \
             VALUES ($1, $2, $3, $4, $5, NULL, $6)",
        )
        .bind(&key.scope)
        .bind(&key.key)
        .bind(&key.request_hash)
        .bind(KEPT_AS_JSON)
        .bind(body)
        .bind(micros(now))
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Runs a command on a complaint under its lock. Deadlines already due fire first and are
    /// recorded even if the command is then refused.
    pub async fn run_command(
        &self,
        reference: &Reference,
        command: Command,
        now: Timestamp,
    ) -> Result<CommandOutcome, StoreError> {
        self.run_command_with_files(reference, command, now, &[])
            .await
    }

    /// Runs a command that brings files (evidence, a scanned letter): the events and the
    /// attachment rows commit together. A refused command records no attachment; the
    /// deadlines that came due are recorded all the same. The files' bytes must already be
    /// kept (see `files::keep`).
    pub async fn run_command_with_files(
        &self,
        reference: &Reference,
        command: Command,
        now: Timestamp,
        attachments: &[NewAttachment],
    ) -> Result<CommandOutcome, StoreError> {
        let mut w = self.begin_write().await?;
        let outcome = self
            .command_in(&mut w.tx, reference, command, now, attachments)
            .await?;
        w.tx.commit().await?;
        Ok(outcome)
    }

    /// Runs a command once per key: the outcome (a refusal too) is kept in the same
    /// transaction, and a retry with the same key gets it back with nothing run again.
    pub async fn run_command_keyed(
        &self,
        reference: &Reference,
        command: Command,
        now: Timestamp,
        key: &Idempotency,
        attachments: &[NewAttachment],
    ) -> Result<Keyed<CommandOutcome>, StoreError> {
        let mut w = self.begin_write().await?;
        if let Some(first) = self.kept_answer(&mut w.tx, key).await? {
            return Ok(Keyed::Replayed(first));
        }
        let outcome = self
            .command_in(&mut w.tx, reference, command, now, attachments)
            .await?;
        Self::keep_answer(&mut w.tx, key, &outcome, now).await?;
        w.tx.commit().await?;
        Ok(Keyed::First(outcome))
    }

    /// Records on a complaint, under its lock, something done with its record rather than a
    /// step of the procedure (a case file made, a subject access export), as the last link
    /// of its chain.
    pub async fn record_on(
        &self,
        reference: &Reference,
        by: redress_core::Actor,
        kind: redress_core::EventKind,
        now: Timestamp,
    ) -> Result<Complaint, StoreError> {
        let mut w = self.begin_write().await?;
        let (id, complaint) = self
            .lock_complaint(&mut w.tx, reference)
            .await?
            .ok_or(StoreError::NotFound)?;
        let event = Event { at: now, by, kind };
        let after = append(
            &mut w.tx,
            self.backend,
            id,
            complaint,
            std::slice::from_ref(&event),
            now,
            &self.procedure,
        )
        .await?;
        w.tx.commit().await?;
        Ok(after)
    }

    /// The complaints held for a customer: by account number, and by the email address they
    /// gave, oldest first.
    pub async fn references_of(
        &self,
        account: &str,
        email: Option<&str>,
    ) -> Result<Vec<Reference>, StoreError> {
        let email = email.map(|e| e.trim().to_lowercase()).unwrap_or_default();
        let rows = sqlx::query(
            "SELECT reference FROM complaints WHERE customer_account = $1 AND erased_at IS NULL \
             UNION SELECT reference FROM complaints WHERE customer_email = $2 AND erased_at IS NULL",
        )
        .bind(account.trim())
        .bind(email)
        .fetch_all(&self.pool)
        .await?;
        let mut references = Vec::with_capacity(rows.len());
        for row in rows {
            let text: String = row.try_get("reference")?;
            references.push(
                Reference::parse(&text)
                    .map_err(|_| StoreError::Corrupt(format!("reference {text}")))?,
            );
        }
        references.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        Ok(references)
    }

    /// The hash of a complaint's last event: the head of its chain.
    pub async fn chain_head(&self, reference: &Reference) -> Result<String, StoreError> {
        let row = sqlx::query("SELECT last_hash FROM complaints WHERE reference = $1")
            .bind(reference.as_str())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(row.try_get("last_hash")?)
    }

    /// A command's writes, inside the caller's transaction.
    async fn command_in(
        &self,
        tx: &mut Transaction<'static, Any>,
        reference: &Reference,
        command: Command,
        now: Timestamp,
        attachments: &[NewAttachment],
    ) -> Result<CommandOutcome, StoreError> {
        let (id, complaint) = self
            .lock_complaint(tx, reference)
            .await?
            .ok_or(StoreError::NotFound)?;
        let mut outcome = execute(complaint.clone(), command, now, &self.procedure);
        let after = match outcome.events.split_last_mut() {
            // An erasure: what came due first, then the blanking, then the erasure's event
            // with how many events it blanked and the digest of their list.
            Some((
                Event {
                    kind:
                        EventKind::PersonalDataErased {
                            events,
                            redactions_sha256,
                            ..
                        },
                    ..
                },
                earlier,
            )) if outcome.refusal.is_none() => {
                let before = append(
                    tx,
                    self.backend,
                    id,
                    complaint,
                    earlier,
                    now,
                    &self.procedure,
                )
                .await?;
                let blanked = super::erasure::blank(tx, id, reference, &before, now).await?;
                *events = blanked.events;
                *redactions_sha256 = blanked.digest;
                let last = outcome.events.len() - 1;
                append(
                    tx,
                    self.backend,
                    id,
                    before,
                    &outcome.events[last..],
                    now,
                    &self.procedure,
                )
                .await?
            }
            _ => {
                append(
                    tx,
                    self.backend,
                    id,
                    complaint,
                    &outcome.events,
                    now,
                    &self.procedure,
                )
                .await?
            }
        };
        if outcome.refusal.is_none() {
            let at = micros(now);
            let rows: Vec<_> = attachments.iter().map(|a| (id, at, a)).collect();
            rows::insert_attachments(tx, self.backend, &rows).await?;
        }
        Ok(CommandOutcome {
            complaint: after,
            events: outcome.events,
            refusal: outcome.refusal,
        })
    }

    /// Loads a complaint's id and state, locking its row until the transaction ends.
    async fn lock_complaint(
        &self,
        tx: &mut Transaction<'static, Any>,
        reference: &Reference,
    ) -> Result<Option<(i64, Complaint)>, StoreError> {
        let sql = match self.backend {
            Backend::Postgres => "SELECT id, state FROM complaints WHERE reference = $1 FOR UPDATE",
            Backend::Sqlite => "SELECT id, state FROM complaints WHERE reference = $1",
        };
        let row = sqlx::query(sql)
            .bind(reference.as_str())
            .fetch_optional(&mut **tx)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let id: i64 = row.try_get("id")?;
        let state: String = row.try_get("state")?;
        let complaint = serde_json::from_str(&state)
            .map_err(|e| StoreError::Corrupt(format!("complaint {id}: {e}")))?;
        Ok(Some((id, complaint)))
    }
}

/// Loads a complaint's state by id, locking its row until the transaction ends.
pub(crate) async fn lock_complaint_id(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    id: i64,
) -> Result<Complaint, StoreError> {
    let sql = match backend {
        Backend::Postgres => "SELECT state FROM complaints WHERE id = $1 FOR UPDATE",
        Backend::Sqlite => "SELECT state FROM complaints WHERE id = $1",
    };
    let state: String = sqlx::query(sql)
        .bind(id)
        .fetch_one(&mut **tx)
        .await?
        .try_get("state")?;
    serde_json::from_str(&state).map_err(|e| StoreError::Corrupt(format!("complaint {id}: {e}")))
}

/// Appends events to a complaint whose state before them is `before`: the event rows (hash
/// chained), the projection, the deadline rows, the outbox and the complaint's place in the
/// ledger's queue. Returns the state after.
pub(crate) async fn append(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    id: i64,
    before: Complaint,
    events: &[Event],
    now: Timestamp,
    procedure: &Procedure,
) -> Result<Complaint, StoreError> {
    if events.is_empty() {
        return Ok(before);
    }
    let row = sqlx::query("SELECT last_hash, version FROM complaints WHERE id = $1")
        .bind(id)
        .fetch_one(&mut **tx)
        .await?;
    let plan = rows::plan(
        Some(before),
        row.try_get("last_hash")?,
        row.try_get("version")?,
        events,
        now,
        procedure,
    )?;
    rows::insert_events(tx, backend, &rows::of_one(id, &plan.events)).await?;
    if let Some(last) = plan.events.last() {
        rows::insert_pending(tx, backend, &[(id, last.sequence)]).await?;
    }
    rows::upsert_deadlines(tx, backend, &rows::of_one(id, &plan.fired), true).await?;
    rows::insert_outbox(tx, backend, &rows::of_one(id, &plan.outbox)).await?;
    super::outbox::cancel_overtaken(tx, id, events, now).await?;
    sync_deadlines(tx, backend, id, &plan.complaint, procedure).await?;
    update_projection(tx, id, &plan.complaint, plan.last_hash, now, procedure).await?;
    Ok(plan.complaint)
}

/// Makes the unfired deadline rows match the core's running clocks.
async fn sync_deadlines(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    id: i64,
    complaint: &Complaint,
    procedure: &Procedure,
) -> Result<(), StoreError> {
    let running = rows::running(complaint, procedure);
    let existing = sqlx::query(
        "SELECT kind, request FROM deadlines WHERE complaint_id = $1 AND fired_at IS NULL",
    )
    .bind(id)
    .fetch_all(&mut **tx)
    .await?;
    for row in existing {
        let kind: String = row.try_get("kind")?;
        let request: i64 = row.try_get("request")?;
        if !running
            .iter()
            .any(|d| d.kind == kind && d.request == request)
        {
            // The clock stopped (e.g. the response was issued in time): it will never fire.
            sqlx::query("DELETE FROM deadlines WHERE complaint_id = $1 AND kind = $2 AND request = $3 AND fired_at IS NULL")
                .bind(id)
                .bind(&kind)
                .bind(request)
                .execute(&mut **tx)
                .await?;
        }
    }
    rows::upsert_deadlines(tx, backend, &rows::of_one(id, &running), false).await
}

async fn update_projection(
    tx: &mut Transaction<'static, Any>,
    id: i64,
    c: &Complaint,
    last_hash: String,
    now: Timestamp,
    procedure: &Procedure,
) -> Result<(), StoreError> {
    let p = Projection::of(c, last_hash, procedure)?;
    sqlx::query(
        "UPDATE complaints SET stage = $1, status = $2, department = $3, next_due_at = $4, last_hash = $5, queue_at = $14, \
         overdue = $6, adr_eligible = $7, version = $8, state = $9, search_text = $10, updated_at = $11, \
         customer_email = $12, handler = $15, customer_name = $16, customer_postcode = $17, \
         awaiting_approval = $18 WHERE id = $13",
    )
    .bind(p.stage)
    .bind(p.status)
    .bind(p.department)
    .bind(p.next_due_at)
    .bind(p.last_hash)
    .bind(p.overdue)
    .bind(p.adr_eligible)
    .bind(p.version)
    .bind(p.state)
    .bind(p.search_text)
    .bind(micros(now))
    .bind(p.customer_email)
    .bind(id)
    .bind(p.queue_at)
    .bind(p.handler)
    // The customer's details may be updated (`update_customer`).
    .bind(c.customer.name.clone())
    .bind(c.customer.postcode.as_ref().map(|p| p.as_str().to_owned()))
    .bind(p.awaiting_approval)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
