//! Delivery packages (format versions 2 and 3, see the byte layouts in the
//! [module docs](super)): software components for SCOMO, each with its own id, name, version,
//! environment type and payload, under one signature; version 3 adds the package's terms (what it
//! requires, the devices and software version it is for, how long it is valid, the certificate it
//! is signed under: [`super::terms`]) and its components' (a sub-device, a certificate), and carries
//! each payload as a record named by its component. The builder makes good and deliberately broken
//! packages ([`build`]); the device side reads the structure, verifies the signature before it
//! believes anything, checks every payload ([`read`]), then what the device offers
//! ([`checks`]), and returns where each component's payload lies (no copies).

mod build;
mod checks;
mod read;

pub use build::{build_defective_delivery, build_delivery, component_payload};
pub use checks::{
    check_asked_versions, check_delivery_memory, check_downgrade, check_environments,
    check_install_storage, check_prerequisites, check_target, check_validity, inspect_delivery,
    missing_sub_device, AskedVersions,
};
pub use read::{parse_delivery, verify_delivery};

use super::cert::CertificateSpec;
use super::terms::{ComponentTerms, PackageTerms};
use super::{hex32, hexvec, parse_size, Field, SpecError, MAX_TEXT_LEN, SIGNATURE_LEN};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fmt;
use std::ops::Range;

/// The format version of delivery packages without terms (the builder writes it when a package
/// uses nothing of version 3, so the packages of earlier releases are built byte for byte the
/// same).
pub const DELIVERY_FORMAT_VERSION: u16 = 2;
/// The format version of delivery packages with terms and payload records.
pub const DELIVERY_FORMAT_VERSION_3: u16 = 3;
/// Most components one delivery package carries.
pub const MAX_COMPONENTS: usize = 64;
/// Largest attribute block, in bytes (its length is two bytes).
pub const MAX_ATTRIBUTES_LEN: usize = u16::MAX as usize;

/// One component to build: `size` bytes of payload for an environment of type `env_type`, and
/// optionally the sub-device it is for and the certificate it is signed under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentSpec {
    id: String,
    name: String,
    version: String,
    env_type: String,
    size: u64,
    sub_device: Option<String>,
    certificate: Option<CertificateSpec>,
}

fn check_text(field: Field, text: &str) -> Result<(), SpecError> {
    if text.is_empty() || text.len() > MAX_TEXT_LEN {
        return Err(SpecError::TextLength {
            field,
            len: text.len(),
        });
    }
    Ok(())
}

fn check_certificate(spec: &CertificateSpec) -> Result<(), SpecError> {
    check_text(Field::Subject, &spec.subject)?;
    if spec.not_before > spec.not_after {
        return Err(SpecError::CertificateDates {
            subject: spec.subject.clone(),
        });
    }
    Ok(())
}

impl ComponentSpec {
    /// A component; texts must be 1 to 255 bytes, the size at least 1 byte.
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        version: impl Into<String>,
        env_type: impl Into<String>,
        size: u64,
    ) -> Result<ComponentSpec, SpecError> {
        let spec = ComponentSpec {
            id: id.into(),
            name: name.into(),
            version: version.into(),
            env_type: env_type.into(),
            size,
            sub_device: None,
            certificate: None,
        };
        check_text(Field::ComponentId, &spec.id)?;
        check_text(Field::ComponentName, &spec.name)?;
        check_text(Field::ComponentVersion, &spec.version)?;
        check_text(Field::EnvironmentType, &spec.env_type)?;
        if size == 0 {
            return Err(SpecError::EmptyPayload);
        }
        if usize::try_from(size).is_err() {
            return Err(SpecError::TooLarge(size));
        }
        Ok(spec)
    }

    /// The same component, for the attached peripheral `sub_device` (a format 3 package).
    pub fn with_sub_device(mut self, sub_device: impl Into<String>) -> Result<Self, SpecError> {
        let sub_device = sub_device.into();
        check_text(Field::SubDevice, &sub_device)?;
        self.sub_device = Some(sub_device);
        Ok(self)
    }

    /// The same component, signed on its own under `certificate` (a format 3 package).
    pub fn with_certificate(mut self, certificate: CertificateSpec) -> Result<Self, SpecError> {
        check_certificate(&certificate)?;
        self.certificate = Some(certificate);
        Ok(self)
    }

    pub fn id(&self) -> &str {
        &self.id
    }
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn version(&self) -> &str {
        &self.version
    }
    pub fn env_type(&self) -> &str {
        &self.env_type
    }
    /// Payload size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }
    pub fn sub_device(&self) -> Option<&str> {
        self.sub_device.as_deref()
    }
    pub fn certificate(&self) -> Option<&CertificateSpec> {
        self.certificate.as_ref()
    }

    /// Whether it needs format 3.
    fn has_terms(&self) -> bool {
        self.sub_device.is_some() || self.certificate.is_some()
    }
}

