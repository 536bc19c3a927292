//! The jobs a device runs between sessions, above the device and its agents: a session leaves a
//! job with an agent (a FUMO Exec accepted with 202), and [`run_job`] runs it to its end on the
//! [`Device`](crate::device::Device), saving the device's durable state after every step and
//! rebooting it when the power goes.
//!
//! The agents' state machines sit below the device (the device holds them); what steps them
//! against a device, its content client and its store sits here, so neither the agents nor the
//! device import the other's driver.

mod fumo;

pub use fumo::{run_job, JobError, MAX_BOOTS_PER_RUN};
