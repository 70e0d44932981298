//! The staff pages' desk work, black-box through a real server: the email quarantine
//! (`/staff/quarantine`: read safely, file into a complaint, start a complaint, discard with a
//! reason, each recorded once) and the print queue (`/staff/print-queue`: download, mark
//! printed, print again with a reason). Each scenario runs on SQLite and on PostgreSQL.
#[macro_use]
mod support;

use redress_core::Role;
use serde_json::{Value, json};
use support::api::answer;
use support::browser::Browser;
use support::{Db, TestApp, spawn_app};

both_backends! {
    quarantined_email_is_read_safely_and_each_decision_is_recorded_once =>
        sqlite_quarantined_email_is_read_safely_and_each_decision_is_recorded_once,
        postgres_quarantined_email_is_read_safely_and_each_decision_is_recorded_once;
    a_complaint_started_from_quarantined_email_keeps_the_message =>
        sqlite_a_complaint_started_from_quarantined_email_keeps_the_message,
        postgres_a_complaint_started_from_quarantined_email_keeps_the_message;
    the_print_queue_page_marks_printed_and_prints_again_on_the_record =>
        sqlite_the_print_queue_page_marks_printed_and_prints_again_on_the_record,
        postgres_the_print_queue_page_marks_printed_and_prints_again_on_the_record;
}

const HANDLER: &str = "cs@kinex.example";
const ESCALATION: &str = "esc@kinex.example";
const COMPLIANCE: &str = "comp@kinex.example";

async fn people(app: &TestApp) {
    app.staff_account(HANDLER, Role::Handler, Some("customer_services"))
        .await;
    app.staff_account(ESCALATION, Role::Handler, Some("escalation_team"))
        .await;
    app.staff_account(COMPLIANCE, Role::Compliance, None).await;
}

async fn post_email(app: &TestApp, token: &str, raw: &[u8]) -> Value {
    let request = app
        .client
        .post(app.url("/api/v1/inbound/email"))
        .bearer_auth(token)
        .header("content-type", "message/rfc822")
        .body(raw.to_vec());
    let (status, body) = answer(request).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["outcome"], "quarantined", "{body}");
    body
}

/// The ids of the quarantined messages, newest first, from the API.
async fn quarantined(app: &TestApp, token: &str) -> Vec<Value> {
    let (status, body) = app
        .get_json(Some(token), "/api/v1/inbound/quarantine")
        .await;
    assert_eq!(status, 200, "{body}");
    body["items"].as_array().expect("items").clone()
}

/// A message with no usable sender, whose subject and text try to be HTML.
fn hostile(n: u32) -> Vec<u8> {
    format!(
        "Subject: <script>alert({n})</script> about my bill\r\nMessage-ID: <hostile-{n}@x.example>\r\nContent-Type: text/html\r\n\r\n<p>Please <b>look</b> at my bill</p><img src=x onerror=alert({n})>\r\n"
    )
    .into_bytes()
}

