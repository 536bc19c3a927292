//! The WBXML decoder: bytes to the flat element tree that `tree_map` maps to a [`SyncMl`], the same
//! mapping the XML decoder uses.
//!
//! The body is read token by token with an explicit stack of open elements, so no input depth can
//! overflow the call stack. Each element keeps its text before its first child element, as the XML
//! tree does. The content of a `Data` element with child elements (a TNDS `MgmtTree` on code page 2,
//! say) is not kept as nodes but serialised as XML text, a namespace declaration on every element
//! whose code page differs from its parent's (`<MgmtTree xmlns="syncml:dmddf1.2">`), which is what
//! the XML decoder gives for the same document. OPAQUE in an Item's `Data` (and nothing else in it)
//! is kept as bytes: [`Data::Opaque`]; OPAQUE anywhere else is text and must be UTF-8.

use std::borrow::Cow;

use super::error::{WbxmlError, WbxmlErrorKind};
use super::reader::{self, Fault, Reader, StringTable};
use super::tokens::{self, PAGE_SYNCML};
use crate::syncml::notes::{self, DecodeNote, NoteKind};
use crate::syncml::tree_map::{self, ElementTree, MapErrorKind, NodeId};
use crate::syncml::xml::push_escaped;
use crate::syncml::{Data, SyncMl};

/// The root element is always the first node.
const ROOT: NodeId = 0;

/// Decode a WBXML SyncML message.
pub fn decode(bytes: &[u8]) -> Result<SyncMl, WbxmlError> {
    let (tree, _) = parse(bytes)?;
    tree_map::sync_ml(&tree, ROOT)
}

/// Decode a WBXML SyncML message, with a note for every deviation read past: a document type
/// other than SyncML 1.2 (WBXML's counterpart of the XML namespace) and children out of the
/// schema order (see [`crate::syncml::notes`]). The message, and the errors, are those of
/// [`decode`].
pub fn decode_with_notes(bytes: &[u8]) -> Result<(SyncMl, Vec<DecodeNote>), WbxmlError> {
    let (tree, header) = parse(bytes)?;
    let msg = tree_map::sync_ml(&tree, ROOT)?;
    let mut notes = Vec::new();
    if !header.doc.is_syncml_12() {
        notes.push(DecodeNote {
            kind: NoteKind::Namespace,
            path: String::new(),
            detail: format!(
                "the header announces {}, not SyncML 1.2 (public id 0x1201 or the FPI {:?}): the document type is how WBXML names the namespace {} (reference §9.1)",
                header.doc,
                tokens::SYNCML_FPIS[0],
                tokens::namespace(PAGE_SYNCML)
            ),
            excerpt: header_excerpt(bytes, &header),
        });
    }
    notes.extend(
        tree_map::order_notes(&tree, ROOT)
            .into_iter()
            .map(|(_, n)| n),
    );
    Ok((msg, notes))
}

/// The header as received: its bytes up to the string table in hex, and the FPI when the public
/// id is in the string table.
fn header_excerpt(bytes: &[u8], header: &reader::Header<'_>) -> String {
    let table_at = header.len.saturating_sub(header.strtbl.len());
    let hex: Vec<String> = bytes
        .get(..table_at)
        .unwrap_or_default()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    let mut text = hex.join(" ");
    if let reader::DocId::Fpi(fpi) = header.doc {
        text.push_str(&format!(" {fpi:?}"));
    }
    notes::excerpt(&text)
}

/// Read the header and the body into the element tree.
fn parse(bytes: &[u8]) -> Result<(Tree<'_>, reader::Header<'_>), WbxmlError> {
    let mut r = Reader::new(bytes);
    let header =
        reader::header(&mut r).map_err(|f| WbxmlError::new(f.kind, f.offset, String::new()))?;
    let mut parser = Parser {
        r,
        strtbl: header.strtbl,
        page: PAGE_SYNCML,
        tree: Tree {
            nodes: Vec::with_capacity(bytes.len() / 8),
        },
        open: Vec::new(),
        capture: None,
    };
    parser.body()?;
    Ok((parser.tree, header))
}

/// One element of the input.
struct Node<'a> {
    name: &'a str,
    /// Offset of the tag token.
    start: usize,
    /// Character data before the first child element.
    text: Cow<'a, str>,
    /// OPAQUE content of an Item's Data that holds nothing else.
    opaque: Option<Cow<'a, [u8]>>,
    /// Offset of the first OPAQUE byte, for a UTF-8 error if it turns out to be text.
    opaque_at: usize,
    /// Whether OPAQUE content may stay bytes (an Item's Data).
    opaque_ok: bool,
    /// The content of a `Data` with child elements, as XML.
    inner_xml: Option<String>,
    parent: Option<NodeId>,
    first_child: Option<NodeId>,
    last_child: Option<NodeId>,
    next_sibling: Option<NodeId>,
}

