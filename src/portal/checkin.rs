//! A device's session with the portal behind the DM server ([`crate::server::Operator`]): when a
//! device with an operation waiting checks in, the portal first reads what it needs to know of it,
//! checks that against its catalogue and the operation, and only then sends the operation's
//! commands, or ends the device's part with the code of the check that failed. The device's
//! E-FOTA reports, in this session or a later one, end the part it sent ([`super::operations`]).
//!
//! # What the portal reads (one package of Gets)
//!
//! `./DevInfo/Mod`, `./DevInfo/DmV`, `./DevDetail/FwV`, `./Ext/EFOTA/ClientVersion`, the
//! parameters the model requires ([`Model::parameters`](super::catalogue::Model::parameters)),
//! and for a rollback the client's tool version report `./Ext/EFOTA/ToolVersion`, for a log request
//! its log `./Ext/EFOTA/Logs`.
//!
//! # The checks, in order (the first failing one ends the part)
//!
//! | check | code |
//! | --- | --- |
//! | a value (the log aside) longer than [`Limits::device_info`](super::catalogue::Limits::device_info) | `-7049` |
//! | `DmV` not a protocol version the portal speaks | `-34` |
//! | no `ClientVersion`, or one the portal does not support | `-7036` |
//! | a required parameter (or the log asked for) missing | `-7021` |
//! | firmware: the device already runs the target version | `-7003` |
//! | software: no deployment package for the client's reader | `-28` |
//! | rollback: no tool version report; no rollback file in it; a component without rollback | `-7031`, `-7033`, `-7035` |
//! | rollback, the plugin: no update file for the tool version; an answer over [`Limits::external_response`](super::catalogue::Limits::external_response); files that do not match the report's; signatures that do not verify | `-7032`, `-7048`, `-7037`, `-7047` |
//! | configuration: a `${attribute}` the device was not uploaded with | `-7044` |
//! | logs: the data collector is down (a portal fault); the day's upload limit passed | `-7034`, `-7046` |
//!
//! A lock ends `0` at once (the portal keeps the device on the firmware it read); a log request
//! ends `0` once the collector took the log. The others send their commands:
//!
//! * firmware: Replace `./FUMO/DownloadAndUpdate/PkgURL` with the update's descriptor URL, Exec
//!   `./FUMO/DownloadAndUpdate` (reference §5, FUMO);
//! * software and rollback: Add `./SCOMO/Download/<operation>` with `PkgID`, `Name` and `PkgURL`,
//!   Exec its `Operations/DownloadInstall` (reference §6, SCOMO);
//! * items: Add `./Ext/EFOTA/Items/<n>/URL` with each package's descriptor URL, Exec
//!   `./Ext/EFOTA/Operations/DownloadItems` (the client's, see `efota::items`);
//! * configuration: Replace `./Ext/EFOTA/Config/Profile` with the settings as `key = value`
//!   lines, Exec `./Ext/EFOTA/Operations/InstallProfile` (the client's, see `efota::config`).
//!
//! Every Exec carries the operation's id as its Correlator, which the device's reports carry back.
//! A Status other than 2xx for that Exec ends the part `-7006`: the device will not report.
//!
//! # The tool version report (dmsim's format; Samsung's is not public)
//!
//! `key = value` lines: `tool = 2.4.1` (required), `rollback = <file>` (the rollback update file
//! the tool keeps), and `component = <id> rollback` or `component = <id> no-rollback`, one per
//! software component.

use super::catalogue::Catalogue;
use super::operations::{self, PartState};
use super::plan::Plan;
use super::{Event, PortalFault, State};
use crate::server::script::{ExecSpec, ItemsSpec, ScriptCommand};
use crate::syncml::{AlertCode, CmdName, Command, SyncMl};
use std::collections::BTreeMap;

const MOD: &str = "./DevInfo/Mod";
const DMV: &str = "./DevInfo/DmV";
const FWV: &str = "./DevDetail/FwV";
const CLIENT_VERSION: &str = "./Ext/EFOTA/ClientVersion";
const TOOL_VERSION: &str = "./Ext/EFOTA/ToolVersion";
const LOGS: &str = "./Ext/EFOTA/Logs";

