//! dmsim's `.fwu` layout: one part (gateway or handset) of one Snom m3 firmware version.
//!
//! Snom's real `.fwu` layout is not public; this one is dmsim's own, plausible and small: a fixed
//! 64-byte header the base checks before it flashes anything, then the body (the code it flashes).
//!
//! # Byte layout
//!
//! Integers are big-endian; texts are ASCII, fixed length, not terminated.
//!
//! | offset | size | field |
//! | --- | --- | --- |
//! | 0 | 8 | magic `SNOMFWU1` |
//! | 8 | 2 | part: `Gw` (gateway, the base station) or `Pp` (portable part, the handset) |
//! | 10 | 4 | firmware version: four ASCII digits, `0790` for v07.90 |
//! | 14 | 4 | language tag: two lower-case ASCII letters then two ASCII digits, `fr01` |
//! | 18 | 4 | `n`: body size in bytes (u32) |
//! | 22 | 32 | SHA-256 of the body |
//! | 54 | 10 | reserved, all zero |
//! | 64 | `n` | body |
//!
//! A file is exactly `64 + n` bytes. The checksum is a full SHA-256 (32 bytes) of the body alone.
//!
//! # Checks, in order
//!
//! [`parse`] reports the first failure:
//! 1. the magic, on the bytes there are ([`FwuError::BadMagic`]; a file shorter than 8 bytes whose
//!    bytes begin the magic, the empty file included, goes on to the next check);
//! 2. a whole header ([`FwuError::Truncated`] when the file is shorter than 64 bytes);
//! 3. the part ([`FwuError::BadPart`]);
//! 4. the version, the language and the reserved bytes ([`FwuError::BadField`]);
//! 5. the body's length against the declared size: shorter is [`FwuError::Truncated`] (the file
//!    ends early, as a cut download does), longer is [`FwuError::WrongSize`] (bytes after the
//!    body);
//! 6. the body's SHA-256 ([`FwuError::BadChecksum`]).
//!
//! Whether the part, version and language are the ones the base expected is the base's check, not
//! the parser's: a well-formed file of the wrong part parses.
//!
//! Bodies built by dmsim are deterministic ([`body`]): the same seed, version and part give the
//! same bytes.

use sha2::{Digest, Sha256};
use std::fmt;

/// The first eight bytes of every `.fwu` file.
pub const MAGIC: &[u8; 8] = b"SNOMFWU1";
/// Length of the fixed header; the body starts here.
pub const HEADER_LEN: usize = 64;

const PART: std::ops::Range<usize> = 8..10;
const VERSION: std::ops::Range<usize> = 10..14;
const LANGUAGE: std::ops::Range<usize> = 14..18;
const SIZE: std::ops::Range<usize> = 18..22;
const CHECKSUM: std::ops::Range<usize> = 22..54;
const RESERVED: std::ops::Range<usize> = 54..64;

/// Which of a version's two files: the base's own firmware or the handsets'.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Part {
    /// The gateway (base station), `Gw`.
    Gateway,
    /// The handset (DECT portable part), `Pp`.
    Handset,
}

impl Part {
    /// Both parts, in the order the base updates them.
    pub const ALL: [Part; 2] = [Part::Gateway, Part::Handset];

    /// The two letters of the header and of file names: `Gw` or `Pp`.
    pub fn code(self) -> &'static str {
        match self {
            Part::Gateway => "Gw",
            Part::Handset => "Pp",
        }
    }

    /// The part of a two-letter code.
    pub fn from_code(code: &[u8]) -> Option<Part> {
        match code {
            b"Gw" => Some(Part::Gateway),
            b"Pp" => Some(Part::Handset),
            _ => None,
        }
    }

    /// The other part.
    pub fn other(self) -> Part {
        match self {
            Part::Gateway => Part::Handset,
            Part::Handset => Part::Gateway,
        }
    }

    /// The file name of this part of `version` in `language`: `m3Gw_fr01_v0790.fwu`.
    pub fn file_name(self, language: &str, version: &str) -> String {
        format!("m3{}_{language}_v{version}.fwu", self.code())
    }
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Part::Gateway => "gateway",
            Part::Handset => "handset",
        })
    }
}

/// A header field that can be malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// The four version digits.
    Version,
    /// The language tag.
    Language,
    /// The reserved bytes.
    Reserved,
    /// The body's length (building only: a body longer than `u32::MAX` bytes).
    BodySize,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::Version => "version (four ASCII digits)",
            Field::Language => "language (two lower-case letters, two digits)",
            Field::Reserved => "reserved bytes (all zero)",
            Field::BodySize => "body size (at most 4 GiB - 1)",
        })
    }
}

/// Why bytes are not a well-formed `.fwu` file (checked in the order of the module docs).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FwuError {
    /// The file does not begin with `SNOMFWU1`.
    #[error("not a .fwu file: bad magic")]
    BadMagic,
    /// The part is neither `Gw` nor `Pp`.
    #[error("unknown part {found:?} (expected Gw or Pp)")]
    BadPart { found: [u8; 2] },
    /// A header field is malformed.
    #[error("malformed header field: {field}")]
    BadField { field: Field },
    /// The file ends before its header or before the body the header declares: `expected` bytes
    /// at least, `actual` there.
    #[error("truncated: {actual} bytes, expected {expected}")]
    Truncated { expected: u64, actual: u64 },
    /// The body is longer than the header declares.
    #[error("body of {actual} bytes, header declares {declared}")]
    WrongSize { declared: u64, actual: u64 },
    /// The body's SHA-256 is not the header's.
    #[error("body checksum mismatch")]
    BadChecksum,
}

