//! SCOMO end to end, with a delivery package hosted by the mock server: a server adds
//! `Download/<p>`, Execs an operation (202), the device runs the job after the session (download,
//! delivery, one component per step) and reports it in a Generic Alert the server acknowledges;
//! the inventory and every Status value are checked. A power cut at every save of a
//! two-component install leaves one consistent inventory and one report. On a device that verifies
//! and rolls back, a second install over the first is verified, returned to the source versions
//! when it fails or when the server asked for a trial, and cut at every save as well.

use dmsim::device::{Device, DurableState};
use dmsim::engine::Agent;
use dmsim::faults::{FaultEffect, FaultPlan, FaultPoint, FaultRule, Trigger};
use dmsim::inproc::{InProcess, InProcessContent};
use dmsim::jobs;
use dmsim::package::{self, ComponentSpec, DeliverySpec};
use dmsim::protocol::scomo::{
    reported_result, DeliveredState, DeployedState, ResultData, OPERATION_COMPLETE,
};
use dmsim::scenario::load::parse;
use dmsim::scenario::{build_device, server_config};
use dmsim::scomo::{Area, FileKind, Scomo, ScomoConfig, ScomoDurable};
use dmsim::server::{ContentConfig, HostedFile, MockServer, SessionRecord};
use dmsim::session::{run_session_with, DriverOptions, Initiator, Pace, SessionStart};
use dmsim::storage::{load_state, MemoryStore, StateStore, StoreError};
use dmsim::syncml::Item;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

const CAMPAIGN: &str = r#"
name = "scomo"
seed = 5

[[server.package]]
[[server.package.command]]
cmd = "add"
target = "./SCOMO/Download/App1"
format = "node"

[[server.package.command]]
cmd = "add"
target = "./SCOMO/Download/App1/PkgID"
data = "suite"

[[server.package.command]]
cmd = "add"
target = "./SCOMO/Download/App1/Name"
data = "Suite"

[[server.package.command]]
cmd = "add"
target = "./SCOMO/Download/App1/PkgURL"
data = "$SERVER/sw/suite.pkg"

[[server.package.command]]
cmd = "exec"
target = "./SCOMO/Download/App1/Operations/OPERATION"
correlator = "corr-1"
"#;

fn delivery(env_of_second: &str) -> Vec<u8> {
    let spec = DeliverySpec::new(
        "suite",
        vec![
            ComponentSpec::new("maps", "Maps", "2.1.0", "Android", 4096).expect("spec"),
            ComponentSpec::new("agent", "Agent", "1.4", env_of_second, 2048).expect("spec"),
        ],
    )
    .expect("spec");
    package::build_delivery(&spec, &package::test_signing_key())
}

/// A memory store that records the SCOMO state of every save.
#[derive(Default)]
struct Recording {
    inner: MemoryStore,
    saves: Mutex<Vec<ScomoDurable>>,
}

impl StateStore for Recording {
    fn load(&self, device: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.load(device)
    }

    fn save(&self, device: &str, bytes: &[u8]) -> Result<(), StoreError> {
        self.inner.save(device, bytes)?;
        if !device.contains('#') {
            let state: Option<DurableState> = load_state(&self.inner, device)?;
            if let Some(saved) = state.as_ref().and_then(|s| s.agent("./SCOMO")) {
                let scomo: ScomoDurable =
                    serde_json::from_value(saved.clone()).expect("a SCOMO state");
                self.saves
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(scomo);
            }
        }
        Ok(())
    }
}

struct Run {
    device: Device,
    records: Vec<SessionRecord>,
    saves: Vec<ScomoDurable>,
}

