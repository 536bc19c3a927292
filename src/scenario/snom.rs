//! A `snom-m3` scenario (`[device] family = "snom-m3"`): a Snom m3 base station ([`crate::snom`])
//! updating its firmware over HTTP from the mock server's content hosting, with no DM session.
//! The same pieces as a DM device's scenario run it: the fault plan (`[[fault]]`: power loss at
//! a save or a flash write), the server's hosted files and their faults (`[[server.content_fault]]`),
//! the state store, and the transport (in process, or the content over loopback HTTP(S)).
//!
//! ```toml
//! [device]
//! family = "snom-m3"
//!
//! [device.snom]
//! version = "0790"            # the version selected for the update
//! gateway = "0780"            # what the base runs (factory)
//! handsets = { hs1 = "0780" }
//! host = "fw.snom.example"    # reach the server by this name (looked up through [server.dns])
//! user = "m3"                 # HTTP Basic credentials, when the base has some
//! password = "secret"
//!
//! [[server.snom_release]]     # DirList.txt and the .fwu files of a release, under folder
//! version = "0790"
//!
//! [server.file_auth]          # the files need these credentials (401 otherwise)
//! user = "m3"
//! password = "secret"
//!
//! [expect]
//! snom_m3 = [0]               # the codes the display showed, in order, exactly
//! gateway = "0790"
//! handsets = { hs1 = "0790" }
//! ```
//!
//! The base's server setting is the mock server's origin, or none with `server = ""` (Code 6).
//! With `host`, the base reaches the server by that name, which it looks up through the DNS
//! responder of `[server.dns]` (real DNS messages, [`crate::protocol::dns`]): it knows the
//! server by the name the base uses, or by `server_name` when the scenario says (a base whose
//! setting has a typo then gets NXDOMAIN), and `names` adds others; `fault = "nxdomain" |
//! "servfail" | "silent"` fails every query. The base then connects to the address it looked
//! up.

use super::error::{BuildError, RunError};
use super::model::ScenarioFile;
use super::run::FiredRule;
use crate::download::ContentClient;
use crate::faults::FaultPlan;
use crate::inproc::{InProcessContent, InProcessDns};
use crate::net::{LookedUp, Remembering};
use crate::package::snom::{build_release, Defect, ReleaseSpec};
use crate::server::dns::{DnsFault, DnsResponder};
use crate::server::{ContentAuth, HostedFile, MockServer};
use crate::snom::{
    run_update, Base, BaseState, DnsExchange, DnsResolver, Ended, Request, SnomConfig, Stage,
};
use crate::storage::StateStore;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

/// `[device.snom]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnomSpec {
    /// The version selected for the update.
    pub version: String,
    /// The server setting: the mock server's origin (`$SERVER`) unless given; `""` for none.
    #[serde(default)]
    pub server: Option<String>,
    /// Reach the server by this name, looked up through `[server.dns]`.
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default = "folder")]
    pub folder: String,
    #[serde(default = "language")]
    pub language: String,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    /// The gateway's factory version.
    #[serde(default = "factory")]
    pub gateway: String,
    /// The handsets and their factory versions.
    #[serde(default = "handsets")]
    pub handsets: BTreeMap<String, String>,
    /// The flash the gateway image may take.
    #[serde(default, deserialize_with = "size_opt")]
    pub gateway_flash: Option<u64>,
    #[serde(default, deserialize_with = "size_opt")]
    pub handset_flash: Option<u64>,
    /// `full` (the gateway, then the handsets) or `handsets-only`.
    #[serde(default)]
    pub request: RequestSpec,
    /// Stages at which someone asks for another update while this one runs (each shows Code 8):
    /// `resolving`, `dirlist`, `gateway-file`, `gateway-flash`, `reboot`, `handset-file`,
    /// `handset-flash`.
    #[serde(default)]
    pub start_again_at: Vec<StageSpec>,
}

fn folder() -> String {
    "Updates/".into()
}
fn language() -> String {
    "fr01".into()
}
fn factory() -> String {
    "0780".into()
}
fn handsets() -> BTreeMap<String, String> {
    [("hs1".to_string(), "0780".to_string())].into()
}

fn size_opt<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    super::updates::size(d).map(Some)
}

/// What the update is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RequestSpec {
    #[default]
    Full,
    HandsetsOnly,
}

