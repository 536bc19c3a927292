//! Property tests of the XML codec: every message the model can hold (with text Data) survives
//! `encode` and `encode_pretty` unchanged, and no input makes `decode` panic.

use dmsim::syncml::xml::{decode, encode, encode_pretty};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{select, Index};

mod support;

/// Messages as the XML codec carries them: opaque Data is sent as its base64 text.
fn sync_ml() -> impl Strategy<Value = dmsim::syncml::SyncMl> {
    support::sync_ml().prop_map(support::without_opaque)
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
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn compact_encoding_round_trips(msg in sync_ml()) {
        prop_assert_eq!(decode(&encode(&msg)), Ok(msg));
    }

    #[test]
    fn pretty_encoding_round_trips(msg in sync_ml()) {
        prop_assert_eq!(decode(encode_pretty(&msg).as_bytes()), Ok(msg));
    }

    #[test]
    fn arbitrary_bytes_do_not_panic(bytes in vec(any::<u8>(), 0..512)) {
        let _ = decode(&bytes);
    }

    #[test]
    fn xml_like_bytes_do_not_panic(bytes in xml_soup()) {
        let _ = decode(&bytes);
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
        let _ = decode(&encoded);
    }
}
