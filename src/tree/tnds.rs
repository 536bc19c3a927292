//! TNDS, the Tree and Description Serialization (DM TNDS §9; reference §8.6): a subtree as one
//! `MgmtTree` XML document, read with `Get <uri>?list=TNDS…` and written in one step by Add or Replace
//! with Meta Type `application/vnd.syncml.dmtnds+xml` (or `+wbxml`).
//!
//! # Get `<uri>?list=TNDS[+P…|-P…]`
//!
//! One Results item: Source `<canonical uri>?list=<attribute>` (the attribute in canonical form, see
//! [`TndsSelection::attribute`], as `?prop=` Results name the property), Meta Format `xml` and Type
//! `application/vnd.syncml.dmtnds+xml`, Data the document:
//!
//! ```xml
//! <MgmtTree xmlns="syncml:dmddf1.2"><VerDTD>1.2</VerDTD>
//!   <Node><NodeName>DevInfo</NodeName><Path>.</Path>
//!     <RTProperties><ACL>Get=*</ACL><Format><node/></Format>…<Type><DDFName>urn:…</DDFName></Type>…</RTProperties>
//!     <Node><NodeName>DevId</NodeName><RTProperties>…<Type><MIME>text/plain</MIME></Type>…</RTProperties>
//!       <Value>IMEI:…</Value></Node>…</Node></MgmtTree>
//! ```
//!
//! (without the whitespace shown here). Rules:
//! - The target needs the Get access type (405) and the Get right (425), as for `?list=Struct`.
//! - Nodes are written depth first, children in name order. A node whose effective ACL denies Get is
//!   left out with its whole subtree (a TNDS node cannot exist without its parent), as is `./Inbox`.
//! - `Path` is on the top node only: its parent's canonical URI (none for the root, whose NodeName
//!   is `.`), as DDF files write it (`<Path>.</Path>` for DevInfo).
//! - `RTProperties` holds the selected properties in DTD order: `ACL` (the node's own, empty
//!   `<ACL/>` when inherited), `Format` as an empty element (`<Format><chr/></Format>`), `Name`,
//!   `Size` (leaves only), `Title` (only when set), `TStamp`, `Type` (`<MIME>` for a leaf, `<DDFName>`
//!   for an interior node, empty without an MO id) and `VerNo`. It is left out when no property is
//!   selected. Plain `TNDS` selects every property and the value.
//! - `Value` is written for leaves when selected, except for nodes without the Get access type
//!   (AAuthSecret, AAuthData): their value never leaves the device. An empty value is `<Value/>`;
//!   a `bin` value is base64 and its Format then reads `b64` (as Results items do).
//!
//! # Add / Replace with a TNDS payload
//!
//! The item's Target is where the tree is anchored: each `Node` child of `MgmtTree` is the node
//! `<Target>/<NodeName>` (the TNDS example creates `E-Mail` under Target `/OperatorX`), and a nested
//! `Node` is a child of its enclosing one. A `Path`, if present, is the absolute URI of the node's
//! parent (`A/B` and `./A/B` alike): on a top-level node it must be the Target or below it, on a nested
//! node the enclosing node; otherwise, or when it is not a valid URI, 400. The Target may have no
//! query (405) and, for Add, need not exist (missing parents are created as by Add).
//!
//! Format, when absent, is `node` for a Node with child Nodes or without a Value, else `chr`. Type
//! is read from `<MIME>`, `<DDFName>` or plain text. `TStamp`, `VerNo`, `Size` and `Name` in
//! `RTProperties` are the device's to keep and are ignored; `VerDTD`, `Man`, `Mod`, `DFProperties`
//! and unknown elements are skipped.
//!
//! The whole document is checked before the tree changes, and the command works on a copy of the
//! tree that replaces it only when every node succeeded: a refused command leaves the tree unchanged,
//! answering the status of the first failing node in document order.
//! - 400: not well-formed XML, root not `MgmtTree`, a `Node` without (or with an invalid) `NodeName`,
//!   a duplicated element in a `Node`, an empty `Format`, a leaf `Format` on a Node with child Nodes,
//!   a bad `Path`, a `+wbxml` payload that does not decode, a `+xml` one that is not UTF-8. Then 414
//!   for any node beyond the URI limits. Then, node by node:
//! - Add: a node that exists is 418; a top-level node needs its nearest existing ancestor to be
//!   interior with the Add access type (405) and to grant Add (425), as a plain Add; nodes nested in it
//!   are created by the same command and are not checked again. An unknown Format is 415, a Value
//!   that does not match it 400 (a Value on an interior node too), a malformed ACL 400, a Title over
//!   255 bytes 413, exceeding the capacity 420. New nodes take `ACL` and `Title` from the document,
//!   TStamp now and VerNo 0; an interior node without an ACL follows the plain Add rule (creator
//!   rights when the server lacks Replace on the parent).
//! - Replace: every node must exist (404) and keep its kind (a leaf described as `node` or with
//!   child Nodes, an interior node described with a leaf Format or a Value: 405). A leaf with a `Value`
//!   is replaced exactly as a plain Replace with that Format and Type would (405 access type, 425 ACL,
//!   415 Format, 405 Format/Type change of a permanent node, 400 value, 420 capacity); a leaf without a
//!   Value and interior nodes are left as they are. `ACL` and `Title` are not changed by Replace (use
//!   `?prop=`): Replace writes values.
//!
//! Other `application/vnd.syncml.dmtnds…` types are 415. A payload with Meta Format `b64` is base64
//! decoded first. Nothing here recurses on the input: the document is read into a flat list of nodes
//! with an explicit stack.

