//! The HTTP layer, black-box, on SQLite and on PostgreSQL: what may be cached, HTTPS (HSTS and
//! Secure cookies), and connections from slow or idle clients.
#[macro_use]
mod support;

use redress::clock::Clock;
use redress::store::{CustomerScope, SessionOwner};
use redress_core::{Procedure, Role};
use reqwest::header::{CACHE_CONTROL, COOKIE, SET_COOKIE, STRICT_TRANSPORT_SECURITY};
use serde_json::Value;
use support::{Db, TestApp, complaint_body, spawn_app, spawn_app_configured};

both_backends! {
    personal_answers_are_never_stored_and_public_ones_may_be =>
        sqlite_personal_answers_are_never_stored_and_public_ones_may_be,
        postgres_personal_answers_are_never_stored_and_public_ones_may_be;
    over_https_every_cookie_is_secure_and_hsts_is_sent =>
        sqlite_over_https_every_cookie_is_secure_and_hsts_is_sent,
        postgres_over_https_every_cookie_is_secure_and_hsts_is_sent;
    over_plain_http_there_is_no_hsts_and_no_secure_cookie =>
        sqlite_over_plain_http_there_is_no_hsts_and_no_secure_cookie,
        postgres_over_plain_http_there_is_no_hsts_and_no_secure_cookie;
}

const PASSWORD: &str = "a long enough passphrase";
const HSTS: &str = "max-age=31536000; includeSubDomains";

/// A client that shows redirects instead of following them (sign-in answers are redirects).
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client")
}

/// What a test looks at in an answer.
#[derive(Debug)]
struct Answer {
    status: u16,
    cache_control: Option<String>,
    hsts: Option<String>,
    set_cookies: Vec<String>,
    text: String,
}

async fn send(request: reqwest::RequestBuilder) -> Answer {
    let response = request.send().await.expect("the server answers");
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let cache_control = header(CACHE_CONTROL);
    let hsts = header(STRICT_TRANSPORT_SECURITY);
    let set_cookies = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_owned)
        .collect();
    Answer {
        status: response.status().as_u16(),
        cache_control,
        hsts,
        set_cookies,
        text: response.text().await.expect("a body"),
    }
}

impl Answer {
    /// The `Set-Cookie` value for a cookie, which must be there.
    #[track_caller]
    fn cookie(&self, name: &str) -> &str {
        let prefix = format!("{name}=");
        self.set_cookies
            .iter()
            .find(|c| c.starts_with(&prefix))
            .unwrap_or_else(|| panic!("no {name} cookie in {:?}", self.set_cookies))
    }
}

/// A form post's body, as a browser sends it.
fn form(request: reqwest::RequestBuilder, fields: &[(&str, &str)]) -> reqwest::RequestBuilder {
    request
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(fields).expect("a form body"))
}

/// A cookie's value from its `Set-Cookie` line.
fn cookie_value(set_cookie: &str) -> String {
    let pair = set_cookie.split(';').next().unwrap_or("");
    pair.split_once('=').map_or("", |(_, v)| v).to_owned()
}

fn is_secure(set_cookie: &str) -> bool {
    set_cookie
        .split(';')
        .any(|attribute| attribute.trim().eq_ignore_ascii_case("secure"))
}

/// Records a complaint through the API; returns its reference.
async fn complaint(app: &TestApp, token: &str, account: &str) -> String {
    let response = app
        .client
        .post(app.url("/api/v1/complaints"))
        .bearer_auth(token)
        .json(&complaint_body(account, "Ada Lovelace"))
        .send()
        .await
        .expect("the server answers");
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.expect("JSON");
    body["reference"].as_str().expect("a reference").to_owned()
}

/// A staff session made in the store; returns the cookie value.
async fn staff_session(app: &TestApp) -> String {
    let user = app
        .store
        .create_user(
            "cs.ann@example.com",
            "Ann",
            PASSWORD,
            Role::Handler,
            Some("customer_services"),
            app.clock.now(),
        )
        .await
        .expect("a staff account");
    let (token, _) = app
        .store
        .create_session(&SessionOwner::Staff(user), app.clock.now())
        .await
        .expect("a session");
    token
}

