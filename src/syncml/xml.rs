//! The SyncML DM 1.2 XML codec: [`SyncMl`] messages to `application/vnd.syncml.dm+xml` bytes and back.
//!
//! The encoder writes what real DM clients and servers write (reference §1.2 element order, MetInf
//! elements carrying `xmlns="syncml:metinf"`, empty flags as `<Final/>`), straight into a `String`.
//! [`encode_pretty`] writes the same document indented for transcripts and `dmsim decode`; it decodes
//! to the same message. An Item's opaque Data (WBXML `OPAQUE`) goes as text when it is text, and
//! as base64 under Meta Format `b64` when it is not ([`Data::to_text`]): it comes back as
//! [`Data::Text`] holding the same bytes, or their base64 that the Format tells a reader to decode.
//! The pretty form also writes a Data that is embedded XML (a TNDS tree, a Format `xml` value) as
//! XML, where the compact form escapes it; both decode to the same text.
//!
//! The decoder is lenient where real implementations differ (namespace prefixes, child order, unknown
//! elements, DOCTYPE and comments) and strict where the meaning of the message would change (missing
//! required elements, duplicated single elements, codes that are not numbers). It first builds a flat
//! element tree with quick-xml, then maps each element to the model with the mapping it shares with
//! the WBXML decoder (`tree_map`), so that the two cannot drift apart; nothing in it recurses on the
//! input except Atomic/Sequence, whose nesting is capped at [`MAX_NESTING`]. Every error carries the
//! element path and the line and column of the element's start tag.
//!
//! [`decode_with_notes`] also says what the decoder read past: children out of the schema order
//! and namespaces other than `SYNCML:SYNCML1.2` and `syncml:metinf` (reference §1.1, §1.2; see
//! [`super::notes`]). For that it resolves each element's namespace from the declarations in scope
//! (`xmlns`, `xmlns:p`), by prefix, so that a lookup costs the same at any depth.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::ops::Range;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::notes::{self, DecodeNote, NoteKind};
use super::tree_map::{self, ElementTree, MapErrorKind, NodeId};
use super::{
    Alert, Command, Container, Cred, Data, DataText, Delete, Deviations, Exec, Get, Item,
    ItemCommand, Location, Meta, Results, Status, SyncBody, SyncHdr, SyncMl, UnknownCommand,
};

/// Namespace of the `SyncML` root element.
const SYNCML_NS: &str = "SYNCML:SYNCML1.2";
/// The SyncML 1.1 namespace, written only as a deliberate deviation.
const SYNCML_11_NS: &str = "SYNCML:SYNCML1.1";
/// Namespace of the MetInf elements inside `Meta`.
const METINF_NS: &str = "syncml:metinf";
/// Deepest Atomic/Sequence nesting the decoder accepts (a top-level Atomic is at depth 1).
pub const MAX_NESTING: usize = 16;

// ---------------------------------------------------------------------------------------------------
// Encoder
// ---------------------------------------------------------------------------------------------------

/// Encode a message as compact XML (no whitespace between elements).
pub fn encode(msg: &SyncMl) -> Vec<u8> {
    encode_with(msg, Deviations::default())
}

/// [`encode`], with deliberate [`Deviations`] (for testing peers).
pub fn encode_with(msg: &SyncMl, deviations: Deviations) -> Vec<u8> {
    let mut w = XmlWriter::new(false);
    w.deviations = deviations;
    w.message(msg);
    w.buf.into_bytes()
}

/// Encode a message as XML indented two spaces per level, for transcripts and `dmsim decode`.
///
/// Whitespace is only added between elements, never inside a leaf or `Data`, so the result decodes to
/// the same message as [`encode`]'s. A Data whose text is XML that reads back as the same text is
/// written as it is instead of escaped, so that an embedded TNDS tree reads as XML.
pub fn encode_pretty(msg: &SyncMl) -> String {
    let mut w = XmlWriter::new(true);
    w.message(msg);
    w.buf.push('\n');
    w.buf
}

/// Deepest indentation [`as_received`] writes, in levels.
const MAX_INDENT: usize = 32;

/// An XML message as received, for transcripts: its very text, with a line break and indentation
/// added only between two tags that had nothing at all between them, and never inside a `Data`.
///
/// So nothing is reordered, normalised or left out: the message reads as the peer wrote it, a
/// compact one indented, an indented one as it was (its whitespace is text between tags). The
/// whitespace added sits where the decoder ignores it (between the elements of element-only
/// content; a leaf with no text stays `<x></x>`), so the result decodes to the same message.
/// Indentation is capped at [`MAX_INDENT`] levels. Where the text stops being well-formed XML the
/// rest is copied as it is.
pub fn as_received(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    // quick-xml skips a byte order mark without counting it in its positions: it is copied first.
    let text = match text.strip_prefix('\u{feff}') {
        Some(rest) => {
            out.push('\u{feff}');
            rest
        }
        None => text,
    };
    let mut reader = Reader::from_str(text);
    let mut depth = 0usize;
    // The depth of an open `Data`: nothing is added in its content.
    let mut data_depth: Option<usize> = None;
    // Whether the last thing copied was markup, and whether it was a start tag.
    let (mut after_markup, mut after_start) = (false, false);
    let mut copied = 0;
    let indent = |out: &mut String, depth: usize| {
        out.push('\n');
        for _ in 0..depth.min(MAX_INDENT) {
            out.push_str("  ");
        }
    };
    loop {
        let pos = to_offset(reader.buffer_position());
        let event = match reader.read_event() {
            Ok(Event::Eof) | Err(_) => break,
            Ok(e) => e,
        };
        let end = to_offset(reader.buffer_position());
        let raw = text.get(pos..end).unwrap_or_default();
        let free = data_depth.is_none() && after_markup;
        match event {
            Event::Text(_) | Event::CData(_) => {
                out.push_str(raw);
                (after_markup, after_start) = (false, false);
                copied = end;
                continue;
            }
            Event::Start(e) => {
                if free {
                    indent(&mut out, depth);
                }
                let name = e.name();
                let local = name.local_name();
                if data_depth.is_none() && local.as_ref() == b"Data" {
                    data_depth = Some(depth);
                }
                depth += 1;
                out.push_str(raw);
                after_start = true;
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                if free && !after_start {
                    indent(&mut out, depth);
                }
                if data_depth == Some(depth) {
                    data_depth = None;
                }
                out.push_str(raw);
                after_start = false;
            }
            _ => {
                if free {
                    indent(&mut out, depth);
                }
                out.push_str(raw);
                after_start = false;
            }
        }
        after_markup = true;
        copied = end;
    }
    out.push_str(text.get(copied..).unwrap_or_default());
    out
}

/// Appends elements to a string, indenting them when `pretty`.
struct XmlWriter {
    buf: String,
    pretty: bool,
    depth: usize,
    deviations: Deviations,
}

impl XmlWriter {
    fn new(pretty: bool) -> XmlWriter {
        XmlWriter {
            buf: String::with_capacity(2048),
            pretty,
            depth: 0,
            deviations: Deviations::default(),
        }
    }

