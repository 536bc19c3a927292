//! Simulated firmware update packages: a small signed format, a builder for good and deliberately
//! broken packages, and the device-side inspection that a FUMO installer runs before it writes
//! anything.
//!
//! # Byte layout (format version 1)
//!
//! All integers are big-endian; texts are UTF-8, 1 to 255 bytes, preceded by their length.
//!
//! | offset | size | field |
//! | --- | --- | --- |
//! | 0 | 8 | magic `DMSIMPKG` |
//! | 8 | 2 | format version, `1` |
//! | 10 | 1 | `m`: length of the target model |
//! | 11 | `m` | target model (the device's `DevInfo/Mod`) |
//! | 11+`m` | 1 | `f`: length of the from-version |
//! | 12+`m` | `f` | from-version: the firmware this package updates |
//! | 12+`m`+`f` | 1 | `t`: length of the to-version |
//! | 13+`m`+`f` | `t` | to-version: the firmware after the update |
//! | 13+`m`+`f`+`t` | 8 | `n`: payload length in bytes |
//! | 21+`m`+`f`+`t` | 32 | SHA-256 of the payload |
//! | `H` = 53+`m`+`f`+`t` | 64 | Ed25519 signature over bytes `0..H` (the whole header) |
//! | `H`+64 | `n` | payload |
//!
//! A package is exactly `H + 64 + n` bytes long. The signature covers the header, and the header
//! carries the payload's hash, so the signature vouches for the payload too. The payload is
//! deterministic pseudo-random bytes (ChaCha8 seeded with [`PackageSpec::seed`]): the same spec and
//! key always give the same package.
//!
//! # Inspection order
//!
//! [`inspect`] checks, and reports the first failure, in this order: the structure (magic, format
//! version, header fields, a complete signature: 402), the signature with the trusted key (404),
//! the payload's length and hash (402), the target model (403), the from-version (405), that the
//! to-version is not older than the one running ([`version::is_older`]: the package would
//! downgrade the device, which it refuses: 405 under `oma`, Knox -454), the memory the install
//! needs (502). Nothing in the header is believed before the signature verifies.
//!
//! # Byte layout (format version 2: delivery packages)
//!
//! A delivery package carries software components for SCOMO: a package id, then 1 to
//! [`MAX_COMPONENTS`] components, each with its own id, name, version, environment type and payload.
//! Integers and texts are written as in version 1.
//!
//! | offset | size | field |
//! | --- | --- | --- |
//! | 0 | 8 | magic `DMSIMPKG` |
//! | 8 | 2 | format version, `2` |
//! | 10 | 1 | `p`: length of the package id |
//! | 11 | `p` | package id (SCOMO `PkgID`) |
//! | 11+`p` | 1 | `c`: number of components, 1 to 64 |
//! | 12+`p` | `E`₁+…+`E`_c | the components' entries, in order (below) |
//! | `H` = 12+`p`+`E`₁+…+`E`_c | 64 | Ed25519 signature over bytes `0..H` (the whole header) |
//! | `H`+64 | `n`₁ | payload of component 1, then that of component 2 right after it, … |
//!
//! Each component's entry, `E` = 44+`i`+`a`+`v`+`e` bytes:
//!
//! | offset in the entry | size | field |
//! | --- | --- | --- |
//! | 0 | 1 | `i`: length of the component id |
//! | 1 | `i` | component id (SCOMO Deployed `ID`; unique in the package) |
//! | 1+`i` | 1 | `a`: length of the name |
//! | 2+`i` | `a` | name |
//! | 2+`i`+`a` | 1 | `v`: length of the version |
//! | 3+`i`+`a` | `v` | version |
//! | 3+`i`+`a`+`v` | 1 | `e`: length of the environment type |
//! | 4+`i`+`a`+`v` | `e` | environment type (`Android`, `Linux`, `Java`, …) |
//! | 4+`i`+`a`+`v`+`e` | 8 | `n`: payload length in bytes |
//! | 12+`i`+`a`+`v`+`e` | 32 | SHA-256 of the payload |
//!
//! A delivery package is exactly `H + 64 + n`₁ + … + `n`_c bytes long. Component `k`'s payload is
//! deterministic too: ChaCha8 seeded with [`DeliverySpec::seed`], on stream `k - 1`.
//!
//! # Byte layout (format version 3: delivery packages with terms)
//!
//! Version 3 is version 2 with three additions: attribute blocks (the package's terms and each
//! component's, [`terms`]), the length of the payload area in the header, and payloads carried
//! as records named by their component (a manifest and its files), so that a package whose
//! manifest lists a component without its file can be told from a damaged one. Devices read
//! both versions; the builder writes version 2 for a package without terms.
//!
//! | offset | size | field |
//! | --- | --- | --- |
//! | 0 | 8 | magic `DMSIMPKG` |
//! | 8 | 2 | format version, `3` |
//! | 10 | 1 | `p`: length of the package id |
//! | 11 | `p` | package id |
//! | 11+`p` | 2 | `q`: length of the package's attribute block |
//! | 13+`p` | `q` | the package's attributes: each a tag (1 byte), a length (2 bytes) and a value |
//! | 13+`p`+`q` | 1 | `c`: number of components, 1 to 64 |
//! | 14+`p`+`q` | `F`₁+…+`F`_c | the components' entries: each a version 2 entry followed by a 2-byte length and the component's attribute block |
//! | `H`-8 | 8 | `r`: length of the payload area |
//! | `H` | 64 | Ed25519 signature over bytes `0..H` (by the key of the package's certificate when it has one, else by the trusted key) |
//! | `H`+64 | `r` | one record per component, in any order: `i` (1 byte), the component id, `n` (8 bytes), the `n` payload bytes |
//!
//! A component that carries a certificate also carries its own signature, by the certificate's
//! key, over `DMSIMCMP`, the package id and its entry (texts after their lengths, the payload
//! length and hash) without its attributes ([`cert`] has the certificate record).
//!
//! # Delivery package checks
//!
//! [`verify_delivery`] checks, and reports the first failure, in this order: the structure (as in
//! version 1, and 1 to 64 components: 402); the package's certificate, when it has one (it must
//! validate against the trusted key, the device's trust anchor, and not be before its not-before:
//! [`Cause::CertificateInvalid`]; not after its not-after: [`Cause::CertificateExpired`]); the
//! signature (404); unique component ids (402); the attributes ([`Cause::InvalidFormat`]); each
//! component's certificate (as the package's) and signature (404); the payloads: in version 2 their
//! total length (402), in version 3 the payload area's length (402), one record per listed
//! component and none other ([`Cause::InvalidFormat`]: a file is missing), each record's length
//! (402); each payload's hash (402). [`inspect_delivery`] then checks the package against the
//! device, in the order of `delivery/checks.rs`: the devices and software version it is for
//! ([`Cause::TargetMismatch`]), its validity ([`Cause::PackageExpired`]), the packages it requires
//! ([`Cause::PrerequisiteMissing`]), an environment of every component's type
//! ([`Cause::UnsupportedEnvironment`]), no downgrade of a deployed component
//! ([`Cause::Downgrade`]), the memory all the components need together (502) and the storage to
//! install them ([`Cause::InsufficientStorage`]). [`package_format`] tells the kinds apart.
//!
//! # Licenses
//!
//! [`license`] is the Knox E-FOTA client's license file, a small signed text of dmsim's own,
//! signed with the same Ed25519 scheme.
//!
//! # Snom m3
//!
//! [`snom`] holds the files a Snom m3 base fetches (not packages of this format): dmsim's
//! `DirList.txt` and `.fwu` layouts, their parsers and a builder of a server folder's files.

