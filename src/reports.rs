//! The complaint report as CSV and as a table for people (`redress report`, the API's
//! `text/csv`, the staff page's download). The figures themselves are the store's
//! (`Store::complaint_report`); this only lays them out.

use crate::store::{Report, ReportAsk};

/// Reads `from`, `to` (YYYY-MM-DD), `customers`, `category` and `channel`; names what is wrong.
pub fn ask_from_query(query: Option<&str>) -> Result<ReportAsk, String> {
    let mut ask = ReportAsk::default();
    for (key, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        let value = value.trim().to_owned();
        if value.is_empty() {
            continue;
        }
        let date = |v: &str| {
            v.parse::<jiff::civil::Date>().map_err(|_| {
                format!(
                    "{key} must be a date, YYYY-MM-DD (got '{}')",
                    v.chars().take(20).collect::<String>()
                )
            })
        };
        match key.as_ref() {
            "from" => ask.from = Some(date(&value)?),
            "to" => ask.to = Some(date(&value)?),
            "customers" => {
                ask.customers = Some(
                    value
                        .parse::<u64>()
                        .ok()
                        .filter(|n| *n > 0 && *n <= 1_000_000_000)
                        .ok_or("customers must be a whole number from 1 to 1,000,000,000")?,
                )
            }
            "category" => ask.category = Some(value.chars().take(100).collect()),
            "channel" => ask.channel = Some(value.chars().take(40).collect()),
            _ => {
                return Err(format!(
                    "'{}' is not a report parameter; they are from, to, customers, category, channel",
                    key.chars().take(40).collect::<String>()
                ));
            }
        }
    }
    if let (Some(from), Some(to)) = (ask.from, ask.to)
        && from > to
    {
        return Err(format!("from ({from}) is after to ({to})"));
    }
    Ok(ask)
}

/// Where a figure's value goes: one row each of `section,figure,key,value`.
fn row(out: &mut String, section: &str, figure: &str, key: &str, value: impl std::fmt::Display) {
    let cell = |s: &str| {
        if s.contains([',', '"', '\n']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_owned()
        }
    };
    out.push_str(&format!(
        "{},{},{},{}\n",
        cell(section),
        cell(figure),
        cell(key),
        cell(&value.to_string())
    ));
}

