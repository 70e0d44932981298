//! `Application::build(config)`: opens the store, migrates, binds the listener (port 0 works,
//! for tests) and starts the deadline scheduler, the letter sender and the ledger's sealer;
//! `run_until_stopped` serves until SIGTERM or SIGINT, then finishes in-flight requests and
//! stops the background jobs.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use redress_core::Procedure;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::clock::Clock;
use crate::http::AppState;
use crate::jobs::scheduler;
use crate::keys::SigningKey;
use crate::store::Store;

/// Everything `redress serve` needs.
#[derive(Clone)]
pub struct Config {
    pub database: String,
    pub listen: String,
    pub procedure: Arc<Procedure>,
    pub clock: Arc<dyn Clock>,
    pub scheduler_interval: Duration,
    /// How long a client may take to send a request's head, and how long an idle kept-alive
    /// connection stays open.
    pub header_read_timeout: Duration,
    pub web: WebConfig,
    /// A mailbox to poll for email in (`--imap-url`), if any.
    pub imap: Option<crate::mail::imap::ImapConfig>,
    /// How letters and emails are sent (SMTP or the file transport; post to a print queue).
    pub mail: crate::mail::send::MailConfig,
    /// Signs each ledger block (`--signing-key`); without it, blocks are sealed unsigned.
    pub signing_key: Option<Arc<SigningKey>>,
    /// How often the ledger is sealed.
    pub seal_interval: Duration,
}

pub use crate::state::WebConfig;

impl Config {
    /// A configuration with the defaults for everything but the essentials.
    pub fn new(
        database: &str,
        listen: &str,
        procedure: Arc<Procedure>,
        clock: Arc<dyn Clock>,
    ) -> Config {
        Config {
            database: database.to_owned(),
            listen: listen.to_owned(),
            procedure,
            clock,
            scheduler_interval: Duration::from_secs(1),
            header_read_timeout: crate::http::server::HEADER_READ_TIMEOUT,
            web: WebConfig {
                files_dir: PathBuf::from("redress-files"),
                print_dir: PathBuf::from("redress-print"),
                secure_cookies: false,
                public_url: format!("http://{listen}"),
                trusted_proxies: Vec::new(),
            },
            imap: None,
            mail: crate::mail::send::MailConfig::default(),
            signing_key: None,
            seal_interval: Duration::from_secs(5),
        }
    }
}

/// A built, bound application, not yet serving.
pub struct Application {
    listener: TcpListener,
    store: Store,
    clock: Arc<dyn Clock>,
    scheduler_interval: Duration,
    header_read_timeout: Duration,
    web: Arc<WebConfig>,
    imap: Option<crate::mail::imap::ImapConfig>,
    mailer: Arc<crate::mail::send::Mailer>,
    signing_key: Option<Arc<SigningKey>>,
    seal_interval: Duration,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let store = Store::connect(&config.database, config.procedure.clone())
            .await
            .with_context(|| "cannot open the database")?;
        store
            .migrate()
            .await
            .context("cannot bring the database schema up to date")?;
        store
            .check_signing_key(config.signing_key.as_deref())
            .await
            .context("cannot seal the ledger")?;
        let mut mail = config.mail;
        mail.public_url = config.web.public_url.clone();
        mail.files_dir = config.web.files_dir.clone();
        let mut web = config.web;
        web.print_dir = mail.print_dir.clone();
        let mailer = crate::mail::send::Mailer::new(store.clone(), mail)
            .context("cannot set up sending letters")?;
        let listener = TcpListener::bind(&config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        Ok(Application {
            listener,
            store,
            clock: config.clock,
            scheduler_interval: config.scheduler_interval,
            header_read_timeout: config.header_read_timeout,
            imap: config.imap,
            mailer: Arc::new(mailer),
            signing_key: config.signing_key,
            seal_interval: config.seal_interval,
            web: Arc::new(web),
        })
    }

    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// What sends the outbox (tests drain it on demand).
    pub fn mailer(&self) -> Arc<crate::mail::send::Mailer> {
        self.mailer.clone()
    }

