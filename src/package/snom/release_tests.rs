//! [`build_release`]: the files of a version, and every [`Defect`] seen by the parsers as the
//! module docs say.

use super::dirlist::{self, DirListError, SyntaxReason};
use super::fwu::{self, Fwu, FwuError, Part};
use super::{build_release, Defect, FwuDefect, Release, ReleaseError, ReleaseSpec, DIRLIST_FILE};

fn small(defect: Option<Defect>) -> Release {
    let spec = ReleaseSpec {
        gateway_size: 200,
        handset_size: 100,
        also: vec!["0805".into()],
        defect,
        ..ReleaseSpec::new("0790")
    };
    build_release(&spec).expect("builds")
}

fn gateway(release: &Release) -> &[u8] {
    release.file("m3Gw_fr01_v0790.fwu").expect("gateway file")
}

#[test]
fn a_good_release_parses_everywhere() {
    let release = small(None);
    let names: Vec<&str> = release.files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            DIRLIST_FILE,
            "m3Gw_fr01_v0790.fwu",
            "m3Pp_fr01_v0790.fwu",
            "m3Gw_fr01_v0805.fwu",
            "m3Pp_fr01_v0805.fwu"
        ]
    );
    let list = dirlist::parse_bytes(release.file(DIRLIST_FILE).expect("DirList")).expect("parses");
    assert_eq!(list.versions().len(), 2);
    for version in list.versions() {
        assert_eq!(version.name, super::display_name(&version.number));
        for part in Part::ALL {
            let listed = version.file(part);
            let fwu = Fwu::parse(release.file(&listed.file).expect("built")).expect("parses");
            assert_eq!(fwu.header.part, part);
            assert_eq!(fwu.header.version, version.number);
            assert_eq!(fwu.header.language, "fr01");
            assert_eq!(fwu.header.body_size, listed.size);
            assert_eq!(fwu.body, fwu::body(0, &version.number, part, listed.size));
        }
    }
    assert_eq!(small(None), release, "deterministic");
}

#[test]
fn parser_defects_give_their_errors() {
    let gw = |d| Some(Defect::Fwu(d, Part::Gateway));
    assert_eq!(
        fwu::parse(gateway(&small(gw(FwuDefect::BadMagic)))),
        Err(FwuError::BadMagic)
    );
    assert_eq!(
        fwu::parse(gateway(&small(gw(FwuDefect::BadChecksum)))),
        Err(FwuError::BadChecksum)
    );
    assert_eq!(
        fwu::parse(gateway(&small(gw(FwuDefect::Truncated)))),
        Err(FwuError::Truncated {
            expected: 264,
            actual: 164
        })
    );
    assert_eq!(
        fwu::parse(gateway(&small(gw(FwuDefect::TrailingBytes)))),
        Err(FwuError::WrongSize {
            declared: 200,
            actual: 216
        })
    );
}

#[test]
fn device_defects_parse_but_say_something_else() {
    let header = |d| fwu::parse(gateway(&small(Some(Defect::Fwu(d, Part::Gateway))))).unwrap();
    assert_eq!(header(FwuDefect::WrongPart).part, Part::Handset);
    assert_eq!(header(FwuDefect::WrongVersion).version, "0791");
    assert_eq!(header(FwuDefect::WrongLanguage).language, "xx99");
}

#[test]
fn a_defect_breaks_only_its_part_of_the_first_version() {
    let release = small(Some(Defect::Fwu(FwuDefect::BadMagic, Part::Handset)));
    let good = small(None);
    for (name, bytes) in &release.files {
        let broken = name == "m3Pp_fr01_v0790.fwu";
        assert_eq!(bytes != good.file(name).unwrap(), broken, "{name}");
    }
    assert_eq!(
        fwu::parse(release.file("m3Pp_fr01_v0790.fwu").unwrap()),
        Err(FwuError::BadMagic)
    );
}

#[test]
fn dirlist_defects() {
    let text = |d| small(Some(d)).file(DIRLIST_FILE).unwrap().to_vec();
    assert!(matches!(
        dirlist::parse_bytes(&text(Defect::DirListSyntax)),
        Err(DirListError::Syntax {
            reason: SyntaxReason::NotKeyValue,
            ..
        })
    ));
    assert_eq!(
        dirlist::parse_bytes(&text(Defect::DirListFormat)),
        Err(DirListError::UnknownFormat {
            found: "dmsim-m3-dirlist/2".into()
        })
    );
}

#[test]
fn defects_with_empty_bodies_still_break() {
    for d in [FwuDefect::BadChecksum, FwuDefect::Truncated] {
        let spec = ReleaseSpec {
            gateway_size: 0,
            defect: Some(Defect::Fwu(d, Part::Gateway)),
            ..ReleaseSpec::new("0790")
        };
        let release = build_release(&spec).expect("builds");
        assert!(fwu::parse(gateway(&release)).is_err(), "{d:?}");
    }
}

#[test]
fn defect_names() {
    for d in FwuDefect::ALL {
        for part in Part::ALL {
            let defect = Defect::Fwu(d, part);
            assert_eq!(defect.to_string().parse::<Defect>(), Ok(defect));
        }
        assert_eq!(
            format!("{}:gw", d.as_str()).parse::<Defect>(),
            Ok(Defect::Fwu(d, Part::Gateway))
        );
    }
    for d in [Defect::DirListSyntax, Defect::DirListFormat] {
        assert_eq!(d.to_string().parse::<Defect>(), Ok(d));
    }
    assert!("corrupt".parse::<Defect>().unwrap_err().contains("known"));
    assert!("bad-magic:xx".parse::<Defect>().is_err());
}

#[test]
fn bad_specs() {
    let spec = |f: fn(&mut ReleaseSpec)| {
        let mut s = ReleaseSpec::new("0790");
        f(&mut s);
        build_release(&s)
    };
    assert_eq!(
        spec(|s| s.version = "790".into()),
        Err(ReleaseError::BadVersion("790".into()))
    );
    assert_eq!(
        spec(|s| s.also = vec!["x".into()]),
        Err(ReleaseError::BadVersion("x".into()))
    );
    assert_eq!(
        spec(|s| s.language = "fr".into()),
        Err(ReleaseError::BadLanguage("fr".into()))
    );
    assert_eq!(
        spec(|s| s.link_date = "2406".into()),
        Err(ReleaseError::BadLinkDate("2406".into()))
    );
    assert_eq!(
        spec(|s| s.also = vec!["0790".into()]),
        Err(ReleaseError::DirList(SyntaxReason::DuplicateVersion {
            number: "0790".into()
        }))
    );
}
