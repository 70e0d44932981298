//! Black-box tests of the JSON API (`redress serve`), each run on SQLite and on PostgreSQL.
//!
//! Every scenario is an `async fn name(db: Db)`; `both_backends!` makes the two `#[tokio::test]`
//! wrappers `sqlite_name` and `postgres_name`. Without a reachable PostgreSQL the PostgreSQL
//! wrapper prints "skipped" and returns (under CI it fails instead).
#[macro_use]
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use redress::app::{Application, Config};
use redress::clock::{Clock, ManualClock};
use redress::store::Store;
use redress_core::{Procedure, Role};
use reqwest::RequestBuilder;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use support::{Db, START, TestApp, complaint_body, spawn_app, ts};

both_backends! {
    the_api_says_what_is_owed_as_every_page_does =>
        sqlite_the_api_says_what_is_owed_as_every_page_does,
        postgres_the_api_says_what_is_owed_as_every_page_does;
    customer_can_escalate_after_rejecting_the_offer =>
        sqlite_customer_can_escalate_after_rejecting_the_offer,
        postgres_customer_can_escalate_after_rejecting_the_offer;
    a_complaint_climbs_the_whole_ladder_through_the_api =>
        sqlite_a_complaint_climbs_the_whole_ladder_through_the_api,
        postgres_a_complaint_climbs_the_whole_ladder_through_the_api;
    a_letter_entered_late_gets_the_adr_notice_at_once =>
        sqlite_a_letter_entered_late_gets_the_adr_notice_at_once,
        postgres_a_letter_entered_late_gets_the_adr_notice_at_once;
    response_overdue_fires_when_the_scheduler_runs_after_the_due_instant =>
        sqlite_response_overdue_fires_when_the_scheduler_runs_after_the_due_instant,
        postgres_response_overdue_fires_when_the_scheduler_runs_after_the_due_instant;
    each_deadline_fires_once_even_when_the_scheduler_runs_twice =>
        sqlite_each_deadline_fires_once_even_when_the_scheduler_runs_twice,
        postgres_each_deadline_fires_once_even_when_the_scheduler_runs_twice;
    each_deadline_fires_once_when_two_nodes_run_the_scheduler_together =>
        sqlite_each_deadline_fires_once_when_two_nodes_run_the_scheduler_together,
        postgres_each_deadline_fires_once_when_two_nodes_run_the_scheduler_together;
    on_start_the_scheduler_fires_everything_already_overdue =>
        sqlite_on_start_the_scheduler_fires_everything_already_overdue,
        postgres_on_start_the_scheduler_fires_everything_already_overdue;
    a_refused_command_is_a_409_problem_with_the_core_sentence =>
        sqlite_a_refused_command_is_a_409_problem_with_the_core_sentence,
        postgres_a_refused_command_is_a_409_problem_with_the_core_sentence;
    a_permission_refusal_is_a_403_problem =>
        sqlite_a_permission_refusal_is_a_403_problem,
        postgres_a_permission_refusal_is_a_403_problem;
    received_at_in_the_future_is_refused_and_nothing_is_stored =>
        sqlite_received_at_in_the_future_is_refused_and_nothing_is_stored,
        postgres_received_at_in_the_future_is_refused_and_nothing_is_stored;
    a_body_over_the_limit_is_refused_with_413_problem =>
        sqlite_a_body_over_the_limit_is_refused_with_413_problem,
        postgres_a_body_over_the_limit_is_refused_with_413_problem;
    invalid_utf8_is_a_400_problem =>
        sqlite_invalid_utf8_is_a_400_problem,
        postgres_invalid_utf8_is_a_400_problem;
    a_body_that_is_not_a_json_object_is_a_4xx_problem =>
        sqlite_a_body_that_is_not_a_json_object_is_a_4xx_problem,
        postgres_a_body_that_is_not_a_json_object_is_a_4xx_problem;
    unknown_fields_are_refused_and_nothing_is_stored =>
        sqlite_unknown_fields_are_refused_and_nothing_is_stored,
        postgres_unknown_fields_are_refused_and_nothing_is_stored;
    a_missing_or_invalid_field_is_refused_and_nothing_is_stored =>
        sqlite_a_missing_or_invalid_field_is_refused_and_nothing_is_stored,
        postgres_a_missing_or_invalid_field_is_refused_and_nothing_is_stored;
    a_bad_reference_is_a_400_problem =>
        sqlite_a_bad_reference_is_a_400_problem,
        postgres_a_bad_reference_is_a_400_problem;
    an_unknown_complaint_is_a_404_problem =>
        sqlite_an_unknown_complaint_is_a_404_problem,
        postgres_an_unknown_complaint_is_a_404_problem;
    an_unknown_command_is_a_404_problem =>
        sqlite_an_unknown_command_is_a_404_problem,
        postgres_an_unknown_command_is_a_404_problem;
    unknown_paths_and_methods_are_problems =>
        sqlite_unknown_paths_and_methods_are_problems,
        postgres_unknown_paths_and_methods_are_problems;
    the_same_idempotency_key_creates_one_complaint_and_returns_the_first_answer =>
        sqlite_the_same_idempotency_key_creates_one_complaint_and_returns_the_first_answer,
        postgres_the_same_idempotency_key_creates_one_complaint_and_returns_the_first_answer;
    the_same_idempotency_key_runs_a_command_once_and_returns_the_first_answer =>
        sqlite_the_same_idempotency_key_runs_a_command_once_and_returns_the_first_answer,
        postgres_the_same_idempotency_key_runs_a_command_once_and_returns_the_first_answer;
    an_idempotent_retry_gets_the_first_answer_byte_for_byte =>
        sqlite_an_idempotent_retry_gets_the_first_answer_byte_for_byte,
        postgres_an_idempotent_retry_gets_the_first_answer_byte_for_byte;
    an_idempotency_key_sent_twice_at_once_creates_one_complaint =>
        sqlite_an_idempotency_key_sent_twice_at_once_creates_one_complaint,
        postgres_an_idempotency_key_sent_twice_at_once_creates_one_complaint;
    an_idempotency_key_reused_with_a_different_body_is_refused =>
        sqlite_an_idempotency_key_reused_with_a_different_body_is_refused,
        postgres_an_idempotency_key_reused_with_a_different_body_is_refused;
    the_list_is_soonest_deadline_first_and_pages_with_next_cursor =>
        sqlite_the_list_is_soonest_deadline_first_and_pages_with_next_cursor,
        postgres_the_list_is_soonest_deadline_first_and_pages_with_next_cursor;
    the_list_filters_by_stage_status_department_overdue_and_search =>
        sqlite_the_list_filters_by_stage_status_department_overdue_and_search,
        postgres_the_list_filters_by_stage_status_department_overdue_and_search;
    invalid_list_parameters_are_a_400_problem =>
        sqlite_invalid_list_parameters_are_a_400_problem,
        postgres_invalid_list_parameters_are_a_400_problem;
    openapi_is_3_1_and_lists_the_paths =>
        sqlite_openapi_is_3_1_and_lists_the_paths,
        postgres_openapi_is_3_1_and_lists_the_paths;
    swagger_ui_is_served =>
        sqlite_swagger_ui_is_served,
        postgres_swagger_ui_is_served;
    health_ready_and_metrics_answer =>
        sqlite_health_ready_and_metrics_answer,
        postgres_health_ready_and_metrics_answer;
    a_revoked_token_stops_working_at_once =>
        sqlite_a_revoked_token_stops_working_at_once,
        postgres_a_revoked_token_stops_working_at_once;
    the_event_chain_verifies_after_a_busy_session =>
        sqlite_the_event_chain_verifies_after_a_busy_session,
        postgres_the_event_chain_verifies_after_a_busy_session;
}

// ---------------------------------------------------------------------------------------------
// Talking to the server
// ---------------------------------------------------------------------------------------------

/// A response, read whole.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: HeaderMap,
    text: String,
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn content_type(&self) -> &str {
        self.header("content-type").unwrap_or("")
    }
}

async fn send(request: RequestBuilder) -> Answer {
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("the server answers: {e:?}"));
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("a body");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        text,
        body,
    }
}

/// Checks an RFC 9457 problem: the status, `application/problem+json`, and a snake_case `code`
/// (equal to `code` when given). Returns the `detail`.
#[track_caller]
fn assert_problem(answer: &Answer, status: u16, code: Option<&str>) -> String {
    assert_eq!(
        answer.status, status,
        "expected {status}, got {}: {}",
        answer.status, answer.text
    );
    assert!(
        answer
            .content_type()
            .starts_with("application/problem+json"),
        "a {status} must be application/problem+json, was '{}': {}",
        answer.content_type(),
        answer.text
    );
    let actual = answer.body["code"]
        .as_str()
        .unwrap_or_else(|| panic!("a problem needs a `code`: {}", answer.text));
    assert!(
        !actual.is_empty()
            && actual
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
        "the code '{actual}' is not snake_case"
    );
    if let Some(code) = code {
        assert_eq!(actual, code, "problem: {}", answer.text);
    }
    assert_eq!(answer.body["status"], status, "problem: {}", answer.text);
    for field in ["type", "title", "detail"] {
        assert!(
            answer.body[field].is_string(),
            "a problem needs `{field}`: {}",
            answer.text
        );
    }
    answer.body["detail"].as_str().unwrap_or("").to_owned()
}

#[track_caller]
fn assert_status(answer: &Answer, status: u16) {
    assert_eq!(
        answer.status, status,
        "expected {status}, got {}: {}",
        answer.status, answer.text
    );
}

