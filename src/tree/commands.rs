//! Server commands on the tree: Add, Replace, Delete, Copy, Get and the Exec check
//! (reference §1.4, §3, §8; DM protocol §6.6).
//!
//! Every command first resolves the item's Target (missing → 412, malformed → 400, limits → 414,
//! unsupported query → 406), then checks in this order: existence, node kind and access type (405),
//! ACL (425), content (415/400), capacity (420). A refused command leaves the tree unchanged.
//!
//! Decisions where the spec is silent or loose:
//! - Add: the ACL checked is the Add right on the nearest existing ancestor, whose access type must
//!   also allow Add. Missing interior parents are created implicitly. Format `node` with non-empty Data
//!   is 400.
//!   A new node's ACL is empty, except that an interior node (explicit or implicit) created by a
//!   server lacking Replace on its parent gets `Add=<who>&Delete=<who>&Replace=<who>` (DM TND
//!   §8.3.7.1.3 and DM protocol §6.6.1: the creator must be able to manage what it created).
//! - Replace without Meta keeps the node's Format and Type; with Meta, a change of Format or Type of a
//!   permanent node is 405, and Format `node` on a leaf is 405 (a leaf cannot become interior).
//! - Delete needs the Delete access type and Delete right on the target only (not on each
//!   descendant); a subtree holding a permanent node cannot be deleted (405).
//! - Copy follows the DM protocol text: source and target are leaves; an existing target is
//!   overwritten (value, Format, Type), needing Replace on it, and 403 (Forbidden) when it cannot be
//!   overwritten for a reason other than ACL (access type lacks Replace, or permanent with another
//!   Format/Type); a missing target is created as by Add. The source needs the Copy access type and the
//!   Get right.
//! - Get: the access type is checked before the ACL. `?list=` skips (per node) the nodes whose
//!   effective ACL denies Get and anything under `./Inbox`, and gives no Data for leaves whose access
//!   type lacks Get. `bin` values
//!   are sent as base64 with Meta Format `b64`. Get on `./Inbox` or below is 405.
//! - TNDS (`tnds.rs`): `Get <uri>?list=TNDS…` answers the subtree as one TNDS document; an Add or
//!   Replace whose Meta Type is `application/vnd.syncml.dmtnds+xml` or `+wbxml` writes the subtree
//!   it describes under its Target in one step (any other `dmtnds` type is 415). Replace on a
//!   `?list=` URI is 405, as is a TNDS payload on a `?prop=` URI.

use std::borrow::Cow;
use std::sync::Arc;

use super::format::{decode_b64, encode_b64, Format};
use super::node::{self, Access, Node, TEXT_PLAIN};
use super::tnds::{self, Encoding};
use super::uri::{self, DmUri, ListKind, Query};
use super::{acl, AclCmd, Tree};
use crate::syncml::{Data, Item, Location, Meta, StatusCode};

type Outcome<T = ()> = Result<T, StatusCode>;

/// The one node a server may never Get (nor anything under it).
pub(super) const INBOX: &str = "./Inbox";

fn status(outcome: Outcome) -> StatusCode {
    outcome.err().unwrap_or(StatusCode::Ok)
}

/// Meta Format and Type of an item: the item's own, else the command's.
fn item_meta<'a>(item: &'a Item, cmd_meta: Option<&'a Meta>) -> (Option<&'a str>, Option<&'a str>) {
    let pick = |f: fn(&'a Meta) -> Option<&'a str>| {
        item.meta
            .as_ref()
            .and_then(f)
            .or_else(|| cmd_meta.and_then(f))
    };
    (pick(|m| m.format.as_deref()), pick(|m| m.type_.as_deref()))
}

fn item_bytes(item: &Item) -> &[u8] {
    item.data.as_ref().map_or(&[][..], Data::as_bytes)
}

/// The Format a value sent with `format` is stored as (`b64` is decoded to `bin`).
fn stored_format(format: Format) -> Format {
    if format == Format::B64 {
        Format::Bin
    } else {
        format
    }
}

