//! Signing certificates of delivery packages and of their components: a small dmsim record, not
//! X.509. The device's trust anchor is the key it trusts for packages (`trusted`, the test key by
//! default); a certificate, issued (signed) by the anchor's holder, lets another key sign for a
//! while: a package carrying one is signed with the certificate's key instead of the anchor's, a
//! component carrying one is signed (on its own) with its certificate's key.
//!
//! # The record
//!
//! | offset | size | field |
//! | --- | --- | --- |
//! | 0 | 1 | `s`: length of the subject (1 to 255) |
//! | 1 | `s` | subject: who holds the key (UTF-8), e.g. `acme-apps` |
//! | 1+`s` | 32 | the subject's Ed25519 public key |
//! | 33+`s` | 8 | not before: seconds since the Unix epoch (UTC) |
//! | 41+`s` | 8 | not after: seconds since the Unix epoch (UTC), the last valid second |
//! | 49+`s` | 64 | the issuer's Ed25519 signature over `DMSIMCRT` followed by bytes `0..49+s` |
//!
//! # Validation
//!
//! A device validates a certificate against its trust anchor and its clock, in this order:
//! the record must read (else it fails to validate), the issuer's signature must verify with the
//! anchor (else it fails to validate), the device's clock must not be before not-before (a
//! certificate not yet valid fails to validate), and must not be after not-after (the certificate
//! expired). Only then is the subject's key used. With no certificate the anchor's key signs, as
//! before certificates.
//!
//! The subject's key is derived from the issuer's key and the subject ([`subject_key`]): whoever
//! holds the anchor's private key can build packages signed under any subject, and nobody else
//! can. That is a simulator's shortcut (a real issuer never sees its subjects' private keys), kept
//! so that `dmsim package` needs one key file.

use super::time::format_time;
use super::{SigningKey, VerifyingKey, MAX_TEXT_LEN, SIGNATURE_LEN};
use ed25519_dalek::{Signature, Signer};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What the issuer's signature is over, before the record's bytes.
const CONTEXT: &[u8; 8] = b"DMSIMCRT";

/// A certificate to issue: `subject` may sign from `not_before` to `not_after` (seconds since the
/// Unix epoch, both included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateSpec {
    pub subject: String,
    pub not_before: u64,
    pub not_after: u64,
}

/// 2025-01-01T00:00:00Z: where certificates' validity starts unless they say otherwise.
pub const DEFAULT_NOT_BEFORE: u64 = 1_735_689_600;
/// 2036-01-01T00:00:00Z: where certificates' validity ends unless they say otherwise (ten years
/// after a simulated device's clock starts).
pub const DEFAULT_NOT_AFTER: u64 = 2_082_758_400;
/// 2025-06-01T00:00:00Z: when the certificates of the `cert-expired` defects expired, before a
/// simulated device's clock starts (and before any real device's today).
pub const EXPIRED_NOT_AFTER: u64 = 1_748_736_000;

impl CertificateSpec {
    /// `subject` valid from [`DEFAULT_NOT_BEFORE`] to [`DEFAULT_NOT_AFTER`].
    pub fn new(subject: impl Into<String>) -> CertificateSpec {
        CertificateSpec {
            subject: subject.into(),
            not_before: DEFAULT_NOT_BEFORE,
            not_after: DEFAULT_NOT_AFTER,
        }
    }

    /// Whether it can be issued: a subject of 1 to 255 bytes, not-before no later than not-after.
    pub fn is_valid(&self) -> bool {
        !self.subject.is_empty()
            && self.subject.len() <= MAX_TEXT_LEN
            && self.not_before <= self.not_after
    }

    /// The same certificate, expired: valid for a year up to [`EXPIRED_NOT_AFTER`].
    pub fn expired(&self) -> CertificateSpec {
        CertificateSpec {
            subject: self.subject.clone(),
            not_before: EXPIRED_NOT_AFTER - 365 * 86_400,
            not_after: EXPIRED_NOT_AFTER,
        }
    }
}

/// A certificate as read from its record (nothing in it believed before [`Certificate::validate`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    pub subject: String,
    pub key: [u8; 32],
    pub not_before: u64,
    pub not_after: u64,
    pub signature: [u8; SIGNATURE_LEN],
}

/// What a validated certificate says, for the verified package's view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateInfo {
    pub subject: String,
    pub not_before: u64,
    pub not_after: u64,
}

