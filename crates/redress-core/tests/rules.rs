//! The procedure's rules (as docs/compliance.md lists them), one or more tests per rule, run through
//! the public core API (`open`, `execute`, `decide`, `deadlines`) as every shell runs them.

use jiff::civil::{Date, date};
use jiff::{SignedDuration, Timestamp};
use redress_core::event::{AdrReason, EvidenceSource, OmbudsmanOutcome};
use redress_core::procedure::DEFAULT_PROCEDURE_TOML;
use redress_core::{
    Action, Actor, Channel, Command, Complaint, Customer, DeadlineKind, Event, EventKind, Outcome,
    Procedure, Receive, Reference, Refusal, RefusalCode, Role, Stage, Status, authorise, deadlines,
    decide, execute, open, receive,
};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn procedure() -> Procedure {
    Procedure::default_procedure()
}

/// The default procedure with its text edited (e.g. one rule changed).
fn procedure_with(from: &str, to: &str) -> Procedure {
    assert!(
        DEFAULT_PROCEDURE_TOML.contains(from),
        "{from} not in the default procedure"
    );
    Procedure::from_toml(&DEFAULT_PROCEDURE_TOML.replacen(from, to, 1)).expect("valid procedure")
}

/// The default procedure plus a second rule version (Ofcom's 6 weeks) from 1 April 2027.
fn procedure_with_six_weeks_from_april_2027() -> Procedure {
    let text = DEFAULT_PROCEDURE_TOML.to_owned()
        + r#"
[[rules]]
effective_from = "2027-04-01"
formal_response_days = 28
adr_after_weeks = 6
adr_referral_window_months = 12
remedy_days = 28
deadlock_stages = [3, 4]
evidence_max_days = 90
compensation_max_pence = 250000
retention_months = 15
approval_limits_pence = { handler = 10000, team_manager = 50000, customer_resolution_manager = 250000 }
"#;
    Procedure::from_toml(&text).expect("valid procedure with two rule versions")
}

fn at(s: &str) -> Timestamp {
    s.parse().expect("valid test instant")
}

fn days(n: i64) -> SignedDuration {
    SignedDuration::from_hours(24 * n)
}

fn department(stage: u8) -> &'static str {
    match stage {
        1 => "customer_services",
        2 => "escalation_team",
        3 | 5 => "customer_resolution",
        4 => "customer_resolution_manager",
        _ => panic!("no stage {stage}"),
    }
}

/// A handler of the department that owns `stage`.
fn handler(stage: u8) -> Actor {
    Actor::staff(
        Role::Handler,
        department(stage),
        Some(&format!("handler{stage}@kinex.example")),
    )
}

/// A team manager of the department that owns `stage`.
fn manager(stage: u8) -> Actor {
    Actor::staff(
        Role::TeamManager,
        department(stage),
        Some(&format!("manager{stage}@kinex.example")),
    )
}

fn resolution_manager() -> Actor {
    Actor::staff(
        Role::CustomerResolutionManager,
        "customer_resolution_manager",
        Some("crm@kinex.example"),
    )
}

fn customer() -> Actor {
    Actor::customer()
}

fn compliance() -> Actor {
    Actor {
        role: Role::Compliance,
        department: None,
        staff: Some("compliance@kinex.example".into()),
    }
}

fn administrator() -> Actor {
    Actor {
        role: Role::Administrator,
        department: None,
        staff: Some("admin@kinex.example".into()),
    }
}

fn customer_details() -> Customer {
    Customer {
        account: "ACC-100200".into(),
        name: "Ann Example".into(),
        email: Some("ann@example.com".into()),
        telephone: None,
        address: vec!["1 High Street".into(), "Manchester".into()],
        postcode: None,
        preferred_channel: Some(Channel::Email),
        accessibility_needs: vec![],
        vulnerabilities: vec![],
    }
}

fn receive_command(received_at: Option<Timestamp>) -> Receive {
    Receive {
        reference: Reference::new("CMP", 2026, 1),
        channel: Channel::Telephone,
        customer: customer_details(),
        summary: "Broadband has been down for a week".into(),
        category: Some("faults_service_provision".into()),
        received_at,
        staff_concerned: vec![],
        by: handler(1),
    }
}

fn names(events: &[Event]) -> Vec<&'static str> {
    events.iter().map(|e| e.kind.name()).collect()
}

fn note(text: &str) -> Action {
    Action::AddNote {
        text: text.into(),
        restricted: false,
        about_staff: None,
    }
}

fn offer_resolution() -> Action {
    Action::OfferResolution {
        text: "A credit of £10 and an engineer visit".into(),
    }
}

fn escalation() -> Action {
    Action::RequestEscalation {
        channel: Some(Channel::Telephone),
        reason: None,
    }
}

fn transfer() -> Action {
    Action::TransferToResolution { reason: None }
}

fn formal_response() -> Action {
    Action::IssueFormalResponse {
        text: Some("Our investigation found...".into()),
    }
}

fn manager_review() -> Action {
    Action::RequestManagerReview { text: None }
}

fn deadlock_letter() -> Action {
    Action::IssueDeadlockLetter { text: None }
}

fn referral() -> Action {
    Action::ReferToOmbudsman {
        ombudsman_reference: Some("OS-12345".into()),
    }
}

fn close() -> Action {
    Action::Close { reason: None }
}

fn reopen() -> Action {
    Action::Reopen { reason: None }
}

fn offer_compensation(amount_pence: i64) -> Action {
    Action::OfferCompensation {
        amount_pence,
        reason: None,
    }
}

fn evidence_request(due_days: i64) -> Action {
    Action::RequestEvidence {
        from: EvidenceSource::Customer,
        due_days,
        description: Some("Copies of the bills".into()),
    }
}

fn decision(outcome: OmbudsmanOutcome, customer_accepted: bool) -> Action {
    Action::RecordOmbudsmanDecision {
        outcome,
        customer_accepted,
        remedy: Some("Refund the line rental".into()),
        award_pence: None,
    }
}

/// One complaint run through the core, with its whole history.
#[derive(Clone)]
struct Case {
    p: Procedure,
    c: Complaint,
    log: Vec<Event>,
}

impl Case {
    /// A complaint received (and recorded) at `received` under the default procedure.
    fn open(received: &str) -> Case {
        Case::open_with(procedure(), receive_command(None), at(received))
    }

    fn open_with(p: Procedure, command: Receive, now: Timestamp) -> Case {
        let (c, log) = open(command, now, &p).expect("the complaint opens");
        Case { p, c, log }
    }

    /// A complaint received at `received`, escalated at once and transferred to the Customer
    /// Resolution department at `transferred`.
    fn at_stage_3(received: &str, transferred: &str) -> Case {
        let mut case = Case::open(received);
        case.escalate(at(received));
        case.run(at(transferred), handler(2), transfer());
        case
    }

    /// Runs a command through `execute`, keeping whatever happened (deadlines fire even when
    /// the command is refused).
    fn execute(&mut self, now: Timestamp, by: Actor, action: Action) -> Outcome {
        let outcome = execute(self.c.clone(), Command { by, action }, now, &self.p);
        self.c = outcome.complaint.clone();
        self.log.extend(outcome.events.iter().cloned());
        outcome
    }

    /// Runs a command that must succeed; returns every event of the outcome.
    fn run(&mut self, now: Timestamp, by: Actor, action: Action) -> Vec<Event> {
        let name = action.name();
        let outcome = self.execute(now, by, action);
        if let Some(refusal) = outcome.refusal {
            panic!("{name} was refused: {refusal}");
        }
        outcome.events
    }

    /// Runs a command that must be refused; returns the refusal.
    fn refused(&mut self, now: Timestamp, by: Actor, action: Action) -> Refusal {
        let name = action.name();
        let outcome = self.execute(now, by, action);
        match outcome.refusal {
            Some(refusal) => refusal,
            None => panic!(
                "{name} should have been refused but gave {:?}",
                names(&outcome.events)
            ),
        }
    }

    /// Customer Services offers a resolution; the customer asks to escalate.
    fn escalate(&mut self, now: Timestamp) {
        self.run(now, handler(1), offer_resolution());
        self.run(now, customer(), escalation());
    }

    /// How many events of this kind the complaint has had.
    fn count(&self, name: &str) -> usize {
        self.log.iter().filter(|e| e.kind.name() == name).count()
    }

    fn deadline(&self, kind: DeadlineKind) -> Option<redress_core::Deadline> {
        deadlines(&self.c, &self.p)
            .into_iter()
            .find(|d| d.kind == kind)
    }
}

fn assert_refused(refusal: &Refusal, code: RefusalCode, words: &str) {
    assert_eq!(refusal.code, code, "{refusal:?}");
    assert!(
        refusal.reason.contains(words),
        "refusal {:?} should say {words:?}",
        refusal.reason
    );
}

/// The 8-week point of a complaint received at 09:00 GMT on 10 March 2026: 00:00 BST on 5 May.
const RECEIVED: &str = "2026-03-10T09:00:00Z";
const EIGHT_WEEKS: &str = "2026-05-04T23:00:00Z";

// ---------------------------------------------------------------------------------------------
// receive
// ---------------------------------------------------------------------------------------------

#[test]
fn a_new_complaint_starts_open_at_stage_1_with_customer_services() {
    let case = Case::open(RECEIVED);
    assert_eq!(names(&case.log), ["received"]);
    assert_eq!(case.c.stage, Stage::CUSTOMER_SERVICES);
    assert_eq!(case.c.status, Status::Open);
    assert_eq!(case.c.first_received_at, at(RECEIVED));
    assert_eq!(case.c.procedure_version, "kinex-2026-1");
    assert_eq!(case.p.department_of(case.c.stage), "customer_services");
}

#[test]
fn web_and_email_complaints_are_acknowledged_by_the_system_as_they_arrive() {
    for channel in [Channel::Web, Channel::Email] {
        let mut command = receive_command(None);
        command.channel = channel;
        command.by = customer();
        let case = Case::open_with(procedure(), command, at(RECEIVED));
        assert_eq!(
            names(&case.log),
            ["received", "acknowledged"],
            "{channel:?}"
        );
        let ack = &case.log[1];
        assert_eq!(ack.by.role, Role::System);
        assert_eq!(case.c.acknowledged_at, Some(at(RECEIVED)));
        // The letter goes by the channel the customer chose: email, as they asked.
        let letter = redress_core::correspondence::caused_by(ack, &case.c).expect("a letter");
        assert_eq!(
            letter.kind,
            redress_core::letters::LetterKind::Acknowledgement
        );
        assert_eq!(letter.route, redress_core::correspondence::Route::Email);
    }
}

#[test]
fn telephone_complaints_and_procedures_that_say_so_leave_acknowledgement_to_staff() {
    let case = Case::open(RECEIVED);
    assert_eq!(names(&case.log), ["received"], "a telephone complaint");
    let text = DEFAULT_PROCEDURE_TOML;
    let off = Procedure::from_toml(&format!("{text}\n[acknowledgement]\nautomatic = []\n"))
        .expect("the procedure reads");
    let mut command = receive_command(None);
    command.channel = Channel::Web;
    command.by = customer();
    let case = Case::open_with(off, command, at(RECEIVED));
    assert_eq!(
        names(&case.log),
        ["received"],
        "automatic acknowledgement off"
    );
    let errors = Procedure::from_toml(&format!(
        "{text}\n[acknowledgement]\nautomatic = [\"telephone\"]\n"
    ))
    .expect_err("telephone cannot be acknowledged automatically");
    assert!(
        errors.to_string().contains("acknowledgement.automatic"),
        "{errors}"
    );
}

#[test]
fn a_complaint_cannot_be_received_in_the_future() {
    let now = at(RECEIVED);
    let refusal = receive(
        receive_command(Some(now + SignedDuration::from_secs(1))),
        now,
        &procedure(),
    )
    .unwrap_err();
    assert_refused(
        &refusal,
        RefusalCode::InvalidInput,
        "received in the future",
    );
    assert!(open(receive_command(Some(now + days(1))), now, &procedure()).is_err());
    // Received at exactly now is fine.
    assert!(receive(receive_command(Some(now)), now, &procedure()).is_ok());
}

#[test]
fn a_complaint_needs_the_customers_name() {
    let mut command = receive_command(None);
    command.customer.name = "   ".into();
    let refusal = receive(command, at(RECEIVED), &procedure()).unwrap_err();
    assert_refused(
        &refusal,
        RefusalCode::InvalidInput,
        "the customer's name must not be empty",
    );
}

#[test]
fn an_unknown_category_is_refused_with_the_list_of_categories() {
    let mut command = receive_command(None);
    command.category = Some("weather".into());
    let refusal = receive(command, at(RECEIVED), &procedure()).unwrap_err();
    assert_refused(
        &refusal,
        RefusalCode::InvalidInput,
        "'weather' is not a complaint category",
    );
    assert!(refusal.reason.contains("mis_selling"), "{}", refusal.reason);
    assert!(
        refusal.reason.contains("unauthorised_transfer"),
        "{}",
        refusal.reason
    );
}

