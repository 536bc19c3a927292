//! The device a scenario describes (`[device]`): its tree with the standard objects, the DMAcc
//! account and any custom nodes, its user, its fault plan, its resources, its FUMO agent, and the
//! Generic Alerts it starts out owing.

use super::error::BuildError;
use super::model::{AuthSpec, DeviceSpec, NodeSpec, ScenarioFile};
use super::updates::{self, RequestSpec};
use crate::device::{Device, SizeLimits, User};
use crate::engine::Preconditions;
use crate::faults::{FaultPlan, FaultRule, Trigger};
use crate::firmware::Firmware;
use crate::fumo::Fumo;
use crate::protocol::fumo::{DEVICE_REQUEST, USER_REQUEST};
use crate::syncml::GenericAlert;
use crate::tree::{self, Access, Format, Node, UriLimits};
use std::sync::Arc;

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

fn settings(spec: Option<&AuthSpec>) -> Option<tree::AuthSettings> {
    spec.map(|a| tree::AuthSettings {
        auth_type: a.kind.auth_type().aauth_type().to_string(),
        name: a.name.clone(),
        secret: a.secret.clone(),
        data: a.nonce_bytes(),
    })
}

/// The device a scenario describes.
pub fn build_device(file: &ScenarioFile) -> Result<Device, BuildError> {
    let d = super::family::resolve(&file.device);
    let d: &DeviceSpec = &d;
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
            .map(|a| a.kind.auth_type().aauth_type().to_string()),
    };
    let limits = UriLimits::new(d.max_depth, d.max_tot_len, d.max_seg_len);
    let tree =
        tree::standard_tree(&identity, &[account], limits).with_capacity_bytes(d.tree_capacity);
    let user = User::new(d.ui.display, d.ui.max_text, d.ui.answers.clone())
        .with_max_choices(d.ui.max_choices)
        .with_install_conditions(d.ui.install_conditions.clone());
    let faults = fault_plan(file).for_device(file.seed);
    let mut device = Device::new(tree, user, faults, file.seed);
    device.encoding = d.encoding;
    device.profile = crate::profile::builtin(&d.profile)
        .ok_or_else(|| BuildError::UnknownProfile(d.profile.clone()))?;
    device.resources = d.resources.build()?;
    device.preconditions = Arc::new(Preconditions {
        device_ready: d.preconditions.device_ready.clone(),
        inventory: d.preconditions.inventory.clone(),
    });
    if let Some(config) = updates::fumo_config(d) {
        let agent = Fumo::new(config, Firmware::factory(d.firmware.as_str()));
        agent
            .mount(&mut device.tree, &file.server.server_id, device.clock)
            .map_err(|error| BuildError::FumoRoot {
                root: agent.config.root.clone(),
                error,
            })?;
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
        device.agents.push(Box::new(agent));
    }
    if let Some(spec) = &d.scomo {
        super::scomo::mount(spec, &mut device, &file.server.server_id).map_err(|error| {
            BuildError::ScomoRoot {
                root: spec.root.clone(),
                error,
            }
        })?;
    }
    super::family::mount(d, &mut device, &file.server.server_id).map_err(|error| {
        BuildError::EfotaRoot {
            root: crate::efota::mo::ROOT.to_string(),
            error,
        }
    })?;
    // The scenario's own nodes go last, so they may add to an agent's subtree (an E-FOTA
    // client's tool version report or log under ./Ext/EFOTA).
    for node in &d.nodes {
        device
            .tree
            .insert(&node.uri, custom_node(node)?)
            .map_err(|error| BuildError::Node {
                uri: node.uri.clone(),
                error,
            })?;
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

fn custom_node(spec: &NodeSpec) -> Result<Node, BuildError> {
    let format = Format::parse(&spec.format).ok_or_else(|| BuildError::NodeFormat {
        uri: spec.uri.clone(),
        format: spec.format.clone(),
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
            access_flag(n)
                .map(|f| acc | f)
                .ok_or_else(|| BuildError::NodeAccess {
                    uri: spec.uri.clone(),
                    access: n.clone(),
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

pub(super) fn fault_plan(file: &ScenarioFile) -> FaultPlan {
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
