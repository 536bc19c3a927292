//! The standard management objects: `./DevInfo`, `./DevDetail` and `./DMAcc/<x>` (reference §8.1-§8.4),
//! built so that many devices share their allocations.
//!
//! Sharing works in three layers, each a cheap `Arc` clone of the one below:
//! 1. A static skeleton (built once): every DevInfo / DevDetail / DMAcc node with its Format, Type,
//!    access type, ACL and permanence, values empty.
//! 2. A small cache of per-identity base trees: the skeleton with the identity values filled in
//!    (all but DevId) and the URI limits. Devices of one model and firmware share it.
//! 3. A small cache of per-account node sets: everything of `./DMAcc/<x>` but the credentials
//!    (AAuthName, AAuthSecret, AAuthData), keyed by the account with those blanked.
//!
//! A device then owns only its DevId node, its credential nodes and the map itself. The caches hold at
//! most [`CACHE_LIMIT`] entries each; past that, trees are built uncached (still sharing the skeleton).
//!
//! Access types and ACLs: DevInfo and DevDetail are Get-only for everybody (`Get=*`). `./DMAcc` is
//! Get-only with `Get=*`; `./DMAcc/<x>` carries `Get=<server id>&Replace=<server id>`, inherited by the
//! whole account; its leaves are Get|Replace except AppID, ServerID and AAuthLevel (Get) and
//! AAuthSecret / AAuthData (Replace only: never readable). Every standard node is permanent.

use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError};

use super::acl::{self, AclError};
use super::format::Format;
use super::node::{Access, Node};
use super::uri::{self, UriLimits};
use super::{Tree, TreeError};
use crate::syncml::Item;

/// Root of the DevInfo object.
pub const DEVINFO: &str = "./DevInfo";
/// Root of the DevDetail object.
pub const DEVDETAIL: &str = "./DevDetail";
/// Parent of the DM 1.2 accounts.
pub const DMACC: &str = "./DMAcc";
/// Management object id of DevInfo.
pub const MO_DEVINFO: &str = "urn:oma:mo:oma-dm-devinfo:1.0";
/// Management object id of DevDetail.
pub const MO_DEVDETAIL: &str = "urn:oma:mo:oma-dm-devdetail:1.0";
/// Management object id of a DM account.
pub const MO_DMACC: &str = "urn:oma:mo:oma-dm-dmacc:1.0";
/// AppID of a DM account.
pub const DM_APP_ID: &str = "w7";
/// Most entries each template cache keeps.
pub const CACHE_LIMIT: usize = 64;

/// The DevInfo leaves, in the order Package 1 sends them.
const DEVINFO_LEAVES: [&str; 5] = ["DevId", "Man", "Mod", "DmV", "Lang"];

/// What a device says about itself in DevInfo and DevDetail.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Identity {
    /// `DevInfo/DevId`, e.g. `IMEI:490154203237518`.
    pub dev_id: String,
    /// `DevInfo/Man`.
    pub man: String,
    /// `DevInfo/Mod`.
    pub model: String,
    /// `DevInfo/DmV`, e.g. `1.2`.
    pub dm_version: String,
    /// `DevInfo/Lang`, e.g. `en-US`.
    pub lang: String,
    /// `DevDetail/DevTyp`.
    pub dev_type: String,
    /// `DevDetail/OEM`.
    pub oem: String,
    /// `DevDetail/FwV`.
    pub fw_version: String,
    /// `DevDetail/SwV`.
    pub sw_version: String,
    /// `DevDetail/HwV`.
    pub hw_version: String,
    /// `DevDetail/LrgObj`.
    pub large_object: bool,
}

/// One `AppAuth/<n>` entry of a DM account.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct AuthSettings {
    /// `AAuthType`: `BASIC`, `DIGEST`, `HMAC`, …
    pub auth_type: String,
    /// `AAuthName`.
    pub name: String,
    /// `AAuthSecret`.
    pub secret: String,
    /// `AAuthData` (the nonce).
    pub data: Vec<u8>,
}

