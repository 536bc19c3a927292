//! The embedded mock DM server: sessions and authentication, a script of management commands, and
//! a record of everything devices sent, with every protocol rule they broke (the server is as
//! strict as the specification: the `check` module says what it checks, see [`Rule`]). Its
//! own messages keep to the device's MaxMsgSize, and to the protocol, unless a scenario asks it to
//! break a rule on purpose for testing devices ([`quirks`]: `server.quirks`), or fails a device's
//! session on purpose ([`faults`]: `server.session_fault`: refusing its credentials, HTTP 500, a
//! 5xx Status for its SyncHdr, an answer too late).
//!
//! [`MockServer::handle`] takes one HTTP request and gives its response, with no IO of its own: the
//! in-process transport calls it directly, and a network front end can wrap it. Sessions are keyed by
//! (device id, SessionID); nonces come from the run's seed, so a run is reproducible, and the nonces
//! each device gave and was given are kept per device across its sessions (the `session` module
//! says how the server authenticates both ways). A request it
//! refuses before it knows the session (wrong Content-Type, undecodable body) is kept in
//! [`MockServer::refused`], next to the session [`MockServer::records`].
//!
//! The server also hosts content ([`content`]): packages and Download Descriptors devices GET, and
//! install-notify paths they POST to, with faults per path. [`MockServer::content`] answers those
//! requests the same sans-IO way; [`MockServer::with_content`] sets what is hosted.
//!
//! Beside the script, an [`Operator`] ([`MockServer::with_operator`]) may decide more of a
//! device's commands from what it reports (the `operator` module says how); and a REST [`Api`]
//! may be served beside the DM endpoint (the `api` module: sans-IO requests and JSON answers).
//!
//! [`dns`] is the simulated network's DNS server, which a Snom m3 base asks for its firmware
//! server's address.

pub mod api;
mod check;
pub mod content;
pub mod dns;
#[cfg(test)]
mod fault_tests;
pub mod faults;
pub mod operator;
pub mod quirks;
mod record;
pub mod script;
mod session;
mod sessions;
#[cfg(test)]
mod tests;

pub use api::{Api, ApiRequest, ApiResponse};
pub use content::{
    Attempts, ContentAuth, ContentConfig, ContentFault, ContentFaultKind, HostedFile,
    InstallNotification,
};
pub use faults::{Answer, SessionFault, SessionFaultKind};
pub use operator::Operator;
pub use quirks::Quirk;
pub use record::{
    efota_codes, fumo_results, scomo_results, DeviceViolation, ReceivedAlert, ReceivedStatus,
    RefusedRequests, Rule, ServerExchange, SessionRecord, MAX_RECORDED, MAX_REFUSED_KEPT,
};
pub use script::{
    attach_files, check_limits, ScriptCommand, ScriptPackage, SessionChoice, UnhostedDataFile,
    MAX_EXEC_ITEMS, MAX_ITEM_DATA,
};

use crate::protocol::http::{
    ContentMethod, ContentRequest, ContentResponse, HttpRequest, HttpResponse,
};
use crate::syncml::auth::{AuthType, NonceSource, Secret};
use crate::syncml::pkg0::{self, Notification, UiMode};
use sessions::Sessions;
pub use sessions::DEFAULT_KEPT_SESSIONS;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// What the server demands of devices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAuthPolicy {
    pub kind: AuthType,
    /// The device's name and password as the server knows them.
    pub secret: Secret,
    /// The nonce the server takes the device to hold before its first session (its `CLCRED`
    /// AAuthData); from the server's first Chal on, the server's own.
    pub nonce: Vec<u8>,
}

/// When the server sends its own credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SendCredentials {
    /// In every message.
    #[default]
    Always,
    /// Only after the device challenged it.
    OnChallenge,
    /// Never (to see a device answer 407).
    Never,
}

/// How the server authenticates itself to devices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerCredentials {
    pub kind: AuthType,
    pub secret: Secret,
    /// The nonce the server takes the device to have given it before (its `SRVCRED` AAuthData),
    /// until the device gives another in a Chal.
    pub nonce: Vec<u8>,
    pub send: SendCredentials,
}

