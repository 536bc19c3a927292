//! A device's firmware: two A/B slots and the installer, as a sans-IO state machine that survives
//! power loss between any two steps.
//!
//! # The install flow
//!
//! [`Firmware::begin`] starts an install aimed at the inactive slot; each call of
//! [`Firmware::step`] runs one named [`Step`] and says what the driver does next ([`Next`]):
//!
//! | step | what it does | then |
//! | --- | --- | --- |
//! | [`Step::Verify`] | [`package::verify`] and the memory check (fault `install.memory-check`); on success the inactive slot is invalidated (`Empty`), since it is about to be overwritten | `WriteInactive`, or `Done` with the package's code (402, 403, 404, 405, 502) |
//! | [`Step::WriteInactive`] | writes the image: the slot becomes `Pending` with the new version and payload hash (fault `install.write`) | `Reboot`, or `Done` with 410 |
//! | [`Step::Reboot`] | makes the new slot the active one and reboots (fault `install.reboot`) | the driver reboots; `boot` gives `BootVerify` |
//! | [`Step::BootVerify`] | the post-update check, on the new slot (fault `install.verify`) | `Commit`, or `Rollback` |
//! | [`Step::Commit`] | marks the new slot `Good`: the update is final | `Done` (200) |
//! | [`Step::Rollback`] | makes the old slot active again and erases the new one (fault `install.rollback`) | the driver reboots into the old slot; `Done` (410) |
//! | [`Step::Done`] | hands the outcome out, once, and ends the install | — |
//!
//! The driver persists the whole [`Firmware`] after every step (it is small: versions and hashes,
//! never payloads). A power loss between two steps loses the step in progress; [`Firmware::boot`]
//! then resolves the interrupted install from what was persisted.
//!
//! # Boot resolution
//!
//! Every power-up calls [`Firmware::boot`]. A boot the installer asked for (after `Reboot` or
//! `Rollback`) is planned; any other boot during an install is an interruption:
//!
//! - interrupted at `Verify` or `WriteInactive` (the image is not completely written): the install
//!   is abandoned. The device stays on the old firmware, the partly written slot is `Empty`, and the
//!   outcome is 410 ([`InstallFailure::PowerLoss`], `rolled_back: false`).
//! - interrupted at `Reboot` (the image is complete but the switch was not made): the install goes
//!   on from `Reboot`: a complete image is finished, not thrown away.
//! - interrupted at `BootVerify` or `Commit` (the device came up on the new, uncommitted slot): a
//!   new boot must prove itself, so it goes back to `BootVerify`, then commits or rolls back.
//! - interrupted at `Rollback` or `Done`: that step runs again (both are idempotent).
//! - more than [`MAX_INTERRUPTIONS`] interruptions of one install on the way to a commit (a power
//!   supply that keeps failing): at `Reboot` the install is abandoned, on the new slot it rolls
//!   back, both reporting [`InstallFailure::PowerLoss`] (410), so a flaky supply cannot keep a
//!   device booting forever.
//!
//! The reported version is always the active slot's version: a device never shows a mix. After
//! `Done` the active slot is `Good`.
//!
//! # Rollback failure
//!
//! `rollback.fail` at `Rollback` models an installer that cannot undo its work (the new slot cannot
//! be erased, the boot selector cannot be rewritten). The device still comes up on the old slot: as
//! in real A/B bootloaders, an uncommitted (`Pending`) slot gets one boot attempt and is never
//! chosen again over a `Good` one. The new image stays in the inactive slot, still `Pending` and
//! never booted (the next install overwrites it), and the outcome is 410
//! [`InstallFailure::RollbackFailed`] recording why the rollback was needed, with
//! `rolled_back: false` (the installer's rollback did not complete; the bootloader's fallback is
//! what saved the device).
//!
//! # Reporting exactly once
//!
//! The outcome is kept with the state; `Done` hands it out and sets `outcome_reported` in the same
//! transition. A driver persists that before it delivers the outcome (see [`Next::Done`]): if the
//! power goes before the persist, the next boot hands the same outcome out again, and if it goes
//! after, it is never handed out twice.

use crate::faults::{FaultEffect, FaultPoint, Faults};
use crate::outcome::{Cause, Rollback};
use crate::package::{self, Header, InstallError, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// How many unplanned boots one install survives on its way to a commit before it gives up.
pub const MAX_INTERRUPTIONS: u8 = 3;

/// One of the two firmware slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SlotId {
    A,
    B,
}

