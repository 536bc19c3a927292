//! Rules the mock server breaks on purpose, when a scenario asks (`server.quirks`), to test how a
//! device copes with a server that deviates from the protocol: a conformant device reads past each
//! and goes on, and a device that records deviations (dmsim's does, as `server-violation`s) says so.
//!
//! The server is otherwise as strict as the specification; a quirk changes only its own messages,
//! never what it checks in the device's. Each keeps the size of a message as the server measures
//! it when it cuts a package to the device's MaxMsgSize.
//!
//! * `duplicate-cmd-id`: in every message of two commands or more, the second has the first's
//!   CmdID (reference §1.5: CmdIDs are unique within a message);
//! * `msg-id-sequence`: the server numbers its messages of a session from 2, not 1 (reference
//!   §1.3);
//! * `element-order`: every Status has its Data before its Cmd (reference §1.2);
//! * `namespace`: the messages claim SyncML 1.1: XML namespace `SYNCML:SYNCML1.1`, WBXML public id
//!   0x0FD3 (reference §1.1, §9.1).

use crate::syncml::{Deviations, SyncMl};

/// A rule the mock server breaks on purpose (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Quirk {
    DuplicateCmdId,
    MsgIdSequence,
    ElementOrder,
    Namespace,
}

impl Quirk {
    /// The quirk's name in scenario files, e.g. `duplicate-cmd-id`.
    pub fn as_str(self) -> &'static str {
        match self {
            Quirk::DuplicateCmdId => "duplicate-cmd-id",
            Quirk::MsgIdSequence => "msg-id-sequence",
            Quirk::ElementOrder => "element-order",
            Quirk::Namespace => "namespace",
        }
    }
}

/// The MsgID of the server's `n`-th message of a session (from 1).
pub(super) fn msg_id(quirks: &[Quirk], n: u32) -> String {
    if quirks.contains(&Quirk::MsgIdSequence) {
        n.saturating_add(1).to_string()
    } else {
        n.to_string()
    }
}

/// Change a numbered reply before it is encoded: the second command takes the first's CmdID.
/// Numbered from 1, that is CmdID 2 becoming 1: the size stays the same.
pub(super) fn renumber(quirks: &[Quirk], reply: &mut SyncMl) {
    if !quirks.contains(&Quirk::DuplicateCmdId) {
        return;
    }
    if let [first, second, ..] = reply.body.commands.as_mut_slice() {
        *second.cmd_id_mut() = first.cmd_id().to_string();
    }
}

/// What the encoder writes out of the rules.
pub(super) fn deviations(quirks: &[Quirk]) -> Deviations {
    Deviations {
        status_data_before_cmd: quirks.contains(&Quirk::ElementOrder),
        syncml_11: quirks.contains(&Quirk::Namespace),
    }
}
