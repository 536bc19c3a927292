//! The update parts of a scenario: the device's FUMO agent and resources (`[device.fumo]`,
//! `[device.resources]`), and what the mock server hosts for it to download (`[[server.file]]`,
//! `[[server.content_fault]]`).
//!
//! ```toml
//! [device.resources]
//! battery = 80
//! free_storage = "1MiB"
//!
//! [device.fumo]
//! root = "./FUMO/Pkg1"
//!
//! [[server.file]]
//! path = "/fw/update.pkg"
//! package = { to = "FW-1.1.0", size = "8KiB" }
//!
//! [[server.file]]
//! path = "/fw/update.dd"
//! descriptor = { object = "/fw/update.pkg", notify = "/fw/notify" }
//!
//! [[server.content_fault]]
//! path = "/fw/update.pkg"
//! kind = "cut-at"
//! value = 4096
//! attempts = "first"
//! ```
//!
//! A package is built when the scenario runs, signed with the test key, for the device's model
//! and firmware unless it says otherwise; so is a Knox E-FOTA license (`license = { key = "KLM09",
//! expires = "2027-01-01" }`, for the device's id unless `device` says otherwise, `defect =
//! "tampered"` to break its signature). A descriptor describes a hosted file (its `object`) and
//! takes its size, type and hashes from it; any of them can be overridden to make it lie, or
//! omitted to make it invalid. Script data may say `$SERVER` for the server's own origin, e.g. a
//! `PkgURL` of `$SERVER/fw/update.dd`.

use super::error::BuildError;
use super::model::{DeviceSpec, ScenarioFile};
use crate::device::Resources;
use crate::fumo::mo::{Layout, OperationNodes};
use crate::fumo::FumoConfig;
use crate::package::license::{
    build_defective_license, build_license, Date, License, LicenseDefect,
};
use crate::package::{
    self, CertificateSpec, ComponentSpec, Defect, DeliveryDefect, DeliverySpec, PackageSpec,
    TermsSpec,
};
use crate::protocol::download::{Descriptor, HashAlgorithm};
use crate::protocol::fumo::Operation;
use crate::server::{Attempts, ContentConfig, ContentFault, ContentFaultKind, HostedFile};
use serde::{de, Deserialize, Deserializer};
use std::sync::Arc;
use std::time::Duration;

/// The largest package a scenario may have the server build (they are built in memory).
pub const MAX_PACKAGE_SIZE: u64 = 256 << 20;

/// The content type of dmsim firmware packages.
pub const PACKAGE_TYPE: &str = "application/vnd.dmsim.firmware";
/// The Content-Type delivery packages are served with unless the file says otherwise.
pub const DELIVERY_TYPE: &str = "application/vnd.dmsim.delivery";

/// `[device.resources]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResourcesSpec {
    #[serde(deserialize_with = "size")]
    pub free_storage: u64,
    #[serde(deserialize_with = "size")]
    pub free_memory: u64,
    /// Percent.
    pub battery: u8,
    pub roaming: bool,
    pub accepted_types: Vec<String>,
    /// The user has locked the device: an install is refused (`checks.device-locked`).
    pub locked: bool,
    /// The user unlocks the device after the job of this session (counted from 1): a server that
    /// tries again in a later session finds it unlocked. By default a locked device stays locked.
    pub unlock_after_session: Option<u32>,
    /// Services running that an install may not interrupt (`["call"]`): an install is refused
    /// (`checks.services-busy`).
    pub busy_services: Vec<String>,
}

impl Default for ResourcesSpec {
    fn default() -> ResourcesSpec {
        let r = Resources::default();
        ResourcesSpec {
            free_storage: r.free_storage,
            free_memory: r.free_memory,
            battery: r.battery,
            roaming: r.roaming,
            accepted_types: Vec::new(),
            locked: r.locked,
            unlock_after_session: None,
            busy_services: Vec::new(),
        }
    }
}

impl ResourcesSpec {
    pub fn build(&self) -> Result<Resources, BuildError> {
        if self.battery > 100 {
            return Err(BuildError::Battery(self.battery));
        }
        if let Some(n) = self
            .unlock_after_session
            .filter(|&n| n == 0 || !self.locked)
        {
            return Err(BuildError::UnlockAfterSession(n));
        }
        Ok(Resources {
            free_storage: self.free_storage,
            free_memory: self.free_memory,
            battery: self.battery,
            roaming: self.roaming,
            accepted_types: self.accepted_types.clone().into(),
            locked: self.locked,
            busy_services: self.busy_services.clone().into(),
        })
    }
}

/// Who asks for an update at the start of the run: a Generic Alert of type `devicerequest` or
/// `userrequest` in the first session, its Source the FUMO root and its Data (Format `chr`) the
/// firmware version the device runs. The mock server answers 200 when that session's script has
/// packages (it acts now) and 202 otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RequestSpec {
    Device,
    User,
}

