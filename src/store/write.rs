//! Changing complaints: create, run a command, fire due deadlines. Each is one transaction.

use jiff::Timestamp;
use redress_core::deadline::DeadlineKind;
use redress_core::event::{AdrReason, EvidenceSource};
use redress_core::letters::{LetterKind, Recipient};
use redress_core::{
    Command, Complaint, Event, EventKind, Procedure, Receive, Reference, Refusal, apply, clock,
    deadlines, execute, fire_due, open,
};
use sha2::{Digest, Sha256};
use sqlx::any::Any;
use sqlx::{Row, Transaction};
use tokio::sync::MutexGuard;

use super::{Backend, Store, StoreError, from_micros, micros};

/// The hash that starts every complaint's chain.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A request's Idempotency-Key, scoped to the caller, with a hash of the request body.
#[derive(Debug, Clone)]
pub struct Idempotency {
    pub scope: String,
    pub key: String,
    pub request_hash: String,
}

/// The answer stored for an idempotent request, returned again on a retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub body: String,
    pub location: Option<String>,
}

/// A request seen before: its first answer.
#[derive(Debug, Clone)]
pub struct Replayed(pub StoredResponse);

/// A complaint just created, with the events recorded.
#[derive(Debug, Clone)]
pub struct Created {
    pub complaint: Complaint,
    pub events: Vec<Event>,
}

/// What a command did: the events recorded (deadlines that came due first included) and the
/// refusal, if the command itself was refused.
#[derive(Debug, Clone)]
pub struct CommandOutcome {
    pub complaint: Complaint,
    pub events: Vec<Event>,
    pub refusal: Option<Refusal>,
}

/// A write transaction with, on SQLite, this process's writer lock.
pub(crate) struct WriteTx<'a> {
    pub tx: Transaction<'static, Any>,
    _guard: Option<MutexGuard<'a, ()>>,
}

impl Store {
    pub(crate) async fn begin_write(&self) -> Result<WriteTx<'_>, StoreError> {
        let guard = match &self.write_lock {
            Some(lock) => Some(lock.lock().await),
            None => None,
        };
        let tx = match self.backend {
            // IMMEDIATE takes the write lock at once, so a read-then-write never has to upgrade.
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(WriteTx { tx, _guard: guard })
    }

    /// The stored answer for an idempotency key, if the request was seen before.
    async fn idempotent_replay(
        &self,
        tx: &mut Transaction<'static, Any>,
        key: &Idempotency,
    ) -> Result<Option<Replayed>, StoreError> {
        if self.backend == Backend::Postgres {
            // Two requests with the same key at once: the second waits here for the first to
            // commit, then finds its answer (SQLite's single writer already serialises them).
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                .bind(format!("{}\u{1f}{}", key.scope, key.key))
                .execute(&mut **tx)
                .await?;
        }
        let row = sqlx::query(
            "SELECT request_hash, status, body, location FROM idempotency_keys WHERE scope = $1 AND key = $2",
        )
        .bind(&key.scope)
        .bind(&key.key)
        .fetch_optional(&mut **tx)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let hash: String = row.try_get("request_hash")?;
        if hash != key.request_hash {
            return Err(StoreError::IdempotencyMismatch);
        }
        let status: i64 = row.try_get("status")?;
        Ok(Some(Replayed(StoredResponse {
            status: u16::try_from(status).unwrap_or(500),
            body: row.try_get("body")?,
            location: row.try_get("location")?,
        })))
    }

