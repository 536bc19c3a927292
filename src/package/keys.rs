//! Package signing keys as files: an Ed25519 key is its 32-byte seed (private) or its 32-byte
//! public key, written as 64 hex digits. Blank lines and lines starting with `#` are comments.
//!
//! `certs/package-signing.key` and `certs/package-signing.pub` are the test pair (public, for tests
//! only); [`test_signing_key`] is the same key without touching the file system.

use super::{from_hex, SigningKey, VerifyingKey};
use std::path::{Path, PathBuf};

/// Where the test signing key lives, relative to the repository.
pub const DEFAULT_SIGNING_KEY: &str = "certs/package-signing.key";
/// Where the test verifying (public) key lives, relative to the repository.
pub const DEFAULT_VERIFYING_KEY: &str = "certs/package-signing.pub";

/// The seed of the test signing key; `certs/package-signing.key` holds the same bytes (a test
/// checks it).
pub const TEST_KEY_SEED: [u8; 32] = [
    0x6f, 0x19, 0x2c, 0xa8, 0xa3, 0x3e, 0x52, 0x89, 0xad, 0x92, 0xc4, 0x84, 0xf7, 0xe8, 0xf6, 0xbc,
    0xda, 0xd0, 0x5a, 0xfb, 0xd2, 0x3f, 0x4d, 0xed, 0xbc, 0x45, 0x08, 0x32, 0x63, 0xba, 0xaf, 0xf9,
];

/// The test signing key (devices trust its public half by default).
pub fn test_signing_key() -> SigningKey {
    SigningKey::from_bytes(&TEST_KEY_SEED)
}

/// Why a key file cannot be used; each names the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("{}: cannot read: {reason}", path.display())]
    Read { path: PathBuf, reason: String },
    #[error("{}: not a package key: {reason}", path.display())]
    Format { path: PathBuf, reason: String },
}

/// Read a signing key (its 32-byte seed in hex).
pub fn load_signing_key(path: &Path) -> Result<SigningKey, KeyError> {
    Ok(SigningKey::from_bytes(&read_32(path)?))
}

/// Read a verifying key (the 32-byte public key in hex).
pub fn load_verifying_key(path: &Path) -> Result<VerifyingKey, KeyError> {
    let bytes = read_32(path)?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| KeyError::Format {
        path: path.to_path_buf(),
        reason: "not a valid Ed25519 public key".to_string(),
    })
}

fn read_32(path: &Path) -> Result<[u8; 32], KeyError> {
    let text = std::fs::read_to_string(path).map_err(|e| KeyError::Read {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    parse_32(&text).map_err(|reason| KeyError::Format {
        path: path.to_path_buf(),
        reason,
    })
}

/// The 32 bytes of a key file's text.
pub(super) fn parse_32(text: &str) -> Result<[u8; 32], String> {
    let hex: String = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let bytes = from_hex(&hex).ok_or_else(|| "expected hex digits".to_string())?;
    <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| format!("expected 32 bytes (64 hex digits), found {}", bytes.len()))
}
