//! The load generator: N client tasks repeating one operation for a warm-up and a measured
//! window, and what they achieved in that window.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::runtime::Runtime;

use crate::system::{USER_HZ, cpu_ticks_machine, cpu_ticks_process, peak_rss_kib, reset_peak_rss};

/// How many clients, for how long.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    pub clients: usize,
    /// Load before measuring starts (not counted).
    pub warmup: Duration,
    /// The measured window.
    pub measure: Duration,
}

/// What one path achieved in the measured window.
#[derive(Debug, Clone)]
pub struct Stats {
    pub path: &'static str,
    pub clients: usize,
    pub seconds: f64,
    /// Successful operations that ended inside the window, with their latency (µs), sorted.
    pub latencies: Vec<u64>,
    pub errors: u64,
    pub first_error: Option<String>,
    /// Successes over the whole run, warm-up and tail included (checked against the database).
    pub total_ok: u64,
    pub peak_rss_kib: Option<u64>,
    /// CPU time used in the window, in cores (1.0 = one core busy throughout): by this process
    /// (server and clients), and by the whole machine (PostgreSQL and anything else included).
    pub cpu_process: Option<f64>,
    pub cpu_machine: Option<f64>,
}

impl Stats {
    /// Operations per second in the window.
    pub fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.seconds
    }

    /// Nearest-rank percentile, in milliseconds.
    pub fn percentile(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let rank = ((p / 100.0) * self.latencies.len() as f64).ceil() as usize;
        let index = rank.clamp(1, self.latencies.len()) - 1;
        self.latencies[index] as f64 / 1000.0
    }

    /// The slowest operation in the window, in milliseconds.
    pub fn max_ms(&self) -> f64 {
        self.latencies
            .last()
            .map_or(f64::NAN, |&m| m as f64 / 1000.0)
    }
}

/// A multi-threaded runtime of `threads` workers whose threads are called `name` (so that a
/// profile can tell the server's from the clients').
pub fn runtime(threads: usize, name: &str) -> std::io::Result<Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name(name)
        .enable_all()
        .build()
}

/// Runs `op(client, n)` from `clients` tasks until warm-up + window has passed; counts what
/// ends inside the window.
pub async fn drive<F, Fut>(path: &'static str, load: Load, op: F) -> Stats
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    reset_peak_rss();
    let op = Arc::new(op);
    let from = Instant::now() + load.warmup;
    let until = from + load.measure;
    let sampler = tokio::spawn(async move {
        tokio::time::sleep_until(from.into()).await;
        let before = (cpu_ticks_process(), cpu_ticks_machine());
        tokio::time::sleep_until(until.into()).await;
        let after = (cpu_ticks_process(), cpu_ticks_machine());
        (before, after)
    });
    let mut tasks = Vec::with_capacity(load.clients);
    for client in 0..load.clients {
        let op = op.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            let mut first_error = None;
            let mut total_ok = 0u64;
            let mut n = 0u64;
            loop {
                let began = Instant::now();
                if began >= until {
                    break;
                }
                let result = op(client, n).await;
                n += 1;
                let ended = Instant::now();
                if result.is_ok() {
                    total_ok += 1;
                }
                if ended < from || ended > until {
                    continue;
                }
                match result {
                    Ok(()) => latencies.push((ended - began).as_micros() as u64),
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert(e);
                    }
                }
            }
            (latencies, errors, first_error, total_ok)
        }));
    }
    let mut stats = Stats {
        path,
        clients: load.clients,
        seconds: load.measure.as_secs_f64(),
        latencies: Vec::new(),
        errors: 0,
        first_error: None,
        total_ok: 0,
        peak_rss_kib: None,
        cpu_process: None,
        cpu_machine: None,
    };
    for task in tasks {
        match task.await {
            Ok((latencies, errors, first_error, total_ok)) => {
                stats.latencies.extend(latencies);
                stats.errors += errors;
                stats.total_ok += total_ok;
                if stats.first_error.is_none() {
                    stats.first_error = first_error;
                }
            }
            Err(e) => {
                stats.errors += 1;
                stats
                    .first_error
                    .get_or_insert(format!("client task failed: {e}"));
            }
        }
    }
    stats.latencies.sort_unstable();
    stats.peak_rss_kib = peak_rss_kib();
    if let Ok(((p0, m0), (p1, m1))) = sampler.await {
        let cores = |a: Option<u64>, b: Option<u64>| {
            Some(b?.checked_sub(a?)? as f64 / USER_HZ / load.measure.as_secs_f64())
        };
        stats.cpu_process = cores(p0, p1);
        stats.cpu_machine = cores(m0, m1);
    }
    stats
}

#[cfg(test)]
mod tests {
    use super::Stats;

    fn stats(latencies: Vec<u64>) -> Stats {
        Stats {
            path: "test",
            clients: 1,
            seconds: 2.0,
            latencies,
            errors: 0,
            first_error: None,
            total_ok: 0,
            peak_rss_kib: None,
            cpu_process: None,
            cpu_machine: None,
        }
    }

    #[test]
    fn percentiles_are_nearest_rank_in_milliseconds() {
        let s = stats((1..=10).map(|ms| ms * 1000).collect());
        assert_eq!(s.percentile(50.0), 5.0);
        assert_eq!(s.percentile(90.0), 9.0);
        assert_eq!(s.percentile(99.0), 10.0);
        assert_eq!(s.percentile(0.0), 1.0);
        assert_eq!(s.max_ms(), 10.0);
        assert_eq!(s.rate(), 5.0);
    }

    #[test]
    fn no_operations_have_no_percentiles() {
        let s = stats(Vec::new());
        assert!(s.percentile(50.0).is_nan());
        assert!(s.max_ms().is_nan());
        assert_eq!(s.rate(), 0.0);
    }
}
