//! The scheduler's writes: every deadline that has come due fires, many complaints to a
//! transaction.
//!
//! A batch claims the complaints due soonest (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so
//! another node takes the next ones; SQLite has one writer at a time), runs the core's
//! `fire_due` on each, and writes what `append` writes for one complaint (its events on its
//! own hash chain, its place in the ledger's queue, the deadline rows fired and still running,
//! the outbox rows and the projection), for the whole batch at once: a few statements per
//! kind of row rather than several per complaint, and one commit. The claim reads only the
//! complaints due (the `complaints_next_due` index), so the cost grows with what is due and
//! not with what is open.

use std::collections::HashSet;

use jiff::Timestamp;
use redress_core::{Complaint, fire_due};
use sqlx::Row;

use super::rows::{self, Projection};
use super::{Backend, Store, StoreError, micros};

/// One complaint of a batch whose deadlines fired: its id and the rows it writes.
struct Fired {
    id: i64,
    plan: rows::Plan,
    running: Vec<rows::DeadlineInsert>,
}

impl Store {
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
                "SELECT id, state, last_hash, version FROM complaints WHERE next_due_at <= $1 \
                 ORDER BY next_due_at LIMIT $2 FOR UPDATE SKIP LOCKED"
            }
            Backend::Sqlite => {
                "SELECT id, state, last_hash, version FROM complaints WHERE next_due_at <= $1 \
                 ORDER BY next_due_at LIMIT $2"
            }
        };
        let claimed = sqlx::query(sql)
            .bind(micros(now))
            .bind(batch)
            .fetch_all(&mut *w.tx)
            .await?;
        let procedure = &*self.procedure;
        let mut fired: Vec<Fired> = Vec::with_capacity(claimed.len());
        let mut events_fired = 0;
        for row in claimed {
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
            let (_, events) = fire_due(complaint.clone(), now, procedure);
            if events.is_empty() {
                continue;
            }
            events_fired += events.len();
            let plan = rows::plan(
                Some(complaint),
                row.try_get("last_hash")?,
                row.try_get("version")?,
                &events,
                now,
                procedure,
            )?;
            let running = rows::running(&plan.complaint, procedure);
            fired.push(Fired { id, plan, running });
        }
        write_fired(&mut w.tx, self.backend, &fired, now, procedure).await?;
        w.tx.commit().await?;
        metrics::counter!("redress_deadlines_fired_total").increment(events_fired as u64);
        Ok(fired.len())
    }
}

/// The rows of a batch of complaints whose deadlines fired, in the order `append` writes them
/// for one: events, the ledger's queue, the clocks that fired, the outbox, then the running
/// clocks made to match the core's (stopped ones deleted) and the projection.
async fn write_fired(
    tx: &mut sqlx::Transaction<'static, sqlx::any::Any>,
    backend: Backend,
    fired: &[Fired],
    now: Timestamp,
    procedure: &redress_core::Procedure,
) -> Result<(), StoreError> {
    if fired.is_empty() {
        return Ok(());
    }
    let events: Vec<_> = fired
        .iter()
        .flat_map(|f| f.plan.events.iter().map(move |e| (f.id, e)))
        .collect();
    let pending: Vec<(i64, i64)> = fired
        .iter()
        .filter_map(|f| f.plan.events.last().map(|e| (f.id, e.sequence)))
        .collect();
    let clocks_fired: Vec<_> = fired
        .iter()
        .flat_map(|f| f.plan.fired.iter().map(move |d| (f.id, d)))
        .collect();
    let outbox: Vec<_> = fired
        .iter()
        .flat_map(|f| f.plan.outbox.iter().map(move |o| (f.id, o)))
        .collect();
    rows::insert_events(tx, backend, &events).await?;
    rows::insert_pending(tx, backend, &pending).await?;
    rows::upsert_deadlines(tx, backend, &clocks_fired, true).await?;
    rows::insert_outbox(tx, backend, &outbox).await?;

    // A clock that stopped (the core no longer runs it) will never fire: its row goes.
    let ids: Vec<i64> = fired.iter().map(|f| f.id).collect();
    let running: HashSet<(i64, &str, i64)> = fired
        .iter()
        .flat_map(|f| f.running.iter().map(move |d| (f.id, d.kind, d.request)))
        .collect();
    let stopped: Vec<(i64, String, i64)> = rows::unfired_deadlines(tx, backend, &ids)
        .await?
        .into_iter()
        .filter(|(id, kind, request)| !running.contains(&(*id, kind.as_str(), *request)))
        .collect();
    rows::delete_unfired(tx, backend, &stopped).await?;
    let clocks: Vec<_> = fired
        .iter()
        .flat_map(|f| f.running.iter().map(move |d| (f.id, d)))
        .collect();
    rows::upsert_deadlines(tx, backend, &clocks, false).await?;

    let at = micros(now);
    let projections = fired
        .iter()
        .map(|f| {
            Projection::of(&f.plan.complaint, f.plan.last_hash.clone(), procedure)
                .map(|p| (f.id, p, at))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    rows::update_projections(tx, backend, &projections).await
}
