//! One complaint's life, told by driving the real core: `open`, then each command through
//! `execute` at increasing instants, by the customer or by staff of the department that owns
//! the stage (so the core's authorisation passes), with every deadline fired at the instant it
//! falls due, as the scheduler would. Every event is one the core itself produced.
//!
//! The story stops at `now`: a complaint received recently is left part-way, with its clocks
//! running. The odds below give most complaints a resolution at stage 1, some an escalation,
//! fewer an investigation and formal response, and a few the manager's review and the
//! ombudsman, with the delays (some late) that put some complaints overdue or past the ADR
//! point.

use jiff::civil::Weekday;
use jiff::{SignedDuration, Timestamp};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use redress_core::deadline::DeadlineKind;
use redress_core::event::{CallDirection, EvidenceSource, OmbudsmanOutcome};
use redress_core::{
    Action, Actor, Channel, Command, Complaint, Procedure, Receive, Reference, Role, Stage,
    deadlines, execute, fire_due, next_due, open,
};

use super::people::{self, Staff, Team};
use super::texts;
use crate::store::{Change, History};

/// Shares of the ways complaints arrive, after Ofcom's published complaint mix: most by
/// telephone, then online and by email, few by letter or text relay.
pub const CHANNEL_SHARES: &[(Channel, f64)] = &[
    (Channel::Telephone, 0.585),
    (Channel::Web, 0.22),
    (Channel::Email, 0.145),
    (Channel::Letter, 0.04),
    (Channel::Textphone, 0.01),
];

/// What a story needs besides its own randomness.
pub struct Setting<'a> {
    pub procedure: &'a Procedure,
    pub staff: &'a Staff,
    /// Nothing happens after this instant.
    pub now: Timestamp,
    /// The procedure's categories with their shares.
    pub categories: Vec<(&'a str, f64)>,
    /// Whether stories keep their [`Script`] (to replay them through the normal paths).
    pub record: bool,
}

impl<'a> Setting<'a> {
    pub fn new(procedure: &'a Procedure, staff: &'a Staff, now: Timestamp) -> Setting<'a> {
        let other = texts::CATEGORY_SHARES
            .iter()
            .find(|(code, _)| *code == "other")
            .map_or(0.05, |(_, share)| *share);
        let categories = procedure
            .categories
            .iter()
            .map(|c| {
                let share = texts::CATEGORY_SHARES
                    .iter()
                    .find(|(code, _)| *code == c.code)
                    .map_or(other, |(_, share)| *share);
                (c.code.as_str(), share)
            })
            .collect();
        Setting {
            procedure,
            staff,
            now,
            categories,
            record: false,
        }
    }
}

/// What a shell was asked, and when, to make a story: the complaint received, a command, or
/// the scheduler firing what was due.
#[derive(Debug, Clone)]
pub enum Asked {
    Receive(Box<Receive>),
    Command(Command),
    Fire,
}

/// A story as the questions that made it, in order.
pub type Script = Vec<(Timestamp, Asked)>;

/// A complaint's story: its history and where it ended.
pub struct Told {
    pub history: History,
    pub complaint: Complaint,
    /// Kept only when the setting asks for it.
    pub script: Script,
    /// The core's reasons for commands it refused: none, unless this file and the procedure
    /// disagree about what may happen when.
    pub refused: Vec<String>,
}

