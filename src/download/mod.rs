//! OMA Download OTA 1.0: how a simulated device fetches a package (reference §7).
//!
//! * [`DlStatus`]: the install-notify status codes 900–954 and their status lines;
//! * [`Descriptor`]: Download Descriptors (`application/vnd.oma.dd+xml`), parsed, validated,
//!   checked against what the device offers, and written back for the mock server to host.

pub mod descriptor;
pub mod status;

pub use descriptor::{
    Descriptor, DescriptorError, DescriptorProblem, DeviceLimits, ExpectedHash, HashAlgorithm,
    DD_CONTENT_TYPE, DD_NAMESPACE,
};
pub use status::DlStatus;
