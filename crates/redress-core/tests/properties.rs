//! Property tests: random command sequences run through `open` and `execute`, as every shell
//! runs them, then the invariants of the ladder and its clocks (docs/compliance.md) are checked.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use redress_core::event::{CallDirection, EvidenceSource, OmbudsmanOutcome};
use redress_core::procedure::DEFAULT_PROCEDURE_TOML;
use redress_core::{
    Action, Actor, Asker, Channel, Command, Complaint, Customer, Event, EventKind, Procedure,
    Receive, Reference, Role, Stage, Status, deadlines, decide, execute, fire_due, next_due, open,
};

// ---------------------------------------------------------------------------------------------
// What is generated
// ---------------------------------------------------------------------------------------------

/// How far the clock moves before a command.
#[derive(Debug, Clone, Copy)]
enum Step {
    /// The same instant as the previous command.
    Same,
    Seconds(i64),
    Hours(i64),
    Days(i64),
    /// Rarely: months, to reach the end of the ombudsman referral window.
    Months(i64),
    /// Exactly the instant the next deadline is due (if one is running), to test ties.
    NextDue,
}

/// Who asks, resolved against the complaint's current stage when the command runs.
#[derive(Debug, Clone, Copy)]
enum Who {
    /// Whoever normally asks for the command: the customer for the customer's commands, a
    /// handler of the owning department for the rest.
    Natural,
    Customer,
    /// A handler of the department that owns the current stage.
    Handler,
    /// A team manager of that department.
    Manager,
    ResolutionManager,
    /// A handler of a department that does not own the current stage.
    OtherDepartment,
    Compliance,
    /// The staff member the complaint is about.
    Concerned,
}

const CONCERNED: &str = "alex@kinex.example";

/// What is asked: a generated command, or (to get deeper into the ladder) whichever command
/// would take the complaint one rung further, chosen when it runs.
#[derive(Debug, Clone)]
enum Plan {
    Do(Action),
    Climb,
}

#[derive(Debug, Clone)]
struct Scenario {
    /// With an acknowledgement target (2 days) or the default procedure (none).
    acknowledgement_target: bool,
    recorded_at: Timestamp,
    /// How long before it was recorded the complaint was received.
    received_days_before: i64,
    name_concerned: bool,
    steps: Vec<(Step, Plan, Who)>,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        10 => Just(Step::Same),
        6 => (1i64..3600).prop_map(Step::Seconds),
        10 => (1i64..72).prop_map(Step::Hours),
        8 => (1i64..10).prop_map(Step::Days),
        1 => (3i64..14).prop_map(Step::Months),
        5 => Just(Step::NextDue),
    ]
}

fn who() -> impl Strategy<Value = Who> {
    prop_oneof![
        16 => Just(Who::Natural),
        3 => Just(Who::Customer),
        4 => Just(Who::Handler),
        3 => Just(Who::Manager),
        1 => Just(Who::ResolutionManager),
        1 => Just(Who::OtherDepartment),
        1 => Just(Who::Compliance),
        1 => Just(Who::Concerned),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => Just("Spoke to the customer".to_owned()),
        1 => Just("   ".to_owned()),
        1 => "[a-zA-Z £\n]{0,30}",
    ]
}

fn optional_text() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(text())
}

fn channel() -> impl Strategy<Value = Channel> {
    prop_oneof![
        Just(Channel::Telephone),
        Just(Channel::Email),
        Just(Channel::Letter),
        Just(Channel::Web),
        Just(Channel::Textphone),
    ]
}

fn outcome() -> impl Strategy<Value = OmbudsmanOutcome> {
    prop_oneof![
        Just(OmbudsmanOutcome::Upheld),
        Just(OmbudsmanOutcome::PartlyUpheld),
        Just(OmbudsmanOutcome::NotUpheld),
    ]
}

