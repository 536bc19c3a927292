//! TNDS (Tree and Description Serialization) objects in WBXML, on the DM DDF code page 2
//! (reference §9.4).
//!
//! Two uses:
//! - [`decode_tnds`] reads a standalone `application/vnd.syncml.dmtnds+wbxml` document (what a server
//!   sends as the opaque Data of an Add or Replace) and gives it back as TNDS XML text, in the form the
//!   SyncML decoders give for a `MgmtTree` inside a `Data`: `<MgmtTree xmlns="syncml:dmddf1.2">` on the
//!   root only, no whitespace added, empty elements as `<chr/>`, text escaped like the XML encoder's.
//!   The header must announce the DDF: public id 0x01 (unknown) or the FPI
//!   `-//OMA//DTD-DM-DDF 1.2//EN` in the string table, which is what libwbxml writes. Tags are read
//!   with the DDF table on code page 2, and also on code page 0: a DDF document has no other DTD, and
//!   a writer that never switches page can only mean the DDF. The root must be `MgmtTree`. OPAQUE is
//!   text and must be UTF-8 (an XML string cannot carry other bytes); attributes and PIs are skipped;
//!   EXT tokens are errors. Nothing recurses on the input.
//! - [`ddf_events`] turns a TNDS XML text (an Item's `Data::Text`) into the element and text events the
//!   SyncML encoder writes on code page 2, but only when the WBXML decoder will give back exactly that
//!   text: the document must be one `MgmtTree` element with `xmlns="syncml:dmddf1.2"` and no other
//!   attribute, every element a DDF tag without prefix, no comment, PI, CDATA or declaration, and
//!   its text escaped the way the decoder re-escapes it. Anything else stays a string (STR_I), which
//!   decodes to the same text too.

use std::borrow::Cow;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader as XmlReader;

use super::error::{WbxmlError, WbxmlErrorKind};
use super::reader::{self, DocType, Fault, Reader, StringTable};
use super::tokens::{self, PAGE_DMDDF, PAGE_SYNCML};
use crate::syncml::xml::push_escaped;

/// The root element of a TNDS object.
const MGMT_TREE: &str = "MgmtTree";

/// Headers a standalone TNDS WBXML document may carry.
const DDF_DOC: DocType = DocType {
    public_ids: &[tokens::PUBLIC_ID_UNKNOWN],
    fpis: &tokens::DDF_FPIS,
};

/// Decode a standalone TNDS WBXML document to TNDS XML text (see the module doc).
pub fn decode_tnds(bytes: &[u8]) -> Result<String, WbxmlError> {
    let mut r = Reader::new(bytes);
    let strtbl = reader::header_for(&mut r, &DDF_DOC)
        .map_err(|f| WbxmlError::new(f.kind, f.offset, String::new()))?;
    let mut parser = DdfParser {
        r,
        strtbl,
        page: PAGE_SYNCML,
        open: Vec::new(),
        xml: String::with_capacity(bytes.len() * 2),
        done: false,
    };
    parser.body()?;
    Ok(parser.xml)
}

/// The state of [`decode_tnds`].
struct DdfParser<'a> {
    r: Reader<'a>,
    strtbl: StringTable<'a>,
    page: u8,
    /// Names of the open elements, the root first.
    open: Vec<&'a str>,
    xml: String,
    /// Whether the root element is complete.
    done: bool,
}

impl<'a> DdfParser<'a> {
    fn fail(&self, fault: Fault) -> WbxmlError {
        WbxmlError::new(fault.kind, fault.offset, self.open.join("/"))
    }

    /// Read tokens up to the root's END, then check that only PIs follow.
    fn body(&mut self) -> Result<(), WbxmlError> {
        while !self.done {
            let at = self.r.pos();
            let token = self.r.byte().map_err(|f| self.fail(f))?;
            self.token(token, at).map_err(|f| self.fail(f))?;
        }
        while !self.r.at_end() {
            let at = self.r.pos();
            match self.r.byte().map_err(|f| self.fail(f))? {
                tokens::PI => {
                    reader::skip_attributes(&mut self.r, &self.strtbl).map_err(|f| self.fail(f))?
                }
                _ => return Err(self.fail(Fault::new(WbxmlErrorKind::TrailingData, at))),
            }
        }
        Ok(())
    }

    fn token(&mut self, token: u8, at: usize) -> Result<(), Fault> {
        match token {
            tokens::SWITCH_PAGE => self.switch_page(),
            tokens::END => self.end(at),
            tokens::ENTITY => {
                let code = self.r.mb_u32()?;
                let c = char::from_u32(code)
                    .ok_or(Fault::new(WbxmlErrorKind::InvalidEntity(code), at))?;
                self.text(c.encode_utf8(&mut [0; 4]), token, at)
            }
            tokens::STR_I => {
                let text = self.r.inline_str()?;
                self.text(text, token, at)
            }
            tokens::STR_T => {
                let index = self.r.mb_u32()?;
                let text = self.strtbl.get(index, at)?;
                self.text(text, token, at)
            }
            tokens::OPAQUE => {
                let bytes = self.r.length_prefixed()?;
                let text = reader::utf8(bytes, self.r.pos() - bytes.len())?;
                self.text(text, token, at)
            }
            tokens::PI => reader::skip_attributes(&mut self.r, &self.strtbl),
            t if t & tokens::TAG_MASK == tokens::LITERAL => {
                let index = self.r.mb_u32()?;
                let name = self.strtbl.get(index, at)?;
                self.element(name, t, at)
            }
            t if t & tokens::TAG_MASK < tokens::FIRST_TAG => {
                Err(Fault::new(WbxmlErrorKind::UnexpectedToken(t), at))
            }
            t => {
                let id = t & tokens::TAG_MASK;
                // Code page 0 is read as the DDF too (see the module doc).
                let name = tokens::tag_name(PAGE_DMDDF, id).ok_or(Fault::new(
                    WbxmlErrorKind::UnknownToken {
                        page: self.page,
                        token: id,
                    },
                    at,
                ))?;
                self.element(name, t, at)
            }
        }
    }

