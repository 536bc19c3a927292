//! One simulated device: its DM tree, its user, its faults, its clock, its resources, the agents of
//! its management objects ([`crate::engine::Agent`]: FUMO, at the standard nodes or a vendor's),
//! and what it did.
//!
//! A [`Device`] is the state a session works on. It is small and owns nothing shared: the immutable
//! parts (node templates, fault plan, FUMO configuration) are reference-counted, so a process can
//! hold very many. [`durable`] is what it keeps across a power loss. Its agents hear the Statuses it
//! sends and how its sessions end (`hearing`: [`Device::statuses_sent`], [`Device::session_ended`]).

#[cfg(test)]
mod atomic_tests;
mod commands;
pub mod durable;
mod effects;
mod hearing;
pub mod reports;
pub mod resources;
pub mod user;

pub use commands::{Executor, Processed};
pub use durable::{DurableState, Saved};
pub use effects::Effect;
pub use hearing::SessionFailure;
pub use reports::{Report, ReportQueue};
pub use resources::Resources;
pub use user::{Prompt, User, UserAnswer};

use crate::engine::{Agent, Preconditions};
use crate::faults::Faults;
use crate::fumo::Fumo;
use crate::profile::{self, Profile};
use crate::syncml::auth::NonceSource;
use crate::syncml::{Encoding, StatusCode};
use crate::tree::Tree;
use std::sync::Arc;

/// Simulated wall clock of a device, in seconds since the Unix epoch: the only clock there is.
pub use crate::engine::SimSeconds;

/// The simulated clock's start: 2026-01-01T00:00:00Z, so transcripts do not depend on the real date.
pub const EPOCH: SimSeconds = crate::package::CLOCK_START;

/// An Exec that took effect: answered 200 or 202 and, inside an Atomic, committed. An Exec that
/// was refused (405, 409, …) or rolled back with its Atomic (216, 516) is not recorded: nothing of
/// it happened on the device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecRecord {
    pub uri: String,
    pub data: Option<String>,
    pub correlator: Option<String>,
    /// When the Exec was executed (for one inside an Atomic, not when the Atomic committed).
    pub at: SimSeconds,
}

/// A UI alert the device showed, and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptRecord {
    pub prompt: Prompt,
    pub status: StatusCode,
}

/// What the device did, for expectations and reports.
#[derive(Debug, Clone, Default)]
pub struct Records {
    /// Execs that took effect, in the order they did.
    pub execs: Vec<ExecRecord>,
    pub prompts: Vec<PromptRecord>,
    /// Times the device booted again after it was first powered on (planned reboots and power
    /// losses), whatever its agents.
    pub boots: u32,
}

/// Message and object size limits the device announces in its SyncHdr Meta.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SizeLimits {
    pub max_msg_size: u64,
    /// The largest object the device takes (it reassembles no more than this).
    pub max_obj_size: u64,
    /// The device takes large objects (`DevDetail/LrgObj`): only then does it announce its
    /// MaxObjSize, which is how a server learns that it may send it objects in chunks (reference
    /// §1.3, §1.6).
    pub large_objects: bool,
}

impl Default for SizeLimits {
    fn default() -> SizeLimits {
        SizeLimits {
            max_msg_size: 16 * 1024,
            max_obj_size: 1024 * 1024,
            large_objects: true,
        }
    }
}

/// A simulated device.
#[derive(Debug, Clone)]
pub struct Device {
    pub tree: Tree,
    pub user: User,
    pub faults: Faults,
    pub records: Records,
    pub limits: SizeLimits,
    /// The encoding of the device's messages.
    pub encoding: Encoding,
    /// Simulated time now.
    pub clock: SimSeconds,
    /// Nonces the device issues when it challenges a server.
    pub nonces: NonceSource,
    /// Generic Alerts waiting for the server's acknowledgement.
    pub reports: ReportQueue,
    /// What the device has to spare for updates.
    pub resources: Resources,
    /// The agents of its management objects, in the order they were mounted (an Exec goes to the
    /// first that owns its node). A device without any pays an empty list.
    pub agents: Vec<Box<dyn Agent>>,
    /// What the device reports for each way its flows end (shared by every device using it).
    pub profile: &'static Profile,
    /// The tree nodes its update client needs before any job starts (none by default).
    pub preconditions: Arc<Preconditions>,
    /// The SessionID of the last session the device started itself (durable: see
    /// [`Device::next_session_id`]).
    sessions_started: u16,
}

impl Device {
    pub fn new(tree: Tree, user: User, faults: Faults, seed: u64) -> Device {
        Device {
            tree,
            user,
            faults,
            records: Records::default(),
            limits: SizeLimits::default(),
            encoding: Encoding::Xml,
            clock: EPOCH,
            nonces: NonceSource::new(seed),
            reports: ReportQueue::default(),
            resources: Resources::default(),
            agents: Vec::new(),
            profile: profile::default_profile(),
            preconditions: Arc::default(),
            sessions_started: 0,
        }
    }

    /// Its first FUMO agent (at the standard nodes or a vendor's), if it has one.
    pub fn fumo(&self) -> Option<&Fumo> {
        self.agents
            .iter()
            .find_map(|a| a.as_any().downcast_ref::<Fumo>())
    }

    /// Its first FUMO agent, to change.
    pub fn fumo_mut(&mut self) -> Option<&mut Fumo> {
        self.agents
            .iter_mut()
            .find_map(|a| a.as_any_mut().downcast_mut::<Fumo>())
    }

    /// The device's id (`./DevInfo/DevId`), its Source LocURI in every message.
    pub fn dev_id(&self) -> &str {
        self.tree.value_str("./DevInfo/DevId").unwrap_or("")
    }

    /// A fresh SessionID for a session the device starts itself: a counter kept in the durable
    /// state, so a device that restarts (or a `dmsim device --state-dir` run after another) does
    /// not reuse the id of an earlier session with the same server (reference §1: the client picks
    /// a SessionID for the whole session; a server may key its sessions on it). It is written as
    /// upper-case hex like a server-initiated one, 1 to 4 digits, and wraps from FFFF to 1.
    pub fn next_session_id(&mut self) -> String {
        self.sessions_started = self.sessions_started.checked_add(1).unwrap_or(1);
        format!("{:X}", self.sessions_started)
    }
}