/// Decode (`b64`) and validate item data sent with `format`: the stored format and bytes.
pub(super) fn decode_value(format: Format, data: &[u8]) -> Outcome<(Format, Vec<u8>)> {
    if format == Format::B64 {
        return Ok((Format::Bin, decode_b64(data)?));
    }
    format.validate(data)?;
    Ok((format, data.to_vec()))
}

/// The stored MIME type of a leaf for a Meta Type (`text/plain` and empty are the default, `None`).
pub(super) fn leaf_mime(mime: &str) -> Option<Arc<str>> {
    let mime = mime.trim();
    (!mime.is_empty() && mime != TEXT_PLAIN).then(|| Arc::from(mime))
}

/// The node an Add creates from its item.
fn new_node(item: &Item, cmd_meta: Option<&Meta>, now: u64) -> Outcome<Node> {
    let (format, mime) = item_meta(item, cmd_meta);
    let format = format.map_or(Ok(Format::Chr), Format::parse_status)?;
    let data = item_bytes(item);
    if format == Format::Node {
        if !data.is_empty() {
            return Err(StatusCode::BadRequest);
        }
        let mut node = Node::interior().tstamp(now);
        node.mime = mime.map(str::trim).filter(|m| !m.is_empty()).map(Arc::from);
        return Ok(node);
    }
    let (format, value) = decode_value(format, data)?;
    let mut node = Node::leaf(format, value).tstamp(now);
    node.mime = mime.and_then(leaf_mime);
    Ok(node)
}

impl Tree {
    /// Add the item's Target node (see the module doc for statuses and rules).
    pub fn add(&mut self, who: &str, item: &Item, cmd_meta: Option<&Meta>, now: u64) -> StatusCode {
        status(self.try_add(who, item, cmd_meta, now))
    }

    /// Replace the item's Target value, or a property with `?prop=` (see `props.rs`).
    pub fn replace(
        &mut self,
        who: &str,
        item: &Item,
        cmd_meta: Option<&Meta>,
        now: u64,
    ) -> StatusCode {
        status(self.try_replace(who, item, cmd_meta, now))
    }

    /// Delete the item's Target node and its subtree.
    pub fn delete(&mut self, who: &str, item: &Item) -> StatusCode {
        status(self.try_delete(who, item))
    }

    /// Copy the item's Source leaf to its Target.
    pub fn copy(&mut self, who: &str, item: &Item, now: u64) -> StatusCode {
        status(self.try_copy(who, item, now))
    }

    /// Answer a Get: the Results items, or the failure status.
    pub fn get(&self, who: &str, item: &Item) -> Result<Vec<Item>, StatusCode> {
        let target = self.target(item)?;
        let path = target.path.as_str();
        if uri::is_ancestor_or_self(INBOX, path) {
            return Err(StatusCode::CommandNotAllowed);
        }
        let node = self.nodes.get(path).ok_or(StatusCode::NotFound)?;
        match target.query {
            Query::Prop(prop) => self.get_prop(who, path, node, prop).map(|item| vec![item]),
            Query::List(kind) => self.list(who, path, node, kind),
            Query::Tnds(sel) => self.get_tnds(who, path, node, sel).map(|item| vec![item]),
            Query::None => {
                self.check_get(who, path, node)?;
                Ok(vec![self.node_item(path, node)])
            }
        }
    }

    /// Check that `who` may Exec the item's Target: its canonical URI, or the failure status.
    pub fn check_exec(&self, who: &str, item: &Item) -> Result<String, StatusCode> {
        let path = self.plain_target(item)?;
        let node = self.nodes.get(path.as_str()).ok_or(StatusCode::NotFound)?;
        if !node.access.contains(Access::EXEC) {
            return Err(StatusCode::CommandNotAllowed);
        }
        if !self.allowed(&path, AclCmd::Exec, who) {
            return Err(StatusCode::PermissionDenied);
        }
        Ok(path)
    }

    // ---- target resolution ----