    fn message(&mut self, msg: &SyncMl) {
        self.buf
            .push_str(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
        let ns = if self.deviations.syncml_11 {
            SYNCML_11_NS
        } else {
            SYNCML_NS
        };
        self.start_tag("SyncML", Some(ns));
        self.depth += 1;
        self.hdr(&msg.hdr);
        self.body(&msg.body);
        self.close("SyncML");
    }

    fn hdr(&mut self, hdr: &SyncHdr) {
        self.open("SyncHdr");
        self.leaf("VerDTD", &hdr.ver_dtd);
        self.leaf("VerProto", &hdr.ver_proto);
        self.leaf("SessionID", &hdr.session_id);
        self.leaf("MsgID", &hdr.msg_id);
        self.location("Target", &hdr.target);
        self.location("Source", &hdr.source);
        self.opt_leaf("RespURI", hdr.resp_uri.as_deref());
        self.flag("NoResp", hdr.no_resp);
        self.opt_cred(hdr.cred.as_ref());
        self.opt_meta(hdr.meta.as_ref());
        self.close("SyncHdr");
    }

    fn body(&mut self, body: &SyncBody) {
        self.open("SyncBody");
        self.commands(&body.commands);
        self.flag("Final", body.final_flag);
        self.close("SyncBody");
    }

    fn commands(&mut self, commands: &[Command]) {
        for cmd in commands {
            self.command(cmd);
        }
    }

    fn command(&mut self, cmd: &Command) {
        match cmd {
            Command::Add(c) => self.item_command("Add", c),
            Command::Replace(c) => self.item_command("Replace", c),
            Command::Copy(c) => self.item_command("Copy", c),
            Command::Delete(c) => self.delete(c),
            Command::Get(c) => self.get(c),
            Command::Exec(c) => self.exec(c),
            Command::Alert(c) => self.alert(c),
            Command::Atomic(c) => self.container("Atomic", c),
            Command::Sequence(c) => self.container("Sequence", c),
            Command::Status(c) => self.status(c),
            Command::Results(c) => self.results(c),
            Command::Unknown(c) => self.unknown(c),
        }
    }

    fn item_command(&mut self, name: &str, c: &ItemCommand) {
        self.open(name);
        self.leaf("CmdID", &c.cmd_id);
        self.flag("NoResp", c.no_resp);
        self.opt_cred(c.cred.as_ref());
        self.opt_meta(c.meta.as_ref());
        self.items(&c.items);
        self.close(name);
    }

    fn delete(&mut self, c: &Delete) {
        self.open("Delete");
        self.leaf("CmdID", &c.cmd_id);
        self.flag("NoResp", c.no_resp);
        self.flag("Archive", c.archive);
        self.flag("SftDel", c.sft_del);
        self.opt_cred(c.cred.as_ref());
        self.opt_meta(c.meta.as_ref());
        self.items(&c.items);
        self.close("Delete");
    }

    fn get(&mut self, c: &Get) {
        self.open("Get");
        self.leaf("CmdID", &c.cmd_id);
        self.flag("NoResp", c.no_resp);
        self.opt_leaf("Lang", c.lang.as_deref());
        self.opt_cred(c.cred.as_ref());
        self.opt_meta(c.meta.as_ref());
        self.items(&c.items);
        self.close("Get");
    }

    fn exec(&mut self, c: &Exec) {
        self.open("Exec");
        self.leaf("CmdID", &c.cmd_id);
        self.flag("NoResp", c.no_resp);
        self.opt_cred(c.cred.as_ref());
        self.opt_meta(c.meta.as_ref());
        self.opt_leaf("Correlator", c.correlator.as_deref());
        self.items(&c.items);
        self.close("Exec");
    }

    fn alert(&mut self, c: &Alert) {
        self.open("Alert");
        self.leaf("CmdID", &c.cmd_id);
        self.flag("NoResp", c.no_resp);
        self.opt_cred(c.cred.as_ref());
        self.number("Data", None, u64::from(c.code.code()));
        self.opt_leaf("Correlator", c.correlator.as_deref());
        self.items(&c.items);
        self.close("Alert");
    }

    fn container(&mut self, name: &str, c: &Container) {
        self.open(name);
        self.leaf("CmdID", &c.cmd_id);
        self.flag("NoResp", c.no_resp);
        self.opt_meta(c.meta.as_ref());
        self.commands(&c.commands);
        self.close(name);
    }

    fn status(&mut self, c: &Status) {
        self.open("Status");
        self.leaf("CmdID", &c.cmd_id);
        self.leaf("MsgRef", &c.msg_ref);
        self.leaf("CmdRef", &c.cmd_ref);
        let data_first = self.deviations.status_data_before_cmd;
        if data_first {
            self.number("Data", None, u64::from(c.code.code()));
        }
        self.leaf("Cmd", c.cmd.as_str());
        for r in &c.target_refs {
            self.leaf("TargetRef", r);
        }
        for r in &c.source_refs {
            self.leaf("SourceRef", r);
        }
        self.opt_cred(c.cred.as_ref());
        if let Some(chal) = &c.chal {
            self.open("Chal");
            self.meta(&chal.meta);
            self.close("Chal");
        }
        if !data_first {
            self.number("Data", None, u64::from(c.code.code()));
        }
        self.items(&c.items);
        self.close("Status");
    }

    fn results(&mut self, c: &Results) {
        self.open("Results");
        self.leaf("CmdID", &c.cmd_id);
        self.opt_leaf("MsgRef", c.msg_ref.as_deref());
        self.leaf("CmdRef", &c.cmd_ref);
        self.opt_meta(c.meta.as_ref());
        self.opt_leaf("TargetRef", c.target_ref.as_deref());
        self.opt_leaf("SourceRef", c.source_ref.as_deref());
        self.items(&c.items);
        self.close("Results");
    }

    /// A command outside DM: its element with the CmdID (omitted when empty) and nothing else.
    fn unknown(&mut self, c: &UnknownCommand) {
        self.open(&c.name);
        if !c.cmd_id.is_empty() {
            self.leaf("CmdID", &c.cmd_id);
        }
        self.close(&c.name);
    }

    fn items(&mut self, items: &[Item]) {
        for item in items {
            self.open("Item");
            if let Some(t) = &item.target {
                self.location("Target", t);
            }
            if let Some(s) = &item.source {
                self.location("Source", s);
            }
            self.opt_meta(item.meta_for_text().as_ref().as_ref());
            if let Some(data) = &item.data {
                self.data(data);
            }
            self.flag("MoreData", item.more_data);
            self.close("Item");
        }
    }

    fn location(&mut self, name: &str, loc: &Location) {
        self.open(name);
        self.leaf("LocURI", &loc.loc_uri);
        self.opt_leaf("LocName", loc.loc_name.as_deref());
        self.close(name);
    }

    fn opt_cred(&mut self, cred: Option<&Cred>) {
        if let Some(cred) = cred {
            self.open("Cred");
            self.opt_meta(cred.meta.as_ref());
            self.leaf("Data", &cred.data);
            self.close("Cred");
        }
    }

    /// A Meta that is absent or empty is omitted.
    fn opt_meta(&mut self, meta: Option<&Meta>) {
        if let Some(meta) = meta.filter(|m| !m.is_empty()) {
            self.meta(meta);
        }
    }

    /// `Meta` with its MetInf children in the MetInf DTD order.
    fn meta(&mut self, meta: &Meta) {
        self.open("Meta");
        self.metinf("Format", meta.format.as_deref());
        self.metinf("Type", meta.type_.as_deref());
        self.metinf("Mark", meta.mark.as_deref());
        if let Some(size) = meta.size {
            self.number("Size", Some(METINF_NS), size);
        }
        self.metinf("Version", meta.version.as_deref());
        self.metinf("NextNonce", meta.next_nonce.as_deref());
        if let Some(size) = meta.max_msg_size {
            self.number("MaxMsgSize", Some(METINF_NS), size);
        }
        if let Some(size) = meta.max_obj_size {
            self.number("MaxObjSize", Some(METINF_NS), size);
        }
        for emi in &meta.emi {
            self.metinf("EMI", Some(emi));
        }
        self.close("Meta");
    }

    /// An Item's Data as [`Data::to_text`] says (its Meta already says `b64` for base64); pretty,
    /// text that is embedded XML goes as it is.
    fn data(&mut self, data: &Data) {
        self.start_tag("Data", None);
        match data.to_text() {
            DataText::Text(text) if self.pretty && is_embedded_xml(text) => self.buf.push_str(text),
            text => push_escaped(&mut self.buf, text.as_str()),
        }
        self.end_tag("Data");
    }

    fn metinf(&mut self, name: &str, text: Option<&str>) {
        if let Some(text) = text {
            self.start_tag(name, Some(METINF_NS));
            push_escaped(&mut self.buf, text);
            self.end_tag(name);
        }
    }

    fn number(&mut self, name: &str, ns: Option<&str>, n: u64) {
        self.start_tag(name, ns);
        // Writing into a String cannot fail.
        let _ = write!(self.buf, "{n}");
        self.end_tag(name);
    }

    fn leaf(&mut self, name: &str, text: &str) {
        self.start_tag(name, None);
        push_escaped(&mut self.buf, text);
        self.end_tag(name);
    }

    fn opt_leaf(&mut self, name: &str, text: Option<&str>) {
        if let Some(text) = text {
            self.leaf(name, text);
        }
    }

    /// An empty element standing for `true`; nothing for `false`.
    fn flag(&mut self, name: &str, set: bool) {
        if set {
            self.indent();
            self.buf.push('<');
            self.buf.push_str(name);
            self.buf.push_str("/>");
        }
    }

    fn open(&mut self, name: &str) {
        self.start_tag(name, None);
        self.depth += 1;
    }

    fn close(&mut self, name: &str) {
        self.depth = self.depth.saturating_sub(1);
        self.indent();
        self.end_tag(name);
    }

    /// A start tag on its own line (when pretty), with an optional default namespace.
    fn start_tag(&mut self, name: &str, ns: Option<&str>) {
        self.indent();
        self.buf.push('<');
        self.buf.push_str(name);
        if let Some(ns) = ns {
            self.buf.push_str(" xmlns=\"");
            self.buf.push_str(ns);
            self.buf.push('"');
        }
        self.buf.push('>');
    }

    fn end_tag(&mut self, name: &str) {
        self.buf.push_str("</");
        self.buf.push_str(name);
        self.buf.push('>');
    }

    fn indent(&mut self) {
        if self.pretty {
            self.buf.push('\n');
            for _ in 0..self.depth {
                self.buf.push_str("  ");
            }
        }
    }
}

/// Whether `text`, written unescaped as a `Data`'s content, is XML that the decoder gives back as
/// this very text: well-formed, with at least one element, and no carriage return (which other XML
/// parsers would normalise away). A TNDS tree, a Format `xml` value or a DevInf is; `a < b` is not.
fn is_embedded_xml(text: &str) -> bool {
    if !text.contains('<') || text.contains('\r') {
        return false;
    }
    let doc = format!("<SyncML><Data>{text}</Data></SyncML>");
    let Ok(tree) = Tree::parse(&doc) else {
        return false;
    };
    // Node 0 is the root, node 1 the Data; its content is checked whole, so that a text that
    // closes the Data early (`</Data><Data>`) does not pass.
    const DATA: NodeId = 1;
    tree.nodes.len() > DATA && tree.node(DATA).first_child.is_some() && tree.content(DATA) == text
}

/// Append `text` escaped for character data: `<`, `>` and `&` as entities, and `\r` as a character
/// reference so that it survives the line-end normalisation of other XML parsers.
pub(crate) fn push_escaped(buf: &mut String, text: &str) {
    let mut rest = text;
    while let Some(i) = rest.find(['<', '>', '&', '\r']) {
        let (plain, tail) = rest.split_at(i);
        buf.push_str(plain);
        let mut chars = tail.chars();
        buf.push_str(match chars.next() {
            Some('<') => "&lt;",
            Some('>') => "&gt;",
            Some('&') => "&amp;",
            _ => "&#13;",
        });
        rest = chars.as_str();
    }
    buf.push_str(rest);
}

// ---------------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------------

/// Why a message could not be decoded, and where.
///
/// Displays as `line 3, column 14, at SyncML/SyncBody/Status[2]: missing required element CmdRef`.
/// The path names elements by local name; an element gets a 1-based `[n]` index when its parent has
/// more than one child of that name. `offset`, `line` and `column` (1-based, in characters) point at
/// the start tag of the element in `path`, or at the offending input for XML syntax errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct DecodeError {
    pub kind: DecodeErrorKind,
    pub path: String,
    pub offset: usize,
    pub line: usize,
    pub column: usize,
}

/// The kinds of [`DecodeError`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeErrorKind {
    /// The input holds nothing but whitespace.
    #[error("empty message")]
    Empty,
    /// The input is not UTF-8.
    #[error("input is not valid UTF-8")]
    InvalidUtf8,
    /// The input is not well-formed XML.
    #[error("malformed XML: {0}")]
    Syntax(String),
    /// The input ends before the document does (truncated message).
    #[error("unexpected end of input")]
    UnexpectedEof,
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
    /// A command whose element name is not an XML name (one without a namespace prefix).
    #[error("command name {0:?} is not an XML name")]
    InvalidCommandName(String),
}

