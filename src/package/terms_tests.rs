//! Unit tests of delivery packages of format 3 and of the device's checks on them: the layout,
//! every term and what the device makes of it, certificates of the package and of a component,
//! payload records (a missing file is not damage), and every new defect with its cause.

use super::cert::{Certificate, DEFAULT_NOT_AFTER, DEFAULT_NOT_BEFORE};
use super::terms::{TAG_CERTIFICATE, TAG_REQUIRES};
use super::*;
use crate::outcome::Cause;
use std::sync::OnceLock;

const NOW: u64 = CLOCK_START;

fn component(id: &str, version: &str) -> ComponentSpec {
    ComponentSpec::new(id, id.to_uppercase(), version, "Linux", 100).expect("component")
}

fn spec() -> DeliverySpec {
    DeliverySpec::new(
        "suite",
        vec![component("maps", "2.1"), component("agent", "1.4")],
    )
    .expect("spec")
    .with_seed(3)
}

fn with_terms(terms: TermsSpec) -> DeliverySpec {
    spec().with_terms(terms).expect("terms")
}

fn key() -> SigningKey {
    test_signing_key()
}

fn trusted() -> VerifyingKey {
    key().verifying_key()
}

/// A Linux device `IMEI:1` running `SW-1`, its clock at its start, nothing deployed.
fn device() -> DeliveryDevice<'static> {
    static LINUX: OnceLock<Vec<String>> = OnceLock::new();
    DeliveryDevice {
        env_types: LINUX.get_or_init(|| vec!["Linux".to_string()]),
        dev_id: "IMEI:1",
        sw_version: "SW-1",
        ..DeliveryDevice::default()
    }
}

/// What `device` makes of `bytes`: nothing to say, or the cause of its refusal.
fn cause_on(bytes: &[u8], device: &DeliveryDevice<'_>) -> Result<(), Cause> {
    inspect_delivery(bytes, &trusted(), device)
        .map(drop)
        .map_err(|e| e.cause())
}

#[test]
fn a_package_with_terms_is_format_3_and_reads_back_its_terms() {
    let terms = TermsSpec {
        requires: vec!["base".into()],
        devices: vec!["IMEI:1".into(), "IMEI:2".into()],
        source_version: Some("SW-1".into()),
        valid_until: Some(NOW + 86_400),
        certificate: Some(CertificateSpec::new("acme")),
    };
    let spec = DeliverySpec::new(
        "suite",
        vec![
            component("maps", "2.1")
                .with_sub_device("dock")
                .expect("sub"),
            component("agent", "1.4")
                .with_certificate(CertificateSpec::new("agent-vendor"))
                .expect("cert"),
        ],
    )
    .expect("spec")
    .with_terms(terms)
    .expect("terms");
    assert_eq!(spec.format(), DELIVERY_FORMAT_VERSION_3);
    let bytes = build_delivery(&spec, &key());
    assert_eq!(&bytes[8..10], &[0, 3]);
    let parsed = parse_delivery(&bytes).expect("parses");
    assert_eq!(parsed.format, 3);
    let package = verify_delivery(&bytes, &trusted(), NOW).expect("verifies");
    let t = &package.terms;
    assert_eq!(t.requires, ["base"]);
    assert_eq!(t.devices, ["IMEI:1", "IMEI:2"]);
    assert_eq!(t.source_version.as_deref(), Some("SW-1"));
    assert_eq!(t.valid_until, Some(NOW + 86_400));
    let cert = t.certificate.as_ref().expect("a certificate");
    assert_eq!(
        (cert.subject.as_str(), cert.not_before, cert.not_after),
        ("acme", DEFAULT_NOT_BEFORE, DEFAULT_NOT_AFTER)
    );
    assert_eq!(
        package.components[0].terms.sub_device.as_deref(),
        Some("dock")
    );
    assert_eq!(package.components[0].terms.certificate, None);
    let agent = &package.components[1].terms.certificate;
    assert_eq!(
        agent.as_ref().map(|c| c.subject.as_str()),
        Some("agent-vendor")
    );
    // The payloads are where the components say, whatever the records around them.
    for (number, c) in (1..).zip(&package.components) {
        let expected = component_payload(&spec, number).expect("exists");
        assert_eq!(c.payload(&bytes), expected.as_slice(), "{}", c.header.id);
    }
    // Reproducible, and the view serializes with its terms.
    assert_eq!(bytes, build_delivery(&spec, &key()));
    let json = serde_json::to_string(&package).expect("serializes");
    assert_eq!(
        serde_json::from_str::<DeliveryPackage>(&json).ok(),
        Some(package)
    );
}