fn staff_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("handler-1@kinex.example".to_owned()),
        Just("handler-3@kinex.example".to_owned()),
        Just("manager-2@kinex.example".to_owned()),
        Just(CONCERNED.to_owned()),
        Just("someone@kinex.example".to_owned()),
    ]
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        1 => proptest::option::of(channel()).prop_map(|channel| Action::Acknowledge { channel }),
        2 => (text(), any::<bool>(), proptest::option::of(staff_name())).prop_map(
            |(text, restricted, about_staff)| Action::AddNote { text, restricted, about_staff }
        ),
        1 => (any::<bool>(), optional_text(), proptest::option::of(0u32..2000)).prop_map(
            |(out, summary, duration_minutes)| Action::RecordCall {
                direction: if out { CallDirection::Outbound } else { CallDirection::Inbound },
                summary,
                duration_minutes,
            }
        ),
        1 => staff_name().prop_map(|handler| Action::Assign { handler }),
        1 => prop_oneof![
            3 => Just(CONCERNED.to_owned()),
            1 => staff_name(),
        ]
        .prop_map(|staff| Action::NameStaffConcerned { staff }),
        6 => text().prop_map(|text| Action::OfferResolution { text }),
        3 => Just(Action::AcceptResolution {}),
        2 => optional_text().prop_map(|reason| Action::RejectResolution { reason }),
        8 => (proptest::option::of(channel()), optional_text())
            .prop_map(|(channel, reason)| Action::RequestEscalation { channel, reason }),
        8 => optional_text().prop_map(|reason| Action::TransferToResolution { reason }),
        3 => (any::<bool>(), -2i64..100, optional_text()).prop_map(|(third, due_days, description)| {
            Action::RequestEvidence {
                from: if third { EvidenceSource::ThirdParty } else { EvidenceSource::Customer },
                due_days,
                description,
            }
        }),
        2 => (proptest::option::of(0u32..5), optional_text(), proptest::option::of(channel()))
            .prop_map(|(request, description, channel)| Action::ReceiveEvidence {
                request,
                description,
                channel,
            }),
        1 => text().prop_map(|text| Action::RecordCourseOfEvents { text }),
        3 => optional_text().prop_map(|description| Action::EstablishFault { description }),
        1 => optional_text().prop_map(|reason| Action::FindNoFault { reason }),
        5 => (
            prop_oneof![
                // Within a handler's limit, and above it. Amounts vary, as the same amount
                // offered twice while the first is open is refused as a slip.
                4 => prop_oneof![Just(10_000i64), 1i64..10_000],
                3 => prop_oneof![Just(10_001i64), 10_002i64..400_000],
                1 => prop_oneof![Just(0i64), Just(1_000_001), -10i64..2_000_000],
            ],
            optional_text(),
        )
            .prop_map(|(amount_pence, reason)| Action::OfferCompensation { amount_pence, reason }),
        2 => proptest::option::of(0u32..4).prop_map(|offer| Action::ApproveCompensation { offer }),
        4 => proptest::option::of(0u32..4).prop_map(|offer| Action::AcceptCompensation { offer }),
        1 => (proptest::option::of(0u32..4), text())
            .prop_map(|(offer, reason)| Action::WithdrawOffer { offer, reason }),
        8 => optional_text().prop_map(|text| Action::IssueFormalResponse { text }),
        6 => optional_text().prop_map(|text| Action::RequestManagerReview { text }),
        3 => optional_text().prop_map(|text| Action::IssueDeadlockLetter { text }),
        2 => proptest::option::of(Just("OS-123".to_owned()))
            .prop_map(|ombudsman_reference| Action::ReferToOmbudsman { ombudsman_reference }),
        3 => (
            outcome(),
            any::<bool>(),
            optional_text(),
            proptest::option::of(prop_oneof![Just(0i64), Just(5_000), -5i64..2_000_000]),
        )
            .prop_map(|(outcome, customer_accepted, remedy, award_pence)| {
                Action::RecordOmbudsmanDecision { outcome, customer_accepted, remedy, award_pence }
            }),
        2 => optional_text().prop_map(|text| Action::CompleteRemedy { text }),
        2 => optional_text().prop_map(|reason| Action::Close { reason }),
        2 => optional_text().prop_map(|reason| Action::Reopen { reason }),
    ]
}

