//! The procedure's rules: who may do what, when, and what it leads to.
//!
//! [`decide`] looks at a complaint and a command and either returns the events that follow or
//! a [`Refusal`] in plain words a handler can read out to a customer. It never changes the
//! complaint (that is [`crate::apply`]) and never reads a clock (`now` is passed in).
//!
//! `decide` checks who asks ([`authorise`]) and what the complaint's status allows, then hands
//! the command to the file for its area of the ladder: `intake` (a new complaint and its
//! acknowledgement), `resolution` (stages 1 and 2), `investigation` (stage 3),
//! `compensation`, `review` (stage 4 and deadlock), `ombudsman` (stage 5) and `lifecycle`
//! (what may happen at any stage), `record` (legal holds and erasure). Those files depend only on `context` and `refusal`, never
//! on each other or on this one. `execute` sits on top: [`execute`] and [`available`] run
//! `decide` as every shell must.

mod authorise;
mod compensation;
mod context;
mod execute;
mod intake;
mod investigation;
mod lifecycle;
mod ombudsman;
mod record;
mod refusal;
mod resolution;
mod review;

use jiff::Timestamp;

use crate::command::{Action, Command};
use crate::complaint::Complaint;
use crate::event::Event;
use crate::model::{Stage, Status};
use crate::procedure::Procedure;

pub use authorise::authorise;
pub use execute::{Outcome, available, execute};
pub use intake::{open, receive};
pub use refusal::{Refusal, RefusalCode};

use context::Context;
use refusal::refuse;

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
    let cx = Context {
        c,
        by,
        now,
        procedure,
    };
    match action {
        Action::Acknowledge { channel } => intake::acknowledge(&cx, channel),
        Action::AddNote {
            text,
            restricted,
            about_staff,
        } => lifecycle::add_note(&cx, text, restricted, about_staff),
        Action::RecordCall {
            direction,
            summary,
            duration_minutes,
        } => lifecycle::record_call(&cx, direction, summary, duration_minutes),
        Action::Assign { handler } => lifecycle::assign(&cx, handler),
        Action::NameStaffConcerned { staff } => lifecycle::name_staff_concerned(&cx, staff),
        Action::OfferResolution { text } => resolution::offer_resolution(&cx, text),
        Action::AcceptResolution {} => resolution::accept_resolution(&cx),
        Action::RejectResolution { reason } => resolution::reject_resolution(&cx, reason),
        Action::RequestEscalation { channel, reason } => {
            resolution::request_escalation(&cx, channel, reason)
        }
        Action::TransferToResolution { reason } => {
            investigation::transfer_to_resolution(&cx, reason)
        }
        Action::RequestEvidence {
            from,
            due_days,
            description,
        } => investigation::request_evidence(&cx, from, due_days, description),
        Action::ReceiveEvidence {
            request,
            description,
            channel,
        } => investigation::receive_evidence(&cx, request, description, channel),
        Action::RecordCourseOfEvents { text } => investigation::record_course_of_events(&cx, text),
        Action::EstablishFault { description } => investigation::establish_fault(&cx, description),
        Action::FindNoFault { reason } => investigation::find_no_fault(&cx, reason),
        Action::OfferCompensation {
            amount_pence,
            reason,
        } => compensation::offer_compensation(&cx, amount_pence, reason),
        Action::ApproveCompensation { offer } => compensation::approve_compensation(&cx, offer),
        Action::AcceptCompensation { offer } => compensation::accept_compensation(&cx, offer),
        Action::UpdateCustomer {
            name,
            email,
            telephone,
            address,
            postcode,
            preferred_channel,
            accessibility_needs,
            vulnerabilities,
        } => lifecycle::update_customer(
            &cx,
            lifecycle::CustomerChange {
                name,
                email,
                telephone,
                address,
                postcode,
                preferred_channel,
                accessibility_needs,
                vulnerabilities,
            },
        ),
        Action::WithdrawOffer { offer, reason } => compensation::withdraw_offer(&cx, offer, reason),
        Action::IssueFormalResponse { text } => investigation::issue_formal_response(&cx, text),
        Action::RequestManagerReview { text } => review::request_manager_review(&cx, text),
        Action::RecordReviewOutcome { text } => review::record_review_outcome(&cx, text),
        Action::IssueDeadlockLetter { text } => review::issue_deadlock_letter(&cx, text),
        Action::ReferToOmbudsman {
            ombudsman_reference,
        } => ombudsman::refer_to_ombudsman(&cx, ombudsman_reference),
        Action::RecordOmbudsmanDecision {
            outcome,
            customer_accepted,
            remedy,
            award_pence,
        } => ombudsman::record_ombudsman_decision(
            &cx,
            outcome,
            customer_accepted,
            remedy,
            award_pence,
        ),
        Action::CompleteRemedy { text } => ombudsman::complete_remedy(&cx, text),
        Action::Close { reason } => lifecycle::close(&cx, reason),
        Action::Reopen { reason } => lifecycle::reopen(&cx, reason),
        Action::RecordAutomaticCompensation { kind, amount_pence } => {
            compensation::record_automatic_compensation(&cx, kind, amount_pence)
        }
        Action::PlaceLegalHold { reason } => record::place_legal_hold(&cx, reason),
        Action::ReleaseLegalHold { reason } => record::release_legal_hold(&cx, reason),
        Action::ErasePersonalData { reason } => record::erase_personal_data(&cx, reason),
    }
}

/// Refusals that depend only on the complaint's status and stage, shared by many commands.
fn guard_status(c: &Complaint, action: &Action, procedure: &Procedure) -> Result<(), Refusal> {
    if let Some(erased) = c.erased_at {
        return refuse(
            RefusalCode::WrongStatus,
            format!(
                "this complaint's personal data was erased on {}; what is left is kept for reports and cannot be changed",
                crate::clock::local_date(procedure.time_zone(), erased)
            ),
        );
    }
    let closed_ok = matches!(
        action,
        Action::PlaceLegalHold { .. }
            | Action::ReleaseLegalHold { .. }
            | Action::ErasePersonalData { .. }
            | Action::RecordAutomaticCompensation { .. }
            | Action::AddNote { .. }
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
