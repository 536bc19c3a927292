//! A Snom m3 base station: its settings, its durable state (the gateway's A/B slots and the
//! handsets' versions, saved through a [`StateStore`]), its display log, and the device faults
//! that reach it (`state.save` → `power.loss` at any save; `install.write` → `power.loss` or
//! `storage.write-error` at a flash write). [`super::run_update`] drives an update on it.
//!
//! Every change of the durable state is one save, and a power loss at a save loses that change
//! only: the base then powers up from what was saved before ([`Base::power_cycle`]), which is the
//! old gateway image or the new one ([`super::state`]), never a mix.

use super::config::SnomConfig;
use super::job::{NoSnomCode, SnomCodes};
use super::state::{BaseState, DisplayLog};
use crate::faults::{FaultEffect, FaultPoint, Faults};
use crate::outcome::Outcome;
use crate::package::snom::Part;
use crate::profile::Profile;
use crate::storage::{load_state, save_state, StateStore, StoreError};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// Why a base cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BaseError {
    #[error(transparent)]
    Profile(#[from] NoSnomCode),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How a write of the durable state failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WriteError {
    /// The power went out before the write landed.
    #[error("the power went out")]
    PowerLoss,
    /// The flash or the store refused the write.
    #[error("{0}")]
    Failed(String),
}

/// A base station.
pub struct Base {
    id: String,
    config: SnomConfig,
    codes: SnomCodes,
    state: BaseState,
    display: DisplayLog,
    store: Arc<dyn StateStore>,
    faults: Faults,
}

impl Base {
    /// The base `id` with its settings and profile: it powers up from the state `store` holds for
    /// it, else from `factory` (which it saves).
    pub fn new(
        id: &str,
        config: SnomConfig,
        profile: &'static Profile,
        factory: BaseState,
        store: Arc<dyn StateStore>,
        faults: Faults,
    ) -> Result<Base, BaseError> {
        let codes = SnomCodes::new(profile)?;
        let state = match load_state::<BaseState>(store.as_ref(), id)? {
            Some(state) => state,
            None => {
                save_state(store.as_ref(), id, &factory)?;
                factory
            }
        };
        let mut base = Base {
            id: id.to_string(),
            config,
            codes,
            state,
            display: DisplayLog::default(),
            store,
            faults,
        };
        base.boot()?;
        Ok(base)
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn config(&self) -> &SnomConfig {
        &self.config
    }

    /// Change the settings (they are the user's, not the durable firmware state).
    pub fn config_mut(&mut self) -> &mut SnomConfig {
        &mut self.config
    }

    pub fn codes(&self) -> SnomCodes {
        self.codes
    }

    /// The durable state as it is now.
    pub fn state(&self) -> &BaseState {
        &self.state
    }

    /// The version the gateway runs.
    pub fn gateway_version(&self) -> &str {
        self.state.gateway.version()
    }

    /// Each handset's id and version.
    pub fn handset_versions(&self) -> Vec<(String, String)> {
        self.state
            .handsets
            .iter()
            .map(|h| (h.id.clone(), h.version.clone()))
            .collect()
    }

    pub fn display(&self) -> &DisplayLog {
        &self.display
    }

    /// Show "Code `code`" for `outcome`.
    pub fn show(&mut self, code: u8, outcome: &Outcome) {
        tracing::info!(base = self.id, code, %outcome, "display: Code {code}");
        self.display.show(code, outcome.key());
    }

    /// The device's fault counters.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// The power goes out and comes back: the base forgets what it did not save and boots from
    /// the saved state.
    pub fn power_cycle(&mut self) -> Result<(), StoreError> {
        if let Some(state) = load_state::<BaseState>(self.store.as_ref(), &self.id)? {
            self.state = state;
        }
        self.boot()
    }

    /// Resolve the gateway's slots at power-up, and save what that changed.
    fn boot(&mut self) -> Result<(), StoreError> {
        if self.state.gateway.boot() {
            save_state(self.store.as_ref(), &self.id, &self.state)?;
        }
        Ok(())
    }

    /// Save the durable state (fault `state.save`: `power.loss`).
    fn save(&mut self) -> Result<(), WriteError> {
        if self.faults.fire(FaultPoint::StateSave) == Some(FaultEffect::PowerLoss) {
            return Err(WriteError::PowerLoss);
        }
        save_state(self.store.as_ref(), &self.id, &self.state)
            .map_err(|e| WriteError::Failed(e.to_string()))
    }

    /// A flash write (fault `install.write`: `power.loss`, `storage.write-error`).
    fn write(&mut self) -> Result<(), WriteError> {
        match self.faults.fire(FaultPoint::InstallWrite) {
            Some(FaultEffect::PowerLoss) => Err(WriteError::PowerLoss),
            Some(FaultEffect::StorageWriteError) => {
                Err(WriteError::Failed("the flash refused the write".into()))
            }
            _ => Ok(()),
        }
    }

    /// Write a checked `.fwu` body: the gateway's into its inactive slot (two saves), or every
    /// handset's (one save each).
    pub fn flash(&mut self, part: Part, version: &str, body: &[u8]) -> Result<(), WriteError> {
        match part {
            Part::Gateway => {
                self.state.gateway.invalidate_inactive();
                self.save()?;
                self.write()?;
                self.state
                    .gateway
                    .write_inactive(version, Sha256::digest(body).into());
                self.save()
            }
            Part::Handset => {
                for i in 0..self.state.handsets.len() {
                    self.write()?;
                    self.state.handsets[i].version = version.to_string();
                    self.save()?;
                }
                Ok(())
            }
        }
    }

    /// Switch to the written gateway image and reboot into it (two saves: the switch, the
    /// commit at boot).
    pub fn reboot_into_new_gateway(&mut self) -> Result<(), WriteError> {
        if !self.state.gateway.switch() {
            return Err(WriteError::Failed(
                "no complete gateway image to switch to".into(),
            ));
        }
        self.save()?;
        self.state.gateway.boot();
        self.save()
    }
}