pub mod cert;
mod delivery;
mod keys;
pub mod license;
pub mod snom;
pub mod terms;
pub mod time;
pub mod version;

pub use cert::{CertificateError, CertificateInfo, CertificateSpec};
pub use delivery::{
    build_defective_delivery, build_delivery, check_asked_versions, check_delivery_memory,
    check_downgrade, check_environments, check_install_storage, check_prerequisites, check_target,
    check_validity, component_payload, inspect_delivery, missing_sub_device, parse_delivery,
    verify_delivery, AskedVersions, Component, ComponentHeader, ComponentSpec, DeliveryDefect,
    DeliveryDevice, DeliveryHeader, DeliveryPackage, DeliverySpec, ParsedDelivery, TermsSpec,
    DELIVERY_FORMAT_VERSION, DELIVERY_FORMAT_VERSION_3, MAX_ATTRIBUTES_LEN, MAX_COMPONENTS,
};
pub use ed25519_dalek::{SigningKey, VerifyingKey};
pub use keys::{
    load_signing_key, load_verifying_key, test_signing_key, KeyError, DEFAULT_SIGNING_KEY,
    DEFAULT_VERIFYING_KEY, TEST_KEY_SEED,
};
pub use terms::{ComponentTerms, FormatReason, PackageTerms};

