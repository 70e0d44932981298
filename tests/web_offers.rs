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
