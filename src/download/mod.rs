//! OMA Download OTA 1.0: how a simulated device fetches a package (reference §7).
//!
//! * [`DlStatus`]: the install-notify status codes 900–954 and their status lines;
//! * [`Descriptor`]: Download Descriptors (`application/vnd.oma.dd+xml`), parsed, validated,
//!   checked against what the device offers, and written back for the mock server to host;
//! * [`ContentClient`]: how a device GETs content and POSTs install notifications, in-process
//!   against the [`MockServer`](crate::server::MockServer) or over HTTP(S);
//! * [`download`]: the download agent, from a `PkgURL` to the object's bytes, with resume,
//!   verification, device-side faults and the install notification.
//!
//! FUMO builds on this: it maps a [`DownloadFailure`] to its own result codes.

pub mod agent;
pub mod client;
pub mod descriptor;
pub mod status;

pub use agent::{
    download, DownloadFailure, DownloadOutcome, DownloadRequest, NotifyResult, Partial,
};
pub use client::{ContentClient, FetchError, HttpContent, InProcessContent};
pub use descriptor::{
    Descriptor, DescriptorError, DescriptorProblem, DeviceLimits, ExpectedHash, HashAlgorithm,
    DD_CONTENT_TYPE, DD_NAMESPACE,
};
pub use status::DlStatus;
