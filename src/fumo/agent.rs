//! The FUMO agent's state on one device: the object in the tree, the firmware, the job the server
//! started, and the package held for it. The transitions here are pure; [`crate::jobs`] runs a
//! job through them, with the download's I/O and the saves of the durable state in between.
//!
//! # Jobs
//!
//! An Exec on `<x>/Download`, `<x>/Update` or `<x>/DownloadAndUpdate` is answered 202 and makes a
//! [`Job`] with the Exec's Correlator and the `PkgURL` the tree holds at that moment
//! ([`Fumo::accept`]); an Exec while a job is queued, or after another one was accepted earlier in
//! the same Atomic, is 409 Conflict. The job is queued ([`Fumo::queue`]) when the Exec takes effect:
//! at once, or at the commit of the Atomic it is in (never, when the Atomic fails: see
//! [`crate::device::Effect`]). It runs after the session ([`crate::jobs::run_job`]) and ends
//! with one Generic Alert (1226) carrying its result, queued in the device's report queue in the
//! same save that ends the job, so it is reported exactly once whatever the power does.
//!
//! # States
//!
//! | operation | path | State values |
//! | --- | --- | --- |
//! | Download | success | 30, 40, 50 (result 200) |
//! | any with a download | download fails | 30, 20 (roaming: 20 at once, nothing fetched) |
//! | Update, DownloadAndUpdate | install | 50 → 60, then 100 (90 with `keep_package`) on success |
//! | Update, DownloadAndUpdate | install fails, package still usable (401, 410, 450, 502), or refused by the checks before it (locked, services running, installation conditions) | 70 |
//! | Update, DownloadAndUpdate | package refused (402, 403, 404, 405) | 80: it is deleted |
//! | Update, DownloadAndUpdate | the target version already runs (250) | 100 (90 with `keep_package`) |
//!
//! A terminal state (20, 70, 80, 90, 100) stays until the next job: the server reads it with Get
//! after the alert. An operation the device does not implement ([`FumoConfig::operations`]) is
//! answered 202 and reported 408 without a state change; a fault at `fumo.start` reports 409; a
//! device whose update client lacks a node it needs ([`crate::engine::Preconditions`]) reports the
//! job at once (`start.not-ready`, `start.no-inventory`), its State unchanged.
//!
//! # The in-band path
//!
//! A Replace of `<x>/Update/PkgData` (a large object when it is big) is the package itself: the
//! bytes leave the tree at once ([`Fumo::take_pkg_data`]: the node is write-only) and go to the
//! package store (State 40, then 50) when the Replace takes effect ([`Fumo::store_pkg_data`]: at
//! once, or at the commit of its Atomic). A later Exec on `<x>/Update` installs them.

use super::{job, mo};
use crate::download::Partial;
use crate::engine::{Action, Agent, ConditionsPrompt, Env, Input, Reported, SimSeconds, Ticket};
use crate::firmware::{Firmware, InstallFailure, InstallOutcome};
use crate::outcome::{self, Outcome};
use crate::package::InstallError;
use crate::package::VerifyingKey;
use crate::protocol::download::DlStatus;
use crate::protocol::fumo::{FumoState, Operation};
use crate::syncml::{GenericAlert, StatusCode};
use crate::tree::{Tree, TreeError};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub use crate::engine::MAX_DOWNLOAD_ATTEMPTS;

/// How a device's FUMO agent is set up: shared by every device of a run.
#[derive(Debug, Clone)]
pub struct FumoConfig {
    /// The object's `<x>`.
    pub root: String,
    /// Where its nodes sit under the root.
    pub layout: mo::Layout,
    /// Keep the package after a successful update (State 90 instead of 100).
    pub keep_package: bool,
    /// The operations the device implements; an Exec on another one reports 408.
    pub operations: Vec<Operation>,
    /// The key update packages must be signed with.
    pub trusted: VerifyingKey,
    /// Ask the user to accept the installation conditions before an install
    /// ([`crate::engine::prompt`]); `None` (the default) does not ask.
    pub install_conditions: Option<ConditionsPrompt>,
}