/// `[device.fumo]`: the device has a FUMO agent.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FumoSpec {
    pub root: String,
    pub keep_package: bool,
    #[serde(deserialize_with = "operations")]
    pub operations: Vec<Operation>,
    pub request: Option<RequestSpec>,
    /// Where the nodes sit under the root; the standard FUMO layout when not given.
    pub layout: Option<LayoutSpec>,
    /// Ask the user to accept the installation conditions before an install (answers in
    /// `[device.ui] install_conditions`).
    pub ask_install_conditions: bool,
    /// Seconds the installation-conditions prompt waits for an answer.
    pub install_conditions_timeout: u64,
}

/// `[device.fumo.layout]`: the engine's roles at a vendor's own nodes, each a path relative to the
/// root. Only the operations given exist; a role left out has no node.
///
/// ```toml
/// [device.fumo]
/// root = "./Software"
///
/// [device.fumo.layout]
/// download_and_update = { exec = "Operations/DownloadAndInstall", url = "Package/PkgURL" }
/// state = "Status/State"
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayoutSpec {
    #[serde(default, deserialize_with = "relative_opt")]
    pub pkg_name: Option<String>,
    #[serde(default, deserialize_with = "relative_opt")]
    pub pkg_version: Option<String>,
    #[serde(default, deserialize_with = "relative_opt")]
    pub state: Option<String>,
    #[serde(default, deserialize_with = "relative_opt")]
    pub ext: Option<String>,
    pub download: Option<UrlOperationSpec>,
    pub update: Option<DataOperationSpec>,
    pub download_and_update: Option<UrlOperationSpec>,
}

/// An operation that downloads: its Exec node and its `PkgURL`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UrlOperationSpec {
    #[serde(deserialize_with = "relative")]
    pub exec: String,
    #[serde(deserialize_with = "relative")]
    pub url: String,
}

/// The in-band update: its Exec node and its `PkgData`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataOperationSpec {
    #[serde(deserialize_with = "relative")]
    pub exec: String,
    #[serde(deserialize_with = "relative")]
    pub data: String,
}

impl LayoutSpec {
    pub fn layout(&self) -> Layout {
        let url = |operation, spec: &Option<UrlOperationSpec>| {
            spec.as_ref().map(|s| OperationNodes {
                operation,
                exec: s.exec.clone(),
                argument: s.url.clone(),
            })
        };
        let update = self.update.as_ref().map(|s| OperationNodes {
            operation: Operation::Update,
            exec: s.exec.clone(),
            argument: s.data.clone(),
        });
        Layout {
            pkg_name: self.pkg_name.clone(),
            pkg_version: self.pkg_version.clone(),
            operations: [
                url(Operation::Download, &self.download),
                update,
                url(Operation::DownloadAndUpdate, &self.download_and_update),
            ]
            .into_iter()
            .flatten()
            .collect(),
            state: self.state.clone(),
            ext: self.ext.clone(),
        }
    }
}

/// A node path relative to an object's root: segments without `.`/`..`, no leading or trailing
/// `/`.
fn relative<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let path = String::deserialize(d)?;
    let ok = !path.is_empty()
        && path
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..");
    if ok {
        Ok(path)
    } else {
        Err(de::Error::custom(format!(
            "{path:?} is not a node path relative to the root (segments like \"Package/PkgURL\")"
        )))
    }
}

fn relative_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    relative(d).map(Some)
}

impl Default for FumoSpec {
    fn default() -> FumoSpec {
        let config = FumoConfig::new(crate::fumo::mo::DEFAULT_ROOT);
        FumoSpec {
            root: config.root,
            keep_package: config.keep_package,
            operations: config.operations,
            request: None,
            layout: None,
            ask_install_conditions: false,
            install_conditions_timeout: crate::engine::DEFAULT_CONDITIONS_TIMEOUT,
        }
    }
}

impl FumoSpec {
    pub fn config(&self) -> FumoConfig {
        FumoConfig {
            root: self.root.clone(),
            layout: self
                .layout
                .as_ref()
                .map_or_else(Layout::oma, LayoutSpec::layout),
            keep_package: self.keep_package,
            operations: self.operations.clone(),
            install_conditions: conditions_prompt(
                self.ask_install_conditions,
                self.install_conditions_timeout,
            ),
            ..FumoConfig::new(self.root.clone())
        }
    }
}

/// A file the mock server hosts: exactly one of `package`, `delivery`, `license`, `descriptor`,
/// `text`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSpec {
    pub path: String,
    /// The Content-Type it is served with (defaults: packages `application/vnd.dmsim.firmware`,
    /// descriptors `application/vnd.oma.dd+xml`, text `text/plain`).
    #[serde(rename = "type")]
    pub content_type: Option<String>,
    pub package: Option<PackageFileSpec>,
    /// A delivery package of software components (SCOMO), built and signed at run time.
    pub delivery: Option<DeliveryFileSpec>,
    /// A Knox E-FOTA license, built and signed at run time.
    pub license: Option<LicenseFileSpec>,
    pub descriptor: Option<DescriptorSpec>,
    pub text: Option<String>,
}

