//! The ladder itself: what happens to a complaint at each stage, and how likely each turn is.
//! Each step goes through [`Story::run`], so the core decides every event; the odds and delays
//! here only choose which command is asked, by whom and when.

use jiff::SignedDuration;
use rand::Rng;
use redress_core::deadline::DeadlineKind;
use redress_core::event::{CallDirection, EvidenceSource, OmbudsmanOutcome};
use redress_core::{Action, Actor, Channel, Role, Stage, deadlines};

use super::{Go, Story, days};
use crate::seed::{people, texts};

impl Story<'_, '_> {
    /// Calls and notes while the complaint is looked into.
    fn contact(&mut self, calls: &[(u8, f64)], p_note: f64) -> Go {
        let n = people::weighted(self.rng, calls);
        for _ in 0..n {
            let direction = if self.chance(0.6) {
                CallDirection::Outbound
            } else {
                CallDirection::Inbound
            };
            let summary = Some(texts::call(self.rng));
            let duration_minutes = Some(self.rng.random_range(3..45));
            self.by_handler(
                1.0,
                72.0,
                Action::RecordCall {
                    direction,
                    summary,
                    duration_minutes,
                },
            )?;
        }
        if self.chance(p_note) {
            let text = texts::note(self.rng);
            self.by_handler(
                0.5,
                48.0,
                Action::AddNote {
                    text,
                    restricted: false,
                    about_staff: None,
                },
            )?;
        }
        let vulnerable = self
            .c()
            .is_some_and(|c| !c.customer.vulnerabilities.is_empty());
        if self.chance(if vulnerable { 0.25 } else { 0.03 }) {
            let by = self.manager()?;
            let text = texts::restricted_note(self.rng);
            self.staff(
                0.5,
                48.0,
                by,
                Action::AddNote {
                    text,
                    restricted: true,
                    about_staff: None,
                },
            )?;
        }
        if self.chance(0.004) {
            let name = people::pick(self.rng, &self.s.staff.compliance).clone();
            let by = Actor {
                role: Role::Compliance,
                department: None,
                staff: Some(name),
            };
            self.staff(
                1.0,
                200.0,
                by,
                Action::AddNote {
                    text: "Sampled for the quarterly complaints-handling review".into(),
                    restricted: false,
                    about_staff: None,
                },
            )?;
        }
        Some(())
    }

    /// The member of staff the complaint is about is named, and a manager notes the review.
    fn name_concerned(&mut self) -> Go {
        let Some(staff) = self.concerned.take() else {
            return Some(());
        };
        let avoid = vec![staff.clone()];
        let team = self.team(Stage::CUSTOMER_SERVICES);
        let by = team.manager(self.rng, &avoid);
        self.staff(
            1.0,
            48.0,
            by.clone(),
            Action::NameStaffConcerned {
                staff: staff.clone(),
            },
        )?;
        let text = texts::about_staff(self.rng);
        self.staff(
            24.0,
            240.0,
            by,
            Action::AddNote {
                text,
                restricted: true,
                about_staff: Some(staff),
            },
        )
    }

    fn close(&mut self, lo_days: f64, hi_days: f64, reason: &str) -> Go {
        self.by_handler(
            lo_days * 24.0,
            hi_days * 24.0,
            Action::Close {
                reason: Some(reason.to_owned()),
            },
        )
    }

    /// The customer accepts an offer; the complaint is closed later, and now and then
    /// reopened when the problem comes back.
    fn accepted(&mut self) -> Go {
        self.by_customer_or_handler(2.0, 150.0, 0.4, Action::AcceptResolution {})?;
        if !self.chance(0.88) {
            return Some(());
        }
        self.close(1.0, 14.0, "Resolved: the customer accepted the resolution")?;
        if self.chance(0.015) {
            let delay = days(self.rng, 10.0, 60.0);
            let at = self.when(delay, true)?;
            let by = self.handler()?;
            self.run(
                at,
                by,
                Action::Reopen {
                    reason: Some("The customer reports the problem is back".into()),
                },
            )?;
            let text = texts::offer(self.rng, self.category);
            self.by_handler(24.0, 120.0, Action::OfferResolution { text })?;
            self.by_customer_or_handler(4.0, 96.0, 0.4, Action::AcceptResolution {})?;
            self.close(1.0, 10.0, "Resolved again after reopening")?;
        }
        Some(())
    }

