//! The protocol rules a server can break without stopping the session, as the device records them.
//!
//! The simulated device tolerates what real devices tolerate, but records every server deviation
//! it sees (DESIGN.md, "Strict mock, tolerant device"): each is a [`Violation`] naming the
//! [`ServerRule`] (a short stable kebab-case id, also a stable number for reports), the server
//! message it was read in, what was wrong and the offending excerpt as received. This module holds
//! the rules and the checks that look at a whole decoded message ([`msg_id`], [`cmd_ids`]); the
//! session ([`super::ClientSession`]) applies them with the checks of its flow (the SyncHdr
//! Status, the challenge, the Content-Type, sizes), and turns the decoder's notes ([`DecodeNote`])
//! into violations with [`from_note`].

use crate::syncml::notes::{self, DecodeNote, NoteKind};
use crate::syncml::{Command, SyncMl};
use std::collections::HashMap;
use std::fmt;

/// A rule the device checks in every server message.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum ServerRule {
    /// The server's message holds a Status for the device's SyncHdr (reference §1.4, §1.6).
    MissingHdrStatus,
    /// That Status's MsgRef is the MsgID of the device's message it answers (reference §1.5).
    MsgRef,
    /// The reply has a Content-Type (DM RepPro, "OMA Device Management Usage": one of the two DM
    /// MIME types MUST identify a DM message; reference §1.1).
    MissingContentType,
    /// The reply is in the device's encoding (the one it asked for with `Accept`).
    OtherEncoding,
    /// The reply is within the MaxMsgSize the device announced (reference §1.3).
    MaxMsgSize,
    /// A Chal's NextNonce is base64 (Meta Format `b64`: OMA DM Protocol §4.1.1.2, reference §2).
    NextNonceBase64,
    /// A 401 or 407 for the device's credentials carries a Chal (reference §2).
    MissingChal,
    /// The server's first message of a session has MsgID 1, each next one more (reference §1.3).
    MsgIdSequence,
    /// CmdIDs are unique within a message, the SyncHdr counting as command 0 (reference §1.5).
    DuplicateCmdId,
    /// Children in the order of the SyncML DTD (reference §1.2).
    ElementOrder,
    /// The SyncML DM 1.2 namespaces: `SYNCML:SYNCML1.2`, MetInf in `syncml:metinf`; in WBXML, the
    /// SyncML 1.2 document type (reference §1.1, §9.1).
    Namespace,
}

impl ServerRule {
    /// Every rule, in the order of their numbers.
    pub const ALL: [ServerRule; 11] = [
        ServerRule::MissingHdrStatus,
        ServerRule::MsgRef,
        ServerRule::MissingContentType,
        ServerRule::OtherEncoding,
        ServerRule::MaxMsgSize,
        ServerRule::NextNonceBase64,
        ServerRule::MissingChal,
        ServerRule::MsgIdSequence,
        ServerRule::DuplicateCmdId,
        ServerRule::ElementOrder,
        ServerRule::Namespace,
    ];

    /// The rule's stable id, e.g. `duplicate-cmd-id`.
    pub fn id(self) -> &'static str {
        match self {
            ServerRule::MissingHdrStatus => "missing-hdr-status",
            ServerRule::MsgRef => "msg-ref",
            ServerRule::MissingContentType => "missing-content-type",
            ServerRule::OtherEncoding => "other-encoding",
            ServerRule::MaxMsgSize => "max-msg-size",
            ServerRule::NextNonceBase64 => "next-nonce-base64",
            ServerRule::MissingChal => "missing-chal",
            ServerRule::MsgIdSequence => "msg-id-sequence",
            ServerRule::DuplicateCmdId => "duplicate-cmd-id",
            ServerRule::ElementOrder => "element-order",
            ServerRule::Namespace => "namespace",
        }
    }

    /// The rule's stable number (the `code` of its `server-violation` observation): 1 to 11 in
    /// the order of [`ServerRule::ALL`]; a new rule takes the next number.
    pub fn number(self) -> u16 {
        match self {
            ServerRule::MissingHdrStatus => 1,
            ServerRule::MsgRef => 2,
            ServerRule::MissingContentType => 3,
            ServerRule::OtherEncoding => 4,
            ServerRule::MaxMsgSize => 5,
            ServerRule::NextNonceBase64 => 6,
            ServerRule::MissingChal => 7,
            ServerRule::MsgIdSequence => 8,
            ServerRule::DuplicateCmdId => 9,
            ServerRule::ElementOrder => 10,
            ServerRule::Namespace => 11,
        }
    }

    /// The rule with this id.
    pub fn from_id(id: &str) -> Option<ServerRule> {
        ServerRule::ALL.into_iter().find(|r| r.id() == id)
    }
}

impl fmt::Display for ServerRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// A protocol rule the server broke, as the device saw it: which rule, in which server message
/// (its place in the session, and its MsgID), what was wrong, and the offending excerpt.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Violation {
    /// Which server message of the session it was read in, from 1: the answer to the device's
    /// `message`-th request, the `message`-th exchange of the session's transcript.
    pub message: u32,
    /// The MsgID that message carries (empty when it could not be read).
    pub msg_id: String,
    pub rule: ServerRule,
    /// What was wrong, in words, with the rule's reference.
    pub detail: String,
    /// The offending element or value as received, short (see [`notes::excerpt`]); empty when
    /// what is wrong is that something is missing and nothing else says more.
    pub excerpt: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (server MsgID {}): {}",
            self.rule, self.msg_id, self.detail
        )?;
        if !self.excerpt.is_empty() {
            write!(f, " [{}]", self.excerpt)?;
        }
        Ok(())
    }
}