    async fn remember(
        tx: &mut Transaction<'static, Any>,
        key: &Idempotency,
        response: &StoredResponse,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO idempotency_keys (scope, key, request_hash, status, body, location, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&key.scope)
        .bind(&key.key)
        .bind(&key.request_hash)
        .bind(i64::from(response.status))
        .bind(&response.body)
        .bind(&response.location)
        .bind(micros(now))
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Records a new complaint. `receive.reference` is replaced by the next reference for the
    /// year it was first received. `respond` renders the answer kept for idempotent retries.
    pub async fn create_complaint(
        &self,
        mut receive: Receive,
        now: Timestamp,
        idempotency: Option<&Idempotency>,
        respond: impl FnOnce(&Created) -> StoredResponse,
    ) -> Result<Result<Created, Replayed>, StoreError> {
        let mut w = self.begin_write().await?;
        if let Some(key) = idempotency
            && let Some(replayed) = self.idempotent_replay(&mut w.tx, key).await?
        {
            return Ok(Err(replayed));
        }
        let tz = self.procedure.time_zone();
        let received_at = receive.received_at.unwrap_or(now);
        let year = clock::local_date(tz, received_at.min(now)).year();
        let row = sqlx::query(
            "INSERT INTO reference_sequences (year, last) VALUES ($1, 1) \
             ON CONFLICT (year) DO UPDATE SET last = reference_sequences.last + 1 RETURNING last",
        )
        .bind(i64::from(year))
        .fetch_one(&mut *w.tx)
        .await?;
        let sequence: i64 = row.try_get("last")?;
        receive.reference = Reference::new(
            &self.procedure.reference_prefix,
            year,
            u64::try_from(sequence).unwrap_or(0),
        );
        let (_, events) = match open(receive, now, &self.procedure) {
            Ok(opened) => opened,
            Err(refusal) => return Err(StoreError::Refused(refusal)),
        };
        let first = events
            .first()
            .and_then(Complaint::start)
            .ok_or_else(|| StoreError::Corrupt("no received event".into()))?;
        let id = insert_complaint(&mut w.tx, &first, now, &self.procedure).await?;
        let complaint = append(&mut w.tx, id, None, &events, now, &self.procedure).await?;
        debug_assert_eq!(complaint.version, u64::try_from(events.len()).unwrap_or(0));
        let created = Created { complaint, events };
        if let Some(key) = idempotency {
            Self::remember(&mut w.tx, key, &respond(&created), now).await?;
        }
        w.tx.commit().await?;
        Ok(Ok(created))
    }

    /// Runs a command on a complaint under its lock. Deadlines already due fire first and are
    /// recorded even if the command is then refused.
    pub async fn run_command(
        &self,
        reference: &Reference,
        command: Command,
        now: Timestamp,
        idempotency: Option<&Idempotency>,
        respond: impl FnOnce(&CommandOutcome) -> StoredResponse,
    ) -> Result<Result<CommandOutcome, Replayed>, StoreError> {
        let mut w = self.begin_write().await?;
        if let Some(key) = idempotency
            && let Some(replayed) = self.idempotent_replay(&mut w.tx, key).await?
        {
            return Ok(Err(replayed));
        }
        let (id, complaint) = self
            .lock_complaint(&mut w.tx, reference)
            .await?
            .ok_or(StoreError::NotFound)?;
        let outcome = execute(complaint.clone(), command, now, &self.procedure);
        let after = append(
            &mut w.tx,
            id,
            Some(complaint),
            &outcome.events,
            now,
            &self.procedure,
        )
        .await?;
        let result = CommandOutcome {
            complaint: after,
            events: outcome.events,
            refusal: outcome.refusal,
        };
        if let Some(key) = idempotency {
            Self::remember(&mut w.tx, key, &respond(&result), now).await?;
        }
        w.tx.commit().await?;
        Ok(Ok(result))
    }

    /// Loads a complaint's id and state, locking its row until the transaction ends.
    async fn lock_complaint(
        &self,
        tx: &mut Transaction<'static, Any>,
        reference: &Reference,
    ) -> Result<Option<(i64, Complaint)>, StoreError> {
        let sql = match self.backend {
            Backend::Postgres => "SELECT id, state FROM complaints WHERE reference = $1 FOR UPDATE",
            Backend::Sqlite => "SELECT id, state FROM complaints WHERE reference = $1",
        };
        let row = sqlx::query(sql)
            .bind(reference.as_str())
            .fetch_optional(&mut **tx)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let id: i64 = row.try_get("id")?;
        let state: String = row.try_get("state")?;
        let complaint = serde_json::from_str(&state)
            .map_err(|e| StoreError::Corrupt(format!("complaint {id}: {e}")))?;
        Ok(Some((id, complaint)))
    }

    /// Fires every deadline due at `now`, at most `batch` complaints per transaction. Returns
    /// how many complaints had deadlines fired. A complaint that cannot be read is logged and
    /// skipped; it never stops the others.
    pub async fn fire_due_deadlines(
        &self,
        now: Timestamp,
        batch: i64,
    ) -> Result<usize, StoreError> {
        let mut w = self.begin_write().await?;
        // Whole complaints are claimed, so a command and the scheduler never both hold half of
        // one. Other nodes skip what this one holds and take the next due complaints.
        let sql = match self.backend {
            Backend::Postgres => {
                "SELECT id, state FROM complaints WHERE next_due_at <= $1 \
                 ORDER BY next_due_at LIMIT $2 FOR UPDATE SKIP LOCKED"
            }
            Backend::Sqlite => {
                "SELECT id, state FROM complaints WHERE next_due_at <= $1 ORDER BY next_due_at LIMIT $2"
            }
        };
        let rows = sqlx::query(sql)
            .bind(micros(now))
            .bind(batch)
            .fetch_all(&mut *w.tx)
            .await?;
        let mut fired = 0;
        for row in rows {
            let id: i64 = row.try_get("id")?;
            let state: String = row.try_get("state")?;
            let complaint: Complaint = match serde_json::from_str(&state) {
                Ok(c) => c,
                Err(error) => {
                    // Quarantine it from the scheduler so it cannot block the complaints behind
                    // it; `redress audit verify` reports it.
                    tracing::error!(complaint_id = id, %error, "cannot read complaint state; its deadlines are set aside");
                    sqlx::query("UPDATE complaints SET next_due_at = NULL WHERE id = $1")
                        .bind(id)
                        .execute(&mut *w.tx)
                        .await?;
                    continue;
                }
            };
            let (_, events) = fire_due(complaint.clone(), now, &self.procedure);
            append(
                &mut w.tx,
                id,
                Some(complaint),
                &events,
                now,
                &self.procedure,
            )
            .await?;
            if !events.is_empty() {
                fired += 1;
                metrics::counter!("redress_deadlines_fired_total").increment(events.len() as u64);
            }
        }
        w.tx.commit().await?;
        Ok(fired)
    }
}

async fn insert_complaint(
    tx: &mut Transaction<'static, Any>,
    c: &Complaint,
    now: Timestamp,
    procedure: &Procedure,
) -> Result<i64, StoreError> {
    let row = sqlx::query(
        "INSERT INTO complaints (reference, stage, status, department, customer_account, customer_name, \
         customer_postcode, category, channel, first_received_at, next_due_at, last_hash, overdue, adr_eligible, \
         version, state, search_text, created_at, updated_at) \
         VALUES ($1, 1, 'open', $2, $3, $4, $5, $6, $7, $8, NULL, $9, 0, 0, 0, '{}', '', $10, $10) RETURNING id",
    )
    .bind(c.reference.as_str())
    .bind(procedure.department_of(c.stage))
    .bind(&c.customer.account)
    .bind(&c.customer.name)
    .bind(c.customer.postcode.as_ref().map(|p| p.as_str().to_owned()))
    .bind(&c.category)
    .bind(c.channel.as_str())
    .bind(micros(c.first_received_at))
    .bind(GENESIS_HASH)
    .bind(micros(now))
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.try_get("id")?)
}

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

