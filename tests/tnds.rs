//! TNDS end to end: `Get ./DevInfo?list=TNDS…` on a standard device tree (exact documents), the
//! secrets of a DM account, a TNDS Results item through both codecs (WBXML carries it on code page 2
//! and decodes to what the XML codec gives), a server's TNDS Add arriving as WBXML, and a cross-check
//! with libwbxml's `wbxml2xml` / `xml2wbxml` when they are installed.
//!
//! libwbxml and this codec disagree on how TNDS travels in SyncML WBXML, and the libwbxml tests pin
//! both behaviours down: `xml2wbxml` turns a `MgmtTree` in a Data into an embedded standalone DDF
//! document (OPAQUE, Meta Type rewritten to `application/vnd.syncml.dmtnds+wbxml`), which the tree
//! accepts through `wbxml::decode_tnds`; our encoder writes the tree inline on code page 2, which
//! `wbxml2xml` reads structurally but, its SyncML 1.2 table having no page 2, with every DDF element
//! named `unknown`.

mod support;

use support::libwbxml::{run_tool, tools_available};

use dmsim::syncml::{
    wbxml, xml, Command, Data, Item, ItemCommand, Location, Meta, Results, StatusCode, SyncBody,
    SyncHdr, SyncMl,
};
use dmsim::tree::{
    standard_tree, AuthSettings, DmAccount, Identity, Tree, UriLimits, TNDS_WBXML, TNDS_XML,
};

const SERVER: &str = "dm.example.com";

fn device() -> Tree {
    let identity = Identity {
        dev_id: "IMEI:490154203237518".into(),
        man: "Acme & Co".into(),
        model: "P3".into(),
        dm_version: "1.2".into(),
        lang: "en-US".into(),
        ..Identity::default()
    };
    let auth = |name: &str, secret: &str, data: &[u8]| AuthSettings {
        auth_type: "DIGEST".into(),
        name: name.into(),
        secret: secret.into(),
        data: data.to_vec(),
    };
    let account = DmAccount {
        account: "acme".into(),
        server_id: SERVER.into(),
        name: "Acme DM".into(),
        addr: "https://dm.example.com/dm".into(),
        addr_type: "URI".into(),
        port: None,
        client: auth("dev1", "client-secret", b"nonce-1"),
        server: auth(SERVER, "server-secret", b"nonce-2"),
        pref_auth: None,
    };
    standard_tree(&identity, &[account], UriLimits::new(8, 127, 32))
}

fn target(uri: &str) -> Item {
    Item {
        target: Some(Location::uri(uri)),
        ..Item::default()
    }
}

/// The one Results item of a Get by `who`.
fn get_tnds(tree: &Tree, who: &str, uri: &str) -> Item {
    match tree.get(who, &target(uri)) {
        Ok(mut items) if items.len() == 1 => items.remove(0),
        other => panic!("Get {uri}: {other:?}"),
    }
}

fn text(item: &Item) -> String {
    item.data_text().map(|t| t.into_owned()).unwrap_or_default()
}

/// The TNDS node of a DevInfo leaf with every property (all written at time 0, VerNo 0).
fn devinfo_leaf(name: &str, value: &str) -> String {
    format!(
        "<Node><NodeName>{name}</NodeName><RTProperties><ACL/><Format><chr/></Format><Name>{name}</Name><Size>{}</Size><TStamp>19700101T000000Z</TStamp><Type><MIME>text/plain</MIME></Type><VerNo>0</VerNo></RTProperties><Value>{}</Value></Node>",
        value.len(),
        value.replace('&', "&amp;")
    )
}

#[test]
fn devinfo_as_tnds() {
    let tree = device();
    let item = get_tnds(&tree, SERVER, "./DevInfo?list=TNDS");
    assert_eq!(item.source_uri(), Some("./DevInfo?list=TNDS"));
    let meta = item.meta.clone().unwrap_or_default();
    assert_eq!(
        (meta.format.as_deref(), meta.type_.as_deref()),
        (Some("xml"), Some(TNDS_XML))
    );
    let expected = [
        "<MgmtTree xmlns=\"syncml:dmddf1.2\"><VerDTD>1.2</VerDTD>",
        "<Node><NodeName>DevInfo</NodeName><Path>.</Path><RTProperties><ACL>Get=*</ACL><Format><node/></Format>",
        "<Name>DevInfo</Name><TStamp>19700101T000000Z</TStamp><Type><DDFName>urn:oma:mo:oma-dm-devinfo:1.0</DDFName></Type>",
        "<VerNo>0</VerNo></RTProperties>",
        &devinfo_leaf("DevId", "IMEI:490154203237518"),
        &devinfo_leaf("DmV", "1.2"),
        &devinfo_leaf("Lang", "en-US"),
        &devinfo_leaf("Man", "Acme & Co"),
        &devinfo_leaf("Mod", "P3"),
        "</Node></MgmtTree>",
    ]
    .concat();
    assert_eq!(text(&item), expected);
}

