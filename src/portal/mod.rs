//! The mock Samsung Knox E-FOTA Advanced portal: the REST API a UEM product calls
//! ([`crate::server::Api`], routes in [`api`]) and the operator behind the mock DM server that turns
//! its operations into the commands devices get ([`crate::server::Operator`], [`checkin`]). It gives
//! the seed's portal codes (profiles/knox-efota.toml, table `knox-efota-portal`) the way the real
//! service would: validation codes when a request does not fit its catalogue ([`plan`],
//! [`catalogue`]), operation codes derived from what devices report and from its clock
//! ([`operations`]).
//!
//! * [`catalogue`]: models, firmware, software, deployment packages, triggers, configuration,
//!   the client and protocol versions it manages, the scripted plugin, its limits;
//! * [`plan`]: an operation request read and checked (`-1` … `-33`);
//! * [`operations`]: operations, each device's part, and their results (`0`, `-600`, `-7xxx`);
//! * [`checkin`]: a device checking in: what the portal reads, checks and sends;
//! * [`devices`]: the devices uploaded, matched to DM device ids;
//! * [`auth`]: OAuth 2.0 client credentials and bearer tokens;
//! * [`api`]: the endpoints, their JSON and their error answers ([`error`]).
//!
//! Everything is sans-IO: requests and messages in, answers, commands and webhook events out; the
//! clock is the caller's (`now`, seconds: the device's simulated clock in scenarios, the wall clock
//! under `dmsim serve`). The real service's API is public only in outline
//! (`../shared/reference/knox-efota-facts.md`); paths, fields and formats here are dmsim's,
//! documented in the README ("Knox E-FOTA portal").

pub mod api;
pub mod auth;
pub mod catalogue;
pub mod checkin;
pub mod devices;
pub mod error;
pub mod operations;
pub mod plan;
#[cfg(test)]
mod tests;

pub use catalogue::Catalogue;
pub use error::PortalError;

use crate::server::{Api, ApiRequest, ApiResponse, Operator, ScriptCommand};
use crate::syncml::SyncMl;
use serde::Deserialize;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

/// The prefix of every API path.
pub const PREFIX: &str = "/api/efota";

/// The most webhook events kept for delivery; older ones are dropped and counted.
pub const MAX_EVENTS: usize = 1024;

/// The most operations kept; the oldest completed ones go first.
pub const MAX_OPERATIONS: usize = 10_000;

/// Whether the DM server hosts something at a path.
pub type Hosted = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// How a portal is set up: a scenario's `[portal]` table (its `call`s aside), or the defaults.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PortalConfig {
    pub catalogue: Catalogue,
    /// The API clients (client id, secret, access); by default [`auth::default_clients`].
    #[serde(rename = "client")]
    pub clients: Vec<auth::Client>,
    /// The licenses devices may be assigned; by default one of 100 seats.
    #[serde(rename = "license")]
    pub licenses: Vec<License>,
    /// The portal's own failures, on purpose.
    #[serde(rename = "fault")]
    pub faults: Vec<PortalFault>,
}

/// A license.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct License {
    pub key: String,
    pub seats: u32,
    /// The last day it is valid (`YYYY-MM-DD`).
    #[serde(default)]
    pub expires: Option<String>,
}

/// A failure of the portal's own, on purpose: `[[portal.fault]]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortalFault {
    pub kind: FaultKind,
    /// For `internal-error` and `unexpected-error`: the API path it fails (every one when absent).
    #[serde(default)]
    pub path: Option<String>,
    /// Only the nth time it could fire (from 1); every time when absent.
    #[serde(default)]
    pub nth: Option<u32>,
    #[serde(default)]
    pub optional: bool,
}

/// What fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// The request fails with an internal error (500, `-100`).
    InternalError,
    /// The request fails with an unexpected error (500, `-101`).
    UnexpectedError,
    /// The data collector does not take an upload (`-7034`).
    CollectorDown,
}

impl FaultKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::InternalError => "internal-error",
            FaultKind::UnexpectedError => "unexpected-error",
            FaultKind::CollectorDown => "collector-down",
        }
    }
}

impl std::fmt::Display for PortalFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "kind = \"{}\"", self.kind.as_str())?;
        if let Some(path) = &self.path {
            write!(f, ", path = \"{path}\"")?;
        }
        if let Some(nth) = self.nth {
            write!(f, ", nth = {nth}")?;
        }
        Ok(())
    }
}

/// A webhook notification to deliver.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookEvent {
    pub url: String,
    pub body: serde_json::Value,
}

/// What happened, for the webhooks.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Event {
    /// A device's status changed (a report came, or its part of an operation ended).
    StatusChanged {
        device: usize,
        /// The operation whose part ended, and its code.
        ended: Option<(String, i64)>,
    },
    /// Devices were uploaded.
    DevicesCreated { count: usize },
}

impl Event {
    fn status_changed(device: usize, ended: Option<(String, i64)>) -> Event {
        Event::StatusChanged { device, ended }
    }
}

/// The portal.
pub struct Portal {
    config: PortalConfig,
    clients: Vec<auth::Client>,
    hosted: Hosted,
    state: Mutex<State>,
}

