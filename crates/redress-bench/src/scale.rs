//! `redress-bench scale`: how the reads people wait for grow with the number of complaints.
//!
//! ```sh
//! cargo build --release -p redress --bin redress && cargo build --release -p redress-bench
//! target/release/redress-bench scale [--sizes 10000,100000,1000000] [--database sqlite|postgres|both] \
//!     [--readers 4] [--seconds 5] [--warmup 1] [--seed 1]
//! ```
//!
//! For each database kind and each size it makes a fresh database, fills it with
//! `redress seed-data --complaints N --seed S` (the real core and store, the `redress` binary
//! beside this one, or `--redress PATH`), starts a server in-process as `redress serve` does,
//! and drives `--readers` concurrent readers at each path below for the measured window:
//!
//! - the API list (`GET /api/v1/complaints?limit=25`), its second page by cursor, stage 1
//!   overdue, a search by account number and by a customer's surname, one complaint;
//! - the staff queue (`/staff`) of Customer Services, its second page and its overdue filter,
//!   the dashboard, a case page;
//! - `/metrics` and the customer's own complaint page in the portal.
//!
//! Each row gives p50 and p99 in milliseconds, and the ratio of its p50 against the smallest
//! size measured in the same run (the baseline). It also reports how long seeding took, the
//! database's bytes per complaint and the process's peak RSS (server and readers).

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use redress::clock::{Clock, SystemClock};
use redress::store::{CustomerScope, SessionOwner, Store};
use redress_core::{Procedure, Role};
use serde_json::Value;
use tokio::runtime::Runtime;

use crate::database::{DatabaseChoice, FreshDb, Kind};
use crate::http::{self, Server};
use crate::load::{Load, Stats, drive, runtime};
use crate::system::{cpu_description, peak_rss_kib};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Numbers of complaints, smallest first (the first is the baseline).
    #[arg(long, value_delimiter = ',', default_value = "10000,100000")]
    sizes: Vec<u64>,
    #[arg(long, value_enum, default_value = "sqlite")]
    database: DatabaseChoice,
    /// Concurrent readers per path.
    #[arg(long, default_value_t = 4)]
    readers: usize,
    /// Measured seconds per path.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Seconds of load before measuring starts (not counted).
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// The seed-data seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The `redress` binary (default: the one beside this benchmark).
    #[arg(long)]
    redress: Option<PathBuf>,
}

/// One path a person waits for: its name, its address, and whose cookie or token it needs.
struct Path {
    name: &'static str,
    url: String,
    auth: Auth,
}

#[derive(Clone)]
enum Auth {
    Token(String),
    Cookie(String),
    None,
}

/// What one size measured.
struct Run {
    size: u64,
    seed_seconds: f64,
    bytes: Option<u64>,
    rows: Vec<Stats>,
    peak_rss_kib: Option<u64>,
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    if args.sizes.is_empty() || args.sizes.contains(&0) {
        bail!("--sizes needs one or more numbers of complaints above 0");
    }
    let redress = match &args.redress {
        Some(path) => path.clone(),
        None => std::env::current_exe()?
            .parent()
            .context("the benchmark's folder")?
            .join("redress"),
    };
    if !redress.exists() {
        bail!(
            "{} is not there: build it with `cargo build --release --bin redress` or give --redress",
            redress.display()
        );
    }
    let (cores, cpu) = cpu_description();
    println!(
        "## Reads at scale: {} readers, {}s measured after {}s warm-up, seed {} ({cores} cores, {cpu})\n",
        args.readers, args.seconds, args.warmup, args.seed
    );
    let rt = runtime(2, "bench")?;
    let procedure = Arc::new(Procedure::default_procedure());
    for &kind in args.database.kinds() {
        let mut runs = Vec::new();
        for &size in &args.sizes {
            eprintln!("{}: seeding {size} complaints", kind.name());
            let db = FreshDb::create(kind, &rt)?;
            let result = measure(args, kind, size, &db, &redress, &procedure, &rt);
            db.remove(&rt);
            runs.push(result?);
        }
        println!("{}", render(kind, &runs));
    }
    Ok(())
}

