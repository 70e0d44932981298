//! Golden tests for `redress simulate`.
//!
//! Every example scenario under `examples/` is run through the built binary and its output is
//! compared, line by line and as JSON values, with `tests/golden/<name>.jsonl`.
//!
//! `REDRESS_BLESS=1 cargo test --test golden` rewrites the expected files from the binary's
//! output. Check every changed line by hand against the clock rules in docs/compliance.md before keeping it: the
//! semantic tests further down recompute the clock and ladder rules independently, so a wrong
//! bless of a date or a deadline still fails here.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::process::Command;

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};
use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// Running the binary and comparing with the expected files
// ---------------------------------------------------------------------------------------------

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn scenario_path(name: &str) -> PathBuf {
    root().join("examples").join(format!("{name}.json"))
}

fn golden_path(name: &str) -> PathBuf {
    root()
        .join("tests")
        .join("golden")
        .join(format!("{name}.jsonl"))
}

fn blessing() -> bool {
    std::env::var("REDRESS_BLESS").is_ok_and(|v| v == "1")
}

/// Runs `redress simulate` on an example and returns its standard output.
fn simulate_raw(name: &str) -> String {
    let path = scenario_path(name);
    let output = Command::new(env!("CARGO_BIN_EXE_redress"))
        .arg("simulate")
        .arg(&path)
        .output()
        .unwrap_or_else(|e| panic!("cannot run redress simulate {}: {e}", path.display()));
    assert!(
        output.status.success(),
        "redress simulate {} failed ({}):\n{}",
        path.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("redress simulate prints UTF-8")
}

fn parse_lines(text: &str, what: &str) -> Vec<Value> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{what}, line {}: not JSON ({e}): {line}", i + 1))
        })
        .collect()
}

/// The output of an example, one JSON value per line.
fn simulate(name: &str) -> Vec<Value> {
    parse_lines(&simulate_raw(name), &format!("output of {name}"))
}

fn show(value: Option<&Value>) -> String {
    value.map_or_else(|| "(no line)".to_owned(), Value::to_string)
}

/// The keys whose values differ between two objects, for a readable failure.
fn differing_keys(expected: &Value, actual: &Value) -> String {
    let (Value::Object(e), Value::Object(a)) = (expected, actual) else {
        return String::new();
    };
    let keys: BTreeSet<&String> = e.keys().chain(a.keys()).collect();
    let mut out = String::new();
    for key in keys {
        let (ev, av) = (e.get(key), a.get(key));
        if ev != av {
            out.push_str(&format!(
                "\n    `{key}`: expected {}, actual {}",
                show(ev),
                show(av)
            ));
        }
    }
    out
}

/// Compares an example's output with its expected file (or rewrites the file when blessing).
fn check_golden(name: &str) {
    let actual_text = simulate_raw(name);
    let path = golden_path(name);
    if blessing() {
        std::fs::create_dir_all(path.parent().expect("golden directory"))
            .expect("create tests/golden");
        std::fs::write(&path, &actual_text)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        return;
    }
    let expected_text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {} ({e}); run `REDRESS_BLESS=1 cargo test --test golden` to create it",
            path.display()
        )
    });
    let expected = parse_lines(&expected_text, &path.display().to_string());
    let actual = parse_lines(&actual_text, &format!("output of {name}"));
    for i in 0..expected.len().max(actual.len()) {
        let (e, a) = (expected.get(i), actual.get(i));
        if e != a {
            let keys = match (e, a) {
                (Some(e), Some(a)) => differing_keys(e, a),
                _ => String::new(),
            };
            panic!(
                "{name}: line {} differs from {} ({} expected lines, {} actual)\n  expected: {}\n  actual:   {}{keys}\n\
                 If the new output is right by the clock rules (docs/compliance.md), rerun with REDRESS_BLESS=1.",
                i + 1,
                path.display(),
                expected.len(),
                actual.len(),
                show(e),
                show(a),
            );
        }
    }
}

macro_rules! golden_tests {
    ($($test:ident => $name:literal,)*) => {
        /// Every example with a golden file.
        const EXAMPLES: &[&str] = &[$($name),*];
        $(
            #[test]
            fn $test() {
                check_golden($name);
            }
        )*
    };
}

