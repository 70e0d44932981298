//! `redress seed-data` as a user meets it, on both backends: the same seed gives the same
//! complaints, the mix looks like a complaints service's, the record passes `audit verify`,
//! the API and the staff pages read what it wrote, a second run numbers on, and bad flags are
//! refused before the database is touched. And the rows the bulk write makes are exactly the
//! rows the normal paths (intake, commands, the scheduler) write for the same history.

#[macro_use]
mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use redress::clock::Clock;
use redress::seed::{Asked, Options, Plan};
use redress::store::{SessionOwner, Store, prepare};
use redress_core::{Procedure, Role};
use sha2::{Digest, Sha256};
use sqlx::Row;
use support::process::{BIN, assert_audit_intact, text};
use support::{Db, START, fresh_postgres_database, spawn_app, ts};

/// A fresh database: its URL (or path), and the folder a SQLite file lives in.
async fn database(db: Db) -> Option<(String, Option<tempfile::TempDir>)> {
    match db {
        Db::Sqlite => {
            let dir = tempfile::tempdir().expect("a temporary directory");
            let path = dir.path().join("seeded.db").display().to_string();
            Some((path, Some(dir)))
        }
        Db::Postgres => Some((fresh_postgres_database().await?, None)),
    }
}

/// Runs `redress seed-data` with `args` on `database`, on the tests' clock.
fn seed_data(database: &str, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(["seed-data", "--database", database, "--clock-start", START])
        .args(args)
        .env_remove("REDRESS_DATABASE_URL")
        .env_remove("REDRESS_PROCEDURE")
        .env_remove("REDRESS_CLOCK_START")
        .output()
        .expect("run the redress binary")
}

