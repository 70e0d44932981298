//! Email and post in, black-box: `POST /api/v1/inbound/email`, the quarantine, letters received
//! by post, `redress ingest-mail` as a process, and the IMAP poller against a real Dovecot
//! started by the test. Each scenario runs on SQLite and on PostgreSQL.
#[macro_use]
mod support;

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use redress::clock::Clock;
use redress::mail::imap::{ImapAccount, ImapConfig, PollReport, poll_once};
use redress::mail::inbound::Inbox;
use redress::store::{Idempotency, Keyed, NewAttachment, Store, StoreError};
use redress_core::{Action, Actor, Channel, Procedure, Reference, Role};
use serde_json::Value;
use sha2::{Digest, Sha256};
use support::api::answer;
use support::browser::multipart;
use support::process::{BIN, free_port};
use support::{Db, TestApp, complaint_body, fresh_database, in_ci, spawn_app, spawn_app_beside};

both_backends! {
    an_email_from_someone_else_is_filed_and_marked_for_staff_to_confirm =>
        sqlite_an_email_from_someone_else_is_filed_and_marked_for_staff_to_confirm,
        postgres_an_email_from_someone_else_is_filed_and_marked_for_staff_to_confirm;
    a_reply_to_a_letter_is_added_to_its_complaint_with_its_attachments =>
        sqlite_a_reply_to_a_letter_is_added_to_its_complaint_with_its_attachments,
        postgres_a_reply_to_a_letter_is_added_to_its_complaint_with_its_attachments;
    a_reference_in_the_subject_names_the_complaint =>
        sqlite_a_reference_in_the_subject_names_the_complaint,
        postgres_a_reference_in_the_subject_names_the_complaint;
    a_new_message_starts_a_complaint_at_stage_one_on_the_email_channel =>
        sqlite_a_new_message_starts_a_complaint_at_stage_one_on_the_email_channel,
        postgres_a_new_message_starts_a_complaint_at_stage_one_on_the_email_channel;
    garbage_is_quarantined_with_a_reason_and_listed =>
        sqlite_garbage_is_quarantined_with_a_reason_and_listed,
        postgres_garbage_is_quarantined_with_a_reason_and_listed;
    a_message_delivered_twice_is_filed_once =>
        sqlite_a_message_delivered_twice_is_filed_once,
        postgres_a_message_delivered_twice_is_filed_once;
    attachments_over_the_limits_are_refused_and_noted =>
        sqlite_attachments_over_the_limits_are_refused_and_noted,
        postgres_attachments_over_the_limits_are_refused_and_noted;
    the_endpoint_checks_its_caller_and_content_type =>
        sqlite_the_endpoint_checks_its_caller_and_content_type,
        postgres_the_endpoint_checks_its_caller_and_content_type;
    a_letter_received_by_post_joins_the_timeline_with_its_scan =>
        sqlite_a_letter_received_by_post_joins_the_timeline_with_its_scan,
        postgres_a_letter_received_by_post_joins_the_timeline_with_its_scan;
    ingest_mail_files_a_message_read_on_stdin =>
        sqlite_ingest_mail_files_a_message_read_on_stdin,
        postgres_ingest_mail_files_a_message_read_on_stdin;
    the_imap_poller_files_unseen_messages_and_marks_them_seen =>
        sqlite_the_imap_poller_files_unseen_messages_and_marks_them_seen,
        postgres_the_imap_poller_files_unseen_messages_and_marks_them_seen;
    the_imap_poller_speaks_tls_and_checks_the_certificate =>
        sqlite_the_imap_poller_speaks_tls_and_checks_the_certificate,
        postgres_the_imap_poller_speaks_tls_and_checks_the_certificate;
    the_imap_poller_leaves_messages_unseen_while_the_database_is_down =>
        sqlite_the_imap_poller_leaves_messages_unseen_while_the_database_is_down,
        postgres_the_imap_poller_leaves_messages_unseen_while_the_database_is_down;
    a_refused_evidence_command_records_neither_its_event_nor_its_files =>
        sqlite_a_refused_evidence_command_records_neither_its_event_nor_its_files,
        postgres_a_refused_evidence_command_records_neither_its_event_nor_its_files;
    an_attachment_the_database_rejects_takes_its_event_with_it =>
        sqlite_an_attachment_the_database_rejects_takes_its_event_with_it,
        postgres_an_attachment_the_database_rejects_takes_its_event_with_it;
}

// ---------------------------------------------------------------------------------------------
// Messages.

struct Mail<'a> {
    from: &'a str,
    subject: &'a str,
    message_id: Option<&'a str>,
    in_reply_to: Option<&'a str>,
    body: &'a str,
    attachments: Vec<(String, &'a str, Vec<u8>)>,
}

