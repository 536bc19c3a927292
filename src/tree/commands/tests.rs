//! Tests of the server commands: every status of the module doc, and an unchanged tree after each
//! refused command.

use std::sync::Arc;

use super::super::testutil::*;
use super::super::{Access, Format, Node, Tree, UriLimits};
use crate::syncml::{Data, Item, Location, StatusCode};

use StatusCode as S;

// ---- Add ----

#[test]
fn add_leaf_uses_meta_defaults() {
    let mut t = fixture();
    assert_eq!(t.add(SRV, &with_data("App/New", "hi"), None, 50), S::Ok);
    let n = t.node("./App/New").unwrap();
    assert_eq!(
        (n.format(), n.value(), n.mime_type()),
        (Format::Chr, &b"hi"[..], Some("text/plain"))
    );
    assert_eq!((n.acl_str(), n.verno(), n.tstamp_secs()), (None, 0, 50));
    assert!(n.is_leaf() && !n.is_permanent());
    assert_eq!(n.access_type(), Access::DYNAMIC);
}

#[test]
fn add_takes_item_meta_over_command_meta() {
    let mut t = fixture();
    let cmd = meta("int", Some("text/x-count"));
    assert_eq!(t.add(SRV, &with_data("./App/A", "7"), Some(&cmd), 1), S::Ok);
    assert_eq!(t.node("./App/A").unwrap().format(), Format::Int);
    assert_eq!(t.node("./App/A").unwrap().mime_type(), Some("text/x-count"));
    let item = with_meta("./App/B", "true", "bool", None);
    assert_eq!(t.add(SRV, &item, Some(&cmd), 1), S::Ok);
    let b = t.node("./App/B").unwrap();
    assert_eq!(
        (b.format(), b.mime_type()),
        (Format::Bool, Some("text/x-count"))
    );
}

#[test]
fn add_interior_node() {
    let mut t = fixture();
    let item = with_meta("./App/Obj", "", "node", Some("urn:oma:mo:test:1.0"));
    assert_eq!(t.add(SRV, &item, None, 3), S::Ok);
    let n = t.node("./App/Obj").unwrap();
    assert!(n.is_interior());
    assert_eq!(n.mime_type(), Some("urn:oma:mo:test:1.0"));
    assert_eq!(t.add(SRV, &target("./App/Obj/Leaf"), None, 3), S::Ok);
    assert_eq!(t.value("./App/Obj/Leaf"), Some(&b""[..]));
}

#[test]
fn add_creates_implicit_parents() {
    let mut t = fixture();
    assert_eq!(t.add(SRV, &with_data("./App/X/Y/Z", "z"), None, 9), S::Ok);
    for p in ["./App/X", "./App/X/Y"] {
        let n = t.node(p).unwrap();
        assert!(n.is_interior(), "{p}");
        assert_eq!(
            (n.acl_str(), n.tstamp_secs()),
            (None, 9),
            "srv has Replace on ./App: ACLs inherit"
        );
    }
}

#[test]
fn interior_created_without_replace_on_parent_grants_its_creator() {
    let mut t = fixture();
    // OTHER has only Add=*&Get=* at the root: no Replace there.
    assert_eq!(
        t.add(OTHER, &with_data("./Mine/Sub/Leaf", "x"), None, 1),
        S::Ok
    );
    assert_eq!(
        t.node("./Mine").unwrap().acl_str(),
        Some("Add=other&Delete=other&Replace=other")
    );
    assert_eq!(
        t.node("./Mine/Sub").unwrap().acl_str(),
        None,
        "other has Replace on ./Mine"
    );
    assert_eq!(t.node("./Mine/Sub/Leaf").unwrap().acl_str(), None);
    assert_eq!(
        t.replace(OTHER, &with_data("./Mine/Sub/Leaf", "y"), None, 2),
        S::Ok
    );
    assert_eq!(
        t.add(OTHER, &with_meta("./Dir2", "", "node", None), None, 1),
        S::Ok
    );
    assert_eq!(
        t.node("./Dir2").unwrap().acl_str(),
        Some("Add=other&Delete=other&Replace=other")
    );
    assert_eq!(t.delete(OTHER, &target("./Mine")), S::Ok);
    // A leaf directly under the root keeps an empty ACL.
    assert_eq!(t.add(OTHER, &target("./Top"), None, 1), S::Ok);
    assert_eq!(t.node("./Top").unwrap().acl_str(), None);
}

