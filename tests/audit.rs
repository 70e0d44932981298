//! Tamper evidence, on SQLite and on PostgreSQL, with and without the signing key: the
//! database refuses events that do not extend their chain and changes to the ledger, and
//! `verify` names each kind of tampering done with raw SQL by someone who can write to the
//! database (dropping the triggers first, as they could): an edited payload with its chain
//! recomputed, a deleted event, a forged insert, a reordering, and an older copy of the
//! database; and, once the ledger itself is rewritten, the signatures or the anchor.
#[macro_use]
mod support;

use redress::clock::Clock;
use redress::keys::SigningKey;
use redress::store::{
    Anchor, AuditReport, EventLink, GENESIS_HASH, LedgerEntry, Signatures, Store, VerifyWith,
    block_hash,
};
use redress_core::{Complaint, Event, Role};
use sqlx::{AssertSqlSafe, Row};
use support::{Db, TestApp, complaint_body, spawn_app, spawn_app_on};

both_backends! {
    an_intact_record_verifies_and_says_what_it_checked =>
        sqlite_an_intact_record_verifies_and_says_what_it_checked,
        postgres_an_intact_record_verifies_and_says_what_it_checked;
    the_database_refuses_events_that_do_not_extend_their_chain =>
        sqlite_the_database_refuses_events_that_do_not_extend_their_chain,
        postgres_the_database_refuses_events_that_do_not_extend_their_chain;
    the_database_refuses_changes_to_the_ledger =>
        sqlite_the_database_refuses_changes_to_the_ledger,
        postgres_the_database_refuses_changes_to_the_ledger;
    an_edited_payload_with_its_chain_recomputed_is_named =>
        sqlite_an_edited_payload_with_its_chain_recomputed_is_named,
        postgres_an_edited_payload_with_its_chain_recomputed_is_named;
    a_rewritten_ledger_fails_its_signatures_or_the_anchor =>
        sqlite_a_rewritten_ledger_fails_its_signatures_or_the_anchor,
        postgres_a_rewritten_ledger_fails_its_signatures_or_the_anchor;
    a_deleted_event_is_named =>
        sqlite_a_deleted_event_is_named,
        postgres_a_deleted_event_is_named;
    a_forged_insert_is_named_once_the_trigger_is_dropped =>
        sqlite_a_forged_insert_is_named_once_the_trigger_is_dropped,
        postgres_a_forged_insert_is_named_once_the_trigger_is_dropped;
    a_reordering_is_named =>
        sqlite_a_reordering_is_named,
        postgres_a_reordering_is_named;
    an_older_copy_of_the_database_is_named_against_the_anchor =>
        sqlite_an_older_copy_of_the_database_is_named_against_the_anchor,
        postgres_an_older_copy_of_the_database_is_named_against_the_anchor;
    a_complaint_deleted_outright_is_named =>
        sqlite_a_complaint_deleted_outright_is_named,
        postgres_a_complaint_deleted_outright_is_named;
    verify_while_the_server_records_and_seals_sees_one_consistent_record =>
        sqlite_verify_while_the_server_records_and_seals_sees_one_consistent_record,
        postgres_verify_while_the_server_records_and_seals_sees_one_consistent_record;
    sealing_without_the_key_is_refused_once_the_ledger_is_signed =>
        sqlite_sealing_without_the_key_is_refused_once_the_ledger_is_signed,
        postgres_sealing_without_the_key_is_refused_once_the_ledger_is_signed;
}

/// A running application with two complaints, sealed so that each of A's events has a block
/// of its own: A (received, note, note) and B (received).
struct Case {
    app: TestApp,
    db: Db,
    key: Option<SigningKey>,
    token: String,
    a: String,
    b: String,
}

/// The cases every scenario runs: unsigned, then signed.
const KEYED: [bool; 2] = [false, true];

async fn setup(db: Db, keyed: bool) -> Option<Case> {
    let app = spawn_app(db).await?;
    let token = app
        .token(Role::Handler, Some("customer_services"), Some("amy"))
        .await;
    let key = keyed.then(SigningKey::generate);
    let mut case = Case {
        app,
        db,
        key,
        token,
        a: String::new(),
        b: String::new(),
    };
    case.a = case.create("KX-1").await;
    assert_eq!(
        event_count(&case, &case.a).await,
        1,
        "A begins with received"
    );
    case.seal().await;
    case.note(&case.a.clone(), "Rang the customer back").await;
    case.seal().await;
    case.note(&case.a.clone(), "Engineer booked for Friday")
        .await;
    case.seal().await;
    case.b = case.create("KX-2").await;
    case.seal().await;
    let report = case.verify(None).await;
    assert_eq!(problems(&report), Vec::<String>::new());
    assert_eq!(report.blocks, 4);
    Some(case)
}

