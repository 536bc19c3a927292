//! WBXML shown as XML token by token, for transcripts: what the bytes say, in their order, without
//! going through the message model (which reads children in any order, drops what DM does not
//! use and writes them back in the reference order).
//!
//! A comment first gives the header as read (WBXML version, document type, charset, string table
//! size). Then every tag becomes an element in the order of the tokens: a code page 0 root gets the
//! namespace of the SyncML version the header announces (`xmlns="SYNCML:SYNCML1.1"` for public id
//! 0x0FD3; none when it is "unknown"), and an element on another code page than its parent's gets
//! that page's namespace (`<Format xmlns="syncml:metinf">`), as the XML form of the same document
//! would carry them. LITERAL tags are named from the string table; inline and table strings and
//! entities are text; OPAQUE is text when it is UTF-8, and otherwise base64 after a comment saying
//! so. Attributes and PIs, which SyncML does not use, are skipped with a comment. Elements are
//! indented by depth (capped, so that a deep document cannot make the output quadratic), except
//! inside a `Data`, whose content stays on one line as it came. Where the bytes stop making sense
//! (a token no code page defines, a string that runs off the end), a comment says what and where,
//! and the rendering stops: it never fails, and never panics.

use base64::Engine as _;

use super::reader::{self, Fault, Reader, StringTable, SYNCML_DOC};
use super::tokens::{self, PAGE_SYNCML};
use crate::syncml::xml::push_escaped;

/// Deepest indentation written, in levels.
const MAX_INDENT: usize = 32;

/// The WBXML message `bytes` as XML text, token by token (see the module docs).
pub fn to_xml(bytes: &[u8]) -> String {
    let mut r = Reader::new(bytes);
    let mut out = String::with_capacity(bytes.len() * 3);
    let header = match reader::read_header(&mut r, &SYNCML_DOC) {
        Ok(h) => h,
        Err(f) => {
            push_fault(&mut out, &f);
            return out;
        }
    };
    let charset = match header.charset {
        tokens::CHARSET_UTF8 => " (UTF-8)",
        tokens::CHARSET_US_ASCII => " (US-ASCII)",
        tokens::CHARSET_UNKNOWN => " (unknown)",
        _ => "",
    };
    out.push_str(&format!(
        "<!-- WBXML {}.{}, {}, charset {}{charset}, string table of {} bytes -->",
        (header.version >> 4) + 1,
        header.version & 0x0F,
        header.doc,
        header.charset,
        header.strtbl.len()
    ));
    let mut renderer = Renderer {
        r,
        strtbl: header.strtbl,
        root_ns: header.doc.namespace(),
        page: PAGE_SYNCML,
        open: Vec::new(),
        data_depth: None,
        out,
    };
    if let Err(f) = renderer.body() {
        push_fault(&mut renderer.out, &f);
    }
    renderer.out
}

/// A comment saying where and why the bytes stopped making sense.
fn push_fault(out: &mut String, fault: &Fault) {
    out.push_str(&format!(
        "\n<!-- WBXML error at byte {}: {} -->",
        fault.offset, fault.kind
    ));
}

/// An element being written.
struct Open<'a> {
    name: &'a str,
    page: u8,
    /// Whether a child element was written in it (its end tag then goes on a line of its own).
    has_children: bool,
}

struct Renderer<'a> {
    r: Reader<'a>,
    strtbl: StringTable<'a>,
    /// The namespace of the root element, from the document type.
    root_ns: Option<&'static str>,
    page: u8,
    open: Vec<Open<'a>>,
    /// The depth of an open `Data`: its content is written as it comes, without indentation.
    data_depth: Option<usize>,
    out: String,
}

impl<'a> Renderer<'a> {
    /// Every token up to the root's END, then what follows it.
    fn body(&mut self) -> Result<(), Fault> {
        loop {
            if self.r.at_end() {
                let inside: Vec<&str> = self.open.iter().map(|o| o.name).collect();
                self.out.push_str(&format!(
                    "\n<!-- the WBXML ends here, inside {} -->",
                    if inside.is_empty() {
                        "no element".to_string()
                    } else {
                        inside.join("/")
                    }
                ));
                return Ok(());
            }
            let at = self.r.pos();
            if self.token(at)? {
                break;
            }
        }
        while !self.r.at_end() {
            let at = self.r.pos();
            match self.r.byte()? {
                tokens::PI => self.skip("a processing instruction")?,
                _ => return Err(Fault::new(super::WbxmlErrorKind::TrailingData, at)),
            }
        }
        Ok(())
    }

