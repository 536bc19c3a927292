//! What a run observed: codes read from what happened, never from the scenario's expectations.
//!
//! Each observation names its `source`:
//! - `wire`: the messages the device and the server exchanged (the session transcript, decoded).
//!   `syncml-status` is every Status the device sent, with the command it answered; `alert` every
//!   Alert either side sent, with its sender; `fumo-result` the result code of every FUMO Generic
//!   Alert the device sent, with its alert type.
//! - `device`: the device's own records. `fumo-state` is every value its FUMO State node took;
//!   `dl-status` the OMA Download status each download attempt that read a descriptor ended with,
//!   whether or not the device posted it anywhere (a 903 it retried after, a download without an
//!   installNotifyURI).
//! - `server`: the mock server's records. `install-notify` is every status a device posted to the
//!   server's installNotifyURI, as the server received it.
//!
//! Each distinct observation is listed once, in the order first seen, with how often it occurred.

use crate::device::Device;
use crate::server::InstallNotification;
use crate::session::Exchange;
use crate::syncml::{Command, SyncMl};
use serde::Serialize;

/// One distinct observed code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Observation {
    pub family: &'static str,
    pub code: i64,
    /// Where it was read: `wire`, `device` or `server`.
    pub source: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender: Option<&'static str>,
    pub count: u32,
}

/// Which side sent a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sender {
    Device,
    Server,
}

impl Sender {
    fn as_str(self) -> &'static str {
        match self {
            Sender::Device => "device",
            Sender::Server => "server",
        }
    }
}

/// Collects observations, merging repeats.
#[derive(Debug, Default)]
pub struct Observations {
    list: Vec<Observation>,
}

impl Observations {
    /// Observations of a whole transcript.
    pub fn from_transcript(transcript: &[Exchange]) -> Observations {
        Observations::from_exchanges(transcript)
    }

    /// Observations of exchanges, in order (e.g. of several sessions).
    pub fn from_exchanges<'a>(exchanges: impl IntoIterator<Item = &'a Exchange>) -> Observations {
        let mut obs = Observations::default();
        for exchange in exchanges {
            if let Ok(msg) = crate::syncml::decode(&exchange.request.body) {
                obs.message(&msg, Sender::Device);
            }
            if let Ok(Ok(msg)) = exchange
                .response
                .as_ref()
                .map(|r| crate::syncml::decode(&r.body))
            {
                obs.message(&msg, Sender::Server);
            }
        }
        obs
    }

    /// Add one observation.
    pub fn add(
        &mut self,
        family: &'static str,
        code: i64,
        command: Option<String>,
        sender: Option<&'static str>,
    ) {
        match self.list.iter_mut().find(|o| {
            o.family == family && o.code == code && o.command == command && o.sender == sender
        }) {
            Some(o) => o.count = o.count.saturating_add(1),
            None => self.list.push(Observation {
                family,
                code,
                source: source_of(family),
                command,
                sender,
                count: 1,
            }),
        }
    }

    fn message(&mut self, msg: &SyncMl, sender: Sender) {
        self.commands(&msg.body.commands, sender);
    }

    fn commands(&mut self, commands: &[Command], sender: Sender) {
        for cmd in commands {
            match cmd {
                Command::Status(s) if sender == Sender::Device => self.add(
                    "syncml-status",
                    s.code.code().into(),
                    Some(s.cmd.to_string()),
                    None,
                ),
                Command::Alert(a) => {
                    self.add("alert", a.code.code().into(), None, Some(sender.as_str()));
                    if sender == Sender::Device {
                        self.fumo_results(&a.items);
                    }
                }
                Command::Atomic(c) | Command::Sequence(c) => self.commands(&c.commands, sender),
                _ => {}
            }
        }
    }

    /// The FUMO result codes of a device's Generic Alert items.
    fn fumo_results(&mut self, items: &[crate::syncml::Item]) {
        for (alert_type, code) in items.iter().filter_map(crate::fumo::reported_result) {
            self.add(
                "fumo-result",
                code.into(),
                Some(alert_type.to_string()),
                None,
            );
        }
    }

    /// Observations of the device's own records (FUMO states, DL statuses).
    pub fn device(&mut self, device: &Device) {
        let Some(fumo) = device.fumo.as_deref() else {
            return;
        };
        for state in &fumo.records.states {
            self.add("fumo-state", state.value().into(), None, None);
        }
        for status in &fumo.records.dl_statuses {
            self.add("dl-status", status.code().into(), None, None);
        }
    }

    /// Observations of the mock server's install-notify records.
    pub fn install_notifications(&mut self, notifications: &[InstallNotification]) {
        for n in notifications {
            self.add("install-notify", n.code.into(), None, None);
        }
    }

    /// The observations, in the order first seen.
    pub fn into_vec(self) -> Vec<Observation> {
        self.list
    }
}

/// Where a family's observations are read (see the module docs).
fn source_of(family: &str) -> &'static str {
    match family {
        "fumo-state" | "dl-status" => "device",
        "install-notify" => "server",
        _ => "wire",
    }
}