#[test]
fn sales_and_marketing_categories_are_accepted() {
    for category in ["mis_selling", "unauthorised_transfer"] {
        let mut command = receive_command(None);
        command.category = Some(category.into());
        let (c, _) = open(command, at(RECEIVED), &procedure()).expect("known category");
        assert_eq!(c.category.as_deref(), Some(category));
    }
}

#[test]
fn compliance_staff_and_administrators_cannot_record_complaints() {
    for by in [compliance(), administrator()] {
        let mut command = receive_command(None);
        command.by = by;
        let refusal = receive(command, at(RECEIVED), &procedure()).unwrap_err();
        assert_eq!(refusal.code, RefusalCode::NotPermitted);
    }
}

// ---------------------------------------------------------------------------------------------
// acknowledge
// ---------------------------------------------------------------------------------------------

#[test]
fn a_complaint_is_acknowledged_once() {
    let mut case = Case::open(RECEIVED);
    let events = case.run(
        at(RECEIVED),
        handler(1),
        Action::Acknowledge {
            channel: Some(Channel::Email),
        },
    );
    assert_eq!(names(&events), ["acknowledged"]);
    assert_eq!(case.c.acknowledged_at, Some(at(RECEIVED)));
    let refusal = case.refused(
        at("2026-03-11T09:00:00Z"),
        handler(1),
        Action::Acknowledge { channel: None },
    );
    assert_refused(
        &refusal,
        RefusalCode::AlreadyDone,
        "already been acknowledged",
    );
}

#[test]
fn the_default_procedure_sets_no_acknowledgement_target() {
    let case = Case::open(RECEIVED);
    assert!(case.deadline(DeadlineKind::Acknowledgement).is_none());
}

#[test]
fn acknowledgement_overdue_fires_once_where_the_procedure_sets_a_target() {
    let p = procedure_with(
        "adr_after_weeks = 8\n",
        "adr_after_weeks = 8\nacknowledgement_days = 2\n",
    );
    let mut case = Case::open_with(p, receive_command(None), at(RECEIVED));
    // Received 10 March: the target ends with 12 March; overdue from 00:00 on 13 March (GMT).
    let d = case
        .deadline(DeadlineKind::Acknowledgement)
        .expect("a target");
    assert_eq!(d.due_by, date(2026, 3, 12));
    assert_eq!(d.due_at, at("2026-03-13T00:00:00Z"));
    let events = case.run(at("2026-03-13T00:00:00Z"), handler(1), note("chased"));
    assert_eq!(names(&events), ["acknowledgement_overdue", "note_added"]);
    case.run(
        at("2026-03-14T00:00:00Z"),
        handler(1),
        Action::Acknowledge { channel: None },
    );
    case.run(at("2026-03-20T00:00:00Z"), handler(1), note("later"));
    assert_eq!(case.count("acknowledgement_overdue"), 1);
}

#[test]
fn no_acknowledgement_overdue_when_acknowledged_in_time() {
    let p = procedure_with(
        "adr_after_weeks = 8\n",
        "adr_after_weeks = 8\nacknowledgement_days = 2\n",
    );
    let mut case = Case::open_with(p, receive_command(None), at(RECEIVED));
    case.run(
        at("2026-03-12T23:59:59Z"),
        handler(1),
        Action::Acknowledge { channel: None },
    );
    case.run(at("2026-03-20T00:00:00Z"), handler(1), note("later"));
    assert_eq!(case.count("acknowledgement_overdue"), 0);
}

// ---------------------------------------------------------------------------------------------
// Stage 1 -> 2: escalation
// ---------------------------------------------------------------------------------------------

#[test]
fn customer_cannot_escalate_before_customer_services_offers_a_resolution() {
    let mut case = Case::open(RECEIVED);
    let refusal = case.refused(at(RECEIVED), customer(), escalation());
    assert_refused(
        &refusal,
        RefusalCode::NotYet,
        "Customer Services must offer a resolution",
    );
    assert_eq!(case.c.stage, Stage::CUSTOMER_SERVICES);
}

#[test]
fn asking_to_escalate_rejects_the_pending_offer() {
    let mut case = Case::open(RECEIVED);
    case.run(at(RECEIVED), handler(1), offer_resolution());
    assert_eq!(case.c.status, Status::ResolutionOffered);
    let events = case.run(at("2026-03-11T10:00:00Z"), customer(), escalation());
    assert_eq!(names(&events), ["resolution_rejected", "escalated"]);
    assert_eq!(case.c.stage, Stage::ESCALATION_TEAM);
    assert_eq!(case.c.status, Status::Open);
    match &events[1].kind {
        EventKind::Escalated {
            from_stage,
            to_stage,
            channel,
        } => {
            assert_eq!(
                (*from_stage, *to_stage),
                (Stage::CUSTOMER_SERVICES, Stage::ESCALATION_TEAM)
            );
            assert_eq!(*channel, Some(Channel::Telephone));
        }
        other => panic!("expected escalated, got {other:?}"),
    }
}

#[test]
fn customer_can_escalate_after_rejecting_the_offer() {
    let mut case = Case::open(RECEIVED);
    case.run(at(RECEIVED), handler(1), offer_resolution());
    case.run(
        at(RECEIVED),
        customer(),
        Action::RejectResolution { reason: None },
    );
    let events = case.run(at(RECEIVED), customer(), escalation());
    assert_eq!(names(&events), ["escalated"]);
    assert_eq!(case.c.stage, Stage::ESCALATION_TEAM);
}

#[test]
fn customer_who_accepted_the_offer_cannot_escalate() {
    let mut case = Case::open(RECEIVED);
    case.run(at(RECEIVED), handler(1), offer_resolution());
    case.run(at(RECEIVED), customer(), Action::AcceptResolution {});
    assert_eq!(case.c.status, Status::Resolved);
    let refusal = case.refused(at(RECEIVED), customer(), escalation());
    assert_eq!(refusal.code, RefusalCode::WrongStatus);
    assert_eq!(case.c.stage, Stage::CUSTOMER_SERVICES);
}

#[test]
fn the_escalation_team_can_take_the_request_to_escalate_by_telephone() {
    let mut case = Case::open(RECEIVED);
    case.run(at(RECEIVED), handler(1), offer_resolution());
    let events = case.run(at(RECEIVED), handler(2), escalation());
    assert_eq!(names(&events), ["resolution_rejected", "escalated"]);
    assert_eq!(case.c.stage, Stage::ESCALATION_TEAM);
}

#[test]
fn escalation_is_refused_once_the_complaint_is_with_the_escalation_team() {
    let mut case = Case::open(RECEIVED);
    case.escalate(at(RECEIVED));
    let refusal = case.refused(at(RECEIVED), customer(), escalation());
    assert_refused(
        &refusal,
        RefusalCode::WrongStage,
        "already with the Escalation Team",
    );
}

// ---------------------------------------------------------------------------------------------
// Stage 2 -> 3: transfer to the Customer Resolution department
// ---------------------------------------------------------------------------------------------

#[test]
fn transfer_to_resolution_is_refused_at_stage_1() {
    let mut case = Case::open(RECEIVED);
    let refusal = case.refused(at(RECEIVED), handler(1), transfer());
    assert_refused(&refusal, RefusalCode::WrongStage, "Escalation Team before");
    assert_eq!(case.c.stage, Stage::CUSTOMER_SERVICES);
}

#[test]
fn the_escalation_team_transfers_a_complaint_it_cannot_resolve() {
    let mut case = Case::open(RECEIVED);
    case.escalate(at(RECEIVED));
    let events = case.run(at(RECEIVED), handler(2), transfer());
    assert_eq!(names(&events), ["transferred"]);
    assert_eq!(case.c.stage, Stage::CUSTOMER_RESOLUTION);
    assert_eq!(case.c.transferred_at, Some(at(RECEIVED)));
    match &events[0].kind {
        EventKind::Transferred {
            to_stage,
            to_department,
            response_due_by,
            ..
        } => {
            assert_eq!(*to_stage, Stage::CUSTOMER_RESOLUTION);
            assert_eq!(to_department, "customer_resolution");
            assert_eq!(*response_due_by, date(2026, 4, 7));
        }
        other => panic!("expected transferred, got {other:?}"),
    }
}

#[test]
fn transfer_to_resolution_is_refused_once_transferred() {
    let mut case = Case::at_stage_3(RECEIVED, RECEIVED);
    let refusal = case.refused(at(RECEIVED), handler(3), transfer());
    assert_refused(
        &refusal,
        RefusalCode::WrongStage,
        "already been transferred",
    );
}

#[test]
fn transfer_withdraws_an_offer_still_waiting_for_an_answer() {
    let mut case = Case::open(RECEIVED);
    case.escalate(at(RECEIVED));
    case.run(at(RECEIVED), handler(2), offer_resolution());
    assert_eq!(case.c.status, Status::ResolutionOffered);
    case.run(at(RECEIVED), handler(2), transfer());
    assert_eq!(case.c.status, Status::Open);
    let refusal = case.refused(at(RECEIVED), customer(), Action::AcceptResolution {});
    assert_eq!(refusal.code, RefusalCode::NotYet);
}

// ---------------------------------------------------------------------------------------------
// Stage 3: investigation and the formal written response within 28 days
// ---------------------------------------------------------------------------------------------

#[test]
fn the_formal_response_is_refused_before_stage_3() {
    let mut case = Case::open(RECEIVED);
    let refusal = case.refused(at(RECEIVED), handler(1), formal_response());
    assert_eq!(refusal.code, RefusalCode::WrongStage);
    case.escalate(at(RECEIVED));
    let refusal = case.refused(at(RECEIVED), handler(2), formal_response());
    assert_eq!(refusal.code, RefusalCode::WrongStage);
    assert!(case.c.formal_response_at.is_none());
}

#[test]
fn the_formal_response_is_issued_at_stage_3_once() {
    let mut case = Case::at_stage_3(RECEIVED, RECEIVED);
    let events = case.run(at("2026-03-20T10:00:00Z"), handler(3), formal_response());
    assert_eq!(names(&events), ["formal_response_issued"]);
    assert_eq!(case.c.formal_response_at, Some(at("2026-03-20T10:00:00Z")));
    let refusal = case.refused(at("2026-03-21T10:00:00Z"), handler(3), formal_response());
    assert_refused(&refusal, RefusalCode::AlreadyDone, "already been issued");
}

#[test]
fn the_course_of_events_is_recorded_only_in_the_investigation() {
    let mut case = Case::open(RECEIVED);
    let refusal = case.refused(
        at(RECEIVED),
        handler(1),
        Action::RecordCourseOfEvents {
            text: "The line failed on 1 March".into(),
        },
    );
    assert_eq!(refusal.code, RefusalCode::WrongStage);
    let mut case = Case::at_stage_3(RECEIVED, RECEIVED);
    let events = case.run(
        at(RECEIVED),
        handler(3),
        Action::RecordCourseOfEvents {
            text: "The line failed on 1 March".into(),
        },
    );
    assert_eq!(names(&events), ["course_of_events_recorded"]);
}

#[test]
fn the_formal_response_from_a_transfer_on_10_march_is_due_by_the_end_of_7_april() {
    let case = Case::at_stage_3(RECEIVED, "2026-03-10T10:00:00Z");
    let d = case
        .deadline(DeadlineKind::FormalResponse)
        .expect("a response clock");
    assert_eq!(d.due_by, date(2026, 4, 7));
    // 00:00 BST on 8 April.
    assert_eq!(d.due_at, at("2026-04-07T23:00:00Z"));
}

#[test]
fn response_overdue_fires_at_midnight_london_on_8_april() {
    let mut case = Case::at_stage_3(RECEIVED, "2026-03-10T10:00:00Z");
    let events = case.run(
        at("2026-04-07T22:59:59Z"),
        handler(3),
        note("still investigating"),
    );
    assert_eq!(names(&events), ["note_added"]);
    let events = case.run(at("2026-04-07T23:00:00Z"), handler(3), note("overdue now"));
    assert_eq!(names(&events), ["response_overdue", "note_added"]);
    assert_eq!(events[0].by, Actor::system());
    assert_eq!(events[0].at, at("2026-04-07T23:00:00Z"));
    assert_eq!(
        events[0].kind,
        EventKind::ResponseOverdue {
            due_at: at("2026-04-07T23:00:00Z")
        }
    );
    assert_eq!(case.c.response_overdue_at, Some(at("2026-04-07T23:00:00Z")));
}

#[test]
fn no_response_overdue_when_the_formal_response_is_issued_in_time() {
    let mut case = Case::at_stage_3(RECEIVED, "2026-03-10T10:00:00Z");
    // 23:59 BST on 7 April is still in time.
    case.run(at("2026-04-07T22:59:00Z"), handler(3), formal_response());
    case.run(
        at("2026-04-20T09:00:00Z"),
        handler(3),
        note("after the due date"),
    );
    assert_eq!(case.count("response_overdue"), 0);
    assert!(case.deadline(DeadlineKind::FormalResponse).is_none());
}

#[test]
fn response_overdue_fires_once() {
    let mut case = Case::at_stage_3(RECEIVED, "2026-03-10T10:00:00Z");
    case.run(at("2026-04-08T09:00:00Z"), handler(3), note("a"));
    case.run(at("2026-04-09T09:00:00Z"), handler(3), note("b"));
    case.run(at("2026-04-10T09:00:00Z"), handler(3), formal_response());
    case.run(at("2026-04-11T09:00:00Z"), handler(3), note("c"));
    assert_eq!(case.count("response_overdue"), 1);
}

