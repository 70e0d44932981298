//! Letters: every kind renders from the procedure's templates (as text, HTML and print-ready
//! PDF, standard and large print), the ADR notice of a complaint recorded late is there at
//! once and says what Ofcom requires, `redress procedure check` refuses an ADR letter that
//! leaves the ombudsman out, and the letters API, on SQLite and on PostgreSQL.
//!
//! PDFs are read back with `pdftotext` (poppler-utils), as a person copying the text would.
//! Samples of every kind are written to target/letters/<kind>.pdf and
//! target/letters/<kind>-large-print.pdf for people to look at.
#[macro_use]
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use jiff::{SignedDuration, Timestamp};
use redress::mail::letters::render;
use redress::mail::pdf;
use redress_core::correspondence::caused_by;
use redress_core::event::{EvidenceSource, OmbudsmanOutcome};
use redress_core::letters::{LetterKind, Recipient};
use redress_core::procedure::DEFAULT_PROCEDURE_TOML;
use redress_core::{
    Action, Actor, Channel, Command as CoreCommand, Complaint, Customer, Event, Procedure, Receive,
    Reference, Role, apply, execute, open,
};
use serde_json::{Value, json};
use support::{Db, START, TestApp, spawn_app, ts};

both_backends! {
    a_complaint_recorded_60_days_late_gets_its_adr_notice_at_once =>
        sqlite_a_complaint_recorded_60_days_late_gets_its_adr_notice_at_once,
        postgres_a_complaint_recorded_60_days_late_gets_its_adr_notice_at_once;
    the_letters_api_lists_letters_and_serves_each_as_a_pdf =>
        sqlite_the_letters_api_lists_letters_and_serves_each_as_a_pdf,
        postgres_the_letters_api_lists_letters_and_serves_each_as_a_pdf;
    the_letters_api_reads_with_the_rights_of_a_complaint =>
        sqlite_the_letters_api_reads_with_the_rights_of_a_complaint,
        postgres_the_letters_api_reads_with_the_rights_of_a_complaint;
    the_review_outcome_is_a_letter_to_the_customer =>
        sqlite_the_review_outcome_is_a_letter_to_the_customer,
        postgres_the_review_outcome_is_a_letter_to_the_customer;
    a_sent_letter_is_kept_as_it_went_whatever_the_templates_say_later =>
        sqlite_a_sent_letter_is_kept_as_it_went_whatever_the_templates_say_later,
        postgres_a_sent_letter_is_kept_as_it_went_whatever_the_templates_say_later;
}

// ---------------------------------------------------------------------------------------------
// Reading PDFs
// ---------------------------------------------------------------------------------------------

fn letters_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map_or_else(|| PathBuf::from("target"), Path::to_path_buf)
        .join("letters");
    std::fs::create_dir_all(&dir).expect("create target/letters");
    dir
}

