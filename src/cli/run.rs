//! `dmsim run`: scenario files in, a summary, JSON and JUnit reports out.

use anyhow::Context;
use dmsim::scenario::{self, report, RunOptions, TransportKind};
use dmsim::syncml::Encoding;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
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
    /// How devices reach the mock server, for scenarios that do not name a transport: in-process
    /// (no sockets, simulated time), or a real loopback socket with http or https.
    #[arg(long, value_enum, default_value = "in-process")]
    transport: TransportArg,
    /// Make every device speak this encoding, whatever its scenario says.
    #[arg(long, value_enum)]
    encoding: Option<EncodingArg>,
    /// Directory of the test PKI used for https (ca.pem, server.pem, client.pem, …) [default: the
    /// test PKI built into dmsim, the certs/ of its repository, whatever the working directory].
    #[arg(long, value_name = "DIR")]
    certs: Option<PathBuf>,
    /// Keep each device's durable state (firmware slots, FUMO state, downloads, pending reports)
    /// in files under this directory, one subdirectory per scenario, cleared when the scenario
    /// starts; by default it is kept in memory.
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
    /// Write every message exchanged, raw, under this directory: one subdirectory per scenario,
    /// one file per message (`001-device.xml`, `002-server.xml`, …).
    #[arg(long, value_name = "DIR")]
    capture: Option<PathBuf>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum EncodingArg {
    Xml,
    Wbxml,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum TransportArg {
    InProcess,
    Http,
    Https,
}

pub fn run(args: Args) -> ExitCode {
    let loaded = match scenario::discover(&args.paths).and_then(|files| {
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
    let options = RunOptions {
        transport: match args.transport {
            TransportArg::InProcess => TransportKind::InProcess,
            TransportArg::Http => TransportKind::Http,
            TransportArg::Https => TransportKind::Https,
        },
        certs: args.certs.clone(),
        encoding: args.encoding.map(|e| match e {
            EncodingArg::Xml => Encoding::Xml,
            EncodingArg::Wbxml => Encoding::Wbxml,
        }),
        state_dir: args.state_dir.clone(),
    };
    let outcome = scenario::run_all(&loaded, &options)
        .context("cannot start the runtime")
        .and_then(|results| {
            write_reports(&args, &results)?;
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
    if args.quiet {
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

fn write_reports(args: &Args, results: &[scenario::ScenarioResult]) -> anyhow::Result<()> {
    if let Some(path) = &args.json {
        std::fs::write(path, report::json(results))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(path) = &args.junit {
        std::fs::write(path, report::junit(results, &args.paths))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(dir) = &args.capture {
        scenario::capture::write(dir, results).context("cannot write the capture")?;
    }
    Ok(())
}
