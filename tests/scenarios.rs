//! The scenario suite as a test: every scenario under `scenarios/` passes, the codes the foundation
//! must produce are observed, and runs are deterministic.

use dmsim::scenario::{
    self, report, RunOptions, ScenarioResult, TransportKind, Verdict, WireCounts,
};
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
        certs: Some(root.join("certs")),
        encoding,
        state_dir: None,
    };
    scenario::run_all(&loaded, &options).expect("runtime")
}

fn run_suite() -> Vec<ScenarioResult> {
    run_suite_over(TransportKind::InProcess)
}

/// Every scenario of `scenarios/`, loaded.
fn load_suite() -> Vec<scenario::LoadedScenario> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    scenario::discover(&[root.join("scenarios")])
        .expect("scenarios/ has scenario files")
        .iter()
        .map(|f| scenario::load(f).expect("valid scenario"))
        .collect()
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

/// Every message of every scenario was in `encoding` on the wire, both ways (judged from the
/// transcript's bytes and Content-Types); a scenario whose session never reached the server
/// (a refused TLS handshake, a rejected notification) has no message at all.
fn assert_all_on_wire(results: &[ScenarioResult], encoding: Encoding) {
    let only = |counts: &WireCounts| match encoding {
        Encoding::Wbxml => counts.xml == 0 && counts.other == 0,
        Encoding::Xml => counts.wbxml == 0 && counts.other == 0,
    };
    let mut total = 0;
    // A Snom m3 base updates over plain HTTP, with no DM session: no SyncML message at all.
    for r in results.iter().filter(|r| !r.file.contains("snom-m3")) {
        let wire = &r.wire;
        // A server that fails on purpose (a `server-error` session fault) answers an HTTP error
        // instead of a message, each time the fault fired.
        let deliberate: u32 = r
            .faults
            .iter()
            .filter(|f| {
                f.rule
                    .starts_with("[[server.session_fault]] kind = \"server-error\"")
            })
            .map(|f| f.fired)
            .sum();
        let server = WireCounts {
            other: wire.server.other.saturating_sub(deliberate),
            ..wire.server
        };
        assert!(
            only(&wire.device) && only(&server),
            "{} [{}]: not all {encoding:?} on the wire: {wire:?}",
            r.name,
            r.file
        );
        assert_eq!(
            wire.device.total(),
            wire.server.total(),
            "{}: every request answered",
            r.file
        );
        let unreached = ["forged-notification", "wrong-ca", "no-client-certificate"];
        if !unreached.iter().any(|f| r.file.contains(f)) {
            assert!(
                wire.device.total() > 0,
                "{}: no message on the wire",
                r.file
            );
        }
        total += wire.device.total();
    }
    assert!(total > 200, "only {total} device messages in the suite");
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
    assert_all_on_wire(&over_https, Encoding::Xml);
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
    // Not only the codes: every device message and every answer was WBXML on the wire, and in
    // the default run every one was XML.
    assert_all_on_wire(&wbxml, Encoding::Wbxml);
    assert_all_on_wire(&run_suite(), Encoding::Xml);
}

/// Over sockets, HTTPS runs the suite in XML and plain HTTP in WBXML.
#[test]
fn the_suite_passes_over_plain_http_in_wbxml_with_wbxml_on_the_wire() {
    let results = run_suite_with(TransportKind::Http, Some(Encoding::Wbxml));
    let failed = failures(&results);
    assert!(
        failed.is_empty(),
        "failing over http in WBXML:\n{}",
        failed.join("\n\n")
    );
    assert_all_on_wire(&results, Encoding::Wbxml);
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
            "transport",
            "duration_ms",
            "failures",
            "observed",
            "wire",
            "end",
            "violations",
        ] {
            assert!(s.get(key).is_some(), "scenario entry lacks {key}: {s}");
        }
        for side in ["device", "server"] {
            for kind in ["wbxml", "xml", "other"] {
                assert!(
                    s["wire"][side][kind].is_u64(),
                    "wire.{side}.{kind} is not a count: {s}"
                );
            }
        }
        for o in s["observed"].as_array().expect("observed array") {
            assert!(
                o["family"].is_string() && o["code"].is_i64(),
                "bad observation {o}"
            );
            let source = o["source"].as_str().unwrap_or("");
            assert!(
                ["wire", "device", "server"].contains(&source),
                "observation without a known source: {o}"
            );
        }
        for f in s["faults"].as_array().expect("faults array") {
            assert!(
                f["rule"].is_string() && f["fired"].as_u64().is_some_and(|n| n > 0),
                "a fault rule that did not fire in a passing scenario: {f}"
            );
        }
    }
    assert_eq!(json["summary"]["total"], results.len());
    let scenarios = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let junit = report::junit(&results, &[scenarios]);
    assert_eq!(junit.matches("<testcase ").count(), results.len());
    assert!(
        junit.contains("classname=\"scenarios.fumo\""),
        "classnames are dotted folders"
    );
    assert!(!junit.contains(".toml\""), "no file path as a classname");
}

