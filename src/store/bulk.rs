//! Writing whole histories at once: `redress seed-data`, or any import of complaints whose past
//! the core has already decided.
//!
//! A [`History`] is what the core produced for one complaint, change by change (`open`, then
//! each `execute` or `fire_due`), each change with the instant it was recorded. [`prepare`]
//! works out, without I/O and on any thread, the rows the normal paths would have written had
//! each change come through them at its instant: `rows::plan` for every change in turn (the
//! events hash-chained as `append` chains them, `recorded_at` the change's instant), the
//! deadline rows as `append` leaves them (each clock that fired, with when; the clocks still
//! running), the outbox rows the events caused and the projection of the final state.
//! [`Store::import`] then writes many complaints per transaction with the multi-row statements
//! of group-committed intake, and takes their references from intake's counters.
//!
//! Two differences from the same complaints coming through the normal paths, both deliberate:
//! - the ledger's queue gets one row per complaint (its last version) rather than one per
//!   change: the history arrives in one transaction, one change to the chain, and the sealer
//!   seals its head as it would any change;
//! - letters caused before [`Delivery::before`] are recorded as sent (and those by post as
//!   printed), as the sender and the print room would have done at the time; later ones are
//!   left for the sender. Otherwise the next `serve` would send years of old letters at once.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use redress_core::{Complaint, Event, Procedure, Reference, clock};
use sqlx::Row;

use super::rows::{self, DeadlineInsert, EventInsert, NewComplaintRow, OutboxInsert, Projection};
use super::write::GENESIS_HASH;
use super::{Store, StoreError, micros};

/// One change to a complaint: the events one transaction would have appended, and when.
#[derive(Debug, Clone)]
pub struct Change {
    pub at: Timestamp,
    pub events: Vec<Event>,
}

/// A complaint's whole history; the first change begins with its `received` event.
#[derive(Debug, Clone)]
pub struct History {
    pub changes: Vec<Change>,
    /// Whether letters to the customer go in large print (their accessibility needs ask for
    /// it), recorded on the letters marked sent.
    pub large_print: bool,
}

/// How the letters of imported histories are recorded.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// Letters caused before this instant are recorded as sent a minute after they were
    /// caused, and those by post as printed two hours later; the rest wait for the sender.
    pub before: Timestamp,
    /// Who is recorded as having printed and posted the post letters marked sent.
    pub printed_by: String,
}

/// How long after it was caused a letter marked sent went, and a post one was printed.
const SENT_AFTER: SignedDuration = SignedDuration::from_secs(60);
const PRINTED_AFTER: SignedDuration = SignedDuration::from_hours(2);

