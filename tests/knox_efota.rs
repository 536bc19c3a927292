//! The Knox E-FOTA profile against its seed and its scenarios: every code of the seed has its row,
//! every one of the seed's 153 codes is produced by a passing scenario under
//! `scenarios/knox-efota/` and observed under the family `knox-efota` (the device's reports, and
//! the portal's answers: side `portal`, which credits the table `knox-efota-portal`), and every
//! fault of those scenarios is what produces their code.

use dmsim::profile::{self, Side, Table};
use dmsim::scenario::coverage::{self, Measured};
use dmsim::scenario::{self, RunOptions};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `scenarios/knox-efota/`, run with and without each of its fault rules (once per test binary).
fn measured() -> &'static Measured {
    static MEASURED: OnceLock<Measured> = OnceLock::new();
    MEASURED.get_or_init(|| {
        let loaded: Vec<_> = scenario::discover(&[root().join("scenarios/knox-efota")])
            .expect("scenarios/knox-efota/ has scenario files")
            .iter()
            .map(|f| scenario::load(f).expect("valid scenario"))
            .collect();
        coverage::measure(&loaded, &RunOptions::default()).expect("runtime")
    })
}

fn knox() -> &'static profile::Profile {
    profile::builtin("knox-efota").expect("built in")
}

/// The seed's nine tables, with how many codes each lists (153 in all; 0 is in two of them).
const SEED_TABLES: &[(&str, usize)] = &[
    ("success", 4),
    ("download-result", 19),
    ("device-error", 29),
    ("server-error", 21),
    ("update-file-error", 5),
    ("installation-error", 33),
    ("network-error", 10),
    ("time-out-error", 5),
    ("operation-error", 27),
];

#[test]
fn every_code_of_the_seed_has_a_row_saying_whose_it_is() {
    let mut per_section: BTreeMap<&str, usize> = BTreeMap::new();
    for row in knox().rows() {
        if !matches!(row.table, Table::KnoxEfota | Table::KnoxEfotaPortal) {
            continue;
        }
        let section = row
            .section
            .as_deref()
            .expect("every E-FOTA row names its seed table");
        *per_section.entry(section).or_default() += 1;
        match row.table {
            Table::KnoxEfota => assert_eq!(row.side, Side::Device, "{}", row.code),
            _ => {
                assert_eq!(row.side, Side::Server, "{}", row.code);
                assert!(row.why.is_some(), "{}: a portal code says why", row.code);
            }
        }
    }
    for &(section, count) in SEED_TABLES {
        assert_eq!(per_section.remove(section), Some(count), "{section}");
    }
    // Codes the client sends that the seed's tables do not list (its -7007 names -1200).
    assert_eq!(per_section.remove("not-in-seed"), Some(2));
    assert!(per_section.is_empty(), "{per_section:?}");
    let total: usize = SEED_TABLES.iter().map(|(_, n)| n).sum();
    assert_eq!(total, 153);
}

#[test]
fn every_device_side_code_has_a_passing_scenario_that_produces_it() {
    let rows = coverage::code_rows(measured(), &[knox()]);
    let uncovered: Vec<String> = rows
        .iter()
        .filter(|r| r.table == Table::KnoxEfota && !r.covered)
        .map(|r| format!("{} {}: {}", r.table, r.code, r.meaning))
        .collect();
    assert!(
        uncovered.is_empty(),
        "no passing scenario under scenarios/knox-efota/ produces these device-side codes:\n{}",
        uncovered.join("\n")
    );
    let device_rows = rows.iter().filter(|r| r.table == Table::KnoxEfota).count();
    assert_eq!(
        device_rows, 105,
        "103 of the seed's codes and 2 it does not list"
    );
}

#[test]
fn every_code_of_the_seed_is_produced_device_and_portal_side() {
    let rows = coverage::code_rows(measured(), &[knox()]);
    let seed: Vec<_> = rows
        .iter()
        .filter(|r| r.section.as_deref().is_some_and(|s| s != "not-in-seed"))
        .collect();
    let uncovered: Vec<String> = seed
        .iter()
        .filter(|r| !r.covered)
        .map(|r| format!("{} {}: {}", r.table, r.code, r.meaning))
        .collect();
    assert!(
        uncovered.is_empty(),
        "no passing scenario produces these codes of the seed:\n{}",
        uncovered.join("\n")
    );
    assert_eq!(seed.len(), 153);
    let portal = seed
        .iter()
        .filter(|r| r.table == Table::KnoxEfotaPortal)
        .count();
    assert_eq!(portal, 50, "the portal's codes");
    let out = Command::new(env!("CARGO_BIN_EXE_dmsim"))
        .args(["codes", "--profile", "knox-efota"])
        .current_dir(root())
        .output()
        .expect("dmsim runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("the vendor's own tables: 153/153 codes produced"),
        "{text}"
    );
}

/// A scenario with fault rules proves its code only if a rule is what produces it: without the
/// rule, the scenario no longer observes a knox-efota code it did.
#[test]
fn every_fault_of_the_knox_scenarios_produces_an_efota_code() {
    let idle: Vec<String> = measured()
        .scenarios
        .iter()
        .filter(|s| !s.rules.is_empty())
        .filter(|s| {
            !s.rules.iter().any(|r| {
                r.produces
                    .iter()
                    .any(|(family, _)| matches!(*family, "knox-efota" | "knox-efota-portal"))
            })
        })
        .map(|s| s.file.clone())
        .collect();
    assert!(
        idle.is_empty(),
        "these scenarios report the same E-FOTA codes without their faults:\n{}",
        idle.join("\n")
    );
}

#[test]
fn dmsim_codes_names_the_scenario_and_commands_of_one_efota_code() {
    let out = Command::new(env!("CARGO_BIN_EXE_dmsim"))
        .args(["codes", "--profile", "knox-efota", "--code", "-2404"])
        .current_dir(root())
        .output()
        .expect("dmsim runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("knox-efota knox-efota\n  -2404"), "{text}");
    assert!(text.contains("from:      fumo-result 404"), "{text}");
    assert!(
        text.contains("reproduce: dmsim run scenarios/knox-efota/2404-bad-signature.toml"),
        "{text}"
    );
    assert!(
        text.contains("dmsim device --profile knox-efota --scenario scenarios/knox-efota/2404-bad-signature.toml"),
        "{text}"
    );
}
