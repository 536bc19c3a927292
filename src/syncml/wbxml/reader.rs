//! Reading WBXML primitives (bytes, mb_u_int32, inline and table strings, opaque data) and the
//! document header, with every length checked against the remaining input before it is used.

use super::error::WbxmlErrorKind;
use super::tokens;

/// A decoding error before the element it is in is known: a kind at a byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Fault {
    pub kind: WbxmlErrorKind,
    pub offset: usize,
}

impl Fault {
    pub fn new(kind: WbxmlErrorKind, offset: usize) -> Fault {
        Fault { kind, offset }
    }
}

/// A cursor over the input.
pub(super) struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
}

/// The most bytes an mb_u_int32 may take (5 × 7 bits ≥ 32 bits).
const MB_U32_MAX_BYTES: usize = 5;

impl<'a> Reader<'a> {
    pub fn new(input: &'a [u8]) -> Reader<'a> {
        Reader { input, pos: 0 }
    }

    /// Offset of the next byte.
    pub fn pos(&self) -> usize {
        self.pos
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.input.len()
    }

    fn truncated(&self) -> Fault {
        Fault::new(WbxmlErrorKind::Truncated, self.input.len())
    }

    pub fn byte(&mut self) -> Result<u8, Fault> {
        let b = *self.input.get(self.pos).ok_or_else(|| self.truncated())?;
        self.pos += 1;
        Ok(b)
    }

    /// An mb_u_int32: at most 5 bytes, and no more than 32 bits.
    pub fn mb_u32(&mut self) -> Result<u32, Fault> {
        let start = self.pos;
        let mut value: u64 = 0;
        for _ in 0..MB_U32_MAX_BYTES {
            let b = self.byte()?;
            value = (value << 7) | u64::from(b & 0x7F);
            if b & 0x80 == 0 {
                return u32::try_from(value)
                    .map_err(|_| Fault::new(WbxmlErrorKind::BadMbUint, start));
            }
        }
        Err(Fault::new(WbxmlErrorKind::BadMbUint, start))
    }

    /// An mb_u_int32 length followed by that many bytes; the length is checked against the input
    /// before anything is read.
    pub fn length_prefixed(&mut self) -> Result<&'a [u8], Fault> {
        let at = self.pos;
        let len = self.mb_u32()?;
        let remaining = self.input.len() - self.pos.min(self.input.len());
        let n = usize::try_from(len)
            .ok()
            .filter(|&n| n <= remaining)
            .ok_or(Fault::new(WbxmlErrorKind::OversizeLength { len }, at))?;
        let bytes = self.input.get(self.pos..self.pos + n).unwrap_or_default();
        self.pos += n;
        Ok(bytes)
    }

    /// A NUL-terminated inline string (the NUL is consumed, not returned), as UTF-8.
    pub fn inline_str(&mut self) -> Result<&'a str, Fault> {
        let rest = self.input.get(self.pos..).unwrap_or_default();
        let len = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or_else(|| self.truncated())?;
        let bytes = rest.get(..len).unwrap_or_default();
        let text = utf8(bytes, self.pos)?;
        self.pos += len + 1;
        Ok(text)
    }

    /// A NUL-terminated inline string, skipped without checking its encoding.
    pub fn skip_inline_str(&mut self) -> Result<(), Fault> {
        let rest = self.input.get(self.pos..).unwrap_or_default();
        let len = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or_else(|| self.truncated())?;
        self.pos += len + 1;
        Ok(())
    }
}

/// `bytes` (found at `offset` in the input) as UTF-8.
pub(super) fn utf8(bytes: &[u8], offset: usize) -> Result<&str, Fault> {
    std::str::from_utf8(bytes)
        .map_err(|e| Fault::new(WbxmlErrorKind::InvalidUtf8, offset + e.valid_up_to()))
}

/// The string table of a document, and where it starts in the input.
#[derive(Clone, Copy)]
pub(super) struct StringTable<'a> {
    bytes: &'a [u8],
    offset: usize,
}