fn plan() -> impl Strategy<Value = Plan> {
    prop_oneof![
        4 => action().prop_map(Plan::Do),
        1 => Just(Plan::Climb),
    ]
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        any::<bool>(),
        // Any instant from 2026 to the end of 2028 (both summer-time changes, 29 Feb 2028).
        0i64..(3 * 366 * 24 * 3600),
        prop_oneof![3 => Just(0i64), 1 => 0i64..80],
        any::<bool>(),
        proptest::collection::vec((step(), plan(), who()), 0..40),
    )
        .prop_map(
            |(acknowledgement_target, offset, received_days_before, name_concerned, steps)| {
                Scenario {
                    acknowledgement_target,
                    recorded_at: at("2026-01-01T00:00:00Z") + SignedDuration::from_secs(offset),
                    received_days_before,
                    name_concerned,
                    steps,
                }
            },
        )
}

// ---------------------------------------------------------------------------------------------
// Running a scenario
// ---------------------------------------------------------------------------------------------

fn at(s: &str) -> Timestamp {
    s.parse().expect("valid test instant")
}

/// The default procedure, or the same with a 2-day acknowledgement target (parsed once).
fn procedure(acknowledgement_target: bool) -> &'static Procedure {
    static PROCEDURES: OnceLock<[Procedure; 2]> = OnceLock::new();
    let [default, with_target] = PROCEDURES.get_or_init(|| {
        let text = DEFAULT_PROCEDURE_TOML.replacen(
            "adr_after_weeks = 8\n",
            "adr_after_weeks = 8\nacknowledgement_days = 2\n",
            1,
        );
        [
            Procedure::default_procedure(),
            Procedure::from_toml(&text).expect("valid procedure"),
        ]
    });
    if acknowledgement_target {
        with_target
    } else {
        default
    }
}

fn actor(who: Who, action: &Action, c: &Complaint, p: &Procedure) -> Actor {
    let stage = c.stage.number();
    let own = p.department_of(c.stage);
    match who {
        Who::Natural => match action.asker() {
            Asker::Customer => Actor::customer(),
            Asker::Staff => actor(Who::Handler, action, c, p),
        },
        Who::Customer => Actor::customer(),
        Who::Handler => Actor::staff(
            Role::Handler,
            own,
            Some(&format!("handler-{stage}@kinex.example")),
        ),
        Who::Manager => Actor::staff(
            Role::TeamManager,
            own,
            Some(&format!("manager-{stage}@kinex.example")),
        ),
        Who::ResolutionManager => Actor::staff(
            Role::CustomerResolutionManager,
            "customer_resolution_manager",
            Some("crm@kinex.example"),
        ),
        Who::OtherDepartment => {
            let other = if own == "customer_services" {
                "escalation_team"
            } else {
                "customer_services"
            };
            Actor::staff(Role::Handler, other, Some("other@kinex.example"))
        }
        Who::Compliance => Actor {
            role: Role::Compliance,
            department: None,
            staff: Some("compliance@kinex.example".into()),
        },
        Who::Concerned => Actor::staff(Role::Handler, own, Some(CONCERNED)),
    }
}

