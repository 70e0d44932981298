//! Offers and ownership on the staff pages, black-box through a real server: compensation
//! awaiting approval in the approver's queue (`/staff/approvals`), a withdrawn offer's letter
//! held back and the withdrawal written, and the email a member of staff gets when a
//! complaint is given to them. Each scenario runs on SQLite and on PostgreSQL.
#[macro_use]
mod support;

use redress_core::Role;
use serde_json::json;
use support::browser::Browser;
use support::{Db, TestApp, spawn_app};

both_backends! {
    an_offer_awaiting_approval_is_in_the_approvers_queue_only =>
        sqlite_an_offer_awaiting_approval_is_in_the_approvers_queue_only,
        postgres_an_offer_awaiting_approval_is_in_the_approvers_queue_only;
    a_withdrawn_offer_is_not_sent_and_the_withdrawal_is =>
        sqlite_a_withdrawn_offer_is_not_sent_and_the_withdrawal_is,
        postgres_a_withdrawn_offer_is_not_sent_and_the_withdrawal_is;
    whoever_is_given_a_complaint_is_told_by_email =>
        sqlite_whoever_is_given_a_complaint_is_told_by_email,
        postgres_whoever_is_given_a_complaint_is_told_by_email;
    the_letter_a_command_sends_is_shown_before_it_is_sent =>
        sqlite_the_letter_a_command_sends_is_shown_before_it_is_sent,
        postgres_the_letter_a_command_sends_is_shown_before_it_is_sent;
    a_manager_assigns_many_complaints_at_once =>
        sqlite_a_manager_assigns_many_complaints_at_once,
        postgres_a_manager_assigns_many_complaints_at_once;
    scans_are_kept_with_a_recorded_letter_and_with_evidence =>
        sqlite_scans_are_kept_with_a_recorded_letter_and_with_evidence,
        postgres_scans_are_kept_with_a_recorded_letter_and_with_evidence;
}

const HANDLER: &str = "cs@kinex.example";
const MANAGER: &str = "cs-manager@kinex.example";
const OTHER_MANAGER: &str = "esc-manager@kinex.example";

async fn people(app: &TestApp) {
    app.staff_account(HANDLER, Role::Handler, Some("customer_services"))
        .await;
    app.staff_account(MANAGER, Role::TeamManager, Some("customer_services"))
        .await;
    app.staff_account(OTHER_MANAGER, Role::TeamManager, Some("escalation_team"))
        .await;
}

/// A telephoned complaint with an email address (its letters go by email), fault found.
async fn complaint_at_fault(app: &TestApp, staff: &mut Browser) -> String {
    let token = app.handler_token(HANDLER).await;
    let reference = app
        .create_complaint(
            &token,
            json!({"channel": "telephone",
                   "customer": {"account": "KX-31", "name": "Cara Example",
                                "email": "cara@example.com", "postcode": "M1 1AA"},
                   "summary": "Three engineer visits missed"}),
        )
        .await;
    staff
        .command(&reference, "establish_fault", &[])
        .await
        .expect(303);
    reference
}

async fn complaint(app: &TestApp, reference: &str) -> redress::store::ComplaintView {
    app.store
        .get_complaint(&redress_core::Reference::parse(reference).expect("a reference"))
        .await
        .expect("the complaint")
}

async fn letter_kinds(app: &TestApp, reference: &str) -> Vec<String> {
    app.store
        .complaint_letters(reference)
        .await
        .expect("letters")
        .into_iter()
        .map(|l| l.kind)
        .collect()
}

async fn an_offer_awaiting_approval_is_in_the_approvers_queue_only(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    people(&app).await;
    let mut handler = Browser::signed_in_staff(&app, HANDLER).await;
    let reference = complaint_at_fault(&app, &mut handler).await;
    // £250 is above a handler's limit of £100: it waits for someone who may approve it.
    handler
        .command(
            &reference,
            "offer_compensation",
            &[("amount", "250"), ("reason", "Three missed visits")],
        )
        .await
        .expect(303);

    let mut manager = Browser::signed_in_staff(&app, MANAGER).await;
    let page = manager.get("/staff/approvals").await;
    page.expect(200);
    assert!(page.body.contains(&reference), "{}", page.body);
    assert!(
        page.body.contains("£250.00 compensation awaiting approval"),
        "{}",
        page.body
    );
    // Not for the handler (above their limit, and their own offer), nor for another
    // department's manager.
    let mine = handler.get("/staff/approvals").await;
    mine.expect(200);
    assert!(!mine.body.contains(&reference), "{}", mine.body);
    let mut other = Browser::signed_in_staff(&app, OTHER_MANAGER).await;
    let theirs = other.get("/staff/approvals").await;
    theirs.expect(200);
    assert!(!theirs.body.contains(&reference), "{}", theirs.body);

    manager
        .command(&reference, "approve_compensation", &[])
        .await
        .expect(303);
    let page = manager.get("/staff/approvals").await;
    assert!(!page.body.contains(&reference), "{}", page.body);
    app.stop().await;
}

