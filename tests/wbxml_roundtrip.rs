//! Property tests of the WBXML codec: every message the model can hold (text and opaque Data)
//! survives `encode` → `decode` unchanged, the WBXML and XML codecs agree on messages without opaque
//! data, what the encoder writes has nothing for `decode_with_notes` to note, `to_xml` shows a
//! message as XML the XML decoder reads as the same message, and no input (random, token soup,
//! truncated or corrupted messages) makes either decoder or `to_xml` panic.

use dmsim::syncml::{wbxml, xml};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{select, Index};

mod support;

use support::{sync_ml, without_opaque};

/// A valid header (WBXML 1.2, SyncML 1.2, UTF-8) with a small string table and the root tag, then
/// tokens that look like SyncML often enough to get past the first elements.
fn wbxml_soup() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        // Tags of code page 0 (with and without content), the usual ones more often.
        4 => select(vec![0x6D, 0x6C, 0x6B, 0x69, 0x4B, 0x4F, 0x54, 0x5A, 0x48, 0x64, 0x12, 0x1D])
            .prop_map(|t| vec![t]),
        2 => (0x05u8..=0xFF).prop_map(|t| vec![t]),
        2 => Just(vec![0x01]),
        1 => (0u8..4).prop_map(|p| vec![0x00, p]),
        3 => "[0-9a-z<&]{0,6}".prop_map(|s| [&[0x03], s.as_bytes(), &[0]].concat()),
        1 => (0u8..12).prop_map(|i| vec![0x83, i]),
        1 => vec(any::<u8>(), 0..4).prop_map(|b| [&[0xC3, 2], b.as_slice()].concat()),
        1 => (0u8..0x90).prop_map(|c| vec![0x02, c]),
        1 => Just(vec![0x43, 0x05, 0x01]),
        1 => (0u8..8).prop_map(|i| vec![0x44, i]),
    ];
    vec(piece, 0..64).prop_map(|pieces| {
        let mut doc = vec![0x02, 0xA4, 0x01, 0x6A, 0x09];
        doc.extend_from_slice(b"Foo\0Data\0");
        doc.push(0x6D);
        doc.extend(pieces.concat());
        doc
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, rng_seed: proptest::test_runner::RngSeed::Fixed(0x5EED), ..ProptestConfig::default() })]

    #[test]
    fn encoding_round_trips(msg in sync_ml()) {
        prop_assert_eq!(wbxml::decode(&wbxml::encode(&msg)), Ok(msg));
    }

    #[test]
    fn wbxml_and_xml_agree(msg in sync_ml().prop_map(without_opaque)) {
        let via_xml = xml::decode(&xml::encode(&msg)).map_err(|e| e.to_string());
        let via_wbxml = wbxml::decode(&wbxml::encode(&msg)).map_err(|e| e.to_string());
        prop_assert_eq!(via_wbxml, via_xml);
    }

    #[test]
    fn the_encoder_keeps_to_the_schema_order(msg in sync_ml()) {
        prop_assert_eq!(
            wbxml::decode_with_notes(&wbxml::encode(&msg)),
            Ok((msg, Vec::new()))
        );
    }

    #[test]
    fn to_xml_shows_the_same_message(msg in sync_ml().prop_map(without_opaque)) {
        let shown = wbxml::to_xml(&wbxml::encode(&msg));
        prop_assert_eq!(xml::decode(shown.as_bytes()), Ok(msg));
    }

    #[test]
    fn arbitrary_bytes_do_not_panic(bytes in vec(any::<u8>(), 0..512)) {
        let _ = wbxml::decode(&bytes);
        let _ = wbxml::decode_with_notes(&bytes);
        let _ = wbxml::to_xml(&bytes);
    }

    #[test]
    fn token_soup_does_not_panic(bytes in wbxml_soup()) {
        let _ = wbxml::to_xml(&bytes);
        prop_assert_eq!(
            wbxml::decode_with_notes(&bytes).map(|(m, _)| m),
            wbxml::decode(&bytes)
        );
    }

    #[test]
    fn truncated_messages_are_errors(msg in sync_ml(), cut in any::<Index>()) {
        let encoded = wbxml::encode(&msg);
        let len = cut.index(encoded.len());
        prop_assert!(wbxml::decode(&encoded[..len]).is_err());
    }

    #[test]
    fn corrupted_messages_do_not_panic(
        msg in sync_ml(),
        flips in vec((any::<Index>(), any::<u8>()), 1..8),
    ) {
        let mut encoded = wbxml::encode(&msg);
        for (at, byte) in flips {
            let i = at.index(encoded.len());
            encoded[i] = byte;
        }
        let _ = wbxml::to_xml(&encoded);
        prop_assert_eq!(
            wbxml::decode_with_notes(&encoded).map(|(m, _)| m),
            wbxml::decode(&encoded)
        );
    }
}
