//! The SyncML DM 1.2 message model (reference §1.2-§1.5).
//!
//! One Rust type per element of the representation protocol as DM uses it. The model is what both
//! codecs (XML now, WBXML later) read and write, and what the session, tree and server work on. Field
//! order in the structs follows the encoder order of reference §1.2; the decoder accepts any order.
//!
//! Identifiers (`SessionID`, `MsgID`, `CmdID`, refs) are kept as the peer wrote them: they are opaque
//! strings in the DTD and a conformance tool must be able to show exactly what a server sent.
//!
//! # JSON (`dmsim decode --json`)
//!
//! The model serializes to JSON whose keys are the element names in snake case (`session_id`,
//! `cmd_id`, `loc_uri`, `max_msg_size`, `type`, `final`), `hdr` and `body` for `SyncHdr` and
//! `SyncBody`. What the message does not hold is left out: no `null`, no empty list, no `false` flag
//! (`no_resp`, `final`, `more_data`, `archive`, `sft_del` appear only as `true`); `body.commands` is
//! always there. Each command is an object whose `command` names it (`"Alert"`, `"Status"`, …, or
//! `"Unknown"` with the element's `name` for one DM does not define); an Alert's and a Status's
//! code is the number `code`; Atomic and Sequence hold their `commands`. An Item's `data` is a
//! string as [`Data::to_text`] gives it (base64 under `meta.format` `"b64"` for binary OPAQUE),
//! with `"opaque": true` when it was OPAQUE.

use base64::Engine as _;

use super::{AlertCode, StatusCode};

/// For `skip_serializing_if`: a Meta that is absent or empty (the codecs omit both).
fn no_meta(meta: &Option<Meta>) -> bool {
    meta.as_ref().is_none_or(Meta::is_empty)
}

/// `VerDTD` of every DM 1.2 message.
pub const VER_DTD: &str = "1.2";
/// `VerProto` of every DM 1.2 message.
pub const VER_PROTO: &str = "DM/1.2";

/// A whole SyncML message: `<SyncML><SyncHdr/><SyncBody/></SyncML>`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SyncMl {
    pub hdr: SyncHdr,
    pub body: SyncBody,
}

/// `SyncHdr`: who talks to whom, in which session and message, with which credentials.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SyncHdr {
    pub ver_dtd: String,
    pub ver_proto: String,
    pub session_id: String,
    pub msg_id: String,
    pub target: Location,
    pub source: Location,
    /// The URL the peer wants the next message sent to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resp_uri: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub no_resp: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cred: Option<Cred>,
    #[serde(skip_serializing_if = "no_meta")]
    pub meta: Option<Meta>,
}

/// `Target` or `Source`: a `LocURI` with an optional `LocName`.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Location {
    pub loc_uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loc_name: Option<String>,
}

impl Location {
    /// A location with only a URI.
    pub fn uri(uri: impl Into<String>) -> Location {
        Location {
            loc_uri: uri.into(),
            loc_name: None,
        }
    }
}

/// `SyncBody`: the commands of the message, and `Final` on the last message of a package.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct SyncBody {
    pub commands: Vec<Command>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    #[serde(rename = "final")]
    pub final_flag: bool,
}

impl SyncBody {
    /// Give the commands CmdIDs 1, 2, … in document order, members of Atomic and Sequence
    /// included: CmdIDs are unique within a message and SyncHdr counts as 0 (reference §1.5).
    /// Both ends number their messages this way just before encoding, and measure them numbered.
    pub fn number_commands(&mut self) {
        let mut next = 1u32;
        for cmd in &mut self.commands {
            number(cmd, &mut next);
        }
    }
}

fn number(cmd: &mut Command, next: &mut u32) {
    *cmd.cmd_id_mut() = next.to_string();
    *next = next.saturating_add(1);
    if let Command::Atomic(c) | Command::Sequence(c) = cmd {
        for member in &mut c.commands {
            number(member, next);
        }
    }
}

/// `Cred`: credentials in the SyncHdr (DM never puts them on commands, but the DTD allows it).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Cred {
    #[serde(skip_serializing_if = "no_meta")]
    pub meta: Option<Meta>,
    pub data: String,
}

/// `Chal`: an authentication challenge, carried by a Status.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Chal {
    pub meta: Meta,
}