/// What the portal is reading of a device in one session.
#[derive(Debug, Clone)]
pub struct Reading {
    pub ordinal: u32,
    /// The operation and the device's part in it.
    pub op: usize,
    pub part: usize,
    /// Each path asked, and its value once answered (`None`: the device said it has none).
    pub values: BTreeMap<String, Option<String>>,
}

/// The next package for the device `dev_id` in its session `ordinal`.
pub(crate) fn next_package(
    state: &mut State,
    catalogue: &Catalogue,
    faults: &[PortalFault],
    dev_id: &str,
    ordinal: u32,
) -> Option<Vec<ScriptCommand>> {
    let device = state.registry.of_dm_id(dev_id)?;
    let now = state.now;
    if let Some(d) = state.registry.get_mut(device) {
        d.seen = Some(now);
    }
    if let Some(reading) = state.readings.remove(&device) {
        if reading.ordinal == ordinal {
            if let Some(commands) = decide(state, catalogue, faults, device, reading) {
                return Some(commands);
            }
        } else {
            // The session it was read in ended before the portal decided: read again.
            if let Some(part) = state
                .operations
                .get_mut(reading.op)
                .and_then(|op| op.devices.get_mut(reading.part))
            {
                part.state = PartState::Queued;
            }
        }
    }
    // The first operation still waiting for this device.
    let (op, part) = state.operations.iter().enumerate().find_map(|(o, op)| {
        if op.expired(now) {
            return None;
        }
        op.devices
            .iter()
            .position(|p| p.device == device && p.state == PartState::Queued)
            .map(|p| (o, p))
    })?;
    let operation = &mut state.operations[op];
    operation.devices[part].state = PartState::Reading { ordinal };
    let mut paths = vec![MOD, DMV, FWV, CLIENT_VERSION]
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>();
    let model = operation
        .model
        .clone()
        .or_else(|| state.registry.get(device).and_then(|d| d.model.clone()));
    if let Some(m) = model.as_deref().and_then(|m| catalogue.model(m)) {
        paths.extend(m.parameters.iter().cloned());
    }
    match &operation.plan {
        Plan::Software { rollback: true, .. } => paths.push(TOOL_VERSION.into()),
        Plan::Logs => paths.push(LOGS.into()),
        _ => {}
    }
    paths.dedup();
    let commands = paths
        .iter()
        .map(|p| {
            ScriptCommand::Get(ItemsSpec {
                target: Some(p.clone()),
                ..ItemsSpec::default()
            })
        })
        .collect();
    state.readings.insert(
        device,
        Reading {
            ordinal,
            op,
            part,
            values: paths.into_iter().map(|p| (p, None)).collect(),
        },
    );
    Some(commands)
}

/// What the device sent in a message: the values read, the Status of the operation's Exec, and
/// its E-FOTA reports.
pub(crate) fn received(state: &mut State, dev_id: &str, msg: &SyncMl) {
    let Some(device) = state.registry.of_dm_id(dev_id) else {
        return;
    };
    let now = state.now;
    for cmd in &msg.body.commands {
        match cmd {
            Command::Results(r) => {
                if let Some(reading) = state.readings.get_mut(&device) {
                    for item in &r.items {
                        let (Some(uri), Some(text)) = (item.source_uri(), item.data_text()) else {
                            continue;
                        };
                        if let Some(value) = reading.values.get_mut(uri) {
                            *value = Some(text.into_owned());
                        }
                    }
                }
            }
            Command::Status(s) if s.cmd == CmdName::Exec && !s.code.is_success() => {
                let target = s.target_refs.first().map(String::as_str);
                for op in &mut state.operations {
                    for part in &mut op.devices {
                        if part.device == device
                            && matches!(part.state, PartState::Sent { .. })
                            && target.is_some_and(|t| op.exec_target.as_deref() == Some(t))
                        {
                            part.state = PartState::Done {
                                code: -7006,
                                at: now,
                            };
                        }
                    }
                }
            }
            Command::Alert(a) if a.code == AlertCode::GenericAlert => {
                for item in &a.items {
                    let Some(codes) = crate::protocol::efota::reported_codes(item) else {
                        continue;
                    };
                    report(state, device, a.correlator.as_deref(), &codes);
                }
            }
            _ => {}
        }
    }
}

