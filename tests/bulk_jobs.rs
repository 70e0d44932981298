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

use std::collections::BTreeMap;
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
use redress_core::{
    Action, Actor, Channel, Command as CoreCommand, Complaint, Customer, Event, Procedure, Receive,
    Reference, Role, fire_due,
};
use sqlx::Row;
use support::{Db, fresh_postgres_database, in_ci, ts};

both_backends! {
    firing_many_due_deadlines_at_once_records_what_firing_each_alone_records =>
        sqlite_firing_many_due_deadlines_at_once_records_what_firing_each_alone_records,
        postgres_firing_many_due_deadlines_at_once_records_what_firing_each_alone_records;
    two_schedulers_at_once_fire_every_deadline_once =>
        sqlite_two_schedulers_at_once_fire_every_deadline_once,
        postgres_two_schedulers_at_once_fire_every_deadline_once;
    several_workers_on_two_nodes_send_each_letter_once =>
        sqlite_several_workers_on_two_nodes_send_each_letter_once,
        postgres_several_workers_on_two_nodes_send_each_letter_once;
}

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
            files_dir: dir.join("files"),
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

/// Lets the database finish with the complaints just recorded (statistics, the log copied
/// into the tables), so that what is timed next is only what is timed.
async fn settle(store: &Store) {
    let statements: &[&'static str] = match store.backend() {
        redress::store::Backend::Postgres => &["VACUUM ANALYZE", "CHECKPOINT"],
        redress::store::Backend::Sqlite => &["PRAGMA wal_checkpoint(TRUNCATE)"],
    };
    for sql in statements.iter().copied() {
        sqlx::query(sql)
            .execute(store.pool())
            .await
            .expect("settle the database");
    }
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
    settle(&store).await;
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
    settle(&store).await;
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

// ---------------------------------------------------------------------------------------------
// Firing in bulk
// ---------------------------------------------------------------------------------------------

/// The default procedure with an acknowledgement target of 5 days, so that a complaint not
/// acknowledged has two clocks due at once.
fn procedure() -> Procedure {
    let mut procedure = Procedure::default_procedure();
    for rules in &mut procedure.rules {
        rules.acknowledgement_days = Some(5);
    }
    procedure
}

/// A fresh database for `db` with `procedure` (`None`: PostgreSQL is not here, outside CI).
async fn fresh_store(db: Db, dir: &Path, name: &str, procedure: &Procedure) -> Option<Store> {
    let url = match db {
        Db::Sqlite => dir.join(format!("{name}.db")).display().to_string(),
        Db::Postgres => fresh_postgres_database().await?,
    };
    Some(connect(&url, procedure).await)
}

async fn connect(url: &str, procedure: &Procedure) -> Store {
    let store = Store::connect(url, Arc::new(procedure.clone()))
        .await
        .expect("connect");
    store.migrate().await.expect("migrate");
    store
}

/// A staff member of customer services.
fn handler() -> Actor {
    Actor::staff(Role::Handler, "customer_services", Some("amy"))
}

/// The same complaints, one at a time so that both databases give them the same references:
/// due at `T0 + 57 days` with their ADR point and acknowledgement (some acknowledged, so only
/// the ADR point), some by email and some by post, and some received later whose ADR point
/// is not due.
async fn record_the_same_complaints(store: &Store, t0: Timestamp) -> Vec<String> {
    let mut references = Vec::new();
    for i in 0..45 {
        let later = i % 5 == 4;
        let at = if later {
            t0 + SignedDuration::from_hours(24 * 30)
        } else {
            t0 + SignedDuration::from_mins(i)
        };
        let created = store
            .create_complaint(receive(format!("KX-{i:03}"), i % 3 != 0), at)
            .await
            .expect("recorded");
        let reference = created.complaint.reference.clone();
        if i % 4 == 1 {
            let outcome = store
                .run_command(
                    &reference,
                    CoreCommand {
                        by: handler(),
                        action: Action::Acknowledge { channel: None },
                    },
                    at + SignedDuration::from_hours(1),
                )
                .await
                .expect("acknowledged");
            assert!(outcome.refusal.is_none(), "{:?}", outcome.refusal);
        }
        references.push(reference.to_string());
    }
    references
}

/// Every row a change writes, as text, in an order that does not depend on ids.
async fn dump(store: &Store) -> Vec<String> {
    let queries = [
        "SELECT c.reference, e.sequence, e.kind, e.payload, e.actor, e.occurred_at, e.recorded_at, \
         e.due_at, e.prev_hash, e.hash FROM events e JOIN complaints c ON c.id = e.complaint_id \
         ORDER BY c.reference, e.sequence",
        "SELECT c.reference, d.kind, d.request, d.due_at, d.due_by, d.fired_at FROM deadlines d \
         JOIN complaints c ON c.id = d.complaint_id ORDER BY c.reference, d.kind, d.request",
        "SELECT c.reference, o.event_sequence, o.kind, o.channel, o.payload, o.created_at, \
         o.attempts, o.next_attempt_at, o.sent_at FROM outbox o JOIN complaints c \
         ON c.id = o.complaint_id ORDER BY c.reference, o.event_sequence, o.kind",
        "SELECT reference, stage, status, department, next_due_at, last_hash, overdue, \
         adr_eligible, version, state, search_text, updated_at, customer_email, queue_at \
         FROM complaints ORDER BY reference",
        "SELECT c.reference, l.version FROM ledger_pending l JOIN complaints c \
         ON c.id = l.complaint_id ORDER BY c.reference, l.version",
    ];
    let mut out = Vec::new();
    for sql in queries {
        for row in sqlx::query(sql)
            .fetch_all(store.pool())
            .await
            .expect("read rows")
        {
            let mut line = Vec::new();
            for i in 0..row.columns().len() {
                let text = row
                    .try_get::<Option<String>, _>(i)
                    .map(|v| v.unwrap_or_else(|| "NULL".into()))
                    .or_else(|_| {
                        row.try_get::<Option<i64>, _>(i)
                            .map(|v| v.map_or_else(|| "NULL".into(), |n| n.to_string()))
                    })
                    .expect("a text or number column");
                line.push(text);
            }
            out.push(line.join(" | "));
        }
    }
    out
}

/// Each complaint's state, by reference.
async fn states(store: &Store) -> BTreeMap<String, Complaint> {
    sqlx::query("SELECT reference, state FROM complaints")
        .fetch_all(store.pool())
        .await
        .expect("read complaints")
        .iter()
        .map(|row| {
            let reference: String = row.try_get("reference").expect("reference");
            let state: String = row.try_get("state").expect("state");
            (
                reference,
                serde_json::from_str(&state).expect("a complaint"),
            )
        })
        .collect()
}

/// The events recorded for a complaint after its `version`th.
async fn events_after(store: &Store, reference: &str, version: u64) -> Vec<Event> {
    sqlx::query(
        "SELECT e.payload FROM events e JOIN complaints c ON c.id = e.complaint_id \
         WHERE c.reference = $1 AND e.sequence > $2 ORDER BY e.sequence",
    )
    .bind(reference)
    .bind(i64::try_from(version).expect("a version"))
    .fetch_all(store.pool())
    .await
    .expect("read events")
    .iter()
    .map(|row| {
        let payload: String = row.try_get("payload").expect("payload");
        serde_json::from_str(&payload).expect("an event")
    })
    .collect()
}

async fn firing_many_due_deadlines_at_once_records_what_firing_each_alone_records(db: Db) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let procedure = procedure();
    let Some(bulk) = fresh_store(db, dir.path(), "bulk", &procedure).await else {
        return;
    };
    let Some(alone) = fresh_store(db, dir.path(), "alone", &procedure).await else {
        return;
    };
    let t0 = ts(support::START);
    let references = record_the_same_complaints(&bulk, t0).await;
    assert_eq!(record_the_same_complaints(&alone, t0).await, references);
    // A clock the core no longer runs but whose row is still there (as an earlier version
    // could leave): firing a complaint makes its rows match the core's clocks, so it goes.
    for store in [&bulk, &alone] {
        for reference in &references[..3] {
            sqlx::query(
                "INSERT INTO deadlines (complaint_id, kind, request, due_at, due_by, fired_at) \
                 SELECT id, 'remedy', 0, $1, '2030-01-01', NULL FROM complaints WHERE reference = $2",
            )
            .bind(ts("2030-01-02T00:00:00Z").as_microsecond())
            .bind(reference)
            .execute(store.pool())
            .await
            .expect("a stray clock");
        }
    }
    assert_eq!(
        dump(&bulk).await,
        dump(&alone).await,
        "the same to begin with"
    );
    let now = adr_point_passed(t0);

    // What the core's fire_due makes of each complaint.
    let before = states(&bulk).await;
    let expected: BTreeMap<String, Vec<Event>> = before
        .iter()
        .map(|(reference, c)| (reference.clone(), fire_due(c.clone(), now, &procedure).1))
        .filter(|(_, events)| !events.is_empty())
        .collect();
    // Due: all but the two received later and acknowledged (numbers 9 and 29).
    assert_eq!(expected.len(), references.len() - 2, "complaints due");
    assert!(
        expected.values().any(|e| e.len() == 3) && expected.values().any(|e| e.len() == 2),
        "some fire the acknowledgement and the ADR point, some one of them"
    );

    // In bulk: batches of 10 complaints, several batches.
    let mut fired = 0;
    loop {
        match bulk
            .fire_due_deadlines(now, 10)
            .await
            .expect("a batch fires")
        {
            0 => break,
            n => fired += n,
        }
    }
    assert_eq!(fired, expected.len());
    // One at a time: each complaint through a command, which fires what is due first (the
    // command itself is refused: a customer cannot acknowledge).
    for reference in &references {
        let outcome = alone
            .run_command(
                &Reference::parse(reference).expect("a reference"),
                CoreCommand {
                    by: Actor::customer(),
                    action: Action::Acknowledge { channel: None },
                },
                now,
            )
            .await
            .expect("the command runs");
        assert!(outcome.refusal.is_some());
    }

    for (reference, events) in &expected {
        let version = before[reference].version;
        assert_eq!(
            &events_after(&bulk, reference, version).await,
            events,
            "{reference}: the events the core fires"
        );
    }
    let (bulk_rows, alone_rows) = (dump(&bulk).await, dump(&alone).await);
    assert_eq!(bulk_rows.len(), alone_rows.len());
    for (a, b) in bulk_rows.iter().zip(&alone_rows) {
        assert_eq!(a, b, "the same row in bulk and one at a time");
    }
    let stray: Vec<i64> = sqlx::query("SELECT complaint_id FROM deadlines WHERE kind = 'remedy'")
        .fetch_all(bulk.pool())
        .await
        .expect("read deadlines")
        .iter()
        .map(|row| row.try_get("complaint_id").expect("an id"))
        .collect();
    assert!(stray.is_empty(), "stopped clocks left: {stray:?}");
    let report = bulk.verify_audit().await.expect("verify");
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(
        bulk.fire_due_deadlines(now, 10).await.expect("fires"),
        0,
        "nothing is left due"
    );
    bulk.close().await;
    alone.close().await;
}