use crate::outcome::{Cause, Key, Phase};
use ed25519_dalek::{Signature, Signer};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// The first eight bytes of every package.
pub const MAGIC: &[u8; 8] = b"DMSIMPKG";
/// The format version of firmware packages ([`build`], [`inspect`]).
pub const FORMAT_VERSION: u16 = 1;
/// Length of the Ed25519 signature that follows the header.
pub const SIGNATURE_LEN: usize = 64;
/// Longest text field (model, versions), in bytes.
pub const MAX_TEXT_LEN: usize = 255;
/// 2026-01-01T00:00:00Z: where a simulated device's clock starts (the device's `EPOCH`), and the
/// clock [`DeliveryDevice::default`] inspects packages at.
pub const CLOCK_START: u64 = 1_767_225_600;

/// What to build: a package for `model` that updates `from_version` to `to_version`, with `size`
/// bytes of payload generated from `seed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageSpec {
    model: String,
    from_version: String,
    to_version: String,
    size: u64,
    seed: u64,
}

/// Why a [`PackageSpec`] cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    #[error("the {field} must be 1 to 255 bytes long (it is {len})")]
    TextLength { field: Field, len: usize },
    #[error("the payload must be at least 1 byte")]
    EmptyPayload,
    #[error("a {0}-byte payload does not fit in memory here")]
    TooLarge(u64),
    #[error("a delivery package has 1 to 64 components (this one has {0})")]
    ComponentCount(usize),
    #[error("two components have the id {0:?}")]
    DuplicateComponent(String),
    #[error("there is no component {number} (the package has {count}; components count from 1)")]
    NoSuchComponent { number: usize, count: usize },
    #[error("invalid component {text:?}: {reason}")]
    ComponentText { text: String, reason: String },
    #[error("the certificate of {subject:?} ends before it starts")]
    CertificateDates { subject: String },
    #[error("the package's attributes take {0} bytes, more than the 65535 a block holds")]
    AttributesTooLong(usize),
}

impl PackageSpec {
    /// A spec with seed 0; texts must be 1 to 255 bytes, the size at least 1 byte.
    pub fn new(
        model: impl Into<String>,
        from_version: impl Into<String>,
        to_version: impl Into<String>,
        size: u64,
    ) -> Result<PackageSpec, SpecError> {
        let spec = PackageSpec {
            model: model.into(),
            from_version: from_version.into(),
            to_version: to_version.into(),
            size,
            seed: 0,
        };
        for (field, text) in [
            (Field::Model, &spec.model),
            (Field::FromVersion, &spec.from_version),
            (Field::ToVersion, &spec.to_version),
        ] {
            if text.is_empty() || text.len() > MAX_TEXT_LEN {
                return Err(SpecError::TextLength {
                    field,
                    len: text.len(),
                });
            }
        }
        if size == 0 {
            return Err(SpecError::EmptyPayload);
        }
        if usize::try_from(size).is_err() {
            return Err(SpecError::TooLarge(size));
        }
        Ok(spec)
    }

    /// The same spec with another payload seed.
    pub fn with_seed(mut self, seed: u64) -> PackageSpec {
        self.seed = seed;
        self
    }

    pub fn model(&self) -> &str {
        &self.model
    }
    pub fn from_version(&self) -> &str {
        &self.from_version
    }
    pub fn to_version(&self) -> &str {
        &self.to_version
    }
    /// Payload size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }
    /// Seed of the payload's pseudo-random bytes.
    pub fn seed(&self) -> u64 {
        self.seed
    }
}

/// A deliberately broken package, one per way a device must refuse it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Defect {
    /// One payload byte flipped: the hash does not match (402).
    Corrupt,
    /// Cut in the middle of the payload (402).
    Truncated,
    /// The first byte of the magic changed (402).
    BadMagic,
    /// Correctly signed, but for another model (403).
    WrongModel,
    /// Signed with a key the device does not trust (404).
    BadSignature,
    /// A header byte (in the payload hash) changed after signing (404).
    TamperedHeader,
    /// Correctly signed, but updates another firmware version than the spec's from-version (405).
    WrongFromVersion,
}

