//! The DM management tree of one device (reference §1.4, §3, §8).
//!
//! A [`Tree`] maps canonical URIs (`.`, `./A/B`, see [`uri`]) to shared nodes
//! (`BTreeMap<Arc<str>, Arc<Node>>`). Cloning a tree therefore copies only the map and bumps reference
//! counts: a device's tree cloned from a template shares every node it has not changed, and an Atomic
//! snapshot is `tree.clone()`. Writes replace a node's `Arc` (copy-on-write via `Arc::make_mut`),
//! keeping the key allocation. Children of a node are a range query on the key prefix.
//!
//! Two faces:
//! - Server commands ([`Tree::add`], [`Tree::replace`], [`Tree::delete`], [`Tree::copy`],
//!   [`Tree::get`], [`Tree::check_exec`]) take one `Item`, check URI, access type and ACL, and answer a
//!   [`StatusCode`]. A refused command leaves the tree unchanged. See `commands.rs`, `props.rs` and,
//!   for whole subtrees in one item (`?list=TNDS`, TNDS payloads), `tnds.rs`.
//! - Device-side access ([`Tree::insert`], [`Tree::set_value`], [`Tree::value`], …) for agents,
//!   setup and expectations: no ACL, errors as [`TreeError`].
//!
//! Capacity: with [`Tree::with_capacity_bytes`], the sum of leaf value sizes may not exceed the
//! capacity; a server write that would is 420 (Device full), a device-side one [`TreeError::DeviceFull`].
//!
//! Decisions where the spec is silent are documented on the item they concern; the main ones:
//! VerNo/TStamp of a parent do not change when children are added or removed; device-side writes do
//! not check URI limits (the device may hold nodes a server cannot address) but do check capacity.

pub mod acl;
mod commands;
mod format;
mod node;
mod props;
pub mod stdobj;
mod tnds;
mod tstamp;
pub mod uri;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod testutil;

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

pub use acl::{Acl, AclCmd, AclEntry, AclError};
pub use format::{decode_b64, encode_b64, Format};
pub use node::{Access, Node, TEXT_PLAIN};
pub use stdobj::{devinfo_items, standard_tree, AuthSettings, DmAccount, Identity};
pub use tnds::{TndsError, TNDS_WBXML, TNDS_XML};
pub use tstamp::format_tstamp;
pub use uri::{ListKind, Property, Query, TndsProp, TndsSelection, UriLimits};

use crate::syncml::StatusCode;

/// The ACL of a new tree's root (reference §8.5).
pub const ROOT_ACL: &str = "Add=*&Get=*";

/// Errors of the device-side API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    #[error("invalid URI {0:?}")]
    InvalidUri(String),
    #[error("no node at {0}")]
    NotFound(String),
    #[error("{0} is an interior node")]
    NotALeaf(String),
    #[error("{0} is a leaf and cannot have children")]
    ParentIsLeaf(String),
    #[error("{0} has children and cannot become a leaf")]
    HasChildren(String),
    #[error("the root must be an interior node")]
    RootNotInterior,
    #[error("the root cannot be removed")]
    RootNotRemovable,
    #[error("value of {uri} is not valid {format}")]
    InvalidValue { uri: String, format: Format },
    #[error("invalid ACL on {uri}: {source}")]
    InvalidAcl {
        uri: String,
        #[source]
        source: AclError,
    },
    #[error("device full")]
    DeviceFull,
}

impl TreeError {
    /// The status a server command would get for the same problem.
    pub fn status(&self) -> StatusCode {
        match self {
            TreeError::InvalidUri(_)
            | TreeError::InvalidValue { .. }
            | TreeError::InvalidAcl { .. } => StatusCode::BadRequest,
            TreeError::NotFound(_) => StatusCode::NotFound,
            TreeError::NotALeaf(_)
            | TreeError::ParentIsLeaf(_)
            | TreeError::HasChildren(_)
            | TreeError::RootNotInterior
            | TreeError::RootNotRemovable => StatusCode::CommandNotAllowed,
            TreeError::DeviceFull => StatusCode::DeviceFull,
        }
    }
}

