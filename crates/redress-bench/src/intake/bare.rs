//! Path 3, the **bare insert**: the baseline the store is measured against. It is not a copy
//! of the store's writes and records no complaint the application could use.
//!
//! N tasks each write one complaint per fsynced transaction with plain sqlx statements, through
//! the same driver as the store (sqlx `Any`): the reference-sequence upsert, the complaint row,
//! its event rows, its deadline rows and the projection update. Payloads are serialised once
//! beforehand from a real `open` ([`Template`]); there are no reads, no core and no hashing
//! (every hash is the fixed [`HASH`]). On SQLite writers queue on an in-process lock, as the
//! store's do. This is the durable insert of one complaint as a client would write it alone;
//! the store beats it by grouping many complaints into each transaction (`store/intake.rs`).
//!
//! The statements are deliberately the benchmark's own: rows the schema accepts, close to the
//! store's in shape and size, so that the comparison is one transaction per complaint against
//! group commit. The store's rows are built in `store/rows.rs` and nothing here follows them;
//! when a migration changes these tables, the statements may need to follow it (until then
//! this path reports errors).

use std::sync::Arc;

use redress::clock::{Clock, SystemClock};
use redress::store::{GENESIS_HASH, Store};
use redress_core::{Complaint, Procedure, clock, deadlines, open};
use sqlx::{Any, Row, Transaction};
use tokio::runtime::Runtime;

use crate::complaints;
use crate::database::{Kind, check_count, on_fresh_db};
use crate::load::{Load, Stats, drive};

/// The payloads of one new complaint, serialised once from a real `open`.
#[derive(Clone)]
pub struct Template {
    year: i64,
    channel: String,
    department: String,
    category: Option<String>,
    state: String,
    search_text: String,
    /// Each event's kind, payload and actor.
    pub events: Vec<(String, String, String)>,
    /// Each deadline's kind, request, due instant and due-by wording.
    pub deadlines: Vec<(String, i64, i64, String)>,
    next_due_at: Option<i64>,
}

impl Template {
    pub fn new(procedure: &Procedure) -> anyhow::Result<Template> {
        let now = SystemClock.now();
        let (complaint, events): (Complaint, _) =
            open(complaints::receive(procedure, 0, 0), now, procedure)
                .map_err(|r| anyhow::anyhow!("the template complaint was refused: {r}"))?;
        let running = deadlines(&complaint, procedure);
        Ok(Template {
            year: i64::from(clock::local_date(procedure.time_zone(), now).year()),
            channel: complaint.channel.as_str().to_owned(),
            department: procedure.department_of(complaint.stage).to_owned(),
            category: complaint.category.clone(),
            state: serde_json::to_string(&complaint)?,
            search_text: format!(
                "{} bench-0-0 ann example m22 4sy",
                complaint.reference.as_str().to_lowercase()
            ),
            events: events
                .iter()
                .map(|e| {
                    Ok((
                        e.kind.name().to_owned(),
                        serde_json::to_string(e)?,
                        serde_json::to_string(&e.by)?,
                    ))
                })
                .collect::<anyhow::Result<_>>()?,
            deadlines: running
                .iter()
                .map(|d| {
                    (
                        d.kind.as_str().to_owned(),
                        i64::from(d.request.unwrap_or(0)),
                        d.due_at.as_microsecond(),
                        d.due_by.to_string(),
                    )
                })
                .collect(),
            next_due_at: running.first().map(|d| d.due_at.as_microsecond()),
        })
    }
}

/// How the bare insert talks to the database.
#[derive(Debug, Clone, Copy)]
pub struct Bare {
    pub path: &'static str,
    /// Whether to write through the store's own pool (`Store::connect`: its settings and
    /// pragmas; on PostgreSQL sqlx's ping on every acquire, one more round trip per
    /// transaction) rather than [`pool_without_ping`].
    ping: bool,
    /// Whether the complaint row is inserted with placeholders and then updated with its
    /// projection (one more statement per complaint); otherwise it is inserted whole.
    projection_update: bool,
}

