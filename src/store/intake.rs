//! Recording new complaints, with group commit.
//!
//! Every new complaint joins a queue. Whoever then holds the intake lock writes everything
//! queued (up to [`MAX_BATCH`]) in one transaction and answers each waiting caller, so the
//! transaction's fixed costs (on SQLite the single writer's turn, on PostgreSQL the WAL flush
//! and the reference counter's row lock) are shared by the whole batch. Nothing is answered
//! before the commit that holds it. A complaint's attachment rows and the answer kept for its
//! idempotency key are written in the transaction that records it. One complaint's refusal or
//! bad idempotency key fails that complaint alone; if the batch's transaction itself fails,
//! each complaint is retried in a transaction of its own so that one bad row cannot fail its
//! neighbours.
//!
//! The batch runs in a task of its own, holding the lock, so a caller that gives up (a client
//! that disconnects) cannot cut a batch short; a caller that gave up before its complaint was
//! taken is left out.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use jiff::Timestamp;
use redress_core::{Event, Receive, Reference, clock, open};
use sqlx::Row;
use sqlx::Transaction;
use sqlx::any::Any;
use tokio::sync::{Mutex, oneshot};

use super::rows::{self, NewAttachment, NewComplaintRow, Projection};
use super::write::{Created, GENESIS_HASH, Idempotency, Keyed};
use super::{Backend, Store, StoreError, from_micros, micros};

/// The most complaints one transaction records.
pub const MAX_BATCH: usize = 128;

type Answer = Result<Keyed<Created>, StoreError>;

/// A complaint waiting to be recorded.
struct Pending {
    receive: Receive,
    now: Timestamp,
    idempotency: Option<Idempotency>,
    attachments: Vec<NewAttachment>,
    reply: oneshot::Sender<Answer>,
    /// Through what it came: the batch is written by whoever leads it.
    via: Option<&'static str>,
}

/// A complaint of the batch that is recorded: its index in the batch, its events, its rows
/// and its running clocks.
struct New {
    index: usize,
    events: Vec<Event>,
    plan: rows::Plan,
    running: Vec<rows::DeadlineInsert>,
}

/// The queue and the lock whose holder writes it.
pub(crate) struct Intake {
    queue: std::sync::Mutex<Vec<Pending>>,
    /// On SQLite, the store's writer lock itself; on PostgreSQL, a lock of intake's own.
    lock: Arc<Mutex<()>>,
}

impl Intake {
    pub(crate) fn new(lock: Arc<Mutex<()>>) -> Intake {
        Intake {
            queue: std::sync::Mutex::new(Vec::new()),
            lock,
        }
    }

    fn push(&self, pending: Pending) {
        self.queue
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(pending);
    }

    /// Up to [`MAX_BATCH`] queued complaints whose callers are still waiting, oldest first.
    fn take(&self) -> Vec<Pending> {
        let mut queue = self
            .queue
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let n = queue.len().min(MAX_BATCH);
        queue.drain(..n).filter(|p| !p.reply.is_closed()).collect()
    }
}

/// What became of one complaint of a batch, before the answers are built.
enum Slot {
    /// Recorded; index into the batch's new complaints.
    New(usize),
    /// The same idempotency key as an earlier complaint of this batch (its slot index).
    SameAs(usize, String),
    Done(Box<Answer>),
}

impl Store {
    /// Records a new complaint. `receive.reference` is replaced by the next reference for the
    /// year it was first received.
    pub async fn create_complaint(
        &self,
        receive: Receive,
        now: Timestamp,
    ) -> Result<Created, StoreError> {
        self.enqueue(receive, now, None, Vec::new())
            .await
            .map(Keyed::into_inner)
    }

    /// Records a new complaint once per key, with the files it brings (already kept): the
    /// complaint, its attachment rows and the answer kept for the key commit together, and a
    /// retry with the same key gets that answer back.
    pub async fn create_complaint_keyed(
        &self,
        receive: Receive,
        now: Timestamp,
        key: &Idempotency,
        attachments: Vec<NewAttachment>,
    ) -> Result<Keyed<Created>, StoreError> {
        self.enqueue(receive, now, Some(key.clone()), attachments)
            .await
    }

