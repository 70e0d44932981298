//! What the complaint reports count, defined once: each event that a report counts becomes a
//! [`Fact`] as it is recorded (the store keeps them in `report_facts`, beside the event), and
//! the definitions of the figures (on time, age bands, percentiles, per 100,000 customers) are
//! here. A fact holds nothing personal: kinds, instants, stages, category, channel, amounts,
//! whether the customer's vulnerabilities were recorded.
//!
//! - **received**: at the instant first received (not recorded), by category and channel;
//! - **acknowledged**: `measure` = minutes from first receipt;
//! - **formal_response_issued**: `measure` = London days from the transfer; on time when issued
//!   by the last day of the `formal_response_days` period; `due` that day;
//! - **adr_notice_sent**: on time when sent on the London day the ADR point fell (`due`);
//! - **resolution_accepted**, **closed**: `measure` = London days from first receipt, at the
//!   stage reached;
//! - **deadlock_issued**, **referred_to_ombudsman**, **reopened**, stage moves: at their stage;
//! - **ombudsman_decided**: `detail` = the outcome, `amount` = the award;
//! - **remedy_completed**: on time when done by the remedy's last day (`due`);
//! - **compensation_offered**, **compensation_accepted** (paid once accepted),
//!   **automatic_compensation_paid** (`detail` = its kind): `amount`;
//! - **vulnerability_recorded**: the customer's vulnerabilities were recorded after intake.

use jiff::Timestamp;
use jiff::civil::Date;

use crate::clock;
use crate::complaint::Complaint;
use crate::event::{Event, EventKind};
use crate::procedure::{Period, Procedure};

/// One counted event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact {
    pub kind: &'static str,
    pub at: Timestamp,
    pub stage: u8,
    pub category: Option<String>,
    pub channel: &'static str,
    pub vulnerable: bool,
    pub amount_pence: Option<i64>,
    pub measure: Option<i64>,
    pub on_time: Option<bool>,
    pub due: Option<Date>,
    pub detail: Option<String>,
}

fn london_days(tz: &jiff::tz::TimeZone, from: Timestamp, to: Timestamp) -> i64 {
    i64::from((clock::local_date(tz, to) - clock::local_date(tz, from)).get_days())
}

/// What a fact needs of the complaint as it was before its event (cheap to take).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Before {
    pub transferred_at: Option<Timestamp>,
    pub decided_at: Option<Timestamp>,
    pub vulnerable: bool,
}

impl Before {
    pub fn of(c: &Complaint) -> Before {
        Before {
            transferred_at: c.transferred_at,
            decided_at: c.ombudsman.as_ref().map(|d| d.decided_at),
            vulnerable: !c.customer.vulnerabilities.is_empty(),
        }
    }
}

