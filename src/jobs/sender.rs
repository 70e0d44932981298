//! The outbox sender: sends every letter and email that is due, beside the deadline scheduler
//! and stopped by the same signal. Rows are claimed with a lease (see `mail::send` for why
//! each letter goes once, and the one window in which SMTP may deliver it twice); a failure is
//! retried with exponential backoff; one bad row never stops the others. The print queue's
//! `manifest.json` is rewritten whenever the queue changes (here or on another node).

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use tokio::sync::watch;
use tracing::Instrument;

use crate::clock::Clock;
use crate::mail::print::ManifestEntry;
use crate::mail::send::Mailer;
use crate::store::OutboxItem;

fn later(now: Timestamp, wait: std::time::Duration) -> Timestamp {
    let wait = SignedDuration::try_from(wait).unwrap_or(SignedDuration::MAX);
    now.checked_add(wait).unwrap_or(Timestamp::MAX)
}

fn stopping(stop: Option<&watch::Receiver<bool>>) -> bool {
    stop.is_some_and(|s| *s.borrow())
}

/// Sends everything due now, batch by batch, until nothing is due (or `stop` turns true).
/// Returns how many letters went.
pub async fn send_due(
    mailer: &Mailer,
    clock: &dyn Clock,
    stop: Option<&watch::Receiver<bool>>,
) -> usize {
    let store = mailer.store();
    let config = mailer.config();
    let mut sent = 0;
    loop {
        if stopping(stop) {
            return sent;
        }
        match store.outbox_due(clock.now()).await {
            Ok(true) => {}
            Ok(false) => return sent,
            Err(error) => {
                tracing::error!(%error, "cannot read the outbox; will retry");
                return sent;
            }
        }
        let claimed = match store
            .claim_letters(clock.now(), config.batch, config.lease, mailer.node())
            .await
        {
            Ok(claimed) => claimed,
            Err(error) => {
                tracing::error!(%error, "cannot claim letters to send; will retry");
                return sent;
            }
        };
        let full = claimed.len() as i64 >= config.batch;
        let mut rest = claimed.into_iter();
        for item in rest.by_ref() {
            let span = tracing::info_span!("letter", id = item.id, kind = %item.kind, channel = %item.channel, attempt = item.attempts);
            if send_one(mailer, clock, &item).instrument(span).await {
                sent += 1;
            }
            if stopping(stop) {
                break;
            }
        }
        // Stopping: what was claimed and not tried is due again at once, for the next start.
        let untried: Vec<(i64, i64)> = rest.map(|i| (i.id, i.attempts)).collect();
        if !untried.is_empty() {
            if let Err(error) = store.release_letters(&untried, clock.now()).await {
                tracing::error!(%error, "cannot give back letters not tried");
            }
            return sent;
        }
        if !full {
            return sent;
        }
    }
}

/// Sends one claimed letter and records what became of it; true if it went.
async fn send_one(mailer: &Mailer, clock: &dyn Clock, item: &OutboxItem) -> bool {
    let store = mailer.store();
    match store
        .renew_lease(item.id, item.attempts, clock.now(), mailer.config().lease)
        .await
    {
        Ok(true) => {}
        Ok(false) => {
            tracing::warn!(
                "the lease on this letter ran out and another node took it; not sent here"
            );
            return false;
        }
        Err(error) => {
            tracing::error!(%error, "cannot renew the lease on a letter; not sent now");
            return false;
        }
    }
    match mailer.deliver(item).await {
        Ok(delivered) => {
            metrics::counter!("redress_letters_sent_total", "channel" => item.channel.clone())
                .increment(1);
            match store
                .letter_sent(
                    item.id,
                    clock.now(),
                    delivered.large_print,
                    delivered.print_file.as_deref(),
                )
                .await
            {
                Ok(_) => tracing::info!("letter sent"),
                // Sent but not recorded: the lease runs out and it is sent again (the window
                // `mail::send` describes).
                Err(error) => tracing::error!(%error, "letter sent but not recorded as sent"),
            }
            true
        }
        Err(error) => {
            let next = later(clock.now(), mailer.config().backoff(item.attempts));
            tracing::warn!(error = %error.for_log(), next_attempt_at = %next, "letter not sent; will retry");
            metrics::counter!("redress_letters_failed_total").increment(1);
            if let Err(error) = store
                .letter_failed(item.id, item.attempts, next, &error.to_string())
                .await
            {
                tracing::error!(%error, "cannot record a failed attempt");
            }
            false
        }
    }
}

/// Rewrites the print queue's manifest if the queue changed since `last` (returns the new
/// fingerprint).
pub async fn refresh_manifest(
    mailer: &Mailer,
    clock: &dyn Clock,
    last: Option<(i64, i64, i64)>,
) -> Option<(i64, i64, i64)> {
    let store = mailer.store();
    let fingerprint = match store.print_queue_fingerprint().await {
        Ok(f) => f,
        Err(error) => {
            tracing::error!(%error, "cannot read the print queue");
            return last;
        }
    };
    if last == Some(fingerprint) {
        return last;
    }
    let waiting = match store.print_queue().await {
        Ok(items) => items.iter().map(ManifestEntry::of).collect::<Vec<_>>(),
        Err(error) => {
            tracing::error!(%error, "cannot read the print queue");
            return last;
        }
    };
    match mailer
        .print_queue()
        .write_manifest(&waiting, clock.now())
        .await
    {
        Ok(()) => Some(fingerprint),
        Err(error) => {
            tracing::error!(%error, dir = %mailer.print_queue().dir().display(), "cannot write the print queue's manifest");
            last
        }
    }
}

/// Runs until `stop` turns true, looking for letters due every `interval`.
pub async fn run(mailer: Arc<Mailer>, clock: Arc<dyn Clock>, mut stop: watch::Receiver<bool>) {
    let interval = mailer.config().interval;
    tracing::info!(
        interval_ms = interval.as_millis() as u64,
        node = mailer.node(),
        "letter sender started"
    );
    let mut manifest = None;
    if !mailer.config().send_at_start {
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.changed() => {}
        }
    }
    loop {
        if *stop.borrow() {
            break;
        }
        let sent = send_due(&mailer, clock.as_ref(), Some(&stop)).await;
        if sent > 0 {
            tracing::info!(letters = sent, "letters sent");
        }
        manifest = refresh_manifest(&mailer, clock.as_ref(), manifest).await;
        if *stop.borrow() {
            break;
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
    tracing::info!("letter sender stopped");
}
