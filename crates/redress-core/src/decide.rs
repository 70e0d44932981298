//! The procedure's rules: who may do what, when, and what it leads to.
//!
//! [`decide`] looks at a complaint and a command and either returns the events that follow or
//! a [`Refusal`] in plain words a handler can read out to a customer. It never changes the
//! complaint (that is [`crate::apply`]) and never reads a clock (`now` is passed in).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::clock;
use crate::command::{Action, Asker, Command, Receive};
use crate::complaint::{Complaint, FaultFinding, OfferAnswer, apply};
use crate::deadline::{fire_due, referral_window_ends};
use crate::event::{AdrReason, Event, EventKind};
use crate::model::{self, Actor, Money, Role, Stage, Status};
use crate::procedure::Procedure;

/// Why a command was refused, in a stable code for machines and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{reason}")]
pub struct Refusal {
    pub code: RefusalCode,
    pub reason: String,
}

/// Stable snake_case refusal codes (the HTTP API uses them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalCode {
    /// The person asking may not do this.
    NotPermitted,
    /// A value given with the command is not acceptable.
    InvalidInput,
    /// The complaint is at the wrong stage of the ladder for this.
    WrongStage,
    /// The complaint's status does not allow this.
    WrongStatus,
    /// Something must happen first.
    NotYet,
    /// It has already been done.
    AlreadyDone,
    /// The time allowed for it has passed.
    TooLate,
}

impl RefusalCode {
    pub fn as_str(self) -> &'static str {
        match self {
            RefusalCode::NotPermitted => "not_permitted",
            RefusalCode::InvalidInput => "invalid_input",
            RefusalCode::WrongStage => "wrong_stage",
            RefusalCode::WrongStatus => "wrong_status",
            RefusalCode::NotYet => "not_yet",
            RefusalCode::AlreadyDone => "already_done",
            RefusalCode::TooLate => "too_late",
        }
    }
}

fn refuse<T>(code: RefusalCode, reason: impl Into<String>) -> Result<T, Refusal> {
    Err(Refusal {
        code,
        reason: reason.into(),
    })
}

fn invalid(e: model::InvalidValue) -> Refusal {
    Refusal {
        code: RefusalCode::InvalidInput,
        reason: e.0,
    }
}

fn optional_text(field: &str, value: Option<String>) -> Result<Option<String>, Refusal> {
    match value {
        Some(v) if !v.trim().is_empty() => model::long_text(field, &v).map(Some).map_err(invalid),
        _ => Ok(None),
    }
}

/// Decides a new complaint. The events are stamped `now`; `received_at` may lie in the past.
pub fn receive(
    command: Receive,
    now: Timestamp,
    procedure: &Procedure,
) -> Result<Vec<Event>, Refusal> {
    match command.by.role {
        Role::Compliance | Role::Administrator => {
            return refuse(
                RefusalCode::NotPermitted,
                "compliance staff and administrators cannot record complaints; a handler or the customer must",
            );
        }
        role if role.handles_complaints() && command.by.department.is_none() => {
            return refuse(
                RefusalCode::NotPermitted,
                "a member of staff must belong to a department to record a complaint",
            );
        }
        _ => {}
    }
    let received_at = command.received_at.unwrap_or(now);
    if received_at > now {
        return refuse(
            RefusalCode::InvalidInput,
            "a complaint cannot have been received in the future; check the date it was received",
        );
    }
    // Nothing in Redress predates the procedure's first rules: an earlier date is a typing
    // mistake (1900, year 1), and would silently get rules that never applied to it.
    if let Some(first) = procedure.rules.first()
        && clock::local_date(procedure.time_zone(), received_at) < first.effective_from
    {
        return refuse(
            RefusalCode::InvalidInput,
            format!(
                "a complaint cannot have been received before {}, when this procedure's first rules took effect; check the date it was received",
                first.effective_from
            ),
        );
    }
    let customer = command.customer.validated().map_err(invalid)?;
    let summary = model::long_text("the summary", &command.summary).map_err(invalid)?;
    let category = match command.category {
        Some(code) if procedure.category(&code).is_none() => {
            let known: Vec<&str> = procedure
                .categories
                .iter()
                .map(|c| c.code.as_str())
                .collect();
            return refuse(
                RefusalCode::InvalidInput,
                format!(
                    "'{code}' is not a complaint category; the categories are {}",
                    known.join(", ")
                ),
            );
        }
        other => other,
    };
    if command.staff_concerned.len() > 20 {
        return refuse(
            RefusalCode::InvalidInput,
            "at most 20 staff members can be named as concerned",
        );
    }
    let mut staff_concerned = Vec::with_capacity(command.staff_concerned.len());
    for s in &command.staff_concerned {
        let s = model::short_text("a staff member concerned", s).map_err(invalid)?;
        if !staff_concerned.contains(&s) {
            staff_concerned.push(s);
        }
    }
    let rules = procedure.rules_for(clock::local_date(procedure.time_zone(), received_at));
    Ok(vec![Event {
        at: now,
        by: command.by,
        kind: EventKind::Received(Box::new(crate::event::Received {
            reference: command.reference,
            channel: command.channel,
            customer,
            summary,
            category,
            received_at,
            staff_concerned,
            procedure_version: procedure.version.clone(),
            rules,
        })),
    }])
}