fn micros_of(d: SignedDuration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

/// One outbox row, with what became of it.
struct Letter {
    row: OutboxInsert,
    sent_at: Option<i64>,
    printed_at: Option<i64>,
    printed_by: Option<String>,
    large_print: bool,
}

/// A complaint's rows, worked out and ready to write.
pub struct Prepared {
    complaint: Complaint,
    projection: Projection,
    /// The year of the reference's counter.
    year: i16,
    created_at: i64,
    updated_at: i64,
    events: Vec<EventInsert>,
    deadlines: Vec<DeadlineInsert>,
    letters: Vec<Letter>,
}

impl Prepared {
    /// The complaint as its events leave it.
    pub fn complaint(&self) -> &Complaint {
        &self.complaint
    }

    pub fn events(&self) -> usize {
        self.events.len()
    }

    /// Letters the history caused, and how many of them are recorded as sent.
    pub fn letters(&self) -> (usize, usize) {
        let sent = self.letters.iter().filter(|l| l.sent_at.is_some()).count();
        (self.letters.len(), sent)
    }

    /// Letters by post among them.
    pub fn post_letters(&self) -> usize {
        self.letters
            .iter()
            .filter(|l| l.row.channel == "post")
            .count()
    }
}

/// Works out a history's rows, as the normal paths would have written them change by change.
pub fn prepare(
    history: &History,
    procedure: &Procedure,
    delivery: Option<&Delivery>,
) -> Result<Prepared, StoreError> {
    let empty = || StoreError::Corrupt("a history must have at least one event".into());
    let mut changes = history.changes.iter().filter(|c| !c.events.is_empty());
    let first = changes.next().ok_or_else(empty)?;
    let last = changes.next_back().unwrap_or(first);
    let mut state: Option<Complaint> = None;
    let (mut prev_hash, mut version) = (GENESIS_HASH.to_owned(), 0_i64);
    let mut events = Vec::new();
    let mut fired: Vec<DeadlineInsert> = Vec::new();
    let mut outbox = Vec::new();
    for change in &history.changes {
        if change.events.is_empty() {
            continue;
        }
        let plan = rows::plan(
            state.take(),
            prev_hash,
            version,
            &change.events,
            change.at,
            procedure,
        )?;
        version += i64::try_from(plan.events.len()).unwrap_or(i64::MAX);
        prev_hash = plan.last_hash;
        events.extend(plan.events);
        // A clock fires at most once; `upsert_deadlines` keeps the first mark.
        for d in plan.fired {
            if !fired
                .iter()
                .any(|f| f.kind == d.kind && f.request == d.request)
            {
                fired.push(d);
            }
        }
        outbox.extend(plan.outbox);
        state = Some(plan.complaint);
    }
    let complaint = state.ok_or_else(empty)?;
    // The clocks still running, as `sync_deadlines` leaves them: a running row never replaces
    // a fired one, and a clock that stopped without firing has no row.
    let mut deadlines = fired;
    for d in rows::running(&complaint, procedure) {
        if !deadlines
            .iter()
            .any(|f| f.kind == d.kind && f.request == d.request)
        {
            deadlines.push(d);
        }
    }
    // A seeded history is the past: nobody is told today of an assignment made then.
    let letters = outbox
        .into_iter()
        .filter(|row| row.kind != rows::ASSIGNMENT_NOTICE)
        .map(|row| {
            let sent = delivery.filter(|d| row.created_at < micros(d.before));
            let sent_at = sent.map(|_| row.created_at + micros_of(SENT_AFTER));
            let printed = sent.filter(|_| row.channel == "post");
            Letter {
                printed_at: sent_at
                    .filter(|_| printed.is_some())
                    .map(|at| at + micros_of(PRINTED_AFTER)),
                printed_by: printed.map(|d| d.printed_by.clone()),
                large_print: sent.is_some() && history.large_print && row.recipient == "customer",
                sent_at,
                row,
            }
        })
        .collect();
    let tz = procedure.time_zone();
    let year = clock::local_date(tz, complaint.first_received_at.min(first.at)).year();
    let projection = Projection::of(&complaint, prev_hash, procedure)?;
    Ok(Prepared {
        complaint,
        projection,
        year,
        created_at: micros(first.at),
        updated_at: micros(last.at),
        events,
        deadlines,
        letters,
    })
}

impl Store {
    /// The last reference number taken for each year of first receipt: a bulk writer numbers
    /// its complaints on from these, as intake would.
    pub async fn reference_counters(&self) -> Result<BTreeMap<i16, u64>, StoreError> {
        let rows = sqlx::query("SELECT year, last FROM reference_sequences ORDER BY year")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let year: i64 = row.try_get("year")?;
                let last: i64 = row.try_get("last")?;
                match (i16::try_from(year), u64::try_from(last)) {
                    (Ok(year), Ok(last)) => Ok((year, last)),
                    _ => Err(StoreError::Corrupt(format!(
                        "reference counter {year}: {last}"
                    ))),
                }
            })
            .collect()
    }

    /// Works out and writes whole histories in one transaction (see [`Store::import`]).
    pub async fn import_histories(
        &self,
        histories: &[History],
        delivery: Option<&Delivery>,
    ) -> Result<(), StoreError> {
        let prepared = histories
            .iter()
            .map(|h| prepare(h, &self.procedure, delivery))
            .collect::<Result<Vec<_>, _>>()?;
        self.import(&prepared).await
    }

    /// Writes prepared complaints in one transaction, with the statements intake uses. Their
    /// references must be the next ones of each year's counter, in order (as intake would
    /// have given them); the counters move on by as many. Otherwise nothing is written and
    /// the error says which reference was expected.
    pub async fn import(&self, batch: &[Prepared]) -> Result<(), StoreError> {
        self.import_in_turn(batch, std::future::ready(true)).await
    }

    /// As [`Store::import`], but the counters are moved on only once `turn` is true, just
    /// before the commit: on PostgreSQL several batches can so be written at once, each
    /// numbered after the one before it has committed (the counters' row locks are then held
    /// only until the commit). If `turn` is false (the batch before failed), nothing is
    /// written. On SQLite the writer's lock is held throughout: let the batch before commit
    /// first.
    pub async fn import_in_turn(
        &self,
        batch: &[Prepared],
        turn: impl std::future::Future<Output = bool>,
    ) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut w = self.begin_write().await?;
        let tx = &mut w.tx;
        self.check_unused(tx, batch).await?;
        let complaint_rows: Vec<NewComplaintRow> = batch
            .iter()
            .map(|p| NewComplaintRow {
                complaint: &p.complaint,
                projection: &p.projection,
                created_at: p.created_at,
                updated_at: p.updated_at,
            })
            .collect();
        let ids = rows::insert_complaints(tx, self.backend, &complaint_rows).await?;
        drop(complaint_rows);
        let pairs = || ids.iter().copied().zip(batch);
        let events: Vec<(i64, &EventInsert)> = pairs()
            .flat_map(|(id, p)| p.events.iter().map(move |e| (id, e)))
            .collect();
        rows::insert_events(tx, self.backend, &events).await?;
        let pending: Vec<(i64, i64)> = pairs().map(|(id, p)| (id, p.projection.version)).collect();
        rows::insert_pending(tx, self.backend, &pending).await?;
        let deadlines: Vec<(i64, &DeadlineInsert)> = pairs()
            .flat_map(|(id, p)| p.deadlines.iter().map(move |d| (id, d)))
            .collect();
        rows::upsert_deadlines(tx, self.backend, &deadlines, true).await?;
        let letters: Vec<(i64, &Letter)> = pairs()
            .flat_map(|(id, p)| p.letters.iter().map(move |l| (id, l)))
            .collect();
        insert_letters(tx, self.backend, &letters).await?;
        if !turn.await {
            return Err(StoreError::Numbering(
                "the batch before this one was not written, so this one was not either".into(),
            ));
        }
        self.take_references(tx, batch).await?;
        w.tx.commit().await?;
        Ok(())
    }

    /// Refuses, in words, references the counters have already passed (numbered from
    /// counters read before another writer moved them on), before any row is written.
    async fn check_unused(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        batch: &[Prepared],
    ) -> Result<(), StoreError> {
        let mut firsts: BTreeMap<i16, &Reference> = BTreeMap::new();
        for p in batch {
            firsts.entry(p.year).or_insert(&p.complaint.reference);
        }
        for (year, first) in firsts {
            let row = sqlx::query("SELECT last FROM reference_sequences WHERE year = $1")
                .bind(i64::from(year))
                .fetch_optional(&mut **tx)
                .await?;
            let last: i64 = match row {
                Some(row) => row.try_get("last")?,
                None => 0,
            };
            let number = first
                .as_str()
                .rsplit('-')
                .next()
                .and_then(|n| n.parse::<i64>().ok())
                .unwrap_or(0);
            if number <= last {
                let next = Reference::new(
                    &self.procedure.reference_prefix,
                    year,
                    u64::try_from(last).unwrap_or(0) + 1,
                );
                return Err(StoreError::Numbering(format!(
                    "{first} does not continue the store's numbering: it is already taken, and the next reference is {next}"
                )));
            }
        }
        Ok(())
    }

    /// Moves each year's counter on past the batch's references, checking that they are the
    /// next ones, in order.
    async fn take_references(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        batch: &[Prepared],
    ) -> Result<(), StoreError> {
        let mut years: BTreeMap<i16, Vec<&Reference>> = BTreeMap::new();
        for p in batch {
            years
                .entry(p.year)
                .or_default()
                .push(&p.complaint.reference);
        }
        for (year, references) in &years {
            let count = i64::try_from(references.len()).unwrap_or(i64::MAX);
            let row = sqlx::query(
                "INSERT INTO reference_sequences (year, last) VALUES ($1, $2) \
                 ON CONFLICT (year) DO UPDATE SET last = reference_sequences.last + $2 RETURNING last",
            )
            .bind(i64::from(*year))
            .bind(count)
            .fetch_one(&mut **tx)
            .await?;
            let last: i64 = row.try_get("last")?;
            for (n, reference) in (last - count + 1..=last).zip(references) {
                let expected =
                    Reference::new(&self.procedure.reference_prefix, *year, n.max(0) as u64);
                if expected != **reference {
                    return Err(StoreError::Numbering(format!(
                        "{reference} does not continue the store's numbering: the next reference is {expected} (did another writer record complaints meanwhile?)"
                    )));
                }
            }
        }
        Ok(())
    }
}

/// Writes outbox rows with what became of them.
async fn insert_letters(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    backend: super::Backend,
    letters: &[(i64, &Letter)],
) -> Result<(), StoreError> {
    rows::insert_many(
        tx,
        backend,
        "INSERT INTO outbox (complaint_id, event_sequence, kind, channel, payload, created_at, \
         next_attempt_at, attempts, sent_at, large_print, printed_at, printed_by)",
        12,
        "",
        letters,
        |(_, l)| l.row.payload.len() + 160,
        |q, (id, l)| {
            let o = &l.row;
            q.bind(*id)
                .bind(o.event_sequence)
                .bind(o.kind)
                .bind(o.channel)
                .bind(o.payload.clone())
                .bind(o.created_at)
                .bind(o.created_at)
                .bind(i64::from(l.sent_at.is_some()))
                .bind(l.sent_at)
                .bind(i64::from(l.large_print))
                .bind(l.printed_at)
                .bind(l.printed_by.clone())
        },
    )
    .await
}
