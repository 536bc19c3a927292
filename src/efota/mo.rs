//! The E-FOTA client's subtree: where a `knox-efota` device keeps the client's state for the
//! server to read (dmsim's layout, documented in the README's "Knox E-FOTA" section).
//!
//! ```text
//! ./Ext/EFOTA                 the client (Get by the server, Exec on its operations)
//!   ClientVersion             the client's version (chr)
//!   Device/SalesCode          the device's sales code (chr, e.g. XEU)
//!   Device/CSC                the CSC build the device runs (chr)
//!   Config/                   the client's configuration, replaced by the server
//!   License/Status            the license state (chr: none, retrieved)
//!   DeviceReady               present when the device is ready for operations (bool)
//!   Inventory/                the update installer's inventory: present when it is installed and
//!                             enabled
//!   Operations/               the client's operations (Exec; an Exec on the node itself names one
//!                             in its Data)
//! ```
//!
//! `DeviceReady` and `Inventory` are the client's readiness paths: an operation that finds one
//! missing ends without being carried out (the seed's -5300 and -5330).

use crate::tree::{Access, Format, Node, Tree, TreeError};

/// The client's root.
pub const ROOT: &str = "./Ext/EFOTA";

/// The MO type of the client's root (dmsim's).
pub const MO_TYPE: &str = "org.dmsim/1.0/KnoxEFOTA";

/// The device-ready path under the root.
pub const DEVICE_READY: &str = "DeviceReady";

/// The inventory path under the root.
pub const INVENTORY: &str = "Inventory";

/// The client's operations under the root (an Exec on the node itself names one in its Data:
/// [`super::dispatch`]).
pub const OPERATIONS: &str = "Operations";

/// What the subtree shows of the device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientInfo {
    pub client_version: String,
    pub sales_code: String,
    pub csc: String,
}

/// `root` joined with `path`.
pub fn node(root: &str, path: &str) -> String {
    format!("{root}/{path}")
}

/// Make the client's subtree at `root`, writable by `server_id`.
pub fn install(
    tree: &mut Tree,
    root: &str,
    server_id: &str,
    info: &ClientInfo,
) -> Result<(), TreeError> {
    // `./Ext` is the standard place of vendor extensions; it may already be there.
    if let Some((parent, _)) = root.rsplit_once('/') {
        if parent != "." && tree.node(parent).is_none() {
            tree.insert(parent, Node::interior().access(Access::GET).permanent())?;
        }
    }
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
    let read = |value: &str| Node::leaf(Format::Chr, value).access(Access::GET);
    tree.insert(&node(root, "ClientVersion"), read(&info.client_version))?;
    tree.insert(&node(root, "Device"), Node::interior().access(Access::GET))?;
    tree.insert(&node(root, "Device/SalesCode"), read(&info.sales_code))?;
    tree.insert(&node(root, "Device/CSC"), read(&info.csc))?;
    tree.insert(
        &node(root, "Config"),
        Node::interior().access(Access::GET | Access::ADD | Access::REPLACE),
    )?;
    tree.insert(&node(root, "License"), Node::interior().access(Access::GET))?;
    tree.insert(&node(root, "License/Status"), read("none"))?;
    tree.insert(
        &node(root, DEVICE_READY),
        Node::leaf(Format::Bool, "true").access(Access::GET | Access::REPLACE | Access::DELETE),
    )?;
    tree.insert(
        &node(root, INVENTORY),
        Node::interior().access(Access::GET | Access::DELETE),
    )?;
    tree.insert(
        &node(root, OPERATIONS),
        Node::interior().access(Access::GET | Access::EXEC),
    )?;
    Ok(())
}