use std::sync::Arc;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::commands::{decode_value, leaf_mime, INBOX};
use super::format::{decode_b64, encode_b64, Format};
use super::node::{Access, Node};
use super::props::MAX_TITLE_LEN;
use super::tstamp::format_tstamp;
use super::uri::{self, TndsProp, TndsSelection};
use super::{acl, AclCmd, Tree};
use crate::syncml::wbxml::{self, WbxmlError};
use crate::syncml::{Data, Item, Location, Meta, StatusCode};

type Outcome<T = ()> = Result<T, StatusCode>;

/// Meta Type of a TNDS object in XML.
pub const TNDS_XML: &str = "application/vnd.syncml.dmtnds+xml";
/// Meta Type of a TNDS object in WBXML.
pub const TNDS_WBXML: &str = "application/vnd.syncml.dmtnds+wbxml";
/// What every TNDS Meta Type starts with.
const TNDS_PREFIX: &str = "application/vnd.syncml.dmtnds";
/// Namespace of the DDF elements.
const DDF_NS: &str = "syncml:dmddf1.2";
/// The `VerDTD` of the documents written.
const DDF_VER_DTD: &str = "1.2";

/// Why a TNDS payload could not be read (all of them answer 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TndsError {
    #[error("TNDS is not well-formed XML: {0}")]
    Syntax(String),
    #[error("TNDS has no MgmtTree element")]
    NoRoot,
    #[error("TNDS root element is {0}, expected MgmtTree")]
    UnexpectedRoot(String),
    #[error("element {child} is not allowed inside {parent}")]
    UnexpectedElement { parent: &'static str, child: String },
    #[error("element {0} appears more than once")]
    Duplicate(&'static str),
    #[error("a Node has no NodeName")]
    MissingNodeName,
    #[error("invalid NodeName {0:?}")]
    InvalidNodeName(String),
    #[error("Format of {0} names no format")]
    EmptyFormat(String),
    #[error("{0} has a leaf Format and child Nodes")]
    LeafWithChildren(String),
    #[error("invalid Path {0:?}")]
    InvalidPath(String),
    #[error("Path {path} of {name} is not where the node is ({expected})")]
    MisplacedPath {
        name: String,
        path: String,
        expected: String,
    },
    #[error("TNDS payload is not UTF-8")]
    NotUtf8,
    #[error("TNDS payload is not valid base64")]
    Base64,
    #[error("WBXML TNDS: {0}")]
    Wbxml(#[from] WbxmlError),
}

impl TndsError {
    /// The status of a command whose TNDS payload could not be read.
    pub fn status(&self) -> StatusCode {
        StatusCode::BadRequest
    }
}

/// How a TNDS payload is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Encoding {
    Xml,
    Wbxml,
}

/// The TNDS encoding a Meta Type names: `None` for a type that is not TNDS, 415 for a TNDS type
/// other than `+xml` and `+wbxml`.
pub(super) fn payload_encoding(mime: Option<&str>) -> Outcome<Option<Encoding>> {
    let Some(mime) = mime.map(str::trim) else {
        return Ok(None);
    };
    if mime.eq_ignore_ascii_case(TNDS_XML) {
        Ok(Some(Encoding::Xml))
    } else if mime.eq_ignore_ascii_case(TNDS_WBXML) {
        Ok(Some(Encoding::Wbxml))
    } else if mime
        .get(..TNDS_PREFIX.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(TNDS_PREFIX))
    {
        Err(StatusCode::UnsupportedMediaType)
    } else {
        Ok(None)
    }
}

/// The TNDS XML text of a payload: base64-decoded when its Meta Format is `b64`, WBXML decoded.
pub(super) fn payload_xml(
    data: &[u8],
    format: Option<&str>,
    encoding: Encoding,
) -> Result<String, TndsError> {
    let decoded;
    let bytes = if format.is_some_and(|f| f.trim().eq_ignore_ascii_case("b64")) {
        decoded = decode_b64(data).map_err(|_| TndsError::Base64)?;
        &decoded[..]
    } else {
        data
    };
    match encoding {
        Encoding::Xml => String::from_utf8(bytes.to_vec()).map_err(|_| TndsError::NotUtf8),
        Encoding::Wbxml => Ok(wbxml::decode_tnds(bytes)?),
    }
}

// ---------------------------------------------------------------------------------------------------
// Get: the subtree as a document
// ---------------------------------------------------------------------------------------------------

/// Append `text` escaped for character data, exactly as the SyncML codecs escape it (`<`, `>`, `&`,
/// and `\r` as a character reference), so that the WBXML encoder can carry the document as elements.
fn push_escaped(buf: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '<' => buf.push_str("&lt;"),
            '>' => buf.push_str("&gt;"),
            '&' => buf.push_str("&amp;"),
            '\r' => buf.push_str("&#13;"),
            c => buf.push(c),
        }
    }
}

