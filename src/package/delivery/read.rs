//! Reading and verifying delivery packages on the device: the structure, then the signature
//! (under the package's certificate when it has one) before anything else is believed, then the
//! terms, the components' certificates, and every payload. The order is the [module docs](super)'.

use super::super::cert::{Certificate, CertificateError};
use super::super::terms::{self, FormatReason};
use super::super::{CorruptReason, Field, InstallError, Reader, MAGIC, SIGNATURE_LEN};
use super::{
    component_statement, Component, ComponentHeader, DeliveryHeader, DeliveryPackage,
    ParsedDelivery, DELIVERY_FORMAT_VERSION, DELIVERY_FORMAT_VERSION_3, MAX_COMPONENTS,
};
use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::ops::Range;

/// Read a delivery package's structure: magic, format version 2 or 3, package id, (format 3: its
/// attribute block), 1 to 64 component entries (format 3: each with its attribute block), (format
/// 3: the payload area's length) and the signature. Checks nothing else (not the signature, not
/// the attributes, not the payloads).
pub fn parse_delivery(bytes: &[u8]) -> Result<ParsedDelivery<'_>, InstallError> {
    parse_inner(bytes).map_err(InstallError::Corrupt)
}

fn block(r: &mut Reader<'_>) -> Result<Vec<u8>, CorruptReason> {
    let len = u16::from_be_bytes(r.array(Field::Attributes)?);
    Ok(r.take(usize::from(len), Field::Attributes)?.to_vec())
}

fn parse_inner(bytes: &[u8]) -> Result<ParsedDelivery<'_>, CorruptReason> {
    let mut r = Reader { bytes, pos: 0 };
    if r.take(MAGIC.len(), Field::Magic) != Ok(MAGIC.as_slice()) {
        return Err(CorruptReason::BadMagic);
    }
    let format = u16::from_be_bytes(r.array(Field::FormatVersion)?);
    if format != DELIVERY_FORMAT_VERSION && format != DELIVERY_FORMAT_VERSION_3 {
        return Err(CorruptReason::UnsupportedFormat(format));
    }
    let v3 = format == DELIVERY_FORMAT_VERSION_3;
    let pkg_id = r.text(Field::PackageId)?;
    let attributes = if v3 { block(&mut r)? } else { Vec::new() };
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
            attributes: if v3 { block(&mut r)? } else { Vec::new() },
        });
    }
    let payloads_len = if v3 {
        Some(u64::from_be_bytes(r.array(Field::PayloadLength)?))
    } else {
        None
    };
    let signed_end = r.pos;
    let signature = r.array(Field::Signature)?;
    Ok(ParsedDelivery {
        format,
        header: DeliveryHeader {
            pkg_id,
            components,
            attributes,
            payloads_len,
        },
        signed: &bytes[..signed_end],
        signature,
        payloads: &bytes[r.pos..],
    })
}

/// A certificate's failure, as the install error of whoever carries it.
fn certificate_error(holder: String) -> impl FnOnce(CertificateError) -> InstallError {
    move |error| InstallError::Certificate { holder, error }
}

