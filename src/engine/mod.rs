//! The management-object engine: what every agent mounted at a tree root has in common, so the
//! device holds a list of agents ([`Agent`]) and one job runner (`crate::jobs`) runs them all.
//!
//! An agent
//! * **owns nodes**: it mounts its object in the tree ([`Agent::mount`]) and says which nodes are
//!   its own ([`Agent::owns`]);
//! * **reacts to the server**: an Exec on one of its operation nodes is accepted with a [`Ticket`]
//!   (the device answers 202) or refused with a status ([`Agent::exec`]); a Replace of one of its
//!   nodes may carry data it takes out of the tree ([`Agent::replaced`]); an Add under its root may
//!   call for nodes the device creates beside the added one ([`Agent::added`]). Both take effect later
//!   ([`Agent::queue`], [`Agent::store`]): at once, or at the commit of their Atomic;
//! * **runs its job as a sans-IO state machine**: [`Agent::step`] takes an [`Input`] (go on, or
//!   what a download came to) and the device's side of things ([`Env`]) and answers one
//!   [`Action`] (download, save, save and reboot, power loss, wait then save, report), like the
//!   session, the installer and the download agent do; the job runner carries the actions out;
//! * **saves durable state through one store**: what it keeps across a power loss is one JSON value
//!   and one byte blob ([`Agent::durable`], [`Agent::blob`], [`Agent::restore`]), saved by the
//!   device with the rest of its state;
//! * **reports through one queue**: a job ends with one Generic Alert ([`Action::Report`]: alert
//!   type, source, target, correlator, mark, data), which the runner puts in the device's report
//!   queue in the same save that ends the job;
//! * **hears what the device does**, when it reports more than its own jobs (the Knox E-FOTA
//!   client): another agent's report ([`Agent::witness`]), each Status the device answers a server
//!   command with ([`Agent::status_sent`]), and how each DM session ended
//!   ([`Agent::session_ended`]); each may give a Generic Alert for the same queue. By default an
//!   agent hears nothing.
//!
//! There is one clock, the device's simulated one: an agent reads it from [`Env::now`] and moves it
//! only by asking to wait ([`Action::Wait`]).
//!
//! The conditions a device puts on jobs are the engine's too, so every agent checks them alike
//! ([`conditions`]: tree nodes a job needs before it starts, the lock and other services running
//! when an install would begin; [`prompt`]: the installation conditions the user must accept).
//! All of them are off unless the device is set up with them.
//!
//! FUMO ([`crate::fumo`]) is the first agent; where its nodes sit is data ([`crate::fumo::Layout`]),
//! so the same engine runs a vendor's own layout. SCOMO ([`crate::scomo`]) is the second: software
//! components, delivered and deployed.

/// The Generic Alert Mark of an outcome: failures are critical, successes informational.
pub fn mark(outcome: &Outcome) -> &'static str {
    if outcome.is_success() {
        "informational"
    } else {
        "critical"
    }
}

pub mod conditions;
pub mod prompt;

pub use conditions::{install_gate, Preconditions, Unmet};
pub use prompt::{
    ask_install_conditions, Conditions, ConditionsPrompt, DevicePrompt, DeviceUser, PromptAnswer,
    ScriptedUser, DEFAULT_CONDITIONS_TIMEOUT,
};

use crate::download::{DownloadOutcome, DownloadRequest, Partial};
use crate::faults::Faults;
use crate::outcome::Outcome;
use crate::profile::{Profile, Table};
use crate::protocol::download::DeviceLimits;
use crate::syncml::{GenericAlert, Status, StatusCode};
use crate::tree::{Tree, TreeError};
use std::any::Any;
use std::fmt::Debug;

/// Simulated wall clock, in seconds since the Unix epoch (the device's clock).
pub type SimSeconds = u64;

/// An Exec an agent accepted: what the job it starts needs from the moment of the Exec. The agent
/// makes its job of it when the Exec takes effect ([`Agent::queue`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    /// The operation, in the agent's own terms (for FUMO, the operation's node name).
    pub operation: String,
    /// The Exec's Correlator, for the report.
    pub correlator: Option<String>,
    /// What the agent read from the tree or the Exec's Data when the Exec came, in the agent's own
    /// terms (for FUMO, the `PkgURL`).
    pub argument: String,
}

/// What the device offers an agent's step: its tree, its faults, its clock, what it has to spare,
/// its state and its user.
#[derive(Debug)]
pub struct Env<'a> {
    pub tree: &'a mut Tree,
    pub faults: &'a mut Faults,
    /// The device's clock now.
    pub now: SimSeconds,
    /// The device is roaming.
    pub roaming: bool,
    /// The battery allows an update.
    pub battery_allows_update: bool,
    /// Free memory, in bytes.
    pub free_memory: u64,
    /// What downloads may take.
    pub download_limits: DeviceLimits,
    /// What the device reports for each way a flow ends.
    pub profile: &'static Profile,
    /// The device is locked: not ready for an install ([`install_gate`]).
    pub locked: bool,
    /// Services running that an install may not interrupt (a call in progress…): none lets it
    /// begin ([`install_gate`]).
    pub busy_services: &'a [String],
    /// The tree nodes every job needs before it starts ([`Preconditions`]).
    pub preconditions: &'a Preconditions,
    /// The device's user, for the prompts a job shows ([`prompt`]).
    pub user: &'a mut dyn DeviceUser,
}