#[test]
fn devinfo_with_acl_and_format_only() {
    let tree = device();
    let item = get_tnds(&tree, SERVER, "DevInfo?list=TNDS+ACL+Format");
    assert_eq!(item.source_uri(), Some("./DevInfo?list=TNDS+ACL+Format"));
    let leaf = |name: &str| {
        format!("<Node><NodeName>{name}</NodeName><RTProperties><ACL/><Format><chr/></Format></RTProperties></Node>")
    };
    let expected = [
        "<MgmtTree xmlns=\"syncml:dmddf1.2\"><VerDTD>1.2</VerDTD>",
        "<Node><NodeName>DevInfo</NodeName><Path>.</Path><RTProperties><ACL>Get=*</ACL><Format><node/></Format></RTProperties>",
        &leaf("DevId"),
        &leaf("DmV"),
        &leaf("Lang"),
        &leaf("Man"),
        &leaf("Mod"),
        "</Node></MgmtTree>",
    ]
    .concat();
    assert_eq!(text(&item), expected);
}

#[test]
fn devinfo_without_values() {
    let tree = device();
    let all = text(&get_tnds(&tree, SERVER, "./DevInfo?list=TNDS"));
    let item = get_tnds(&tree, SERVER, "./DevInfo?list=TNDS-Value");
    assert_eq!(item.source_uri(), Some("./DevInfo?list=TNDS-Value"));
    // Exactly the full document without its Value elements.
    let mut expected = all.clone();
    for value in [
        "IMEI:490154203237518",
        "1.2",
        "en-US",
        "Acme &amp; Co",
        "P3",
    ] {
        expected = expected.replacen(&format!("<Value>{value}</Value>"), "", 1);
    }
    assert_ne!(expected, all);
    assert_eq!(text(&item), expected);
    // Both + and - in one request is 400; an unknown property 406; other list attributes 406.
    let status = |uri: &str| tree.get(SERVER, &target(uri)).err();
    assert_eq!(
        status("./DevInfo?list=TNDS+ACL-Value"),
        Some(StatusCode::BadRequest)
    );
    assert_eq!(
        status("./DevInfo?list=TNDS+Colour"),
        Some(StatusCode::OptionalFeatureNotSupported)
    );
    assert_eq!(
        status("./DevInfo?list=Tree"),
        Some(StatusCode::OptionalFeatureNotSupported)
    );
}

#[test]
fn account_secrets_never_leave_the_device() {
    let tree = device();
    let xml = text(&get_tnds(&tree, SERVER, "./DMAcc/acme?list=TNDS"));
    for secret in ["client-secret", "server-secret", "bm9uY2Ut", "nonce-"] {
        assert!(!xml.contains(secret), "{secret} in {xml}");
    }
    // The secret nodes are listed, with their properties but no Value.
    assert!(
        xml.contains("<NodeName>AAuthSecret</NodeName><RTProperties><ACL/><Format><chr/></Format>"),
        "{xml}"
    );
    let data_node = xml
        .split("<NodeName>AAuthData</NodeName>")
        .nth(1)
        .and_then(|rest| rest.split("</Node>").next())
        .unwrap_or_default();
    assert!(data_node.contains("<Format><bin/></Format>"), "{data_node}");
    assert!(!data_node.contains("<Value"), "{data_node}");
    assert!(
        xml.contains("<Value>dev1</Value>"),
        "readable leaves keep their values"
    );
    // Another server does not see the account at all, not even from the root.
    assert_eq!(
        tree.get("other.example.com", &target("./DMAcc/acme?list=TNDS"))
            .err(),
        Some(StatusCode::PermissionDenied)
    );
    let root = text(&get_tnds(&tree, "other.example.com", ".?list=TNDS"));
    assert!(
        root.contains("<NodeName>DMAcc</NodeName>") && !root.contains("acme"),
        "{root}"
    );
}

fn message(commands: Vec<Command>) -> SyncMl {
    SyncMl {
        hdr: SyncHdr {
            ver_dtd: "1.2".into(),
            ver_proto: "DM/1.2".into(),
            session_id: "1".into(),
            msg_id: "2".into(),
            target: Location::uri("https://dm.example.com/dm"),
            source: Location::uri("IMEI:490154203237518"),
            resp_uri: None,
            no_resp: false,
            cred: None,
            meta: None,
        },
        body: SyncBody {
            commands,
            final_flag: true,
        },
    }
}

