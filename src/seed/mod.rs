//! `redress seed-data`: fills a database with realistic complaints, every one of them taken
//! through the real core and written through the real store.
//!
//! Complaint `i` of a run is drawn from its own ChaCha8 stream (the seed, stream `i`), so a
//! seed and a count always give the same complaints, events and letters whatever the number
//! of threads. Its receipt comes from the [`timeline`], its reference from the store's
//! counters (numbered on, as intake numbers), its customer from [`people`], and its life from
//! [`story`], which drives `open`, `execute` and `fire_due` up to now. Worker threads tell the
//! stories and work out their rows (`store::prepare`) batch by batch; one writer takes the
//! batches in order and writes each in one transaction (`Store::import`). Letters caused more
//! than a day before now are recorded as sent (and printed, for post); the last day's are left
//! for the sender, which sends them on the next `serve`, as it would have.

pub mod people;
pub mod story;
pub mod summary;
pub mod texts;
pub mod timeline;

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use jiff::{SignedDuration, Timestamp};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use redress_core::{Procedure, clock};

use tokio::sync::oneshot;

use crate::store::{Backend, Delivery, Prepared, Store, StoreError, prepare};
use people::Staff;
use story::Setting;
pub use story::{Asked, Script, Told};
pub use summary::{Summary, Tally};
use timeline::{Numbering, Timeline};

/// Complaints written per transaction.
const BATCH: u64 = 1_000;

/// What to seed.
#[derive(Debug, Clone)]
pub struct Options {
    pub complaints: u64,
    pub seed: u64,
    pub years: u32,
    /// Everything seeded happened before this instant.
    pub now: Timestamp,
}

/// Why seeding cannot start: a sentence for the person who asked.
pub fn check(options: &Options, procedure: &Procedure) -> Result<(), String> {
    if options.complaints == 0 {
        return Err("--complaints must be at least 1".into());
    }
    if options.years == 0 {
        return Err("--years must be at least 1".into());
    }
    let timeline = Timeline::new(options.now, options.years, 1, procedure.time_zone())?;
    let start = clock::local_date(procedure.time_zone(), timeline.start());
    if let Some(first) = procedure.rules.first()
        && start < first.effective_from
    {
        return Err(format!(
            "--years {} reaches back to {start}, before {}, when the procedure's first rules took effect",
            options.years, first.effective_from
        ));
    }
    Ok(())
}

/// The random stream of complaint `index`.
fn stream(seed: u64, index: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(index);
    rng
}

/// A run worked out: who, when and under which reference, for every index.
pub struct Plan {
    procedure: Procedure,
    staff: Staff,
    timeline: Timeline,
    numbering: Numbering,
    delivery: Delivery,
    options: Options,
}

impl Plan {
    /// Plans a run on a store whose reference counters stand at `counters`.
    pub fn new(
        procedure: Procedure,
        options: Options,
        counters: &BTreeMap<i16, u64>,
    ) -> Result<Plan, String> {
        check(&options, &procedure)?;
        let tz = procedure.time_zone().clone();
        let n = options.complaints;
        let timeline = Timeline::new(options.now, options.years, n, &tz)?;
        let numbering = Numbering::new(&procedure.reference_prefix, n, counters, &tz, |i| {
            timeline.received(i, stream(options.seed, i).random::<f64>())
        });
        let staff = Staff::new(&procedure);
        let delivery = Delivery {
            before: options.now - SignedDuration::from_hours(24),
            printed_by: staff.post_room.clone(),
        };
        Ok(Plan {
            procedure,
            staff,
            timeline,
            numbering,
            delivery,
            options,
        })
    }

    /// The story of complaint `index`; with `record`, also the questions that made it.
    pub fn tell(&self, index: u64, record: bool) -> Result<Told, String> {
        let mut setting = Setting::new(&self.procedure, &self.staff, self.options.now);
        setting.record = record;
        let mut rng = stream(self.options.seed, index);
        let received = self.timeline.received(index, rng.random::<f64>());
        let reference = self.numbering.reference(index);
        story::tell(&setting, &mut rng, index, reference, received)
            .map_err(|e| format!("complaint {index}: {e}"))
    }

    /// Tells and prepares complaints `range`, counting what they hold.
    fn batch(&self, range: std::ops::Range<u64>) -> Result<(Vec<Prepared>, Tally), String> {
        let mut prepared = Vec::with_capacity((range.end - range.start) as usize);
        let mut tally = Tally::default();
        for index in range {
            let told = self.tell(index, false)?;
            let rows = prepare(&told.history, &self.procedure, Some(&self.delivery))
                .map_err(|e| format!("complaint {index}: {e}"))?;
            tally.add(&told, &rows, self.options.now, &self.procedure);
            prepared.push(rows);
        }
        Ok((prepared, tally))
    }
}

