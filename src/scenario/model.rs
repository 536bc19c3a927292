//! The scenario file format (TOML), as read from disk.
//!
//! One scenario per file. Every table rejects unknown keys, and every value that names something
//! (an auth type, a fault point, a user answer) is checked while reading, so a typo is reported with
//! its file, line and column. See `README.md` for a complete example.

use super::updates::{ContentFaultSpec, FileSpec, FumoSpec, ResourcesSpec};
use crate::device::UserAnswer;
use crate::faults::{FaultEffect, FaultPoint};
use crate::server::{Quirk, ScriptPackage, SendCredentials};
use crate::session::ServerRule;
use crate::syncml::auth::AuthType;
use crate::syncml::Encoding;
use serde::{de, Deserialize, Deserializer};
use std::collections::BTreeMap;

/// A whole scenario file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Seed of every random choice in the run (nonces, probabilistic faults).
    #[serde(default)]
    pub seed: u64,
    /// Sessions to run; the device opens up to three more by itself while it still owes the server
    /// a report.
    #[serde(default = "one")]
    pub sessions: u32,
    /// Simulated time that passes on the device's clock between a session (and the job the
    /// device runs after it) and the next: `"1d"`, `"2h"`, `"30m"`, `"45s"` or seconds (default
    /// none).
    #[serde(default, deserialize_with = "duration")]
    pub session_interval: u64,
    #[serde(default)]
    pub device: DeviceSpec,
    #[serde(default)]
    pub server: ServerSpec,
    #[serde(default, rename = "fault")]
    pub faults: Vec<FaultSpec>,
    #[serde(default)]
    pub transport: TransportSpec,
    #[serde(default)]
    pub expect: Expect,
    /// `[portal]`: the embedded server plays the Knox E-FOTA portal, and the scenario calls its
    /// REST API (see [`super::portal_spec`]).
    pub portal: Option<super::portal_spec::PortalSpec>,
}

/// How the device reaches the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TransportKind {
    /// The mock server called in the same process: no sockets, simulated time.
    InProcess,
    /// Plain HTTP over loopback.
    Http,
    /// HTTPS over loopback with the test PKI of `certs/`.
    Https,
}

impl TransportKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TransportKind::InProcess => "in-process",
            TransportKind::Http => "http",
            TransportKind::Https => "https",
        }
    }
}

/// Which CA the device trusts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Trust {
    /// `certs/ca.pem`, which signed the server's certificate.
    #[default]
    Ca,
    /// `certs/wrong-ca.pem`, an unrelated CA: the handshake must fail.
    WrongCa,
}

/// Transport settings of a scenario.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TransportSpec {
    /// Always run this scenario over this transport (e.g. a TLS scenario); by default the run's.
    pub kind: Option<TransportKind>,
    /// The device presents `certs/client.pem`.
    pub client_certificate: bool,
    /// The server refuses devices without a client certificate.
    pub require_client_certificate: bool,
    pub trust: Trust,
}

/// Who starts the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InitiatorSpec {
    #[default]
    Client,
    Server,
}

/// The simulated device.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeviceSpec {
    pub dev_id: String,
    pub manufacturer: String,
    pub model: String,
    pub firmware: String,
    pub software: String,
    pub hardware: String,
    pub oem: String,
    pub dev_type: String,
    pub lang: String,
    pub dm_version: String,
    pub large_object: bool,
    pub initiator: InitiatorSpec,
    /// Session id of a server-initiated session (from the notification).
    pub session_id: u16,
    pub max_depth: u16,
    pub max_tot_len: u16,
    pub max_seg_len: u16,
    /// Bytes the tree's leaf values may take in all; more answers 420.
    pub tree_capacity: Option<u64>,
    pub max_msg_size: u64,
    pub max_obj_size: u64,
    /// The encoding of the device's messages: `xml` or `wbxml`.
    pub encoding: Encoding,
    /// The device's credentials (DMAcc CLCRED); none sends no credentials.
    pub auth: Option<AuthSpec>,
    /// Credentials the device demands of the server (DMAcc SRVCRED).
    pub server_auth: Option<AuthSpec>,
    #[serde(rename = "node")]
    pub nodes: Vec<NodeSpec>,
    pub ui: UiSpec,
    /// Generic Alerts (1226) the device reports in Package 1.
    #[serde(rename = "generic_alert")]
    pub generic_alerts: Vec<GenericAlertSpec>,
    /// What the device has to spare for updates.
    pub resources: ResourcesSpec,
    /// The device has a FUMO agent.
    pub fumo: Option<FumoSpec>,
    /// The device has a SCOMO agent.
    pub scomo: Option<super::scomo::ScomoSpec>,
    /// The profile that gives the codes the device reports (`dmsim`, or `oma` for the OMA codes
    /// alone, `knox-efota`; see `profiles/`).
    pub profile: String,
    /// Tree nodes the device's update client needs before any FUMO or SCOMO job starts.
    pub preconditions: PreconditionsSpec,
    /// The device family, a preset of identity, agents and profile (`knox-efota`; see
    /// `scenario/family.rs`).
    pub family: Option<super::family::Family>,
    /// A `snom-m3` base's settings (`[device.snom]`, see [`super::snom`]).
    pub snom: Option<super::snom::SnomSpec>,
    /// The platform of a family's device (`android`, or `ios` for Knox E-FOTA's iOS-like device).
    pub platform: crate::profile::Platform,
}