impl Defect {
    /// Every defect, in declaration order.
    pub const ALL: &'static [Defect] = &[
        Defect::Corrupt,
        Defect::Truncated,
        Defect::BadMagic,
        Defect::WrongModel,
        Defect::BadSignature,
        Defect::TamperedHeader,
        Defect::WrongFromVersion,
    ];

    /// The name the command line and scenarios use.
    pub fn as_str(self) -> &'static str {
        match self {
            Defect::Corrupt => "corrupt",
            Defect::Truncated => "truncated",
            Defect::BadMagic => "bad-magic",
            Defect::WrongModel => "wrong-model",
            Defect::BadSignature => "bad-signature",
            Defect::TamperedHeader => "tampered-header",
            Defect::WrongFromVersion => "wrong-from-version",
        }
    }

    /// Look a name up.
    pub fn parse(name: &str) -> Option<Defect> {
        Defect::ALL.iter().copied().find(|d| d.as_str() == name)
    }

    /// Why a device refuses a package with this defect (when the device's model and version are
    /// the spec's and it has the memory); its profile gives the code (OMA: 402, 403, 404, 405).
    pub fn cause(self) -> Cause {
        match self {
            Defect::Corrupt | Defect::Truncated | Defect::BadMagic => Cause::PackageCorrupt,
            Defect::WrongModel => Cause::WrongModel,
            Defect::BadSignature | Defect::TamperedHeader => Cause::SignatureInvalid,
            Defect::WrongFromVersion => Cause::WrongFromVersion,
        }
    }
}

impl std::str::FromStr for Defect {
    type Err = String;

    /// A defect by name; the error lists the known names.
    fn from_str(name: &str) -> Result<Defect, String> {
        Defect::parse(name).ok_or_else(|| {
            let known: Vec<_> = Defect::ALL.iter().map(|d| d.as_str()).collect();
            format!("unknown defect {name:?}; known: {}", known.join(", "))
        })
    }
}

impl fmt::Display for Defect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A header field, to say which one is broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Field {
    Magic,
    FormatVersion,
    Model,
    FromVersion,
    ToVersion,
    PayloadLength,
    PayloadHash,
    Signature,
    PackageId,
    ComponentCount,
    ComponentId,
    ComponentName,
    ComponentVersion,
    EnvironmentType,
    Attributes,
    DeviceId,
    SourceVersion,
    SubDevice,
    Subject,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::Magic => "magic",
            Field::FormatVersion => "format version",
            Field::Model => "target model",
            Field::FromVersion => "from-version",
            Field::ToVersion => "to-version",
            Field::PayloadLength => "payload length",
            Field::PayloadHash => "payload hash",
            Field::Signature => "signature",
            Field::PackageId => "package id",
            Field::ComponentCount => "component count",
            Field::ComponentId => "component id",
            Field::ComponentName => "component name",
            Field::ComponentVersion => "component version",
            Field::EnvironmentType => "environment type",
            Field::Attributes => "attributes",
            Field::DeviceId => "device id",
            Field::SourceVersion => "source version",
            Field::SubDevice => "sub-device",
            Field::Subject => "certificate subject",
        })
    }
}

/// Why a package is corrupt (FUMO 402).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "kebab-case")]
pub enum CorruptReason {
    #[error("not a dmsim package (bad magic)")]
    BadMagic,
    #[error("unsupported format version {0}")]
    UnsupportedFormat(u16),
    #[error("truncated in the {0}")]
    Truncated(Field),
    #[error("the {0} is empty")]
    EmptyField(Field),
    #[error("the {0} is not UTF-8")]
    NotUtf8(Field),
    #[error("the payload is {actual} bytes, the header says {declared}")]
    PayloadLength { declared: u64, actual: u64 },
    #[error("the payload does not match its SHA-256")]
    HashMismatch,
    #[error("a delivery package has 1 to 64 components, the header says {0}")]
    ComponentCount(u8),
    #[error("the payload lengths of the components add up to more than 2^64 bytes")]
    LengthOverflow,
    #[error("two components have the id {0:?}")]
    DuplicateComponent(String),
    #[error("the payload of component {component:?} does not match its SHA-256")]
    ComponentHashMismatch { component: String },
}

