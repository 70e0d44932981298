//! Ofcom's automatic compensation scheme (voluntary, since 1 April 2019; the amounts rise with
//! CPI each April). Three kinds, each worked out here with its working shown:
//! - **delayed repair**: a total loss of landline or broadband service not fixed within two
//!   full working days after it was reported: a daily amount for each calendar day after those
//!   two days until the service is back (a day on which it was off for any part counts; the
//!   day it was reported is never a full working day);
//! - **missed appointment**: an engineer appointment missed, or cancelled with less than 24
//!   hours' notice: a fixed amount, at the rate in force on the appointment's date;
//! - **delayed provision**: a new service not started on the date agreed: a daily amount for
//!   each calendar day of delay, counting the missed start date and not the day it started.
//!
//! Each day is paid at the rate in force on that day (a delay across 1 April is paid at both).
//! Rates come from the procedure (`[[automatic_compensation]]`), else the built-in table,
//! each marked confirmed or not (see `docs/compliance.md` for the sources).

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::clock;
use crate::holidays::Calendar;
use crate::model::Money;

/// The scheme's amounts from a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rates {
    pub effective_from: Date,
    pub delayed_repair_daily_pence: i64,
    pub missed_appointment_pence: i64,
    pub delayed_provision_daily_pence: i64,
    /// Checked against Ofcom's own publication; otherwise as reported by others.
    #[serde(default)]
    pub confirmed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// The built-in rates: 2019 (Ofcom's statement), 2024 and 2026 (as reported).
pub fn built_in_rates() -> Vec<Rates> {
    let rates = |from: &str, repair, appointment, provision, confirmed, source: &str| Rates {
        effective_from: from.parse().expect("a built-in date"),
        delayed_repair_daily_pence: repair,
        missed_appointment_pence: appointment,
        delayed_provision_daily_pence: provision,
        confirmed,
        source: Some(source.to_owned()),
    };
    vec![
        rates(
            "2019-04-01",
            800,
            2500,
            500,
            true,
            "Ofcom, Automatic compensation statement (2017), from 1 April 2019",
        ),
        rates(
            "2024-04-01",
            976,
            3049,
            610,
            false,
            "reported by the press and a provider's help page (CPI-uprated April 2024)",
        ),
        rates(
            "2026-04-01",
            1034,
            3231,
            646,
            false,
            "reported by several independent third parties; fits the CPI chain",
        ),
    ]
}

/// Which of the scheme's payments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AutoKind {
    DelayedRepair,
    MissedAppointment,
    DelayedProvision,
}

impl AutoKind {
    pub const ALL: [AutoKind; 3] = [
        AutoKind::DelayedRepair,
        AutoKind::MissedAppointment,
        AutoKind::DelayedProvision,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AutoKind::DelayedRepair => "delayed_repair",
            AutoKind::MissedAppointment => "missed_appointment",
            AutoKind::DelayedProvision => "delayed_provision",
        }
    }

    pub fn in_words(self) -> &'static str {
        match self {
            AutoKind::DelayedRepair => "a delayed repair",
            AutoKind::MissedAppointment => "a missed engineer appointment",
            AutoKind::DelayedProvision => "a delayed start of a new service",
        }
    }

    pub fn parse(name: &str) -> Option<AutoKind> {
        AutoKind::ALL
            .into_iter()
            .find(|k| k.as_str() == name.trim())
    }
}

/// An amount worked out, with how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Quote {
    pub kind: AutoKind,
    pub amount_pence: i64,
    /// The calendar days paid for (none for a missed appointment).
    pub days: Option<i64>,
    /// How it was worked out, a sentence a line.
    pub working: Vec<String>,
    /// Every rate used is marked confirmed.
    pub rates_confirmed: bool,
}

/// The rates in force on `date`.
pub fn rates_on(rates: &[Rates], date: Date) -> Result<&Rates, String> {
    rates
        .iter()
        .filter(|r| r.effective_from <= date)
        .max_by_key(|r| r.effective_from)
        .ok_or_else(|| match rates.iter().map(|r| r.effective_from).min() {
            Some(first) => {
                format!("the scheme's first rates are from {first}; {date} is before them")
            }
            None => "the procedure has no automatic compensation rates".to_owned(),
        })
}

fn day(date: Date) -> String {
    date.strftime("%a %-d %b %Y").to_string()
}

