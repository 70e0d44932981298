//! `redress simulate`: runs a dated scenario through the real core on a virtual clock.
//!
//! The scenario format is a public interface (compliance staff use it to test a procedure
//! change): `{"procedure": "default" | PATH, "until": RFC3339, "steps": [{"at", "complaint",
//! "command", ...fields, "by"?}]}`. Output is one JSON object per line, in time order: every
//! event with the complaint's stage and status after it, and every refused command with the
//! core's sentence. Deadlines fire at their exact due instant, up to `until`.

use std::collections::HashMap;
use std::fmt;

use jiff::Timestamp;
use redress_core::{
    Action, Actor, Channel, Command, Complaint, Customer, Event, Procedure, Receive, Reference,
    Role, Stage, apply, clock, deadlines, execute, fire, open,
};
use serde::Deserialize;
use serde_json::{Map, Value};

/// Largest scenario accepted, in bytes.
pub const MAX_SCENARIO_BYTES: usize = 16 * 1024 * 1024;
/// Most steps in one scenario.
pub const MAX_STEPS: usize = 100_000;

/// A scenario that cannot be run, with the step and field at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    pub step: Option<usize>,
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid scenario: ")?;
        if let Some(step) = self.step {
            write!(f, "step {step}: ")?;
        }
        if let Some(field) = &self.field {
            write!(f, "field `{field}`: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ScenarioError {}

fn error(step: Option<usize>, field: Option<&str>, message: impl Into<String>) -> ScenarioError {
    ScenarioError {
        step,
        field: field.map(str::to_owned),
        message: message.into(),
    }
}

/// What a step asks for, once parsed.
#[derive(Debug, Clone)]
enum StepKind {
    Receive(Box<ReceiveFields>),
    Command(Action),
}

#[derive(Debug, Clone)]
struct Step {
    at: Timestamp,
    complaint: String,
    by: Option<Actor>,
    kind: StepKind,
}

/// The fields of a `receive` step.
#[derive(Debug, Clone, Deserialize)]
struct ReceiveFields {
    channel: Channel,
    customer: Customer,
    summary: String,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    received_at: Option<Timestamp>,
    #[serde(default)]
    staff_concerned: Vec<String>,
    #[serde(default)]
    reference: Option<String>,
}

/// A parsed scenario, ready to run.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// `"default"` or a path to a procedure file.
    pub procedure: String,
    pub until: Timestamp,
    steps: Vec<Step>,
    /// Fields that were given but are not used, for a warning (`step N: field`).
    pub ignored: Vec<String>,
}

fn timestamp(
    step: Option<usize>,
    field: &str,
    value: Option<&Value>,
) -> Result<Timestamp, ScenarioError> {
    let Some(value) = value else {
        return Err(error(step, Some(field), "missing"));
    };
    let Some(text) = value.as_str() else {
        return Err(error(
            step,
            Some(field),
            "must be an RFC 3339 instant such as \"2026-03-10T09:00:00Z\"",
        ));
    };
    text.parse::<Timestamp>().map_err(|_| {
        error(
            step,
            Some(field),
            format!("'{text}' is not an RFC 3339 instant such as \"2026-03-10T09:00:00Z\""),
        )
    })
}

/// Deserialises `value`, naming the exact field at fault and collecting unused fields.
fn typed<T: serde::de::DeserializeOwned>(
    step: usize,
    value: Value,
    ignored: &mut Vec<String>,
) -> Result<T, ScenarioError> {
    match crate::json::read::<T>(value) {
        Ok(read) => {
            ignored.extend(
                read.unused
                    .into_iter()
                    .map(|p| format!("step {step}: field `{p}`")),
            );
            Ok(read.value)
        }
        Err(e) => Err(error(Some(step), e.field.as_deref(), e.message)),
    }
}

impl Scenario {
    /// Parses a scenario, refusing anything malformed with the step index and field.
    pub fn parse(text: &str) -> Result<Scenario, ScenarioError> {
        if text.len() > MAX_SCENARIO_BYTES {
            return Err(error(
                None,
                None,
                format!("the scenario is larger than {MAX_SCENARIO_BYTES} bytes"),
            ));
        }
        let root: Value = serde_json::from_str(text)
            .map_err(|e| error(None, None, format!("not valid JSON ({e})")))?;
        let Value::Object(mut root) = root else {
            return Err(error(
                None,
                None,
                "must be a JSON object with \"procedure\", \"until\" and \"steps\"",
            ));
        };
        let procedure = match root.remove("procedure") {
            None => "default".to_owned(),
            Some(Value::String(s)) if !s.trim().is_empty() => s,
            Some(_) => {
                return Err(error(
                    None,
                    Some("procedure"),
                    "must be \"default\" or the path of a procedure file",
                ));
            }
        };
        let until = timestamp(None, "until", root.get("until"))?;
        root.remove("until");
        let steps = match root.remove("steps") {
            Some(Value::Array(steps)) => steps,
            Some(_) => return Err(error(None, Some("steps"), "must be an array of steps")),
            None => return Err(error(None, Some("steps"), "missing")),
        };
        let mut ignored: Vec<String> = root.keys().map(|k| format!("field `{k}`")).collect();
        if steps.len() > MAX_STEPS {
            return Err(error(
                None,
                Some("steps"),
                format!("at most {MAX_STEPS} steps are allowed"),
            ));
        }
        let mut parsed: Vec<Step> = Vec::with_capacity(steps.len());
        for (i, step) in steps.into_iter().enumerate() {
            let s = Some(i);
            let Value::Object(mut fields) = step else {
                return Err(error(s, None, "must be a JSON object"));
            };
            let at = timestamp(s, "at", fields.get("at"))?;
            fields.remove("at");
            if let Some(previous) = parsed.last()
                && at < previous.at
            {
                return Err(error(
                    s,
                    Some("at"),
                    format!(
                        "steps must be in time order, but {at} is before step {}'s {}",
                        i - 1,
                        previous.at
                    ),
                ));
            }
            let complaint = match fields.remove("complaint") {
                Some(Value::String(label)) if !label.trim().is_empty() && label.len() <= 200 => {
                    label
                }
                Some(_) => {
                    return Err(error(
                        s,
                        Some("complaint"),
                        "must be a non-empty label of at most 200 characters",
                    ));
                }
                None => return Err(error(s, Some("complaint"), "missing")),
            };
            let by = match fields.remove("by") {
                None | Some(Value::Null) => None,
                Some(v) => {
                    Some(typed::<Actor>(i, v, &mut ignored).map_err(|e| prefix_field(e, "by"))?)
                }
            };
            let name = match fields.get("command") {
                Some(Value::String(name)) => name.clone(),
                Some(_) => {
                    return Err(error(
                        s,
                        Some("command"),
                        "must be a command name such as \"offer_resolution\"",
                    ));
                }
                None => return Err(error(s, Some("command"), "missing")),
            };
            if !Action::NAMES.contains(&name.as_str()) {
                return Err(error(
                    s,
                    Some("command"),
                    format!(
                        "unknown command '{name}'; the commands are {}",
                        Action::NAMES.join(", ")
                    ),
                ));
            }
            let kind = if name == "receive" {
                fields.remove("command");
                let receive: ReceiveFields = typed(i, Value::Object(fields), &mut ignored)?;
                StepKind::Receive(Box::new(receive))
            } else {
                // Each field costs one parse to check, so only steps of ordinary size are checked.
                let unused = if fields.len() <= 32 {
                    crate::json::unused_tagged_fields::<Action>(&fields)
                } else {
                    Vec::new()
                };
                ignored.extend(
                    unused
                        .into_iter()
                        .filter(|f| f != "command")
                        .map(|f| format!("step {i}: field `{f}`")),
                );
                StepKind::Command(typed::<Action>(i, Value::Object(fields), &mut ignored)?)
            };
            parsed.push(Step {
                at,
                complaint,
                by,
                kind,
            });
        }
        if let Some(last) = parsed.last()
            && until < last.at
        {
            return Err(error(
                None,
                Some("until"),
                format!("{until} is before the last step ({})", last.at),
            ));
        }
        Ok(Scenario {
            procedure,
            until,
            steps: parsed,
            ignored,
        })
    }

    /// Runs the scenario and returns its output lines (JSON objects) in time order.
    pub fn run(&self, procedure: &Procedure) -> Result<Vec<Value>, ScenarioError> {
        let mut sim = Simulation {
            procedure,
            complaints: Vec::new(),
            labels: HashMap::new(),
            sequences: HashMap::new(),
            out: Vec::new(),
        };
        for (i, step) in self.steps.iter().enumerate() {
            sim.fire_until(step.at);
            sim.run_step(i, step)?;
        }
        sim.fire_until(self.until);
        Ok(sim.out)
    }
}

fn prefix_field(mut e: ScenarioError, prefix: &str) -> ScenarioError {
    e.field = Some(match e.field {
        Some(f) => format!("{prefix}.{f}"),
        None => prefix.to_owned(),
    });
    e
}

struct Simulation<'p> {
    procedure: &'p Procedure,
    /// Complaints in the order they were received, with their labels.
    complaints: Vec<(String, Complaint)>,
    labels: HashMap<String, usize>,
    /// The last reference sequence used, per year.
    sequences: HashMap<i16, u64>,
    out: Vec<Value>,
}

