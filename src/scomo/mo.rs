//! The SCOMO management object in the device's tree (reference §6.1).
//!
//! The object sits at a configurable root, the `<x>` of the spec: dmsim's default is `./SCOMO`
//! (Nokia's), Verizon's devices use `./SCM`. Its interior node carries the MO type
//! `urn:oma:mo:oma-scomo:1.0`.
//!
//! | node | who makes it | access |
//! | --- | --- | --- |
//! | `<x>/Download` | the device | Get, Add |
//! | `<x>/Download/<p>` and its `PkgID`, `Name`, `PkgURL`, `InstallParams`, `Description`, `EnvType`, `PkgType` | the server (Add) | everything but Exec |
//! | `<x>/Download/<p>/Status` | the device, when the server adds `<p>` | Get |
//! | `<x>/Download/<p>/Operations/{Download,DownloadInstall,DownloadInstallInactive}` | the device, when the server adds `<p>` | Get, Exec |
//! | `<x>/Inventory/Delivered/<d>` and its `PkgID`, `Name`, `Description`, `PkgType`, `Status`, `State` | the device, when a package is delivered | Get |
//! | `<x>/Inventory/Delivered/<d>/Operations/{Install,InstallInactive,Remove}` | the device | Get, Exec |
//! | `<x>/Inventory/Deployed/<c>` and its `ID`, `PkgIDRef`, `Name`, `Description`, `Version`, `EnvType`, `Status`, `State` | the device, when a component is installed | Get |
//! | `<x>/Inventory/Deployed/<c>/Operations/{Activate,Deactivate,Remove}` | the device | Get, Exec |
//! | `<x>/Ext` | the device | Get |
//!
//! The root's ACL grants the server Get, Add, Replace, Delete and Exec, which every node inherits;
//! the access types above say which command each node takes (a Replace of a `Status` is 405, an
//! Add under `Inventory` is 405). The operation nodes are interior nodes (as Nokia's); a `<p>` the
//! server adds inherits the root's ACL, so the server may Replace its fields and Delete it.

use crate::protocol::scomo::{
    DeliveredState, DeliveredStatus, DeployedState, DeployedStatus, DownloadStatus, ScomoOperation,
};
use crate::tree::{uri, Access, Format, Node, Tree, TreeError};

/// The MO type of `<x>`.
pub const MO_TYPE: &str = "urn:oma:mo:oma-scomo:1.0";
/// Where the object sits when a scenario does not say.
pub const DEFAULT_ROOT: &str = "./SCOMO";

/// The operations under `Download/<p>/Operations`.
pub const DOWNLOAD_OPERATIONS: [ScomoOperation; 3] = [
    ScomoOperation::Download,
    ScomoOperation::DownloadInstall,
    ScomoOperation::DownloadInstallInactive,
];
/// The operations under `Inventory/Delivered/<d>/Operations`.
pub const DELIVERED_OPERATIONS: [ScomoOperation; 3] = [
    ScomoOperation::Install,
    ScomoOperation::InstallInactive,
    ScomoOperation::Remove,
];
/// The operations under `Inventory/Deployed/<c>/Operations`.
pub const DEPLOYED_OPERATIONS: [ScomoOperation; 3] = [
    ScomoOperation::Activate,
    ScomoOperation::Deactivate,
    ScomoOperation::Remove,
];

/// The three places an operation node can be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Area {
    /// `Download/<p>`.
    Download,
    /// `Inventory/Delivered/<d>`.
    Delivered,
    /// `Inventory/Deployed/<c>`.
    Deployed,
}

impl Area {
    /// The path of the area, relative to the root.
    pub fn path(self) -> &'static str {
        match self {
            Area::Download => "Download",
            Area::Delivered => "Inventory/Delivered",
            Area::Deployed => "Inventory/Deployed",
        }
    }

    /// The name observations and expectations use.
    pub fn as_str(self) -> &'static str {
        match self {
            Area::Download => "download",
            Area::Delivered => "delivered",
            Area::Deployed => "deployed",
        }
    }

    /// The operations its nodes have.
    pub fn operations(self) -> [ScomoOperation; 3] {
        match self {
            Area::Download => DOWNLOAD_OPERATIONS,
            Area::Delivered => DELIVERED_OPERATIONS,
            Area::Deployed => DEPLOYED_OPERATIONS,
        }
    }
}

