//! `redress audit verify`: every complaint's event chain is intact and its projection is the
//! fold of its events; every head the ledger sealed is still where the chain leads; the
//! ledger's blocks follow one another, match their hashes and, given the key, their
//! signatures; and, given an anchor kept outside the database, that the database holds the
//! anchor's block unchanged (an older copy lacks it, a rewritten ledger differs).
//!
//! The ledger checks compare the stored `hash` columns with the sealed heads; event contents
//! are read only by the chain check, as before, and (to tell a reordering from an edit) only
//! for an event whose sealed head no longer matches.

use std::collections::{BTreeMap, HashMap};

use futures_util::TryStreamExt;
use redress_core::{Complaint, Event};
use serde::Serialize;
use sqlx::Row;

use super::chain::{EventLink, GENESIS_HASH, payload_digest};
use super::counts::{self, Count};
use super::ledger::{Anchor, Entry, block_hash};
use super::{Backend, Store, StoreError};
use crate::keys::PublicKey;

/// The read transaction the whole verification runs in.
type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// One thing wrong in the record, as a sentence naming what and where.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AuditProblem {
    /// The complaint it concerns, if any (a block's problem concerns the ledger).
    pub reference: Option<String>,
    /// The event's sequence, where one event is at fault.
    pub sequence: Option<i64>,
    /// The block, where the ledger is at fault.
    pub block: Option<i64>,
    pub problem: String,
}

/// Whether block signatures were checked.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "checked", rename_all = "snake_case")]
pub enum Signatures {
    /// No key was given: `signed` blocks carry a signature nobody checked.
    NotChecked { signed: u64 },
    /// Checked with the key whose id is `key_id`.
    Checked { key_id: String, signed: u64 },
}

impl Default for Signatures {
    fn default() -> Signatures {
        Signatures::NotChecked { signed: 0 }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct AuditReport {
    pub complaints: u64,
    pub events: u64,
    pub blocks: u64,
    /// Events recorded after the newest block sealed their complaint: covered by the chain
    /// and the insert trigger only, until the next seal.
    pub unsealed_events: u64,
    pub signatures: Signatures,
    /// The anchor's block, when an anchor was given and its block matched.
    pub anchor_matched: Option<i64>,
    pub problems: Vec<AuditProblem>,
}

/// What `verify` checks against besides the database itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct VerifyWith<'a> {
    /// The public key of the signing key: without it, signatures are not checked.
    pub key: Option<&'a PublicKey>,
    /// A store-wide head kept elsewhere (`redress audit anchor`).
    pub anchor: Option<&'a Anchor>,
}

/// One event row as stored.
pub(super) struct Stored {
    pub sequence: i64,
    pub kind: String,
    pub payload: String,
    pub actor: String,
    pub occurred_at: i64,
    pub recorded_at: i64,
    pub due_at: Option<i64>,
    pub prev_hash: String,
    pub hash: String,
}

impl Stored {
    /// The hash this event's contents would have at `sequence` after `prev_hash`.
    fn hash_as(&self, reference: &str, sequence: i64, prev_hash: &str) -> String {
        self.link(reference, sequence, prev_hash).hash()
    }

    /// This event's contents as a link at `sequence` after `prev_hash`.
    pub(super) fn link<'a>(
        &'a self,
        reference: &'a str,
        sequence: i64,
        prev_hash: &'a str,
    ) -> EventLink<'a> {
        EventLink {
            prev_hash,
            reference,
            sequence,
            kind: &self.kind,
            payload: &self.payload,
            actor: &self.actor,
            occurred_at: self.occurred_at,
            recorded_at: self.recorded_at,
            due_at: self.due_at,
        }
    }
}

impl AuditReport {
    fn complaint(&mut self, reference: &str, sequence: Option<i64>, problem: String) {
        self.problems.push(AuditProblem {
            reference: Some(reference.to_owned()),
            sequence,
            block: None,
            problem,
        });
    }

    fn block(&mut self, block: i64, problem: String) {
        self.problems.push(AuditProblem {
            reference: None,
            sequence: None,
            block: Some(block),
            problem,
        });
    }
}