/// A device's E-FOTA report: its agentError, and the end of its part of the operation the
/// correlator names.
fn report(state: &mut State, device: usize, correlator: Option<&str>, codes: &[i64]) {
    let now = state.now;
    let failed = operations::from_report(codes) != 0;
    if let Some(d) = state.registry.get_mut(device) {
        d.agent_error = failed.then(|| {
            let code = codes.first().copied().unwrap_or_default();
            super::devices::AgentError {
                code,
                message: super::agent_message(code),
                at: now,
            }
        });
    }
    let mut ended = None;
    let mut updated = None;
    if let Some(id) = correlator {
        for op in state.operations.iter_mut().filter(|op| op.id == id) {
            for part in op.devices.iter_mut().filter(|p| p.device == device) {
                if matches!(part.state, PartState::Sent { .. }) {
                    let code = operations::from_report(codes);
                    part.state = PartState::Done { code, at: now };
                    ended = Some((op.id.clone(), code));
                    if let (0, Plan::Firmware { version, .. }) = (code, &op.plan) {
                        updated = Some(version.clone());
                    }
                }
            }
        }
    }
    if let (Some(version), Some(d)) = (updated, state.registry.get_mut(device)) {
        // The device reported the update done: it runs the version now.
        d.firmware = Some(version);
    }
    state.event(Event::status_changed(device, ended));
}

/// Decide on a device whose values were read: its part ends with a code, or the operation's
/// commands go.
fn decide(
    state: &mut State,
    catalogue: &Catalogue,
    faults: &[PortalFault],
    device: usize,
    reading: Reading,
) -> Option<Vec<ScriptCommand>> {
    let now = state.now;
    let values = &reading.values;
    let get = |p: &str| values.get(p).and_then(|v| v.as_deref());
    if let Some(d) = state.registry.get_mut(device) {
        d.model = get(MOD).map(String::from).or(d.model.take());
        d.firmware = get(FWV).map(String::from).or(d.firmware.take());
        d.client_version = get(CLIENT_VERSION).map(String::from);
    }
    let op = state.operations.get(reading.op)?;
    let outcome = check(catalogue, op, values, state.registry.get(device)?);
    let outcome = match outcome {
        Checked::Logs(bytes) => collect(state, catalogue, faults, device, bytes),
        other => other,
    };
    let op = state.operations.get_mut(reading.op)?;
    let id = op.id.clone();
    let part = op.devices.get_mut(reading.part)?;
    match outcome {
        Checked::Ends(code) => {
            part.state = PartState::Done { code, at: now };
            if code == 0 {
                if let (Plan::Lock, Some(d)) = (&op.plan, state.registry.get_mut(device)) {
                    d.locked = d.firmware.clone();
                }
            }
            state.event(Event::status_changed(device, Some((id, code))));
            None
        }
        Checked::Send(commands, exec) => {
            part.state = PartState::Sent { at: now };
            op.exec_target = Some(exec);
            Some(commands)
        }
        Checked::Logs(_) => None,
    }
}

/// The outcome of the checks.
enum Checked {
    Ends(i64),
    /// The commands, and the target of their Exec.
    Send(Vec<ScriptCommand>, String),
    /// A log to hand to the data collector.
    Logs(usize),
}

