//! The scenario suite as a test: every scenario under `scenarios/` passes, the codes the foundation
//! must produce are observed, and runs are deterministic.

use dmsim::scenario::{self, report, RunOptions, ScenarioResult, TransportKind, Verdict};
use dmsim::syncml::Encoding;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn run_suite_over(transport: TransportKind) -> Vec<ScenarioResult> {
    run_suite_with(transport, None)
}

fn run_suite_with(transport: TransportKind, encoding: Option<Encoding>) -> Vec<ScenarioResult> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let files =
        scenario::discover(&[root.join("scenarios")]).expect("scenarios/ has scenario files");
    let loaded: Vec<_> = files
        .iter()
        .map(|f| scenario::load(f).expect("valid scenario"))
        .collect();
    let options = RunOptions {
        transport,
        certs: root.join("certs"),
        encoding,
        state_dir: None,
    };
    scenario::run_all(&loaded, &options).expect("runtime")
}

fn run_suite() -> Vec<ScenarioResult> {
    run_suite_over(TransportKind::InProcess)
}

fn failures(results: &[ScenarioResult]) -> Vec<String> {
    results
        .iter()
        .filter(|r| r.verdict != Verdict::Passed)
        .map(|r| {
            format!(
                "{} [{}]: {}\n{}",
                r.name,
                r.file,
                r.failures.join("; "),
                r.transcript
            )
        })
        .collect()
}

/// The codes each scenario (of those `keep` keeps) observed, by family.
fn codes(
    results: &[ScenarioResult],
    keep: impl Fn(&ScenarioResult) -> bool,
) -> Vec<Vec<(String, i64)>> {
    results
        .iter()
        .filter(|r| keep(r))
        .map(|r| {
            r.observed
                .iter()
                .map(|o| (o.family.to_string(), o.code))
                .collect()
        })
        .collect()
}

#[test]
fn the_suite_passes_over_https_as_in_process() {
    let over_https = run_suite_over(TransportKind::Https);
    let failed = failures(&over_https);
    assert!(
        failed.is_empty(),
        "failing over https:\n{}",
        failed.join("\n\n")
    );
    let in_process = run_suite();
    assert_eq!(
        codes(&over_https, |_| true),
        codes(&in_process, |_| true),
        "same codes observed either way"
    );
}

#[test]
fn the_suite_passes_in_wbxml_with_the_same_codes() {
    let wbxml = run_suite_with(TransportKind::InProcess, Some(Encoding::Wbxml));
    let failed = failures(&wbxml);
    assert!(
        failed.is_empty(),
        "failing in WBXML:\n{}",
        failed.join("\n\n")
    );
    // Splitting depends on message sizes, which differ by encoding (the messages/ scenarios are
    // written for both); every other scenario must observe exactly the same codes.
    let not_messages = |r: &ScenarioResult| !r.file.contains("/messages/");
    assert_eq!(
        codes(&wbxml, not_messages),
        codes(&run_suite(), not_messages),
        "same codes observed in either encoding"
    );
    assert!(
        wbxml.iter().any(|r| r.transcript.contains("<SyncML")),
        "transcripts are readable XML"
    );
}

#[test]
fn the_suite_passes_over_plain_http() {
    let failed = failures(&run_suite_over(TransportKind::Http));
    assert!(
        failed.is_empty(),
        "failing over http:\n{}",
        failed.join("\n\n")
    );
}

fn observed(results: &[ScenarioResult], family: &str) -> BTreeSet<i64> {
    results
        .iter()
        .flat_map(|r| &r.observed)
        .filter(|o| o.family == family)
        .map(|o| o.code)
        .collect()
}

#[test]
fn every_scenario_passes() {
    let results = run_suite();
    assert!(results.len() >= 25, "only {} scenarios", results.len());
    let failed = failures(&results);
    assert!(
        failed.is_empty(),
        "failing scenarios:\n{}",
        failed.join("\n\n")
    );
}

