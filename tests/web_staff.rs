//! The staff pages, black-box, on SQLite and on PostgreSQL: signing in and out (with
//! throttling and expiry), CSRF, escaping, the forms a person is offered on a complaint's page
//! (exactly what the core allows), refusals in the core's words, invalid input, restricted
//! notes, the queue's order and plain-word clocks, and the dashboard's figures.
#[macro_use]
mod support;

use std::collections::BTreeSet;

use redress::clock::Clock;
use redress_core::{Actor, Reference, Role};
use serde_json::{Value, json};
use support::browser::{Browser, PASSWORD, hidden};
use support::{Db, TestApp, complaint_body, spawn_app, ts};

both_backends! {
    the_case_page_works_out_automatic_compensation_and_records_it =>
        sqlite_the_case_page_works_out_automatic_compensation_and_records_it,
        postgres_the_case_page_works_out_automatic_compensation_and_records_it;
    the_customers_details_are_updated_from_the_case_page =>
        sqlite_the_customers_details_are_updated_from_the_case_page,
        postgres_the_customers_details_are_updated_from_the_case_page;
    a_duplicate_offer_is_said_and_an_offer_is_withdrawn_on_the_record =>
        sqlite_a_duplicate_offer_is_said_and_an_offer_is_withdrawn_on_the_record,
        postgres_a_duplicate_offer_is_said_and_an_offer_is_withdrawn_on_the_record;
    the_history_is_newest_first_and_filtered =>
        sqlite_the_history_is_newest_first_and_filtered,
        postgres_the_history_is_newest_first_and_filtered;
    a_complaint_past_the_ombudsman_point_leads_the_queue_and_says_so =>
        sqlite_a_complaint_past_the_ombudsman_point_leads_the_queue_and_says_so,
        postgres_a_complaint_past_the_ombudsman_point_leads_the_queue_and_says_so;
    staff_pages_speak_of_the_complaints_own_adr_period =>
        sqlite_staff_pages_speak_of_the_complaints_own_adr_period,
        postgres_staff_pages_speak_of_the_complaints_own_adr_period;
    staff_sign_in_and_out =>
        sqlite_staff_sign_in_and_out, postgres_staff_sign_in_and_out;
    sign_in_is_throttled_after_repeated_failures =>
        sqlite_sign_in_is_throttled_after_repeated_failures, postgres_sign_in_is_throttled_after_repeated_failures;
    an_expired_session_goes_back_to_sign_in =>
        sqlite_an_expired_session_goes_back_to_sign_in, postgres_an_expired_session_goes_back_to_sign_in;
    a_form_without_the_csrf_token_is_refused_and_changes_nothing =>
        sqlite_a_form_without_the_csrf_token_is_refused_and_changes_nothing,
        postgres_a_form_without_the_csrf_token_is_refused_and_changes_nothing;
    script_in_a_complaint_renders_as_text_and_needs_come_first =>
        sqlite_script_in_a_complaint_renders_as_text_and_needs_come_first,
        postgres_script_in_a_complaint_renders_as_text_and_needs_come_first;
    the_case_page_offers_only_what_the_core_allows =>
        sqlite_the_case_page_offers_only_what_the_core_allows, postgres_the_case_page_offers_only_what_the_core_allows;
    commands_run_refusals_use_the_cores_words_and_bad_input_is_marked =>
        sqlite_commands_run_refusals_use_the_cores_words_and_bad_input_is_marked,
        postgres_commands_run_refusals_use_the_cores_words_and_bad_input_is_marked;
    restricted_notes_are_for_managers_only =>
        sqlite_restricted_notes_are_for_managers_only, postgres_restricted_notes_are_for_managers_only;
    the_queue_is_soonest_first_with_time_left_in_words =>
        sqlite_the_queue_is_soonest_first_with_time_left_in_words,
        postgres_the_queue_is_soonest_first_with_time_left_in_words;
    the_queue_pages_and_filters =>
        sqlite_the_queue_pages_and_filters, postgres_the_queue_pages_and_filters;
    the_dashboard_counts_open_due_overdue_and_adr_eligible =>
        sqlite_the_dashboard_counts_open_due_overdue_and_adr_eligible,
        postgres_the_dashboard_counts_open_due_overdue_and_adr_eligible;
    work_is_assigned_from_a_list_and_found_in_my_cases =>
        sqlite_work_is_assigned_from_a_list_and_found_in_my_cases,
        postgres_work_is_assigned_from_a_list_and_found_in_my_cases;
    attached_files_open_safely_for_staff =>
        sqlite_attached_files_open_safely_for_staff, postgres_attached_files_open_safely_for_staff;
    a_telephone_complaint_is_recorded_from_the_staff_pages =>
        sqlite_a_telephone_complaint_is_recorded_from_the_staff_pages,
        postgres_a_telephone_complaint_is_recorded_from_the_staff_pages;
    search_finds_any_complaint_at_any_stage =>
        sqlite_search_finds_any_complaint_at_any_stage, postgres_search_finds_any_complaint_at_any_stage;
}

const CS: &str = "customer_services";
const ESC: &str = "escalation_team";
const CR: &str = "customer_resolution";

// ---------------------------------------------------------------------------------------------
// Setting up through the JSON API and the store
// ---------------------------------------------------------------------------------------------

async fn api_token(app: &TestApp, department: &str) -> String {
    app.token(
        Role::Handler,
        Some(department),
        Some(&format!("api.{department}")),
    )
    .await
}

async fn create(app: &TestApp, body: &Value) -> String {
    let token = api_token(app, CS).await;
    app.create_complaint(&token, body.clone()).await
}

async fn api_command(app: &TestApp, department: &str, reference: &str, name: &str, body: Value) {
    let token = api_token(app, department).await;
    let (status, answer) = app.command(&token, reference, name, body).await;
    assert_eq!(status, 200, "{name} on {reference}: {answer}");
}

/// Takes a complaint at stage 1 to the Customer Resolution department (stage 3).
async fn to_stage_3(app: &TestApp, reference: &str) {
    api_command(
        app,
        CS,
        reference,
        "offer_resolution",
        json!({"text": "A credit of £5"}),
    )
    .await;
    api_command(app, CS, reference, "request_escalation", json!({})).await;
    api_command(app, ESC, reference, "transfer_to_resolution", json!({})).await;
}

async fn event_count(app: &TestApp, reference: &str) -> usize {
    let reference = Reference::parse(reference).expect("a reference");
    app.store
        .get_complaint(&reference)
        .await
        .expect("the complaint")
        .events
        .len()
}

/// Whether a page holds `raw` as escaped text: askama writes numeric character references
/// (`&#60;script&#62;`), which browsers read exactly as `&lt;script&gt;`.
fn escaped(body: &str, raw: &str) -> bool {
    let numeric = raw
        .replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('\'', "&#39;")
        .replace('"', "&#34;");
    let named = raw
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\'', "&#39;")
        .replace('"', "&quot;");
    body.contains(&numeric) || body.contains(&named)
}

