//! Protocol formats both ends share, besides the SyncML messages themselves ([`crate::syncml`]).
//!
//! * [`http`]: the HTTP exchanges of DM sessions and of content downloads, as plain data;
//! * [`dns`]: DNS messages (RFC 1035 §4.1), for a device that looks its server's name up itself
//!   (the Snom m3 base);
//! * [`download`]: OMA Download OTA 1.0, Download Descriptors and install-notify statuses;
//! * [`efota`]: the report a Knox E-FOTA client sends its own codes in (dmsim's channel);
//! * [`fumo`]: FUMO 1.0 codes: the State values, the result codes and the Generic Alert types
//!   that report them;
//! * [`scomo`]: SCOMO 1.0 codes: the Status and State values of its nodes, the result codes, the
//!   operations and the Generic Alert that reports them.
//!
//! Nothing here does IO or keeps state: a device's agents and the mock server both build on these
//! types, and neither side's behaviour lives here.

pub mod dns;
pub mod download;
pub mod efota;
pub mod fumo;
pub mod http;
pub mod scomo;