impl<'a> Mail<'a> {
    fn new(from: &'a str, subject: &'a str, body: &'a str) -> Mail<'a> {
        Mail {
            from,
            subject,
            message_id: None,
            in_reply_to: None,
            body,
            attachments: Vec::new(),
        }
    }

    fn id(mut self, id: &'a str) -> Mail<'a> {
        self.message_id = Some(id);
        self
    }

    fn reply_to(mut self, id: &'a str) -> Mail<'a> {
        self.in_reply_to = Some(id);
        self
    }

    fn attach(mut self, name: &str, content_type: &'a str, bytes: Vec<u8>) -> Mail<'a> {
        self.attachments
            .push((name.to_owned(), content_type, bytes));
        self
    }

    fn raw(&self) -> Vec<u8> {
        let mut out = format!(
            "From: {}\r\nTo: complaints@provider.example\r\nSubject: {}\r\nDate: Mon, 2 Mar 2026 08:00:00 +0000\r\nMIME-Version: 1.0\r\n",
            self.from, self.subject
        );
        if let Some(id) = self.message_id {
            out.push_str(&format!("Message-ID: {id}\r\n"));
        }
        if let Some(id) = self.in_reply_to {
            out.push_str(&format!("In-Reply-To: {id}\r\nReferences: {id}\r\n"));
        }
        if self.attachments.is_empty() {
            out.push_str(&format!(
                "Content-Type: text/plain; charset=utf-8\r\n\r\n{}\r\n",
                self.body
            ));
            return out.into_bytes();
        }
        out.push_str("Content-Type: multipart/mixed; boundary=\"=-boundary-=\"\r\n\r\n");
        out.push_str(&format!(
            "--=-boundary-=\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{}\r\n",
            self.body
        ));
        for (name, content_type, bytes) in &self.attachments {
            let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
            out.push_str(&format!(
                "--=-boundary-=\r\nContent-Type: {content_type}; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            ));
            for line in encoded.as_bytes().chunks(76) {
                out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
                out.push_str("\r\n");
            }
        }
        out.push_str("--=-boundary-=--\r\n");
        out.into_bytes()
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn pdf(text: &str) -> Vec<u8> {
    format!("%PDF-1.7\n% {text}\n%%EOF\n").into_bytes()
}

// ---------------------------------------------------------------------------------------------
// Helpers against the application.

async fn handler_token(app: &TestApp) -> String {
    app.handler_token("jo.handler").await
}

async fn create_complaint(app: &TestApp, token: &str) -> String {
    app.create_complaint(token, complaint_body("ACC-1001", "Ann Smith"))
        .await
}

async fn post_email(app: &TestApp, token: &str, raw: Vec<u8>) -> (u16, Value) {
    let request = app
        .client
        .post(app.url("/api/v1/inbound/email"))
        .bearer_auth(token)
        .header("content-type", "message/rfc822")
        .body(raw);
    answer(request).await
}

async fn complaint(app: &TestApp, token: &str, reference: &str) -> Value {
    app.complaint_json(token, reference).await
}

fn events_named<'a>(complaint: &'a Value, name: &str) -> Vec<&'a Value> {
    complaint["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["event"] == name)
        .collect()
}

async fn quarantine(app: &TestApp, token: &str) -> Vec<Value> {
    let (status, body) = app
        .get_json(Some(token), "/api/v1/inbound/quarantine")
        .await;
    assert_eq!(status, 200);
    body["items"].as_array().expect("items").clone()
}

async fn complaint_count(app: &TestApp, token: &str) -> usize {
    let (_, body) = app
        .get_json(Some(token), "/api/v1/complaints?limit=200")
        .await;
    body["items"].as_array().expect("items").len()
}

// ---------------------------------------------------------------------------------------------
// The HTTP endpoint and filing.

async fn a_reply_to_a_letter_is_added_to_its_complaint_with_its_attachments(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let token = handler_token(&app).await;
    let reference = create_complaint(&app, &token).await;
    let bill = pdf("the March bill");
    let photo = b"\xFF\xD8\xFF\xE0 a photo of the router".to_vec();
    let letter_id = format!("<letter-1.{reference}@redress.example>");
    let raw = Mail::new(
        "Ann Smith <ann@example.com>",
        "Re: your letter",
        "Here is the bill you asked for.",
    )
    .id("<reply-1@example.com>")
    .reply_to(&letter_id)
    .attach("bill.pdf", "application/pdf", bill.clone())
    .attach("router.jpg", "image/jpeg", photo.clone())
    .raw();
    let raw_sent = raw.clone();
    let (status, body) = post_email(&app, &token, raw).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["outcome"], "added_to_complaint");
    assert_eq!(body["reference"], reference.as_str());

    let view = complaint(&app, &token, &reference).await;
    let evidence = events_named(&view, "evidence_received");
    assert_eq!(evidence.len(), 1, "{view}");
    assert_eq!(evidence[0]["channel"], "email");
    assert_eq!(evidence[0]["by"]["role"], "system");
    let description = evidence[0]["description"].as_str().expect("description");
    assert!(
        description.contains("Here is the bill you asked for."),
        "{description}"
    );
    assert!(description.contains("ann@example.com"), "{description}");
    assert_eq!(view["stage"], 1);

    let attachments = app
        .store
        .attachments(&reference)
        .await
        .expect("attachments");
    // The two attachments, then the message itself as it arrived.
    assert_eq!(attachments.len(), 3);
    assert_eq!(attachments[2].content_type, "message/rfc822");
    assert_eq!(
        std::fs::read(app.files_dir.join(&attachments[2].sha256)).expect("the message"),
        raw_sent
    );
    for (row, bytes, name) in [
        (&attachments[0], &bill, "bill.pdf"),
        (&attachments[1], &photo, "router.jpg"),
    ] {
        assert_eq!(row.filename, name);
        assert_eq!(row.sha256, sha256_hex(bytes));
        assert_eq!(row.size, bytes.len() as i64);
        assert_eq!(
            &std::fs::read(app.files_dir.join(&row.sha256)).expect("kept by its hash"),
            bytes
        );
    }
    assert_eq!(attachments[0].content_type, "application/pdf");
    app.stop().await;
}

async fn a_reference_in_the_subject_names_the_complaint(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let token = handler_token(&app).await;
    let reference = create_complaint(&app, &token).await;
    let subject = format!("Re: [{}] still broken", reference.to_lowercase());
    let raw = Mail::new("bob@example.org", &subject, "It dropped again at 8pm.")
        .id("<subject-1@example.org>")
        .raw();
    let (status, body) = post_email(&app, &token, raw).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["outcome"], "added_to_complaint");
    assert_eq!(body["reference"], reference.as_str());
    // A reference that does not exist starts a new complaint instead.
    let raw = Mail::new("bob@example.org", "About CMP-2026-999999", "Hello")
        .id("<subject-2@example.org>")
        .raw();
    let (_, body) = post_email(&app, &token, raw).await;
    assert_eq!(body["outcome"], "new_complaint", "{body}");
    assert_ne!(body["reference"], reference.as_str());
    app.stop().await;
}

/// Anyone can write a reference in a subject: an email from an address other than the
/// customer's is still filed (nothing is lost), with a note for staff to confirm it.
async fn an_email_from_someone_else_is_filed_and_marked_for_staff_to_confirm(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let token = handler_token(&app).await;
    let mut body = complaint_body("ACC-1001", "Ann Smith");
    body["customer"]["email"] = Value::String("Ann@Example.com".into());
    let response = app
        .client
        .post(app.url("/api/v1/complaints"))
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .expect("create");
    assert_eq!(response.status(), 201);
    let reference = response.json::<Value>().await.expect("json")["reference"]
        .as_str()
        .expect("reference")
        .to_owned();
    let subject = format!("{reference}: more details");
    let own = Mail::new("Ann Smith <ann@example.com>", &subject, "From Ann herself.")
        .id("<own-1@example.com>")
        .raw();
    let (status, answer) = post_email(&app, &token, own).await;
    assert_eq!(
        (status, answer["outcome"].as_str()),
        (202, Some("added_to_complaint"))
    );
    let view = complaint(&app, &token, &reference).await;
    assert!(
        events_named(&view, "note_added").is_empty(),
        "the customer's own address needs no check: {view}"
    );

    let other = Mail::new(
        "Mallory <mallory@example.net>",
        &subject,
        "Please cancel everything.",
    )
    .id("<other-1@example.net>")
    .raw();
    let (status, answer) = post_email(&app, &token, other).await;
    assert_eq!(
        (status, answer["outcome"].as_str()),
        (202, Some("added_to_complaint"))
    );
    let view = complaint(&app, &token, &reference).await;
    assert_eq!(events_named(&view, "evidence_received").len(), 2);
    let notes = events_named(&view, "note_added");
    assert_eq!(notes.len(), 1, "{view}");
    let text = notes[0]["text"].as_str().expect("text");
    assert!(text.starts_with("Sender does not match"), "{text}");
    assert!(text.contains("mallory@example.net"), "{text}");
    app.stop().await;
}

async fn a_new_message_starts_a_complaint_at_stage_one_on_the_email_channel(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let token = handler_token(&app).await;
    let raw = Mail::new(
        "\"Carol Jones\" <carol@example.net>",
        "Charged twice for March",
        "I was charged twice for my March bill.\r\nPlease refund one.",
    )
    .id("<new-1@example.net>")
    .raw();
    let (status, body) = post_email(&app, &token, raw).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["outcome"], "new_complaint");
    let reference = body["reference"].as_str().expect("a reference");
    Reference::parse(reference).expect("a complaint reference");

    let view = complaint(&app, &token, reference).await;
    assert_eq!(view["stage"], 1);
    assert_eq!(view["status"], "open");
    assert_eq!(view["channel"], "email");
    assert_eq!(view["customer"]["account"], "UNVERIFIED");
    assert_eq!(view["customer"]["name"], "Carol Jones");
    assert_eq!(view["customer"]["email"], "carol@example.net");
    let summary = view["summary"].as_str().expect("summary");
    assert!(
        summary.starts_with("Charged twice for March\n\nI was charged twice"),
        "{summary}"
    );
    let received = events_named(&view, "received");
    assert_eq!(received.len(), 1);
    assert_eq!(received[0]["by"]["role"], "system");
    app.stop().await;
}

async fn garbage_is_quarantined_with_a_reason_and_listed(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let token = handler_token(&app).await;
    let before = complaint_count(&app, &token).await;
    let garbage = b"\x00\x01\x02\xff this is not an email at all \xfe".to_vec();
    let (status, body) = post_email(&app, &token, garbage.clone()).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["outcome"], "quarantined");
    let reason = body["reason"].as_str().expect("a reason");
    assert!(!reason.is_empty());
    assert!(body.get("reference").is_none());

    // No sender: quarantined too, with its subject kept for staff.
    let senderless =
        b"Subject: who am I\r\nMessage-ID: <nosender@x.example>\r\n\r\nhello\r\n".to_vec();
    let (_, body) = post_email(&app, &token, senderless.clone()).await;
    assert_eq!(body["outcome"], "quarantined");
    assert!(
        body["reason"].as_str().expect("reason").contains("sender"),
        "{body}"
    );

    let items = quarantine(&app, &token).await;
    assert_eq!(items.len(), 2, "{items:?}");
    // Newest first.
    assert_eq!(items[0]["subject"], "who am I");
    assert_eq!(items[0]["message_id"], "nosender@x.example");
    assert_eq!(items[1]["reason"], reason);
    assert_eq!(items[1]["source"], "http");
    for (item, raw) in [(&items[0], &senderless), (&items[1], &garbage)] {
        let sha = item["sha256"].as_str().expect("sha256");
        assert_eq!(sha, sha256_hex(raw));
        assert_eq!(
            &std::fs::read(app.files_dir.join(sha)).expect("raw kept"),
            raw
        );
    }
    assert_eq!(complaint_count(&app, &token).await, before);

    // Compliance may read the quarantine; administrators may not.
    let compliance = app.token(Role::Compliance, None, None).await;
    assert_eq!(quarantine(&app, &compliance).await.len(), 2);
    let admin = app.token(Role::Administrator, None, None).await;
    let response = app
        .client
        .get(app.url("/api/v1/inbound/quarantine"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("list");
    assert_eq!(response.status(), 403);
    app.stop().await;
}

async fn a_message_delivered_twice_is_filed_once(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let token = handler_token(&app).await;
    let reference = create_complaint(&app, &token).await;
    let subject = format!("Re: {reference}");
    let reply = Mail::new("ann@example.com", &subject, "The engineer never came.")
        .id("<twice@example.com>")
        .attach("note.pdf", "application/pdf", pdf("note"))
        .raw();
    let (_, first) = post_email(&app, &token, reply.clone()).await;
    assert_eq!(first["outcome"], "added_to_complaint");
    assert!(first.get("duplicate").is_none());
    // The same message again, even with other transport headers in front.
    let mut again = b"Received: from mx2.example by mx.provider.example\r\n".to_vec();
    again.extend_from_slice(&reply);
    let (status, second) = post_email(&app, &token, again).await;
    assert_eq!(status, 202);
    assert_eq!(second["outcome"], "added_to_complaint");
    assert_eq!(second["reference"], reference.as_str());
    assert_eq!(second["duplicate"], true);
    let view = complaint(&app, &token, &reference).await;
    assert_eq!(events_named(&view, "evidence_received").len(), 1);
    // Its attachment and the message itself, once.
    assert_eq!(
        app.store.attachments(&reference).await.expect("rows").len(),
        2
    );

    // A new complaint delivered twice is one complaint.
    let before = complaint_count(&app, &token).await;
    let new = Mail::new("dan@example.com", "No signal", "None at home.")
        .id("<new-twice@example.com>")
        .raw();
    let (_, a) = post_email(&app, &token, new.clone()).await;
    let (_, b) = post_email(&app, &token, new).await;
    assert_eq!(a["outcome"], "new_complaint");
    assert_eq!(b["outcome"], "new_complaint");
    assert_eq!(a["reference"], b["reference"]);
    assert_eq!(b["duplicate"], true);
    assert_eq!(complaint_count(&app, &token).await, before + 1);

    // Garbage delivered twice is quarantined once.
    let (_, g1) = post_email(&app, &token, b"\x00garbage".to_vec()).await;
    let (_, g2) = post_email(&app, &token, b"\x00garbage".to_vec()).await;
    assert_eq!(g1["outcome"], "quarantined");
    assert_eq!(g2["duplicate"], true);
    assert_eq!(quarantine(&app, &token).await.len(), 1);
    app.stop().await;
}

async fn attachments_over_the_limits_are_refused_and_noted(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let token = handler_token(&app).await;
    let reference = create_complaint(&app, &token).await;
    let subject = format!("Re: {reference} the files");
    let mut mail = Mail::new("ann@example.com", &subject, "All my files.")
        .id("<files@example.com>")
        .attach(
            "huge-scan.pdf",
            "application/pdf",
            vec![b'x'; 10 * 1024 * 1024 + 1],
        );
    for i in 1..=11 {
        mail = mail.attach(
            &format!("page-{i}.pdf"),
            "application/pdf",
            pdf(&format!("page {i}")),
        );
    }
    let (status, body) = post_email(&app, &token, mail.raw()).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["outcome"], "added_to_complaint");

    let rows = app.store.attachments(&reference).await.expect("rows");
    let kept: Vec<&str> = rows.iter().map(|r| r.filename.as_str()).collect();
    let mut expected: Vec<String> = (1..=10).map(|i| format!("page-{i}.pdf")).collect();
    // And the message itself, as it arrived.
    expected.push("email-received.eml".to_owned());
    assert_eq!(kept, expected);
    for row in &rows {
        assert!(app.files_dir.join(&row.sha256).exists());
    }
    let view = complaint(&app, &token, &reference).await;
    let notes = events_named(&view, "note_added");
    assert_eq!(notes.len(), 1, "{view}");
    let note = notes[0]["text"].as_str().expect("note text");
    assert!(note.contains("huge-scan.pdf"), "{note}");
    assert!(note.contains("larger than 10 MiB"), "{note}");
    assert!(note.contains("page-11.pdf"), "{note}");
    assert!(note.contains("only 10 attachments"), "{note}");
    let evidence = events_named(&view, "evidence_received");
    let description = evidence[0]["description"].as_str().expect("description");
    assert!(
        description.contains("Not kept: 2 attachments"),
        "{description}"
    );
    app.stop().await;
}

async fn the_endpoint_checks_its_caller_and_content_type(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let raw = Mail::new("ann@example.com", "hello", "hi").raw();
    let response = app
        .client
        .post(app.url("/api/v1/inbound/email"))
        .header("content-type", "message/rfc822")
        .body(raw.clone())
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), 401);
    let compliance = app.token(Role::Compliance, None, None).await;
    let (status, body) = post_email(&app, &compliance, raw.clone()).await;
    assert_eq!(status, 403, "{body}");
    let token = handler_token(&app).await;
    let response = app
        .client
        .post(app.url("/api/v1/inbound/email"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(raw)
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), 415);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Post in.

async fn post_letter(
    app: &TestApp,
    token: &str,
    reference: &str,
    received_on: &str,
    file: Option<(&str, Vec<u8>)>,
) -> (u16, Value) {
    let mut parts = vec![("received_on", None, received_on.as_bytes())];
    if let Some((name, bytes)) = &file {
        parts.push(("file", Some(*name), bytes.as_slice()));
    }
    let (content_type, body) = multipart(&parts);
    let request = app
        .client
        .post(app.url(&format!("/api/v1/complaints/{reference}/post")))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body);
    answer(request).await
}

async fn a_letter_received_by_post_joins_the_timeline_with_its_scan(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let token = handler_token(&app).await;
    let reference = create_complaint(&app, &token).await;
    let scan = pdf("scanned letter");
    let (status, body) = post_letter(
        &app,
        &token,
        &reference,
        "2026-02-27",
        Some(("letter.pdf", scan.clone())),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["attachment"]["sha256"], sha256_hex(&scan));
    let view = complaint(&app, &token, &reference).await;
    let evidence = events_named(&view, "evidence_received");
    assert_eq!(evidence.len(), 1);
    assert_eq!(evidence[0]["channel"], "letter");
    let description = evidence[0]["description"].as_str().expect("description");
    assert!(description.contains("2026-02-27"), "{description}");
    assert!(description.contains("letter.pdf"), "{description}");
    let rows = app.store.attachments(&reference).await.expect("rows");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].sha256, sha256_hex(&scan));
    assert_eq!(rows[0].uploaded_by, "staff:jo.handler");
    assert_eq!(
        std::fs::read(app.files_dir.join(&rows[0].sha256)).expect("scan"),
        scan
    );