/// Format 3's layout, written out by hand for the smallest package: the header's attribute blocks
/// and payload-area length, the signature, one record.
#[test]
fn the_format_3_layout_is_the_module_docs() {
    let s = DeliverySpec::new(
        "P",
        vec![ComponentSpec::new("a", "A", "1", "Linux", 3).unwrap()],
    )
    .unwrap()
    .with_terms(TermsSpec {
        requires: vec!["B".into()],
        ..TermsSpec::default()
    })
    .unwrap();
    let bytes = build_delivery(&s, &key());
    let payload = component_payload(&s, 1).unwrap();
    let mut header = b"DMSIMPKG\x00\x03\x01P".to_vec();
    header.extend_from_slice(&[0, 4, TAG_REQUIRES, 0, 1, b'B']);
    header.push(1);
    header.extend_from_slice(b"\x01a\x01A\x011\x05Linux");
    header.extend_from_slice(&3u64.to_be_bytes());
    header.extend_from_slice(&sha2::Sha256::digest(&payload));
    header.extend_from_slice(&[0, 0]);
    let record_len = 1 + 1 + 8 + 3;
    header.extend_from_slice(&(record_len as u64).to_be_bytes());
    assert_eq!(&bytes[..header.len()], header.as_slice());
    let signature = key().sign(&header).to_bytes();
    let at = header.len();
    assert_eq!(&bytes[at..at + SIGNATURE_LEN], signature.as_slice());
    let mut record = b"\x01a".to_vec();
    record.extend_from_slice(&3u64.to_be_bytes());
    record.extend_from_slice(&payload);
    assert_eq!(&bytes[at + SIGNATURE_LEN..], record.as_slice());
}

#[test]
fn the_device_refuses_a_package_for_other_devices_or_another_software_version() {
    let for_devices = |devices: &[&str], version: Option<&str>| {
        build_delivery(
            &with_terms(TermsSpec {
                devices: devices.iter().map(|d| d.to_string()).collect(),
                source_version: version.map(str::to_string),
                ..TermsSpec::default()
            }),
            &key(),
        )
    };
    assert_eq!(cause_on(&for_devices(&["IMEI:1"], None), &device()), Ok(()));
    assert_eq!(
        cause_on(&for_devices(&["IMEI:2", "IMEI:1"], Some("SW-1")), &device()),
        Ok(())
    );
    assert_eq!(
        cause_on(&for_devices(&["IMEI:2"], None), &device()),
        Err(Cause::TargetMismatch)
    );
    assert_eq!(
        cause_on(&for_devices(&[], Some("SW-2")), &device()),
        Err(Cause::TargetMismatch)
    );
    let package = verify_delivery(&for_devices(&["IMEI:2"], Some("SW-2")), &trusted(), NOW)
        .expect("verifies");
    assert_eq!(
        check_target(&package, "IMEI:1", "SW-2"),
        Err(InstallError::NotForDevice {
            dev_id: "IMEI:1".into(),
            devices: vec!["IMEI:2".into()]
        })
    );
    assert_eq!(
        check_target(&package, "IMEI:2", "SW-1"),
        Err(InstallError::SourceVersion {
            package: "SW-2".into(),
            device: "SW-1".into()
        })
    );
    // Compared exactly: the IMEI without its prefix is another id.
    assert!(check_target(&package, "2", "SW-2").is_err());
    assert_eq!(check_target(&package, "IMEI:2", "SW-2"), Ok(()));
}

