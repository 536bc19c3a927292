//! The `dmsim` command line: one module per subcommand.

mod certs;
mod codes;
mod conform;
mod decode;
mod device;
mod package;
mod run;
mod serve;

use clap::{Parser, Subcommand};
use std::ffi::OsStr;
use std::process::ExitCode;

/// Whether the log on standard error gets ANSI colours: only when it goes to a terminal, and not
/// when `NO_COLOR` is set to anything but the empty string (<https://no-color.org>).
pub fn colour(terminal: bool, no_color: Option<&OsStr>) -> bool {
    terminal && no_color.is_none_or(OsStr::is_empty)
}

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
    /// Print a captured SyncML message (XML or WBXML) as normalized XML (or JSON).
    ///
    /// Exits 2 if the message is malformed, naming the position of the problem.
    Decode(decode::Args),
    /// Turn an XML SyncML message into WBXML (--wbxml) or normalized XML.
    Encode(decode::EncodeArgs),
    /// Serve the mock DM server on a socket (HTTPS by default) for DM clients that are not dmsim's.
    ///
    /// Runs until Ctrl-C, then prints a summary of the sessions it saw (ended, or cut by the
    /// shutdown) and of the TLS handshakes it refused. Exits 2 on a bad flag or an unusable file
    /// (certificate, key, script).
    Serve(serve::Args),
    /// Run one simulated device against a DM server URL (any server, or `dmsim serve`), printing
    /// every message.
    ///
    /// Exits 0 when every session completed and every FUMO job succeeded, 1 when one did not, 2 on
    /// a bad flag (a --server that is not an http(s) URL) or an unusable file. With --profile
    /// snom-m3, a Snom m3 base updates from the firmware folder of --server to --version, printing
    /// each display code: exits 0 on Code 0, 1 on another code, 2 on a bad flag.
    Device(Box<device::Args>),
    /// Check a DM server's conformance: a battery of device sessions (XML and WBXML, with the
    /// device's credentials and without), every server message checked, a verdict per check.
    ///
    /// Exits 0 when no check fails, 1 when one fails (or nothing could be checked), 2 on a bad
    /// flag or an unusable file (--allow, --ca).
    Conform(Box<conform::Args>),
    /// Generate a test PKI (CA, server and device certificates) as PEM files.
    ///
    /// For tests only: the keys are not secret. Exits 2 when the files cannot be written.
    Certs(certs::Args),
    /// Build a simulated firmware update package, or a delivery package of software components
    /// (--delivery), valid or broken with --defect; or inspect one (--inspect) as a device would.
    ///
    /// Building exits 0, or 2 on a bad flag or file. Inspecting exits 0 when the device (--model
    /// running --current for a firmware package, --env-types for a delivery package) would install
    /// the package, 1 when it would refuse it (printing the reason and its result code), 2 on a
    /// bad flag or an unreadable file.
    Package(Box<package::Args>),
    /// Print every code of every profile (code, table, meaning, the outcomes that produce it), with
    /// the faults and scenarios that produce it, measured by running the scenario suite.
    ///
    /// Exits 0, or 2 on a bad flag or scenario file.
    Codes(codes::CodesArgs),
    /// Print every fault point with each effect it takes, and every content fault, with the codes
    /// each produces and an example scenario, measured by running the suite without each rule.
    ///
    /// Exits 0, or 2 on a bad flag or scenario file.
    Faults(codes::FaultsArgs),
}

impl Cli {
    /// The log level when `RUST_LOG` is not set.
    pub fn default_log_level(&self) -> &'static str {
        match self.command {
            Command::Serve(_) => "info",
            // Scenarios make things fail on purpose; their reports say what happened.
            Command::Run(_) | Command::Codes(_) | Command::Faults(_) => "error",
            _ => "warn",
        }
    }

    /// Carry out the command; the exit code follows each command's documentation.
    pub fn execute(self) -> ExitCode {
        match self.command {
            Command::Run(args) => run::run(args),
            Command::Decode(args) => decode::run(args),
            Command::Encode(args) => decode::encode(args),
            Command::Serve(args) => serve::run(args),
            Command::Device(args) => device::run(*args),
            Command::Conform(args) => conform::run(*args),
            Command::Certs(args) => certs::run(args),
            Command::Package(args) => package::run(*args),
            Command::Codes(args) => codes::codes(args),
            Command::Faults(args) => codes::faults(args),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(colour(true, None));
        assert!(colour(true, Some(OsStr::new(""))));
        assert!(!colour(true, Some(OsStr::new("1"))));
        assert!(!colour(false, None));
        assert!(!colour(false, Some(OsStr::new(""))));
    }
}