impl FumoConfig {
    /// The object at `root`, every operation implemented, packages signed with the test key.
    pub fn new(root: impl Into<String>) -> FumoConfig {
        FumoConfig {
            root: root.into(),
            layout: mo::Layout::oma(),
            keep_package: false,
            operations: vec![
                Operation::Download,
                Operation::Update,
                Operation::DownloadAndUpdate,
            ],
            trusted: crate::package::test_signing_key().verifying_key(),
            install_conditions: None,
        }
    }
}

/// Where a job is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Accepted; nothing done yet.
    Start,
    /// Downloading (State 30); `attempts` made so far.
    Download { attempts: u32 },
    /// The package is stored (State 40); next it is made ready (50).
    Downloaded,
    /// The user never answered the installation conditions (State 50): the prompt is up until it
    /// times out, then the job ends `checks.conditions-timeout`.
    ConditionsTimeout,
    /// Installing (State 60): the firmware's own install carries the steps.
    Install,
}

/// An operation the server started, as persisted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    pub operation: Operation,
    pub correlator: Option<String>,
    /// The `PkgURL` when the Exec came (empty for Update).
    pub url: String,
    pub phase: Phase,
}

/// The package store: the bytes of a download in progress, or of the whole package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PackageStore {
    /// The object's URL and expected size (empty for an in-band package).
    pub url: String,
    pub expected_size: Option<u64>,
    /// The validator of the version the bytes held are of ([`Partial::validator`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validator: Option<String>,
    /// Bytes held (the bytes themselves are saved apart from the state, see
    /// [`crate::device::durable`]).
    pub len: u64,
    /// The bytes are a whole, verified package.
    pub complete: bool,
}

/// What the device keeps of FUMO across a power loss.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FumoDurable {
    pub firmware: Firmware,
    pub state: FumoState,
    pub job: Option<Job>,
    pub store: PackageStore,
}

/// What the agent did, for expectations and the run's observations (not device memory: it
/// survives the simulated power losses).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FumoRecords {
    /// Every value the State node took, in order, starting with the first one.
    pub states: Vec<FumoState>,
    /// How every job ended, and the code reported for it.
    pub results: Vec<Reported>,
    /// The DL status of every download attempt that read a descriptor.
    pub dl_statuses: Vec<DlStatus>,
    /// Times the device booted again (planned reboots and power losses).
    pub boots: u32,
}

pub use crate::engine::mark;

/// FUMO on one device.
#[derive(Debug, Clone)]
pub struct Fumo {
    pub config: Arc<FumoConfig>,
    pub durable: FumoDurable,
    /// The package store's bytes ([`PackageStore::len`] of them).
    pub bytes: Vec<u8>,
    /// The bytes changed since they were last saved.
    pub bytes_dirty: bool,
    pub records: FumoRecords,
    /// The result of the job that just ended, until the save that reports it lands.
    pub(super) ending: Option<Reported>,
}

impl Fumo {
    /// The agent of a device running `firmware`, nothing pending.
    pub fn new(config: Arc<FumoConfig>, firmware: Firmware) -> Fumo {
        Fumo {
            config,
            durable: FumoDurable {
                firmware,
                state: FumoState::Idle,
                job: None,
                store: PackageStore::default(),
            },
            bytes: Vec::new(),
            bytes_dirty: false,
            records: FumoRecords {
                states: vec![FumoState::Idle],
                ..FumoRecords::default()
            },
            ending: None,
        }
    }

    /// Mount the object in the tree, writable by `server_id`, and show the firmware version.
    pub fn mount(&self, tree: &mut Tree, server_id: &str, now: u64) -> Result<(), TreeError> {
        mo::install(tree, &self.config.root, &self.config.layout, server_id)?;
        self.sync_tree(tree, now);
        Ok(())
    }

    /// The operation whose node `uri` is, if it is one of this object's.
    pub fn operation_at(&self, uri: &str) -> Option<Operation> {
        let name = uri
            .strip_prefix(self.config.root.as_str())?
            .strip_prefix('/')?;
        self.config.layout.operation_at(name)
    }

    /// The URI of the argument node of `operation` (its `PkgURL` or `PkgData`), when the layout
    /// has the operation.
    fn argument_node(&self, operation: Operation) -> Option<String> {
        let nodes = self.config.layout.operation(operation)?;
        Some(mo::node(&self.config.root, &nodes.argument))
    }

