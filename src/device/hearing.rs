//! What the device's agents hear of its DM sessions, besides the commands sent to their nodes: each
//! Status the device answers a server command with, and how each session ended. An agent that
//! reports these in terms of its own (the Knox E-FOTA client, [`crate::efota`]) gives a Generic
//! Alert for each, which goes in the device's report queue ([`super::ReportQueue`]): durable, and
//! sent until the server acknowledges it.
//!
//! * **Statuses** ([`Device::statuses_sent`]): the session hands over the replies to each server
//!   message once they are settled (after the executor, and after the session's own changes such
//!   as a Get answered 413 because its Results cannot be sent), before they go out. An agent hears
//!   them, each with the node its command addressed (the first item's Target, found in the
//!   server's message when the Status names none: a command not executed); it cannot change them.
//!   A report queued here goes out in the device's next message of
//!   the same session, after the Statuses (reference §1.6: a client message may carry new
//!   alerts), or in the next session's Package 1 when this one ends first.
//! * **Session endings** ([`Device::session_ended`]): the session's driver says how each session
//!   ended, and for one that failed before it got through in a way a flow names, how
//!   ([`SessionFailure`], an outcome of the `session` phase). A report queued here goes out in
//!   the next session's Package 1, and in every session after until one gets through and the
//!   server acknowledges it.
//!
//! A report identical to one still pending is not queued again: a device whose sessions keep
//! failing the same way owes its server one report of it, not one per failed session, so what the
//! agents queue stays bounded by the kinds of report they make (dmsim's choice; the seed does not
//! say how often the real client reports).

use super::Device;
use crate::outcome::{Cause, Operation, Outcome, Phase};
use crate::syncml::{CmdName, Command, GenericAlert, Status};

/// How a DM session failed before it got through, as the device's agents hear of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionFailure {
    /// The server kept refusing the device's credentials: the session ended auth-failed.
    AuthenticationRefused,
    /// The server did not answer a message before the device's request timeout.
    TimedOut,
    /// The server failed: it answered a message with an HTTP 5xx other than 503 (Service
    /// Unavailable says it is away, not that it failed), or the device's SyncHdr with a 5xx
    /// Status.
    ServerError,
}

impl SessionFailure {
    /// The cause of the session's outcome.
    pub fn cause(self) -> Cause {
        match self {
            SessionFailure::AuthenticationRefused => Cause::AuthenticationFailed,
            SessionFailure::TimedOut => Cause::Timeout,
            SessionFailure::ServerError => Cause::ServerError,
        }
    }

    /// The session's outcome (phase and operation `session`), with `detail` for people (how the
    /// session ended, in words).
    pub fn outcome(self, detail: impl std::fmt::Display) -> Outcome {
        Outcome::new(Operation::Session, Phase::Session, self.cause()).with_detail(detail)
    }
}

impl Device {
    /// The device is about to send `replies` (Statuses, Results and alerts of its own) for the
    /// server message whose commands are `commands`: every agent hears each Status for a server
    /// command, with the node the command addressed, and what they report is queued. The ids of
    /// the reports queued, in order.
    pub fn statuses_sent(&mut self, replies: &[Command], commands: &[Command]) -> Vec<u64> {
        let profile = self.profile;
        let mut alerts = Vec::new();
        for status in replies.iter().filter_map(|c| match c {
            Command::Status(s) if s.cmd != CmdName::SyncHdr => Some(s),
            _ => None,
        }) {
            let target = target_of(status, commands);
            for agent in &mut self.agents {
                alerts.extend(agent.status_sent(status, target.as_deref(), profile));
            }
        }
        alerts
            .into_iter()
            .filter_map(|a| self.queue_once(a))
            .collect()
    }

    /// A DM session ended: `failure` is how it failed before it got through, when it did in a way
    /// a flow names (with how it ended, in words). Every agent hears it, and what they report is
    /// queued for the next session. The ids of the reports queued, in order.
    pub fn session_ended(&mut self, failure: Option<(SessionFailure, String)>) -> Vec<u64> {
        let profile = self.profile;
        let outcome = failure.map(|(f, detail)| f.outcome(detail));
        let alerts: Vec<GenericAlert> = self
            .agents
            .iter_mut()
            .filter_map(|a| a.session_ended(outcome.as_ref(), profile))
            .collect();
        alerts
            .into_iter()
            .filter_map(|a| self.queue_once(a))
            .collect()
    }