#[test]
fn the_foundation_statuses_and_alerts_are_observed() {
    let results = run_suite();
    let statuses = observed(&results, "syncml-status");
    let required = [
        200, 212, 213, 214, 215, 216, 304, 400, 401, 404, 405, 406, 407, 408, 412, 413, 414, 415,
        416, 418, 420, 424, 425, 500, 501, 507, 510, 516,
    ];
    let missing: Vec<_> = required.iter().filter(|c| !statuses.contains(c)).collect();
    assert!(
        missing.is_empty(),
        "statuses never sent by a device: {missing:?}"
    );
    let alerts = observed(&results, "alert");
    for code in [
        1100, 1101, 1102, 1103, 1104, 1200, 1201, 1222, 1223, 1225, 1226,
    ] {
        assert!(alerts.contains(&code), "alert {code} never observed");
    }
}

#[test]
fn every_fumo_state_result_and_dl_status_is_observed() {
    let results = run_suite();
    let states = observed(&results, "fumo-state");
    for state in [10, 20, 30, 40, 50, 60, 70, 80, 90, 100] {
        assert!(states.contains(&state), "FUMO State {state} never observed");
    }
    let fumo = observed(&results, "fumo-result");
    let oma = [
        200, 400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 500, 501, 502, 503,
    ];
    let missing: Vec<_> = oma.iter().filter(|c| !fumo.contains(c)).collect();
    assert!(
        missing.is_empty(),
        "FUMO results never reported: {missing:?}"
    );
    for vendor in [250..=299, 450..=499, 550..=599] {
        assert!(
            fumo.iter().any(|c| vendor.contains(c)),
            "no vendor FUMO result in {vendor:?}"
        );
    }
    let dl = observed(&results, "dl-status");
    for status in [900, 901, 902, 903, 905, 906, 951, 952, 953, 954] {
        assert!(dl.contains(&status), "DL status {status} never observed");
    }
    let exec_202 = results.iter().flat_map(|r| &r.observed).any(|o| {
        o.family == "syncml-status" && o.code == 202 && o.command.as_deref() == Some("Exec")
    });
    assert!(exec_202, "no Exec answered 202");
}

#[test]
fn a_run_with_the_same_seed_gives_the_same_transcript() {
    let first = run_suite();
    let second = run_suite();
    // Over sockets the URLs carry a fresh port each run; the protocol is compared in-process.
    let in_process = |r: &&ScenarioResult| r.transport == TransportKind::InProcess;
    for (a, b) in first
        .iter()
        .filter(in_process)
        .zip(second.iter().filter(in_process))
    {
        assert_eq!(
            a.transcript, b.transcript,
            "{} differs between runs",
            a.name
        );
    }
}

#[test]
fn the_json_report_has_the_stable_shape() {
    let results = run_suite();
    let json: serde_json::Value =
        serde_json::from_str(&report::json(&results)).expect("the report is JSON");
    let scenarios = json["scenarios"].as_array().expect("scenarios array");
    assert_eq!(scenarios.len(), results.len());
    for s in scenarios {
        for key in [
            "name",
            "file",
            "status",
            "duration_ms",
            "failures",
            "observed",
            "violations",
        ] {
            assert!(s.get(key).is_some(), "scenario entry lacks {key}: {s}");
        }
        for o in s["observed"].as_array().expect("observed array") {
            assert!(
                o["family"].is_string() && o["code"].is_i64(),
                "bad observation {o}"
            );
        }
    }
    assert_eq!(json["summary"]["total"], results.len());
    let junit = report::junit(&results);
    assert_eq!(junit.matches("<testcase ").count(), results.len());
}

#[test]
fn the_scenarios_shown_in_the_readme_pass() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let blocks: Vec<&str> = readme
        .split("```toml\n")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .collect();
    assert!(
        blocks.len() >= 2,
        "the README shows {} scenarios",
        blocks.len()
    );
    let loaded: Vec<_> = blocks
        .iter()
        .enumerate()
        .map(|(n, text)| {
            scenario::load::parse(Path::new(&format!("README.md block {n}")), text)
                .unwrap_or_else(|e| panic!("{e}"))
        })
        .collect();
    let results = scenario::run_all(&loaded, &RunOptions::default()).expect("runtime");
    let failed = failures(&results);
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}
