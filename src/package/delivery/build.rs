//! Building delivery packages, good ones and deliberately broken ones: the layout is planned
//! (entries, attributes, certificates issued), then the package is assembled in one allocation of
//! its final size, the payloads generated in place and hashed, the header written in front of them
//! and signed.

use super::super::cert::{Certificate, CertificateSpec};
use super::super::terms::{
    self, TAG_CERTIFICATE, TAG_DEVICE, TAG_REQUIRES, TAG_SIGNATURE, TAG_SOURCE_VERSION,
    TAG_SUB_DEVICE, TAG_VALID_UNTIL,
};
use super::super::{different, fill_seeded as fill, rogue_key, MAGIC, SIGNATURE_LEN};
use super::{
    component_statement, ComponentHeader, ComponentSpec, DeliveryDefect, DeliverySpec,
    DELIVERY_FORMAT_VERSION_3, MAX_ATTRIBUTES_LEN, MAX_COMPONENTS,
};
use crate::package::SpecError;
use ed25519_dalek::{Signer, SigningKey};
use sha2::{Digest, Sha256};
use std::ops::Range;

/// Fixed bytes of a component's header entry: four text lengths, the payload length, the hash.
const ENTRY_FIXED_LEN: usize = 4 + 8 + 32;
/// Fixed bytes of the header before the entries: magic, version, package id length, count.
const HEADER_FIXED_LEN: usize = 8 + 2 + 1 + 1;
/// Bytes of a certificate record besides its subject.
const CERTIFICATE_FIXED_LEN: usize = 1 + 32 + 8 + 8 + SIGNATURE_LEN;
/// An attribute's tag and length.
const ATTRIBUTE_FIXED_LEN: usize = 1 + 2;
/// The tag of the `unknown-attribute` defect: no device knows it.
const UNKNOWN_TAG: u8 = 0xEE;
/// The subject of a certificate a defect adds to a spec without one.
const DEFECT_SUBJECT: &str = "dmsim-signer";

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
    /// Its attributes but the signature (format 3).
    attributes: Vec<(u8, Vec<u8>)>,
    /// The key of its certificate, which signs it (its signature attribute is added when it is
    /// assembled).
    signer: Option<SigningKey>,
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
            attributes: Vec::new(),
            signer: None,
        }
    }

    /// The length of its attribute block, the signature included.
    fn attributes_len(&self) -> usize {
        let signature = if self.signer.is_some() {
            ATTRIBUTE_FIXED_LEN + SIGNATURE_LEN
        } else {
            0
        };
        attributes_len(&self.attributes) + signature
    }

    fn len(&self, format: u16) -> usize {
        let texts = self.id.len() + self.name.len() + self.version.len() + self.env_type.len();
        let attributes = if format == DELIVERY_FORMAT_VERSION_3 {
            2 + self.attributes_len()
        } else {
            0
        };
        ENTRY_FIXED_LEN + texts + attributes
    }

    /// Its payload's record length in format 3: the id, the length, the bytes.
    fn record_len(&self) -> Option<usize> {
        (1 + self.id.len() + 8).checked_add(usize::try_from(self.size).ok()?)
    }
}

fn attributes_len(attributes: &[(u8, Vec<u8>)]) -> usize {
    attributes
        .iter()
        .map(|(_, v)| ATTRIBUTE_FIXED_LEN + v.len())
        .sum()
}

/// A certificate as a defect leaves it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum CertMode {
    Issued,
    Untrusted,
    Expired,
}

/// What a defect changes in the plan of a package.
#[derive(Default)]
struct Tweaks {
    package_certificate: Option<CertMode>,
    component_certificate: Option<(usize, CertMode)>,
    omit: Option<usize>,
    unknown_attribute: bool,
}

impl Tweaks {
    fn need_format_3(&self) -> bool {
        self.package_certificate.is_some()
            || self.component_certificate.is_some()
            || self.omit.is_some()
            || self.unknown_attribute
    }
}

/// The layout of a package: its format, its id, its attributes and entries, and who signs it.
struct Plan {
    format: u16,
    pkg_id: String,
    attributes: Vec<(u8, Vec<u8>)>,
    entries: Vec<Entry>,
    seed: u64,
    /// The entry whose payload record is left out (format 3).
    omit: Option<usize>,
    /// The key that signs the header: the spec's, or the package certificate's.
    signer: SigningKey,
}

