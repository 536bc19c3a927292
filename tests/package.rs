//! Firmware and delivery packages from the outside: the committed test key, parsing that never
//! panics (proptest), every change to a package refused, and `dmsim package` as a user runs it.

use dmsim::outcome::Cause;
use dmsim::package::{
    self, build, build_defective, build_defective_delivery, build_delivery, inspect,
    inspect_delivery, load_signing_key, load_verifying_key, test_signing_key, ComponentSpec,
    Defect, DeliveryDefect, DeliveryDevice, DeliverySpec, DeviceView, KeyError, PackageSpec,
    TEST_KEY_SEED,
};
use proptest::prelude::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn device() -> DeviceView<'static> {
    DeviceView {
        model: "SIM-1",
        current_version: "1.0",
        free_memory: u64::MAX,
    }
}

fn small_package() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        let spec = PackageSpec::new("SIM-1", "1.0", "2.0", 96).expect("spec");
        build(&spec, &test_signing_key())
    })
}

#[test]
fn the_committed_key_pair_is_the_test_key() {
    let key = load_signing_key(Path::new(package::DEFAULT_SIGNING_KEY)).expect("loads");
    assert_eq!(key.to_bytes(), TEST_KEY_SEED);
    let public = load_verifying_key(Path::new(package::DEFAULT_VERIFYING_KEY)).expect("loads");
    assert_eq!(public, test_signing_key().verifying_key());
}

#[test]
fn key_errors_name_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("missing.key");
    let err = load_signing_key(&missing).expect_err("missing");
    assert!(matches!(&err, KeyError::Read { path, .. } if *path == missing));
    assert!(
        err.to_string().starts_with(&missing.display().to_string()),
        "{err}"
    );

    let short = dir.path().join("short.key");
    std::fs::write(&short, "abcd\n").expect("written");
    let err = load_signing_key(&short).expect_err("too short");
    assert!(
        matches!(&err, KeyError::Format { path, .. } if *path == short),
        "{err}"
    );

    // 32 bytes that are not a point on the curve.
    let bad_point = dir.path().join("bad.pub");
    std::fs::write(&bad_point, format!("02{}", "00".repeat(30) + "80")).expect("written");
    let err = load_verifying_key(&bad_point).expect_err("not a key");
    assert!(err.to_string().contains("bad.pub"), "{err}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, rng_seed: proptest::test_runner::RngSeed::Fixed(0x5EED), ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = package::parse(&bytes);
        prop_assert!(inspect(&bytes, &test_signing_key().verifying_key(), &device()).is_err());
    }

    #[test]
    fn a_valid_prefix_with_any_tail_never_panics(
        cut in 0usize..200,
        tail in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let mut bytes = small_package()[..cut.min(small_package().len())].to_vec();
        bytes.extend_from_slice(&tail);
        let result = inspect(&bytes, &test_signing_key().verifying_key(), &device());
        if bytes != small_package() {
            prop_assert!(result.is_err());
        }
    }

    #[test]
    fn every_single_byte_change_is_refused(index in any::<prop::sample::Index>(), flip in 1u8..=255) {
        let mut bytes = small_package().to_vec();
        let i = index.index(bytes.len());
        bytes[i] ^= flip;
        let err = inspect(&bytes, &test_signing_key().verifying_key(), &device());
        prop_assert!(err.is_err(), "byte {} ^ {:#x} was accepted", i, flip);
    }

    #[test]
    fn every_truncation_is_refused(len in 0usize..300) {
        let bytes = small_package();
        let cut = &bytes[..len.min(bytes.len() - 1)];
        let err = inspect(cut, &test_signing_key().verifying_key(), &device());
        prop_assert_eq!(err.map(|_| ()).map_err(|e| e.cause()), Err(Cause::PackageCorrupt));
    }

    #[test]
    fn any_spec_builds_a_package_that_inspects_back(
        model in "\\PC{1,40}",
        from in "[0-9A-Za-z._-]{1,20}",
        to in "\\PC{1,20}",
        size in 1u64..2048,
        seed in any::<u64>(),
    ) {
        prop_assume!(model.len() <= 255 && to.len() <= 255);
        // A package to an older version than the one running would downgrade the device: refused
        // (its own test is below).
        prop_assume!(!package::version::is_older(&to, &from));
        let spec = PackageSpec::new(model.clone(), from.clone(), to.clone(), size)
            .expect("valid").with_seed(seed);
        let bytes = build(&spec, &test_signing_key());
        let view = DeviceView { model: &model, current_version: &from, free_memory: size };
        let p = inspect(&bytes, &test_signing_key().verifying_key(), &view).expect("valid");
        prop_assert_eq!(&p.header.to_version, &to);
        let expected = package::payload(&spec);
        prop_assert_eq!(p.payload(&bytes), expected.as_slice());
        for &defect in Defect::ALL {
            let broken = build_defective(&spec, &test_signing_key(), defect);
            let cause = inspect(&broken, &test_signing_key().verifying_key(), &view)
                .map(|_| Cause::Succeeded).unwrap_or_else(|e| e.cause());
            prop_assert_eq!(cause, defect.cause(), "{}", defect);
        }
    }
}

