//! Tests of TNDS: the `?list=TNDS` document, Add and Replace with TNDS payloads and every refusal
//! (with the tree unchanged), and the Get → Delete → Add round trip.

use super::super::testutil::*;
use super::super::{Access, Format, Node, Tree};
use super::{TNDS_WBXML, TNDS_XML};
use crate::syncml::{Data, Item, StatusCode};

use StatusCode as S;

/// A TNDS Add/Replace item: Target, Meta Format `xml` and Type TNDS, the document as text.
fn tnds(target_uri: &str, xml: &str) -> Item {
    with_meta(target_uri, xml, "xml", Some(TNDS_XML))
}

/// `<MgmtTree …><VerDTD>1.2</VerDTD>{nodes}</MgmtTree>`.
fn doc(nodes: &str) -> String {
    format!("<MgmtTree xmlns=\"syncml:dmddf1.2\"><VerDTD>1.2</VerDTD>{nodes}</MgmtTree>")
}

/// A leaf `Node` with a Format and a Value.
fn leaf_node(name: &str, format: &str, value: &str) -> String {
    format!("<Node><NodeName>{name}</NodeName><RTProperties><Format><{format}/></Format></RTProperties><Value>{value}</Value></Node>")
}

/// The one item of a successful Get.
fn get_one(t: &Tree, who: &str, uri: &str) -> Item {
    match t.get(who, &target(uri)) {
        Ok(items) if items.len() == 1 => items.into_iter().next().unwrap_or_default(),
        other => panic!("Get {uri}: {other:?}"),
    }
}

/// The TNDS document a Get answers.
fn get_doc(t: &Tree, who: &str, uri: &str) -> String {
    text(&get_one(t, who, uri))
}

// ---- Get ----

#[test]
fn get_answers_one_item_with_tnds_meta() {
    let t = fixture();
    let item = get_one(&t, SRV, "App/Dir/?list=TNDS");
    assert_eq!(item.source_uri(), Some("./App/Dir?list=TNDS"));
    let meta = item.meta.clone().unwrap_or_default();
    assert_eq!(meta.format.as_deref(), Some("xml"));
    assert_eq!(meta.type_.as_deref(), Some(TNDS_XML));
    assert_eq!(
        text(&item),
        doc(concat!(
            "<Node><NodeName>Dir</NodeName><Path>./App</Path><RTProperties><ACL/><Format><node/></Format>",
            "<Name>Dir</Name><TStamp>19700101T000000Z</TStamp><Type><DDFName/></Type><VerNo>0</VerNo></RTProperties>",
            "<Node><NodeName>Sub</NodeName><RTProperties><ACL/><Format><chr/></Format><Name>Sub</Name><Size>1</Size>",
            "<TStamp>19700101T000000Z</TStamp><Type><MIME>text/plain</MIME></Type><VerNo>0</VerNo></RTProperties>",
            "<Value>s</Value></Node></Node>",
        ))
    );
}

