//! Unit tests of delivery packages (format version 2): the layout, round trips, every defect and
//! every `InstallError` path, bounds on counts, texts and lengths.

use super::*;
use crate::outcome::Cause;

fn component(id: &str, env: &str, size: u64) -> ComponentSpec {
    ComponentSpec::new(id, format!("{id} name"), "1.0", env, size).expect("valid component")
}

fn spec() -> DeliverySpec {
    DeliverySpec::new(
        "pkg-1",
        vec![
            component("core", "Linux", 1000),
            component("app", "Android", 3000),
            component("lib", "Java", 500),
        ],
    )
    .expect("valid spec")
    .with_seed(11)
}

fn envs() -> Vec<String> {
    ["Android", "Linux", "Java"].map(String::from).to_vec()
}

fn trusted() -> VerifyingKey {
    test_signing_key().verifying_key()
}

fn inspect_all(bytes: &[u8]) -> Result<DeliveryPackage, InstallError> {
    let envs = envs();
    let device = DeliveryDevice {
        env_types: &envs,
        free_memory: 1 << 20,
        ..DeliveryDevice::default()
    };
    inspect_delivery(bytes, &trusted(), &device)
}

fn corrupt_reason(bytes: &[u8]) -> CorruptReason {
    match inspect_all(bytes) {
        Err(InstallError::Corrupt(reason)) => reason,
        other => panic!("expected a corrupt package, got {other:?}"),
    }
}

/// A header entry written by hand: texts and a claimed length, with the hash of `payload`.
fn entry(texts: [&[u8]; 4], claimed: u64, payload: &[u8]) -> Vec<u8> {
    let mut e = Vec::new();
    for t in texts {
        e.push(t.len() as u8);
        e.extend_from_slice(t);
    }
    e.extend_from_slice(&claimed.to_be_bytes());
    e.extend_from_slice(&Sha256::digest(payload));
    e
}

/// A delivery package with arbitrary entries, correctly signed (to reach the checks after the
/// signature).
fn signed_raw(count: u8, entries: &[Vec<u8>], payloads: &[u8]) -> Vec<u8> {
    let mut header = MAGIC.to_vec();
    header.extend_from_slice(&DELIVERY_FORMAT_VERSION.to_be_bytes());
    header.push(3);
    header.extend_from_slice(b"pkg");
    header.push(count);
    for e in entries {
        header.extend_from_slice(e);
    }
    let mut bytes = header.clone();
    bytes.extend_from_slice(&test_signing_key().sign(&header).to_bytes());
    bytes.extend_from_slice(payloads);
    bytes
}

#[test]
fn the_layout_is_the_module_docs() {
    let s = DeliverySpec::new("P", vec![component("a", "Linux", 5)])
        .expect("spec")
        .with_seed(3);
    let bytes = build_delivery(&s, &test_signing_key());
    let payload = component_payload(&s, 1).expect("component 1");
    // Header: magic, version 2, "P", one component "a" / "a name" / "1.0" / "Linux".
    let mut header = b"DMSIMPKG\x00\x02\x01P\x01".to_vec();
    header.extend_from_slice(b"\x01a\x06a name\x031.0\x05Linux");
    header.extend_from_slice(&5u64.to_be_bytes());
    header.extend_from_slice(&Sha256::digest(&payload));
    // H = 12 + p + E, E = 44 + i + a + v + e.
    assert_eq!(header.len(), 12 + 1 + 44 + 1 + 6 + 3 + 5);
    assert_eq!(&bytes[..header.len()], header.as_slice());
    let signature = test_signing_key().sign(&header).to_bytes();
    assert_eq!(
        &bytes[header.len()..header.len() + SIGNATURE_LEN],
        signature.as_slice()
    );
    assert_eq!(&bytes[header.len() + SIGNATURE_LEN..], payload.as_slice());
    assert_eq!(package_format(&bytes), Ok(PackageFormat::Delivery));
}