#[test]
fn after_downtime_a_deadline_records_when_it_was_due_beside_when_it_fired() {
    let mut case = Case::at_stage_3(RECEIVED, "2026-03-10T10:00:00Z");
    let events = case.run(at("2026-04-15T12:00:00Z"), handler(3), note("back up"));
    assert_eq!(names(&events), ["response_overdue", "note_added"]);
    assert_eq!(events[0].at, at("2026-04-15T12:00:00Z"));
    assert_eq!(
        events[0].kind,
        EventKind::ResponseOverdue {
            due_at: at("2026-04-07T23:00:00Z")
        }
    );
}

// ---------------------------------------------------------------------------------------------
// Stage 3 -> 4: the Customer Resolution Manager
// ---------------------------------------------------------------------------------------------

#[test]
fn manager_review_is_refused_before_stage_3() {
    let mut case = Case::open(RECEIVED);
    let refusal = case.refused(at(RECEIVED), customer(), manager_review());
    assert_eq!(refusal.code, RefusalCode::WrongStage);
    case.escalate(at(RECEIVED));
    let refusal = case.refused(at(RECEIVED), customer(), manager_review());
    assert_eq!(refusal.code, RefusalCode::WrongStage);
    assert_eq!(case.c.stage, Stage::ESCALATION_TEAM);
}

#[test]
fn manager_review_needs_the_formal_written_response() {
    let mut case = Case::at_stage_3(RECEIVED, RECEIVED);
    let refusal = case.refused(at(RECEIVED), customer(), manager_review());
    assert_refused(&refusal, RefusalCode::NotYet, "formal written response");
    assert_eq!(case.c.stage, Stage::CUSTOMER_RESOLUTION);
}

#[test]
fn customer_writes_to_the_customer_resolution_manager_after_the_formal_response() {
    let mut case = Case::at_stage_3(RECEIVED, RECEIVED);
    case.run(at("2026-03-20T10:00:00Z"), handler(3), formal_response());
    let events = case.run(at("2026-03-25T10:00:00Z"), customer(), manager_review());
    assert_eq!(names(&events), ["manager_review_requested"]);
    assert_eq!(case.c.stage, Stage::RESOLUTION_MANAGER);
    match &events[0].kind {
        EventKind::ManagerReviewRequested {
            from_stage,
            to_stage,
            ..
        } => assert_eq!(
            (*from_stage, *to_stage),
            (Stage::CUSTOMER_RESOLUTION, Stage::RESOLUTION_MANAGER)
        ),
        other => panic!("expected manager_review_requested, got {other:?}"),
    }
    let refusal = case.refused(at("2026-03-26T10:00:00Z"), customer(), manager_review());
    assert_eq!(refusal.code, RefusalCode::AlreadyDone);
}

fn review_outcome(text: &str) -> Action {
    Action::RecordReviewOutcome { text: text.into() }
}

#[test]
fn the_customer_resolution_manager_records_the_outcome_of_the_review_once_at_stage_4() {
    let mut case = Case::at_stage_3(RECEIVED, RECEIVED);
    // Not before the customer has asked for the review.
    let refusal = case.refused(
        at("2026-03-20T10:00:00Z"),
        resolution_manager(),
        review_outcome("Upheld in part"),
    );
    assert_refused(&refusal, RefusalCode::WrongStage, "stage 4");
    case.run(at("2026-03-20T10:00:00Z"), handler(3), formal_response());
    case.run(at("2026-03-25T10:00:00Z"), customer(), manager_review());
    // Only the Customer Resolution Manager's department: not the department of stage 3.
    let refusal = case.refused(
        at("2026-03-26T10:00:00Z"),
        handler(3),
        review_outcome("Upheld in part"),
    );
    assert_eq!(refusal.code, RefusalCode::NotPermitted);
    // The outcome must say something.
    let refusal = case.refused(at("2026-03-26T10:00:00Z"), handler(4), review_outcome("  "));
    assert_eq!(refusal.code, RefusalCode::InvalidInput);
    let events = case.run(
        at("2026-03-27T10:00:00Z"),
        handler(4),
        review_outcome("We will refund the March bill."),
    );
    assert_eq!(names(&events), ["review_outcome_recorded"]);
    match &events[0].kind {
        EventKind::ReviewOutcomeRecorded { text } => {
            assert_eq!(text, "We will refund the March bill.")
        }
        other => panic!("expected review_outcome_recorded, got {other:?}"),
    }
    assert_eq!(case.c.review_outcome_at, Some(at("2026-03-27T10:00:00Z")));
    assert_eq!(case.c.stage, Stage::RESOLUTION_MANAGER);
    assert_eq!(case.c.status, Status::Open);
    let refusal = case.refused(
        at("2026-03-28T10:00:00Z"),
        resolution_manager(),
        review_outcome("Again"),
    );
    assert_eq!(refusal.code, RefusalCode::AlreadyDone);
    // The customer cannot record it; the event replays to the same complaint.
    let refusal = case.refused(
        at("2026-03-28T10:00:00Z"),
        customer(),
        review_outcome("Mine"),
    );
    assert_eq!(refusal.code, RefusalCode::NotPermitted);
    assert_eq!(Complaint::replay(&case.log).as_ref(), Some(&case.c));
}

// ---------------------------------------------------------------------------------------------
// Deadlock letters
// ---------------------------------------------------------------------------------------------

#[test]
fn deadlock_letter_is_refused_at_stage_1() {
    let mut case = Case::open(RECEIVED);
    let refusal = case.refused(at(RECEIVED), handler(1), deadlock_letter());
    assert_eq!(refusal.code, RefusalCode::WrongStage);
    assert_eq!(
        refusal.reason,
        "a deadlock letter can only be issued from stage 3 or 4"
    );
    assert!(case.c.adr_eligible_at.is_none());
}

#[test]
fn deadlock_letter_is_refused_at_stage_2() {
    let mut case = Case::open(RECEIVED);
    case.escalate(at(RECEIVED));
    let refusal = case.refused(at(RECEIVED), handler(2), deadlock_letter());
    assert_eq!(refusal.code, RefusalCode::WrongStage);
    assert_eq!(
        refusal.reason,
        "a deadlock letter can only be issued from stage 3 or 4"
    );
    assert!(case.c.deadlock_issued_at.is_none());
}

#[test]
fn deadlock_letter_at_stage_3_makes_the_complaint_adr_eligible_at_once() {
    let mut case = Case::at_stage_3(RECEIVED, RECEIVED);
    let now = at("2026-03-20T10:00:00Z");
    let events = case.run(now, handler(3), deadlock_letter());
    assert_eq!(names(&events), ["deadlock_issued", "adr_eligible"]);
    assert_eq!(
        events[1].kind,
        EventKind::AdrEligible {
            because: AdrReason::DeadlockLetter,
            due_at: now
        }
    );
    assert_eq!(case.c.status, Status::Deadlocked);
    assert_eq!(case.c.adr_eligible_at, Some(now));
    assert_eq!(case.c.stage, Stage::CUSTOMER_RESOLUTION);
}

#[test]
fn deadlock_letter_can_be_issued_at_stage_4() {
    let mut case = Case::at_stage_3(RECEIVED, RECEIVED);
    case.run(at(RECEIVED), handler(3), formal_response());
    case.run(at(RECEIVED), customer(), manager_review());
    let events = case.run(
        at("2026-03-20T10:00:00Z"),
        resolution_manager(),
        deadlock_letter(),
    );
    assert_eq!(names(&events), ["deadlock_issued", "adr_eligible"]);
}

#[test]
fn no_eight_week_notice_follows_a_deadlock_letter() {
    let mut case = Case::at_stage_3(RECEIVED, RECEIVED);
    case.run(at("2026-03-20T10:00:00Z"), handler(3), deadlock_letter());
    assert!(case.deadline(DeadlineKind::Adr).is_none());
    case.run(at(EIGHT_WEEKS), handler(3), note("eight weeks"));
    case.run(at("2026-06-30T10:00:00Z"), handler(3), note("later"));
    assert_eq!(case.count("adr_notice_sent"), 0);
    assert_eq!(case.count("adr_eligible"), 1);
}

#[test]
fn a_deadlock_letter_is_issued_once() {
    let mut case = Case::at_stage_3(RECEIVED, RECEIVED);
    case.run(at(RECEIVED), handler(3), deadlock_letter());
    let refusal = case.refused(at(RECEIVED), handler(3), deadlock_letter());
    assert_eq!(refusal.code, RefusalCode::AlreadyDone);
}

#[test]
fn a_deadlock_letter_after_the_eight_week_notice_does_not_make_it_eligible_twice() {
    let mut case = Case::at_stage_3(RECEIVED, RECEIVED);
    case.run(at(EIGHT_WEEKS), handler(3), note("eight weeks"));
    let events = case.run(at("2026-05-10T10:00:00Z"), handler(3), deadlock_letter());
    assert_eq!(names(&events), ["deadlock_issued"]);
    assert_eq!(case.count("adr_eligible"), 1);
    assert_eq!(case.count("adr_notice_sent"), 1);
}

#[test]
fn the_stages_that_may_issue_a_deadlock_letter_come_from_the_procedure() {
    let p = procedure_with("deadlock_stages = [3, 4]", "deadlock_stages = [2, 3, 4]");
    let mut case = Case::open_with(p, receive_command(None), at(RECEIVED));
    let refusal = case.refused(at(RECEIVED), handler(1), deadlock_letter());
    assert_eq!(
        refusal.reason,
        "a deadlock letter can only be issued from stage 2, 3 or 4"
    );
    case.escalate(at(RECEIVED));
    let events = case.run(at(RECEIVED), handler(2), deadlock_letter());
    assert_eq!(names(&events), ["deadlock_issued", "adr_eligible"]);
}

// ---------------------------------------------------------------------------------------------
// The 8-week point and the ADR notice
// ---------------------------------------------------------------------------------------------

#[test]
fn eight_weeks_pass_at_midnight_london_on_the_receipt_date_plus_56() {
    let case = Case::open(RECEIVED);
    let d = case
        .deadline(DeadlineKind::Adr)
        .expect("the 8-week clock runs");
    assert_eq!(d.due_by, date(2026, 5, 5));
    assert_eq!(d.due_at, at(EIGHT_WEEKS));
}

#[test]
fn an_unresolved_complaint_gets_adr_eligible_and_the_adr_notice_at_eight_weeks() {
    let mut case = Case::open(RECEIVED);
    let events = case.run(at("2026-05-04T22:59:59Z"), handler(1), note("not yet"));
    assert_eq!(names(&events), ["note_added"]);
    let events = case.run(at(EIGHT_WEEKS), handler(1), note("eight weeks"));
    assert_eq!(
        names(&events),
        ["adr_eligible", "adr_notice_sent", "note_added"]
    );
    assert_eq!(
        events[0].kind,
        EventKind::AdrEligible {
            because: AdrReason::PeriodPassed,
            due_at: at(EIGHT_WEEKS)
        }
    );
    assert_eq!(
        events[1].kind,
        EventKind::AdrNoticeSent {
            due_at: at(EIGHT_WEEKS),
            referral_window_ends: date(2027, 5, 5)
        }
    );
    assert!(events[..2].iter().all(|e| e.by == Actor::system()));
    assert_eq!(case.c.adr_eligible_at, Some(at(EIGHT_WEEKS)));
    assert_eq!(case.c.adr_notice_sent_at, Some(at(EIGHT_WEEKS)));
}

#[test]
fn an_offer_not_yet_accepted_does_not_stop_the_eight_week_clock() {
    let mut case = Case::open(RECEIVED);
    case.run(at("2026-04-01T10:00:00Z"), handler(1), offer_resolution());
    case.run(at(EIGHT_WEEKS), handler(1), note("eight weeks"));
    assert_eq!(case.count("adr_notice_sent"), 1);
}

#[test]
fn no_adr_notice_when_resolved_before_eight_weeks() {
    let mut case = Case::open(RECEIVED);
    case.run(at("2026-04-01T10:00:00Z"), handler(1), offer_resolution());
    case.run(
        at("2026-04-02T10:00:00Z"),
        customer(),
        Action::AcceptResolution {},
    );
    assert!(case.deadline(DeadlineKind::Adr).is_none());
    case.run(at(EIGHT_WEEKS), handler(1), note("eight weeks"));
    case.run(at("2026-07-01T10:00:00Z"), handler(1), note("later"));
    assert_eq!(case.count("adr_eligible"), 0);
    assert_eq!(case.count("adr_notice_sent"), 0);
}

#[test]
fn no_adr_notice_when_closed_before_eight_weeks() {
    let mut case = Case::open(RECEIVED);
    case.run(at("2026-04-01T10:00:00Z"), handler(1), close());
    case.run(at(EIGHT_WEEKS), handler(1), note("eight weeks"));
    case.run(at("2026-07-01T10:00:00Z"), handler(1), note("later"));
    assert_eq!(case.count("adr_eligible"), 0);
    assert_eq!(case.count("adr_notice_sent"), 0);
}

