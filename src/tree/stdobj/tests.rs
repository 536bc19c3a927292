//! Tests of the standard objects: contents, server view, and shared-template memory.

use std::sync::Arc;

use super::*;
use crate::syncml::StatusCode;
use crate::tree::testutil::{meta, refused, target, text, with_data, with_meta};

use StatusCode as S;

const SERVER: &str = "dm.example.com";

fn identity(dev_id: &str) -> Identity {
    Identity {
        dev_id: dev_id.to_string(),
        man: "Acme".into(),
        model: "Phone 3".into(),
        dm_version: "1.2".into(),
        lang: "en-US".into(),
        dev_type: "phone".into(),
        oem: "Acme OEM".into(),
        fw_version: "FW-1.0".into(),
        sw_version: "SW-1.0".into(),
        hw_version: "HW-A".into(),
        large_object: true,
    }
}

fn account(client_name: &str) -> DmAccount {
    DmAccount {
        account: "acme".into(),
        server_id: SERVER.into(),
        name: "Acme DM".into(),
        addr: "https://dm.example.com/dm".into(),
        addr_type: "URI".into(),
        port: Some(443),
        client: AuthSettings {
            auth_type: "DIGEST".into(),
            name: client_name.into(),
            secret: "client-secret".into(),
            data: vec![1, 2, 3],
        },
        server: AuthSettings {
            auth_type: "DIGEST".into(),
            name: SERVER.into(),
            secret: "server-secret".into(),
            data: vec![4, 5],
        },
        pref_auth: Some("DIGEST".into()),
    }
}

fn limits() -> UriLimits {
    UriLimits::new(8, 127, 32)
}

fn device(n: u32) -> Tree {
    standard_tree(
        &identity(&format!("IMEI:{n:015}")),
        &[account(&format!("dev{n}"))],
        limits(),
    )
}

#[test]
fn devinfo_and_devdetail_contents() {
    let t = device(1);
    let expect = [
        ("./DevInfo/DevId", "IMEI:000000000000001"),
        ("./DevInfo/Man", "Acme"),
        ("./DevInfo/Mod", "Phone 3"),
        ("./DevInfo/DmV", "1.2"),
        ("./DevInfo/Lang", "en-US"),
        ("./DevDetail/DevTyp", "phone"),
        ("./DevDetail/OEM", "Acme OEM"),
        ("./DevDetail/FwV", "FW-1.0"),
        ("./DevDetail/SwV", "SW-1.0"),
        ("./DevDetail/HwV", "HW-A"),
        ("./DevDetail/LrgObj", "true"),
        ("./DevDetail/URI/MaxDepth", "8"),
        ("./DevDetail/URI/MaxTotLen", "127"),
        ("./DevDetail/URI/MaxSegLen", "32"),
    ];
    for (uri, value) in expect {
        assert_eq!(t.value_str(uri), Some(value), "{uri}");
        let n = t.node(uri).unwrap();
        assert!(n.is_permanent() && n.access_type() == Access::GET, "{uri}");
    }
    assert_eq!(t.node("./DevDetail/LrgObj").unwrap().format(), Format::Bool);
    assert_eq!(t.node("./DevInfo").unwrap().mime_type(), Some(MO_DEVINFO));
    assert_eq!(
        t.node("./DevDetail").unwrap().mime_type(),
        Some(MO_DEVDETAIL)
    );
    assert_eq!(t.limits(), limits());
    assert_eq!(t.children("./DevInfo").count(), 5);
}

#[test]
fn dmacc_contents() {
    let t = device(7);
    let base = "./DMAcc/acme";
    let acc = t.node(base).unwrap();
    assert_eq!(acc.mime_type(), Some(MO_DMACC));
    assert_eq!(
        acc.acl_str(),
        Some("Get=dm.example.com&Replace=dm.example.com")
    );
    let expect = [
        ("AppID", "w7"),
        ("ServerID", SERVER),
        ("Name", "Acme DM"),
        ("AppAddr/1/Addr", "https://dm.example.com/dm"),
        ("AppAddr/1/AddrType", "URI"),
        ("AppAddr/1/Port/1/PortNbr", "443"),
        ("AAuthPref", "DIGEST"),
        ("AppAuth/1/AAuthLevel", "CLCRED"),
        ("AppAuth/1/AAuthType", "DIGEST"),
        ("AppAuth/1/AAuthName", "dev7"),
        ("AppAuth/1/AAuthSecret", "client-secret"),
        ("AppAuth/2/AAuthLevel", "SRVCRED"),
        ("AppAuth/2/AAuthName", SERVER),
        ("AppAuth/2/AAuthSecret", "server-secret"),
    ];
    for (rel, value) in expect {
        assert_eq!(t.value_str(&format!("{base}/{rel}")), Some(value), "{rel}");
    }
    assert_eq!(
        t.value(&format!("{base}/AppAuth/1/AAuthData")),
        Some(&[1u8, 2, 3][..])
    );
    assert_eq!(
        t.node(&format!("{base}/AppAuth/2/AAuthData"))
            .unwrap()
            .format(),
        Format::Bin
    );
    assert!(t
        .uris()
        .filter(|u| u.starts_with("./D"))
        .all(|u| t.node(u).unwrap().is_permanent()));
    let minimal = DmAccount {
        port: None,
        pref_auth: None,
        ..account("x")
    };
    let t2 = standard_tree(&identity("d"), &[minimal], limits());
    assert!(t2.node("./DMAcc/acme/AppAddr/1/Port").is_none());
    assert!(t2.node("./DMAcc/acme/AAuthPref").is_none());
}

