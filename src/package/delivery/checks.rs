//! What a device checks of a verified delivery package against itself, each check one function
//! (the SCOMO job runs them between its own checks of battery and user; [`inspect_delivery`] runs
//! them all, for `dmsim package --inspect` and tests):
//!
//! 1. the package is for this device: its DevId among the package's devices, its software version
//!    the package's source version ([`check_target`]; Knox -1455);
//! 2. the package is still valid on the device's clock ([`check_validity`]; Knox -1456: a stored
//!    package whose validity ended is no longer valid);
//! 3. every package it requires is installed ([`check_prerequisites`]; not attempted, Knox
//!    -1451);
//! 4. an environment of every component's type ([`check_environments`]; SCOMO 1413);
//! 5. no component is older than the one deployed under its id ([`check_downgrade`]; Knox
//!    -1454);
//! 6. memory for all the payloads together ([`check_delivery_memory`]; SCOMO 1406);
//! 7. every component at the version the operation asked for ([`check_asked_versions`]; not
//!    attempted, Knox -1482);
//! 8. storage for the installed components beside the package ([`check_install_storage`]; not
//!    attempted, Knox -1482).
//!
//! A component for a sub-device the device does not have ([`missing_sub_device`]) is not a
//! refusal of the package: the installer skips that component and installs the others.

use super::super::version::is_older;
use super::super::InstallError;
use super::{verify_delivery, Component, DeliveryDevice, DeliveryPackage};
use ed25519_dalek::VerifyingKey;

/// Everything a device checks before installing a delivery package, in the order of the module
/// docs, after [`verify_delivery`]; the first failure is the answer. Never panics, whatever the
/// bytes.
pub fn inspect_delivery(
    bytes: &[u8],
    trusted: &VerifyingKey,
    device: &DeliveryDevice<'_>,
) -> Result<DeliveryPackage, InstallError> {
    let package = verify_delivery(bytes, trusted, device.now)?;
    check_target(&package, device.dev_id, device.sw_version)?;
    check_validity(&package, device.now)?;
    check_prerequisites(&package, device.installed)?;
    check_environments(&package, device.env_types)?;
    check_downgrade(&package, device.deployed)?;
    check_delivery_memory(&package, device.free_memory)?;
    check_install_storage(&package, device.free_storage)?;
    Ok(package)
}

/// The package names the devices it is for (none: any device) and the software version they must
/// run (none: any); `dev_id` (`DevInfo/DevId`) and `sw_version` (`DevDetail/SwV`) are compared
/// exactly.
pub fn check_target(
    package: &DeliveryPackage,
    dev_id: &str,
    sw_version: &str,
) -> Result<(), InstallError> {
    let terms = &package.terms;
    if !terms.devices.is_empty() && !terms.devices.iter().any(|d| d == dev_id) {
        return Err(InstallError::NotForDevice {
            dev_id: dev_id.to_string(),
            devices: terms.devices.clone(),
        });
    }
    match &terms.source_version {
        Some(version) if version != sw_version => Err(InstallError::SourceVersion {
            package: version.clone(),
            device: sw_version.to_string(),
        }),
        _ => Ok(()),
    }
}

/// The package's validity (when it declares one) has not ended at `now`: its last valid second is
/// not before it.
pub fn check_validity(package: &DeliveryPackage, now: u64) -> Result<(), InstallError> {
    match package.terms.valid_until {
        Some(valid_until) if now > valid_until => {
            Err(InstallError::NoLongerValid { valid_until, now })
        }
        _ => Ok(()),
    }
}

/// Every package this one requires is among `installed` (the PkgIDs the device's deployed
/// components came from).
pub fn check_prerequisites(
    package: &DeliveryPackage,
    installed: &[String],
) -> Result<(), InstallError> {
    match package
        .terms
        .requires
        .iter()
        .find(|required| !installed.contains(required))
    {
        Some(required) => Err(InstallError::PrerequisiteMissing {
            pkg_id: required.clone(),
        }),
        None => Ok(()),
    }
}

