//! Unit tests of the WBXML codec: the encoder's bytes token by token, hand-made documents in the
//! variants real implementations write, and the decoder's errors with their offsets.

use super::encode::push_mb_u32;
use super::*;
use crate::syncml::xml::{self, MAX_NESTING};
use crate::syncml::{
    Alert, AlertCode, Command, Data, Delete, Item, ItemCommand, Location, Meta, SyncBody, SyncHdr,
    SyncMl, UnknownCommand,
};

// Token shorthands.
const SWITCH: u8 = 0x00;
const END: u8 = 0x01;
const ENTITY: u8 = 0x02;
const STR_I: u8 = 0x03;
const LITERAL_C: u8 = 0x44;
const PI: u8 = 0x43;
const STR_T: u8 = 0x83;
const OPAQUE: u8 = 0xC3;
const C: u8 = 0x40;

// Code page 0 tags with the content flag.
const SYNCML: u8 = 0x2D | C;
const SYNC_HDR: u8 = 0x2C | C;
const SYNC_BODY: u8 = 0x2B | C;
const VER_DTD: u8 = 0x31 | C;
const VER_PROTO: u8 = 0x32 | C;
const SESSION_ID: u8 = 0x25 | C;
const MSG_ID: u8 = 0x1B | C;
const TARGET: u8 = 0x2E | C;
const SOURCE: u8 = 0x27 | C;
const LOC_URI: u8 = 0x17 | C;
const LOC_NAME: u8 = 0x16 | C;
const META: u8 = 0x1A | C;
const ALERT: u8 = 0x06 | C;
const REPLACE: u8 = 0x20 | C;
const RESULTS: u8 = 0x22 | C;
const DELETE: u8 = 0x10 | C;
const STATUS: u8 = 0x29 | C;
const CMD_ID: u8 = 0x0B | C;
const CMD_REF: u8 = 0x0C | C;
const MSG_REF: u8 = 0x1C | C;
const CMD: u8 = 0x0A | C;
const ITEM: u8 = 0x14 | C;
const DATA: u8 = 0x0F | C;
const CORRELATOR: u8 = 0x3C | C;
const FINAL: u8 = 0x12;
const NO_RESP: u8 = 0x1D;
const ARCHIVE: u8 = 0x07;
const SFT_DEL: u8 = 0x26;
// Code page 1.
const FORMAT: u8 = 0x07 | C;
const TYPE: u8 = 0x13 | C;
const MAX_MSG_SIZE: u8 = 0x0C | C;
// Code page 2.
const MGMT_TREE: u8 = 0x20 | C;
const DDF_VER_DTD: u8 = 0x37 | C;
const NODE: u8 = 0x24 | C;
const NODE_NAME: u8 = 0x26 | C;
const DF_PROPERTIES: u8 = 0x16 | C;
const DF_FORMAT: u8 = 0x15 | C;
const DDF_CHR: u8 = 0x0B;

/// WBXML 1.2, public id 0x1201, UTF-8, no string table.
const HEAD: [u8; 5] = [0x02, 0xA4, 0x01, 0x6A, 0x00];

/// An inline string.
fn s(text: &str) -> Vec<u8> {
    let mut v = vec![STR_I];
    v.extend_from_slice(text.as_bytes());
    v.push(0);
    v
}

/// An element with content: tag, content, END.
fn el(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    v.extend_from_slice(content);
    v.push(END);
    v
}