/// `[device.preconditions]`: the nodes every job checks exist first (none by default; see
/// [`crate::engine::Preconditions`]).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PreconditionsSpec {
    /// Missing: the job ends `start.not-ready`.
    pub device_ready: Option<String>,
    /// Missing: the job ends `start.no-inventory`.
    pub inventory: Option<String>,
}

/// A Generic Alert the device sends.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenericAlertSpec {
    /// The management object node the alert is about.
    pub source: String,
    pub target: Option<String>,
    /// The alert type, e.g. `org.openmobilealliance.dm.firmwareupdate.download`.
    #[serde(rename = "type")]
    pub alert_type: String,
    #[serde(default = "int")]
    pub format: String,
    pub mark: Option<String>,
    pub data: String,
    pub correlator: Option<String>,
}

fn int() -> String {
    "int".to_string()
}

impl Default for DeviceSpec {
    fn default() -> DeviceSpec {
        DeviceSpec {
            dev_id: "IMEI:356938035643809".into(),
            manufacturer: "dmsim".into(),
            model: "SIM-1".into(),
            firmware: "FW-1.0.0".into(),
            software: "SW-1.0.0".into(),
            hardware: "HW-A".into(),
            oem: "dmsim".into(),
            dev_type: "phone".into(),
            lang: "en-US".into(),
            dm_version: "1.2".into(),
            large_object: true,
            initiator: InitiatorSpec::Client,
            session_id: 0x1234,
            max_depth: 0,
            max_tot_len: 0,
            max_seg_len: 0,
            tree_capacity: None,
            max_msg_size: 16 * 1024,
            max_obj_size: 1024 * 1024,
            encoding: Encoding::Xml,
            auth: None,
            server_auth: None,
            nodes: Vec::new(),
            ui: UiSpec::default(),
            generic_alerts: Vec::new(),
            resources: ResourcesSpec::default(),
            fumo: None,
            scomo: None,
            profile: crate::profile::DEFAULT.into(),
            preconditions: PreconditionsSpec::default(),
            family: None,
            snom: None,
            platform: crate::profile::Platform::Android,
        }
    }
}

/// An authentication scheme, by its scenario name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthKind {
    Basic,
    Md5,
    Hmac,
}

impl AuthKind {
    /// The authentication type it names.
    pub fn auth_type(self) -> AuthType {
        match self {
            AuthKind::Basic => AuthType::Basic,
            AuthKind::Md5 => AuthType::Md5,
            AuthKind::Hmac => AuthType::Hmac,
        }
    }
}

/// Name, secret and starting nonce of one direction of authentication.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSpec {
    #[serde(rename = "type")]
    pub kind: AuthKind,
    pub name: String,
    pub secret: String,
    /// The nonce held before the first session, as text (its bytes are the nonce). On the device
    /// (`device.auth`, `device.server_auth`) the nonce its DMAcc holds, empty when not given; on
    /// the server (`server.auth`, `server.credentials`) the nonce the server believes the device
    /// holds, by default the device's own (a different one is a stale nonce: the first
    /// credentials built on it fail and a Chal brings both sides back in step).
    pub nonce: Option<String>,
}

impl AuthSpec {
    /// The nonce's bytes (none given: empty).
    pub fn nonce_bytes(&self) -> Vec<u8> {
        self.nonce
            .as_deref()
            .unwrap_or_default()
            .as_bytes()
            .to_vec()
    }
}