/// An operation node, read from its path relative to the root:
/// `<area>/<name>/Operations/<operation>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationAt {
    pub area: Area,
    /// The `<p>`, `<d>` or `<c>`.
    pub name: String,
    pub operation: ScomoOperation,
}

impl OperationAt {
    /// Read an operation node's path relative to the root; `None` when it is not one.
    pub fn parse(path: &str) -> Option<OperationAt> {
        [Area::Download, Area::Delivered, Area::Deployed]
            .into_iter()
            .find_map(|area| {
                let rest = path.strip_prefix(area.path())?.strip_prefix('/')?;
                let (name, op) = rest.split_once("/Operations/")?;
                let operation = ScomoOperation::parse(op)?;
                (uri::is_valid_segment(name)
                    && !name.contains('/')
                    && area.operations().contains(&operation))
                .then(|| OperationAt {
                    area,
                    name: name.to_string(),
                    operation,
                })
            })
    }

    /// Its path relative to the root.
    pub fn path(&self) -> String {
        format!(
            "{}/{}/Operations/{}",
            self.area.path(),
            self.name,
            self.operation
        )
    }
}

/// The URI of a node of the object.
pub fn node(root: &str, path: &str) -> String {
    format!("{root}/{path}")
}

/// The URI of `<area>/<name>` under `root`.
pub fn entry(root: &str, area: Area, name: &str) -> String {
    format!("{root}/{}/{name}", area.path())
}

/// Mount an empty SCOMO object at `root`, writable by `server_id`.
pub fn install(tree: &mut Tree, root: &str, server_id: &str) -> Result<(), TreeError> {
    let acl = format!(
        "Get={server_id}&Add={server_id}&Replace={server_id}&Delete={server_id}&Exec={server_id}"
    );
    tree.insert(
        root,
        Node::interior()
            .access(Access::GET)
            .acl(acl.as_str())
            .mime(MO_TYPE)
            .permanent(),
    )?;
    let read = || Node::interior().access(Access::GET).permanent();
    tree.insert(
        &node(root, "Download"),
        Node::interior()
            .access(Access::GET | Access::ADD)
            .permanent(),
    )?;
    tree.insert(&node(root, "Inventory"), read())?;
    // A server may push a package in-band: Add `Delivered/<d>`, Replace its `Data`.
    tree.insert(
        &node(root, Area::Delivered.path()),
        Node::interior()
            .access(Access::GET | Access::ADD)
            .permanent(),
    )?;
    tree.insert(&node(root, Area::Deployed.path()), read())?;
    tree.insert(&node(root, "Ext"), read())?;
    Ok(())
}

/// A leaf the server reads only.
fn read_only(format: Format, value: &str) -> Node {
    Node::leaf(format, value).access(Access::GET)
}

/// Make `<area>/<name>/Operations/*` under `root`.
fn operations(tree: &mut Tree, base: &str, area: Area) -> Result<(), TreeError> {
    let ops = format!("{base}/Operations");
    if tree.node(&ops).is_none() {
        tree.insert(&ops, Node::interior().access(Access::GET))?;
    }
    for op in area.operations() {
        let uri = format!("{ops}/{op}");
        if tree.node(&uri).is_none() {
            tree.insert(&uri, Node::interior().access(Access::GET | Access::EXEC))?;
        }
    }
    Ok(())
}

