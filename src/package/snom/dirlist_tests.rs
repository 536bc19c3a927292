//! The DirList text: parse → text → parse, and every [`DirListError`] and [`SyntaxReason`] from
//! the text that causes it.

use super::dirlist::{
    parse, parse_bytes, DirList, DirListError, FileRef, SyntaxReason, Version, FORMAT, MAX_LEN,
    MAX_VERSIONS,
};

const EXAMPLE: &str = "\u{feff}# dmsim DirList for Snom m3\r
format = dmsim-m3-dirlist/1\r
\r
[0790]                       # one section per version\r
name = m3 v07.90\r
gateway = m3Gw_fr01_v0790.fwu 524288 2406121030   # file, size, link date\r
handset = m3Pp_fr01_v0790.fwu 393216 2406121030\r
languages = fr01 de01\r
requires = both\r
[0805]\r
handset =  m3Pp_fr01_v0805.fwu\t400000  2501010000\r
name=m3 v08.05\r
gateway=m3Gw_fr01_v0805.fwu 600000 2501010000\r
languages=fr01\r
";

fn syntax(text: &str) -> (usize, SyntaxReason) {
    match parse(text) {
        Err(DirListError::Syntax { line, reason }) => (line, reason),
        other => panic!("expected a syntax error, got {other:?}"),
    }
}

fn unknown(text: &str) -> String {
    match parse(text) {
        Err(DirListError::UnknownFormat { found }) => found,
        other => panic!("expected an unknown format, got {other:?}"),
    }
}

/// A valid DirList with `line` added at the end of its only section (line 8).
fn with_line(line: &str) -> String {
    format!(
        "format = {FORMAT}\n[0790]\nname = a\ngateway = a.fwu 1 2406121030\n\
         handset = b.fwu 2 2406121030\nlanguages = fr01\n{line}\n"
    )
}

#[test]
fn the_example_parses() {
    let list = parse(EXAMPLE).expect("parses");
    assert_eq!(list.versions().len(), 2);
    let v = list.version("0790").expect("listed");
    assert_eq!(v.name, "m3 v07.90");
    assert_eq!(
        v.gateway,
        FileRef {
            file: "m3Gw_fr01_v0790.fwu".into(),
            size: 524288,
            link_date: "2406121030".into()
        }
    );
    assert_eq!(v.handset.size, 393216);
    assert_eq!(v.languages, ["fr01", "de01"]);
    assert!(v.requires_both);
    let w = list.version("0805").expect("listed");
    assert_eq!(w.handset.file, "m3Pp_fr01_v0805.fwu");
    assert_eq!(w.handset.size, 400000);
    assert!(!w.requires_both);
    assert!(list.version("0791").is_none());
}

#[test]
fn to_text_round_trips() {
    let list = parse(EXAMPLE).expect("parses");
    let text = list.to_text();
    assert!(text.starts_with("# dmsim DirList for Snom m3\nformat = dmsim-m3-dirlist/1\n"));
    assert_eq!(parse(&text), Ok(list.clone()));
    assert_eq!(DirList::new(list.versions().to_vec()), Ok(list));
}

#[test]
fn an_empty_list_of_versions_is_valid() {
    assert_eq!(
        parse(&format!("format = {FORMAT}\n")),
        Ok(DirList::default())
    );
}

#[test]
fn the_first_line_decides_the_format() {
    assert_eq!(unknown(""), "");
    assert_eq!(unknown("# only comments\n\n   \n"), "");
    assert_eq!(unknown("<!DOCTYPE html>\n<html>"), "<!DOCTYPE html>");
    assert_eq!(
        unknown("format = dmsim-m3-dirlist/2\n[0790]"),
        "dmsim-m3-dirlist/2"
    );
    assert_eq!(unknown("format = snom-dirlist\n"), "snom-dirlist");
    assert_eq!(
        unknown("FORMAT = dmsim-m3-dirlist/1\n"),
        "FORMAT = dmsim-m3-dirlist/1"
    );
    // This format's own sections without the format line first: not a list the base knows.
    assert_eq!(
        unknown(&with_line("").replacen("format", "# format", 1)),
        "[0790]"
    );
    assert_eq!(unknown(&"x".repeat(500)).len(), 80);
}

