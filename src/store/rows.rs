//! The rows a change writes, worked out without touching the database, and the statements
//! that write many of them at once.
//!
//! [`plan`] turns events into event rows (hash chained), fired-deadline rows and outbox rows;
//! [`Projection`] is the `complaints` row's query columns. Both the one-complaint path
//! (`append`) and group-committed intake write what these produce, so the two cannot drift.

use jiff::Timestamp;
use redress_core::deadline::DeadlineKind;
use redress_core::event::AdrReason;
use redress_core::{Complaint, Event, EventKind, Procedure, apply, clock, deadlines};
use sqlx::any::{Any, AnyArguments};
use sqlx::query::Query;
use sqlx::{AssertSqlSafe, Transaction};

use super::chain::EventLink;
use super::read::DeadlineRow;
use super::{Backend, StoreError, from_micros, micros};

/// Bound values per statement: far below SQLite's (32,766) and PostgreSQL's (65,535) limits.
const MAX_BINDS: usize = 4_000;

/// About how many bytes of values one PostgreSQL statement carries. sqlx leaves Nagle's
/// algorithm on, and over TLS a message longer than one record (16 KiB) goes out in several
/// writes: the last then waits for the server's delayed acknowledgement (40 ms on Linux).
const POSTGRES_STATEMENT_BYTES: usize = 12 * 1024;