    pub(super) fn life(&mut self) -> Go {
        if self.c()?.acknowledged_at.is_none() && self.chance(0.96) {
            self.by_handler(0.05, 30.0, Action::Acknowledge { channel: None })?;
        }
        self.assign(0.75)?;
        if self.concerned.is_some() {
            self.name_concerned()?;
        }
        self.contact(&[(0, 0.35), (1, 0.4), (2, 0.2), (3, 0.05)], 0.3)?;
        if self.chance(0.02) {
            return self.close(0.5, 10.0, "The customer withdrew the complaint");
        }
        // Stage 1: Customer Services offer a resolution, once or twice.
        let slow = self.chance(0.04);
        let mut offers = 0;
        loop {
            let (lo, hi) = if slow && offers == 0 {
                (20.0 * 24.0, 70.0 * 24.0)
            } else {
                (4.0, 10.0 * 24.0)
            };
            let text = texts::offer(self.rng, self.category);
            self.by_handler(lo, hi, Action::OfferResolution { text })?;
            offers += 1;
            let answer = self.rng.random::<f64>();
            if answer < if offers == 1 { 0.70 } else { 0.6 } {
                return self.accepted();
            }
            if answer < 0.76 {
                return self.close(14.0, 28.0, "No response from the customer to our offer");
            }
            if offers >= 2 || !self.chance(0.3) {
                break;
            }
            let reason = Some(texts::rejection(self.rng));
            self.by_customer_or_handler(2.0, 120.0, 0.35, Action::RejectResolution { reason })?;
        }
        // Stage 2: the Escalation Team.
        if self.chance(0.5) {
            let reason = Some(texts::rejection(self.rng));
            self.by_customer_or_handler(2.0, 120.0, 0.35, Action::RejectResolution { reason })?;
        }
        let channel = Some(*people::pick(
            self.rng,
            &[
                Channel::Telephone,
                Channel::Telephone,
                Channel::Email,
                Channel::Web,
            ],
        ));
        let escalation = self.team(Stage::ESCALATION_TEAM);
        let avoid = self.avoid();
        let by = escalation.handler(self.rng, &avoid);
        if self.chance(0.25) {
            self.customer(
                1.0,
                96.0,
                Action::RequestEscalation {
                    channel,
                    reason: None,
                },
            )?;
        } else {
            self.staff(
                1.0,
                96.0,
                by,
                Action::RequestEscalation {
                    channel,
                    reason: None,
                },
            )?;
        }
        self.assign(0.8)?;
        self.contact(&[(0, 0.2), (1, 0.5), (2, 0.3)], 0.4)?;
        let text = texts::offer(self.rng, self.category);
        self.by_handler(24.0, 12.0 * 24.0, Action::OfferResolution { text })?;
        if self.chance(0.55) {
            return self.accepted();
        }
        if self.chance(0.6) {
            let reason = Some(texts::rejection(self.rng));
            self.by_customer_or_handler(2.0, 120.0, 0.35, Action::RejectResolution { reason })?;
        }
        self.by_handler(
            4.0,
            6.0 * 24.0,
            Action::TransferToResolution {
                reason: Some("Not resolved by the Escalation Team".into()),
            },
        )?;
        self.investigation()
    }

