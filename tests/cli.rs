//! The command line as a user meets it: `redress simulate` on malformed and refused scenarios,
//! and `redress procedure check` on good and broken procedure files.
//!
//! A malformed scenario is an error (non-zero exit, a message naming the step index and the
//! field); a refused command is not (exit 0, a `refused` line with a `reason`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A fresh directory of its own under the system temp dir, for one test.
fn temp_dir(test: &str) -> PathBuf {
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let dir = std::env::temp_dir().join(format!(
        "redress-cli-test-{}-{nanos}-{n}-{test}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("create a temp dir");
    dir
}

fn write(dir: &Path, name: &str, contents: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("write a temp file");
    path
}

fn redress(args: &[&str], cwd: Option<&Path>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_redress"));
    command.args(args);
    if let Some(cwd) = cwd {
        command.current_dir(cwd);
    }
    command.output().expect("run the redress binary")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs `redress simulate` on a scenario written to a temp file.
fn simulate(test: &str, scenario: &str) -> Output {
    let dir = temp_dir(test);
    let path = write(&dir, "scenario.json", scenario);
    let output = redress(&["simulate", path.to_str().expect("UTF-8 path")], None);
    let _ = std::fs::remove_dir_all(&dir);
    output
}

/// Asserts a scenario is refused as malformed, with every fragment in the message; returns it.
fn assert_malformed(test: &str, scenario: &str, fragments: &[&str]) -> String {
    let output = simulate(test, scenario);
    let stderr = text(&output.stderr);
    assert!(
        !output.status.success(),
        "a malformed scenario must exit non-zero; stdout:\n{}\nstderr:\n{stderr}",
        text(&output.stdout)
    );
    for fragment in fragments {
        assert!(
            stderr.contains(fragment),
            "the error should mention {fragment:?}; it was:\n{stderr}"
        );
    }
    stderr
}

const RECEIVE: &str = r#"{"at": "2026-03-02T09:15:00Z", "complaint": "broadband", "command": "receive",
    "channel": "telephone",
    "customer": {"account": "KX-100234", "name": "Ann Example", "postcode": "M22 4SY"},
    "summary": "Broadband has dropped every evening for two weeks."}"#;

/// A scenario of the `receive` step followed by `second`.
fn with_second_step(second: &str) -> String {
    format!(
        r#"{{"procedure": "default", "until": "2026-04-01T00:00:00Z", "steps": [{RECEIVE}, {second}]}}"#
    )
}

// ---------------------------------------------------------------------------------------------
// Malformed scenarios
// ---------------------------------------------------------------------------------------------

#[test]
fn bad_json_exits_non_zero_and_says_it_is_not_json() {
    let scenario = r#"{"procedure": "default", "until": "2026-04-01T00:00:00Z", "steps": [
        {"at": "2026-03-02T09:15:00Z", "complaint": "broadband", "command": "receive",,}
    ]}"#;
    let stderr = assert_malformed("bad-json", scenario, &["JSON"]);
    assert!(stderr.contains("line 2"), "{stderr}");
}

#[test]
fn an_unknown_command_names_the_step_and_the_command_field() {
    let scenario = with_second_step(
        r#"{"at": "2026-03-03T10:00:00Z", "complaint": "broadband", "command": "escalate_now"}"#,
    );
    let stderr = assert_malformed("unknown-command", &scenario, &["step 1", "command"]);
    assert!(stderr.contains("escalate_now"), "{stderr}");
    // It lists the commands that do exist.
    assert!(stderr.contains("request_escalation"), "{stderr}");
}

#[test]
fn a_missing_at_names_the_step_and_at() {
    let scenario = with_second_step(r#"{"complaint": "broadband", "command": "acknowledge"}"#);
    assert_malformed("missing-at", &scenario, &["step 1", "`at`", "missing"]);
}

#[test]
fn a_receive_without_a_summary_names_the_step_and_summary() {
    let scenario = r#"{"procedure": "default", "until": "2026-04-01T00:00:00Z", "steps": [
        {"at": "2026-03-02T09:15:00Z", "complaint": "broadband", "command": "receive",
         "channel": "telephone", "customer": {"account": "KX-100234", "name": "Ann Example"}}
    ]}"#;
    assert_malformed(
        "missing-summary",
        scenario,
        &["step 0", "summary", "missing"],
    );
}

