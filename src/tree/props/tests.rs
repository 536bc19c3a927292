//! Tests of property Get and Replace (`?prop=`).

use super::super::testutil::*;
use super::super::{Format, Node, ROOT_ACL};
use crate::syncml::StatusCode;

use StatusCode as S;

fn prop(t: &super::super::Tree, who: &str, uri: &str) -> Result<String, S> {
    let items = t.get(who, &target(uri))?;
    assert_eq!(items.len(), 1);
    assert_eq!(
        items[0].source_uri().map(|s| s.split('?').nth(1).is_some()),
        Some(true)
    );
    assert!(items[0].meta.is_none());
    Ok(text(&items[0]))
}

#[test]
fn get_every_property_of_a_leaf() {
    let mut t = fixture();
    assert_eq!(
        t.replace(SRV, &with_data("./App/Num", "42"), None, 994_869_497),
        S::Ok
    );
    t.insert("./App/Titled", Node::leaf(Format::Chr, "").title("A title"))
        .unwrap();
    assert_eq!(
        prop(&t, SRV, "./App/Num?prop=ACL"),
        Ok(String::new()),
        "inherited ACL reads empty"
    );
    assert_eq!(prop(&t, SRV, "./App/Num?prop=Format"), Ok("int".into()));
    assert_eq!(prop(&t, SRV, "App/Num?prop=Name"), Ok("Num".into()));
    assert_eq!(prop(&t, SRV, "./App/Num?prop=Size"), Ok("2".into()));
    assert_eq!(prop(&t, SRV, "./App/Num?prop=Title"), Ok(String::new()));
    assert_eq!(
        prop(&t, SRV, "./App/Titled?prop=Title"),
        Ok("A title".into())
    );
    assert_eq!(
        prop(&t, SRV, "./App/Num?prop=TStamp"),
        Ok("20010711T163817Z".into())
    );
    assert_eq!(
        prop(&t, SRV, "./App/Num?prop=Type"),
        Ok("text/plain".into())
    );
    assert_eq!(
        prop(&t, SRV, "./App/Bin?prop=Type"),
        Ok("application/octet-stream".into())
    );
    assert_eq!(prop(&t, SRV, "./App/Bin?prop=Size"), Ok("3".into()));
    assert_eq!(prop(&t, SRV, "./App/Num?prop=VerNo"), Ok("1".into()));
    // Properties of a node without Get access type are readable.
    assert_eq!(prop(&t, SRV, "./App/Secret?prop=Format"), Ok("chr".into()));
    let items = t.get(SRV, &target("App/Num?prop=VerNo")).unwrap();
    assert_eq!(items[0].source_uri(), Some("./App/Num?prop=VerNo"));
}

#[test]
fn get_properties_of_interior_nodes() {
    let t = fixture();
    assert_eq!(
        prop(&t, SRV, "./App?prop=ACL"),
        Ok("Add=srv&Delete=srv&Exec=srv&Get=srv&Replace=srv".into())
    );
    assert_eq!(prop(&t, SRV, "./App?prop=Format"), Ok("node".into()));
    assert_eq!(prop(&t, SRV, "./App?prop=Type"), Ok(String::new()));
    assert_eq!(prop(&t, OTHER, ".?prop=ACL"), Ok(ROOT_ACL.into()));
    assert_eq!(prop(&t, OTHER, ".?prop=Name"), Ok(".".into()));
    assert_eq!(
        prop(&t, SRV, "./App?prop=Size"),
        Err(S::OptionalFeatureNotSupported)
    );
}

#[test]
fn get_property_refusals() {
    let t = fixture();
    assert_eq!(
        prop(&t, SRV, "./App/Leaf?prop=Colour"),
        Err(S::OptionalFeatureNotSupported)
    );
    assert_eq!(prop(&t, SRV, "./App/Nope?prop=ACL"), Err(S::NotFound));
    assert_eq!(
        prop(&t, OTHER, "./App/Leaf?prop=ACL"),
        Err(S::PermissionDenied)
    );
    assert_eq!(prop(&t, SRV, "./Inbox?prop=ACL"), Err(S::CommandNotAllowed));
}

