//! The procedure file read, checked and placed: the default reproduces the seed, and every
//! kind of problem is reported with its path and line.

use super::*;
use jiff::civil::date;

#[test]
fn the_default_procedure_reproduces_the_seed() {
    let p = Procedure::default_procedure();
    assert_eq!(p.organisation.name, "kinex");
    assert_eq!(
        p.organisation.address,
        ["Longley House", "Longley Lane", "Manchester", "M22 4SY"]
    );
    let dept = |stage: u8| {
        p.department(p.department_of(Stage::new(stage).unwrap()))
            .unwrap()
    };
    assert_eq!(dept(1).name, "Customer Services");
    assert_eq!(dept(1).telephone.as_deref(), Some("0161 465 6655"));
    assert_eq!(dept(2).name, "The Escalation Team");
    assert_eq!(dept(2).telephone.as_deref(), Some("0161 465 6655"));
    assert_eq!(dept(3).name, "The Customer Resolution Department");
    assert_eq!(dept(3).telephone.as_deref(), Some("0161 465 6600"));
    assert_eq!(dept(4).name, "The Customer Resolution Manager");
    assert_eq!(
        dept(4).telephone,
        None,
        "the seed says to write to the manager"
    );
    assert!(dept(4).address.iter().any(|l| l == "M22 4SY"));
    let r = p.rules_for(date(2026, 11, 24));
    assert_eq!(r.formal_response_days, 28);
    assert_eq!(r.adr_after_weeks, 8);
    assert_eq!(r.adr_referral_window_months, 12);
    assert_eq!(r.deadlock_stages.numbers(), [3, 4]);
    let a = &p.adr_scheme;
    assert_eq!(a.name, "Ombudsman Services: Communications");
    assert_eq!(
        a.address,
        ["Ombudsman Services: Communications", "PO Box 730"]
    );
    assert_eq!(a.telephone, "0330 440 1614");
    assert_eq!(a.facsimile.as_deref(), Some("0330 440 1615"));
    assert_eq!(a.textphone.as_deref(), Some("0330 440 1600"));
    assert!(p.category("mis_selling").is_some());
    assert!(p.category("unauthorised_transfer").is_some());
}

#[test]
fn rules_are_chosen_by_the_date_first_received() {
    let text = DEFAULT_PROCEDURE_TOML.to_owned()
        + "\n[[rules]]\neffective_from = \"2027-04-01\"\nformal_response_days = 28\nadr_after_weeks = 6\n\
           adr_referral_window_months = 12\nremedy_days = 28\ndeadlock_stages = [3, 4]\nevidence_max_days = 90\n\
           compensation_max_pence = 250000\nretention_months = 15\n\
           approval_limits_pence = { handler = 10000, team_manager = 50000, customer_resolution_manager = 250000 }\n";
    let p = Procedure::from_toml(&text).unwrap();
    assert_eq!(p.rules_for(date(2027, 3, 31)).adr_after_weeks, 8);
    assert_eq!(p.rules_for(date(2027, 4, 1)).adr_after_weeks, 6);
    assert_eq!(p.rules_for(date(2010, 1, 1)).adr_after_weeks, 8);
}

#[test]
fn every_problem_is_listed_with_its_path_and_line() {
    let text = DEFAULT_PROCEDURE_TOML
        .replace(
            "department = \"escalation_team\"",
            "department = \"escalations\"",
        )
        .replace("telephone = \"0330 440 1614\"", "telephone = \"call us\"")
        .replace("deadlock_stages = [3, 4]", "deadlock_stages = [5]")
        .replace("formal_response_days = 28", "formal_response_days = 0");
    let errors = Procedure::from_toml(&text).unwrap_err().0;
    let paths: Vec<&str> = errors.iter().map(|p| p.path.as_str()).collect();
    assert!(paths.contains(&"stages[1].department"), "{errors:?}");
    assert!(paths.contains(&"adr_scheme.telephone"), "{errors:?}");
    assert!(paths.contains(&"rules[0].deadlock_stages"), "{errors:?}");
    assert!(
        paths.contains(&"rules[0].formal_response_days"),
        "{errors:?}"
    );
    let line_of = |needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() + 1;
    let stage = errors
        .iter()
        .find(|p| p.path == "stages[1].department")
        .unwrap();
    assert_eq!(stage.line, Some(line_of("department = \"escalations\"")));
    assert!(stage.message.contains("'escalations' is not a department"));
}

