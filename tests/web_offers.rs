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