/// The instant a deadline event was due, if it is one.
fn due_of(event: &Event) -> Option<Timestamp> {
    match &event.kind {
        EventKind::ResponseOverdue { due_at }
        | EventKind::AcknowledgementOverdue { due_at }
        | EventKind::RemedyOverdue { due_at }
        | EventKind::EvidenceOverdue { due_at, .. }
        | EventKind::AdrNoticeSent { due_at, .. } => Some(*due_at),
        EventKind::AdrEligible {
            because: AdrReason::PeriodPassed,
            due_at,
        } => Some(*due_at),
        _ => None,
    }
}

/// Which deadline row an event fires.
fn fired_deadline(event: &Event) -> Option<(DeadlineKind, i64)> {
    match &event.kind {
        EventKind::ResponseOverdue { .. } => Some((DeadlineKind::FormalResponse, 0)),
        EventKind::AcknowledgementOverdue { .. } => Some((DeadlineKind::Acknowledgement, 0)),
        EventKind::RemedyOverdue { .. } => Some((DeadlineKind::Remedy, 0)),
        EventKind::EvidenceOverdue { request, .. } => {
            Some((DeadlineKind::Evidence, i64::from(*request)))
        }
        EventKind::AdrNoticeSent { .. } => Some((DeadlineKind::Adr, 0)),
        _ => None,
    }
}

/// The deadline rows a new complaint has once `events` (its `received` event and the deadlines
/// that fired at once) are appended: the rows `append` writes for fired deadlines and the clocks
/// still running, ordered as [`Store::get_complaint`] lists them. Lets a caller render the
/// complaint as stored from inside the creating transaction (an idempotent answer).
/// The last London date of a deadline that fired at `due_at`: the day before for a period
/// (it fires at 00:00 after its last day), the day itself for the ADR point.
fn fired_due_by(kind: DeadlineKind, due_at: Timestamp, procedure: &Procedure) -> jiff::civil::Date {
    let date = clock::local_date(procedure.time_zone(), due_at);
    match kind {
        DeadlineKind::Adr => date,
        _ => clock::add_days(date, -1),
    }
}

