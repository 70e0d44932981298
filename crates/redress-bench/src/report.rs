//! The Markdown tables a benchmark prints: one row per path, with rates, latencies, errors,
//! peak RSS, CPU and how the HTTP path compares.

use crate::database::Kind;
use crate::load::Stats;

/// The path the others are compared with (`HTTP ÷ this`).
pub const HTTP_PATH: &str = "HTTP";

/// One table of `rows` (all with the same client count) on a database of `kind`, then the
/// first error of each path that had one.
pub fn render(kind: Kind, rows: &[Stats]) -> String {
    let mut out = format!(
        "### {} ({} clients)\n\n| path | complaints/s | p50 ms | p90 ms | p99 ms | max ms | errors | peak RSS MiB | CPU cores: process / machine | HTTP ÷ this |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
        kind.name(),
        rows.first().map_or(0, |s| s.clients)
    );
    let http_rate = rows
        .iter()
        .find(|s| s.path == HTTP_PATH)
        .map_or(f64::NAN, Stats::rate);
    for s in rows {
        let ratio = if s.path == HTTP_PATH || http_rate.is_nan() {
            "—".to_owned()
        } else {
            format!("{:.2}", http_rate / s.rate())
        };
        let rss = s
            .peak_rss_kib
            .map_or("?".to_owned(), |k| format!("{:.0}", k as f64 / 1024.0));
        let cpu = |c: Option<f64>| c.map_or("?".to_owned(), |c| format!("{c:.2}"));
        out.push_str(&format!(
            "| {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {} | {} / {} | {} |\n",
            s.path,
            s.rate(),
            s.percentile(50.0),
            s.percentile(90.0),
            s.percentile(99.0),
            s.max_ms(),
            s.errors,
            rss,
            cpu(s.cpu_process),
            cpu(s.cpu_machine),
            ratio
        ));
    }
    for s in rows {
        if let Some(e) = &s.first_error {
            out.push_str(&format!("\nfirst error on {}: {e}\n", s.path));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(path: &'static str, per_second: u64, first_error: Option<&str>) -> Stats {
        Stats {
            path,
            clients: 8,
            seconds: 1.0,
            latencies: vec![1000; usize::try_from(per_second).unwrap_or(0)],
            errors: u64::from(first_error.is_some()),
            first_error: first_error.map(str::to_owned),
            total_ok: per_second,
            peak_rss_kib: Some(2048),
            cpu_process: Some(1.5),
            cpu_machine: None,
        }
    }

    #[test]
    fn each_path_is_compared_with_http_and_errors_follow_the_table() {
        let table = render(
            Kind::Sqlite,
            &[
                row(HTTP_PATH, 100, None),
                row("store only (no HTTP)", 200, Some("disk full")),
            ],
        );
        assert!(table.starts_with("### SQLite (8 clients)\n"), "{table}");
        assert!(
            table.contains("| HTTP | 100 | 1.00 | 1.00 | 1.00 | 1.00 | 0 | 2 | 1.50 / ? | — |"),
            "{table}"
        );
        assert!(
            table.contains("| store only (no HTTP) | 200 | 1.00 | 1.00 | 1.00 | 1.00 | 1 | 2 | 1.50 / ? | 0.50 |"),
            "{table}"
        );
        assert!(
            table.ends_with("\nfirst error on store only (no HTTP): disk full\n"),
            "{table}"
        );
    }
}
