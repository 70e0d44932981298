//! `redress audit verify`: every complaint's event chain is intact and its projection is the
//! fold of its events.

use redress_core::{Complaint, Event};
use serde::Serialize;
use sqlx::Row;

use super::write::{EventLink, GENESIS_HASH};
use super::{Store, StoreError};

/// One thing wrong in the record.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AuditProblem {
    pub reference: String,
    pub sequence: Option<i64>,
    pub problem: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct AuditReport {
    pub complaints: u64,
    pub events: u64,
    pub problems: Vec<AuditProblem>,
}

impl Store {
    /// Checks every complaint's chain and projection.
    pub async fn verify_audit(&self) -> Result<AuditReport, StoreError> {
        let mut report = AuditReport::default();
        let complaints =
            sqlx::query("SELECT id, reference, state, last_hash FROM complaints ORDER BY id")
                .fetch_all(&self.pool)
                .await?;
        for row in complaints {
            report.complaints += 1;
            let id: i64 = row.try_get("id")?;
            let reference: String = row.try_get("reference")?;
            let state: String = row.try_get("state")?;
            let last_hash: String = row.try_get("last_hash")?;
            let mut problem = |sequence: Option<i64>, text: String| {
                report.problems.push(AuditProblem {
                    reference: reference.clone(),
                    sequence,
                    problem: text,
                });
            };
            let events = sqlx::query(
                "SELECT sequence, kind, payload, actor, occurred_at, recorded_at, due_at, prev_hash, hash \
                 FROM events WHERE complaint_id = $1 ORDER BY sequence",
            )
            .bind(id)
            .fetch_all(&self.pool)
            .await?;
            let mut prev = GENESIS_HASH.to_owned();
            let mut parsed: Vec<Event> = Vec::with_capacity(events.len());
            for (i, e) in events.iter().enumerate() {
                report.events += 1;
                let sequence: i64 = e.try_get("sequence")?;
                let expected_sequence = i64::try_from(i).unwrap_or(i64::MAX) + 1;
                if sequence != expected_sequence {
                    problem(
                        Some(sequence),
                        format!(
                            "sequence {sequence} where {expected_sequence} was expected (an event is missing)"
                        ),
                    );
                }
                let kind: String = e.try_get("kind")?;
                let payload: String = e.try_get("payload")?;
                let actor: String = e.try_get("actor")?;
                let stored_prev: String = e.try_get("prev_hash")?;
                let stored_hash: String = e.try_get("hash")?;
                if stored_prev != prev {
                    problem(
                        Some(sequence),
                        "does not link to the previous event's hash".into(),
                    );
                }
                let computed = EventLink {
                    prev_hash: &stored_prev,
                    reference: &reference,
                    sequence,
                    kind: &kind,
                    payload: &payload,
                    actor: &actor,
                    occurred_at: e.try_get("occurred_at")?,
                    recorded_at: e.try_get("recorded_at")?,
                    due_at: e.try_get("due_at")?,
                }
                .hash();
                if computed != stored_hash {
                    problem(
                        Some(sequence),
                        "its contents do not match its hash (it was altered)".into(),
                    );
                }
                match serde_json::from_str::<Event>(&payload) {
                    Ok(event) if event.kind.name() == kind => parsed.push(event),
                    Ok(_) => problem(Some(sequence), format!("its payload is not a {kind} event")),
                    Err(error) => problem(
                        Some(sequence),
                        format!("its payload cannot be read: {error}"),
                    ),
                }
                prev = stored_hash;
            }
            if prev != last_hash {
                problem(
                    None,
                    "the complaint's last hash does not match its last event".into(),
                );
            }
            match (
                Complaint::replay(&parsed),
                serde_json::from_str::<Complaint>(&state),
            ) {
                (Some(rebuilt), Ok(stored)) if rebuilt == stored => {}
                (Some(_), Ok(_)) => problem(
                    None,
                    "the stored complaint differs from the fold of its events".into(),
                ),
                (None, _) => problem(None, "its events do not begin with received".into()),
                (_, Err(error)) => problem(
                    None,
                    format!("the stored complaint cannot be read: {error}"),
                ),
            }
        }
        Ok(report)
    }
}
