//! The terms of a delivery package of format version 3: what its manifest says, beyond the
//! components themselves, about where, when and after what it may be installed, and who signed
//! it. They are attributes (tag, length, value) in the package's attribute block and in each
//! component's; the [module docs](super) give the layout.
//!
//! | tag | where | value | meaning |
//! | --- | --- | --- | --- |
//! | 1 | package | a PkgID (text) | the package requires this package installed first (repeatable) |
//! | 2 | package | a DevId (text) | the package is for this device (repeatable; none: any device) |
//! | 3 | package | a version (text) | the package is for devices running this software version (`DevDetail/SwV`) |
//! | 4 | package | 8 bytes | the package is valid until this time (seconds since the Unix epoch, UTC) |
//! | 5 | package, component | a certificate record ([`super::cert`]) | who signed the package, or the component |
//! | 6 | component | a sub-device id (text) | the component is for this attached peripheral |
//! | 7 | component | 64 bytes | the component's signature by its certificate's key (with tag 5 only) |
//!
//! Texts are 1 to 255 bytes of UTF-8 (the attribute's length is theirs). Every attribute is
//! critical: a device does not install what it cannot fully read, since an attribute it skipped
//! could be a condition it did not check. An attribute of an unknown tag, one in the wrong place,
//! a single-valued one twice, a value of the wrong size, or a component certificate without its
//! signature (or the other way round) make the format invalid. Nothing is read from the terms
//! before the package's signature verifies, except the package's certificate, which says which
//! key that signature is by.

use super::cert::CertificateInfo;
use super::{MAX_TEXT_LEN, SIGNATURE_LEN};
use serde::{Deserialize, Serialize};

/// Tag: a PkgID the package requires installed first.
pub const TAG_REQUIRES: u8 = 1;
/// Tag: a DevId the package is for.
pub const TAG_DEVICE: u8 = 2;
/// Tag: the software version the device must run.
pub const TAG_SOURCE_VERSION: u8 = 3;
/// Tag: the end of the package's validity.
pub const TAG_VALID_UNTIL: u8 = 4;
/// Tag: a certificate record.
pub const TAG_CERTIFICATE: u8 = 5;
/// Tag: the sub-device a component is for.
pub const TAG_SUB_DEVICE: u8 = 6;
/// Tag: a component's signature by its certificate's key.
pub const TAG_SIGNATURE: u8 = 7;

/// Why a delivery package's format is invalid (Knox E-FOTA -1458: the update format is invalid or
/// some of the files are missing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "kebab-case")]
pub enum FormatReason {
    #[error("the manifest lists component {component:?}, whose payload is not in the package")]
    MissingPayload { component: String },
    #[error("the package carries a payload for {component:?}, which its manifest does not list")]
    UnlistedPayload { component: String },
    #[error("the package carries two payloads for {component:?}")]
    DuplicatePayload { component: String },
    #[error(
        "an attribute of unknown kind {tag} (a device does not install what it cannot fully read)"
    )]
    UnknownAttribute { tag: u8 },
    #[error("attribute {tag} is malformed or out of place")]
    MalformedAttribute { tag: u8 },
    #[error("attribute {tag} appears twice")]
    RepeatedAttribute { tag: u8 },
    #[error("an attribute runs past the end of its block")]
    AttributeOverrun,
    #[error("component {component:?} has a certificate without a signature, or a signature without a certificate")]
    IncompleteSignature { component: String },
}

/// What a verified package's manifest says about where and when it may be installed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageTerms {
    /// PkgIDs that must be installed first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<String>,
    /// The devices (DevIds) it is for; empty: any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<String>,
    /// The software version the device must run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_version: Option<String>,
    /// The last second it is valid (seconds since the Unix epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<u64>,
    /// The certificate it was signed under, validated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<CertificateInfo>,
}

impl PackageTerms {
    /// Whether the package says nothing beyond its components (as every version 2 package).
    pub fn is_empty(&self) -> bool {
        *self == PackageTerms::default()
    }
}

/// What a verified component's entry says beyond the component itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentTerms {
    /// The attached peripheral it is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_device: Option<String>,
    /// The certificate it was signed under, validated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<CertificateInfo>,
}