async fn create(app: &TestApp, token: &str, body: &Value) -> Answer {
    send(
        app.client
            .post(app.url("/api/v1/complaints"))
            .bearer_auth(token)
            .json(body),
    )
    .await
}

/// Creates a complaint and returns its reference.
async fn create_ok(app: &TestApp, token: &str, body: &Value) -> String {
    let answer = create(app, token, body).await;
    assert_status(&answer, 201);
    answer.body["reference"]
        .as_str()
        .expect("a reference")
        .to_owned()
}

async fn get(app: &TestApp, token: &str, reference: &str) -> Answer {
    send(
        app.client
            .get(app.url(&format!("/api/v1/complaints/{reference}")))
            .bearer_auth(token),
    )
    .await
}

async fn get_ok(app: &TestApp, token: &str, reference: &str) -> Value {
    let answer = get(app, token, reference).await;
    assert_status(&answer, 200);
    answer.body
}

async fn command(app: &TestApp, token: &str, reference: &str, name: &str, body: &Value) -> Answer {
    send(
        app.client
            .post(app.url(&format!("/api/v1/complaints/{reference}/commands/{name}")))
            .bearer_auth(token)
            .json(body),
    )
    .await
}

/// Runs a command that must succeed; returns the names of the events it produced.
async fn command_ok(
    app: &TestApp,
    token: &str,
    reference: &str,
    name: &str,
    body: &Value,
) -> Vec<String> {
    let answer = command(app, token, reference, name, body).await;
    assert_eq!(answer.status, 200, "{name} on {reference}: {}", answer.text);
    assert_eq!(answer.body["reference"], reference);
    event_names(&answer.body["events"])
}

async fn list(app: &TestApp, token: &str, query: &str) -> Answer {
    send(
        app.client
            .get(app.url(&format!("/api/v1/complaints{query}")))
            .bearer_auth(token),
    )
    .await
}

/// The references of a list page, in order.
fn references(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["reference"].as_str().expect("reference").to_owned())
        .collect()
}

/// Every complaint the list holds, all pages followed.
async fn list_all(app: &TestApp, token: &str, query: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let sep = if query.is_empty() { "?" } else { "&" };
        let q = match &cursor {
            Some(c) => format!("{query}{sep}cursor={c}&limit=200"),
            None => format!("{query}{sep}limit=200"),
        };
        let page = list(app, token, &q).await;
        assert_status(&page, 200);
        out.extend(references(&page.body));
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return out,
        }
    }
    panic!("the list never ended");
}

fn event_names(events: &Value) -> Vec<String> {
    events
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["event"].as_str().expect("event name").to_owned())
        .collect()
}

fn events_named<'a>(complaint: &'a Value, name: &str) -> Vec<&'a Value> {
    complaint["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["event"] == name)
        .collect()
}

fn deadline<'a>(complaint: &'a Value, kind: &str) -> &'a Value {
    complaint["deadlines"]
        .as_array()
        .expect("deadlines")
        .iter()
        .find(|d| d["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} deadline in {}", complaint["deadlines"]))
}

fn instant(value: &Value) -> Timestamp {
    value
        .as_str()
        .unwrap_or_else(|| panic!("{value} is not an instant"))
        .parse()
        .unwrap_or_else(|e| panic!("{value} is not an instant: {e}"))
}

/// The departments of the default procedure.
const CS: &str = "customer_services";
const ESC: &str = "escalation_team";
const CR: &str = "customer_resolution";
const CRM: &str = "customer_resolution_manager";

/// Tokens for a handler of each department and a compliance reader.
struct Staff {
    cs: String,
    esc: String,
    cr: String,
    crm: String,
    compliance: String,
}

async fn staff(app: &TestApp) -> Staff {
    Staff {
        cs: app.token(Role::Handler, Some(CS), Some("cs.alice")).await,
        esc: app.token(Role::Handler, Some(ESC), Some("esc.bob")).await,
        cr: app.token(Role::Handler, Some(CR), Some("cr.carol")).await,
        crm: app.token(Role::Handler, Some(CRM), Some("crm.dave")).await,
        compliance: app.token(Role::Compliance, None, Some("comp.erin")).await,
    }
}

fn customer(account: &str, name: &str, received_at: Option<&str>) -> Value {
    let mut body = complaint_body(account, name);
    if let Some(at) = received_at {
        body["received_at"] = json!(at);
    }
    body
}

/// How many complaints the store holds (through the API, every page).
async fn count_complaints(app: &TestApp, token: &str) -> usize {
    list_all(app, token, "").await.len()
}

// ---------------------------------------------------------------------------------------------
// The ladder
// ---------------------------------------------------------------------------------------------