#[test]
fn a_package_is_valid_until_the_last_second_it_declares() {
    let bytes = build_delivery(
        &with_terms(TermsSpec {
            valid_until: Some(NOW + 60),
            ..TermsSpec::default()
        }),
        &key(),
    );
    assert_eq!(
        cause_on(
            &bytes,
            &DeliveryDevice {
                now: NOW + 60,
                ..device()
            }
        ),
        Ok(())
    );
    assert_eq!(
        cause_on(
            &bytes,
            &DeliveryDevice {
                now: NOW + 61,
                ..device()
            }
        ),
        Err(Cause::PackageExpired)
    );
    let package = verify_delivery(&bytes, &trusted(), NOW).expect("verifies");
    let err = check_validity(&package, NOW + 61).expect_err("expired");
    assert_eq!(
        err.to_string(),
        "the package was valid until 2026-01-01T00:01:00Z, the device's clock says 2026-01-01T00:01:01Z"
    );
    assert_eq!(err.key(), Key(Phase::Install, Cause::PackageExpired));
    // Without a validity, any time is fine.
    let plain = verify_delivery(&build_delivery(&spec(), &key()), &trusted(), NOW).unwrap();
    assert_eq!(check_validity(&plain, u64::MAX), Ok(()));
}

#[test]
fn a_package_whose_prerequisite_is_not_installed_is_skipped() {
    let bytes = build_delivery(
        &with_terms(TermsSpec {
            requires: vec!["base".into(), "fonts".into()],
            ..TermsSpec::default()
        }),
        &key(),
    );
    let both = ["base".to_string(), "fonts".to_string()];
    assert_eq!(
        cause_on(
            &bytes,
            &DeliveryDevice {
                installed: &both,
                ..device()
            }
        ),
        Ok(())
    );
    assert_eq!(
        cause_on(
            &bytes,
            &DeliveryDevice {
                installed: &both[..1],
                ..device()
            }
        ),
        Err(Cause::PrerequisiteMissing)
    );
    let package = verify_delivery(&bytes, &trusted(), NOW).unwrap();
    let err = check_prerequisites(&package, &both[1..]).expect_err("base is missing");
    assert_eq!(
        err,
        InstallError::PrerequisiteMissing {
            pkg_id: "base".into()
        }
    );
    // Not attempted: the checks before the install.
    assert_eq!(err.key(), Key(Phase::Checks, Cause::PrerequisiteMissing));
}

#[test]
fn a_component_older_than_the_deployed_one_is_a_downgrade() {
    let bytes = build_delivery(&spec(), &key());
    let deployed = |maps: &str| vec![("maps".to_string(), maps.to_string())];
    let older = deployed("2.10");
    assert_eq!(
        cause_on(
            &bytes,
            &DeliveryDevice {
                deployed: &older,
                ..device()
            }
        ),
        Err(Cause::Downgrade)
    );
    let package = verify_delivery(&bytes, &trusted(), NOW).unwrap();
    assert_eq!(
        check_downgrade(&package, &older),
        Err(InstallError::Downgrade {
            component: Some("maps".into()),
            package: "2.1".into(),
            running: "2.10".into()
        })
    );
    for fine in ["2.1", "2.0.9", "1"] {
        assert_eq!(check_downgrade(&package, &deployed(fine)), Ok(()), "{fine}");
    }
    // Another component's version does not count.
    let other = vec![("nav".to_string(), "9".to_string())];
    assert_eq!(check_downgrade(&package, &other), Ok(()));
}

#[test]
fn the_versions_an_operation_asks_for_are_read_and_checked() {
    let asked = AskedVersions::parse("mode=silent; version=2.1 & version.agent = 1.5");
    assert_eq!(asked.all.as_deref(), Some("2.1"));
    assert_eq!(asked.of("maps"), Some("2.1"));
    assert_eq!(asked.of("agent"), Some("1.5"));
    assert_eq!(AskedVersions::parse(""), AskedVersions::default());
    assert_eq!(AskedVersions::parse("version=;version.=3").of("x"), None);
    let package = verify_delivery(&build_delivery(&spec(), &key()), &trusted(), NOW).unwrap();
    let err = check_asked_versions(&package, &asked).expect_err("agent is 1.4");
    assert_eq!(
        err,
        InstallError::VersionMismatch {
            component: "agent".into(),
            package: "1.4".into(),
            asked: "1.5".into()
        }
    );
    assert_eq!(err.key(), Key(Phase::Checks, Cause::VersionMismatch));
    let right = AskedVersions::parse("version.maps=2.1;version.agent=1.4");
    assert_eq!(check_asked_versions(&package, &right), Ok(()));
    assert_eq!(
        check_asked_versions(&package, &AskedVersions::default()),
        Ok(())
    );
}