/// Complete a `Download/<p>` the server added: its `Status` (Idle, unless it has one) and its
/// operation nodes.
pub fn complete_download(tree: &mut Tree, root: &str, name: &str) -> Result<(), TreeError> {
    let base = entry(root, Area::Download, name);
    let status = format!("{base}/Status");
    match tree.node(&status) {
        Some(n)
            if n.is_leaf()
                && n.format() == Format::Int
                && !n.access_type().contains(Access::REPLACE) => {}
        // A Status the server added itself is not the device's: the device's replaces it.
        _ => {
            tree.remove(&status)?;
            let idle = DownloadStatus::Idle.code().to_string();
            tree.insert(&status, read_only(Format::Int, &idle))?;
        }
    }
    operations(tree, &base, Area::Download)
}

/// Give a `Delivered/<d>` its `Data` leaf, empty, for a package the server pushes in-band
/// (Replace), unless it has one.
pub fn complete_delivered(tree: &mut Tree, root: &str, name: &str) -> Result<(), TreeError> {
    let data = format!("{}/Data", entry(root, Area::Delivered, name));
    if tree.node(&data).is_none() {
        tree.insert(
            &data,
            Node::leaf(Format::Bin, "").access(Access::GET | Access::REPLACE),
        )?;
    }
    Ok(())
}

/// The `<d>` of `Delivered/<d>/Data` (relative to the root), when `path` is one.
pub fn delivered_data(path: &str) -> Option<&str> {
    let rest = path
        .strip_prefix(Area::Delivered.path())?
        .strip_prefix('/')?;
    let name = rest.strip_suffix("/Data")?;
    (uri::is_valid_segment(name) && !name.contains('/')).then_some(name)
}

/// Set an integer leaf the device keeps (`Status`, `State`).
pub fn set_int(tree: &mut Tree, uri: &str, value: u16, now: u64) -> Result<(), TreeError> {
    tree.set_value(uri, value.to_string().as_bytes(), now)
}

/// What `Inventory/Delivered/<d>` shows.
#[derive(Debug, Clone, Copy)]
pub struct DeliveredNodes<'a> {
    pub pkg_id: &'a str,
    pub name: &'a str,
    pub description: &'a str,
    pub pkg_type: &'a str,
    pub status: DeliveredStatus,
    pub state: DeliveredState,
}

/// Make or refresh `Inventory/Delivered/<name>`.
pub fn put_delivered(
    tree: &mut Tree,
    root: &str,
    name: &str,
    shown: &DeliveredNodes<'_>,
) -> Result<(), TreeError> {
    let base = entry(root, Area::Delivered, name);
    tree.insert(&base, Node::interior().access(Access::GET))?;
    for (leaf, format, value) in [
        ("PkgID", Format::Chr, shown.pkg_id.to_string()),
        ("Name", Format::Chr, shown.name.to_string()),
        ("Description", Format::Chr, shown.description.to_string()),
        ("PkgType", Format::Chr, shown.pkg_type.to_string()),
        ("Status", Format::Int, shown.status.code().to_string()),
        ("State", Format::Int, shown.state.code().to_string()),
    ] {
        put_leaf(tree, &format!("{base}/{leaf}"), format, &value)?;
    }
    complete_delivered(tree, root, name)?;
    operations(tree, &base, Area::Delivered)
}

/// What `Inventory/Deployed/<c>` shows.
#[derive(Debug, Clone, Copy)]
pub struct DeployedNodes<'a> {
    pub id: &'a str,
    pub pkg_id_ref: &'a str,
    pub name: &'a str,
    pub description: &'a str,
    pub version: &'a str,
    pub env_type: &'a str,
    pub status: DeployedStatus,
    pub state: DeployedState,
}