/// A delivery package to build: `delivery = { pkg_id = "suite-1", components = [{ id = "maps",
/// name = "Maps", version = "2.1", env = "Android", size = "64KiB" }], defect = "corrupt:2" }`,
/// and its terms (format 3): `requires = ["base-1"]`, `devices = ["IMEI:…"]`,
/// `source_version = "SW-1.0.0"`, `valid_until = "2026-01-02T00:00:00Z"`, `certificate = {
/// subject = "acme" }` (`not_before`, `not_after` optional); a component's `sub_device = "pen"`
/// and `certificate`. Times are RFC 3339 UTC texts, dates, or seconds since the Unix epoch.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryFileSpec {
    pub pkg_id: String,
    pub components: Vec<ComponentFileSpec>,
    #[serde(default, deserialize_with = "delivery_defect")]
    pub defect: Option<DeliveryDefect>,
    /// PkgIDs the package requires installed first.
    #[serde(default)]
    pub requires: Vec<String>,
    /// The devices (DevIds) the package is for; empty: any.
    #[serde(default)]
    pub devices: Vec<String>,
    /// The software version (`DevDetail/SwV`) the device must run.
    pub source_version: Option<String>,
    /// The last second the package is valid.
    #[serde(default, deserialize_with = "time_opt")]
    pub valid_until: Option<u64>,
    /// The certificate the package is signed under (issued by the test key).
    pub certificate: Option<CertificateFileSpec>,
}

/// A Knox E-FOTA license to build ([`crate::package::license`]).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicenseFileSpec {
    pub key: String,
    /// The device id it is issued for (default: the device's).
    pub device: Option<String>,
    /// The last day it is valid, `YYYY-MM-DD`.
    #[serde(deserialize_with = "license_date")]
    pub expires: Date,
    #[serde(default, deserialize_with = "license_defect")]
    pub defect: Option<LicenseDefect>,
}

/// The Content-Type licenses are served with unless the file says otherwise.
pub const LICENSE_TYPE: &str = "application/vnd.dmsim.efota-license";

/// One component of a delivery package.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentFileSpec {
    pub id: String,
    /// Default: the id.
    pub name: Option<String>,
    pub version: String,
    /// Its environment type (`Android`, `Linux`, …).
    pub env: String,
    #[serde(default = "default_package_size", deserialize_with = "size")]
    pub size: u64,
    /// The attached peripheral it is for.
    pub sub_device: Option<String>,
    /// The certificate it is signed under on its own.
    pub certificate: Option<CertificateFileSpec>,
}

/// A certificate: its subject, valid from `not_before` (default 2025-01-01) to `not_after`
/// (default 2036-01-01).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateFileSpec {
    pub subject: String,
    #[serde(default, deserialize_with = "time_opt")]
    pub not_before: Option<u64>,
    #[serde(default, deserialize_with = "time_opt")]
    pub not_after: Option<u64>,
}

impl CertificateFileSpec {
    fn spec(&self) -> CertificateSpec {
        let mut spec = CertificateSpec::new(self.subject.as_str());
        if let Some(t) = self.not_before {
            spec.not_before = t;
        }
        if let Some(t) = self.not_after {
            spec.not_after = t;
        }
        spec
    }
}

/// A firmware package to build.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageFileSpec {
    /// The target version.
    pub to: String,
    /// The version it updates (default: the device's firmware).
    pub from: Option<String>,
    /// The model it is for (default: the device's).
    pub model: Option<String>,
    #[serde(default = "default_package_size", deserialize_with = "size")]
    pub size: u64,
    #[serde(default, deserialize_with = "defect")]
    pub defect: Option<Defect>,
}

fn default_package_size() -> u64 {
    4096
}

/// A Download Descriptor for a hosted file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DescriptorSpec {
    /// The object's URI as written in the descriptor (relative to the descriptor or absolute, with
    /// `$SERVER`); its path must be a hosted file unless `size` and `type` are given.
    pub object: String,
    /// `installNotifyURI` (a path here becomes a notify endpoint of the server).
    pub notify: Option<String>,
    /// Override the object's size (a lie, or 0 to make the descriptor invalid).
    pub size: Option<u64>,
    /// Override the object's type(s).
    #[serde(rename = "type")]
    pub types: Option<Vec<String>>,
    #[serde(rename = "dd_version")]
    pub dd_version: Option<String>,
    /// Add `MD5=`/`SHA256=` of the object to `installParam`.
    #[serde(default)]
    pub md5: bool,
    #[serde(default)]
    pub sha256: bool,
    /// Leave required fields out (`type`, `size`, `objectURI`) to make it invalid.
    #[serde(default)]
    pub omit: Vec<String>,
    /// `installParam` pairs for the content handler (e.g. `"ID=maps;VERSION=2.1"`), before any
    /// hash `md5`/`sha256` add.
    pub param: Option<String>,
    pub name: Option<String>,
}

