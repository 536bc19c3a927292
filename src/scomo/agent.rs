//! The SCOMO agent's state on one device: the delivered packages and their bytes, the deployed
//! components, the Status of every `Download/<p>`, and the job the server started. The
//! transitions are in [`super::job`]; [`crate::jobs`] runs a job with the download's I/O and the
//! saves in between.
//!
//! # Jobs
//!
//! An Exec on an operation node (see [`super::mo`]) is answered 202 and makes a job with the
//! Exec's Correlator and, for the Download operations, the `PkgURL` of that moment; an Exec while a
//! job is queued, or after another one was accepted earlier in the same Atomic, is 409 Conflict; an
//! Exec on the operations of a Delivered or Deployed node the agent does not hold is 404.
//!
//! A device set up with [`ExecWhileBusy::Abort`] takes an Exec that comes while it has a job
//! instead (202, as for any operation it accepts), and aborts that second transaction: "another
//! transaction is already in progress" (Samsung's E-FOTA client reports it -1447). Its operation is
//! not carried out (no Status changes), and it is reported on its own, with its own Source and
//! correlator, as `start.transaction-in-progress`, before the job in progress goes on; the job in
//! progress is untouched. Which of two Execs is the second is decided when they take effect, so
//! two in one Atomic are the first and the second of its commit. At most [`MAX_ABORTED`] aborted
//! transactions wait for their reports; an Exec beyond them is refused 409. The job
//! runs after the session and ends with one Generic Alert 1226 of type
//! [`OPERATION_COMPLETE`](crate::protocol::scomo::OPERATION_COMPLETE) (or the draft-era type, when
//! the device is set up so), Source the operation node, Target the Delivered or Deployed node it
//! produced or acted on, Data the result fragment with the profile's SCOMO result and the package's
//! or component's id.
//!
//! # The blob
//!
//! The agent's byte blob is the component files of a device that verifies and rolls back (see
//! [`super::files`]; none otherwise), in the order of [`ScomoDurable::files`], then the bytes of
//! every delivered package, in the order of [`ScomoDurable::delivered`], then the bytes of the
//! download in progress; the durable state counts each length, and bytes past what it counts are
//! not trusted after a power loss.

use super::files::{ComponentFile, FileKind};
use super::mo::{self, Area};
use crate::download::Partial;
use crate::engine::{Action, Agent, ConditionsPrompt, Env, Input, Reported, SimSeconds, Ticket};
use crate::outcome::Outcome;
use crate::package::VerifyingKey;
use crate::protocol::download::DlStatus;
use crate::protocol::scomo::{
    DeliveredState, DeliveredStatus, DeployedState, DeployedStatus, DownloadStatus, ResultData,
    ScomoOperation, LEGACY_OPERATION_COMPLETE, OPERATION_COMPLETE,
};
use crate::syncml::{GenericAlert, StatusCode};
use crate::tree::{uri, Tree, TreeError};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// How a device's SCOMO agent is set up: shared by every device of a run.
#[derive(Debug, Clone)]
pub struct ScomoConfig {
    /// The object's `<x>`.
    pub root: String,
    /// The execution environment types the device has.
    pub env_types: Vec<String>,
    /// Report with the draft-era alert type (Nokia's) instead of the OMA one.
    pub legacy_alert_type: bool,
    /// The operations the device implements; an Exec on another is accepted (202) and its job
    /// ends at once, not implemented (SCOMO 1411).
    pub operations: Vec<ScomoOperation>,
    /// Whether an Active component may be removed (otherwise it is in use: Remove fails, and the
    /// server must Deactivate it first).
    pub remove_active: bool,
    /// The key delivery packages must be signed with: the device's trust anchor, which also
    /// issues the certificates a package or a component may be signed under.
    pub trusted: VerifyingKey,
    /// The sub-devices (attached peripherals) the device has, by id: a component for another one
    /// is skipped ([`crate::package::missing_sub_device`]).
    pub sub_devices: Vec<String>,
    /// Ask the user to accept the installation conditions before an install
    /// ([`crate::engine::prompt`]); `None` (the default) does not ask.
    pub install_conditions: Option<ConditionsPrompt>,
    /// What an Exec gets while a job is queued or running (see the module docs).
    pub exec_while_busy: ExecWhileBusy,
    /// Post-update verification and version rollback (see [`super::files`]): the device keeps
    /// each deployed component's installed file and, while a job runs, the source version file of
    /// each component it replaces; it verifies every component it installed, rolls back to the
    /// source versions when the install or the verification fails, and takes a trial install
    /// (Exec Data `rollback=after-install`). Off: none of it, as before.
    pub verify_and_rollback: bool,
}

