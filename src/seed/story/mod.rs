//! One complaint's life, told by driving the real core: `open`, then each command through
//! `execute` at increasing instants, by the customer or by staff of the department that owns
//! the stage (so the core's authorisation passes), with every deadline fired at the instant it
//! falls due, as the scheduler would. Every event is one the core itself produced.
//!
//! The story stops at `now`: a complaint received recently is left part-way, with its clocks
//! running. The odds in `ladder.rs` give most complaints a resolution at stage 1, some an escalation,
//! fewer an investigation and formal response, and a few the manager's review and the
//! ombudsman, with the delays (some late) that put some complaints overdue or past the ADR
//! point. This file holds the mechanics (time, who acts, running the core); `ladder.rs` the
//! stages.

mod ladder;

use jiff::civil::Weekday;
use jiff::{SignedDuration, Timestamp};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use redress_core::{
    Action, Actor, Channel, Command, Complaint, Procedure, Receive, Reference, Stage, execute,
    fire_due, next_due, open,
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
    Command(Box<Command>),
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
            self.script
                .push((at, Asked::Command(Box::new(command.clone()))));
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
}