#[test]
fn get_selected_properties_of_a_subtree() {
    let mut t = fixture();
    t.insert("./App/Leaf", Node::leaf(Format::Chr, "a<b&c").title("T"))
        .unwrap();
    let item = get_one(&t, SRV, "./App?list=TNDS+Value+Type+Format+ACL");
    assert_eq!(
        item.source_uri(),
        Some("./App?list=TNDS+ACL+Format+Type+Value")
    );
    let chr = |name: &str, value: &str| {
        format!("<Node><NodeName>{name}</NodeName><RTProperties><ACL/><Format><chr/></Format><Type><MIME>text/plain</MIME></Type></RTProperties>{value}</Node>")
    };
    let expected = doc(&[
        "<Node><NodeName>App</NodeName><Path>.</Path><RTProperties>",
        "<ACL>Add=srv&amp;Delete=srv&amp;Exec=srv&amp;Get=srv&amp;Replace=srv</ACL><Format><node/></Format><Type><DDFName/></Type></RTProperties>",
        // bin goes out as base64, Format b64.
        "<Node><NodeName>Bin</NodeName><RTProperties><ACL/><Format><b64/></Format><Type><MIME>application/octet-stream</MIME></Type></RTProperties><Value>AAH/</Value></Node>",
        "<Node><NodeName>Dir</NodeName><RTProperties><ACL/><Format><node/></Format><Type><DDFName/></Type></RTProperties>",
        &chr("Sub", "<Value>s</Value>"),
        "</Node>",
        &chr("Leaf", "<Value>a&lt;b&amp;c</Value>"),
        "<Node><NodeName>Num</NodeName><RTProperties><ACL/><Format><int/></Format><Type><MIME>text/plain</MIME></Type></RTProperties><Value>1</Value></Node>",
        &chr("Run", "<Value/>"),
        // Secret has no Get access type: no Value, ever.
        &chr("Secret", ""),
        "</Node>",
    ].concat());
    assert_eq!(text(&item), expected);

    // Only some properties; RTProperties disappears when none is selected.
    assert_eq!(
        get_doc(&t, SRV, "./App/Leaf?list=TNDS+Title+Size"),
        doc("<Node><NodeName>Leaf</NodeName><Path>./App</Path><RTProperties><Size>5</Size><Title>T</Title></RTProperties></Node>")
    );
    assert_eq!(
        get_doc(&t, SRV, "./App/Dir?list=TNDS+Value"),
        doc("<Node><NodeName>Dir</NodeName><Path>./App</Path><Node><NodeName>Sub</NodeName><Value>s</Value></Node></Node>")
    );
    // A selected property a node does not have leaves an empty RTProperties.
    assert_eq!(
        get_doc(&t, SRV, "./App/Dir?list=TNDS+Size"),
        doc("<Node><NodeName>Dir</NodeName><Path>./App</Path><RTProperties/><Node><NodeName>Sub</NodeName><RTProperties><Size>1</Size></RTProperties></Node></Node>")
    );
    // Exclusion: everything but the values (and so bin keeps Format bin).
    let no_values = get_doc(&t, SRV, "./App?list=TNDS-Value-TStamp-VerNo-Name-Size-ACL");
    assert!(!no_values.contains("<Value"), "{no_values}");
    assert!(no_values.contains("<NodeName>Bin</NodeName><RTProperties><Format><bin/></Format><Type><MIME>application/octet-stream</MIME></Type></RTProperties></Node>"), "{no_values}");
    assert!(no_values.contains("<Title>T</Title>"), "{no_values}");
}

#[test]
fn get_leaves_out_what_the_server_may_not_get() {
    let mut t = fixture();
    t.insert("./App/Hidden", Node::interior().acl("Get=other"))
        .unwrap();
    t.insert(
        "./App/Hidden/Deep",
        Node::leaf(Format::Chr, "d").acl("Get=srv"),
    )
    .unwrap();
    t.insert(
        "./App/Open",
        Node::leaf(Format::Chr, "o").acl("Get=other+srv"),
    )
    .unwrap();
    let xml = get_doc(&t, SRV, "./App?list=TNDS+Value");
    assert!(!xml.contains("Hidden") && !xml.contains("Deep"), "{xml}");
    assert!(
        xml.contains("<Node><NodeName>Open</NodeName><Value>o</Value></Node>"),
        "{xml}"
    );
    assert!(!xml.contains("pw"), "the secret's value never shows: {xml}");

    // From the root, OTHER sees the root and Std, not App (its ACL) nor the Inbox.
    let root = get_doc(&t, OTHER, ".?list=TNDS+Value");
    assert_eq!(
        root,
        doc("<Node><NodeName>.</NodeName><Node><NodeName>Std</NodeName><Node><NodeName>Perm</NodeName><Value>p</Value></Node></Node></Node>")
    );
    let srv_root = get_doc(&t, SRV, ".?list=TNDS+Format");
    assert!(!srv_root.contains("Inbox") && srv_root.contains("<NodeName>App</NodeName>"));
}

// ---- Add ----

