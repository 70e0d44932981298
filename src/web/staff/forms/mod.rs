//! The forms on a complaint's page: one per command the signed-in person may take now. Each
//! command's title, fields, labels and button come from the core's table of commands
//! ([`redress_core::actions`]); this module adds hints and introductions in the procedure's
//! words, shows the fields, and turns the posted fields into the core's
//! [`Action`](redress_core::Action) or into a message per field at fault.

use redress_core::actions::{ActionKind, FieldInfo, FieldKind, Item};
use redress_core::event::EvidenceSource;
use redress_core::{Complaint, Money, Procedure, Role, Stage};

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

impl CommandSpec {
    /// The assign form's person as a choice from `people` (identifier, name): only someone
    /// who may hold the complaint can be chosen, so a mistyped address or a colleague from
    /// another team is refused before the core is asked.
    pub fn with_assignees(mut self, people: Vec<(String, String)>) -> CommandSpec {
        if self.name != ActionKind::Assign.info().name {
            return self;
        }
        for field in &mut self.fields {
            if field.target == "handler" {
                field.kind = Kind::Select;
                field.required = true;
                let mut options = vec![(String::new(), "Choose a person".to_owned())];
                options.extend(people.iter().cloned());
                field.options = options;
                if !people.iter().any(|(v, _)| *v == field.default) {
                    field.default = String::new();
                }
                field.hint = Some(if people.is_empty() {
                    "Nobody in the department that holds this stage has a staff account yet."
                        .to_owned()
                } else {
                    "The people of the department that holds this stage.".to_owned()
                });
            }
        }
        self
    }
}

/// A field at fault, with the message to show beside it and in the summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

/// The command a member of staff takes through the form named `name`: every command on an
/// existing complaint except naming a staff member concerned, which is recorded when the
/// complaint is received.
pub fn form_kind(name: &str) -> Option<ActionKind> {
    ActionKind::parse(name).filter(|kind| *kind != ActionKind::NameStaffConcerned)
}

/// Whether `name` is a command a member of staff can take through a form.
pub fn is_form_command(name: &str) -> bool {
    form_kind(name).is_some()
}

/// What the page says after a command was done, with the procedure's names.
pub fn done_sentence(name: &str, procedure: &Procedure) -> Option<String> {
    form_kind(name).map(|kind| kind.info().done_in(procedure))
}

fn owned(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(v, l)| ((*v).to_owned(), (*l).to_owned()))
        .collect()
}

/// The form for a command on this complaint, for this person (`me` is their staff
/// identifier). `None` for a name that is not a command staff take through a form.
///
/// The command's name, fields, labels, button and whether it warns come from the core's table
/// of commands ([`redress_core::actions`]); this adds only what a page needs besides: hints,
/// an introduction in the procedure's words, and the choices a complaint offers (which
/// evidence request, which compensation offer).
pub fn spec(
    name: &str,
    c: &Complaint,
    procedure: &Procedure,
    role: Role,
    me: &str,
) -> Option<CommandSpec> {
    let kind = form_kind(name)?;
    let info = kind.info();
    let fields = info
        .fields
        .iter()
        .map(|field| field_spec(kind, field, c, procedure, role, me))
        .collect();
    Some(CommandSpec {
        name: info.name,
        title: info.label_in(procedure),
        intro: intro(kind, c, procedure, role),
        button: info.button,
        warning: info.warning,
        fields,
    })
}