#[test]
fn add_refusals() {
    let mut t = fixture();
    refused(&mut t, S::IncompleteCommand, |t| {
        t.add(SRV, &Item::default(), None, 1)
    });
    refused(&mut t, S::BadRequest, |t| {
        t.add(SRV, &target("./App//X"), None, 1)
    });
    refused(&mut t, S::BadRequest, |t| t.add(SRV, &target(""), None, 1));
    refused(&mut t, S::UriTooLong, |t| {
        t.add(SRV, &target("./App/a/b/c/d/e/f/g/h"), None, 1)
    });
    refused(&mut t, S::UriTooLong, |t| {
        t.add(SRV, &target(&format!("./App/{}", "x".repeat(33))), None, 1)
    });
    refused(&mut t, S::AlreadyExists, |t| {
        t.add(SRV, &target("./App/Leaf"), None, 1)
    });
    refused(&mut t, S::AlreadyExists, |t| {
        t.add(SRV, &target("App/Dir/"), None, 1)
    });
    refused(&mut t, S::CommandNotAllowed, |t| {
        t.add(SRV, &target("./App/Leaf/X"), None, 1)
    });
    refused(&mut t, S::CommandNotAllowed, |t| {
        t.add(SRV, &target("./App/Leaf/X/Y"), None, 1)
    });
    refused(&mut t, S::CommandNotAllowed, |t| {
        t.add(SRV, &target("./Std/New"), None, 1)
    });
    refused(&mut t, S::CommandNotAllowed, |t| {
        t.add(SRV, &target("./App/N?prop=Title"), None, 1)
    });
    refused(&mut t, S::CommandNotAllowed, |t| {
        t.add(SRV, &target("./App?list=Struct"), None, 1)
    });
    refused(&mut t, S::CommandNotAllowed, |t| {
        t.add(SRV, &target("./App/N?list=TNDS"), None, 1)
    });
    refused(&mut t, S::OptionalFeatureNotSupported, |t| {
        t.add(SRV, &target("./App/N?list=TNDSX"), None, 1)
    });
    refused(&mut t, S::PermissionDenied, |t| {
        t.add(OTHER, &target("./App/New"), None, 1)
    });
    refused(&mut t, S::PermissionDenied, |t| {
        t.add(OTHER, &target("./App/New/Deep"), None, 1)
    });
    refused(&mut t, S::UnsupportedMediaType, |t| {
        t.add(SRV, &with_meta("./App/N", "x", "string", None), None, 1)
    });
    // TNDS in an encoding other than XML and WBXML.
    let tnds = with_meta(
        "./App/N",
        "{}",
        "chr",
        Some("application/vnd.syncml.dmtnds+json"),
    );
    refused(&mut t, S::UnsupportedMediaType, |t| {
        t.add(SRV, &tnds, None, 1)
    });
    refused(&mut t, S::BadRequest, |t| {
        t.add(SRV, &with_meta("./App/N", "x1", "int", None), None, 1)
    });
    // chr data is text without NUL, whether its Format is given or the default.
    refused(&mut t, S::BadRequest, |t| {
        t.add(SRV, &with_meta("./App/N", "a\0b", "chr", None), None, 1)
    });
    refused(&mut t, S::BadRequest, |t| {
        t.add(SRV, &with_data("./App/N", "a\0b"), None, 1)
    });
    refused(&mut t, S::BadRequest, |t| {
        t.add(SRV, &with_meta("./App/N", "yes", "bool", None), None, 1)
    });
    refused(&mut t, S::BadRequest, |t| {
        t.add(SRV, &with_meta("./App/N", "1.0", "date", None), None, 1)
    });
    refused(&mut t, S::BadRequest, |t| {
        t.add(SRV, &with_meta("./App/N", "!!!", "b64", None), None, 1)
    });
    refused(&mut t, S::BadRequest, |t| {
        t.add(SRV, &with_meta("./App/N", "data", "node", None), None, 1)
    });
    refused(&mut t, S::BadRequest, |t| {
        t.add(SRV, &with_meta("./App/N", "x", "null", None), None, 1)
    });
}