/// What a SCOMO device does with an Exec that comes while it has a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExecWhileBusy {
    /// Refuse it: SyncML 409 Conflict, nothing reported later (the default, as FUMO does).
    #[default]
    Conflict,
    /// Accept it (202) and abort its transaction at once: it is reported on its own, before the
    /// job in progress goes on, as `start.transaction-in-progress`.
    Abort,
}

/// Most transactions a device holds aborted, waiting to be reported; an Exec beyond them is
/// refused (409), so a server cannot make the device's state grow without bound.
pub const MAX_ABORTED: usize = 16;

impl ScomoConfig {
    /// The object at `root`, Android and Linux environments, packages signed with the test key.
    pub fn new(root: impl Into<String>) -> ScomoConfig {
        ScomoConfig {
            root: root.into(),
            env_types: vec!["Android".to_string(), "Linux".to_string()],
            legacy_alert_type: false,
            operations: ScomoOperation::ALL.to_vec(),
            remove_active: true,
            trusted: crate::package::test_signing_key().verifying_key(),
            sub_devices: Vec::new(),
            install_conditions: None,
            exec_while_busy: ExecWhileBusy::Conflict,
            verify_and_rollback: false,
        }
    }
}

/// A component installed by the job in progress, and what it replaced (for the rollback).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Installed {
    pub id: String,
    pub previous: Option<Deployed>,
    /// The previous version's file was kept as the source version file (on a device that rolls
    /// back, when the previous version had an installed file).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub source: bool,
}

/// Why a job returns the components it installed to their source versions (on a device that
/// rolls back), which names the outcome's phase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RevertReason {
    /// Writing component `component` failed (`install.*`).
    InstallFailed { component: String },
    /// Component `component` failed its post-update verification (`verify.*`), as `detail` says.
    VerifyFailed { component: String, detail: String },
    /// The server asked for a trial install (`trial.*`).
    Requested,
}

/// Where a job is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Accepted; nothing done yet.
    Start,
    /// Downloading (`Download/<p>/Status` 30); `attempts` made so far.
    Download { attempts: u32 },
    /// The whole package is held (Status 40); next it is verified and delivered.
    Downloaded,
    /// Installing the components of `Delivered/<delivered>`, one per step: `next` is the index
    /// of the next one, `installed` those this job installed so far, `skipped` those it skipped
    /// (their sub-device is missing).
    Install {
        delivered: String,
        next: usize,
        installed: Vec<Installed>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        skipped: Vec<String>,
    },
    /// Component `failed` did not install: those installed before it are removed, the last first,
    /// one per step.
    Rollback {
        delivered: String,
        failed: String,
        remaining: Vec<Installed>,
    },
    /// The user never answered the installation conditions of `Delivered/<delivered>`: the prompt
    /// is up until it times out, then the install fails `checks.conditions-timeout`.
    ConditionsTimeout { delivered: String },
    /// On a device that verifies: verifying the components the job installed, one per step:
    /// `next` is the index in `installed` of the next one; `skipped` those the install skipped
    /// (their sub-device is missing).
    Verify {
        delivered: String,
        next: usize,
        installed: Vec<Installed>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        skipped: Vec<String>,
    },
    /// On a device that rolls back: the components the job installed (`remaining`) returned to
    /// their source versions or removed, the last first, one per step, for `reason`.
    Revert {
        delivered: String,
        reason: RevertReason,
        remaining: Vec<Installed>,
    },
    /// An operation on a Delivered or Deployed node, its Status showing it in progress.
    Operate,
}

/// An operation the server started, as persisted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    pub area: Area,
    /// The `<p>`, `<d>` or `<c>` the Exec was on.
    pub name: String,
    pub operation: ScomoOperation,
    pub correlator: Option<String>,
    /// The `PkgURL` when the Exec came (empty for the other operations).
    pub url: String,
    /// A trial install: once installed (and verified), the components are returned to their
    /// source versions (Exec Data `rollback=after-install`, on a device that rolls back).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub trial: bool,
    pub phase: Phase,
}

impl Job {
    /// The operation node's path relative to the root.
    pub fn path(&self) -> String {
        mo::OperationAt {
            area: self.area,
            name: self.name.clone(),
            operation: self.operation,
        }
        .path()
    }

    /// The operation in the terms of outcomes.
    pub fn outcome_operation(&self) -> crate::outcome::Operation {
        use crate::outcome::Operation as O;
        match self.operation {
            ScomoOperation::Download => O::Download,
            ScomoOperation::DownloadInstall => O::DownloadAndInstall,
            ScomoOperation::DownloadInstallInactive => O::DownloadAndInstallInactive,
            ScomoOperation::Install => O::Install,
            ScomoOperation::InstallInactive => O::InstallInactive,
            ScomoOperation::Remove => O::Remove,
            ScomoOperation::Activate => O::Activate,
            ScomoOperation::Deactivate => O::Deactivate,
        }
    }

