//! `redress-bench intake`: how many complaints per second `redress serve` records over HTTP,
//! against the same durable writes made without HTTP.
//!
//! ```sh
//! cargo run --release --bin redress-bench -- intake [--clients 64] [--seconds 10] \
//!     [--warmup 2] [--database sqlite|postgres|both] [--paths http,store,bare] [--diagnose]
//! ```
//!
//! `--clients 8,64` runs each count in turn; `--paths http` runs the server alone (for `perf
//! record`); `--diagnose` adds bare-insert variants with fewer round trips (see `Bare`).
//!
//! For each database kind it measures three paths, each on its own fresh database, with the same
//! number of concurrent clients for the same time (after a warm-up that is not counted):
//!
//! 1. **HTTP**: a real server (`Application::build` on 127.0.0.1:0, the system clock, the
//!    scheduler ticking every second as `redress serve` does) and N reqwest clients, each
//!    `POST /api/v1/complaints` in a loop and reading the whole answer.
//! 2. **store only (no HTTP)**: N tasks calling `Store::create_complaint` directly: the same
//!    group-committed transactions, core and serialisation, no HTTP, no JSON request or
//!    answer, no token check.
//! 3. **bare insert**: N tasks writing the same rows with plain sqlx statements through the
//!    same pool and driver (sqlx `Any`), in one transaction per complaint: the reference
//!    sequence upsert, the complaint row, its event rows, its deadline rows and the projection
//!    update. Payloads are serialised once beforehand; no reads, no core, no hashing. On SQLite
//!    writers queue on an in-process lock, as the store's do. This is the durable insert of one
//!    complaint as a client would write it alone; the store beats it by grouping many
//!    complaints into each transaction.
//!
//! Prints a Markdown table per database to stdout; progress goes to stderr. Peak RSS is the
//! whole process's `VmHWM` (server, clients and all), reset before each path through
//! `/proc/self/clear_refs` so that each figure is that path's own peak.
//!
//! PostgreSQL: a new database is created on `$REDRESS_TEST_POSTGRES_URL` (by default
//! `postgres://postgres@127.0.0.1:5432/postgres`) for each path and dropped afterwards.

/// The same allocator as `redress` itself.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};
use redress::app::{Application, Config};
use redress::clock::{Clock, SystemClock};
use redress::store::{GENESIS_HASH, Store};
use redress_core::{
    Actor, Channel, Complaint, Customer, Procedure, Receive, Reference, Role, clock, deadlines,
    open,
};
use sqlx::{Any, Connection, Row, Transaction};
use tokio::runtime::Runtime;

#[derive(Debug, Parser)]
#[command(name = "redress-bench", about = "Load benchmarks of redress serve")]
struct Cli {
    #[command(subcommand)]
    command: Bench,
}

#[derive(Debug, Subcommand)]
enum Bench {
    /// Complaints recorded per second: HTTP against the store alone and bare inserts.
    Intake(IntakeArgs),
}

#[derive(Debug, clap::Args)]
struct IntakeArgs {
    /// Concurrent clients; a comma-separated list runs each in turn (e.g. 8,64).
    #[arg(long, value_delimiter = ',', default_value = "64")]
    clients: Vec<usize>,
    /// Measured seconds per path.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Seconds of load before measuring starts (not counted).
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    #[arg(long, value_enum, default_value = "both")]
    database: DatabaseChoice,
    /// Runtime worker threads for the server, and separately for the clients.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Which paths to run (all by default); e.g. `--paths http` to profile the server alone.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "http,store,bare"
    )]
    paths: Vec<PathChoice>,
    /// Also run variants of the bare insert that show what the write path's round trips cost:
    /// without the pool's ping on every acquire, and with the complaint row written whole
    /// (no projection UPDATE).
    #[arg(long)]
    diagnose: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum PathChoice {
    Http,
    Store,
    Bare,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DatabaseChoice {
    Sqlite,
    Postgres,
    Both,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Sqlite,
    Postgres,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Sqlite => "SQLite",
            Kind::Postgres => "PostgreSQL",
        }
    }
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Bench::Intake(args) => intake(&args),
    }
}