#[test]
fn installing_needs_storage_for_every_component() {
    let bytes = build_delivery(&spec(), &key());
    assert_eq!(
        cause_on(
            &bytes,
            &DeliveryDevice {
                free_storage: 200,
                ..device()
            }
        ),
        Ok(())
    );
    assert_eq!(
        cause_on(
            &bytes,
            &DeliveryDevice {
                free_storage: 199,
                ..device()
            }
        ),
        Err(Cause::InsufficientStorage)
    );
    let package = verify_delivery(&bytes, &trusted(), NOW).unwrap();
    let err = check_install_storage(&package, 0).expect_err("no storage");
    assert_eq!(
        err,
        InstallError::InsufficientStorage { need: 200, have: 0 }
    );
    assert_eq!(err.key(), Key(Phase::Checks, Cause::InsufficientStorage));
    // Memory is checked before storage.
    assert_eq!(
        cause_on(
            &bytes,
            &DeliveryDevice {
                free_storage: 0,
                free_memory: 0,
                ..device()
            }
        ),
        Err(Cause::OutOfMemory)
    );
}

#[test]
fn a_component_for_a_missing_sub_device_is_told() {
    let spec = DeliverySpec::new(
        "suite",
        vec![
            component("maps", "2.1"),
            component("pen", "1").with_sub_device("s-pen").unwrap(),
        ],
    )
    .unwrap();
    let package = verify_delivery(&build_delivery(&spec, &key()), &trusted(), NOW).unwrap();
    let attached = ["s-pen".to_string()];
    assert_eq!(missing_sub_device(&package.components[0], &[]), None);
    assert_eq!(
        missing_sub_device(&package.components[1], &[]),
        Some("s-pen")
    );
    assert_eq!(missing_sub_device(&package.components[1], &attached), None);
}

#[test]
fn certificates_validate_against_the_anchor_and_the_clock() {
    let signed = |cert: CertificateSpec| {
        build_delivery(
            &with_terms(TermsSpec {
                certificate: Some(cert),
                ..TermsSpec::default()
            }),
            &key(),
        )
    };
    let good = signed(CertificateSpec::new("acme"));
    assert_eq!(cause_on(&good, &device()), Ok(()));
    // Signed by the certificate's key, not the anchor's: the signature is not the anchor's.
    let parsed = parse_delivery(&good).unwrap();
    assert!(trusted()
        .verify_strict(
            parsed.signed,
            &ed25519_dalek::Signature::from_bytes(&parsed.signature)
        )
        .is_err());
    // The device's clock decides: the last second is valid, the next expired, the one before
    // not-before not valid yet.
    let short = signed(CertificateSpec {
        not_before: NOW,
        not_after: NOW + 10,
        ..CertificateSpec::new("acme")
    });
    assert_eq!(
        cause_on(
            &short,
            &DeliveryDevice {
                now: NOW + 10,
                ..device()
            }
        ),
        Ok(())
    );
    assert_eq!(
        cause_on(
            &short,
            &DeliveryDevice {
                now: NOW + 11,
                ..device()
            }
        ),
        Err(Cause::CertificateExpired)
    );
    assert_eq!(
        cause_on(
            &short,
            &DeliveryDevice {
                now: NOW - 1,
                ..device()
            }
        ),
        Err(Cause::CertificateInvalid)
    );
    // A device with another anchor does not trust it.
    let other = SigningKey::from_bytes(&[5; 32]).verifying_key();
    let err = verify_delivery(&good, &other, NOW).expect_err("untrusted");
    assert_eq!(err.cause(), Cause::CertificateInvalid);
    assert_eq!(
        err.to_string(),
        "the package: the certificate of \"acme\" is not issued by the device's trust anchor"
    );
}