fn check(
    catalogue: &Catalogue,
    op: &operations::Operation,
    values: &BTreeMap<String, Option<String>>,
    device: &super::devices::Device,
) -> Checked {
    let get = |p: &str| values.get(p).and_then(|v| v.as_deref());
    // A log is data for the collector, with its own limit (-7046), not information about the
    // device.
    if values
        .iter()
        .filter(|(p, _)| p.as_str() != LOGS)
        .filter_map(|(_, v)| v.as_ref())
        .any(|v| v.len() > catalogue.limits.device_info)
    {
        return Checked::Ends(-7049);
    }
    if !get(DMV).is_some_and(|v| catalogue.protocol_versions.iter().any(|p| p == v)) {
        return Checked::Ends(-34);
    }
    let Some(client) =
        get(CLIENT_VERSION).filter(|v| catalogue.client_versions.iter().any(|c| c == v))
    else {
        return Checked::Ends(-7036);
    };
    // The tool version report is the rollback checks' (-7031).
    if values.iter().any(|(p, v)| v.is_none() && p != TOOL_VERSION) {
        return Checked::Ends(-7021);
    }
    let correlator = op.id.clone();
    match &op.plan {
        Plan::Lock => Checked::Ends(0),
        Plan::Logs => Checked::Logs(get(LOGS).map_or(0, str::len)),
        Plan::Firmware {
            fumo_uri,
            version,
            file,
        } => {
            if get(FWV) == Some(version.as_str()) {
                return Checked::Ends(-7003);
            }
            let exec = format!("{fumo_uri}/DownloadAndUpdate");
            let commands = vec![
                replace(&format!("{exec}/PkgURL"), &format!("$SERVER{file}")),
                ScriptCommand::Exec(ExecSpec {
                    target: Some(exec.clone()),
                    correlator: Some(correlator),
                    ..ExecSpec::default()
                }),
            ];
            Checked::Send(commands, exec)
        }
        Plan::Software {
            rollback,
            scomo_uri,
            instance,
            package,
            file,
            readers,
            ..
        } => {
            if *rollback {
                if let Err(code) = rollback_checks(catalogue, get(TOOL_VERSION)) {
                    return Checked::Ends(code);
                }
            }
            if !readers.iter().any(|r| r == client) {
                return Checked::Ends(-28);
            }
            let node = format!("{scomo_uri}/Download/{correlator}");
            let exec = format!("{node}/Operations/DownloadInstall");
            let commands = vec![
                ScriptCommand::Add(ItemsSpec {
                    target: Some(node.clone()),
                    format: Some("node".into()),
                    ..ItemsSpec::default()
                }),
                add(&format!("{node}/PkgID"), package),
                add(&format!("{node}/Name"), instance),
                add(&format!("{node}/PkgURL"), &format!("$SERVER{file}")),
                ScriptCommand::Exec(ExecSpec {
                    target: Some(exec.clone()),
                    correlator: Some(correlator),
                    ..ExecSpec::default()
                }),
            ];
            Checked::Send(commands, exec)
        }
        Plan::Items { files } => {
            let exec = "./Ext/EFOTA/Operations/DownloadItems".to_string();
            let mut commands: Vec<ScriptCommand> = files
                .iter()
                .enumerate()
                .map(|(n, file)| {
                    add(
                        &format!("./Ext/EFOTA/Items/{}/URL", n + 1),
                        &format!("$SERVER{file}"),
                    )
                })
                .collect();
            commands.push(ScriptCommand::Exec(ExecSpec {
                target: Some(exec.clone()),
                correlator: Some(correlator),
                ..ExecSpec::default()
            }));
            Checked::Send(commands, exec)
        }
        Plan::Configure { settings } => {
            let mut profile = String::new();
            for (key, value) in settings {
                match resolve(value, &device.attributes) {
                    Some(value) => profile.push_str(&format!("{key} = {value}\n")),
                    None => return Checked::Ends(-7044),
                }
            }
            let exec = "./Ext/EFOTA/Operations/InstallProfile".to_string();
            let commands = vec![
                replace("./Ext/EFOTA/Config/Profile", &profile),
                ScriptCommand::Exec(ExecSpec {
                    target: Some(exec.clone()),
                    correlator: Some(correlator),
                    ..ExecSpec::default()
                }),
            ];
            Checked::Send(commands, exec)
        }
    }
}