/// `Meta` with the MetInf elements DM uses (namespace `syncml:metinf`).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Meta {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(rename = "type")]
    pub type_: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mark: Option<String>,
    /// Total size of a large object (first chunk only), or of the item.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Base64 nonce the receiver must use in its next credentials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_nonce: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_msg_size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_obj_size: Option<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub emi: Vec<String>,
}

impl Meta {
    /// True when no element is set (the codec then omits the whole `Meta`).
    pub fn is_empty(&self) -> bool {
        *self == Meta::default()
    }

    /// Meta with only a Format.
    pub fn format(format: impl Into<String>) -> Meta {
        Meta {
            format: Some(format.into()),
            ..Meta::default()
        }
    }
}

/// `Data` of an `Item`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Data {
    /// Character data (already unescaped). For Meta Format `b64` this is the base64 text.
    Text(String),
    /// Opaque bytes (WBXML `OPAQUE`). Where only text can go (XML, JSON) they are written as
    /// [`Data::to_text`] says: as text when they are text, else as base64 under Meta Format `b64`.
    Opaque(Vec<u8>),
}

/// An Item's Data where only text can go (XML, JSON): see [`Data::to_text`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataText<'a> {
    /// The text itself: character data, or opaque bytes that are UTF-8 text made of characters XML
    /// allows (as real clients and libwbxml send text in OPAQUE).
    Text(&'a str),
    /// Opaque bytes that are not such text, in base64: the Item's Meta Format must then say `b64`
    /// (see [`Item::meta_for_text`]), as SyncML sends binary over XML.
    Base64(String),
}

impl DataText<'_> {
    /// The text to write.
    pub fn as_str(&self) -> &str {
        match self {
            DataText::Text(t) => t,
            DataText::Base64(b) => b,
        }
    }
}

/// Whether XML 1.0 allows `c` in a document (the `Char` production): no control characters but
/// tab, line feed and carriage return, no surrogates (Rust has none), no U+FFFE or U+FFFF.
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

impl Data {
    /// The data as text; opaque bytes are read as UTF-8 where they are valid.
    pub fn as_text(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Data::Text(t) => std::borrow::Cow::Borrowed(t),
            Data::Opaque(b) => String::from_utf8_lossy(b),
        }
    }

    /// The data as bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Data::Text(t) => t.as_bytes(),
            Data::Opaque(b) => b,
        }
    }

    /// The data where only text can go: text as it is; opaque bytes as text when they are UTF-8
    /// made of XML characters, else as base64. Written either way, it reads back as the same bytes:
    /// the text's, or the base64's once decoded (the Meta Format `b64` says so).
    pub fn to_text(&self) -> DataText<'_> {
        match self {
            Data::Text(t) => DataText::Text(t),
            Data::Opaque(bytes) => match xml_text(bytes) {
                Some(t) => DataText::Text(t),
                None => DataText::Base64(base64::engine::general_purpose::STANDARD.encode(bytes)),
            },
        }
    }

    /// Whether [`Data::to_text`] gives base64.
    pub fn goes_as_base64(&self) -> bool {
        matches!(self, Data::Opaque(bytes) if xml_text(bytes).is_none())
    }
}

/// The bytes as text, when they are UTF-8 made of XML characters.
fn xml_text(bytes: &[u8]) -> Option<&str> {
    std::str::from_utf8(bytes)
        .ok()
        .filter(|t| t.chars().all(is_xml_char))
}

/// `Item`: the unit of data of every command.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Item {
    pub target: Option<Location>,
    pub source: Option<Location>,
    pub meta: Option<Meta>,
    pub data: Option<Data>,
    /// `MoreData`: this is a chunk of a large object and more follow.
    pub more_data: bool,
}

impl Item {
    /// The Target LocURI, if any.
    pub fn target_uri(&self) -> Option<&str> {
        self.target.as_ref().map(|t| t.loc_uri.as_str())
    }

    /// The Source LocURI, if any.
    pub fn source_uri(&self) -> Option<&str> {
        self.source.as_ref().map(|s| s.loc_uri.as_str())
    }

    /// The Data as text, if any.
    pub fn data_text(&self) -> Option<std::borrow::Cow<'_, str>> {
        self.data.as_ref().map(Data::as_text)
    }

    /// The Meta to write with the Data where only text can go ([`Data::to_text`]): the Item's own,
    /// with Format `b64` when the Data goes as base64.
    pub fn meta_for_text(&self) -> std::borrow::Cow<'_, Option<Meta>> {
        use std::borrow::Cow;
        if self.data.as_ref().is_some_and(Data::goes_as_base64) {
            let mut meta = self.meta.clone().unwrap_or_default();
            meta.format = Some("b64".to_string());
            Cow::Owned(Some(meta))
        } else {
            Cow::Borrowed(&self.meta)
        }
    }
}