/// Checks that the person asking may take this command on this complaint now.
pub fn authorise(
    c: &Complaint,
    by: &Actor,
    action: &Action,
    procedure: &Procedure,
) -> Result<(), Refusal> {
    let words = action.in_words();
    match by.role {
        Role::System => Ok(()),
        Role::Administrator => refuse(
            RefusalCode::NotPermitted,
            "administrators manage users and the procedure; they cannot act on complaints",
        ),
        Role::Compliance => match action {
            Action::AddNote { .. } => Ok(()),
            _ => refuse(
                RefusalCode::NotPermitted,
                "compliance staff can read complaints and add notes, but cannot act on them",
            ),
        },
        Role::Customer => match action.asker() {
            Asker::Customer => Ok(()),
            Asker::Staff => refuse(RefusalCode::NotPermitted, format!("only staff can {words}")),
        },
        Role::Handler | Role::TeamManager | Role::CustomerResolutionManager => {
            let Some(department) = by.department.as_deref() else {
                return refuse(
                    RefusalCode::NotPermitted,
                    "a member of staff must belong to a department to act on a complaint",
                );
            };
            if let Some(staff) = &by.staff
                && c.staff_concerned.iter().any(|s| s == staff)
            {
                return refuse(
                    RefusalCode::NotPermitted,
                    "you are named as a staff member concerned in this complaint, so you cannot handle it",
                );
            }
            let stage_department = |n: u8| {
                Stage::new(n)
                    .map(|s| procedure.department_of(s))
                    .unwrap_or("")
            };
            let also = match action {
                // The customer may phone the Escalation Team directly to ask for escalation.
                Action::RequestEscalation { .. } => Some(stage_department(2)),
                // ... and writes to the Customer Resolution Manager to ask for a review.
                Action::RequestManagerReview { .. } => Some(stage_department(4)),
                Action::ReferToOmbudsman { .. } => Some(stage_department(5)),
                _ => None,
            };
            let owner_or_also =
                department == procedure.department_of(c.stage) || also == Some(department);
            let crm_reach = by.role == Role::CustomerResolutionManager
                && (c.stage >= Stage::CUSTOMER_RESOLUTION
                    || matches!(action, Action::ApproveCompensation { .. }));
            if owner_or_also || crm_reach {
                Ok(())
            } else {
                let stage = procedure.stage(c.stage);
                let owner = procedure
                    .department(&stage.department)
                    .map_or(stage.department.as_str(), |d| d.name.as_str());
                refuse(
                    RefusalCode::NotPermitted,
                    format!(
                        "this complaint is at stage {} ({}); only {owner} can {words} now",
                        c.stage, stage.name
                    ),
                )
            }
        }
    }
}

