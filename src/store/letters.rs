//! The letters and emails written to a customer about a complaint, as the customer portal lists
//! them: what each is, how it goes, when it was written and when it was sent.

use jiff::Timestamp;
use serde::Serialize;
use sqlx::Row;

use super::{Store, StoreError, from_micros};

/// One letter or email about a complaint (a row of the outbox).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LetterRow {
    /// The letter's number, for its address.
    pub id: i64,
    /// The letter kind, e.g. `acknowledgement`, `formal_response`, `deadlock_letter`.
    pub kind: String,
    /// `email` or `post`.
    pub channel: String,
    pub created_at: Timestamp,
    /// When it was sent; `None` while it is being prepared.
    pub sent_at: Option<Timestamp>,
}

impl Store {
    /// The letters and emails about a complaint, oldest first. Sign-in link emails are not
    /// letters about the complaint and are left out, and so are letters to a third party (as
    /// the customer's timeline leaves out evidence asked of a third party).
    pub async fn customer_letters(&self, reference: &str) -> Result<Vec<LetterRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT o.id, o.kind, o.channel, o.created_at, o.sent_at FROM outbox o \
             JOIN complaints c ON c.id = o.complaint_id \
             WHERE c.reference = $1 AND o.kind NOT IN ('sign_in_link', 'assignment_notice') \
             AND o.cancelled_at IS NULL AND o.payload NOT LIKE '%\"recipient\":\"third_party\"%' \
             ORDER BY o.created_at, o.id",
        )
        .bind(reference)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let sent_at: Option<i64> = r.try_get("sent_at")?;
                Ok(LetterRow {
                    id: r.try_get("id")?,
                    kind: r.try_get("kind")?,
                    channel: r.try_get("channel")?,
                    created_at: from_micros(r.try_get("created_at")?)?,
                    sent_at: sent_at.map(from_micros).transpose()?,
                })
            })
            .collect()
    }
}