/// Issue `spec` (as `mode` leaves it) with `key`: its record and the key it certifies.
fn issue(spec: &CertificateSpec, mode: CertMode, key: &SigningKey) -> (Vec<u8>, SigningKey) {
    let (cert, subject) = match mode {
        CertMode::Issued => Certificate::issue(spec, key),
        CertMode::Untrusted => Certificate::issue(spec, &rogue_key()),
        CertMode::Expired => Certificate::issue(&spec.expired(), key),
    };
    (cert.to_bytes(), subject)
}

fn package_attributes(spec: &DeliverySpec) -> Vec<(u8, Vec<u8>)> {
    let t = &spec.terms;
    let text = |tag: u8, s: &String| (tag, s.as_bytes().to_vec());
    let mut out: Vec<(u8, Vec<u8>)> = Vec::new();
    out.extend(t.requires.iter().map(|s| text(TAG_REQUIRES, s)));
    out.extend(t.devices.iter().map(|s| text(TAG_DEVICE, s)));
    out.extend(t.source_version.iter().map(|s| text(TAG_SOURCE_VERSION, s)));
    out.extend(
        t.valid_until
            .map(|secs| (TAG_VALID_UNTIL, secs.to_be_bytes().to_vec())),
    );
    out
}

/// The plan of `spec` signed with `key`, with `tweaks`.
fn plan(spec: &DeliverySpec, key: &SigningKey, tweaks: &Tweaks) -> Plan {
    let format = if tweaks.need_format_3() {
        DELIVERY_FORMAT_VERSION_3
    } else {
        spec.format()
    };
    let mut attributes = package_attributes(spec);
    let mut signer = key.clone();
    let package_cert = match (&spec.terms.certificate, tweaks.package_certificate) {
        (Some(c), mode) => Some((c.clone(), mode.unwrap_or(CertMode::Issued))),
        (None, Some(mode)) => Some((CertificateSpec::new(DEFECT_SUBJECT), mode)),
        (None, None) => None,
    };
    if let Some((cert, mode)) = package_cert {
        let (record, subject) = issue(&cert, mode, key);
        attributes.push((TAG_CERTIFICATE, record));
        signer = subject;
    }
    if tweaks.unknown_attribute {
        attributes.push((UNKNOWN_TAG, b"dmsim".to_vec()));
    }
    let entries = spec
        .components
        .iter()
        .zip(0u64..)
        .enumerate()
        .map(|(index, (c, stream))| {
            let mut e = Entry {
                stream,
                ..Entry::of(c)
            };
            if let Some(sub_device) = &c.sub_device {
                e.attributes
                    .push((TAG_SUB_DEVICE, sub_device.as_bytes().to_vec()));
            }
            let mode = tweaks
                .component_certificate
                .filter(|&(k, _)| k == index)
                .map(|(_, mode)| mode);
            let cert = match (&c.certificate, mode) {
                (Some(cert), mode) => Some((cert.clone(), mode.unwrap_or(CertMode::Issued))),
                (None, Some(mode)) => Some((CertificateSpec::new(DEFECT_SUBJECT), mode)),
                (None, None) => None,
            };
            if let Some((cert, mode)) = cert {
                let (record, subject) = issue(&cert, mode, key);
                e.attributes.push((TAG_CERTIFICATE, record));
                e.signer = Some(subject);
            }
            e
        })
        .collect();
    Plan {
        format,
        pkg_id: spec.pkg_id.clone(),
        attributes,
        entries,
        seed: spec.seed,
        omit: tweaks.omit,
        signer,
    }
}

/// The header's length and the whole package's, or `None` when it does not fit a `usize`.
fn lengths(plan: &Plan) -> Option<(usize, usize)> {
    let v3 = plan.format == DELIVERY_FORMAT_VERSION_3;
    let fixed = HEADER_FIXED_LEN.checked_add(plan.pkg_id.len())?;
    let fixed = if v3 {
        fixed.checked_add(2 + attributes_len(&plan.attributes) + 8)?
    } else {
        fixed
    };
    let header = plan
        .entries
        .iter()
        .try_fold(fixed, |sum, e| sum.checked_add(e.len(plan.format)))?;
    let payloads = payloads_len(plan)?;
    let total = header.checked_add(SIGNATURE_LEN)?.checked_add(payloads)?;
    Some((header, total))
}