/// Each calendar day from `first` to `last` (both included) at its day's daily rate.
fn daily(
    rates: &[Rates],
    first: Date,
    last: Date,
    rate: fn(&Rates) -> i64,
    working: &mut Vec<String>,
) -> Result<(i64, i64, bool), String> {
    let (mut total, mut days, mut confirmed) = (0_i64, 0_i64, true);
    let mut run: Option<(Date, Date, i64, bool)> = None;
    let mut d = first;
    let flush = |run: &mut Option<(Date, Date, i64, bool)>, working: &mut Vec<String>| {
        if let Some((from, to, pence, sure)) = run.take() {
            let n = (to - from).get_days() as i64 + 1;
            working.push(format!(
                "{n} day{} from {} to {} at {} a day{}: {}",
                if n == 1 { "" } else { "s" },
                day(from),
                day(to),
                Money(pence),
                if sure {
                    ""
                } else {
                    " (a rate not yet confirmed)"
                },
                Money(n * pence)
            ));
        }
    };
    while d <= last {
        let r = rates_on(rates, d)?;
        let pence = rate(r);
        total += pence;
        days += 1;
        confirmed &= r.confirmed;
        run = match run {
            Some((from, _, p, sure)) if p == pence => Some((from, d, p, sure)),
            other => {
                let mut other = other;
                flush(&mut other, working);
                Some((d, d, pence, r.confirmed))
            }
        };
        d = clock::add_days(d, 1);
    }
    flush(&mut run, working);
    Ok((total, days, confirmed))
}

/// A total loss of service reported at `reported` and restored at `restored`.
pub fn delayed_repair(
    rates: &[Rates],
    calendar: Calendar<'_>,
    tz: &jiff::tz::TimeZone,
    reported: Timestamp,
    restored: Timestamp,
) -> Result<Quote, String> {
    if restored <= reported {
        return Err("the service must be restored after the fault was reported".to_owned());
    }
    let reported_on = clock::local_date(tz, reported);
    let restored_on = clock::local_date(tz, restored);
    let second = calendar.add_working_days(reported_on, 2);
    let first_full = calendar.add_working_days(reported_on, 1);
    let mut working = vec![
        format!(
            "Reported on {}; the two full working days ({}) were {} and {}",
            day(reported_on),
            calendar.nation.in_words(),
            day(first_full),
            day(second)
        ),
        format!("Restored on {}", day(restored_on)),
    ];
    for d in [reported_on, restored_on] {
        if !calendar.covers(d) {
            working.push(format!(
                "Bank holidays of {} are not known for {}: add them to the procedure's [[bank_holidays]]",
                calendar.nation.in_words(),
                d.year()
            ));
        }
    }
    // A day counts if the service was off for any part of it.
    let last = if restored == clock::start_of_day(tz, restored_on) {
        clock::add_days(restored_on, -1)
    } else {
        restored_on
    };
    let first = clock::add_days(second, 1);
    if last < first {
        working.push("Fixed within two full working days: nothing is due".to_owned());
        return Ok(Quote {
            kind: AutoKind::DelayedRepair,
            amount_pence: 0,
            days: Some(0),
            working,
            rates_confirmed: true,
        });
    }
    let (total, days, confirmed) = daily(
        rates,
        first,
        last,
        |r| r.delayed_repair_daily_pence,
        &mut working,
    )?;
    working.push(format!("Total: {}", Money(total)));
    Ok(Quote {
        kind: AutoKind::DelayedRepair,
        amount_pence: total,
        days: Some(days),
        working,
        rates_confirmed: confirmed,
    })
}

/// An engineer appointment on `date` missed, or cancelled with less than 24 hours' notice.
pub fn missed_appointment(rates: &[Rates], date: Date) -> Result<Quote, String> {
    let r = rates_on(rates, date)?;
    Ok(Quote {
        kind: AutoKind::MissedAppointment,
        amount_pence: r.missed_appointment_pence,
        days: None,
        working: vec![
            format!(
                "The appointment on {}: {} (the rate from {}{})",
                day(date),
                Money(r.missed_appointment_pence),
                r.effective_from,
                if r.confirmed {
                    ""
                } else {
                    ", not yet confirmed"
                }
            ),
            format!("Total: {}", Money(r.missed_appointment_pence)),
        ],
        rates_confirmed: r.confirmed,
    })
}

