//! The OpenAPI document against the server that serves it, on SQLite and on PostgreSQL: every
//! operation in `/api/v1/openapi.json` is sent requests its handler refuses in each way it can
//! (no token, the wrong role, bad or unknown path parameters, bad queries, bodies that are not
//! JSON, not UTF-8, too large, of another media type, with unknown fields, a reused
//! Idempotency-Key) and a good one; every status the server answers must be listed for the
//! operation. A client generated from the document then knows every answer it can get.
#[macro_use]
mod support;

use std::collections::{BTreeMap, BTreeSet};

use redress_core::Role;
use reqwest::Method;
use serde_json::{Value, json};
use support::{Db, TestApp, complaint_body, spawn_app};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

both_backends! {
    every_status_an_operation_answers_is_in_the_openapi_document =>
        sqlite_every_status_an_operation_answers_is_in_the_openapi_document,
        postgres_every_status_an_operation_answers_is_in_the_openapi_document;
}

/// One operation of the served document.
struct Operation {
    method: Method,
    path: String,
    spec: Value,
}

impl Operation {
    fn name(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    fn documented(&self) -> BTreeSet<String> {
        self.spec["responses"]
            .as_object()
            .map(|r| r.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn parameters(&self, place: &str) -> Vec<(String, Value)> {
        self.spec["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == place)
            .map(|p| (p["name"].as_str().unwrap_or("").to_owned(), p.clone()))
            .collect()
    }

    fn body_types(&self) -> Vec<String> {
        self.spec["requestBody"]["content"]
            .as_object()
            .map(|c| c.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn takes(&self, media_type: &str) -> bool {
        self.body_types().iter().any(|t| t == media_type)
    }

    fn needs_a_token(&self) -> bool {
        self.spec["security"]
            .as_array()
            .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()))
    }
}

fn operations(document: &Value) -> Vec<Operation> {
    let mut all = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, spec) in item.as_object().expect("a path item") {
            let Ok(method) = method.to_uppercase().parse::<Method>() else {
                continue;
            };
            all.push(Operation {
                method,
                path: path.clone(),
                spec: spec.clone(),
            });
        }
    }
    all
}

/// A request to send: path parameters, query, headers and body.
#[derive(Clone)]
struct Call {
    label: String,
    path: BTreeMap<String, String>,
    query: String,
    token: Option<String>,
    content_type: Option<String>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Call {
    fn labelled(&self, label: impl Into<String>) -> Call {
        Call {
            label: label.into(),
            ..self.clone()
        }
    }

    fn with_body(&self, label: &str, content_type: &str, body: impl Into<Vec<u8>>) -> Call {
        Call {
            content_type: Some(content_type.to_owned()),
            body: body.into(),
            ..self.labelled(label)
        }
    }

    fn with_header(mut self, name: &str, value: &str) -> Call {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The path with its parameters put in (already percent-encoded where they need it).
    fn target(&self, operation: &Operation) -> String {
        let mut path = operation.path.clone();
        for (name, value) in &self.path {
            path = path.replace(&format!("{{{name}}}"), value);
        }
        format!("{path}{}", self.query)
    }

    async fn status(&self, app: &TestApp, operation: &Operation) -> u16 {
        let mut request = app
            .client
            .request(operation.method.clone(), app.url(&self.target(operation)));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(content_type) = &self.content_type {
            request = request.header("content-type", content_type);
        }
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        if !self.body.is_empty() {
            request = request.body(self.body.clone());
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: {}: no answer: {e}", operation.name(), self.label));
        response.status().as_u16()
    }
}

/// Sends only a request's head claiming a body of `length` bytes, and reads the status: how a
/// body too large to send in a test is refused before it is read.
async fn status_of_head(app: &TestApp, head: &str) -> u16 {
    let address = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    stream.write_all(head.as_bytes()).await.expect("send");
    let mut received = Vec::new();
    let mut buffer = [0u8; 1024];
    while !received.windows(2).any(|w| w == b"\r\n") {
        let n = stream.read(&mut buffer).await.expect("read");
        assert!(n > 0, "closed without an answer");
        received.extend_from_slice(&buffer[..n]);
    }
    let line = String::from_utf8_lossy(&received).into_owned();
    line.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not a status line: {line}"))
}

const BOUNDARY: &str = "----redress-openapi-boundary";

/// A multipart/form-data body of (name, file name, bytes) parts.
fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, file, bytes) in parts {
        let file = file.map_or(String::new(), |f| format!("; filename=\"{f}\""));
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"{file}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// A good JSON body for an operation that takes one.
fn good_json(operation: &Operation, n: usize) -> Value {
    if operation.path.ends_with("/commands/{command}") {
        json!({"text": format!("note {n}")})
    } else if operation.path == "/api/v1/complaints" {
        complaint_body(&format!("KX-OA-{n}"), "Ada Lovelace")
    } else {
        panic!(
            "{}: a JSON operation this test does not know; say what a good body is",
            operation.name()
        )
    }
}

/// A good body with one field of the wrong type.
fn wrong_type(operation: &Operation) -> Value {
    let body = good_json(operation, 2);
    let field = if body.get("summary").is_some() {
        "summary"
    } else {
        "text"
    };
    with_field(body, field, json!(42))
}

fn with_field(mut body: Value, name: &str, value: Value) -> Value {
    body.as_object_mut()
        .expect("an object")
        .insert(name.to_owned(), value);
    body
}

/// A path parameter's good value, an unknown one, one that is not what it should be, and one
/// that is not UTF-8 once decoded.
fn path_values(name: &str, reference: &str, letter: i64) -> [String; 4] {
    let (good, unknown, malformed) = match name {
        "reference" => (reference.to_owned(), "CMP-2026-999999", "not-a-reference"),
        "command" => ("add_note".to_owned(), "no_such_command", "Not A Command"),
        "id" => (letter.to_string(), "999999", "abc"),
        other => panic!("a path parameter this test does not know: {other}"),
    };
    [
        good,
        unknown.to_owned(),
        malformed.to_owned(),
        "%FF".to_owned(),
    ]
}

/// Every request this test sends an operation.
fn calls(operation: &Operation, tokens: &Tokens, reference: &str, letter: i64) -> Vec<Call> {
    let path_params = operation.parameters("path");
    let good = Call {
        label: "a good request".into(),
        path: path_params
            .iter()
            .map(|(name, _)| {
                (
                    name.clone(),
                    path_values(name, reference, letter)[0].clone(),
                )
            })
            .collect(),
        query: String::new(),
        token: Some(tokens.handler.clone()),
        content_type: None,
        headers: Vec::new(),
        body: Vec::new(),
    };
    let good = if operation.takes("application/json") {
        good.with_body(
            "a good request",
            "application/json",
            good_json(operation, 0).to_string(),
        )
    } else if operation.takes("message/rfc822") {
        good.with_body(
            "a good request",
            "message/rfc822",
            "From: ann@example.com\r\nTo: complaints@example.com\r\nSubject: My bill\r\n\
             Message-ID: <openapi-1@example.com>\r\n\r\nI was charged twice.\r\n",
        )
    } else if operation.takes("multipart/form-data") {
        good.with_body(
            "a good request",
            &format!("multipart/form-data; boundary={BOUNDARY}"),
            multipart(&[
                ("received_on", None, b"2026-03-02"),
                ("file", Some("scan.pdf"), b"%PDF-1.4 a scanned letter"),
            ]),
        )
    } else {
        good
    };
    let mut calls = vec![
        good.clone(),
        Call {
            token: None,
            ..good.labelled("no token")
        },
        Call {
            token: Some("not-a-token".into()),
            ..good.labelled("a token that is not one")
        },
        Call {
            token: Some(tokens.administrator.clone()),
            ..good.labelled("an administrator's token")
        },
        Call {
            token: Some(tokens.compliance.clone()),
            ..good.labelled("a compliance token")
        },
    ];
    for (name, _) in &path_params {
        let [_, unknown, malformed, not_utf8] = path_values(name, reference, letter);
        for (what, value) in [
            ("unknown", unknown),
            ("malformed", malformed),
            ("not UTF-8", not_utf8),
        ] {
            let mut call = good.labelled(format!("{name} {what}"));
            call.path.insert(name.clone(), value);
            calls.push(call);
        }
    }
    let query_params = operation.parameters("query");
    if !query_params.is_empty() {
        calls.push(Call {
            query: "?no_such_parameter=1".into(),
            ..good.labelled("an unknown query parameter")
        });
        for (name, spec) in &query_params {
            if matches!(spec["schema"]["type"].as_str(), Some("integer" | "boolean")) {
                calls.push(Call {
                    query: format!("?{name}=not-a-value"),
                    ..good.labelled(format!("{name} not a value"))
                });
            }
        }
    }
    if operation.takes("application/json") {
        calls.extend([
            good.with_body("not JSON", "application/json", "{\"channel\":"),
            good.with_body(
                "not UTF-8",
                "application/json",
                b"{\"a\":\"\xff\"}".to_vec(),
            ),
            good.with_body("not an object", "application/json", "[1, 2]"),
            good.with_body(
                "too large",
                "application/json",
                json!({"text": "x".repeat(70 * 1024)}).to_string(),
            ),
            good.with_body(
                "an unknown field",
                "application/json",
                with_field(good_json(operation, 1), "no_such_field", json!(1)).to_string(),
            ),
            good.with_body(
                "a field of the wrong type",
                "application/json",
                wrong_type(operation).to_string(),
            ),
            good.with_body("another media type", "text/plain", "{}"),
        ]);
    }
    if operation.takes("message/rfc822") {
        calls.push(good.with_body("another media type", "text/plain", "hello"));
    }
    if operation.takes("multipart/form-data") {
        let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
        let six_mib = vec![b'%'; 6 * 1024 * 1024];
        calls.extend([
            good.with_body("another media type", "application/json", "{}"),
            good.with_body("unreadable multipart", &content_type, "--nonsense"),
            good.with_body(
                "an unknown field",
                &content_type,
                multipart(&[("no_such_field", None, b"1")]),
            ),
            good.with_body(
                "a field missing",
                &content_type,
                multipart(&[("received_on", None, b"2026-03-02")]),
            ),
            good.with_body(
                "too large",
                &content_type,
                multipart(&[
                    ("file", Some("a.pdf"), &six_mib),
                    ("file", Some("b.pdf"), &six_mib),
                ]),
            ),
        ]);
    }
    if operation
        .parameters("header")
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("idempotency-key"))
    {
        let key = format!("openapi-{}", operation.path.len());
        calls.push(
            good.labelled("a bad Idempotency-Key")
                .with_header("idempotency-key", &"k".repeat(201)),
        );
        // The same key for a different body: the first is done, the second refused.
        let first = good
            .with_body(
                "a first use of an Idempotency-Key",
                "application/json",
                good_json(operation, 3).to_string(),
            )
            .with_header("idempotency-key", &key);
        let second = good
            .with_body(
                "an Idempotency-Key reused for another body",
                "application/json",
                good_json(operation, 4).to_string(),
            )
            .with_header("idempotency-key", &key);
        calls.extend([first, second]);
    }
    if operation.path.ends_with("/commands/{command}") {
        // A command the procedure refuses now: a complaint that is open cannot be reopened.
        let mut refused = good.with_body("refused by the procedure", "application/json", "{}");
        refused.path.insert("command".into(), "reopen".into());
        calls.push(refused);
    }
    calls
}

struct Tokens {
    handler: String,
    administrator: String,
    compliance: String,
}

async fn every_status_an_operation_answers_is_in_the_openapi_document(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let tokens = Tokens {
        handler: app
            .token(Role::Handler, Some("customer_services"), Some("h1"))
            .await,
        administrator: app.token(Role::Administrator, None, Some("a1")).await,
        compliance: app.token(Role::Compliance, None, Some("c1")).await,
    };
    let created = app
        .client
        .post(app.url("/api/v1/complaints"))
        .bearer_auth(&tokens.handler)
        .json(&complaint_body("KX-OA", "Ada Lovelace"))
        .send()
        .await
        .expect("create");
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.expect("JSON");
    let reference = created["reference"]
        .as_str()
        .expect("a reference")
        .to_owned();
    // Acknowledging it writes the first letter.
    let acknowledged = app
        .client
        .post(app.url(&format!(
            "/api/v1/complaints/{reference}/commands/acknowledge"
        )))
        .bearer_auth(&tokens.handler)
        .json(&json!({}))
        .send()
        .await
        .expect("acknowledge");
    assert_eq!(acknowledged.status(), 200);
    let letters: Value = app
        .client
        .get(app.url(&format!("/api/v1/complaints/{reference}/letters")))
        .bearer_auth(&tokens.handler)
        .send()
        .await
        .expect("letters")
        .json()
        .await
        .expect("JSON");
    let letter = letters["letters"][0]["id"].as_i64().expect("a letter");

    let document: Value = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .expect("the document")
        .json()
        .await
        .expect("JSON");
    let operations = operations(&document);
    assert!(operations.len() >= 11, "{} operations", operations.len());

    let mut missing = Vec::new();
    for operation in &operations {
        let documented = operation.documented();
        let mut lacks = |status: u16, why: String| {
            if !documented.contains(&status.to_string()) {
                missing.push(format!(
                    "{}: {status} is not listed ({why}); listed: {documented:?}",
                    operation.name()
                ));
            }
        };
        // What an operation of its kind can answer, whatever this test manages to provoke.
        lacks(500, "any operation can fail on our side".into());
        lacks(408, "any request can take too long".into());
        if operation.needs_a_token() {
            lacks(401, "it needs a token".into());
        }
        if !operation.parameters("path").is_empty() || !operation.body_types().is_empty() {
            lacks(400, "it takes a path parameter or a body".into());
        }
        if operation.takes("application/json") {
            lacks(413, "it takes a JSON body, which has a size limit".into());
            lacks(422, "it takes a JSON body, whose fields are checked".into());
        }
        // What the server really answers.
        let mut seen = BTreeSet::new();
        for call in calls(operation, &tokens, &reference, letter) {
            let status = call.status(&app, operation).await;
            seen.insert(status);
            lacks(status, format!("the answer to {}", call.label));
        }
        if operation.takes("message/rfc822") {
            let head = format!(
                "POST {} HTTP/1.1\r\nHost: redress\r\nAuthorization: Bearer {}\r\n\
                 Content-Type: message/rfc822\r\nContent-Length: 1000000000\r\n\r\n",
                operation.path, tokens.handler
            );
            let status = status_of_head(&app, &head).await;
            seen.insert(status);
            lacks(status, "the answer to a message too large".into());
        }
        // The refusals really happened (this test sends what it means to).
        if operation.needs_a_token() {
            assert!(seen.contains(&401), "{}: {seen:?}", operation.name());
            assert!(seen.contains(&403), "{}: {seen:?}", operation.name());
        }
    }
    assert!(
        missing.is_empty(),
        "statuses missing from the OpenAPI document:\n{}",
        missing.join("\n")
    );
    app.stop().await;
}