pub fn new_deadline_rows(
    events: &[Event],
    complaint: &Complaint,
    procedure: &Procedure,
) -> Vec<super::DeadlineRow> {
    let mut rows: Vec<super::DeadlineRow> = events
        .iter()
        .filter_map(|event| {
            let (kind, request) = fired_deadline(event)?;
            let due_at = due_of(event)?;
            Some(super::DeadlineRow {
                kind: kind.as_str().to_owned(),
                request: (request != 0).then_some(request),
                due_at,
                due_by: fired_due_by(kind, due_at, procedure).to_string(),
                fired_at: Some(event.at),
            })
        })
        .collect();
    rows.extend(
        deadlines(complaint, procedure)
            .into_iter()
            .map(|d| super::DeadlineRow {
                kind: d.kind.as_str().to_owned(),
                request: d.request.map(i64::from).filter(|r| *r != 0),
                due_at: d.due_at,
                due_by: d.due_by.to_string(),
                fired_at: None,
            }),
    );
    rows.sort_by(|a, b| (a.due_at, &a.kind).cmp(&(b.due_at, &b.kind)));
    rows
}

/// The letter (outbox row) an event causes, by the letter kinds of the mail shell, and whom it
/// is written to (only an evidence request can go to a third party).
pub fn letter_for(event: &Event, complaint: &Complaint) -> Option<(LetterKind, Recipient)> {
    let customer = |kind| Some((kind, Recipient::Customer));
    match &event.kind {
        EventKind::Acknowledged { .. } => customer(LetterKind::Acknowledgement),
        EventKind::ResolutionOffered { .. } => customer(LetterKind::ResolutionOffer),
        EventKind::Escalated { .. } => customer(LetterKind::EscalationAcknowledgement),
        EventKind::Transferred { .. } => customer(LetterKind::TransferNotice),
        EventKind::EvidenceRequested { from, .. } => Some((
            LetterKind::EvidenceRequest,
            match from {
                EvidenceSource::Customer => Recipient::Customer,
                EvidenceSource::ThirdParty => Recipient::ThirdParty,
            },
        )),
        EventKind::FormalResponseIssued { .. } => customer(LetterKind::FormalResponse),
        EventKind::ReviewOutcomeRecorded { .. } => customer(LetterKind::ManagerReviewOutcome),
        EventKind::AdrNoticeSent { .. } => customer(LetterKind::AdrNotice),
        EventKind::DeadlockIssued { .. } => customer(LetterKind::DeadlockLetter),
        EventKind::CompensationOffered { approved: true, .. }
        | EventKind::CompensationApproved { .. } => customer(LetterKind::CompensationOffer),
        // The customer accepted a decision that asks something of us: we confirm what we will
        // do and by when; and again once it is done.
        EventKind::OmbudsmanDecided {
            customer_accepted: true,
            outcome,
            ..
        } if outcome.requires_remedy() => customer(LetterKind::RemedyConfirmation),
        EventKind::RemedyCompleted { .. } if complaint.ombudsman.is_some() => {
            customer(LetterKind::RemedyConfirmation)
        }
        _ => None,
    }
}

/// How a letter goes: by email where the customer gave an address and did not ask for
/// letters; by post otherwise, and always by post to a third party (we hold no address for
/// them: staff address it from the print queue).
fn letter_channel(complaint: &Complaint, recipient: Recipient) -> &'static str {
    match (
        recipient,
        &complaint.customer.email,
        complaint.customer.preferred_channel,
    ) {
        (Recipient::ThirdParty, _, _) => "post",
        (Recipient::Customer, Some(_), Some(redress_core::Channel::Email) | None) => "email",
        _ => "post",
    }
}

