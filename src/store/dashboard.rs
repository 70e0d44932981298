//! Figures for the staff pages: the manager dashboard's numbers per stage, and the state and
//! clocks of the complaints on one page of a queue (for the time left in words).

use std::collections::HashMap;

use jiff::civil::Date;
use redress_core::Complaint;
use sqlx::{AssertSqlSafe, Row};

use super::counts::Count;
use super::read::DeadlineRow;
use super::{Store, StoreError, from_micros};

/// The dashboard's figures for one stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StageFigures {
    pub stage: i64,
    /// Not resolved and not closed.
    pub open: i64,
    /// Open complaints with a clock (other than the ADR point) whose last day falls in the
    /// seven London days from today.
    pub due_this_week: i64,
    /// Open complaints with something owed past its time.
    pub overdue: i64,
    /// Open complaints the customer may take to the ombudsman.
    pub adr_eligible: i64,
}

/// A complaint on a queue page, with every clock it has had (running and fired).
#[derive(Debug, Clone)]
pub struct QueueEntry {
    pub complaint: Complaint,
    pub deadlines: Vec<DeadlineRow>,
}

/// Statuses that count as open on the dashboard (as `Count::is_open`).
const OPEN_C: &str = "c.status NOT IN ('resolved', 'closed')";

impl Store {
    /// The dashboard's figures for stages 1 to 5 (every stage listed, zeros included).
    /// `today` is today's London date; "this week" is `today` to `today + 6`.
    pub async fn dashboard_figures(&self, today: Date) -> Result<Vec<StageFigures>, StoreError> {
        let mut figures: Vec<StageFigures> = (1..=5)
            .map(|stage| StageFigures {
                stage,
                ..Default::default()
            })
            .collect();
        for count in self.counts().await?.into_iter().filter(Count::is_open) {
            if let Some(f) = figures.iter_mut().find(|f| f.stage == count.stage) {
                f.open += count.n;
                if count.overdue {
                    f.overdue += count.n;
                }
                if count.adr_eligible {
                    f.adr_eligible += count.n;
                }
            }
        }
        // The week's clocks are a range of one index (deadlines_running_by_day): as many rows
        // as fall due this week, whatever the size of the table.
        // London dates are stored as ISO text (YYYY-MM-DD), which sorts as dates do.
        let last = redress_core::clock::add_days(today, 6);
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT c.stage AS stage, COUNT(DISTINCT c.id) AS n FROM complaints c \
             JOIN deadlines d ON d.complaint_id = c.id \
             WHERE d.fired_at IS NULL AND d.kind <> 'adr' AND d.due_by >= $1 AND d.due_by <= $2 AND {OPEN_C} \
             GROUP BY c.stage"
        )))
        .bind(today.to_string())
        .bind(last.to_string())
        .fetch_all(&self.pool)
        .await?;
        for row in rows {
            let stage: i64 = row.try_get("stage")?;
            if let Some(f) = figures.iter_mut().find(|f| f.stage == stage) {
                f.due_this_week = row.try_get("n")?;
            }
        }
        Ok(figures)
    }

    /// The state and clocks of the complaints with these references (at most 200), by reference.
    pub async fn queue_entries(
        &self,
        references: &[String],
    ) -> Result<HashMap<String, QueueEntry>, StoreError> {
        let mut out = HashMap::new();
        if references.is_empty() {
            return Ok(out);
        }
        let references = &references[..references.len().min(200)];
        let placeholders: Vec<String> = (1..=references.len()).map(|n| format!("${n}")).collect();
        let list = placeholders.join(", ");
        let mut query = sqlx::query(AssertSqlSafe(format!(
            "SELECT id, reference, state FROM complaints WHERE reference IN ({list})"
        )));
        for reference in references {
            query = query.bind(reference.clone());
        }
        for row in query.fetch_all(&self.pool).await? {
            let id: i64 = row.try_get("id")?;
            let reference: String = row.try_get("reference")?;
            let state: String = row.try_get("state")?;
            let complaint: Complaint = serde_json::from_str(&state)
                .map_err(|e| StoreError::Corrupt(format!("complaint {id}: {e}")))?;
            out.insert(
                reference,
                QueueEntry {
                    complaint,
                    deadlines: Vec::new(),
                },
            );
        }
        let mut query = sqlx::query(AssertSqlSafe(format!(
            "SELECT c.reference AS reference, d.kind AS kind, d.request AS request, d.due_at AS due_at, d.due_by AS due_by, \
             d.fired_at AS fired_at FROM deadlines d JOIN complaints c ON c.id = d.complaint_id \
             WHERE c.reference IN ({list}) ORDER BY d.due_at, d.kind"
        )));
        for reference in references {
            query = query.bind(reference.clone());
        }
        for row in query.fetch_all(&self.pool).await? {
            let reference: String = row.try_get("reference")?;
            let request: i64 = row.try_get("request")?;
            let fired_at: Option<i64> = row.try_get("fired_at")?;
            if let Some(entry) = out.get_mut(&reference) {
                entry.deadlines.push(DeadlineRow {
                    kind: row.try_get("kind")?,
                    request: (request != 0).then_some(request),
                    due_at: from_micros(row.try_get("due_at")?)?,
                    due_by: row.try_get("due_by")?,
                    fired_at: fired_at.map(from_micros).transpose()?,
                });
            }
        }
        Ok(out)
    }
}
