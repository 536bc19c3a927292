//! Delivery packages (format version 2, see the byte layout in the [module docs](super)): software
//! components for SCOMO, each with its own id, name, version, environment type and payload, under
//! one signature. The builder makes good and deliberately broken packages; the device side reads
//! the structure, verifies the signature before it believes anything, checks every payload, then
//! what the device offers, and returns where each component's payload lies (no copies).

use super::{
    different, hex32, parse_size, rogue_key, CorruptReason, Field, InstallError, Reader, SpecError,
    MAGIC, MAX_TEXT_LEN, SIGNATURE_LEN,
};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::fmt;
use std::ops::Range;

/// The format version of delivery packages.
pub const DELIVERY_FORMAT_VERSION: u16 = 2;
/// Most components one delivery package carries.
pub const MAX_COMPONENTS: usize = 64;

/// Fixed bytes of a component's header entry: four text lengths, the payload length, the hash.
const ENTRY_FIXED_LEN: usize = 4 + 8 + 32;
/// Fixed bytes of the header before the entries: magic, version, package id length, count.
const HEADER_FIXED_LEN: usize = 8 + 2 + 1 + 1;

/// One component to build: `size` bytes of payload for an environment of type `env_type`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentSpec {
    id: String,
    name: String,
    version: String,
    env_type: String,
    size: u64,
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

/// What to build: the delivery package `pkg_id` with its components, the payloads generated from
/// `seed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliverySpec {
    pkg_id: String,
    components: Vec<ComponentSpec>,
    seed: u64,
}

impl DeliverySpec {
    /// A spec with seed 0: 1 to [`MAX_COMPONENTS`] components with distinct ids, whose payloads
    /// fit in memory together.
    pub fn new(
        pkg_id: impl Into<String>,
        components: Vec<ComponentSpec>,
    ) -> Result<DeliverySpec, SpecError> {
        let spec = DeliverySpec {
            pkg_id: pkg_id.into(),
            components,
            seed: 0,
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
        let total = spec
            .components
            .iter()
            .try_fold(0u64, |sum, c| sum.checked_add(c.size));
        let entries: Vec<Entry> = spec.components.iter().map(Entry::of).collect();
        match total {
            Some(total) if package_len(&spec.pkg_id, &entries, total).is_some() => Ok(spec),
            Some(total) => Err(SpecError::TooLarge(total)),
            None => Err(SpecError::TooLarge(u64::MAX)),
        }
    }

    /// The same spec with another payload seed.
    pub fn with_seed(mut self, seed: u64) -> DeliverySpec {
        self.seed = seed;
        self
    }

    pub fn pkg_id(&self) -> &str {
        &self.pkg_id
    }
    pub fn components(&self) -> &[ComponentSpec] {
        &self.components
    }
    /// Seed of the payloads' pseudo-random bytes.
    pub fn seed(&self) -> u64 {
        self.seed
    }
    /// The payloads' total size in bytes (checked by [`DeliverySpec::new`] not to overflow).
    pub fn total_size(&self) -> u64 {
        self.components.iter().map(|c| c.size).sum()
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
/// them.
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
            "truncated" => plain(DeliveryDefect::Truncated),
            "bad-magic" => plain(DeliveryDefect::BadMagic),
            "too-many-components" => plain(DeliveryDefect::TooManyComponents),
            "duplicate-id" => plain(DeliveryDefect::DuplicateId),
            "bad-signature" => plain(DeliveryDefect::BadSignature),
            "tampered-header" => plain(DeliveryDefect::TamperedHeader),
            _ => None,
        }
    }

    /// Why a device refuses a package with this defect (when it supports the spec's environment
    /// types and has the memory); its profile gives the code.
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
}

/// The header of a delivery package, as read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryHeader {
    pub pkg_id: String,
    pub components: Vec<ComponentHeader>,
}

/// A delivery package as parsed, before any check beyond its structure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedDelivery<'a> {
    pub header: DeliveryHeader,
    /// Bytes `0..H` that the signature covers.
    pub signed: &'a [u8],
    pub signature: [u8; SIGNATURE_LEN],
    /// Everything after the signature (the payloads, if the package is whole).
    pub payloads: &'a [u8],
}

