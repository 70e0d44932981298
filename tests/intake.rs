//! New complaints recorded together (group commit), on SQLite and on PostgreSQL: many at once,
//! refusals and Idempotency-Keys inside one batch, and a complaint the database rejects failing
//! alone.
#[macro_use]
mod support;

use std::collections::{BTreeMap, BTreeSet};

use redress::clock::Clock;
use redress::store::{Idempotency, Keyed, NewAttachment, StoreError};
use redress_core::model::Postcode;
use redress_core::{Actor, Channel, Customer, Reference, Role};
use sqlx::Row;
use support::{Db, TestApp, spawn_app};

both_backends! {
    many_complaints_at_once_get_references_without_gaps_and_are_all_stored =>
        sqlite_many_complaints_at_once_get_references_without_gaps_and_are_all_stored,
        postgres_many_complaints_at_once_get_references_without_gaps_and_are_all_stored;
    a_complaint_the_database_rejects_fails_alone =>
        sqlite_a_complaint_the_database_rejects_fails_alone,
        postgres_a_complaint_the_database_rejects_fails_alone;
    a_complaint_whose_attachment_the_database_rejects_is_not_recorded_at_all =>
        sqlite_a_complaint_whose_attachment_the_database_rejects_is_not_recorded_at_all,
        postgres_a_complaint_whose_attachment_the_database_rejects_is_not_recorded_at_all;
}

fn receive(account: &str, category: &str) -> redress_core::Receive {
    redress_core::Receive {
        reference: Reference::new("CMP", 2000, 0),
        channel: Channel::Telephone,
        customer: Customer {
            account: account.into(),
            name: "Ann Example".into(),
            email: None,
            telephone: None,
            address: Vec::new(),
            postcode: Postcode::parse("M22 4SY").ok(),
            preferred_channel: None,
            accessibility_needs: Vec::new(),
            vulnerabilities: Vec::new(),
        },
        summary: "Broadband drops every evening".into(),
        category: Some(category.into()),
        received_at: None,
        staff_concerned: Vec::new(),
        by: Actor {
            role: Role::Handler,
            department: Some("customer_services".into()),
            staff: Some("amy".into()),
        },
    }
}

/// What one request asked for.
#[derive(Debug, Clone)]
enum Ask {
    Plain,
    /// An unknown category: the core refuses it.
    Refused,
    /// One of three keys, each sent several times with the same body.
    Repeat(usize),
    /// One key sent by several requests, each with a different body.
    Clash(usize),
}

fn ask(i: usize) -> Ask {
    match i % 10 {
        3 => Ask::Refused,
        7 => Ask::Repeat(i % 3),
        9 => Ask::Clash(i),
        _ => Ask::Plain,
    }
}

async fn create(app: &TestApp, i: usize) -> Result<Keyed<String>, StoreError> {
    let (account, category, key) = match ask(i) {
        Ask::Plain => (format!("KX-{i}"), "billing_pricing_charges", None),
        Ask::Refused => (format!("KX-{i}"), "no_such_category", None),
        Ask::Repeat(k) => (
            format!("KX-REPEAT-{k}"),
            "billing_pricing_charges",
            Some(Idempotency {
                scope: "test".into(),
                key: format!("repeat-{k}"),
                request_hash: format!("body-{k}"),
            }),
        ),
        Ask::Clash(i) => (
            format!("KX-CLASH-{i}"),
            "billing_pricing_charges",
            Some(Idempotency {
                scope: "test".into(),
                key: "clash".into(),
                request_hash: format!("body-{i}"),
            }),
        ),
    };
    let (receive, now) = (receive(&account, category), app.clock.now());
    let answer = match &key {
        Some(key) => {
            app.store
                .create_complaint_keyed(receive, now, key, Vec::new())
                .await?
        }
        None => Keyed::First(app.store.create_complaint(receive, now).await?),
    };
    Ok(match answer {
        Keyed::First(created) => {
            assert_eq!(created.complaint.customer.account, account);
            Keyed::First(created.complaint.reference.to_string())
        }
        Keyed::Replayed(first) => Keyed::Replayed(first.complaint.reference.to_string()),
    })
}

async fn stored_references(app: &TestApp) -> BTreeSet<String> {
    sqlx::query("SELECT reference FROM complaints")
        .fetch_all(app.store.pool())
        .await
        .expect("read the complaints")
        .iter()
        .map(|row| row.try_get::<String, _>("reference").expect("a reference"))
        .collect()
}