impl Store {
    /// Checks every complaint's chain, projection and sealed heads, and the ledger's blocks,
    /// without a key or an anchor.
    pub async fn verify_audit(&self) -> Result<AuditReport, StoreError> {
        self.verify_record(VerifyWith::default()).await
    }

    /// As [`Store::verify_audit`], checking block signatures with `with.key` and the database
    /// against `with.anchor`.
    pub async fn verify_record(&self, with: VerifyWith<'_>) -> Result<AuditReport, StoreError> {
        // One snapshot throughout, so that a server writing and sealing meanwhile cannot make
        // the events, the projection and the ledger disagree with each other.
        let mut tx = match self.backend {
            Backend::Sqlite => self.pool.begin().await?,
            Backend::Postgres => {
                self.pool
                    .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await?
            }
        };
        let mut report = AuditReport::default();
        let complaints = sqlx::query(
            "SELECT id, reference, state, last_hash, erased_at FROM complaints ORDER BY id",
        )
        .fetch_all(&mut *tx)
        .await?;
        for row in complaints {
            report.complaints += 1;
            let id: i64 = row.try_get("id")?;
            let reference: String = row.try_get("reference")?;
            let state: String = row.try_get("state")?;
            let last_hash: String = row.try_get("last_hash")?;
            let events = stored_events(&mut tx, id).await?;
            report.events += events.len() as u64;
            let erased_at: Option<i64> = row.try_get("erased_at")?;
            let erased = match erased_at {
                Some(_) => erased_events(&mut tx, id).await?,
                None => BTreeMap::new(),
            };
            let parsed = check_chain(&mut report, &reference, &events, &erased);
            check_erasure(&mut report, &reference, &parsed, &erased);
            if events.last().map_or(GENESIS_HASH, |e| e.hash.as_str()) != last_hash {
                report.complaint(
                    &reference,
                    None,
                    format!("{reference}: the complaint's last hash does not match its last event"),
                );
            }
            match (
                Complaint::replay(&parsed),
                serde_json::from_str::<Complaint>(&state),
            ) {
                (Some(rebuilt), Ok(stored)) if rebuilt == stored => {}
                (Some(_), Ok(_)) => report.complaint(
                    &reference,
                    None,
                    format!(
                        "{reference}: the stored complaint differs from the fold of its events"
                    ),
                ),
                (None, _) => report.complaint(
                    &reference,
                    None,
                    format!("{reference}: its events do not begin with received"),
                ),
                (_, Err(error)) => report.complaint(
                    &reference,
                    None,
                    format!("{reference}: the stored complaint cannot be read: {error}"),
                ),
            }
            check_sealed(&mut tx, &mut report, &reference, &events).await?;
        }
        check_vanished(&mut tx, &mut report).await?;
        check_counts(&mut tx, &mut report).await?;
        check_blocks(&mut tx, &mut report, with).await?;
        tx.rollback().await?;
        Ok(report)
    }
}

/// What an erasure kept of one event: the digests of its payload as it was and as kept, and
/// whether the chain covers the first (rows written before migration 0013 hashed the payload
/// itself, so only their link can be checked once it is gone).
struct ErasedRow {
    payload_sha256: String,
    kept_sha256: String,
    chained: bool,
}

async fn erased_events(tx: &mut Tx, id: i64) -> Result<BTreeMap<i64, ErasedRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT sequence, payload_sha256, kept_sha256, chained FROM erased_events \
         WHERE complaint_id = $1 ORDER BY sequence",
    )
    .bind(id)
    .fetch_all(&mut **tx)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("sequence")?,
                ErasedRow {
                    payload_sha256: r.try_get("payload_sha256")?,
                    kept_sha256: r.try_get("kept_sha256")?,
                    chained: r.try_get::<i64, _>("chained")? != 0,
                },
            ))
        })
        .collect()
}