/// Decides a command on an existing complaint: the events that follow, or why not.
pub fn decide(
    c: &Complaint,
    command: Command,
    now: Timestamp,
    procedure: &Procedure,
) -> Result<Vec<Event>, Refusal> {
    authorise(c, &command.by, &command.action, procedure)?;
    guard_status(c, &command.action, procedure)?;
    let Command { by, action } = command;
    let tz = procedure.time_zone();
    let rules = &c.rules;
    let one = |kind: EventKind| -> Result<Vec<Event>, Refusal> {
        Ok(vec![Event {
            at: now,
            by: by.clone(),
            kind,
        }])
    };
    let stage_name = |s: Stage| procedure.stage(s).name.clone();

    match action {
        Action::Acknowledge { channel } => {
            if c.acknowledged_at.is_some() {
                return refuse(
                    RefusalCode::AlreadyDone,
                    "this complaint has already been acknowledged",
                );
            }
            one(EventKind::Acknowledged { channel })
        }
        Action::AddNote {
            text,
            restricted,
            about_staff,
        } => {
            let text = model::long_text("the note", &text).map_err(invalid)?;
            let about_staff = match about_staff {
                Some(s) if !s.trim().is_empty() => {
                    Some(model::short_text("the staff member", &s).map_err(invalid)?)
                }
                _ => None,
            };
            // Notes about a staff member are always for managers only.
            let restricted = restricted || about_staff.is_some();
            one(EventKind::NoteAdded {
                text,
                restricted,
                about_staff,
            })
        }
        Action::RecordCall {
            direction,
            summary,
            duration_minutes,
        } => {
            let summary = optional_text("the call summary", summary)?
                .unwrap_or_else(|| "Telephone call".to_owned());
            if duration_minutes.is_some_and(|m| m > 24 * 60) {
                return refuse(
                    RefusalCode::InvalidInput,
                    "a call cannot last more than a day",
                );
            }
            one(EventKind::CallRecorded {
                direction,
                summary,
                duration_minutes,
            })
        }
        Action::Assign { handler } => {
            let handler = model::short_text("the handler", &handler).map_err(invalid)?;
            if c.staff_concerned.contains(&handler) {
                return refuse(
                    RefusalCode::NotPermitted,
                    format!(
                        "{handler} is named as a staff member concerned in this complaint, so cannot handle it"
                    ),
                );
            }
            if by.role == Role::Handler && by.staff.as_deref().is_some_and(|me| me != handler) {
                return refuse(
                    RefusalCode::NotPermitted,
                    "only a manager can assign a complaint to someone else",
                );
            }
            if c.handler.as_deref() == Some(handler.as_str()) {
                return refuse(
                    RefusalCode::AlreadyDone,
                    format!("{handler} is already handling this complaint"),
                );
            }
            one(EventKind::HandlerAssigned { handler })
        }
        Action::NameStaffConcerned { staff } => {
            let staff = model::short_text("the staff member", &staff).map_err(invalid)?;
            if c.staff_concerned.contains(&staff) {
                return refuse(
                    RefusalCode::AlreadyDone,
                    format!("{staff} is already named as concerned in this complaint"),
                );
            }
            if c.staff_concerned.len() >= 20 {
                return refuse(
                    RefusalCode::InvalidInput,
                    "at most 20 staff members can be named as concerned",
                );
            }
            let unassigned = c.handler.as_deref() == Some(staff.as_str());
            one(EventKind::StaffConcernedNamed { staff, unassigned })
        }
        Action::OfferResolution { text } => {
            let text = model::long_text("the resolution offered", &text).map_err(invalid)?;
            one(EventKind::ResolutionOffered {
                text,
                offered_at_stage: c.stage,
            })
        }
        Action::AcceptResolution {} => {
            pending_offer(c)?;
            one(EventKind::ResolutionAccepted {})
        }
        Action::RejectResolution { reason } => {
            pending_offer(c)?;
            let reason = optional_text("the reason", reason)?;
            one(EventKind::ResolutionRejected { reason })
        }
        Action::RequestEscalation { channel, reason } => {
            match c.stage.number() {
                1 => {}
                2 => {
                    return refuse(
                        RefusalCode::WrongStage,
                        "the complaint is already with the Escalation Team, who will transfer it to the Customer Resolution department if they cannot resolve it",
                    );
                }
                _ => {
                    return refuse(
                        RefusalCode::WrongStage,
                        format!(
                            "the complaint has already been escalated beyond the Escalation Team and is with {}",
                            stage_name(c.stage)
                        ),
                    );
                }
            }
            if !c.offers.iter().any(|o| o.stage == Stage::CUSTOMER_SERVICES) {
                return refuse(
                    RefusalCode::NotYet,
                    "Customer Services must offer a resolution before the complaint can be escalated",
                );
            }
            let reason = optional_text("the reason", reason)?;
            let mut events = Vec::with_capacity(2);
            if c.current_offer()
                .is_some_and(|o| o.answer == OfferAnswer::Pending)
            {
                // Asking to escalate is the customer's answer to the offer.
                events.push(Event {
                    at: now,
                    by: by.clone(),
                    kind: EventKind::ResolutionRejected { reason },
                });
            }
            events.push(Event {
                at: now,
                by,
                kind: EventKind::Escalated {
                    from_stage: c.stage,
                    to_stage: Stage::ESCALATION_TEAM,
                    channel,
                },
            });
            Ok(events)
        }
        Action::TransferToResolution { reason } => {
            match c.stage.number() {
                2 => {}
                1 => {
                    return refuse(
                        RefusalCode::WrongStage,
                        "a complaint goes to the Escalation Team before it can be transferred to the Customer Resolution department",
                    );
                }
                _ => {
                    return refuse(
                        RefusalCode::WrongStage,
                        format!(
                            "the complaint has already been transferred and is with {}",
                            stage_name(c.stage)
                        ),
                    );
                }
            }
            let reason = optional_text("the reason", reason)?;
            let to_stage = Stage::CUSTOMER_RESOLUTION;
            one(EventKind::Transferred {
                to_stage,
                to_department: procedure.department_of(to_stage).to_owned(),
                response_due_by: clock::period_last_day(tz, now, rules.formal_response_days),
                reason,
            })
        }
        Action::RequestEvidence {
            from,
            due_days,
            description,
        } => {
            if !(1..=rules.evidence_max_days).contains(&due_days) {
                return refuse(
                    RefusalCode::InvalidInput,
                    format!(
                        "the evidence must be due within 1 to {} days (due_days was {due_days})",
                        rules.evidence_max_days
                    ),
                );
            }
            if c.evidence_requests.len() >= 100 {
                return refuse(
                    RefusalCode::InvalidInput,
                    "a complaint can have at most 100 evidence requests",
                );
            }
            let description = optional_text("the description", description)?;
            let request = u32::try_from(c.evidence_requests.len()).unwrap_or(u32::MAX - 1) + 1;
            one(EventKind::EvidenceRequested {
                request,
                from,
                description,
                due_by: clock::period_last_day(tz, now, due_days),
            })
        }
        Action::ReceiveEvidence {
            request,
            description,
            channel,
        } => {
            let description = optional_text("the description", description)?;
            let answers = match request {
                Some(id) => match c.evidence_requests.iter().find(|r| r.id == id) {
                    None => {
                        return refuse(
                            RefusalCode::InvalidInput,
                            format!("there is no evidence request {id} on this complaint"),
                        );
                    }
                    Some(r) if r.received_at.is_some() => {
                        return refuse(
                            RefusalCode::AlreadyDone,
                            format!("evidence for request {id} has already been received"),
                        );
                    }
                    Some(r) => Some(r.id),
                },
                // Evidence that names no request answers the oldest one still waiting, if any.
                None => c
                    .evidence_requests
                    .iter()
                    .find(|r| r.received_at.is_none())
                    .map(|r| r.id),
            };
            one(EventKind::EvidenceReceived {
                request: answers,
                description,
                channel,
            })
        }
        Action::RecordCourseOfEvents { text } => {
            if c.stage < Stage::CUSTOMER_RESOLUTION {
                return refuse(
                    RefusalCode::WrongStage,
                    "the course of events is documented in the Customer Resolution department's investigation (stage 3)",
                );
            }
            let text = model::long_text("the course of events", &text).map_err(invalid)?;
            one(EventKind::CourseOfEventsRecorded { text })
        }
        Action::EstablishFault { description } => {
            if c.fault == Some(FaultFinding::Established) {
                return refuse(
                    RefusalCode::AlreadyDone,
                    "genuine fault has already been established",
                );
            }
            let description = optional_text("the description", description)?;
            one(EventKind::FaultEstablished { description })
        }
        Action::FindNoFault { reason } => {
            match c.fault {
                Some(FaultFinding::Established) => {
                    return refuse(
                        RefusalCode::WrongStatus,
                        "genuine fault has already been established on this complaint",
                    );
                }
                Some(FaultFinding::NoFault) => {
                    return refuse(RefusalCode::AlreadyDone, "no fault has already been found");
                }
                None => {}
            }
            let reason = optional_text("the reason", reason)?;
            one(EventKind::NoFaultFound { reason })
        }
        Action::OfferCompensation {
            amount_pence,
            reason,
        } => {
            if c.fault != Some(FaultFinding::Established) {
                return refuse(
                    RefusalCode::NotYet,
                    "compensation can only be offered once genuine fault has been established",
                );
            }
            if amount_pence <= 0 || amount_pence > rules.compensation_max_pence {
                return refuse(
                    RefusalCode::InvalidInput,
                    format!(
                        "compensation must be between £0.01 and {}",
                        Money(rules.compensation_max_pence)
                    ),
                );
            }
            if c.compensation.len() >= 50 {
                return refuse(
                    RefusalCode::InvalidInput,
                    "a complaint can have at most 50 compensation offers",
                );
            }
            let reason = optional_text("the reason", reason)?;
            let limit = if by.role == Role::System {
                0
            } else {
                rules.approval_limits_pence.for_role(by.role)
            };
            let offer = u32::try_from(c.compensation.len()).unwrap_or(u32::MAX - 1) + 1;
            one(EventKind::CompensationOffered {
                offer,
                amount_pence,
                reason,
                approved: amount_pence <= limit,
            })
        }
        Action::ApproveCompensation { offer } => {
            let Some(o) = c.compensation_offer(offer) else {
                return refuse(
                    RefusalCode::NotYet,
                    "there is no compensation offer to approve",
                );
            };
            if o.approved {
                return refuse(
                    RefusalCode::AlreadyDone,
                    "this compensation offer has already been approved",
                );
            }
            if !by.role.handles_complaints() {
                return refuse(
                    RefusalCode::NotPermitted,
                    "only a handler or manager with a high enough limit can approve compensation",
                );
            }
            let limit = rules.approval_limits_pence.for_role(by.role);
            if o.amount_pence > limit {
                return refuse(
                    RefusalCode::NotPermitted,
                    format!(
                        "{} is above your approval limit of {}; someone with a higher limit must approve it",
                        Money(o.amount_pence),
                        Money(limit)
                    ),
                );
            }
            if by.staff.is_some() && by.staff == o.offered_by {
                return refuse(
                    RefusalCode::NotPermitted,
                    "compensation must be approved by someone other than the person who offered it",
                );
            }
            one(EventKind::CompensationApproved {
                offer: o.id,
                amount_pence: o.amount_pence,
            })
        }
        Action::AcceptCompensation { offer } => {
            let Some(o) = c.compensation_offer(offer) else {
                return refuse(
                    RefusalCode::NotYet,
                    "there is no compensation offer to accept",
                );
            };
            if o.accepted {
                return refuse(
                    RefusalCode::AlreadyDone,
                    "this compensation offer has already been accepted",
                );
            }
            if !o.approved {
                return refuse(
                    RefusalCode::NotYet,
                    "this compensation offer has not been approved yet",
                );
            }
            one(EventKind::CompensationAccepted {
                offer: o.id,
                amount_pence: o.amount_pence,
            })
        }
        Action::IssueFormalResponse { text } => {
            if c.stage < Stage::CUSTOMER_RESOLUTION {
                return refuse(
                    RefusalCode::WrongStage,
                    "a formal written response is issued by the Customer Resolution department once the complaint has been transferred to it",
                );
            }
            if c.formal_response_at.is_some() {
                return refuse(
                    RefusalCode::AlreadyDone,
                    "the formal written response has already been issued",
                );
            }
            let text = optional_text("the response", text)?;
            one(EventKind::FormalResponseIssued { text })
        }
        Action::RequestManagerReview { text } => {
            match c.stage.number() {
                1 | 2 => {
                    return refuse(
                        RefusalCode::WrongStage,
                        "the Customer Resolution Manager reviews a complaint after the Customer Resolution department's investigation (stage 3)",
                    );
                }
                4 => {
                    return refuse(
                        RefusalCode::AlreadyDone,
                        "the Customer Resolution Manager is already reviewing this complaint",
                    );
                }
                _ => {}
            }
            if c.formal_response_at.is_none() {
                return refuse(
                    RefusalCode::NotYet,
                    "the customer can ask for the Customer Resolution Manager's review once the Customer Resolution department has issued its formal written response",
                );
            }
            let text = optional_text("the customer's letter", text)?;
            one(EventKind::ManagerReviewRequested {
                from_stage: c.stage,
                to_stage: Stage::RESOLUTION_MANAGER,
                text,
            })
        }
        Action::RecordReviewOutcome { text } => {
            if c.stage != Stage::RESOLUTION_MANAGER {
                return refuse(
                    RefusalCode::WrongStage,
                    format!(
                        "the outcome of a review is recorded at stage 4, once the customer has asked the {} to review the complaint",
                        stage_name(Stage::RESOLUTION_MANAGER)
                    ),
                );
            }
            if c.review_outcome_at.is_some() {
                return refuse(
                    RefusalCode::AlreadyDone,
                    "the outcome of the review has already been recorded",
                );
            }
            let text = model::long_text("the outcome of the review", &text).map_err(invalid)?;
            one(EventKind::ReviewOutcomeRecorded { text })
        }
        Action::IssueDeadlockLetter { text } => {
            if !rules.deadlock_stages.contains(c.stage) {
                return refuse(
                    RefusalCode::WrongStage,
                    format!(
                        "a deadlock letter can only be issued from {}",
                        rules.deadlock_stages.in_words()
                    ),
                );
            }
            if c.deadlock_issued_at.is_some() {
                return refuse(
                    RefusalCode::AlreadyDone,
                    "a deadlock letter has already been issued",
                );
            }
            let text = optional_text("the letter", text)?;
            let mut events = vec![Event {
                at: now,
                by: by.clone(),
                kind: EventKind::DeadlockIssued { text },
            }];
            if c.adr_eligible_at.is_none() {
                events.push(Event {
                    at: now,
                    by,
                    kind: EventKind::AdrEligible {
                        because: AdrReason::DeadlockLetter,
                        due_at: now,
                    },
                });
            }
            Ok(events)
        }
        Action::ReferToOmbudsman {
            ombudsman_reference,
        } => {
            if c.stage == Stage::OMBUDSMAN {
                return refuse(
                    RefusalCode::AlreadyDone,
                    "the complaint has already been referred to the ombudsman",
                );
            }
            if c.adr_eligible_at.is_none() {
                let point = clock::days_passed_at(tz, c.first_received_at, rules.adr_after_days());
                return refuse(
                    RefusalCode::NotYet,
                    format!(
                        "the customer can go to the ombudsman once {} weeks have passed since the complaint was first received (on {}), or once a deadlock letter has been sent",
                        rules.adr_after_weeks,
                        clock::local_date(tz, point)
                    ),
                );
            }
            if let Some(letter) = c.adr_letter_sent_at() {
                let ends = referral_window_ends(c, letter, procedure);
                if clock::local_date(tz, now) > ends {
                    return refuse(
                        RefusalCode::TooLate,
                        format!(
                            "the ombudsman accepts a complaint within {} months of the ADR letter; that time ended on {ends}",
                            rules.adr_referral_window_months
                        ),
                    );
                }
            }
            let ombudsman_reference = match ombudsman_reference {
                Some(r) if !r.trim().is_empty() => {
                    Some(model::short_text("the ombudsman's reference", &r).map_err(invalid)?)
                }
                _ => None,
            };
            one(EventKind::ReferredToOmbudsman {
                from_stage: c.stage,
                ombudsman_reference,
            })
        }
        Action::RecordOmbudsmanDecision {
            outcome,
            customer_accepted,
            remedy,
            award_pence,
        } => {
            if c.stage != Stage::OMBUDSMAN {
                return refuse(
                    RefusalCode::NotYet,
                    "the ombudsman's decision can only be recorded once the complaint has been referred to the ombudsman",
                );
            }
            if c.ombudsman.is_some() {
                return refuse(
                    RefusalCode::AlreadyDone,
                    "the ombudsman's decision has already been recorded",
                );
            }
            let limit = procedure.adr_scheme.award_limit_pence;
            if let Some(award) = award_pence {
                if !(0..=limit).contains(&award) {
                    return refuse(
                        RefusalCode::InvalidInput,
                        format!("the ombudsman can award at most {}", Money(limit)),
                    );
                }
                if award > 0 && !outcome.requires_remedy() {
                    return refuse(
                        RefusalCode::InvalidInput,
                        "a decision that does not uphold the complaint carries no award",
                    );
                }
            }
            let remedy = optional_text("the remedy", remedy)?;
            let remedy_due_by = (customer_accepted && outcome.requires_remedy())
                .then(|| clock::period_last_day(tz, now, rules.remedy_days));
            one(EventKind::OmbudsmanDecided {
                outcome,
                customer_accepted,
                remedy,
                award_pence,
                remedy_due_by,
            })
        }
        Action::CompleteRemedy { text } => {
            if !c.remedy_outstanding() {
                return refuse(
                    RefusalCode::NotYet,
                    "there is no ombudsman remedy waiting to be completed",
                );
            }
            let text = optional_text("the description", text)?;
            one(EventKind::RemedyCompleted { text })
        }
        Action::Close { reason } => {
            if c.remedy_outstanding() {
                return refuse(
                    RefusalCode::NotYet,
                    "the ombudsman's remedy must be completed before the complaint is closed",
                );
            }
            let reason = optional_text("the reason", reason)?;
            one(EventKind::Closed { reason })
        }
        Action::Reopen { reason } => {
            if !c.is_settled() {
                return refuse(
                    RefusalCode::WrongStatus,
                    "only a resolved or closed complaint can be reopened",
                );
            }
            if c.ombudsman.is_some() {
                return refuse(
                    RefusalCode::NotPermitted,
                    "the ombudsman's decision is final, so the complaint cannot be reopened",
                );
            }
            let reason = optional_text("the reason", reason)?;
            one(EventKind::Reopened { reason })
        }
    }
}

