//! Power loss: the real `redress serve` with its SQLite database, files folder, mail folder
//! and print queue on lossyfs, a filesystem that keeps writes in memory until they are synced
//! and drops the unsynced ones when the power is cut (its rules: `crates/lossyfs`).
//!
//! In rounds: 16 clients record complaints and run commands on some of them (acknowledge,
//! offer a resolution, record a letter received by post with its scan, ask for escalation)
//! while the sender writes their letters (emails as .eml files, post as PDFs in the print
//! queue); the server is killed with SIGKILL mid-stream and the power is cut; then `serve`
//! starts again on what reached the disk, and the checks:
//!
//! - every complaint answered 201 is there, with the content it was acknowledged with;
//! - every command answered 200 (201 for the letter by post) is in its complaint's events, and
//!   the scan it kept is in the files folder, byte for byte;
//! - every letter recorded as sent before the cut (the server logs "letter sent" once the
//!   record is committed) is still sent, and its file (.eml or PDF) is there, whole;
//! - no letter is recorded as sent twice, and no two .eml files carry one Message-ID;
//! - `redress audit verify` passes.
//!
//! With SQLite's `synchronous=FULL` nothing may be lost (the first round is intake alone, the
//! others everything). The second test runs intake rounds with
//! `REDRESS_SQLITE_SYNCHRONOUS=normal`, until a cut has taken back acknowledged complaints
//! (at most five rounds), and asserts the checks saw it: the test catches the fault it exists
//! for. Each round's figures (acknowledged, lost) are printed. Without /dev/fuse or root the
//! tests say they skipped, except under CI, where that is a failure.

mod support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use lossyfs::LossyFs;
use serde_json::{Value, json};
use support::process::{Server, assert_audit_intact, client, handler_token};

/// One test in this file at a time (each loads the whole machine).
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const CLIENTS: usize = 16;
/// How long the clients run before the kill.
const LOAD: Duration = Duration::from_millis(3000);
/// Every this many complaints, a client also runs the commands on the one it just recorded
/// (odd, so that these are by turns email complaints and post ones).
const COMMAND_EVERY: usize = 5;
/// Rounds with `synchronous=FULL`.
const FULL_ROUNDS: usize = 4;
/// With `synchronous=NORMAL`, rounds until a loss is seen, at most.
const NORMAL_ROUNDS: usize = 5;

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Synchronous {
    Full,
    Normal,
}

/// The disk: everything the server keeps is on the lossy filesystem; its logs are not.
struct Disk {
    /// Declared first so it is unmounted before its mount point is removed.
    fs: LossyFs,
    logs: tempfile::TempDir,
    _mount: tempfile::TempDir,
}

impl Disk {
    /// A fresh lossy filesystem; `None` (the test skips) where none can be mounted, except
    /// under CI.
    fn mount() -> Option<Disk> {
        let refuse = |why: String| {
            assert!(
                !in_ci(),
                "the power-loss test needs a FUSE filesystem under CI: {why}"
            );
            eprintln!("skipped: the power-loss test needs a FUSE filesystem ({why})");
        };
        if let Some(why) = lossyfs::unavailable() {
            refuse(why);
            return None;
        }
        let mount = tempfile::tempdir().expect("a temporary directory");
        let fs = match LossyFs::mount(mount.path()) {
            Ok(fs) => fs,
            Err(error) => {
                refuse(format!("mounting failed: {error}"));
                return None;
            }
        };
        Some(Disk {
            fs,
            logs: tempfile::tempdir().expect("a temporary directory"),
            _mount: mount,
        })
    }

    fn database(&self) -> String {
        self.fs.path().join("redress.db").display().to_string()
    }

    fn files(&self) -> PathBuf {
        self.fs.path().join("files")
    }

    fn mail(&self) -> PathBuf {
        self.fs.path().join("mail")
    }

    fn print(&self) -> PathBuf {
        self.fs.path().join("print")
    }