/// What one path achieved in the measured window.
#[derive(Debug, Clone)]
struct Stats {
    path: &'static str,
    clients: usize,
    seconds: f64,
    /// Successful operations that ended inside the window, with their latency (µs).
    latencies: Vec<u64>,
    errors: u64,
    first_error: Option<String>,
    /// Successes over the whole run, warm-up and tail included (checked against the database).
    total_ok: u64,
    peak_rss_kib: Option<u64>,
    /// CPU time used in the window, in cores (1.0 = one core busy throughout): by this process
    /// (server and clients), and by the whole machine (PostgreSQL and anything else included).
    cpu_process: Option<f64>,
    cpu_machine: Option<f64>,
}

impl Stats {
    fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.seconds
    }

    /// Nearest-rank percentile, in milliseconds.
    fn percentile(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let rank = ((p / 100.0) * self.latencies.len() as f64).ceil() as usize;
        let index = rank.clamp(1, self.latencies.len()) - 1;
        self.latencies[index] as f64 / 1000.0
    }
}

fn intake(args: &IntakeArgs) -> anyhow::Result<()> {
    if args.clients.is_empty() || args.clients.contains(&0) {
        bail!("--clients must be at least 1");
    }
    if !(args.seconds > 0.0 && args.warmup >= 0.0) {
        bail!("--seconds must be positive and --warmup not negative");
    }
    let kinds: &[Kind] = match args.database {
        DatabaseChoice::Sqlite => &[Kind::Sqlite],
        DatabaseChoice::Postgres => &[Kind::Postgres],
        DatabaseChoice::Both => &[Kind::Sqlite, Kind::Postgres],
    };
    // The server and the load generator get a runtime each, so a profile can tell their
    // threads apart; they share the machine's cores.
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads)
        .thread_name("bench-server")
        .enable_all()
        .build()?;
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads)
        .thread_name("bench-client")
        .enable_all()
        .build()?;
    let procedure = Arc::new(Procedure::default_procedure());
    let template = Template::new(&procedure)?;
    let warmup = Duration::from_secs_f64(args.warmup);
    let measure = Duration::from_secs_f64(args.seconds);

    let mut tables = Vec::new();
    for &kind in kinds {
        for &clients in &args.clients {
            let load = Load {
                clients,
                warmup,
                measure,
            };
            eprintln!(
                "{}: {clients} clients, {:.0} s warm-up + {:.0} s measured per path",
                kind.name(),
                args.warmup,
                args.seconds
            );
            let mut rows = Vec::new();
            if args.paths.contains(&PathChoice::Http) {
                eprintln!("  HTTP ...");
                rows.push(http_path(kind, &procedure, load, &server_rt, &client_rt)?);
            }
            if args.paths.contains(&PathChoice::Store) {
                eprintln!("  store only ...");
                rows.push(store_path(kind, &procedure, load, &client_rt)?);
            }
            if args.paths.contains(&PathChoice::Bare) {
                eprintln!("  bare insert ...");
                rows.push(bare_path(
                    kind, &procedure, &template, BARE, load, &client_rt,
                )?);
            }
            if args.diagnose {
                for variant in DIAGNOSTIC_VARIANTS {
                    eprintln!("  {} ...", variant.path);
                    rows.push(bare_path(
                        kind, &procedure, &template, variant, load, &client_rt,
                    )?);
                }
            }
            let table = render(kind, &rows);
            eprintln!("{table}");
            tables.push(table);
        }
    }
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("# redress-bench intake\n");
    println!(
        "{cores} cores ({cpu}); {} s warm-up, {} s measured per path; server and clients in one \
         process, {} runtime threads each.",
        args.warmup, args.seconds, args.threads
    );
    println!(
        "One complaint = one transaction of {} writes: the reference-sequence upsert, the complaint \
         row, {} event row(s), {} deadline row(s) and the projection update.\n",
        3 + template.events.len() + template.deadlines.len(),
        template.events.len(),
        template.deadlines.len()
    );
    for table in tables {
        println!("{table}");
    }
    Ok(())
}

#[derive(Debug, Clone, Copy)]
struct Load {
    clients: usize,
    warmup: Duration,
    measure: Duration,
}

