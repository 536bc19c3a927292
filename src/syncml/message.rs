//! The SyncML DM 1.2 message model (reference §1.2-§1.5).
//!
//! One Rust type per element of the representation protocol as DM uses it. The model is what both
//! codecs (XML now, WBXML later) read and write, and what the session, tree and server work on. Field
//! order in the structs follows the encoder order of reference §1.2; the decoder accepts any order.
//!
//! Identifiers (`SessionID`, `MsgID`, `CmdID`, refs) are kept as the peer wrote them: they are opaque
//! strings in the DTD and a conformance tool must be able to show exactly what a server sent.

use super::{AlertCode, StatusCode};

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
    pub resp_uri: Option<String>,
    pub no_resp: bool,
    pub cred: Option<Cred>,
    pub meta: Option<Meta>,
}

/// `Target` or `Source`: a `LocURI` with an optional `LocName`.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Location {
    pub loc_uri: String,
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
    pub format: Option<String>,
    pub type_: Option<String>,
    pub mark: Option<String>,
    /// Total size of a large object (first chunk only), or of the item.
    pub size: Option<u64>,
    /// Base64 nonce the receiver must use in its next credentials.
    pub next_nonce: Option<String>,
    pub version: Option<String>,
    pub max_msg_size: Option<u64>,
    pub max_obj_size: Option<u64>,
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
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Data {
    /// Character data (already unescaped). For Meta Format `b64` this is the base64 text.
    Text(String),
    /// Opaque bytes (WBXML `OPAQUE`); the XML codec writes them as base64.
    Opaque(Vec<u8>),
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
}

/// `Item`: the unit of data of every command.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
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
}

/// A command of the SyncBody (or nested in Atomic / Sequence).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
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
    pub no_resp: bool,
    pub cred: Option<Cred>,
    pub meta: Option<Meta>,
    pub items: Vec<Item>,
}

/// Delete: `CmdID, NoResp?, Archive?, SftDel?, Cred?, Meta?, Item+`.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Delete {
    pub cmd_id: String,
    pub no_resp: bool,
    pub archive: bool,
    pub sft_del: bool,
    pub cred: Option<Cred>,
    pub meta: Option<Meta>,
    pub items: Vec<Item>,
}

/// Get: `CmdID, NoResp?, Lang?, Cred?, Meta?, Item+`.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Get {
    pub cmd_id: String,
    pub no_resp: bool,
    pub lang: Option<String>,
    pub cred: Option<Cred>,
    pub meta: Option<Meta>,
    pub items: Vec<Item>,
}

/// Exec: `CmdID, NoResp?, Cred?, Meta?, Correlator?, Item`.
///
/// The DTD allows exactly one Item; the model keeps what the peer sent so the device can answer a
/// wrong count with a Status (400) instead of dropping the whole message.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Exec {
    pub cmd_id: String,
    pub no_resp: bool,
    pub cred: Option<Cred>,
    pub meta: Option<Meta>,
    pub correlator: Option<String>,
    pub items: Vec<Item>,
}

/// Alert: `CmdID, NoResp?, Cred?, Data, Correlator?, Item*`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Alert {
    pub cmd_id: String,
    pub no_resp: bool,
    pub cred: Option<Cred>,
    pub code: AlertCode,
    pub correlator: Option<String>,
    pub items: Vec<Item>,
}

/// Atomic or Sequence: `CmdID, NoResp?, Meta?, commands*`.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Container {
    pub cmd_id: String,
    pub no_resp: bool,
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
    pub target_refs: Vec<String>,
    pub source_refs: Vec<String>,
    pub cred: Option<Cred>,
    pub chal: Option<Chal>,
    pub code: StatusCode,
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
    pub msg_ref: Option<String>,
    pub cmd_ref: String,
    pub meta: Option<Meta>,
    pub target_ref: Option<String>,
    pub source_ref: Option<String>,
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