/// Why a device refuses a package. Each variant is one [`Cause`], through [`InstallError::cause`],
/// and so one FUMO (or SCOMO) result code under the device's profile; the codes below are OMA
/// FUMO 1.0's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "kebab-case")]
pub enum InstallError {
    /// FUMO 402 Corrupted Firmware Update Package: bad magic, unknown format, truncated, payload
    /// length or hash mismatch.
    #[error("corrupt package: {0}")]
    Corrupt(CorruptReason),
    /// FUMO 403 Firmware Update Package – Device Mismatch: built for another model.
    #[error("the package is for model {package}, the device is {device}")]
    DeviceMismatch { package: String, device: String },
    /// FUMO 404 Failed Firmware Update Package Validation: the signature does not verify with the
    /// device's trusted key.
    #[error("the package signature does not verify with the trusted key")]
    BadSignature,
    /// FUMO 405 Firmware Update Package Not Acceptable: it updates another version than the one the
    /// device runs.
    #[error("the package updates {package_from}, the device runs {device_current}")]
    NotAcceptable {
        package_from: String,
        device_current: String,
    },
    /// FUMO 502 Update fails: device out of memory.
    #[error("not enough memory to install: {need} bytes needed, {have} free")]
    OutOfMemory { need: u64, have: u64 },
    /// A component of a delivery package needs an execution environment the device does not have
    /// (SCOMO 1413 Unsupported environment).
    #[error("component {component:?} needs the {env_type:?} environment, which the device does not have")]
    UnsupportedEnvironment { component: String, env_type: String },
    /// The package would downgrade: its target version (a firmware's to-version, a component's
    /// version) is older ([`version`]) than the one the device runs or has deployed (Knox -454,
    /// -1454).
    #[error("{}{package} is older than {running}, which the device runs", .component.as_ref().map(|c| format!("component {c:?}: ")).unwrap_or_default())]
    Downgrade {
        component: Option<String>,
        package: String,
        running: String,
    },
    /// The delivery package's format is invalid or some of its files are missing (Knox -1458).
    #[error("the update format is invalid: {0}")]
    InvalidFormat(FormatReason),
    /// A certificate of the package or of a component fails to validate against the device's
    /// trust anchor (Knox -1470), or expired on its clock (-1471).
    #[error("{holder}: {error}")]
    Certificate {
        holder: String,
        error: CertificateError,
    },
    /// The package names the devices it is for, and this one is not one of them (Knox -1455).
    #[error("the package is for the devices {devices:?}, not {dev_id:?}")]
    NotForDevice {
        dev_id: String,
        devices: Vec<String>,
    },
    /// The package is for devices running another software version (Knox -1455).
    #[error("the package is for software version {package:?}, the device runs {device:?}")]
    SourceVersion { package: String, device: String },
    /// The package's validity ended on the device's clock: the copy the device stores is no
    /// longer valid (Knox -1456).
    #[error("the package was valid until {}, the device's clock says {}", time::format_time(*.valid_until), time::format_time(*.now))]
    NoLongerValid { valid_until: u64, now: u64 },
    /// A package this one requires is not installed: the operation that should have installed
    /// it failed (or never ran), so this install is skipped, not attempted (Knox -1451).
    #[error("the package requires {pkg_id:?}, which is not installed: the install is skipped")]
    PrerequisiteMissing { pkg_id: String },
    /// A component is not at the version the operation asked for: the install is not attempted
    /// (Knox -1482).
    #[error("component {component:?} is version {package:?}, the operation asked for {asked:?}: the install is not attempted")]
    VersionMismatch {
        component: String,
        package: String,
        asked: String,
    },
    /// Not enough storage for the installed components: the install is not attempted (Knox
    /// -1482).
    #[error("not enough storage to install: {need} bytes needed, {have} free: the install is not attempted")]
    InsufficientStorage { need: u64, have: u64 },
}

impl InstallError {
    /// Why the install ends, for the device's profile to give the code (OMA: 402, 403, 404,
    /// 405, 502).
    pub fn cause(&self) -> Cause {
        match self {
            InstallError::Corrupt(_) => Cause::PackageCorrupt,
            InstallError::DeviceMismatch { .. } => Cause::WrongModel,
            InstallError::BadSignature => Cause::SignatureInvalid,
            InstallError::NotAcceptable { .. } => Cause::WrongFromVersion,
            InstallError::OutOfMemory { .. } => Cause::OutOfMemory,
            InstallError::UnsupportedEnvironment { .. } => Cause::UnsupportedEnvironment,
            InstallError::Downgrade { .. } => Cause::Downgrade,
            InstallError::InvalidFormat(_) => Cause::InvalidFormat,
            InstallError::Certificate {
                error: CertificateError::Expired { .. },
                ..
            } => Cause::CertificateExpired,
            InstallError::Certificate { .. } => Cause::CertificateInvalid,
            InstallError::NotForDevice { .. } | InstallError::SourceVersion { .. } => {
                Cause::TargetMismatch
            }
            InstallError::NoLongerValid { .. } => Cause::PackageExpired,
            InstallError::PrerequisiteMissing { .. } => Cause::PrerequisiteMissing,
            InstallError::VersionMismatch { .. } => Cause::VersionMismatch,
            InstallError::InsufficientStorage { .. } => Cause::InsufficientStorage,
        }
    }

