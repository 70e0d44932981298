//! Reads that do not scan, on both backends, over complaints from `seed-data`: every queue,
//! filter and search returns, page by page, exactly what a scan of the table in queue order
//! would return; each is served by an index (the database's own plan says so); and the counts
//! the dashboard and `/metrics` read are the complaints' own numbers after every kind of write.

#[macro_use]
mod support;

use std::sync::Arc;

use redress::seed::Options;
use redress::store::{ComplaintFilter, Store};
use redress_core::{Complaint, Procedure};
use sqlx::Row;
use support::{Db, START, fresh_database, ts};

/// One complaint's row as a scan sees it.
#[derive(Debug, Clone)]
struct Scanned {
    reference: String,
    stage: i64,
    status: String,
    department: String,
    overdue: bool,
    email: Option<String>,
    handler: Option<String>,
    key: i64,
    search_text: String,
    complaint: Complaint,
}

async fn scan(store: &Store) -> Vec<Scanned> {
    let rows = sqlx::query(
        "SELECT reference, stage, status, department, overdue, customer_email, handler, queue_at, search_text, state \
         FROM complaints",
    )
    .fetch_all(store.pool())
    .await
    .expect("the table");
    let mut out: Vec<Scanned> = rows
        .iter()
        .map(|r| Scanned {
            reference: r.get("reference"),
            stage: r.get("stage"),
            status: r.get("status"),
            department: r.get("department"),
            overdue: r.get::<i64, _>("overdue") != 0,
            email: r.get("customer_email"),
            handler: r.get("handler"),
            key: r.get::<Option<i64>, _>("queue_at").unwrap_or(i64::MAX),
            search_text: r.get("search_text"),
            complaint: serde_json::from_str(&r.get::<String, _>("state")).expect("a complaint"),
        })
        .collect();
    out.sort_by(|a, b| (a.key, &a.reference).cmp(&(b.key, &b.reference)));
    out
}

/// What a search means, said independently of either database: every typed word's parts
/// (its runs of letters and digits) are whole words of the complaint's, one after another,
/// the last only the start of one.
fn matches(search_text: &str, q: &str) -> bool {
    let words: Vec<String> = search_text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    q.split_whitespace().all(|typed| {
        let parts: Vec<String> = typed
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect();
        if parts.is_empty() {
            return true;
        }
        (0..words.len()).any(|i| {
            let (whole, last) = parts.split_at(parts.len() - 1);
            words.len() >= i + parts.len()
                && whole.iter().enumerate().all(|(j, p)| &words[i + j] == p)
                && words[i + whole.len()].starts_with(&last[0])
        })
    })
}

/// Every page of a list, `limit` at a time, following the store's keyset.
async fn every_page(store: &Store, filter: &ComplaintFilter, limit: i64) -> Vec<String> {
    let mut filter = filter.clone();
    filter.limit = limit;
    filter.after = None;
    let mut out = Vec::new();
    for _ in 0..10_000 {
        let page = store.list_complaints(&filter).await.expect("a page");
        assert!(page.items.len() as i64 <= limit);
        out.extend(page.items.iter().map(|i| i.reference.clone()));
        match page.next {
            Some(next) => filter.after = Some(next),
            None => return out,
        }
    }
    panic!("the pages never ended");
}

async fn seeded(db: Db, dir: &std::path::Path, complaints: u64) -> Option<Store> {
    let url = fresh_database(db, dir).await?;
    let store = Store::connect(&url, Arc::new(Procedure::default_procedure()))
        .await
        .expect("connect");
    store.migrate().await.expect("migrate");
    let options = Options {
        complaints,
        seed: 7,
        years: 1,
        now: ts(START),
    };
    redress::seed::seed(&store, &options, |_| {})
        .await
        .expect("seeded");
    Some(store)
}

/// The filters a person can ask for, with a predicate saying what each means, and whether it
/// is a search (which sorts what it finds instead of walking a queue index).
type Case = (String, ComplaintFilter, Box<dyn Fn(&Scanned) -> bool>, bool);