/// The erasure event must vouch for exactly the events blanked: their number and the digest
/// of their list; and events are blanked only by an erasure on record.
fn check_erasure(
    report: &mut AuditReport,
    reference: &str,
    parsed: &[Event],
    erased: &BTreeMap<i64, ErasedRow>,
) {
    let erasure = parsed.iter().find_map(|e| match &e.kind {
        redress_core::EventKind::PersonalDataErased {
            events,
            redactions_sha256,
            ..
        } => Some((*events, redactions_sha256.as_str())),
        _ => None,
    });
    let list: String = erased
        .iter()
        .map(|(sequence, row)| {
            super::erasure::redaction_line(*sequence, &row.payload_sha256, &row.kept_sha256)
        })
        .collect();
    match erasure {
        None if erased.is_empty() => {}
        None => report.complaint(
            reference,
            None,
            format!("{reference}: events were blanked with no erasure on record"),
        ),
        Some((count, digest)) => {
            if count as usize != erased.len() || digest != payload_digest(&list) {
                report.complaint(
                    reference,
                    None,
                    format!("{reference}: the events blanked are not those its erasure recorded"),
                );
            }
        }
    }
}

pub(super) async fn stored_events(tx: &mut Tx, id: i64) -> Result<Vec<Stored>, StoreError> {
    let rows = sqlx::query(
        "SELECT sequence, kind, payload, actor, occurred_at, recorded_at, due_at, prev_hash, hash \
             FROM events WHERE complaint_id = $1 ORDER BY sequence",
    )
    .bind(id)
    .fetch_all(&mut **tx)
    .await?;
    rows.iter()
        .map(|e| {
            Ok(Stored {
                sequence: e.try_get("sequence")?,
                kind: e.try_get("kind")?,
                payload: e.try_get("payload")?,
                actor: e.try_get("actor")?,
                occurred_at: e.try_get("occurred_at")?,
                recorded_at: e.try_get("recorded_at")?,
                due_at: e.try_get("due_at")?,
                prev_hash: e.try_get("prev_hash")?,
                hash: e.try_get("hash")?,
            })
        })
        .collect()
}

/// Every head the ledger sealed for a complaint must still be its stored hash at that
/// version. The first that is not names the event (or the events between two seals) that
/// changed; later ones would only repeat it.
async fn check_sealed(
    tx: &mut Tx,
    report: &mut AuditReport,
    reference: &str,
    events: &[Stored],
) -> Result<(), StoreError> {
    let entries = sqlx::query(
        "SELECT block, version, head FROM ledger_entries WHERE reference = $1 ORDER BY version",
    )
    .bind(reference)
    .fetch_all(&mut **tx)
    .await?;
    let at: HashMap<i64, &Stored> = events.iter().map(|e| (e.sequence, e)).collect();
    let count = events.len() as i64;
    let mut sealed = Vec::with_capacity(entries.len());
    for row in &entries {
        let block: i64 = row.try_get("block")?;
        let version: i64 = row.try_get("version")?;
        let head: String = row.try_get("head")?;
        sealed.push((block, version, head));
    }
    // Fewer events than were sealed: whatever else is wrong, events were removed.
    let most = sealed.iter().map(|(b, v, _)| (*v, *b)).max();
    let lost = most.filter(|(version, _)| *version > count);
    let (mut sealed_version, mut sealed_head) = (0_i64, GENESIS_HASH.to_owned());
    for (block, version, head) in &sealed {
        let (block, version) = (*block, *version);
        let intact = at.get(&version).is_some_and(|e| e.hash == *head);
        if !intact {
            let first = sealed_version + 1;
            let problem = match lost {
                Some((most, last_block)) => {
                    let which = if first == version {
                        format!("event {first}")
                    } else {
                        format!("one of events {first} to {version}")
                    };
                    format!(
                        "{which} of {reference} is missing: block {last_block} sealed {most} events and {count} remain"
                    )
                }
                None if first == version => {
                    let slots = single_slots(&sealed);
                    // Where the sealed event went, and where what stands here came from.
                    let went = events.iter().find(|e| {
                        e.sequence != version
                            && e.hash_as(reference, version, &sealed_head) == *head
                    });
                    let here = at.get(&version).and_then(|e| {
                        slots.iter().find(|(k, prev, h)| {
                            *k != version && e.hash_as(reference, *k, prev) == *h
                        })
                    });
                    match (went, here) {
                        (Some(went), Some(_)) => format!(
                            "the event block {block} sealed as event {version} of {reference} is now event {}: the events were reordered",
                            went.sequence
                        ),
                        (Some(went), None) if went.sequence > version => format!(
                            "event {version} of {reference} was inserted: the event block {block} sealed as event {version} is now event {}",
                            went.sequence
                        ),
                        _ => format!(
                            "event {version} of {reference} was altered after block {block} sealed it (its hashes were recomputed to hide it)"
                        ),
                    }
                }
                None => format!(
                    "one of events {first} to {version} of {reference} was altered, removed, inserted or reordered after block {block} sealed them (their hashes were recomputed to hide it)"
                ),
            };
            report.complaint(reference, Some(first), problem);
            return Ok(());
        }
        (sealed_version, sealed_head) = (version, head.clone());
    }
    report.unsealed_events += u64::try_from(count - sealed_version).unwrap_or(0);
    Ok(())
}