impl Case {
    async fn create(&self, account: &str) -> String {
        self.create_with(complaint_body(account, "Ann Example"))
            .await
    }

    async fn create_with(&self, body: serde_json::Value) -> String {
        let created = self
            .app
            .client
            .post(self.app.url("/api/v1/complaints"))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .expect("create");
        assert_eq!(created.status(), 201);
        let body: serde_json::Value = created.json().await.expect("json");
        body["reference"].as_str().expect("reference").to_owned()
    }

    async fn note(&self, reference: &str, text: &str) {
        let noted = self
            .app
            .client
            .post(
                self.app
                    .url(&format!("/api/v1/complaints/{reference}/commands/add_note")),
            )
            .bearer_auth(&self.token)
            .json(&serde_json::json!({"text": text}))
            .send()
            .await
            .expect("note");
        assert_eq!(
            noted.status(),
            200,
            "{}",
            noted.text().await.unwrap_or_default()
        );
    }

    async fn seal(&self) -> Option<redress::store::Block> {
        self.app
            .store
            .seal(self.key.as_ref(), self.app.clock.now())
            .await
            .expect("seal")
    }

    async fn anchor(&self) -> Anchor {
        self.app
            .store
            .anchor(self.key.as_ref(), self.app.clock.now())
            .await
            .expect("anchor")
            .expect("something to anchor")
    }

    async fn verify(&self, anchor: Option<&Anchor>) -> AuditReport {
        verify_store(&self.app.store, self.key.as_ref(), anchor).await
    }

    async fn exec(&self, sql: &str) -> Result<u64, sqlx::Error> {
        exec(&self.app.store, sql).await
    }

    /// Drops a trigger, as someone with write access to the database can.
    async fn drop_trigger(&self, table: &str, name: &str) {
        let sql = match self.db {
            Db::Sqlite => format!("DROP TRIGGER {name}"),
            Db::Postgres => format!("DROP TRIGGER {name} ON {table}"),
        };
        self.exec(&sql).await.expect("drop the trigger");
    }

    /// Drops what keeps events append-only.
    async fn unguard_events(&self) {
        self.drop_trigger("events", "events_no_update").await;
        if self.db == Db::Sqlite {
            self.drop_trigger("events", "events_no_delete").await;
        }
    }

    async fn complaint_id(&self, reference: &str) -> i64 {
        sqlx::query("SELECT id FROM complaints WHERE reference = $1")
            .bind(reference)
            .fetch_one(self.app.store.pool())
            .await
            .expect("the complaint")
            .try_get("id")
            .expect("id")
    }

    /// What an attacker does after changing events: recompute every hash of the complaint's
    /// chain and its projection (last hash, version, state), so that the chain and the fold
    /// check out.
    async fn rechain(&self, reference: &str) {
        let id = self.complaint_id(reference).await;
        let rows = sqlx::query(
            "SELECT sequence, kind, payload, actor, occurred_at, recorded_at, due_at FROM events \
             WHERE complaint_id = $1 ORDER BY sequence",
        )
        .bind(id)
        .fetch_all(self.app.store.pool())
        .await
        .expect("events");
        let mut prev = GENESIS_HASH.to_owned();
        let mut parsed: Vec<Event> = Vec::new();
        for row in &rows {
            let sequence: i64 = row.get("sequence");
            let kind: String = row.get("kind");
            let payload: String = row.get("payload");
            let actor: String = row.get("actor");
            let hash = EventLink {
                prev_hash: &prev,
                reference,
                sequence,
                kind: &kind,
                payload: &payload,
                actor: &actor,
                occurred_at: row.get("occurred_at"),
                recorded_at: row.get("recorded_at"),
                due_at: row.get("due_at"),
            }
            .hash();
            sqlx::query(
                "UPDATE events SET prev_hash = $1, hash = $2 WHERE complaint_id = $3 AND sequence = $4",
            )
            .bind(&prev)
            .bind(&hash)
            .bind(id)
            .bind(sequence)
            .execute(self.app.store.pool())
            .await
            .expect("rehash");
            parsed.push(serde_json::from_str(&payload).expect("an event"));
            prev = hash;
        }
        let state = Complaint::replay(&parsed).expect("a complaint");
        sqlx::query("UPDATE complaints SET last_hash = $1, version = $2, state = $3 WHERE id = $4")
            .bind(&prev)
            .bind(rows.len() as i64)
            .bind(serde_json::to_string(&state).expect("json"))
            .bind(id)
            .execute(self.app.store.pool())
            .await
            .expect("re-project");
    }