    /// Serves until `shutdown` completes (or SIGTERM/SIGINT when `None`).
    pub async fn run_until<F>(self, shutdown: F) -> anyhow::Result<()>
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let _ = crate::http::metrics::handle();
        let (stop_tx, stop_rx) = watch::channel(false);
        let scheduler = tokio::spawn(scheduler::run(
            self.store.clone(),
            self.clock.clone(),
            self.scheduler_interval,
            stop_rx.clone(),
        ));
        let sender = tokio::spawn(crate::jobs::sender::run(
            self.mailer.clone(),
            self.clock.clone(),
            stop_rx.clone(),
        ));
        let sealer = tokio::spawn(crate::jobs::sealer::run(
            self.store.clone(),
            self.clock.clone(),
            self.signing_key.clone(),
            self.seal_interval,
            stop_rx.clone(),
        ));
        let retention = tokio::spawn(crate::jobs::retention::run(
            self.store.clone(),
            self.clock.clone(),
            self.web.folders(),
            stop_rx.clone(),
        ));
        let imap = self.imap.clone().map(|imap| {
            let inbox =
                crate::mail::inbound::Inbox::new(self.store.clone(), self.web.files_dir.clone());
            tokio::spawn(crate::mail::imap::run(
                inbox,
                self.clock.clone(),
                imap,
                stop_rx.clone(),
            ))
        });
        let state = AppState {
            store: self.store.clone(),
            clock: self.clock.clone(),
            web: self.web.clone(),
        };
        let app = router(state);
        tracing::info!(address = %self.listener.local_addr()?, "serving");
        let served =
            crate::http::server::serve(self.listener, app, self.header_read_timeout, shutdown)
                .await;
        // Stop claiming deadlines; wait for the tick in progress to commit or roll back.
        let _ = stop_tx.send(true);
        let _ = scheduler.await;
        // The sender finishes the letters in hand and gives back the rest of its batch.
        let _ = sender.await;
        // The sealer seals what the requests and the scheduler recorded.
        let _ = sealer.await;
        let _ = retention.await;
        if let Some(imap) = imap {
            let _ = imap.await;
        }
        self.store.close().await;
        tracing::info!("stopped");
        served.context("the HTTP server failed")
    }

    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(shutdown_signal()).await
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
    tracing::info!("shutdown requested; finishing requests in flight");
}

/// The whole HTTP application: the API and the web pages side by side, with one fallback that
/// answers in the caller's language (a problem document under `/api`, an HTML page elsewhere)
/// and the layers every response passes through.
pub fn router(state: AppState) -> axum::Router {
    let routes = axum::Router::new()
        .merge(crate::http::router())
        .merge(crate::web::router())
        .fallback(not_found)
        // After every route is merged: it applies to the routes present when it is called.
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::web::name_error_pages,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::web::security_headers,
        ));
    crate::http::around(routes).with_state(state)
}

fn is_api(uri: &axum::http::Uri) -> bool {
    uri.path().starts_with("/api/")
}

async fn method_not_allowed(uri: axum::http::Uri) -> axum::response::Response {
    if is_api(&uri) {
        crate::http::method_not_allowed()
    } else {
        crate::web::error_page(&crate::web::PageError::MethodNotAllowed)
    }
}

async fn not_found(uri: axum::http::Uri) -> axum::response::Response {
    if is_api(&uri) {
        crate::http::not_found()
    } else {
        crate::web::error_page(&crate::web::PageError::NotFound(
            "there is nothing at this address".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn web(secure_cookies: bool, public_url: &str) -> WebConfig {
        WebConfig {
            files_dir: PathBuf::from("files"),
            print_dir: PathBuf::from("print"),
            secure_cookies,
            public_url: public_url.to_owned(),
            trusted_proxies: Vec::new(),
        }
    }

    #[test]
    fn https_is_the_flag_or_an_https_public_address() {
        assert!(web(true, "http://127.0.0.1:8080").https());
        assert!(web(false, "https://complaints.example").https());
        assert!(web(false, "HTTPS://complaints.example").https());
        assert!(!web(false, "http://complaints.example").https());
        // Not fooled by an address that merely mentions https.
        assert!(!web(false, "http://https.example").https());
        assert!(!web(false, "").https());
    }
}