impl SlotId {
    /// The other slot.
    pub fn other(self) -> SlotId {
        match self {
            SlotId::A => SlotId::B,
            SlotId::B => SlotId::A,
        }
    }

    fn index(self) -> usize {
        match self {
            SlotId::A => 0,
            SlotId::B => 1,
        }
    }
}

/// What a slot holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SlotState {
    /// No bootable image (never written, invalidated before a write, or erased by a rollback).
    Empty,
    /// A committed image that boots.
    Good,
    /// A complete image that was never committed: booted once to be verified, never again.
    Pending,
}

/// One slot: the version of the image it holds and the hash of that image's payload (never the
/// payload itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    pub version: String,
    #[serde(with = "package::hex32")]
    pub payload_hash: [u8; 32],
    pub state: SlotState,
}

impl Slot {
    /// An empty slot.
    pub fn empty() -> Slot {
        Slot {
            version: String::new(),
            payload_hash: [0; 32],
            state: SlotState::Empty,
        }
    }
}

/// The named steps of an install, in their usual order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    Verify,
    WriteInactive,
    Reboot,
    BootVerify,
    Commit,
    Rollback,
    Done,
}

impl Step {
    /// Every step, in flow order.
    pub const ALL: &'static [Step] = &[
        Step::Verify,
        Step::WriteInactive,
        Step::Reboot,
        Step::BootVerify,
        Step::Commit,
        Step::Rollback,
        Step::Done,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Step::Verify => "verify",
            Step::WriteInactive => "write-inactive",
            Step::Reboot => "reboot",
            Step::BootVerify => "boot-verify",
            Step::Commit => "commit",
            Step::Rollback => "rollback",
            Step::Done => "done",
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an install failed. Each variant names the FUMO result code the OMA profile reports it as
/// (through [`InstallFailure::cause`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "kebab-case")]
pub enum InstallFailure {
    /// The package was refused at `Verify`, before anything was written: the code of the
    /// [`InstallError`] (402 corrupt, 403 device mismatch, 404 signature, 405 not acceptable, 502
    /// out of memory).
    #[error(transparent)]
    Package(InstallError),
    /// FUMO 410 Firmware Update Failed: the inactive slot could not be written
    /// (`install.write` → `storage.write-error`).
    #[error("writing the new firmware failed")]
    WriteFailed,
    /// FUMO 410 Firmware Update Failed: the new firmware failed its post-update verification
    /// (`install.verify` → `verify.fail`); the device rolled back.
    #[error("the new firmware failed its post-update verification")]
    VerifyFailed,
    /// FUMO 410 Firmware Update Failed: the rollback after `after` failed
    /// (`install.rollback` → `rollback.fail`); the device runs the old firmware through the
    /// bootloader's fallback.
    #[error("rolling back failed (it was needed because: {after})")]
    RollbackFailed { after: Box<InstallFailure> },
    /// FUMO 410 Firmware Update Failed: the power went out at `step` and the install could not be
    /// finished (see the module docs' boot resolution).
    #[error("the power went out during {step}")]
    PowerLoss { step: Step },
}

impl InstallFailure {
    /// Why the install ended, for the device's profile to give the code.
    pub fn cause(&self) -> Cause {
        match self {
            InstallFailure::Package(e) => e.cause(),
            InstallFailure::WriteFailed => Cause::WriteFailed,
            InstallFailure::VerifyFailed => Cause::VerifyFailed,
            InstallFailure::RollbackFailed { .. } => Cause::RollbackFailed,
            InstallFailure::PowerLoss { .. } => Cause::PowerLost,
        }
    }
}

impl InstallFailure {
    /// Whether the rollback itself failed.
    fn rollback_failed(&self) -> bool {
        matches!(self, InstallFailure::RollbackFailed { .. })
    }
}

/// How an install ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InstallOutcome {
    /// The device runs `to` (FUMO 200).
    Updated { from: String, to: String },
    /// The device runs the firmware it ran before. `rolled_back` says it had switched to the new
    /// slot and the installer switched it back cleanly.
    Failed {
        error: InstallFailure,
        rolled_back: bool,
    },
}