    /// What an attacker does next: make every ledger entry agree with the events as they are
    /// now and recompute every block's hash and link. They do not have the key, so the
    /// signatures stay as they were.
    async fn rewrite_ledger(&self) {
        match self.db {
            Db::Sqlite => {
                for name in [
                    "ledger_blocks_no_update",
                    "ledger_entries_no_update",
                    "ledger_entries_no_delete",
                ] {
                    self.drop_trigger("", name).await;
                }
            }
            Db::Postgres => {
                self.drop_trigger("ledger_blocks", "ledger_blocks_no_change")
                    .await;
                self.drop_trigger("ledger_entries", "ledger_entries_no_change")
                    .await;
            }
        }
        self.exec(
            "UPDATE ledger_entries SET head = (SELECT e.hash FROM events e JOIN complaints c \
             ON c.id = e.complaint_id WHERE c.reference = ledger_entries.reference \
             AND e.sequence = ledger_entries.version)",
        )
        .await
        .expect("rewrite the entries");
        let blocks =
            sqlx::query("SELECT block, events, sealed_at FROM ledger_blocks ORDER BY block")
                .fetch_all(self.app.store.pool())
                .await
                .expect("blocks");
        let mut prev = GENESIS_HASH.to_owned();
        for row in blocks {
            let block: i64 = row.get("block");
            let entries: Vec<LedgerEntry> =
                sqlx::query("SELECT reference, version, head FROM ledger_entries WHERE block = $1")
                    .bind(block)
                    .fetch_all(self.app.store.pool())
                    .await
                    .expect("entries")
                    .iter()
                    .map(|e| LedgerEntry {
                        reference: e.get("reference"),
                        version: e.get("version"),
                        head: e.get("head"),
                    })
                    .collect();
            let hash = block_hash(
                block,
                &prev,
                row.get("sealed_at"),
                row.get("events"),
                &entries,
            );
            sqlx::query("UPDATE ledger_blocks SET prev_hash = $1, hash = $2 WHERE block = $3")
                .bind(&prev)
                .bind(&hash)
                .bind(block)
                .execute(self.app.store.pool())
                .await
                .expect("rewrite the block");
            prev = hash;
        }
    }
}

async fn exec(store: &Store, sql: &str) -> Result<u64, sqlx::Error> {
    sqlx::query(AssertSqlSafe(sql.to_owned()))
        .execute(store.pool())
        .await
        .map(|done| done.rows_affected())
}

async fn verify_store(
    store: &Store,
    key: Option<&SigningKey>,
    anchor: Option<&Anchor>,
) -> AuditReport {
    let public = key.map(SigningKey::public);
    store
        .verify_record(VerifyWith {
            key: public.as_ref(),
            anchor,
        })
        .await
        .expect("verify runs")
}

async fn event_count(case: &Case, reference: &str) -> i64 {
    sqlx::query(
        "SELECT COUNT(*) AS n FROM events e JOIN complaints c ON c.id = e.complaint_id \
         WHERE c.reference = $1",
    )
    .bind(reference)
    .fetch_one(case.app.store.pool())
    .await
    .expect("count")
    .get("n")
}

fn problems(report: &AuditReport) -> Vec<String> {
    report.problems.iter().map(|p| p.problem.clone()).collect()
}

/// Asserts `report` has exactly the problems given (in any order), each as a fragment of one
/// problem's sentence.
fn assert_problems(report: &AuditReport, expected: &[&str]) {
    let found = problems(report);
    assert_eq!(
        found.len(),
        expected.len(),
        "expected {expected:?}, found {found:#?}"
    );
    for fragment in expected {
        assert!(
            found.iter().any(|p| p.contains(fragment)),
            "no problem says {fragment:?}: {found:#?}"
        );
    }
}