/// A fault on a hosted path.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContentFaultSpec {
    pub path: String,
    pub kind: ContentFaultKindSpec,
    /// The status (`status`), milliseconds (`slow`), byte (`cut-at`, `wrong-content-length`,
    /// `corrupt-byte`) or the request after which the file is updated on the server (`updated`).
    pub value: Option<u64>,
    #[serde(default)]
    pub attempts: AttemptsSpec,
    /// The fault need not change any answer (a scenario that sweeps seeds); by default a fault
    /// that never did fails the scenario.
    #[serde(default)]
    pub optional: bool,
}

impl std::fmt::Display for ContentFaultSpec {
    /// The fault as a scenario writes it, e.g. `path = "/fw/update.pkg", kind = "cut-at", value = 4096`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "path = {:?}, kind = \"{}\"",
            self.path,
            self.kind.as_str()
        )?;
        if let Some(v) = self.value {
            write!(f, ", value = {v}")?;
        }
        if self.attempts == AttemptsSpec::First {
            f.write_str(", attempts = \"first\"")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ContentFaultKindSpec {
    Unauthorized,
    Expired,
    NotFound,
    ServerError,
    Unavailable,
    Status,
    Slow,
    CutAt,
    WrongContentLength,
    CorruptByte,
    Updated,
}

impl ContentFaultKindSpec {
    /// Every kind, in declaration order.
    pub const ALL: &'static [ContentFaultKindSpec] = &[
        ContentFaultKindSpec::Unauthorized,
        ContentFaultKindSpec::Expired,
        ContentFaultKindSpec::NotFound,
        ContentFaultKindSpec::ServerError,
        ContentFaultKindSpec::Unavailable,
        ContentFaultKindSpec::Status,
        ContentFaultKindSpec::Slow,
        ContentFaultKindSpec::CutAt,
        ContentFaultKindSpec::WrongContentLength,
        ContentFaultKindSpec::CorruptByte,
        ContentFaultKindSpec::Updated,
    ];

    /// The name a scenario gives it.
    pub fn as_str(self) -> &'static str {
        match self {
            ContentFaultKindSpec::Unauthorized => "unauthorized",
            ContentFaultKindSpec::Expired => "expired",
            ContentFaultKindSpec::NotFound => "not-found",
            ContentFaultKindSpec::ServerError => "server-error",
            ContentFaultKindSpec::Unavailable => "unavailable",
            ContentFaultKindSpec::Status => "status",
            ContentFaultKindSpec::Slow => "slow",
            ContentFaultKindSpec::CutAt => "cut-at",
            ContentFaultKindSpec::WrongContentLength => "wrong-content-length",
            ContentFaultKindSpec::CorruptByte => "corrupt-byte",
            ContentFaultKindSpec::Updated => "updated",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttemptsSpec {
    First,
    #[default]
    Every,
}

/// The installation-conditions prompt an agent set up with `ask_install_conditions` shows.
pub fn conditions_prompt(ask: bool, timeout: u64) -> Option<crate::engine::ConditionsPrompt> {
    ask.then_some(crate::engine::ConditionsPrompt { timeout })
}

/// The device's FUMO configuration, shared by every device built from the scenario.
pub fn fumo_config(device: &DeviceSpec) -> Option<Arc<FumoConfig>> {
    device.fumo.as_ref().map(|f| Arc::new(f.config()))
}

/// What the scenario's server hosts, with packages built and descriptors written.
pub fn content(file: &ScenarioFile) -> Result<ContentConfig, BuildError> {
    let mut config = ContentConfig::default();
    // Packages and text first: descriptors describe them.
    for spec in &file.server.files {
        let kinds = [
            spec.package.is_some(),
            spec.delivery.is_some(),
            spec.license.is_some(),
            spec.descriptor.is_some(),
            spec.text.is_some(),
        ];
        if kinds.iter().filter(|&&k| k).count() != 1 {
            return Err(BuildError::FileKind {
                path: spec.path.clone(),
            });
        }
        if let Some(p) = &spec.package {
            let bytes = build_package(p, &file.device, file.seed, &spec.path)?;
            let ty = spec.content_type.as_deref().unwrap_or(PACKAGE_TYPE);
            config = config.file(HostedFile::new(spec.path.as_str(), ty, bytes));
        } else if let Some(d) = &spec.delivery {
            let bytes = build_delivery(d, file.seed, &spec.path)?;
            let ty = spec.content_type.as_deref().unwrap_or(DELIVERY_TYPE);
            config = config.file(HostedFile::new(spec.path.as_str(), ty, bytes));
        } else if let Some(l) = &spec.license {
            let license = License {
                key: l.key.clone(),
                device: l
                    .device
                    .clone()
                    .unwrap_or_else(|| file.device.dev_id.clone()),
                expires: l.expires,
            };
            let key = package::test_signing_key();
            let bytes = match l.defect {
                None => build_license(&license, &key),
                Some(defect) => build_defective_license(&license, &key, defect),
            };
            let ty = spec.content_type.as_deref().unwrap_or(LICENSE_TYPE);
            config = config.file(HostedFile::new(spec.path.as_str(), ty, bytes));
        } else if let Some(text) = &spec.text {
            let ty = spec.content_type.as_deref().unwrap_or("text/plain");
            config = config.file(HostedFile::new(
                spec.path.as_str(),
                ty,
                text.clone().into_bytes(),
            ));
        }
    }
    let mut descriptors = Vec::new();
    for spec in &file.server.files {
        let Some(d) = &spec.descriptor else {
            continue;
        };
        let descriptor = descriptor(d, &config, &spec.path)?;
        if let Some(notify) = d.notify.as_deref().filter(|n| n.starts_with('/')) {
            config = config.notify_path(notify);
        }
        let mut hosted = HostedFile::descriptor(spec.path.as_str(), &descriptor);
        if let Some(ty) = &spec.content_type {
            hosted.content_type = ty.clone();
        }
        descriptors.push(hosted);
    }
    for hosted in descriptors {
        config = config.file(hosted);
    }
    for f in &file.server.content_faults {
        config = config.fault(content_fault(f)?);
    }
    Ok(config)
}

/// The package `p` describes, hosted at `path`.
fn build_package(
    p: &PackageFileSpec,
    device: &DeviceSpec,
    seed: u64,
    path: &str,
) -> Result<Vec<u8>, BuildError> {
    if p.size > MAX_PACKAGE_SIZE {
        return Err(BuildError::PackageTooLarge {
            path: path.to_string(),
            size: p.size,
        });
    }
    let spec = PackageSpec::new(
        p.model.as_deref().unwrap_or(&device.model),
        p.from.as_deref().unwrap_or(&device.firmware),
        p.to.as_str(),
        p.size,
    )
    .map_err(|error| BuildError::Package {
        path: path.to_string(),
        error,
    })?
    .with_seed(seed);
    let key = package::test_signing_key();
    Ok(match p.defect {
        None => package::build(&spec, &key),
        Some(defect) => package::build_defective(&spec, &key, defect),
    })
}

/// The delivery package `d` describes, hosted at `path`.
fn build_delivery(d: &DeliveryFileSpec, seed: u64, path: &str) -> Result<Vec<u8>, BuildError> {
    let error = |error| BuildError::Package {
        path: path.to_string(),
        error,
    };
    let total = d
        .components
        .iter()
        .try_fold(0u64, |sum, c| sum.checked_add(c.size))
        .unwrap_or(u64::MAX);
    if total > MAX_PACKAGE_SIZE {
        return Err(BuildError::PackageTooLarge {
            path: path.to_string(),
            size: total,
        });
    }
    let components = d
        .components
        .iter()
        .map(|c| {
            let name = c.name.as_deref().unwrap_or(&c.id);
            let mut spec = ComponentSpec::new(&c.id, name, &c.version, &c.env, c.size)?;
            if let Some(sub_device) = &c.sub_device {
                spec = spec.with_sub_device(sub_device.as_str())?;
            }
            if let Some(cert) = &c.certificate {
                spec = spec.with_certificate(cert.spec())?;
            }
            Ok(spec)
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(error)?;
    let terms = TermsSpec {
        requires: d.requires.clone(),
        devices: d.devices.clone(),
        source_version: d.source_version.clone(),
        valid_until: d.valid_until,
        certificate: d.certificate.as_ref().map(CertificateFileSpec::spec),
    };
    let spec = DeliverySpec::new(&d.pkg_id, components)
        .and_then(|s| s.with_terms(terms))
        .map_err(error)?
        .with_seed(seed);
    let key = package::test_signing_key();
    match d.defect {
        None => Ok(package::build_delivery(&spec, &key)),
        Some(defect) => package::build_defective_delivery(&spec, &key, defect).map_err(error),
    }
}

fn descriptor(
    d: &DescriptorSpec,
    hosted: &ContentConfig,
    path: &str,
) -> Result<Descriptor, BuildError> {
    let object = hosted.hosted_file(&object_path(&d.object, path));
    let (size, types) = match (object, d.size, &d.types) {
        (_, Some(size), Some(types)) => (size, types.clone()),
        (Some(o), size, types) => (
            size.unwrap_or(o.body.len() as u64),
            types
                .clone()
                .unwrap_or_else(|| vec![o.content_type.clone()]),
        ),
        (None, _, _) => {
            return Err(BuildError::DescriptorObject {
                path: path.to_string(),
                object: d.object.clone(),
            })
        }
    };
    let mut descriptor = Descriptor::new(d.object.as_str(), "", size);
    descriptor.types = types;
    descriptor.dd_version = d.dd_version.clone();
    descriptor.name = d.name.clone();
    descriptor.install_param = d.param.clone().filter(|p| !p.is_empty());
    if let Some(notify) = &d.notify {
        descriptor = descriptor.with_install_notify(notify.as_str());
    }
    if let Some(o) = object {
        if d.md5 {
            descriptor = descriptor.with_hash(HashAlgorithm::Md5, &o.body);
        }
        if d.sha256 {
            descriptor = descriptor.with_hash(HashAlgorithm::Sha256, &o.body);
        }
    }
    for field in &d.omit {
        match field.as_str() {
            "type" => descriptor.types.clear(),
            "size" => descriptor.size = 0,
            "objectURI" => descriptor.object_uri.clear(),
            other => {
                return Err(BuildError::DescriptorOmit {
                    path: path.to_string(),
                    field: other.to_string(),
                })
            }
        }
    }
    Ok(descriptor)
}

/// The path of an object URI as written in the descriptor at `base` (`$SERVER/x`, `http://h/x`,
/// `/x`, or `x` relative to the descriptor's directory).
fn object_path(uri: &str, base: &str) -> String {
    let rest = uri.strip_prefix("$SERVER").unwrap_or(uri);
    let rest = match rest.split_once("://") {
        Some((_, after)) => after.find('/').map_or("/", |i| &after[i..]),
        None => rest,
    };
    let path = rest.split(['?', '#']).next().unwrap_or("");
    if path.starts_with('/') {
        return path.to_string();
    }
    let dir = base.rsplit_once('/').map_or("", |(dir, _)| dir);
    format!("{}/{path}", dir.trim_end_matches('/'))
}

fn content_fault(f: &ContentFaultSpec) -> Result<ContentFault, BuildError> {
    let need = |needs: &'static str| {
        f.value.ok_or_else(|| BuildError::FaultValue {
            path: f.path.clone(),
            kind: f.kind,
            needs,
        })
    };
    use ContentFaultKindSpec as K;
    let kind = match f.kind {
        K::Unauthorized => ContentFaultKind::Unauthorized,
        K::Expired => ContentFaultKind::Expired,
        K::NotFound => ContentFaultKind::NotFound,
        K::ServerError => ContentFaultKind::ServerError,
        K::Unavailable => ContentFaultKind::Unavailable,
        K::Status => {
            let status = need("the HTTP status")?;
            ContentFaultKind::Status(u16::try_from(status).map_err(|_| {
                BuildError::FaultStatus {
                    path: f.path.clone(),
                    status,
                }
            })?)
        }
        K::Slow => ContentFaultKind::Slow(Duration::from_millis(need("milliseconds")?)),
        K::CutAt => ContentFaultKind::CutAt(need("the byte")?),
        K::WrongContentLength => ContentFaultKind::WrongContentLength(need("the length")?),
        K::CorruptByte => ContentFaultKind::CorruptByte(need("the byte")?),
        K::Updated => {
            let after = need("the request after which the file is updated, 1 or more")?;
            match u32::try_from(after) {
                Ok(n) if n >= 1 && f.attempts == AttemptsSpec::Every => {
                    ContentFaultKind::UpdatedAfter(n)
                }
                _ => {
                    return Err(BuildError::FaultUpdated {
                        path: f.path.clone(),
                        value: after,
                    })
                }
            }
        }
    };
    Ok(ContentFault {
        path: f.path.clone(),
        kind,
        attempts: match f.attempts {
            AttemptsSpec::First => Attempts::First,
            AttemptsSpec::Every => Attempts::Every,
        },
    })
}

/// A size: a number of bytes, or text such as `"64KiB"`.
pub(super) fn size<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Bytes(u64),
        Text(String),
    }
    match Raw::deserialize(d)? {
        Raw::Bytes(n) => Ok(n),
        Raw::Text(t) => package::parse_size(&t).map_err(de::Error::custom),
    }
}

/// A point in time: seconds since the Unix epoch, or a text [`package::time::parse_time`] reads.
fn time_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Secs(u64),
        Text(String),
    }
    match Raw::deserialize(d)? {
        Raw::Secs(n) => Ok(Some(n)),
        Raw::Text(t) => package::time::parse_time(&t)
            .map(Some)
            .map_err(de::Error::custom),
    }
}

