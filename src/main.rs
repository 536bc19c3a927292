//! The `dmsim` command line.

use anyhow::Context;
use clap::{Parser, Subcommand};
use dmsim::scenario::{self, report};
use std::path::PathBuf;
use std::process::ExitCode;

/// Simulated OMA-DM 1.2 devices and a mock DM server.
#[derive(Parser)]
#[command(name = "dmsim", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run scenario files (or every *.toml under directories) against the embedded mock server.
    ///
    /// Exits 0 when every scenario passes, 1 when any fails, 2 on a bad file or flag.
    Run {
        /// Scenario files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Write the JSON report (what was observed) to this file.
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
        /// Write a JUnit XML report to this file.
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
        /// Only print failures and the totals.
        #[arg(long, short)]
        quiet: bool,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Run {
            paths,
            json,
            junit,
            quiet,
        } => run(&paths, json, junit, quiet),
    }
}

fn run(paths: &[PathBuf], json: Option<PathBuf>, junit: Option<PathBuf>, quiet: bool) -> ExitCode {
    let loaded = match scenario::discover(paths).and_then(|files| {
        files
            .iter()
            .map(|f| scenario::load(f))
            .collect::<Result<Vec<_>, _>>()
    }) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("dmsim: {e}");
            return ExitCode::from(2);
        }
    };
    let outcome = scenario::run_all(&loaded)
        .context("cannot start the runtime")
        .and_then(|results| {
            if let Some(path) = &json {
                std::fs::write(path, report::json(&results))
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
            if let Some(path) = &junit {
                std::fs::write(path, report::junit(&results))
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
            Ok(results)
        });
    let results = match outcome {
        Ok(r) => r,
        Err(e) => {
            eprintln!("dmsim: {e:#}");
            return ExitCode::from(2);
        }
    };
    let text = report::human(&results);
    if quiet {
        for line in text.lines().filter(|l| !l.starts_with("PASS")) {
            println!("{line}");
        }
    } else {
        print!("{text}");
    }
    if report::Summary::of(&results).all_passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