#[test]
fn a_receive_without_a_customer_account_names_the_nested_field() {
    let scenario = r#"{"procedure": "default", "until": "2026-04-01T00:00:00Z", "steps": [
        {"at": "2026-03-02T09:15:00Z", "complaint": "broadband", "command": "receive",
         "channel": "email", "customer": {"name": "Ann Example"}, "summary": "No service."}
    ]}"#;
    assert_malformed("missing-account", scenario, &["step 0", "customer.account"]);
}

#[test]
fn an_unknown_channel_names_the_step_and_channel() {
    let scenario = r#"{"procedure": "default", "until": "2026-04-01T00:00:00Z", "steps": [
        {"at": "2026-03-02T09:15:00Z", "complaint": "broadband", "command": "receive",
         "channel": "carrier_pigeon", "customer": {"account": "KX-1", "name": "Ann Example"},
         "summary": "No service."}
    ]}"#;
    assert_malformed(
        "bad-channel",
        scenario,
        &["step 0", "channel", "carrier_pigeon"],
    );
}

#[test]
fn a_wrong_type_for_due_days_names_the_step_and_due_days() {
    let scenario = with_second_step(
        r#"{"at": "2026-03-03T10:00:00Z", "complaint": "broadband", "command": "request_evidence",
            "from": "customer", "due_days": "fourteen"}"#,
    );
    assert_malformed("due-days-type", &scenario, &["step 1", "due_days"]);
}

#[test]
fn a_missing_command_field_names_the_step_and_the_field() {
    let scenario = with_second_step(
        r#"{"at": "2026-03-03T10:00:00Z", "complaint": "broadband", "command": "request_evidence",
            "from": "customer"}"#,
    );
    assert_malformed(
        "missing-due-days",
        &scenario,
        &["step 1", "due_days", "missing"],
    );
}

#[test]
fn steps_out_of_time_order_name_the_step_and_at() {
    let scenario = with_second_step(
        r#"{"at": "2026-03-01T10:00:00Z", "complaint": "broadband", "command": "acknowledge"}"#,
    );
    assert_malformed("time-order", &scenario, &["step 1", "`at`"]);
}

#[test]
fn a_command_for_a_label_never_received_names_the_step_and_complaint() {
    let scenario = with_second_step(
        r#"{"at": "2026-03-03T10:00:00Z", "complaint": "landline", "command": "acknowledge"}"#,
    );
    let stderr = assert_malformed("unknown-label", &scenario, &["step 1", "complaint"]);
    assert!(stderr.contains("landline"), "{stderr}");
}

#[test]
fn an_until_before_the_last_step_names_until() {
    let scenario = r#"{"procedure": "default", "until": "2026-03-01T00:00:00Z", "steps": [
        {"at": "2026-03-02T09:15:00Z", "complaint": "broadband", "command": "receive",
         "channel": "telephone", "customer": {"account": "KX-1", "name": "Ann Example"},
         "summary": "No service."}
    ]}"#;
    assert_malformed("until-early", scenario, &["until"]);
}

#[test]
fn a_missing_scenario_file_exits_non_zero() {
    let dir = temp_dir("missing-file");
    let path = dir.join("no-such-scenario.json");
    let output = redress(&["simulate", path.to_str().unwrap()], None);
    assert!(!output.status.success());
    assert!(text(&output.stderr).contains("no-such-scenario.json"));
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------------------------------------
// Refused commands are output, not errors
// ---------------------------------------------------------------------------------------------

#[test]
fn a_refused_command_exits_zero_and_prints_a_refused_line_with_a_reason() {
    let scenario = with_second_step(
        r#"{"at": "2026-03-03T10:00:00Z", "complaint": "broadband", "command": "issue_deadlock_letter"}"#,
    );
    let output = simulate("refused", &scenario);
    assert!(
        output.status.success(),
        "a refused command is not an error: {}",
        text(&output.stderr)
    );
    let lines: Vec<Value> = text(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("every output line is JSON"))
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["event"], "received");
    let refused = &lines[1];
    assert_eq!(refused["at"], "2026-03-03T10:00:00Z");
    assert_eq!(refused["complaint"], "broadband");
    assert_eq!(refused["refused"], "issue_deadlock_letter");
    let reason = refused["reason"].as_str().expect("a reason");
    assert!(reason.contains("stage 3 or 4"), "{reason}");
    assert!(refused.get("event").is_none());
}