#[test]
fn replace_acl_of_an_interior_node_by_its_own_replace_right() {
    let mut t = fixture();
    assert_eq!(
        t.replace(
            SRV,
            &with_data("./App?prop=ACL", "Get=*&Replace=srv"),
            None,
            5
        ),
        S::Ok
    );
    let n = t.node("./App").unwrap();
    assert_eq!(
        (n.acl_str(), n.verno(), n.tstamp_secs()),
        (Some("Get=*&Replace=srv"), 1, 5)
    );
    assert_eq!(text(&t.get(OTHER, &target("./App/Leaf")).unwrap()[0]), "v1");
    // Empty: inherit again.
    assert_eq!(
        t.replace(SRV, &with_data("./App?prop=ACL", ""), None, 6),
        S::Ok
    );
    assert_eq!(t.node("./App").unwrap().acl_str(), None);
}

#[test]
fn replace_acl_of_a_leaf_needs_replace_on_the_parent() {
    let mut t = fixture();
    // A leaf whose own ACL grants OTHER Replace, under a parent that does not.
    t.insert(
        "./App/Own",
        Node::leaf(Format::Chr, "o").acl("Get=other&Replace=other"),
    )
    .unwrap();
    assert_eq!(
        t.replace(OTHER, &with_data("./App/Own", "p"), None, 1),
        S::Ok,
        "value: own ACL suffices"
    );
    refused(&mut t, S::PermissionDenied, |t| {
        t.replace(OTHER, &with_data("./App/Own?prop=ACL", "Get=*"), None, 1)
    });
    assert_eq!(
        t.replace(SRV, &with_data("./App/Own?prop=ACL", "Get=*"), None, 1),
        S::Ok,
        "parent's Replace"
    );
    assert_eq!(t.node("./App/Own").unwrap().acl_str(), Some("Get=*"));
    // An interior node can also be taken over through its parent.
    t.insert("./App/Locked", Node::interior().acl("Get=nobody"))
        .unwrap();
    assert_eq!(
        t.replace(SRV, &with_data("./App/Locked?prop=ACL", "Get=srv"), None, 1),
        S::Ok
    );
}

#[test]
fn replace_acl_refusals() {
    let mut t = fixture();
    refused(&mut t, S::BadRequest, |t| {
        t.replace(SRV, &with_data("./App/Leaf?prop=ACL", "Get="), None, 1)
    });
    refused(&mut t, S::BadRequest, |t| {
        t.replace(SRV, &with_data("./App/Leaf?prop=ACL", "Fetch=*"), None, 1)
    });
    refused(&mut t, S::PermissionDenied, |t| {
        t.replace(OTHER, &with_data("./App?prop=ACL", "Get=*"), None, 1)
    });
    refused(&mut t, S::PermissionDenied, |t| {
        t.replace(OTHER, &with_data(".?prop=ACL", "Add=*&Get=*"), None, 1)
    });
    refused(&mut t, S::NotFound, |t| {
        t.replace(SRV, &with_data("./App/Nope?prop=ACL", "Get=*"), None, 1)
    });
    // The root keeps Add=*.
    t.insert(".", Node::interior().acl("Add=*&Get=*&Replace=srv"))
        .unwrap();
    refused(&mut t, S::CommandNotAllowed, |t| {
        t.replace(SRV, &with_data(".?prop=ACL", "Add=srv&Get=*"), None, 1)
    });
    refused(&mut t, S::CommandNotAllowed, |t| {
        t.replace(SRV, &with_data(".?prop=ACL", ""), None, 1)
    });
    assert_eq!(
        t.replace(SRV, &with_data(".?prop=ACL", "Add=*&Get=srv"), None, 1),
        S::Ok
    );
}

#[test]
fn replace_title() {
    let mut t = fixture();
    assert_eq!(
        t.replace(SRV, &with_data("./App/Leaf?prop=Title", "My leaf"), None, 3),
        S::Ok
    );
    let n = t.node("./App/Leaf").unwrap();
    assert_eq!(
        (n.title_str(), n.verno(), n.value()),
        (Some("My leaf"), 1, &b"v1"[..])
    );
    assert_eq!(
        t.replace(
            SRV,
            &with_data("./App/Leaf?prop=Title", &"t".repeat(255)),
            None,
            3
        ),
        S::Ok
    );
    let long = with_data("./App/Leaf?prop=Title", &"t".repeat(256));
    refused(&mut t, S::RequestEntityTooLarge, |t| {
        t.replace(SRV, &long, None, 3)
    });
    refused(&mut t, S::CommandNotAllowed, |t| {
        t.replace(SRV, &with_data("./App/Run?prop=Title", "x"), None, 3)
    });
    refused(&mut t, S::PermissionDenied, |t| {
        t.replace(OTHER, &with_data("./App/Leaf?prop=Title", "x"), None, 3)
    });
}