    /// Whether `uri` is this object's in-band package node.
    pub fn is_pkg_data(&self, uri: &str) -> bool {
        self.argument_node(Operation::Update)
            .is_some_and(|node| uri.trim_start_matches("./") == node.trim_start_matches("./"))
    }

    /// An Exec on an operation's node: the job it starts, carrying the `PkgURL` of this moment (the
    /// Exec answers 202), or 409 Conflict while a job is queued or when `another_accepted` (a job
    /// accepted earlier in the same Atomic, to be queued at its commit). Nothing changes until the
    /// job is [queued](Fumo::queue).
    pub fn accept(
        &self,
        operation: Operation,
        correlator: Option<&str>,
        tree: &Tree,
        another_accepted: bool,
    ) -> Result<Job, StatusCode> {
        if self.durable.job.is_some() || another_accepted {
            return Err(StatusCode::Conflict);
        }
        let url = match operation {
            Operation::Update => String::new(),
            Operation::Download | Operation::DownloadAndUpdate => self
                .argument_node(operation)
                .and_then(|node| tree.value_str(&node))
                .unwrap_or("")
                .trim()
                .to_string(),
        };
        Ok(Job {
            operation,
            correlator: correlator.map(str::to_string),
            url,
            phase: Phase::Start,
        })
    }

    /// Queue a job [accepted](Fumo::accept) from an Exec that took effect; it runs after the
    /// session. A job already queued stays (accepting refuses a second one, so this is a bug
    /// of the caller; it is logged, and the job in progress is not lost).
    pub fn queue(&mut self, job: Job) {
        match &self.durable.job {
            Some(queued) => tracing::error!(
                queued = ?queued.operation,
                dropped = ?job.operation,
                "a second FUMO job while one is queued: the new one is dropped"
            ),
            None => self.durable.job = Some(job),
        }
    }

    /// `<x>/Update/PkgData` was replaced: take the bytes out of the tree (the node is write-only,
    /// and the package must not live twice), for [`Fumo::store_pkg_data`]. `None` when the node is
    /// missing.
    pub fn take_pkg_data(&self, tree: &mut Tree, now: u64) -> Option<Vec<u8>> {
        let node = self.argument_node(Operation::Update)?;
        let bytes = tree.value(&node)?.to_vec();
        if let Err(e) = tree.set_value(&node, b"", now) {
            tracing::warn!(node, error = %e, "cannot clear PkgData");
        }
        Some(bytes)
    }

    /// Keep a package written to `<x>/Update/PkgData` in the package store (State 40, then 50).
    /// An empty value clears the store.
    pub fn store_pkg_data(&mut self, bytes: Vec<u8>, tree: &mut Tree, now: u64) {
        if bytes.is_empty() {
            self.drop_package();
            return;
        }
        self.durable.store = PackageStore {
            url: String::new(),
            expected_size: Some(bytes.len() as u64),
            validator: None,
            len: bytes.len() as u64,
            complete: true,
        };
        self.bytes = bytes;
        self.bytes_dirty = true;
        self.set_state(tree, FumoState::DownloadComplete, now);
        self.set_state(tree, FumoState::ReadyToUpdate, now);
    }

    /// Whether a whole package is stored.
    pub fn has_package(&self) -> bool {
        self.durable.store.complete && !self.bytes.is_empty()
    }

    /// Forget the package and any partial download.
    pub fn drop_package(&mut self) {
        self.durable.store = PackageStore::default();
        self.bytes = Vec::new();
        self.bytes_dirty = true;
    }

    /// Take the partial download held, to resume from (give it back with
    /// [`Fumo::keep_partial`] or replace it with [`Fumo::keep_package`]). A whole package is not a
    /// partial download: it stays.
    pub fn take_partial(&mut self) -> Partial {
        if self.durable.store.complete {
            return Partial::new();
        }
        Partial {
            url: self.durable.store.url.clone(),
            bytes: std::mem::take(&mut self.bytes),
            expected_size: self.durable.store.expected_size,
            validator: self.durable.store.validator.clone(),
        }
    }

