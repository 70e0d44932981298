//! The command line: parses arguments and runs one subcommand.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use redress_core::Procedure;
use redress_core::procedure::MAX_PROCEDURE_BYTES;

use crate::simulate::{MAX_SCENARIO_BYTES, Scenario};

#[derive(Debug, Parser)]
#[command(
    name = "redress",
    version,
    about = "Complaints handling for UK communications providers"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Commands,
}

#[derive(Debug, Subcommand)]
pub enum Commands {
    /// Run a dated scenario through the real core on a virtual clock; prints JSON lines.
    Simulate {
        /// The scenario file (JSON).
        scenario: PathBuf,
    },
    /// Work with procedure files.
    Procedure {
        #[command(subcommand)]
        command: ProcedureCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProcedureCommand {
    /// Check a procedure file and list every problem with its field and line.
    Check {
        /// The procedure file (TOML), or `default` for the built-in procedure.
        file: String,
    },
}

/// Reads a whole file, refusing one larger than `limit` bytes.
fn read_limited(path: &Path, limit: usize) -> anyhow::Result<String> {
    let metadata =
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if metadata.len() > limit as u64 {
        anyhow::bail!("{} is larger than {limit} bytes", path.display());
    }
    std::fs::read_to_string(path)
        .with_context(|| format!("cannot read {} as UTF-8 text", path.display()))
}

/// Loads `default` (the built-in procedure) or a procedure file.
pub fn load_procedure(name: &str) -> anyhow::Result<Procedure> {
    if name == "default" {
        return Ok(Procedure::default_procedure());
    }
    let text = read_limited(Path::new(name), MAX_PROCEDURE_BYTES)?;
    Procedure::from_toml(&text).map_err(|errors| anyhow::anyhow!("{name}: {errors}"))
}

/// Runs the command line; errors are printed by `main` as plain sentences.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Commands::Simulate { scenario } => simulate(&scenario),
        Commands::Procedure {
            command: ProcedureCommand::Check { file },
        } => check(&file),
    }
}

fn simulate(path: &Path) -> anyhow::Result<ExitCode> {
    let text = read_limited(path, MAX_SCENARIO_BYTES)?;
    let scenario = Scenario::parse(&text)?;
    for ignored in &scenario.ignored {
        eprintln!("warning: {ignored} is not used by this command and was ignored");
    }
    // A relative procedure path is read relative to the scenario file.
    let procedure_name =
        if scenario.procedure == "default" || Path::new(&scenario.procedure).is_absolute() {
            scenario.procedure.clone()
        } else {
            let base = path.parent().unwrap_or(Path::new("."));
            let beside = base.join(&scenario.procedure);
            if beside.exists() {
                beside.display().to_string()
            } else {
                scenario.procedure.clone()
            }
        };
    let procedure =
        load_procedure(&procedure_name).context("invalid scenario: field `procedure`")?;
    let lines = scenario.run(&procedure)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for line in lines {
        serde_json::to_writer(&mut out, &line)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn check(file: &str) -> anyhow::Result<ExitCode> {
    let text = if file == "default" {
        redress_core::procedure::DEFAULT_PROCEDURE_TOML.to_owned()
    } else {
        read_limited(Path::new(file), MAX_PROCEDURE_BYTES)?
    };
    match Procedure::from_toml(&text) {
        Ok(p) => {
            println!(
                "{file}: valid procedure '{}' for {} ({} rule version{})",
                p.version,
                p.organisation.name,
                p.rules.len(),
                if p.rules.len() == 1 { "" } else { "s" }
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(errors) => {
            eprint!("{file}: {errors}");
            Ok(ExitCode::FAILURE)
        }
    }
}