    /// Whether the components it installs stay inactive.
    pub fn inactive(&self) -> bool {
        matches!(
            self.operation,
            ScomoOperation::DownloadInstallInactive | ScomoOperation::InstallInactive
        )
    }
}

/// A delivered package (`Inventory/Delivered/<node>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivered {
    pub node: String,
    pub pkg_id: String,
    pub name: String,
    pub description: String,
    pub pkg_type: String,
    pub status: DeliveredStatus,
    pub state: DeliveredState,
    /// Its bytes in the blob.
    pub len: u64,
}

/// An installed component (`Inventory/Deployed/<node>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployed {
    pub node: String,
    pub id: String,
    pub pkg_id_ref: String,
    pub name: String,
    pub description: String,
    pub version: String,
    pub env_type: String,
    pub status: DeployedStatus,
    pub state: DeployedState,
}

/// The download in progress: the object's URL and expected size, and the bytes held (after the
/// delivered packages' in the blob).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Pending {
    pub url: String,
    pub expected_size: Option<u64>,
    /// The validator of the version the bytes held are of ([`Partial::validator`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validator: Option<String>,
    pub len: u64,
    /// The bytes are the whole object.
    pub complete: bool,
}

/// What the device keeps of SCOMO across a power loss.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ScomoDurable {
    pub delivered: Vec<Delivered>,
    pub deployed: Vec<Deployed>,
    /// The Status of each `Download/<p>` the agent acted on.
    pub downloads: Vec<(String, DownloadStatus)>,
    pub job: Option<Job>,
    pub pending: Pending,
    /// Transactions accepted while `job` was queued or running, aborted for it and not reported
    /// yet, in the order they came ([`ExecWhileBusy::Abort`]).
    #[serde(default)]
    pub aborted: Vec<Job>,
    /// The component files, on a device that verifies and rolls back (their bytes first in the
    /// blob).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<ComponentFile>,
}

/// One value a Status node took.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusRecord {
    pub area: Area,
    pub node: String,
    pub value: u16,
}

/// What the agent did, for expectations and observations (not device memory: it survives the
/// simulated power losses).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScomoRecords {
    /// Every value a Status node took, in order (a node's value is recorded when it changes).
    pub statuses: Vec<StatusRecord>,
    /// How every job ended, and the code reported for it.
    pub results: Vec<Reported>,
    /// The DL status of every download attempt that read a descriptor.
    pub dl_statuses: Vec<DlStatus>,
    /// Times the device booted again.
    pub boots: u32,
}

/// SCOMO on one device.
#[derive(Debug, Clone)]
pub struct Scomo {
    pub config: Arc<ScomoConfig>,
    pub durable: ScomoDurable,
    /// The blob (see the module docs).
    pub bytes: Vec<u8>,
    pub bytes_dirty: bool,
    pub records: ScomoRecords,
    /// The result of the job that just ended, until the save that reports it lands.
    pub(super) ending: Option<Reported>,
}

impl Scomo {
    /// The agent of a device with nothing delivered or deployed.
    pub fn new(config: Arc<ScomoConfig>) -> Scomo {
        Scomo {
            config,
            durable: ScomoDurable::default(),
            bytes: Vec::new(),
            bytes_dirty: false,
            records: ScomoRecords::default(),
            ending: None,
        }
    }

    /// `uri` relative to the root, when it is under it.
    fn relative(&self, uri: &str) -> Option<String> {
        let canonical = uri::canonical(uri.split('?').next().unwrap_or(uri))?;
        let root = uri::canonical(&self.config.root)?;
        canonical
            .strip_prefix(root.as_str())?
            .strip_prefix('/')
            .map(str::to_string)
    }

    // ---- the blob ----

    /// The bytes of the delivered packages the device stores.
    pub(super) fn delivered_len(&self) -> usize {
        self.durable
            .delivered
            .iter()
            .map(|d| usize::try_from(d.len).unwrap_or(usize::MAX))
            .fold(0usize, usize::saturating_add)
    }

    /// The bytes of the component files and the delivered packages: where the download in
    /// progress begins.
    fn stored_len(&self) -> usize {
        self.files_len().saturating_add(self.delivered_len())
    }

    /// Where the bytes of the delivered package at `index` are in the blob (the lengths come from
    /// saved state, so the arithmetic is checked: a range that cannot be is empty).
    fn package_range(&self, index: usize) -> std::ops::Range<usize> {
        let len = |d: &Delivered| usize::try_from(d.len).ok();
        let start = self.durable.delivered[..index.min(self.durable.delivered.len())]
            .iter()
            .try_fold(self.files_len(), |sum, d| sum.checked_add(len(d)?));
        let end = start.and_then(|s| {
            let own = self.durable.delivered.get(index).map_or(Some(0), len)?;
            s.checked_add(own)
        });
        match (start, end) {
            (Some(s), Some(e)) if e <= self.bytes.len() => s..e,
            _ => 0..0,
        }
    }

