//! Reading complaints: one with its timeline and clocks, or a page of a queue.

use redress_core::{Complaint, Event, Reference};
use serde::{Deserialize, Serialize};
use sqlx::{AssertSqlSafe, Row};

use super::counts::Count;
use super::search::Terms;
use super::{Backend, Store, StoreError, from_micros, micros};

/// One event as recorded, with when it was recorded and its place in the chain.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventRow {
    pub sequence: i64,
    pub recorded_at: jiff::Timestamp,
    pub event: Event,
    /// Through what it came (`web`, `api`, `email`, `scheduler`, `sender`, `command line`);
    /// absent for events recorded before this was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
}

/// One clock, running or fired.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeadlineRow {
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<i64>,
    pub due_at: jiff::Timestamp,
    pub due_by: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fired_at: Option<jiff::Timestamp>,
}

/// A complaint with its whole timeline and every clock.
#[derive(Debug, Clone)]
pub struct ComplaintView {
    pub complaint: Complaint,
    pub events: Vec<EventRow>,
    pub deadlines: Vec<DeadlineRow>,
}

/// What a queue shows of a complaint.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ComplaintSummary {
    pub reference: String,
    pub stage: i64,
    pub status: String,
    pub department: String,
    pub customer_name: String,
    pub customer_account: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    pub channel: String,
    pub first_received_at: jiff::Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_due_at: Option<jiff::Timestamp>,
    pub overdue: bool,
    pub adr_eligible: bool,
}

/// Filters for a queue; all optional.
#[derive(Debug, Clone, Default)]
pub struct ComplaintFilter {
    pub stage: Option<i64>,
    pub status: Option<String>,
    pub department: Option<String>,
    pub overdue: Option<bool>,
    pub q: Option<String>,
    /// Only this customer's complaints (by email address).
    pub customer_email: Option<String>,
    /// Only the complaint with this exact reference.
    pub reference: Option<String>,
    /// Only complaints held by this staff member (their identifier, any case).
    pub handler: Option<String>,
    /// Only open complaints nobody holds.
    pub unassigned: bool,
    /// Only complaints with a compensation offer awaiting approval of at most this (pence).
    pub awaiting_approval_up_to: Option<i64>,
    pub limit: i64,
    /// Resume after this (sort key, reference).
    pub after: Option<(i64, String)>,
}

/// A page of a queue, soonest deadline first.
#[derive(Debug, Clone)]
pub struct ComplaintPage {
    pub items: Vec<ComplaintSummary>,
    /// The sort key and reference of the last item, when there may be more.
    pub next: Option<(i64, String)>,
}

/// Complaints with no running clock sort after all others.
pub const NO_DEADLINE: i64 = i64::MAX;

