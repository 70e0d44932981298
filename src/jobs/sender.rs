//! The outbox sender: sends every letter and email that is due, beside the deadline scheduler
//! and stopped by the same signal. Rows are claimed with a lease (see `mail::send` for why
//! each letter goes once, and the one window in which SMTP may deliver it twice) and sent
//! several at a time (`MailConfig::workers`), those that went recorded as sent together; a
//! failure is retried with exponential backoff; one bad row never stops the others. The print
//! queue's `manifest.json` is rewritten whenever the queue changes (here or on another node).

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use jiff::{SignedDuration, Timestamp};
use tokio::sync::watch;
use tracing::Instrument;

use crate::clock::Clock;
use crate::mail::print::ManifestEntry;
use crate::mail::send::{Delivered, Mailer, SendError};
use crate::store::{OutboxItem, SentLetter, StoreError};

fn later(now: Timestamp, wait: std::time::Duration) -> Timestamp {
    let wait = SignedDuration::try_from(wait).unwrap_or(SignedDuration::MAX);
    now.checked_add(wait).unwrap_or(Timestamp::MAX)
}

fn stopping(stop: Option<&watch::Receiver<bool>>) -> bool {
    stop.is_some_and(|s| *s.borrow())
}

/// What one piece of the sender's work came to.
enum Done {
    /// Letters claimed (none if nothing is due).
    Claimed(Result<Vec<OutboxItem>, StoreError>),
    /// A letter tried: delivered (to be recorded as sent), or not (what became of it is
    /// recorded already).
    Tried(Box<OutboxItem>, Option<Delivered>),
    /// A group of delivered letters recorded as sent: how many.
    Recorded(usize),
}

type Work<'a> = Pin<Box<dyn Future<Output = Done> + Send + 'a>>;

/// Sends everything due now (or until `stop` turns true), `workers` letters at a time:
/// claimed a batch at a time (the next batch claimed while the last is sent), each rendered
/// and sent on its own, and those that went recorded as sent together, one transaction for
/// all that went meanwhile. A letter holds its worker until it is recorded, so with one
/// worker each letter is recorded before the next is sent. Returns how many letters went.
pub async fn send_due(
    mailer: &Mailer,
    clock: &dyn Clock,
    stop: Option<&watch::Receiver<bool>>,
) -> usize {
    let store = mailer.store();
    let config = mailer.config();
    let workers = config.workers.max(1);
    let mut work: FuturesUnordered<Work<'_>> = FuturesUnordered::new();
    // Claimed and not yet started, each with when its lease was taken.
    let mut waiting: VecDeque<(OutboxItem, Timestamp)> = VecDeque::new();
    // Delivered and not yet recorded.
    let mut delivered: Vec<(OutboxItem, Delivered)> = Vec::new();
    // Letters holding a worker: being sent, or delivered and waiting to be recorded.
    let mut busy = 0;
    let (mut claiming, mut recording) = (false, false);
    // Whether more may be due: until a claim comes back short (or fails).
    let mut more = true;
    let mut sent = 0;
    loop {
        if stopping(stop) {
            more = false;
        } else {
            while busy < workers {
                let Some((item, leased_at)) = waiting.pop_front() else {
                    break;
                };
                busy += 1;
                work.push(Box::pin(attempt(mailer, clock, item, leased_at)));
            }
        }
        if more && !claiming && waiting.len() < workers {
            claiming = true;
            work.push(Box::pin(claim(mailer, clock)));
        }
        if !recording && !delivered.is_empty() {
            recording = true;
            work.push(Box::pin(record(
                mailer,
                clock,
                std::mem::take(&mut delivered),
            )));
        }
        let Some(done) = work.next().await else {
            break;
        };
        match done {
            Done::Claimed(Ok(items)) => {
                claiming = false;
                more = items.len() as i64 >= config.batch;
                let now = clock.now();
                waiting.extend(items.into_iter().map(|item| (item, now)));
            }
            Done::Claimed(Err(error)) => {
                claiming = false;
                more = false;
                tracing::error!(%error, "cannot claim letters to send; will retry");
            }
            Done::Tried(item, Some(went)) => {
                sent += 1;
                delivered.push((*item, went));
            }
            Done::Tried(_, None) => busy -= 1,
            Done::Recorded(n) => {
                recording = false;
                busy -= n;
            }
        }
    }
    // Stopping: what was claimed and not tried is due again at once, for the next start.
    let untried: Vec<(i64, i64)> = waiting.iter().map(|(i, _)| (i.id, i.attempts)).collect();
    if !untried.is_empty()
        && let Err(error) = store.release_letters(&untried, clock.now()).await
    {
        tracing::error!(%error, "cannot give back letters not tried");
    }
    sent
}

