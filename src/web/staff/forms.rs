//! The forms on a complaint's page: one per command the signed-in person may take now. Each
//! command has a title, plain-word fields with labels and hints, and a parser that turns the
//! posted fields into the core's [`Action`] or into a message per field at fault.

use std::collections::HashMap;

use redress_core::event::EvidenceSource;
use redress_core::{Action, Complaint, Money, Procedure, Role};
use serde_json::{Map, Value};

use crate::words;

/// How a field is shown and read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A one-line text box (at most 200 characters).
    Text,
    /// A text area (at most 20,000 characters).
    TextArea,
    /// A whole number.
    Number,
    /// An amount in pounds and pence, sent to the core in pence.
    Pounds,
    /// A drop-down list of options.
    Select,
    /// Radio buttons, one option to choose.
    Radios,
    /// Yes or no radio buttons, read as true or false.
    YesNo,
    /// A single tick box, read as true or false.
    Checkbox,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::TextArea => "textarea",
            Kind::Number => "number",
            Kind::Pounds => "pounds",
            Kind::Select => "select",
            Kind::Radios | Kind::YesNo => "radios",
            Kind::Checkbox => "checkbox",
        }
    }
}

/// One field of a command's form.
#[derive(Debug, Clone)]
pub struct FieldSpec {
    /// The form field's name.
    pub name: &'static str,
    /// The core's field it fills (`amount` fills `amount_pence`).
    pub target: &'static str,
    pub label: String,
    pub hint: Option<String>,
    pub kind: Kind,
    pub required: bool,
    /// What the field holds, for messages ("the note", "the amount").
    pub what: &'static str,
    /// Options (value, label) of a select or radios; the value "" means "not given".
    pub options: Vec<(String, String)>,
    /// Whether an option's value is a number for the core.
    pub numeric: bool,
    pub min: Option<i64>,
    pub max: Option<i64>,
    /// What is filled in before anything is posted.
    pub default: String,
}

impl FieldSpec {
    fn new(
        name: &'static str,
        kind: Kind,
        label: impl Into<String>,
        what: &'static str,
    ) -> FieldSpec {
        FieldSpec {
            name,
            target: name,
            label: label.into(),
            hint: None,
            kind,
            required: false,
            what,
            options: Vec::new(),
            numeric: false,
            min: None,
            max: None,
            default: String::new(),
        }
    }

    fn required(mut self) -> FieldSpec {
        self.required = true;
        self
    }

    fn hint(mut self, hint: impl Into<String>) -> FieldSpec {
        self.hint = Some(hint.into());
        self
    }

    fn target(mut self, target: &'static str) -> FieldSpec {
        self.target = target;
        self
    }

    fn options(mut self, options: Vec<(String, String)>) -> FieldSpec {
        self.options = options;
        self
    }

    fn numeric(mut self) -> FieldSpec {
        self.numeric = true;
        self
    }

    fn range(mut self, min: i64, max: i64) -> FieldSpec {
        self.min = Some(min);
        self.max = Some(max);
        self
    }

    fn default(mut self, value: impl Into<String>) -> FieldSpec {
        self.default = value.into();
        self
    }
}

/// A command's form.
#[derive(Debug, Clone)]
pub struct CommandSpec {
    pub name: &'static str,
    pub title: String,
    pub intro: Option<String>,
    pub button: &'static str,
    /// A command that cannot be undone (its button is marked as a warning).
    pub warning: bool,
    pub fields: Vec<FieldSpec>,
}

/// A field at fault, with the message to show beside it and in the summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

/// Names of every command a member of staff can take through a form.
pub fn is_form_command(name: &str) -> bool {
    name == "assign"
        || (name != "receive" && name != "name_staff_concerned" && Action::NAMES.contains(&name))
}