#[test]
fn a_good_package_lists_its_components_and_their_payload_ranges() {
    let s = spec();
    let bytes = build_delivery(&s, &test_signing_key());
    let package = inspect_all(&bytes).expect("valid");
    assert_eq!(package.pkg_id, "pkg-1");
    let ids: Vec<&str> = package
        .components
        .iter()
        .map(|c| c.header.id.as_str())
        .collect();
    assert_eq!(ids, ["core", "app", "lib"]);
    // core / "core name" / 1.0 / Linux, app / "app name" / 1.0 / Android, lib / … / Java.
    let header_len = 12 + 5 + (44 + 4 + 9 + 3 + 5) + (44 + 3 + 8 + 3 + 7) + (44 + 3 + 8 + 3 + 4);
    let start = header_len + SIGNATURE_LEN;
    let ranges: Vec<_> = package
        .components
        .iter()
        .map(|c| c.payload.clone())
        .collect();
    assert_eq!(
        ranges,
        [
            start..start + 1000,
            start + 1000..start + 4000,
            start + 4000..start + 4500
        ]
    );
    assert_eq!(bytes.len(), start + 4500);
    for (number, c) in (1..).zip(&package.components) {
        let expected = component_payload(&s, number).expect("exists");
        assert_eq!(c.payload(&bytes), expected.as_slice(), "{}", c.header.id);
        assert_eq!(
            c.header.payload_hash,
            <[u8; 32]>::from(Sha256::digest(&expected))
        );
    }
    let app = package.component("app").expect("app");
    assert_eq!(
        (app.header.name.as_str(), app.header.version.as_str()),
        ("app name", "1.0")
    );
    assert_eq!(app.header.env_type, "Android");
    assert!(package.component("nope").is_none());
    assert_eq!(package.total_payload_len(), 4500);
    // The view serializes (for the installer's durable state).
    let json = serde_json::to_string(&package).expect("serializes");
    assert_eq!(
        serde_json::from_str::<DeliveryPackage>(&json).ok(),
        Some(package)
    );
}

#[test]
fn packages_are_reproducible_and_components_have_their_own_bytes() {
    let key = test_signing_key();
    assert_eq!(build_delivery(&spec(), &key), build_delivery(&spec(), &key));
    assert_ne!(
        build_delivery(&spec(), &key),
        build_delivery(&spec().with_seed(12), &key)
    );
    let same = DeliverySpec::new(
        "p",
        vec![component("a", "Linux", 64), component("b", "Linux", 64)],
    )
    .expect("spec");
    assert_ne!(component_payload(&same, 1), component_payload(&same, 2));
    assert_eq!(
        component_payload(&same, 3),
        Err(SpecError::NoSuchComponent {
            number: 3,
            count: 2
        })
    );
}

fn every_defect(count: usize) -> Vec<DeliveryDefect> {
    let mut defects = vec![
        DeliveryDefect::Truncated,
        DeliveryDefect::BadMagic,
        DeliveryDefect::TooManyComponents,
        DeliveryDefect::DuplicateId,
        DeliveryDefect::BadSignature,
        DeliveryDefect::TamperedHeader,
    ];
    for k in 1..=count {
        defects.extend([
            DeliveryDefect::Corrupt(k),
            DeliveryDefect::HugeLength(k),
            DeliveryDefect::UnsupportedEnvironment(k),
        ]);
    }
    defects
}

#[test]
fn every_defect_of_every_component_gives_its_cause() {
    let key = test_signing_key();
    let one = DeliverySpec::new("solo", vec![component("only", "Linux", 1)]).expect("spec");
    for s in [spec(), one] {
        for defect in every_defect(s.components().len()) {
            let bytes = build_defective_delivery(&s, &key, defect).expect("builds");
            let err = inspect_all(&bytes).expect_err(&defect.to_string());
            assert_eq!(err.cause(), defect.cause(), "{defect}: {err}");
            assert_eq!(
                DeliveryDefect::parse(&defect.to_string()),
                Some(defect),
                "{defect}"
            );
        }
    }
}