async fn quarantined_email_is_read_safely_and_each_decision_is_recorded_once(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    people(&app).await;
    let token = app.handler_token(HANDLER).await;
    post_email(&app, &token, &hostile(1)).await;
    post_email(&app, &token, &hostile(2)).await;
    let items = quarantined(&app, &token).await;
    let (second, first) = (
        items[0]["id"].as_i64().expect("id"),
        items[1]["id"].as_i64().expect("id"),
    );
    let reference = app
        .create_complaint(
            &token,
            json!({"channel": "telephone",
                   "customer": {"account": "KX-9", "name": "Ann Example", "postcode": "M1 1AA"},
                   "summary": "Billed twice"}),
        )
        .await;

    let mut staff = Browser::signed_in_staff(&app, HANDLER).await;
    // The list: both waiting, oldest first, the subject escaped.
    let list = staff.get("/staff/quarantine").await;
    list.expect(200);
    assert!(list.body.contains("Waiting (2)"), "{}", list.body);
    assert!(!list.body.contains("<script>alert"), "{}", list.body);
    assert!(
        list.body.contains("&#60;script&#62;alert(1)"),
        "{}",
        list.body
    );
    let at = |n: i64| {
        list.body
            .find(&format!("/staff/quarantine/{n}\""))
            .expect("listed")
    };
    assert!(at(first) < at(second), "oldest first");

    // The message: header fields and text as text; nothing of it runs.
    let page = staff.get(&format!("/staff/quarantine/{first}")).await;
    page.expect(200);
    assert!(!page.body.contains("<script>alert"), "{}", page.body);
    assert!(!page.body.contains("<img src=x"), "{}", page.body);
    assert!(!page.body.contains("<b>look</b>"), "{}", page.body);
    assert!(page.body.contains("look"), "{}", page.body);
    assert!(page.body.contains("Why it is here"));
    let csp = page
        .headers
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") || csp.contains("default-src 'self'"),
        "{csp}"
    );
    // The whole message downloads, never as a page.
    let eml = staff
        .get(&format!("/staff/quarantine/{first}/message.eml"))
        .await;
    eml.expect(200);
    assert_eq!(eml.body.as_bytes(), hostile(1).as_slice());
    let header = |name: &str| {
        eml.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert!(header("content-disposition").starts_with("attachment;"));
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert!(header("content-security-policy").contains("sandbox"));

    // Compliance reads but does not act: no forms, and a posted form is refused.
    let mut compliance = Browser::signed_in_staff(&app, COMPLIANCE).await;
    let read = compliance.get(&format!("/staff/quarantine/{first}")).await;
    read.expect(200);
    assert!(!read.body.contains("/discard\""), "{}", read.body);
    let csrf = read.csrf_token();
    compliance
        .post_form(
            &format!("/staff/quarantine/{first}/discard"),
            &[("csrf", &csrf), ("reason", "spam")],
        )
        .await
        .expect(403);

    // A form without its CSRF token changes nothing.
    staff
        .post_form(
            &format!("/staff/quarantine/{first}/discard"),
            &[("reason", "spam")],
        )
        .await
        .expect(403);
    // Errors are said and what was typed is kept.
    let csrf = page.csrf_token();
    let bad = staff
        .post_form(
            &format!("/staff/quarantine/{first}/file"),
            &[("csrf", &csrf), ("reference", "CMP-2026-999999")],
        )
        .await;
    bad.expect(422);
    assert!(
        bad.body.contains("There is no complaint CMP-2026-999999"),
        "{}",
        bad.body
    );
    assert!(bad.body.contains("value=\"CMP-2026-999999\""));
    let empty = staff
        .post_form(
            &format!("/staff/quarantine/{first}/discard"),
            &[("csrf", &csrf), ("reason", "  ")],
        )
        .await;
    empty.expect(422);
    assert!(empty.body.contains("error-summary"), "{}", empty.body);
    // Someone in another department may not file into a stage-1 complaint: the core refuses.
    let mut escalation = Browser::signed_in_staff(&app, ESCALATION).await;
    let escalation_csrf = escalation
        .get(&format!("/staff/quarantine/{first}"))
        .await
        .csrf_token();
    let refused = escalation
        .post_form(
            &format!("/staff/quarantine/{first}/file"),
            &[("csrf", &escalation_csrf), ("reference", &reference)],
        )
        .await;
    refused.expect(409);
    assert!(refused.body.contains("did not take it"), "{}", refused.body);

    // Filed: evidence by email on the complaint, the whole message attached, by this person.
    let before = app.complaint_json(&token, &reference).await;
    let filed = staff
        .post_form(
            &format!("/staff/quarantine/{first}/file"),
            &[("csrf", &csrf), ("reference", &reference.to_lowercase())],
        )
        .await;
    filed.expect(303);
    assert_eq!(
        filed.location.as_deref(),
        Some(format!("/staff/complaints/{reference}?done=receive_evidence").as_str())
    );
    let after = app.complaint_json(&token, &reference).await;
    let events = |c: &Value| c["events"].as_array().expect("events").clone();
    assert_eq!(events(&after).len(), events(&before).len() + 1);
    let evidence = events(&after).last().cloned().expect("an event");
    assert_eq!(evidence["event"], "evidence_received", "{evidence}");
    assert_eq!(evidence["by"]["staff"], HANDLER, "{evidence}");
    let case = staff.case(&reference).await;
    assert!(
        case.body.contains(&format!("email-{first}.eml")),
        "{}",
        case.body
    );
    // Sent again (a double click): recorded once.
    staff
        .post_form(
            &format!("/staff/quarantine/{first}/file"),
            &[("csrf", &csrf), ("reference", &reference)],
        )
        .await
        .expect(303);
    // A colleague deciding otherwise is told the first decision, which stands.
    app.staff_account(
        "cs2@kinex.example",
        Role::Handler,
        Some("customer_services"),
    )
    .await;
    let mut colleague = Browser::signed_in_staff(&app, "cs2@kinex.example").await;
    let csrf2 = colleague
        .get(&format!("/staff/quarantine/{first}"))
        .await
        .csrf_token();
    let again = colleague
        .post_form(
            &format!("/staff/quarantine/{first}/file"),
            &[("csrf", &csrf2), ("reference", &reference)],
        )
        .await;
    again.expect(409);
    assert!(again.body.contains("dealt with already"), "{}", again.body);
    assert!(
        !again.body.contains("/discard\""),
        "no forms once dealt with"
    );
    let discard_after = staff
        .post_form(
            &format!("/staff/quarantine/{first}/discard"),
            &[("csrf", &csrf), ("reason", "spam")],
        )
        .await;
    discard_after.expect(409);
    assert_eq!(
        events(&app.complaint_json(&token, &reference).await).len(),
        events(&after).len()
    );

    // Discarded with a reason, kept on the record with who and when.
    let discarded = staff
        .post_form(
            &format!("/staff/quarantine/{second}/discard"),
            &[("csrf", &csrf), ("reason", "Spam <b>offer</b>")],
        )
        .await;
    discarded.expect(303);
    let list = staff.get("/staff/quarantine").await;
    assert!(list.body.contains("Waiting (0)"), "{}", list.body);
    assert!(
        list.body
            .contains(&format!("Filed into {reference} by Staff {HANDLER}")),
        "{}",
        list.body
    );
    assert!(
        list.body.contains(&format!("Discarded by Staff {HANDLER}")),
        "{}",
        list.body
    );
    assert!(list.body.contains("Spam &#60;b&#62;offer"), "{}", list.body);
    // The API tells the same.
    let items = quarantined(&app, &token).await;
    let resolved = |id: i64| {
        items
            .iter()
            .find(|i| i["id"] == id)
            .map(|i| i["resolved"].clone())
            .expect("listed")
    };
    assert_eq!(resolved(first)["resolution"], "filed");
    assert_eq!(resolved(first)["reference"], reference.as_str());
    assert_eq!(resolved(second)["resolution"], "discarded");
    assert_eq!(resolved(second)["by"], HANDLER);
    assert_eq!(resolved(second)["note"], "Spam <b>offer</b>");
    // Unknown messages are not found.
    staff.get("/staff/quarantine/999999").await.expect(404);
    staff.get("/staff/quarantine/nonsense").await.expect(404);
    app.stop().await;
}