async fn many_complaints_at_once_get_references_without_gaps_and_are_all_stored(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    const N: usize = 300;
    let answers = futures_util::future::join_all((0..N).map(|i| create(&app, i))).await;

    let mut created: BTreeMap<String, usize> = BTreeMap::new();
    let mut replays: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let mut clash_created = 0;
    let mut clash_refused = 0;
    for (i, answer) in answers.into_iter().enumerate() {
        match (ask(i), answer) {
            (Ask::Refused, Err(StoreError::Refused(refusal))) => {
                assert!(refusal.reason.contains("no_such_category"), "{refusal:?}");
            }
            (Ask::Plain, Ok(Keyed::First(reference))) => {
                assert!(created.insert(reference, i).is_none(), "a reference twice");
            }
            (Ask::Repeat(k), Ok(Keyed::First(reference))) => {
                assert!(created.insert(reference.clone(), i).is_none());
                replays
                    .entry(k)
                    .or_default()
                    .push(format!("first:{reference}"));
            }
            (Ask::Repeat(k), Ok(Keyed::Replayed(reference))) => {
                replays.entry(k).or_default().push(reference);
            }
            (Ask::Clash(_), Ok(Keyed::First(reference))) => {
                clash_created += 1;
                assert!(created.insert(reference, i).is_none());
            }
            (Ask::Clash(_), Err(StoreError::IdempotencyMismatch)) => clash_refused += 1,
            (asked, other) => panic!("request {i} ({asked:?}) was answered {other:?}"),
        }
    }
    // Each repeated key recorded one complaint; every repeat got exactly its reference.
    for k in 0..3 {
        let answers = &replays[&k];
        let firsts: Vec<_> = answers.iter().filter(|a| a.starts_with("first:")).collect();
        assert_eq!(firsts.len(), 1, "key repeat-{k}: {answers:?}");
        let reference = firsts[0].trim_start_matches("first:");
        assert!(
            answers
                .iter()
                .all(|a| a == firsts[0] || a.as_str() == reference),
            "key repeat-{k}: {answers:?}"
        );
    }
    let clashes = (0..N).filter(|&i| matches!(ask(i), Ask::Clash(_))).count();
    assert_eq!((clash_created, clash_refused), (1, clashes - 1));

    // References run from 1 with no gap (refusals took none) and all are stored.
    let plain = (0..N).filter(|&i| matches!(ask(i), Ask::Plain)).count();
    let expected_count = plain + 3 + 1;
    assert_eq!(created.len(), expected_count);
    let expected: BTreeSet<String> = (1..=expected_count)
        .map(|n| Reference::new("CMP", 2026, n as u64).to_string())
        .collect();
    let got: BTreeSet<String> = created.keys().cloned().collect();
    assert_eq!(got, expected);
    assert_eq!(stored_references(&app).await, expected);

    // Each is stored as it was answered: its timeline, its clock, its projection and chain.
    for (reference, i) in &created {
        let view = app
            .store
            .get_complaint(&Reference::parse(reference).expect("a reference"))
            .await
            .expect("stored");
        assert_eq!(view.events.len(), 1, "{reference}");
        assert_eq!(view.events[0].event.kind.name(), "received");
        assert_eq!(view.deadlines.len(), 1, "{reference}: the 8-week ADR clock");
        assert_eq!(view.deadlines[0].kind, "adr");
        if matches!(ask(*i), Ask::Plain) {
            assert_eq!(view.complaint.customer.account, format!("KX-{i}"));
        }
    }
    let audit = app.store.verify_audit().await.expect("audit runs");
    assert_eq!(audit.complaints, expected_count as u64);
    assert!(audit.problems.is_empty(), "{:?}", audit.problems);
    app.stop().await;
}

/// Makes the database itself refuse any complaint row for the account `POISON`.
async fn poison(app: &TestApp, db: Db) {
    let statements: &[&str] = match db {
        Db::Sqlite => &[
            "CREATE TRIGGER poison BEFORE INSERT ON complaints WHEN NEW.customer_account = 'POISON' \
             BEGIN SELECT RAISE(ABORT, 'poisoned row'); END",
        ],
        Db::Postgres => &[
            "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             IF NEW.customer_account = 'POISON' THEN RAISE EXCEPTION 'poisoned row'; END IF; \
             RETURN NEW; END $$",
            "CREATE TRIGGER poison BEFORE INSERT ON complaints FOR EACH ROW EXECUTE FUNCTION poison()",
        ],
    };
    for statement in statements {
        sqlx::query(*statement)
            .execute(app.store.pool())
            .await
            .expect("create the trigger");
    }
}