    /// Stage 3: the Customer Resolution department's investigation and formal response.
    fn investigation(&mut self) -> Go {
        let transferred = self.at;
        self.assign(0.85)?;
        let text = texts::course_of_events(self.rng);
        self.by_handler(4.0, 5.0 * 24.0, Action::RecordCourseOfEvents { text })?;
        self.contact(&[(0, 0.3), (1, 0.5), (2, 0.2)], 0.5)?;
        let max_days = self.c()?.rules.evidence_max_days;
        if self.chance(0.6) {
            let third_party = self.chance(0.3);
            let from = if third_party {
                EvidenceSource::ThirdParty
            } else {
                EvidenceSource::Customer
            };
            let due_days = (*people::pick(self.rng, &[14, 14, 21])).min(max_days);
            let description = Some(texts::evidence(self.rng, third_party));
            self.by_handler(
                2.0,
                72.0,
                Action::RequestEvidence {
                    from,
                    due_days,
                    description,
                },
            )?;
            if self.chance(0.75) {
                // Mostly in time; some after the date asked for (the clock fires first).
                let late = due_days as f64 * 1.4;
                let channel = Some(*people::pick(self.rng, &[Channel::Email, Channel::Letter]));
                let description = Some("Evidence received as asked".to_owned());
                let action = Action::ReceiveEvidence {
                    request: None,
                    description,
                    channel,
                };
                if third_party {
                    self.by_handler(48.0, late * 24.0, action)?;
                } else {
                    self.by_customer_or_handler(48.0, late * 24.0, 0.5, action)?;
                }
            }
        }
        if self.chance(0.55) {
            let description = Some(texts::fault(self.rng));
            self.by_handler(24.0, 8.0 * 24.0, Action::EstablishFault { description })?;
            self.compensation()?;
        } else {
            let reason = Some(texts::no_fault(self.rng));
            self.by_handler(24.0, 8.0 * 24.0, Action::FindNoFault { reason })?;
        }
        // The formal response: mostly within its 28 days, a fifth late.
        let period = self.c()?.rules.formal_response_days as f64;
        let target = if self.chance(0.8) {
            self.rng
                .random_range((period * 0.3)..(period - 1.0).max(period * 0.3 + 1.0))
        } else {
            // Late, some of them by months.
            self.rng.random_range((period + 1.0)..(period * 3.5 + 2.0))
        };
        let due = transferred + SignedDuration::from_secs((target * 86_400.0) as i64);
        let wait = due
            .duration_since(self.at)
            .max(SignedDuration::from_hours(2));
        let deadlock_at_3 = self.deadlock_allowed(Stage::CUSTOMER_RESOLUTION) && self.chance(0.08);
        if deadlock_at_3 {
            let by = self.handler()?;
            let at = self.when(wait, true)?;
            let text = Some(texts::formal_response(self.rng));
            self.run(at, by, Action::IssueDeadlockLetter { text })?;
            return self.after_deadlock();
        }
        let by = self.handler()?;
        let at = self.when(wait, true)?;
        let text = Some(texts::formal_response(self.rng));
        self.run(at, by, Action::IssueFormalResponse { text })?;
        let next = self.rng.random::<f64>();
        if next < 0.58 {
            return self.close(14.0, 35.0, "No further contact after the formal response");
        }
        if next < 0.83 {
            return self.review();
        }
        self.refer()
    }

    fn deadlock_allowed(&self, stage: Stage) -> bool {
        self.c()
            .is_some_and(|c| c.rules.deadlock_stages.contains(stage))
    }

    /// An offer of compensation for a fault, approved by someone with a high enough limit.
    fn compensation(&mut self) -> Go {
        let amount_pence = people::weighted(
            self.rng,
            &[
                (1_500, 0.12),
                (2_500, 0.18),
                (5_000, 0.22),
                (7_500, 0.12),
                (10_000, 0.12),
                (15_000, 0.09),
                (25_000, 0.07),
                (40_000, 0.04),
                (75_000, 0.03),
                (120_000, 0.01),
            ],
        );
        let rules = self.c()?.rules;
        let amount_pence = amount_pence.min(rules.compensation_max_pence);
        let handler = self.handler()?;
        let offerer = handler.staff.clone();
        let limit = rules.approval_limits_pence.for_role(handler.role);
        self.staff(
            4.0,
            72.0,
            handler,
            Action::OfferCompensation {
                amount_pence,
                reason: Some("For the time without a working service".into()),
            },
        )?;
        if amount_pence > limit {
            let mut avoid = self.avoid();
            avoid.extend(offerer);
            let by = if amount_pence <= rules.approval_limits_pence.team_manager {
                let stage = self.c()?.stage;
                self.s.staff.team(stage).manager(self.rng, &avoid)
            } else {
                self.s.staff.review().manager(self.rng, &avoid)
            };
            self.staff(1.0, 48.0, by, Action::ApproveCompensation { offer: None })?;
        }
        if self.chance(0.75) {
            self.by_customer_or_handler(
                24.0,
                10.0 * 24.0,
                0.5,
                Action::AcceptCompensation { offer: None },
            )?;
        }
        Some(())
    }