/// `id:name:version:env:size`, as `dmsim package --component` takes it (the size with an optional
/// unit, as [`parse_size`] reads it; no field may contain a colon).
impl std::str::FromStr for ComponentSpec {
    type Err = SpecError;

    fn from_str(text: &str) -> Result<ComponentSpec, SpecError> {
        let err = |reason: String| SpecError::ComponentText {
            text: text.to_string(),
            reason,
        };
        let parts: Vec<&str> = text.split(':').collect();
        let [id, name, version, env_type, size] = parts[..] else {
            return Err(err(format!(
                "expected id:name:version:env:size, 5 fields separated by colons, not {}",
                parts.len()
            )));
        };
        let size = parse_size(size).map_err(|e| err(e.to_string()))?;
        ComponentSpec::new(id, name, version, env_type, size).map_err(|e| err(e.to_string()))
    }
}

/// The terms a package is built with (see [`super::terms`] for what each means to a device).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TermsSpec {
    /// PkgIDs that must be installed first.
    pub requires: Vec<String>,
    /// The devices (DevIds) it is for; empty: any.
    pub devices: Vec<String>,
    /// The software version the device must run (`DevDetail/SwV`).
    pub source_version: Option<String>,
    /// The last second it is valid (seconds since the Unix epoch, UTC).
    pub valid_until: Option<u64>,
    /// The certificate it is signed under (issued by the signing key, which then signs only the
    /// certificate).
    pub certificate: Option<CertificateSpec>,
}

impl TermsSpec {
    fn is_empty(&self) -> bool {
        *self == TermsSpec::default()
    }

    fn check(&self) -> Result<(), SpecError> {
        for id in &self.requires {
            check_text(Field::PackageId, id)?;
        }
        for dev_id in &self.devices {
            check_text(Field::DeviceId, dev_id)?;
        }
        if let Some(version) = &self.source_version {
            check_text(Field::SourceVersion, version)?;
        }
        if let Some(certificate) = &self.certificate {
            check_certificate(certificate)?;
        }
        Ok(())
    }
}

/// What to build: the delivery package `pkg_id` with its components and terms, the payloads
/// generated from `seed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliverySpec {
    pkg_id: String,
    components: Vec<ComponentSpec>,
    seed: u64,
    terms: TermsSpec,
}

impl DeliverySpec {
    /// A spec with seed 0 and no terms: 1 to [`MAX_COMPONENTS`] components with distinct ids,
    /// whose payloads fit in memory together.
    pub fn new(
        pkg_id: impl Into<String>,
        components: Vec<ComponentSpec>,
    ) -> Result<DeliverySpec, SpecError> {
        let spec = DeliverySpec {
            pkg_id: pkg_id.into(),
            components,
            seed: 0,
            terms: TermsSpec::default(),
        };
        check_text(Field::PackageId, &spec.pkg_id)?;
        if spec.components.is_empty() || spec.components.len() > MAX_COMPONENTS {
            return Err(SpecError::ComponentCount(spec.components.len()));
        }
        let mut ids = HashSet::new();
        for c in &spec.components {
            if !ids.insert(c.id.as_str()) {
                return Err(SpecError::DuplicateComponent(c.id.clone()));
            }
        }
        build::check_size(&spec)?;
        Ok(spec)
    }

    /// The same spec with another payload seed.
    pub fn with_seed(mut self, seed: u64) -> DeliverySpec {
        self.seed = seed;
        self
    }

    /// The same spec with `terms` (a format 3 package, unless the terms are empty).
    pub fn with_terms(mut self, terms: TermsSpec) -> Result<DeliverySpec, SpecError> {
        terms.check()?;
        self.terms = terms;
        build::check_size(&self)?;
        Ok(self)
    }