fn defect<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Defect>, D::Error> {
    String::deserialize(d)?
        .parse()
        .map(Some)
        .map_err(de::Error::custom)
}

fn license_date<'de, D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
    let text = String::deserialize(d)?;
    Date::parse(&text)
        .ok_or_else(|| de::Error::custom(format!("{text:?} is not a day, YYYY-MM-DD from 1970 on")))
}

fn license_defect<'de, D: Deserializer<'de>>(d: D) -> Result<Option<LicenseDefect>, D::Error> {
    let text = String::deserialize(d)?;
    LicenseDefect::parse(&text)
        .map(Some)
        .ok_or_else(|| de::Error::custom(format!("unknown license defect {text:?} (tampered)")))
}

fn delivery_defect<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DeliveryDefect>, D::Error> {
    String::deserialize(d)?
        .parse()
        .map(Some)
        .map_err(de::Error::custom)
}

fn operations<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Operation>, D::Error> {
    Vec::<String>::deserialize(d)?
        .iter()
        .map(|name| {
            Operation::from_node(name).ok_or_else(|| {
                de::Error::custom(format!(
                    "unknown FUMO operation {name:?}; known: Download, Update, DownloadAndUpdate"
                ))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(text: &str) -> ScenarioFile {
        crate::scenario::load::parse(std::path::Path::new("s.toml"), text)
            .expect("valid")
            .file
    }

    #[test]
    fn impossible_values_are_refused_with_their_key() {
        let file = scenario(
            "name = \"x\"\n[[server.file]]\npath = \"/a\"\npackage = { to = \"2\", size = \"2GiB\" }\n",
        );
        let e = content(&file).expect_err("too large");
        assert!(
            matches!(&e, BuildError::PackageTooLarge { path, size } if path == "/a" && *size == 2 << 30),
            "{e}"
        );
        assert!(e
            .to_string()
            .starts_with("server.file \"/a\": a 2147483648-byte package is larger"));
        let file = scenario("name = \"x\"\n[device.resources]\nbattery = 150\n");
        let e = file.device.resources.build().expect_err("over 100%");
        assert_eq!(e, BuildError::Battery(150));
        let file = scenario(
            "name = \"x\"\n[[server.file]]\npath = \"/d\"\ndescriptor = { object = \"/nothing\" }\n",
        );
        let e = content(&file).expect_err("object not hosted");
        assert!(
            matches!(&e, BuildError::DescriptorObject { path, object } if path == "/d" && object == "/nothing"),
            "{e}"
        );
        let file = scenario(
            "name = \"x\"\n[[server.file]]\npath = \"/d\"\ntext = \"t\"\npackage = { to = \"2\" }\n",
        );
        let e = content(&file).expect_err("two kinds");
        assert!(
            matches!(&e, BuildError::FileKind { path } if path == "/d"),
            "{e}"
        );
        let file =
            scenario("name = \"x\"\n[[server.content_fault]]\npath = \"/a\"\nkind = \"cut-at\"\n");
        let e = content(&file).expect_err("no value");
        assert!(
            matches!(
                &e,
                BuildError::FaultValue {
                    kind: ContentFaultKindSpec::CutAt,
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn object_paths() {
        assert_eq!(object_path("$SERVER/fw/a.pkg", "/x.dd"), "/fw/a.pkg");
        assert_eq!(
            object_path("https://h:8/fw/a.pkg?x=1", "/x.dd"),
            "/fw/a.pkg"
        );
        assert_eq!(object_path("a.pkg", "/fw/x.dd"), "/fw/a.pkg");
        assert_eq!(object_path("a.pkg", "x.dd"), "/a.pkg");
        assert_eq!(object_path("http://h", "/x.dd"), "/");
    }

    /// A license is built for the device's id unless told otherwise, signed with the test key
    /// (or tampered with), and served as a license; `updated` needs a request number and every
    /// request.
    #[test]
    fn licenses_are_built_for_the_device_and_updated_faults_are_checked() {
        use crate::package::license::{verify_license, LicenseError};
        let file = scenario(
            "name = \"x\"\n[device]\ndev_id = \"IMEI:1\"\n[[server.file]]\npath = \"/l\"\nlicense = { key = \"K-1\", expires = \"2027-01-01\" }\n[[server.file]]\npath = \"/t\"\nlicense = { key = \"K-1\", device = \"IMEI:2\", expires = \"2027-01-01\", defect = \"tampered\" }\n[[server.file]]\npath = \"/d\"\ndescriptor = { object = \"/l\", param = \"ID=x;VERSION=2\", md5 = true }\n",
        );
        let config = content(&file).expect("builds");
        let trusted = package::test_signing_key().verifying_key();
        let hosted = config.hosted_file("/l").expect("hosted");
        assert_eq!(hosted.content_type, LICENSE_TYPE);
        let license = verify_license(&hosted.body, &trusted).expect("valid");
        assert_eq!(
            (license.key.as_str(), license.device.as_str()),
            ("K-1", "IMEI:1")
        );
        let tampered = &config.hosted_file("/t").expect("hosted").body;
        assert_eq!(
            verify_license(tampered, &trusted),
            Err(LicenseError::BadSignature)
        );
        let dd = Descriptor::parse(&config.hosted_file("/d").expect("hosted").body).expect("DD");
        let param = dd.install_param.expect("installParam");
        assert!(param.starts_with("ID=x;VERSION=2;MD5="), "{param}");
        for bad in [
            "expires = \"2027-13-01\"",
            "expires = \"2027-01-01\", defect = \"nope\"",
        ] {
            let text = format!("name = \"x\"\n[[server.file]]\npath = \"/l\"\nlicense = {{ key = \"K\", {bad} }}\n");
            assert!(
                crate::scenario::load::parse(std::path::Path::new("s.toml"), &text).is_err(),
                "{bad}"
            );
        }
        let fault = |extra: &str| {
            content(&scenario(&format!(
                "name = \"x\"\n[[server.content_fault]]\npath = \"/a\"\nkind = \"updated\"\n{extra}"
            )))
        };
        assert!(fault("value = 1\n").is_ok());
        for bad in [
            "value = 0\n",
            "value = 1\nattempts = \"first\"\n",
            "value = 9999999999\n",
        ] {
            assert!(
                matches!(fault(bad), Err(BuildError::FaultUpdated { .. })),
                "{bad}"
            );
        }
        assert!(matches!(fault(""), Err(BuildError::FaultValue { .. })));
    }

    /// A delivery package a scenario describes is built, signed with the test key and hosted; a
    /// defect breaks the component it names; sizes and specs a package cannot have are refused.
    #[test]
    fn delivery_packages_are_built_hosted_and_checked() {
        let text = |extra: &str| {
            format!(
                "name = \"x\"\n[[server.file]]\npath = \"/sw/suite.pkg\"\ndelivery = {{ \
                 pkg_id = \"suite-1\", components = [\
                 {{ id = \"maps\", version = \"2.1\", env = \"Android\", size = \"2KiB\" }}, \
                 {{ id = \"agent\", name = \"Agent\", version = \"1.4\", env = \"Linux\" }}]{extra} }}\n"
            )
        };
        let config = content(&scenario(&text(""))).expect("builds");
        let hosted = config.hosted_file("/sw/suite.pkg").expect("hosted");
        assert_eq!(hosted.content_type, DELIVERY_TYPE);
        let device = package::DeliveryDevice {
            env_types: &["Android".to_string(), "Linux".to_string()],
            free_memory: u64::MAX,
            ..package::DeliveryDevice::default()
        };
        let trusted = package::test_signing_key().verifying_key();
        let verified =
            package::inspect_delivery(&hosted.body, &trusted, &device).expect("a valid package");
        assert_eq!(verified.pkg_id, "suite-1");
        let ids: Vec<(&str, &str, u64)> = verified
            .components
            .iter()
            .map(|c| {
                (
                    c.header.id.as_str(),
                    c.header.name.as_str(),
                    c.payload.len() as u64,
                )
            })
            .collect();
        assert_eq!(ids, [("maps", "maps", 2048), ("agent", "Agent", 4096)]);

        let broken = content(&scenario(&text(", defect = \"corrupt:2\""))).expect("builds");
        let body = &broken.hosted_file("/sw/suite.pkg").expect("hosted").body;
        let err = package::inspect_delivery(body, &trusted, &device).expect_err("corrupt");
        assert_eq!(err.cause(), crate::outcome::Cause::PackageCorrupt);

        let e = content(&scenario(&text(", defect = \"corrupt:3\""))).expect_err("no such part");
        assert!(
            matches!(&e, BuildError::Package { path, .. } if path == "/sw/suite.pkg"),
            "{e}"
        );
        // Terms make a format 3 package, each read back by the device; times read as dates.
        let terms = text(
            ", requires = [\"base\"], devices = [\"IMEI:1\"], source_version = \"SW-1\", \
             valid_until = \"2026-01-02\", certificate = { subject = \"acme\", not_after = 2000000000 }",
        )
        .replace(
            "size = \"2KiB\" }",
            "size = \"2KiB\", sub_device = \"dock\", certificate = { subject = \"v\" } }",
        );
        let config = content(&scenario(&terms)).expect("builds");
        let body = &config.hosted_file("/sw/suite.pkg").expect("hosted").body;
        assert_eq!(body[9], 3);
        let p = package::verify_delivery(body, &trusted, package::CLOCK_START).expect("valid");
        assert_eq!(p.terms.requires, ["base"]);
        assert_eq!(p.terms.devices, ["IMEI:1"]);
        assert_eq!(p.terms.source_version.as_deref(), Some("SW-1"));
        assert_eq!(p.terms.valid_until, Some(package::CLOCK_START + 86_400));
        let cert = p.terms.certificate.as_ref().expect("a certificate");
        assert_eq!(
            (cert.subject.as_str(), cert.not_after),
            ("acme", 2_000_000_000)
        );
        let maps = &p.components[0].terms;
        assert_eq!(maps.sub_device.as_deref(), Some("dock"));
        assert_eq!(
            maps.certificate.as_ref().map(|c| c.subject.as_str()),
            Some("v")
        );
        let e = crate::scenario::load::parse(
            std::path::Path::new("s.toml"),
            &text(", valid_until = \"yesterday\""),
        )
        .map(drop)
        .expect_err("not a time");
        assert!(e.to_string().contains("invalid time"), "{e}");
        let huge = text("").replace("\"2KiB\"", "\"300MiB\"");
        let e = content(&scenario(&huge)).expect_err("too large");
        assert!(matches!(e, BuildError::PackageTooLarge { .. }), "{e}");
        let both = text("").replace("delivery =", "text = \"x\"\ndelivery =");
        let e = content(&scenario(&both)).expect_err("two kinds");
        assert!(
            e.to_string().contains("exactly one of package, delivery"),
            "{e}"
        );
    }
}
