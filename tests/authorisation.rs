//! The authorisation matrix of the JSON API, on SQLite and on PostgreSQL: every kind of caller
//! against every endpoint, and every command at every stage for the owning department, the
//! other departments, compliance, administrators and customers. The expected matrix is a table
//! here; the tests compare it with what the server answers and report every mismatch at once.
#[macro_use]
mod support;

use redress_core::Role;
use reqwest::RequestBuilder;
use serde_json::{Value, json};
use support::{Db, TestApp, complaint_body, spawn_app};

both_backends! {
    every_caller_meets_every_endpoint_as_the_matrix_says =>
        sqlite_every_caller_meets_every_endpoint_as_the_matrix_says,
        postgres_every_caller_meets_every_endpoint_as_the_matrix_says;
    every_command_at_every_stage_is_allowed_only_as_the_matrix_says =>
        sqlite_every_command_at_every_stage_is_allowed_only_as_the_matrix_says,
        postgres_every_command_at_every_stage_is_allowed_only_as_the_matrix_says;
    a_handler_of_one_department_cannot_act_on_another_departments_complaint =>
        sqlite_a_handler_of_one_department_cannot_act_on_another_departments_complaint,
        postgres_a_handler_of_one_department_cannot_act_on_another_departments_complaint;
    a_staff_member_concerned_cannot_act_even_in_their_own_department =>
        sqlite_a_staff_member_concerned_cannot_act_even_in_their_own_department,
        postgres_a_staff_member_concerned_cannot_act_even_in_their_own_department;
}

// ---------------------------------------------------------------------------------------------
// Callers
// ---------------------------------------------------------------------------------------------

const CS: &str = "customer_services";
const ESC: &str = "escalation_team";
const CR: &str = "customer_resolution";
const CRM: &str = "customer_resolution_manager";

/// Who is calling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    NoToken,
    BadToken,
    /// A token sent with another scheme than Bearer.
    BasicScheme,
    Customer,
    Handler(&'static str),
    HandlerWithoutDepartment,
    /// A team manager of Customer Services.
    TeamManager,
    /// The Customer Resolution Manager (role), of their own department.
    ResolutionManager,
    Compliance,
    Administrator,
}

impl Who {
    fn label(self) -> String {
        match self {
            Who::Handler(d) => format!("handler of {d}"),
            other => format!("{other:?}"),
        }
    }
}

/// The Authorization header a caller sends, if any.
async fn authorization(app: &TestApp, who: Who) -> Option<String> {
    let bearer = |t: String| Some(format!("Bearer {t}"));
    match who {
        Who::NoToken => None,
        Who::BadToken => bearer(format!("rdr_{}", "0".repeat(64))),
        Who::BasicScheme => {
            let token = app.token(Role::Handler, Some(CS), Some("basic")).await;
            Some(format!("Basic {token}"))
        }
        Who::Customer => bearer(app.token(Role::Customer, None, None).await),
        Who::Handler(d) => bearer(app.token(Role::Handler, Some(d), Some("owner")).await),
        Who::HandlerWithoutDepartment => {
            bearer(app.token(Role::Handler, None, Some("nodept")).await)
        }
        Who::TeamManager => bearer(app.token(Role::TeamManager, Some(CS), Some("tm")).await),
        Who::ResolutionManager => bearer(
            app.token(Role::CustomerResolutionManager, Some(CRM), Some("crm"))
                .await,
        ),
        Who::Compliance => bearer(app.token(Role::Compliance, None, Some("comp")).await),
        Who::Administrator => bearer(app.token(Role::Administrator, None, Some("admin")).await),
    }
}

// ---------------------------------------------------------------------------------------------
// Talking to the server
// ---------------------------------------------------------------------------------------------

#[derive(Debug)]
struct Answer {
    status: u16,
    content_type: String,
    www_authenticate: Option<String>,
    text: String,
    body: Value,
}

async fn send(request: RequestBuilder, auth: Option<&str>) -> Answer {
    let request = match auth {
        Some(value) => request.header("authorization", value),
        None => request,
    };
    let response = request.send().await.expect("the server answers");
    let status = response.status().as_u16();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let content_type = header("content-type").unwrap_or_default();
    let www_authenticate = header("www-authenticate");
    let text = response.text().await.expect("a body");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer {
        status,
        content_type,
        www_authenticate,
        text,
        body,
    }
}

