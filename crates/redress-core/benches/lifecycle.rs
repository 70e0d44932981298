//! How fast the pure core runs a complaint's whole life.
//!
//! One lifecycle is a complaint received, then taken up the whole ladder by 16 commands, to
//! the ombudsman's decision, the remedy and closing: 19 events in all. Each command is decided
//! and applied with [`redress_core::execute`], and after every step the deadlines are computed
//! again with [`redress_core::deadlines`], as a service does to refresh its deadline rows.
//!
//! Group `lifecycle`, every member reporting events per second:
//! - `decide_apply_deadlines`: the lifecycle as above;
//! - `replay`: the baseline, the same complaint rebuilt from its already-decided events
//!   ([`Complaint::replay`], apply only);
//! - `decide_apply_deadlines_json`: the lifecycle plus a JSON round trip of each step's events
//!   (serialised for storage, then read back).
//!
//! The commands are built outside the timed routine (criterion's `iter_batched` setup), so
//! only the core is measured. The lifecycle is checked once before measuring: no refusals and
//! exactly the expected events, so the benchmark cannot silently measure refusals.
//!
//! Run: `cargo bench -p redress-core --bench lifecycle`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use jiff::{SignedDuration, Timestamp};
use redress_core::event::{EvidenceSource, OmbudsmanOutcome};
use redress_core::{
    Action, Actor, Channel, Command, Complaint, Customer, Event, Procedure, Receive, Reference,
    Role, Stage, deadlines, execute, open,
};

/// The events one lifecycle records, in order.
const EXPECTED_EVENTS: [&str; 19] = [
    "received",
    "acknowledged",
    "resolution_offered",
    "resolution_rejected",
    "escalated",
    "transferred",
    "evidence_requested",
    "evidence_received",
    "course_of_events_recorded",
    "fault_established",
    "compensation_offered",
    "formal_response_issued",
    "manager_review_requested",
    "deadlock_issued",
    "adr_eligible",
    "referred_to_ombudsman",
    "ombudsman_decided",
    "remedy_completed",
    "closed",
];

/// Who asks for a step: the customer, or a handler of the department owning this stage.
#[derive(Clone, Copy)]
enum Who {
    Customer,
    HandlerAt(Stage),
}

/// A whole lifecycle, ready to run: the receiving, then each command with its instant.
#[derive(Clone)]
struct Script {
    receive: Receive,
    received_at: Timestamp,
    steps: Vec<(Command, Timestamp)>,
}

fn at(start: Timestamp, days: i64, hours: i64) -> Timestamp {
    start + SignedDuration::from_hours(days * 24 + hours)
}

