//! `redress-bench intake`: how many complaints per second `redress serve` records over HTTP,
//! against the same durable writes made without HTTP.
//!
//! ```sh
//! cargo run --release -p redress-bench -- intake [--clients 64] [--seconds 10] \
//!     [--warmup 2] [--database sqlite|postgres|both] [--paths http,store,bare] [--diagnose]
//! ```
//!
//! `--clients 8,64` runs each count in turn; `--paths http` runs the server alone (for `perf
//! record`); `--diagnose` adds bare-insert variants with fewer round trips (see `bare::Bare`).
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
//! 3. **bare insert** (`bare`): the baseline, N tasks writing rows of the same shape with plain
//!    sqlx statements, one fsynced transaction per complaint, as a client would write one
//!    complaint alone; the store beats it by grouping many complaints into each transaction.
//!
//! Prints a Markdown table per database to stdout; progress goes to stderr. Peak RSS is the
//! whole process's `VmHWM` (server, clients and all), reset before each path through
//! `/proc/self/clear_refs` so that each figure is that path's own peak.

mod bare;

use std::sync::Arc;
use std::time::Duration;

use anyhow::bail;
use clap::ValueEnum;
use redress::clock::{Clock, SystemClock};
use redress::store::Store;
use redress_core::Procedure;
use tokio::runtime::Runtime;

use crate::complaints;
use crate::database::{DatabaseChoice, Kind, check_count, on_fresh_db};
use crate::http::{self, Server};
use crate::load::{Load, Stats, drive, runtime};
use crate::report::{self, HTTP_PATH};
use crate::system::cpu_description;

#[derive(Debug, clap::Args)]
pub struct Args {
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

pub fn run(args: &Args) -> anyhow::Result<()> {
    if args.clients.is_empty() || args.clients.contains(&0) {
        bail!("--clients must be at least 1");
    }
    if !(args.seconds > 0.0 && args.warmup >= 0.0) {
        bail!("--seconds must be positive and --warmup not negative");
    }
    // The server and the load generator get a runtime each, so a profile can tell their
    // threads apart; they share the machine's cores.
    let server_rt = runtime(args.threads, "bench-server")?;
    let client_rt = runtime(args.threads, "bench-client")?;
    let procedure = Arc::new(Procedure::default_procedure());
    let template = bare::Template::new(&procedure)?;
    let warmup = Duration::from_secs_f64(args.warmup);
    let measure = Duration::from_secs_f64(args.seconds);

    let mut tables = Vec::new();
    for &kind in args.database.kinds() {
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
                rows.push(bare::path(
                    kind,
                    &procedure,
                    &template,
                    bare::BASELINE,
                    load,
                    &client_rt,
                )?);
            }
            if args.diagnose {
                for variant in bare::DIAGNOSTIC_VARIANTS {
                    eprintln!("  {} ...", variant.path);
                    rows.push(bare::path(
                        kind, &procedure, &template, variant, load, &client_rt,
                    )?);
                }
            }
            let table = report::render(kind, &rows);
            eprintln!("{table}");
            tables.push(table);
        }
    }
    let (cores, cpu) = cpu_description();
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

// ---- path 1: HTTP ----

fn http_path(
    kind: Kind,
    procedure: &Arc<Procedure>,
    load: Load,
    server_rt: &Runtime,
    client_rt: &Runtime,
) -> anyhow::Result<Stats> {
    on_fresh_db(kind, client_rt, |db| {
        let server = Server::start(&db.url, procedure, server_rt)?;
        let authorization = server.handler_authorization(server_rt)?;
        let url = server.url("/api/v1/complaints");
        let client = http::client(load.clients)?;
        let stats = client_rt.block_on(drive(HTTP_PATH, load, move |c, n| {
            let client = client.clone();
            let url = url.clone();
            let authorization = authorization.clone();
            async move { http::post_complaint(&client, &url, &authorization, c, n).await }
        }));
        let counted = server_rt.block_on(check_count(&server.store, &stats));
        server.stop(server_rt)?;
        counted?;
        Ok(stats)
    })
}

// ---- path 2: store only ----

fn store_path(
    kind: Kind,
    procedure: &Arc<Procedure>,
    load: Load,
    rt: &Runtime,
) -> anyhow::Result<Stats> {
    on_fresh_db(kind, rt, |db| {
        rt.block_on(async {
            let store = Store::connect(&db.url, procedure.clone()).await?;
            store.migrate().await?;
            let procedure = procedure.clone();
            let for_ops = store.clone();
            let stats = drive("store only (no HTTP)", load, move |c, n| {
                let store = for_ops.clone();
                let receive = complaints::receive(&procedure, c, n);
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
        })
    })
}
