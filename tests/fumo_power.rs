//! Power cuts across a whole FUMO job: for every save the device makes while it downloads,
//! installs and reports an update, cut the power at that save, let the device boot again and
//! finish, and prove it ends consistent — the old firmware intact after a failed update, the new
//! one after a committed update, never a mix — and that the server got exactly one result.

use dmsim::device::{Device, DurableState};
use dmsim::faults::{FaultEffect, FaultPlan, FaultPoint, FaultRule, Trigger};
use dmsim::firmware::{SlotId, SlotState};
use dmsim::fumo::Phase;
use dmsim::inproc::{InProcess, InProcessContent};
use dmsim::jobs;
use dmsim::scenario::load::parse;
use dmsim::scenario::{build_device, mock_server};
use dmsim::server::{fumo_results, MockServer, SessionRecord};
use dmsim::session::{run_session_with, DriverOptions, Initiator, Pace, SessionStart};
use dmsim::storage::{load_state, MemoryStore, StateStore, StoreError};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

const OLD: &str = "FW-1.0.0";
const NEW: &str = "FW-1.1.0";

const CAMPAIGN: &str = r#"
name = "power cuts"
seed = 77

[device.fumo]

[[server.file]]
path = "/fw/update.pkg"
package = { to = "FW-1.1.0", size = "12KiB" }

[[server.file]]
path = "/fw/update.dd"
descriptor = { object = "update.pkg", notify = "/fw/notify", sha256 = true }

[[server.content_fault]]
path = "/fw/update.pkg"
kind = "cut-at"
value = 5000
attempts = "first"

[[server.package]]
[[server.package.command]]
cmd = "replace"
target = "./FUMO/Pkg1/DownloadAndUpdate/PkgURL"
data = "$SERVER/fw/update.dd"

[[server.package.command]]
cmd = "exec"
target = "./FUMO/Pkg1/DownloadAndUpdate"
correlator = "power"
"#;

/// A memory store that names the step each saved state was taken at.
#[derive(Default)]
struct Recording {
    inner: MemoryStore,
    steps: Mutex<Vec<String>>,
}

impl StateStore for Recording {
    fn load(&self, device: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.load(device)
    }

    fn save(&self, device: &str, bytes: &[u8]) -> Result<(), StoreError> {
        self.inner.save(device, bytes)?;
        if !device.ends_with("#package") {
            let state: Option<DurableState> = load_state(&self.inner, device)?;
            let name = state.as_ref().map_or("none".to_string(), step_name);
            self.steps
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(name);
        }
        Ok(())
    }
}

/// The named step a saved state stands for.
fn step_name(state: &DurableState) -> String {
    let Some(saved) = state.agent(dmsim::fumo::mo::DEFAULT_ROOT) else {
        return "no fumo".into();
    };
    let fumo: dmsim::fumo::FumoDurable =
        serde_json::from_value(saved.clone()).expect("a FUMO state");
    match fumo.job.as_ref().map(|j| &j.phase) {
        None => format!("report (State {})", fumo.state.value()),
        Some(Phase::Start) => "start".into(),
        Some(Phase::Download { attempts }) => format!("download attempt {}", attempts + 1),
        Some(Phase::Downloaded) => "downloaded".into(),
        Some(Phase::ConditionsTimeout) => "conditions timeout".into(),
        Some(Phase::Install) => match fumo.firmware.install() {
            Some(install) => format!("install {}", install.step()),
            None => "install done".into(),
        },
    }
}

struct Run {
    device: Device,
    records: Vec<SessionRecord>,
    steps: Vec<String>,
}

/// Deliver the campaign, run the job with `faults` (plus a power cut at the `cut`th save of the
/// job), then let the device report.
async fn run(cut: Option<u32>, mut rules: Vec<FaultRule>) -> Run {
    let loaded = parse(Path::new("power.toml"), CAMPAIGN).expect("valid scenario");
    let file = &loaded.file;
    let mut device = build_device(file).expect("device");
    let server: Arc<MockServer> = Arc::new(mock_server(file).expect("server"));
    let transport = InProcess::new(Arc::clone(&server));
    let content = InProcessContent::new(Arc::clone(&server));
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
        .steps
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
    jobs::run_job(&mut device, &content, &store)
        .await
        .expect("the job ends");
    for _ in 0..3 {
        if device.reports.pending().is_empty() {
            break;
        }
        run_session_with(&transport, &mut device, start(), options()).await;
    }
    let steps = store
        .steps
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    Run {
        device,
        records: server.records(),
        steps,
    }
}