    /// The bytes of the delivered package at `index`.
    pub fn package(&self, index: usize) -> &[u8] {
        &self.bytes[self.package_range(index)]
    }

    /// Delete the bytes of the delivered package at `index`, keeping its node (an install that
    /// failed without data, reference §6.2).
    pub(super) fn drop_delivered_data(&mut self, index: usize) {
        let range = self.package_range(index);
        self.bytes.drain(range);
        if let Some(d) = self.durable.delivered.get_mut(index) {
            d.len = 0;
        }
        self.bytes_dirty = true;
    }

    /// The index of the delivered package at node `name`.
    pub fn delivered_index(&self, name: &str) -> Option<usize> {
        self.durable.delivered.iter().position(|d| d.node == name)
    }

    /// Take the download in progress (to resume from).
    pub(super) fn take_partial(&mut self) -> Partial {
        let start = self.stored_len().min(self.bytes.len());
        if self.durable.pending.complete {
            return Partial::new();
        }
        let bytes = self.bytes.split_off(start);
        self.bytes_dirty = true;
        Partial {
            url: self.durable.pending.url.clone(),
            bytes,
            expected_size: self.durable.pending.expected_size,
            validator: self.durable.pending.validator.clone(),
        }
    }

    /// Keep what a download attempt left (`complete`: the whole object).
    pub(super) fn keep_pending(&mut self, partial: Partial, complete: bool) {
        let start = self.stored_len().min(self.bytes.len());
        self.bytes.truncate(start);
        self.durable.pending = Pending {
            url: partial.url,
            expected_size: partial.expected_size,
            validator: partial.validator,
            len: partial.bytes.len() as u64,
            complete,
        };
        self.bytes.extend_from_slice(&partial.bytes);
        self.bytes_dirty = true;
    }

    /// The bytes of the download in progress.
    pub(super) fn pending_bytes(&self) -> &[u8] {
        let start = self.stored_len().min(self.bytes.len());
        &self.bytes[start..]
    }

    /// Forget the download in progress.
    pub(super) fn drop_pending(&mut self) {
        let start = self.stored_len().min(self.bytes.len());
        self.bytes.truncate(start);
        self.durable.pending = Pending::default();
        self.bytes_dirty = true;
    }

    /// Make the whole download in progress the delivered package `delivered` (replacing one at the
    /// same node).
    pub(super) fn deliver(&mut self, delivered: Delivered, tree: &mut Tree, now: u64) {
        let package = self.pending_bytes().to_vec();
        self.drop_pending();
        if let Some(index) = self.delivered_index(&delivered.node) {
            self.remove_delivered(index, tree);
        }
        let start = self.stored_len().min(self.bytes.len());
        self.bytes.truncate(start);
        self.bytes.extend_from_slice(&package);
        let delivered = Delivered {
            len: package.len() as u64,
            ..delivered
        };
        self.durable.delivered.push(delivered.clone());
        self.bytes_dirty = true;
        self.record(Area::Delivered, &delivered.node, delivered.status.code());
        self.sync_tree(tree, now);
    }

    /// Deliver a package the server pushed: its bytes join the delivered ones, ahead of a download
    /// in progress (which stays as it was).
    fn deliver_in_band(
        &mut self,
        delivered: Delivered,
        package: Vec<u8>,
        tree: &mut Tree,
        now: u64,
    ) {
        if let Some(index) = self.delivered_index(&delivered.node) {
            let range = self.package_range(index);
            self.bytes.drain(range);
            self.durable.delivered.remove(index);
        }
        let at = self.stored_len().min(self.bytes.len());
        let len = package.len() as u64;
        self.bytes.splice(at..at, package);
        let delivered = Delivered { len, ..delivered };
        self.durable.delivered.push(delivered.clone());
        self.bytes_dirty = true;
        self.record(Area::Delivered, &delivered.node, delivered.status.code());
        self.sync_tree(tree, now);
    }

    /// Forget the delivered package at `index`, its bytes and its node.
    pub(super) fn remove_delivered(&mut self, index: usize, tree: &mut Tree) {
        let range = self.package_range(index);
        self.bytes.drain(range);
        let removed = self.durable.delivered.remove(index);
        self.bytes_dirty = true;
        let node = mo::entry(&self.config.root, Area::Delivered, &removed.node);
        if let Err(e) = tree.remove(&node) {
            tracing::warn!(node, error = %e, "cannot remove a Delivered node");
        }
    }

    // ---- Status values ----

    fn record(&mut self, area: Area, node: &str, value: u16) {
        let last = self
            .records
            .statuses
            .iter()
            .rev()
            .find(|r| r.area == area && r.node == node)
            .map(|r| r.value);
        if last != Some(value) {
            self.records.statuses.push(StatusRecord {
                area,
                node: node.to_string(),
                value,
            });
        }
    }