/// A certificate is checked before the signature, the signature before anything else: a package
/// re-signed by another key under a good certificate fails the signature, and a package signed by
/// the anchor but carrying a certificate is checked against the certificate's key.
#[test]
fn a_certificate_only_vouches_for_the_key_it_certifies() {
    let spec = with_terms(TermsSpec {
        certificate: Some(CertificateSpec::new("acme")),
        ..TermsSpec::default()
    });
    let mut bytes = build_delivery(&spec, &key());
    let end = parse_delivery(&bytes).unwrap().signed.len();
    let by_anchor = key().sign(&bytes[..end]).to_bytes();
    bytes[end..end + SIGNATURE_LEN].copy_from_slice(&by_anchor);
    assert_eq!(
        verify_delivery(&bytes, &trusted(), NOW),
        Err(InstallError::BadSignature)
    );
    // Re-signed by the certificate's key (derived from the anchor and the subject): valid.
    let subject = cert::subject_key(&key(), "acme");
    let by_subject = subject.sign(&bytes[..end]).to_bytes();
    bytes[end..end + SIGNATURE_LEN].copy_from_slice(&by_subject);
    assert!(verify_delivery(&bytes, &trusted(), NOW).is_ok());
    // The certificate record itself is there, as issued.
    let parsed = parse_delivery(&bytes).unwrap();
    let record = terms::package_certificate(&parsed.header.attributes).expect("a record");
    assert_eq!(
        Certificate::parse(record).map(|c| c.subject),
        Some("acme".into())
    );
    assert_eq!(
        terms::split(&parsed.header.attributes).unwrap()[0].0,
        TAG_CERTIFICATE
    );
}

#[test]
fn a_component_certificate_signs_its_component() {
    let spec = DeliverySpec::new(
        "suite",
        vec![
            component("maps", "2.1"),
            component("agent", "1.4")
                .with_certificate(CertificateSpec::new("agent-vendor"))
                .unwrap(),
        ],
    )
    .unwrap();
    let bytes = build_delivery(&spec, &key());
    assert_eq!(cause_on(&bytes, &device()), Ok(()));
    // The component's signature covers the package id and its entry: the same package renamed
    // (same length) and re-signed by the anchor still has a good package signature, and the
    // component's signature no longer verifies.
    let mut renamed = bytes.clone();
    let at = 11;
    assert_eq!(&renamed[at..at + 5], b"suite");
    renamed[at..at + 5].copy_from_slice(b"suitf");
    let end = parse_delivery(&renamed).unwrap().signed.len();
    let signature = key().sign(&renamed[..end]).to_bytes();
    renamed[end..end + SIGNATURE_LEN].copy_from_slice(&signature);
    assert_eq!(
        verify_delivery(&renamed, &trusted(), NOW),
        Err(InstallError::BadSignature)
    );
    // The component's certificate, like the package's, is checked on the device's clock.
    let expired_clock = cause_on(
        &bytes,
        &DeliveryDevice {
            now: DEFAULT_NOT_AFTER + 1,
            ..device()
        },
    );
    assert_eq!(expired_clock, Err(Cause::CertificateExpired));
}

