//! What an administrator or a UEM asks for (`POST /campaigns`, `POST /operations`), read from its
//! JSON and checked against the catalogue ([`super::catalogue`]) before anything is created: each
//! refusal is one of the seed's validation codes ([`PortalError`]).
//!
//! | field | checks |
//! | --- | --- |
//! | `devices` | not empty (`-4`) |
//! | `trigger` | one of the catalogue's (`-16`) |
//! | `model` | one of the catalogue's (`-1`) |
//! | `firmwarePolicy` | `latest` (an active version exists, else `-12`), `upTo` / `specific` (`version` of the model, else `-19`, or `-27` when it is another model's; active, else `-20`), `lock`; the update to it (`from`, or a full image: `-17`) and its file hosted (`-18`) |
//! | `software` | `instance` (`-11`), `version` (`-7`) or `latest` (`-12`), active (`-20`), for the model (`-27`); the model's SCOMO URI (`-25`); its deployment package (`-29` … `-33`: exists, version, size, encoding, signing key) and the package's file hosted (`-18`) |
//! | `configuration` | every property the catalogue requires (`-26`) |
//! | `items` | each deployment package exists (`-29`), its version (`-30`), with a `model` its size, encoding and signing key (`-31` … `-33`), its file hosted (`-18`) |
//!
//! The checks run in the order of the table, the first failing one answers.

use super::catalogue::{is_dotted, Catalogue, DeploymentPackage};
use super::error::PortalError;
use serde::Deserialize;
use std::collections::BTreeMap;

/// An operation request as the API reads it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OperationRequest {
    #[serde(rename = "type")]
    pub kind: Kind,
    #[serde(default)]
    pub devices: Vec<String>,
    /// The device groups (as uploaded) whose devices the operation is for, besides `devices`.
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub urgent: bool,
    #[serde(default)]
    pub trigger: Option<String>,
    /// Seconds the operation stays valid for devices that have not taken it (`-7004` after).
    #[serde(default)]
    pub timeout_seconds: Option<u64>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub firmware_policy: Option<FirmwarePolicyRequest>,
    #[serde(default)]
    pub software: Option<SoftwareRequest>,
    /// A deployment package other than the software version's own.
    #[serde(default)]
    pub deployment_package: Option<String>,
    #[serde(default)]
    pub configuration: BTreeMap<String, String>,
    /// For `items`: the deployment packages, by id.
    #[serde(default)]
    pub items: Vec<String>,
}

/// What an operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Kind {
    /// Update (or lock) the firmware through FUMO.
    Firmware,
    /// Deploy a software version through SCOMO.
    Software,
    /// Roll software back to a version, checked against the device's tool version report.
    Rollback,
    /// Install a client configuration.
    ClientConfiguration,
    /// Fetch the client's logs into the data collector.
    ClientLog,
    /// Have the E-FOTA client download and install deployment packages as items.
    Items,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FirmwarePolicyRequest {
    #[serde(rename = "type")]
    pub kind: PolicyKind,
    #[serde(default)]
    pub version: Option<String>,
    /// The version devices update from (a delta); a full image when absent.
    #[serde(default)]
    pub from: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PolicyKind {
    Latest,
    UpTo,
    Specific,
    Lock,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SoftwareRequest {
    #[serde(default)]
    pub instance: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub latest: bool,
}

/// A checked operation: what the portal does on each device.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// Update to `version` with the update file at `file`.
    Firmware {
        fumo_uri: String,
        version: String,
        file: String,
    },
    /// Keep devices on the firmware they run.
    Lock,
    /// Deploy (or roll back to) a software version.
    Software {
        rollback: bool,
        scomo_uri: String,
        instance: String,
        version: String,
        package: String,
        file: String,
        /// The client versions whose reader the package is built for.
        readers: Vec<String>,
    },
    /// Install this configuration (`key = value` lines, `${attribute}` resolved per device).
    Configure { settings: BTreeMap<String, String> },
    /// Fetch the client's logs.
    Logs,
    /// Download and install these deployment packages' files as the client's items.
    Items { files: Vec<String> },
}

impl Plan {
    /// Check `request` against `catalogue`; `hosted` says whether the DM server hosts a path.
    pub fn check(
        request: &OperationRequest,
        catalogue: &Catalogue,
        hosted: &dyn Fn(&str) -> bool,
    ) -> Result<Plan, PortalError> {
        if let Some(trigger) = &request.trigger {
            if !catalogue.triggers.contains(trigger) {
                return Err(PortalError::UnknownTrigger(trigger.clone()));
            }
        }
        match request.kind {
            Kind::Firmware => firmware(request, catalogue, hosted),
            Kind::Software | Kind::Rollback => software(request, catalogue, hosted),
            Kind::ClientConfiguration => {
                if let Some(missing) = catalogue
                    .config_properties
                    .iter()
                    .find(|p| !request.configuration.contains_key(*p))
                {
                    return Err(PortalError::MissingProperty(missing.clone()));
                }
                Ok(Plan::Configure {
                    settings: request.configuration.clone(),
                })
            }
            Kind::ClientLog => Ok(Plan::Logs),
            Kind::Items => items(request, catalogue, hosted),
        }
    }
}

/// The model a firmware or software request names.
fn model<'a>(
    request: &OperationRequest,
    catalogue: &'a Catalogue,
) -> Result<&'a super::catalogue::Model, PortalError> {
    let name = request
        .model
        .as_deref()
        .ok_or_else(|| PortalError::BadField("model: required for this type".into()))?;
    catalogue
        .model(name)
        .ok_or_else(|| PortalError::UnknownModel(name.to_string()))
}