fn object_doc() -> String {
    // Whitespace between elements, as servers write it.
    doc(r#"
  <Node>
    <NodeName>Obj</NodeName>
    <RTProperties>
      <ACL>Get=*&amp;Add=srv&amp;Replace=srv&amp;Delete=srv</ACL>
      <Format> <node/> </Format>
      <Type><DDFName>urn:oma:mo:test:1.0</DDFName></Type>
      <Title>An object</Title>
      <TStamp>20200101T000000Z</TStamp><VerNo>9</VerNo>
    </RTProperties>
    <Node><NodeName>Count</NodeName><RTProperties><Format><int/></Format></RTProperties><Value>42</Value></Node>
    <Node><NodeName>On</NodeName><RTProperties><Format><bool/></Format></RTProperties><Value>true</Value></Node>
    <Node>
      <NodeName>Blob</NodeName>
      <RTProperties><Format><b64/></Format><Type><MIME>application/octet-stream</MIME></Type></RTProperties>
      <Value>AAH/</Value>
    </Node>
    <Node><NodeName>Text</NodeName><Value> hello &amp; <![CDATA[<bye>]]> </Value></Node>
    <Node><NodeName>Sub</NodeName><Node><NodeName>Empty</NodeName><Value/></Node></Node>
  </Node>
"#)
}

#[test]
fn add_creates_the_described_subtree() {
    let mut t = fixture();
    assert_eq!(t.add(SRV, &tnds("./App", &object_doc()), None, 7), S::Ok);
    let obj = t.node("./App/Obj").unwrap();
    assert!(obj.is_interior());
    assert_eq!(obj.mime_type(), Some("urn:oma:mo:test:1.0"));
    assert_eq!(obj.acl_str(), Some("Get=*&Add=srv&Replace=srv&Delete=srv"));
    assert_eq!(obj.title_str(), Some("An object"));
    assert_eq!(
        (obj.tstamp_secs(), obj.verno()),
        (7, 0),
        "TStamp and VerNo are the device's"
    );
    let leaf = |p: &str| {
        let n = t.node(p).unwrap_or_else(|| panic!("{p} missing"));
        (
            n.format(),
            n.value().to_vec(),
            n.mime_type().map(str::to_string),
        )
    };
    let plain = Some("text/plain".to_string());
    assert_eq!(
        leaf("./App/Obj/Count"),
        (Format::Int, b"42".to_vec(), plain.clone())
    );
    assert_eq!(
        leaf("./App/Obj/On"),
        (Format::Bool, b"true".to_vec(), plain.clone())
    );
    assert_eq!(
        leaf("./App/Obj/Blob"),
        (
            Format::Bin,
            vec![0, 1, 255],
            Some("application/octet-stream".into())
        )
    );
    assert_eq!(
        leaf("./App/Obj/Text"),
        (Format::Chr, b" hello & <bye> ".to_vec(), plain.clone())
    );
    assert!(t.node("./App/Obj/Sub").unwrap().is_interior());
    assert_eq!(leaf("./App/Obj/Sub/Empty"), (Format::Chr, vec![], plain));
    assert_eq!(
        t.node("./App/Obj/Count").unwrap().access_type(),
        Access::DYNAMIC
    );
}

#[test]
fn add_places_nodes_by_path() {
    let mut t = fixture();
    let nodes = concat!(
        "<Node><NodeName>Z</NodeName><Path>App/X/Y</Path><Value>z</Value></Node>",
        "<Node><NodeName>W</NodeName><Path>./App</Path>",
        "<Node><NodeName>V</NodeName><Path>./App/W</Path><Value>v</Value></Node></Node>",
    );
    assert_eq!(t.add(SRV, &tnds("./App", &doc(nodes)), None, 1), S::Ok);
    assert_eq!(t.value_str("./App/X/Y/Z"), Some("z"));
    assert!(t.node("./App/X").unwrap().is_interior());
    assert_eq!(t.value_str("./App/W/V"), Some("v"));

    // Outside the Target, a nested Path that is not the parent, a malformed Path: 400.
    for bad in [
        "<Node><NodeName>Q</NodeName><Path>./Std</Path><Value>q</Value></Node>",
        "<Node><NodeName>Q</NodeName><Path>.</Path><Value>q</Value></Node>",
        "<Node><NodeName>Q</NodeName><Node><NodeName>R</NodeName><Path>./App</Path></Node></Node>",
        "<Node><NodeName>Q</NodeName><Path>./App//X</Path></Node>",
    ] {
        refused(&mut t, S::BadRequest, |t| {
            t.add(SRV, &tnds("./App", &doc(bad)), None, 1)
        });
    }
    // The Target need not exist: missing parents are created as by Add.
    let q = doc(&leaf_node("Q", "chr", "q"));
    assert_eq!(t.add(SRV, &tnds("./App/New/Dir", &q), None, 1), S::Ok);
    assert_eq!(t.value_str("./App/New/Dir/Q"), Some("q"));
}

#[test]
fn add_reads_wbxml_and_base64_payloads() {
    let mut t = fixture();
    let fpi = b"-//OMA//DTD-DM-DDF 1.2//EN\0";
    let mut wbxml = vec![0x03, 0x00, 0x00, 0x6A, fpi.len() as u8];
    wbxml.extend_from_slice(fpi);
    wbxml.extend_from_slice(&[
        0x00, 0x02, 0x60, // page 2, MgmtTree
        0x77, 0x03, b'1', b'.', b'2', 0x00, 0x01, // VerDTD
        0x64, 0x66, 0x03, b'W', 0x00, 0x01, // Node, NodeName
        0x6F, 0x5C, 0x1E, 0x01, 0x01, // RTProperties, Format, int
        0x76, 0x03, b'1', b'2', 0x00, 0x01, // Value
        0x01, 0x01,
    ]);
    let item = Item {
        data: Some(Data::Opaque(wbxml.clone())),
        ..with_meta("./App", "", "bin", Some(TNDS_WBXML))
    };
    assert_eq!(t.add(SRV, &item, None, 1), S::Ok);
    assert_eq!(t.node("./App/W").map(Node::format), Some(Format::Int));
    assert_eq!(t.value_str("./App/W"), Some("12"));

    // The same as base64 text with Meta Format b64.
    let b64 = super::super::encode_b64(&wbxml);
    let item = with_meta("./App/B", &b64, "b64", Some(TNDS_WBXML));
    assert_eq!(t.add(SRV, &item, None, 1), S::Ok);
    assert_eq!(t.value_str("./App/B/W"), Some("12"));
    let xml = super::super::encode_b64(doc(&leaf_node("X", "chr", "x")).as_bytes());
    let item = with_meta("./App", &xml, "b64", Some(TNDS_XML));
    assert_eq!(t.add(SRV, &item, None, 1), S::Ok);
    assert_eq!(t.value_str("./App/X"), Some("x"));
    // The Type may sit on the command's Meta.
    let item = with_data("./App", &doc(&leaf_node("Y", "chr", "y")));
    assert_eq!(
        t.add(SRV, &item, Some(&meta("xml", Some(TNDS_XML))), 1),
        S::Ok
    );
    assert_eq!(t.value_str("./App/Y"), Some("y"));

    // Undecodable payloads are 400; other TNDS encodings 415.
    let broken = Item {
        data: Some(Data::Opaque(wbxml[..wbxml.len() - 3].to_vec())),
        ..with_meta("./App/C", "", "bin", Some(TNDS_WBXML))
    };
    refused(&mut t, S::BadRequest, |t| t.add(SRV, &broken, None, 1));
    let not_utf8 = Item {
        data: Some(Data::Opaque(vec![b'<', 0xFF, b'>'])),
        ..tnds("./App/C", "")
    };
    refused(&mut t, S::BadRequest, |t| t.add(SRV, &not_utf8, None, 1));
    let bad_b64 = with_meta("./App/C", "!!", "b64", Some(TNDS_XML));
    refused(&mut t, S::BadRequest, |t| t.add(SRV, &bad_b64, None, 1));
    let json = with_meta(
        "./App/C",
        "{}",
        "chr",
        Some("application/vnd.syncml.dmtnds+json"),
    );
    refused(&mut t, S::UnsupportedMediaType, |t| {
        t.add(SRV, &json, None, 1)
    });
}

#[test]
fn add_refusals_leave_the_tree_unchanged() {
    let mut t = fixture();
    let one = |name: &str| doc(&leaf_node(name, "chr", "x"));
    let add = |who: &'static str, target_uri: &str, xml: String| {
        let item = tnds(target_uri, &xml);
        move |t: &mut Tree| t.add(who, &item, None, 1)
    };
    // ACL: OTHER may not Add under ./App.
    refused(&mut t, S::PermissionDenied, add(OTHER, "./App", one("N")));
    // Access type: ./Std does not support Add; a leaf cannot have children.
    refused(&mut t, S::CommandNotAllowed, add(SRV, "./Std", one("N")));
    refused(
        &mut t,
        S::CommandNotAllowed,
        add(SRV, "./App/Leaf", one("N")),
    );
    // Exists: top level, and a nested duplicate.
    refused(&mut t, S::AlreadyExists, add(SRV, "./App", one("Leaf")));
    let twice = "<Node><NodeName>N</NodeName><Node><NodeName>C</NodeName></Node><Node><NodeName>C</NodeName></Node></Node>";
    refused(&mut t, S::AlreadyExists, add(SRV, "./App", doc(twice)));
    // All or nothing: N would be fine, Leaf exists.
    let both = doc(&[leaf_node("N", "chr", "x"), leaf_node("Leaf", "chr", "x")].concat());
    refused(&mut t, S::AlreadyExists, add(SRV, "./App", both));
    // Format: unknown 415, value not matching it 400, Value on an interior node 400.
    refused(
        &mut t,
        S::UnsupportedMediaType,
        add(SRV, "./App", doc(&leaf_node("N", "string", "x"))),
    );
    refused(
        &mut t,
        S::BadRequest,
        add(SRV, "./App", doc(&leaf_node("N", "int", "x"))),
    );
    refused(
        &mut t,
        S::BadRequest,
        add(SRV, "./App", doc(&leaf_node("N", "b64", "!!"))),
    );
    refused(
        &mut t,
        S::BadRequest,
        add(SRV, "./App", doc(&leaf_node("N", "node", "x"))),
    );
    // ACL and Title of a new node.
    let bad_acl = "<Node><NodeName>N</NodeName><RTProperties><ACL>Get=</ACL></RTProperties></Node>";
    refused(&mut t, S::BadRequest, add(SRV, "./App", doc(bad_acl)));
    let long_title = format!(
        "<Node><NodeName>N</NodeName><RTProperties><Title>{}</Title></RTProperties></Node>",
        "t".repeat(256)
    );
    refused(
        &mut t,
        S::RequestEntityTooLarge,
        add(SRV, "./App", doc(&long_title)),
    );
    // URI limits (8 / 127 / 32): a long segment, a deep nesting.
    refused(
        &mut t,
        S::UriTooLong,
        add(SRV, "./App", one(&"n".repeat(33))),
    );
    let deep = (0..8).fold(String::new(), |inner, i| {
        format!("<Node><NodeName>d{i}</NodeName>{inner}</Node>")
    });
    refused(&mut t, S::UriTooLong, add(SRV, "./App", doc(&deep)));
    // Capacity: the second leaf does not fit.
    let mut small = fixture();
    small = small
        .clone()
        .with_capacity_bytes(Some(small.used_bytes() + 3));
    let two = doc(&[leaf_node("A", "chr", "12"), leaf_node("B", "chr", "34")].concat());
    refused(&mut small, S::DeviceFull, add(SRV, "./App", two));
    assert_eq!(small.add(SRV, &tnds("./App", &one("A")), None, 1), S::Ok);
    // A query on the Target.
    refused(
        &mut t,
        S::CommandNotAllowed,
        add(SRV, "./App?list=TNDS", one("N")),
    );
}