impl InstallOutcome {
    /// Why the install ended, and what it rolled back: the flow's outcome in the install phase.
    pub fn cause(&self) -> (Cause, Rollback) {
        match self {
            InstallOutcome::Updated { .. } => (Cause::Succeeded, Rollback::NotNeeded),
            InstallOutcome::Failed { error, .. } if error.rollback_failed() => {
                (error.cause(), Rollback::Failed)
            }
            InstallOutcome::Failed {
                error,
                rolled_back: true,
            } => (error.cause(), Rollback::Done),
            InstallOutcome::Failed { error, .. } => (error.cause(), Rollback::NotNeeded),
        }
    }
}

/// An install in progress, as persisted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Install {
    step: Step,
    /// The version the device ran when the install began.
    from: String,
    /// The slot being written (the inactive one when the install began).
    target: SlotId,
    /// The verified header, from `Verify` on.
    package: Option<Header>,
    /// Why the install is rolling back.
    failure: Option<InstallFailure>,
    /// The installer asked for the next boot (after `Reboot`, `Rollback`).
    rebooting: bool,
    /// Unplanned boots so far.
    interruptions: u8,
}

impl Install {
    /// The step that runs next.
    pub fn step(&self) -> Step {
        self.step
    }
    pub fn from_version(&self) -> &str {
        &self.from
    }
    pub fn target(&self) -> SlotId {
        self.target
    }
    /// The verified package header, once `Verify` passed.
    pub fn package(&self) -> Option<&Header> {
        self.package.as_ref()
    }
    pub fn interruptions(&self) -> u8 {
        self.interruptions
    }
}

/// What the driver does after a step or a boot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// No install in progress.
    Idle,
    /// Persist the state, then call [`Firmware::step`] again: this step runs next.
    Continue(Step),
    /// Persist the state, then reboot: (drop and reload the state if the driver simulates that),
    /// call [`Firmware::boot`], persist, and go on stepping.
    Reboot,
    /// The power went out in the middle of the step: persist nothing, drop the in-memory state,
    /// reload the last persisted one, call [`Firmware::boot`], persist, and go on stepping.
    PowerLoss,
    /// The install is over: persist the state (it records that the outcome was handed out), then
    /// deliver this outcome. It is handed out once.
    Done(InstallOutcome),
}

/// What a step needs from the device.
pub struct Env<'a> {
    /// The stored update package (used by `Verify`).
    pub package: &'a [u8],
    /// The key the device trusts for packages.
    pub trusted: &'a VerifyingKey,
    /// The device's model.
    pub model: &'a str,
    /// Memory free for the install, in bytes.
    pub free_memory: u64,
    /// The device's faults.
    pub faults: &'a mut Faults,
}

/// Why an install cannot begin.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BeginError {
    #[error("an install is already in progress (at {0})")]
    Busy(Step),
}

/// The firmware of one device: slots, the active one, an install in progress and the last outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Firmware {
    slots: [Slot; 2],
    active: SlotId,
    install: Option<Install>,
    outcome: Option<InstallOutcome>,
    outcome_reported: bool,
}

impl Firmware {
    /// A device as shipped: `version` in slot A (its payload hash derived from the version), slot B
    /// empty.
    pub fn factory(version: impl Into<String>) -> Firmware {
        let version = version.into();
        let hash = Sha256::digest(format!("dmsim factory image {version}")).into();
        Firmware::with_image(version, hash)
    }

    /// A device running `version` (payload hash `payload_hash`) from slot A, slot B empty.
    pub fn with_image(version: impl Into<String>, payload_hash: [u8; 32]) -> Firmware {
        Firmware {
            slots: [
                Slot {
                    version: version.into(),
                    payload_hash,
                    state: SlotState::Good,
                },
                Slot::empty(),
            ],
            active: SlotId::A,
            install: None,
            outcome: None,
            outcome_reported: false,
        }
    }

    /// The version the device runs and reports: always exactly the active slot's.
    pub fn version(&self) -> &str {
        &self.slot(self.active).version
    }

    pub fn active(&self) -> SlotId {
        self.active
    }

    pub fn slot(&self, id: SlotId) -> &Slot {
        &self.slots[id.index()]
    }

    /// The install in progress, if any.
    pub fn install(&self) -> Option<&Install> {
        self.install.as_ref()
    }

    /// The outcome of the last install (kept after it was handed out).
    pub fn outcome(&self) -> Option<&InstallOutcome> {
        self.outcome.as_ref()
    }

