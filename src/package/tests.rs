//! Unit tests of the package format: every `InstallError` path, every defect, sizes and keys.

use super::keys::parse_32;
use super::*;
use crate::outcome::Cause;

fn spec() -> PackageSpec {
    PackageSpec::new("SIM-1", "1.0", "2.0", 4096)
        .expect("valid spec")
        .with_seed(7)
}

fn device() -> DeviceView<'static> {
    DeviceView {
        model: "SIM-1",
        current_version: "1.0",
        free_memory: 1 << 20,
    }
}

fn trusted() -> VerifyingKey {
    test_signing_key().verifying_key()
}

/// A package with arbitrary header bytes, correctly signed (to reach checks after the signature).
fn signed_raw(header: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut bytes = header.to_vec();
    bytes.extend_from_slice(&test_signing_key().sign(header).to_bytes());
    bytes.extend_from_slice(payload);
    bytes
}

fn header_bytes(texts: [&[u8]; 3], payload: &[u8]) -> Vec<u8> {
    let mut h = MAGIC.to_vec();
    h.extend_from_slice(&FORMAT_VERSION.to_be_bytes());
    for t in texts {
        h.push(t.len() as u8);
        h.extend_from_slice(t);
    }
    h.extend_from_slice(&(payload.len() as u64).to_be_bytes());
    h.extend_from_slice(&Sha256::digest(payload));
    h
}

#[test]
fn a_good_package_passes_and_gives_its_header_and_payload() {
    let bytes = build(&spec(), &test_signing_key());
    let package = inspect(&bytes, &trusted(), &device()).expect("valid");
    assert_eq!(package.header.model, "SIM-1");
    assert_eq!(package.header.from_version, "1.0");
    assert_eq!(package.header.to_version, "2.0");
    assert_eq!(package.header.payload_len, 4096);
    assert_eq!(package.payload(&bytes), payload(&spec()).as_slice());
    assert_eq!(
        package.header.payload_hash,
        <[u8; 32]>::from(Sha256::digest(payload(&spec())))
    );
    // The layout of the module docs: H = 53 + m + f + t, then 64 bytes of signature.
    assert_eq!(package.payload_offset, 53 + 5 + 3 + 3 + 64);
    assert_eq!(bytes.len(), package.payload_offset + 4096);
}

#[test]
fn packages_are_reproducible_from_spec_seed_and_key() {
    let key = test_signing_key();
    assert_eq!(build(&spec(), &key), build(&spec(), &key));
    assert_ne!(
        build(&spec(), &key),
        build(&spec().with_seed(8), &key),
        "another seed, another payload"
    );
}

#[test]
fn every_defect_gives_its_cause() {
    let key = test_signing_key();
    for &defect in Defect::ALL {
        let bytes = build_defective(&spec(), &key, defect);
        let err = inspect(&bytes, &trusted(), &device()).expect_err(defect.as_str());
        assert_eq!(err.cause(), defect.cause(), "{defect}: {err}");
        assert_eq!(Defect::parse(defect.as_str()), Some(defect));
    }
}

#[test]
fn corrupt_payload_is_a_hash_mismatch() {
    let bytes = build_defective(&spec(), &test_signing_key(), Defect::Corrupt);
    assert_eq!(
        inspect(&bytes, &trusted(), &device()),
        Err(InstallError::Corrupt(CorruptReason::HashMismatch))
    );
}

#[test]
fn truncated_payload_is_a_length_mismatch() {
    let bytes = build_defective(&spec(), &test_signing_key(), Defect::Truncated);
    assert_eq!(
        inspect(&bytes, &trusted(), &device()),
        Err(InstallError::Corrupt(CorruptReason::PayloadLength {
            declared: 4096,
            actual: 2048
        }))
    );
}

