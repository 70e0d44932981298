//! The databases a benchmark runs on: a fresh one per path (a temporary SQLite file, or a new
//! PostgreSQL database that is dropped afterwards), and the check that a path's clients
//! counted what the database holds.
//!
//! PostgreSQL is reached at `$REDRESS_TEST_POSTGRES_URL` (by default
//! `postgres://postgres@127.0.0.1:5432/postgres`).

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, bail};
use clap::ValueEnum;
use redress::store::Store;
use sqlx::{Connection, Row};
use tokio::runtime::Runtime;

use crate::load::Stats;

/// `--database`: which kinds to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DatabaseChoice {
    Sqlite,
    Postgres,
    Both,
}

impl DatabaseChoice {
    pub fn kinds(self) -> &'static [Kind] {
        match self {
            DatabaseChoice::Sqlite => &[Kind::Sqlite],
            DatabaseChoice::Postgres => &[Kind::Postgres],
            DatabaseChoice::Both => &[Kind::Sqlite, Kind::Postgres],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Sqlite => "SQLite",
            Kind::Postgres => "PostgreSQL",
        }
    }
}

/// A fresh database, removed by `remove`.
pub struct FreshDb {
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(PathBuf),
    Postgres { admin: String, name: String },
}

fn unique() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn postgres_admin_url() -> String {
    std::env::var("REDRESS_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

impl FreshDb {
    pub fn create(kind: Kind, rt: &Runtime) -> anyhow::Result<FreshDb> {
        let name = format!("redress_bench_{}_{}", std::process::id(), unique());
        match kind {
            Kind::Sqlite => {
                let dir = std::env::temp_dir().join(&name);
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
                Ok(FreshDb {
                    url: dir.join("redress.db").display().to_string(),
                    cleanup: Cleanup::Dir(dir),
                })
            }
            Kind::Postgres => {
                let admin = postgres_admin_url();
                rt.block_on(async {
                    let mut conn = sqlx::postgres::PgConnection::connect(&admin)
                        .await
                        .with_context(|| format!("PostgreSQL is not reachable at {admin}"))?;
                    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                        .execute(&mut conn)
                        .await
                        .context("cannot create the benchmark database")?;
                    conn.close().await?;
                    anyhow::Ok(())
                })?;
                // Keep the admin URL's options (e.g. `?sslmode=disable`) for the new database.
                let (path, options) = admin
                    .split_once('?')
                    .map_or((admin.as_str(), String::new()), |(p, q)| {
                        (p, format!("?{q}"))
                    });
                let base = path.rsplit_once('/').map_or(path, |(b, _)| b);
                Ok(FreshDb {
                    url: format!("{base}/{name}{options}"),
                    cleanup: Cleanup::Postgres { admin, name },
                })
            }
        }
    }

    pub fn remove(self, rt: &Runtime) {
        match self.cleanup {
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Postgres { admin, name } => {
                let dropped = rt.block_on(async {
                    let mut conn = sqlx::postgres::PgConnection::connect(&admin).await?;
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&mut conn)
                    .await?;
                    conn.close().await
                });
                if let Err(e) = dropped {
                    eprintln!("warning: could not drop database {name}: {e}");
                }
            }
        }
    }
}

/// Runs `path` on a fresh database of `kind`, which is removed afterwards whatever the result.
pub fn on_fresh_db<T>(
    kind: Kind,
    rt: &Runtime,
    path: impl FnOnce(&FreshDb) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let db = FreshDb::create(kind, rt)?;
    let result = path(&db);
    db.remove(rt);
    result
}

/// Counts the complaints a path left in its database, to check the clients' tally.
pub async fn check_count(store: &Store, stats: &Stats) -> anyhow::Result<()> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM complaints")
        .fetch_one(store.pool())
        .await?;
    let n: i64 = row.try_get("n")?;
    if u64::try_from(n).unwrap_or(0) != stats.total_ok {
        bail!(
            "{}: the clients counted {} complaints but the database holds {n}",
            stats.path,
            stats.total_ok
        );
    }
    Ok(())
}