fn envs() -> &'static [String] {
    static ENVS: OnceLock<Vec<String>> = OnceLock::new();
    ENVS.get_or_init(|| vec!["Android".into(), "Linux".into()])
}

fn delivery_device() -> DeliveryDevice<'static> {
    DeliveryDevice {
        env_types: envs(),
        free_memory: u64::MAX,
        ..DeliveryDevice::default()
    }
}

fn small_delivery() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        let components = vec![
            ComponentSpec::new("a", "A", "1.0", "Android", 40).expect("component"),
            ComponentSpec::new("b", "B", "2.0", "Linux", 24).expect("component"),
        ];
        let spec = DeliverySpec::new("pkg", components).expect("spec");
        build_delivery(&spec, &test_signing_key())
    })
}

fn delivery_cause(bytes: &[u8], device: &DeliveryDevice<'_>) -> Cause {
    inspect_delivery(bytes, &test_signing_key().verifying_key(), device)
        .map(|_| Cause::Succeeded)
        .unwrap_or_else(|e| e.cause())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, rng_seed: proptest::test_runner::RngSeed::Fixed(0xDE11), ..ProptestConfig::default() })]

    /// Random bytes behind a delivery package's magic and version reach the header parser.
    #[test]
    fn arbitrary_delivery_bytes_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut bytes = b"DMSIMPKG\x00\x02".to_vec();
        bytes.extend_from_slice(&tail);
        let _ = package::parse_delivery(&bytes);
        let _ = package::package_format(&bytes);
        prop_assert!(inspect_delivery(&bytes, &test_signing_key().verifying_key(), &delivery_device()).is_err());
        prop_assert!(inspect(&bytes, &test_signing_key().verifying_key(), &device()).is_err());
    }

    #[test]
    fn every_single_byte_change_of_a_delivery_package_is_refused(
        index in any::<prop::sample::Index>(),
        flip in 1u8..=255,
    ) {
        let mut bytes = small_delivery().to_vec();
        let i = index.index(bytes.len());
        bytes[i] ^= flip;
        let cause = delivery_cause(&bytes, &delivery_device());
        prop_assert!(
            [Cause::PackageCorrupt, Cause::SignatureInvalid].contains(&cause),
            "byte {} ^ {:#x}: {}", i, flip, cause
        );
    }

    #[test]
    fn every_truncation_of_a_delivery_package_is_corrupt(len in 0usize..500) {
        let bytes = small_delivery();
        let cut = &bytes[..len.min(bytes.len() - 1)];
        prop_assert_eq!(delivery_cause(cut, &delivery_device()), Cause::PackageCorrupt);
    }

    /// Chunks of random bytes written over a valid package, re-signed or not: never a panic,
    /// always a typed answer, and what passes has its components where the header says.
    #[test]
    fn mutated_delivery_packages_give_typed_errors(
        at in any::<prop::sample::Index>(),
        chunk in proptest::collection::vec(any::<u8>(), 1..16),
        resign in any::<bool>(),
    ) {
        let mut bytes = small_delivery().to_vec();
        let start = at.index(bytes.len());
        for (b, c) in bytes[start..].iter_mut().zip(&chunk) {
            *b = *c;
        }
        if resign {
            if let Ok(parsed) = package::parse_delivery(&bytes) {
                use ed25519_dalek::Signer as _;
                let end = parsed.signed.len();
                let signature = test_signing_key().sign(&bytes[..end]).to_bytes();
                bytes[end..end + package::SIGNATURE_LEN].copy_from_slice(&signature);
            }
        }
        match inspect_delivery(&bytes, &test_signing_key().verifying_key(), &delivery_device()) {
            Ok(p) => {
                let total: usize = p.components.iter().map(|c| c.payload(&bytes).len()).sum();
                prop_assert_eq!(total as u64, p.total_payload_len());
                prop_assert_eq!(p.components.last().map(|c| c.payload.end), Some(bytes.len()));
            }
            Err(e) => { let _ = (e.to_string(), e.cause()); }
        }
    }

    #[test]
    fn any_delivery_spec_builds_a_package_that_inspects_back(
        components in proptest::collection::vec(("\\PC{1,12}", "[A-Za-z]{1,8}", 1u64..300), 1..6),
        seed in any::<u64>(),
    ) {
        let specs: Vec<ComponentSpec> = components
            .iter()
            .enumerate()
            .map(|(i, (name, env, size))| {
                ComponentSpec::new(format!("c{i}"), name.as_str(), "1", env.as_str(), *size)
            })
            .collect::<Result<_, _>>()
            .expect("valid components");
        let spec = DeliverySpec::new("p", specs).expect("valid").with_seed(seed);
        let envs: Vec<String> = components.iter().map(|c| c.1.clone()).collect();
        let total: u64 = components.iter().map(|c| c.2).sum();
        let device = DeliveryDevice { env_types: &envs, free_memory: total, ..DeliveryDevice::default() };
        let bytes = build_delivery(&spec, &test_signing_key());
        let p = inspect_delivery(&bytes, &test_signing_key().verifying_key(), &device).expect("valid");
        for (number, c) in (1..).zip(&p.components) {
            let expected = package::component_payload(&spec, number).expect("exists");
            prop_assert_eq!(c.payload(&bytes), expected.as_slice());
        }
        let short = DeliveryDevice { free_memory: total - 1, ..device };
        prop_assert_eq!(delivery_cause(&bytes, &short), Cause::OutOfMemory);
        let mut defects = vec![
            DeliveryDefect::Truncated, DeliveryDefect::BadMagic, DeliveryDefect::TooManyComponents,
            DeliveryDefect::DuplicateId, DeliveryDefect::BadSignature, DeliveryDefect::TamperedHeader,
        ];
        let k = components.len();
        defects.extend([DeliveryDefect::Corrupt(k), DeliveryDefect::HugeLength(1)]);
        // Another component may have the type `<env>-OTHER` already.
        let other = format!("{}-OTHER", components[k - 1].1);
        if !envs.contains(&other) {
            defects.push(DeliveryDefect::UnsupportedEnvironment(k));
        }
        for defect in defects {
            let broken = build_defective_delivery(&spec, &test_signing_key(), defect).expect("builds");
            prop_assert_eq!(delivery_cause(&broken, &device), defect.cause(), "{}", defect);
        }
    }
}

