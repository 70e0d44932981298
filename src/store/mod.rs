//! The store: SQLite (embedded default) or PostgreSQL, through one interface.
//!
//! The `events` table is the record (append-only, hash-chained per complaint); `complaints`
//! is a projection of it and `deadlines` the scheduler's rows. Every change to a complaint is
//! one transaction that holds the complaint's lock: load state, run the core, append events,
//! update the projection, deadlines, outbox and the attachment rows of any files the change
//! brings, commit. Writes take and return domain values (`Created`, `CommandOutcome`); a write
//! made once per key (`Keyed`) keeps its answer as JSON in the same transaction, and nothing
//! here knows how a caller shows it. Backend differences are confined to
//! this module: the migrations folder, how a write transaction begins, and row locking
//! (`FOR UPDATE [SKIP LOCKED]` on PostgreSQL; SQLite has one writer at a time). Each change
//! also queues its complaint for the ledger (`ledger.rs`), which seals the chains' heads into
//! signed blocks.

mod audit;
mod bulk;
mod chain;
mod counts;
mod dashboard;
mod erasure;
mod firing;
mod inbound;
mod intake;
mod ledger;
mod letters;
mod outbox;
mod people;
mod read;
mod report;
mod rows;
mod search;
mod tokens;
pub mod via;
mod write;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use redress_core::{Procedure, Refusal};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Executor};
use tokio::sync::Mutex;

pub use audit::{AuditProblem, AuditReport, Signatures, VerifyWith};
pub use bulk::{Change, Delivery, History, Prepared, prepare};
pub use counts::Count;
pub use dashboard::{QueueEntry, StageFigures};
pub use erasure::RetentionCandidate;
pub use inbound::{InboundRecord, NewQuarantine, QuarantineRow, Resolution, Resolved, Resolving};
pub use intake::MAX_BATCH;
pub use ledger::{Anchor, Block, Entry as LedgerEntry, MAX_BLOCK_ENTRIES, block_hash};
pub use letters::LetterRow;
pub use outbox::{
    LetterCopy, LetterListing, OutboxItem, PrintLogEntry, Printed, Reprinted, SentLetter,
};
pub use people::{
    AttachmentRow, CustomerScope, FAILURE_WINDOW_MINUTES, LINK_MINUTES, MAX_FAILURES,
    SESSION_HOURS, Session, SessionOwner, User, hash_password, random_token,
};
pub use read::{
    ComplaintFilter, ComplaintPage, ComplaintSummary, ComplaintView, DeadlineRow, EventRow,
};
pub use report::{Report, ReportAsk};
pub use rows::ASSIGNMENT_NOTICE;
pub use rows::NewAttachment;
pub use tokens::{TOKEN_CACHE_SECONDS, TokenInfo, TokenListing};
pub use write::{CommandOutcome, Created, EventLink, GENESIS_HASH, Idempotency, Keyed};

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
    /// The key was used with an earlier version of Redress, whose kept answer cannot be read
    /// back: the request was done then and is not done again.
    #[error("the Idempotency-Key was used before an upgrade")]
    KeptByEarlierVersion,
    #[error("stored data could not be read: {0}")]
    Corrupt(String),
    /// The ledger cannot be sealed as asked (a sentence saying why and what to do).
    #[error("{0}")]
    Ledger(String),
    /// Complaints written in bulk do not carry the store's next references (a sentence naming
    /// the one expected).
    #[error("{0}")]
    Numbering(String),
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
    /// New complaints waiting to be recorded together (group commit).
    intake: Arc<intake::Intake>,
    tokens: Arc<tokens::TokenCache>,
    /// Background work (the SQLite checkpointer) stops once every handle is dropped.
    alive: Arc<()>,
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