fn render(kind: Kind, rows: &[Stats]) -> String {
    let mut out = format!(
        "### {} ({} clients)\n\n| path | complaints/s | p50 ms | p90 ms | p99 ms | max ms | errors | peak RSS MiB | CPU cores: process / machine | HTTP ÷ this |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
        kind.name(),
        rows.first().map_or(0, |s| s.clients)
    );
    let http_rate = rows
        .iter()
        .find(|s| s.path == "HTTP")
        .map_or(f64::NAN, Stats::rate);
    for s in rows {
        let ratio = if s.path == "HTTP" || http_rate.is_nan() {
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
            s.latencies.last().map_or(f64::NAN, |&m| m as f64 / 1000.0),
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

/// Runs `op` from `clients` tasks until warm-up + window has passed; counts what ends inside
/// the window.
async fn drive<F, Fut>(path: &'static str, load: Load, op: F) -> Stats
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    reset_peak_rss();
    let op = Arc::new(op);
    let from = Instant::now() + load.warmup;
    let until = from + load.measure;
    let sampler = tokio::spawn(async move {
        tokio::time::sleep_until(from.into()).await;
        let before = (cpu_ticks_process(), cpu_ticks_machine());
        tokio::time::sleep_until(until.into()).await;
        let after = (cpu_ticks_process(), cpu_ticks_machine());
        (before, after)
    });
    let mut tasks = Vec::with_capacity(load.clients);
    for client in 0..load.clients {
        let op = op.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            let mut first_error = None;
            let mut total_ok = 0u64;
            let mut n = 0u64;
            loop {
                let began = Instant::now();
                if began >= until {
                    break;
                }
                let result = op(client, n).await;
                n += 1;
                let ended = Instant::now();
                if result.is_ok() {
                    total_ok += 1;
                }
                if ended < from || ended > until {
                    continue;
                }
                match result {
                    Ok(()) => latencies.push((ended - began).as_micros() as u64),
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert(e);
                    }
                }
            }
            (latencies, errors, first_error, total_ok)
        }));
    }
    let mut stats = Stats {
        path,
        clients: load.clients,
        seconds: load.measure.as_secs_f64(),
        latencies: Vec::new(),
        errors: 0,
        first_error: None,
        total_ok: 0,
        peak_rss_kib: None,
        cpu_process: None,
        cpu_machine: None,
    };
    for task in tasks {
        match task.await {
            Ok((latencies, errors, first_error, total_ok)) => {
                stats.latencies.extend(latencies);
                stats.errors += errors;
                stats.total_ok += total_ok;
                if stats.first_error.is_none() {
                    stats.first_error = first_error;
                }
            }
            Err(e) => {
                stats.errors += 1;
                stats
                    .first_error
                    .get_or_insert(format!("client task failed: {e}"));
            }
        }
    }
    stats.latencies.sort_unstable();
    stats.peak_rss_kib = peak_rss_kib();
    if let Ok(((p0, m0), (p1, m1))) = sampler.await {
        let cores = |a: Option<u64>, b: Option<u64>| {
            Some(b?.checked_sub(a?)? as f64 / USER_HZ / load.measure.as_secs_f64())
        };
        stats.cpu_process = cores(p0, p1);
        stats.cpu_machine = cores(m0, m1);
    }
    stats
}

/// Resets the process's peak RSS to its current RSS (Linux 4.0+).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Linux reports CPU times in /proc in units of USER_HZ, which is 100 on x86 and arm64.
const USER_HZ: f64 = 100.0;

/// This process's user + system CPU time so far, in USER_HZ ticks.
fn cpu_ticks_process() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses: state is the 3rd field, utime
    // the 14th and stime the 15th.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// The whole machine's busy CPU time so far (all but idle and iowait), in USER_HZ ticks.
fn cpu_ticks_machine() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let ticks: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|t| t.parse().unwrap_or(0))
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is included in user).
    Some(ticks.iter().take(8).sum::<u64>() - ticks.get(3)? - ticks.get(4)?)
}

/// `VmHWM` from /proc/self/status, in KiB.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A fresh database, removed by `remove`.
struct FreshDb {
    url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(PathBuf),
    Postgres { admin: String, name: String },
}