async fn customer_can_escalate_after_rejecting_the_offer(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let s = staff(&app).await;
    let reference = create_ok(&app, &s.cs, &customer("KX-1", "Ann Example", None)).await;
    let offered = command(
        &app,
        &s.cs,
        &reference,
        "offer_resolution",
        &json!({"text": "A credit of £10 and an engineer visit"}),
    )
    .await;
    assert_status(&offered, 200);
    assert_eq!(offered.body["status"], "resolution_offered");
    assert_eq!(event_names(&offered.body["events"]), ["resolution_offered"]);
    assert_eq!(offered.body["events"][0]["offered_at_stage"], 1);

    let rejected = command_ok(
        &app,
        &s.cs,
        &reference,
        "reject_resolution",
        &json!({"reason": "The credit does not cover three weeks without broadband"}),
    )
    .await;
    assert_eq!(rejected, ["resolution_rejected"]);

    let escalated = command(
        &app,
        &s.cs,
        &reference,
        "request_escalation",
        &json!({"channel": "telephone"}),
    )
    .await;
    assert_status(&escalated, 200);
    assert_eq!(event_names(&escalated.body["events"]), ["escalated"]);
    assert_eq!(escalated.body["stage"], 2);
    assert_eq!(escalated.body["status"], "open");
    assert_eq!(escalated.body["events"][0]["from_stage"], 1);
    assert_eq!(escalated.body["events"][0]["to_stage"], 2);

    let read = get_ok(&app, &s.esc, &reference).await;
    assert_eq!(read["stage"], 2);
    assert_eq!(read["department"], ESC);
    assert_eq!(
        event_names(&read["events"]),
        [
            "received",
            "resolution_offered",
            "resolution_rejected",
            "escalated"
        ]
    );
    let sequences: Vec<i64> = read["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["sequence"].as_i64().expect("sequence"))
        .collect();
    assert_eq!(sequences, [1, 2, 3, 4]);
    app.stop().await;
}

/// Takes one complaint up every rung, with a token of the owning department at each step.
/// Returns its reference. The clock moves as the weeks go by.
async fn climb_the_ladder(app: &TestApp, s: &Staff) -> String {
    let step = |at: &str| app.clock.set(ts(at));
    step(START);
    let created = create(
        app,
        &s.cs,
        &json!({
            "channel": "telephone",
            "customer": {
                "account": "KX-204518",
                "name": "Margaret Holt",
                "email": "m.holt@example.org",
                "telephone": "0161 555 0101",
                "address": ["12 Acacia Avenue", "Stockport"],
                "postcode": "sk4 1aa",
                "preferred_channel": "email",
                "accessibility_needs": ["large print letters"]
            },
            "summary": "Broadband has dropped every evening since the router swap.",
            "category": "faults_service_provision"
        }),
    )
    .await;
    assert_status(&created, 201);
    assert_eq!(created.body["stage"], 1);
    assert_eq!(created.body["status"], "open");
    let reference = created.body["reference"].as_str().expect("ref").to_owned();
    assert_eq!(
        created.header("location"),
        Some(format!("/api/v1/complaints/{reference}").as_str())
    );

    let expect = |events: Vec<String>, want: &[&str]| assert_eq!(events, want);
    expect(
        command_ok(
            app,
            &s.cs,
            &reference,
            "acknowledge",
            &json!({"channel": "email"}),
        )
        .await,
        &["acknowledged"],
    );
    step("2026-03-03T10:00:00Z");
    expect(
        command_ok(
            app,
            &s.cs,
            &reference,
            "offer_resolution",
            &json!({"text": "A £10 credit and a new router"}),
        )
        .await,
        &["resolution_offered"],
    );
    step("2026-03-05T11:00:00Z");
    // The customer phones the Escalation Team directly; asking to escalate rejects the offer.
    expect(
        command_ok(
            app,
            &s.esc,
            &reference,
            "request_escalation",
            &json!({"channel": "telephone", "reason": "Still dropping"}),
        )
        .await,
        &["resolution_rejected", "escalated"],
    );
    step("2026-03-10T10:00:00Z");
    let transferred = command(
        app,
        &s.esc,
        &reference,
        "transfer_to_resolution",
        &json!({"reason": "Needs a line test by the wholesaler"}),
    )
    .await;
    assert_status(&transferred, 200);
    assert_eq!(transferred.body["stage"], 3);
    assert_eq!(transferred.body["events"][0]["event"], "transferred");
    // 28 days from 10 March: due by the end of 7 April (London).
    assert_eq!(
        transferred.body["events"][0]["response_due_by"],
        "2026-04-07"
    );

    step("2026-03-11T09:30:00Z");
    expect(
        command_ok(
            app,
            &s.cr,
            &reference,
            "request_evidence",
            &json!({"from": "customer", "due_days": 14, "description": "Router logs"}),
        )
        .await,
        &["evidence_requested"],
    );
    expect(
        command_ok(
            app,
            &s.cr,
            &reference,
            "record_course_of_events",
            &json!({"text": "Router swapped 1 Feb; drops began 2 Feb."}),
        )
        .await,
        &["course_of_events_recorded"],
    );
    step("2026-03-16T14:00:00Z");
    expect(
        command_ok(
            app,
            &s.cr,
            &reference,
            "receive_evidence",
            &json!({"request": 1, "description": "Logs by email", "channel": "email"}),
        )
        .await,
        &["evidence_received"],
    );
    step("2026-03-20T10:00:00Z");
    expect(
        command_ok(
            app,
            &s.cr,
            &reference,
            "establish_fault",
            &json!({"description": "Faulty router firmware"}),
        )
        .await,
        &["fault_established"],
    );
    let offered = command(
        app,
        &s.cr,
        &reference,
        "offer_compensation",
        &json!({"amount_pence": 5000, "reason": "Five weeks of drops"}),
    )
    .await;
    assert_status(&offered, 200);
    assert_eq!(offered.body["events"][0]["event"], "compensation_offered");
    assert_eq!(offered.body["events"][0]["approved"], true);
    expect(
        command_ok(app, &s.cr, &reference, "accept_compensation", &json!({})).await,
        &["compensation_accepted"],
    );
    step("2026-04-01T09:00:00Z");
    expect(
        command_ok(
            app,
            &s.cr,
            &reference,
            "issue_formal_response",
            &json!({"text": "Our findings"}),
        )
        .await,
        &["formal_response_issued"],
    );
    step("2026-04-10T09:00:00Z");
    // The customer writes to the Customer Resolution Manager.
    let review = command(
        app,
        &s.crm,
        &reference,
        "request_manager_review",
        &json!({"text": "I am unhappy with the outcome"}),
    )
    .await;
    assert_status(&review, 200);
    assert_eq!(review.body["stage"], 4);
    step("2026-04-20T09:00:00Z");
    let deadlock = command(
        app,
        &s.crm,
        &reference,
        "issue_deadlock_letter",
        &json!({"text": "Our final position"}),
    )
    .await;
    assert_status(&deadlock, 200);
    assert_eq!(
        event_names(&deadlock.body["events"]),
        ["deadlock_issued", "adr_eligible"]
    );
    assert_eq!(deadlock.body["status"], "deadlocked");
    step("2026-04-25T09:00:00Z");
    let referred = command(
        app,
        &s.crm,
        &reference,
        "refer_to_ombudsman",
        &json!({"ombudsman_reference": "OS-778812"}),
    )
    .await;
    assert_status(&referred, 200);
    assert_eq!(referred.body["stage"], 5);
    assert_eq!(referred.body["status"], "referred_to_adr");
    step("2026-06-01T09:00:00Z");
    let decided = command(
        app,
        &s.cr,
        &reference,
        "record_ombudsman_decision",
        &json!({
            "outcome": "upheld",
            "customer_accepted": true,
            "remedy": "Pay £50 and apologise",
            "award_pence": 5000
        }),
    )
    .await;
    assert_status(&decided, 200);
    assert_eq!(decided.body["events"][0]["event"], "ombudsman_decided");
    // The remedy is due within 28 days of 1 June.
    assert_eq!(decided.body["events"][0]["remedy_due_by"], "2026-06-29");
    step("2026-06-10T09:00:00Z");
    expect(
        command_ok(
            app,
            &s.cr,
            &reference,
            "complete_remedy",
            &json!({"text": "Paid and apologised"}),
        )
        .await,
        &["remedy_completed"],
    );
    step("2026-06-11T09:00:00Z");
    let closed = command(
        app,
        &s.cr,
        &reference,
        "close",
        &json!({"reason": "Remedy done"}),
    )
    .await;
    assert_status(&closed, 200);
    assert_eq!(closed.body["status"], "closed");
    assert_eq!(closed.body["stage"], 5);
    reference
}

async fn a_complaint_climbs_the_whole_ladder_through_the_api(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let s = staff(&app).await;
    let reference = climb_the_ladder(&app, &s).await;
    let read = get_ok(&app, &s.compliance, &reference).await;
    assert_eq!(read["stage"], 5);
    assert_eq!(read["status"], "closed");
    assert_eq!(
        event_names(&read["events"]),
        [
            "received",
            "acknowledged",
            "resolution_offered",
            "resolution_rejected",
            "escalated",
            "transferred",
            "evidence_requested",
            "course_of_events_recorded",
            "evidence_received",
            "fault_established",
            "compensation_offered",
            "compensation_accepted",
            "formal_response_issued",
            "manager_review_requested",
            "deadlock_issued",
            "adr_eligible",
            "referred_to_ombudsman",
            "ombudsman_decided",
            "remedy_completed",
            "closed",
        ]
    );
    // Nothing is left running on a closed complaint, and nothing fired.
    for d in read["deadlines"].as_array().expect("deadlines") {
        assert!(d["fired_at"].is_null(), "nothing should have fired: {d}");
    }
    assert_eq!(app.fire_deadlines().await, 0);
    // Each actor is recorded on their events.
    let transferred = events_named(&read, "transferred")[0];
    assert_eq!(transferred["by"]["department"], ESC);
    assert_eq!(transferred["by"]["role"], "handler");
    let deadlock = events_named(&read, "deadlock_issued")[0];
    assert_eq!(deadlock["by"]["department"], CRM);
    assert_eq!(deadlock["at"], "2026-04-20T09:00:00Z");
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Clocks and the scheduler
// ---------------------------------------------------------------------------------------------

async fn a_letter_entered_late_gets_the_adr_notice_at_once(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let s = staff(&app).await;
    // Received 15 December 2025; 8 weeks passed at 00:00 London on 9 February 2026 (GMT).
    let mut body = customer("KX-77", "Dorothy Evans", Some("2025-12-15T10:00:00Z"));
    body["channel"] = json!("letter");
    let created = create(&app, &s.cs, &body).await;
    assert_status(&created, 201);
    assert_eq!(
        event_names(&created.body["events"]),
        ["received", "adr_eligible", "adr_notice_sent"]
    );
    let reference = created.body["reference"].as_str().expect("ref").to_owned();
    // The reference is for the year it was first received.
    assert!(reference.starts_with("CMP-2025-"), "{reference}");

    let read = get_ok(&app, &s.cs, &reference).await;
    // The answer to the creation is the complaint as stored.
    assert_eq!(created.body, read);
    let eligible = events_named(&read, "adr_eligible")[0];
    assert_eq!(eligible["because"], "period_passed");
    assert_eq!(eligible["due_at"], "2026-02-09T00:00:00Z");
    assert_eq!(eligible["at"], START);
    let notice = events_named(&read, "adr_notice_sent")[0];
    assert_eq!(notice["due_at"], "2026-02-09T00:00:00Z");
    assert_eq!(notice["at"], START);
    assert_eq!(notice["referral_window_ends"], "2027-03-02");
    assert_eq!(read["first_received_at"], "2025-12-15T10:00:00Z");
    let adr = deadline(&read, "adr");
    assert_eq!(adr["due_at"], "2026-02-09T00:00:00Z");
    assert_eq!(adr["fired_at"], START);
    // The customer can go to the ombudsman at once.
    let referred = command(&app, &s.cs, &reference, "refer_to_ombudsman", &json!({})).await;
    assert_status(&referred, 200);
    assert_eq!(referred.body["stage"], 5);

    // The scheduler has nothing left to do for it, and a recent letter gets no notice.
    assert_eq!(app.fire_deadlines().await, 0);
    let recent = create(
        &app,
        &s.cs,
        &customer("KX-78", "Alan Whitfield", Some("2026-02-20T08:30:00Z")),
    )
    .await;
    assert_status(&recent, 201);
    assert_eq!(event_names(&recent.body["events"]), ["received"]);
    let recent_ref = recent.body["reference"].as_str().expect("ref");
    let recent_read = get_ok(&app, &s.cs, recent_ref).await;
    let adr = deadline(&recent_read, "adr");
    // 20 February + 56 days = 17 April, 00:00 London (BST) = 16 April 23:00 UTC.
    assert_eq!(adr["due_at"], "2026-04-16T23:00:00Z");
    assert!(adr["fired_at"].is_null());
    app.stop().await;
}

/// A complaint transferred to the Customer Resolution department at START (2 March); its
/// formal response is due by the end of 30 March and `response_overdue` fires at 00:00 London
/// on 31 March, which is 23:00 UTC on 30 March (summer time began on 29 March).
async fn transferred_complaint(app: &TestApp, s: &Staff, account: &str) -> String {
    let reference = create_ok(app, &s.cs, &customer(account, "Priya Shah", None)).await;
    command_ok(
        app,
        &s.cs,
        &reference,
        "offer_resolution",
        &json!({"text": "An apology"}),
    )
    .await;
    command_ok(app, &s.cs, &reference, "request_escalation", &json!({})).await;
    command_ok(
        app,
        &s.esc,
        &reference,
        "transfer_to_resolution",
        &json!({}),
    )
    .await;
    reference
}

const RESPONSE_DUE_AT: &str = "2026-03-30T23:00:00Z";

async fn response_overdue_fires_when_the_scheduler_runs_after_the_due_instant(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let s = staff(&app).await;
    let reference = transferred_complaint(&app, &s, "KX-300").await;
    let read = get_ok(&app, &s.cr, &reference).await;
    let row = deadline(&read, "formal_response");
    assert_eq!(row["due_at"], RESPONSE_DUE_AT);
    assert_eq!(row["due_by"], "2026-03-30");
    assert!(row["fired_at"].is_null());

    // A second before: nothing.
    app.clock.set(ts("2026-03-30T22:59:59Z"));
    assert_eq!(app.fire_deadlines().await, 0);
    let read = get_ok(&app, &s.cr, &reference).await;
    assert!(events_named(&read, "response_overdue").is_empty());

    // The scheduler runs some hours after the due instant.
    let fired_at = "2026-03-31T08:15:00Z";
    app.clock.set(ts(fired_at));
    assert_eq!(app.fire_deadlines().await, 1);
    let read = get_ok(&app, &s.cr, &reference).await;
    let overdue = events_named(&read, "response_overdue");
    assert_eq!(overdue.len(), 1, "{}", read["events"]);
    assert_eq!(overdue[0]["due_at"], RESPONSE_DUE_AT);
    assert_eq!(overdue[0]["at"], fired_at);
    assert!(instant(&overdue[0]["at"]) > instant(&overdue[0]["due_at"]));
    assert_eq!(overdue[0]["by"]["role"], "system");
    let row = deadline(&read, "formal_response");
    assert_eq!(row["due_at"], RESPONSE_DUE_AT);
    assert_eq!(row["fired_at"], fired_at);
    // The list shows it overdue.
    let page = list(&app, &s.cr, "?overdue=true").await;
    assert_status(&page, 200);
    assert_eq!(references(&page.body), [reference.as_str()]);
    assert_eq!(page.body["items"][0]["overdue"], true);
    app.stop().await;
}

async fn each_deadline_fires_once_even_when_the_scheduler_runs_twice(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let s = staff(&app).await;
    let reference = transferred_complaint(&app, &s, "KX-301").await;
    app.clock.set(ts("2026-03-31T08:00:00Z"));
    assert_eq!(app.fire_deadlines().await, 1);
    assert_eq!(app.fire_deadlines().await, 0);
    // Past the 8-week point (00:00 London on 27 April) as well.
    app.clock.set(ts("2026-05-01T08:00:00Z"));
    assert_eq!(app.fire_deadlines().await, 1);
    assert_eq!(app.fire_deadlines().await, 0);
    app.clock.set(ts("2026-06-01T08:00:00Z"));
    assert_eq!(app.fire_deadlines().await, 0);
    // A command after that fires nothing again either.
    let noted = command_ok(
        &app,
        &s.cr,
        &reference,
        "add_note",
        &json!({"text": "Chased the wholesaler"}),
    )
    .await;
    assert_eq!(noted, ["note_added"]);

    let read = get_ok(&app, &s.cr, &reference).await;
    for name in ["response_overdue", "adr_eligible", "adr_notice_sent"] {
        assert_eq!(
            events_named(&read, name).len(),
            1,
            "{name} once: {}",
            read["events"]
        );
    }
    let adr = events_named(&read, "adr_notice_sent")[0];
    assert_eq!(adr["due_at"], "2026-04-26T23:00:00Z");
    assert_eq!(adr["at"], "2026-05-01T08:00:00Z");
    for d in read["deadlines"].as_array().expect("deadlines") {
        assert!(!d["fired_at"].is_null(), "every clock here has fired: {d}");
    }
    app.stop().await;
}

/// A second node on the same database, started with its own clock.
async fn second_node(
    app: &TestApp,
    clock: &ManualClock,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<anyhow::Result<()>>,
    Store,
) {
    let mut config = Config::new(
        &app.database,
        "127.0.0.1:0",
        Arc::new(Procedure::default_procedure()),
        Arc::new(clock.clone()) as Arc<dyn Clock>,
    );
    config.scheduler_interval = Duration::from_secs(3600);
    let node = Application::build(config).await.expect("a second node");
    let store = node.store().clone();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let handle = tokio::spawn(node.run_until(async move {
        let _ = rx.await;
    }));
    (tx, handle, store)
}

async fn each_deadline_fires_once_when_two_nodes_run_the_scheduler_together(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let s = staff(&app).await;
    let mut refs = Vec::new();
    for i in 0..12 {
        let reference = create_ok(
            &app,
            &s.cs,
            &customer(&format!("KX-4{i:02}"), "Sam Lee", None),
        )
        .await;
        command_ok(
            &app,
            &s.cs,
            &reference,
            "request_evidence",
            &json!({"from": "customer", "due_days": 3}),
        )
        .await;
        refs.push(reference);
    }
    // Past the evidence (5 March) and 8-week (27 April) points.
    let later = ts("2026-05-04T09:00:00Z");
    app.clock.set(later);
    let clock = ManualClock::new(later);
    let other = Store::connect(&app.database, Arc::new(Procedure::default_procedure()))
        .await
        .expect("a second store");
    let (a, b) = tokio::join!(
        redress::jobs::scheduler::fire_all_due(&app.store, &app.clock),
        redress::jobs::scheduler::fire_all_due(&other, &clock),
    );
    assert_eq!(a + b, refs.len(), "each complaint is fired by one node");
    assert_eq!(app.fire_deadlines().await, 0);
    for reference in &refs {
        let read = get_ok(&app, &s.cs, reference).await;
        for name in ["evidence_overdue", "adr_eligible", "adr_notice_sent"] {
            assert_eq!(
                events_named(&read, name).len(),
                1,
                "{reference}: {name} once: {}",
                read["events"]
            );
        }
    }
    let report = app.store.verify_audit().await.expect("audit");
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    other.close().await;
    app.stop().await;
}

async fn on_start_the_scheduler_fires_everything_already_overdue(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let s = staff(&app).await;
    let reference = transferred_complaint(&app, &s, "KX-500").await;
    // The first node is "down" (never fires); a node starting on 2 April finds it overdue.
    let started = ts("2026-04-02T07:00:00Z");
    let clock = ManualClock::new(started);
    let (stop, handle, _store) = second_node(&app, &clock).await;
    let mut read = Value::Null;
    for _ in 0..100 {
        read = get_ok(&app, &s.cr, &reference).await;
        if !events_named(&read, "response_overdue").is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let overdue = events_named(&read, "response_overdue");
    assert_eq!(overdue.len(), 1, "fired at start: {}", read["events"]);
    assert_eq!(overdue[0]["due_at"], RESPONSE_DUE_AT);
    assert_eq!(overdue[0]["at"], "2026-04-02T07:00:00Z");
    let row = deadline(&read, "formal_response");
    assert_eq!(row["fired_at"], "2026-04-02T07:00:00Z");
    assert_eq!(row["due_at"], RESPONSE_DUE_AT);
    let _ = stop.send(());
    handle
        .await
        .expect("the second node ran")
        .expect("and stopped cleanly");
    // The first node, catching up later, fires nothing again.
    app.clock.set(ts("2026-04-03T07:00:00Z"));
    assert_eq!(app.fire_deadlines().await, 0);
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Refusals and errors
// ---------------------------------------------------------------------------------------------

async fn a_refused_command_is_a_409_problem_with_the_core_sentence(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let s = staff(&app).await;
    let reference = create_ok(&app, &s.cs, &customer("KX-600", "Lee Park", None)).await;
    let refused = command(&app, &s.cs, &reference, "issue_deadlock_letter", &json!({})).await;
    let detail = assert_problem(&refused, 409, Some("wrong_stage"));
    assert_eq!(
        detail,
        "a deadlock letter can only be issued from stage 3 or 4"
    );

    let refused = command(&app, &s.cs, &reference, "request_escalation", &json!({})).await;
    let detail = assert_problem(&refused, 409, Some("not_yet"));
    assert_eq!(
        detail,
        "Customer Services must offer a resolution before the complaint can be escalated"
    );

    let refused = command(&app, &s.cs, &reference, "accept_resolution", &json!({})).await;
    let detail = assert_problem(&refused, 409, Some("not_yet"));
    assert_eq!(
        detail,
        "there is no resolution offer waiting for the customer's answer"
    );

    command_ok(&app, &s.cs, &reference, "acknowledge", &json!({})).await;
    let refused = command(&app, &s.cs, &reference, "acknowledge", &json!({})).await;
    let detail = assert_problem(&refused, 409, Some("already_done"));
    assert_eq!(detail, "this complaint has already been acknowledged");

    // Refusals store nothing.
    let read = get_ok(&app, &s.cs, &reference).await;
    assert_eq!(event_names(&read["events"]), ["received", "acknowledged"]);
    assert_eq!(read["stage"], 1);
    app.stop().await;
}

async fn a_permission_refusal_is_a_403_problem(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let s = staff(&app).await;
    let reference = create_ok(&app, &s.cs, &customer("KX-610", "Lee Park", None)).await;
    let refused = command(
        &app,
        &s.cr,
        &reference,
        "offer_resolution",
        &json!({"text": "x"}),
    )
    .await;
    let detail = assert_problem(&refused, 403, None);
    assert!(
        detail.contains("only Customer Services can offer a resolution now"),
        "{detail}"
    );
    // A staff member named as concerned never handles the complaint.
    let mut body = customer("KX-611", "Lee Park", None);
    body["staff_concerned"] = json!(["cs.alice"]);
    let about_alice = create_ok(&app, &s.cs, &body).await;
    let refused = command(&app, &s.cs, &about_alice, "add_note", &json!({"text": "x"})).await;
    let detail = assert_problem(&refused, 403, None);
    assert!(
        detail.contains("named as a staff member concerned"),
        "{detail}"
    );
    // An administrator cannot read complaints.
    let admin = app.token(Role::Administrator, None, Some("root")).await;
    assert_problem(&get(&app, &admin, &reference).await, 403, None);
    app.stop().await;
}

async fn received_at_in_the_future_is_refused_and_nothing_is_stored(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let s = staff(&app).await;
    for future in ["2026-03-02T09:00:01Z", "2027-01-01T00:00:00Z"] {
        let refused = create(&app, &s.cs, &customer("KX-700", "Tom Hart", Some(future))).await;
        let detail = assert_problem(&refused, 422, None);
        assert!(detail.contains("future"), "{detail}");
        assert!(refused.header("location").is_none());
    }
    assert_eq!(count_complaints(&app, &s.compliance).await, 0);
    // Exactly now is fine, and the refused attempts used up no reference.
    let reference = create_ok(&app, &s.cs, &customer("KX-700", "Tom Hart", Some(START))).await;
    assert_eq!(reference, "CMP-2026-000001");
    // A received_at that is not an instant is refused too.
    let refused = create(
        &app,
        &s.cs,
        &customer("KX-700", "Tom Hart", Some("tomorrow")),
    )
    .await;
    assert_problem(&refused, 422, None);
    // Nor before the procedure's first rules (1 October 2018 in the default): a mistyped year.
    for past in [
        "1900-01-01T00:00:00Z",
        "0001-01-01T00:00:00Z",
        "2018-09-30T22:59:59Z",
    ] {
        let refused = create(&app, &s.cs, &customer("KX-700", "Tom Hart", Some(past))).await;
        let detail = assert_problem(&refused, 422, None);
        assert!(detail.contains("before 2018-10-01"), "{detail}");
    }
    // One email address per field: a list would be sent to every address on it.
    let mut listed = customer("KX-700", "Tom Hart", None);
    listed["customer"]["email"] = json!("tom@example.com,evil@example.net");
    let refused = create(&app, &s.cs, &listed).await;
    let detail = assert_problem(&refused, 422, None);
    assert!(!detail.contains("evil@example.net"), "{detail}");
    assert_eq!(count_complaints(&app, &s.compliance).await, 1);
    // The first London day of the rules is fine (midnight BST is 23:00 UTC the day before).
    create_ok(
        &app,
        &s.cs,
        &customer("KX-700", "Tom Hart", Some("2018-09-30T23:00:00Z")),
    )
    .await;
    app.stop().await;
}

async fn a_body_over_the_limit_is_refused_with_413_problem(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let s = staff(&app).await;
    let mut body = customer("KX-800", "Big Body", None);
    body["summary"] = json!("x".repeat(65 * 1024));
    let refused = create(&app, &s.cs, &body).await;
    assert_problem(&refused, 413, None);
    assert_eq!(count_complaints(&app, &s.compliance).await, 0);

    // A command body over the limit is refused the same way.
    let reference = create_ok(&app, &s.cs, &customer("KX-801", "Ann Small", None)).await;
    let refused = command(
        &app,
        &s.cs,
        &reference,
        "add_note",
        &json!({"text": "y".repeat(70 * 1024)}),
    )
    .await;
    assert_problem(&refused, 413, None);
    let read = get_ok(&app, &s.cs, &reference).await;
    assert_eq!(event_names(&read["events"]), ["received"]);
    app.stop().await;
}

async fn invalid_utf8_is_a_400_problem(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let s = staff(&app).await;
    let mut bytes =
        br#"{"channel": "telephone", "customer": {"account": "KX-1", "name": "Ann "#.to_vec();
    bytes.extend_from_slice(&[0xff, 0xfe, 0xfd]);
    bytes.extend_from_slice(br#""}, "summary": "drops"}"#);
    let refused = send(
        app.client
            .post(app.url("/api/v1/complaints"))
            .bearer_auth(&s.cs)
            .header("content-type", "application/json")
            .body(bytes.clone()),
    )
    .await;
    assert_problem(&refused, 400, Some("invalid_utf8"));
    assert_eq!(count_complaints(&app, &s.compliance).await, 0);

    let reference = create_ok(&app, &s.cs, &customer("KX-900", "Ann Example", None)).await;
    let mut note = br#"{"text": "bad "#.to_vec();
    note.extend_from_slice(&[0xc3, 0x28]);
    note.extend_from_slice(br#""}"#);
    let refused = send(
        app.client
            .post(app.url(&format!("/api/v1/complaints/{reference}/commands/add_note")))
            .bearer_auth(&s.cs)
            .header("content-type", "application/json")
            .body(note),
    )
    .await;
    assert_problem(&refused, 400, Some("invalid_utf8"));
    let read = get_ok(&app, &s.cs, &reference).await;
    assert_eq!(event_names(&read["events"]), ["received"]);
    app.stop().await;
}

async fn a_body_that_is_not_a_json_object_is_a_4xx_problem(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let s = staff(&app).await;
    let post = |body: &'static str, content_type: &'static str| {
        app.client
            .post(app.url("/api/v1/complaints"))
            .bearer_auth(&s.cs)
            .header("content-type", content_type)
            .body(body)
    };
    assert_problem(
        &send(post("{\"channel\": ", "application/json")).await,
        400,
        Some("invalid_json"),
    );
    assert_problem(
        &send(post("[1, 2]", "application/json")).await,
        400,
        Some("invalid_json"),
    );
    let body = complaint_body("KX-1", "Ann").to_string();
    let refused = send(
        app.client
            .post(app.url("/api/v1/complaints"))
            .bearer_auth(&s.cs)
            .header("content-type", "text/plain")
            .body(body),
    )
    .await;
    assert_problem(&refused, 415, None);
    assert_problem(&send(post("", "application/json")).await, 422, None);
    assert_eq!(count_complaints(&app, &s.compliance).await, 0);
    app.stop().await;
}

async fn unknown_fields_are_refused_and_nothing_is_stored(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let s = staff(&app).await;
    let mut body = customer("KX-1000", "Ann Example", None);
    body["colour"] = json!("red");
    let refused = create(&app, &s.cs, &body).await;
    let detail = assert_problem(&refused, 422, Some("unknown_field"));
    assert!(detail.contains("colour"), "{detail}");
    assert_eq!(refused.body["fields"], json!(["colour"]));

    let mut body = customer("KX-1000", "Ann Example", None);
    body["customer"]["shoe_size"] = json!(9);
    let refused = create(&app, &s.cs, &body).await;
    let detail = assert_problem(&refused, 422, Some("unknown_field"));
    assert!(detail.contains("customer.shoe_size"), "{detail}");
    assert_eq!(count_complaints(&app, &s.compliance).await, 0);

    let reference = create_ok(&app, &s.cs, &customer("KX-1001", "Ann Example", None)).await;
    let refused = command(
        &app,
        &s.cs,
        &reference,
        "offer_resolution",
        &json!({"text": "A credit", "amount": 10}),
    )
    .await;
    let detail = assert_problem(&refused, 422, Some("unknown_field"));
    assert!(detail.contains("amount"), "{detail}");
    let refused = command(&app, &s.cs, &reference, "close", &json!({"mood": "cross"})).await;
    let detail = assert_problem(&refused, 422, Some("unknown_field"));
    assert!(detail.contains("mood"), "{detail}");
    // The fields' documented aliases are not unknown (`text` for a call's summary).
    let call = command_ok(
        &app,
        &s.cs,
        &reference,
        "record_call",
        &json!({"text": "Rang the customer", "direction": "outbound"}),
    )
    .await;
    assert_eq!(call, ["call_recorded"]);
    // The command is named by the path, not the body.
    let refused = command(
        &app,
        &s.cs,
        &reference,
        "add_note",
        &json!({"command": "close", "text": "x"}),
    )
    .await;
    assert_problem(&refused, 422, Some("unknown_field"));
    let read = get_ok(&app, &s.cs, &reference).await;
    assert_eq!(event_names(&read["events"]), ["received", "call_recorded"]);
    assert_eq!(read["status"], "open");
    app.stop().await;
}

async fn a_missing_or_invalid_field_is_refused_and_nothing_is_stored(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let s = staff(&app).await;
    let mut cases = Vec::new();
    let mut missing = customer("KX-1", "Ann", None);
    missing["customer"]
        .as_object_mut()
        .expect("customer")
        .remove("account");
    cases.push((missing, "customer.account"));
    let mut channel = customer("KX-1", "Ann", None);
    channel["channel"] = json!("pigeon");
    cases.push((channel, "channel"));
    let mut postcode = customer("KX-1", "Ann", None);
    postcode["customer"]["postcode"] = json!("NOT A POSTCODE");
    cases.push((postcode, "customer.postcode"));
    for (body, field) in cases {
        let refused = create(&app, &s.cs, &body).await;
        let detail = assert_problem(&refused, 422, None);
        assert!(
            refused.body["fields"]
                .as_array()
                .is_some_and(|f| f.iter().any(|f| f == field))
                || detail.contains(field),
            "the problem names {field}: {}",
            refused.text
        );
    }
    // Values the core refuses (an unknown category, an empty summary).
    let mut category = customer("KX-1", "Ann", None);
    category["category"] = json!("weather");
    assert_problem(&create(&app, &s.cs, &category).await, 422, None);
    let mut summary = customer("KX-1", "Ann", None);
    summary["summary"] = json!("   ");
    assert_problem(&create(&app, &s.cs, &summary).await, 422, None);
    assert_eq!(count_complaints(&app, &s.compliance).await, 0);

    let reference = create_ok(&app, &s.cs, &customer("KX-2", "Bea", None)).await;
    let refused = command(&app, &s.cs, &reference, "offer_resolution", &json!({})).await;
    assert_problem(&refused, 422, None);
    let refused = command(
        &app,
        &s.cs,
        &reference,
        "request_evidence",
        &json!({"from": "customer", "due_days": "soon"}),
    )
    .await;
    let detail = assert_problem(&refused, 422, None);
    assert!(
        detail.contains("due_days") || refused.text.contains("due_days"),
        "{}",
        refused.text
    );
    let refused = command(
        &app,
        &s.cs,
        &reference,
        "request_evidence",
        &json!({"from": "customer", "due_days": 400}),
    )
    .await;
    assert_problem(&refused, 422, Some("invalid_input"));
    let read = get_ok(&app, &s.cs, &reference).await;
    assert_eq!(event_names(&read["events"]), ["received"]);
    app.stop().await;
}

async fn a_bad_reference_is_a_400_problem(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let s = staff(&app).await;
    for bad in [
        "not-a-reference",
        "CMP-26-000001",
        "CMP-2026-12",
        "%FF%FE",
        "CMP-2026-00000%C3%28",
    ] {
        let answer = send(
            app.client
                .get(app.url(&format!("/api/v1/complaints/{bad}")))
                .bearer_auth(&s.cs),
        )
        .await;
        assert_problem(&answer, 400, None);
        let answer = send(
            app.client
                .post(app.url(&format!("/api/v1/complaints/{bad}/commands/add_note")))
                .bearer_auth(&s.cs)
                .json(&json!({"text": "x"})),
        )
        .await;
        assert_problem(&answer, 400, None);
    }
    let answer = get(&app, &s.cs, "not-a-reference").await;
    assert_problem(&answer, 400, Some("invalid_reference"));
    // Lower case is the same reference.
    let reference = create_ok(&app, &s.cs, &customer("KX-1", "Ann", None)).await;
    let read = get_ok(&app, &s.cs, &reference.to_lowercase()).await;
    assert_eq!(read["reference"], reference.as_str());
    app.stop().await;
}

async fn an_unknown_complaint_is_a_404_problem(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let s = staff(&app).await;
    let answer = get(&app, &s.cs, "CMP-2026-999999").await;
    assert_problem(&answer, 404, Some("not_found"));
    let answer = command(
        &app,
        &s.cs,
        "CMP-2026-999999",
        "add_note",
        &json!({"text": "x"}),
    )
    .await;
    assert_problem(&answer, 404, Some("not_found"));
    assert_eq!(count_complaints(&app, &s.compliance).await, 0);
    app.stop().await;
}

async fn an_unknown_command_is_a_404_problem(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let s = staff(&app).await;
    let reference = create_ok(&app, &s.cs, &customer("KX-1", "Ann", None)).await;
    for name in ["fly_to_the_moon", "receive", "AddNote", "add-note"] {
        let answer = command(&app, &s.cs, &reference, name, &json!({})).await;
        let detail = assert_problem(&answer, 404, Some("not_found"));
        assert!(detail.contains("add_note"), "names the commands: {detail}");
    }
    let read = get_ok(&app, &s.cs, &reference).await;
    assert_eq!(event_names(&read["events"]), ["received"]);
    app.stop().await;
}

async fn unknown_paths_and_methods_are_problems(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let s = staff(&app).await;
    let answer = send(
        app.client
            .get(app.url("/api/v1/nothing"))
            .bearer_auth(&s.cs),
    )
    .await;
    assert_problem(&answer, 404, Some("not_found"));
    let answer = send(
        app.client
            .delete(app.url("/api/v1/complaints"))
            .bearer_auth(&s.cs),
    )
    .await;
    assert_problem(&answer, 405, None);
    let answer = send(
        app.client
            .put(app.url("/api/v1/complaints/CMP-2026-000001"))
            .bearer_auth(&s.cs),
    )
    .await;
    assert_problem(&answer, 405, None);
    // No token at all is a 401 problem with a challenge.
    let answer = send(app.client.get(app.url("/api/v1/complaints"))).await;
    assert_problem(&answer, 401, Some("unauthorized"));
    assert_eq!(answer.header("www-authenticate"), Some("Bearer"));
    app.stop().await;
}

async fn a_revoked_token_stops_working_at_once(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let s = staff(&app).await;
    let list = || {
        app.client
            .get(app.url("/api/v1/complaints"))
            .bearer_auth(&s.cs)
    };
    // Used twice, so the second answer comes from the server's memory of the token.
    assert_status(&send(list()).await, 200);
    assert_status(&send(list()).await, 200);
    let tokens = app.store.list_tokens().await.expect("list the tokens");
    let held = tokens
        .iter()
        .find(|t| t.staff.as_deref() == Some("cs.alice"))
        .expect("the handler's token is listed");
    assert_eq!(held.revoked_at, None);
    assert!(
        app.store
            .revoke_token(held.id, app.clock.now())
            .await
            .expect("revoke")
    );
    assert!(
        !app.store
            .revoke_token(held.id, app.clock.now())
            .await
            .expect("revoke again"),
        "a token is revoked once"
    );
    assert_problem(&send(list()).await, 401, Some("unauthorized"));
    // The other tokens still work.
    let answer = send(
        app.client
            .get(app.url("/api/v1/complaints"))
            .bearer_auth(&s.esc),
    )
    .await;
    assert_status(&answer, 200);
    let tokens = app.store.list_tokens().await.expect("list the tokens");
    let revoked = tokens
        .iter()
        .find(|t| t.id == held.id)
        .expect("still listed");
    assert_eq!(revoked.revoked_at, Some(app.clock.now()));
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Idempotency
// ---------------------------------------------------------------------------------------------

async fn the_same_idempotency_key_creates_one_complaint_and_returns_the_first_answer(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let s = staff(&app).await;
    let body = customer("KX-1100", "Ann Example", None);
    let post = || {
        app.client
            .post(app.url("/api/v1/complaints"))
            .bearer_auth(&s.cs)
            .header("idempotency-key", "create-7f3a")
            .json(&body)
    };
    let first = send(post()).await;
    assert_status(&first, 201);
    // The retry comes a minute later.
    app.clock.set(ts("2026-03-02T09:01:00Z"));
    let second = send(post()).await;
    assert_status(&second, 201);
    assert_eq!(second.header("location"), first.header("location"));
    assert_eq!(second.body["reference"], first.body["reference"]);
    assert_eq!(
        second.body, first.body,
        "the retry returns the first answer"
    );
    assert_eq!(second.header("idempotent-replayed"), Some("true"));
    // And the first answer was the complaint as stored.
    let reference = first.body["reference"].as_str().expect("ref");
    assert_eq!(get_ok(&app, &s.cs, reference).await, first.body);
    assert_eq!(count_complaints(&app, &s.compliance).await, 1);
    // Without the key, the same body is a new complaint.
    let third = create(&app, &s.cs, &body).await;
    assert_status(&third, 201);
    assert_ne!(third.body["reference"], first.body["reference"]);
    // Keys belong to the caller: another token's key of the same name is its own.
    let other = app.token(Role::Handler, Some(CS), Some("cs.zoe")).await;
    let fourth = send(
        app.client
            .post(app.url("/api/v1/complaints"))
            .bearer_auth(&other)
            .header("idempotency-key", "create-7f3a")
            .json(&body),
    )
    .await;
    assert_status(&fourth, 201);
    assert_eq!(count_complaints(&app, &s.compliance).await, 3);
    app.stop().await;
}

async fn the_same_idempotency_key_runs_a_command_once_and_returns_the_first_answer(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let s = staff(&app).await;
    let reference = create_ok(&app, &s.cs, &customer("KX-1200", "Ann Example", None)).await;
    let offer = |key: &'static str| {
        app.client
            .post(app.url(&format!(
                "/api/v1/complaints/{reference}/commands/offer_resolution"
            )))
            .bearer_auth(&s.cs)
            .header("idempotency-key", key)
            .json(&json!({"text": "A £10 credit"}))
    };
    let first = send(offer("offer-1")).await;
    assert_status(&first, 200);
    let second = send(offer("offer-1")).await;
    assert_status(&second, 200);
    assert_eq!(second.body, first.body);
    let read = get_ok(&app, &s.cs, &reference).await;
    assert_eq!(events_named(&read, "resolution_offered").len(), 1);
    assert_eq!(
        event_names(&read["events"]),
        ["received", "resolution_offered"]
    );

    // A refused command is answered the same way again, and changes nothing.
    let deadlock = || {
        app.client
            .post(app.url(&format!(
                "/api/v1/complaints/{reference}/commands/issue_deadlock_letter"
            )))
            .bearer_auth(&s.cs)
            .header("idempotency-key", "deadlock-1")
            .json(&json!({}))
    };
    let first = send(deadlock()).await;
    assert_problem(&first, 409, Some("wrong_stage"));
    let second = send(deadlock()).await;
    assert_problem(&second, 409, Some("wrong_stage"));
    assert_eq!(second.body, first.body);

    // A new key is a new request.
    let third = send(offer("offer-2")).await;
    assert_status(&third, 200);
    let read = get_ok(&app, &s.cs, &reference).await;
    assert_eq!(events_named(&read, "resolution_offered").len(), 2);
    // A bad key is refused.
    let bad = send(
        app.client
            .post(app.url(&format!("/api/v1/complaints/{reference}/commands/add_note")))
            .bearer_auth(&s.cs)
            .header("idempotency-key", "x".repeat(300))
            .json(&json!({"text": "x"})),
    )
    .await;
    assert_problem(&bad, 400, Some("invalid_idempotency_key"));
    let read = get_ok(&app, &s.cs, &reference).await;
    assert!(events_named(&read, "note_added").is_empty());
    app.stop().await;
}

/// The retry's status, headers (but `idempotent-replayed`, `date` and `x-request-id`) and
/// body bytes equal the first answer's.
#[track_caller]
fn assert_replays(first: &Answer, again: &Answer) {
    let shown = |answer: &Answer| -> Vec<(String, String)> {
        let mut headers: Vec<(String, String)> = answer
            .headers
            .iter()
            .filter(|(name, _)| {
                !matches!(
                    name.as_str(),
                    "date" | "x-request-id" | "idempotent-replayed"
                )
            })
            .map(|(name, value)| {
                let value = value.to_str().unwrap_or("(not text)").to_owned();
                (name.as_str().to_owned(), value)
            })
            .collect();
        headers.sort();
        headers
    };
    assert_eq!(again.status, first.status, "{}", again.text);
    assert_eq!(again.text, first.text, "the same bytes");
    assert_eq!(shown(again), shown(first));
    assert_eq!(first.header("idempotent-replayed"), None);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
}

async fn an_idempotent_retry_gets_the_first_answer_byte_for_byte(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let s = staff(&app).await;
    // Received long ago: the clocks that fired at once are part of the answer.
    let body = customer("KX-1250", "Ann Example", Some("2025-12-01T10:00:00Z"));
    let post = || {
        app.client
            .post(app.url("/api/v1/complaints"))
            .bearer_auth(&s.cs)
            .header("idempotency-key", "bytes-1")
            .json(&body)
    };
    let first = send(post()).await;
    assert_status(&first, 201);
    assert!(
        first.body["deadlines"]
            .as_array()
            .is_some_and(|d| d.iter().any(|d| d["fired_at"].is_string())),
        "{}",
        first.text
    );
    app.clock.set(ts("2026-03-02T09:05:00Z"));
    assert_replays(&first, &send(post()).await);
    // The first answer is the complaint as stored, to the byte.
    let reference = first.body["reference"].as_str().expect("ref").to_owned();
    let read = send(
        app.client
            .get(app.url(&format!("/api/v1/complaints/{reference}")))
            .bearer_auth(&s.cs),
    )
    .await;
    assert_eq!(read.text, first.text);

    let command = |name: &str, key: &str, body: Value| {
        app.client
            .post(app.url(&format!("/api/v1/complaints/{reference}/commands/{name}")))
            .bearer_auth(&s.cs)
            .header("idempotency-key", key)
            .json(&body)
    };
    for (name, key, body, status) in [
        (
            "add_note",
            "note-1",
            json!({"text": "private", "restricted": true}),
            200,
        ),
        (
            "offer_resolution",
            "offer-1",
            json!({"text": "A £10 credit"}),
            200,
        ),
        ("issue_deadlock_letter", "deadlock-1", json!({}), 409),
    ] {
        let first = send(command(name, key, body.clone())).await;
        assert_eq!(first.status, status, "{name}: {}", first.text);
        assert_replays(&first, &send(command(name, key, body)).await);
    }
    app.stop().await;
}

async fn an_idempotency_key_sent_twice_at_once_creates_one_complaint(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let s = staff(&app).await;
    let body = customer("KX-1300", "Ann Example", None);
    let post = || {
        send(
            app.client
                .post(app.url("/api/v1/complaints"))
                .bearer_auth(&s.cs)
                .header("idempotency-key", "at-once")
                .json(&body),
        )
    };
    let (a, b, c) = tokio::join!(post(), post(), post());
    for answer in [&a, &b, &c] {
        assert_status(answer, 201);
        assert_eq!(answer.body["reference"], a.body["reference"]);
    }
    assert_eq!(count_complaints(&app, &s.compliance).await, 1);
    app.stop().await;
}

async fn an_idempotency_key_reused_with_a_different_body_is_refused(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let s = staff(&app).await;
    let post = |body: Value| {
        app.client
            .post(app.url("/api/v1/complaints"))
            .bearer_auth(&s.cs)
            .header("idempotency-key", "reused")
            .json(&body)
    };
    let first = send(post(customer("KX-1400", "Ann Example", None))).await;
    assert_status(&first, 201);
    let second = send(post(customer("KX-1401", "Bob Other", None))).await;
    assert_problem(&second, 422, Some("idempotency_key_reused"));
    assert_eq!(count_complaints(&app, &s.compliance).await, 1);

    // The same key on a command with a different body.
    let reference = first.body["reference"].as_str().expect("ref").to_owned();
    let note = |text: &str| {
        app.client
            .post(app.url(&format!("/api/v1/complaints/{reference}/commands/add_note")))
            .bearer_auth(&s.cs)
            .header("idempotency-key", "note")
            .json(&json!({ "text": text }))
    };
    assert_status(&send(note("first")).await, 200);
    assert_problem(
        &send(note("second")).await,
        422,
        Some("idempotency_key_reused"),
    );
    let read = get_ok(&app, &s.cs, &reference).await;
    assert_eq!(events_named(&read, "note_added").len(), 1);
    assert_eq!(events_named(&read, "note_added")[0]["text"], "first");
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// The list
// ---------------------------------------------------------------------------------------------

async fn the_list_is_soonest_deadline_first_and_pages_with_next_cursor(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let s = staff(&app).await;
    // The 8-week point of each is 00:00 London on received date + 56 days, all after START.
    let received = [
        "2026-02-20T10:00:00Z",
        "2026-01-10T10:00:00Z",
        "2026-02-01T10:00:00Z",
        "2026-01-20T10:00:00Z",
        "2026-02-01T15:00:00Z",
        "2026-03-01T10:00:00Z",
        "2026-01-15T10:00:00Z",
    ];
    let mut due: BTreeMap<String, Option<Timestamp>> = BTreeMap::new();
    for (i, at) in received.iter().enumerate() {
        let reference = create_ok(
            &app,
            &s.cs,
            &customer(&format!("KX-15{i:02}"), "Queue Person", Some(at)),
        )
        .await;
        let read = get_ok(&app, &s.cs, &reference).await;
        due.insert(reference, Some(instant(&deadline(&read, "adr")["due_at"])));
    }
    // One with no running clock (closed) comes last.
    let closed = create_ok(&app, &s.cs, &customer("KX-1599", "Closed Person", None)).await;
    command_ok(&app, &s.cs, &closed, "close", &json!({})).await;
    due.insert(closed.clone(), None);
    // Received 10 January: 8 weeks pass at 00:00 on 7 March (GMT).
    assert!(due.values().any(|d| *d == Some(ts("2026-03-07T00:00:00Z"))));

    let mut seen: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let query = match &cursor {
            Some(c) => format!("?limit=3&cursor={c}"),
            None => "?limit=3".to_owned(),
        };
        let page = list(&app, &s.compliance, &query).await;
        assert_status(&page, 200);
        pages += 1;
        let refs = references(&page.body);
        assert!(refs.len() <= 3, "{}", page.text);
        for item in page.body["items"].as_array().expect("items") {
            let reference = item["reference"].as_str().expect("ref");
            let shown = item
                .get("next_due_at")
                .filter(|v| !v.is_null())
                .map(instant);
            assert_eq!(shown, due[reference], "next_due_at of {reference}");
        }
        seen.extend(refs);
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
        assert!(pages < 10, "the list never ends");
    }
    assert_eq!(pages, 3);
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "each complaint once: {seen:?}");
    assert_eq!(
        unique.into_iter().cloned().collect::<Vec<_>>(),
        due.keys().cloned().collect::<Vec<_>>()
    );
    let mut expected: Vec<String> = due.keys().cloned().collect();
    expected.sort_by_key(|r| (due[r].unwrap_or(Timestamp::MAX), r.clone()));
    assert_eq!(seen, expected, "soonest deadline first, then by reference");
    assert_eq!(seen.last(), Some(&closed));
    // A page that ends exactly at the last item says there is no next page.
    let all = list(&app, &s.compliance, "?limit=8").await;
    assert_status(&all, 200);
    assert_eq!(references(&all.body), expected);
    assert!(all.body["next_cursor"].is_null());
    app.stop().await;
}

async fn the_list_filters_by_stage_status_department_overdue_and_search(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let s = staff(&app).await;
    let mut body = customer("KX-A1", "Ann Able", None);
    body["customer"]["email"] = json!("ann@example.org");
    let a = create_ok(&app, &s.cs, &body).await;
    let b = create_ok(&app, &s.cs, &customer("KX-B2", "Bob Baker", None)).await;
    command_ok(
        &app,
        &s.cs,
        &b,
        "offer_resolution",
        &json!({"text": "Credit"}),
    )
    .await;
    let c = create_ok(&app, &s.cs, &customer("KX-C3", "Cat Cole", None)).await;
    command_ok(
        &app,
        &s.cs,
        &c,
        "offer_resolution",
        &json!({"text": "Credit"}),
    )
    .await;
    command_ok(&app, &s.cs, &c, "request_escalation", &json!({})).await;
    let mut body = customer("KX-D4", "Dan Dale", None);
    body["customer"]["postcode"] = json!("SW1A 1AA");
    let d = create_ok(&app, &s.cs, &body).await;
    command_ok(
        &app,
        &s.cs,
        &d,
        "request_evidence",
        &json!({"from": "third_party", "due_days": 1}),
    )
    .await;
    app.clock.set(ts("2026-03-05T09:00:00Z"));
    assert_eq!(app.fire_deadlines().await, 1);

    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let cases: Vec<(&str, Vec<&String>)> = vec![
        ("?stage=1", vec![&a, &b, &d]),
        ("?stage=2", vec![&c]),
        ("?stage=3", vec![]),
        ("?status=resolution_offered", vec![&b]),
        ("?status=open", vec![&a, &c, &d]),
        ("?department=escalation_team", vec![&c]),
        ("?department=customer_services", vec![&a, &b, &d]),
        ("?overdue=true", vec![&d]),
        ("?overdue=false", vec![&a, &b, &c]),
        ("?q=baker", vec![&b]),
        ("?q=BOB", vec![&b]),
        ("?q=KX-A1", vec![&a]),
        ("?q=sw1a", vec![&d]),
        ("?q=ann%40example.org", vec![&a]),
        ("?q=nobody", vec![]),
        ("?stage=1&status=open", vec![&a, &d]),
        (
            "?stage=1&overdue=true&department=customer_services",
            vec![&d],
        ),
        ("?stage=&status=&q=", vec![&a, &b, &c, &d]),
    ];
    let mut mismatches = Vec::new();
    for (query, want) in cases {
        let got = sorted(list_all(&app, &s.cr, query).await);
        let want = sorted(want.into_iter().cloned().collect());
        if got != want {
            mismatches.push(format!("{query}: expected {want:?}, got {got:?}"));
        }
    }
    let q = format!("?q={c}");
    let got = list_all(&app, &s.cr, &q).await;
    if got != [c.clone()] {
        mismatches.push(format!("{q}: expected [{c}], got {got:?}"));
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    let page = list(&app, &s.cr, "?overdue=true").await;
    let item = &page.body["items"][0];
    assert_eq!(item["reference"], d.as_str());
    assert_eq!(item["overdue"], true);
    assert_eq!(item["stage"], 1);
    assert_eq!(item["status"], "open");
    assert_eq!(item["department"], CS);
    assert_eq!(item["customer_name"], "Dan Dale");
    app.stop().await;
}

async fn invalid_list_parameters_are_a_400_problem(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let s = staff(&app).await;
    let long_q = format!("?q={}", "x".repeat(201));
    let long_query = format!("?q={}", "x".repeat(3000));
    let cases = [
        "?stage=0",
        "?stage=6",
        "?stage=two",
        "?status=pending",
        "?department=sales",
        "?overdue=maybe",
        "?limit=0",
        "?limit=201",
        "?limit=-1",
        "?limit=ten",
        "?cursor=not-a-cursor",
        "?cursor=bm90LWEtY3Vyc29y",
        "?sort=asc",
        "?stage=1&stage=2",
        long_q.as_str(),
        long_query.as_str(),
    ];
    for query in cases {
        let answer = list(&app, &s.cs, query).await;
        assert!(
            answer.status == 400,
            "{query}: expected 400, got {} {}",
            answer.status,
            answer.text
        );
        assert_problem(&answer, 400, None);
    }
    let answer = list(&app, &s.cs, "?limit=0").await;
    assert_problem(&answer, 400, Some("invalid_query"));
    assert_eq!(answer.body["fields"], json!(["limit"]));
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Documentation and operations
// ---------------------------------------------------------------------------------------------

async fn openapi_is_3_1_and_lists_the_paths(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let answer = send(app.client.get(app.url("/api/v1/openapi.json"))).await;
    assert_status(&answer, 200);
    assert!(answer.content_type().starts_with("application/json"));
    let doc = &answer.body;
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "openapi: {}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().expect("paths");
    for (path, method) in [
        ("/api/v1/complaints", "post"),
        ("/api/v1/complaints", "get"),
        ("/api/v1/complaints/{reference}", "get"),
        ("/api/v1/complaints/{reference}/commands/{command}", "post"),
    ] {
        assert!(
            paths.get(path).is_some_and(|p| p.get(method).is_some()),
            "{method} {path} is documented"
        );
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    let responses =
        &paths["/api/v1/complaints/{reference}/commands/{command}"]["post"]["responses"];
    assert!(responses["409"].is_object());
    app.stop().await;
}

async fn swagger_ui_is_served(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let answer = send(app.client.get(app.url("/api/docs/"))).await;
    assert_status(&answer, 200);
    assert!(answer.content_type().starts_with("text/html"));
    assert!(
        answer.text.to_lowercase().contains("swagger"),
        "{}",
        answer.text
    );
    // Without the trailing slash too (a redirect is fine).
    let answer = send(app.client.get(app.url("/api/docs"))).await;
    assert_status(&answer, 200);
    assert!(answer.text.to_lowercase().contains("swagger"));
    let answer = send(app.client.get(app.url("/api/docs/openapi.json"))).await;
    assert_status(&answer, 200);
    assert!(
        answer.body["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1"))
    );
    app.stop().await;
}

async fn health_ready_and_metrics_answer(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let s = staff(&app).await;
    let health = send(app.client.get(app.url("/healthz"))).await;
    assert_status(&health, 200);
    let ready = send(app.client.get(app.url("/readyz"))).await;
    assert_status(&ready, 200);
    let reference = transferred_complaint(&app, &s, "KX-1700").await;
    // Past the response's due instant, with the scheduler not yet run.
    app.clock.set(ts("2026-04-01T09:00:00Z"));
    let metrics = send(app.client.get(app.url("/metrics"))).await;
    assert_status(&metrics, 200);
    assert!(metrics.content_type().starts_with("text/plain"));
    for name in [
        "redress_http_requests_total",
        "redress_http_request_duration_seconds",
        "redress_open_complaints",
        "redress_deadlines_overdue_unfired",
    ] {
        assert!(metrics.text.contains(name), "{name} in:\n{}", metrics.text);
    }
    assert!(
        metrics
            .text
            .contains("redress_open_complaints{stage=\"3\"}"),
        "{}",
        metrics.text
    );
    // Request metrics name the route template, never the reference.
    assert!(
        !metrics.text.contains(&reference),
        "a reference leaked into the metrics"
    );
    assert!(
        metrics
            .text
            .contains("/api/v1/complaints/{reference}/commands/{command}")
    );
    app.fire_deadlines().await;
    let metrics = send(app.client.get(app.url("/metrics"))).await;
    assert!(
        metrics.text.contains("redress_deadlines_fired_total"),
        "{}",
        metrics.text
    );
    app.stop().await;
}

async fn the_event_chain_verifies_after_a_busy_session(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let s = staff(&app).await;
    let ladder = climb_the_ladder(&app, &s).await;
    app.clock.set(ts(START));
    let overdue = transferred_complaint(&app, &s, "KX-1800").await;
    let late = create_ok(
        &app,
        &s.cs,
        &customer("KX-1801", "Late Letter", Some("2025-11-01T09:00:00Z")),
    )
    .await;
    for i in 0..5 {
        command_ok(
            &app,
            &s.compliance,
            &late,
            "add_note",
            &json!({"text": format!("Compliance review note {i}")}),
        )
        .await;
        // Refusals and idempotent replays in between change nothing.
        let refused = command(&app, &s.cs, &late, "transfer_to_resolution", &json!({})).await;
        assert_problem(&refused, 409, None);
        let refused = command(&app, &s.esc, &late, "add_note", &json!({"text": "x"})).await;
        assert_problem(&refused, 403, None);
    }
    for _ in 0..2 {
        let answer = send(
            app.client
                .post(app.url(&format!(
                    "/api/v1/complaints/{overdue}/commands/request_evidence"
                )))
                .bearer_auth(&s.cr)
                .header("idempotency-key", "evidence")
                .json(&json!({"from": "third_party", "due_days": 5})),
        )
        .await;
        assert_status(&answer, 200);
    }
    app.clock.set(ts("2026-05-01T09:00:00Z"));
    assert_eq!(app.fire_deadlines().await, 1);
    let read = get_ok(&app, &s.cr, &overdue).await;
    for name in [
        "response_overdue",
        "evidence_overdue",
        "adr_eligible",
        "adr_notice_sent",
    ] {
        assert_eq!(
            events_named(&read, name).len(),
            1,
            "{name}: {}",
            read["events"]
        );
    }
    command_ok(&app, &s.cr, &overdue, "issue_formal_response", &json!({})).await;
    command_ok(&app, &s.cs, &late, "close", &json!({})).await;
    command_ok(
        &app,
        &s.cs,
        &late,
        "reopen",
        &json!({"reason": "Customer rang back"}),
    )
    .await;

    let report = app.store.verify_audit().await.expect("the audit runs");
    assert!(
        report.problems.is_empty(),
        "the chain has problems: {:?}",
        report.problems
    );
    assert_eq!(report.complaints, 3);
    let mut events = 0;
    for reference in [&ladder, &overdue, &late] {
        events += get_ok(&app, &s.compliance, reference).await["events"]
            .as_array()
            .expect("events")
            .len();
    }
    assert_eq!(report.events, events as u64);
    app.stop().await;
}

/// A complaint's `owed` in the API is the core's answer: a stage-1 complaint 58 days old and
/// unresolved is past the ADR point (a breach to act on), and the list calls it overdue only
/// when something owed is late; a fresh complaint's ADR point is still to come.
async fn the_api_says_what_is_owed_as_every_page_does(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    app.clock.set(ts("2026-04-29T09:00:00Z"));
    let token = app.handler_token("cs.ann@example.com").await;
    let mut old = complaint_body("ACC-58", "Old Unresolved");
    old["received_at"] = json!("2026-03-02T09:00:00Z");
    let old = app.create_complaint(&token, old).await;
    let fresh = app
        .create_complaint(&token, complaint_body("ACC-1", "Fresh"))
        .await;
    let body = app.complaint_json(&token, &old).await;
    let owed = body["owed"].as_array().expect("owed is a list");
    let adr = owed
        .iter()
        .find(|o| o["kind"] == "adr")
        .unwrap_or_else(|| panic!("the ADR point is owed: {owed:?}"));
    assert_eq!(adr["standing"], "past_adr_point", "{adr}");
    assert_eq!(adr["due_by"], "2026-04-27");
    assert_eq!(adr["department"], "customer_services");
    let body = app.complaint_json(&token, &fresh).await;
    let owed = body["owed"].as_array().expect("owed is a list");
    let adr = owed
        .iter()
        .find(|o| o["kind"] == "adr")
        .expect("the ADR point");
    assert_eq!(adr["standing"], "due", "{adr}");
    assert!(owed.iter().all(|o| o["standing"] == "due"), "{owed:?}");
    app.stop().await;
}