/// An Item in JSON: the Data as [`Data::to_text`] gives it, under the Meta that goes with it
/// ([`Item::meta_for_text`]), `"opaque": true` when it was OPAQUE; what is absent left out.
impl serde::Serialize for Item {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(None)?;
        if let Some(target) = &self.target {
            map.serialize_entry("target", target)?;
        }
        if let Some(source) = &self.source {
            map.serialize_entry("source", source)?;
        }
        let meta = self.meta_for_text();
        if !no_meta(&meta) {
            map.serialize_entry("meta", &*meta)?;
        }
        if let Some(data) = &self.data {
            map.serialize_entry("data", data.to_text().as_str())?;
            if matches!(data, Data::Opaque(_)) {
                map.serialize_entry("opaque", &true)?;
            }
        }
        if self.more_data {
            map.serialize_entry("more_data", &true)?;
        }
        map.end()
    }
}

/// A command of the SyncBody (or nested in Atomic / Sequence).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "command")]
pub enum Command {
    Add(ItemCommand),
    Replace(ItemCommand),
    Copy(ItemCommand),
    Delete(Delete),
    Get(Get),
    Exec(Exec),
    Alert(Alert),
    Atomic(Container),
    Sequence(Container),
    Status(Status),
    Results(Results),
    /// A command DM does not define (e.g. `Sync`, `Put`, `Map`): kept so the device can answer it with
    /// a Status (406/501) instead of rejecting the whole message.
    Unknown(UnknownCommand),
}

/// A command element outside DM, with the CmdID it carried.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UnknownCommand {
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cmd_id: String,
}

/// The name of a command, as a Status's `Cmd` names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CmdName {
    SyncHdr,
    Add,
    Replace,
    Copy,
    Delete,
    Get,
    Exec,
    Alert,
    Atomic,
    Sequence,
    Status,
    Results,
    /// A name outside DM (e.g. a DS command), kept verbatim.
    Other(String),
}

impl CmdName {
    /// The element name.
    pub fn as_str(&self) -> &str {
        match self {
            CmdName::SyncHdr => "SyncHdr",
            CmdName::Add => "Add",
            CmdName::Replace => "Replace",
            CmdName::Copy => "Copy",
            CmdName::Delete => "Delete",
            CmdName::Get => "Get",
            CmdName::Exec => "Exec",
            CmdName::Alert => "Alert",
            CmdName::Atomic => "Atomic",
            CmdName::Sequence => "Sequence",
            CmdName::Status => "Status",
            CmdName::Results => "Results",
            CmdName::Other(s) => s,
        }
    }

    /// Parse a command name; unknown names are kept as [`CmdName::Other`].
    pub fn parse(s: &str) -> CmdName {
        match s {
            "SyncHdr" => CmdName::SyncHdr,
            "Add" => CmdName::Add,
            "Replace" => CmdName::Replace,
            "Copy" => CmdName::Copy,
            "Delete" => CmdName::Delete,
            "Get" => CmdName::Get,
            "Exec" => CmdName::Exec,
            "Alert" => CmdName::Alert,
            "Atomic" => CmdName::Atomic,
            "Sequence" => CmdName::Sequence,
            "Status" => CmdName::Status,
            "Results" => CmdName::Results,
            other => CmdName::Other(other.to_string()),
        }
    }
}

impl serde::Serialize for CmdName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for CmdName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Add, Replace and Copy: `CmdID, NoResp?, Cred?, Meta?, Item+`.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct ItemCommand {
    pub cmd_id: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub no_resp: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cred: Option<Cred>,
    #[serde(skip_serializing_if = "no_meta")]
    pub meta: Option<Meta>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<Item>,
}

/// Delete: `CmdID, NoResp?, Archive?, SftDel?, Cred?, Meta?, Item+`.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Delete {
    pub cmd_id: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub no_resp: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub archive: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub sft_del: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cred: Option<Cred>,
    #[serde(skip_serializing_if = "no_meta")]
    pub meta: Option<Meta>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<Item>,
}