/// A DM 1.2 account, `./DMAcc/<account>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct DmAccount {
    /// The `<x>` node name.
    pub account: String,
    /// `ServerID`: the server identifier used in ACLs and Package 0.
    pub server_id: String,
    /// `Name`.
    pub name: String,
    /// `AppAddr/1/Addr`.
    pub addr: String,
    /// `AppAddr/1/AddrType`, e.g. `URI`.
    pub addr_type: String,
    /// `AppAddr/1/Port/1/PortNbr`, if any.
    pub port: Option<u16>,
    /// `AppAuth/1`: AAuthLevel `CLCRED` (the client's credentials towards the server).
    pub client: AuthSettings,
    /// `AppAuth/2`: AAuthLevel `SRVCRED` (the server's credentials towards the client).
    pub server: AuthSettings,
    /// `AAuthPref`, if any.
    pub pref_auth: Option<String>,
}

/// The standard tree of a device: root, DevInfo, DevDetail (with `limits` published under
/// `DevDetail/URI`), DMAcc with one account per entry. Accounts whose name is not a valid node name or
/// whose server id cannot appear in an ACL are skipped with a warning.
pub fn standard_tree(identity: &Identity, accounts: &[DmAccount], limits: UriLimits) -> Tree {
    let mut tree = base_tree(identity, limits);
    tree.fill(&format!("{DEVINFO}/DevId"), identity.dev_id.as_bytes());
    for account in accounts {
        if let Err(error) = add_account(&mut tree, account) {
            tracing::warn!(account = %account.account, %error, "skipping DM account");
        }
    }
    tree
}

/// Add (or replace) `./DMAcc/<account>` in `tree`, creating `./DMAcc` if needed. Device-side: no ACL.
pub fn add_account(tree: &mut Tree, account: &DmAccount) -> Result<(), TreeError> {
    let base = uri::join(DMACC, &account.account);
    if !uri::is_valid_segment(&account.account) {
        return Err(TreeError::InvalidUri(base));
    }
    if !acl::is_valid_server_id(&account.server_id) {
        let source = AclError::InvalidServerId(account.server_id.clone());
        return Err(TreeError::InvalidAcl { uri: base, source });
    }
    let nodes = account_nodes(account);
    let creds = credentials(&base, account);
    let new_bytes: u64 = nodes.iter().map(|(_, n)| n.value_len()).sum::<u64>()
        + creds.iter().map(|(_, v)| v.len() as u64).sum::<u64>();
    let old_bytes: u64 = tree.descendants(&base).map(|(_, n)| n.value_len()).sum();
    tree.check_capacity(old_bytes, new_bytes)
        .map_err(|_| TreeError::DeviceFull)?;
    match tree.node(DMACC) {
        None => tree.insert(DMACC, dmacc_root())?,
        Some(n) if n.is_leaf() => return Err(TreeError::ParentIsLeaf(DMACC.to_string())),
        Some(_) => {}
    }
    tree.remove_subtree(&base);
    for (key, node) in nodes.iter() {
        tree.put_shared(key.clone(), node.clone());
    }
    for (path, value) in creds {
        tree.fill(&path, value);
    }
    Ok(())
}

/// One Item per leaf of `./DevInfo` (the five standard leaves first, in spec order, then any other in
/// URI order): Source = node URI, Meta Format, Data = value. Package 1 sends them in a Replace.
pub fn devinfo_items(tree: &Tree) -> Vec<Item> {
    if tree.node(DEVINFO).is_none() {
        return Vec::new();
    }
    let standard: Vec<String> = DEVINFO_LEAVES
        .iter()
        .map(|l| uri::join(DEVINFO, l))
        .collect();
    let first = standard
        .iter()
        .filter_map(|p| tree.nodes.get_key_value(p.as_str()));
    let others = tree
        .descendants(DEVINFO)
        .filter(|(k, _)| !standard.iter().any(|s| s.as_str() == &***k));
    first
        .chain(others)
        .filter(|(_, n)| n.is_leaf())
        .map(|(k, n)| tree.node_item(k, n))
        .collect()
}

// ---- layer 1: the skeleton ----

static SKELETON: LazyLock<Tree> = LazyLock::new(build_skeleton);

