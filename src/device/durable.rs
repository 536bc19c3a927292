//! What a device keeps across a reboot or a power loss, and how it saves and reloads it.
//!
//! The durable state is the reports the device still owes its server, the SessionID of the last
//! session it started (so a restarted device does not reuse it) and, when it has FUMO, the
//! firmware slots, the FUMO State, the job in progress and the package store's bookkeeping. It is
//! saved whole, atomically, as one [`Persisted`](crate::storage::Persisted) blob under the device's
//! id. The package store's bytes (a partial download or a whole package) are saved apart, under
//! `<id>#package`, and only when they changed; they are saved before the state that counts them,
//! and on reload they are cut to the length the state records, so bytes that arrived after the
//! last state save are never trusted.
//!
//! Every save fires the `state.save` fault point: `power.loss` there means the power went out
//! before the save landed ([`Saved::PowerLost`]); the caller then reboots the device
//! ([`Device::reboot`]), which drops what is in memory and reloads the last saved state. The rest
//! of the DM tree is configuration the update flows do not change; it stays as it is across a
//! simulated reboot, and the FUMO nodes are set again from the reloaded state.
//!
//! The scenario runner flashes each device's factory state before its first session and saves
//! right after each session; a power loss at that save loses what the session changed, a job
//! accepted with 202 included (a device that lost power as the session ended: the server never
//! gets a result). The power-cut test therefore cuts from the job's first save on.

use super::{Device, ReportQueue};
use crate::faults::{FaultEffect, FaultPoint};
use crate::fumo::FumoDurable;
use crate::storage::{load_state, save_state, StateStore, StoreError};
use serde::{Deserialize, Serialize};

/// The saved part of a device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DurableState {
    pub reports: ReportQueue,
    /// The SessionID counter ([`Device::next_session_id`]); 0 in states saved before it was kept.
    #[serde(default)]
    pub sessions_started: u16,
    pub fumo: Option<FumoDurable>,
}

/// The saved part of a device as it is written: borrowed, so a save copies nothing before it
/// encodes (it reads back as a [`DurableState`]).
#[derive(Serialize)]
struct DurableView<'a> {
    reports: &'a ReportQueue,
    sessions_started: u16,
    fumo: Option<&'a FumoDurable>,
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

/// The store key of a device's package bytes.
pub fn package_key(dev_id: &str) -> String {
    format!("{dev_id}#package")
}

impl Device {
    /// Write the device's state as it leaves the factory, before its first session (no fault
    /// fires: this is not a save the device makes), so that any later reboot has a state to load.
    pub fn flash(&mut self, store: &dyn StateStore) -> Result<(), StoreError> {
        let id = self.dev_id().to_string();
        if let Some(fumo) = self.fumo.as_mut() {
            store.save(&package_key(&id), &fumo.bytes)?;
            fumo.bytes_dirty = false;
        }
        save_state(store, &id, &self.durable_view())
    }

    fn durable_view(&self) -> DurableView<'_> {
        DurableView {
            reports: &self.reports,
            sessions_started: self.sessions_started,
            fumo: self.fumo.as_ref().map(|f| &f.durable),
        }
    }

    /// Save the durable state (firing `state.save`).
    pub fn save(&mut self, store: &dyn StateStore) -> Result<Saved, StoreError> {
        if self.faults.fire(FaultPoint::StateSave) == Some(FaultEffect::PowerLoss) {
            return Ok(Saved::PowerLost);
        }
        let id = self.dev_id().to_string();
        if let Some(fumo) = self.fumo.as_mut().filter(|f| f.bytes_dirty) {
            store.save(&package_key(&id), &fumo.bytes)?;
            fumo.bytes_dirty = false;
        }
        save_state(store, &id, &self.durable_view())?;
        Ok(Saved::Landed)
    }

    /// Power the device off and on: reload the last saved state (see [`Device::flash`]; a device
    /// that was never flashed keeps what it holds) and boot the firmware, which resolves an install
    /// the power cut.
    pub fn reboot(&mut self, store: &dyn StateStore) -> Result<(), StoreError> {
        let id = self.dev_id().to_string();
        let saved: Option<DurableState> = load_state(store, &id)?;
        if let Some(saved) = saved {
            self.reports.restore(saved.reports);
            self.sessions_started = saved.sessions_started;
            if let (Some(fumo), Some(durable)) = (self.fumo.as_mut(), saved.fumo) {
                let mut bytes = store.load(&package_key(&id))?.unwrap_or_default();
                let len = usize::try_from(durable.store.len).unwrap_or(usize::MAX);
                fumo.durable = durable;
                if bytes.len() < len {
                    tracing::warn!(
                        device = id,
                        saved = bytes.len(),
                        counted = len,
                        "the package store lost bytes; the package is dropped"
                    );
                    fumo.drop_package();
                } else {
                    bytes.truncate(len);
                    fumo.bytes = bytes;
                    fumo.bytes_dirty = false;
                }
            }
        }
        if let Some(fumo) = self.fumo.as_mut() {
            fumo.records.boots = fumo.records.boots.saturating_add(1);
            fumo.durable.firmware.boot();
            // The State node shows the reloaded value again: a State the power loss undid is
            // followed by the one the device came back with in the record of values it took.
            let state = fumo.durable.state;
            fumo.set_state(&mut self.tree, state, self.clock);
        }
        Ok(())
    }
}