impl DecodeError {
    fn new(input: &[u8], offset: usize, path: String, kind: DecodeErrorKind) -> DecodeError {
        let (line, column) = line_column(input, offset);
        DecodeError {
            kind,
            path,
            offset,
            line,
            column,
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)?;
        if !self.path.is_empty() {
            write!(f, ", at {}", self.path)?;
        }
        write!(f, ": {}", self.kind)
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(input: &[u8], offset: usize) -> (usize, usize) {
    // A byte order mark is not a column.
    let bom = "\u{feff}".as_bytes();
    let (input, offset) = match input.strip_prefix(bom) {
        Some(rest) => (rest, offset.saturating_sub(bom.len())),
        None => (input, offset),
    };
    let before = input.get(..offset).unwrap_or(input);
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let line_text = before.get(line_start..).unwrap_or_default();
    // Count UTF-8 lead bytes, so that a multi-byte character is one column.
    let column = line_text.iter().filter(|&&b| b & 0xC0 != 0x80).count() + 1;
    (line, column)
}

// ---------------------------------------------------------------------------------------------------
// Decoder: element tree
// ---------------------------------------------------------------------------------------------------

/// Decode a SyncML DM 1.2 XML message.
pub fn decode(bytes: &[u8]) -> Result<SyncMl, DecodeError> {
    let tree = Tree::parse(utf8(bytes)?)?;
    tree_map::sync_ml(&tree, ROOT)
}

/// Decode a SyncML DM 1.2 XML message, with a note for every deviation read past: children out of
/// the schema order and namespaces other than SyncML DM 1.2's (see [`super::notes`]). The
/// message, and the errors, are those of [`decode`].
pub fn decode_with_notes(bytes: &[u8]) -> Result<(SyncMl, Vec<DecodeNote>), DecodeError> {
    let tree = Tree::parse_with(utf8(bytes)?, true)?;
    let msg = tree_map::sync_ml(&tree, ROOT)?;
    let mut notes = tree.namespace_notes();
    notes.extend(tree_map::order_notes(&tree, ROOT));
    // Node ids are in document order; a stable sort keeps a namespace note before an order note
    // of the same element.
    notes.sort_by_key(|&(id, _)| id);
    Ok((msg, notes.into_iter().map(|(_, n)| n).collect()))
}

/// The input as UTF-8, or the error at the first byte that is not.
fn utf8(bytes: &[u8]) -> Result<&str, DecodeError> {
    std::str::from_utf8(bytes).map_err(|e| {
        DecodeError::new(
            bytes,
            e.valid_up_to(),
            String::new(),
            DecodeErrorKind::InvalidUtf8,
        )
    })
}

/// The root element is always the first node.
const ROOT: NodeId = 0;

/// One element of the input.
struct Node<'a> {
    /// Local name (namespace prefix removed).
    name: &'a str,
    /// Byte offset of the start tag's `<`.
    start: usize,
    /// Byte range between the start and the end tag (empty for `<x/>`).
    content: Range<usize>,
    /// Byte offset just after the element's end tag (or its `/>`).
    end: usize,
    /// Character data before the first child element, unescaped, CDATA included.
    text: Cow<'a, str>,
    parent: Option<NodeId>,
    first_child: Option<NodeId>,
    last_child: Option<NodeId>,
    next_sibling: Option<NodeId>,
}

/// The elements of a document in document order, linked parent → children. Flat, so that neither
/// building nor dropping it recurses however deep the input nests.
struct Tree<'a> {
    /// The whole input, for error positions.
    source: &'a str,
    /// The input after a byte order mark; node offsets and ranges are into this.
    input: &'a str,
    nodes: Vec<Node<'a>>,
    /// When asked for: the namespaces in scope, innermost last, and each element's namespace.
    ns: Option<Namespaces>,
}

/// An element's namespace, resolved from the declarations in scope (Namespaces in XML 1.0 §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ElementNs {
    /// No namespace: no default declared (or `xmlns=""`).
    None,
    /// The namespace whose name is `uris[i]`.
    Uri(usize),
    /// The element's prefix is not declared; `uris[i]` is the prefix.
    Undeclared(usize),
}

/// The namespace bookkeeping of a [`Tree`] parsed with namespaces.
#[derive(Debug, Default)]
struct Namespaces {
    /// Every namespace name (and undeclared prefix) seen, once each.
    uris: Vec<String>,
    /// Where each is in `uris`.
    index: HashMap<String, usize>,
    /// Declarations in scope, by prefix (empty for the default namespace), innermost last: the
    /// namespace, `None` for `xmlns=""`. By prefix, so that a lookup does not walk every
    /// declaration of a deeply nested document.
    scope: HashMap<String, Vec<Option<usize>>>,
    /// The prefixes declared, in order, for taking them out of scope.
    declared: Vec<String>,
    /// How many declarations each open element added.
    added: Vec<usize>,
    /// Each element's namespace, by node id.
    of: Vec<ElementNs>,
}

impl Namespaces {
    fn intern(&mut self, text: &str) -> usize {
        if let Some(&i) = self.index.get(text) {
            return i;
        }
        self.uris.push(text.to_string());
        self.index.insert(text.to_string(), self.uris.len() - 1);
        self.uris.len() - 1
    }

    /// Take the declarations of a start tag into scope and resolve the element's namespace; the
    /// declarations stay in scope until [`Namespaces::close`]. Attributes that do not parse are
    /// passed over, as the decoder passes over attributes.
    fn open(&mut self, start: &BytesStart<'_>, qname: &str) {
        let mut added = 0;
        for attr in start.attributes().with_checks(false).map_while(Result::ok) {
            let key = attr.key.as_ref();
            let prefix = match key {
                b"xmlns" => "",
                _ => match key.strip_prefix(b"xmlns:") {
                    Some(p) => std::str::from_utf8(p).unwrap_or_default(),
                    None => continue,
                },
            };
            let value = attr
                .unescape_value()
                .map(|v| v.into_owned())
                .unwrap_or_else(|_| String::from_utf8_lossy(&attr.value).into_owned());
            let uri = (!value.is_empty()).then(|| self.intern(&value));
            self.scope.entry(prefix.to_string()).or_default().push(uri);
            self.declared.push(prefix.to_string());
            added += 1;
        }
        self.added.push(added);
        let prefix = qname.rsplit_once(':').map_or("", |(p, _)| p);
        let found = self.scope.get(prefix).and_then(|s| s.last());
        let ns = match found {
            Some(Some(uri)) => ElementNs::Uri(*uri),
            Some(None) => ElementNs::None,
            None if prefix.is_empty() || prefix == "xml" => ElementNs::None,
            None => ElementNs::Undeclared(self.intern(prefix)),
        };
        self.of.push(ns);
    }

    /// The element's declarations go out of scope.
    fn close(&mut self) {
        for _ in 0..self.added.pop().unwrap_or(0) {
            let Some(prefix) = self.declared.pop() else {
                break;
            };
            if let Some(stack) = self.scope.get_mut(&prefix) {
                stack.pop();
                if stack.is_empty() {
                    self.scope.remove(&prefix);
                }
            }
        }
    }
}

impl<'a> Tree<'a> {
    /// Read the whole document; checks well-formedness and the root element's name.
    fn parse(source: &'a str) -> Result<Tree<'a>, DecodeError> {
        Tree::parse_with(source, false)
    }

    /// [`Tree::parse`], resolving each element's namespace when `namespaces` is set.
    fn parse_with(source: &'a str, namespaces: bool) -> Result<Tree<'a>, DecodeError> {
        // quick-xml skips a byte order mark without counting it in its positions.
        let input = source.strip_prefix('\u{feff}').unwrap_or(source);
        let mut tree = Tree {
            source,
            input,
            nodes: Vec::with_capacity(input.len() / 32),
            ns: namespaces.then(Namespaces::default),
        };
        let mut open: Vec<NodeId> = Vec::new();
        let mut reader = Reader::from_str(input);
        loop {
            let pos = to_offset(reader.buffer_position());
            let event = reader.read_event().map_err(|e| {
                let at = to_offset(reader.error_position());
                tree.error_in(
                    open.last().copied(),
                    at,
                    DecodeErrorKind::Syntax(e.to_string()),
                )
            })?;
            match event {
                Event::Start(e) => {
                    let id = tree.element(&e, pos, open.last().copied())?;
                    let after = to_offset(reader.buffer_position());
                    tree.node_mut(id).content = after..after;
                    open.push(id);
                }
                Event::Empty(e) => {
                    let id = tree.element(&e, pos, open.last().copied())?;
                    tree.node_mut(id).end = to_offset(reader.buffer_position());
                    if let Some(ns) = &mut tree.ns {
                        ns.close();
                    }
                }
                Event::End(_) => {
                    if let Some(id) = open.pop() {
                        let node = tree.node_mut(id);
                        node.content.end = pos;
                        node.end = to_offset(reader.buffer_position());
                    }
                    if let Some(ns) = &mut tree.ns {
                        ns.close();
                    }
                }
                Event::Text(t) => match open.last() {
                    Some(&id) => {
                        tree.append_text(id, pos, t.unescape().map_err(|e| e.to_string()))?
                    }
                    None if is_xml_space(&t) => {}
                    None => return Err(tree.outside_root("text", pos)),
                },
                Event::CData(c) => match open.last() {
                    Some(&id) => {
                        tree.append_text(id, pos, c.decode().map_err(|e| e.to_string()))?
                    }
                    None => return Err(tree.outside_root("CDATA", pos)),
                },
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
                Event::Eof => break,
            }
        }
        tree.finish(open.last().copied())
    }

    /// Check the end of input: all elements closed and a root element seen.
    fn finish(self, open: Option<NodeId>) -> Result<Tree<'a>, DecodeError> {
        let end = self.input.len();
        if open.is_some() {
            return Err(self.error_in(open, end, DecodeErrorKind::UnexpectedEof));
        }
        if self.nodes.is_empty() {
            let kind = if is_xml_space(self.input.as_bytes()) {
                DecodeErrorKind::Empty
            } else {
                DecodeErrorKind::UnexpectedEof
            };
            return Err(self.error_in(None, end, kind));
        }
        Ok(self)
    }

    /// Add the element whose start tag begins at `pos` as the last child of `parent`.
    fn element(
        &mut self,
        start: &BytesStart<'_>,
        pos: usize,
        parent: Option<NodeId>,
    ) -> Result<NodeId, DecodeError> {
        let name_len = start.name().as_ref().len();
        let qname = self
            .input
            .get(pos + 1..pos + 1 + name_len)
            .filter(|q| q.as_bytes() == start.name().as_ref())
            .ok_or_else(|| {
                self.error_in(parent, pos, DecodeErrorKind::Syntax("malformed tag".into()))
            })?;
        let name = qname.rsplit_once(':').map_or(qname, |(_, local)| local);
        if parent.is_none() {
            if !self.nodes.is_empty() {
                let kind = DecodeErrorKind::Syntax("content after the root element".into());
                return Err(self.error_in(None, pos, kind));
            }
            if name != "SyncML" {
                let kind = DecodeErrorKind::UnexpectedRoot(name.to_string());
                return Err(self.error_with_path(pos, name.to_string(), kind));
            }
        }
        if let Some(ns) = &mut self.ns {
            ns.open(start, qname);
        }
        let id = self.nodes.len();
        self.nodes.push(Node {
            name,
            start: pos,
            content: pos..pos,
            end: pos,
            text: Cow::Borrowed(""),
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
        Ok(id)
    }

    /// Add character data (or the reason it could not be read) at `pos` to an element. Text after
    /// the element's first child element is not needed.
    fn append_text(
        &mut self,
        id: NodeId,
        pos: usize,
        text: Result<Cow<'a, str>, String>,
    ) -> Result<(), DecodeError> {
        let text = text.map_err(|e| self.error_in(Some(id), pos, DecodeErrorKind::Syntax(e)))?;
        let node = self.node_mut(id);
        if node.first_child.is_none() {
            if node.text.is_empty() {
                node.text = text;
            } else {
                node.text.to_mut().push_str(&text);
            }
        }
        Ok(())
    }

    /// The namespaces that are not SyncML DM 1.2's (see [`super::notes`]), each with its element's
    /// id; none unless parsed with namespaces.
    fn namespace_notes(&self) -> Vec<(NodeId, DecodeNote)> {
        let Some(ns) = &self.ns else {
            return Vec::new();
        };
        let of = |id: NodeId| ns.of.get(id).copied().unwrap_or(ElementNs::None);
        let is = |e: ElementNs, uri: &str| matches!(e, ElementNs::Uri(i) if ns.uris[i] == uri);
        let describe = |e: ElementNs| match e {
            ElementNs::None => "no namespace".to_string(),
            ElementNs::Uri(i) => format!("the namespace {:?}", ns.uris[i]),
            ElementNs::Undeclared(i) => format!("the undeclared prefix {:?}", ns.uris[i]),
        };
        let mut found = Vec::new();
        let mut paths = tree_map::Paths::default();
        let mut stack = vec![ROOT];
        while let Some(id) = stack.pop() {
            let node = self.node(id);
            let here = of(id);
            // Where the namespace goes wrong: the root, or an element that changes it.
            if !is(here, SYNCML_NS) && node.parent.is_none_or(|p| of(p) != here) {
                found.push((
                    id,
                    DecodeNote {
                        kind: NoteKind::Namespace,
                        path: paths.of(self, id),
                        detail: format!(
                            "{} is in {}, not {SYNCML_NS} (reference §1.1)",
                            node.name,
                            describe(here)
                        ),
                        excerpt: notes::excerpt(self.start_tag(id)),
                    },
                ));
            }
            match node.name {
                // Its content is not SyncML (an embedded TNDS tree has its own namespace).
                "Data" => continue,
                "Meta" => {
                    let wrong: Vec<NodeId> = self
                        .children(id)
                        .filter(|&c| !is(of(c), METINF_NS))
                        .collect();
                    if let Some(&first) = wrong.first() {
                        let which: Vec<String> = wrong
                            .iter()
                            .map(|&c| format!("{} ({})", self.node(c).name, describe(of(c))))
                            .collect();
                        found.push((
                            first,
                            DecodeNote {
                                kind: NoteKind::Namespace,
                                path: paths.of(self, first),
                                detail: format!(
                                    "{} in Meta: MetInf elements are in the namespace {METINF_NS} (reference §1.1)",
                                    which.join(", ")
                                ),
                                excerpt: self.excerpt(first),
                            },
                        ));
                    }
                    continue;
                }
                // Only SyncML's own structure is walked: the depth stays that of the schema
                // (Atomic and Sequence nest at most MAX_NESTING deep), whatever the input.
                name if !tree_map::has_schema(name) => continue,
                _ => {}
            }
            let children: Vec<NodeId> = self.children(id).collect();
            stack.extend(children.into_iter().rev());
        }
        found
    }

    /// The start tag of element `id` as received (the whole element when it is empty).
    fn start_tag(&self, id: NodeId) -> &str {
        let node = self.node(id);
        let end = if node.content.start > node.start {
            node.content.start
        } else {
            node.end
        };
        self.input.get(node.start..end).unwrap_or_default()
    }

    /// Character data outside the root element (only whitespace is allowed there).
    fn outside_root(&self, what: &str, pos: usize) -> DecodeError {
        let kind = DecodeErrorKind::Syntax(format!("{what} outside the root element"));
        self.error_in(None, pos, kind)
    }

    // Node ids only come from `element`, so they are always in bounds whatever the input.
    fn node(&self, id: NodeId) -> &Node<'a> {
        &self.nodes[id]
    }

    fn node_mut(&mut self, id: NodeId) -> &mut Node<'a> {
        &mut self.nodes[id]
    }

    /// An error at `offset`, inside element `id` if any.
    fn error_in(&self, id: Option<NodeId>, offset: usize, kind: DecodeErrorKind) -> DecodeError {
        let path = id.map(|id| self.path(id)).unwrap_or_default();
        self.error_with_path(offset, path, kind)
    }

    fn error_with_path(&self, offset: usize, path: String, kind: DecodeErrorKind) -> DecodeError {
        let bom = self.source.len() - self.input.len();
        DecodeError::new(self.source.as_bytes(), bom + offset, path, kind)
    }
}

fn to_offset(pos: u64) -> usize {
    usize::try_from(pos).unwrap_or(usize::MAX)
}

fn is_xml_space(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
}

// ---------------------------------------------------------------------------------------------------
// Decoder: elements to the model (shared with WBXML)
// ---------------------------------------------------------------------------------------------------

impl ElementTree for Tree<'_> {
    type Error = DecodeError;

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

