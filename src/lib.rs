//! dmsim: simulated OMA-DM 1.2 device clients with fault injection, and a scriptable mock DM server.
//!
//! # Layout
//!
//! Messages go device → session → transport → server and back (see `README.md`). The modules are
//! layered so that each imports only modules below it:
//!
//! * **At the bottom**, `codes` (private): the macro that declares the enums of code tables and
//!   names ([`syncml::StatusCode`], [`faults::FaultPoint`]…), which the formats and [`faults`]
//!   use.
//! * **Formats**, pure and shared by both ends: [`syncml`] is the wire (SyncML DM messages, XML and
//!   WBXML codecs, credentials, Package #0, Generic Alerts); [`protocol`] holds the other formats
//!   both ends agree on (the HTTP exchanges, OMA Download descriptors and statuses, FUMO codes, DNS messages);
//!   [`package`] is the simulated package format (firmware, and delivery packages of software
//!   components) and the files a Snom m3 base fetches (`DirList.txt`, `.fwu`); [`faults`] names what can go wrong and when; [`tree`] is the DM tree (nodes,
//!   ACLs, the standard objects built from templates).
//! * **Outcomes and profiles**: [`outcome`] says how an update flow ended (operation, phase, cause,
//!   what was rolled back) without choosing a code; [`profile`] turns outcomes into the codes a
//!   device reports, from the files in `profiles/` (`oma`, and `dmsim`'s vendor codes on top).
//! * **The device side**: the agents and what they stand on: [`storage`] (durable state that
//!   survives a simulated power loss), [`firmware`] (A/B slots and the installer), [`download`]
//!   (the OMA Download agent, a sans-IO state machine, and the content-client trait it fetches
//!   through), [`engine`] (the trait every management-object agent implements: the nodes it owns,
//!   its answers to Exec and Replace, its job as a sans-IO state machine, its durable state and its
//!   reports), [`fumo`] (the FUMO object and agent, the engine's first agent, its nodes placed by a
//!   layout), [`scomo`] (the SCOMO object and agent, the second: software components delivered
//!   and deployed), [`efota`] (the Samsung Knox E-FOTA client of a `knox-efota` device: its own
//!   subtree, and every operation's ending reported again in E-FOTA codes), [`snom`] (the Snom m3
//!   DECT base station, a family of its own beside the DM devices: its firmware update over HTTP,
//!   its name lookup by DNS, its display codes); then [`device`], one simulated device holding a list of agents; [`transport`], the
//!   trait a session's messages go through; [`session`], the client session as a sans-IO state
//!   machine with a thin async driver; and [`jobs`], which runs what a session left a device's
//!   agents to do (a FUMO download and update), carrying out their steps' actions: downloads,
//!   saves, reboots, waits on the device's clock, reports.
//! * **The server side**: [`server`], the embedded mock DM server with its content hosting. It
//!   shares only formats with the device side. [`portal`], the mock Knox E-FOTA portal: a REST API
//!   beside the DM endpoint and the operator that decides what the server sends each device.
//! * **Joining the sides**: [`inproc`] in one process (no sockets, simulated time), [`net`] over
//!   HTTP(S) on real sockets (and the mock server's network front end).
//! * **On top**: [`scenario`] reads scenario files, wires devices to servers, runs them and reports
//!   what was observed; [`conform`] runs a battery of device sessions against a server and checks
//!   every server message against its catalogue; the `dmsim` binary's `cli` sits on all of it.
//!
//! The transport trait sits below the session because the session's driver sends through it (as
//! the content-client trait sits below the download agent); the implementations of both traits
//! join the two sides, so they live in [`inproc`] and [`net`].
//!
//! # Allowed imports
//!
//! Each row names the modules its module may import (`crate::…` paths, in `use` lines or inline);
//! every one of them has a row further up, so the graph has no cycles.
//!
//! | module | may import |
//! | --- | --- |
//! | `codes` | |
//! | `syncml` | `codes` |
//! | `outcome` | `codes` |
//! | `faults` | `codes` |
//! | `package` | `outcome` |
//! | `protocol` | `codes`, `syncml`, `outcome` |
//! | `profile` | `syncml`, `outcome`, `protocol` |
//! | `tree` | `syncml` |
//! | `storage` | `package` |
//! | `firmware` | `faults`, `outcome`, `package` |
//! | `download` | `faults`, `outcome`, `protocol`, `profile` |
//! | `engine` | `syncml`, `faults`, `outcome`, `protocol`, `profile`, `tree`, `download` |
//! | `fumo` | `syncml`, `faults`, `outcome`, `package`, `protocol`, `profile`, `tree`, `firmware`, `download`, `engine` |
//! | `scomo` | `syncml`, `faults`, `outcome`, `package`, `protocol`, `profile`, `tree`, `download`, `engine` |
//! | `efota` | `syncml`, `faults`, `outcome`, `package`, `protocol`, `profile`, `tree`, `download`, `engine` |
//! | `snom` | `faults`, `outcome`, `package`, `protocol`, `profile`, `storage`, `firmware`, `download` |
//! | `device` | `syncml`, `faults`, `outcome`, `package`, `protocol`, `profile`, `tree`, `storage`, `firmware`, `download`, `engine`, `fumo`, `scomo`, `efota` |
//! | `transport` | `protocol` |
//! | `session` | `syncml`, `protocol`, `tree`, `device`, `transport` |
//! | `jobs` | `syncml`, `faults`, `outcome`, `package`, `protocol`, `profile`, `storage`, `firmware`, `download`, `engine`, `fumo`, `scomo`, `efota`, `device` |
//! | `server` | `syncml`, `package`, `protocol`, `tree` |
//! | `portal` | `syncml`, `protocol`, `profile`, `tree`, `server` |
//! | `inproc` | `protocol`, `transport`, `download`, `snom`, `server` |
//! | `net` | `syncml`, `protocol`, `transport`, `download`, `snom`, `server` |
//! | `scenario` | everything above |
//! | `conform` | everything above |
//! | `cli` (the binary) | everything above |
//!
//! `tests/layers.rs` enforces the table: it reads every `crate::` path of the code under `src/`
//! (and the binary's `dmsim::` paths), leaving comments and string literals aside, and fails naming
//! the file, the line and the forbidden import. Two things are not imports and may point anywhere:
//! doc links, and the files of test-only modules (a file whose `mod` declaration carries
//! `#[cfg(test)]`, such as `session/tests.rs` or `device/atomic_tests.rs`, and everything below
//! it), which build devices from scenario text and run sessions against the mock server. Unit tests
//! written inline (`#[cfg(test)] mod tests { … }`) obey the table like the code around them: a
//! test that needs a higher layer goes in a test file of its own.

#![forbid(unsafe_code)]

mod codes;
pub mod conform;
pub mod device;
pub mod download;
pub mod efota;
pub mod engine;
pub mod faults;
pub mod firmware;
pub mod fumo;
pub mod inproc;
pub mod jobs;
pub mod net;
pub mod outcome;
pub mod package;
pub mod portal;
pub mod profile;
pub mod protocol;
pub mod scenario;
pub mod scomo;
pub mod server;
pub mod session;
pub mod snom;
pub mod storage;
pub mod syncml;
pub mod transport;
pub mod tree;