/// Appends events to a complaint whose state before them is `before` (`None` for a new
/// complaint, whose first event is `received`): the event rows (hash chained), the projection,
/// the deadline rows and the outbox. Returns the state after.
pub(crate) async fn append(
    tx: &mut Transaction<'static, Any>,
    id: i64,
    before: Option<Complaint>,
    events: &[Event],
    now: Timestamp,
    procedure: &Procedure,
) -> Result<Complaint, StoreError> {
    if events.is_empty() {
        return before
            .ok_or_else(|| StoreError::Corrupt("a new complaint needs its received event".into()));
    }
    let row = sqlx::query("SELECT last_hash, version FROM complaints WHERE id = $1")
        .bind(id)
        .fetch_one(&mut **tx)
        .await?;
    let mut prev_hash: String = row.try_get("last_hash")?;
    let stored_version: i64 = row.try_get("version")?;
    let mut sequence = stored_version;
    let mut state = before;
    let reference = match (&state, events.first().map(|e| &e.kind)) {
        (Some(c), _) => c.reference.to_string(),
        (None, Some(EventKind::Received(received))) => received.reference.to_string(),
        (None, _) => {
            return Err(StoreError::Corrupt(
                "a new complaint must begin with received".into(),
            ));
        }
    };
    let recorded = micros(now);
    for event in events {
        sequence += 1;
        let next = match state.take() {
            Some(c) => apply(c, event),
            None => Complaint::start(event).ok_or_else(|| {
                StoreError::Corrupt("a new complaint must begin with received".into())
            })?,
        };
        let payload =
            serde_json::to_string(event).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let actor =
            serde_json::to_string(&event.by).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let kind = event.kind.name();
        let occurred = micros(event.at);
        let due = due_of(event).map(micros);
        let hash = EventLink {
            prev_hash: &prev_hash,
            reference: &reference,
            sequence,
            kind,
            payload: &payload,
            actor: &actor,
            occurred_at: occurred,
            recorded_at: recorded,
            due_at: due,
        }
        .hash();
        sqlx::query(
            "INSERT INTO events (complaint_id, sequence, kind, payload, actor, occurred_at, recorded_at, due_at, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(id)
        .bind(sequence)
        .bind(kind)
        .bind(&payload)
        .bind(&actor)
        .bind(occurred)
        .bind(recorded)
        .bind(due)
        .bind(&prev_hash)
        .bind(&hash)
        .execute(&mut **tx)
        .await?;
        if let (Some((kind, request)), Some(due)) = (fired_deadline(event), due) {
            let due_by = fired_due_by(kind, from_micros(due)?, procedure).to_string();
            sqlx::query(
                "INSERT INTO deadlines (complaint_id, kind, request, due_at, due_by, fired_at) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (complaint_id, kind, request) DO UPDATE SET fired_at = excluded.fired_at \
                 WHERE deadlines.fired_at IS NULL",
            )
            .bind(id)
            .bind(kind.as_str())
            .bind(request)
            .bind(due)
            .bind(due_by)
            .bind(occurred)
            .execute(&mut **tx)
            .await?;
        }
        if let Some((letter, recipient)) = letter_for(event, &next) {
            let channel = letter_channel(&next, recipient);
            let letter = letter.as_str();
            let body = serde_json::json!({
                "reference": reference,
                "event_sequence": sequence,
                "letter": letter,
                "recipient": recipient.as_str(),
            });
            sqlx::query(
                "INSERT INTO outbox (complaint_id, event_sequence, kind, channel, payload, created_at, next_attempt_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $6)",
            )
            .bind(id)
            .bind(sequence)
            .bind(letter)
            .bind(channel)
            .bind(body.to_string())
            .bind(recorded)
            .execute(&mut **tx)
            .await?;
        }
        prev_hash = hash;
        state = Some(next);
    }
    let complaint = state.ok_or_else(|| StoreError::Corrupt("no state after events".into()))?;
    sync_deadlines(tx, id, &complaint, procedure).await?;
    update_projection(tx, id, &complaint, &prev_hash, now, procedure).await?;
    Ok(complaint)
}

/// Makes the unfired deadline rows match the core's running clocks.
async fn sync_deadlines(
    tx: &mut Transaction<'static, Any>,
    id: i64,
    complaint: &Complaint,
    procedure: &Procedure,
) -> Result<(), StoreError> {
    let running = deadlines(complaint, procedure);
    let existing = sqlx::query(
        "SELECT kind, request FROM deadlines WHERE complaint_id = $1 AND fired_at IS NULL",
    )
    .bind(id)
    .fetch_all(&mut **tx)
    .await?;
    for row in existing {
        let kind: String = row.try_get("kind")?;
        let request: i64 = row.try_get("request")?;
        let still = running
            .iter()
            .any(|d| d.kind.as_str() == kind && i64::from(d.request.unwrap_or(0)) == request);
        if !still {
            // The clock stopped (e.g. the response was issued in time): it will never fire.
            sqlx::query("DELETE FROM deadlines WHERE complaint_id = $1 AND kind = $2 AND request = $3 AND fired_at IS NULL")
                .bind(id)
                .bind(&kind)
                .bind(request)
                .execute(&mut **tx)
                .await?;
        }
    }
    for d in &running {
        sqlx::query(
            "INSERT INTO deadlines (complaint_id, kind, request, due_at, due_by) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (complaint_id, kind, request) DO UPDATE SET due_at = excluded.due_at, due_by = excluded.due_by \
             WHERE deadlines.fired_at IS NULL",
        )
        .bind(id)
        .bind(d.kind.as_str())
        .bind(i64::from(d.request.unwrap_or(0)))
        .bind(micros(d.due_at))
        .bind(d.due_by.to_string())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// When a queue should put this complaint: the instant something still owed fell overdue, or
/// else its next running clock.
fn queue_at(c: &Complaint, next_due: Option<i64>, procedure: &Procedure) -> Option<i64> {
    let tz = procedure.time_zone();
    let r = &c.rules;
    let mut overdue_since: Vec<Timestamp> = Vec::new();
    if !c.is_settled() {
        if let (Some(_), None, Some(transferred)) = (
            c.response_overdue_at,
            c.formal_response_at,
            c.transferred_at,
        ) {
            overdue_since.push(clock::period_over_at(
                tz,
                transferred,
                r.formal_response_days,
            ));
        }
        if let (Some(_), None, Some(days)) = (
            c.acknowledgement_overdue_at,
            c.acknowledged_at,
            r.acknowledgement_days,
        ) {
            overdue_since.push(clock::period_over_at(tz, c.first_received_at, days));
        }
        for e in c
            .evidence_requests
            .iter()
            .filter(|e| e.overdue_at.is_some() && e.received_at.is_none())
        {
            overdue_since.push(clock::start_of_day(tz, clock::add_days(e.due_by, 1)));
        }
    }
    if let Some(d) = c
        .ombudsman
        .as_ref()
        .filter(|d| d.remedy_overdue_at.is_some() && d.remedy_completed_at.is_none())
    {
        overdue_since.push(clock::period_over_at(tz, d.decided_at, r.remedy_days));
    }
    overdue_since.into_iter().map(micros).chain(next_due).min()
}

/// Whether something the provider owed is past its time and still not done.
pub fn is_overdue(c: &Complaint) -> bool {
    let response = c.response_overdue_at.is_some() && c.formal_response_at.is_none();
    let remedy = c
        .ombudsman
        .as_ref()
        .is_some_and(|d| d.remedy_overdue_at.is_some() && d.remedy_completed_at.is_none());
    let ack = c.acknowledgement_overdue_at.is_some() && c.acknowledged_at.is_none();
    let evidence = c
        .evidence_requests
        .iter()
        .any(|r| r.overdue_at.is_some() && r.received_at.is_none());
    !c.is_settled() && (response || remedy || ack || evidence)
}

async fn update_projection(
    tx: &mut Transaction<'static, Any>,
    id: i64,
    c: &Complaint,
    last_hash: &str,
    now: Timestamp,
    procedure: &Procedure,
) -> Result<(), StoreError> {
    let state = serde_json::to_string(c).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let next_due = deadlines(c, procedure).first().map(|d| micros(d.due_at));
    let search = format!(
        "{} {} {} {} {}",
        c.reference,
        c.customer.account,
        c.customer.name,
        c.customer.postcode.as_ref().map_or("", |p| p.as_str()),
        c.customer.email.as_deref().unwrap_or("")
    )
    .to_lowercase();
    sqlx::query(
        "UPDATE complaints SET stage = $1, status = $2, department = $3, next_due_at = $4, last_hash = $5, queue_at = $14, \
         overdue = $6, adr_eligible = $7, version = $8, state = $9, search_text = $10, updated_at = $11, \
         customer_email = $12 WHERE id = $13",
    )
    .bind(i64::from(c.stage.number()))
    .bind(c.status.as_str())
    .bind(procedure.department_of(c.stage))
    .bind(next_due)
    .bind(last_hash)
    .bind(i64::from(is_overdue(c)))
    .bind(i64::from(c.adr_eligible_at.is_some()))
    .bind(i64::try_from(c.version).unwrap_or(i64::MAX))
    .bind(state)
    .bind(search)
    .bind(micros(now))
    .bind(c.customer.email.as_ref().map(|e| e.trim().to_lowercase()))
    .bind(id)
    .bind(queue_at(c, next_due, procedure))
    .execute(&mut **tx)
    .await?;
    Ok(())
}