/// A node added to the device's tree before the session.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSpec {
    pub uri: String,
    #[serde(default = "chr")]
    pub format: String,
    #[serde(rename = "type")]
    pub mime: Option<String>,
    pub value: Option<String>,
    /// The value is `value` this many times over (for large objects).
    pub repeat: Option<usize>,
    /// Commands the node supports at all (DDF AccessType); every one but Exec when absent. A node
    /// whose access names Exec is a device operation: an Exec on it completes at once (200) and is
    /// recorded. Exec on any other node without a management object behind it answers 405.
    pub access: Option<Vec<String>>,
    pub acl: Option<String>,
}

fn one() -> u32 {
    1
}

fn chr() -> String {
    "chr".to_string()
}

/// The device's display and the user's scripted answers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UiSpec {
    pub display: bool,
    pub max_text: usize,
    /// Most choices the display lists in a choice alert; a longer list answers 416.
    pub max_choices: usize,
    #[serde(deserialize_with = "answers")]
    pub answers: Vec<UserAnswer>,
    /// The user's answers to the installation-conditions prompt the device shows before an
    /// install (`ask_install_conditions`), in order: `yes`, `no`, `cancel`, `timeout`.
    #[serde(deserialize_with = "answers")]
    pub install_conditions: Vec<UserAnswer>,
}

impl Default for UiSpec {
    fn default() -> UiSpec {
        UiSpec {
            display: true,
            max_text: 1024,
            max_choices: crate::device::user::DEFAULT_MAX_CHOICES,
            answers: Vec::new(),
            install_conditions: Vec::new(),
        }
    }
}

/// The mock server.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSpec {
    pub server_id: String,
    pub url: String,
    /// What the server expects of the device; by default the device's own credentials.
    pub auth: Option<AuthSpec>,
    /// The server's credentials; by default the ones the device demands (`device.server_auth`).
    pub credentials: Option<AuthSpec>,
    /// When the server sends its credentials.
    pub send_credentials: SendCredentials,
    /// The Package #0 that starts a server-initiated session (`device.initiator = "server"`).
    pub notification: NotificationSpec,
    /// The largest message the server accepts; the device splits its packages to fit.
    pub max_msg_size: Option<u64>,
    /// The largest object the server accepts; a larger Get result answers 413.
    pub max_obj_size: Option<u64>,
    /// Answer the first this many Generic Alerts with 500 instead of 200 (the device must send
    /// them again in a later session).
    pub refuse_generic_alerts: u32,
    /// Rules the server breaks on purpose in its messages, to test how a device copes:
    /// `duplicate-cmd-id`, `msg-id-sequence`, `element-order`, `namespace` (see
    /// [`crate::server::quirks`]).
    pub quirks: Vec<Quirk>,
    #[serde(rename = "package")]
    pub packages: Vec<ScriptPackage>,
    /// Files the server hosts (packages, descriptors).
    #[serde(rename = "file")]
    pub files: Vec<FileSpec>,
    /// Faults on hosted paths.
    #[serde(rename = "content_fault")]
    pub content_faults: Vec<ContentFaultSpec>,
    /// Sessions the server fails on purpose (see [`crate::server::faults`]).
    #[serde(rename = "session_fault")]
    pub session_faults: Vec<super::session_faults::SessionFaultSpec>,
    /// Snom m3 releases hosted (`[[server.snom_release]]`, see [`super::snom`]).
    #[serde(rename = "snom_release")]
    pub snom_releases: Vec<super::snom::SnomReleaseSpec>,
    /// Credentials the hosted files need (`[server.file_auth]`).
    pub file_auth: Option<super::snom::FileAuthSpec>,
    /// The DNS responder a Snom m3 base's lookups reach (`[server.dns]`).
    pub dns: Option<super::snom::DnsSpec>,
}

impl Default for ServerSpec {
    fn default() -> ServerSpec {
        ServerSpec {
            server_id: "dmsim-server".into(),
            url: "https://dm.dmsim.test/dm".into(),
            auth: None,
            credentials: None,
            send_credentials: SendCredentials::Always,
            notification: NotificationSpec::default(),
            max_msg_size: None,
            max_obj_size: None,
            packages: Vec::new(),
            refuse_generic_alerts: 0,
            quirks: Vec::new(),
            files: Vec::new(),
            content_faults: Vec::new(),
            session_faults: Vec::new(),
            snom_releases: Vec::new(),
            file_auth: None,
            dns: None,
        }
    }
}