/// A stage of the update, as a scenario names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StageSpec {
    Resolving,
    Dirlist,
    GatewayFile,
    GatewayFlash,
    Reboot,
    HandsetFile,
    HandsetFlash,
}

impl StageSpec {
    fn stage(self) -> Stage {
        match self {
            StageSpec::Resolving => Stage::Resolving,
            StageSpec::Dirlist => Stage::DirList,
            StageSpec::GatewayFile => Stage::GatewayFile,
            StageSpec::GatewayFlash => Stage::GatewayFlash,
            StageSpec::Reboot => Stage::Reboot,
            StageSpec::HandsetFile => Stage::HandsetFile,
            StageSpec::HandsetFlash => Stage::HandsetFlash,
        }
    }
}

/// `[[server.snom_release]]`: a release's DirList and `.fwu` files, built by
/// [`crate::package::snom::build_release`] and hosted under `folder`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnomReleaseSpec {
    pub version: String,
    #[serde(default)]
    pub also: Vec<String>,
    #[serde(default = "language")]
    pub language: String,
    #[serde(default = "release_folder")]
    pub folder: String,
    #[serde(default, deserialize_with = "size_opt")]
    pub gateway_size: Option<u64>,
    #[serde(default, deserialize_with = "size_opt")]
    pub handset_size: Option<u64>,
    #[serde(default)]
    pub requires_both: bool,
    /// A file broken on purpose (`dmsim package --family snom-m3 --defect`'s names).
    #[serde(default)]
    pub defect: Option<String>,
}

fn release_folder() -> String {
    "/Updates/".into()
}

/// `[server.file_auth]`: the hosted files under `path` need these credentials.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileAuthSpec {
    pub user: String,
    pub password: String,
    #[serde(default = "root")]
    pub path: String,
}

fn root() -> String {
    "/".into()
}

/// `[server.dns]`: the DNS responder the base's lookups reach.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnsSpec {
    /// The name the DNS server knows the mock server by (default: the name the base uses, its
    /// `host` or its server setting's); a base configured with another name gets NXDOMAIN.
    #[serde(default)]
    pub server_name: Option<String>,
    /// More names and their addresses.
    #[serde(default)]
    pub names: BTreeMap<String, IpAddr>,
    /// Fail every query.
    #[serde(default)]
    pub fault: Option<DnsFaultSpec>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DnsFaultSpec {
    Nxdomain,
    Servfail,
    Silent,
}

impl DnsFaultSpec {
    fn fault(self) -> DnsFault {
        match self {
            DnsFaultSpec::Nxdomain => DnsFault::NxDomain,
            DnsFaultSpec::Servfail => DnsFault::ServFail,
            DnsFaultSpec::Silent => DnsFault::Silent,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            DnsFaultSpec::Nxdomain => "nxdomain",
            DnsFaultSpec::Servfail => "servfail",
            DnsFaultSpec::Silent => "silent",
        }
    }
}

/// What a snom-m3 scenario left behind.
pub(super) struct SnomOutcome {
    pub base: Base,
    pub ended: Ended,
    /// How often each `[[server.content_fault]]` changed an answer.
    pub content_faults_fired: Vec<u32>,
    /// How many queries the DNS responder answered (with `[server.dns] fault`: failed).
    pub dns_queries: u32,
}

/// The hosted files of `[[server.snom_release]]`, and the credentials of `[server.file_auth]`.
pub(super) fn host(
    file: &ScenarioFile,
    content: &mut crate::server::ContentConfig,
) -> Result<(), BuildError> {
    for (i, r) in file.server.snom_releases.iter().enumerate() {
        let bad = |reason: String| BuildError::SnomRelease { index: i, reason };
        let mut spec = ReleaseSpec::new(&r.version);
        spec.also = r.also.clone();
        spec.language = r.language.clone();
        spec.requires_both = r.requires_both;
        spec.seed = file.seed;
        if let Some(size) = r.gateway_size {
            spec.gateway_size =
                u32::try_from(size).map_err(|_| bad("gateway_size over 4 GiB".into()))?;
        }
        if let Some(size) = r.handset_size {
            spec.handset_size =
                u32::try_from(size).map_err(|_| bad("handset_size over 4 GiB".into()))?;
        }
        spec.defect = r
            .defect
            .as_deref()
            .map(str::parse::<Defect>)
            .transpose()
            .map_err(bad)?;
        let release = build_release(&spec).map_err(|e| bad(e.to_string()))?;
        let folder = format!("/{}/", r.folder.trim_matches('/'));
        for (name, bytes) in release.files {
            let ty = if name.ends_with(".txt") {
                "text/plain"
            } else {
                "application/octet-stream"
            };
            content
                .files
                .push(HostedFile::new(format!("{folder}{name}"), ty, bytes));
        }
    }
    if let Some(auth) = &file.server.file_auth {
        content.auth = Some(ContentAuth::basic(&auth.path, &auth.user, &auth.password));
    }
    Ok(())
}