impl Simulation<'_> {
    /// Fires every deadline due at or before `until`, each at its own due instant, earliest
    /// first across all complaints.
    fn fire_until(&mut self, until: Timestamp) {
        loop {
            let next = self
                .complaints
                .iter()
                .enumerate()
                .filter_map(|(i, (_, c))| {
                    deadlines(c, self.procedure)
                        .into_iter()
                        .next()
                        .map(|d| (d.due_at, i, d))
                })
                .filter(|(due, _, _)| *due <= until)
                .min_by_key(|(due, i, _)| (*due, *i));
            let Some((due, index, deadline)) = next else {
                return;
            };
            let events = fire(&self.complaints[index].1, &deadline, due, self.procedure);
            if events.is_empty() {
                return;
            }
            self.record(index, &events);
        }
    }

    /// Applies events to a complaint, writing one output line per event.
    fn record(&mut self, index: usize, events: &[Event]) {
        let (label, complaint) = &mut self.complaints[index];
        for event in events {
            *complaint = apply(complaint.clone(), event);
            self.out.push(event_line(label, complaint, event));
        }
    }

    fn default_actor(&self, step: &Step) -> Actor {
        let staff_of =
            |stage: Stage| Actor::staff(Role::Handler, self.procedure.department_of(stage), None);
        let current = self
            .labels
            .get(&step.complaint)
            .map(|i| &self.complaints[*i].1);
        let stage = current.map_or(Stage::CUSTOMER_SERVICES, |c| c.stage);
        match (&step.by, &step.kind) {
            (Some(by), _) => {
                let mut by = by.clone();
                // A member of staff named without a department works in the stage's department.
                if by.role.handles_complaints() && by.department.is_none() {
                    by.department = Some(self.procedure.department_of(stage).to_owned());
                }
                by
            }
            (None, StepKind::Receive(r)) if r.channel == Channel::Web => Actor::customer(),
            (None, StepKind::Receive(_)) => staff_of(Stage::CUSTOMER_SERVICES),
            (None, StepKind::Command(Action::ApproveCompensation { .. })) => Actor::staff(
                Role::CustomerResolutionManager,
                self.procedure.department_of(Stage::RESOLUTION_MANAGER),
                None,
            ),
            (None, StepKind::Command(action)) => match action.asker() {
                redress_core::Asker::Customer => Actor::customer(),
                redress_core::Asker::Staff => staff_of(stage),
            },
        }
    }

    fn run_step(&mut self, i: usize, step: &Step) -> Result<(), ScenarioError> {
        let by = self.default_actor(step);
        match &step.kind {
            StepKind::Receive(fields) => {
                if self.labels.contains_key(&step.complaint) {
                    return Err(error(
                        Some(i),
                        Some("complaint"),
                        format!(
                            "a complaint labelled '{}' has already been received",
                            step.complaint
                        ),
                    ));
                }
                let received_at = fields.received_at.unwrap_or(step.at);
                let reference = match &fields.reference {
                    Some(r) => {
                        Reference::parse(r).map_err(|e| error(Some(i), Some("reference"), e.0))?
                    }
                    None => self.next_reference(received_at),
                };
                let receive = Receive {
                    reference,
                    channel: fields.channel,
                    customer: fields.customer.clone(),
                    summary: fields.summary.clone(),
                    category: fields.category.clone(),
                    received_at: fields.received_at,
                    staff_concerned: fields.staff_concerned.clone(),
                    by,
                };
                match open(receive, step.at, self.procedure) {
                    Ok((_, events)) => {
                        let Some(first) = events.first().and_then(Complaint::start) else {
                            return Err(error(Some(i), None, "the complaint could not be opened"));
                        };
                        self.labels
                            .insert(step.complaint.clone(), self.complaints.len());
                        self.complaints
                            .push((step.complaint.clone(), first.clone()));
                        let index = self.complaints.len() - 1;
                        self.out
                            .push(event_line(&step.complaint, &first, &events[0]));
                        self.record(index, &events[1..]);
                    }
                    Err(refusal) => self.out.push(refusal_line(step, "receive", &refusal)),
                }
            }
            StepKind::Command(action) => {
                let Some(&index) = self.labels.get(&step.complaint) else {
                    return Err(error(
                        Some(i),
                        Some("complaint"),
                        format!(
                            "no complaint labelled '{}' has been received before this step",
                            step.complaint
                        ),
                    ));
                };
                let before = self.complaints[index].1.clone();
                let command = Command {
                    by,
                    action: action.clone(),
                };
                let outcome = execute(before, command, step.at, self.procedure);
                self.record(index, &outcome.events);
                if let Some(refusal) = outcome.refusal {
                    self.out.push(refusal_line(step, action.name(), &refusal));
                }
            }
        }
        Ok(())
    }

    fn next_reference(&mut self, received_at: Timestamp) -> Reference {
        let year = clock::local_date(self.procedure.time_zone(), received_at).year();
        let sequence = self.sequences.entry(year).or_insert(0);
        *sequence += 1;
        Reference::new(&self.procedure.reference_prefix, year, *sequence)
    }
}

