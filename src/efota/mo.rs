//! The E-FOTA client's subtree: where a `knox-efota` device keeps the client's state for the
//! server to read (dmsim's layout, documented in the README's "Knox E-FOTA" section).
//!
//! ```text
//! ./Ext/EFOTA                 the client (Get by the server, Exec on its operations)
//!   ClientVersion             the client's version (chr)
//!   Device/SalesCode          the device's sales code (chr, e.g. XEU)
//!   Device/CSC                the CSC build the device runs (chr)
//!   Config/                   the client's configuration, replaced by the server
//!     Profile                 a configuration profile to install (chr, key=value lines; Replace)
//!     ProfileData             its additional profile data (chr or bin; Replace; may stay empty)
//!     Settings/<key>          the settings the client applied (chr; Get)
//!   License/URL               where the license is fetched from (chr; Replace)
//!   License/Status            the license state (chr: none, retrieved)
//!   License/Key               the license key kept (chr; empty without a license)
//!   License/Expires           the last day the license is valid (chr, YYYY-MM-DD)
//!   Items/<n>/URL             the download descriptors of the items to download (chr; the server
//!                             adds them)
//!   DeviceReady               present when the device is ready for operations (bool)
//!   Inventory/                the update installer's inventory: present when it is installed and
//!                             enabled
//!     <id>/Version, <id>/Type the items the client installed (chr; Get)
//!   Operations/               the client's operations (Exec, answered 202; each reports its end
//!                             in an E-FOTA report; an Exec on the node itself names one in its
//!                             Data, and a name the client does not have is refused 403)
//!     RetrieveLicense         fetch the license at License/URL, check it, keep it (956, 957)
//!     InstallProfile          apply Config/Profile and Config/ProfileData (0, -1460, -1461,
//!                             -1462, 1465, 1464)
//!     DownloadItems           download every Items/<n>/URL through OMA Download and install each
//!                             item (900, the DL statuses, 907, 955, 958, 959, 960, 970)
//! ```
//!
//! `DeviceReady` and `Inventory` are the client's readiness paths: an operation that finds one
//! missing ends without being carried out (the seed's -5300 and -5330). The client's operations are
//! [`super::client`]'s.

use crate::tree::{Access, Format, Node, Tree, TreeError};

/// The client's root.
pub const ROOT: &str = "./Ext/EFOTA";

/// The MO type of the client's root (dmsim's).
pub const MO_TYPE: &str = "org.dmsim/1.0/KnoxEFOTA";

/// The device-ready path under the root.
pub const DEVICE_READY: &str = "DeviceReady";

/// The inventory path under the root.
pub const INVENTORY: &str = "Inventory";

/// The license URL under the root.
pub const LICENSE_URL: &str = "License/URL";
/// The license state under the root (`none`, `retrieved`).
pub const LICENSE_STATUS: &str = "License/Status";
/// The license key under the root.
pub const LICENSE_KEY: &str = "License/Key";
/// The license's last valid day under the root.
pub const LICENSE_EXPIRES: &str = "License/Expires";
/// The configuration profile under the root.
pub const CONFIG_PROFILE: &str = "Config/Profile";
/// The additional profile data under the root.
pub const CONFIG_PROFILE_DATA: &str = "Config/ProfileData";
/// The applied settings under the root.
pub const CONFIG_SETTINGS: &str = "Config/Settings";
/// The items to download under the root (`Items/<n>/URL`).
pub const ITEMS: &str = "Items";
/// The operations under the root.
pub const OPERATIONS: &str = "Operations";

/// The client's operations: the node names under `Operations`.
pub const OPERATION_NAMES: [&str; 3] = ["RetrieveLicense", "InstallProfile", "DownloadItems"];

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
    tree.insert(&node(root, LICENSE_STATUS), read("none"))?;
    install_client_nodes(tree, root)?;
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
    for name in OPERATION_NAMES {
        tree.insert(
            &node(root, &format!("{OPERATIONS}/{name}")),
            Node::interior()
                .access(Access::GET | Access::EXEC)
                .permanent(),
        )?;
    }
    Ok(())
}

/// The nodes of the client's own operations (license, configuration, items), see the module docs.
fn install_client_nodes(tree: &mut Tree, root: &str) -> Result<(), TreeError> {
    let read = |value: &str| Node::leaf(Format::Chr, value).access(Access::GET);
    let server_set = || Node::leaf(Format::Chr, "").access(Access::GET | Access::REPLACE);
    tree.insert(&node(root, LICENSE_URL), server_set())?;
    tree.insert(&node(root, LICENSE_KEY), read(""))?;
    tree.insert(&node(root, LICENSE_EXPIRES), read(""))?;
    tree.insert(&node(root, CONFIG_PROFILE), server_set())?;
    tree.insert(&node(root, CONFIG_PROFILE_DATA), server_set())?;
    tree.insert(
        &node(root, CONFIG_SETTINGS),
        Node::interior().access(Access::GET),
    )?;
    tree.insert(
        &node(root, ITEMS),
        Node::interior().access(Access::GET | Access::ADD | Access::DELETE | Access::REPLACE),
    )?;
    Ok(())
}
