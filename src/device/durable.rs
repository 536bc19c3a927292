//! What a device keeps across a reboot or a power loss, and how it saves and reloads it.
//!
//! The durable state is the reports the device still owes its server, the SessionID of the last
//! session it started (so a restarted device does not reuse it) and what each of its agents keeps
//! ([`crate::engine::Agent::durable`]; for FUMO the firmware slots, the FUMO State, the job in
//! progress and the package store's bookkeeping), under the agent's root. It is saved whole,
//! atomically, as one [`Persisted`](crate::storage::Persisted) blob under the device's id. An
//! agent's byte blob (FUMO's package store: a partial download or a whole package) is saved apart,
//! under `<id>#package` for the first agent and `<id>#package.<n>` for the agent at index `n`, and
//! only when it changed; it is saved before the state that counts it, and on reload the agent cuts
//! it to the length its state records, so bytes that arrived after the last state save are never
//! trusted.
//!
//! Every save fires the `state.save` fault point: `power.loss` there means the power went out
//! before the save landed ([`Saved::PowerLost`]); the caller then reboots the device
//! ([`Device::reboot`]), which drops what is in memory and reloads the last saved state. The rest
//! of the DM tree is configuration the update flows do not change; it stays as it is across a
//! simulated reboot, and each agent's nodes are set again from the reloaded state.
//!
//! The scenario runner flashes each device's factory state before its first session and saves
//! right after each session; a power loss at that save loses what the session changed, a job
//! accepted with 202 included (a device that lost power as the session ended: the server never
//! gets a result). The power-cut test therefore cuts from the job's first save on.

use super::{Device, ReportQueue};
use crate::faults::{FaultEffect, FaultPoint};
use crate::storage::{load_state, save_state, StateStore, StoreError};
use serde::{Deserialize, Serialize};

/// The saved part of a device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DurableState {
    pub reports: ReportQueue,
    /// The SessionID counter ([`Device::next_session_id`]); 0 in states saved before it was kept.
    #[serde(default)]
    pub sessions_started: u16,
    /// What each agent keeps, in the device's order.
    pub agents: Vec<AgentState>,
}

/// What one agent keeps, under the root it is mounted at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentState {
    pub root: String,
    pub state: serde_json::Value,
}

impl DurableState {
    /// The saved state of the agent at `root`.
    pub fn agent(&self, root: &str) -> Option<&serde_json::Value> {
        self.agents
            .iter()
            .find(|a| a.root == root)
            .map(|a| &a.state)
    }
}

/// The saved part of a device as it is written: the reports borrowed (it reads back as a
/// [`DurableState`]).
#[derive(Serialize)]
struct DurableView<'a> {
    reports: &'a ReportQueue,
    sessions_started: u16,
    agents: Vec<AgentState>,
}

/// How a save went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Saved {
    /// The state is on storage.
    Landed,
    /// The power went out first: the device must [`Device::reboot`].
    PowerLost,
}

/// The store key of the byte blob of a device's agent at `index` (FUMO's package store).
pub fn blob_key(dev_id: &str, index: usize) -> String {
    match index {
        0 => format!("{dev_id}#package"),
        n => format!("{dev_id}#package.{n}"),
    }
}

impl Device {
    /// Write the device's state as it leaves the factory, before its first session (no fault
    /// fires: this is not a save the device makes), so that any later reboot has a state to load.
    pub fn flash(&mut self, store: &dyn StateStore) -> Result<(), StoreError> {
        self.save_blobs(store, true)?;
        self.save_state(store)
    }

    /// Save the agents' blobs: all of them, or those that changed.
    fn save_blobs(&mut self, store: &dyn StateStore, all: bool) -> Result<(), StoreError> {
        let id = self.dev_id().to_string();
        for (index, agent) in self.agents.iter_mut().enumerate() {
            let (blob, dirty) = agent.blob();
            if all || dirty {
                store.save(&blob_key(&id, index), blob)?;
                agent.blob_saved();
            }
        }
        Ok(())
    }

    fn save_state(&self, store: &dyn StateStore) -> Result<(), StoreError> {
        let id = self.dev_id();
        let mut agents = Vec::with_capacity(self.agents.len());
        for agent in &self.agents {
            let state = agent.durable().map_err(|reason| StoreError::Encode {
                location: store.location(id),
                reason: format!("the agent at {}: {reason}", agent.root()),
            })?;
            agents.push(AgentState {
                root: agent.root().to_string(),
                state,
            });
        }
        let view = DurableView {
            reports: &self.reports,
            sessions_started: self.sessions_started,
            agents,
        };
        save_state(store, id, &view)
    }

    /// Save the durable state (firing `state.save`).
    pub fn save(&mut self, store: &dyn StateStore) -> Result<Saved, StoreError> {
        if self.faults.fire(FaultPoint::StateSave) == Some(FaultEffect::PowerLoss) {
            return Ok(Saved::PowerLost);
        }
        self.save_blobs(store, false)?;
        self.save_state(store)?;
        Ok(Saved::Landed)
    }

    /// Power the device off and on: reload the last saved state (see [`Device::flash`]; a device
    /// that was never flashed keeps what it holds) and boot its agents (FUMO boots the firmware,
    /// which resolves an install the power cut).
    pub fn reboot(&mut self, store: &dyn StateStore) -> Result<(), StoreError> {
        self.records.boots = self.records.boots.saturating_add(1);
        let id = self.dev_id().to_string();
        let saved: Option<DurableState> = load_state(store, &id)?;
        if let Some(mut saved) = saved {
            self.reports.restore(saved.reports);
            self.sessions_started = saved.sessions_started;
            for (index, agent) in self.agents.iter_mut().enumerate() {
                let Some(at) = saved.agents.iter().position(|a| a.root == agent.root()) else {
                    continue;
                };
                let state = saved.agents.swap_remove(at).state;
                let blob = store.load(&blob_key(&id, index))?.unwrap_or_default();
                agent
                    .restore(state, blob)
                    .map_err(|reason| StoreError::Decode {
                        location: store.location(&id),
                        reason: format!("the agent at {}: {reason}", agent.root()),
                    })?;
            }
        }
        for agent in &mut self.agents {
            // The agent's nodes show the reloaded state again: a FUMO State the power loss undid
            // is followed by the one the device came back with in the record of values it took.
            agent.boot(&mut self.tree, self.clock);
        }
        Ok(())
    }
}