fn dmsim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_dmsim"))
}

fn build_cli(dir: &Path, name: &str, extra: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let run = dmsim()
        .args([
            "package", "--model", "SIM-1", "--from", "1.0", "--to", "2.0",
        ])
        .args(["--size", "64KiB", "--seed", "5", "--out"])
        .arg(&out)
        .args(extra)
        .output()
        .expect("runs");
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    out
}

fn inspect_cli(file: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let run = dmsim()
        .args(["package", "--inspect"])
        .arg(file)
        .args(["--model", "SIM-1", "--current", "1.0"])
        .args(extra)
        .output()
        .expect("runs");
    let text =
        String::from_utf8_lossy(&run.stdout).to_string() + &String::from_utf8_lossy(&run.stderr);
    (run.status.code(), text)
}

#[test]
fn cli_builds_a_reproducible_package_that_inspects_valid() {
    let dir = tempfile::tempdir().expect("temp dir");
    let a = build_cli(dir.path(), "a.pkg", &[]);
    let b = build_cli(dir.path(), "b.pkg", &[]);
    let bytes = std::fs::read(&a).expect("written");
    assert_eq!(
        bytes,
        std::fs::read(&b).expect("written"),
        "same flags, same package"
    );
    let spec = PackageSpec::new("SIM-1", "1.0", "2.0", 65536)
        .expect("spec")
        .with_seed(5);
    assert_eq!(bytes, build(&spec, &test_signing_key()));

    let (code, text) = inspect_cli(&a, &[]);
    assert_eq!(code, Some(0), "{text}");
    for line in [
        "model     SIM-1",
        "from      1.0",
        "to        2.0",
        "payload   65536 bytes",
        "verdict   valid",
    ] {
        assert!(text.contains(line), "{line:?} in {text}");
    }
    let (code, text) = inspect_cli(&a, &["--free-memory", "32KiB"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("FUMO 502"), "{text}");
}

#[test]
fn cli_defects_are_refused_with_their_fumo_codes() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (defect, code) in [
        ("corrupt", "402"),
        ("truncated", "402"),
        ("bad-magic", "402"),
        ("wrong-model", "403"),
        ("bad-signature", "404"),
        ("tampered-header", "404"),
        ("wrong-from-version", "405"),
    ] {
        let file = build_cli(dir.path(), &format!("{defect}.pkg"), &["--defect", defect]);
        let (exit, text) = inspect_cli(&file, &[]);
        assert_eq!(exit, Some(1), "{defect}: {text}");
        assert!(text.contains("verdict   invalid: "), "{defect}: {text}");
        assert!(text.contains(&format!("(FUMO {code} ")), "{defect}: {text}");
    }
}