/// A new service due to start on `due` that started on `started`.
pub fn delayed_provision(rates: &[Rates], due: Date, started: Date) -> Result<Quote, String> {
    let mut working = vec![format!(
        "Due to start on {}; started on {}",
        day(due),
        day(started)
    )];
    if started <= due {
        working.push("Started on time: nothing is due".to_owned());
        return Ok(Quote {
            kind: AutoKind::DelayedProvision,
            amount_pence: 0,
            days: Some(0),
            working,
            rates_confirmed: true,
        });
    }
    let last = clock::add_days(started, -1);
    let (total, days, confirmed) = daily(
        rates,
        due,
        last,
        |r| r.delayed_provision_daily_pence,
        &mut working,
    )?;
    working.push(format!(
        "Total: {} (the missed start date counts; the day it started does not)",
        Money(total)
    ));
    Ok(Quote {
        kind: AutoKind::DelayedProvision,
        amount_pence: total,
        days: Some(days),
        working,
        rates_confirmed: confirmed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::holidays::Nation;

    fn d(s: &str) -> Date {
        s.parse().expect("a date")
    }

    fn at(s: &str) -> Timestamp {
        s.parse().expect("an instant")
    }

    fn london() -> jiff::tz::TimeZone {
        jiff::tz::TimeZone::get("Europe/London").expect("London")
    }

    const EW: Calendar<'static> = Calendar {
        nation: Nation::EnglandAndWales,
        extra: &[],
    };

    #[test]
    fn rates_are_those_in_force_on_the_day() {
        let rates = built_in_rates();
        assert_eq!(
            rates_on(&rates, d("2019-04-01")).map(|r| r.missed_appointment_pence),
            Ok(2500)
        );
        assert_eq!(
            rates_on(&rates, d("2026-03-31")).map(|r| r.missed_appointment_pence),
            Ok(3049)
        );
        assert_eq!(
            rates_on(&rates, d("2026-04-01")).map(|r| r.missed_appointment_pence),
            Ok(3231)
        );
        assert!(rates_on(&rates, d("2019-03-31")).is_err());
    }

    #[test]
    fn a_delayed_repair_pays_each_calendar_day_after_two_full_working_days() {
        let rates = built_in_rates();
        // Reported Monday 4 May 2026 (a bank holiday) at 10:00: the full working days are
        // Tuesday 5 and Wednesday 6; restored Saturday 9 at 15:00: Thu, Fri, Sat are paid.
        let q = delayed_repair(
            &rates,
            EW,
            &london(),
            at("2026-05-04T09:00:00Z"),
            at("2026-05-09T14:00:00Z"),
        )
        .expect("a quote");
        assert_eq!(q.days, Some(3));
        assert_eq!(q.amount_pence, 3 * 1034);
        // Restored on the second working day: nothing.
        let q = delayed_repair(
            &rates,
            EW,
            &london(),
            at("2026-05-04T09:00:00Z"),
            at("2026-05-06T16:00:00Z"),
        )
        .expect("a quote");
        assert_eq!(q.amount_pence, 0);
        // Across Christmas 2026: reported Thu 24 Dec, working days Tue 29, Wed 30; restored
        // Sat 2 Jan 2027 at noon: 31 Dec, 1 Jan and 2 Jan.
        let q = delayed_repair(
            &rates,
            EW,
            &london(),
            at("2026-12-24T12:00:00Z"),
            at("2027-01-02T12:00:00Z"),
        )
        .expect("a quote");
        assert_eq!(q.days, Some(3), "{:?}", q.working);
        // In Scotland, 2 January 2026 is a holiday: reported Wed 31 Dec 2025, working days
        // Mon 5 and Tue 6 January there, but Fri 2 and Mon 5 in England.
        let sc = Calendar {
            nation: Nation::Scotland,
            extra: &[],
        };
        let scot = delayed_repair(
            &rates,
            sc,
            &london(),
            at("2025-12-31T12:00:00Z"),
            at("2026-01-08T12:00:00Z"),
        )
        .expect("a quote");
        let eng = delayed_repair(
            &rates,
            EW,
            &london(),
            at("2025-12-31T12:00:00Z"),
            at("2026-01-08T12:00:00Z"),
        )
        .expect("a quote");
        assert_eq!(scot.days, Some(2));
        assert_eq!(eng.days, Some(3));
        assert!(
            delayed_repair(
                &rates,
                EW,
                &london(),
                at("2026-05-04T09:00:00Z"),
                at("2026-05-04T08:00:00Z")
            )
            .is_err()
        );
    }

    #[test]
    fn a_delay_across_april_is_paid_at_both_rates() {
        let rates = built_in_rates();
        // Due Mon 30 March 2026, started Fri 3 April: 30, 31 March at £6.10; 1, 2 April at £6.46.
        let q = delayed_provision(&rates, d("2026-03-30"), d("2026-04-03")).expect("a quote");
        assert_eq!(q.days, Some(4));
        assert_eq!(q.amount_pence, 2 * 610 + 2 * 646);
        assert!(!q.rates_confirmed);
        assert_eq!(
            delayed_provision(&rates, d("2026-03-30"), d("2026-03-30")).map(|q| q.amount_pence),
            Ok(0)
        );
        let q = missed_appointment(&rates, d("2019-06-01")).expect("a quote");
        assert_eq!(q.amount_pence, 2500);
        assert!(q.rates_confirmed);
    }
}
