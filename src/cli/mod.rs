//! The `dmsim` command line: one module per subcommand.

mod decode;
mod run;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Simulated OMA-DM 1.2 devices and a mock DM server.
#[derive(Parser)]
#[command(name = "dmsim", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run scenario files (or every *.toml under directories) against the embedded mock server.
    ///
    /// Exits 0 when every scenario passes, 1 when any fails, 2 on a bad file or flag.
    Run(run::Args),
    /// Print a captured SyncML message as normalized XML (or JSON); exit 2 if it is malformed.
    Decode(decode::Args),
}

impl Cli {
    /// Carry out the command; the exit code follows each command's documentation.
    pub fn execute(self) -> ExitCode {
        match self.command {
            Command::Run(args) => run::run(args),
            Command::Decode(args) => decode::run(args),
        }
    }
}