#[test]
fn trailing_bytes_are_corrupt() {
    let mut bytes = build(&spec(), &test_signing_key());
    bytes.push(0);
    assert_eq!(
        inspect(&bytes, &trusted(), &device()),
        Err(InstallError::Corrupt(CorruptReason::PayloadLength {
            declared: 4096,
            actual: 4097
        }))
    );
}

#[test]
fn bad_magic_unknown_format_and_truncated_headers_are_corrupt() {
    let good = build(&spec(), &test_signing_key());
    let corrupt = |bytes: &[u8]| match inspect(bytes, &trusted(), &device()) {
        Err(InstallError::Corrupt(reason)) => reason,
        other => panic!("expected 402, got {other:?}"),
    };
    assert_eq!(
        corrupt(&build_defective(
            &spec(),
            &test_signing_key(),
            Defect::BadMagic
        )),
        CorruptReason::BadMagic
    );
    assert_eq!(corrupt(b""), CorruptReason::BadMagic);
    assert_eq!(corrupt(b"DMSIMPK"), CorruptReason::BadMagic);
    let mut v2 = good.clone();
    v2[9] = 2;
    assert_eq!(corrupt(&v2), CorruptReason::UnsupportedFormat(2));
    assert_eq!(
        corrupt(&good[..9]),
        CorruptReason::Truncated(Field::FormatVersion)
    );
    assert_eq!(corrupt(&good[..13]), CorruptReason::Truncated(Field::Model));
    assert_eq!(
        corrupt(&good[..good.len() - 4096 - 10]),
        CorruptReason::Truncated(Field::Signature)
    );
}

#[test]
fn empty_and_non_utf8_fields_are_corrupt() {
    let payload = [1u8, 2, 3];
    let empty = signed_raw(&header_bytes([b"SIM-1", b"", b"2.0"], &payload), &payload);
    assert_eq!(
        inspect(&empty, &trusted(), &device()),
        Err(InstallError::Corrupt(CorruptReason::EmptyField(
            Field::FromVersion
        )))
    );
    let latin1 = signed_raw(
        &header_bytes([b"SIM-1", b"1.0", b"2.0\xff"], &payload),
        &payload,
    );
    assert_eq!(
        inspect(&latin1, &trusted(), &device()),
        Err(InstallError::Corrupt(CorruptReason::NotUtf8(
            Field::ToVersion
        )))
    );
}

#[test]
fn wrong_model_is_a_device_mismatch() {
    let bytes = build_defective(&spec(), &test_signing_key(), Defect::WrongModel);
    assert_eq!(
        inspect(&bytes, &trusted(), &device()),
        Err(InstallError::DeviceMismatch {
            package: "SIM-1-OTHER".into(),
            device: "SIM-1".into()
        })
    );
    // A good package on another model's device: the same answer.
    let good = build(&spec(), &test_signing_key());
    let other = DeviceView {
        model: "SIM-2",
        ..device()
    };
    assert_eq!(
        inspect(&good, &trusted(), &other)
            .map(|_| ())
            .err()
            .map(|e| e.cause()),
        Some(Cause::WrongModel)
    );
}

#[test]
fn an_untrusted_key_or_a_tampered_header_fails_the_signature() {
    let key = test_signing_key();
    for defect in [Defect::BadSignature, Defect::TamperedHeader] {
        let bytes = build_defective(&spec(), &key, defect);
        assert_eq!(
            inspect(&bytes, &trusted(), &device()),
            Err(InstallError::BadSignature),
            "{defect}"
        );
    }
    // A good package, but the device trusts another key.
    let good = build(&spec(), &key);
    let other = SigningKey::from_bytes(&[9; 32]).verifying_key();
    assert_eq!(
        inspect(&good, &other, &device()),
        Err(InstallError::BadSignature)
    );
}

