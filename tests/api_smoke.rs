//! A first black-box check that the real server answers on both backends.
mod support;

use redress_core::Role;
use support::{Db, complaint_body, spawn_app};

async fn creates_and_reads_a_complaint(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let token = app
        .token(Role::Handler, Some("customer_services"), Some("alice"))
        .await;
    let created = app
        .client
        .post(app.url("/api/v1/complaints"))
        .bearer_auth(&token)
        .json(&complaint_body("KX-1", "Ann Example"))
        .send()
        .await
        .expect("request");
    assert_eq!(created.status(), 201);
    let location = created.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let body: serde_json::Value = created.json().await.expect("json");
    assert_eq!(body["stage"], 1);
    assert_eq!(
        location,
        format!(
            "/api/v1/complaints/{}",
            body["reference"].as_str().expect("reference")
        )
    );
    let read: serde_json::Value = app
        .client
        .get(app.url(&location))
        .bearer_auth(&token)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(read["events"][0]["event"], "received");
    app.stop().await;
}

#[tokio::test]
async fn sqlite_creates_and_reads_a_complaint() {
    creates_and_reads_a_complaint(Db::Sqlite).await;
}

#[tokio::test]
async fn postgres_creates_and_reads_a_complaint() {
    creates_and_reads_a_complaint(Db::Postgres).await;
}