#[test]
fn the_scenarios_shown_in_the_readme_pass() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let (rows, blocks): (Vec<&str>, Vec<&str>) = readme
        .split("```toml\n")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .partition(|b| b.starts_with("[[code]]"));
    // A block of profile rows must be rows a profile takes.
    for row in rows {
        dmsim::profile::Profile::parse(
            &format!("name = \"readme\"\nbase = \"oma\"\n{row}"),
            dmsim::profile::builtin,
        )
        .unwrap_or_else(|e| panic!("README profile rows: {e}\n{row}"));
    }
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

/// A scenario proves its faults only if it fails without them: each `[[fault]]`,
/// `[[server.content_fault]]` and `[[server.session_fault]]` rule is removed in turn, and the
/// scenario must then fail.
#[test]
fn every_scenario_fails_when_any_of_its_faults_is_removed() {
    let suite = load_suite();
    let mut variants = Vec::new();
    for s in &suite {
        for i in 0..s.file.faults.len() {
            let mut v = s.clone();
            let rule = v.file.faults.remove(i);
            variants.push((format!("{} without [[fault]] {rule}", s.path.display()), v));
        }
        for i in 0..s.file.server.content_faults.len() {
            let mut v = s.clone();
            let rule = v.file.server.content_faults.remove(i);
            variants.push((
                format!(
                    "{} without [[server.content_fault]] {rule}",
                    s.path.display()
                ),
                v,
            ));
        }
        for i in 0..s.file.server.session_faults.len() {
            let mut v = s.clone();
            let rule = v.file.server.session_faults.remove(i);
            variants.push((
                format!(
                    "{} without [[server.session_fault]] {rule}",
                    s.path.display()
                ),
                v,
            ));
        }
    }
    assert!(variants.len() >= 30, "only {} fault rules", variants.len());
    let loaded: Vec<_> = variants.iter().map(|(_, v)| v.clone()).collect();
    let results = scenario::run_all(&loaded, &RunOptions::default()).expect("runtime");
    let still_pass: Vec<&str> = variants
        .iter()
        .zip(&results)
        .filter(|(_, r)| r.verdict == Verdict::Passed)
        .map(|((name, _), _)| name.as_str())
        .collect();
    assert!(
        still_pass.is_empty(),
        "these scenarios pass without one of their faults, so they do not prove it:\n{}",
        still_pass.join("\n")
    );
}

/// A fault rule that never fires fails its scenario, naming the rule; `optional = true` lifts it.
#[test]
fn a_fault_that_never_fires_fails_the_scenario_unless_optional() {
    let text = r#"
name = "a fault at a point the session never reaches"
[[fault]]
at = "install.verify"
inject = "verify.fail"
[expect]
end = "completed"
"#;
    let path = Path::new("never-fires.toml");
    let strict = scenario::load::parse(path, text).expect("valid");
    let optional = scenario::load::parse(
        path,
        &text.replace(
            "inject = \"verify.fail\"",
            "inject = \"verify.fail\"\noptional = true",
        ),
    )
    .expect("valid");
    let results = scenario::run_all(&[strict, optional], &RunOptions::default()).expect("runtime");
    assert_eq!(results[0].verdict, Verdict::Failed);
    assert_eq!(
        results[0].failures,
        ["fault rule [[fault]] at = \"install.verify\", inject = \"verify.fail\" never fired (a scenario whose fault did not happen proves nothing; say optional = true if it may rightly not fire)"]
    );
    assert_eq!(results[0].faults[0].fired, 0);
    assert_eq!(
        results[1].verdict,
        Verdict::Passed,
        "{:?}",
        results[1].failures
    );
}