    /// Queue `alert` unless the same report is still pending (see the module docs).
    fn queue_once(&mut self, alert: GenericAlert) -> Option<u64> {
        if self.reports.pending().iter().any(|r| r.alert == alert) {
            tracing::debug!(source = %alert.source_uri, data = %alert.data, "the same report is still pending: not queued again");
            return None;
        }
        Some(self.reports.push(alert))
    }
}

/// The node the command a Status answers addressed: the Status's TargetRef, else the first item's
/// Target of the command it refers to among `commands` (members of an Atomic or Sequence
/// included: a command not executed, or a Get refused inside an Atomic, is answered without a
/// TargetRef).
fn target_of(status: &Status, commands: &[Command]) -> Option<String> {
    if let Some(target) = status.target_refs.first() {
        return Some(target.clone());
    }
    fn find<'a>(status: &Status, commands: &'a [Command]) -> Option<&'a Command> {
        commands.iter().find_map(|c| {
            if c.cmd_id() == status.cmd_ref && c.name() == status.cmd {
                return Some(c);
            }
            match c {
                Command::Atomic(inner) | Command::Sequence(inner) => find(status, &inner.commands),
                _ => None,
            }
        })
    }
    find(status, commands)?
        .items()
        .first()?
        .target_uri()
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::User;
    use crate::efota::{mo::ClientInfo, Efota, EfotaConfig};
    use crate::engine::Agent;
    use crate::faults::Faults;
    use crate::profile::{builtin, Platform};
    use crate::syncml::{Container, Get, Item, Location, StatusCode};
    use crate::tree::{Tree, UriLimits};

    fn knox_device() -> Device {
        let mut device = Device::new(
            Tree::new(UriLimits::default()),
            User::default(),
            Faults::default(),
            1,
        );
        device.profile = builtin("knox-efota").expect("profile");
        let info = ClientInfo {
            client_version: "3.6.12".into(),
            sales_code: "BTU".into(),
            csc: "CSC".into(),
        };
        let efota = Efota::new(EfotaConfig::new(info, Platform::Android));
        efota.mount(&mut device.tree, "srv", 0).expect("mounted");
        device.agents.push(Box::new(efota));
        device
    }

    fn get(id: &str, uri: &str) -> Command {
        Command::Get(Get {
            cmd_id: id.into(),
            items: vec![Item {
                target: Some(Location::uri(uri)),
                ..Item::default()
            }],
            ..Get::default()
        })
    }

    fn status(cmd: &Command, code: StatusCode) -> Command {
        Command::Status(Status::for_command("1", cmd, code))
    }

    /// A Status without a TargetRef finds its command's target in the server's message, inside an
    /// Atomic too; one that names none is not the client's.
    #[test]
    fn a_status_is_heard_with_the_target_of_its_command() {
        let inner = get("3", "./Ext/EFOTA/ClientVersion");
        let atomic = Command::Atomic(Container {
            cmd_id: "2".into(),
            no_resp: false,
            meta: None,
            commands: vec![inner.clone()],
        });
        let elsewhere = get("4", "./Vendor/X");
        let commands = [atomic.clone(), elsewhere.clone()];
        let Command::Status(s) = status(&inner, StatusCode::CommandFailed) else {
            unreachable!()
        };
        assert!(s.target_refs.is_empty());
        assert_eq!(
            target_of(&s, &commands).as_deref(),
            Some("./Ext/EFOTA/ClientVersion")
        );
        let mut device = knox_device();
        let replies = [
            status(&atomic, StatusCode::AtomicFailed),
            status(&inner, StatusCode::CommandFailed),
            status(&elsewhere, StatusCode::NotFound),
        ];
        let queued = device.statuses_sent(&replies, &commands);
        assert_eq!(queued.len(), 1);
        assert_eq!(device.reports.pending()[0].alert.data, "-6500");
        assert!(device.statuses_sent(&replies, &commands).is_empty(), "once");
    }

    /// A failed session's report is queued once while it is pending, however often the session
    /// fails; one that got through queues nothing.
    #[test]
    fn a_pending_report_is_not_queued_again() {
        let mut device = knox_device();
        assert!(device.session_ended(None).is_empty());
        let failed = || Some((SessionFailure::TimedOut, "failed: timed out".to_string()));
        assert_eq!(device.session_ended(failed()).len(), 1);
        assert!(device.session_ended(failed()).is_empty());
        assert_eq!(device.reports.pending().len(), 1);
        let id = device.reports.pending()[0].id;
        device.reports.acknowledge(id);
        assert_eq!(
            device.session_ended(failed()).len(),
            1,
            "delivered: a new one"
        );
        assert_eq!(
            SessionFailure::ServerError.outcome("x").key().to_string(),
            "session.server-error"
        );
    }
}