#[test]
fn each_defect_is_refused_for_its_own_reason() {
    let key = test_signing_key();
    let build = |d| build_defective_delivery(&spec(), &key, d).expect("builds");
    assert_eq!(
        corrupt_reason(&build(DeliveryDefect::Corrupt(2))),
        CorruptReason::ComponentHashMismatch {
            component: "app".into()
        }
    );
    assert_eq!(
        corrupt_reason(&build(DeliveryDefect::Truncated)),
        CorruptReason::PayloadLength {
            declared: 4500,
            actual: 4250
        }
    );
    assert_eq!(
        corrupt_reason(&build(DeliveryDefect::BadMagic)),
        CorruptReason::BadMagic
    );
    assert_eq!(
        corrupt_reason(&build(DeliveryDefect::TooManyComponents)),
        CorruptReason::ComponentCount(65)
    );
    assert_eq!(
        corrupt_reason(&build(DeliveryDefect::DuplicateId)),
        CorruptReason::DuplicateComponent("core".into())
    );
    // u64::MAX plus the others' lengths overflows; alone, it is more than there is.
    assert_eq!(
        corrupt_reason(&build(DeliveryDefect::HugeLength(3))),
        CorruptReason::LengthOverflow
    );
    let one = DeliverySpec::new("solo", vec![component("only", "Linux", 8)]).expect("spec");
    let huge = build_defective_delivery(&one, &key, DeliveryDefect::HugeLength(1)).expect("builds");
    assert_eq!(
        corrupt_reason(&huge),
        CorruptReason::PayloadLength {
            declared: u64::MAX,
            actual: 8
        }
    );
    for d in [DeliveryDefect::BadSignature, DeliveryDefect::TamperedHeader] {
        assert_eq!(
            inspect_all(&build(d)),
            Err(InstallError::BadSignature),
            "{d}"
        );
    }
    assert_eq!(
        inspect_all(&build(DeliveryDefect::UnsupportedEnvironment(2))),
        Err(InstallError::UnsupportedEnvironment {
            component: "app".into(),
            env_type: "Android-OTHER".into()
        })
    );
    // A package of one component listed twice.
    let twice = build_defective_delivery(&one, &key, DeliveryDefect::DuplicateId).expect("builds");
    let parsed = parse_delivery(&twice).expect("parses");
    assert_eq!(parsed.header.components.len(), 2);
    assert_eq!(
        corrupt_reason(&twice),
        CorruptReason::DuplicateComponent("only".into())
    );
}

#[test]
fn defects_name_components_that_exist() {
    let key = test_signing_key();
    for d in [
        DeliveryDefect::Corrupt(4),
        DeliveryDefect::HugeLength(0),
        DeliveryDefect::UnsupportedEnvironment(usize::MAX),
    ] {
        assert!(
            matches!(
                build_defective_delivery(&spec(), &key, d),
                Err(SpecError::NoSuchComponent { count: 3, .. })
            ),
            "{d}"
        );
    }
}

#[test]
fn defect_names_parse() {
    assert_eq!(
        DeliveryDefect::parse("corrupt"),
        Some(DeliveryDefect::Corrupt(1))
    );
    assert_eq!(
        DeliveryDefect::parse("corrupt:12"),
        Some(DeliveryDefect::Corrupt(12))
    );
    assert_eq!(
        "unsupported-env:2".parse::<DeliveryDefect>(),
        Ok(DeliveryDefect::UnsupportedEnvironment(2))
    );
    for bad in [
        "",
        "corrupt:",
        "corrupt:0",
        "corrupt:+1",
        "corrupt: 1",
        "corrupt:1:2",
        "corrupt:99999999999999999999999",
        "truncated:1",
        "wrong-model",
        "Corrupt",
    ] {
        assert_eq!(DeliveryDefect::parse(bad), None, "{bad}");
    }
    let err = "nope".parse::<DeliveryDefect>().expect_err("unknown");
    assert!(err.contains("unsupported-env[:K]"), "{err}");
}

#[test]
fn the_signature_is_checked_before_anything_in_the_header_is_believed() {
    // Signed by a stranger and with two components of one id: the signature is the answer.
    let key = test_signing_key();
    let mut bytes =
        build_defective_delivery(&spec(), &key, DeliveryDefect::DuplicateId).expect("builds");
    let start = bytes.len() - 4500 - SIGNATURE_LEN;
    let header = bytes[..start].to_vec();
    bytes[start..start + SIGNATURE_LEN].copy_from_slice(&rogue_key().sign(&header).to_bytes());
    assert_eq!(inspect_all(&bytes), Err(InstallError::BadSignature));
    // A good package, a device that trusts another key.
    let good = build_delivery(&spec(), &key);
    let other = SigningKey::from_bytes(&[9; 32]).verifying_key();
    assert_eq!(
        verify_delivery(&good, &other, CLOCK_START),
        Err(InstallError::BadSignature)
    );
}