#[test]
fn the_adr_notice_is_sent_at_most_once() {
    let mut case = Case::open(RECEIVED);
    case.run(at(EIGHT_WEEKS), handler(1), note("eight weeks"));
    case.run(at("2026-05-10T10:00:00Z"), handler(1), offer_resolution());
    case.run(
        at("2026-05-11T10:00:00Z"),
        customer(),
        Action::AcceptResolution {},
    );
    case.run(at("2026-05-20T10:00:00Z"), handler(1), reopen());
    case.run(at("2026-08-01T10:00:00Z"), handler(1), note("much later"));
    assert_eq!(case.count("adr_eligible"), 1);
    assert_eq!(case.count("adr_notice_sent"), 1);
}

#[test]
fn a_complaint_reopened_after_eight_weeks_gets_the_adr_notice_when_it_is_reopened() {
    let mut case = Case::open(RECEIVED);
    case.run(at("2026-04-01T10:00:00Z"), handler(1), offer_resolution());
    case.run(
        at("2026-04-02T10:00:00Z"),
        customer(),
        Action::AcceptResolution {},
    );
    case.run(
        at("2026-05-10T10:00:00Z"),
        handler(1),
        note("while resolved"),
    );
    assert_eq!(case.count("adr_notice_sent"), 0);
    let reopened = at("2026-05-20T10:00:00Z");
    let events = case.run(reopened, handler(1), reopen());
    assert_eq!(
        names(&events),
        ["reopened", "adr_eligible", "adr_notice_sent"]
    );
    assert!(events.iter().all(|e| e.at == reopened));
    assert_eq!(
        events[2].kind,
        EventKind::AdrNoticeSent {
            due_at: at(EIGHT_WEEKS),
            referral_window_ends: date(2027, 5, 20)
        }
    );
    assert_eq!(case.c.status, Status::Open);
}

#[test]
fn a_complaint_closed_before_eight_weeks_and_reopened_after_gets_the_adr_notice_when_reopened() {
    let mut case = Case::open(RECEIVED);
    case.run(at("2026-04-01T10:00:00Z"), handler(1), close());
    let reopened = at("2026-06-01T10:00:00Z");
    let events = case.run(reopened, handler(1), reopen());
    assert_eq!(
        names(&events),
        ["reopened", "adr_eligible", "adr_notice_sent"]
    );
    assert!(events.iter().all(|e| e.at == reopened));
}

#[test]
fn a_complaint_reopened_before_eight_weeks_gets_the_notice_at_the_eight_week_point() {
    let mut case = Case::open(RECEIVED);
    case.run(at("2026-04-01T10:00:00Z"), handler(1), offer_resolution());
    case.run(
        at("2026-04-02T10:00:00Z"),
        customer(),
        Action::AcceptResolution {},
    );
    let events = case.run(at("2026-04-20T10:00:00Z"), handler(1), reopen());
    assert_eq!(names(&events), ["reopened"]);
    // The clocks go on counting from first receipt.
    assert_eq!(
        case.deadline(DeadlineKind::Adr).map(|d| d.due_at),
        Some(at(EIGHT_WEEKS))
    );
    let events = case.run(at(EIGHT_WEEKS), handler(1), note("eight weeks"));
    assert_eq!(
        names(&events),
        ["adr_eligible", "adr_notice_sent", "note_added"]
    );
}

#[test]
fn a_complaint_recorded_late_gets_the_adr_notice_when_it_is_opened() {
    let now = at("2026-05-09T10:00:00Z");
    let received = now - days(60);
    let case = Case::open_with(procedure(), receive_command(Some(received)), now);
    assert_eq!(
        names(&case.log),
        ["received", "adr_eligible", "adr_notice_sent"]
    );
    assert_eq!(case.c.first_received_at, received);
    assert_eq!(case.c.recorded_at, now);
    assert!(case.log.iter().all(|e| e.at == now));
    // Received 10 March (London): 8 weeks passed at 00:00 BST on 5 May.
    assert_eq!(
        case.log[1].kind,
        EventKind::AdrEligible {
            because: AdrReason::PeriodPassed,
            due_at: at(EIGHT_WEEKS)
        }
    );
    assert!(case.deadline(DeadlineKind::Adr).is_none());
}

#[test]
fn the_eight_week_clock_counts_from_the_date_received_not_the_date_recorded() {
    let case = Case::open_with(
        procedure(),
        receive_command(Some(at(RECEIVED))),
        at("2026-03-20T10:00:00Z"),
    );
    assert_eq!(names(&case.log), ["received"]);
    assert_eq!(
        case.deadline(DeadlineKind::Adr).map(|d| d.due_at),
        Some(at(EIGHT_WEEKS))
    );
}

// ---------------------------------------------------------------------------------------------
// Stage 5: referral to the ombudsman
// ---------------------------------------------------------------------------------------------

#[test]
fn referral_to_the_ombudsman_is_refused_before_adr_eligibility() {
    let mut case = Case::at_stage_3(RECEIVED, RECEIVED);
    let refusal = case.refused(at("2026-05-04T22:59:59Z"), customer(), referral());
    assert_refused(&refusal, RefusalCode::NotYet, "8 weeks have passed");
    assert!(refusal.reason.contains("2026-05-05"), "{}", refusal.reason);
    assert_eq!(case.c.stage, Stage::CUSTOMER_RESOLUTION);
}

#[test]
fn customer_can_go_to_the_ombudsman_once_eight_weeks_have_passed_whatever_the_stage() {
    let mut case = Case::open(RECEIVED);
    let events = case.run(at(EIGHT_WEEKS), customer(), referral());
    assert_eq!(
        names(&events),
        ["adr_eligible", "adr_notice_sent", "referred_to_ombudsman"]
    );
    assert_eq!(case.c.stage, Stage::OMBUDSMAN);
    assert_eq!(case.c.status, Status::ReferredToAdr);
    match &events[2].kind {
        EventKind::ReferredToOmbudsman { from_stage, .. } => {
            assert_eq!(*from_stage, Stage::CUSTOMER_SERVICES)
        }
        other => panic!("expected referred_to_ombudsman, got {other:?}"),
    }
}

#[test]
fn customer_can_go_to_the_ombudsman_after_a_deadlock_letter() {
    let mut case = Case::at_stage_3(RECEIVED, RECEIVED);
    case.run(at("2026-03-20T10:00:00Z"), handler(3), deadlock_letter());
    let events = case.run(at("2026-03-21T10:00:00Z"), customer(), referral());
    assert_eq!(names(&events), ["referred_to_ombudsman"]);
    assert_eq!(case.c.stage, Stage::OMBUDSMAN);
}

#[test]
fn referral_is_accepted_on_the_last_day_of_the_12_months_after_the_adr_letter() {
    let mut case = Case::open(RECEIVED);
    case.run(at(EIGHT_WEEKS), handler(1), note("eight weeks"));
    // The notice was sent on 5 May 2026 (London): 23:59 BST on 5 May 2027 is still in time.
    let events = case.run(at("2027-05-05T22:59:00Z"), customer(), referral());
    assert_eq!(names(&events), ["referred_to_ombudsman"]);
}

#[test]
fn referral_is_refused_more_than_12_months_after_the_adr_letter() {
    let mut case = Case::open(RECEIVED);
    case.run(at(EIGHT_WEEKS), handler(1), note("eight weeks"));
    // 00:00 BST on 6 May 2027.
    let refusal = case.refused(at("2027-05-05T23:00:00Z"), customer(), referral());
    assert_refused(
        &refusal,
        RefusalCode::TooLate,
        "within 12 months of the ADR letter",
    );
    assert!(refusal.reason.contains("2027-05-05"), "{}", refusal.reason);
    assert_eq!(case.c.stage, Stage::CUSTOMER_SERVICES);
}

#[test]
fn referral_window_after_a_deadlock_letter_is_12_months() {
    let mut case = Case::at_stage_3(RECEIVED, RECEIVED);
    case.run(at("2026-03-20T10:00:00Z"), handler(3), deadlock_letter());
    let refusal = case.refused(at("2027-03-21T10:00:00Z"), customer(), referral());
    assert_eq!(refusal.code, RefusalCode::TooLate);
    let mut case = Case::at_stage_3(RECEIVED, RECEIVED);
    case.run(at("2026-03-20T10:00:00Z"), handler(3), deadlock_letter());
    case.run(at("2027-03-20T10:00:00Z"), customer(), referral());
    assert_eq!(case.c.stage, Stage::OMBUDSMAN);
}

/// In this model eligibility always comes with a letter (the 8-week notice or a deadlock
/// letter), so the "no limit where none was sent" branch is reached only by a history in which
/// `adr_eligible` stands alone; `apply` accepts any history, so it is built by hand here.
#[test]
fn referral_has_no_time_limit_where_no_adr_letter_was_sent() {
    let p = procedure();
    let received = receive(receive_command(None), at(RECEIVED), &p).unwrap();
    let eligible = Event {
        at: at(EIGHT_WEEKS),
        by: Actor::system(),
        kind: EventKind::AdrEligible {
            because: AdrReason::PeriodPassed,
            due_at: at(EIGHT_WEEKS),
        },
    };
    let c = Complaint::replay(received.iter().chain([&eligible])).unwrap();
    assert!(c.adr_letter_sent_at().is_none());
    let events = decide(
        &c,
        Command {
            by: customer(),
            action: referral(),
        },
        at("2031-01-01T10:00:00Z"),
        &p,
    )
    .expect("no referral window without a letter");
    assert_eq!(names(&events), ["referred_to_ombudsman"]);
}

#[test]
fn eligibility_always_comes_with_an_adr_letter() {
    // The 8-week point...
    let mut case = Case::open(RECEIVED);
    case.run(at(EIGHT_WEEKS), handler(1), note("eight weeks"));
    assert!(case.c.adr_eligible_at.is_some() && case.c.adr_letter_sent_at().is_some());
    // ... and a deadlock letter.
    let mut case = Case::at_stage_3(RECEIVED, RECEIVED);
    case.run(at(RECEIVED), handler(3), deadlock_letter());
    assert!(case.c.adr_eligible_at.is_some() && case.c.adr_letter_sent_at().is_some());
}

#[test]
fn a_complaint_is_referred_to_the_ombudsman_once() {
    let mut case = Case::open(RECEIVED);
    case.run(at(EIGHT_WEEKS), customer(), referral());
    let refusal = case.refused(at("2026-05-06T10:00:00Z"), customer(), referral());
    assert_eq!(refusal.code, RefusalCode::AlreadyDone);
}

#[test]
fn a_closed_complaint_can_still_be_referred_once_eligible() {
    let mut case = Case::open(RECEIVED);
    case.run(at(EIGHT_WEEKS), handler(1), note("eight weeks"));
    case.run(at("2026-05-06T10:00:00Z"), handler(1), close());
    let events = case.run(at("2026-06-01T10:00:00Z"), customer(), referral());
    assert_eq!(names(&events), ["referred_to_ombudsman"]);
    assert_eq!(case.c.status, Status::ReferredToAdr);
    assert!(case.c.closed_at.is_none());
}

#[test]
fn at_stage_5_the_providers_ladder_stops() {
    let mut case = Case::open(RECEIVED);
    case.run(at(EIGHT_WEEKS), customer(), referral());
    for action in [offer_resolution(), formal_response(), deadlock_letter()] {
        let refusal = case.refused(at("2026-05-06T10:00:00Z"), handler(5), action);
        assert_refused(
            &refusal,
            RefusalCode::WrongStage,
            "Ombudsman Services: Communications",
        );
    }
    assert_eq!(case.c.stage, Stage::OMBUDSMAN);
}

// ---------------------------------------------------------------------------------------------
// The ombudsman's decision and its remedy
// ---------------------------------------------------------------------------------------------

/// A complaint referred to the ombudsman on 10 May 2026.
fn referred() -> Case {
    let mut case = Case::open(RECEIVED);
    case.run(at(EIGHT_WEEKS), handler(1), note("eight weeks"));
    case.run(at("2026-05-10T10:00:00Z"), customer(), referral());
    case
}

const DECIDED: &str = "2026-06-01T10:00:00Z";

#[test]
fn the_ombudsmans_decision_is_recorded_only_at_stage_5() {
    let mut case = Case::at_stage_3(RECEIVED, RECEIVED);
    case.run(at(RECEIVED), handler(3), deadlock_letter());
    let refusal = case.refused(
        at(DECIDED),
        handler(3),
        decision(OmbudsmanOutcome::Upheld, true),
    );
    assert_eq!(refusal.code, RefusalCode::NotYet);
    assert!(case.c.ombudsman.is_none());
}

#[test]
fn the_ombudsmans_decision_is_recorded_once() {
    let mut case = referred();
    case.run(
        at(DECIDED),
        handler(5),
        decision(OmbudsmanOutcome::NotUpheld, true),
    );
    let refusal = case.refused(
        at(DECIDED),
        handler(5),
        decision(OmbudsmanOutcome::Upheld, true),
    );
    assert_eq!(refusal.code, RefusalCode::AlreadyDone);
}