/// How the mock server signs its notification.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotificationSpec {
    pub ui_mode: UiModeSpec,
    /// Sign with this secret instead of the server's own (a forged notification).
    pub secret: Option<String>,
}

/// The notification's UI mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UiModeSpec {
    NotSpecified,
    #[default]
    Background,
    Informative,
    UserInteraction,
}

/// A fault rule: the effect must be one the point uses ([`FaultPoint::uses`]).
///
/// A rule must fire at least once during the run, or the scenario fails naming it: a scenario
/// whose fault never happened proves nothing about that fault. `optional = true` lifts this for a
/// rule that may rightly not fire (a probability swept over seeds).
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawFaultSpec")]
pub struct FaultSpec {
    pub at: FaultPoint,
    pub inject: FaultEffect,
    /// Fire only the Nth time the point is reached.
    pub nth: Option<u32>,
    /// Fire with this probability (from the run's seed).
    pub probability: Option<f64>,
    /// The rule need not fire.
    pub optional: bool,
}

impl std::fmt::Display for FaultSpec {
    /// The rule as a scenario writes it, e.g. `at = "state.save", inject = "power.loss", nth = 3`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "at = \"{}\", inject = \"{}\"", self.at, self.inject)?;
        if let Some(n) = self.nth {
            write!(f, ", nth = {n}")?;
        }
        if let Some(p) = self.probability {
            write!(f, ", probability = {p}")?;
        }
        Ok(())
    }
}

/// A fault rule as written, before its point and effect are checked against each other.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFaultSpec {
    #[serde(deserialize_with = "fault_point")]
    at: FaultPoint,
    #[serde(deserialize_with = "fault_effect")]
    inject: FaultEffect,
    nth: Option<u32>,
    probability: Option<f64>,
    #[serde(default)]
    optional: bool,
}

/// A fault rule whose point does nothing with its effect (see [`FaultPoint::uses`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "fault point {at} does nothing with {}; it uses: {}",
    .inject.as_str(),
    .at.effect_names().join(", ")
)]
pub struct UnusedEffect {
    pub at: FaultPoint,
    pub inject: FaultEffect,
}

impl TryFrom<RawFaultSpec> for FaultSpec {
    type Error = UnusedEffect;

    fn try_from(raw: RawFaultSpec) -> Result<FaultSpec, UnusedEffect> {
        if !raw.at.uses(raw.inject) {
            return Err(UnusedEffect {
                at: raw.at,
                inject: raw.inject,
            });
        }
        Ok(FaultSpec {
            at: raw.at,
            inject: raw.inject,
            nth: raw.nth,
            probability: raw.probability,
            optional: raw.optional,
        })
    }
}