    /// The parsed Target of an item (412 when it has none).
    pub(super) fn target(&self, item: &Item) -> Outcome<DmUri> {
        let uri = item.target_uri().ok_or(StatusCode::IncompleteCommand)?;
        uri::parse(uri, &self.limits)
    }

    /// The Target of a command that does not apply to properties or lists (405 with a query).
    fn plain_target(&self, item: &Item) -> Outcome<String> {
        let uri = item.target_uri().ok_or(StatusCode::IncompleteCommand)?;
        self.plain_path(uri)
    }

    fn plain_path(&self, uri: &str) -> Outcome<String> {
        let parsed = uri::parse(uri, &self.limits)?;
        if parsed.query != Query::None {
            return Err(StatusCode::CommandNotAllowed);
        }
        Ok(parsed.path)
    }

    // ---- Add ----

    fn try_add(&mut self, who: &str, item: &Item, cmd_meta: Option<&Meta>, now: u64) -> Outcome {
        let path = self.plain_target(item)?;
        if let Some((format, encoding)) = tnds_payload(item, cmd_meta)? {
            let xml = tnds_xml(item, format, encoding)?;
            return self.add_tnds(who, &path, &xml, now);
        }
        if self.nodes.contains_key(path.as_str()) {
            return Err(StatusCode::AlreadyExists);
        }
        self.check_can_create(who, &path)?;
        let node = new_node(item, cmd_meta, now)?;
        self.check_capacity(0, node.value_len())?;
        self.create_node(who, &path, node, now);
        Ok(())
    }

    /// Whether `who` may create the missing node `path`: its nearest existing ancestor must be
    /// interior (405), support Add (405) and grant Add (425).
    pub(super) fn check_can_create(&self, who: &str, path: &str) -> Outcome {
        let anchor = self.nearest_existing(path);
        let anchor_node = self.nodes.get(anchor).ok_or(StatusCode::CommandFailed)?;
        if anchor_node.is_leaf() || !anchor_node.access.contains(Access::ADD) {
            return Err(StatusCode::CommandNotAllowed);
        }
        if !self.allowed(anchor, AclCmd::Add, who) {
            return Err(StatusCode::PermissionDenied);
        }
        Ok(())
    }

    /// Store a node created by `who`, with its implicit parents.
    pub(super) fn create_node(&mut self, who: &str, path: &str, mut node: Node, now: u64) {
        self.create_missing_parents(path, |tree, parent| tree.creation_acl(parent, who), now);
        if node.is_interior() && node.acl.is_none() {
            node.acl = uri::parent(path)
                .and_then(|p| self.creation_acl(p, who))
                .map(Arc::from);
        }
        self.put(path, node);
    }

    /// The ACL of an interior node `who` creates under `parent`: empty (inherited), unless `who` lacks
    /// Replace on the parent; then Add, Delete and Replace for `who` (DM TND §8.3.7.1.3).
    fn creation_acl(&self, parent: &str, who: &str) -> Option<String> {
        if self.allowed(parent, AclCmd::Replace, who) {
            None
        } else {
            acl::grant(&[AclCmd::Add, AclCmd::Delete, AclCmd::Replace], who)
        }
    }

    // ---- Replace ----

    fn try_replace(
        &mut self,
        who: &str,
        item: &Item,
        cmd_meta: Option<&Meta>,
        now: u64,
    ) -> Outcome {
        let target = self.target(item)?;
        match (target.query, tnds_payload(item, cmd_meta)?) {
            (Query::List(_) | Query::Tnds(_), _) | (Query::Prop(_), Some(_)) => {
                Err(StatusCode::CommandNotAllowed)
            }
            (Query::Prop(prop), None) => self.replace_prop(who, &target.path, prop, item, now),
            (Query::None, Some((format, encoding))) => {
                let xml = tnds_xml(item, format, encoding)?;
                self.replace_tnds(who, &target.path, &xml, now)
            }
            (Query::None, None) => {
                let (format, mime) = item_meta(item, cmd_meta);
                self.replace_leaf(who, &target.path, format, mime, item_bytes(item), now)
            }
        }
    }

