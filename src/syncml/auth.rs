//! SyncML DM credentials in both directions (reference §2): building and checking `Cred` elements
//! (basic and MD5 digest), the HMAC transport header, challenges and nonces.
//!
//! Everything here is a pure function of its inputs (no IO, no clock): the device side uses it to
//! answer a `Chal`, the mock server to check what the device sent and to issue the next challenge.
//!
//! Formulas (reference §2.2, §2.3), where `B64` is base64 and `nonce` the *raw* bytes of the
//! base64-decoded `NextNonce`:
//!
//! * basic: `B64(name ":" pwd)`
//! * MD5 digest: `B64(MD5(B64(MD5(name ":" pwd)) ":" nonce))`
//! * HMAC: `B64(MD5(B64(MD5(name ":" pwd)) ":" nonce ":" B64(MD5(body))))`
//!
//! Base64 read from a peer is decoded leniently: ASCII whitespace anywhere is ignored and the `=`
//! padding may be present or absent. Base64 we write is always padded standard base64.

use std::fmt;

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use md5::{Digest, Md5};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{Chal, Cred, Meta};

/// Name of the HTTP header that carries HMAC credentials.
pub const HMAC_HEADER: &str = "x-syncml-hmac";
/// Meta Format of credentials and nonces.
pub const FORMAT_B64: &str = "b64";
/// Length in bytes of the nonces [`NonceSource`] issues.
pub const NONCE_LEN: usize = 16;
/// How many times either side may fail authentication in one session: after that many the
/// session ends with Alert 1223 (the device aborts it; the mock server ends it for good).
pub const MAX_AUTH_ATTEMPTS: u32 = 3;

/// Base64 decoder for peer input: standard alphabet, padding optional.
const LENIENT_B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// An authentication scheme of SyncML DM (reference §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthType {
    /// `syncml:auth-basic`: name and password in clear (base64) in `Cred`.
    Basic,
    /// `syncml:auth-md5`: MD5 digest over name, password and nonce in `Cred`.
    Md5,
    /// `syncml:auth-MAC`: MAC over the whole message body, in the `x-syncml-hmac` header.
    Hmac,
}

impl AuthType {
    /// The Meta Type naming this scheme in `Cred` and `Chal`.
    pub fn meta_type(&self) -> &'static str {
        match self {
            AuthType::Basic => "syncml:auth-basic",
            AuthType::Md5 => "syncml:auth-md5",
            AuthType::Hmac => "syncml:auth-MAC",
        }
    }

    /// The scheme a Meta Type names (case-insensitive, surrounding whitespace ignored).
    pub fn from_meta_type(s: &str) -> Option<AuthType> {
        let s = s.trim();
        [AuthType::Basic, AuthType::Md5, AuthType::Hmac]
            .into_iter()
            .find(|t| t.meta_type().eq_ignore_ascii_case(s))
    }

    /// The DMAcc `AAuthType` value of this scheme (reference §8.4).
    pub fn aauth_type(&self) -> &'static str {
        match self {
            AuthType::Basic => "BASIC",
            AuthType::Md5 => "DIGEST",
            AuthType::Hmac => "HMAC",
        }
    }

    /// The scheme a DMAcc `AAuthType` value names (case-insensitive). Transport-level types
    /// (`HTTP-BASIC`, `HTTP-DIGEST`, `TRANSPORT`) and the rarely used ones (`X509`, …) give `None`.
    pub fn from_aauth_type(s: &str) -> Option<AuthType> {
        let s = s.trim();
        [AuthType::Basic, AuthType::Md5, AuthType::Hmac]
            .into_iter()
            .find(|t| t.aauth_type().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for AuthType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.meta_type())
    }
}

/// A name and its shared secret (DMAcc `AAuthName` / `AAuthSecret`).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    pub name: String,
    pub secret: String,
}

impl Secret {
    /// A name/secret pair.
    pub fn new(name: impl Into<String>, secret: impl Into<String>) -> Secret {
        Secret {
            name: name.into(),
            secret: secret.into(),
        }
    }
}

