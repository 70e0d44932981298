//! Black-box tests of the customer portal (`/`, `/complain`, `/my...`), each run on SQLite and
//! on PostgreSQL, through the shared browser (`support::browser`), which keeps cookies and does
//! not follow redirects, so the tests see every step.
#[macro_use]
mod support;

use std::path::PathBuf;

use redress::clock::Clock;
use redress::store::ComplaintFilter;
use redress_core::{Action, Actor, Channel, Command, Reference, Role, Stage};
use support::browser::{Browser, Page, hidden};
use support::{Db, TestApp, spawn_app};

both_backends! {
    email_is_offered_only_where_the_procedure_gives_an_address =>
        sqlite_email_is_offered_only_where_the_procedure_gives_an_address,
        postgres_email_is_offered_only_where_the_procedure_gives_an_address;
    letters_are_read_in_the_pages_by_staff_and_by_their_customer =>
        sqlite_letters_are_read_in_the_pages_by_staff_and_by_their_customer,
        postgres_letters_are_read_in_the_pages_by_staff_and_by_their_customer;
    portal_pages_speak_of_the_complaints_own_adr_period =>
        sqlite_portal_pages_speak_of_the_complaints_own_adr_period,
        postgres_portal_pages_speak_of_the_complaints_own_adr_period;
    the_home_page_points_the_way =>
        sqlite_the_home_page_points_the_way,
        postgres_the_home_page_points_the_way;
    a_complaint_made_on_the_web_is_recorded_with_its_needs =>
        sqlite_a_complaint_made_on_the_web_is_recorded_with_its_needs,
        postgres_a_complaint_made_on_the_web_is_recorded_with_its_needs;
    validation_errors_keep_values_and_link_to_fields =>
        sqlite_validation_errors_keep_values_and_link_to_fields,
        postgres_validation_errors_keep_values_and_link_to_fields;
    a_form_without_its_csrf_token_is_refused_and_nothing_is_stored =>
        sqlite_a_form_without_its_csrf_token_is_refused_and_nothing_is_stored,
        postgres_a_form_without_its_csrf_token_is_refused_and_nothing_is_stored;
    reference_and_postcode_sign_in_works_and_a_wrong_postcode_does_not =>
        sqlite_reference_and_postcode_sign_in_works_and_a_wrong_postcode_does_not,
        postgres_reference_and_postcode_sign_in_works_and_a_wrong_postcode_does_not;
    an_emailed_link_signs_the_customer_in_once =>
        sqlite_an_emailed_link_signs_the_customer_in_once,
        postgres_an_emailed_link_signs_the_customer_in_once;
    a_customer_cannot_open_another_customers_complaint =>
        sqlite_a_customer_cannot_open_another_customers_complaint,
        postgres_a_customer_cannot_open_another_customers_complaint;
    staff_only_notes_and_names_never_reach_the_customer =>
        sqlite_staff_only_notes_and_names_never_reach_the_customer,
        postgres_staff_only_notes_and_names_never_reach_the_customer;
    script_in_a_summary_is_shown_as_text =>
        sqlite_script_in_a_summary_is_shown_as_text,
        postgres_script_in_a_summary_is_shown_as_text;
    the_customer_escalates_from_the_portal_after_an_offer =>
        sqlite_the_customer_escalates_from_the_portal_after_an_offer,
        postgres_the_customer_escalates_from_the_portal_after_an_offer;
    the_customer_asks_for_a_managers_review_after_the_formal_response =>
        sqlite_the_customer_asks_for_a_managers_review_after_the_formal_response,
        postgres_the_customer_asks_for_a_managers_review_after_the_formal_response;
    files_are_taken_within_the_limits_and_refused_outside_them =>
        sqlite_files_are_taken_within_the_limits_and_refused_outside_them,
        postgres_files_are_taken_within_the_limits_and_refused_outside_them;
    signing_out_ends_the_session =>
        sqlite_signing_out_ends_the_session,
        postgres_signing_out_ends_the_session;
    an_account_number_and_postcode_never_open_someone_elses_complaints =>
        sqlite_an_account_number_and_postcode_never_open_someone_elses_complaints,
        postgres_an_account_number_and_postcode_never_open_someone_elses_complaints;
}

// ----- Helpers -----

/// The complaint reference shown on a page.
fn reference_on(body: &str) -> String {
    let start = body.find("CMP-").expect("a reference on the page");
    body[start..start + 15].to_owned()
}

struct Complainant<'a> {
    name: &'a str,
    account: &'a str,
    email: &'a str,
    postcode: &'a str,
    summary: &'a str,
}

const ANN: Complainant<'static> = Complainant {
    name: "Ann Example",
    account: "KX-1001",
    email: "ann@example.com",
    postcode: "M22 4SY",
    summary: "My broadband has dropped every evening for three weeks.",
};

const BOB: Complainant<'static> = Complainant {
    name: "Bob Private",
    account: "KX-2002",
    email: "bob@example.org",
    postcode: "SW1A 1AA",
    summary: "Bob's confidential summary about a billing error.",
};

/// Makes a complaint through the form; returns the confirmation page.
async fn complain(browser: &mut Browser, who: &Complainant<'_>) -> Page {
    let form = browser.get("/complain").await;
    assert_eq!(form.status, 200);
    let csrf = form.csrf_token();
    let submission = form.hidden("submission");
    browser
        .post_form(
            "/complain",
            &[
                ("csrf", &csrf),
                ("submission", &submission),
                ("name", who.name),
                ("account", who.account),
                ("email", who.email),
                ("telephone", "0161 465 0000"),
                ("postcode", who.postcode),
                ("address", "1 Example Street\nManchester"),
                ("contact", "email"),
                ("summary", who.summary),
                ("category", "faults_service_provision"),
            ],
        )
        .await
}