/// What the page says after a command was done.
pub fn done_sentence(name: &str) -> Option<&'static str> {
    Some(match name {
        "acknowledge" => "The acknowledgement was recorded.",
        "add_note" => "Your note was added.",
        "record_call" => "The call was recorded.",
        "assign" => "The complaint was assigned.",
        "offer_resolution" => "The resolution offered was recorded.",
        "accept_resolution" => "The customer's acceptance of the resolution was recorded.",
        "reject_resolution" => "The customer's rejection of the resolution was recorded.",
        "request_escalation" => "The complaint was escalated to the Escalation Team.",
        "transfer_to_resolution" => {
            "The complaint was transferred to the Customer Resolution department."
        }
        "request_evidence" => "The request for evidence was recorded.",
        "receive_evidence" => "The evidence received was recorded.",
        "record_course_of_events" => "The course of events was recorded.",
        "establish_fault" => "The finding of genuine fault was recorded.",
        "find_no_fault" => "The finding of no fault was recorded.",
        "offer_compensation" => "The compensation offer was recorded.",
        "approve_compensation" => "The compensation was approved.",
        "accept_compensation" => "The customer's acceptance of the compensation was recorded.",
        "issue_formal_response" => "The formal written response was recorded as issued.",
        "request_manager_review" => {
            "The customer's request for the Customer Resolution Manager's review was recorded."
        }
        "record_review_outcome" => "The outcome of the review was recorded.",
        "issue_deadlock_letter" => "The deadlock letter was recorded as issued.",
        "refer_to_ombudsman" => "The referral to the ombudsman was recorded.",
        "record_ombudsman_decision" => "The ombudsman's decision was recorded.",
        "complete_remedy" => "The ombudsman's remedy was recorded as completed.",
        "close" => "The complaint was closed.",
        "reopen" => "The complaint was reopened.",
        _ => return None,
    })
}

fn channels() -> Vec<(String, String)> {
    let list = [
        ("", "Not recorded"),
        ("telephone", "Telephone"),
        ("email", "Email"),
        ("letter", "Letter"),
        ("web", "Web form"),
        ("textphone", "Textphone or text relay"),
    ];
    list.iter()
        .map(|(v, l)| ((*v).to_owned(), (*l).to_owned()))
        .collect()
}

fn owned(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(v, l)| ((*v).to_owned(), (*l).to_owned()))
        .collect()
}

fn text_area(name: &'static str, label: &str, what: &'static str) -> FieldSpec {
    FieldSpec::new(name, Kind::TextArea, label, what)
}

