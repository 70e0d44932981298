//! The deadline scheduler: fires every deadline that has come due, including everything that
//! came due while the service was down (first tick at start). Deadlines are rows in the
//! database, never timers in memory; with several nodes each complaint is claimed by one node
//! at a time (`FOR UPDATE SKIP LOCKED`), and the core's state makes each deadline fire once.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::clock::Clock;
use crate::store::Store;

/// How many complaints one scheduler transaction claims.
pub const BATCH: i64 = 200;

/// Fires everything due now; loops until nothing is left. Returns complaints touched.
pub async fn fire_all_due(store: &Store, clock: &dyn Clock) -> usize {
    let mut total = 0;
    loop {
        let firing = store.fire_due_deadlines(clock.now(), BATCH);
        match crate::store::via::through(crate::store::via::SCHEDULER, firing).await {
            Ok(0) => return total,
            Ok(n) => total += n,
            Err(error) => {
                tracing::error!(error = %error, cause = ?error, "deadline scheduler tick failed; will retry");
                return total;
            }
        }
    }
}

/// Runs until `stop` turns true, ticking every `interval`.
pub async fn run(
    store: Store,
    clock: Arc<dyn Clock>,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
) {
    tracing::info!(
        interval_ms = interval.as_millis() as u64,
        "deadline scheduler started"
    );
    loop {
        let fired = fire_all_due(&store, clock.as_ref()).await;
        if fired > 0 {
            tracing::info!(complaints = fired, "deadlines fired");
        }
        // The dashboard's counts are exact without this; folding keeps their changes few.
        if let Err(error) = store.fold_counts().await {
            tracing::error!(error = %error, cause = ?error, "folding the counts failed; will retry");
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    break;
                }
            }
        }
    }
    tracing::info!("deadline scheduler stopped");
}
