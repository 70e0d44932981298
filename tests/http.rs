//! The HTTP layer, black-box, on SQLite and on PostgreSQL: what may be cached, HTTPS (HSTS and
//! Secure cookies), and connections from slow or idle clients.
#[macro_use]
mod support;

use std::time::Duration;

use redress::clock::Clock;
use redress::store::{CustomerScope, SessionOwner};
use redress_core::{Procedure, Role};
use reqwest::header::{CACHE_CONTROL, COOKIE, SET_COOKIE, STRICT_TRANSPORT_SECURITY};
use serde_json::Value;
use support::{Db, TestApp, complaint_body, spawn_app, spawn_app_configured};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

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
    a_client_that_stalls_in_its_request_line_is_disconnected =>
        sqlite_a_client_that_stalls_in_its_request_line_is_disconnected,
        postgres_a_client_that_stalls_in_its_request_line_is_disconnected;
    an_idle_kept_alive_connection_is_closed =>
        sqlite_an_idle_kept_alive_connection_is_closed,
        postgres_an_idle_kept_alive_connection_is_closed;
    a_request_in_flight_at_shutdown_is_finished =>
        sqlite_a_request_in_flight_at_shutdown_is_finished,
        postgres_a_request_in_flight_at_shutdown_is_finished;
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
            &SessionOwner::Customer(CustomerScope::Reference {
                reference: reference.clone(),
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
    type Adjust = fn(&mut redress::app::Config);
    let settings: [(&str, Adjust); 2] = [
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

// ---------------------------------------------------------------------------------------------
// Slow and idle clients, and stopping
// ---------------------------------------------------------------------------------------------

/// The application with a short header timeout, so the tests need not wait the default.
async fn spawn_impatient(db: Db) -> Option<TestApp> {
    spawn_app_configured(db, Procedure::default_procedure(), |config| {
        config.header_read_timeout = Duration::from_secs(1);
    })
    .await
}

async fn connect(app: &TestApp) -> TcpStream {
    let address = app.address.trim_start_matches("http://");
    TcpStream::connect(address).await.expect("connect")
}

/// Reads until the server closes the connection; returns what it sent. A server that never
/// closes fails the test (after a minute, far beyond any timeout configured here) instead of
/// hanging it.
async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(60), async {
        let mut buffer = [0u8; 4096];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) => return,
                Ok(n) => received.extend_from_slice(&buffer[..n]),
                // Closed with unread data on our side: closed all the same.
                Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => return,
                Err(error) => panic!("reading the connection: {error}"),
            }
        }
    })
    .await;
    assert!(
        read.is_ok(),
        "the server kept the connection open; it sent {:?}",
        String::from_utf8_lossy(&received)
    );
    String::from_utf8_lossy(&received).into_owned()
}

/// Reads one response whose body is `Content-Length` long.
async fn read_response(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&received).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if received.len() >= end + 4 + length {
                return text;
            }
        }
        let n = stream.read(&mut buffer).await.expect("read a response");
        assert!(n > 0, "the connection closed mid-response: {text}");
        received.extend_from_slice(&buffer[..n]);
    }
}

async fn a_client_that_stalls_in_its_request_line_is_disconnected(db: Db) {
    let Some(app) = spawn_impatient(db).await else {
        return;
    };
    let mut stream = connect(&app).await;
    stream
        .write_all(b"GET /api/v1/complai")
        .await
        .expect("send half a request line");
    let received = read_until_closed(&mut stream).await;
    assert!(!received.contains(" 200 "), "{received}");
    // The server is unharmed: the next client is answered.
    let answer = send(app.client.get(app.url("/healthz"))).await;
    assert_eq!(answer.status, 200);
    app.stop().await;
}

async fn an_idle_kept_alive_connection_is_closed(db: Db) {
    let Some(app) = spawn_impatient(db).await else {
        return;
    };
    let mut stream = connect(&app).await;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: redress\r\n\r\n")
        .await
        .expect("send a request");
    let response = read_response(&mut stream).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    // Kept alive for another request, which never comes.
    assert!(
        !response.to_ascii_lowercase().contains("connection: close"),
        "{response}"
    );
    let received = read_until_closed(&mut stream).await;
    assert_eq!(received, "");
    app.stop().await;
}

async fn a_request_in_flight_at_shutdown_is_finished(db: Db) {
    let Some(mut app) = spawn_app(db).await else {
        return;
    };
    let token = app
        .token(Role::Handler, Some("customer_services"), Some("h1"))
        .await;
    let body = complaint_body("KX-3001", "Mary Somerville").to_string();
    let mut stream = connect(&app).await;
    let head = format!(
        "POST /api/v1/complaints HTTP/1.1\r\nHost: redress\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        body.len()
    );
    stream
        .write_all(head.as_bytes())
        .await
        .expect("send the head");
    // The server asks for the body once the handler reads it: the request is in flight.
    let mut continued = Vec::new();
    while !String::from_utf8_lossy(&continued).contains("\r\n\r\n") {
        let mut byte = [0u8; 1];
        let n = stream.read(&mut byte).await.expect("read 100 Continue");
        assert!(n > 0, "closed before 100 Continue");
        continued.push(byte[0]);
    }
    assert!(
        String::from_utf8_lossy(&continued).starts_with("HTTP/1.1 100"),
        "{}",
        String::from_utf8_lossy(&continued)
    );
    app.begin_stop();
    stream
        .write_all(body.as_bytes())
        .await
        .expect("send the body");
    let response = read_until_closed(&mut stream).await;
    assert!(response.starts_with("HTTP/1.1 201"), "{response}");
    let reference = response
        .split("\"reference\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the new complaint's reference");
    let reference = redress_core::Reference::parse(reference).expect("a reference");
    // Recorded, not only answered; read through a store of the test's own, as the server
    // closes its own once it has stopped.
    let reader = redress::store::Store::connect(
        &app.database,
        std::sync::Arc::new(Procedure::default_procedure()),
    )
    .await
    .expect("open the database");
    assert!(
        reader.get_complaint(&reference).await.is_ok(),
        "{reference}"
    );
    reader.close().await;
    app.stop().await;
}