/// How a job ended and the code its report carried (the device's profile's for the outcome).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reported {
    pub outcome: Outcome,
    /// The table of the code (`fumo-result`, `scomo-result`, `knox-efota`).
    pub table: Table,
    pub code: i64,
    /// What the profile says the code means.
    pub meaning: &'static str,
}

impl std::fmt::Display for Reported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} [{}]", self.code, self.meaning, self.outcome)
    }
}

/// What an agent's step is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Go on from the durable state (after a save, a reboot, or at the start of the run).
    Resume,
    /// The download the last step asked for came to `outcome`; `partial` holds what is left of the
    /// object (to be kept for a resume).
    Downloaded {
        outcome: Box<DownloadOutcome>,
        partial: Partial,
    },
}

/// What an agent's step asks the job runner to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Save the device's durable state; then step again with [`Input::Resume`] (after a reboot
    /// when the save was cut by a power loss).
    Save,
    /// Save, then reboot the device (a planned reboot); then step again.
    SaveAndReboot,
    /// The power went out inside the step: reboot from the last save; then step again.
    PowerLoss,
    /// Let `seconds` pass on the device's clock, then save; then step again.
    Wait { seconds: u64 },
    /// Run one download attempt (the only I/O a job does), then step again with
    /// [`Input::Downloaded`].
    Download {
        request: DownloadRequest,
        partial: Partial,
    },
    /// The job is over: queue `alert` in the device's reports and save. When the save lands the
    /// runner calls [`Agent::reported`]; when it is cut, the device reboots and the agent steps
    /// again from what was saved before.
    Report {
        alert: GenericAlert,
        reported: Reported,
    },
}

/// How many times a job tries a download that failed on the network or the server's availability
/// (resuming each time from the bytes it holds) before it reports the failure.
pub const MAX_DOWNLOAD_ATTEMPTS: u32 = 3;

/// Seconds a device waits before it resumes a download that failed (doubled each time).
const RETRY_BACKOFF_SECS: u64 = 30;

/// The request of download attempt `attempts + 1` of `url`, as every agent makes it: the device's
/// limits and profile, and its failure held back when another attempt will follow.
pub fn download_request(url: &str, attempts: u32, env: &Env<'_>) -> DownloadRequest {
    let mut request = DownloadRequest::new(url, env.download_limits.clone());
    request.resume_later = attempts.saturating_add(1) < MAX_DOWNLOAD_ATTEMPTS;
    request.profile = env.profile;
    request
}

/// After attempt `attempts + 1` failed for `cause`: the seconds to wait before the next attempt,
/// or `None` when the failure is final (not resumable, or the last attempt).
pub fn retry_after(cause: &crate::download::DownloadFailure, attempts: u32) -> Option<u64> {
    (cause.is_resumable() && attempts.saturating_add(1) < MAX_DOWNLOAD_ATTEMPTS)
        .then(|| RETRY_BACKOFF_SECS << attempts.min(16))
}

/// An agent of the engine, mounted at a tree root (see the module docs).
pub trait Agent: Debug + Send + Sync {
    /// What kind of agent it is, for logs (`"fumo"`).
    fn kind(&self) -> &'static str;

    /// The node its object is mounted at.
    fn root(&self) -> &str;

    /// Mount its object in `tree`, writable by `server_id`, showing its durable state.
    fn mount(&self, tree: &mut Tree, server_id: &str, now: SimSeconds) -> Result<(), TreeError>;

    /// Whether `uri` is one of its nodes.
    fn owns(&self, uri: &str) -> bool;

    /// An Exec on `uri`: `None` when `uri` is not one of its operations, else the ticket of the job
    /// it starts (answered 202) or the status it is refused with. `another_accepted` says an Exec
    /// earlier in the same Atomic was accepted by this agent. Nothing changes until the ticket is
    /// [queued](Agent::queue).
    fn exec(
        &self,
        uri: &str,
        correlator: Option<&str>,
        tree: &Tree,
        another_accepted: bool,
    ) -> Option<Result<Ticket, StatusCode>>;

    /// An Exec on `uri` whose item carries `data` (its Data, as text): as [`Agent::exec`], for
    /// agents whose operations take an argument in the Exec (SCOMO's `rollback=after-install`), or
    /// are named in it rather than by the node (the Knox E-FOTA client's `Operations` node). The
    /// default, for agents whose operations take none, ignores the data.
    fn exec_with_data(
        &self,
        uri: &str,
        data: Option<&str>,
        correlator: Option<&str>,
        tree: &Tree,
        another_accepted: bool,
    ) -> Option<Result<Ticket, StatusCode>> {
        let _ = data;
        self.exec(uri, correlator, tree, another_accepted)
    }

