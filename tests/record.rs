//! The record as evidence, black-box through a real server: the ombudsman's case file of a
//! complaint (`GET /api/v1/complaints/{reference}/case-file`, `redress case-file`, the case
//! page's button): what it holds, that its manifest's hashes are the files', that restricted
//! notes stay out, and that making it is recorded on the complaint. On SQLite and PostgreSQL.
#[macro_use]
mod support;

use std::collections::BTreeMap;
use std::io::Read as _;

use redress::clock::Clock as _;

use redress_core::{Reference, Role};
use serde_json::{Value, json};
use support::browser::Browser;
use support::{Db, TestApp, spawn_app};

both_backends! {
    the_case_file_holds_the_whole_record_but_restricted_notes =>
        sqlite_the_case_file_holds_the_whole_record_but_restricted_notes,
        postgres_the_case_file_holds_the_whole_record_but_restricted_notes;
    a_subject_access_export_holds_the_customer_and_no_one_else =>
        sqlite_a_subject_access_export_holds_the_customer_and_no_one_else,
        postgres_a_subject_access_export_holds_the_customer_and_no_one_else;
    compliance_reads_who_did_what_through_what_and_checks_the_record =>
        sqlite_compliance_reads_who_did_what_through_what_and_checks_the_record,
        postgres_compliance_reads_who_did_what_through_what_and_checks_the_record;
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Every entry of a zip, by path.
fn entries(zip: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).expect("a zip");
    let mut out = BTreeMap::new();
    for n in 0..archive.len() {
        let mut entry = archive.by_index(n).expect("an entry");
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).expect("its bytes");
        out.insert(entry.name().expect("a name").to_string(), bytes);
    }
    out
}

fn pdf_text(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().expect("a folder");
    let path = dir.path().join("summary.pdf");
    std::fs::write(&path, bytes).expect("written");
    let output = std::process::Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext runs (apt-get install poppler-utils)");
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

async fn get_zip(app: &TestApp, token: &str, reference: &str) -> (u16, String, Vec<u8>) {
    let answer = app
        .client
        .get(app.url(&format!("/api/v1/complaints/{reference}/case-file")))
        .bearer_auth(token)
        .send()
        .await
        .expect("an answer");
    let status = answer.status().as_u16();
    let kind = answer
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, kind, answer.bytes().await.expect("a body").to_vec())
}