    /// The element's text, or its raw inner XML when it has child elements.
    fn content(&self, id: NodeId) -> &str {
        let node = self.node(id);
        match node.first_child {
            Some(_) => self.input.get(node.content.clone()).unwrap_or_default(),
            None => &node.text,
        }
    }

    /// The element's source text, as received.
    fn excerpt(&self, id: NodeId) -> String {
        let node = self.node(id);
        notes::excerpt(self.input.get(node.start..node.end).unwrap_or_default())
    }

    fn error(&self, id: NodeId, kind: MapErrorKind) -> DecodeError {
        let kind = match kind {
            MapErrorKind::MissingElement(name) => DecodeErrorKind::MissingElement(name),
            MapErrorKind::DuplicateElement(name) => DecodeErrorKind::DuplicateElement(name),
            MapErrorKind::InvalidNumber { element, value } => {
                DecodeErrorKind::InvalidNumber { element, value }
            }
            MapErrorKind::TooDeep => DecodeErrorKind::TooDeep,
            MapErrorKind::InvalidCommandName(name) => DecodeErrorKind::InvalidCommandName(name),
        };
        self.error_in(Some(id), self.node(id).start, kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syncml::{AlertCode, CmdName, StatusCode};

    /// A header from server to device, on one line.
    const SERVER_HDR: &str = "<SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1A2B</SessionID><MsgID>1</MsgID><Target><LocURI>IMEI:356938035643809</LocURI></Target><Source><LocURI>https://dm.example.com/oma</LocURI></Source></SyncHdr>";

    /// A server message with `body` as the SyncBody's content.
    fn server_msg(body: &str) -> String {
        format!("<SyncML xmlns=\"SYNCML:SYNCML1.2\">{SERVER_HDR}<SyncBody>{body}<Final/></SyncBody></SyncML>")
    }

    fn decode_str(xml: &str) -> SyncMl {
        match decode(xml.as_bytes()) {
            Ok(m) => m,
            Err(e) => panic!("{e}\n{xml}"),
        }
    }

    fn decode_err(xml: &str) -> DecodeError {
        match decode(xml.as_bytes()) {
            Ok(m) => panic!("decoded {m:?}"),
            Err(e) => e,
        }
    }

    /// The only command of a server message's body.
    fn single_command(body: &str) -> Command {
        let mut msg = decode_str(&server_msg(body));
        assert_eq!(msg.body.commands.len(), 1);
        msg.body.commands.remove(0)
    }

    fn text(s: &str) -> Option<Data> {
        Some(Data::Text(s.to_string()))
    }

    /// Found by fuzzing (fuzz target `xml_roundtrip`): quick-xml takes any bytes up to whitespace,
    /// `/` or `>` for a name, so `<Fi6\0\0\0nal/>` decoded as an unknown command whose name the
    /// WBXML encoder then wrote into its string table, where the first NUL ends it: the message
    /// decoded from XML did not survive WBXML. A command's name must be an XML name.
    #[test]
    fn command_names_must_be_xml_names() {
        for name in ["Fi6\0\0\0nal", "1x", "x\u{1}y", "-a", "a\u{D7}b"] {
            let e = decode_err(&server_msg(&format!("<{name}/>")));
            assert_eq!(
                (e.kind, e.path.as_str()),
                (
                    DecodeErrorKind::InvalidCommandName(name.into()),
                    format!("SyncML/SyncBody/{name}").as_str()
                )
            );
        }
        // A prefix is not part of the name; a name beyond ASCII is a name.
        for (xml, name) in [
            ("<p:Sync xmlns:p=\"x\"><CmdID>3</CmdID></p:Sync>", "Sync"),
            ("<Größe_1.a-b><CmdID>3</CmdID></Größe_1.a-b>", "Größe_1.a-b"),
        ] {
            assert_eq!(
                single_command(xml),
                Command::Unknown(UnknownCommand {
                    name: name.into(),
                    cmd_id: "3".into()
                })
            );
        }
    }

    #[test]
    fn samsung_like_package_1() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<SyncML xmlns="SYNCML:SYNCML1.2">
  <SyncHdr>
    <VerDTD>1.2</VerDTD>
    <VerProto>DM/1.2</VerProto>
    <SessionID>1A2B</SessionID>
    <MsgID>1</MsgID>
    <Target>
      <LocURI>https://dm.example.com/oma</LocURI>
    </Target>
    <Source>
      <LocURI>IMEI:356938035643809</LocURI>
      <LocName>dmuser</LocName>
    </Source>
    <Cred>
      <Meta>
        <Format xmlns="syncml:metinf">b64</Format>
        <Type xmlns="syncml:metinf">syncml:auth-md5</Type>
      </Meta>
      <Data>Zm9vYmFyYmF6cXV4</Data>
    </Cred>
    <Meta>
      <MaxMsgSize xmlns="syncml:metinf">5120</MaxMsgSize>
      <MaxObjSize xmlns="syncml:metinf">1048576</MaxObjSize>
    </Meta>
  </SyncHdr>
  <SyncBody>
    <Alert>
      <CmdID>1</CmdID>
      <Data>1201</Data>
    </Alert>
    <Replace>
      <CmdID>2</CmdID>
      <Item>
        <Source><LocURI>./DevInfo/DevId</LocURI></Source>
        <Meta><Format xmlns="syncml:metinf">chr</Format></Meta>
        <Data>IMEI:356938035643809</Data>
      </Item>
      <Item>
        <Source><LocURI>./DevInfo/Man</LocURI></Source>
        <Data>Samsung</Data>
      </Item>
      <Item>
        <Source><LocURI>./DevInfo/Mod</LocURI></Source>
        <Data>SM-G991B</Data>
      </Item>
      <Item>
        <Source><LocURI>./DevInfo/DmV</LocURI></Source>
        <Data>1.2</Data>
      </Item>
      <Item>
        <Source><LocURI>./DevInfo/Lang</LocURI></Source>
        <Data>en-US</Data>
      </Item>
    </Replace>
    <Final/>
  </SyncBody>
</SyncML>
"#;
        let msg = decode_str(xml);
        let hdr = &msg.hdr;
        assert_eq!(hdr.ver_dtd, "1.2");
        assert_eq!(hdr.ver_proto, "DM/1.2");
        assert_eq!(hdr.session_id, "1A2B");
        assert_eq!(hdr.msg_id, "1");
        assert_eq!(hdr.target, Location::uri("https://dm.example.com/oma"));
        assert_eq!(hdr.source.loc_uri, "IMEI:356938035643809");
        assert_eq!(hdr.source.loc_name.as_deref(), Some("dmuser"));
        assert_eq!(hdr.resp_uri, None);
        assert!(!hdr.no_resp);
        let cred = hdr.cred.as_ref().expect("cred");
        assert_eq!(cred.data, "Zm9vYmFyYmF6cXV4");
        let cred_meta = cred.meta.as_ref().expect("cred meta");
        assert_eq!(cred_meta.format.as_deref(), Some("b64"));
        assert_eq!(cred_meta.type_.as_deref(), Some("syncml:auth-md5"));
        let meta = hdr.meta.as_ref().expect("hdr meta");
        assert_eq!(meta.max_msg_size, Some(5120));
        assert_eq!(meta.max_obj_size, Some(1_048_576));
        assert_eq!(meta.format, None);

        assert!(msg.body.final_flag);
        let [Command::Alert(alert), Command::Replace(replace)] = msg.body.commands.as_slice()
        else {
            panic!("{:?}", msg.body.commands);
        };
        assert_eq!(alert.cmd_id, "1");
        assert_eq!(alert.code, AlertCode::ClientInitiatedMgmt);
        assert!(alert.items.is_empty());
        assert_eq!(alert.correlator, None);
        assert_eq!(replace.cmd_id, "2");
        assert!(!replace.no_resp);
        assert_eq!(replace.meta, None);
        let uris: Vec<_> = replace.items.iter().filter_map(Item::source_uri).collect();
        assert_eq!(
            uris,
            [
                "./DevInfo/DevId",
                "./DevInfo/Man",
                "./DevInfo/Mod",
                "./DevInfo/DmV",
                "./DevInfo/Lang"
            ]
        );
        let data: Vec<_> = replace.items.iter().filter_map(Item::data_text).collect();
        assert_eq!(
            data,
            [
                "IMEI:356938035643809",
                "Samsung",
                "SM-G991B",
                "1.2",
                "en-US"
            ]
        );
        assert_eq!(replace.items[0].meta, Some(Meta::format("chr")));
        assert_eq!(replace.items[1].meta, None);
        assert!(replace
            .items
            .iter()
            .all(|i| i.target.is_none() && !i.more_data));
    }

    const SERVER_PKG2: &str = r#"<SyncML xmlns="SYNCML:SYNCML1.2">
<SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1A2B</SessionID><MsgID>1</MsgID>
<Target><LocURI>IMEI:356938035643809</LocURI></Target><Source><LocURI>https://dm.example.com/oma</LocURI></Source>
<RespURI>https://dm.example.com/oma?s=77</RespURI></SyncHdr>
<SyncBody>
<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd>
<TargetRef>https://dm.example.com/oma</TargetRef><SourceRef>IMEI:356938035643809</SourceRef>
<Chal><Meta><Format xmlns="syncml:metinf">b64</Format><Type xmlns="syncml:metinf">syncml:auth-md5</Type><NextNonce xmlns="syncml:metinf">ZG1ub25jZQ==</NextNonce></Meta></Chal>
<Data>407</Data></Status>
<Status><CmdID>2</CmdID><MsgRef>1</MsgRef><CmdRef>1</CmdRef><Cmd>Alert</Cmd><Data>200</Data></Status>
<Get><CmdID>3</CmdID><Item><Target><LocURI>./DevDetail/SwV</LocURI></Target></Item></Get>
<Replace><CmdID>4</CmdID><Item><Target><LocURI>./DMAcc/x/AppAuth/1/AAuthSecret</LocURI></Target>
<Meta><Format xmlns="syncml:metinf">b64</Format><Type xmlns="syncml:metinf">text/plain</Type></Meta><Data>c2VjcmV0</Data></Item></Replace>
<Exec><CmdID>5</CmdID><Correlator>fumo-42</Correlator><Item><Target><LocURI>./FUMO/DownloadAndUpdate</LocURI></Target></Item></Exec>
<Atomic><CmdID>6</CmdID>
<Add><CmdID>7</CmdID><Meta><Format xmlns="syncml:metinf">node</Format></Meta><Item><Target><LocURI>./Ext/App</LocURI></Target></Item></Add>
<Add><CmdID>8</CmdID><Item><Target><LocURI>./Ext/App/Name</LocURI></Target><Meta><Format xmlns="syncml:metinf">chr</Format></Meta><Data>demo</Data></Item></Add>
</Atomic>
<Sequence><CmdID>9</CmdID><NoResp/>
<Delete><CmdID>10</CmdID><Item><Target><LocURI>./Ext/Old</LocURI></Target></Item></Delete>
<Alert><CmdID>11</CmdID><Data>1100</Data><Item><Data>MINDT=10</Data></Item><Item><Data>Updating</Data></Item></Alert>
</Sequence>
<Final/>
</SyncBody>
</SyncML>"#;

    #[test]
    fn server_package_2() {
        let msg = decode_str(SERVER_PKG2);
        assert_eq!(
            msg.hdr.resp_uri.as_deref(),
            Some("https://dm.example.com/oma?s=77")
        );
        assert_eq!(msg.hdr.cred, None);
        assert_eq!(msg.hdr.meta, None);
        assert!(msg.body.final_flag);
        let [Command::Status(hdr_status), Command::Status(alert_status), Command::Get(get), Command::Replace(replace), Command::Exec(exec), Command::Atomic(atomic), Command::Sequence(sequence)] =
            msg.body.commands.as_slice()
        else {
            panic!("{:?}", msg.body.commands);
        };

        assert_eq!(hdr_status.cmd_id, "1");
        assert_eq!(hdr_status.msg_ref, "1");
        assert_eq!(hdr_status.cmd_ref, "0");
        assert_eq!(hdr_status.cmd, CmdName::SyncHdr);
        assert_eq!(hdr_status.target_refs, ["https://dm.example.com/oma"]);
        assert_eq!(hdr_status.source_refs, ["IMEI:356938035643809"]);
        assert_eq!(hdr_status.code, StatusCode::MissingCredentials);
        let chal = hdr_status.chal.as_ref().expect("chal");
        assert_eq!(chal.meta.format.as_deref(), Some("b64"));
        assert_eq!(chal.meta.type_.as_deref(), Some("syncml:auth-md5"));
        assert_eq!(chal.meta.next_nonce.as_deref(), Some("ZG1ub25jZQ=="));
        assert!(hdr_status.items.is_empty());

        assert_eq!(alert_status.cmd, CmdName::Alert);
        assert_eq!(alert_status.cmd_ref, "1");
        assert_eq!(alert_status.code, StatusCode::Ok);
        assert_eq!(alert_status.chal, None);
        assert!(alert_status.target_refs.is_empty());

        assert_eq!(get.cmd_id, "3");
        assert_eq!(get.lang, None);
        assert_eq!(get.items.len(), 1);
        assert_eq!(get.items[0].target_uri(), Some("./DevDetail/SwV"));
        assert_eq!(get.items[0].data, None);

        assert_eq!(replace.cmd_id, "4");
        let item = &replace.items[0];
        assert_eq!(item.target_uri(), Some("./DMAcc/x/AppAuth/1/AAuthSecret"));
        let meta = item.meta.as_ref().expect("item meta");
        assert_eq!(meta.format.as_deref(), Some("b64"));
        assert_eq!(meta.type_.as_deref(), Some("text/plain"));
        assert_eq!(item.data, text("c2VjcmV0"));

        assert_eq!(exec.cmd_id, "5");
        assert_eq!(exec.correlator.as_deref(), Some("fumo-42"));
        assert_eq!(exec.items.len(), 1);
        assert_eq!(exec.items[0].target_uri(), Some("./FUMO/DownloadAndUpdate"));

        assert_eq!(atomic.cmd_id, "6");
        assert!(!atomic.no_resp);
        let [Command::Add(node), Command::Add(leaf)] = atomic.commands.as_slice() else {
            panic!("{:?}", atomic.commands);
        };
        assert_eq!(node.cmd_id, "7");
        assert_eq!(node.meta, Some(Meta::format("node")));
        assert_eq!(node.items[0].target_uri(), Some("./Ext/App"));
        assert_eq!(leaf.cmd_id, "8");
        assert_eq!(leaf.items[0].meta, Some(Meta::format("chr")));
        assert_eq!(leaf.items[0].data, text("demo"));

        assert_eq!(sequence.cmd_id, "9");
        assert!(sequence.no_resp);
        let [Command::Delete(delete), Command::Alert(display)] = sequence.commands.as_slice()
        else {
            panic!("{:?}", sequence.commands);
        };
        assert_eq!(delete.cmd_id, "10");
        assert!(!delete.archive && !delete.sft_del);
        assert_eq!(delete.items[0].target_uri(), Some("./Ext/Old"));
        assert_eq!(display.code, AlertCode::Display);
        let data: Vec<_> = display.items.iter().map(|i| i.data.clone()).collect();
        assert_eq!(data, [text("MINDT=10"), text("Updating")]);
    }

    #[test]
    fn generic_alert_with_correlator_before_data() {
        let cmd = single_command(
            r#"<Alert><CmdID>3</CmdID><Correlator>fumo-42</Correlator><Data>1226</Data>
<Item><Source><LocURI>./FUMO</LocURI></Source>
<Meta><Type xmlns="syncml:metinf">org.openmobilealliance.dm.firmwareupdate.downloadandupdate</Type>
<Format xmlns="syncml:metinf">int</Format><Mark xmlns="syncml:metinf">critical</Mark></Meta>
<Data>410</Data></Item></Alert>"#,
        );
        let Command::Alert(alert) = cmd else {
            panic!("{cmd:?}")
        };
        assert_eq!(alert.cmd_id, "3");
        assert_eq!(alert.code, AlertCode::GenericAlert);
        assert_eq!(alert.correlator.as_deref(), Some("fumo-42"));
        let [item] = alert.items.as_slice() else {
            panic!("{:?}", alert.items)
        };
        assert_eq!(item.source_uri(), Some("./FUMO"));
        let meta = item.meta.as_ref().expect("meta");
        assert_eq!(
            meta.type_.as_deref(),
            Some("org.openmobilealliance.dm.firmwareupdate.downloadandupdate")
        );
        assert_eq!(meta.format.as_deref(), Some("int"));
        assert_eq!(meta.mark.as_deref(), Some("critical"));
        assert_eq!(item.data, text("410"));
    }

    #[test]
    fn children_in_any_order() {
        let cmd = single_command(
            "<Add><Item><Data>x</Data><Target><LocURI>./a</LocURI></Target></Item><Cred><Data>c</Data></Cred><NoResp/><CmdID>4</CmdID></Add>",
        );
        let Command::Add(add) = cmd else {
            panic!("{cmd:?}")
        };
        assert_eq!(add.cmd_id, "4");
        assert!(add.no_resp);
        assert_eq!(
            add.cred,
            Some(Cred {
                meta: None,
                data: "c".into()
            })
        );
        assert_eq!(add.items[0].target_uri(), Some("./a"));
    }

    #[test]
    fn prefixed_metinf_and_unknown_children_are_accepted() {
        let cmd = single_command(
            r#"<Get><CmdID>2</CmdID><Lang>en</Lang><Meta><A:Type xmlns:A="syncml:metinf">application/x-test</A:Type>
<A:Format xmlns:A="syncml:metinf">chr</A:Format><Anchor><Last>1</Last></Anchor><Mem><FreeMem>10</FreeMem></Mem>
<Size> 42 </Size><Version>1.0</Version><EMI>a</EMI><EMI>b</EMI></Meta>
<Item><TargetParent><LocURI>./x</LocURI></TargetParent><Target><LocURI>./x/y</LocURI><Filter/></Target></Item></Get>"#,
        );
        let Command::Get(get) = cmd else {
            panic!("{cmd:?}")
        };
        assert_eq!(get.lang.as_deref(), Some("en"));
        let meta = get.meta.expect("meta");
        assert_eq!(meta.type_.as_deref(), Some("application/x-test"));
        assert_eq!(meta.format.as_deref(), Some("chr"));
        assert_eq!(meta.size, Some(42));
        assert_eq!(meta.version.as_deref(), Some("1.0"));
        assert_eq!(meta.emi, ["a", "b"]);
        assert_eq!(get.items[0].target, Some(Location::uri("./x/y")));
    }

    #[test]
    fn doctype_comments_and_processing_instructions_are_skipped() {
        let xml = format!(
            "\u{feff}<?xml version=\"1.0\"?>\n<!DOCTYPE SyncML PUBLIC \"-//SYNCML//DTD SyncML 1.2//EN\" \"http://www.openmobilealliance.org/tech/DTD/OMA-TS-SyncML_RepPro_DTD-V1_2.dtd\">\n<!-- pkg2 -->\n<?dm hint?>{}\n<!-- end -->\n",
            server_msg("<!-- c --><Alert><CmdID>1</CmdID><Data>12<!-- x -->22</Data></Alert>")
        );
        let msg = decode_str(&xml);
        let Command::Alert(alert) = &msg.body.commands[0] else {
            panic!("{msg:?}")
        };
        assert_eq!(alert.code, AlertCode::NextMessage);
    }

    #[test]
    fn data_is_verbatim() {
        let cases = [
            ("<Data>  <![CDATA[<b>bold</b> & more]]> tail\n</Data>", "  <b>bold</b> & more tail\n"),
            ("<Data>a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos; &#x41;&#66;&#13;</Data>", "a <b> & \"c\" 'd' AB\r"),
            (
                "<Data>\n  <ResultCode>1200</ResultCode><Identifier a=\"1\">x &amp; y</Identifier>\n</Data>",
                "\n  <ResultCode>1200</ResultCode><Identifier a=\"1\">x &amp; y</Identifier>\n",
            ),
            ("<Data><DevInf xmlns=\"syncml:devinf\"><VerDTD>1.2</VerDTD></DevInf></Data>", "<DevInf xmlns=\"syncml:devinf\"><VerDTD>1.2</VerDTD></DevInf>"),
            ("<Data/>", ""),
            ("<Data></Data>", ""),
        ];
        for (data, expected) in cases {
            let cmd = single_command(&format!(
                "<Replace><CmdID>1</CmdID><Item>{data}</Item></Replace>"
            ));
            assert_eq!(cmd.items()[0].data, text(expected), "{data}");
        }
    }

    #[test]
    fn other_text_is_trimmed() {
        let cmd = single_command("<Get><CmdID>\n 7 \n</CmdID><Item><Target><LocURI>\t./a b </LocURI></Target></Item></Get>");
        assert_eq!(cmd.cmd_id(), "7");
        assert_eq!(cmd.items()[0].target_uri(), Some("./a b"));
    }

    #[test]
    fn commands_dm_does_not_define_are_kept() {
        let msg = decode_str(&server_msg(
            "<Sync><CmdID>7</CmdID><Target><LocURI>./contacts</LocURI></Target><Add><CmdID>8</CmdID></Add></Sync>\
             <Put><Item><Data>x</Data></Item></Put>\
             <Atomic><CmdID>9</CmdID><Map><CmdID>10</CmdID></Map></Atomic>",
        ));
        assert_eq!(
            msg.body.commands,
            [
                Command::Unknown(UnknownCommand {
                    name: "Sync".into(),
                    cmd_id: "7".into()
                }),
                Command::Unknown(UnknownCommand {
                    name: "Put".into(),
                    cmd_id: String::new()
                }),
                Command::Atomic(Container {
                    cmd_id: "9".into(),
                    commands: vec![Command::Unknown(UnknownCommand {
                        name: "Map".into(),
                        cmd_id: "10".into()
                    })],
                    ..Container::default()
                }),
            ]
        );
    }

    #[test]
    fn encode_writes_the_reference_layout() {
        let msg = SyncMl {
            hdr: SyncHdr {
                ver_dtd: "1.2".into(),
                ver_proto: "DM/1.2".into(),
                session_id: "1".into(),
                msg_id: "2".into(),
                target: Location::uri("http://s/"),
                source: Location {
                    loc_uri: "IMEI:1".into(),
                    loc_name: Some("u".into()),
                },
                resp_uri: None,
                no_resp: false,
                cred: None,
                meta: Some(Meta {
                    max_msg_size: Some(5120),
                    ..Meta::default()
                }),
            },
            body: SyncBody {
                commands: vec![
                    Command::Alert(Alert {
                        cmd_id: "1".into(),
                        no_resp: true,
                        cred: None,
                        code: AlertCode::GenericAlert,
                        correlator: Some("c&1".into()),
                        items: vec![Item {
                            meta: Some(Meta::default()),
                            data: text("<x>"),
                            ..Item::default()
                        }],
                    }),
                    Command::Delete(Delete {
                        cmd_id: "2".into(),
                        archive: true,
                        sft_del: true,
                        ..Delete::default()
                    }),
                ],
                final_flag: true,
            },
        };
        let expected = concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?><SyncML xmlns="SYNCML:SYNCML1.2">"#,
            "<SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>2</MsgID>",
            "<Target><LocURI>http://s/</LocURI></Target><Source><LocURI>IMEI:1</LocURI><LocName>u</LocName></Source>",
            r#"<Meta><MaxMsgSize xmlns="syncml:metinf">5120</MaxMsgSize></Meta></SyncHdr>"#,
            "<SyncBody><Alert><CmdID>1</CmdID><NoResp/><Data>1226</Data><Correlator>c&amp;1</Correlator>",
            "<Item><Data>&lt;x&gt;</Data></Item></Alert>",
            "<Delete><CmdID>2</CmdID><Archive/><SftDel/></Delete><Final/></SyncBody></SyncML>",
        );
        assert_eq!(String::from_utf8(encode(&msg)).expect("utf-8"), expected);

        let pretty = encode_pretty(&msg);
        assert!(pretty.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<SyncML xmlns=\"SYNCML:SYNCML1.2\">\n  <SyncHdr>\n    <VerDTD>1.2</VerDTD>\n"), "{pretty}");
        assert!(pretty.contains("\n    <Meta>\n      <MaxMsgSize xmlns=\"syncml:metinf\">5120</MaxMsgSize>\n    </Meta>\n"), "{pretty}");
        assert!(
            pretty.ends_with("\n    <Final/>\n  </SyncBody>\n</SyncML>\n"),
            "{pretty}"
        );
    }

    #[test]
    fn encode_and_pretty_decode_to_the_same_message() {
        let msg = decode_str(SERVER_PKG2);
        assert_eq!(decode(&encode(&msg)), Ok(msg.clone()));
        assert_eq!(decode(encode_pretty(&msg).as_bytes()), Ok(msg));
    }

    /// A message whose only command is a Replace with one Item holding `data` (and `meta`).
    fn replace_with(data: Data, meta: Option<Meta>) -> SyncMl {
        let mut msg = decode_str(&server_msg(
            "<Replace><CmdID>1</CmdID><Item><Data>x</Data></Item></Replace>",
        ));
        let Command::Replace(replace) = &mut msg.body.commands[0] else {
            panic!()
        };
        replace.items[0].data = Some(data);
        replace.items[0].meta = meta;
        msg
    }

    #[test]
    fn opaque_text_is_written_as_text() {
        // What real clients and libwbxml send: text in OPAQUE.
        let msg = replace_with(Data::Opaque("a < b & é\r\n".as_bytes().to_vec()), None);
        for xml in [
            String::from_utf8(encode(&msg)).expect("utf-8"),
            encode_pretty(&msg),
        ] {
            assert!(
                xml.contains("<Data>a &lt; b &amp; é&#13;\n</Data>"),
                "{xml}"
            );
            assert!(!xml.contains("<Meta>"), "{xml}");
            let item = decode_str(&xml).body.commands[0].items()[0].clone();
            assert_eq!(item.data, text("a < b & é\r\n"));
        }
    }

    #[test]
    fn opaque_binary_is_written_as_base64_under_format_b64() {
        let bytes = vec![0, 0xff, b'<', 0x10, 0x80];
        for (meta, expected_meta) in [
            (
                None,
                r#"<Meta><Format xmlns="syncml:metinf">b64</Format></Meta>"#,
            ),
            (
                Some(Meta {
                    format: Some("bin".into()),
                    type_: Some("application/octet-stream".into()),
                    ..Meta::default()
                }),
                r#"<Meta><Format xmlns="syncml:metinf">b64</Format><Type xmlns="syncml:metinf">application/octet-stream</Type></Meta>"#,
            ),
        ] {
            let msg = replace_with(Data::Opaque(bytes.clone()), meta);
            let xml = String::from_utf8(encode(&msg)).expect("utf-8");
            assert!(
                xml.contains(&format!(
                    "<Item>{expected_meta}<Data>AP88EIA=</Data></Item>"
                )),
                "{xml}"
            );
            let item = decode_str(&xml).body.commands[0].items()[0].clone();
            assert_eq!(
                item.meta.as_ref().and_then(|m| m.format.as_deref()),
                Some("b64")
            );
            assert_eq!(item.data, text("AP88EIA="));
        }
        // UTF-8 with a character XML does not allow is not text either.
        let msg = replace_with(Data::Opaque(b"a\x01b".to_vec()), None);
        let xml = String::from_utf8(encode(&msg)).expect("utf-8");
        assert!(xml.contains("<Data>YQFi</Data>"), "{xml}");
    }

    #[test]
    fn pretty_writes_embedded_xml_as_xml() {
        let tnds = r#"<MgmtTree xmlns="syncml:dmddf1.2"><VerDTD>1.2</VerDTD><Node><NodeName>a</NodeName><Value>x &amp; y</Value></Node></MgmtTree>"#;
        for data in [
            Data::Text(tnds.into()),
            Data::Opaque(tnds.as_bytes().to_vec()),
        ] {
            let msg = replace_with(data, Some(Meta::format("xml")));
            let pretty = encode_pretty(&msg);
            assert!(pretty.contains(&format!("<Data>{tnds}</Data>")), "{pretty}");
            assert_eq!(
                decode_str(&pretty).body.commands[0].items()[0].data,
                text(tnds)
            );
            // The wire keeps it as escaped text.
            let compact = String::from_utf8(encode(&msg)).expect("utf-8");
            assert!(
                compact.contains("<Data>&lt;MgmtTree xmlns=\"syncml:dmddf1.2\"&gt;"),
                "{compact}"
            );
            assert_eq!(
                decode_str(&compact).body.commands[0].items()[0].data,
                text(tnds)
            );
        }
        // Text that is not XML read back as itself stays escaped.
        for not_xml in [
            "a < b",
            "<a>",
            "<a></b>",
            "x</Data><Data>y",
            "<a/></Data><Data><b/>",
            "<a>\r\n</a>",
            "<a>&nbsp;</a>",
        ] {
            let msg = replace_with(Data::Text(not_xml.into()), None);
            let pretty = encode_pretty(&msg);
            assert!(
                !pretty.contains(&format!("<Data>{not_xml}</Data>")),
                "{pretty}"
            );
            assert_eq!(
                decode_str(&pretty).body.commands[0].items()[0].data,
                text(not_xml),
                "{pretty}"
            );
        }
    }

    #[test]
    fn carriage_returns_survive_as_character_references() {
        let mut msg = decode_str(&server_msg(
            "<Replace><CmdID>1</CmdID><Item><Data>x</Data></Item></Replace>",
        ));
        let Command::Replace(replace) = &mut msg.body.commands[0] else {
            panic!()
        };
        replace.items[0].data = text("a\r\nb");
        let xml = String::from_utf8(encode(&msg)).expect("utf-8");
        assert!(xml.contains("<Data>a&#13;\nb</Data>"), "{xml}");
        assert_eq!(decode(xml.as_bytes()), Ok(msg));
    }

    #[test]
    fn every_truncation_is_an_error() {
        for encoded in [
            encode(&decode_str(SERVER_PKG2)),
            encode_pretty(&decode_str(SERVER_PKG2)).into_bytes(),
        ] {
            let complete = encoded.trim_ascii_end().len();
            for len in 0..complete {
                assert!(
                    decode(&encoded[..len]).is_err(),
                    "prefix of {len} bytes decoded"
                );
            }
        }
        assert_eq!(decode_err("").kind, DecodeErrorKind::Empty);
        assert_eq!(decode_err(" \n").kind, DecodeErrorKind::Empty);
        assert_eq!(
            decode_err("<?xml version=\"1.0\"?>").kind,
            DecodeErrorKind::UnexpectedEof
        );
        let e = decode_err("<SyncML>\n<SyncHdr>");
        assert_eq!(
            (e.kind, e.path.as_str(), e.line, e.column),
            (DecodeErrorKind::UnexpectedEof, "SyncML/SyncHdr", 2, 10)
        );
    }

    #[test]
    fn not_xml_is_an_error() {
        assert!(matches!(
            decode_err("hello").kind,
            DecodeErrorKind::Syntax(_)
        ));
        assert!(matches!(
            decode_err("<SyncML></SyncHdr>").kind,
            DecodeErrorKind::Syntax(_)
        ));
        assert!(matches!(
            decode_err(&server_msg("<Alert>&bogus;</Alert>")).kind,
            DecodeErrorKind::Syntax(_)
        ));
        assert!(matches!(
            decode_err(&(server_msg("") + "<SyncML/>")).kind,
            DecodeErrorKind::Syntax(_)
        ));
        let e = decode(b"<SyncML>\xff</SyncML>").expect_err("not UTF-8");
        assert_eq!(
            (e.kind, e.offset, e.column),
            (DecodeErrorKind::InvalidUtf8, 8, 9)
        );
    }

    #[test]
    fn wrong_root_is_an_error() {
        let e =
            decode_err("<?xml version=\"1.0\"?>\n<x:SyncMLx xmlns:x=\"a\"><SyncHdr/></x:SyncMLx>");
        assert_eq!(e.kind, DecodeErrorKind::UnexpectedRoot("SyncMLx".into()));
        assert_eq!((e.line, e.column), (2, 1));
        assert_eq!(
            e.to_string(),
            "line 2, column 1, at SyncMLx: root element is SyncMLx, expected SyncML"
        );
        let e = decode_err("\u{feff}<x/>");
        assert_eq!((e.offset, e.line, e.column), (3, 1, 1));
    }

    #[test]
    fn missing_cmd_id_names_the_command() {
        let xml = server_msg(
            "<Alert><CmdID>1</CmdID><Data>1201</Data></Alert><Atomic><CmdID>2</CmdID><Replace><Item/></Replace></Atomic>",
        );
        let e = decode_err(&xml);
        assert_eq!(e.kind, DecodeErrorKind::MissingElement("CmdID"));
        assert_eq!(e.path, "SyncML/SyncBody/Atomic/Replace");
        assert_eq!(
            (e.line, e.offset),
            (1, xml.find("<Replace>").expect("Replace"))
        );
    }

    #[test]
    fn missing_required_elements() {
        let cases = [
            ("<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><Cmd>Get</Cmd><Data>200</Data></Status>", "CmdRef"),
            ("<Status><CmdID>1</CmdID><CmdRef>1</CmdRef><Cmd>Get</Cmd><Data>200</Data></Status>", "MsgRef"),
            ("<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>1</CmdRef><Data>200</Data></Status>", "Cmd"),
            ("<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>1</CmdRef><Cmd>Get</Cmd></Status>", "Data"),
            ("<Alert><CmdID>1</CmdID></Alert>", "Data"),
            ("<Results><CmdID>1</CmdID></Results>", "CmdRef"),
            ("<Get><CmdID>1</CmdID><Item><Target><LocName>x</LocName></Target></Item></Get>", "LocURI"),
            ("<Add><CmdID>1</CmdID><Cred><Meta><Type>x</Type></Meta></Cred></Add>", "Data"),
            ("<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><Chal/><Data>401</Data></Status>", "Meta"),
        ];
        for (body, missing) in cases {
            assert_eq!(
                decode_err(&server_msg(body)).kind,
                DecodeErrorKind::MissingElement(missing),
                "{body}"
            );
        }
        for (hdr_child, missing) in [
            ("<VerDTD>1.2</VerDTD>", "VerDTD"),
            ("<MsgID>1</MsgID>", "MsgID"),
            (
                "<Source><LocURI>https://dm.example.com/oma</LocURI></Source>",
                "Source",
            ),
        ] {
            let xml = server_msg("").replace(hdr_child, "");
            let e = decode_err(&xml);
            assert_eq!(
                (e.kind, e.path.as_str()),
                (DecodeErrorKind::MissingElement(missing), "SyncML/SyncHdr")
            );
        }
        let e = decode_err(&format!("<SyncML>{SERVER_HDR}</SyncML>"));
        assert_eq!(
            (e.kind, e.path.as_str()),
            (DecodeErrorKind::MissingElement("SyncBody"), "SyncML")
        );
    }

    #[test]
    fn status_code_must_be_a_number() {
        let xml = format!(
            "<SyncML>\n{SERVER_HDR}\n<SyncBody>\n<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><Data>200</Data></Status>\n  <Status><CmdID>2</CmdID><MsgRef>1</MsgRef><CmdRef>1</CmdRef><Cmd>Alert</Cmd><Data> 2OO </Data></Status>\n</SyncBody></SyncML>"
        );
        let e = decode_err(&xml);
        assert_eq!(
            e.kind,
            DecodeErrorKind::InvalidNumber {
                element: "Data",
                value: "2OO".into()
            }
        );
        assert_eq!(e.path, "SyncML/SyncBody/Status[2]/Data");
        assert_eq!((e.line, e.column), (5, 79));
        assert_eq!(e.to_string(), "line 5, column 79, at SyncML/SyncBody/Status[2]/Data: Data is not a valid number: \"2OO\"");

        for bad in ["", "-1", "+200", "70000", "2 0"] {
            let body = format!("<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><Data>{bad}</Data></Status>");
            assert!(
                matches!(
                    decode_err(&server_msg(&body)).kind,
                    DecodeErrorKind::InvalidNumber { .. }
                ),
                "{bad}"
            );
        }
        let e = decode_err(&server_msg(
            "<Alert><CmdID>1</CmdID><Data>12o1</Data></Alert>",
        ));
        assert_eq!(
            e.kind,
            DecodeErrorKind::InvalidNumber {
                element: "Data",
                value: "12o1".into()
            }
        );
        let e = decode_err(&server_msg(
            "<Get><CmdID>1</CmdID><Meta><MaxObjSize>big</MaxObjSize></Meta></Get>",
        ));
        assert_eq!(
            e.kind,
            DecodeErrorKind::InvalidNumber {
                element: "MaxObjSize",
                value: "big".into()
            }
        );
        assert_eq!(e.path, "SyncML/SyncBody/Get/Meta/MaxObjSize");
    }

    #[test]
    fn display_reads_like_the_reference() {
        let xml = server_msg(
            "<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><Data>200</Data></Status>\n\n<Status><CmdID>2</CmdID><MsgRef>1</MsgRef><Cmd>Alert</Cmd><Data>200</Data></Status>",
        );
        assert_eq!(
            decode_err(&xml).to_string(),
            "line 3, column 1, at SyncML/SyncBody/Status[2]: missing required element CmdRef"
        );
    }

    #[test]
    fn duplicated_single_elements_are_errors() {
        let e = decode_err(&server_msg(
            "<Alert><CmdID>1</CmdID><Data>1201</Data><Data>1200</Data></Alert>",
        ));
        assert_eq!(e.kind, DecodeErrorKind::DuplicateElement("Data".into()));
        assert_eq!(e.path, "SyncML/SyncBody/Alert/Data[2]");
    }

    /// `depth` Atomics nested in one another.
    fn nested_atomics(depth: usize) -> String {
        let open: String = (0..depth)
            .map(|i| format!("<Atomic><CmdID>{i}</CmdID>"))
            .collect();
        server_msg(&(open + &"</Atomic>".repeat(depth)))
    }

    #[test]
    fn nesting_is_limited() {
        let msg = decode_str(&nested_atomics(MAX_NESTING));
        let mut depth = 0;
        let mut commands = &msg.body.commands;
        while let [Command::Atomic(inner)] = commands.as_slice() {
            depth += 1;
            commands = &inner.commands;
        }
        assert_eq!(depth, MAX_NESTING);

        let e = decode_err(&nested_atomics(MAX_NESTING + 1));
        assert_eq!(e.kind, DecodeErrorKind::TooDeep);
        assert_eq!(e.path.matches("Atomic").count(), MAX_NESTING + 1);
        assert_eq!(
            decode_err(&nested_atomics(100_000)).kind,
            DecodeErrorKind::TooDeep
        );
    }

    #[test]
    fn deep_unknown_elements_do_not_overflow() {
        let depth = 200_000;
        let xml = server_msg(&("<X>".repeat(depth) + &"</X>".repeat(depth)));
        let msg = decode_str(&xml);
        assert_eq!(
            msg.body.commands,
            [Command::Unknown(UnknownCommand {
                name: "X".into(),
                cmd_id: String::new()
            })]
        );
    }

    fn notes_of(xml: &str) -> Vec<DecodeNote> {
        match decode_with_notes(xml.as_bytes()) {
            Ok((msg, notes)) => {
                assert_eq!(decode(xml.as_bytes()), Ok(msg), "the same message");
                notes
            }
            Err(e) => panic!("{e}\n{xml}"),
        }
    }

    #[test]
    fn messages_in_schema_order_and_namespaces_have_no_notes() {
        for xml in [
            SERVER_PKG2,
            include_str!("../../tests/fixtures/syncml/server-pkg2-prefixed.xml"),
            include_str!("../../tests/fixtures/syncml/samsung-pkg1.xml"),
        ] {
            assert_eq!(notes_of(xml), [], "{xml}");
            let msg = decode_str(xml);
            assert_eq!(notes_of(&String::from_utf8_lossy(&encode(&msg))), []);
            assert_eq!(notes_of(&encode_pretty(&msg)), []);
        }
    }

    #[test]
    fn children_out_of_schema_order_are_noted_once_per_parent() {
        // Data before CmdRef and Cmd (reference §1.2: CmdID, MsgRef, CmdRef, Cmd, …, Data, Item*).
        let xml = server_msg(
            "<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><Data>200</Data><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd></Status>",
        );
        let msg = decode_str(&xml);
        assert!(matches!(&msg.body.commands[0], Command::Status(s) if s.code == StatusCode::Ok));
        let notes = notes_of(&xml);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert_eq!(notes[0].kind, NoteKind::ElementOrder);
        assert_eq!(notes[0].path, "SyncML/SyncBody/Status/CmdRef");
        assert_eq!(notes[0].excerpt, "<CmdRef>0</CmdRef>");
        assert!(
            notes[0].detail.starts_with("CmdRef comes after Data in Status, whose children go in the order CmdID, MsgRef, CmdRef, Cmd,"),
            "{}",
            notes[0].detail
        );

        // The RTK's Correlator before Data, a command after Final, an Item's Data before its
        // Target, LocName before LocURI in the header: one note each, in document order.
        let xml = format!(
            "<SyncML xmlns=\"SYNCML:SYNCML1.2\"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>1</MsgID><Target><LocURI>IMEI:1</LocURI></Target><Source><LocName>srv</LocName><LocURI>https://dm</LocURI></Source></SyncHdr><SyncBody>{}<Final/>{}</SyncBody></SyncML>",
            "<Alert><CmdID>2</CmdID><Correlator>c</Correlator><Data>1226</Data></Alert>",
            "<Replace><CmdID>3</CmdID><Item><Data>x</Data><Target><LocURI>./a</LocURI></Target></Item></Replace>",
        );
        let notes = notes_of(&xml);
        let found: Vec<(&str, &str)> = notes
            .iter()
            .map(|n| (n.path.as_str(), n.excerpt.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                ("SyncML/SyncHdr/Source/LocURI", "<LocURI>https://dm</LocURI>"),
                ("SyncML/SyncBody/Alert/Data", "<Data>1226</Data>"),
                (
                    "SyncML/SyncBody/Replace",
                    "<Replace><CmdID>3</CmdID><Item><Data>x</Data><Target><LocURI>./a</LocURI></Target></Item></Replace>"
                ),
                (
                    "SyncML/SyncBody/Replace/Item/Target",
                    "<Target><LocURI>./a</LocURI></Target>"
                ),
            ]
        );
        assert!(notes.iter().all(|n| n.kind == NoteKind::ElementOrder));
        assert!(
            notes[2]
                .detail
                .starts_with("Replace comes after Final in SyncBody"),
            "{}",
            notes[2].detail
        );
    }

    #[test]
    fn repeated_children_and_unknown_ones_are_in_order() {
        let xml = server_msg(
            "<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><TargetRef>a</TargetRef><TargetRef>b</TargetRef><X/><SourceRef>c</SourceRef><Data>200</Data><Item><Data>1</Data></Item><Item><Data>2</Data></Item></Status>",
        );
        assert_eq!(notes_of(&xml), []);
        // Nor is an embedded TNDS tree, or the MetInf order of a Meta, looked into.
        let xml = server_msg(
            "<Add><CmdID>2</CmdID><Meta><Type xmlns=\"syncml:metinf\">application/vnd.syncml.dmtnds+xml</Type><Format xmlns=\"syncml:metinf\">xml</Format></Meta><Item><Data><MgmtTree xmlns=\"syncml:dmddf1.2\"><VerDTD>1.2</VerDTD><Node><NodeName>a</NodeName></Node></MgmtTree></Data></Item></Add>",
        );
        assert_eq!(notes_of(&xml), []);
    }

    #[test]
    fn namespaces_other_than_syncml_dm_1_2_are_noted_where_they_go_wrong() {
        let older = server_msg("").replace("SYNCML:SYNCML1.2", "SYNCML:SYNCML1.1");
        let notes = notes_of(&older);
        assert_eq!(
            notes.len(),
            1,
            "the children are not noted again: {notes:?}"
        );
        assert_eq!(notes[0].kind, NoteKind::Namespace);
        assert_eq!(notes[0].path, "SyncML");
        assert_eq!(notes[0].excerpt, "<SyncML xmlns=\"SYNCML:SYNCML1.1\">");
        assert_eq!(
            notes[0].detail,
            "SyncML is in the namespace \"SYNCML:SYNCML1.1\", not SYNCML:SYNCML1.2 (reference §1.1)"
        );

        let none = server_msg("").replace(" xmlns=\"SYNCML:SYNCML1.2\"", "");
        let notes = notes_of(&none);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].detail.starts_with("SyncML is in no namespace"),
            "{}",
            notes[0].detail
        );

        // An element that declares another namespace, for itself and its children.
        let xml = server_msg(
            "<Get xmlns=\"urn:other\"><CmdID>2</CmdID><Item><Target><LocURI>./a</LocURI></Target></Item></Get>",
        );
        let notes = notes_of(&xml);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert_eq!(notes[0].path, "SyncML/SyncBody/Get");
        assert_eq!(notes[0].excerpt, "<Get xmlns=\"urn:other\">");
    }

    #[test]
    fn metinf_outside_its_namespace_is_noted_once_per_meta() {
        let xml = server_msg(
            "<Replace><CmdID>2</CmdID><Meta><Format>chr</Format><Type xmlns=\"syncml:metinf\">text/plain</Type><m:Size xmlns:m=\"syncml:metinfo\">1</m:Size></Meta><Item><Target><LocURI>./a</LocURI></Target><Meta><x:Format>chr</x:Format></Meta><Data>1</Data></Item></Replace>",
        );
        let msg = decode_str(&xml);
        let Command::Replace(r) = &msg.body.commands[0] else {
            panic!("{msg:?}")
        };
        assert_eq!(
            r.meta.as_ref().and_then(|m| m.size),
            Some(1),
            "read all the same"
        );
        let notes = notes_of(&xml);
        let found: Vec<(&str, &str, &str)> = notes
            .iter()
            .map(|n| (n.path.as_str(), n.detail.as_str(), n.excerpt.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                (
                    "SyncML/SyncBody/Replace/Meta/Format",
                    "Format (the namespace \"SYNCML:SYNCML1.2\"), Size (the namespace \"syncml:metinfo\") in Meta: MetInf elements are in the namespace syncml:metinf (reference §1.1)",
                    "<Format>chr</Format>"
                ),
                (
                    "SyncML/SyncBody/Replace/Item/Meta/Format",
                    "Format (the undeclared prefix \"x\") in Meta: MetInf elements are in the namespace syncml:metinf (reference §1.1)",
                    "<x:Format>chr</x:Format>"
                ),
            ]
        );
        assert!(notes.iter().all(|n| n.kind == NoteKind::Namespace));
    }

    #[test]
    fn notes_do_not_change_what_is_an_error() {
        for bad in [
            "",
            "<SyncML>",
            "<Other/>",
            "\u{feff}<SyncML xmlns='x'><SyncHdr/></SyncML>",
        ] {
            assert_eq!(
                decode_with_notes(bad.as_bytes()).map(|(m, _)| m),
                decode(bad.as_bytes()),
                "{bad:?}"
            );
        }
        // Deep nesting and malformed attributes neither overflow nor fail, nor take long.
        let depth = 100_000;
        let xml = server_msg(&("<X xmlns:a=\"u\">".repeat(depth) + &"</X>".repeat(depth)));
        assert_eq!(notes_of(&xml), []);
        let nested: String = (0..depth).map(|n| format!("<X xmlns=\"u{n}\">")).collect();
        let xml = server_msg(&(nested + &"</X>".repeat(depth)));
        let notes = notes_of(&xml);
        assert_eq!(notes.len(), 1, "the unknown command, not what it holds");
        assert_eq!(notes[0].path, "SyncML/SyncBody/X");
        // Many notes in a wide message: each path is worked out once.
        let wide = "<Status><CmdID>1</CmdID><Data>200</Data><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd></Status>".repeat(20_000);
        let notes = notes_of(&server_msg(&wide));
        assert_eq!(notes.len(), 20_000);
        assert_eq!(notes[19_999].path, "SyncML/SyncBody/Status[20000]/MsgRef");
        let xml = server_msg("<Get xmlns=broken><CmdID>2</CmdID></Get>");
        assert_eq!(
            decode_with_notes(xml.as_bytes()).map(|(m, _)| m),
            decode(xml.as_bytes())
        );
    }

    #[test]
    fn as_received_keeps_the_order_and_the_data_and_only_indents() {
        let compact = "<?xml version=\"1.0\"?><SyncML xmlns=\"SYNCML:SYNCML1.2\"><SyncBody><Status><CmdID>1</CmdID><Data>200</Data><CmdRef>0</CmdRef><LocName></LocName></Status><Add><Item><Data><MgmtTree><Node/></MgmtTree></Data></Item></Add><Final/></SyncBody></SyncML>";
        let shown = as_received(compact);
        assert_eq!(
            shown,
            "<?xml version=\"1.0\"?>
<SyncML xmlns=\"SYNCML:SYNCML1.2\">
  <SyncBody>
    <Status>
      <CmdID>1</CmdID>
      <Data>200</Data>
      <CmdRef>0</CmdRef>
      <LocName></LocName>
    </Status>
    <Add>
      <Item>
        <Data><MgmtTree><Node/></MgmtTree></Data>
      </Item>
    </Add>
    <Final/>
  </SyncBody>
</SyncML>"
        );
        // What is already laid out stays as it is, comments and CDATA included; a BOM stays first.
        let laid_out = "\u{feff}<SyncML>\n\t<SyncHdr> <!-- c --> <Data><![CDATA[<x>]]></Data>\n</SyncHdr>\n</SyncML>\n";
        assert_eq!(as_received(laid_out), laid_out);
        // Where the XML breaks, the rest comes as it is.
        let broken = "<SyncML><SyncHdr></SyncBody>tail<a><b>";
        let shown = as_received(broken);
        assert!(shown.starts_with("<SyncML>\n  <SyncHdr>"), "{shown}");
        assert!(shown.ends_with("</SyncBody>tail<a><b>"), "{shown}");
        // Depth does not make the output quadratic.
        let deep = "<X>".repeat(10_000) + &"</X>".repeat(10_000);
        assert!(as_received(&deep).len() < deep.len() * 20);
    }
}
