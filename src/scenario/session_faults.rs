//! The mock server's session faults as a scenario writes them (`[[server.session_fault]]`; what
//! each does: [`crate::server::faults`]):
//!
//! ```toml
//! [[server.session_fault]]
//! kind = "slow"        # refuse-credentials, server-error, hdr-status, slow
//! value = 120000       # slow: milliseconds late; server-error: the HTTP status (500);
//!                      # hdr-status: the SyncHdr's Status (500); both 5xx
//! session = 1          # the device's session attempt (failed ones counted), from 1
//! message = 1          # from the session's Nth device message on
//! ```
//!
//! Like every fault rule, a session fault must change an answer during the run, or the scenario
//! fails naming it (`optional = true` lifts this).

use crate::server::{SessionFault, SessionFaultKind};
use crate::syncml::StatusCode;
use serde::Deserialize;
use std::time::Duration;

/// The kinds of session fault, by their scenario names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SessionFaultKindSpec {
    RefuseCredentials,
    ServerError,
    HdrStatus,
    Slow,
}

impl SessionFaultKindSpec {
    /// Every kind, in declaration order.
    pub const ALL: &'static [SessionFaultKindSpec] = &[
        SessionFaultKindSpec::RefuseCredentials,
        SessionFaultKindSpec::ServerError,
        SessionFaultKindSpec::HdrStatus,
        SessionFaultKindSpec::Slow,
    ];

    /// The name a scenario gives it.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionFaultKindSpec::RefuseCredentials => "refuse-credentials",
            SessionFaultKindSpec::ServerError => "server-error",
            SessionFaultKindSpec::HdrStatus => "hdr-status",
            SessionFaultKindSpec::Slow => "slow",
        }
    }
}

/// A session fault of the scenario's server, checked while the file is read.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "RawSessionFault")]
pub struct SessionFaultSpec {
    pub kind: SessionFaultKindSpec,
    pub value: Option<u64>,
    /// The fault need not change any answer.
    pub optional: bool,
    /// What the server does.
    pub fault: SessionFault,
}

impl std::fmt::Display for SessionFaultSpec {
    /// The fault as a scenario writes it, e.g. `kind = "slow", value = 120000, session = 1`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "kind = \"{}\"", self.kind.as_str())?;
        if let Some(v) = self.value {
            write!(f, ", value = {v}")?;
        }
        write!(f, ", session = {}", self.fault.session)?;
        if self.fault.message != 1 {
            write!(f, ", message = {}", self.fault.message)?;
        }
        Ok(())
    }
}

/// A session fault as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSessionFault {
    kind: SessionFaultKindSpec,
    value: Option<u64>,
    #[serde(default = "first")]
    session: u32,
    #[serde(default = "first")]
    message: u32,
    #[serde(default)]
    optional: bool,
}

fn first() -> u32 {
    1
}

/// A session fault that cannot be, in words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("server.session_fault {kind:?}: {reason}")]
pub struct BadSessionFault {
    pub kind: &'static str,
    pub reason: String,
}

impl TryFrom<RawSessionFault> for SessionFaultSpec {
    type Error = BadSessionFault;

    fn try_from(raw: RawSessionFault) -> Result<SessionFaultSpec, BadSessionFault> {
        let bad = |reason: String| BadSessionFault {
            kind: raw.kind.as_str(),
            reason,
        };
        if raw.session == 0 || raw.message == 0 {
            return Err(bad("session and message count from 1".into()));
        }
        let five_hundred = |what: &str| match raw.value.unwrap_or(500) {
            v @ 500..=599 => Ok(v as u16),
            v => Err(bad(format!("{what} {v} is not a 5xx"))),
        };
        let kind = match raw.kind {
            SessionFaultKindSpec::RefuseCredentials => match raw.value {
                None => SessionFaultKind::RefuseCredentials,
                Some(_) => return Err(bad("takes no value".into())),
            },
            SessionFaultKindSpec::ServerError => {
                SessionFaultKind::HttpStatus(five_hundred("HTTP status")?)
            }
            SessionFaultKindSpec::HdrStatus => {
                SessionFaultKind::HdrStatus(StatusCode::from_code(five_hundred("Status")?))
            }
            SessionFaultKindSpec::Slow => match raw.value {
                Some(ms) => SessionFaultKind::Slow(Duration::from_millis(ms)),
                None => return Err(bad("needs a value (milliseconds late)".into())),
            },
        };
        Ok(SessionFaultSpec {
            kind: raw.kind,
            value: raw.value,
            optional: raw.optional,
            fault: SessionFault {
                session: raw.session,
                message: raw.message,
                kind,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<SessionFaultSpec, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    #[test]
    fn faults_are_read_with_their_defaults_and_checked() {
        let slow = read("kind = \"slow\"\nvalue = 120000\n").expect("slow");
        assert_eq!(
            slow.fault,
            SessionFault {
                session: 1,
                message: 1,
                kind: SessionFaultKind::Slow(Duration::from_secs(120)),
            }
        );
        assert_eq!(
            slow.to_string(),
            "kind = \"slow\", value = 120000, session = 1"
        );
        let error = read("kind = \"server-error\"\nsession = 2\nmessage = 3\n").expect("500");
        assert_eq!(error.fault.kind, SessionFaultKind::HttpStatus(500));
        assert_eq!(
            error.to_string(),
            "kind = \"server-error\", session = 2, message = 3"
        );
        let hdr = read("kind = \"hdr-status\"\nvalue = 503\n").expect("503");
        assert_eq!(
            hdr.fault.kind,
            SessionFaultKind::HdrStatus(StatusCode::from_code(503))
        );
        for bad in [
            "kind = \"slow\"\n",
            "kind = \"server-error\"\nvalue = 404\n",
            "kind = \"hdr-status\"\nvalue = 200\n",
            "kind = \"refuse-credentials\"\nvalue = 1\n",
            "kind = \"slow\"\nvalue = 1\nsession = 0\n",
            "kind = \"late\"\n",
            "kind = \"slow\"\nvalue = 1\nnth = 2\n",
        ] {
            assert!(read(bad).is_err(), "{bad}");
        }
    }
}