/// Makes a complaint as `who` in a browser of its own; returns the reference.
async fn complaint_of(app: &TestApp, who: &Complainant<'_>) -> String {
    let mut browser = Browser::new(app);
    let done = complain(&mut browser, who).await;
    assert_eq!(done.status, 200, "{}", done.body);
    reference_on(&done.body)
}

/// A member of staff acts on a complaint through the store.
async fn staff_does(app: &TestApp, reference: &str, department: &str, action: Action) {
    let reference = Reference::parse(reference).expect("a reference");
    let command = Command {
        by: Actor::staff(Role::Handler, department, Some("jo.bloggs")),
        action,
    };
    let outcome = app
        .store
        .run_command(&reference, command, app.clock.now())
        .await
        .expect("stored");
    assert!(
        outcome.refusal.is_none(),
        "staff command refused: {:?}",
        outcome.refusal
    );
}

async fn letters_are_read_in_the_pages_by_staff_and_by_their_customer(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let reference = complaint_of(&app, &ANN).await;
    let other = complaint_of(&app, &BOB).await;
    staff_does(
        &app,
        &reference,
        "customer_services",
        Action::RequestEvidence {
            from: redress_core::event::EvidenceSource::ThirdParty,
            due_days: 7,
            description: Some("The engineer's report".into()),
        },
    )
    .await;
    let letters = app
        .store
        .complaint_letters(&reference)
        .await
        .expect("letters");
    let to_customer = letters
        .iter()
        .find(|l| l.kind == "acknowledgement")
        .expect("an acknowledgement");
    let to_third_party = letters
        .iter()
        .find(|l| l.recipient == "third_party")
        .expect("a letter to the third party");
    let bobs = app.store.complaint_letters(&other).await.expect("letters")[0].id;

    // Staff: every letter listed on the case page, each readable, with its PDF.
    app.staff_account(
        "cs.una@example.com",
        Role::Handler,
        Some("customer_services"),
    )
    .await;
    let mut staff = Browser::signed_in_staff(&app, "cs.una@example.com").await;
    let case = staff.case(&reference).await;
    let staff_href = format!("/staff/complaints/{reference}/letters/{}", to_customer.id);
    let third_href = format!(
        "/staff/complaints/{reference}/letters/{}",
        to_third_party.id
    );
    assert!(case.body.contains(&staff_href) && case.body.contains(&third_href));
    let page = staff.get(&staff_href).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Ann Example") && page.body.contains(&reference));
    assert!(page.body.contains(&format!("{staff_href}.pdf")));
    let pdf = staff.get(&format!("{staff_href}.pdf")).await;
    assert_eq!(pdf.status, 200);
    assert_eq!(pdf.headers["content-type"], "application/pdf");
    assert!(pdf.body.starts_with("%PDF"));
    let third = staff.get(&third_href).await;
    assert_eq!(third.status, 200);
    assert!(third.body.contains("A third party asked for evidence"));
    // A letter is found only under its own complaint.
    let elsewhere = staff
        .get(&format!(
            "/staff/complaints/{other}/letters/{}",
            to_customer.id
        ))
        .await;
    assert_eq!(elsewhere.status, 404);

    // The customer: their own letters, not the third party's, not another customer's.
    let mut ann = Browser::signed_in_customer(&app, &reference, ANN.postcode).await;
    let mine = ann.get(&format!("/my/complaints/{reference}")).await;
    let href = format!("/my/complaints/{reference}/letters/{}", to_customer.id);
    assert!(mine.body.contains(&href), "{}", mine.body);
    let read = ann.get(&href).await;
    assert_eq!(read.status, 200);
    assert!(read.body.contains("Ann Example"));
    assert!(!read.body.contains("third party"));
    let pdf = ann.get(&format!("{href}.pdf")).await;
    assert_eq!(pdf.status, 200);
    assert!(pdf.body.starts_with("%PDF"));
    for path in [
        format!("/my/complaints/{reference}/letters/{}", to_third_party.id),
        format!(
            "/my/complaints/{reference}/letters/{}.pdf",
            to_third_party.id
        ),
        format!("/my/complaints/{reference}/letters/{bobs}"),
        format!("/my/complaints/{other}/letters/{bobs}"),
        format!("/my/complaints/{reference}/letters/nonsense"),
    ] {
        let refused = ann.get(&path).await;
        assert_eq!(refused.status, 404, "{path}");
        assert!(!refused.body.contains("Bob Private"), "{path}");
    }
    // Nobody signed in reads nothing.
    let mut stranger = Browser::new(&app);
    let refused = stranger.get(&href).await;
    assert_ne!(refused.status, 200);
    assert!(!refused.body.contains("Ann Example"));
    app.stop().await;
}

async fn complaint_count(app: &TestApp) -> usize {
    app.store
        .list_complaints(&ComplaintFilter {
            limit: 100,
            ..Default::default()
        })
        .await
        .expect("a list")
        .items
        .len()
}

/// Where the server keeps uploaded files: the test's own folder, on either database.
fn files_dir(app: &TestApp) -> PathBuf {
    app.files_dir.clone()
}

// ----- Scenarios -----

async fn the_home_page_points_the_way(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let mut browser = Browser::new(&app);
    let home = browser.get("/").await;
    assert_eq!(home.status, 200);
    for text in [
        "href=\"/complain\"",
        "href=\"/my\"",
        "href=\"/complaints-code\"",
        "0161 465 6655",
        "0161 465 6600",
        "ask for the escalation team",
    ] {
        assert!(home.body.contains(text), "home page lacks {text}");
    }
    assert_eq!(home.body.matches("<h1").count(), 1);
    app.stop().await;
}

