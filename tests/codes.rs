//! Every code of the built-in profiles is proved by a passing scenario, every fault by a scenario
//! that uses it, and `dmsim codes` / `dmsim faults` print what the suite measured.
//!
//! The profiles are read from `profiles/*.toml` when the crate is built, so a row added there
//! without a scenario that produces it fails `every_code_of_the_built_in_profiles_…` below.

use dmsim::profile;
use dmsim::scenario::coverage::{self, Measured};
use dmsim::scenario::{self, RunOptions};
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The suite of `scenarios/`, run with and without each of its fault rules (once per test binary).
fn measured() -> &'static Measured {
    static MEASURED: OnceLock<Measured> = OnceLock::new();
    MEASURED.get_or_init(|| {
        let loaded: Vec<_> = scenario::discover(&[root().join("scenarios")])
            .expect("scenarios/ has scenario files")
            .iter()
            .map(|f| scenario::load(f).expect("valid scenario"))
            .collect();
        coverage::measure(&loaded, &RunOptions::default()).expect("runtime")
    })
}

#[test]
fn every_code_of_the_built_in_profiles_has_a_passing_scenario_that_produces_it() {
    let rows = coverage::code_rows(measured(), &profile::builtins());
    // The Knox E-FOTA profile is proved by tests/knox_efota.rs, against scenarios/knox-efota/
    // alone (its portal rows are the server's). The Snom m3 profile's display codes are proved
    // by its own scenarios (scenarios/snom-m3/).
    let uncovered: Vec<String> = rows
        .iter()
        .filter(|r| r.profile != "knox-efota" && r.profile != "snom-m3")
        .filter(|r| !r.covered)
        .map(|r| format!("{} {} {}: {}", r.profile, r.table, r.code, r.meaning))
        .collect();
    assert!(
        uncovered.is_empty(),
        "no passing scenario produces these codes (add one, or remove the row):\n{}",
        uncovered.join("\n")
    );
    // The OMA tables are all there: 18 FUMO results, 10 States, 10 DL statuses.
    let count = |table: &str| {
        rows.iter()
            .filter(|r| r.profile == "oma" && r.table.to_string() == table)
            .count()
    };
    assert_eq!(count("fumo-result"), 18);
    assert_eq!(count("fumo-state"), 10);
    assert_eq!(count("dl-status"), 10);
    // SCOMO: 1200, 1400-1413, 1500, 1501.
    assert_eq!(count("scomo-result"), 17);
    assert!(count("syncml-status") >= 30);
}

/// A vendor code is proved by a device of its profile: 551 comes from a `dmsim` device, and the
/// same fault on an `oma` device gives 411.
#[test]
fn codes_are_credited_to_the_profile_of_the_device_that_reported_them() {
    let rows = coverage::code_rows(measured(), &profile::builtins());
    let row = |profile: &str, code: i64| {
        rows.iter()
            .find(|r| {
                r.profile == profile && r.table.to_string() == "fumo-result" && r.code == code
            })
            .unwrap_or_else(|| panic!("{profile} {code}"))
    };
    let vendor = row("dmsim", 551);
    assert_eq!(
        vendor.scenarios,
        ["scenarios/fumo/package-not-found.toml".to_string()]
            .map(|s| root().join(s).display().to_string())
    );
    assert_eq!(vendor.faults, ["content → not-found"]);
    assert_eq!(vendor.outcomes, ["download.not-found"]);
    let oma = row("oma", 411);
    assert!(
        oma.scenarios
            .iter()
            .any(|s| s.ends_with("profiles/oma-not-found.toml")),
        "{:?}",
        oma.scenarios
    );
    assert!(
        oma.faults.contains(&"content → not-found".to_string()),
        "{:?}",
        oma.faults
    );
}

#[test]
fn every_fault_and_content_fault_has_a_scenario_and_what_it_produces_is_measured() {
    let rows = coverage::fault_rows(measured());
    let unused: Vec<String> = rows
        .iter()
        .filter(|r| r.scenarios.is_empty())
        .map(|r| format!("{} {}", r.point, r.effect))
        .collect();
    assert!(unused.is_empty(), "no scenario uses: {unused:?}");
    let row = |point: &str, effect: &str| {
        rows.iter()
            .find(|r| r.point == point && r.effect == effect)
            .unwrap_or_else(|| panic!("{point} {effect}"))
    };
    assert_eq!(
        row("download.transfer", "network.lost").produces,
        [
            "dl-status 903",
            "fumo-result 503",
            "fumo-state 20",
            "install-notify 903",
            "knox-efota 503",
            "knox-efota 903"
        ]
    );
    assert_eq!(
        row("tree.write", "storage.write-error").produces,
        ["syncml-status 510"]
    );
}

fn dmsim(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_dmsim"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("dmsim runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn dmsim_codes_json_lists_every_oma_code_with_its_scenarios() {
    let (exit, out, err) = dmsim(&["codes", "--profile", "oma", "--json"]);
    assert_eq!(exit, Some(0), "{err}");
    let rows: Vec<serde_json::Value> = serde_json::from_str(&out).expect("JSON");
    assert_eq!(rows.len(), profile::builtin("oma").unwrap().rows().len());
    for row in &rows {
        let keys: Vec<&str> = row
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut keys = keys;
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "code",
                "covered",
                "faults",
                "meaning",
                "outcomes",
                "profile",
                "scenarios",
                "side",
                "table"
            ]
        );
        assert_eq!(row["profile"], "oma");
        assert_eq!(row["covered"], true, "{row}");
    }
    let fumo_410 = rows
        .iter()
        .find(|r| r["table"] == "fumo-result" && r["code"] == 410)
        .expect("410");
    assert!(fumo_410["faults"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f == "install.verify → verify.fail"));
}

#[test]
fn dmsim_faults_prints_each_point_with_what_it_produces() {
    let (exit, out, err) = dmsim(&["faults"]);
    assert_eq!(exit, Some(0), "{err}");
    assert!(
        out.contains("[[fault]] at = \"download.storage-check\", inject = \"storage.insufficient\"\n    produces:  dl-status 901, fumo-result 501"),
        "{out}"
    );
    let (exit, _, err) = dmsim(&["codes", "--profile", "knox"]);
    assert_eq!(exit, Some(2));
    assert!(err.contains("\"knox\" is not a known profile"), "{err}");
}

/// `dmsim codes --code N` is how a QA engineer finds how to reproduce one code.
#[test]
fn dmsim_codes_names_the_command_that_reproduces_a_code() {
    let (exit, out, err) = dmsim(&["codes", "--code", "551"]);
    assert_eq!(exit, Some(0), "{err}");
    assert!(
        out.contains("dmsim fumo-result\n    551  Package not found"),
        "{out}"
    );
    assert!(
        out.contains("reproduce: dmsim run scenarios/fumo/package-not-found.toml\n"),
        "{out}"
    );
    assert!(
        out.contains("\n1 codes, 1 produced by a passing scenario"),
        "{out}"
    );
    // A code no built-in profile has (-6404 became a Knox E-FOTA code).
    let (exit, out, _) = dmsim(&["codes", "--code", "999"]);
    assert_eq!(exit, Some(0));
    assert!(out.contains("\n0 codes,"), "{out}");
}
