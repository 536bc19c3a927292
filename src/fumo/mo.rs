//! The FUMO management object in the device's tree (reference §5.1).
//!
//! The object sits at a configurable URI, the `<x>` of the spec: dmsim's default is `./FUMO/Pkg1`;
//! Samsung devices use `./FUMO` itself, Verizon `./ManagedObjects/FUMO/<x>`. Its interior node
//! carries the MO type `urn:oma:mo:oma-fumo:1.0`; the Exec targets (Download, Update,
//! DownloadAndUpdate) are interior nodes, as every implementation treats them; State starts at 10.
//!
//! Where the nodes sit under the root is data, a [`Layout`] that maps the engine's roles (package
//! name and version, each operation's Exec node and its `PkgURL` or `PkgData`, State, Ext) to paths:
//! [`Layout::oma`] is the standard one; a vendor's own tree (say `./Software/Package/PkgURL` and an
//! Exec on `./Software/Operations/DownloadAndInstall`) is another layout of the same agent.

use crate::protocol::fumo::{FumoState, Operation};
use crate::tree::{Access, Format, Node, Tree, TreeError};

/// The MO type of `<x>`.
pub const MO_TYPE: &str = "urn:oma:mo:oma-fumo:1.0";
/// Where the object sits when a scenario does not say.
pub const DEFAULT_ROOT: &str = "./FUMO/Pkg1";

/// One operation's nodes in a [`Layout`], relative to the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationNodes {
    pub operation: Operation,
    /// The node the server Execs.
    pub exec: String,
    /// The node of its argument: the `PkgURL` (Download, DownloadAndUpdate) or the `PkgData`
    /// (Update).
    pub argument: String,
}

/// Where an object's nodes sit, relative to its root: the roles of the engine mapped to paths. A
/// role without a path has no node (a layout without `state` keeps the State in the agent only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub pkg_name: Option<String>,
    pub pkg_version: Option<String>,
    /// The operations the layout has, in the order their nodes are made.
    pub operations: Vec<OperationNodes>,
    pub state: Option<String>,
    pub ext: Option<String>,
}

impl Layout {
    /// The standard FUMO layout (reference §5.1).
    pub fn oma() -> Layout {
        let some = |s: &str| Some(s.to_string());
        Layout {
            pkg_name: some("PkgName"),
            pkg_version: some("PkgVersion"),
            operations: [
                Operation::Download,
                Operation::Update,
                Operation::DownloadAndUpdate,
            ]
            .into_iter()
            .map(|operation| OperationNodes {
                operation,
                exec: operation.node().to_string(),
                argument: match operation {
                    Operation::Update => "Update/PkgData".to_string(),
                    _ => format!("{}/PkgURL", operation.node()),
                },
            })
            .collect(),
            state: some("State"),
            ext: some("Ext"),
        }
    }

    /// The nodes of `operation`, when the layout has it.
    pub fn operation(&self, operation: Operation) -> Option<&OperationNodes> {
        self.operations.iter().find(|o| o.operation == operation)
    }

    /// The operation whose Exec node is at `path` (relative to the root).
    pub fn operation_at(&self, path: &str) -> Option<Operation> {
        let path = path.trim_end_matches('/');
        self.operations
            .iter()
            .find(|o| o.exec == path)
            .map(|o| o.operation)
    }
}

impl Default for Layout {
    fn default() -> Layout {
        Layout::oma()
    }
}

/// Mount an empty FUMO object at `root`, its nodes where `layout` puts them, writable by
/// `server_id`.
pub fn install(
    tree: &mut Tree,
    root: &str,
    layout: &Layout,
    server_id: &str,
) -> Result<(), TreeError> {
    let acl = format!("Get={server_id}&Replace={server_id}&Exec={server_id}");
    let read = Access::GET;
    tree.insert(
        root,
        Node::interior()
            .access(read)
            .acl(acl.as_str())
            .mime(MO_TYPE)
            .permanent(),
    )?;
    let leaf = |access: Access, format: Format| Node::leaf(format, "").access(access).permanent();
    for name in [&layout.pkg_name, &layout.pkg_version]
        .into_iter()
        .flatten()
    {
        tree.insert(&node(root, name), leaf(read, Format::Chr))?;
    }
    for op in &layout.operations {
        tree.insert(
            &node(root, &op.exec),
            Node::interior()
                .access(Access::GET | Access::EXEC)
                .permanent(),
        )?;
        let argument = node(root, &op.argument);
        match op.operation {
            Operation::Update => tree.insert(&argument, leaf(Access::REPLACE, Format::Bin))?,
            _ => tree.insert(&argument, leaf(read | Access::REPLACE, Format::Chr))?,
        }
    }
    if let Some(state) = &layout.state {
        let value = FumoState::Idle.value().to_string();
        tree.insert(
            &node(root, state),
            Node::leaf(Format::Int, value).access(read).permanent(),
        )?;
    }
    if let Some(ext) = &layout.ext {
        tree.insert(&node(root, ext), Node::interior().access(read).permanent())?;
    }
    Ok(())
}