    pub fn pkg_id(&self) -> &str {
        &self.pkg_id
    }
    pub fn components(&self) -> &[ComponentSpec] {
        &self.components
    }
    pub fn terms(&self) -> &TermsSpec {
        &self.terms
    }
    /// Seed of the payloads' pseudo-random bytes.
    pub fn seed(&self) -> u64 {
        self.seed
    }
    /// The payloads' total size in bytes (checked by [`DeliverySpec::new`] not to overflow).
    pub fn total_size(&self) -> u64 {
        self.components.iter().map(|c| c.size).sum()
    }

    /// The format version the builder writes for it: 3 when it has terms, 2 otherwise.
    pub fn format(&self) -> u16 {
        if self.terms.is_empty() && !self.components.iter().any(ComponentSpec::has_terms) {
            DELIVERY_FORMAT_VERSION
        } else {
            DELIVERY_FORMAT_VERSION_3
        }
    }

    /// The index of component `number` (counted from 1), or why there is none.
    fn index(&self, number: usize) -> Result<usize, SpecError> {
        let count = self.components.len();
        match number.checked_sub(1) {
            Some(index) if index < count => Ok(index),
            _ => Err(SpecError::NoSuchComponent { number, count }),
        }
    }
}

/// A deliberately broken delivery package, one per way a device must refuse it. Components are
/// counted from 1, as [`DeliveryDefect::parse`] reads them and `dmsim package --inspect` lists
/// them. The defects of format 3 (`missing-payload`, `unknown-attribute` and the certificate
/// ones) build a format 3 package whatever the spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryDefect {
    /// One byte of component `k`'s payload flipped: its hash does not match (402).
    Corrupt(usize),
    /// Cut in the middle of the last component's payload (402).
    Truncated,
    /// The first byte of the magic changed (402).
    BadMagic,
    /// The header says 65 components, more than a delivery package may hold (402).
    TooManyComponents,
    /// Correctly signed, but two components have the same id (402): the last one takes the first
    /// one's id, or, in a package of one component, the component is listed twice.
    DuplicateId,
    /// Correctly signed, but component `k` claims a payload of 2^64 - 1 bytes (402).
    HugeLength(usize),
    /// Signed with a key the device does not trust (404).
    BadSignature,
    /// A header byte (in the last component's payload hash) changed after signing (404).
    TamperedHeader,
    /// Correctly signed, but component `k` needs an environment type that is not the spec's
    /// (`<env>-OTHER`): unsupported by a device that supports the spec's types (SCOMO 1413).
    UnsupportedEnvironment(usize),
    /// Correctly signed, but component `k`'s payload is left out of the package: its manifest
    /// lists a file the package does not have (the format is invalid: Knox -1458).
    MissingPayload(usize),
    /// Correctly signed, but the package's terms carry an attribute of a kind no device knows
    /// (the format is invalid: Knox -1458).
    UnknownAttribute,
    /// Signed under a certificate the device's trust anchor did not issue (Knox -1470); the
    /// spec's certificate, or one of subject `dmsim-signer`.
    CertificateUntrusted,
    /// Signed under a certificate that expired before a simulated device's clock starts (Knox
    /// -1471).
    CertificateExpired,
    /// Component `k` signed under a certificate the trust anchor did not issue (Knox -1470).
    ComponentCertificateUntrusted(usize),
    /// Component `k` signed under an expired certificate (Knox -1471).
    ComponentCertificateExpired(usize),
}