golden_tests! {
    golden_stage1_customer_services => "stage1-customer-services",
    golden_stage2_escalation_team => "stage2-escalation-team",
    golden_stage3_customer_resolution => "stage3-customer-resolution",
    golden_stage3_response_overdue => "stage3-response-overdue",
    golden_stage4_manager_review => "stage4-manager-review",
    golden_stage5_ombudsman_after_8_weeks => "stage5-ombudsman-after-8-weeks",
    golden_stage5_deadlock_letter => "stage5-deadlock-letter",
    golden_late_letter => "late-letter",
    golden_refusals => "refusals",
    golden_reopened_after_8_weeks => "reopened-after-8-weeks",
    golden_six_week_adr => "six-week-adr",
}

#[test]
fn every_example_scenario_has_a_golden_test_and_file() {
    let on_disk: BTreeSet<String> = std::fs::read_dir(root().join("examples"))
        .expect("examples/ exists")
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".json").map(str::to_owned)
        })
        .collect();
    let listed: BTreeSet<String> = EXAMPLES.iter().map(|s| (*s).to_owned()).collect();
    assert_eq!(
        on_disk, listed,
        "every examples/*.json must be listed in tests/golden.rs (and nothing else)"
    );
    if !blessing() {
        for name in EXAMPLES {
            assert!(
                golden_path(name).is_file(),
                "{} is missing; run with REDRESS_BLESS=1 to create it",
                golden_path(name).display()
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers for the semantic checks: the clock rules, recomputed here
// ---------------------------------------------------------------------------------------------

fn london() -> TimeZone {
    TimeZone::get("Europe/London").expect("the bundled tz database has Europe/London")
}

fn instant(value: &Value) -> Timestamp {
    value
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an RFC 3339 instant: {value}"))
}

fn date(value: &Value) -> Date {
    value
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not a date: {value}"))
}

fn london_date(at: Timestamp) -> Date {
    london().to_datetime(at).date()
}

fn plus_days(d: Date, days: i64) -> Date {
    d.checked_add(Span::new().days(days))
        .expect("date in range")
}

fn plus_months(d: Date, months: i64) -> Date {
    d.checked_add(Span::new().months(months))
        .expect("date in range")
}

/// 00:00 London on a date.
fn london_midnight(d: Date) -> Timestamp {
    london()
        .to_timestamp(d.at(0, 0, 0, 0))
        .expect("midnight exists in London")
}

fn is_london_midnight(at: Timestamp) -> bool {
    london().to_datetime(at).time() == Time::midnight()
}

fn ts(s: &str) -> Timestamp {
    s.parse().expect("test instant")
}

/// The `until` of an example scenario.
fn until(name: &str) -> Timestamp {
    let text = std::fs::read_to_string(scenario_path(name)).expect("example scenario");
    let scenario: Value = serde_json::from_str(&text).expect("example scenario is JSON");
    instant(&scenario["until"])
}

fn str_of<'a>(line: &'a Value, key: &str) -> &'a str {
    line.get(key)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("line has no string `{key}`: {line}"))
}

fn is_event(line: &Value, complaint: &str, event: &str) -> bool {
    line.get("complaint").and_then(Value::as_str) == Some(complaint)
        && line.get("event").and_then(Value::as_str) == Some(event)
}

fn events<'a>(lines: &'a [Value], complaint: &str, event: &str) -> Vec<&'a Value> {
    lines
        .iter()
        .filter(|l| is_event(l, complaint, event))
        .collect()
}

/// The one line of an event for a complaint (fails if there is none or more than one).
fn one<'a>(lines: &'a [Value], complaint: &str, event: &str) -> &'a Value {
    let found = events(lines, complaint, event);
    assert_eq!(
        found.len(),
        1,
        "expected exactly one `{event}` for `{complaint}`, found {}: {found:?}",
        found.len()
    );
    found[0]
}

fn none(lines: &[Value], complaint: &str, event: &str) {
    let found = events(lines, complaint, event);
    assert!(
        found.is_empty(),
        "expected no `{event}` for `{complaint}`, found {found:?}"
    );
}

