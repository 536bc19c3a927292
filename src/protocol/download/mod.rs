//! OMA Download OTA 1.0 formats (reference §7): what a device and a download server agree on.
//!
//! * [`Descriptor`]: Download Descriptors (`application/vnd.oma.dd+xml`), parsed, validated,
//!   checked against what a device offers ([`DeviceLimits`]), and written back for a server to
//!   host;
//! * [`DlStatus`]: the install-notify status codes 900–954 and their status lines.
//!
//! The device's download agent ([`crate::download`]) and the mock server's content hosting
//! ([`crate::server::content`]) both build on these.

mod descriptor;
mod status;

pub(crate) use descriptor::essence;
pub use descriptor::{
    Descriptor, DescriptorError, DescriptorProblem, DeviceLimits, ExpectedHash, HashAlgorithm,
    DD_CONTENT_TYPE, DD_NAMESPACE,
};
pub use status::DlStatus;
