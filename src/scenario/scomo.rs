//! SCOMO in scenario files: `[device.scomo]` mounts the agent, and the expectations
//! `scomo_result`, `scomo_status` and `inventory` check what the server received and what the
//! device's SCOMO object holds.
//!
//! ```toml
//! [device.scomo]                  # root = "./SCOMO", env_types = ["Android", "Linux"], legacy_alert_type, operations, remove_active,
//!                                 # ask_install_conditions, install_conditions_timeout, exec_while_busy = "conflict" | "abort",
//!                                 # verify_and_rollback, sub_devices
//!
//! [expect]
//! scomo_result = [1200]           # result codes of the OperationComplete alerts the server received
//! scomo_status = [                # every value each Status node took, node by node
//!   { node = "Download/App1", values = [10, 30, 40, 50, 10] },
//! ]
//! inventory = { delivered = [{ id = "suite", state = 20 }], deployed = [{ id = "maps", version = "2.1", state = 20 }] }
//! ```

use crate::device::Device;
use crate::protocol::scomo::ScomoOperation;
use crate::scomo::{ExecWhileBusy, Scomo, ScomoConfig};
use serde::Deserialize;
use std::sync::Arc;

/// `[device.scomo]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScomoSpec {
    /// The object's root (`./SCM` for Verizon's layout).
    pub root: String,
    /// The execution environment types the device has.
    pub env_types: Vec<String>,
    /// Report with the draft-era alert type a server may expect.
    pub legacy_alert_type: bool,
    /// Whether an Active component may be removed (default true; false: it is in use, and its
    /// Remove fails).
    pub remove_active: bool,
    /// The operations the device implements (by node name; default all).
    #[serde(deserialize_with = "operations")]
    pub operations: Vec<ScomoOperation>,
    /// The sub-devices (attached peripherals) the device has, by id (default none): a component
    /// for another one is skipped.
    pub sub_devices: Vec<String>,
    /// Ask the user to accept the installation conditions before an install (answers in
    /// `[device.ui] install_conditions`).
    pub ask_install_conditions: bool,
    /// Seconds the installation-conditions prompt waits for an answer.
    pub install_conditions_timeout: u64,
    /// An Exec while a job is queued: `conflict` (SyncML 409, the default) or `abort` (accepted,
    /// its transaction aborted and reported).
    pub exec_while_busy: ExecWhileBusySpec,
    /// Post-update verification and version rollback, with trial installs (default false; see
    /// [`ScomoConfig::verify_and_rollback`]).
    pub verify_and_rollback: bool,
}

/// `exec_while_busy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExecWhileBusySpec {
    #[default]
    Conflict,
    Abort,
}

fn operations<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<ScomoOperation>, D::Error> {
    Vec::<String>::deserialize(d)?
        .iter()
        .map(|name| {
            ScomoOperation::parse(name).ok_or_else(|| {
                let known: Vec<&str> = ScomoOperation::ALL.iter().map(|o| o.as_str()).collect();
                serde::de::Error::custom(format!(
                    "unknown SCOMO operation {name:?}; known: {}",
                    known.join(", ")
                ))
            })
        })
        .collect()
}

impl Default for ScomoSpec {
    fn default() -> ScomoSpec {
        let config = ScomoConfig::new(crate::scomo::DEFAULT_ROOT);
        ScomoSpec {
            root: config.root,
            env_types: config.env_types,
            legacy_alert_type: config.legacy_alert_type,
            operations: config.operations,
            remove_active: config.remove_active,
            sub_devices: config.sub_devices,
            ask_install_conditions: config.install_conditions.is_some(),
            install_conditions_timeout: crate::engine::DEFAULT_CONDITIONS_TIMEOUT,
            exec_while_busy: ExecWhileBusySpec::Conflict,
            verify_and_rollback: config.verify_and_rollback,
        }
    }
}

impl ScomoSpec {
    /// The agent's configuration.
    pub fn config(&self) -> Arc<ScomoConfig> {
        let mut config = ScomoConfig::new(self.root.as_str());
        config.env_types = self.env_types.clone();
        config.legacy_alert_type = self.legacy_alert_type;
        config.operations = self.operations.clone();
        config.remove_active = self.remove_active;
        config.sub_devices = self.sub_devices.clone();
        config.install_conditions = super::updates::conditions_prompt(
            self.ask_install_conditions,
            self.install_conditions_timeout,
        );
        config.exec_while_busy = match self.exec_while_busy {
            ExecWhileBusySpec::Conflict => ExecWhileBusy::Conflict,
            ExecWhileBusySpec::Abort => ExecWhileBusy::Abort,
        };
        config.verify_and_rollback = self.verify_and_rollback;
        Arc::new(config)
    }
}

/// One Status node and every value it took, in order.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusExpect {
    /// The node relative to the root, without `/Status`: `Download/App1`,
    /// `Inventory/Delivered/suite`, `Inventory/Deployed/maps`.
    pub node: String,
    pub values: Vec<u16>,
}

/// The inventory at the end, exactly: every delivered package and deployed component, in the
/// order the device holds them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InventoryExpect {
    #[serde(default)]
    pub delivered: Vec<DeliveredExpect>,
    #[serde(default)]
    pub deployed: Vec<DeployedExpect>,
}

/// A delivered package: its node name and State (10 Delivered, 20 Installed).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveredExpect {
    pub id: String,
    pub state: u16,
}

/// A deployed component: its node name, version and State (10 Inactive, 20 Active).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeployedExpect {
    pub id: String,
    pub version: String,
    pub state: u16,
}

/// Mount the agent `spec` describes on `device`.
pub fn mount(
    spec: &ScomoSpec,
    device: &mut Device,
    server_id: &str,
) -> Result<(), crate::tree::TreeError> {
    use crate::engine::Agent;
    let agent = Scomo::new(spec.config());
    agent.mount(&mut device.tree, server_id, device.clock)?;
    device.agents.push(Box::new(agent));
    Ok(())
}

/// The device's SCOMO agent, if it has one.
pub fn agent(device: &Device) -> Option<&Scomo> {
    device
        .agents
        .iter()
        .find_map(|a| a.as_any().downcast_ref::<Scomo>())
}

/// Every Status node the agent recorded, with the values it took, in the order first seen.
pub fn statuses(agent: &Scomo) -> Vec<StatusExpect> {
    let mut out: Vec<StatusExpect> = Vec::new();
    for r in &agent.records.statuses {
        let node = format!("{}/{}", r.area.path(), r.node);
        match out.iter_mut().find(|s| s.node == node) {
            Some(s) => s.values.push(r.value),
            None => out.push(StatusExpect {
                node,
                values: vec![r.value],
            }),
        }
    }
    out
}

/// The inventory the agent holds.
pub fn inventory(agent: &Scomo) -> InventoryExpect {
    InventoryExpect {
        delivered: agent
            .durable
            .delivered
            .iter()
            .map(|d| DeliveredExpect {
                id: d.node.clone(),
                state: d.state.code(),
            })
            .collect(),
        deployed: agent
            .durable
            .deployed
            .iter()
            .map(|c| DeployedExpect {
                id: c.node.clone(),
                version: c.version.clone(),
                state: c.state.code(),
            })
            .collect(),
    }
}