/// Refusals that depend only on the complaint's status and stage, shared by many commands.
fn guard_status(c: &Complaint, action: &Action, procedure: &Procedure) -> Result<(), Refusal> {
    let closed_ok = matches!(
        action,
        Action::AddNote { .. }
            | Action::RecordCall { .. }
            | Action::ReceiveEvidence { .. }
            | Action::ReferToOmbudsman { .. }
            | Action::Reopen { .. }
    );
    if c.status == Status::Closed && !closed_ok {
        return match action {
            Action::Close { .. } => {
                refuse(RefusalCode::AlreadyDone, "this complaint is already closed")
            }
            _ => refuse(
                RefusalCode::WrongStatus,
                "this complaint is closed; reopen it first",
            ),
        };
    }
    let needs_unresolved = matches!(
        action,
        Action::OfferResolution { .. }
            | Action::RequestEscalation { .. }
            | Action::TransferToResolution { .. }
            | Action::RequestEvidence { .. }
            | Action::RequestManagerReview { .. }
            | Action::IssueDeadlockLetter { .. }
    );
    if c.status == Status::Resolved && needs_unresolved {
        return refuse(
            RefusalCode::WrongStatus,
            "the customer has accepted a resolution; reopen the complaint first",
        );
    }
    let provider_ladder = matches!(
        action,
        Action::OfferResolution { .. }
            | Action::RequestEscalation { .. }
            | Action::TransferToResolution { .. }
            | Action::RequestEvidence { .. }
            | Action::RequestManagerReview { .. }
            | Action::IssueFormalResponse { .. }
            | Action::RecordReviewOutcome { .. }
            | Action::IssueDeadlockLetter { .. }
    );
    if c.stage == Stage::OMBUDSMAN && provider_ladder {
        return refuse(
            RefusalCode::WrongStage,
            format!(
                "the complaint is with {}, whose decision settles it now",
                procedure.adr_scheme.name
            ),
        );
    }
    Ok(())
}