#[test]
fn rename_moves_the_subtree() {
    let mut t = fixture();
    let sub = t.nodes["./App/Dir/Sub"].clone();
    assert_eq!(
        t.replace(SRV, &with_data("./App/Dir?prop=Name", "Folder"), None, 4),
        S::Ok
    );
    assert!(t.node("./App/Dir").is_none() && t.node("./App/Dir/Sub").is_none());
    assert_eq!(t.value_str("./App/Folder/Sub"), Some("s"));
    assert!(
        std::sync::Arc::ptr_eq(&sub, &t.nodes["./App/Folder/Sub"]),
        "moved, not copied"
    );
    let n = t.node("./App/Folder").unwrap();
    assert_eq!((n.verno(), n.tstamp_secs()), (1, 4));
    assert_eq!(
        t.children("./App").collect::<Vec<_>>(),
        ["Bin", "Folder", "Leaf", "Num", "Run", "Secret"]
    );
    // Same name: nothing moves.
    assert_eq!(
        t.replace(SRV, &with_data("./App/Leaf?prop=Name", "Leaf"), None, 4),
        S::Ok
    );
    // A node directly under the root.
    t.insert("./Top", Node::leaf(Format::Chr, "x").acl("Replace=srv"))
        .unwrap();
    assert_eq!(
        t.replace(SRV, &with_data("./Top?prop=Name", "Renamed"), None, 4),
        S::Ok
    );
    assert_eq!(t.value_str("./Renamed"), Some("x"));
}

#[test]
fn rename_refusals() {
    let mut t = fixture();
    let deep = format!(
        "./App/Long/{}/x",
        ["abcdefghijklmnopqrstuvwxyz0123"; 3].join("/")
    );
    assert!(deep.len() <= 127 && deep.len() + 28 > 127);
    t.insert(&deep, Node::leaf(Format::Chr, "")).unwrap();
    let rename = |uri: &str, name: &str| with_data(&format!("{uri}?prop=Name"), name);
    refused(&mut t, S::CommandNotAllowed, |t| {
        t.replace(SRV, &rename(".", "root"), None, 1)
    });
    refused(&mut t, S::CommandNotAllowed, |t| {
        t.replace(SRV, &rename("./Std/Perm", "P2"), None, 1)
    });
    refused(&mut t, S::CommandNotAllowed, |t| {
        t.replace(SRV, &rename("./App/Run", "Go"), None, 1)
    });
    refused(&mut t, S::PermissionDenied, |t| {
        t.replace(OTHER, &rename("./App/Leaf", "L2"), None, 1)
    });
    refused(&mut t, S::AlreadyExists, |t| {
        t.replace(SRV, &rename("./App/Leaf", "Num"), None, 1)
    });
    refused(&mut t, S::AlreadyExists, |t| {
        t.replace(SRV, &rename("./App/Leaf", "Dir"), None, 1)
    });
    for bad in ["", "a/b", "..", ".", "a?b"] {
        refused(&mut t, S::BadRequest, |t| {
            t.replace(SRV, &rename("./App/Leaf", bad), None, 1)
        });
    }
    refused(&mut t, S::UriTooLong, |t| {
        t.replace(SRV, &rename("./App/Leaf", &"n".repeat(33)), None, 1)
    });
    // Moving the deep subtree would push its longest URI over 127 bytes.
    let longer = "L".repeat(32);
    refused(&mut t, S::UriTooLong, |t| {
        t.replace(SRV, &rename("./App/Long", &longer), None, 1)
    });
    refused(&mut t, S::NotFound, |t| {
        t.replace(SRV, &rename("./App/Nope", "x"), None, 1)
    });
}

#[test]
fn read_only_and_unknown_properties() {
    let mut t = fixture();
    for p in ["Format", "Size", "TStamp", "Type", "VerNo"] {
        let item = with_data(&format!("./App/Leaf?prop={p}"), "x");
        refused(&mut t, S::CommandNotAllowed, |t| {
            t.replace(SRV, &item, None, 1)
        });
    }
    refused(&mut t, S::OptionalFeatureNotSupported, |t| {
        t.replace(SRV, &with_data("./App/Leaf?prop=Colour", "x"), None, 1)
    });
}
