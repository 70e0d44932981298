//! Who may take a command on a complaint: by role, by the department that owns the stage, and
//! never a staff member the complaint is about.
//!
//! This is checked before anything else about a command, so a person who may not act is told
//! so rather than told what else is wrong.

use crate::command::{Action, Asker};
use crate::complaint::Complaint;
use crate::model::{Actor, Role, Stage};
use crate::procedure::Procedure;

use super::refusal::{Refusal, RefusalCode, refuse};

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
