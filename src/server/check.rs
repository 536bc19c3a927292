//! The rules the mock server checks in every device message, beyond those of the session's flow
//! (MsgIDs, a Status for every command: see `session`). Each breach becomes a [`DeviceViolation`]
//! naming the rule, the device's MsgID and the CmdID of the command that broke it.
//!
//! * MaxMsgSize (reference §1.3): the request body as received is no larger than the MaxMsgSize the
//!   server announced in its SyncHdr. The server announces it in every message, so the rule holds
//!   from the device's second message on (Package 1 goes before the device can know the limit;
//!   a Package 1 sent again after a challenge is held to it).
//! * MaxObjSize (DM Protocol §2.2: the recipient "MUST NOT send any single object larger than this
//!   size"): items of Replace and Alert here; Results, which may come in chunks, as the server
//!   reassembles them (see `session`).
//! * Status codes (reference §3): a code outside the DM table (0, 299, …) is a breach.
//! * 213 (DM Protocol §2.2: on a data object with MoreData the recipient "MUST respond with a status
//!   response 213"): a chunk the server sent with MoreData is answered 213 or refused with a
//!   failure code, never with another success code (200 would claim a command executed whose data
//!   has not all arrived); and 213 answers nothing but such a chunk.
//! * `chr` data (reference §8.5: values are UTF-8 strings; `chr` is character data, the default
//!   Meta Format): items of Results, Replace, Alert and Status whose Format is `chr` carry no NUL.
//! * The server's SyncHdr (DM Protocol §2.4.1: "the SyncHdr … MUST be responded with a Status"):
//!   every device message after the server's first message of the session answers the server's
//!   last SyncHdr, a Package 1 sent again after a challenge included; and a refusal of the
//!   server's credentials (401, 407) carries a Chal (reference §2).

use super::record::{DeviceViolation, Rule};
use crate::syncml::{CmdName, Command, Item, Meta, Status, StatusCode, SyncMl};
use std::collections::HashSet;

/// A command the server sent: (its MsgID, its CmdID).
pub(super) type SentRef = (String, String);

fn violation(rule: Rule, msg: &SyncMl, cmd_id: Option<&str>, detail: String) -> DeviceViolation {
    DeviceViolation {
        rule,
        msg_id: msg.hdr.msg_id.clone(),
        cmd_id: cmd_id.map(str::to_string),
        detail,
    }
}

/// The message's size as received against the server's announced MaxMsgSize.
pub(super) fn max_msg_size(msg: &SyncMl, size: usize, max: u64) -> Option<DeviceViolation> {
    (u64::try_from(size).unwrap_or(u64::MAX) > max).then(|| {
        violation(
            Rule::MaxMsgSize,
            msg,
            None,
            format!("{size} bytes, over the server's MaxMsgSize of {max}"),
        )
    })
}

/// Every Status's code against the DM table, and 213 against the chunks the server sent with
/// MoreData (`chunks`).
pub(super) fn statuses(msg: &SyncMl, chunks: &HashSet<SentRef>) -> Vec<DeviceViolation> {
    let mut found = Vec::new();
    for cmd in &msg.body.commands {
        let Command::Status(s) = cmd else { continue };
        let what = answered(s);
        if let StatusCode::Other(code) = s.code {
            found.push(violation(
                Rule::StatusCode,
                msg,
                Some(&s.cmd_id),
                format!("Status {code} for {what} is not a DM status code"),
            ));
        }
        let chunk = chunks.contains(&(s.msg_ref.clone(), s.cmd_ref.clone()));
        let detail = match s.code {
            StatusCode::ChunkAccepted if !chunk => Some(format!(
                "Status 213 (Chunked item accepted and buffered) for {what}, which was not a chunk with MoreData"
            )),
            code if chunk && code.is_success() && code != StatusCode::ChunkAccepted => {
                Some(format!(
                    "Status {} for {what}, a chunk sent with MoreData: 213 (Chunked item accepted and buffered) is due",
                    code.code()
                ))
            }
            _ => None,
        };
        if let Some(detail) = detail {
            found.push(violation(Rule::ChunkStatus, msg, Some(&s.cmd_id), detail));
        }
    }
    found
}