/// The length of the payload area: the payloads (format 2), or their records but the omitted one
/// (format 3).
fn payloads_len(plan: &Plan) -> Option<usize> {
    let v3 = plan.format == DELIVERY_FORMAT_VERSION_3;
    plan.entries
        .iter()
        .enumerate()
        .filter(|&(i, _)| Some(i) != plan.omit)
        .try_fold(0usize, |sum, (_, e)| {
            let len = if v3 {
                e.record_len()?
            } else {
                usize::try_from(e.size).ok()?
            };
            sum.checked_add(len)
        })
}

/// Whether `spec` builds into a package that fits in memory, with attribute blocks of at most
/// 65 535 bytes (sized without issuing anything).
pub(super) fn check_size(spec: &DeliverySpec) -> Result<(), SpecError> {
    let total = spec
        .components
        .iter()
        .try_fold(0u64, |sum, c| sum.checked_add(c.size))
        .ok_or(SpecError::TooLarge(u64::MAX))?;
    let too_large = SpecError::TooLarge(total);
    let v3 = spec.format() == DELIVERY_FORMAT_VERSION_3;
    let cert = |c: &Option<CertificateSpec>| {
        c.as_ref().map_or(0, |c| {
            ATTRIBUTE_FIXED_LEN + CERTIFICATE_FIXED_LEN + c.subject.len()
        })
    };
    let package_block = attributes_len(&package_attributes(spec)) + cert(&spec.terms.certificate);
    if package_block > MAX_ATTRIBUTES_LEN {
        return Err(SpecError::AttributesTooLong(package_block));
    }
    let mut header = HEADER_FIXED_LEN + spec.pkg_id.len();
    let mut payloads = 0usize;
    if v3 {
        header += 2 + package_block + 8;
    }
    for c in &spec.components {
        let texts = c.id.len() + c.name.len() + c.version.len() + c.env_type.len();
        header += ENTRY_FIXED_LEN + texts;
        let size = usize::try_from(c.size).map_err(|_| too_large.clone())?;
        if v3 {
            // A sub-device, a certificate and its signature: far below the block's limit.
            let signature = c
                .certificate
                .as_ref()
                .map_or(0, |_| ATTRIBUTE_FIXED_LEN + SIGNATURE_LEN);
            let sub_device = c
                .sub_device
                .as_ref()
                .map_or(0, |s| ATTRIBUTE_FIXED_LEN + s.len());
            header += 2 + sub_device + cert(&c.certificate) + signature;
            payloads = payloads
                .checked_add(1 + c.id.len() + 8)
                .ok_or_else(|| too_large.clone())?;
        }
        payloads = payloads
            .checked_add(size)
            .ok_or_else(|| too_large.clone())?;
    }
    // The header is at most 64 entries of a few kilobytes: only the payloads can overflow.
    header
        .checked_add(SIGNATURE_LEN)
        .and_then(|h| h.checked_add(payloads))
        .map(drop)
        .ok_or(too_large)
}

/// The payload of component `number` (counted from 1) of a spec: its `size` pseudo-random bytes.
pub fn component_payload(spec: &DeliverySpec, number: usize) -> Result<Vec<u8>, SpecError> {
    let index = spec.index(number)?;
    let mut bytes = vec![0u8; spec.components[index].size as usize];
    fill(spec.seed, index as u64, &mut bytes);
    Ok(bytes)
}

/// Build a valid delivery package signed with `key` (the header signed by the key of the
/// package's certificate when it has one, that certificate issued by `key`).
pub fn build_delivery(spec: &DeliverySpec, key: &SigningKey) -> Vec<u8> {
    assemble(&plan(spec, key, &Tweaks::default()))
        .expect("DeliverySpec::new checked that the package fits in memory")
        .bytes
}