#[test]
fn add_b64_is_stored_as_bin_and_read_back_as_b64() {
    let mut t = fixture();
    let item = with_meta(
        "./App/Blob",
        "AAEC\n/w==",
        "b64",
        Some("application/octet-stream"),
    );
    assert_eq!(t.add(SRV, &item, None, 1), S::Ok);
    let n = t.node("./App/Blob").unwrap();
    assert_eq!(
        (n.format(), n.value()),
        (Format::Bin, &[0u8, 1, 2, 255][..])
    );
    let got = t.get(SRV, &target("./App/Blob")).unwrap();
    assert_eq!(text(&got[0]), "AAEC/w==");
    let m = got[0].meta.as_ref().unwrap();
    assert_eq!(
        (m.format.as_deref(), m.type_.as_deref()),
        (Some("b64"), Some("application/octet-stream"))
    );
    // Opaque (WBXML) data with Format bin is taken as is.
    let opaque = Item {
        data: Some(Data::Opaque(vec![9, 8])),
        meta: Some(meta("bin", None)),
        ..target("./App/Raw")
    };
    assert_eq!(t.add(SRV, &opaque, None, 1), S::Ok);
    assert_eq!(t.value("./App/Raw"), Some(&[9u8, 8][..]));
}

#[test]
fn add_beyond_capacity_is_device_full() {
    let mut t = fixture().with_capacity_bytes(Some(20));
    let used = t.used_bytes();
    let fits = "x".repeat((20 - used) as usize);
    refused(&mut t, S::DeviceFull, |t| {
        t.add(SRV, &with_data("./App/Big", &format!("{fits}y")), None, 1)
    });
    assert_eq!(t.add(SRV, &with_data("./App/Big", &fits), None, 1), S::Ok);
    assert_eq!(t.used_bytes(), 20);
    refused(&mut t, S::DeviceFull, |t| {
        t.add(SRV, &with_data("./App/One", "1"), None, 1)
    });
    assert_eq!(t.add(SRV, &target("./App/Empty"), None, 1), S::Ok);
}

// ---- Replace ----

#[test]
fn replace_value_bumps_verno_and_tstamp() {
    let mut t = fixture();
    assert_eq!(
        t.replace(SRV, &with_data("App/Leaf", "v2"), None, 77),
        S::Ok
    );
    let n = t.node("./App/Leaf").unwrap();
    assert_eq!((n.value(), n.verno(), n.tstamp_secs()), (&b"v2"[..], 1, 77));
    assert_eq!(
        t.replace(SRV, &with_data("./App/Leaf", "v3"), None, 78),
        S::Ok
    );
    assert_eq!(t.node("./App/Leaf").unwrap().verno(), 2);
    // A chr leaf takes no NUL (it would go out in Results as chr data with a NUL).
    refused(&mut t, S::BadRequest, |t| {
        t.replace(SRV, &with_data("./App/Leaf", "v\0"), None, 79)
    });
}

