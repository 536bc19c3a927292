//! One node of the management tree: its value, run-time properties and access type.
//!
//! A [`Node`] is small (80 bytes on 64-bit targets) and cheap to clone: every string and the value are
//! shared `Arc`s, so nodes copied from a template share their allocations. A leaf with an empty value
//! and a leaf without a MIME type hold no allocation at all (`None`); a leaf without a MIME type is
//! `text/plain`, the Meta Type default.
//!
//! [`Access`] is the DDF `AccessType`: what the node supports at all, independent of any ACL.

use std::fmt;
use std::ops::{BitOr, BitOrAssign};
use std::sync::Arc;

use super::format::Format;

/// The DDF access type of a node: which commands it supports (a set of flags).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Access(u8);

impl Access {
    pub const NONE: Access = Access(0);
    pub const ADD: Access = Access(1);
    pub const COPY: Access = Access(1 << 1);
    pub const DELETE: Access = Access(1 << 2);
    pub const EXEC: Access = Access(1 << 3);
    pub const GET: Access = Access(1 << 4);
    pub const REPLACE: Access = Access(1 << 5);
    /// Every command.
    pub const ALL: Access = Access(0b11_1111);
    /// What nodes created by a server (or by [`Node::interior`] / [`Node::leaf`]) support:
    /// everything but Exec.
    pub const DYNAMIC: Access = Access(Self::ALL.0 & !Self::EXEC.0);

    const NAMES: [(Access, &'static str); 6] = [
        (Access::ADD, "Add"),
        (Access::COPY, "Copy"),
        (Access::DELETE, "Delete"),
        (Access::EXEC, "Exec"),
        (Access::GET, "Get"),
        (Access::REPLACE, "Replace"),
    ];

    /// Whether every flag of `other` is set.
    pub fn contains(self, other: Access) -> bool {
        self.0 & other.0 == other.0
    }

    /// The raw bits.
    pub fn bits(self) -> u8 {
        self.0
    }
}

impl BitOr for Access {
    type Output = Access;
    fn bitor(self, rhs: Access) -> Access {
        Access(self.0 | rhs.0)
    }
}

impl BitOrAssign for Access {
    fn bitor_assign(&mut self, rhs: Access) {
        self.0 |= rhs.0;
    }
}

impl fmt::Debug for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = Access::NAMES
            .iter()
            .filter(|(a, _)| self.contains(*a))
            .map(|(_, n)| *n)
            .collect();
        write!(f, "Access({})", names.join("|"))
    }
}

/// A node: interior (Format `node`) or leaf, with its properties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub(super) value: Option<Arc<[u8]>>,
    pub(super) mime: Option<Arc<str>>,
    pub(super) acl: Option<Arc<str>>,
    pub(super) title: Option<Arc<str>>,
    pub(super) tstamp: u64,
    pub(super) verno: u16,
    pub(super) format: Format,
    pub(super) access: Access,
    pub(super) permanent: bool,
}

impl Node {
    /// An interior node: Format `node`, no Type, empty ACL (inherits), access [`Access::DYNAMIC`].
    pub fn interior() -> Node {
        Node {
            value: None,
            mime: None,
            acl: None,
            title: None,
            tstamp: 0,
            verno: 0,
            format: Format::Node,
            access: Access::DYNAMIC,
            permanent: false,
        }
    }

    /// A leaf with `format` and `value` (Type `text/plain`, empty ACL, access [`Access::DYNAMIC`]).
    /// `Format::Node` gives an interior node and the value is dropped.
    pub fn leaf(format: Format, value: impl AsRef<[u8]>) -> Node {
        let mut node = Node::interior();
        node.format = format;
        if format != Format::Node {
            node.value = shared_bytes(value.as_ref());
        }
        node
    }

    /// Set the access type.
    pub fn access(mut self, access: Access) -> Node {
        self.access = access;
        self
    }

    /// Set the ACL string (validated when the node is inserted; empty = inherit).
    pub fn acl(mut self, acl: impl Into<Arc<str>>) -> Node {
        self.acl = non_empty(acl.into());
        self
    }

    /// Set the MIME type (leaf) or management object id (interior); `text/plain` on a leaf is the default.
    pub fn mime(mut self, mime: impl Into<Arc<str>>) -> Node {
        let mime = mime.into();
        self.mime = if self.format != Format::Node && &*mime == TEXT_PLAIN {
            None
        } else {
            non_empty(mime)
        };
        self
    }

    /// Set the Title property.
    pub fn title(mut self, title: impl Into<Arc<str>>) -> Node {
        self.title = non_empty(title.into());
        self
    }

    /// Set the time stamp (seconds of simulated time).
    pub fn tstamp(mut self, tstamp: u64) -> Node {
        self.tstamp = tstamp;
        self
    }

    /// Mark the node permanent: it cannot be deleted or renamed, nor its Format or Type changed.
    pub fn permanent(mut self) -> Node {
        self.permanent = true;
        self
    }

    /// Whether this is an interior node.
    pub fn is_interior(&self) -> bool {
        self.format == Format::Node
    }

    /// Whether this is a leaf.
    pub fn is_leaf(&self) -> bool {
        !self.is_interior()
    }