fn dmacc_root() -> Node {
    Node::interior()
        .acl("Get=*")
        .access(Access::GET)
        .permanent()
}

fn std_leaf(format: Format, value: &str, access: Access) -> Node {
    Node::leaf(format, value).access(access).permanent()
}

fn build_skeleton() -> Tree {
    let mut t = Tree::new(UriLimits::UNLIMITED);
    let get = Access::GET;
    let object = |mo: &str| {
        Node::interior()
            .mime(mo)
            .acl("Get=*")
            .access(get)
            .permanent()
    };
    t.put(DEVINFO, object(MO_DEVINFO));
    for leaf in DEVINFO_LEAVES {
        t.put(&uri::join(DEVINFO, leaf), std_leaf(Format::Chr, "", get));
    }
    t.put(DEVDETAIL, object(MO_DEVDETAIL));
    for leaf in ["DevTyp", "OEM", "FwV", "SwV", "HwV"] {
        t.put(&uri::join(DEVDETAIL, leaf), std_leaf(Format::Chr, "", get));
    }
    t.put(
        &uri::join(DEVDETAIL, "LrgObj"),
        std_leaf(Format::Bool, "false", get),
    );
    t.put(
        &uri::join(DEVDETAIL, "URI"),
        Node::interior().access(get).permanent(),
    );
    for leaf in ["MaxDepth", "MaxTotLen", "MaxSegLen"] {
        t.put(
            &format!("{DEVDETAIL}/URI/{leaf}"),
            std_leaf(Format::Chr, "0", get),
        );
    }
    t.put(DMACC, dmacc_root());
    t
}

// ---- layer 2: per-identity base trees ----

/// An identity without DevId, with the limits: what a base tree depends on.
#[derive(PartialEq, Eq)]
struct BaseKey {
    identity: Identity,
    limits: UriLimits,
}

static BASES: LazyLock<Mutex<Vec<(BaseKey, Tree)>>> = LazyLock::new(|| Mutex::new(Vec::new()));

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn base_tree(identity: &Identity, limits: UriLimits) -> Tree {
    let key = BaseKey {
        identity: Identity {
            dev_id: String::new(),
            ..identity.clone()
        },
        limits,
    };
    let mut cache = lock(&BASES);
    if let Some((_, tree)) = cache.iter().find(|(k, _)| *k == key) {
        return tree.clone();
    }
    let tree = fill_identity(&key.identity, limits);
    if cache.len() < CACHE_LIMIT {
        cache.push((key, tree.clone()));
    }
    tree
}

fn fill_identity(id: &Identity, limits: UriLimits) -> Tree {
    let mut t = SKELETON.clone();
    t.limits = limits;
    let info = [
        ("Man", &id.man),
        ("Mod", &id.model),
        ("DmV", &id.dm_version),
        ("Lang", &id.lang),
    ];
    for (leaf, value) in info {
        t.fill(&uri::join(DEVINFO, leaf), value.as_bytes());
    }
    let detail = [
        ("DevTyp", &id.dev_type),
        ("OEM", &id.oem),
        ("FwV", &id.fw_version),
        ("SwV", &id.sw_version),
        ("HwV", &id.hw_version),
    ];
    for (leaf, value) in detail {
        t.fill(&uri::join(DEVDETAIL, leaf), value.as_bytes());
    }
    let large = if id.large_object { "true" } else { "false" };
    t.fill(&uri::join(DEVDETAIL, "LrgObj"), large.as_bytes());
    let uri_limits = [
        ("MaxDepth", limits.max_depth),
        ("MaxTotLen", limits.max_tot_len),
        ("MaxSegLen", limits.max_seg_len),
    ];
    for (leaf, value) in uri_limits {
        t.fill(
            &format!("{DEVDETAIL}/URI/{leaf}"),
            value.to_string().as_bytes(),
        );
    }
    t
}

// ---- layer 3: per-account node sets ----

type NodeSet = Arc<[(Arc<str>, Arc<Node>)]>;

static ACCOUNTS: LazyLock<Mutex<Vec<(DmAccount, NodeSet)>>> =
    LazyLock::new(|| Mutex::new(Vec::new()));

