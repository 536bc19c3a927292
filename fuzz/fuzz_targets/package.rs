//! Fuzz target: simulated firmware packages (`dmsim::package::{parse, verify, inspect}`) on
//! arbitrary bytes. Never a panic, hang or unbounded allocation, and the checks agree with each
//! other: what `verify` accepts, `inspect` accepts given the memory, and its payload is as long as
//! the header says.
//!
//! The first byte chooses how far the bytes get: bit 0 fixes the header's payload length and hash
//! to match the payload, bit 1 re-signs the header with the test key the device trusts (so the
//! fuzzer reaches the checks behind the signature: payload, model, version, memory). The rest is
//! the package.

#![no_main]

use dmsim::package::{self, test_signing_key, DeviceView};
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
    let trusted = test_signing_key().verifying_key();
    let verified = package::verify(&bytes, &trusted, MODEL, CURRENT);
    let device = DeviceView {
        model: MODEL,
        current_version: CURRENT,
        free_memory: u64::MAX,
    };
    let inspected = package::inspect(&bytes, &trusted, &device);
    match (&verified, &inspected) {
        (Ok(v), Ok(i)) => {
            assert_eq!(v, i);
            assert_eq!(v.payload(&bytes).len() as u64, v.header.payload_len);
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
    let _ = package::inspect(&bytes, &trusted, &small);
});
