//! The real `redress` binary as separate processes: several nodes on one PostgreSQL database
//! firing the same deadlines, a server killed with SIGKILL in the middle of intake, and a
//! server signing the ledger with a key it never logs.
//!
//! Every server runs as a child process (`support::process`) with its log (JSON lines) in a
//! temporary file. The tests in this file run one at a time (they measure and load the same
//! machine).

mod support;

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use serde_json::Value;
use sqlx::Connection;
use support::process::{Server, assert_audit_intact, client, handler_token, redress, text};
use support::{fresh_postgres_database, postgres_admin_url};

/// One test in this file at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[test]
fn tokens_are_listed_and_revoked_from_the_command_line() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let database = dir.path().join("tokens.db").display().to_string();
    let token = handler_token(&database);
    let list = || {
        let out = redress(&["token", "list", "--database", &database]);
        assert!(out.status.success(), "token list: {}", text(&out.stderr));
        text(&out.stdout)
    };
    let listed = list();
    assert!(
        listed.starts_with("1\thandler\tcustomer_services\tprocess-test\t-\tcreated "),
        "{listed}"
    );
    assert!(listed.trim_end().ends_with("active"), "{listed}");
    assert!(!listed.contains(&token), "the token itself is never shown");
    let out = redress(&["token", "revoke", "--database", &database, "1"]);
    assert!(out.status.success(), "token revoke: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "token 1 is revoked");
    assert!(list().contains("\trevoked "), "{}", list());
    let again = redress(&["token", "revoke", "--database", &database, "1"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(text(&again.stderr).contains("no active token has the id 1"));
}

/// Drops a test database once a test has passed (a failed test leaves it for inspection).
async fn drop_postgres_database(url: &str) {
    let Some((_, name)) = url.rsplit_once('/') else {
        return;
    };
    if let Ok(mut conn) = sqlx::postgres::PgConnection::connect(&postgres_admin_url()).await {
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&mut conn)
        .await;
    }
}

// ---------------------------------------------------------------------------------------------
// Two nodes, one PostgreSQL database, 10,000 deadlines.

const COMPLAINTS: usize = 10_000;
const CLIENTS: usize = 32;
/// The first node's clock: no complaint's 8 weeks have passed yet.
const T0: &str = "2026-03-02T09:00:00Z";
/// The two nodes' clock: every complaint's 8 weeks have passed.
const T1: &str = "2026-03-07T12:00:00Z";

/// When complaint `i` was received: 6 to 10 January 2026 (GMT, so the London date is the same),
/// between 08:00 and 18:00. Its 8 weeks have passed at 00:00 on 3 to 7 March: after T0, not
/// after T1.
fn received_at(i: usize) -> String {
    let day = 6 + i % 5;
    let seconds = (i * 7919) % 36_000;
    format!(
        "2026-01-{day:02}T{:02}:{:02}:{:02}Z",
        8 + seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

async fn count(pool: &sqlx::PgPool, sql: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// `complaints` (the sum of) and the number of "deadlines fired" lines in a node's log.
fn fired_by(server: &Server) -> (u64, usize) {
    let lines = server.log_lines("deadlines fired");
    let complaints = lines
        .iter()
        .filter_map(|l| l["fields"]["complaints"].as_u64())
        .sum();
    (complaints, lines.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_on_one_postgres_fire_ten_thousand_deadlines_exactly_once() {
    let _serial = SERIAL.lock().await;
    let Some(database) = fresh_postgres_database().await else {
        return;
    };
    let logs = tempfile::tempdir().expect("a temporary directory");
    let t0: Timestamp = T0.parse().expect("T0");
    let t1: Timestamp = T1.parse().expect("T1");
    let token = handler_token(&database);
    let client = client();

    // One node at T0 records the complaints.
    let started = Instant::now();
    let mut intake = Server::start("intake", &database, logs.path(), Some(T0), None);
    intake.wait_ready(&client).await;
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..CLIENTS {
        let (client, next, token, url) = (
            client.clone(),
            next.clone(),
            token.clone(),
            intake.url("/api/v1/complaints"),
        );
        workers.push(tokio::spawn(async move {
            let mut failures = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= COMPLAINTS {
                    return failures;
                }
                let mut body = support::complaint_body(&format!("TN-{i:05}"), "Ann Example");
                body["received_at"] = Value::String(received_at(i));
                match client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await
                {
                    Ok(r) if r.status() == 201 => {}
                    Ok(r) => failures.push(format!(
                        "{i}: {} {}",
                        r.status(),
                        r.text().await.unwrap_or_default()
                    )),
                    Err(e) => failures.push(format!("{i}: {e}")),
                }
            }
        }));
    }
    let mut failures = Vec::new();
    for worker in workers {
        failures.extend(worker.await.expect("an intake client"));
    }
    let intake_time = started.elapsed();
    assert!(
        failures.is_empty(),
        "{} of {COMPLAINTS} complaints were not recorded, e.g. {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    intake.stop().await;
    let (intake_fired, _) = fired_by(&intake);
    eprintln!(
        "intake: {COMPLAINTS} complaints with {CLIENTS} clients in {intake_time:.1?} ({:.0}/s); deadlines fired at T0: {intake_fired}",
        COMPLAINTS as f64 / intake_time.as_secs_f64()
    );
    assert_eq!(
        intake_fired,
        0,
        "a deadline fired at T0:\n{}",
        intake.log_text()
    );

    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect(&database)
        .await
        .expect("connect to the test database");
    let t0_micros = t0.as_microsecond();
    let t1_micros = t1.as_microsecond();
    assert_eq!(
        count(&pool, "SELECT COUNT(*) FROM complaints").await,
        COMPLAINTS as i64
    );
    assert_eq!(
        count(
            &pool,
            "SELECT COUNT(*) FROM deadlines WHERE kind = 'adr' AND fired_at IS NULL"
        )
        .await,
        COMPLAINTS as i64,
        "every complaint should have one unfired ADR deadline"
    );
    assert_eq!(
        count(
            &pool,
            &format!(
                "SELECT COUNT(*) FROM deadlines WHERE due_at <= {t0_micros} OR due_at > {t1_micros}"
            )
        )
        .await,
        0,
        "every deadline should fall due after T0 and no later than T1"
    );
    assert_eq!(
        count(
            &pool,
            "SELECT COUNT(*) FROM events WHERE kind <> 'received'"
        )
        .await,
        0
    );

    // Two nodes at T1 fire them.
    let started = Instant::now();
    let mut a = Server::start("node-a", &database, logs.path(), Some(T1), Some(50));
    let mut b = Server::start("node-b", &database, logs.path(), Some(T1), Some(50));
    a.wait_ready(&client).await;
    b.wait_ready(&client).await;
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let unfired: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM deadlines WHERE fired_at IS NULL AND due_at <= $1",
        )
        .bind(t1_micros)
        .fetch_one(&pool)
        .await
        .expect("count unfired deadlines");
        if unfired == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{unfired} deadlines still unfired after 180 s\nnode-a:\n{}\nnode-b:\n{}",
            a.problems().join("\n"),
            b.problems().join("\n")
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let firing_time = started.elapsed();
    a.stop().await;
    b.stop().await;
    let (a_fired, a_ticks) = fired_by(&a);
    let (b_fired, b_ticks) = fired_by(&b);
    eprintln!(
        "firing: two nodes fired every deadline in {firing_time:.1?} (from start): node-a {a_fired} complaints in {a_ticks} \"deadlines fired\" lines, node-b {b_fired} in {b_ticks}"
    );
    for server in [&a, &b] {
        let problems = server.problems();
        if !problems.is_empty() {
            eprintln!(
                "{} logged {} warnings/errors, e.g. {}",
                server.name,
                problems.len(),
                problems[0]
            );
        }
        // A failed tick (e.g. two nodes writing the same complaint's events) is rolled back and
        // retried, so the record could still come out right: it is a failure all the same.
        let errors: Vec<&String> = problems
            .iter()
            .filter(|line| line.contains("\"level\":\"ERROR\""))
            .collect();
        assert!(
            errors.is_empty(),
            "{} logged {} errors, e.g. {}",
            server.name,
            errors.len(),
            errors[0]
        );
    }

    // Exactly once, by the record.
    let n = COMPLAINTS as i64;
    for kind in ["adr_notice_sent", "adr_eligible"] {
        assert_eq!(
            count(
                &pool,
                &format!("SELECT COUNT(*) FROM events WHERE kind = '{kind}'")
            )
            .await,
            n,
            "{kind} events"
        );
        assert_eq!(
            count(
                &pool,
                &format!(
                    "SELECT COUNT(*) FROM (SELECT complaint_id FROM events WHERE kind = '{kind}' \
                     GROUP BY complaint_id HAVING COUNT(*) > 1) AS twice"
                )
            )
            .await,
            0,
            "complaints with more than one {kind} event"
        );
        assert_eq!(
            count(
                &pool,
                &format!("SELECT COUNT(DISTINCT complaint_id) FROM events WHERE kind = '{kind}'")
            )
            .await,
            n,
            "complaints with a {kind} event"
        );
        assert_eq!(
            count(
                &pool,
                &format!("SELECT COUNT(*) FROM events WHERE kind = '{kind}' AND occurred_at < {t1_micros}")
            )
            .await,
            0,
            "{kind} events stamped before T1"
        );
    }
    assert_eq!(
        // Besides the record of each letter the nodes sent meanwhile (`letter_sent`).
        count(
            &pool,
            "SELECT COUNT(*) FROM events WHERE kind <> 'letter_sent'"
        )
        .await,
        3 * n,
        "all events"
    );
    assert_eq!(
        count(
            &pool,
            "SELECT COUNT(*) FROM deadlines WHERE kind = 'adr' AND fired_at IS NOT NULL"
        )
        .await,
        n,
        "fired ADR deadline rows"
    );
    assert_eq!(
        count(
            &pool,
            "SELECT COUNT(*) FROM deadlines WHERE kind = 'adr' AND fired_at IS NULL"
        )
        .await,
        0,
        "unfired ADR deadline rows"
    );
    assert_eq!(
        count(
            &pool,
            "SELECT COUNT(*) FROM outbox WHERE kind = 'adr_notice'"
        )
        .await,
        n,
        "ADR letters in the outbox"
    );
    assert_eq!(
        // Three events each, besides the records of letters the nodes sent meanwhile.
        count(&pool, "SELECT COUNT(*) FROM complaints WHERE adr_eligible = 1 AND next_due_at IS NULL \
             AND version - (SELECT COUNT(*) FROM events e WHERE e.complaint_id = complaints.id AND e.kind = 'letter_sent') = 3").await,
        n,
        "projections after firing"
    );
    let events = count(&pool, "SELECT COUNT(*) FROM events").await;
    pool.close().await;
    if a_fired + b_fired != COMPLAINTS as u64 {
        eprintln!(
            "note: the logs account for {} complaints fired",
            a_fired + b_fired
        );
    }
    let summary = assert_audit_intact(&database);
    assert!(
        summary.contains(&format!(
            "checked {COMPLAINTS} complaints and {events} events"
        )),
        "{summary}"
    );
    drop_postgres_database(&database).await;
}

// ---------------------------------------------------------------------------------------------
// SIGKILL in the middle of intake.

/// What the clients saw while the server was up and when it died.
#[derive(Default)]
struct Intake {
    /// Every complaint acknowledged with 201: reference and response body.
    acknowledged: Vec<(String, Value)>,
    /// Answers other than 201 (before the kill there should be none).
    other_statuses: Vec<String>,
    /// Requests that failed without an answer (in flight at the kill, or refused after it).
    transport_errors: usize,
}

async fn kill_9_during_concurrent_intake(database: &str, dir: &Path) {
    let token = handler_token(database);
    let client = client();
    let mut server = Server::start("victim", database, dir, None, None);
    server.wait_ready(&client).await;

    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for w in 0..CLIENTS {
        let (client, stop, token, url) = (
            client.clone(),
            stop.clone(),
            token.clone(),
            server.url("/api/v1/complaints"),
        );
        workers.push(tokio::spawn(async move {
            let mut seen = Intake::default();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let account = format!("KILL-{w:02}-{n:05}");
                let mut body = support::complaint_body(&account, &format!("Customer {w} {n}"));
                body["summary"] = Value::String(format!("Broadband drops every evening ({w}/{n})"));
                match client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await
                {
                    Ok(r) if r.status() == 201 => match r.json::<Value>().await {
                        Ok(created) => {
                            let reference =
                                created["reference"].as_str().unwrap_or_default().to_owned();
                            assert_eq!(created["customer"]["account"], account.as_str());
                            seen.acknowledged.push((reference, created));
                        }
                        // The status arrived but the body did not: not an acknowledgement.
                        Err(_) => seen.transport_errors += 1,
                    },
                    Ok(r) => seen.other_statuses.push(format!(
                        "{} {}",
                        r.status(),
                        r.text().await.unwrap_or_default()
                    )),
                    Err(_) => seen.transport_errors += 1,
                }
            }
            seen
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.signal("-KILL");
    stop.store(true, Ordering::Relaxed);
    let status = server.wait_exit(Duration::from_secs(10)).await;
    let mut seen = Intake::default();
    for worker in workers {
        let one = worker.await.expect("an intake client");
        seen.acknowledged.extend(one.acknowledged);
        seen.other_statuses.extend(one.other_statuses);
        seen.transport_errors += one.transport_errors;
    }
    eprintln!(
        "killed ({status}) after 1.5 s: {} complaints acknowledged with 201, {} requests failed without an answer, {} other answers",
        seen.acknowledged.len(),
        seen.transport_errors,
        seen.other_statuses.len()
    );
    assert!(
        seen.other_statuses.is_empty(),
        "the server answered something other than 201 under load, e.g. {:?}",
        &seen.other_statuses[..seen.other_statuses.len().min(5)]
    );
    assert!(
        !seen.acknowledged.is_empty(),
        "no complaint was acknowledged in 1.5 s:\n{}",
        server.log_text()
    );
    let references: HashSet<&str> = seen.acknowledged.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(
        references.len(),
        seen.acknowledged.len(),
        "a reference was given out twice"
    );

    // Restart on the same database: every acknowledged complaint is there, as acknowledged.
    let mut again = Server::start("restarted", database, dir, None, None);
    again.wait_ready(&client).await;
    let acknowledged = Arc::new(std::mem::take(&mut seen.acknowledged));
    let next = Arc::new(AtomicUsize::new(0));
    let mut readers = Vec::new();
    for _ in 0..8 {
        let (client, token, acknowledged, next, base) = (
            client.clone(),
            token.clone(),
            acknowledged.clone(),
            next.clone(),
            again.url("/api/v1/complaints/"),
        );
        readers.push(tokio::spawn(async move {
            let mut lost = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((reference, created)) = acknowledged.get(i) else {
                    return lost;
                };
                let response = client
                    .get(format!("{base}{reference}"))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .expect("GET a complaint");
                if response.status() != 200 {
                    lost.push(format!("{reference}: {}", response.status()));
                    continue;
                }
                let read: Value = response.json().await.expect("a complaint as JSON");
                for field in [
                    "reference",
                    "summary",
                    "customer",
                    "channel",
                    "stage",
                    "status",
                ] {
                    if read[field] != created[field] {
                        lost.push(format!(
                            "{reference}: {field} is {} but was acknowledged as {}",
                            read[field], created[field]
                        ));
                    }
                }
                if read != *created {
                    lost.push(format!(
                        "{reference}: reads back as {read}\nbut was acknowledged as {created}"
                    ));
                }
            }
        }));
    }
    let mut lost = Vec::new();
    for reader in readers {
        lost.extend(reader.await.expect("a reader"));
    }
    assert!(
        lost.is_empty(),
        "{} problems with acknowledged complaints after the restart, e.g.\n{}",
        lost.len(),
        lost[..lost.len().min(5)].join("\n")
    );
    again.stop().await;
    let summary = assert_audit_intact(database);
    let recorded: usize = summary
        .strip_prefix("checked ")
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unexpected audit summary: {summary}"));
    assert!(
        recorded >= acknowledged.len(),
        "{recorded} complaints recorded but {} acknowledged",
        acknowledged.len()
    );
    eprintln!(
        "after restart: all {} acknowledged complaints read back unchanged; {recorded} recorded in all",
        acknowledged.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_during_concurrent_intake_loses_no_acknowledged_complaint() {
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let database = dir.path().join("redress.db").display().to_string();
    kill_9_during_concurrent_intake(&database, dir.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_during_concurrent_intake_loses_no_acknowledged_complaint_postgres() {
    let _serial = SERIAL.lock().await;
    let Some(database) = fresh_postgres_database().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("a temporary directory");
    kill_9_during_concurrent_intake(&database, dir.path()).await;
    drop_postgres_database(&database).await;
}

// ---------------------------------------------------------------------------------------------
// The signing key: used by serve, never logged.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_signs_the_ledger_with_a_key_from_the_environment_and_never_logs_it() {
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let database = dir.path().join("signed.db").display().to_string();
    let created = redress(&["keys", "create"]);
    assert!(created.status.success(), "{}", text(&created.stderr));
    let secret = text(&created.stdout).trim().to_owned();
    let secret_part = secret
        .strip_prefix("redress-signing-key-ed25519:")
        .expect("a secret key")
        .to_owned();
    let notes = text(&created.stderr);
    let public = notes
        .split("--public-key): ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the public key")
        .to_owned();
    let token = handler_token(&database);

    let log_dir = dir.path().to_path_buf();
    let mut server = Server::start_with("signed", &database, dir.path(), |command| {
        command
            .arg("--mail-dir")
            .arg(log_dir.join("mail"))
            .arg("--print-dir")
            .arg(log_dir.join("print"))
            .env("REDRESS_SIGNING_KEY", &secret)
            .env("RUST_LOG", "debug");
    });
    let client = client();
    server.wait_ready(&client).await;
    let created = client
        .post(server.url("/api/v1/complaints"))
        .bearer_auth(&token)
        .json(&support::complaint_body("KX-SIGNED", "Ann Example"))
        .send()
        .await
        .expect("create");
    assert_eq!(created.status(), 201);
    // Stopping seals what was recorded since the last seal.
    server.stop().await;
    let log = server.log_text();
    assert!(!log.contains(&secret_part), "the log holds the secret key");
    assert!(
        !server.log_lines("ledger sealer started").is_empty(),
        "{log}"
    );

    let verified = redress(&[
        "audit",
        "verify",
        "--database",
        &database,
        "--public-key",
        &public,
    ]);
    let stdout = text(&verified.stdout);
    assert!(
        verified.status.success(),
        "{stdout}{}",
        text(&verified.stderr)
    );
    assert!(stdout.contains("the record is intact"), "{stdout}");
    assert!(
        stdout.contains("checked the signatures of 1 blocks"),
        "{stdout}"
    );
}
