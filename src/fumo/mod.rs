//! FUMO 1.0, firmware update management: the management object, its codes, and (built on the
//! download agent, the package installer and durable state) the update flows.

pub mod agent;
mod codes;
pub mod driver;
pub mod mo;

pub use agent::{Fumo, FumoConfig, FumoDurable, FumoRecords, Job, Phase};
pub use codes::{
    bare_alert_type, is_result_alert_type, reported_result, FumoResult, FumoState, Operation,
    DEVICE_REQUEST, USER_REQUEST,
};
pub use driver::{run_job, JobError};