/// The header of a well-formed `.fwu` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FwuHeader {
    pub part: Part,
    /// Four ASCII digits, `0790`.
    pub version: String,
    /// Language tag, `fr01`.
    pub language: String,
    /// Body size in bytes.
    pub body_size: u32,
    /// SHA-256 of the body.
    pub checksum: [u8; 32],
}

/// A parsed `.fwu` file: its header and its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fwu<'a> {
    pub header: FwuHeader,
    pub body: &'a [u8],
}

impl<'a> Fwu<'a> {
    /// Build a well-formed file. Fails with [`FwuError::BadField`] when the version or language is
    /// malformed or the body is 4 GiB or longer.
    pub fn build(
        part: Part,
        version: &str,
        language: &str,
        body: &[u8],
    ) -> Result<Vec<u8>, FwuError> {
        let bad = |field| FwuError::BadField { field };
        if !is_version(version.as_bytes()) {
            return Err(bad(Field::Version));
        }
        if !is_language(language.as_bytes()) {
            return Err(bad(Field::Language));
        }
        let size = u32::try_from(body.len()).map_err(|_| bad(Field::BodySize))?;
        let mut bytes = Vec::with_capacity(HEADER_LEN.saturating_add(body.len()));
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(part.code().as_bytes());
        bytes.extend_from_slice(version.as_bytes());
        bytes.extend_from_slice(language.as_bytes());
        bytes.extend_from_slice(&size.to_be_bytes());
        bytes.extend_from_slice(&Sha256::digest(body));
        bytes.resize(HEADER_LEN, 0);
        bytes.extend_from_slice(body);
        Ok(bytes)
    }

    /// Read and check a file (the checks of the module docs). Never panics, whatever the bytes.
    pub fn parse(bytes: &'a [u8]) -> Result<Fwu<'a>, FwuError> {
        let head = &bytes[..bytes.len().min(MAGIC.len())];
        if head != &MAGIC[..head.len()] {
            return Err(FwuError::BadMagic);
        }
        let actual = bytes.len() as u64;
        if bytes.len() < HEADER_LEN {
            return Err(FwuError::Truncated {
                expected: HEADER_LEN as u64,
                actual,
            });
        }
        let found = [bytes[PART.start], bytes[PART.start + 1]];
        let part = Part::from_code(&found).ok_or(FwuError::BadPart { found })?;
        let bad = |field| FwuError::BadField { field };
        if !is_version(&bytes[VERSION]) {
            return Err(bad(Field::Version));
        }
        if !is_language(&bytes[LANGUAGE]) {
            return Err(bad(Field::Language));
        }
        if bytes[RESERVED].iter().any(|&b| b != 0) {
            return Err(bad(Field::Reserved));
        }
        let mut size = [0u8; 4];
        size.copy_from_slice(&bytes[SIZE]);
        let body_size = u32::from_be_bytes(size);
        // 64 + u32::MAX fits in a u64.
        let expected = HEADER_LEN as u64 + u64::from(body_size);
        if actual < expected {
            return Err(FwuError::Truncated { expected, actual });
        }
        let body = &bytes[HEADER_LEN..];
        if actual > expected {
            return Err(FwuError::WrongSize {
                declared: u64::from(body_size),
                actual: body.len() as u64,
            });
        }
        let mut checksum = [0u8; 32];
        checksum.copy_from_slice(&bytes[CHECKSUM]);
        if <[u8; 32]>::from(Sha256::digest(body)) != checksum {
            return Err(FwuError::BadChecksum);
        }
        Ok(Fwu {
            header: FwuHeader {
                part,
                // Both checked ASCII above.
                version: String::from_utf8_lossy(&bytes[VERSION]).into_owned(),
                language: String::from_utf8_lossy(&bytes[LANGUAGE]).into_owned(),
                body_size,
                checksum,
            },
            body,
        })
    }
}

/// [`Fwu::parse`], the header only.
pub fn parse(bytes: &[u8]) -> Result<FwuHeader, FwuError> {
    Fwu::parse(bytes).map(|fwu| fwu.header)
}

/// The deterministic body of `part` of `version` built from `seed`: `len` pseudo-random bytes
/// ([`crate::package::fill_seeded`] on a stream of its own per version and part, so a version's
/// two parts, and two versions, differ).
pub fn body(seed: u64, version: &str, part: Part, len: u32) -> Vec<u8> {
    let number: u64 = version
        .bytes()
        .fold(0u64, |n, b| n.wrapping_mul(256).wrapping_add(u64::from(b)));
    let stream = number.wrapping_mul(2).wrapping_add(match part {
        Part::Gateway => 0,
        Part::Handset => 1,
    });
    let mut bytes = vec![0u8; len as usize];
    crate::package::fill_seeded(seed, stream, &mut bytes);
    bytes
}

/// Four ASCII digits.
pub fn is_version(bytes: &[u8]) -> bool {
    bytes.len() == 4 && bytes.iter().all(u8::is_ascii_digit)
}

/// Two lower-case ASCII letters, then two ASCII digits.
pub fn is_language(bytes: &[u8]) -> bool {
    matches!(bytes, [a, b, c, d]
        if a.is_ascii_lowercase() && b.is_ascii_lowercase() && c.is_ascii_digit() && d.is_ascii_digit())
}
