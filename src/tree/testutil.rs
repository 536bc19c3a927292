//! Test helpers shared by the tree's unit tests: items, a fixture tree, and the "refused command
//! leaves the tree unchanged" check.

use super::{Access, Format, Node, Tree, UriLimits};
use crate::syncml::{Data, Item, Location, Meta, StatusCode};

/// The server with every right on `./App`.
pub const SRV: &str = "srv";
/// A server with only the root's `Add=*&Get=*`.
pub const OTHER: &str = "other";

/// An item with only a Target.
pub fn target(uri: &str) -> Item {
    Item {
        target: Some(Location::uri(uri)),
        ..Item::default()
    }
}

/// An item with a Target and text Data.
pub fn with_data(uri: &str, data: &str) -> Item {
    Item {
        data: Some(Data::Text(data.to_string())),
        ..target(uri)
    }
}

/// An item with a Target, Data and item-level Meta Format (and Type).
pub fn with_meta(uri: &str, data: &str, format: &str, type_: Option<&str>) -> Item {
    Item {
        meta: Some(meta(format, type_)),
        ..with_data(uri, data)
    }
}

/// A Meta with Format and optional Type.
pub fn meta(format: &str, type_: Option<&str>) -> Meta {
    Meta {
        format: Some(format.to_string()),
        type_: type_.map(str::to_string),
        ..Meta::default()
    }
}

/// A Copy item: Target and Source.
pub fn copy_item(to: &str, from: &str) -> Item {
    Item {
        source: Some(Location::uri(from)),
        ..target(to)
    }
}

/// The text Data of an item.
pub fn text(item: &Item) -> String {
    item.data_text().map(|t| t.into_owned()).unwrap_or_default()
}

/// Run a command that must be refused with `expected`, and check the tree did not change.
#[track_caller]
pub fn refused(tree: &mut Tree, expected: StatusCode, f: impl FnOnce(&mut Tree) -> StatusCode) {
    let before = tree.clone();
    let got = f(tree);
    assert_eq!(got, expected);
    assert_eq!(*tree, before, "a refused command ({got}) changed the tree");
}

/// A tree with limits 8/127/32 and:
/// - `./App` (ACL: every command for [`SRV`]) holding `Leaf` (chr `v1`), `Num` (int `1`), `Dir/Sub`
///   (chr `s`), `Bin` (bin `00 01 ff`, type `application/octet-stream`), `Secret` (Replace only),
///   `Run` (Get|Exec);
/// - `./Std` (permanent, Get only, ACL `Get=*&Replace=srv`) with permanent `Perm` (chr `p`, Get|Replace);
/// - `./Inbox` (Add|Exec).
pub fn fixture() -> Tree {
    let mut t = Tree::new(UriLimits::new(8, 127, 32));
    let nodes = [
        (
            "./App",
            Node::interior().acl("Add=srv&Delete=srv&Exec=srv&Get=srv&Replace=srv"),
        ),
        ("./App/Leaf", Node::leaf(Format::Chr, "v1")),
        ("./App/Num", Node::leaf(Format::Int, "1")),
        ("./App/Dir/Sub", Node::leaf(Format::Chr, "s")),
        (
            "./App/Bin",
            Node::leaf(Format::Bin, [0u8, 1, 255]).mime("application/octet-stream"),
        ),
        (
            "./App/Secret",
            Node::leaf(Format::Chr, "pw").access(Access::REPLACE),
        ),
        (
            "./App/Run",
            Node::leaf(Format::Chr, "").access(Access::GET | Access::EXEC),
        ),
        (
            "./Std",
            Node::interior()
                .access(Access::GET)
                .acl("Get=*&Replace=srv")
                .permanent(),
        ),
        (
            "./Std/Perm",
            Node::leaf(Format::Chr, "p")
                .access(Access::GET | Access::REPLACE)
                .permanent(),
        ),
        (
            "./Inbox",
            Node::interior().access(Access::ADD | Access::EXEC),
        ),
    ];
    for (uri, node) in nodes {
        if let Err(e) = t.insert(uri, node) {
            panic!("fixture {uri}: {e}");
        }
    }
    t
}