async fn a_complaint_made_on_the_web_is_recorded_with_its_needs(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let mut browser = Browser::new(&app);
    let form = browser.get("/complain").await;
    assert_eq!(form.status, 200);
    assert_eq!(form.body.matches("<h1").count(), 1);
    for id in [
        "name",
        "account",
        "email",
        "telephone",
        "postcode",
        "address",
        "summary",
        "needs_other",
        "vulnerabilities",
    ] {
        assert!(
            form.body.contains(&format!("<label for=\"{id}\"")),
            "no label for {id}"
        );
    }
    assert!(
        form.body
            .contains("<legend>How would you like us to contact you?</legend>")
    );
    assert!(form.body.contains("General Condition C5"));
    assert!(form.body.contains("Sales and marketing: mis-selling"));
    let csrf = form.csrf_token();
    let submission = form.hidden("submission");
    let fields = [
        ("csrf", csrf.as_str()),
        ("submission", submission.as_str()),
        ("name", "Ann Example"),
        ("account", "KX-1001"),
        ("email", "ann@example.com"),
        ("telephone", "0161 465 0000"),
        ("postcode", "m22 4sy"),
        ("address", "1 Example Street\n\nManchester"),
        ("contact", "letter"),
        (
            "summary",
            "My broadband has dropped every evening for three weeks.",
        ),
        ("category", "faults_service_provision"),
        ("needs", "large_print"),
        ("needs", "bsl"),
        ("needs_other", "Please call after 2pm"),
        ("vulnerabilities", "I rely on the line for a\ncare alarm."),
    ];
    let done = browser.post_form("/complain", &fields).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(
        done.body
            .contains("Your reference is <strong>CMP-2026-000001</strong>")
    );
    assert!(done.body.contains("We will contact you by letter"));
    assert!(
        done.body
            .contains("Customer Services will look into your complaint")
    );
    assert!(done.body.contains("within 28 days"));
    // 8 weeks from 2 March 2026.
    assert!(
        done.body
            .contains("resolved by 27 April 2026 (8 weeks after you complained)"),
        "{}",
        done.body
    );
    assert!(done.body.contains("Ombudsman Services: Communications"));

    let view = app
        .store
        .get_complaint(&Reference::parse("CMP-2026-000001").expect("ref"))
        .await
        .expect("stored");
    let c = &view.complaint;
    assert_eq!(c.channel, Channel::Web);
    assert_eq!(c.stage, Stage::CUSTOMER_SERVICES);
    assert_eq!(c.category.as_deref(), Some("faults_service_provision"));
    assert_eq!(c.customer.name, "Ann Example");
    assert_eq!(c.customer.email.as_deref(), Some("ann@example.com"));
    assert_eq!(
        c.customer.postcode.as_ref().map(|p| p.as_str()),
        Some("M22 4SY")
    );
    assert_eq!(c.customer.address, ["1 Example Street", "Manchester"]);
    assert_eq!(c.customer.preferred_channel, Some(Channel::Letter));
    assert_eq!(
        c.customer.accessibility_needs,
        [
            "Large print",
            "British Sign Language (BSL)",
            "Please call after 2pm"
        ]
    );
    assert_eq!(
        c.customer.vulnerabilities,
        ["I rely on the line for a care alarm."]
    );
    assert_eq!(view.events[0].event.by, Actor::customer());

    // The same form sent again (a double click, a refresh) records nothing new.
    let again = browser.post_form("/complain", &fields).await;
    assert_eq!(again.status, 200);
    assert!(again.body.contains("CMP-2026-000001"));
    assert_eq!(complaint_count(&app).await, 1);
    app.stop().await;
}

async fn validation_errors_keep_values_and_link_to_fields(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let mut browser = Browser::new(&app);
    let form = browser.get("/complain").await;
    let csrf = form.csrf_token();
    let answer = browser
        .post_form(
            "/complain",
            &[
                ("csrf", &csrf),
                ("name", "Ann Example"),
                ("postcode", "NOT A POSTCODE"),
                ("contact", "email"),
                ("summary", "It keeps <breaking> & nobody calls back"),
                ("needs", "easy_read"),
            ],
        )
        .await;
    assert_eq!(answer.status, 422);
    let body = &answer.body;
    assert!(body.contains("<title>Error: Make a complaint"));
    assert!(body.contains("class=\"error-summary\""));
    for (field, words) in [
        ("account", "Enter your account number"),
        ("email", "Enter your email address"),
        ("postcode", "Enter a real postcode"),
        ("category", "Choose what your complaint is about"),
    ] {
        assert!(
            body.contains(&format!("<a href=\"#{field}\">{words}")),
            "the summary does not link {field}"
        );
        assert!(
            body.contains(&format!("id=\"{field}-error\"")),
            "{field} not marked"
        );
    }
    // Fields without a problem are not in the summary.
    assert!(!body.contains("href=\"#name\""));
    assert!(body.contains("aria-invalid=\"true\""));
    // What was typed is kept (escaped).
    assert!(body.contains("value=\"Ann Example\""));
    assert!(body.contains("value=\"NOT A POSTCODE\""));
    assert!(
        body.contains("It keeps &#60;breaking&#62; &#38; nobody calls back")
            || body.contains("It keeps &lt;breaking&gt; &amp; nobody calls back")
    );
    assert!(
        body.contains("value=\"email\" checked")
            || body.contains("value=\"email\" id=\"contact\" checked")
    );
    assert!(body.contains("value=\"easy_read\" checked"));
    assert_eq!(complaint_count(&app).await, 0);
    app.stop().await;
}