    /// Set `Download/<p>/Status`.
    pub(super) fn set_download_status(
        &mut self,
        tree: &mut Tree,
        name: &str,
        status: DownloadStatus,
        now: u64,
    ) {
        match self.durable.downloads.iter_mut().find(|(n, _)| n == name) {
            Some((_, s)) => *s = status,
            None => self.durable.downloads.push((name.to_string(), status)),
        }
        self.record(Area::Download, name, status.code());
        self.sync_tree(tree, now);
    }

    /// Set a Delivered node's Status and State.
    pub(super) fn set_delivered(
        &mut self,
        tree: &mut Tree,
        name: &str,
        status: DeliveredStatus,
        state: Option<DeliveredState>,
        now: u64,
    ) {
        if let Some(d) = self.durable.delivered.iter_mut().find(|d| d.node == name) {
            d.status = status;
            if let Some(state) = state {
                d.state = state;
            }
            self.record(Area::Delivered, name, status.code());
            self.sync_tree(tree, now);
        }
    }

    /// Set a Deployed node's Status and State.
    pub(super) fn set_deployed(
        &mut self,
        tree: &mut Tree,
        name: &str,
        status: DeployedStatus,
        state: Option<DeployedState>,
        now: u64,
    ) {
        if let Some(c) = self.durable.deployed.iter_mut().find(|c| c.node == name) {
            c.status = status;
            if let Some(state) = state {
                c.state = state;
            }
            self.record(Area::Deployed, name, status.code());
            self.sync_tree(tree, now);
        }
    }

    /// Put `component` in the inventory (replacing the one with its id), returning the one it
    /// replaced.
    pub(super) fn deploy(
        &mut self,
        component: Deployed,
        tree: &mut Tree,
        now: u64,
    ) -> Option<Deployed> {
        let previous = self
            .durable
            .deployed
            .iter()
            .position(|c| c.id == component.id)
            .map(|i| self.durable.deployed.remove(i));
        if let Some(p) = &previous {
            if p.node != component.node {
                self.remove_deployed_node(tree, &p.node);
            }
        }
        self.record(Area::Deployed, &component.node, component.status.code());
        self.durable.deployed.push(component);
        self.sync_tree(tree, now);
        previous
    }

    /// Take the component `id` out of the inventory, with its installed file.
    pub(super) fn undeploy(&mut self, id: &str, tree: &mut Tree) -> Option<Deployed> {
        let index = self.durable.deployed.iter().position(|c| c.id == id)?;
        let removed = self.durable.deployed.remove(index);
        self.remove_deployed_node(tree, &removed.node);
        if let Some(file) = self.file_index(FileKind::Installed, id) {
            self.remove_file(file);
        }
        Some(removed)
    }

    fn remove_deployed_node(&self, tree: &mut Tree, name: &str) {
        let node = mo::entry(&self.config.root, Area::Deployed, name);
        if let Err(e) = tree.remove(&node) {
            tracing::warn!(node, error = %e, "cannot remove a Deployed node");
        }
    }

    /// A free node name for component `id` under Deployed.
    pub(super) fn deployed_node_name(&self, id: &str) -> String {
        if let Some(c) = self.durable.deployed.iter().find(|c| c.id == id) {
            return c.node.clone();
        }
        let taken = |n: &str| self.durable.deployed.iter().any(|c| c.node == n);
        let preferred = mo::node_name(id, "");
        if !preferred.is_empty() && !taken(&preferred) {
            return preferred;
        }
        (1..)
            .map(|n| format!("c{n}"))
            .find(|n| !taken(n))
            .unwrap_or_default()
    }

    /// Make the tree show the durable state: every Delivered and Deployed node (and no other), and
    /// the Status of every `Download/<p>` that is still there.
    pub fn sync_tree(&self, tree: &mut Tree, now: u64) {
        if let Err(e) = self.try_sync_tree(tree, now) {
            tracing::warn!(root = self.config.root, error = %e, "cannot show the SCOMO state");
        }
    }