    /// Keep what a download attempt left: the bytes of the object so far.
    pub fn keep_partial(&mut self, partial: Partial) {
        self.durable.store = PackageStore {
            url: partial.url,
            expected_size: partial.expected_size,
            validator: partial.validator,
            len: partial.bytes.len() as u64,
            complete: false,
        };
        self.bytes = partial.bytes;
        self.bytes_dirty = true;
    }

    /// Keep a whole, verified package.
    pub fn keep_package(&mut self, url: &str, bytes: Vec<u8>) {
        self.durable.store = PackageStore {
            url: url.to_string(),
            expected_size: Some(bytes.len() as u64),
            validator: None,
            len: bytes.len() as u64,
            complete: true,
        };
        self.bytes = bytes;
        self.bytes_dirty = true;
    }

    /// Set the State node (and record the value).
    pub fn set_state(&mut self, tree: &mut Tree, state: FumoState, now: u64) {
        self.durable.state = state;
        if self.records.states.last() != Some(&state) {
            self.records.states.push(state);
        }
        self.sync_tree(tree, now);
    }

    /// Make the tree show the durable state: State, and the running firmware in `DevDetail/FwV`
    /// (only once no install is in progress: an uncommitted image is never reported).
    pub fn sync_tree(&self, tree: &mut Tree, now: u64) {
        if let Some(name) = &self.config.layout.state {
            let state = self.durable.state.value().to_string();
            let node = mo::node(&self.config.root, name);
            if let Err(e) = tree.set_value(&node, state.as_bytes(), now) {
                tracing::warn!(node, error = %e, "cannot set the FUMO State");
            }
        }
        let firmware = &self.durable.firmware;
        if firmware.install().is_none() {
            let version = firmware.version().as_bytes();
            if tree.value(FW_VERSION_NODE).is_some_and(|v| v != version) {
                if let Err(e) = tree.set_value(FW_VERSION_NODE, version, now) {
                    tracing::warn!(error = %e, "cannot set DevDetail/FwV");
                }
            }
        }
    }

    /// The Generic Alert that reports `job`'s `outcome` with `code` (the device's profile's code
    /// for it); the Mark says whether it succeeded.
    pub fn report(&self, job: &Job, outcome: &Outcome, code: i64) -> GenericAlert {
        GenericAlert {
            correlator: job.correlator.clone(),
            source_uri: match self.config.layout.operation(job.operation) {
                Some(nodes) => mo::node(&self.config.root, &nodes.exec),
                None => mo::node(&self.config.root, job.operation.node()),
            },
            target_uri: None,
            alert_type: job.operation.alert_type().to_string(),
            format: "int".to_string(),
            mark: Some(mark(outcome).to_string()),
            data: code.to_string(),
        }
    }
}

