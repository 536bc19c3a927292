//! OMA Download OTA 1.0 on the device (reference §7): how a simulated device fetches a package.
//!
//! * [`ContentClient`]: how a device GETs content and POSTs install notifications; the clients
//!   sit with what they reach (`inproc::InProcessContent`, `net::HttpContent`);
//! * [`DownloadAttempt`]: the download agent, a sans-IO state machine from a `PkgURL` to the
//!   object's bytes, with resume, verification, device-side faults and the install notification;
//!   [`download`] drives one attempt through a [`ContentClient`].
//!
//! The formats (descriptors, DL statuses) are [`crate::protocol::download`]; FUMO builds on this
//! agent: it maps a [`DownloadFailure`] to its own result codes.

pub mod agent;
pub mod client;

pub use agent::{
    download, DownloadAction, DownloadAttempt, DownloadFailure, DownloadInput, DownloadOutcome,
    DownloadRequest, NotifyResult, Partial,
};
pub use client::{ContentClient, FetchError};