#[test]
fn malformed_tnds_is_400() {
    let mut t = fixture();
    let cases = [
        String::new(),
        "not xml".to_string(),
        "<MgmtTree><Node><NodeName>N</NodeName></Node>".to_string(),
        "<MgmtTree></Other>".to_string(),
        "<Foo/>".to_string(),
        "<MgmtTree/><MgmtTree/>".to_string(),
        "<MgmtTree/>trailing".to_string(),
        doc("<Node><Value>x</Value></Node>"),
        doc("<Node><NodeName>a/b</NodeName></Node>"),
        doc("<Node><NodeName>..</NodeName></Node>"),
        doc("<Node><NodeName/></Node>"),
        doc("<Node><NodeName>N</NodeName><NodeName>M</NodeName></Node>"),
        doc("<Node><NodeName>N</NodeName><Value>1</Value><Value>2</Value></Node>"),
        doc("<Node><NodeName><b/>N</NodeName></Node>"),
        doc("<Node><NodeName>N</NodeName><RTProperties><Format/></RTProperties></Node>"),
        doc("<Node><NodeName>N</NodeName><RTProperties><Format><chr/><int/></Format></RTProperties></Node>"),
        doc("<Node><NodeName>N</NodeName><RTProperties><Format><chr/></Format><Format><chr/></Format></RTProperties></Node>"),
        doc("<Node><NodeName>N</NodeName><RTProperties><Format><chr/></Format></RTProperties><Node><NodeName>C</NodeName></Node></Node>"),
        doc("<Node><NodeName>N&bogus;</NodeName></Node>"),
    ];
    for xml in cases {
        refused(&mut t, S::BadRequest, |t| {
            t.add(SRV, &tnds("./App", &xml), None, 1)
        });
        refused(&mut t, S::BadRequest, |t| {
            t.replace(SRV, &tnds("./App", &xml), None, 1)
        });
    }
    // An empty MgmtTree is well-formed and adds nothing.
    assert_eq!(t.add(SRV, &tnds("./App", &doc("")), None, 1), S::Ok);
}