/// One output line for an event: `at`, `complaint`, `event`, `stage`, `status`, then the
/// event's own fields and who caused it.
fn event_line(label: &str, complaint: &Complaint, event: &Event) -> Value {
    let mut line = Map::new();
    line.insert("at".into(), Value::String(event.at.to_string()));
    line.insert("complaint".into(), Value::String(label.to_owned()));
    line.insert("event".into(), Value::String(event.kind.name().to_owned()));
    line.insert("stage".into(), Value::from(complaint.stage.number()));
    line.insert(
        "status".into(),
        Value::String(complaint.status.as_str().to_owned()),
    );
    if let Ok(Value::Object(fields)) = serde_json::to_value(&event.kind) {
        for (key, value) in fields {
            // The line's own keys come first and are never overwritten by an event field.
            if !line.contains_key(&key) && key != "event" {
                line.insert(key, value);
            }
        }
    }
    if let Ok(by) = serde_json::to_value(&event.by) {
        line.insert("by".into(), by);
    }
    Value::Object(line)
}

fn refusal_line(step: &Step, command: &str, refusal: &redress_core::Refusal) -> Value {
    let mut line = Map::new();
    line.insert("at".into(), Value::String(step.at.to_string()));
    line.insert("complaint".into(), Value::String(step.complaint.clone()));
    line.insert("refused".into(), Value::String(command.to_owned()));
    line.insert("reason".into(), Value::String(refusal.reason.clone()));
    line.insert(
        "code".into(),
        Value::String(refusal.code.as_str().to_owned()),
    );
    Value::Object(line)
}