#[test]
fn replace_without_meta_keeps_format_and_type() {
    let mut t = fixture();
    assert_eq!(
        t.replace(SRV, &with_data("./App/Num", "-5"), None, 1),
        S::Ok
    );
    assert_eq!(t.node("./App/Num").unwrap().format(), Format::Int);
    refused(&mut t, S::BadRequest, |t| {
        t.replace(SRV, &with_data("./App/Num", "five"), None, 1)
    });
    // With Meta, a dynamic node may change Format and Type.
    assert_eq!(
        t.replace(
            SRV,
            &with_meta("./App/Num", "five", "chr", Some("text/x")),
            None,
            1
        ),
        S::Ok
    );
    let n = t.node("./App/Num").unwrap();
    assert_eq!((n.format(), n.mime_type()), (Format::Chr, Some("text/x")));
    // b64 into a bin node.
    assert_eq!(
        t.replace(SRV, &with_meta("./App/Bin", "qg==", "b64", None), None, 1),
        S::Ok
    );
    let b = t.node("./App/Bin").unwrap();
    assert_eq!(
        (b.format(), b.value(), b.mime_type()),
        (Format::Bin, &[0xaau8][..], Some("application/octet-stream"))
    );
}

#[test]
fn replace_on_permanent_node_keeps_its_kind() {
    let mut t = fixture();
    assert_eq!(
        t.replace(SRV, &with_data("./Std/Perm", "q"), None, 1),
        S::Ok
    );
    assert_eq!(
        t.replace(
            SRV,
            &with_meta("./Std/Perm", "r", "chr", Some("text/plain")),
            None,
            1
        ),
        S::Ok
    );
    refused(&mut t, S::CommandNotAllowed, |t| {
        t.replace(SRV, &with_meta("./Std/Perm", "1", "int", None), None, 1)
    });
    let typed = with_meta("./Std/Perm", "r", "chr", Some("text/html"));
    refused(&mut t, S::CommandNotAllowed, |t| {
        t.replace(SRV, &typed, None, 1)
    });
}

#[test]
fn replace_refusals() {
    let mut t = fixture();
    refused(&mut t, S::IncompleteCommand, |t| {
        t.replace(SRV, &Item::default(), None, 1)
    });
    refused(&mut t, S::BadRequest, |t| {
        t.replace(SRV, &with_data("./App/../Leaf", "x"), None, 1)
    });
    refused(&mut t, S::UriTooLong, |t| {
        t.replace(
            SRV,
            &with_data(&format!("./{}", "a/".repeat(9)), "x"),
            None,
            1,
        )
    });
    refused(&mut t, S::NotFound, |t| {
        t.replace(SRV, &with_data("./App/Nope", "x"), None, 1)
    });
    refused(&mut t, S::CommandNotAllowed, |t| {
        t.replace(SRV, &with_data("./App/Dir", "x"), None, 1)
    });
    refused(&mut t, S::CommandNotAllowed, |t| {
        t.replace(SRV, &with_data(".", "x"), None, 1)
    });
    refused(&mut t, S::CommandNotAllowed, |t| {
        t.replace(SRV, &with_data("./App/Run", "x"), None, 1)
    });
    refused(&mut t, S::CommandNotAllowed, |t| {
        t.replace(SRV, &with_data("./App?list=Struct", "x"), None, 1)
    });
    refused(&mut t, S::CommandNotAllowed, |t| {
        t.replace(SRV, &with_data("./App?list=TNDS-Value", "x"), None, 1)
    });
    refused(&mut t, S::CommandNotAllowed, |t| {
        t.replace(SRV, &with_meta("./App/Leaf", "", "node", None), None, 1)
    });
    refused(&mut t, S::PermissionDenied, |t| {
        t.replace(OTHER, &with_data("./App/Leaf", "x"), None, 1)
    });
    refused(&mut t, S::UnsupportedMediaType, |t| {
        t.replace(SRV, &with_meta("./App/Leaf", "x", "text", None), None, 1)
    });
    refused(&mut t, S::BadRequest, |t| {
        t.replace(SRV, &with_meta("./App/Leaf", "1.5", "int", None), None, 1)
    });
    refused(&mut t, S::BadRequest, |t| {
        t.replace(SRV, &with_meta("./App/Bin", "#", "b64", None), None, 1)
    });
    let mut full = fixture().with_capacity_bytes(Some(fixture().used_bytes()));
    refused(&mut full, S::DeviceFull, |t| {
        t.replace(SRV, &with_data("./App/Leaf", "v1+"), None, 1)
    });
    assert_eq!(
        full.replace(SRV, &with_data("./App/Leaf", "v"), None, 1),
        S::Ok
    );
    assert_eq!(
        full.replace(SRV, &with_data("./App/Leaf", "v1"), None, 1),
        S::Ok
    );
}