/// The management tree of one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tree {
    nodes: BTreeMap<Arc<str>, Arc<Node>>,
    limits: UriLimits,
    capacity: Option<u64>,
    /// Sum of leaf value sizes.
    used: u64,
}

impl Tree {
    /// A tree with only the root `.`: ACL [`ROOT_ACL`], access Get|Add, permanent.
    pub fn new(limits: UriLimits) -> Tree {
        let root = Node::interior()
            .acl(ROOT_ACL)
            .access(Access::GET | Access::ADD)
            .permanent();
        let mut nodes = BTreeMap::new();
        nodes.insert(Arc::from("."), Arc::new(root));
        Tree {
            nodes,
            limits,
            capacity: None,
            used: 0,
        }
    }

    /// Limit the sum of leaf value sizes to `cap` bytes (`None` = unlimited).
    pub fn with_capacity_bytes(mut self, cap: Option<u64>) -> Tree {
        self.capacity = cap;
        self
    }

    /// The URI limits server commands are checked against.
    pub fn limits(&self) -> UriLimits {
        self.limits
    }

    /// The capacity in bytes, if limited.
    pub fn capacity_bytes(&self) -> Option<u64> {
        self.capacity
    }

    /// Sum of the sizes of all leaf values.
    pub fn used_bytes(&self) -> u64 {
        self.used
    }

    /// Number of nodes, the root included.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Always false: the root exists.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Every canonical URI in key order (a parent before its descendants).
    pub fn uris(&self) -> impl Iterator<Item = &str> {
        self.nodes.keys().map(|k| &**k)
    }

    /// The node at `uri` (`./A/B` or `A/B`).
    pub fn node(&self, uri: &str) -> Option<&Node> {
        self.lookup(uri).map(|(_, n)| &**n)
    }

    /// The value of the leaf at `uri`.
    pub fn value(&self, uri: &str) -> Option<&[u8]> {
        self.node(uri).filter(|n| n.is_leaf()).map(Node::value)
    }

    /// The value of the leaf at `uri`, if it is UTF-8.
    pub fn value_str(&self, uri: &str) -> Option<&str> {
        self.value(uri).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// The names of the children of `uri`, in key order (empty if `uri` is missing or malformed).
    pub fn children<'a>(&'a self, uri: &str) -> impl Iterator<Item = &'a str> + 'a {
        let path = self
            .lookup(uri)
            .map(|(k, _)| k.to_string())
            .unwrap_or_default();
        let prefix_len = if path.is_empty() {
            usize::MAX
        } else {
            path.len() + 1
        };
        let range = if path.is_empty() {
            None
        } else {
            Some(self.descendants(&path))
        };
        range
            .into_iter()
            .flatten()
            .map(move |(k, _)| &k[prefix_len..])
            .filter(|name| !name.contains('/'))
    }

    /// Insert (or overwrite) the node at `uri`, creating missing interior parents. No ACL check.
    ///
    /// Overwriting keeps the children when the new node is interior; a leaf may not replace an
    /// interior node that has children. The root may only be replaced by an interior node.
    pub fn insert(&mut self, uri: &str, node: Node) -> Result<(), TreeError> {
        let path = uri::canonical(uri).ok_or_else(|| TreeError::InvalidUri(uri.to_string()))?;
        self.check_insert(&path, &node)?;
        let old_len = self.nodes.get(path.as_str()).map_or(0, |n| n.value_len());
        self.check_capacity(old_len, node.value_len())
            .map_err(|_| TreeError::DeviceFull)?;
        self.create_missing_parents(&path, |_, _| None, 0);
        self.put(&path, node);
        Ok(())
    }