    // A date in the future, a missing scan and a file that is not a scan are refused.
    let (status, body) = post_letter(
        &app,
        &token,
        &reference,
        "2026-03-03",
        Some(("l.pdf", pdf("x"))),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["code"], "received_in_future");
    let (status, _) = post_letter(&app, &token, &reference, "2026-03-01", None).await;
    assert_eq!(status, 422);
    let (status, body) = post_letter(
        &app,
        &token,
        &reference,
        "2026-03-01",
        Some(("letter.pdf", b"MZ\x90 not a pdf".to_vec())),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let (status, _) = post_letter(
        &app,
        &token,
        "CMP-2026-999999",
        "2026-03-01",
        Some(("l.pdf", pdf("x"))),
    )
    .await;
    assert_eq!(status, 404);
    // Someone who may not act on the complaint (another department's handler) is refused
    // before anything reaches the disk.
    let other = app
        .token(
            redress_core::Role::Handler,
            Some("escalation_team"),
            Some("esc.handler"),
        )
        .await;
    let unwanted = pdf("a scan nobody may file");
    let (status, body) = post_letter(
        &app,
        &other,
        &reference,
        "2026-03-01",
        Some(("letter.pdf", unwanted.clone())),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert!(
        !app.files_dir.join(sha256_hex(&unwanted)).exists(),
        "a refused scan was kept on disk"
    );
    let kept: Vec<_> = std::fs::read_dir(&app.files_dir)
        .expect("the files folder")
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .collect();
    assert_eq!(kept.len(), 1, "only the first scan is on disk: {kept:?}");
    assert_eq!(
        events_named(
            &complaint(&app, &token, &reference).await,
            "evidence_received"
        )
        .len(),
        1
    );
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// `redress ingest-mail`, as an MTA runs it.

fn ingest_mail(database: &str, files: &Path, message: &[u8]) -> std::process::Output {
    let mut child = Command::new(BIN)
        .args(["ingest-mail", "--database", database, "--files-dir"])
        .arg(files)
        .env_remove("REDRESS_DATABASE_URL")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run redress ingest-mail");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(message)
        .expect("write the message");
    child.wait_with_output().expect("wait")
}

async fn ingest_mail_files_a_message_read_on_stdin(db: Db) {
    let dir = tempfile::tempdir().expect("dir");
    let Some(database) = fresh_database(db, dir.path()).await else {
        return;
    };
    let files = dir.path().join("files");
    let raw = Mail::new(
        "Erin <erin@example.com>",
        "No broadband since Monday",
        "Nothing works.",
    )
    .id("<pipe-1@example.com>")
    .attach(
        "photo.png",
        "image/png",
        b"\x89PNG\r\n\x1a\n pixels".to_vec(),
    )
    .raw();
    let output = tokio::task::spawn_blocking({
        let (database, files, raw) = (database.clone(), files.clone(), raw.clone());
        move || ingest_mail(&database, &files, &raw)
    })
    .await
    .expect("join");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "exit {:?}: {stderr}",
        output.status
    );
    let answer: Value =
        serde_json::from_slice(&output.stdout).expect("a JSON answer on standard output");
    assert_eq!(answer["outcome"], "new_complaint", "{answer}");
    let reference = answer["reference"].as_str().expect("reference").to_owned();

    let store = Store::connect(&database, Arc::new(Procedure::default_procedure()))
        .await
        .expect("open");
    let view = store
        .get_complaint(&Reference::parse(&reference).expect("reference"))
        .await
        .expect("the complaint is stored");
    assert_eq!(view.complaint.channel.as_str(), "email");
    assert_eq!(view.complaint.stage.number(), 1);
    let rows = store.attachments(&reference).await.expect("rows");
    // Its attachment and the message itself, as it arrived.
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1].content_type, "message/rfc822");
    assert!(files.join(&rows[0].sha256).exists());

