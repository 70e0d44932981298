//! Who sees what of a complaint through the JSON API (a complaint, the list, a command's
//! answer). One rule decides it (`redress_core::visibility`), which the staff pages
//! (tests/web_staff.rs) and the portal (tests/web_portal.rs) use too; these tests hold every
//! role to it, on SQLite and PostgreSQL.
#[macro_use]
mod support;

use redress_core::Role;
use serde_json::{Value, json};
use support::{Db, TestApp, complaint_body, spawn_app};

both_backends! {
    a_restricted_note_is_withheld_from_everyone_the_procedure_does_not_allow =>
        sqlite_a_restricted_note_is_withheld_from_everyone_the_procedure_does_not_allow,
        postgres_a_restricted_note_is_withheld_from_everyone_the_procedure_does_not_allow;
}

const SECRET: &str = "Conduct concern: spoke rudely to the customer on 2 March";

async fn post(app: &TestApp, token: &str, path: &str, body: &Value) -> (u16, Value) {
    let response = app
        .client
        .post(app.url(path))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn get(app: &TestApp, token: &str, path: &str) -> (u16, String) {
    let response = app
        .client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

/// A complaint with a restricted note about h1@example.com and an ordinary note; returns its
/// reference.
async fn complaint_with_notes(app: &TestApp) -> String {
    let cs = app
        .token(
            Role::Handler,
            Some("customer_services"),
            Some("h2@example.com"),
        )
        .await;
    let (status, created) = post(
        app,
        &cs,
        "/api/v1/complaints",
        &complaint_body("KX-1", "Ann Example"),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let reference = created["reference"].as_str().expect("reference").to_owned();
    let manager = app
        .token(
            Role::TeamManager,
            Some("customer_services"),
            Some("tm@example.com"),
        )
        .await;
    let (status, answer) = post(
        app,
        &manager,
        &format!("/api/v1/complaints/{reference}/commands/add_note"),
        &json!({"text": SECRET, "restricted": true, "about_staff": "h1@example.com"}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    // The manager who wrote it may read it back.
    assert!(answer.to_string().contains(SECRET), "{answer}");
    let (status, answer) = post(
        app,
        &cs,
        &format!("/api/v1/complaints/{reference}/commands/add_note"),
        &json!({"text": "Customer prefers calls after 5pm"}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    reference
}

async fn a_restricted_note_is_withheld_from_everyone_the_procedure_does_not_allow(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let reference = complaint_with_notes(&app).await;
    let path = format!("/api/v1/complaints/{reference}");

    // (role, department, staff, may read the note)
    let viewers: [(Role, Option<&str>, &str, bool); 8] = [
        // The staff member the note is about.
        (
            Role::Handler,
            Some("customer_services"),
            "h1@example.com",
            false,
        ),
        (
            Role::Handler,
            Some("customer_services"),
            "h2@example.com",
            false,
        ),
        (
            Role::Handler,
            Some("escalation_team"),
            "h3@example.com",
            false,
        ),
        (
            Role::TeamManager,
            Some("escalation_team"),
            "tm2@example.com",
            true,
        ),
        (
            Role::CustomerResolutionManager,
            Some("customer_resolution_manager"),
            "crm@example.com",
            true,
        ),
        (Role::Compliance, None, "compliance@example.com", true),
        // A manager who is the note's subject never reads it, whatever the role allows.
        (
            Role::TeamManager,
            Some("customer_services"),
            "H1@example.com",
            false,
        ),
        (
            Role::TeamManager,
            Some("customer_services"),
            "tm@example.com",
            true,
        ),
    ];
    for (role, department, staff, may_read) in viewers {
        let token = app.token(role, department, Some(staff)).await;
        let (status, body) = get(&app, &token, &path).await;
        assert_eq!(status, 200, "{role:?} {staff}: {body}");
        let complaint: Value = serde_json::from_str(&body).expect("json");
        let notes: Vec<&Value> = complaint["events"]
            .as_array()
            .expect("events")
            .iter()
            .filter(|e| e["event"] == "note_added")
            .collect();
        assert_eq!(notes.len(), 2, "both notes are listed for {role:?} {staff}");
        let restricted = notes[0];
        assert_eq!(restricted["restricted"], true);
        if may_read {
            assert_eq!(restricted["text"], SECRET, "{role:?} {staff}");
            assert_eq!(restricted["about_staff"], "h1@example.com");
            assert!(restricted.get("withheld").is_none());
        } else {
            assert!(
                !body.contains(SECRET) && !body.contains("Conduct concern"),
                "{role:?} {staff} was shown the note: {body}"
            );
            assert_eq!(restricted["withheld"], true, "{role:?} {staff}");
            assert!(restricted.get("text").is_none());
            assert!(restricted.get("about_staff").is_none());
            // When and by whom stay on the record.
            assert!(restricted["at"].is_string() && restricted["by"]["role"] == "team_manager");
        }
        // The ordinary note is for every member of staff.
        assert_eq!(notes[1]["text"], "Customer prefers calls after 5pm");
    }

    // The list never carries notes; customers and administrators cannot read through the API.
    let handler = app
        .token(
            Role::Handler,
            Some("customer_services"),
            Some("h1@example.com"),
        )
        .await;
    let (status, list) = get(&app, &handler, "/api/v1/complaints").await;
    assert_eq!(status, 200);
    assert!(!list.contains(SECRET));
    for role in [Role::Customer, Role::Administrator] {
        let token = app.token(role, None, None).await;
        let (status, body) = get(&app, &token, &path).await;
        assert_eq!(status, 403, "{role:?}");
        assert!(!body.contains(SECRET));
    }

    // The answer to a command run by someone the note is withheld from does not carry it
    // either, even when the command makes deadlines fire alongside.
    let (status, answer) = post(
        &app,
        &handler,
        &format!("/api/v1/complaints/{reference}/commands/record_call"),
        &json!({"summary": "Called the customer back"}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert!(!answer.to_string().contains(SECRET));
    app.stop().await;
}