/// One result reached the server, and the device is either fully on the new firmware (200) or
/// fully on the old one (a failure), whatever the cut.
fn assert_consistent(run: &Run, label: &str) {
    let results = fumo_results(&run.records);
    assert_eq!(results.len(), 1, "{label}: results received {results:?}");
    assert!(
        run.device.reports.pending().is_empty(),
        "{label}: owes reports"
    );
    let agent = run.device.fumo().expect("FUMO");
    let decided: Vec<u16> = agent
        .records
        .results
        .iter()
        .map(|r| u16::try_from(r.code).expect("a FUMO result"))
        .collect();
    assert_eq!(
        decided, results,
        "{label}: the device ended its job once, with what it sent"
    );
    let firmware = &agent.durable.firmware;
    assert!(firmware.install().is_none(), "{label}: install left open");
    assert!(agent.durable.job.is_none(), "{label}: job left open");
    let active = firmware.slot(firmware.active());
    assert_eq!(active.state, SlotState::Good, "{label}: active slot");
    let shown = run.device.tree.value_str("./DevDetail/FwV");
    assert_eq!(
        shown,
        Some(firmware.version()),
        "{label}: FwV shows another version"
    );
    match results[0] {
        200 => {
            assert_eq!(firmware.version(), NEW, "{label}");
            assert_eq!(agent.durable.state.value(), 100, "{label}");
        }
        code => {
            assert_eq!(firmware.version(), OLD, "{label}: failed with {code}");
            assert_eq!(firmware.active(), SlotId::A, "{label}: old slot");
            assert_eq!(firmware.slot(SlotId::A).version, OLD, "{label}");
            assert_ne!(
                firmware.slot(SlotId::B).state,
                SlotState::Good,
                "{label}: a failed image is never Good"
            );
            assert!(
                [20, 70, 80].contains(&agent.durable.state.value()),
                "{label}: State {}",
                agent.durable.state.value()
            );
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("runtime")
}

/// Cut at every save of the flow `rules` makes; returns the named steps that were cut.
fn cut_everywhere(rules: Vec<FaultRule>, want_result: u16) -> Vec<String> {
    let rt = runtime();
    let baseline = rt.block_on(run(None, rules.clone()));
    assert_consistent(&baseline, "no cut");
    assert_eq!(fumo_results(&baseline.records), [want_result]);
    for (n, step) in baseline.steps.iter().enumerate() {
        let label = format!("power cut at save {} ({step})", n + 1);
        let cut = rt.block_on(run(Some(n as u32 + 1), rules.clone()));
        assert_consistent(&cut, &label);
        assert!(
            cut.device.fumo().is_some_and(|f| f.records.boots >= 1),
            "{label}: the device never rebooted"
        );
    }
    baseline.steps
}

#[test]
fn a_power_cut_at_any_step_of_a_successful_update_ends_consistent_and_reports_once() {
    let steps = cut_everywhere(Vec::new(), 200);
    // The job was saved at "start" right after the session that accepted it; from there on:
    for named in [
        "download attempt 1",
        "download attempt 2",
        "downloaded",
        "install verify",
        "install write-inactive",
        "install reboot",
        "install boot-verify",
        "install commit",
        "install done",
        "report (State 100)",
    ] {
        assert!(
            steps.iter().any(|s| s == named),
            "step {named:?} never saved: {steps:?}"
        );
    }
}

#[test]
fn a_power_cut_at_any_step_of_a_rolled_back_update_keeps_the_old_firmware() {
    let verify_fails = FaultRule {
        point: FaultPoint::InstallVerify,
        effect: FaultEffect::VerifyFail,
        trigger: Trigger::Always,
    };
    let steps = cut_everywhere(vec![verify_fails], 410);
    assert!(steps.iter().any(|s| s == "install rollback"), "{steps:?}");
}

#[test]
fn power_lost_inside_the_install_steps_ends_consistent_and_reports_once() {
    let rt = runtime();
    for point in [FaultPoint::InstallWrite, FaultPoint::InstallReboot] {
        let rule = FaultRule {
            point,
            effect: FaultEffect::PowerLoss,
            trigger: Trigger::Nth(1),
        };
        let run = rt.block_on(run(None, vec![rule]));
        assert_consistent(&run, point.as_str());
    }
}

#[test]
fn a_power_supply_that_fails_at_every_save_is_reported_not_looped_on() {
    let rt = runtime();
    let loaded = parse(Path::new("power.toml"), CAMPAIGN).expect("valid scenario");
    let file = &loaded.file;
    let mut device = build_device(file).expect("device");
    let server: Arc<MockServer> = Arc::new(mock_server(file).expect("server"));
    let transport = InProcess::new(Arc::clone(&server));
    let content = InProcessContent::new(Arc::clone(&server));
    let store = MemoryStore::new();
    let start = SessionStart {
        initiator: Initiator::Client,
        server_id: Some(file.server.server_id.clone()),
    };
    let options = DriverOptions {
        keep_transcript: false,
        pace: Pace::Skip,
    };
    rt.block_on(run_session_with(&transport, &mut device, start, options));
    device.flash(&store).expect("flash");
    assert_eq!(
        device.save(&store).expect("save"),
        dmsim::device::Saved::Landed
    );
    device.faults = FaultPlan::new(vec![FaultRule {
        point: FaultPoint::StateSave,
        effect: FaultEffect::PowerLoss,
        trigger: Trigger::Always,
    }])
    .for_device(file.seed);
    let outcome = rt.block_on(jobs::run_job(&mut device, &content, &store));
    assert!(
        matches!(outcome, Err(jobs::JobError::PowerUnstable(n, "fumo")) if n > jobs::MAX_BOOTS_PER_RUN),
        "{outcome:?}"
    );
    let agent = device.fumo().expect("FUMO");
    assert_eq!(agent.durable.firmware.version(), OLD);
    assert!(agent.records.results.is_empty());
}