fn refusals<'a>(lines: &'a [Value], complaint: &str) -> Vec<&'a Value> {
    lines
        .iter()
        .filter(|l| {
            l.get("complaint").and_then(Value::as_str) == Some(complaint)
                && l.get("refused").is_some()
        })
        .collect()
}

fn is_system(line: &Value) -> bool {
    line.pointer("/by/role").and_then(Value::as_str) == Some("system")
}

fn rule(received: &Value, key: &str) -> i64 {
    received
        .pointer(&format!("/rules/{key}"))
        .and_then(Value::as_i64)
        .unwrap_or_else(|| panic!("received line has no rules.{key}: {received}"))
}

/// Rules that hold for every line of every example, recomputed from the clock rules (docs/compliance.md).
fn check_invariants(name: &str, lines: &[Value]) {
    let mut previous_at: Option<Timestamp> = None;
    // Per complaint: its received line, last stage, and the dates and instants seen so far.
    let mut received: HashMap<String, Value> = HashMap::new();
    let mut stage: HashMap<String, u64> = HashMap::new();
    let mut response_due_by: HashMap<String, Date> = HashMap::new();
    let mut evidence_due_by: HashMap<(String, u64), Date> = HashMap::new();
    let mut remedy_due_by: HashMap<String, Date> = HashMap::new();
    let mut deadlocked: HashMap<String, bool> = HashMap::new();
    let mut status: HashMap<String, String> = HashMap::new();

    for (i, line) in lines.iter().enumerate() {
        let here = format!("{name} line {}: {line}", i + 1);
        let at = instant(line.get("at").unwrap_or_else(|| panic!("no `at`: {here}")));
        if let Some(p) = previous_at {
            assert!(p <= at, "lines are not in time order: {here}");
        }
        previous_at = Some(at);
        let complaint = str_of(line, "complaint").to_owned();

        if let Some(refused) = line.get("refused") {
            assert!(refused.is_string(), "`refused` names the command: {here}");
            assert!(
                !str_of(line, "reason").trim().is_empty(),
                "a refusal says why: {here}"
            );
            assert!(line.get("event").is_none(), "{here}");
            continue;
        }

        let event = str_of(line, "event");
        let line_stage = line
            .get("stage")
            .and_then(Value::as_u64)
            .unwrap_or_else(|| panic!("no stage: {here}"));
        assert!((1..=5).contains(&line_stage), "{here}");
        let line_status = str_of(line, "status").to_owned();

        if event == "received" {
            assert!(!received.contains_key(&complaint), "received twice: {here}");
            assert_eq!(line_stage, 1, "a complaint starts at stage 1: {here}");
            received.insert(complaint.clone(), line.clone());
        }
        let first = received
            .get(&complaint)
            .unwrap_or_else(|| panic!("an event before `received`: {here}"))
            .clone();
        let before_status = status.get(&complaint).cloned();

        // A complaint only moves up.
        let last = stage.entry(complaint.clone()).or_insert(1);
        assert!(line_stage >= *last, "the stage went down: {here}");
        *last = line_stage;

        // Deadlines never fire on a resolved or closed complaint.
        if is_system(line) {
            assert!(
                !matches!(before_status.as_deref(), Some("resolved" | "closed")),
                "a deadline fired on a {before_status:?} complaint: {here}"
            );
        }

        match event {
            "transferred" => {
                let due = date(&line["response_due_by"]);
                assert_eq!(
                    due,
                    plus_days(london_date(at), rule(&first, "formal_response_days")),
                    "the formal response is due by London date(transfer) + 28: {here}"
                );
                response_due_by.insert(complaint.clone(), due);
            }
            "response_overdue" => {
                let due_by = response_due_by[&complaint];
                let due_at = instant(&line["due_at"]);
                assert_eq!(
                    due_at,
                    london_midnight(plus_days(due_by, 1)),
                    "response_overdue is due at 00:00 London the day after {due_by}: {here}"
                );
                assert!(at >= due_at, "fired before it was due: {here}");
            }
            "evidence_requested" => {
                let request = line["request"].as_u64().expect("request number");
                evidence_due_by.insert((complaint.clone(), request), date(&line["due_by"]));
            }
            "evidence_overdue" => {
                let request = line["request"].as_u64().expect("request number");
                let due_by = evidence_due_by[&(complaint.clone(), request)];
                let due_at = instant(&line["due_at"]);
                assert_eq!(due_at, london_midnight(plus_days(due_by, 1)), "{here}");
                assert!(at >= due_at, "{here}");
            }
            "deadlock_issued" => {
                deadlocked.insert(complaint.clone(), true);
            }
            "adr_eligible" => match str_of(line, "because") {
                "period_passed" => {
                    let received_at = instant(&first["received_at"]);
                    let weeks = rule(&first, "adr_after_weeks");
                    let due_at = instant(&line["due_at"]);
                    assert_eq!(
                        due_at,
                        london_midnight(plus_days(london_date(received_at), weeks * 7)),
                        "the ADR point is 00:00 London on date(received) + {}: {here}",
                        weeks * 7
                    );
                    assert!(is_london_midnight(due_at), "{here}");
                    assert!(at >= due_at, "{here}");
                    assert!(
                        !deadlocked.get(&complaint).copied().unwrap_or(false),
                        "no 8-week notice follows a deadlock letter: {here}"
                    );
                    let next = lines.get(i + 1).expect("adr_notice_sent follows");
                    assert!(
                        is_event(next, &complaint, "adr_notice_sent")
                            && next["at"] == line["at"]
                            && next["due_at"] == line["due_at"],
                        "adr_notice_sent follows adr_eligible at once: {here}"
                    );
                }
                "deadlock_letter" => {
                    let previous = &lines[i - 1];
                    assert!(
                        is_event(previous, &complaint, "deadlock_issued")
                            && previous["at"] == line["at"]
                            && line["due_at"] == line["at"],
                        "a deadlock letter makes the complaint ADR-eligible at once: {here}"
                    );
                }
                other => panic!("unknown ADR reason {other}: {here}"),
            },
            "adr_notice_sent" => {
                assert_eq!(
                    date(&line["referral_window_ends"]),
                    plus_months(london_date(at), rule(&first, "adr_referral_window_months")),
                    "the referral window is 12 months from the London date of the notice: {here}"
                );
            }
            "referred_to_ombudsman" => {
                assert_eq!(line_stage, 5, "{here}");
                let eligible = lines[..i]
                    .iter()
                    .any(|l| is_event(l, &complaint, "adr_eligible"));
                assert!(
                    eligible,
                    "referred before the complaint was ADR-eligible: {here}"
                );
            }
            "ombudsman_decided" => {
                let owed = line["customer_accepted"] == Value::Bool(true)
                    && line["outcome"] != "not_upheld";
                if owed {
                    let due = date(&line["remedy_due_by"]);
                    assert_eq!(
                        due,
                        plus_days(london_date(at), rule(&first, "remedy_days")),
                        "{here}"
                    );
                    remedy_due_by.insert(complaint.clone(), due);
                } else {
                    assert!(line.get("remedy_due_by").is_none(), "{here}");
                }
            }
            "remedy_overdue" => {
                let due_at = instant(&line["due_at"]);
                assert_eq!(
                    due_at,
                    london_midnight(plus_days(remedy_due_by[&complaint], 1)),
                    "{here}"
                );
                assert!(at >= due_at, "{here}");
            }
            _ => {}
        }
        status.insert(complaint.clone(), line_status);
    }

    // adr_eligible and adr_notice_sent each happen at most once per complaint.
    for complaint in received.keys() {
        for event in [
            "adr_eligible",
            "adr_notice_sent",
            "response_overdue",
            "remedy_overdue",
        ] {
            assert!(
                events(lines, complaint, event).len() <= 1,
                "{name}: `{event}` happened more than once for `{complaint}`"
            );
        }
    }
}