fn label(keyed: bool) -> &'static str {
    if keyed {
        "with the key"
    } else {
        "without the key"
    }
}

async fn an_intact_record_verifies_and_says_what_it_checked(db: Db) {
    for keyed in KEYED {
        let Some(case) = setup(db, keyed).await else {
            return;
        };
        let report = case.verify(None).await;
        assert_eq!(report.complaints, 2);
        assert_eq!(report.events, 4);
        assert_eq!(report.unsealed_events, 0);
        let expected = match &case.key {
            Some(key) => Signatures::Checked {
                key_id: key.id().to_owned(),
                signed: 4,
            },
            None => Signatures::NotChecked { signed: 0 },
        };
        assert_eq!(report.signatures, expected, "{}", label(keyed));
        // Without the key, signatures are reported as not checked, never as good.
        if keyed {
            let unchecked = verify_store(&case.app.store, None, None).await;
            assert_eq!(unchecked.signatures, Signatures::NotChecked { signed: 4 });
            assert!(unchecked.problems.is_empty());
        }

        // An event after the last seal is counted as not yet sealed; the anchor seals it.
        case.note(&case.b.clone(), "Customer emailed").await;
        assert_eq!(case.verify(None).await.unsealed_events, 1);
        let anchor = case.anchor().await;
        assert_eq!((anchor.block, anchor.events), (5, 5));
        assert_eq!(anchor.signature.is_some(), keyed);
        let report = case.verify(Some(&anchor)).await;
        assert_eq!(problems(&report), Vec::<String>::new());
        assert_eq!(
            (report.unsealed_events, report.anchor_matched),
            (0, Some(5))
        );
        // Nothing new: anchoring again seals no block and gives the same anchor.
        assert_eq!(case.anchor().await, anchor);
        case.app.stop().await;
    }
}

async fn the_database_refuses_events_that_do_not_extend_their_chain(db: Db) {
    let Some(case) = setup(db, false).await else {
        return;
    };
    let id = case.complaint_id(&case.a).await;
    let head: String =
        sqlx::query("SELECT hash FROM events WHERE complaint_id = $1 AND sequence = 3")
            .bind(id)
            .fetch_one(case.app.store.pool())
            .await
            .expect("event 3")
            .get("hash");
    let insert = |sequence: i64, prev: String| {
        let store = case.app.store.clone();
        async move {
            sqlx::query(
                "INSERT INTO events (complaint_id, sequence, kind, payload, actor, occurred_at, recorded_at, due_at, prev_hash, hash) \
                 SELECT complaint_id, $2, kind, payload, actor, occurred_at, recorded_at, due_at, $3, hash \
                 FROM events WHERE complaint_id = $1 AND sequence = 2",
            )
            .bind(id)
            .bind(sequence)
            .bind(prev)
            .execute(store.pool())
            .await
        }
    };
    // A gap, a wrong link, a second event 1, a second event 3, an event 0.
    for (sequence, prev) in [
        (5, head.clone()),
        (4, GENESIS_HASH.to_owned()),
        (1, GENESIS_HASH.to_owned()),
        (3, head.clone()),
        (0, GENESIS_HASH.to_owned()),
    ] {
        let refused = insert(sequence, prev).await.expect_err("refused");
        let message = refused.to_string();
        assert!(
            message.contains("must extend its complaint's chain"),
            "event {sequence}: {message}"
        );
    }
    assert_eq!(event_count(&case, &case.a).await, 3);
    // The one row that does extend the chain is accepted (and then named by verify: it is a
    // copy of event 2 whose own hash no longer matches).
    insert(4, head)
        .await
        .expect("an event that extends the chain");
    assert_eq!(event_count(&case, &case.a).await, 4);
    // Many events of many complaints in one statement, as intake writes them, still pass: a
    // complaint received months ago starts with its overdue deadlines fired at once.
    let before: i64 = sqlx::query("SELECT COUNT(*) AS n FROM events")
        .fetch_one(case.app.store.pool())
        .await
        .expect("count")
        .get("n");
    let created: Vec<String> = futures_util::future::join_all((0..20).map(|i| {
        let case = &case;
        async move {
            let mut body = complaint_body(&format!("KX-BATCH-{i}"), "Ann Example");
            if i % 2 == 0 {
                body["received_at"] = serde_json::json!("2025-11-03T09:00:00Z");
            }
            case.create_with(body).await
        }
    }))
    .await;
    let after: i64 = sqlx::query("SELECT COUNT(*) AS n FROM events")
        .fetch_one(case.app.store.pool())
        .await
        .expect("count")
        .get("n");
    let old = event_count(&case, &created[0]).await;
    assert!(
        old > 2,
        "a complaint received long ago begins with {old} events"
    );
    assert_eq!(after - before, 10 * old + 10);
    // Only the copied event of A is named, not one of the new complaints.
    let report = case.verify(None).await;
    assert!(!report.problems.is_empty());
    for problem in &report.problems {
        assert_eq!(
            problem.reference.as_deref(),
            Some(case.a.as_str()),
            "{problem:?}"
        );
    }
    assert!(
        problems(&report).contains(&format!(
            "event 4 of {} was altered: its contents no longer match its hash",
            case.a
        )),
        "{:#?}",
        problems(&report)
    );
    case.app.stop().await;
}