fn run_pdftotext(args: &[&str], path: &Path) -> String {
    let output = Command::new("pdftotext")
        .args(args)
        .arg(path)
        .arg("-")
        .output()
        .expect("pdftotext runs (apt-get install poppler-utils)");
    assert!(
        output.status.success(),
        "pdftotext {} failed: {}",
        path.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("pdftotext prints UTF-8")
}

/// The text of a PDF, with runs of white space (line ends included) made single spaces.
fn pdf_text(path: &Path) -> String {
    run_pdftotext(&[], path)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The smallest type size on a PDF's pages, from the word boxes `pdftotext -bbox` gives
/// (Helvetica's box is 0.925 of the type size high).
fn smallest_type(path: &Path) -> f32 {
    let html = run_pdftotext(&["-bbox"], path);
    html.lines()
        .filter(|l| l.trim_start().starts_with("<word"))
        .filter_map(|l| {
            let number = |name: &str| -> Option<f32> {
                let start = l.find(&format!("{name}=\""))? + name.len() + 2;
                let end = start + l[start..].find('"')?;
                l[start..end].parse().ok()
            };
            Some((number("yMax")? - number("yMin")?) / 0.925)
        })
        .fold(f32::MAX, f32::min)
}

fn write_pdf(path: &Path, bytes: &[u8]) {
    assert!(bytes.starts_with(b"%PDF-"), "not a PDF");
    std::fs::write(path, bytes).expect("write a PDF");
}

// ---------------------------------------------------------------------------------------------
// Every kind renders
// ---------------------------------------------------------------------------------------------

fn at(s: &str) -> Timestamp {
    s.parse().expect("a test instant")
}

fn staff(department: &str) -> Actor {
    Actor::staff(
        Role::Handler,
        department,
        Some(&format!("{department}@kinex.example")),
    )
}

fn customer_details() -> Customer {
    Customer {
        account: "KX-402957".into(),
        name: "Gareth Lloyd".into(),
        email: Some("gareth@example.com".into()),
        telephone: None,
        address: vec!["7 Hoole Road".into(), "Chester".into()],
        postcode: Some(redress_core::model::Postcode::parse("CH2 3NL").expect("postcode")),
        preferred_channel: None,
        accessibility_needs: Vec::new(),
        vulnerabilities: Vec::new(),
    }
}

fn receive(received_at: Option<Timestamp>) -> Receive {
    Receive {
        reference: Reference::new("CMP", 2026, 42),
        channel: Channel::Telephone,
        customer: customer_details(),
        summary: "Sold a 500 Mb fibre contract; the line reaches 67 Mb".into(),
        category: Some("mis_selling".into()),
        received_at,
        staff_concerned: Vec::new(),
        by: staff("customer_services"),
    }
}

/// Each letter a complaint's history caused: the event, the complaint just after it, and the
/// letter's kind and recipient, by the core's rule (the one the store's outbox follows).
type Caused = Vec<(Complaint, Event, LetterKind, Recipient)>;

fn collect(before: &Complaint, events: &[Event], into: &mut Caused) -> Complaint {
    let mut state = before.clone();
    for event in events {
        state = apply(state, event);
        if let Some(letter) = caused_by(event, &state) {
            into.push((state.clone(), event.clone(), letter.kind, letter.recipient));
        }
    }
    state
}

/// One complaint up the whole ladder to the ombudsman and its remedy, and one recorded 60 days
/// late: between them every letter kind.
fn every_letter(p: &Procedure) -> Caused {
    let mut caused = Caused::new();
    let t0 = at("2026-03-02T09:00:00Z");
    let (mut c, events) = open(receive(None), t0, p).expect("opens");
    let start = Complaint::start(&events[0]).expect("received");
    collect(&start, &events[1..], &mut caused);
    let steps: Vec<(&str, Actor, Action)> = vec![
        (
            "2026-03-02T10:00:00Z",
            staff("customer_services"),
            Action::Acknowledge {
                channel: Some(Channel::Letter),
            },
        ),
        (
            "2026-03-04T10:00:00Z",
            staff("customer_services"),
            Action::OfferResolution {
                text: "Move to our 67 Mb plan at the same monthly price for the rest of the contract.".into(),
            },
        ),
        (
            "2026-03-05T10:00:00Z",
            Actor::customer(),
            Action::RequestEscalation {
                channel: Some(Channel::Telephone),
                reason: None,
            },
        ),
        (
            "2026-03-10T10:00:00Z",
            staff("escalation_team"),
            Action::TransferToResolution { reason: None },
        ),
        (
            "2026-03-11T10:00:00Z",
            staff("customer_resolution"),
            Action::RequestEvidence {
                from: EvidenceSource::Customer,
                due_days: 14,
                description: Some("Your bills for March and April, and the sales call's date".into()),
            },
        ),
        (
            "2026-03-11T11:00:00Z",
            staff("customer_resolution"),
            Action::RequestEvidence {
                from: EvidenceSource::ThirdParty,
                due_days: 21,
                description: Some("The line test results for CH2 3NL from 20 April".into()),
            },
        ),
        (
            "2026-03-20T10:00:00Z",
            staff("customer_resolution"),
            Action::EstablishFault { description: None },
        ),
        (
            "2026-03-20T11:00:00Z",
            staff("customer_resolution"),
            Action::OfferCompensation {
                amount_pence: 2500,
                reason: Some("For the speed you paid for and did not get".into()),
            },
        ),
        (
            "2026-03-21T10:00:00Z",
            staff("customer_resolution"),
            Action::WithdrawOffer {
                offer: None,
                reason: "The speed credit was already applied to your March bill".into(),
            },
        ),
        (
            "2026-03-25T10:00:00Z",
            staff("customer_resolution"),
            Action::IssueFormalResponse {
                text: Some("We found that the sales adviser quoted the wrong speed. We will let you leave without the early termination charge of £180.".into()),
            },
        ),
        (
            "2026-03-30T10:00:00Z",
            Actor::customer(),
            Action::RequestManagerReview {
                text: Some("I want the charge refunded too".into()),
            },
        ),
        (
            "2026-04-06T10:00:00Z",
            staff("customer_resolution_manager"),
            Action::RecordReviewOutcome {
                text: "I have reviewed your account. We will also refund the £42.50 charged in April.".into(),
            },
        ),
        (
            "2026-04-07T10:00:00Z",
            staff("customer_resolution_manager"),
            Action::IssueDeadlockLetter {
                text: Some("We cannot offer more than the refund and the waived charge.".into()),
            },
        ),
        (
            "2026-04-20T10:00:00Z",
            Actor::customer(),
            Action::ReferToOmbudsman {
                ombudsman_reference: Some("OS-77123".into()),
            },
        ),
        (
            "2026-06-01T10:00:00Z",
            staff("customer_resolution"),
            Action::RecordOmbudsmanDecision {
                outcome: OmbudsmanOutcome::PartlyUpheld,
                customer_accepted: true,
                remedy: Some("An apology and a goodwill payment".into()),
                award_pence: Some(5000),
            },
        ),
        (
            "2026-06-10T10:00:00Z",
            staff("customer_resolution"),
            Action::CompleteRemedy {
                text: Some("We sent the apology and paid £50.00 to your account.".into()),
            },
        ),
    ];
    for (when, by, action) in steps {
        let name = action.name();
        let outcome = execute(c.clone(), CoreCommand { by, action }, at(when), p);
        assert!(outcome.refusal.is_none(), "{name}: {:?}", outcome.refusal);
        c = collect(&c, &outcome.events, &mut caused);
    }
    // Recorded 60 days after it was received: the ADR notice at once.
    let late = receive(Some(t0 - SignedDuration::from_hours(24 * 60)));
    let (_, events) = open(late, t0, p).expect("opens late");
    let start = Complaint::start(&events[0]).expect("received");
    collect(&start, &events[1..], &mut caused);
    caused
}

/// What each letter must say besides the reference.
fn must_say(kind: LetterKind, recipient: Recipient) -> Vec<&'static str> {
    match (kind, recipient) {
        (LetterKind::Acknowledgement, _) => vec!["Dear Gareth Lloyd", "2 March 2026"],
        (LetterKind::ResolutionOffer, _) => vec!["67 Mb plan", "The Escalation Team"],
        (LetterKind::EscalationAcknowledgement, _) => vec!["The Escalation Team"],
        (LetterKind::TransferNotice, _) => vec!["Customer Resolution", "7 April 2026"],
        (LetterKind::EvidenceRequest, Recipient::Customer) => {
            vec!["bills for March and April", "25 March 2026"]
        }
        (LetterKind::EvidenceRequest, Recipient::ThirdParty) => vec![
            "Dear Sir or Madam",
            "line test results",
            "Gareth Lloyd",
            "1 April 2026",
        ],
        (LetterKind::FormalResponse, _) => vec!["£180", "Customer Resolution Manager"],
        (LetterKind::ManagerReviewOutcome, _) => vec!["£42.50"],
        (LetterKind::AdrNotice | LetterKind::DeadlockLetter, _) => vec![
            "Ombudsman Services: Communications",
            "PO Box 730",
            "0330 440 1614",
            "0330 440 1615",
            "0330 440 1600",
            "12 months",
        ],
        (LetterKind::CompensationOffer, _) => vec!["£25.00"],
        (LetterKind::CompensationWithdrawn, _) => vec![
            "£25.00",
            "withdrawn that offer",
            "already applied to your March bill",
        ],
        (LetterKind::RemedyConfirmation, _) => vec!["Ombudsman Services: Communications"],
    }
}

#[test]
fn every_letter_kind_renders_as_text_html_and_print_ready_pdf() {
    let p = Procedure::default_procedure();
    let caused = every_letter(&p);
    let dir = letters_dir();
    let mut seen = std::collections::BTreeSet::new();
    let mut written = Vec::new();
    for (complaint, event, kind, recipient) in &caused {
        let letter = render(complaint, event, *kind, *recipient, &p)
            .unwrap_or_else(|e| panic!("{kind} does not render: {e}"));
        assert!(!letter.subject.contains('\n'), "{kind}: {}", letter.subject);
        let html = letter.html().expect("the HTML part renders");
        assert!(html.contains(complaint.reference.as_str()), "{kind}");
        // The file name: <kind>[-third-party][-completed].pdf
        let mut name = kind.as_str().to_owned();
        if *recipient == Recipient::ThirdParty {
            name.push_str("-third-party");
        }
        if matches!(event.kind, redress_core::EventKind::RemedyCompleted { .. }) {
            name.push_str("-completed");
        }
        for large in [false, true] {
            let path = dir.join(if large {
                format!("{name}-large-print.pdf")
            } else {
                format!("{name}.pdf")
            });
            write_pdf(&path, &pdf::render(&letter, large));
            let text = pdf_text(&path);
            assert!(
                text.contains(complaint.reference.as_str()),
                "{}: no reference in {text}",
                path.display()
            );
            for words in must_say(*kind, *recipient) {
                assert!(
                    text.contains(words),
                    "{}: '{words}' is not in {text}",
                    path.display()
                );
            }
            if *recipient == Recipient::Customer {
                assert!(text.contains("7 Hoole Road Chester CH2 3NL"), "{text}");
            }
            let smallest = smallest_type(&path);
            if large {
                assert!(smallest >= 15.9, "{}: {smallest} pt", path.display());
            } else {
                assert!(smallest < 12.0, "{}: {smallest} pt", path.display());
            }
            written.push(path);
        }
        seen.insert((*kind, *recipient));
    }
    for kind in LetterKind::ALL {
        assert!(
            seen.contains(&(kind, Recipient::Customer)),
            "{kind} never rendered"
        );
    }
    assert!(seen.contains(&(LetterKind::EvidenceRequest, Recipient::ThirdParty)));
    for path in &written {
        eprintln!("wrote {}", path.display());
    }
}

#[test]
fn the_letter_of_a_customer_who_needs_large_print_is_large_print() {
    let p = Procedure::default_procedure();
    let mut command = receive(Some(at("2026-01-01T10:00:00Z")));
    command.customer.accessibility_needs = vec!["Large-print letters, please".into()];
    let (c, events) = open(command, at("2026-03-02T09:00:00Z"), &p).expect("opens");
    let start = Complaint::start(&events[0]).expect("received");
    let mut caused = Caused::new();
    collect(&start, &events[1..], &mut caused);
    let (complaint, event, kind, recipient) = caused.first().expect("an ADR notice");
    assert_eq!(*kind, LetterKind::AdrNotice);
    let letter = render(complaint, event, *kind, *recipient, &p).expect("renders");
    assert!(letter.large_print);
    assert!(letter.html().expect("html").contains("22px"));
    assert_eq!(c.reference, complaint.reference);
}

// ---------------------------------------------------------------------------------------------
// The procedure check
// ---------------------------------------------------------------------------------------------

#[test]
fn procedure_check_refuses_an_adr_letter_without_the_ombudsmans_details() {
    let start = DEFAULT_PROCEDURE_TOML
        .find("[letters.adr_notice]")
        .expect("an ADR notice");
    let end = start
        + DEFAULT_PROCEDURE_TOML[start..]
            .find("[letters.deadlock_letter]")
            .expect("the next letter");
    let text = format!(
        "{}[letters.adr_notice]\nsubject = \"Your complaint {{{{ reference }}}}\"\nbody = \"\"\"\nDear {{{{ customer.name }}}},\n\nYou may now go to the ombudsman about {{{{ reference }}}}.\n\"\"\"\n\n{}",
        &DEFAULT_PROCEDURE_TOML[..start],
        &DEFAULT_PROCEDURE_TOML[end..]
    );
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("procedure.toml");
    std::fs::write(&path, &text).expect("write the procedure");
    let output = Command::new(env!("CARGO_BIN_EXE_redress"))
        .args(["procedure", "check"])
        .arg(&path)
        .output()
        .expect("run redress");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "accepted: {stderr}");
    // The line of `body = """`, just after the replaced subject.
    let body_line = text
        .lines()
        .position(|l| l.starts_with("subject = \"Your complaint {{ reference }}\""))
        .expect("the subject line")
        + 2;
    let expected = format!("line {body_line}: letters.adr_notice.body:");
    assert!(stderr.contains(&expected), "{expected} not in:\n{stderr}");
    for missing in [
        "Ombudsman Services: Communications",
        "PO Box 730",
        "0330 440 1614",
        "0330 440 1615",
        "0330 440 1600",
        "12 months",
    ] {
        assert!(
            stderr.contains(missing),
            "{missing} not named in:\n{stderr}"
        );
    }
    // The default procedure passes.
    let output = Command::new(env!("CARGO_BIN_EXE_redress"))
        .args(["procedure", "check", "default"])
        .output()
        .expect("run redress");
    assert!(output.status.success());
}

