//! The catalogue of server checks `dmsim conform` runs, as data: each check's stable id, its area,
//! its rule in one line and where the rule comes from (a section of
//! `../shared/reference/oma-dm-facts.md`, "facts §…", and the OMA document that section cites).
//!
//! Only checks that are implemented are listed: the eleven rules the device itself checks in every
//! server message ([`crate::session::ServerRule`], same ids) and the per-message checks of
//! [`super::inspect`]. A test keeps the README's table equal to this catalogue.

/// One check of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Check {
    /// Stable kebab-case id (what an allow file names).
    pub id: &'static str,
    /// The area the summary groups it under.
    pub area: &'static str,
    /// The rule, in one line.
    pub rule: &'static str,
    /// Where the rule comes from.
    pub reference: &'static str,
}

const fn check(
    id: &'static str,
    area: &'static str,
    rule: &'static str,
    reference: &'static str,
) -> Check {
    Check {
        id,
        area,
        rule,
        reference,
    }
}

/// The areas, in the order the summary shows them.
pub const AREAS: [&str; 8] = [
    "transport",
    "synchdr",
    "cmdid",
    "order",
    "status",
    "auth",
    "commands",
    "final",
];

/// Every check, grouped by area.
pub const CHECKS: &[Check] = &[
    // transport
    check("missing-content-type", "transport", "the reply has a Content-Type", "facts §1.1; OMA DM RepPro, DM usage (MIME types)"),
    check("other-encoding", "transport", "the reply is in the encoding the device sent (and asked for with Accept)", "facts §1.1; OMA DM RepPro, DM usage"),
    check("max-msg-size", "transport", "the reply is within the MaxMsgSize the device announced", "facts §1.3; OMA DM Protocol, SyncHdr Meta"),
    check("namespace", "transport", "SyncML 1.2 namespaces (SYNCML:SYNCML1.2, syncml:metinf; WBXML public id 0x1201)", "facts §1.1, §9.1; OMA DM RepPro"),
    // synchdr
    check("ver-dtd", "synchdr", "VerDTD is 1.2", "facts §1.3; OMA DM RepPro, SyncHdr"),
    check("ver-proto", "synchdr", "VerProto is DM/1.2", "facts §1.3; OMA DM RepPro, SyncHdr"),
    check("session-id-echo", "synchdr", "SessionID is the one the device chose for its session", "facts §1.3; OMA DM Protocol, SyncHdr"),
    check("msg-id-sequence", "synchdr", "the server's MsgIDs run 1, 2, 3 … in a session", "facts §1.3; OMA DM RepPro, MsgID"),
    check("hdr-target", "synchdr", "Target LocURI is the device's Source LocURI (its device id)", "facts §1.3; OMA DM RepPro, Target"),
    check("hdr-source", "synchdr", "Source LocURI is present", "facts §1.3; OMA DM RepPro, Source"),
    check("resp-uri", "synchdr", "RespURI, when present, is an absolute http(s) URL", "facts §1.3; OMA DM RepPro, RespURI"),
    // cmdid
    check("duplicate-cmd-id", "cmdid", "CmdIDs are unique within a message, none 0 (the SyncHdr's)", "facts §1.5; OMA DM RepPro, CmdID"),
    // order
    check("element-order", "order", "children in the order of the SyncML DTD", "facts §1.2; OMA DM RepPro DTD"),
    // status
    check("missing-hdr-status", "status", "a Status answers the device's SyncHdr", "facts §1.4, §1.6; OMA DM Protocol, packages 2 and 4"),
    check("msg-ref", "status", "the SyncHdr Status's MsgRef is the MsgID of the device's message", "facts §1.5; OMA DM RepPro, MsgRef"),
    check("hdr-status-first", "status", "the Status for the device's SyncHdr is the body's first command", "facts §1.6; OMA DM Protocol, packages 2 and 4"),
    check("hdr-status-once", "status", "one Status only for the device's SyncHdr", "facts §1.4; OMA DM RepPro, Status"),
    check("hdr-status-refs", "status", "the SyncHdr Status's TargetRef and SourceRef, when present, are the device message's Target and Source", "facts §1.5; OMA DM RepPro, TargetRef/SourceRef"),
    check("status-every-command", "status", "a Status for every command of the device's message but Status, Results and NoResp ones", "facts §1.4; OMA DM RepPro, Status"),
    check("status-once", "status", "at most one Status for each device command", "facts §1.4; OMA DM RepPro, Status"),
    check("status-known-ref", "status", "each Status's MsgRef and CmdRef name a command the device sent in the session", "facts §1.5; OMA DM RepPro, MsgRef/CmdRef"),
    check("status-cmd-name", "status", "each Status's Cmd names the command its CmdRef refers to", "facts §1.5; OMA DM RepPro, Cmd"),
    // auth
    check("missing-chal", "auth", "a 401 or 407 for the device's credentials carries a Chal", "facts §2.5; OMA DM Security, authentication"),
    check("next-nonce-base64", "auth", "a Chal's NextNonce is base64", "facts §2.4; OMA DM Security, nonce"),
    check("auth-212-with-cred", "auth", "212 answers only a message that carried credentials", "facts §2.5; OMA DM Protocol, authentication"),
    check("auth-failure-statuses-only", "auth", "a reply refusing the device's credentials (401, 407) holds Statuses only (an Alert 1223 may end the session)", "facts §2.5; OMA DM Protocol, authentication"),
    // commands
    check("server-commands", "commands", "only commands DM lets a server send: Add, Replace, Delete, Copy, Get, Exec, Alert, Atomic, Sequence, Status", "facts §1.4; OMA DM RepPro, commands in DM"),
    check("server-alert-codes", "commands", "a server Alert's code is 1100-1104, 1222 or 1223", "facts §1.4, §1.7; OMA DM Protocol, alert codes"),
    check("exec-one-item", "commands", "an Exec has exactly one Item", "facts §1.2, §1.4; OMA DM RepPro, Exec"),
    check("cred-only-in-hdr", "commands", "no Cred in a command (only in the SyncHdr)", "facts §1.3; OMA DM RepPro, Cred"),
    check("abort-alone", "commands", "a message with Alert 1223 holds only Statuses beside it, and Final", "facts §1.6; OMA DM Protocol, session abort"),
    // final
    check("final-at-end", "final", "the server's message that ends a session carries Final", "facts §1.5, §1.6; OMA DM Protocol, packages"),
];

/// The check with this id.
pub fn find(id: &str) -> Option<&'static Check> {
    CHECKS.iter().find(|c| c.id == id)
}

/// The README's table of the catalogue (Markdown), one row per check in catalogue order.
pub fn markdown_table() -> String {
    let mut out = String::from("| id | area | rule | reference |\n| --- | --- | --- | --- |\n");
    for c in CHECKS {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            c.id, c.area, c.rule, c.reference
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::ServerRule;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_kebab_case_in_known_areas() {
        let mut seen = HashSet::new();
        for c in CHECKS {
            assert!(seen.insert(c.id), "{} twice", c.id);
            assert!(
                c.id.chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-'),
                "{}",
                c.id
            );
            assert!(AREAS.contains(&c.area), "{}: area {}", c.id, c.area);
            assert!(c.reference.starts_with("facts §"), "{}", c.id);
        }
    }

    #[test]
    fn every_rule_the_device_checks_is_a_check() {
        for rule in ServerRule::ALL {
            assert!(find(rule.id()).is_some(), "{rule}");
        }
    }
}
