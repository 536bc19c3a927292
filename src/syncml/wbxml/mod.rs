//! The SyncML DM 1.2 WBXML codec: [`SyncMl`] messages to `application/vnd.syncml.dm+wbxml` bytes and
//! back (reference §9).
//!
//! # Encoding
//!
//! [`encode`] writes WBXML 1.2 with the numeric public id 0x1201 (`A4 01`), as the SyncML
//! representation protocol assigns it, charset UTF-8 (`6A`) and an empty string table (`00`). Real
//! clients often write the FPI `-//SYNCML//DTD SyncML 1.2//EN` (or the 1.1 one) in the string table
//! instead; both are valid WBXML, and libwbxml both reads and writes the numeric id (see
//! `tests/wbxml_libwbxml.rs`), so the encoder keeps the compact form the specification assigns. The
//! string table is used only for the names of commands outside code page 0 (LITERAL tags). Elements
//! and their order are those of the XML encoder; Meta children are on code page 1
//! (`… 5A 00 01 47 03 'chr' 00 01 01 00 00 …`); empty flags such as `Final` have no content flag;
//! text is STR_I. An Item's [`Data::Opaque`] is OPAQUE and its [`Data::Text`] is STR_I, except a TNDS
//! tree in an Item whose Meta Type is `application/vnd.syncml.dmtnds+xml`: that is written as DM DDF
//! elements on code page 2 (`0F 00 02 60 …`), provided the decoder gives back the very same text
//! (see `tnds.rs`); otherwise it too is a string.
//!
//! [`decode_tnds`] reads a standalone `application/vnd.syncml.dmtnds+wbxml` document (FPI
//! `-//OMA//DTD-DM-DDF 1.2//EN`, tags on code page 2) into the TNDS XML text the decoders give for a
//! `MgmtTree` inside a `Data`.
//!
//! # Decoding
//!
//! [`decode`] accepts what real implementations write:
//! - version bytes 0x01-0x03 (WBXML 1.1-1.3; 1.0 has no charset field and is refused);
//! - public ids 0x1201 (SyncML 1.2), 0x0FD3 (1.1), 0x0FD1 (1.0) and 0x01 (unknown), or 0 with a
//!   SyncML FPI in the string table (1.2, 1.1 or 1.0, ASCII case ignored); the tags are read with the
//!   SyncML 1.2 code pages whatever the id, as DM 1.2 captures with the 1.1 FPI need;
//! - charset UTF-8 (106), US-ASCII (3) or unknown (0, read as UTF-8);
//! - inline strings, string table references, ENTITY (appended as the character), OPAQUE, SWITCH_PAGE
//!   anywhere (code pages 0, 1 and 2), LITERAL tags (named from the string table) and PIs (skipped).
//!
//! Rules for content:
//! - an Item's `Data` whose content is only OPAQUE becomes [`Data::Opaque`] with those bytes (even
//!   when they are UTF-8: the sender chose opaque, and [`Data::as_text`] reads either); mixed with
//!   strings, or anywhere else (Cred Data, codes, MetInf values), OPAQUE is text and must be UTF-8;
//! - a `Data` with child elements (a TNDS `MgmtTree` on code page 2, say) becomes [`Data::Text`] with
//!   the subtree as XML, `xmlns` on each element whose code page differs from its parent's
//!   (`<MgmtTree xmlns="syncml:dmddf1.2">…`), as the XML decoder would give it;
//! - attributes (tag flag 0x80) are not used by SyncML: they are skipped, their strings and table
//!   references still checked;
//! - EXT tokens are errors, as are bytes after the root element other than PIs.
//!
//! [`to_xml`] shows a message as XML token by token, without the model, for transcripts.
//!
//! [`decode_with_notes`] also notes what it read past: a document type other than SyncML 1.2 (the
//! WBXML counterpart of the XML namespace), and children out of the schema order, found on the
//! element tree by the same code as the XML decoder's (see [`crate::syncml::notes`]).
//!
//! The element tree is mapped to the model by the same code as the XML decoder's (`tree_map`), so
//! both decoders give the same [`SyncMl`] for the same document, with the same leniency (child
//! order, unknown elements) and strictness (missing or duplicated elements, codes that are not
//! numbers, Atomic/Sequence nesting over [`MAX_NESTING`](crate::syncml::xml::MAX_NESTING)). Nothing
//! recurses on the input, and every length is checked against the remaining input before anything
//! is allocated for it.

mod decode;
mod encode;
mod error;
mod reader;
mod render;
mod tnds;
mod tokens;

#[cfg(test)]
mod tests;

pub use decode::{decode, decode_with_notes};
pub use encode::{encode, encode_with};
pub use error::{WbxmlError, WbxmlErrorKind};
pub use render::to_xml;
pub use tnds::decode_tnds;

#[cfg(doc)]
use crate::syncml::{Data, SyncMl};

/// Whether `bytes` look like WBXML: the first byte is a WBXML version (0x01-0x03). An XML message
/// starts with `<`, whitespace or a byte order mark, never with these.
pub fn is_wbxml(bytes: &[u8]) -> bool {
    matches!(bytes.first(), Some(0x01..=0x03))
}