/// An attribute block's attributes, in order.
pub fn split(block: &[u8]) -> Result<Vec<(u8, &[u8])>, FormatReason> {
    let mut out = Vec::new();
    let mut rest = block;
    while let Some((&tag, after)) = rest.split_first() {
        let len = after
            .get(..2)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
            .ok_or(FormatReason::AttributeOverrun)?;
        let value = after
            .get(2..2 + len)
            .ok_or(FormatReason::AttributeOverrun)?;
        out.push((tag, value));
        rest = &after[2 + len..];
    }
    Ok(out)
}

/// An attribute block of `attributes` (each value at most 65 535 bytes; the builders' are far
/// smaller).
pub fn encode(attributes: &[(u8, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (tag, value) in attributes {
        out.push(*tag);
        out.extend_from_slice(&u16::try_from(value.len()).unwrap_or(u16::MAX).to_be_bytes());
        out.extend_from_slice(value);
    }
    out
}

fn text(tag: u8, value: &[u8]) -> Result<String, FormatReason> {
    if value.is_empty() || value.len() > MAX_TEXT_LEN {
        return Err(FormatReason::MalformedAttribute { tag });
    }
    std::str::from_utf8(value)
        .map(str::to_string)
        .map_err(|_| FormatReason::MalformedAttribute { tag })
}

fn once<T>(slot: &mut Option<T>, tag: u8, value: T) -> Result<(), FormatReason> {
    if slot.is_some() {
        return Err(FormatReason::RepeatedAttribute { tag });
    }
    *slot = Some(value);
    Ok(())
}

/// The package's certificate record, when its block has one (read before the signature is
/// checked, to know which key it is by; a block that does not split has none).
pub fn package_certificate(block: &[u8]) -> Option<&[u8]> {
    split(block)
        .ok()?
        .into_iter()
        .find(|&(tag, _)| tag == TAG_CERTIFICATE)
        .map(|(_, value)| value)
}

/// The package's terms (its certificate left for the caller, who validated it), or why the block
/// is not a valid one.
pub fn read_package(block: &[u8]) -> Result<PackageTerms, FormatReason> {
    let mut terms = PackageTerms::default();
    let mut certificate = None;
    for (tag, value) in split(block)? {
        match tag {
            TAG_REQUIRES => terms.requires.push(text(tag, value)?),
            TAG_DEVICE => terms.devices.push(text(tag, value)?),
            TAG_SOURCE_VERSION => once(&mut terms.source_version, tag, text(tag, value)?)?,
            TAG_VALID_UNTIL => {
                let secs = <[u8; 8]>::try_from(value)
                    .map_err(|_| FormatReason::MalformedAttribute { tag })?;
                once(&mut terms.valid_until, tag, u64::from_be_bytes(secs))?;
            }
            TAG_CERTIFICATE => once(&mut certificate, tag, ())?,
            TAG_SUB_DEVICE | TAG_SIGNATURE => return Err(FormatReason::MalformedAttribute { tag }),
            _ => return Err(FormatReason::UnknownAttribute { tag }),
        }
    }
    Ok(terms)
}

/// A component's signed statement: its certificate record and its signature.
pub struct ComponentSignature<'a> {
    pub certificate: &'a [u8],
    pub signature: [u8; SIGNATURE_LEN],
}

/// A component's terms (its certificate left for the caller to validate, with the signature it
/// must check), or why the block is not a valid one.
pub fn read_component<'a>(
    component: &str,
    block: &'a [u8],
) -> Result<(ComponentTerms, Option<ComponentSignature<'a>>), FormatReason> {
    let mut terms = ComponentTerms::default();
    let mut certificate = None;
    let mut signature = None;
    for (tag, value) in split(block)? {
        match tag {
            TAG_SUB_DEVICE => once(&mut terms.sub_device, tag, text(tag, value)?)?,
            TAG_CERTIFICATE => once(&mut certificate, tag, value)?,
            TAG_SIGNATURE => {
                let sig = <[u8; SIGNATURE_LEN]>::try_from(value)
                    .map_err(|_| FormatReason::MalformedAttribute { tag })?;
                once(&mut signature, tag, sig)?;
            }
            TAG_REQUIRES | TAG_DEVICE | TAG_SOURCE_VERSION | TAG_VALID_UNTIL => {
                return Err(FormatReason::MalformedAttribute { tag })
            }
            _ => return Err(FormatReason::UnknownAttribute { tag }),
        }
    }
    let signed = match (certificate, signature) {
        (Some(certificate), Some(signature)) => Some(ComponentSignature {
            certificate,
            signature,
        }),
        (None, None) => None,
        _ => {
            return Err(FormatReason::IncompleteSignature {
                component: component.to_string(),
            })
        }
    };
    Ok((terms, signed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_split_and_encode_back() {
        let attributes = vec![
            (TAG_REQUIRES, b"base".to_vec()),
            (TAG_DEVICE, b"IMEI:1".to_vec()),
            (TAG_VALID_UNTIL, 7u64.to_be_bytes().to_vec()),
        ];
        let block = encode(&attributes);
        let split = split(&block).expect("splits");
        let back: Vec<(u8, Vec<u8>)> = split.iter().map(|(t, v)| (*t, v.to_vec())).collect();
        assert_eq!(back, attributes);
        let terms = read_package(&block).expect("reads");
        assert_eq!(terms.requires, ["base"]);
        assert_eq!(terms.devices, ["IMEI:1"]);
        assert_eq!(terms.valid_until, Some(7));
        assert!(!terms.is_empty());
        assert!(read_package(&[]).expect("empty").is_empty());
        for cut in 1..block.len() {
            let r = super::split(&block[..cut]);
            // A cut between two attributes is a shorter block, anywhere else an overrun.
            if r.is_ok() {
                assert!([7, 16].contains(&cut), "{cut}");
            } else {
                assert_eq!(r, Err(FormatReason::AttributeOverrun), "{cut}");
            }
        }
    }

    #[test]
    fn every_invalid_block_is_told() {
        let one = |tag: u8, value: &[u8]| encode(&[(tag, value.to_vec())]);
        let twice = |tag: u8, value: &[u8]| encode(&[(tag, value.to_vec()), (tag, value.to_vec())]);
        let cases = [
            (one(99, b"x"), FormatReason::UnknownAttribute { tag: 99 }),
            (
                one(TAG_REQUIRES, b""),
                FormatReason::MalformedAttribute { tag: 1 },
            ),
            (
                one(TAG_DEVICE, b"\xff"),
                FormatReason::MalformedAttribute { tag: 2 },
            ),
            (
                one(TAG_VALID_UNTIL, b"1234"),
                FormatReason::MalformedAttribute { tag: 4 },
            ),
            (
                one(TAG_SUB_DEVICE, b"pen"),
                FormatReason::MalformedAttribute { tag: 6 },
            ),
            (
                twice(TAG_SOURCE_VERSION, b"1"),
                FormatReason::RepeatedAttribute { tag: 3 },
            ),
            (
                twice(TAG_CERTIFICATE, b"c"),
                FormatReason::RepeatedAttribute { tag: 5 },
            ),
            (
                one(TAG_REQUIRES, &[b'a'; 256]),
                FormatReason::MalformedAttribute { tag: 1 },
            ),
        ];
        for (block, reason) in cases {
            assert_eq!(read_package(&block), Err(reason));
        }
        let component = |block: &[u8]| read_component("c", block).map(|(t, s)| (t, s.is_some()));
        assert_eq!(
            component(&one(TAG_CERTIFICATE, b"c")),
            Err(FormatReason::IncompleteSignature {
                component: "c".into()
            })
        );
        assert_eq!(
            component(&one(TAG_SIGNATURE, &[0; 64])),
            Err(FormatReason::IncompleteSignature {
                component: "c".into()
            })
        );
        assert_eq!(
            component(&one(TAG_SIGNATURE, &[0; 63])),
            Err(FormatReason::MalformedAttribute { tag: 7 })
        );
        assert_eq!(
            component(&one(TAG_REQUIRES, b"x")),
            Err(FormatReason::MalformedAttribute { tag: 1 })
        );
        assert_eq!(
            component(&one(42, b"x")),
            Err(FormatReason::UnknownAttribute { tag: 42 })
        );
        let signed = encode(&[
            (TAG_SUB_DEVICE, b"pen".to_vec()),
            (TAG_CERTIFICATE, b"c".to_vec()),
            (TAG_SIGNATURE, vec![0; 64]),
        ]);
        let (terms, signature) = read_component("c", &signed).expect("reads");
        assert_eq!(terms.sub_device.as_deref(), Some("pen"));
        assert_eq!(signature.map(|s| s.certificate), Some(b"c".as_slice()));
        assert_eq!(
            package_certificate(&one(TAG_CERTIFICATE, b"rec")),
            Some(b"rec".as_slice())
        );
        assert_eq!(package_certificate(&[TAG_CERTIFICATE, 0]), None);
    }
}