impl fmt::Debug for Secret {
    /// Shows the name only, so secrets do not end up in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secret")
            .field("name", &self.name)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// Why credentials were refused or could not be read.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AuthError {
    /// The credentials use another scheme than the one required.
    #[error("credentials of type {got:?} where {expected} was required")]
    WrongType { expected: AuthType, got: String },
    /// `Cred` Meta Format is present and is not `b64`.
    #[error("credential Meta Format {0:?} is not supported (expected b64)")]
    UnsupportedFormat(String),
    /// HMAC credentials were found in a `Cred` element; they belong in the transport header.
    #[error("HMAC credentials must travel in the {HMAC_HEADER} header, not in Cred")]
    HmacInCred,
    /// Base64 that does not decode, a basic credential without `:`, a digest of the wrong length,
    /// an unreadable HMAC header, …
    #[error("malformed credentials: {0}")]
    Malformed(String),
    /// A required parameter of the HMAC header is absent.
    #[error("{HMAC_HEADER} header lacks the {0} parameter")]
    MissingParameter(&'static str),
    /// The credentials name someone else.
    #[error("unknown user name {got:?}")]
    WrongName { got: String },
    /// Basic credentials with the right name and a wrong password.
    #[error("wrong password")]
    WrongPassword,
    /// An MD5 digest that does not match name, password and nonce.
    #[error("MD5 digest does not match")]
    DigestMismatch,
    /// An HMAC that does not match name, password, nonce and body.
    #[error("HMAC does not match")]
    MacMismatch,
    /// An HMAC header naming an algorithm other than MD5.
    #[error("unsupported HMAC algorithm {0:?} (only MD5 is defined)")]
    UnsupportedAlgorithm(String),
}

/// Basic credential data: `B64(name ":" pwd)`.
pub fn basic(name: &str, pwd: &str) -> String {
    let mut clear = Vec::with_capacity(name.len() + 1 + pwd.len());
    clear.extend_from_slice(name.as_bytes());
    clear.push(b':');
    clear.extend_from_slice(pwd.as_bytes());
    STANDARD.encode(clear)
}

/// MD5 digest credential data: `B64(MD5(B64(MD5(name ":" pwd)) ":" nonce))`.
pub fn md5_digest(name: &str, pwd: &str, nonce: &[u8]) -> String {
    STANDARD.encode(md5_digest_raw(name, pwd, nonce))
}

/// The MD5 digest of [`md5_digest`] before the outer base64.
pub fn md5_digest_raw(name: &str, pwd: &str, nonce: &[u8]) -> [u8; 16] {
    let mut h = Md5::new();
    h.update(b64_of_md5(&[name.as_bytes(), b":", pwd.as_bytes()]));
    h.update(b":");
    h.update(nonce);
    h.finalize().into()
}

/// HMAC credential (the `mac` of the header):
/// `B64(MD5(B64(MD5(name ":" pwd)) ":" nonce ":" B64(MD5(body))))`.
pub fn hmac_mac(name: &str, pwd: &str, nonce: &[u8], body: &[u8]) -> String {
    STANDARD.encode(hmac_mac_raw(name, pwd, nonce, body))
}

/// The MD5 of [`hmac_mac`] before the outer base64. Package #0 uses this same digest, with the
/// server id, the server password, the server nonce and the trigger as body (reference §4).
pub fn hmac_mac_raw(name: &str, pwd: &str, nonce: &[u8], body: &[u8]) -> [u8; 16] {
    let mut h = Md5::new();
    h.update(b64_of_md5(&[name.as_bytes(), b":", pwd.as_bytes()]));
    h.update(b":");
    h.update(nonce);
    h.update(b":");
    h.update(b64_of_md5(&[body]));
    h.finalize().into()
}

/// `B64(MD5(parts…))` on the stack: 16 bytes give exactly 24 base64 characters.
fn b64_of_md5(parts: &[&[u8]]) -> [u8; 24] {
    let mut h = Md5::new();
    for p in parts {
        h.update(p);
    }
    b64_16(&h.finalize().into())
}

/// Padded standard base64 of exactly 16 bytes, without allocating.
fn b64_16(bytes: &[u8; 16]) -> [u8; 24] {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let sextet = |v: u32| ALPHABET[(v & 0x3f) as usize];
    let mut out = [b'='; 24];
    // Five full groups of 3 bytes (15 bytes, 20 characters), then 1 byte → 2 characters + "==".
    for (group, chars) in bytes.chunks_exact(3).zip(out.chunks_exact_mut(4)) {
        let v = group.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b));
        for (i, c) in chars.iter_mut().enumerate() {
            *c = sextet(v >> (18 - 6 * i));
        }
    }
    let last = u32::from(bytes[15]);
    out[20] = sextet(last >> 2);
    out[21] = sextet(last << 4);
    out
}

