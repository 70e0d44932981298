//! Reading complaints: one with its timeline and clocks, or a page of a queue.

use redress_core::{Complaint, Event, Reference};
use serde::{Deserialize, Serialize};
use sqlx::{AssertSqlSafe, Row};

use super::{Store, StoreError, from_micros, micros};

/// One event as recorded, with when it was recorded and its place in the chain.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventRow {
    pub sequence: i64,
    pub recorded_at: jiff::Timestamp,
    pub event: Event,
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
        for row in sqlx::query("SELECT sequence, payload, recorded_at FROM events WHERE complaint_id = $1 ORDER BY sequence")
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
    pub async fn list_complaints(
        &self,
        filter: &ComplaintFilter,
    ) -> Result<ComplaintPage, StoreError> {
        let mut sql = String::from(
            "SELECT reference, stage, status, department, customer_name, customer_account, category, channel, \
             first_received_at, next_due_at, overdue, adr_eligible, COALESCE(queue_at, $1) AS sort_key \
             FROM complaints WHERE 1 = 1",
        );
        // Placeholders are numbered in order of first use, as SQLite requires.
        let mut n = 1;
        let mut param = || {
            n += 1;
            format!("${n}")
        };
        if filter.stage.is_some() {
            sql.push_str(&format!(" AND stage = {}", param()));
        }
        if filter.status.is_some() {
            sql.push_str(&format!(" AND status = {}", param()));
        }
        if filter.department.is_some() {
            sql.push_str(&format!(" AND department = {}", param()));
        }
        if filter.overdue.is_some() {
            sql.push_str(&format!(" AND overdue = {}", param()));
        }
        if filter.q.is_some() {
            sql.push_str(&format!(" AND search_text LIKE {}", param()));
        }
        if filter.customer_email.is_some() {
            sql.push_str(&format!(" AND customer_email = {}", param()));
        }
        if filter.reference.is_some() {
            sql.push_str(&format!(" AND reference = {}", param()));
        }
        if filter.after.is_some() {
            let (key, reference) = (param(), param());
            sql.push_str(&format!(
                " AND (COALESCE(queue_at, $1) > {key} OR (COALESCE(queue_at, $1) = {key} AND reference > {reference}))"
            ));
        }
        sql.push_str(&format!(" ORDER BY sort_key, reference LIMIT {}", param()));

        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(NO_DEADLINE);
        if let Some(stage) = filter.stage {
            query = query.bind(stage);
        }
        if let Some(status) = &filter.status {
            query = query.bind(status.clone());
        }
        if let Some(department) = &filter.department {
            query = query.bind(department.clone());
        }
        if let Some(overdue) = filter.overdue {
            query = query.bind(i64::from(overdue));
        }
        if let Some(q) = &filter.q {
            let escaped = q.to_lowercase().replace(['%', '_'], " ");
            query = query.bind(format!("%{escaped}%"));
        }
        if let Some(email) = &filter.customer_email {
            query = query.bind(email.clone());
        }
        if let Some(reference) = &filter.reference {
            query = query.bind(reference.clone());
        }
        if let Some((key, reference)) = &filter.after {
            query = query.bind(*key).bind(reference.clone());
        }
        // One more than asked, to know whether there is a next page.
        query = query.bind(filter.limit + 1);
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

    /// Open complaints per stage (not resolved or closed), for metrics and dashboards.
    pub async fn open_per_stage(&self) -> Result<Vec<(i64, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT stage, COUNT(*) AS n FROM complaints WHERE status NOT IN ('resolved', 'closed') GROUP BY stage ORDER BY stage",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("stage")?, r.try_get("n")?)))
            .collect()
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
