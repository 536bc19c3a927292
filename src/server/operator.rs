//! What decides a device's commands besides the static script: an [`Operator`] (such as a portal
//! with operations pending for devices) sees every message of a device's authenticated sessions
//! and may give more packages once the script's are sent.
//!
//! How the server uses one ([`MockServer::with_operator`](super::MockServer::with_operator); the
//! `session` module calls it):
//! * [`Operator::received`] gets every device message whose SyncHdr passed authentication, as
//!   decoded, after the server recorded it (its Results, Alerts and Statuses are in the session
//!   record by then); messages the server refused (credentials, a session fault on the SyncHdr,
//!   HTTP faults) are not passed on;
//! * once the script's packages for the session are sent, [`Operator::next_package`] is asked for
//!   the next one, and asked again after each package it gave, until it gives `None`, which ends
//!   the session as the end of the script does. Its packages go exactly as script packages do:
//!   CmdIDs from 1, `$SERVER` expanded, counted in `SessionRecord::packages_sent`, an `abort`
//!   ending the session. An empty package counts as `None` (dmsim's choice: a package with no
//!   commands would only make the device answer with nothing, and the operator be asked again
//!   and again).
//! * The answer to a device's update request (200 when the session will act, 202 when not) stays
//!   the script's: an operator's packages are not known in advance.
//!
//! The server calls the operator with its own state locked: an operator must never call back into
//! the server (lock order: server state, then operator).

use super::ScriptCommand;
use crate::syncml::SyncMl;

/// What decides a device's commands besides the static script.
pub trait Operator: Send + Sync {
    /// Every message of an authenticated device session, as decoded, after the server recorded it
    /// (`ordinal` = the device's session count, as `SessionRecord::ordinal`).
    fn received(&self, device: &str, ordinal: u32, msg: &SyncMl);

    /// The next package for `device` in its session `ordinal`, asked once the script's packages
    /// for that session are sent (and again after each operator package, until None).
    fn next_package(&self, device: &str, ordinal: u32) -> Option<Vec<ScriptCommand>>;
}
