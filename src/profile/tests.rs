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
    let [oma, dmsim, knox, snom] = builtins();
    assert_eq!(oma.name(), "oma");
    assert!(snom.base().is_none());
    assert!(oma.base().is_none());
    assert_eq!(dmsim.base().map(Profile::name), Some("oma"));
    assert_eq!(knox.base().map(Profile::name), Some("oma"));
    assert_eq!(default_profile().name(), DEFAULT);
}

#[test]
fn every_reachable_outcome_has_its_flows_results_and_download_outcomes_a_dl_status() {
    // The DM profiles (snom-m3 has its own table alone: see the test below).
    for profile in builtins().into_iter().filter(|p| p.name() != "snom-m3") {
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

/// The Snom m3 profile maps every outcome of the base's update to one display code 0-12, each code
/// once, and has no OMA table; the DM profiles have no `snom-m3` row.
#[test]
fn snom_m3_maps_every_outcome_of_its_update_to_a_display_code() {
    let snom = builtin("snom-m3").expect("built in");
    let mut codes: Vec<i64> = snom.rows().iter().map(|r| r.code).collect();
    codes.sort_unstable();
    assert_eq!(codes, (0..=12).collect::<Vec<i64>>());
    assert!(snom.rows().iter().all(|r| r.table == Table::SnomM3));
    for &key in REACHABLE {
        let row = snom.snom_row(key);
        assert_eq!(row.is_some(), key.in_snom(), "{key}");
        for other in builtins().into_iter().filter(|p| p.name() != "snom-m3") {
            assert!(other.snom_row(key).is_none(), "{}: {key}", other.name());
        }
    }
    let code = |key: &str| snom.snom_row(Key::parse(key).unwrap()).unwrap().code;
    assert_eq!(code("update.succeeded"), 0);
    assert_eq!(code("download.authentication-failed"), 12);
    assert_eq!(code("download.not-found"), 3);
    assert_eq!(code("download.timeout"), 5);
    assert_eq!(code("download.server-error"), 2);
    assert_eq!(code("update.name-lookup-failed"), 11);
    // A root profile of the snom-m3 table must map all of it, and only its outcomes.
    let one = "name = \"t\"\n[[code]]\ncode = 0\ntable = \"snom-m3\"\nmeaning = \"\"\noutcomes = [\"update.succeeded\"]\n";
    let err = parse(one).unwrap_err();
    assert!(
        matches!(
            err,
            ProfileError::Unmapped {
                table: Table::SnomM3,
                ..
            }
        ),
        "{err}"
    );
    let wrong = "name = \"t\"\nbase = \"snom-m3\"\n[[code]]\ncode = 1\ntable = \"snom-m3\"\nmeaning = \"\"\noutcomes = [\"install.write-failed\"]\n";
    assert!(parse(wrong)
        .unwrap_err()
        .to_string()
        .contains("has no codes for install.write-failed"));
    let big = "name = \"t\"\nbase = \"snom-m3\"\n[[code]]\ncode = 13\ntable = \"snom-m3\"\nmeaning = \"\"\noutcomes = [\"update.too-big\"]\n";
    assert!(parse(big)
        .unwrap_err()
        .to_string()
        .contains("not a code of snom-m3"));
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

/// Every ending of a FUMO or SCOMO flow on a knox-efota device has an E-FOTA code: the row that
/// names the outcome, or the one that reports the OMA code the device sent again (reference §10).
#[test]
fn every_fumo_and_scomo_ending_of_a_knox_device_has_an_efota_code() {
    let knox = builtin("knox-efota").unwrap();
    for platform in [Platform::Android, Platform::Ios] {
        for &key in REACHABLE {
            let mut reports = Vec::new();
            if key.in_fumo() {
                reports.push((Table::FumoResult, knox.fumo_result_row(key).code));
            }
            if key.in_scomo() {
                reports.push((Table::ScomoResult, knox.scomo_result_row(key).code));
            }
            for oma in reports {
                assert!(
                    knox.vendor_row(Table::KnoxEfota, Some(key), Some(oma), platform)
                        .is_some(),
                    "{key} reported as {} {} on {}: no knox-efota code",
                    oma.0,
                    oma.1,
                    platform.as_str()
                );
            }
        }
    }
}

/// E-FOTA codes reported from an OMA code the relation does not give, because the seed has no
/// code of that form and its words name the same ending: -5334 "a general device error" for the
/// SCOMO 1412 "Undefined Error".
const WORDS_OVER_RELATION: &[i64] = &[-5334];

/// The relation of reference §10 where the seed's words agree: -(2000 + FUMO result),
/// -(SCOMO result), -(6000 + SyncML status), and OMA Download statuses as they are. The FUMO
/// results of the range OMA leaves to vendors for client errors (450-499) are negated as they are,
/// as the seed's -450 (the user's response timed out), -453 (the installation conditions did) and
/// -454 show: its -24xx are the OMA results, its -45x the firmware client's vendor ones.
#[test]
fn the_knox_relation_to_oma_codes_holds_where_it_is_used() {
    let knox = builtin("knox-efota").unwrap();
    let code = |table, oma| {
        knox.vendor_row(
            Table::KnoxEfota,
            None,
            Some((table, oma)),
            Platform::Android,
        )
        .map(|r| r.code)
    };
    assert_eq!(code(Table::FumoResult, 402), Some(-2402));
    assert_eq!(code(Table::FumoResult, 404), Some(-2404));
    assert_eq!(code(Table::FumoResult, 502), Some(-2502));
    assert_eq!(code(Table::FumoResult, 450), Some(-450));
    assert_eq!(code(Table::FumoResult, 453), Some(-453));
    assert_eq!(code(Table::ScomoResult, 1447), Some(-1447));
    assert_eq!(code(Table::ScomoResult, 1453), Some(-1453));
    assert_eq!(code(Table::ScomoResult, 1407), Some(-1407));
    assert_eq!(code(Table::ScomoResult, 1413), Some(-1413));
    assert_eq!(code(Table::SyncmlStatus, 404), Some(-6404));
    assert_eq!(code(Table::SyncmlStatus, 516), Some(-6516));
    assert_eq!(code(Table::DlStatus, 905), Some(905));
    for row in knox.rows().iter().filter(|r| r.table == Table::KnoxEfota) {
        for &(table, oma) in &row.from {
            // FUMO 503 is the seed's positive 503 itself, as DL statuses are.
            let expected = match table {
                Table::FumoResult if (450..=499).contains(&oma) => -oma,
                Table::FumoResult if oma != 503 => -(2000 + oma),
                Table::ScomoResult => -oma,
                Table::SyncmlStatus => -(6000 + oma),
                _ => oma,
            };
            if table == Table::FumoResult && oma == 200 {
                assert_eq!(row.code, 0, "FUMO success is E-FOTA success");
            } else if row.platform.is_none() && !WORDS_OVER_RELATION.contains(&row.code) {
                assert_eq!(row.code, expected, "{} from {table} {oma}", row.code);
            }
        }
    }
}

/// A platform's own row wins over the row for every platform; a row naming the outcome wins over
/// the relation.
#[test]
fn vendor_rows_prefer_the_platform_and_the_outcome() {
    let text = r#"
name = "v"
base = "oma"
[[code]]
code = -1405
table = "knox-efota"
meaning = "install failed"
from = ["scomo-result 1405"]
[[code]]
code = -1001
table = "knox-efota"
meaning = "app install failed"
from = ["scomo-result 1405"]
platform = "ios"
[[code]]
code = -5400
table = "knox-efota"
meaning = "not ready"
outcomes = ["install.component-failed"]
"#;
    let p = parse(text).unwrap();
    let failed = Key(Phase::Install, Cause::ComponentFailed);
    let oma = Some((Table::ScomoResult, 1405));
    let code = |key, platform| {
        p.vendor_row(Table::KnoxEfota, key, oma, platform)
            .map(|r| r.code)
    };
    assert_eq!(code(None, Platform::Android), Some(-1405));
    assert_eq!(code(None, Platform::Ios), Some(-1001));
    assert_eq!(code(Some(failed), Platform::Ios), Some(-5400));
    assert_eq!(
        p.vendor_row(
            Table::KnoxEfota,
            None,
            Some((Table::ScomoResult, 1406)),
            Platform::Android
        ),
        None
    );
}

#[test]
fn vendor_rows_are_checked() {
    let row = |extra: &str| {
        format!("name = \"v\"\nbase = \"oma\"\n[[code]]\ncode = -1\ntable = \"knox-efota\"\nmeaning = \"m\"\n{extra}")
    };
    assert!(matches!(
        parse(&row("from = [\"fumo-result 99\"]")),
        Err(ProfileError::BadRelation { .. })
    ));
    assert!(matches!(
        parse(&row("from = [\"knox-efota 1\"]")),
        Err(ProfileError::BadRelation { .. })
    ));
    assert!(matches!(
        parse(&row("from = [\"fumo-result 402\", \"fumo-result 402\"]")),
        Err(ProfileError::DuplicateRelation { .. })
    ));
    assert!(parse(&row(
        "from = [\"fumo-result 402\"]\noutcomes = [\"install.wrong-model\"]"
    ))
    .is_ok());
    let oma_row = "name = \"v\"\nbase = \"oma\"\n[[code]]\ncode = 450\ntable = \"fumo-result\"\nmeaning = \"m\"\noutcomes = [\"checks.battery-low\"]\nplatform = \"ios\"";
    assert!(matches!(
        parse(oma_row),
        Err(ProfileError::NotAVendorReport { .. })
    ));
}

/// The endings of DM sessions have codes only in a vendor report table: oma has none, the
/// knox-efota client reports each (-2406, -2407, -5000) on both platforms.
#[test]
fn session_endings_have_only_vendor_report_codes() {
    let oma = builtin("oma").unwrap();
    let knox = builtin("knox-efota").unwrap();
    let sessions: Vec<Key> = REACHABLE
        .iter()
        .copied()
        .filter(|k| k.in_session())
        .collect();
    assert_eq!(sessions.len(), 3);
    for key in sessions {
        for table in [Table::FumoResult, Table::ScomoResult, Table::DlStatus] {
            assert!(!table.applies_to(key), "{table} {key}");
            assert!(oma.row(table, key).is_none());
        }
        assert!(Table::KnoxEfota.applies_to(key));
        for platform in [Platform::Android, Platform::Ios] {
            let row = knox
                .vendor_row(Table::KnoxEfota, Some(key), None, platform)
                .unwrap_or_else(|| panic!("{key}: no knox-efota code"));
            let expected = match key.1 {
                Cause::AuthenticationFailed => -2406,
                Cause::Timeout => -2407,
                _ => -5000,
            };
            assert_eq!(row.code, expected, "{key}");
        }
    }
    // A FUMO download's timeout is still -2407 through the relation, not the session's row.
    let download = Key(Phase::Download, Cause::Timeout);
    let row = knox
        .vendor_row(
            Table::KnoxEfota,
            Some(download),
            Some((Table::FumoResult, knox.fumo_result(download).into())),
            Platform::Android,
        )
        .unwrap();
    assert_eq!(row.code, -2407);
}

/// The conditions on jobs have the E-FOTA codes the seed's words give them: those that do not
/// depend on FUMO or SCOMO by their outcome (-5400, -5300, -5330), the others through the vendor
/// FUMO and SCOMO results a knox-efota device reports (SCOMO 1447, 1448, 1449, 1450, 1453; FUMO
/// 450, 453).
#[test]
fn the_conditions_on_jobs_have_their_knox_codes() {
    let knox = builtin("knox-efota").unwrap();
    let efota = |key: &str, fumo: bool| {
        let key = Key::parse(key).expect("a key");
        let oma = if fumo {
            (Table::FumoResult, knox.fumo_result_row(key).code)
        } else {
            (Table::ScomoResult, knox.scomo_result_row(key).code)
        };
        let row = knox.vendor_row(Table::KnoxEfota, Some(key), Some(oma), Platform::Android);
        (oma.1, row.map(|r| r.code))
    };
    for fumo in [true, false] {
        assert_eq!(efota("checks.device-locked", fumo).1, Some(-5400));
        assert_eq!(efota("start.not-ready", fumo).1, Some(-5300));
        assert_eq!(efota("start.no-inventory", fumo).1, Some(-5330));
    }
    assert_eq!(
        efota("start.transaction-in-progress", false),
        (1447, Some(-1447))
    );
    assert_eq!(efota("checks.services-busy", false), (1448, Some(-1448)));
    assert_eq!(efota("checks.services-busy", true), (400, Some(-2400)));
    assert_eq!(efota("start.roaming", false), (1449, Some(-1449)));
    assert_eq!(efota("checks.user-ignored", false), (1450, Some(-1450)));
    assert_eq!(efota("download.user-ignored", true), (450, Some(-450)));
    assert_eq!(
        efota("checks.conditions-timeout", false),
        (1453, Some(-1453))
    );
    assert_eq!(efota("checks.conditions-timeout", true), (453, Some(-453)));
    let oma = builtin("oma").unwrap();
    let locked = Key::parse("checks.device-locked").unwrap();
    assert_eq!(
        (oma.fumo_result(locked), oma.scomo_result_row(locked).code),
        (400, 1400)
    );
}

/// The checks of a package's bytes have the E-FOTA codes the seed's words give them, through the
/// vendor FUMO and SCOMO results a knox-efota device reports (FUMO 454; SCOMO 1451, 1454, 1455,
/// 1456, 1458, 1463, 1470, 1471, 1482), while `oma` reports the nearest OMA code.
#[test]
fn the_package_checks_have_their_knox_codes() {
    let knox = builtin("knox-efota").unwrap();
    let oma = builtin("oma").unwrap();
    let scomo = |key: &str| {
        let key = Key::parse(key).expect("a key");
        let code = knox.scomo_result_row(key).code;
        let row = knox.vendor_row(
            Table::KnoxEfota,
            Some(key),
            Some((Table::ScomoResult, code)),
            Platform::Android,
        );
        (oma.scomo_result_row(key).code, code, row.map(|r| r.code))
    };
    let downgrade = Key::parse("install.downgrade").unwrap();
    let fumo = knox.fumo_result_row(downgrade).code;
    let row = knox.vendor_row(
        Table::KnoxEfota,
        Some(downgrade),
        Some((Table::FumoResult, fumo)),
        Platform::Android,
    );
    assert_eq!(
        (oma.fumo_result(downgrade), fumo, row.map(|r| r.code)),
        (405, 454, Some(-454))
    );
    for (key, expected) in [
        ("install.downgrade", (1407, 1454, Some(-1454))),
        ("install.target-mismatch", (1407, 1455, Some(-1455))),
        ("install.package-expired", (1407, 1456, Some(-1456))),
        ("install.invalid-format", (1407, 1458, Some(-1458))),
        ("install.sub-device-missing", (1405, 1463, Some(-1463))),
        ("install.certificate-invalid", (1407, 1470, Some(-1470))),
        ("install.certificate-expired", (1407, 1471, Some(-1471))),
        ("checks.version-mismatch", (1400, 1482, Some(-1482))),
        ("checks.insufficient-storage", (1406, 1482, Some(-1482))),
        ("checks.prerequisite-missing", (1400, 1451, Some(-1451))),
    ] {
        assert_eq!(scomo(key), expected, "{key}");
    }
    // The dmsim profile keeps its own 1451 (roaming): the codes are the profile's.
    let dmsim = builtin("dmsim").unwrap();
    let prerequisite = Key::parse("checks.prerequisite-missing").unwrap();
    assert_eq!(dmsim.scomo_result_row(prerequisite).code, 1400);
}

/// The E-FOTA client's own flows (license, configuration, items) end in outcomes only the
/// `knox-efota` table maps: each has a row there naming it, on every platform, and no OMA table
/// takes them.
#[test]
fn every_efota_client_ending_has_an_efota_code_and_no_oma_code() {
    let knox = builtin("knox-efota").unwrap();
    let client: Vec<Key> = REACHABLE.iter().copied().filter(|k| k.in_efota()).collect();
    assert!(client.len() >= 30, "{client:?}");
    for platform in [Platform::Android, Platform::Ios] {
        for &key in &client {
            let row = knox.vendor_row(Table::KnoxEfota, Some(key), None, platform);
            assert!(
                row.is_some_and(|r| r.outcomes.contains(&key)),
                "{key} on {}: no knox-efota row names it",
                platform.as_str()
            );
        }
    }
    for profile in builtins() {
        for &key in &client {
            for table in [Table::FumoResult, Table::ScomoResult, Table::DlStatus] {
                assert!(
                    profile.row(table, key).is_none(),
                    "{}: {table} {key}",
                    profile.name()
                );
            }
        }
    }
    let layered = |code: i64, table: &str, key: &str| {
        parse(&format!(
            "name = \"t\"\nbase = \"oma\"\n[[code]]\ncode = {code}\ntable = \"{table}\"\nmeaning = \"m\"\noutcomes = [\"{key}\"]"
        ))
    };
    for (code, table, key) in [
        (450, "fumo-result", "config.timeout"),
        (1450, "scomo-result", "license.not-found"),
        (960, "dl-status", "item.handler-failed"),
    ] {
        assert!(
            matches!(
                layered(code, table, key),
                Err(ProfileError::OutcomeNotInTable { .. })
            ),
            "{table} {key}"
        );
    }
}

/// An item whose OMA Download fails is reported with its DL status: every download outcome has a
/// DL status on a knox device, and every such status an E-FOTA code (the outcome's row, or the
/// relation `from = ["dl-status N"]`).
#[test]
fn every_download_ending_of_an_item_has_an_efota_code() {
    let knox = builtin("knox-efota").unwrap();
    for &key in REACHABLE.iter().filter(|k| k.0 == Phase::Download) {
        let status = i64::from(knox.dl_status(key).code());
        let row = knox
            .vendor_row(
                Table::KnoxEfota,
                Some(key),
                Some((Table::DlStatus, status)),
                Platform::Android,
            )
            .unwrap_or_else(|| panic!("{key} (DL {status}): no knox-efota code"));
        if key.1 != Cause::Succeeded {
            assert!(
                (901..=970).contains(&row.code),
                "{key}: an item's download failure is one of the seed's download results, not {}",
                row.code
            );
        }
    }
    let changed = Key(Phase::Download, Cause::ObjectChanged);
    assert_eq!(knox.dl_status(changed).code(), 955);
    assert_eq!(builtin("oma").unwrap().dl_status(changed).code(), 954);
}

/// A partial result reports the codes its row says precede it, which must be codes of its table.
#[test]
fn preceding_codes_are_codes_of_the_table() {
    let knox = builtin("knox-efota").unwrap();
    let partial = knox
        .rows()
        .iter()
        .find(|r| r.table == Table::KnoxEfota && r.code == -1463)
        .expect("-1463");
    assert_eq!(partial.preceded_by, [-1200]);
    let text = |preceded: &str| {
        format!(
            "name = \"v\"\nbase = \"oma\"\n[[code]]\ncode = -1200\ntable = \"knox-efota\"\nmeaning = \"m\"\n[[code]]\ncode = -1463\ntable = \"knox-efota\"\nmeaning = \"m\"\npreceded_by = [{preceded}]"
        )
    };
    assert!(parse(&text("-1200")).is_ok());
    assert!(matches!(
        parse(&text("-1201")),
        Err(ProfileError::UnknownPrecedingCode { code: -1201, .. })
    ));
    let oma_row = "name = \"v\"\nbase = \"oma\"\n[[code]]\ncode = 450\ntable = \"fumo-result\"\nmeaning = \"m\"\noutcomes = [\"checks.battery-low\"]\npreceded_by = [200]";
    assert!(matches!(
        parse(oma_row),
        Err(ProfileError::NotAVendorReport { .. })
    ));
}
