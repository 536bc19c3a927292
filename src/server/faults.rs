//! Faults of the mock server's DM sessions (`[[server.session_fault]]` in scenarios): the server
//! fails a session of a device the way a real one does, so the device's handling of a failed
//! session (and what it reports of it) can be tested.
//!
//! A fault applies to one session of each device, its `session`th attempt (counted from 1 over
//! every session the device opened on this server, those that failed included: unlike the
//! script's [`super::SessionChoice`], which counts the sessions a device got through), from its
//! `message`th device message on (counted from 1):
//! * [`SessionFaultKind::RefuseCredentials`]: the server refuses the device's credentials,
//!   whatever they are, as if it held another secret (401 with a Chal, reference §2; after the
//!   failures allowed, Alert 1223: see the `session` module). It needs a server that
//!   authenticates devices: without one there is nothing to refuse, and the fault never fires;
//! * [`SessionFaultKind::HttpStatus`]: the server answers the message with that HTTP status and
//!   a text body, no SyncML (500: the server failed). It reads the message and checks it against
//!   the protocol as always, but keeps nothing of its commands, and the session is over for it;
//! * [`SessionFaultKind::HdrStatus`]: the server answers the device's SyncHdr with that Status
//!   (a 5xx: it could not process the message), every command of the message with it too, and
//!   Final, without authenticating the device (so the nonces of both sides stay as they were);
//!   the session is over for it;
//! * [`SessionFaultKind::Slow`]: the server answers the message that late. The HTTP front end
//!   waits before it answers, so an HTTP client's request timeout fires; the in-process transport
//!   waits on tokio's clock (simulated under paused time) with the same timeout
//!   ([`crate::inproc::InProcess`]). The server processed the message as always: only its
//!   answer is late.
//!
//! [`MockServer::session_faults_fired`](super::MockServer::session_faults_fired) says how often
//! each fault changed an answer.

use crate::syncml::StatusCode;
use std::time::Duration;

/// One fault of the server's sessions (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionFault {
    /// The device's session attempt it applies to, from 1.
    pub session: u32,
    /// The device message of that session it applies from, from 1.
    pub message: u32,
    pub kind: SessionFaultKind,
}

/// What the server does wrong (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionFaultKind {
    RefuseCredentials,
    HttpStatus(u16),
    HdrStatus(StatusCode),
    Slow(Duration),
}

impl SessionFault {
    /// Whether the fault applies to device message `message` of the device's session `attempt`.
    pub(super) fn applies(&self, attempt: u32, message: u32) -> bool {
        self.session == attempt && message >= self.message
    }
}

/// A DM answer of the mock server, and how late to send it ([`SessionFaultKind::Slow`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub response: crate::protocol::http::HttpResponse,
    /// Send the response this late (`None`: at once).
    pub delay: Option<Duration>,
}