async fn the_database_refuses_changes_to_the_ledger(db: Db) {
    let Some(case) = setup(db, false).await else {
        return;
    };
    for sql in [
        "UPDATE ledger_blocks SET hash = prev_hash WHERE block = 2",
        "DELETE FROM ledger_blocks WHERE block = 4",
        "UPDATE ledger_entries SET head = 'x' WHERE version = 1",
        "DELETE FROM ledger_entries WHERE block = 4",
    ] {
        let refused = case.exec(sql).await.expect_err(sql).to_string();
        assert!(
            refused.contains("the ledger is append-only"),
            "{sql}: {refused}"
        );
    }
    let block = |number: i64, prev: &str| {
        format!(
            "INSERT INTO ledger_blocks (block, prev_hash, hash, events, sealed_at) \
             VALUES ({number}, '{prev}', 'forged', 9, 0)"
        )
    };
    let newest = case
        .app
        .store
        .newest_block()
        .await
        .expect("read")
        .expect("a block");
    for sql in [
        block(6, &newest.hash),
        block(5, GENESIS_HASH),
        block(4, &newest.prev_hash),
    ] {
        let refused = case.exec(&sql).await.expect_err(&sql).to_string();
        assert!(
            refused.contains("a block must extend the ledger")
                || refused.contains("UNIQUE")
                || refused.contains("duplicate"),
            "{sql}: {refused}"
        );
    }
    // An entry for an older block, an entry sealing a version already sealed, and one whose
    // head is not the event's hash.
    let head: String =
        sqlx::query("SELECT head FROM ledger_entries WHERE reference = $1 AND version = 1")
            .bind(&case.a)
            .fetch_one(case.app.store.pool())
            .await
            .expect("entry")
            .get("head");
    for (block, version, head) in [(1, 4, head.clone()), (4, 1, head.clone()), (4, 3, head)] {
        let sql = format!(
            "INSERT INTO ledger_entries (block, reference, version, head) VALUES ({block}, '{}', {version}, '{head}')",
            case.a
        );
        let refused = case.exec(&sql).await.expect_err(&sql).to_string();
        assert!(
            refused.contains("a ledger entry must seal")
                || refused.contains("UNIQUE")
                || refused.contains("duplicate"),
            "{sql}: {refused}"
        );
    }
    assert_eq!(problems(&case.verify(None).await), Vec::<String>::new());
    case.app.stop().await;
}

async fn an_edited_payload_with_its_chain_recomputed_is_named(db: Db) {
    for keyed in KEYED {
        let Some(case) = setup(db, keyed).await else {
            return;
        };
        case.unguard_events().await;
        let id = case.complaint_id(&case.a).await;
        let changed = case
            .exec(&format!(
                "UPDATE events SET payload = REPLACE(payload, 'Rang the customer back', 'Customer withdrew the complaint') \
                 WHERE complaint_id = {id} AND sequence = 2"
            ))
            .await
            .expect("edit");
        assert_eq!(changed, 1);
        // Before the hashes are recomputed, the chain itself names the event.
        assert_problems(
            &case.verify(None).await,
            &[&format!(
                "event 2 of {} was altered: its contents no longer match its hash",
                case.a
            )],
        );
        case.rechain(&case.a).await;
        let report = case.verify(None).await;
        assert_problems(
            &report,
            &[&format!(
                "event 2 of {} was altered after block 2 sealed it",
                case.a
            )],
        );
        assert_eq!(
            report.problems[0].reference.as_deref(),
            Some(case.a.as_str())
        );
        assert_eq!(report.problems[0].sequence, Some(2), "{}", label(keyed));
        case.app.stop().await;
    }
}