/// A field of the core's table as a form shows and reads it.
fn field_spec(
    command: ActionKind,
    field: &'static FieldInfo,
    c: &Complaint,
    procedure: &Procedure,
    role: Role,
    me: &str,
) -> FieldSpec {
    // An amount is typed in pounds: the form's field drops the core's "_pence".
    let name = field.name.strip_suffix("_pence").unwrap_or(field.name);
    let spec = |kind: Kind| FieldSpec::new(name, kind, field.label, field.what).target(field.name);
    let mut spec = match field.kind {
        FieldKind::Text => spec(Kind::Text),
        FieldKind::LongText => spec(Kind::TextArea),
        FieldKind::Number { min, max } => {
            spec(Kind::Number).range(min, max.value(&c.rules, procedure))
        }
        FieldKind::MoneyPence { min, max } => {
            spec(Kind::Pounds).range(min, max.value(&c.rules, procedure))
        }
        FieldKind::Bool if field.required => spec(Kind::YesNo).options(owned(YES_NO)),
        FieldKind::Bool => spec(Kind::Checkbox),
        // A choice that must be made, or has a usual answer, is a set of radio buttons.
        FieldKind::Choice(choices) if field.required || field.default.is_some() => {
            spec(Kind::Radios).options(owned(choices))
        }
        FieldKind::Choice(choices) => {
            let mut options = owned(&[("", "Not recorded")]);
            options.extend(owned(choices));
            spec(Kind::Select).options(options)
        }
        FieldKind::Item(item) => spec(Kind::Select)
            .options(item_options(command, item, c))
            .numeric(),
    };
    spec.required = field.required || spec.kind == Kind::Radios;
    if let Some(default) = field.default
        && spec.kind != Kind::Checkbox
    {
        spec = spec.default(default);
    }
    if command == ActionKind::Assign && role == Role::Handler {
        // A handler may take a complaint on; only a manager gives it to someone else.
        spec = spec.default(me);
    }
    match hint(command, field, c, procedure, role) {
        Some(hint) => spec.hint(hint),
        None => spec,
    }
}

const YES_NO: &[(&str, &str)] = &[("yes", "Yes"), ("no", "No")];

/// The choices of a field that numbers something on the complaint.
fn item_options(command: ActionKind, item: Item, c: &Complaint) -> Vec<(String, String)> {
    match item {
        Item::EvidenceRequest => {
            let mut options = vec![(
                String::new(),
                "The oldest request still waiting, if any".to_owned(),
            )];
            for r in c
                .evidence_requests
                .iter()
                .filter(|r| r.received_at.is_none())
            {
                let from = match r.from {
                    EvidenceSource::Customer => "the customer",
                    EvidenceSource::ThirdParty => "a third party",
                };
                options.push((
                    r.id.to_string(),
                    format!(
                        "Request {} to {from}, due by {}",
                        r.id,
                        words::date(r.due_by)
                    ),
                ));
            }
            options
        }
        Item::CompensationOffer => {
            // Approving lists the offers waiting for approval; withdrawing, every open one;
            // accepting, the approved ones the customer has not yet accepted.
            let mut options = vec![(String::new(), "The latest offer".to_owned())];
            let listed = c.compensation.iter().filter(|o| match command {
                ActionKind::ApproveCompensation => !o.approved && !o.withdrawn,
                ActionKind::WithdrawOffer => o.is_open(),
                _ => o.approved && o.is_open(),
            });
            for o in listed {
                options.push((
                    o.id.to_string(),
                    format!("Offer {}: {}", o.id, Money(o.amount_pence)),
                ));
            }
            options
        }
    }
}

/// The words under a field's label, where it needs any.
fn hint(
    command: ActionKind,
    field: &FieldInfo,
    c: &Complaint,
    procedure: &Procedure,
    role: Role,
) -> Option<String> {
    let rules = &c.rules;
    Some(match (command, field.kind) {
        (ActionKind::AddNote, FieldKind::Bool) => format!(
            "Only {} will see the note's text.",
            readers_in_words(&procedure.access.restricted_note_readers, procedure)
        ),
        (ActionKind::AddNote, FieldKind::Text) => {
            "A note about a staff member is always for managers only.".to_owned()
        }
        (ActionKind::Assign, _) if role == Role::Handler => {
            "Give a staff identifier (their email address). You can assign the complaint to \
             yourself; only a manager can assign it to someone else."
                .to_owned()
        }
        (ActionKind::Assign, _) => {
            "Give the handler's staff identifier (their email address). A staff member \
             concerned in the complaint cannot handle it."
                .to_owned()
        }
        (ActionKind::RequestEvidence, FieldKind::Number { .. }) => format!(
            "A whole number from 1 to {}. The evidence is due by the end of that day, London time.",
            rules.evidence_max_days
        ),
        (ActionKind::OfferCompensation, FieldKind::MoneyPence { .. }) => format!(
            "For example 25.00. At most {}. An offer above your approval limit of {} waits for \
             someone else's approval.",
            Money(rules.compensation_max_pence),
            Money(rules.approval_limits_pence.for_role(role))
        ),
        (_, FieldKind::MoneyPence { max, .. }) => {
            format!("At most {}.", Money(max.value(rules, procedure)))
        }
        _ => return None,
    })
}