// ---------------------------------------------------------------------------------------------
// Through the API
// ---------------------------------------------------------------------------------------------

async fn get_pdf(app: &TestApp, token: &str, path: &str) -> (u16, String, Vec<u8>) {
    let response = app
        .client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    let kind = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    (status, kind, response.bytes().await.expect("body").to_vec())
}

async fn a_complaint_recorded_60_days_late_gets_its_adr_notice_at_once(db: Db) {
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
    let received = ts(START) - SignedDuration::from_hours(24 * 60);
    let reference = app.create_complaint(&token,
        json!({
            "channel": "letter",
            "customer": {"account": "KX-1", "name": "Ann Example", "address": ["1 Sample Street", "Manchester"], "postcode": "M1 1AA"},
            "summary": "A letter about a dead line, entered late",
            "received_at": received.to_string(),
        }),
    )
    .await;
    // At once: no scheduler tick, no sending needed for the letter to exist.
    let (status, listed) = app
        .get_json(
            Some(&token),
            &format!("/api/v1/complaints/{reference}/letters"),
        )
        .await;
    assert_eq!(status, 200, "{listed}");
    let letters = listed["letters"].as_array().expect("letters");
    assert_eq!(letters.len(), 1, "{listed}");
    let letter = &letters[0];
    assert_eq!(letter["kind"], "adr_notice");
    assert_eq!(letter["channel"], "post");
    assert_eq!(letter["created_at"], json!(START));
    assert_eq!(letter["sent_at"], Value::Null);
    let id = letter["id"].as_i64().expect("an id");
    let (status, kind, bytes) = get_pdf(
        &app,
        &token,
        &format!("/api/v1/complaints/{reference}/letters/{id}.pdf"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(kind, "application/pdf");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("adr_notice.pdf");
    write_pdf(&path, &bytes);
    let text = pdf_text(&path);
    for words in [
        reference.as_str(),
        "Ombudsman Services: Communications",
        "0330 440 1614",
        "12 months",
        "Ann Example",
        "1 Sample Street Manchester M1 1AA",
    ] {
        assert!(text.contains(words), "'{words}' is not in {text}");
    }
    app.stop().await;
}

async fn the_letters_api_lists_letters_and_serves_each_as_a_pdf(db: Db) {
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
    let reference = app.create_complaint(&token,
        json!({
            "channel": "telephone",
            "customer": {"account": "KX-2", "name": "Ann <Example>", "email": "ann@example.com", "postcode": "M1 1AA",
                         "accessibility_needs": ["large print"]},
            "summary": "Billed twice",
        }),
    )
    .await;
    let base = format!("/api/v1/complaints/{reference}");
    let (status, _) = app
        .post_json(&token, &format!("{base}/commands/acknowledge"), json!({}))
        .await;
    assert_eq!(status, 200);
    let (status, _) = app
        .post_json(
            &token,
            &format!("{base}/commands/offer_resolution"),
            json!({"text": "A refund of £12.50 & an apology"}),
        )
        .await;
    assert_eq!(status, 200);
    let (_, listed) = app.get_json(Some(&token), &format!("{base}/letters")).await;
    let letters = listed["letters"].as_array().expect("letters").clone();
    let kinds: Vec<&str> = letters.iter().filter_map(|l| l["kind"].as_str()).collect();
    assert_eq!(kinds, ["acknowledgement", "resolution_offer"], "{listed}");
    for letter in &letters {
        assert_eq!(letter["channel"], "email");
        assert_eq!(letter["recipient"], "customer");
        assert!(letter.get("printed_at").is_none(), "{letter}");
        for field in ["id", "kind", "created_at", "sent_at", "channel"] {
            assert!(letter.get(field).is_some(), "{field} in {letter}");
        }
    }
    // Sent by the file transport.
    app.send_letters().await;
    let (_, listed) = app.get_json(Some(&token), &format!("{base}/letters")).await;
    for letter in listed["letters"].as_array().expect("letters") {
        assert!(letter["sent_at"].is_string(), "{letter}");
        assert_eq!(letter["large_print"], true, "{letter}");
    }
    let offer = letters[1]["id"].as_i64().expect("an id");
    // Large print by default for this customer; standard on request.
    let dir = tempfile::tempdir().expect("a temporary directory");
    for (query, large) in [
        ("", true),
        ("?large_print=false", false),
        ("?large_print=true", true),
    ] {
        let (status, kind, bytes) =
            get_pdf(&app, &token, &format!("{base}/letters/{offer}.pdf{query}")).await;
        assert_eq!((status, kind.as_str()), (200, "application/pdf"), "{query}");
        let path = dir.path().join("offer.pdf");
        write_pdf(&path, &bytes);
        let text = pdf_text(&path);
        assert!(text.contains("A refund of £12.50 & an apology"), "{text}");
        assert!(text.contains("Ann <Example>"), "{text}");
        let smallest = smallest_type(&path);
        assert_eq!(smallest >= 15.9, large, "{query}: {smallest} pt");
    }
    // The OpenAPI document describes them.
    let (_, openapi) = app.get_json(None, "/api/v1/openapi.json").await;
    for path in [
        "/api/v1/complaints/{reference}/letters",
        "/api/v1/complaints/{reference}/letters/{id}.pdf",
        "/api/v1/print-queue",
        "/api/v1/print-queue/{id}/printed",
    ] {
        assert!(
            openapi["paths"].get(path).is_some(),
            "{path} not in the OpenAPI document"
        );
    }
    // Unknown letters and bad queries are problems.
    for (path, status) in [
        (format!("{base}/letters/999999.pdf"), 404),
        (format!("{base}/letters/{offer}"), 404),
        (format!("{base}/letters/{offer}.pdf?large_print=maybe"), 400),
        (format!("{base}/letters/{offer}.pdf?size=9"), 400),
        ("/api/v1/complaints/CMP-2026-999999/letters".to_owned(), 404),
        ("/api/v1/complaints/nonsense/letters".to_owned(), 400),
    ] {
        let (got, body) = app.get_json(Some(&token), &path).await;
        assert_eq!(got, status, "{path}: {body}");
        assert!(body["code"].is_string(), "{path}: {body}");
    }
    app.stop().await;
}

async fn the_letters_api_reads_with_the_rights_of_a_complaint(db: Db) {
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
    let reference = app
        .create_complaint(
            &handler,
            json!({
                "channel": "telephone",
                "customer": {"account": "KX-3", "name": "Ann Example", "email": "ann@example.com"},
                "summary": "No dial tone",
            }),
        )
        .await;
    let base = format!("/api/v1/complaints/{reference}");
    app.post_json(&handler, &format!("{base}/commands/acknowledge"), json!({}))
        .await;
    let compliance = app
        .token(Role::Compliance, None, Some("c@kinex.example"))
        .await;
    let other_department = app
        .token(
            Role::Handler,
            Some("escalation_team"),
            Some("e@kinex.example"),
        )
        .await;
    let administrator = app
        .token(Role::Administrator, None, Some("a@kinex.example"))
        .await;
    let customer = app.token(Role::Customer, None, None).await;
    let (_, listed) = app
        .get_json(Some(&handler), &format!("{base}/letters"))
        .await;
    let id = listed["letters"][0]["id"].as_i64().expect("a letter");
    for (token, status) in [
        (Some(handler.as_str()), 200),
        (Some(compliance.as_str()), 200),
        (Some(other_department.as_str()), 200),
        (Some(administrator.as_str()), 403),
        (Some(customer.as_str()), 403),
        (None, 401),
    ] {
        let (complaint, _) = app.get_json(token, &base).await;
        let (letters, _) = app.get_json(token, &format!("{base}/letters")).await;
        assert_eq!(letters, complaint, "the letters follow GET complaint");
        assert_eq!(letters, status);
        let mut request = app.client.get(app.url(&format!("{base}/letters/{id}.pdf")));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let pdf = request.send().await.expect("request").status().as_u16();
        assert_eq!(pdf, status);
    }
    app.stop().await;
}

async fn the_review_outcome_is_a_letter_to_the_customer(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let cs = app
        .token(
            Role::Handler,
            Some("customer_services"),
            Some("cs@kinex.example"),
        )
        .await;
    let esc = app
        .token(
            Role::Handler,
            Some("escalation_team"),
            Some("esc@kinex.example"),
        )
        .await;
    let cr = app
        .token(
            Role::Handler,
            Some("customer_resolution"),
            Some("cr@kinex.example"),
        )
        .await;
    let crm = app
        .token(
            Role::CustomerResolutionManager,
            Some("customer_resolution_manager"),
            Some("crm@kinex.example"),
        )
        .await;
    let reference = app.create_complaint(&cs,
        json!({
            "channel": "letter",
            "customer": {"account": "KX-4", "name": "Ann Example", "address": ["1 Sample Street"], "postcode": "M1 1AA",
                         "preferred_channel": "letter"},
            "summary": "Mis-sold contract",
        }),
    )
    .await;
    let base = format!("/api/v1/complaints/{reference}");
    for (token, command, body) in [
        (&cs, "offer_resolution", json!({"text": "A discount"})),
        (&cs, "request_escalation", json!({})),
        (&esc, "transfer_to_resolution", json!({})),
        (
            &cr,
            "request_evidence",
            json!({"from": "third_party", "due_days": 14, "description": "Call recording"}),
        ),
        (
            &cr,
            "issue_formal_response",
            json!({"text": "Our findings"}),
        ),
        (
            &cr,
            "request_manager_review",
            json!({"text": "Please review"}),
        ),
        (
            &crm,
            "record_review_outcome",
            json!({"text": "We will refund the March bill"}),
        ),
    ] {
        let (status, body) = app
            .post_json(token, &format!("{base}/commands/{command}"), body)
            .await;
        assert_eq!(status, 200, "{command}: {body}");
    }
    let (status, body) = app
        .post_json(
            &crm,
            &format!("{base}/commands/record_review_outcome"),
            json!({"text": "Again"}),
        )
        .await;
    assert_eq!((status, body["code"].as_str()), (409, Some("already_done")));
    let (_, listed) = app.get_json(Some(&cs), &format!("{base}/letters")).await;
    let letters: Vec<(String, String, String)> = listed["letters"]
        .as_array()
        .expect("letters")
        .iter()
        .map(|l| {
            (
                l["kind"].as_str().unwrap_or_default().to_owned(),
                l["recipient"].as_str().unwrap_or_default().to_owned(),
                l["channel"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let expect = |k: &str, r: &str| (k.to_owned(), r.to_owned(), "post".to_owned());
    assert_eq!(
        letters,
        [
            expect("resolution_offer", "customer"),
            expect("escalation_acknowledgement", "customer"),
            expect("transfer_notice", "customer"),
            expect("evidence_request", "third_party"),
            expect("formal_response", "customer"),
            expect("manager_review_outcome", "customer"),
        ]
    );
    // The customer's portal lists their letters, not the one to the third party.
    let portal: Vec<String> = app
        .store
        .customer_letters(&reference)
        .await
        .expect("the portal's letters")
        .into_iter()
        .map(|l| l.kind)
        .collect();
    assert_eq!(
        portal,
        [
            "resolution_offer",
            "escalation_acknowledgement",
            "transfer_notice",
            "formal_response",
            "manager_review_outcome"
        ]
    );
    let review = listed["letters"][5]["id"].as_i64().expect("an id");
    let (_, _, bytes) = get_pdf(&app, &cs, &format!("{base}/letters/{review}.pdf")).await;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("review.pdf");
    write_pdf(&path, &bytes);
    let text = pdf_text(&path);
    assert!(text.contains("We will refund the March bill"), "{text}");
    assert!(text.contains("The Customer Resolution Manager"), "{text}");
    app.stop().await;
}

/// A letter that went is kept as it went: its PDF's bytes and its words, named by SHA-256 in
/// the complaint's chain. A node started on the same record with the acknowledgement's
/// wording changed serves the old letter as it went and words a letter not yet sent anew.
/// An answer to a customer who wrote to us threads with their latest email.
async fn a_sent_letter_is_kept_as_it_went_whatever_the_templates_say_later(db: Db) {
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
    let body = |account: &str| {
        json!({"channel": "telephone",
               "customer": {"account": account, "name": "Ann Example", "email": "ann@example.com",
                            "postcode": "M1 1AA"},
               "summary": "Billed twice"})
    };
    let sent = app.create_complaint(&token, body("KX-61")).await;
    let (status, _) = app.command(&token, &sent, "acknowledge", json!({})).await;
    assert_eq!(status, 200);
    // The customer writes; our next letter answers that email.
    let raw = format!(
        "From: Ann Example <ann@example.com>\r\nTo: complaints@kinex.example\r\nSubject: Re: {sent}\r\n\
         Message-ID: <ann-writes-1@example.com>\r\nDate: Mon, 2 Mar 2026 08:00:00 +0000\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nI was billed twice again.\r\n"
    );
    let request = app
        .client
        .post(app.url("/api/v1/inbound/email"))
        .bearer_auth(&token)
        .header("content-type", "message/rfc822")
        .body(raw);
    let (status, filed) = support::api::answer(request).await;
    assert_eq!(status, 202, "{filed}");
    assert_eq!(filed["outcome"], "added_to_complaint", "{filed}");
    let (status, _) = app
        .command(
            &token,
            &sent,
            "offer_resolution",
            json!({"text": "A refund of £12"}),
        )
        .await;
    assert_eq!(status, 200);
    assert!(app.send_letters().await >= 2);
    let unsent = app.create_complaint(&token, body("KX-62")).await;
    let (status, _) = app.command(&token, &unsent, "acknowledge", json!({})).await;
    assert_eq!(status, 200);

    let letters = app.store.complaint_letters(&sent).await.expect("letters");
    let acknowledgement = letters
        .iter()
        .find(|l| l.kind == "acknowledgement")
        .expect("an acknowledgement")
        .id;
    let copy = app
        .store
        .letter_copy(acknowledgement)
        .await
        .expect("read")
        .expect("a copy kept as it went");
    let path = format!("/api/v1/complaints/{sent}/letters/{acknowledgement}.pdf");
    let before = app
        .client
        .get(app.url(&path))
        .bearer_auth(&token)
        .send()
        .await
        .expect("the PDF")
        .bytes()
        .await
        .expect("bytes");
    assert_eq!(
        std::fs::read(app.files_dir.join(&copy.pdf_sha256)).expect("the PDF as sent"),
        before.to_vec(),
        "the API serves the PDF that went"
    );
    // Its hashes are in the complaint's chain.
    let view = app
        .store
        .get_complaint(&Reference::parse(&sent).expect("a reference"))
        .await
        .expect("the complaint");
    let recorded = view
        .events
        .iter()
        .find(|row| {
            matches!(&row.event.kind, redress_core::EventKind::LetterSent { letter, .. } if *letter == acknowledgement)
        })
        .expect("a letter_sent event");
    let redress_core::EventKind::LetterSent {
        copy_sha256,
        pdf_sha256,
        ..
    } = &recorded.event.kind
    else {
        unreachable!()
    };
    assert_eq!(copy_sha256, &copy.copy_sha256);
    assert_eq!(pdf_sha256, &copy.pdf_sha256);
    // The answer threads with the customer's email.
    let mut offer_email = String::new();
    for entry in std::fs::read_dir(&app.mail_dir).expect("the mail folder") {
        let text = std::fs::read_to_string(entry.expect("an entry").path()).expect("an email");
        if text.contains("How we propose to resolve your complaint") {
            offer_email = text;
        }
    }
    assert!(
        offer_email.contains("In-Reply-To: <ann-writes-1@example.com>"),
        "{offer_email}"
    );
    assert!(
        offer_email.contains("References: <ann-writes-1@example.com>"),
        "{offer_email}"
    );

    // The same record, the acknowledgement worded anew.
    let changed = DEFAULT_PROCEDURE_TOML.replace(
        "Thank you for telling us about your complaint",
        "NEW WORDING 2027: we have your complaint",
    );
    let changed = Procedure::from_toml(&changed).expect("the changed procedure");
    let files_dir = app.files_dir.clone();
    let later = support::spawn_app_beside(&app, move |config| {
        config.procedure = std::sync::Arc::new(changed);
        config.web.files_dir = files_dir;
    })
    .await;
    let after = later
        .client
        .get(later.url(&path))
        .bearer_auth(&token)
        .send()
        .await
        .expect("the PDF")
        .bytes()
        .await
        .expect("bytes");
    assert_eq!(after, before, "a sent letter's PDF is the one that went");
    let mut staff = support::browser::Browser::new(&later);
    later
        .staff_account(
            "reader@kinex.example",
            Role::Handler,
            Some("customer_services"),
        )
        .await;
    staff = staff.signs_in_staff("reader@kinex.example").await;
    let page = staff
        .get(&format!(
            "/staff/complaints/{sent}/letters/{acknowledgement}"
        ))
        .await;
    page.expect(200);
    assert!(
        page.body.contains("Thank you for telling us"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("NEW WORDING"), "{}", page.body);
    let waiting = later
        .store
        .complaint_letters(&unsent)
        .await
        .expect("letters")
        .iter()
        .find(|l| l.kind == "acknowledgement")
        .expect("an acknowledgement")
        .id;
    let page = staff
        .get(&format!("/staff/complaints/{unsent}/letters/{waiting}"))
        .await;
    page.expect(200);
    assert!(
        page.body.contains("NEW WORDING 2027"),
        "a letter not yet sent uses the new template: {}",
        page.body
    );
    later.stop().await;
    app.stop().await;
}