/// The baseline BENCHMARKS.md reports: through the store's own pool, with the projection
/// update.
pub const BASELINE: Bare = Bare {
    path: "bare insert",
    ping: true,
    projection_update: true,
};

/// `--diagnose`: fewer round trips for the same rows.
pub const DIAGNOSTIC_VARIANTS: [Bare; 2] = [
    Bare {
        path: "bare insert, no ping on acquire",
        ping: false,
        projection_update: true,
    },
    Bare {
        path: "bare insert, no ping, row inserted whole",
        ping: false,
        projection_update: false,
    },
];

/// A pool like the store's (`Store::connect`) but without the ping on acquire, with the same
/// `synchronous` setting (FULL unless `REDRESS_SQLITE_SYNCHRONOUS=normal`), so the baseline is
/// the same disk's ceiling.
async fn pool_without_ping(kind: Kind, url: &str) -> anyhow::Result<sqlx::AnyPool> {
    use sqlx::Executor;
    use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
    use std::str::FromStr;
    let url = redress::store::normalise_url(url);
    let options = AnyConnectOptions::from_str(&url)?;
    Ok(match kind {
        Kind::Sqlite => {
            AnyPoolOptions::new()
                .max_connections(8)
                .test_before_acquire(false)
                .after_connect(|conn, _meta| {
                    Box::pin(async move {
                        let synchronous =
                            match std::env::var("REDRESS_SQLITE_SYNCHRONOUS").as_deref() {
                                Ok("normal") => "PRAGMA synchronous = NORMAL",
                                _ => "PRAGMA synchronous = FULL",
                            };
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                        conn.execute(synchronous).await?;
                        Ok(())
                    })
                })
                .connect_with(options)
                .await?
        }
        Kind::Postgres => {
            AnyPoolOptions::new()
                .max_connections(16)
                .test_before_acquire(false)
                .connect_with(options)
                .await?
        }
    })
}

/// The hash every event and complaint row of the baseline carries (nothing is hashed).
const HASH: &str = "5f0c3b8e2d7a41c69b0e8f1d2a3c4b5e6f708192a3b4c5d6e7f8091a2b3c4d5e";

