//! Why a WBXML message could not be decoded, and where.

use std::fmt;

use crate::syncml::xml::MAX_NESTING;

/// A WBXML decoding error.
///
/// Displays as `byte 37, at SyncML/SyncBody/Status[2]: unknown token 0x3F on code page 0`. `offset`
/// is the byte offset of the offending token (or of the element's tag token for errors about an
/// element's content); `path` names the element it is in, as the XML decoder names it (local names,
/// `[n]` where a name repeats among siblings), and is empty for header errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct WbxmlError {
    pub kind: WbxmlErrorKind,
    pub offset: usize,
    pub path: String,
}

/// The kinds of [`WbxmlError`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WbxmlErrorKind {
    /// The input is empty.
    #[error("empty message")]
    Empty,
    /// The input ends inside a token, a string or an element (truncated message).
    #[error("unexpected end of input")]
    Truncated,
    /// The version byte is not WBXML 1.1, 1.2 or 1.3.
    #[error("unsupported WBXML version byte 0x{0:02X} (expected 0x01-0x03)")]
    UnsupportedVersion(u8),
    /// The public id is not one of SyncML's.
    #[error("public id 0x{0:X} is not SyncML")]
    UnknownPublicId(u32),
    /// The formal public identifier in the string table is not SyncML's.
    #[error("document type {0:?} is not SyncML")]
    UnknownDocumentType(String),
    /// The charset is not UTF-8 (or US-ASCII, or unknown).
    #[error("unsupported charset (MIBenum {0}); only UTF-8 is supported")]
    UnsupportedCharset(u32),
    /// A multi-byte integer has more than 5 bytes or does not fit 32 bits.
    #[error("malformed mb_u_int32 (more than 5 bytes or over 32 bits)")]
    BadMbUint,
    /// A length (string table, OPAQUE) runs past the end of the input.
    #[error("length {len} runs past the end of the input")]
    OversizeLength { len: u32 },
    /// A string table reference points outside the table.
    #[error("string table index {index} out of range (table of {len} bytes)")]
    StringTableIndex { index: u32, len: usize },
    /// A string in the string table has no terminating NUL.
    #[error("unterminated string at string table index {index}")]
    UnterminatedString { index: u32 },
    /// SWITCH_PAGE to a code page SyncML does not define.
    #[error("unknown code page {0}")]
    UnknownCodePage(u8),
    /// A tag token the code page does not define.
    #[error("unknown token 0x{token:02X} on code page {page}")]
    UnknownToken { page: u8, token: u8 },
    /// A global token that SyncML does not use, or one out of place (e.g. text before the root).
    #[error("unexpected token 0x{0:02X}")]
    UnexpectedToken(u8),
    /// An ENTITY that is not a Unicode scalar value.
    #[error("entity {0:#X} is not a character")]
    InvalidEntity(u32),
    /// Text (inline, from the string table, or OPAQUE outside an Item's Data) is not UTF-8.
    #[error("text is not valid UTF-8")]
    InvalidUtf8,
    /// Bytes after the root element's END.
    #[error("data after the root element")]
    TrailingData,
    /// The root element is not `SyncML`.
    #[error("root element is {0}, expected SyncML")]
    UnexpectedRoot(String),
    /// A required child element is missing.
    #[error("missing required element {0}")]
    MissingElement(&'static str),
    /// An element that may appear once appears again.
    #[error("element {0} appears more than once")]
    DuplicateElement(String),
    /// A code or size is not a decimal number in range.
    #[error("{element} is not a valid number: {value:?}")]
    InvalidNumber {
        element: &'static str,
        value: String,
    },
    /// Atomic/Sequence nested deeper than [`MAX_NESTING`].
    #[error("Atomic/Sequence nested deeper than {MAX_NESTING} levels")]
    TooDeep,
    /// A command whose element name (a LITERAL's) is not an XML name without a namespace prefix.
    #[error("command name {0:?} is not an XML name")]
    InvalidCommandName(String),
}

impl WbxmlError {
    pub(super) fn new(kind: WbxmlErrorKind, offset: usize, path: String) -> WbxmlError {
        WbxmlError { kind, offset, path }
    }
}

impl fmt::Display for WbxmlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "byte {}", self.offset)?;
        if !self.path.is_empty() {
            write!(f, ", at {}", self.path)?;
        }
        write!(f, ": {}", self.kind)
    }
}
