//! Scenario files: reading them ([`load()`], into the [`model`]), running them ([`run`]), what they
//! observed ([`observe`]), the reports ([`report`]) and the raw messages of a run ([`capture`]).
//!
//! Running one scenario, file by concern:
//! * `device` builds the device the scenario describes ([`build_device`]), `server` the mock
//!   server ([`mock_server`], [`server_config`]), [`updates`] what that server hosts;
//! * `sessions` runs the device's sessions over a transport, in-process or (`network`) over
//!   loopback HTTP(S), and `between` the device's work between two sessions (its FUMO job);
//!   `state` says where the device keeps its durable state;
//! * [`portal_spec`] reads a scenario's `[portal]` (the Knox E-FOTA portal the server plays, and the
//!   calls to its REST API), and [`portal_calls`] makes those calls at their moments of the run,
//!   checks the answers and shows them in the transcript;
//! * `expect` checks the expectations against what happened;
//! * `transcript` renders the sessions for people ([`render_transcript`], [`render_report`]).
//!
//! [`coverage`] runs a suite with and without each fault rule to tell which scenario proves which
//! code of a profile, and what each fault produces (`dmsim codes`, `dmsim faults`).

mod between;
pub mod capture;
pub mod coverage;
mod device;
mod error;
mod expect;
pub mod family;
pub mod load;
pub mod model;
mod network;
pub mod observe;
pub mod portal_calls;
pub mod portal_spec;
pub mod report;
pub mod run;
pub mod scomo;
mod server;
pub mod session_faults;
mod sessions;
pub mod snom;
mod state;
mod transcript;
pub mod updates;

pub use device::build_device;
pub use error::{BuildError, RunError};
pub use load::{discover, load, LoadError, LoadedScenario};
pub use model::TransportKind;
pub use network::NetworkEnv;
pub use observe::{Observation, WireCounts, WireSummary};
pub use run::{RunEnv, ScenarioResult, Verdict};
pub use server::{mock_server, portal_config, server_and_portal, server_config};
pub use transcript::{render_exchange, render_report, render_transcript};

use crate::syncml::Encoding;
use std::path::PathBuf;

/// How a run reaches its servers.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The transport of scenarios that do not name one.
    pub transport: TransportKind,
    /// The directory of the test PKI for HTTPS (`ca.pem`, `server.pem`, …); `None` for the one
    /// built into the binary (the repository's `certs/`), which works from any directory.
    pub certs: Option<PathBuf>,
    /// Make every device speak this encoding, whatever its scenario says.
    pub encoding: Option<Encoding>,
    /// Keep device state in files here (one directory per scenario); in memory when `None`.
    pub state_dir: Option<PathBuf>,
}

impl Default for RunOptions {
    fn default() -> RunOptions {
        RunOptions {
            transport: TransportKind::InProcess,
            certs: None,
            encoding: None,
            state_dir: None,
        }
    }
}

/// Run scenarios one after the other: in-process ones under paused (simulated) tokio time, network
/// ones on a runtime with real time and IO. One runtime of each kind serves the whole run.
pub fn run_all(
    scenarios: &[LoadedScenario],
    options: &RunOptions,
) -> std::io::Result<Vec<ScenarioResult>> {
    let simulated = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()?;
    let mut real: Option<tokio::runtime::Runtime> = None;
    let env = RunEnv {
        transport: options.transport,
        encoding: options.encoding,
        network: NetworkEnv::new(options.certs.clone()),
        state_dir: options.state_dir.clone(),
    };
    let mut results = Vec::with_capacity(scenarios.len());
    for s in scenarios {
        let kind = s.file.transport.kind.unwrap_or(options.transport);
        let result = if kind == TransportKind::InProcess {
            simulated.block_on(run::run(s, &env))
        } else {
            let runtime = match real.take() {
                Some(r) => r,
                None => tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?,
            };
            let result = runtime.block_on(run::run(s, &env));
            real = Some(runtime);
            result
        };
        results.push(result);
    }
    Ok(results)
}
