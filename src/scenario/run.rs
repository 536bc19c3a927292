//! Running one scenario: build the device and the mock server it names, run the session over the
//! in-process transport under simulated time, then check the expectations against what happened.

use super::load::LoadedScenario;
use super::model::{
    AuthKind, AuthSpec, DeviceSpec, Expect, InitiatorSpec, ListName, NodeSpec, ResultExpect,
    ScenarioFile, StatusExpect, TransportKind, UiModeSpec,
};
use super::network::{self, NetworkEnv};
use super::observe::{Observation, Observations, WireSummary};
use super::updates::{self, RequestSpec};
use crate::device::{Device, Saved, SizeLimits, User};
use crate::download::ContentClient;
use crate::faults::{FaultPlan, FaultRule, Trigger};
use crate::firmware::{Firmware, SlotId, SlotState};
use crate::fumo::{self, Fumo};
use crate::inproc::{InProcess, InProcessContent};
use crate::jobs;
use crate::protocol::fumo::{DEVICE_REQUEST, USER_REQUEST};
use crate::server::{
    ClientAuthPolicy, DeviceViolation, InstallNotification, MockServer, ReceivedStatus,
    RefusedRequests, ServerConfig, ServerCredentials, SessionRecord,
};
use crate::session::{
    accept_notification, run_session_with, DriverOptions, Exchange, Initiator,
    NotificationRejected, Pace, ServerRule, SessionEnd, SessionReport, SessionStart, Violation,
};
use crate::storage::{FileStore, MemoryStore, StateStore};
use crate::syncml::auth::{AuthType, Secret};
use crate::syncml::pkg0::UiMode;
use crate::syncml::{render_as_received, Encoding, GenericAlert, Item};
use crate::transport::Transport;
use crate::tree::{self, Access, Format, Node, UriLimits};
use std::sync::Arc;
use std::time::Instant;

/// How a scenario ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Passed,
    Failed,
    /// The scenario could not be run as written (e.g. a node it adds is invalid).
    Error,
}

/// The outcome of one scenario.
#[derive(Debug, Clone)]
pub struct ScenarioResult {
    pub name: String,
    pub file: String,
    pub verdict: Verdict,
    /// How the device reached the server.
    pub transport: TransportKind,
    pub duration_ms: u64,
    pub failures: Vec<String>,
    pub observed: Vec<Observation>,
    /// Every fault rule of the scenario and how often it fired.
    pub faults: Vec<FiredRule>,
    /// What the device's and the server's messages were on the wire, from their bytes.
    pub wire: WireSummary,
    /// Protocol rules the device broke, as the mock server recorded them (each is also a
    /// failure).
    pub violations: Vec<DeviceViolation>,
    /// How the session ended, in words.
    pub end: String,
    /// The session transcript as readable XML.
    pub transcript: String,
    /// Every message of every session, raw, in order (what `dmsim run --capture` writes out).
    pub exchanges: Vec<Exchange>,
}

/// A fault rule of a scenario (`[[fault]]` or `[[server.content_fault]]`) and how often it fired.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FiredRule {
    /// The rule as the scenario writes it, e.g. `[[fault]] at = "state.save", inject = "power.loss"`.
    pub rule: String,
    pub fired: u32,
    /// The rule need not fire (`optional = true`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
}

/// What a run needs besides the scenarios.
pub struct RunEnv {
    /// The transport of scenarios that do not name one.
    pub transport: TransportKind,
    /// The encoding every device uses, whatever its scenario says.
    pub encoding: Option<Encoding>,
    pub network: NetworkEnv,
    /// Keep each scenario's device state in files under this directory (one subdirectory per
    /// scenario file); in memory when `None`.
    pub state_dir: Option<std::path::PathBuf>,
}

/// What a scenario's sessions left behind.
pub(super) struct Outcome {
    pub reports: Vec<SessionReport>,
    pub device: Device,
    pub records: Vec<SessionRecord>,
    /// Device messages the server refused before it could tie them to a session.
    pub refused: RefusedRequests,
    /// The install notifications the server received.
    pub notifications: Vec<InstallNotification>,
    /// How often each `[[server.content_fault]]` changed an answer.
    pub content_faults_fired: Vec<u32>,
}

/// Where a scenario's devices keep their durable state: a fresh directory of `state_dir` named
/// after the scenario file, or memory.
pub(super) fn state_store(
    env: &RunEnv,
    scenario: &std::path::Path,
) -> Result<Box<dyn StateStore>, String> {
    let Some(root) = &env.state_dir else {
        return Ok(Box::new(MemoryStore::new()));
    };
    let dir = root.join(file_slug(scenario));
    if dir.exists() {
        // A scenario starts from a factory-fresh device: the previous run's state goes.
        std::fs::remove_dir_all(&dir)
            .map_err(|e| format!("{}: cannot clear the old state: {e}", dir.display()))?;
    }
    FileStore::new(dir)
        .map(|s| Box::new(s) as Box<dyn StateStore>)
        .map_err(|e| e.to_string())
}

