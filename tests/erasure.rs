//! Retention and erasure, black-box through a real server and the real command line: legal
//! holds, `erase_personal_data` on a customer's request, `redress retention run` (dry and
//! not), and what is left afterwards. The erased values must be gone from the database's own
//! files (SQLite: the database file and its log, read as bytes) and from the files folder, and
//! `audit verify` must still pass. On SQLite and PostgreSQL.
#[macro_use]
mod support;

use redress::clock::Clock as _;
use redress_core::{Reference, Role};
use serde_json::{Value, json};
use support::{Db, TestApp, spawn_app, ts};

both_backends! {
    erasure_leaves_nothing_personal_and_the_record_still_verifies =>
        sqlite_erasure_leaves_nothing_personal_and_the_record_still_verifies,
        postgres_erasure_leaves_nothing_personal_and_the_record_still_verifies;
    the_retention_run_erases_what_is_due_and_keeps_what_is_held =>
        sqlite_the_retention_run_erases_what_is_due_and_keeps_what_is_held,
        postgres_the_retention_run_erases_what_is_due_and_keeps_what_is_held;
}

/// Values no other part of the record holds, so finding one anywhere means it was not erased.
const PERSONAL: &[&str] = &[
    "QX-ERASE-4471",
    "Philomena Quartermaine",
    "Quartermaine",
    "philomena.q@zanzibar-example.org",
    "07700 900461",
    "12 Zanzibar Crescent",
    "xylophonic",
    "Rang Philomena about the hum",
    "Told Philomena the engineer comes Tuesday",
    "ZYGOMORPHIC-PHOTO-BYTES",
    "Hum resolved for Philomena",
];

fn personal_body() -> Value {
    json!({"channel": "email",
           "customer": {"account": "QX-ERASE-4471", "name": "Philomena Quartermaine",
                        "email": "philomena.q@zanzibar-example.org", "telephone": "07700 900461",
                        "address": ["12 Zanzibar Crescent", "Leeds"],
                        "vulnerabilities": ["hearing loss"]},
           "category": "faults_service_provision",
           "summary": "My xylophonic router hums all night"})
}

/// Every value of `PERSONAL` found in `bytes`, ignoring case (full-text indexes fold it).
fn found_in(bytes: &[u8]) -> Vec<&'static str> {
    let text = String::from_utf8_lossy(bytes).to_lowercase();
    PERSONAL
        .iter()
        .copied()
        .filter(|v| text.contains(&v.to_lowercase()))
        .collect()
}

fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Where any personal value still is: the SQLite database's own files read as bytes, or on
/// PostgreSQL every text column of the tables holding complaints' data; and every file in the
/// files folder and the print queue.
async fn leftovers(app: &TestApp) -> Vec<String> {
    let mut left = Vec::new();
    if app.database.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(&app.database)
            .await
            .expect("connects");
        let tables: Vec<(String, String)> = sqlx::query_as(
            "SELECT table_name::text, column_name::text FROM information_schema.columns \
             WHERE table_schema = 'public' AND data_type IN ('text', 'character varying')",
        )
        .fetch_all(&pool)
        .await
        .expect("columns");
        for (table, column) in tables {
            let sql =
                format!("SELECT \"{column}\" FROM \"{table}\" WHERE \"{column}\" IS NOT NULL");
            let values: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .fetch_all(&pool)
                .await
                .expect("values");
            for (value,) in values {
                for v in found_in(value.as_bytes()) {
                    left.push(format!("{table}.{column}: {v}"));
                }
            }
        }
    } else {
        for suffix in ["", "-wal", "-journal"] {
            let path = format!("{}{suffix}", app.database);
            if let Ok(bytes) = std::fs::read(&path) {
                for v in found_in(&bytes) {
                    left.push(format!("{path}: {v}"));
                }
            }
        }
    }
    for path in files_under(&app.files_dir)
        .into_iter()
        .chain(files_under(&app.print_dir))
    {
        let bytes = std::fs::read(&path).expect("a file");
        for v in found_in(&bytes) {
            left.push(format!("{}: {v}", path.display()));
        }
    }
    left
}