/// The rollback checks of the tool version report and the plugin's answer for it.
fn rollback_checks(catalogue: &Catalogue, report: Option<&str>) -> Result<(), i64> {
    let report = report.ok_or(-7031)?;
    let mut tool = None;
    let mut rollback = None;
    let mut components_ok = true;
    for line in report.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let Some((key, value)) = line.split_once('=') else {
            return Err(-7031);
        };
        match (key.trim(), value.trim()) {
            ("tool", v) => tool = Some(v),
            ("rollback", v) if !v.is_empty() => rollback = Some(v),
            ("component", v) => {
                components_ok &= v.split_whitespace().nth(1) == Some("rollback");
            }
            _ => {}
        }
    }
    let tool = tool.ok_or(-7031)?;
    let rollback = rollback.ok_or(-7033)?;
    if !components_ok {
        return Err(-7035);
    }
    let plugin = &catalogue.plugin;
    let answer = plugin
        .tools
        .iter()
        .find(|t| t.version == tool)
        .ok_or(-7032)?;
    let length = answer
        .files
        .iter()
        .map(|f| f.len() + 1)
        .sum::<usize>()
        .saturating_add(plugin.pad_response);
    if length > catalogue.limits.external_response {
        return Err(-7048);
    }
    if !answer.files.iter().any(|f| f == rollback) {
        return Err(-7037);
    }
    if !plugin.signatures_valid {
        return Err(-7047);
    }
    Ok(())
}

/// Hand a log of `bytes` to the data collector.
fn collect(
    state: &mut State,
    catalogue: &Catalogue,
    faults: &[PortalFault],
    device: usize,
    bytes: usize,
) -> Checked {
    if state.fire(faults, super::FaultKind::CollectorDown, "collector") {
        return Checked::Ends(-7034);
    }
    let day = state.now / 86_400;
    let Some(d) = state.registry.get_mut(device) else {
        return Checked::Ends(-7034);
    };
    let used = if d.uploaded.0 == day { d.uploaded.1 } else { 0 };
    let total = used.saturating_add(bytes as u64);
    if total > catalogue.limits.daily_upload {
        return Checked::Ends(-7046);
    }
    d.uploaded = (day, total);
    Checked::Ends(0)
}

/// `value` with every `${name}` replaced by the device's attribute (`None`: one it has not).
fn resolve(value: &str, attributes: &BTreeMap<String, String>) -> Option<String> {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}')?;
        out.push_str(attributes.get(&after[..end])?);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

fn replace(target: &str, data: &str) -> ScriptCommand {
    ScriptCommand::Replace(ItemsSpec {
        target: Some(target.into()),
        data: Some(data.into()),
        ..ItemsSpec::default()
    })
}

fn add(target: &str, data: &str) -> ScriptCommand {
    ScriptCommand::Add(ItemsSpec {
        target: Some(target.into()),
        data: Some(data.into()),
        ..ItemsSpec::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_resolve_or_name_the_missing_one() {
        let attrs: BTreeMap<String, String> = [("region".to_string(), "eu".to_string())].into();
        assert_eq!(resolve("x-${region}-y", &attrs).as_deref(), Some("x-eu-y"));
        assert_eq!(resolve("${site}", &attrs), None);
        assert_eq!(resolve("${unterminated", &attrs), None);
        assert_eq!(resolve("plain", &attrs).as_deref(), Some("plain"));
    }

    #[test]
    fn the_tool_version_report_is_checked_against_the_plugin() {
        let c = Catalogue::default();
        let good = "tool = 2.4.1\nrollback = rollback-2.4.1.bin\ncomponent = app rollback\n";
        assert_eq!(rollback_checks(&c, Some(good)), Ok(()));
        assert_eq!(rollback_checks(&c, None), Err(-7031));
        assert_eq!(rollback_checks(&c, Some("tool = 2.4.1")), Err(-7033));
        let no_rb = "tool = 2.4.1\nrollback = rollback-2.4.1.bin\ncomponent = app no-rollback";
        assert_eq!(rollback_checks(&c, Some(no_rb)), Err(-7035));
        assert_eq!(
            rollback_checks(&c, Some("tool = 9.9\nrollback = r.bin")),
            Err(-7032)
        );
        assert_eq!(
            rollback_checks(&c, Some("tool = 2.4.1\nrollback = other.bin")),
            Err(-7037)
        );
        let mut bad_sig = c.clone();
        bad_sig.plugin.signatures_valid = false;
        assert_eq!(rollback_checks(&bad_sig, Some(good)), Err(-7047));
        let mut long = c.clone();
        long.plugin.pad_response = 1 << 20;
        assert_eq!(rollback_checks(&long, Some(good)), Err(-7048));
    }
}
