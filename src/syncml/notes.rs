//! Deviations from the SyncML DM 1.2 schema that a decoder reads past and reports.
//!
//! The decoders are lenient where real implementations differ (child order, namespaces, the WBXML
//! document type) and strict where the meaning of a message would change (see [`super::xml`]).
//! What they read past is still a deviation, and a conformance tool has to say so: the
//! `decode_with_notes` functions ([`super::xml::decode_with_notes`],
//! [`super::wbxml::decode_with_notes`], [`super::Encoding::decode_with_notes`],
//! [`super::decode_labelled_with_notes`]) give the message together with a [`DecodeNote`] for each
//! deviation, in document order:
//! - [`NoteKind::ElementOrder`]: a child element out of the order reference §1.2 gives (the SyncML
//!   RepPro DTD order: e.g. Status is CmdID, MsgRef, CmdRef, Cmd, TargetRef*, SourceRef*, Cred?,
//!   Chal?, Data, Item*); one note per parent element, at its first child out of order;
//! - [`NoteKind::Namespace`]: in XML, a SyncML element outside the namespace `SYNCML:SYNCML1.2`
//!   (reported where the namespace goes wrong: the root, or an element that declares another one),
//!   a MetInf element inside a `Meta` outside `syncml:metinf` (one note per `Meta`), or a prefix
//!   that is not declared (reference §1.1); in WBXML, which carries no namespace text, a document
//!   type other than SyncML 1.2 (public id 0x1201 or its FPI, reference §9.1).
//!
//! Neither the content of a `Data` (an embedded TNDS tree has its own namespace and order) nor the
//! MetInf children of a `Meta` (reference §1.2 gives them no order) are checked for order.

use std::fmt;

/// The longest excerpt a note (or a violation built from one) carries, in characters.
pub const MAX_EXCERPT: usize = 120;

/// What kind of deviation a [`DecodeNote`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NoteKind {
    /// A child element out of the schema order (reference §1.2).
    ElementOrder,
    /// A namespace (XML) or document type (WBXML) other than SyncML DM 1.2's (reference §1.1,
    /// §9.1).
    Namespace,
}

/// A deviation the decoder read past: what, where, and the offending bytes as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeNote {
    pub kind: NoteKind,
    /// The element, named as decode errors name it (`SyncML/SyncBody/Status[2]/CmdRef`); empty
    /// for the WBXML header.
    pub path: String,
    /// What is wrong, in words, with the rule it breaks.
    pub detail: String,
    /// The offending element or value as received (XML text; for WBXML, its elements rendered as
    /// XML, or the header bytes in hex), whitespace runs folded and cut to [`MAX_EXCERPT`]
    /// characters.
    pub excerpt: String,
}

impl fmt::Display for DecodeNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.path.is_empty() {
            write!(f, "at {}: ", self.path)?;
        }
        write!(f, "{}", self.detail)?;
        if !self.excerpt.is_empty() {
            write!(f, ": {}", self.excerpt)?;
        }
        Ok(())
    }
}

/// `text` as an excerpt: runs of whitespace folded into one space, trimmed, and cut to
/// [`MAX_EXCERPT`] characters (the cut marked with `…`).
pub fn excerpt(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_EXCERPT * 4));
    let mut chars = 0;
    for word in text.split_whitespace() {
        if chars > 0 {
            if chars >= MAX_EXCERPT {
                out.push('…');
                return out;
            }
            out.push(' ');
            chars += 1;
        }
        for c in word.chars() {
            if chars >= MAX_EXCERPT {
                out.push('…');
                return out;
            }
            out.push(c);
            chars += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_fold_whitespace_and_are_cut() {
        assert_eq!(
            excerpt("\n  <Status>\n    <CmdID>1</CmdID>  "),
            "<Status> <CmdID>1</CmdID>"
        );
        let long = "é".repeat(MAX_EXCERPT + 10);
        let cut = excerpt(&long);
        assert_eq!(cut.chars().count(), MAX_EXCERPT + 1);
        assert!(cut.ends_with('…'));
        assert_eq!(excerpt(&"x".repeat(MAX_EXCERPT)), "x".repeat(MAX_EXCERPT));
        let words = format!("{} y", "x".repeat(MAX_EXCERPT));
        assert_eq!(excerpt(&words), format!("{}…", "x".repeat(MAX_EXCERPT)));
        assert_eq!(excerpt(""), "");
    }
}