/// The URL of a second handle on `store`'s database.
fn url_of(db: Db, dir: &Path, store_url: &str) -> String {
    match db {
        Db::Sqlite => dir.join("shared.db").display().to_string(),
        Db::Postgres => store_url.to_owned(),
    }
}

async fn two_schedulers_at_once_fire_every_deadline_once(db: Db) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let procedure = Procedure::default_procedure();
    let url = match db {
        Db::Sqlite => url_of(db, dir.path(), ""),
        Db::Postgres => match fresh_postgres_database().await {
            Some(url) => url,
            None => return,
        },
    };
    // Two handles, as two nodes have: each its own pool (and on SQLite its own writer lock).
    let first = connect(&url, &procedure).await;
    let second = connect(&url, &procedure).await;
    const COMPLAINTS: usize = 240;
    let t0 = ts(support::START);
    record(&first, "DUE", COMPLAINTS, true, t0).await;
    record(
        &first,
        "LATER",
        40,
        true,
        t0 + SignedDuration::from_hours(24 * 30),
    )
    .await;
    let now = adr_point_passed(t0);
    let run = |store: Store| async move {
        let mut fired = 0;
        loop {
            match store.fire_due_deadlines(now, 15).await {
                Ok(0) => return Ok(fired),
                Ok(n) => fired += n,
                Err(error) => return Err(error),
            }
        }
    };
    let (a, b) = tokio::join!(
        tokio::spawn(run(first.clone())),
        tokio::spawn(run(second.clone()))
    );
    let a = a
        .expect("join")
        .expect("the first scheduler's batches all commit");
    let b = b
        .expect("join")
        .expect("the second scheduler's batches all commit");
    assert_eq!(a + b, COMPLAINTS, "each complaint fired by one of them");

    let count = |sql: &'static str| {
        let store = first.clone();
        async move {
            sqlx::query(sql)
                .fetch_all(store.pool())
                .await
                .expect("count")
                .iter()
                .map(|row| row.try_get::<i64, _>(0).expect("a count"))
                .collect::<Vec<i64>>()
        }
    };
    let notices = count(
        "SELECT COUNT(e.sequence) FROM complaints c LEFT JOIN events e ON e.complaint_id = c.id \
         AND e.kind = 'adr_notice_sent' WHERE c.customer_account LIKE 'DUE-%' GROUP BY c.id",
    )
    .await;
    assert_eq!(notices.len(), COMPLAINTS);
    assert!(
        notices.iter().all(|n| *n == 1),
        "one ADR notice each: {notices:?}"
    );
    let letters = count(
        "SELECT COUNT(*) FROM outbox o JOIN complaints c ON c.id = o.complaint_id \
         WHERE o.kind = 'adr_notice' GROUP BY c.id",
    )
    .await;
    assert_eq!(letters.len(), COMPLAINTS);
    assert!(letters.iter().all(|n| *n == 1), "one ADR letter each");
    let later = count(
        "SELECT COUNT(*) FROM events e JOIN complaints c ON c.id = e.complaint_id \
         WHERE c.customer_account LIKE 'LATER-%' AND e.kind = 'adr_notice_sent'",
    )
    .await;
    assert_eq!(later, [0], "nothing not yet due fired");
    let report = first.verify_audit().await.expect("verify");
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    first.close().await;
    second.close().await;
}