// ---- Delete ----

#[test]
fn delete_removes_the_subtree() {
    let mut t = fixture();
    let used = t.used_bytes();
    assert_eq!(t.delete(SRV, &target("App/Dir")), S::Ok);
    assert!(t.node("./App/Dir").is_none() && t.node("./App/Dir/Sub").is_none());
    assert_eq!(t.used_bytes(), used - 1);
    assert_eq!(t.delete(SRV, &target("./App")), S::Ok);
    assert_eq!(t.children(".").collect::<Vec<_>>(), vec!["Inbox", "Std"]);
}

#[test]
fn delete_refusals() {
    let mut t = fixture();
    t.insert("./App/Keep/Fixed", Node::leaf(Format::Chr, "f").permanent())
        .unwrap();
    refused(&mut t, S::IncompleteCommand, |t| {
        t.delete(SRV, &Item::default())
    });
    refused(&mut t, S::BadRequest, |t| {
        t.delete(SRV, &target("./App/./Leaf"))
    });
    refused(&mut t, S::UriTooLong, |t| {
        t.delete(SRV, &target(&format!("./{}", "x".repeat(40))))
    });
    refused(&mut t, S::CommandNotAllowed, |t| {
        t.delete(SRV, &target("."))
    });
    refused(&mut t, S::CommandNotAllowed, |t| {
        t.delete(SRV, &target("./"))
    });
    refused(&mut t, S::NotFound, |t| {
        t.delete(SRV, &target("./App/Nope"))
    });
    refused(&mut t, S::CommandNotAllowed, |t| {
        t.delete(SRV, &target("./Std"))
    });
    refused(&mut t, S::CommandNotAllowed, |t| {
        t.delete(SRV, &target("./Std/Perm"))
    });
    refused(&mut t, S::CommandNotAllowed, |t| {
        t.delete(SRV, &target("./App/Run"))
    });
    refused(&mut t, S::CommandNotAllowed, |t| {
        t.delete(SRV, &target("./App/Keep"))
    });
    refused(&mut t, S::CommandNotAllowed, |t| {
        t.delete(SRV, &target("./App"))
    });
    refused(&mut t, S::CommandNotAllowed, |t| {
        t.delete(SRV, &target("./App/Leaf?prop=ACL"))
    });
    refused(&mut t, S::PermissionDenied, |t| {
        t.delete(OTHER, &target("./App/Leaf"))
    });
}

// ---- Copy ----

#[test]
fn copy_to_a_new_node() {
    let mut t = fixture();
    assert_eq!(
        t.copy(SRV, &copy_item("./App/New/Bin2", "App/Bin"), 5),
        S::Ok
    );
    let (a, b) = (
        t.node("./App/Bin").unwrap(),
        t.node("./App/New/Bin2").unwrap(),
    );
    assert_eq!(
        (b.format(), b.value(), b.mime_type()),
        (a.format(), a.value(), a.mime_type())
    );
    assert_eq!((b.verno(), b.tstamp_secs(), b.acl_str()), (0, 5, None));
    assert!(t.node("./App/New").unwrap().is_interior());
    // The copy is independent of the original.
    assert_eq!(
        t.replace(SRV, &with_meta("./App/Bin", "AA==", "b64", None), None, 6),
        S::Ok
    );
    assert_eq!(t.value("./App/New/Bin2"), Some(&[0u8, 1, 255][..]));
}

