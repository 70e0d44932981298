//! Shared by the black-box tests: a real `redress serve` application on port 0 with a fresh
//! database (a temporary SQLite file, or a new PostgreSQL database by name), a clock the test
//! moves, and tokens for every role; `api` (typed JSON API calls on [`TestApp`]), `browser`
//! (the staff pages and portal as a browser without JavaScript sees them) and `process` (the
//! real binary as child processes). Each test binary uses some of it, hence `dead_code`.
#![allow(dead_code)]

pub mod api;
pub mod browser;
pub mod process;

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use redress::app::{Application, Config};
use redress::clock::{Clock, ManualClock};
use redress::store::Store;
use redress_core::{Procedure, Role};
use sqlx::Connection;
use tokio::sync::oneshot;

/// Makes two `#[tokio::test]`s of each scenario `async fn name(db: Db)`: one on SQLite, one on
/// PostgreSQL (which says it skipped when no server is reachable outside CI).
#[allow(unused_macros)]
macro_rules! both_backends {
    ($($scenario:ident => $sqlite:ident, $postgres:ident;)*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $sqlite() {
                $scenario(Db::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $postgres() {
                $scenario(Db::Postgres).await;
            }
        )*
    };
}

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server tests use: `REDRESS_TEST_POSTGRES_URL`, by default the local server.
pub fn postgres_admin_url() -> String {
    std::env::var("REDRESS_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// Whether the tests run under CI, where a missing server (PostgreSQL, Dovecot, aiosmtpd) is a
/// failure rather than a reason to skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false")
}

/// Creates a fresh PostgreSQL database and returns its URL; `None` (the test skips) when no
/// server is reachable, except under CI where a missing PostgreSQL is a failure.
pub async fn fresh_postgres_database() -> Option<String> {
    let admin = postgres_admin_url();
    let mut conn = match sqlx::postgres::PgConnection::connect(&admin).await {
        Ok(conn) => conn,
        Err(error) => {
            if in_ci() {
                panic!("PostgreSQL is not reachable at {admin} under CI: {error}");
            }
            eprintln!("skipped: PostgreSQL is not reachable at {admin} ({error})");
            return None;
        }
    };
    let name = format!("redress_test_{}_{}", std::process::id(), unique());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .expect("create a test database");
    let base = admin
        .rsplit_once('/')
        .map_or(admin.as_str(), |(base, _)| base)
        .to_owned();
    Some(format!("{base}/{name}"))
}

/// The database of a test that runs the binary itself: a SQLite file in `dir`, or a fresh
/// PostgreSQL database (`None`: the test skips, as [`fresh_postgres_database`] says).
pub async fn fresh_database(db: Db, dir: &std::path::Path) -> Option<String> {
    match db {
        Db::Sqlite => Some(dir.join("redress.db").display().to_string()),
        Db::Postgres => fresh_postgres_database().await,
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    NEXT.fetch_add(1, Ordering::Relaxed) * 1_000_000_000 + u64::from(nanos)
}

/// A running application and what a test needs to talk to it.
pub struct TestApp {
    pub address: String,
    pub store: Store,
    pub clock: ManualClock,
    pub client: reqwest::Client,
    pub database: String,
    /// Where the application keeps files (attachments, quarantined email) by content hash.
    pub files_dir: std::path::PathBuf,
    /// Where the file transport writes .eml files, and the print queue folder.
    pub mail_dir: std::path::PathBuf,
    pub print_dir: std::path::PathBuf,
    pub mailer: Arc<redress::mail::send::Mailer>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _dir: Option<tempfile::TempDir>,
    _mail: tempfile::TempDir,
}

/// The instant tests start at unless they say otherwise.
pub const START: &str = "2026-03-02T09:00:00Z";

pub fn ts(text: &str) -> Timestamp {
    text.parse().expect("a test instant")
}

/// Starts the application on `db` with the default procedure; `None` if PostgreSQL is wanted
/// but not available (outside CI).
pub async fn spawn_app(db: Db) -> Option<TestApp> {
    spawn_app_with(db, Procedure::default_procedure()).await
}

pub async fn spawn_app_with(db: Db, procedure: Procedure) -> Option<TestApp> {
    spawn_app_configured(db, procedure, |_| {}).await
}

/// Like [`spawn_app_with`], with the configuration changed by `adjust` before the application
/// is built (HTTPS, timeouts, trusted proxies).
pub async fn spawn_app_configured(
    db: Db,
    procedure: Procedure,
    adjust: impl FnOnce(&mut Config),
) -> Option<TestApp> {
    let (database, dir) = match db {
        Db::Sqlite => {
            let dir = tempfile::tempdir().expect("a temporary directory");
            let path = dir.path().join("redress.db");
            (path.display().to_string(), Some(dir))
        }
        // A folder of its own for the files (attachments, quarantined email) all the same.
        Db::Postgres => (
            fresh_postgres_database().await?,
            Some(tempfile::tempdir().expect("a temporary directory")),
        ),
    };
    Some(start(database, dir, procedure, adjust).await)
}

/// Starts the application on an existing PostgreSQL database (one an earlier `TestApp` used;
/// a SQLite file goes with its `TestApp`'s folder).
pub async fn spawn_app_on(db: Db, database: String) -> TestApp {
    assert_eq!(
        db,
        Db::Postgres,
        "only a PostgreSQL database outlives its TestApp"
    );
    let dir = tempfile::tempdir().expect("a temporary directory");
    start(database, Some(dir), Procedure::default_procedure(), |_| {}).await
}

/// Starts the application on an existing SQLite file (one `redress seed-data` filled).
pub async fn spawn_app_at(database: &str) -> TestApp {
    let dir = tempfile::tempdir().expect("a temporary directory");
    start(
        database.to_owned(),
        Some(dir),
        Procedure::default_procedure(),
        |_| {},
    )
    .await
}

/// A second application on `app`'s database (another node), with the configuration changed by
/// `adjust`; its files, letters and clock are its own.
pub async fn spawn_app_beside(app: &TestApp, adjust: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().expect("a temporary directory");
    start(
        app.database.clone(),
        Some(dir),
        Procedure::default_procedure(),
        adjust,
    )
    .await
}

async fn start(
    database: String,
    dir: Option<tempfile::TempDir>,
    procedure: Procedure,
    adjust: impl FnOnce(&mut Config),
) -> TestApp {
    let clock = ManualClock::new(ts(START));
    let mut config = Config::new(
        &database,
        "127.0.0.1:0",
        Arc::new(procedure),
        Arc::new(clock.clone()) as Arc<dyn Clock>,
    );
    // Tests fire deadlines themselves (`fire_deadlines`), so the scheduler only ticks at start.
    config.scheduler_interval = Duration::from_secs(3600);
    // Tests seal the ledger themselves (`Store::seal`), so the sealer seals only at stop.
    config.seal_interval = Duration::from_secs(3600);
    config.web.files_dir = dir
        .as_ref()
        .map_or_else(std::env::temp_dir, |d| d.path().join("files"));
    // Letters go to files in a folder of the test's own (the sender runs as in `serve`).
    let mail = tempfile::tempdir().expect("a temporary directory");
    config.mail.mail_dir = mail.path().join("mail");
    config.mail.print_dir = mail.path().join("print");
    // Tests send letters themselves (`send_letters`), at moments they choose: the sender
    // never runs on its own (its first pass would race with the test).
    config.mail.interval = Duration::from_secs(3600);
    config.mail.send_at_start = false;
    adjust(&mut config);
    let files_dir = config.web.files_dir.clone();
    let (mail_dir, print_dir) = (config.mail.mail_dir.clone(), config.mail.print_dir.clone());
    let app = Application::build(config)
        .await
        .expect("the application builds");
    let mailer = app.mailer();
    let address = format!("http://{}", app.local_addr().expect("bound"));
    let store = app.store().clone();
    let (tx, rx) = oneshot::channel();
    let server = tokio::spawn(app.run_until(async move {
        let _ = rx.await;
    }));
    TestApp {
        address,
        store,
        clock,
        client: reqwest::Client::new(),
        database,
        files_dir,
        mail_dir,
        print_dir,
        mailer,
        shutdown: Some(tx),
        server: Some(server),
        _dir: dir,
        _mail: mail,
    }
}

impl TestApp {
    /// A token for a role (and department, for handlers and managers).
    pub async fn token(&self, role: Role, department: Option<&str>, staff: Option<&str>) -> String {
        self.store
            .create_token(role, department, staff, Some("test"), self.clock.now())
            .await
            .expect("create a token")
    }

    /// Fires every deadline due at the test clock's time, as the scheduler would.
    pub async fn fire_deadlines(&self) -> usize {
        redress::jobs::scheduler::fire_all_due(&self.store, &self.clock).await
    }

    /// Sends every letter due at the test clock's time, as the sender would; returns how many
    /// went.
    pub async fn send_letters(&self) -> usize {
        redress::jobs::sender::send_due(&self.mailer, &self.clock, None).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Tells the server to stop (as SIGTERM does) without waiting for it: it stops accepting
    /// and finishes the requests in flight. [`TestApp::stop`] then waits.
    pub fn begin_stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) {
        self.begin_stop();
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }

    /// Like [`TestApp::stop`], and the server (with its jobs) must have ended without an error.
    pub async fn stop_cleanly(mut self) {
        self.begin_stop();
        if let Some(server) = self.server.take() {
            server.await.expect("join").expect("served");
        }
    }
}

/// A minimal valid complaint body.
pub fn complaint_body(account: &str, name: &str) -> serde_json::Value {
    serde_json::json!({
        "channel": "telephone",
        "customer": {"account": account, "name": name, "postcode": "M22 4SY"},
        "summary": "Broadband drops every evening",
        "category": "faults_service_provision"
    })
}