impl Store {
    /// A complaint with its events and deadlines, or `NotFound`.
    pub async fn get_complaint(&self, reference: &Reference) -> Result<ComplaintView, StoreError> {
        let row = sqlx::query("SELECT id, state FROM complaints WHERE reference = $1")
            .bind(reference.as_str())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        let id: i64 = row.try_get("id")?;
        let state: String = row.try_get("state")?;
        let complaint: Complaint = serde_json::from_str(&state)
            .map_err(|e| StoreError::Corrupt(format!("complaint {id}: {e}")))?;
        let mut events = Vec::new();
        for row in sqlx::query("SELECT sequence, payload, recorded_at, via FROM events WHERE complaint_id = $1 ORDER BY sequence")
            .bind(id)
            .fetch_all(&self.pool)
            .await?
        {
            let payload: String = row.try_get("payload")?;
            let event: Event =
                serde_json::from_str(&payload).map_err(|e| StoreError::Corrupt(format!("event of complaint {id}: {e}")))?;
            events.push(EventRow {
                sequence: row.try_get("sequence")?,
                recorded_at: from_micros(row.try_get("recorded_at")?)?,
                event,
                via: row.try_get("via")?,
            });
        }
        let mut deadlines = Vec::new();
        for row in sqlx::query(
            "SELECT kind, request, due_at, due_by, fired_at FROM deadlines WHERE complaint_id = $1 ORDER BY due_at, kind",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?
        {
            let request: i64 = row.try_get("request")?;
            let fired_at: Option<i64> = row.try_get("fired_at")?;
            deadlines.push(DeadlineRow {
                kind: row.try_get("kind")?,
                request: (request != 0).then_some(request),
                due_at: from_micros(row.try_get("due_at")?)?,
                due_by: row.try_get("due_by")?,
                fired_at: fired_at.map(from_micros).transpose()?,
            });
        }
        Ok(ComplaintView {
            complaint,
            events,
            deadlines,
        })
    }

    /// A page of complaints matching the filter, soonest deadline first (then by reference).
    /// Each filter has an index in queue order (migration 0007), so a page is a walk of at
    /// most `limit` entries, and the next page starts where this one stopped (keyset).
    pub async fn list_complaints(
        &self,
        filter: &ComplaintFilter,
    ) -> Result<ComplaintPage, StoreError> {
        let plan = self.search_plan(filter).await?;
        let (sql, binds) = list_sql(self.backend, filter, plan);
        // A search is planned for its own words (PostgreSQL plans an unnamed statement with
        // its values): a rare account number is looked up in the full-text index, a common
        // surname is met by walking the queue. A plan kept for any words would do one or the
        // other for all.
        let mut query = sqlx::query(AssertSqlSafe(sql)).persistent(plan.is_none());
        for bind in binds {
            query = match bind {
                Bind::Int(n) => query.bind(n),
                Bind::Text(t) => query.bind(t),
            };
        }
        let rows = query.fetch_all(&self.pool).await?;
        let mut items = Vec::with_capacity(rows.len());
        let mut keys = Vec::with_capacity(rows.len());
        for row in rows {
            let next_due: Option<i64> = row.try_get("next_due_at")?;
            let overdue: i64 = row.try_get("overdue")?;
            let adr: i64 = row.try_get("adr_eligible")?;
            let reference: String = row.try_get("reference")?;
            keys.push((row.try_get::<i64, _>("sort_key")?, reference.clone()));
            items.push(ComplaintSummary {
                reference,
                stage: row.try_get("stage")?,
                status: row.try_get("status")?,
                department: row.try_get("department")?,
                customer_name: row.try_get("customer_name")?,
                customer_account: row.try_get("customer_account")?,
                category: row.try_get("category")?,
                channel: row.try_get("channel")?,
                first_received_at: from_micros(row.try_get("first_received_at")?)?,
                next_due_at: next_due.map(from_micros).transpose()?,
                overdue: overdue != 0,
                adr_eligible: adr != 0,
            });
        }
        let limit = usize::try_from(filter.limit).unwrap_or(0);
        let next = if items.len() > limit {
            items.truncate(limit);
            keys.truncate(limit);
            keys.pop()
        } else {
            None
        };
        Ok(ComplaintPage { items, next })
    }

    /// How the database would run the list for this filter, one line per step of its plan:
    /// for tests and for people asking why a queue is slow.
    pub async fn list_plan(&self, filter: &ComplaintFilter) -> Result<Vec<String>, StoreError> {
        let plan = self.search_plan(filter).await?;
        let (sql, binds) = list_sql(self.backend, filter, plan);
        let explain = match self.backend {
            Backend::Sqlite => format!("EXPLAIN QUERY PLAN {sql}"),
            Backend::Postgres => format!("EXPLAIN {sql}"),
        };
        let mut conn = self.pool.acquire().await?;
        if self.backend == Backend::Postgres {
            // A small table is cheaper to scan, or to fetch whole and sort, than to walk in
            // order; the question here is whether the indexes can serve the list at all.
            sqlx::query("SET enable_seqscan = off")
                .execute(&mut *conn)
                .await?;
            sqlx::query("SET enable_sort = off")
                .execute(&mut *conn)
                .await?;
        }
        let mut query = sqlx::query(AssertSqlSafe(explain));
        for bind in binds {
            query = match bind {
                Bind::Int(n) => query.bind(n),
                Bind::Text(t) => query.bind(t),
            };
        }
        let rows = query.fetch_all(&mut *conn).await;
        if self.backend == Backend::Postgres {
            sqlx::query("RESET enable_seqscan")
                .execute(&mut *conn)
                .await?;
            sqlx::query("RESET enable_sort").execute(&mut *conn).await?;
        }
        let column = match self.backend {
            Backend::Sqlite => "detail",
            Backend::Postgres => "QUERY PLAN",
        };
        rows?
            .iter()
            .map(|r| Ok(r.try_get::<String, _>(column)?))
            .collect()
    }

    /// How SQLite should find a full-text search's page: by how many complaints match (counted
    /// in the full-text index alone, and no further than it needs to decide).
    async fn search_plan(
        &self,
        filter: &ComplaintFilter,
    ) -> Result<Option<SearchPlan>, StoreError> {
        let Some(terms) = filter
            .q
            .as_deref()
            .filter(|q| Reference::parse(q.trim()).is_err())
            .and_then(Terms::parse)
        else {
            return Ok(None);
        };
        if self.backend != Backend::Sqlite {
            return Ok(Some(SearchPlan::Sort));
        }
        let matches: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM (SELECT rowid FROM complaints_search WHERE complaints_search MATCH $1 LIMIT $2)",
        )
        .bind(terms.fts5())
        .bind(WALK_ABOVE + 1)
        .fetch_one(&self.pool)
        .await?;
        Ok(Some(if matches > WALK_ABOVE {
            SearchPlan::Walk
        } else {
            SearchPlan::Sort
        }))
    }