    fn try_sync_tree(&self, tree: &mut Tree, now: u64) -> Result<(), TreeError> {
        let root = self.config.root.as_str();
        for name in mo::names(tree, root, Area::Delivered) {
            if !self.durable.delivered.iter().any(|d| d.node == name) {
                tree.remove(&mo::entry(root, Area::Delivered, &name))?;
            }
        }
        for d in &self.durable.delivered {
            mo::put_delivered(
                tree,
                root,
                &d.node,
                &mo::DeliveredNodes {
                    pkg_id: &d.pkg_id,
                    name: &d.name,
                    description: &d.description,
                    pkg_type: &d.pkg_type,
                    status: d.status,
                    state: d.state,
                },
            )?;
        }
        for name in mo::names(tree, root, Area::Deployed) {
            if !self.durable.deployed.iter().any(|c| c.node == name) {
                tree.remove(&mo::entry(root, Area::Deployed, &name))?;
            }
        }
        for c in &self.durable.deployed {
            mo::put_deployed(
                tree,
                root,
                &c.node,
                &mo::DeployedNodes {
                    id: &c.id,
                    pkg_id_ref: &c.pkg_id_ref,
                    name: &c.name,
                    description: &c.description,
                    version: &c.version,
                    env_type: &c.env_type,
                    status: c.status,
                    state: c.state,
                },
            )?;
        }
        for (name, status) in &self.durable.downloads {
            let node = format!("{}/Status", mo::entry(root, Area::Download, name));
            if tree
                .value(&node)
                .is_some_and(|v| v != status.code().to_string().as_bytes())
            {
                mo::set_int(tree, &node, status.code(), now)?;
            }
        }
        Ok(())
    }

    /// The Generic Alert that reports `job`'s `outcome` with `code`, the resulting node `target`
    /// (relative to the root) and the package's or component's `identifier`.
    pub fn report(
        &self,
        job: &Job,
        outcome: &Outcome,
        code: i64,
        target: Option<String>,
        identifier: Option<String>,
    ) -> GenericAlert {
        let data = ResultData {
            code: u16::try_from(code).unwrap_or(u16::MAX),
            identifier,
        };
        GenericAlert {
            correlator: job.correlator.clone(),
            source_uri: mo::node(&self.config.root, &job.path()),
            target_uri: target.map(|t| mo::node(&self.config.root, &t)),
            alert_type: if self.config.legacy_alert_type {
                LEGACY_OPERATION_COMPLETE
            } else {
                OPERATION_COMPLETE
            }
            .to_string(),
            format: "xml".to_string(),
            mark: Some(crate::engine::mark(outcome).to_string()),
            data: data.to_string(),
        }
    }

    /// Accept an Exec on operation `at` carrying `data` (see the module docs).
    pub fn accept(
        &self,
        at: mo::OperationAt,
        correlator: Option<&str>,
        data: Option<&str>,
        tree: &Tree,
        another_accepted: bool,
    ) -> Result<Job, StatusCode> {
        let busy = self.durable.job.is_some() || another_accepted;
        let abort = self.config.exec_while_busy == ExecWhileBusy::Abort
            && self.durable.aborted.len() < MAX_ABORTED;
        if busy && !abort {
            return Err(StatusCode::Conflict);
        }
        let held = match at.area {
            Area::Download => true,
            Area::Delivered => self.delivered_index(&at.name).is_some(),
            Area::Deployed => self.durable.deployed.iter().any(|c| c.node == at.name),
        };
        if !held {
            return Err(StatusCode::NotFound);
        }
        let trial = self.trial_asked(at.operation, data)?;
        let url = match at.area {
            Area::Download => {
                let node = format!(
                    "{}/PkgURL",
                    mo::entry(&self.config.root, Area::Download, &at.name)
                );
                tree.value_str(&node).unwrap_or("").trim().to_string()
            }
            Area::Delivered | Area::Deployed => String::new(),
        };
        Ok(Job {
            area: at.area,
            name: at.name,
            operation: at.operation,
            correlator: correlator.map(str::to_string),
            url,
            trial,
            phase: Phase::Start,
        })
    }

    /// Whether an Exec of `operation` with `data` asks for a trial install. A device that does not
    /// roll back reads no Data (as before it could); one that does takes `rollback=after-install`
    /// on the install operations, and answers 406 (Optional feature not supported) to any other
    /// Data rather than accept what it would not do.
    fn trial_asked(
        &self,
        operation: ScomoOperation,
        data: Option<&str>,
    ) -> Result<bool, StatusCode> {
        let data = data.map(str::trim).unwrap_or("");
        if !self.config.verify_and_rollback || data.is_empty() {
            return Ok(false);
        }
        let installs = matches!(
            operation,
            ScomoOperation::DownloadInstall
                | ScomoOperation::DownloadInstallInactive
                | ScomoOperation::Install
                | ScomoOperation::InstallInactive
        );
        if installs && data == TRIAL_ARGUMENT {
            Ok(true)
        } else {
            Err(StatusCode::OptionalFeatureNotSupported)
        }
    }
}

/// The Exec Data that asks a device that rolls back for a trial install.
pub const TRIAL_ARGUMENT: &str = "rollback=after-install";

/// What a job takes from the moment of its Exec: a ticket's argument, as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct TicketArgument {
    url: String,
    #[serde(default)]
    trial: bool,
}

impl TicketArgument {
    fn to_text(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The argument a ticket carries (an argument that does not read is an empty URL).
    fn read(text: &str) -> TicketArgument {
        serde_json::from_str(text).unwrap_or_else(|e| {
            tracing::error!(text, error = %e, "a SCOMO ticket argument that does not read");
            TicketArgument {
                url: String::new(),
                trial: false,
            }
        })
    }
}

impl Agent for Scomo {
    fn kind(&self) -> &'static str {
        "scomo"
    }

