//! What every handler (API and pages alike) can reach, and the web pages' settings. Below
//! `http/` and `web/`, which are siblings: the composition root (`app.rs`) builds the state
//! and mounts both.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

use crate::clock::Clock;
use crate::store::Store;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub web: Arc<WebConfig>,
}

/// Settings of the web pages.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Where uploaded files are kept (by content hash).
    pub files_dir: PathBuf,
    /// The print queue folder (`serve --print-dir`; set from the mail settings), whose PDFs
    /// an erasure deletes.
    pub print_dir: PathBuf,
    /// Mark cookies Secure (the site is served over TLS, perhaps behind a proxy).
    pub secure_cookies: bool,
    /// The site's address as customers see it, for links in emails.
    pub public_url: String,
    /// Proxies in front of the server whose `X-Forwarded-For` is believed
    /// (see [`crate::client::client_ip`]).
    pub trusted_proxies: Vec<IpAddr>,
}

impl WebConfig {
    /// Where an erasure's files are.
    pub fn folders(&self) -> crate::retention::Folders {
        crate::retention::Folders {
            files_dir: self.files_dir.clone(),
            print_dir: self.print_dir.clone(),
        }
    }

    /// Whether browsers reach the site over HTTPS (perhaps through a proxy that ends TLS):
    /// `--secure-cookies`, or a public address that is https. Then every cookie is Secure and
    /// every response asks browsers never to use plain HTTP for the site again (HSTS).
    pub fn https(&self) -> bool {
        self.secure_cookies
            || self
                .public_url
                .trim_start()
                .get(..8)
                .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"))
    }
}
