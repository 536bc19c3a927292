//! Device families (`[device] family`): a preset of identity, agents and profile for a kind of
//! real device, applied to what the scenario leaves at dmsim's defaults.
//!
//! `knox-efota` is a Samsung device managed by Knox E-FOTA Advanced: a Samsung identity (model
//! SM-G991B, firmware in Samsung's version format: model, region, build type, bootloader
//! revision, year, month and build letter, e.g. `G991BXXU5CVJB`), FUMO at `./FUMO` as Samsung
//! places it, SCOMO, the E-FOTA client's subtree and agent ([`crate::efota`]), the client's
//! readiness paths as the preconditions of every FUMO and SCOMO job (`DeviceReady` and
//! `Inventory` under `./Ext/EFOTA`: see [`crate::engine::Preconditions`]), and the profile
//! `knox-efota`. With `platform = "ios"` it is the family's iOS-like device (an Apple identity,
//! an `iOS` execution environment for apps), whose app install and removal failures have codes of
//! their own (-1001, -1002).

use super::model::DeviceSpec;
use crate::device::Device;
use crate::efota::{self, mo::ClientInfo, Efota, EfotaConfig};
use crate::engine::Agent;
use crate::profile::Platform;
use serde::Deserialize;
use std::borrow::Cow;

/// A device family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    /// A Samsung device (or the family's iOS-like one) with the Knox E-FOTA Advanced client.
    KnoxEfota,
    /// A Snom m3 DECT base station, which updates its firmware over HTTP, not OMA-DM
    /// ([`crate::snom`], [`super::snom`]).
    SnomM3,
}

/// The E-FOTA client version the family's devices run.
pub const EFOTA_CLIENT_VERSION: &str = "3.6.12";

/// `device` with its family's preset applied to what it leaves at dmsim's defaults.
pub fn resolve(device: &DeviceSpec) -> Cow<'_, DeviceSpec> {
    if device.family == Some(Family::SnomM3) {
        let mut d = device.clone();
        if d.profile == DeviceSpec::default().profile {
            d.profile = "snom-m3".to_string();
        }
        if d.model == DeviceSpec::default().model {
            d.model = "m3".to_string();
        }
        return Cow::Owned(d);
    }
    let Some(Family::KnoxEfota) = device.family else {
        return Cow::Borrowed(device);
    };
    let dmsim = DeviceSpec::default();
    let mut d = device.clone();
    let (man, model, firmware, oem) = match d.platform {
        Platform::Android => ("Samsung", "SM-G991B", "G991BXXU5CVJB", "Samsung"),
        Platform::Ios => ("Apple", "iPhone14,5", "17.1.2", "Apple"),
    };
    let keep = |value: &mut String, default: &str, family: &str| {
        if value == default {
            *value = family.to_string();
        }
    };
    keep(&mut d.manufacturer, &dmsim.manufacturer, man);
    keep(&mut d.model, &dmsim.model, model);
    keep(&mut d.firmware, &dmsim.firmware, firmware);
    keep(&mut d.software, &dmsim.software, firmware);
    keep(&mut d.oem, &dmsim.oem, oem);
    keep(&mut d.profile, &dmsim.profile, "knox-efota");
    if d.fumo.is_none() && d.platform == Platform::Android {
        d.fumo = Some(super::updates::FumoSpec {
            root: "./FUMO".to_string(),
            ..Default::default()
        });
    }
    let preconditions = &mut d.preconditions;
    if preconditions.device_ready.is_none() && preconditions.inventory.is_none() {
        // The E-FOTA client's readiness paths, which every FUMO and SCOMO job checks first.
        preconditions.device_ready =
            Some(efota::mo::node(efota::mo::ROOT, efota::mo::DEVICE_READY));
        preconditions.inventory = Some(efota::mo::node(efota::mo::ROOT, efota::mo::INVENTORY));
    }
    if d.scomo.is_none() {
        d.scomo = Some(super::scomo::ScomoSpec {
            env_types: vec![match d.platform {
                Platform::Android => "Android".to_string(),
                Platform::Ios => "iOS".to_string(),
            }],
            ..Default::default()
        });
    }
    Cow::Owned(d)
}

/// Mount the family's own agents on a device built from `spec` (after FUMO and SCOMO).
pub fn mount(
    spec: &DeviceSpec,
    device: &mut Device,
    server_id: &str,
) -> Result<(), crate::tree::TreeError> {
    let Some(Family::KnoxEfota) = spec.family else {
        return Ok(());
    };
    let info = match spec.platform {
        Platform::Android => ClientInfo {
            client_version: EFOTA_CLIENT_VERSION.to_string(),
            sales_code: "BTU".to_string(),
            csc: "G991BOXM5CVJB".to_string(),
        },
        Platform::Ios => ClientInfo {
            client_version: EFOTA_CLIENT_VERSION.to_string(),
            sales_code: "LL/A".to_string(),
            csc: "21B101".to_string(),
        },
    };
    let agent = Efota::new(EfotaConfig::new(info, spec.platform));
    agent.mount(&mut device.tree, server_id, device.clock)?;
    device.agents.push(Box::new(agent));
    Ok(())
}

/// The device's E-FOTA client, if it has one.
pub fn efota(device: &Device) -> Option<&Efota> {
    device
        .agents
        .iter()
        .find_map(|a| a.as_any().downcast_ref::<Efota>())
}
