//! The complaint report against an independent computation over the events. `seed-data` fills
//! a database with complaints taken through the whole procedure by the real core; the test
//! then reads every complaint's events and counts each figure itself (folding the events up to
//! the period's end for what was open then), and compares with `Store::complaint_report`, with
//! `redress report` and with `GET /api/v1/reports/complaints` (JSON and CSV). On SQLite and
//! PostgreSQL.
#[macro_use]
mod support;

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::Timestamp;
use jiff::civil::Date;
use redress::store::{ReportAsk, Store};
use redress_core::{Complaint, EventKind, Procedure, Reference, Role, Status};
use serde_json::Value;
use support::{Db, spawn_app_on};

both_backends! {
    every_figure_matches_a_count_over_the_events =>
        sqlite_every_figure_matches_a_count_over_the_events,
        postgres_every_figure_matches_a_count_over_the_events;
}

fn seed(database: &str, complaints: &str) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_redress"))
        .args([
            "seed-data",
            "--complaints",
            complaints,
            "--seed",
            "7",
            "--database",
            database,
        ])
        .output()
        .expect("seed-data runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What the test counts itself.
#[derive(Debug, Default, PartialEq)]
struct Counted {
    received: BTreeMap<(String, Option<String>, String), u64>,
    open_by_stage: BTreeMap<u8, u64>,
    formal: (u64, u64),
    adr: (u64, u64),
    referrals: u64,
    decisions: BTreeMap<String, u64>,
    offered: (u64, i64),
    accepted: (u64, i64),
    deadlocks: u64,
    resolved_by_stage: BTreeMap<u8, u64>,
    ack_minutes: Vec<i64>,
    /// Open at the end: (stage, age band) counts.
    open_bands: BTreeMap<(u8, String), u64>,
    vulnerable_received: u64,
    remedies: (u64, u64),
    /// London days: from the transfer to each formal response; from first receipt to each
    /// accepted resolution, by the stage that resolved it.
    formal_days: Vec<i64>,
    resolution_days: BTreeMap<u8, Vec<i64>>,
}

async fn count_over_events(store: &Store, from: Date, to: Date) -> Counted {
    let procedure = store.procedure();
    let tz = procedure.time_zone();
    let start = redress_core::clock::start_of_day(tz, from);
    let end = redress_core::clock::start_of_day(tz, redress_core::clock::add_days(to, 1));
    let within = |t: Timestamp| t >= start && t < end;
    let day = |t: Timestamp| redress_core::clock::local_date(tz, t);
    let references = all_references(store).await;
    let mut c = Counted::default();
    for reference in references {
        let view = store.get_complaint(&reference).await.expect("a complaint");
        let events: Vec<&redress_core::Event> = view.events.iter().map(|e| &e.event).collect();
        let EventKind::Received(received) = &events[0].kind else {
            panic!("the first event is received")
        };
        if within(received.received_at) {
            let month = day(received.received_at).strftime("%Y-%m").to_string();
            *c.received
                .entry((
                    month,
                    received.category.clone(),
                    received.channel.as_str().to_owned(),
                ))
                .or_default() += 1;
        }
        // What stood at the end of the period: the fold of the events before it.
        if received.received_at < end {
            let before: Vec<&redress_core::Event> =
                events.iter().copied().filter(|e| e.at < end).collect();
            let (stage, settled) = match Complaint::replay(before.iter().copied()) {
                Some(state) => (
                    state.stage.number(),
                    matches!(state.status, Status::Resolved | Status::Closed),
                ),
                None => (1, false),
            };
            if !settled {
                *c.open_by_stage.entry(stage).or_default() += 1;
                let last_day = redress_core::clock::add_days(day(end), -1);
                let age = i64::from((last_day - day(received.received_at)).get_days());
                let band = match age {
                    ..=13 => "under 2 weeks",
                    14..=27 => "2 to 4 weeks",
                    28..=55 => "4 to 8 weeks",
                    _ => "8 weeks or more",
                };
                *c.open_bands.entry((stage, band.to_owned())).or_default() += 1;
            }
        }
        let vulnerable_ever = !received.customer.vulnerabilities.is_empty()
            || events.iter().any(|e| {
                e.at < end
                    && matches!(&e.kind, EventKind::CustomerUpdated { customer, .. } if !customer.vulnerabilities.is_empty())
            });
        if within(received.received_at) && vulnerable_ever {
            c.vulnerable_received += 1;
        }
        let mut due_by = None;
        let mut remedy_due = None;
        let mut state: Option<Complaint> = None;
        for e in &events {
            let next = match state.take() {
                Some(s) => redress_core::apply(s, e),
                None => Complaint::start(e).expect("starts"),
            };
            if let EventKind::OmbudsmanDecided { remedy_due_by, .. } = &e.kind {
                remedy_due = *remedy_due_by;
            }
            match &e.kind {
                EventKind::Transferred {
                    response_due_by, ..
                } => due_by = Some(*response_due_by),
                EventKind::FormalResponseIssued { .. } if within(e.at) => {
                    if let Some(t) = next.transferred_at {
                        c.formal_days
                            .push(i64::from((day(e.at) - day(t)).get_days()));
                    }
                    c.formal.0 += 1;
                    if due_by.is_some_and(|d| day(e.at) <= d) {
                        c.formal.1 += 1;
                    }
                }
                EventKind::AdrNoticeSent { due_at, .. } if within(e.at) => {
                    c.adr.0 += 1;
                    if day(e.at) <= day(*due_at) {
                        c.adr.1 += 1;
                    }
                }
                EventKind::ReferredToOmbudsman { .. } if within(e.at) => c.referrals += 1,
                EventKind::OmbudsmanDecided { outcome, .. } if within(e.at) => {
                    let name = serde_json::to_value(outcome).expect("an outcome");
                    *c.decisions
                        .entry(name.as_str().unwrap_or_default().to_owned())
                        .or_default() += 1;
                }
                EventKind::CompensationOffered { amount_pence, .. } if within(e.at) => {
                    c.offered.0 += 1;
                    c.offered.1 += amount_pence;
                }
                EventKind::CompensationAccepted { amount_pence, .. } if within(e.at) => {
                    c.accepted.0 += 1;
                    c.accepted.1 += amount_pence;
                }
                EventKind::DeadlockIssued { .. } if within(e.at) => c.deadlocks += 1,
                EventKind::RemedyCompleted { .. } if within(e.at) => {
                    c.remedies.0 += 1;
                    if remedy_due.is_some_and(|d| day(e.at) <= d) {
                        c.remedies.1 += 1;
                    }
                }
                EventKind::ResolutionAccepted {} if within(e.at) => {
                    *c.resolved_by_stage.entry(next.stage.number()).or_default() += 1;
                    c.resolution_days
                        .entry(next.stage.number())
                        .or_default()
                        .push(i64::from(
                            (day(e.at) - day(next.first_received_at)).get_days(),
                        ));
                }
                EventKind::Acknowledged { .. } if within(e.at) => c
                    .ack_minutes
                    .push((e.at.as_second() - next.first_received_at.as_second()) / 60),
                _ => {}
            }
            state = Some(next);
        }
    }
    c.ack_minutes.sort();
    c
}

async fn all_references(store: &Store) -> Vec<Reference> {
    // Every complaint, through the queue's pages.
    let mut out = Vec::new();
    let mut filter = redress::store::ComplaintFilter {
        limit: 200,
        ..Default::default()
    };
    loop {
        let page = store.list_complaints(&filter).await.expect("a page");
        out.extend(
            page.items
                .iter()
                .map(|s| Reference::parse(&s.reference).expect("a reference")),
        );
        match page.next {
            Some(next) => filter.after = Some(next),
            None => break,
        }
    }
    out
}

fn reported(report: &redress::store::Report) -> Counted {
    let mut c = Counted::default();
    for m in &report.received.by_month {
        c.received.insert(
            (m.month.clone(), m.category.clone(), m.channel.clone()),
            m.count,
        );
    }
    for s in &report.open_at_end.by_stage {
        c.open_by_stage.insert(s.stage, s.total);
        for (band, n) in &s.bands {
            if *n > 0 {
                c.open_bands.insert((s.stage, band.clone()), *n);
            }
        }
    }
    c.vulnerable_received = report.vulnerable.received;
    c.remedies = (
        report.outcomes.remedies.count,
        report.outcomes.remedies.on_time,
    );
    let t = &report.timeliness;
    c.formal = (t.formal_responses.count, t.formal_responses.on_time);
    c.adr = (t.adr_letters.count, t.adr_letters.on_time);
    c.referrals = report.outcomes.referrals;
    c.decisions = report.outcomes.ombudsman_decisions.clone();
    c.offered = (
        report.compensation.offered.count,
        report.compensation.offered.total_pence,
    );
    c.accepted = (
        report.compensation.accepted.count,
        report.compensation.accepted.total_pence,
    );
    c.deadlocks = report.outcomes.deadlock_letters;
    c.resolved_by_stage = report.outcomes.resolved_by_stage.iter().copied().collect();
    c
}

async fn every_figure_matches_a_count_over_the_events(db: Db) {
    let dir = tempfile::tempdir().expect("a folder");
    let database = match db {
        Db::Sqlite => dir.path().join("redress.db").display().to_string(),
        Db::Postgres => match support::fresh_postgres_database().await {
            Some(url) => url,
            None => return,
        },
    };
    seed(&database, "400");
    let store = Store::connect(&database, Arc::new(Procedure::default_procedure()))
        .await
        .expect("connects");
    store.migrate().await.expect("migrated");
    let tz = store.procedure().time_zone().clone();
    let now: Timestamp = "2030-01-01T00:00:00Z".parse().expect("an instant");

    // Everything, and a period that ends in the past (what was open then comes from the facts).
    let first: Date = {
        let r = store
            .complaint_report(&ReportAsk::default(), now)
            .await
            .expect("a report");
        r.from
    };
    let last = redress_core::clock::local_date(&tz, now);

    // A database from before the facts were kept: they are rebuilt from the events, once, and
    // give the same report.
    let whole = ReportAsk {
        from: Some(first),
        to: Some(last),
        ..ReportAsk::default()
    };
    let kept = serde_json::to_value(store.complaint_report(&whole, now).await.expect("a report"))
        .expect("JSON");
    {
        sqlx::any::install_default_drivers();
        let url = if database.starts_with("postgres") {
            database.clone()
        } else {
            format!("sqlite://{database}")
        };
        let pool = sqlx::AnyPool::connect(&url).await.expect("connects");
        for sql in [
            "DELETE FROM report_facts",
            "DELETE FROM report_facts_backfilled",
        ] {
            sqlx::query(sql).execute(&pool).await.expect("cleared");
        }
        pool.close().await;
    }
    let emptied = store.complaint_report(&whole, now).await.expect("a report");
    assert_eq!(emptied.received.total, 0, "the facts are gone");
    store.migrate().await.expect("migrated again");
    let rebuilt =
        serde_json::to_value(store.complaint_report(&whole, now).await.expect("a report"))
            .expect("JSON");
    assert_eq!(rebuilt, kept, "the rebuilt facts give the same report");
    let middle = redress_core::clock::add_days(first, 200);
    for (from, to) in [
        (first, last),
        (redress_core::clock::add_days(first, 30), middle),
    ] {
        let ask = ReportAsk {
            from: Some(from),
            to: Some(to),
            customers: Some(50_000),
            ..ReportAsk::default()
        };
        let report = store.complaint_report(&ask, now).await.expect("a report");
        let mut expected = count_over_events(&store, from, to).await;
        let got = reported(&report);
        assert!(
            got.received.values().sum::<u64>() > 0,
            "the period holds complaints"
        );
        assert_eq!(got.received, expected.received, "received, {from} to {to}");
        assert_eq!(
            got.open_by_stage, expected.open_by_stage,
            "open at the end, {from} to {to}"
        );
        assert_eq!(got.formal, expected.formal, "formal responses");
        assert_eq!(got.adr, expected.adr, "ADR letters");
        assert_eq!(got.referrals, expected.referrals);
        assert_eq!(got.decisions, expected.decisions);
        assert_eq!(got.offered, expected.offered);
        assert_eq!(got.accepted, expected.accepted);
        assert_eq!(got.deadlocks, expected.deadlocks);
        assert_eq!(got.resolved_by_stage, expected.resolved_by_stage);
        assert_eq!(got.open_bands, expected.open_bands, "open by stage and age");
        assert_eq!(
            got.vulnerable_received, expected.vulnerable_received,
            "vulnerable"
        );
        assert_eq!(got.remedies, expected.remedies, "remedies within 28 days");
        let mut formal_days = std::mem::take(&mut expected.formal_days);
        formal_days.sort();
        assert_eq!(
            report.timeliness.formal_responses.days.median,
            redress_core::report::median(&formal_days),
            "the median days to a formal response"
        );
        for s in &report.timeliness.resolution_days {
            let mut days = expected
                .resolution_days
                .remove(&s.stage)
                .unwrap_or_default();
            days.sort();
            assert_eq!(
                s.days.median,
                redress_core::report::median(&days),
                "stage {}",
                s.stage
            );
            assert_eq!(
                s.days.p90,
                redress_core::report::percentile(&days, 90),
                "stage {}",
                s.stage
            );
        }
        assert!(
            expected.resolution_days.is_empty(),
            "every resolving stage is reported"
        );
        let ack = std::mem::take(&mut expected.ack_minutes);
        assert_eq!(
            report.timeliness.acknowledgement_minutes.median,
            redress_core::report::median(&ack),
            "the median acknowledgement"
        );
        assert_eq!(
            report.timeliness.acknowledgement_minutes.p90,
            redress_core::report::percentile(&ack, 90)
        );
        assert_eq!(
            report.timeliness.acknowledgement_minutes.count,
            ack.len() as u64
        );
        // Per 100,000 customers: the count over 50,000 customers, doubled.
        let total = report.received.total;
        assert_eq!(
            report.received.per_100k.as_deref(),
            Some(format!("{}.0", total * 2).as_str())
        );
    }

    // The same report through the API (JSON and CSV) and the command line.
    let app = match db {
        Db::Postgres => spawn_app_on(db, database.clone()).await,
        Db::Sqlite => support::spawn_app_at(&database).await,
    };
    let compliance = app
        .token(Role::Compliance, None, Some("c@kinex.example"))
        .await;
    let handler = app.handler_token("h@kinex.example").await;
    let path = format!("/api/v1/reports/complaints?from={first}&to={middle}");
    let (status, _) = app.get_json(Some(&handler), &path).await;
    assert_eq!(status, 403);
    let (status, body) = app.get_json(Some(&compliance), &path).await;
    assert_eq!(status, 200, "{body}");
    let expected = count_over_events(&store, first, middle).await;
    let received: u64 = expected.received.values().sum();
    assert_eq!(body["received"]["total"], received);
    let (status, body) = app
        .get_json(
            Some(&compliance),
            "/api/v1/reports/complaints?from=2026-02-30",
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let csv = app
        .client
        .get(app.url(&path))
        .bearer_auth(&compliance)
        .header("accept", "text/csv")
        .send()
        .await
        .expect("an answer");
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("text/csv")
    );
    let text = csv.text().await.expect("a body");
    assert!(text.starts_with("section,figure,key,value\n"), "{text}");
    assert!(
        text.contains(&format!("received,total,,{received}\n")),
        "{text}"
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_redress"))
        .args([
            "report",
            "--from",
            &first.to_string(),
            "--to",
            &middle.to_string(),
            "--database",
            &database,
        ])
        .output()
        .expect("redress report runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cli: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(cli["received"]["total"], received);
    assert_eq!(cli["outcomes"]["referrals"], expected.referrals);

    // The staff page: compliance and managers; the same figures, charts, and the CSV.
    app.staff_account("audit@example.com", Role::Compliance, None)
        .await;
    app.staff_account("cs@example.com", Role::Handler, Some("customer_services"))
        .await;
    let mut handler_page = support::browser::Browser::signed_in_staff(&app, "cs@example.com").await;
    handler_page.get("/staff/reports").await.expect(403);
    let mut audit = support::browser::Browser::signed_in_staff(&app, "audit@example.com").await;
    let page = audit
        .get(&format!(
            "/staff/reports?from={first}&to={middle}&customers=50000"
        ))
        .await;
    page.expect(200);
    assert!(
        page.body.contains(&format!(
            "<tr><th scope=\"row\">Received</th><td>{received}</td></tr>"
        )),
        "{}",
        page.body
    );
    assert!(page.body.contains("<svg"), "charts");
    assert!(page.body.contains("Download this report as CSV"));
    let page = audit
        .get(&format!("/staff/reports.csv?from={first}&to={middle}"))
        .await;
    page.expect(200);
    assert!(
        page.body.contains(&format!("received,total,,{received}\n")),
        "{}",
        page.body
    );
    let page = audit.get("/staff/reports?from=2026-13-01").await;
    page.expect(400);
    assert!(page.body.contains("From must be a date"), "{}", page.body);
    app.stop().await;
}