#[test]
fn every_example_keeps_the_clock_and_ladder_rules() {
    for name in EXAMPLES {
        check_invariants(name, &simulate(name));
    }
}

#[test]
fn the_invariant_checker_catches_a_wrong_deadline() {
    // Guard the guard: a response_overdue moved to midnight UTC (an hour late in summer) fails.
    let mut lines = simulate("stage3-response-overdue");
    let line = lines
        .iter_mut()
        .find(|l| is_event(l, "router-charge", "response_overdue"))
        .expect("the overdue line");
    line["due_at"] = Value::from("2026-04-08T00:00:00Z");
    line["at"] = Value::from("2026-04-08T00:00:00Z");
    let caught = std::panic::catch_unwind(|| check_invariants("tampered", &lines));
    assert!(
        caught.is_err(),
        "a deadline at 00:00 UTC in summer must be caught"
    );
}

// ---------------------------------------------------------------------------------------------
// What each example demonstrates, asserted directly
// ---------------------------------------------------------------------------------------------

#[test]
fn stage1_customer_services_resolves_without_any_clock_firing() {
    let lines = simulate("stage1-customer-services");
    assert!(lines.iter().all(|l| !is_system(l)), "{lines:?}");
    let closed = one(&lines, "broadband", "closed");
    assert_eq!(closed["stage"], 1);
    assert_eq!(closed["status"], "closed");
}