async fn a_form_without_its_csrf_token_is_refused_and_nothing_is_stored(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let fields = |csrf: &'static str| {
        vec![
            ("csrf", csrf),
            ("name", "Ann Example"),
            ("account", "KX-1001"),
            ("email", "ann@example.com"),
            ("postcode", "M22 4SY"),
            ("contact", "email"),
            ("summary", "Forged"),
            ("category", "other"),
        ]
    };
    // No cookie and no field: a cross-site form.
    let mut stranger = Browser::new(&app);
    let answer = stranger.post_form("/complain", &fields("")).await;
    assert_eq!(answer.status, 403);
    assert!(answer.body.contains("we have not received your complaint"));
    // A field that does not match the browser's cookie.
    let mut browser = Browser::new(&app);
    let _ = browser.get("/complain").await;
    let answer = browser
        .post_form(
            "/complain",
            &fields("0000000000000000000000000000000000000000000000000000000000000000"),
        )
        .await;
    assert_eq!(answer.status, 403);
    // The answers keep what was typed, so it can be sent again.
    assert!(answer.body.contains("value=\"KX-1001\""));
    assert_eq!(complaint_count(&app).await, 0);

    // Sign-in forms need it too.
    let answer = stranger
        .post_form(
            "/my/sign-in",
            &[("reference", "CMP-2026-000001"), ("postcode", "M22 4SY")],
        )
        .await;
    assert_eq!(answer.status, 403);
    assert!(!stranger.has_customer_session());
    app.stop().await;
}

