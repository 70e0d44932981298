//! The JSON API as the tests call it: typed helpers on [`TestApp`], and the same requests
//! against any server by URL (a `redress serve` process).

use redress_core::Role;
use serde_json::Value;

use super::TestApp;

/// Sends `request`; returns the answer's status and its JSON (`Null` when it is not JSON).
pub async fn answer(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("the server answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// `POST url` with a bearer token and a JSON body.
pub async fn post_json(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    body: Value,
) -> (u16, Value) {
    answer(client.post(url).bearer_auth(token).json(&body)).await
}

/// `GET url`, with a bearer token or without one.
pub async fn get_json(client: &reqwest::Client, url: &str, token: Option<&str>) -> (u16, Value) {
    let mut request = client.get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    answer(request).await
}

/// The reference of a complaint just created: the answer must be 201.
#[track_caller]
pub fn created_reference(status: u16, created: &Value) -> String {
    assert_eq!(status, 201, "{created}");
    created["reference"]
        .as_str()
        .expect("a reference")
        .to_owned()
}

impl TestApp {
    /// A token for a customer services handler called `staff`.
    pub async fn handler_token(&self, staff: &str) -> String {
        self.token(Role::Handler, Some("customer_services"), Some(staff))
            .await
    }

    /// `POST path` with a bearer token and a JSON body.
    pub async fn post_json(&self, token: &str, path: &str, body: Value) -> (u16, Value) {
        post_json(&self.client, &self.url(path), token, body).await
    }

    /// `GET path`, with a bearer token or without one.
    pub async fn get_json(&self, token: Option<&str>, path: &str) -> (u16, Value) {
        get_json(&self.client, &self.url(path), token).await
    }

    /// Records a complaint through the API, which must answer 201; returns its reference.
    pub async fn create_complaint(&self, token: &str, body: Value) -> String {
        let (status, created) = self.post_json(token, "/api/v1/complaints", body).await;
        created_reference(status, &created)
    }

    /// Runs a command on a complaint through the API; returns the answer.
    pub async fn command(
        &self,
        token: &str,
        reference: &str,
        name: &str,
        body: Value,
    ) -> (u16, Value) {
        let path = format!("/api/v1/complaints/{reference}/commands/{name}");
        self.post_json(token, &path, body).await
    }

    /// A complaint as the API shows it, which must answer 200.
    pub async fn complaint_json(&self, token: &str, reference: &str) -> Value {
        let (status, body) = self
            .get_json(Some(token), &format!("/api/v1/complaints/{reference}"))
            .await;
        assert_eq!(status, 200, "GET {reference}: {body}");
        body
    }
}
