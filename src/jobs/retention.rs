//! Retention inside `serve`: the retention run (`crate::retention::run`) an hour after start
//! and then once a day, as of the service's clock (an hour in, so that a server started on a
//! freshly seeded or restored database serves first). Several nodes may run it: each erasure is a command
//! under the complaint's lock, so a complaint another node erased first is simply refused.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::clock::Clock;
use crate::retention::Folders;
use crate::store::Store;

/// How often the retention run runs.
pub const INTERVAL: Duration = Duration::from_secs(24 * 60 * 60);

/// How long after start the first run waits.
pub const FIRST_RUN_AFTER: Duration = Duration::from_secs(60 * 60);

/// Runs until `stop` turns true.
pub async fn run(
    store: Store,
    clock: Arc<dyn Clock>,
    folders: Folders,
    mut stop: watch::Receiver<bool>,
) {
    let mut wait = FIRST_RUN_AFTER;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    break;
                }
            }
        }
        wait = INTERVAL;
        let as_of = clock.now();
        let running = crate::retention::run(&store, &folders, as_of, false);
        match crate::store::via::through(crate::store::via::SCHEDULER, running).await {
            Ok(report) => tracing::info!(
                looked_at = report.looked_at,
                erased = report.erased.len(),
                held = report.held.len(),
                files_deleted = report.files_deleted,
                "retention run"
            ),
            Err(error) => {
                tracing::error!(%error, "the retention run failed; it runs again tomorrow")
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(INTERVAL) => {}
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    break;
                }
            }
        }
    }
}