/// Complaints the ledger sealed that are no longer in the database at all.
async fn check_vanished(tx: &mut Tx, report: &mut AuditReport) -> Result<(), StoreError> {
    let gone = sqlx::query(
            "SELECT l.reference, MAX(l.version) AS version, MAX(l.block) AS block FROM ledger_entries l \
             WHERE NOT EXISTS (SELECT 1 FROM complaints c WHERE c.reference = l.reference) \
             GROUP BY l.reference ORDER BY l.reference",
        )
        .fetch_all(&mut **tx)
        .await?;
    for row in gone {
        let reference: String = row.try_get("reference")?;
        let version: i64 = row.try_get("version")?;
        let block: i64 = row.try_get("block")?;
        report.complaint(
            &reference,
            None,
            format!("{reference} is missing: block {block} sealed {version} of its events"),
        );
    }
    Ok(())
}

/// The counts kept for the dashboard and /metrics are the complaints' own numbers.
async fn check_counts(tx: &mut Tx, report: &mut AuditReport) -> Result<(), StoreError> {
    let kept = counts::cells(tx, counts::COUNTS).await?;
    let counted = counts::cells(tx, counts::COUNTED).await?;
    let key = |c: &Count| (c.stage, c.status.clone(), c.overdue, c.adr_eligible);
    let mut cells: Vec<_> = kept.iter().chain(&counted).map(key).collect();
    cells.sort();
    cells.dedup();
    for cell in cells {
        let find = |list: &[Count]| list.iter().find(|c| key(c) == cell).map_or(0, |c| c.n);
        let (kept, counted) = (find(&kept), find(&counted));
        if kept != counted {
            let (stage, status, overdue, adr) = cell;
            report.problems.push(AuditProblem {
                reference: None,
                sequence: None,
                block: None,
                problem: format!(
                    "the counts kept for the dashboard say {kept} complaints at stage {stage} {status} \
                     (overdue {overdue}, ADR-eligible {adr}); the complaints themselves number {counted}"
                ),
            });
        }
    }
    Ok(())
}