fn unique() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn postgres_admin_url() -> String {
    std::env::var("REDRESS_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

impl FreshDb {
    fn create(kind: Kind, rt: &Runtime) -> anyhow::Result<FreshDb> {
        let name = format!("redress_bench_{}_{}", std::process::id(), unique());
        match kind {
            Kind::Sqlite => {
                let dir = std::env::temp_dir().join(&name);
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
                Ok(FreshDb {
                    url: dir.join("redress.db").display().to_string(),
                    cleanup: Cleanup::Dir(dir),
                })
            }
            Kind::Postgres => {
                let admin = postgres_admin_url();
                rt.block_on(async {
                    let mut conn = sqlx::postgres::PgConnection::connect(&admin)
                        .await
                        .with_context(|| format!("PostgreSQL is not reachable at {admin}"))?;
                    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                        .execute(&mut conn)
                        .await
                        .context("cannot create the benchmark database")?;
                    conn.close().await?;
                    anyhow::Ok(())
                })?;
                // Keep the admin URL's options (e.g. `?sslmode=disable`) for the new database.
                let (path, options) = admin
                    .split_once('?')
                    .map_or((admin.as_str(), String::new()), |(p, q)| {
                        (p, format!("?{q}"))
                    });
                let base = path.rsplit_once('/').map_or(path, |(b, _)| b);
                Ok(FreshDb {
                    url: format!("{base}/{name}{options}"),
                    cleanup: Cleanup::Postgres { admin, name },
                })
            }
        }
    }

    fn remove(self, rt: &Runtime) {
        match self.cleanup {
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Postgres { admin, name } => {
                let dropped = rt.block_on(async {
                    let mut conn = sqlx::postgres::PgConnection::connect(&admin).await?;
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&mut conn)
                    .await?;
                    conn.close().await
                });
                if let Err(e) = dropped {
                    eprintln!("warning: could not drop database {name}: {e}");
                }
            }
        }
    }
}

/// Counts the complaints a path left in its database, to check the clients' tally.
async fn check_count(store: &Store, stats: &Stats) -> anyhow::Result<()> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM complaints")
        .fetch_one(store.pool())
        .await?;
    let n: i64 = row.try_get("n")?;
    if u64::try_from(n).unwrap_or(0) != stats.total_ok {
        bail!(
            "{}: the clients counted {} complaints but the database holds {n}",
            stats.path,
            stats.total_ok
        );
    }
    Ok(())
}

fn customer(client: usize, n: u64) -> Customer {
    Customer {
        account: format!("BENCH-{client}-{n}"),
        name: "Ann Example".into(),
        email: None,
        telephone: None,
        address: Vec::new(),
        postcode: redress_core::model::Postcode::parse("M22 4SY").ok(),
        preferred_channel: None,
        accessibility_needs: Vec::new(),
        vulnerabilities: Vec::new(),
    }
}

fn intake_actor() -> Actor {
    Actor {
        role: Role::Handler,
        department: Some("customer_services".into()),
        staff: Some("bench".into()),
    }
}

fn receive(procedure: &Procedure, client: usize, n: u64) -> Receive {
    Receive {
        reference: Reference::new(&procedure.reference_prefix, 2000, 0),
        channel: Channel::Telephone,
        customer: customer(client, n),
        summary: "Broadband drops every evening".into(),
        category: Some("faults_service_provision".into()),
        received_at: None,
        staff_concerned: Vec::new(),
        by: intake_actor(),
    }
}

// ---- path 1: HTTP ----

fn http_path(
    kind: Kind,
    procedure: &Arc<Procedure>,
    load: Load,
    server_rt: &Runtime,
    client_rt: &Runtime,
) -> anyhow::Result<Stats> {
    let db = FreshDb::create(kind, client_rt)?;
    let result = run_http(&db.url, procedure, load, server_rt, client_rt);
    db.remove(client_rt);
    result
}

