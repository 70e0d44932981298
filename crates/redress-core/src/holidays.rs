//! UK working days: the bank holidays of England and Wales, Scotland and Northern Ireland, as
//! data (2018 to 2027, from the published lists, substitute days included), extendable by a
//! procedure's `[[bank_holidays]]`. A working day is Monday to Friday and not a bank holiday of
//! the nation.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use jiff::civil::{Date, Weekday};
use serde::{Deserialize, Serialize};

/// The three sets of UK bank holidays.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum Nation {
    #[default]
    EnglandAndWales,
    Scotland,
    NorthernIreland,
}

impl Nation {
    pub const ALL: [Nation; 3] = [
        Nation::EnglandAndWales,
        Nation::Scotland,
        Nation::NorthernIreland,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Nation::EnglandAndWales => "england_and_wales",
            Nation::Scotland => "scotland",
            Nation::NorthernIreland => "northern_ireland",
        }
    }

    pub fn in_words(self) -> &'static str {
        match self {
            Nation::EnglandAndWales => "England and Wales",
            Nation::Scotland => "Scotland",
            Nation::NorthernIreland => "Northern Ireland",
        }
    }
}

impl fmt::Display for Nation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Nation {
    type Err = String;
    fn from_str(s: &str) -> Result<Nation, String> {
        Nation::ALL
            .into_iter()
            .find(|n| n.as_str() == s.trim())
            .ok_or_else(|| {
                format!(
                    "'{}' is not a nation; the nations are england_and_wales, scotland, northern_ireland",
                    s.chars().take(40).collect::<String>()
                )
            })
    }
}

/// The first and last years the built-in lists cover.
pub const FIRST_YEAR: i16 = 2018;
pub const LAST_YEAR: i16 = 2027;

/// Holidays of every nation (New Year, Good Friday, the May holidays, Christmas and Boxing Day,
/// and the one-off days: VE Day 2020, the Platinum Jubilee 2022, the State Funeral 2022, the
/// Coronation 2023), with substitute days.
const UK_WIDE: &[&str] = &[
    "2018-01-01",
    "2018-03-30",
    "2018-05-07",
    "2018-05-28",
    "2018-12-25",
    "2018-12-26",
    "2019-01-01",
    "2019-04-19",
    "2019-05-06",
    "2019-05-27",
    "2019-12-25",
    "2019-12-26",
    "2020-01-01",
    "2020-04-10",
    "2020-05-08",
    "2020-05-25",
    "2020-12-25",
    "2020-12-28",
    "2021-01-01",
    "2021-04-02",
    "2021-05-03",
    "2021-05-31",
    "2021-12-27",
    "2021-12-28",
    "2022-01-03",
    "2022-04-15",
    "2022-05-02",
    "2022-06-02",
    "2022-06-03",
    "2022-09-19",
    "2022-12-26",
    "2022-12-27",
    "2023-01-02",
    "2023-04-07",
    "2023-05-01",
    "2023-05-08",
    "2023-05-29",
    "2023-12-25",
    "2023-12-26",
    "2024-01-01",
    "2024-03-29",
    "2024-05-06",
    "2024-05-27",
    "2024-12-25",
    "2024-12-26",
    "2025-01-01",
    "2025-04-18",
    "2025-05-05",
    "2025-05-26",
    "2025-12-25",
    "2025-12-26",
    "2026-01-01",
    "2026-04-03",
    "2026-05-04",
    "2026-05-25",
    "2026-12-25",
    "2026-12-28",
    "2027-01-01",
    "2027-03-26",
    "2027-05-03",
    "2027-05-31",
    "2027-12-27",
    "2027-12-28",
];

/// England and Wales, and Northern Ireland: Easter Monday and the last Monday of August.
const EASTER_MONDAY_AND_AUGUST: &[&str] = &[
    "2018-04-02",
    "2018-08-27",
    "2019-04-22",
    "2019-08-26",
    "2020-04-13",
    "2020-08-31",
    "2021-04-05",
    "2021-08-30",
    "2022-04-18",
    "2022-08-29",
    "2023-04-10",
    "2023-08-28",
    "2024-04-01",
    "2024-08-26",
    "2025-04-21",
    "2025-08-25",
    "2026-04-06",
    "2026-08-31",
    "2027-03-29",
    "2027-08-30",
];

/// Scotland: 2 January, the first Monday of August and St Andrew's Day, with substitutes.
const SCOTLAND: &[&str] = &[
    "2018-01-02",
    "2018-08-06",
    "2018-11-30",
    "2019-01-02",
    "2019-08-05",
    "2019-12-02",
    "2020-01-02",
    "2020-08-03",
    "2020-11-30",
    "2021-01-04",
    "2021-08-02",
    "2021-11-30",
    "2022-01-04",
    "2022-08-01",
    "2022-11-30",
    "2023-01-03",
    "2023-08-07",
    "2023-11-30",
    "2024-01-02",
    "2024-08-05",
    "2024-12-02",
    "2025-01-02",
    "2025-08-04",
    "2025-12-01",
    "2026-01-02",
    "2026-08-03",
    "2026-11-30",
    "2027-01-04",
    "2027-08-02",
    "2027-11-30",
];

/// Northern Ireland: St Patrick's Day and the Battle of the Boyne, with substitutes.
const NORTHERN_IRELAND: &[&str] = &[
    "2018-03-19",
    "2018-07-12",
    "2019-03-18",
    "2019-07-12",
    "2020-03-17",
    "2020-07-13",
    "2021-03-17",
    "2021-07-12",
    "2022-03-17",
    "2022-07-12",
    "2023-03-17",
    "2023-07-12",
    "2024-03-18",
    "2024-07-12",
    "2025-03-17",
    "2025-07-14",
    "2026-03-17",
    "2026-07-13",
    "2027-03-17",
    "2027-07-12",
];

