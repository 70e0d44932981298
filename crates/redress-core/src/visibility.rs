//! Who may see what of a complaint: the one rule every output uses (the API, the staff pages,
//! the portal, emails and exports).
//!
//! - Customers see an allow-list of events: what was done for them and told to them. Notes,
//!   calls, assignments, the staff concerned, internal findings and internal clocks are staff
//!   only. Every kind of event is named in [`customer_sees`], so a new kind stays hidden from
//!   customers until someone decides otherwise.
//! - Staff who read complaints see every event, except that a restricted note is *withheld*
//!   (shown to exist, without its text or whom it is about) from anyone whose role the
//!   procedure does not allow to read restricted notes (`[access] restricted_note_readers`:
//!   team managers, the Customer Resolution Manager and compliance by default), and always
//!   from a staff member the note is about or who is named as concerned in the complaint.
//! - Redress itself (the system actor) sees everything.

use crate::complaint::Complaint;
use crate::event::{Event, EventKind, EvidenceSource};
use crate::model::{Actor, Role};
use crate::procedure::Procedure;

/// How much of an event a viewer may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sight {
    /// All of it.
    Shown,
    /// That it exists, and when and by whom, but not what it says (a restricted note).
    Withheld,
    /// Nothing: the viewer is not told it exists.
    Hidden,
}

/// Whether a role reads complaints through the staff side (pages and API).
pub fn reads_complaints(role: Role) -> bool {
    matches!(
        role,
        Role::Handler
            | Role::TeamManager
            | Role::CustomerResolutionManager
            | Role::Compliance
            | Role::System
    )
}

/// Whether a viewer is a staff member named in the complaint or in the note itself.
fn concerned(viewer: &Actor, complaint: &Complaint, about: Option<&str>) -> bool {
    let Some(me) = viewer.staff.as_deref().map(str::trim) else {
        return false;
    };
    if me.is_empty() {
        return false;
    }
    about.is_some_and(|a| a.trim().eq_ignore_ascii_case(me))
        || complaint
            .staff_concerned
            .iter()
            .any(|s| s.trim().eq_ignore_ascii_case(me))
}

/// Whether a viewer may read the text of restricted notes on this complaint (about `about`).
pub fn may_read_restricted(
    viewer: &Actor,
    complaint: &Complaint,
    about: Option<&str>,
    procedure: &Procedure,
) -> bool {
    if viewer.role == Role::System {
        return true;
    }
    procedure
        .access
        .restricted_note_readers
        .contains(&viewer.role)
        && reads_complaints(viewer.role)
        && !concerned(viewer, complaint, about)
}

/// How much of `event` (an event of `complaint`) `viewer` may see.
pub fn sight(viewer: &Actor, complaint: &Complaint, event: &Event, procedure: &Procedure) -> Sight {
    match viewer.role {
        Role::Customer => {
            if customer_sees(&event.kind) {
                Sight::Shown
            } else {
                Sight::Hidden
            }
        }
        Role::Administrator => Sight::Hidden,
        Role::System => Sight::Shown,
        Role::Handler | Role::TeamManager | Role::CustomerResolutionManager | Role::Compliance => {
            match &event.kind {
                EventKind::NoteAdded {
                    restricted: true,
                    about_staff,
                    ..
                } if !may_read_restricted(viewer, complaint, about_staff.as_deref(), procedure) => {
                    Sight::Withheld
                }
                _ => Sight::Shown,
            }
        }
    }
}

/// The events of a complaint a viewer may see, each with how much of it.
pub fn timeline<'a>(
    viewer: &'a Actor,
    complaint: &'a Complaint,
    events: impl IntoIterator<Item = &'a Event> + 'a,
    procedure: &'a Procedure,
) -> impl Iterator<Item = (&'a Event, Sight)> + 'a {
    events
        .into_iter()
        .map(move |e| (e, sight(viewer, complaint, e, procedure)))
        .filter(|(_, s)| *s != Sight::Hidden)
}

/// Whether the customer is shown an event of this kind.
pub fn customer_sees(kind: &EventKind) -> bool {
    match kind {
        EventKind::Received(_)
        | EventKind::Acknowledged { .. }
        | EventKind::ResolutionOffered { .. }
        | EventKind::ResolutionAccepted {}
        | EventKind::ResolutionRejected { .. }
        | EventKind::Escalated { .. }
        | EventKind::Transferred { .. }
        | EventKind::EvidenceReceived { .. }
        | EventKind::FaultEstablished { .. }
        | EventKind::NoFaultFound { .. }
        | EventKind::CompensationAccepted { .. }
        // An offer above the offerer's limit is made to the customer only once approved.
        | EventKind::CompensationApproved { .. }
        | EventKind::FormalResponseIssued { .. }
        | EventKind::ManagerReviewRequested { .. }
        | EventKind::ReviewOutcomeRecorded { .. }
        | EventKind::DeadlockIssued { .. }
        | EventKind::AdrEligible { .. }
        | EventKind::AdrNoticeSent { .. }
        | EventKind::ReferredToOmbudsman { .. }
        | EventKind::OmbudsmanDecided { .. }
        | EventKind::RemedyCompleted { .. }
        | EventKind::Closed { .. }
        | EventKind::Reopened { .. }
        // Their own details.
        | EventKind::CustomerUpdated { .. }
        | EventKind::PersonalDataErased { .. }
        | EventKind::AutomaticCompensationPaid { .. } => true,
        EventKind::EvidenceRequested { from, .. } => *from == EvidenceSource::Customer,
        EventKind::CompensationOffered { approved, .. } => *approved,
        EventKind::CompensationWithdrawn {
            made_to_customer, ..
        } => *made_to_customer,
        EventKind::NoteAdded { .. }
        | EventKind::CallRecorded { .. }
        | EventKind::HandlerAssigned { .. }
        | EventKind::StaffConcernedNamed { .. }
        | EventKind::CourseOfEventsRecorded { .. }
        | EventKind::EvidenceOverdue { .. }
        | EventKind::ResponseOverdue { .. }
        | EventKind::AcknowledgementOverdue { .. }
        | EventKind::RemedyOverdue { .. }
        // Their letters are listed to them on their own.
        | EventKind::LetterSent { .. }
        | EventKind::CaseFileGenerated { .. }
        | EventKind::SubjectAccessExported { .. }
        | EventKind::LegalHoldPlaced { .. }
        | EventKind::LegalHoldReleased { .. } => false,
    }
}

/// Who may make the ombudsman's case file of a complaint: compliance staff, team managers and
/// the Customer Resolution Manager (it holds the whole record bar restricted notes).
pub fn may_make_case_file(role: Role) -> bool {
    matches!(
        role,
        Role::Compliance | Role::TeamManager | Role::CustomerResolutionManager
    )
}

/// Who may read the complaint reports (figures across all complaints, nothing personal beyond
/// references of late ones): compliance staff, team managers and the Customer Resolution Manager.
pub fn may_read_reports(role: Role) -> bool {
    matches!(
        role,
        Role::Compliance | Role::TeamManager | Role::CustomerResolutionManager
    )
}

/// Who may export everything held about a customer (a subject access request): compliance.
pub fn may_export_subject_access(role: Role) -> bool {
    role == Role::Compliance
}