/// Walks the blocks in order with their entries: numbering, links, hashes, event counts,
/// signatures, and the anchor's block.
async fn check_blocks(
    tx: &mut Tx,
    report: &mut AuditReport,
    with: VerifyWith<'_>,
) -> Result<(), StoreError> {
    // Each block with its entries, in one stream (one snapshot, one connection).
    let mut rows = sqlx::query(
        "SELECT b.block, b.prev_hash, b.hash, b.events, b.sealed_at, b.key_id, b.signature, \
             e.reference, e.version, e.head \
             FROM ledger_blocks b LEFT JOIN ledger_entries e ON e.block = b.block ORDER BY b.block",
    )
    .fetch(&mut **tx);
    let mut next_row = rows.try_next().await?;
    let mut versions: HashMap<String, i64> = HashMap::new();
    let (mut expected, mut prev_hash, mut prev_events) = (1_i64, GENESIS_HASH.to_owned(), 0);
    let mut signed = 0_u64;
    let mut first_signed: Option<i64> = None;
    let mut newest: Option<(i64, bool)> = None;
    let mut anchor_seen = false;
    while let Some(row) = next_row.take() {
        let number: i64 = row.try_get("block")?;
        let stored_prev: String = row.try_get("prev_hash")?;
        let hash: String = row.try_get("hash")?;
        let events: i64 = row.try_get("events")?;
        let sealed_at: i64 = row.try_get("sealed_at")?;
        let key_id: Option<String> = row.try_get("key_id")?;
        let signature: Option<String> = row.try_get("signature")?;
        report.blocks += 1;
        let mut own: Vec<Entry> = Vec::new();
        let mut current = Some(row);
        while let Some(entry) = current {
            if entry.try_get::<i64, _>("block")? != number {
                next_row = Some(entry);
                break;
            }
            if let Some(reference) = entry.try_get::<Option<String>, _>("reference")? {
                own.push(Entry {
                    reference,
                    version: entry.try_get("version")?,
                    head: entry.try_get("head")?,
                });
            }
            current = rows.try_next().await?;
        }
        if number != expected {
            let gap = if number == expected + 1 {
                format!("block {expected} is missing")
            } else {
                format!("blocks {expected} to {} are missing", number - 1)
            };
            report.block(expected, format!("{gap}: the ledger was cut"));
        } else if stored_prev != prev_hash {
            report.block(
                number,
                format!(
                    "block {number} does not follow block {}: the ledger was rewritten",
                    number - 1
                ),
            );
        }
        if block_hash(number, &stored_prev, sealed_at, events, &own) != hash {
            report.block(
                number,
                format!("block {number} does not match its hash: the ledger was altered"),
            );
        }
        let mut added = 0_i64;
        for entry in &own {
            let before = versions
                .insert(entry.reference.clone(), entry.version)
                .unwrap_or(0);
            if entry.version <= before {
                report.block(
                        number,
                        format!(
                            "block {number} seals {} at version {}, not after the version {before} sealed before it: the ledger was rewritten",
                            entry.reference, entry.version
                        ),
                    );
            }
            added += entry.version - before;
        }
        if events != prev_events + added {
            report.block(
                    number,
                    format!(
                        "block {number} counts {events} events where its entries make {}: the ledger was altered",
                        prev_events + added
                    ),
                );
        }
        if signature.is_some() {
            signed += 1;
            first_signed.get_or_insert(number);
        }
        if let Some(key) = with.key {
            match (&signature, &key_id) {
                (Some(_), Some(id)) if id != key.id() => report.block(
                    number,
                    format!(
                        "block {number} was signed with key {id}, not with the key given ({})",
                        key.id()
                    ),
                ),
                (Some(signature_text), _) if !key.verifies_block(&hash, signature_text) => report
                    .block(
                        number,
                        format!(
                            "block {number} signature does not match: the ledger was rewritten"
                        ),
                    ),
                (Some(_), _) => {}
                (None, _) => {
                    if let Some(first) = first_signed {
                        report.block(
                                number,
                                format!(
                                    "block {number} is not signed, though block {first} before it was: the ledger was rewritten from block {number}"
                                ),
                            );
                    }
                }
            }
        }
        if let Some(anchor) = with.anchor
            && anchor.block == number
        {
            anchor_seen = true;
            if anchor.head == hash && anchor.events == events {
                report.anchor_matched = Some(number);
            } else {
                report.block(
                        number,
                        format!(
                            "block {number} differs from the anchor: the ledger was rewritten after the anchor was taken, or this is another database"
                        ),
                    );
            }
        }
        newest = Some((number, signature.is_some()));
        (expected, prev_hash, prev_events) = (number + 1, hash, events);
    }
    drop(rows);
    // Entries whose block row is gone.
    let orphans = sqlx::query(
            "SELECT DISTINCT e.block FROM ledger_entries e \
             WHERE NOT EXISTS (SELECT 1 FROM ledger_blocks b WHERE b.block = e.block) ORDER BY e.block",
        )
        .fetch_all(&mut **tx)
        .await?;
    for row in orphans {
        let block: i64 = row.try_get("block")?;
        report.block(
            block,
            format!("block {block} is missing, though the ledger holds entries of it"),
        );
    }
    if let Some(key) = with.key {
        if let Some((number, false)) = newest {
            report.block(
                    number,
                    format!(
                        "the newest block ({number}) is not signed: the ledger was rewritten, or it is sealed without the signing key"
                    ),
                );
        }
        report.signatures = Signatures::Checked {
            key_id: key.id().to_owned(),
            signed,
        };
    } else {
        report.signatures = Signatures::NotChecked { signed };
    }
    if let Some(anchor) = with.anchor {
        check_anchor(
            report,
            anchor,
            with.key,
            anchor_seen,
            newest.map(|(n, _)| n),
        );
    }
    Ok(())
}