/// Make or refresh `Inventory/Deployed/<name>`.
pub fn put_deployed(
    tree: &mut Tree,
    root: &str,
    name: &str,
    shown: &DeployedNodes<'_>,
) -> Result<(), TreeError> {
    let base = entry(root, Area::Deployed, name);
    tree.insert(&base, Node::interior().access(Access::GET))?;
    for (leaf, format, value) in [
        ("ID", Format::Chr, shown.id.to_string()),
        ("PkgIDRef", Format::Chr, shown.pkg_id_ref.to_string()),
        ("Name", Format::Chr, shown.name.to_string()),
        ("Description", Format::Chr, shown.description.to_string()),
        ("Version", Format::Chr, shown.version.to_string()),
        ("EnvType", Format::Chr, shown.env_type.to_string()),
        ("Status", Format::Int, shown.status.code().to_string()),
        ("State", Format::Int, shown.state.code().to_string()),
    ] {
        put_leaf(tree, &format!("{base}/{leaf}"), format, &value)?;
    }
    operations(tree, &base, Area::Deployed)
}

/// Set a read-only leaf, making it when it is missing (a write that changes nothing leaves its
/// VerNo alone).
fn put_leaf(tree: &mut Tree, uri: &str, format: Format, value: &str) -> Result<(), TreeError> {
    match tree.value(uri) {
        Some(v) if v == value.as_bytes() => Ok(()),
        Some(_) => tree.set_value(uri, value.as_bytes(), 0),
        None => tree.insert(uri, read_only(format, value)),
    }
}

/// The names of the nodes under `<area>` in the tree.
pub fn names(tree: &Tree, root: &str, area: Area) -> Vec<String> {
    tree.children(&node(root, area.path()))
        .map(str::to_string)
        .collect()
}