    /// Where the flow ends: the checks before an install for the refusals that leave the install
    /// not attempted (a prerequisite, the asked version, storage), the install for the package's
    /// own faults.
    pub fn phase(&self) -> Phase {
        match self {
            InstallError::PrerequisiteMissing { .. }
            | InstallError::VersionMismatch { .. }
            | InstallError::InsufficientStorage { .. } => Phase::Checks,
            _ => Phase::Install,
        }
    }

    /// The outcome's name: phase and cause.
    pub fn key(&self) -> Key {
        Key(self.phase(), self.cause())
    }
}

/// The header of a package, as read (before or after verification).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub model: String,
    pub from_version: String,
    pub to_version: String,
    pub payload_len: u64,
    #[serde(with = "hex32")]
    pub payload_hash: [u8; 32],
}

/// A package that passed [`inspect`]: its verified header and where its payload starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    pub header: Header,
    /// Offset of the payload in the package bytes.
    pub payload_offset: usize,
}

impl Package {
    /// The payload, out of the bytes this package was inspected from.
    pub fn payload<'a>(&self, bytes: &'a [u8]) -> &'a [u8] {
        bytes.get(self.payload_offset..).unwrap_or(&[])
    }
}

/// What the installer knows about the device it installs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceView<'a> {
    /// The device's model (`DevInfo/Mod`).
    pub model: &'a str,
    /// The firmware version it runs.
    pub current_version: &'a str,
    /// Memory free for the install, in bytes.
    pub free_memory: u64,
}

/// A package as parsed, before any check beyond its structure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed<'a> {
    pub header: Header,
    /// Bytes `0..H` that the signature covers.
    pub signed: &'a [u8],
    pub signature: [u8; SIGNATURE_LEN],
    /// Everything after the signature (the payload, if the package is whole).
    pub payload: &'a [u8],
}

/// Build a valid package signed with `key`.
pub fn build(spec: &PackageSpec, key: &SigningKey) -> Vec<u8> {
    assemble(spec, &spec.model, &spec.from_version, key)
}

/// Build a package with one deliberate defect (see [`Defect`] for what each breaks).
pub fn build_defective(spec: &PackageSpec, key: &SigningKey, defect: Defect) -> Vec<u8> {
    match defect {
        Defect::WrongModel => assemble(spec, &different(&spec.model), &spec.from_version, key),
        Defect::WrongFromVersion => {
            assemble(spec, &spec.model, &different(&spec.from_version), key)
        }
        Defect::BadSignature => assemble(spec, &spec.model, &spec.from_version, &rogue_key()),
        Defect::Corrupt | Defect::Truncated | Defect::BadMagic | Defect::TamperedHeader => {
            let mut bytes = build(spec, key);
            let payload_start = header_len(spec) + SIGNATURE_LEN;
            match defect {
                Defect::Corrupt => {
                    let middle = payload_start + (bytes.len() - payload_start) / 2;
                    if let Some(b) = bytes.get_mut(middle) {
                        *b ^= 0xFF;
                    }
                }
                Defect::Truncated => {
                    let payload = bytes.len() - payload_start;
                    bytes.truncate(payload_start + payload / 2);
                }
                Defect::BadMagic => bytes[0] ^= 0xFF,
                // The hash is the last 32 bytes of the header.
                _ => bytes[payload_start - SIGNATURE_LEN - 1] ^= 0x01,
            }
            bytes
        }
    }
}

/// The payload of a spec: `size` pseudo-random bytes from its seed.
pub fn payload(spec: &PackageSpec) -> Vec<u8> {
    let mut bytes = vec![0u8; spec.size as usize];
    fill_seeded(spec.seed, 0, &mut bytes);
    bytes
}

/// Fill `bytes` with the deterministic pseudo-random bytes of every payload dmsim builds: ChaCha8
/// seeded with `seed`, on stream `stream` (stream 0 is ChaCha8's default stream, so a firmware
/// payload is [`fill_seeded`]`(seed, 0, …)`).
pub fn fill_seeded(seed: u64, stream: u64, bytes: &mut [u8]) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng.fill_bytes(bytes);
}

/// A key no device trusts, for [`Defect::BadSignature`].
fn rogue_key() -> SigningKey {
    SigningKey::from_bytes(&Sha256::digest(b"dmsim rogue package signing key").into())
}