    fn root(&self) -> &str {
        &self.config.root
    }

    fn mount(&self, tree: &mut Tree, server_id: &str, now: SimSeconds) -> Result<(), TreeError> {
        mo::install(tree, &self.config.root, server_id)?;
        self.try_sync_tree(tree, now)
    }

    fn owns(&self, uri: &str) -> bool {
        let root = self.config.root.trim_start_matches("./");
        uri.trim_start_matches("./")
            .strip_prefix(root)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    }

    fn exec(
        &self,
        uri: &str,
        correlator: Option<&str>,
        tree: &Tree,
        another_accepted: bool,
    ) -> Option<Result<Ticket, StatusCode>> {
        self.exec_with_data(uri, None, correlator, tree, another_accepted)
    }

    /// The ticket's argument is the `PkgURL` of the moment and whether a trial install was asked
    /// for ([`TicketArgument`]).
    fn exec_with_data(
        &self,
        uri: &str,
        data: Option<&str>,
        correlator: Option<&str>,
        tree: &Tree,
        another_accepted: bool,
    ) -> Option<Result<Ticket, StatusCode>> {
        let at = mo::OperationAt::parse(&self.relative(uri)?)?;
        Some(
            self.accept(at, correlator, data, tree, another_accepted)
                .map(|job| Ticket {
                    operation: job.path(),
                    correlator: job.correlator,
                    argument: TicketArgument {
                        url: job.url,
                        trial: job.trial,
                    }
                    .to_text(),
                }),
        )
    }

    fn queue(&mut self, ticket: Ticket) {
        let Some(at) = mo::OperationAt::parse(&ticket.operation) else {
            tracing::error!(
                operation = ticket.operation,
                "a ticket for an operation SCOMO does not have is dropped"
            );
            return;
        };
        let TicketArgument { url, trial } = TicketArgument::read(&ticket.argument);
        let job = Job {
            area: at.area,
            name: at.name,
            operation: at.operation,
            correlator: ticket.correlator,
            url,
            trial,
            phase: Phase::Start,
        };
        match &self.durable.job {
            Some(_) if self.config.exec_while_busy == ExecWhileBusy::Abort => {
                self.durable.aborted.push(job);
            }
            Some(queued) => tracing::error!(
                queued = queued.path(),
                dropped = job.path(),
                "a second SCOMO job while one is queued: the new one is dropped"
            ),
            None => self.durable.job = Some(job),
        }
    }

    /// A package pushed in-band into `Inventory/Delivered/<d>/Data` leaves the tree for the
    /// agent's store (the leaf is emptied at once; the package is delivered when the Replace takes
    /// effect).
    fn replaced(&self, uri: &str, tree: &mut Tree, now: SimSeconds) -> Option<Vec<u8>> {
        let relative = self.relative(uri)?;
        mo::delivered_data(&relative)?;
        let bytes = tree.value(uri)?.to_vec();
        if let Err(e) = tree.set_value(uri, b"", now) {
            tracing::warn!(uri, error = %e, "cannot empty a Delivered Data node");
        }
        Some(bytes)
    }

    /// A `Download/<p>` the server added (alone or inside a subtree) gets its `Status` and its
    /// operation nodes.
    fn added(&self, uri: &str, tree: &mut Tree, _now: SimSeconds) {
        let Some(relative) = self.relative(uri) else {
            return;
        };
        let mut segments = relative.split('/');
        let names: Vec<String> = match (segments.next(), segments.next()) {
            (Some("Download"), Some(p)) => vec![p.to_string()],
            (Some("Download"), None) => mo::names(tree, &self.config.root, Area::Download),
            (Some("Inventory"), Some("Delivered")) => {
                if let Some(d) = segments.next() {
                    if let Err(e) = mo::complete_delivered(tree, &self.config.root, d) {
                        tracing::warn!(d, error = %e, "cannot complete a Delivered node");
                    }
                }
                return;
            }
            _ => return,
        };
        for name in names {
            if let Err(e) = mo::complete_download(tree, &self.config.root, &name) {
                tracing::warn!(name, error = %e, "cannot complete a SCOMO Download node");
            }
        }
    }