/// "team managers, the Customer Resolution Manager and compliance staff".
fn readers_in_words(roles: &[Role], procedure: &Procedure) -> String {
    let names: Vec<String> = roles
        .iter()
        .map(|role| match role {
            Role::Handler => "complaint handlers".to_owned(),
            Role::TeamManager => "team managers".to_owned(),
            Role::CustomerResolutionManager => {
                format!("the {}", procedure.stage(Stage::RESOLUTION_MANAGER).name)
            }
            Role::Compliance => "compliance staff".to_owned(),
            Role::Administrator => "administrators".to_owned(),
            Role::Customer => "the customer".to_owned(),
            Role::System => "Redress".to_owned(),
        })
        .collect();
    match names.as_slice() {
        [] => "managers".to_owned(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The sentence under a form's title, in the procedure's words and the complaint's rules.
fn intro(kind: ActionKind, c: &Complaint, procedure: &Procedure, role: Role) -> Option<String> {
    let stage = |stage: Stage| (&procedure.stage(stage).name, stage.number());
    Some(match kind {
        ActionKind::Acknowledge => {
            "Record that we have told the customer we have their complaint.".to_owned()
        }
        ActionKind::Assign => format!("It is handled by {} now.", c.handler.as_ref()?),
        ActionKind::OfferResolution => {
            "The customer can accept it, or ask to take the complaint further.".to_owned()
        }
        ActionKind::UpdateCustomer => {
            let held = &c.customer;
            let or_none = |v: Option<&str>| v.unwrap_or("none").to_owned();
            format!(
                "Fill in only what changes; a field left empty keeps what is held. Held now: {}; email {}; telephone {}; postcode {}.",
                held.name,
                or_none(held.email.as_deref()),
                or_none(held.telephone.as_deref()),
                or_none(held.postcode.as_ref().map(|p| p.as_str())),
            )
        }
        ActionKind::WithdrawOffer => {
            "The offer can then be neither approved nor accepted. A customer told of it is told it was withdrawn.".to_owned()
        }
        ActionKind::AcceptResolution => match c.current_offer() {
            Some(o) => format!(
                "Record that the customer accepted the resolution offered: {}",
                o.text
            ),
            None => "Record that the customer accepted the resolution offered.".to_owned(),
        },
        ActionKind::RequestEscalation => {
            let (name, number) = stage(Stage::ESCALATION_TEAM);
            format!(
                "The complaint goes to the {name} (stage {number}). A resolution still waiting \
                 for an answer counts as not accepted."
            )
        }
        ActionKind::TransferToResolution => format!(
            "For a detailed investigation (stage {}). The formal written response is due within \
             {} of the transfer.",
            Stage::CUSTOMER_RESOLUTION.number(),
            c.rules.formal_response_in_words()
        ),
        ActionKind::EstablishFault => {
            "Compensation can be offered once genuine fault is established.".to_owned()
        }
        ActionKind::ApproveCompensation => format!(
            "Your approval limit is {}. Someone other than the person who offered it must \
             approve it.",
            Money(c.rules.approval_limits_pence.for_role(role))
        ),
        ActionKind::RequestManagerReview => {
            let (name, number) = stage(Stage::RESOLUTION_MANAGER);
            format!("The complaint goes to the {name} (stage {number}).")
        }
        ActionKind::RecordReviewOutcome => {
            "The customer is sent a letter with the outcome, in these words.".to_owned()
        }
        ActionKind::IssueDeadlockLetter => format!(
            "Our final position in writing. The customer may then take the complaint to {} at \
             once.",
            procedure.adr_scheme.name
        ),
        ActionKind::ReferToOmbudsman => format!(
            "The customer has taken the complaint to {}.",
            procedure.adr_scheme.name
        ),
        ActionKind::Reopen => {
            "Its clocks go on counting from when it was first received.".to_owned()
        }
        _ => return None,
    })
}

mod read;
mod view;

pub use read::parse_pounds;
pub use view::{FieldView, FormView, OptionView, PREVIEWED, PreviewLetter, field_id};

#[cfg(test)]
mod tests;
