//! FUMO 1.0, firmware update management: the management object, its codes, and (built on the
//! download agent, the package installer and durable state) the update flows.

mod codes;
pub mod mo;

pub use codes::{bare_alert_type, FumoResult, FumoState, Operation, DEVICE_REQUEST, USER_REQUEST};