    /// The package pushed into `Inventory/Delivered/<d>/Data` is delivered: it joins the store
    /// as `<d>`, in State Delivered, named by the `PkgID`, `Name`, `Description` and `PkgType` the
    /// server gave `<d>` (the `PkgID` defaults to `<d>`). It is verified when it is installed.
    fn store(&mut self, uri: &str, data: Vec<u8>, tree: &mut Tree, now: SimSeconds) {
        let Some(name) = self
            .relative(uri)
            .and_then(|r| mo::delivered_data(&r).map(str::to_string))
        else {
            tracing::error!(
                uri,
                "SCOMO takes data only into Delivered/<d>/Data: dropped"
            );
            return;
        };
        let base = mo::entry(&self.config.root, Area::Delivered, &name);
        let field = |leaf: &str| {
            tree.value_str(&format!("{base}/{leaf}"))
                .unwrap_or("")
                .to_string()
        };
        let pkg_id = Some(field("PkgID"))
            .filter(|id| !id.is_empty())
            .unwrap_or_else(|| name.clone());
        let delivered = Delivered {
            node: name,
            pkg_id,
            name: field("Name"),
            description: field("Description"),
            pkg_type: field("PkgType"),
            status: DeliveredStatus::Idle,
            state: DeliveredState::Delivered,
            len: 0,
        };
        self.deliver_in_band(delivered, data, tree, now);
    }

    fn has_job(&self) -> bool {
        self.durable.job.is_some() || !self.durable.aborted.is_empty()
    }

    fn step(&mut self, input: Input, env: &mut Env<'_>) -> Action {
        super::job::step(self, input, env)
    }

    fn reported(&mut self) {
        if let Some(reported) = self.ending.take() {
            tracing::debug!(%reported, "SCOMO job ended");
            self.records.results.push(reported);
        }
    }

    fn durable(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::to_value(&self.durable)
    }

    fn blob(&self) -> (&[u8], bool) {
        (&self.bytes, self.bytes_dirty)
    }

    fn blob_saved(&mut self) {
        self.bytes_dirty = false;
    }

    fn restore(
        &mut self,
        durable: serde_json::Value,
        mut blob: Vec<u8>,
    ) -> Result<(), serde_json::Error> {
        let mut durable: ScomoDurable = serde_json::from_value(durable)?;
        self.ending = None;
        let files: u64 = durable
            .files
            .iter()
            .fold(0u64, |s, f| s.saturating_add(f.len));
        let delivered: u64 = durable
            .delivered
            .iter()
            .fold(files, |s, d| s.saturating_add(d.len));
        let counted = delivered.saturating_add(durable.pending.len);
        if (blob.len() as u64) < counted {
            tracing::warn!(
                root = self.config.root,
                saved = blob.len(),
                counted,
                "the SCOMO blob lost bytes; what it does not hold is dropped"
            );
            if (blob.len() as u64) < files {
                durable.files.clear();
                durable.delivered.clear();
                blob.clear();
            } else if (blob.len() as u64) < delivered {
                durable.delivered.clear();
                blob.truncate(usize::try_from(files).unwrap_or(usize::MAX));
            } else {
                blob.truncate(usize::try_from(delivered).unwrap_or(usize::MAX));
            }
            durable.pending = Pending::default();
        } else {
            blob.truncate(usize::try_from(counted).unwrap_or(usize::MAX));
        }
        self.durable = durable;
        self.bytes = blob;
        self.bytes_dirty = false;
        Ok(())
    }

    fn boot(&mut self, tree: &mut Tree, now: SimSeconds) {
        self.records.boots = self.records.boots.saturating_add(1);
        let shown: Vec<(Area, String, u16)> = self
            .durable
            .downloads
            .iter()
            .map(|(n, s)| (Area::Download, n.clone(), s.code()))
            .chain(
                self.durable
                    .delivered
                    .iter()
                    .map(|d| (Area::Delivered, d.node.clone(), d.status.code())),
            )
            .chain(
                self.durable
                    .deployed
                    .iter()
                    .map(|c| (Area::Deployed, c.node.clone(), c.status.code())),
            )
            .collect();
        for (area, node, value) in shown {
            self.record(area, &node, value);
        }
        self.sync_tree(tree, now);
    }

    fn clone_box(&self) -> Box<dyn Agent> {
        Box::new(self.clone())
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The validator of the bytes held survives a power loss with them, so a resume after a
    /// reboot still notices an object that changed on the server.
    #[test]
    fn a_partial_download_keeps_its_validator_across_a_restore() {
        let mut scomo = Scomo::new(Arc::new(ScomoConfig::new("./SCOMO")));
        scomo.keep_pending(
            Partial {
                url: "http://h/suite.pkg".into(),
                bytes: b"DMSIM".to_vec(),
                expected_size: Some(64),
                validator: Some("etag \"v1\"".into()),
            },
            false,
        );
        let saved = scomo.durable().expect("encodes");
        let blob = scomo.blob().0.to_vec();
        let mut rebooted = Scomo::new(Arc::new(ScomoConfig::new("./SCOMO")));
        rebooted.restore(saved, blob).expect("restores");
        let partial = rebooted.take_partial();
        assert_eq!(partial.bytes, b"DMSIM");
        assert_eq!(partial.validator.as_deref(), Some("etag \"v1\""));
    }
}
