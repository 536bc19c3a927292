//! FUMO 1.0, firmware update management on the device: the management object and the agent, whose
//! pure transitions (built on the download agent and the package installer) make up the update
//! flows. A device holds its agent; [`crate::jobs`], above the device, runs a job through those
//! transitions with the download's I/O and the device's saves in between. The codes are
//! [`crate::protocol::fumo`], shared with the mock server.

pub mod agent;
pub mod mo;

pub use agent::{Fumo, FumoConfig, FumoDurable, FumoRecords, Job, Phase};