/// Build a delivery package with one deliberate defect (see [`DeliveryDefect`] for what each
/// breaks). Fails when the defect names a component the spec does not have, or when the broken
/// package would not fit in memory.
pub fn build_defective_delivery(
    spec: &DeliverySpec,
    key: &SigningKey,
    defect: DeliveryDefect,
) -> Result<Vec<u8>, SpecError> {
    let too_large = || SpecError::TooLarge(spec.total_size());
    let build = |plan: &Plan| assemble(plan).ok_or_else(too_large);
    let tweaked = |tweaks: Tweaks| build(&plan(spec, key, &tweaks)).map(|a| a.bytes);
    let mut plain = plan(spec, key, &Tweaks::default());
    match defect {
        DeliveryDefect::BadSignature => {
            plain.signer = rogue_key();
            Ok(build(&plain)?.bytes)
        }
        DeliveryDefect::UnsupportedEnvironment(k) => {
            let e = &mut plain.entries[spec.index(k)?];
            e.env_type = different(&e.env_type);
            Ok(build(&plain)?.bytes)
        }
        DeliveryDefect::HugeLength(k) => {
            plain.entries[spec.index(k)?].claimed_len = u64::MAX;
            Ok(build(&plain)?.bytes)
        }
        DeliveryDefect::DuplicateId => {
            if plain.entries.len() == 1 {
                let copy = Entry {
                    attributes: plain.entries[0].attributes.clone(),
                    signer: plain.entries[0].signer.clone(),
                    ..Entry::of(&spec.components[0])
                };
                plain.entries.push(copy);
            } else if let Some(last) = plain.entries.last_mut() {
                last.id = spec.components[0].id.clone();
            }
            Ok(build(&plain)?.bytes)
        }
        DeliveryDefect::Corrupt(k) => {
            let index = spec.index(k)?;
            let mut a = build(&plain)?;
            let range = a.payloads[index].clone();
            a.bytes[range.start + range.len() / 2] ^= 0xFF;
            Ok(a.bytes)
        }
        DeliveryDefect::Truncated => {
            let mut a = build(&plain)?;
            if let Some(last) = a.payloads.last().cloned() {
                a.bytes.truncate(last.start + last.len() / 2);
            }
            Ok(a.bytes)
        }
        DeliveryDefect::BadMagic => {
            let mut a = build(&plain)?;
            a.bytes[0] ^= 0xFF;
            Ok(a.bytes)
        }
        DeliveryDefect::TooManyComponents => {
            let mut a = build(&plain)?;
            a.bytes[a.count_at] = (MAX_COMPONENTS + 1) as u8;
            Ok(a.bytes)
        }
        DeliveryDefect::TamperedHeader => {
            let mut a = build(&plain)?;
            a.bytes[a.last_hash_end - 1] ^= 0x01;
            Ok(a.bytes)
        }
        DeliveryDefect::MissingPayload(k) => tweaked(Tweaks {
            omit: Some(spec.index(k)?),
            ..Tweaks::default()
        }),
        DeliveryDefect::UnknownAttribute => tweaked(Tweaks {
            unknown_attribute: true,
            ..Tweaks::default()
        }),
        DeliveryDefect::CertificateUntrusted => tweaked(Tweaks {
            package_certificate: Some(CertMode::Untrusted),
            ..Tweaks::default()
        }),
        DeliveryDefect::CertificateExpired => tweaked(Tweaks {
            package_certificate: Some(CertMode::Expired),
            ..Tweaks::default()
        }),
        DeliveryDefect::ComponentCertificateUntrusted(k) => tweaked(Tweaks {
            component_certificate: Some((spec.index(k)?, CertMode::Untrusted)),
            ..Tweaks::default()
        }),
        DeliveryDefect::ComponentCertificateExpired(k) => tweaked(Tweaks {
            component_certificate: Some((spec.index(k)?, CertMode::Expired)),
            ..Tweaks::default()
        }),
    }
}

/// A package assembled, with where the defects find what they break.
struct Assembled {
    bytes: Vec<u8>,
    /// Each entry's payload bytes (empty for the one left out).
    payloads: Vec<Range<usize>>,
    /// Where the component count is.
    count_at: usize,
    /// Where the last entry's payload hash ends.
    last_hash_end: usize,
}