/// Every component's environment type must be one the device has.
pub fn check_environments(
    package: &DeliveryPackage,
    env_types: &[String],
) -> Result<(), InstallError> {
    match package
        .components
        .iter()
        .find(|c| !env_types.contains(&c.header.env_type))
    {
        Some(c) => Err(InstallError::UnsupportedEnvironment {
            component: c.header.id.clone(),
            env_type: c.header.env_type.clone(),
        }),
        None => Ok(()),
    }
}

/// No component is older ([`super::super::version`]) than the component of its id that the device
/// has deployed (`deployed`: id and version).
pub fn check_downgrade(
    package: &DeliveryPackage,
    deployed: &[(String, String)],
) -> Result<(), InstallError> {
    for c in &package.components {
        let running = deployed.iter().find(|(id, _)| *id == c.header.id);
        if let Some((_, running)) = running {
            if is_older(&c.header.version, running) {
                return Err(InstallError::Downgrade {
                    component: Some(c.header.id.clone()),
                    package: c.header.version.clone(),
                    running: running.clone(),
                });
            }
        }
    }
    Ok(())
}

/// The install needs as much free memory as the payloads are long together.
pub fn check_delivery_memory(
    package: &DeliveryPackage,
    free_memory: u64,
) -> Result<(), InstallError> {
    let need = package.total_payload_len();
    if need > free_memory {
        return Err(InstallError::OutOfMemory {
            need,
            have: free_memory,
        });
    }
    Ok(())
}

/// The versions an operation asks for, from its `InstallParams`: `version=V` for every component,
/// `version.<id>=V` for one (which wins over `version`); parameters are separated by `;` or `&`,
/// white space around names and values is ignored, and other parameters are the installer's (not
/// checked here).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AskedVersions {
    pub all: Option<String>,
    pub by_component: Vec<(String, String)>,
}

impl AskedVersions {
    /// Read an `InstallParams` value.
    pub fn parse(params: &str) -> AskedVersions {
        let mut asked = AskedVersions::default();
        for (name, value) in params
            .split([';', '&'])
            .filter_map(|p| p.split_once('='))
            .map(|(n, v)| (n.trim(), v.trim()))
            .filter(|(_, v)| !v.is_empty())
        {
            if name == "version" {
                asked.all = Some(value.to_string());
            } else if let Some(id) = name.strip_prefix("version.").filter(|id| !id.is_empty()) {
                asked.by_component.push((id.to_string(), value.to_string()));
            }
        }
        asked
    }

    /// The version asked of component `id`, if any.
    pub fn of(&self, id: &str) -> Option<&str> {
        self.by_component
            .iter()
            .rev()
            .find(|(c, _)| c == id)
            .map(|(_, v)| v.as_str())
            .or(self.all.as_deref())
    }
}

/// Every component is at the version the operation asked for (compared exactly).
pub fn check_asked_versions(
    package: &DeliveryPackage,
    asked: &AskedVersions,
) -> Result<(), InstallError> {
    for c in &package.components {
        if let Some(version) = asked.of(&c.header.id) {
            if version != c.header.version {
                return Err(InstallError::VersionMismatch {
                    component: c.header.id.clone(),
                    package: c.header.version.clone(),
                    asked: version.to_string(),
                });
            }
        }
    }
    Ok(())
}

/// The installed components need as much storage as their payloads are long together, beside the
/// package the device already stores (`free_storage` is what is free with the package stored).
pub fn check_install_storage(
    package: &DeliveryPackage,
    free_storage: u64,
) -> Result<(), InstallError> {
    let need = package.total_payload_len();
    if need > free_storage {
        return Err(InstallError::InsufficientStorage {
            need,
            have: free_storage,
        });
    }
    Ok(())
}

/// The sub-device `component` is for, when the device does not have it among `sub_devices`
/// (compared exactly).
pub fn missing_sub_device<'a>(component: &'a Component, sub_devices: &[String]) -> Option<&'a str> {
    component
        .terms
        .sub_device
        .as_deref()
        .filter(|s| !sub_devices.iter().any(|d| d == s))
}