async fn a_withdrawn_offer_is_not_sent_and_the_withdrawal_is(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    people(&app).await;
    let mut handler = Browser::signed_in_staff(&app, HANDLER).await;
    let reference = complaint_at_fault(&app, &mut handler).await;
    // Within the handler's limit: made to the customer at once, its letter queued.
    handler
        .command(&reference, "offer_compensation", &[("amount", "40")])
        .await
        .expect(303);
    handler
        .command(
            &reference,
            "withdraw_offer",
            &[("reason", "The credit was already on your March bill")],
        )
        .await
        .expect(303);
    app.send_letters().await;
    let letters = app
        .store
        .complaint_letters(&reference)
        .await
        .expect("letters");
    let offer = letters
        .iter()
        .find(|l| l.kind == "compensation_offer")
        .expect("the offer's letter is listed");
    assert!(offer.sent_at.is_none(), "the withdrawn offer's letter went");
    assert!(offer.cancelled_at.is_some(), "held back");
    let withdrawn = letters
        .iter()
        .find(|l| l.kind == "compensation_withdrawn")
        .expect("a withdrawal letter");
    assert!(withdrawn.sent_at.is_some(), "the withdrawal went");
    let mut emails = String::new();
    for entry in std::fs::read_dir(&app.mail_dir).expect("the mail folder") {
        let path = entry.expect("an entry").path();
        emails.push_str(&std::fs::read_to_string(&path).expect("an email"));
    }
    assert!(
        emails.contains("We have withdrawn our offer of compensation"),
        "{emails}"
    );
    assert!(
        !emails.contains("Subject: Our offer of compensation"),
        "the withdrawn offer was emailed: {emails}"
    );
    // Staff see why it did not go; the customer's portal lists only what went.
    let case = handler.case(&reference).await;
    assert!(
        case.body
            .contains("Not sent: the offer was withdrawn before it went"),
        "{}",
        case.body
    );
    let listed = app
        .store
        .customer_letters(&reference)
        .await
        .expect("the customer's letters");
    assert!(
        listed.iter().all(|l| l.kind != "compensation_offer"),
        "{listed:?}"
    );
    app.stop().await;
}

async fn whoever_is_given_a_complaint_is_told_by_email(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    people(&app).await;
    let mut handler = Browser::signed_in_staff(&app, HANDLER).await;
    let reference = complaint_at_fault(&app, &mut handler).await;
    // Taking it oneself tells nobody.
    handler
        .command(&reference, "assign", &[("handler", HANDLER)])
        .await
        .expect(303);
    let mut manager = Browser::signed_in_staff(&app, MANAGER).await;
    manager
        .command(&reference, "assign", &[("handler", MANAGER)])
        .await
        .expect(303);
    manager
        .command(&reference, "assign", &[("handler", HANDLER)])
        .await
        .expect(303);
    app.send_letters().await;
    let notices = sqlx::query(
        "SELECT payload, sent_at FROM outbox WHERE kind = 'assignment_notice' ORDER BY id",
    )
    .fetch_all(app.store.pool())
    .await
    .expect("the outbox");
    assert_eq!(
        notices.len(),
        1,
        "one notice: the manager gave it to the handler"
    );
    let payload: String = sqlx::Row::try_get(&notices[0], "payload").expect("payload");
    let payload: serde_json::Value = serde_json::from_str(&payload).expect("json");
    assert_eq!(payload["to"], HANDLER);
    let sent: Option<i64> = sqlx::Row::try_get(&notices[0], "sent_at").expect("sent_at");
    assert!(sent.is_some(), "the notice was sent");
    let mut found = None;
    for entry in std::fs::read_dir(&app.mail_dir).expect("the mail folder") {
        let text = std::fs::read_to_string(entry.expect("an entry").path()).expect("an email");
        if text.contains("has been given to you") {
            found = Some(text);
        }
    }
    let email = found.expect("the notice's email");
    assert!(email.contains(&format!("To: {HANDLER}")), "{email}");
    assert!(
        email.contains(&format!("/staff/complaints/{reference}")),
        "{email}"
    );
    assert!(
        !email.contains("Cara Example"),
        "no customer details: {email}"
    );
    // Not a letter about the complaint: neither staff nor customer list it.
    let letters = app
        .store
        .complaint_letters(&reference)
        .await
        .expect("letters");
    assert!(letters.iter().all(|l| l.kind != "assignment_notice"));
    app.stop().await;
}