/// The name a scenario's own directory gets (state, captures): its file's path without the
/// extension, the parts joined by `-` (`scenarios/auth/md5.toml` → `scenarios-auth-md5`).
pub(super) fn file_slug(scenario: &std::path::Path) -> String {
    scenario
        .with_extension("")
        .components()
        .filter_map(|c| match c {
            std::path::Component::Normal(part) => part.to_str(),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// Run the scenario's session against the mock server in the same process.
async fn run_in_process(file: &ScenarioFile, store: &dyn StateStore) -> Result<Outcome, String> {
    let server = Arc::new(mock_server(file)?);
    let transport = InProcess::new(Arc::clone(&server));
    let content = InProcessContent::new(Arc::clone(&server));
    run_against(&transport, &content, store, &server, file, Pace::Sleep).await
}

/// Extra sessions a device may open on its own to deliver what it still owes the server.
const EXTRA_SESSIONS: u32 = 3;

/// Build the scenario's device and run its sessions over `transport` to `server`: `sessions` of
/// them (the first one started by a notification when the scenario says so), then up to
/// [`EXTRA_SESSIONS`] more while the device still has reports to deliver. After each session the
/// device saves its state and runs the job the session gave it (a FUMO download or update),
/// fetching content with `content`.
pub(super) async fn run_against<T: Transport, C: ContentClient>(
    transport: &T,
    content: &C,
    store: &dyn StateStore,
    server: &MockServer,
    file: &ScenarioFile,
    pace: Pace,
) -> Result<Outcome, String> {
    let mut owned = build_device(file)?;
    owned
        .flash(store)
        .map_err(|e| format!("device {}: {e}", owned.dev_id()))?;
    let device = &mut owned;
    let mut reports = Vec::new();
    let planned = file.sessions.max(1);
    for n in 0..planned + EXTRA_SESSIONS {
        if n >= planned && device.reports.pending().is_empty() {
            break;
        }
        let start = if n == 0 {
            session_start(file, server, device)
        } else {
            Ok(client_start(file))
        };
        let report = match start {
            Ok(start) => {
                let options = DriverOptions {
                    keep_transcript: true,
                    pace,
                };
                run_session_with(transport, device, start, options).await
            }
            Err(rejected) => SessionReport::not_started(SessionEnd::NotificationRejected {
                reason: rejected.to_string(),
            }),
        };
        let stop = matches!(report.end, SessionEnd::NotificationRejected { .. });
        reports.push(report);
        if stop {
            break;
        }
        between_sessions(device, content, store).await?;
    }
    Ok(Outcome {
        reports,
        device: owned,
        records: server.records(),
        refused: server.refused(),
        notifications: server.install_notifications(),
        content_faults_fired: server.content_faults_fired(),
    })
}

/// What a device does between sessions: write down what the session changed, then work on the
/// job it accepted.
async fn between_sessions<C: ContentClient>(
    device: &mut Device,
    content: &C,
    store: &dyn StateStore,
) -> Result<(), String> {
    let id = device.dev_id().to_string();
    let failed = |e: &dyn std::fmt::Display| format!("device {id}: {e}");
    match device.save(store) {
        Ok(Saved::Landed) => {}
        Ok(Saved::PowerLost) => device.reboot(store).map_err(|e| failed(&e))?,
        Err(e) => return Err(failed(&e)),
    }
    match jobs::run_job(device, content, store).await {
        Ok(_) => Ok(()),
        Err(e) => Err(failed(&e)),
    }
}

/// Run one scenario to its verdict.
pub async fn run(scenario: &LoadedScenario, env: &RunEnv) -> ScenarioResult {
    let started = Instant::now();
    let mut file = std::borrow::Cow::Borrowed(&scenario.file);
    if let Some(encoding) = env.encoding {
        file.to_mut().device.encoding = encoding;
    }
    let file = file.as_ref();
    let mut result = ScenarioResult {
        name: file.name.clone(),
        file: scenario.path.display().to_string(),
        verdict: Verdict::Passed,
        transport: file.transport.kind.unwrap_or(env.transport),
        duration_ms: 0,
        failures: Vec::new(),
        observed: Vec::new(),
        faults: Vec::new(),
        wire: WireSummary::default(),
        violations: Vec::new(),
        end: String::new(),
        transcript: String::new(),
        exchanges: Vec::new(),
    };
    let outcome = match state_store(env, &scenario.path) {
        Err(e) => Err(e),
        Ok(store) => match result.transport {
            TransportKind::InProcess => run_in_process(file, store.as_ref()).await,
            TransportKind::Http => network::run(file, &env.network, false, store.as_ref()).await,
            TransportKind::Https => network::run(file, &env.network, true, store.as_ref()).await,
        },
    };
    let Outcome {
        reports,
        device,
        records,
        refused,
        notifications,
        content_faults_fired,
    } = match outcome {
        Ok(o) => o,
        Err(e) => {
            result.verdict = Verdict::Error;
            result.failures.push(e);
            return result;
        }
    };
    result.failures = check(&file.expect, &reports, &device, &records, &refused);
    result.violations = records
        .iter()
        .flat_map(|r| r.violations.iter().cloned())
        .collect();
    check_updates(
        &file.expect,
        &device,
        &records,
        &notifications,
        &mut result.failures,
    );
    result.faults = fired_rules(file, &device, &content_faults_fired);
    for rule in result.faults.iter().filter(|r| r.fired == 0 && !r.optional) {
        result.failures.push(format!(
            "fault rule {} never fired (a scenario whose fault did not happen proves nothing; say optional = true if it may rightly not fire)",
            rule.rule
        ));
    }
    if !result.failures.is_empty() {
        result.verdict = Verdict::Failed;
    }
    let transcript: Vec<&Exchange> = reports.iter().flat_map(|r| &r.transcript).collect();
    let mut observed = Observations::from_exchanges(transcript.iter().copied());
    observed.server_violations(reports.iter().flat_map(|r| &r.violations));
    observed.device(&device);
    observed.install_notifications(&notifications);
    result.observed = observed.into_vec();
    result.wire = WireSummary::of(transcript.iter().copied());
    result.end = reports
        .last()
        .map(|r| r.end.to_string())
        .unwrap_or_default();
    result.transcript = reports
        .iter()
        .enumerate()
        .map(|(n, r)| format!("=== session {} ({})\n{}", n + 1, r.end, render_report(r)))
        .collect();
    result.exchanges = reports.into_iter().flat_map(|r| r.transcript).collect();
    result.duration_ms = started.elapsed().as_millis() as u64;
    result
}

/// Every fault rule of the scenario with how often it fired: the device's `[[fault]]` rules, then the
/// server's `[[server.content_fault]]` ones.
fn fired_rules(file: &ScenarioFile, device: &Device, content: &[u32]) -> Vec<FiredRule> {
    let device_rules = file
        .faults
        .iter()
        .zip(device.faults.fired())
        .map(|(rule, &fired)| FiredRule {
            rule: format!("[[fault]] {rule}"),
            fired,
            optional: rule.optional,
        });
    let content_rules = file
        .server
        .content_faults
        .iter()
        .zip(content)
        .map(|(rule, &fired)| FiredRule {
            rule: format!("[[server.content_fault]] {rule}"),
            fired,
            optional: rule.optional,
        });
    device_rules.chain(content_rules).collect()
}

/// A client-initiated start, or the one a notification from the server asks for.
fn session_start(
    file: &ScenarioFile,
    server: &MockServer,
    device: &Device,
) -> Result<SessionStart, NotificationRejected> {
    match file.device.initiator {
        InitiatorSpec::Client => Ok(client_start(file)),
        InitiatorSpec::Server => {
            let spec = &file.server.notification;
            let ui_mode = match spec.ui_mode {
                UiModeSpec::NotSpecified => UiMode::NotSpecified,
                UiModeSpec::Background => UiMode::Background,
                UiModeSpec::Informative => UiMode::Informative,
                UiModeSpec::UserInteraction => UiMode::UserInteraction,
            };
            let bytes = server.notification(
                device.dev_id(),
                file.device.session_id,
                ui_mode,
                spec.secret.as_deref(),
            );
            accept_notification(device, &bytes)
        }
    }
}

/// A session the device starts by itself.
fn client_start(file: &ScenarioFile) -> SessionStart {
    SessionStart {
        initiator: Initiator::Client,
        server_id: Some(file.server.server_id.clone()),
    }
}

fn generic_alerts(file: &ScenarioFile) -> impl Iterator<Item = GenericAlert> + '_ {
    file.device.generic_alerts.iter().map(|g| GenericAlert {
        correlator: g.correlator.clone(),
        source_uri: g.source.clone(),
        target_uri: g.target.clone(),
        alert_type: g.alert_type.clone(),
        format: g.format.clone(),
        mark: g.mark.clone(),
        data: g.data.clone(),
    })
}

fn auth_type(kind: AuthKind) -> AuthType {
    match kind {
        AuthKind::Basic => AuthType::Basic,
        AuthKind::Md5 => AuthType::Md5,
        AuthKind::Hmac => AuthType::Hmac,
    }
}

fn settings(spec: Option<&AuthSpec>) -> Option<tree::AuthSettings> {
    spec.map(|a| tree::AuthSettings {
        auth_type: auth_type(a.kind).aauth_type().to_string(),
        name: a.name.clone(),
        secret: a.secret.clone(),
        data: a.nonce_bytes(),
    })
}

/// The device a scenario describes.
pub fn build_device(file: &ScenarioFile) -> Result<Device, String> {
    let d: &DeviceSpec = &file.device;
    let identity = tree::Identity {
        dev_id: d.dev_id.clone(),
        man: d.manufacturer.clone(),
        model: d.model.clone(),
        dm_version: d.dm_version.clone(),
        lang: d.lang.clone(),
        dev_type: d.dev_type.clone(),
        oem: d.oem.clone(),
        fw_version: d.firmware.clone(),
        sw_version: d.software.clone(),
        hw_version: d.hardware.clone(),
        large_object: d.large_object,
    };
    let account = tree::DmAccount {
        account: "dmsim".to_string(),
        server_id: file.server.server_id.clone(),
        name: file.server.server_id.clone(),
        addr: file.server.url.clone(),
        addr_type: "URI".to_string(),
        port: None,
        client: settings(d.auth.as_ref()).unwrap_or_default(),
        server: settings(d.server_auth.as_ref()).unwrap_or_default(),
        pref_auth: d
            .auth
            .as_ref()
            .map(|a| auth_type(a.kind).aauth_type().to_string()),
    };
    let limits = UriLimits::new(d.max_depth, d.max_tot_len, d.max_seg_len);
    let mut tree =
        tree::standard_tree(&identity, &[account], limits).with_capacity_bytes(d.tree_capacity);
    for node in &d.nodes {
        tree.insert(&node.uri, custom_node(node)?)
            .map_err(|e| format!("device.node {:?}: {e}", node.uri))?;
    }
    let user = User::new(d.ui.display, d.ui.max_text, d.ui.answers.clone());
    let faults = fault_plan(file).for_device(file.seed);
    let mut device = Device::new(tree, user, faults, file.seed);
    device.encoding = d.encoding;
    device.resources = d.resources.build()?;
    if let Some(config) = updates::fumo_config(d) {
        let agent = Fumo::new(config, Firmware::factory(d.firmware.as_str()));
        agent
            .mount(&mut device.tree, &file.server.server_id, device.clock)
            .map_err(|e| format!("device.fumo.root {:?}: {e}", agent.config.root))?;
        if let Some(request) = d.fumo.as_ref().and_then(|f| f.request) {
            device.reports.push(GenericAlert {
                correlator: None,
                source_uri: agent.config.root.clone(),
                target_uri: None,
                alert_type: match request {
                    RequestSpec::Device => DEVICE_REQUEST,
                    RequestSpec::User => USER_REQUEST,
                }
                .to_string(),
                format: "chr".to_string(),
                mark: None,
                data: d.firmware.clone(),
            });
        }
        device.fumo = Some(Box::new(agent));
    }
    for alert in generic_alerts(file) {
        device.reports.push(alert);
    }
    device.limits = SizeLimits {
        max_msg_size: d.max_msg_size,
        max_obj_size: d.max_obj_size,
        large_objects: d.large_object,
    };
    Ok(device)
}

fn custom_node(spec: &NodeSpec) -> Result<Node, String> {
    let format = Format::parse(&spec.format).ok_or_else(|| {
        format!(
            "device.node {:?}: unknown format {:?}",
            spec.uri, spec.format
        )
    })?;
    let mut node = if format == Format::Node {
        Node::interior()
    } else {
        Node::leaf(
            format,
            spec.value
                .as_deref()
                .unwrap_or("")
                .repeat(spec.repeat.unwrap_or(1)),
        )
    };
    // A node supports Exec only where the scenario says so: Exec on it is then a device operation
    // that completes at once (200). Any other node, like those a server adds, answers Exec 405.
    let access = match &spec.access {
        None => Access::DYNAMIC,
        Some(names) => names.iter().try_fold(Access::NONE, |acc, n| {
            access_flag(n).map(|f| acc | f).ok_or_else(|| {
                format!("device.node {:?}: unknown access {n:?} (Add, Copy, Delete, Exec, Get, Replace)", spec.uri)
            })
        })?,
    };
    node = node.access(access);
    if let Some(acl) = &spec.acl {
        node = node.acl(acl.as_str());
    }
    if let Some(mime) = &spec.mime {
        node = node.mime(mime.as_str());
    }
    Ok(node)
}

fn access_flag(name: &str) -> Option<Access> {
    Some(match name {
        "Add" => Access::ADD,
        "Copy" => Access::COPY,
        "Delete" => Access::DELETE,
        "Exec" => Access::EXEC,
        "Get" => Access::GET,
        "Replace" => Access::REPLACE,
        _ => return None,
    })
}

fn fault_plan(file: &ScenarioFile) -> FaultPlan {
    FaultPlan::new(
        file.faults
            .iter()
            .map(|f| FaultRule {
                point: f.at,
                effect: f.inject,
                trigger: match (f.nth, f.probability) {
                    (Some(n), _) => Trigger::Nth(n),
                    (None, Some(p)) => Trigger::Probability(p),
                    (None, None) => Trigger::Always,
                },
            })
            .collect(),
    )
}

/// The mock server a scenario describes, with what it hosts.
pub fn mock_server(file: &ScenarioFile) -> Result<MockServer, String> {
    let content = updates::content(file)?;
    let mut config = server_config(file);
    crate::server::attach_files(&mut config.packages, &|path: &str| {
        content.hosted_file(path).map(|f| f.body.as_slice())
    })
    .map_err(|e| format!("server.package: {e}"))?;
    Ok(MockServer::with_content(config, content))
}

/// The mock server's configuration a scenario describes.
pub fn server_config(file: &ScenarioFile) -> ServerConfig {
    let s = &file.server;
    let client_auth = s
        .auth
        .as_ref()
        .or(file.device.auth.as_ref())
        .map(|a| ClientAuthPolicy {
            kind: auth_type(a.kind),
            secret: Secret {
                name: a.name.clone(),
                secret: a.secret.clone(),
            },
            nonce: server_nonce(s.auth.as_ref(), file.device.auth.as_ref()),
        });
    let credentials = s
        .credentials
        .as_ref()
        .or(file.device.server_auth.as_ref())
        .map(|a| ServerCredentials {
            kind: auth_type(a.kind),
            secret: Secret {
                name: a.name.clone(),
                secret: a.secret.clone(),
            },
            nonce: server_nonce(s.credentials.as_ref(), file.device.server_auth.as_ref()),
            send: s.send_credentials,
        });
    ServerConfig {
        server_id: s.server_id.clone(),
        url: s.url.clone(),
        client_auth,
        credentials,
        packages: s.packages.clone(),
        seed: file.seed,
        keep_exchanges: false,
        max_msg_size: s.max_msg_size,
        max_obj_size: s.max_obj_size,
        refuse_generic_alerts: s.refuse_generic_alerts,
        quirks: s.quirks.clone(),
        keep_sessions: None,
    }
}

/// The nonce the server starts from for one direction of authentication: the one its own part
/// (`server.auth`, `server.credentials`) names, else the device's (`device.auth`,
/// `device.server_auth`), else none. A server nonce that differs from the device's is honoured as
/// written: it is how a scenario (or `dmsim serve --script`) gives the server a stale nonce.
fn server_nonce(server: Option<&AuthSpec>, device: Option<&AuthSpec>) -> Vec<u8> {
    server
        .filter(|a| a.nonce.is_some())
        .or(device)
        .map(AuthSpec::nonce_bytes)
        .unwrap_or_default()
}

/// Every expectation that did not hold, in words.
fn check(
    expect: &Expect,
    reports: &[SessionReport],
    device: &Device,
    records: &[SessionRecord],
    refused: &RefusedRequests,
) -> Vec<String> {
    let mut failures = Vec::new();
    let Some(report) = reports.last() else {
        return vec!["no session ran".to_string()];
    };
    if let Some(end) = expect.end {
        if report.end.kind() != end.as_str() {
            failures.push(format!(
                "session ended {}, expected {}",
                report.end,
                end.as_str()
            ));
        }
    }
    if let Some(want) = &expect.session_id {
        if report.session_id != *want {
            failures.push(format!(
                "session id was {:?}, expected {want:?}",
                report.session_id
            ));
        }
    }
    if let Some(want) = expect.reports_pending {
        let pending = device.reports.pending().len();
        if pending != want {
            failures.push(format!(
                "the device still owes {pending} reports, expected {want}"
            ));
        }
    }
    if let Some(want) = expect.sessions {
        if reports.len() != want {
            failures.push(format!("{} sessions ran, expected {want}", reports.len()));
        }
    }
    if let Some(want) = &expect.statuses {
        let received: Vec<&ReceivedStatus> = records.iter().flat_map(|r| &r.statuses).collect();
        let list = List::new(
            "the server received Statuses",
            expect.at_least(ListName::Status),
        );
        list.check(want, &received, status_matches, &mut failures);
    }
    if let Some(want) = &expect.alerts {
        let received: Vec<u16> = records
            .iter()
            .flat_map(|r| &r.alerts)
            .map(|a| a.code.code())
            .collect();
        let list = List::new(
            "the server received alerts",
            expect.at_least(ListName::Alerts),
        );
        list.check(want, &received, |w, a| w == a, &mut failures);
    }
    if let Some(want) = &expect.results {
        let received: Vec<&Item> = records.iter().flat_map(|r| &r.results).collect();
        let list = List::new(
            "the server received Results items",
            expect.at_least(ListName::Result),
        );
        list.check(want, &received, result_matches, &mut failures);
    }
    for (uri, want) in &expect.tree {
        match device.tree.value(uri) {
            Some(v) if v == want.as_bytes() => {}
            Some(v) => failures.push(format!(
                "tree {uri} is {:?}, expected {want:?}",
                String::from_utf8_lossy(v)
            )),
            None => failures.push(format!("tree {uri} does not exist, expected {want:?}")),
        }
    }
    for (uri, want) in &expect.tree_len {
        match device.tree.value(uri) {
            Some(v) if v.len() == *want => {}
            Some(v) => failures.push(format!(
                "tree {uri} holds {} bytes, expected {want}",
                v.len()
            )),
            None => failures.push(format!("tree {uri} does not exist, expected {want} bytes")),
        }
    }
    for uri in &expect.absent {
        if device.tree.node(uri).is_some() {
            failures.push(format!("tree {uri} exists, expected it absent"));
        }
    }
    if let Some(want) = &expect.execs {
        let execs: Vec<&str> = device
            .records
            .execs
            .iter()
            .map(|e| e.uri.as_str())
            .collect();
        if execs != *want {
            failures.push(format!("device executed {execs:?}, expected {want:?}"));
        }
    }
    // The simulated device must never break the protocol itself: what the server saw is checked
    // in every scenario, in its sessions and in the messages it refused before knowing a session.
    let session_rules = records
        .iter()
        .flat_map(|r| r.violations.iter().map(ToString::to_string));
    for rule in session_rules.chain(refused.lines()) {
        failures.push(format!("the device broke a protocol rule: {rule}"));
    }
    if expect.no_violations {
        for v in reports.iter().flat_map(|r| &r.violations) {
            failures.push(format!("the server broke a protocol rule: {v}"));
        }
    }
    if let Some(want) = &expect.server_violations {
        let mut seen: Vec<ServerRule> = Vec::new();
        for v in reports.iter().flat_map(|r| &r.violations) {
            if !seen.contains(&v.rule) {
                seen.push(v.rule);
            }
        }
        let list = List::new(
            "the device saw the server break",
            expect.at_least(ListName::ServerViolations),
        );
        list.check(want, &seen, |w, a| w == a, &mut failures);
    }
    failures
}

/// How an expected list is compared with what happened: exactly (the default), or "at least these,
/// in this order" when the scenario names the list in `expect.at_least`.
struct List {
    /// What happened, in words ("the server received FUMO results").
    what: &'static str,
    at_least: bool,
}

/// How many items of a list a failure message shows.
const SHOWN: usize = 40;

impl List {
    fn new(what: &'static str, at_least: bool) -> List {
        List { what, at_least }
    }

    /// Check `expected` against `actual`, pushing a failure that shows both.
    fn check<E: Brief, A: Brief>(
        &self,
        expected: &[E],
        actual: &[A],
        matches: impl Fn(&E, &A) -> bool,
        failures: &mut Vec<String>,
    ) {
        let holds = if self.at_least {
            let mut rest = actual.iter();
            expected.iter().all(|e| rest.any(|a| matches(e, a)))
        } else {
            expected.len() == actual.len()
                && expected.iter().zip(actual).all(|(e, a)| matches(e, a))
        };
        if !holds {
            let how = if self.at_least {
                "at least, in this order,"
            } else {
                "exactly"
            };
            failures.push(format!(
                "{} {}, expected {how} {}",
                self.what,
                shown(actual),
                shown(expected)
            ));
        }
    }
}

/// A list for a failure message, cut after [`SHOWN`] items.
fn shown<T: Brief>(list: &[T]) -> String {
    let items: Vec<String> = list.iter().take(SHOWN).map(Brief::brief).collect();
    let more = list.len().saturating_sub(SHOWN);
    if more > 0 {
        format!("[{}, … and {more} more]", items.join(", "))
    } else {
        format!("[{}]", items.join(", "))
    }
}

/// An item of an expected or an actual list, in a few words.
trait Brief {
    fn brief(&self) -> String;
}

impl Brief for ServerRule {
    fn brief(&self) -> String {
        self.id().to_string()
    }
}

impl Brief for u16 {
    fn brief(&self) -> String {
        self.to_string()
    }
}

impl Brief for StatusExpect {
    fn brief(&self) -> String {
        let mut out = self.cmd.clone();
        if let Some(t) = &self.target {
            out.push(' ');
            out.push_str(t);
        }
        out.push_str(&format!(" {}", self.code));
        if let Some(d) = &self.data {
            out.push_str(&format!(" {d:?}"));
        }
        out
    }
}

impl Brief for &ReceivedStatus {
    fn brief(&self) -> String {
        match &self.target_ref {
            Some(t) => format!("{} {t} {}", self.cmd, self.code.code()),
            None => format!("{} {}", self.cmd, self.code.code()),
        }
    }
}

impl Brief for ResultExpect {
    fn brief(&self) -> String {
        match &self.data {
            Some(d) => format!("{} {d:?}", self.source),
            None => self.source.clone(),
        }
    }
}

impl Brief for &Item {
    fn brief(&self) -> String {
        let source = self.source_uri().unwrap_or("(no source)");
        match self.data_text() {
            Some(d) if d.len() <= 40 => format!("{source} {d:?}"),
            _ => {
                let len = self.data.as_ref().map_or(0, |d| d.as_bytes().len());
                format!("{source} ({len} bytes)")
            }
        }
    }
}

fn status_matches(want: &StatusExpect, s: &&ReceivedStatus) -> bool {
    s.cmd.as_str() == want.cmd
        && s.code.code() == want.code
        && want
            .target
            .as_deref()
            .is_none_or(|t| s.target_ref.as_deref() == Some(t))
        && want
            .data
            .as_deref()
            .is_none_or(|d| s.items.first().and_then(|i| i.data_text()).as_deref() == Some(d))
}

fn result_matches(want: &ResultExpect, item: &&Item) -> bool {
    item.source_uri() == Some(want.source.as_str())
        && want
            .data
            .as_deref()
            .is_none_or(|d| item.data_text().as_deref() == Some(d))
        && want
            .len
            .is_none_or(|n| item.data.as_ref().map_or(0, |d| d.as_bytes().len()) == n)
        && want.format.as_deref().is_none_or(|f| {
            item.meta
                .as_ref()
                .and_then(|m| m.format.as_deref())
                .unwrap_or("chr")
                == f
        })
}

/// The FUMO, download and firmware expectations.
fn check_updates(
    expect: &Expect,
    device: &Device,
    records: &[SessionRecord],
    notifications: &[InstallNotification],
    failures: &mut Vec<String>,
) {
    // What the server received needs no FUMO agent on the device.
    if let Some(want) = &expect.fumo_result {
        let results = crate::server::fumo_results(records);
        List::new(
            "the server received FUMO results",
            expect.at_least(ListName::FumoResult),
        )
        .check(want, &results, |w, a| w == a, failures);
    }
    if let Some(want) = &expect.install_notify {
        let notified: Vec<u16> = notifications.iter().map(|n| n.code).collect();
        List::new(
            "the server's installNotifyURI received",
            expect.at_least(ListName::InstallNotify),
        )
        .check(want, &notified, |w, a| w == a, failures);
    }
    let wants_fumo = expect.fumo_state.is_some()
        || expect.fumo_states.is_some()
        || expect.dl_status.is_some()
        || expect.boots.is_some()
        || expect.firmware.is_some()
        || !expect.slots.is_empty();
    let Some(agent) = device.fumo.as_deref() else {
        if wants_fumo {
            failures
                .push("the scenario expects FUMO results of a device without [device.fumo]".into());
        }
        return;
    };
    let states: Vec<u16> = agent.records.states.iter().map(|s| s.value()).collect();
    if let Some(want) = expect.fumo_state {
        let now = agent.durable.state.value();
        if now != want {
            failures.push(format!(
                "FUMO State is {now}, expected {want} (went through {states:?})"
            ));
        }
    }
    if let Some(want) = &expect.fumo_states {
        List::new(
            "FUMO State went through",
            expect.at_least(ListName::FumoStates),
        )
        .check(want, &states, |w, a| w == a, failures);
    }
    if let Some(want) = &expect.dl_status {
        let dl: Vec<u16> = agent.records.dl_statuses.iter().map(|s| s.code()).collect();
        List::new(
            "the device's downloads ended with DL statuses",
            expect.at_least(ListName::DlStatus),
        )
        .check(want, &dl, |w, a| w == a, failures);
    }
    if let Some(want) = expect.boots {
        if agent.records.boots != want {
            failures.push(format!(
                "the device booted again {} times, expected {want}",
                agent.records.boots
            ));
        }
    }
    let firmware = &agent.durable.firmware;
    if let Some(want) = &expect.firmware {
        let shown = device
            .tree
            .value_str(fumo::agent::FW_VERSION_NODE)
            .unwrap_or("");
        if firmware.version() != want || shown != want {
            failures.push(format!(
                "the device runs firmware {:?} and shows {shown:?}, expected {want:?}",
                firmware.version()
            ));
        }
    }
    for (name, want) in &expect.slots {
        let id = match name.as_str() {
            "a" | "A" => SlotId::A,
            "b" | "B" => SlotId::B,
            other => {
                failures.push(format!("expect.slots: no slot {other:?} (a, b)"));
                continue;
            }
        };
        let slot = firmware.slot(id);
        let shown = match slot.state {
            SlotState::Empty => "empty".to_string(),
            SlotState::Good => format!("good {}", slot.version),
            SlotState::Pending => format!("pending {}", slot.version),
        };
        if shown != *want {
            failures.push(format!("slot {name} holds {shown:?}, expected {want:?}"));
        }
    }
}

/// The transcript message by message, each headed by its Content-Type and shown as received
/// ([`crate::syncml::render_as_received`]): XML as its own text, WBXML as XML token by token, in
/// wire order and never through the message model, so that what reads out of order came out of
/// order.
pub fn render_transcript(transcript: &[Exchange]) -> String {
    render_with(transcript, &[])
}

/// A session's transcript as [`render_transcript`] shows it, each rule the server broke right after
/// the message it concerns.
pub fn render_report(report: &SessionReport) -> String {
    render_with(&report.transcript, &report.violations)
}

fn render_with(transcript: &[Exchange], violations: &[Violation]) -> String {
    let mut out = String::new();
    for (n, exchange) in transcript.iter().enumerate() {
        out.push_str(&render_exchange(n + 1, exchange));
        let message = u32::try_from(n + 1).unwrap_or(u32::MAX);
        for v in violations.iter().filter(|v| v.message == message) {
            out.push_str(&format!("--- server violation: {v}\n"));
        }
    }
    let shown = u32::try_from(transcript.len()).unwrap_or(u32::MAX);
    for v in violations.iter().filter(|v| v.message > shown) {
        out.push_str(&format!("--- server violation: {v}\n"));
    }
    out
}

/// The `n`-th exchange of a session: the device's message, then the server's answer (or why
/// there is none), each as received.
pub fn render_exchange(n: usize, exchange: &Exchange) -> String {
    let mut out = format!(
        "--- message {n} device -> server ({}, {})\n",
        exchange.request.url, exchange.request.content_type
    );
    out.push_str(&render_as_received(&exchange.request.body));
    out.push('\n');
    match &exchange.response {
        Ok(r) => {
            out.push_str(&format!(
                "--- message {n} server -> device (HTTP {}, {})\n",
                r.status, r.content_type
            ));
            out.push_str(&render_as_received(&r.body));
            out.push('\n');
        }
        Err(e) => out.push_str(&format!("--- message {n} failed: {e}\n")),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::http::{HttpRequest, HttpResponse};
    use crate::scenario::load::parse;
    use crate::server::MAX_REFUSED_KEPT;
    use crate::syncml::{
        CmdName, Command, Deviations, Location, Status, StatusCode, SyncBody, SyncHdr, SyncMl,
    };

    /// A WBXML exchange whose answer has its Status's Data before its Cmd on the wire.
    fn wbxml_exchange() -> (Exchange, Violation) {
        let msg = SyncMl {
            hdr: SyncHdr {
                ver_dtd: "1.2".into(),
                ver_proto: "DM/1.2".into(),
                session_id: "1".into(),
                msg_id: "1".into(),
                target: Location::uri("IMEI:1"),
                source: Location::uri("https://dm/dm"),
                resp_uri: None,
                no_resp: false,
                cred: None,
                meta: None,
            },
            body: SyncBody {
                commands: vec![Command::Status(Status {
                    cmd_id: "1".into(),
                    msg_ref: "1".into(),
                    cmd_ref: "0".into(),
                    cmd: CmdName::SyncHdr,
                    target_refs: Vec::new(),
                    source_refs: Vec::new(),
                    cred: None,
                    chal: None,
                    code: StatusCode::Ok,
                    items: Vec::new(),
                })],
                final_flag: true,
            },
        };
        let out_of_order = Deviations {
            status_data_before_cmd: true,
            ..Deviations::default()
        };
        let exchange = Exchange {
            request: HttpRequest {
                url: "https://dm/dm".into(),
                content_type: Encoding::Wbxml.content_type().into(),
                hmac: None,
                body: Encoding::Wbxml.encode(&msg),
            },
            response: Ok(HttpResponse {
                status: 200,
                content_type: Encoding::Wbxml.content_type().into(),
                hmac: None,
                body: Encoding::Wbxml.encode_with(&msg, out_of_order),
            }),
        };
        let violation = Violation {
            message: 1,
            msg_id: "1".into(),
            rule: ServerRule::ElementOrder,
            detail: "at SyncML/SyncBody/Status/Cmd: Cmd comes after Data in Status".into(),
            excerpt: "<Cmd>SyncHdr</Cmd>".into(),
        };
        (exchange, violation)
    }

    #[test]
    fn the_transcript_shows_wbxml_in_wire_order_and_each_violation_after_its_message() {
        let (exchange, violation) = wbxml_exchange();
        let report = SessionReport {
            session_id: "1".into(),
            end: SessionEnd::Completed,
            transcript: vec![exchange.clone(), exchange],
            violations: vec![violation],
            acknowledged: Vec::new(),
        };
        let shown = render_report(&report);
        let answer = shown
            .find("--- message 1 server -> device (HTTP 200, application/vnd.syncml.dm+wbxml)\n")
            .expect("the answer");
        let status = &shown[answer..];
        let at = |needle: &str| {
            status
                .find(needle)
                .unwrap_or_else(|| panic!("{needle} not in\n{shown}"))
        };
        // As on the wire: CmdRef, Data, Cmd (the model would give CmdRef, Cmd, Data).
        assert!(at("<CmdRef>0</CmdRef>") < at("<Data>200</Data>"), "{shown}");
        assert!(at("<Data>200</Data>") < at("<Cmd>SyncHdr</Cmd>"), "{shown}");
        // The violation right after the message it concerns, before the next exchange.
        let line = "--- server violation: element-order (server MsgID 1): at SyncML/SyncBody/Status/Cmd: Cmd comes after Data in Status [<Cmd>SyncHdr</Cmd>]\n";
        assert!(at("</SyncML>\n") < at(line), "{shown}");
        assert!(at(line) < at("--- message 2 device -> server"), "{shown}");
        assert_eq!(shown.matches("--- server violation").count(), 1);
        // The device's own message reads as it went too.
        assert!(shown.starts_with("--- message 1 device -> server (https://dm/dm, application/vnd.syncml.dm+wbxml)\n<!-- WBXML 1.2, public id 0x1201 (SyncML 1.2)"), "{shown}");
        assert_eq!(
            render_transcript(&report.transcript),
            shown.replace(line, "")
        );
    }

    #[test]
    fn refused_requests_fail_the_scenario_like_session_violations() {
        let file = parse(std::path::Path::new("t.toml"), "name = \"t\"\n")
            .expect("valid")
            .file;
        let device = build_device(&file).expect("device");
        let reports = [SessionReport::not_started(SessionEnd::Completed)];
        let records = [SessionRecord {
            violations: vec![crate::server::DeviceViolation {
                rule: crate::server::Rule::MsgId,
                msg_id: "3".into(),
                cmd_id: None,
                detail: "device MsgID 3 does not follow 1".into(),
            }],
            ..SessionRecord::default()
        }];
        let mut refused = RefusedRequests::default();
        assert!(check(&file.expect, &reports, &device, &records, &refused).len() == 1);
        refused.violations = vec!["a message to /dm was refused with HTTP 415: …".into()];
        let failures = check(&file.expect, &reports, &device, &records, &refused);
        assert_eq!(
            failures,
            [
                "the device broke a protocol rule: MsgID sequence (reference §1.3): device message 3: device MsgID 3 does not follow 1",
                "the device broke a protocol rule: a message to /dm was refused with HTTP 415: …",
            ]
        );
        refused.dropped = 2;
        let failures = check(&file.expect, &reports, &device, &[], &refused);
        assert_eq!(failures.len(), 2);
        assert!(
            failures[1].contains(&format!(
                "2 more refused requests (only the first {MAX_REFUSED_KEPT}"
            )),
            "{failures:?}"
        );
    }

    /// `server.auth.nonce` and `server.credentials.nonce` are what the server starts from (not
    /// read before issue 10: the device's were used whatever the server part said); without them
    /// the server starts from the device's own nonces.
    #[test]
    fn the_server_part_nonces_are_honoured() {
        let file = |server: &str| {
            let text = format!(
                "name = \"t\"\n\
                 [device.auth]\ntype = \"md5\"\nname = \"d\"\nsecret = \"s\"\nnonce = \"device-client\"\n\
                 [device.server_auth]\ntype = \"md5\"\nname = \"srv\"\nsecret = \"p\"\nnonce = \"device-server\"\n\
                 {server}"
            );
            parse(std::path::Path::new("t.toml"), &text)
                .expect("valid")
                .file
        };
        let nonces = |config: ServerConfig| {
            (
                config.client_auth.map(|a| a.nonce),
                config.credentials.map(|c| c.nonce),
            )
        };
        let given = file(
            "[server.auth]\ntype = \"md5\"\nname = \"d\"\nsecret = \"s\"\nnonce = \"stale-client\"\n\
             [server.credentials]\ntype = \"md5\"\nname = \"srv\"\nsecret = \"p\"\nnonce = \"stale-server\"\n",
        );
        assert_eq!(
            nonces(server_config(&given)),
            (
                Some(b"stale-client".to_vec()),
                Some(b"stale-server".to_vec())
            )
        );
        // An empty nonce is a nonce too.
        let empty = file(
            "[server.credentials]\ntype = \"md5\"\nname = \"srv\"\nsecret = \"p\"\nnonce = \"\"\n",
        );
        assert_eq!(nonces(server_config(&empty)).1, Some(Vec::new()));
        // Not given: the device's.
        let unsaid = file(
            "[server.auth]\ntype = \"md5\"\nname = \"d\"\nsecret = \"s\"\n\
             [server.credentials]\ntype = \"md5\"\nname = \"srv\"\nsecret = \"p\"\n",
        );
        assert_eq!(
            nonces(server_config(&unsaid)),
            (
                Some(b"device-client".to_vec()),
                Some(b"device-server".to_vec())
            )
        );
        assert_eq!(
            nonces(server_config(&file(""))),
            nonces(server_config(&unsaid))
        );
    }
}