// ---------------------------------------------------------------------------------------------
// Sending in bulk
// ---------------------------------------------------------------------------------------------

/// Message-IDs of the messages in a folder, each with how often it arrived.
fn message_ids(dir: &Path) -> BTreeMap<String, usize> {
    let mut seen = BTreeMap::new();
    for path in files(dir) {
        let raw = std::fs::read_to_string(&path).expect("read a message");
        let head = raw.split("\r\n\r\n").next().unwrap_or(&raw);
        let id = head
            .split("\r\n")
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("Message-ID")
                    .then(|| value.trim().to_owned())
            })
            .unwrap_or_else(|| panic!("{} has no Message-ID", path.display()));
        *seen.entry(id).or_insert(0) += 1;
    }
    seen
}

async fn several_workers_on_two_nodes_send_each_letter_once(db: Db) {
    if !aiosmtpd_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let procedure = Procedure::default_procedure();
    let url = match db {
        Db::Sqlite => url_of(db, dir.path(), ""),
        Db::Postgres => match fresh_postgres_database().await {
            Some(url) => url,
            None => return,
        },
    };
    let first = connect(&url, &procedure).await;
    let second = connect(&url, &procedure).await;
    const BY_EMAIL: usize = 60;
    const BY_POST: usize = 30;
    let t0 = ts(support::START);
    record(&first, "EMAIL", BY_EMAIL, true, t0).await;
    record(&first, "POST", BY_POST, false, t0).await;
    let clock = ManualClock::new(adr_point_passed(t0));
    let fired = redress::jobs::scheduler::fire_all_due(&first, &clock).await;
    assert_eq!(fired, BY_EMAIL + BY_POST);

    let received = dir.path().join("received");
    let sink = Sink::start(&received).await;
    // Two nodes, each sending four at a time in batches of five, each with a print queue of
    // its own: a letter sent by both would be in both.
    let node = |store: &Store, name: &str| {
        Mailer::new(
            store.clone(),
            MailConfig {
                smtp_url: Some(sink.url()),
                mail_dir: dir.path().join(name).join("mail"),
                print_dir: dir.path().join(name).join("print"),
                files_dir: dir.path().join(name).join("files"),
                batch: 5,
                workers: 4,
                send_at_start: false,
                ..MailConfig::default()
            },
        )
        .expect("a mailer")
    };
    let (a, b) = (node(&first, "a"), node(&second, "b"));
    let (sent_a, sent_b) = tokio::join!(
        redress::jobs::sender::send_due(&a, &clock, None),
        redress::jobs::sender::send_due(&b, &clock, None),
    );
    assert_eq!(sent_a + sent_b, BY_EMAIL + BY_POST, "each letter went once");

    let arrived = message_ids(&received);
    assert_eq!(arrived.len(), BY_EMAIL, "{arrived:?}");
    assert!(
        arrived.values().all(|n| *n == 1),
        "an email arrived twice: {arrived:?}"
    );
    let mut printed: Vec<String> = ["a", "b"]
        .iter()
        .flat_map(|name| files(&dir.path().join(name).join("print")))
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    assert_eq!(printed.len(), BY_POST, "{printed:?}");
    printed.sort();
    printed.dedup();
    assert_eq!(printed.len(), BY_POST, "a letter was printed by both nodes");
    let unsent: Vec<i64> = sqlx::query("SELECT attempts FROM outbox WHERE sent_at IS NULL")
        .fetch_all(first.pool())
        .await
        .expect("read the outbox")
        .iter()
        .map(|row| row.try_get("attempts").expect("attempts"))
        .collect();
    assert!(unsent.is_empty(), "letters not sent: {unsent:?}");
    let attempts: Vec<i64> = sqlx::query("SELECT attempts FROM outbox")
        .fetch_all(first.pool())
        .await
        .expect("read the outbox")
        .iter()
        .map(|row| row.try_get("attempts").expect("attempts"))
        .collect();
    assert!(
        attempts.iter().all(|a| *a == 1),
        "each claimed once: {attempts:?}"
    );
    first.close().await;
    second.close().await;
}