async fn a_rewritten_ledger_fails_its_signatures_or_the_anchor(db: Db) {
    for keyed in KEYED {
        let Some(case) = setup(db, keyed).await else {
            return;
        };
        let anchor = case.anchor().await;
        case.unguard_events().await;
        let id = case.complaint_id(&case.a).await;
        case.exec(&format!(
            "UPDATE events SET payload = REPLACE(payload, 'Engineer booked for Friday', 'No engineer needed') \
             WHERE complaint_id = {id} AND sequence = 3"
        ))
        .await
        .expect("edit");
        case.rechain(&case.a).await;
        case.rewrite_ledger().await;
        let report = case.verify(None).await;
        if keyed {
            // Block 3 sealed the event; block 4 links to block 3's new hash: neither
            // signature matches any more.
            assert_problems(
                &report,
                &[
                    "block 3 signature does not match: the ledger was rewritten",
                    "block 4 signature does not match: the ledger was rewritten",
                ],
            );
        } else {
            // Without the key nothing in the database can tell: that is what the anchor
            // kept elsewhere is for.
            assert_eq!(problems(&report), Vec::<String>::new());
        }
        assert_problems(
            &case.verify(Some(&anchor)).await,
            &if keyed {
                vec![
                    "block 3 signature does not match",
                    "block 4 signature does not match",
                    "block 4 differs from the anchor: the ledger was rewritten",
                ]
            } else {
                vec!["block 4 differs from the anchor: the ledger was rewritten"]
            },
        );
        case.app.stop().await;
    }
}

async fn a_deleted_event_is_named(db: Db) {
    for keyed in KEYED {
        let Some(case) = setup(db, keyed).await else {
            return;
        };
        case.unguard_events().await;
        let id = case.complaint_id(&case.a).await;
        // The last event, then the projection made to match.
        case.exec(&format!(
            "DELETE FROM events WHERE complaint_id = {id} AND sequence = 3"
        ))
        .await
        .expect("delete");
        case.rechain(&case.a).await;
        let report = case.verify(None).await;
        assert_problems(
            &report,
            &[&format!(
                "event 3 of {} is missing: block 3 sealed 3 events and 2 remain",
                case.a
            )],
        );
        assert_eq!(report.problems[0].sequence, Some(3), "{}", label(keyed));
        case.app.stop().await;

        // A middle event, the later ones renumbered and rehashed.
        let Some(case) = setup(db, keyed).await else {
            return;
        };
        case.unguard_events().await;
        let id = case.complaint_id(&case.a).await;
        case.exec(&format!(
            "DELETE FROM events WHERE complaint_id = {id} AND sequence = 2"
        ))
        .await
        .expect("delete");
        // Without renumbering, the chain itself names the gap.
        assert!(
            problems(&case.verify(None).await)
                .contains(&format!("event 2 of {} is missing", case.a)),
            "{:?}",
            problems(&case.verify(None).await)
        );
        case.exec(&format!(
            "UPDATE events SET sequence = 2 WHERE complaint_id = {id} AND sequence = 3"
        ))
        .await
        .expect("renumber");
        case.rechain(&case.a).await;
        assert_problems(
            &case.verify(None).await,
            &[&format!(
                "event 2 of {} is missing: block 3 sealed 3 events and 2 remain",
                case.a
            )],
        );
        case.app.stop().await;
    }
}

