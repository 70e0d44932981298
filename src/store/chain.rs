//! The hash chain of a complaint's events: what each row's hash covers. Pure, and below both
//! the writers (`write.rs`, `intake.rs`, `rows.rs`) and the checkers (`audit.rs`, `ledger.rs`).

use sha2::{Digest, Sha256};

/// The hash that starts every complaint's chain.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The columns of one event row that its hash covers, with the previous row's hash.
pub struct EventLink<'a> {
    pub prev_hash: &'a str,
    pub reference: &'a str,
    pub sequence: i64,
    pub kind: &'a str,
    pub payload: &'a str,
    pub actor: &'a str,
    pub occurred_at: i64,
    pub recorded_at: i64,
    pub due_at: Option<i64>,
}

impl EventLink<'_> {
    /// SHA-256 over the fields, each followed by a unit separator, as lower-case hex.
    pub fn hash(&self) -> String {
        let mut hasher = Sha256::new();
        let numbers = [
            self.sequence.to_string(),
            self.occurred_at.to_string(),
            self.recorded_at.to_string(),
        ];
        let due = self.due_at.map(|d| d.to_string()).unwrap_or_default();
        for part in [
            self.prev_hash,
            self.reference,
            &numbers[0],
            self.kind,
            self.payload,
            self.actor,
            &numbers[1],
            &numbers[2],
            &due,
        ] {
            hasher.update(part.as_bytes());
            hasher.update([0x1f]);
        }
        hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}
