//! FUMO 1.0, firmware update management on the device: the management object and (built on the
//! download agent, the package installer and durable state) the update flows. Its codes are
//! [`crate::protocol::fumo`], shared with the mock server.

pub mod agent;
pub mod driver;
pub mod mo;

pub use agent::{Fumo, FumoConfig, FumoDurable, FumoRecords, Job, Phase};
pub use driver::{run_job, JobError};