#[test]
fn stage2_escalation_team_resolves_after_a_rejected_offer() {
    let lines = simulate("stage2-escalation-team");
    let c = "crackly-line";
    let rejected = one(&lines, c, "resolution_rejected");
    let escalated = one(&lines, c, "escalated");
    assert!(instant(&rejected["at"]) < instant(&escalated["at"]));
    assert_eq!(escalated["from_stage"], 1);
    assert_eq!(escalated["to_stage"], 2);
    assert_eq!(escalated["stage"], 2);
    // The Escalation Team (stage 2) makes the offer the customer accepts.
    let offers = events(&lines, c, "resolution_offered");
    assert_eq!(offers.len(), 2);
    assert_eq!(offers[1]["offered_at_stage"], 2);
    assert_eq!(
        offers[1].pointer("/by/department").unwrap(),
        "escalation_team"
    );
    let accepted = one(&lines, c, "resolution_accepted");
    assert_eq!(accepted["stage"], 2);
    assert_eq!(accepted["status"], "resolved");
    assert_eq!(one(&lines, c, "closed")["stage"], 2);
    // Resolved inside 8 weeks: no ADR notice (due 00:00 BST 11 May), no clock fired at all.
    assert!(until("stage2-escalation-team") > ts("2026-05-10T23:00:00Z"));
    assert!(lines.iter().all(|l| !is_system(l)), "{lines:?}");
    assert!(refusals(&lines, c).is_empty());
}

#[test]
fn stage3_customer_resolution_investigates_and_responds_within_28_days() {
    let lines = simulate("stage3-customer-resolution");
    let c = "fibre-install";
    let transferred = one(&lines, c, "transferred");
    assert_eq!(transferred["at"], "2026-10-09T13:30:00Z");
    assert_eq!(transferred["to_department"], "customer_resolution");
    assert_eq!(transferred["response_due_by"], "2026-11-06");
    let requests = events(&lines, c, "evidence_requested");
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0]["from"], "customer");
    assert_eq!(requests[0]["due_by"], "2026-10-26");
    assert_eq!(requests[1]["from"], "third_party");
    assert_eq!(requests[1]["due_by"], "2026-11-02");
    let received: Vec<&Value> = events(&lines, c, "evidence_received");
    assert_eq!(received.len(), 2);
    assert_eq!(received[0]["request"], 1);
    assert_eq!(received[1]["request"], 2);
    one(&lines, c, "course_of_events_recorded");
    let fault = one(&lines, c, "fault_established");
    let offered = one(&lines, c, "compensation_offered");
    assert!(instant(&fault["at"]) < instant(&offered["at"]));
    assert_eq!(offered["amount_pence"], 9000);
    assert_eq!(offered["approved"], true, "£90 is within a handler's limit");
    assert_eq!(
        one(&lines, c, "compensation_accepted")["amount_pence"],
        9000
    );
    let response = one(&lines, c, "formal_response_issued");
    assert!(london_date(instant(&response["at"])) <= date(&transferred["response_due_by"]));
    // Responded in time and closed before 8 weeks (00:00 GMT 9 November): no clock fired.
    assert!(until("stage3-customer-resolution") > ts("2026-11-09T00:00:00Z"));
    // The system's only step: acknowledging the emailed complaint as it arrived.
    let acknowledged = one(&lines, c, "acknowledged");
    assert!(is_system(acknowledged), "{acknowledged}");
    assert_eq!(acknowledged["at"], "2026-09-14T08:20:00Z");
    assert!(
        lines
            .iter()
            .filter(|l| is_system(l))
            .all(|l| l["event"] == "acknowledged"),
        "{lines:?}"
    );
}