fn run_http(
    database: &str,
    procedure: &Arc<Procedure>,
    load: Load,
    server_rt: &Runtime,
    client_rt: &Runtime,
) -> anyhow::Result<Stats> {
    // As `redress serve` by default (the scheduler ticks every second).
    let config = Config::new(
        database,
        "127.0.0.1:0",
        procedure.clone(),
        Arc::new(SystemClock),
    );
    let app = server_rt.block_on(Application::build(config))?;
    let url = format!("http://{}/api/v1/complaints", app.local_addr()?);
    let store = app.store().clone();
    let token = server_rt.block_on(store.create_token(
        Role::Handler,
        Some("customer_services"),
        Some("bench"),
        Some("redress-bench"),
        SystemClock.now(),
    ))?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = server_rt.spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(load.clients)
        .build()?;
    let authorization = format!("Bearer {token}");
    let stats = client_rt.block_on(drive("HTTP", load, move |c, n| {
        let client = client.clone();
        let url = url.clone();
        let authorization = authorization.clone();
        async move {
            let body = serde_json::json!({
                "channel": "telephone",
                "customer": {"account": format!("BENCH-{c}-{n}"), "name": "Ann Example", "postcode": "M22 4SY"},
                "summary": "Broadband drops every evening",
                "category": "faults_service_provision"
            });
            let response = client
                .post(&url)
                .header(reqwest::header::AUTHORIZATION, &authorization)
                .json(&body)
                .send()
                .await
                .map_err(|e| format!("request failed: {e}"))?;
            let status = response.status();
            let answer = response
                .bytes()
                .await
                .map_err(|e| format!("reading the answer failed: {e}"))?;
            if status != reqwest::StatusCode::CREATED {
                return Err(format!(
                    "status {status}: {}",
                    String::from_utf8_lossy(&answer)
                ));
            }
            Ok(())
        }
    }));
    let counted = server_rt.block_on(check_count(&store, &stats));
    let _ = stop.send(());
    server_rt
        .block_on(server)
        .context("the server task panicked")??;
    counted?;
    Ok(stats)
}

// ---- path 2: store only ----

fn store_path(
    kind: Kind,
    procedure: &Arc<Procedure>,
    load: Load,
    rt: &Runtime,
) -> anyhow::Result<Stats> {
    let db = FreshDb::create(kind, rt)?;
    let result = rt.block_on(async {
        let store = Store::connect(&db.url, procedure.clone()).await?;
        store.migrate().await?;
        let procedure = procedure.clone();
        let for_ops = store.clone();
        let stats = drive("store only (no HTTP)", load, move |c, n| {
            let store = for_ops.clone();
            let receive = receive(&procedure, c, n);
            async move {
                match store.create_complaint(receive, SystemClock.now()).await {
                    Ok(_) => Ok(()),
                    Err(e) => Err(format!("{e}: {e:?}")),
                }
            }
        })
        .await;
        let counted = check_count(&store, &stats).await;
        store.close().await;
        counted.map(|()| stats)
    });
    db.remove(rt);
    result
}

// ---- path 3: bare insert ----

/// The rows of one new complaint, serialised once from a real `open`.
#[derive(Clone)]
struct Template {
    year: i64,
    channel: String,
    department: String,
    category: Option<String>,
    state: String,
    search_text: String,
    events: Vec<(String, String, String)>,
    deadlines: Vec<(String, i64, i64, String)>,
    next_due_at: Option<i64>,
}

impl Template {
    fn new(procedure: &Procedure) -> anyhow::Result<Template> {
        let now = SystemClock.now();
        let (complaint, events): (Complaint, _) = open(receive(procedure, 0, 0), now, procedure)
            .map_err(|r| anyhow::anyhow!("the template complaint was refused: {r}"))?;
        let running = deadlines(&complaint, procedure);
        Ok(Template {
            year: i64::from(clock::local_date(procedure.time_zone(), now).year()),
            channel: complaint.channel.as_str().to_owned(),
            department: procedure.department_of(complaint.stage).to_owned(),
            category: complaint.category.clone(),
            state: serde_json::to_string(&complaint)?,
            search_text: format!(
                "{} bench-0-0 ann example m22 4sy",
                complaint.reference.as_str().to_lowercase()
            ),
            events: events
                .iter()
                .map(|e| {
                    Ok((
                        e.kind.name().to_owned(),
                        serde_json::to_string(e)?,
                        serde_json::to_string(&e.by)?,
                    ))
                })
                .collect::<anyhow::Result<_>>()?,
            deadlines: running
                .iter()
                .map(|d| {
                    (
                        d.kind.as_str().to_owned(),
                        i64::from(d.request.unwrap_or(0)),
                        d.due_at.as_microsecond(),
                        d.due_by.to_string(),
                    )
                })
                .collect(),
            next_due_at: running.first().map(|d| d.due_at.as_microsecond()),
        })
    }
}

