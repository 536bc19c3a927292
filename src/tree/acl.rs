//! Access control lists: the `ACL` node property (reference §8.5; DM TND §8.3.7.1).
//!
//! Grammar: `<acl> ::= "" | <entry> ( "&" <entry> )*`, `<entry> ::= <cmd> "=" <id> ( "+" <id> )*`,
//! `<cmd> ::= Add | Delete | Exec | Get | Replace`, `<id> ::= "*" | <server id>`, where a server id
//! is printable, without white space and without `=`, `&`, `*`, `+`. Example:
//! `Add=srv1&Get=*&Replace=srv1+srv2`.
//!
//! Semantics:
//! - An empty ACL has no value: the node inherits the ACL of its nearest ancestor that has one
//!   (the tree does that walk). Inheritance is for the whole ACL, never per command: a node whose ACL
//!   lists only `Get` grants nothing else.
//! - `*` grants the command to every server id.
//! - A command present with no server id (`Get=`) is malformed, as is an unknown command name.
//!   A command listed twice is accepted and its ids are merged (the spec does not forbid it).
//! - There is no ACL entry for Copy: it needs the rights of the equivalent Get / Add / Replace.
//!
//! Stored ACLs are strings ([`Node`](super::Node) keeps an `Arc<str>`); they are validated when written
//! and parsed here when checked, which borrows from the string and allocates only the entry list.

use std::fmt;

/// A command an ACL can grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AclCmd {
    Add,
    Delete,
    Exec,
    Get,
    Replace,
}

impl AclCmd {
    /// Every command, in the spec's order.
    pub const ALL: [AclCmd; 5] = [
        AclCmd::Add,
        AclCmd::Delete,
        AclCmd::Exec,
        AclCmd::Get,
        AclCmd::Replace,
    ];

    /// The command name as written in an ACL.
    pub fn as_str(self) -> &'static str {
        match self {
            AclCmd::Add => "Add",
            AclCmd::Delete => "Delete",
            AclCmd::Exec => "Exec",
            AclCmd::Get => "Get",
            AclCmd::Replace => "Replace",
        }
    }

    /// Parse a command name (case-sensitive).
    pub fn parse(s: &str) -> Option<AclCmd> {
        AclCmd::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for AclCmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an ACL string is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AclError {
    #[error("ACL entry {0:?} has no '='")]
    MissingEquals(String),
    #[error("unknown ACL command {0:?}")]
    UnknownCommand(String),
    #[error("ACL command {0} has no server identifier")]
    NoServerId(AclCmd),
    #[error("invalid server identifier {0:?}")]
    InvalidServerId(String),
}

/// One `cmd=id+id` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclEntry<'a> {
    pub cmd: AclCmd,
    pub ids: Vec<&'a str>,
}

/// A parsed ACL, borrowing its server ids from the string.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Acl<'a> {
    entries: Vec<AclEntry<'a>>,
}

impl<'a> Acl<'a> {
    /// Parse an ACL string; the empty string is the empty ACL.
    pub fn parse(s: &'a str) -> Result<Acl<'a>, AclError> {
        if s.is_empty() {
            return Ok(Acl::default());
        }
        let entries = s
            .split('&')
            .map(parse_entry)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Acl { entries })
    }

    /// True when no command is present (the node inherits).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries in the order written.
    pub fn entries(&self) -> &[AclEntry<'a>] {
        &self.entries
    }

    /// Whether `who` may perform `cmd` (by its own id or by `*`).
    pub fn permits(&self, cmd: AclCmd, who: &str) -> bool {
        self.entries
            .iter()
            .filter(|e| e.cmd == cmd)
            .flat_map(|e| e.ids.iter())
            .any(|id| *id == "*" || *id == who)
    }
}

impl fmt::Display for Acl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, entry) in self.entries.iter().enumerate() {
            if i > 0 {
                f.write_str("&")?;
            }
            write!(f, "{}={}", entry.cmd.as_str(), entry.ids.join("+"))?;
        }
        Ok(())
    }
}

fn parse_entry(entry: &str) -> Result<AclEntry<'_>, AclError> {
    let (cmd, ids) = entry
        .split_once('=')
        .ok_or_else(|| AclError::MissingEquals(entry.to_string()))?;
    let cmd = AclCmd::parse(cmd).ok_or_else(|| AclError::UnknownCommand(cmd.to_string()))?;
    if ids.is_empty() {
        return Err(AclError::NoServerId(cmd));
    }
    let ids = ids.split('+').collect::<Vec<_>>();
    if let Some(bad) = ids.iter().find(|id| !is_server_id_or_wildcard(id)) {
        return Err(AclError::InvalidServerId((*bad).to_string()));
    }
    Ok(AclEntry { cmd, ids })
}