/// The command that takes a complaint one rung further (or gets it moving again).
fn climb(c: &Complaint) -> Action {
    if c.is_settled() && c.ombudsman.is_none() {
        return Action::Reopen { reason: None };
    }
    match c.stage.number() {
        1 if c.status == Status::ResolutionOffered => Action::RequestEscalation {
            channel: Some(Channel::Telephone),
            reason: None,
        },
        1 => Action::OfferResolution {
            text: "A credit on the next bill".into(),
        },
        2 => Action::TransferToResolution { reason: None },
        3 if c.formal_response_at.is_none() => Action::IssueFormalResponse { text: None },
        3 => Action::RequestManagerReview { text: None },
        4 if c.deadlock_issued_at.is_none() => Action::IssueDeadlockLetter { text: None },
        4 => Action::ReferToOmbudsman {
            ombudsman_reference: None,
        },
        _ if c.ombudsman.is_none() => Action::RecordOmbudsmanDecision {
            outcome: OmbudsmanOutcome::Upheld,
            customer_accepted: true,
            remedy: Some("Refund".into()),
            award_pence: Some(5_000),
        },
        _ if c.remedy_outstanding() => Action::CompleteRemedy { text: None },
        _ => Action::Close { reason: None },
    }
}

fn advance(now: Timestamp, step: Step, c: &Complaint, p: &Procedure) -> Timestamp {
    match step {
        Step::Same => now,
        Step::Seconds(n) => now + SignedDuration::from_secs(n),
        Step::Hours(n) => now + SignedDuration::from_hours(n),
        Step::Days(n) => now + SignedDuration::from_hours(24 * n),
        Step::Months(n) => now + SignedDuration::from_hours(24 * 30 * n),
        Step::NextDue => match next_due(c, p) {
            Some(due) if due > now => due,
            _ => now + SignedDuration::from_hours(1),
        },
    }
}

/// Everything that happened to one complaint.
struct Run {
    complaint: Complaint,
    log: Vec<Event>,
    accepted: usize,
}

/// Runs a scenario, checking the invariants that hold after every command; returns the
/// history for the checks on the whole run. `Err` carries the first broken invariant.
fn run(s: &Scenario) -> Result<Run, TestCaseError> {
    let p = procedure(s.acknowledgement_target);
    let now = s.recorded_at;
    let receive = Receive {
        reference: Reference::new("CMP", 2026, 42),
        channel: Channel::Letter,
        customer: Customer {
            account: "ACC-1".into(),
            name: "Ann Example".into(),
            email: None,
            telephone: Some("0161 000 0000".into()),
            address: vec![],
            postcode: None,
            preferred_channel: None,
            accessibility_needs: vec![],
            vulnerabilities: vec![],
        },
        summary: "Charged twice for one month".into(),
        category: Some("billing_pricing_charges".into()),
        received_at: Some(now - SignedDuration::from_hours(24 * s.received_days_before)),
        staff_concerned: if s.name_concerned {
            vec![CONCERNED.into()]
        } else {
            vec![]
        },
        by: Actor::staff(
            Role::Handler,
            "customer_services",
            Some("handler-1@kinex.example"),
        ),
    };
    let (mut c, mut log) = open(receive, now, p).expect("a valid complaint opens");
    check_after(&c, &log, now, p)?;
    let mut now = now;
    let mut accepted = 0;

    for (step, plan, who) in &s.steps {
        now = advance(now, *step, &c, p);
        let action = &match plan {
            Plan::Do(action) => action.clone(),
            Plan::Climb => climb(&c),
        };
        let command = Command {
            by: actor(*who, action, &c, p),
            action: action.clone(),
        };
        // decide on its own (after the deadlines due) never panics and agrees with execute.
        let (fired, fired_events) = fire_due(c.clone(), now, p);
        let decided = decide(&fired, command.clone(), now, p);
        // A scheduler firing the due deadlines first changes nothing: each fires once,
        // whoever fires it.
        let scheduled = execute(fired.clone(), command.clone(), now, p);

        let before = c.clone();
        let outcome = execute(c, command, now, p);
        prop_assert_eq!(
            decided.is_ok(),
            outcome.refusal.is_none(),
            "decide and execute disagree on {:?}",
            action
        );
        if outcome.refusal.is_none() {
            accepted += 1;
        }
        prop_assert_eq!(&scheduled.complaint, &outcome.complaint);
        prop_assert_eq!(
            fired_events
                .iter()
                .chain(&scheduled.events)
                .collect::<Vec<_>>(),
            outcome.events.iter().collect::<Vec<_>>()
        );
        prop_assert!(
            outcome.complaint.stage >= before.stage,
            "stage went down from {} to {} on {:?}",
            before.stage,
            outcome.complaint.stage,
            action
        );
        for event in &outcome.events {
            prop_assert_eq!(event.at, now, "event {} not stamped now", event.kind.name());
        }
        c = outcome.complaint;
        log.extend(outcome.events);
        check_after(&c, &log, now, p)?;
    }
    Ok(Run {
        complaint: c,
        log,
        accepted,
    })
}