/// The elements of a document in document order, linked parent → children.
struct Tree<'a> {
    nodes: Vec<Node<'a>>,
}

impl<'a> Tree<'a> {
    // Node ids only come from `add`, so they are always in bounds whatever the input.
    fn node(&self, id: NodeId) -> &Node<'a> {
        &self.nodes[id]
    }

    fn node_mut(&mut self, id: NodeId) -> &mut Node<'a> {
        &mut self.nodes[id]
    }

    /// Add an element whose tag token is at `start` as the last child of `parent`.
    fn add(&mut self, name: &'a str, start: usize, parent: Option<NodeId>) -> NodeId {
        let id = self.nodes.len();
        let opaque_ok = name == "Data" && parent.is_some_and(|p| self.node(p).name == "Item");
        self.nodes.push(Node {
            name,
            start,
            text: Cow::Borrowed(""),
            opaque: None,
            opaque_at: start,
            opaque_ok,
            inner_xml: None,
            parent,
            first_child: None,
            last_child: None,
            next_sibling: None,
        });
        if let Some(parent) = parent {
            match self.node(parent).last_child {
                Some(prev) => self.node_mut(prev).next_sibling = Some(id),
                None => self.node_mut(parent).first_child = Some(id),
            }
            self.node_mut(parent).last_child = Some(id);
        }
        id
    }

    /// A fault inside element `id` (if any) as an error with its path.
    fn error(&self, id: Option<NodeId>, fault: Fault) -> WbxmlError {
        let path = id.map(|id| self.path(id)).unwrap_or_default();
        WbxmlError::new(fault.kind, fault.offset, path)
    }
}

impl ElementTree for Tree<'_> {
    type Error = WbxmlError;

    fn name(&self, id: NodeId) -> &str {
        self.node(id).name
    }

    fn parent(&self, id: NodeId) -> Option<NodeId> {
        self.node(id).parent
    }

    fn first_child(&self, id: NodeId) -> Option<NodeId> {
        self.node(id).first_child
    }

    fn next_sibling(&self, id: NodeId) -> Option<NodeId> {
        self.node(id).next_sibling
    }

    fn text(&self, id: NodeId) -> &str {
        &self.node(id).text
    }

    fn content(&self, id: NodeId) -> &str {
        let node = self.node(id);
        node.inner_xml.as_deref().unwrap_or(&node.text)
    }

    fn data(&self, id: NodeId) -> Data {
        match &self.node(id).opaque {
            Some(bytes) => Data::Opaque(bytes.to_vec()),
            None => Data::Text(self.content(id).to_string()),
        }
    }

    fn error(&self, id: NodeId, kind: MapErrorKind) -> WbxmlError {
        let kind = match kind {
            MapErrorKind::MissingElement(name) => WbxmlErrorKind::MissingElement(name),
            MapErrorKind::DuplicateElement(name) => WbxmlErrorKind::DuplicateElement(name),
            MapErrorKind::InvalidNumber { element, value } => {
                WbxmlErrorKind::InvalidNumber { element, value }
            }
            MapErrorKind::TooDeep => WbxmlErrorKind::TooDeep,
            MapErrorKind::InvalidCommandName(name) => WbxmlErrorKind::InvalidCommandName(name),
        };
        WbxmlError::new(kind, self.node(id).start, self.path(id))
    }
}

/// The content of a `Data` with child elements, being serialised as XML.
struct Capture<'a> {
    data: NodeId,
    xml: String,
    /// Open elements inside the Data: name and code page (a LITERAL's is its parent's).
    open: Vec<(&'a str, u8)>,
}

impl<'a> Capture<'a> {
    /// The code page of the innermost open element (the Data itself is on page 0).
    fn page(&self) -> u8 {
        self.open.last().map_or(PAGE_SYNCML, |&(_, page)| page)
    }

    /// A start tag, or an empty element when it has no content. A LITERAL (`page` `None`) stays in
    /// its parent's namespace.
    fn start(&mut self, name: &'a str, page: Option<u8>, has_content: bool) {
        let parent_page = self.page();
        let page = page.unwrap_or(parent_page);
        self.xml.push('<');
        self.xml.push_str(name);
        if page != parent_page {
            self.xml.push_str(" xmlns=\"");
            self.xml.push_str(tokens::namespace(page));
            self.xml.push('"');
        }
        if has_content {
            self.xml.push('>');
            self.open.push((name, page));
        } else {
            self.xml.push_str("/>");
        }
    }