async fn a_complaint_the_database_rejects_fails_alone(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    poison(&app, db).await;
    const N: usize = 60;
    let is_poison = |i: usize| i % 20 == 4;
    let answers = futures_util::future::join_all((0..N).map(|i| {
        let store = app.store.clone();
        let now = app.clock.now();
        async move {
            let account = if is_poison(i) {
                "POISON".to_owned()
            } else {
                format!("KX-{i}")
            };
            store
                .create_complaint(receive(&account, "billing_pricing_charges"), now)
                .await
        }
    }))
    .await;
    let mut recorded = BTreeSet::new();
    for (i, answer) in answers.into_iter().enumerate() {
        match answer {
            Ok(created) => {
                assert!(!is_poison(i), "the poisoned complaint {i} was recorded");
                recorded.insert(created.complaint.reference.to_string());
            }
            Err(StoreError::Database(_)) if is_poison(i) => {}
            other => panic!("request {i} was answered {other:?}"),
        }
    }
    let good = (0..N).filter(|&i| !is_poison(i)).count();
    let expected: BTreeSet<String> = (1..=good)
        .map(|n| Reference::new("CMP", 2026, n as u64).to_string())
        .collect();
    assert_eq!(
        recorded, expected,
        "every good complaint, numbered without gaps"
    );
    assert_eq!(stored_references(&app).await, expected);
    let audit = app.store.verify_audit().await.expect("audit runs");
    assert!(audit.problems.is_empty(), "{:?}", audit.problems);
    app.stop().await;
}

/// Makes the database itself refuse any attachment row named `poison.pdf`.
async fn poison_attachments(app: &TestApp, db: Db) {
    let statements: &[&str] = match db {
        Db::Sqlite => &[
            "CREATE TRIGGER poison BEFORE INSERT ON attachments WHEN NEW.filename = 'poison.pdf' \
             BEGIN SELECT RAISE(ABORT, 'poisoned row'); END",
        ],
        Db::Postgres => &[
            "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             IF NEW.filename = 'poison.pdf' THEN RAISE EXCEPTION 'poisoned row'; END IF; \
             RETURN NEW; END $$",
            "CREATE TRIGGER poison BEFORE INSERT ON attachments FOR EACH ROW EXECUTE FUNCTION poison()",
        ],
    };
    for statement in statements {
        sqlx::query(*statement)
            .execute(app.store.pool())
            .await
            .expect("create the trigger");
    }
}

fn file(name: &str) -> NewAttachment {
    NewAttachment {
        sha256: format!("{:064}", name.len()),
        filename: name.into(),
        content_type: "application/pdf".into(),
        size: 10,
        uploaded_by: "email".into(),
    }
}

fn file_key(i: usize) -> Idempotency {
    Idempotency {
        scope: "test".into(),
        key: format!("with-file-{i}"),
        request_hash: "h".into(),
    }
}

async fn a_complaint_whose_attachment_the_database_rejects_is_not_recorded_at_all(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    poison_attachments(&app, db).await;
    const N: usize = 40;
    let is_poison = |i: usize| i % 10 == 3;
    let answers = futures_util::future::join_all((0..N).map(|i| {
        let store = app.store.clone();
        let now = app.clock.now();
        async move {
            let name = if is_poison(i) {
                "poison.pdf".to_owned()
            } else {
                format!("file-{i}.pdf")
            };
            store
                .create_complaint_keyed(
                    receive(&format!("KX-{i}"), "billing_pricing_charges"),
                    now,
                    &file_key(i),
                    vec![file(&name)],
                )
                .await
        }
    }))
    .await;
    let mut recorded = BTreeSet::new();
    for (i, answer) in answers.into_iter().enumerate() {
        match answer {
            Ok(Keyed::First(created)) => {
                assert!(
                    !is_poison(i),
                    "the complaint {i} was recorded without its file"
                );
                let reference = created.complaint.reference.to_string();
                let files = app.store.attachments(&reference).await.expect("rows");
                let names: Vec<&str> = files.iter().map(|f| f.filename.as_str()).collect();
                assert_eq!(names, [format!("file-{i}.pdf")], "{reference}");
                recorded.insert(reference);
            }
            Err(StoreError::Database(_)) if is_poison(i) => {}
            other => panic!("request {i} was answered {other:?}"),
        }
    }
    let good = (0..N).filter(|&i| !is_poison(i)).count();
    let expected: BTreeSet<String> = (1..=good)
        .map(|n| Reference::new("CMP", 2026, n as u64).to_string())
        .collect();
    assert_eq!(
        recorded, expected,
        "every good complaint, numbered without gaps"
    );
    assert_eq!(stored_references(&app).await, expected);

    // Nothing was kept for a rejected complaint's key: its retry records it afresh.
    let retried = app
        .store
        .create_complaint_keyed(
            receive("KX-3", "billing_pricing_charges"),
            app.clock.now(),
            &file_key(3),
            vec![file("file-3.pdf")],
        )
        .await
        .expect("the retry is recorded");
    assert!(matches!(retried, Keyed::First(_)), "{retried:?}");
    let audit = app.store.verify_audit().await.expect("audit runs");
    assert!(audit.problems.is_empty(), "{:?}", audit.problems);
    app.stop().await;
}
