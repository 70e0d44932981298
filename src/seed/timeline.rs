//! When the seeded complaints were received, and the references that follows from it.
//!
//! Complaints are spread over the years asked for, more in working hours than at night and
//! fewer at weekends, and in index order: complaint `i` is never received after complaint
//! `i + 1`. So each year's complaints are a run of consecutive indexes, numbered on from the
//! store's counter for that year in order of receipt, as intake numbers them.

use std::collections::BTreeMap;

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};
use redress_core::{Reference, clock};

/// How many complaints arrive in an hour, relative to a weekday afternoon, by London hour of
/// the day (0 to 23).
const HOURLY: [f64; 24] = [
    0.04, 0.02, 0.02, 0.02, 0.02, 0.04, 0.10, 0.30, 0.75, 1.00, 1.00, 1.00, 0.95, 1.00, 1.00, 0.95,
    0.90, 0.80, 0.65, 0.50, 0.40, 0.25, 0.15, 0.08,
];
/// Saturday and Sunday, relative to a weekday.
const SATURDAY: f64 = 0.55;
const SUNDAY: f64 = 0.30;

/// The instants complaints were received, spread over the hours between two instants.
pub struct Timeline {
    start: Timestamp,
    end: Timestamp,
    count: u64,
    /// The weight of each hour from `start`, and the weight of every hour before it.
    weights: Vec<f64>,
    before: Vec<f64>,
}

impl Timeline {
    /// `count` complaints received over the `years` London calendar years before `now`.
    pub fn new(now: Timestamp, years: u32, count: u64, tz: &TimeZone) -> Result<Timeline, String> {
        let years = i16::try_from(years).map_err(|_| "too many years".to_owned())?;
        let start = tz
            .to_datetime(now)
            .checked_sub(years.years())
            .and_then(|local| tz.to_timestamp(local))
            .map_err(|e| format!("cannot go {years} years back: {e}"))?;
        let seconds = now.duration_since(start).as_secs();
        let hours = usize::try_from(seconds / 3600 + 1).map_err(|_| "too long".to_owned())?;
        let mut weights = Vec::with_capacity(hours);
        let mut before = Vec::with_capacity(hours + 1);
        let mut total = 0.0;
        for h in 0..hours {
            let middle = start + SignedDuration::from_secs(h as i64 * 3600 + 1800);
            let local = tz.to_datetime(middle);
            let day = match local.weekday() {
                jiff::civil::Weekday::Saturday => SATURDAY,
                jiff::civil::Weekday::Sunday => SUNDAY,
                _ => 1.0,
            };
            let weight = HOURLY[usize::try_from(local.hour()).unwrap_or(0) % 24] * day;
            before.push(total);
            weights.push(weight);
            total += weight;
        }
        before.push(total);
        Ok(Timeline {
            start,
            end: now,
            count: count.max(1),
            weights,
            before,
        })
    }

    /// The first instant complaints can have been received.
    pub fn start(&self) -> Timestamp {
        self.start
    }

    /// When complaint `index` was received, given a draw `jitter` in [0, 1) of its own: to the
    /// second, never after `now`.
    pub fn received(&self, index: u64, jitter: f64) -> Timestamp {
        let total = self.before.last().copied().unwrap_or(0.0);
        let share = (index as f64 + jitter.clamp(0.0, 1.0)) / self.count as f64;
        let target = share.clamp(0.0, 1.0) * total;
        let hour = self
            .before
            .partition_point(|b| *b <= target)
            .saturating_sub(1)
            .min(self.weights.len().saturating_sub(1));
        let weight = self.weights.get(hour).copied().unwrap_or(1.0);
        let within = if weight > 0.0 {
            ((target - self.before[hour]) / weight).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let seconds = hour as f64 * 3600.0 + (within * 3600.0).floor();
        (self.start + SignedDuration::from_secs(seconds as i64)).min(self.end)
    }
}

/// Which reference each index gets: numbered on, year by year, from the store's counters.
pub struct Numbering {
    prefix: String,
    /// Each year received in: its first index and the counter before this run.
    years: Vec<(i16, u64, u64)>,
}

impl Numbering {
    /// `received(i)` must never decrease with `i`.
    pub fn new(
        prefix: &str,
        count: u64,
        counters: &BTreeMap<i16, u64>,
        tz: &TimeZone,
        received: impl Fn(u64) -> Timestamp,
    ) -> Numbering {
        let year_of = |i: u64| clock::local_date(tz, received(i)).year();
        let mut years = Vec::new();
        if count > 0 {
            let (first, last) = (year_of(0), year_of(count - 1));
            for year in first..=last {
                // The first index received in `year` or later (a binary search: years only grow).
                let (mut lo, mut hi) = (0_u64, count);
                while lo < hi {
                    let mid = lo + (hi - lo) / 2;
                    if year_of(mid) < year {
                        lo = mid + 1;
                    } else {
                        hi = mid;
                    }
                }
                // A year without complaints (a span of less than a year) has no run.
                if lo < count && year_of(lo) == year {
                    years.push((year, lo, counters.get(&year).copied().unwrap_or(0)));
                }
            }
        }
        Numbering {
            prefix: prefix.to_owned(),
            years,
        }
    }

    pub fn reference(&self, index: u64) -> Reference {
        let at = self
            .years
            .partition_point(|(_, first, _)| *first <= index)
            .saturating_sub(1);
        let (year, first, counter) = self.years.get(at).copied().unwrap_or((0, 0, 0));
        Reference::new(&self.prefix, year, counter + (index - first) + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn london() -> TimeZone {
        TimeZone::get("Europe/London").expect("the London zone")
    }

    #[test]
    fn receipts_never_go_backwards_and_stay_in_the_span() {
        let now: Timestamp = "2026-03-02T09:00:00Z".parse().expect("an instant");
        let timeline = Timeline::new(now, 2, 10_000, &london()).expect("a timeline");
        let mut last = timeline.start();
        for i in 0..10_000 {
            let at = timeline.received(i, ((i * 7919) % 1000) as f64 / 1000.0);
            assert!(at >= last && at <= now, "{i}: {at}");
            last = at;
        }
        assert!(timeline.received(0, 0.0) < "2024-03-05T00:00:00Z".parse().expect("an instant"));
    }

    #[test]
    fn working_hours_get_most_complaints() {
        let now: Timestamp = "2026-03-02T09:00:00Z".parse().expect("an instant");
        let timeline = Timeline::new(now, 1, 20_000, &london()).expect("a timeline");
        let in_hours = (0..20_000)
            .map(|i| london().to_datetime(timeline.received(i, 0.5)).hour())
            .filter(|h| (8..18).contains(h))
            .count();
        assert!(in_hours > 12_000, "{in_hours}");
    }

    #[test]
    fn each_year_is_numbered_on_from_its_counter() {
        let tz = london();
        let day = |i: u64| -> Timestamp {
            let base: Timestamp = "2025-12-30T12:00:00Z".parse().expect("an instant");
            base + SignedDuration::from_hours(24 * i as i64)
        };
        let counters = BTreeMap::from([(2026_i16, 41_u64)]);
        let numbering = Numbering::new("CMP", 5, &counters, &tz, day);
        let references: Vec<String> = (0..5).map(|i| numbering.reference(i).to_string()).collect();
        assert_eq!(
            references,
            [
                "CMP-2025-000001",
                "CMP-2025-000002",
                "CMP-2026-000042",
                "CMP-2026-000043",
                "CMP-2026-000044"
            ]
        );
    }
}