    /// Queues a complaint and waits for the commit that records it (or its refusal).
    async fn enqueue(
        &self,
        receive: Receive,
        now: Timestamp,
        idempotency: Option<Idempotency>,
        attachments: Vec<NewAttachment>,
    ) -> Answer {
        let (reply, mut answer) = oneshot::channel();
        self.intake.push(Pending {
            receive,
            now,
            idempotency,
            attachments,
            reply,
            via: super::via::current(),
        });
        loop {
            tokio::select! {
                biased;
                answered = &mut answer => {
                    return answered.unwrap_or_else(|_| {
                        Err(StoreError::Corrupt("the complaint was not recorded: its batch stopped".into()))
                    });
                }
                guard = self.intake.lock.clone().lock_owned() => {
                    let batch = self.intake.take();
                    if batch.is_empty() {
                        // An earlier batch took ours; its answer is on the way.
                        drop(guard);
                        continue;
                    }
                    let store = self.clone();
                    tokio::spawn(async move {
                        store.write_batch(batch).await;
                        drop(guard);
                    });
                }
            }
        }
    }

    /// Writes a batch and answers its callers.
    async fn write_batch(&self, mut batch: Vec<Pending>) {
        let size = batch.len();
        metrics::histogram!("redress_intake_batch_size").record(size as f64);
        match self.record(&batch).await {
            Ok(answers) => {
                for (pending, answer) in batch.into_iter().zip(answers) {
                    let _ = pending.reply.send(answer);
                }
            }
            Err(error) if size > 1 => {
                tracing::warn!(%error, size, "a batch of new complaints failed; recording each alone");
                for pending in batch.drain(..) {
                    let answer = match self.record(std::slice::from_ref(&pending)).await {
                        Ok(mut answers) => answers.pop().unwrap_or_else(|| {
                            Err(StoreError::Corrupt("no answer for a complaint".into()))
                        }),
                        Err(error) => Err(error),
                    };
                    let _ = pending.reply.send(answer);
                }
            }
            Err(error) => {
                if let Some(pending) = batch.pop() {
                    let _ = pending.reply.send(Err(error));
                }
            }
        }
    }