#[test]
fn an_accepted_decision_with_a_remedy_is_due_within_28_days() {
    let mut case = referred();
    let events = case.run(
        at(DECIDED),
        handler(5),
        decision(OmbudsmanOutcome::Upheld, true),
    );
    assert_eq!(names(&events), ["ombudsman_decided"]);
    match &events[0].kind {
        EventKind::OmbudsmanDecided { remedy_due_by, .. } => {
            assert_eq!(*remedy_due_by, Some(date(2026, 6, 29)))
        }
        other => panic!("expected ombudsman_decided, got {other:?}"),
    }
    let d = case.deadline(DeadlineKind::Remedy).expect("a remedy clock");
    assert_eq!(d.due_at, at("2026-06-29T23:00:00Z"));
}

#[test]
fn remedy_overdue_fires_if_the_remedy_is_not_completed_in_28_days() {
    let mut case = referred();
    case.run(
        at(DECIDED),
        handler(5),
        decision(OmbudsmanOutcome::PartlyUpheld, true),
    );
    let events = case.run(
        at("2026-06-29T22:59:59Z"),
        handler(5),
        note("working on it"),
    );
    assert_eq!(names(&events), ["note_added"]);
    let events = case.run(at("2026-06-29T23:00:00Z"), handler(5), note("overdue"));
    assert_eq!(names(&events), ["remedy_overdue", "note_added"]);
    assert_eq!(
        events[0].kind,
        EventKind::RemedyOverdue {
            due_at: at("2026-06-29T23:00:00Z")
        }
    );
    case.run(at("2026-07-10T10:00:00Z"), handler(5), note("later"));
    assert_eq!(case.count("remedy_overdue"), 1);
}

#[test]
fn completing_the_remedy_in_time_stops_remedy_overdue() {
    let mut case = referred();
    case.run(
        at(DECIDED),
        handler(5),
        decision(OmbudsmanOutcome::Upheld, true),
    );
    let events = case.run(
        at("2026-06-20T10:00:00Z"),
        handler(5),
        Action::CompleteRemedy {
            text: Some("Refunded".into()),
        },
    );
    assert_eq!(names(&events), ["remedy_completed"]);
    case.run(at("2026-07-10T10:00:00Z"), handler(5), note("later"));
    assert_eq!(case.count("remedy_overdue"), 0);
    assert!(case.deadline(DeadlineKind::Remedy).is_none());
}

#[test]
fn no_remedy_is_owed_when_the_customer_rejects_the_decision_or_it_is_not_upheld() {
    for (outcome, accepted) in [
        (OmbudsmanOutcome::Upheld, false),
        (OmbudsmanOutcome::NotUpheld, true),
    ] {
        let mut case = referred();
        case.run(at(DECIDED), handler(5), decision(outcome, accepted));
        assert!(case.deadline(DeadlineKind::Remedy).is_none());
        let refusal = case.refused(
            at(DECIDED),
            handler(5),
            Action::CompleteRemedy { text: None },
        );
        assert_eq!(refusal.code, RefusalCode::NotYet);
        case.run(at("2026-08-01T10:00:00Z"), handler(5), close());
        assert_eq!(case.count("remedy_overdue"), 0);
    }
}

#[test]
fn close_is_refused_while_the_remedy_is_outstanding() {
    let mut case = referred();
    case.run(
        at(DECIDED),
        handler(5),
        decision(OmbudsmanOutcome::Upheld, true),
    );
    let refusal = case.refused(at("2026-06-02T10:00:00Z"), handler(5), close());
    assert_refused(&refusal, RefusalCode::NotYet, "remedy must be completed");
    case.run(
        at("2026-06-03T10:00:00Z"),
        handler(5),
        Action::CompleteRemedy { text: None },
    );
    let events = case.run(at("2026-06-04T10:00:00Z"), handler(5), close());
    assert_eq!(names(&events), ["closed"]);
}

#[test]
fn an_award_above_the_schemes_limit_is_refused() {
    let mut case = referred();
    let refusal = case.refused(
        at(DECIDED),
        handler(5),
        Action::RecordOmbudsmanDecision {
            outcome: OmbudsmanOutcome::Upheld,
            customer_accepted: true,
            remedy: None,
            award_pence: Some(1_000_001),
        },
    );
    assert_eq!(refusal.code, RefusalCode::InvalidInput);
}

// ---------------------------------------------------------------------------------------------
// Evidence
// ---------------------------------------------------------------------------------------------

#[test]
fn an_evidence_request_is_due_at_the_end_of_its_last_london_day() {
    let mut case = Case::at_stage_3(RECEIVED, RECEIVED);
    let events = case.run(at(RECEIVED), handler(3), evidence_request(14));
    match &events[0].kind {
        EventKind::EvidenceRequested {
            request, due_by, ..
        } => {
            assert_eq!(*request, 1);
            assert_eq!(*due_by, date(2026, 3, 24));
        }
        other => panic!("expected evidence_requested, got {other:?}"),
    }
    let d = case
        .deadline(DeadlineKind::Evidence)
        .expect("an evidence clock");
    assert_eq!((d.request, d.due_at), (Some(1), at("2026-03-25T00:00:00Z")));
}

#[test]
fn evidence_overdue_fires_if_nothing_arrives_by_then() {
    let mut case = Case::at_stage_3(RECEIVED, RECEIVED);
    case.run(at(RECEIVED), handler(3), evidence_request(14));
    let events = case.run(at("2026-03-24T23:59:59Z"), handler(3), note("waiting"));
    assert_eq!(names(&events), ["note_added"]);
    let events = case.run(at("2026-03-25T00:00:00Z"), handler(3), note("overdue"));
    assert_eq!(names(&events), ["evidence_overdue", "note_added"]);
    assert_eq!(
        events[0].kind,
        EventKind::EvidenceOverdue {
            request: 1,
            due_at: at("2026-03-25T00:00:00Z")
        }
    );
    case.run(at("2026-03-30T00:00:00Z"), handler(3), note("later"));
    assert_eq!(case.count("evidence_overdue"), 1);
}

#[test]
fn evidence_received_in_time_stops_the_evidence_clock() {
    let mut case = Case::at_stage_3(RECEIVED, RECEIVED);
    case.run(at(RECEIVED), handler(3), evidence_request(14));
    let events = case.run(
        at("2026-03-24T18:00:00Z"),
        customer(),
        Action::ReceiveEvidence {
            request: Some(1),
            description: Some("Bills".into()),
            channel: Some(Channel::Letter),
        },
    );
    assert_eq!(names(&events), ["evidence_received"]);
    case.run(at("2026-04-01T10:00:00Z"), handler(3), note("later"));
    assert_eq!(case.count("evidence_overdue"), 0);
    assert!(case.deadline(DeadlineKind::Evidence).is_none());
}

#[test]
fn each_evidence_request_has_its_own_clock() {
    let mut case = Case::at_stage_3(RECEIVED, RECEIVED);
    case.run(at(RECEIVED), handler(3), evidence_request(14));
    case.run(
        at(RECEIVED),
        handler(3),
        Action::RequestEvidence {
            from: EvidenceSource::ThirdParty,
            due_days: 7,
            description: None,
        },
    );
    // Evidence naming no request answers the oldest one still waiting (request 1).
    let events = case.run(
        at("2026-03-12T10:00:00Z"),
        customer(),
        Action::ReceiveEvidence {
            request: None,
            description: None,
            channel: None,
        },
    );
    assert_eq!(
        events[0].kind,
        EventKind::EvidenceReceived {
            request: Some(1),
            description: None,
            channel: None
        }
    );
    let events = case.run(at("2026-04-01T10:00:00Z"), handler(3), note("later"));
    assert_eq!(names(&events), ["evidence_overdue", "note_added"]);
    assert!(matches!(
        events[0].kind,
        EventKind::EvidenceOverdue { request: 2, .. }
    ));
}

#[test]
fn evidence_due_days_must_be_within_the_procedures_limit() {
    let mut case = Case::at_stage_3(RECEIVED, RECEIVED);
    for due_days in [0, -1, 91] {
        let refusal = case.refused(at(RECEIVED), handler(3), evidence_request(due_days));
        assert_refused(&refusal, RefusalCode::InvalidInput, "1 to 90 days");
    }
    case.run(at(RECEIVED), handler(3), evidence_request(90));
}

#[test]
fn evidence_for_an_unknown_request_is_refused() {
    let mut case = Case::at_stage_3(RECEIVED, RECEIVED);
    let refusal = case.refused(
        at(RECEIVED),
        customer(),
        Action::ReceiveEvidence {
            request: Some(7),
            description: None,
            channel: None,
        },
    );
    assert_eq!(refusal.code, RefusalCode::InvalidInput);
}

// ---------------------------------------------------------------------------------------------
// Compensation
// ---------------------------------------------------------------------------------------------

fn fault_established() -> Case {
    let mut case = Case::open(RECEIVED);
    case.run(
        at(RECEIVED),
        handler(1),
        Action::EstablishFault {
            description: Some("The line was cut by our engineer".into()),
        },
    );
    case
}

#[test]
fn compensation_is_refused_before_genuine_fault_is_established() {
    let mut case = Case::open(RECEIVED);
    let refusal = case.refused(at(RECEIVED), handler(1), offer_compensation(1000));
    assert_refused(&refusal, RefusalCode::NotYet, "genuine fault");
    assert!(case.c.compensation.is_empty());
}

#[test]
fn compensation_is_refused_after_no_fault_is_found() {
    let mut case = Case::open(RECEIVED);
    case.run(
        at(RECEIVED),
        handler(1),
        Action::FindNoFault { reason: None },
    );
    let refusal = case.refused(at(RECEIVED), handler(1), offer_compensation(1000));
    assert_eq!(refusal.code, RefusalCode::NotYet);
}

#[test]
fn compensation_within_the_offerers_limit_is_approved_at_once() {
    let mut case = fault_established();
    let events = case.run(at(RECEIVED), handler(1), offer_compensation(10_000));
    assert!(matches!(
        events[0].kind,
        EventKind::CompensationOffered {
            offer: 1,
            amount_pence: 10_000,
            approved: true,
            ..
        }
    ));
    let events = case.run(
        at(RECEIVED),
        customer(),
        Action::AcceptCompensation { offer: None },
    );
    assert_eq!(
        events[0].kind,
        EventKind::CompensationAccepted {
            offer: 1,
            amount_pence: 10_000
        }
    );
}

#[test]
fn compensation_above_the_offerers_limit_waits_for_approval() {
    let mut case = fault_established();
    let events = case.run(at(RECEIVED), handler(1), offer_compensation(10_001));
    assert!(matches!(
        events[0].kind,
        EventKind::CompensationOffered {
            approved: false,
            ..
        }
    ));
    let refusal = case.refused(
        at(RECEIVED),
        customer(),
        Action::AcceptCompensation { offer: None },
    );
    assert_refused(&refusal, RefusalCode::NotYet, "not been approved");
}

#[test]
fn approval_above_the_approvers_limit_is_refused() {
    let mut case = fault_established();
    case.run(at(RECEIVED), handler(1), offer_compensation(20_000));
    let colleague = Actor::staff(
        Role::Handler,
        "customer_services",
        Some("colleague@kinex.example"),
    );
    let refusal = case.refused(
        at(RECEIVED),
        colleague,
        Action::ApproveCompensation { offer: Some(1) },
    );
    assert_refused(
        &refusal,
        RefusalCode::NotPermitted,
        "above your approval limit of £100.00",
    );
    assert!(!case.c.compensation[0].approved);
}

#[test]
fn compensation_is_approved_by_someone_with_a_high_enough_limit() {
    let mut case = fault_established();
    case.run(at(RECEIVED), handler(1), offer_compensation(20_000));
    let events = case.run(
        at(RECEIVED),
        manager(1),
        Action::ApproveCompensation { offer: Some(1) },
    );
    assert_eq!(
        events[0].kind,
        EventKind::CompensationApproved {
            offer: 1,
            amount_pence: 20_000
        }
    );
    let events = case.run(
        at(RECEIVED),
        customer(),
        Action::AcceptCompensation { offer: Some(1) },
    );
    assert_eq!(names(&events), ["compensation_accepted"]);
    let refusal = case.refused(
        at(RECEIVED),
        customer(),
        Action::AcceptCompensation { offer: Some(1) },
    );
    assert_eq!(refusal.code, RefusalCode::AlreadyDone);
}

#[test]
fn the_customer_resolution_manager_can_approve_compensation_at_any_stage() {
    let mut case = fault_established();
    case.run(at(RECEIVED), manager(1), offer_compensation(60_000));
    let refusal = case.refused(
        at(RECEIVED),
        manager(1),
        Action::ApproveCompensation { offer: None },
    );
    assert_eq!(refusal.code, RefusalCode::NotPermitted);
    let events = case.run(
        at(RECEIVED),
        resolution_manager(),
        Action::ApproveCompensation { offer: None },
    );
    assert_eq!(names(&events), ["compensation_approved"]);
}

#[test]
fn the_person_who_offered_compensation_cannot_approve_it() {
    let mut case = fault_established();
    let sam_as_handler = Actor::staff(
        Role::Handler,
        "customer_services",
        Some("sam@kinex.example"),
    );
    let sam_as_manager = Actor::staff(
        Role::TeamManager,
        "customer_services",
        Some("sam@kinex.example"),
    );
    case.run(at(RECEIVED), sam_as_handler, offer_compensation(20_000));
    let refusal = case.refused(
        at(RECEIVED),
        sam_as_manager,
        Action::ApproveCompensation { offer: None },
    );
    assert_refused(
        &refusal,
        RefusalCode::NotPermitted,
        "someone other than the person who offered it",
    );
}