/// Claims the next batch of due letters (none, without taking the SQLite write lock, when
/// nothing is due).
async fn claim(mailer: &Mailer, clock: &dyn Clock) -> Done {
    let store = mailer.store();
    let config = mailer.config();
    match store.outbox_due(clock.now()).await {
        Ok(true) => {}
        Ok(false) => return Done::Claimed(Ok(Vec::new())),
        Err(error) => {
            tracing::error!(%error, "cannot read the outbox; will retry");
            return Done::Claimed(Ok(Vec::new()));
        }
    }
    Done::Claimed(
        store
            .claim_letters(clock.now(), config.batch, config.lease, mailer.node())
            .await,
    )
}

/// Tries one claimed letter. A letter whose lease has run for more than a tenth of its length
/// has it renewed first, so a letter late in a slow batch is not taken by another node
/// meanwhile; one whose lease was lost is not sent. A failure is recorded here, with the next
/// attempt; a letter that went is recorded by [`record`].
async fn attempt(
    mailer: &Mailer,
    clock: &dyn Clock,
    item: OutboxItem,
    leased_at: Timestamp,
) -> Done {
    let span = letter_span(&item);
    async move {
        let went = send_one(mailer, clock, &item, leased_at).await;
        Done::Tried(Box::new(item), went)
    }
    .instrument(span)
    .await
}

async fn send_one(
    mailer: &Mailer,
    clock: &dyn Clock,
    item: &OutboxItem,
    leased_at: Timestamp,
) -> Option<Delivered> {
    let store = mailer.store();
    let lease = mailer.config().lease;
    if clock.now() > later(leased_at, lease / 10) {
        match store
            .renew_lease(item.id, item.attempts, clock.now(), lease)
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(
                    "the lease on this letter ran out and another node took it; not sent here"
                );
                return None;
            }
            Err(error) => {
                tracing::error!(%error, "cannot renew the lease on a letter; not sent now");
                return None;
            }
        }
    }
    match mailer.deliver_unsynced(item).await {
        Ok(delivered) => {
            metrics::counter!("redress_letters_sent_total", "channel" => item.channel.clone())
                .increment(1);
            Some(delivered)
        }
        Err(error) => {
            failed(mailer, clock, item, &error).await;
            None
        }
    }
}

/// Records a failed attempt and when to try again.
async fn failed(mailer: &Mailer, clock: &dyn Clock, item: &OutboxItem, error: &SendError) {
    let next = later(clock.now(), mailer.config().backoff(item.attempts));
    tracing::warn!(error = %error.for_log(), next_attempt_at = %next, "letter not sent; will retry");
    metrics::counter!("redress_letters_failed_total").increment(1);
    if let Err(error) = mailer
        .store()
        .letter_failed(item.id, item.attempts, next, &error.to_string())
        .await
    {
        tracing::error!(%error, "cannot record a failed attempt");
    }
}

/// Records delivered letters as sent, together: the folders of the files they wrote synced
/// once, then one transaction.
async fn record(mailer: &Mailer, clock: &dyn Clock, group: Vec<(OutboxItem, Delivered)>) -> Done {
    let n = group.len();
    let items: Vec<&OutboxItem> = group.iter().map(|(item, _)| item).collect();
    if let Err(error) = mailer.sync_written(&items).await {
        // The files may not survive a power cut: tried again, they are written again.
        for (item, _) in &group {
            failed(mailer, clock, item, &error)
                .instrument(letter_span(item))
                .await;
        }
        return Done::Recorded(n);
    }
    let letters: Vec<SentLetter<'_>> = group
        .iter()
        .map(|(item, went)| SentLetter {
            id: item.id,
            complaint_id: item.complaint_id,
            kind: &item.kind,
            channel: &item.channel,
            large_print: went.large_print,
            print_file: went.print_file.as_deref(),
            copy: went.copy.as_ref(),
        })
        .collect();
    let recording = mailer.store().letters_sent(&letters, clock.now());
    match crate::store::via::through(crate::store::via::SENDER, recording).await {
        Ok(_) => {
            for (item, _) in &group {
                letter_span(item).in_scope(|| tracing::info!("letter sent"));
            }
        }
        // Sent but not recorded: the lease runs out and it is sent again (the window
        // `mail::send` describes).
        Err(error) => {
            for (item, _) in &group {
                letter_span(item)
                    .in_scope(|| tracing::error!(%error, "letter sent but not recorded as sent"));
            }
        }
    }
    Done::Recorded(n)
}

fn letter_span(item: &OutboxItem) -> tracing::Span {
    tracing::info_span!("letter", id = item.id, kind = %item.kind, channel = %item.channel, attempt = item.attempts)
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
