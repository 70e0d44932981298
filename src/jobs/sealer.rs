//! The sealer: every few seconds, seals the heads of the complaints that changed into a new
//! ledger block (`Store::seal`), signed with the signing key when `serve` has one. Several
//! nodes may run it: they take turns under one lock. Events recorded since the last block are
//! covered by their chain and the insert trigger only, so the interval is the window in which
//! someone with write access to the database could rewrite them unseen; `audit anchor` seals
//! before it prints, so an anchor always covers everything recorded before it.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::clock::Clock;
use crate::keys::SigningKey;
use crate::store::Store;

/// Seals what is pending; logs (never with the key) when it cannot. Returns whether it
/// worked, so that the loop reports a lasting refusal once rather than at every tick.
pub async fn seal_now(store: &Store, clock: &dyn Clock, key: Option<&SigningKey>) -> bool {
    match store.seal(key, clock.now()).await {
        Ok(_) => true,
        Err(crate::store::StoreError::Ledger(refusal)) => {
            tracing::error!(%refusal, "the ledger is not being sealed");
            false
        }
        Err(error) => {
            tracing::error!(%error, cause = ?error, "sealing the ledger failed; will retry");
            false
        }
    }
}

/// Runs until `stop` turns true, sealing every `interval`, and once more on the way out so
/// that a restart leaves nothing unsealed behind it.
pub async fn run(
    store: Store,
    clock: Arc<dyn Clock>,
    key: Option<Arc<SigningKey>>,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
) {
    tracing::info!(
        interval_ms = interval.as_millis() as u64,
        signed = key.is_some(),
        key_id = key.as_ref().map(|k| k.id()),
        "ledger sealer started"
    );
    let mut failing = false;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    break;
                }
            }
        }
        let sealed = if failing {
            // Already reported: stay quiet until it works again.
            store.seal(key.as_deref(), clock.now()).await.is_ok()
        } else {
            seal_now(&store, clock.as_ref(), key.as_deref()).await
        };
        if sealed && failing {
            tracing::info!("the ledger is being sealed again");
        }
        failing = !sealed;
    }
    seal_now(&store, clock.as_ref(), key.as_deref()).await;
    tracing::info!("ledger sealer stopped");
}
