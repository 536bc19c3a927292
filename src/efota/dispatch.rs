//! An Exec on the E-FOTA client's `Operations` node: the server names the operation to run in the
//! Exec's Data (`Data = "<Name>"`), as a command interpreter takes a command by name. The client
//! runs `Operations/<Name>` as if it had been Exec'd at that node when it has that operation (a
//! node under `Operations` that takes Exec), and refuses a name it does not have, or no name at
//! all, 403 Forbidden: "the command was not found", the seed's -6403 (-(6000 + 403), reference
//! §10; reported by [`super::statuses`]).
//!
//! dmsim's choice: Samsung does not publish how the real client takes its operations. A missing
//! node keeps its own status (404, -6404 "node not found") for an Exec on `Operations/<Name>`
//! itself: there the server named a node, here a command.

use super::mo;
use crate::tree::{Access, Tree};

/// What an Exec on a node of the client asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Named {
    /// Not the `Operations` node: an Exec at the node itself.
    Node,
    /// The operation node the Exec's Data names.
    Operation(String),
    /// A name the client has no operation for (or none): refused 403.
    NotFound,
}

/// The `Operations` node of a client at `root`.
pub(super) fn operations(root: &str) -> String {
    mo::node(root, mo::OPERATIONS)
}

/// What an Exec on `uri` with `data` asks of the client at `root`, whose nodes are in `tree`.
pub(super) fn named(root: &str, uri: &str, data: Option<&str>, tree: &Tree) -> Named {
    let bare = |u: &str| u.trim_start_matches("./").trim_end_matches('/').to_string();
    if bare(uri) != bare(&operations(root)) {
        return Named::Node;
    }
    let name = data.map(str::trim).unwrap_or_default();
    if name.is_empty() || name.contains('/') || name.contains('?') {
        return Named::NotFound;
    }
    let node = mo::node(&operations(root), name);
    match tree.node(&node) {
        Some(n) if n.access_type().contains(Access::EXEC) => Named::Operation(node),
        _ => Named::NotFound,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::{Format, Node};

    fn tree() -> Tree {
        let mut tree = Tree::new(crate::tree::UriLimits::default());
        tree.insert("./Ext", Node::interior()).expect("ext");
        tree.insert(mo::ROOT, Node::interior()).expect("root");
        tree.insert(&operations(mo::ROOT), Node::interior())
            .expect("operations");
        tree.insert(
            &mo::node(&operations(mo::ROOT), "Scan"),
            Node::leaf(Format::Null, "").access(Access::GET | Access::EXEC),
        )
        .expect("an operation");
        tree.insert(
            &mo::node(&operations(mo::ROOT), "Notes"),
            Node::leaf(Format::Chr, "").access(Access::GET),
        )
        .expect("not an operation");
        tree
    }

    #[test]
    fn the_data_names_an_operation_the_client_has_or_none() {
        let tree = tree();
        let ops = "./Ext/EFOTA/Operations";
        assert_eq!(
            named(mo::ROOT, ops, Some("Scan"), &tree),
            Named::Operation("./Ext/EFOTA/Operations/Scan".into())
        );
        assert_eq!(
            named(mo::ROOT, "Ext/EFOTA/Operations/", Some(" Scan "), &tree),
            Named::Operation("./Ext/EFOTA/Operations/Scan".into())
        );
        for missing in [
            Some("Rollback"),
            Some("Notes"),
            Some(""),
            None,
            Some("Scan/.."),
        ] {
            assert_eq!(
                named(mo::ROOT, ops, missing, &tree),
                Named::NotFound,
                "{missing:?}"
            );
        }
        assert_eq!(
            named(mo::ROOT, "./Ext/EFOTA/Operations/Scan", Some("x"), &tree),
            Named::Node
        );
        assert_eq!(named(mo::ROOT, "./FUMO/Update", None, &tree), Named::Node);
    }

    /// The client refuses a name it does not have 403; a name it has goes to that operation's
    /// node (dmsim's client acts on none of them yet: a plain operation, `None`), and any other
    /// node is the client's ordinary Exec.
    #[test]
    fn the_client_refuses_a_command_it_does_not_have_403() {
        use crate::efota::{mo::ClientInfo, Efota, EfotaConfig};
        use crate::engine::Agent;
        use crate::syncml::StatusCode;
        let info = ClientInfo {
            client_version: "3.6.12".into(),
            sales_code: "BTU".into(),
            csc: "CSC".into(),
        };
        let efota = Efota::new(EfotaConfig::new(info, crate::profile::Platform::Android));
        let tree = tree();
        let exec =
            |uri: &str, data: Option<&str>| efota.exec_with_data(uri, data, None, &tree, false);
        assert_eq!(
            exec("./Ext/EFOTA/Operations", Some("Rollback")),
            Some(Err(StatusCode::Forbidden))
        );
        assert_eq!(exec("./Ext/EFOTA/Operations", Some("Scan")), None);
        assert_eq!(exec("./Ext/EFOTA/DeviceReady", Some("Rollback")), None);
    }
}