impl<'a> StringTable<'a> {
    /// Its size in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// The NUL-terminated string at `index`, as UTF-8; `at` is the offset of the reference.
    pub fn get(&self, index: u32, at: usize) -> Result<&'a str, Fault> {
        let out_of_range = WbxmlErrorKind::StringTableIndex {
            index,
            len: self.bytes.len(),
        };
        let start = usize::try_from(index)
            .ok()
            .filter(|&i| i < self.bytes.len())
            .ok_or(Fault::new(out_of_range, at))?;
        let rest = self.bytes.get(start..).unwrap_or_default();
        let len = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or(Fault::new(WbxmlErrorKind::UnterminatedString { index }, at))?;
        utf8(rest.get(..len).unwrap_or_default(), self.offset + start)
    }
}

/// The document types a header may announce: numeric public ids and formal public identifiers.
pub(super) struct DocType {
    pub public_ids: &'static [u32],
    pub fpis: &'static [&'static str],
}

/// SyncML messages (any version; DM 1.2 captures carry the 1.1 id too).
pub(super) const SYNCML_DOC: DocType = DocType {
    public_ids: &[
        tokens::PUBLIC_ID_SYNCML_12,
        tokens::PUBLIC_ID_SYNCML_11,
        tokens::PUBLIC_ID_SYNCML_10,
        tokens::PUBLIC_ID_UNKNOWN,
    ],
    fpis: &tokens::SYNCML_FPIS,
};

/// The document type a header announced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DocId<'a> {
    /// A numeric public id.
    PublicId(u32),
    /// Public id 0: this formal public identifier, from the string table.
    Fpi(&'a str),
}

/// A document's header, as read.
#[derive(Clone, Copy)]
pub(super) struct Header<'a> {
    pub version: u8,
    pub doc: DocId<'a>,
    pub charset: u32,
    pub strtbl: StringTable<'a>,
    /// Offset of the first byte after the header (the body's first token).
    pub len: usize,
}

impl DocId<'_> {
    /// Whether it announces SyncML 1.2: public id 0x1201, or its FPI (ASCII case ignored).
    pub fn is_syncml_12(&self) -> bool {
        match *self {
            DocId::PublicId(id) => id == tokens::PUBLIC_ID_SYNCML_12,
            DocId::Fpi(fpi) => fpi.trim().eq_ignore_ascii_case(tokens::SYNCML_FPIS[0]),
        }
    }
}

impl DocId<'_> {
    /// The XML namespace of the SyncML version it announces (`None` for "unknown").
    pub fn namespace(&self) -> Option<&'static str> {
        // The versions in the order of `SYNCML_FPIS`.
        const NAMESPACES: [&str; 3] = ["SYNCML:SYNCML1.2", "SYNCML:SYNCML1.1", "SYNCML:SYNCML1.0"];
        let version = match *self {
            DocId::PublicId(tokens::PUBLIC_ID_SYNCML_12) => Some(0),
            DocId::PublicId(tokens::PUBLIC_ID_SYNCML_11) => Some(1),
            DocId::PublicId(tokens::PUBLIC_ID_SYNCML_10) => Some(2),
            DocId::PublicId(_) => None,
            DocId::Fpi(fpi) => tokens::SYNCML_FPIS
                .iter()
                .position(|known| known.eq_ignore_ascii_case(fpi.trim())),
        };
        version.and_then(|v| NAMESPACES.get(v).copied())
    }
}

impl std::fmt::Display for DocId<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            DocId::PublicId(id) => {
                let name = match id {
                    tokens::PUBLIC_ID_SYNCML_12 => " (SyncML 1.2)",
                    tokens::PUBLIC_ID_SYNCML_11 => " (SyncML 1.1)",
                    tokens::PUBLIC_ID_SYNCML_10 => " (SyncML 1.0)",
                    tokens::PUBLIC_ID_UNKNOWN => " (unknown)",
                    _ => "",
                };
                write!(f, "public id 0x{id:04X}{name}")
            }
            DocId::Fpi(fpi) => write!(f, "FPI {fpi:?}"),
        }
    }
}