fn firmware(
    request: &OperationRequest,
    catalogue: &Catalogue,
    hosted: &dyn Fn(&str) -> bool,
) -> Result<Plan, PortalError> {
    let model = model(request, catalogue)?;
    let policy = request
        .firmware_policy
        .as_ref()
        .ok_or_else(|| PortalError::BadField("firmwarePolicy: required for firmware".into()))?;
    let versions: Vec<_> = catalogue.firmware_of(&model.name).collect();
    let target = match policy.kind {
        PolicyKind::Lock => return Ok(Plan::Lock),
        PolicyKind::Latest => versions
            .iter()
            .rev()
            .find(|f| f.active && !f.updates.is_empty())
            .ok_or_else(|| PortalError::NoLatestVersion(model.name.clone()))?,
        PolicyKind::UpTo | PolicyKind::Specific => {
            let version = policy.version.as_deref().ok_or_else(|| {
                PortalError::BadField("firmwarePolicy.version: required for this policy".into())
            })?;
            let Some(at) = versions.iter().position(|f| f.version == version) else {
                if catalogue.firmware.iter().any(|f| f.version == version) {
                    return Err(PortalError::UnsuitableVersion {
                        version: version.to_string(),
                        model: model.name.clone(),
                    });
                }
                return Err(PortalError::UnknownFirmware {
                    model: model.name.clone(),
                    version: version.to_string(),
                });
            };
            if policy.kind == PolicyKind::UpTo {
                // The newest active version at or before the one named.
                versions[..=at]
                    .iter()
                    .rev()
                    .find(|f| f.active && !f.updates.is_empty())
                    .ok_or_else(|| PortalError::InactiveVersion(version.to_string()))?
            } else if !versions[at].active {
                return Err(PortalError::InactiveVersion(version.to_string()));
            } else {
                versions[at]
            }
        }
    };
    let update = target
        .updates
        .iter()
        .find(|u| u.from == policy.from)
        .ok_or_else(|| PortalError::UnknownUpdate {
            from: policy.from.clone().unwrap_or_else(|| "a full image".into()),
            to: target.version.clone(),
        })?;
    if !hosted(&update.file) {
        return Err(PortalError::MissingUpdateFile(update.file.clone()));
    }
    Ok(Plan::Firmware {
        fumo_uri: "./FUMO".into(),
        version: target.version.clone(),
        file: update.file.clone(),
    })
}

