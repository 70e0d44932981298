//! The ledger: tamper evidence that does not rest on the database alone.
//!
//! Each complaint's events are hash-chained, but the chain is unkeyed: anyone who can write to
//! the database can change an event and recompute every hash after it. So the heads of the
//! chains are sealed into *blocks*. A sealer (`serve` every few seconds, and `audit anchor`
//! before it prints) takes every complaint whose chain grew since it was last sealed, writes one
//! ledger entry per complaint (reference, version, head) and a block whose hash covers the
//! previous block's hash and its entries, signed with the Ed25519 key kept outside the database
//! when one is given. The newest block's hash is the store-wide head: `audit anchor` prints it
//! for compliance to keep elsewhere, and `audit verify --anchor` proves against it that nothing
//! sealed up to then has changed and that the database is not an older copy.
//!
//! Writers never touch a shared row: each transaction that appends events adds a row of its
//! own to `ledger_pending` (complaint, version), and only the sealer, one at a time (SQLite's
//! single writer; a PostgreSQL advisory lock across nodes), reads and removes those rows. The
//! sealed head is read from the `events` table itself, not from the projection.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::any::Any;

use super::chain::GENESIS_HASH;
use super::rows;
use super::{Backend, Store, StoreError, from_micros, micros};
use crate::keys::SigningKey;

/// The most pending rows one block takes, so that a backlog (the first seal of an existing
/// database) is sealed in several short transactions rather than one that holds SQLite's
/// writer for long.
pub const MAX_BLOCK_ENTRIES: i64 = 5_000;

/// The PostgreSQL advisory lock held by whichever node is sealing (transaction-scoped).
const SEAL_LOCK: i64 = 0x7265_6472_6573_0001;

/// One block of the ledger as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub block: i64,
    pub prev_hash: String,
    pub hash: String,
    /// Events sealed by this block and every block before it.
    pub events: i64,
    pub sealed_at: Timestamp,
    pub key_id: Option<String>,
    pub signature: Option<String>,
}

/// The store-wide head as `redress audit anchor` prints it, for keeping outside the database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Anchor {
    pub block: i64,
    pub head: String,
    pub events: i64,
    pub at: Timestamp,
    pub key_id: Option<String>,
    pub signature: Option<String>,
}

impl From<Block> for Anchor {
    fn from(b: Block) -> Anchor {
        Anchor {
            block: b.block,
            head: b.hash,
            events: b.events,
            at: b.sealed_at,
            key_id: b.key_id,
            signature: b.signature,
        }
    }
}

/// One complaint's head as a block seals it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub reference: String,
    pub version: i64,
    pub head: String,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A block's hash: SHA-256 over a label, the block's number, the previous block's hash, when
/// it was sealed and the events it brings the count to, then its entries ordered by the bytes
/// of their references (an order no collation can change), each field followed by a unit
/// separator and each entry by a record separator.
pub fn block_hash(
    block: i64,
    prev_hash: &str,
    sealed_at: i64,
    events: i64,
    entries: &[Entry],
) -> String {
    let mut sorted: Vec<&Entry> = entries.iter().collect();
    sorted.sort_by(|a, b| a.reference.as_bytes().cmp(b.reference.as_bytes()));
    let mut hasher = Sha256::new();
    hasher.update(b"redress ledger block v1\x1e");
    for part in [
        block.to_string().as_str(),
        prev_hash,
        &sealed_at.to_string(),
        &events.to_string(),
    ] {
        hasher.update(part.as_bytes());
        hasher.update([0x1f]);
    }
    hasher.update([0x1e]);
    for entry in sorted {
        hasher.update(entry.reference.as_bytes());
        hasher.update([0x1f]);
        hasher.update(entry.version.to_string().as_bytes());
        hasher.update([0x1f]);
        hasher.update(entry.head.as_bytes());
        hasher.update([0x1e]);
    }
    hex(&hasher.finalize())
}

fn block_of(row: &sqlx::any::AnyRow) -> Result<Block, StoreError> {
    Ok(Block {
        block: row.try_get("block")?,
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
        events: row.try_get("events")?,
        sealed_at: from_micros(row.try_get("sealed_at")?)?,
        key_id: row.try_get("key_id")?,
        signature: row.try_get("signature")?,
    })
}

pub(crate) const BLOCK_COLUMNS: &str =
    "block, prev_hash, hash, events, sealed_at, key_id, signature";