/// A device message answering `Get <uri>` with the tree's TNDS Results item.
fn tnds_results(tree: &Tree, uri: &str) -> SyncMl {
    message(vec![Command::Results(Results {
        cmd_id: "3".into(),
        msg_ref: Some("1".into()),
        cmd_ref: "4".into(),
        target_ref: None,
        source_ref: None,
        meta: None,
        items: vec![get_tnds(tree, SERVER, uri)],
    })])
}

fn contains(bytes: &[u8], needle: &[u8]) -> bool {
    bytes.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn tnds_results_through_both_codecs() {
    let tree = device();
    for uri in [
        "./DevInfo?list=TNDS",
        "./DMAcc?list=TNDS",
        ".?list=TNDS+Format+Type",
    ] {
        let msg = tnds_results(&tree, uri);
        let bytes = wbxml::encode(&msg);
        let via_xml = xml::decode(&xml::encode(&msg)).expect("XML round trip");
        assert_eq!(wbxml::decode(&bytes).expect("WBXML round trip"), via_xml);
        assert_eq!(via_xml, msg);
        // Data (0x4F), switch to code page 2, MgmtTree with content (0x20 | 0x40).
        assert!(contains(&bytes, &[0x4F, 0x00, 0x02, 0x60]), "{uri}");
        // The tree is not a string.
        assert!(!contains(&bytes, b"<MgmtTree"), "{uri}");
    }
}

#[test]
fn server_tnds_add_over_wbxml() {
    let mut tree = device();
    let tnds = "<MgmtTree xmlns=\"syncml:dmddf1.2\"><VerDTD>1.2</VerDTD><Node><NodeName>Ext</NodeName><RTProperties><Format><node/></Format></RTProperties><Node><NodeName>Flag</NodeName><RTProperties><Format><bool/></Format></RTProperties><Value>true</Value></Node></Node></MgmtTree>";
    let add = Command::Add(ItemCommand {
        cmd_id: "5".into(),
        items: vec![Item {
            target: Some(Location::uri("./Vendor")),
            meta: Some(Meta {
                format: Some("xml".into()),
                type_: Some(TNDS_XML.into()),
                ..Meta::default()
            }),
            data: Some(Data::Text(tnds.into())),
            ..Item::default()
        }],
        ..ItemCommand::default()
    });
    let bytes = wbxml::encode(&message(vec![add]));
    assert!(contains(&bytes, &[0x00, 0x02, 0x60]));
    let received = wbxml::decode(&bytes).expect("decodes");
    let Some(Command::Add(add)) = received.body.commands.first() else {
        panic!("{received:?}")
    };
    // DevInfo does not support Add (405); the root grants Add to every server.
    let mut refused = add.items[0].clone();
    refused.target = Some(Location::uri("./DevInfo"));
    let before = tree.clone();
    assert_eq!(
        tree.add(SERVER, &refused, add.meta.as_ref(), 1),
        StatusCode::CommandNotAllowed
    );
    assert_eq!(tree, before);
    assert_eq!(
        tree.add(SERVER, &add.items[0], add.meta.as_ref(), 1),
        StatusCode::Ok
    );
    assert_eq!(tree.value_str("./Vendor/Ext/Flag"), Some("true"));
    assert!(tree.node("./Vendor/Ext").is_some_and(|n| n.is_interior()));
}

// ---- libwbxml ----

/// `xml` with every element renamed `unknown` and its attributes dropped: what `wbxml2xml` writes
/// for DDF elements it has no names for.
fn anonymous(xml: &str) -> String {
    let mut out = String::with_capacity(xml.len());
    let mut rest = xml;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let Some(len) = rest[start..].find('>') else {
            break;
        };
        let tag = &rest[start..start + len + 1];
        out.push_str(match (tag.starts_with("</"), tag.ends_with("/>")) {
            (true, _) => "</unknown>",
            (false, true) => "<unknown/>",
            (false, false) => "<unknown>",
        });
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    out
}

#[test]
fn libwbxml_reads_our_tnds_message() {
    if !tools_available() {
        return;
    }
    let tree = device();
    let msg = tnds_results(&tree, "./DevInfo?list=TNDS");
    let xml_out = run_tool(
        "wbxml2xml",
        &["-m", "0", "-o", "-", "-"],
        &wbxml::encode(&msg),
    )
    .expect("wbxml2xml");
    let decoded = xml::decode(&xml_out).expect("wbxml2xml output decodes");
    // Everything but the tree is the message; the tree keeps its structure and text.
    let data = |m: &SyncMl| match m.body.commands.first() {
        Some(Command::Results(r)) => text(&r.items[0]),
        other => panic!("{other:?}"),
    };
    assert_eq!(data(&decoded), anonymous(&data(&msg)));
    let blank = |m: &SyncMl| {
        let mut m = m.clone();
        if let Some(Command::Results(r)) = m.body.commands.first_mut() {
            r.items[0].data = None;
        }
        m
    };
    assert_eq!(blank(&decoded), blank(&msg));
}

#[test]
fn libwbxml_renames_the_tnds_type_of_string_data() {
    if !tools_available() {
        return;
    }
    // Our XML encoder writes the tree as escaped text; xml2wbxml keeps it a string but still
    // announces it as WBXML.
    let msg = tnds_results(&device(), "./DevInfo?list=TNDS+Format");
    let bytes = run_tool(
        "xml2wbxml",
        &["-k", "-n", "-o", "-", "-"],
        &xml::encode(&msg),
    )
    .expect("xml2wbxml");
    let decoded = wbxml::decode(&bytes).expect("decodes");
    let item = match decoded.body.commands.first() {
        Some(Command::Results(r)) => &r.items[0],
        other => panic!("{other:?}"),
    };
    assert_eq!(
        item.meta.as_ref().and_then(|m| m.type_.as_deref()),
        Some(TNDS_WBXML)
    );
    assert_eq!(text(item), text(&msg_item(&msg)));
}

/// The first item of the first command of a message.
fn msg_item(msg: &SyncMl) -> Item {
    match msg.body.commands.first() {
        Some(Command::Results(r)) => r.items[0].clone(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn libwbxml_tnds_add_reaches_the_tree() {
    if !tools_available() {
        return;
    }
    // A server's Add with the TNDS tree inline in XML, as the TNDS spec's example writes it.
    let xml_msg = concat!(
        "<SyncML xmlns=\"SYNCML:SYNCML1.2\"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto>",
        "<SessionID>1</SessionID><MsgID>2</MsgID><Target><LocURI>IMEI:1</LocURI></Target>",
        "<Source><LocURI>https://dm.example.com/dm</LocURI></Source></SyncHdr><SyncBody>",
        "<Add><CmdID>4</CmdID><Item><Target><LocURI>./Vendor</LocURI></Target><Meta>",
        "<Format xmlns=\"syncml:metinf\">xml</Format><Type xmlns=\"syncml:metinf\">application/vnd.syncml.dmtnds+xml</Type></Meta>",
        "<Data><MgmtTree xmlns=\"syncml:dmddf1.2\"><VerDTD>1.2</VerDTD><Node><NodeName>Ext</NodeName>",
        "<Node><NodeName>Note</NodeName><RTProperties><Format><chr/></Format><Type><MIME>text/plain</MIME></Type></RTProperties>",
        "<Value>hi &amp; bye</Value></Node></Node></MgmtTree></Data></Item></Add><Final/></SyncBody></SyncML>",
    );
    // libwbxml embeds the tree as a standalone DDF document, Type +wbxml.
    let bytes = run_tool(
        "xml2wbxml",
        &["-k", "-n", "-o", "-", "-"],
        xml_msg.as_bytes(),
    )
    .expect("xml2wbxml");
    let received = wbxml::decode(&bytes).expect("decodes");
    let Some(Command::Add(add)) = received.body.commands.first() else {
        panic!("{received:?}")
    };
    let item = &add.items[0];
    assert_eq!(
        item.meta.as_ref().and_then(|m| m.type_.as_deref()),
        Some(TNDS_WBXML)
    );
    let Some(Data::Opaque(ddf)) = &item.data else {
        panic!("{item:?}")
    };
    assert_eq!(
        wbxml::decode_tnds(ddf).expect("DDF document"),
        "<MgmtTree xmlns=\"syncml:dmddf1.2\"><VerDTD>1.2</VerDTD><Node><NodeName>Ext</NodeName><Node><NodeName>Note</NodeName><RTProperties><Format><chr/></Format><Type><MIME>text/plain</MIME></Type></RTProperties><Value>hi &amp; bye</Value></Node></Node></MgmtTree>"
    );
    let mut tree = device();
    assert_eq!(tree.add(SERVER, item, add.meta.as_ref(), 1), StatusCode::Ok);
    assert_eq!(tree.value_str("./Vendor/Ext/Note"), Some("hi & bye"));
}
