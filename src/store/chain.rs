//! The hash chain of a complaint's events: what each row's hash covers. Pure, and below both
//! the writers (`write.rs`, `intake.rs`, `rows.rs`) and the checkers (`audit.rs`, `ledger.rs`).
//!
//! A row's hash covers the SHA-256 of its payload, not the payload itself, so that personal
//! data can be erased from a payload while the chain still verifies: the erasure keeps the
//! payload's digest (`erased_events`) and the chain is checked against it. Rows written before
//! migration 0013 hashed the payload itself ([`EventLink::legacy_hash`]); the audit accepts
//! either, each a commitment to the same payload.

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

/// The SHA-256 of a payload, as lower-case hex: what the chain covers of it.
pub fn payload_digest(payload: &str) -> String {
    hex(&Sha256::digest(payload.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl EventLink<'_> {
    /// SHA-256 over the fields (the payload by its digest), each followed by a unit
    /// separator, as lower-case hex.
    pub fn hash(&self) -> String {
        self.hash_with_digest(&payload_digest(self.payload))
    }

    /// The hash of a row whose payload's digest is `digest` (the payload itself may have been
    /// erased since).
    pub fn hash_with_digest(&self, digest: &str) -> String {
        self.hash_over(digest)
    }

    /// The hash as rows written before migration 0013 have it: over the payload itself.
    pub fn legacy_hash(&self) -> String {
        self.hash_over(self.payload)
    }

    fn hash_over(&self, payload: &str) -> String {
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
            payload,
            self.actor,
            &numbers[1],
            &numbers[2],
            &due,
        ] {
            hasher.update(part.as_bytes());
            hasher.update([0x1f]);
        }
        hex(&hasher.finalize())
    }
}