async fn a_forged_insert_is_named_once_the_trigger_is_dropped(db: Db) {
    for keyed in KEYED {
        let Some(case) = setup(db, keyed).await else {
            return;
        };
        let id = case.complaint_id(&case.a).await;
        // A note nobody wrote, put in as event 2, the real ones moved up, every hash
        // recomputed: refused while the trigger stands.
        let forge = format!(
            "INSERT INTO events (complaint_id, sequence, kind, payload, actor, occurred_at, recorded_at, due_at, prev_hash, hash) \
             SELECT complaint_id, 4, kind, REPLACE(payload, 'Rang the customer back', 'Customer agreed to close'), \
             actor, occurred_at, recorded_at, due_at, '{GENESIS_HASH}', hash \
             FROM events WHERE complaint_id = {id} AND sequence = 2"
        );
        let refused = case.exec(&forge).await.expect_err("refused by the trigger");
        assert!(
            refused
                .to_string()
                .contains("must extend its complaint's chain"),
            "{refused}"
        );
        case.drop_trigger("events", "events_extend_chain").await;
        case.exec(&forge)
            .await
            .expect("forged once the trigger is gone");
        // As it went in (event 4, linked to nothing), the chain names it.
        let report = case.verify(None).await;
        assert!(
            problems(&report).contains(&format!(
                "event 4 of {} does not follow the event before it: its link to that event's hash is broken",
                case.a
            )),
            "{:#?}",
            problems(&report)
        );
        // Moved into place as event 2 and every hash recomputed, the ledger names it.
        case.unguard_events().await;
        for (from, to) in [(4, -4), (3, 4), (2, 3), (-4, 2)] {
            case.exec(&format!(
                "UPDATE events SET sequence = {to} WHERE complaint_id = {id} AND sequence = {from}"
            ))
            .await
            .expect("renumber");
        }
        case.rechain(&case.a).await;
        let report = case.verify(None).await;
        assert_problems(
            &report,
            &[&format!(
                "event 2 of {} was inserted: the event block 2 sealed as event 2 is now event 3",
                case.a
            )],
        );
        assert_eq!(report.problems[0].sequence, Some(2), "{}", label(keyed));
        case.app.stop().await;
    }
}

async fn a_reordering_is_named(db: Db) {
    for keyed in KEYED {
        let Some(case) = setup(db, keyed).await else {
            return;
        };
        case.unguard_events().await;
        let id = case.complaint_id(&case.a).await;
        for (from, to) in [(2, -2), (3, 2), (-2, 3)] {
            case.exec(&format!(
                "UPDATE events SET sequence = {to} WHERE complaint_id = {id} AND sequence = {from}"
            ))
            .await
            .expect("swap");
        }
        case.rechain(&case.a).await;
        let report = case.verify(None).await;
        assert_problems(
            &report,
            &[&format!(
                "the event block 2 sealed as event 2 of {} is now event 3: the events were reordered",
                case.a
            )],
        );
        assert_eq!(report.problems[0].sequence, Some(2), "{}", label(keyed));
        case.app.stop().await;
    }
}

async fn an_older_copy_of_the_database_is_named_against_the_anchor(db: Db) {
    for keyed in KEYED {
        let Some(case) = setup(db, keyed).await else {
            return;
        };
        // A copy as it stands now, taken as a backup would be.
        let dir = tempfile::tempdir().expect("dir");
        let (case, copy) = match db {
            Db::Sqlite => {
                let path = dir.path().join("older.db");
                case.exec(&format!("VACUUM INTO '{}'", path.display()))
                    .await
                    .expect("copy the file");
                (case, path.display().to_string())
            }
            Db::Postgres => {
                // A copy needs the database idle: stop, copy, start again on it.
                let Case {
                    app,
                    db,
                    key,
                    token,
                    a,
                    b,
                } = case;
                let database = app.database.clone();
                app.stop().await;
                let copy = copy_postgres(&database).await;
                let app = spawn_app_on(db, database).await;
                (
                    Case {
                        app,
                        db,
                        key,
                        token,
                        a,
                        b,
                    },
                    copy,
                )
            }
        };
        case.note(&case.a.clone(), "Customer called again").await;
        let anchor = case.anchor().await;
        assert_eq!(anchor.block, 5);
        assert_eq!(case.verify(Some(&anchor)).await.anchor_matched, Some(5));

        // The older copy, put back in place of the database.
        let older = Store::connect(
            &copy,
            std::sync::Arc::new(redress_core::Procedure::default_procedure()),
        )
        .await
        .expect("open the copy");
        let report = verify_store(&older, case.key.as_ref(), Some(&anchor)).await;
        assert_problems(
            &report,
            &[
                "the database is older than the anchor: block 5 is missing (the newest block here is 4)",
            ],
        );
        assert_eq!(report.problems[0].block, Some(5), "{}", label(keyed));
        // On its own, the copy is a consistent database: only the anchor can tell.
        assert_eq!(
            problems(&verify_store(&older, case.key.as_ref(), None).await),
            Vec::<String>::new()
        );
        older.close().await;
        case.app.stop().await;
    }
}

