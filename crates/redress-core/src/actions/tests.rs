//! The table checked against the commands themselves: every entry's name and fields are what
//! serde reads and writes, so a command changed or added without its entry fails here.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::*;

/// A value of the field's kind that the command accepts.
fn value_of(field: &FieldInfo) -> Value {
    match field.kind {
        FieldKind::Text | FieldKind::LongText => json!("words"),
        FieldKind::Number { min, .. } | FieldKind::MoneyPence { min, .. } => json!(min),
        FieldKind::Bool => json!(true),
        FieldKind::Choice(options) => json!(options[0].0),
        FieldKind::Item(_) => json!(1),
    }
}

/// The command as the API would send it, with the fields chosen.
fn object(info: &ActionInfo, fields: &[&FieldInfo]) -> Value {
    let mut object = Map::new();
    object.insert("command".into(), json!(info.name));
    for field in fields {
        object.insert(field.name.into(), value_of(field));
    }
    Value::Object(object)
}

fn read(value: Value) -> Result<Action, serde_json::Error> {
    serde_json::from_value(value)
}

#[test]
fn the_table_is_in_the_order_of_the_kinds_with_one_entry_each() {
    assert_eq!(ACTIONS.len(), ActionKind::ALL.len());
    for (i, info) in ACTIONS.iter().enumerate() {
        assert_eq!(info.kind as usize, i, "{}", info.name);
        assert_eq!(ActionKind::ALL[i], info.kind);
        assert_eq!(info.kind.info().name, info.name);
        assert_eq!(ActionKind::parse(info.name), Some(info.kind));
        assert_eq!(info.name.parse::<ActionKind>(), Ok(info.kind));
        assert_eq!(info.kind.to_string(), info.name);
    }
    let names: BTreeSet<&str> = ACTIONS.iter().map(|a| a.name).collect();
    assert_eq!(names.len(), ACTIONS.len(), "names are unique");
    assert_eq!(ActionKind::parse(RECEIVE), None);
    let error = "reopen_it".parse::<ActionKind>().unwrap_err().to_string();
    assert!(
        error.starts_with("'reopen_it' is not a command; the commands are acknowledge, "),
        "{error}"
    );
}

/// The interface names are a published contract: the table must give exactly these.
#[test]
fn the_command_names_are_the_published_ones() {
    assert_eq!(
        Action::NAMES,
        [
            "receive",
            "acknowledge",
            "add_note",
            "record_call",
            "assign",
            "name_staff_concerned",
            "offer_resolution",
            "accept_resolution",
            "reject_resolution",
            "request_escalation",
            "transfer_to_resolution",
            "request_evidence",
            "receive_evidence",
            "record_course_of_events",
            "establish_fault",
            "find_no_fault",
            "offer_compensation",
            "approve_compensation",
            "accept_compensation",
            "update_customer",
            "withdraw_offer",
            "issue_formal_response",
            "request_manager_review",
            "record_review_outcome",
            "issue_deadlock_letter",
            "refer_to_ombudsman",
            "record_ombudsman_decision",
            "complete_remedy",
            "close",
            "reopen",
            "record_automatic_compensation",
            "place_legal_hold",
            "release_legal_hold",
            "erase_personal_data",
        ]
    );
}

#[test]
fn every_entry_lists_exactly_the_fields_serde_reads_and_writes() {
    for info in ACTIONS {
        let name = info.name;
        let required: Vec<&FieldInfo> = info.fields.iter().filter(|f| f.required).collect();
        let action = read(object(info, &required))
            .unwrap_or_else(|e| panic!("{name} with its required fields: {e}"));
        assert_eq!(action.kind(), info.kind, "{name}");
        assert_eq!(action.name(), name);
        // Written back, the command has the table's fields and no others.
        let written = serde_json::to_value(&action).expect("a command serialises");
        let mut keys: BTreeSet<&str> = written
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        assert!(keys.remove("command"), "{name}");
        let listed: BTreeSet<&str> = info.fields.iter().map(|f| f.name).collect();
        assert_eq!(keys, listed, "{name}");
        for field in info.fields {
            let left_out = &written[field.name];
            match field.default {
                Some(default) if field.kind == FieldKind::Bool => {
                    assert_eq!(left_out.to_string(), default, "{name}.{}", field.name);
                }
                Some(default) => assert_eq!(left_out, default, "{name}.{}", field.name),
                None if !field.required => {
                    assert!(left_out.is_null(), "{name}.{} left out", field.name);
                }
                None => {}
            }
        }
        // Without any one required field the command is not read.
        for missing in &required {
            let rest: Vec<&FieldInfo> = required
                .iter()
                .copied()
                .filter(|f| f.name != missing.name)
                .collect();
            assert!(
                read(object(info, &rest)).is_err(),
                "{name} without {}",
                missing.name
            );
        }
        // Every field, given a value of its kind, is read as that value (by its alias too).
        let all: Vec<&FieldInfo> = info.fields.iter().collect();
        let full = read(object(info, &all)).unwrap_or_else(|e| panic!("{name} in full: {e}"));
        let full = serde_json::to_value(&full).expect("a command serialises");
        for field in info.fields {
            assert_eq!(full[field.name], value_of(field), "{name}.{}", field.name);
            if let Some(alias) = field.alias {
                let mut by_alias = object(info, &required);
                by_alias[alias] = value_of(field);
                let read_back = serde_json::to_value(read(by_alias).expect("read by alias"))
                    .expect("a command serialises");
                assert_eq!(read_back[field.name], value_of(field), "{name}.{alias}");
            }
            if let FieldKind::Choice(options) = field.kind {
                for (value, _) in options {
                    let mut one = object(info, &all);
                    one[field.name] = json!(value);
                    let read_back = serde_json::to_value(read(one).expect("a listed value"))
                        .expect("a command serialises");
                    assert_eq!(read_back[field.name], json!(value), "{name}.{}", field.name);
                }
                let mut other = object(info, &all);
                other[field.name] = json!("something_else");
                assert!(read(other).is_err(), "{name}.{} unlisted", field.name);
            }
        }
    }
}

#[test]
fn every_sample_is_its_own_kind_and_only_naming_commands_have_none() {
    for info in ACTIONS {
        match info.sample {
            Some(sample) => assert_eq!(sample().kind(), info.kind, "{}", info.name),
            None => assert!(
                matches!(
                    info.kind,
                    ActionKind::Assign | ActionKind::NameStaffConcerned
                ),
                "{} has no sample",
                info.name
            ),
        }
    }
}

#[test]
fn the_portal_offers_only_what_the_customer_may_take() {
    for info in ACTIONS {
        if info.portal {
            assert_eq!(info.who.asker, Asker::Customer, "{}", info.name);
        }
        assert!(!info.label.is_empty() && !info.button.is_empty() && info.done.ends_with('.'));
    }
}

#[test]
fn limits_come_from_the_complaints_rules_and_the_procedure() {
    let p = Procedure::default_procedure();
    let rules = &p.rules[0];
    assert_eq!(Limit::Fixed(7).value(rules, &p), 7);
    assert_eq!(
        Limit::EvidenceMaxDays.value(rules, &p),
        rules.evidence_max_days
    );
    assert_eq!(
        Limit::CompensationMaxPence.value(rules, &p),
        rules.compensation_max_pence
    );
    assert_eq!(
        Limit::AwardLimitPence.value(rules, &p),
        p.adr_scheme.award_limit_pence
    );
}