    /// Replace the value of the leaf at `path` with `data` sent with Meta `format` and `mime` (each
    /// `None` when absent: the node's own is kept).
    pub(super) fn replace_leaf(
        &mut self,
        who: &str,
        path: &str,
        format: Option<&str>,
        mime: Option<&str>,
        data: &[u8],
        now: u64,
    ) -> Outcome {
        let node = Arc::clone(self.nodes.get(path).ok_or(StatusCode::NotFound)?);
        if node.is_interior() || !node.access.contains(Access::REPLACE) {
            return Err(StatusCode::CommandNotAllowed);
        }
        if !self.allowed(path, AclCmd::Replace, who) {
            return Err(StatusCode::PermissionDenied);
        }
        let format = format.map_or(Ok(node.format), Format::parse_status)?;
        let mime = mime.map_or_else(|| node.mime.clone(), leaf_mime);
        let kind_changes = stored_format(format) != node.format || mime != node.mime;
        if format == Format::Node || (node.permanent && kind_changes) {
            return Err(StatusCode::CommandNotAllowed);
        }
        let (format, value) = decode_value(format, data)?;
        self.check_capacity(node.value_len(), value.len() as u64)?;
        self.update(path, |n| {
            n.value = node::shared_bytes(&value);
            n.format = format;
            n.mime = mime;
            n.touch(now);
        });
        Ok(())
    }

    // ---- Delete ----

    fn try_delete(&mut self, who: &str, item: &Item) -> Outcome {
        let path = self.plain_target(item)?;
        if path == "." {
            return Err(StatusCode::CommandNotAllowed);
        }
        let node = self.nodes.get(path.as_str()).ok_or(StatusCode::NotFound)?;
        if !node.access.contains(Access::DELETE) || self.subtree_has_permanent(&path) {
            return Err(StatusCode::CommandNotAllowed);
        }
        if !self.allowed(&path, AclCmd::Delete, who) {
            return Err(StatusCode::PermissionDenied);
        }
        self.remove_subtree(&path);
        Ok(())
    }

    /// Whether the node at `path` or any descendant is permanent.
    pub(super) fn subtree_has_permanent(&self, path: &str) -> bool {
        self.nodes.get(path).is_some_and(|n| n.permanent)
            || self.descendants(path).any(|(_, n)| n.permanent)
    }

    // ---- Copy ----

    fn try_copy(&mut self, who: &str, item: &Item, now: u64) -> Outcome {
        let target = self.plain_target(item)?;
        let source = self.plain_path(item.source_uri().ok_or(StatusCode::IncompleteCommand)?)?;
        let src = Arc::clone(
            self.nodes
                .get(source.as_str())
                .ok_or(StatusCode::NotFound)?,
        );
        if src.is_interior() || !src.access.contains(Access::COPY) {
            return Err(StatusCode::CommandNotAllowed);
        }
        if !self.allowed(&source, AclCmd::Get, who) {
            return Err(StatusCode::PermissionDenied);
        }
        if self.nodes.contains_key(target.as_str()) {
            self.copy_over(who, &target, &src, now)
        } else {
            self.copy_new(who, &target, &src, now)
        }
    }

    /// Copy onto an existing leaf: overwrite value, Format and Type.
    fn copy_over(&mut self, who: &str, target: &str, src: &Node, now: u64) -> Outcome {
        let tgt = Arc::clone(self.nodes.get(target).ok_or(StatusCode::NotFound)?);
        if tgt.is_interior() {
            return Err(StatusCode::CommandNotAllowed);
        }
        if !self.allowed(target, AclCmd::Replace, who) {
            return Err(StatusCode::PermissionDenied);
        }
        let kind_changes = tgt.format != src.format || tgt.mime != src.mime;
        if !tgt.access.contains(Access::REPLACE) || (tgt.permanent && kind_changes) {
            return Err(StatusCode::Forbidden);
        }
        self.check_capacity(tgt.value_len(), src.value_len())?;
        self.update(target, |n| {
            n.value = src.value.clone();
            n.format = src.format;
            n.mime = src.mime.clone();
            n.touch(now);
        });
        Ok(())
    }