/// Refuses to seal with no key, or another key, once the ledger is signed: a block left
/// unsigned after signed ones is what a rewrite would look like, so `verify` reports it.
fn check_key(newest: Option<&Block>, key: Option<&SigningKey>) -> Result<(), StoreError> {
    let Some(signed_by) = newest.and_then(|b| b.key_id.as_deref()) else {
        return Ok(());
    };
    match key {
        None => Err(StoreError::Ledger(format!(
            "the ledger is signed with key {signed_by}: give that key (--signing-key, \
             REDRESS_SIGNING_KEY_FILE or REDRESS_SIGNING_KEY) so that new blocks are signed too"
        ))),
        Some(key) if key.id() != signed_by => Err(StoreError::Ledger(format!(
            "the ledger is signed with key {signed_by}, not with the key given ({}): \
             give the key that signed it",
            key.id()
        ))),
        Some(_) => Ok(()),
    }
}

impl Store {
    /// Refuses a key other than the one the ledger is signed with: `serve` would start, and
    /// then never seal. (No key at all on a signed ledger is allowed to start: the complaints
    /// must still be handled; the sealer says why it does not seal.)
    pub async fn check_signing_key(&self, key: Option<&SigningKey>) -> Result<(), StoreError> {
        match key {
            Some(key) => check_key(self.newest_block().await?.as_ref(), Some(key)),
            None => Ok(()),
        }
    }