/// A verified component: its header entry and where its payload lies in the package bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Component {
    pub header: ComponentHeader,
    /// The payload's range in the bytes the package was verified from.
    pub payload: Range<usize>,
}

impl Component {
    /// The payload, out of the bytes this component's package was verified from.
    pub fn payload<'a>(&self, bytes: &'a [u8]) -> &'a [u8] {
        bytes.get(self.payload.clone()).unwrap_or(&[])
    }
}

/// A delivery package that passed [`verify_delivery`]: its id and its components, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryPackage {
    pub pkg_id: String,
    pub components: Vec<Component>,
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

/// What a SCOMO installer knows about the device it installs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryDevice<'a> {
    /// The execution environment types the device has (compared exactly, case included).
    pub env_types: &'a [String],
    /// Memory free for the install, in bytes.
    pub free_memory: u64,
}

/// A component's header entry before its hash is known, and which spec component gives its
/// payload bytes.
struct Entry {
    id: String,
    name: String,
    version: String,
    env_type: String,
    /// The length the header claims (the payload's own, unless a defect lies).
    claimed_len: u64,
    /// The payload's real size and stream.
    size: u64,
    stream: u64,
}

impl Entry {
    fn of(c: &ComponentSpec) -> Entry {
        Entry {
            id: c.id.clone(),
            name: c.name.clone(),
            version: c.version.clone(),
            env_type: c.env_type.clone(),
            claimed_len: c.size,
            size: c.size,
            stream: 0,
        }
    }

    fn len(&self) -> usize {
        ENTRY_FIXED_LEN + self.id.len() + self.name.len() + self.version.len() + self.env_type.len()
    }
}

/// The header length and the whole package's length, or `None` when it does not fit a `usize`.
fn package_len(pkg_id: &str, entries: &[Entry], payloads: u64) -> Option<(usize, usize)> {
    let header = entries
        .iter()
        .try_fold(HEADER_FIXED_LEN.checked_add(pkg_id.len())?, |sum, e| {
            sum.checked_add(e.len())
        })?;
    let total = header
        .checked_add(SIGNATURE_LEN)?
        .checked_add(usize::try_from(payloads).ok()?)?;
    Some((header, total))
}

fn entries(spec: &DeliverySpec) -> Vec<Entry> {
    spec.components
        .iter()
        .zip(0u64..)
        .map(|(c, stream)| Entry {
            stream,
            ..Entry::of(c)
        })
        .collect()
}

/// The payload of component `number` (counted from 1) of a spec: its `size` pseudo-random bytes.
pub fn component_payload(spec: &DeliverySpec, number: usize) -> Result<Vec<u8>, SpecError> {
    let index = spec.index(number)?;
    let mut bytes = vec![0u8; spec.components[index].size as usize];
    fill(spec.seed, index as u64, &mut bytes);
    Ok(bytes)
}

fn fill(seed: u64, stream: u64, bytes: &mut [u8]) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng.fill_bytes(bytes);
}

/// Build a valid delivery package signed with `key`.
pub fn build_delivery(spec: &DeliverySpec, key: &SigningKey) -> Vec<u8> {
    assemble(&spec.pkg_id, &entries(spec), spec.seed, key)
        .expect("DeliverySpec::new checked that the package fits in memory")
}