    /// The Format property.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The value (empty for interior nodes).
    pub fn value(&self) -> &[u8] {
        self.value.as_deref().unwrap_or(&[])
    }

    /// The value as UTF-8 text, if it is.
    pub fn value_str(&self) -> Option<&str> {
        std::str::from_utf8(self.value()).ok()
    }

    /// The Type property: the stored MIME type / MO id; `text/plain` for a leaf without one.
    pub fn mime_type(&self) -> Option<&str> {
        match (&self.mime, self.is_leaf()) {
            (Some(m), _) => Some(m),
            (None, true) => Some(TEXT_PLAIN),
            (None, false) => None,
        }
    }

    /// The node's own ACL (`None` = inherited).
    pub fn acl_str(&self) -> Option<&str> {
        self.acl.as_deref()
    }

    /// The Title property.
    pub fn title_str(&self) -> Option<&str> {
        self.title.as_deref()
    }

    /// The TStamp property, in seconds of simulated time.
    pub fn tstamp_secs(&self) -> u64 {
        self.tstamp
    }

    /// The VerNo property.
    pub fn verno(&self) -> u16 {
        self.verno
    }

    /// The DDF access type.
    pub fn access_type(&self) -> Access {
        self.access
    }

    /// Whether the node is permanent.
    pub fn is_permanent(&self) -> bool {
        self.permanent
    }

    /// Record a write: bump VerNo (wrapping) and set TStamp.
    pub(super) fn touch(&mut self, now: u64) {
        self.verno = self.verno.wrapping_add(1);
        self.tstamp = now;
    }

    /// Size in bytes of the value.
    pub(super) fn value_len(&self) -> u64 {
        self.value().len() as u64
    }

    /// Bytes of the heap allocations this node alone holds (shared `Arc`s are not counted).
    pub(super) fn unshared_heap_bytes(&self) -> usize {
        let header = 2 * std::mem::size_of::<usize>();
        let bytes = self
            .value
            .as_ref()
            .filter(|a| Arc::strong_count(a) == 1)
            .map_or(0, |a| header + a.len());
        let strs: usize = [&self.mime, &self.acl, &self.title]
            .into_iter()
            .flatten()
            .filter(|a| Arc::strong_count(a) == 1)
            .map(|a| header + a.len())
            .sum();
        bytes + strs
    }

    /// A copy whose strings and value are fresh allocations (nothing shared).
    #[cfg(test)]
    pub(super) fn deep_clone(&self) -> Node {
        let fresh_str = |s: &Option<Arc<str>>| s.as_deref().map(Arc::from);
        Node {
            value: self.value.as_deref().map(Arc::from),
            mime: fresh_str(&self.mime),
            acl: fresh_str(&self.acl),
            title: fresh_str(&self.title),
            ..self.clone()
        }
    }
}

/// The default Meta Type of a leaf.
pub const TEXT_PLAIN: &str = "text/plain";

/// `None` for an empty value, else a shared copy.
pub(super) fn shared_bytes(value: &[u8]) -> Option<Arc<[u8]>> {
    (!value.is_empty()).then(|| Arc::from(value))
}

fn non_empty(s: Arc<str>) -> Option<Arc<str>> {
    (!s.is_empty()).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_is_small() {
        assert!(
            std::mem::size_of::<Node>() <= 80,
            "{}",
            std::mem::size_of::<Node>()
        );
    }

    #[test]
    fn builder_sets_properties() {
        let n = Node::leaf(Format::Int, "42")
            .access(Access::GET)
            .acl("Get=*")
            .mime("text/plain")
            .title("x")
            .permanent();
        assert_eq!(n.format(), Format::Int);
        assert_eq!(n.value(), b"42");
        assert_eq!(n.access_type(), Access::GET);
        assert_eq!(n.acl_str(), Some("Get=*"));
        assert_eq!(n.mime_type(), Some("text/plain"));
        assert!(n.mime.is_none());
        assert_eq!(n.title_str(), Some("x"));
        assert!(n.is_permanent() && n.is_leaf());
        let i = Node::interior().mime("urn:x").acl("");
        assert!(i.is_interior());
        assert_eq!(i.mime_type(), Some("urn:x"));
        assert_eq!(i.acl_str(), None);
        assert_eq!(Node::interior().mime_type(), None);
        assert!(Node::leaf(Format::Node, "x").is_interior());
        assert_eq!(Node::leaf(Format::Node, "x").value(), b"");
    }

    #[test]
    fn access_flags() {
        let a = Access::GET | Access::REPLACE;
        assert!(a.contains(Access::GET));
        assert!(!a.contains(Access::GET | Access::ADD));
        assert!(!Access::DYNAMIC.contains(Access::EXEC));
        assert!(Access::ALL.contains(Access::EXEC | Access::COPY));
        assert_eq!(format!("{a:?}"), "Access(Get|Replace)");
    }

    #[test]
    fn touch_wraps_verno() {
        let mut n = Node::leaf(Format::Chr, "");
        n.verno = u16::MAX;
        n.touch(7);
        assert_eq!((n.verno(), n.tstamp_secs()), (0, 7));
    }
}