    /// Copy to a new leaf, created as by Add.
    fn copy_new(&mut self, who: &str, target: &str, src: &Node, now: u64) -> Outcome {
        self.check_can_create(who, target)?;
        self.check_capacity(0, src.value_len())?;
        let mut node = Node::leaf(src.format, []).tstamp(now);
        node.value = src.value.clone();
        node.mime = src.mime.clone();
        self.create_node(who, target, node, now);
        Ok(())
    }

    // ---- Get ----

    /// The Get checks on a node: access type (405), then ACL (425).
    pub(super) fn check_get(&self, who: &str, path: &str, node: &Node) -> Outcome {
        if !node.access.contains(Access::GET) {
            return Err(StatusCode::CommandNotAllowed);
        }
        if !self.allowed(path, AclCmd::Get, who) {
            return Err(StatusCode::PermissionDenied);
        }
        Ok(())
    }

    /// `?list=Struct|StructData`: one item per node of the subtree, the node itself first.
    fn list(&self, who: &str, path: &str, node: &Node, kind: ListKind) -> Outcome<Vec<Item>> {
        self.check_get(who, path, node)?;
        let with_data = kind == ListKind::StructData;
        let subtree =
            std::iter::once((path, node)).chain(self.descendants(path).map(|(k, n)| (&**k, &**n)));
        Ok(subtree
            .filter(|(p, _)| {
                !uri::is_ancestor_or_self(INBOX, p) && self.allowed(p, AclCmd::Get, who)
            })
            .map(|(p, n)| {
                let data = (with_data && n.is_leaf() && n.access.contains(Access::GET))
                    .then(|| value_data(n));
                result_item(p, n, data)
            })
            .collect())
    }

    /// The Results item of a plain Get: leaf value, or child names joined by `/` for an interior node.
    pub(super) fn node_item(&self, path: &str, node: &Node) -> Item {
        let data = if node.is_interior() {
            let names: Vec<&str> = self.children(path).collect();
            Data::Text(names.join("/"))
        } else {
            value_data(node)
        };
        result_item(path, node, Some(data))
    }
}

/// The Meta Format and encoding of an item carrying a TNDS payload; `None` for any other item, 415
/// for a TNDS type other than `+xml` and `+wbxml`.
fn tnds_payload<'a>(
    item: &'a Item,
    cmd_meta: Option<&'a Meta>,
) -> Outcome<Option<(Option<&'a str>, Encoding)>> {
    let (format, mime) = item_meta(item, cmd_meta);
    Ok(tnds::payload_encoding(mime)?.map(|encoding| (format, encoding)))
}

/// The TNDS XML of an item's payload: 400 when it cannot be read.
fn tnds_xml(item: &Item, format: Option<&str>, encoding: Encoding) -> Outcome<String> {
    tnds::payload_xml(item_bytes(item), format, encoding).map_err(|e| {
        tracing::debug!(error = %e, "TNDS payload refused");
        e.status()
    })
}

/// A leaf's value as item Data: text, or base64 for `bin`.
fn value_data(node: &Node) -> Data {
    if node.format.is_text() {
        Data::Text(String::from_utf8_lossy(node.value()).into_owned())
    } else {
        Data::Text(encode_b64(node.value()))
    }
}

/// A Results item: Source = canonical URI, Meta Format (and Type unless the default), optional Data.
fn result_item(path: &str, node: &Node, data: Option<Data>) -> Item {
    let b64 = node.format == Format::Bin && data.is_some();
    let format = if b64 { Format::B64 } else { node.format };
    let meta = Meta {
        format: Some(format.as_str().to_string()),
        type_: node.mime.as_deref().map(str::to_string),
        ..Meta::default()
    };
    Item {
        source: Some(Location::uri(path)),
        meta: Some(meta),
        data,
        ..Item::default()
    }
}

/// Item data as text (properties).
pub(super) fn item_text(item: &Item) -> Cow<'_, str> {
    item.data_text().unwrap_or(Cow::Borrowed(""))
}

#[cfg(test)]
mod tests;