#[test]
fn stage3_response_overdue_fires_at_midnight_london_on_day_29() {
    let lines = simulate("stage3-response-overdue");

    // Transferred on 10 March: due by the end of 7 April, overdue at 00:00 BST on 8 April.
    let spring = "router-charge";
    assert_eq!(
        one(&lines, spring, "transferred")["response_due_by"],
        "2026-04-07"
    );
    let overdue = one(&lines, spring, "response_overdue");
    assert_eq!(overdue["at"], "2026-04-07T23:00:00Z");
    assert_eq!(overdue["due_at"], "2026-04-07T23:00:00Z");
    assert_eq!(overdue["stage"], 3);
    assert_eq!(overdue.pointer("/by/role").unwrap(), "system");
    // The evidence was due by 25 March: overdue at 00:00 GMT on the 26th, before the change.
    let evidence = one(&lines, spring, "evidence_overdue");
    assert_eq!(evidence["at"], "2026-03-26T00:00:00Z");
    assert_eq!(evidence["request"], 1);
    // The late response and acceptance stop the 8-week clock (due 00:00 BST 20 April).
    assert!(
        instant(&one(&lines, spring, "resolution_accepted")["at"]) < ts("2026-04-19T23:00:00Z")
    );
    none(&lines, spring, "adr_eligible");
    none(&lines, spring, "adr_notice_sent");

    // Transferred at 23:30 UTC on 20 October, which is 21 October in London (BST):
    // due by the end of 18 November, overdue at 00:00 GMT on 19 November.
    let autumn = "slow-speeds";
    assert_eq!(
        one(&lines, autumn, "transferred")["response_due_by"],
        "2026-11-18"
    );
    let overdue = one(&lines, autumn, "response_overdue");
    assert_eq!(overdue["at"], "2026-11-19T00:00:00Z");
    assert_eq!(overdue["due_at"], "2026-11-19T00:00:00Z");
    none(&lines, autumn, "formal_response_issued");
}

#[test]
fn stage4_manager_review_follows_the_formal_response_and_deadlocks() {
    let lines = simulate("stage4-manager-review");
    let c = "mis-sold-fibre";
    let response = one(&lines, c, "formal_response_issued");
    assert_eq!(response["stage"], 3);
    let review = one(&lines, c, "manager_review_requested");
    assert!(instant(&response["at"]) < instant(&review["at"]));
    assert_eq!(review["from_stage"], 3);
    assert_eq!(review["to_stage"], 4);
    assert_eq!(review.pointer("/by/role").unwrap(), "customer");
    // £150 is above a handler's £100 limit: offered unapproved, then approved by the manager.
    let offered = one(&lines, c, "compensation_offered");
    assert_eq!(offered["approved"], false);
    let approved = one(&lines, c, "compensation_approved");
    assert_eq!(
        approved.pointer("/by/role").unwrap(),
        "customer_resolution_manager"
    );
    let deadlock = one(&lines, c, "deadlock_issued");
    assert_eq!(deadlock["stage"], 4);
    assert_eq!(deadlock["status"], "deadlocked");
    let eligible = one(&lines, c, "adr_eligible");
    assert_eq!(eligible["because"], "deadlock_letter");
    assert_eq!(eligible["at"], deadlock["at"]);
    // The 8-week point (00:00 BST 6 July) passes inside the scenario, but no notice follows.
    assert!(until("stage4-manager-review") > ts("2026-07-05T23:00:00Z"));
    none(&lines, c, "adr_notice_sent");
    none(&lines, c, "response_overdue");
}