#[test]
fn the_server_sees_what_the_acls_and_access_types_allow() {
    let mut t = device(2);
    let got = t.get(SERVER, &target("./DevInfo/DevId")).unwrap();
    assert_eq!(text(&got[0]), "IMEI:000000000000002");
    assert_eq!(
        t.get("anyone", &target("./DevDetail/FwV"))
            .map(|i| text(&i[0])),
        Ok("FW-1.0".into())
    );
    assert_eq!(
        t.get(SERVER, &target("./DMAcc/acme/Name"))
            .map(|i| text(&i[0])),
        Ok("Acme DM".into())
    );
    assert_eq!(
        t.get("intruder", &target("./DMAcc/acme/Name")).err(),
        Some(S::PermissionDenied)
    );
    for secret in ["AppAuth/1/AAuthSecret", "AppAuth/2/AAuthData"] {
        let uri = format!("./DMAcc/acme/{secret}");
        assert_eq!(
            t.get(SERVER, &target(&uri)).err(),
            Some(S::CommandNotAllowed)
        );
    }
    let listing = t
        .get(SERVER, &target("./DMAcc/acme?list=StructData"))
        .unwrap();
    let secret = listing
        .iter()
        .find(|i| i.source_uri() == Some("./DMAcc/acme/AppAuth/1/AAuthSecret"))
        .unwrap();
    assert_eq!(secret.data, None);
    // Writes.
    assert_eq!(
        t.replace(SERVER, &with_data("./DMAcc/acme/Name", "Renamed"), None, 1),
        S::Ok
    );
    let nonce = with_meta("./DMAcc/acme/AppAuth/2/AAuthData", "AAEC", "b64", None);
    assert_eq!(t.replace(SERVER, &nonce, None, 1), S::Ok);
    assert_eq!(
        t.value("./DMAcc/acme/AppAuth/2/AAuthData"),
        Some(&[0u8, 1, 2][..])
    );
    assert_eq!(
        t.replace(
            SERVER,
            &with_data("./DMAcc/acme/AppAuth/1/AAuthSecret", "new"),
            None,
            1
        ),
        S::Ok
    );
    assert_eq!(
        t.replace(
            SERVER,
            &with_data("./DMAcc/acme?prop=ACL", "Get=*&Replace=dm.example.com"),
            None,
            1
        ),
        S::Ok
    );
    refused(&mut t, S::CommandNotAllowed, |t| {
        t.replace(SERVER, &with_data("./DMAcc/acme/AppID", "w8"), None, 1)
    });
    refused(&mut t, S::CommandNotAllowed, |t| {
        t.replace(SERVER, &with_data("./DevInfo/Man", "x"), None, 1)
    });
    refused(&mut t, S::PermissionDenied, |t| {
        t.replace("intruder", &with_data("./DMAcc/acme/Name", "x"), None, 1)
    });
    let typed = with_meta("./DMAcc/acme/Name", "x", "int", None);
    refused(&mut t, S::CommandNotAllowed, |t| {
        t.replace(SERVER, &typed, None, 1)
    });
    refused(&mut t, S::CommandNotAllowed, |t| {
        t.add(SERVER, &target("./DevInfo/Ext"), None, 1)
    });
    refused(&mut t, S::CommandNotAllowed, |t| {
        t.add(
            SERVER,
            &target("./DMAcc/other"),
            Some(&meta("node", None)),
            1,
        )
    });
    refused(&mut t, S::CommandNotAllowed, |t| {
        t.delete(SERVER, &target("./DMAcc/acme"))
    });
    refused(&mut t, S::CommandNotAllowed, |t| {
        t.delete(SERVER, &target("./DevInfo"))
    });
    let rename = with_data("./DMAcc/acme?prop=Name", "other");
    refused(&mut t, S::CommandNotAllowed, |t| {
        t.replace(SERVER, &rename, None, 1)
    });
    // The rest of the root stays open for new objects.
    assert_eq!(
        t.add(SERVER, &with_meta("./FUMO", "", "node", None), None, 1),
        S::Ok
    );
}

