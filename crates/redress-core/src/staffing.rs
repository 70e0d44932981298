//! Who may hold a complaint: the one rule the staff pages' list of people and the API's check
//! of an assignment share. The shells know the people (their role and department); the rule
//! is here.

use crate::model::{Role, Stage};
use crate::procedure::Procedure;

/// Whether a member of staff with this role and department may be given a complaint at
/// `stage`: someone who handles complaints, in the department the procedure gives that stage.
pub fn may_hold(role: Role, department: Option<&str>, stage: Stage, procedure: &Procedure) -> bool {
    matches!(
        role,
        Role::Handler | Role::TeamManager | Role::CustomerResolutionManager
    ) && department.is_some_and(|d| d == procedure.department_of(stage))
}

#[cfg(test)]
mod tests {
    use super::may_hold;
    use crate::model::{Role, Stage};
    use crate::procedure::Procedure;

    #[test]
    fn only_handling_staff_of_the_stages_department_may_hold_it() {
        let p = Procedure::default_procedure();
        let cs = Some("customer_services");
        assert!(may_hold(Role::Handler, cs, Stage::CUSTOMER_SERVICES, &p));
        assert!(may_hold(
            Role::TeamManager,
            cs,
            Stage::CUSTOMER_SERVICES,
            &p
        ));
        assert!(!may_hold(Role::Handler, cs, Stage::ESCALATION_TEAM, &p));
        assert!(!may_hold(Role::Handler, None, Stage::CUSTOMER_SERVICES, &p));
        assert!(!may_hold(
            Role::Compliance,
            cs,
            Stage::CUSTOMER_SERVICES,
            &p
        ));
        assert!(!may_hold(
            Role::Administrator,
            cs,
            Stage::CUSTOMER_SERVICES,
            &p
        ));
    }
}