fn script(procedure: &Procedure) -> Script {
    // Received on a Monday morning in March; the lifecycle crosses the change to summer time.
    let start: Timestamp = "2026-03-02T09:30:00Z".parse().expect("a valid instant");
    let text = |s: &str| Some(s.to_owned());
    let plan: Vec<(i64, i64, Who, Action)> = vec![
        (
            1,
            0,
            Who::HandlerAt(Stage::CUSTOMER_SERVICES),
            Action::Acknowledge {
                channel: Some(Channel::Email),
            },
        ),
        (
            3,
            2,
            Who::HandlerAt(Stage::CUSTOMER_SERVICES),
            Action::OfferResolution {
                text: "A credit of £15 for the days without broadband and an engineer visit."
                    .to_owned(),
            },
        ),
        // Asking to escalate rejects the pending offer and escalates: two events.
        (
            6,
            1,
            Who::Customer,
            Action::RequestEscalation {
                channel: Some(Channel::Telephone),
                reason: text("The engineer did not come and the line still drops every evening."),
            },
        ),
        (
            8,
            4,
            Who::HandlerAt(Stage::ESCALATION_TEAM),
            Action::TransferToResolution {
                reason: text("The fault history needs a full investigation."),
            },
        ),
        (
            9,
            0,
            Who::HandlerAt(Stage::CUSTOMER_RESOLUTION),
            Action::RequestEvidence {
                from: EvidenceSource::Customer,
                due_days: 14,
                description: text("Copies of the bills for January and February."),
            },
        ),
        (
            12,
            3,
            Who::Customer,
            Action::ReceiveEvidence {
                request: Some(1),
                description: text("Two bills, scanned."),
                channel: Some(Channel::Email),
            },
        ),
        (
            13,
            1,
            Who::HandlerAt(Stage::CUSTOMER_RESOLUTION),
            Action::RecordCourseOfEvents {
                text: "Line faults reported on 12, 19 and 26 February; engineer booked for 3 \
                       March but not dispatched; customer charged in full for February."
                    .to_owned(),
            },
        ),
        (
            15,
            2,
            Who::HandlerAt(Stage::CUSTOMER_RESOLUTION),
            Action::EstablishFault {
                description: text("The engineer appointment was cancelled by us in error."),
            },
        ),
        // Within the handler's approval limit, so approved when offered.
        (
            16,
            0,
            Who::HandlerAt(Stage::CUSTOMER_RESOLUTION),
            Action::OfferCompensation {
                amount_pence: 5_000,
                reason: text("Loss of service and the missed appointment."),
            },
        ),
        (
            20,
            5,
            Who::HandlerAt(Stage::CUSTOMER_RESOLUTION),
            Action::IssueFormalResponse {
                text: text("Our investigation found fault; we offer £50 and a new appointment."),
            },
        ),
        (
            24,
            2,
            Who::Customer,
            Action::RequestManagerReview {
                text: text("£50 does not cover a month without a working line."),
            },
        ),
        // Deadlock from stage 4: the letter and ADR eligibility, two events.
        (
            30,
            3,
            Who::HandlerAt(Stage::RESOLUTION_MANAGER),
            Action::IssueDeadlockLetter {
                text: text("We cannot offer more; you may go to the ombudsman."),
            },
        ),
        (
            33,
            0,
            Who::Customer,
            Action::ReferToOmbudsman {
                ombudsman_reference: text("OS-COMMS-448812"),
            },
        ),
        (
            60,
            2,
            Who::HandlerAt(Stage::OMBUDSMAN),
            Action::RecordOmbudsmanDecision {
                outcome: OmbudsmanOutcome::Upheld,
                customer_accepted: true,
                remedy: text("Refund February in full and pay £100 for the inconvenience."),
                award_pence: Some(10_000),
            },
        ),
        (
            70,
            1,
            Who::HandlerAt(Stage::OMBUDSMAN),
            Action::CompleteRemedy {
                text: text("Refund and award paid to the customer's account."),
            },
        ),
        (
            72,
            0,
            Who::HandlerAt(Stage::OMBUDSMAN),
            Action::Close {
                reason: text("Remedy completed."),
            },
        ),
    ];
    let steps = plan
        .into_iter()
        .map(|(days, hours, who, action)| {
            let by = match who {
                Who::Customer => Actor::customer(),
                Who::HandlerAt(stage) => {
                    Actor::staff(Role::Handler, procedure.department_of(stage), None)
                }
            };
            (Command { by, action }, at(start, days, hours))
        })
        .collect();
    let receive = Receive {
        reference: Reference::new("CMP", 2026, 4_812),
        channel: Channel::Telephone,
        customer: Customer {
            account: "KX-00918273".to_owned(),
            name: "Ms Alex Example".to_owned(),
            email: Some("alex@example.com".to_owned()),
            telephone: Some("0161 496 0000".to_owned()),
            address: vec!["1 Example Street".to_owned(), "Manchester".to_owned()],
            postcode: None,
            preferred_channel: Some(Channel::Email),
            accessibility_needs: Vec::new(),
            vulnerabilities: Vec::new(),
        },
        summary: "Broadband drops every evening; charged in full for February.".to_owned(),
        category: Some("faults_service_provision".to_owned()),
        received_at: None,
        staff_concerned: Vec::new(),
        by: Actor::staff(
            Role::Handler,
            procedure.department_of(Stage::CUSTOMER_SERVICES),
            None,
        ),
    };
    Script {
        receive,
        received_at: start,
        steps,
    }
}