/// Tells the story of the complaint received at `received` under `reference`.
pub fn tell(
    setting: &Setting<'_>,
    rng: &mut ChaCha8Rng,
    index: u64,
    reference: Reference,
    received: Timestamp,
) -> Result<Told, String> {
    let channel = people::weighted(rng, CHANNEL_SHARES);
    let customer = people::customer(rng, index, channel);
    let category =
        (!setting.categories.is_empty()).then(|| people::weighted(rng, &setting.categories));
    let summary = texts::summary(rng, category);
    let cs = setting.staff.team(Stage::CUSTOMER_SERVICES);
    // Complaints about how they were treated often name the advisor.
    let about_staff =
        category == Some("complaints_handling") && rng.random_bool(0.3) || rng.random_bool(0.01);
    let concerned = about_staff.then(|| people::pick(rng, &cs.handlers).clone());
    let named_at_once = concerned.is_some() && rng.random_bool(0.4);
    let avoid: Vec<String> = concerned.iter().cloned().collect();
    // Who records it, and when: at once on the phone or online, within minutes by email,
    // in the next working days by post.
    let (by, recorded) = match channel {
        Channel::Telephone | Channel::Textphone => (cs.handler(rng, &avoid), received),
        Channel::Web => (Actor::customer(), received),
        Channel::Email if rng.random_bool(0.7) => (
            Actor::system(),
            received + SignedDuration::from_secs(rng.random_range(5..600)),
        ),
        Channel::Email => {
            let later = received + hours(rng, 0.1, 20.0);
            (cs.handler(rng, &avoid), office(setting, rng, later))
        }
        Channel::Letter => {
            let later = received + hours(rng, 2.0, 70.0);
            (cs.handler(rng, &avoid), office(setting, rng, later))
        }
    };
    let receive = Receive {
        reference,
        channel,
        customer,
        summary,
        category: category.map(str::to_owned),
        received_at: Some(received),
        staff_concerned: if named_at_once {
            avoid.clone()
        } else {
            Vec::new()
        },
        by,
    };
    let recorded = recorded.min(setting.now).max(received);
    let mut script = Script::new();
    if setting.record {
        script.push((recorded, Asked::Receive(Box::new(receive.clone()))));
    }
    let (c, events) = open(receive, recorded, setting.procedure).map_err(|r| r.reason)?;
    let large_print = crate::mail::letters::needs_large_print(&c);
    let mut story = Story {
        s: setting,
        rng,
        c: Some(c),
        at: recorded,
        changes: vec![Change {
            at: recorded,
            events,
        }],
        refused: Vec::new(),
        script,
        category,
        concerned: if named_at_once { None } else { concerned },
    };
    let _ = story.life();
    story.advance(setting.now);
    let complaint = story
        .c
        .take()
        .ok_or_else(|| "the story lost its complaint".to_owned())?;
    Ok(Told {
        history: History {
            changes: story.changes,
            large_print,
        },
        complaint,
        refused: story.refused,
        script: story.script,
    })
}

fn hours(rng: &mut ChaCha8Rng, lo: f64, hi: f64) -> SignedDuration {
    let h = if hi > lo {
        rng.random_range(lo..hi)
    } else {
        lo
    };
    SignedDuration::from_secs((h * 3600.0).max(60.0) as i64)
}

fn days(rng: &mut ChaCha8Rng, lo: f64, hi: f64) -> SignedDuration {
    hours(rng, lo * 24.0, hi * 24.0)
}

/// Moves an instant into working hours (08:00 to 19:00, London, Monday to Saturday).
fn office(setting: &Setting<'_>, rng: &mut ChaCha8Rng, at: Timestamp) -> Timestamp {
    within(setting, rng, at, 8, 19, true)
}

/// Moves an instant into the hours customers are about (07:00 to 23:00, London).
fn waking(setting: &Setting<'_>, rng: &mut ChaCha8Rng, at: Timestamp) -> Timestamp {
    within(setting, rng, at, 7, 23, false)
}

fn within(
    setting: &Setting<'_>,
    rng: &mut ChaCha8Rng,
    at: Timestamp,
    opens: i8,
    closes: i8,
    not_sunday: bool,
) -> Timestamp {
    let tz = setting.procedure.time_zone();
    let local = tz.to_datetime(at);
    let sunday = not_sunday && local.weekday() == Weekday::Sunday;
    if local.hour() >= opens && local.hour() < closes && !sunday {
        return at;
    }
    let mut date = local.date();
    if local.hour() >= closes {
        date = date.tomorrow().unwrap_or(date);
    }
    if not_sunday && date.weekday() == Weekday::Sunday {
        date = date.tomorrow().unwrap_or(date);
    }
    let minutes = rng.random_range(0..150);
    tz.to_timestamp(date.at(opens, 0, 0, 0))
        .map(|t| t + SignedDuration::from_mins(minutes))
        .unwrap_or(at)
        .max(at)
}

struct Story<'s, 'r> {
    s: &'s Setting<'s>,
    rng: &'r mut ChaCha8Rng,
    /// Always present between steps (taken only while the core runs).
    c: Option<Complaint>,
    /// When the last thing happened.
    at: Timestamp,
    changes: Vec<Change>,
    refused: Vec<String>,
    script: Script,
    category: Option<&'s str>,
    /// A staff member the complaint is about, not yet named on it.
    concerned: Option<String>,
}

/// `?` on a step: `None` once the story has reached `now`.
type Go = Option<()>;

