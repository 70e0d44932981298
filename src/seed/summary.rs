//! What a seeding run made, counted as it goes and printed at the end.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::Duration;

use jiff::Timestamp;
use redress_core::owed::Standing;
use redress_core::{EventKind, Procedure, Status, owed};

use super::story::Told;
use crate::store::Prepared;

/// Counts over the complaints seeded; batches are counted apart and added together.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    pub complaints: u64,
    pub events: u64,
    pub letters: u64,
    pub letters_sent: u64,
    pub post: u64,
    pub by_stage: [u64; 5],
    pub by_status: BTreeMap<&'static str, u64>,
    pub by_channel: BTreeMap<&'static str, u64>,
    pub by_category: BTreeMap<String, u64>,
    pub by_event: BTreeMap<&'static str, u64>,
    /// Not resolved or closed, as of now.
    pub open: u64,
    pub overdue: u64,
    pub past_adr_point: u64,
    pub vulnerable: u64,
    pub accessibility: u64,
    pub large_print: u64,
    pub restricted_notes: u64,
    pub about_staff: u64,
    pub refused: u64,
    /// The first few refusals, for the report.
    pub refusals: Vec<String>,
}

impl Tally {
    pub fn add(&mut self, told: &Told, prepared: &Prepared, now: Timestamp, procedure: &Procedure) {
        let c = prepared.complaint();
        self.complaints += 1;
        self.events += prepared.events() as u64;
        let (letters, sent) = prepared.letters();
        self.letters += letters as u64;
        self.letters_sent += sent as u64;
        self.post += prepared.post_letters() as u64;
        self.by_stage[usize::from(c.stage.number().clamp(1, 5)) - 1] += 1;
        *self.by_status.entry(c.status.as_str()).or_default() += 1;
        *self.by_channel.entry(c.channel.as_str()).or_default() += 1;
        if let Some(category) = &c.category {
            *self.by_category.entry(category.clone()).or_default() += 1;
        }
        if !c.is_settled() {
            self.open += 1;
        }
        let owed = owed(c, procedure, now);
        if redress_core::owed::is_overdue(&owed) {
            self.overdue += 1;
        }
        if owed.iter().any(|o| o.standing == Standing::PastAdrPoint) {
            self.past_adr_point += 1;
        }
        self.vulnerable += u64::from(!c.customer.vulnerabilities.is_empty());
        self.accessibility += u64::from(!c.customer.accessibility_needs.is_empty());
        self.large_print += u64::from(told.history.large_print);
        for event in told.history.changes.iter().flat_map(|ch| &ch.events) {
            *self.by_event.entry(event.kind.name()).or_default() += 1;
            if let EventKind::NoteAdded {
                restricted,
                about_staff,
                ..
            } = &event.kind
            {
                self.restricted_notes += u64::from(*restricted);
                self.about_staff += u64::from(about_staff.is_some());
            }
        }
        self.refused += told.refused.len() as u64;
        for refusal in &told.refused {
            if self.refusals.len() < 5 {
                self.refusals.push(format!("{}: {refusal}", c.reference));
            }
        }
    }

    pub fn merge(&mut self, other: Tally) {
        self.complaints += other.complaints;
        self.events += other.events;
        self.letters += other.letters;
        self.letters_sent += other.letters_sent;
        self.post += other.post;
        for (mine, theirs) in self.by_stage.iter_mut().zip(other.by_stage) {
            *mine += theirs;
        }
        for (k, v) in other.by_status {
            *self.by_status.entry(k).or_default() += v;
        }
        for (k, v) in other.by_channel {
            *self.by_channel.entry(k).or_default() += v;
        }
        for (k, v) in other.by_category {
            *self.by_category.entry(k).or_default() += v;
        }
        for (k, v) in other.by_event {
            *self.by_event.entry(k).or_default() += v;
        }
        self.open += other.open;
        self.overdue += other.overdue;
        self.past_adr_point += other.past_adr_point;
        self.vulnerable += other.vulnerable;
        self.accessibility += other.accessibility;
        self.large_print += other.large_print;
        self.restricted_notes += other.restricted_notes;
        self.about_staff += other.about_staff;
        self.refused += other.refused;
        for refusal in other.refusals {
            if self.refusals.len() < 5 {
                self.refusals.push(refusal);
            }
        }
    }
}