async fn a_complaint_started_from_quarantined_email_keeps_the_message(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    people(&app).await;
    let token = app.handler_token(HANDLER).await;
    // An automatic-looking message naming no complaint is quarantined, sender and all.
    let raw = b"From: Ann Example <ann@example.com>\r\nSubject: Broadband drops every evening\r\nMessage-ID: <auto-1@example.com>\r\nAuto-Submitted: auto-generated\r\n\r\nIt has dropped every evening this week.\r\n";
    post_email(&app, &token, raw).await;
    let id = quarantined(&app, &token).await[0]["id"]
        .as_i64()
        .expect("id");
    let mut staff = Browser::signed_in_staff(&app, HANDLER).await;
    let form = staff
        .get(&format!("/staff/complaints/new?quarantine={id}"))
        .await;
    form.expect(200);
    // Filled in from the message.
    assert!(
        form.body.contains("value=\"ann@example.com\""),
        "{}",
        form.body
    );
    assert!(form.body.contains("value=\"Ann Example\""), "{}", form.body);
    assert!(form.body.contains("Broadband drops every evening"));
    assert_eq!(form.hidden("quarantine"), id.to_string());
    let fields = [
        ("csrf", form.csrf_token()),
        ("submission", form.hidden("submission")),
        ("quarantine", id.to_string()),
        ("channel", "email".to_owned()),
        ("received_date", value_of(&form.body, "received_date")),
        ("received_time", value_of(&form.body, "received_time")),
        ("name", "Ann Example".to_owned()),
        ("account", "KX-55".to_owned()),
        ("email", "ann@example.com".to_owned()),
        ("postcode", "M1 1AA".to_owned()),
        ("contact", "email".to_owned()),
        ("summary", "Broadband drops every evening".to_owned()),
        ("category", "faults_service_provision".to_owned()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let recorded = staff.post_form("/staff/complaints", &fields).await;
    recorded.expect(303);
    let location = recorded.location.clone().expect("the case page");
    let reference = location
        .trim_start_matches("/staff/complaints/")
        .split('?')
        .next()
        .expect("a reference")
        .to_owned();
    let complaint = app.complaint_json(&token, &reference).await;
    assert_eq!(complaint["channel"], "email", "{complaint}");
    let case = staff.case(&reference).await;
    assert!(
        case.body.contains(&format!("email-{id}.eml")),
        "{}",
        case.body
    );
    // Sent again by the same person, it leads to the same complaint and records nothing more;
    // the message is no longer waiting.
    let again = staff.post_form("/staff/complaints", &fields).await;
    assert_eq!(again.status, 303, "{}", again.body);
    assert_eq!(again.location.as_deref(), Some(location.as_str()));
    // Someone else can no longer start one from it.
    app.staff_account(
        "cs2@kinex.example",
        Role::Handler,
        Some("customer_services"),
    )
    .await;
    let mut colleague = Browser::signed_in_staff(&app, "cs2@kinex.example").await;
    let csrf2 = colleague.get("/staff/complaints/new").await.csrf_token();
    let mut theirs: Vec<(&str, &str)> = fields.clone();
    theirs[0] = ("csrf", csrf2.as_str());
    let refused = colleague.post_form("/staff/complaints", &theirs).await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    let (_, list) = app
        .get_json(Some(&token), "/api/v1/complaints?limit=50")
        .await;
    assert_eq!(list["items"].as_array().expect("items").len(), 1, "{list}");
    let item = &quarantined(&app, &token).await[0];
    assert_eq!(item["resolved"]["resolution"], "new_complaint");
    assert_eq!(item["resolved"]["reference"], reference.as_str());
    staff
        .get(&format!("/staff/complaints/new?quarantine={id}"))
        .await
        .expect(409);
    app.stop().await;
}

/// The value of the input called `name`.
fn value_of(body: &str, name: &str) -> String {
    let at = body
        .find(&format!("name=\"{name}\""))
        .expect("the input is there");
    let rest = &body[at..];
    let start = rest.find("value=\"").expect("a value") + 7;
    let end = rest[start..].find('"').expect("the value ends");
    rest[start..start + end].to_owned()
}

async fn the_print_queue_page_marks_printed_and_prints_again_on_the_record(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    people(&app).await;
    let token = app.handler_token(HANDLER).await;
    let reference = app
        .create_complaint(
            &token,
            json!({"channel": "letter",
                   "customer": {"account": "KX-7", "name": "Bob Example",
                                "address": ["2 Sample Road", "Leeds"], "postcode": "LS1 1AA"},
                   "summary": "Engineer did not come"}),
        )
        .await;
    let (status, _) = app
        .command(&token, &reference, "acknowledge", json!({}))
        .await;
    assert_eq!(status, 200);
    let (_, listed) = app
        .get_json(
            Some(&token),
            &format!("/api/v1/complaints/{reference}/letters"),
        )
        .await;
    let id = listed["letters"][0]["id"].as_i64().expect("an id");
    let mut staff = Browser::signed_in_staff(&app, HANDLER).await;
    // Not produced yet: not listed, and cannot be marked.
    let page = staff.get("/staff/print-queue").await;
    page.expect(200);
    assert!(
        page.body.contains("Waiting to be printed (0)"),
        "{}",
        page.body
    );
    let csrf = page.csrf_token();
    staff
        .post_form(
            &format!("/staff/print-queue/{id}/printed"),
            &[("csrf", &csrf)],
        )
        .await
        .expect(409);
    app.send_letters().await;
    let page = staff.get("/staff/print-queue").await;
    assert!(
        page.body.contains("Waiting to be printed (1)"),
        "{}",
        page.body
    );
    let pdf_link = format!("/staff/complaints/{reference}/letters/{id}.pdf");
    assert!(page.body.contains(&pdf_link), "{}", page.body);
    let pdf = staff.get(&pdf_link).await;
    pdf.expect(200);
    assert!(pdf.body.starts_with("%PDF"), "a PDF");

    // Compliance reads the queue and may not mark.
    let mut compliance = Browser::signed_in_staff(&app, COMPLIANCE).await;
    let read = compliance.get("/staff/print-queue").await;
    read.expect(200);
    assert!(!read.body.contains("/printed\""), "{}", read.body);
    compliance
        .post_form(
            &format!("/staff/print-queue/{id}/printed"),
            &[("csrf", &read.csrf_token())],
        )
        .await
        .expect(403);
    // Without its CSRF token, nothing changes.
    staff
        .post_form(&format!("/staff/print-queue/{id}/printed"), &[])
        .await
        .expect(403);
    let (_, queue) = app.get_json(Some(&token), "/api/v1/print-queue").await;
    assert_eq!(queue["letters"].as_array().expect("letters").len(), 1);

    // Marked printed: out of the queue, in "printed recently" with who did it.
    staff
        .post_form(
            &format!("/staff/print-queue/{id}/printed"),
            &[("csrf", &csrf)],
        )
        .await
        .expect(303);
    let (_, queue) = app.get_json(Some(&token), "/api/v1/print-queue").await;
    assert!(
        queue["letters"].as_array().expect("letters").is_empty(),
        "{queue}"
    );
    let page = staff.get("/staff/print-queue").await;
    assert!(
        page.body.contains("Waiting to be printed (0)"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains(&format!("by Staff {HANDLER}")),
        "{}",
        page.body
    );

    // Printed again needs a reason; with one, it is back in the queue, on the record.
    let refused = staff
        .post_form(
            &format!("/staff/print-queue/{id}/reprint"),
            &[("csrf", &csrf), ("reason", "")],
        )
        .await;
    refused.expect(422);
    assert!(refused.body.contains("error-summary"), "{}", refused.body);
    staff
        .post_form(
            &format!("/staff/print-queue/{id}/reprint"),
            &[("csrf", &csrf), ("reason", "Returned by Royal Mail")],
        )
        .await
        .expect(303);
    let (_, queue) = app.get_json(Some(&token), "/api/v1/print-queue").await;
    assert_eq!(
        queue["letters"].as_array().expect("letters").len(),
        1,
        "{queue}"
    );
    let page = staff.get("/staff/print-queue").await;
    assert!(
        page.body.contains("Waiting to be printed (1)"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains(&format!("Sent back to be printed again by Staff {HANDLER}"))
            && page.body.contains("Returned by Royal Mail"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains(&format!("Marked printed by Staff {HANDLER}"))
    );
    // Printing again what is still waiting changes nothing.
    staff
        .post_form(
            &format!("/staff/print-queue/{id}/reprint"),
            &[("csrf", &csrf), ("reason", "twice")],
        )
        .await
        .expect(409);
    let history = app.store.print_history(&[id]).await.expect("history");
    let actions: Vec<&str> = history.iter().map(|h| h.action.as_str()).collect();
    assert_eq!(actions, ["printed", "reprint"]);
    staff
        .post_form("/staff/print-queue/999999/printed", &[("csrf", &csrf)])
        .await
        .expect(404);
    app.stop().await;
}