    /// Records a batch in one transaction: an answer per complaint, or the error that stopped
    /// the transaction (nothing of the batch is then stored).
    async fn record(&self, batch: &[Pending]) -> Result<Vec<Answer>, StoreError> {
        let mut tx = self.begin_locked().await?;
        let procedure = &*self.procedure;
        let tz = procedure.time_zone();

        // Idempotency first: keys are locked (PostgreSQL) in one order, so that two nodes'
        // batches cannot deadlock on them.
        let mut keyed: Vec<usize> = (0..batch.len())
            .filter(|&i| batch[i].idempotency.is_some())
            .collect();
        keyed.sort_by(|&a, &b| {
            let key = |i: usize| batch[i].idempotency.as_ref().map(|k| (&k.scope, &k.key));
            key(a).cmp(&key(b)).then(a.cmp(&b))
        });
        let mut slots: Vec<Option<Slot>> = (0..batch.len()).map(|_| None).collect();
        let mut first_with_key: HashMap<(&str, &str), usize> = HashMap::new();
        for &i in &keyed {
            let Some(key) = batch[i].idempotency.as_ref() else {
                continue;
            };
            if let Some(&first) = first_with_key.get(&(key.scope.as_str(), key.key.as_str())) {
                slots[i] = Some(Slot::SameAs(first, key.request_hash.clone()));
                continue;
            }
            first_with_key.insert((&key.scope, &key.key), i);
            match self.kept_answer::<Created>(&mut tx, key).await {
                Ok(Some(first)) => {
                    slots[i] = Some(Slot::Done(Box::new(Ok(Keyed::Replayed(first)))));
                }
                Ok(None) => {}
                Err(
                    error @ (StoreError::IdempotencyMismatch | StoreError::KeptByEarlierVersion),
                ) => {
                    slots[i] = Some(Slot::Done(Box::new(Err(error))));
                }
                Err(other) => return Err(other),
            }
        }

        // The core checks each complaint before any reference is taken, so a refusal leaves
        // no gap in the numbering.
        let mut years: BTreeMap<i16, Vec<usize>> = BTreeMap::new();
        for (i, pending) in batch.iter().enumerate() {
            if slots[i].is_some() {
                continue;
            }
            match open(pending.receive.clone(), pending.now, procedure) {
                Err(refusal) => {
                    slots[i] = Some(Slot::Done(Box::new(Err(StoreError::Refused(refusal)))))
                }
                Ok(_) => {
                    let received_at = pending.receive.received_at.unwrap_or(pending.now);
                    let year = clock::local_date(tz, received_at.min(pending.now)).year();
                    years.entry(year).or_default().push(i);
                }
            }
        }
        let mut references: HashMap<usize, Reference> = HashMap::new();
        for (year, members) in &years {
            let count = i64::try_from(members.len()).unwrap_or(i64::MAX);
            let row = sqlx::query(
                "INSERT INTO reference_sequences (year, last) VALUES ($1, $2) \
                 ON CONFLICT (year) DO UPDATE SET last = reference_sequences.last + $2 RETURNING last",
            )
            .bind(i64::from(*year))
            .bind(count)
            .fetch_one(&mut *tx)
            .await?;
            let last: i64 = row.try_get("last")?;
            for (n, &i) in (last - count + 1..=last).zip(members) {
                let sequence = u64::try_from(n)
                    .map_err(|_| StoreError::Corrupt(format!("reference counter {n}")))?;
                references.insert(
                    i,
                    Reference::new(&procedure.reference_prefix, *year, sequence),
                );
            }
        }

        // Each new complaint's rows, worked out before anything is written.
        let mut created: Vec<New> = Vec::with_capacity(references.len());
        for (i, pending) in batch.iter().enumerate() {
            let Some(reference) = references.remove(&i) else {
                continue;
            };
            let mut receive = pending.receive.clone();
            receive.reference = reference;
            let (_, events) = open(receive, pending.now, procedure).map_err(StoreError::Refused)?;
            let mut plan = rows::plan(
                None,
                GENESIS_HASH.to_owned(),
                0,
                &events,
                pending.now,
                procedure,
            )?;
            for event in &mut plan.events {
                event.via = pending.via;
            }
            let running = rows::running(&plan.complaint, procedure);
            slots[i] = Some(Slot::New(created.len()));
            created.push(New {
                index: i,
                events,
                plan,
                running,
            });
        }
        let projections = created
            .iter()
            .map(|new| Projection::of(&new.plan.complaint, new.plan.last_hash.clone(), procedure))
            .collect::<Result<Vec<_>, StoreError>>()?;
        let complaint_rows: Vec<NewComplaintRow> = created
            .iter()
            .zip(&projections)
            .map(|(new, projection)| NewComplaintRow {
                complaint: &new.plan.complaint,
                projection,
                created_at: micros(batch[new.index].now),
                updated_at: micros(batch[new.index].now),
            })
            .collect();
        let ids = rows::insert_complaints(&mut tx, self.backend, &complaint_rows).await?;
        drop(complaint_rows);
        drop(projections);
        write_new_rows(&mut tx, self.backend, &ids, &created).await?;
        let attachments: Vec<_> = ids
            .iter()
            .zip(&created)
            .flat_map(|(id, new)| {
                let pending = &batch[new.index];
                let at = micros(pending.now);
                pending.attachments.iter().map(move |a| (*id, at, a))
            })
            .collect();
        rows::insert_attachments(&mut tx, self.backend, &attachments).await?;
        drop(attachments);

        // The answers, and the idempotent ones kept in the same transaction. An answer a later
        // request of this batch repeats (the same key) is kept aside for it.
        let repeated: HashSet<usize> = slots
            .iter()
            .filter_map(|slot| match slot {
                Some(Slot::SameAs(first, _)) => Some(*first),
                _ => None,
            })
            .collect();
        let mut done: Vec<Option<Created>> = Vec::with_capacity(created.len());
        let mut kept: HashMap<usize, Created> = HashMap::new();
        for new in created {
            let pending = &batch[new.index];
            let answer = Created {
                deadlines: rows::new_deadline_rows(&new.plan, &new.running)?,
                complaint: new.plan.complaint,
                events: new.events,
                recorded_at: from_micros(micros(pending.now))?,
            };
            if let Some(key) = &pending.idempotency {
                Self::keep_answer(&mut tx, key, &answer, pending.now).await?;
                if repeated.contains(&new.index) {
                    kept.insert(new.index, answer.clone());
                }
            }
            done.push(Some(answer));
        }
        tx.commit().await?;

        let mut answers: Vec<Answer> = Vec::with_capacity(batch.len());
        for slot in slots {
            let answer = match slot {
                Some(Slot::New(n)) => match done.get_mut(n).and_then(Option::take) {
                    Some(created) => Ok(Keyed::First(created)),
                    None => Err(StoreError::Corrupt("a complaint was answered twice".into())),
                },
                Some(Slot::SameAs(first, hash)) => {
                    let same = batch[first]
                        .idempotency
                        .as_ref()
                        .is_some_and(|k| k.request_hash == hash);
                    match (same, kept.get(&first), answers.get(first)) {
                        (false, _, _) => Err(StoreError::IdempotencyMismatch),
                        (true, Some(created), _) => Ok(Keyed::Replayed(created.clone())),
                        (true, None, Some(earlier)) => echo(earlier),
                        (true, None, None) => Err(StoreError::Corrupt(
                            "the earlier request with this Idempotency-Key has no answer".into(),
                        )),
                    }
                }
                Some(Slot::Done(answer)) => *answer,
                None => Err(StoreError::Corrupt(
                    "a complaint of the batch was skipped".into(),
                )),
            };
            answers.push(answer);
        }
        Ok(answers)
    }
}