/// What is wrong with an error answer's shape (problem+json with a snake_case code), if
/// anything.
fn problem_shape(answer: &Answer) -> Option<String> {
    if answer.status < 400 {
        return None;
    }
    if !answer.content_type.starts_with("application/problem+json") {
        return Some(format!(
            "content-type '{}', not application/problem+json",
            answer.content_type
        ));
    }
    let code = answer.body["code"].as_str().unwrap_or("");
    if code.is_empty()
        || !code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Some(format!("no snake_case code: {}", answer.text));
    }
    if answer.body["status"] != answer.status {
        return Some(format!("status field differs: {}", answer.text));
    }
    if answer.status == 401 && answer.www_authenticate.as_deref() != Some("Bearer") {
        return Some("a 401 without 'WWW-Authenticate: Bearer'".into());
    }
    if answer.status == 403 && !["forbidden", "not_permitted"].contains(&code) {
        return Some(format!("a 403 with code {code}"));
    }
    None
}

/// Records a mismatch between the expected and the actual answer.
fn check(mismatches: &mut Vec<String>, what: String, expected: u16, answer: &Answer) {
    if answer.status != expected {
        let detail = answer.body["detail"].as_str().unwrap_or(&answer.text);
        mismatches.push(format!(
            "{what}: expected {expected}, got {} ({}: {detail})",
            answer.status,
            answer.body["code"].as_str().unwrap_or("-")
        ));
    } else if let Some(problem) = problem_shape(answer) {
        mismatches.push(format!("{what}: {problem}"));
    }
}