#[test]
fn a_relative_procedure_path_is_read_beside_the_scenario() {
    let dir = temp_dir("relative-procedure");
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    for name in ["six-week-adr.json", "procedure-six-weeks.toml"] {
        std::fs::copy(examples.join(name), dir.join(name)).expect("copy the example");
    }
    // Run from somewhere else entirely, so only "beside the scenario" can find the file.
    let elsewhere = temp_dir("relative-procedure-cwd");
    let scenario = dir.join("six-week-adr.json");
    let output = redress(&["simulate", scenario.to_str().unwrap()], Some(&elsewhere));
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("kinex-2027-1"));
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&elsewhere);
}

// ---------------------------------------------------------------------------------------------
// redress procedure check
// ---------------------------------------------------------------------------------------------

#[test]
fn procedure_check_default_exits_zero() {
    let output = redress(&["procedure", "check", "default"], None);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("valid"));
}

#[test]
fn procedure_check_accepts_the_six_week_example() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/procedure-six-weeks.toml");
    let output = redress(&["procedure", "check", path.to_str().unwrap()], None);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("2 rule versions"));
}

/// The 1-based line of the first line containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} is not in the file"))
        + 1
}

#[test]
fn a_broken_procedure_lists_every_problem_with_its_line_and_field() {
    let default =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/redress-core/procedure/default.toml");
    let default = std::fs::read_to_string(default).expect("the default procedure");
    let broken = default
        .replace(
            "department = \"escalation_team\"",
            "department = \"escalations\"",
        )
        .replace("telephone = \"0330 440 1614\"", "telephone = \"call us\"")
        .replace("deadlock_stages = [3, 4]", "deadlock_stages = [5]")
        .replace("formal_response_days = 28", "formal_response_days = 0")
        .replace("code = \"other\"", "code = \"Other Things\"");
    assert_ne!(broken, default);
    let dir = temp_dir("broken-procedure");
    let path = write(&dir, "broken.toml", &broken);
    let output = redress(&["procedure", "check", path.to_str().unwrap()], None);
    let _ = std::fs::remove_dir_all(&dir);
    let stderr = text(&output.stderr);
    assert!(
        !output.status.success(),
        "a broken procedure must fail: {stderr}"
    );

    let expected = [
        (
            "stages[1].department",
            line_of(&broken, "department = \"escalations\""),
        ),
        (
            "adr_scheme.telephone",
            line_of(&broken, "telephone = \"call us\""),
        ),
        (
            "rules[0].formal_response_days",
            line_of(&broken, "formal_response_days = 0"),
        ),
        (
            "rules[0].deadlock_stages",
            line_of(&broken, "deadlock_stages = [5]"),
        ),
        (
            "categories[6].code",
            line_of(&broken, "code = \"Other Things\""),
        ),
    ];
    for (path, line) in expected {
        let wanted = format!("line {line}: {path}");
        assert!(
            stderr.lines().any(|l| l.contains(&wanted)),
            "expected a problem `{wanted}`; the output was:\n{stderr}"
        );
    }
    // Every problem is on its own line with a line number and a field.
    let problems: Vec<&str> = stderr
        .lines()
        .filter(|l| l.trim_start().starts_with("line "))
        .collect();
    assert!(problems.len() >= expected.len(), "{stderr}");
}

#[test]
fn a_procedure_with_a_syntax_error_names_the_line() {
    let dir = temp_dir("syntax-procedure");
    let path = write(
        &dir,
        "syntax.toml",
        "version = \"x\"\n[organisation\nname = \"kinex\"\n",
    );
    let output = redress(&["procedure", "check", path.to_str().unwrap()], None);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("line 2"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn a_scenario_with_a_broken_procedure_file_is_refused() {
    let dir = temp_dir("scenario-broken-procedure");
    write(&dir, "broken.toml", "version = \"x\"\n");
    let scenario = format!(
        r#"{{"procedure": "broken.toml", "until": "2026-04-01T00:00:00Z", "steps": [{RECEIVE}]}}"#
    );
    let path = write(&dir, "scenario.json", &scenario);
    let output = redress(&["simulate", path.to_str().unwrap()], None);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("procedure"),
        "{}",
        text(&output.stderr)
    );
}
