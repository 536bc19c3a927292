//! Snom m3's DirList and `.fwu` formats from the outside: parsing never panics on arbitrary input
//! (proptest), anything built parses back, and `dmsim package --family snom-m3` as a user runs it.

use dmsim::package::snom::{
    self, dirlist, fwu, DirList, DirListError, FileRef, Fwu, FwuError, Part, Version,
};
use proptest::prelude::*;
use std::path::PathBuf;
use std::process::Command;

fn version_strategy() -> impl Strategy<Value = Version> {
    let file = |part: &'static str| {
        (
            "[A-Za-z0-9_-]{0,20}",
            any::<u32>(),
            0u32..100,
            1u32..13,
            1u32..32,
            0u32..24,
            0u32..60,
        )
            .prop_map(move |(stem, size, y, mo, d, h, mi)| FileRef {
                file: format!("m3{part}{stem}.fwu"),
                size,
                link_date: format!("{y:02}{mo:02}{d:02}{h:02}{mi:02}"),
            })
    };
    (
        "[0-9]{4}",
        "[A-Za-z0-9][A-Za-z0-9 .()-]{0,40}[A-Za-z0-9.]",
        file("Gw"),
        file("Pp"),
        prop::collection::btree_set("[a-z]{2}[0-9]{2}", 1..=16),
        any::<bool>(),
    )
        .prop_map(
            |(number, name, gateway, handset, languages, requires_both)| Version {
                number,
                name,
                gateway,
                handset,
                languages: languages.into_iter().collect(),
                requires_both,
            },
        )
}

proptest! {
    #[test]
    fn dirlist_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = dirlist::parse_bytes(&bytes);
    }

    #[test]
    fn dirlist_text_never_panics(text in any::<String>()) {
        let _ = dirlist::parse(&text);
    }

    #[test]
    fn dirlist_lines_after_a_format_line_are_syntax_or_valid(
        lines in prop::collection::vec("[\\[\\]a-z0-9 =#.\t\r_-]{0,40}", 0..12)
    ) {
        let text = format!("format = {}\n{}", dirlist::FORMAT, lines.join("\n"));
        let result = dirlist::parse(&text);
        prop_assert!(!matches!(result, Err(DirListError::UnknownFormat { .. })), "{result:?}");
    }

    #[test]
    fn any_dirlist_round_trips(versions in prop::collection::vec(version_strategy(), 0..6)) {
        let mut unique = versions;
        unique.sort_by(|a, b| a.number.cmp(&b.number));
        unique.dedup_by(|a, b| a.number == b.number);
        let list = DirList::new(unique).expect("valid versions");
        prop_assert_eq!(dirlist::parse(&list.to_text()), Ok(list));
    }

    #[test]
    fn fwu_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = fwu::parse(&bytes);
    }

    #[test]
    fn fwu_any_header_with_any_tail_never_panics(
        header in prop::collection::vec(any::<u8>(), 56),
        tail in prop::collection::vec(any::<u8>(), 0..100),
    ) {
        let bytes = [fwu::MAGIC.as_slice(), &header, &tail].concat();
        let _ = fwu::parse(&bytes);
    }

    #[test]
    fn fwu_round_trips(
        gateway in any::<bool>(),
        version in "[0-9]{4}",
        language in "[a-z]{2}[0-9]{2}",
        body in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        let part = if gateway { Part::Gateway } else { Part::Handset };
        let bytes = Fwu::build(part, &version, &language, &body).expect("valid fields");
        let fwu = Fwu::parse(&bytes).expect("parses");
        prop_assert_eq!(fwu.header.part, part);
        prop_assert_eq!(&fwu.header.version, &version);
        prop_assert_eq!(&fwu.header.language, &language);
        prop_assert_eq!(fwu.body, body.as_slice());
    }

    #[test]
    fn every_single_byte_change_of_a_fwu_is_refused_or_seen(
        index in 0usize..164, flip in 1u8..=255
    ) {
        let good = Fwu::build(Part::Gateway, "0790", "fr01", &[7u8; 100]).expect("builds");
        let mut bytes = good.clone();
        bytes[index] ^= flip;
        // Only the part, version and language can change and still parse; the base sees them.
        if let Ok(fwu) = Fwu::parse(&bytes) {
            prop_assert_ne!(
                (fwu.header.part, fwu.header.version, fwu.header.language),
                (Part::Gateway, "0790".to_string(), "fr01".to_string())
            );
        }
    }
}