fn seeded(database: &str, args: &[&str]) -> String {
    let out = seed_data(database, args);
    assert!(
        out.status.success(),
        "seed-data failed ({}):\n{}\n{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    let report = text(&out.stdout);
    assert!(
        !report.contains("refused"),
        "the core refused commands:\n{report}"
    );
    report
}

async fn open(database: &str) -> Store {
    let store = Store::connect(
        database,
        std::sync::Arc::new(Procedure::default_procedure()),
    )
    .await
    .expect("connect");
    store.migrate().await.expect("migrate");
    store
}

async fn strings(store: &Store, sql: &'static str) -> Vec<String> {
    sqlx::query(sql)
        .fetch_all(store.pool())
        .await
        .expect("a query")
        .iter()
        .map(|row| row.try_get::<String, _>(0).expect("a text column"))
        .collect()
}

async fn count(store: &Store, sql: &'static str) -> i64 {
    sqlx::query(sql)
        .fetch_one(store.pool())
        .await
        .expect("a count")
        .try_get::<i64, _>(0)
        .expect("a number")
}

async fn counts(store: &Store, sql: &'static str) -> BTreeMap<String, i64> {
    let mut counts = BTreeMap::new();
    for row in sqlx::query(sql)
        .fetch_all(store.pool())
        .await
        .expect("counts")
    {
        let key: String = row.try_get(0).expect("a key");
        let n: i64 = row.try_get("n").expect("a count");
        counts.insert(key, n);
    }
    counts
}

/// One SHA-256 over every complaint's reference, stage, status, version, state and chain
/// head, and every letter's complaint, kind, route and sending.
async fn digest(database: &str) -> String {
    let store = open(database).await;
    let mut hasher = Sha256::new();
    for line in strings(
        &store,
        "SELECT reference || '|' || CAST(stage AS TEXT) || '|' || status || '|' || CAST(version AS TEXT) \
         || '|' || last_hash || '|' || state FROM complaints ORDER BY reference",
    )
    .await
    {
        hasher.update(line.as_bytes());
    }
    for line in strings(
        &store,
        "SELECT c.reference || '|' || CAST(o.event_sequence AS TEXT) || '|' || o.kind || '|' || o.channel \
         || '|' || COALESCE(CAST(o.sent_at AS TEXT), '-') FROM outbox o JOIN complaints c ON c.id = o.complaint_id \
         ORDER BY c.reference, o.event_sequence, o.kind",
    )
    .await
    {
        hasher.update(line.as_bytes());
    }
    store.close().await;
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn the_same_seed_gives_the_same_complaints(db: Db) {
    let (Some((one, _a)), Some((two, _b)), Some((other, _c))) =
        (database(db).await, database(db).await, database(db).await)
    else {
        return;
    };
    seeded(&one, &["--complaints", "300", "--seed", "7"]);
    seeded(&two, &["--complaints", "300", "--seed", "7"]);
    seeded(&other, &["--complaints", "300", "--seed", "8"]);
    let (first, second, third) = (digest(&one).await, digest(&two).await, digest(&other).await);
    assert_eq!(first, second, "the same seed must give the same complaints");
    assert_ne!(first, third, "another seed gives other complaints");
}

async fn the_mix_looks_like_a_complaints_service(db: Db) {
    let Some((database, _dir)) = database(db).await else {
        return;
    };
    let report = seeded(
        &database,
        &["--complaints", "1000", "--seed", "3", "--years", "1"],
    );
    assert!(report.contains("complaints/s"), "{report}");
    let store = open(&database).await;
    let mut stages = [0_i64; 5];
    for row in sqlx::query("SELECT stage, COUNT(*) AS n FROM complaints GROUP BY stage")
        .fetch_all(store.pool())
        .await
        .expect("stages")
    {
        let stage: i64 = row.try_get("stage").expect("a stage");
        stages[(stage - 1) as usize] = row.try_get("n").expect("a count");
    }
    assert!(
        stages.iter().all(|n| *n > 0),
        "every stage has complaints: {stages:?}"
    );
    assert!(
        stages[0] > 650 && stages[0] < 950,
        "most stay at stage 1: {stages:?}"
    );
    assert!(
        stages[1] > stages[3] && stages[2] > stages[3],
        "fewer go further: {stages:?}"
    );
    let statuses = counts(
        &store,
        "SELECT status, COUNT(*) AS n FROM complaints GROUP BY status",
    )
    .await;
    let most = statuses
        .iter()
        .max_by_key(|(_, n)| **n)
        .map(|(k, _)| k.as_str());
    assert_eq!(most, Some("closed"), "{statuses:?}");
    assert!(
        statuses.get("open").is_some_and(|n| *n > 0),
        "some are still open: {statuses:?}"
    );
    let channels = counts(
        &store,
        "SELECT channel, COUNT(*) AS n FROM complaints GROUP BY channel",
    )
    .await;
    let most = channels
        .iter()
        .max_by_key(|(_, n)| **n)
        .map(|(k, _)| k.as_str());
    assert_eq!(most, Some("telephone"), "{channels:?}");
    assert!(
        channels.get("letter") < channels.get("email"),
        "few write letters: {channels:?}"
    );
    for (what, sql) in [
        (
            "overdue",
            "SELECT COUNT(*) FROM complaints WHERE overdue = 1",
        ),
        (
            "past the ADR point and still open",
            "SELECT COUNT(*) FROM complaints WHERE adr_eligible = 1 AND status IN ('open', 'resolution_offered')",
        ),
        (
            "open with a clock running",
            "SELECT COUNT(*) FROM complaints WHERE next_due_at IS NOT NULL",
        ),
        (
            "vulnerable",
            "SELECT COUNT(*) FROM complaints WHERE state LIKE '%\"vulnerabilities\"%'",
        ),
        (
            "with accessibility needs",
            "SELECT COUNT(*) FROM complaints WHERE state LIKE '%\"accessibility_needs\"%'",
        ),
        (
            "about a staff member",
            "SELECT COUNT(*) FROM complaints WHERE state LIKE '%\"staff_concerned\":[\"%'",
        ),
        (
            "restricted notes",
            "SELECT COUNT(*) FROM events WHERE kind = 'note_added' AND payload LIKE '%\"restricted\":true%'",
        ),
        (
            "evidence received",
            "SELECT COUNT(*) FROM events WHERE kind = 'evidence_received'",
        ),
        (
            "compensation approved by a second person",
            "SELECT COUNT(*) FROM events WHERE kind = 'compensation_approved'",
        ),
        (
            "compensation accepted",
            "SELECT COUNT(*) FROM events WHERE kind = 'compensation_accepted'",
        ),
        (
            "resolutions rejected",
            "SELECT COUNT(*) FROM events WHERE kind = 'resolution_rejected'",
        ),
        (
            "formal responses",
            "SELECT COUNT(*) FROM events WHERE kind = 'formal_response_issued'",
        ),
        (
            "ombudsman decisions",
            "SELECT COUNT(*) FROM events WHERE kind = 'ombudsman_decided'",
        ),
        (
            "remedies completed",
            "SELECT COUNT(*) FROM events WHERE kind = 'remedy_completed'",
        ),
        (
            "letters recorded as sent",
            "SELECT COUNT(*) FROM outbox WHERE sent_at IS NOT NULL",
        ),
        (
            "recent letters waiting for the sender",
            "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL",
        ),
        (
            "post letters printed",
            "SELECT COUNT(*) FROM outbox WHERE channel = 'post' AND printed_at IS NOT NULL",
        ),
    ] {
        assert!(count(&store, sql).await > 0, "no complaints {what}");
    }
    // Old letters are not left for the sender: only the last day's wait.
    let old_unsent = count(
        &store,
        "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND created_at < (SELECT MAX(created_at) FROM outbox) - 86400000000",
    )
    .await;
    assert_eq!(old_unsent, 0);
    store.close().await;
}

async fn audit_verify_passes_on_a_seeded_database(db: Db) {
    let Some((database, _dir)) = database(db).await else {
        return;
    };
    seeded(&database, &["--complaints", "300"]);
    let summary = assert_audit_intact(&database);
    assert!(summary.contains("checked 300 complaints"), "{summary}");
    // Sealed into the ledger, it still verifies, against the anchor too.
    let anchor = support::process::redress(&["audit", "anchor", "--database", &database]);
    assert!(anchor.status.success(), "{}", text(&anchor.stderr));
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("anchor.json");
    std::fs::write(&path, &anchor.stdout).expect("write the anchor");
    let verify = support::process::redress(&[
        "audit",
        "verify",
        "--database",
        &database,
        "--anchor",
        path.to_str().expect("a UTF-8 path"),
    ]);
    assert!(
        verify.status.success(),
        "{}\n{}",
        text(&verify.stdout),
        text(&verify.stderr)
    );
    assert!(text(&verify.stdout).contains("the anchor's block"));
}

async fn the_api_and_the_staff_pages_read_a_seeded_complaint(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    seeded(&app.database, &["--complaints", "200", "--seed", "5"]);
    // The one with the longest history, and one still open.
    let reference: String =
        sqlx::query("SELECT reference FROM complaints ORDER BY version DESC, reference LIMIT 1")
            .fetch_one(app.store.pool())
            .await
            .expect("a seeded complaint")
            .try_get("reference")
            .expect("a reference");
    let token = app
        .token(Role::Handler, Some("customer_services"), Some("reader"))
        .await;
    let response = app
        .client
        .get(app.url(&format!("/api/v1/complaints/{reference}")))
        .bearer_auth(&token)
        .send()
        .await
        .expect("the server answers");
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert_eq!(body["reference"], reference.as_str());
    assert!(
        body["events"].as_array().is_some_and(|e| e.len() > 5),
        "{body}"
    );
    let letters = app
        .client
        .get(app.url(&format!("/api/v1/complaints/{reference}/letters")))
        .bearer_auth(&token)
        .send()
        .await
        .expect("the server answers");
    assert_eq!(letters.status(), 200);
    let letters: serde_json::Value = letters.json().await.expect("JSON");
    assert!(
        letters["letters"]
            .as_array()
            .is_some_and(|l| l.iter().any(|l| !l["sent_at"].is_null())),
        "old letters are recorded as sent: {letters}"
    );
    let user = app
        .store
        .create_user(
            "cs.reader@example.com",
            "Reader",
            "a long enough password",
            Role::Handler,
            Some("customer_services"),
            app.clock.now(),
        )
        .await
        .expect("a staff account");
    let (session, _) = app
        .store
        .create_session(&SessionOwner::Staff(user), app.clock.now())
        .await
        .expect("a session");
    let page = app
        .client
        .get(app.url(&format!("/staff/complaints/{reference}")))
        .header("cookie", format!("redress_staff={session}"))
        .send()
        .await
        .expect("the server answers");
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("a page");
    assert!(
        html.contains(&reference),
        "the case page names the complaint"
    );
    // A complaint recorded now takes the number after the seeded ones of its year.
    let created = app
        .client
        .post(app.url("/api/v1/complaints"))
        .bearer_auth(&token)
        .json(&support::complaint_body("KX-9001", "Ada Lovelace"))
        .send()
        .await
        .expect("the server answers");
    assert_eq!(created.status(), 201);
    let created: serde_json::Value = created.json().await.expect("JSON");
    let last_2026 = count(
        &app.store,
        "SELECT COUNT(*) FROM complaints WHERE reference LIKE 'CMP-2026-%'",
    )
    .await;
    assert_eq!(
        created["reference"],
        format!("CMP-2026-{last_2026:06}").as_str()
    );
    app.stop().await;
}

async fn a_second_run_numbers_on(db: Db) {
    let Some((database, _dir)) = database(db).await else {
        return;
    };
    seeded(&database, &["--complaints", "120", "--seed", "1"]);
    let report = seeded(&database, &["--complaints", "80", "--seed", "2"]);
    let store = open(&database).await;
    let references = strings(
        &store,
        "SELECT reference FROM complaints ORDER BY reference",
    )
    .await;
    assert_eq!(references.len(), 200);
    let mut by_year: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for reference in &references {
        let mut parts = reference.split('-').skip(1);
        let (Some(year), Some(n)) = (parts.next(), parts.next()) else {
            panic!("{reference} is not a reference");
        };
        by_year
            .entry(year.to_owned())
            .or_default()
            .push(n.parse().expect("a number"));
    }
    for (year, mut numbers) in by_year {
        numbers.sort_unstable();
        let expected: Vec<u64> = (1..=numbers.len() as u64).collect();
        assert_eq!(
            numbers, expected,
            "{year} is numbered without gaps or repeats"
        );
        let last = sqlx::query("SELECT last FROM reference_sequences WHERE year = $1")
            .bind(year.parse::<i64>().expect("a year"))
            .fetch_one(store.pool())
            .await
            .expect("a counter")
            .try_get::<i64, _>("last")
            .expect("a number");
        assert_eq!(last, numbers.len() as i64, "{year}'s counter");
    }
    assert!(
        !report.contains("CMP-2024-000001,"),
        "the second run starts after the first: {report}"
    );
    // Rows numbered from counters that have moved on since are refused whole.
    let options = Options {
        complaints: 5,
        seed: 4,
        years: 2,
        now: ts(START),
    };
    let procedure = Procedure::default_procedure();
    let stale = Plan::new(procedure.clone(), options, &BTreeMap::new()).expect("a plan");
    let prepared: Vec<_> = (0..5)
        .map(|i| {
            let told = stale.tell(i, false).expect("a story");
            prepare(&told.history, &procedure, None).expect("rows")
        })
        .collect();
    let refused = store.import(&prepared).await.expect_err("stale references");
    assert!(
        refused
            .to_string()
            .contains("does not continue the store's numbering"),
        "{refused}"
    );
    assert_eq!(count(&store, "SELECT COUNT(*) FROM complaints").await, 200);
    store.close().await;
}

async fn bad_flags_are_refused_before_the_database_is_touched(db: Db) {
    let Some((database, _dir)) = database(db).await else {
        return;
    };
    for (args, says) in [
        (vec!["--complaints", "0"], "must be at least 1"),
        (vec!["--complaints", "-5"], "must be at least 1"),
        (vec!["--complaints", "ten"], "'ten' is not a whole number"),
        (vec!["--complaints", "1.5"], "'1.5' is not a whole number"),
        (vec!["--complaints", ""], "is not a whole number"),
        (
            vec!["--complaints", "10", "--years", "0"],
            "must be at least 1",
        ),
        (
            vec!["--complaints", "10", "--years", "-2"],
            "must be at least 1",
        ),
        (
            vec!["--complaints", "10", "--years", "two"],
            "is not a whole number",
        ),
        (
            vec!["--complaints", "10", "--seed", "-1"],
            "must be at least 0",
        ),
        (
            vec!["--complaints", "10", "--years", "9"],
            "before 2018-10-01",
        ),
        (vec!["--years", "2"], "--complaints"),
    ] {
        let out = seed_data(&database, &args);
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{args:?} must fail");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(
            stderr.lines().count() < 8,
            "{args:?}: a short message: {stderr}"
        );
    }
    match db {
        Db::Sqlite => assert!(!Path::new(&database).exists(), "no database file was made"),
        Db::Postgres => {
            let store = Store::connect(
                &database,
                std::sync::Arc::new(Procedure::default_procedure()),
            )
            .await
            .expect("connect");
            let tables = count(
                &store,
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'",
            )
            .await;
            assert_eq!(tables, 0, "nothing was created");
            store.close().await;
        }
    }
}

/// Every column of every row the bulk write and the normal paths both write, as text.
async fn rows(store: &Store) -> BTreeMap<&'static str, Vec<String>> {
    let mut out = BTreeMap::new();
    out.insert(
        "complaints",
        strings(
            store,
            "SELECT reference || '|' || CAST(stage AS TEXT) || '|' || status || '|' || department || '|' \
             || customer_account || '|' || customer_name || '|' || COALESCE(customer_postcode, '') || '|' \
             || COALESCE(category, '') || '|' || channel || '|' || CAST(first_received_at AS TEXT) || '|' \
             || COALESCE(CAST(next_due_at AS TEXT), '') || '|' || last_hash || '|' || CAST(overdue AS TEXT) \
             || '|' || CAST(adr_eligible AS TEXT) || '|' || CAST(version AS TEXT) || '|' || state || '|' \
             || search_text || '|' || CAST(created_at AS TEXT) || '|' || CAST(updated_at AS TEXT) || '|' \
             || COALESCE(customer_email, '') || '|' || COALESCE(CAST(queue_at AS TEXT), '') \
             FROM complaints ORDER BY reference",
        )
        .await,
    );
    out.insert(
        "events",
        strings(
            store,
            "SELECT c.reference || '|' || CAST(e.sequence AS TEXT) || '|' || e.kind || '|' || e.payload || '|' \
             || e.actor || '|' || CAST(e.occurred_at AS TEXT) || '|' || CAST(e.recorded_at AS TEXT) || '|' \
             || COALESCE(CAST(e.due_at AS TEXT), '') || '|' || e.prev_hash || '|' || e.hash \
             FROM events e JOIN complaints c ON c.id = e.complaint_id ORDER BY c.reference, e.sequence",
        )
        .await,
    );
    out.insert(
        "deadlines",
        strings(
            store,
            "SELECT c.reference || '|' || d.kind || '|' || CAST(d.request AS TEXT) || '|' || CAST(d.due_at AS TEXT) \
             || '|' || d.due_by || '|' || COALESCE(CAST(d.fired_at AS TEXT), '') \
             FROM deadlines d JOIN complaints c ON c.id = d.complaint_id ORDER BY c.reference, d.kind, d.request",
        )
        .await,
    );
    // A seeded history is the past: it tells nobody today of an assignment made then
    // (store/bulk.rs), where the same story told command by command emails each assignee.
    out.insert(
        "outbox",
        strings(
            store,
            "SELECT c.reference || '|' || CAST(o.event_sequence AS TEXT) || '|' || o.kind || '|' || o.channel \
             || '|' || o.payload || '|' || CAST(o.created_at AS TEXT) || '|' || CAST(o.next_attempt_at AS TEXT) \
             || '|' || CAST(o.attempts AS TEXT) || '|' || COALESCE(CAST(o.sent_at AS TEXT), '') \
             FROM outbox o JOIN complaints c ON c.id = o.complaint_id \
             WHERE o.kind <> 'assignment_notice' ORDER BY c.reference, o.event_sequence, o.kind",
        )
        .await,
    );
    out.insert(
        "ledger heads",
        strings(
            store,
            "SELECT c.reference || '|' || CAST(MAX(p.version) AS TEXT) FROM ledger_pending p \
             JOIN complaints c ON c.id = p.complaint_id GROUP BY c.reference ORDER BY c.reference",
        )
        .await,
    );
    out.insert(
        "counters",
        strings(
            store,
            "SELECT CAST(year AS TEXT) || '|' || CAST(last AS TEXT) FROM reference_sequences ORDER BY year",
        )
        .await,
    );
    out
}