// ---- Replace ----

#[test]
fn replace_writes_the_described_values() {
    let mut t = fixture();
    let nodes = [
        leaf_node("Leaf", "chr", "v2"),
        "<Node><NodeName>Num</NodeName><Value>7</Value></Node>".to_string(),
        "<Node><NodeName>Bin</NodeName><RTProperties><Format><b64/></Format><Type><MIME>application/octet-stream</MIME></Type></RTProperties><Value>AQI=</Value></Node>".to_string(),
        "<Node><NodeName>Dir</NodeName><RTProperties><Format><node/></Format></RTProperties>".to_string(),
        leaf_node("Sub", "chr", "t"),
        "</Node>".to_string(),
        // No Value: left as it is.
        "<Node><NodeName>Run</NodeName><RTProperties><Format><chr/></Format></RTProperties></Node>".to_string(),
        // The secret can be written, just not read.
        leaf_node("Secret", "chr", "new-pw"),
    ]
    .concat();
    let before = t.clone();
    assert_eq!(t.replace(SRV, &tnds("./App", &doc(&nodes)), None, 9), S::Ok);
    for (p, v) in [
        ("./App/Leaf", &b"v2"[..]),
        ("./App/Num", b"7"),
        ("./App/Bin", &[1, 2]),
        ("./App/Dir/Sub", b"t"),
        ("./App/Secret", b"new-pw"),
    ] {
        let n = t.node(p).unwrap();
        assert_eq!((n.value(), n.verno(), n.tstamp_secs()), (v, 1, 9), "{p}");
    }
    assert_eq!(t.node("./App/Num").unwrap().format(), Format::Int);
    assert_eq!(t.node("./App/Bin").unwrap().format(), Format::Bin);
    assert_eq!(t.node("./App/Run"), before.node("./App/Run"));
    assert_eq!(t.node("./App/Dir"), before.node("./App/Dir"));
    assert_eq!(t.node("./App"), before.node("./App"));
}