/// The instant a deadline event says it was due.
fn due_at(kind: &EventKind) -> Option<Timestamp> {
    match kind {
        EventKind::ResponseOverdue { due_at }
        | EventKind::RemedyOverdue { due_at }
        | EventKind::AcknowledgementOverdue { due_at }
        | EventKind::EvidenceOverdue { due_at, .. }
        | EventKind::AdrNoticeSent { due_at, .. } => Some(*due_at),
        EventKind::AdrEligible { due_at, .. } => Some(*due_at),
        _ => None,
    }
}

fn check_after(
    c: &Complaint,
    log: &[Event],
    now: Timestamp,
    p: &Procedure,
) -> Result<(), TestCaseError> {
    // Everything due by now has fired, and nothing fired before it was due.
    for d in deadlines(c, p) {
        prop_assert!(
            d.due_at > now,
            "{:?} due at {} still pending at {}",
            d.kind,
            d.due_at,
            now
        );
    }
    for event in log {
        if let Some(due) = due_at(&event.kind) {
            prop_assert!(
                due <= event.at,
                "{} fired before it was due",
                event.kind.name()
            );
        }
    }
    Ok(())
}

fn count(log: &[Event], name: &str) -> usize {
    log.iter().filter(|e| e.kind.name() == name).count()
}

// ---------------------------------------------------------------------------------------------
// The properties
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Runs every command without panicking; each command's decision agrees with `decide`;
    /// stage never decreases; events are stamped with the instant they happened; after every
    /// command nothing due is left pending and nothing fired early.
    #[test]
    fn commands_never_panic_and_the_stage_never_decreases(s in scenario()) {
        let r = run(&s)?;
        let mut stage = Stage::CUSTOMER_SERVICES;
        for event in &r.log {
            let to = match &event.kind {
                EventKind::Escalated { from_stage, to_stage, .. }
                | EventKind::ManagerReviewRequested { from_stage, to_stage, .. } => {
                    prop_assert!(to_stage > from_stage);
                    Some(*to_stage)
                }
                EventKind::Transferred { to_stage, .. } => Some(*to_stage),
                EventKind::ReferredToOmbudsman { .. } => Some(Stage::OMBUDSMAN),
                _ => None,
            };
            if let Some(to) = to {
                prop_assert!(to > stage, "{} moved from stage {} to {}", event.kind.name(), stage, to);
                stage = to;
            }
        }
        prop_assert_eq!(r.complaint.stage, stage);
    }

    /// Each deadline fires at most once: one response_overdue, one remedy_overdue, one
    /// acknowledgement_overdue, one evidence_overdue per request; adr_eligible and
    /// adr_notice_sent at most once each, the notice never without eligibility, and never after
    /// a deadlock letter.
    #[test]
    fn each_deadline_fires_at_most_once(s in scenario()) {
        let r = run(&s)?;
        for name in [
            "response_overdue",
            "remedy_overdue",
            "acknowledgement_overdue",
            "adr_eligible",
            "adr_notice_sent",
            "deadlock_issued",
        ] {
            prop_assert!(count(&r.log, name) <= 1, "{} happened {} times", name, count(&r.log, name));
        }
        let mut evidence: BTreeMap<u32, usize> = BTreeMap::new();
        for event in &r.log {
            if let EventKind::EvidenceOverdue { request, .. } = event.kind {
                *evidence.entry(request).or_default() += 1;
            }
        }
        prop_assert!(evidence.values().all(|n| *n == 1), "evidence_overdue per request: {:?}", evidence);

        let position = |name: &str| r.log.iter().position(|e| e.kind.name() == name);
        if let Some(notice) = position("adr_notice_sent") {
            let eligible = position("adr_eligible");
            prop_assert!(eligible.is_some_and(|e| e < notice), "notice without eligibility");
            if let Some(deadlock) = position("deadlock_issued") {
                prop_assert!(notice < deadlock, "an 8-week notice followed a deadlock letter");
            }
        }
        // An ADR-eligible complaint always has its ADR letter.
        prop_assert_eq!(
            r.complaint.adr_eligible_at.is_some(),
            r.complaint.adr_letter_sent_at().is_some()
        );
    }

    /// The complaint is exactly the fold of its events, also after they have been written to
    /// JSON and read back (what a store does).
    #[test]
    fn replaying_the_events_from_json_rebuilds_the_same_complaint(s in scenario()) {
        let r = run(&s)?;
        let json = serde_json::to_string(&r.log).expect("events serialise");
        let back: Vec<Event> = serde_json::from_str(&json).expect("events deserialise");
        prop_assert_eq!(&back, &r.log);
        let replayed = Complaint::replay(&back).expect("history starts with received");
        prop_assert_eq!(replayed, r.complaint.clone());
        prop_assert_eq!(r.complaint.version, r.log.len() as u64);
    }
}