    /// One token at `at`; true when it closed the root.
    fn token(&mut self, at: usize) -> Result<bool, Fault> {
        let token = self.r.byte()?;
        match token {
            tokens::SWITCH_PAGE => {
                let page_at = self.r.pos();
                let page = self.r.byte()?;
                if !tokens::is_known_page(page) {
                    return Err(Fault::new(
                        super::WbxmlErrorKind::UnknownCodePage(page),
                        page_at,
                    ));
                }
                self.page = page;
            }
            tokens::END => return self.end(at),
            tokens::ENTITY => {
                let code = self.r.mb_u32()?;
                let c = char::from_u32(code)
                    .ok_or(Fault::new(super::WbxmlErrorKind::InvalidEntity(code), at))?;
                self.text(&c.to_string());
            }
            tokens::STR_I => {
                let text = self.r.inline_str()?;
                self.text(text);
            }
            tokens::STR_T => {
                let index = self.r.mb_u32()?;
                let text = self.strtbl.get(index, at)?;
                self.text(text);
            }
            tokens::OPAQUE => {
                let bytes = self.r.length_prefixed()?;
                match std::str::from_utf8(bytes) {
                    Ok(text) => self.text(text),
                    Err(_) => {
                        self.out.push_str(&format!(
                            "<!-- OPAQUE, {} bytes, as base64: -->{}",
                            bytes.len(),
                            base64::engine::general_purpose::STANDARD.encode(bytes)
                        ));
                    }
                }
            }
            tokens::PI => self.skip("a processing instruction")?,
            t if t & tokens::TAG_MASK == tokens::LITERAL => {
                let index = self.r.mb_u32()?;
                let name = self.strtbl.get(index, at)?;
                return self.start(name, None, t);
            }
            t if t & tokens::TAG_MASK < tokens::FIRST_TAG => {
                return Err(Fault::new(super::WbxmlErrorKind::UnexpectedToken(t), at));
            }
            t => {
                let id = t & tokens::TAG_MASK;
                let name = tokens::tag_name(self.page, id).ok_or(Fault::new(
                    super::WbxmlErrorKind::UnknownToken {
                        page: self.page,
                        token: id,
                    },
                    at,
                ))?;
                return self.start(name, Some(self.page), t);
            }
        }
        Ok(false)
    }

    /// A start tag (`page` `None` for a LITERAL, which stays in its parent's namespace); true when
    /// it is a root without content.
    fn start(&mut self, name: &'a str, page: Option<u8>, token: u8) -> Result<bool, Fault> {
        let parent_page = self.open.last().map(|o| o.page);
        let page = page.or(parent_page).unwrap_or(PAGE_SYNCML);
        let xmlns = match parent_page {
            None if page == PAGE_SYNCML => self.root_ns,
            None => Some(tokens::namespace(page)),
            Some(p) if p != page => Some(tokens::namespace(page)),
            Some(_) => None,
        };
        if let Some(parent) = self.open.last_mut() {
            parent.has_children = true;
        }
        self.newline();
        self.out.push('<');
        self.out.push_str(name);
        if let Some(ns) = xmlns {
            self.out.push_str(&format!(" xmlns=\"{ns}\""));
        }
        let has_content = token & tokens::HAS_CONTENT != 0;
        self.out.push_str(if has_content { ">" } else { "/>" });
        if token & tokens::HAS_ATTRIBUTES != 0 {
            self.skip("attributes")?;
        }
        if !has_content {
            return Ok(self.open.is_empty());
        }
        if name == "Data" && self.data_depth.is_none() {
            self.data_depth = Some(self.open.len());
        }
        self.open.push(Open {
            name,
            page,
            has_children: false,
        });
        Ok(false)
    }

    /// END: the innermost element's end tag; true when that is the root's.
    fn end(&mut self, at: usize) -> Result<bool, Fault> {
        let open = self.open.pop().ok_or(Fault::new(
            super::WbxmlErrorKind::UnexpectedToken(tokens::END),
            at,
        ))?;
        if open.has_children {
            self.newline();
        }
        self.out.push_str("</");
        self.out.push_str(open.name);
        self.out.push('>');
        if self.data_depth == Some(self.open.len()) {
            self.data_depth = None;
        }
        Ok(self.open.is_empty())
    }

    fn text(&mut self, text: &str) {
        push_escaped(&mut self.out, text);
    }

    /// Skip an attribute list or a PI, with a comment saying so.
    fn skip(&mut self, what: &str) -> Result<(), Fault> {
        let at = self.r.pos();
        reader::skip_attributes(&mut self.r, &self.strtbl)?;
        self.out.push_str(&format!(
            "<!-- {what} skipped, bytes {at}-{} -->",
            self.r.pos()
        ));
        Ok(())
    }

    /// A line break and the indentation of the depth, outside a `Data`.
    fn newline(&mut self) {
        if self.data_depth.is_some() {
            return;
        }
        self.out.push('\n');
        for _ in 0..self.open.len().min(MAX_INDENT) {
            self.out.push_str("  ");
        }
    }
}