#[test]
fn a_missing_file_is_an_invalid_format_and_damage_is_corrupt() {
    let key = key();
    let missing =
        build_defective_delivery(&spec(), &key, DeliveryDefect::MissingPayload(2)).expect("builds");
    assert_eq!(
        verify_delivery(&missing, &trusted(), NOW),
        Err(InstallError::InvalidFormat(FormatReason::MissingPayload {
            component: "agent".into()
        }))
    );
    // The same package cut in the middle of a record is damaged, not incomplete.
    let terms = TermsSpec {
        valid_until: Some(u64::MAX),
        ..TermsSpec::default()
    };
    let v3 = build_delivery(&with_terms(terms.clone()), &key);
    for cut in [v3.len() - 1, v3.len() - 50, v3.len() - 100 - 10] {
        assert_eq!(
            verify_delivery(&v3[..cut], &trusted(), NOW).map_err(|e| e.cause()),
            Err(Cause::PackageCorrupt),
            "{cut}"
        );
    }
    let truncated =
        build_defective_delivery(&with_terms(terms.clone()), &key, DeliveryDefect::Truncated)
            .expect("builds");
    assert_eq!(
        verify_delivery(&truncated, &trusted(), NOW).map_err(|e| e.cause()),
        Err(Cause::PackageCorrupt)
    );
    let corrupt = build_defective_delivery(&with_terms(terms), &key, DeliveryDefect::Corrupt(1))
        .expect("builds");
    assert_eq!(
        verify_delivery(&corrupt, &trusted(), NOW),
        Err(InstallError::Corrupt(
            CorruptReason::ComponentHashMismatch {
                component: "maps".into()
            }
        ))
    );
    let unknown =
        build_defective_delivery(&spec(), &key, DeliveryDefect::UnknownAttribute).expect("builds");
    assert!(matches!(
        verify_delivery(&unknown, &trusted(), NOW),
        Err(InstallError::InvalidFormat(
            FormatReason::UnknownAttribute { .. }
        ))
    ));
}

/// Records may come in any order; a record of a component the manifest does not list, or a second
/// record of one, makes the format invalid; a record shorter than its entry says is corrupt.
#[test]
fn payload_records_are_matched_to_the_manifest() {
    let s = with_terms(TermsSpec {
        valid_until: Some(u64::MAX),
        ..TermsSpec::default()
    });
    let bytes = build_delivery(&s, &key());
    let parsed = parse_delivery(&bytes).unwrap();
    let area_at = parsed.signed.len() + SIGNATURE_LEN;
    let header = parsed.signed.to_vec();
    let area = bytes[area_at..].to_vec();
    let maps_len = 1 + 4 + 8 + 100;
    let (maps, agent) = area.split_at(maps_len);
    let resigned = |payloads: &[u8]| {
        let mut h = header.clone();
        let len = h.len();
        h[len - 8..].copy_from_slice(&(payloads.len() as u64).to_be_bytes());
        let mut out = h.clone();
        out.extend_from_slice(&key().sign(&h).to_bytes());
        out.extend_from_slice(payloads);
        out
    };
    let swapped = [agent, maps].concat();
    let p = verify_delivery(&resigned(&swapped), &trusted(), NOW).expect("any order");
    assert_eq!(p.components[0].header.id, "maps");
    assert_eq!(
        verify_delivery(&resigned(&[maps, agent, maps].concat()), &trusted(), NOW),
        Err(InstallError::InvalidFormat(
            FormatReason::DuplicatePayload {
                component: "maps".into()
            }
        ))
    );
    let mut stranger = b"\x03nav".to_vec();
    stranger.extend_from_slice(&1u64.to_be_bytes());
    stranger.push(0);
    assert_eq!(
        verify_delivery(
            &resigned(&[maps, agent, &stranger].concat()),
            &trusted(),
            NOW
        ),
        Err(InstallError::InvalidFormat(FormatReason::UnlistedPayload {
            component: "nav".into()
        }))
    );
    // A record that says 99 bytes where the entry says 100: corrupt.
    let mut short = maps[..maps_len - 1].to_vec();
    short[5..13].copy_from_slice(&99u64.to_be_bytes());
    assert_eq!(
        verify_delivery(&resigned(&[&short[..], agent].concat()), &trusted(), NOW),
        Err(InstallError::Corrupt(CorruptReason::PayloadLength {
            declared: 100,
            actual: 99
        }))
    );
}