/// Build a delivery package with one deliberate defect (see [`DeliveryDefect`] for what each
/// breaks). Fails when the defect names a component the spec does not have, or when the broken
/// package would not fit in memory.
pub fn build_defective_delivery(
    spec: &DeliverySpec,
    key: &SigningKey,
    defect: DeliveryDefect,
) -> Result<Vec<u8>, SpecError> {
    let mut entries = entries(spec);
    let too_large = || SpecError::TooLarge(spec.total_size());
    let signed = |entries: &[Entry], key: &SigningKey| {
        assemble(&spec.pkg_id, entries, spec.seed, key).ok_or_else(too_large)
    };
    match defect {
        DeliveryDefect::BadSignature => signed(&entries, &rogue_key()),
        DeliveryDefect::UnsupportedEnvironment(k) => {
            let e = &mut entries[spec.index(k)?];
            e.env_type = different(&e.env_type);
            signed(&entries, key)
        }
        DeliveryDefect::HugeLength(k) => {
            entries[spec.index(k)?].claimed_len = u64::MAX;
            signed(&entries, key)
        }
        DeliveryDefect::DuplicateId => {
            if entries.len() == 1 {
                let copy = Entry::of(&spec.components[0]);
                entries.push(copy);
            } else if let Some(last) = entries.last_mut() {
                last.id = spec.components[0].id.clone();
            }
            signed(&entries, key)
        }
        DeliveryDefect::Corrupt(k) => {
            let index = spec.index(k)?;
            let mut bytes = signed(&entries, key)?;
            let end = bytes.len() - sizes_after(&entries, index);
            let start = end - spec.components[index].size as usize;
            bytes[start + (end - start) / 2] ^= 0xFF;
            Ok(bytes)
        }
        DeliveryDefect::Truncated => {
            let mut bytes = signed(&entries, key)?;
            let last = spec.components[spec.components.len() - 1].size as usize;
            let len = bytes.len() - last + last / 2;
            bytes.truncate(len);
            Ok(bytes)
        }
        DeliveryDefect::BadMagic => {
            let mut bytes = signed(&entries, key)?;
            bytes[0] ^= 0xFF;
            Ok(bytes)
        }
        DeliveryDefect::TooManyComponents => {
            let mut bytes = signed(&entries, key)?;
            // The count follows the package id's length byte and the id.
            bytes[HEADER_FIXED_LEN - 1 + spec.pkg_id.len()] = (MAX_COMPONENTS + 1) as u8;
            Ok(bytes)
        }
        DeliveryDefect::TamperedHeader => {
            let mut bytes = signed(&entries, key)?;
            let (header_len, _) =
                package_len(&spec.pkg_id, &entries, spec.total_size()).ok_or_else(too_large)?;
            // The last component's hash ends the header.
            bytes[header_len - 1] ^= 0x01;
            Ok(bytes)
        }
    }
}

/// The payload bytes of the entries after `index`.
fn sizes_after(entries: &[Entry], index: usize) -> usize {
    entries[index + 1..].iter().map(|e| e.size as usize).sum()
}

/// One allocation of the package's final size: the payloads are generated in place and hashed,
/// then the header is written in front of them and signed. `None` when it does not fit in memory.
fn assemble(pkg_id: &str, entries: &[Entry], seed: u64, key: &SigningKey) -> Option<Vec<u8>> {
    let payloads = entries
        .iter()
        .try_fold(0u64, |sum, e| sum.checked_add(e.size))?;
    let (header_len, total) = package_len(pkg_id, entries, payloads)?;
    let mut bytes = vec![0u8; total];
    let mut header = Vec::with_capacity(header_len);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&DELIVERY_FORMAT_VERSION.to_be_bytes());
    // Every text is 1 to 255 bytes (the spec's, or `different`'s), at most 65 entries.
    header.push(pkg_id.len() as u8);
    header.extend_from_slice(pkg_id.as_bytes());
    header.push(entries.len() as u8);
    let mut start = header_len + SIGNATURE_LEN;
    for e in entries {
        let end = start + e.size as usize;
        fill(seed, e.stream, &mut bytes[start..end]);
        let hash: [u8; 32] = Sha256::digest(&bytes[start..end]).into();
        for text in [&e.id, &e.name, &e.version, &e.env_type] {
            header.push(text.len() as u8);
            header.extend_from_slice(text.as_bytes());
        }
        header.extend_from_slice(&e.claimed_len.to_be_bytes());
        header.extend_from_slice(&hash);
        start = end;
    }
    bytes[..header_len].copy_from_slice(&header);
    let signature = key.sign(&header);
    bytes[header_len..header_len + SIGNATURE_LEN].copy_from_slice(&signature.to_bytes());
    Some(bytes)
}

/// Read a delivery package's structure: magic, format version 2, package id, 1 to 64 component
/// entries and the signature. Checks nothing else (not the signature, not the payloads).
pub fn parse_delivery(bytes: &[u8]) -> Result<ParsedDelivery<'_>, InstallError> {
    parse_inner(bytes).map_err(InstallError::Corrupt)
}

