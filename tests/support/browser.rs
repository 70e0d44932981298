//! A browser without JavaScript for the staff pages and the customer portal: it keeps cookies
//! and does not follow redirects, so a test sees every step; it posts forms (and multipart
//! bodies) and reads hidden fields such as the CSRF token. Typed helpers sign staff and
//! customers in and act on a complaint's page.

use std::collections::{BTreeMap, BTreeSet};

use redress::clock::Clock;
use redress_core::Role;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};

use super::TestApp;

/// The password of every staff account [`TestApp::staff_account`] makes.
pub const PASSWORD: &str = "a long enough passphrase";

/// The cookie of a customer's portal session.
pub const CUSTOMER_COOKIE: &str = "redress_customer";

/// One answer as the browser saw it.
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    /// The `Set-Cookie` lines, whole (attributes included).
    pub set_cookies: Vec<String>,
    pub body: String,
    /// Every header of the answer.
    pub headers: reqwest::header::HeaderMap,
}

impl Page {
    /// Asserts the status; returns the page for more.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Page {
        assert_eq!(
            self.status, status,
            "expected {status}, got {}: {}",
            self.status, self.body
        );
        self
    }

    /// The value of the page's first hidden input called `name`, which must be there.
    #[track_caller]
    pub fn hidden(&self, name: &str) -> String {
        hidden(&self.body, name)
    }

    /// The value of the page's first CSRF field.
    #[track_caller]
    pub fn csrf_token(&self) -> String {
        self.hidden("csrf")
    }

    /// The whole `Set-Cookie` line of cookie `name`, if the answer set it.
    pub fn set_cookie(&self, name: &str) -> Option<&str> {
        let prefix = format!("{name}=");
        self.set_cookies
            .iter()
            .find(|c| c.starts_with(&prefix))
            .map(String::as_str)
    }

    /// The commands offered as forms on a complaint's staff page.
    pub fn commands(&self) -> BTreeSet<String> {
        let mut names = BTreeSet::new();
        let mut rest = self.body.as_str();
        while let Some(i) = rest.find("/commands/") {
            rest = &rest[i + "/commands/".len()..];
            let end = rest.find('"').expect("the end of a form action");
            names.insert(rest[..end].to_owned());
        }
        names
    }
}

/// The value of the first hidden input called `name` in `body`, which must be there.
#[track_caller]
pub fn hidden(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body
        .find(&marker)
        .unwrap_or_else(|| panic!("no field {name} in:\n{body}"))
        + marker.len();
    body[start..].split('"').next().expect("a value").to_owned()
}