#[allow(clippy::too_many_arguments)]
async fn bare_insert(
    pool: &sqlx::AnyPool,
    lock: Option<&tokio::sync::Mutex<()>>,
    sqlite: bool,
    variant: Bare,
    t: &Template,
    prefix: &str,
    account: &str,
) -> Result<(), sqlx::Error> {
    let _guard = match lock {
        Some(lock) => Some(lock.lock().await),
        None => None,
    };
    let mut tx: Transaction<'static, Any> = if sqlite {
        pool.begin_with("BEGIN IMMEDIATE").await?
    } else {
        pool.begin().await?
    };
    let now = jiff::Timestamp::now().as_microsecond();
    let row = sqlx::query(
        "INSERT INTO reference_sequences (year, last) VALUES ($1, 1) \
         ON CONFLICT (year) DO UPDATE SET last = reference_sequences.last + 1 RETURNING last",
    )
    .bind(t.year)
    .fetch_one(&mut *tx)
    .await?;
    let sequence: i64 = row.try_get("last")?;
    let reference = format!("{prefix}-{}-{sequence:06}", t.year);
    let row = if variant.projection_update {
        sqlx::query(
            "INSERT INTO complaints (reference, stage, status, department, customer_account, customer_name, \
             customer_postcode, category, channel, first_received_at, next_due_at, last_hash, overdue, adr_eligible, \
             version, state, search_text, created_at, updated_at) \
             VALUES ($1, 1, 'open', $2, $3, $4, $5, $6, $7, $8, NULL, $9, 0, 0, 0, '{}', '', $10, $10) RETURNING id",
        )
        .bind(&reference)
        .bind(&t.department)
        .bind(account)
        .bind(complaints::NAME)
        .bind(complaints::POSTCODE)
        .bind(&t.category)
        .bind(&t.channel)
        .bind(now)
        .bind(HASH)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?
    } else {
        sqlx::query(
            "INSERT INTO complaints (reference, stage, status, department, customer_account, customer_name, \
             customer_postcode, category, channel, first_received_at, next_due_at, last_hash, overdue, adr_eligible, \
             version, state, search_text, created_at, updated_at) \
             VALUES ($1, 1, 'open', $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, 0, $11, $12, $13, $14, $14) RETURNING id",
        )
        .bind(&reference)
        .bind(&t.department)
        .bind(account)
        .bind(complaints::NAME)
        .bind(complaints::POSTCODE)
        .bind(&t.category)
        .bind(&t.channel)
        .bind(now)
        .bind(t.next_due_at)
        .bind(HASH)
        .bind(i64::try_from(t.events.len()).unwrap_or(0))
        .bind(&t.state)
        .bind(&t.search_text)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?
    };
    let id: i64 = row.try_get("id")?;
    for (sequence, (kind, payload, actor)) in t.events.iter().enumerate() {
        sqlx::query(
            "INSERT INTO events (complaint_id, sequence, kind, payload, actor, occurred_at, recorded_at, due_at, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(id)
        .bind(i64::try_from(sequence).unwrap_or(0) + 1)
        .bind(kind)
        .bind(payload)
        .bind(actor)
        .bind(now)
        .bind(now)
        .bind(None::<i64>)
        // A chain the database accepts: event 1 links to the genesis hash, later ones to HASH.
        .bind(if sequence == 0 { GENESIS_HASH } else { HASH })
        .bind(HASH)
        .execute(&mut *tx)
        .await?;
    }
    for (kind, request, due_at, due_by) in &t.deadlines {
        sqlx::query(
            "INSERT INTO deadlines (complaint_id, kind, request, due_at, due_by) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(kind)
        .bind(request)
        .bind(due_at)
        .bind(due_by)
        .execute(&mut *tx)
        .await?;
    }
    if !variant.projection_update {
        return tx.commit().await;
    }
    sqlx::query(
        "UPDATE complaints SET stage = $1, status = $2, department = $3, next_due_at = $4, last_hash = $5, \
         overdue = $6, adr_eligible = $7, version = $8, state = $9, search_text = $10, updated_at = $11 WHERE id = $12",
    )
    .bind(1_i64)
    .bind("open")
    .bind(&t.department)
    .bind(t.next_due_at)
    .bind(HASH)
    .bind(0_i64)
    .bind(0_i64)
    .bind(i64::try_from(t.events.len()).unwrap_or(0))
    .bind(&t.state)
    .bind(&t.search_text)
    .bind(now)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// Runs the bare insert `variant` on a fresh database of `kind`.
pub fn path(
    kind: Kind,
    procedure: &Arc<Procedure>,
    template: &Template,
    variant: Bare,
    load: Load,
    rt: &Runtime,
) -> anyhow::Result<Stats> {
    let template = Arc::new(template.clone());
    on_fresh_db(kind, rt, |db| {
        rt.block_on(async {
            // The store's own connection: the same pool settings, pragmas and schema.
            let store = Store::connect(&db.url, procedure.clone()).await?;
            store.migrate().await?;
            let sqlite = kind == Kind::Sqlite;
            let lock = Arc::new(sqlite.then(|| tokio::sync::Mutex::new(())));
            let prefix: Arc<str> = procedure.reference_prefix.clone().into();
            let pool = if variant.ping {
                store.pool().clone()
            } else {
                pool_without_ping(kind, &db.url).await?
            };
            let own_pool = (!variant.ping).then(|| pool.clone());
            let stats = drive(variant.path, load, move |c, n| {
                let pool = pool.clone();
                let lock = lock.clone();
                let template = template.clone();
                let prefix = prefix.clone();
                async move {
                    let account = complaints::account(c, n);
                    bare_insert(
                        &pool,
                        lock.as_ref().as_ref(),
                        sqlite,
                        variant,
                        &template,
                        &prefix,
                        &account,
                    )
                    .await
                    .map_err(|e| e.to_string())
                }
            })
            .await;
            let counted = check_count(&store, &stats).await;
            if let Some(pool) = own_pool {
                pool.close().await;
            }
            store.close().await;
            counted.map(|()| stats)
        })
    })
}