    // Delivered again (an MTA retry): filed once, still exit 0.
    let again = tokio::task::spawn_blocking({
        let (database, files, raw) = (database.clone(), files.clone(), raw.clone());
        move || ingest_mail(&database, &files, &raw)
    })
    .await
    .expect("join");
    assert!(again.status.success());
    let answer: Value = serde_json::from_slice(&again.stdout).expect("json");
    assert_eq!(answer["duplicate"], true);
    assert_eq!(answer["reference"], reference.as_str());

    // Garbage is quarantined: still exit 0 (the MTA must not bounce or retry it).
    let garbage = tokio::task::spawn_blocking({
        let (database, files) = (database.clone(), files.clone());
        move || ingest_mail(&database, &files, b"\x00\x01 garbage")
    })
    .await
    .expect("join");
    assert!(garbage.status.success());
    let answer: Value = serde_json::from_slice(&garbage.stdout).expect("json");
    assert_eq!(answer["outcome"], "quarantined");
    assert_eq!(store.quarantined(10).await.expect("rows").len(), 1);
    store.close().await;

    // No database: exit 75 (EX_TEMPFAIL), so the MTA keeps the message and retries.
    let down = tokio::task::spawn_blocking({
        let files = files.clone();
        move || ingest_mail("postgres://nobody:x@127.0.0.1:1/none", &files, &raw)
    })
    .await
    .expect("join");
    assert_eq!(
        down.status.code(),
        Some(75),
        "{}",
        String::from_utf8_lossy(&down.stderr)
    );
}

