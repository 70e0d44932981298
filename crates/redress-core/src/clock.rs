//! Calendar arithmetic for the procedure's clocks.
//!
//! Instants are `jiff::Timestamp` (UTC). Periods are counted in calendar dates in the
//! procedure's time zone (Europe/London by default), never in hours: a period of N days from
//! an instant T ends at the end of the local date `date(T) + N`, so the deadline *fires* at
//! 00:00 local time on the day after. Summer time never moves a deadline to another day.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

/// The local calendar date of an instant.
pub fn local_date(tz: &TimeZone, at: Timestamp) -> Date {
    tz.to_datetime(at).date()
}

/// The instant at which a local date begins (00:00 local time).
///
/// Midnight always exists in Europe/London (the changes happen at 01:00 UTC); in a zone where
/// it does not, jiff's compatible disambiguation picks the first instant after the gap.
pub fn start_of_day(tz: &TimeZone, date: Date) -> Timestamp {
    match tz.to_timestamp(date.at(0, 0, 0, 0)) {
        Ok(instant) => instant,
        // Only reachable for dates at the very edge of jiff's range; clamp to the maximum.
        Err(_) => Timestamp::MAX,
    }
}

/// `date + days`, clamped to jiff's range instead of failing.
pub fn add_days(date: Date, days: i64) -> Date {
    date.checked_add(jiff::Span::new().days(days))
        .unwrap_or(if days >= 0 { Date::MAX } else { Date::MIN })
}

/// `date + months` (the last day of a shorter month where the day does not exist).
pub fn add_months(date: Date, months: i64) -> Date {
    date.checked_add(jiff::Span::new().months(months))
        .unwrap_or(Date::MAX)
}

/// The last local date of a period of `days` days from `from`: `date(from) + days`.
pub fn period_last_day(tz: &TimeZone, from: Timestamp, days: i64) -> Date {
    add_days(local_date(tz, from), days)
}

/// The instant a period of `days` days from `from` is over: 00:00 local time on the day after
/// its last day. A deadline on such a period is overdue from this instant.
pub fn period_over_at(tz: &TimeZone, from: Timestamp, days: i64) -> Timestamp {
    start_of_day(tz, add_days(period_last_day(tz, from, days), 1))
}

/// The instant `days` days have *passed* since `from`: 00:00 local time on `date(from) + days`
/// (how the procedure counts its 8 weeks from first receipt).
pub fn days_passed_at(tz: &TimeZone, from: Timestamp, days: i64) -> Timestamp {
    start_of_day(tz, period_last_day(tz, from, days))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn london() -> TimeZone {
        TimeZone::get("Europe/London").expect("the bundled tz database has Europe/London")
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("valid test instant")
    }

    #[test]
    fn the_local_date_is_the_london_date_not_the_utc_date() {
        // 23:30 UTC on 20 October is 00:30 BST on 21 October.
        assert_eq!(
            local_date(&london(), ts("2026-10-20T23:30:00Z")),
            date(2026, 10, 21)
        );
        // In winter London is UTC.
        assert_eq!(
            local_date(&london(), ts("2026-11-20T23:30:00Z")),
            date(2026, 11, 20)
        );
    }

    #[test]
    fn a_28_day_period_from_10_march_is_over_at_the_start_of_8_april() {
        let tz = london();
        let transfer = ts("2026-03-10T10:00:00Z");
        assert_eq!(period_last_day(&tz, transfer, 28), date(2026, 4, 7));
        // 8 April is summer time: 00:00 BST is 23:00 UTC on 7 April.
        assert_eq!(
            period_over_at(&tz, transfer, 28),
            ts("2026-04-07T23:00:00Z")
        );
    }

    #[test]
    fn a_period_spanning_the_october_change_ends_at_midnight_gmt() {
        let tz = london();
        // Transfer in summer time, period over in winter time.
        let over = period_over_at(&tz, ts("2026-10-10T12:00:00Z"), 28);
        assert_eq!(over, ts("2026-11-08T00:00:00Z"));
    }

    #[test]
    fn a_period_spanning_the_march_change_ends_at_midnight_bst() {
        let tz = london();
        // 2026's clocks go forward on 29 March.
        let over = period_over_at(&tz, ts("2026-03-20T12:00:00Z"), 28);
        assert_eq!(over, ts("2026-04-17T23:00:00Z"));
    }

    #[test]
    fn the_day_the_clocks_change_is_one_whole_day() {
        let tz = london();
        // From 28 March to the 30th is two days whatever the hours in between.
        let over = period_over_at(&tz, ts("2026-03-28T09:00:00Z"), 1);
        assert_eq!(local_date(&tz, over), date(2026, 3, 30));
        assert_eq!(over, ts("2026-03-29T23:00:00Z"));
    }

    #[test]
    fn eight_weeks_pass_at_midnight_london_on_receipt_date_plus_56() {
        let tz = london();
        let received = ts("2026-01-05T16:45:00Z");
        assert_eq!(
            days_passed_at(&tz, received, 56),
            ts("2026-03-02T00:00:00Z")
        );
    }

    #[test]
    fn leap_day_counts_as_a_day() {
        let tz = london();
        // 2028 is a leap year: 1 Feb + 28 days is 29 Feb.
        assert_eq!(
            period_last_day(&tz, ts("2028-02-01T12:00:00Z"), 28),
            date(2028, 2, 29)
        );
        // A complaint received on 29 February: 8 weeks pass on 25 April.
        assert_eq!(
            days_passed_at(&tz, ts("2028-02-29T12:00:00Z"), 56),
            ts("2028-04-24T23:00:00Z")
        );
        // Twelve months from 29 February ends on 28 February.
        assert_eq!(add_months(date(2028, 2, 29), 12), date(2029, 2, 28));
    }
}