fn parse_inner(bytes: &[u8]) -> Result<ParsedDelivery<'_>, CorruptReason> {
    let mut r = Reader { bytes, pos: 0 };
    if r.take(MAGIC.len(), Field::Magic) != Ok(MAGIC.as_slice()) {
        return Err(CorruptReason::BadMagic);
    }
    let version = u16::from_be_bytes(r.array(Field::FormatVersion)?);
    if version != DELIVERY_FORMAT_VERSION {
        return Err(CorruptReason::UnsupportedFormat(version));
    }
    let pkg_id = r.text(Field::PackageId)?;
    let [count] = r.array::<1>(Field::ComponentCount)?;
    if count == 0 || usize::from(count) > MAX_COMPONENTS {
        return Err(CorruptReason::ComponentCount(count));
    }
    let mut components = Vec::with_capacity(usize::from(count));
    for _ in 0..count {
        components.push(ComponentHeader {
            id: r.text(Field::ComponentId)?,
            name: r.text(Field::ComponentName)?,
            version: r.text(Field::ComponentVersion)?,
            env_type: r.text(Field::EnvironmentType)?,
            payload_len: u64::from_be_bytes(r.array(Field::PayloadLength)?),
            payload_hash: r.array(Field::PayloadHash)?,
        });
    }
    let signed_end = r.pos;
    let signature = r.array(Field::Signature)?;
    Ok(ParsedDelivery {
        header: DeliveryHeader { pkg_id, components },
        signed: &bytes[..signed_end],
        signature,
        payloads: &bytes[r.pos..],
    })
}

/// Everything a device checks before installing a delivery package, in the order of the module
/// docs; the first failure is the answer. Never panics, whatever the bytes.
pub fn inspect_delivery(
    bytes: &[u8],
    trusted: &VerifyingKey,
    device: &DeliveryDevice<'_>,
) -> Result<DeliveryPackage, InstallError> {
    let package = verify_delivery(bytes, trusted)?;
    check_environments(&package, device.env_types)?;
    check_delivery_memory(&package, device.free_memory)?;
    Ok(package)
}

/// The package's own checks, without the device's: structure, signature, unique component ids,
/// the payloads' lengths and hashes.
pub fn verify_delivery(
    bytes: &[u8],
    trusted: &VerifyingKey,
) -> Result<DeliveryPackage, InstallError> {
    let parsed = parse_delivery(bytes)?;
    trusted
        .verify_strict(parsed.signed, &Signature::from_bytes(&parsed.signature))
        .map_err(|_| InstallError::BadSignature)?;
    let corrupt = InstallError::Corrupt;
    let header = parsed.header;
    let mut ids = HashSet::new();
    for c in &header.components {
        if !ids.insert(c.id.as_str()) {
            return Err(corrupt(CorruptReason::DuplicateComponent(c.id.clone())));
        }
    }
    let declared = header
        .components
        .iter()
        .try_fold(0u64, |sum, c| sum.checked_add(c.payload_len))
        .ok_or(corrupt(CorruptReason::LengthOverflow))?;
    let actual = parsed.payloads.len() as u64;
    if declared != actual {
        return Err(corrupt(CorruptReason::PayloadLength { declared, actual }));
    }
    // The lengths add up to the bytes there are, so each fits a usize and every range is in
    // bounds; checked all the same.
    let mut start = parsed.signed.len() + SIGNATURE_LEN;
    let mut components = Vec::with_capacity(header.components.len());
    for c in header.components {
        let end = usize::try_from(c.payload_len)
            .ok()
            .and_then(|len| start.checked_add(len))
            .ok_or(corrupt(CorruptReason::LengthOverflow))?;
        let payload = bytes
            .get(start..end)
            .ok_or(corrupt(CorruptReason::PayloadLength { declared, actual }))?;
        if <[u8; 32]>::from(Sha256::digest(payload)) != c.payload_hash {
            return Err(corrupt(CorruptReason::ComponentHashMismatch {
                component: c.id,
            }));
        }
        components.push(Component {
            header: c,
            payload: start..end,
        });
        start = end;
    }
    Ok(DeliveryPackage {
        pkg_id: header.pkg_id,
        components,
    })
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