#[test]
fn after_the_format_line_malformed_text_is_syntax() {
    assert_eq!(syntax(&with_line("<html>")), (7, SyntaxReason::NotKeyValue));
    assert_eq!(syntax(&with_line("= x")), (7, SyntaxReason::NotKeyValue));
    assert_eq!(syntax(&with_line("[790]")), (7, SyntaxReason::BadSection));
    assert_eq!(syntax(&with_line("[07900]")), (7, SyntaxReason::BadSection));
    assert_eq!(syntax(&with_line("[0790")), (7, SyntaxReason::BadSection));
    assert_eq!(
        syntax(&with_line("colour = red")),
        (
            7,
            SyntaxReason::UnknownKey {
                key: "colour".into()
            }
        )
    );
    assert_eq!(
        syntax(&with_line("format = dmsim-m3-dirlist/1")),
        (
            7,
            SyntaxReason::UnknownKey {
                key: "format".into()
            }
        )
    );
    assert_eq!(
        syntax(&with_line("name = b")),
        (7, SyntaxReason::DuplicateKey { key: "name" })
    );
}

#[test]
fn keys_before_the_first_section() {
    assert_eq!(
        syntax(&format!("format = {FORMAT}\nname = x\n")),
        (2, SyntaxReason::KeyOutsideSection { key: "name".into() })
    );
}

#[test]
fn a_version_listed_twice() {
    let text = with_line("[0790]");
    assert_eq!(
        syntax(&text),
        (
            7,
            SyntaxReason::DuplicateVersion {
                number: "0790".into()
            }
        )
    );
}

#[test]
fn missing_keys_name_the_section() {
    for key in ["name", "gateway", "handset", "languages"] {
        let text = with_line("")
            .lines()
            .filter(|l| !l.starts_with(key))
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(
            syntax(&text),
            (
                2,
                SyntaxReason::MissingKey {
                    number: "0790".into(),
                    key
                }
            ),
            "{key}"
        );
    }
    // The missing key of a section followed by another is found at the next header.
    let text = format!("format = {FORMAT}\n[0001]\n[0002]\n");
    assert!(matches!(
        syntax(&text),
        (2, SyntaxReason::MissingKey { key: "name", .. })
    ));
}

#[test]
fn bad_values() {
    let bad = |key| SyntaxReason::BadValue { key, expected: "" };
    let cases = [
        ("gateway = a.fwu 1", "gateway"),
        ("gateway = a.fwu 1 2406121030 x", "gateway"),
        ("gateway = a.bin 1 2406121030", "gateway"),
        ("gateway = .fwu 1 2406121030", "gateway"),
        ("gateway = ../a.fwu 1 2406121030", "gateway"),
        ("gateway = a.fwu -1 2406121030", "gateway"),
        ("gateway = a.fwu +1 2406121030", "gateway"),
        ("gateway = a.fwu 4294967296 2406121030", "gateway"),
        ("gateway = a.fwu 1 2413121030", "gateway"),
        ("gateway = a.fwu 1 2406001030", "gateway"),
        ("gateway = a.fwu 1 2406122430", "gateway"),
        ("gateway = a.fwu 1 2406121060", "gateway"),
        ("gateway = a.fwu 1 240612103", "gateway"),
        ("languages = fr01 fr01", "languages"),
        ("languages = FR01", "languages"),
        ("languages =", "languages"),
        ("requires = handset", "requires"),
        ("name =", "name"),
    ];
    for (line, key) in cases {
        let text = with_line("").replace(&format!("{key} ="), "# was");
        let text = format!("{text}{line}\n");
        match syntax(&text) {
            (8, SyntaxReason::BadValue { key: k, .. }) => assert_eq!(k, key, "{line}"),
            other => panic!("{line}: {other:?} (expected {:?})", bad(key)),
        }
    }
    let long_name = format!("name = {}", "n".repeat(65));
    let text = with_line("").replace("name =", "# was") + &long_name;
    assert!(matches!(
        syntax(&text),
        (8, SyntaxReason::BadValue { key: "name", .. })
    ));
    let max = format!("gateway = a.fwu {} 9912312359", u32::MAX);
    let text = with_line("").replace("gateway =", "# was") + &max;
    assert_eq!(
        parse(&text).expect("parses").versions()[0].gateway.size,
        u32::MAX
    );
}

