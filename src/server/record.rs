//! What the mock server saw of each session: the statuses, results and alerts a device sent; and
//! the requests it refused before it could tie them to a session.
//!
//! Expectations and reports read these records; they are built from the decoded messages, never
//! from the script or the expectations.

use crate::syncml::{AlertCode, CmdName, Item, StatusCode};
use crate::transport::{HttpRequest, HttpResponse};

/// A Status a device sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedStatus {
    pub cmd: CmdName,
    pub cmd_ref: String,
    pub msg_ref: String,
    pub code: StatusCode,
    pub target_ref: Option<String>,
    pub source_ref: Option<String>,
    /// Items of the Status (typed text and choices of UI alerts).
    pub items: Vec<Item>,
}

/// An Alert a device sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedAlert {
    pub code: AlertCode,
    pub correlator: Option<String>,
    pub items: Vec<Item>,
}

/// One message exchange as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerExchange {
    pub request: HttpRequest,
    pub response: HttpResponse,
}

/// One device session as the server saw it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionRecord {
    pub device: String,
    pub session_id: String,
    pub statuses: Vec<ReceivedStatus>,
    /// Items of every Results the device sent.
    pub results: Vec<Item>,
    pub alerts: Vec<ReceivedAlert>,
    /// The DevInfo items of Package 1.
    pub devinfo: Vec<Item>,
    pub client_authenticated: bool,
    /// Protocol rules the device broke, as the server saw them.
    pub violations: Vec<String>,
    pub ended: bool,
    pub exchanges: Vec<ServerExchange>,
}

/// The FUMO result codes of the Generic Alerts the server received in `records`, in order.
pub fn fumo_results(records: &[SessionRecord]) -> Vec<u16> {
    records
        .iter()
        .flat_map(|r| &r.alerts)
        .flat_map(|a| &a.items)
        .filter_map(|i| crate::fumo::reported_result(i).map(|(_, code)| code))
        .collect()
}

/// How many refused requests [`RefusedRequests`] keeps; later ones are only counted.
pub const MAX_REFUSED_KEPT: usize = 64;

/// Requests the server refused before it could tie them to a session (a body that is not what its
/// Content-Type says, a Content-Type that is not SyncML, a message that does not decode): each is
/// a protocol rule a device broke. Bounded: the first [`MAX_REFUSED_KEPT`] are kept, the rest
/// counted in `dropped`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RefusedRequests {
    /// What each broke, in words, in order (URL, Content-Type, HTTP status and reason).
    pub violations: Vec<String>,
    /// Refused requests beyond the kept ones.
    pub dropped: u64,
}

impl RefusedRequests {
    /// Keep one more, or count it when the list is full.
    pub(super) fn push(&mut self, violation: String) {
        if self.violations.len() < MAX_REFUSED_KEPT {
            self.violations.push(violation);
        } else {
            self.dropped += 1;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.violations.is_empty() && self.dropped == 0
    }

    /// Every violation in words, with one line for the dropped ones when there are any.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = self.violations.clone();
        if self.dropped > 0 {
            lines.push(format!(
                "… and {} more refused requests (only the first {MAX_REFUSED_KEPT} are kept)",
                self.dropped
            ));
        }
        lines
    }
}