#[test]
fn accept_compensation_is_refused_when_there_is_no_offer() {
    let mut case = fault_established();
    let refusal = case.refused(
        at(RECEIVED),
        customer(),
        Action::AcceptCompensation { offer: None },
    );
    assert_eq!(refusal.code, RefusalCode::NotYet);
}

#[test]
fn compensation_above_the_procedures_maximum_or_not_positive_is_refused() {
    let mut case = fault_established();
    for amount in [0, -100, 1_000_001] {
        let refusal = case.refused(at(RECEIVED), manager(1), offer_compensation(amount));
        assert_eq!(refusal.code, RefusalCode::InvalidInput, "{amount}");
    }
}

// ---------------------------------------------------------------------------------------------
// Staff members concerned
// ---------------------------------------------------------------------------------------------

const ALEX: &str = "alex@kinex.example";

fn about_alex() -> Case {
    let mut command = receive_command(None);
    command.staff_concerned = vec![ALEX.into()];
    Case::open_with(procedure(), command, at(RECEIVED))
}

#[test]
fn a_staff_member_concerned_cannot_act_on_the_complaint() {
    let mut case = about_alex();
    assert_eq!(case.c.staff_concerned, [ALEX]);
    for role in [Role::Handler, Role::TeamManager] {
        let alex = Actor::staff(role, "customer_services", Some(ALEX));
        let refusal = authorise(&case.c, &alex, &offer_resolution(), &case.p).unwrap_err();
        assert_refused(
            &refusal,
            RefusalCode::NotPermitted,
            "named as a staff member concerned",
        );
        let refusal = case.refused(at(RECEIVED), alex, note("my side of the story"));
        assert_eq!(refusal.code, RefusalCode::NotPermitted);
    }
    assert!(authorise(&case.c, &handler(1), &offer_resolution(), &case.p).is_ok());
}

#[test]
fn a_staff_member_concerned_cannot_be_assigned() {
    let mut case = about_alex();
    let refusal = case.refused(
        at(RECEIVED),
        manager(1),
        Action::Assign {
            handler: ALEX.into(),
        },
    );
    assert_refused(&refusal, RefusalCode::NotPermitted, "cannot handle it");
    assert!(case.c.handler.is_none());
    case.run(
        at(RECEIVED),
        manager(1),
        Action::Assign {
            handler: "handler1@kinex.example".into(),
        },
    );
    assert_eq!(case.c.handler.as_deref(), Some("handler1@kinex.example"));
}

#[test]
fn naming_the_current_handler_as_concerned_takes_them_off_the_complaint() {
    let mut case = Case::open(RECEIVED);
    case.run(
        at(RECEIVED),
        handler(1),
        Action::Assign {
            handler: "handler1@kinex.example".into(),
        },
    );
    let events = case.run(
        at(RECEIVED),
        manager(1),
        Action::NameStaffConcerned {
            staff: "handler1@kinex.example".into(),
        },
    );
    assert_eq!(
        events[0].kind,
        EventKind::StaffConcernedNamed {
            staff: "handler1@kinex.example".into(),
            unassigned: true
        }
    );
    assert!(case.c.handler.is_none());
    let refusal = case.refused(at(RECEIVED), handler(1), offer_resolution());
    assert_eq!(refusal.code, RefusalCode::NotPermitted);
}

#[test]
fn naming_someone_else_leaves_the_handler_in_place() {
    let mut case = Case::open(RECEIVED);
    case.run(
        at(RECEIVED),
        handler(1),
        Action::Assign {
            handler: "handler1@kinex.example".into(),
        },
    );
    let events = case.run(
        at(RECEIVED),
        manager(1),
        Action::NameStaffConcerned { staff: ALEX.into() },
    );
    assert!(matches!(
        events[0].kind,
        EventKind::StaffConcernedNamed {
            unassigned: false,
            ..
        }
    ));
    assert_eq!(case.c.handler.as_deref(), Some("handler1@kinex.example"));
}

#[test]
fn notes_about_a_staff_member_are_restricted_to_managers() {
    let mut case = about_alex();
    let events = case.run(
        at(RECEIVED),
        handler(1),
        Action::AddNote {
            text: "Alex was rude on the phone".into(),
            restricted: false,
            about_staff: Some(ALEX.into()),
        },
    );
    assert_eq!(
        events[0].kind,
        EventKind::NoteAdded {
            text: "Alex was rude on the phone".into(),
            restricted: true,
            about_staff: Some(ALEX.into())
        }
    );
    let events = case.run(at(RECEIVED), handler(1), note("ordinary note"));
    assert!(matches!(
        events[0].kind,
        EventKind::NoteAdded {
            restricted: false,
            ..
        }
    ));
}

#[test]
fn a_handler_can_assign_only_themselves_but_a_manager_can_assign_anyone() {
    let mut case = Case::open(RECEIVED);
    let refusal = case.refused(
        at(RECEIVED),
        handler(1),
        Action::Assign {
            handler: "someone@kinex.example".into(),
        },
    );
    assert_refused(&refusal, RefusalCode::NotPermitted, "only a manager");
    case.run(
        at(RECEIVED),
        manager(1),
        Action::Assign {
            handler: "someone@kinex.example".into(),
        },
    );
    assert_eq!(case.c.handler.as_deref(), Some("someone@kinex.example"));
}

// ---------------------------------------------------------------------------------------------
// Who may act
// ---------------------------------------------------------------------------------------------

#[test]
fn a_handler_of_another_department_is_refused() {
    let mut case = Case::open(RECEIVED);
    let refusal = case.refused(at(RECEIVED), handler(3), offer_resolution());
    assert_eq!(refusal.code, RefusalCode::NotPermitted);
    assert_eq!(
        refusal.reason,
        "this complaint is at stage 1 (Customer Services); only Customer Services can offer a resolution now"
    );
}

#[test]
fn after_escalation_only_the_escalation_team_can_act() {
    let mut case = Case::open(RECEIVED);
    case.escalate(at(RECEIVED));
    let refusal = case.refused(at(RECEIVED), handler(1), transfer());
    assert_refused(
        &refusal,
        RefusalCode::NotPermitted,
        "only The Escalation Team can transfer the complaint to the Customer Resolution department now",
    );
    assert_eq!(case.c.stage, Stage::ESCALATION_TEAM);
}

#[test]
fn customers_cannot_take_staff_commands() {
    let mut case = Case::at_stage_3(RECEIVED, RECEIVED);
    let before = case.log.len();
    for action in [
        Action::Acknowledge { channel: None },
        note("a customer note"),
        offer_resolution(),
        transfer(),
        formal_response(),
        deadlock_letter(),
        Action::EstablishFault { description: None },
        offer_compensation(100),
        Action::ApproveCompensation { offer: None },
        evidence_request(7),
        close(),
        reopen(),
    ] {
        let name = action.in_words(&case.p);
        let refusal = case.refused(at(RECEIVED), customer(), action);
        assert_eq!(refusal.code, RefusalCode::NotPermitted);
        assert_eq!(refusal.reason, format!("only staff can {name}"));
    }
    assert_eq!(case.log.len(), before, "nothing happened");
    assert!(case.c.deadlock_issued_at.is_none() && case.c.formal_response_at.is_none());
}

#[test]
fn compliance_staff_can_only_add_notes() {
    let mut case = Case::open(RECEIVED);
    let events = case.run(
        at(RECEIVED),
        compliance(),
        note("reviewed for the quarterly report"),
    );
    assert_eq!(names(&events), ["note_added"]);
    for action in [
        Action::Acknowledge { channel: None },
        offer_resolution(),
        close(),
        Action::RecordCall {
            direction: Default::default(),
            summary: None,
            duration_minutes: None,
        },
    ] {
        let refusal = case.refused(at(RECEIVED), compliance(), action);
        assert_refused(&refusal, RefusalCode::NotPermitted, "compliance staff");
    }
}

#[test]
fn administrators_cannot_act_on_complaints() {
    let mut case = Case::open(RECEIVED);
    for action in [
        note("admin note"),
        Action::Acknowledge { channel: None },
        close(),
    ] {
        let refusal = case.refused(at(RECEIVED), administrator(), action);
        assert_refused(&refusal, RefusalCode::NotPermitted, "administrators");
    }
    assert_eq!(names(&case.log), ["received"]);
}

#[test]
fn staff_without_a_department_cannot_act() {
    let mut case = Case::open(RECEIVED);
    let nowhere = Actor {
        role: Role::Handler,
        department: None,
        staff: Some("x@kinex.example".into()),
    };
    let refusal = case.refused(at(RECEIVED), nowhere, note("hello"));
    assert_eq!(refusal.code, RefusalCode::NotPermitted);
}

// ---------------------------------------------------------------------------------------------
// Reopen and close
// ---------------------------------------------------------------------------------------------

#[test]
fn only_a_resolved_or_closed_complaint_can_be_reopened() {
    let mut case = Case::open(RECEIVED);
    let refusal = case.refused(at(RECEIVED), handler(1), reopen());
    assert_refused(
        &refusal,
        RefusalCode::WrongStatus,
        "only a resolved or closed complaint",
    );
    case.run(at(RECEIVED), handler(1), offer_resolution());
    let refusal = case.refused(at(RECEIVED), handler(1), reopen());
    assert_eq!(refusal.code, RefusalCode::WrongStatus);
}

#[test]
fn a_resolved_complaint_can_be_reopened() {
    let mut case = Case::open(RECEIVED);
    case.run(at(RECEIVED), handler(1), offer_resolution());
    case.run(at(RECEIVED), customer(), Action::AcceptResolution {});
    let events = case.run(at("2026-03-20T10:00:00Z"), handler(1), reopen());
    assert_eq!(names(&events), ["reopened"]);
    assert_eq!(case.c.status, Status::Open);
    assert_eq!(case.c.reopened_count, 1);
    assert_eq!(case.c.first_received_at, at(RECEIVED));
    // The accepted offer is withdrawn, so the customer can now escalate.
    case.run(at("2026-03-21T10:00:00Z"), customer(), escalation());
    assert_eq!(case.c.stage, Stage::ESCALATION_TEAM);
}

#[test]
fn a_closed_complaint_can_be_reopened() {
    let mut case = Case::open(RECEIVED);
    case.run(at(RECEIVED), handler(1), close());
    case.run(at("2026-03-20T10:00:00Z"), handler(1), reopen());
    assert_eq!(case.c.status, Status::Open);
    assert!(case.c.closed_at.is_none());
}

#[test]
fn a_complaint_cannot_be_reopened_after_an_ombudsman_decision() {
    let mut case = referred();
    case.run(
        at(DECIDED),
        handler(5),
        decision(OmbudsmanOutcome::NotUpheld, true),
    );
    case.run(at("2026-06-02T10:00:00Z"), handler(5), close());
    let refusal = case.refused(at("2026-06-03T10:00:00Z"), handler(5), reopen());
    assert_refused(
        &refusal,
        RefusalCode::NotPermitted,
        "ombudsman's decision is final",
    );
    assert_eq!(case.c.status, Status::Closed);
}

#[test]
fn a_closed_complaint_refuses_most_commands() {
    let mut case = Case::at_stage_3(RECEIVED, RECEIVED);
    case.run(at(RECEIVED), handler(3), close());
    for (by, action) in [
        (handler(3), Action::Acknowledge { channel: None }),
        (handler(3), offer_resolution()),
        (handler(3), formal_response()),
        (handler(3), deadlock_letter()),
        (handler(3), evidence_request(7)),
        (handler(3), Action::EstablishFault { description: None }),
        (
            handler(3),
            Action::RecordCourseOfEvents { text: "x".into() },
        ),
        (customer(), manager_review()),
        (customer(), Action::RejectResolution { reason: None }),
    ] {
        let name = action.name();
        let refusal = case.refused(at(RECEIVED), by, action);
        assert_eq!(refusal.code, RefusalCode::WrongStatus, "{name}");
        assert_eq!(
            refusal.reason, "this complaint is closed; reopen it first",
            "{name}"
        );
    }
    let refusal = case.refused(at(RECEIVED), handler(3), close());
    assert_eq!(refusal.code, RefusalCode::AlreadyDone);
    assert_eq!(case.c.status, Status::Closed);
}

#[test]
fn a_closed_complaint_still_takes_notes_calls_and_evidence() {
    let mut case = Case::at_stage_3(RECEIVED, RECEIVED);
    case.run(at(RECEIVED), handler(3), close());
    case.run(at(RECEIVED), handler(3), note("customer rang"));
    case.run(
        at(RECEIVED),
        handler(3),
        Action::RecordCall {
            direction: Default::default(),
            summary: Some("Customer rang about the bill".into()),
            duration_minutes: Some(5),
        },
    );
    case.run(
        at(RECEIVED),
        customer(),
        Action::ReceiveEvidence {
            request: None,
            description: Some("A late letter".into()),
            channel: Some(Channel::Letter),
        },
    );
    assert_eq!(case.c.status, Status::Closed);
}

