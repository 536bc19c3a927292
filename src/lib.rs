//! dmsim: simulated OMA-DM 1.2 device clients with fault injection, and a scriptable mock DM server.
//!
//! The crate is layered as data flows through it (see `README.md`):
//! [`syncml`] is the wire, [`tree`] the device's management tree, [`device`] one simulated device
//! (its user, its command processing), [`session`] the client session as a sans-IO state machine
//! with a thin async driver, [`transport`] moves its messages, [`server`] is the embedded mock DM
//! server, [`faults`] says what goes wrong and when, and [`scenario`] reads scenario files, runs them
//! and reports what was observed. [`net`] puts sessions on real sockets: an HTTP(S) transport for
//! devices and a network front end for the mock server. [`download`] is OMA Download OTA 1.0: how a
//! device fetches a package (descriptors, resume, install notifications) for FUMO.
//! [`package`] is the simulated firmware update package format, [`firmware`] a device's A/B slots
//! and installer, [`fumo`] the firmware update management object and its agent, and [`storage`]
//! the durable state that survives a simulated power loss.

#![forbid(unsafe_code)]

pub mod device;
pub mod download;
pub mod faults;
pub mod firmware;
pub mod fumo;
pub mod inproc;
pub mod jobs;
pub mod net;
pub mod package;
pub mod protocol;
pub mod scenario;
pub mod server;
pub mod session;
pub mod storage;
pub mod syncml;
pub mod transport;
pub mod tree;