    /// The newest block, if any has been sealed.
    pub async fn newest_block(&self) -> Result<Option<Block>, StoreError> {
        let sql = format!("SELECT {BLOCK_COLUMNS} FROM ledger_blocks ORDER BY block DESC LIMIT 1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(block_of).transpose()
    }

    /// Seals every complaint whose chain grew since it was last sealed, in blocks of at most
    /// [`MAX_BLOCK_ENTRIES`] pending rows; returns the newest block made (`None`: nothing to
    /// seal). With `key`, each block is signed.
    pub async fn seal(
        &self,
        key: Option<&SigningKey>,
        now: Timestamp,
    ) -> Result<Option<Block>, StoreError> {
        let mut newest = None;
        loop {
            let (made, more) = self.seal_block(key, now).await?;
            if made.is_some() {
                newest = made;
            }
            if !more {
                return Ok(newest);
            }
        }
    }

    /// Seals what is pending, then returns the newest block as an anchor (`None` when nothing
    /// has ever been recorded).
    pub async fn anchor(
        &self,
        key: Option<&SigningKey>,
        now: Timestamp,
    ) -> Result<Option<Anchor>, StoreError> {
        self.seal(key, now).await?;
        Ok(self.newest_block().await?.map(Anchor::from))
    }

    /// One block: returns it (if anything needed sealing) and whether more rows are pending.
    async fn seal_block(
        &self,
        key: Option<&SigningKey>,
        now: Timestamp,
    ) -> Result<(Option<Block>, bool), StoreError> {
        let mut w = self.begin_write().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(SEAL_LOCK)
                .execute(&mut *w.tx)
                .await?;
        }
        // Each pending row with the head the events table holds at that version, and the
        // version the ledger already has for the complaint.
        let pending = sqlx::query(
            "SELECT p.complaint_id, p.version, c.reference, e.hash, \
             (SELECT MAX(l.version) FROM ledger_entries l WHERE l.reference = c.reference) AS sealed \
             FROM ledger_pending p JOIN complaints c ON c.id = p.complaint_id \
             LEFT JOIN events e ON e.complaint_id = p.complaint_id AND e.sequence = p.version \
             ORDER BY p.complaint_id, p.version LIMIT $1",
        )
        .bind(MAX_BLOCK_ENTRIES)
        .fetch_all(&mut *w.tx)
        .await?;
        let more = i64::try_from(pending.len()).unwrap_or(i64::MAX) >= MAX_BLOCK_ENTRIES;
        let mut taken: Vec<(i64, i64)> = Vec::with_capacity(pending.len());
        // By complaint id; rows come in version order, so the last one kept is the newest.
        let mut heads: BTreeMap<i64, (Entry, i64)> = BTreeMap::new();
        for row in &pending {
            let id: i64 = row.try_get("complaint_id")?;
            let version: i64 = row.try_get("version")?;
            let reference: String = row.try_get("reference")?;
            let hash: Option<String> = row.try_get("hash")?;
            let sealed: i64 = row.try_get::<Option<i64>, _>("sealed")?.unwrap_or(0);
            taken.push((id, version));
            if version <= sealed {
                continue;
            }
            let Some(head) = hash else {
                // Written in the same transaction as its event, so this is damage, which
                // `audit verify` names; sealing it would seal a head that does not exist.
                tracing::error!(%reference, version, "not sealed: the event the ledger was told of is missing");
                continue;
            };
            heads.insert(
                id,
                (
                    Entry {
                        reference,
                        version,
                        head,
                    },
                    sealed,
                ),
            );
        }
        let mut made = None;
        if !heads.is_empty() {
            let newest = {
                let sql = format!(
                    "SELECT {BLOCK_COLUMNS} FROM ledger_blocks ORDER BY block DESC LIMIT 1"
                );
                let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .fetch_optional(&mut *w.tx)
                    .await?;
                row.as_ref().map(block_of).transpose()?
            };
            check_key(newest.as_ref(), key)?;
            let (number, prev_hash, prev_events, sealed_at) = match &newest {
                Some(b) => (b.block + 1, b.hash.clone(), b.events, now.max(b.sealed_at)),
                None => (1, GENESIS_HASH.to_owned(), 0, now),
            };
            let added: i64 = heads
                .values()
                .map(|(entry, sealed)| entry.version - sealed)
                .sum();
            let entries: Vec<Entry> = heads.into_values().map(|(entry, _)| entry).collect();
            let events = prev_events + added;
            let hash = block_hash(number, &prev_hash, micros(sealed_at), events, &entries);
            let block = Block {
                block: number,
                prev_hash,
                signature: key.map(|k| k.sign_block(&hash)),
                key_id: key.map(|k| k.id().to_owned()),
                hash,
                events,
                sealed_at,
            };
            sqlx::query(
                "INSERT INTO ledger_blocks (block, prev_hash, hash, events, sealed_at, key_id, signature) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(block.block)
            .bind(&block.prev_hash)
            .bind(&block.hash)
            .bind(block.events)
            .bind(micros(block.sealed_at))
            .bind(&block.key_id)
            .bind(&block.signature)
            .execute(&mut *w.tx)
            .await?;
            rows::insert_many(
                &mut w.tx,
                self.backend,
                "INSERT INTO ledger_entries (block, reference, version, head)",
                4,
                "",
                &entries,
                |e| e.reference.len() + e.head.len() + 40,
                |q, e| {
                    q.bind(number)
                        .bind(e.reference.clone())
                        .bind(e.version)
                        .bind(e.head.clone())
                },
            )
            .await?;
            made = Some(block);
        }
        delete_pending(&mut w.tx, self.backend, &taken).await?;
        w.tx.commit().await?;
        if let Some(block) = &made {
            metrics::counter!("redress_ledger_blocks_total").increment(1);
            tracing::debug!(block = block.block, events = block.events, "sealed a block");
        }
        Ok((made, more))
    }
}

/// Removes the pending rows a block took (exactly those: rows written since stay for the next).
async fn delete_pending(
    tx: &mut sqlx::Transaction<'static, Any>,
    backend: Backend,
    taken: &[(i64, i64)],
) -> Result<(), StoreError> {
    rows::insert_many(
        tx,
        backend,
        "DELETE FROM ledger_pending WHERE (complaint_id, version) IN (",
        2,
        ")",
        taken,
        |_| 40,
        |q, (id, version)| q.bind(*id).bind(*version),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::{Entry, block_hash};

    fn entry(reference: &str, version: i64) -> Entry {
        Entry {
            reference: reference.into(),
            version,
            head: "ab".repeat(32),
        }
    }

    #[test]
    fn a_block_hash_covers_every_field_and_not_the_order_entries_are_given_in() {
        let a = [entry("CMP-2026-000001", 3), entry("CMP-2026-000002", 1)];
        let b = [entry("CMP-2026-000002", 1), entry("CMP-2026-000001", 3)];
        let base = block_hash(2, "00", 10, 4, &a);
        assert_eq!(base, block_hash(2, "00", 10, 4, &b));
        assert_ne!(base, block_hash(3, "00", 10, 4, &a));
        assert_ne!(base, block_hash(2, "01", 10, 4, &a));
        assert_ne!(base, block_hash(2, "00", 11, 4, &a));
        assert_ne!(base, block_hash(2, "00", 10, 5, &a));
        assert_ne!(base, block_hash(2, "00", 10, 4, &a[..1]));
        let c = [entry("CMP-2026-000001", 2), entry("CMP-2026-000002", 1)];
        assert_ne!(base, block_hash(2, "00", 10, 4, &c));
    }
}
