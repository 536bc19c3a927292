//! SCOMO 1.0, software component management on the device: the management object and the agent,
//! the engine's second agent ([`crate::engine::Agent`]). A server adds `Download/<p>` with a
//! package's URL and Execs one of its operations; the job fetches a delivery package
//! ([`crate::package::delivery`]) through the download agent, delivers it
//! (`Inventory/Delivered/<d>`), installs its components one per step
//! (`Inventory/Deployed/<c>`, rolled back when one fails), and reports the result in a Generic
//! Alert of type `urn:oma:at:scomo:1.0:OperationComplete`. A device set up to verify and roll back
//! also keeps the components' files, verifies what it installed and returns to the source versions
//! when that fails or the server asks ([`files`], and the job's steps in `verify`). The codes are
//! [`crate::protocol::scomo`], shared with the mock server; the result codes come from the
//! device's profile (`scomo-result`).

pub mod agent;
pub mod files;
mod job;
#[cfg(test)]
mod job_tests;
pub mod mo;
#[cfg(test)]
mod package_tests;
mod verify;
#[cfg(test)]
mod verify_tests;

pub use agent::{
    Delivered, Deployed, ExecWhileBusy, Installed, Job, Phase, RevertReason, Scomo, ScomoConfig,
    ScomoDurable, ScomoRecords, StatusRecord, MAX_ABORTED, TRIAL_ARGUMENT,
};
pub use files::{ComponentFile, FileKind};
pub use job::MAX_DOWNLOAD_ATTEMPTS;
pub use mo::{Area, DEFAULT_ROOT};
