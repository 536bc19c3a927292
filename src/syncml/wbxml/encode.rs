//! The WBXML encoder: a [`SyncMl`] message to WBXML 1.2 bytes, in the element order of the XML
//! encoder (reference §1.2).
//!
//! Header `02 A4 01 6A`: WBXML 1.2, public id 0x1201 (SyncML 1.2), UTF-8, then the string table,
//! which is empty (`00`) unless a command outside code page 0 needs its name written as a LITERAL.
//! Elements with content carry the 0x40 flag and end with END; empty flags (`Final`, `NoResp`, …)
//! and empty text elements are written without it. Meta children are on code page 1: the encoder
//! switches page lazily before a tag of another page, so a Meta reads `5A 00 01 … 01` and the next
//! code page 0 tag is preceded by `00 00`, as in real captures. Text is STR_I; a NUL character, which
//! STR_I cannot hold, is written as ENTITY 0. Item `Data::Opaque` is OPAQUE; `Data::Text` is STR_I,
//! except for a TNDS tree: when the Item's Meta Type (or, without one, its command's) is
//! `application/vnd.syncml.dmtnds+xml` and the text is a `MgmtTree` document the decoder gives back
//! unchanged (see `tnds.rs`), it is written as elements on code page 2 (`0F 00 02 60 … 01 00 00 01`:
//! Data, switch to page 2, MgmtTree with content, …, switch back to page 0, end of Data). Any other
//! text, XML or not, travels as a string.

use std::io::Write as _;

use super::tnds::{self, DdfEvent};
use super::tokens::{self, metinf, tag, PAGE_DMDDF, PAGE_METINF, PAGE_SYNCML};
use crate::syncml::{
    Alert, Command, Container, Cred, Data, Delete, Deviations, Exec, Get, Item, ItemCommand,
    Location, Meta, Results, Status, SyncBody, SyncHdr, SyncMl, UnknownCommand,
};

/// WBXML version byte of the encoder's output (1.2).
const VERSION_1_2: u8 = 0x02;

/// The Meta Type of an Item whose Data is a TNDS tree in XML.
const TNDS_XML: &str = "application/vnd.syncml.dmtnds+xml";

/// Encode a message as WBXML.
pub fn encode(msg: &SyncMl) -> Vec<u8> {
    encode_with(msg, Deviations::default())
}

/// [`encode`], with deliberate [`Deviations`] (for testing peers).
pub fn encode_with(msg: &SyncMl, deviations: Deviations) -> Vec<u8> {
    let mut w = Writer {
        deviations,
        ..Writer::default()
    };
    w.message(msg);
    w.finish()
}

/// Append `n` as a WBXML mb_u_int32: 7 bits per byte, most significant first, 0x80 on all but the
/// last byte.
pub(super) fn push_mb_u32(buf: &mut Vec<u8>, n: u32) {
    let mut bytes = [0u8; 5];
    let mut start = bytes.len();
    let mut rest = n;
    // 32 bits are at most five 7-bit groups, so `start` stays in bounds.
    loop {
        start -= 1;
        let continuation = if start == bytes.len() - 1 { 0 } else { 0x80 };
        // Masked to 7 bits, so the cast keeps every bit.
        bytes[start] = (rest & 0x7F) as u8 | continuation;
        rest >>= 7;
        if rest == 0 {
            break;
        }
    }
    buf.extend_from_slice(&bytes[start..]);
}

/// Writes the body while collecting the string table; [`Writer::finish`] puts the header first.
#[derive(Default)]
struct Writer {
    body: Vec<u8>,
    strtbl: Vec<u8>,
    /// The tag code page in force in `body`.
    page: u8,
    deviations: Deviations,
}