fn parse(dates: &[&[&str]]) -> BTreeSet<Date> {
    dates
        .iter()
        .flat_map(|list| list.iter())
        .filter_map(|d| d.parse().ok())
        .collect()
}

/// The built-in bank holidays of a nation.
pub fn built_in(nation: Nation) -> &'static BTreeSet<Date> {
    static SETS: OnceLock<[BTreeSet<Date>; 3]> = OnceLock::new();
    let sets = SETS.get_or_init(|| {
        [
            parse(&[UK_WIDE, EASTER_MONDAY_AND_AUGUST]),
            parse(&[UK_WIDE, SCOTLAND]),
            parse(&[UK_WIDE, EASTER_MONDAY_AND_AUGUST, NORTHERN_IRELAND]),
        ]
    });
    &sets[nation as usize]
}

/// A bank holiday a procedure adds (`[[bank_holidays]]`): a later year's, or a one-off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtraHoliday {
    pub nation: Nation,
    pub date: Date,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The calendar working days are counted in: a nation's bank holidays and a procedure's extra.
#[derive(Debug, Clone, Copy)]
pub struct Calendar<'a> {
    pub nation: Nation,
    pub extra: &'a [ExtraHoliday],
}

impl Calendar<'_> {
    pub fn is_bank_holiday(&self, date: Date) -> bool {
        built_in(self.nation).contains(&date)
            || self
                .extra
                .iter()
                .any(|h| h.nation == self.nation && h.date == date)
    }

    pub fn is_working_day(&self, date: Date) -> bool {
        !matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday)
            && !self.is_bank_holiday(date)
    }

    /// The `n`th working day after `date` (`date` itself never counts).
    pub fn add_working_days(&self, date: Date, n: i64) -> Date {
        let mut day = date;
        let mut left = n.max(0);
        // A year holds fewer than 20 holidays; the bound only guards against bad input.
        let mut guard = 0;
        while left > 0 && guard < 100_000 {
            day = crate::clock::add_days(day, 1);
            if self.is_working_day(day) {
                left -= 1;
            }
            guard += 1;
        }
        day
    }

    /// Whether the year is beyond the built-in lists and the procedure adds none for it:
    /// counts in it would miss its bank holidays.
    pub fn covers(&self, date: Date) -> bool {
        (FIRST_YEAR..=LAST_YEAR).contains(&date.year())
            || self
                .extra
                .iter()
                .any(|h| h.nation == self.nation && h.date.year() == date.year())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().expect("a date")
    }

    #[test]
    fn each_nation_has_its_own_holidays() {
        let ew = Calendar {
            nation: Nation::EnglandAndWales,
            extra: &[],
        };
        let sc = Calendar {
            nation: Nation::Scotland,
            extra: &[],
        };
        let ni = Calendar {
            nation: Nation::NorthernIreland,
            extra: &[],
        };
        // Easter Monday 2026: not in Scotland.
        assert!(ew.is_bank_holiday(d("2026-04-06")));
        assert!(!sc.is_bank_holiday(d("2026-04-06")));
        assert!(ni.is_bank_holiday(d("2026-04-06")));
        // 2 January and St Andrew's Day: Scotland only.
        assert!(sc.is_bank_holiday(d("2026-01-02")) && !ew.is_bank_holiday(d("2026-01-02")));
        assert!(sc.is_bank_holiday(d("2026-11-30")) && !ni.is_bank_holiday(d("2026-11-30")));
        // The Twelfth, on a Sunday in 2026: Monday the 13th in Northern Ireland only.
        assert!(ni.is_bank_holiday(d("2026-07-13")) && !ew.is_bank_holiday(d("2026-07-13")));
        // Boxing Day 2026 is a Saturday: Monday 28 December instead, everywhere.
        for c in [ew, sc, ni] {
            assert!(c.is_bank_holiday(d("2026-12-28")));
            assert!(!c.is_working_day(d("2026-12-26")));
        }
        // Every nation has eight to ten a year.
        for nation in Nation::ALL {
            for year in FIRST_YEAR..=LAST_YEAR {
                let n = built_in(nation).iter().filter(|h| h.year() == year).count();
                assert!((8..=12).contains(&n), "{nation} {year}: {n}");
            }
        }
    }

    #[test]
    fn working_days_skip_weekends_bank_holidays_and_the_year_end() {
        let ew = Calendar {
            nation: Nation::EnglandAndWales,
            extra: &[],
        };
        // Thursday 24 December 2026: Fri 25, Mon 28 are holidays; the 29th is the first working day.
        assert_eq!(ew.add_working_days(d("2026-12-24"), 1), d("2026-12-29"));
        assert_eq!(ew.add_working_days(d("2026-12-24"), 3), d("2026-12-31"));
        assert_eq!(ew.add_working_days(d("2026-12-24"), 4), d("2027-01-04"));
        // Good Friday and Easter Monday 2026.
        assert_eq!(ew.add_working_days(d("2026-04-02"), 1), d("2026-04-07"));
        let sc = Calendar {
            nation: Nation::Scotland,
            extra: &[],
        };
        assert_eq!(sc.add_working_days(d("2026-04-02"), 1), d("2026-04-06"));
        // A holiday the procedure adds counts too.
        let extra = [ExtraHoliday {
            nation: Nation::EnglandAndWales,
            date: d("2028-01-03"),
            name: None,
        }];
        let later = Calendar {
            nation: Nation::EnglandAndWales,
            extra: &extra,
        };
        assert_eq!(later.add_working_days(d("2027-12-31"), 1), d("2028-01-04"));
        assert!(later.covers(d("2028-06-01")) && !ew.covers(d("2028-06-01")));
    }
}