/// The Status for the server's last SyncHdr (`answers`, its MsgID, once the server has sent one),
/// and the Chal of a refusal.
pub(super) fn hdr_status(msg: &SyncMl, answers: Option<&str>) -> Vec<DeviceViolation> {
    let mut found = Vec::new();
    let hdr = msg.body.commands.iter().find_map(|c| match c {
        Command::Status(s) if s.cmd == CmdName::SyncHdr => Some(s),
        _ => None,
    });
    match (hdr, answers) {
        (None, Some(last)) => found.push(violation(
            Rule::HdrStatus,
            msg,
            None,
            format!("no Status for the SyncHdr of server message {last}"),
        )),
        (Some(s), _)
            if matches!(
                s.code,
                StatusCode::InvalidCredentials | StatusCode::MissingCredentials
            ) && s.chal.is_none() =>
        {
            found.push(violation(
                Rule::MissingChal,
                msg,
                Some(&s.cmd_id),
                format!(
                    "Status {} for the server's SyncHdr without a Chal",
                    s.code.code()
                ),
            ))
        }
        _ => {}
    }
    found
}

/// What a Status answers, in words.
fn answered(s: &Status) -> String {
    if s.cmd == CmdName::SyncHdr {
        format!("the SyncHdr of server message {}", s.msg_ref)
    } else {
        format!("{} {} of server message {}", s.cmd, s.cmd_ref, s.msg_ref)
    }
}

/// `chr` items carry no NUL.
pub(super) fn chr_data(msg: &SyncMl) -> Vec<DeviceViolation> {
    let mut found = Vec::new();
    for cmd in &msg.body.commands {
        let cmd_meta = match cmd {
            Command::Results(r) => r.meta.as_ref(),
            Command::Replace(c) | Command::Add(c) => c.meta.as_ref(),
            Command::Alert(_) | Command::Status(_) => None,
            _ => continue,
        };
        for item in cmd.items() {
            let Some(data) = &item.data else { continue };
            if !is_chr(item, cmd_meta) {
                continue;
            }
            if let Some(at) = data.as_bytes().iter().position(|b| *b == 0) {
                let which = match cmd {
                    Command::Status(s) => format!("an item of the Status for {}", answered(s)),
                    _ => format!("{} item {}", cmd.name(), item_uri(item)),
                };
                found.push(violation(
                    Rule::ChrData,
                    msg,
                    Some(cmd.cmd_id()),
                    format!("{which} has chr data with a NUL at byte {at}"),
                ));
            }
        }
    }
    found
}

/// Whether an item's Format is `chr`: its own Meta, else its command's, else the default.
fn is_chr(item: &Item, cmd_meta: Option<&Meta>) -> bool {
    item.meta
        .as_ref()
        .and_then(|m| m.format.as_deref())
        .or_else(|| cmd_meta.and_then(|m| m.format.as_deref()))
        .is_none_or(|f| f.trim().eq_ignore_ascii_case("chr"))
}

/// The LocURI that names an item (Source for what the device sends, else Target).
pub(super) fn item_uri(item: &Item) -> &str {
    item.source_uri()
        .or_else(|| item.target_uri())
        .unwrap_or("(no LocURI)")
}

/// Items of Replace and Alert against the server's MaxObjSize (Results are checked as they are
/// reassembled).
pub(super) fn whole_objects(msg: &SyncMl, max: u64) -> Vec<DeviceViolation> {
    let mut found = Vec::new();
    for cmd in &msg.body.commands {
        if !matches!(
            cmd,
            Command::Replace(_) | Command::Add(_) | Command::Alert(_)
        ) {
            continue;
        }
        for item in cmd.items() {
            let len = item.data.as_ref().map_or(0, |d| d.as_bytes().len());
            let declared = item.meta.as_ref().and_then(|m| m.size).unwrap_or(0);
            let size = u64::try_from(len).unwrap_or(u64::MAX).max(declared);
            if size > max {
                found.push(object_too_large(msg, cmd, item, size, max));
            }
        }
    }
    found
}

/// An object of `size` bytes over the server's MaxObjSize.
pub(super) fn object_too_large(
    msg: &SyncMl,
    cmd: &Command,
    item: &Item,
    size: u64,
    max: u64,
) -> DeviceViolation {
    violation(
        Rule::MaxObjSize,
        msg,
        Some(cmd.cmd_id()),
        format!(
            "{} item {} is an object of {size} bytes, over the server's MaxObjSize of {max}",
            cmd.name(),
            item_uri(item)
        ),
    )
}

/// The chunks with MoreData among the commands of a message the server sends (members of Atomic
/// and Sequence included).
pub(super) fn chunks_in(msg: &SyncMl) -> Vec<SentRef> {
    fn walk(cmd: &Command, msg_id: &str, out: &mut Vec<SentRef>) {
        if let Command::Atomic(c) | Command::Sequence(c) = cmd {
            for member in &c.commands {
                walk(member, msg_id, out);
            }
        }
        if cmd.items().iter().any(|i| i.more_data) {
            out.push((msg_id.to_string(), cmd.cmd_id().to_string()));
        }
    }
    let mut out = Vec::new();
    for cmd in &msg.body.commands {
        walk(cmd, &msg.hdr.msg_id, &mut out);
    }
    out
}
