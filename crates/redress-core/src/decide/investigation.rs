//! Stage 3, the Customer Resolution department's investigation: the transfer to it, evidence
//! asked for and received, the course of events, the finding on fault, and the formal
//! written response.

use crate::clock;
use crate::complaint::FaultFinding;
use crate::event::{Event, EventKind, EvidenceSource};
use crate::model::{self, Channel, Stage};

use super::context::Context;
use super::refusal::{Refusal, RefusalCode, invalid, optional_text, refuse};

pub(super) fn transfer_to_resolution(
    cx: &Context<'_>,
    reason: Option<String>,
) -> Result<Vec<Event>, Refusal> {
    let c = cx.c;
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
                    cx.stage_name(c.stage)
                ),
            );
        }
    }
    let reason = optional_text("the reason", reason)?;
    let to_stage = Stage::CUSTOMER_RESOLUTION;
    cx.one(EventKind::Transferred {
        to_stage,
        to_department: cx.procedure.department_of(to_stage).to_owned(),
        response_due_by: cx.rules().period_last_day(
            crate::procedure::Period::FormalResponse,
            cx.procedure,
            cx.now,
            cx.rules().formal_response_days,
        ),
        reason,
    })
}

pub(super) fn request_evidence(
    cx: &Context<'_>,
    from: EvidenceSource,
    due_days: i64,
    description: Option<String>,
) -> Result<Vec<Event>, Refusal> {
    let (c, rules) = (cx.c, cx.rules());
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
    cx.one(EventKind::EvidenceRequested {
        request,
        from,
        description,
        due_by: clock::period_last_day(cx.tz(), cx.now, due_days),
    })
}

pub(super) fn receive_evidence(
    cx: &Context<'_>,
    request: Option<u32>,
    description: Option<String>,
    channel: Option<Channel>,
) -> Result<Vec<Event>, Refusal> {
    let c = cx.c;
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
    cx.one(EventKind::EvidenceReceived {
        request: answers,
        description,
        channel,
    })
}

pub(super) fn record_course_of_events(
    cx: &Context<'_>,
    text: String,
) -> Result<Vec<Event>, Refusal> {
    if cx.c.stage < Stage::CUSTOMER_RESOLUTION {
        return refuse(
            RefusalCode::WrongStage,
            "the course of events is documented in the Customer Resolution department's investigation (stage 3)",
        );
    }
    let text = model::long_text("the course of events", &text).map_err(invalid)?;
    cx.one(EventKind::CourseOfEventsRecorded { text })
}

pub(super) fn establish_fault(
    cx: &Context<'_>,
    description: Option<String>,
) -> Result<Vec<Event>, Refusal> {
    if cx.c.fault == Some(FaultFinding::Established) {
        return refuse(
            RefusalCode::AlreadyDone,
            "genuine fault has already been established",
        );
    }
    let description = optional_text("the description", description)?;
    cx.one(EventKind::FaultEstablished { description })
}

pub(super) fn find_no_fault(
    cx: &Context<'_>,
    reason: Option<String>,
) -> Result<Vec<Event>, Refusal> {
    match cx.c.fault {
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
    cx.one(EventKind::NoFaultFound { reason })
}

pub(super) fn issue_formal_response(
    cx: &Context<'_>,
    text: Option<String>,
) -> Result<Vec<Event>, Refusal> {
    if cx.c.stage < Stage::CUSTOMER_RESOLUTION {
        return refuse(
            RefusalCode::WrongStage,
            "a formal written response is issued by the Customer Resolution department once the complaint has been transferred to it",
        );
    }
    if cx.c.formal_response_at.is_some() {
        return refuse(
            RefusalCode::AlreadyDone,
            "the formal written response has already been issued",
        );
    }
    let text = optional_text("the response", text)?;
    cx.one(EventKind::FormalResponseIssued { text })
}