// ---------------------------------------------------------------------------------------------
// IMAP against a real Dovecot.

/// A Dovecot instance of this test's own: a generated configuration in a temporary folder,
/// plaintext login on a free loopback port, one user in a passwd-file, Maildir storage.
struct Dovecot {
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
    /// The imaps:// port, when started with TLS (its CA is `ca.pem` in the folder).
    tls_port: Option<u16>,
}

const IMAP_USER: &str = "complaints";
const IMAP_PASSWORD: &str = "s3cret-imap";

impl Dovecot {
    /// Starts Dovecot, or `None` (the test skips, except under CI) when it cannot run here.
    fn start() -> Option<Dovecot> {
        Dovecot::start_with(false)
    }

    /// Also listens for imaps:// with a certificate from a CA of the test's own.
    fn start_with_tls() -> Option<Dovecot> {
        Dovecot::start_with(true)
    }

    fn start_with(tls: bool) -> Option<Dovecot> {
        let skip = |why: String| {
            if in_ci() {
                panic!("Dovecot is required under CI: {why}");
            }
            eprintln!("skipped: {why} (scripts/ensure-mail-servers.sh installs Dovecot)");
        };
        let binary = Path::new("/usr/sbin/dovecot");
        if !binary.exists() {
            skip("Dovecot is not installed at /usr/sbin/dovecot".into());
            return None;
        }
        let uid = Command::new("id").arg("-u").output().ok()?;
        if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
            skip("Dovecot's test instance must be started as root".into());
            return None;
        }
        let dir = tempfile::Builder::new()
            .prefix("dv")
            .tempdir()
            .expect("a temporary folder");
        // Dovecot's unprivileged processes must reach the folder.
        run("chmod", &["0755", &dir.path().display().to_string()]);
        let root = dir.path();
        let mail = root.join("mail");
        std::fs::create_dir_all(&mail).expect("mail folder");
        std::fs::create_dir_all(root.join("state")).expect("state folder");
        run(
            "chown",
            &["-R", "dovecot:dovecot", &mail.display().to_string()],
        );
        std::fs::write(
            root.join("passwd"),
            format!("{IMAP_USER}:{{PLAIN}}{IMAP_PASSWORD}\n"),
        )
        .expect("passwd");
        let port = free_port();
        let tls_port = tls.then(free_port);
        if tls && !make_certificates(root) {
            skip("openssl cannot make the test certificates".into());
            return None;
        }
        let (ssl, imaps_address, imaps_port) = match tls_port {
            Some(tls_port) => (
                format!(
                    "ssl = required\nssl_cert = <{root}/server.pem\nssl_key = <{root}/server.key",
                    root = root.display()
                ),
                "address = 127.0.0.1\n    ",
                tls_port,
            ),
            None => ("ssl = no".to_owned(), "", 0),
        };
        let config = format!(
            r#"protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
instance_name = redress-test-{port}
{ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
mail_uid = dovecot
mail_gid = dovecot
first_valid_uid = 1
log_path = {root}/dovecot.log
default_internal_user = dovecot
default_login_user = dovenull
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    {imaps_address}port = {imaps_port}
  }}
}}
"#,
            root = root.display()
        );
        let config_path = root.join("dovecot.conf");
        std::fs::write(&config_path, config).expect("dovecot.conf");
        let child = Command::new(binary)
            .arg("-F")
            .arg("-c")
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dovecot");
        let dovecot = Dovecot {
            child,
            dir,
            port,
            tls_port,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err()
            || tls_port.is_some_and(|p| std::net::TcpStream::connect(("127.0.0.1", p)).is_err())
        {
            if Instant::now() > deadline {
                panic!("Dovecot did not start: {}", dovecot.log());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(dovecot)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dovecot.log")).unwrap_or_default()
    }

    fn url(&self) -> String {
        format!(
            "imap://{IMAP_USER}:{IMAP_PASSWORD}@127.0.0.1:{}/INBOX",
            self.port
        )
    }

    fn account(&self) -> ImapAccount {
        ImapAccount::parse(&self.url()).expect("a valid IMAP URL")
    }

    /// Delivers a message straight into the Maildir's new/ folder, as a local MTA would.
    fn drop_into_maildir(&self, name: &str, raw: &[u8]) {
        let maildir = self.dir.path().join("mail").join(IMAP_USER);
        for sub in ["tmp", "new", "cur"] {
            std::fs::create_dir_all(maildir.join(sub)).expect("maildir");
        }
        let tmp = maildir.join("tmp").join(name);
        std::fs::write(&tmp, raw).expect("write to tmp/");
        std::fs::rename(&tmp, maildir.join("new").join(name)).expect("move to new/");
        run(
            "chown",
            &["-R", "dovecot:dovecot", &maildir.display().to_string()],
        );
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        // SIGTERM lets the master stop its own children; then make sure.
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match self.child.try_wait() {
                Ok(Some(_)) => return,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                _ => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    return;
                }
            }
        }
    }
}