/// What must have happened.
///
/// Every list is exact and ordered: `fumo_result = [200]` holds when the server received exactly
/// one FUMO result, 200, and fails on `[200, 200]`; an empty list means none happened; a list left
/// out is not checked. A scenario that means "at least these, in this order (others may come
/// between)" names the list in `at_least`, e.g. `at_least = ["status"]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// How the session ended: completed, aborted-by-server, aborted-by-device, auth-failed, failed.
    /// (With several sessions, the last one.)
    pub end: Option<EndKind>,
    /// How each session ended, in order (exactly).
    pub ends: Option<Vec<EndKind>>,
    /// Text the description of the end must contain (e.g. the reason of a failure).
    pub end_reason: Option<String>,
    /// The SessionID the device used.
    pub session_id: Option<String>,
    /// Lists checked as "at least these, in this order" instead of exactly.
    #[serde(default)]
    pub at_least: Vec<ListName>,
    /// Statuses the server received, in order (SyncHdr ones included).
    #[serde(rename = "status")]
    pub statuses: Option<Vec<StatusExpect>>,
    /// Alert codes the server received from the device, in order.
    pub alerts: Option<Vec<u16>>,
    /// Results items the server received, in order.
    #[serde(rename = "result")]
    pub results: Option<Vec<ResultExpect>>,
    /// Tree values after the session.
    #[serde(default)]
    pub tree: BTreeMap<String, String>,
    /// Byte lengths of tree values after the session (for large values).
    #[serde(default)]
    pub tree_len: BTreeMap<String, usize>,
    /// Nodes that must not exist after the session.
    #[serde(default)]
    pub absent: Vec<String>,
    /// Nodes of the Execs that took effect on the device, in order: an Exec answered 200 or 202
    /// and, inside an Atomic, committed with it ([`crate::device::ExecRecord`]). Refused and
    /// rolled-back Execs are not in it.
    pub execs: Option<Vec<String>>,
    /// Reports (Generic Alerts) the device still owes the server at the end.
    pub reports_pending: Option<usize>,
    /// How many sessions ran.
    pub sessions: Option<usize>,
    /// The server must not break any protocol rule the device checks.
    #[serde(default)]
    pub no_violations: bool,
    /// The rules the device saw the server break, by id, each once in the order first seen
    /// (`["namespace", "msg-id-sequence"]`; see [`ServerRule`]).
    pub server_violations: Option<Vec<ServerRule>>,
    /// The FUMO State value at the end.
    pub fumo_state: Option<u16>,
    /// State values the device went through, in order.
    pub fumo_states: Option<Vec<u16>>,
    /// FUMO result codes the server received in Generic Alerts, in order.
    pub fumo_result: Option<Vec<u16>>,
    /// DL statuses the device's download attempts ended with, in order (whether or not they were
    /// posted to an installNotifyURI).
    pub dl_status: Option<Vec<u16>>,
    /// Statuses the server's installNotifyURI received, in order.
    pub install_notify: Option<Vec<u16>>,
    /// Times the device booted again after it was first powered on (planned reboots of an install
    /// and power losses).
    pub boots: Option<u32>,
    /// The firmware version the device runs (and shows in `DevDetail/FwV`) at the end.
    pub firmware: Option<String>,
    /// A Snom m3 base: the codes its display showed, in order, exactly.
    pub snom_m3: Option<Vec<u8>>,
    /// A Snom m3 base: the gateway's version at the end.
    pub gateway: Option<String>,
    /// A Snom m3 base: each handset's version at the end.
    pub handsets: Option<BTreeMap<String, String>>,
    /// The firmware slots at the end: `"good <version>"`, `"pending <version>"` or `"empty"`.
    #[serde(default)]
    pub slots: BTreeMap<String, String>,
    /// SCOMO result codes the server received in OperationComplete alerts, in order.
    pub scomo_result: Option<Vec<u16>>,
    /// Every SCOMO Status node the device set, each with every value it took, in order.
    pub scomo_status: Option<Vec<super::scomo::StatusExpect>>,
    /// The SCOMO inventory at the end, exactly.
    pub inventory: Option<super::scomo::InventoryExpect>,
    /// Knox E-FOTA codes the server received in E-FOTA reports, in order (a report of several
    /// codes gives them one after the other).
    pub knox_efota: Option<Vec<i64>>,
}

/// The lists of [`Expect`], as `at_least` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListName {
    Status,
    Alerts,
    Result,
    FumoStates,
    FumoResult,
    DlStatus,
    InstallNotify,
    ServerViolations,
    ScomoResult,
    ScomoStatus,
    KnoxEfota,
}

impl ListName {
    pub fn as_str(self) -> &'static str {
        match self {
            ListName::Status => "status",
            ListName::Alerts => "alerts",
            ListName::Result => "result",
            ListName::FumoStates => "fumo_states",
            ListName::FumoResult => "fumo_result",
            ListName::DlStatus => "dl_status",
            ListName::InstallNotify => "install_notify",
            ListName::ServerViolations => "server_violations",
            ListName::ScomoResult => "scomo_result",
            ListName::ScomoStatus => "scomo_status",
            ListName::KnoxEfota => "knox_efota",
        }
    }
}

impl Expect {
    /// Whether `list` is checked as "at least these, in this order".
    pub fn at_least(&self, list: ListName) -> bool {
        self.at_least.contains(&list)
    }

    /// Whether `list` is given (an empty list is given: it says none happened).
    pub fn has(&self, list: ListName) -> bool {
        match list {
            ListName::Status => self.statuses.is_some(),
            ListName::Alerts => self.alerts.is_some(),
            ListName::Result => self.results.is_some(),
            ListName::FumoStates => self.fumo_states.is_some(),
            ListName::FumoResult => self.fumo_result.is_some(),
            ListName::DlStatus => self.dl_status.is_some(),
            ListName::InstallNotify => self.install_notify.is_some(),
            ListName::ServerViolations => self.server_violations.is_some(),
            ListName::ScomoResult => self.scomo_result.is_some(),
            ListName::ScomoStatus => self.scomo_status.is_some(),
            ListName::KnoxEfota => self.knox_efota.is_some(),
        }
    }

