//! Every form against the core's commands.

use std::collections::HashMap;

use redress_core::{Action, Procedure, Receive};

use super::*;

fn complaint(procedure: &Procedure) -> Complaint {
    let receive: Receive = serde_json::from_value(serde_json::json!({
        "reference": "CMP-2026-000001",
        "channel": "telephone",
        "customer": {"account": "A1", "name": "Ada"},
        "summary": "No service",
        "category": null,
        "received_at": null,
        "staff_concerned": [],
        "by": {"role": "handler", "department": "customer_services", "staff": "ann"}
    }))
    .expect("a receive command");
    let now = "2026-03-02T09:00:00Z".parse().expect("an instant");
    redress_core::open(receive, now, procedure)
        .expect("opened")
        .0
}

/// Every command's form, filled in, makes that command: the form's field names match the
/// core's.
#[test]
fn every_form_makes_its_command() {
    let procedure = Procedure::default_procedure();
    let c = complaint(&procedure);
    let filled = |name: &str| -> Option<&str> {
        Some(match name {
            "text"
            | "reason"
            | "description"
            | "summary"
            | "remedy"
            | "handler"
            | "about_staff"
            | "ombudsman_reference" => "words",
            "channel" => "email",
            "direction" => "outbound",
            "duration_minutes" | "due_days" => "7",
            "from" => "third_party",
            "amount" => "12.34",
            "award" => "100",
            "outcome" => "partly_upheld",
            "customer_accepted" => "yes",
            "restricted" => "yes",
            "kind" => "missed_appointment",
            _ => return None,
        })
    };
    let names = Action::NAMES.iter().copied().filter(|n| is_form_command(n));
    for name in names {
        let spec = spec(name, &c, &procedure, Role::TeamManager, "me")
            .unwrap_or_else(|| panic!("a form for {name}"));
        let form: HashMap<String, String> = spec
            .fields
            .iter()
            .filter_map(|f| filled(f.name).map(|v| (f.name.to_owned(), v.to_owned())))
            .collect();
        let action = spec
            .parse(&form)
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(action.name(), name);
        let empty = spec.parse(&HashMap::new());
        assert_eq!(
            empty.is_err(),
            spec.fields.iter().any(|f| f.required),
            "{name} with nothing filled in"
        );
    }
    let spec = spec(
        "record_ombudsman_decision",
        &c,
        &procedure,
        Role::TeamManager,
        "me",
    )
    .expect("a form");
    let form: HashMap<String, String> = [
        ("outcome", "upheld"),
        ("customer_accepted", "no"),
        ("award", "£1,000.50"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    match spec.parse(&form) {
        Ok(Action::RecordOmbudsmanDecision {
            customer_accepted,
            award_pence,
            ..
        }) => {
            assert!(!customer_accepted);
            assert_eq!(award_pence, Some(100_050));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn pounds_are_read_as_pence() {
    assert_eq!(parse_pounds("25"), Some(2500));
    assert_eq!(parse_pounds("25.5"), Some(2550));
    assert_eq!(parse_pounds("£1,025.05"), Some(102_505));
    assert_eq!(parse_pounds(".50"), Some(50));
    for bad in ["", "abc", "25.", "25.123", "-5", "1e3", "£", "12.3.4"] {
        assert_eq!(parse_pounds(bad), None, "{bad}");
    }
}

/// Forms name departments as the procedure does: a procedure that calls stage 2 something
/// else never shows the default procedure's name.
#[test]
fn forms_use_the_procedures_names_for_departments() {
    let mut procedure = Procedure::default_procedure();
    procedure.stages[1].name = "Second Look Team".to_owned();
    procedure.stages[3].name = "Head of Complaints".to_owned();
    let c = complaint(&procedure);
    let escalate = spec("request_escalation", &c, &procedure, Role::Handler, "me").expect("a form");
    let intro = escalate.intro.expect("an introduction");
    assert!(intro.contains("Second Look Team"), "{intro}");
    assert!(!intro.contains("Escalation Team"), "{intro}");
    let done = done_sentence("request_escalation", &procedure).expect("a sentence");
    assert_eq!(done, "The complaint was escalated to the Second Look Team.");
    let review = spec(
        "request_manager_review",
        &c,
        &procedure,
        Role::Handler,
        "me",
    )
    .expect("a form");
    assert_eq!(
        review.title,
        "The customer asks the Head of Complaints to review"
    );
    assert!(!format!("{review:?}").contains("Customer Resolution Manager"));
    // Under the default procedure the words are as they always were.
    let default = Procedure::default_procedure();
    assert_eq!(
        done_sentence("transfer_to_resolution", &default).as_deref(),
        Some("The complaint was transferred to the Customer Resolution department.")
    );
}

/// The fields are the core's: same names (an amount typed in pounds drops "_pence"), same
/// required ones, same limits from the complaint's rules.
#[test]
fn every_field_comes_from_the_core_table() {
    let procedure = Procedure::default_procedure();
    let c = complaint(&procedure);
    for info in redress_core::actions::ACTIONS {
        let Some(spec) = spec(info.name, &c, &procedure, Role::TeamManager, "me") else {
            assert_eq!(info.name, "name_staff_concerned");
            continue;
        };
        assert_eq!(spec.title, info.label_in(&procedure));
        assert_eq!(spec.button, info.button);
        assert_eq!(spec.fields.len(), info.fields.len(), "{}", info.name);
        for (form, core) in spec.fields.iter().zip(info.fields) {
            assert_eq!(form.target, core.name);
            assert_eq!(form.label, core.label);
            assert!(
                !core.required || form.required,
                "{} {}",
                info.name,
                core.name
            );
        }
    }
    let evidence = spec("request_evidence", &c, &procedure, Role::Handler, "me").expect("a form");
    let days = evidence
        .fields
        .iter()
        .find(|f| f.name == "due_days")
        .expect("due_days");
    assert_eq!(days.max, Some(c.rules.evidence_max_days));
}
