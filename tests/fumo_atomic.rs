//! A FUMO Exec inside an Atomic takes effect only when the Atomic commits (reference §1.4): when
//! the Atomic fails (and when its rollback fails too), the run must show that no update happened —
//! no FUMO result, no DL status, no State but 10, the old firmware, and not one request to the
//! server's content — and when it commits, the update runs as outside an Atomic.

use dmsim::inproc::{InProcess, InProcessContent};
use dmsim::jobs;
use dmsim::scenario::{self, report, RunOptions, ScenarioResult, Verdict};
use dmsim::scenario::{build_device, mock_server};
use dmsim::server::{fumo_results, MockServer};
use dmsim::session::{run_session_with, DriverOptions, Initiator, Pace, SessionStart};
use dmsim::storage::MemoryStore;
use std::path::PathBuf;
use std::sync::Arc;

const ROLLED_BACK: &str = "scenarios/fumo/atomic-rollback-cancels-update.toml";
const ROLLBACK_FAILS: &str = "scenarios/fumo/atomic-rollback-fails-no-update.toml";
const COMMITS: &str = "scenarios/fumo/atomic-update-commits.toml";
const HOSTED: [&str; 3] = ["/fw/update.dd", "/fw/update.pkg", "/fw/notify"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run_scenario(file: &str) -> ScenarioResult {
    let loaded = scenario::load(&root().join(file)).expect("valid scenario");
    let options = RunOptions {
        certs: Some(root().join("certs")),
        ..RunOptions::default()
    };
    let mut results = scenario::run_all(&[loaded], &options).expect("runtime");
    assert_eq!(results.len(), 1);
    results.remove(0)
}

/// The scenario's observations as the `--json` report shows them: (family, code) pairs.
fn observed(result: &ScenarioResult) -> Vec<(String, i64)> {
    let json: serde_json::Value =
        serde_json::from_str(&report::json(std::slice::from_ref(result))).expect("JSON report");
    json["scenarios"][0]["observed"]
        .as_array()
        .expect("observed")
        .iter()
        .map(|o| {
            let family = o["family"].as_str().expect("family").to_string();
            (family, o["code"].as_i64().expect("code"))
        })
        .collect()
}

fn codes(observed: &[(String, i64)], family: &str) -> Vec<i64> {
    observed
        .iter()
        .filter(|(f, _)| f == family)
        .map(|(_, c)| *c)
        .collect()
}

fn assert_passed(result: &ScenarioResult) {
    assert_eq!(
        result.verdict,
        Verdict::Passed,
        "{}: {}\n{}",
        result.file,
        result.failures.join("; "),
        result.transcript
    );
}

/// What the server and the device were left with after the scenario's sessions and jobs.
struct Driven {
    server: Arc<MockServer>,
    device: dmsim::device::Device,
}

/// Run a scenario's sessions and the jobs between them through the library (in process, under
/// simulated time), keeping the mock server to read what it recorded of content requests.
fn drive(file: &str) -> Driven {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("runtime")
        .block_on(drive_async(file))
}

async fn drive_async(file: &str) -> Driven {
    let loaded = scenario::load(&root().join(file)).expect("valid scenario");
    let file = &loaded.file;
    let mut device = build_device(file).expect("device");
    let server = Arc::new(mock_server(file).expect("server"));
    let transport = InProcess::new(Arc::clone(&server));
    let content = InProcessContent::new(Arc::clone(&server));
    let store = MemoryStore::new();
    device.flash(&store).expect("flash");
    for n in 0..4 {
        if n > 0 && device.reports.pending().is_empty() {
            break;
        }
        let start = SessionStart {
            initiator: Initiator::Client,
            server_id: Some(file.server.server_id.clone()),
        };
        let options = DriverOptions {
            keep_transcript: false,
            pace: Pace::Skip,
        };
        run_session_with(&transport, &mut device, start, options).await;
        assert_eq!(
            device.save(&store).expect("save"),
            dmsim::device::Saved::Landed
        );
        jobs::run_job(&mut device, &content, &store)
            .await
            .expect("the job ends");
    }
    Driven { server, device }
}

/// The run of a failed Atomic shows no update at all.
fn assert_no_update(file: &str) {
    let result = run_scenario(file);
    // What was observed first: it says what happened, whatever the scenario expected.
    let observed = observed(&result);
    assert_eq!(codes(&observed, "fumo-result"), [0i64; 0], "{observed:?}");
    assert_eq!(codes(&observed, "dl-status"), [0i64; 0], "{observed:?}");
    assert_eq!(codes(&observed, "fumo-state"), [10], "{observed:?}");
    let statuses = codes(&observed, "syncml-status");
    for code in [507, 216, 418] {
        assert!(statuses.contains(&code), "no {code} in {statuses:?}");
    }
    assert!(!statuses.contains(&202), "an Exec was answered 202");
    assert_eq!(
        codes(&observed, "alert"),
        [1201],
        "one session, no Generic Alert"
    );
    assert_passed(&result);
}

#[test]
fn a_rolled_back_exec_is_observed_to_start_no_update() {
    assert_no_update(ROLLED_BACK);
}

#[test]
fn an_exec_whose_rollback_failed_is_observed_to_start_no_update() {
    assert_no_update(ROLLBACK_FAILS);
}

#[test]
fn a_rolled_back_exec_never_reaches_the_content_server_nor_the_firmware() {
    for file in [ROLLED_BACK, ROLLBACK_FAILS] {
        let Driven { server, device } = drive(file);
        for path in HOSTED {
            assert_eq!(server.content_requests(path), 0, "{file}: {path} requested");
        }
        assert!(server.install_notifications().is_empty(), "{file}");
        assert_eq!(fumo_results(&server.records()), [0u16; 0], "{file}");
        let agent = device.fumo().expect("FUMO");
        assert_eq!(agent.durable.job, None, "{file}: a job is queued");
        assert!(agent.records.results.is_empty(), "{file}");
        assert!(agent.records.dl_statuses.is_empty(), "{file}");
        assert_eq!(agent.durable.firmware.version(), "FW-1.0.0", "{file}");
        assert_eq!(
            device.tree.value_str("./DevDetail/FwV"),
            Some("FW-1.0.0"),
            "{file}"
        );
        assert!(device.records.execs.is_empty(), "{file}");
    }
}

/// The same campaign in an Atomic that commits runs: the checks above are not vacuous.
#[test]
fn a_committed_exec_downloads_installs_and_reports() {
    let result = run_scenario(COMMITS);
    assert_passed(&result);
    let observed = observed(&result);
    assert_eq!(codes(&observed, "fumo-result"), [200]);
    assert_eq!(codes(&observed, "dl-status"), [900]);
    assert_eq!(
        codes(&observed, "fumo-state"),
        [10, 30, 40, 50, 60, 100],
        "{observed:?}"
    );
    let Driven { server, device } = drive(COMMITS);
    for path in HOSTED {
        assert!(server.content_requests(path) >= 1, "{path} never requested");
    }
    assert_eq!(fumo_results(&server.records()), [200]);
    let agent = device.fumo().expect("FUMO");
    assert_eq!(agent.durable.firmware.version(), "FW-1.1.0");
    let execs: Vec<_> = device.records.execs.iter().map(|e| &e.uri).collect();
    assert_eq!(execs, ["./FUMO/Pkg1/DownloadAndUpdate"]);
}