async fn the_letter_a_command_sends_is_shown_before_it_is_sent(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    people(&app).await;
    let mut handler = Browser::signed_in_staff(&app, HANDLER).await;
    let reference = complaint_at_fault(&app, &mut handler).await;
    let before = handler.case(&reference).await;
    assert!(
        before.body.contains("Preview the letter"),
        "{}",
        before.body
    );
    let events_before = complaint(&app, &reference).await.events.len();
    let offer = "A new router & a £20 credit <by Friday>";
    let page = handler
        .command(
            &reference,
            "offer_resolution",
            &[("text", offer), ("preview", "1")],
        )
        .await;
    page.expect(200);
    // The letter's words, escaped, with the customer's name; what was typed is kept.
    for words in [
        "The letter this will send (not sent yet)",
        "Dear Cara Example",
        "A new router &#38; a £20 credit &#60;by Friday&#62;",
        "By email",
    ] {
        assert!(page.body.contains(words), "{words}: {}", page.body);
    }
    let view = complaint(&app, &reference).await;
    assert_eq!(
        view.events.len(),
        events_before,
        "a preview records nothing"
    );
    assert!(
        !letter_kinds(&app, &reference)
            .await
            .contains(&"resolution_offer".to_owned()),
        "a preview queues no letter"
    );
    handler
        .command(&reference, "offer_resolution", &[("text", offer)])
        .await
        .expect(303);
    assert!(
        letter_kinds(&app, &reference)
            .await
            .contains(&"resolution_offer".to_owned())
    );
    app.stop().await;
}

async fn a_manager_assigns_many_complaints_at_once(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    people(&app).await;
    let token = app.handler_token(HANDLER).await;
    let mut references = Vec::new();
    for n in 0..3 {
        references.push(
            app.create_complaint(
                &token,
                json!({"channel": "telephone",
                       "customer": {"account": format!("KX-5{n}"), "name": "Dan Example"},
                       "summary": "No dial tone"}),
            )
            .await,
        );
    }
    let mut manager = Browser::signed_in_staff(&app, MANAGER).await;
    let page = manager.get("/staff/unassigned").await;
    page.expect(200);
    assert!(
        page.body.contains("Assign the chosen complaints"),
        "{}",
        page.body
    );
    let csrf = page.csrf_token();
    // No one chosen: said so, and nothing is assigned.
    let refused = manager
        .post_form(
            "/staff/assign",
            &[
                ("csrf", &csrf),
                ("back", "/staff/unassigned"),
                ("reference", &references[0]),
            ],
        )
        .await;
    refused.expect(303);
    let page = manager.get("/staff/unassigned?bulk=choose-person").await;
    assert!(
        page.body
            .contains("Choose the person to give the complaints to"),
        "{}",
        page.body
    );
    // Someone of another department cannot be chosen.
    manager
        .post_form(
            "/staff/assign",
            &[
                ("csrf", &csrf),
                ("back", "/staff/unassigned"),
                ("handler", OTHER_MANAGER),
                ("reference", &references[0]),
            ],
        )
        .await
        .expect(303);
    let done = manager
        .post_form(
            "/staff/assign",
            &[
                ("csrf", &csrf),
                ("back", "/staff/unassigned"),
                ("handler", HANDLER),
                ("reference", &references[0]),
                ("reference", &references[2]),
            ],
        )
        .await;
    done.expect(303);
    for (n, reference) in references.iter().enumerate() {
        let view = complaint(&app, reference).await;
        let expected = (n != 1).then_some(HANDLER);
        assert_eq!(view.complaint.handler.as_deref(), expected, "{reference}");
    }
    let page = manager.get("/staff/unassigned?bulk=assigned-2&not=").await;
    assert!(
        page.body.contains("2 complaints were assigned."),
        "{}",
        page.body
    );
    // A handler cannot assign in bulk, and a form from elsewhere is refused.
    let mut handler = Browser::signed_in_staff(&app, HANDLER).await;
    let csrf = handler.get("/staff").await.csrf_token();
    handler
        .post_form(
            "/staff/assign",
            &[
                ("csrf", &csrf),
                ("handler", HANDLER),
                ("reference", &references[1]),
            ],
        )
        .await
        .expect(403);
    manager
        .post_form(
            "/staff/assign",
            &[
                ("csrf", "forged"),
                ("handler", HANDLER),
                ("reference", &references[1]),
            ],
        )
        .await
        .expect(403);
    app.stop().await;
}