#[test]
fn copy_overwrites_an_existing_leaf() {
    let mut t = fixture();
    assert_eq!(t.copy(SRV, &copy_item("./App/Leaf", "./App/Num"), 8), S::Ok);
    let n = t.node("./App/Leaf").unwrap();
    assert_eq!(
        (n.format(), n.value(), n.verno(), n.tstamp_secs()),
        (Format::Int, &b"1"[..], 1, 8)
    );
    // Same kind on a permanent node is fine.
    assert_eq!(
        t.copy(SRV, &copy_item("./Std/Perm", "./App/Dir/Sub"), 8),
        S::Ok
    );
    assert_eq!(t.value_str("./Std/Perm"), Some("s"));
}

#[test]
fn copy_refusals() {
    let mut t = fixture();
    t.insert("./Pub", Node::leaf(Format::Chr, "p")).unwrap();
    refused(&mut t, S::IncompleteCommand, |t| {
        t.copy(SRV, &target("./App/C"), 1)
    });
    let no_target = Item {
        source: Some(Location::uri("./App/Leaf")),
        ..Item::default()
    };
    refused(&mut t, S::IncompleteCommand, |t| t.copy(SRV, &no_target, 1));
    refused(&mut t, S::BadRequest, |t| {
        t.copy(SRV, &copy_item("./App/C", "./App//Leaf"), 1)
    });
    refused(&mut t, S::NotFound, |t| {
        t.copy(SRV, &copy_item("./App/C", "./App/Nope"), 1)
    });
    refused(&mut t, S::CommandNotAllowed, |t| {
        t.copy(SRV, &copy_item("./App/C", "./App/Dir"), 1)
    });
    refused(&mut t, S::CommandNotAllowed, |t| {
        t.copy(SRV, &copy_item("./App/C", "./App/Secret"), 1)
    });
    refused(&mut t, S::CommandNotAllowed, |t| {
        t.copy(SRV, &copy_item("./App/C?prop=Title", "./App/Leaf"), 1)
    });
    refused(&mut t, S::CommandNotAllowed, |t| {
        t.copy(SRV, &copy_item("./App/Dir", "./App/Leaf"), 1)
    });
    refused(&mut t, S::CommandNotAllowed, |t| {
        t.copy(SRV, &copy_item("./App/Leaf/C", "./App/Num"), 1)
    });
    refused(&mut t, S::CommandNotAllowed, |t| {
        t.copy(SRV, &copy_item("./Std/C", "./App/Num"), 1)
    });
    refused(&mut t, S::PermissionDenied, |t| {
        t.copy(OTHER, &copy_item("./C", "./App/Leaf"), 1)
    });
    refused(&mut t, S::PermissionDenied, |t| {
        t.copy(OTHER, &copy_item("./App/C", "./Pub"), 1)
    });
    refused(&mut t, S::PermissionDenied, |t| {
        t.copy(OTHER, &copy_item("./Std/Perm", "./Pub"), 1)
    });
    refused(&mut t, S::CommandNotAllowed, |t| {
        t.copy(SRV, &copy_item("./App/C", "./Std/Perm"), 1)
    });
    refused(&mut t, S::Forbidden, |t| {
        t.copy(SRV, &copy_item("./App/Run", "./App/Leaf"), 1)
    });
    refused(&mut t, S::Forbidden, |t| {
        t.copy(SRV, &copy_item("./Std/Perm", "./App/Num"), 1)
    });
    let mut full = fixture().with_capacity_bytes(Some(fixture().used_bytes()));
    refused(&mut full, S::DeviceFull, |t| {
        t.copy(SRV, &copy_item("./App/C", "./App/Leaf"), 1)
    });
    refused(&mut full, S::DeviceFull, |t| {
        t.copy(SRV, &copy_item("./App/Num", "./App/Leaf"), 1)
    });
}

// ---- Get ----

