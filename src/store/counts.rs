//! How many complaints stand in each (stage, status, overdue, ADR-eligible) cell, without
//! counting rows. Migration 0007's triggers append each change's -1 and +1 to
//! `complaint_count_changes` in the writer's own transaction; a count is `complaint_counts`
//! plus the changes not yet folded in, so it is exact at every moment, and folding (the
//! scheduler, now and then) only keeps the changes few.

use sqlx::{AssertSqlSafe, Row};

use super::{Backend, Store, StoreError};

/// The complaints in one cell.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Count {
    pub stage: i64,
    pub status: String,
    pub overdue: bool,
    pub adr_eligible: bool,
    pub n: i64,
}

impl Count {
    /// Not resolved and not closed: still being handled, or waiting on the customer or the
    /// ombudsman.
    pub fn is_open(&self) -> bool {
        !matches!(self.status.as_str(), "resolved" | "closed")
    }
}

/// Folded counts and the changes since, summed per cell.
pub(crate) const COUNTS: &str = "SELECT stage, status, overdue, adr_eligible, CAST(SUM(n) AS BIGINT) AS n FROM ( \
     SELECT stage, status, overdue, adr_eligible, n FROM complaint_counts \
     UNION ALL SELECT stage, status, overdue, adr_eligible, delta AS n FROM complaint_count_changes \
     ) AS cells GROUP BY stage, status, overdue, adr_eligible ORDER BY stage, status, overdue, adr_eligible";

/// The same cells counted from the rows themselves (what `audit verify` compares with).
pub(crate) const COUNTED: &str = "SELECT stage, status, overdue, adr_eligible, CAST(COUNT(*) AS BIGINT) AS n \
     FROM complaints GROUP BY stage, status, overdue, adr_eligible ORDER BY stage, status, overdue, adr_eligible";

impl Store {
    /// Every non-empty cell.
    pub async fn counts(&self) -> Result<Vec<Count>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        cells(&mut conn, COUNTS).await
    }

    /// Every non-empty cell, counted row by row: a scan, for checks only.
    pub async fn counted(&self) -> Result<Vec<Count>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        cells(&mut conn, COUNTED).await
    }

    /// Gives PostgreSQL's planner the statistics of what was just loaded in bulk, as its
    /// autovacuum would in a while: without them it cannot tell a rare search word (an account
    /// number, found in the full-text index) from a common one (a surname, met by walking the
    /// queue). SQLite plans its searches itself (`read.rs`) and needs nothing.
    pub async fn analyze(&self) -> Result<(), StoreError> {
        if self.backend == Backend::Postgres {
            sqlx::query("ANALYZE").execute(&self.pool).await?;
        }
        Ok(())
    }

    /// Folds the changes recorded so far into the counts; returns how many it folded. Safe to
    /// run from several nodes at once: on PostgreSQL one folds while the others wait, and a
    /// change is moved and deleted by one statement, so none is counted twice or lost.
    pub async fn fold_counts(&self) -> Result<u64, StoreError> {
        let mut w = self.begin_write().await?;
        let folded = match self.backend {
            Backend::Sqlite => {
                // One writer at a time: the two statements see the same changes.
                let last: Option<i64> =
                    sqlx::query_scalar("SELECT MAX(id) FROM complaint_count_changes")
                        .fetch_one(&mut *w.tx)
                        .await?;
                let Some(last) = last else {
                    return Ok(0);
                };
                sqlx::query(
                    "INSERT INTO complaint_counts (stage, status, overdue, adr_eligible, n) \
                     SELECT stage, status, overdue, adr_eligible, SUM(delta) FROM complaint_count_changes \
                     WHERE id <= $1 GROUP BY stage, status, overdue, adr_eligible \
                     ON CONFLICT (stage, status, overdue, adr_eligible) DO UPDATE SET n = complaint_counts.n + excluded.n",
                )
                .bind(last)
                .execute(&mut *w.tx)
                .await?;
                sqlx::query("DELETE FROM complaint_count_changes WHERE id <= $1")
                    .bind(last)
                    .execute(&mut *w.tx)
                    .await?
                    .rows_affected()
            }
            Backend::Postgres => {
                sqlx::query("SELECT pg_advisory_xact_lock(7240007)")
                    .execute(&mut *w.tx)
                    .await?;
                let folded: i64 = sqlx::query_scalar(
                    "WITH moved AS (DELETE FROM complaint_count_changes \
                       RETURNING stage, status, overdue, adr_eligible, delta), \
                     summed AS (SELECT stage, status, overdue, adr_eligible, CAST(SUM(delta) AS BIGINT) AS n, \
                       COUNT(*) AS changes FROM moved GROUP BY stage, status, overdue, adr_eligible), \
                     upserted AS (INSERT INTO complaint_counts (stage, status, overdue, adr_eligible, n) \
                       SELECT stage, status, overdue, adr_eligible, n FROM summed \
                       ORDER BY stage, status, overdue, adr_eligible \
                       ON CONFLICT (stage, status, overdue, adr_eligible) \
                       DO UPDATE SET n = complaint_counts.n + EXCLUDED.n) \
                     SELECT CAST(COALESCE(SUM(changes), 0) AS BIGINT) FROM summed",
                )
                .fetch_one(&mut *w.tx)
                .await?;
                u64::try_from(folded).unwrap_or(0)
            }
        };
        // Cells that have emptied are dropped, so the counts stay as small as the procedure.
        sqlx::query("DELETE FROM complaint_counts WHERE n = 0")
            .execute(&mut *w.tx)
            .await?;
        w.tx.commit().await?;
        Ok(folded)
    }
}

/// The non-empty cells a query of the shape of `COUNTS` gives.
pub(crate) async fn cells(
    conn: &mut sqlx::AnyConnection,
    sql: &'static str,
) -> Result<Vec<Count>, StoreError> {
    let rows = sqlx::query(AssertSqlSafe(sql))
        .fetch_all(&mut *conn)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let n: i64 = row.try_get("n")?;
        if n == 0 {
            continue;
        }
        out.push(Count {
            stage: row.try_get("stage")?,
            status: row.try_get("status")?,
            overdue: row.try_get::<i64, _>("overdue")? != 0,
            adr_eligible: row.try_get::<i64, _>("adr_eligible")? != 0,
            n,
        });
    }
    Ok(out)
}