#[test]
fn cli_bad_flags_and_files_exit_2() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("x.pkg");
    let out = out.to_str().expect("utf-8");
    let base = [
        "package", "--model", "SIM-1", "--from", "1.0", "--to", "2.0", "--out", out,
    ];
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["package", "--model", "SIM-1"], "--from"),
        (
            [&base[..], &["--size", "4 parsecs"]].concat(),
            "invalid size",
        ),
        (
            [&base[..], &["--size", "1KiB", "--defect", "nope"]].concat(),
            "nope",
        ),
        ([&base[..], &["--size", "0"]].concat(), "at least 1 byte"),
        (
            [&base[..], &["--size", "1KiB", "--key", "no/such.key"]].concat(),
            "no/such.key",
        ),
        (
            vec![
                "package",
                "--inspect",
                "no/such.pkg",
                "--model",
                "M",
                "--current",
                "1",
            ],
            "no/such.pkg",
        ),
        (
            vec!["package", "--inspect", out, "--model", "M"],
            "--current",
        ),
        (
            vec![
                "package",
                "--inspect",
                out,
                "--model",
                "M",
                "--current",
                "1",
                "--size",
                "1",
            ],
            "--size",
        ),
    ];
    for (args, says) in cases {
        let run = dmsim().args(&args).output().expect("runs");
        let err = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?} should mention {says}: {err}");
    }
    // An untrusted key file for inspection is a bad file too.
    build_cli(dir.path(), "x.pkg", &[]);
    let (code, text) = inspect_cli(
        Path::new(out),
        &["--trust", "certs/package-signing.key.missing"],
    );
    assert_eq!(code, Some(2), "{text}");
}

#[test]
fn cli_help_documents_the_flags() {
    let run = dmsim().args(["package", "--help"]).output().expect("runs");
    let help = String::from_utf8_lossy(&run.stdout);
    for flag in [
        "--inspect",
        "--defect",
        "--seed",
        "--key",
        "--current",
        "--size",
        "wrong-from-version",
        "--delivery",
        "--pkg-id",
        "--component",
        "ID:NAME:VERSION:ENV:SIZE",
        "--env-types",
        "unsupported-env:K",
        "--requires",
        "--for-device",
        "--source-version",
        "--valid-until",
        "--certificate",
        "--component-certificate",
        "--component-sub-device",
        "--cert-not-after",
        "missing-payload:K",
        "cert-expired",
        "--dev-id",
        "--sw-version",
        "--now",
        "--deployed",
        "--installed",
        "--free-storage",
        "--sub-devices",
    ] {
        assert!(help.contains(flag), "{flag} in {help}");
    }
}