#[test]
fn type_errors_in_several_sections_are_all_reported() {
    let text = DEFAULT_PROCEDURE_TOML
        .replace(
            "award_limit_pence = 1000000",
            "award_limit_pence = \"lots\"",
        )
        .replace("code = \"other\"", "code = 7")
        .replace("remedy_days = 28", "remedy_days = 28\nsurprise = true");
    let errors = Procedure::from_toml(&text).unwrap_err().0;
    assert!(errors.len() >= 3, "{errors:?}");
    let surprise = errors
        .iter()
        .find(|p| p.message.contains("surprise"))
        .unwrap();
    assert_eq!(
        surprise.line,
        Some(text.lines().position(|l| l == "surprise = true").unwrap() + 1)
    );
    assert!(errors.iter().any(|p| p.path == "adr_scheme"), "{errors:?}");
    assert!(
        errors.iter().any(|p| p.path.starts_with("categories[")),
        "{errors:?}"
    );
}

#[test]
fn syntax_errors_name_the_line() {
    let errors = Procedure::from_toml("version = \"x\"\n\n[organisation\n")
        .unwrap_err()
        .0;
    assert_eq!(errors[0].line, Some(3), "{errors:?}");
}

#[test]
fn missing_sections_and_unknown_sections_are_named() {
    let errors = Procedure::from_toml("version = \"x\"\nextra = 1\n")
        .unwrap_err()
        .0;
    let paths: Vec<&str> = errors.iter().map(|p| p.path.as_str()).collect();
    for section in [
        "organisation",
        "departments",
        "stages",
        "adr_scheme",
        "rules",
        "categories",
        "letters",
        "extra",
    ] {
        assert!(paths.contains(&section), "{section} not in {paths:?}");
    }
}

/// The default procedure with the ADR notice's body replaced.
fn with_adr_notice_body(body: &str) -> String {
    let start = DEFAULT_PROCEDURE_TOML
        .find("[letters.adr_notice]")
        .expect("an adr_notice letter");
    let next = start
        + DEFAULT_PROCEDURE_TOML[start..]
            .find("[letters.deadlock_letter]")
            .expect("the next letter");
    format!(
        "{}[letters.adr_notice]\nsubject = \"ADR\"\nbody = \"\"\"\n{body}\n\"\"\"\n\n{}",
        &DEFAULT_PROCEDURE_TOML[..start],
        &DEFAULT_PROCEDURE_TOML[next..]
    )
}

#[test]
fn an_adr_letter_without_the_ombudsmans_details_is_refused_at_its_line() {
    let text = with_adr_notice_body(
        "Dear {{ customer.name }},\nYour complaint {{ reference }} may go to {{ adr.name }} within {{ adr.referral_window_months }} months.",
    );
    let errors = Procedure::from_toml(&text).unwrap_err().0;
    let problem = errors
        .iter()
        .find(|p| p.path == "letters.adr_notice.body")
        .unwrap_or_else(|| panic!("{errors:?}"));
    // The line of `body = """`, just after `subject = "ADR"`.
    let subject = text.lines().position(|l| l == "subject = \"ADR\"").unwrap() + 1;
    assert_eq!(problem.line, Some(subject + 1), "{problem}");
    for missing in ["telephone", "facsimile", "textphone", "PO Box 730"] {
        assert!(problem.message.contains(missing), "{missing}: {problem}");
    }
    assert!(!problem.message.contains("the reference"), "{problem}");
}

#[test]
fn an_adr_letter_must_give_the_referral_window_of_every_rules_version() {
    let text = DEFAULT_PROCEDURE_TOML.replacen(
        "You have {{ adr.referral_window_months }} months",
        "You have 12 months",
        1,
    ) + "\n[[rules]]\neffective_from = \"2027-04-01\"\nformal_response_days = 28\nadr_after_weeks = 6\n\
           adr_referral_window_months = 6\nremedy_days = 28\ndeadlock_stages = [3, 4]\nevidence_max_days = 90\n\
           compensation_max_pence = 250000\nretention_months = 15\n\
           approval_limits_pence = { handler = 10000, team_manager = 50000, customer_resolution_manager = 250000 }\n";
    let errors = Procedure::from_toml(&text).unwrap_err().0;
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].path, "letters.adr_notice.body");
    assert!(errors[0].message.contains("\"6 months\""), "{errors:?}");
}