/// The cells of the table row whose header starts with `label`.
fn row_cells(body: &str, label: &str) -> Vec<String> {
    let start = body
        .find(&format!("<th scope=\"row\">{label}"))
        .unwrap_or_else(|| panic!("a row for {label}: {body}"));
    let end = start + body[start..].find("</tr>").expect("the end of the row");
    let row = &body[start..end];
    row.split("<td>")
        .skip(1)
        .map(|cell| cell.split("</td>").next().unwrap_or("").trim().to_owned())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Signing in
// ---------------------------------------------------------------------------------------------

async fn staff_sign_in_and_out(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    app.staff_account("cs.ann@example.com", Role::Handler, Some(CS))
        .await;
    let mut browser = Browser::new(&app);

    // Signed out, the queue sends you to sign in.
    let queue = browser.get("/staff").await;
    queue.expect(303);
    assert_eq!(queue.location.as_deref(), Some("/staff/sign-in"));

    let form = browser.get("/staff/sign-in").await;
    form.expect(200);
    assert!(form.body.contains("<h1>Sign in</h1>"));
    assert!(
        form.body.contains("<label for=\"email\">")
            && form.body.contains("<label for=\"password\">")
    );
    assert!(
        browser.cookie("redress_csrf").is_some(),
        "the sign-in form sets its CSRF cookie"
    );
    let csrf = form.csrf_token();

    // Nothing filled in: both fields are named in the summary and marked.
    let empty = browser
        .post_form(
            "/staff/sign-in",
            &[("csrf", &csrf), ("email", ""), ("password", "")],
        )
        .await;
    empty.expect(422);
    assert!(empty.body.contains("class=\"error-summary\""));
    assert!(empty.body.contains("href=\"#email\"") && empty.body.contains("href=\"#password\""));
    assert!(empty.body.contains("aria-describedby=\"email-error\""));

    // A wrong password.
    let wrong = browser
        .post_form(
            "/staff/sign-in",
            &[
                ("csrf", &csrf),
                ("email", "cs.ann@example.com"),
                ("password", "nope"),
            ],
        )
        .await;
    wrong.expect(401);
    assert!(
        wrong
            .body
            .contains("The email address or password is not right")
    );
    assert!(browser.cookie("redress_staff").is_none());

    // No CSRF field: refused before the password is even looked at.
    let forged = browser
        .post_form(
            "/staff/sign-in",
            &[("email", "cs.ann@example.com"), ("password", PASSWORD)],
        )
        .await;
    forged.expect(403);
    assert!(browser.cookie("redress_staff").is_none());

    // The right password (the email in another case works too).
    let ok = browser
        .post_form(
            "/staff/sign-in",
            &[
                ("csrf", &csrf),
                ("email", "CS.Ann@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    ok.expect(303);
    assert_eq!(ok.location.as_deref(), Some("/staff"));
    let cookie = ok
        .set_cookies
        .iter()
        .find(|c| c.starts_with("redress_staff="))
        .expect("a session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "plain HTTP in tests: {cookie}");

    let queue = browser.get("/staff").await;
    queue.expect(200);
    assert!(
        queue.body.contains("Queue: Customer Services"),
        "{}",
        queue.body
    );
    assert!(queue.body.contains("Sign out Staff cs.ann@example.com"));
    // Signed in, the sign-in page goes straight to the queue.
    assert_eq!(
        browser.get("/staff/sign-in").await.location.as_deref(),
        Some("/staff")
    );

    // Signing out needs the session's CSRF token.
    let token = queue.csrf_token();
    browser
        .post_form("/staff/sign-out", &[("csrf", "not-the-token")])
        .await
        .expect(403);
    browser.get("/staff").await.expect(200);
    let out = browser
        .post_form("/staff/sign-out", &[("csrf", &token)])
        .await;
    out.expect(303);
    assert_eq!(out.location.as_deref(), Some("/staff/sign-in?signed_out=1"));
    assert!(
        browser.cookie("redress_staff").is_none(),
        "the cookie is removed"
    );
    let page = browser.get("/staff/sign-in?signed_out=1").await;
    assert!(page.body.contains("You have signed out."));
    assert_eq!(
        browser.get("/staff").await.location.as_deref(),
        Some("/staff/sign-in")
    );
    app.stop().await;
}

async fn sign_in_is_throttled_after_repeated_failures(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    app.staff_account("cs.bob@example.com", Role::Handler, Some(CS))
        .await;
    app.staff_account("cs.cat@example.com", Role::Handler, Some(CS))
        .await;
    let mut browser = Browser::new(&app);
    for _ in 0..redress::web::throttle::FREE_FAILURES {
        browser
            .sign_in_staff("cs.bob@example.com", "wrong password")
            .await
            .expect(401);
    }
    // Even the right password is refused now, with a reason a person can read.
    let refused = browser.sign_in_staff("cs.bob@example.com", PASSWORD).await;
    refused.expect(429);
    assert!(refused.body.contains("class=\"refusal\""));
    assert!(
        refused
            .body
            .contains("too many attempts to sign in that failed"),
        "{}",
        refused.body
    );
    // A delay that grows with each failure (four are free, then 2 s, 4 s ...), not a lock-out.
    assert!(
        refused.body.contains("wait 2 seconds and try again"),
        "{}",
        refused.body
    );
    assert!(browser.cookie("redress_staff").is_none());
    // Another account is not affected (four failures from one address are far from its limit).
    Browser::signed_in_staff(&app, "cs.cat@example.com").await;
    // Once the delay has passed, the right password works again: the real person is never
    // locked out for long by someone else's guesses.
    app.clock
        .set(app.clock.now() + jiff::SignedDuration::from_secs(3));
    Browser::signed_in_staff(&app, "cs.bob@example.com").await;
    // The success cleared the account's count: one slip now costs no wait.
    browser
        .sign_in_staff("cs.bob@example.com", "wrong password")
        .await
        .expect(401);
    Browser::signed_in_staff(&app, "cs.bob@example.com").await;

    // Guessing across many accounts from one address pauses that address.
    let mut guesser = Browser::new(&app);
    let mut answered = Vec::new();
    for n in 0..redress::web::throttle::ADDRESS_LIMIT {
        let page = guesser
            .sign_in_staff(&format!("guess{n}@example.com"), "password1")
            .await;
        answered.push(page.status);
        if page.status == 429 {
            assert!(page.body.contains("from your connection"), "{}", page.body);
            break;
        }
    }
    assert_eq!(answered.last(), Some(&429), "{answered:?}");
    // ... for everyone signing in from it, until the window has passed; another address is
    // not affected.
    guesser
        .sign_in_staff("cs.cat@example.com", PASSWORD)
        .await
        .expect(429);
    Browser::from_address(&app, std::net::Ipv4Addr::new(127, 0, 0, 2))
        .signs_in_staff("cs.cat@example.com")
        .await;
    app.clock.set(
        app.clock.now()
            + jiff::SignedDuration::from_mins(redress::store::FAILURE_WINDOW_MINUTES + 1),
    );
    Browser::signed_in_staff(&app, "cs.cat@example.com").await;
    app.stop().await;
}

async fn an_expired_session_goes_back_to_sign_in(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    app.staff_account("cs.dan@example.com", Role::Handler, Some(CS))
        .await;
    let mut browser = Browser::signed_in_staff(&app, "cs.dan@example.com").await;
    browser.get("/staff").await.expect(200);
    app.clock.set(
        app.clock.now()
            + jiff::SignedDuration::from_hours(redress::store::SESSION_HOURS)
            + jiff::SignedDuration::from_secs(1),
    );
    let expired = browser.get("/staff").await;
    expired.expect(303);
    assert_eq!(expired.location.as_deref(), Some("/staff/sign-in"));
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// The complaint's page
// ---------------------------------------------------------------------------------------------

async fn a_form_without_the_csrf_token_is_refused_and_changes_nothing(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    app.staff_account("cs.eve@example.com", Role::Handler, Some(CS))
        .await;
    let reference = create(&app, &complaint_body("ACC-1", "Ada Lovelace")).await;
    let mut browser = Browser::signed_in_staff(&app, "cs.eve@example.com").await;
    let before = event_count(&app, &reference).await;
    let path = format!("/staff/complaints/{reference}/commands/add_note");
    let none = browser.post_form(&path, &[("text", "A note")]).await;
    none.expect(403);
    assert!(
        none.body.contains("<h1>You cannot do that</h1>"),
        "{}",
        none.body
    );
    browser
        .post_form(&path, &[("csrf", "0000"), ("text", "A note")])
        .await
        .expect(403);
    // Another session's token does not do either.
    app.staff_account("cs.fay@example.com", Role::Handler, Some(CS))
        .await;
    let mut other = Browser::signed_in_staff(&app, "cs.fay@example.com").await;
    let their_token = other.case(&reference).await.csrf_token();
    browser
        .post_form(&path, &[("csrf", &their_token), ("text", "A note")])
        .await
        .expect(403);
    assert_eq!(
        event_count(&app, &reference).await,
        before,
        "nothing was recorded"
    );
    // With the right token it works.
    browser
        .command(&reference, "add_note", &[("text", "A note")])
        .await
        .expect(303);
    assert_eq!(event_count(&app, &reference).await, before + 1);
    app.stop().await;
}

async fn script_in_a_complaint_renders_as_text_and_needs_come_first(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    app.staff_account("cs.gus@example.com", Role::Handler, Some(CS))
        .await;
    let mut body = complaint_body("ACC-2", "Mallory <b>Bold</b>");
    body["summary"] = json!("<script>alert('x')</script> and my broadband drops");
    body["customer"]["accessibility_needs"] = json!(["Large print letters"]);
    body["customer"]["vulnerabilities"] = json!(["Recently bereaved"]);
    let reference = create(&app, &body).await;
    let mut browser = Browser::signed_in_staff(&app, "cs.gus@example.com").await;
    let page = browser.case(&reference).await;
    assert!(
        escaped(
            &page.body,
            "<script>alert('x')</script> and my broadband drops"
        ),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("<script"),
        "no script element reaches the page"
    );
    assert!(escaped(&page.body, "Mallory <b>Bold</b>") && !page.body.contains("<b>Bold"));
    // Needs are near the top, in their box with a heading, before the complaint's details.
    let needs = page.body.find("class=\"needs\"").expect("a needs box");
    assert!(
        page.body[needs..].contains("Large print letters")
            && page.body[needs..].contains("Recently bereaved")
    );
    assert!(
        needs
            < page
                .body
                .find("What the customer told us")
                .expect("the summary")
    );
    assert!(needs < page.body.find("What has happened").expect("the timeline"));
    assert_eq!(page.body.matches("<h1").count(), 1, "one h1");
    // The queue escapes too.
    let queue = browser.get("/staff").await;
    assert!(escaped(&queue.body, "Mallory <b>Bold</b>") && !queue.body.contains("<b>Bold"));
    app.stop().await;
}

/// The forms a person should see: the core's list, and `assign` when they may act at all.
async fn expected_commands(
    app: &TestApp,
    reference: &str,
    role: Role,
    department: &str,
    email: &str,
) -> BTreeSet<String> {
    let view = app
        .store
        .get_complaint(&Reference::parse(reference).expect("ref"))
        .await
        .expect("complaint");
    let procedure = app.store.procedure();
    let by = Actor::staff(role, department, Some(email));
    let mut names: BTreeSet<String> =
        redress_core::available(&view.complaint, &by, app.clock.now(), procedure)
            .into_iter()
            .map(str::to_owned)
            .collect();
    let assign = redress_core::Action::Assign {
        handler: email.to_owned(),
    };
    if redress_core::authorise(&view.complaint, &by, &assign, procedure).is_ok() {
        names.insert("assign".to_owned());
    }
    names
}

async fn the_case_page_offers_only_what_the_core_allows(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    app.staff_account("cs.hal@example.com", Role::Handler, Some(CS))
        .await;
    app.staff_account("esc.ivy@example.com", Role::Handler, Some(ESC))
        .await;
    app.staff_account("cr.jon@example.com", Role::Handler, Some(CR))
        .await;
    app.staff_account("audit@example.com", Role::Compliance, None)
        .await;
    let reference = create(&app, &complaint_body("ACC-3", "Grace Hopper")).await;

    // Stage 1, Customer Services: their commands, no deadlock letter, no transfer.
    let mut cs = Browser::signed_in_staff(&app, "cs.hal@example.com").await;
    let offered = cs.case(&reference).await.commands();
    assert_eq!(
        offered,
        expected_commands(&app, &reference, Role::Handler, CS, "cs.hal@example.com").await
    );
    for name in ["offer_resolution", "add_note", "acknowledge", "assign"] {
        assert!(offered.contains(name), "{name} is offered: {offered:?}");
    }
    for name in [
        "issue_deadlock_letter",
        "transfer_to_resolution",
        "issue_formal_response",
        "request_escalation",
    ] {
        assert!(
            !offered.contains(name),
            "{name} is not offered at stage 1: {offered:?}"
        );
    }

    // Another department's handler sees the complaint but no forms at all.
    let mut esc = Browser::signed_in_staff(&app, "esc.ivy@example.com").await;
    let page = esc.case(&reference).await;
    assert!(page.commands().is_empty(), "{:?}", page.commands());
    assert!(
        page.body
            .contains("There is nothing you can do on this complaint now")
    );
    // Compliance may add notes and hold the record (erasure waits for the complaint to close).
    let mut audit = Browser::signed_in_staff(&app, "audit@example.com").await;
    assert_eq!(
        audit.case(&reference).await.commands(),
        BTreeSet::from(["add_note".to_owned(), "place_legal_hold".to_owned()])
    );

    // At stage 3 the Customer Resolution department may issue a deadlock letter.
    to_stage_3(&app, &reference).await;
    let mut cr = Browser::signed_in_staff(&app, "cr.jon@example.com").await;
    let offered = cr.case(&reference).await.commands();
    assert_eq!(
        offered,
        expected_commands(&app, &reference, Role::Handler, CR, "cr.jon@example.com").await
    );
    assert!(
        offered.contains("issue_deadlock_letter") && offered.contains("request_evidence"),
        "{offered:?}"
    );
    assert!(
        cs.case(&reference).await.commands().is_empty(),
        "Customer Services has nothing to do at stage 3"
    );

    // A staff member concerned is told why, and offered nothing, in their own department.
    let mut body = complaint_body("ACC-4", "Alan Turing");
    body["staff_concerned"] = json!(["cs.hal@example.com"]);
    let about_hal = create(&app, &body).await;
    let page = cs.case(&about_hal).await;
    assert!(page.commands().is_empty(), "{:?}", page.commands());
    assert!(
        page.body
            .contains("You are named as a staff member concerned in this complaint")
    );
    // ... and assigning them is refused by the core, in its words.
    app.staff_account("cs.boss@example.com", Role::TeamManager, Some(CS))
        .await;
    let mut boss = Browser::signed_in_staff(&app, "cs.boss@example.com").await;
    let refused = boss
        .command(&about_hal, "assign", &[("handler", "cs.hal@example.com")])
        .await;
    refused.expect(409);
    assert!(
        refused.body.contains(
            "is named as a staff member concerned in this complaint, so cannot handle it"
        ),
        "{}",
        refused.body
    );
    app.staff_account("cs.kim@example.com", Role::Handler, Some(CS))
        .await;
    boss.command(&about_hal, "assign", &[("handler", "cs.kim@example.com")])
        .await
        .expect(303);
    assert!(
        boss.case(&about_hal)
            .await
            .body
            .contains("cs.kim@example.com")
    );
    app.stop().await;
}

async fn commands_run_refusals_use_the_cores_words_and_bad_input_is_marked(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    app.staff_account("cs.lee@example.com", Role::Handler, Some(CS))
        .await;
    let reference = create(&app, &complaint_body("ACC-5", "Katherine Johnson")).await;
    let mut cs = Browser::signed_in_staff(&app, "cs.lee@example.com").await;

    // A command that works: 303 back to the page, which says what was done.
    let done = cs
        .command(
            &reference,
            "offer_resolution",
            &[("text", "We will credit £10 to the account")],
        )
        .await;
    done.expect(303);
    assert_eq!(
        done.location,
        Some(format!(
            "/staff/complaints/{reference}?done=offer_resolution"
        ))
    );
    let page = cs.get(done.location.as_deref().unwrap_or("")).await;
    assert!(
        page.body.contains("class=\"notice\"")
            && page.body.contains("The resolution offered was recorded.")
    );
    assert!(
        page.body
            .contains("offered a resolution: We will credit £10 to the account")
    );

    // A command the core refuses: its sentence, in the refusal box, status 409.
    let before = event_count(&app, &reference).await;
    let refused = cs
        .command(
            &reference,
            "issue_deadlock_letter",
            &[("text", "Final position")],
        )
        .await;
    refused.expect(409);
    assert!(refused.body.contains("class=\"refusal\""));
    assert!(
        refused
            .body
            .contains("deadlock letter can only be issued from stage 3 or 4"),
        "{}",
        refused.body
    );
    assert_eq!(event_count(&app, &reference).await, before);

    // Empty text: 422, a summary linked to the field, and the field marked.
    let empty = cs.command(&reference, "add_note", &[("text", "   ")]).await;
    empty.expect(422);
    assert!(empty.body.contains("class=\"error-summary\""));
    assert!(
        empty
            .body
            .contains("<a href=\"#add_note-text\">Enter the note</a>"),
        "{}",
        empty.body
    );
    assert!(empty.body.contains("class=\"field-error\""));
    assert!(empty.body.contains("id=\"add_note-text-error\""));
    assert!(
        empty
            .body
            .contains("aria-describedby=\"add_note-text-error\"")
    );
    assert!(
        empty.body.contains("<details id=\"form-add_note\" open>"),
        "the form with the problem is open"
    );
    assert!(
        empty.body.find("error-summary") < empty.body.find("<h1"),
        "the summary is at the top"
    );

    // Compensation in pounds: a bad amount is marked; a good one is kept in pence.
    cs.command(
        &reference,
        "establish_fault",
        &[("description", "The line was misconfigured")],
    )
    .await
    .expect(303);
    let bad = cs
        .command(
            &reference,
            "offer_compensation",
            &[("amount", "ten pounds")],
        )
        .await;
    bad.expect(422);
    assert!(bad.body.contains("href=\"#offer_compensation-amount\""));
    assert!(
        bad.body
            .contains("Enter the amount in pounds and pence, for example 25.00")
    );
    assert!(
        bad.body.contains("value=\"ten pounds\""),
        "what was typed is kept"
    );
    let too_much = cs
        .command(&reference, "offer_compensation", &[("amount", "5000")])
        .await;
    too_much.expect(422);
    assert!(
        too_much
            .body
            .contains("The amount must be £2500.00 or less"),
        "{}",
        too_much.body
    );
    cs.command(
        &reference,
        "offer_compensation",
        &[("amount", "£12.50"), ("reason", "Lost service")],
    )
    .await
    .expect(303);
    let view = app
        .store
        .get_complaint(&Reference::parse(&reference).expect("ref"))
        .await
        .expect("complaint");
    assert_eq!(
        view.complaint.compensation.last().map(|o| o.amount_pence),
        Some(1250)
    );

    // An evidence request: `due_days` must be a whole number in range.
    let bad_days = cs
        .command(
            &reference,
            "request_evidence",
            &[("from", "customer"), ("due_days", "soon")],
        )
        .await;
    bad_days.expect(422);
    assert!(
        bad_days
            .body
            .contains("href=\"#request_evidence-due_days\"")
    );
    let no_source = cs
        .command(&reference, "request_evidence", &[("due_days", "14")])
        .await;
    no_source.expect(422);
    assert!(
        no_source
            .body
            .contains("<a href=\"#request_evidence-from\">Choose who the evidence is from</a>")
    );
    cs.command(
        &reference,
        "request_evidence",
        &[
            ("from", "customer"),
            ("due_days", "14"),
            ("description", "A photo of the router"),
        ],
    )
    .await
    .expect(303);
    let page = cs.case(&reference).await;
    assert!(
        page.body
            .contains("We asked the customer for evidence by 16 March 2026: A photo of the router"),
        "{}",
        page.body
    );
    assert!(page.body.contains("evidence due in 14 days"));

    // Unknown commands and complaints are pages that say so.
    let csrf = page.csrf_token();
    cs.post_form(
        &format!("/staff/complaints/{reference}/commands/explode"),
        &[("csrf", &csrf)],
    )
    .await
    .expect(404);
    cs.get("/staff/complaints/CMP-2026-999999")
        .await
        .expect(404);
    cs.get("/staff/complaints/not-a-reference")
        .await
        .expect(404);
    app.stop().await;
}

async fn restricted_notes_are_for_managers_only(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    app.staff_account("cs.max@example.com", Role::Handler, Some(CS))
        .await;
    app.staff_account("cs.manager@example.com", Role::TeamManager, Some(CS))
        .await;
    let reference = create(&app, &complaint_body("ACC-6", "Mary Jackson")).await;
    let mut handler = Browser::signed_in_staff(&app, "cs.max@example.com").await;
    handler
        .command(
            &reference,
            "add_note",
            &[("text", "Customer prefers mornings")],
        )
        .await
        .expect(303);
    handler
        .command(
            &reference,
            "add_note",
            &[
                ("text", "Agent was rude on the call"),
                ("restricted", "yes"),
            ],
        )
        .await
        .expect(303);
    handler
        .command(
            &reference,
            "add_note",
            &[
                ("text", "Second-hand report about Bill"),
                ("about_staff", "cs.bill@example.com"),
            ],
        )
        .await
        .expect(303);

    let page = handler.case(&reference).await;
    assert!(page.body.contains("Customer prefers mornings"));
    assert!(
        !page.body.contains("Agent was rude on the call"),
        "a handler does not see a restricted note"
    );
    assert!(
        !page.body.contains("Second-hand report about Bill"),
        "notes about staff are restricted"
    );
    assert_eq!(page.body.matches("A note for managers only").count(), 2);

    let mut manager = Browser::signed_in_staff(&app, "cs.manager@example.com").await;
    let page = manager.case(&reference).await;
    assert!(page.body.contains("Customer prefers mornings"));
    assert!(page.body.contains("Agent was rude on the call"));
    assert!(
        page.body.contains("Second-hand report about Bill")
            && page.body.contains("About cs.bill@example.com")
    );
    assert!(!page.body.contains("A note for managers only"));

    // Compliance reads restricted notes; the manager a note is about never does.
    app.staff_account("compliance@example.com", Role::Compliance, None)
        .await;
    let mut compliance = Browser::signed_in_staff(&app, "compliance@example.com").await;
    let page = compliance.case(&reference).await;
    assert!(page.body.contains("Agent was rude on the call"));
    assert!(page.body.contains("Second-hand report about Bill"));
    app.staff_account("cs.bill@example.com", Role::TeamManager, Some(CS))
        .await;
    let mut bill = Browser::signed_in_staff(&app, "cs.bill@example.com").await;
    let page = bill.case(&reference).await;
    assert!(page.body.contains("Agent was rude on the call"));
    assert!(
        !page.body.contains("Second-hand report about Bill"),
        "the staff member a note is about never reads it"
    );
    assert_eq!(page.body.matches("A note for managers only").count(), 1);
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// The queue and the dashboard
// ---------------------------------------------------------------------------------------------

async fn the_queue_is_soonest_first_with_time_left_in_words(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    app.staff_account("cr.ned@example.com", Role::Handler, Some(CR))
        .await;
    app.staff_account("cs.ola@example.com", Role::Handler, Some(CS))
        .await;
    // Two complaints transferred to the Customer Resolution department two days apart, and one
    // that stays with Customer Services.
    let first = create(&app, &complaint_body("ACC-10", "First Transferred")).await;
    let second = create(&app, &complaint_body("ACC-11", "Second Transferred")).await;
    let stays = create(&app, &complaint_body("ACC-12", "Stays At Stage One")).await;
    to_stage_3(&app, &first).await; // 2 March: response due by 30 March.
    app.clock.set(ts("2026-03-04T10:00:00Z"));
    to_stage_3(&app, &second).await; // 4 March: due by 1 April.

    app.clock.set(ts("2026-03-27T10:00:00Z"));
    let mut cr = Browser::signed_in_staff(&app, "cr.ned@example.com").await;
    let queue = cr.get("/staff").await;
    queue.expect(200);
    let body = &queue.body;
    assert!(
        body.contains("Queue: The Customer Resolution Department"),
        "{body}"
    );
    let (a, b) = (
        body.find(&first).expect("first listed"),
        body.find(&second).expect("second listed"),
    );
    assert!(a < b, "soonest deadline first");
    assert!(
        !body.contains(&stays),
        "another department's stage is not in this queue"
    );
    assert!(body.contains("formal response due in 3 days"), "{body}");
    assert!(body.contains("formal response due in 5 days"));
    assert!(!body.contains("<tr class=\"overdue\">"));
    // Counts per stage cover every stage.
    assert!(
        body.contains("<strong>1</strong> at stage 1")
            && body.contains("<strong>2</strong> at stage 3"),
        "{body}"
    );

    // On 1 April the first response is two days late: marked in words, not only colour.
    app.clock.set(ts("2026-04-01T09:00:00Z"));
    app.fire_deadlines().await;
    // Days later, the session has expired: sign in again.
    let mut cr = Browser::signed_in_staff(&app, "cr.ned@example.com").await;
    let queue = cr.get("/staff").await;
    let body = &queue.body;
    assert!(body.contains("formal response overdue by 2 days"), "{body}");
    assert!(
        body.contains("<tr class=\"overdue\">")
            && body.contains("<strong class=\"tag overdue\">Overdue</strong>"),
        "{body}"
    );
    assert!(body.contains("formal response due today"));
    // "Overdue only" lists only the late one.
    let overdue = cr.get("/staff?overdue=yes").await;
    assert!(overdue.body.contains(&first) && !overdue.body.contains(&second));
    // The complaint's page lists its clocks in the same words.
    let page = cr.case(&first).await;
    assert!(
        page.body.contains("formal response overdue by 2 days")
            && page.body.contains("30 March 2026")
    );
    assert!(
        page.body.contains("8 weeks pass in 26 days"),
        "{}",
        page.body
    );
    app.stop().await;
}

async fn the_queue_pages_and_filters(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    app.staff_account("cs.pia@example.com", Role::Handler, Some(CS))
        .await;
    let mut references = Vec::new();
    for n in 0..27 {
        // Received a day apart, so the 8-week points (the only clocks) fall a day apart.
        let mut body = complaint_body(&format!("ACC-{n:03}"), &format!("Customer {n:03}"));
        body["received_at"] = json!(format!("2026-02-{:02}T10:00:00Z", n + 1));
        references.push(create(&app, &body).await);
    }
    let mut cs = Browser::signed_in_staff(&app, "cs.pia@example.com").await;
    let first = cs.get("/staff").await;
    first.expect(200);
    assert_eq!(
        first.body.matches("<a href=\"/staff/complaints/").count(),
        25
    );
    let next = first.body.split("<a href=\"").find_map(|s| {
        s.split_once("\">Next page</a>")
            .map(|(href, _)| href.to_owned())
    });
    let next = next.expect("a next page link").replace("&amp;", "&");
    let second = cs.get(&next).await;
    second.expect(200);
    assert_eq!(
        second.body.matches("<a href=\"/staff/complaints/").count(),
        2
    );
    assert!(second.body.contains(&references[25]) && second.body.contains(&references[26]));
    assert!(!second.body.contains("Next page") && second.body.contains("First page"));
    // The oldest complaint comes first: its 8 weeks pass soonest.
    let oldest = first.body.find(&references[0]).expect("listed");
    assert!(oldest < first.body.find(&references[1]).expect("listed"));

    // Search by account, by name, by reference; filters by stage and status.
    let found = cs.get("/staff?q=acc-007").await;
    assert!(found.body.contains(&references[7]) && !found.body.contains(&references[8]));
    let found = cs.get("/staff?q=Customer+012").await;
    assert!(found.body.contains(&references[12]) && !found.body.contains(&references[13]));
    let found = cs.get(&format!("/staff?q={}", references[3])).await;
    assert_eq!(
        found.body.matches("<a href=\"/staff/complaints/").count(),
        1
    );
    assert_eq!(
        cs.get("/staff?stage=2")
            .await
            .body
            .matches("<a href=\"/staff/complaints/")
            .count(),
        0
    );
    assert_eq!(
        cs.get("/staff?status=closed")
            .await
            .body
            .matches("<a href=\"/staff/complaints/")
            .count(),
        0
    );
    // Bad filter values are said, not crashed on.
    let bad = cs.get("/staff?stage=9&status=lost").await;
    bad.expect(422);
    assert!(bad.body.contains("href=\"#stage\"") && bad.body.contains("href=\"#status\""));
    app.stop().await;
}

async fn work_is_assigned_from_a_list_and_found_in_my_cases(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    app.staff_account("cs.lee@example.com", Role::Handler, Some(CS))
        .await;
    app.staff_account("cs.max@example.com", Role::TeamManager, Some(CS))
        .await;
    app.staff_account("esc.ned@example.com", Role::Handler, Some(ESC))
        .await;
    let a = create(&app, &complaint_body("KX-7001", "Ada Byron")).await;
    let b = create(&app, &complaint_body("KX-7002", "Bea Chen")).await;
    let c = create(&app, &complaint_body("KX-7003", "Cal Dunn")).await;
    to_stage_3(&app, &c).await;

    let mut max = Browser::signed_in_staff(&app, "cs.max@example.com").await;
    // The person is chosen from the department's people; nobody else can be given it.
    let case = max.case(&a).await;
    case.expect(200);
    assert!(
        case.body.contains("<select id=\"assign-handler\""),
        "{}",
        case.body
    );
    assert!(
        case.body
            .contains("Staff cs.lee@example.com (cs.lee@example.com)")
    );
    assert!(!case.body.contains("esc.ned@example.com"));
    for wrong in ["esc.ned@example.com", "cs.le@example.com", ""] {
        let refused = max.command(&a, "assign", &[("handler", wrong)]).await;
        refused.expect(422);
        assert!(refused.body.contains("There is a problem"), "{wrong}");
    }
    assert!(event_count(&app, &a).await == 1, "nothing was recorded");
    max.command(&a, "assign", &[("handler", "cs.lee@example.com")])
        .await
        .expect(303);
    // Shown by name, with the address that identifies them.
    let case = max.case(&a).await;
    assert!(
        case.body
            .contains("Staff cs.lee@example.com (cs.lee@example.com)")
    );
    let queue = max.get("/staff").await;
    assert!(queue.body.contains("Handler: Staff cs.lee@example.com"));

    // Lee's own cases: the one given to them, nothing else.
    let mut lee = Browser::signed_in_staff(&app, "cs.lee@example.com").await;
    let mine = lee.get("/staff/my").await;
    mine.expect(200);
    assert!(mine.body.contains(&format!("/staff/complaints/{a}\"")));
    assert!(!mine.body.contains(&format!("/staff/complaints/{b}\"")));
    // Unassigned: Customer Services' open complaints nobody holds (not the one at stage 3).
    let unassigned = lee.get("/staff/unassigned").await;
    unassigned.expect(200);
    assert!(
        unassigned
            .body
            .contains(&format!("/staff/complaints/{b}\""))
    );
    assert!(
        !unassigned
            .body
            .contains(&format!("/staff/complaints/{a}\""))
    );
    assert!(
        !unassigned
            .body
            .contains(&format!("/staff/complaints/{c}\""))
    );
    // A handler may take a complaint on, but the list offers only themselves.
    let case = lee.case(&b).await;
    assert!(
        !case
            .body
            .contains("cs.max@example.com (cs.max@example.com)")
    );
    lee.command(&b, "assign", &[("handler", "cs.lee@example.com")])
        .await
        .expect(303);
    let mine = lee.get("/staff/my").await;
    assert!(mine.body.contains(&format!("/staff/complaints/{b}\"")));

    // The API refuses to give a complaint to someone Redress knows is in another team.
    let token = app
        .token(Role::TeamManager, Some(CS), Some("cs.max@example.com"))
        .await;
    let (status, problem) = app
        .command(
            &token,
            &b,
            "assign",
            json!({"handler": "esc.ned@example.com"}),
        )
        .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["code"], "invalid_assignee", "{problem}");
    app.stop().await;
}

async fn attached_files_open_safely_for_staff(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    app.staff_account("cs.ola@example.com", Role::Handler, Some(CS))
        .await;
    let reference = create(&app, &complaint_body("KX-8001", "Ola Nordmann")).await;
    let parsed = Reference::parse(&reference).expect("a reference");
    // Two files the customer sent: a PDF, and a page that would run script if it were opened
    // as one of ours.
    let pdf = b"%PDF-1.4\n% a scan of a bill\n".to_vec();
    let html = b"<script>alert(document.cookie)</script>".to_vec();
    let mut attachments = Vec::new();
    for (bytes, name, content_type) in [
        (&pdf, "bill March.pdf", "application/pdf"),
        (&html, "page\".html", "text/html"),
    ] {
        let sha256 = redress::files::keep(app.files_dir.clone(), bytes.clone())
            .await
            .expect("kept");
        attachments.push(redress::store::NewAttachment {
            sha256,
            filename: name.to_owned(),
            content_type: content_type.to_owned(),
            size: bytes.len() as i64,
            uploaded_by: "customer".to_owned(),
        });
    }
    let command = redress_core::Command {
        by: Actor::system(),
        action: redress_core::Action::ReceiveEvidence {
            request: None,
            description: Some("Two files".into()),
            channel: None,
        },
    };
    let outcome = app
        .store
        .run_command_with_files(&parsed, command, app.clock.now(), &attachments)
        .await
        .expect("recorded");
    assert!(outcome.refusal.is_none(), "{:?}", outcome.refusal);
    let files = app.store.attachments(&reference).await.expect("listed");
    assert_eq!(files.len(), 2);

    let mut ola = Browser::signed_in_staff(&app, "cs.ola@example.com").await;
    let case = ola.case(&reference).await;
    let pdf_href = format!("/staff/complaints/{reference}/files/{}", files[0].id);
    let html_href = format!("/staff/complaints/{reference}/files/{}", files[1].id);
    assert!(case.body.contains(&pdf_href) && case.body.contains(&html_href));
    // A PDF opens in the browser, as itself.
    let opened = ola.get(&pdf_href).await;
    opened.expect(200);
    assert_eq!(opened.body.as_bytes(), pdf.as_slice());
    assert_eq!(opened.headers["content-type"], "application/pdf");
    assert!(
        opened.headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("inline;")
    );
    assert_eq!(opened.headers["x-content-type-options"], "nosniff");
    // Anything else is a download, never a page of ours, and runs nothing.
    let page = ola.get(&html_href).await;
    page.expect(200);
    assert_eq!(page.headers["content-type"], "application/octet-stream");
    let disposition = page.headers["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"page_.html\""),
        "{disposition}"
    );
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("sandbox") && csp.contains("default-src 'none'"),
        "{csp}"
    );
    // No such file, a file of another complaint, and nobody signed in.
    ola.get(&format!("/staff/complaints/{reference}/files/999999"))
        .await
        .expect(404);
    let other = create(&app, &complaint_body("KX-8002", "Per Hansen")).await;
    ola.get(&format!("/staff/complaints/{other}/files/{}", files[0].id))
        .await
        .expect(404);
    let mut stranger = Browser::new(&app);
    let refused = stranger.get(&pdf_href).await;
    assert_ne!(refused.status, 200);
    assert!(!refused.body.contains("a scan of a bill"));
    // A file changed on the disk is not served as the one attached.
    std::fs::write(app.files_dir.join(&files[0].sha256), b"%PDF-1.4 forged").expect("write");
    let damaged = ola.get(&pdf_href).await;
    damaged.expect(500);
    assert!(!damaged.body.contains("forged"));
    app.stop().await;
}

async fn a_telephone_complaint_is_recorded_from_the_staff_pages(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    app.staff_account("cs.vic@example.com", Role::Handler, Some(CS))
        .await;
    let earlier = create(&app, &complaint_body("KX-9001", "Vera Lynn")).await;
    let mut vic = Browser::signed_in_staff(&app, "cs.vic@example.com").await;

    // Looking the account up first shows the customer's other complaint.
    let form = vic.get("/staff/complaints/new?account=KX-9001").await;
    form.expect(200);
    assert!(
        form.body
            .contains(&format!("/staff/complaints/{earlier}\""))
    );
    let csrf = form.csrf_token();
    let submission = hidden(&form.body, "submission");
    let mut fields = vec![
        ("csrf", csrf.clone()),
        ("submission", submission.clone()),
        ("channel", "telephone".to_owned()),
        ("received_date", "2026-03-01".to_owned()),
        ("received_time", "14:05".to_owned()),
        ("name", String::new()),
        ("account", "KX-9001".to_owned()),
        ("telephone", "0161 496 0123".to_owned()),
        ("postcode", "M22 4SY".to_owned()),
        ("contact", "telephone".to_owned()),
        (
            "summary",
            "Line dead since Friday; she relies on it for a care alarm".to_owned(),
        ),
        ("category", "faults_service_provision".to_owned()),
        ("needs", "large_print".to_owned()),
        ("vulnerabilities", "Relies on a telecare alarm".to_owned()),
    ];
    let as_refs = |fields: &[(&str, String)]| -> Vec<(String, String)> {
        fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    };
    let send = |fields: Vec<(String, String)>| {
        let pairs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        serde_urlencoded::to_string(pairs).expect("a form")
    };
    // Missing the name: the error is said, and everything typed is kept.
    let refused = vic
        .post_body("/staff/complaints", &send(as_refs(&fields)))
        .await;
    refused.expect(422);
    assert!(
        refused.body.contains("Enter the customer&#39;s full name"),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("care alarm"));
    // Received tomorrow: refused.
    fields[5].1 = "Vera Lynn".to_owned();
    fields[3].1 = "2026-03-03".to_owned();
    let future = vic
        .post_body("/staff/complaints", &send(as_refs(&fields)))
        .await;
    future.expect(422);
    assert!(
        future
            .body
            .contains("cannot have reached us later than now")
    );
    // Recorded, as received on the telephone yesterday afternoon (London time).
    fields[3].1 = "2026-03-01".to_owned();
    let done = vic
        .post_body("/staff/complaints", &send(as_refs(&fields)))
        .await;
    done.expect(303);
    let location = done.location.clone().expect("to the case page");
    assert!(location.starts_with("/staff/complaints/") && location.ends_with("?done=recorded"));
    let reference = location
        .trim_start_matches("/staff/complaints/")
        .trim_end_matches("?done=recorded")
        .to_owned();
    let view = app
        .store
        .get_complaint(&Reference::parse(&reference).expect("a reference"))
        .await
        .expect("recorded");
    let c = &view.complaint;
    assert_eq!(c.channel, redress_core::Channel::Telephone);
    assert_eq!(c.first_received_at, ts("2026-03-01T14:05:00Z"));
    assert_eq!(c.customer.name, "Vera Lynn");
    assert_eq!(
        c.customer.accessibility_needs,
        vec!["Large print".to_owned()]
    );
    assert_eq!(
        c.customer.vulnerabilities,
        vec!["Relies on a telecare alarm".to_owned()]
    );
    let case = vic.get(&location).await;
    case.expect(200);
    assert!(case.body.contains("The complaint is recorded"));
    // Sent again (a double click): the same complaint, not a second one.
    let again = vic
        .post_body("/staff/complaints", &send(as_refs(&fields)))
        .await;
    again.expect(303);
    assert_eq!(again.location.as_deref(), Some(location.as_str()));
    // Without the form's token: refused, nothing recorded.
    let before = app
        .store
        .list_complaints(&redress::store::ComplaintFilter {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .items
        .len();
    fields[0].1 = "forged".to_owned();
    fields[1].1 = "0".repeat(64);
    let forged = vic
        .post_body("/staff/complaints", &send(as_refs(&fields)))
        .await;
    forged.expect(403);
    let after = app
        .store
        .list_complaints(&redress::store::ComplaintFilter {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .items
        .len();
    assert_eq!(before, after);
    app.stop().await;
}

async fn search_finds_any_complaint_at_any_stage(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    app.staff_account("cs.sam@example.com", Role::Handler, Some(CS))
        .await;
    let mut body = complaint_body("KX-5501", "Grace Okafor");
    body["customer"]["telephone"] = json!("07700 900461");
    body["customer"]["postcode"] = json!("LS1 4AP");
    body["customer"]["email"] = json!("grace@example.net");
    body["summary"] = json!("Router replaced twice, still no dial tone on the landline");
    let moved = create(&app, &body).await;
    let other = create(&app, &complaint_body("KX-5502", "Henry Ward")).await;
    to_stage_3(&app, &moved).await;

    let mut cs = Browser::signed_in_staff(&app, "cs.sam@example.com").await;
    // Their queue holds only Customer Services' complaints: the one at stage 3 is not there.
    let queue = cs.get(&format!("/staff?q={moved}")).await;
    queue.expect(200);
    assert!(!queue.body.contains(&format!("/staff/complaints/{moved}")));
    // The search finds it by every detail, however it is typed, and nothing else.
    for q in [
        moved.as_str(),
        "kx-5501",
        "okafor",
        "Grace Oka",
        "grace@example.net",
        "+44 7700 900461",
        "07700900461",
        "ls14ap",
        "LS1 4AP",
        "dial tone",
        "landline",
    ] {
        let found = cs.get(&format!("/staff/search?q={}", urlencoding(q))).await;
        found.expect(200);
        assert!(
            found.body.contains(&format!("/staff/complaints/{moved}\"")),
            "{q} finds {moved}"
        );
        assert!(
            !found.body.contains(&format!("/staff/complaints/{other}\"")),
            "{q} finds only {moved}"
        );
    }
    let none = cs.get("/staff/search?q=nobody+like+this").await;
    none.expect(200);
    assert!(none.body.contains("There are no complaints to show"));
    // Their case page opens, though acting on it is for stage 3's department.
    let case = cs.get(&format!("/staff/complaints/{moved}")).await;
    case.expect(200);
    assert!(case.body.contains("Grace Okafor"));
    // Searching says what went wrong with too long a search, and keeps what was typed.
    let long = cs
        .get(&format!("/staff/search?q={}", "x".repeat(101)))
        .await;
    long.expect(422);
    assert!(long.body.contains("Search for at most 100 characters"));
    app.stop().await;
}

/// Percent-encodes a query value.
fn urlencoding(value: &str) -> String {
    serde_urlencoded::to_string([("q", value)])
        .expect("encodes")
        .trim_start_matches("q=")
        .to_owned()
}

async fn the_dashboard_counts_open_due_overdue_and_adr_eligible(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    app.staff_account("cs.manager@example.com", Role::TeamManager, Some(CS))
        .await;
    let a = create(&app, &complaint_body("ACC-20", "Open One")).await;
    let _b = create(&app, &complaint_body("ACC-21", "Open Two")).await;
    let resolved = create(&app, &complaint_body("ACC-22", "Resolved")).await;
    api_command(
        &app,
        CS,
        &resolved,
        "offer_resolution",
        json!({"text": "A refund"}),
    )
    .await;
    api_command(&app, CS, &resolved, "accept_resolution", json!({})).await;
    let late = create(&app, &complaint_body("ACC-23", "Going Late")).await;
    to_stage_3(&app, &late).await;
    let deadlocked = create(&app, &complaint_body("ACC-24", "Deadlocked")).await;
    to_stage_3(&app, &deadlocked).await;
    api_command(&app, CR, &deadlocked, "issue_deadlock_letter", json!({})).await;
    // An evidence request on a stage 1 complaint, due by 1 April (in the week from 26 March).
    api_command(
        &app,
        CS,
        &a,
        "request_evidence",
        json!({"from": "customer", "due_days": 30}),
    )
    .await;

    // 25 March: the late one's response is due by 30 March, within the week.
    app.clock.set(ts("2026-03-25T10:00:00Z"));
    let mut manager = Browser::signed_in_staff(&app, "cs.manager@example.com").await;
    let page = manager.get("/staff/dashboard").await;
    page.expect(200);
    let body = &page.body;
    assert_eq!(body.matches("<h1").count(), 1);
    assert_eq!(row_cells(body, "Stage 1"), ["2", "0", "0", "0"], "{body}");
    assert_eq!(row_cells(body, "Stage 3"), ["2", "1", "0", "1"]);
    assert_eq!(row_cells(body, "Stage 5"), ["0", "0", "0", "0"]);
    assert_eq!(row_cells(body, "All stages"), ["4", "1", "0", "1"]);
    // The evidence falls due on 1 April: this week from 26 March.
    app.clock.set(ts("2026-03-26T10:00:00Z"));
    let mut manager = Browser::signed_in_staff(&app, "cs.manager@example.com").await;
    let body = manager.get("/staff/dashboard").await.body;
    assert_eq!(row_cells(&body, "Stage 1"), ["2", "1", "0", "0"]);
    // The chart: an image with a title, no scripts, no inline styles; the same figures.
    assert!(body.contains("<svg") && body.contains("role=\"img\""));
    assert!(body.contains("<title id=\"chart-stages-title\">Open complaints per stage</title>"));
    assert!(
        body.contains("Stage 1: 2; Stage 2: 0; Stage 3: 2; Stage 4: 0; Stage 5: 0"),
        "{body}"
    );
    assert!(!body.contains("style=") && !body.contains("<script"));

    // 1 April: the response is overdue.
    app.clock.set(ts("2026-04-01T09:00:00Z"));
    app.fire_deadlines().await;
    let mut manager = Browser::signed_in_staff(&app, "cs.manager@example.com").await;
    let body = manager.get("/staff/dashboard").await.body;
    assert_eq!(row_cells(&body, "Stage 3"), ["2", "0", "1", "1"], "{body}");
    assert_eq!(row_cells(&body, "All stages"), ["4", "1", "1", "1"]);
    // Administrators cannot read complaints, nor this.
    app.staff_account("admin@example.com", Role::Administrator, None)
        .await;
    let mut admin = Browser::signed_in_staff(&app, "admin@example.com").await;
    admin.get("/staff/dashboard").await.expect(403);
    admin.get("/staff").await.expect(403);
    app.stop().await;
}

/// A stage-1 complaint received 58 days ago and still unresolved is past the 8-week point: the
/// customer may go to the ombudsman, so it comes before fresh complaints whose clocks are far
/// off, and its row says why.
async fn a_complaint_past_the_ombudsman_point_leads_the_queue_and_says_so(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    app.staff_account("cs.pia@example.com", Role::Handler, Some(CS))
        .await;
    let fresh = create(&app, &complaint_body("ACC-20", "Fresh Complaint")).await;
    let mut old_body = complaint_body("ACC-21", "Long Waiting");
    // 58 days before the test's 2 March: 3 January.
    old_body["received_at"] = json!("2026-01-03T10:00:00Z");
    let old = create(&app, &old_body).await;
    let another = create(&app, &complaint_body("ACC-22", "Another Fresh")).await;

    let mut cs = Browser::signed_in_staff(&app, "cs.pia@example.com").await;
    let queue = cs.get("/staff").await;
    queue.expect(200);
    let body = &queue.body;
    let position = |reference: &str| body.find(reference).expect("listed");
    assert!(
        position(&old) < position(&fresh) && position(&old) < position(&another),
        "the complaint past the ombudsman point comes first:\n{body}"
    );
    assert!(
        body.contains(
            "8 weeks passed on 28 February 2026 with the complaint unresolved: the customer may go to the ombudsman"
        ),
        "{body}"
    );
    assert!(body.contains("Past the ombudsman point"), "{body}");
    assert!(!body.contains("No clock running"));
    app.stop().await;
}

/// Under a procedure whose later rules shorten the ADR period to 6 weeks, a complaint under
/// those rules is never described with "8 weeks" on the staff pages.
async fn staff_pages_speak_of_the_complaints_own_adr_period(db: Db) {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/procedure-six-weeks.toml"
    ))
    .expect("the example procedure");
    let procedure = redress_core::Procedure::from_toml(&text).expect("a valid procedure");
    let Some(app) = support::spawn_app_with(db, procedure).await else {
        return;
    };
    app.clock.set(ts("2027-05-20T09:00:00Z"));
    app.staff_account("cs.quin@example.com", Role::Handler, Some(CS))
        .await;
    let fresh = create(&app, &complaint_body("ACC-30", "Under Six Weeks")).await;
    let mut late = complaint_body("ACC-31", "Late Under Six Weeks");
    late["received_at"] = json!("2027-04-05T09:00:00Z");
    let late = create(&app, &late).await;
    let mut cs = Browser::signed_in_staff(&app, "cs.quin@example.com").await;
    let queue = cs.get("/staff").await;
    queue.expect(200);
    let mut pages = vec![queue.body.clone()];
    pages.push(cs.case(&fresh).await.body);
    pages.push(cs.case(&late).await.body);
    for page in &pages {
        assert!(!page.contains("8 weeks"), "{page}");
        assert!(!page.contains("8-week"), "{page}");
    }
    assert!(
        pages[0].contains("6 weeks passed on 17 May 2027 with the complaint unresolved"),
        "{}",
        pages[0]
    );
    assert!(pages[1].contains("6 weeks pass in 42 days"), "{}", pages[1]);
    assert!(pages[1].contains("6-week ombudsman point"), "{}", pages[1]);
    app.stop().await;
}

async fn the_history_is_newest_first_and_filtered(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    app.staff_account("cs.hist@example.com", Role::Handler, Some(CS))
        .await;
    let reference = create(&app, &complaint_body("ACC-H", "Hana Stone")).await;
    let mut staff = Browser::signed_in_staff(&app, "cs.hist@example.com").await;
    staff
        .command(&reference, "acknowledge", &[])
        .await
        .expect(303);
    staff
        .command(&reference, "add_note", &[("text", "Rang back at 4pm")])
        .await
        .expect(303);
    let timeline = |body: &str| -> String {
        let start = body.find("<ol class=\"timeline\"").expect("the history");
        let end = start + body[start..].find("</ol>").expect("its end");
        body[start..end].to_owned()
    };
    let page = staff.case(&reference).await;
    let all = timeline(&page.body);
    let note = all.find("Rang back at 4pm").expect("the note");
    let acknowledged = all.find("acknowledged").expect("the acknowledgement");
    let received = all.find("received").expect("the complaint");
    assert!(
        note < acknowledged && acknowledged < received,
        "newest first: {all}"
    );
    assert!(
        page.body
            .contains("<option value=\"notes\">Notes and calls</option>")
    );

    let notes = staff
        .get(&format!("/staff/complaints/{reference}?history=notes"))
        .await;
    notes.expect(200);
    let shown = timeline(&notes.body);
    assert!(shown.contains("Rang back at 4pm"), "{shown}");
    assert!(!shown.contains("acknowledged"), "{shown}");
    assert!(notes.body.contains("Only part of the history is shown"));
    assert!(notes.body.contains("<option value=\"notes\" selected>"));

    let staff_only = staff
        .get(&format!("/staff/complaints/{reference}?history=staff"))
        .await;
    let shown = timeline(&staff_only.body);
    assert!(
        shown.contains("acknowledged") && shown.contains("Rang back"),
        "{shown}"
    );

    let system = staff
        .get(&format!("/staff/complaints/{reference}?history=system"))
        .await;
    assert!(
        system.body.contains("Nothing of this kind has happened"),
        "{}",
        system.body
    );
    assert_eq!(timeline(&system.body).matches("<li>").count(), 0);

    // An unknown choice shows everything.
    let unknown = staff
        .get(&format!("/staff/complaints/{reference}?history=<b>"))
        .await;
    unknown.expect(200);
    assert_eq!(timeline(&unknown.body), all);
    app.stop().await;
}

async fn a_duplicate_offer_is_said_and_an_offer_is_withdrawn_on_the_record(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    app.staff_account("cs.comp@example.com", Role::Handler, Some(CS))
        .await;
    let reference = create(&app, &complaint_body("ACC-W", "Wyn Jones")).await;
    api_command(&app, CS, &reference, "establish_fault", json!({})).await;
    let mut staff = Browser::signed_in_staff(&app, "cs.comp@example.com").await;
    staff
        .command(&reference, "offer_compensation", &[("amount", "25.00")])
        .await
        .expect(303);
    let before = event_count(&app, &reference).await;
    // The same amount again while the first is open: said, and nothing recorded.
    let again = staff
        .command(&reference, "offer_compensation", &[("amount", "25.00")])
        .await;
    assert_eq!(again.status, 409, "{}", again.body);
    assert!(
        again.body.contains("offer 1 of £25.00 is already open"),
        "{}",
        again.body
    );
    assert_eq!(event_count(&app, &reference).await, before);
    // Withdrawn with a reason (the form is offered), then the same amount may go again.
    let page = staff.case(&reference).await;
    assert!(
        page.body.contains("Withdraw a compensation offer"),
        "{}",
        page.body
    );
    staff
        .command(&reference, "withdraw_offer", &[("reason", "")])
        .await
        .expect(422);
    staff
        .command(
            &reference,
            "withdraw_offer",
            &[("offer", "1"), ("reason", "Sent twice by mistake")],
        )
        .await
        .expect(303);
    let page = staff.case(&reference).await;
    assert!(
        page.body
            .contains("withdrew compensation offer 1 of £25.00: Sent twice by mistake"),
        "{}",
        page.body
    );
    // The API records it as an event of its own.
    let token = api_token(&app, CS).await;
    let complaint = app.complaint_json(&token, &reference).await;
    let last = complaint["events"]
        .as_array()
        .expect("events")
        .last()
        .cloned();
    assert_eq!(last.expect("an event")["event"], "compensation_withdrawn");
    staff
        .command(&reference, "offer_compensation", &[("amount", "25.00")])
        .await
        .expect(303);
    app.stop().await;
}

async fn the_customers_details_are_updated_from_the_case_page(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    app.staff_account("cs.upd@example.com", Role::Handler, Some(CS))
        .await;
    let reference = create(&app, &complaint_body("ACC-U", "Una Price")).await;
    let mut staff = Browser::signed_in_staff(&app, "cs.upd@example.com").await;
    let page = staff.case(&reference).await;
    assert!(
        page.body.contains("Update the customer&#39;s details")
            || page.body.contains("Update the customer's details"),
        "{}",
        page.body
    );
    // Checked as at intake, and what was typed comes back.
    let bad = staff
        .command(
            &reference,
            "update_customer",
            &[("email", "una@example.com,evil@x.com")],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body.contains("one address"), "{}", bad.body);
    staff
        .command(
            &reference,
            "update_customer",
            &[
                ("name", "Una Price-Jones"),
                ("telephone", "0161 496 0123"),
                ("accessibility_needs", "Large print\nBSL interpreter"),
            ],
        )
        .await
        .expect(303);
    let token = api_token(&app, CS).await;
    let complaint = app.complaint_json(&token, &reference).await;
    assert_eq!(
        complaint["customer"]["name"], "Una Price-Jones",
        "{complaint}"
    );
    assert_eq!(complaint["customer"]["telephone"], "0161 496 0123");
    assert_eq!(
        complaint["customer"]["accessibility_needs"],
        json!(["Large print", "BSL interpreter"])
    );
    let last = complaint["events"]
        .as_array()
        .expect("events")
        .last()
        .cloned()
        .expect("an event");
    assert_eq!(last["event"], "customer_updated", "{last}");
    // The lists and the search follow: the new name is listed, the new number found.
    let (_, found) = app
        .get_json(Some(&token), "/api/v1/complaints?q=01614960123")
        .await;
    let items = found["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{found}");
    assert_eq!(items[0]["customer_name"], "Una Price-Jones", "{found}");
    let page = staff.case(&reference).await;
    assert!(
        page.body.contains(
            "updated the customer&#39;s details: name, telephone number, accessibility needs"
        ) || page.body.contains(
            "updated the customer's details: name, telephone number, accessibility needs"
        ),
        "{}",
        page.body
    );
    // Through the API too.
    let (status, answer) = app
        .command(
            &token,
            &reference,
            "update_customer",
            json!({"vulnerabilities": ["Recently bereaved"], "preferred_channel": "letter"}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let complaint = app.complaint_json(&token, &reference).await;
    assert_eq!(complaint["customer"]["preferred_channel"], "letter");
    assert_eq!(
        complaint["customer"]["vulnerabilities"],
        json!(["Recently bereaved"])
    );
    app.stop().await;
}

async fn the_case_page_works_out_automatic_compensation_and_records_it(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    app.staff_account("cs.hal@example.com", Role::Handler, Some(CS))
        .await;
    let reference = create(&app, &complaint_body("ACC-9", "Ada Lovelace")).await;
    let mut cs = Browser::signed_in_staff(&app, "cs.hal@example.com").await;
    // Reported at 10:00 on the May bank holiday 2026 (London), restored on Saturday at 15:00.
    let page = cs
        .get(&format!(
            "/staff/complaints/{reference}?quote_kind=delayed_repair&quote_reported=2026-05-04T10%3A00&quote_restored=2026-05-09T15%3A00&quote_nation=england_and_wales"
        ))
        .await;
    page.expect(200);
    assert!(page.body.contains("Amount: £31.02"), "{}", page.body);
    assert!(page.body.contains("Tue 5 May 2026 and Wed 6 May 2026"));
    // A question missing a field is answered with what is missing, not an amount.
    let page = cs
        .get(&format!(
            "/staff/complaints/{reference}?quote_kind=missed_appointment"
        ))
        .await;
    page.expect(200);
    assert!(
        page.body.contains("Missed_appointment needs date"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("Amount: £"));
    // The payment is recorded from the usual form: no fault finding, no approval.
    let page = cs
        .command(
            &reference,
            "record_automatic_compensation",
            &[("kind", "delayed_repair"), ("amount", "31.02")],
        )
        .await;
    page.expect(303);
    let view = app
        .store
        .get_complaint(&redress_core::Reference::parse(&reference).expect("a reference"))
        .await
        .expect("the complaint");
    assert_eq!(view.complaint.automatic_compensation.len(), 1);
    assert_eq!(view.complaint.automatic_compensation[0].amount_pence, 3102);
    app.stop().await;
}