#[test]
fn stage5_ombudsman_after_8_weeks_sends_the_notice_then_the_remedy_is_done() {
    let lines = simulate("stage5-ombudsman-after-8-weeks");
    let c = "billed-after-switch";
    // Received 3 August: 8 weeks pass at 00:00 BST on 28 September.
    let eligible = one(&lines, c, "adr_eligible");
    assert_eq!(eligible["because"], "period_passed");
    assert_eq!(eligible["at"], "2026-09-27T23:00:00Z");
    assert_eq!(eligible["due_at"], "2026-09-27T23:00:00Z");
    let notice = one(&lines, c, "adr_notice_sent");
    assert_eq!(notice["at"], "2026-09-27T23:00:00Z");
    assert_eq!(notice["referral_window_ends"], "2027-09-28");
    let referred = one(&lines, c, "referred_to_ombudsman");
    assert_eq!(referred["from_stage"], 3);
    assert_eq!(referred["stage"], 5);
    assert_eq!(referred["status"], "referred_to_adr");
    // The formal response clock (due by 12 October) stops once the ombudsman has the complaint.
    none(&lines, c, "response_overdue");
    let decided = one(&lines, c, "ombudsman_decided");
    assert_eq!(decided["outcome"], "partly_upheld");
    assert_eq!(decided["customer_accepted"], true);
    assert_eq!(decided["remedy_due_by"], "2027-01-12");
    let completed = one(&lines, c, "remedy_completed");
    assert!(london_date(instant(&completed["at"])) <= date(&decided["remedy_due_by"]));
    none(&lines, c, "remedy_overdue");
    let last = lines.last().unwrap();
    assert!(is_event(last, c, "closed"));
    assert_eq!(last["stage"], 5);
}

#[test]
fn stage5_deadlock_letter_allows_referral_at_once() {
    let lines = simulate("stage5-deadlock-letter");
    let c = "roaming-bill";
    let deadlock = one(&lines, c, "deadlock_issued");
    assert_eq!(deadlock["stage"], 3);
    let eligible = one(&lines, c, "adr_eligible");
    assert_eq!(eligible["because"], "deadlock_letter");
    assert_eq!(eligible["at"], deadlock["at"]);
    let referred = one(&lines, c, "referred_to_ombudsman");
    assert_eq!(referred["from_stage"], 3);
    // Referred the same day, a month before 8 weeks would have passed (00:00 GMT 9 March).
    assert_eq!(
        london_date(instant(&referred["at"])),
        london_date(instant(&deadlock["at"]))
    );
    assert!(instant(&referred["at"]) < ts("2026-03-09T00:00:00Z"));
    // The deadlock letter is the ADR letter: no 8-week notice ever follows.
    assert!(until("stage5-deadlock-letter") > ts("2026-03-09T00:00:00Z"));
    none(&lines, c, "adr_notice_sent");
    assert!(refusals(&lines, c).is_empty());
    let decided = one(&lines, c, "ombudsman_decided");
    assert!(decided.get("remedy_due_by").is_none());
    assert!(is_event(lines.last().unwrap(), c, "closed"));
}

#[test]
fn a_late_letter_gets_every_passed_deadline_at_once() {
    let lines = simulate("late-letter");
    // Received 2 March, entered 1 May: 8 weeks passed at 00:00 BST on 27 April.
    let c = "misfiled-letter";
    let received = one(&lines, c, "received");
    assert_eq!(received["received_at"], "2026-03-02T08:00:00Z");
    let eligible = one(&lines, c, "adr_eligible");
    let notice = one(&lines, c, "adr_notice_sent");
    for line in [eligible, notice] {
        assert_eq!(
            line["at"], received["at"],
            "fires when the letter is entered"
        );
        assert_eq!(line["due_at"], "2026-04-26T23:00:00Z");
    }
    assert_eq!(notice["referral_window_ends"], "2027-05-01");
    // The customer can go to the ombudsman straight away.
    assert!(refusals(&lines, c).is_empty());
    one(&lines, c, "referred_to_ombudsman");

    // A letter entered five days late fires at its own due instant, not on entry.
    let recent = one(&lines, "recent-letter", "adr_notice_sent");
    assert_eq!(recent["at"], "2026-06-18T23:00:00Z");
    assert_eq!(recent["due_at"], "2026-06-18T23:00:00Z");
}