/// Get: `CmdID, NoResp?, Lang?, Cred?, Meta?, Item+`.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Get {
    pub cmd_id: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub no_resp: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cred: Option<Cred>,
    #[serde(skip_serializing_if = "no_meta")]
    pub meta: Option<Meta>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<Item>,
}

/// Exec: `CmdID, NoResp?, Cred?, Meta?, Correlator?, Item`.
///
/// The DTD allows exactly one Item; the model keeps what the peer sent so the device can answer a
/// wrong count with a Status (400) instead of dropping the whole message.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Exec {
    pub cmd_id: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub no_resp: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cred: Option<Cred>,
    #[serde(skip_serializing_if = "no_meta")]
    pub meta: Option<Meta>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correlator: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<Item>,
}

/// Alert: `CmdID, NoResp?, Cred?, Data, Correlator?, Item*`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Alert {
    pub cmd_id: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub no_resp: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cred: Option<Cred>,
    pub code: AlertCode,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correlator: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<Item>,
}

/// Atomic or Sequence: `CmdID, NoResp?, Meta?, commands*`.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Container {
    pub cmd_id: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub no_resp: bool,
    #[serde(skip_serializing_if = "no_meta")]
    pub meta: Option<Meta>,
    pub commands: Vec<Command>,
}

/// Status: `CmdID, MsgRef, CmdRef, Cmd, TargetRef*, SourceRef*, Cred?, Chal?, Data, Item*`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Status {
    pub cmd_id: String,
    pub msg_ref: String,
    pub cmd_ref: String,
    pub cmd: CmdName,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub target_refs: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub source_refs: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cred: Option<Cred>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chal: Option<Chal>,
    pub code: StatusCode,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<Item>,
}

impl Status {
    /// The Status answering the SyncHdr of `msg` (CmdRef 0); its CmdID is assigned when sent.
    pub fn for_header(msg: &SyncMl, code: StatusCode, chal: Option<Chal>) -> Status {
        Status {
            cmd_id: String::new(),
            msg_ref: msg.hdr.msg_id.clone(),
            cmd_ref: "0".to_string(),
            cmd: CmdName::SyncHdr,
            target_refs: vec![msg.hdr.target.loc_uri.clone()],
            source_refs: vec![msg.hdr.source.loc_uri.clone()],
            cred: None,
            chal,
            code,
            items: Vec::new(),
        }
    }

    /// The Status answering `cmd` of message `msg_ref`; its CmdID is assigned when sent.
    pub fn for_command(msg_ref: &str, cmd: &Command, code: StatusCode) -> Status {
        Status {
            cmd_id: String::new(),
            msg_ref: msg_ref.to_string(),
            cmd_ref: cmd.cmd_id().to_string(),
            cmd: cmd.name(),
            target_refs: Vec::new(),
            source_refs: Vec::new(),
            cred: None,
            chal: None,
            code,
            items: Vec::new(),
        }
    }
}

impl Alert {
    /// An alert with only its code (1222, 1223, 1201 …); its CmdID is assigned when sent.
    pub fn bare(code: AlertCode) -> Alert {
        Alert {
            cmd_id: String::new(),
            no_resp: false,
            cred: None,
            code,
            correlator: None,
            items: Vec::new(),
        }
    }
}

/// Results: `CmdID, MsgRef?, CmdRef, Meta?, TargetRef?, SourceRef?, Item+`.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Results {
    pub cmd_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msg_ref: Option<String>,
    pub cmd_ref: String,
    #[serde(skip_serializing_if = "no_meta")]
    pub meta: Option<Meta>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_ref: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_ref: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<Item>,
}

impl Command {
    /// The command's name.
    pub fn name(&self) -> CmdName {
        match self {
            Command::Add(_) => CmdName::Add,
            Command::Replace(_) => CmdName::Replace,
            Command::Copy(_) => CmdName::Copy,
            Command::Delete(_) => CmdName::Delete,
            Command::Get(_) => CmdName::Get,
            Command::Exec(_) => CmdName::Exec,
            Command::Alert(_) => CmdName::Alert,
            Command::Atomic(_) => CmdName::Atomic,
            Command::Sequence(_) => CmdName::Sequence,
            Command::Status(_) => CmdName::Status,
            Command::Results(_) => CmdName::Results,
            Command::Unknown(c) => CmdName::Other(c.name.clone()),
        }
    }