/// Writes compact XML: no whitespace between elements, `<e/>` for empty ones.
#[derive(Default)]
struct XmlOut {
    buf: String,
}

impl XmlOut {
    fn open(&mut self, name: &str) {
        self.buf.push('<');
        self.buf.push_str(name);
        self.buf.push('>');
    }

    fn close(&mut self, name: &str) {
        self.buf.push_str("</");
        self.buf.push_str(name);
        self.buf.push('>');
    }

    fn empty(&mut self, name: &str) {
        self.buf.push('<');
        self.buf.push_str(name);
        self.buf.push_str("/>");
    }

    /// An element holding `text`; `<name/>` when the text is empty.
    fn leaf(&mut self, name: &str, text: &str) {
        if text.is_empty() {
            self.empty(name);
        } else {
            self.open(name);
            push_escaped(&mut self.buf, text);
            self.close(name);
        }
    }

    /// An element holding one empty element (`<Format><chr/></Format>`).
    fn wrapped_empty(&mut self, name: &str, inner: &str) {
        self.open(name);
        self.empty(inner);
        self.close(name);
    }

    /// An element holding one text element (`<Type><MIME>text/plain</MIME></Type>`).
    fn wrapped_leaf(&mut self, name: &str, inner: &str, text: &str) {
        self.open(name);
        self.leaf(inner, text);
        self.close(name);
    }
}

/// A leaf's value as TNDS text: UTF-8 text, or base64 for `bin`.
fn value_text(node: &Node) -> String {
    if node.format.is_text() {
        String::from_utf8_lossy(node.value()).into_owned()
    } else {
        encode_b64(node.value())
    }
}