/// How the bare insert talks to the database.
#[derive(Debug, Clone, Copy)]
struct Bare {
    path: &'static str,
    /// Whether the pool pings each connection when it is acquired (sqlx's default, and the
    /// store's pool): one more round trip per transaction.
    ping: bool,
    /// Whether the complaint row is inserted with placeholders and then updated with the
    /// projection, as the store does; otherwise it is inserted whole.
    projection_update: bool,
}

/// The store's statements, through the store's own pool.
const BARE: Bare = Bare {
    path: "bare insert",
    ping: true,
    projection_update: true,
};

/// `--diagnose`: fewer round trips for the same rows.
const DIAGNOSTIC_VARIANTS: [Bare; 2] = [
    Bare {
        path: "bare insert, no ping on acquire",
        ping: false,
        projection_update: true,
    },
    Bare {
        path: "bare insert, no ping, row inserted whole",
        ping: false,
        projection_update: false,
    },
];

/// A pool like the store's (`Store::connect`) but without the ping on acquire, with the same
/// `synchronous` setting (FULL unless `REDRESS_SQLITE_SYNCHRONOUS=normal`), so the baseline is
/// the same disk's ceiling.
async fn pool_without_ping(kind: Kind, url: &str) -> anyhow::Result<sqlx::AnyPool> {
    use sqlx::Executor;
    use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
    use std::str::FromStr;
    let url = redress::store::normalise_url(url);
    let options = AnyConnectOptions::from_str(&url)?;
    Ok(match kind {
        Kind::Sqlite => {
            AnyPoolOptions::new()
                .max_connections(8)
                .test_before_acquire(false)
                .after_connect(|conn, _meta| {
                    Box::pin(async move {
                        let synchronous =
                            match std::env::var("REDRESS_SQLITE_SYNCHRONOUS").as_deref() {
                                Ok("normal") => "PRAGMA synchronous = NORMAL",
                                _ => "PRAGMA synchronous = FULL",
                            };
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                        conn.execute(synchronous).await?;
                        Ok(())
                    })
                })
                .connect_with(options)
                .await?
        }
        Kind::Postgres => {
            AnyPoolOptions::new()
                .max_connections(16)
                .test_before_acquire(false)
                .connect_with(options)
                .await?
        }
    })
}

const HASH: &str = "5f0c3b8e2d7a41c69b0e8f1d2a3c4b5e6f708192a3b4c5d6e7f8091a2b3c4d5e";

