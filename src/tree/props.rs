//! Node properties: Get and Replace on `<uri>?prop=<Name>` (reference §8.5; DM TND §8.3).
//!
//! Get returns one item with Source `<canonical uri>?prop=<Name>` and the value as text, without Meta
//! (the spec advises against Meta on property values). It needs the Get right on the node (425) but
//! not the Get access type: the properties of a secret (e.g. `AAuthSecret?prop=Format`) are readable.
//! - `ACL` is the node's own ACL, empty when inherited (never the ancestor's value).
//! - `Size` exists for leaves only: 406 on an interior node.
//! - `Type` of a leaf without an explicit MIME type is `text/plain`; of an interior node without an MO
//!   id it is empty. `Title` is empty when unset. `TStamp` is `YYYYMMDDThhmmssZ`.
//!
//! Replace is allowed on `ACL`, `Name` and `Title` only (other properties: 405):
//! - `ACL`: the value must be a well-formed ACL (400). Who may change it (DM TND §8.3.7.1.3): a server
//!   with Replace on the parent node, or — for an interior node only — Replace on the node itself;
//!   otherwise 425. The root's new ACL must keep `Add=*` (405 otherwise, as the TND allows), which also
//!   keeps the root from losing its ACL.
//! - `Title`: needs the Replace access type (405) and Replace right on the node (425); more than 255
//!   bytes is 413 (Request entity too large).
//! - `Name` renames the node and moves its subtree: the root, a permanent node or a subtree holding one
//!   is 405, as is a node whose access type lacks Replace; Replace right on the node (425); the new name
//!   must be a valid segment (400) within the URI limits for every moved node (414); an existing
//!   sibling of that name is 418. Renaming to the current name succeeds without moving anything.
//!
//! Every successful property write bumps VerNo and sets TStamp of the node.

use std::sync::Arc;

use super::commands::item_text;
use super::node::Node;
use super::tstamp::format_tstamp;
use super::uri::{self, Property};
use super::{Acl, AclCmd, Tree};
use crate::syncml::{Data, Item, Location, StatusCode};

type Outcome<T = ()> = Result<T, StatusCode>;

/// Longest Title accepted, in bytes.
pub(super) const MAX_TITLE_LEN: usize = 255;

/// The value of a property of `node` (at canonical `path`); 406 for Size of an interior node.
fn prop_value(path: &str, node: &Node, prop: Property) -> Outcome<String> {
    Ok(match prop {
        Property::Acl => node.acl_str().unwrap_or("").to_string(),
        Property::Format => node.format.as_str().to_string(),
        Property::Name => uri::name(path).to_string(),
        Property::Size if node.is_interior() => {
            return Err(StatusCode::OptionalFeatureNotSupported)
        }
        Property::Size => node.value().len().to_string(),
        Property::Title => node.title_str().unwrap_or("").to_string(),
        Property::TStamp => format_tstamp(node.tstamp),
        Property::Type => node.mime_type().unwrap_or("").to_string(),
        Property::VerNo => node.verno.to_string(),
    })
}

impl Tree {
    /// Get `<path>?prop=<prop>`.
    pub(super) fn get_prop(
        &self,
        who: &str,
        path: &str,
        node: &Node,
        prop: Property,
    ) -> Outcome<Item> {
        if !self.allowed(path, AclCmd::Get, who) {
            return Err(StatusCode::PermissionDenied);
        }
        let value = prop_value(path, node, prop)?;
        let source = Location::uri(format!("{path}?prop={}", prop.as_str()));
        Ok(Item {
            source: Some(source),
            data: Some(Data::Text(value)),
            ..Item::default()
        })
    }

    /// Replace `<path>?prop=<prop>` with the item's Data.
    pub(super) fn replace_prop(
        &mut self,
        who: &str,
        path: &str,
        prop: Property,
        item: &Item,
        now: u64,
    ) -> Outcome {
        let node = Arc::clone(self.nodes.get(path).ok_or(StatusCode::NotFound)?);
        let value = item_text(item);
        match prop {
            Property::Acl => self.replace_acl(who, path, &node, &value, now),
            Property::Title => self.replace_title(who, path, &node, &value, now),
            Property::Name => self.rename(who, path, &node, &value, now),
            Property::Format
            | Property::Size
            | Property::TStamp
            | Property::Type
            | Property::VerNo => Err(StatusCode::CommandNotAllowed),
        }
    }