/// A complaint with the customer's details, their words, notes, a call, an email with a
/// photo, and letters sent; closed. Returns its reference.
async fn full_complaint(app: &TestApp, handler: &str) -> String {
    let reference = app.create_complaint(handler, personal_body()).await;
    for (name, body) in [
        ("add_note", json!({"text": "Rang Philomena about the hum"})),
        (
            "record_call",
            json!({"direction": "outbound", "summary": "Told Philomena the engineer comes Tuesday"}),
        ),
        (
            "offer_resolution",
            json!({"text": "Hum resolved for Philomena"}),
        ),
        ("accept_resolution", json!({})),
    ] {
        let (status, answer) = app.command(handler, &reference, name, body).await;
        assert_eq!(status, 200, "{name}: {answer}");
    }
    let raw = format!(
        "From: Philomena Quartermaine <philomena.q@zanzibar-example.org>\r\nTo: complaints@kinex.example\r\n\
         Subject: Re: {reference}\r\nMessage-ID: <hum-1@zanzibar-example.org>\r\nDate: Mon, 2 Mar 2026 08:00:00 +0000\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n\
         The xylophonic hum again.\r\n--b\r\nContent-Type: application/octet-stream\r\n\
         Content-Disposition: attachment; filename=\"quartermaine.bin\"\r\n\r\nZYGOMORPHIC-PHOTO-BYTES\r\n--b--\r\n"
    );
    let request = app
        .client
        .post(app.url("/api/v1/inbound/email"))
        .bearer_auth(handler)
        .header("content-type", "message/rfc822")
        .body(raw);
    let (status, filed) = support::api::answer(request).await;
    assert_eq!(status, 202, "{filed}");
    assert_eq!(filed["outcome"], "added_to_complaint", "{filed}");
    assert!(app.send_letters().await > 0, "letters went");
    let (status, answer) = app
        .command(handler, &reference, "close", json!({"reason": "Sorted"}))
        .await;
    assert_eq!(status, 200, "close: {answer}");
    reference
}