/// The stages a complaint stood at during its history.
fn stages_visited(log: &[Event]) -> Vec<u8> {
    let mut stages = vec![1];
    for event in log {
        let to = match &event.kind {
            EventKind::Escalated { to_stage, .. }
            | EventKind::Transferred { to_stage, .. }
            | EventKind::ManagerReviewRequested { to_stage, .. } => to_stage.number(),
            EventKind::ReferredToOmbudsman { .. } => 5,
            _ => continue,
        };
        stages.push(to);
    }
    stages
}

/// The generator is only worth something if random sequences get somewhere: across a fixed
/// set of generated scenarios, a good share of commands succeed, every stage is reached, and
/// every kind of deadline fires at least once.
#[test]
fn random_sequences_reach_every_stage_and_fire_every_deadline() {
    let mut runner = TestRunner::deterministic();
    let strategy = scenario();
    let mut reached = [0usize; 6];
    let mut seen: BTreeMap<&'static str, usize> = BTreeMap::new();
    let (mut commands, mut accepted) = (0, 0);
    for _ in 0..256 {
        let s = strategy
            .new_tree(&mut runner)
            .expect("a scenario")
            .current();
        let r = run(&s).expect("invariants hold");
        for stage in stages_visited(&r.log) {
            reached[usize::from(stage)] += 1;
        }
        commands += s.steps.len();
        accepted += r.accepted;
        for event in &r.log {
            *seen.entry(event.kind.name()).or_default() += 1;
        }
    }
    eprintln!(
        "{accepted} of {commands} commands accepted; runs reaching each stage {reached:?}; events {seen:?}"
    );
    assert!(
        accepted * 3 >= commands,
        "only {accepted} of {commands} commands succeeded"
    );
    for stage in 1..=5 {
        assert!(
            reached[stage] >= 5,
            "too few runs reached stage {stage}: {reached:?}"
        );
    }
    for name in [
        "escalated",
        "transferred",
        "manager_review_requested",
        "deadlock_issued",
        "referred_to_ombudsman",
        "ombudsman_decided",
        "response_overdue",
        "evidence_overdue",
        "acknowledgement_overdue",
        "adr_eligible",
        "adr_notice_sent",
        "remedy_overdue",
        "remedy_completed",
        "compensation_offered",
        "reopened",
        "closed",
    ] {
        assert!(seen.contains_key(name), "no run produced {name}: {seen:?}");
    }
}