/// Lists are exact: a superset fails, an empty list means none happened, and `at_least` says
/// "these, in this order, others may come between".
#[test]
fn expected_lists_are_exact_unless_at_least() {
    let base = r#"
name = "two Gets"
[[server.package]]
[[server.package.command]]
cmd = "get"
target = "./DevInfo/Mod"
[[server.package.command]]
cmd = "get"
target = "./DevInfo/Man"
[expect]
"#;
    let cases = [
        // (expectation, passes)
        (
            r#"status = [{ cmd = "SyncHdr", code = 200 }, { cmd = "Get", code = 200 }, { cmd = "Get", code = 200 }]"#,
            true,
        ),
        (
            r#"status = [{ cmd = "Get", code = 200 }, { cmd = "Get", code = 200 }]"#,
            false,
        ),
        (
            r#"status = [{ cmd = "Get", target = "./DevInfo/Man", code = 200 }]
at_least = ["status"]"#,
            true,
        ),
        (
            r#"status = [{ cmd = "Get", target = "./DevInfo/Man", code = 200 }, { cmd = "Get", target = "./DevInfo/Mod", code = 200 }]
at_least = ["status"]"#,
            false,
        ),
        ("alerts = [1201]", true),
        ("alerts = []", false),
        ("fumo_result = []", true),
        ("install_notify = []", true),
        (
            r#"result = [{ source = "./DevInfo/Mod", data = "SIM-1" }]"#,
            false,
        ),
        (
            r#"result = [{ source = "./DevInfo/Mod", data = "SIM-1" }, { source = "./DevInfo/Man", data = "dmsim" }]"#,
            true,
        ),
    ];
    let loaded: Vec<_> = cases
        .iter()
        .map(|(e, _)| {
            scenario::load::parse(Path::new("lists.toml"), &format!("{base}{e}\n")).expect("valid")
        })
        .collect();
    let results = scenario::run_all(&loaded, &RunOptions::default()).expect("runtime");
    for ((expect, passes), r) in cases.iter().zip(&results) {
        assert_eq!(
            r.verdict == Verdict::Passed,
            *passes,
            "{expect}: {:?}",
            r.failures
        );
    }
    // "At least" an empty list would hold whatever happened: refused when the file is read.
    let bad = scenario::load::parse(
        Path::new("empty-at-least.toml"),
        &format!("{base}alerts = []\nat_least = [\"alerts\"]\n"),
    );
    assert!(bad.unwrap_err().to_string().contains("at least nothing"));
}

/// Sizes a scenario controls are bounded when the file is read: a `repeat` of a billion is refused
/// at once with the place and the bound, not built.
#[test]
fn a_huge_repeat_is_refused_when_the_scenario_is_read() {
    let text = r#"
name = "a billion times"
[[server.package]]
[[server.package.command]]
cmd = "atomic"
[[server.package.command.command]]
cmd = "add"
target = "./Vendor/Big"
data = "0123456789"
repeat = 1000000000
"#;
    let started = std::time::Instant::now();
    let err = scenario::load::parse(Path::new("huge.toml"), text).expect_err("refused");
    assert!(
        err.to_string().contains(
            "server.package[0].command[0].command[0]: data of 10 bytes repeated 1000000000 times is more than the 8388608 bytes an item may have"
        ),
        "{err}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    let node = "name = \"n\"\n[[device.node]]\nuri = \"./Big\"\nvalue = \"x\"\nrepeat = 9223372036854775807\n";
    let err = scenario::load::parse(Path::new("node.toml"), node).expect_err("refused");
    assert!(
        err.to_string().contains("device.node[0] \"./Big\""),
        "{err}"
    );
}

/// The scenario whose mock server breaks rules on purpose (`server.quirks`).
const QUIRKS: &str = "scenarios/session/server-quirks.toml";

/// The mock server keeps to every rule the device checks, so no other scenario observes a server
/// violation; the one with `server.quirks` observes each rule it breaks, in the JSON report as a
/// `server-violation` observation read from the wire, its code the rule's number and its command
/// the rule's id.
#[test]
fn server_violations_are_observed_where_the_server_breaks_rules_and_only_there() {
    for encoding in [None, Some(Encoding::Wbxml)] {
        let results = run_suite_with(TransportKind::InProcess, encoding);
        let with: Vec<&str> = results
            .iter()
            .filter(|r| r.observed.iter().any(|o| o.family == "server-violation"))
            .map(|r| r.file.as_str())
            .collect();
        assert_eq!(with.len(), 1, "{encoding:?}: {with:?}");
        assert!(with[0].ends_with(QUIRKS), "{encoding:?}: {with:?}");
        let quirky: Vec<ScenarioResult> = results
            .into_iter()
            .filter(|r| r.file.ends_with(QUIRKS))
            .collect();
        assert_eq!(
            quirky[0].verdict,
            Verdict::Passed,
            "{:?}",
            quirky[0].failures
        );
        let json: serde_json::Value =
            serde_json::from_str(&report::json(&quirky)).expect("the report is JSON");
        let found: Vec<&serde_json::Value> = json["scenarios"][0]["observed"]
            .as_array()
            .expect("observed")
            .iter()
            .filter(|o| o["family"] == "server-violation")
            .collect();
        assert_eq!(
            found,
            [
                &serde_json::json!({"family": "server-violation", "code": 11, "source": "wire", "command": "namespace", "count": 3}),
                &serde_json::json!({"family": "server-violation", "code": 10, "source": "wire", "command": "element-order", "count": 5}),
                &serde_json::json!({"family": "server-violation", "code": 8, "source": "wire", "command": "msg-id-sequence", "count": 1}),
                &serde_json::json!({"family": "server-violation", "code": 9, "source": "wire", "command": "duplicate-cmd-id", "count": 2}),
            ],
            "{encoding:?}"
        );
        // The transcript shows each violation right after the server message it concerns.
        let transcript = &quirky[0].transcript;
        let answer = transcript
            .find("--- message 1 server -> device")
            .expect("the first answer");
        let first = transcript.find("--- server violation: ").expect("shown");
        let next = transcript
            .find("--- message 2 device -> server")
            .expect("next");
        assert!(answer < first && first < next, "{transcript}");
    }
}

/// The quirks are what make the expectation hold: without them the device sees no violation and
/// the scenario fails; with `no_violations` instead, every violation is a failure.
#[test]
fn server_violations_fail_a_scenario_that_does_not_expect_them() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let loaded = scenario::load(&root.join(QUIRKS)).expect("valid scenario");
    let mut without = loaded.clone();
    without.file.server.quirks.clear();
    let mut strict = loaded.clone();
    strict.file.expect.server_violations = None;
    strict.file.expect.no_violations = true;
    let results = scenario::run_all(&[without, strict], &RunOptions::default()).expect("runtime");
    assert_eq!(results[0].verdict, Verdict::Failed);
    assert_eq!(
        results[0].failures,
        ["the device saw the server break [], expected exactly [namespace, element-order, msg-id-sequence, duplicate-cmd-id]"]
    );
    assert!(!results[0]
        .observed
        .iter()
        .any(|o| o.family == "server-violation"));
    assert_eq!(results[1].verdict, Verdict::Failed);
    assert_eq!(results[1].failures.len(), 11, "{:#?}", results[1].failures);
    assert!(
        results[1].failures[0].starts_with("the server broke a protocol rule: namespace (server MsgID 2): at SyncML: SyncML is in the namespace \"SYNCML:SYNCML1.1\""),
        "{:#?}",
        results[1].failures
    );
}

