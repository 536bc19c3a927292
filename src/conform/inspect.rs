//! The per-message checks: pure functions over the decoded messages of one session, each server
//! message beside the device message it answers ([`Turn`]). Each check says when it applied and,
//! when the server broke it, the offending element as an excerpt ([`Tally`]).
//!
//! Choices where the reference leaves room: a SyncHdr Status's TargetRef and SourceRef are
//! optional (Status: `TargetRef*, SourceRef*`), so `hdr-status-refs` compares them only when
//! present, and a TargetRef without the query of the URL the device sent to passes (the form
//! Samsung's client uses for the server's URL, facts §1.5). A command the device sends with
//! NoResp, its Status and Results need no Status (`status-every-command`). The session's last
//! server message is the one that "ends" it only when the session completed or the server aborted
//! it (`final-at-end`). A reply refusing credentials may carry Alert 1223 beside its Statuses (the
//! embedded server does on the third refusal; `auth-failure-statuses-only`).

use crate::syncml::notes;
use crate::syncml::{AlertCode, CmdName, Command, Status, SyncMl};
use std::collections::{BTreeMap, BTreeSet};

/// One device message and the server's answer to it, decoded (`None` when there was no answer the
/// device could decode).
#[derive(Debug, Clone, Copy)]
pub struct Turn<'a> {
    pub device: &'a SyncMl,
    /// Whether the device's message carried HMAC credentials in the transport header.
    pub device_hmac: bool,
    pub server: Option<&'a SyncMl>,
}

/// A check that failed in a message, with the offending excerpt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub id: &'static str,
    pub excerpt: String,
}

/// What the checks saw: which applied, and what failed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub applied: BTreeSet<&'static str>,
    pub findings: Vec<Finding>,
}

impl Tally {
    /// Record that check `id` applied; when `bad` holds an excerpt, that it failed.
    pub fn record(&mut self, id: &'static str, bad: Option<String>) {
        self.applied.insert(id);
        if let Some(excerpt) = bad {
            self.findings.push(Finding { id, excerpt });
        }
    }

    /// Whether check `id` failed.
    pub fn failed(&self, id: &str) -> bool {
        self.findings.iter().any(|f| f.id == id)
    }
}

/// `<name>text</name>` as an excerpt.
fn leaf(name: &str, text: &str) -> String {
    let mut escaped = String::new();
    crate::syncml::xml::push_escaped(&mut escaped, text);
    notes::excerpt(&format!("<{name}>{escaped}</{name}>"))
}

/// A Status in short, as an excerpt.
fn status_excerpt(s: &Status) -> String {
    notes::excerpt(&format!(
        "<Status><CmdID>{}</CmdID><MsgRef>{}</MsgRef><CmdRef>{}</CmdRef><Cmd>{}</Cmd>…<Data>{}</Data></Status>",
        s.cmd_id,
        s.msg_ref,
        s.cmd_ref,
        s.cmd,
        s.code.code()
    ))
}

fn statuses(msg: &SyncMl) -> impl Iterator<Item = &Status> {
    msg.body.commands.iter().filter_map(|c| match c {
        Command::Status(s) => Some(s),
        _ => None,
    })
}

/// Every command of a message, those in Atomic and Sequence too, in document order.
fn all_commands(commands: &[Command]) -> Vec<&Command> {
    let mut out = Vec::new();
    for c in commands {
        out.push(c);
        if let Command::Atomic(inner) | Command::Sequence(inner) = c {
            out.extend(all_commands(&inner.commands));
        }
    }
    out
}

/// Whether a device command needs a Status from the server.
fn needs_status(cmd: &Command) -> bool {
    let no_resp = match cmd {
        Command::Add(c) | Command::Replace(c) | Command::Copy(c) => c.no_resp,
        Command::Alert(c) => c.no_resp,
        Command::Status(_) | Command::Results(_) => return false,
        _ => false,
    };
    !no_resp
}