/// The terms a server under test builds into a package, and what a device makes of each: the
/// device each flag describes refuses the package with its outcome, and the device without that
/// condition installs it.
#[test]
fn cli_builds_packages_with_terms_that_devices_check() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (file, said) = build_delivery_cli(
        dir.path(),
        "terms.pkg",
        &[
            "--requires",
            "base-1",
            "--for-device",
            "IMEI:356938035643809",
            "--source-version",
            "SW-1.0.0",
            "--valid-until",
            "2026-06-30",
            "--certificate",
            "acme-apps",
            "--cert-not-after",
            "2027-01-01T00:00:00Z",
            "--component-sub-device",
            "2=dock-DX30",
            "--component-certificate",
            "1=maps-vendor",
        ],
    );
    assert!(said.contains("(valid)"), "{said}");
    let ok: &[&str] = &[
        "--env-types",
        "Android,Linux",
        "--dev-id",
        "IMEI:356938035643809",
        "--sw-version",
        "SW-1.0.0",
        "--installed",
        "base-1",
        "--sub-devices",
        "dock-DX30",
        "--now",
        "2026-03-01",
    ];
    let (code, text) = inspect_delivery_cli(&file, ok);
    assert_eq!(code, Some(0), "{text}");
    for line in [
        "format    3 (delivery)",
        "requires  base-1",
        "for       IMEI:356938035643809",
        "source    software version SW-1.0.0",
        "valid     until 2026-06-30T00:00:00Z",
        "cert      acme-apps from 2025-01-01T00:00:00Z to 2027-01-01T00:00:00Z",
        "      cert      maps-vendor from 2025-01-01T00:00:00Z to 2027-01-01T00:00:00Z",
        "      signed    by its certificate's key",
        "      sub-device dock-DX30",
        "verdict   valid: a device with Android, Linux installs 2 component(s)",
    ] {
        assert!(text.contains(line), "{line:?} in {text}");
    }
    // One condition changed at a time.
    let with = |flag: &str, value: &str| -> Vec<String> {
        let mut args: Vec<String> = ok.iter().map(|s| s.to_string()).collect();
        match args.iter().position(|a| a == flag) {
            Some(i) => args[i + 1] = value.to_string(),
            None => args.extend([flag.to_string(), value.to_string()]),
        }
        args
    };
    for (args, says) in [
        (
            with("--dev-id", "IMEI:1"),
            "install.target-mismatch: result 1407",
        ),
        (
            with("--sw-version", "SW-0.9"),
            "install.target-mismatch: result 1407",
        ),
        (
            with("--installed", "other"),
            "checks.prerequisite-missing: result 1400",
        ),
        (
            with("--now", "2026-07-01"),
            "install.package-expired: result 1407",
        ),
        (
            with("--deployed", "maps=2.2"),
            "install.downgrade: result 1407",
        ),
        (
            with("--free-storage", "1KiB"),
            "checks.insufficient-storage: result 1406",
        ),
        (
            with("--now", "2024-12-31"),
            "install.certificate-invalid: result 1407",
        ),
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, text) = inspect_delivery_cli(&file, &args);
        assert_eq!(code, Some(1), "{args:?}: {text}");
        assert!(text.contains(says), "{args:?}: {says} in {text}");
    }
    // Without the peripheral, its component is skipped, the other one installed.
    let (code, text) = inspect_delivery_cli(
        &file,
        &with("--sub-devices", "pen")
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("installs 1 component(s)")
            && text.contains("skipped   agent (for sub-device dock-DX30) (install.sub-device-missing: result 1405"),
        "{text}"
    );
    // The certificates expire on the device's clock (after 2027-01-01 here); a package built
    // without terms is format 2 and inspects as before.
    let (file, _) = build_delivery_cli(
        dir.path(),
        "cert.pkg",
        &["--certificate", "acme", "--cert-not-after", "2027-01-01"],
    );
    let (code, text) = inspect_delivery_cli(
        &file,
        &["--env-types", "Android,Linux", "--now", "2027-01-02"],
    );
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("the certificate of \"acme\" expired at 2027-01-01T00:00:00Z")
            && text.contains("install.certificate-expired: result 1407"),
        "{text}"
    );
}

#[test]
fn cli_bad_term_flags_exit_2() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("d.pkg");
    let out = out.to_str().expect("utf-8");
    let base = [
        "package",
        "--delivery",
        "--pkg-id",
        "p",
        "--component",
        "a:A:1:Linux:1KiB",
        "--out",
        out,
    ];
    for (extra, says) in [
        (&["--valid-until", "2026-13-01"][..], "invalid time"),
        (&["--component-sub-device", "2=pen"][..], "no component 2"),
        (&["--component-sub-device", "pen"][..], "NAME=VALUE"),
        (
            &["--component-certificate", "0=x"][..],
            "component number from 1",
        ),
        (
            &[
                "--certificate",
                "c",
                "--cert-not-before",
                "2030-01-01",
                "--cert-not-after",
                "2029-01-01",
            ][..],
            "ends before it starts",
        ),
        (&["--defect", "cert-expired:2"][..], "cert-expired"),
    ] {
        let run = dmsim().args(base).args(extra).output().expect("runs");
        let err = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{extra:?}: {err}");
        assert!(err.contains(says), "{extra:?} should mention {says}: {err}");
    }
    // The device flags are for inspecting.
    let run = dmsim()
        .args(base)
        .args(["--dev-id", "IMEI:1"])
        .output()
        .expect("runs");
    assert_eq!(run.status.code(), Some(2));
}