    fn switch_page(&mut self) -> Result<(), Fault> {
        let at = self.r.pos();
        let page = self.r.byte()?;
        if page != PAGE_DMDDF && page != PAGE_SYNCML {
            return Err(Fault::new(WbxmlErrorKind::UnknownCodePage(page), at));
        }
        self.page = page;
        Ok(())
    }

    /// A start tag (and the whole element when it has no content).
    fn element(&mut self, name: &'a str, token: u8, at: usize) -> Result<(), Fault> {
        if token & tokens::HAS_ATTRIBUTES != 0 {
            reader::skip_attributes(&mut self.r, &self.strtbl)?;
        }
        let root = self.open.is_empty();
        if root && name != MGMT_TREE {
            return Err(Fault::new(
                WbxmlErrorKind::UnexpectedRoot(name.to_string()),
                at,
            ));
        }
        self.xml.push('<');
        self.xml.push_str(name);
        if root {
            self.xml.push_str(" xmlns=\"");
            self.xml.push_str(tokens::namespace(PAGE_DMDDF));
            self.xml.push('"');
        }
        if token & tokens::HAS_CONTENT != 0 {
            self.xml.push('>');
            self.open.push(name);
        } else {
            self.xml.push_str("/>");
            self.done = root;
        }
        Ok(())
    }

    fn end(&mut self, at: usize) -> Result<(), Fault> {
        let name = self
            .open
            .pop()
            .ok_or(Fault::new(WbxmlErrorKind::UnexpectedToken(tokens::END), at))?;
        self.xml.push_str("</");
        self.xml.push_str(name);
        self.xml.push('>');
        self.done = self.open.is_empty();
        Ok(())
    }

    /// Character data from `token` at `at`; only inside the root.
    fn text(&mut self, text: &str, token: u8, at: usize) -> Result<(), Fault> {
        if self.open.is_empty() {
            return Err(Fault::new(WbxmlErrorKind::UnexpectedToken(token), at));
        }
        push_escaped(&mut self.xml, text);
        Ok(())
    }
}

/// One step of writing a TNDS tree on code page 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum DdfEvent<'a> {
    /// A tag (token without flags); `content` when an END follows its content.
    Start { token: u8, content: bool },
    /// Character data, unescaped.
    Text(Cow<'a, str>),
    /// The end of the innermost element with content.
    End,
}

/// The code page 2 events of a TNDS XML text, or `None` when the WBXML decoder would not give back
/// exactly `xml` from them (see the module doc).
pub(super) fn ddf_events(xml: &str) -> Option<Vec<DdfEvent<'_>>> {
    let mut reader = XmlReader::from_str(xml);
    let mut events = Vec::new();
    // What the WBXML decoder will write for `events`, to compare with `xml`.
    let mut echo = String::with_capacity(xml.len());
    let mut open: Vec<&'static str> = Vec::new();
    let mut roots = 0;
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) => {
                let (name, token) = ddf_tag(&e, open.is_empty())?;
                roots += usize::from(open.is_empty());
                echo_start(&mut echo, name, open.is_empty(), true);
                events.push(DdfEvent::Start {
                    token,
                    content: true,
                });
                open.push(name);
            }
            Event::Empty(e) => {
                let (name, token) = ddf_tag(&e, open.is_empty())?;
                roots += usize::from(open.is_empty());
                echo_start(&mut echo, name, open.is_empty(), false);
                events.push(DdfEvent::Start {
                    token,
                    content: false,
                });
            }
            Event::End(_) => {
                let name = open.pop()?;
                echo.push_str("</");
                echo.push_str(name);
                echo.push('>');
                events.push(DdfEvent::End);
            }
            Event::Text(t) if !open.is_empty() => {
                let text = t.unescape().ok()?;
                push_escaped(&mut echo, &text);
                events.push(DdfEvent::Text(text));
            }
            Event::Eof => break,
            // Text outside the root, CDATA, comments, PIs, declarations.
            _ => return None,
        }
    }
    (roots == 1 && open.is_empty() && echo == xml).then_some(events)
}

/// The name and code page 2 token of a start tag, if it is a DDF tag without prefix whose only
/// attribute, on the root alone, is the DDF namespace.
fn ddf_tag(start: &BytesStart<'_>, root: bool) -> Option<(&'static str, u8)> {
    let qname = std::str::from_utf8(start.name().into_inner()).ok()?;
    let token = tokens::tag_token(PAGE_DMDDF, qname)?;
    let name = tokens::tag_name(PAGE_DMDDF, token)?;
    if root != (name == MGMT_TREE) {
        return None;
    }
    let mut attributes = start.attributes();
    if root {
        let xmlns = attributes.next()?.ok()?;
        let value = xmlns.unescape_value().ok()?;
        if xmlns.key.as_ref() != b"xmlns" || value != tokens::namespace(PAGE_DMDDF) {
            return None;
        }
    }
    attributes.next().is_none().then_some((name, token))
}

/// What the decoder writes for a start tag: the namespace on the root, `/>` without content.
fn echo_start(echo: &mut String, name: &str, root: bool, content: bool) {
    echo.push('<');
    echo.push_str(name);
    if root {
        echo.push_str(" xmlns=\"");
        echo.push_str(tokens::namespace(PAGE_DMDDF));
        echo.push('"');
    }
    echo.push_str(if content { ">" } else { "/>" });
}