/// Equality of two byte strings in time that depends only on their lengths.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// Decode base64 from a peer: whitespace ignored, padding optional.
fn decode_b64(s: &str) -> Result<Vec<u8>, base64::DecodeError> {
    if s.bytes().any(|b| b.is_ascii_whitespace()) {
        let compact: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
        LENIENT_B64.decode(compact)
    } else {
        LENIENT_B64.decode(s)
    }
}

/// Meta of a `Cred` or `Chal` of the given scheme: Type and Format `b64`.
fn auth_meta(kind: AuthType) -> Meta {
    Meta {
        type_: Some(kind.meta_type().to_string()),
        format: Some(FORMAT_B64.to_string()),
        ..Meta::default()
    }
}

/// The `Cred` for `secret` under scheme `kind`, with `nonce` the raw bytes of the last NextNonce
/// received from the peer (unused for basic). `None` for HMAC, which never goes in a `Cred`
/// (use [`HmacHeader::sign`]).
pub fn make_cred(kind: AuthType, secret: &Secret, nonce: &[u8]) -> Option<Cred> {
    let data = match kind {
        AuthType::Basic => basic(&secret.name, &secret.secret),
        AuthType::Md5 => md5_digest(&secret.name, &secret.secret, nonce),
        AuthType::Hmac => return None,
    };
    Some(Cred {
        meta: Some(auth_meta(kind)),
        data,
    })
}

/// Check a received `Cred` against the scheme required and the expected name/secret, with `nonce`
/// the raw bytes of the NextNonce last issued to the sender.
///
/// A `Cred` without Meta Type is basic. A Meta Format other than `b64` is refused.
pub fn check_cred(
    cred: &Cred,
    expected_kind: AuthType,
    secret: &Secret,
    nonce: &[u8],
) -> Result<(), AuthError> {
    let meta = cred.meta.as_ref();
    let got = match meta.and_then(|m| m.type_.as_deref()) {
        None => AuthType::Basic,
        Some(t) => match AuthType::from_meta_type(t) {
            Some(kind) => kind,
            None => {
                return Err(AuthError::WrongType {
                    expected: expected_kind,
                    got: t.to_string(),
                })
            }
        },
    };
    if got != expected_kind {
        return Err(AuthError::WrongType {
            expected: expected_kind,
            got: got.meta_type().to_string(),
        });
    }
    if let Some(format) = meta.and_then(|m| m.format.as_deref()) {
        if !format.trim().eq_ignore_ascii_case(FORMAT_B64) {
            return Err(AuthError::UnsupportedFormat(format.to_string()));
        }
    }
    let decoded = decode_b64(&cred.data)
        .map_err(|e| AuthError::Malformed(format!("Cred Data is not base64: {e}")))?;
    match got {
        AuthType::Basic => {
            let mut parts = decoded.splitn(2, |&b| b == b':');
            let name = parts.next().unwrap_or_default();
            let Some(pwd) = parts.next() else {
                return Err(AuthError::Malformed(
                    "basic credentials without ':'".to_string(),
                ));
            };
            if name != secret.name.as_bytes() {
                return Err(AuthError::WrongName {
                    got: String::from_utf8_lossy(name).into_owned(),
                });
            }
            if !ct_eq(pwd, secret.secret.as_bytes()) {
                return Err(AuthError::WrongPassword);
            }
            Ok(())
        }
        AuthType::Md5 => {
            if decoded.len() != 16 {
                return Err(AuthError::Malformed(format!(
                    "MD5 digest is {} bytes, not 16",
                    decoded.len()
                )));
            }
            let expected = md5_digest_raw(&secret.name, &secret.secret, nonce);
            if ct_eq(&decoded, &expected) {
                Ok(())
            } else {
                Err(AuthError::DigestMismatch)
            }
        }
        AuthType::Hmac => Err(AuthError::HmacInCred),
    }
}