/// The package's own checks, without the device's: structure; the package's certificate, when it
/// has one, against the trust anchor `trusted` and the clock `now`; the signature (with the
/// certificate's key, or the anchor's); unique component ids; the terms; the components'
/// certificates and signatures; the payloads' lengths, records and hashes.
pub fn verify_delivery(
    bytes: &[u8],
    trusted: &VerifyingKey,
    now: u64,
) -> Result<DeliveryPackage, InstallError> {
    let parsed = parse_delivery(bytes)?;
    let signer = match terms::package_certificate(&parsed.header.attributes) {
        Some(record) => Some(
            Certificate::validate(record, trusted, now)
                .map_err(certificate_error("the package".to_string()))?,
        ),
        None => None,
    };
    let (key, certificate) = match signer {
        Some((key, info)) => (key, Some(info)),
        None => (*trusted, None),
    };
    key.verify_strict(parsed.signed, &Signature::from_bytes(&parsed.signature))
        .map_err(|_| InstallError::BadSignature)?;
    let corrupt = InstallError::Corrupt;
    let header = parsed.header;
    let mut ids = HashSet::new();
    for c in &header.components {
        if !ids.insert(c.id.as_str()) {
            return Err(corrupt(CorruptReason::DuplicateComponent(c.id.clone())));
        }
    }
    let mut package_terms =
        terms::read_package(&header.attributes).map_err(InstallError::InvalidFormat)?;
    package_terms.certificate = certificate;
    let mut component_terms = Vec::with_capacity(header.components.len());
    for c in &header.components {
        let (mut t, signed) =
            terms::read_component(&c.id, &c.attributes).map_err(InstallError::InvalidFormat)?;
        if let Some(signed) = signed {
            let holder = format!("component {:?}", c.id);
            let (key, info) = Certificate::validate(signed.certificate, trusted, now)
                .map_err(certificate_error(holder))?;
            key.verify_strict(
                &component_statement(&header.pkg_id, c),
                &Signature::from_bytes(&signed.signature),
            )
            .map_err(|_| InstallError::BadSignature)?;
            t.certificate = Some(info);
        }
        component_terms.push(t);
    }
    let declared = header
        .components
        .iter()
        .try_fold(0u64, |sum, c| sum.checked_add(c.payload_len))
        .ok_or(corrupt(CorruptReason::LengthOverflow))?;
    let start = parsed.signed.len() + SIGNATURE_LEN;
    let ranges = match header.payloads_len {
        None => positional(&header.components, parsed.payloads, start, declared)?,
        Some(area) => records(&header.components, parsed.payloads, start, area)?,
    };
    let mut components = Vec::with_capacity(header.components.len());
    for ((c, payload), terms) in header
        .components
        .into_iter()
        .zip(ranges)
        .zip(component_terms)
    {
        let bytes = bytes.get(payload.clone()).unwrap_or(&[]);
        if <[u8; 32]>::from(Sha256::digest(bytes)) != c.payload_hash {
            return Err(corrupt(CorruptReason::ComponentHashMismatch {
                component: c.id,
            }));
        }
        components.push(Component {
            header: c,
            payload,
            terms,
        });
    }
    Ok(DeliveryPackage {
        pkg_id: header.pkg_id,
        components,
        terms: package_terms,
    })
}

/// Format 2: the payloads one after the other from `start`, as long as the header says, and
/// nothing after them.
fn positional(
    components: &[ComponentHeader],
    payloads: &[u8],
    mut start: usize,
    declared: u64,
) -> Result<Vec<Range<usize>>, InstallError> {
    let corrupt = InstallError::Corrupt;
    let actual = payloads.len() as u64;
    if declared != actual {
        return Err(corrupt(CorruptReason::PayloadLength { declared, actual }));
    }
    // The lengths add up to the bytes there are, so each fits a usize and every range is in
    // bounds; checked all the same.
    let mut out = Vec::with_capacity(components.len());
    for c in components {
        let end = usize::try_from(c.payload_len)
            .ok()
            .and_then(|len| start.checked_add(len))
            .ok_or(corrupt(CorruptReason::LengthOverflow))?;
        out.push(start..end);
        start = end;
    }
    Ok(out)
}

/// Format 3: the payload area is as long as the header declares (else the package was damaged:
/// corrupt), and holds one record per component, in any order (a component without one, a record
/// of no component or two of one make the format invalid); each record as long as its component's
/// entry says (else corrupt).
fn records(
    components: &[ComponentHeader],
    payloads: &[u8],
    start: usize,
    area: u64,
) -> Result<Vec<Range<usize>>, InstallError> {
    let corrupt = InstallError::Corrupt;
    let invalid = InstallError::InvalidFormat;
    let actual = payloads.len() as u64;
    if area != actual {
        return Err(corrupt(CorruptReason::PayloadLength {
            declared: area,
            actual,
        }));
    }
    let mut found: Vec<Option<Range<usize>>> = vec![None; components.len()];
    let mut r = Reader {
        bytes: payloads,
        pos: 0,
    };
    while r.pos < payloads.len() {
        let id = r.text(Field::ComponentId).map_err(corrupt)?;
        let len = u64::from_be_bytes(r.array(Field::PayloadLength).map_err(corrupt)?);
        let at = r.pos;
        let body = usize::try_from(len)
            .ok()
            .and_then(|n| r.take(n, Field::PayloadLength).ok())
            .ok_or(corrupt(CorruptReason::Truncated(Field::PayloadLength)))?;
        let Some(index) = components.iter().position(|c| c.id == id) else {
            return Err(invalid(FormatReason::UnlistedPayload { component: id }));
        };
        if found[index].is_some() {
            return Err(invalid(FormatReason::DuplicatePayload { component: id }));
        }
        let declared = components[index].payload_len;
        if declared != len {
            return Err(corrupt(CorruptReason::PayloadLength {
                declared,
                actual: len,
            }));
        }
        found[index] = Some(start + at..start + at + body.len());
    }
    components
        .iter()
        .zip(found)
        .map(|(c, range)| {
            range.ok_or_else(|| {
                invalid(FormatReason::MissingPayload {
                    component: c.id.clone(),
                })
            })
        })
        .collect()
}
