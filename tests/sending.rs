//! Sending the outbox: the file transport, the print queue, and email through a real SMTP
//! server (aiosmtpd, run from tests/support/smtp_sink.py; `scripts/test.sh` installs it) with
//! `redress serve` as a process: killed with SIGKILL in the middle of sending and restarted,
//! every letter arrives and none twice (counted by Message-ID); with the mail server down,
//! letters are retried with backoff and go once it is up.
//!
//! Without python3 and aiosmtpd the SMTP tests say they skipped, except under CI, where that is
//! a failure.
#[macro_use]
mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redress::clock::Clock;
use redress::store::Store;
use redress_core::{Procedure, Role};
use serde_json::{Value, json};
use support::api::{get_json, post_json};
use support::process::{Server, create_token, free_port};
use support::{Db, fresh_database, in_ci, spawn_app};

both_backends! {
    the_file_transport_writes_each_email_as_an_eml_file =>
        sqlite_the_file_transport_writes_each_email_as_an_eml_file,
        postgres_the_file_transport_writes_each_email_as_an_eml_file;
    two_senders_never_hold_the_same_letter_and_a_lost_lease_is_not_sent =>
        sqlite_two_senders_never_hold_the_same_letter_and_a_lost_lease_is_not_sent,
        postgres_two_senders_never_hold_the_same_letter_and_a_lost_lease_is_not_sent;
    the_print_queue_gets_pdfs_and_a_manifest_and_letters_are_marked_printed =>
        sqlite_the_print_queue_gets_pdfs_and_a_manifest_and_letters_are_marked_printed,
        postgres_the_print_queue_gets_pdfs_and_a_manifest_and_letters_are_marked_printed;
}

/// One process test at a time: they start servers and measure time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The files in a folder (not the temporary ones being written), by name.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| !n.starts_with('.'))
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// A header of a raw message (the first, unfolded).
fn header(message: &str, name: &str) -> Option<String> {
    let head = message.split("\r\n\r\n").next().unwrap_or(message);
    let mut value: Option<String> = None;
    for line in head.split("\r\n") {
        match &mut value {
            Some(v) if line.starts_with([' ', '\t']) => v.push_str(line.trim_start()),
            Some(_) => break,
            None => {
                if let Some((key, rest)) = line.split_once(':')
                    && key.eq_ignore_ascii_case(name)
                {
                    value = Some(rest.trim().to_owned());
                }
            }
        }
    }
    value
}

/// Message-IDs of the messages in a folder, each with how often it arrived.
fn message_ids(dir: &Path) -> BTreeMap<String, usize> {
    let mut seen = BTreeMap::new();
    for path in files(dir) {
        let raw = std::fs::read(&path).expect("read a message");
        let text = String::from_utf8_lossy(&raw);
        let id = header(&text, "Message-ID")
            .unwrap_or_else(|| panic!("{} has no Message-ID", path.display()));
        *seen.entry(id).or_insert(0) += 1;
    }
    seen
}