/// The fact an event makes, if reports count it: `before` is the complaint before the event
/// (none for `received`), `after` the complaint after it.
pub fn fact(
    before: Option<&Before>,
    event: &Event,
    after: &Complaint,
    procedure: &Procedure,
) -> Option<Fact> {
    let tz = procedure.time_zone();
    let base = |kind: &'static str| Fact {
        kind,
        at: event.at,
        stage: after.stage.number(),
        category: after.category.clone(),
        channel: after.channel.as_str(),
        vulnerable: !after.customer.vulnerabilities.is_empty(),
        amount_pence: None,
        measure: None,
        on_time: None,
        due: None,
        detail: None,
    };
    let since_received = || Some(london_days(tz, after.first_received_at, event.at));
    // Done within a period the rules set from `from`: on time by its last day, and how long.
    let within = |kind, period, from: Timestamp, days| {
        let due = after.rules.period_last_day(period, procedure, from, days);
        Fact {
            measure: Some(london_days(tz, from, event.at)),
            on_time: Some(clock::local_date(tz, event.at) <= due),
            due: Some(due),
            ..base(kind)
        }
    };
    Some(match &event.kind {
        EventKind::Received(r) => Fact {
            at: r.received_at,
            ..base("received")
        },
        EventKind::Acknowledged { .. } => Fact {
            measure: Some(
                ((event.at.as_second() - after.first_received_at.as_second()) / 60).max(0),
            ),
            ..base("acknowledged")
        },
        EventKind::FormalResponseIssued { .. } => within(
            "formal_response_issued",
            Period::FormalResponse,
            before.and_then(|c| c.transferred_at)?,
            after.rules.formal_response_days,
        ),
        EventKind::AdrNoticeSent { due_at, .. } => {
            let due = clock::local_date(tz, *due_at);
            Fact {
                on_time: Some(clock::local_date(tz, event.at) <= due),
                due: Some(due),
                ..base("adr_notice_sent")
            }
        }
        EventKind::ResolutionAccepted {} => Fact {
            measure: since_received(),
            ..base("resolution_accepted")
        },
        EventKind::Closed { .. } => Fact {
            measure: since_received(),
            ..base("closed")
        },
        EventKind::Reopened { .. } => base("reopened"),
        EventKind::Escalated { .. } | EventKind::Transferred { .. } => base("stage_moved"),
        EventKind::ManagerReviewRequested { .. } => base("stage_moved"),
        EventKind::DeadlockIssued { .. } => base("deadlock_issued"),
        EventKind::ReferredToOmbudsman { .. } => base("referred_to_ombudsman"),
        EventKind::OmbudsmanDecided {
            outcome,
            award_pence,
            ..
        } => Fact {
            amount_pence: *award_pence,
            detail: Some(
                match outcome {
                    crate::event::OmbudsmanOutcome::Upheld => "upheld",
                    crate::event::OmbudsmanOutcome::PartlyUpheld => "partly_upheld",
                    crate::event::OmbudsmanOutcome::NotUpheld => "not_upheld",
                }
                .to_owned(),
            ),
            ..base("ombudsman_decided")
        },
        EventKind::RemedyCompleted { .. } => within(
            "remedy_completed",
            Period::Remedy,
            before.and_then(|c| c.decided_at)?,
            after.rules.remedy_days,
        ),
        EventKind::CompensationOffered { amount_pence, .. } => Fact {
            amount_pence: Some(*amount_pence),
            ..base("compensation_offered")
        },
        EventKind::CompensationAccepted { amount_pence, .. } => Fact {
            amount_pence: Some(*amount_pence),
            ..base("compensation_accepted")
        },
        EventKind::AutomaticCompensationPaid { kind, amount_pence } => Fact {
            amount_pence: Some(*amount_pence),
            detail: Some(kind.as_str().to_owned()),
            ..base("automatic_compensation_paid")
        },
        EventKind::CustomerUpdated { customer, .. }
            if !customer.vulnerabilities.is_empty() && before.is_some_and(|c| !c.vulnerable) =>
        {
            base("vulnerability_recorded")
        }
        _ => return None,
    })
}

/// The age bands of complaints open at the end of a period, by London days since first receipt.
pub const AGE_BANDS: [(&str, i64, i64); 4] = [
    ("under 2 weeks", 0, 13),
    ("2 to 4 weeks", 14, 27),
    ("4 to 8 weeks", 28, 55),
    ("8 weeks or more", 56, i64::MAX),
];

/// The band a complaint `days` old falls in.
pub fn age_band(days: i64) -> &'static str {
    AGE_BANDS
        .iter()
        .find(|(_, lo, hi)| (*lo..=*hi).contains(&days.max(0)))
        .map_or(AGE_BANDS[0].0, |b| b.0)
}

/// The value at percentile `p` (0 to 100) of sorted values, nearest rank; `None` when empty.
pub fn percentile(sorted: &[i64], p: u32) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len();
    let rank = (u64::from(p) * n as u64).div_ceil(100).max(1) as usize;
    Some(sorted[rank.min(n) - 1])
}

/// The median of sorted values (the lower middle when even, so it is always a value seen).
pub fn median(sorted: &[i64]) -> Option<i64> {
    percentile(sorted, 50)
}

/// Complaints per 100,000 customers, to one decimal place (as tenths).
pub fn per_100k_tenths(count: u64, customers: u64) -> Option<u64> {
    (customers > 0).then(|| (count * 1_000_000 + customers / 2) / customers)
}

/// A whole-number percentage, rounded half up; `None` of nothing.
pub fn percent(part: u64, whole: u64) -> Option<u64> {
    (whole > 0).then(|| (part * 100 + whole / 2) / whole)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_take_the_nearest_rank() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[5]), Some(5));
        assert_eq!(median(&[1, 2, 3, 4]), Some(2));
        assert_eq!(median(&[1, 2, 3, 4, 5]), Some(3));
        let hundred: Vec<i64> = (1..=100).collect();
        assert_eq!(percentile(&hundred, 90), Some(90));
        assert_eq!(percentile(&[1, 2, 3], 90), Some(3));
    }

    #[test]
    fn bands_rates_and_percentages() {
        assert_eq!(age_band(0), "under 2 weeks");
        assert_eq!(age_band(13), "under 2 weeks");
        assert_eq!(age_band(14), "2 to 4 weeks");
        assert_eq!(age_band(56), "8 weeks or more");
        assert_eq!(per_100k_tenths(3, 200_000), Some(15));
        assert_eq!(per_100k_tenths(3, 0), None);
        assert_eq!(percent(1, 3), Some(33));
        assert_eq!(percent(2, 3), Some(67));
        assert_eq!(percent(0, 0), None);
    }
}