    /// Open complaints per stage (not resolved or closed), for metrics and dashboards.
    pub async fn open_per_stage(&self) -> Result<Vec<(i64, i64)>, StoreError> {
        let mut per_stage: Vec<(i64, i64)> = Vec::new();
        for count in self.counts().await?.into_iter().filter(Count::is_open) {
            match per_stage.iter_mut().find(|(s, _)| *s == count.stage) {
                Some((_, n)) => *n += count.n,
                None => per_stage.push((count.stage, count.n)),
            }
        }
        per_stage.retain(|(_, n)| *n != 0);
        per_stage.sort_unstable();
        Ok(per_stage)
    }

    /// Deadlines past due and not yet fired (the scheduler is behind, or down).
    pub async fn overdue_unfired(&self, now: jiff::Timestamp) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM deadlines WHERE fired_at IS NULL AND due_at <= $1",
        )
        .bind(micros(now))
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("n")?)
    }
}

/// A value bound to a list's query.
enum Bind {
    Int(i64),
    Text(String),
}

/// The queue key as the indexes of migration 0007 spell it: the soonest thing owed, with "no
/// clock running" last. The literal is `NO_DEADLINE`.
const QUEUE_KEY: &str = "COALESCE(queue_at, 9223372036854775807)";
const _: () = assert!(NO_DEADLINE == 9_223_372_036_854_775_807);