/// Everything a mock server needs to run.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ServerConfig {
    pub server_id: String,
    /// The URL devices post to (the server's Source LocURI).
    pub url: String,
    pub client_auth: Option<ClientAuthPolicy>,
    pub credentials: Option<ServerCredentials>,
    pub packages: Vec<ScriptPackage>,
    pub seed: u64,
    /// Keep every request and response in the session records.
    pub keep_exchanges: bool,
    /// The largest message the server accepts (announced in its SyncHdr Meta); a device message
    /// over it is a violation.
    pub max_msg_size: Option<u64>,
    /// The largest object the server accepts (announced likewise): a larger one is refused (413)
    /// and is a violation.
    pub max_obj_size: Option<u64>,
    /// Answer the first this many Generic Alerts (1226) with 500, as a server that failed to
    /// store them would.
    pub refuse_generic_alerts: u32,
    /// Rules the server breaks on purpose in its own messages ([`quirks`]); none by default.
    pub quirks: Vec<Quirk>,
    /// The most sessions kept in the records (`None`: [`DEFAULT_KEPT_SESSIONS`]); the oldest go
    /// first, counted in [`MockServer::sessions_dropped`].
    pub keep_sessions: Option<usize>,
    /// Sessions the server fails on purpose ([`faults`]); none by default.
    pub session_faults: Vec<SessionFault>,
}

/// The mock DM server.
pub struct MockServer {
    config: ServerConfig,
    state: Mutex<State>,
    /// What is hosted. (Not a field of [`ServerConfig`], which other code builds field by field.)
    content: ContentConfig,
    content_state: Mutex<content::ContentState>,
    /// What decides commands besides the script ([`MockServer::with_operator`]).
    operator: Option<Arc<dyn Operator>>,
}

struct State {
    sessions: Sessions,
    /// Sessions each device passed authentication in so far (how its sessions are counted for
    /// the script: [`SessionChoice`]).
    sessions_of: HashMap<String, u32>,
    /// Sessions each device opened so far, failed ones included (how its sessions are counted for
    /// the session faults).
    attempts_of: HashMap<String, u32>,
    /// How often each of [`ServerConfig::session_faults`] changed an answer.
    faults_fired: Vec<u32>,
    /// Generic Alerts still to refuse (from `refuse_generic_alerts`).
    refusals_left: u32,
    /// Per device: the nonce its next credentials must use.
    client_nonces: HashMap<String, Vec<u8>>,
    /// Per device: the nonce it last gave the server (a Chal's NextNonce, on any status) while
    /// authenticated, for the server's credentials in its next session (DM Protocol §2.4.1, DM
    /// Security §5.1.3.4; see the `session` module).
    server_nonces: HashMap<String, Vec<u8>>,
    nonces: NonceSource,
    /// Requests refused before they could be tied to a session.
    refused: RefusedRequests,
}

impl MockServer {
    pub fn new(config: ServerConfig) -> MockServer {
        MockServer::with_content(config, ContentConfig::default())
    }

    /// A server that also hosts `content`.
    pub fn with_content(config: ServerConfig, content: ContentConfig) -> MockServer {
        let nonces = NonceSource::new(config.seed);
        let refusals_left = config.refuse_generic_alerts;
        let faults_fired = vec![0; config.session_faults.len()];
        MockServer {
            config,
            state: Mutex::new(State {
                sessions: Sessions::default(),
                sessions_of: HashMap::new(),
                attempts_of: HashMap::new(),
                faults_fired,
                client_nonces: HashMap::new(),
                server_nonces: HashMap::new(),
                refusals_left,
                nonces,
                refused: RefusedRequests::default(),
            }),
            content,
            content_state: Mutex::new(content::ContentState::default()),
            operator: None,
        }
    }

    /// A server that hosts `content` and asks `operator` for packages once the script's are sent,
    /// telling it every message of devices' authenticated sessions (see [`operator`]).
    pub fn with_operator(
        config: ServerConfig,
        content: ContentConfig,
        operator: Arc<dyn Operator>,
    ) -> MockServer {
        MockServer {
            operator: Some(operator),
            ..MockServer::with_content(config, content)
        }
    }

    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// What the server hosts.
    pub fn content_config(&self) -> &ContentConfig {
        &self.content
    }

