use super::*;
use crate::outcome::{Cause, Phase};

const ROOT: &str = r#"
name = "t"
[[code]]
code = 200
table = "fumo-result"
meaning = "ok"
outcomes = ["download.succeeded"]
"#;

fn parse(text: &str) -> Result<Profile, ProfileError> {
    Profile::parse(text, builtin)
}

#[test]
fn the_built_in_profiles_parse_and_layer() {
    let [oma, dmsim] = builtins();
    assert_eq!(oma.name(), "oma");
    assert!(oma.base().is_none());
    assert_eq!(dmsim.base().map(Profile::name), Some("oma"));
    assert_eq!(default_profile().name(), DEFAULT);
}

#[test]
fn every_reachable_outcome_has_its_flows_results_and_download_outcomes_a_dl_status() {
    for profile in builtins() {
        for &key in REACHABLE {
            if key.in_fumo() {
                let code = profile.fumo_result(key);
                assert!((200..600).contains(&code), "{key}: {code}");
            } else {
                assert!(profile.row(Table::FumoResult, key).is_none(), "{key}");
            }
            if key.in_scomo() {
                let code = profile.scomo_result_row(key).code;
                assert!((1200..1600).contains(&code), "{key}: {code}");
            } else {
                assert!(profile.row(Table::ScomoResult, key).is_none(), "{key}");
            }
            if key.0 == Phase::Download {
                let status = profile.dl_status(key).code();
                assert!((900..1000).contains(&status), "{key}: {status}");
            } else {
                assert!(profile.row(Table::DlStatus, key).is_none(), "{key}");
            }
        }
    }
}

/// The vendor codes replace OMA codes only for their outcomes; the rest falls through to `oma`.
#[test]
fn dmsim_overrides_oma_only_where_it_has_rows() {
    let oma = builtin("oma").unwrap();
    let dmsim = builtin("dmsim").unwrap();
    let not_found = Key(Phase::Download, Cause::NotFound);
    assert_eq!(oma.fumo_result(not_found), 411);
    assert_eq!(dmsim.fumo_result(not_found), 551);
    assert_eq!(dmsim.dl_status(not_found).code(), 954);
    let already = Key(Phase::Checks, Cause::AlreadyInstalled);
    assert_eq!(
        (oma.fumo_result(already), dmsim.fumo_result(already)),
        (200, 250)
    );
    let lost = Key(Phase::Download, Cause::ConnectionLost);
    assert_eq!((oma.fumo_result(lost), dmsim.fumo_result(lost)), (503, 503));
}

#[test]
fn a_root_profile_must_map_every_outcome() {
    let err = parse(ROOT).unwrap_err();
    assert!(
        matches!(
            err,
            ProfileError::Unmapped {
                table: Table::FumoResult,
                ..
            }
        ),
        "{err}"
    );
    // The same rows on a base are fine.
    let layered = parse(&format!("base = \"oma\"\n{ROOT}")).expect("layered");
    assert_eq!(
        layered.fumo_result(Key(Phase::Download, Cause::Succeeded)),
        200
    );
    assert_eq!(
        layered.fumo_result(Key(Phase::Install, Cause::VerifyFailed)),
        410
    );
}

#[test]
fn every_bad_row_is_refused_naming_it() {
    let layered = |row: &str| parse(&format!("name = \"t\"\nbase = \"oma\"\n[[code]]\n{row}"));
    let cases: &[(&str, &str)] = &[
        ("code = 1\ntable = \"nope\"\nmeaning = \"\"", "unknown table"),
        ("code = 700\ntable = \"fumo-result\"\nmeaning = \"\"\noutcomes = [\"download.succeeded\"]", "not a code of fumo-result"),
        ("code = 450\ntable = \"fumo-result\"\nmeaning = \"\"", "must name the outcomes"),
        ("code = 10\ntable = \"fumo-state\"\nmeaning = \"\"\noutcomes = [\"download.succeeded\"]", "fixed by the protocol"),
        ("code = 11\ntable = \"fumo-state\"\nmeaning = \"\"", "not a code of fumo-state"),
        ("code = 299\ntable = \"syncml-status\"\nmeaning = \"\"", "not a code of syncml-status"),
        ("code = 450\ntable = \"fumo-result\"\nmeaning = \"\"\noutcomes = [\"download.nope\"]", "not a way a flow can end"),
        ("code = 450\ntable = \"fumo-result\"\nmeaning = \"\"\noutcomes = [\"start.succeeded\"]", "not a way a flow can end"),
        ("code = 950\ntable = \"dl-status\"\nmeaning = \"\"\noutcomes = [\"install.verify-failed\"]", "has no codes for install.verify-failed"),
        ("code = 450\ntable = \"fumo-result\"\nmeaning = \"\"\noutcomes = [\"start.roaming\", \"start.roaming\"]", "already reported"),
        ("code = 450\ntable = \"fumo-result\"\nmeaning = \"\"\noutcomes = [\"start.roaming\"]\n[[code]]\ncode = 450\ntable = \"fumo-result\"\nmeaning = \"\"\noutcomes = [\"checks.battery-low\"]", "appears twice"),
        ("code = 450\ntable = \"fumo-result\"\nmeaning = \"\"\noutcome = [\"start.roaming\"]", "unknown field"),
    ];
    for (row, expected) in cases {
        let err = layered(row).expect_err(row).to_string();
        assert!(err.contains(expected), "{row}: {err}");
        if !expected.starts_with("unknown field") {
            assert!(err.contains("[[code]] #"), "{err}");
        }
    }
    let err = parse("name = \"t\"\nbase = \"knox\"\n").unwrap_err();
    assert_eq!(err, ProfileError::UnknownBase("knox".into()));
}