/// Run `operation` on a package hosted at `/sw/suite.pkg`, with `rules` and a power cut at the
/// `cut`th save of the job; then let the device report.
async fn run(
    operation: &str,
    package: Vec<u8>,
    cut: Option<u32>,
    mut rules: Vec<FaultRule>,
) -> Run {
    let text = CAMPAIGN.replace("OPERATION", operation);
    let loaded = parse(Path::new("scomo.toml"), &text).expect("valid scenario");
    let file = &loaded.file;
    let mut device = build_device(file).expect("device");
    let agent = Scomo::new(Arc::new(ScomoConfig::new("./SCOMO")));
    agent
        .mount(&mut device.tree, &file.server.server_id, device.clock)
        .expect("mounts");
    device.agents.push(Box::new(agent));
    let content = ContentConfig::default().file(HostedFile::new(
        "/sw/suite.pkg",
        "application/vnd.dmsim.delivery",
        package,
    ));
    let server = Arc::new(MockServer::with_content(server_config(file), content));
    let transport = InProcess::new(Arc::clone(&server));
    let client = InProcessContent::new(Arc::clone(&server));
    let store = Recording::default();
    let start = || SessionStart {
        initiator: Initiator::Client,
        server_id: Some(file.server.server_id.clone()),
    };
    let options = || DriverOptions {
        keep_transcript: false,
        pace: Pace::Skip,
    };
    run_session_with(&transport, &mut device, start(), options()).await;
    assert_eq!(
        device.save(&store).expect("save"),
        dmsim::device::Saved::Landed
    );
    store
        .saves
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clear();
    if let Some(n) = cut {
        rules.push(FaultRule {
            point: FaultPoint::StateSave,
            effect: FaultEffect::PowerLoss,
            trigger: Trigger::Nth(n),
        });
    }
    device.faults = FaultPlan::new(rules).for_device(file.seed);
    jobs::run_job(&mut device, &client, &store)
        .await
        .expect("the job ends");
    for _ in 0..3 {
        if device.reports.pending().is_empty() {
            break;
        }
        run_session_with(&transport, &mut device, start(), options()).await;
    }
    let saves = store
        .saves
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    Run {
        device,
        records: server.records(),
        saves,
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("runtime")
}

fn scomo(device: &Device) -> &Scomo {
    device
        .agents
        .iter()
        .find_map(|a| a.as_any().downcast_ref::<Scomo>())
        .expect("SCOMO")
}

/// The result items of the OperationComplete alerts the server received.
fn result_items(records: &[SessionRecord]) -> Vec<Item> {
    records
        .iter()
        .flat_map(|r| &r.alerts)
        .flat_map(|a| &a.items)
        .filter(|i| reported_result(i).is_some())
        .cloned()
        .collect()
}

fn results(records: &[SessionRecord]) -> Vec<u16> {
    result_items(records)
        .iter()
        .filter_map(reported_result)
        .map(|r| r.code)
        .collect()
}

/// The Status values `area`'s node `node` took.
fn statuses(device: &Device, area: Area, node: &str) -> Vec<u16> {
    scomo(device)
        .records
        .statuses
        .iter()
        .filter(|r| r.area == area && r.node == node)
        .map(|r| r.value)
        .collect()
}

/// (id, version, state) of every deployed component, in the tree as a server reads it.
fn inventory(device: &Device) -> Vec<(String, String, String)> {
    let tree = &device.tree;
    let mut found: Vec<(String, String, String)> = tree
        .children("./SCOMO/Inventory/Deployed")
        .map(|c| {
            let leaf = |name: &str| {
                tree.value_str(&format!("./SCOMO/Inventory/Deployed/{c}/{name}"))
                    .unwrap_or("?")
                    .to_string()
            };
            (leaf("ID"), leaf("Version"), leaf("State"))
        })
        .collect();
    found.sort();
    found
}

fn both_active() -> Vec<(String, String, String)> {
    vec![
        ("agent".into(), "1.4".into(), "20".into()),
        ("maps".into(), "2.1.0".into(), "20".into()),
    ]
}

#[test]
fn download_install_of_two_components_deploys_both_and_reports_1200() {
    let rt = runtime();
    let run = rt.block_on(run("DownloadInstall", delivery("Linux"), None, Vec::new()));
    let items = result_items(&run.records);
    assert_eq!(items.len(), 1, "one report");
    let item = &items[0];
    let meta = item.meta.as_ref().expect("meta");
    assert_eq!(meta.type_.as_deref(), Some(OPERATION_COMPLETE));
    assert_eq!(meta.mark.as_deref(), Some("informational"));
    assert_eq!(
        item.source_uri(),
        Some("./SCOMO/Download/App1/Operations/DownloadInstall")
    );
    assert_eq!(item.target_uri(), Some("./SCOMO/Inventory/Delivered/suite"));
    assert_eq!(
        reported_result(item),
        Some(ResultData {
            code: 1200,
            identifier: Some("suite".into())
        })
    );
    let alert = run
        .records
        .iter()
        .flat_map(|r| &r.alerts)
        .find(|a| a.items.iter().any(|i| reported_result(i).is_some()))
        .expect("the alert");
    assert_eq!(alert.correlator.as_deref(), Some("corr-1"));
    assert!(run.device.reports.pending().is_empty(), "acknowledged");
    assert_eq!(inventory(&run.device), both_active());
    let tree = &run.device.tree;
    assert_eq!(
        tree.value_str("./SCOMO/Inventory/Delivered/suite/State"),
        Some(DeliveredState::Installed.code().to_string().as_str())
    );
    assert_eq!(
        tree.value_str("./SCOMO/Inventory/Deployed/maps/PkgIDRef"),
        Some("suite")
    );
    assert_eq!(tree.value_str("./SCOMO/Download/App1/Status"), Some("10"));
    assert_eq!(
        statuses(&run.device, Area::Download, "App1"),
        [30, 40, 50, 10]
    );
    assert_eq!(
        statuses(&run.device, Area::Delivered, "suite"),
        [10, 40, 10]
    );
    assert_eq!(statuses(&run.device, Area::Deployed, "maps"), [10]);
    let agent = scomo(&run.device);
    assert_eq!(agent.records.results.len(), 1);
    assert_eq!(agent.records.results[0].code, 1200);
    assert!(agent.durable.job.is_none());
}

#[test]
fn download_install_inactive_leaves_the_components_inactive() {
    let rt = runtime();
    let run = rt.block_on(run(
        "DownloadInstallInactive",
        delivery("Linux"),
        None,
        Vec::new(),
    ));
    assert_eq!(results(&run.records), [1200]);
    let inactive = DeployedState::Inactive.code().to_string();
    assert!(inventory(&run.device)
        .iter()
        .all(|(_, _, s)| *s == inactive));
    assert_eq!(inventory(&run.device).len(), 2);
}

#[test]
fn download_only_delivers_the_package() {
    let rt = runtime();
    let run = rt.block_on(run("Download", delivery("Linux"), None, Vec::new()));
    assert_eq!(results(&run.records), [1200]);
    assert!(inventory(&run.device).is_empty());
    assert_eq!(
        run.device
            .tree
            .value_str("./SCOMO/Inventory/Delivered/suite/State"),
        Some("10")
    );
    assert_eq!(statuses(&run.device, Area::Download, "App1"), [30, 40]);
}

#[test]
fn an_unsupported_environment_is_1413_and_nothing_is_installed() {
    let rt = runtime();
    let run = rt.block_on(run(
        "DownloadInstall",
        delivery("Symbian"),
        None,
        Vec::new(),
    ));
    assert_eq!(results(&run.records), [1413]);
    assert!(inventory(&run.device).is_empty());
    // No install of this device can use the package: its data is deleted, its node stays.
    assert_eq!(
        statuses(&run.device, Area::Download, "App1"),
        [30, 40, 50, 70]
    );
    assert_eq!(
        statuses(&run.device, Area::Delivered, "suite"),
        [10, 40, 60]
    );
    let agent = scomo(&run.device);
    assert_eq!(agent.durable.delivered[0].len, 0);
    assert!(agent.package(0).is_empty());
}

#[test]
fn a_bad_signature_is_1407_and_nothing_is_delivered() {
    let rt = runtime();
    let spec = DeliverySpec::new(
        "suite",
        vec![ComponentSpec::new("maps", "Maps", "2.1.0", "Android", 512).expect("spec")],
    )
    .expect("spec");
    let bytes = package::build_defective_delivery(
        &spec,
        &package::test_signing_key(),
        package::DeliveryDefect::BadSignature,
    )
    .expect("builds");
    let run = rt.block_on(run("DownloadInstall", bytes, None, Vec::new()));
    assert_eq!(results(&run.records), [1407]);
    assert!(run
        .device
        .tree
        .children("./SCOMO/Inventory/Delivered")
        .next()
        .is_none());
    assert_eq!(statuses(&run.device, Area::Download, "App1"), [30, 40, 70]);
}

#[test]
fn a_failing_second_component_rolls_the_first_back_and_reports_1405() {
    let rt = runtime();
    let write_fails_second = FaultRule {
        point: FaultPoint::InstallWrite,
        effect: FaultEffect::StorageWriteError,
        trigger: Trigger::Nth(2),
    };
    let done = rt.block_on(run(
        "DownloadInstall",
        delivery("Linux"),
        None,
        vec![write_fails_second.clone()],
    ));
    assert_eq!(results(&done.records), [1405]);
    assert!(inventory(&done.device).is_empty(), "rolled back");
    let agent = scomo(&done.device);
    assert_eq!(
        agent.records.results[0].outcome.rollback,
        dmsim::outcome::Rollback::Done
    );
    assert!(
        done.saves.iter().any(|s| s.deployed.len() == 1),
        "the first component was installed before the failure"
    );
    // The rollback itself fails: the first component stays, and the inventory says so.
    let failed = rt.block_on(run(
        "DownloadInstall",
        delivery("Linux"),
        None,
        vec![
            write_fails_second,
            FaultRule {
                point: FaultPoint::InstallRollback,
                effect: FaultEffect::RollbackFail,
                trigger: Trigger::Always,
            },
        ],
    ));
    assert_eq!(results(&failed.records), [1405]);
    assert_eq!(
        inventory(&failed.device),
        [("maps".to_string(), "2.1.0".to_string(), "20".to_string())]
    );
    assert_eq!(
        scomo(&failed.device).records.results[0]
            .outcome
            .key()
            .to_string(),
        "install.rollback-failed"
    );
}

/// A power cut at every save of the install: afterwards each component is wholly installed or
/// not at all, the inventory the tree shows is the saved one, and the server got one report.
#[test]
fn a_power_cut_at_any_save_of_a_two_component_install_is_consistent_and_reports_once() {
    let rt = runtime();
    let baseline = rt.block_on(run("DownloadInstall", delivery("Linux"), None, Vec::new()));
    assert_eq!(results(&baseline.records), [1200]);
    let saves = baseline.saves.len();
    assert!(
        saves >= 6,
        "download, delivery, two components, report: {saves}"
    );
    // Saves where one component, then both, are installed and the job still runs.
    assert!(baseline
        .saves
        .iter()
        .any(|s| s.job.is_some() && s.deployed.len() == 1));
    for n in 1..=saves as u32 {
        let label = format!("power cut at save {n}");
        let cut = rt.block_on(run(
            "DownloadInstall",
            delivery("Linux"),
            Some(n),
            Vec::new(),
        ));
        let got = results(&cut.records);
        assert_eq!(got.len(), 1, "{label}: {got:?}");
        assert!(cut.device.reports.pending().is_empty(), "{label}");
        let agent = scomo(&cut.device);
        assert!(agent.records.boots >= 1, "{label}: never rebooted");
        assert!(agent.durable.job.is_none(), "{label}: job left open");
        assert_eq!(
            agent
                .records
                .results
                .iter()
                .map(|r| r.code)
                .collect::<Vec<_>>(),
            [i64::from(got[0])],
            "{label}"
        );
        let mut shown: Vec<String> = agent
            .durable
            .deployed
            .iter()
            .map(|c| c.id.clone())
            .collect();
        shown.sort();
        assert_eq!(
            inventory(&cut.device)
                .iter()
                .map(|(id, _, _)| id.clone())
                .collect::<Vec<_>>(),
            shown,
            "{label}: the tree shows the saved inventory"
        );
        assert_eq!(got[0], 1200, "{label}");
        assert_eq!(inventory(&cut.device), both_active(), "{label}");
    }
}

// ---- A device that verifies and rolls back (`verify_and_rollback`) ----

/// Session 1 installs `suite` 1.0 from `/sw/v1.pkg`; session 2 points `PkgURL` at `/sw/v2.pkg`
/// and Execs DownloadInstall again, with `EXEC_DATA`.
const OVER_V1: &str = r#"
name = "scomo over 1.0"
seed = 6

[[server.package]]
[[server.package.command]]
cmd = "add"
target = "./SCOMO/Download/App1"
format = "node"

[[server.package.command]]
cmd = "add"
target = "./SCOMO/Download/App1/PkgID"
data = "suite"

[[server.package.command]]
cmd = "add"
target = "./SCOMO/Download/App1/PkgURL"
data = "$SERVER/sw/v1.pkg"

[[server.package.command]]
cmd = "exec"
target = "./SCOMO/Download/App1/Operations/DownloadInstall"
correlator = "corr-1"

[[server.package]]
session = 2
[[server.package.command]]
cmd = "replace"
target = "./SCOMO/Download/App1/PkgURL"
data = "$SERVER/sw/v2.pkg"

[[server.package.command]]
cmd = "exec"
target = "./SCOMO/Download/App1/Operations/DownloadInstall"
correlator = "corr-2"
EXEC_DATA
"#;

fn suite(version: &str, seed: u64) -> DeliverySpec {
    DeliverySpec::new(
        "suite",
        vec![
            ComponentSpec::new("maps", "Maps", version, "Android", 4096).expect("spec"),
            ComponentSpec::new("agent", "Agent", version, "Linux", 2048).expect("spec"),
        ],
    )
    .expect("spec")
    .with_seed(seed)
}

/// On a device that verifies and rolls back: install 1.0, then 2.0 over it (a trial when `trial`)
/// with `rules` and a power cut at the `cut`th save of the second job; then let it report.
async fn run_over_v1(trial: bool, cut: Option<u32>, mut rules: Vec<FaultRule>) -> Run {
    let data = if trial {
        format!("data = \"{}\"", dmsim::scomo::TRIAL_ARGUMENT)
    } else {
        String::new()
    };
    let text = OVER_V1.replace("EXEC_DATA", &data);
    let loaded = parse(Path::new("scomo.toml"), &text).expect("valid scenario");
    let file = &loaded.file;
    let mut device = build_device(file).expect("device");
    let mut config = ScomoConfig::new("./SCOMO");
    config.verify_and_rollback = true;
    let agent = Scomo::new(Arc::new(config));
    agent
        .mount(&mut device.tree, &file.server.server_id, device.clock)
        .expect("mounts");
    device.agents.push(Box::new(agent));
    let key = package::test_signing_key();
    let content = ContentConfig::default()
        .file(HostedFile::new(
            "/sw/v1.pkg",
            "application/vnd.dmsim.delivery",
            package::build_delivery(&suite("1.0", 1), &key),
        ))
        .file(HostedFile::new(
            "/sw/v2.pkg",
            "application/vnd.dmsim.delivery",
            package::build_delivery(&suite("2.0", 2), &key),
        ));
    let server = Arc::new(MockServer::with_content(server_config(file), content));
    let transport = InProcess::new(Arc::clone(&server));
    let client = InProcessContent::new(Arc::clone(&server));
    let store = Recording::default();
    let start = || SessionStart {
        initiator: Initiator::Client,
        server_id: Some(file.server.server_id.clone()),
    };
    let options = || DriverOptions {
        keep_transcript: false,
        pace: Pace::Skip,
    };
    for session in 1..=2 {
        run_session_with(&transport, &mut device, start(), options()).await;
        assert_eq!(
            device.save(&store).expect("save"),
            dmsim::device::Saved::Landed
        );
        if session == 2 {
            break;
        }
        jobs::run_job(&mut device, &client, &store)
            .await
            .expect("the first job ends");
    }
    store
        .saves
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clear();
    if let Some(n) = cut {
        rules.push(FaultRule {
            point: FaultPoint::StateSave,
            effect: FaultEffect::PowerLoss,
            trigger: Trigger::Nth(n),
        });
    }
    device.faults = FaultPlan::new(rules).for_device(file.seed);
    jobs::run_job(&mut device, &client, &store)
        .await
        .expect("the second job ends");
    for _ in 0..3 {
        if device.reports.pending().is_empty() {
            break;
        }
        run_session_with(&transport, &mut device, start(), options()).await;
    }
    let saves = store
        .saves
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    Run {
        device,
        records: server.records(),
        saves,
    }
}

/// The outcome keys of the jobs the device ended.
fn keys(device: &Device) -> Vec<String> {
    scomo(device)
        .records
        .results
        .iter()
        .map(|r| r.outcome.key().to_string())
        .collect()
}

fn both_at(version: &str) -> Vec<(String, String, String)> {
    vec![
        ("agent".into(), version.into(), "20".into()),
        ("maps".into(), version.into(), "20".into()),
    ]
}

/// Every deployed component has its installed file at its version, holding the bytes of that
/// version's package, and no source version file outlives the job.
fn assert_files_match(device: &Device, label: &str) {
    let agent = scomo(device);
    let files = &agent.durable.files;
    assert!(
        files.iter().all(|f| f.kind == FileKind::Installed),
        "{label}: {files:?}"
    );
    assert_eq!(files.len(), agent.durable.deployed.len(), "{label}");
    let key = package::test_signing_key();
    for c in &agent.durable.deployed {
        let seed = if c.version == "1.0" { 1 } else { 2 };
        let bytes = package::build_delivery(&suite(&c.version, seed), &key);
        let verified = package::verify_delivery(&bytes, &key.verifying_key(), package::CLOCK_START)
            .expect("verifies");
        let header = &verified.component(&c.id).expect("component").header;
        assert_eq!(agent.check_installed(header), Ok(()), "{label}: {}", c.id);
    }
}

#[test]
fn a_verifying_device_verifies_what_it_installed_and_reports_1200() {
    let rt = runtime();
    let run = rt.block_on(run_over_v1(false, None, Vec::new()));
    assert_eq!(results(&run.records), [1200, 1200]);
    assert_eq!(keys(&run.device), ["verify.succeeded", "verify.succeeded"]);
    assert_eq!(inventory(&run.device), both_at("2.0"));
    assert_files_match(&run.device, "verified");
    assert_eq!(
        statuses(&run.device, Area::Delivered, "suite"),
        [10, 40, 10, 40, 10]
    );
    // While the second job ran, the 1.0 files were kept as source version files.
    assert!(run
        .saves
        .iter()
        .any(|s| s.files.iter().any(|f| f.kind == FileKind::Source)));
}

#[test]
fn a_trial_install_returns_to_the_source_versions_and_reports_1200() {
    let rt = runtime();
    let run = rt.block_on(run_over_v1(true, None, Vec::new()));
    assert_eq!(results(&run.records), [1200, 1200]);
    assert_eq!(keys(&run.device), ["verify.succeeded", "trial.succeeded"]);
    assert_eq!(inventory(&run.device), both_at("1.0"));
    assert_files_match(&run.device, "trial");
    // 2.0 was installed before the return: a save held both components at 2.0.
    assert!(run
        .saves
        .iter()
        .any(|s| s.deployed.len() == 2 && s.deployed.iter().all(|c| c.version == "2.0")));
    assert_eq!(
        run.device
            .tree
            .value_str("./SCOMO/Inventory/Delivered/suite/State"),
        Some("10"),
        "the trial leaves the package delivered, not installed"
    );
}

#[test]
fn a_failed_verification_rolls_back_to_the_source_versions_and_reports_1405() {
    let rt = runtime();
    let verify_fails = FaultRule {
        point: FaultPoint::InstallVerify,
        effect: FaultEffect::VerifyFail,
        trigger: Trigger::Nth(2),
    };
    let run = rt.block_on(run_over_v1(false, None, vec![verify_fails.clone()]));
    assert_eq!(results(&run.records), [1200, 1405]);
    assert_eq!(
        keys(&run.device),
        ["verify.succeeded", "verify.rolled-back"]
    );
    assert_eq!(inventory(&run.device), both_at("1.0"));
    assert_files_match(&run.device, "rolled back");
    // The rollback fails too, for want of the source version file of `agent` (the second kept).
    let lost = FaultRule {
        point: FaultPoint::ScomoSourceFile,
        effect: FaultEffect::FileMissing,
        trigger: Trigger::Nth(2),
    };
    let run = rt.block_on(run_over_v1(false, None, vec![verify_fails, lost]));
    assert_eq!(results(&run.records), [1200, 1405]);
    assert_eq!(
        keys(&run.device),
        ["verify.succeeded", "verify.source-missing"]
    );
    assert_eq!(inventory(&run.device), both_at("2.0"));
}

/// A power cut at every save of a trial install over 1.0 (two components installed, verified and
/// returned, one per step): afterwards the device reports once, holds 1.0 with its files, keeps no
/// source version file, and the tree shows what was saved.
#[test]
fn a_power_cut_at_any_save_of_a_trial_install_is_consistent_and_reports_once() {
    let rt = runtime();
    let baseline = rt.block_on(run_over_v1(true, None, Vec::new()));
    let saves = baseline.saves.len();
    assert!(
        saves >= 9,
        "download, delivery, two installs, two verifications, two returns, report: {saves}"
    );
    for n in 1..=saves as u32 {
        let label = format!("power cut at save {n}");
        let cut = rt.block_on(run_over_v1(true, Some(n), Vec::new()));
        assert_eq!(results(&cut.records), [1200, 1200], "{label}");
        assert!(cut.device.reports.pending().is_empty(), "{label}");
        let agent = scomo(&cut.device);
        assert!(agent.records.boots >= 1, "{label}: never rebooted");
        assert!(agent.durable.job.is_none(), "{label}: job left open");
        assert_eq!(keys(&cut.device)[1], "trial.succeeded", "{label}");
        assert_eq!(inventory(&cut.device), both_at("1.0"), "{label}");
        assert_files_match(&cut.device, &label);
    }
}