fn measure(
    args: &Args,
    kind: Kind,
    size: u64,
    db: &FreshDb,
    redress: &PathBuf,
    procedure: &Arc<Procedure>,
    rt: &Runtime,
) -> anyhow::Result<Run> {
    let began = Instant::now();
    let status = Command::new(redress)
        .args(["seed-data", "--complaints", &size.to_string()])
        .args(["--seed", &args.seed.to_string()])
        .args(["--database", &db.url])
        .status()
        .context("cannot run redress seed-data")?;
    if !status.success() {
        bail!("redress seed-data failed ({status})");
    }
    let seed_seconds = began.elapsed().as_secs_f64();
    let bytes = rt.block_on(database_bytes(kind, &db.url));
    let server = Server::start(&db.url, procedure, rt)?;
    let paths = rt.block_on(paths(&server))?;
    let client = http::client(args.readers)?;
    let load = Load {
        clients: args.readers,
        warmup: Duration::from_secs_f64(args.warmup),
        measure: Duration::from_secs_f64(args.seconds),
    };
    let mut rows = Vec::new();
    let mut peak = None;
    for path in paths {
        eprintln!("{} at {size}: {}", kind.name(), path.name);
        let client = client.clone();
        let (url, auth) = (Arc::new(path.url), path.auth);
        let stats = rt.block_on(drive(path.name, load, move |_, _| {
            let (client, url, auth) = (client.clone(), url.clone(), auth.clone());
            async move { read(&client, &url, &auth).await }
        }));
        peak = peak.max(stats.peak_rss_kib.or_else(peak_rss_kib));
        rows.push(stats);
    }
    server.stop(rt)?;
    Ok(Run {
        size,
        seed_seconds,
        bytes,
        rows,
        peak_rss_kib: peak,
    })
}

/// One read; an answer other than 200 is an error.
async fn read(client: &reqwest::Client, url: &str, auth: &Auth) -> Result<(), String> {
    let mut request = client.get(url);
    request = match auth {
        Auth::Token(token) => request.header(reqwest::header::AUTHORIZATION, token),
        Auth::Cookie(cookie) => request.header(reqwest::header::COOKIE, cookie),
        Auth::None => request,
    };
    let response = request.send().await.map_err(|e| format!("{e}"))?;
    let status = response.status();
    let body = response.bytes().await.map_err(|e| format!("{e}"))?;
    if status != reqwest::StatusCode::OK {
        return Err(format!(
            "{url}: {status}: {}",
            String::from_utf8_lossy(&body)
        ));
    }
    Ok(())
}

/// The paths, with the sessions and tokens they need and values taken from the data (a
/// reference, an account, a surname, the cursors of second pages).
async fn paths(server: &Server) -> anyhow::Result<Vec<Path>> {
    let store = &server.store;
    let now = SystemClock.now();
    let token = format!(
        "Bearer {}",
        store
            .create_token(
                Role::TeamManager,
                Some("customer_services"),
                Some("bench.manager"),
                Some("redress-bench scale"),
                now,
            )
            .await?
    );
    let cookie = staff_cookie(store, "bench.manager@example.com", now).await?;
    let client = http::client(1)?;
    let api = |path: &str| server.url(&format!("/api/v1/complaints{path}"));
    let first: Value = client
        .get(api("?limit=25"))
        .header(reqwest::header::AUTHORIZATION, &token)
        .send()
        .await?
        .json()
        .await?;
    let items = first["items"].as_array().context("the list's items")?;
    let sample = items.first().context("a complaint in the list")?;
    let reference = sample["reference"]
        .as_str()
        .context("a reference")?
        .to_owned();
    let account = sample["customer_account"].as_str().unwrap_or("").to_owned();
    let surname = sample["customer_name"]
        .as_str()
        .and_then(|n| n.split_whitespace().last())
        .unwrap_or("")
        .to_owned();
    let cursor = first["next_cursor"].as_str().unwrap_or("").to_owned();
    let queue = client
        .get(server.url("/staff"))
        .header(reqwest::header::COOKIE, &cookie)
        .send()
        .await?
        .text()
        .await?;
    let after = queue
        .split("after=")
        .nth(1)
        .and_then(|rest| rest.split(['"', '&']).next())
        .unwrap_or("")
        .to_owned();
    let customer = customer_cookie(store, &reference, now).await?;
    let bearer = Auth::Token(token);
    let staff = Auth::Cookie(cookie);
    Ok(vec![
        Path {
            name: "API list, limit 25",
            url: api("?limit=25"),
            auth: bearer.clone(),
        },
        Path {
            name: "API list, second page",
            url: api(&format!("?limit=25&cursor={cursor}")),
            auth: bearer.clone(),
        },
        Path {
            name: "API list, stage 1 overdue",
            url: api("?limit=25&stage=1&overdue=true"),
            auth: bearer.clone(),
        },
        Path {
            name: "API search, account",
            url: api(&format!("?limit=25&q={account}")),
            auth: bearer.clone(),
        },
        Path {
            name: "API search, surname",
            url: api(&format!("?limit=25&q={surname}")),
            auth: bearer.clone(),
        },
        Path {
            name: "API complaint",
            url: api(&format!("/{reference}")),
            auth: bearer,
        },
        Path {
            name: "staff queue",
            url: server.url("/staff"),
            auth: staff.clone(),
        },
        Path {
            name: "staff queue, second page",
            url: server.url(&format!("/staff?after={after}")),
            auth: staff.clone(),
        },
        Path {
            name: "staff queue, overdue",
            url: server.url("/staff?overdue=yes"),
            auth: staff.clone(),
        },
        Path {
            name: "staff dashboard",
            url: server.url("/staff/dashboard"),
            auth: staff.clone(),
        },
        Path {
            name: "staff case page",
            url: server.url(&format!("/staff/complaints/{reference}")),
            auth: staff,
        },
        Path {
            name: "metrics",
            url: server.url("/metrics"),
            auth: Auth::None,
        },
        Path {
            name: "portal complaint page",
            url: server.url(&format!("/my/complaints/{reference}")),
            auth: Auth::Cookie(customer),
        },
    ])
}

