//! Fuzz target: simulated packages on arbitrary bytes: firmware packages
//! (`dmsim::package::{parse, verify, inspect}`) and delivery packages of software components
//! (`dmsim::package::{parse_delivery, verify_delivery, inspect_delivery}`). Never a panic, hang or
//! unbounded allocation, and the checks agree with each other: what `verify` accepts, `inspect`
//! accepts given the memory, and its payload is as long as the header says; what `verify_delivery`
//! accepts, `inspect_delivery` accepts given the environments and the memory unless the package's
//! own terms (format 3) exclude the device the target plays, and the components' payloads lie in
//! the bytes, each as long as its entry says (in format 2, one after the other to the end of the
//! bytes; in format 3, records that do not overlap).
//!
//! The first byte chooses how far the bytes get: bit 0 fixes the header's payload lengths and
//! hashes to match the payloads (in a delivery package of format 2, each component keeps its
//! declared length while the bytes last, the last one takes the rest), bit 1 re-signs the header
//! with the test key the device trusts (so the fuzzer reaches the checks behind the signature:
//! payloads, model, version, component ids, terms, environments, memory). The rest is the package;
//! both kinds of check run on every input.

#![no_main]

use dmsim::package::{self, test_signing_key, DeliveryDevice, DeviceView, InstallError};
use ed25519_dalek::Signer as _;
use libfuzzer_sys::fuzz_target;
use sha2::Digest as _;

/// The model and version the packages of `dmsim package` default to in tests and scenarios.
const MODEL: &str = "SIM-1";
const CURRENT: &str = "FW-1.0.0";

fuzz_target!(|data: &[u8]| {
    let Some((&mode, bytes)) = data.split_first() else {
        return;
    };
    let mut bytes = bytes.to_vec();
    if let Ok(parsed) = package::parse(&bytes) {
        let signed_len = parsed.signed.len();
        let payload_start = signed_len + package::SIGNATURE_LEN;
        if mode & 1 == 1 {
            // The header ends with the payload length (8 bytes) and its SHA-256 (32).
            let payload = bytes[payload_start..].to_vec();
            let hash: [u8; 32] = sha2::Sha256::digest(&payload).into();
            bytes[signed_len - 40..signed_len - 32]
                .copy_from_slice(&(payload.len() as u64).to_be_bytes());
            bytes[signed_len - 32..signed_len].copy_from_slice(&hash);
        }
        if mode & 2 == 2 {
            let signature = test_signing_key().sign(&bytes[..signed_len]);
            bytes[signed_len..payload_start].copy_from_slice(&signature.to_bytes());
        }
    }
    if let Ok(parsed) = package::parse_delivery(&bytes) {
        let signed_len = parsed.signed.len();
        let payload_start = signed_len + package::SIGNATURE_LEN;
        if mode & 1 == 1 && parsed.format == package::DELIVERY_FORMAT_VERSION {
            fix_delivery_lengths(&mut bytes, payload_start);
        }
        if mode & 2 == 2 {
            let signature = test_signing_key().sign(&bytes[..signed_len]);
            bytes[signed_len..payload_start].copy_from_slice(&signature.to_bytes());
        }
    }
    firmware(&bytes);
    delivery(&bytes);
});

/// Rewrite each component entry's length and hash so that the payloads split the bytes after the
/// signature. The bytes parse as a delivery package, so every entry is where this walk finds it.
fn fix_delivery_lengths(bytes: &mut [u8], payload_start: usize) {
    let mut remaining = bytes.len() - payload_start;
    let mut payload = payload_start;
    // Magic and version, the package id's length byte and the id, the count.
    let mut pos = 11 + usize::from(bytes[10]);
    let count = bytes[pos];
    pos += 1;
    for index in 0..count {
        for _ in 0..4 {
            pos += 1 + usize::from(bytes[pos]);
        }
        let declared = u64::from_be_bytes(bytes[pos..pos + 8].try_into().expect("8 bytes"));
        let len = if index + 1 == count {
            remaining
        } else {
            usize::try_from(declared).map_or(remaining, |d| d.min(remaining))
        };
        let hash: [u8; 32] = sha2::Sha256::digest(&bytes[payload..payload + len]).into();
        bytes[pos..pos + 8].copy_from_slice(&(len as u64).to_be_bytes());
        bytes[pos + 8..pos + 40].copy_from_slice(&hash);
        pos += 40;
        payload += len;
        remaining -= len;
    }
}