    /// Close the innermost element; false when the END closes the Data itself.
    fn end(&mut self) -> bool {
        match self.open.pop() {
            Some((name, _)) => {
                self.xml.push_str("</");
                self.xml.push_str(name);
                self.xml.push('>');
                true
            }
            None => false,
        }
    }
}

/// The body parser's state.
struct Parser<'a> {
    r: Reader<'a>,
    strtbl: StringTable<'a>,
    /// The tag code page in force.
    page: u8,
    tree: Tree<'a>,
    /// Open elements, innermost last.
    open: Vec<NodeId>,
    capture: Option<Capture<'a>>,
}

impl<'a> Parser<'a> {
    /// An error at the innermost open element.
    fn fail(&self, fault: Fault) -> WbxmlError {
        self.tree.error(self.open.last().copied(), fault)
    }

    fn fault_at(&self, kind: WbxmlErrorKind, offset: usize) -> WbxmlError {
        self.fail(Fault::new(kind, offset))
    }

    /// Read tokens up to the root element's END, then check that only PIs follow.
    fn body(&mut self) -> Result<(), WbxmlError> {
        loop {
            let at = self.r.pos();
            let token = self.r.byte().map_err(|f| self.fail(f))?;
            if self.token(token, at).map_err(|f| self.fail(f))? {
                break;
            }
        }
        while !self.r.at_end() {
            let at = self.r.pos();
            match self.r.byte().map_err(|f| self.fail(f))? {
                tokens::PI => self.skip_attributes().map_err(|f| self.fail(f))?,
                _ => return Err(self.fault_at(WbxmlErrorKind::TrailingData, at)),
            }
        }
        Ok(())
    }

    /// Handle one token at `at`; true when it closed the root element.
    fn token(&mut self, token: u8, at: usize) -> Result<bool, Fault> {
        match token {
            tokens::SWITCH_PAGE => self.switch_page()?,
            tokens::END => return self.end(at),
            tokens::ENTITY => self.entity(at)?,
            tokens::STR_I => {
                let text = self.r.inline_str()?;
                self.text(Cow::Borrowed(text), token, at)?;
            }
            tokens::STR_T => {
                let index = self.r.mb_u32()?;
                let text = self.strtbl.get(index, at)?;
                self.text(Cow::Borrowed(text), token, at)?;
            }
            tokens::OPAQUE => self.opaque(at)?,
            tokens::PI => self.skip_attributes()?,
            t if t & tokens::TAG_MASK == tokens::LITERAL => return self.literal(t, at),
            t if t & tokens::TAG_MASK < tokens::FIRST_TAG => {
                // EXT_I_*, EXT_T_*, EXT_*: extensions SyncML does not define.
                return Err(Fault::new(WbxmlErrorKind::UnexpectedToken(t), at));
            }
            t => return self.tag(t, at),
        }
        Ok(false)
    }

    fn switch_page(&mut self) -> Result<(), Fault> {
        let at = self.r.pos();
        let page = self.r.byte()?;
        if !tokens::is_known_page(page) {
            return Err(Fault::new(WbxmlErrorKind::UnknownCodePage(page), at));
        }
        self.page = page;
        Ok(())
    }

    /// A tag token of the current code page; true when it is a complete (empty) root.
    fn tag(&mut self, token: u8, at: usize) -> Result<bool, Fault> {
        let id = token & tokens::TAG_MASK;
        let name = tokens::tag_name(self.page, id).ok_or(Fault::new(
            WbxmlErrorKind::UnknownToken {
                page: self.page,
                token: id,
            },
            at,
        ))?;
        self.element(name, Some(self.page), token, at)
    }

    /// A LITERAL tag: the name is in the string table.
    fn literal(&mut self, token: u8, at: usize) -> Result<bool, Fault> {
        let index = self.r.mb_u32()?;
        let name = self.strtbl.get(index, at)?;
        self.element(name, None, token, at)
    }

    /// Start an element (`page` `None` for a LITERAL) whose tag `token` (with its flags) is at `at`;
    /// true when it is a root without content, which is the whole document.
    fn element(
        &mut self,
        name: &'a str,
        page: Option<u8>,
        token: u8,
        at: usize,
    ) -> Result<bool, Fault> {
        if token & tokens::HAS_ATTRIBUTES != 0 {
            self.skip_attributes()?;
        }
        let has_content = token & tokens::HAS_CONTENT != 0;
        if self.capture.is_none() {
            if let Some(&parent) = self.open.last() {
                if self.tree.node(parent).name == "Data" {
                    self.start_capture(parent)?;
                }
            }
        }
        if let Some(capture) = &mut self.capture {
            capture.start(name, page, has_content);
            return Ok(false);
        }
        let parent = self.open.last().copied();
        if parent.is_none() && name != "SyncML" {
            return Err(Fault::new(
                WbxmlErrorKind::UnexpectedRoot(name.to_string()),
                at,
            ));
        }
        let id = self.tree.add(name, at, parent);
        if has_content {
            self.open.push(id);
        }
        Ok(parent.is_none() && !has_content)
    }