/// Check an HMAC header against the expected name/secret, the raw nonce last issued to the sender
/// and the exact HTTP body bytes.
pub fn check_hmac(
    header: &HmacHeader,
    secret: &Secret,
    nonce: &[u8],
    body: &[u8],
) -> Result<(), AuthError> {
    if let Some(alg) = &header.algorithm {
        if !alg.eq_ignore_ascii_case("MD5") {
            return Err(AuthError::UnsupportedAlgorithm(alg.clone()));
        }
    }
    if header.username != secret.name {
        return Err(AuthError::WrongName {
            got: header.username.clone(),
        });
    }
    let mac = decode_b64(&header.mac)
        .map_err(|e| AuthError::Malformed(format!("HMAC mac is not base64: {e}")))?;
    if mac.len() != 16 {
        return Err(AuthError::Malformed(format!(
            "HMAC mac is {} bytes, not 16",
            mac.len()
        )));
    }
    let expected = hmac_mac_raw(&secret.name, &secret.secret, nonce, body);
    if ct_eq(&mac, &expected) {
        Ok(())
    } else {
        Err(AuthError::MacMismatch)
    }
}

/// The value of the `x-syncml-hmac` header: `algorithm=MD5, username="<name>", mac=<b64>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HmacHeader {
    /// `algorithm`; absent means MD5.
    pub algorithm: Option<String>,
    /// `username`: must equal the sender's SyncHdr Source LocName.
    pub username: String,
    /// `mac`: base64 as sent.
    pub mac: String,
}

impl HmacHeader {
    /// The header authenticating `body` as `secret` with the raw `nonce` from the peer.
    pub fn sign(secret: &Secret, nonce: &[u8], body: &[u8]) -> HmacHeader {
        HmacHeader {
            algorithm: Some("MD5".to_string()),
            username: secret.name.clone(),
            mac: hmac_mac(&secret.name, &secret.secret, nonce, body),
        }
    }

    /// Parse a header value: comma-separated `key=value` parameters, values optionally in double
    /// quotes (with `\` escapes), whitespace around tokens ignored, keys case-insensitive, unknown
    /// keys ignored. `username` and `mac` are required; a repeated key is an error.
    pub fn parse(s: &str) -> Result<HmacHeader, AuthError> {
        let mut algorithm = None;
        let mut username = None;
        let mut mac = None;
        let mut rest = s;
        loop {
            rest = rest.trim_start_matches(|c: char| c == ',' || c.is_whitespace());
            if rest.is_empty() {
                break;
            }
            let Some((key, after)) = rest.split_once('=') else {
                return Err(AuthError::Malformed(format!(
                    "{HMAC_HEADER} parameter without '=': {rest:?}"
                )));
            };
            let key = key.trim();
            if key.is_empty() || key.contains(|c: char| c == ',' || c == '"' || c.is_whitespace()) {
                return Err(AuthError::Malformed(format!(
                    "{HMAC_HEADER}: bad parameter name {key:?}"
                )));
            }
            let (value, after) = parse_value(after.trim_start())?;
            rest = after;
            let slot = if key.eq_ignore_ascii_case("algorithm") {
                &mut algorithm
            } else if key.eq_ignore_ascii_case("username") {
                &mut username
            } else if key.eq_ignore_ascii_case("mac") {
                &mut mac
            } else {
                continue;
            };
            if slot.replace(value).is_some() {
                return Err(AuthError::Malformed(format!(
                    "{HMAC_HEADER} parameter {key:?} given twice"
                )));
            }
        }
        Ok(HmacHeader {
            algorithm,
            username: username.ok_or(AuthError::MissingParameter("username"))?,
            mac: mac.ok_or(AuthError::MissingParameter("mac"))?,
        })
    }
}

