//! Firmware packages from the outside: the committed test key, parsing that never panics
//! (proptest), every change to a package refused, and `dmsim package` as a user runs it.

use dmsim::outcome::Cause;
use dmsim::package::{
    self, build, build_defective, inspect, load_signing_key, load_verifying_key, test_signing_key,
    Defect, DeviceView, KeyError, PackageSpec, TEST_KEY_SEED,
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
    ] {
        assert!(help.contains(flag), "{flag} in {help}");
    }
}