/// The URI of a node of the object.
pub fn node(root: &str, name: &str) -> String {
    format!("{root}/{name}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syncml::{Item, Location, StatusCode};
    use crate::tree::UriLimits;

    fn item(uri: &str) -> Item {
        Item {
            target: Some(Location::uri(uri)),
            ..Item::default()
        }
    }

    #[test]
    fn the_object_has_every_node_with_its_access() {
        let mut tree = Tree::new(UriLimits::default());
        install(&mut tree, DEFAULT_ROOT, &Layout::oma(), "srv").expect("mounts");
        assert_eq!(tree.value_str("./FUMO/Pkg1/State"), Some("10"));
        assert_eq!(
            tree.node("./FUMO/Pkg1").and_then(|n| n.mime_type()),
            Some(MO_TYPE)
        );
        for uri in [
            "./FUMO/Pkg1/Download",
            "./FUMO/Pkg1/Update",
            "./FUMO/Pkg1/DownloadAndUpdate",
        ] {
            assert!(tree.check_exec("srv", &item(uri)).is_ok(), "{uri}");
        }
        assert_eq!(
            tree.check_exec("srv", &item("./FUMO/Pkg1/State")),
            Err(StatusCode::CommandNotAllowed)
        );
        assert_eq!(
            tree.check_exec("other", &item("./FUMO/Pkg1/Update")),
            Err(StatusCode::PermissionDenied)
        );
        let mut url = item("./FUMO/Pkg1/DownloadAndUpdate/PkgURL");
        url.data = Some(crate::syncml::Data::Text(
            "https://dl.example/fw.pkg".into(),
        ));
        assert_eq!(tree.replace("srv", &url, None, 0), StatusCode::Ok);
        let mut state = item("./FUMO/Pkg1/State");
        state.data = Some(crate::syncml::Data::Text("100".into()));
        assert_eq!(
            tree.replace("srv", &state, None, 0),
            StatusCode::CommandNotAllowed
        );
    }

    #[test]
    fn a_vendor_layout_puts_the_roles_at_its_own_nodes() {
        let layout = Layout {
            pkg_name: None,
            pkg_version: None,
            operations: vec![OperationNodes {
                operation: Operation::DownloadAndUpdate,
                exec: "Operations/DownloadAndInstall".into(),
                argument: "Package/PkgURL".into(),
            }],
            state: Some("Status/State".into()),
            ext: None,
        };
        let mut tree = Tree::new(UriLimits::default());
        install(&mut tree, "./Software", &layout, "srv").expect("mounts");
        assert!(tree
            .check_exec("srv", &item("./Software/Operations/DownloadAndInstall"))
            .is_ok());
        assert_eq!(tree.value_str("./Software/Package/PkgURL"), Some(""));
        assert_eq!(tree.value_str("./Software/Status/State"), Some("10"));
        assert!(tree.node("./Software/PkgName").is_none());
        assert_eq!(
            layout.operation_at("Operations/DownloadAndInstall"),
            Some(Operation::DownloadAndUpdate)
        );
        assert_eq!(layout.operation_at("Package/PkgURL"), None);
        assert_eq!(layout.operation(Operation::Update), None);
    }

    #[test]
    fn a_samsung_style_root_works_too() {
        let mut tree = Tree::new(UriLimits::default());
        install(&mut tree, "./FUMO", &Layout::oma(), "srv").expect("mounts");
        assert_eq!(tree.value_str("./FUMO/State"), Some("10"));
    }
}