/// Write the `RTProperties` of `node` (at `path`) selected by `sel`; `b64` when its value is written
/// as base64.
fn write_properties(out: &mut XmlOut, path: &str, node: &Node, sel: TndsSelection, b64: bool) {
    let mut props = XmlOut::default();
    for prop in TndsProp::ALL {
        if sel.includes(prop) {
            write_property(&mut props, path, node, prop, b64);
        }
    }
    if props.buf.is_empty() {
        if TndsProp::ALL
            .into_iter()
            .any(|p| p != TndsProp::Value && sel.includes(p))
        {
            out.empty("RTProperties");
        }
        return;
    }
    out.open("RTProperties");
    out.buf.push_str(&props.buf);
    out.close("RTProperties");
}

/// Write one property of `node` (nothing for `Value`, `Size` of an interior node, an unset Title).
fn write_property(out: &mut XmlOut, path: &str, node: &Node, prop: TndsProp, b64: bool) {
    match prop {
        TndsProp::Acl => out.leaf("ACL", node.acl_str().unwrap_or("")),
        TndsProp::Format => {
            let format = if b64 { Format::B64 } else { node.format };
            out.wrapped_empty("Format", format.as_str());
        }
        TndsProp::Name => out.leaf("Name", uri::name(path)),
        TndsProp::Size if node.is_leaf() => out.leaf("Size", &node.value().len().to_string()),
        TndsProp::Title => {
            if let Some(title) = node.title_str() {
                out.leaf("Title", title);
            }
        }
        TndsProp::TStamp => out.leaf("TStamp", &format_tstamp(node.tstamp)),
        TndsProp::Type if node.is_leaf() => {
            out.wrapped_leaf("Type", "MIME", node.mime_type().unwrap_or(""))
        }
        TndsProp::Type => out.wrapped_leaf("Type", "DDFName", node.mime_type().unwrap_or("")),
        TndsProp::VerNo => out.leaf("VerNo", &node.verno.to_string()),
        TndsProp::Size | TndsProp::Value => {}
    }
}

/// Order canonical paths depth first, children by name (key order is not: `./A/B-x` sorts between
/// `./A/B` and `./A/B/C`).
fn depth_first(a: &str, b: &str) -> std::cmp::Ordering {
    a.split('/').cmp(b.split('/'))
}

impl Tree {
    /// Get `<path>?list=TNDS…`: one item holding the subtree (see the module doc).
    pub(super) fn get_tnds(
        &self,
        who: &str,
        path: &str,
        node: &Node,
        sel: TndsSelection,
    ) -> Outcome<Item> {
        self.check_get(who, path, node)?;
        let xml = self.tnds_document(who, path, node, sel);
        let meta = Meta {
            format: Some(Format::Xml.as_str().to_string()),
            type_: Some(TNDS_XML.to_string()),
            ..Meta::default()
        };
        Ok(Item {
            source: Some(Location::uri(format!("{path}?list={}", sel.attribute()))),
            meta: Some(meta),
            data: Some(Data::Text(xml)),
            ..Item::default()
        })
    }

    /// The TNDS document of the subtree at `path` as `who` may see it.
    fn tnds_document(&self, who: &str, path: &str, node: &Node, sel: TndsSelection) -> String {
        let mut subtree: Vec<(&str, &Node)> =
            self.descendants(path).map(|(k, n)| (&**k, &**n)).collect();
        subtree.sort_by(|a, b| depth_first(a.0, b.0));
        let mut out = XmlOut::default();
        out.buf.push_str("<MgmtTree xmlns=\"");
        out.buf.push_str(DDF_NS);
        out.buf.push_str("\">");
        out.leaf("VerDTD", DDF_VER_DTD);
        write_node(&mut out, path, node, sel, uri::parent(path));
        // Depths of the open Node elements, the target's first.
        let mut open = vec![uri::depth(path)];
        let mut hidden: Option<&str> = None;
        for (p, n) in subtree {
            if hidden.is_some_and(|h| uri::is_ancestor_or_self(h, p)) {
                continue;
            }
            if uri::is_ancestor_or_self(INBOX, p) || !self.allowed(p, AclCmd::Get, who) {
                hidden = Some(p);
                continue;
            }
            let depth = uri::depth(p);
            while open.last().is_some_and(|&d| d >= depth) {
                open.pop();
                out.close("Node");
            }
            write_node(&mut out, p, n, sel, None);
            open.push(depth);
        }
        for _ in open {
            out.close("Node");
        }
        out.close("MgmtTree");
        out.buf
    }
}