/// A rule broken in a message, before the session puts it in place: (rule, detail, excerpt).
pub(super) type Found = (ServerRule, String, String);

/// A decoder's note as the rule it breaks.
pub(super) fn from_note(note: DecodeNote) -> Found {
    let rule = match note.kind {
        NoteKind::ElementOrder => ServerRule::ElementOrder,
        NoteKind::Namespace => ServerRule::Namespace,
    };
    let detail = if note.path.is_empty() {
        note.detail
    } else {
        format!("at {}: {}", note.path, note.detail)
    };
    (rule, detail, note.excerpt)
}

/// The server's MsgID against the one due: 1 for its first message of the session (`last` is
/// `None`), else one more than the last (reference §1.3). Returns the MsgID to count on from (the
/// one received when it is a number, so that one slip is not reported again in every message).
pub(super) fn msg_id(msg: &SyncMl, last: Option<u64>) -> (Option<u64>, Option<Found>) {
    let text = msg.hdr.msg_id.trim();
    let excerpt = leaf("MsgID", text);
    let due = last.map_or(1, |l| l.saturating_add(1));
    match text.parse::<u64>() {
        Ok(id) if id == due => (Some(id), None),
        Ok(id) => {
            let why = match last {
                None => "the server's first message of a session is MsgID 1".to_string(),
                Some(l) => format!("the server's last message was MsgID {l}"),
            };
            let detail = format!(
                "MsgID {id}, where {due} is due: {why}, each next one more (reference §1.3)"
            );
            (Some(id), Some((ServerRule::MsgIdSequence, detail, excerpt)))
        }
        Err(_) => {
            let detail = format!(
                "MsgID {text:?} is not a number; {due} is due (reference §1.3: the server counts its messages 1, 2, 3 …)"
            );
            (last, Some((ServerRule::MsgIdSequence, detail, excerpt)))
        }
    }
}

/// Every command (those in Atomic and Sequence included) whose CmdID an earlier command of the
/// message has, or that is 0, the SyncHdr's (reference §1.5). A command without a CmdID is not
/// compared (the decoder requires one of every DM command; one DM does not define may lack it).
pub(super) fn cmd_ids(msg: &SyncMl) -> Vec<Found> {
    let mut found = Vec::new();
    // Each CmdID seen, with the name of the first command that had it.
    let mut seen: HashMap<&str, String> = HashMap::new();
    // Atomic and Sequence nest at most `xml::MAX_NESTING` deep (the decoders refuse more).
    let mut stack: Vec<&[Command]> = vec![&msg.body.commands];
    let mut order: Vec<&Command> = Vec::new();
    while let Some(commands) = stack.pop() {
        for (i, cmd) in commands.iter().enumerate() {
            order.push(cmd);
            if let Command::Atomic(c) | Command::Sequence(c) = cmd {
                // Its members come right after it, then the rest of this list.
                stack.push(commands.get(i + 1..).unwrap_or_default());
                stack.push(&c.commands);
                break;
            }
        }
    }
    for cmd in order {
        let id = cmd.cmd_id().trim();
        if id.is_empty() {
            continue;
        }
        let name = cmd.name().to_string();
        let excerpt = notes::excerpt(&format!("<{name}>{}…", leaf("CmdID", id)));
        if id == "0" {
            found.push((
                ServerRule::DuplicateCmdId,
                format!(
                    "{name} has CmdID 0, the SyncHdr's: the SyncHdr counts as command 0, so a Status with CmdRef 0 could answer either (reference §1.5)"
                ),
                excerpt,
            ));
            continue;
        }
        match seen.get(id) {
            Some(before) => found.push((
                ServerRule::DuplicateCmdId,
                format!(
                    "{name} has CmdID {id}, as {before} before it: CmdIDs are unique within a message (reference §1.5)"
                ),
                excerpt,
            )),
            None => {
                seen.insert(id, name);
            }
        }
    }
    found
}

/// `<name>text</name>`, the text escaped, as an excerpt.
pub(super) fn leaf(name: &str, text: &str) -> String {
    let mut escaped = String::new();
    crate::syncml::xml::push_escaped(&mut escaped, text);
    notes::excerpt(&format!("<{name}>{escaped}</{name}>"))
}

/// The commands of a message's body by name, as an excerpt: `<SyncBody><Get>…</Get><Final/></SyncBody>`.
pub(super) fn body_outline(msg: &SyncMl) -> String {
    let mut text = String::from("<SyncBody>");
    for cmd in &msg.body.commands {
        text.push_str(&format!("<{0}>…</{0}>", cmd.name()));
    }
    if msg.body.final_flag {
        text.push_str("<Final/>");
    }
    text.push_str("</SyncBody>");
    notes::excerpt(&text)
}
