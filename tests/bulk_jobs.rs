//! Deadlines and letters in bulk: many deadlines coming due at once and the letters they cause.
//!
//! The measurement at the end is run by hand, in a release build (BENCHMARKS.md, "Deadlines
//! and letters in bulk", gives the figures):
//!
//! ```sh
//! cargo test --release --test bulk_jobs -- --ignored --nocapture
//! ```
#[macro_use]
mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use jiff::{SignedDuration, Timestamp};
use redress::clock::ManualClock;
use redress::mail::send::{MailConfig, Mailer};
use redress::store::Store;
use redress_core::model::Postcode;
use redress_core::{Actor, Channel, Customer, Procedure, Receive, Reference, Role};
use support::{fresh_postgres_database, in_ci, ts};

/// A complaint received by telephone; with an email address its letters go by email, without
/// one by post.
fn receive(account: String, email: bool) -> Receive {
    Receive {
        reference: Reference::new("CMP", 2000, 0),
        channel: Channel::Telephone,
        customer: Customer {
            email: email.then(|| format!("{}@example.com", account.to_lowercase())),
            account,
            name: "Ann Example".into(),
            telephone: None,
            address: vec!["1 High Street".into(), "Manchester".into()],
            postcode: Postcode::parse("M22 4SY").ok(),
            preferred_channel: None,
            accessibility_needs: Vec::new(),
            vulnerabilities: Vec::new(),
        },
        summary: "Broadband drops every evening".into(),
        category: Some("faults_service_provision".into()),
        received_at: None,
        staff_concerned: Vec::new(),
        by: Actor {
            role: Role::Handler,
            department: Some("customer_services".into()),
            staff: Some("amy".into()),
        },
    }
}

/// Records `n` complaints at `now` (many at once, so intake's group commit shares the work).
async fn record(store: &Store, prefix: &str, n: usize, email: bool, now: Timestamp) {
    futures_util::stream::iter(0..n)
        .map(|i| {
            let store = store.clone();
            let account = format!("{prefix}-{i:06}");
            async move {
                store
                    .create_complaint(receive(account, email), now)
                    .await
                    .expect("a complaint is recorded")
            }
        })
        .buffer_unordered(256)
        .for_each(|_| async {})
        .await;
}

/// A fresh database: a SQLite file in `dir`, or a new PostgreSQL database.
async fn open_store(postgres: bool, dir: &Path, name: &str) -> Option<Store> {
    let url = if postgres {
        fresh_postgres_database().await?
    } else {
        dir.join(format!("{name}.db")).display().to_string()
    };
    let store = Store::connect(&url, Arc::new(Procedure::default_procedure()))
        .await
        .expect("connect");
    store.migrate().await.expect("migrate");
    Some(store)
}

/// The first instant at which a complaint received at `received` has passed its ADR point
/// (8 weeks, 00:00 London), and one received 30 days later has not.
fn adr_point_passed(received: Timestamp) -> Timestamp {
    received + SignedDuration::from_hours(24 * 57)
}

/// Whether python3 with aiosmtpd is here; under CI it must be.
fn aiosmtpd_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            !in_ci(),
            "python3 with aiosmtpd is required under CI (scripts/test.sh installs it)"
        );
        eprintln!("skipped: python3 with aiosmtpd is not available (pip install aiosmtpd)");
    }
    ok
}

/// The SMTP sink of tests/support/smtp_sink.py (aiosmtpd), saving each message in `dir`.
struct Sink {
    child: Child,
    port: u16,
}