/// Open a `Node` element and write its name, `Path` (on the top node), properties and value; its
/// children and end tag follow.
fn write_node(out: &mut XmlOut, path: &str, node: &Node, sel: TndsSelection, parent: Option<&str>) {
    out.open("Node");
    out.leaf("NodeName", uri::name(path));
    if let Some(parent) = parent {
        out.leaf("Path", parent);
    }
    let value =
        (sel.includes(TndsProp::Value) && node.is_leaf() && node.access.contains(Access::GET))
            .then(|| value_text(node));
    let b64 = value.is_some() && !node.format.is_text();
    write_properties(out, path, node, sel, b64);
    if let Some(value) = value {
        out.leaf("Value", &value);
    }
}

// ---------------------------------------------------------------------------------------------------
// Reading a document
// ---------------------------------------------------------------------------------------------------

/// One `Node` element of a document, as written (nothing checked against the tree yet).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Described {
    name: Option<String>,
    path: Option<String>,
    /// Index of the enclosing `Node`; `None` for a child of `MgmtTree`.
    parent: Option<usize>,
    format: Option<String>,
    mime: Option<String>,
    acl: Option<String>,
    title: Option<String>,
    value: Option<String>,
    has_children: bool,
}

impl Described {
    /// The node name (checked present and valid by [`parse`]).
    fn name(&self) -> &str {
        self.name.as_deref().unwrap_or_default()
    }

    /// Whether the Format names an interior node: `Some` when the Format is a known one.
    fn explicit_interior(&self) -> Option<bool> {
        let format = Format::parse(self.format.as_deref()?)?;
        Some(format == Format::Node)
    }

    /// Whether an Add creates an interior node (Format absent: child Nodes or no Value).
    fn creates_interior(&self) -> bool {
        self.explicit_interior()
            .unwrap_or(self.has_children || self.value.is_none())
    }
}

/// A text field of a `Node` (or of its `RTProperties` / `Type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    NodeName,
    Path,
    Value,
    Acl,
    Title,
    Mime,
}

impl Field {
    fn element(self) -> &'static str {
        match self {
            Field::NodeName => "NodeName",
            Field::Path => "Path",
            Field::Value => "Value",
            Field::Acl => "ACL",
            Field::Title => "Title",
            Field::Mime => "Type",
        }
    }

    fn slot(self, d: &mut Described) -> &mut Option<String> {
        match self {
            Field::NodeName => &mut d.name,
            Field::Path => &mut d.path,
            Field::Value => &mut d.value,
            Field::Acl => &mut d.acl,
            Field::Title => &mut d.title,
            Field::Mime => &mut d.mime,
        }
    }
}

/// Where the reader is: the innermost open element's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctx {
    /// Inside `MgmtTree`.
    Tree,
    /// An element whose content is ignored.
    Skip,
    Node(usize),
    Props(usize),
    /// `Format`: its child element names the format (or its text does).
    Format(usize),
    /// `Type`: `MIME` / `DDFName` child, or text.
    Type(usize),
    /// A text element.
    Text(usize, Field),
}

/// The reader's state.
#[derive(Default)]
struct DocParser {
    nodes: Vec<Described>,
    stack: Vec<Ctx>,
    text: String,
    seen_root: bool,
}