#[test]
fn the_signature_is_checked_before_anything_in_the_header_is_believed() {
    // Signed by a stranger and for another model: the signature is what the device reports.
    let mut bytes = build_defective(&spec(), &test_signing_key(), Defect::WrongModel);
    let start = bytes.len() - 4096 - SIGNATURE_LEN;
    let header = bytes[..start].to_vec();
    bytes[start..start + SIGNATURE_LEN].copy_from_slice(&rogue_key().sign(&header).to_bytes());
    assert_eq!(
        inspect(&bytes, &trusted(), &device()),
        Err(InstallError::BadSignature)
    );
}

#[test]
fn another_from_version_is_not_acceptable() {
    let bytes = build_defective(&spec(), &test_signing_key(), Defect::WrongFromVersion);
    assert_eq!(
        inspect(&bytes, &trusted(), &device()),
        Err(InstallError::NotAcceptable {
            package_from: "1.0-OTHER".into(),
            device_current: "1.0".into()
        })
    );
    // A good package on a device that already runs the new version.
    let good = build(&spec(), &test_signing_key());
    let updated = DeviceView {
        current_version: "2.0",
        ..device()
    };
    assert!(matches!(
        inspect(&good, &trusted(), &updated),
        Err(InstallError::NotAcceptable { .. })
    ));
}

/// A package from the running version to an older one would downgrade the device: refused after
/// the from-version check (so a package for another version is still 405 for that), before the
/// memory; to the same version or a newer one, it is not a downgrade.
#[test]
fn a_package_to_an_older_version_is_a_downgrade() {
    let key = test_signing_key();
    let down = PackageSpec::new("SIM-1", "FW-1.10.0", "FW-1.9.0", 64).expect("spec");
    let running = DeviceView {
        current_version: "FW-1.10.0",
        free_memory: 0,
        ..device()
    };
    let err = inspect(&build(&down, &key), &trusted(), &running).expect_err("a downgrade");
    assert_eq!(
        err,
        InstallError::Downgrade {
            component: None,
            package: "FW-1.9.0".into(),
            running: "FW-1.10.0".into()
        }
    );
    assert_eq!(err.cause(), Cause::Downgrade);
    assert_eq!(err.key(), Key(Phase::Install, Cause::Downgrade));
    assert_eq!(
        err.to_string(),
        "FW-1.9.0 is older than FW-1.10.0, which the device runs"
    );
    // Without the downgrade, the same device gets to its memory check.
    let up = PackageSpec::new("SIM-1", "FW-1.10.0", "FW-1.11.0", 64).expect("spec");
    assert!(matches!(
        inspect(&build(&up, &key), &trusted(), &running),
        Err(InstallError::OutOfMemory { .. })
    ));
    let same = PackageSpec::new("SIM-1", "FW-1.10.0", "FW-1.10.0", 64).expect("spec");
    assert!(matches!(
        inspect(&build(&same, &key), &trusted(), &running),
        Err(InstallError::OutOfMemory { .. })
    ));
    // A package for another from-version is that, whatever its to-version.
    let other = DeviceView {
        current_version: "FW-2.0.0",
        ..running
    };
    assert!(matches!(
        inspect(&build(&down, &key), &trusted(), &other),
        Err(InstallError::NotAcceptable { .. })
    ));
}

#[test]
fn too_little_memory_is_out_of_memory() {
    let bytes = build(&spec(), &test_signing_key());
    let small = DeviceView {
        free_memory: 4095,
        ..device()
    };
    let err = inspect(&bytes, &trusted(), &small).expect_err("502");
    assert_eq!(
        err,
        InstallError::OutOfMemory {
            need: 4096,
            have: 4095
        }
    );
    assert_eq!(err.cause(), Cause::OutOfMemory);
    let exact = DeviceView {
        free_memory: 4096,
        ..device()
    };
    assert!(inspect(&bytes, &trusted(), &exact).is_ok());
}