/// A text that differs from `text` and is still a valid field.
fn different(text: &str) -> String {
    if text.len() + 6 <= MAX_TEXT_LEN {
        format!("{text}-OTHER")
    } else {
        "OTHER".to_string()
    }
}

fn header_len(spec: &PackageSpec) -> usize {
    texts_header_len(&spec.model, &spec.from_version, &spec.to_version)
}

fn texts_header_len(model: &str, from_version: &str, to_version: &str) -> usize {
    8 + 2 + 3 + model.len() + from_version.len() + to_version.len() + 8 + 32
}

/// One allocation of the package's final size: the payload is generated in place, hashed, then the
/// header is written in front of it and signed.
fn assemble(spec: &PackageSpec, model: &str, from_version: &str, key: &SigningKey) -> Vec<u8> {
    let header_len = texts_header_len(model, from_version, &spec.to_version);
    let payload_start = header_len + SIGNATURE_LEN;
    // PackageSpec::new checked that the size fits in a usize.
    let mut bytes = vec![0u8; payload_start + spec.size as usize];
    fill_seeded(spec.seed, 0, &mut bytes[payload_start..]);
    let hash: [u8; 32] = Sha256::digest(&bytes[payload_start..]).into();
    let mut header = Vec::with_capacity(header_len);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&FORMAT_VERSION.to_be_bytes());
    for text in [model, from_version, spec.to_version.as_str()] {
        // PackageSpec::new and `different` keep every text within 255 bytes.
        header.push(text.len() as u8);
        header.extend_from_slice(text.as_bytes());
    }
    header.extend_from_slice(&spec.size.to_be_bytes());
    header.extend_from_slice(&hash);
    bytes[..header_len].copy_from_slice(&header);
    let signature = key.sign(&header);
    bytes[header_len..payload_start].copy_from_slice(&signature.to_bytes());
    bytes
}

/// A cursor over untrusted bytes: every read is bounds-checked.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, field: Field) -> Result<&'a [u8], CorruptReason> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len())
            .ok_or(CorruptReason::Truncated(field))?;
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn array<const N: usize>(&mut self, field: Field) -> Result<[u8; N], CorruptReason> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, field)?);
        Ok(out)
    }

    fn text(&mut self, field: Field) -> Result<String, CorruptReason> {
        let [len] = self.array::<1>(field)?;
        if len == 0 {
            return Err(CorruptReason::EmptyField(field));
        }
        let raw = self.take(usize::from(len), field)?;
        std::str::from_utf8(raw)
            .map(str::to_string)
            .map_err(|_| CorruptReason::NotUtf8(field))
    }
}

/// Read a package's structure: magic, format version, header fields and signature. Checks nothing
/// else (not the signature, not the payload).
pub fn parse(bytes: &[u8]) -> Result<Parsed<'_>, InstallError> {
    parse_inner(bytes).map_err(InstallError::Corrupt)
}

fn parse_inner(bytes: &[u8]) -> Result<Parsed<'_>, CorruptReason> {
    let mut r = Reader { bytes, pos: 0 };
    let magic = r.take(MAGIC.len(), Field::Magic);
    if magic != Ok(MAGIC.as_slice()) {
        return Err(CorruptReason::BadMagic);
    }
    let version = u16::from_be_bytes(r.array(Field::FormatVersion)?);
    if version != FORMAT_VERSION {
        return Err(CorruptReason::UnsupportedFormat(version));
    }
    let model = r.text(Field::Model)?;
    let from_version = r.text(Field::FromVersion)?;
    let to_version = r.text(Field::ToVersion)?;
    let payload_len = u64::from_be_bytes(r.array(Field::PayloadLength)?);
    let payload_hash = r.array(Field::PayloadHash)?;
    let signed_end = r.pos;
    let signature = r.array(Field::Signature)?;
    Ok(Parsed {
        header: Header {
            model,
            from_version,
            to_version,
            payload_len,
            payload_hash,
        },
        signed: &bytes[..signed_end],
        signature,
        payload: &bytes[r.pos..],
    })
}

/// Everything a device checks before installing, in the order of the module docs; the first
/// failure is the answer. Never panics, whatever the bytes.
pub fn inspect(
    bytes: &[u8],
    trusted: &VerifyingKey,
    device: &DeviceView<'_>,
) -> Result<Package, InstallError> {
    let package = verify(bytes, trusted, device.model, device.current_version)?;
    check_memory(&package, device.free_memory)?;
    Ok(package)
}