/// How far ahead of the writer the workers may run, in batches.
struct Window {
    written: Mutex<u64>,
    moved: Condvar,
    ahead: u64,
}

impl Window {
    /// Waits until batch `k` may be made (or `stop` is set).
    fn wait_for(&self, k: u64, stop: &AtomicBool) {
        let mut written = self.written.lock().unwrap_or_else(|p| p.into_inner());
        while k >= *written + self.ahead && !stop.load(Ordering::Relaxed) {
            written = self
                .moved
                .wait_timeout(written, std::time::Duration::from_millis(200))
                .map(|(guard, _)| guard)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }

    fn advance(&self) {
        let mut written = self.written.lock().unwrap_or_else(|p| p.into_inner());
        *written += 1;
        self.moved.notify_all();
    }
}

type Made = (u64, Result<(Vec<Prepared>, Tally), String>);

/// Seeds `store`; `progress` is told of every complaint written.
pub async fn seed(
    store: &Store,
    options: &Options,
    progress: impl Fn(u64),
) -> anyhow::Result<Summary> {
    let started = Instant::now();
    let procedure = store.procedure().clone();
    let tz = procedure.time_zone().clone();
    let n = options.complaints;
    let counters = store.reference_counters().await?;
    let plan = Plan::new(procedure, options.clone(), &counters).map_err(anyhow::Error::msg)?;
    let first = plan.numbering.reference(0).to_string();
    let last = plan.numbering.reference(n - 1).to_string();
    let from = clock::local_date(&tz, plan.timeline.received(0, 0.0));
    let plan = Arc::new(plan);

    let batches = n.div_ceil(BATCH);
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 16) as u64;
    let window = Arc::new(Window {
        written: Mutex::new(0),
        moved: Condvar::new(),
        ahead: workers * 2 + 2,
    });
    let next = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let (sender, mut made) = tokio::sync::mpsc::channel::<Made>(workers as usize * 2);
    let mut threads = Vec::new();
    for w in 0..workers {
        let (plan, window, next, stop, sender) = (
            plan.clone(),
            window.clone(),
            next.clone(),
            stop.clone(),
            sender.clone(),
        );
        let thread = std::thread::Builder::new()
            .name(format!("seed-{w}"))
            .spawn(move || {
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    if k >= batches || stop.load(Ordering::Relaxed) {
                        return;
                    }
                    window.wait_for(k, &stop);
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let range = k * BATCH..((k + 1) * BATCH).min(n);
                    // A story that panics fails the run in words instead of stalling it.
                    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        plan.batch(range)
                    }))
                    .unwrap_or_else(|_| Err(format!("batch {k}: a story failed")));
                    let failed = result.is_err();
                    if sender.blocking_send((k, result)).is_err() || failed {
                        return;
                    }
                }
            })?;
        threads.push(thread);
    }
    drop(sender);

    let written = write_in_order(store, &mut made, batches, &window, &progress).await;
    stop.store(true, Ordering::Relaxed);
    made.close();
    while made.recv().await.is_some() {}
    for thread in threads {
        let _ = thread.join();
    }
    let tally = written?;
    // The counts the dashboard reads are exact already; folding their changes now leaves a
    // seeded database as compact as one that has run for a while.
    store.fold_counts().await?;
    store.analyze().await?;
    Ok(Summary {
        tally,
        first: Some(first),
        last: Some(last),
        from,
        to: clock::local_date(&tz, options.now),
        seed: options.seed,
        elapsed: started.elapsed(),
    })
}

/// Batches written at once: one on SQLite (one writer), a few on PostgreSQL, where each
/// statement is a round trip and the server has cores of its own.
fn in_flight(store: &Store) -> usize {
    match store.backend() {
        Backend::Sqlite => 1,
        Backend::Postgres => 3,
    }
}

/// A batch being written: its size, its counts, and the task writing it.
type Writing = (u64, Tally, tokio::task::JoinHandle<Result<(), StoreError>>);