/// Runs one lifecycle: open, then each command decided and applied, with the deadlines
/// computed after every step. Returns the complaint, every event, and any refusal.
fn run(
    script: Script,
    procedure: &Procedure,
) -> (Complaint, Vec<Event>, Vec<redress_core::Refusal>) {
    let (mut complaint, mut events) = open(script.receive, script.received_at, procedure)
        .unwrap_or_else(|refusal| panic!("receiving was refused: {refusal}"));
    black_box(deadlines(&complaint, procedure));
    let mut refusals = Vec::new();
    for (command, now) in script.steps {
        let outcome = execute(complaint, command, now, procedure);
        complaint = outcome.complaint;
        events.extend(outcome.events);
        if let Some(refusal) = outcome.refusal {
            refusals.push(refusal);
        }
        black_box(deadlines(&complaint, procedure));
    }
    (complaint, events, refusals)
}

/// The lifecycle as measured: what `run` does, without keeping refusals or all events.
fn lifecycle(script: Script, procedure: &Procedure) -> Complaint {
    let (mut complaint, events) = match open(script.receive, script.received_at, procedure) {
        Ok(opened) => opened,
        Err(refusal) => panic!("receiving was refused: {refusal}"),
    };
    black_box(&events);
    black_box(deadlines(&complaint, procedure));
    for (command, now) in script.steps {
        let outcome = execute(complaint, command, now, procedure);
        black_box(&outcome.events);
        black_box(&outcome.refusal);
        complaint = outcome.complaint;
        black_box(deadlines(&complaint, procedure));
    }
    complaint
}

/// The lifecycle with each step's events written to JSON and read back, as a service storing
/// them would.
fn lifecycle_json(script: Script, procedure: &Procedure) -> Complaint {
    let round_trip = |events: &[Event]| -> Vec<Event> {
        let json = serde_json::to_string(events).expect("events serialise");
        serde_json::from_str(black_box(&json)).expect("events deserialise")
    };
    let (mut complaint, events) = match open(script.receive, script.received_at, procedure) {
        Ok(opened) => opened,
        Err(refusal) => panic!("receiving was refused: {refusal}"),
    };
    black_box(round_trip(&events));
    black_box(deadlines(&complaint, procedure));
    for (command, now) in script.steps {
        let outcome = execute(complaint, command, now, procedure);
        black_box(round_trip(&outcome.events));
        black_box(&outcome.refusal);
        complaint = outcome.complaint;
        black_box(deadlines(&complaint, procedure));
    }
    complaint
}

fn bench_lifecycle(c: &mut Criterion) {
    let procedure = Procedure::default_procedure();
    let script = script(&procedure);

    // Checked once, outside the timed loops.
    let (complaint, events, refusals) = run(script.clone(), &procedure);
    assert!(
        refusals.is_empty(),
        "the lifecycle must not be refused anywhere: {refusals:?}"
    );
    let names: Vec<&str> = events.iter().map(|e| e.kind.name()).collect();
    assert_eq!(names, EXPECTED_EVENTS, "unexpected events");
    assert_eq!(complaint.version, EXPECTED_EVENTS.len() as u64);
    assert_eq!(complaint.stage, Stage::OMBUDSMAN);
    assert!(
        complaint.closed_at.is_some(),
        "the complaint must end closed"
    );
    assert!(deadlines(&complaint, &procedure).is_empty());
    let replayed = Complaint::replay(&events).expect("the events begin with received");
    assert_eq!(
        replayed, complaint,
        "replay must rebuild the same complaint"
    );
    assert_eq!(
        lifecycle(script.clone(), &procedure),
        complaint,
        "the measured lifecycle must match the checked one"
    );
    assert_eq!(lifecycle_json(script.clone(), &procedure), complaint);
    let events_per_lifecycle = events.len() as u64;

    let mut group = c.benchmark_group("lifecycle");
    group.throughput(Throughput::Elements(events_per_lifecycle));
    group.bench_function("decide_apply_deadlines", |b| {
        b.iter_batched(
            || script.clone(),
            |s| lifecycle(s, &procedure),
            BatchSize::SmallInput,
        )
    });
    group.bench_function("replay", |b| {
        b.iter_batched(
            || (),
            |()| Complaint::replay(black_box(&events)),
            BatchSize::SmallInput,
        )
    });
    group.bench_function("decide_apply_deadlines_json", |b| {
        b.iter_batched(
            || script.clone(),
            |s| lifecycle_json(s, &procedure),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .measurement_time(Duration::from_secs(5))
        .warm_up_time(Duration::from_secs(1))
        .sample_size(30)
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_lifecycle
}
criterion_main!(benches);
