//! The `.fwu` layout: build → parse, and every [`FwuError`] from the bytes that cause it.

use super::fwu::{self, body, parse, Field, Fwu, FwuError, Part, HEADER_LEN};

fn good(part: Part) -> Vec<u8> {
    Fwu::build(part, "0790", "fr01", &body(7, "0790", part, 300)).expect("builds")
}

#[test]
fn build_then_parse_gives_the_header_and_body_back() {
    for part in Part::ALL {
        let payload = body(7, "0790", part, 300);
        let bytes = good(part);
        assert_eq!(bytes.len(), HEADER_LEN + 300);
        assert_eq!(&bytes[..8], b"SNOMFWU1");
        let fwu = Fwu::parse(&bytes).expect("parses");
        assert_eq!(fwu.header.part, part);
        assert_eq!(fwu.header.version, "0790");
        assert_eq!(fwu.header.language, "fr01");
        assert_eq!(fwu.header.body_size, 300);
        assert_eq!(fwu.body, payload.as_slice());
        assert_eq!(parse(&bytes), Ok(fwu.header));
    }
}

#[test]
fn the_header_is_laid_out_as_documented() {
    let bytes = good(Part::Handset);
    assert_eq!(&bytes[8..10], b"Pp");
    assert_eq!(&bytes[10..14], b"0790");
    assert_eq!(&bytes[14..18], b"fr01");
    assert_eq!(&bytes[18..22], &300u32.to_be_bytes());
    assert!(bytes[54..64].iter().all(|&b| b == 0));
}

#[test]
fn an_empty_body_round_trips() {
    let bytes = Fwu::build(Part::Gateway, "0001", "de01", &[]).expect("builds");
    assert_eq!(bytes.len(), HEADER_LEN);
    assert_eq!(parse(&bytes).expect("parses").body_size, 0);
}

#[test]
fn bodies_are_deterministic_and_differ_by_seed_version_and_part() {
    let a = body(1, "0790", Part::Gateway, 64);
    assert_eq!(a, body(1, "0790", Part::Gateway, 64));
    assert_ne!(a, body(2, "0790", Part::Gateway, 64));
    assert_ne!(a, body(1, "0791", Part::Gateway, 64));
    assert_ne!(a, body(1, "0790", Part::Handset, 64));
}

#[test]
fn bad_magic() {
    let mut bytes = good(Part::Gateway);
    bytes[3] ^= 1;
    assert_eq!(parse(&bytes), Err(FwuError::BadMagic));
    assert_eq!(parse(b"<html>"), Err(FwuError::BadMagic));
}

#[test]
fn truncated_header() {
    let bytes = good(Part::Gateway);
    for len in [0, 4, 8, 63] {
        assert_eq!(
            parse(&bytes[..len]),
            Err(FwuError::Truncated {
                expected: 64,
                actual: len as u64
            }),
            "{len}"
        );
    }
}

#[test]
fn truncated_body() {
    let bytes = good(Part::Gateway);
    assert_eq!(
        parse(&bytes[..HEADER_LEN + 299]),
        Err(FwuError::Truncated {
            expected: 364,
            actual: 363
        })
    );
}

#[test]
fn bytes_after_the_body_are_a_wrong_size() {
    let mut bytes = good(Part::Gateway);
    bytes.push(0);
    assert_eq!(
        parse(&bytes),
        Err(FwuError::WrongSize {
            declared: 300,
            actual: 301
        })
    );
}

#[test]
fn bad_part() {
    let mut bytes = good(Part::Gateway);
    bytes[8..10].copy_from_slice(b"Xx");
    assert_eq!(parse(&bytes), Err(FwuError::BadPart { found: *b"Xx" }));
}

#[test]
fn bad_fields() {
    let cases: [(std::ops::Range<usize>, &[u8], Field); 4] = [
        (10..14, b"07a0", Field::Version),
        (14..18, b"FR01", Field::Language),
        (14..18, b"fr0x", Field::Language),
        (60..61, b"\x01", Field::Reserved),
    ];
    for (range, value, field) in cases {
        let mut bytes = good(Part::Gateway);
        bytes[range].copy_from_slice(value);
        assert_eq!(parse(&bytes), Err(FwuError::BadField { field }), "{field}");
    }
}

#[test]
fn bad_checksum_in_the_body_or_the_header() {
    let mut bytes = good(Part::Gateway);
    bytes[HEADER_LEN + 150] ^= 0x10;
    assert_eq!(parse(&bytes), Err(FwuError::BadChecksum));
    let mut bytes = good(Part::Gateway);
    bytes[30] ^= 0x10;
    assert_eq!(parse(&bytes), Err(FwuError::BadChecksum));
}

#[test]
fn a_huge_declared_size_is_truncated_without_overflow() {
    let mut bytes = good(Part::Gateway);
    bytes[18..22].copy_from_slice(&u32::MAX.to_be_bytes());
    assert_eq!(
        parse(&bytes),
        Err(FwuError::Truncated {
            expected: 64 + u64::from(u32::MAX),
            actual: 364
        })
    );
}

#[test]
fn build_refuses_malformed_fields() {
    let bad = |field| Err(FwuError::BadField { field });
    assert_eq!(
        Fwu::build(Part::Gateway, "790", "fr01", &[]),
        bad(Field::Version)
    );
    assert_eq!(
        Fwu::build(Part::Gateway, "0790", "fr1", &[]),
        bad(Field::Language)
    );
}

#[test]
fn parts_and_file_names() {
    assert_eq!(
        Part::Gateway.file_name("fr01", "0790"),
        "m3Gw_fr01_v0790.fwu"
    );
    assert_eq!(
        Part::Handset.file_name("de01", "0805"),
        "m3Pp_de01_v0805.fwu"
    );
    assert_eq!(Part::from_code(b"Pp"), Some(Part::Handset));
    assert_eq!(Part::from_code(b"pp"), None);
    assert_eq!(Part::Gateway.other(), Part::Handset);
    assert!(fwu::is_language(b"fr01") && !fwu::is_language(b"f01"));
}