fn pending_offer(c: &Complaint) -> Result<(), Refusal> {
    match c.current_offer() {
        Some(o) if o.answer == OfferAnswer::Pending => Ok(()),
        _ => refuse(
            RefusalCode::NotYet,
            "there is no resolution offer waiting for the customer's answer",
        ),
    }
}

/// The result of running one command through the whole core.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub complaint: Complaint,
    /// Deadlines that came due first, the command's events, then deadlines already past that
    /// the command started (e.g. the ADR notice on reopening), in order.
    pub events: Vec<Event>,
    pub refusal: Option<Refusal>,
}

/// Runs a command as every shell must: deadlines due at or before `now` fire first (even if the
/// command is then refused), then the command, then anything it made already overdue.
pub fn execute(c: Complaint, command: Command, now: Timestamp, procedure: &Procedure) -> Outcome {
    let (mut c, mut events) = fire_due(c, now, procedure);
    match decide(&c, command, now, procedure) {
        Ok(decided) => {
            for event in &decided {
                c = apply(c, event);
            }
            events.extend(decided);
            let (c, after) = fire_due(c, now, procedure);
            events.extend(after);
            Outcome {
                complaint: c,
                events,
                refusal: None,
            }
        }
        Err(refusal) => Outcome {
            complaint: c,
            events,
            refusal: Some(refusal),
        },
    }
}