/// One parameter value at the start of `s` (already left-trimmed): a quoted string or a token
/// running to the next comma. Returns the value and what follows it.
fn parse_value(s: &str) -> Result<(String, &str), AuthError> {
    if let Some(quoted) = s.strip_prefix('"') {
        let mut value = String::new();
        let mut chars = quoted.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    let after = quoted.get(i + 1..).unwrap_or_default().trim_start();
                    if !after.is_empty() && !after.starts_with(',') {
                        return Err(AuthError::Malformed(format!(
                            "{HMAC_HEADER}: text after a quoted value: {after:?}"
                        )));
                    }
                    return Ok((value, after));
                }
                '\\' => match chars.next() {
                    Some((_, escaped)) => value.push(escaped),
                    None => break,
                },
                other => value.push(other),
            }
        }
        Err(AuthError::Malformed(format!(
            "{HMAC_HEADER}: unterminated quoted value"
        )))
    } else {
        let (value, after) = s.split_once(',').map_or((s, ""), |(v, a)| (v, a));
        Ok((value.trim_end().to_string(), after))
    }
}

impl std::str::FromStr for HmacHeader {
    type Err = AuthError;

    fn from_str(s: &str) -> Result<HmacHeader, AuthError> {
        HmacHeader::parse(s)
    }
}

impl fmt::Display for HmacHeader {
    /// `algorithm=MD5, username="<name>", mac=<b64>`; an absent algorithm is written as its
    /// default, MD5.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "algorithm={}, username=\"",
            self.algorithm.as_deref().unwrap_or("MD5")
        )?;
        for c in self.username.chars() {
            if c == '"' || c == '\\' {
                f.write_str("\\")?;
            }
            write!(f, "{c}")?;
        }
        write!(f, "\", mac={}", self.mac)
    }
}

/// The raw nonce bytes of a `NextNonce` (base64; whitespace ignored, padding optional).
pub fn decode_nonce(next_nonce_b64: &str) -> Result<Vec<u8>, AuthError> {
    decode_b64(next_nonce_b64.trim())
        .map_err(|e| AuthError::Malformed(format!("NextNonce is not base64: {e}")))
}

/// The `NextNonce` text for raw nonce bytes.
pub fn encode_nonce(nonce: &[u8]) -> String {
    STANDARD.encode(nonce)
}

/// A challenge for scheme `kind` carrying `nonce` as NextNonce.
pub fn challenge(kind: AuthType, nonce: &[u8]) -> Chal {
    Chal {
        meta: Meta {
            next_nonce: Some(encode_nonce(nonce)),
            ..auth_meta(kind)
        },
    }
}

/// Deterministic nonce generator: the same seed gives the same nonces, so a run is reproducible.
#[derive(Debug, Clone)]
pub struct NonceSource {
    rng: ChaCha8Rng,
}