async fn the_bulk_write_makes_the_rows_the_normal_paths_make(db: Db) {
    let (Some((bulk, _a)), Some((normal, _b))) = (database(db).await, database(db).await) else {
        return;
    };
    let procedure = Procedure::default_procedure();
    let options = Options {
        complaints: 60,
        seed: 11,
        years: 1,
        now: ts(START),
    };
    let plan = Plan::new(procedure.clone(), options, &BTreeMap::new()).expect("a plan");
    let told: Vec<_> = (0..60)
        .map(|i| plan.tell(i, true).expect("a story"))
        .collect();
    assert!(told.iter().all(|t| t.refused.is_empty()));
    assert!(
        told.iter()
            .any(|t| t.script.iter().any(|(_, a)| matches!(a, Asked::Fire))),
        "some clocks fire along the way"
    );

    let store = open(&bulk).await;
    let histories: Vec<_> = told[..25].iter().map(|t| t.history.clone()).collect();
    store
        .import_histories(&histories, None)
        .await
        .expect("a first batch");
    let prepared: Vec<_> = told[25..]
        .iter()
        .map(|t| prepare(&t.history, &procedure, None).expect("rows"))
        .collect();
    store.import(&prepared).await.expect("a second batch");
    let written = rows(&store).await;
    store.close().await;

    // The same stories asked of the store one question at a time: intake, each command, the
    // scheduler. Each complaint is told whole before the next is received; every clock of the
    // earlier ones due by now has fired, so the scheduler finds nothing else.
    let store = open(&normal).await;
    for t in &told {
        let mut reference = None;
        for (at, asked) in &t.script {
            match asked {
                Asked::Receive(receive) => {
                    let created = store
                        .create_complaint((**receive).clone(), *at)
                        .await
                        .expect("recorded");
                    assert_eq!(created.complaint.reference, receive.reference);
                    reference = Some(created.complaint.reference);
                }
                Asked::Command(command) => {
                    let outcome = store
                        .run_command(
                            reference.as_ref().expect("received first"),
                            (**command).clone(),
                            *at,
                        )
                        .await
                        .expect("run");
                    assert!(outcome.refusal.is_none(), "{:?}", outcome.refusal);
                }
                Asked::Fire => {
                    let fired = store.fire_due_deadlines(*at, 100).await.expect("fired");
                    assert_eq!(fired, 1, "only this complaint had a clock due");
                }
            }
        }
    }
    let expected = rows(&store).await;
    store.close().await;
    for (table, expected) in &expected {
        let written = &written[table];
        assert_eq!(written.len(), expected.len(), "{table}: as many rows");
        for (w, e) in written.iter().zip(expected) {
            assert_eq!(w, e, "{table}");
        }
    }
}

both_backends! {
    the_same_seed_gives_the_same_complaints => same_seed_sqlite, same_seed_postgres;
    the_mix_looks_like_a_complaints_service => mix_sqlite, mix_postgres;
    audit_verify_passes_on_a_seeded_database => audit_sqlite, audit_postgres;
    the_api_and_the_staff_pages_read_a_seeded_complaint => read_sqlite, read_postgres;
    a_second_run_numbers_on => numbering_sqlite, numbering_postgres;
    bad_flags_are_refused_before_the_database_is_touched => bad_flags_sqlite, bad_flags_postgres;
    the_bulk_write_makes_the_rows_the_normal_paths_make => same_rows_sqlite, same_rows_postgres;
}
