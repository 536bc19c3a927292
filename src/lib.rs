//! dmsim: simulated OMA-DM 1.2 device clients with fault injection, and a scriptable mock DM server.
//!
//! The crate is layered as data flows through it (see `README.md`):
//! [`syncml`] is the wire, [`tree`] the device's management tree, [`session`] the client session as a
//! sans-IO state machine, [`transport`] moves its messages, [`server`] is the embedded mock DM server,
//! and [`scenario`] reads scenario files, runs them and reports what was observed.

pub mod syncml;
pub mod tree;