/// The form for a command on this complaint, for this person (`me` is their staff
/// identifier). `None` for a name that is not a command staff take through a form.
pub fn spec(
    name: &str,
    c: &Complaint,
    procedure: &Procedure,
    role: Role,
    me: &str,
) -> Option<CommandSpec> {
    let rules = &c.rules;
    let stage_name = |n: u8| {
        redress_core::Stage::new(n)
            .map(|s| procedure.stage(s).name.clone())
            .unwrap_or_default()
    };
    let mut warning = false;
    let (name, title, intro, button, fields): (&'static str, String, Option<String>, &'static str, Vec<FieldSpec>) =
        match name {
            "acknowledge" => (
                "acknowledge",
                "Acknowledge the complaint".into(),
                Some("Record that we have told the customer we have their complaint.".into()),
                "Record the acknowledgement",
                vec![FieldSpec::new("channel", Kind::Select, "How the acknowledgement was sent", "how it was sent").options(channels())],
            ),
            "add_note" => (
                "add_note",
                "Add a note".into(),
                None,
                "Add the note",
                vec![
                    text_area("text", "Note", "the note").required(),
                    FieldSpec::new("restricted", Kind::Checkbox, "For managers only", "whether it is for managers only")
                        .hint("Only team managers and the Customer Resolution Manager will see the note's text."),
                    FieldSpec::new("about_staff", Kind::Text, "A staff member the note is about (optional)", "the staff member")
                        .hint("A note about a staff member is always for managers only."),
                ],
            ),
            "record_call" => (
                "record_call",
                "Record a telephone call".into(),
                None,
                "Record the call",
                vec![
                    FieldSpec::new("direction", Kind::Radios, "Who called", "who called")
                        .required()
                        .options(owned(&[("inbound", "The customer called us"), ("outbound", "We called the customer")]))
                        .default("inbound"),
                    text_area("summary", "What was said", "what was said"),
                    FieldSpec::new("duration_minutes", Kind::Number, "Length of the call in minutes (optional)", "the length of the call")
                        .range(0, 24 * 60),
                ],
            ),
            "assign" => {
                let hint = if role == Role::Handler {
                    "Give a staff identifier (their email address). You can assign the complaint to yourself; only a manager can assign it to someone else."
                } else {
                    "Give the handler's staff identifier (their email address). A staff member concerned in the complaint cannot handle it."
                };
                let default = if role == Role::Handler { me.to_owned() } else { String::new() };
                (
                    "assign",
                    "Assign the complaint".into(),
                    c.handler.as_ref().map(|h| format!("It is handled by {h} now.")),
                    "Assign",
                    vec![FieldSpec::new("handler", Kind::Text, "Handler", "the handler").required().hint(hint).default(default)],
                )
            }
            "offer_resolution" => (
                "offer_resolution",
                "Offer a resolution".into(),
                Some("The customer can accept it, or ask to take the complaint further.".into()),
                "Record the offer",
                vec![text_area("text", "The resolution offered", "the resolution offered").required()],
            ),
            "accept_resolution" => (
                "accept_resolution",
                "The customer accepts the resolution".into(),
                Some(match c.current_offer() {
                    Some(o) => format!("Record that the customer accepted the resolution offered: {}", o.text),
                    None => "Record that the customer accepted the resolution offered.".into(),
                }),
                "Record the acceptance",
                vec![],
            ),
            "reject_resolution" => (
                "reject_resolution",
                "The customer does not accept the resolution".into(),
                None,
                "Record the answer",
                vec![text_area("reason", "Why the customer does not accept it (optional)", "the reason")],
            ),
            "request_escalation" => (
                "request_escalation",
                "The customer asks to escalate".into(),
                Some(format!(
                    "The complaint goes to the {} (stage 2). A resolution still waiting for an answer counts as not accepted.",
                    stage_name(2)
                )),
                "Escalate the complaint",
                vec![
                    FieldSpec::new("channel", Kind::Select, "How the customer asked", "how the customer asked").options(channels()),
                    text_area("reason", "Why the customer is not satisfied (optional)", "the reason"),
                ],
            ),
            "transfer_to_resolution" => (
                "transfer_to_resolution",
                format!("Transfer to the {}", stage_name(3)),
                Some(format!(
                    "For a detailed investigation (stage 3). The formal written response is due within {} days of the transfer.",
                    rules.formal_response_days
                )),
                "Transfer the complaint",
                vec![text_area("reason", "Why it cannot be resolved here (optional)", "the reason")],
            ),
            "request_evidence" => (
                "request_evidence",
                "Ask for evidence".into(),
                None,
                "Record the request",
                vec![
                    FieldSpec::new("from", Kind::Radios, "Who the evidence is from", "who the evidence is from")
                        .required()
                        .options(owned(&[("customer", "The customer"), ("third_party", "A third party")])),
                    FieldSpec::new("due_days", Kind::Number, "Days allowed", "the days allowed")
                        .required()
                        .range(1, rules.evidence_max_days)
                        .hint(format!(
                            "A whole number from 1 to {}. The evidence is due by the end of that day, London time.",
                            rules.evidence_max_days
                        )),
                    text_area("description", "What is needed (optional)", "the description"),
                ],
            ),
            "receive_evidence" => {
                let mut options = vec![(String::new(), "The oldest request still waiting, if any".to_owned())];
                for r in c.evidence_requests.iter().filter(|r| r.received_at.is_none()) {
                    let from = match r.from {
                        EvidenceSource::Customer => "the customer",
                        EvidenceSource::ThirdParty => "a third party",
                    };
                    options.push((r.id.to_string(), format!("Request {} to {from}, due by {}", r.id, words::date(r.due_by))));
                }
                (
                    "receive_evidence",
                    "Record evidence received".into(),
                    None,
                    "Record the evidence",
                    vec![
                        FieldSpec::new("request", Kind::Select, "Which request it answers", "the request").options(options).numeric(),
                        text_area("description", "What was received (optional)", "the description"),
                        FieldSpec::new("channel", Kind::Select, "How it arrived", "how it arrived").options(channels()),
                    ],
                )
            }
            "record_course_of_events" => (
                "record_course_of_events",
                "Record the course of events".into(),
                None,
                "Record the course of events",
                vec![text_area("text", "The course of events", "the course of events").required()],
            ),
            "establish_fault" => (
                "establish_fault",
                "Establish genuine fault".into(),
                Some("Compensation can be offered once genuine fault is established.".into()),
                "Record the finding",
                vec![text_area("description", "What went wrong (optional)", "the description")],
            ),
            "find_no_fault" => (
                "find_no_fault",
                "Find no fault".into(),
                None,
                "Record the finding",
                vec![text_area("reason", "Why there was no fault (optional)", "the reason")],
            ),
            "offer_compensation" => {
                let limit = rules.approval_limits_pence.for_role(role);
                (
                    "offer_compensation",
                    "Offer compensation".into(),
                    None,
                    "Record the offer",
                    vec![
                        FieldSpec::new("amount", Kind::Pounds, "Amount in pounds", "the amount")
                            .required()
                            .target("amount_pence")
                            .range(1, rules.compensation_max_pence)
                            .hint(format!(
                                "For example 25.00. At most {}. An offer above your approval limit of {} waits for someone else's approval.",
                                Money(rules.compensation_max_pence),
                                Money(limit)
                            )),
                        text_area("reason", "What it is for (optional)", "the reason"),
                    ],
                )
            }
            "approve_compensation" => {
                let mut options = vec![(String::new(), "The latest offer".to_owned())];
                for o in c.compensation.iter().filter(|o| !o.approved) {
                    options.push((o.id.to_string(), format!("Offer {}: {}", o.id, Money(o.amount_pence))));
                }
                (
                    "approve_compensation",
                    "Approve compensation".into(),
                    Some(format!(
                        "Your approval limit is {}. Someone other than the person who offered it must approve it.",
                        Money(rules.approval_limits_pence.for_role(role))
                    )),
                    "Approve",
                    vec![FieldSpec::new("offer", Kind::Select, "Which offer", "the offer").options(options).numeric()],
                )
            }
            "accept_compensation" => {
                let mut options = vec![(String::new(), "The latest offer".to_owned())];
                for o in c.compensation.iter().filter(|o| o.approved && !o.accepted) {
                    options.push((o.id.to_string(), format!("Offer {}: {}", o.id, Money(o.amount_pence))));
                }
                (
                    "accept_compensation",
                    "The customer accepts compensation".into(),
                    None,
                    "Record the acceptance",
                    vec![FieldSpec::new("offer", Kind::Select, "Which offer", "the offer").options(options).numeric()],
                )
            }
            "issue_formal_response" => (
                "issue_formal_response",
                "Issue the formal written response".into(),
                None,
                "Record the response as issued",
                vec![text_area("text", "The response, or a summary of it (optional)", "the response")],
            ),
            "request_manager_review" => (
                "request_manager_review",
                "The customer asks the Customer Resolution Manager to review".into(),
                Some(format!("The complaint goes to the {} (stage 4).", stage_name(4))),
                "Record the request",
                vec![text_area("text", "The customer's letter, or a summary of it (optional)", "the customer's letter")],
            ),
            "record_review_outcome" => (
                "record_review_outcome",
                "Record the outcome of the review".into(),
                Some("The customer is sent a letter with the outcome, in these words.".into()),
                "Record the outcome",
                vec![text_area("text", "The outcome of the review", "the outcome of the review").required()],
            ),
            "issue_deadlock_letter" => {
                warning = true;
                (
                    "issue_deadlock_letter",
                    "Issue a deadlock letter".into(),
                    Some(format!(
                        "Our final position in writing. The customer may then take the complaint to {} at once.",
                        procedure.adr_scheme.name
                    )),
                    "Issue the deadlock letter",
                    vec![text_area("text", "The letter, or a summary of it (optional)", "the letter")],
                )
            }
            "refer_to_ombudsman" => (
                "refer_to_ombudsman",
                "Record a referral to the ombudsman".into(),
                Some(format!("The customer has taken the complaint to {}.", procedure.adr_scheme.name)),
                "Record the referral",
                vec![FieldSpec::new("ombudsman_reference", Kind::Text, "The ombudsman's reference (optional)", "the ombudsman's reference")],
            ),
            "record_ombudsman_decision" => (
                "record_ombudsman_decision",
                "Record the ombudsman's decision".into(),
                None,
                "Record the decision",
                vec![
                    FieldSpec::new("outcome", Kind::Radios, "The ombudsman's decision", "the decision").required().options(owned(&[
                        ("upheld", "Upheld"),
                        ("partly_upheld", "Partly upheld"),
                        ("not_upheld", "Not upheld"),
                    ])),
                    FieldSpec::new("customer_accepted", Kind::YesNo, "Did the customer accept the decision?", "whether the customer accepted it")
                        .required()
                        .options(owned(&[("yes", "Yes"), ("no", "No")])),
                    text_area("remedy", "The remedy required (optional)", "the remedy"),
                    FieldSpec::new("award", Kind::Pounds, "Award in pounds (optional)", "the award")
                        .target("award_pence")
                        .range(0, procedure.adr_scheme.award_limit_pence)
                        .hint(format!("At most {}.", Money(procedure.adr_scheme.award_limit_pence))),
                ],
            ),
            "complete_remedy" => (
                "complete_remedy",
                "Complete the ombudsman's remedy".into(),
                None,
                "Record the remedy as completed",
                vec![text_area("text", "What was done (optional)", "the description")],
            ),
            "close" => {
                warning = true;
                (
                    "close",
                    "Close the complaint".into(),
                    None,
                    "Close the complaint",
                    vec![text_area("reason", "Why it is being closed (optional)", "the reason")],
                )
            }
            "reopen" => (
                "reopen",
                "Reopen the complaint".into(),
                Some("Its clocks go on counting from when it was first received.".into()),
                "Reopen the complaint",
                vec![text_area("reason", "Why it is being reopened (optional)", "the reason")],
            ),
            _ => return None,
        };
    Some(CommandSpec {
        name,
        title,
        intro,
        button,
        warning,
        fields,
    })
}

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
}

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
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use redress_core::{Procedure, Receive};

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
}