/// One allocation of the package's final size: the payloads are generated in place and hashed,
/// then the header is written in front of them and signed. `None` when it does not fit in memory.
fn assemble(plan: &Plan) -> Option<Assembled> {
    let v3 = plan.format == DELIVERY_FORMAT_VERSION_3;
    let (header_len, total) = lengths(plan)?;
    let mut bytes = vec![0u8; total];
    let mut header = Vec::with_capacity(header_len);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&plan.format.to_be_bytes());
    // Every text is 1 to 255 bytes (the spec's, or `different`'s), at most 65 entries, every
    // attribute block within 65 535 bytes (DeliverySpec checks them).
    header.push(plan.pkg_id.len() as u8);
    header.extend_from_slice(plan.pkg_id.as_bytes());
    if v3 {
        let block = terms::encode(&plan.attributes);
        header.extend_from_slice(&(block.len() as u16).to_be_bytes());
        header.extend_from_slice(&block);
    }
    let count_at = header.len();
    header.push(plan.entries.len() as u8);
    let mut start = header_len + SIGNATURE_LEN;
    let mut payloads = Vec::with_capacity(plan.entries.len());
    let mut last_hash_end = 0;
    for (index, e) in plan.entries.iter().enumerate() {
        let hash: [u8; 32] = if Some(index) == plan.omit {
            // Left out of the package: hashed, never written.
            let mut payload = vec![0u8; e.size as usize];
            fill(plan.seed, e.stream, &mut payload);
            payloads.push(start..start);
            Sha256::digest(&payload).into()
        } else {
            if v3 {
                bytes[start] = e.id.len() as u8;
                bytes[start + 1..start + 1 + e.id.len()].copy_from_slice(e.id.as_bytes());
                start += 1 + e.id.len();
                bytes[start..start + 8].copy_from_slice(&e.size.to_be_bytes());
                start += 8;
            }
            let end = start + e.size as usize;
            fill(plan.seed, e.stream, &mut bytes[start..end]);
            payloads.push(start..end);
            let hash = Sha256::digest(&bytes[start..end]).into();
            start = end;
            hash
        };
        for text in [&e.id, &e.name, &e.version, &e.env_type] {
            header.push(text.len() as u8);
            header.extend_from_slice(text.as_bytes());
        }
        header.extend_from_slice(&e.claimed_len.to_be_bytes());
        header.extend_from_slice(&hash);
        last_hash_end = header.len();
        if v3 {
            let mut attributes = e.attributes.clone();
            if let Some(signer) = &e.signer {
                let entry = ComponentHeader {
                    id: e.id.clone(),
                    name: e.name.clone(),
                    version: e.version.clone(),
                    env_type: e.env_type.clone(),
                    payload_len: e.claimed_len,
                    payload_hash: hash,
                    attributes: Vec::new(),
                };
                let statement = component_statement(&plan.pkg_id, &entry);
                let signature = signer.sign(&statement).to_bytes().to_vec();
                attributes.push((TAG_SIGNATURE, signature));
            }
            let block = terms::encode(&attributes);
            header.extend_from_slice(&(block.len() as u16).to_be_bytes());
            header.extend_from_slice(&block);
        }
    }
    if v3 {
        let area = (total - header_len - SIGNATURE_LEN) as u64;
        header.extend_from_slice(&area.to_be_bytes());
    }
    debug_assert_eq!(header.len(), header_len);
    bytes[..header_len].copy_from_slice(&header);
    let signature = plan.signer.sign(&header);
    bytes[header_len..header_len + SIGNATURE_LEN].copy_from_slice(&signature.to_bytes());
    Some(Assembled {
        bytes,
        payloads,
        count_at,
        last_hash_end,
    })
}

#[cfg(test)]
mod tests {
    use super::super::DELIVERY_FORMAT_VERSION;
    use super::*;

    #[test]
    fn a_spec_without_terms_builds_format_2_and_with_terms_format_3() {
        let c = ComponentSpec::new("a", "A", "1", "Linux", 4).expect("component");
        let spec = DeliverySpec::new("p", vec![c.clone()]).expect("spec");
        assert_eq!(spec.format(), DELIVERY_FORMAT_VERSION);
        let key = crate::package::test_signing_key();
        assert_eq!(build_delivery(&spec, &key)[9], 2);
        let pen = DeliverySpec::new("p", vec![c.with_sub_device("pen").expect("sub-device")])
            .expect("spec");
        assert_eq!(pen.format(), DELIVERY_FORMAT_VERSION_3);
        assert_eq!(build_delivery(&pen, &key)[9], 3);
        let missing = build_defective_delivery(&spec, &key, DeliveryDefect::MissingPayload(1))
            .expect("builds");
        assert_eq!(missing[9], 3);
    }
}