    /// Whether the list is given and empty.
    pub fn is_empty(&self, list: ListName) -> bool {
        match list {
            ListName::Status => self.statuses.as_ref().is_some_and(Vec::is_empty),
            ListName::Alerts => self.alerts.as_ref().is_some_and(Vec::is_empty),
            ListName::Result => self.results.as_ref().is_some_and(Vec::is_empty),
            ListName::FumoStates => self.fumo_states.as_ref().is_some_and(Vec::is_empty),
            ListName::FumoResult => self.fumo_result.as_ref().is_some_and(Vec::is_empty),
            ListName::DlStatus => self.dl_status.as_ref().is_some_and(Vec::is_empty),
            ListName::InstallNotify => self.install_notify.as_ref().is_some_and(Vec::is_empty),
            ListName::ServerViolations => {
                self.server_violations.as_ref().is_some_and(Vec::is_empty)
            }
            ListName::ScomoResult => self.scomo_result.as_ref().is_some_and(Vec::is_empty),
            ListName::ScomoStatus => self.scomo_status.as_ref().is_some_and(Vec::is_empty),
            ListName::KnoxEfota => self.knox_efota.as_ref().is_some_and(Vec::is_empty),
        }
    }
}

/// The kinds of session end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EndKind {
    Completed,
    AbortedByServer,
    AbortedByDevice,
    AuthFailed,
    Failed,
    NotificationRejected,
}

impl EndKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EndKind::Completed => "completed",
            EndKind::AbortedByServer => "aborted-by-server",
            EndKind::AbortedByDevice => "aborted-by-device",
            EndKind::AuthFailed => "auth-failed",
            EndKind::Failed => "failed",
            EndKind::NotificationRejected => "notification-rejected",
        }
    }
}

/// One expected Status.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusExpect {
    pub cmd: String,
    pub target: Option<String>,
    pub code: u16,
    /// Data of the Status's first item (typed text, chosen number).
    pub data: Option<String>,
}

/// One expected Results item.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResultExpect {
    pub source: String,
    pub data: Option<String>,
    pub format: Option<String>,
    /// Byte length of the data (for large objects).
    pub len: Option<usize>,
}

/// A duration in seconds: a number, or a number with a unit `s`, `m`, `h` or `d`.
fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Secs(u64),
        Text(String),
    }
    let text = match Raw::deserialize(d)? {
        Raw::Secs(n) => return Ok(n),
        Raw::Text(t) => t,
    };
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let unit = match t[split..].trim() {
        "" | "s" => Some(1u64),
        "m" => Some(60),
        "h" => Some(3600),
        "d" => Some(86_400),
        _ => None,
    };
    t[..split]
        .parse::<u64>()
        .ok()
        .zip(unit)
        .and_then(|(n, unit)| n.checked_mul(unit))
        .ok_or_else(|| {
            de::Error::custom(format!(
                "invalid duration {text:?}: expected seconds, or a number with s, m, h or d"
            ))
        })
}

fn answers<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<UserAnswer>, D::Error> {
    Vec::<String>::deserialize(d)?
        .iter()
        .map(|a| a.parse().map_err(de::Error::custom))
        .collect()
}

fn fault_point<'de, D: Deserializer<'de>>(d: D) -> Result<FaultPoint, D::Error> {
    let s = String::deserialize(d)?;
    FaultPoint::parse(&s).ok_or_else(|| {
        let known: Vec<_> = FaultPoint::ALL.iter().map(|p| p.as_str()).collect();
        de::Error::custom(format!(
            "unknown fault point {s:?}; known: {}",
            known.join(", ")
        ))
    })
}

fn fault_effect<'de, D: Deserializer<'de>>(d: D) -> Result<FaultEffect, D::Error> {
    let s = String::deserialize(d)?;
    FaultEffect::parse(&s).ok_or_else(|| {
        let known: Vec<_> = FaultEffect::ALL.iter().map(|p| p.as_str()).collect();
        de::Error::custom(format!(
            "unknown fault effect {s:?}; known: {}",
            known.join(", ")
        ))
    })
}