    /// Answer a content request: a GET of a hosted file, or a POST to an install-notify path (see
    /// [`content`] for the rules and the faults). A path with nothing hosted is refused the way the
    /// HTTP front end refuses what is not a SyncML POST (GET 405, POST 415), so in-process and
    /// network clients see the same answers.
    pub fn content(&self, request: &ContentRequest) -> ContentResponse {
        if !self.hosts_content(&request.url) {
            return match request.method {
                ContentMethod::Get => ContentResponse::text(
                    405,
                    "GET not allowed: SyncML DM messages are POSTed",
                ),
                ContentMethod::Post => ContentResponse::text(
                    415,
                    "unsupported content type: use application/vnd.syncml.dm+xml or application/vnd.syncml.dm+wbxml",
                ),
            };
        }
        let mut state = self
            .content_state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        content::handle(&self.content, &mut state, request)
    }

    /// Whether a request for this URL is for the content part (a hosted file, a notify path, or a
    /// path with faults); everything else is a DM request.
    pub fn hosts_content(&self, url: &str) -> bool {
        self.content.hosts(&ContentRequest::get(url, None).path())
    }

    /// How many content requests for `path` (GET or POST, whatever they were answered; the query
    /// aside) reached the content part so far, from every device. A request for a path with
    /// nothing hosted is refused before it counts.
    pub fn content_requests(&self, path: &str) -> u32 {
        let state = self
            .content_state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        state.requests(path)
    }

    /// Every install notification recorded so far, in order.
    pub fn install_notifications(&self) -> Vec<InstallNotification> {
        let state = self
            .content_state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        state.notifications.clone()
    }

    /// How often each hosted-content fault ([`ContentConfig::faults`], in its order) changed an
    /// answer so far.
    pub fn content_faults_fired(&self) -> Vec<u32> {
        let state = self
            .content_state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut fired = state.fired.clone();
        fired.resize(self.content.faults.len(), 0);
        fired
    }

    /// Answer one DM request, read as its Content-Type says: one that cannot be (415 for a wrong or
    /// non-SyncML type, 400 for a body that does not decode) is answered so and kept in
    /// [`MockServer::refused`]. The answer is given at once: a front end that honours a
    /// [`SessionFaultKind::Slow`] fault asks [`MockServer::answer`].
    pub fn handle(&self, request: &HttpRequest) -> HttpResponse {
        self.answer(request).response
    }

    /// Answer one DM request as [`MockServer::handle`] does, with how late to send the answer
    /// (a [`SessionFaultKind::Slow`] fault).
    pub fn answer(&self, request: &HttpRequest) -> Answer {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        // Lock order: the server's state, then the operator (which never calls back).
        session::handle(&self.config, &mut state, self.operator.as_deref(), request)
    }

    /// How often each session fault ([`ServerConfig::session_faults`], in its order) changed an
    /// answer so far.
    pub fn session_faults_fired(&self) -> Vec<u32> {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.faults_fired.clone()
    }

    /// A Package #0 asking `device` (its id, the Source LocURI of its messages) to open session
    /// `session_id`, signed with the server's credentials and the nonce the device gave it (its
    /// `SRVCRED` AAuthData, reference §4): the last one it gave while authenticated, or before any,
    /// the configured one. `secret_override` signs it wrongly.
    pub fn notification(
        &self,
        device: &str,
        session_id: u16,
        ui_mode: UiMode,
        secret_override: Option<&str>,
    ) -> Vec<u8> {
        let mut n = Notification::new(self.config.server_id.clone(), session_id);
        n.ui_mode = ui_mode;
        let stored = {
            let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            state.server_nonces.get(device).cloned()
        };
        let (secret, nonce) = match &self.config.credentials {
            Some(c) => (
                c.secret.secret.as_str(),
                stored.unwrap_or_else(|| c.nonce.clone()),
            ),
            None => ("", Vec::new()),
        };
        pkg0::build(&n, secret_override.unwrap_or(secret), &nonce)
    }

    /// The sessions kept (every one so far, up to [`ServerConfig::keep_sessions`]), in the order
    /// they started.
    pub fn records(&self) -> Vec<SessionRecord> {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.sessions.iter().map(|s| s.record.clone()).collect()
    }

    /// How many of the oldest sessions were dropped to keep within
    /// [`ServerConfig::keep_sessions`].
    pub fn sessions_dropped(&self) -> u64 {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.sessions.dropped()
    }

    /// The requests refused before they could be tied to a session, as violations.
    pub fn refused(&self) -> RefusedRequests {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.refused.clone()
    }
}