    /// Whether [`Step::Done`] handed the last outcome out.
    pub fn outcome_reported(&self) -> bool {
        self.outcome_reported
    }

    /// Start an install into the inactive slot; the first step is [`Step::Verify`].
    pub fn begin(&mut self) -> Result<(), BeginError> {
        if let Some(install) = &self.install {
            return Err(BeginError::Busy(install.step));
        }
        self.install = Some(Install {
            step: Step::Verify,
            from: self.version().to_string(),
            target: self.active.other(),
            package: None,
            failure: None,
            rebooting: false,
            interruptions: 0,
        });
        self.outcome = None;
        self.outcome_reported = false;
        Ok(())
    }

    /// Run the install's next step (the pure transition: the only effects are on `self` and the
    /// device's fault counters).
    pub fn step(&mut self, env: &mut Env<'_>) -> Next {
        let Some(install) = &self.install else {
            return Next::Idle;
        };
        let (step, target) = (install.step, install.target);
        match step {
            Step::Verify => self.verify(env, target),
            Step::WriteInactive => match env.faults.fire(FaultPoint::InstallWrite) {
                Some(FaultEffect::PowerLoss) => Next::PowerLoss,
                Some(FaultEffect::StorageWriteError) => self.finish(InstallOutcome::Failed {
                    error: InstallFailure::WriteFailed,
                    rolled_back: false,
                }),
                _ => match self.header().cloned() {
                    None => self.abandon(step),
                    Some(header) => {
                        self.slots[target.index()] = Slot {
                            version: header.to_version,
                            payload_hash: header.payload_hash,
                            state: SlotState::Pending,
                        };
                        self.go(Step::Reboot)
                    }
                },
            },
            Step::Reboot => {
                if env.faults.fire(FaultPoint::InstallReboot) == Some(FaultEffect::PowerLoss) {
                    return Next::PowerLoss;
                }
                if self.slot(target).state != SlotState::Pending {
                    return self.abandon(step);
                }
                self.active = target;
                self.go(Step::BootVerify);
                self.set_rebooting();
                Next::Reboot
            }
            Step::BootVerify => {
                let fault =
                    env.faults.fire(FaultPoint::InstallVerify) == Some(FaultEffect::VerifyFail);
                let slot = self.slot(target);
                let image_ok = self.active == target
                    && slot.state == SlotState::Pending
                    && self.header().is_some_and(|h| {
                        h.to_version == slot.version && h.payload_hash == slot.payload_hash
                    });
                if fault || !image_ok {
                    self.rollback_because(InstallFailure::VerifyFailed)
                } else {
                    self.go(Step::Commit)
                }
            }
            Step::Commit => {
                self.slots[target.index()].state = SlotState::Good;
                let from = install.from.clone();
                let to = self.slot(target).version.clone();
                self.finish(InstallOutcome::Updated { from, to })
            }
            Step::Rollback => {
                let cause = install
                    .failure
                    .clone()
                    .unwrap_or(InstallFailure::VerifyFailed);
                // Either way the device comes up on the old slot (see "Rollback failure").
                self.active = target.other();
                let outcome = if env.faults.fire(FaultPoint::InstallRollback)
                    == Some(FaultEffect::RollbackFail)
                {
                    InstallOutcome::Failed {
                        error: InstallFailure::RollbackFailed {
                            after: Box::new(cause),
                        },
                        rolled_back: false,
                    }
                } else {
                    self.slots[target.index()] = Slot::empty();
                    InstallOutcome::Failed {
                        error: cause,
                        rolled_back: true,
                    }
                };
                self.finish(outcome);
                self.set_rebooting();
                Next::Reboot
            }
            Step::Done => {
                self.install = None;
                match &self.outcome {
                    Some(outcome) if !self.outcome_reported => {
                        self.outcome_reported = true;
                        Next::Done(outcome.clone())
                    }
                    _ => Next::Idle,
                }
            }
        }
    }