/// A CA and a server certificate for 127.0.0.1 signed by it, made with the openssl command.
fn make_certificates(root: &Path) -> bool {
    let openssl = |args: &[&str]| {
        Command::new("openssl")
            .args(args)
            .current_dir(root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    std::fs::write(
        root.join("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .expect("server.ext");
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=Redress test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
    ]) && openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ]) && openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "server.ext",
    ])
}

fn run(program: &str, args: &[&str]) {
    let status = Command::new(program).args(args).status().expect(program);
    assert!(status.success(), "{program} {args:?} failed");
}

/// An IMAP client session of the test's own, to append messages and read their flags.
async fn imap_session(dovecot: &Dovecot) -> async_imap::Session<tokio::net::TcpStream> {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", dovecot.port))
        .await
        .expect("connect");
    let mut client = async_imap::Client::new(tcp);
    client
        .read_response()
        .await
        .expect("greeting")
        .expect("greeting");
    let mut session = client
        .login(IMAP_USER, IMAP_PASSWORD)
        .await
        .map_err(|(e, _)| e)
        .expect("login");
    session.select("INBOX").await.expect("select");
    session
}

async fn append(dovecot: &Dovecot, raw: &[u8]) {
    let mut session = imap_session(dovecot).await;
    session
        .append("INBOX", None, None, raw)
        .await
        .expect("append");
    session.logout().await.expect("logout");
}

async fn unseen_count(dovecot: &Dovecot) -> usize {
    let mut session = imap_session(dovecot).await;
    let unseen = session.uid_search("UNSEEN").await.expect("search").len();
    let _ = session.logout().await;
    unseen
}

async fn all_count(dovecot: &Dovecot) -> usize {
    let mut session = imap_session(dovecot).await;
    let all = session.uid_search("ALL").await.expect("search").len();
    let _ = session.logout().await;
    all
}