/// An element holding a string.
fn leaf(tag: u8, text: &str) -> Vec<u8> {
    el(tag, &s(text))
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// The header of a server message, as WBXML.
fn server_hdr() -> Vec<u8> {
    el(
        SYNC_HDR,
        &cat(&[
            &leaf(VER_DTD, "1.2"),
            &leaf(VER_PROTO, "DM/1.2"),
            &leaf(SESSION_ID, "1A2B"),
            &leaf(MSG_ID, "1"),
            &el(TARGET, &leaf(LOC_URI, "IMEI:356938035643809")),
            &el(SOURCE, &leaf(LOC_URI, "https://dm.example.com/oma")),
        ]),
    )
}

/// The same header as XML.
const SERVER_HDR_XML: &str = "<SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1A2B</SessionID><MsgID>1</MsgID><Target><LocURI>IMEI:356938035643809</LocURI></Target><Source><LocURI>https://dm.example.com/oma</LocURI></Source></SyncHdr>";

/// The document after `head`: a server message whose SyncBody holds `body` and Final.
fn server_doc(head: &[u8], body: &[u8]) -> Vec<u8> {
    let sync_body = el(SYNC_BODY, &cat(&[body, &[FINAL]]));
    cat(&[head, &el(SYNCML, &cat(&[&server_hdr(), &sync_body]))])
}

/// A server message as WBXML with the plain header.
fn server_msg(body: &[u8]) -> Vec<u8> {
    server_doc(&HEAD, body)
}

/// What the XML decoder gives for a server message whose SyncBody holds `body` and Final.
fn xml_server_msg(body: &str) -> SyncMl {
    let xml = format!(
        "<SyncML xmlns=\"SYNCML:SYNCML1.2\">{SERVER_HDR_XML}<SyncBody>{body}<Final/></SyncBody></SyncML>"
    );
    match xml::decode(xml.as_bytes()) {
        Ok(m) => m,
        Err(e) => panic!("{e}\n{xml}"),
    }
}

fn decode_ok(bytes: &[u8]) -> SyncMl {
    match decode(bytes) {
        Ok(m) => m,
        Err(e) => panic!("{e}\n{bytes:02X?}"),
    }
}

fn decode_err(bytes: &[u8]) -> WbxmlError {
    match decode(bytes) {
        Ok(m) => panic!("decoded {m:?}"),
        Err(e) => e,
    }
}

/// The only command of a message.
fn only_command(msg: &SyncMl) -> &Command {
    match msg.body.commands.as_slice() {
        [cmd] => cmd,
        other => panic!("{other:?}"),
    }
}

fn small_message() -> SyncMl {
    SyncMl {
        hdr: SyncHdr {
            ver_dtd: "1.2".into(),
            ver_proto: "DM/1.2".into(),
            session_id: "1".into(),
            msg_id: "2".into(),
            target: Location::uri("http://s/"),
            source: Location {
                loc_uri: "IMEI:1".into(),
                loc_name: Some("u".into()),
            },
            resp_uri: None,
            no_resp: false,
            cred: None,
            meta: Some(Meta {
                max_msg_size: Some(5120),
                ..Meta::default()
            }),
        },
        body: SyncBody {
            commands: vec![
                Command::Alert(Alert {
                    cmd_id: "1".into(),
                    no_resp: true,
                    cred: None,
                    code: AlertCode::GenericAlert,
                    correlator: Some("c&1".into()),
                    items: vec![Item {
                        meta: Some(Meta {
                            format: Some("chr".into()),
                            type_: Some("x".into()),
                            ..Meta::default()
                        }),
                        data: Some(Data::Text("<x>".into())),
                        ..Item::default()
                    }],
                }),
                Command::Delete(Delete {
                    cmd_id: "2".into(),
                    archive: true,
                    sft_del: true,
                    ..Delete::default()
                }),
            ],
            final_flag: true,
        },
    }
}

#[test]
fn encode_writes_the_reference_tokens() {
    let expected = cat(&[
        // Version 1.2, public id 0x1201, UTF-8, empty string table.
        &[0x02, 0xA4, 0x01, 0x6A, 0x00],
        &[SYNCML, SYNC_HDR],
        &leaf(VER_DTD, "1.2"),
        &leaf(VER_PROTO, "DM/1.2"),
        &leaf(SESSION_ID, "1"),
        &leaf(MSG_ID, "2"),
        &el(TARGET, &leaf(LOC_URI, "http://s/")),
        &el(
            SOURCE,
            &cat(&[&leaf(LOC_URI, "IMEI:1"), &leaf(LOC_NAME, "u")]),
        ),
        // Meta, switch to MetInf, MaxMsgSize, END of Meta; SyncHdr ends still on page 1.
        &[META, SWITCH, 0x01],
        &leaf(MAX_MSG_SIZE, "5120"),
        &[END, END],
        // Back to page 0 before SyncBody.
        &[SWITCH, 0x00, SYNC_BODY, ALERT],
        &leaf(CMD_ID, "1"),
        &[NO_RESP],
        &leaf(DATA, "1226"),
        &leaf(CORRELATOR, "c&1"),
        &[ITEM, META, SWITCH, 0x01],
        &leaf(FORMAT, "chr"),
        &leaf(TYPE, "x"),
        &[END, SWITCH, 0x00],
        &leaf(DATA, "<x>"),
        &[END, END, DELETE],
        &leaf(CMD_ID, "2"),
        &[ARCHIVE, SFT_DEL, END, FINAL, END, END],
    ]);
    let encoded = encode(&small_message());
    assert_eq!(encoded, expected);
    assert_eq!(
        &encoded[..16],
        &[
            0x02, 0xA4, 0x01, 0x6A, 0x00, 0x6D, 0x6C, 0x71, 0x03, b'1', b'.', b'2', 0x00, 0x01,
            0x72, 0x03
        ]
    );
    assert_eq!(decode(&encoded), Ok(small_message()));
}

#[test]
fn opaque_data_empty_text_and_nul() {
    let mut msg = small_message();
    let Command::Alert(alert) = &mut msg.body.commands[0] else {
        panic!()
    };
    alert.items = vec![
        Item {
            data: Some(Data::Opaque(vec![0, 0xFF, 0x10])),
            ..Item::default()
        },
        Item {
            data: Some(Data::Opaque(Vec::new())),
            ..Item::default()
        },
        Item {
            data: Some(Data::Text(String::new())),
            more_data: true,
            ..Item::default()
        },
        Item {
            data: Some(Data::Text("a\0b".into())),
            ..Item::default()
        },
    ];
    let encoded = encode(&msg);
    let items = cat(&[
        &el(ITEM, &el(DATA, &[OPAQUE, 3, 0, 0xFF, 0x10])),
        &el(ITEM, &el(DATA, &[OPAQUE, 0])),
        &el(ITEM, &[0x0F, 0x34]),
        &el(ITEM, &el(DATA, &cat(&[&s("a"), &[ENTITY, 0], &s("b")]))),
    ]);
    assert!(
        encoded.windows(items.len()).any(|w| w == items.as_slice()),
        "{encoded:02X?}"
    );
    assert_eq!(decode(&encoded), Ok(msg));
}

#[test]
fn unknown_commands_use_tokens_or_literals() {
    let mut msg = small_message();
    msg.body.commands = vec![
        Command::Unknown(UnknownCommand {
            name: "Sync".into(),
            cmd_id: "7".into(),
        }),
        Command::Unknown(UnknownCommand {
            name: "Frobnicate".into(),
            cmd_id: String::new(),
        }),
        Command::Unknown(UnknownCommand {
            name: "Frobnicate".into(),
            cmd_id: "9".into(),
        }),
    ];
    let encoded = encode(&msg);
    // The string table holds the literal name once.
    assert_eq!(&encoded[..5], &[0x02, 0xA4, 0x01, 0x6A, 11]);
    assert_eq!(&encoded[5..16], b"Frobnicate\0");
    let body = cat(&[
        &el(0x2A | C, &leaf(CMD_ID, "7")),
        &[LITERAL_C, 0, END],
        &el(LITERAL_C, &cat(&[&[0], &leaf(CMD_ID, "9")[..]])),
    ]);
    assert!(encoded.windows(body.len()).any(|w| w == body.as_slice()));
    assert_eq!(decode(&encoded), Ok(msg));
}

#[test]
fn mb_u_int32_edges() {
    let cases: [(u32, &[u8]); 5] = [
        (0, &[0x00]),
        (0x7F, &[0x7F]),
        (0x80, &[0x81, 0x00]),
        (0x1201, &[0xA4, 0x01]),
        (u32::MAX, &[0x8F, 0xFF, 0xFF, 0xFF, 0x7F]),
    ];
    for (n, bytes) in cases {
        let mut v = Vec::new();
        push_mb_u32(&mut v, n);
        assert_eq!(v, bytes, "{n:#X}");
    }
    // A public id over 32 bits, and one of six bytes.
    for id in [
        &[0x90, 0x80, 0x80, 0x80, 0x00][..],
        &[0x80, 0x80, 0x80, 0x80, 0x80, 0x01],
    ] {
        let doc = cat(&[&[0x02], id, &[0x6A, 0x00]]);
        let e = decode_err(&doc);
        assert_eq!(
            (e.kind, e.offset),
            (WbxmlErrorKind::BadMbUint, 1),
            "{id:02X?}"
        );
    }
}

#[test]
fn fpi_in_the_string_table_with_str_t_references() {
    // MOT-style: public id 0 → string table index 0, the SyncML 1.1 FPI, VerDTD 1.2 inside; text as
    // string table references too.
    let fpi = b"-//SYNCML//DTD SyncML 1.1//EN\0";
    let dm = b"DM/1.2\0";
    let table = cat(&[fpi, dm]);
    let head = cat(&[&[0x02, 0x00, 0x00, 0x6A], &[table.len() as u8], &table]);
    let ver_proto_ref = [VER_PROTO, STR_T, fpi.len() as u8, END];
    let mut doc = server_doc(&head, &[]);
    let plain = leaf(VER_PROTO, "DM/1.2");
    let at = doc
        .windows(plain.len())
        .position(|w| w == plain.as_slice())
        .expect("VerProto");
    let _replaced: Vec<u8> = doc.splice(at..at + plain.len(), ver_proto_ref).collect();
    assert_eq!(decode_ok(&doc), xml_server_msg(""));

    // The 1.2 FPI, in any ASCII case; and a string table with the FPI not first.
    let table = cat(&[b"x\0", b"-//SyncML//DTD SyncML 1.2//EN\0"]);
    let head = cat(&[&[0x03, 0x00, 0x02, 0x6A], &[table.len() as u8], &table]);
    assert_eq!(decode_ok(&server_doc(&head, &[])), xml_server_msg(""));

    // Other public ids, version bytes and charsets.
    let heads: [&[u8]; 5] = [
        &[0x01, 0x9F, 0x53, 0x6A, 0x00], // WBXML 1.1, SyncML 1.1 (0x0FD3)
        &[0x03, 0x9F, 0x51, 0x6A, 0x00], // WBXML 1.3, SyncML 1.0 (0x0FD1)
        &[0x02, 0x01, 0x6A, 0x00],       // unknown public id
        &[0x02, 0xA4, 0x01, 0x00, 0x00], // unknown charset
        &[0x02, 0xA4, 0x01, 0x03, 0x00], // US-ASCII
    ];
    for head in heads {
        assert_eq!(
            decode_ok(&server_doc(head, &[])),
            xml_server_msg(""),
            "{head:02X?}"
        );
    }
}

#[test]
fn header_errors() {
    let e = decode_err(&[]);
    assert_eq!((e.kind, e.offset), (WbxmlErrorKind::Empty, 0));
    let e = decode_err(&server_doc(&[0x00, 0xA4, 0x01, 0x6A, 0x00], &[]));
    assert_eq!(e.kind, WbxmlErrorKind::UnsupportedVersion(0));
    let e = decode_err(&server_doc(&[0x02, 0xA4, 0x02, 0x6A, 0x00], &[]));
    assert_eq!(
        (e.kind, e.offset),
        (WbxmlErrorKind::UnknownPublicId(0x1202), 1)
    );
    let e = decode_err(&server_doc(&[0x02, 0xA4, 0x01, 0x04, 0x00], &[]));
    assert_eq!(
        (e.kind, e.offset),
        (WbxmlErrorKind::UnsupportedCharset(4), 3)
    );
    let table = b"-//WAPFORUM//DTD SI 1.0//EN\0";
    let head = cat(&[&[0x02, 0x00, 0x00, 0x6A, table.len() as u8], table]);
    let e = decode_err(&server_doc(&head, &[]));
    assert_eq!(
        (e.kind, e.offset),
        (
            WbxmlErrorKind::UnknownDocumentType("-//WAPFORUM//DTD SI 1.0//EN".into()),
            2
        )
    );
    let e = decode_err(&server_doc(&[0x02, 0x00, 0x05, 0x6A, 0x02, b'a', 0], &[]));
    assert_eq!(
        (e.kind, e.offset),
        (WbxmlErrorKind::StringTableIndex { index: 5, len: 2 }, 2)
    );
    let e = decode_err(&server_doc(
        &[0x02, 0x00, 0x00, 0x6A, 0x02, b'a', b'b'],
        &[],
    ));
    assert_eq!(e.kind, WbxmlErrorKind::UnterminatedString { index: 0 });
    // A string table longer than the input.
    let e = decode_err(&[0x02, 0xA4, 0x01, 0x6A, 0x8F, 0x7F, 0x00]);
    assert_eq!(
        (e.kind, e.offset, e.path.as_str()),
        (WbxmlErrorKind::OversizeLength { len: 0x7FF }, 4, "")
    );
}

#[test]
fn opaque_data_and_opaque_text() {
    let body = cat(&[&el(
        REPLACE,
        &cat(&[
            &el(0x0B | C, &[OPAQUE, 1, b'5']),
            &el(ITEM, &el(DATA, &[OPAQUE, 4, 0xDE, 0xAD, 0xBE, 0xEF])),
            &el(ITEM, &el(DATA, &[OPAQUE, 2, b'h', b'i', OPAQUE, 1, b'!'])),
            &el(
                ITEM,
                &el(DATA, &cat(&[&s("x"), &[OPAQUE, 1, b'y'], &s("z")])),
            ),
            &el(ITEM, &el(DATA, &cat(&[&[OPAQUE, 1, b'y'], &s("z")]))),
        ]),
    )]);
    let msg = decode_ok(&server_msg(&body));
    let Command::Replace(replace) = only_command(&msg) else {
        panic!("{msg:?}")
    };
    assert_eq!(replace.cmd_id, "5");
    let data: Vec<_> = replace.items.iter().map(|i| i.data.clone()).collect();
    assert_eq!(
        data,
        [
            Some(Data::Opaque(vec![0xDE, 0xAD, 0xBE, 0xEF])),
            Some(Data::Opaque(b"hi!".to_vec())),
            Some(Data::Text("xyz".into())),
            Some(Data::Text("yz".into())),
        ]
    );

    // OPAQUE that is not UTF-8 where text is needed.
    let cmd_id = el(0x0B | C, &[OPAQUE, 2, b'5', 0xFF]);
    let doc = server_msg(&el(REPLACE, &cmd_id));
    let at = doc
        .windows(cmd_id.len())
        .position(|w| w == cmd_id.as_slice())
        .expect("CmdID");
    let e = decode_err(&doc);
    assert_eq!(
        (e.kind, e.offset, e.path.as_str()),
        (
            WbxmlErrorKind::InvalidUtf8,
            at + 4,
            "SyncML/SyncBody/Replace/CmdID"
        )
    );
}

#[test]
fn meta_with_page_switches() {
    // Every MetInf element switches page on its own, and the Meta's END comes on page 0.
    let meta = cat(&[
        &[META, SWITCH, 1],
        &leaf(FORMAT, "b64"),
        &[SWITCH, 0, SWITCH, 1],
        &leaf(TYPE, "syncml:auth-md5"),
        &[SWITCH, 0, END],
    ]);
    let body = el(
        ALERT,
        &cat(&[
            &leaf(CMD_ID, "1"),
            &leaf(DATA, "1226"),
            &el(ITEM, &cat(&[&meta, &leaf(DATA, "x")])),
        ]),
    );
    assert_eq!(
        decode_ok(&server_msg(&body)),
        xml_server_msg("<Alert><CmdID>1</CmdID><Data>1226</Data><Item><Meta><Format xmlns=\"syncml:metinf\">b64</Format><Type xmlns=\"syncml:metinf\">syncml:auth-md5</Type></Meta><Data>x</Data></Item></Alert>")
    );
}

#[test]
fn entities_are_characters() {
    let data = cat(&[&s("a"), &[ENTITY, 0x81, 0x69], &[ENTITY, 0x3C], &s("b")]);
    let body = el(
        REPLACE,
        &cat(&[&leaf(CMD_ID, "1"), &el(ITEM, &el(DATA, &data))]),
    );
    let msg = decode_ok(&server_msg(&body));
    assert_eq!(
        only_command(&msg).items()[0].data,
        Some(Data::Text("aé<b".into()))
    );
    let bad = el(REPLACE, &el(0x0B | C, &[ENTITY, 0x83, 0xB0, 0x00]));
    let e = decode_err(&server_msg(&bad));
    assert_eq!(e.kind, WbxmlErrorKind::InvalidEntity(0xD800));
}

#[test]
fn tnds_subtree_in_data_becomes_xml_text() {
    let tree = cat(&[
        &[SWITCH, 2, MGMT_TREE],
        &leaf(DDF_VER_DTD, "1.2"),
        &[NODE],
        &leaf(NODE_NAME, "a<b"),
        &[DF_PROPERTIES, DF_FORMAT, DDF_CHR, END, END],
        &[SWITCH, 0, 0x0F, SWITCH, 2],
        &[END, END, SWITCH, 0],
    ]);
    let body = el(
        RESULTS,
        &cat(&[
            &leaf(CMD_ID, "3"),
            &leaf(CMD_REF, "2"),
            &el(ITEM, &el(DATA, &tree)),
        ]),
    );
    let xml_data = "<MgmtTree xmlns=\"syncml:dmddf1.2\"><VerDTD>1.2</VerDTD><Node><NodeName>a&lt;b</NodeName><DFProperties><DFFormat><chr/></DFFormat></DFProperties><Data xmlns=\"SYNCML:SYNCML1.2\"/></Node></MgmtTree>";
    let msg = decode_ok(&server_msg(&body));
    assert_eq!(
        msg,
        xml_server_msg(&format!(
            "<Results><CmdID>3</CmdID><CmdRef>2</CmdRef><Item><Data>{xml_data}</Data></Item></Results>"
        ))
    );
    assert_eq!(
        only_command(&msg).items()[0].data,
        Some(Data::Text(xml_data.into()))
    );

    // Text before the subtree, in escaped form, and a status code with an element inside.
    let body = el(
        REPLACE,
        &cat(&[
            &leaf(CMD_ID, "1"),
            &el(
                ITEM,
                &el(DATA, &cat(&[&s("x&"), &[SWITCH, 2, 0x25, SWITCH, 0]])),
            ),
        ]),
    );
    let msg = decode_ok(&server_msg(&body));
    assert_eq!(
        only_command(&msg).items()[0].data,
        Some(Data::Text("x&amp;<node xmlns=\"syncml:dmddf1.2\"/>".into()))
    );
    let body = el(
        ALERT,
        &cat(&[&leaf(CMD_ID, "1"), &el(DATA, &cat(&[&s("12"), &[0x12]]))]),
    );
    let e = decode_err(&server_msg(&body));
    assert!(
        matches!(
            e.kind,
            WbxmlErrorKind::InvalidNumber {
                element: "Data",
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn literals_attributes_and_pis_are_handled() {
    let table = b"Foo\0bar\0";
    let head = cat(&[&HEAD[..4], &[table.len() as u8], table]);
    let body = cat(&[
        // A PI before the command, a literal command with an attribute list, an attribute on CmdID.
        &[PI, 0x05, STR_I, b'v', 0, END],
        &[0xC4, 0x00, 0x05, 0x85, STR_T, 0x04, 0x04, 0x04, END],
        &el(0x0B | 0xC0, &cat(&[&[0x06, END], &s("4")])),
        &[END],
    ]);
    let doc = cat(&[&server_doc(&head, &body), &[PI, 0x05, END]]);
    assert_eq!(
        decode_ok(&doc),
        xml_server_msg("<Foo a=\"1\"><CmdID b=\"2\">4</CmdID></Foo>")
    );
}

#[test]
fn every_truncation_is_an_error() {
    let mut msg = small_message();
    let Command::Alert(alert) = &mut msg.body.commands[0] else {
        panic!()
    };
    alert.items.push(Item {
        data: Some(Data::Opaque(vec![1, 2, 3])),
        ..Item::default()
    });
    let encoded = encode(&msg);
    for len in 0..encoded.len() {
        let e = decode_err(&encoded[..len]);
        assert!(
            matches!(
                e.kind,
                WbxmlErrorKind::Truncated
                    | WbxmlErrorKind::Empty
                    | WbxmlErrorKind::OversizeLength { .. }
            ),
            "prefix of {len} bytes: {e}"
        );
    }
    let e = decode_err(&encoded[..40]);
    assert_eq!(e.offset, 40);
    assert_eq!(e.path, "SyncML/SyncHdr/Target/LocURI");
}

#[test]
fn unknown_token_with_offset_and_path() {
    let status = |code: &[u8]| {
        el(
            STATUS,
            &cat(&[
                &leaf(CMD_ID, "1"),
                &leaf(MSG_REF, "1"),
                &leaf(CMD_REF, "0"),
                &leaf(CMD, "SyncHdr"),
                code,
            ]),
        )
    };
    let first = status(&leaf(DATA, "200"));
    let second = status(&[0x7F]);
    let doc = server_msg(&cat(&[&first, &second]));
    let at = doc
        .windows(second.len())
        .position(|w| w == second.as_slice())
        .expect("second Status")
        + second.len()
        - 2;
    let e = decode_err(&doc);
    assert_eq!(
        e.kind,
        WbxmlErrorKind::UnknownToken {
            page: 0,
            token: 0x3F
        }
    );
    assert_eq!(
        (e.offset, e.path.as_str()),
        (at, "SyncML/SyncBody/Status[2]")
    );
    assert_eq!(
        e.to_string(),
        format!("byte {at}, at SyncML/SyncBody/Status[2]: unknown token 0x3F on code page 0")
    );
}

#[test]
fn structural_errors() {
    // Unknown code page.
    let doc = server_msg(&[SWITCH, 3]);
    let e = decode_err(&doc);
    assert_eq!(
        (e.kind, e.offset),
        (WbxmlErrorKind::UnknownCodePage(3), doc.len() - 4)
    );
    assert_eq!(e.path, "SyncML/SyncBody");

    // String table reference out of range.
    let doc = server_msg(&el(REPLACE, &el(0x0B | C, &[STR_T, 0x81, 0x00])));
    let e = decode_err(&doc);
    assert_eq!(
        (e.kind, e.path.as_str()),
        (
            WbxmlErrorKind::StringTableIndex { index: 128, len: 0 },
            "SyncML/SyncBody/Replace/CmdID"
        )
    );

    // An OPAQUE claiming 4 GiB in a short message.
    let doc = server_msg(&el(
        REPLACE,
        &el(ITEM, &el(DATA, &[OPAQUE, 0x8F, 0xFF, 0xFF, 0xFF, 0x7F])),
    ));
    let at = doc.iter().position(|&b| b == OPAQUE).expect("OPAQUE");
    let e = decode_err(&doc);
    assert_eq!(
        (e.kind, e.offset),
        (WbxmlErrorKind::OversizeLength { len: u32::MAX }, at + 1)
    );

    // A 6-byte mb_u_int32 in the body.
    let doc = server_msg(&el(
        REPLACE,
        &el(0x0B | C, &[STR_T, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]),
    ));
    let at = doc.iter().position(|&b| b == STR_T).expect("STR_T");
    let e = decode_err(&doc);
    assert_eq!((e.kind, e.offset), (WbxmlErrorKind::BadMbUint, at + 1));

    // Wrong root, text before the root, data after it, an extension token.
    let e = decode_err(&cat(&[&HEAD, &el(ALERT, &[])]));
    assert_eq!(
        e.to_string(),
        "byte 5: root element is Alert, expected SyncML"
    );
    assert_eq!(
        (e.kind, e.offset),
        (WbxmlErrorKind::UnexpectedRoot("Alert".into()), 5)
    );
    let e = decode_err(&cat(&[&HEAD, &s("x")]));
    assert_eq!(
        (e.kind, e.offset),
        (WbxmlErrorKind::UnexpectedToken(STR_I), 5)
    );
    let doc = cat(&[&server_msg(&[]), &[FINAL]]);
    let e = decode_err(&doc);
    assert_eq!(
        (e.kind, e.offset),
        (WbxmlErrorKind::TrailingData, doc.len() - 1)
    );
    let e = decode_err(&server_msg(&[0x40, b'x', 0]));
    assert_eq!(e.kind, WbxmlErrorKind::UnexpectedToken(0x40));

    // An empty root: complete, but SyncHdr is missing.
    let e = decode_err(&cat(&[&HEAD, &[0x2D]]));
    assert_eq!(
        (e.kind, e.path.as_str()),
        (WbxmlErrorKind::MissingElement("SyncHdr"), "SyncML")
    );
}

#[test]
fn mapping_errors_match_the_xml_decoder() {
    let body = el(
        STATUS,
        &cat(&[&leaf(CMD_ID, "1"), &leaf(MSG_REF, "1"), &leaf(DATA, "200")]),
    );
    let doc = server_msg(&body);
    let e = decode_err(&doc);
    assert_eq!(e.kind, WbxmlErrorKind::MissingElement("CmdRef"));
    assert_eq!(e.path, "SyncML/SyncBody/Status");
    let status_at = doc.windows(2).position(|w| w == [STATUS, CMD_ID]);
    assert_eq!(Some(e.offset), status_at);

    let body = el(
        ALERT,
        &cat(&[&leaf(CMD_ID, "1"), &leaf(DATA, "1201"), &leaf(DATA, "1200")]),
    );
    let e = decode_err(&server_msg(&body));
    assert_eq!(e.kind, WbxmlErrorKind::DuplicateElement("Data".into()));
    assert_eq!(e.path, "SyncML/SyncBody/Alert/Data[2]");

    let body = el(ALERT, &cat(&[&leaf(CMD_ID, "1"), &leaf(DATA, " 12o1 ")]));
    let e = decode_err(&server_msg(&body));
    assert_eq!(
        e.kind,
        WbxmlErrorKind::InvalidNumber {
            element: "Data",
            value: "12o1".into()
        }
    );
}

/// `depth` Atomics nested in one another.
fn nested_atomics(depth: usize) -> Vec<u8> {
    let mut body = Vec::new();
    for _ in 0..depth {
        body.extend_from_slice(&[0x08 | C]);
        body.extend_from_slice(&leaf(CMD_ID, "1"));
    }
    body.extend(std::iter::repeat_n(END, depth));
    server_msg(&body)
}

#[test]
fn nesting_is_limited_and_depth_never_overflows() {
    assert!(decode(&nested_atomics(MAX_NESTING)).is_ok());
    let e = decode_err(&nested_atomics(MAX_NESTING + 1));
    assert_eq!(e.kind, WbxmlErrorKind::TooDeep);
    assert_eq!(e.path.matches("Atomic").count(), MAX_NESTING + 1);
    assert_eq!(
        decode_err(&nested_atomics(100_000)).kind,
        WbxmlErrorKind::TooDeep
    );

    // Deep unknown elements, and a deep subtree inside Data.
    let depth = 200_000;
    let sync = cat(&[&vec![0x2A | C; depth], &vec![END; depth]]);
    let msg = decode_ok(&server_msg(&sync));
    assert_eq!(
        msg.body.commands,
        [Command::Unknown(UnknownCommand {
            name: "Sync".into(),
            cmd_id: String::new()
        })]
    );
    let deep = cat(&[
        &[SWITCH, 2],
        &vec![NODE; depth],
        &vec![END; depth],
        &[SWITCH, 0],
    ]);
    let body = el(
        REPLACE,
        &cat(&[&leaf(CMD_ID, "1"), &el(ITEM, &el(DATA, &deep))]),
    );
    let msg = decode_ok(&server_msg(&body));
    let text = only_command(&msg).items()[0]
        .data_text()
        .unwrap_or_default()
        .len();
    assert_eq!(
        text,
        depth * "<Node></Node>".len() + " xmlns=\"syncml:dmddf1.2\"".len()
    );
}

#[test]
fn xml_and_wbxml_decode_to_the_same_message() {
    let xml_doc = r#"<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1A2B</SessionID><MsgID>1</MsgID><Target><LocURI>IMEI:356938035643809</LocURI></Target><Source><LocURI>https://dm.example.com/oma</LocURI></Source><RespURI>https://dm.example.com/oma?s=77</RespURI></SyncHdr><SyncBody><Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><TargetRef>https://dm.example.com/oma</TargetRef><SourceRef>IMEI:356938035643809</SourceRef><Chal><Meta><Format xmlns="syncml:metinf">b64</Format><Type xmlns="syncml:metinf">syncml:auth-md5</Type><NextNonce xmlns="syncml:metinf">ZG1ub25jZQ==</NextNonce></Meta></Chal><Data>407</Data></Status><Get><CmdID>3</CmdID><Item><Target><LocURI>./DevDetail/SwV</LocURI></Target></Item></Get><Exec><CmdID>5</CmdID><Correlator>fumo-42</Correlator><Item><Target><LocURI>./FUMO/DownloadAndUpdate</LocURI></Target></Item></Exec><Atomic><CmdID>6</CmdID><Add><CmdID>7</CmdID><Meta><Format xmlns="syncml:metinf">node</Format></Meta><Item><Target><LocURI>./Ext/App</LocURI></Target></Item></Add></Atomic><Sequence><CmdID>9</CmdID><NoResp/><Alert><CmdID>11</CmdID><Data>1100</Data><Item><Data>MINDT=10</Data></Item></Alert></Sequence><Final/></SyncBody></SyncML>"#;
    let from_xml = xml::decode(xml_doc.as_bytes()).expect("XML");
    assert_eq!(decode(&encode(&from_xml)), Ok(from_xml));
}

#[test]
fn is_wbxml_looks_at_the_version_byte() {
    assert!(is_wbxml(&encode(&small_message())));
    assert!(is_wbxml(&[0x01]));
    assert!(is_wbxml(&[0x03, 0x00]));
    assert!(!is_wbxml(&xml::encode(&small_message())));
    assert!(!is_wbxml(b"\xEF\xBB\xBF<SyncML/>"));
    assert!(!is_wbxml(&[]));
    assert!(!is_wbxml(&[0x00]));
    assert!(!is_wbxml(&[0x04]));
}

#[test]
fn empty_and_whitespace_text() {
    // Leaf text is trimmed like XML's; Data is verbatim; an empty Data element is empty text.
    let body = el(
        REPLACE,
        &cat(&[
            &leaf(CMD_ID, " \n7\t"),
            &el(ITEM, &[0x0F]),
            &el(ITEM, &el(DATA, &s("  a \r\n"))),
            &el(ITEM, &el(DATA, &s(""))),
        ]),
    );
    let msg = decode_ok(&server_msg(&body));
    assert_eq!(
        msg,
        xml_server_msg("<Replace><CmdID> \n7\t</CmdID><Item><Data/></Item><Item><Data>  a &#13;\n</Data></Item><Item><Data></Data></Item></Replace>")
    );
}

#[test]
fn no_resp_and_hdr_fields() {
    let mut msg = small_message();
    msg.hdr.no_resp = true;
    msg.hdr.resp_uri = Some("http://s/?x=1&y".into());
    msg.body.commands = vec![Command::Replace(ItemCommand {
        cmd_id: "1".into(),
        no_resp: true,
        items: vec![Item {
            target: Some(Location::uri("./a")),
            source: Some(Location {
                loc_uri: "./b".into(),
                loc_name: Some("n".into()),
            }),
            more_data: true,
            ..Item::default()
        }],
        ..ItemCommand::default()
    })];
    assert_eq!(decode(&encode(&msg)), Ok(msg));
}

// ---- TNDS on code page 2 ----

const TNDS_XML_TYPE: &str = "application/vnd.syncml.dmtnds+xml";

/// A server message with one Replace whose item carries `data` with Meta Type `type_` (on the item,
/// or on the command when `on_command`).
fn tnds_message(data: &str, type_: &str, on_command: bool) -> SyncMl {
    let meta = Meta {
        format: Some("xml".into()),
        type_: Some(type_.into()),
        ..Meta::default()
    };
    let mut msg = small_message();
    msg.body.commands = vec![Command::Replace(ItemCommand {
        cmd_id: "4".into(),
        meta: on_command.then(|| meta.clone()),
        items: vec![Item {
            target: Some(Location::uri("./App")),
            meta: (!on_command).then_some(meta),
            data: Some(Data::Text(data.into())),
            ..Item::default()
        }],
        ..ItemCommand::default()
    })];
    msg
}

/// Whether `needle` occurs in `bytes`.
fn contains(bytes: &[u8], needle: &[u8]) -> bool {
    bytes.windows(needle.len()).any(|w| w == needle)
}

const TNDS_DOC: &str = "<MgmtTree xmlns=\"syncml:dmddf1.2\"><VerDTD>1.2</VerDTD><Node><NodeName>A</NodeName><Path>.</Path><RTProperties><ACL>Get=*&amp;Add=s</ACL><Format><chr/></Format></RTProperties><Value>a&lt;b&#13;\n</Value></Node><Node><NodeName>E</NodeName><Value></Value></Node></MgmtTree>";

#[test]
fn tnds_data_is_written_on_code_page_2() {
    for on_command in [false, true] {
        let msg = tnds_message(TNDS_DOC, TNDS_XML_TYPE, on_command);
        let bytes = encode(&msg);
        let tree = cat(&[
            &[DATA, SWITCH, 2, MGMT_TREE],
            &leaf(DDF_VER_DTD, "1.2"),
            &[NODE],
            &leaf(NODE_NAME, "A"),
            &leaf(0x2C | C, "."),
            &[0x2F | C],
            &leaf(0x06 | C, "Get=*&Add=s"),
            &[0x1C | C, DDF_CHR, END, END],
            &leaf(0x36 | C, "a<b\r\n"),
            &[END, NODE],
            &leaf(NODE_NAME, "E"),
            // `<Value></Value>`: content flag, no content.
            &[0x36 | C, END, END],
            &[END, SWITCH, 0, END],
        ]);
        assert!(contains(&bytes, &tree), "{bytes:02X?}");
        assert_eq!(decode_ok(&bytes), xml::decode(&xml::encode(&msg)).unwrap());
        assert_eq!(
            only_command(&decode_ok(&bytes)).items()[0].data,
            Some(Data::Text(TNDS_DOC.into()))
        );
    }
}

#[test]
fn tnds_text_the_decoder_would_change_stays_a_string() {
    let cases = [
        // Not TNDS by its Type.
        (TNDS_DOC, "text/plain"),
        (TNDS_DOC, "application/vnd.syncml.dmtnds+wbxml"),
        // Whitespace outside the root, a declaration, a comment, CDATA, an entity the decoder
        // would write otherwise, no or another namespace, another attribute, a prefix, an
        // element the DDF does not have, two roots, another root, not XML at all.
        (" <MgmtTree xmlns=\"syncml:dmddf1.2\"/>", TNDS_XML_TYPE),
        (
            "<?xml version=\"1.0\"?><MgmtTree xmlns=\"syncml:dmddf1.2\"/>",
            TNDS_XML_TYPE,
        ),
        (
            "<MgmtTree xmlns=\"syncml:dmddf1.2\"><!-- c --></MgmtTree>",
            TNDS_XML_TYPE,
        ),
        (
            "<MgmtTree xmlns=\"syncml:dmddf1.2\"><Value><![CDATA[x]]></Value></MgmtTree>",
            TNDS_XML_TYPE,
        ),
        (
            "<MgmtTree xmlns=\"syncml:dmddf1.2\"><Value>&quot;</Value></MgmtTree>",
            TNDS_XML_TYPE,
        ),
        ("<MgmtTree><VerDTD>1.2</VerDTD></MgmtTree>", TNDS_XML_TYPE),
        ("<MgmtTree xmlns=\"syncml:other\"/>", TNDS_XML_TYPE),
        ("<MgmtTree xmlns='syncml:dmddf1.2'/>", TNDS_XML_TYPE),
        (
            "<MgmtTree xmlns=\"syncml:dmddf1.2\" a=\"1\"/>",
            TNDS_XML_TYPE,
        ),
        (
            "<MgmtTree xmlns=\"syncml:dmddf1.2\"><Node a=\"1\"/></MgmtTree>",
            TNDS_XML_TYPE,
        ),
        ("<dm:MgmtTree xmlns:dm=\"syncml:dmddf1.2\"/>", TNDS_XML_TYPE),
        (
            "<MgmtTree xmlns=\"syncml:dmddf1.2\"><Foo/></MgmtTree>",
            TNDS_XML_TYPE,
        ),
        (
            "<MgmtTree xmlns=\"syncml:dmddf1.2\"><MgmtTree xmlns=\"syncml:dmddf1.2\"/></MgmtTree>",
            TNDS_XML_TYPE,
        ),
        (
            "<MgmtTree xmlns=\"syncml:dmddf1.2\"/><MgmtTree xmlns=\"syncml:dmddf1.2\"/>",
            TNDS_XML_TYPE,
        ),
        ("<Node xmlns=\"syncml:dmddf1.2\"/>", TNDS_XML_TYPE),
        ("<MgmtTree xmlns=\"syncml:dmddf1.2\"><Node>", TNDS_XML_TYPE),
        ("plain text", TNDS_XML_TYPE),
        ("", TNDS_XML_TYPE),
    ];
    for (data, type_) in cases {
        let msg = tnds_message(data, type_, false);
        let bytes = encode(&msg);
        assert!(!contains(&bytes, &[SWITCH, 2]), "{data}: {bytes:02X?}");
        assert_eq!(
            decode_ok(&bytes),
            xml::decode(&xml::encode(&msg)).unwrap(),
            "{data}"
        );
    }
    // Whitespace between elements is kept, as text.
    let spaced = "<MgmtTree xmlns=\"syncml:dmddf1.2\">\n  <VerDTD>1.2</VerDTD>\n</MgmtTree>";
    let msg = tnds_message(spaced, TNDS_XML_TYPE, false);
    let bytes = encode(&msg);
    assert!(contains(&bytes, &[SWITCH, 2, MGMT_TREE, STR_I, b'\n']));
    assert_eq!(decode_ok(&bytes), xml::decode(&xml::encode(&msg)).unwrap());
    // An empty root.
    let empty = "<MgmtTree xmlns=\"syncml:dmddf1.2\"/>";
    let bytes = encode(&tnds_message(empty, TNDS_XML_TYPE, false));
    assert!(contains(&bytes, &[DATA, SWITCH, 2, 0x20, SWITCH, 0, END]));
}

/// A standalone DDF document as libwbxml's `xml2wbxml` writes it (FPI in the string table).
fn ddf_doc(body: &[u8]) -> Vec<u8> {
    let fpi = b"-//OMA//DTD-DM-DDF 1.2//EN\0";
    let mut v = vec![0x03, 0x00, 0x00, 0x6A, fpi.len() as u8];
    v.extend_from_slice(fpi);
    v.extend_from_slice(body);
    v
}

#[test]
fn decode_tnds_reads_standalone_documents() {
    // `xml2wbxml` output for a one-leaf tree, byte for byte.
    let body = cat(&[
        &[SWITCH, 2, MGMT_TREE],
        &leaf(DDF_VER_DTD, "1.2"),
        &[NODE],
        &leaf(NODE_NAME, "A"),
        &[0x2F | C, 0x1C | C, DDF_CHR, END, END],
        &leaf(0x36 | C, "x&y"),
        &[END, END],
    ]);
    let expected = "<MgmtTree xmlns=\"syncml:dmddf1.2\"><VerDTD>1.2</VerDTD><Node><NodeName>A</NodeName><RTProperties><Format><chr/></Format></RTProperties><Value>x&amp;y</Value></Node></MgmtTree>";
    assert_eq!(decode_tnds(&ddf_doc(&body)).as_deref(), Ok(expected));
    // Public id "unknown", tags on page 0, OPAQUE text, an entity, a PI after the root.
    let page0 = cat(&[
        &[
            0x02, 0x01, 0x6A, 0x00, MGMT_TREE, NODE, NODE_NAME, OPAQUE, 1, b'B', ENTITY, 0x41, END,
        ],
        &[0x25, END, END, PI, 0x05, END],
    ]);
    assert_eq!(
        decode_tnds(&page0).as_deref(),
        Ok("<MgmtTree xmlns=\"syncml:dmddf1.2\"><Node><NodeName>BA</NodeName><node/></Node></MgmtTree>")
    );
    // An empty root is a whole document.
    assert_eq!(
        decode_tnds(&ddf_doc(&[SWITCH, 2, 0x20])).as_deref(),
        Ok("<MgmtTree xmlns=\"syncml:dmddf1.2\"/>")
    );
}

#[test]
fn decode_tnds_errors() {
    let kind = |bytes: &[u8]| match decode_tnds(bytes) {
        Ok(xml) => panic!("decoded {xml}"),
        Err(e) => e.kind,
    };
    let tree = [SWITCH, 2, MGMT_TREE, END];
    assert_eq!(kind(&[]), WbxmlErrorKind::Empty);
    // A SyncML header is not a DDF one.
    assert_eq!(
        kind(&cat(&[&HEAD, &tree])),
        WbxmlErrorKind::UnknownPublicId(0x1201)
    );
    let syncml_fpi = cat(&[
        &[0x03, 0x00, 0x00, 0x6A, 0x1E],
        b"-//SYNCML//DTD SyncML 1.2//EN\0",
        &tree,
    ]);
    assert!(matches!(
        kind(&syncml_fpi),
        WbxmlErrorKind::UnknownDocumentType(_)
    ));
    assert_eq!(
        kind(&ddf_doc(&[SWITCH, 2, NODE, END])),
        WbxmlErrorKind::UnexpectedRoot("Node".into())
    );
    assert_eq!(
        kind(&ddf_doc(&[SWITCH, 1])),
        WbxmlErrorKind::UnknownCodePage(1)
    );
    assert_eq!(
        kind(&ddf_doc(&s("x"))),
        WbxmlErrorKind::UnexpectedToken(STR_I)
    );
    assert_eq!(
        kind(&ddf_doc(&[SWITCH, 2, MGMT_TREE, 0xC0])),
        WbxmlErrorKind::UnexpectedToken(0xC0)
    );
    assert_eq!(
        kind(&ddf_doc(&[SWITCH, 2, MGMT_TREE, 0x3F])),
        WbxmlErrorKind::UnknownToken {
            page: 2,
            token: 0x3F
        }
    );
    assert_eq!(
        kind(&ddf_doc(&[SWITCH, 2, MGMT_TREE, NODE, END])),
        WbxmlErrorKind::Truncated
    );
    assert_eq!(
        kind(&ddf_doc(&[SWITCH, 2, MGMT_TREE, END, END])),
        WbxmlErrorKind::TrailingData
    );
    assert_eq!(kind(&ddf_doc(&[END])), WbxmlErrorKind::UnexpectedToken(END));
    assert_eq!(
        kind(&ddf_doc(&[SWITCH, 2, MGMT_TREE, OPAQUE, 1, 0xFF, END])),
        WbxmlErrorKind::InvalidUtf8
    );
    // Errors name the element they are in.
    let e = decode_tnds(&ddf_doc(&[SWITCH, 2, MGMT_TREE, NODE, 0x3F])).unwrap_err();
    assert_eq!(e.path, "MgmtTree/Node");
}

fn notes_of(bytes: &[u8]) -> Vec<crate::syncml::DecodeNote> {
    match decode_with_notes(bytes) {
        Ok((msg, notes)) => {
            assert_eq!(decode(bytes), Ok(msg), "the same message");
            notes
        }
        Err(e) => panic!("{e}\n{bytes:02X?}"),
    }
}

#[test]
fn a_document_type_other_than_syncml_1_2_is_a_namespace_note() {
    use crate::syncml::NoteKind;
    assert_eq!(notes_of(&server_msg(&[])), []);
    assert_eq!(notes_of(&encode(&small_message())), []);
    // The 1.2 FPI, in any case, is SyncML 1.2 too; so is any charset.
    let table = b"-//SyncML//DTD SyncML 1.2//EN\0";
    let head = cat(&[&[0x02, 0x00, 0x00, 0x6A], &[table.len() as u8], table]);
    assert_eq!(notes_of(&server_doc(&head, &[])), []);
    assert_eq!(
        notes_of(&server_doc(&[0x02, 0xA4, 0x01, 0x00, 0x00], &[])),
        []
    );

    let cases: [(Vec<u8>, &str, &str); 3] = [
        (
            vec![0x01, 0x9F, 0x53, 0x6A, 0x00],
            "public id 0x0FD3 (SyncML 1.1)",
            "01 9F 53 6A 00",
        ),
        (
            vec![0x02, 0x01, 0x6A, 0x00],
            "public id 0x0001 (unknown)",
            "02 01 6A 00",
        ),
        (
            cat(&[
                &[0x02, 0x00, 0x00, 0x6A, 0x1E],
                b"-//SYNCML//DTD SyncML 1.1//EN\0",
            ]),
            "FPI \"-//SYNCML//DTD SyncML 1.1//EN\"",
            "02 00 00 6A 1E \"-//SYNCML//DTD SyncML 1.1//EN\"",
        ),
    ];
    for (head, announced, excerpt) in cases {
        let notes = notes_of(&server_doc(&head, &[]));
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert_eq!(notes[0].kind, NoteKind::Namespace);
        assert_eq!(notes[0].path, "");
        assert_eq!(notes[0].excerpt, excerpt);
        assert_eq!(
            notes[0].detail,
            format!("the header announces {announced}, not SyncML 1.2 (public id 0x1201 or the FPI \"-//SYNCML//DTD SyncML 1.2//EN\"): the document type is how WBXML names the namespace SYNCML:SYNCML1.2 (reference §9.1)")
        );
    }
}

#[test]
fn children_out_of_schema_order_are_noted_as_in_xml() {
    use crate::syncml::NoteKind;
    // Status: Data before CmdRef and Cmd; Alert: Correlator before Data.
    let status = el(
        STATUS,
        &cat(&[
            &leaf(CMD_ID, "1"),
            &leaf(MSG_REF, "1"),
            &leaf(DATA, "200"),
            &leaf(CMD_REF, "0"),
            &leaf(CMD, "SyncHdr"),
        ]),
    );
    let alert = el(
        ALERT,
        &cat(&[
            &leaf(CMD_ID, "2"),
            &leaf(CORRELATOR, "c"),
            &leaf(DATA, "1226"),
        ]),
    );
    let doc = server_msg(&cat(&[&status, &alert]));
    assert_eq!(
        decode_ok(&doc),
        xml_server_msg("<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><Data>200</Data><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd></Status><Alert><CmdID>2</CmdID><Correlator>c</Correlator><Data>1226</Data></Alert>")
    );
    let notes = notes_of(&doc);
    let found: Vec<(&str, &str)> = notes
        .iter()
        .map(|n| (n.path.as_str(), n.excerpt.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            ("SyncML/SyncBody/Status/CmdRef", "<CmdRef>0</CmdRef>"),
            ("SyncML/SyncBody/Alert/Data", "<Data>1226</Data>"),
        ]
    );
    assert!(notes.iter().all(|n| n.kind == NoteKind::ElementOrder));
    assert!(
        notes[0]
            .detail
            .starts_with("CmdRef comes after Data in Status"),
        "{}",
        notes[0].detail
    );
}

#[test]
fn to_xml_shows_the_tokens_in_wire_order() {
    let status = el(
        STATUS,
        &cat(&[
            &leaf(CMD_ID, "1"),
            &leaf(MSG_REF, "1"),
            &leaf(DATA, "200"),
            &leaf(CMD_REF, "0"),
            &leaf(CMD, "SyncHdr"),
        ]),
    );
    let meta = cat(&[&[META, SWITCH, 1], &leaf(FORMAT, "chr"), &[END, SWITCH, 0]]);
    let replace = el(
        REPLACE,
        &cat(&[
            &leaf(CMD_ID, "2"),
            &el(
                ITEM,
                &cat(&[
                    &meta,
                    &el(DATA, &[OPAQUE, 2, b'h', b'i']),
                    &el(TARGET, &leaf(LOC_URI, "./a&b")),
                ]),
            ),
        ]),
    );
    let doc = server_msg(&cat(&[&status, &replace]));
    let shown = to_xml(&doc);
    let expected = "<!-- WBXML 1.2, public id 0x1201 (SyncML 1.2), charset 106 (UTF-8), string table of 0 bytes -->
<SyncML xmlns=\"SYNCML:SYNCML1.2\">
  <SyncHdr>
    <VerDTD>1.2</VerDTD>
    <VerProto>DM/1.2</VerProto>
    <SessionID>1A2B</SessionID>
    <MsgID>1</MsgID>
    <Target>
      <LocURI>IMEI:356938035643809</LocURI>
    </Target>
    <Source>
      <LocURI>https://dm.example.com/oma</LocURI>
    </Source>
  </SyncHdr>
  <SyncBody>
    <Status>
      <CmdID>1</CmdID>
      <MsgRef>1</MsgRef>
      <Data>200</Data>
      <CmdRef>0</CmdRef>
      <Cmd>SyncHdr</Cmd>
    </Status>
    <Replace>
      <CmdID>2</CmdID>
      <Item>
        <Meta>
          <Format xmlns=\"syncml:metinf\">chr</Format>
        </Meta>
        <Data>hi</Data>
        <Target>
          <LocURI>./a&amp;b</LocURI>
        </Target>
      </Item>
    </Replace>
    <Final/>
  </SyncBody>
</SyncML>";
    assert_eq!(shown, expected);
    // The same message as the decoder reads the bytes (the OPAQUE text read back as text).
    let mut read = decode_ok(&doc);
    if let Command::Replace(r) = &mut read.body.commands[1] {
        r.items[0].data = Some(Data::Text("hi".into()));
    }
    assert_eq!(xml::decode(shown.as_bytes()), Ok(read));
}

#[test]
fn to_xml_shows_headers_binary_and_where_the_bytes_stop() {
    // The SyncML 1.1 public id: the root in the 1.1 namespace; unknown: none.
    let shown = to_xml(&server_doc(&[0x01, 0x9F, 0x53, 0x6A, 0x00], &[]));
    assert!(
        shown.starts_with("<!-- WBXML 1.1, public id 0x0FD3 (SyncML 1.1), charset 106 (UTF-8), string table of 0 bytes -->\n<SyncML xmlns=\"SYNCML:SYNCML1.1\">"),
        "{shown}"
    );
    let shown = to_xml(&server_doc(&[0x02, 0x01, 0x00, 0x00], &[]));
    assert!(
        shown.contains("public id 0x0001 (unknown), charset 0 (unknown)"),
        "{shown}"
    );
    assert!(shown.contains("\n<SyncML>\n"), "{shown}");
    // Binary OPAQUE as base64, a TNDS tree kept on one line, a LITERAL and a PI.
    let tnds = cat(&[
        &[DATA, SWITCH, 2],
        &el(MGMT_TREE, &leaf(DDF_VER_DTD, "1.2")),
        &[SWITCH, 0, END],
    ]);
    let body = cat(&[
        &el(ITEM, &el(DATA, &[OPAQUE, 2, 0xFF, 0x00])),
        &el(ITEM, &tnds),
        &[PI, 0x05, END],
    ]);
    let shown = to_xml(&server_msg(&body));
    assert!(
        shown.contains("<Data><!-- OPAQUE, 2 bytes, as base64: -->/wA=</Data>"),
        "{shown}"
    );
    assert!(
        shown.contains(
            "<Data><MgmtTree xmlns=\"syncml:dmddf1.2\"><VerDTD>1.2</VerDTD></MgmtTree></Data>"
        ),
        "{shown}"
    );
    assert!(
        shown.contains("<!-- a processing instruction skipped"),
        "{shown}"
    );
    // An unknown token, a cut: what came, then where and why it stopped.
    let mut doc = server_msg(&leaf(CMD_ID, "1"));
    let cut = doc.len() - 4;
    doc.truncate(cut);
    let shown = to_xml(&doc);
    assert!(
        shown.ends_with("<CmdID>1\n<!-- the WBXML ends here, inside SyncML/SyncBody/CmdID -->"),
        "{shown}"
    );
    let shown = to_xml(&server_msg(&[0x30 | C]));
    assert!(shown.contains("\n<!-- WBXML error at byte "), "{shown}");
    assert!(
        shown.contains("unknown token 0x30 on code page 0 -->"),
        "{shown}"
    );
    assert_eq!(
        to_xml(&[0x09]),
        "\n<!-- WBXML error at byte 0: unsupported WBXML version byte 0x09 (expected 0x01-0x03) -->"
    );
    // Depth does not make the output quadratic.
    let deep = nested_atomics(5000);
    assert!(to_xml(&deep).len() < deep.len() * 80);
}

/// Found by fuzzing (fuzz target `xml_roundtrip`, a NUL in a name read from XML), and the same the
/// other way: a LITERAL's name in the string table can be anything without a NUL, and a name with
/// a space, a prefix or nothing at all is not one the XML encoder can write back as that name. A
/// command's name must be an XML name without a prefix, in both decoders (`tree_map`).
#[test]
fn literal_command_names_must_be_xml_names() {
    for name in ["Fo o", "p:Foo", "", "1a", "a/b", "a>b"] {
        let head = cat(&[
            &[0x02, 0xA4, 0x01, 0x6A, name.len() as u8 + 1],
            name.as_bytes(),
            &[0],
        ]);
        let body = el(LITERAL_C, &cat(&[&[0], &leaf(CMD_ID, "9")[..]]));
        let e = decode_err(&server_doc(&head, &body));
        assert_eq!(
            e.kind,
            WbxmlErrorKind::InvalidCommandName(name.into()),
            "{name:?}"
        );
    }
}