async fn erasure_leaves_nothing_personal_and_the_record_still_verifies(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let handler = app.handler_token("h@kinex.example").await;
    let compliance = app
        .token(Role::Compliance, None, Some("compliance@kinex.example"))
        .await;
    // Another customer's complaint, which must come through untouched.
    let other = app
        .create_complaint(
            &handler,
            support::complaint_body("KX-OTHER-1", "Olwen Other"),
        )
        .await;
    let reference = full_complaint(&app, &handler).await;
    assert!(
        !leftovers(&app).await.is_empty(),
        "the test's values are found before erasure (else the search proves nothing)"
    );
    app.store.seal(None, app.clock.now()).await.expect("sealed");

    // Handlers cannot erase or hold; compliance can, and a legal hold stops erasure.
    let (status, answer) = app
        .command(
            &handler,
            &reference,
            "erase_personal_data",
            json!({"reason": "asked"}),
        )
        .await;
    assert_eq!(status, 403, "{answer}");
    let (status, answer) = app
        .command(
            &compliance,
            &reference,
            "place_legal_hold",
            json!({"reason": "Litigation pending"}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let (status, answer) = app
        .command(
            &compliance,
            &reference,
            "erase_personal_data",
            json!({"reason": "The customer asked on 1 March"}),
        )
        .await;
    assert_eq!(status, 409, "{answer}");
    assert!(
        answer["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("legal hold"),
        "{answer}"
    );
    let (status, answer) = app
        .command(
            &compliance,
            &reference,
            "release_legal_hold",
            json!({"reason": "Settled"}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let (status, answer) = app
        .command(
            &compliance,
            &reference,
            "erase_personal_data",
            json!({"reason": "The customer asked on 1 March"}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");

    // Nothing personal is left anywhere: not in the database's files, not among the files.
    let left = leftovers(&app).await;
    assert!(left.is_empty(), "erased values remain: {left:#?}");
    // The other customer's complaint is as it was.
    let (status, view) = app
        .get_json(Some(&handler), &format!("/api/v1/complaints/{other}"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(view["customer"]["name"], "Olwen Other", "{view}");

    // What reports need stays: dates, stage, status, category, channel, that a
    // vulnerability was recorded; the erasure is on the record, and nothing more can change.
    let (status, view) = app
        .get_json(
            Some(&compliance),
            &format!("/api/v1/complaints/{reference}"),
        )
        .await;
    assert_eq!(status, 200, "{view}");
    let complaint = &view;
    assert_eq!(complaint["status"], "closed", "{view}");
    assert_eq!(complaint["category"], "faults_service_provision");
    assert_eq!(complaint["channel"], "email");
    assert_eq!(complaint["customer"]["name"], "[erased]");
    assert_eq!(
        complaint["customer"]["vulnerabilities"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    let names: Vec<&str> = view["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["event"].as_str())
        .collect();
    assert!(names.contains(&"personal_data_erased"), "{names:?}");
    assert!(names.contains(&"legal_hold_placed"), "{names:?}");
    let (status, answer) = app
        .command(
            &handler,
            &reference,
            "add_note",
            json!({"text": "More about Philomena"}),
        )
        .await;
    assert_eq!(status, 409, "{answer}");
    let (status, answer) = app
        .command(
            &compliance,
            &reference,
            "erase_personal_data",
            json!({"reason": "again"}),
        )
        .await;
    assert_eq!(status, 409, "{answer}");
    // Its letters are gone with it (said so, not a fault), and there is no case file to make.
    let letters = app
        .store
        .complaint_letters(&reference)
        .await
        .expect("letters");
    let first = letters.first().expect("a letter went");
    let answer = app
        .client
        .get(app.url(&format!(
            "/api/v1/complaints/{reference}/letters/{}.pdf",
            first.id
        )))
        .bearer_auth(&compliance)
        .send()
        .await
        .expect("an answer");
    assert_eq!(answer.status().as_u16(), 409);
    let answer = app
        .client
        .get(app.url(&format!("/api/v1/complaints/{reference}/case-file")))
        .bearer_auth(&compliance)
        .send()
        .await
        .expect("an answer");
    assert_eq!(answer.status().as_u16(), 409);

    // The chain still verifies, the ledger's seals too; the erasure itself is sealed next.
    app.store.seal(None, app.clock.now()).await.expect("sealed");
    let report = app.store.verify_audit().await.expect("verifies");
    assert!(report.problems.is_empty(), "{:#?}", report.problems);

    // What is left of an erased event is itself protected: changed again, it is caught (or,
    // on PostgreSQL, refused by the database).
    let id = sqlx_scalar(
        &app,
        &format!("SELECT id FROM complaints WHERE reference = '{reference}'"),
    )
    .await;
    let tampered = sqlx_exec(
        &app,
        &format!(
            "UPDATE events SET payload = replace(payload, '[erased]', 'Someone Else') \
             WHERE complaint_id = {id} AND sequence = 1"
        ),
    )
    .await;
    if tampered {
        let report = app.store.verify_audit().await.expect("verifies");
        assert!(
            report
                .problems
                .iter()
                .any(|p| p.problem.contains("altered after its erasure")),
            "{:#?}",
            report.problems
        );
    }
    app.stop().await;
}

async fn sqlx_scalar(app: &TestApp, sql: &str) -> i64 {
    use sqlx::Row as _;
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&url(app)).await.expect("connects");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(&pool)
        .await
        .expect("a row");
    row.try_get(0).expect("a number")
}

/// Runs a statement beside the server; whether the database took it.
async fn sqlx_exec(app: &TestApp, sql: &str) -> bool {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&url(app)).await.expect("connects");
    sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&pool)
        .await
        .is_ok()
}

fn url(app: &TestApp) -> String {
    if app.database.starts_with("postgres") {
        app.database.clone()
    } else {
        format!("sqlite://{}", app.database)
    }
}

fn retention(app: &TestApp, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_redress"))
        .args([
            "retention",
            "run",
            "--database",
            &app.database,
            "--files-dir",
        ])
        .arg(&app.files_dir)
        .arg("--print-dir")
        .arg(&app.print_dir)
        .args(args)
        .output()
        .expect("redress runs")
}

async fn customer_name(app: &TestApp, token: &str, reference: &str) -> String {
    let (status, view) = app
        .get_json(Some(token), &format!("/api/v1/complaints/{reference}"))
        .await;
    assert_eq!(status, 200, "{view}");
    view["customer"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn the_retention_run_erases_what_is_due_and_keeps_what_is_held(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let handler = app.handler_token("h@kinex.example").await;
    let compliance = app
        .token(Role::Compliance, None, Some("compliance@kinex.example"))
        .await;
    // Closed at the start: its retention period (15 months by default) ends in June 2027.
    let due = full_complaint(&app, &handler).await;
    // Closed at the start too, but under a legal hold.
    let held = app
        .create_complaint(
            &handler,
            support::complaint_body("KX-HELD-1", "Harriet Held"),
        )
        .await;
    for (token, name, body) in [
        (&handler, "close", json!({})),
        (
            &compliance,
            "place_legal_hold",
            json!({"reason": "A regulator's inquiry"}),
        ),
    ] {
        let (status, answer) = app.command(token, &held, name, body).await;
        assert_eq!(status, 200, "{name}: {answer}");
    }
    // Closed ten months later: kept.
    app.clock.set(ts("2027-01-04T09:00:00Z"));
    let kept = app
        .create_complaint(&handler, support::complaint_body("KX-KEPT-1", "Kit Kept"))
        .await;
    let (status, answer) = app.command(&handler, &kept, "close", json!({})).await;
    assert_eq!(status, 200, "{answer}");
    // Still open: never looked at.
    let open = app
        .create_complaint(&handler, support::complaint_body("KX-OPEN-1", "Olive Open"))
        .await;

    let as_of = "2027-07-01T09:00:00Z";
    // A dry run says what would happen and changes nothing.
    let run = retention(&app, &["--dry-run", "--as-of", as_of]);
    let said = String::from_utf8_lossy(&run.stdout).into_owned();
    assert!(
        run.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(said.contains(&format!("{due} would be erased")), "{said}");
    assert!(
        said.contains(&format!("{held} held: a legal hold")),
        "{said}"
    );
    assert!(!said.contains(&kept), "{said}");
    assert!(!said.contains(&open), "{said}");
    assert!(said.contains("3 closed complaints looked at"), "{said}");
    assert_eq!(
        customer_name(&app, &handler, &due).await,
        "Philomena Quartermaine"
    );

    // Before its period ends nothing is erased.
    let run = retention(&app, &["--as-of", "2027-05-01T09:00:00Z", "--json"]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let report: Value = serde_json::from_slice(&run.stdout).expect("a JSON report");
    assert_eq!(
        report["erased"].as_array().map(Vec::len),
        Some(0),
        "{report}"
    );
    assert_eq!(
        customer_name(&app, &handler, &due).await,
        "Philomena Quartermaine"
    );

    // Then it is: the one due, and only it.
    let run = retention(&app, &["--as-of", as_of, "--json"]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let report: Value = serde_json::from_slice(&run.stdout).expect("a JSON report");
    let erased: Vec<&str> = report["erased"]
        .as_array()
        .expect("erased")
        .iter()
        .filter_map(|e| e["reference"].as_str())
        .collect();
    assert_eq!(erased, vec![due.as_str()], "{report}");
    assert_eq!(report["held"][0]["reference"], held.as_str(), "{report}");
    assert!(
        report["files_deleted"].as_u64().unwrap_or(0) > 0,
        "{report}"
    );
    assert_eq!(customer_name(&app, &handler, &due).await, "[erased]");
    assert_eq!(customer_name(&app, &handler, &held).await, "Harriet Held");
    assert_eq!(customer_name(&app, &handler, &kept).await, "Kit Kept");
    assert_eq!(customer_name(&app, &handler, &open).await, "Olive Open");
    let left = leftovers(&app).await;
    assert!(left.is_empty(), "erased values remain: {left:#?}");
    let (status, view) = app
        .get_json(Some(&handler), &format!("/api/v1/complaints/{due}"))
        .await;
    assert_eq!(status, 200);
    let erasure = view["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["event"] == "personal_data_erased")
        .cloned()
        .expect("the erasure is on the record");
    assert_eq!(erasure["on_request"], false, "{erasure}");
    assert!(erasure["events"].as_u64().unwrap_or(0) >= 5, "{erasure}");

    // A second run finds nothing more to do; released, the held one goes at the next.
    let run = retention(&app, &["--as-of", as_of, "--json"]);
    let report: Value = serde_json::from_slice(&run.stdout).expect("a JSON report");
    assert_eq!(
        report["erased"].as_array().map(Vec::len),
        Some(0),
        "{report}"
    );
    let (status, answer) = app
        .command(
            &compliance,
            &held,
            "release_legal_hold",
            json!({"reason": "Inquiry closed"}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let run = retention(&app, &["--as-of", "2027-07-03T09:00:00Z", "--json"]);
    let report: Value = serde_json::from_slice(&run.stdout).expect("a JSON report");
    assert_eq!(report["erased"][0]["reference"], held.as_str(), "{report}");

    let report = app.store.verify_audit().await.expect("verifies");
    assert!(report.problems.is_empty(), "{:#?}", report.problems);
    let _ = Reference::parse(&due).expect("a reference");
    app.stop().await;
}
