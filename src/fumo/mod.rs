//! FUMO 1.0, firmware update management on the device: the management object and the agent, the
//! first agent of the engine ([`crate::engine::Agent`]). Its job is a sans-IO state machine (built
//! on the download agent and the package installer) that makes up the update flows. A device holds
//! its agents; [`crate::jobs`], above the device, runs a job through those steps with the
//! download's I/O and the device's saves in between. The codes are
//! [`crate::protocol::fumo`], shared with the mock server.

pub mod agent;
mod job;
#[cfg(test)]
mod job_tests;
pub mod mo;

pub use agent::{Fumo, FumoConfig, FumoDurable, FumoRecords, Job, Phase};