/// Whether `id` may appear as a server identifier in an ACL (the wildcard `*` excluded).
pub fn is_valid_server_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| !c.is_control() && !c.is_whitespace() && !"=&*+".contains(c))
}

fn is_server_id_or_wildcard(id: &str) -> bool {
    id == "*" || is_valid_server_id(id)
}

/// Check that `s` is a well-formed ACL.
pub fn validate(s: &str) -> Result<(), AclError> {
    Acl::parse(s).map(|_| ())
}

/// Whether the ACL string `acl` grants `cmd` to `who`; a malformed ACL grants nothing.
pub fn permits(acl: &str, cmd: AclCmd, who: &str) -> bool {
    Acl::parse(acl).is_ok_and(|a| a.permits(cmd, who))
}

/// An ACL granting each of `cmds` to `who` alone (e.g. `Add=srv&Delete=srv&Replace=srv`), or `None` if
/// `who` cannot be written in an ACL.
pub fn grant(cmds: &[AclCmd], who: &str) -> Option<String> {
    if !is_valid_server_id(who) || cmds.is_empty() {
        return None;
    }
    let entries = cmds
        .iter()
        .map(|&cmd| AclEntry {
            cmd,
            ids: vec![who],
        })
        .collect();
    Some(Acl { entries }.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_format_round_trip() {
        let s = "Add=www.sonera.fi-8765&Delete=www.sonera.fi-8765&Replace=www.sonera.fi-8765+321_ibm.com&Get=*";
        let acl = Acl::parse(s).unwrap();
        assert_eq!(acl.entries().len(), 4);
        assert_eq!(
            acl.entries()[2].ids,
            vec!["www.sonera.fi-8765", "321_ibm.com"]
        );
        assert_eq!(acl.to_string(), s);
        assert!(Acl::parse("").unwrap().is_empty());
        assert_eq!(Acl::parse("").unwrap().to_string(), "");
    }

    #[test]
    fn permits_by_id_and_wildcard() {
        let acl = Acl::parse("Get=*&Replace=srv1+srv2&Exec=srv2").unwrap();
        assert!(acl.permits(AclCmd::Get, "anyone"));
        assert!(acl.permits(AclCmd::Replace, "srv1"));
        assert!(acl.permits(AclCmd::Replace, "srv2"));
        assert!(!acl.permits(AclCmd::Replace, "srv3"));
        assert!(!acl.permits(AclCmd::Exec, "srv1"));
        assert!(!acl.permits(AclCmd::Add, "srv1"));
        assert!(!acl.permits(AclCmd::Delete, "srv2"));
        // Duplicated commands merge.
        assert!(permits("Get=a&Get=b", AclCmd::Get, "b"));
        // Ids are case-sensitive.
        assert!(!permits("Get=Srv", AclCmd::Get, "srv"));
    }

    #[test]
    fn malformed_acls_are_rejected_and_grant_nothing() {
        let cases = [
            ("Get", AclError::MissingEquals("Get".into())),
            ("Get=", AclError::NoServerId(AclCmd::Get)),
            ("Fetch=*", AclError::UnknownCommand("Fetch".into())),
            ("get=*", AclError::UnknownCommand("get".into())),
            ("Get=a b", AclError::InvalidServerId("a b".into())),
            ("Get=a++b", AclError::InvalidServerId("".into())),
            ("Get=*x", AclError::InvalidServerId("*x".into())),
            ("Get=*&", AclError::MissingEquals("".into())),
            ("Get=a=b", AclError::InvalidServerId("a=b".into())),
        ];
        for (s, err) in cases {
            assert_eq!(Acl::parse(s).err(), Some(err), "{s:?}");
            assert!(!permits(s, AclCmd::Get, "a"), "{s:?}");
        }
    }

    #[test]
    fn grant_builds_a_valid_acl() {
        let g = grant(&[AclCmd::Add, AclCmd::Delete, AclCmd::Replace], "srv").unwrap();
        assert_eq!(g, "Add=srv&Delete=srv&Replace=srv");
        assert!(validate(&g).is_ok());
        assert_eq!(grant(&[AclCmd::Add], "bad id"), None);
        assert_eq!(grant(&[AclCmd::Add], "*"), None);
        assert_eq!(grant(&[AclCmd::Add], ""), None);
    }
}