#[test]
fn the_device_needs_every_environment_and_memory_for_all_components() {
    let bytes = build_delivery(&spec(), &test_signing_key());
    let check = |envs: &[&str], free_memory: u64| {
        let envs: Vec<String> = envs.iter().map(|e| e.to_string()).collect();
        let device = DeliveryDevice {
            env_types: &envs,
            free_memory,
            ..DeliveryDevice::default()
        };
        inspect_delivery(&bytes, &trusted(), &device).map(|p| p.components.len())
    };
    assert_eq!(check(&["Java", "Linux", "Android"], 4500), Ok(3));
    assert_eq!(
        check(&["Linux", "Java"], 4500),
        Err(InstallError::UnsupportedEnvironment {
            component: "app".into(),
            env_type: "Android".into()
        })
    );
    // Compared exactly, case included; the first component that lacks one is named.
    assert_eq!(
        check(&["android", "linux", "java"], 4500),
        Err(InstallError::UnsupportedEnvironment {
            component: "core".into(),
            env_type: "Linux".into()
        })
    );
    let err = check(&[], 0).expect_err("no environment");
    assert_eq!(err.cause(), Cause::UnsupportedEnvironment);
    // The environments are checked before the memory.
    let err = check(&["Linux", "Android", "Java"], 4499).expect_err("502");
    assert_eq!(
        err,
        InstallError::OutOfMemory {
            need: 4500,
            have: 4499
        }
    );
    assert_eq!(err.cause(), Cause::OutOfMemory);
}

#[test]
fn hand_made_headers_with_lying_lengths_are_errors_not_panics() {
    let payload = [7u8; 16];
    let texts: [&[u8]; 4] = [b"a", b"A", b"1", b"Linux"];
    let texts_b: [&[u8]; 4] = [b"b", b"B", b"1", b"Linux"];
    // One component claiming u64::MAX bytes, correctly signed.
    let huge = signed_raw(1, &[entry(texts, u64::MAX, &payload)], &payload);
    assert_eq!(
        corrupt_reason(&huge),
        CorruptReason::PayloadLength {
            declared: u64::MAX,
            actual: 16
        }
    );
    // Two halves of 2^64: the sum overflows.
    let half = 1u64 << 63;
    let overflow = signed_raw(
        2,
        &[entry(texts, half, &payload), entry(texts_b, half, &payload)],
        &payload,
    );
    assert_eq!(corrupt_reason(&overflow), CorruptReason::LengthOverflow);
    // Lengths that add up, but split the payloads in the wrong place: a hash fails.
    let mut both = payload.to_vec();
    both.extend_from_slice(&payload);
    let split = signed_raw(
        2,
        &[entry(texts, 15, &payload), entry(texts_b, 17, &payload)],
        &both,
    );
    assert_eq!(
        corrupt_reason(&split),
        CorruptReason::ComponentHashMismatch {
            component: "a".into()
        }
    );
    // Right lengths and hashes, in the right order: valid.
    let good = signed_raw(
        2,
        &[entry(texts, 16, &payload), entry(texts_b, 16, &payload)],
        &both,
    );
    assert_eq!(inspect_all(&good).map(|p| p.components.len()), Ok(2));
}