fn firmware(bytes: &[u8]) {
    let trusted = test_signing_key().verifying_key();
    let verified = package::verify(bytes, &trusted, MODEL, CURRENT);
    let device = DeviceView {
        model: MODEL,
        current_version: CURRENT,
        free_memory: u64::MAX,
    };
    let inspected = package::inspect(bytes, &trusted, &device);
    match (&verified, &inspected) {
        (Ok(v), Ok(i)) => {
            assert_eq!(v, i);
            assert_eq!(v.payload(bytes).len() as u64, v.header.payload_len);
            assert!(package::check_memory(v, v.header.payload_len).is_ok());
        }
        (Err(v), Err(i)) => {
            assert_eq!(v, i);
            let _ = (v.to_string(), v.cause());
        }
        _ => panic!("verify {verified:?} but inspect {inspected:?}"),
    }
    let small = DeviceView {
        free_memory: 16,
        ..device
    };
    let _ = package::inspect(bytes, &trusted, &small);
}

fn delivery(bytes: &[u8]) {
    let trusted = test_signing_key().verifying_key();
    let verified = package::verify_delivery(bytes, &trusted, package::CLOCK_START);
    let envs = ["Android".to_string(), "Linux".to_string()];
    let device = DeliveryDevice {
        env_types: &envs,
        ..DeliveryDevice::default()
    };
    let inspected = package::inspect_delivery(bytes, &trusted, &device);
    match (&verified, &inspected) {
        (Ok(v), Ok(i)) => assert_eq!(v, i),
        (
            Ok(v),
            Err(InstallError::UnsupportedEnvironment {
                component,
                env_type,
            }),
        ) => {
            let c = v.component(component).expect("the component named exists");
            assert_eq!(&c.header.env_type, env_type);
            assert!(!envs.contains(env_type));
        }
        (Err(v), Err(i)) => {
            assert_eq!(v, i);
            let _ = (v.to_string(), v.cause());
        }
        // The terms of a format 3 package name other devices, another software version, a
        // validity that ended or a package this device does not have.
        (Ok(v), Err(InstallError::NotForDevice { devices, .. })) => {
            assert_eq!(&v.terms.devices, devices);
        }
        (Ok(v), Err(InstallError::SourceVersion { package, .. })) => {
            assert_eq!(v.terms.source_version.as_ref(), Some(package));
        }
        (Ok(v), Err(InstallError::NoLongerValid { valid_until, .. })) => {
            assert_eq!(v.terms.valid_until, Some(*valid_until));
        }
        (Ok(v), Err(InstallError::PrerequisiteMissing { pkg_id })) => {
            assert!(v.terms.requires.contains(pkg_id));
        }
        _ => panic!("verify_delivery {verified:?} but inspect_delivery {inspected:?}"),
    }
    if let Ok(v) = &verified {
        let format = package::parse_delivery(bytes).map(|p| p.format);
        if format == Ok(package::DELIVERY_FORMAT_VERSION) {
            let mut end = v.components.first().map_or(0, |c| c.payload.start);
            for c in &v.components {
                assert_eq!(c.payload.start, end);
                end = c.payload.end;
            }
            assert_eq!(end, bytes.len());
        } else {
            let mut ranges: Vec<_> = v.components.iter().map(|c| c.payload.clone()).collect();
            ranges.sort_by_key(|r| r.start);
            for pair in ranges.windows(2) {
                assert!(pair[0].end <= pair[1].start, "records overlap: {ranges:?}");
            }
            assert!(ranges.last().is_none_or(|r| r.end <= bytes.len()));
        }
        for c in &v.components {
            assert_eq!(c.payload(bytes).len() as u64, c.header.payload_len);
        }
        assert!(package::check_delivery_memory(v, v.total_payload_len()).is_ok());
        let types: Vec<String> = v
            .components
            .iter()
            .map(|c| c.header.env_type.clone())
            .collect();
        assert!(package::check_environments(v, &types).is_ok());
        let _ = package::check_delivery_memory(v, 16);
    }
}