async fn the_case_file_holds_the_whole_record_but_restricted_notes(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let handler = app.handler_token("h@kinex.example").await;
    let reference = app
        .create_complaint(
            &handler,
            json!({"channel": "telephone",
                   "customer": {"account": "KX-71", "name": "Nia Example", "email": "nia@example.com",
                                "postcode": "M1 1AA", "accessibility_needs": ["large print"],
                                "vulnerabilities": ["recently bereaved"]},
                   "summary": "The line has been dead for nine days"}),
        )
        .await;
    for (name, body) in [
        ("acknowledge", json!({})),
        (
            "record_call",
            json!({"direction": "outbound", "summary": "Explained the engineer visit"}),
        ),
        ("add_note", json!({"text": "Customer prefers mornings"})),
        (
            "add_note",
            json!({"text": "SECRET-STAFF-MATTER about the agent", "restricted": true}),
        ),
        ("establish_fault", json!({})),
        (
            "offer_compensation",
            json!({"amount_pence": 4000, "reason": "Nine days without a line"}),
        ),
    ] {
        let (status, answer) = app.command(&handler, &reference, name, body).await;
        assert_eq!(status, 200, "{name}: {answer}");
    }
    // The customer writes back with a photo: the email and the photo are part of the record.
    let photo = b"\x89PNG\r\n\x1a\n the router's lights".to_vec();
    let raw = format!(
        "From: Nia Example <nia@example.com>\r\nTo: complaints@kinex.example\r\nSubject: Re: {reference}\r\n\
         Message-ID: <nia-1@example.com>\r\nDate: Mon, 2 Mar 2026 08:00:00 +0000\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nHere is a photo.\r\n\
         --b\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename=\"lights.png\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--b--\r\n",
        base64_of(&photo)
    );
    let request = app
        .client
        .post(app.url("/api/v1/inbound/email"))
        .bearer_auth(&handler)
        .header("content-type", "message/rfc822")
        .body(raw.clone());
    let (status, filed) = support::api::answer(request).await;
    assert_eq!(status, 202, "{filed}");
    assert_eq!(filed["outcome"], "added_to_complaint", "{filed}");
    app.send_letters().await;

    // Handlers do not make case files.
    let (status, _, _) = get_zip(&app, &handler, &reference).await;
    assert_eq!(status, 403);
    let compliance = app
        .token(Role::Compliance, None, Some("compliance@kinex.example"))
        .await;
    let head = app
        .store
        .chain_head(&Reference::parse(&reference).expect("a reference"))
        .await
        .expect("the chain head");
    let (status, kind, zip) = get_zip(&app, &compliance, &reference).await;
    assert_eq!(status, 200);
    assert_eq!(kind, "application/zip");
    let files = entries(&zip);
    let names: Vec<&str> = files.keys().map(String::as_str).collect();

    // The manifest lists every other file with its SHA-256, and the chain head it was made at.
    let manifest: Value = serde_json::from_slice(&files["manifest.json"]).expect("a manifest");
    assert_eq!(manifest["chain_head"], head.as_str());
    assert_eq!(manifest["generated_by"], "compliance@kinex.example");
    let listed = manifest["files"].as_array().expect("files");
    assert_eq!(listed.len(), files.len() - 1, "{names:?}");
    for entry in listed {
        let path = entry["path"].as_str().expect("a path");
        assert_eq!(
            entry["sha256"].as_str(),
            Some(sha256_hex(&files[path]).as_str()),
            "{path}"
        );
    }

    // Every letter as sent, byte for byte.
    let letters = app
        .store
        .complaint_letters(&reference)
        .await
        .expect("letters");
    let acknowledgement = letters
        .iter()
        .find(|l| l.kind == "acknowledgement")
        .expect("an acknowledgement");
    let copy = app
        .store
        .letter_copy(acknowledgement.id)
        .await
        .expect("read")
        .expect("kept as sent");
    let path = format!(
        "correspondence/letter-{:04}-acknowledgement.pdf",
        acknowledgement.id
    );
    assert_eq!(
        files.get(&path).expect("the acknowledgement as sent"),
        &std::fs::read(app.files_dir.join(&copy.pdf_sha256)).expect("the PDF that went")
    );
    // The email as it arrived, and the photo it brought.
    assert!(
        files.iter().any(|(p, b)| p.starts_with("correspondence/")
            && p.ends_with(".eml")
            && b == raw.as_bytes()),
        "{names:?}"
    );
    assert!(
        files
            .iter()
            .any(|(p, b)| p.starts_with("evidence/") && p.ends_with("lights.png") && *b == photo),
        "{names:?}"
    );

    // Records: calls and notes, never the restricted note.
    let notes = String::from_utf8_lossy(&files["records/notes.txt"]).into_owned();
    assert!(notes.contains("Customer prefers mornings"), "{notes}");
    assert!(
        String::from_utf8_lossy(&files["records/calls.txt"])
            .contains("Explained the engineer visit")
    );
    for (path, bytes) in &files {
        assert!(
            !String::from_utf8_lossy(bytes).contains("SECRET-STAFF-MATTER"),
            "{path} holds the restricted note"
        );
    }

    // The summary: the needs, the offer and what became of it, the position, the clocks.
    let summary = pdf_text(&files["summary.pdf"]);
    for words in [
        "Nia Example",
        "large print",
        "recently bereaved",
        "£40.00",
        "made to the customer",
        "Acknowledged on",
    ] {
        assert!(summary.contains(words), "{words}: {summary}");
    }
    assert!(!summary.contains("SECRET-STAFF-MATTER"), "{summary}");

    // Making it is on the record, with the manifest's hash.
    let view = app
        .store
        .get_complaint(&Reference::parse(&reference).expect("a reference"))
        .await
        .expect("the complaint");
    let made = view.events.last().expect("an event");
    let redress_core::EventKind::CaseFileGenerated {
        manifest_sha256, ..
    } = &made.event.kind
    else {
        panic!("the last event is {:?}", made.event.kind);
    };
    assert_eq!(manifest_sha256, &sha256_hex(&files["manifest.json"]));
    assert_eq!(
        made.event.by.staff.as_deref(),
        Some("compliance@kinex.example")
    );

    // The same from the command line.
    let out = tempfile::tempdir().expect("a folder");
    let zip_path = out.path().join("case.zip");
    let run = redress(
        &app,
        &["case-file", &reference, "--by", "ops@kinex.example"],
        &zip_path,
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let from_cli = entries(&std::fs::read(&zip_path).expect("the zip"));
    assert!(from_cli["summary.pdf"].starts_with(b"%PDF"));
    let manifest: Value = serde_json::from_slice(&from_cli["manifest.json"]).expect("a manifest");
    assert_eq!(manifest["generated_by"], "ops@kinex.example");

    // And from the case page, for a team manager; not offered to a handler.
    app.staff_account(
        "mgr@kinex.example",
        Role::TeamManager,
        Some("customer_services"),
    )
    .await;
    app.staff_account("cs@kinex.example", Role::Handler, Some("customer_services"))
        .await;
    let mut handler_page = Browser::signed_in_staff(&app, "cs@kinex.example").await;
    let page = handler_page.case(&reference).await;
    assert!(!page.body.contains("Download the case file"));
    let csrf = page.csrf_token();
    handler_page
        .post_form(
            &format!("/staff/complaints/{reference}/case-file"),
            &[("csrf", &csrf)],
        )
        .await
        .expect(403);
    let mut manager = Browser::signed_in_staff(&app, "mgr@kinex.example").await;
    let page = manager.case(&reference).await;
    assert!(
        page.body.contains("Download the case file"),
        "{}",
        page.body
    );
    let csrf = page.csrf_token();
    let answer = manager
        .post_form(
            &format!("/staff/complaints/{reference}/case-file"),
            &[("csrf", &csrf)],
        )
        .await;
    answer.expect(200);
    assert_eq!(
        answer
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/zip")
    );
    app.stop().await;
}

async fn a_subject_access_export_holds_the_customer_and_no_one_else(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let handler = app.handler_token("h@kinex.example").await;
    let complaint = |account: &str, name: &str, summary: &str| {
        json!({"channel": "telephone",
               "customer": {"account": account, "name": name, "email": format!("{}@example.com", name.to_lowercase().replace(' ', ".")),
                            "postcode": "M1 1AA", "vulnerabilities": ["carer for a relative"]},
               "summary": summary})
    };
    let first = app
        .create_complaint(
            &handler,
            complaint("KX-81", "Ola Example", "Billed after I left"),
        )
        .await;
    let second = app
        .create_complaint(
            &handler,
            complaint("KX-81", "Ola Example", "Engineer never came"),
        )
        .await;
    let other = app
        .create_complaint(
            &handler,
            complaint("KX-99", "Someone Else", "OTHER-PERSONS-WORDS"),
        )
        .await;
    for (reference, name, body) in [
        (&first, "acknowledge", json!({})),
        (
            &first,
            "add_note",
            json!({"text": "Ola asked for calls after 5pm"}),
        ),
        (
            &first,
            "add_note",
            json!({"text": "STAFF-CONDUCT-MATTER", "restricted": true}),
        ),
        (&second, "assign", json!({"handler": "h@kinex.example"})),
        (&other, "acknowledge", json!({})),
    ] {
        let (status, answer) = app.command(&handler, reference, name, body).await;
        assert_eq!(status, 200, "{name}: {answer}");
    }
    app.send_letters().await;
    app.staff_account("comp@kinex.example", Role::Compliance, None)
        .await;
    app.staff_account("cs@kinex.example", Role::Handler, Some("customer_services"))
        .await;
    let mut cs = Browser::signed_in_staff(&app, "cs@kinex.example").await;
    cs.get("/staff/subject-access").await.expect(403);
    let mut compliance = Browser::signed_in_staff(&app, "comp@kinex.example").await;
    let page = compliance.get("/staff/subject-access").await;
    page.expect(200);
    let csrf = page.csrf_token();
    let missing = compliance
        .post_form(
            "/staff/subject-access",
            &[("csrf", &csrf), ("account", " ")],
        )
        .await;
    missing.expect(422);
    assert!(
        missing.body.contains("href=\"#account\""),
        "{}",
        missing.body
    );
    let unknown = compliance
        .post_form(
            "/staff/subject-access",
            &[("csrf", &csrf), ("account", "KX-00000")],
        )
        .await;
    unknown.expect(404);
    assert!(unknown.body.contains("KX-00000"), "what was typed is kept");

    // Over the API client, so the zip's bytes arrive whole.
    let answer = compliance
        .post_form(
            "/staff/subject-access",
            &[("csrf", &csrf), ("account", "KX-81")],
        )
        .await;
    answer.expect(200);
    assert_eq!(
        answer
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/zip")
    );
    let out = tempfile::tempdir().expect("a folder");
    let zip_path = out.path().join("sar.zip");
    let run = redress(
        &app,
        &[
            "subject-access",
            "--account",
            "KX-81",
            "--by",
            "dpo@kinex.example",
        ],
        &zip_path,
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let files = entries(&std::fs::read(&zip_path).expect("the zip"));
    let names: Vec<&str> = files.keys().map(String::as_str).collect();
    let data: Value = serde_json::from_slice(&files["data.json"]).expect("data");
    let complaints = data["complaints"].as_array().expect("complaints");
    let references: Vec<&str> = complaints
        .iter()
        .filter_map(|c| c["reference"].as_str())
        .collect();
    assert_eq!(references, [first.as_str(), second.as_str()]);
    assert_eq!(
        complaints[0]["customer"]["vulnerabilities"][0],
        "carer for a relative"
    );
    assert!(
        files.contains_key(&format!("letters/{first}/letter-0001-acknowledgement.pdf"))
            || names
                .iter()
                .any(|n| n.starts_with(&format!("letters/{first}/"))
                    && n.ends_with("-acknowledgement.pdf")),
        "{names:?}"
    );
    let readable = pdf_text(&files["complaints.pdf"]);
    assert!(
        readable.contains("Ola asked for calls after 5pm"),
        "{readable}"
    );
    // Nothing about anyone else: no restricted note, no staff member, no other customer.
    for (path, bytes) in &files {
        let text = String::from_utf8_lossy(bytes);
        for secret in [
            "STAFF-CONDUCT-MATTER",
            "h@kinex.example",
            "OTHER-PERSONS-WORDS",
            "Someone Else",
        ] {
            assert!(!text.contains(secret), "{path} holds {secret}");
        }
    }
    assert!(!readable.contains("STAFF-CONDUCT-MATTER"));
    let manifest: Value = serde_json::from_slice(&files["manifest.json"]).expect("a manifest");
    assert_eq!(manifest["generated_by"], "dpo@kinex.example");
    for entry in manifest["files"].as_array().expect("files") {
        let path = entry["path"].as_str().expect("a path");
        assert_eq!(
            entry["sha256"].as_str(),
            Some(sha256_hex(&files[path]).as_str()),
            "{path}"
        );
    }
    // Recorded on each of the customer's complaints, not on anyone else's.
    for (reference, exported) in [(&first, 2), (&second, 2), (&other, 0)] {
        let view = app
            .store
            .get_complaint(&Reference::parse(reference).expect("a reference"))
            .await
            .expect("the complaint");
        let n = view
            .events
            .iter()
            .filter(|row| row.event.kind.name() == "subject_access_exported")
            .count();
        assert_eq!(
            n, exported,
            "{reference}: the page's export and the command line's"
        );
    }
    let unknown = redress(
        &app,
        &["subject-access", "--account", "KX-NOBODY"],
        &out.path().join("none.zip"),
    );
    assert!(!unknown.status.success());
    assert!(
        String::from_utf8_lossy(&unknown.stderr)
            .contains("no complaint is held for account KX-NOBODY"),
        "{}",
        String::from_utf8_lossy(&unknown.stderr)
    );
    app.stop().await;
}

async fn compliance_reads_who_did_what_through_what_and_checks_the_record(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    app.staff_account("cs@kinex.example", Role::Handler, Some("customer_services"))
        .await;
    app.staff_account("comp@kinex.example", Role::Compliance, None)
        .await;
    // Recorded through the API, acknowledged on the staff pages, its letter sent by the
    // sender, an ADR point fired by the scheduler.
    let token = app.handler_token("api-user@kinex.example").await;
    let reference = app
        .create_complaint(
            &token,
            json!({"channel": "telephone",
                   "customer": {"account": "KX-91", "name": "Pat Example", "email": "pat@example.com"},
                   "summary": "No service"}),
        )
        .await;
    let mut cs = Browser::signed_in_staff(&app, "cs@kinex.example").await;
    cs.command(&reference, "acknowledge", &[]).await.expect(303);
    app.send_letters().await;
    app.clock
        .set(app.clock.now() + jiff::SignedDuration::from_hours(24 * 60));
    assert!(app.fire_deadlines().await >= 1);

    let view = app
        .store
        .get_complaint(&Reference::parse(&reference).expect("a reference"))
        .await
        .expect("the complaint");
    let via: Vec<(&str, Option<&str>)> = view
        .events
        .iter()
        .map(|row| (row.event.kind.name(), row.via.as_deref()))
        .collect();
    for expected in [
        ("received", Some("api")),
        ("acknowledged", Some("web")),
        ("letter_sent", Some("sender")),
        ("adr_eligible", Some("scheduler")),
    ] {
        assert!(via.contains(&expected), "{expected:?} in {via:?}");
    }

    // The trail on the case page, for compliance only (signed in again: 60 days have passed).
    let mut cs = Browser::signed_in_staff(&app, "cs@kinex.example").await;
    let page = cs.case(&reference).await;
    assert!(!page.body.contains("Audit trail"));
    let mut compliance = Browser::signed_in_staff(&app, "comp@kinex.example").await;
    let page = compliance.case(&reference).await;
    page.expect(200);
    let trail = &page.body[page.body.find("Audit trail").expect("the audit trail")..];
    for words in [
        "Staff cs@kinex.example (handler)",
        "api-user@kinex.example (handler)",
        "Redress itself",
        "Web pages",
        "API",
        "Letter sender",
        "Scheduler",
    ] {
        assert!(trail.contains(words), "{words}: {trail}");
    }

    // The whole record checked from the page.
    cs.get("/staff/audit").await.expect(403);
    let page = compliance.get("/staff/audit").await;
    page.expect(200);
    let csrf = page.csrf_token();
    let checked = compliance
        .post_form("/staff/audit", &[("csrf", &csrf)])
        .await;
    checked.expect(200);
    assert!(
        checked.body.contains("The record is intact"),
        "{}",
        checked.body
    );
    assert!(
        checked.body.contains("Checked 1 complaints"),
        "{}",
        checked.body
    );
    app.stop().await;
}

/// Runs `redress` on the app's record and files, writing its zip to `out`.
fn redress(app: &TestApp, args: &[&str], out: &std::path::Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_redress"))
        .args(args)
        .arg("--out")
        .arg(out)
        .args(["--database", &app.database, "--files-dir"])
        .arg(&app.files_dir)
        .output()
        .expect("redress runs")
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