fn report(mismatches: &[String]) {
    assert!(
        mismatches.is_empty(),
        "{} mismatches with the authorisation matrix:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

async fn run_command(
    app: &TestApp,
    auth: Option<&str>,
    reference: &str,
    name: &str,
    body: &Value,
) -> Answer {
    send(
        app.client
            .post(app.url(&format!("/api/v1/complaints/{reference}/commands/{name}")))
            .json(body),
        auth,
    )
    .await
}

/// Runs a command that must succeed (setting a complaint up).
async fn setup(app: &TestApp, token: &str, reference: &str, name: &str, body: Value) {
    let answer = run_command(app, Some(token), reference, name, &body).await;
    assert_eq!(
        answer.status, 200,
        "setting up: {name} on {reference}: {}",
        answer.text
    );
}

/// Tokens used only to set complaints up (their staff names differ from the callers').
struct SetUp {
    cs: String,
    esc: String,
    cr: String,
    crm: String,
}

async fn set_up_tokens(app: &TestApp) -> SetUp {
    let token = |d: &'static str| async move {
        format!(
            "Bearer {}",
            app.token(Role::Handler, Some(d), Some(&format!("setup.{d}")))
                .await
        )
    };
    SetUp {
        cs: token(CS).await,
        esc: token(ESC).await,
        cr: token(CR).await,
        crm: token(CRM).await,
    }
}

/// A new complaint brought to `stage` by the owning departments, all at the test's START.
async fn complaint_at_stage(app: &TestApp, t: &SetUp, stage: u8) -> String {
    let created = send(
        app.client
            .post(app.url("/api/v1/complaints"))
            .json(&complaint_body("KX-9", "Matrix Person")),
        Some(&t.cs),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let reference = created.body["reference"]
        .as_str()
        .expect("a reference")
        .to_owned();
    let r = reference.as_str();
    if stage >= 2 {
        setup(
            app,
            &t.cs,
            r,
            "offer_resolution",
            json!({"text": "A credit"}),
        )
        .await;
        setup(app, &t.cs, r, "request_escalation", json!({})).await;
    }
    if stage >= 3 {
        setup(app, &t.esc, r, "transfer_to_resolution", json!({})).await;
    }
    if stage >= 4 {
        setup(app, &t.cr, r, "issue_formal_response", json!({})).await;
        setup(app, &t.cr, r, "request_manager_review", json!({})).await;
    }
    if stage >= 5 {
        setup(app, &t.crm, r, "issue_deadlock_letter", json!({})).await;
        setup(app, &t.crm, r, "refer_to_ombudsman", json!({})).await;
    }
    reference
}

/// The department that owns each stage in the default procedure (stage 5's provider side is
/// the Customer Resolution department).
fn owner_of(stage: u8) -> &'static str {
    match stage {
        1 => CS,
        2 => ESC,
        3 | 5 => CR,
        _ => CRM,
    }
}

// ---------------------------------------------------------------------------------------------
// Every caller against every endpoint
// ---------------------------------------------------------------------------------------------

async fn every_caller_meets_every_endpoint_as_the_matrix_says(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let t = set_up_tokens(&app).await;
    // A complaint at stage 1, owned by Customer Services.
    let reference = complaint_at_stage(&app, &t, 1).await;

    // Columns: create, get, list, the add_note command on the stage-1 complaint.
    const ENDPOINTS: [&str; 4] = [
        "POST /complaints",
        "GET /complaints/{ref}",
        "GET /complaints",
        "add_note",
    ];
    let matrix: [(Who, [u16; 4]); 14] = [
        (Who::NoToken, [401, 401, 401, 401]),
        (Who::BadToken, [401, 401, 401, 401]),
        (Who::BasicScheme, [401, 401, 401, 401]),
        (Who::Customer, [403, 403, 403, 403]),
        (Who::Handler(CS), [201, 200, 200, 200]),
        (Who::Handler(ESC), [201, 200, 200, 403]),
        (Who::Handler(CR), [201, 200, 200, 403]),
        (Who::Handler(CRM), [201, 200, 200, 403]),
        (Who::HandlerWithoutDepartment, [403, 200, 200, 403]),
        (Who::TeamManager, [201, 200, 200, 200]),
        // The Customer Resolution Manager reaches complaints from stage 3 on, not stage 1.
        (Who::ResolutionManager, [201, 200, 200, 403]),
        (Who::Compliance, [403, 200, 200, 200]),
        (Who::Administrator, [403, 403, 403, 403]),
        // Sent twice to show the answer does not depend on order.
        (Who::NoToken, [401, 401, 401, 401]),
    ];
    let mut mismatches = Vec::new();
    for (who, expected) in matrix {
        let auth = authorization(&app, who).await;
        let auth = auth.as_deref();
        let answers = [
            send(
                app.client
                    .post(app.url("/api/v1/complaints"))
                    .json(&complaint_body("KX-10", "New Person")),
                auth,
            )
            .await,
            send(
                app.client
                    .get(app.url(&format!("/api/v1/complaints/{reference}"))),
                auth,
            )
            .await,
            send(app.client.get(app.url("/api/v1/complaints")), auth).await,
            run_command(
                &app,
                auth,
                &reference,
                "add_note",
                &json!({"text": "A note"}),
            )
            .await,
        ];
        for ((endpoint, want), answer) in ENDPOINTS.iter().zip(expected).zip(&answers) {
            check(
                &mut mismatches,
                format!("{} -> {endpoint}", who.label()),
                want,
                answer,
            );
        }
    }
    // Refused creations stored nothing: only the allowed ones are listed.
    let creators = matrix.iter().filter(|(_, e)| e[0] == 201).count();
    let cs = authorization(&app, Who::Handler(CS)).await;
    let listed = send(
        app.client.get(app.url("/api/v1/complaints?limit=200")),
        cs.as_deref(),
    )
    .await;
    let items = listed.body["items"].as_array().map_or(0, Vec::len);
    if items != creators + 1 {
        mismatches.push(format!(
            "{} complaints stored, expected {} (the set-up one and one per allowed creator)",
            items,
            creators + 1
        ));
    }
    // Refused notes stored nothing: one note per allowed caller.
    let read = send(
        app.client
            .get(app.url(&format!("/api/v1/complaints/{reference}"))),
        cs.as_deref(),
    )
    .await;
    let notes = read.body["events"].as_array().map_or(0, |e| {
        e.iter().filter(|e| e["event"] == "note_added").count()
    });
    let noters = matrix.iter().filter(|(_, e)| e[3] == 200).count();
    if notes != noters {
        mismatches.push(format!("{notes} notes stored, expected {noters}"));
    }
    report(&mismatches);
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Every command at every stage
// ---------------------------------------------------------------------------------------------

/// One command: its body, and what a handler of the owning department gets on a fresh
/// complaint at stages 1 to 5 (200, or 409 where the procedure refuses; never 403).
struct CommandCase {
    name: &'static str,
    body: Value,
    owner: [u16; 5],
}

fn command_cases() -> Vec<CommandCase> {
    let case = |name, body, owner| CommandCase { name, body, owner };
    vec![
        case("acknowledge", json!({}), [200, 200, 200, 200, 200]),
        case(
            "add_note",
            json!({"text": "A note"}),
            [200, 200, 200, 200, 200],
        ),
        case(
            "record_call",
            json!({"direction": "outbound", "summary": "Called back", "duration_minutes": 5}),
            [200, 200, 200, 200, 200],
        ),
        // A handler may assign the complaint to themselves (the callers are all "owner").
        case(
            "assign",
            json!({"handler": "owner"}),
            [200, 200, 200, 200, 200],
        ),
        case(
            "name_staff_concerned",
            json!({"staff": "someone.else"}),
            [200, 200, 200, 200, 200],
        ),
        // With the ombudsman, the provider's ladder is over.
        case(
            "offer_resolution",
            json!({"text": "A credit"}),
            [200, 200, 200, 200, 409],
        ),
        // No offer is waiting at any stage of these complaints.
        case("accept_resolution", json!({}), [409, 409, 409, 409, 409]),
        case(
            "reject_resolution",
            json!({"reason": "No"}),
            [409, 409, 409, 409, 409],
        ),
        // Stage 1: no offer made yet; stage 2 on: already escalated.
        case(
            "request_escalation",
            json!({"channel": "telephone"}),
            [409, 409, 409, 409, 409],
        ),
        case(
            "transfer_to_resolution",
            json!({}),
            [409, 200, 409, 409, 409],
        ),
        case(
            "request_evidence",
            json!({"from": "customer", "due_days": 14}),
            [200, 200, 200, 200, 409],
        ),
        case(
            "receive_evidence",
            json!({"description": "Bills"}),
            [200, 200, 200, 200, 200],
        ),
        case(
            "record_course_of_events",
            json!({"text": "What happened"}),
            [409, 409, 200, 200, 200],
        ),
        case("establish_fault", json!({}), [200, 200, 200, 200, 200]),
        case("find_no_fault", json!({}), [200, 200, 200, 200, 200]),
        // No fault established yet.
        case(
            "offer_compensation",
            json!({"amount_pence": 1000}),
            [409, 409, 409, 409, 409],
        ),
        case("approve_compensation", json!({}), [409, 409, 409, 409, 409]),
        case("accept_compensation", json!({}), [409, 409, 409, 409, 409]),
        // No compensation offered yet.
        case(
            "withdraw_offer",
            json!({"reason": "Made in error"}),
            [409, 409, 409, 409, 409],
        ),
        case(
            "update_customer",
            json!({"telephone": "0161 496 0999"}),
            [200, 200, 200, 200, 200],
        ),
        // Stage 4 and 5 complaints already have their formal response.
        case(
            "issue_formal_response",
            json!({"text": "Findings"}),
            [409, 409, 200, 409, 409],
        ),
        // Stage 3: no formal response yet; stage 4: already with the manager.
        case(
            "request_manager_review",
            json!({"text": "Please review"}),
            [409, 409, 409, 409, 409],
        ),
        // Stage 4 only (the review the customer asked for).
        case(
            "record_review_outcome",
            json!({"text": "We will refund the March bill"}),
            [409, 409, 409, 200, 409],
        ),
        case(
            "issue_deadlock_letter",
            json!({}),
            [409, 409, 200, 200, 409],
        ),
        // Stages 1 to 4: not yet ADR-eligible; stage 5: already referred.
        case("refer_to_ombudsman", json!({}), [409, 409, 409, 409, 409]),
        case(
            "record_ombudsman_decision",
            json!({"outcome": "upheld", "customer_accepted": true}),
            [409, 409, 409, 409, 200],
        ),
        case("complete_remedy", json!({}), [409, 409, 409, 409, 409]),
        case(
            "close",
            json!({"reason": "Done"}),
            [200, 200, 200, 200, 200],
        ),
        case("reopen", json!({}), [409, 409, 409, 409, 409]),
        // Automatic compensation needs no fault finding and no approval, at any stage.
        case(
            "record_automatic_compensation",
            json!({"kind": "missed_appointment", "amount_pence": 3231}),
            [200, 200, 200, 200, 200],
        ),
        // What is done with the record itself is compliance's alone (see `compliance_gets`).
        case(
            "place_legal_hold",
            json!({"reason": "Litigation"}),
            [403, 403, 403, 403, 403],
        ),
        case(
            "release_legal_hold",
            json!({"reason": "Settled"}),
            [403, 403, 403, 403, 403],
        ),
        case(
            "erase_personal_data",
            json!({"reason": "The customer asked"}),
            [403, 403, 403, 403, 403],
        ),
    ]
}

/// What compliance gets for a command on an open complaint: notes and legal holds (placed,
/// then released, in the table's order); erasure waits for the complaint to close; nothing else.
fn compliance_gets(command: &str) -> u16 {
    match command {
        "add_note" | "place_legal_hold" | "release_legal_hold" => 200,
        "erase_personal_data" => 409,
        _ => 403,
    }
}

/// The department, other than the owner, that the procedure lets take a command at any stage:
/// the customer may phone the Escalation Team to ask for escalation, writes to the Customer
/// Resolution Manager to ask for a review, and the ombudsman's stage is the Customer Resolution
/// department's. Such a caller gets the procedure's answer (the owner's), never 403.
fn also_allowed(command: &str) -> Option<&'static str> {
    match command {
        "request_escalation" => Some(ESC),
        "request_manager_review" => Some(CRM),
        "refer_to_ombudsman" => Some(CR),
        _ => None,
    }
}

async fn every_command_at_every_stage_is_allowed_only_as_the_matrix_says(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let t = set_up_tokens(&app).await;
    let cases = command_cases();
    // Every command the API knows is in the table.
    let names: Vec<&str> = cases.iter().map(|c| c.name).collect();
    for name in &redress_core::Action::NAMES[1..] {
        assert!(names.contains(name), "{name} is missing from the matrix");
    }
    assert_eq!(names.len(), redress_core::Action::NAMES.len() - 1);

    let mut callers: Vec<(Who, Option<String>)> = Vec::new();
    for who in [
        Who::Handler(CS),
        Who::Handler(ESC),
        Who::Handler(CR),
        Who::Handler(CRM),
        Who::Compliance,
        Who::Administrator,
        Who::Customer,
    ] {
        callers.push((who, authorization(&app, who).await));
    }
    let mut mismatches = Vec::new();
    for stage in 1..=5u8 {
        let owner = owner_of(stage);
        let index = usize::from(stage - 1);
        // The owning department, each command on a fresh complaint at this stage.
        let auth = callers
            .iter()
            .find(|(w, _)| *w == Who::Handler(owner))
            .and_then(|(_, a)| a.clone());
        for case in &cases {
            let reference = complaint_at_stage(&app, &t, stage).await;
            let answer =
                run_command(&app, auth.as_deref(), &reference, case.name, &case.body).await;
            check(
                &mut mismatches,
                format!(
                    "stage {stage}, {} (owner) -> {}",
                    Who::Handler(owner).label(),
                    case.name
                ),
                case.owner[index],
                &answer,
            );
        }
        // Everyone else, on one complaint at this stage: nothing they send may change it.
        let probe = complaint_at_stage(&app, &t, stage).await;
        for case in &cases {
            for (who, auth) in &callers {
                let expected = match who {
                    Who::Handler(d) if *d == owner => continue,
                    Who::Handler(d) if also_allowed(case.name) == Some(*d) => case.owner[index],
                    Who::Handler(_) => 403,
                    Who::Compliance => compliance_gets(case.name),
                    _ => 403,
                };
                if expected == 200 && *who != Who::Compliance {
                    // Keep the probe unchanged: allowed commands are checked on their own.
                    continue;
                }
                let answer =
                    run_command(&app, auth.as_deref(), &probe, case.name, &case.body).await;
                check(
                    &mut mismatches,
                    format!("stage {stage}, {} -> {}", who.label(), case.name),
                    expected,
                    &answer,
                );
            }
        }
        // The probe still stands where it was, with only compliance's note added.
        let read = send(
            app.client
                .get(app.url(&format!("/api/v1/complaints/{probe}"))),
            Some(&t.cs),
        )
        .await;
        if read.body["stage"] != stage {
            mismatches.push(format!(
                "stage {stage}: the probe complaint moved to stage {}",
                read.body["stage"]
            ));
        }
        let kinds: Vec<&str> = read.body["events"]
            .as_array()
            .map(|e| e.iter().filter_map(|e| e["event"].as_str()).collect())
            .unwrap_or_default();
        let notes = kinds.iter().filter(|k| **k == "note_added").count();
        if notes != 1 {
            mismatches.push(format!(
                "stage {stage}: the probe has {notes} notes, expected 1 (compliance's): {kinds:?}"
            ));
        }
    }
    report(&mismatches);
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Explicit cases
// ---------------------------------------------------------------------------------------------

async fn a_handler_of_one_department_cannot_act_on_another_departments_complaint(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let t = set_up_tokens(&app).await;
    let cs = authorization(&app, Who::Handler(CS)).await;
    let esc = authorization(&app, Who::Handler(ESC)).await;
    let cr = authorization(&app, Who::Handler(CR)).await;
    let reference = complaint_at_stage(&app, &t, 1).await;

    // The Escalation Team cannot offer a resolution on a Customer Services complaint.
    let refused = run_command(
        &app,
        esc.as_deref(),
        &reference,
        "offer_resolution",
        &json!({"text": "A credit"}),
    )
    .await;
    assert_eq!(refused.status, 403, "{}", refused.text);
    assert_eq!(problem_shape(&refused), None);
    let detail = refused.body["detail"].as_str().unwrap_or("");
    assert!(
        detail.contains("stage 1")
            && detail.contains("only Customer Services can offer a resolution now"),
        "{detail}"
    );
    // Customer Services can.
    let offered = run_command(
        &app,
        cs.as_deref(),
        &reference,
        "offer_resolution",
        &json!({"text": "A credit"}),
    )
    .await;
    assert_eq!(offered.status, 200, "{}", offered.text);
    let escalated = run_command(
        &app,
        cs.as_deref(),
        &reference,
        "request_escalation",
        &json!({}),
    )
    .await;
    assert_eq!(escalated.status, 200, "{}", escalated.text);

    // Now at stage 2, Customer Services and the Customer Resolution department cannot act.
    for (auth, name, body) in [
        (&cs, "transfer_to_resolution", json!({})),
        (&cs, "add_note", json!({"text": "x"})),
        (&cr, "transfer_to_resolution", json!({})),
        (&cr, "close", json!({})),
    ] {
        let refused = run_command(&app, auth.as_deref(), &reference, name, &body).await;
        assert_eq!(refused.status, 403, "{name}: {}", refused.text);
        assert_eq!(problem_shape(&refused), None);
    }
    // Everyone on staff can still read it.
    for auth in [&cs, &esc, &cr] {
        let read = send(
            app.client
                .get(app.url(&format!("/api/v1/complaints/{reference}"))),
            auth.as_deref(),
        )
        .await;
        assert_eq!(read.status, 200);
        assert_eq!(read.body["stage"], 2);
        assert_eq!(read.body["department"], ESC);
        let kinds: Vec<&str> = read.body["events"]
            .as_array()
            .expect("events")
            .iter()
            .filter_map(|e| e["event"].as_str())
            .collect();
        assert_eq!(
            kinds,
            [
                "received",
                "resolution_offered",
                "resolution_rejected",
                "escalated"
            ]
        );
    }
    // The Escalation Team can.
    let transferred = run_command(
        &app,
        esc.as_deref(),
        &reference,
        "transfer_to_resolution",
        &json!({}),
    )
    .await;
    assert_eq!(transferred.status, 200, "{}", transferred.text);
    assert_eq!(transferred.body["stage"], 3);
    app.stop().await;
}

async fn a_staff_member_concerned_cannot_act_even_in_their_own_department(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let cs = authorization(&app, Who::Handler(CS)).await;
    let mut body = complaint_body("KX-11", "Concerned Person");
    body["staff_concerned"] = json!(["owner"]);
    let other = format!(
        "Bearer {}",
        app.token(Role::Handler, Some(CS), Some("colleague")).await
    );
    let created = send(
        app.client.post(app.url("/api/v1/complaints")).json(&body),
        Some(&other),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let reference = created.body["reference"].as_str().expect("ref");
    for name in ["add_note", "offer_resolution", "close"] {
        let refused =
            run_command(&app, cs.as_deref(), reference, name, &json!({"text": "x"})).await;
        assert_eq!(refused.status, 403, "{name}: {}", refused.text);
        assert_eq!(problem_shape(&refused), None);
    }
    let allowed = run_command(
        &app,
        Some(&other),
        reference,
        "offer_resolution",
        &json!({"text": "A credit"}),
    )
    .await;
    assert_eq!(allowed.status, 200, "{}", allowed.text);
    app.stop().await;
}