#[test]
fn get_leaf_and_interior() {
    let t = fixture();
    let leaf = t.get(SRV, &target("App/Leaf")).unwrap();
    assert_eq!(leaf.len(), 1);
    assert_eq!(leaf[0].source_uri(), Some("./App/Leaf"));
    assert_eq!(leaf[0].target, None);
    let m = leaf[0].meta.as_ref().unwrap();
    assert_eq!(
        (m.format.as_deref(), m.type_.as_deref()),
        (Some("chr"), None)
    );
    assert_eq!(text(&leaf[0]), "v1");
    let num = t.get(SRV, &target("./App/Num")).unwrap();
    assert_eq!(num[0].meta.as_ref().unwrap().format.as_deref(), Some("int"));
    let dir = t.get(SRV, &target("./App")).unwrap();
    assert_eq!(text(&dir[0]), "Bin/Dir/Leaf/Num/Run/Secret");
    assert_eq!(
        dir[0].meta.as_ref().unwrap().format.as_deref(),
        Some("node")
    );
    let root = t.get(OTHER, &target(".")).unwrap();
    assert_eq!(text(&root[0]), "App/Inbox/Std");
    let empty = t.get(SRV, &target("./App/Run")).unwrap();
    assert_eq!(empty[0].data, Some(Data::Text(String::new())));
}

#[test]
fn get_refusals() {
    let t = fixture();
    let get = |who: &str, uri: &str| t.get(who, &target(uri)).err();
    assert_eq!(
        t.get(SRV, &Item::default()).err(),
        Some(S::IncompleteCommand)
    );
    assert_eq!(get(SRV, "./App//Leaf"), Some(S::BadRequest));
    assert_eq!(get(SRV, "./a/b/c/d/e/f/g/h/i"), Some(S::UriTooLong));
    assert_eq!(get(SRV, "./App/Nope"), Some(S::NotFound));
    assert_eq!(get(OTHER, "./App/Leaf"), Some(S::PermissionDenied));
    assert_eq!(get(SRV, "./App/Secret"), Some(S::CommandNotAllowed));
    assert_eq!(get(SRV, "./Inbox"), Some(S::CommandNotAllowed));
    assert_eq!(get(SRV, "Inbox/Anything"), Some(S::CommandNotAllowed));
    assert_eq!(get(SRV, "./Inbox?list=Struct"), Some(S::CommandNotAllowed));
    assert_eq!(
        get(SRV, "./App?list=TNDS+Colour"),
        Some(S::OptionalFeatureNotSupported)
    );
    assert_eq!(get(SRV, "./App?list=TNDS+ACL-Value"), Some(S::BadRequest));
    assert_eq!(get(OTHER, "./App?list=TNDS"), Some(S::PermissionDenied));
    assert_eq!(
        get(SRV, "./App/Secret?list=TNDS"),
        Some(S::CommandNotAllowed)
    );
    assert_eq!(get(SRV, "./Inbox?list=TNDS"), Some(S::CommandNotAllowed));
    assert_eq!(
        get(SRV, "./App?list=Other"),
        Some(S::OptionalFeatureNotSupported)
    );
    assert_eq!(get(OTHER, "./App?list=Struct"), Some(S::PermissionDenied));
    assert_eq!(
        get(SRV, "./App/Secret?list=Struct"),
        Some(S::CommandNotAllowed)
    );
}

#[test]
fn list_struct_lists_the_subtree_without_data() {
    let t = fixture();
    let items = t.get(SRV, &target("./App?list=Struct")).unwrap();
    let uris: Vec<_> = items.iter().map(|i| i.source_uri().unwrap()).collect();
    let expected = [
        "./App",
        "./App/Bin",
        "./App/Dir",
        "./App/Dir/Sub",
        "./App/Leaf",
        "./App/Num",
        "./App/Run",
        "./App/Secret",
    ];
    assert_eq!(uris, expected);
    assert!(items.iter().all(|i| i.data.is_none()));
    let formats: Vec<_> = items
        .iter()
        .map(|i| i.meta.as_ref().unwrap().format.clone().unwrap())
        .collect();
    assert_eq!(
        formats,
        ["node", "bin", "node", "chr", "chr", "int", "chr", "chr"]
    );
    assert_eq!(
        items[1].meta.as_ref().unwrap().type_.as_deref(),
        Some("application/octet-stream")
    );
    // The Inbox never shows in a listing.
    let mut t = t;
    t.insert("./Inbox/Pending", Node::leaf(Format::Chr, "x"))
        .unwrap();
    let all = t.get(OTHER, &target(".?list=Struct")).unwrap();
    assert!(all
        .iter()
        .all(|i| !i.source_uri().unwrap().starts_with("./Inbox")));
    assert_eq!(all[0].source_uri(), Some("."));
    // A leaf lists itself.
    let one = t.get(SRV, &target("./App/Leaf?list=Struct")).unwrap();
    assert_eq!(one.len(), 1);
}