    /// Queue the job of a ticket whose Exec took effect.
    fn queue(&mut self, ticket: Ticket);

    /// The server replaced the value at `uri`: the data the agent takes out of the tree now (to be
    /// [stored](Agent::store) when the Replace takes effect), or `None` when it does not act on it.
    fn replaced(&self, uri: &str, tree: &mut Tree, now: SimSeconds) -> Option<Vec<u8>>;

    /// The server added the node `uri` (or a subtree at `uri`, by TNDS): the agent completes what
    /// the device creates beside a node a server adds (SCOMO: `Status` and the operation nodes of a
    /// new `Download/<p>`). It changes the tree only, as the Add itself did, so an Atomic that fails
    /// undoes both together.
    fn added(&self, uri: &str, tree: &mut Tree, now: SimSeconds);

    /// Data taken by [`Agent::replaced`] from the node at `uri` takes effect.
    fn store(&mut self, uri: &str, data: Vec<u8>, tree: &mut Tree, now: SimSeconds);

    /// Whether a job is queued or running.
    fn has_job(&self) -> bool;

    /// One step of the job (see [`Action`] for what follows each answer). Without a job the
    /// answer is [`Action::Save`].
    fn step(&mut self, input: Input, env: &mut Env<'_>) -> Action;

    /// The save that ended the job (after [`Action::Report`]) landed.
    fn reported(&mut self);

    /// Another agent's job ended with `reported`, its Generic Alert `alert` queued: a Generic
    /// Alert of this agent's own to queue in the same save, if it reports every operation of the
    /// device in its own terms (the Knox E-FOTA client, [`crate::efota`]). Most agents do not.
    fn witness(
        &mut self,
        alert: &GenericAlert,
        reported: &Reported,
        profile: &'static Profile,
    ) -> Option<GenericAlert> {
        let _ = (alert, reported, profile);
        None
    }

    /// The device answered a command of its server with `status` (each Status of a server message
    /// the device processed, as it goes on the wire); `target` is the node the command addressed
    /// (its first item's Target), `None` for one without (an Alert, an Atomic or Sequence). A
    /// Generic Alert of this agent's own to queue, if it reports the device's statuses in its own
    /// terms (the Knox E-FOTA client). It cannot change the status. Most agents do not.
    fn status_sent(
        &mut self,
        status: &Status,
        target: Option<&str>,
        profile: &'static Profile,
    ) -> Option<GenericAlert> {
        let _ = (status, target, profile);
        None
    }

    /// A DM session of the device ended: `failure` is how, when it failed before it got through
    /// in a way a flow names (an outcome of the `session` phase,
    /// [`Key::in_session`](crate::outcome::Key::in_session)), `None` when it got through or
    /// ended otherwise. A Generic Alert of this agent's own to queue for the next session, if it
    /// reports the device's sessions (the Knox E-FOTA client). Most agents do not.
    fn session_ended(
        &mut self,
        failure: Option<&Outcome>,
        profile: &'static Profile,
    ) -> Option<GenericAlert> {
        let _ = (failure, profile);
        None
    }

    /// What it keeps across a power loss, as JSON.
    fn durable(&self) -> Result<serde_json::Value, serde_json::Error>;

    /// Its byte blob (a package, a download in progress), saved apart from the state, and whether
    /// it changed since the last save.
    fn blob(&self) -> (&[u8], bool);

    /// The blob was saved.
    fn blob_saved(&mut self);

    /// Take back what was saved (`durable` and the blob as stored; a blob shorter than the state
    /// counts is not to be trusted).
    fn restore(
        &mut self,
        durable: serde_json::Value,
        blob: Vec<u8>,
    ) -> Result<(), serde_json::Error>;

    /// The device booted (after a reboot or a power loss): resolve what was interrupted and show
    /// the state in the tree.
    fn boot(&mut self, tree: &mut Tree, now: SimSeconds);

    /// A copy, boxed (a device is cloned with its agents).
    fn clone_box(&self) -> Box<dyn Agent>;

    /// For callers that know the concrete agent (expectations, observations).
    fn as_any(&self) -> &dyn Any;

    /// For callers that know the concrete agent.
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl Clone for Box<dyn Agent> {
    fn clone(&self) -> Box<dyn Agent> {
        self.clone_box()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::download::DownloadFailure;

    /// A resumable failure is tried again after 30 s, then 60 s, and the third is final; a failure
    /// no wait can mend is final at once.
    #[test]
    fn downloads_are_retried_with_a_doubling_backoff_then_given_up() {
        let lost = DownloadFailure::ConnectionLost { received: 10 };
        let waits: Vec<Option<u64>> = (0..MAX_DOWNLOAD_ATTEMPTS)
            .map(|attempts| retry_after(&lost, attempts))
            .collect();
        assert_eq!(waits, [Some(30), Some(60), None]);
        assert_eq!(retry_after(&DownloadFailure::NotFound, 0), None);
        assert_eq!(retry_after(&lost, u32::MAX), None);
    }
}