/// A Customer Services team manager signed in: the staff cookie.
async fn staff_cookie(store: &Store, email: &str, now: jiff::Timestamp) -> anyhow::Result<String> {
    let user = store
        .create_user(
            email,
            "Bench Manager",
            "a long enough bench password",
            Role::TeamManager,
            Some("customer_services"),
            now,
        )
        .await?;
    let (token, _) = store
        .create_session(&SessionOwner::Staff(user), now)
        .await?;
    Ok(format!("{}={token}", redress::web::session::STAFF_COOKIE))
}

/// The customer of `reference` signed in with it and their postcode: the portal cookie.
async fn customer_cookie(
    store: &Store,
    reference: &str,
    now: jiff::Timestamp,
) -> anyhow::Result<String> {
    let scope = CustomerScope::Reference {
        reference: reference.to_owned(),
    };
    let (token, _) = store
        .create_session(&SessionOwner::Customer(scope), now)
        .await?;
    Ok(format!(
        "{}={token}",
        redress::web::session::CUSTOMER_COOKIE
    ))
}

/// The database's size on disk: the SQLite file and its log, or PostgreSQL's database size.
async fn database_bytes(kind: Kind, url: &str) -> Option<u64> {
    match kind {
        Kind::Sqlite => {
            let path = url.trim_start_matches("sqlite://");
            let size = |p: String| std::fs::metadata(p).map_or(0, |m| m.len());
            Some(size(path.to_owned()) + size(format!("{path}-wal")))
        }
        Kind::Postgres => {
            let store = Store::connect(url, Arc::new(Procedure::default_procedure()))
                .await
                .ok()?;
            let row: (i64,) = sqlx::query_as("SELECT pg_database_size(current_database())")
                .fetch_one(store.pool())
                .await
                .ok()?;
            store.close().await;
            u64::try_from(row.0).ok()
        }
    }
}

/// The tables: p50 / p99 per path and size, with each p50 against the smallest size's.
fn render(kind: Kind, runs: &[Run]) -> String {
    let mut out = format!("### {}\n\n| path |", kind.name());
    for run in runs {
        out.push_str(&format!(" {} p50 / p99 ms |", run.size));
    }
    for run in runs.iter().skip(1) {
        out.push_str(&format!(" p50 ×, {} ÷ {} |", run.size, runs[0].size));
    }
    out.push_str("\n|---|");
    for _ in 0..(runs.len() * 2 - 1) {
        out.push_str("---:|");
    }
    out.push('\n');
    let Some(base) = runs.first() else {
        return out;
    };
    for (i, row) in base.rows.iter().enumerate() {
        out.push_str(&format!("| {} |", row.path));
        for run in runs {
            match run.rows.get(i) {
                Some(s) if s.errors == 0 => out.push_str(&format!(
                    " {:.2} / {:.2} |",
                    s.percentile(50.0),
                    s.percentile(99.0)
                )),
                Some(s) => out.push_str(&format!(
                    " {} errors ({}) |",
                    s.errors,
                    s.first_error
                        .as_deref()
                        .unwrap_or("?")
                        .chars()
                        .take(80)
                        .collect::<String>()
                )),
                None => out.push_str(" — |"),
            }
        }
        for run in runs.iter().skip(1) {
            let ratio = run
                .rows
                .get(i)
                .map_or(f64::NAN, |s| s.percentile(50.0) / row.percentile(50.0));
            out.push_str(&format!(" {ratio:.2} |"));
        }
        out.push('\n');
    }
    out.push_str("\n| size | seed-data s | complaints/s seeded | bytes per complaint | peak RSS MiB |\n|---:|---:|---:|---:|---:|\n");
    for run in runs {
        out.push_str(&format!(
            "| {} | {:.1} | {:.0} | {} | {} |\n",
            run.size,
            run.seed_seconds,
            run.size as f64 / run.seed_seconds,
            run.bytes.map_or("?".to_owned(), |b| format!(
                "{:.0}",
                b as f64 / run.size as f64
            )),
            run.peak_rss_kib
                .map_or("?".to_owned(), |k| format!("{:.0}", k as f64 / 1024.0)),
        ));
    }
    out
}
