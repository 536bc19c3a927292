//! What a run observed: codes taken from the session transcript (and, in later flows, the device's
//! records), never from the scenario's expectations.
//!
//! Families: `syncml-status` (every Status the device sent, with the command it answered) and
//! `alert` (every Alert either side sent, with its sender). Each distinct observation is listed once,
//! in the order first seen, with how often it occurred.

use crate::session::Exchange;
use crate::syncml::{Command, SyncMl};
use serde::Serialize;

/// One distinct observed code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Observation {
    pub family: &'static str,
    pub code: i64,
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
            Some(o) => o.count += 1,
            None => self.list.push(Observation {
                family,
                code,
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
                    self.add("alert", a.code.code().into(), None, Some(sender.as_str()))
                }
                Command::Atomic(c) | Command::Sequence(c) => self.commands(&c.commands, sender),
                _ => {}
            }
        }
    }

    /// The observations, in the order first seen.
    pub fn into_vec(self) -> Vec<Observation> {
        self.list
    }
}