fn build_delivery_cli(dir: &Path, name: &str, extra: &[&str]) -> (PathBuf, String) {
    let out = dir.join(name);
    let run = dmsim()
        .args(["package", "--delivery", "--pkg-id", "suite-1"])
        .args(["--component", "maps:Maps:2.1.0:Android:64KiB"])
        .args([
            "--component",
            "agent:Agent:1.4:Linux:16KiB",
            "--seed",
            "9",
            "--out",
        ])
        .arg(&out)
        .args(extra)
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&run.stdout).to_string();
    assert_eq!(
        run.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    (out, stdout)
}

fn inspect_delivery_cli(file: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let run = dmsim()
        .args(["package", "--inspect"])
        .arg(file)
        .args(extra)
        .output()
        .expect("runs");
    let text =
        String::from_utf8_lossy(&run.stdout).to_string() + &String::from_utf8_lossy(&run.stderr);
    (run.status.code(), text)
}

#[test]
fn cli_builds_a_reproducible_delivery_package_that_inspects_valid() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (a, said) = build_delivery_cli(dir.path(), "a.pkg", &[]);
    let (b, _) = build_delivery_cli(dir.path(), "b.pkg", &[]);
    let bytes = std::fs::read(&a).expect("written");
    assert_eq!(bytes, std::fs::read(&b).expect("written"));
    let spec = DeliverySpec::new(
        "suite-1",
        vec![
            "maps:Maps:2.1.0:Android:64KiB".parse().expect("component"),
            "agent:Agent:1.4:Linux:16KiB".parse().expect("component"),
        ],
    )
    .expect("spec")
    .with_seed(9);
    assert_eq!(bytes, build_delivery(&spec, &test_signing_key()));
    assert!(
        said.contains(
            "delivery package suite-1, 2 component(s), 81920 payload bytes, seed 9 (valid)"
        ),
        "{said}"
    );

    let (code, text) = inspect_delivery_cli(&a, &["--env-types", "Android,Linux"]);
    assert_eq!(code, Some(0), "{text}");
    for line in [
        "format    2 (delivery)",
        "pkg-id    suite-1",
        "components 2",
        "   1  maps  \"Maps\"  2.1.0  Android  65536 bytes  sha256 ",
        "   2  agent  \"Agent\"  1.4  Linux  16384 bytes  sha256 ",
        "verdict   valid: a device with Android, Linux installs 2 component(s), 81920 bytes",
    ] {
        assert!(text.contains(line), "{line:?} in {text}");
    }
    // Every environment is needed, and the memory for all components together.
    let (code, text) = inspect_delivery_cli(&a, &["--env-types", "Android"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("component \"agent\" needs the \"Linux\" environment")
            && text.contains("(install.unsupported-environment: result 1413 "),
        "{text}"
    );
    let (code, text) = inspect_delivery_cli(
        &a,
        &["--env-types", "Linux,Android", "--free-memory", "81919"],
    );
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("(install.out-of-memory: result 1406 "),
        "{text}"
    );
    let (code, text) = inspect_delivery_cli(
        &a,
        &["--env-types", "Linux,Android", "--free-memory", "80KiB"],
    );
    assert_eq!(code, Some(0), "exactly enough memory: {text}");
    // Firmware flags are ignored for a delivery package, and the other way round.
    let (code, text) = inspect_delivery_cli(
        &a,
        &[
            "--env-types",
            "Android,Linux",
            "--model",
            "SIM-1",
            "--current",
            "1.0",
        ],
    );
    assert_eq!(code, Some(0), "{text}");
    let firmware = build_cli(dir.path(), "fw.pkg", &[]);
    let (code, text) = inspect_delivery_cli(
        &firmware,
        &[
            "--env-types",
            "Android",
            "--model",
            "SIM-1",
            "--current",
            "1.0",
        ],
    );
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("model     SIM-1"), "{text}");
}