#[test]
fn closing_stops_the_formal_response_clock() {
    let mut case = Case::at_stage_3(RECEIVED, RECEIVED);
    case.run(at("2026-03-20T10:00:00Z"), handler(3), close());
    assert!(case.deadline(DeadlineKind::FormalResponse).is_none());
    case.run(at("2026-04-20T10:00:00Z"), handler(3), note("later"));
    assert_eq!(case.count("response_overdue"), 0);
}

// ---------------------------------------------------------------------------------------------
// Deadlines at the same instant as a command
// ---------------------------------------------------------------------------------------------

#[test]
fn deadlines_due_at_the_same_instant_as_a_command_are_applied_before_it() {
    let mut case = Case::open(RECEIVED);
    case.run(at("2026-04-20T10:00:00Z"), handler(1), offer_resolution());
    // The customer accepts at exactly the 8-week point: the clock fires first.
    let events = case.run(at(EIGHT_WEEKS), customer(), Action::AcceptResolution {});
    assert_eq!(
        names(&events),
        ["adr_eligible", "adr_notice_sent", "resolution_accepted"]
    );
    assert!(events.iter().all(|e| e.at == at(EIGHT_WEEKS)));
    assert_eq!(case.c.status, Status::Resolved);
    assert!(case.c.adr_notice_sent_at.is_some());
}

#[test]
fn a_formal_response_issued_at_the_due_instant_comes_after_response_overdue() {
    let mut case = Case::at_stage_3(RECEIVED, "2026-03-10T10:00:00Z");
    let events = case.run(at("2026-04-07T23:00:00Z"), handler(3), formal_response());
    assert_eq!(
        names(&events),
        ["response_overdue", "formal_response_issued"]
    );
}

/// The procedure allows 100 evidence requests per complaint; when they are all overdue at once,
/// with the response and the 8-week point, every one must fire before the command that follows.
/// (`fire_due` once stopped after 64 firings: the rest fired after the command, or never once
/// the command resolved the complaint, losing the ADR notice.)
#[test]
fn every_deadline_due_before_a_command_fires_before_it_however_many_there_are() {
    let mut case = Case::at_stage_3(RECEIVED, RECEIVED);
    for _ in 0..100 {
        case.run(at(RECEIVED), handler(3), evidence_request(1));
    }
    case.run(at(RECEIVED), handler(3), offer_resolution());
    let events = case.run(
        at("2026-05-10T10:00:00Z"),
        customer(),
        Action::AcceptResolution {},
    );
    let fired = names(&events);
    assert_eq!(fired.last(), Some(&"resolution_accepted"), "{fired:?}");
    assert_eq!(
        fired.iter().filter(|n| **n == "evidence_overdue").count(),
        100
    );
    assert_eq!(
        fired.iter().filter(|n| **n == "response_overdue").count(),
        1
    );
    assert_eq!(fired.iter().filter(|n| **n == "adr_notice_sent").count(), 1);
}

#[test]
fn deadlines_fire_even_when_the_command_is_refused() {
    let mut case = Case::open(RECEIVED);
    let outcome = case.execute(at(EIGHT_WEEKS), handler(1), deadlock_letter());
    assert!(outcome.refusal.is_some());
    assert_eq!(names(&outcome.events), ["adr_eligible", "adr_notice_sent"]);
    assert!(outcome.complaint.adr_notice_sent_at.is_some());
}

// ---------------------------------------------------------------------------------------------
// Rule versions: a complaint keeps the rules in force on its London receipt date
// ---------------------------------------------------------------------------------------------

fn adr_point_under_rule_versions(received: &str) -> (i64, Timestamp) {
    let case = Case::open_with(
        procedure_with_six_weeks_from_april_2027(),
        receive_command(None),
        at(received),
    );
    let point = case
        .deadline(DeadlineKind::Adr)
        .expect("8-week clock")
        .due_at;
    (case.c.rules.adr_after_weeks, point)
}

#[test]
fn a_complaint_received_on_31_march_2027_keeps_the_8_week_adr_period() {
    // 31 March + 56 days = 26 May 2027, 00:00 BST.
    assert_eq!(
        adr_point_under_rule_versions("2027-03-31T12:00:00Z"),
        (8, at("2027-05-25T23:00:00Z"))
    );
}

#[test]
fn a_complaint_received_on_1_april_2027_gets_the_6_week_adr_period() {
    // 1 April + 42 days = 13 May 2027, 00:00 BST.
    assert_eq!(
        adr_point_under_rule_versions("2027-04-01T12:00:00Z"),
        (6, at("2027-05-12T23:00:00Z"))
    );
}

#[test]
fn the_rule_version_is_chosen_by_the_london_date_of_receipt() {
    // 23:30 UTC on 31 March 2027 is 00:30 BST on 1 April.
    assert_eq!(
        adr_point_under_rule_versions("2027-03-31T23:30:00Z"),
        (6, at("2027-05-12T23:00:00Z"))
    );
}

#[test]
fn the_6_week_notice_fires_six_weeks_after_receipt() {
    let mut case = Case::open_with(
        procedure_with_six_weeks_from_april_2027(),
        receive_command(None),
        at("2027-04-01T12:00:00Z"),
    );
    let events = case.run(at("2027-05-12T23:00:00Z"), handler(1), note("six weeks"));
    assert_eq!(
        names(&events),
        ["adr_eligible", "adr_notice_sent", "note_added"]
    );
}

#[test]
fn a_complaint_recorded_late_keeps_the_rules_of_the_date_it_was_first_received() {
    let case = Case::open_with(
        procedure_with_six_weeks_from_april_2027(),
        receive_command(Some(at("2027-03-30T12:00:00Z"))),
        at("2027-04-05T12:00:00Z"),
    );
    assert_eq!(case.c.rules.adr_after_weeks, 8);
    // 30 March + 56 days = 25 May 2027, 00:00 BST.
    assert_eq!(
        case.deadline(DeadlineKind::Adr).map(|d| d.due_at),
        Some(at("2027-05-24T23:00:00Z"))
    );
}

#[test]
fn a_complaint_keeps_its_rules_when_the_procedure_changes_later() {
    let mut case = Case::open(RECEIVED);
    // The provider then changes the only rule version to 6 weeks.
    case.p = procedure_with("adr_after_weeks = 8", "adr_after_weeks = 6");
    assert_eq!(case.c.rules.adr_after_weeks, 8);
    // Six weeks from 10 March would be 21 April; the complaint keeps its 8 weeks.
    let events = case.run(at("2026-04-21T12:00:00Z"), handler(1), note("six weeks"));
    assert_eq!(names(&events), ["note_added"]);
    let events = case.run(at(EIGHT_WEEKS), handler(1), note("eight weeks"));
    assert_eq!(
        names(&events),
        ["adr_eligible", "adr_notice_sent", "note_added"]
    );
}

// ---------------------------------------------------------------------------------------------
// London calendar: summer time and leap days, through the core
// ---------------------------------------------------------------------------------------------

fn response_due(case: &Case) -> (Date, Timestamp) {
    let d = case
        .deadline(DeadlineKind::FormalResponse)
        .expect("response clock");
    (d.due_by, d.due_at)
}

#[test]
fn a_transfer_at_2330_utc_on_20_october_counts_from_london_date_21_october() {
    let mut case = Case::at_stage_3("2026-10-01T10:00:00Z", "2026-10-20T23:30:00Z");
    match &case.log.last().unwrap().kind {
        EventKind::Transferred {
            response_due_by, ..
        } => {
            assert_eq!(*response_due_by, date(2026, 11, 18))
        }
        other => panic!("expected transferred, got {other:?}"),
    }
    // The clocks went back on 25 October: 00:00 on 19 November is 00:00 UTC.
    assert_eq!(
        response_due(&case),
        (date(2026, 11, 18), at("2026-11-19T00:00:00Z"))
    );
    let events = case.run(at("2026-11-18T23:59:59Z"), handler(3), note("last second"));
    assert_eq!(names(&events), ["note_added"]);
    let events = case.run(at("2026-11-19T00:00:00Z"), handler(3), note("overdue"));
    assert_eq!(names(&events)[0], "response_overdue");
}

#[test]
fn a_response_period_crossing_the_march_change_ends_at_midnight_bst() {
    // Transfer 20 March 2026 (GMT); the clocks go forward on 29 March.
    let case = Case::at_stage_3("2026-03-15T10:00:00Z", "2026-03-20T12:00:00Z");
    assert_eq!(
        response_due(&case),
        (date(2026, 4, 17), at("2026-04-17T23:00:00Z"))
    );
}

#[test]
fn eight_weeks_crossing_the_march_change_pass_at_midnight_bst() {
    // 1 March 2026 + 56 days = 26 April.
    let case = Case::open("2026-03-01T10:00:00Z");
    let d = case.deadline(DeadlineKind::Adr).unwrap();
    assert_eq!(
        (d.due_by, d.due_at),
        (date(2026, 4, 26), at("2026-04-25T23:00:00Z"))
    );
}

#[test]
fn eight_weeks_crossing_the_october_change_pass_at_midnight_gmt() {
    // 15 September 2026 + 56 days = 10 November.
    let case = Case::open("2026-09-15T12:00:00Z");
    let d = case.deadline(DeadlineKind::Adr).unwrap();
    assert_eq!(
        (d.due_by, d.due_at),
        (date(2026, 11, 10), at("2026-11-10T00:00:00Z"))
    );
}

#[test]
fn a_complaint_received_just_before_midnight_utc_in_summer_counts_from_the_next_london_day() {
    // 23:30 UTC on 30 June is 00:30 BST on 1 July; 1 July + 56 days = 26 August.
    let case = Case::open("2026-06-30T23:30:00Z");
    let d = case.deadline(DeadlineKind::Adr).unwrap();
    assert_eq!(
        (d.due_by, d.due_at),
        (date(2026, 8, 26), at("2026-08-25T23:00:00Z"))
    );
}

#[test]
fn a_complaint_received_on_29_february_2028_reaches_eight_weeks_on_25_april() {
    let mut case = Case::open("2028-02-29T12:00:00Z");
    let d = case.deadline(DeadlineKind::Adr).unwrap();
    assert_eq!(
        (d.due_by, d.due_at),
        (date(2028, 4, 25), at("2028-04-24T23:00:00Z"))
    );
    let events = case.run(at("2028-04-24T23:00:00Z"), handler(1), note("eight weeks"));
    assert_eq!(
        names(&events),
        ["adr_eligible", "adr_notice_sent", "note_added"]
    );
}

#[test]
fn a_28_day_period_from_1_february_2028_counts_29_february() {
    let case = Case::at_stage_3("2028-01-20T10:00:00Z", "2028-02-01T12:00:00Z");
    assert_eq!(
        response_due(&case),
        (date(2028, 2, 29), at("2028-03-01T00:00:00Z"))
    );
}

#[test]
fn a_deadlock_letter_sent_on_29_february_can_be_referred_until_28_february() {
    let mut case = Case::at_stage_3("2028-02-29T12:00:00Z", "2028-02-29T12:00:00Z");
    case.run(at("2028-02-29T12:00:00Z"), handler(3), deadlock_letter());
    let mut late = case.clone();
    case.run(at("2029-02-28T23:59:59Z"), customer(), referral());
    assert_eq!(case.c.stage, Stage::OMBUDSMAN);
    let refusal = late.refused(at("2029-03-01T00:00:00Z"), customer(), referral());
    assert_refused(&refusal, RefusalCode::TooLate, "2029-02-28");
}

// ---------------------------------------------------------------------------------------------
// The ladder only goes up
// ---------------------------------------------------------------------------------------------

#[test]
fn a_complaint_climbs_the_whole_ladder_and_never_goes_down() {
    let mut case = Case::open(RECEIVED);
    let mut stages = vec![case.c.stage];
    case.escalate(at(RECEIVED));
    stages.push(case.c.stage);
    case.run(at("2026-03-11T10:00:00Z"), handler(2), transfer());
    stages.push(case.c.stage);
    case.run(at("2026-03-20T10:00:00Z"), handler(3), formal_response());
    stages.push(case.c.stage);
    case.run(at("2026-03-25T10:00:00Z"), customer(), manager_review());
    stages.push(case.c.stage);
    case.run(
        at("2026-04-01T10:00:00Z"),
        resolution_manager(),
        deadlock_letter(),
    );
    case.run(at("2026-04-02T10:00:00Z"), customer(), referral());
    stages.push(case.c.stage);
    let numbers: Vec<u8> = stages.iter().map(|s| s.number()).collect();
    assert_eq!(numbers, [1, 2, 3, 3, 4, 5]);
    // Nothing takes it back down.
    for action in [escalation(), transfer(), manager_review()] {
        let _ = case.execute(at("2026-04-03T10:00:00Z"), customer(), action);
        assert_eq!(case.c.stage, Stage::OMBUDSMAN);
    }
}