impl Writer {
    fn finish(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.body.len() + self.strtbl.len() + 8);
        out.push(VERSION_1_2);
        let public_id = if self.deviations.syncml_11 {
            tokens::PUBLIC_ID_SYNCML_11
        } else {
            tokens::PUBLIC_ID_SYNCML_12
        };
        push_mb_u32(&mut out, public_id);
        push_mb_u32(&mut out, tokens::CHARSET_UTF8);
        push_mb_u32(&mut out, table_len(self.strtbl.len()));
        out.extend_from_slice(&self.strtbl);
        out.extend_from_slice(&self.body);
        out
    }

    fn message(&mut self, msg: &SyncMl) {
        self.body.reserve(1024);
        self.open(tag::SYNC_ML);
        self.hdr(&msg.hdr);
        self.sync_body(&msg.body);
        self.close();
    }

    fn hdr(&mut self, hdr: &SyncHdr) {
        self.open(tag::SYNC_HDR);
        self.leaf(tag::VER_DTD, &hdr.ver_dtd);
        self.leaf(tag::VER_PROTO, &hdr.ver_proto);
        self.leaf(tag::SESSION_ID, &hdr.session_id);
        self.leaf(tag::MSG_ID, &hdr.msg_id);
        self.location(tag::TARGET, &hdr.target);
        self.location(tag::SOURCE, &hdr.source);
        self.opt_leaf(tag::RESP_URI, hdr.resp_uri.as_deref());
        self.flag(tag::NO_RESP, hdr.no_resp);
        self.opt_cred(hdr.cred.as_ref());
        self.opt_meta(hdr.meta.as_ref());
        self.close();
    }

    fn sync_body(&mut self, body: &SyncBody) {
        self.open(tag::SYNC_BODY);
        self.commands(&body.commands);
        self.flag(tag::FINAL, body.final_flag);
        self.close();
    }

    fn commands(&mut self, commands: &[Command]) {
        for cmd in commands {
            self.command(cmd);
        }
    }

    fn command(&mut self, cmd: &Command) {
        match cmd {
            Command::Add(c) => self.item_command(tag::ADD, c),
            Command::Replace(c) => self.item_command(tag::REPLACE, c),
            Command::Copy(c) => self.item_command(tag::COPY, c),
            Command::Delete(c) => self.delete(c),
            Command::Get(c) => self.get(c),
            Command::Exec(c) => self.exec(c),
            Command::Alert(c) => self.alert(c),
            Command::Atomic(c) => self.container(tag::ATOMIC, c),
            Command::Sequence(c) => self.container(tag::SEQUENCE, c),
            Command::Status(c) => self.status(c),
            Command::Results(c) => self.results(c),
            Command::Unknown(c) => self.unknown(c),
        }
    }

    fn item_command(&mut self, token: u8, c: &ItemCommand) {
        self.open(token);
        self.leaf(tag::CMD_ID, &c.cmd_id);
        self.flag(tag::NO_RESP, c.no_resp);
        self.opt_cred(c.cred.as_ref());
        self.opt_meta(c.meta.as_ref());
        self.items(&c.items, c.meta.as_ref());
        self.close();
    }

    fn delete(&mut self, c: &Delete) {
        self.open(tag::DELETE);
        self.leaf(tag::CMD_ID, &c.cmd_id);
        self.flag(tag::NO_RESP, c.no_resp);
        self.flag(tag::ARCHIVE, c.archive);
        self.flag(tag::SFT_DEL, c.sft_del);
        self.opt_cred(c.cred.as_ref());
        self.opt_meta(c.meta.as_ref());
        self.items(&c.items, c.meta.as_ref());
        self.close();
    }

    fn get(&mut self, c: &Get) {
        self.open(tag::GET);
        self.leaf(tag::CMD_ID, &c.cmd_id);
        self.flag(tag::NO_RESP, c.no_resp);
        self.opt_leaf(tag::LANG, c.lang.as_deref());
        self.opt_cred(c.cred.as_ref());
        self.opt_meta(c.meta.as_ref());
        self.items(&c.items, c.meta.as_ref());
        self.close();
    }

    fn exec(&mut self, c: &Exec) {
        self.open(tag::EXEC);
        self.leaf(tag::CMD_ID, &c.cmd_id);
        self.flag(tag::NO_RESP, c.no_resp);
        self.opt_cred(c.cred.as_ref());
        self.opt_meta(c.meta.as_ref());
        self.opt_leaf(tag::CORRELATOR, c.correlator.as_deref());
        self.items(&c.items, c.meta.as_ref());
        self.close();
    }

    fn alert(&mut self, c: &Alert) {
        self.open(tag::ALERT);
        self.leaf(tag::CMD_ID, &c.cmd_id);
        self.flag(tag::NO_RESP, c.no_resp);
        self.opt_cred(c.cred.as_ref());
        self.number(PAGE_SYNCML, tag::DATA, u64::from(c.code.code()));
        self.opt_leaf(tag::CORRELATOR, c.correlator.as_deref());
        self.items(&c.items, None);
        self.close();
    }

    fn container(&mut self, token: u8, c: &Container) {
        self.open(token);
        self.leaf(tag::CMD_ID, &c.cmd_id);
        self.flag(tag::NO_RESP, c.no_resp);
        self.opt_meta(c.meta.as_ref());
        self.commands(&c.commands);
        self.close();
    }

    fn status(&mut self, c: &Status) {
        self.open(tag::STATUS);
        self.leaf(tag::CMD_ID, &c.cmd_id);
        self.leaf(tag::MSG_REF, &c.msg_ref);
        self.leaf(tag::CMD_REF, &c.cmd_ref);
        let data_first = self.deviations.status_data_before_cmd;
        if data_first {
            self.number(PAGE_SYNCML, tag::DATA, u64::from(c.code.code()));
        }
        self.leaf(tag::CMD, c.cmd.as_str());
        for r in &c.target_refs {
            self.leaf(tag::TARGET_REF, r);
        }
        for r in &c.source_refs {
            self.leaf(tag::SOURCE_REF, r);
        }
        self.opt_cred(c.cred.as_ref());
        if let Some(chal) = &c.chal {
            self.open(tag::CHAL);
            self.meta(&chal.meta);
            self.close();
        }
        if !data_first {
            self.number(PAGE_SYNCML, tag::DATA, u64::from(c.code.code()));
        }
        self.items(&c.items, None);
        self.close();
    }

    fn results(&mut self, c: &Results) {
        self.open(tag::RESULTS);
        self.leaf(tag::CMD_ID, &c.cmd_id);
        self.opt_leaf(tag::MSG_REF, c.msg_ref.as_deref());
        self.leaf(tag::CMD_REF, &c.cmd_ref);
        self.opt_meta(c.meta.as_ref());
        self.opt_leaf(tag::TARGET_REF, c.target_ref.as_deref());
        self.opt_leaf(tag::SOURCE_REF, c.source_ref.as_deref());
        self.items(&c.items, c.meta.as_ref());
        self.close();
    }

    /// A command outside DM: its code page 0 tag (or a LITERAL when it has none) with the CmdID
    /// (omitted when empty) and nothing else.
    fn unknown(&mut self, c: &UnknownCommand) {
        match tokens::tag_token(PAGE_SYNCML, &c.name) {
            Some(token) => self.open(token),
            None => self.open_literal(&c.name),
        }
        if !c.cmd_id.is_empty() {
            self.leaf(tag::CMD_ID, &c.cmd_id);
        }
        self.close();
    }

    /// The Items of a command whose Meta is `cmd_meta`.
    fn items(&mut self, items: &[Item], cmd_meta: Option<&Meta>) {
        for item in items {
            self.open(tag::ITEM);
            if let Some(t) = &item.target {
                self.location(tag::TARGET, t);
            }
            if let Some(s) = &item.source {
                self.location(tag::SOURCE, s);
            }
            self.opt_meta(item.meta.as_ref());
            match &item.data {
                Some(Data::Text(text)) if is_tnds_xml(item, cmd_meta) => self.tnds_data(text),
                Some(Data::Text(text)) => self.leaf(tag::DATA, text),
                Some(Data::Opaque(bytes)) => self.opaque_leaf(tag::DATA, bytes),
                None => {}
            }
            self.flag(tag::MORE_DATA, item.more_data);
            self.close();
        }
    }

    /// A `Data` holding a TNDS tree: code page 2 elements when they decode back to `text`, else a
    /// string.
    fn tnds_data(&mut self, text: &str) {
        let Some(events) = tnds::ddf_events(text) else {
            self.leaf(tag::DATA, text);
            return;
        };
        self.open(tag::DATA);
        for event in &events {
            match event {
                DdfEvent::Start { token, content } => {
                    let flag = if *content { tokens::HAS_CONTENT } else { 0 };
                    self.tag(PAGE_DMDDF, token | flag);
                }
                DdfEvent::Text(t) => self.text(t),
                DdfEvent::End => self.close(),
            }
        }
        self.switch_page(PAGE_SYNCML);
        self.close();
    }

    fn location(&mut self, token: u8, loc: &Location) {
        self.open(token);
        self.leaf(tag::LOC_URI, &loc.loc_uri);
        self.opt_leaf(tag::LOC_NAME, loc.loc_name.as_deref());
        self.close();
    }

    fn opt_cred(&mut self, cred: Option<&Cred>) {
        if let Some(cred) = cred {
            self.open(tag::CRED);
            self.opt_meta(cred.meta.as_ref());
            self.leaf(tag::DATA, &cred.data);
            self.close();
        }
    }

    /// A Meta that is absent or empty is omitted.
    fn opt_meta(&mut self, meta: Option<&Meta>) {
        if let Some(meta) = meta.filter(|m| !m.is_empty()) {
            self.meta(meta);
        }
    }

    /// `Meta` with its MetInf children (code page 1) in the MetInf DTD order.
    fn meta(&mut self, meta: &Meta) {
        self.open(tag::META);
        self.metinf(metinf::FORMAT, meta.format.as_deref());
        self.metinf(metinf::TYPE, meta.type_.as_deref());
        self.metinf(metinf::MARK, meta.mark.as_deref());
        if let Some(size) = meta.size {
            self.number(PAGE_METINF, metinf::SIZE, size);
        }
        self.metinf(metinf::VERSION, meta.version.as_deref());
        self.metinf(metinf::NEXT_NONCE, meta.next_nonce.as_deref());
        if let Some(size) = meta.max_msg_size {
            self.number(PAGE_METINF, metinf::MAX_MSG_SIZE, size);
        }
        if let Some(size) = meta.max_obj_size {
            self.number(PAGE_METINF, metinf::MAX_OBJ_SIZE, size);
        }
        for emi in &meta.emi {
            self.text_element(PAGE_METINF, metinf::EMI, emi);
        }
        self.close();
    }

    fn metinf(&mut self, token: u8, text: Option<&str>) {
        if let Some(text) = text {
            self.text_element(PAGE_METINF, token, text);
        }
    }

    fn number(&mut self, page: u8, token: u8, n: u64) {
        self.tag(page, token | tokens::HAS_CONTENT);
        self.body.push(tokens::STR_I);
        // Writing into a Vec cannot fail.
        let _ = write!(self.body, "{n}");
        self.body.push(0);
        self.close();
    }

    /// A code page 0 element holding `text`.
    fn leaf(&mut self, token: u8, text: &str) {
        self.text_element(PAGE_SYNCML, token, text);
    }

    fn opt_leaf(&mut self, token: u8, text: Option<&str>) {
        if let Some(text) = text {
            self.leaf(token, text);
        }
    }

    /// An element holding `text`; without content when the text is empty.
    fn text_element(&mut self, page: u8, token: u8, text: &str) {
        if text.is_empty() {
            self.tag(page, token);
            return;
        }
        self.tag(page, token | tokens::HAS_CONTENT);
        self.text(text);
        self.close();
    }

    /// A code page 0 element holding opaque bytes (always with content, so that empty bytes stay
    /// opaque).
    fn opaque_leaf(&mut self, token: u8, bytes: &[u8]) {
        self.open(token);
        if bytes.is_empty() {
            self.body.push(tokens::OPAQUE);
            self.body.push(0);
        }
        // A length must fit an mb_u_int32: longer data is several OPAQUEs, which decode as one.
        for chunk in bytes.chunks(u32::MAX as usize) {
            self.body.push(tokens::OPAQUE);
            push_mb_u32(&mut self.body, table_len(chunk.len()));
            self.body.extend_from_slice(chunk);
        }
        self.close();
    }

    /// Text as STR_I, with NUL characters (which would end an inline string) as ENTITY 0.
    fn text(&mut self, text: &str) {
        for (i, part) in text.split('\0').enumerate() {
            if i > 0 {
                self.body.extend_from_slice(&[tokens::ENTITY, 0]);
            }
            if !part.is_empty() {
                self.body.push(tokens::STR_I);
                self.body.extend_from_slice(part.as_bytes());
                self.body.push(0);
            }
        }
    }

    /// An empty element standing for `true`; nothing for `false`.
    fn flag(&mut self, token: u8, set: bool) {
        if set {
            self.tag(PAGE_SYNCML, token);
        }
    }

    /// A code page 0 element with content.
    fn open(&mut self, token: u8) {
        self.tag(PAGE_SYNCML, token | tokens::HAS_CONTENT);
    }

    /// An element with content whose name has no token: LITERAL_C with the name in the string table.
    fn open_literal(&mut self, name: &str) {
        let index = self.string_index(name);
        self.body.push(tokens::LITERAL | tokens::HAS_CONTENT);
        push_mb_u32(&mut self.body, index);
    }

    fn close(&mut self) {
        self.body.push(tokens::END);
    }

    /// A tag token on `page`, switching page first when needed.
    fn tag(&mut self, page: u8, token: u8) {
        self.switch_page(page);
        self.body.push(token);
    }

    /// Make `page` the code page in force, with SWITCH_PAGE when it is not.
    fn switch_page(&mut self, page: u8) {
        if page != self.page {
            self.body.extend_from_slice(&[tokens::SWITCH_PAGE, page]);
            self.page = page;
        }
    }

    /// The string table index of `s`, adding it (NUL-terminated) when new.
    fn string_index(&mut self, s: &str) -> u32 {
        let mut at = 0;
        for entry in self.strtbl.split(|&b| b == 0) {
            if entry == s.as_bytes() && at < self.strtbl.len() {
                return table_len(at);
            }
            at += entry.len() + 1;
        }
        let index = table_len(self.strtbl.len());
        self.strtbl.extend(s.bytes().filter(|&b| b != 0));
        self.strtbl.push(0);
        index
    }
}

/// Whether an Item's Meta Type (or, without one, its command's) says its Data is TNDS XML.
fn is_tnds_xml(item: &Item, cmd_meta: Option<&Meta>) -> bool {
    item.meta
        .as_ref()
        .and_then(|m| m.type_.as_deref())
        .or_else(|| cmd_meta.and_then(|m| m.type_.as_deref()))
        .is_some_and(|t| t.trim().eq_ignore_ascii_case(TNDS_XML))
}

/// A length or index as an mb_u_int32 (lengths over 4 GiB are split before they get here).
fn table_len(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
