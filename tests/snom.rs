//! The Snom m3 profile against its seed and its scenarios: every display code 0-12 is produced by
//! a passing scenario under `scenarios/snom-m3/` and observed under the family `snom-m3`, and
//! every fault of those scenarios is what produces their code.

use dmsim::profile::{self, Table};
use dmsim::scenario::coverage::{self, Measured};
use dmsim::scenario::{self, RunOptions};
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `scenarios/snom-m3/`, run with and without each of its fault rules (once per test binary).
fn measured() -> &'static Measured {
    static MEASURED: OnceLock<Measured> = OnceLock::new();
    MEASURED.get_or_init(|| {
        let loaded: Vec<_> = scenario::discover(&[root().join("scenarios/snom-m3")])
            .expect("scenarios/snom-m3/ has scenario files")
            .iter()
            .map(|f| scenario::load(f).expect("valid scenario"))
            .collect();
        coverage::measure(&loaded, &RunOptions::default()).expect("runtime")
    })
}

#[test]
fn every_display_code_has_a_passing_scenario_that_produces_it() {
    let snom = profile::builtin("snom-m3").expect("built in");
    let rows = coverage::code_rows(measured(), &[snom]);
    let codes: Vec<i64> = rows
        .iter()
        .filter(|r| r.table == Table::SnomM3)
        .map(|r| r.code)
        .collect();
    assert_eq!(
        codes,
        (0..=12).collect::<Vec<i64>>(),
        "the seed's codes 0-12"
    );
    let uncovered: Vec<String> = rows
        .iter()
        .filter(|r| !r.covered)
        .map(|r| format!("{}: {}", r.code, r.meaning))
        .collect();
    assert!(
        uncovered.is_empty(),
        "no passing scenario under scenarios/snom-m3/ produces:\n{}",
        uncovered.join("\n")
    );
    let out = Command::new(env!("CARGO_BIN_EXE_dmsim"))
        .args(["codes", "--profile", "snom-m3"])
        .current_dir(root())
        .output()
        .expect("dmsim runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("13 codes, 13 produced by a passing scenario, 0 not"),
        "{text}"
    );
}

/// A scenario with fault rules proves its code only if a rule is what produces it: without the
/// rule, it no longer observes a display code it did.
#[test]
fn every_fault_of_the_snom_scenarios_produces_a_display_code() {
    let idle: Vec<String> = measured()
        .scenarios
        .iter()
        .filter(|s| !s.rules.is_empty())
        // A power loss shows no code: its proof is the versions the scenario expects.
        .filter(|s| !s.file.contains("power-loss"))
        .filter(|s| {
            !s.rules
                .iter()
                .any(|r| r.produces.iter().any(|(family, _)| *family == "snom-m3"))
        })
        .map(|s| s.file.clone())
        .collect();
    assert!(
        idle.is_empty(),
        "these scenarios show the same codes without their faults:\n{}",
        idle.join("\n")
    );
}