async fn personal_answers_are_never_stored_and_public_ones_may_be(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let client = client();
    let token = app
        .token(Role::Handler, Some("customer_services"), Some("h1"))
        .await;
    let reference = complaint(&app, &token, "KX-1001").await;
    let staff = format!("redress_staff={}", staff_session(&app).await);
    let (customer, _) = app
        .store
        .create_session(
            &SessionOwner::Customer(CustomerScope::Account {
                account: "KX-1001".into(),
                postcode: "M22 4SY".into(),
            }),
            app.clock.now(),
        )
        .await
        .expect("a customer session");
    let customer = format!("redress_customer={customer}");

    let api = |path: &str| {
        client
            .get(app.url(path))
            .bearer_auth(&token)
            .header("accept", "application/json")
    };
    let with_cookie = |path: &str, cookie: &str| client.get(app.url(path)).header(COOKIE, cookie);
    let personal = [
        // The API: answers, problems and a new complaint.
        ("API list", api("/api/v1/complaints")),
        (
            "API complaint",
            api(&format!("/api/v1/complaints/{reference}")),
        ),
        (
            "API letters",
            api(&format!("/api/v1/complaints/{reference}/letters")),
        ),
        ("API print queue", api("/api/v1/print-queue")),
        ("API quarantine", api("/api/v1/inbound/quarantine")),
        (
            "API without a token",
            client.get(app.url("/api/v1/complaints")),
        ),
        ("API unknown address", api("/api/v1/nothing-here")),
        (
            "API new complaint",
            client
                .post(app.url("/api/v1/complaints"))
                .bearer_auth(&token)
                .json(&complaint_body("KX-1002", "Grace Hopper")),
        ),
        // Staff pages, signed in and not, and the sign-in form.
        ("staff sign-in form", client.get(app.url("/staff/sign-in"))),
        ("staff queue", with_cookie("/staff", &staff)),
        ("staff dashboard", with_cookie("/staff/dashboard", &staff)),
        (
            "staff case page",
            with_cookie(&format!("/staff/complaints/{reference}"), &staff),
        ),
        ("staff queue, signed out", client.get(app.url("/staff"))),
        // The portal: its forms and, signed in, the customer's complaints.
        ("home page", client.get(app.url("/"))),
        ("complaint form", client.get(app.url("/complain"))),
        ("portal sign-in form", client.get(app.url("/my"))),
        ("my complaints", with_cookie("/my/complaints", &customer)),
        (
            "my complaint",
            with_cookie(&format!("/my/complaints/{reference}"), &customer),
        ),
        ("unknown page", client.get(app.url("/no-such-page"))),
    ];
    for (what, request) in personal {
        let answer = send(request).await;
        assert!(
            answer.status < 500,
            "{what}: {} {}",
            answer.status,
            answer.text
        );
        assert_eq!(
            answer.cache_control.as_deref(),
            Some("no-store"),
            "{what} ({})",
            answer.status
        );
    }
    // What is the same for everyone may be kept.
    for path in [
        "/static/site.css",
        "/complaints-code",
        "/api/v1/openapi.json",
    ] {
        let answer = send(client.get(app.url(path))).await;
        assert_eq!(answer.status, 200, "{path}");
        assert!(
            !answer
                .cache_control
                .as_deref()
                .unwrap_or("")
                .contains("no-store"),
            "{path}: {:?}",
            answer.cache_control
        );
    }
    // A response that chose its own policy keeps it.
    let css = send(client.get(app.url("/static/site.css"))).await;
    assert_eq!(css.cache_control.as_deref(), Some("public, max-age=3600"));
    app.stop().await;
}