/// Opens a complaint: its `received` event, then every deadline already passed (a complaint
/// recorded late gets them at once).
pub fn open(
    command: Receive,
    now: Timestamp,
    procedure: &Procedure,
) -> Result<(Complaint, Vec<Event>), Refusal> {
    let mut events = receive(command, now, procedure)?;
    let Some(c) = events.first().and_then(Complaint::start) else {
        return refuse(
            RefusalCode::InvalidInput,
            "the complaint could not be opened",
        );
    };
    let (c, fired) = fire_due(c, now, procedure);
    events.extend(fired);
    Ok((c, events))
}

/// An example of each command with valid fields, for asking "may this person do it now?".
fn samples() -> Vec<Action> {
    use crate::event::{EvidenceSource, OmbudsmanOutcome};
    let text = || "a sample".to_owned();
    vec![
        Action::Acknowledge { channel: None },
        Action::AddNote {
            text: text(),
            restricted: false,
            about_staff: None,
        },
        Action::RecordCall {
            direction: Default::default(),
            summary: Some(text()),
            duration_minutes: None,
        },
        Action::OfferResolution { text: text() },
        Action::AcceptResolution {},
        Action::RejectResolution { reason: None },
        Action::RequestEscalation {
            channel: None,
            reason: None,
        },
        Action::TransferToResolution { reason: None },
        Action::RequestEvidence {
            from: EvidenceSource::Customer,
            due_days: 1,
            description: None,
        },
        Action::ReceiveEvidence {
            request: None,
            description: None,
            channel: None,
        },
        Action::RecordCourseOfEvents { text: text() },
        Action::EstablishFault { description: None },
        Action::FindNoFault { reason: None },
        Action::OfferCompensation {
            amount_pence: 1,
            reason: None,
        },
        Action::ApproveCompensation { offer: None },
        Action::AcceptCompensation { offer: None },
        Action::IssueFormalResponse { text: None },
        Action::RequestManagerReview { text: None },
        Action::RecordReviewOutcome { text: text() },
        Action::IssueDeadlockLetter { text: None },
        Action::ReferToOmbudsman {
            ombudsman_reference: None,
        },
        Action::RecordOmbudsmanDecision {
            outcome: OmbudsmanOutcome::Upheld,
            customer_accepted: true,
            remedy: None,
            award_pence: None,
        },
        Action::CompleteRemedy { text: None },
        Action::Close { reason: None },
        Action::Reopen { reason: None },
    ]
}

/// The commands `by` may take on this complaint at `now` (names, in ladder order): those the
/// procedure would accept with ordinary values. Pages offer a form for these and no others.
/// (`assign` and `name_staff_concerned` depend on who is named, so they are not listed.)
pub fn available(
    c: &Complaint,
    by: &Actor,
    now: Timestamp,
    procedure: &Procedure,
) -> Vec<&'static str> {
    samples()
        .into_iter()
        .filter(|action| {
            decide(
                c,
                Command {
                    by: by.clone(),
                    action: action.clone(),
                },
                now,
                procedure,
            )
            .is_ok()
        })
        .map(|action| action.name())
        .collect()
}
