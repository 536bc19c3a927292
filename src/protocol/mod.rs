//! Protocol formats both ends share, besides the SyncML messages themselves ([`crate::syncml`]).
//!
//! * [`http`]: the HTTP exchanges of DM sessions and of content downloads, as plain data.
//!
//! Nothing here does IO or keeps state: a device's agents and the mock server both build on these
//! types, and neither side's behaviour lives here.

pub mod http;