#[allow(clippy::too_many_arguments)]
async fn bare_insert(
    pool: &sqlx::AnyPool,
    lock: Option<&tokio::sync::Mutex<()>>,
    sqlite: bool,
    variant: Bare,
    t: &Template,
    prefix: &str,
    account: &str,
) -> Result<(), sqlx::Error> {
    let _guard = match lock {
        Some(lock) => Some(lock.lock().await),
        None => None,
    };
    let mut tx: Transaction<'static, Any> = if sqlite {
        pool.begin_with("BEGIN IMMEDIATE").await?
    } else {
        pool.begin().await?
    };
    let now = jiff::Timestamp::now().as_microsecond();
    let row = sqlx::query(
        "INSERT INTO reference_sequences (year, last) VALUES ($1, 1) \
         ON CONFLICT (year) DO UPDATE SET last = reference_sequences.last + 1 RETURNING last",
    )
    .bind(t.year)
    .fetch_one(&mut *tx)
    .await?;
    let sequence: i64 = row.try_get("last")?;
    let reference = format!("{prefix}-{}-{sequence:06}", t.year);
    let row = if variant.projection_update {
        sqlx::query(
            "INSERT INTO complaints (reference, stage, status, department, customer_account, customer_name, \
             customer_postcode, category, channel, first_received_at, next_due_at, last_hash, overdue, adr_eligible, \
             version, state, search_text, created_at, updated_at) \
             VALUES ($1, 1, 'open', $2, $3, $4, $5, $6, $7, $8, NULL, $9, 0, 0, 0, '{}', '', $10, $10) RETURNING id",
        )
        .bind(&reference)
        .bind(&t.department)
        .bind(account)
        .bind("Ann Example")
        .bind("M22 4SY")
        .bind(&t.category)
        .bind(&t.channel)
        .bind(now)
        .bind(HASH)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?
    } else {
        sqlx::query(
            "INSERT INTO complaints (reference, stage, status, department, customer_account, customer_name, \
             customer_postcode, category, channel, first_received_at, next_due_at, last_hash, overdue, adr_eligible, \
             version, state, search_text, created_at, updated_at) \
             VALUES ($1, 1, 'open', $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, 0, $11, $12, $13, $14, $14) RETURNING id",
        )
        .bind(&reference)
        .bind(&t.department)
        .bind(account)
        .bind("Ann Example")
        .bind("M22 4SY")
        .bind(&t.category)
        .bind(&t.channel)
        .bind(now)
        .bind(t.next_due_at)
        .bind(HASH)
        .bind(i64::try_from(t.events.len()).unwrap_or(0))
        .bind(&t.state)
        .bind(&t.search_text)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?
    };
    let id: i64 = row.try_get("id")?;
    for (sequence, (kind, payload, actor)) in t.events.iter().enumerate() {
        sqlx::query(
            "INSERT INTO events (complaint_id, sequence, kind, payload, actor, occurred_at, recorded_at, due_at, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(id)
        .bind(i64::try_from(sequence).unwrap_or(0) + 1)
        .bind(kind)
        .bind(payload)
        .bind(actor)
        .bind(now)
        .bind(now)
        .bind(None::<i64>)
        // A chain the database accepts: event 1 links to the genesis hash, later ones to HASH.
        .bind(if sequence == 0 { GENESIS_HASH } else { HASH })
        .bind(HASH)
        .execute(&mut *tx)
        .await?;
    }
    for (kind, request, due_at, due_by) in &t.deadlines {
        sqlx::query(
            "INSERT INTO deadlines (complaint_id, kind, request, due_at, due_by) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(kind)
        .bind(request)
        .bind(due_at)
        .bind(due_by)
        .execute(&mut *tx)
        .await?;
    }
    if !variant.projection_update {
        return tx.commit().await;
    }
    sqlx::query(
        "UPDATE complaints SET stage = $1, status = $2, department = $3, next_due_at = $4, last_hash = $5, \
         overdue = $6, adr_eligible = $7, version = $8, state = $9, search_text = $10, updated_at = $11 WHERE id = $12",
    )
    .bind(1_i64)
    .bind("open")
    .bind(&t.department)
    .bind(t.next_due_at)
    .bind(HASH)
    .bind(0_i64)
    .bind(0_i64)
    .bind(i64::try_from(t.events.len()).unwrap_or(0))
    .bind(&t.state)
    .bind(&t.search_text)
    .bind(now)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

fn bare_path(
    kind: Kind,
    procedure: &Arc<Procedure>,
    template: &Template,
    variant: Bare,
    load: Load,
    rt: &Runtime,
) -> anyhow::Result<Stats> {
    let db = FreshDb::create(kind, rt)?;
    let template = Arc::new(template.clone());
    let result = rt.block_on(async {
        // The store's own connection: the same pool settings, pragmas and schema.
        let store = Store::connect(&db.url, procedure.clone()).await?;
        store.migrate().await?;
        let sqlite = kind == Kind::Sqlite;
        let lock = Arc::new(sqlite.then(|| tokio::sync::Mutex::new(())));
        let prefix: Arc<str> = procedure.reference_prefix.clone().into();
        let pool = if variant.ping {
            store.pool().clone()
        } else {
            pool_without_ping(kind, &db.url).await?
        };
        let own_pool = (!variant.ping).then(|| pool.clone());
        let stats = drive(variant.path, load, move |c, n| {
            let pool = pool.clone();
            let lock = lock.clone();
            let template = template.clone();
            let prefix = prefix.clone();
            async move {
                let account = format!("BENCH-{c}-{n}");
                bare_insert(
                    &pool,
                    lock.as_ref().as_ref(),
                    sqlite,
                    variant,
                    &template,
                    &prefix,
                    &account,
                )
                .await
                .map_err(|e| e.to_string())
            }
        })
        .await;
        let counted = check_count(&store, &stats).await;
        if let Some(pool) = own_pool {
            pool.close().await;
        }
        store.close().await;
        counted.map(|()| stats)
    });
    db.remove(rt);
    result
}
