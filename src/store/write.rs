//! Changing complaints: create, run a command, fire due deadlines. Each is one transaction.

use jiff::Timestamp;
use redress_core::{
    Command, Complaint, Event, Procedure, Reference, Refusal, deadlines, execute, fire_due,
};
use sqlx::any::Any;
use sqlx::{Row, Transaction};
use tokio::sync::MutexGuard;

use super::rows::{self, Projection, fired_clock};
use super::{Backend, Store, StoreError, micros};

pub use super::chain::{EventLink, GENESIS_HASH};

/// A request's Idempotency-Key, scoped to the caller, with a hash of the request body.
#[derive(Debug, Clone)]
pub struct Idempotency {
    pub scope: String,
    pub key: String,
    pub request_hash: String,
}

/// The answer stored for an idempotent request, returned again on a retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub body: String,
    pub location: Option<String>,
}

/// A request seen before: its first answer.
#[derive(Debug, Clone)]
pub struct Replayed(pub StoredResponse);

/// A complaint just created, with the events recorded.
#[derive(Debug, Clone)]
pub struct Created {
    pub complaint: Complaint,
    pub events: Vec<Event>,
}

/// What a command did: the events recorded (deadlines that came due first included) and the
/// refusal, if the command itself was refused.
#[derive(Debug, Clone)]
pub struct CommandOutcome {
    pub complaint: Complaint,
    pub events: Vec<Event>,
    pub refusal: Option<Refusal>,
}

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

    /// The stored answer for an idempotency key, if the request was seen before.
    pub(crate) async fn idempotent_replay(
        &self,
        tx: &mut Transaction<'static, Any>,
        key: &Idempotency,
    ) -> Result<Option<Replayed>, StoreError> {
        if self.backend == Backend::Postgres {
            // Two requests with the same key at once: the second waits here for the first to
            // commit, then finds its answer (SQLite's single writer already serialises them).
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                .bind(format!("{}\u{1f}{}", key.scope, key.key))
                .execute(&mut **tx)
                .await?;
        }
        let row = sqlx::query(
            "SELECT request_hash, status, body, location FROM idempotency_keys WHERE scope = $1 AND key = $2",
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
        Ok(Some(Replayed(StoredResponse {
            status: u16::try_from(status).unwrap_or(500),
            body: row.try_get("body")?,
            location: row.try_get("location")?,
        })))
    }

    pub(crate) async fn remember(
        tx: &mut Transaction<'static, Any>,
        key: &Idempotency,
        response: &StoredResponse,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO idempotency_keys (scope, key, request_hash, status, body, location, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&key.scope)
        .bind(&key.key)
        .bind(&key.request_hash)
        .bind(i64::from(response.status))
        .bind(&response.body)
        .bind(&response.location)
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
        idempotency: Option<&Idempotency>,
        respond: impl FnOnce(&CommandOutcome) -> StoredResponse,
    ) -> Result<Result<CommandOutcome, Replayed>, StoreError> {
        let mut w = self.begin_write().await?;
        if let Some(key) = idempotency
            && let Some(replayed) = self.idempotent_replay(&mut w.tx, key).await?
        {
            return Ok(Err(replayed));
        }
        let (id, complaint) = self
            .lock_complaint(&mut w.tx, reference)
            .await?
            .ok_or(StoreError::NotFound)?;
        let outcome = execute(complaint.clone(), command, now, &self.procedure);
        let after = append(
            &mut w.tx,
            self.backend,
            id,
            complaint,
            &outcome.events,
            now,
            &self.procedure,
        )
        .await?;
        let result = CommandOutcome {
            complaint: after,
            events: outcome.events,
            refusal: outcome.refusal,
        };
        if let Some(key) = idempotency {
            Self::remember(&mut w.tx, key, &respond(&result), now).await?;
        }
        w.tx.commit().await?;
        Ok(Ok(result))
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

    /// Fires every deadline due at `now`, at most `batch` complaints per transaction. Returns
    /// how many complaints had deadlines fired. A complaint that cannot be read is logged and
    /// skipped; it never stops the others.
    pub async fn fire_due_deadlines(
        &self,
        now: Timestamp,
        batch: i64,
    ) -> Result<usize, StoreError> {
        let mut w = self.begin_write().await?;
        // Whole complaints are claimed, so a command and the scheduler never both hold half of
        // one. Other nodes skip what this one holds and take the next due complaints.
        let sql = match self.backend {
            Backend::Postgres => {
                "SELECT id, state FROM complaints WHERE next_due_at <= $1 \
                 ORDER BY next_due_at LIMIT $2 FOR UPDATE SKIP LOCKED"
            }
            Backend::Sqlite => {
                "SELECT id, state FROM complaints WHERE next_due_at <= $1 ORDER BY next_due_at LIMIT $2"
            }
        };
        let rows = sqlx::query(sql)
            .bind(micros(now))
            .bind(batch)
            .fetch_all(&mut *w.tx)
            .await?;
        let mut fired = 0;
        for row in rows {
            let id: i64 = row.try_get("id")?;
            let state: String = row.try_get("state")?;
            let complaint: Complaint = match serde_json::from_str(&state) {
                Ok(c) => c,
                Err(error) => {
                    // Quarantine it from the scheduler so it cannot block the complaints behind
                    // it; `redress audit verify` reports it.
                    tracing::error!(complaint_id = id, %error, "cannot read complaint state; its deadlines are set aside");
                    sqlx::query("UPDATE complaints SET next_due_at = NULL WHERE id = $1")
                        .bind(id)
                        .execute(&mut *w.tx)
                        .await?;
                    continue;
                }
            };
            let (_, events) = fire_due(complaint.clone(), now, &self.procedure);
            append(
                &mut w.tx,
                self.backend,
                id,
                complaint,
                &events,
                now,
                &self.procedure,
            )
            .await?;
            if !events.is_empty() {
                fired += 1;
                metrics::counter!("redress_deadlines_fired_total").increment(events.len() as u64);
            }
        }
        w.tx.commit().await?;
        Ok(fired)
    }
}

/// The deadline rows a new complaint has once `events` (its `received` event and the deadlines
/// that fired at once) are appended: the rows `append` writes for fired deadlines and the clocks
/// still running, ordered as [`Store::get_complaint`] lists them. Lets a caller render the
/// complaint as stored from inside the creating transaction (an idempotent answer).
pub fn new_deadline_rows(
    events: &[Event],
    complaint: &Complaint,
    procedure: &Procedure,
) -> Vec<super::DeadlineRow> {
    let mut rows: Vec<super::DeadlineRow> = events
        .iter()
        .filter_map(|event| {
            let clock = fired_clock(event, procedure)?;
            Some(super::DeadlineRow {
                kind: clock.kind.as_str().to_owned(),
                request: (clock.request != 0).then_some(clock.request),
                due_at: clock.due_at,
                due_by: clock.due_by.to_string(),
                fired_at: Some(event.at),
            })
        })
        .collect();
    rows.extend(
        deadlines(complaint, procedure)
            .into_iter()
            .map(|d| super::DeadlineRow {
                kind: d.kind.as_str().to_owned(),
                request: d.request.map(i64::from).filter(|r| *r != 0),
                due_at: d.due_at,
                due_by: d.due_by.to_string(),
                fired_at: None,
            }),
    );
    rows.sort_by(|a, b| (a.due_at, &a.kind).cmp(&(b.due_at, &b.kind)));
    rows
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
         customer_email = $12 WHERE id = $13",
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
    .execute(&mut **tx)
    .await?;
    Ok(())
}