    /// The first child element of a Data: its content so far becomes the start of its XML.
    fn start_capture(&mut self, data: NodeId) -> Result<(), Fault> {
        let node = self.tree.node_mut(data);
        let mut xml = String::new();
        match node.opaque.take() {
            Some(bytes) => push_escaped(&mut xml, &opaque_text(bytes, node.opaque_at)?),
            None => push_escaped(&mut xml, &node.text),
        }
        node.text = Cow::Borrowed("");
        self.capture = Some(Capture {
            data,
            xml,
            open: Vec::new(),
        });
        Ok(())
    }

    /// END: close the innermost element; true when that is the root.
    fn end(&mut self, at: usize) -> Result<bool, Fault> {
        if let Some(capture) = &mut self.capture {
            if capture.end() {
                return Ok(false);
            }
            let data = capture.data;
            let xml = std::mem::take(&mut capture.xml);
            self.capture = None;
            self.tree.node_mut(data).inner_xml = Some(xml);
        }
        match self.open.pop() {
            Some(_) => Ok(self.open.is_empty()),
            None => Err(Fault::new(WbxmlErrorKind::UnexpectedToken(tokens::END), at)),
        }
    }

    fn entity(&mut self, at: usize) -> Result<(), Fault> {
        let code = self.r.mb_u32()?;
        let c = char::from_u32(code).ok_or(Fault::new(WbxmlErrorKind::InvalidEntity(code), at))?;
        self.text(Cow::Owned(c.to_string()), tokens::ENTITY, at)
    }

    /// Character data from `token` at `at`, for the innermost open element.
    fn text(&mut self, text: Cow<'a, str>, token: u8, at: usize) -> Result<(), Fault> {
        if let Some(capture) = &mut self.capture {
            push_escaped(&mut capture.xml, &text);
            return Ok(());
        }
        let &id = self
            .open
            .last()
            .ok_or(Fault::new(WbxmlErrorKind::UnexpectedToken(token), at))?;
        let node = self.tree.node_mut(id);
        if node.first_child.is_some() {
            return Ok(());
        }
        if let Some(bytes) = node.opaque.take() {
            node.text = opaque_text(bytes, node.opaque_at)?;
        }
        if node.text.is_empty() {
            node.text = text;
        } else {
            node.text.to_mut().push_str(&text);
        }
        Ok(())
    }

    /// OPAQUE: bytes in an Item's Data that holds no text, text everywhere else.
    fn opaque(&mut self, at: usize) -> Result<(), Fault> {
        let bytes = self.r.length_prefixed()?;
        let bytes_at = self.r.pos() - bytes.len();
        if self.capture.is_none() {
            if let Some(&id) = self.open.last() {
                let node = self.tree.node_mut(id);
                if node.opaque_ok && node.text.is_empty() && node.first_child.is_none() {
                    match &mut node.opaque {
                        Some(held) => held.to_mut().extend_from_slice(bytes),
                        None => {
                            node.opaque = Some(Cow::Borrowed(bytes));
                            node.opaque_at = bytes_at;
                        }
                    }
                    return Ok(());
                }
            }
        }
        let text = reader::utf8(bytes, bytes_at)?;
        self.text(Cow::Borrowed(text), tokens::OPAQUE, at)
    }

    /// Skip an attribute list (or a PI) up to its END.
    fn skip_attributes(&mut self) -> Result<(), Fault> {
        reader::skip_attributes(&mut self.r, &self.strtbl)
    }
}

/// OPAQUE bytes that turned out to be text, found at `offset`.
fn opaque_text(bytes: Cow<'_, [u8]>, offset: usize) -> Result<Cow<'_, str>, Fault> {
    match bytes {
        Cow::Borrowed(b) => reader::utf8(b, offset).map(Cow::Borrowed),
        Cow::Owned(v) => String::from_utf8(v).map(Cow::Owned).map_err(|e| {
            Fault::new(
                WbxmlErrorKind::InvalidUtf8,
                offset + e.utf8_error().valid_up_to(),
            )
        }),
    }
}
