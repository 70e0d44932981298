//! `redress-bench`: load benchmarks of `redress serve` (BENCHMARKS.md gives the figures and
//! how each was run).
//!
//! ```sh
//! cargo run --release -p redress-bench -- intake --help
//! ```
//!
//! Each subcommand is a module with its `Args` (clap) and `run` (`intake`, `scale`), added to [`Bench`]
//! below. What they share is beside them: `load` drives N concurrent clients for a measured
//! window, `complaints` is the complaint each client records, `http` the in-process server and
//! its client, `database` makes and drops fresh databases, `system` reads CPU time and peak
//! RSS from /proc, `report` writes the tables.

mod complaints;
mod database;
mod http;
mod intake;
mod load;
mod report;
mod scale;
mod system;

/// The same allocator as `redress` itself.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "redress-bench", about = "Load benchmarks of redress serve")]
struct Cli {
    #[command(subcommand)]
    command: Bench,
}

#[derive(Debug, Subcommand)]
enum Bench {
    /// Complaints recorded per second: HTTP against the store alone and bare inserts.
    Intake(intake::Args),
    /// How the reads people wait for grow with the number of complaints (seeded with
    /// `redress seed-data`).
    Scale(scale::Args),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Bench::Intake(args) => intake::run(&args),
        Bench::Scale(args) => scale::run(&args),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// clap's own checks of the command line (duplicate flags, bad defaults).
    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