/// The account without its credentials: what its shared node set depends on.
fn account_shape(account: &DmAccount) -> DmAccount {
    let blank = |a: &AuthSettings| AuthSettings {
        auth_type: a.auth_type.clone(),
        ..AuthSettings::default()
    };
    DmAccount {
        client: blank(&account.client),
        server: blank(&account.server),
        ..account.clone()
    }
}

fn account_nodes(account: &DmAccount) -> NodeSet {
    let shape = account_shape(account);
    let mut cache = lock(&ACCOUNTS);
    if let Some((_, nodes)) = cache.iter().find(|(k, _)| *k == shape) {
        return nodes.clone();
    }
    let nodes: NodeSet = build_account(&shape).into();
    if cache.len() < CACHE_LIMIT {
        cache.push((shape, nodes.clone()));
    }
    nodes
}

/// The credential leaves of an account and their values.
fn credentials<'a>(base: &str, account: &'a DmAccount) -> Vec<(String, &'a [u8])> {
    let mut out = Vec::with_capacity(6);
    for (n, auth) in [(1, &account.client), (2, &account.server)] {
        out.push((
            format!("{base}/AppAuth/{n}/AAuthName"),
            auth.name.as_bytes(),
        ));
        out.push((
            format!("{base}/AppAuth/{n}/AAuthSecret"),
            auth.secret.as_bytes(),
        ));
        out.push((format!("{base}/AppAuth/{n}/AAuthData"), &auth.data[..]));
    }
    out
}

fn build_account(acc: &DmAccount) -> Vec<(Arc<str>, Arc<Node>)> {
    let base = uri::join(DMACC, &acc.account);
    let (get, rw) = (Access::GET, Access::GET | Access::REPLACE);
    let chr = |value: &str, access| std_leaf(Format::Chr, value, access);
    let folder = || Node::interior().access(get).permanent();
    let sid = &acc.server_id;
    let mut nodes = vec![
        (
            String::new(),
            Node::interior()
                .mime(MO_DMACC)
                .acl(format!("Get={sid}&Replace={sid}"))
                .access(rw)
                .permanent(),
        ),
        ("/AppID".into(), chr(DM_APP_ID, get)),
        ("/ServerID".into(), chr(sid, get)),
        ("/Name".into(), chr(&acc.name, rw)),
        ("/AppAddr".into(), folder()),
        ("/AppAddr/1".into(), folder()),
        ("/AppAddr/1/Addr".into(), chr(&acc.addr, rw)),
        ("/AppAddr/1/AddrType".into(), chr(&acc.addr_type, rw)),
    ];
    if let Some(port) = acc.port {
        nodes.push(("/AppAddr/1/Port".into(), folder()));
        nodes.push(("/AppAddr/1/Port/1".into(), folder()));
        nodes.push((
            "/AppAddr/1/Port/1/PortNbr".into(),
            chr(&port.to_string(), rw),
        ));
    }
    if let Some(pref) = &acc.pref_auth {
        nodes.push(("/AAuthPref".into(), chr(pref, rw)));
    }
    nodes.push(("/AppAuth".into(), folder()));
    for (n, level, auth) in [(1, "CLCRED", &acc.client), (2, "SRVCRED", &acc.server)] {
        let dir = format!("/AppAuth/{n}");
        nodes.push((format!("{dir}/AAuthLevel"), chr(level, get)));
        nodes.push((format!("{dir}/AAuthType"), chr(&auth.auth_type, rw)));
        nodes.push((format!("{dir}/AAuthName"), chr("", rw)));
        nodes.push((format!("{dir}/AAuthSecret"), chr("", Access::REPLACE)));
        nodes.push((
            format!("{dir}/AAuthData"),
            std_leaf(Format::Bin, "", Access::REPLACE),
        ));
        nodes.push((dir, folder()));
    }
    nodes
        .into_iter()
        .map(|(rel, node)| (Arc::from(format!("{base}{rel}")), Arc::new(node)))
        .collect()
}

#[cfg(test)]
mod tests;