#[test]
fn replace_refusals_leave_the_tree_unchanged() {
    let mut t = fixture();
    let replace = |who: &'static str, target_uri: &str, nodes: String| {
        let item = tnds(target_uri, &doc(&nodes));
        move |t: &mut Tree| t.replace(who, &item, None, 1)
    };
    refused(
        &mut t,
        S::NotFound,
        replace(SRV, "./App", leaf_node("Nope", "chr", "x")),
    );
    refused(
        &mut t,
        S::PermissionDenied,
        replace(OTHER, "./App", leaf_node("Leaf", "chr", "x")),
    );
    // Kind: a leaf described as interior or with children, an interior node with a value or a leaf Format.
    refused(&mut t, S::CommandNotAllowed, replace(SRV, "./App", "<Node><NodeName>Leaf</NodeName><RTProperties><Format><node/></Format></RTProperties></Node>".into()));
    refused(
        &mut t,
        S::CommandNotAllowed,
        replace(
            SRV,
            "./App",
            "<Node><NodeName>Leaf</NodeName><Node><NodeName>X</NodeName></Node></Node>".into(),
        ),
    );
    refused(
        &mut t,
        S::CommandNotAllowed,
        replace(
            SRV,
            "./App",
            "<Node><NodeName>Dir</NodeName><Value>x</Value></Node>".into(),
        ),
    );
    refused(&mut t, S::CommandNotAllowed, replace(SRV, "./App", "<Node><NodeName>Dir</NodeName><RTProperties><Format><chr/></Format></RTProperties></Node>".into()));
    refused(&mut t, S::UnsupportedMediaType, replace(SRV, "./App", "<Node><NodeName>Dir</NodeName><RTProperties><Format><dir/></Format></RTProperties></Node>".into()));
    // Access type: Run has no Replace. A permanent leaf keeps its Format.
    refused(
        &mut t,
        S::CommandNotAllowed,
        replace(SRV, "./App", leaf_node("Run", "chr", "x")),
    );
    refused(
        &mut t,
        S::CommandNotAllowed,
        replace(SRV, "./Std", leaf_node("Perm", "int", "1")),
    );
    // Format and value.
    refused(
        &mut t,
        S::UnsupportedMediaType,
        replace(SRV, "./App", leaf_node("Leaf", "string", "x")),
    );
    refused(
        &mut t,
        S::BadRequest,
        replace(SRV, "./App", leaf_node("Num", "int", "seven")),
    );
    refused(
        &mut t,
        S::UriTooLong,
        replace(SRV, "./App", leaf_node(&"n".repeat(33), "chr", "x")),
    );
    // All or nothing: Leaf would be replaced, Num is not an int.
    let both = [leaf_node("Leaf", "chr", "v2"), leaf_node("Num", "int", "x")].concat();
    refused(&mut t, S::BadRequest, replace(SRV, "./App", both));
    // Capacity.
    let mut small = fixture();
    small = small
        .clone()
        .with_capacity_bytes(Some(small.used_bytes() + 1));
    let grow = [
        leaf_node("Leaf", "chr", "v1+"),
        leaf_node("Num", "int", "12"),
    ]
    .concat();
    refused(&mut small, S::DeviceFull, replace(SRV, "./App", grow));
    // A query on the Target.
    refused(
        &mut t,
        S::CommandNotAllowed,
        replace(SRV, "./App?prop=Title", leaf_node("Leaf", "chr", "x")),
    );
}

// ---- Round trip ----

#[test]
fn get_delete_add_gives_the_same_subtree() {
    let mut t = fixture();
    assert_eq!(t.add(SRV, &tnds("./App", &object_doc()), None, 5), S::Ok);
    let subtree = |t: &Tree| -> Vec<(String, Node)> {
        t.uris()
            .filter(|p| p.starts_with("./App/Obj"))
            .map(|p| {
                (
                    p.to_string(),
                    t.node(p).cloned().unwrap_or_else(Node::interior),
                )
            })
            .collect()
    };
    let original = subtree(&t);
    assert_eq!(original.len(), 7);
    let xml = get_doc(&t, SRV, "./App/Obj?list=TNDS");
    assert_eq!(t.delete(SRV, &target("./App/Obj")), S::Ok);
    assert!(t.node("./App/Obj").is_none());
    assert_eq!(t.add(SRV, &tnds("./App", &xml), None, 5), S::Ok);
    assert_eq!(subtree(&t), original);
    assert_eq!(get_doc(&t, SRV, "./App/Obj?list=TNDS"), xml);
}
