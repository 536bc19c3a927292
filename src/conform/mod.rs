//! Server conformance (`dmsim conform`, issue 17, a first slice): a battery of device sessions
//! against a DM server, every server message checked against the catalogue ([`checks`]), one
//! verdict per check ([`verdict`]) and the reports ([`report`]).
//!
//! The battery ([`run_battery`]): the device of a scenario file (its identity, its credentials)
//! opens one client-initiated session in XML and one in WBXML; when it has credentials, it opens
//! the same two again without any, to see how the server treats a device that sends none (a server
//! that refuses it must say so by the rules: 401/407 with a Chal, Statuses only). Each session's
//! messages are kept and checked after it ended: the device's own rules (the `server-violation`s
//! of [`crate::session::ServerRule`], counted as checks of the same ids) and the per-message checks
//! of [`inspect`]. The battery runs over any [`Transport`]: HTTP(S) for `dmsim conform`, in process
//! in tests.

pub mod checks;
pub mod inspect;
pub mod report;
pub mod verdict;

use crate::scenario::model::{AuthKind, ScenarioFile};
use crate::scenario::{build_device, BuildError};
use crate::session::{
    run_session_with, DriverOptions, Initiator, Pace, ServerRule, SessionReport, SessionStart,
};
use crate::syncml::{Command, Encoding, SyncMl};
use crate::transport::Transport;
use inspect::{Finding, Tally, Turn};

/// One session of the battery: its name, how it went and what the checks saw.
#[derive(Debug, Clone)]
pub struct Ran {
    pub name: String,
    pub report: SessionReport,
    pub tally: Tally,
}

/// The battery's sessions of the device of `file` (see the module docs), in order.
pub fn variants(file: &ScenarioFile) -> Vec<(String, ScenarioFile)> {
    let mut out = Vec::new();
    let mut plans = vec![(String::new(), file.device.auth.clone())];
    if let Some(auth) = &file.device.auth {
        let kind = match auth.kind {
            AuthKind::Basic => "basic",
            AuthKind::Md5 => "md5",
            AuthKind::Hmac => "hmac",
        };
        plans[0].0 = format!(" {kind}");
        plans.push((" no-auth".to_string(), None));
    }
    for (suffix, auth) in plans {
        for encoding in [Encoding::Xml, Encoding::Wbxml] {
            let mut f = file.clone();
            f.device.auth = auth.clone();
            f.device.encoding = encoding;
            out.push((format!("{}{suffix}", encoding.as_str()), f));
        }
    }
    out
}

/// Run the battery over `transport`, one session after the other.
pub async fn run_battery<T: Transport>(
    transport: &T,
    file: &ScenarioFile,
) -> Result<Vec<Ran>, BuildError> {
    let mut ran = Vec::new();
    for (n, (name, f)) in variants(file).into_iter().enumerate() {
        let mut device = build_device(&f)?;
        // One device identity, one session after the other: each takes the next SessionID, as one
        // device's sessions do (the server may key its sessions on it).
        for _ in 0..n {
            device.next_session_id();
        }
        let start = SessionStart {
            initiator: Initiator::Client,
            server_id: Some(f.server.server_id.clone()),
        };
        let options = DriverOptions {
            keep_transcript: true,
            pace: Pace::Skip,
        };
        let report = run_session_with(transport, &mut device, start, options).await;
        let tally = check_session(&report);
        ran.push(Ran {
            name,
            report,
            tally,
        });
    }
    Ok(ran)
}

/// Every check of one finished session (its transcript kept).
pub fn check_session(report: &SessionReport) -> Tally {
    let decoded: Vec<(SyncMl, bool, Option<SyncMl>)> = report
        .transcript
        .iter()
        .filter_map(|x| {
            let device = crate::syncml::decode(&x.request.body).ok()?;
            let server = x
                .response
                .as_ref()
                .ok()
                .and_then(|r| crate::syncml::decode(&r.body).ok());
            Some((device, x.request.hmac.is_some(), server))
        })
        .collect();
    let turns: Vec<Turn> = decoded
        .iter()
        .map(|(device, hmac, server)| Turn {
            device,
            device_hmac: *hmac,
            server: server.as_ref(),
        })
        .collect();
    let ended = matches!(report.end.kind(), "completed" | "aborted-by-server");
    let mut tally = inspect::session(&turns, ended);
    let servers: Vec<&SyncMl> = turns.iter().filter_map(|t| t.server).collect();
    let answered = report.transcript.iter().any(|x| x.response.is_ok());
    // The device's own rules: each applies to every answer it read, but the two about challenges.
    for rule in ServerRule::ALL {
        let applies = match rule {
            ServerRule::MissingChal => servers.iter().any(|m| refused(m)),
            ServerRule::NextNonceBase64 => servers.iter().any(|m| has_nonce(m)),
            _ => answered,
        };
        if applies {
            tally.applied.insert(rule.id());
        }
    }
    for v in &report.violations {
        let id = checks::find(v.rule.id()).map_or("", |c| c.id);
        if id.is_empty() {
            continue;
        }
        let excerpt = if v.excerpt.is_empty() {
            v.detail.clone()
        } else {
            v.excerpt.clone()
        };
        tally.applied.insert(id);
        tally.findings.push(Finding { id, excerpt });
    }
    tally
}

/// Whether a server message refuses the device's credentials (401 or 407 for its SyncHdr).
fn refused(msg: &SyncMl) -> bool {
    msg.body.commands.iter().any(|c| {
        matches!(c, Command::Status(s) if s.cmd_ref.trim() == "0" && matches!(s.code.code(), 401 | 407))
    })
}

/// Whether a server message holds a Chal with a NextNonce.
fn has_nonce(msg: &SyncMl) -> bool {
    msg.body.commands.iter().any(|c| {
        matches!(c, Command::Status(s) if s.chal.as_ref().is_some_and(|ch| ch.meta.next_nonce.is_some()))
    })
}

#[cfg(test)]
mod inspect_tests;