/// A finished run.
#[derive(Debug, Clone)]
pub struct Summary {
    pub tally: Tally,
    pub first: Option<String>,
    pub last: Option<String>,
    /// The London dates of the first and last receipt.
    pub from: jiff::civil::Date,
    pub to: jiff::civil::Date,
    pub seed: u64,
    pub elapsed: Duration,
}

/// 1234567 as "1,234,567".
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

impl Summary {
    /// The report printed at the end, a few lines of counts with shares.
    pub fn report(&self) -> String {
        let t = &self.tally;
        let n = t.complaints.max(1) as f64;
        let share = |k: u64| format!("{} ({:.1}%)", thousands(k), k as f64 * 100.0 / n);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "seeded {} complaints{} received {} to {} (seed {})",
            thousands(t.complaints),
            match (&self.first, &self.last) {
                (Some(first), Some(last)) => format!(", {first} to {last},"),
                _ => String::new(),
            },
            self.from,
            self.to,
            self.seed
        );
        let stages: Vec<String> = t
            .by_stage
            .iter()
            .enumerate()
            .map(|(i, k)| format!("{}: {}", i + 1, share(*k)))
            .collect();
        let _ = writeln!(out, "by stage: {}", stages.join(", "));
        let statuses: Vec<String> = Status::ALL
            .iter()
            .map(|s| {
                format!(
                    "{} {}",
                    s.as_str(),
                    share(t.by_status.get(s.as_str()).copied().unwrap_or(0))
                )
            })
            .collect();
        let _ = writeln!(out, "by status: {}", statuses.join(", "));
        let mut channels: Vec<(&&str, &u64)> = t.by_channel.iter().collect();
        channels.sort_by(|a, b| b.1.cmp(a.1));
        let channels: Vec<String> = channels
            .iter()
            .map(|(k, v)| format!("{k} {}", share(**v)))
            .collect();
        let _ = writeln!(out, "by channel: {}", channels.join(", "));
        let mut categories: Vec<(&String, &u64)> = t.by_category.iter().collect();
        categories.sort_by(|a, b| b.1.cmp(a.1));
        let categories: Vec<String> = categories
            .iter()
            .map(|(k, v)| format!("{k} {}", share(**v)))
            .collect();
        let _ = writeln!(out, "by category: {}", categories.join(", "));
        let _ = writeln!(
            out,
            "open {}: overdue {}, past the ADR point {}",
            share(t.open),
            thousands(t.overdue),
            thousands(t.past_adr_point)
        );
        let _ = writeln!(
            out,
            "customers: vulnerable {}, with accessibility needs {}, large print {}",
            share(t.vulnerable),
            share(t.accessibility),
            thousands(t.large_print)
        );
        let kind = |k: &str| thousands(t.by_event.get(k).copied().unwrap_or(0));
        let _ = writeln!(
            out,
            "events {} ({:.1} per complaint): calls {}, notes {} (restricted {}, about staff {}), evidence requested {} and received {}, compensation offered {} and accepted {}, formal responses {}, reviews {}, deadlock letters {}, ADR notices {}, ombudsman referrals {} and decisions {}",
            thousands(t.events),
            t.events as f64 / n,
            kind("call_recorded"),
            kind("note_added"),
            thousands(t.restricted_notes),
            thousands(t.about_staff),
            kind("evidence_requested"),
            kind("evidence_received"),
            kind("compensation_offered"),
            kind("compensation_accepted"),
            kind("formal_response_issued"),
            kind("manager_review_requested"),
            kind("deadlock_issued"),
            kind("adr_notice_sent"),
            kind("referred_to_ombudsman"),
            kind("ombudsman_decided"),
        );
        let _ = writeln!(
            out,
            "letters {} ({} by post): {} recorded as sent, {} waiting for the sender",
            thousands(t.letters),
            thousands(t.post),
            thousands(t.letters_sent),
            thousands(t.letters - t.letters_sent)
        );
        if t.refused > 0 {
            let _ = writeln!(
                out,
                "the core refused {} commands (left out): {}",
                thousands(t.refused),
                t.refusals.join("; ")
            );
        }
        let seconds = self.elapsed.as_secs_f64().max(1e-6);
        let _ = write!(
            out,
            "took {:.1} s: {} complaints/s, {} events/s",
            seconds,
            thousands((t.complaints as f64 / seconds) as u64),
            thousands((t.events as f64 / seconds) as u64)
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