    /// Whether `who` may change the ACL of the node at `path`.
    fn may_replace_acl(&self, who: &str, path: &str, node: &Node) -> bool {
        let by_parent = uri::parent(path).is_some_and(|p| self.allowed(p, AclCmd::Replace, who));
        let by_self =
            (node.is_interior() || path == ".") && self.allowed(path, AclCmd::Replace, who);
        by_parent || by_self
    }

    fn replace_acl(
        &mut self,
        who: &str,
        path: &str,
        node: &Node,
        value: &str,
        now: u64,
    ) -> Outcome {
        if !self.may_replace_acl(who, path, node) {
            return Err(StatusCode::PermissionDenied);
        }
        let parsed = Acl::parse(value).map_err(|_| StatusCode::BadRequest)?;
        let keeps_add_for_all = parsed
            .entries()
            .iter()
            .any(|e| e.cmd == AclCmd::Add && e.ids.contains(&"*"));
        if path == "." && !keeps_add_for_all {
            return Err(StatusCode::CommandNotAllowed);
        }
        let acl = (!value.is_empty()).then(|| Arc::from(value));
        self.update(path, |n| {
            n.acl = acl;
            n.touch(now);
        });
        Ok(())
    }

    /// The checks every value-like property write shares: Replace access type, then Replace right.
    fn check_replace_rights(&self, who: &str, path: &str, node: &Node) -> Outcome {
        if !node.access.contains(super::Access::REPLACE) {
            return Err(StatusCode::CommandNotAllowed);
        }
        if !self.allowed(path, AclCmd::Replace, who) {
            return Err(StatusCode::PermissionDenied);
        }
        Ok(())
    }

    fn replace_title(
        &mut self,
        who: &str,
        path: &str,
        node: &Node,
        value: &str,
        now: u64,
    ) -> Outcome {
        self.check_replace_rights(who, path, node)?;
        if value.len() > MAX_TITLE_LEN {
            return Err(StatusCode::RequestEntityTooLarge);
        }
        let title = (!value.is_empty()).then(|| Arc::from(value));
        self.update(path, |n| {
            n.title = title;
            n.touch(now);
        });
        Ok(())
    }

    fn rename(&mut self, who: &str, path: &str, node: &Node, new_name: &str, now: u64) -> Outcome {
        let parent = uri::parent(path).ok_or(StatusCode::CommandNotAllowed)?;
        if self.subtree_has_permanent(path) {
            return Err(StatusCode::CommandNotAllowed);
        }
        self.check_replace_rights(who, path, node)?;
        if !uri::is_valid_segment(new_name) {
            return Err(StatusCode::BadRequest);
        }
        let new_path = uri::join(parent, new_name);
        if new_path == path {
            self.update(path, |n| n.touch(now));
            return Ok(());
        }
        self.check_moved_limits(path, &new_path)?;
        if self.nodes.contains_key(new_path.as_str()) {
            return Err(StatusCode::AlreadyExists);
        }
        self.move_subtree(path, &new_path);
        self.update(&new_path, |n| n.touch(now));
        Ok(())
    }

    /// 414 if the renamed node or any moved descendant would exceed the URI limits.
    fn check_moved_limits(&self, path: &str, new_path: &str) -> Outcome {
        self.limits.check(new_path)?;
        let longest = self
            .descendants(path)
            .map(|(k, _)| k.len())
            .max()
            .unwrap_or(0);
        if longest > 0 {
            let moved_len = longest - path.len() + new_path.len();
            let max = usize::from(self.limits.max_tot_len);
            if max != 0 && moved_len > max {
                return Err(StatusCode::UriTooLong);
            }
        }
        Ok(())
    }

    /// Re-key the node at `path` and its descendants under `new_path` (sizes are unchanged).
    fn move_subtree(&mut self, path: &str, new_path: &str) {
        let mut keys: Vec<Arc<str>> = self.descendants(path).map(|(k, _)| k.clone()).collect();
        keys.push(Arc::from(path));
        for key in keys {
            if let Some(node) = self.nodes.remove(&*key) {
                let moved: Arc<str> = Arc::from(format!("{new_path}{}", &key[path.len()..]));
                self.nodes.insert(moved, node);
            }
        }
    }
}

#[cfg(test)]
mod tests;