#[test]
fn a_deadlock_letter_stops_the_formal_response_clock() {
    // Transferred on 10 March; the response would be overdue at 00:00 BST on 8 April.
    let mut case = Case::at_stage_3(RECEIVED, RECEIVED);
    assert!(case.deadline(DeadlineKind::FormalResponse).is_some());
    case.run(at("2026-03-20T10:00:00Z"), handler(3), deadlock_letter());
    assert!(case.deadline(DeadlineKind::FormalResponse).is_none());
    case.run(
        at("2026-04-20T10:00:00Z"),
        handler(3),
        note("after the due date"),
    );
    assert_eq!(case.count("response_overdue"), 0);
}

#[test]
fn the_referral_window_counts_from_the_later_adr_letter() {
    // The 8-week notice goes on 5 May 2026; a deadlock letter follows on 1 June 2026.
    let mut case = Case::at_stage_3(RECEIVED, RECEIVED);
    case.run(at(EIGHT_WEEKS), handler(3), note("eight weeks"));
    case.run(at("2026-06-01T10:00:00Z"), handler(3), deadlock_letter());
    // Twelve months after the notice have passed, but not twelve months after the deadlock letter.
    case.run(at("2027-05-20T10:00:00Z"), customer(), referral());
    assert_eq!(case.c.stage, Stage::OMBUDSMAN);
    // And a day after twelve months from the deadlock letter it would have been too late.
    let mut late = Case::at_stage_3(RECEIVED, RECEIVED);
    late.run(at(EIGHT_WEEKS), handler(3), note("eight weeks"));
    late.run(at("2026-06-01T10:00:00Z"), handler(3), deadlock_letter());
    let refusal = late.refused(at("2027-06-02T10:00:00Z"), customer(), referral());
    assert_eq!(refusal.code, RefusalCode::TooLate);
}

#[test]
fn the_commands_available_follow_the_ladder_and_the_person() {
    let p = procedure();
    let mut case = Case::open(RECEIVED);
    let now = at(RECEIVED);
    let staff = redress_core::available(&case.c, &handler(1), now, &p);
    assert!(
        staff.contains(&"offer_resolution") && staff.contains(&"acknowledge"),
        "{staff:?}"
    );
    assert!(
        !staff.contains(&"issue_deadlock_letter"),
        "no deadlock letter at stage 1: {staff:?}"
    );
    assert!(
        !staff.contains(&"request_escalation"),
        "no offer has been made yet: {staff:?}"
    );
    assert!(
        redress_core::available(&case.c, &handler(2), now, &p).is_empty(),
        "another department can do nothing"
    );
    case.run(now, handler(1), offer_resolution());
    let customer_can = redress_core::available(&case.c, &customer(), now, &p);
    assert_eq!(
        customer_can,
        [
            "accept_resolution",
            "reject_resolution",
            "request_escalation",
            "receive_evidence"
        ]
    );
}

fn withdraw(offer: Option<u32>, reason: &str) -> Action {
    Action::WithdrawOffer {
        offer,
        reason: reason.into(),
    }
}

#[test]
fn the_same_compensation_offered_again_while_the_first_is_open_is_refused() {
    let mut case = fault_established();
    case.run(at(RECEIVED), handler(1), offer_compensation(2_500));
    let refusal = case.refused(at(RECEIVED), handler(1), offer_compensation(2_500));
    assert_refused(
        &refusal,
        RefusalCode::AlreadyDone,
        "offer 1 of £25.00 is already open",
    );
    assert_eq!(case.c.compensation.len(), 1);
    // Another amount is another offer.
    case.run(at(RECEIVED), handler(1), offer_compensation(3_000));
    assert_eq!(case.c.compensation.len(), 2);
    // Once the first is withdrawn, the same amount may be offered again.
    case.run(at(RECEIVED), handler(1), withdraw(Some(1), "Made twice"));
    case.run(at(RECEIVED), handler(1), offer_compensation(2_500));
    assert_eq!(case.c.compensation.len(), 3);
}

#[test]
fn a_compensation_offer_is_withdrawn_with_a_reason_and_can_then_be_neither_approved_nor_accepted() {
    let mut case = fault_established();
    case.run(at(RECEIVED), handler(1), offer_compensation(20_000));
    // A reason is required.
    let refusal = case.refused(at(RECEIVED), handler(1), withdraw(None, "  "));
    assert_refused(
        &refusal,
        RefusalCode::InvalidInput,
        "the reason must not be empty",
    );
    let events = case.run(
        at(RECEIVED),
        handler(1),
        withdraw(None, "The amount was wrong"),
    );
    assert_eq!(
        events[0].kind,
        EventKind::CompensationWithdrawn {
            offer: 1,
            amount_pence: 20_000,
            reason: "The amount was wrong".into(),
            made_to_customer: false,
        }
    );
    assert!(case.c.compensation[0].withdrawn);
    // Never made to the customer (it waited for approval): the customer is not shown it.
    assert!(!redress_core::visibility::customer_sees(&events[0].kind));
    let refusal = case.refused(
        at(RECEIVED),
        manager(1),
        Action::ApproveCompensation { offer: Some(1) },
    );
    assert_refused(&refusal, RefusalCode::AlreadyDone, "withdrawn");
    let refusal = case.refused(at(RECEIVED), handler(1), withdraw(Some(1), "again"));
    assert_refused(&refusal, RefusalCode::AlreadyDone, "withdrawn already");

    // An approved offer withdrawn is told to the customer, who can no longer accept it.
    case.run(at(RECEIVED), handler(1), offer_compensation(5_000));
    let events = case.run(
        at(RECEIVED),
        handler(1),
        withdraw(Some(2), "Replaced by a credit"),
    );
    assert!(redress_core::visibility::customer_sees(&events[0].kind));
    let refusal = case.refused(
        at(RECEIVED),
        customer(),
        Action::AcceptCompensation { offer: Some(2) },
    );
    assert_refused(&refusal, RefusalCode::AlreadyDone, "withdrawn");
}

#[test]
fn an_accepted_compensation_offer_cannot_be_withdrawn_and_nobody_else_may_withdraw() {
    let mut case = fault_established();
    case.run(at(RECEIVED), handler(1), offer_compensation(1_000));
    // The customer may not withdraw our offer.
    let refusal = case.refused(at(RECEIVED), customer(), withdraw(None, "No"));
    assert_eq!(refusal.code, RefusalCode::NotPermitted);
    case.run(
        at(RECEIVED),
        customer(),
        Action::AcceptCompensation { offer: None },
    );
    let refusal = case.refused(at(RECEIVED), handler(1), withdraw(None, "Too late"));
    assert_refused(&refusal, RefusalCode::AlreadyDone, "has accepted");
    assert!(!case.c.compensation[0].withdrawn);
}

#[test]
fn the_customers_details_are_updated_field_by_field_and_checked_as_at_intake() {
    let mut case = Case::open(RECEIVED);
    let account = case.c.customer.account.clone();
    let name = case.c.customer.name.clone();
    let action: Action = serde_json::from_value(serde_json::json!({
        "command": "update_customer",
        "telephone": "0161 496 0000",
        "postcode": "m22 4sy",
        "preferred_channel": "letter",
        "accessibility_needs": "Large print\nCall before 10am",
        "vulnerabilities": ["Recently bereaved"],
    }))
    .expect("an update_customer command");
    let events = case.run(at(RECEIVED), handler(1), action);
    let EventKind::CustomerUpdated {
        customer: updated,
        changed,
    } = &events[0].kind
    else {
        panic!("expected customer_updated, got {:?}", events[0].kind);
    };
    assert_eq!(
        changed,
        &[
            "telephone",
            "postcode",
            "preferred_channel",
            "accessibility_needs",
            "vulnerabilities"
        ]
    );
    assert_eq!(updated.account, account, "the account number stays");
    assert_eq!(updated.name, name, "a field left out stays");
    assert_eq!(case.c.customer.telephone.as_deref(), Some("0161 496 0000"));
    assert_eq!(
        case.c.customer.postcode.as_ref().map(|p| p.as_str()),
        Some("M22 4SY")
    );
    assert_eq!(case.c.customer.preferred_channel, Some(Channel::Letter));
    assert_eq!(
        case.c.customer.accessibility_needs,
        ["Large print", "Call before 10am"]
    );
    assert_eq!(case.c.customer.vulnerabilities, ["Recently bereaved"]);

    // An empty value clears an optional detail.
    let clear: Action = serde_json::from_value(serde_json::json!({
        "command": "update_customer", "telephone": ""
    }))
    .expect("a command");
    case.run(at(RECEIVED), handler(1), clear);
    assert_eq!(case.c.customer.telephone, None);

    // Checked as at intake; nothing changed is said; nothing is recorded either way.
    let before = case.c.clone();
    for (body, words) in [
        (
            serde_json::json!({"command": "update_customer", "email": "a@b.com,evil@x.com"}),
            "one address",
        ),
        (
            serde_json::json!({"command": "update_customer", "postcode": "nowhere"}),
            "not a UK postcode",
        ),
        (
            serde_json::json!({"command": "update_customer", "name": " "}),
            "must not be empty",
        ),
        (
            serde_json::json!({"command": "update_customer", "name": name}),
            "nothing would change",
        ),
        (
            serde_json::json!({"command": "update_customer"}),
            "nothing would change",
        ),
    ] {
        let action: Action = serde_json::from_value(body).expect("a command");
        let refusal = case.refused(at(RECEIVED), handler(1), action);
        assert_refused(&refusal, RefusalCode::InvalidInput, words);
    }
    assert_eq!(case.c, before);
    // Another department at stage 1 may not; the customer may not either (through staff).
    let other = Actor::staff(Role::Handler, "escalation_team", Some("e@kinex.example"));
    let action: Action = serde_json::from_value(serde_json::json!({
        "command": "update_customer", "telephone": "0161 496 0001"
    }))
    .expect("a command");
    let refusal = case.refused(at(RECEIVED), other, action.clone());
    assert_eq!(refusal.code, RefusalCode::NotPermitted);
    let refusal = case.refused(at(RECEIVED), customer(), action);
    assert_eq!(refusal.code, RefusalCode::NotPermitted);
}

// ---------------------------------------------------------------------------------------------
// Clocks counted in working days
// ---------------------------------------------------------------------------------------------

/// The default procedure with its formal response counted in 20 working days of a nation.
fn procedure_with_working_days(nation: &str) -> Procedure {
    procedure_with(
        "retention_months = 15\n",
        &format!(
            "retention_months = 15\n\n[rules.working_days]\nnation = \"{nation}\"\nformal_response = true\nremedy = true\n"
        ),
    )
}

#[test]
fn a_formal_response_counted_in_working_days_skips_weekends_and_bank_holidays() {
    // 28 working days from Thursday 10 December 2026 in England and Wales: 25 and 28 December
    // and 1 January are bank holidays, weekends skipped.
    let p = procedure_with_working_days("england_and_wales");
    let mut case = Case::open_with(p.clone(), receive_command(None), at("2026-12-08T10:00:00Z"));
    case.escalate(at("2026-12-08T10:00:00Z"));
    case.run(at("2026-12-10T10:00:00Z"), handler(2), transfer());
    let due = deadlines(&case.c, &case.p)
        .into_iter()
        .find(|d| d.kind == DeadlineKind::FormalResponse)
        .expect("the formal response clock runs");
    // Dec: 11, 14-18, 21-24, 29-31 = 13; Jan: 4-8, 11-15, 18-22 = 15 more: the 28th is 22 Jan.
    assert_eq!(due.due_by, date(2027, 1, 22));
    assert_eq!(case.c.rules.formal_response_in_words(), "28 working days");
    let EventKind::Transferred {
        response_due_by, ..
    } = &case.log.last().expect("an event").kind
    else {
        panic!("the transfer is recorded")
    };
    assert_eq!(*response_due_by, date(2027, 1, 22));
    // The same in calendar days (the seed): 10 December + 28 = 7 January.
    let mut calendar = Case::open(RECEIVED_DEC);
    calendar.escalate(at(RECEIVED_DEC));
    calendar.run(at("2026-12-10T10:00:00Z"), handler(2), transfer());
    let due = deadlines(&calendar.c, &calendar.p)
        .into_iter()
        .find(|d| d.kind == DeadlineKind::FormalResponse)
        .expect("the formal response clock runs");
    assert_eq!(due.due_by, date(2027, 1, 7));
}

const RECEIVED_DEC: &str = "2026-12-08T10:00:00Z";

#[test]
fn working_days_are_the_nations_own() {
    // From Tuesday 29 December 2026, 3 working days: 30 and 31 December, then 4 January in
    // England and Wales; in Scotland 4 January stands in for 2 January, so 5 January.
    let ew = procedure_with_working_days("england_and_wales");
    let sc = procedure_with_working_days("scotland");
    let from = at("2026-12-29T10:00:00Z");
    let rules = ew.rules_for(date(2026, 12, 29));
    assert_eq!(
        rules.period_last_day(redress_core::procedure::Period::Remedy, &ew, from, 3),
        date(2027, 1, 4)
    );
    let rules = sc.rules_for(date(2026, 12, 29));
    assert_eq!(
        rules.period_last_day(redress_core::procedure::Period::Remedy, &sc, from, 3),
        date(2027, 1, 5)
    );
    // Clocks the rules do not name stay in calendar days.
    assert_eq!(
        rules.period_last_day(
            redress_core::procedure::Period::Acknowledgement,
            &sc,
            from,
            3
        ),
        date(2027, 1, 1)
    );
}
