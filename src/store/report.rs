//! The complaint report: the figures compliance answers Ofcom and the ombudsman with, for a
//! period of London dates, from `report_facts` (what each counted event was, as the core's
//! `report::fact` defines it). Counts and sums are the database's (over the `(kind, at)`
//! index); medians and 90th percentiles come from histograms of whole minutes or days, so no
//! figure needs the events themselves. Complaints open at the end of a period that reaches
//! now are read from the projection; for an earlier end, from the facts.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use redress_core::report::{self as rules, AGE_BANDS};
use serde::Serialize;
use sqlx::Row;

use super::{Store, StoreError, micros};

/// What a report is asked for.
#[derive(Debug, Clone, Default)]
pub struct ReportAsk {
    pub from: Option<Date>,
    pub to: Option<Date>,
    /// Customers served, for complaints per 100,000 customers.
    pub customers: Option<u64>,
    pub category: Option<String>,
    pub channel: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub from: Date,
    pub to: Date,
    pub generated_at: Timestamp,
    pub customers: Option<u64>,
    pub category: Option<String>,
    pub channel: Option<String>,
    pub received: Received,
    pub open_at_end: OpenAtEnd,
    pub timeliness: Timeliness,
    pub outcomes: Outcomes,
    pub compensation: Compensation,
    pub vulnerable: Vulnerable,
}