fn cases(all: &[Scanned], procedure: &Procedure) -> Vec<Case> {
    let mut cases: Vec<Case> = vec![(
        "everything".into(),
        ComplaintFilter::default(),
        Box::new(|_| true),
        false,
    )];
    for stage in 1..=5i64 {
        cases.push((
            format!("stage {stage}"),
            ComplaintFilter {
                stage: Some(stage),
                ..Default::default()
            },
            Box::new(move |s| s.stage == stage),
            false,
        ));
        for overdue in [true, false] {
            cases.push((
                format!("stage {stage}, overdue {overdue}"),
                ComplaintFilter {
                    stage: Some(stage),
                    overdue: Some(overdue),
                    ..Default::default()
                },
                Box::new(move |s| s.stage == stage && s.overdue == overdue),
                false,
            ));
        }
    }
    for status in [
        "open",
        "resolution_offered",
        "resolved",
        "deadlocked",
        "referred_to_adr",
        "closed",
    ] {
        cases.push((
            format!("status {status}"),
            ComplaintFilter {
                status: Some(status.into()),
                ..Default::default()
            },
            Box::new(move |s| s.status == status),
            false,
        ));
        cases.push((
            format!("stage 1, status {status}"),
            ComplaintFilter {
                stage: Some(1),
                status: Some(status.into()),
                ..Default::default()
            },
            Box::new(move |s| s.stage == 1 && s.status == status),
            false,
        ));
    }
    for department in procedure.departments.keys() {
        let d = department.clone();
        cases.push((
            format!("department {department}"),
            ComplaintFilter {
                department: Some(department.clone()),
                ..Default::default()
            },
            Box::new(move |s| s.department == d),
            false,
        ));
        let d = department.clone();
        cases.push((
            format!("department {department}, overdue"),
            ComplaintFilter {
                department: Some(department.clone()),
                overdue: Some(true),
                ..Default::default()
            },
            Box::new(move |s| s.department == d && s.overdue),
            false,
        ));
    }
    for overdue in [true, false] {
        cases.push((
            format!("overdue {overdue}"),
            ComplaintFilter {
                overdue: Some(overdue),
                ..Default::default()
            },
            Box::new(move |s| s.overdue == overdue),
            false,
        ));
    }
    // A customer's own complaints (the portal), and one by reference.
    let with_email = all.iter().find(|s| s.email.is_some()).expect("an email");
    let email = with_email.email.clone();
    let e = email.clone();
    cases.push((
        "a customer's email".into(),
        ComplaintFilter {
            customer_email: email.clone(),
            ..Default::default()
        },
        Box::new(move |s| s.email == e),
        false,
    ));
    let reference = all[all.len() / 2].reference.clone();
    let r = reference.clone();
    cases.push((
        "one reference".into(),
        ComplaintFilter {
            reference: Some(reference.clone()),
            ..Default::default()
        },
        Box::new(move |s| s.reference == r),
        false,
    ));

    // One person's cases, and the open complaints nobody holds (everywhere, and in one team).
    let held = all
        .iter()
        .find_map(|s| s.complaint.handler.clone())
        .expect("someone holds a complaint");
    let key = held.trim().to_lowercase();
    cases.push((
        "one person's cases".into(),
        ComplaintFilter {
            handler: Some(held.to_uppercase()),
            ..Default::default()
        },
        Box::new(move |s| s.handler.as_deref() == Some(key.as_str())),
        false,
    ));
    let open =
        |s: &Scanned| s.handler.is_none() && !matches!(s.status.as_str(), "resolved" | "closed");
    cases.push((
        "unassigned".into(),
        ComplaintFilter {
            unassigned: true,
            ..Default::default()
        },
        Box::new(open),
        false,
    ));
    cases.push((
        "unassigned in Customer Services".into(),
        ComplaintFilter {
            unassigned: true,
            department: Some("customer_services".into()),
            ..Default::default()
        },
        Box::new(move |s| open(s) && s.department == "customer_services"),
        false,
    ));

    // Searches, from a complaint's own details as a person would type them.
    let c = &all
        .iter()
        .find(|s| {
            s.complaint.customer.telephone.is_some()
                && s.complaint.customer.email.is_some()
                && s.complaint.customer.postcode.is_some()
        })
        .expect("a customer with every detail")
        .complaint;
    let surname = c
        .customer
        .name
        .split_whitespace()
        .last()
        .unwrap()
        .to_owned();
    let postcode = c.customer.postcode.as_ref().unwrap().as_str().to_owned();
    let outward = postcode.split(' ').next().unwrap().to_owned();
    let summary_word = c
        .summary
        .split_whitespace()
        .find(|w| w.len() > 5)
        .unwrap_or("broadband")
        .to_owned();
    let searches = vec![
        c.customer.account.clone(),
        c.customer.account.to_lowercase(),
        surname.to_uppercase(),
        c.customer.name.clone(),
        surname[..3].to_owned(),
        outward,
        postcode.clone(),
        c.customer.email.clone().unwrap(),
        summary_word,
        format!("{surname} {}", c.customer.account),
        c.reference.as_str()[9..].to_owned(),
        "nobody-at-all".to_owned(),
        // Every reference's first word: more matches than a sort is worth, so the queue is
        // walked instead (src/store/read.rs), which must find the same complaints.
        "cmp".to_owned(),
        "cmp 20".to_owned(),
    ];
    for q in searches {
        let q2 = q.clone();
        cases.push((
            format!("search {q:?}"),
            ComplaintFilter {
                q: Some(q.clone()),
                ..Default::default()
            },
            Box::new(move |s| matches(&s.search_text, &q2)),
            true,
        ));
    }
    // Combined with a filter.
    let s2 = surname.clone();
    cases.push((
        format!("stage 1, search {surname:?}"),
        ComplaintFilter {
            stage: Some(1),
            q: Some(surname.clone()),
            ..Default::default()
        },
        Box::new(move |s| s.stage == 1 && matches(&s.search_text, &s2)),
        true,
    ));
    // A telephone number in another spelling than the customer gave, a postcode without
    // its space, and a reference, each finds the complaint.
    let phone = c.customer.telephone.clone().unwrap();
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    let spelled = format!("+44 {}", &digits[1..]);
    let compact = postcode.replace(' ', "").to_lowercase();
    let whole_reference = c.reference.to_string();
    for q in [spelled, compact, whole_reference] {
        let (q2, digits) = (q.clone(), digits.clone());
        let wanted = c.reference.to_string();
        cases.push((
            format!("search {q:?} (another spelling)"),
            ComplaintFilter {
                q: Some(q.clone()),
                ..Default::default()
            },
            Box::new(move |s| {
                if q2.starts_with('+') {
                    matches(&s.search_text, &digits)
                } else if q2 == wanted {
                    s.reference == wanted
                } else {
                    matches(&s.search_text, &q2)
                }
            }),
            true,
        ));
    }
    cases
}