#[test]
fn list_struct_data_adds_leaf_data_where_readable() {
    let mut t = fixture();
    t.insert(
        "./App/Hidden",
        Node::leaf(Format::Chr, "h").acl("Get=nobody"),
    )
    .unwrap();
    let items = t.get(SRV, &target("./App?list=StructData")).unwrap();
    let by_uri = |u: &str| items.iter().find(|i| i.source_uri() == Some(u));
    assert!(
        by_uri("./App/Hidden").is_none(),
        "ACL-denied nodes are skipped"
    );
    assert_eq!(by_uri("./App").unwrap().data, None);
    assert_eq!(text(by_uri("./App/Leaf").unwrap()), "v1");
    assert_eq!(text(by_uri("./App/Dir/Sub").unwrap()), "s");
    assert_eq!(text(by_uri("./App/Bin").unwrap()), "AAH/");
    assert_eq!(
        by_uri("./App/Bin")
            .unwrap()
            .meta
            .as_ref()
            .unwrap()
            .format
            .as_deref(),
        Some("b64")
    );
    assert_eq!(
        by_uri("./App/Secret").unwrap().data,
        None,
        "no Get access type: structure only"
    );
    assert_eq!(items.len(), 8);
}

// ---- Exec ----

#[test]
fn check_exec_statuses() {
    let t = fixture();
    let exec = |who: &str, uri: &str| t.check_exec(who, &target(uri));
    assert_eq!(exec(SRV, "App/Run"), Ok("./App/Run".to_string()));
    assert_eq!(
        t.check_exec(SRV, &Item::default()),
        Err(S::IncompleteCommand)
    );
    assert_eq!(exec(SRV, "./App/Nope"), Err(S::NotFound));
    assert_eq!(exec(SRV, "./App/Leaf"), Err(S::CommandNotAllowed));
    assert_eq!(exec(SRV, "./App/Run?prop=ACL"), Err(S::CommandNotAllowed));
    assert_eq!(exec(OTHER, "./App/Run"), Err(S::PermissionDenied));
    assert_eq!(exec(SRV, "./App/a/b/c/d/e/f/g/h"), Err(S::UriTooLong));
    assert_eq!(exec(SRV, "./App/../Run"), Err(S::BadRequest));
}

// ---- snapshots and sharing ----

#[test]
fn atomic_snapshot_is_a_clone() {
    let mut t = fixture();
    let snapshot = t.clone();
    assert_eq!(t.add(SRV, &target("./App/New"), None, 1), S::Ok);
    assert_eq!(t.delete(SRV, &target("./App/Dir")), S::Ok);
    assert_ne!(t, snapshot);
    t = snapshot.clone();
    assert_eq!(t, snapshot);
    assert!(Arc::ptr_eq(
        &t.nodes["./App/Leaf"],
        &snapshot.nodes["./App/Leaf"]
    ));
}

#[test]
fn server_commands_respect_unlimited_limits() {
    let mut t = Tree::new(UriLimits::UNLIMITED);
    let deep = format!("./{}", ["seg"; 40].join("/"));
    assert_eq!(t.add(SRV, &target(&deep), None, 1), S::Ok);
    assert_eq!(t.len(), 41);
}