#[test]
fn install_errors_name_their_codes_and_serialize() {
    let errors = [
        InstallError::Corrupt(CorruptReason::HashMismatch),
        InstallError::DeviceMismatch {
            package: "A".into(),
            device: "B".into(),
        },
        InstallError::BadSignature,
        InstallError::NotAcceptable {
            package_from: "1".into(),
            device_current: "2".into(),
        },
        InstallError::OutOfMemory { need: 2, have: 1 },
    ];
    let causes: Vec<Cause> = errors.iter().map(InstallError::cause).collect();
    assert_eq!(
        causes,
        [
            Cause::PackageCorrupt,
            Cause::WrongModel,
            Cause::SignatureInvalid,
            Cause::WrongFromVersion,
            Cause::OutOfMemory
        ]
    );
    for e in errors {
        let json = serde_json::to_string(&e).expect("serializes");
        assert_eq!(serde_json::from_str::<InstallError>(&json).ok(), Some(e));
    }
}

#[test]
fn specs_are_validated() {
    assert_eq!(
        PackageSpec::new("", "1", "2", 1),
        Err(SpecError::TextLength {
            field: Field::Model,
            len: 0
        })
    );
    assert!(matches!(
        PackageSpec::new("M", "1", "2".repeat(256), 1),
        Err(SpecError::TextLength {
            field: Field::ToVersion,
            ..
        })
    ));
    assert_eq!(
        PackageSpec::new("M", "1", "2", 0),
        Err(SpecError::EmptyPayload)
    );
    // The longest texts still make defects that differ from the spec.
    let long = "v".repeat(255);
    let spec = PackageSpec::new(long.clone(), long.clone(), long.clone(), 8).expect("valid");
    let device = DeviceView {
        model: &long,
        current_version: &long,
        free_memory: 8,
    };
    for &defect in Defect::ALL {
        let bytes = build_defective(&spec, &test_signing_key(), defect);
        let err = inspect(&bytes, &trusted(), &device).expect_err(defect.as_str());
        assert_eq!(err.cause(), defect.cause(), "{defect}");
    }
}

#[test]
fn sizes_parse_with_units() {
    assert_eq!(parse_size("4096"), Ok(4096));
    assert_eq!(parse_size("512B"), Ok(512));
    assert_eq!(parse_size("4KiB"), Ok(4096));
    assert_eq!(parse_size("4MiB"), Ok(4 << 20));
    assert_eq!(parse_size("4 MiB"), Ok(4 << 20));
    assert_eq!(parse_size("1GiB"), Ok(1 << 30));
    assert_eq!(parse_size("10kB"), Ok(10_000));
    assert_eq!(parse_size("2MB"), Ok(2_000_000));
    for bad in [
        "",
        "MiB",
        "4 mib",
        "-1",
        "1.5MiB",
        "99999999999999999999GiB",
        "4XB",
    ] {
        assert!(parse_size(bad).is_err(), "{bad}");
    }
}

#[test]
fn key_texts_parse_with_comments() {
    let hex = to_hex(&TEST_KEY_SEED);
    assert_eq!(
        parse_32(&format!("# test key\n\n{hex}\n")),
        Ok(TEST_KEY_SEED)
    );
    assert!(parse_32("abc").is_err());
    assert!(parse_32(&hex[..62]).is_err());
    assert!(parse_32(&format!("{hex}00")).is_err());
    assert_eq!(from_hex("0aFF"), Some(vec![10, 255]));
    assert_eq!(from_hex("0g"), None);
    assert_eq!(from_hex("é0"), None);
}

#[test]
fn hashes_serialize_as_hex() {
    let header = Header {
        model: "M".into(),
        from_version: "1".into(),
        to_version: "2".into(),
        payload_len: 3,
        payload_hash: [0xab; 32],
    };
    let json = serde_json::to_string(&header).expect("serializes");
    assert!(json.contains(&"ab".repeat(32)), "{json}");
    assert_eq!(
        serde_json::from_str::<Header>(&json).ok(),
        Some(header.clone())
    );
    let bad = json.replace(&"ab".repeat(32), "ab");
    assert!(serde_json::from_str::<Header>(&bad).is_err());
}