impl DeliveryDefect {
    /// The names [`DeliveryDefect::parse`] knows; `:K` marks those that take a component number
    /// (1 when omitted).
    pub const NAMES: &'static [&'static str] = &[
        "corrupt[:K]",
        "truncated",
        "bad-magic",
        "too-many-components",
        "duplicate-id",
        "huge-length[:K]",
        "bad-signature",
        "tampered-header",
        "unsupported-env[:K]",
        "missing-payload[:K]",
        "unknown-attribute",
        "cert-untrusted",
        "cert-expired",
        "component-cert-untrusted[:K]",
        "component-cert-expired[:K]",
    ];

    /// Look a defect up by its name: `truncated`, `corrupt:2` (component 2), `corrupt`
    /// (component 1).
    pub fn parse(text: &str) -> Option<DeliveryDefect> {
        let (name, number) = match text.split_once(':') {
            Some((name, k)) => {
                // Digits only: `+2` and ` 2` are not component numbers.
                if k.is_empty() || !k.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                (name, Some(k.parse::<usize>().ok().filter(|&k| k >= 1)?))
            }
            None => (text, None),
        };
        let k = number.unwrap_or(1);
        let plain = |d: DeliveryDefect| number.is_none().then_some(d);
        match name {
            "corrupt" => Some(DeliveryDefect::Corrupt(k)),
            "huge-length" => Some(DeliveryDefect::HugeLength(k)),
            "unsupported-env" => Some(DeliveryDefect::UnsupportedEnvironment(k)),
            "missing-payload" => Some(DeliveryDefect::MissingPayload(k)),
            "component-cert-untrusted" => Some(DeliveryDefect::ComponentCertificateUntrusted(k)),
            "component-cert-expired" => Some(DeliveryDefect::ComponentCertificateExpired(k)),
            "truncated" => plain(DeliveryDefect::Truncated),
            "bad-magic" => plain(DeliveryDefect::BadMagic),
            "too-many-components" => plain(DeliveryDefect::TooManyComponents),
            "duplicate-id" => plain(DeliveryDefect::DuplicateId),
            "bad-signature" => plain(DeliveryDefect::BadSignature),
            "tampered-header" => plain(DeliveryDefect::TamperedHeader),
            "unknown-attribute" => plain(DeliveryDefect::UnknownAttribute),
            "cert-untrusted" => plain(DeliveryDefect::CertificateUntrusted),
            "cert-expired" => plain(DeliveryDefect::CertificateExpired),
            _ => None,
        }
    }

    /// Why a device refuses a package with this defect (when it supports the spec's environment
    /// types and has the memory, and its clock is between 2025-01-01 and 2036-01-01, where the
    /// certificates the builder issues are valid); its profile gives the code.
    pub fn cause(self) -> crate::outcome::Cause {
        use crate::outcome::Cause;
        match self {
            DeliveryDefect::Corrupt(_)
            | DeliveryDefect::Truncated
            | DeliveryDefect::BadMagic
            | DeliveryDefect::TooManyComponents
            | DeliveryDefect::DuplicateId
            | DeliveryDefect::HugeLength(_) => Cause::PackageCorrupt,
            DeliveryDefect::BadSignature | DeliveryDefect::TamperedHeader => {
                Cause::SignatureInvalid
            }
            DeliveryDefect::UnsupportedEnvironment(_) => Cause::UnsupportedEnvironment,
            DeliveryDefect::MissingPayload(_) | DeliveryDefect::UnknownAttribute => {
                Cause::InvalidFormat
            }
            DeliveryDefect::CertificateUntrusted
            | DeliveryDefect::ComponentCertificateUntrusted(_) => Cause::CertificateInvalid,
            DeliveryDefect::CertificateExpired | DeliveryDefect::ComponentCertificateExpired(_) => {
                Cause::CertificateExpired
            }
        }
    }
}

impl std::str::FromStr for DeliveryDefect {
    type Err = String;

    /// A defect by name; the error lists the known names.
    fn from_str(text: &str) -> Result<DeliveryDefect, String> {
        DeliveryDefect::parse(text).ok_or_else(|| {
            format!(
                "unknown delivery defect {text:?}; known: {} (K: a component number from 1)",
                DeliveryDefect::NAMES.join(", ")
            )
        })
    }
}

impl fmt::Display for DeliveryDefect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeliveryDefect::Corrupt(k) => write!(f, "corrupt:{k}"),
            DeliveryDefect::Truncated => f.write_str("truncated"),
            DeliveryDefect::BadMagic => f.write_str("bad-magic"),
            DeliveryDefect::TooManyComponents => f.write_str("too-many-components"),
            DeliveryDefect::DuplicateId => f.write_str("duplicate-id"),
            DeliveryDefect::HugeLength(k) => write!(f, "huge-length:{k}"),
            DeliveryDefect::BadSignature => f.write_str("bad-signature"),
            DeliveryDefect::TamperedHeader => f.write_str("tampered-header"),
            DeliveryDefect::UnsupportedEnvironment(k) => write!(f, "unsupported-env:{k}"),
            DeliveryDefect::MissingPayload(k) => write!(f, "missing-payload:{k}"),
            DeliveryDefect::UnknownAttribute => f.write_str("unknown-attribute"),
            DeliveryDefect::CertificateUntrusted => f.write_str("cert-untrusted"),
            DeliveryDefect::CertificateExpired => f.write_str("cert-expired"),
            DeliveryDefect::ComponentCertificateUntrusted(k) => {
                write!(f, "component-cert-untrusted:{k}")
            }
            DeliveryDefect::ComponentCertificateExpired(k) => {
                write!(f, "component-cert-expired:{k}")
            }
        }
    }
}