async fn scans_are_kept_with_a_recorded_letter_and_with_evidence(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    people(&app).await;
    let mut handler = Browser::signed_in_staff(&app, HANDLER).await;
    let form = handler.get("/staff/complaints/new").await;
    form.expect(200);
    assert!(form.body.contains("enctype=\"multipart/form-data\""));
    let csrf = form.csrf_token();
    let submission = form.hidden("submission");
    let scan: &[u8] = b"%PDF-1.4\n% the customer's letter of 27 February\n%%EOF\n";
    let fields = |scan: (&'static str, &'static [u8]), name: &'static str| {
        vec![
            ("csrf", None, csrf.as_bytes().to_vec()),
            ("submission", None, submission.as_bytes().to_vec()),
            ("channel", None, b"letter".to_vec()),
            ("received_date", None, b"2026-02-27".to_vec()),
            ("received_time", None, b"10:00".to_vec()),
            ("name", None, name.as_bytes().to_vec()),
            ("account", None, b"KX-77".to_vec()),
            ("postcode", None, b"LS1 1AA".to_vec()),
            ("address", None, b"2 Sample Road\nLeeds".to_vec()),
            ("contact", None, b"letter".to_vec()),
            ("summary", None, b"Charged for a router I returned".to_vec()),
            ("category", None, b"billing_pricing_charges".to_vec()),
            ("scan", Some(scan.0), scan.1.to_vec()),
        ]
    };
    let send = |fields: &[(&'static str, Option<&'static str>, Vec<u8>)]| {
        fields
            .iter()
            .map(|(n, f, b)| (*n, *f, b.clone()))
            .collect::<Vec<_>>()
    };
    // A program passed off as a PDF is refused, said on the field, and what was typed stays.
    let bad = send(&fields(
        ("letter.pdf", b"MZ\x90\x00 not a pdf"),
        "Eve Example",
    ));
    let parts: Vec<(&str, Option<&str>, &[u8])> =
        bad.iter().map(|(n, f, b)| (*n, *f, b.as_slice())).collect();
    let refused = handler.post_multipart("/staff/complaints", &parts).await;
    refused.expect(422);
    assert!(refused.body.contains("href=\"#scan\""), "{}", refused.body);
    assert!(
        refused
            .body
            .contains("The scan must be a PDF, a JPEG or PNG picture"),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("Charged for a router I returned"));
    let good = send(&fields(("letter.pdf", scan), "Eve Example"));
    let parts: Vec<(&str, Option<&str>, &[u8])> = good
        .iter()
        .map(|(n, f, b)| (*n, *f, b.as_slice()))
        .collect();
    let done = handler.post_multipart("/staff/complaints", &parts).await;
    done.expect(303);
    let reference = complaint_reference(&app).await;
    let files = app
        .store
        .attachments(&reference)
        .await
        .expect("the complaint's files");
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0].filename, "letter.pdf");
    assert_eq!(files[0].uploaded_by, HANDLER);
    let opened = handler
        .get(&format!(
            "/staff/complaints/{reference}/files/{}",
            files[0].id
        ))
        .await;
    opened.expect(200);
    assert_eq!(opened.body.as_bytes(), scan);

    // Evidence recorded with a scan: the event and the file together.
    let case = handler.case(&reference).await;
    let csrf = case.csrf_token();
    let photo: &[u8] = b"\x89PNG\r\n\x1a\n a photograph of the returns receipt";
    let recorded = handler
        .post_multipart(
            &format!("/staff/complaints/{reference}/commands/receive_evidence"),
            &[
                ("csrf", None, csrf.as_bytes()),
                ("description", None, b"The returns receipt"),
                ("channel", None, b"letter"),
                ("file", Some("receipt.png"), photo),
            ],
        )
        .await;
    recorded.expect(303);
    let files = app.store.attachments(&reference).await.expect("files");
    assert_eq!(files.len(), 2, "{files:?}");
    let receipt = files
        .iter()
        .find(|f| f.filename == "receipt.png")
        .expect("the receipt");
    assert_eq!(receipt.content_type, "image/png");
    let view = complaint(&app, &reference).await;
    let last = view.events.last().expect("an event");
    assert_eq!(last.event.kind.name(), "evidence_received");
    assert!(
        serde_json::to_string(&last.event)
            .expect("json")
            .contains("File attached: receipt.png")
    );
    // A file of the wrong kind records nothing.
    let events = view.events.len();
    let refused = handler
        .post_multipart(
            &format!("/staff/complaints/{reference}/commands/receive_evidence"),
            &[
                ("csrf", None, csrf.as_bytes()),
                ("description", None, b"A program"),
                ("file", Some("run.exe"), b"MZ\x90\x00"),
            ],
        )
        .await;
    refused.expect(422);
    assert!(
        refused.body.contains("href=\"#receive_evidence-file\""),
        "{}",
        refused.body
    );
    assert_eq!(complaint(&app, &reference).await.events.len(), events);
    app.stop().await;
}

/// The reference of the only complaint recorded.
async fn complaint_reference(app: &TestApp) -> String {
    let page = app
        .store
        .list_complaints(&redress::store::ComplaintFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("the list");
    assert_eq!(page.items.len(), 1);
    page.items[0].reference.clone()
}