/// Splits rows into statements: within the bind limit and, on PostgreSQL, within
/// [`POSTGRES_STATEMENT_BYTES`] (a single larger row still goes alone).
fn statements<T>(
    backend: Backend,
    columns: usize,
    rows: &[T],
    weigh: impl Fn(&T) -> usize,
) -> Vec<&[T]> {
    let max_rows = (MAX_BINDS / columns).max(1);
    let max_bytes = match backend {
        Backend::Sqlite => usize::MAX,
        Backend::Postgres => POSTGRES_STATEMENT_BYTES,
    };
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, row) in rows.iter().enumerate() {
        let weight = weigh(row);
        if i > start && (i - start >= max_rows || bytes + weight > max_bytes) {
            out.push(&rows[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += weight;
    }
    if start < rows.len() {
        out.push(&rows[start..]);
    }
    out
}

/// One `events` row.
pub(crate) struct EventInsert {
    pub sequence: i64,
    pub kind: &'static str,
    pub payload: String,
    pub actor: String,
    pub occurred_at: i64,
    pub recorded_at: i64,
    pub due_at: Option<i64>,
    pub prev_hash: String,
    pub hash: String,
    /// Through what it came (`store::via`), beside the hash.
    pub via: Option<&'static str>,
    /// What reports count of it (`report_facts`), if anything.
    pub fact: Option<redress_core::report::Fact>,
}

/// One `deadlines` row: a clock that fired (with `fired_at`) or one still running.
pub(crate) struct DeadlineInsert {
    pub kind: &'static str,
    pub request: i64,
    pub due_at: i64,
    pub due_by: String,
    pub fired_at: Option<i64>,
}

/// A file recorded with the change that brings it: an `attachments` row. Its bytes are kept
/// (and fsynced) as `files_dir/<sha256>` before the transaction that writes the row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAttachment {
    pub sha256: String,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub uploaded_by: String,
}

/// The outbox kind of the email telling a member of staff a complaint was given to them.
pub const ASSIGNMENT_NOTICE: &str = "assignment_notice";

/// One `outbox` row: a letter an event causes.
pub(crate) struct OutboxInsert {
    pub event_sequence: i64,
    pub kind: &'static str,
    pub channel: &'static str,
    /// `customer`, `third_party` or `staff` (also in the payload).
    pub recipient: &'static str,
    pub payload: String,
    pub created_at: i64,
}

/// What appending events to a complaint writes, and the state after them.
pub(crate) struct Plan {
    pub complaint: Complaint,
    pub events: Vec<EventInsert>,
    /// Deadlines the events fired.
    pub fired: Vec<DeadlineInsert>,
    pub outbox: Vec<OutboxInsert>,
    pub last_hash: String,
}

/// The instant a deadline event was due, if it is one.
pub(crate) fn due_of(event: &Event) -> Option<Timestamp> {
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

/// The last London date of a deadline that fired at `due_at`: the day before for a period
/// (it fires at 00:00 after its last day), the day itself for the ADR point.
fn fired_due_by(kind: DeadlineKind, due_at: Timestamp, procedure: &Procedure) -> jiff::civil::Date {
    let date = clock::local_date(procedure.time_zone(), due_at);
    match kind {
        DeadlineKind::Adr => date,
        _ => clock::add_days(date, -1),
    }
}

/// The clock an event fired: its deadline row's key, when it was due and its last London date.
pub(crate) struct FiredClock {
    pub kind: DeadlineKind,
    pub request: i64,
    pub due_at: Timestamp,
    pub due_by: jiff::civil::Date,
}

/// The clock `event` fired, if it fired one.
pub(crate) fn fired_clock(event: &Event, procedure: &Procedure) -> Option<FiredClock> {
    let (kind, request) = fired_deadline(event)?;
    let due_at = due_of(event)?;
    Some(FiredClock {
        kind,
        request,
        due_at,
        due_by: fired_due_by(kind, due_at, procedure),
    })
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Works out the rows for `events` appended to a complaint whose state before them is
/// `before` (`None` for a new complaint, whose first event is `received`), whose chain ends in
/// `prev_hash` after `version` events.
pub(crate) fn plan(
    before: Option<Complaint>,
    mut prev_hash: String,
    version: i64,
    events: &[Event],
    now: Timestamp,
    procedure: &Procedure,
) -> Result<Plan, StoreError> {
    let not_received = || StoreError::Corrupt("a new complaint must begin with received".into());
    let reference = match (&before, events.first().map(|e| &e.kind)) {
        (Some(c), _) => c.reference.to_string(),
        (None, Some(EventKind::Received(received))) => received.reference.to_string(),
        (None, _) => return Err(not_received()),
    };
    let recorded = micros(now);
    let mut state = before;
    let mut sequence = version;
    let mut rows = Vec::with_capacity(events.len());
    let mut fired = Vec::new();
    let mut outbox = Vec::new();
    for event in events {
        sequence += 1;
        let before = state.as_ref().map(redress_core::report::Before::of);
        let next = match state.take() {
            Some(c) => apply(c, event),
            None => Complaint::start(event).ok_or_else(not_received)?,
        };
        let payload = to_json(event)?;
        let actor = to_json(&event.by)?;
        let kind = event.kind.name();
        let occurred_at = micros(event.at);
        let due_at = due_of(event).map(micros);
        let hash = EventLink {
            prev_hash: &prev_hash,
            reference: &reference,
            sequence,
            kind,
            payload: &payload,
            actor: &actor,
            occurred_at,
            recorded_at: recorded,
            due_at,
        }
        .hash();
        if let Some(clock) = fired_clock(event, procedure) {
            fired.push(DeadlineInsert {
                kind: clock.kind.as_str(),
                request: clock.request,
                due_at: micros(clock.due_at),
                due_by: clock.due_by.to_string(),
                fired_at: Some(occurred_at),
            });
        }
        if let Some(letter) = redress_core::correspondence::caused_by(event, &next) {
            let body = serde_json::json!({
                "reference": reference,
                "event_sequence": sequence,
                "letter": letter.kind.as_str(),
                "recipient": letter.recipient.as_str(),
            });
            outbox.push(OutboxInsert {
                event_sequence: sequence,
                kind: letter.kind.as_str(),
                channel: letter.route.as_str(),
                recipient: letter.recipient.as_str(),
                payload: body.to_string(),
                created_at: recorded,
            });
        }
        if let Some(to) = redress_core::correspondence::staff_notice(event) {
            let body = serde_json::json!({
                "reference": reference,
                "event_sequence": sequence,
                "letter": ASSIGNMENT_NOTICE,
                "recipient": "staff",
                "to": to,
                "by": event.by.staff,
            });
            outbox.push(OutboxInsert {
                event_sequence: sequence,
                kind: ASSIGNMENT_NOTICE,
                channel: "email",
                recipient: "staff",
                payload: body.to_string(),
                created_at: recorded,
            });
        }
        rows.push(EventInsert {
            sequence,
            kind,
            payload,
            actor,
            occurred_at,
            recorded_at: recorded,
            due_at,
            prev_hash: std::mem::replace(&mut prev_hash, hash.clone()),
            hash,
            via: super::via::current(),
            fact: redress_core::report::fact(before.as_ref(), event, &next, procedure),
        });
        state = Some(next);
    }
    let complaint = state.ok_or_else(not_received)?;
    Ok(Plan {
        complaint,
        events: rows,
        fired,
        outbox,
        last_hash: prev_hash,
    })
}

/// The deadline rows a new complaint's plan writes (the clocks its first events fired, then
/// those still running), as [`super::Store::get_complaint`] lists them: by due instant, then kind.
pub(crate) fn new_deadline_rows(
    plan: &Plan,
    running: &[DeadlineInsert],
) -> Result<Vec<DeadlineRow>, StoreError> {
    let mut out = plan
        .fired
        .iter()
        .chain(running)
        .map(|d| {
            Ok(DeadlineRow {
                kind: d.kind.to_owned(),
                request: (d.request != 0).then_some(d.request),
                due_at: from_micros(d.due_at)?,
                due_by: d.due_by.clone(),
                fired_at: d.fired_at.map(from_micros).transpose()?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    out.sort_by(|a, b| (a.due_at, &a.kind).cmp(&(b.due_at, &b.kind)));
    Ok(out)
}

/// The clocks a complaint has running, as deadline rows.
pub(crate) fn running(complaint: &Complaint, procedure: &Procedure) -> Vec<DeadlineInsert> {
    deadlines(complaint, procedure)
        .into_iter()
        .map(|d| DeadlineInsert {
            kind: d.kind.as_str(),
            request: i64::from(d.request.unwrap_or(0)),
            due_at: micros(d.due_at),
            due_by: d.due_by.to_string(),
            fired_at: None,
        })
        .collect()
}

/// The `complaints` row's columns that follow from the complaint's state.
pub(crate) struct Projection {
    pub stage: i64,
    pub status: &'static str,
    pub department: String,
    pub next_due_at: Option<i64>,
    pub last_hash: String,
    pub overdue: i64,
    pub adr_eligible: i64,
    pub version: i64,
    pub state: String,
    pub search_text: String,
    pub customer_email: Option<String>,
    pub queue_at: Option<i64>,
    /// Who holds the complaint, lower case, as `handler_key` spells it.
    pub handler: Option<String>,
    /// The largest open compensation offer awaiting approval, in pence.
    pub awaiting_approval: Option<i64>,
}

impl Projection {
    pub fn of(
        c: &Complaint,
        last_hash: String,
        procedure: &Procedure,
    ) -> Result<Projection, StoreError> {
        let next_due_at = deadlines(c, procedure).first().map(|d| micros(d.due_at));
        // What is owed as of the complaint's last event: every deadline due by then has fired
        // (the core fires them before a command), so the flags and the clocks agree.
        let owed = redress_core::owed(c, procedure, c.last_event_at);
        let search_text = super::search::document(c);
        Ok(Projection {
            stage: i64::from(c.stage.number()),
            status: c.status.as_str(),
            department: procedure.department_of(c.stage).to_owned(),
            next_due_at,
            last_hash,
            overdue: i64::from(redress_core::owed::is_overdue(&owed)),
            adr_eligible: i64::from(c.adr_eligible_at.is_some()),
            version: i64::try_from(c.version).unwrap_or(i64::MAX),
            state: to_json(c)?,
            search_text,
            customer_email: c.customer.email.as_ref().map(|e| e.trim().to_lowercase()),
            queue_at: redress_core::owed::queue_at(&owed).map(micros),
            handler: c.handler.as_deref().and_then(handler_key),
            awaiting_approval: c.awaiting_approval(),
        })
    }
}

/// A staff identifier as the `handler` column keeps it: trimmed, lower case, never empty.
pub(crate) fn handler_key(handler: &str) -> Option<String> {
    let key = handler.trim().to_lowercase();
    (!key.is_empty()).then_some(key)
}

/// One complaint's rows, each beside its id.
pub(crate) fn of_one<T>(id: i64, rows: &[T]) -> Vec<(i64, &T)> {
    rows.iter().map(|row| (id, row)).collect()
}

type AnyQuery = Query<'static, Any, AnyArguments>;

/// `{head} VALUES ($1, …), (…) {tail}` for `rows` rows of `columns` placeholders. SQLite gets
/// plain `?`: sqlx looks each named parameter up by a linear search, so numbered ones cost
/// time growing with the square of their number.
fn values_sql(backend: Backend, head: &str, columns: usize, rows: usize, tail: &str) -> String {
    let mut sql = String::with_capacity(head.len() + tail.len() + rows * columns * 6);
    sql.push_str(head);
    sql.push_str(" VALUES ");
    let mut n = 0;
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 0..columns {
            if column > 0 {
                sql.push_str(", ");
            }
            n += 1;
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => {
                    sql.push('$');
                    sql.push_str(&n.to_string());
                }
            }
        }
        sql.push(')');
    }
    if !tail.is_empty() {
        sql.push(' ');
        sql.push_str(tail);
    }
    sql
}

/// Writes `rows` (`{head} VALUES (...), ... {tail}`: an insert, or an update or delete that
/// reads the values as a table) with as few statements as the bind limit allows. Statements
/// are not kept prepared: their text changes with the number of rows.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn insert_many<T>(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    head: &str,
    columns: usize,
    tail: &str,
    rows: &[T],
    weigh: impl Fn(&T) -> usize,
    bind: impl Fn(AnyQuery, &T) -> AnyQuery,
) -> Result<(), StoreError> {
    for chunk in statements(backend, columns, rows, weigh) {
        let sql = values_sql(backend, head, columns, chunk.len(), tail);
        let mut query = sqlx::query(AssertSqlSafe(sql)).persistent(chunk.len() == 1);
        for row in chunk {
            query = bind(query, row);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Writes event rows, each beside its complaint's id.
pub(crate) async fn insert_events(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    rows: &[(i64, &EventInsert)],
) -> Result<(), StoreError> {
    insert_many(
        tx,
        backend,
        "INSERT INTO events (complaint_id, sequence, kind, payload, actor, occurred_at, recorded_at, due_at, prev_hash, hash, via)",
        11,
        "",
        rows,
        |(_, e)| e.payload.len() + e.actor.len() + 300,
        |q, (id, e)| {
            q.bind(*id)
                .bind(e.sequence)
                .bind(e.kind)
                .bind(e.payload.clone())
                .bind(e.actor.clone())
                .bind(e.occurred_at)
                .bind(e.recorded_at)
                .bind(e.due_at)
                .bind(e.prev_hash.clone())
                .bind(e.hash.clone())
                .bind(e.via)
        },
    )
    .await?;
    let facts: Vec<(i64, i64, &redress_core::report::Fact)> = rows
        .iter()
        .filter_map(|(id, e)| e.fact.as_ref().map(|f| (*id, e.sequence, f)))
        .collect();
    insert_facts(tx, backend, &facts).await
}

/// Writes report facts: (complaint id, the event's sequence, the fact).
pub(crate) async fn insert_facts(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    facts: &[(i64, i64, &redress_core::report::Fact)],
) -> Result<(), StoreError> {
    insert_many(
        tx,
        backend,
        "INSERT INTO report_facts (complaint_id, sequence, kind, at, stage, category, channel, vulnerable, \
         amount_pence, measure, on_time, due, detail)",
        13,
        "",
        facts,
        |(_, _, f)| f.category.as_ref().map_or(0, String::len) + 200,
        |q, (id, sequence, f)| {
            q.bind(*id)
                .bind(*sequence)
                .bind(f.kind)
                .bind(micros(f.at))
                .bind(i64::from(f.stage))
                .bind(f.category.clone())
                .bind(f.channel)
                .bind(i64::from(f.vulnerable))
                .bind(f.amount_pence)
                .bind(f.measure)
                .bind(f.on_time.map(i64::from))
                .bind(f.due.map(|d| d.to_string()))
                .bind(f.detail.clone())
        },
    )
    .await
}

/// Writes attachment rows: (complaint id, uploaded at, the file).
pub(crate) async fn insert_attachments(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    rows: &[(i64, i64, &NewAttachment)],
) -> Result<(), StoreError> {
    insert_many(
        tx,
        backend,
        "INSERT INTO attachments (complaint_id, sha256, filename, content_type, size_bytes, uploaded_at, uploaded_by)",
        7,
        "",
        rows,
        |(_, _, a)| a.sha256.len() + a.filename.len() + a.content_type.len() + a.uploaded_by.len() + 100,
        |q, (id, at, a)| {
            q.bind(*id)
                .bind(a.sha256.clone())
                .bind(a.filename.clone())
                .bind(a.content_type.clone())
                .bind(a.size)
                .bind(*at)
                .bind(a.uploaded_by.clone())
        },
    )
    .await
}

/// Queues complaints for the ledger's sealer: (complaint id, its version after this change).
pub(crate) async fn insert_pending(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    rows: &[(i64, i64)],
) -> Result<(), StoreError> {
    insert_many(
        tx,
        backend,
        "INSERT INTO ledger_pending (complaint_id, version)",
        2,
        "",
        rows,
        |_| 40,
        |q, (id, version)| q.bind(*id).bind(*version),
    )
    .await
}

/// Writes deadline rows. A clock that already fired is never changed. Otherwise a fired row
/// (`fired_at` set) records when it fired; a running one takes its (new) due instant.
/// Each (complaint, kind, request) may appear only once in `rows`.
pub(crate) async fn upsert_deadlines(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    rows: &[(i64, &DeadlineInsert)],
    fired: bool,
) -> Result<(), StoreError> {
    let tail = if fired {
        "ON CONFLICT (complaint_id, kind, request) DO UPDATE SET fired_at = excluded.fired_at \
         WHERE deadlines.fired_at IS NULL"
    } else {
        "ON CONFLICT (complaint_id, kind, request) DO UPDATE SET due_at = excluded.due_at, \
         due_by = excluded.due_by WHERE deadlines.fired_at IS NULL"
    };
    insert_many(
        tx,
        backend,
        "INSERT INTO deadlines (complaint_id, kind, request, due_at, due_by, fired_at)",
        6,
        tail,
        rows,
        |_| 100,
        |q, (id, d)| {
            q.bind(*id)
                .bind(d.kind)
                .bind(d.request)
                .bind(d.due_at)
                .bind(d.due_by.clone())
                .bind(d.fired_at)
        },
    )
    .await
}

/// Writes outbox rows.
pub(crate) async fn insert_outbox(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    rows: &[(i64, &OutboxInsert)],
) -> Result<(), StoreError> {
    insert_many(
        tx,
        backend,
        "INSERT INTO outbox (complaint_id, event_sequence, kind, channel, payload, created_at, next_attempt_at)",
        7,
        "",
        rows,
        |(_, o)| o.payload.len() + 100,
        |q, (id, o)| {
            q.bind(*id)
                .bind(o.event_sequence)
                .bind(o.kind)
                .bind(o.channel)
                .bind(o.payload.clone())
                .bind(o.created_at)
                .bind(o.created_at)
        },
    )
    .await
}

/// Sets the projection columns of complaints already recorded: (complaint id, its
/// projection, the instant of the change), many complaints to a statement.
pub(crate) async fn update_projections(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    rows: &[(i64, Projection, i64)],
) -> Result<(), StoreError> {
    // `(VALUES ...)` names its columns column1, column2, ... on both backends.
    insert_many(
        tx,
        backend,
        "UPDATE complaints SET stage = v.column2, status = v.column3, department = v.column4, \
         next_due_at = v.column5, last_hash = v.column6, queue_at = v.column7, overdue = v.column8, \
         adr_eligible = v.column9, version = v.column10, state = v.column11, search_text = v.column12, \
         updated_at = v.column13, customer_email = v.column14, handler = v.column15, \
         awaiting_approval = v.column16 FROM (",
        16,
        ") AS v WHERE complaints.id = v.column1",
        rows,
        |(_, p, _)| p.state.len() + p.search_text.len() + p.department.len() + 300,
        |q, (id, p, at)| {
            q.bind(*id)
                .bind(p.stage)
                .bind(p.status)
                .bind(p.department.clone())
                .bind(p.next_due_at)
                .bind(p.last_hash.clone())
                .bind(p.queue_at)
                .bind(p.overdue)
                .bind(p.adr_eligible)
                .bind(p.version)
                .bind(p.state.clone())
                .bind(p.search_text.clone())
                .bind(*at)
                .bind(p.customer_email.clone())
                .bind(p.handler.clone())
                .bind(p.awaiting_approval)
        },
    )
    .await
}

/// The unfired deadline rows of the given complaints: (complaint id, kind, request).
pub(crate) async fn unfired_deadlines(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    ids: &[i64],
) -> Result<Vec<(i64, String, i64)>, StoreError> {
    use sqlx::Row;
    let mut out = Vec::new();
    for chunk in statements(backend, 1, ids, |_| 20) {
        let mut sql = String::from(
            "SELECT complaint_id, kind, request FROM deadlines WHERE fired_at IS NULL AND complaint_id IN (",
        );
        for n in 1..=chunk.len() {
            if n > 1 {
                sql.push_str(", ");
            }
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => {
                    sql.push('$');
                    sql.push_str(&n.to_string());
                }
            }
        }
        sql.push(')');
        let mut query = sqlx::query(AssertSqlSafe(sql)).persistent(false);
        for id in chunk {
            query = query.bind(*id);
        }
        for row in query.fetch_all(&mut **tx).await? {
            out.push((
                row.try_get("complaint_id")?,
                row.try_get("kind")?,
                row.try_get("request")?,
            ));
        }
    }
    Ok(out)
}

/// Deletes unfired deadline rows: (complaint id, kind, request). A row that fired stays.
pub(crate) async fn delete_unfired(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    rows: &[(i64, String, i64)],
) -> Result<(), StoreError> {
    insert_many(
        tx,
        backend,
        "DELETE FROM deadlines WHERE fired_at IS NULL AND (complaint_id, kind, request) IN (",
        3,
        ")",
        rows,
        |(_, kind, _)| kind.len() + 40,
        |q, (id, kind, request)| q.bind(*id).bind(kind.clone()).bind(*request),
    )
    .await
}

/// A new complaint's row, whole.
pub(crate) struct NewComplaintRow<'a> {
    pub complaint: &'a Complaint,
    pub projection: &'a Projection,
    pub created_at: i64,
    /// When its last change was recorded (`created_at` for a complaint just received).
    pub updated_at: i64,
}

/// Inserts new complaints' rows whole and returns each one's id, in the order given.
pub(crate) async fn insert_complaints(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    rows: &[NewComplaintRow<'_>],
) -> Result<Vec<i64>, StoreError> {
    use sqlx::Row;
    const COLUMNS: usize = 23;
    let mut ids = std::collections::HashMap::with_capacity(rows.len());
    let weigh =
        |row: &NewComplaintRow| row.projection.state.len() + row.projection.search_text.len() + 400;
    for chunk in statements(backend, COLUMNS, rows, weigh) {
        let sql = values_sql(
            backend,
            "INSERT INTO complaints (reference, stage, status, department, customer_account, customer_name, \
             customer_postcode, category, channel, first_received_at, next_due_at, last_hash, overdue, \
             adr_eligible, version, state, search_text, created_at, updated_at, customer_email, queue_at, handler, \
             awaiting_approval)",
            COLUMNS,
            chunk.len(),
            "RETURNING id, reference",
        );
        let mut query = sqlx::query(AssertSqlSafe(sql)).persistent(chunk.len() == 1);
        for row in chunk {
            let c = row.complaint;
            let p = &row.projection;
            query = query
                .bind(c.reference.to_string())
                .bind(p.stage)
                .bind(p.status)
                .bind(p.department.clone())
                .bind(c.customer.account.clone())
                .bind(c.customer.name.clone())
                .bind(c.customer.postcode.as_ref().map(|p| p.as_str().to_owned()))
                .bind(c.category.clone())
                .bind(c.channel.as_str())
                .bind(micros(c.first_received_at))
                .bind(p.next_due_at)
                .bind(p.last_hash.clone())
                .bind(p.overdue)
                .bind(p.adr_eligible)
                .bind(p.version)
                .bind(p.state.clone())
                .bind(p.search_text.clone())
                .bind(row.created_at)
                .bind(row.updated_at)
                .bind(p.customer_email.clone())
                .bind(p.queue_at)
                .bind(p.handler.clone())
                .bind(p.awaiting_approval);
        }
        for returned in query.fetch_all(&mut **tx).await? {
            let id: i64 = returned.try_get("id")?;
            let reference: String = returned.try_get("reference")?;
            ids.insert(reference, id);
        }
    }
    rows.iter()
        .map(|row| {
            ids.get(row.complaint.reference.as_str())
                .copied()
                .ok_or_else(|| StoreError::Corrupt("a new complaint's row was not returned".into()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{statements, values_sql};
    use crate::store::Backend;

    #[test]
    fn placeholders_are_numbered_across_rows() {
        assert_eq!(
            values_sql(
                Backend::Postgres,
                "INSERT INTO t (a, b)",
                2,
                3,
                "RETURNING a"
            ),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4), ($5, $6) RETURNING a"
        );
        assert_eq!(
            values_sql(Backend::Sqlite, "INSERT INTO t (a, b)", 2, 2, ""),
            "INSERT INTO t (a, b) VALUES (?, ?), (?, ?)"
        );
    }

    #[test]
    fn postgres_statements_stay_small_and_sqlite_ones_are_limited_by_binds() {
        let rows = vec![5_000usize; 10];
        let sizes = |backend, columns| -> Vec<usize> {
            statements(backend, columns, &rows, |w| *w)
                .iter()
                .map(|s| s.len())
                .collect()
        };
        assert_eq!(sizes(Backend::Postgres, 2), [2, 2, 2, 2, 2]);
        assert_eq!(sizes(Backend::Sqlite, 2), [10]);
        assert_eq!(sizes(Backend::Sqlite, 1_000), [4, 4, 2]);
        // A row larger than the limit still goes, alone.
        let big = vec![20_000usize, 1, 1];
        let chunks: Vec<usize> = statements(Backend::Postgres, 2, &big, |w| *w)
            .iter()
            .map(|s| s.len())
            .collect();
        assert_eq!(chunks, [1, 2]);
        assert!(statements(Backend::Postgres, 2, &[] as &[usize], |w| *w).is_empty());
    }
}
