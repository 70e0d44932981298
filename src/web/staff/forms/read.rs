//! Reading a posted form: each field checked and turned into the core's value, then the
//! command itself, or a message per field at fault.

use std::collections::HashMap;

use redress_core::{Action, Money};
use serde_json::{Map, Value};

use super::{CommandSpec, FieldError, Kind};

/// "the note" -> "The note".
fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Reads an amount in pounds ("25", "25.5", "£1,025.00") as pence.
pub fn parse_pounds(text: &str) -> Option<i64> {
    let text = text.trim().trim_start_matches('£').replace(',', "");
    let (pounds, pence) = match text.split_once('.') {
        Some((p, d)) => (p, d),
        None => (text.as_str(), ""),
    };
    if pounds.is_empty() && pence.is_empty() {
        return None;
    }
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if !digits(pounds)
        || !digits(pence)
        || pence.len() > 2
        || pounds.len() > 12
        || (text.contains('.') && pence.is_empty())
    {
        return None;
    }
    let pounds: i64 = if pounds.is_empty() {
        0
    } else {
        pounds.parse().ok()?
    };
    let pence: i64 = match pence.len() {
        0 => 0,
        1 => pence.parse::<i64>().ok()? * 10,
        _ => pence.parse().ok()?,
    };
    pounds.checked_mul(100)?.checked_add(pence)
}

impl CommandSpec {
    /// Builds the core's action from the posted fields, or says what is wrong with each field.
    pub fn parse(&self, form: &HashMap<String, String>) -> Result<Action, Vec<FieldError>> {
        let mut object = Map::new();
        object.insert("command".into(), Value::String(self.name.to_owned()));
        let mut errors = Vec::new();
        for field in &self.fields {
            let raw = form.get(field.name).map(String::as_str).unwrap_or("");
            let value = raw.trim();
            let what = field.what;
            let mut fail = |message: String| {
                errors.push(FieldError {
                    field: field.name,
                    message,
                })
            };
            match field.kind {
                Kind::Checkbox => {
                    let on = matches!(value, "yes" | "on" | "true");
                    object.insert(field.target.into(), Value::Bool(on));
                }
                _ if value.is_empty() => {
                    if field.required {
                        let verb =
                            if matches!(field.kind, Kind::Select | Kind::Radios | Kind::YesNo) {
                                "Choose"
                            } else {
                                "Enter"
                            };
                        fail(format!("{verb} {what}"));
                    }
                }
                Kind::Text | Kind::TextArea => {
                    let max = if field.kind == Kind::Text {
                        redress_core::model::MAX_SHORT_CHARS
                    } else {
                        redress_core::model::MAX_TEXT_CHARS
                    };
                    if value.chars().count() > max {
                        fail(format!(
                            "{} must be {max} characters or fewer",
                            capitalised(what)
                        ));
                    } else if value
                        .chars()
                        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
                    {
                        fail(format!(
                            "{} contains characters that cannot be kept",
                            capitalised(what)
                        ));
                    } else {
                        object.insert(field.target.into(), Value::String(value.to_owned()));
                    }
                }
                Kind::Number => match value.parse::<i64>() {
                    Ok(n)
                        if field.min.is_some_and(|min| n < min)
                            || field.max.is_some_and(|max| n > max) =>
                    {
                        fail(format!(
                            "{} must be between {} and {}",
                            capitalised(what),
                            field.min.unwrap_or(0),
                            field.max.unwrap_or(i64::MAX)
                        ))
                    }
                    Ok(n) => {
                        object.insert(field.target.into(), Value::from(n));
                    }
                    Err(_) => fail(format!("Enter {what} as a whole number, for example 14")),
                },
                Kind::Pounds => match parse_pounds(value) {
                    None => fail(format!(
                        "Enter {what} in pounds and pence, for example 25.00"
                    )),
                    Some(p) if field.required && p == 0 => {
                        fail(format!("{} must be more than £0.00", capitalised(what)))
                    }
                    Some(p) if field.max.is_some_and(|max| p > max) => fail(format!(
                        "{} must be {} or less",
                        capitalised(what),
                        Money(field.max.unwrap_or(0))
                    )),
                    Some(p) => {
                        object.insert(field.target.into(), Value::from(p));
                    }
                },
                Kind::Select | Kind::Radios | Kind::YesNo => {
                    if !field.options.iter().any(|(v, _)| v == value) {
                        fail(format!("Choose {what} from the list"));
                    } else if field.kind == Kind::YesNo {
                        object.insert(field.target.into(), Value::Bool(value == "yes"));
                    } else if field.numeric {
                        match value.parse::<u32>() {
                            Ok(n) => {
                                object.insert(field.target.into(), Value::from(n));
                            }
                            Err(_) => fail(format!("Choose {what} from the list")),
                        }
                    } else {
                        object.insert(field.target.into(), Value::String(value.to_owned()));
                    }
                }
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        serde_json::from_value::<Action>(Value::Object(object)).map_err(|error| {
            tracing::warn!(%error, command = self.name, "a form did not make a command");
            let field = self.fields.first().map_or("", |f| f.name);
            vec![FieldError {
                field,
                message: "The form could not be read; check each field and try again".into(),
            }]
        })
    }

    /// The field a refusal about the values given belongs to (the first field, if any).
    pub fn main_field(&self) -> Option<&'static str> {
        self.fields
            .iter()
            .find(|f| f.kind != Kind::Checkbox)
            .map(|f| f.name)
    }
}