#[test]
fn cli_delivery_defects_are_refused_with_their_causes() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (defect, says) in [
        ("corrupt:2", "install.package-corrupt: result 1407"),
        ("corrupt", "install.package-corrupt: result 1407"),
        ("truncated", "install.package-corrupt: result 1407"),
        ("bad-magic", "install.package-corrupt: result 1407"),
        (
            "too-many-components",
            "install.package-corrupt: result 1407",
        ),
        ("duplicate-id", "install.package-corrupt: result 1407"),
        ("huge-length:1", "install.package-corrupt: result 1407"),
        ("bad-signature", "install.signature-invalid: result 1407"),
        ("tampered-header", "install.signature-invalid: result 1407"),
        (
            "unsupported-env:1",
            "install.unsupported-environment: result 1413",
        ),
        ("missing-payload:2", "install.invalid-format: result 1407"),
        ("unknown-attribute", "install.invalid-format: result 1407"),
        ("cert-untrusted", "install.certificate-invalid: result 1407"),
        ("cert-expired", "install.certificate-expired: result 1407"),
        (
            "component-cert-untrusted:2",
            "install.certificate-invalid: result 1407",
        ),
        (
            "component-cert-expired",
            "install.certificate-expired: result 1407",
        ),
    ] {
        let name = format!("{}.pkg", defect.replace(':', "-"));
        let (file, built) = build_delivery_cli(dir.path(), &name, &["--defect", defect]);
        assert!(built.contains(says), "{defect}: {built}");
        let (exit, text) = inspect_delivery_cli(&file, &["--env-types", "Android,Linux"]);
        assert_eq!(exit, Some(1), "{defect}: {text}");
        assert!(text.contains("verdict   invalid: "), "{defect}: {text}");
        assert!(text.contains(says), "{defect}: {text}");
    }
    // The corrupt component is named.
    let (file, _) = build_delivery_cli(dir.path(), "c2.pkg", &["--defect", "corrupt:2"]);
    let (_, text) = inspect_delivery_cli(&file, &["--env-types", "Android,Linux"]);
    assert!(
        text.contains("the payload of component \"agent\" does not match"),
        "{text}"
    );
}

#[test]
fn cli_bad_delivery_flags_exit_2() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("d.pkg");
    let out = out.to_str().expect("utf-8");
    let base = ["package", "--delivery", "--pkg-id", "p", "--out", out];
    let one = ["--component", "a:A:1:Linux:1KiB"];
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (base.to_vec(), "--component"),
        (
            [&base[..], &["--component", "a:A:1:Linux"]].concat(),
            "5 fields",
        ),
        (
            [&base[..], &["--component", "a:A:1:Linux:1 parsec"]].concat(),
            "invalid size",
        ),
        (
            [&base[..], &one, &["--component", "a:B:2:Linux:1"]].concat(),
            "two components have the id \"a\"",
        ),
        (
            [&base[..], &one, &["--defect", "wrong-model"]].concat(),
            "wrong-model",
        ),
        (
            [&base[..], &one, &["--defect", "corrupt:2"]].concat(),
            "no component 2",
        ),
        ([&base[..], &one, &["--size", "1KiB"]].concat(), "--size"),
        ([&base[..], &one, &["--model", "SIM-1"]].concat(), "--model"),
        (
            vec![
                "package",
                "--pkg-id",
                "p",
                "--component",
                "a:A:1:L:1",
                "--out",
                out,
            ],
            "--delivery",
        ),
    ];
    for (args, says) in cases {
        let run = dmsim().args(&args).output().expect("runs");
        let err = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?} should mention {says}: {err}");
    }
    // 65 components are too many.
    let mut many = base.to_vec();
    let texts: Vec<String> = (0..65).map(|i| format!("c{i}:C:1:Linux:1")).collect();
    for t in &texts {
        many.extend(["--component", t.as_str()]);
    }
    let run = dmsim().args(&many).output().expect("runs");
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("1 to 64 components"));
    // Inspecting needs the device the package is for.
    let (file, _) = build_delivery_cli(dir.path(), "ok.pkg", &[]);
    let (code, text) = inspect_delivery_cli(&file, &["--model", "SIM-1", "--current", "1.0"]);
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("is a delivery package: --env-types"),
        "{text}"
    );
    let firmware = build_cli(dir.path(), "fw.pkg", &[]);
    let (code, text) = inspect_delivery_cli(&firmware, &["--env-types", "Linux"]);
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("is a firmware package: --model and --current"),
        "{text}"
    );
}
