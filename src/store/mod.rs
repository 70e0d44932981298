//! The store: SQLite (embedded default) or PostgreSQL, through one interface.
//!
//! The `events` table is the record (append-only, hash-chained per complaint); `complaints`
//! is a projection of it and `deadlines` the scheduler's rows. Every change to a complaint is
//! one transaction that holds the complaint's lock: load state, run the core, append events,
//! update the projection, deadlines and outbox, commit. Backend differences are confined to
//! this module: the migrations folder, how a write transaction begins, and row locking
//! (`FOR UPDATE [SKIP LOCKED]` on PostgreSQL; SQLite has one writer at a time).

mod audit;
mod dashboard;
mod inbound;
mod letters;
mod outbox;
mod people;
mod read;
mod tokens;
mod write;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use redress_core::{Procedure, Refusal};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Executor};
use tokio::sync::Mutex;

pub use audit::{AuditProblem, AuditReport};
pub use dashboard::{QueueEntry, StageFigures};
pub use inbound::{InboundRecord, NewQuarantine, QuarantineRow};
pub use letters::LetterRow;
pub use outbox::{LetterListing, OutboxItem, Printed};
pub use people::{
    AttachmentRow, CustomerScope, FAILURE_WINDOW_MINUTES, LINK_MINUTES, MAX_FAILURES,
    NewAttachment, SESSION_HOURS, Session, SessionOwner, User, hash_password, random_token,
};
pub use read::{
    ComplaintFilter, ComplaintPage, ComplaintSummary, ComplaintView, DeadlineRow, EventRow,
};
pub use tokens::TokenInfo;
pub use write::{
    CommandOutcome, Created, Idempotency, Replayed, StoredResponse, letter_for, new_deadline_rows,
};

/// Which database a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// What can go wrong in the store. Database details are logged, never shown to clients.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no complaint has that reference")]
    NotFound,
    #[error("{0}")]
    Refused(Refusal),
    #[error("the Idempotency-Key was already used for a different request")]
    IdempotencyMismatch,
    #[error("stored data could not be read: {0}")]
    Corrupt(String),
    #[error("database error")]
    Database(#[from] sqlx::Error),
    #[error("migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// A handle on the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// SQLite allows one writer: writers in this process queue here instead of spinning on
    /// SQLITE_BUSY. (Several processes on one SQLite file still work, through busy_timeout.)
    write_lock: Option<Arc<Mutex<()>>>,
    procedure: Arc<Procedure>,
}

/// Turns a bare path into a SQLite URL; leaves URLs alone.
pub fn normalise_url(database: &str) -> String {
    if database.contains("://") || database.starts_with("sqlite:") {
        database.to_owned()
    } else {
        format!("sqlite://{database}")
    }
}

impl Store {
    /// Connects (creating a SQLite file if needed). Does not migrate.
    pub async fn connect(database: &str, procedure: Arc<Procedure>) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let url = normalise_url(database);
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(StoreError::Database(sqlx::Error::Configuration(
                "the database must be a SQLite path or a postgres:// URL".into(),
            )));
        };
        let pool = match backend {
            Backend::Sqlite => {
                // Create the file if missing; WAL so readers never block the writer;
                // synchronous=NORMAL is durable across process crashes in WAL mode.
                let options = sqlx::sqlite::SqliteConnectOptions::from_str(&url)?
                    .create_if_missing(true)
                    .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10));
                // Open once natively so the file and its pragmas exist before the Any pool.
                let mut conn = options.connect().await?;
                conn.execute("SELECT 1").await?;
                drop(conn);
                let any = AnyConnectOptions::from_str(&url)?;
                AnyPoolOptions::new()
                    .max_connections(8)
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            conn.execute("PRAGMA foreign_keys = ON").await?;
                            conn.execute("PRAGMA busy_timeout = 10000").await?;
                            conn.execute("PRAGMA synchronous = NORMAL").await?;
                            Ok(())
                        })
                    })
                    .connect_with(any)
                    .await?
            }
            Backend::Postgres => {
                let any = AnyConnectOptions::from_str(&url)?;
                AnyPoolOptions::new()
                    .max_connections(16)
                    .connect_with(any)
                    .await?
            }
        };
        let write_lock = (backend == Backend::Sqlite).then(|| Arc::new(Mutex::new(())));
        Ok(Store {
            pool,
            backend,
            write_lock,
            procedure,
        })
    }

    /// Brings the schema up to date (embedded, forward-only migrations).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self.backend {
            Backend::Sqlite => {
                sqlx::migrate!("./migrations/sqlite")
                    .run(&self.pool)
                    .await?
            }
            Backend::Postgres => {
                sqlx::migrate!("./migrations/postgres")
                    .run(&self.pool)
                    .await?
            }
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn procedure(&self) -> &Procedure {
        &self.procedure
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Checks the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Instants are stored as microseconds since the epoch.
pub(crate) fn micros(t: Timestamp) -> i64 {
    t.as_microsecond()
}

pub(crate) fn from_micros(value: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_microsecond(value)
        .map_err(|e| StoreError::Corrupt(format!("bad instant {value}: {e}")))
}