    /// The command's CmdID.
    pub fn cmd_id(&self) -> &str {
        match self {
            Command::Add(c) | Command::Replace(c) | Command::Copy(c) => &c.cmd_id,
            Command::Delete(c) => &c.cmd_id,
            Command::Get(c) => &c.cmd_id,
            Command::Exec(c) => &c.cmd_id,
            Command::Alert(c) => &c.cmd_id,
            Command::Atomic(c) | Command::Sequence(c) => &c.cmd_id,
            Command::Status(c) => &c.cmd_id,
            Command::Results(c) => &c.cmd_id,
            Command::Unknown(c) => &c.cmd_id,
        }
    }

    /// The command's CmdID, to set it.
    pub fn cmd_id_mut(&mut self) -> &mut String {
        match self {
            Command::Add(c) | Command::Replace(c) | Command::Copy(c) => &mut c.cmd_id,
            Command::Delete(c) => &mut c.cmd_id,
            Command::Get(c) => &mut c.cmd_id,
            Command::Exec(c) => &mut c.cmd_id,
            Command::Alert(c) => &mut c.cmd_id,
            Command::Atomic(c) | Command::Sequence(c) => &mut c.cmd_id,
            Command::Status(c) => &mut c.cmd_id,
            Command::Results(c) => &mut c.cmd_id,
            Command::Unknown(c) => &mut c.cmd_id,
        }
    }

    /// The command's items (empty for Atomic and Sequence).
    pub fn items(&self) -> &[Item] {
        match self {
            Command::Add(c) | Command::Replace(c) | Command::Copy(c) => &c.items,
            Command::Delete(c) => &c.items,
            Command::Get(c) => &c.items,
            Command::Exec(c) => &c.items,
            Command::Alert(c) => &c.items,
            Command::Atomic(_) | Command::Sequence(_) | Command::Unknown(_) => &[],
            Command::Status(c) => &c.items,
            Command::Results(c) => &c.items,
        }
    }

    /// The command's items, to change them (empty for Atomic and Sequence).
    pub fn items_mut(&mut self) -> &mut [Item] {
        match self {
            Command::Add(c) | Command::Replace(c) | Command::Copy(c) => &mut c.items,
            Command::Delete(c) => &mut c.items,
            Command::Get(c) => &mut c.items,
            Command::Exec(c) => &mut c.items,
            Command::Alert(c) => &mut c.items,
            Command::Atomic(_) | Command::Sequence(_) | Command::Unknown(_) => &mut [],
            Command::Status(c) => &mut c.items,
            Command::Results(c) => &mut c.items,
        }
    }