/// [`inspect`] without the memory check (the installer's memory check is a fault point of its
/// own).
pub fn verify(
    bytes: &[u8],
    trusted: &VerifyingKey,
    model: &str,
    current_version: &str,
) -> Result<Package, InstallError> {
    let parsed = parse(bytes)?;
    trusted
        .verify_strict(parsed.signed, &Signature::from_bytes(&parsed.signature))
        .map_err(|_| InstallError::BadSignature)?;
    let header = parsed.header;
    let actual = parsed.payload.len() as u64;
    if actual != header.payload_len {
        return Err(InstallError::Corrupt(CorruptReason::PayloadLength {
            declared: header.payload_len,
            actual,
        }));
    }
    if <[u8; 32]>::from(Sha256::digest(parsed.payload)) != header.payload_hash {
        return Err(InstallError::Corrupt(CorruptReason::HashMismatch));
    }
    if header.model != model {
        return Err(InstallError::DeviceMismatch {
            package: header.model,
            device: model.to_string(),
        });
    }
    if header.from_version != current_version {
        return Err(InstallError::NotAcceptable {
            package_from: header.from_version,
            device_current: current_version.to_string(),
        });
    }
    if version::is_older(&header.to_version, current_version) {
        return Err(InstallError::Downgrade {
            component: None,
            package: header.to_version,
            running: current_version.to_string(),
        });
    }
    Ok(Package {
        header,
        payload_offset: parsed.signed.len() + SIGNATURE_LEN,
    })
}

/// The install needs as much free memory as the payload is long.
pub fn check_memory(package: &Package, free_memory: u64) -> Result<(), InstallError> {
    let need = package.header.payload_len;
    if need > free_memory {
        return Err(InstallError::OutOfMemory {
            need,
            have: free_memory,
        });
    }
    Ok(())
}

/// Why a size text such as `4MiB` is not a size.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid size {text:?}: expected a number of bytes with an optional unit (B, KiB, MiB, GiB, kB, MB, GB)")]
pub struct SizeError {
    pub text: String,
}

/// Parse a size: `4096`, `512B`, `4KiB`, `4MiB`, `1GiB`, `10kB`, `10MB`, `1GB` (spaces allowed
/// between number and unit).
pub fn parse_size(text: &str) -> Result<u64, SizeError> {
    let err = || SizeError {
        text: text.to_string(),
    };
    let trimmed = text.trim();
    let digits = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let number: u64 = trimmed[..digits].parse().map_err(|_| err())?;
    let factor: u64 = match trimmed[digits..].trim() {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        "kB" | "KB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        _ => return Err(err()),
    };
    number.checked_mul(factor).ok_or_else(err)
}

/// Lower-case hex of bytes.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Bytes of a hex text (either case), or `None` when it is not hex.
pub fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

/// Serde for a 32-byte hash as a hex string (readable persisted state).
pub mod hex32 {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::to_hex(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let text = String::deserialize(d)?;
        super::from_hex(&text)
            .and_then(|v| <[u8; 32]>::try_from(v).ok())
            .ok_or_else(|| D::Error::custom("expected 64 hex digits"))
    }
}

/// Serde for bytes as a hex string.
pub mod hexvec {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::to_hex(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        super::from_hex(&text).ok_or_else(|| D::Error::custom("expected hex digits"))
    }
}

/// The kinds of package, by their format version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackageFormat {
    /// Format version 1: one firmware image ([`parse`], [`inspect`]).
    Firmware,
    /// Format versions 2 and 3: software components ([`parse_delivery`], [`inspect_delivery`]).
    Delivery,
}

/// Which kind of package `bytes` are, from the magic and the format version alone (nothing is
/// verified).
pub fn package_format(bytes: &[u8]) -> Result<PackageFormat, CorruptReason> {
    let mut r = Reader { bytes, pos: 0 };
    if r.take(MAGIC.len(), Field::Magic) != Ok(MAGIC.as_slice()) {
        return Err(CorruptReason::BadMagic);
    }
    match u16::from_be_bytes(r.array(Field::FormatVersion)?) {
        FORMAT_VERSION => Ok(PackageFormat::Firmware),
        DELIVERY_FORMAT_VERSION | DELIVERY_FORMAT_VERSION_3 => Ok(PackageFormat::Delivery),
        other => Err(CorruptReason::UnsupportedFormat(other)),
    }
}

#[cfg(test)]
mod delivery_tests;
#[cfg(test)]
mod terms_tests;
#[cfg(test)]
mod tests;