/// SQLite's `synchronous` setting: FULL unless `REDRESS_SQLITE_SYNCHRONOUS=normal` asks for the
/// weaker one. That exists only so the power-loss test can show what it catches; `NORMAL`
/// acknowledges commits a power cut can take back.
fn sqlite_synchronous() -> Result<(sqlx::sqlite::SqliteSynchronous, &'static str), StoreError> {
    use sqlx::sqlite::SqliteSynchronous;
    match std::env::var("REDRESS_SQLITE_SYNCHRONOUS").ok().as_deref() {
        None | Some("") | Some("full") => {
            Ok((SqliteSynchronous::Full, "PRAGMA synchronous = FULL"))
        }
        Some("normal") => {
            tracing::warn!(
                "SQLite synchronous=NORMAL: acknowledged commits can be lost at a power cut"
            );
            Ok((SqliteSynchronous::Normal, "PRAGMA synchronous = NORMAL"))
        }
        Some(_) => Err(StoreError::Database(sqlx::Error::Configuration(
            "REDRESS_SQLITE_SYNCHRONOUS must be full or normal".into(),
        ))),
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
                // synchronous=FULL so the log is fsynced before a commit returns: nothing is
                // acknowledged that a power cut could take back (group commit shares the
                // fsync among many requests).
                let synchronous = sqlite_synchronous()?;
                let options = sqlx::sqlite::SqliteConnectOptions::from_str(&url)?
                    .create_if_missing(true)
                    .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(synchronous.0)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10));
                // Open once natively so the file and its pragmas exist before the Any pool.
                let mut conn = options.connect().await?;
                conn.execute("SELECT 1").await?;
                drop(conn);
                let any = AnyConnectOptions::from_str(&url)?;
                // No ping before each use: the connection is a thread in this process, and
                // the ping would cost a round trip to it on every transaction and read.
                AnyPoolOptions::new()
                    .max_connections(8)
                    .test_before_acquire(false)
                    .after_connect(move |conn, _meta| {
                        Box::pin(async move {
                            conn.execute("PRAGMA foreign_keys = ON").await?;
                            conn.execute("PRAGMA busy_timeout = 10000").await?;
                            conn.execute(synchronous.1).await?;
                            // Deleted and overwritten content is zeroed in the file, so
                            // erased personal data does not linger in free space.
                            conn.execute("PRAGMA secure_delete = ON").await?;
                            // Checkpoints run beside the writers (`checkpoint_wal`), not
                            // inside whichever commit fills the log.
                            conn.execute("PRAGMA wal_autocheckpoint = 0").await?;
                            conn.execute("PRAGMA journal_size_limit = 268435456")
                                .await?;
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
                    // A commit returns only once the server has flushed its log, whatever the
                    // server's own default says.
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            conn.execute("SET synchronous_commit = on").await?;
                            Ok(())
                        })
                    })
                    .connect_with(any)
                    .await?
            }
        };
        let write_lock = (backend == Backend::Sqlite).then(|| Arc::new(Mutex::new(())));
        let intake_lock = write_lock
            .clone()
            .unwrap_or_else(|| Arc::new(Mutex::new(())));
        let store = Store {
            pool,
            backend,
            write_lock,
            intake: Arc::new(intake::Intake::new(intake_lock)),
            tokens: Arc::default(),
            alive: Arc::new(()),
            procedure,
        };
        if backend == Backend::Sqlite {
            tokio::spawn(checkpoint_wal(
                store.pool.clone(),
                store.write_lock.clone(),
                Arc::downgrade(&store.alive),
            ));
        }
        Ok(store)
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
        // Complaints recorded before the reports' facts were kept get theirs, once.
        self.backfill_report_facts().await?;
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

/// How often the SQLite log is copied into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);
/// Past this many pages (4 KiB each, so 256 MiB) of log, the checkpointer finishes between two
/// of this process's write transactions, so that the next one starts the log again from the
/// beginning and the log cannot grow without bound under steady writing. (When writing pauses,
/// the log starts again by itself.)
const RESTART_LOG_PAGES: i64 = 65_536;

/// Copies the SQLite write-ahead log into the database file in the background (a PASSIVE
/// checkpoint never waits for writers), so that commits never stop to do it themselves.
/// Ends when the store's last handle is dropped or its pool closes.
async fn checkpoint_wal(
    pool: AnyPool,
    write_lock: Option<Arc<Mutex<()>>>,
    alive: std::sync::Weak<()>,
) {
    loop {
        tokio::time::sleep(CHECKPOINT_EVERY).await;
        if alive.strong_count() == 0 || pool.is_closed() {
            return;
        }
        let log_pages = match passive_checkpoint(&pool).await {
            Ok(pages) => pages,
            Err(error) => {
                tracing::warn!(%error, "checkpoint of the SQLite log failed; retrying");
                continue;
            }
        };
        if log_pages <= RESTART_LOG_PAGES {
            continue;
        }
        // Writing never paused long enough for the log to start again by itself. Catch up
        // while writers go on, until little is left; then copy the rest between two write
        // transactions, so that the next one starts the log from the beginning.
        for _ in 0..8 {
            let started = std::time::Instant::now();
            if passive_checkpoint(&pool).await.is_err()
                || started.elapsed() < Duration::from_millis(5)
            {
                break;
            }
        }
        let _guard = writer_turn(write_lock.as_ref()).await;
        if let Err(error) = passive_checkpoint(&pool).await {
            tracing::warn!(%error, "checkpoint of the SQLite log failed; retrying");
        }
    }
}

/// This process's turn to write on SQLite (its writer lock); nothing to wait for on PostgreSQL.
pub(crate) async fn writer_turn(
    write_lock: Option<&Arc<Mutex<()>>>,
) -> Option<tokio::sync::MutexGuard<'_, ()>> {
    match write_lock {
        Some(lock) => Some(lock.lock().await),
        None => None,
    }
}

/// A checkpoint that never waits for readers or writers; returns the log's size in pages.
async fn passive_checkpoint(pool: &AnyPool) -> Result<i64, sqlx::Error> {
    use sqlx::Row;
    // All rows are read, so the statement is finished and holds no snapshot afterwards.
    let rows = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
        .fetch_all(pool)
        .await?;
    Ok(rows.first().map_or(0, |row| row.try_get(1).unwrap_or(0)))
}

/// Instants are stored as microseconds since the epoch.
pub(crate) fn micros(t: Timestamp) -> i64 {
    t.as_microsecond()
}

pub(crate) fn from_micros(value: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_microsecond(value)
        .map_err(|e| StoreError::Corrupt(format!("bad instant {value}: {e}")))
}