fn software(
    request: &OperationRequest,
    catalogue: &Catalogue,
    hosted: &dyn Fn(&str) -> bool,
) -> Result<Plan, PortalError> {
    let model = model(request, catalogue)?;
    let wanted = request
        .software
        .as_ref()
        .ok_or_else(|| PortalError::BadField("software: required for this type".into()))?;
    let instance = wanted.instance.as_deref().unwrap_or_default();
    let software = catalogue
        .software(instance)
        .ok_or_else(|| PortalError::UnknownSoftware(instance.to_string()))?;
    let version = if wanted.latest {
        software
            .versions
            .iter()
            .rev()
            .find(|v| v.active && v.models.contains(&model.name))
            .ok_or_else(|| PortalError::NoLatestVersion(instance.to_string()))?
    } else {
        let name = wanted.version.as_deref().unwrap_or_default();
        let version = software
            .versions
            .iter()
            .find(|v| v.version == name)
            .ok_or_else(|| PortalError::UnknownSoftwareVersion {
                instance: instance.to_string(),
                version: name.to_string(),
            })?;
        if !version.active {
            return Err(PortalError::InactiveVersion(name.to_string()));
        }
        if !version.models.contains(&model.name) {
            return Err(PortalError::UnsuitableVersion {
                version: name.to_string(),
                model: model.name.clone(),
            });
        }
        version
    };
    let scomo_uri = model
        .scomo_uri
        .clone()
        .ok_or_else(|| PortalError::NoScomoUri(model.name.clone()))?;
    let id = request
        .deployment_package
        .as_deref()
        .unwrap_or(&version.package);
    let package = catalogue
        .deployment_package(id)
        .ok_or_else(|| PortalError::UnknownPackage(id.to_string()))?;
    check_package(package, model)?;
    if !hosted(&package.file) {
        return Err(PortalError::MissingUpdateFile(package.file.clone()));
    }
    Ok(Plan::Software {
        rollback: request.kind == Kind::Rollback,
        scomo_uri,
        instance: instance.to_string(),
        version: version.version.clone(),
        package: package.id.clone(),
        file: package.file.clone(),
        readers: version.readers.clone(),
    })
}

fn items(
    request: &OperationRequest,
    catalogue: &Catalogue,
    hosted: &dyn Fn(&str) -> bool,
) -> Result<Plan, PortalError> {
    if request.items.is_empty() {
        return Err(PortalError::BadField(
            "items: at least one deployment package".into(),
        ));
    }
    let model = request
        .model
        .as_ref()
        .map(|_| model(request, catalogue))
        .transpose()?;
    let mut files = Vec::new();
    for id in &request.items {
        let package = catalogue
            .deployment_package(id)
            .ok_or_else(|| PortalError::UnknownPackage(id.clone()))?;
        match model {
            Some(model) => check_package(package, model)?,
            None if !is_dotted(&package.version) => {
                return Err(PortalError::InvalidPackageVersion {
                    id: package.id.clone(),
                    version: package.version.clone(),
                })
            }
            None => {}
        }
        if !hosted(&package.file) {
            return Err(PortalError::MissingUpdateFile(package.file.clone()));
        }
        files.push(package.file.clone());
    }
    Ok(Plan::Items { files })
}

/// The portal builds and signs a deployment package for a model: its version, size, encoding and
/// signing key (`-30` … `-33`).
fn check_package(
    package: &DeploymentPackage,
    model: &super::catalogue::Model,
) -> Result<(), PortalError> {
    if !is_dotted(&package.version) {
        return Err(PortalError::InvalidPackageVersion {
            id: package.id.clone(),
            version: package.version.clone(),
        });
    }
    if package.size > model.max_dp_size {
        return Err(PortalError::PackageTooLarge {
            id: package.id.clone(),
            size: package.size,
            model: model.name.clone(),
            max: model.max_dp_size,
        });
    }
    if !model.dp_encodings.contains(&package.encoding) {
        return Err(PortalError::UnsupportedEncoding {
            id: package.id.clone(),
            encoding: package.encoding.clone(),
            model: model.name.clone(),
        });
    }
    if !model.signing_key {
        return Err(PortalError::CannotSign {
            id: package.id.clone(),
            model: model.name.clone(),
        });
    }
    Ok(())
}