/// What the outbox holds: each row's Message-ID (as the sender writes it), sent or not, and
/// its attempts.
async fn outbox(store: &Store) -> Vec<(String, bool, i64)> {
    use sqlx::Row;
    let rows = sqlx::query(
        "SELECT o.id, c.reference, o.sent_at, o.attempts FROM outbox o JOIN complaints c ON c.id = o.complaint_id ORDER BY o.id",
    )
    .fetch_all(store.pool())
    .await
    .expect("read the outbox");
    rows.iter()
        .map(|r| {
            let id: i64 = r.try_get("id").expect("id");
            let reference: String = r.try_get("reference").expect("reference");
            let sent: Option<i64> = r.try_get("sent_at").expect("sent_at");
            let attempts: i64 = r.try_get("attempts").expect("attempts");
            (
                format!("<letter-{id}.{reference}@localhost>"),
                sent.is_some(),
                attempts,
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The file transport and the print queue, in process
// ---------------------------------------------------------------------------------------------

async fn the_file_transport_writes_each_email_as_an_eml_file(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let token = app
        .token(
            Role::Handler,
            Some("customer_services"),
            Some("h@kinex.example"),
        )
        .await;
    let reference = app
        .create_complaint(
            &token,
            json!({
                "channel": "telephone",
                "customer": {"account": "KX-9", "name": "Ann Example", "email": "ann@example.com"},
                "summary": "Billed twice",
            }),
        )
        .await;
    let (status, _) = app
        .command(&token, &reference, "acknowledge", json!({}))
        .await;
    assert_eq!(status, 200);
    app.send_letters().await;
    let (_, listed) = app
        .get_json(
            Some(&token),
            &format!("/api/v1/complaints/{reference}/letters"),
        )
        .await;
    let letter = &listed["letters"][0];
    assert_eq!(letter["kind"], "acknowledgement");
    assert!(letter["sent_at"].is_string(), "{listed}");
    let id = letter["id"].as_i64().expect("an id");
    let written = files(&app.mail_dir);
    assert_eq!(written.len(), 1, "{written:?}");
    let name = written[0]
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("");
    assert_eq!(name, format!("letter-{id:08}-{reference}.eml"));
    let raw = String::from_utf8(std::fs::read(&written[0]).expect("read")).expect("ASCII");
    assert_eq!(
        header(&raw, "Message-ID").as_deref(),
        Some(format!("<letter-{id}.{reference}@localhost>").as_str())
    );
    assert_eq!(
        header(&raw, "To").as_deref(),
        Some("\"Ann Example\" <ann@example.com>")
    );
    assert_eq!(
        header(&raw, "From").as_deref(),
        Some("\"kinex complaints\" <complaints@localhost>")
    );
    let subject = header(&raw, "Subject").expect("a subject");
    assert!(subject.contains(&reference), "{subject}");
    for part in [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "application/pdf",
    ] {
        assert!(raw.contains(part), "{part} not in the message");
    }
    // Sent once: sending again finds nothing due and writes nothing more.
    assert_eq!(app.send_letters().await, 0);
    assert_eq!(files(&app.mail_dir).len(), 1);

    // A customer's sign-in link goes by email too.
    let token_link = app
        .store
        .create_customer_link(
            "ann@example.com",
            "http://portal.test/link/",
            app.clock.now(),
        )
        .await
        .expect("a link")
        .expect("the customer has complaints");
    app.send_letters().await;
    let written = files(&app.mail_dir);
    assert_eq!(written.len(), 2, "{written:?}");
    let raw = String::from_utf8(std::fs::read(&written[1]).expect("read")).expect("ASCII");
    assert_eq!(header(&raw, "To").as_deref(), Some("ann@example.com"));
    assert!(
        header(&raw, "Message-ID")
            .is_some_and(|m| m.ends_with(&format!(".{reference}@localhost>")))
    );
    let unfolded = raw.replace("=\r\n", "");
    assert!(
        unfolded.contains(&format!("http://portal.test/link/{token_link}")),
        "the link is not in the email"
    );
    app.stop().await;
}

async fn the_print_queue_gets_pdfs_and_a_manifest_and_letters_are_marked_printed(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let handler = app
        .token(
            Role::Handler,
            Some("customer_services"),
            Some("h@kinex.example"),
        )
        .await;
    let compliance = app
        .token(Role::Compliance, None, Some("c@kinex.example"))
        .await;
    let administrator = app
        .token(Role::Administrator, None, Some("a@kinex.example"))
        .await;
    let body = json!({
        "channel": "letter",
        "customer": {"account": "KX-7", "name": "Bob Example",
                     "address": ["2 Sample Road", "Leeds"], "postcode": "LS1 1AA"},
        "summary": "Engineer did not come",
    });
    let reference = app.create_complaint(&handler, body).await;
    let (status, _) = app
        .command(&handler, &reference, "acknowledge", json!({}))
        .await;
    assert_eq!(status, 200);
    let (_, listed) = app
        .get_json(
            Some(&handler),
            &format!("/api/v1/complaints/{reference}/letters"),
        )
        .await;
    let id = listed["letters"][0]["id"].as_i64().expect("an id");
    assert_eq!(listed["letters"][0]["channel"], "post");
    let mark = |token: String| {
        let client = app.client.clone();
        let url = app.url(&format!("/api/v1/print-queue/{id}/printed"));
        async move { post_json(&client, &url, &token, json!({})).await }
    };
    // Not produced yet: not in the print queue.
    assert!(listed["letters"][0]["sent_at"].is_null());
    let (status, body) = mark(handler.clone()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("not_yet")),
        "{body}"
    );
    app.send_letters().await;
    redress::jobs::sender::refresh_manifest(&app.mailer, &app.clock, None).await;

    // The folder: the PDF and a manifest listing it.
    let pdfs: Vec<PathBuf> = files(&app.print_dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "pdf"))
        .collect();
    let expected = format!("letter-{id:08}-{reference}-acknowledgement.pdf");
    assert_eq!(
        pdfs.iter()
            .filter_map(|p| p.file_name().and_then(|n| n.to_str()))
            .collect::<Vec<_>>(),
        [expected.as_str()]
    );
    let text = Command::new("pdftotext")
        .arg(&pdfs[0])
        .arg("-")
        .output()
        .expect("pdftotext");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains(&reference) && text.contains("Bob Example") && text.contains("LS1 1AA"),
        "{text}"
    );
    let manifest: Value = serde_json::from_slice(
        &std::fs::read(app.print_dir.join("manifest.json")).expect("a manifest"),
    )
    .expect("JSON");
    let entries = manifest["letters"].as_array().expect("letters");
    assert_eq!(entries.len(), 1, "{manifest}");
    assert_eq!(entries[0]["id"], id);
    assert_eq!(entries[0]["file"], expected.as_str());
    assert_eq!(entries[0]["kind"], "acknowledgement");
    assert_eq!(entries[0]["reference"], reference.as_str());
    let (status, queue) = app.get_json(Some(&handler), "/api/v1/print-queue").await;
    assert_eq!(status, 200);
    assert_eq!(queue["letters"], manifest["letters"]);

    // Marking it printed: not for compliance or administrators; once, and again is the same.
    assert_eq!(mark(compliance.clone()).await.0, 403);
    assert_eq!(mark(administrator.clone()).await.0, 403);
    let (status, first) = mark(handler.clone()).await;
    assert_eq!(status, 200, "{first}");
    assert!(first["printed_at"].is_string(), "{first}");
    assert_eq!(first["printed_by"], "h@kinex.example");
    app.clock
        .set(app.clock.now() + jiff::SignedDuration::from_mins(5));
    let (status, again) = mark(handler.clone()).await;
    assert_eq!((status, &again["printed_at"]), (200, &first["printed_at"]));
    let (_, listed) = app
        .get_json(
            Some(&handler),
            &format!("/api/v1/complaints/{reference}/letters"),
        )
        .await;
    assert_eq!(listed["letters"][0]["printed_at"], first["printed_at"]);
    let (_, queue) = app.get_json(Some(&handler), "/api/v1/print-queue").await;
    assert_eq!(queue["letters"], json!([]));
    redress::jobs::sender::refresh_manifest(&app.mailer, &app.clock, None).await;
    let manifest: Value = serde_json::from_slice(
        &std::fs::read(app.print_dir.join("manifest.json")).expect("a manifest"),
    )
    .expect("JSON");
    assert_eq!(manifest["letters"], json!([]));
    // No such post letter.
    for path in [
        "/api/v1/print-queue/999999/printed",
        "/api/v1/print-queue/x/printed",
    ] {
        let (status, body) = app.post_json(&handler, path, json!({})).await;
        assert_eq!(status, 404, "{path}: {body}");
    }
    app.stop().await;
}

async fn two_senders_never_hold_the_same_letter_and_a_lost_lease_is_not_sent(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let token = app
        .token(
            Role::Handler,
            Some("customer_services"),
            Some("h@kinex.example"),
        )
        .await;
    let received = (app.clock.now() - jiff::SignedDuration::from_hours(24 * 60)).to_string();
    for i in 0..30 {
        let body = json!({
            "channel": "letter",
            "customer": {"account": format!("KX-{i}"), "name": "Ann Example",
                         "email": "ann@example.com"},
            "summary": "Entered late",
            "received_at": received,
        });
        let (status, body) = app.post_json(&token, "/api/v1/complaints", body).await;
        assert_eq!(status, 201, "{body}");
    }
    // Two nodes claim at once: on PostgreSQL each skips what the other holds; SQLite has one
    // writer. Between them they hold every letter, none twice.
    let lease = Duration::from_secs(60);
    let now = app.clock.now();
    let (a, b) = tokio::join!(
        app.store.claim_letters(now, 20, lease, "node-a"),
        app.store.claim_letters(now, 20, lease, "node-b"),
    );
    let (a, b) = (a.expect("node a claims"), b.expect("node b claims"));
    let mut held: Vec<i64> = a.iter().chain(b.iter()).map(|i| i.id).collect();
    held.sort_unstable();
    let before = held.len();
    held.dedup();
    assert_eq!(held.len(), before, "a letter was claimed twice");
    assert_eq!(held.len(), 30);
    // While the leases hold, nothing more is due.
    assert!(
        app.store
            .claim_letters(now, 20, lease, "node-c")
            .await
            .expect("claim")
            .is_empty()
    );
    // Node a's lease runs out and node c takes its letters: a may no longer send them.
    let later = now + jiff::SignedDuration::from_secs(61);
    let taken = app
        .store
        .claim_letters(later, 50, lease, "node-c")
        .await
        .expect("claim");
    assert_eq!(taken.len(), 30, "every lease ran out");
    let first = &a[0];
    assert!(
        !app.store
            .renew_lease(first.id, first.attempts, later, lease)
            .await
            .expect("renew")
    );
    let retaken = taken.iter().find(|i| i.id == first.id).expect("retaken");
    assert_eq!(retaken.attempts, first.attempts + 1);
    assert!(
        app.store
            .renew_lease(retaken.id, retaken.attempts, later, lease)
            .await
            .expect("renew")
    );
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// A real SMTP server, and `redress serve` as a process
// ---------------------------------------------------------------------------------------------

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

/// The SMTP sink: aiosmtpd saving each message it accepts in `dir`.
struct Sink {
    child: Child,
}

impl Sink {
    async fn start(port: u16, dir: &Path, hold: Option<(usize, &Path)>) -> Sink {
        Sink::start_with(port, dir, hold, &[]).await
    }

    async fn start_with(
        port: u16,
        dir: &Path,
        hold: Option<(usize, &Path)>,
        extra: &[&str],
    ) -> Sink {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_sink.py");
        let mut command = Command::new("python3");
        command
            .arg(script)
            .args(["--port", &port.to_string()])
            .arg("--dir")
            .arg(dir)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some((at, file)) = hold {
            command
                .args(["--hold-at", &at.to_string()])
                .arg("--hold-file")
                .arg(file);
        }
        let child = command.spawn().expect("start the SMTP sink");
        let deadline = Instant::now() + Duration::from_secs(20);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "the SMTP sink did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Sink { child }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `redress serve` as a process sending through the SMTP sink on `smtp_port` (every 50 ms),
/// with its log in the default text format, as an operator reads it.
fn serve(name: &str, database: &str, dir: &Path, smtp_port: u16, extra: &[&str]) -> Server {
    Server::start_with_text_log(name, database, dir, |command| {
        command
            .args(["--smtp-url", &format!("smtp://127.0.0.1:{smtp_port}")])
            .arg("--mail-dir")
            .arg(dir.join("mail"))
            .arg("--print-dir")
            .arg(dir.join("print"))
            .args(["--mail-interval-ms", "50"])
            .args(extra);
    })
}

/// A customer services handler's token, made with `redress token create`.
fn handler_token(database: &str) -> String {
    create_token(
        database,
        "handler",
        Some("customer_services"),
        "sending-test",
    )
}

/// Records `n` complaints received 60 days ago: each gets its ADR notice at once, by email.
async fn queue_adr_notices(client: &reqwest::Client, server: &Server, token: &str, n: usize) {
    let received = (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * 60)).to_string();
    for i in 0..n {
        let (status, body) = post_json(
            client,
            &server.url("/api/v1/complaints"),
            token,
            json!({
                "channel": "letter",
                "customer": {"account": format!("KX-{i:05}"), "name": format!("Customer {i}"),
                             "email": format!("customer{i}@example.com")},
                "summary": "A letter entered late",
                "received_at": received,
            }),
        )
        .await;
        assert_eq!(status, 201, "{body}");
    }
}

async fn wait_until<F, Fut>(what: &str, limit: Duration, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn kill_9_while_sending_loses_no_letter_and_sends_none_twice(db: Db) {
    let _serial = SERIAL.lock().await;
    if !aiosmtpd_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let Some(database) = fresh_database(db, dir.path()).await else {
        return;
    };
    const LETTERS: usize = 40;
    const HOLD_AT: usize = 15;
    let received = dir.path().join("received");
    let held = dir.path().join("held");
    let smtp_port = free_port();
    let _sink = Sink::start(smtp_port, &received, Some((HOLD_AT, &held))).await;
    let client = reqwest::Client::new();
    // A short lease, so the restarted node takes over the dead one's letters within the test;
    // one letter at a time, so that every letter before the one held is recorded sent (the
    // same with several at once: `bulk_jobs.rs`).
    let args = ["--mail-lease-secs", "2", "--mail-workers", "1"];
    let mut first = serve("first", &database, dir.path(), smtp_port, &args);
    first.wait_ready(&client).await;
    let token = handler_token(&database);
    queue_adr_notices(&client, &first, &token, LETTERS).await;
    // The sink holds its reply to one message: the node is in the middle of sending it, with
    // more of its batch claimed and the rest of the letters queued.
    wait_until("a message is in flight", Duration::from_secs(60), || {
        let held = held.clone();
        async move { held.exists() }
    })
    .await;
    first.kill_9().await;
    assert_eq!(
        files(&received).len(),
        HOLD_AT - 1,
        "the messages accepted before the kill"
    );
    let store = Store::connect(&database, Arc::new(Procedure::default_procedure()))
        .await
        .expect("open the database");
    let before = outbox(&store).await;
    assert_eq!(before.len(), LETTERS);
    // The sender sends one letter at a time: all before the one in flight are recorded sent.
    let unsent = before.iter().filter(|(_, sent, _)| !sent).count();
    assert_eq!(unsent, LETTERS - (HOLD_AT - 1), "unsent at the kill");

    let mut second = serve("second", &database, dir.path(), smtp_port, &args);
    second.wait_ready(&client).await;
    wait_until("every letter is sent", Duration::from_secs(120), || {
        let store = store.clone();
        async move { outbox(&store).await.iter().all(|(_, sent, _)| *sent) }
    })
    .await;
    second.stop().await;

    let arrived = message_ids(&received);
    let rows = outbox(&store).await;
    for (message_id, sent, _) in &rows {
        assert!(sent, "{message_id} has no sent_at");
        assert_eq!(
            arrived.get(message_id).copied().unwrap_or(0),
            1,
            "{message_id} arrived {:?} times",
            arrived.get(message_id)
        );
    }
    assert_eq!(
        arrived.len(),
        rows.len(),
        "messages that are no letter: {arrived:?}"
    );
    assert!(
        rows.iter().any(|(_, _, attempts)| *attempts >= 2),
        "the letter in flight was tried again"
    );
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_kill_9_while_sending_loses_no_letter_and_sends_none_twice() {
    kill_9_while_sending_loses_no_letter_and_sends_none_twice(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_kill_9_while_sending_loses_no_letter_and_sends_none_twice() {
    kill_9_while_sending_loses_no_letter_and_sends_none_twice(Db::Postgres).await;
}

async fn letters_wait_with_backoff_while_the_mail_server_is_down(db: Db) {
    let _serial = SERIAL.lock().await;
    if !aiosmtpd_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let Some(database) = fresh_database(db, dir.path()).await else {
        return;
    };
    let received = dir.path().join("received");
    // Nothing listens here yet.
    let smtp_port = free_port();
    let client = reqwest::Client::new();
    let args = ["--mail-retry-ms", "200", "--mail-retry-max-secs", "2"];
    let mut server = serve("down", &database, dir.path(), smtp_port, &args);
    server.wait_ready(&client).await;
    let token = handler_token(&database);
    queue_adr_notices(&client, &server, &token, 3).await;
    let store = Store::connect(&database, Arc::new(Procedure::default_procedure()))
        .await
        .expect("open the database");
    // Tried, failed, waiting longer each time: 0.2 s, 0.4 s, 0.8 s, 1.6 s, then 2 s.
    wait_until(
        "every letter has failed twice",
        Duration::from_secs(30),
        || {
            let store = store.clone();
            async move { outbox(&store).await.iter().all(|(_, _, a)| *a >= 2) }
        },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let waiting = outbox(&store).await;
    for (message_id, sent, attempts) in &waiting {
        assert!(!sent, "{message_id} sent with no mail server");
        // Every 50 ms without backoff would be some 60 attempts by now.
        assert!(
            (3..=10).contains(attempts),
            "{message_id}: {attempts} attempts in about 4 s"
        );
    }
    let (_, listed) = get_json(
        &client,
        &server.url("/api/v1/complaints?limit=1"),
        Some(&token),
    )
    .await;
    let reference = listed["items"][0]["reference"]
        .as_str()
        .expect("a complaint")
        .to_owned();
    let (_, letters) = get_json(
        &client,
        &server.url(&format!("/api/v1/complaints/{reference}/letters")),
        Some(&token),
    )
    .await;
    let letter = &letters["letters"][0];
    assert!(letter["sent_at"].is_null());
    assert!(
        letter["attempts"].as_i64().is_some_and(|a| a >= 3),
        "{letter}"
    );
    assert!(
        letter["last_error"].as_str().is_some_and(|e| !e.is_empty()),
        "{letter}"
    );

    // The mail server comes up: everything goes, once.
    let _sink = Sink::start(smtp_port, &received, None).await;
    wait_until("every letter is sent", Duration::from_secs(30), || {
        let store = store.clone();
        async move { outbox(&store).await.iter().all(|(_, sent, _)| *sent) }
    })
    .await;
    let arrived = message_ids(&received);
    assert_eq!(arrived.len(), 3, "{arrived:?}");
    assert!(arrived.values().all(|n| *n == 1), "{arrived:?}");
    let (_, letters) = get_json(
        &client,
        &server.url(&format!("/api/v1/complaints/{reference}/letters")),
        Some(&token),
    )
    .await;
    assert!(
        letters["letters"][0].get("last_error").is_none(),
        "{letters}"
    );
    server.stop().await;
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_letters_wait_with_backoff_while_the_mail_server_is_down() {
    letters_wait_with_backoff_while_the_mail_server_is_down(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_letters_wait_with_backoff_while_the_mail_server_is_down() {
    letters_wait_with_backoff_while_the_mail_server_is_down(Db::Postgres).await;
}

/// A complaint's personal details go through intake, a refused intake and letters that the
/// mail server refuses (its reply quotes the recipient, as real servers' do) and that are
/// retried with warnings; none of it may reach the log, whose lines carry methods, route
/// templates, ids and plain-word errors only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_personal_data_reaches_the_log_when_letters_are_refused() {
    if !aiosmtpd_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let smtp_port = free_port();
    let _sink = Sink::start_with(
        smtp_port,
        &dir.path().join("sink"),
        None,
        &["--refuse-recipients"],
    )
    .await;
    let database = dir.path().join("redress.db").display().to_string();
    let token = handler_token(&database);
    let client = reqwest::Client::new();
    let mut server = serve(
        "logs",
        &database,
        dir.path(),
        smtp_port,
        &["--mail-retry-ms", "50"],
    );
    server.wait_ready(&client).await;

    let personal = [
        "Zebedee Quuxley",
        "zebedee.quuxley@example.com",
        "PRIV-778899",
        "M22 4SY",
        "07700 900123",
        "Drops whenever it rains on Tuesdays",
        "evil@example.net",
    ];
    let body = json!({
        "channel": "telephone",
        "customer": {"account": personal[2], "name": personal[0], "email": personal[1],
                     "postcode": personal[3], "telephone": personal[4],
                     "preferred_channel": "email"},
        "summary": personal[5],
    });
    let (status, created) = post_json(
        &client,
        &server.url("/api/v1/complaints"),
        &token,
        body.clone(),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let reference = created["reference"].as_str().expect("reference").to_owned();
    let (status, _) = post_json(
        &client,
        &server.url(&format!(
            "/api/v1/complaints/{reference}/commands/acknowledge"
        )),
        &token,
        json!({}),
    )
    .await;
    assert_eq!(status, 200);
    let mut listed = body.clone();
    listed["customer"]["email"] = Value::String(format!("{},{}", personal[1], personal[6]));
    let (status, _) = post_json(&client, &server.url("/api/v1/complaints"), &token, listed).await;
    assert_eq!(status, 422);

    // Wait until the sender has been refused and has tried again.
    wait_until("two refused attempts", Duration::from_secs(60), || {
        let log = server.log_text();
        async move { log.matches("letter not sent; will retry").count() >= 2 }
    })
    .await;
    server.stop().await;
    let log = server.log_text();
    for value in personal {
        assert!(
            !log.to_lowercase().contains(&value.to_lowercase()),
            "the log carries personal data ({value}):\n{log}"
        );
    }
    assert!(log.contains("the mail server refused it (550)"), "{log}");
}