impl<'s> Story<'s, '_> {
    fn c(&self) -> Option<&Complaint> {
        self.c.as_ref()
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p.clamp(0.0, 1.0))
    }

    /// Fires, each at its own instant, every deadline due by `until`.
    fn advance(&mut self, until: Timestamp) {
        let procedure = self.s.procedure;
        while let Some(c) = self.c.take() {
            match next_due(&c, procedure) {
                Some(due) if due <= until => {
                    let (c, events) = fire_due(c, due, procedure);
                    self.c = Some(c);
                    if events.is_empty() {
                        return;
                    }
                    self.at = self.at.max(due);
                    if self.s.record {
                        self.script.push((due, Asked::Fire));
                    }
                    self.changes.push(Change { at: due, events });
                }
                _ => {
                    self.c = Some(c);
                    return;
                }
            }
        }
    }

    /// The instant `delay` after the last step, moved into working hours for staff; `None`
    /// (after firing what is due by then) if that is after `now`.
    fn when(&mut self, delay: SignedDuration, staff: bool) -> Option<Timestamp> {
        let at = self.at + delay.max(SignedDuration::from_mins(1));
        let at = if staff {
            office(self.s, self.rng, at)
        } else {
            waking(self.s, self.rng, at)
        };
        if at > self.s.now {
            self.advance(self.s.now);
            return None;
        }
        Some(at)
    }

    /// Runs a command at `at` through the core, deadlines due by then fired first.
    fn run(&mut self, at: Timestamp, by: Actor, action: Action) -> Go {
        self.advance(at);
        let at = at.max(self.at);
        let name = action.name();
        let c = self.c.take()?;
        let command = Command { by, action };
        if self.s.record {
            self.script.push((at, Asked::Command(command.clone())));
        }
        let outcome = execute(c, command, at, self.s.procedure);
        self.c = Some(outcome.complaint);
        if let Some(refusal) = outcome.refusal {
            self.refused.push(format!("{name}: {}", refusal.reason));
        }
        if !outcome.events.is_empty() {
            self.changes.push(Change {
                at,
                events: outcome.events,
            });
        }
        self.at = at;
        Some(())
    }

    /// A staff step `delay_hours` (a range) after the last one.
    fn staff(&mut self, lo: f64, hi: f64, by: Actor, action: Action) -> Go {
        let delay = hours(self.rng, lo, hi);
        let at = self.when(delay, true)?;
        self.run(at, by, action)
    }

    /// A customer's step.
    fn customer(&mut self, lo: f64, hi: f64, action: Action) -> Go {
        let delay = hours(self.rng, lo, hi);
        let at = self.when(delay, false)?;
        self.run(at, Actor::customer(), action)
    }

    fn avoid(&self) -> Vec<String> {
        let mut avoid = self
            .c()
            .map(|c| c.staff_concerned.clone())
            .unwrap_or_default();
        avoid.extend(self.concerned.iter().cloned());
        avoid
    }

    fn team(&self, stage: Stage) -> &'s Team {
        self.s.staff.team(stage)
    }

    /// Whoever handles the complaint at its stage: its handler if it has one there.
    fn handler(&mut self) -> Option<Actor> {
        let c = self.c()?;
        let team = self.s.staff.team(c.stage);
        if let Some(name) = &c.handler
            && team.handlers.contains(name)
        {
            return Some(team.as_handler(name));
        }
        let avoid = self.avoid();
        Some(team.handler(self.rng, &avoid))
    }

    fn manager(&mut self) -> Option<Actor> {
        let stage = self.c()?.stage;
        let avoid = self.avoid();
        let team = self.s.staff.team(stage);
        Some(team.manager(self.rng, &avoid))
    }

    /// A staff step by the complaint's handler.
    fn by_handler(&mut self, lo: f64, hi: f64, action: Action) -> Go {
        let by = self.handler()?;
        self.staff(lo, hi, by, action)
    }

    /// Either the customer (online, or by letter) or their handler recording what they said.
    fn by_customer_or_handler(&mut self, lo: f64, hi: f64, p_customer: f64, action: Action) -> Go {
        if self.chance(p_customer) {
            self.customer(lo, hi, action)
        } else {
            self.by_handler(lo, hi, action)
        }
    }

    /// Someone takes the complaint at its stage: a manager assigns it, or a handler takes it.
    fn assign(&mut self, p: f64) -> Go {
        if !self.chance(p) {
            return Some(());
        }
        let stage = self.c()?.stage;
        let avoid = self.avoid();
        let team = self.s.staff.team(stage);
        let handler = team.handler(self.rng, &avoid);
        let name = handler.staff.clone().unwrap_or_default();
        let by = if team.managers.is_empty() || self.chance(0.3) {
            handler
        } else {
            team.manager(self.rng, &avoid)
        };
        self.staff(0.2, 30.0, by, Action::Assign { handler: name })
    }

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

    fn life(&mut self) -> Go {
        if self.chance(0.96) {
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
