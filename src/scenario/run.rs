//! Running one scenario to its verdict: its sessions (the `sessions` module) over the transport it
//! names, then its expectations (`expect`) against what happened, and the result with what was
//! observed, the fault rules that fired and the transcripts.

use super::expect;
use super::load::LoadedScenario;
use super::model::{ScenarioFile, TransportKind};
use super::network::{self, NetworkEnv};
use super::observe::{Observation, Observations, WireSummary};
use super::portal_calls::{self, render_calls};
use super::sessions::{self, Outcome};
use super::snom;
use super::state::state_store;
use super::transcript::render_report;
use crate::device::Device;
use crate::server::DeviceViolation;
use crate::session::Exchange;
use crate::syncml::Encoding;
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

/// A fault rule of a scenario (`[[fault]]`, `[[server.content_fault]]` or
/// `[[server.session_fault]]`) and how often it fired.
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
    if file.device.family == Some(super::family::Family::SnomM3) {
        run_snom(scenario, file, env, &mut result).await;
        result.duration_ms = started.elapsed().as_millis() as u64;
        return result;
    }
    let outcome = match state_store(env, &scenario.path) {
        Err(e) => Err(e),
        Ok(store) => match result.transport {
            TransportKind::InProcess => sessions::run_in_process(file, store.as_ref()).await,
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
        session_faults_fired,
        api_calls,
        portal_faults_fired,
    } = match outcome {
        Ok(o) => o,
        Err(e) => {
            result.verdict = Verdict::Error;
            result.failures.push(e.to_string());
            return result;
        }
    };
    result.failures = expect::check(&file.expect, &reports, &device, &records, &refused);
    result.violations = records
        .iter()
        .flat_map(|r| r.violations.iter().cloned())
        .collect();
    expect::check_updates(
        &file.expect,
        &device,
        &records,
        &notifications,
        &mut result.failures,
    );
    expect::check_scomo(&file.expect, &device, &records, &mut result.failures);
    if let Some(portal) = &file.portal {
        let failures = portal_calls::check(portal, &api_calls, reports.len());
        result.failures.extend(failures);
    }
    result.faults = fired_rules(
        file,
        &device,
        &content_faults_fired,
        &session_faults_fired,
        &portal_faults_fired,
    );
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
    observed.portal_answers(api_calls.iter().map(|c| &c.body));
    result.observed = observed.into_vec();
    result.wire = WireSummary::of(transcript.iter().copied());
    result.end = reports
        .last()
        .map(|r| r.end.to_string())
        .unwrap_or_default();
    result.transcript = reports
        .iter()
        .enumerate()
        .map(|(n, r)| {
            format!(
                "{}=== session {} ({})\n{}",
                render_calls(&api_calls, Some(n)),
                n + 1,
                r.end,
                render_report(r)
            )
        })
        .collect();
    result.transcript.push_str(&render_calls(&api_calls, None));
    result.exchanges = reports.into_iter().flat_map(|r| r.transcript).collect();
    result.duration_ms = started.elapsed().as_millis() as u64;
    result
}

/// Every fault rule of the scenario with how often it fired: the device's `[[fault]]` rules, then the
/// server's `[[server.content_fault]]` ones, then its `[[server.session_fault]]` ones, then the
/// portal's `[[portal.fault]]` ones.
fn fired_rules(
    file: &ScenarioFile,
    device: &Device,
    content: &[u32],
    session: &[u32],
    portal: &[u32],
) -> Vec<FiredRule> {
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
    let session_rules = file
        .server
        .session_faults
        .iter()
        .zip(session)
        .map(|(rule, &fired)| FiredRule {
            rule: format!("[[server.session_fault]] {rule}"),
            fired,
            optional: rule.optional,
        });
    let portal_faults = file
        .portal
        .as_ref()
        .and_then(|spec| super::server::portal_config(spec).ok())
        .map(|config| config.faults)
        .unwrap_or_default();
    let portal_rules = portal_faults
        .into_iter()
        .zip(portal)
        .map(|(rule, &fired)| FiredRule {
            rule: format!("[[portal.fault]] {rule}"),
            fired,
            optional: rule.optional,
        });
    device_rules
        .chain(content_rules)
        .chain(session_rules)
        .chain(portal_rules)
        .collect()
}

/// Run a `snom-m3` scenario (a base's firmware update, no DM session: [`super::snom`]) into
/// `result`.
async fn run_snom(
    scenario: &LoadedScenario,
    file: &ScenarioFile,
    env: &RunEnv,
    result: &mut ScenarioResult,
) {
    let outcome = match state_store(env, &scenario.path) {
        Err(e) => Err(e),
        Ok(store) => {
            let store: std::sync::Arc<dyn crate::storage::StateStore> = store.into();
            match result.transport {
                TransportKind::InProcess => snom::run_in_process(file, store).await,
                TransportKind::Http => network::run_snom(file, &env.network, false, store).await,
                TransportKind::Https => network::run_snom(file, &env.network, true, store).await,
            }
        }
    };
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            result.verdict = Verdict::Error;
            result.failures.push(e.to_string());
            return;
        }
    };
    result.failures = snom::check(&file.expect, &outcome);
    result.faults = snom::fired_rules(file, &outcome);
    for rule in result.faults.iter().filter(|r| r.fired == 0 && !r.optional) {
        result.failures.push(format!(
            "fault rule {} never fired (a scenario whose fault did not happen proves nothing; say optional = true if it may rightly not fire)",
            rule.rule
        ));
    }
    if !result.failures.is_empty() {
        result.verdict = Verdict::Failed;
    }
    let mut observed = Observations::default();
    observed.snom_display(&outcome.base.display().codes());
    result.observed = observed.into_vec();
    result.end = snom::describe(&outcome);
    result.transcript = snom::transcript(&outcome);
}