/// The list's SQL and what it binds, in order. Placeholders are numbered in order of use, as
/// SQLite requires.
fn list_sql(
    backend: Backend,
    filter: &ComplaintFilter,
    search: Option<SearchPlan>,
) -> (String, Vec<Bind>) {
    const COLUMNS: &str = "reference, stage, status, department, customer_name, customer_account, category, channel, \
         first_received_at, next_due_at, overdue, adr_eligible";
    // A search on SQLite picks its page from an index (which never reads the wide rows, whose
    // late columns sit behind the complaint's state), then reads only that page's rows.
    let two_step = backend == Backend::Sqlite && search.is_some();
    let mut sql = if two_step {
        let index = match search {
            Some(SearchPlan::Walk) => walk_index(filter),
            _ => "complaints_search_keys",
        };
        format!("SELECT id FROM complaints INDEXED BY {index} WHERE 1 = 1")
    } else {
        format!("SELECT {COLUMNS}, {QUEUE_KEY} AS sort_key FROM complaints WHERE 1 = 1")
    };
    let mut binds = Vec::new();
    let mut add = |sql: &mut String, clause: &str, bind: Bind| {
        binds.push(bind);
        sql.push_str(&clause.replace('?', &format!("${}", binds.len())));
    };
    if let Some(stage) = filter.stage {
        add(&mut sql, " AND stage = ?", Bind::Int(stage));
    }
    if let Some(status) = &filter.status {
        add(&mut sql, " AND status = ?", Bind::Text(status.clone()));
    }
    if let Some(department) = &filter.department {
        add(
            &mut sql,
            " AND department = ?",
            Bind::Text(department.clone()),
        );
    }
    if let Some(overdue) = filter.overdue {
        add(&mut sql, " AND overdue = ?", Bind::Int(i64::from(overdue)));
    }
    if let Some(q) = &filter.q {
        if let Ok(reference) = Reference::parse(q.trim()) {
            add(
                &mut sql,
                " AND reference = ?",
                Bind::Text(reference.as_str().to_owned()),
            );
        } else if let Some(terms) = Terms::parse(q) {
            match backend {
                Backend::Sqlite => add(
                    &mut sql,
                    " AND id IN (SELECT rowid FROM complaints_search WHERE complaints_search MATCH ?)",
                    Bind::Text(terms.fts5()),
                ),
                Backend::Postgres => add(
                    &mut sql,
                    " AND search_words @@ to_tsquery('simple', ?)",
                    Bind::Text(terms.tsquery()),
                ),
            }
        } else {
            // Nothing a word could be made of: nothing matches.
            sql.push_str(" AND 1 = 0");
        }
    }
    if let Some(email) = &filter.customer_email {
        add(
            &mut sql,
            " AND customer_email = ?",
            Bind::Text(email.clone()),
        );
    }
    if let Some(reference) = &filter.reference {
        add(
            &mut sql,
            " AND reference = ?",
            Bind::Text(reference.clone()),
        );
    }
    if let Some(handler) = &filter.handler {
        // Nobody is held by an empty identifier.
        let key = super::rows::handler_key(handler).unwrap_or_default();
        add(&mut sql, " AND handler = ?", Bind::Text(key));
    }
    if filter.unassigned {
        // Spelled as the partial indexes of migration 0007 spell it.
        sql.push_str(" AND handler IS NULL AND status NOT IN ('resolved', 'closed')");
    }
    if let Some(limit) = filter.awaiting_approval_up_to {
        // Spelled as the partial index of migration 0010 spells it.
        add(
            &mut sql,
            " AND awaiting_approval IS NOT NULL AND awaiting_approval <= ?",
            Bind::Int(limit),
        );
    }
    if let Some((key, reference)) = &filter.after {
        match backend {
            // SQLite seeks an index only on a range of one column: the key from where the
            // last page stopped, then past that page's reference within the same key.
            Backend::Sqlite => {
                add(&mut sql, &format!(" AND {QUEUE_KEY} >= ?"), Bind::Int(*key));
                add(&mut sql, &format!(" AND ({QUEUE_KEY} > ?"), Bind::Int(*key));
                add(
                    &mut sql,
                    " OR reference > ?)",
                    Bind::Text(reference.clone()),
                );
            }
            Backend::Postgres => {
                add(
                    &mut sql,
                    &format!(" AND ({QUEUE_KEY}, reference) > (?"),
                    Bind::Int(*key),
                );
                add(&mut sql, ", ?)", Bind::Text(reference.clone()));
            }
        }
    }
    // One more than asked, to know whether there is a next page.
    add(
        &mut sql,
        &format!(" ORDER BY {QUEUE_KEY}, reference LIMIT ?"),
        Bind::Int(filter.limit.saturating_add(1)),
    );
    if two_step {
        sql = format!(
            "SELECT {COLUMNS}, {QUEUE_KEY} AS sort_key FROM complaints WHERE id IN ({sql}) \
             ORDER BY {QUEUE_KEY}, reference"
        );
    }
    (sql, binds)
}

/// How SQLite finds a search's page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SearchPlan {
    /// Few complaints match: take each one's queue key from `complaints_search_keys`, sort.
    Sort,
    /// Many match: walk the queue in order, keeping those that match, until the page is full.
    Walk,
}

/// Above this many matches, walking the queue finds a page sooner than sorting the matches.
const WALK_ABOVE: i64 = 1_500;

/// The queue-order index a walk takes for the filter's first equality.
fn walk_index(filter: &ComplaintFilter) -> &'static str {
    if filter.reference.is_some() {
        "sqlite_autoindex_complaints_1"
    } else if filter.customer_email.is_some() {
        "complaints_customer_email_queue"
    } else if filter.handler.is_some() {
        "complaints_handler_queue"
    } else if filter.awaiting_approval_up_to.is_some() {
        "complaints_awaiting_approval"
    } else if filter.unassigned && filter.department.is_some() {
        "complaints_department_unassigned_queue"
    } else if filter.unassigned {
        "complaints_unassigned_queue"
    } else if filter.stage.is_some() && filter.overdue.is_some() {
        "complaints_stage_overdue_queue"
    } else if filter.department.is_some() && filter.overdue.is_some() {
        "complaints_department_overdue_queue"
    } else if filter.stage.is_some() {
        "complaints_stage_queue"
    } else if filter.department.is_some() {
        "complaints_department_queue"
    } else if filter.status.is_some() {
        "complaints_status_queue"
    } else if filter.overdue.is_some() {
        "complaints_overdue_queue"
    } else {
        "complaints_by_queue"
    }
}