impl Sink {
    async fn start(dir: &Path) -> Sink {
        let port = support::process::free_port();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_sink.py");
        let child = Command::new("python3")
            .arg(script)
            .args(["--port", &port.to_string()])
            .arg("--dir")
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the SMTP sink");
        let deadline = Instant::now() + Duration::from_secs(20);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "the SMTP sink did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Sink { child, port }
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The files in a folder (not the temporary ones being written).
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| !n.starts_with('.') && n != "manifest.json")
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// A sender on `store`: email through `smtp` (or the file transport), post to `print_dir`.
fn mailer(store: &Store, smtp: Option<String>, dir: &Path) -> Mailer {
    Mailer::new(
        store.clone(),
        MailConfig {
            smtp_url: smtp,
            mail_dir: dir.join("mail"),
            print_dir: dir.join("print"),
            send_at_start: false,
            ..MailConfig::default()
        },
    )
    .expect("a mailer")
}

// ---------------------------------------------------------------------------------------------
// The measurement, by hand
// ---------------------------------------------------------------------------------------------

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Fires `due` ADR points among `open` complaints that are not due; returns the seconds it took.
async fn time_firing(postgres: bool, dir: &Path, due: usize, open: usize) -> Option<f64> {
    let store = open_store(postgres, dir, &format!("fire-{open}")).await?;
    let t0 = ts(support::START);
    record(&store, "DUE", due, false, t0).await;
    record(
        &store,
        "OPEN",
        open,
        false,
        t0 + SignedDuration::from_hours(24 * 30),
    )
    .await;
    let clock = ManualClock::new(adr_point_passed(t0));
    let started = Instant::now();
    let fired = redress::jobs::scheduler::fire_all_due(&store, &clock).await;
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(fired, due, "every due complaint fired, and no other");
    store.close().await;
    Some(seconds)
}

/// Sends `n` ADR notices by email (to aiosmtpd) or by post (PDFs in the print queue); returns
/// the seconds it took.
async fn time_sending(postgres: bool, dir: &Path, n: usize, email: bool) -> Option<f64> {
    let name = if email { "email" } else { "post" };
    let store = open_store(postgres, dir, &format!("send-{name}")).await?;
    let t0 = ts(support::START);
    record(&store, "LETTER", n, email, t0).await;
    let clock = ManualClock::new(adr_point_passed(t0));
    let fired = redress::jobs::scheduler::fire_all_due(&store, &clock).await;
    assert_eq!(fired, n);
    let received = dir.join(format!("received-{name}"));
    let sink = Sink::start(&received).await;
    let out = dir.join(format!("out-{name}"));
    let mailer = mailer(&store, Some(sink.url()), &out);
    let started = Instant::now();
    let sent = redress::jobs::sender::send_due(&mailer, &clock, None).await;
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(sent, n, "every letter went");
    let written = if email {
        files(&received).len()
    } else {
        files(&out.join("print")).len()
    };
    assert_eq!(written, n, "one message or file per letter");
    store.close().await;
    Some(seconds)
}

/// Firing cost against what is due and what is open, and letters per second by email and by
/// post. `REDRESS_BULK_DUE` (10,000), `REDRESS_BULK_OPEN` (10,000 and 100,000, comma
/// separated), `REDRESS_BULK_LETTERS` (2,000), `REDRESS_BULK_POSTGRES=1` for PostgreSQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, run by hand in a release build"]
async fn measure_deadlines_and_letters_in_bulk() {
    let postgres = std::env::var("REDRESS_BULK_POSTGRES").is_ok_and(|v| v == "1");
    let due = env_number("REDRESS_BULK_DUE", 10_000);
    let opens: Vec<usize> = std::env::var("REDRESS_BULK_OPEN")
        .unwrap_or_else(|_| "10000,100000".into())
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect();
    let letters = env_number("REDRESS_BULK_LETTERS", 2_000);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let backend = if postgres { "PostgreSQL" } else { "SQLite" };
    let mut firing = Vec::new();
    for open in &opens {
        let Some(seconds) = time_firing(postgres, dir.path(), due, *open).await else {
            return;
        };
        println!(
            "{backend}: fired {due} due among {open} open not due in {seconds:.3} s ({:.0} complaints/s)",
            due as f64 / seconds
        );
        firing.push(seconds);
    }
    if let (Some(first), Some(last)) = (firing.first(), firing.last()) {
        println!(
            "{backend}: time with {} open / time with {} open = {:.2}",
            opens.last().unwrap_or(&0),
            opens.first().unwrap_or(&0),
            last / first
        );
    }
    if letters > 0 && aiosmtpd_available() {
        for email in [true, false] {
            let Some(seconds) = time_sending(postgres, dir.path(), letters, email).await else {
                return;
            };
            println!(
                "{backend}: sent {letters} letters by {} in {seconds:.3} s ({:.0} letters/s)",
                if email {
                    "email (aiosmtpd)"
                } else {
                    "post (PDF)"
                },
                letters as f64 / seconds
            );
        }
    }
}