/// One component's entry in a delivery package's header, as read (before or after verification).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentHeader {
    pub id: String,
    pub name: String,
    pub version: String,
    pub env_type: String,
    pub payload_len: u64,
    #[serde(with = "hex32")]
    pub payload_hash: [u8; 32],
    /// Its attribute block (format 3; empty in format 2), as read.
    #[serde(default, skip_serializing_if = "Vec::is_empty", with = "hexvec")]
    pub attributes: Vec<u8>,
}

/// The header of a delivery package, as read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryHeader {
    pub pkg_id: String,
    pub components: Vec<ComponentHeader>,
    /// The package's attribute block (format 3; empty in format 2), as read.
    #[serde(default, skip_serializing_if = "Vec::is_empty", with = "hexvec")]
    pub attributes: Vec<u8>,
    /// Format 3: the length of the payload records together, as the header declares it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payloads_len: Option<u64>,
}

/// A delivery package as parsed, before any check beyond its structure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedDelivery<'a> {
    /// 2 or 3.
    pub format: u16,
    pub header: DeliveryHeader,
    /// Bytes `0..H` that the signature covers.
    pub signed: &'a [u8],
    pub signature: [u8; SIGNATURE_LEN],
    /// Everything after the signature (the payloads, or their records, if the package is whole).
    pub payloads: &'a [u8],
}

/// A verified component: its header entry, its terms, and where its payload lies in the package
/// bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Component {
    pub header: ComponentHeader,
    /// The payload's range in the bytes the package was verified from.
    pub payload: Range<usize>,
    #[serde(default)]
    pub terms: ComponentTerms,
}

impl Component {
    /// The payload, out of the bytes this component's package was verified from.
    pub fn payload<'a>(&self, bytes: &'a [u8]) -> &'a [u8] {
        bytes.get(self.payload.clone()).unwrap_or(&[])
    }
}

/// A delivery package that passed [`verify_delivery`]: its id, its components in order, and its
/// terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryPackage {
    pub pkg_id: String,
    pub components: Vec<Component>,
    #[serde(default)]
    pub terms: PackageTerms,
}

impl DeliveryPackage {
    /// The component with this id.
    pub fn component(&self, id: &str) -> Option<&Component> {
        self.components.iter().find(|c| c.header.id == id)
    }

    /// The payloads' total length in bytes (they are all in the verified bytes, so it fits).
    pub fn total_payload_len(&self) -> u64 {
        self.components
            .iter()
            .fold(0u64, |sum, c| sum.saturating_add(c.header.payload_len))
    }
}

/// What a SCOMO installer knows about the device it installs on, for [`inspect_delivery`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryDevice<'a> {
    /// The execution environment types the device has (compared exactly, case included).
    pub env_types: &'a [String],
    /// Memory free for the install, in bytes.
    pub free_memory: u64,
    /// Storage free for the installed components, in bytes (beyond the package it holds).
    pub free_storage: u64,
    /// Its `DevInfo/DevId`.
    pub dev_id: &'a str,
    /// The software version it runs (`DevDetail/SwV`).
    pub sw_version: &'a str,
    /// Its clock, in seconds since the Unix epoch.
    pub now: u64,
    /// The components it has deployed: (id, version).
    pub deployed: &'a [(String, String)],
    /// The packages it has installed (the PkgIDs its deployed components came from).
    pub installed: &'a [String],
}

impl Default for DeliveryDevice<'_> {
    /// A device with no environment, plenty of memory and storage, no id or version, its clock
    /// at [`super::CLOCK_START`], nothing deployed.
    fn default() -> Self {
        DeliveryDevice {
            env_types: &[],
            free_memory: u64::MAX,
            free_storage: u64::MAX,
            dev_id: "",
            sw_version: "",
            now: super::CLOCK_START,
            deployed: &[],
            installed: &[],
        }
    }
}

/// The bytes a component's certificate signs (see the [module docs](super)): `DMSIMCMP`, the
/// package id, then the component's entry without its attributes, each text after its length.
pub(crate) fn component_statement(pkg_id: &str, c: &ComponentHeader) -> Vec<u8> {
    let mut out = b"DMSIMCMP".to_vec();
    for text in [pkg_id, &c.id, &c.name, &c.version, &c.env_type] {
        out.push(u8::try_from(text.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(text.as_bytes());
    }
    out.extend_from_slice(&c.payload_len.to_be_bytes());
    out.extend_from_slice(&c.payload_hash);
    out
}