#[test]
fn too_long_and_too_many() {
    let long = format!("format = {FORMAT}\n{}", "#".repeat(MAX_LEN));
    assert_eq!(
        syntax(&long),
        (0, SyntaxReason::TooLong { len: long.len() })
    );
    assert_eq!(
        parse_bytes(long.as_bytes()),
        Err(DirListError::Syntax {
            line: 0,
            reason: SyntaxReason::TooLong { len: long.len() }
        })
    );
    let mut text = format!("format = {FORMAT}\n");
    let section = |n: usize| {
        format!(
            "[{n:04}]\nname = v\ngateway = g.fwu 1 2406121030\nhandset = h.fwu 1 2406121030\n\
             languages = fr01\n"
        )
    };
    for n in 0..MAX_VERSIONS {
        text.push_str(&section(n));
    }
    assert_eq!(parse(&text).expect("parses").versions().len(), MAX_VERSIONS);
    text.push_str(&section(MAX_VERSIONS));
    assert_eq!(
        syntax(&text),
        (2 + 5 * MAX_VERSIONS, SyntaxReason::TooManyVersions)
    );
}

#[test]
fn bytes_that_are_not_utf8_are_syntax_at_their_line() {
    let mut bytes = format!("format = {FORMAT}\n[0790]\nname = ").into_bytes();
    bytes.extend_from_slice(&[0xff, 0xfe, b'\n']);
    assert_eq!(
        parse_bytes(&bytes),
        Err(DirListError::Syntax {
            line: 3,
            reason: SyntaxReason::NotUtf8
        })
    );
    assert_eq!(
        parse_bytes(EXAMPLE.as_bytes()),
        parse(EXAMPLE),
        "valid bytes parse as text"
    );
}

#[test]
fn new_checks_what_parse_checks() {
    let list = parse(EXAMPLE).expect("parses");
    let v = list.versions()[0].clone();
    let mut twice = vec![v.clone(), v.clone()];
    assert_eq!(
        DirList::new(twice.clone()),
        Err(SyntaxReason::DuplicateVersion {
            number: "0790".into()
        })
    );
    twice.truncate(1);
    let mut bad: Version = v.clone();
    bad.number = "79".into();
    assert_eq!(DirList::new(vec![bad]), Err(SyntaxReason::BadSection));
    let mut bad = v.clone();
    bad.name = " padded".into();
    assert!(matches!(
        DirList::new(vec![bad]),
        Err(SyntaxReason::BadValue { key: "name", .. })
    ));
    let mut bad = v.clone();
    bad.gateway.file = "a b.fwu".into();
    assert!(matches!(
        DirList::new(vec![bad]),
        Err(SyntaxReason::BadValue { key: "gateway", .. })
    ));
    let mut bad = v.clone();
    bad.handset.link_date = "0".into();
    assert!(matches!(
        DirList::new(vec![bad]),
        Err(SyntaxReason::BadValue { key: "handset", .. })
    ));
    let mut bad = v;
    bad.languages = vec!["fr01 de01".into()];
    assert!(matches!(
        DirList::new(vec![bad]),
        Err(SyntaxReason::BadValue {
            key: "languages",
            ..
        })
    ));
    let many = (0..=MAX_VERSIONS)
        .map(|n| Version {
            number: format!("{n:04}"),
            ..twice[0].clone()
        })
        .collect();
    assert_eq!(DirList::new(many), Err(SyntaxReason::TooManyVersions));
}
