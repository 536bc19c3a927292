//! Fuzz target: TNDS payloads (DM TNDS: a subtree as one `MgmtTree` document) as a server sends
//! them in an Add or Replace, through the device's tree (`Tree::add` / `Tree::replace` with Meta
//! Type `application/vnd.syncml.dmtnds+xml` or `+wbxml`), and the standalone WBXML TNDS decoder
//! (`dmsim::syncml::wbxml::decode_tnds`). Never a panic, hang or unbounded allocation, and:
//! - a refused command leaves the tree exactly as it was; the tree stays within its capacity;
//! - a WBXML payload and the TNDS XML text `decode_tnds` gives for it are the same command: the
//!   same status and the same tree afterwards;
//! - the tree can still be listed as TNDS afterwards.
//!
//! The first byte chooses: bits 0-1 how the rest is sent (0: XML text, 1: WBXML opaque, 2: XML in
//! base64 with Format `b64`, 3: XML opaque), bit 2 Replace instead of Add, bits 3-4 the Target.

#![no_main]

use base64::Engine as _;
use dmsim::syncml::{wbxml, Data, Encoding, Item, Location, Meta, StatusCode};
use dmsim::tree::{Tree, TNDS_WBXML, TNDS_XML};
use libfuzzer_sys::fuzz_target;

/// `scenarios/commands/atomic-nested.toml`: a device with `./Vendor` (Add and Get for all).
const SCENARIO: usize = 0;
const SERVER: &str = "dmsim-server";
const TARGETS: [&str; 4] = ["./Vendor", "./Vendor/New", ".", "./DevInfo"];
const NOW: u64 = 1_000;

fn item(target: &str, type_: &str, format: Option<&str>, data: Data) -> Item {
    Item {
        target: Some(Location::uri(target)),
        meta: Some(Meta {
            type_: Some(type_.to_string()),
            format: format.map(str::to_string),
            ..Meta::default()
        }),
        data: Some(data),
        ..Item::default()
    }
}

/// Run the command on a copy of `tree`: its status and the tree after it.
fn run(tree: &Tree, replace: bool, item: &Item) -> (StatusCode, Tree) {
    let mut after = tree.clone();
    let status = if replace {
        after.replace(SERVER, item, None, NOW)
    } else {
        after.add(SERVER, item, None, NOW)
    };
    if !status.is_success() {
        assert!(&after == tree, "{status:?} changed the tree");
    }
    if let Some(cap) = after.capacity_bytes() {
        assert!(after.used_bytes() <= cap);
    }
    for uri in ["./Vendor?list=TNDS", ".?list=TNDS+ACL+Format"] {
        let get = Item {
            target: Some(Location::uri(uri)),
            ..Item::default()
        };
        let _ = after.get(SERVER, &get);
    }
    (status, after)
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, payload)) = data.split_first() else {
        return;
    };
    let tree = dmsim_fuzz::device(SCENARIO, Encoding::Xml).tree;
    let replace = mode & 4 == 4;
    let target = TARGETS[usize::from(mode >> 3) & 3];
    match mode & 3 {
        0 => {
            let text = String::from_utf8_lossy(payload).into_owned();
            run(
                &tree,
                replace,
                &item(target, TNDS_XML, None, Data::Text(text)),
            );
        }
        1 => {
            let opaque = item(target, TNDS_WBXML, None, Data::Opaque(payload.to_vec()));
            let (status, after) = run(&tree, replace, &opaque);
            match wbxml::decode_tnds(payload) {
                Ok(xml) => {
                    let text = item(target, TNDS_XML, None, Data::Text(xml.clone()));
                    let (status_xml, after_xml) = run(&tree, replace, &text);
                    assert_eq!(status, status_xml, "decoded as {xml}");
                    assert!(after == after_xml, "not the same tree; decoded as {xml}");
                }
                Err(e) => {
                    let _ = e.to_string();
                    assert_eq!(status, StatusCode::BadRequest, "{e}");
                }
            }
        }
        2 => {
            let b64 = base64::engine::general_purpose::STANDARD.encode(payload);
            run(
                &tree,
                replace,
                &item(target, TNDS_XML, Some("b64"), Data::Text(b64)),
            );
        }
        _ => {
            run(
                &tree,
                replace,
                &item(target, TNDS_XML, None, Data::Opaque(payload.to_vec())),
            );
        }
    }
});