/// The DNS exchange of a scenario: the responder, counting the queries it answers.
struct CountingDns {
    inner: InProcessDns,
    queries: Arc<AtomicU32>,
}

impl DnsExchange for CountingDns {
    async fn exchange(&self, query: Vec<u8>) -> Option<Vec<u8>> {
        self.queries.fetch_add(1, Ordering::Relaxed);
        self.inner.exchange(query).await
    }
}

/// Run the scenario's base against `server`, fetching through `content`; `address` is the
/// server's address (what its name resolves to); what the base looks up is kept in `found`,
/// which a network content client connects by.
pub(super) async fn run_against<C: ContentClient>(
    file: &ScenarioFile,
    server: &MockServer,
    content: &C,
    address: IpAddr,
    store: Arc<dyn StateStore>,
    found: LookedUp,
) -> Result<SnomOutcome, RunError> {
    let spec = file.device.snom.as_ref().ok_or(RunError::SnomSpecMissing)?;
    let origin = origin(&file.server.url);
    let server_setting = match &spec.server {
        Some(s) => s.replace("$SERVER", &origin),
        None => format!("{origin}/"),
    };
    let (server_setting, name) = match &spec.host {
        Some(host) => (with_host(&server_setting, host), Some(host.clone())),
        None => {
            let name = reqwest::Url::parse(&server_setting)
                .ok()
                .and_then(|u| u.host_str().map(String::from));
            (server_setting, name)
        }
    };
    let dns = file.server.dns.clone().unwrap_or_default();
    let mut responder = DnsResponder::new();
    // The server's own name, as its DNS server knows it.
    if let Some(name) = dns.server_name.clone().or(name) {
        if name.parse::<IpAddr>().is_err() {
            responder = responder.with_name(&name, vec![address]);
        }
    }
    for (name, ip) in &dns.names {
        responder = responder.with_name(name, vec![*ip]);
    }
    responder = responder.with_fault(dns.fault.map(DnsFaultSpec::fault));
    let exchange = InProcessDns::new(Arc::new(responder));
    let dns_queries = Arc::new(AtomicU32::new(0));
    let exchange = CountingDns {
        inner: exchange,
        queries: Arc::clone(&dns_queries),
    };
    let resolver = Remembering::new(DnsResolver::new(exchange), found);
    let mut config = SnomConfig::new(spec.version.as_str());
    config.server = Some(server_setting).filter(|s| !s.trim().is_empty());
    config.folder = spec.folder.clone();
    config.language = spec.language.clone();
    if let (Some(user), Some(password)) = (&spec.user, &spec.password) {
        config = config.with_credentials(user, password);
    }
    if let Some(size) = spec.gateway_flash {
        config.gateway_flash = u32::try_from(size).unwrap_or(u32::MAX);
    }
    if let Some(size) = spec.handset_flash {
        config.handset_flash = u32::try_from(size).unwrap_or(u32::MAX);
    }
    let handsets: Vec<(&str, &str)> = spec
        .handsets
        .iter()
        .map(|(id, v)| (id.as_str(), v.as_str()))
        .collect();
    let factory = BaseState::factory(&spec.gateway, &handsets);
    let profile = crate::profile::builtin(&file.device.profile)
        .ok_or_else(|| RunError::SnomProfile(file.device.profile.clone()))?;
    let faults = fault_plan(file).for_device(file.seed);
    let mut base = Base::new(&file.device.dev_id, config, profile, factory, store, faults)
        .map_err(|e| RunError::SnomBase(e.to_string()))?;
    let request = match spec.request {
        RequestSpec::Full => Request::Full,
        RequestSpec::HandsetsOnly => Request::HandsetsOnly,
    };
    let again: Vec<Stage> = spec.start_again_at.iter().map(|s| s.stage()).collect();
    let ended = run_update(&mut base, request, content, &resolver, &again).await;
    Ok(SnomOutcome {
        base,
        ended,
        content_faults_fired: server.content_faults_fired(),
        dns_queries: dns_queries.load(Ordering::Relaxed),
    })
}

