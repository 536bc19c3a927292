//! Scenario files: reading them ([`load`]), running them ([`run`]), what they observed
//! ([`observe`]) and the reports ([`report`]).

pub mod load;
pub mod model;
pub mod observe;
pub mod report;
pub mod run;

pub use load::{discover, load, LoadError, LoadedScenario};
pub use observe::Observation;
pub use run::{ScenarioResult, Verdict};

/// Run scenarios one after the other under paused (simulated) tokio time, on one runtime.
pub fn run_all(scenarios: &[LoadedScenario]) -> std::io::Result<Vec<ScenarioResult>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()?;
    Ok(scenarios
        .iter()
        .map(|s| runtime.block_on(run::run(s)))
        .collect())
}