#[test]
fn structure_errors_name_their_field() {
    let payload = [1u8; 4];
    let raw =
        |count: u8, texts: [&[u8]; 4]| signed_raw(count, &[entry(texts, 4, &payload)], &payload);
    assert_eq!(
        corrupt_reason(&raw(0, [b"a", b"A", b"1", b"Linux"])),
        CorruptReason::ComponentCount(0)
    );
    assert_eq!(
        corrupt_reason(&raw(65, [b"a", b"A", b"1", b"Linux"])),
        CorruptReason::ComponentCount(65)
    );
    assert_eq!(
        corrupt_reason(&raw(1, [b"a", b"", b"1", b"Linux"])),
        CorruptReason::EmptyField(Field::ComponentName)
    );
    assert_eq!(
        corrupt_reason(&raw(1, [b"a", b"A", b"1", b"Lin\xffux"])),
        CorruptReason::NotUtf8(Field::EnvironmentType)
    );
    // Says 2 components, and the bytes end after the first.
    let short = raw(2, [b"a", b"A", b"1", b"Linux"]);
    assert_eq!(
        corrupt_reason(&short[..12 + 3 + 44 + 1 + 1 + 1 + 5]),
        CorruptReason::Truncated(Field::ComponentId)
    );
    let good = build_delivery(&spec(), &test_signing_key());
    for (len, field) in [
        (9, Field::FormatVersion),
        (10, Field::PackageId),
        (14, Field::PackageId),
        (16, Field::ComponentCount),
        (17, Field::ComponentId),
        (18, Field::ComponentId),
        (23, Field::ComponentName),
    ] {
        assert_eq!(
            corrupt_reason(&good[..len]),
            CorruptReason::Truncated(field),
            "{len}"
        );
    }
    let header_len = good.len() - 4500 - SIGNATURE_LEN;
    assert_eq!(
        corrupt_reason(&good[..header_len - 1]),
        CorruptReason::Truncated(Field::PayloadHash)
    );
    assert_eq!(
        corrupt_reason(&good[..header_len + 63]),
        CorruptReason::Truncated(Field::Signature)
    );
    // Trailing bytes: the payloads are longer than the header says.
    let mut long = good.clone();
    long.push(0);
    assert_eq!(
        corrupt_reason(&long),
        CorruptReason::PayloadLength {
            declared: 4500,
            actual: 4501
        }
    );
}

#[test]
fn the_two_formats_tell_each_other_apart() {
    let firmware = build(
        &PackageSpec::new("SIM-1", "1", "2", 8).expect("spec"),
        &test_signing_key(),
    );
    let delivery = build_delivery(&spec(), &test_signing_key());
    assert_eq!(package_format(&firmware), Ok(PackageFormat::Firmware));
    assert_eq!(package_format(&delivery), Ok(PackageFormat::Delivery));
    assert_eq!(
        parse(&delivery).map(|_| ()),
        Err(InstallError::Corrupt(CorruptReason::UnsupportedFormat(2)))
    );
    assert_eq!(
        parse_delivery(&firmware).map(|_| ()),
        Err(InstallError::Corrupt(CorruptReason::UnsupportedFormat(1)))
    );
    // Version 3 is a delivery package too (with terms); version 4 is no package dmsim knows.
    let mut v3 = delivery.clone();
    v3[9] = 3;
    assert_eq!(package_format(&v3), Ok(PackageFormat::Delivery));
    let mut v4 = delivery.clone();
    v4[9] = 4;
    assert_eq!(
        package_format(&v4),
        Err(CorruptReason::UnsupportedFormat(4))
    );
    assert_eq!(
        parse_delivery(&v4).map(|_| ()),
        Err(InstallError::Corrupt(CorruptReason::UnsupportedFormat(4)))
    );
    assert_eq!(
        package_format(b"DMSIMPKG\x00"),
        Err(CorruptReason::Truncated(Field::FormatVersion))
    );
    assert_eq!(package_format(b"ZIP"), Err(CorruptReason::BadMagic));
}

#[test]
fn specs_are_bounded() {
    let c = |id: &str| component(id, "Linux", 1);
    assert_eq!(
        DeliverySpec::new("p", vec![]),
        Err(SpecError::ComponentCount(0))
    );
    let many: Vec<_> = (0..65).map(|i| c(&format!("c{i}"))).collect();
    assert_eq!(
        DeliverySpec::new("p", many.clone()),
        Err(SpecError::ComponentCount(65))
    );
    assert!(DeliverySpec::new("p", many[..64].to_vec()).is_ok());
    assert_eq!(
        DeliverySpec::new("p", vec![c("a"), c("b"), c("a")]),
        Err(SpecError::DuplicateComponent("a".into()))
    );
    assert!(matches!(
        DeliverySpec::new("", vec![c("a")]),
        Err(SpecError::TextLength {
            field: Field::PackageId,
            len: 0
        })
    ));
    let long = "x".repeat(256);
    for (field, result) in [
        (
            Field::ComponentId,
            ComponentSpec::new(&long, "n", "1", "L", 1),
        ),
        (
            Field::ComponentName,
            ComponentSpec::new("i", &long, "1", "L", 1),
        ),
        (
            Field::ComponentVersion,
            ComponentSpec::new("i", "n", "", "L", 1),
        ),
        (
            Field::EnvironmentType,
            ComponentSpec::new("i", "n", "1", &long, 1),
        ),
    ] {
        assert!(
            matches!(result, Err(SpecError::TextLength { field: f, .. }) if f == field),
            "{field}"
        );
    }
    assert_eq!(
        ComponentSpec::new("i", "n", "1", "L", 0),
        Err(SpecError::EmptyPayload)
    );
    // Sizes whose sum overflows, or that do not fit in memory, are refused before any allocation.
    let half = ComponentSpec::new("a", "n", "1", "L", 1 << 63);
    if let Ok(half) = half {
        let other = ComponentSpec::new("b", "n", "1", "L", 1 << 63).expect("fits a usize");
        assert_eq!(
            DeliverySpec::new("p", vec![half, other]),
            Err(SpecError::TooLarge(u64::MAX))
        );
    } else {
        assert_eq!(half, Err(SpecError::TooLarge(1 << 63)));
    }
    let max = ComponentSpec::new("a", "n", "1", "L", u64::MAX);
    if let Ok(max) = max {
        assert_eq!(
            DeliverySpec::new("p", vec![max]),
            Err(SpecError::TooLarge(u64::MAX)),
            "with the header it does not fit"
        );
    } else {
        assert_eq!(max, Err(SpecError::TooLarge(u64::MAX)));
    }
}

