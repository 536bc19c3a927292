//! Property tests of the XML codec: every message the model can hold (with text Data) survives
//! `encode` and `encode_pretty` unchanged, opaque Data comes back as the same bytes (as text, or as
//! base64 that its Meta Format `b64` says to decode), embedded XML survives the pretty form, what the
//! encoder writes has nothing for `decode_with_notes` to note, `as_received` only adds line breaks
//! and indentation between tags (an indented message stays as it is), and no input makes either
//! decoder or `as_received` panic.

use base64::Engine as _;
use dmsim::syncml::xml::{as_received, decode, decode_with_notes, encode, encode_pretty};
use dmsim::syncml::{Data, Item};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{select, Index};

mod support;

/// Messages as the XML codec carries them: opaque Data is sent as its text form.
fn sync_ml() -> impl Strategy<Value = dmsim::syncml::SyncMl> {
    support::sync_ml().prop_map(support::without_opaque)
}

/// Text that is often XML (elements, entities, CDATA, comments), and often nearly so.
fn xmlish_text() -> impl Strategy<Value = String> {
    let pieces = select(vec![
        "<a>",
        "</a>",
        "<b x=\"1\">",
        "</b>",
        "<c/>",
        "t",
        " ",
        "\n",
        "&amp;",
        "&lt;",
        "<![CDATA[<]]>",
        "<!-- c -->",
        "<",
        ">",
        "&",
    ]);
    vec(pieces, 0..12).prop_map(|p| p.concat())
}

/// The bytes an Item's Data stands for, read as the XML codec's reader must: base64-decoded when
/// the Meta Format says `b64`.
fn bytes_of(item: &Item) -> Option<Vec<u8>> {
    let data = item.data.as_ref()?;
    let b64 = item.meta.as_ref().and_then(|m| m.format.as_deref()) == Some("b64");
    Some(if b64 {
        base64::engine::general_purpose::STANDARD
            .decode(data.as_bytes())
            .unwrap_or_else(|e| panic!("Format b64 but not base64: {e}"))
    } else {
        data.as_bytes().to_vec()
    })
}

/// Bytes that look like SyncML often enough to get past the first element.
fn xml_soup() -> impl Strategy<Value = Vec<u8>> {
    let pieces = select(vec![
        "<SyncML>",
        "</SyncML>",
        "<SyncHdr>",
        "</SyncHdr>",
        "<SyncBody>",
        "</SyncBody>",
        "<Atomic>",
        "</Atomic>",
        "<Status>",
        "</Status>",
        "<CmdID>1</CmdID>",
        "<Data>",
        "</Data>",
        "<Item>",
        "</Item>",
        "<Meta>",
        "</Meta>",
        "<Final/>",
        "<![CDATA[x]]>",
        "<!-- c -->",
        "&amp;",
        "&x;",
        "<",
        ">",
        "/",
        "=",
        "\"",
        " ",
        "\n",
        "200",
        "\u{feff}",
        "é",
        "\u{0}",
    ]);
    vec(pieces, 0..48).prop_map(|p| p.concat().into_bytes())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, rng_seed: proptest::test_runner::RngSeed::Fixed(0x5EED), ..ProptestConfig::default() })]

    #[test]
    fn compact_encoding_round_trips(msg in sync_ml()) {
        prop_assert_eq!(decode(&encode(&msg)), Ok(msg));
    }

    #[test]
    fn pretty_encoding_round_trips(msg in sync_ml()) {
        prop_assert_eq!(decode(encode_pretty(&msg).as_bytes()), Ok(msg));
    }

    #[test]
    fn opaque_data_comes_back_as_the_same_bytes(msg in support::sync_ml()) {
        for encoded in [encode(&msg), encode_pretty(&msg).into_bytes()] {
            let decoded = decode(&encoded).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let expected = support::without_opaque(msg.clone());
            prop_assert_eq!(&decoded, &expected);
            let sent = support::all_items(&msg.body.commands);
            let read = support::all_items(&decoded.body.commands);
            prop_assert_eq!(sent.len(), read.len());
            for (sent, read) in sent.iter().zip(read) {
                if let Some(Data::Opaque(bytes)) = &sent.data {
                    prop_assert_eq!(bytes_of(read), Some(bytes.clone()));
                }
            }
        }
    }

    #[test]
    fn embedded_xml_survives_the_pretty_form(
        msg in sync_ml(),
        texts in vec(xmlish_text(), 1..4),
    ) {
        let mut msg = msg;
        msg.body.commands.push(dmsim::syncml::Command::Replace(dmsim::syncml::ItemCommand {
            cmd_id: "99".into(),
            items: texts
                .into_iter()
                .map(|t| Item { data: Some(Data::Text(t)), ..Item::default() })
                .collect(),
            ..Default::default()
        }));
        prop_assert_eq!(decode(encode_pretty(&msg).as_bytes()), Ok(msg));
    }

    #[test]
    fn the_encoder_keeps_to_the_schema_order_and_namespaces(msg in sync_ml()) {
        for encoded in [encode(&msg), encode_pretty(&msg).into_bytes()] {
            prop_assert_eq!(decode_with_notes(&encoded), Ok((msg.clone(), Vec::new())));
        }
    }

    #[test]
    fn as_received_only_adds_whitespace_between_tags(msg in sync_ml()) {
        let compact = String::from_utf8(encode(&msg)).expect("UTF-8");
        let shown = as_received(&compact);
        prop_assert_eq!(decode(shown.as_bytes()), Ok(msg.clone()));
        if !compact.contains('\n') {
            // Every line break is one added before a tag, with its indentation.
            let mut lines = shown.split('\n');
            let mut rebuilt = lines.next().unwrap_or_default().to_string();
            for line in lines {
                let tag = line.trim_start_matches(' ');
                prop_assert!(tag.starts_with('<'), "{}", line);
                rebuilt.push_str(tag);
            }
            prop_assert_eq!(rebuilt, compact);
        }
        let pretty = encode_pretty(&msg);
        prop_assert_eq!(as_received(&pretty), pretty);
    }

    #[test]
    fn arbitrary_bytes_do_not_panic(bytes in vec(any::<u8>(), 0..512)) {
        let _ = decode(&bytes);
        let _ = decode_with_notes(&bytes);
        let _ = as_received(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn xml_like_bytes_do_not_panic(bytes in xml_soup()) {
        prop_assert_eq!(decode_with_notes(&bytes).map(|(m, _)| m), decode(&bytes));
        let text = String::from_utf8_lossy(&bytes);
        prop_assert!(as_received(&text).len() >= text.len());
    }

    #[test]
    fn truncated_messages_are_errors(msg in sync_ml(), cut in any::<Index>()) {
        let encoded = encode(&msg);
        let len = cut.index(encoded.len());
        prop_assert!(decode(&encoded[..len]).is_err());
    }

    #[test]
    fn corrupted_messages_do_not_panic(
        msg in sync_ml(),
        flips in vec((any::<Index>(), any::<u8>()), 1..8),
    ) {
        let mut encoded = encode(&msg);
        for (at, byte) in flips {
            let i = at.index(encoded.len());
            encoded[i] = byte;
        }
        prop_assert_eq!(decode_with_notes(&encoded).map(|(m, _)| m), decode(&encoded));
    }
}