/// A multipart/form-data body of `(field, file name, bytes)` parts; returns its content type
/// and the body.
pub fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----redress-test-boundary-7d1f";
    let mut body = Vec::new();
    for (name, file_name, bytes) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match file_name {
            Some(file_name) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

pub struct Browser {
    client: reqwest::Client,
    base: String,
    cookies: BTreeMap<String, String>,
}

impl Browser {
    pub fn new(app: &TestApp) -> Browser {
        Browser::from_address(app, std::net::Ipv4Addr::LOCALHOST)
    }

    /// A browser on another machine, as the server sees it: connecting from another loopback
    /// address.
    pub fn from_address(app: &TestApp, address: std::net::Ipv4Addr) -> Browser {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .local_address(std::net::IpAddr::V4(address))
            .build()
            .expect("a client");
        Browser {
            client,
            base: app.address.clone(),
            cookies: BTreeMap::new(),
        }
    }

    /// The value of a cookie the browser holds.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.get(name).map(String::as_str)
    }

    /// Puts a cookie in the jar, as someone who kept an old one would.
    pub fn set_cookie(&mut self, name: &str, value: &str) {
        self.cookies.insert(name.to_owned(), value.to_owned());
    }

    pub async fn send(&mut self, request: reqwest::RequestBuilder) -> Page {
        let request = if self.cookies.is_empty() {
            request
        } else {
            let header: Vec<String> = self
                .cookies
                .iter()
                .map(|(n, v)| format!("{n}={v}"))
                .collect();
            request.header(COOKIE, header.join("; "))
        };
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get(LOCATION)
            .map(|v| v.to_str().expect("an ASCII location").to_owned());
        let set_cookies: Vec<String> = response
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().expect("an ASCII cookie").to_owned())
            .collect();
        for cookie in &set_cookies {
            let (pair, attributes) = cookie.split_once(';').unwrap_or((cookie, ""));
            let (name, value) = pair.split_once('=').expect("name=value");
            if value.is_empty() || attributes.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let headers = response.headers().clone();
        let body = response.text().await.expect("a body");
        Page {
            status,
            location,
            set_cookies,
            body,
            headers,
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let request = self.client.get(format!("{}{path}", self.base));
        self.send(request).await
    }

    /// Posts an application/x-www-form-urlencoded form.
    pub async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let body = serde_urlencoded::to_string(fields).expect("a form body");
        let request = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        self.send(request).await
    }

    /// Posts an application/x-www-form-urlencoded body as it is.
    pub async fn post_body(&mut self, path: &str, body: &str) -> Page {
        let request = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_owned());
        self.send(request).await
    }

    /// Posts multipart/form-data: (field, file name, bytes).
    pub async fn post_multipart(
        &mut self,
        path: &str,
        parts: &[(&str, Option<&str>, &[u8])],
    ) -> Page {
        let (content_type, body) = multipart(parts);
        let request = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", content_type)
            .body(body);
        self.send(request).await
    }

    // ---- staff ----

    /// Opens the staff sign-in page and signs in with its CSRF token.
    pub async fn sign_in_staff(&mut self, email: &str, password: &str) -> Page {
        let form = self.get("/staff/sign-in").await;
        let csrf = form.csrf_token();
        self.post_form(
            "/staff/sign-in",
            &[("csrf", &csrf), ("email", email), ("password", password)],
        )
        .await
    }

    /// A new browser signed in as staff with [`PASSWORD`], which must succeed.
    pub async fn signed_in_staff(app: &TestApp, email: &str) -> Browser {
        Browser::new(app).signs_in_staff(email).await
    }

    /// Signs this browser in as staff with [`PASSWORD`], which must succeed.
    pub async fn signs_in_staff(mut self, email: &str) -> Browser {
        let answer = self.sign_in_staff(email, PASSWORD).await;
        answer.expect(303);
        assert_eq!(answer.location.as_deref(), Some("/staff"));
        self
    }

    /// Opens a complaint's staff page, which must answer 200.
    pub async fn case(&mut self, reference: &str) -> Page {
        let page = self.get(&format!("/staff/complaints/{reference}")).await;
        page.expect(200);
        page
    }

    /// Posts a command's form from the complaint's staff page, with its CSRF token.
    pub async fn command(&mut self, reference: &str, name: &str, fields: &[(&str, &str)]) -> Page {
        let csrf = self.case(reference).await.csrf_token();
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_form(
            &format!("/staff/complaints/{reference}/commands/{name}"),
            &all,
        )
        .await
    }

    // ---- customers ----

    /// Opens the portal's sign-in page and signs in with a reference and postcode.
    pub async fn sign_in_customer(&mut self, reference: &str, postcode: &str) -> Page {
        let page = self.get("/my").await;
        assert_eq!(page.status, 200);
        let csrf = page.csrf_token();
        self.post_form(
            "/my/sign-in",
            &[
                ("csrf", &csrf),
                ("reference", reference),
                ("postcode", postcode),
            ],
        )
        .await
    }

    /// A new browser signed in to the portal with a reference and postcode, which must
    /// succeed.
    pub async fn signed_in_customer(app: &TestApp, reference: &str, postcode: &str) -> Browser {
        let mut browser = Browser::new(app);
        let answer = browser.sign_in_customer(reference, postcode).await;
        assert_eq!(answer.status, 303, "{}", answer.body);
        assert_eq!(answer.location.as_deref(), Some("/my/complaints"));
        browser
    }

    /// Whether the browser holds a customer's portal session.
    pub fn has_customer_session(&self) -> bool {
        self.cookies.contains_key(CUSTOMER_COOKIE)
    }
}

impl TestApp {
    /// A staff account with [`PASSWORD`], called "Staff {email}".
    pub async fn staff_account(&self, email: &str, role: Role, department: Option<&str>) {
        self.store
            .create_user(
                email,
                &format!("Staff {email}"),
                PASSWORD,
                role,
                department,
                self.clock.now(),
            )
            .await
            .expect("a staff account");
    }
}
