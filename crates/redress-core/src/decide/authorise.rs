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
    // Who may take each command is data in the table; the rules below read it.
    let info = action.info();
    let (words, who) = (info.in_words_in(procedure), info.who);
    match by.role {
        Role::System => Ok(()),
        Role::Administrator => refuse(
            RefusalCode::NotPermitted,
            "administrators manage users and the procedure; they cannot act on complaints",
        ),
        Role::Compliance if who.compliance => Ok(()),
        _ if who.only_compliance => refuse(
            RefusalCode::NotPermitted,
            format!("only compliance staff can {words}"),
        ),
        Role::Compliance => refuse(
            RefusalCode::NotPermitted,
            "compliance staff can read complaints and add notes, but cannot act on them",
        ),
        Role::Customer => match who.asker {
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
            // The customer may phone the Escalation Team directly to ask for escalation, and
            // writes to the Customer Resolution Manager to ask for a review: those departments
            // may take the request whoever owns the stage.
            let also = who.also_stage.map(|s| procedure.department_of(s));
            let owner_or_also =
                department == procedure.department_of(c.stage) || also == Some(department);
            let crm_reach = by.role == Role::CustomerResolutionManager
                && (c.stage >= Stage::CUSTOMER_RESOLUTION || who.manager_at_any_stage);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::ACTIONS;
    use crate::command::Receive;
    use crate::model::{Channel, Customer, Reference};

    /// `authorise` as it read before who may take each command became data in the table,
    /// kept to prove the table gives the same answers.
    fn as_written(c: &Complaint, by: &Actor, action: &Action, procedure: &Procedure) -> bool {
        match by.role {
            Role::System => true,
            Role::Administrator => false,
            Role::Compliance => matches!(
                action,
                Action::AddNote { .. }
                    | Action::PlaceLegalHold { .. }
                    | Action::ReleaseLegalHold { .. }
                    | Action::ErasePersonalData { .. }
            ),
            _ if matches!(
                action,
                Action::PlaceLegalHold { .. }
                    | Action::ReleaseLegalHold { .. }
                    | Action::ErasePersonalData { .. }
            ) =>
            {
                false
            }
            Role::Customer => matches!(
                action,
                Action::AcceptResolution {}
                    | Action::RejectResolution { .. }
                    | Action::RequestEscalation { .. }
                    | Action::ReceiveEvidence { .. }
                    | Action::AcceptCompensation { .. }
                    | Action::RequestManagerReview { .. }
                    | Action::ReferToOmbudsman { .. }
            ),
            Role::Handler | Role::TeamManager | Role::CustomerResolutionManager => {
                let Some(department) = by.department.as_deref() else {
                    return false;
                };
                if by
                    .staff
                    .as_ref()
                    .is_some_and(|s| c.staff_concerned.contains(s))
                {
                    return false;
                }
                let of = |n: u8| procedure.department_of(Stage::new(n).expect("a stage"));
                let also = match action {
                    Action::RequestEscalation { .. } => Some(of(2)),
                    Action::RequestManagerReview { .. } => Some(of(4)),
                    Action::ReferToOmbudsman { .. } => Some(of(5)),
                    _ => None,
                };
                department == procedure.department_of(c.stage)
                    || also == Some(department)
                    || (by.role == Role::CustomerResolutionManager
                        && (c.stage >= Stage::CUSTOMER_RESOLUTION
                            || matches!(
                                action,
                                Action::ApproveCompensation { .. }
                                    | Action::RecordAutomaticCompensation { .. }
                            )))
            }
        }
    }

    #[test]
    fn the_table_gives_the_answers_authorise_always_gave() {
        let procedure = Procedure::default_procedure();
        let now = "2026-03-02T09:00:00Z".parse().expect("an instant");
        let receive = Receive {
            reference: Reference::new("CMP", 2026, 1),
            channel: Channel::Telephone,
            customer: Customer {
                account: "A1".into(),
                name: "Ada".into(),
                email: None,
                telephone: None,
                address: Vec::new(),
                postcode: None,
                preferred_channel: None,
                accessibility_needs: Vec::new(),
                vulnerabilities: Vec::new(),
            },
            summary: "No service".into(),
            category: None,
            received_at: None,
            staff_concerned: vec!["concerned".into()],
            by: Actor::customer(),
        };
        let (opened, _) = crate::open(receive, now, &procedure).expect("opened");
        let mut actions: Vec<Action> = ACTIONS
            .iter()
            .filter_map(|a| a.sample.map(|s| s()))
            .collect();
        actions.push(Action::Assign {
            handler: "ann".into(),
        });
        actions.push(Action::NameStaffConcerned {
            staff: "bob".into(),
        });
        let roles = [
            Role::Customer,
            Role::Handler,
            Role::TeamManager,
            Role::CustomerResolutionManager,
            Role::Compliance,
            Role::Administrator,
            Role::System,
        ];
        let mut departments: Vec<Option<&str>> = vec![None];
        departments.extend(procedure.departments.keys().map(|k| Some(k.as_str())));
        let mut checked = 0;
        for n in 1..=5 {
            let mut c = opened.clone();
            c.stage = Stage::new(n).expect("a stage");
            for role in roles {
                for department in &departments {
                    for staff in [None, Some("ann"), Some("concerned")] {
                        let by = Actor {
                            role,
                            department: department.map(str::to_owned),
                            staff: staff.map(str::to_owned),
                        };
                        for action in &actions {
                            assert_eq!(
                                authorise(&c, &by, action, &procedure).is_ok(),
                                as_written(&c, &by, action, &procedure),
                                "stage {n}, {by:?}, {}",
                                action.name()
                            );
                            checked += 1;
                        }
                    }
                }
            }
        }
        assert!(checked > 10_000, "{checked}");
    }
}