/// The device's fault plan (the same rules as a DM device's).
fn fault_plan(file: &ScenarioFile) -> FaultPlan {
    super::device::fault_plan(file)
}

/// `scheme://host[:port]` of a URL.
fn origin(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => u.origin().ascii_serialization(),
        Err(_) => url.trim_end_matches('/').to_string(),
    }
}

/// `url` with its host replaced by `host` (port and path kept).
fn with_host(url: &str, host: &str) -> String {
    let Ok(mut u) = reqwest::Url::parse(url) else {
        return url.to_string();
    };
    match u.set_host(Some(host)) {
        Ok(()) => u.to_string(),
        Err(_) => url.to_string(),
    }
}

/// Run the scenario's base in process: the content from the mock server directly.
pub(super) async fn run_in_process(
    file: &ScenarioFile,
    store: Arc<dyn StateStore>,
) -> Result<SnomOutcome, RunError> {
    let server = Arc::new(super::server::mock_server(file)?);
    let content = InProcessContent::new(Arc::clone(&server));
    // TEST-NET-1 (RFC 5737): an address for the in-process server's name.
    let address = IpAddr::from([192, 0, 2, 10]);
    run_against(file, &server, &content, address, store, LookedUp::new()).await
}

/// The fault rules of a snom-m3 scenario with how often each fired: the device's `[[fault]]`s,
/// the server's `[[server.content_fault]]`s, and `[server.dns] fault`.
pub(super) fn fired_rules(file: &ScenarioFile, outcome: &SnomOutcome) -> Vec<FiredRule> {
    let mut rules: Vec<FiredRule> = file
        .faults
        .iter()
        .zip(outcome.base.faults().fired())
        .map(|(rule, &fired)| FiredRule {
            rule: format!("[[fault]] {rule}"),
            fired,
            optional: rule.optional,
        })
        .collect();
    rules.extend(
        file.server
            .content_faults
            .iter()
            .zip(&outcome.content_faults_fired)
            .map(|(rule, &fired)| FiredRule {
                rule: format!("[[server.content_fault]] {rule}"),
                fired,
                optional: rule.optional,
            }),
    );
    if let Some(fault) = file.server.dns.as_ref().and_then(|d| d.fault) {
        rules.push(FiredRule {
            rule: format!("[server.dns] fault = \"{}\"", fault.as_str()),
            fired: outcome.dns_queries,
            optional: false,
        });
    }
    rules
}

/// What a snom-m3 scenario expected that did not happen, in words.
pub(super) fn check(expect: &super::model::Expect, outcome: &SnomOutcome) -> Vec<String> {
    let mut failures = Vec::new();
    let base = &outcome.base;
    if let Some(want) = &expect.snom_m3 {
        let shown = base.display().codes();
        if &shown != want {
            failures.push(format!(
                "the display showed codes {shown:?}, expected exactly {want:?}"
            ));
        }
    }
    if let Some(want) = &expect.gateway {
        if base.gateway_version() != want {
            failures.push(format!(
                "the gateway runs {:?}, expected {want:?}",
                base.gateway_version()
            ));
        }
    }
    if let Some(want) = &expect.handsets {
        let have: BTreeMap<String, String> = base.handset_versions().into_iter().collect();
        if &have != want {
            failures.push(format!("the handsets run {have:?}, expected {want:?}"));
        }
    }
    failures
}

/// How the update ended, in words.
pub(super) fn describe(outcome: &SnomOutcome) -> String {
    match &outcome.ended {
        Ended::Finished(o) => format!("update ended: {o}"),
        Ended::PowerLost { stage } => format!("power lost during {stage:?}; the base rebooted"),
    }
}

/// The base's display, line by line, for the transcript.
pub(super) fn transcript(outcome: &SnomOutcome) -> String {
    let mut text = String::from("=== Snom m3 base\n");
    for (code, key) in outcome.base.display().entries() {
        text.push_str(&format!("Code {code} ({key})\n"));
    }
    text.push_str(&format!(
        "gateway {}, handsets {:?}\n",
        outcome.base.gateway_version(),
        outcome.base.handset_versions()
    ));
    text
}