/// Why a certificate does not validate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "kebab-case")]
pub enum CertificateError {
    /// The record does not read, or its key is not a key (fails to validate).
    #[error("the certificate record is malformed")]
    Malformed,
    /// The issuer's signature does not verify with the trust anchor (fails to validate).
    #[error("the certificate of {subject:?} is not issued by the device's trust anchor")]
    Untrusted { subject: String },
    /// The device's clock is before not-before (fails to validate).
    #[error("the certificate of {subject:?} is not valid before {} (the device's clock says {})", format_time(*.not_before), format_time(*.now))]
    NotYetValid {
        subject: String,
        not_before: u64,
        now: u64,
    },
    /// The device's clock is after not-after.
    #[error("the certificate of {subject:?} expired at {} (the device's clock says {})", format_time(*.not_after), format_time(*.now))]
    Expired {
        subject: String,
        not_after: u64,
        now: u64,
    },
}

/// The key `issuer` derives for `subject` (see the module docs).
pub fn subject_key(issuer: &SigningKey, subject: &str) -> SigningKey {
    let mut hash = Sha256::new();
    hash.update(b"dmsim certificate subject key\0");
    hash.update(issuer.to_bytes());
    hash.update(subject.as_bytes());
    SigningKey::from_bytes(&hash.finalize().into())
}

/// The record's bytes before the signature.
fn body(subject: &str, key: &[u8; 32], not_before: u64, not_after: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(49 + subject.len());
    // CertificateSpec::is_valid keeps the subject within 255 bytes; a longer one is cut to its
    // first 255 bytes' worth of length, and so never validates.
    out.push(u8::try_from(subject.len()).unwrap_or(u8::MAX));
    out.extend_from_slice(subject.as_bytes());
    out.extend_from_slice(key);
    out.extend_from_slice(&not_before.to_be_bytes());
    out.extend_from_slice(&not_after.to_be_bytes());
    out
}

fn signed_message(body: &[u8]) -> Vec<u8> {
    let mut message = CONTEXT.to_vec();
    message.extend_from_slice(body);
    message
}

impl Certificate {
    /// Issue `spec` with `issuer`'s key: the record, and the subject's signing key.
    pub fn issue(spec: &CertificateSpec, issuer: &SigningKey) -> (Certificate, SigningKey) {
        let subject = subject_key(issuer, &spec.subject);
        let key = subject.verifying_key().to_bytes();
        let body = body(&spec.subject, &key, spec.not_before, spec.not_after);
        let signature = issuer.sign(&signed_message(&body)).to_bytes();
        let cert = Certificate {
            subject: spec.subject.clone(),
            key,
            not_before: spec.not_before,
            not_after: spec.not_after,
            signature,
        };
        (cert, subject)
    }