async fn the_imap_poller_files_unseen_messages_and_marks_them_seen(db: Db) {
    let Some(dovecot) = Dovecot::start() else {
        return;
    };
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let token = handler_token(&app).await;
    let reference = create_complaint(&app, &token).await;
    let letter_id = format!("<letter-9.{reference}@redress.example>");
    let reply = Mail::new("ann@example.com", "Re: your letter", "Reply by IMAP.")
        .id("<imap-reply@example.com>")
        .reply_to(&letter_id)
        .attach("bill.pdf", "application/pdf", pdf("imap bill"))
        .raw();
    let new = Mail::new("Fay <fay@example.com>", "Slow speeds", "Speeds are slow.")
        .id("<imap-new@example.com>")
        .raw();
    let after_garbage = Mail::new("gus@example.com", "After the garbage", "Still filed.")
        .id("<imap-after@example.com>")
        .raw();
    append(&dovecot, &reply).await;
    append(&dovecot, &new).await;
    append(&dovecot, b"\x00\x01\x02 garbage among good messages \xff").await;
    append(&dovecot, &after_garbage).await;
    dovecot.drop_into_maildir(
        "1772438400.M1P1.test",
        &Mail::new("hal@example.com", "Dropped in new/", "By a local MTA.")
            .id("<imap-maildir@example.com>")
            .raw(),
    );
    assert_eq!(unseen_count(&dovecot).await, 5);

    let inbox = Inbox::new(app.store.clone(), app.files_dir.clone());
    let report = poll_once(&inbox, &app.clock, &dovecot.account())
        .await
        .unwrap_or_else(|e| panic!("poll: {e}\n{}", dovecot.log()));
    assert_eq!(
        report,
        PollReport {
            filed: 4,
            quarantined: 1,
            duplicates: 0,
            failed: 0
        }
    );
    assert_eq!(
        unseen_count(&dovecot).await,
        0,
        "every message is marked seen"
    );
    assert_eq!(all_count(&dovecot).await, 5, "and left in the mailbox");

    let view = complaint(&app, &token, &reference).await;
    let evidence = events_named(&view, "evidence_received");
    assert_eq!(evidence.len(), 1);
    assert_eq!(evidence[0]["channel"], "email");
    // Its attachment and the message itself.
    assert_eq!(
        app.store.attachments(&reference).await.expect("rows").len(),
        2
    );
    // The reply's complaint, and three new ones (the message after the garbage among them).
    assert_eq!(complaint_count(&app, &token).await, 4);
    let items = quarantine(&app, &token).await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["source"], "imap");

    // Nothing unseen: the next poll does nothing.
    let report = poll_once(&inbox, &app.clock, &dovecot.account())
        .await
        .expect("poll");
    assert_eq!(report, PollReport::default());

    // The poller inside `redress serve` (--imap-url): a message appended later is filed.
    let served = spawn_app_beside(&app, |config| {
        config.imap = Some(ImapConfig {
            account: dovecot.account(),
            interval: Duration::from_millis(200),
        });
    })
    .await;
    let later = Mail::new("ivy@example.com", "Later", "Appended while serving.")
        .id("<imap-later@example.com>")
        .raw();
    append(&dovecot, &later).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while unseen_count(&dovecot).await > 0 || complaint_count(&app, &token).await < 5 {
        assert!(
            Instant::now() < deadline,
            "the serving poller did not file the message"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    served.stop_cleanly().await;
    assert_eq!(complaint_count(&app, &token).await, 5);
    app.stop().await;
}

async fn the_imap_poller_leaves_messages_unseen_while_the_database_is_down(db: Db) {
    let Some(dovecot) = Dovecot::start() else {
        return;
    };
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let token = handler_token(&app).await;
    append(
        &dovecot,
        &Mail::new("jan@example.com", "Outage", "Filed after the outage.")
            .id("<imap-outage@example.com>")
            .raw(),
    )
    .await;
    // A store whose database is gone.
    let down = Store::connect(&app.database, Arc::new(Procedure::default_procedure()))
        .await
        .expect("connect");
    down.close().await;
    let report = poll_once(
        &Inbox::new(down, app.files_dir.clone()),
        &app.clock,
        &dovecot.account(),
    )
    .await
    .expect("the server answers");
    assert_eq!(report.failed, 1);
    assert_eq!(
        unseen_count(&dovecot).await,
        1,
        "not marked seen: nothing is lost"
    );

    // Once the database is back, the same message is filed and marked seen.
    let report = poll_once(
        &Inbox::new(app.store.clone(), app.files_dir.clone()),
        &app.clock,
        &dovecot.account(),
    )
    .await
    .expect("poll");
    assert_eq!(report.filed, 1);
    assert_eq!(unseen_count(&dovecot).await, 0);
    assert_eq!(complaint_count(&app, &token).await, 1);
    app.stop().await;
}

async fn the_imap_poller_speaks_tls_and_checks_the_certificate(db: Db) {
    let Some(dovecot) = Dovecot::start_with_tls() else {
        return;
    };
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let token = handler_token(&app).await;
    append(
        &dovecot,
        &Mail::new("kim@example.com", "Over TLS", "Fetched over imaps.")
            .id("<imaps-1@example.com>")
            .raw(),
    )
    .await;
    let url = format!(
        "imaps://{IMAP_USER}:{IMAP_PASSWORD}@127.0.0.1:{}/INBOX",
        dovecot.tls_port.expect("a TLS port")
    );
    let inbox = Inbox::new(app.store.clone(), app.files_dir.clone());
    // A certificate from an unknown CA is refused: nothing is fetched.
    let untrusted = ImapAccount::parse(&url).expect("url");
    let error = poll_once(&inbox, &app.clock, &untrusted)
        .await
        .expect_err("an unknown CA must be refused");
    assert!(error.to_string().contains("connect"), "{error}");
    assert_eq!(unseen_count(&dovecot).await, 1);
    // Trusting the test CA (--imap-ca-file), the message is fetched and filed.
    let trusted = ImapAccount::parse(&url)
        .expect("url")
        .with_ca_file(Some(dovecot.dir.path().join("ca.pem")));
    let report = poll_once(&inbox, &app.clock, &trusted)
        .await
        .unwrap_or_else(|e| panic!("poll over TLS: {e}\n{}", dovecot.log()));
    assert_eq!(report.filed, 1);
    assert_eq!(unseen_count(&dovecot).await, 0);
    assert_eq!(complaint_count(&app, &token).await, 1);
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// An event and its files commit together.

/// Evidence received by a handler, answering evidence request `request` (none: the oldest).
fn evidence(request: Option<u32>) -> redress_core::Command {
    redress_core::Command {
        by: Actor::staff(Role::Handler, "customer_services", Some("jo.handler")),
        action: Action::ReceiveEvidence {
            request,
            description: Some("A copy of the bill".into()),
            channel: Some(Channel::Letter),
        },
    }
}

fn scan_row(filename: &str) -> NewAttachment {
    let bytes = pdf(filename);
    NewAttachment {
        sha256: sha256_hex(&bytes),
        filename: filename.into(),
        content_type: "application/pdf".into(),
        size: bytes.len() as i64,
        uploaded_by: "staff:jo.handler".into(),
    }
}

/// How many events the complaint has, read from the table itself.
async fn event_count(app: &TestApp, reference: &str) -> i64 {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM events e JOIN complaints c ON c.id = e.complaint_id WHERE c.reference = $1",
    )
    .bind(reference)
    .fetch_one(app.store.pool())
    .await
    .expect("count the events");
    sqlx::Row::try_get(&row, "n").expect("a count")
}

async fn a_refused_evidence_command_records_neither_its_event_nor_its_files(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let token = handler_token(&app).await;
    let text = create_complaint(&app, &token).await;
    let reference = Reference::parse(&text).expect("a reference");
    let now = app.clock.now();

    // No evidence request 42 was made: refused, and nothing of it is written.
    let outcome = app
        .store
        .run_command_with_files(&reference, evidence(Some(42)), now, &[scan_row("a.pdf")])
        .await
        .expect("the command runs");
    let refusal = outcome.refusal.expect("refused");
    assert!(
        refusal.reason.contains("no evidence request 42"),
        "{refusal:?}"
    );
    assert!(outcome.events.is_empty(), "{:?}", outcome.events);
    assert!(app.store.attachments(&text).await.expect("rows").is_empty());
    assert_eq!(event_count(&app, &text).await, 1, "only `received`");

    // The same with a key: the refusal is kept and replayed, and still no file is recorded.
    let key = Idempotency {
        scope: "test".into(),
        key: "evidence-42".into(),
        request_hash: "h".into(),
    };
    for _ in 0..2 {
        let answer = app
            .store
            .run_command_keyed(
                &reference,
                evidence(Some(42)),
                now,
                &key,
                &[scan_row("b.pdf")],
            )
            .await
            .expect("the command runs");
        assert!(answer.into_inner().refusal.is_some());
    }
    assert!(app.store.attachments(&text).await.expect("rows").is_empty());
    assert_eq!(event_count(&app, &text).await, 1);

    // Taken, the event and both its files are recorded.
    let outcome = app
        .store
        .run_command_with_files(
            &reference,
            evidence(None),
            now,
            &[scan_row("c.pdf"), scan_row("d.pdf")],
        )
        .await
        .expect("the command runs");
    assert!(outcome.refusal.is_none(), "{:?}", outcome.refusal);
    let names: Vec<String> = app
        .store
        .attachments(&text)
        .await
        .expect("rows")
        .into_iter()
        .map(|a| a.filename)
        .collect();
    assert_eq!(names, ["c.pdf", "d.pdf"]);
    assert_eq!(event_count(&app, &text).await, 2);
    let audit = app.store.verify_audit().await.expect("audit runs");
    assert!(audit.problems.is_empty(), "{:?}", audit.problems);
    app.stop().await;
}

/// Makes the database itself refuse any attachment row named `poison.pdf`.
async fn poison_attachments(app: &TestApp, db: Db) {
    let statements: &[&str] = match db {
        Db::Sqlite => &[
            "CREATE TRIGGER poison BEFORE INSERT ON attachments WHEN NEW.filename = 'poison.pdf' \
             BEGIN SELECT RAISE(ABORT, 'poisoned row'); END",
        ],
        Db::Postgres => &[
            "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             IF NEW.filename = 'poison.pdf' THEN RAISE EXCEPTION 'poisoned row'; END IF; \
             RETURN NEW; END $$",
            "CREATE TRIGGER poison BEFORE INSERT ON attachments FOR EACH ROW EXECUTE FUNCTION poison()",
        ],
    };
    for statement in statements {
        sqlx::query(*statement)
            .execute(app.store.pool())
            .await
            .expect("create the trigger");
    }
}

async fn an_attachment_the_database_rejects_takes_its_event_with_it(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    poison_attachments(&app, db).await;
    let token = handler_token(&app).await;
    let text = create_complaint(&app, &token).await;
    let reference = Reference::parse(&text).expect("a reference");
    let now = app.clock.now();
    let before = app.store.get_complaint(&reference).await.expect("stored");

    // The second file's row fails: neither the event nor the first file's row is kept.
    let failed = app
        .store
        .run_command_with_files(
            &reference,
            evidence(None),
            now,
            &[scan_row("fine.pdf"), scan_row("poison.pdf")],
        )
        .await;
    assert!(matches!(failed, Err(StoreError::Database(_))), "{failed:?}");
    assert!(app.store.attachments(&text).await.expect("rows").is_empty());
    assert_eq!(event_count(&app, &text).await, 1);
    let after = app.store.get_complaint(&reference).await.expect("stored");
    assert_eq!(after.complaint.version, before.complaint.version);

    // With a key, nothing is kept for it either: the retry runs the command afresh.
    let key = Idempotency {
        scope: "test".into(),
        key: "evidence-poison".into(),
        request_hash: "h".into(),
    };
    let failed = app
        .store
        .run_command_keyed(
            &reference,
            evidence(None),
            now,
            &key,
            &[scan_row("poison.pdf")],
        )
        .await;
    assert!(matches!(failed, Err(StoreError::Database(_))), "{failed:?}");
    assert_eq!(event_count(&app, &text).await, 1);
    let retried = app
        .store
        .run_command_keyed(
            &reference,
            evidence(None),
            now,
            &key,
            &[scan_row("fine.pdf")],
        )
        .await
        .expect("the retry runs");
    let Keyed::First(outcome) = retried else {
        panic!("the failed attempt kept an answer: {retried:?}");
    };
    assert!(outcome.refusal.is_none(), "{:?}", outcome.refusal);
    let rows = app.store.attachments(&text).await.expect("rows");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].filename, "fine.pdf");
    assert_eq!(event_count(&app, &text).await, 2);
    let audit = app.store.verify_audit().await.expect("audit runs");
    assert!(audit.problems.is_empty(), "{:?}", audit.problems);
    app.stop().await;
}
