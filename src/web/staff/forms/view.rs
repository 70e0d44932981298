//! A command's form as the page template shows it: ids, hints and errors linked for screen
//! readers, and what was typed kept when the form comes back with problems.

use std::collections::HashMap;

use super::{CommandSpec, FieldError, Kind};

/// One option of a select or radios, as the template shows it.
#[derive(Debug, Clone)]
pub struct OptionView {
    pub id: String,
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// One field as the template shows it.
#[derive(Debug, Clone)]
pub struct FieldView {
    pub id: String,
    pub name: &'static str,
    pub kind: &'static str,
    pub label: String,
    pub hint: Option<String>,
    pub hint_id: String,
    pub error: Option<String>,
    pub error_id: String,
    /// The ids of the hint and error, for `aria-describedby` (empty when neither).
    pub describedby: String,
    pub value: String,
    pub checked: bool,
    pub required: bool,
    pub options: Vec<OptionView>,
    pub inputmode: &'static str,
}

/// A command's form as the template shows it.
#[derive(Debug, Clone)]
pub struct FormView {
    pub command: &'static str,
    pub id: String,
    pub title: String,
    pub intro: Option<String>,
    pub button: &'static str,
    pub warning: bool,
    /// Shown open (the form that was just posted with a problem).
    pub open: bool,
    pub fields: Vec<FieldView>,
    /// The command sends the customer a letter: the form offers to show it first.
    pub previews: bool,
    /// The letters it would send, as asked for ("Preview the letter").
    pub preview: Vec<PreviewLetter>,
    /// The form takes a file too (a scan of the evidence received): its problem, if any.
    pub takes_file: bool,
    pub file_error: Option<String>,
}

/// A letter a command would send, shown before it is sent.
#[derive(Debug, Clone)]
pub struct PreviewLetter {
    pub subject: String,
    pub how: &'static str,
    pub paragraphs: Vec<String>,
}

/// The commands whose letter staff may read before sending it: each writes to the customer
/// in words staff type.
pub const PREVIEWED: [&str; 6] = [
    "offer_resolution",
    "issue_formal_response",
    "record_review_outcome",
    "issue_deadlock_letter",
    "offer_compensation",
    "withdraw_offer",
];

/// The id of a field on the page (several forms share a page, so ids name the command).
pub fn field_id(command: &str, field: &str) -> String {
    format!("{command}-{field}")
}

impl CommandSpec {
    /// The form to show; `posted` is what was sent when the form comes back with problems.
    pub fn view(
        &self,
        posted: Option<&HashMap<String, String>>,
        errors: &[FieldError],
    ) -> FormView {
        let fields = self
            .fields
            .iter()
            .map(|f| {
                let id = field_id(self.name, f.name);
                let value = match posted {
                    Some(form) => form.get(f.name).cloned().unwrap_or_default(),
                    None => f.default.clone(),
                };
                let error = errors
                    .iter()
                    .find(|e| e.field == f.name)
                    .map(|e| e.message.clone());
                let hint_id = format!("{id}-hint");
                let error_id = format!("{id}-error");
                let mut describedby = Vec::new();
                if f.hint.is_some() {
                    describedby.push(hint_id.clone());
                }
                if error.is_some() {
                    describedby.push(error_id.clone());
                }
                let options = f
                    .options
                    .iter()
                    .enumerate()
                    .map(|(n, (v, l))| OptionView {
                        // The first radio button carries the field's own id, for error links.
                        id: if n == 0 {
                            id.clone()
                        } else {
                            format!("{id}-{n}")
                        },
                        value: v.clone(),
                        label: l.clone(),
                        selected: *v == value.trim(),
                    })
                    .collect();
                FieldView {
                    id,
                    name: f.name,
                    kind: f.kind.as_str(),
                    label: f.label.clone(),
                    hint: f.hint.clone(),
                    hint_id,
                    error,
                    error_id,
                    describedby: describedby.join(" "),
                    checked: matches!(value.trim(), "yes" | "on" | "true"),
                    value,
                    required: f.required,
                    options,
                    inputmode: match f.kind {
                        Kind::Number => "numeric",
                        Kind::Pounds => "decimal",
                        _ => "",
                    },
                }
            })
            .collect();
        FormView {
            command: self.name,
            id: format!("form-{}", self.name),
            title: self.title.clone(),
            intro: self.intro.clone(),
            button: self.button,
            warning: self.warning,
            open: posted.is_some(),
            fields,
            previews: PREVIEWED.contains(&self.name),
            preview: Vec::new(),
            takes_file: self.name == "receive_evidence",
            file_error: errors
                .iter()
                .find(|e| e.field == "file")
                .map(|e| e.message.clone()),
        }
    }
}