impl NonceSource {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> NonceSource {
        NonceSource {
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// The next nonce: [`NONCE_LEN`] random bytes.
    #[allow(clippy::should_implement_trait)] // an endless stream: an Iterator would only add Option noise
    pub fn next(&mut self) -> Vec<u8> {
        let mut nonce = vec![0u8; NONCE_LEN];
        self.rng.fill_bytes(&mut nonce);
        nonce
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bruce() -> Secret {
        Secret::new("Bruce2", "OhBehave")
    }

    fn cred(type_: Option<&str>, format: Option<&str>, data: &str) -> Cred {
        Cred {
            meta: Some(Meta {
                type_: type_.map(str::to_string),
                format: format.map(str::to_string),
                ..Meta::default()
            }),
            data: data.to_string(),
        }
    }

    #[test]
    fn auth_type_names() {
        for t in [AuthType::Basic, AuthType::Md5, AuthType::Hmac] {
            assert_eq!(AuthType::from_meta_type(t.meta_type()), Some(t));
            assert_eq!(AuthType::from_aauth_type(t.aauth_type()), Some(t));
        }
        assert_eq!(
            AuthType::from_meta_type("syncml:auth-mac"),
            Some(AuthType::Hmac)
        );
        assert_eq!(
            AuthType::from_meta_type(" SYNCML:AUTH-MD5 "),
            Some(AuthType::Md5)
        );
        assert_eq!(AuthType::from_meta_type("syncml:auth-X509"), None);
        assert_eq!(AuthType::from_aauth_type("digest"), Some(AuthType::Md5));
        assert_eq!(AuthType::from_aauth_type("HTTP-BASIC"), None);
    }

    #[test]
    fn spec_vectors_md5_and_basic() {
        assert_eq!(
            &b64_of_md5(&[b"Bruce2:OhBehave"]),
            b"PtEdr8lBQ45IbT1bZIkrOQ=="
        );
        assert_eq!(
            md5_digest("Bruce2", "OhBehave", b"Nonce"),
            "Zz6EivR3yeaaENcRN6lpAQ=="
        );
        assert_eq!(basic("Bruce2", "OhBehave"), "QnJ1Y2UyOk9oQmVoYXZl");
    }

    #[test]
    fn hmac_vector() {
        assert_eq!(
            hmac_mac("user", "pass", b"nonce123", b"<SyncML/>"),
            "wfUTueHLqIoIHcgxhgpkSQ=="
        );
    }

    #[test]
    fn b64_16_matches_base64_crate() {
        let mut src = NonceSource::new(7);
        for _ in 0..200 {
            let mut block = [0u8; 16];
            block.copy_from_slice(&src.next());
            assert_eq!(b64_16(&block).as_slice(), STANDARD.encode(block).as_bytes());
        }
        assert_eq!(&b64_16(&[0xff; 16]), b"/////////////////////w==");
    }

    #[test]
    fn make_cred_shapes() {
        let c = make_cred(AuthType::Md5, &bruce(), b"Nonce").unwrap();
        let meta = c.meta.as_ref().unwrap();
        assert_eq!(meta.type_.as_deref(), Some("syncml:auth-md5"));
        assert_eq!(meta.format.as_deref(), Some("b64"));
        assert_eq!(c.data, "Zz6EivR3yeaaENcRN6lpAQ==");
        let b = make_cred(AuthType::Basic, &bruce(), b"ignored").unwrap();
        assert_eq!(b.meta.unwrap().type_.as_deref(), Some("syncml:auth-basic"));
        assert_eq!(b.data, "QnJ1Y2UyOk9oQmVoYXZl");
        assert_eq!(make_cred(AuthType::Hmac, &bruce(), b"Nonce"), None);
    }

    #[test]
    fn check_cred_accepts_right_credentials() {
        for kind in [AuthType::Basic, AuthType::Md5] {
            let c = make_cred(kind, &bruce(), b"Nonce").unwrap();
            assert_eq!(check_cred(&c, kind, &bruce(), b"Nonce"), Ok(()));
        }
        // No Meta at all means basic; padding and line breaks from a peer are tolerated.
        let bare = Cred {
            meta: None,
            data: "QnJ1Y2Uy\r\nOk9oQmVoYXZl".to_string(),
        };
        assert_eq!(check_cred(&bare, AuthType::Basic, &bruce(), b""), Ok(()));
        let unpadded = cred(
            Some("SYNCML:AUTH-MD5"),
            Some("B64"),
            "Zz6EivR3yeaaENcRN6lpAQ",
        );
        assert_eq!(
            check_cred(&unpadded, AuthType::Md5, &bruce(), b"Nonce"),
            Ok(())
        );
        // A password containing ':' splits at the first ':'.
        let colon = Secret::new("u", "a:b");
        let c = make_cred(AuthType::Basic, &colon, b"").unwrap();
        assert_eq!(check_cred(&c, AuthType::Basic, &colon, b""), Ok(()));
    }

    #[test]
    fn check_cred_refuses_wrong_password_and_name() {
        let wrong_pwd = Secret::new("Bruce2", "OhBehave!");
        let wrong_name = Secret::new("Bruce3", "OhBehave");
        let b = make_cred(AuthType::Basic, &bruce(), b"").unwrap();
        assert_eq!(
            check_cred(&b, AuthType::Basic, &wrong_pwd, b""),
            Err(AuthError::WrongPassword)
        );
        assert_eq!(
            check_cred(&b, AuthType::Basic, &wrong_name, b""),
            Err(AuthError::WrongName {
                got: "Bruce2".to_string()
            })
        );
        let m = make_cred(AuthType::Md5, &bruce(), b"Nonce").unwrap();
        for s in [&wrong_pwd, &wrong_name] {
            assert_eq!(
                check_cred(&m, AuthType::Md5, s, b"Nonce"),
                Err(AuthError::DigestMismatch)
            );
        }
        assert_eq!(
            check_cred(&m, AuthType::Md5, &bruce(), b"Other"),
            Err(AuthError::DigestMismatch)
        );
    }

    #[test]
    fn check_cred_refuses_wrong_type() {
        let b = make_cred(AuthType::Basic, &bruce(), b"").unwrap();
        assert_eq!(
            check_cred(&b, AuthType::Md5, &bruce(), b""),
            Err(AuthError::WrongType {
                expected: AuthType::Md5,
                got: "syncml:auth-basic".to_string()
            })
        );
        let bare = Cred {
            meta: None,
            data: basic("Bruce2", "OhBehave"),
        };
        assert!(matches!(
            check_cred(&bare, AuthType::Md5, &bruce(), b""),
            Err(AuthError::WrongType { .. })
        ));
        let x509 = cred(Some("syncml:auth-X509"), Some("b64"), "AAAA");
        assert_eq!(
            check_cred(&x509, AuthType::Basic, &bruce(), b""),
            Err(AuthError::WrongType {
                expected: AuthType::Basic,
                got: "syncml:auth-X509".to_string()
            })
        );
        let mac = cred(Some("syncml:auth-MAC"), Some("b64"), "AAAA");
        assert_eq!(
            check_cred(&mac, AuthType::Hmac, &bruce(), b""),
            Err(AuthError::HmacInCred)
        );
    }

    #[test]
    fn check_cred_refuses_malformed() {
        let bad_b64 = cred(Some("syncml:auth-basic"), Some("b64"), "not*base64");
        assert!(matches!(
            check_cred(&bad_b64, AuthType::Basic, &bruce(), b""),
            Err(AuthError::Malformed(_))
        ));
        let no_colon = cred(None, None, &STANDARD.encode("Bruce2OhBehave"));
        assert!(matches!(
            check_cred(&no_colon, AuthType::Basic, &bruce(), b""),
            Err(AuthError::Malformed(_))
        ));
        let short = cred(Some("syncml:auth-md5"), None, "AAAA");
        assert!(matches!(
            check_cred(&short, AuthType::Md5, &bruce(), b""),
            Err(AuthError::Malformed(_))
        ));
        let chr = cred(Some("syncml:auth-basic"), Some("chr"), "Bruce2:OhBehave");
        assert_eq!(
            check_cred(&chr, AuthType::Basic, &bruce(), b""),
            Err(AuthError::UnsupportedFormat("chr".to_string()))
        );
    }

    #[test]
    fn hmac_header_parse_variants() {
        let want = |alg: Option<&str>| HmacHeader {
            algorithm: alg.map(str::to_string),
            username: "user".to_string(),
            mac: "wfUTueHLqIoIHcgxhgpkSQ==".to_string(),
        };
        let cases = [
            ("algorithm=MD5, username=\"user\", mac=wfUTueHLqIoIHcgxhgpkSQ==", Some("MD5")),
            ("algorithm=MD5,username=user,mac=wfUTueHLqIoIHcgxhgpkSQ==", Some("MD5")),
            ("  Algorithm = \"MD5\" ,  USERNAME = \"user\" , MAC = \"wfUTueHLqIoIHcgxhgpkSQ==\" ", Some("MD5")),
            ("username=\"user\", mac=wfUTueHLqIoIHcgxhgpkSQ==", None),
            ("mac=wfUTueHLqIoIHcgxhgpkSQ==, realm=\"x,y\", username=user,", None),
        ];
        for (text, alg) in cases {
            assert_eq!(HmacHeader::parse(text), Ok(want(alg)), "{text}");
        }
        assert_eq!(
            HmacHeader::parse("algorithm=MD5, username=\"user\""),
            Err(AuthError::MissingParameter("mac"))
        );
        assert_eq!(
            HmacHeader::parse("mac=AAAA"),
            Err(AuthError::MissingParameter("username"))
        );
        for bad in [
            "username=\"user, mac=AAAA",
            "username user, mac=AAAA",
            "username=\"a\"b, mac=AAAA",
            "=x, username=u, mac=AAAA",
            "username=a, username=b, mac=AAAA",
        ] {
            assert!(
                matches!(HmacHeader::parse(bad), Err(AuthError::Malformed(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn hmac_header_display_round_trip() {
        let h = HmacHeader::sign(&Secret::new("user", "pass"), b"nonce123", b"<SyncML/>");
        let text = h.to_string();
        assert_eq!(
            text,
            "algorithm=MD5, username=\"user\", mac=wfUTueHLqIoIHcgxhgpkSQ=="
        );
        assert_eq!(text.parse::<HmacHeader>(), Ok(h));
        let odd = HmacHeader {
            algorithm: None,
            username: "a \"quoted\", back\\slash".to_string(),
            mac: "AAAA".to_string(),
        };
        let back = HmacHeader::parse(&odd.to_string()).unwrap();
        assert_eq!(back.username, odd.username);
        assert_eq!(back.algorithm.as_deref(), Some("MD5"));
    }

    #[test]
    fn check_hmac_cases() {
        let s = Secret::new("user", "pass");
        let h = HmacHeader::sign(&s, b"nonce123", b"<SyncML/>");
        assert_eq!(check_hmac(&h, &s, b"nonce123", b"<SyncML/>"), Ok(()));
        assert_eq!(
            check_hmac(&h, &s, b"nonce123", b"<SyncML />"),
            Err(AuthError::MacMismatch)
        );
        assert_eq!(
            check_hmac(&h, &s, b"nonce124", b"<SyncML/>"),
            Err(AuthError::MacMismatch)
        );
        let other = Secret::new("someone", "pass");
        assert_eq!(
            check_hmac(&h, &other, b"nonce123", b"<SyncML/>"),
            Err(AuthError::WrongName {
                got: "user".to_string()
            })
        );
        let no_alg = HmacHeader {
            algorithm: None,
            ..h.clone()
        };
        assert_eq!(check_hmac(&no_alg, &s, b"nonce123", b"<SyncML/>"), Ok(()));
        let sha = HmacHeader {
            algorithm: Some("SHA-1".to_string()),
            ..h.clone()
        };
        assert_eq!(
            check_hmac(&sha, &s, b"nonce123", b"<SyncML/>"),
            Err(AuthError::UnsupportedAlgorithm("SHA-1".to_string()))
        );
        let junk = HmacHeader {
            mac: "%%%".to_string(),
            ..h
        };
        assert!(matches!(
            check_hmac(&junk, &s, b"nonce123", b"<SyncML/>"),
            Err(AuthError::Malformed(_))
        ));
    }

    #[test]
    fn nonces_and_challenges() {
        assert_eq!(decode_nonce(" Tm9uY2U= \n"), Ok(b"Nonce".to_vec()));
        assert_eq!(decode_nonce("Tm9uY2U"), Ok(b"Nonce".to_vec()));
        assert_eq!(decode_nonce(""), Ok(Vec::new()));
        assert!(matches!(
            decode_nonce("Tm9u!2U="),
            Err(AuthError::Malformed(_))
        ));
        let chal = challenge(AuthType::Md5, b"Nonce");
        assert_eq!(chal.meta.type_.as_deref(), Some("syncml:auth-md5"));
        assert_eq!(chal.meta.format.as_deref(), Some("b64"));
        assert_eq!(chal.meta.next_nonce.as_deref(), Some("Tm9uY2U="));
        let nonce = decode_nonce(chal.meta.next_nonce.as_deref().unwrap()).unwrap();
        assert_eq!(nonce, b"Nonce");
        assert_eq!(
            challenge(AuthType::Hmac, b"").meta.type_.as_deref(),
            Some("syncml:auth-MAC")
        );
    }

    #[test]
    fn nonce_source_is_deterministic() {
        let mut a = NonceSource::new(42);
        let mut b = NonceSource::new(42);
        let mut c = NonceSource::new(43);
        let first = a.next();
        assert_eq!(first.len(), NONCE_LEN);
        assert_eq!(first, b.next());
        assert_ne!(first, c.next());
        let second = a.next();
        assert_ne!(first, second);
        assert_eq!(second, b.next());
    }

    #[test]
    fn secret_debug_hides_secret() {
        let text = format!("{:?}", bruce());
        assert!(text.contains("Bruce2"));
        assert!(!text.contains("OhBehave"));
    }

    #[test]
    fn ct_eq_basics() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
        assert!(ct_eq(b"", b""));
    }
}