/// Signs in to the staff pages and the portal, and out again, checking every cookie set and the
/// HSTS header on each answer.
async fn every_cookie_is_secure(app: &TestApp, reference: &str) {
    let client = client();
    app.store
        .create_user(
            "cs.bob@example.com",
            "Bob",
            PASSWORD,
            Role::Handler,
            Some("customer_services"),
            app.clock.now(),
        )
        .await
        .expect("a staff account");
    let check = |what: &str, answer: &Answer| {
        assert_eq!(answer.hsts.as_deref(), Some(HSTS), "{what}");
        for cookie in &answer.set_cookies {
            assert!(is_secure(cookie), "{what}: {cookie}");
        }
    };

    // Staff: the form's CSRF cookie, the session cookie, and the one that deletes it.
    let page = send(client.get(app.url("/staff/sign-in"))).await;
    check("staff sign-in form", &page);
    let csrf = cookie_value(page.cookie("redress_csrf"));
    let signed_in = send(form(
        client
            .post(app.url("/staff/sign-in"))
            .header(COOKIE, format!("redress_csrf={csrf}")),
        &[
            ("csrf", csrf.as_str()),
            ("email", "cs.bob@example.com"),
            ("password", PASSWORD),
        ],
    ))
    .await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.text);
    check("staff sign-in", &signed_in);
    let session = cookie_value(signed_in.cookie("redress_staff"));
    let session_csrf = app
        .store
        .session(&session, app.clock.now())
        .await
        .expect("the store answers")
        .expect("a live session")
        .csrf_token;
    let signed_out = send(form(
        client
            .post(app.url("/staff/sign-out"))
            .header(COOKIE, format!("redress_staff={session}")),
        &[("csrf", session_csrf.as_str())],
    ))
    .await;
    assert_eq!(signed_out.status, 303, "{}", signed_out.text);
    check("staff sign-out", &signed_out);
    signed_out.cookie("redress_staff");

    // The portal: the complaint form's and the sign-in form's CSRF cookie, then the session.
    let complain = send(client.get(app.url("/complain"))).await;
    check("complaint form", &complain);
    complain.cookie("redress_csrf");
    let page = send(client.get(app.url("/my"))).await;
    check("portal sign-in form", &page);
    let csrf = cookie_value(page.cookie("redress_csrf"));
    let signed_in = send(form(
        client
            .post(app.url("/my/sign-in"))
            .header(COOKIE, format!("redress_csrf={csrf}")),
        &[
            ("csrf", csrf.as_str()),
            ("reference", reference),
            ("postcode", "M22 4SY"),
        ],
    ))
    .await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.text);
    check("portal sign-in", &signed_in);
    let session = cookie_value(signed_in.cookie("redress_customer"));
    let session_csrf = app
        .store
        .session(&session, app.clock.now())
        .await
        .expect("the store answers")
        .expect("a live session")
        .csrf_token;
    let signed_out = send(form(
        client
            .post(app.url("/my/sign-out"))
            .header(COOKIE, format!("redress_customer={session}")),
        &[("csrf", session_csrf.as_str())],
    ))
    .await;
    assert_eq!(signed_out.status, 303, "{}", signed_out.text);
    check("portal sign-out", &signed_out);
    signed_out.cookie("redress_customer");

    // Answers without cookies carry HSTS too: the API, its problems, a missing page.
    for path in [
        "/api/v1/openapi.json",
        "/api/v1/complaints",
        "/no-such-page",
    ] {
        let answer = send(client.get(app.url(path))).await;
        check(path, &answer);
    }
}

async fn over_https_every_cookie_is_secure_and_hsts_is_sent(db: Db) {
    // `--secure-cookies` behind a proxy that ends TLS, and an https `--public-url` alone.
    let settings: [(&str, fn(&mut redress::app::Config)); 2] = [
        ("--secure-cookies", |config| {
            config.web.secure_cookies = true
        }),
        ("an https --public-url", |config| {
            config.web.public_url = "https://complaints.example".into();
        }),
    ];
    for (what, adjust) in settings {
        let Some(app) = spawn_app_configured(db, Procedure::default_procedure(), adjust).await
        else {
            return;
        };
        let token = app
            .token(Role::Handler, Some("customer_services"), Some("h1"))
            .await;
        let reference = complaint(&app, &token, "KX-2001").await;
        eprintln!("with {what}");
        every_cookie_is_secure(&app, &reference).await;
        app.stop().await;
    }
}

async fn over_plain_http_there_is_no_hsts_and_no_secure_cookie(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let client = client();
    for path in ["/staff/sign-in", "/my", "/complain"] {
        let page = send(client.get(app.url(path))).await;
        assert_eq!(page.status, 200, "{path}");
        assert_eq!(page.hsts, None, "{path}");
        let cookie = page.cookie("redress_csrf");
        assert!(!is_secure(cookie), "{path}: {cookie}");
    }
    app.stop().await;
}