/// A vendor layout's paths are relative to the object's root; anything else is refused when the
/// scenario is read, naming the path.
#[test]
fn a_layout_path_that_is_not_relative_to_the_root_is_refused() {
    let scenario = |path: &str| {
        format!(
            "name = \"layout\"\n[device.fumo]\nroot = \"./Software\"\n[device.fumo.layout]\n\
             download_and_update = {{ exec = \"Operations/DownloadAndInstall\", url = {path:?} }}\n"
        )
    };
    let at = Path::new("layout.toml");
    scenario::load::parse(at, &scenario("Package/PkgURL")).expect("a relative path");
    for bad in [
        "",
        "/Package/PkgURL",
        "Package/",
        "../FUMO/PkgURL",
        "Package//PkgURL",
        "./x",
    ] {
        let err = scenario::load::parse(at, &scenario(bad))
            .expect_err(bad)
            .to_string();
        assert!(
            err.contains("is not a node path relative to the root"),
            "{bad:?}: {err}"
        );
    }
}

/// `legacy_alert_type = true` makes the device report with the draft-era OperationComplete type,
/// and the server reads the result under either type.
#[test]
fn a_scomo_device_reports_with_the_alert_type_it_is_set_to() {
    use dmsim::protocol::scomo::{LEGACY_OPERATION_COMPLETE, OPERATION_COMPLETE};
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let legacy =
        scenario::load(&root.join("scenarios/scomo/legacy-alert-type.toml")).expect("valid");
    let mut standard = legacy.clone();
    standard
        .file
        .device
        .scomo
        .as_mut()
        .expect("a SCOMO device")
        .legacy_alert_type = false;
    let results = scenario::run_all(&[legacy, standard], &RunOptions::default()).expect("runtime");
    let types: Vec<Vec<(i64, Option<String>)>> = results
        .iter()
        .map(|r| {
            r.observed
                .iter()
                .filter(|o| o.family == "scomo-result")
                .map(|o| (o.code, o.command.clone()))
                .collect()
        })
        .collect();
    assert_eq!(
        types,
        [
            vec![(1200, Some(LEGACY_OPERATION_COMPLETE.to_string()))],
            vec![(1200, Some(OPERATION_COMPLETE.to_string()))],
        ]
    );
}