    fn serve(&self, name: &str, synchronous: Synchronous) -> Server {
        Server::start_with(name, &self.database(), self.logs.path(), |command| {
            command
                .arg("--files-dir")
                .arg(self.files())
                .arg("--mail-dir")
                .arg(self.mail())
                .arg("--print-dir")
                .arg(self.print())
                // Letters go as soon as they are due; a letter claimed by the killed server
                // is claimed again two seconds later.
                .args(["--mail-interval-ms", "20", "--mail-lease-secs", "2"]);
            if synchronous == Synchronous::Normal {
                command.env("REDRESS_SQLITE_SYNCHRONOUS", "normal");
            }
        })
    }
}

/// A command the server answered with success.
struct Done {
    reference: String,
    name: &'static str,
    /// The events of the answer, each with its `sequence`.
    events: Vec<Value>,
    /// The scan a letter received by post kept: its SHA-256 and bytes.
    scan: Option<(String, Vec<u8>)>,
}

/// What the clients of one round were told.
#[derive(Default)]
struct Seen {
    /// Every complaint answered 201: the round, its reference and the answer.
    complaints: Vec<(usize, String, Value)>,
    commands: Vec<Done>,
    /// Complaints the clients ran commands on (they may have letters).
    commanded: Vec<String>,
    /// Answers that were neither success nor missing (there should be none).
    other: Vec<String>,
    /// Requests that got no (whole) answer, by kind: in flight at the kill, or sent after it.
    unanswered: HashMap<&'static str, usize>,
}

impl Seen {
    fn extend(&mut self, other: Seen) {
        self.complaints.extend(other.complaints);
        self.commands.extend(other.commands);
        self.commanded.extend(other.commanded);
        self.other.extend(other.other);
        for (what, n) in other.unanswered {
            *self.unanswered.entry(what).or_default() += n;
        }
    }

