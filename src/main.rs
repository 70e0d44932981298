//! `redress`: parse the command line, run it, report failures as plain sentences.

use std::process::ExitCode;

use clap::Parser;
use redress::cli::{Cli, run};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}