    /// The record (see the module docs).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = body(&self.subject, &self.key, self.not_before, self.not_after);
        out.extend_from_slice(&self.signature);
        out
    }

    /// Read a record: exactly its bytes, or `None`.
    pub fn parse(bytes: &[u8]) -> Option<Certificate> {
        let (&len, rest) = bytes.split_first()?;
        let len = usize::from(len);
        if len == 0 || rest.len() != len + 32 + 8 + 8 + SIGNATURE_LEN {
            return None;
        }
        let (subject, rest) = rest.split_at(len);
        let (key, rest) = rest.split_at(32);
        let (not_before, rest) = rest.split_at(8);
        let (not_after, signature) = rest.split_at(8);
        Some(Certificate {
            subject: std::str::from_utf8(subject).ok()?.to_string(),
            key: key.try_into().ok()?,
            not_before: u64::from_be_bytes(not_before.try_into().ok()?),
            not_after: u64::from_be_bytes(not_after.try_into().ok()?),
            signature: signature.try_into().ok()?,
        })
    }

    /// Validate the record `bytes` against the trust anchor at time `now` (see the module docs):
    /// the subject's key and what the certificate says, or why it does not validate.
    pub fn validate(
        bytes: &[u8],
        anchor: &VerifyingKey,
        now: u64,
    ) -> Result<(VerifyingKey, CertificateInfo), CertificateError> {
        let cert = Certificate::parse(bytes).ok_or(CertificateError::Malformed)?;
        let body = body(&cert.subject, &cert.key, cert.not_before, cert.not_after);
        anchor
            .verify_strict(
                &signed_message(&body),
                &Signature::from_bytes(&cert.signature),
            )
            .map_err(|_| CertificateError::Untrusted {
                subject: cert.subject.clone(),
            })?;
        let key = VerifyingKey::from_bytes(&cert.key).map_err(|_| CertificateError::Malformed)?;
        if now < cert.not_before {
            return Err(CertificateError::NotYetValid {
                subject: cert.subject,
                not_before: cert.not_before,
                now,
            });
        }
        if now > cert.not_after {
            return Err(CertificateError::Expired {
                subject: cert.subject,
                not_after: cert.not_after,
                now,
            });
        }
        let info = CertificateInfo {
            subject: cert.subject,
            not_before: cert.not_before,
            not_after: cert.not_after,
        };
        Ok((key, info))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::{rogue_key, test_signing_key};

    const NOW: u64 = 1_767_225_600;

    #[test]
    fn an_issued_certificate_validates_and_its_key_signs() {
        let anchor = test_signing_key();
        let (cert, key) = Certificate::issue(&CertificateSpec::new("acme"), &anchor);
        let bytes = cert.to_bytes();
        assert_eq!(bytes.len(), 1 + 4 + 32 + 8 + 8 + 64);
        assert_eq!(Certificate::parse(&bytes), Some(cert.clone()));
        let (subject, info) =
            Certificate::validate(&bytes, &anchor.verifying_key(), NOW).expect("valid");
        assert_eq!(subject, key.verifying_key());
        assert_eq!(info.subject, "acme");
        assert_eq!(
            (info.not_before, info.not_after),
            (DEFAULT_NOT_BEFORE, DEFAULT_NOT_AFTER)
        );
        // Another subject, another key; the same subject, the same key.
        assert_ne!(subject_key(&anchor, "other"), key);
        assert_eq!(subject_key(&anchor, "acme"), key);
    }

    #[test]
    fn every_way_a_certificate_fails_is_told_apart() {
        let anchor = test_signing_key();
        let trusted = anchor.verifying_key();
        let spec = CertificateSpec::new("acme");
        let untrusted = Certificate::issue(&spec, &rogue_key()).0.to_bytes();
        assert_eq!(
            Certificate::validate(&untrusted, &trusted, NOW),
            Err(CertificateError::Untrusted {
                subject: "acme".into()
            })
        );
        let expired = Certificate::issue(&spec.expired(), &anchor).0.to_bytes();
        assert!(matches!(
            Certificate::validate(&expired, &trusted, NOW),
            Err(CertificateError::Expired {
                not_after: EXPIRED_NOT_AFTER,
                now: NOW,
                ..
            })
        ));
        // The last second is still valid, the first second too.
        let bytes = Certificate::issue(&spec, &anchor).0.to_bytes();
        assert!(Certificate::validate(&bytes, &trusted, DEFAULT_NOT_AFTER).is_ok());
        assert!(Certificate::validate(&bytes, &trusted, DEFAULT_NOT_BEFORE).is_ok());
        assert!(matches!(
            Certificate::validate(&bytes, &trusted, DEFAULT_NOT_AFTER + 1),
            Err(CertificateError::Expired { .. })
        ));
        assert!(matches!(
            Certificate::validate(&bytes, &trusted, DEFAULT_NOT_BEFORE - 1),
            Err(CertificateError::NotYetValid { .. })
        ));
        // A changed date is a changed record: the issuer's signature no longer verifies.
        let mut stretched = bytes.clone();
        let not_after_at = 1 + 4 + 32 + 8;
        stretched[not_after_at] ^= 0x01;
        assert!(matches!(
            Certificate::validate(&stretched, &trusted, NOW),
            Err(CertificateError::Untrusted { .. })
        ));
        for cut in 0..bytes.len() {
            assert_eq!(
                Certificate::validate(&bytes[..cut], &trusted, NOW),
                Err(CertificateError::Malformed),
                "{cut}"
            );
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(
            Certificate::validate(&longer, &trusted, NOW),
            Err(CertificateError::Malformed)
        );
    }

    #[test]
    fn specs_that_cannot_be_issued_are_told() {
        assert!(CertificateSpec::new("a").is_valid());
        assert!(!CertificateSpec::new("").is_valid());
        assert!(!CertificateSpec::new("x".repeat(256)).is_valid());
        let backwards = CertificateSpec {
            not_before: 2,
            not_after: 1,
            ..CertificateSpec::new("a")
        };
        assert!(!backwards.is_valid());
        assert!(CertificateSpec::new("a").expired().is_valid());
    }
}