fn dmsim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_dmsim"))
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dmsim-snom-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn package(dir: &PathBuf, extra: &[&str]) -> std::process::Output {
    dmsim()
        .args([
            "package",
            "--family",
            "snom-m3",
            "--version",
            "0790",
            "--out",
        ])
        .arg(dir)
        .args(["--size-gw", "4KiB", "--size-pp", "3000"])
        .args(extra)
        .output()
        .expect("runs")
}

#[test]
fn package_family_snom_m3_writes_files_the_parsers_accept() {
    let dir = temp_dir("good");
    let out = package(
        &dir,
        &["--also", "0805", "--language", "de01", "--requires-both"],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let list = dirlist::parse_bytes(&std::fs::read(dir.join("DirList.txt")).expect("DirList"))
        .expect("parses");
    assert_eq!(
        list.versions()
            .iter()
            .map(|v| v.number.as_str())
            .collect::<Vec<_>>(),
        ["0790", "0805"]
    );
    for version in list.versions() {
        assert!(version.requires_both);
        assert_eq!(version.languages, ["de01"]);
        for part in Part::ALL {
            let listed = version.file(part);
            assert_eq!(listed.file, part.file_name("de01", &version.number));
            let bytes = std::fs::read(dir.join(&listed.file)).expect("written");
            let header = fwu::parse(&bytes).expect("parses");
            assert_eq!(header.part, part);
            assert_eq!(header.version, version.number);
            assert_eq!(header.language, "de01");
            assert_eq!(header.body_size, listed.size);
        }
    }
    assert_eq!(list.version("0790").unwrap().gateway.size, 4096);
    assert_eq!(list.version("0790").unwrap().handset.size, 3000);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("m3Pp_de01_v0805.fwu (3064 bytes)"),
        "{stdout}"
    );
}

#[test]
fn package_defects_are_refused_with_the_right_variant() {
    let dir = temp_dir("checksum");
    let out = package(&dir, &["--defect", "bad-checksum:pp"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let read = |name: &str| std::fs::read(dir.join(name)).expect("written");
    assert!(fwu::parse(&read("m3Gw_fr01_v0790.fwu")).is_ok());
    assert_eq!(
        fwu::parse(&read("m3Pp_fr01_v0790.fwu")),
        Err(FwuError::BadChecksum)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Code 7"));

    let dir = temp_dir("format");
    let out = package(&dir, &["--defect", "dirlist-format"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = std::fs::read(dir.join(snom::DIRLIST_FILE)).expect("written");
    assert!(matches!(
        dirlist::parse_bytes(&text),
        Err(DirListError::UnknownFormat { .. })
    ));

    let dir = temp_dir("syntax");
    assert_eq!(
        package(&dir, &["--defect", "dirlist-syntax"]).status.code(),
        Some(0)
    );
    let text = std::fs::read(dir.join(snom::DIRLIST_FILE)).expect("written");
    assert!(matches!(
        dirlist::parse_bytes(&text),
        Err(DirListError::Syntax { .. })
    ));
}

#[test]
fn package_family_snom_m3_refuses_bad_flags_with_exit_2() {
    let dir = temp_dir("bad");
    for extra in [
        &["--defect", "corrupt"][..],
        &["--language", "french"],
        &["--also", "80"],
        &["--model", "SIM-1"],
    ] {
        let out = package(&dir, extra);
        assert_eq!(out.status.code(), Some(2), "{extra:?}");
    }
}