async fn a_complaint_deleted_outright_is_named(db: Db) {
    for keyed in KEYED {
        let Some(case) = setup(db, keyed).await else {
            return;
        };
        case.unguard_events().await;
        let id = case.complaint_id(&case.b).await;
        for sql in [
            format!("DELETE FROM events WHERE complaint_id = {id}"),
            format!("DELETE FROM deadlines WHERE complaint_id = {id}"),
            format!("DELETE FROM outbox WHERE complaint_id = {id}"),
            format!("DELETE FROM ledger_pending WHERE complaint_id = {id}"),
            format!("DELETE FROM report_facts WHERE complaint_id = {id}"),
            format!("DELETE FROM complaints WHERE id = {id}"),
        ] {
            case.exec(&sql).await.expect(&sql);
        }
        let report = case.verify(None).await;
        assert_problems(
            &report,
            &[&format!(
                "{} is missing: block 4 sealed 1 of its events",
                case.b
            )],
        );
        assert_eq!(
            report.problems[0].reference.as_deref(),
            Some(case.b.as_str()),
            "{}",
            label(keyed)
        );
        case.app.stop().await;
    }
}

async fn sealing_without_the_key_is_refused_once_the_ledger_is_signed(db: Db) {
    let Some(case) = setup(db, true).await else {
        return;
    };
    case.note(&case.b.clone(), "Customer emailed").await;
    let refused = case
        .app
        .store
        .seal(None, case.app.clock.now())
        .await
        .expect_err("refused");
    assert!(
        refused
            .to_string()
            .contains("the ledger is signed with key"),
        "{refused}"
    );
    let other = SigningKey::generate();
    let refused = case
        .app
        .store
        .seal(Some(&other), case.app.clock.now())
        .await
        .expect_err("refused");
    assert!(
        refused.to_string().contains("not with the key given"),
        "{refused}"
    );
    // Verified with another key, every signature is named as not this key's.
    let report = verify_store(&case.app.store, Some(&other), None).await;
    assert_eq!(report.problems.len(), 4, "{:#?}", problems(&report));
    assert!(problems(&report)[0].contains("was signed with key"));
    // The right key still seals, and the pending note is then covered.
    assert!(case.seal().await.is_some());
    assert_eq!(case.verify(None).await.unsealed_events, 0);
    case.app.stop().await;
}

async fn verify_while_the_server_records_and_seals_sees_one_consistent_record(db: Db) {
    let Some(case) = setup(db, true).await else {
        return;
    };
    let writing = async {
        for i in 0..30 {
            let reference = case.create(&format!("KX-LIVE-{i}")).await;
            case.note(&reference, "Called back").await;
            case.note(&case.a.clone(), &format!("Update {i}")).await;
            case.seal().await;
        }
    };
    let verifying = async {
        let mut runs = 0;
        for _ in 0..10 {
            let report = case.verify(None).await;
            assert_eq!(problems(&report), Vec::<String>::new());
            runs += 1;
        }
        runs
    };
    let ((), runs) = tokio::join!(writing, verifying);
    assert_eq!(runs, 10);
    let report = case.verify(Some(&case.anchor().await)).await;
    assert_eq!(problems(&report), Vec::<String>::new());
    assert_eq!((report.complaints, report.unsealed_events), (32, 0));
    case.app.stop().await;
}

/// A copy of a PostgreSQL database (which must be idle) under a new name; returns its URL.
async fn copy_postgres(database: &str) -> String {
    use sqlx::Connection;
    let (base, name) = database.rsplit_once('/').expect("a database URL");
    let copy = format!("{name}_older");
    let mut admin = sqlx::postgres::PgConnection::connect(&support::postgres_admin_url())
        .await
        .expect("connect");
    // The stopped pool's sessions may take a moment to end on the server.
    let mut last = None;
    for _ in 0..100 {
        match sqlx::query(AssertSqlSafe(format!(
            "CREATE DATABASE {copy} TEMPLATE {name}"
        )))
        .execute(&mut admin)
        .await
        {
            Ok(_) => return format!("{base}/{copy}"),
            Err(error) => last = Some(error),
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("cannot copy the database: {last:?}");
}