/// The answer for a repeat of a request that was not recorded: the same answer again.
fn echo(earlier: &Answer) -> Answer {
    match earlier {
        Ok(Keyed::Replayed(first)) => Ok(Keyed::Replayed(first.clone())),
        Err(StoreError::Refused(refusal)) => Err(StoreError::Refused(refusal.clone())),
        Err(StoreError::IdempotencyMismatch) => Err(StoreError::IdempotencyMismatch),
        Err(StoreError::KeptByEarlierVersion) => Err(StoreError::KeptByEarlierVersion),
        _ => Err(StoreError::Corrupt(
            "the earlier request with this Idempotency-Key was not recorded".into(),
        )),
    }
}

/// The event, deadline and outbox rows of new complaints, beside the ids their rows got, and
/// each complaint's place in the ledger's queue.
async fn write_new_rows(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    ids: &[i64],
    created: &[New],
) -> Result<(), StoreError> {
    let pairs = ids.iter().zip(created);
    let events: Vec<_> = pairs
        .clone()
        .flat_map(|(id, new)| new.plan.events.iter().map(move |e| (*id, e)))
        .collect();
    let fired: Vec<_> = pairs
        .clone()
        .flat_map(|(id, new)| new.plan.fired.iter().map(move |d| (*id, d)))
        .collect();
    let pending: Vec<(i64, i64)> = pairs
        .clone()
        .filter_map(|(id, new)| new.plan.events.last().map(|e| (*id, e.sequence)))
        .collect();
    let outbox: Vec<_> = pairs
        .clone()
        .flat_map(|(id, new)| new.plan.outbox.iter().map(move |o| (*id, o)))
        .collect();
    let clocks: Vec<_> = pairs
        .flat_map(|(id, new)| new.running.iter().map(move |d| (*id, d)))
        .collect();
    rows::insert_events(tx, backend, &events).await?;
    rows::insert_pending(tx, backend, &pending).await?;
    rows::upsert_deadlines(tx, backend, &fired, true).await?;
    rows::upsert_deadlines(tx, backend, &clocks, false).await?;
    rows::insert_outbox(tx, backend, &outbox).await
}