async fn every_list_returns_what_a_scan_returns(db: Db) {
    let dir = tempfile::tempdir().expect("a directory");
    let Some(store) = seeded(db, dir.path(), 1_600).await else {
        return;
    };
    let all = scan(&store).await;
    assert_eq!(all.len(), 1_600);
    let procedure = store.procedure().clone();
    let mut failures = Vec::new();
    let mut nonempty = 0;
    for (name, filter, wanted, _) in cases(&all, &procedure) {
        let expected: Vec<String> = all
            .iter()
            .filter(|s| wanted(s))
            .map(|s| s.reference.clone())
            .collect();
        nonempty += usize::from(!expected.is_empty());
        for limit in [7, 200] {
            let got = every_page(&store, &filter, limit).await;
            if got != expected {
                failures.push(format!(
                    "{name} (pages of {limit}): expected {} complaints {:?}..., got {} {:?}...",
                    expected.len(),
                    &expected[..expected.len().min(4)],
                    got.len(),
                    &got[..got.len().min(4)]
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(nonempty > 30, "the cases find something: {nonempty}");
    store.close().await;
}

async fn every_list_is_served_by_an_index(db: Db) {
    let dir = tempfile::tempdir().expect("a directory");
    let Some(store) = seeded(db, dir.path(), 300).await else {
        return;
    };
    let all = scan(&store).await;
    let procedure = store.procedure().clone();
    let middle = &all[all.len() / 2];
    let mut failures = Vec::new();
    for (name, filter, _, search) in cases(&all, &procedure) {
        for after in [None, Some((middle.key, middle.reference.clone()))] {
            let mut filter = filter.clone();
            filter.limit = 25;
            // One complaint by its reference is one entry of a unique index, page or not.
            let next_page = after.is_some() && filter.reference.is_none();
            filter.after = after;
            let plan = store.list_plan(&filter).await.expect("a plan");
            let text = plan.join("\n");
            let scans = match db {
                Db::Sqlite => plan.iter().any(|l| l.trim() == "SCAN complaints"),
                Db::Postgres => text.contains("Seq Scan on complaints"),
            };
            let sorts = match db {
                Db::Sqlite => text.contains("TEMP B-TREE FOR ORDER BY"),
                Db::Postgres => plan.iter().any(|l| l.trim_start().starts_with("Sort")),
            };
            // The next page starts in the index where the last one stopped, rather than
            // walking past what came before.
            let seeks = match db {
                Db::Sqlite => text.contains("SEARCH complaints USING INDEX") && text.contains(">"),
                Db::Postgres => text.contains("Index Cond") && text.contains("ROW("),
            };
            if scans || (sorts && !search) || (next_page && !search && !seeks) {
                failures.push(format!("{name} (next page {next_page}):\n{text}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    store.close().await;
}

async fn the_counts_are_the_complaints_own_numbers(db: Db) {
    let dir = tempfile::tempdir().expect("a directory");
    let Some(store) = seeded(db, dir.path(), 400).await else {
        return;
    };
    // Seeded in bulk: the kept counts agree with a count of the rows, before and after
    // folding, and folding leaves nothing to fold.
    assert_eq!(
        store.counts().await.unwrap(),
        store.counted().await.unwrap()
    );
    store.fold_counts().await.expect("fold");
    assert_eq!(
        store.counts().await.unwrap(),
        store.counted().await.unwrap()
    );
    assert_eq!(store.fold_counts().await.expect("fold"), 0);
    let report = store.verify_audit().await.expect("audit");
    assert!(report.problems.is_empty(), "{:?}", report.problems);

    // A change made behind the store's back (as a bad restore might) is found by the audit.
    sqlx::query("UPDATE complaint_counts SET n = n + 3 WHERE stage = 1 AND status = 'resolved'")
        .execute(store.pool())
        .await
        .expect("tamper");
    assert_ne!(
        store.counts().await.unwrap(),
        store.counted().await.unwrap()
    );
    let report = store.verify_audit().await.expect("audit");
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.problem.contains("counts kept for the dashboard")),
        "{:?}",
        report.problems
    );
    store.close().await;
}

async fn the_counts_follow_every_kind_of_write(db: Db) {
    let Some(app) = support::spawn_app(db).await else {
        return;
    };
    let token = app.handler_token("ann@example.com").await;
    let agree = |when: &'static str| {
        let store = app.store.clone();
        async move {
            let (kept, counted) = (
                store.counts().await.unwrap(),
                store.counted().await.unwrap(),
            );
            assert_eq!(kept, counted, "after {when}");
            kept
        }
    };
    let mut references = Vec::new();
    for n in 0..4 {
        let body = support::complaint_body(&format!("KX-{n}"), &format!("Customer {n}"));
        references.push(app.create_complaint(&token, body).await);
    }
    let kept = agree("intake").await;
    assert_eq!(kept.iter().map(|c| c.n).sum::<i64>(), 4);
    let (status, _) = app
        .command(
            &token,
            &references[0],
            "offer_resolution",
            serde_json::json!({"text": "A credit"}),
        )
        .await;
    assert_eq!(status, 200);
    for (name, body) in [
        (
            "offer_resolution",
            serde_json::json!({"text": "An engineer visit"}),
        ),
        ("request_escalation", serde_json::json!({})),
    ] {
        let (status, answer) = app.command(&token, &references[1], name, body).await;
        assert_eq!(status, 200, "{name}: {answer}");
    }
    agree("commands").await;
    // Eight weeks on, the clocks fire: overdue and ADR-eligible change by the scheduler.
    app.clock.set(ts("2026-05-01T09:00:00Z"));
    assert!(app.fire_deadlines().await > 0);
    let kept = agree("the scheduler").await;
    assert!(kept.iter().any(|c| c.adr_eligible), "{kept:?}");
    assert!(app.store.fold_counts().await.unwrap() > 0);
    let folded = agree("folding").await;
    assert_eq!(kept, folded);
    let per_stage = app.store.open_per_stage().await.unwrap();
    assert_eq!(per_stage, vec![(1, 3), (2, 1)]);
    app.stop().await;
}

both_backends! {
    the_counts_follow_every_kind_of_write => sqlite_the_counts_follow_every_kind_of_write, postgres_the_counts_follow_every_kind_of_write;
    every_list_returns_what_a_scan_returns => sqlite_every_list_returns_what_a_scan_returns, postgres_every_list_returns_what_a_scan_returns;
    every_list_is_served_by_an_index => sqlite_every_list_is_served_by_an_index, postgres_every_list_is_served_by_an_index;
    the_counts_are_the_complaints_own_numbers => sqlite_the_counts_are_the_complaints_own_numbers, postgres_the_counts_are_the_complaints_own_numbers;
}