/// Everything that changes.
pub(crate) struct State {
    now: u64,
    registry: devices::Registry,
    operations: Vec<operations::Operation>,
    /// Operations created so far (their ids count from 1).
    created: u64,
    readings: HashMap<usize, checkin::Reading>,
    tokens: auth::Tokens,
    /// The webhook URLs registered.
    webhooks: Vec<String>,
    events: VecDeque<WebhookEvent>,
    events_dropped: u64,
    /// How often each fault could fire (for `nth`) and fired.
    fault_chances: Vec<u32>,
    faults_fired: Vec<u32>,
    /// Pending status events, turned into webhook bodies once the state is consistent.
    pending: Vec<Event>,
}

impl State {
    fn event(&mut self, event: Event) {
        self.pending.push(event);
    }

    /// Whether a fault of `kind` fires now for `path`, counting it.
    fn fire(&mut self, faults: &[PortalFault], kind: FaultKind, path: &str) -> bool {
        let mut fired = false;
        for (i, f) in faults.iter().enumerate() {
            if f.kind != kind || f.path.as_deref().is_some_and(|p| p != path) {
                continue;
            }
            self.fault_chances[i] = self.fault_chances[i].saturating_add(1);
            if f.nth.is_none_or(|n| n == self.fault_chances[i]) && !fired {
                self.faults_fired[i] = self.faults_fired[i].saturating_add(1);
                fired = true;
            }
        }
        fired
    }
}

impl Portal {
    /// A portal set up by `config`, its tokens drawn from `seed`, asking `hosted` whether the DM
    /// server hosts an update file.
    pub fn new(config: PortalConfig, seed: u64, hosted: Hosted) -> Portal {
        let clients = if config.clients.is_empty() {
            auth::default_clients()
        } else {
            config.clients.clone()
        };
        let faults = config.faults.len();
        Portal {
            clients,
            hosted,
            state: Mutex::new(State {
                now: 0,
                registry: devices::Registry::default(),
                operations: Vec::new(),
                created: 0,
                readings: HashMap::new(),
                tokens: auth::Tokens::new(seed),
                webhooks: Vec::new(),
                events: VecDeque::new(),
                events_dropped: 0,
                fault_chances: vec![0; faults],
                faults_fired: vec![0; faults],
                pending: Vec::new(),
            }),
            config,
        }
    }

    pub fn config(&self) -> &PortalConfig {
        &self.config
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Set the clock the operator side reads (seconds).
    pub fn set_now(&self, now: u64) {
        self.state().now = now;
    }

    /// A valid bearer token of the first full-access client, issued now.
    pub fn token(&self) -> String {
        let mut state = self.state();
        let now = state.now;
        let client = self
            .clients
            .iter()
            .find(|c| c.access == auth::Access::Full)
            .or(self.clients.first())
            .map(|c| c.id.clone())
            .unwrap_or_default();
        state.tokens.issue(&client, now).0
    }

    /// The webhook events to deliver, in order; they are handed over once.
    pub fn take_webhooks(&self) -> Vec<WebhookEvent> {
        self.state().events.drain(..).collect()
    }

    /// Webhook events dropped because [`MAX_EVENTS`] were waiting.
    pub fn webhooks_dropped(&self) -> u64 {
        self.state().events_dropped
    }

    /// How often each of [`PortalConfig::faults`] fired.
    pub fn faults_fired(&self) -> Vec<u32> {
        self.state().faults_fired.clone()
    }

    /// Turn the pending events into webhook bodies, one per registered URL.
    fn flush_events(&self, state: &mut State) {
        let pending = std::mem::take(&mut state.pending);
        for event in pending {
            let body = api::event_body(self, state, &event);
            for url in state.webhooks.clone() {
                if state.events.len() >= MAX_EVENTS {
                    state.events.pop_front();
                    state.events_dropped = state.events_dropped.saturating_add(1);
                }
                state.events.push_back(WebhookEvent {
                    url,
                    body: body.clone(),
                });
            }
        }
    }
}

impl Api for Portal {
    fn serves(&self, path: &str) -> bool {
        path == PREFIX || path.starts_with(&format!("{PREFIX}/"))
    }

    fn handle(&self, request: &ApiRequest, now: u64) -> ApiResponse {
        let mut state = self.state();
        state.now = now;
        let response = api::handle(self, &mut state, request);
        self.flush_events(&mut state);
        response
    }
}

impl Operator for Portal {
    fn received(&self, device: &str, _ordinal: u32, msg: &SyncMl) {
        let mut state = self.state();
        checkin::received(&mut state, device, msg);
        self.flush_events(&mut state);
    }

    fn next_package(&self, device: &str, ordinal: u32) -> Option<Vec<ScriptCommand>> {
        let mut state = self.state();
        let commands = checkin::next_package(
            &mut state,
            &self.config.catalogue,
            &self.config.faults,
            device,
            ordinal,
        );
        self.flush_events(&mut state);
        commands
    }
}

/// The profile's words for a device's E-FOTA code (its `agentError` message).
pub(crate) fn agent_message(code: i64) -> String {
    meaning(crate::profile::Table::KnoxEfota, code)
}

/// The profile's words for a portal code.
pub(crate) fn portal_message(code: i64) -> String {
    meaning(crate::profile::Table::KnoxEfotaPortal, code)
}

fn meaning(table: crate::profile::Table, code: i64) -> String {
    crate::profile::builtin("knox-efota")
        .and_then(|p| {
            p.rows()
                .iter()
                .find(|r| r.table == table && r.code == code)
                .map(|r| r.meaning.clone())
        })
        .unwrap_or_else(|| format!("code {code}"))
}