#[test]
fn devinfo_items_are_in_package_1_order() {
    let mut t = device(3);
    t.insert(
        "./DevInfo/Ext/FotaClientVer",
        Node::leaf(Format::Chr, "2.0").permanent(),
    )
    .unwrap();
    let items = devinfo_items(&t);
    let uris: Vec<_> = items.iter().map(|i| i.source_uri().unwrap()).collect();
    let expected = [
        "./DevInfo/DevId",
        "./DevInfo/Man",
        "./DevInfo/Mod",
        "./DevInfo/DmV",
        "./DevInfo/Lang",
        "./DevInfo/Ext/FotaClientVer",
    ];
    assert_eq!(uris, expected);
    assert_eq!(text(&items[2]), "Phone 3");
    assert_eq!(
        items[0].meta.as_ref().unwrap().format.as_deref(),
        Some("chr")
    );
    assert!(devinfo_items(&Tree::new(UriLimits::UNLIMITED)).is_empty());
}

#[test]
fn devices_share_the_template() {
    let (a, b) = (device(10), device(11));
    let shared = |uri: &str| Arc::ptr_eq(&a.nodes[uri], &b.nodes[uri]);
    for uri in [
        ".",
        "./DevInfo",
        "./DevInfo/Man",
        "./DevDetail/FwV",
        "./DevDetail/URI/MaxDepth",
        "./DMAcc",
    ] {
        assert!(shared(uri), "{uri}");
    }
    for uri in [
        "./DMAcc/acme",
        "./DMAcc/acme/AppAddr/1/Addr",
        "./DMAcc/acme/AppAuth/1/AAuthType",
    ] {
        assert!(shared(uri), "{uri}");
    }
    assert!(!shared("./DevInfo/DevId"));
    assert!(!shared("./DMAcc/acme/AppAuth/1/AAuthName"));
    let key = |t: &Tree, uri: &str| t.nodes.get_key_value(uri).map(|(k, _)| k.clone()).unwrap();
    assert!(Arc::ptr_eq(
        &key(&a, "./DMAcc/acme/AppAuth/1/AAuthName"),
        &key(&b, "./DMAcc/acme/AppAuth/1/AAuthName")
    ));
    // Another firmware version still shares the skeleton's interior nodes.
    let other_fw = standard_tree(
        &Identity {
            fw_version: "FW-2.0".into(),
            ..identity("x")
        },
        &[],
        limits(),
    );
    assert!(Arc::ptr_eq(
        &a.nodes["./DevInfo"],
        &other_fw.nodes["./DevInfo"]
    ));
    assert!(!Arc::ptr_eq(
        &a.nodes["./DevDetail/FwV"],
        &other_fw.nodes["./DevDetail/FwV"]
    ));
}

#[test]
fn a_templated_tree_costs_far_less_than_a_fresh_one() {
    let t = device(20);
    let fresh = t.deep_clone();
    assert_eq!(t, fresh);
    let (shared, own) = (t.approx_bytes(), fresh.approx_bytes());
    assert!(shared * 3 < own, "templated {shared} B vs fresh {own} B");
    // Writes only cost the written node.
    let mut w = t.clone();
    w.set_value("./DevDetail/FwV", b"FW-1.1", 5).unwrap();
    assert!(
        w.approx_bytes() < shared + 200,
        "{} vs {shared}",
        w.approx_bytes()
    );
}

#[test]
fn accounts_are_validated_and_replaced() {
    let mut t = device(4);
    let bad_name = DmAccount {
        account: "a/b".into(),
        ..account("x")
    };
    assert!(matches!(
        add_account(&mut t, &bad_name),
        Err(TreeError::InvalidUri(_))
    ));
    let bad_id = DmAccount {
        server_id: "two words".into(),
        ..account("x")
    };
    assert!(matches!(
        add_account(&mut t, &bad_id),
        Err(TreeError::InvalidAcl { .. })
    ));
    let skipped = standard_tree(&identity("d"), &[bad_name, account("y")], limits());
    assert_eq!(skipped.children("./DMAcc").collect::<Vec<_>>(), ["acme"]);
    // Re-adding replaces the whole account.
    let used = t.used_bytes();
    add_account(
        &mut t,
        &DmAccount {
            port: None,
            ..account("dev4")
        },
    )
    .unwrap();
    assert!(t.node("./DMAcc/acme/AppAddr/1/Port").is_none());
    assert_eq!(t.used_bytes(), used - 3);
    // A second account.
    add_account(
        &mut t,
        &DmAccount {
            account: "second".into(),
            ..account("z")
        },
    )
    .unwrap();
    assert_eq!(
        t.children("./DMAcc").collect::<Vec<_>>(),
        ["acme", "second"]
    );
    // A leaf where ./DMAcc should be.
    let mut odd = Tree::new(UriLimits::UNLIMITED);
    odd.insert("./DMAcc", Node::leaf(Format::Chr, "")).unwrap();
    assert_eq!(
        add_account(&mut odd, &account("x")),
        Err(TreeError::ParentIsLeaf(DMACC.into()))
    );
    // Capacity.
    let mut small = Tree::new(UriLimits::UNLIMITED).with_capacity_bytes(Some(10));
    assert_eq!(
        add_account(&mut small, &account("x")),
        Err(TreeError::DeviceFull)
    );
    assert_eq!(small.len(), 1);
}