    fn check_insert(&self, path: &str, node: &Node) -> Result<(), TreeError> {
        if path == "." && node.is_leaf() {
            return Err(TreeError::RootNotInterior);
        }
        if !node.format.is_valid(node.value()) {
            return Err(TreeError::InvalidValue {
                uri: path.to_string(),
                format: node.format,
            });
        }
        if let Some(acl) = node.acl_str() {
            acl::validate(acl).map_err(|source| TreeError::InvalidAcl {
                uri: path.to_string(),
                source,
            })?;
        }
        if let Some(leaf) = uri::ancestors_inclusive(path)
            .skip(1)
            .find(|p| self.is_leaf_at(p))
        {
            return Err(TreeError::ParentIsLeaf(leaf.to_string()));
        }
        if node.is_leaf() && self.has_children(path) {
            return Err(TreeError::HasChildren(path.to_string()));
        }
        Ok(())
    }

    /// Remove the node at `uri` and its subtree (no ACL check: the device's own removal, such as
    /// an uninstalled component's node). Removing a node that is not there is not an error; the
    /// root cannot be removed.
    pub fn remove(&mut self, uri: &str) -> Result<(), TreeError> {
        let path = uri::canonical(uri).ok_or_else(|| TreeError::InvalidUri(uri.to_string()))?;
        if path == "." {
            return Err(TreeError::RootNotRemovable);
        }
        if self.nodes.contains_key(path.as_str()) {
            self.remove_subtree(&path);
        }
        Ok(())
    }

    /// Set the value of the leaf at `uri` (validated against its Format), bumping VerNo and TStamp.
    pub fn set_value(&mut self, uri: &str, value: &[u8], now: u64) -> Result<(), TreeError> {
        let (key, node) = self
            .lookup(uri)
            .ok_or_else(|| TreeError::NotFound(uri.to_string()))?;
        let key = key.clone();
        if node.is_interior() {
            return Err(TreeError::NotALeaf(key.to_string()));
        }
        if !node.format.is_valid(value) {
            return Err(TreeError::InvalidValue {
                uri: key.to_string(),
                format: node.format,
            });
        }
        self.check_capacity(node.value_len(), value.len() as u64)
            .map_err(|_| TreeError::DeviceFull)?;
        self.update(&key, |n| {
            n.value = node::shared_bytes(value);
            n.touch(now);
        });
        Ok(())
    }

    /// An estimate of the heap bytes this tree alone holds: the map's entries plus every key, node,
    /// value and string allocation that no other tree (or template) shares. This is the marginal
    /// memory of one device whose tree was cloned from a shared template.
    pub fn approx_bytes(&self) -> usize {
        let header = 2 * std::mem::size_of::<usize>();
        let entry = std::mem::size_of::<Arc<str>>() + std::mem::size_of::<Arc<Node>>();
        // B-tree nodes are on average about two thirds full, plus per-node bookkeeping.
        let map = self.nodes.len() * entry * 3 / 2 + std::mem::size_of::<Tree>();
        let owned: usize = self
            .nodes
            .iter()
            .map(|(k, n)| {
                let key = if Arc::strong_count(k) == 1 {
                    header + k.len()
                } else {
                    0
                };
                let node = if Arc::strong_count(n) == 1 {
                    header + std::mem::size_of::<Node>() + n.unshared_heap_bytes()
                } else {
                    0
                };
                key + node
            })
            .sum();
        map + owned
    }

    /// A copy sharing no allocation with `self` (what a tree built without a template costs).
    #[cfg(test)]
    pub(crate) fn deep_clone(&self) -> Tree {
        let nodes = self
            .nodes
            .iter()
            .map(|(k, n)| (Arc::from(&**k), Arc::new(n.deep_clone())))
            .collect();
        Tree {
            nodes,
            ..self.clone()
        }
    }

    // ---- internals shared by the command, property and standard-object code ----