    fn unanswered(&self) -> String {
        let mut kinds: Vec<_> = self.unanswered.iter().collect();
        kinds.sort();
        kinds
            .iter()
            .map(|(what, n)| format!("{what} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The body of an answer with the status wanted; anything else is counted.
    async fn answer(
        &mut self,
        sent: reqwest::Result<reqwest::Response>,
        want: u16,
        what: &'static str,
    ) -> Option<Value> {
        match sent {
            Ok(r) if r.status() == want => match r.json::<Value>().await {
                Ok(body) => Some(body),
                // The status arrived but the body did not: not an acknowledgement.
                Err(_) => {
                    *self.unanswered.entry(what).or_default() += 1;
                    None
                }
            },
            Ok(r) => {
                let status = r.status();
                let body = r.text().await.unwrap_or_default();
                self.other.push(format!("{what}: {status} {body}"));
                None
            }
            Err(_) => {
                *self.unanswered.entry(what).or_default() += 1;
                None
            }
        }
    }
}

fn new_complaint(round: usize, w: usize, n: usize) -> Value {
    let account = format!("PL-{round}-{w:02}-{n:05}");
    let summary = format!("Broadband drops every evening (round {round}, client {w}, {n})");
    if n.is_multiple_of(2) {
        // By telephone, with an email address: its letters go by email, and staff acknowledge it.
        json!({
            "channel": "telephone",
            "customer": {"account": account, "name": format!("Customer {w} {n}"),
                         "email": format!("customer-{round}-{w}-{n}@example.com")},
            "summary": summary,
            "category": "faults_service_provision"
        })
    } else {
        json!({
            "channel": "letter",
            "customer": {"account": account, "name": format!("Customer {w} {n}"),
                         "address": ["1 Sample Road", "Leeds"], "postcode": "LS1 1AA"},
            "summary": summary,
            "category": "billing_pricing_charges"
        })
    }
}

/// A small PDF unique to one complaint, as a scan of a letter received by post.
fn scan(round: usize, w: usize, n: usize) -> Vec<u8> {
    format!("%PDF-1.4\n% scan of a letter, round {round}, client {w}, complaint {n}\n%%EOF\n")
        .into_bytes()
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One client: records complaints until told to stop, and (with `commands`) every
/// `COMMAND_EVERY`th one takes a few steps up the ladder.
async fn client_loop(
    commands: bool,
    round: usize,
    w: usize,
    client: reqwest::Client,
    base: String,
    token: String,
    stop: Arc<AtomicBool>,
) -> Seen {
    let mut seen = Seen::default();
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let sent = client
            .post(format!("{base}/api/v1/complaints"))
            .bearer_auth(&token)
            .json(&new_complaint(round, w, n))
            .send()
            .await;
        let Some(created) = seen.answer(sent, 201, "create").await else {
            continue;
        };
        let reference = created["reference"].as_str().unwrap_or_default().to_owned();
        seen.complaints.push((round, reference.clone(), created));
        if !commands || !n.is_multiple_of(COMMAND_EVERY) {
            continue;
        }
        seen.commanded.push(reference.clone());
        let steps: [(&'static str, Value); 2] = [
            ("acknowledge", json!({})),
            (
                "offer_resolution",
                json!({"text": format!("A credit of £{n} and a new router")}),
            ),
        ];
        let mut steps_done = true;
        for (name, body) in steps {
            let sent = client
                .post(format!(
                    "{base}/api/v1/complaints/{reference}/commands/{name}"
                ))
                .bearer_auth(&token)
                .json(&body)
                .send()
                .await;
            let Some(done) = seen.answer(sent, 200, name).await else {
                steps_done = false;
                break;
            };
            seen.commands.push(Done {
                reference: reference.clone(),
                name,
                events: done["events"].as_array().cloned().unwrap_or_default(),
                scan: None,
            });
        }
        if !steps_done {
            continue;
        }
        // A letter from the customer, received by post: its scan is kept in the files folder
        // before the event is recorded.
        let bytes = scan(round, w, n);
        let boundary = "powerlossboundary";
        let mut form = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"received_on\"\r\n\r\n{}\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"letter.pdf\"\r\n\
             Content-Type: application/pdf\r\n\r\n",
            // UTC's date: never after London's, so never in the future where it is judged.
            jiff::tz::TimeZone::UTC.to_datetime(jiff::Timestamp::now()).date()
        )
        .into_bytes();
        form.extend_from_slice(&bytes);
        form.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let sent = client
            .post(format!("{base}/api/v1/complaints/{reference}/post"))
            .bearer_auth(&token)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(form)
            .send()
            .await;
        let Some(done) = seen.answer(sent, 201, "post").await else {
            continue;
        };
        seen.commands.push(Done {
            reference: reference.clone(),
            name: "post",
            events: done["events"].as_array().cloned().unwrap_or_default(),
            scan: Some((sha256_hex(&bytes), bytes)),
        });
        let sent = client
            .post(format!(
                "{base}/api/v1/complaints/{reference}/commands/request_escalation"
            ))
            .bearer_auth(&token)
            .json(&json!({"channel": "telephone", "reason": "Still dropping"}))
            .send()
            .await;
        if let Some(done) = seen.answer(sent, 200, "request_escalation").await {
            seen.commands.push(Done {
                reference,
                name: "request_escalation",
                events: done["events"].as_array().cloned().unwrap_or_default(),
                scan: None,
            });
        }
    }
    seen
}

/// The ids of the letters a server logged as sent (after committing that they were), in log
/// order.
fn letters_logged_sent(server: &Server) -> Vec<i64> {
    server
        .log_lines("letter sent")
        .iter()
        .filter_map(|line| {
            line["span"]["id"].as_i64().or_else(|| {
                line["spans"]
                    .as_array()?
                    .iter()
                    .find_map(|span| span["id"].as_i64())
            })
        })
        .collect()
}

/// Everything acknowledged so far, over all rounds.
#[derive(Default)]
struct Ledger {
    seen: Seen,
    /// Letters logged as sent: id and the server (round) that sent it.
    sent: HashMap<i64, String>,
    /// Letters logged as sent a second time.
    sent_twice: Vec<String>,
}

impl Ledger {
    fn record_sent(&mut self, server: &Server) -> usize {
        let ids = letters_logged_sent(server);
        for id in &ids {
            if let Some(first) = self.sent.get(id) {
                self.sent_twice.push(format!(
                    "letter {id} was sent by {first} and again by {}",
                    server.name
                ));
            } else {
                self.sent.insert(*id, server.name.clone());
            }
        }
        ids.len()
    }
}

/// What the checks found after a restart.
#[derive(Default)]
struct Findings {
    /// Acknowledged complaints missing or changed: the round they were acknowledged in, and
    /// what is wrong.
    lost_complaints: Vec<(usize, String)>,
    lost_commands: Vec<String>,
    letters: Vec<String>,
}

impl Findings {
    fn count(&self) -> usize {
        self.lost_complaints.len() + self.lost_commands.len() + self.letters.len()
    }

    fn examples(&self) -> String {
        let complaints = self.lost_complaints.iter().map(|(_, what)| what);
        complaints
            .take(3)
            .chain(self.lost_commands.iter().take(3))
            .chain(self.letters.iter().take(3))
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// GETs every path with 8 clients at once; the status and body of each.
async fn get_all(
    client: &reqwest::Client,
    token: &str,
    base: &str,
    paths: Vec<String>,
) -> Vec<(String, u16, Value)> {
    let paths = Arc::new(paths);
    let next = Arc::new(AtomicUsize::new(0));
    let mut readers = Vec::new();
    for _ in 0..8 {
        let (client, token, base, paths, next) = (
            client.clone(),
            token.to_owned(),
            base.to_owned(),
            paths.clone(),
            next.clone(),
        );
        readers.push(tokio::spawn(async move {
            let mut read = Vec::new();
            while let Some(path) = paths.get(next.fetch_add(1, Ordering::Relaxed)) {
                let response = client
                    .get(format!("{base}{path}"))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .expect("GET from the restarted server");
                let status = response.status().as_u16();
                let body = response.json().await.unwrap_or(Value::Null);
                read.push((path.clone(), status, body));
            }
            read
        }));
    }
    let mut all = Vec::new();
    for reader in readers {
        all.extend(reader.await.expect("a reader"));
    }
    all
}

/// Whether an .eml file is whole: its headers carry the Message-ID, and its MIME body ends
/// with its closing boundary.
fn whole_email(bytes: &[u8], message_id: &str) -> bool {
    let text = String::from_utf8_lossy(bytes);
    text.contains(&format!("Message-ID: {message_id}\r\n")) && text.trim_end().ends_with("--")
}

fn whole_pdf(bytes: &[u8]) -> bool {
    bytes.starts_with(b"%PDF-") && bytes.trim_ascii_end().ends_with(b"%%EOF")
}

/// The checks, against a server started on what reached the disk.
async fn check(disk: &Disk, server: &Server, token: &str, ledger: &Ledger) -> Findings {
    let client = client();
    let base = server.url("");
    let mut findings = Findings::default();

    // Complaints, as acknowledged.
    let paths = ledger
        .seen
        .complaints
        .iter()
        .map(|(_, reference, _)| format!("/api/v1/complaints/{reference}"))
        .collect();
    let read: HashMap<String, (u16, Value)> = get_all(&client, token, &base, paths)
        .await
        .into_iter()
        .map(|(path, status, body)| (path, (status, body)))
        .collect();
    let view = |reference: &str| read.get(&format!("/api/v1/complaints/{reference}"));
    for (round, reference, created) in &ledger.seen.complaints {
        let mut lost = |what: String| findings.lost_complaints.push((*round, what));
        match view(reference) {
            Some((200, body)) => {
                for field in [
                    "reference",
                    "channel",
                    "customer",
                    "summary",
                    "category",
                    "received_at",
                ] {
                    if body[field] != created[field] {
                        lost(format!(
                            "{reference}: {field} is {} but was acknowledged as {}",
                            body[field], created[field]
                        ));
                        break;
                    }
                }
            }
            Some((status, _)) => lost(format!("{reference}: acknowledged, now {status}")),
            None => lost(format!("{reference}: not read back")),
        }
    }

    // Commands, in their complaints' events; scans, in the files folder.
    for done in &ledger.seen.commands {
        let events = view(&done.reference)
            .and_then(|(_, body)| body["events"].as_array())
            .cloned()
            .unwrap_or_default();
        for event in &done.events {
            let recorded = events.iter().find(|e| e["sequence"] == event["sequence"]);
            let same = recorded.is_some_and(|recorded| {
                event
                    .as_object()
                    .is_some_and(|fields| fields.iter().all(|(k, v)| &recorded[k] == v))
            });
            if !same {
                findings.lost_commands.push(format!(
                    "{}: {} answered with event {} but the record has {}",
                    done.reference,
                    done.name,
                    event,
                    recorded.map_or("nothing there".into(), Value::to_string)
                ));
            }
        }
        if let Some((sha256, bytes)) = &done.scan
            && std::fs::read(disk.files().join(sha256)).ok().as_ref() != Some(bytes)
        {
            findings.lost_commands.push(format!(
                "{}: the scan {sha256} is missing or changed in the files folder",
                done.reference
            ));
        }
    }

    // Letters recorded as sent: still sent, and their files whole.
    let paths = ledger
        .seen
        .commanded
        .iter()
        .map(|reference| format!("/api/v1/complaints/{reference}/letters"))
        .collect();
    let mut letters: HashMap<i64, (String, Value)> = HashMap::new();
    for (_, status, body) in get_all(&client, token, &base, paths).await {
        if status != 200 {
            continue;
        }
        let reference = body["reference"].as_str().unwrap_or_default().to_owned();
        for letter in body["letters"].as_array().into_iter().flatten() {
            if let Some(id) = letter["id"].as_i64() {
                letters.insert(id, (reference.clone(), letter.clone()));
            }
        }
    }
    let mut sent: Vec<(&i64, &String)> = ledger.sent.iter().collect();
    sent.sort();
    for (id, by) in sent {
        let Some((reference, letter)) = letters.get(id) else {
            findings
                .letters
                .push(format!("letter {id} (sent by {by}) is gone"));
            continue;
        };
        if letter["sent_at"].is_null() {
            findings.letters.push(format!(
                "letter {id} of {reference} was recorded as sent by {by}, and is not now"
            ));
            continue;
        }
        let kind = letter["kind"].as_str().unwrap_or_default();
        let (path, whole) = if letter["channel"] == "post" {
            let path = disk
                .print()
                .join(redress::mail::print::file_name(*id, reference, kind));
            let bytes = std::fs::read(&path).unwrap_or_default();
            (path, whole_pdf(&bytes))
        } else {
            let path = disk.mail().join(format!("letter-{id:08}-{reference}.eml"));
            let bytes = std::fs::read(&path).unwrap_or_default();
            (
                path,
                whole_email(&bytes, &format!("<letter-{id}.{reference}@localhost>")),
            )
        };
        if !whole {
            findings.letters.push(format!(
                "letter {id} of {reference} is recorded as sent but {} is missing or not whole",
                path.file_name().unwrap_or_default().to_string_lossy()
            ));
        }
    }
    findings
}

/// The Message-IDs of the .eml files in the mail folder (temporary files, whose names start
/// with a dot, were never sent).
fn message_ids(mail: &Path) -> Vec<(String, String)> {
    let Ok(entries) = std::fs::read_dir(mail) else {
        return Vec::new();
    };
    let mut ids = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || !name.ends_with(".eml") {
            continue;
        }
        let bytes = std::fs::read(entry.path()).unwrap_or_default();
        let id = String::from_utf8_lossy(&bytes)
            .lines()
            .find_map(|l| l.strip_prefix("Message-ID: ").map(str::to_owned))
            .unwrap_or_default();
        ids.push((name, id));
    }
    ids
}

/// What came of one round.
struct Round {
    acknowledged: usize,
    commands: usize,
    letters_sent: usize,
    /// Its acknowledged complaints missing or changed at the last check.
    lost: usize,
}

/// Rounds of load (intake, and in the rounds `commands` names, commands and their letters),
/// kill and power cut, each followed by the checks on a restarted server; stops early once
/// `enough` says so of a round's findings. Returns each round's figures, the last findings
/// and the ledger.
async fn rounds(
    disk: &mut Disk,
    synchronous: Synchronous,
    commands: impl Fn(usize) -> bool,
    max_rounds: usize,
    enough: impl Fn(&Findings) -> bool,
) -> (Vec<Round>, Findings, Ledger) {
    let token = handler_token(&disk.database());
    let client = client();
    let mut ledger = Ledger::default();
    let mut figures: Vec<Round> = Vec::new();
    for round in 1..=max_rounds {
        let mut server = disk.serve(&format!("round-{round}"), synchronous);
        server.wait_ready(&client).await;
        let stop = Arc::new(AtomicBool::new(false));
        let workers: Vec<_> = (0..CLIENTS)
            .map(|w| {
                tokio::spawn(client_loop(
                    commands(round),
                    round,
                    w,
                    client.clone(),
                    server.url(""),
                    token.clone(),
                    stop.clone(),
                ))
            })
            .collect();
        tokio::time::sleep(LOAD).await;
        server.signal("-KILL");
        stop.store(true, Ordering::Relaxed);
        server.wait_exit(Duration::from_secs(10)).await;
        let mut seen = Seen::default();
        for worker in workers {
            seen.extend(worker.await.expect("a client"));
        }
        assert!(
            seen.other.is_empty(),
            "the server answered something unexpected under load, e.g. {:?}",
            &seen.other[..seen.other.len().min(5)]
        );
        assert!(
            !seen.complaints.is_empty(),
            "no complaint was acknowledged in round {round}:\n{}",
            server.log_text()
        );
        let letters_sent = ledger.record_sent(&server);
        let cut = disk.fs.power_cut().expect("cut the power");
        eprintln!(
            "round {round} ({synchronous:?}): {} complaints and {} commands acknowledged, {letters_sent} letters recorded as sent; killed with unanswered requests ({}); the power cut took back {} bytes of {} files and the names in {} folders",
            seen.complaints.len(),
            seen.commands.len(),
            seen.unanswered(),
            cut.bytes_lost,
            cut.files_rolled_back,
            cut.directories_rolled_back
        );
        figures.push(Round {
            acknowledged: seen.complaints.len(),
            commands: seen.commands.len(),
            letters_sent,
            lost: 0,
        });
        ledger.seen.extend(seen);

        // On what reached the disk: every round so far, checked again.
        let mut server = disk.serve(&format!("after-round-{round}"), synchronous);
        server.wait_ready(&client).await;
        let findings = check(disk, &server, &token, &ledger).await;
        for (i, figure) in figures.iter_mut().enumerate() {
            figure.lost = findings
                .lost_complaints
                .iter()
                .filter(|(r, _)| *r == i + 1)
                .count();
        }
        eprintln!(
            "after round {round}: {} acknowledged complaints lost, {} commands lost, {} problems with letters",
            findings.lost_complaints.len(),
            findings.lost_commands.len(),
            findings.letters.len()
        );
        let last = round == max_rounds || enough(&findings);
        if last {
            // Long enough for the killed server's leases (2 s) to run out and its letters to go
            // again, as nothing recorded them as sent.
            tokio::time::sleep(Duration::from_secs(3)).await;
        }
        server.stop().await;
        ledger.record_sent(&server);
        if last {
            return (figures, findings, ledger);
        }
    }
    unreachable!("the last round returns")
}

fn report(synchronous: Synchronous, figures: &[Round]) {
    for (i, r) in figures.iter().enumerate() {
        eprintln!(
            "{synchronous:?} round {}: {} complaints acknowledged, {} lost; {} commands acknowledged; {} letters sent",
            i + 1,
            r.acknowledged,
            r.lost,
            r.commands,
            r.letters_sent,
        );
    }
    eprintln!(
        "{synchronous:?}: {} rounds, {} complaints acknowledged, {} lost",
        figures.len(),
        figures.iter().map(|r| r.acknowledged).sum::<usize>(),
        figures.iter().map(|r| r.lost).sum::<usize>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_synchronous_full_a_power_cut_loses_nothing_acknowledged() {
    let _serial = SERIAL.lock().await;
    let Some(mut disk) = Disk::mount() else {
        return;
    };
    let (figures, findings, ledger) =
        // The first round is intake alone, as in the NORMAL test; then commands and letters too.
        rounds(&mut disk, Synchronous::Full, |round| round > 1, FULL_ROUNDS, |_| false).await;
    report(Synchronous::Full, &figures);
    assert!(
        findings.count() == 0,
        "{} acknowledged complaints, {} commands and {} letters did not survive the power cuts, e.g.\n{}",
        findings.lost_complaints.len(),
        findings.lost_commands.len(),
        findings.letters.len(),
        findings.examples()
    );
    assert!(
        ledger.sent_twice.is_empty(),
        "{} letters were sent twice, e.g. {:?}",
        ledger.sent_twice.len(),
        &ledger.sent_twice[..ledger.sent_twice.len().min(5)]
    );
    assert!(
        !ledger.sent.is_empty(),
        "no letter was sent: the letter checks checked nothing"
    );
    let ids = message_ids(&disk.mail());
    let mut by_id: HashMap<&str, Vec<&str>> = HashMap::new();
    for (name, id) in &ids {
        by_id.entry(id).or_default().push(name);
    }
    let twice: Vec<_> = by_id.iter().filter(|(_, names)| names.len() > 1).collect();
    assert!(
        twice.is_empty(),
        "Message-IDs in more than one .eml file: {twice:?}"
    );
    let unnamed = ids.iter().filter(|(_, id)| id.is_empty()).count();
    assert_eq!(unnamed, 0, "{unnamed} .eml files without a Message-ID");
    let pdfs = std::fs::read_dir(disk.print())
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().ends_with(".pdf"))
                .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                .count()
        })
        .unwrap_or(0);
    eprintln!(
        "{} .eml files, each with its own Message-ID, and {pdfs} PDFs in the print queue; {} letters sent in all, none twice",
        ids.len(),
        ledger.sent.len()
    );
    assert!(
        !ids.is_empty() && pdfs > 0,
        "letters went by one way only ({} emails, {pdfs} by post): the checks of the other checked nothing",
        ids.len()
    );
    let summary = assert_audit_intact(&disk.database());
    assert!(summary.starts_with("checked "), "{summary}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_synchronous_normal_the_checks_see_acknowledged_complaints_lost() {
    let _serial = SERIAL.lock().await;
    let Some(mut disk) = Disk::mount() else {
        return;
    };
    // Intake alone: the most commits in the moments before each cut.
    let (figures, findings, _) = rounds(
        &mut disk,
        Synchronous::Normal,
        |_| false,
        NORMAL_ROUNDS,
        |f| !f.lost_complaints.is_empty(),
    )
    .await;
    report(Synchronous::Normal, &figures);
    assert!(
        !findings.lost_complaints.is_empty(),
        "with synchronous=NORMAL, {} rounds of power cuts lost no acknowledged complaint: the test cannot tell the fault it exists for",
        figures.len()
    );
    eprintln!("e.g. {}", findings.lost_complaints[0].1);
    // What is lost is the last commits, whole: the record left is consistent all the same.
    assert_audit_intact(&disk.database());
}
