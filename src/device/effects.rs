//! What a server command does on a device besides changing its tree: an Exec that takes effect (it
//! is recorded and, on an agent's operation node, queues the agent's job) and data an agent took
//! out of the tree when its node was replaced (FUMO: a package written in-band to
//! `<x>/Update/PkgData` goes to the package store, and the FUMO State moves to 40, then 50).
//!
//! A command produces its [`Effect`] without applying it. The [`Executor`](super::Executor)
//! applies it at once ([`Device::apply`]) or, inside an Atomic (a Sequence in an Atomic included),
//! keeps it until the Atomic ends: a commit applies the kept effects in the order their commands
//! ran, a failed Atomic drops them. An Atomic is all or nothing (reference §1.4), so a rolled-back
//! Exec queues no job and is not recorded, and a rolled-back PkgData never reaches the package
//! store nor changes the FUMO State. That holds when the rollback itself fails too (the
//! `tree.atomic-rollback` fault, 516): the tree keeps the members' changes, but the effects were
//! never applied and are dropped all the same, since the server was told the Atomic failed (507);
//! a device does not start an update its server was told did not happen.
//!
//! An effect holds what its command decided when it ran, so applying it later means the same: the
//! job carries the `PkgURL` of the moment of the Exec, and the package's bytes left the tree when
//! the Replace ran (the node is write-only; until the commit the effect holds them, not the tree).

use super::{Device, ExecRecord};
use crate::engine::Ticket;
use crate::syncml::{Item, StatusCode};

/// A command's side effect, applied when the command takes effect (see the module doc).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// An Exec takes effect: it is recorded, and the job an agent accepted it for (if any: the
    /// agent's index in [`Device::agents`] and its ticket) is queued.
    Exec {
        record: ExecRecord,
        job: Option<(usize, Ticket)>,
    },
    /// Data agent `agent` took out of the tree when its node was replaced (FUMO: a package written
    /// to `<x>/Update/PkgData`; empty clears the package store) goes to the agent.
    Store {
        agent: usize,
        uri: String,
        data: Vec<u8>,
    },
}

impl Effect {
    /// Whether applying this queues a job of agent `agent`.
    pub fn queues_job_of(&self, agent: usize) -> bool {
        matches!(self, Effect::Exec { job: Some((a, _)), .. } if *a == agent)
    }
}

impl Device {
    /// Execute an Exec on a node that allows it: the status it answers and, unless it is refused,
    /// its effect. An agent's operation node makes a job (202, or the agent's refusal, such as
    /// FUMO's 409 while a job is queued or when `kept`, the effects kept for the commit of the
    /// Atomic being run, already queue one of the agent's: see [`crate::fumo::agent`]); nodes
    /// without an agent behind them are plain device operations that complete when they take effect
    /// (200).
    pub fn exec(
        &self,
        uri: &str,
        item: &Item,
        correlator: Option<&str>,
        kept: &[Effect],
    ) -> (StatusCode, Option<Effect>) {
        let mut job = None;
        let data = item.data_text();
        for (index, agent) in self.agents.iter().enumerate() {
            let another = kept.iter().any(|e| e.queues_job_of(index));
            match agent.exec_with_data(uri, data.as_deref(), correlator, &self.tree, another) {
                Some(Ok(ticket)) => {
                    job = Some((index, ticket));
                    break;
                }
                Some(Err(code)) => return (code, None),
                None => {}
            }
        }
        let code = if job.is_some() {
            StatusCode::Accepted
        } else {
            StatusCode::Ok
        };
        let record = ExecRecord {
            uri: uri.to_string(),
            data: data.map(|d| d.into_owned()),
            correlator: correlator.map(str::to_string),
            at: self.clock,
        };
        (code, Some(Effect::Exec { record, job }))
    }

    /// A server command replaced the value at `uri`: the effect of a write an agent acts on (FUMO
    /// takes an in-band package out of `Update/PkgData` now, for the package store).
    pub fn replaced(&mut self, uri: &str) -> Option<Effect> {
        let (tree, now) = (&mut self.tree, self.clock);
        self.agents.iter().enumerate().find_map(|(agent, a)| {
            a.replaced(uri, tree, now).map(|data| Effect::Store {
                agent,
                uri: uri.to_string(),
                data,
            })
        })
    }

    /// A server command added the node (or TNDS subtree) at `uri`: the agents complete the nodes the
    /// device creates beside it (SCOMO's `Download/<p>` gets its `Status` and operations).
    pub fn added(&mut self, uri: &str) {
        let (tree, now) = (&mut self.tree, self.clock);
        for agent in &self.agents {
            agent.added(uri, tree, now);
        }
    }

    /// Apply a command's effect: the command takes effect now.
    pub fn apply(&mut self, effect: Effect) {
        match effect {
            Effect::Exec { record, job } => {
                self.records.execs.push(record);
                if let Some((index, ticket)) = job {
                    match self.agents.get_mut(index) {
                        Some(agent) => agent.queue(ticket),
                        None => tracing::error!(
                            agent = index,
                            operation = ticket.operation,
                            "a job for an agent the device does not have is dropped"
                        ),
                    }
                }
            }
            Effect::Store { agent, uri, data } => match self.agents.get_mut(agent) {
                Some(a) => a.store(&uri, data, &mut self.tree, self.clock),
                None => tracing::error!(
                    agent,
                    "data for an agent the device does not have is dropped"
                ),
            },
        }
    }
}