    /// Key and node at `uri`, accepting any spelling that normalises to a canonical key.
    fn lookup(&self, uri: &str) -> Option<(&Arc<str>, &Arc<Node>)> {
        self.nodes.get_key_value(uri).or_else(|| {
            let path = uri::canonical(uri)?;
            self.nodes.get_key_value(path.as_str())
        })
    }

    fn is_leaf_at(&self, path: &str) -> bool {
        self.nodes.get(path).is_some_and(|n| n.is_leaf())
    }

    /// Every strict descendant of canonical `path`, in key order.
    fn descendants<'a>(
        &'a self,
        path: &str,
    ) -> std::collections::btree_map::Range<'a, Arc<str>, Arc<Node>> {
        let (lo, hi) = if path == "." {
            ("./".to_string(), ".0".to_string())
        } else {
            (format!("{path}/"), format!("{path}0"))
        };
        self.nodes
            .range::<str, _>((Bound::Included(lo.as_str()), Bound::Excluded(hi.as_str())))
    }

    fn has_children(&self, path: &str) -> bool {
        self.descendants(path).next().is_some()
    }

    /// The nearest existing ancestor of `path` (or `path` itself if it exists).
    fn nearest_existing<'p>(&self, path: &'p str) -> &'p str {
        uri::ancestors_inclusive(path)
            .find(|p| self.nodes.contains_key(*p))
            .unwrap_or(".")
    }

    /// The ACL in force at `path`: its own, else the nearest ancestor's, else [`ROOT_ACL`].
    fn effective_acl(&self, path: &str) -> &str {
        uri::ancestors_inclusive(path)
            .filter_map(|p| self.nodes.get(p).and_then(|n| n.acl_str()))
            .next()
            .unwrap_or(ROOT_ACL)
    }

    /// Whether `who` may perform `cmd` on the node at `path` by its effective ACL.
    fn allowed(&self, path: &str, cmd: AclCmd, who: &str) -> bool {
        acl::permits(self.effective_acl(path), cmd, who)
    }

    /// 420 if replacing a value of `old_len` bytes by one of `new_len` would exceed the capacity.
    fn check_capacity(&self, old_len: u64, new_len: u64) -> Result<(), StatusCode> {
        match self.capacity {
            Some(cap) if self.used - old_len + new_len > cap => Err(StatusCode::DeviceFull),
            _ => Ok(()),
        }
    }

    /// Store `node` at canonical `path`, reusing the existing key allocation and tracking `used`.
    fn put(&mut self, path: &str, node: Node) {
        self.used += node.value_len();
        if let Some(slot) = self.nodes.get_mut(path) {
            self.used -= slot.value_len();
            *slot = Arc::new(node);
        } else {
            self.nodes.insert(Arc::from(path), Arc::new(node));
        }
    }

    /// Store a shared node under a shared key (template instantiation), tracking `used`.
    fn put_shared(&mut self, key: Arc<str>, node: Arc<Node>) {
        self.used += node.value_len();
        if let Some(old) = self.nodes.insert(key, node) {
            self.used -= old.value_len();
        }
    }

    /// Modify the node at canonical `path` in place (copy-on-write), tracking `used`.
    fn update(&mut self, path: &str, f: impl FnOnce(&mut Node)) {
        if let Some(slot) = self.nodes.get_mut(path) {
            let node = Arc::make_mut(slot);
            let before = node.value_len();
            f(node);
            self.used = self.used - before + node.value_len();
        }
    }

    /// Create the missing interior ancestors of `path`, top-down. `acl_for(tree, parent)` gives the ACL
    /// of a node created under `parent` (called after the nodes above it exist).
    fn create_missing_parents(
        &mut self,
        path: &str,
        acl_for: impl Fn(&Tree, &str) -> Option<String>,
        now: u64,
    ) {
        let missing: Vec<String> = uri::ancestors_inclusive(path)
            .skip(1)
            .take_while(|p| !self.nodes.contains_key(*p))
            .map(str::to_string)
            .collect();
        for p in missing.iter().rev() {
            let mut node = Node::interior().tstamp(now);
            node.acl = uri::parent(p)
                .and_then(|parent| acl_for(self, parent))
                .map(Arc::from);
            self.put(p, node);
        }
    }

    /// Remove the node at `path` and its subtree.
    fn remove_subtree(&mut self, path: &str) {
        let keys: Vec<Arc<str>> = self.descendants(path).map(|(k, _)| k.clone()).collect();
        for key in keys.iter().map(|k| &**k).chain(std::iter::once(path)) {
            if let Some(n) = self.nodes.remove(key) {
                self.used -= n.value_len();
            }
        }
    }

    /// Replace the value of the leaf at `path` without counting it as a write (template filling).
    fn fill(&mut self, path: &str, value: &[u8]) {
        if self
            .nodes
            .get(path)
            .is_some_and(|n| n.is_leaf() && n.value() != value)
        {
            self.update(path, |n| n.value = node::shared_bytes(value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Tree {
        let mut t = Tree::new(UriLimits::UNLIMITED);
        t.insert("./A/B/C", Node::leaf(Format::Chr, "hello"))
            .unwrap();
        t.insert("./A/B-x", Node::leaf(Format::Int, "5")).unwrap();
        t.insert("./A/D", Node::interior()).unwrap();
        t.insert("./AB", Node::leaf(Format::Chr, "")).unwrap();
        t
    }

    #[test]
    fn new_tree_has_root() {
        let t = Tree::new(UriLimits::UNLIMITED);
        assert_eq!(t.len(), 1);
        let root = t.node(".").unwrap();
        assert!(root.is_interior() && root.is_permanent());
        assert_eq!(root.acl_str(), Some(ROOT_ACL));
        assert_eq!(root.access_type(), Access::GET | Access::ADD);
    }

    #[test]
    fn insert_creates_parents_and_children_lists_names() {
        let t = sample();
        assert_eq!(t.len(), 7);
        assert!(t.node("./A/B").unwrap().is_interior());
        assert_eq!(t.children(".").collect::<Vec<_>>(), vec!["A", "AB"]);
        assert_eq!(t.children("A").collect::<Vec<_>>(), vec!["B", "B-x", "D"]);
        assert_eq!(t.children("./A/B/").collect::<Vec<_>>(), vec!["C"]);
        assert_eq!(t.children("./A/B/C").count(), 0);
        assert_eq!(t.children("./nope").count(), 0);
        assert_eq!(t.children("a//b").count(), 0);
        assert_eq!(t.value_str("A/B/C"), Some("hello"));
        assert_eq!(t.value("./A/B"), None);
        assert_eq!(t.value("./AB"), Some(&b""[..]));
        assert_eq!(t.used_bytes(), 6);
    }

    #[test]
    fn insert_errors() {
        let mut t = sample();
        let before = t.clone();
        let err = t.insert("./A/B/C/X", Node::interior()).unwrap_err();
        assert_eq!(err, TreeError::ParentIsLeaf("./A/B/C".into()));
        assert_eq!(err.status(), StatusCode::CommandNotAllowed);
        assert_eq!(
            t.insert("./A/B", Node::leaf(Format::Chr, "x")),
            Err(TreeError::HasChildren("./A/B".into()))
        );
        assert_eq!(
            t.insert(".", Node::leaf(Format::Chr, "x")),
            Err(TreeError::RootNotInterior)
        );
        assert_eq!(
            t.insert("a//b", Node::interior()),
            Err(TreeError::InvalidUri("a//b".into()))
        );
        assert!(matches!(
            t.insert("./N", Node::leaf(Format::Int, "x")),
            Err(TreeError::InvalidValue { .. })
        ));
        assert!(matches!(
            t.insert("./N", Node::interior().acl("Get=")),
            Err(TreeError::InvalidAcl { .. })
        ));
        assert_eq!(t, before);
        // Overwriting an interior node with an interior node keeps the children.
        t.insert("./A", Node::interior().title("A")).unwrap();
        assert_eq!(t.children("./A").count(), 3);
    }

    #[test]
    fn set_value_validates_and_bumps() {
        let mut t = sample();
        t.set_value("./A/B-x", b"6", 100).unwrap();
        let n = t.node("./A/B-x").unwrap();
        assert_eq!((n.value(), n.verno(), n.tstamp_secs()), (&b"6"[..], 1, 100));
        let before = t.clone();
        assert!(matches!(
            t.set_value("./A/B-x", b"six", 1),
            Err(TreeError::InvalidValue { .. })
        ));
        assert_eq!(
            t.set_value("./A", b"x", 1),
            Err(TreeError::NotALeaf("./A".into()))
        );
        assert_eq!(
            t.set_value("./Z", b"x", 1),
            Err(TreeError::NotFound("./Z".into()))
        );
        assert_eq!(t, before);
    }

    #[test]
    fn capacity_applies_to_device_side_writes() {
        let mut t = Tree::new(UriLimits::UNLIMITED).with_capacity_bytes(Some(10));
        t.insert("./a", Node::leaf(Format::Chr, "12345")).unwrap();
        t.insert("./b", Node::leaf(Format::Chr, "12345")).unwrap();
        let before = t.clone();
        assert_eq!(
            t.insert("./c", Node::leaf(Format::Chr, "1")),
            Err(TreeError::DeviceFull)
        );
        assert_eq!(t.set_value("./a", b"123456", 0), Err(TreeError::DeviceFull));
        assert_eq!(t, before);
        t.set_value("./a", b"1234", 0).unwrap();
        assert_eq!(t.used_bytes(), 9);
        t.insert("./a", Node::leaf(Format::Chr, "123456"))
            .map(|_| ())
            .unwrap_err();
        t.insert("./a", Node::leaf(Format::Chr, "12345")).unwrap();
        assert_eq!(t.used_bytes(), 10);
    }

    #[test]
    fn clone_shares_nodes_and_writes_copy_on_write() {
        let t = sample();
        let mut c = t.clone();
        c.set_value("./A/B/C", b"bye", 1).unwrap();
        let shared = |p: &str| Arc::ptr_eq(&t.nodes[p], &c.nodes[p]);
        assert!(shared("./A/B-x") && shared("./A") && shared("."));
        assert!(!shared("./A/B/C"));
        assert_eq!(t.value_str("./A/B/C"), Some("hello"));
        // The key allocation is kept on write.
        let key = |tree: &Tree| {
            tree.nodes
                .get_key_value("./A/B/C")
                .map(|(k, _)| k.clone())
                .unwrap()
        };
        assert!(Arc::ptr_eq(&key(&t), &key(&c)));
        assert!(c.approx_bytes() < t.deep_clone().approx_bytes());
    }

    #[test]
    fn effective_acl_inherits_from_nearest_ancestor() {
        let mut t = sample();
        t.insert("./A", Node::interior().acl("Get=s1&Replace=s1"))
            .unwrap();
        assert_eq!(t.effective_acl("./A/B/C"), "Get=s1&Replace=s1");
        assert_eq!(t.effective_acl("./AB"), ROOT_ACL);
        t.insert("./A/B", Node::interior().acl("Get=s2")).unwrap();
        assert_eq!(t.effective_acl("./A/B/C"), "Get=s2");
        assert!(t.allowed("./A/B/C", AclCmd::Get, "s2"));
        assert!(
            !t.allowed("./A/B/C", AclCmd::Replace, "s1"),
            "inheritance is for the whole ACL"
        );
        assert!(t.allowed("./A/B-x", AclCmd::Replace, "s1"));
    }
}