async fn reference_and_postcode_sign_in_works_and_a_wrong_postcode_does_not(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let reference = complaint_of(&app, &ANN).await;

    let mut browser = Browser::new(&app);
    // Not signed in: the complaint pages send you to sign in.
    let page = browser.get("/my/complaints").await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location.as_deref(), Some("/my"));

    let wrong = browser.sign_in_customer(&reference, "SW1A 1AA").await;
    assert_eq!(wrong.status, 422);
    assert!(
        wrong
            .body
            .contains("We could not find a complaint with that reference and postcode")
    );
    assert!(wrong.body.contains(&format!("value=\"{reference}\"")));
    assert!(!browser.has_customer_session());

    let bad = browser.sign_in_customer("not a reference", "M22 4SY").await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("href=\"#sign-in-reference\""));

    // The postcode is matched however it is written.
    let right = browser
        .sign_in_customer(&reference.to_lowercase(), "m224sy")
        .await;
    assert_eq!(right.status, 303, "{}", right.body);
    assert_eq!(right.location.as_deref(), Some("/my/complaints"));
    assert!(browser.has_customer_session());
    let list = browser.get("/my/complaints").await;
    assert_eq!(list.status, 200);
    assert!(
        list.body
            .contains(&format!("href=\"/my/complaints/{reference}\""))
    );
    assert!(list.body.contains("Stage 1: Customer Services"));
    let page = browser.get(&format!("/my/complaints/{reference}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(ANN.summary));
    assert!(
        page.body
            .contains("Who is handling it</dt><dd>Customer Services")
    );
    assert!(
        page.body
            .contains("If your complaint is not resolved by 27 April 2026")
    );
    assert!(page.body.contains("0330 440 1614"));
    assert!(page.body.contains("12 months"));
    // Signed in, /my goes straight to the complaints.
    assert_eq!(
        browser.get("/my").await.location.as_deref(),
        Some("/my/complaints")
    );

    // Failures are throttled per reference, like staff sign-in: after five, even the right
    // postcode waits.
    let mut guesser = Browser::new(&app);
    for _ in 0..4 {
        assert_eq!(
            guesser.sign_in_customer(&reference, "B1 1AA").await.status,
            422
        );
    }
    let throttled = guesser.sign_in_customer(&reference, "M22 4SY").await;
    assert_eq!(throttled.status, 429);
    assert!(throttled.body.contains("too many times"));
    assert!(
        throttled.body.contains("Please wait 2 seconds"),
        "{}",
        throttled.body
    );
    assert!(!guesser.has_customer_session());
    // A wait that grows with each failure, never a lock-out of the real customer: once it
    // has passed the right postcode works.
    app.clock
        .set(app.clock.now() + jiff::SignedDuration::from_secs(3));
    let mut owner = Browser::new(&app);
    assert_eq!(
        owner.sign_in_customer(&reference, "M22 4SY").await.status,
        303
    );

    // Guessing across references from one address pauses that address, whatever reference
    // it tries next.
    let mut statuses = Vec::new();
    for n in 0..redress::web::throttle::ADDRESS_LIMIT {
        let page = guesser
            .sign_in_customer(&format!("CMP-2026-9{n:05}"), "B1 1AA")
            .await;
        statuses.push(page.status);
        if page.status == 429 {
            break;
        }
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    assert_eq!(
        guesser.sign_in_customer(&reference, "M22 4SY").await.status,
        429
    );
    app.stop().await;
}

async fn an_emailed_link_signs_the_customer_in_once(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let reference = complaint_of(&app, &ANN).await;
    let mut browser = Browser::new(&app);
    let page = browser.get("/my").await;
    let csrf = page.csrf_token();

    let known = browser
        .post_form("/my/link", &[("csrf", &csrf), ("email", "ANN@example.com")])
        .await;
    let unknown = browser
        .post_form(
            "/my/link",
            &[("csrf", &csrf), ("email", "nobody@example.com")],
        )
        .await;
    assert_eq!(known.status, 200);
    assert_eq!(unknown.status, 200);
    // The same answer either way, so addresses cannot be probed.
    assert_eq!(
        known.body.replace("ANN@example.com", "X"),
        unknown.body.replace("nobody@example.com", "X")
    );
    assert!(known.body.contains("If we have a complaint for"));

    let rows = sqlx::query("SELECT payload FROM outbox WHERE kind = 'sign_in_link'")
        .fetch_all(app.store.pool())
        .await
        .expect("outbox");
    assert_eq!(rows.len(), 1, "one email, to the known address only");
    let payload: String = sqlx::Row::try_get(&rows[0], "payload").expect("payload");
    let payload: serde_json::Value = serde_json::from_str(&payload).expect("json");
    assert_eq!(payload["to"], "ann@example.com");
    let link = payload["link"].as_str().expect("a link");
    let path = &link[link.find("/my/link/").expect("the link path")..];
    let token = path.trim_start_matches("/my/link/").to_owned();
    // Once sent, the link is in the customer's mailbox and nowhere in the database: the
    // outbox keeps no copy, and the links table only its hash. (The complaint's own
    // acknowledgement, sent as it arrived from the web, goes with it.)
    assert_eq!(app.send_letters().await, 2);
    let rows = sqlx::query("SELECT payload, sent_at FROM outbox WHERE kind = 'sign_in_link'")
        .fetch_all(app.store.pool())
        .await
        .expect("outbox");
    let payload: String = sqlx::Row::try_get(&rows[0], "payload").expect("payload");
    assert!(
        !payload.contains(&token),
        "the sent link is still in the outbox: {payload}"
    );
    let sent: Option<i64> = sqlx::Row::try_get(&rows[0], "sent_at").expect("sent_at");
    assert!(sent.is_some());
    let links = sqlx::query("SELECT token_hash FROM customer_links")
        .fetch_all(app.store.pool())
        .await
        .expect("links");
    let stored: String = sqlx::Row::try_get(&links[0], "token_hash").expect("hash");
    assert_ne!(stored, token, "links are stored hashed");

    let mut other = Browser::new(&app);
    let used = other.get(path).await;
    assert_eq!(used.status, 303);
    assert_eq!(used.location.as_deref(), Some("/my/complaints"));
    assert!(other.has_customer_session());
    let list = other.get("/my/complaints").await;
    assert!(list.body.contains(&reference));
    // Once only.
    let mut third = Browser::new(&app);
    let again = third.get(path).await;
    assert_eq!(again.status, 410);
    assert!(!third.has_customer_session());
    app.stop().await;
}

async fn a_customer_cannot_open_another_customers_complaint(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let ann = complaint_of(&app, &ANN).await;
    let bob = complaint_of(&app, &BOB).await;
    staff_does(
        &app,
        &bob,
        "customer_services",
        Action::OfferResolution {
            text: "Bob's refund".into(),
        },
    )
    .await;
    let mut browser = Browser::signed_in_customer(&app, &ann, ANN.postcode).await;
    let list = browser.get("/my/complaints").await;
    assert!(list.body.contains(&ann));
    assert!(!list.body.contains(&bob));

    let theirs = browser.get(&format!("/my/complaints/{bob}")).await;
    let nobodys = browser.get("/my/complaints/CMP-2026-999999").await;
    assert_eq!(theirs.status, 404);
    assert_eq!(nobodys.status, 404);
    // Exactly the page of a complaint that does not exist: nothing says it is someone else's.
    assert_eq!(theirs.body, nobodys.body);
    for secret in [BOB.name, BOB.summary, "Bob", "SW1A", "refund"] {
        assert!(!theirs.body.contains(secret), "leaked {secret}");
    }
    let csrf = hidden(
        &browser.get(&format!("/my/complaints/{ann}")).await.body,
        "csrf",
    );
    let escalate = browser
        .post_form(
            &format!("/my/complaints/{bob}/escalate"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(escalate.status, 404);
    let upload = browser
        .post_multipart(
            &format!("/my/complaints/{bob}/evidence"),
            &[
                ("csrf", None, csrf.as_bytes()),
                ("description", None, b"sneaky"),
            ],
        )
        .await;
    assert_eq!(upload.status, 404);
    let view = app
        .store
        .get_complaint(&Reference::parse(&bob).expect("ref"))
        .await
        .expect("bob's");
    assert_eq!(view.complaint.stage, Stage::CUSTOMER_SERVICES);
    // Received and acknowledged (at once, from the web): nothing more.
    assert_eq!(view.events.len(), 3, "nothing was added to Bob's complaint");
    app.stop().await;
}

async fn staff_only_notes_and_names_never_reach_the_customer(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let reference = complaint_of(&app, &ANN).await;
    for action in [
        Action::AddNote {
            text: "Managers only: handler was rude".into(),
            restricted: true,
            about_staff: Some("sam.smith".into()),
        },
        Action::AddNote {
            text: "Internal: customer is on a retention offer".into(),
            restricted: false,
            about_staff: None,
        },
        Action::RecordCall {
            direction: Default::default(),
            summary: Some("Spoke to Ann about router lights".into()),
            duration_minutes: Some(12),
        },
        Action::Assign {
            handler: "jo.bloggs".into(),
        },
        Action::OfferResolution {
            text: "A credit of £10".into(),
        },
    ] {
        staff_does(&app, &reference, "customer_services", action).await;
    }
    let mut browser = Browser::signed_in_customer(&app, &reference, ANN.postcode).await;
    let page = browser.get(&format!("/my/complaints/{reference}")).await;
    assert_eq!(page.status, 200);
    for secret in [
        "handler was rude",
        "sam.smith",
        "retention offer",
        "router lights",
        "jo.bloggs",
        "added a note",
        "recorded a call",
        "Assigned",
    ] {
        assert!(!page.body.contains(secret), "the customer saw {secret}");
    }
    // What is theirs to see is there.
    assert!(page.body.contains("A credit of £10"));
    assert!(page.body.contains("Customer Services offered a resolution"));
    app.stop().await;
}

async fn script_in_a_summary_is_shown_as_text(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let mut browser = Browser::new(&app);
    let evil = Complainant {
        name: "<b>Ann</b>",
        summary: "<script>alert('x')</script> and \"quotes\"",
        ..ANN
    };
    let done = complain(&mut browser, &evil).await;
    assert_eq!(done.status, 200, "{}", done.body);
    let reference = reference_on(&done.body);
    let mut browser = Browser::signed_in_customer(&app, &reference, ANN.postcode).await;
    let page = browser.get(&format!("/my/complaints/{reference}")).await;
    assert!(!page.body.contains("<script>"));
    assert!(!page.body.contains("<b>Ann</b>"));
    assert!(page.body.contains("&#60;script&#62;") || page.body.contains("&lt;script&gt;"));
    // A strict policy stops scripts even if one got through.
    let response = reqwest::get(format!("{}/complain", app.address))
        .await
        .expect("answer");
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .expect("csp");
    assert!(csp.contains("script-src 'self'"));
    app.stop().await;
}

async fn the_customer_escalates_from_the_portal_after_an_offer(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let reference = complaint_of(&app, &ANN).await;
    let mut browser = Browser::signed_in_customer(&app, &reference, ANN.postcode).await;
    let path = format!("/my/complaints/{reference}");
    let page = browser.get(&path).await;
    let csrf = page.csrf_token();
    // No offer yet: no such form, and the core refuses if asked anyway.
    assert!(!page.body.contains("/escalate\""));
    let early = browser
        .post_form(
            &format!("{path}/escalate"),
            &[("csrf", &csrf), ("reason", "Fed up")],
        )
        .await;
    assert_eq!(early.status, 409);
    assert!(early.body.contains("class=\"refusal\""));
    assert!(early.body.contains(
        "Customer Services must offer a resolution before the complaint can be escalated"
    ));

    staff_does(
        &app,
        &reference,
        "customer_services",
        Action::OfferResolution {
            text: "A credit of £10".into(),
        },
    )
    .await;
    let page = browser.get(&path).await;
    assert!(page.body.contains("Our offer"));
    assert!(page.body.contains("I’m still not happy"));
    assert!(page.body.contains("/accept\""));

    // Without the session's token nothing happens.
    let forged = browser
        .post_form(&format!("{path}/escalate"), &[("csrf", "forged")])
        .await;
    assert_eq!(forged.status, 403);

    let escalated = browser
        .post_form(
            &format!("{path}/escalate"),
            &[
                ("csrf", &csrf),
                ("reason", "£10 does not cover three weeks"),
            ],
        )
        .await;
    assert_eq!(escalated.status, 303, "{}", escalated.body);
    assert_eq!(
        escalated.location.as_deref(),
        Some(format!("{path}?done=escalated").as_str())
    );
    let view = app
        .store
        .get_complaint(&Reference::parse(&reference).expect("ref"))
        .await
        .expect("stored");
    assert_eq!(view.complaint.stage, Stage::ESCALATION_TEAM);
    let last = &view.events.last().expect("events").event;
    assert_eq!(last.by, Actor::customer());

    let page = browser.get(&format!("{path}?done=escalated")).await;
    assert!(
        page.body
            .contains("Your complaint has been escalated to the Escalation Team")
    );
    assert!(page.body.contains("Stage 2 of 5: Escalation Team"));
    assert!(
        page.body
            .contains("Who is handling it</dt><dd>The Escalation Team")
    );
    assert!(page.body.contains("You did not accept the resolution"));
    // The letters written to the customer, not yet sent.
    assert!(page.body.contains("Our offer to resolve your complaint"));
    assert!(
        page.body
            .contains("Confirmation that your complaint was escalated")
    );
    assert!(page.body.contains("Being prepared"));
    app.stop().await;
}

async fn the_customer_asks_for_a_managers_review_after_the_formal_response(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let reference = complaint_of(&app, &ANN).await;
    staff_does(
        &app,
        &reference,
        "customer_services",
        Action::OfferResolution {
            text: "A credit".into(),
        },
    )
    .await;
    let mut browser = Browser::signed_in_customer(&app, &reference, ANN.postcode).await;
    let path = format!("/my/complaints/{reference}");
    let csrf = hidden(&browser.get(&path).await.body, "csrf");
    assert_eq!(
        browser
            .post_form(&format!("{path}/escalate"), &[("csrf", &csrf)])
            .await
            .status,
        303
    );
    staff_does(
        &app,
        &reference,
        "escalation_team",
        Action::TransferToResolution { reason: None },
    )
    .await;
    let page = browser.get(&path).await;
    // Transferred on 2 March: the response is due by 30 March.
    assert!(
        page.body
            .contains("We will send our formal written response by 30 March 2026")
    );
    assert!(!page.body.contains("/review\""));
    // At stage 3 the customer rings the Customer Resolution department, not Customer Services.
    assert!(
        page.body
            .contains("You can also telephone us on 0161 465 6600"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("0161 465 6655"));
    staff_does(
        &app,
        &reference,
        "customer_resolution",
        Action::IssueFormalResponse {
            text: Some("Our findings".into()),
        },
    )
    .await;
    let page = browser.get(&path).await;
    assert!(page.body.contains("Our formal written response"));
    assert!(page.body.contains("/review\""));
    let asked = browser
        .post_form(
            &format!("{path}/review"),
            &[("csrf", &csrf), ("text", "Please look again")],
        )
        .await;
    assert_eq!(asked.status, 303, "{}", asked.body);
    let view = app
        .store
        .get_complaint(&Reference::parse(&reference).expect("ref"))
        .await
        .expect("stored");
    assert_eq!(view.complaint.stage, Stage::RESOLUTION_MANAGER);
    let page = browser.get(&format!("{path}?done=review")).await;
    assert!(
        page.body
            .contains("The Customer Resolution Manager is reviewing your complaint")
    );
    assert!(
        page.body
            .contains("If your complaint is not resolved by 27 April 2026")
    );

    // Once the review's outcome is recorded, the page no longer says it is under way.
    staff_does(
        &app,
        &reference,
        "customer_resolution_manager",
        Action::RecordReviewOutcome {
            text: "We upheld the findings and add a goodwill credit".into(),
        },
    )
    .await;
    let page = browser.get(&path).await;
    assert!(
        !page.body.contains("is reviewing your complaint"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains(
            "The Customer Resolution Manager has reviewed your complaint, and we have sent you the outcome of the review."
        ),
        "{}",
        page.body
    );

    // A deadlock letter opens the way to the ombudsman at once, for 12 months.
    staff_does(
        &app,
        &reference,
        "customer_resolution_manager",
        Action::IssueDeadlockLetter { text: None },
    )
    .await;
    let page = browser.get(&path).await;
    assert!(page.body.contains(
        "Because we have sent you a deadlock letter, you can take your complaint to Ombudsman Services: Communications now."
    ));
    assert!(page.body.contains("You have until 2 March 2027"));
    assert!(page.body.contains("Deadlock letter (our final position)"));
    app.stop().await;
}

async fn files_are_taken_within_the_limits_and_refused_outside_them(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let reference = complaint_of(&app, &ANN).await;
    let mut browser = Browser::signed_in_customer(&app, &reference, ANN.postcode).await;
    let path = format!("/my/complaints/{reference}");
    let page = browser.get(&path).await;
    assert!(page.body.contains("enctype=\"multipart/form-data\""));
    let csrf = page.csrf_token();
    let evidence = format!("{path}/evidence");

    let pdf = b"%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n".to_vec();
    let sent = browser
        .post_multipart(
            &evidence,
            &[
                ("csrf", None, csrf.as_bytes()),
                ("description", None, b"My bill for March"),
                ("file", Some("bill.pdf"), &pdf),
            ],
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    assert_eq!(
        sent.location.as_deref(),
        Some(format!("{path}?done=evidence").as_str())
    );
    let attachments = app
        .store
        .attachments(&reference)
        .await
        .expect("attachments");
    assert_eq!(attachments.len(), 1);
    assert_eq!(attachments[0].filename, "bill.pdf");
    assert_eq!(attachments[0].content_type, "application/pdf");
    assert_eq!(attachments[0].size, i64::try_from(pdf.len()).expect("size"));
    let stored = files_dir(&app).join(&attachments[0].sha256);
    assert_eq!(
        std::fs::read(&stored).expect("the file is kept by its hash"),
        pdf
    );
    let view = app
        .store
        .get_complaint(&Reference::parse(&reference).expect("ref"))
        .await
        .expect("stored");
    assert!(matches!(
        view.events.last().expect("events").event.kind,
        redress_core::EventKind::EvidenceReceived { .. }
    ));
    let page = browser.get(&format!("{path}?done=evidence")).await;
    assert!(page.body.contains("We have received what you sent"));
    assert!(page.body.contains("bill.pdf"));

    // Text alone is fine too.
    let text_only = browser
        .post_multipart(
            &evidence,
            &[
                ("csrf", None, csrf.as_bytes()),
                ("description", None, b"The engineer never came"),
                ("file", Some(""), b""),
            ],
        )
        .await;
    assert_eq!(text_only.status, 303);

    // A program named like a PDF: the bytes decide, not the name.
    let disguised = browser
        .post_multipart(
            &evidence,
            &[
                ("csrf", None, csrf.as_bytes()),
                ("file", Some("bill.pdf"), b"MZ\x90\x00\x03\x00\x00\x00"),
            ],
        )
        .await;
    assert_eq!(disguised.status, 422);
    assert!(disguised.body.contains("href=\"#evidence-file\""));
    assert!(
        disguised
            .body
            .contains("must be a PDF, a JPEG or PNG picture, or a plain text")
    );
    let gif = browser
        .post_multipart(
            &evidence,
            &[
                ("csrf", None, csrf.as_bytes()),
                ("file", Some("photo.gif"), b"GIF89a\x01\x00\x01\x00"),
            ],
        )
        .await;
    assert_eq!(gif.status, 422);

    // One byte over 10 MiB.
    let big = vec![b'a'; 10 * 1024 * 1024 + 1];
    let too_big = browser
        .post_multipart(
            &evidence,
            &[
                ("csrf", None, csrf.as_bytes()),
                ("file", Some("notes.txt"), &big),
            ],
        )
        .await;
    assert_eq!(too_big.status, 413);
    assert!(too_big.body.contains("10 MB or smaller"));
    // Exactly 10 MiB is fine.
    let at_limit = vec![b'b'; 10 * 1024 * 1024];
    let fits = browser
        .post_multipart(
            &evidence,
            &[
                ("csrf", None, csrf.as_bytes()),
                ("file", Some("notes.txt"), &at_limit),
            ],
        )
        .await;
    assert_eq!(fits.status, 303, "{}", fits.body);

    // No token, no file.
    let forged = browser
        .post_multipart(&evidence, &[("file", Some("x.txt"), b"hello")])
        .await;
    assert_eq!(forged.status, 403);
    let attachments = app
        .store
        .attachments(&reference)
        .await
        .expect("attachments");
    let names: Vec<&str> = attachments.iter().map(|a| a.filename.as_str()).collect();
    assert_eq!(names, ["bill.pdf", "notes.txt"]);
    assert_eq!(attachments[1].content_type, "text/plain; charset=utf-8");
    app.stop().await;
}

async fn signing_out_ends_the_session(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let reference = complaint_of(&app, &ANN).await;
    let mut browser = Browser::signed_in_customer(&app, &reference, ANN.postcode).await;
    let page = browser.get("/my/complaints").await;
    assert!(page.body.contains("action=\"/my/sign-out\""));
    let token = browser
        .cookie("redress_customer")
        .expect("a customer session")
        .to_owned();
    let csrf = page.csrf_token();
    assert_eq!(
        browser
            .post_form("/my/sign-out", &[("csrf", "wrong")])
            .await
            .status,
        403
    );
    let out = browser.post_form("/my/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, 303);
    assert!(!browser.has_customer_session());
    // The old cookie no longer works, even if someone kept it.
    browser.set_cookie("redress_customer", &token);
    let after = browser.get("/my/complaints").await;
    assert_eq!(after.status, 303);
    assert_eq!(after.location.as_deref(), Some("/my"));
    app.stop().await;
}

/// The takeover that reference + postcode once allowed: someone who knows a customer's account
/// number and postcode makes a web complaint with them, signs in with its reference, and
/// should see nothing of the real customer's complaints nor act on them.
async fn an_account_number_and_postcode_never_open_someone_elses_complaints(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let victims = complaint_of(&app, &ANN).await;
    staff_does(
        &app,
        &victims,
        "customer_services",
        Action::OfferResolution {
            text: "A refund of two months' line rental".into(),
        },
    )
    .await;
    let impostor = Complainant {
        name: "Not Ann",
        email: "impostor@example.net",
        summary: "Anything at all, to get a reference.",
        ..ANN
    };
    let theirs = complaint_of(&app, &impostor).await;
    assert_ne!(theirs, victims);

    let mut browser = Browser::signed_in_customer(&app, &theirs, ANN.postcode).await;
    let list = browser.get("/my/complaints").await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains(&theirs));
    assert!(
        !list.body.contains(&victims),
        "the victim's complaint is listed to the impostor"
    );
    let page = browser.get(&format!("/my/complaints/{victims}")).await;
    assert_eq!(page.status, 404);
    for secret in [ANN.summary, ANN.email, "two months"] {
        assert!(!page.body.contains(secret), "leaked {secret}");
    }
    let csrf = hidden(
        &browser.get(&format!("/my/complaints/{theirs}")).await.body,
        "csrf",
    );
    let accept = browser
        .post_form(
            &format!("/my/complaints/{victims}/accept"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(accept.status, 404);
    let view = app
        .store
        .get_complaint(&Reference::parse(&victims).expect("ref"))
        .await
        .expect("the victim's complaint");
    assert_eq!(
        view.complaint.status,
        redress_core::Status::ResolutionOffered,
        "the victim's offer is still waiting for the victim"
    );

    // The real customer, signed in with their own reference, sees only that complaint too;
    // the emailed link (proof of the address) is what brings their complaints together.
    let mut ann = Browser::signed_in_customer(&app, &victims, ANN.postcode).await;
    let list = ann.get("/my/complaints").await;
    assert!(list.body.contains(&victims));
    assert!(!list.body.contains(&theirs));
    app.stop().await;
}

/// Under a procedure whose later rules shorten the ADR period to 6 weeks, a complaint under
/// those rules is never described with "8 weeks" on the customer's pages: not in "what
/// happens next", not on its page before the point, nor once the point has passed.
async fn portal_pages_speak_of_the_complaints_own_adr_period(db: Db) {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/procedure-six-weeks.toml"
    ))
    .expect("the example procedure");
    let procedure = redress_core::Procedure::from_toml(&text).expect("a valid procedure");
    let Some(app) = support::spawn_app_with(db, procedure).await else {
        return;
    };
    let start: jiff::Timestamp = "2027-05-20T09:00:00Z".parse().expect("an instant");
    app.clock.set(start);
    let mut browser = Browser::new(&app);
    let done = complain(&mut browser, &ANN).await;
    assert_eq!(done.status, 200, "{}", done.body);
    let reference = reference_on(&done.body);
    let mut customer = Browser::signed_in_customer(&app, &reference, ANN.postcode).await;
    let before = customer.get(&format!("/my/complaints/{reference}")).await;
    assert_eq!(before.status, 200);
    // 6 weeks from 20 May 2027.
    assert!(
        done.body
            .contains("resolved by 1 July 2027 (6 weeks after you complained)"),
        "{}",
        done.body
    );
    assert!(
        before
            .body
            .contains("resolved by 1 July 2027 (6 weeks after you first complained)"),
        "{}",
        before.body
    );
    app.clock
        .set(start + jiff::SignedDuration::from_hours(24 * 43));
    app.fire_deadlines().await;
    // The earlier session has long expired: sign in again.
    let mut customer = Browser::signed_in_customer(&app, &reference, ANN.postcode).await;
    let after = customer.get(&format!("/my/complaints/{reference}")).await;
    assert_eq!(after.status, 200);
    assert!(
        after
            .body
            .contains("6 weeks have passed since you first complained"),
        "{}",
        after.body
    );
    for page in [&done.body, &before.body, &after.body] {
        assert!(!page.contains("8 weeks"), "{page}");
        assert!(!page.contains("8-week"), "{page}");
    }
    app.stop().await;
}

async fn email_is_offered_only_where_the_procedure_gives_an_address(db: Db) {
    // As published, the code gives no email address: nothing says "email us".
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let mut browser = Browser::new(&app);
    let code = browser.get("/complaints-code").await;
    assert_eq!(code.status, 200);
    assert!(
        !code.body.to_lowercase().contains("email us"),
        "{}",
        code.body
    );
    assert!(!code.body.contains("<dt>Email</dt>"), "{}", code.body);
    app.stop().await;

    // With an address for Customer Services, the code and its letters give it.
    // The first "Customer Services" is the department's (the stages come after).
    let toml = redress_core::procedure::DEFAULT_PROCEDURE_TOML.replacen(
        "name = \"Customer Services\"\n",
        "name = \"Customer Services\"\nemail = \"complaints@kinex.example\"\n",
        1,
    );
    let procedure = redress_core::Procedure::from_toml(&toml).expect("a valid procedure");
    let Some(app) = support::spawn_app_with(db, procedure).await else {
        return;
    };
    let mut browser = Browser::new(&app);
    let code = browser.get("/complaints-code").await;
    assert!(
        code.body
            .contains("<a href=\"mailto:complaints@kinex.example\">complaints@kinex.example</a>"),
        "{}",
        code.body
    );
    let reference = complaint_of(&app, &ANN).await;
    let letters = app
        .store
        .complaint_letters(&reference)
        .await
        .expect("letters");
    let id = letters
        .iter()
        .find(|l| l.kind == "acknowledgement")
        .expect("an acknowledgement")
        .id;
    let mut customer = Browser::signed_in_customer(&app, &reference, ANN.postcode).await;
    let letter = customer
        .get(&format!("/my/complaints/{reference}/letters/{id}"))
        .await;
    assert_eq!(letter.status, 200, "{}", letter.body);
    assert!(
        letter.body.contains("by email at complaints@kinex.example"),
        "{}",
        letter.body
    );
    app.stop().await;
}