/// The check of a whole session: every turn, in order; `ended` when the session completed or the
/// server aborted it (its last server message ended it).
pub fn session(turns: &[Turn], ended: bool) -> Tally {
    let mut tally = Tally::default();
    // (MsgID, CmdID) of every device command so far → its name.
    let mut sent: BTreeMap<(String, String), CmdName> = BTreeMap::new();
    for turn in turns {
        for cmd in all_commands(&turn.device.body.commands) {
            sent.insert(
                (turn.device.hdr.msg_id.clone(), cmd.cmd_id().to_string()),
                cmd.name(),
            );
        }
        let Some(server) = turn.server else { continue };
        header(turn.device, server, &mut tally);
        header_status(turn.device, server, &mut tally);
        command_statuses(turn.device, server, &sent, &mut tally);
        auth(turn, server, &mut tally);
        commands(server, &mut tally);
    }
    if ended {
        if let Some(last) = turns.iter().rev().find_map(|t| t.server) {
            let bad = (!last.body.final_flag).then(|| body_outline(last));
            tally.record("final-at-end", bad);
        }
    }
    tally
}

/// The commands of a body by name, as an excerpt.
fn body_outline(msg: &SyncMl) -> String {
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

/// The SyncHdr checks.
pub fn header(device: &SyncMl, server: &SyncMl, tally: &mut Tally) {
    let hdr = &server.hdr;
    tally.record(
        "ver-dtd",
        (hdr.ver_dtd.trim() != "1.2").then(|| leaf("VerDTD", &hdr.ver_dtd)),
    );
    tally.record(
        "ver-proto",
        (hdr.ver_proto.trim() != "DM/1.2").then(|| leaf("VerProto", &hdr.ver_proto)),
    );
    tally.record(
        "session-id-echo",
        (hdr.session_id.trim() != device.hdr.session_id.trim())
            .then(|| leaf("SessionID", &hdr.session_id)),
    );
    tally.record(
        "hdr-target",
        (hdr.target.loc_uri.trim() != device.hdr.source.loc_uri.trim())
            .then(|| format!("<Target>{}</Target>", leaf("LocURI", &hdr.target.loc_uri))),
    );
    tally.record(
        "hdr-source",
        hdr.source
            .loc_uri
            .trim()
            .is_empty()
            .then(|| "<Source><LocURI></LocURI></Source>".to_string()),
    );
    if let Some(uri) = &hdr.resp_uri {
        tally.record(
            "resp-uri",
            (!absolute_http(uri)).then(|| leaf("RespURI", uri)),
        );
    }
}

/// Whether `uri` is an absolute http or https URL with a host.
fn absolute_http(uri: &str) -> bool {
    reqwest::Url::parse(uri.trim()).is_ok_and(|u| {
        matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty())
    })
}

/// The checks of the Status for the device's SyncHdr (its presence and MsgRef are the device's own
/// rules, `missing-hdr-status` and `msg-ref`).
pub fn header_status(device: &SyncMl, server: &SyncMl, tally: &mut Tally) {
    let for_hdr: Vec<&Status> = statuses(server)
        .filter(|s| s.cmd_ref.trim() == "0" || s.cmd == CmdName::SyncHdr)
        .collect();
    let Some(first_hdr) = for_hdr.first() else {
        return;
    };
    let first = server.body.commands.first();
    let is_first = matches!(first, Some(Command::Status(s)) if std::ptr::eq(s, *first_hdr));
    tally.record(
        "hdr-status-first",
        (!is_first).then(|| body_outline(server)),
    );
    tally.record(
        "hdr-status-once",
        (for_hdr.len() > 1).then(|| status_excerpt(for_hdr[1])),
    );
    let target = device.hdr.target.loc_uri.trim();
    let source = device.hdr.source.loc_uri.trim();
    let without_query = |u: &str| u.split('?').next().unwrap_or(u).to_string();
    let bad = first_hdr
        .target_refs
        .iter()
        .find(|t| t.trim() != target && without_query(t.trim()) != without_query(target))
        .map(|t| leaf("TargetRef", t))
        .or_else(|| {
            first_hdr
                .source_refs
                .iter()
                .find(|s| s.trim() != source)
                .map(|s| leaf("SourceRef", s))
        });
    tally.record("hdr-status-refs", bad);
}