    /// Power-up: resolve an interrupted install from the persisted state (module docs, "Boot
    /// resolution"). Returns what runs next: [`Next::Idle`] or [`Next::Continue`].
    pub fn boot(&mut self) -> Next {
        let Some(install) = &mut self.install else {
            // The bootloader never runs a slot that is not Good when a Good one exists.
            if self.slot(self.active).state != SlotState::Good
                && self.slot(self.active.other()).state == SlotState::Good
            {
                self.active = self.active.other();
            }
            return Next::Idle;
        };
        if !std::mem::take(&mut install.rebooting) {
            install.interruptions = install.interruptions.saturating_add(1);
        }
        let exhausted = install.interruptions > MAX_INTERRUPTIONS;
        let (step, target) = (install.step, install.target);
        match step {
            Step::Verify | Step::WriteInactive => self.abandon(step),
            Step::Reboot if exhausted || self.active == target => self.abandon(step),
            Step::Reboot => Next::Continue(Step::Reboot),
            Step::BootVerify | Step::Commit if self.active != target => self.abandon(step),
            Step::BootVerify | Step::Commit if exhausted => {
                self.rollback_because(InstallFailure::PowerLoss { step })
            }
            Step::BootVerify | Step::Commit => self.go(Step::BootVerify),
            Step::Rollback | Step::Done => Next::Continue(step),
        }
    }

    fn verify(&mut self, env: &mut Env<'_>, target: SlotId) -> Next {
        let checked = package::verify(env.package, env.trusted, env.model, self.version())
            .and_then(|package| {
                let free = match env.faults.fire(FaultPoint::InstallMemoryCheck) {
                    Some(FaultEffect::MemoryLow) => 0,
                    _ => env.free_memory,
                };
                package::check_memory(&package, free).map(|()| package)
            });
        match checked {
            Err(e) => self.finish(InstallOutcome::Failed {
                error: InstallFailure::Package(e),
                rolled_back: false,
            }),
            Ok(package) => {
                if let Some(install) = &mut self.install {
                    install.package = Some(package.header);
                }
                // The inactive slot is about to be overwritten: it no longer holds a bootable image.
                self.slots[target.index()] = Slot::empty();
                self.go(Step::WriteInactive)
            }
        }
    }

    fn header(&self) -> Option<&Header> {
        self.install.as_ref().and_then(|i| i.package.as_ref())
    }

    fn go(&mut self, step: Step) -> Next {
        if let Some(install) = &mut self.install {
            install.step = step;
        }
        Next::Continue(step)
    }

    fn set_rebooting(&mut self) {
        if let Some(install) = &mut self.install {
            install.rebooting = true;
        }
    }

    fn rollback_because(&mut self, failure: InstallFailure) -> Next {
        if let Some(install) = &mut self.install {
            install.failure = Some(failure);
        }
        self.go(Step::Rollback)
    }

    /// Decide the outcome; `Done` hands it out.
    fn finish(&mut self, outcome: InstallOutcome) -> Next {
        self.outcome = Some(outcome);
        self.outcome_reported = false;
        self.go(Step::Done)
    }

    /// Give up an install that never ran the new slot: the old slot stays active, the target slot
    /// is erased (unless `Verify` never got to invalidate it).
    fn abandon(&mut self, step: Step) -> Next {
        if let Some(install) = &self.install {
            let target = install.target;
            if install.package.is_some() {
                self.slots[target.index()] = Slot::empty();
            }
            self.active = target.other();
        }
        self.finish(InstallOutcome::Failed {
            error: InstallFailure::PowerLoss { step },
            rolled_back: false,
        })
    }
}

/// Run an install to its end as a simple driver would: `persist` after every step, and on a reboot
/// or a power loss `reload` the last persisted state and boot it. Returns the outcome, or `None`
/// when no install was in progress (or its outcome had already been handed out).
pub fn drive<E>(
    firmware: &mut Firmware,
    env: &mut Env<'_>,
    mut persist: impl FnMut(&Firmware) -> Result<(), E>,
    mut reload: impl FnMut() -> Result<Firmware, E>,
) -> Result<Option<InstallOutcome>, E> {
    loop {
        match firmware.step(env) {
            Next::Idle => return Ok(None),
            Next::Continue(_) => persist(firmware)?,
            Next::Reboot => {
                persist(firmware)?;
                *firmware = reload()?;
                firmware.boot();
                persist(firmware)?;
            }
            Next::PowerLoss => {
                *firmware = reload()?;
                firmware.boot();
                persist(firmware)?;
            }
            Next::Done(outcome) => {
                persist(firmware)?;
                return Ok(Some(outcome));
            }
        }
    }
}

#[cfg(test)]
mod tests;