/// Read a TNDS document into its nodes, in document order (a parent before its children).
fn parse(xml: &str) -> Result<Vec<Described>, TndsError> {
    let mut reader = Reader::from_str(xml);
    let mut p = DocParser::default();
    loop {
        let event = reader
            .read_event()
            .map_err(|e| TndsError::Syntax(e.to_string()))?;
        match event {
            Event::Start(e) => p.start(&e)?,
            Event::Empty(e) => {
                p.start(&e)?;
                p.end()?;
            }
            Event::End(_) => p.end()?,
            Event::Text(t) => {
                let text = t.unescape().map_err(|e| TndsError::Syntax(e.to_string()))?;
                p.append(&text)?;
            }
            Event::CData(c) => {
                let bytes = c.into_inner();
                let text = std::str::from_utf8(&bytes).map_err(|_| TndsError::NotUtf8)?;
                p.append(text)?;
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
            Event::Eof => break,
        }
    }
    p.finish()
}

impl DocParser {
    fn start(&mut self, e: &BytesStart<'_>) -> Result<(), TndsError> {
        let local = e.local_name();
        let name = std::str::from_utf8(local.as_ref())
            .map_err(|_| TndsError::Syntax("element name is not UTF-8".into()))?;
        let ctx = match self.stack.last().copied() {
            None => self.root(name)?,
            Some(parent) => self.child(parent, name)?,
        };
        if matches!(ctx, Ctx::Text(..) | Ctx::Format(_) | Ctx::Type(_)) {
            self.text.clear();
        }
        self.stack.push(ctx);
        Ok(())
    }

    fn root(&mut self, name: &str) -> Result<Ctx, TndsError> {
        if self.seen_root {
            return Err(TndsError::Syntax("content after the root element".into()));
        }
        if name != "MgmtTree" {
            return Err(TndsError::UnexpectedRoot(name.to_string()));
        }
        self.seen_root = true;
        Ok(Ctx::Tree)
    }

    /// The role of element `name` inside an element of role `parent`.
    fn child(&mut self, parent: Ctx, name: &str) -> Result<Ctx, TndsError> {
        Ok(match (parent, name) {
            (Ctx::Skip, _) => Ctx::Skip,
            (Ctx::Tree, "Node") => Ctx::Node(self.new_node(None)),
            (Ctx::Tree, _) => Ctx::Skip,
            (Ctx::Node(i), "Node") => {
                self.nodes[i].has_children = true;
                Ctx::Node(self.new_node(Some(i)))
            }
            (Ctx::Node(i), "NodeName") => self.field(i, Field::NodeName)?,
            (Ctx::Node(i), "Path") => self.field(i, Field::Path)?,
            (Ctx::Node(i), "Value") => self.field(i, Field::Value)?,
            (Ctx::Node(i), "RTProperties") => Ctx::Props(i),
            (Ctx::Node(_), _) => Ctx::Skip,
            (Ctx::Props(i), "ACL") => self.field(i, Field::Acl)?,
            (Ctx::Props(i), "Title") => self.field(i, Field::Title)?,
            (Ctx::Props(i), "Format") => self.once(i, "Format", |d| &d.format, Ctx::Format(i))?,
            (Ctx::Props(i), "Type") => self.once(i, "Type", |d| &d.mime, Ctx::Type(i))?,
            (Ctx::Props(_), _) => Ctx::Skip,
            (Ctx::Format(i), format) => {
                let slot = &mut self.nodes[i].format;
                if slot.is_some() {
                    return Err(TndsError::Duplicate("Format"));
                }
                *slot = Some(format.to_string());
                Ctx::Skip
            }
            (Ctx::Type(i), "MIME" | "DDFName") => self.field(i, Field::Mime)?,
            (Ctx::Type(_), _) => Ctx::Skip,
            (Ctx::Text(_, field), child) => {
                return Err(TndsError::UnexpectedElement {
                    parent: field.element(),
                    child: child.to_string(),
                })
            }
        })
    }

    fn new_node(&mut self, parent: Option<usize>) -> usize {
        self.nodes.push(Described {
            parent,
            ..Described::default()
        });
        self.nodes.len() - 1
    }

    /// A text element for `field` of node `i`, which must not have been set yet.
    fn field(&mut self, i: usize, field: Field) -> Result<Ctx, TndsError> {
        if field.slot(&mut self.nodes[i]).is_some() {
            return Err(TndsError::Duplicate(field.element()));
        }
        Ok(Ctx::Text(i, field))
    }

    /// `ctx` for an element that sets what `slot` reads, which must not have been set yet.
    fn once(
        &self,
        i: usize,
        element: &'static str,
        slot: fn(&Described) -> &Option<String>,
        ctx: Ctx,
    ) -> Result<Ctx, TndsError> {
        match slot(&self.nodes[i]) {
            Some(_) => Err(TndsError::Duplicate(element)),
            None => Ok(ctx),
        }
    }

    /// Character data for the innermost element (kept only where it means something).
    fn append(&mut self, text: &str) -> Result<(), TndsError> {
        match self.stack.last() {
            Some(Ctx::Text(..) | Ctx::Format(_) | Ctx::Type(_)) => self.text.push_str(text),
            Some(_) => {}
            None if text.trim().is_empty() => {}
            None => return Err(TndsError::Syntax("text outside the root element".into())),
        }
        Ok(())
    }

    fn end(&mut self) -> Result<(), TndsError> {
        let text = std::mem::take(&mut self.text);
        match self.stack.pop() {
            Some(Ctx::Text(i, field)) => {
                let value = match field {
                    Field::Value => text,
                    _ => text.trim().to_string(),
                };
                *field.slot(&mut self.nodes[i]) = Some(value);
            }
            Some(Ctx::Format(i)) => {
                let d = &mut self.nodes[i];
                if d.format.is_none() {
                    let named = text.trim();
                    if named.is_empty() {
                        return Err(TndsError::EmptyFormat(d.name.clone().unwrap_or_default()));
                    }
                    d.format = Some(named.to_string());
                }
            }
            Some(Ctx::Type(i)) => {
                let d = &mut self.nodes[i];
                if d.mime.is_none() {
                    d.mime = Some(text.trim().to_string());
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Check the end of input and every node's name and kind.
    fn finish(self) -> Result<Vec<Described>, TndsError> {
        if !self.stack.is_empty() {
            return Err(TndsError::Syntax("unexpected end of input".into()));
        }
        if !self.seen_root {
            return Err(TndsError::NoRoot);
        }
        for d in &self.nodes {
            let name = d.name.as_deref().ok_or(TndsError::MissingNodeName)?;
            if !uri::is_valid_segment(name) {
                return Err(TndsError::InvalidNodeName(name.to_string()));
            }
            if d.has_children && d.explicit_interior() == Some(false) {
                return Err(TndsError::LeafWithChildren(name.to_string()));
            }
        }
        Ok(self.nodes)
    }
}

/// The canonical URI of every node of a document anchored at canonical `target` (see the module doc
/// for `Path`).
fn place(nodes: &[Described], target: &str) -> Result<Vec<String>, TndsError> {
    let mut uris: Vec<String> = Vec::with_capacity(nodes.len());
    for d in nodes {
        let parent = match d.parent.and_then(|p| uris.get(p)) {
            Some(p) => p.clone(),
            None => target.to_string(),
        };
        if let Some(path) = &d.path {
            let canon = uri::canonical(path).ok_or_else(|| TndsError::InvalidPath(path.clone()))?;
            let fits = match d.parent {
                Some(_) => canon == parent,
                None => uri::is_ancestor_or_self(target, &canon),
            };
            if !fits {
                return Err(TndsError::MisplacedPath {
                    name: d.name().to_string(),
                    path: path.clone(),
                    expected: parent,
                });
            }
            uris.push(uri::join(&canon, d.name()));
        } else {
            uris.push(uri::join(&parent, d.name()));
        }
    }
    Ok(uris)
}

/// The node an Add creates from its description, stamped `now`.
fn new_node(d: &Described, now: u64) -> Outcome<Node> {
    let format = match &d.format {
        Some(f) => Format::parse_status(f)?,
        None if d.creates_interior() => Format::Node,
        None => Format::Chr,
    };
    let value = d.value.as_deref().unwrap_or("");
    let mut node = if format == Format::Node {
        if !value.is_empty() {
            return Err(StatusCode::BadRequest);
        }
        let mut node = Node::interior();
        node.mime = d
            .mime
            .as_deref()
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(Arc::from);
        node
    } else {
        let (format, bytes) = decode_value(format, value.as_bytes())?;
        let mut node = Node::leaf(format, bytes);
        node.mime = d.mime.as_deref().and_then(leaf_mime);
        node
    };
    node.tstamp = now;
    if let Some(acl) = d.acl.as_deref().filter(|a| !a.is_empty()) {
        acl::validate(acl).map_err(|_| StatusCode::BadRequest)?;
        node.acl = Some(Arc::from(acl));
    }
    if let Some(title) = d.title.as_deref().filter(|t| !t.is_empty()) {
        if title.len() > MAX_TITLE_LEN {
            return Err(StatusCode::RequestEntityTooLarge);
        }
        node.title = Some(Arc::from(title));
    }
    Ok(node)
}

/// A document read and placed under a Target: its nodes and their canonical URIs.
struct Placed {
    nodes: Vec<Described>,
    uris: Vec<String>,
}

impl Tree {
    /// Read `xml` anchored at canonical `target`: 400 when malformed, 414 beyond the URI limits.
    fn read_tnds(&self, target: &str, xml: &str) -> Outcome<Placed> {
        let placed = parse(xml).and_then(|nodes| {
            let uris = place(&nodes, target)?;
            Ok(Placed { nodes, uris })
        });
        let placed = placed.map_err(|e| {
            tracing::debug!(%target, error = %e, "TNDS payload refused");
            e.status()
        })?;
        for uri in &placed.uris {
            self.limits.check(uri)?;
        }
        Ok(placed)
    }

    /// Add the TNDS document `xml` under canonical `target`, all or nothing.
    pub(super) fn add_tnds(&mut self, who: &str, target: &str, xml: &str, now: u64) -> Outcome {
        let placed = self.read_tnds(target, xml)?;
        let mut work = self.clone();
        for (d, uri) in placed.nodes.iter().zip(&placed.uris) {
            work.add_described(who, d, uri, now)?;
        }
        *self = work;
        Ok(())
    }

    /// Create one described node at `uri`.
    fn add_described(&mut self, who: &str, d: &Described, uri: &str, now: u64) -> Outcome {
        if self.nodes.contains_key(uri) {
            return Err(StatusCode::AlreadyExists);
        }
        if d.parent.is_none() {
            self.check_can_create(who, uri)?;
        }
        let node = new_node(d, now)?;
        self.check_capacity(0, node.value_len())?;
        self.create_node(who, uri, node, now);
        Ok(())
    }

    /// Replace the leaves of the TNDS document `xml` under canonical `target`, all or nothing.
    pub(super) fn replace_tnds(&mut self, who: &str, target: &str, xml: &str, now: u64) -> Outcome {
        let placed = self.read_tnds(target, xml)?;
        let mut work = self.clone();
        for (d, uri) in placed.nodes.iter().zip(&placed.uris) {
            work.replace_described(who, d, uri, now)?;
        }
        *self = work;
        Ok(())
    }

    /// Replace one described node at `uri`: the value of a leaf, nothing for an interior node.
    fn replace_described(&mut self, who: &str, d: &Described, uri: &str, now: u64) -> Outcome {
        let node = self.nodes.get(uri).ok_or(StatusCode::NotFound)?;
        if node.is_interior() {
            if d.value.is_some() {
                return Err(StatusCode::CommandNotAllowed);
            }
            return match d.format.as_deref().map(Format::parse_status).transpose()? {
                Some(f) if f != Format::Node => Err(StatusCode::CommandNotAllowed),
                _ => Ok(()),
            };
        }
        if d.has_children || d.explicit_interior() == Some(true) {
            return Err(StatusCode::CommandNotAllowed);
        }
        match &d.value {
            Some(value) => self.replace_leaf(
                who,
                uri,
                d.format.as_deref(),
                d.mime.as_deref(),
                value.as_bytes(),
                now,
            ),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests;