#[test]
fn every_new_defect_gives_its_cause_on_every_component() {
    let key = key();
    for s in [
        spec(),
        with_terms(TermsSpec {
            certificate: Some(CertificateSpec::new("acme")),
            ..TermsSpec::default()
        }),
    ] {
        let mut defects = vec![
            DeliveryDefect::UnknownAttribute,
            DeliveryDefect::CertificateUntrusted,
            DeliveryDefect::CertificateExpired,
        ];
        for k in 1..=2 {
            defects.extend([
                DeliveryDefect::MissingPayload(k),
                DeliveryDefect::ComponentCertificateUntrusted(k),
                DeliveryDefect::ComponentCertificateExpired(k),
            ]);
        }
        for defect in defects {
            let bytes = build_defective_delivery(&s, &key, defect).expect("builds");
            assert_eq!(bytes[9], 3, "{defect} is format 3");
            assert_eq!(cause_on(&bytes, &device()), Err(defect.cause()), "{defect}");
            assert_eq!(DeliveryDefect::parse(&defect.to_string()), Some(defect));
        }
        // The old defects still give theirs in format 3.
        for defect in [
            DeliveryDefect::Corrupt(2),
            DeliveryDefect::Truncated,
            DeliveryDefect::BadMagic,
            DeliveryDefect::TooManyComponents,
            DeliveryDefect::DuplicateId,
            DeliveryDefect::HugeLength(1),
            DeliveryDefect::BadSignature,
            DeliveryDefect::TamperedHeader,
            DeliveryDefect::UnsupportedEnvironment(1),
        ] {
            let bytes = build_defective_delivery(&s, &key, defect).expect("builds");
            assert_eq!(
                cause_on(&bytes, &device()),
                Err(defect.cause()),
                "{defect} of {s:?}"
            );
        }
    }
    assert_eq!(
        DeliveryDefect::parse("component-cert-expired"),
        Some(DeliveryDefect::ComponentCertificateExpired(1))
    );
    assert_eq!(DeliveryDefect::parse("cert-expired:1"), None);
    assert!(matches!(
        build_defective_delivery(&spec(), &key, DeliveryDefect::MissingPayload(3)),
        Err(SpecError::NoSuchComponent { count: 2, .. })
    ));
}

#[test]
fn terms_that_cannot_be_written_are_refused() {
    let bad = |terms: TermsSpec| spec().with_terms(terms).expect_err("refused");
    assert_eq!(
        bad(TermsSpec {
            requires: vec![String::new()],
            ..TermsSpec::default()
        }),
        SpecError::TextLength {
            field: Field::PackageId,
            len: 0
        }
    );
    assert_eq!(
        bad(TermsSpec {
            devices: vec!["x".repeat(256)],
            ..TermsSpec::default()
        }),
        SpecError::TextLength {
            field: Field::DeviceId,
            len: 256
        }
    );
    assert_eq!(
        bad(TermsSpec {
            certificate: Some(CertificateSpec {
                not_before: 2,
                not_after: 1,
                ..CertificateSpec::new("a")
            }),
            ..TermsSpec::default()
        }),
        SpecError::CertificateDates {
            subject: "a".into()
        }
    );
    let many: Vec<String> = (0..300).map(|i| format!("{i:0>250}")).collect();
    assert!(matches!(
        bad(TermsSpec {
            devices: many,
            ..TermsSpec::default()
        }),
        SpecError::AttributesTooLong(_)
    ));
    assert_eq!(
        component("a", "1").with_sub_device(""),
        Err(SpecError::TextLength {
            field: Field::SubDevice,
            len: 0
        })
    );
}

/// Hand-made format 3 headers that lie: every answer typed, no panic.
#[test]
fn format_3_bytes_that_lie_are_errors_not_panics() {
    let bytes = build_delivery(
        &with_terms(TermsSpec {
            requires: vec!["base".into()],
            ..TermsSpec::default()
        }),
        &key(),
    );
    let base = ["base".to_string()];
    let installed = DeliveryDevice {
        installed: &base,
        ..device()
    };
    assert_eq!(cause_on(&bytes, &installed), Ok(()));
    for i in 0..bytes.len() {
        for flip in [0x01, 0x80, 0xFF] {
            let mut b = bytes.clone();
            b[i] ^= flip;
            assert!(cause_on(&b, &installed).is_err(), "byte {i} ^ {flip:#x}");
        }
    }
    for cut in 0..bytes.len() {
        assert!(
            verify_delivery(&bytes[..cut], &trusted(), NOW).is_err(),
            "{cut}"
        );
    }
}