    /// Whether the sender asked for no Status (`NoResp`).
    pub fn no_resp(&self) -> bool {
        match self {
            Command::Add(c) | Command::Replace(c) | Command::Copy(c) => c.no_resp,
            Command::Delete(c) => c.no_resp,
            Command::Get(c) => c.no_resp,
            Command::Exec(c) => c.no_resp,
            Command::Alert(c) => c.no_resp,
            Command::Atomic(c) | Command::Sequence(c) => c.no_resp,
            Command::Status(_) | Command::Results(_) | Command::Unknown(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn hdr() -> SyncHdr {
        SyncHdr {
            ver_dtd: VER_DTD.into(),
            ver_proto: VER_PROTO.into(),
            session_id: "1".into(),
            msg_id: "2".into(),
            target: Location::uri("https://dm.example.com/dm"),
            source: Location {
                loc_uri: "IMEI:1".into(),
                loc_name: Some("dev".into()),
            },
            resp_uri: None,
            no_resp: false,
            cred: Some(Cred {
                meta: Some(Meta {
                    format: Some("b64".into()),
                    type_: Some("syncml:auth-md5".into()),
                    ..Meta::default()
                }),
                data: "Zm9v".into(),
            }),
            meta: Some(Meta {
                max_msg_size: Some(5120),
                ..Meta::default()
            }),
        }
    }

    #[test]
    fn json_has_element_names_and_leaves_out_what_is_absent() {
        let msg = SyncMl {
            hdr: hdr(),
            body: SyncBody {
                commands: vec![
                    Command::Alert(Alert {
                        cmd_id: "1".into(),
                        no_resp: false,
                        cred: None,
                        code: AlertCode::ClientInitiatedMgmt,
                        correlator: None,
                        items: Vec::new(),
                    }),
                    Command::Status(Status {
                        target_refs: vec!["IMEI:1".into()],
                        ..Status::for_command(
                            "1",
                            &Command::Get(Get {
                                cmd_id: "4".into(),
                                ..Get::default()
                            }),
                            StatusCode::Ok,
                        )
                    }),
                    Command::Atomic(Container {
                        cmd_id: "3".into(),
                        no_resp: true,
                        meta: Some(Meta::default()),
                        commands: vec![Command::Replace(ItemCommand {
                            cmd_id: "4".into(),
                            items: vec![
                                Item {
                                    target: Some(Location::uri("./A")),
                                    meta: Some(Meta::format("chr")),
                                    data: Some(Data::Opaque(b"text".to_vec())),
                                    ..Item::default()
                                },
                                Item {
                                    target: Some(Location::uri("./B")),
                                    meta: Some(Meta {
                                        format: Some("bin".into()),
                                        type_: Some("application/octet-stream".into()),
                                        ..Meta::default()
                                    }),
                                    data: Some(Data::Opaque(vec![0, 0xFF])),
                                    more_data: true,
                                    ..Item::default()
                                },
                            ],
                            ..ItemCommand::default()
                        })],
                    }),
                    Command::Unknown(UnknownCommand {
                        name: "Sync".into(),
                        cmd_id: String::new(),
                    }),
                ],
                final_flag: true,
            },
        };
        let value = serde_json::to_value(&msg).expect("serializes");
        assert_eq!(
            value,
            json!({
                "hdr": {
                    "ver_dtd": "1.2",
                    "ver_proto": "DM/1.2",
                    "session_id": "1",
                    "msg_id": "2",
                    "target": {"loc_uri": "https://dm.example.com/dm"},
                    "source": {"loc_uri": "IMEI:1", "loc_name": "dev"},
                    "cred": {"meta": {"format": "b64", "type": "syncml:auth-md5"}, "data": "Zm9v"},
                    "meta": {"max_msg_size": 5120}
                },
                "body": {
                    "commands": [
                        {"command": "Alert", "cmd_id": "1", "code": 1201},
                        {
                            "command": "Status",
                            "cmd_id": "",
                            "msg_ref": "1",
                            "cmd_ref": "4",
                            "cmd": "Get",
                            "target_refs": ["IMEI:1"],
                            "code": 200
                        },
                        {
                            "command": "Atomic",
                            "cmd_id": "3",
                            "no_resp": true,
                            "commands": [{
                                "command": "Replace",
                                "cmd_id": "4",
                                "items": [
                                    {
                                        "target": {"loc_uri": "./A"},
                                        "meta": {"format": "chr"},
                                        "data": "text",
                                        "opaque": true
                                    },
                                    {
                                        "target": {"loc_uri": "./B"},
                                        "meta": {"format": "b64", "type": "application/octet-stream"},
                                        "data": "AP8=",
                                        "opaque": true,
                                        "more_data": true
                                    }
                                ]
                            }]
                        },
                        {"command": "Unknown", "name": "Sync"}
                    ],
                    "final": true
                }
            })
        );
    }

    #[test]
    fn an_empty_body_still_has_its_commands() {
        let msg = SyncMl {
            hdr: SyncHdr {
                cred: None,
                meta: None,
                ..hdr()
            },
            body: SyncBody::default(),
        };
        let value = serde_json::to_value(&msg).expect("serializes");
        assert_eq!(value["body"], json!({"commands": []}));
    }

    #[test]
    fn data_goes_as_text_when_it_is_text() {
        assert_eq!(
            Data::Text("\u{1}".into()).to_text(),
            DataText::Text("\u{1}")
        );
        assert_eq!(
            Data::Opaque(b"a\tb".to_vec()).to_text(),
            DataText::Text("a\tb")
        );
        assert_eq!(
            Data::Opaque("é€中".as_bytes().to_vec()).to_text(),
            DataText::Text("é€中")
        );
        for binary in [&b"\xFF"[..], b"\x00", b"a\x1Fb", "\u{FFFE}".as_bytes()] {
            let data = Data::Opaque(binary.to_vec());
            assert!(matches!(data.to_text(), DataText::Base64(_)), "{binary:?}");
            assert!(data.goes_as_base64());
        }
        assert!(!Data::Text("\u{0}".into()).goes_as_base64());
    }
}