#[test]
fn the_largest_headers_build_every_defect() {
    let long = |c: char| c.to_string().repeat(255);
    let components: Vec<_> = (0..64)
        .map(|i| {
            let id = format!("{i:0>255}");
            ComponentSpec::new(id, long('n'), long('v'), long('e'), 1).expect("valid")
        })
        .collect();
    let s = DeliverySpec::new(long('p'), components).expect("64 components");
    let envs = vec![long('e')];
    let device = DeliveryDevice {
        env_types: &envs,
        free_memory: 64,
        ..DeliveryDevice::default()
    };
    let key = test_signing_key();
    let bytes = build_delivery(&s, &key);
    assert_eq!(bytes.len(), 12 + 255 + 64 * (44 + 4 * 255) + 64 + 64);
    let package = inspect_delivery(&bytes, &trusted(), &device).expect("valid");
    assert_eq!(package.components.len(), 64);
    for defect in every_defect(64) {
        let broken = build_defective_delivery(&s, &key, defect).expect("builds");
        let err = inspect_delivery(&broken, &trusted(), &device).expect_err(&defect.to_string());
        assert_eq!(err.cause(), defect.cause(), "{defect}");
    }
    let dup = build_defective_delivery(&s, &key, DeliveryDefect::DuplicateId).expect("builds");
    assert_eq!(
        inspect_delivery(&dup, &trusted(), &device).map(|_| ()),
        Err(InstallError::Corrupt(CorruptReason::DuplicateComponent(
            format!("{:0>255}", 0)
        )))
    );
}

#[test]
fn components_parse_from_their_command_line_text() {
    let c: ComponentSpec = "app:Maps:2.1.0:Android:4KiB".parse().expect("valid");
    assert_eq!(
        (c.id(), c.name(), c.version(), c.env_type(), c.size()),
        ("app", "Maps", "2.1.0", "Android", 4096)
    );
    for (bad, says) in [
        ("app:Maps:2.1:Android", "5 fields"),
        ("app:Maps:2.1:Android:4KiB:x", "not 6"),
        ("app:Maps:2.1:Android:4 parsecs", "invalid size"),
        ("app::2.1:Android:4KiB", "component name"),
        ("app:Maps:2.1:Android:0", "at least 1 byte"),
    ] {
        let err = bad.parse::<ComponentSpec>().expect_err(bad).to_string();
        assert!(err.contains(says) && err.contains(bad), "{bad}: {err}");
    }
}

#[test]
fn unsupported_environment_errors_serialize_and_have_their_cause() {
    let e = InstallError::UnsupportedEnvironment {
        component: "app".into(),
        env_type: "Tizen".into(),
    };
    assert_eq!(e.cause(), Cause::UnsupportedEnvironment);
    assert!(e.to_string().contains("\"Tizen\""), "{e}");
    let json = serde_json::to_string(&e).expect("serializes");
    assert_eq!(serde_json::from_str::<InstallError>(&json).ok(), Some(e));
}