#[test]
fn letter_templates_are_checked_for_errors_missing_kinds_and_unknown_names() {
    let text = DEFAULT_PROCEDURE_TOML
        .replacen(
            "[letters.compensation_offer]",
            "[letters.compensation_offers]",
            1,
        )
        .replacen(
            "Thank you for your patience while we looked into",
            "Thank you {{ customer.nmae }} for your patience while we looked into",
            1,
        )
        .replacen(
            "To help us investigate your complaint",
            "To help us {% if %} investigate",
            1,
        );
    let errors = Procedure::from_toml(&text).unwrap_err().0;
    let paths: Vec<&str> = errors.iter().map(|p| p.path.as_str()).collect();
    assert!(paths.contains(&"letters.compensation_offers"), "{errors:?}");
    assert!(
        paths.contains(&"letters.evidence_request.body"),
        "{errors:?}"
    );
    let compile = errors
        .iter()
        .find(|p| p.path == "letters.evidence_request.body")
        .unwrap();
    let line = text
        .lines()
        .position(|l| l.contains("To help us {% if %}"))
        .unwrap()
        + 1;
    assert_eq!(compile.line, Some(line), "{compile}");
    // With one kind unreadable the letters are not compiled, so the rest are checked on a
    // second pass once it is fixed.
    let fixed = text.replacen(
        "To help us {% if %} investigate",
        "To help us investigate",
        1,
    );
    let errors = Procedure::from_toml(&fixed).unwrap_err().0;
    let paths: Vec<&str> = errors.iter().map(|p| p.path.as_str()).collect();
    assert!(paths.contains(&"letters.compensation_offers"), "{errors:?}");
    let fixed = fixed.replacen(
        "[letters.compensation_offers]",
        "[letters.compensation_offer]",
        1,
    );
    let errors = Procedure::from_toml(&fixed).unwrap_err().0;
    let typo = errors
        .iter()
        .find(|p| p.path == "letters.resolution_offer.body")
        .unwrap_or_else(|| panic!("{errors:?}"));
    assert!(typo.message.contains("undefined"), "{typo}");
    let without =
        DEFAULT_PROCEDURE_TOML.replacen("[letters.compensation_offer]", "[letters.unused]", 1);
    let errors = Procedure::from_toml(&without).unwrap_err().0;
    assert!(
        errors.iter().any(|p| p.path == "letters.unused"),
        "{errors:?}"
    );
}

#[test]
fn every_letter_kind_is_missing_from_a_procedure_without_letters_but_one() {
    let start = DEFAULT_PROCEDURE_TOML
        .find("[letters.acknowledgement]")
        .unwrap();
    let only_one = &DEFAULT_PROCEDURE_TOML[..start];
    let text = format!("{only_one}[letters.acknowledgement]\nsubject = \"a\"\nbody = \"b\"\n");
    let errors = Procedure::from_toml(&text).unwrap_err().0;
    let paths: Vec<&str> = errors.iter().map(|p| p.path.as_str()).collect();
    for kind in crate::letters::LetterKind::ALL.iter().skip(1) {
        // A kind newer than the file has a built-in wording instead (and a warning).
        let built_in = crate::letters::built_in_template(*kind).is_some();
        assert_eq!(
            paths.contains(&format!("letters.{kind}").as_str()),
            !built_in,
            "{kind}: {paths:?}"
        );
    }
    assert!(!paths.contains(&"letters.acknowledgement"), "{paths:?}");
}

#[test]
fn a_procedure_without_the_withdrawal_letter_uses_the_built_in_wording_and_warns() {
    let start = DEFAULT_PROCEDURE_TOML
        .find("[letters.compensation_withdrawn]")
        .unwrap();
    let end = DEFAULT_PROCEDURE_TOML
        .find("[letters.remedy_confirmation]")
        .unwrap();
    let text = format!(
        "{}{}",
        &DEFAULT_PROCEDURE_TOML[..start],
        &DEFAULT_PROCEDURE_TOML[end..]
    );
    let procedure = Procedure::from_toml(&text).expect("still a valid procedure");
    let kind = crate::letters::LetterKind::CompensationWithdrawn;
    assert!(procedure.letters.template(kind).is_some());
    assert!(
        procedure
            .warnings()
            .iter()
            .any(|w| w.starts_with("letters.compensation_withdrawn is missing")),
        "{:?}",
        procedure.warnings()
    );
    assert!(
        !Procedure::default_procedure()
            .warnings()
            .iter()
            .any(|w| w.contains("compensation_withdrawn")),
        "the default words it itself"
    );
}

#[test]
fn stage_sets_read_in_words() {
    assert_eq!(StageSet::from(vec![3, 4]).in_words(), "stage 3 or 4");
    assert_eq!(StageSet::from(vec![2, 3, 4]).in_words(), "stage 2, 3 or 4");
    assert_eq!(StageSet::from(vec![4]).in_words(), "stage 4");
}