/// The checks of the Statuses for the device's commands.
pub fn command_statuses(
    device: &SyncMl,
    server: &SyncMl,
    sent: &BTreeMap<(String, String), CmdName>,
    tally: &mut Tally,
) {
    let msg_id = device.hdr.msg_id.trim();
    let for_cmds: Vec<&Status> = statuses(server)
        .filter(|s| !(s.cmd_ref.trim() == "0" || s.cmd == CmdName::SyncHdr))
        .collect();
    // status-every-command and status-once, over the answered message's commands.
    for cmd in all_commands(&device.body.commands) {
        if !needs_status(cmd) {
            continue;
        }
        let answering: Vec<&&Status> = for_cmds
            .iter()
            .filter(|s| s.msg_ref.trim() == msg_id && s.cmd_ref.trim() == cmd.cmd_id().trim())
            .collect();
        tally.record(
            "status-every-command",
            answering.is_empty().then(|| {
                notes::excerpt(&format!(
                    "no Status for <{0}><CmdID>{1}</CmdID>…</{0}> of MsgID {msg_id}",
                    cmd.name(),
                    cmd.cmd_id()
                ))
            }),
        );
        tally.record(
            "status-once",
            (answering.len() > 1).then(|| status_excerpt(answering[1])),
        );
    }
    for s in for_cmds {
        let key = (s.msg_ref.trim().to_string(), s.cmd_ref.trim().to_string());
        match sent.get(&key) {
            None => tally.record("status-known-ref", Some(status_excerpt(s))),
            Some(name) => {
                tally.record("status-known-ref", None);
                tally.record(
                    "status-cmd-name",
                    (*name != s.cmd).then(|| status_excerpt(s)),
                );
            }
        }
    }
}

/// The authentication checks of a reply.
pub fn auth(turn: &Turn, server: &SyncMl, tally: &mut Tally) {
    let hdr_status =
        statuses(server).find(|s| s.cmd_ref.trim() == "0" || s.cmd == CmdName::SyncHdr);
    let Some(hdr_status) = hdr_status else { return };
    let code = hdr_status.code.code();
    let had_cred = turn.device.hdr.cred.is_some() || turn.device_hmac;
    if code == 212 {
        tally.record(
            "auth-212-with-cred",
            (!had_cred).then(|| status_excerpt(hdr_status)),
        );
    } else if !had_cred {
        tally.record("auth-212-with-cred", None);
    }
    if matches!(code, 401 | 407) {
        let other = server.body.commands.iter().find(|c| match c {
            Command::Status(_) => false,
            Command::Alert(a) => a.code != AlertCode::SessionAbort,
            _ => true,
        });
        tally.record(
            "auth-failure-statuses-only",
            other.map(|_| body_outline(server)),
        );
    }
}

/// The checks of the server's own commands.
pub fn commands(server: &SyncMl, tally: &mut Tally) {
    for cmd in all_commands(&server.body.commands) {
        let name = cmd.name();
        let allowed = !matches!(cmd, Command::Results(_) | Command::Unknown(_));
        tally.record(
            "server-commands",
            (!allowed)
                .then(|| notes::excerpt(&format!("<{name}><CmdID>{}</CmdID>…", cmd.cmd_id()))),
        );
        let cred = match cmd {
            Command::Add(c) | Command::Replace(c) | Command::Copy(c) => c.cred.is_some(),
            Command::Delete(c) => c.cred.is_some(),
            Command::Get(c) => c.cred.is_some(),
            Command::Exec(c) => c.cred.is_some(),
            Command::Alert(c) => c.cred.is_some(),
            _ => false,
        };
        tally.record(
            "cred-only-in-hdr",
            cred.then(|| {
                notes::excerpt(&format!("<{name}><CmdID>{}</CmdID>…<Cred>…", cmd.cmd_id()))
            }),
        );
        match cmd {
            Command::Alert(a) => {
                let code = a.code.code();
                let ok = (1100..=1104).contains(&code) || code == 1222 || code == 1223;
                tally.record(
                    "server-alert-codes",
                    (!ok).then(|| notes::excerpt(&format!("<Alert>…<Data>{code}</Data>…"))),
                );
            }
            Command::Exec(e) => tally.record(
                "exec-one-item",
                (e.items.len() != 1).then(|| {
                    notes::excerpt(&format!(
                        "<Exec><CmdID>{}</CmdID>… with {} Item(s)",
                        e.cmd_id,
                        e.items.len()
                    ))
                }),
            ),
            _ => {}
        }
    }
    let aborts = server
        .body
        .commands
        .iter()
        .any(|c| matches!(c, Command::Alert(a) if a.code == AlertCode::SessionAbort));
    if aborts {
        let other = server.body.commands.iter().any(|c| match c {
            Command::Status(_) => false,
            Command::Alert(a) => a.code != AlertCode::SessionAbort,
            _ => true,
        });
        tally.record(
            "abort-alone",
            (other || !server.body.final_flag).then(|| body_outline(server)),
        );
    }
}
