//! The command line as a user meets it: `redress simulate` on malformed and refused scenarios,
//! `redress procedure check` on good and broken procedure files, and `redress keys create`,
//! `redress audit anchor` and `redress audit verify --anchor` on a real SQLite database.
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
    // Only what a test gives: never a key or a database from the environment it runs in.
    for name in [
        "REDRESS_SIGNING_KEY",
        "REDRESS_SIGNING_KEY_FILE",
        "REDRESS_PUBLIC_KEY",
        "REDRESS_DATABASE_URL",
    ] {
        command.env_remove(name);
    }
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
fn procedure_check_warns_where_the_procedure_differs_from_the_rules_in_force() {
    // The seed as published: the 8-week ADR point past 8 April 2026, the scheme's old name,
    // General Conditions 22 and 23. Warnings, each with its source; the check still passes.
    let output = redress(&["procedure", "check", "default"], None);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let out = text(&output.stdout);
    for words in [
        "warning: from 2026-04-08 Ofcom requires the ADR letter at 6 weeks; rules version 1 of this procedure (in force from 2018-10-01) says 8 weeks",
        "now trades as the Communications Ombudsman",
        "General Conditions 22 and 23, now C7 and C8",
        "(source: Ofcom, Review of ADR in the telecoms sector",
    ] {
        assert!(out.contains(words), "{words}: {out}");
    }
    // The 2026 example brings it up to date: no warning at all.
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/procedure-kinex-2026.toml");
    let output = redress(
        &["procedure", "check", example.to_str().expect("a path")],
        None,
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let out = text(&output.stdout);
    assert!(out.contains("valid procedure 'kinex-2026-2'"), "{out}");
    assert!(!out.contains("warning"), "{out}");
}

#[test]
fn compensation_quote_prints_the_amount_and_how_it_was_worked_out() {
    let quote = |args: &[&str]| {
        let mut all = vec!["compensation", "quote"];
        all.extend_from_slice(args);
        redress(&all, None)
    };
    // Reported on the May bank holiday 2026: Tuesday and Wednesday are the two full working
    // days; restored on Saturday: Thursday, Friday and Saturday at £10.34.
    let output = quote(&[
        "--kind",
        "delayed_repair",
        "--reported",
        "2026-05-04T09:00:00Z",
        "--restored",
        "2026-05-09T14:00:00Z",
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let out = text(&output.stdout);
    assert!(out.starts_with("Amount: £31.02\n"), "{out}");
    assert!(out.contains("Tue 5 May 2026 and Wed 6 May 2026"), "{out}");
    assert!(out.contains("not yet confirmed"), "{out}");
    // In Scotland 2 January is a holiday too (January 2026: the April 2024 rate, £9.76).
    let args = [
        "--kind",
        "delayed_repair",
        "--reported",
        "2025-12-31T12:00:00Z",
        "--restored",
        "2026-01-08T12:00:00Z",
    ];
    let england = text(&quote(&args).stdout);
    let mut scottish = args.to_vec();
    scottish.extend_from_slice(&["--nation", "scotland"]);
    let scotland = text(&quote(&scottish).stdout);
    assert!(england.starts_with("Amount: £29.28"), "{england}");
    assert!(scotland.starts_with("Amount: £19.52"), "{scotland}");
    let output = quote(&[
        "--kind",
        "missed_appointment",
        "--date",
        "2019-06-01",
        "--json",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(json["amount_pence"], 2500);
    assert_eq!(json["rates_confirmed"], true);
    let output = quote(&[
        "--kind",
        "delayed_provision",
        "--due",
        "2026-03-30",
        "--started",
        "2026-04-03",
    ]);
    assert!(
        text(&output.stdout).starts_with("Amount: £25.12"),
        "{}",
        text(&output.stdout)
    );
    // What is missing is said, and nothing is printed as an amount.
    let output = quote(&[
        "--kind",
        "delayed_repair",
        "--reported",
        "2026-05-04T09:00:00Z",
    ]);
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("delayed_repair needs --restored"),
        "{}",
        text(&output.stderr)
    );
    let output = quote(&["--kind", "flood", "--date", "2026-01-01"]);
    assert!(!output.status.success());
    assert!(text(&output.stderr).contains("not a kind of automatic compensation"));
    let output = quote(&[
        "--kind",
        "delayed_repair",
        "--reported",
        "2026-05-04T09:00:00Z",
        "--restored",
        "2026-05-09T14:00:00Z",
        "--nation",
        "wales",
    ]);
    assert!(!output.status.success());
}

#[test]
fn procedure_check_default_exits_zero() {
    let output = redress(&["procedure", "check", "default"], None);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("valid"));
}

#[test]
fn procedure_check_warns_when_a_department_takes_email_without_an_address() {
    // The seed says "emailing" without an address: a warning, not an error.
    let output = redress(&["procedure", "check", "default"], None);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let out = text(&output.stdout);
    assert!(
        out.contains("warning: departments.customer_services (Customer Services) takes complaints by email but gives no address"),
        "{out}"
    );
    // With an address given, no warning for that department.
    let default =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/redress-core/procedure/default.toml");
    let toml = std::fs::read_to_string(default)
        .expect("the default procedure")
        .replacen(
            "name = \"Customer Services\"\n",
            "name = \"Customer Services\"\nemail = \"complaints@kinex.example\"\n",
            1,
        );
    let dir = tempfile::tempdir().expect("a folder");
    let path = dir.path().join("with-email.toml");
    std::fs::write(&path, toml).expect("written");
    let output = redress(&["procedure", "check", path.to_str().unwrap()], None);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let out = text(&output.stdout);
    assert!(!out.contains("departments.customer_services "), "{out}");
    assert!(out.contains("departments.escalation_team"), "{out}");
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

// ---------------------------------------------------------------------------------------------
// redress keys create, audit anchor, audit verify
// ---------------------------------------------------------------------------------------------

/// The word after `prefix` in `text`.
fn after<'a>(text: &'a str, prefix: &str) -> &'a str {
    let at = text
        .find(prefix)
        .unwrap_or_else(|| panic!("{prefix:?} is not in {text:?}"));
    text[at + prefix.len()..]
        .split_whitespace()
        .next()
        .unwrap_or_default()
}

#[test]
fn keys_create_writes_a_key_only_its_owner_can_read_and_never_overwrites_one() {
    let dir = temp_dir("keys-create");
    let path = dir.join("ledger.key");
    let out = path.to_str().unwrap();
    let output = redress(&["keys", "create", "--out", out], None);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let secret = std::fs::read_to_string(&path).expect("the key file");
    assert!(
        secret.starts_with("redress-signing-key-ed25519:"),
        "{secret}"
    );
    let secret_part = secret
        .trim()
        .trim_start_matches("redress-signing-key-ed25519:");
    assert!(
        !stdout.contains(secret_part),
        "the secret is never printed: {stdout}"
    );
    assert!(stdout.contains("redress-public-key-ed25519:"), "{stdout}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path)
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
    }
    let again = redress(&["keys", "create", "--out", out], None);
    assert!(!again.status.success());
    assert!(
        text(&again.stderr).contains("already exists: a signing key is never overwritten"),
        "{}",
        text(&again.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(&path).expect("the key file"),
        secret
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn keys_create_without_out_prints_the_key_for_the_environment_alone_on_stdout() {
    let output = redress(&["keys", "create"], None);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    assert!(lines[0].starts_with("redress-signing-key-ed25519:"));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("REDRESS_SIGNING_KEY"), "{stderr}");
    assert!(!stderr.contains(lines[0]), "{stderr}");
}

/// Files one email with `redress ingest-mail` into the SQLite database in `dir` (a new
/// complaint); returns the database's path.
fn database_with_a_complaint(dir: &Path, n: usize) -> String {
    use std::io::Write;
    let database = dir.join("redress.db").display().to_string();
    let mut child = Command::new(env!("CARGO_BIN_EXE_redress"))
        .args(["ingest-mail", "--database", &database, "--files-dir"])
        .arg(dir.join("files"))
        .env_remove("REDRESS_DATABASE_URL")
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run redress ingest-mail");
    let message = format!(
        "From: Erin <erin{n}@example.com>\r\nTo: complaints@provider.example\r\nSubject: No broadband since Monday\r\n\
         Date: Mon, 2 Mar 2026 08:00:00 +0000\r\nMessage-ID: <cli-{n}@example.com>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nNothing works.\r\n"
    );
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(message.as_bytes())
        .expect("write the message");
    let output = child.wait_with_output().expect("wait");
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("new_complaint"));
    database
}

#[test]
fn audit_anchor_prints_the_head_and_verify_holds_the_database_to_it() {
    let dir = temp_dir("anchor");
    let database = database_with_a_complaint(&dir, 1);
    let key = dir.join("ledger.key");
    let key = key.to_str().unwrap();
    let created = redress(&["keys", "create", "--out", key], None);
    assert!(created.status.success());
    let public = after(&text(&created.stdout), "--public-key): ").to_owned();

    let anchored = redress(
        &[
            "audit",
            "anchor",
            "--database",
            &database,
            "--signing-key",
            key,
        ],
        None,
    );
    assert!(anchored.status.success(), "{}", text(&anchored.stderr));
    let anchor: Value = serde_json::from_slice(&anchored.stdout).expect("an anchor as JSON");
    assert_eq!(anchor["block"], 1);
    assert!(
        anchor["events"].as_i64().is_some_and(|n| n >= 1),
        "{anchor}"
    );
    assert_eq!(anchor["head"].as_str().map(str::len), Some(64));
    assert!(anchor["signature"].is_string(), "{anchor}");
    let anchor_file = write(&dir, "anchor.json", &text(&anchored.stdout));
    let anchor_path = anchor_file.to_str().unwrap();

    // With the key, and with its public half alone.
    for key_args in [["--signing-key", key], ["--public-key", public.as_str()]] {
        let mut args = vec![
            "audit",
            "verify",
            "--database",
            &database,
            "--anchor",
            anchor_path,
        ];
        args.extend(key_args);
        let verified = redress(&args, None);
        let stdout = text(&verified.stdout);
        assert!(
            verified.status.success(),
            "{stdout}{}",
            text(&verified.stderr)
        );
        assert!(stdout.contains("the record is intact"), "{stdout}");
        assert!(
            stdout.contains("checked the signatures of 1 blocks"),
            "{stdout}"
        );
        assert!(
            stdout.contains("the anchor's block 1 is here unchanged"),
            "{stdout}"
        );
    }
    // Without a key, it says the signatures were not checked.
    let unchecked = redress(&["audit", "verify", "--database", &database], None);
    assert!(unchecked.status.success());
    assert!(text(&unchecked.stdout).contains("block signatures were not checked"));

    // An anchor from further on than this database: the database is an older copy.
    let mut later = anchor.clone();
    later["block"] = 2.into();
    let later_file = write(&dir, "later.json", &later.to_string());
    let older = redress(
        &[
            "audit",
            "verify",
            "--database",
            &database,
            "--anchor",
            later_file.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(older.status.code(), Some(1));
    assert!(
        text(&older.stderr).contains(
            "the database is older than the anchor: block 2 is missing (the newest block here is 1)"
        ),
        "{}",
        text(&older.stderr)
    );
    // Another key: the signature is named as not this key's.
    let other = dir.join("other.key");
    let other = other.to_str().unwrap();
    assert!(
        redress(&["keys", "create", "--out", other], None)
            .status
            .success()
    );
    let wrong = redress(
        &[
            "audit",
            "verify",
            "--database",
            &database,
            "--signing-key",
            other,
        ],
        None,
    );
    assert_eq!(wrong.status.code(), Some(1));
    assert!(
        text(&wrong.stderr).contains("block 1 was signed with key"),
        "{}",
        text(&wrong.stderr)
    );
    // Not an anchor at all.
    let junk = write(&dir, "junk.json", "{\"block\": \"one\"}");
    let refused = redress(
        &[
            "audit",
            "verify",
            "--database",
            &database,
            "--anchor",
            junk.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(refused.status.code(), Some(2));
    assert!(text(&refused.stderr).contains("is not an anchor printed by `redress audit anchor`"));

    // Once the ledger is signed, sealing something new without the key is refused.
    database_with_a_complaint(&dir, 2);
    let unsigned = redress(&["audit", "anchor", "--database", &database], None);
    assert!(!unsigned.status.success());
    assert!(
        text(&unsigned.stderr).contains("the ledger is signed with key"),
        "{}",
        text(&unsigned.stderr)
    );
    let signed = redress(
        &[
            "audit",
            "anchor",
            "--database",
            &database,
            "--signing-key",
            key,
        ],
        None,
    );
    assert!(signed.status.success(), "{}", text(&signed.stderr));
    let second: Value = serde_json::from_slice(&signed.stdout).expect("JSON");
    assert_eq!(second["block"], 2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn audit_anchor_on_an_empty_database_says_there_is_nothing_to_anchor() {
    let dir = temp_dir("anchor-empty");
    let database = dir.join("redress.db").display().to_string();
    let output = redress(&["audit", "anchor", "--database", &database], None);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("there is nothing to anchor yet"));
    assert!(output.stdout.is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_signing_key_in_the_environment_is_used_and_a_broken_one_is_refused_unshown() {
    let dir = temp_dir("key-env");
    let database = database_with_a_complaint(&dir, 3);
    let created = redress(&["keys", "create"], None);
    let secret = text(&created.stdout).trim().to_owned();
    let run = |key: &str, args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_redress"))
            .args(args)
            .env_remove("REDRESS_SIGNING_KEY_FILE")
            .env("REDRESS_SIGNING_KEY", key)
            .output()
            .expect("run redress")
    };
    let anchored = run(&secret, &["audit", "anchor", "--database", &database]);
    assert!(anchored.status.success(), "{}", text(&anchored.stderr));
    let anchor: Value = serde_json::from_slice(&anchored.stdout).expect("JSON");
    assert!(anchor["signature"].is_string());
    let verified = run(&secret, &["audit", "verify", "--database", &database]);
    assert!(verified.status.success(), "{}", text(&verified.stderr));
    assert!(text(&verified.stdout).contains("checked the signatures of 1 blocks"));
    let broken = format!("{}A", &secret[..secret.len() - 2]);
    let refused = run(&broken, &["audit", "verify", "--database", &database]);
    assert_eq!(refused.status.code(), Some(2));
    let stderr = text(&refused.stderr);
    assert!(
        stderr.contains("REDRESS_SIGNING_KEY does not hold a signing key"),
        "{stderr}"
    );
    let secret_part = secret.trim_start_matches("redress-signing-key-ed25519:");
    assert!(!stderr.contains(&secret_part[..20]), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