/// Read and check the header of a SyncML message: version, public id, charset and string table.
pub(super) fn header<'a>(r: &mut Reader<'a>) -> Result<Header<'a>, Fault> {
    read_header(r, &SYNCML_DOC)
}

/// Read and check the header of a document of type `doc`: its string table.
pub(super) fn header_for<'a>(r: &mut Reader<'a>, doc: &DocType) -> Result<StringTable<'a>, Fault> {
    read_header(r, doc).map(|h| h.strtbl)
}

/// Read and check the header of a document of type `doc`.
pub(super) fn read_header<'a>(r: &mut Reader<'a>, doc: &DocType) -> Result<Header<'a>, Fault> {
    if r.at_end() {
        return Err(Fault::new(WbxmlErrorKind::Empty, 0));
    }
    let version = r.byte()?;
    if !(0x01..=0x03).contains(&version) {
        return Err(Fault::new(WbxmlErrorKind::UnsupportedVersion(version), 0));
    }
    let public_id_at = r.pos();
    let public_id = r.mb_u32()?;
    let fpi = if public_id == tokens::PUBLIC_ID_IN_STRING_TABLE {
        Some((r.pos(), r.mb_u32()?))
    } else {
        None
    };
    let charset_at = r.pos();
    let charset = r.mb_u32()?;
    if ![
        tokens::CHARSET_UTF8,
        tokens::CHARSET_US_ASCII,
        tokens::CHARSET_UNKNOWN,
    ]
    .contains(&charset)
    {
        return Err(Fault::new(
            WbxmlErrorKind::UnsupportedCharset(charset),
            charset_at,
        ));
    }
    let bytes = r.length_prefixed()?;
    let table = StringTable {
        bytes,
        offset: r.pos() - bytes.len(),
    };
    let doc_id = match fpi {
        Some((at, index)) => {
            let fpi = table.get(index, at)?;
            check_fpi(doc, fpi, at)?;
            DocId::Fpi(fpi)
        }
        None => {
            check_public_id(doc, public_id, public_id_at)?;
            DocId::PublicId(public_id)
        }
    };
    Ok(Header {
        version,
        doc: doc_id,
        charset,
        strtbl: table,
        len: r.pos(),
    })
}

fn check_public_id(doc: &DocType, public_id: u32, at: usize) -> Result<(), Fault> {
    if doc.public_ids.contains(&public_id) {
        Ok(())
    } else {
        Err(Fault::new(WbxmlErrorKind::UnknownPublicId(public_id), at))
    }
}

fn check_fpi(doc: &DocType, fpi: &str, at: usize) -> Result<(), Fault> {
    if doc
        .fpis
        .iter()
        .any(|known| known.eq_ignore_ascii_case(fpi.trim()))
    {
        Ok(())
    } else {
        Err(Fault::new(
            WbxmlErrorKind::UnknownDocumentType(fpi.to_string()),
            at,
        ))
    }
}

/// Skip an attribute list (or a PI) up to its END. SyncML and the DDF define no attributes, so they
/// are read only to be passed over; their strings and table references are still checked.
pub(super) fn skip_attributes(r: &mut Reader<'_>, strtbl: &StringTable<'_>) -> Result<(), Fault> {
    loop {
        let at = r.pos();
        match r.byte()? {
            tokens::END => return Ok(()),
            tokens::SWITCH_PAGE => {
                r.byte()?;
            }
            tokens::ENTITY => {
                r.mb_u32()?;
            }
            tokens::STR_I => r.skip_inline_str()?,
            tokens::OPAQUE => {
                r.length_prefixed()?;
            }
            tokens::PI => {
                return Err(Fault::new(WbxmlErrorKind::UnexpectedToken(tokens::PI), at));
            }
            t if t == tokens::LITERAL || t == tokens::STR_T || tokens::EXT_T.contains(&t) => {
                let index = r.mb_u32()?;
                strtbl.get(index, at)?;
            }
            t if tokens::EXT_I.contains(&t) => r.skip_inline_str()?,
            t if tokens::EXT.contains(&t) => {}
            // Attribute start and value tokens: nothing follows them.
            _ => {}
        }
    }
}