impl Agent for Fumo {
    fn kind(&self) -> &'static str {
        "fumo"
    }

    fn root(&self) -> &str {
        &self.config.root
    }

    fn mount(&self, tree: &mut Tree, server_id: &str, now: SimSeconds) -> Result<(), TreeError> {
        Fumo::mount(self, tree, server_id, now)
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
        let operation = self.operation_at(uri)?;
        Some(
            self.accept(operation, correlator, tree, another_accepted)
                .map(|job| Ticket {
                    operation: job.operation.node().to_string(),
                    correlator: job.correlator,
                    argument: job.url,
                }),
        )
    }

    fn queue(&mut self, ticket: Ticket) {
        match Operation::from_node(&ticket.operation) {
            Some(operation) => Fumo::queue(
                self,
                Job {
                    operation,
                    correlator: ticket.correlator,
                    url: ticket.argument,
                    phase: Phase::Start,
                },
            ),
            None => tracing::error!(
                operation = ticket.operation,
                "a ticket for an operation FUMO does not have is dropped"
            ),
        }
    }

    fn replaced(&self, uri: &str, tree: &mut Tree, now: SimSeconds) -> Option<Vec<u8>> {
        if !self.is_pkg_data(uri) {
            return None;
        }
        self.take_pkg_data(tree, now)
    }

    /// FUMO's nodes are all the device's own: a server adds none, and an Add changes nothing
    /// here.
    fn added(&self, _uri: &str, _tree: &mut Tree, _now: SimSeconds) {}

    fn store(&mut self, _uri: &str, data: Vec<u8>, tree: &mut Tree, now: SimSeconds) {
        self.store_pkg_data(data, tree, now);
    }

    fn has_job(&self) -> bool {
        self.durable.job.is_some()
    }

    fn step(&mut self, input: Input, env: &mut Env<'_>) -> Action {
        job::step(self, input, env)
    }

    fn reported(&mut self) {
        if let Some(reported) = self.ending.take() {
            tracing::debug!(%reported, "FUMO job ended");
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
        let durable: FumoDurable = serde_json::from_value(durable)?;
        let len = usize::try_from(durable.store.len).unwrap_or(usize::MAX);
        self.durable = durable;
        self.ending = None;
        if blob.len() < len {
            tracing::warn!(
                root = self.config.root,
                saved = blob.len(),
                counted = len,
                "the package store lost bytes; the package is dropped"
            );
            self.drop_package();
        } else {
            blob.truncate(len);
            self.bytes = blob;
            self.bytes_dirty = false;
        }
        Ok(())
    }

    fn boot(&mut self, tree: &mut Tree, now: SimSeconds) {
        self.records.boots = self.records.boots.saturating_add(1);
        self.durable.firmware.boot();
        let state = self.durable.state;
        self.set_state(tree, state, now);
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

/// Where the device shows its firmware version.
pub const FW_VERSION_NODE: &str = "./DevDetail/FwV";

/// The outcome of an install, and whether the package is still worth keeping after it (a
/// package the installer refused is deleted; one that failed for the device's reasons, memory
/// included, is kept for another Exec on Update).
pub fn install_outcome(operation: Operation, install: &InstallOutcome) -> (Outcome, bool) {
    let (cause, rollback) = install.cause();
    let mut result = Outcome::new(operation.into(), outcome::Phase::Install, cause);
    result.rollback = rollback;
    let usable = match install {
        InstallOutcome::Updated { .. } => true,
        InstallOutcome::Failed { error, .. } => {
            result = result.with_detail(error);
            match error {
                InstallFailure::Package(e) => matches!(e, InstallError::OutOfMemory { .. }),
                _ => true,
            }
        }
    };
    (result, usable)
}

/// The terminal State of an update that ended with `outcome`, the package kept or not.
pub fn update_state(outcome: &Outcome, package_kept: bool) -> FumoState {
    match (outcome.is_success(), package_kept) {
        (true, true) => FumoState::UpdateSuccessfulHaveData,
        (true, false) => FumoState::UpdateSuccessfulNoData,
        (false, true) => FumoState::UpdateFailedHaveData,
        (false, false) => FumoState::UpdateFailedNoData,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::InstallError;
    use crate::tree::UriLimits;

    fn agent() -> (Fumo, Tree) {
        let fumo = Fumo::new(
            Arc::new(FumoConfig::new(mo::DEFAULT_ROOT)),
            Firmware::factory("1.0"),
        );
        let mut tree = Tree::new(UriLimits::default());
        fumo.mount(&mut tree, "srv", 0).expect("mounts");
        (fumo, tree)
    }

    #[test]
    fn an_exec_is_accepted_once_with_the_url_of_that_moment() {
        let (mut fumo, mut tree) = agent();
        tree.set_value(
            "./FUMO/Pkg1/DownloadAndUpdate/PkgURL",
            b" http://x/fw.dd ",
            0,
        )
        .expect("set");
        let op = fumo.operation_at("./FUMO/Pkg1/DownloadAndUpdate");
        assert_eq!(op, Some(Operation::DownloadAndUpdate));
        assert_eq!(fumo.operation_at("./FUMO/Pkg1/State"), None);
        assert_eq!(fumo.operation_at("./FUMO/Pkg1x/Update"), None);
        let job = fumo
            .accept(Operation::DownloadAndUpdate, Some("c1"), &tree, false)
            .expect("accepted");
        assert_eq!(job.url, "http://x/fw.dd");
        assert_eq!(job.correlator.as_deref(), Some("c1"));
        assert_eq!(fumo.durable.job, None, "queued only when it takes effect");
        assert_eq!(
            fumo.accept(Operation::Update, None, &tree, true),
            Err(StatusCode::Conflict),
            "another job accepted in the same Atomic"
        );
        fumo.queue(job.clone());
        assert_eq!(fumo.durable.job.as_ref(), Some(&job));
        assert_eq!(
            fumo.accept(Operation::Update, None, &tree, false),
            Err(StatusCode::Conflict)
        );
        let mut other = job.clone();
        other.operation = Operation::Update;
        fumo.queue(other);
        assert_eq!(
            fumo.durable.job.as_ref(),
            Some(&job),
            "the queued job stays"
        );
        let failed = Outcome::new(
            outcome::Operation::DownloadAndInstall,
            outcome::Phase::Install,
            outcome::Cause::VerifyFailed,
        );
        let alert = fumo.report(&job, &failed, 410);
        assert_eq!(alert.source_uri, "./FUMO/Pkg1/DownloadAndUpdate");
        assert_eq!(alert.data, "410");
        assert_eq!(alert.mark.as_deref(), Some("critical"));
        assert_eq!(alert.format, "int");
    }

    #[test]
    fn as_an_engine_agent_it_owns_its_nodes_and_keeps_its_state() {
        let (fumo, mut tree) = agent();
        let mut agent: Box<dyn Agent> = Box::new(fumo);
        assert!(agent.owns("./FUMO/Pkg1/State") && agent.owns("FUMO/Pkg1"));
        assert!(!agent.owns("./FUMO/Pkg10") && !agent.owns("./DevInfo/Mod"));
        assert_eq!(agent.exec("./FUMO/Pkg1/State", None, &tree, false), None);
        tree.set_value("./FUMO/Pkg1/Download/PkgURL", b"http://x/p", 0)
            .expect("set");
        let ticket = agent
            .exec("./FUMO/Pkg1/Download", Some("c"), &tree, false)
            .expect("an operation")
            .expect("accepted");
        assert_eq!(ticket.operation, "Download");
        assert_eq!(ticket.argument, "http://x/p");
        agent.queue(ticket);
        assert!(agent.has_job());
        let saved = agent.durable().expect("encodes");
        let fumo = agent.as_any_mut().downcast_mut::<Fumo>().expect("FUMO");
        fumo.keep_package("http://x/p", b"PACKAGE".to_vec());
        let counted = agent.durable().expect("encodes");
        assert_eq!(agent.blob(), (&b"PACKAGE"[..], true));
        agent.blob_saved();
        assert_eq!(agent.blob(), (&b"PACKAGE"[..], false));
        agent
            .restore(counted.clone(), b"PACKAGE and later bytes".to_vec())
            .expect("restores");
        assert_eq!(agent.blob().0, b"PACKAGE", "cut to the length counted");
        agent.restore(counted, b"PACK".to_vec()).expect("restores");
        assert_eq!(
            agent.blob().0,
            b"",
            "a blob shorter than counted is dropped"
        );
        agent.restore(saved, Vec::new()).expect("restores");
        assert!(agent.has_job());
        assert!(agent
            .restore(serde_json::json!({"state": 1}), Vec::new())
            .is_err());
    }

    /// The validator of the bytes held survives a power loss with them.
    #[test]
    fn a_partial_download_keeps_its_validator_across_a_restore() {
        let (mut fumo, _) = agent();
        fumo.keep_partial(Partial {
            url: "http://x/fw.pkg".into(),
            bytes: b"DMSIM".to_vec(),
            expected_size: Some(64),
            validator: Some("etag \"v1\"".into()),
        });
        let saved = fumo.durable().expect("encodes");
        let (mut rebooted, _) = agent();
        rebooted
            .restore(saved, b"DMSIM".to_vec())
            .expect("restores");
        let partial = rebooted.take_partial();
        assert_eq!(partial.bytes, b"DMSIM");
        assert_eq!(partial.validator.as_deref(), Some("etag \"v1\""));
        fumo.keep_package("http://x/fw.pkg", b"PKG".to_vec());
        assert_eq!(
            fumo.durable.store.validator, None,
            "a whole package has none to check"
        );
    }

    #[test]
    fn a_vendor_layout_takes_its_url_and_reports_from_its_own_nodes() {
        let mut config = FumoConfig::new("./Software");
        config.layout = mo::Layout {
            pkg_name: None,
            pkg_version: None,
            operations: vec![mo::OperationNodes {
                operation: Operation::DownloadAndUpdate,
                exec: "Operations/DownloadAndInstall".into(),
                argument: "Package/PkgURL".into(),
            }],
            state: None,
            ext: None,
        };
        let fumo = Fumo::new(Arc::new(config), Firmware::factory("1.0"));
        let mut tree = Tree::new(UriLimits::default());
        fumo.mount(&mut tree, "srv", 0).expect("mounts");
        tree.set_value("./Software/Package/PkgURL", b"http://x/fw.dd", 0)
            .expect("set");
        let op = fumo.operation_at("./Software/Operations/DownloadAndInstall");
        assert_eq!(op, Some(Operation::DownloadAndUpdate));
        assert_eq!(fumo.operation_at("./Software/DownloadAndUpdate"), None);
        assert!(!fumo.is_pkg_data("./Software/Update/PkgData"));
        let job = fumo
            .accept(Operation::DownloadAndUpdate, None, &tree, false)
            .expect("accepted");
        assert_eq!(job.url, "http://x/fw.dd");
        let done = Outcome::new(
            outcome::Operation::DownloadAndInstall,
            outcome::Phase::Install,
            outcome::Cause::Succeeded,
        );
        let alert = fumo.report(&job, &done, 200);
        assert_eq!(alert.source_uri, "./Software/Operations/DownloadAndInstall");
        assert_eq!(alert.mark.as_deref(), Some("informational"));
    }

    #[test]
    fn an_in_band_package_moves_out_of_the_tree() {
        let (mut fumo, mut tree) = agent();
        tree.set_value("./FUMO/Pkg1/Update/PkgData", b"PKG", 0)
            .expect("set");
        let bytes = fumo.take_pkg_data(&mut tree, 0).expect("the node exists");
        assert_eq!(tree.value("./FUMO/Pkg1/Update/PkgData"), Some(&b""[..]));
        assert_eq!(
            tree.value_str("./FUMO/Pkg1/State"),
            Some("10"),
            "not stored yet"
        );
        fumo.store_pkg_data(bytes, &mut tree, 0);
        assert!(fumo.has_package());
        assert_eq!(fumo.bytes, b"PKG");
        assert_eq!(tree.value("./FUMO/Pkg1/Update/PkgData"), Some(&b""[..]));
        assert_eq!(tree.value_str("./FUMO/Pkg1/State"), Some("50"));
        assert_eq!(
            fumo.records.states,
            [
                FumoState::Idle,
                FumoState::DownloadComplete,
                FumoState::ReadyToUpdate
            ]
        );
    }

    #[test]
    fn refused_packages_are_deleted_and_device_failures_keep_them() {
        let failed = |error| InstallOutcome::Failed {
            error,
            rolled_back: false,
        };
        use crate::outcome::Cause;
        let op = Operation::DownloadAndUpdate;
        let (r, keep) = install_outcome(
            op,
            &failed(InstallFailure::Package(InstallError::BadSignature)),
        );
        assert_eq!((r.cause, keep), (Cause::SignatureInvalid, false));
        assert_eq!(update_state(&r, keep).value(), 80);
        let (r, keep) = install_outcome(op, &failed(InstallFailure::VerifyFailed));
        assert_eq!((r.cause, keep), (Cause::VerifyFailed, true));
        assert_eq!(update_state(&r, keep).value(), 70);
        let (r, keep) = install_outcome(
            op,
            &failed(InstallFailure::Package(InstallError::OutOfMemory {
                need: 2,
                have: 1,
            })),
        );
        assert_eq!((r.cause, keep), (Cause::OutOfMemory, true));
        let ok = InstallOutcome::Updated {
            from: "1".into(),
            to: "2".into(),
        };
        let (r, keep) = install_outcome(op, &ok);
        assert_eq!(
            (r.phase, r.cause, keep),
            (outcome::Phase::Install, Cause::Succeeded, true)
        );
        assert_eq!(update_state(&r, false).value(), 100);
        let already = Outcome::new(op.into(), outcome::Phase::Checks, Cause::AlreadyInstalled);
        assert_eq!(update_state(&already, true).value(), 90);
        assert_eq!(mark(&already), "informational");
        assert_eq!(mark(&r), "informational");
    }
}