    /// Stage 4: the Customer Resolution Manager reviews the investigation.
    fn review(&mut self) -> Go {
        let crm = self.s.staff.review();
        let avoid = self.avoid();
        let by = crm.handler(self.rng, &avoid);
        if self.chance(0.6) {
            self.customer(
                72.0,
                25.0 * 24.0,
                Action::RequestManagerReview { text: None },
            )?;
        } else {
            self.staff(
                72.0,
                25.0 * 24.0,
                by.clone(),
                Action::RequestManagerReview {
                    text: Some("The customer's letter asking for a review".into()),
                },
            )?;
        }
        let text = texts::review_outcome(self.rng);
        self.staff(
            7.0 * 24.0,
            28.0 * 24.0,
            by.clone(),
            Action::RecordReviewOutcome { text },
        )?;
        if !self.deadlock_allowed(Stage::RESOLUTION_MANAGER) || self.chance(0.45) {
            return self.staff(
                14.0 * 24.0,
                42.0 * 24.0,
                by,
                Action::Close {
                    reason: Some("Review complete; no further contact".into()),
                },
            );
        }
        self.staff(
            1.0,
            5.0 * 24.0,
            by,
            Action::IssueDeadlockLetter {
                text: Some("This is our final position on your complaint.".into()),
            },
        )?;
        self.after_deadlock()
    }

    /// After a deadlock letter: most customers go to the ombudsman, the rest are closed.
    fn after_deadlock(&mut self) -> Go {
        if self.chance(0.7) {
            return self.refer();
        }
        self.close(
            42.0,
            90.0,
            "Deadlock letter sent; the customer did not go to the ombudsman",
        )
    }

    /// Stage 5: the customer takes the complaint to the ombudsman once they may.
    fn refer(&mut self) -> Go {
        let mut wait = days(self.rng, 5.0, 60.0);
        let c = self.c()?;
        if c.adr_eligible_at.is_none() {
            let Some(point) = deadlines(c, self.s.procedure)
                .iter()
                .find(|d| d.kind == DeadlineKind::Adr)
                .map(|d| d.due_at)
            else {
                return self.close(14.0, 30.0, "No further contact");
            };
            let extra = days(self.rng, 1.0, 30.0);
            wait = wait.max(point.duration_since(self.at) + extra);
        }
        let ombudsman_reference = Some(format!("OS-{:07}", self.rng.random_range(0..10_000_000)));
        let action = Action::ReferToOmbudsman {
            ombudsman_reference,
        };
        if self.chance(0.5) {
            let at = self.when(wait, false)?;
            self.run(at, Actor::customer(), action)?;
        } else {
            let avoid = self.avoid();
            let by = self.team(Stage::OMBUDSMAN).handler(self.rng, &avoid);
            let at = self.when(wait, true)?;
            self.run(at, by, action)?;
        }
        let outcome = people::weighted(
            self.rng,
            &[
                (OmbudsmanOutcome::Upheld, 0.3),
                (OmbudsmanOutcome::PartlyUpheld, 0.35),
                (OmbudsmanOutcome::NotUpheld, 0.35),
            ],
        );
        let customer_accepted = self.chance(0.85);
        let (remedy, award_pence) = match outcome {
            OmbudsmanOutcome::NotUpheld => (None, None),
            OmbudsmanOutcome::Upheld => (
                Some(texts::remedy(self.rng)),
                Some(self.rng.random_range(50..300) * 100),
            ),
            OmbudsmanOutcome::PartlyUpheld => (
                Some(texts::remedy(self.rng)),
                Some(self.rng.random_range(20..150) * 100),
            ),
        };
        self.by_handler(
            28.0 * 24.0,
            100.0 * 24.0,
            Action::RecordOmbudsmanDecision {
                outcome,
                customer_accepted,
                remedy,
                award_pence,
            },
        )?;
        if self.c()?.remedy_outstanding() {
            let (lo, hi) = if self.chance(0.9) {
                (3.0, 25.0)
            } else {
                (30.0, 45.0)
            };
            self.by_handler(
                lo * 24.0,
                hi * 24.0,
                Action::CompleteRemedy {
                    text: Some("Done as the ombudsman decided".into()),
                },
            )?;
        }
        self.close(1.0, 14.0, "The ombudsman's decision is carried out")
    }
}