/// The sealed versions whose sealed predecessor is the version just before: for each, the
/// version, the head before it and its head, which together pin one event's contents.
fn single_slots(sealed: &[(i64, i64, String)]) -> Vec<(i64, &str, &str)> {
    let mut slots = Vec::new();
    let mut prev: (i64, &str) = (0, GENESIS_HASH);
    for (_, version, head) in sealed {
        if *version == prev.0 + 1 {
            slots.push((*version, prev.1, head.as_str()));
        }
        prev = (*version, head.as_str());
    }
    slots
}

/// Each event must follow the one before it (sequence and link) and match its own hash.
/// Returns the events that could be read, for the fold.
fn check_chain(
    report: &mut AuditReport,
    reference: &str,
    events: &[Stored],
    erased: &BTreeMap<i64, ErasedRow>,
) -> Vec<Event> {
    let mut parsed = Vec::with_capacity(events.len());
    let (mut expected, mut prev) = (1_i64, GENESIS_HASH);
    for e in events {
        let sequence = e.sequence;
        let gap = sequence > expected;
        if gap {
            let missing = if sequence == expected + 1 {
                format!("event {expected} of {reference} is missing")
            } else {
                format!(
                    "events {expected} to {} of {reference} are missing",
                    sequence - 1
                )
            };
            report.complaint(reference, Some(expected), missing);
        } else if sequence < expected {
            report.complaint(
                reference,
                Some(sequence),
                format!("event {sequence} of {reference} is out of place"),
            );
        }
        // After a gap the link is broken by the missing event, already named.
        if e.prev_hash != prev && !gap {
            report.complaint(
                reference,
                Some(sequence),
                format!(
                    "event {sequence} of {reference} does not follow the event before it: its link to that event's hash is broken"
                ),
            );
        }
        let matches = match erased.get(&sequence) {
            // Blanked: what is left must be what the erasure kept, and the chain covers the
            // payload as it was by its digest.
            Some(row) => {
                if payload_digest(&e.payload) != row.kept_sha256 {
                    report.complaint(
                        reference,
                        Some(sequence),
                        format!("event {sequence} of {reference} was altered after its erasure"),
                    );
                }
                !row.chained
                    || e.link(reference, sequence, &e.prev_hash)
                        .hash_with_digest(&row.payload_sha256)
                        == e.hash
            }
            None => {
                let link = e.link(reference, sequence, &e.prev_hash);
                link.hash() == e.hash || link.legacy_hash() == e.hash
            }
        };
        if !matches {
            report.complaint(
                reference,
                Some(sequence),
                format!("event {sequence} of {reference} was altered: its contents no longer match its hash"),
            );
        }
        match serde_json::from_str::<Event>(&e.payload) {
            Ok(event) if event.kind.name() == e.kind => parsed.push(event),
            Ok(_) => report.complaint(
                reference,
                Some(sequence),
                format!(
                    "event {sequence} of {reference} is not the {} event it says it is",
                    e.kind
                ),
            ),
            Err(error) => report.complaint(
                reference,
                Some(sequence),
                format!("event {sequence} of {reference} cannot be read: {error}"),
            ),
        }
        prev = &e.hash;
        expected = sequence.max(expected - 1) + 1;
    }
    parsed
}

fn check_anchor(
    report: &mut AuditReport,
    anchor: &Anchor,
    key: Option<&PublicKey>,
    seen: bool,
    newest: Option<i64>,
) {
    if !seen {
        let here = match newest {
            Some(n) => format!("the newest block here is {n}"),
            None => "there are no blocks here".to_owned(),
        };
        report.block(
            anchor.block,
            format!(
                "the database is older than the anchor: block {} is missing ({here}); it was restored from an older copy, or the ledger was cut",
                anchor.block
            ),
        );
    }
    if let (Some(key), Some(signature)) = (key, &anchor.signature)
        && (anchor.key_id.as_deref() != Some(key.id())
            || !key.verifies_block(&anchor.head, signature))
    {
        report.block(
            anchor.block,
            "the anchor's signature does not match the key given: it was made with another key, or edited"
                .to_owned(),
        );
    }
}