/// A node name for `id` under an area: `id` itself when it is a valid segment, else `fallback`.
pub fn node_name(id: &str, fallback: &str) -> String {
    if uri::is_valid_segment(id) && !id.contains('/') && id != "." && id != ".." {
        id.to_string()
    } else {
        fallback.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syncml::{Data, Item, Location, StatusCode};
    use crate::tree::UriLimits;

    fn item(uri: &str, data: Option<&str>) -> Item {
        Item {
            target: Some(Location::uri(uri)),
            data: data.map(|d| Data::Text(d.into())),
            ..Item::default()
        }
    }

    /// An Add of an interior node, as a server writes it.
    fn interior(uri: &str) -> Item {
        let mut i = item(uri, None);
        i.meta = Some(crate::syncml::Meta::format("node"));
        i
    }

    fn mounted() -> Tree {
        let mut tree = Tree::new(UriLimits::default());
        install(&mut tree, DEFAULT_ROOT, "srv").expect("mounts");
        tree
    }

    #[test]
    fn a_server_adds_a_download_and_the_device_completes_it() {
        let mut tree = mounted();
        assert_eq!(
            tree.node(DEFAULT_ROOT).and_then(|n| n.mime_type()),
            Some(MO_TYPE)
        );
        assert_eq!(
            tree.add("srv", &interior("./SCOMO/Download/App1"), None, 0),
            StatusCode::Ok
        );
        assert_eq!(
            tree.add(
                "srv",
                &item("./SCOMO/Download/App1/PkgURL", Some("http://x/a.pkg")),
                None,
                0
            ),
            StatusCode::Ok
        );
        assert_eq!(
            tree.add("other", &interior("./SCOMO/Download/App2"), None, 0),
            StatusCode::PermissionDenied
        );
        assert_eq!(
            tree.add("srv", &interior("./SCOMO/Inventory/Deployed/X"), None, 0),
            StatusCode::CommandNotAllowed
        );
        complete_download(&mut tree, DEFAULT_ROOT, "App1").expect("completes");
        assert_eq!(tree.value_str("./SCOMO/Download/App1/Status"), Some("10"));
        for op in DOWNLOAD_OPERATIONS {
            let uri = format!("./SCOMO/Download/App1/Operations/{op}");
            assert!(tree.check_exec("srv", &item(&uri, None)).is_ok(), "{uri}");
        }
        assert_eq!(
            tree.replace(
                "srv",
                &item("./SCOMO/Download/App1/Status", Some("40")),
                None,
                0
            ),
            StatusCode::CommandNotAllowed
        );
        assert_eq!(
            tree.replace(
                "srv",
                &item("./SCOMO/Download/App1/PkgURL", Some("http://y")),
                None,
                0
            ),
            StatusCode::Ok
        );
        assert_eq!(
            tree.check_exec("srv", &item("./SCOMO/Download/App1/PkgURL", None)),
            Err(StatusCode::CommandNotAllowed)
        );
    }

    #[test]
    fn a_status_the_server_added_is_replaced_by_the_devices() {
        let mut tree = mounted();
        tree.add("srv", &interior("./SCOMO/Download/P"), None, 0);
        tree.add(
            "srv",
            &item("./SCOMO/Download/P/Status", Some("x")),
            None,
            0,
        );
        complete_download(&mut tree, DEFAULT_ROOT, "P").expect("completes");
        assert_eq!(tree.value_str("./SCOMO/Download/P/Status"), Some("10"));
        assert_eq!(
            tree.node("./SCOMO/Download/P/Status").map(|n| n.format()),
            Some(Format::Int)
        );
        complete_download(&mut tree, DEFAULT_ROOT, "P").expect("idempotent");
    }

    #[test]
    fn inventory_nodes_are_read_only_with_their_operations() {
        let mut tree = mounted();
        put_deployed(
            &mut tree,
            DEFAULT_ROOT,
            "maps",
            &DeployedNodes {
                id: "maps",
                pkg_id_ref: "suite",
                name: "Maps",
                description: "",
                version: "2.1",
                env_type: "Android",
                status: DeployedStatus::Idle,
                state: DeployedState::Active,
            },
        )
        .expect("put");
        assert_eq!(
            tree.value_str("./SCOMO/Inventory/Deployed/maps/State"),
            Some("20")
        );
        assert_eq!(
            tree.replace(
                "srv",
                &item("./SCOMO/Inventory/Deployed/maps/Version", Some("9")),
                None,
                0
            ),
            StatusCode::CommandNotAllowed
        );
        assert!(tree
            .check_exec(
                "srv",
                &item("./SCOMO/Inventory/Deployed/maps/Operations/Activate", None)
            )
            .is_ok());
        assert_eq!(names(&tree, DEFAULT_ROOT, Area::Deployed), ["maps"]);
        tree.remove("./SCOMO/Inventory/Deployed/maps")
            .expect("removes");
        assert!(names(&tree, DEFAULT_ROOT, Area::Deployed).is_empty());
    }

    #[test]
    fn operation_paths_parse_only_where_the_area_has_them() {
        let at = OperationAt::parse("Download/App1/Operations/DownloadInstall").expect("one");
        assert_eq!(
            (at.area, at.name.as_str(), at.operation),
            (Area::Download, "App1", ScomoOperation::DownloadInstall)
        );
        assert_eq!(at.path(), "Download/App1/Operations/DownloadInstall");
        let at = OperationAt::parse("Inventory/Deployed/c/Operations/Remove").expect("one");
        assert_eq!(at.area, Area::Deployed);
        for bad in [
            "Download/App1/Operations/Activate",
            "Inventory/Deployed/c/Operations/Install",
            "Download/a/b/Operations/Download",
            "Download//Operations/Download",
            "Download/App1/Status",
            "Inventory/Delivered/d/Operations/",
        ] {
            assert_eq!(OperationAt::parse(bad), None, "{bad}");
        }
        assert_eq!(node_name("maps", "c1"), "maps");
        assert_eq!(node_name("a/b", "c1"), "c1");
        assert_eq!(node_name("", "c1"), "c1");
    }

    #[test]
    fn only_a_delivered_nodes_data_takes_a_package() {
        assert_eq!(
            delivered_data("Inventory/Delivered/suite/Data"),
            Some("suite")
        );
        for path in [
            "Inventory/Delivered/suite/Data/x",
            "Inventory/Delivered/a/b/Data",
            "Inventory/Delivered//Data",
            "Inventory/Deployed/maps/Data",
            "Download/App1/Data",
            "Inventory/Delivered/suite/PkgID",
        ] {
            assert_eq!(delivered_data(path), None, "{path}");
        }
    }
}