#[derive(Debug, Clone, Serialize)]
pub struct Received {
    pub total: u64,
    /// Per 100,000 customers, one decimal place, when the number of customers is given.
    pub per_100k: Option<String>,
    pub by_month: Vec<MonthCount>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct MonthCount {
    pub month: String,
    pub category: Option<String>,
    pub channel: String,
    pub count: u64,
    pub per_100k: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OpenAtEnd {
    pub total: u64,
    pub by_stage: Vec<OpenStage>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OpenStage {
    pub stage: u8,
    pub total: u64,
    /// Each age band (`redress_core::report::AGE_BANDS`), in order.
    pub bands: Vec<(String, u64)>,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Spread {
    pub count: u64,
    pub median: Option<i64>,
    pub p90: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Late {
    pub reference: String,
    pub due: String,
    pub done_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct OnTime {
    pub count: u64,
    pub on_time: u64,
    pub percent_on_time: Option<u64>,
    /// Days taken (formal responses: from the transfer; remedies: from the decision).
    pub days: Spread,
    /// At most [`LATE_LISTED`] of the late ones, oldest first.
    pub late: Vec<Late>,
}

/// How many late ones a report lists by reference.
pub const LATE_LISTED: i64 = 500;

#[derive(Debug, Clone, Serialize)]
pub struct StageSpread {
    pub stage: u8,
    pub days: Spread,
}

#[derive(Debug, Clone, Serialize)]
pub struct Timeliness {
    /// Minutes from first receipt to the acknowledgement.
    pub acknowledgement_minutes: Spread,
    pub formal_responses: OnTime,
    pub adr_letters: OnTime,
    /// London days from first receipt to the resolution the customer accepted, by the stage
    /// that resolved it.
    pub resolution_days: Vec<StageSpread>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Outcomes {
    pub resolved_by_stage: Vec<(u8, u64)>,
    pub closed: u64,
    pub deadlock_letters: u64,
    pub referrals: u64,
    /// Referrals as a share of the complaints received in the period.
    pub referral_percent: Option<u64>,
    pub ombudsman_decisions: BTreeMap<String, u64>,
    pub remedies: OnTime,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Money {
    pub count: u64,
    pub total_pence: i64,
    pub by: BTreeMap<String, (u64, i64)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Compensation {
    /// By category.
    pub offered: Money,
    /// Accepted offers, which are paid; by category.
    pub accepted: Money,
    /// Ofcom's automatic compensation paid, by kind.
    pub automatic: Money,
    /// Ombudsman awards decided.
    pub awards: Money,
}

#[derive(Debug, Clone, Serialize)]
pub struct Vulnerable {
    /// Complaints received in the period from customers whose vulnerabilities were recorded.
    pub received: u64,
    pub acknowledgement_minutes: Spread,
    pub formal_responses: OnTime,
}

/// A period's bounds in microseconds: from the start of `from` to the start of the day after
/// `to`, London time.
fn bounds(store: &Store, from: Date, to: Date) -> (i64, i64) {
    let tz = store.procedure().time_zone();
    (
        micros(redress_core::clock::start_of_day(tz, from)),
        micros(redress_core::clock::start_of_day(
            tz,
            redress_core::clock::add_days(to, 1),
        )),
    )
}

/// The facts' common filter: kind, period, and the asked category and channel.
struct Scope<'a> {
    start: i64,
    end: i64,
    category: Option<&'a str>,
    channel: Option<&'a str>,
}

impl Scope<'_> {
    /// ` AND ...` for the filters, numbering parameters from `next`.
    fn sql(&self, next: usize) -> String {
        self.sql_on("f.", next)
    }

    /// The same over the columns of `table.` (`f.` for facts, empty for `complaints`).
    fn sql_on(&self, table: &str, next: usize) -> String {
        let mut out = String::new();
        let mut n = next;
        for (column, value) in [("category", self.category), ("channel", self.channel)] {
            if value.is_some() {
                out.push_str(&format!(" AND {table}{column} = ${n}"));
                n += 1;
            }
        }
        out
    }

    /// The filters' values, in the order `sql` numbers them.
    fn filters(&self) -> impl Iterator<Item = &str> {
        [self.category, self.channel].into_iter().flatten()
    }
}

/// A query over facts of one kind in the period: `SELECT {select} FROM report_facts f {join}
/// WHERE f.kind = $1 AND f.at >= $2 AND f.at < $3 {and} {filters} {tail}`.
async fn facts(
    store: &Store,
    scope: &Scope<'_>,
    kind: &str,
    select: &str,
    and: &str,
    tail: &str,
) -> Result<Vec<sqlx::any::AnyRow>, StoreError> {
    let sql = format!(
        "SELECT {select} FROM report_facts f WHERE f.kind = $1 AND f.at >= $2 AND f.at < $3{and}{} {tail}",
        scope.sql(4)
    );
    fetch(store, scope, kind, sql).await
}

/// Runs a statement over facts whose parameters are `$1` the kind, `$2` and `$3` the period,
/// then the scope's filters (as `Scope::sql(4)` numbers them).
async fn fetch(
    store: &Store,
    scope: &Scope<'_>,
    kind: &str,
    sql: String,
) -> Result<Vec<sqlx::any::AnyRow>, StoreError> {
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(kind.to_owned())
        .bind(scope.start)
        .bind(scope.end);
    for filter in scope.filters() {
        query = query.bind(filter.to_owned());
    }
    Ok(query.fetch_all(&store.pool).await?)
}

/// A count column as a count (a database never gives a negative one; 0 if it did).
fn unsigned(row: &sqlx::any::AnyRow, column: &str) -> Result<u64, StoreError> {
    Ok(row.try_get::<i64, _>(column)?.max(0) as u64)
}

fn count(rows: &[sqlx::any::AnyRow]) -> Result<u64, StoreError> {
    Ok(rows
        .first()
        .map(|r| r.try_get::<i64, _>(0))
        .transpose()?
        .unwrap_or(0)
        .max(0) as u64)
}

/// Median and 90th percentile from `(value, count)` rows.
fn spread(histogram: &[(i64, u64)]) -> Spread {
    let mut sorted = histogram.to_vec();
    sorted.sort();
    let total: u64 = sorted.iter().map(|(_, n)| n).sum();
    let at = |p: u32| -> Option<i64> {
        if total == 0 {
            return None;
        }
        let rank = (u64::from(p) * total).div_ceil(100).max(1);
        let mut seen = 0;
        for (value, n) in &sorted {
            seen += n;
            if seen >= rank {
                return Some(*value);
            }
        }
        sorted.last().map(|(v, _)| *v)
    };
    Spread {
        count: total,
        median: at(50),
        p90: at(90),
    }
}

async fn histogram(
    store: &Store,
    scope: &Scope<'_>,
    kind: &str,
    and: &str,
) -> Result<Vec<(i64, u64)>, StoreError> {
    let rows = facts(
        store,
        scope,
        kind,
        "f.measure AS m, COUNT(*) AS n",
        &format!(" AND f.measure IS NOT NULL{and}"),
        "GROUP BY f.measure",
    )
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get::<i64, _>("m")?, unsigned(r, "n")?)))
        .collect()
}

async fn on_time(
    store: &Store,
    scope: &Scope<'_>,
    kind: &str,
    and: &str,
) -> Result<OnTime, StoreError> {
    let rows = facts(
        store,
        scope,
        kind,
        "COUNT(*) AS n, CAST(COALESCE(SUM(f.on_time), 0) AS BIGINT) AS ok",
        and,
        "",
    )
    .await?;
    let (n, ok) = match rows.first() {
        Some(r) => (unsigned(r, "n")?, unsigned(r, "ok")?),
        None => (0, 0),
    };
    let late = facts(
        store,
        scope,
        kind,
        "(SELECT c.reference FROM complaints c WHERE c.id = f.complaint_id) AS reference, f.due, f.at",
        &format!(" AND f.on_time = 0{and}"),
        &format!("ORDER BY f.at LIMIT {LATE_LISTED}"),
    )
    .await?;
    let late = late
        .iter()
        .map(|r| {
            Ok(Late {
                reference: r.try_get("reference")?,
                due: r.try_get::<Option<String>, _>("due")?.unwrap_or_default(),
                done_at: super::from_micros(r.try_get("at")?)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(OnTime {
        count: n,
        on_time: ok,
        percent_on_time: rules::percent(ok, n),
        days: spread(&histogram(store, scope, kind, and).await?),
        late,
    })
}

async fn money(
    store: &Store,
    scope: &Scope<'_>,
    kind: &str,
    by: &str,
) -> Result<Money, StoreError> {
    let rows = facts(
        store,
        scope,
        kind,
        &format!(
            "{by} AS k, COUNT(*) AS n, CAST(COALESCE(SUM(f.amount_pence), 0) AS BIGINT) AS total"
        ),
        " AND f.amount_pence IS NOT NULL",
        &format!("GROUP BY {by}"),
    )
    .await?;
    let mut out = Money::default();
    for r in rows {
        let key: Option<String> = r.try_get("k")?;
        let n = unsigned(&r, "n")?;
        let total: i64 = r.try_get("total")?;
        out.count += n;
        out.total_pence += total;
        out.by
            .insert(key.unwrap_or_else(|| "none".to_owned()), (n, total));
    }
    Ok(out)
}

impl Store {
    /// Builds the report facts of complaints recorded before migration 0014 from their events,
    /// once (then marks it done); returns how many complaints it rebuilt.
    pub async fn backfill_report_facts(&self) -> Result<u64, StoreError> {
        let done = sqlx::query("SELECT 1 FROM report_facts_backfilled LIMIT 1")
            .fetch_optional(&self.pool)
            .await?;
        if done.is_some() {
            return Ok(0);
        }
        let procedure = self.procedure().clone();
        let (mut after, mut rebuilt) = (0_i64, 0_u64);
        loop {
            let ids: Vec<i64> = sqlx::query(
                "SELECT c.id FROM complaints c WHERE c.id > $1 AND NOT EXISTS \
                 (SELECT 1 FROM report_facts f WHERE f.complaint_id = c.id) ORDER BY c.id LIMIT 500",
            )
            .bind(after)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| r.try_get("id"))
            .collect::<Result<_, _>>()?;
            let Some(last) = ids.last() else { break };
            after = *last;
            let mut w = self.begin_write().await?;
            for id in ids {
                let rows = sqlx::query(
                    "SELECT sequence, payload FROM events WHERE complaint_id = $1 ORDER BY sequence",
                )
                .bind(id)
                .fetch_all(&mut *w.tx)
                .await?;
                let mut state: Option<redress_core::Complaint> = None;
                let mut facts = Vec::new();
                for row in rows {
                    let sequence: i64 = row.try_get("sequence")?;
                    let payload: String = row.try_get("payload")?;
                    let event: redress_core::Event =
                        serde_json::from_str(&payload).map_err(|e| {
                            StoreError::Corrupt(format!("event {sequence} of complaint {id}: {e}"))
                        })?;
                    let before = state.as_ref().map(rules::Before::of);
                    let next = match state.take() {
                        Some(c) => redress_core::apply(c, &event),
                        None => match redress_core::Complaint::start(&event) {
                            Some(c) => c,
                            None => break,
                        },
                    };
                    if let Some(fact) = rules::fact(before.as_ref(), &event, &next, &procedure) {
                        facts.push((id, sequence, fact));
                    }
                    state = Some(next);
                }
                let refs: Vec<(i64, i64, &rules::Fact)> =
                    facts.iter().map(|(i, s, f)| (*i, *s, f)).collect();
                super::rows::insert_facts(&mut w.tx, self.backend, &refs).await?;
                rebuilt += 1;
            }
            w.tx.commit().await?;
        }
        // Marked with the newest event's instant: what the rebuild covered.
        self.write_one(sqlx::query(
            "INSERT INTO report_facts_backfilled (done_at) SELECT COALESCE(MAX(recorded_at), 0) FROM events",
        ))
        .await?;
        if rebuilt > 0 {
            tracing::info!(complaints = rebuilt, "report facts rebuilt from the events");
        }
        Ok(rebuilt)
    }

    /// The complaint report for the asked period (by default, everything up to today).
    pub async fn complaint_report(
        &self,
        ask: &ReportAsk,
        now: Timestamp,
    ) -> Result<Report, StoreError> {
        let tz = self.procedure().time_zone().clone();
        let today = redress_core::clock::local_date(&tz, now);
        let to = ask.to.unwrap_or(today);
        let from = match ask.from {
            Some(from) => from,
            None => {
                let first: Option<i64> =
                    sqlx::query("SELECT MIN(first_received_at) AS t FROM complaints")
                        .fetch_one(&self.pool)
                        .await?
                        .try_get("t")?;
                first
                    .map(super::from_micros)
                    .transpose()?
                    .map_or(to, |t| redress_core::clock::local_date(&tz, t))
            }
        };
        let (start, end) = bounds(self, from, to);
        let scope = Scope {
            start,
            end,
            category: ask.category.as_deref(),
            channel: ask.channel.as_deref(),
        };
        let per_100k = |n: u64| {
            ask.customers
                .and_then(|c| rules::per_100k_tenths(n, c))
                .map(|t| format!("{}.{}", t / 10, t % 10))
        };

        // Received, by London month, category and channel: one grouped query a month.
        let mut by_month = Vec::new();
        let mut vulnerable_at_intake = 0_u64;
        let mut month = from.first_of_month();
        while month <= to {
            let next = month.saturating_add(jiff::Span::new().months(1));
            let (m_start, m_end) = bounds(
                self,
                month.max(from),
                redress_core::clock::add_days(next, -1).min(to),
            );
            let sub = Scope {
                start: m_start,
                end: m_end,
                ..scope
            };
            let rows = facts(
                self,
                &sub,
                "received",
                "f.category AS category, f.channel AS channel, COUNT(*) AS n, \
                 CAST(COALESCE(SUM(f.vulnerable), 0) AS BIGINT) AS v",
                "",
                "GROUP BY f.category, f.channel ORDER BY f.category, f.channel",
            )
            .await?;
            for r in rows {
                let n = unsigned(&r, "n")?;
                vulnerable_at_intake += unsigned(&r, "v")?;
                by_month.push(MonthCount {
                    month: month.strftime("%Y-%m").to_string(),
                    category: r.try_get("category")?,
                    channel: r.try_get("channel")?,
                    count: n,
                    per_100k: per_100k(n),
                });
            }
            month = next;
        }
        let received_total: u64 = by_month.iter().map(|m| m.count).sum();

        let open_at_end = self.open_at_end(&scope, end, micros(now), &tz).await?;

        let vulnerable_only = " AND f.vulnerable = 1";
        // Acknowledgement times, all and the vulnerable customers' apart, in one pass.
        let (mut ack_all, mut ack_vulnerable) = (Vec::new(), Vec::new());
        for r in facts(
            self,
            &scope,
            "acknowledged",
            "f.vulnerable AS v, f.measure AS m, COUNT(*) AS n",
            " AND f.measure IS NOT NULL",
            "GROUP BY f.vulnerable, f.measure",
        )
        .await?
        {
            let entry = (r.try_get::<i64, _>("m")?, unsigned(&r, "n")?);
            if r.try_get::<i64, _>("v")? != 0 {
                ack_vulnerable.push(entry);
            }
            ack_all.push(entry);
        }
        // The same minute may come from both groups: a histogram adds them up.
        let merged = |h: Vec<(i64, u64)>| {
            let mut m: BTreeMap<i64, u64> = BTreeMap::new();
            for (v, n) in h {
                *m.entry(v).or_default() += n;
            }
            m.into_iter().collect::<Vec<_>>()
        };
        let (ack_all, ack_vulnerable) = (merged(ack_all), merged(ack_vulnerable));
        let mut resolved_by_stage = Vec::new();
        let timeliness = Timeliness {
            acknowledgement_minutes: spread(&ack_all),
            formal_responses: on_time(self, &scope, "formal_response_issued", "").await?,
            adr_letters: on_time(self, &scope, "adr_notice_sent", "").await?,
            resolution_days: {
                let rows = facts(
                    self,
                    &scope,
                    "resolution_accepted",
                    "f.stage AS s, f.measure AS m, COUNT(*) AS n",
                    "",
                    "GROUP BY f.stage, f.measure",
                )
                .await?;
                let mut per: BTreeMap<u8, Vec<(i64, u64)>> = BTreeMap::new();
                for r in rows {
                    let stage = u8::try_from(r.try_get::<i64, _>("s")?).unwrap_or(0);
                    per.entry(stage)
                        .or_default()
                        .push((r.try_get("m")?, unsigned(&r, "n")?));
                }
                per.into_iter()
                    .map(|(stage, h)| {
                        let days = spread(&h);
                        resolved_by_stage.push((stage, days.count));
                        StageSpread { stage, days }
                    })
                    .collect()
            },
        };

        let counted = |kind: &'static str| facts(self, &scope, kind, "COUNT(*)", "", "");
        let referrals = count(&counted("referred_to_ombudsman").await?)?;
        let mut decisions = BTreeMap::new();
        for r in facts(
            self,
            &scope,
            "ombudsman_decided",
            "f.detail AS d, COUNT(*) AS n",
            "",
            "GROUP BY f.detail",
        )
        .await?
        {
            let d: Option<String> = r.try_get("d")?;
            decisions.insert(d.unwrap_or_default(), unsigned(&r, "n")?);
        }
        let outcomes = Outcomes {
            resolved_by_stage,
            closed: count(&counted("closed").await?)?,
            deadlock_letters: count(&counted("deadlock_issued").await?)?,
            referrals,
            referral_percent: rules::percent(referrals, received_total),
            ombudsman_decisions: decisions,
            remedies: on_time(self, &scope, "remedy_completed", "").await?,
        };
        let compensation = Compensation {
            offered: money(self, &scope, "compensation_offered", "f.category").await?,
            accepted: money(self, &scope, "compensation_accepted", "f.category").await?,
            automatic: money(self, &scope, "automatic_compensation_paid", "f.detail").await?,
            awards: money(self, &scope, "ombudsman_decided", "f.detail").await?,
        };
        // Vulnerable at intake, and those whose vulnerabilities were recorded later (few:
        // found from their own facts, not by probing every complaint's).
        let vulnerable_received = vulnerable_at_intake + self.vulnerable_later(&scope).await?;
        let vulnerable = Vulnerable {
            received: vulnerable_received,
            acknowledgement_minutes: spread(&ack_vulnerable),
            formal_responses: on_time(self, &scope, "formal_response_issued", vulnerable_only)
                .await?,
        };
        Ok(Report {
            from,
            to,
            generated_at: now,
            customers: ask.customers,
            category: ask.category.clone(),
            channel: ask.channel.clone(),
            received: Received {
                total: received_total,
                per_100k: per_100k(received_total),
                by_month,
            },
            open_at_end,
            timeliness,
            outcomes,
            compensation,
            vulnerable,
        })
    }

    /// Complaints received in the period, not vulnerable at intake, whose customer's
    /// vulnerabilities were recorded before its end: found from those records (few), each
    /// looked up by its complaint.
    async fn vulnerable_later(&self, scope: &Scope<'_>) -> Result<u64, StoreError> {
        let sql = format!(
            "SELECT COUNT(DISTINCT f.complaint_id) FROM report_facts v CROSS JOIN report_facts f \
             WHERE v.kind = 'vulnerability_recorded' AND v.at < $3 \
             AND f.complaint_id = v.complaint_id AND f.kind = $1 AND f.at >= $2 AND f.at < $3 \
             AND f.vulnerable = 0{}",
            scope.sql(4)
        );
        count(&fetch(self, scope, "received", sql).await?)
    }

    /// Complaints received before `end` and not resolved or closed at `end`, by the stage they
    /// had reached and their age band then.
    async fn open_at_end(
        &self,
        scope: &Scope<'_>,
        end: i64,
        now: i64,
        tz: &jiff::tz::TimeZone,
    ) -> Result<OpenAtEnd, StoreError> {
        // A period reaching now: the projection is the state at its end.
        let sql = if end >= now {
            let filters = scope.sql_on("", 2);
            format!(
                "SELECT stage AS s, first_received_at AS r FROM complaints \
                 WHERE status NOT IN ('resolved', 'closed') AND first_received_at < $1{filters}"
            )
        } else {
            let filters = scope.sql_on("f.", 2);
            format!(
                "SELECT MAX(f.stage) AS s, MIN(CASE WHEN f.kind = 'received' THEN f.at END) AS r FROM report_facts f \
                 WHERE f.kind IN ('received', 'stage_moved', 'resolution_accepted', 'closed', 'reopened', \
                 'referred_to_ombudsman') AND f.at < $1{filters} GROUP BY f.complaint_id \
                 HAVING MIN(CASE WHEN f.kind = 'received' THEN f.at END) IS NOT NULL \
                 AND (MAX(CASE WHEN f.kind IN ('resolution_accepted', 'closed') THEN f.sequence END) IS NULL \
                   OR MAX(CASE WHEN f.kind IN ('reopened', 'referred_to_ombudsman') THEN f.sequence END) \
                      > MAX(CASE WHEN f.kind IN ('resolution_accepted', 'closed') THEN f.sequence END))"
            )
        };
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(end);
        for filter in scope.filters() {
            query = query.bind(filter.to_owned());
        }
        let end_day = redress_core::clock::local_date(tz, super::from_micros(end)?);
        let end_day = redress_core::clock::add_days(end_day, -1);
        let mut per: BTreeMap<u8, Vec<u64>> = BTreeMap::new();
        for r in query.fetch_all(&self.pool).await? {
            let stage = u8::try_from(r.try_get::<i64, _>("s")?).unwrap_or(0);
            let received =
                redress_core::clock::local_date(tz, super::from_micros(r.try_get("r")?)?);
            let days = i64::from((end_day - received).get_days());
            let band = rules::age_band(days);
            let counts = per.entry(stage).or_insert_with(|| vec![0; AGE_BANDS.len()]);
            if let Some(i) = AGE_BANDS.iter().position(|b| b.0 == band) {
                counts[i] += 1;
            }
        }
        let by_stage: Vec<OpenStage> = per
            .into_iter()
            .map(|(stage, counts)| OpenStage {
                stage,
                total: counts.iter().sum(),
                bands: AGE_BANDS
                    .iter()
                    .zip(counts)
                    .map(|(b, n)| (b.0.to_owned(), n))
                    .collect(),
            })
            .collect();
        Ok(OpenAtEnd {
            total: by_stage.iter().map(|s| s.total).sum(),
            by_stage,
        })
    }
}