fn opt(v: Option<impl std::fmt::Display>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn pounds(pence: i64) -> String {
    redress_core::Money(pence).to_string()
}

/// The report as CSV: a header, then one figure a row.
pub fn csv(r: &Report) -> String {
    let mut out = String::from("section,figure,key,value\n");
    let period = format!("{} to {}", r.from, r.to);
    row(&mut out, "period", "dates", "", &period);
    row(&mut out, "received", "total", "", r.received.total);
    row(
        &mut out,
        "received",
        "per_100k",
        "",
        opt(r.received.per_100k.as_ref()),
    );
    for m in &r.received.by_month {
        let key = format!(
            "{} {} {}",
            m.month,
            m.category.as_deref().unwrap_or("none"),
            m.channel
        );
        row(
            &mut out,
            "received",
            "by_month_category_channel",
            &key,
            m.count,
        );
        if let Some(p) = &m.per_100k {
            row(
                &mut out,
                "received",
                "by_month_category_channel_per_100k",
                &key,
                p,
            );
        }
    }
    row(&mut out, "open_at_end", "total", "", r.open_at_end.total);
    for s in &r.open_at_end.by_stage {
        for (band, n) in &s.bands {
            row(
                &mut out,
                "open_at_end",
                "by_stage_age",
                &format!("stage {} {band}", s.stage),
                n,
            );
        }
    }
    let t = &r.timeliness;
    row(
        &mut out,
        "timeliness",
        "acknowledgements",
        "",
        t.acknowledgement_minutes.count,
    );
    row(
        &mut out,
        "timeliness",
        "acknowledgement_median_minutes",
        "",
        opt(t.acknowledgement_minutes.median),
    );
    row(
        &mut out,
        "timeliness",
        "acknowledgement_p90_minutes",
        "",
        opt(t.acknowledgement_minutes.p90),
    );
    for (name, o) in [
        ("formal_responses", &t.formal_responses),
        ("adr_letters", &t.adr_letters),
    ] {
        row(&mut out, "timeliness", name, "", o.count);
        row(
            &mut out,
            "timeliness",
            &format!("{name}_on_time"),
            "",
            o.on_time,
        );
        row(
            &mut out,
            "timeliness",
            &format!("{name}_percent_on_time"),
            "",
            opt(o.percent_on_time),
        );
        if name == "formal_responses" {
            row(
                &mut out,
                "timeliness",
                "formal_responses_median_days",
                "",
                opt(o.days.median),
            );
        }
        for late in &o.late {
            row(
                &mut out,
                "timeliness",
                &format!("{name}_late"),
                &late.reference,
                format!("due {} done {}", late.due, late.done_at),
            );
        }
    }
    for s in &t.resolution_days {
        let key = format!("stage {}", s.stage);
        row(
            &mut out,
            "timeliness",
            "resolution_median_days",
            &key,
            opt(s.days.median),
        );
        row(
            &mut out,
            "timeliness",
            "resolution_p90_days",
            &key,
            opt(s.days.p90),
        );
    }
    let o = &r.outcomes;
    for (stage, n) in &o.resolved_by_stage {
        row(
            &mut out,
            "outcomes",
            "resolved",
            &format!("stage {stage}"),
            n,
        );
    }
    row(&mut out, "outcomes", "closed", "", o.closed);
    row(
        &mut out,
        "outcomes",
        "deadlock_letters",
        "",
        o.deadlock_letters,
    );
    row(&mut out, "outcomes", "referrals", "", o.referrals);
    row(
        &mut out,
        "outcomes",
        "referral_percent",
        "",
        opt(o.referral_percent),
    );
    for (outcome, n) in &o.ombudsman_decisions {
        row(&mut out, "outcomes", "ombudsman_decisions", outcome, n);
    }
    row(
        &mut out,
        "outcomes",
        "remedies_completed",
        "",
        o.remedies.count,
    );
    row(
        &mut out,
        "outcomes",
        "remedies_within_28_days",
        "",
        o.remedies.on_time,
    );
    let c = &r.compensation;
    for (name, m) in [
        ("offered", &c.offered),
        ("accepted_and_paid", &c.accepted),
        ("automatic_paid", &c.automatic),
        ("ombudsman_awards", &c.awards),
    ] {
        row(
            &mut out,
            "compensation",
            &format!("{name}_count"),
            "",
            m.count,
        );
        row(
            &mut out,
            "compensation",
            &format!("{name}_total"),
            "",
            pounds(m.total_pence),
        );
        for (key, (n, total)) in &m.by {
            row(&mut out, "compensation", &format!("{name}_count"), key, n);
            row(
                &mut out,
                "compensation",
                &format!("{name}_total"),
                key,
                pounds(*total),
            );
        }
    }
    let v = &r.vulnerable;
    row(&mut out, "vulnerable", "received", "", v.received);
    row(
        &mut out,
        "vulnerable",
        "acknowledgement_median_minutes",
        "",
        opt(v.acknowledgement_minutes.median),
    );
    row(
        &mut out,
        "vulnerable",
        "formal_responses",
        "",
        v.formal_responses.count,
    );
    row(
        &mut out,
        "vulnerable",
        "formal_responses_on_time",
        "",
        v.formal_responses.on_time,
    );
    out
}

/// The report's headline figures as a table for people, a line each.
pub fn table(r: &Report) -> String {
    let mut lines = vec![format!("Complaints report, {} to {}", r.from, r.to)];
    let mut put = |figure: &str, value: String| lines.push(format!("{figure:<58} {value:>12}"));
    put("Received", r.received.total.to_string());
    if let Some(p) = &r.received.per_100k {
        put("Received per 100,000 customers", p.clone());
    }
    put(
        "Open at the end of the period",
        r.open_at_end.total.to_string(),
    );
    for s in &r.open_at_end.by_stage {
        put(&format!("  at stage {}", s.stage), s.total.to_string());
    }
    let t = &r.timeliness;
    put(
        "Acknowledgement, median minutes",
        opt(t.acknowledgement_minutes.median),
    );
    put(
        "Formal responses issued (on time)",
        format!(
            "{} ({})",
            t.formal_responses.count, t.formal_responses.on_time
        ),
    );
    put(
        "Formal responses within 28 days, %",
        opt(t.formal_responses.percent_on_time),
    );
    put(
        "ADR letters sent (at the ADR point)",
        format!("{} ({})", t.adr_letters.count, t.adr_letters.on_time),
    );
    for s in &t.resolution_days {
        put(
            &format!(
                "Resolved at stage {}: days, median / 90th percentile",
                s.stage
            ),
            format!("{} / {}", opt(s.days.median), opt(s.days.p90)),
        );
    }
    let o = &r.outcomes;
    for (stage, n) in &o.resolved_by_stage {
        put(&format!("Resolved at stage {stage}"), n.to_string());
    }
    put("Deadlock letters", o.deadlock_letters.to_string());
    put(
        "Referred to the ombudsman (% of received)",
        format!("{} ({})", o.referrals, opt(o.referral_percent)),
    );
    for (outcome, n) in &o.ombudsman_decisions {
        put(&format!("Ombudsman decisions: {outcome}"), n.to_string());
    }
    put(
        "Remedies completed (within 28 days)",
        format!("{} ({})", o.remedies.count, o.remedies.on_time),
    );
    let c = &r.compensation;
    put(
        "Compensation offered",
        format!("{} {}", c.offered.count, pounds(c.offered.total_pence)),
    );
    put(
        "Compensation accepted and paid",
        format!("{} {}", c.accepted.count, pounds(c.accepted.total_pence)),
    );
    put(
        "Automatic compensation paid",
        format!("{} {}", c.automatic.count, pounds(c.automatic.total_pence)),
    );
    put(
        "From customers with recorded vulnerabilities",
        r.vulnerable.received.to_string(),
    );
    lines.join("\n") + "\n"
}