/// Writes the batches as they come, in order, each in a transaction of its own; each takes its
/// references once the one before it has committed.
async fn write_in_order(
    store: &Store,
    made: &mut tokio::sync::mpsc::Receiver<Made>,
    batches: u64,
    window: &Window,
    progress: &impl Fn(u64),
) -> anyhow::Result<Tally> {
    let mut waiting: BTreeMap<u64, (Vec<Prepared>, Tally)> = BTreeMap::new();
    let mut writing: VecDeque<Writing> = VecDeque::new();
    let mut tally = Tally::default();
    let mut before: Option<oneshot::Receiver<bool>> = None;
    let mut next = 0;
    let limit = in_flight(store);
    while next < batches {
        let Some((k, result)) = made.recv().await else {
            anyhow::bail!("seeding stopped: the workers ended early");
        };
        waiting.insert(k, result.map_err(anyhow::Error::msg)?);
        while let Some((batch, counted)) = waiting.remove(&next) {
            let (done, after) = oneshot::channel();
            let turn = before.replace(after);
            let writer = store.clone();
            let size = batch.len() as u64;
            let task = tokio::spawn(async move {
                let turn = async move {
                    match turn {
                        Some(turn) => turn.await.unwrap_or(false),
                        None => true,
                    }
                };
                let written = writer.import_in_turn(&batch, turn).await;
                let _ = done.send(written.is_ok());
                written
            });
            writing.push_back((size, counted, task));
            next += 1;
            while writing.len() >= limit {
                finish(&mut writing, &mut tally, window, progress).await?;
            }
        }
    }
    while !writing.is_empty() {
        finish(&mut writing, &mut tally, window, progress).await?;
    }
    Ok(tally)
}

/// Waits for the oldest batch being written, and counts it.
async fn finish(
    writing: &mut VecDeque<Writing>,
    tally: &mut Tally,
    window: &Window,
    progress: &impl Fn(u64),
) -> anyhow::Result<()> {
    if let Some((size, counted, task)) = writing.pop_front() {
        task.await??;
        tally.merge(counted);
        window.advance();
        progress(size);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(complaints: u64, seed: u64) -> Plan {
        let options = Options {
            complaints,
            seed,
            years: 2,
            now: "2026-03-02T09:00:00Z".parse().expect("an instant"),
        };
        Plan::new(Procedure::default_procedure(), options, &BTreeMap::new()).expect("a plan")
    }

    #[test]
    fn the_procedure_refuses_nothing_and_most_complaints_end_at_stage_one() {
        let plan = plan(4_000, 42);
        let mut stages = [0_u32; 5];
        let mut refused = Vec::new();
        let mut open = 0;
        for i in 0..4_000 {
            let told = plan.tell(i, false).expect("a story");
            refused.extend(told.refused);
            stages[usize::from(told.complaint.stage.number()) - 1] += 1;
            open += u32::from(!told.complaint.is_settled());
        }
        assert!(refused.is_empty(), "{refused:?}");
        let share = |n: u32| f64::from(n) / 4_000.0;
        assert!((0.75..0.90).contains(&share(stages[0])), "{stages:?}");
        assert!((0.05..0.15).contains(&share(stages[1])), "{stages:?}");
        assert!((0.02..0.08).contains(&share(stages[2])), "{stages:?}");
        assert!((0.003..0.03).contains(&share(stages[3])), "{stages:?}");
        assert!((0.003..0.03).contains(&share(stages[4])), "{stages:?}");
        assert!(open > 0 && share(open) < 0.1, "{open} open");
    }

    #[test]
    fn a_seed_tells_the_same_stories_and_another_seed_others() {
        let events = |plan: &Plan, i| {
            let told = plan.tell(i, false).expect("a story");
            serde_json::to_string(
                &told
                    .history
                    .changes
                    .iter()
                    .map(|c| (c.at, &c.events))
                    .collect::<Vec<_>>(),
            )
            .expect("JSON")
        };
        let (one, two, other) = (plan(100, 9), plan(100, 9), plan(100, 10));
        for i in [0, 17, 99] {
            assert_eq!(events(&one, i), events(&two, i));
            assert_ne!(events(&one, i), events(&other, i));
        }
    }

    #[test]
    fn flags_that_cannot_work_are_refused_in_words() {
        let now = "2026-03-02T09:00:00Z".parse().expect("an instant");
        let procedure = Procedure::default_procedure();
        let check = |complaints, years| {
            check(
                &Options {
                    complaints,
                    seed: 1,
                    years,
                    now,
                },
                &procedure,
            )
        };
        assert!(check(10, 2).is_ok());
        assert!(check(0, 2).is_err_and(|e| e.contains("--complaints")));
        assert!(check(10, 0).is_err_and(|e| e.contains("--years")));
        assert!(check(10, 8).is_err_and(|e| e.contains("2018-10-01")));
    }
}