#[test]
fn refusals_are_lines_with_reasons_not_errors() {
    let lines = simulate("refusals");
    let c = "rude-engineer";
    let refused: Vec<(&str, &str)> = refusals(&lines, c)
        .iter()
        .map(|l| (str_of(l, "refused"), str_of(l, "reason")))
        .collect();
    let commands: Vec<&str> = refused.iter().map(|(command, _)| *command).collect();
    assert_eq!(
        commands,
        [
            "request_escalation",
            "offer_compensation",
            "add_note",
            "offer_resolution",
            "accept_resolution",
            "issue_deadlock_letter",
            "issue_formal_response",
            "refer_to_ombudsman",
        ]
    );
    let reason = |command: &str| {
        refused
            .iter()
            .find(|(c, _)| *c == command)
            .map(|(_, r)| r.to_lowercase())
            .unwrap()
    };
    assert!(reason("request_escalation").contains("offer"));
    assert!(reason("offer_compensation").contains("fault"));
    assert!(reason("issue_deadlock_letter").contains("stage 3 or 4"));
    assert!(reason("refer_to_ombudsman").contains("8 weeks"));
    assert!(reason("refer_to_ombudsman").contains("2026-07-27"));
    assert!(reason("add_note").contains("concerned"));
    // Nothing refused changed the complaint: it reached stage 2 only through the real escalation.
    let escalated = one(&lines, c, "escalated");
    assert_eq!(escalated["at"], "2026-06-05T08:00:00Z");
    assert!(lines.iter().all(|l| l["stage"] != 3));
    none(&lines, c, "deadlock_issued");
    none(&lines, c, "compensation_offered");
    none(&lines, c, "referred_to_ombudsman");
}

#[test]
fn reopening_after_8_weeks_sends_the_notice_once_at_the_reopening() {
    let lines = simulate("reopened-after-8-weeks");
    let c = "wifi-drops";
    let reopened = events(&lines, c, "reopened");
    assert_eq!(reopened.len(), 2);
    let eligible = one(&lines, c, "adr_eligible");
    let notice = one(&lines, c, "adr_notice_sent");
    // Received 7 September (BST): 8 weeks passed at 00:00 GMT on 2 November, while resolved.
    for line in [eligible, notice] {
        assert_eq!(line["at"], reopened[0]["at"]);
        assert_eq!(line["due_at"], "2026-11-02T00:00:00Z");
    }
    assert_eq!(notice["referral_window_ends"], "2027-11-16");
}

#[test]
fn six_week_adr_applies_the_rules_in_force_on_the_london_date_received() {
    let lines = simulate("six-week-adr");
    let weeks = |c: &str| one(&lines, c, "received")["rules"]["adr_after_weeks"].clone();
    assert_eq!(weeks("before-change"), 8);
    // 23:30 UTC on 31 March 2027 is 00:30 BST on 1 April: the new rules apply.
    assert_eq!(weeks("london-midnight"), 6);
    assert_eq!(weeks("after-change"), 6);
    let notice_at = |c: &str| one(&lines, c, "adr_notice_sent")["at"].clone();
    assert_eq!(notice_at("london-midnight"), "2027-05-12T23:00:00Z");
    assert_eq!(notice_at("after-change"), "2027-05-17T23:00:00Z");
    assert_eq!(notice_at("before-change"), "2027-05-25T23:00:00Z");
    // After 6 but before 8 weeks, only the complaint under the new rules may be referred.
    let refused = refusals(&lines, "before-change");
    assert_eq!(refused.len(), 1);
    assert!(str_of(refused[0], "reason").contains("2027-05-26"));
    one(&lines, "after-change", "referred_to_ombudsman");
    for c in ["before-change", "london-midnight", "after-change"] {
        assert_eq!(
            one(&lines, c, "received")["procedure_version"],
            "kinex-2027-1"
        );
    }
}
