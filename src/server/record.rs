//! What the mock server saw of each session: the statuses, results and alerts a device sent, and
//! the protocol rules it broke ([`DeviceViolation`]); and the requests it refused before it could
//! tie them to a session ([`RefusedRequests`]).
//!
//! Expectations and reports read these records; they are built from the decoded messages (and,
//! for sizes, the request bodies as received), never from the script or the expectations.

use crate::protocol::http::{HttpRequest, HttpResponse};
use crate::syncml::{AlertCode, CmdName, Item, StatusCode};
use std::fmt;

/// A protocol rule the server checks in every device message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// MsgIDs count up by one (reference §1.3).
    MsgId,
    /// Every command of a server package has a Status by the device's Final (reference §1.4).
    MissingStatus,
    /// A message no larger than the server's announced MaxMsgSize (reference §1.3).
    MaxMsgSize,
    /// No object larger than the server's announced MaxObjSize (DM Protocol §2.2, reference §1.6).
    MaxObjSize,
    /// Status codes from the DM table only (reference §3).
    StatusCode,
    /// A chunk sent with MoreData is answered 213 (or refused), and only such a chunk is answered
    /// 213 (DM Protocol §2.2, reference §1.6).
    ChunkStatus,
    /// `chr` data (Meta Format `chr`, the default) is text without NUL characters (reference
    /// §8.5).
    ChrData,
    /// A Chal's NextNonce is base64 (Format `b64`, reference §2.4).
    NextNonce,
    /// Every device message that answers a server message has a Status for its SyncHdr, a Package
    /// 1 sent again after a challenge included (DM Protocol §2.4.1, reference §1.4).
    HdrStatus,
    /// A device that refuses the server's credentials (401, 407) says how to authenticate: a
    /// Chal (reference §2, DM Protocol §2.4.1).
    MissingChal,
}

impl Rule {
    /// The rule's name and where it is written.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::MsgId => "MsgID sequence (reference §1.3)",
            Rule::MissingStatus => "a Status for every command (reference §1.4)",
            Rule::MaxMsgSize => "MaxMsgSize (reference §1.3)",
            Rule::MaxObjSize => "MaxObjSize (DM Protocol §2.2)",
            Rule::StatusCode => "DM status codes (reference §3)",
            Rule::ChunkStatus => "213 for a chunk with MoreData (DM Protocol §2.2)",
            Rule::ChrData => "chr data is text without NUL (reference §8.5)",
            Rule::NextNonce => "a Chal's NextNonce is base64 (reference §2.4)",
            Rule::HdrStatus => "a Status for the server's SyncHdr (DM Protocol §2.4.1)",
            Rule::MissingChal => {
                "401/407 for the server's credentials carries a Chal (reference §2)"
            }
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A protocol rule a device broke, as the server saw it: which rule, where (the device's MsgID,
/// and the CmdID when one command broke it), and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DeviceViolation {
    pub rule: Rule,
    pub msg_id: String,
    pub cmd_id: Option<String>,
    pub detail: String,
}

impl fmt::Display for DeviceViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: device message {}", self.rule, self.msg_id)?;
        if let Some(cmd) = &self.cmd_id {
            write!(f, ", command {cmd}")?;
        }
        write!(f, ": {}", self.detail)
    }
}

/// The most entries each list of a [`SessionRecord`] keeps.
pub const MAX_RECORDED: usize = 10_000;

impl SessionRecord {
    /// Add `entry` to one of this record's lists, or count it when the list is full.
    pub(crate) fn keep<T>(list: &mut Vec<T>, entry: T, unrecorded: &mut u64) {
        if list.len() < MAX_RECORDED {
            list.push(entry);
        } else {
            *unrecorded = unrecorded.saturating_add(1);
        }
    }
}

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
    /// Which of its device's sessions this is for the script (1 for the first; 0 while the device
    /// has not passed authentication in it): see [`super::SessionChoice`].
    pub ordinal: u32,
    /// Script packages sent in the session (0: the script had none for it).
    pub packages_sent: u32,
    pub statuses: Vec<ReceivedStatus>,
    /// Items of every Results the device sent.
    pub results: Vec<Item>,
    pub alerts: Vec<ReceivedAlert>,
    /// The DevInfo items of Package 1.
    pub devinfo: Vec<Item>,
    pub client_authenticated: bool,
    /// Device messages whose credentials the server refused (401, 407).
    pub auth_failures: u32,
    /// Protocol rules the device broke, as the server saw them.
    pub violations: Vec<DeviceViolation>,
    pub ended: bool,
    /// Entries left out of the lists above (statuses, results, alerts, violations, exchanges),
    /// each of which keeps at most [`MAX_RECORDED`]: a device that keeps a session going for ever
    /// costs the server a bounded record.
    pub unrecorded: u64,
    pub exchanges: Vec<ServerExchange>,
}

/// The FUMO result codes of the Generic Alerts the server received in `records`, in order.
pub fn fumo_results(records: &[SessionRecord]) -> Vec<u16> {
    records
        .iter()
        .flat_map(|r| &r.alerts)
        .flat_map(|a| &a.items)
        .filter_map(|i| crate::protocol::fumo::reported_result(i).map(|(_, code)| code))
        .collect()
}

/// The SCOMO results (result code and identifier) of the OperationComplete Generic Alerts the
/// server received in `records`, in order.
pub fn scomo_results(records: &[SessionRecord]) -> Vec<crate::protocol::scomo::ResultData> {
    records
        .iter()
        .flat_map(|r| &r.alerts)
        .flat_map(|a| &a.items)
        .filter_map(crate::protocol::scomo::reported_result)
        .collect()
}

/// The codes of the Knox E-FOTA reports the server received in `records`, in order (a report of
/// several codes gives them one after the other).
pub fn efota_codes(records: &[SessionRecord]) -> Vec<i64> {
    records
        .iter()
        .flat_map(|r| &r.alerts)
        .flat_map(|a| &a.items)
        .filter_map(crate::protocol::efota::reported_codes)
        .flatten()
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
