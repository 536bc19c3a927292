//! The FUMO job's state machine driven step by step, without a device or a job runner: the
//! conditions the engine puts on jobs (the update client's nodes before a job starts, the lock and
//! other services running before an install, the installation conditions the user must accept)
//! end the job the way their outcomes say, at the step they belong to, and change nothing when
//! they are not set up.

use super::agent::{Fumo, FumoConfig, Job, Phase};
use super::mo;
use crate::download::Partial;
use crate::engine::{
    Action, Agent, ConditionsPrompt, DevicePrompt, Env, Input, Preconditions, PromptAnswer,
    Reported, ScriptedUser,
};
use crate::faults::Faults;
use crate::firmware::Firmware;
use crate::outcome::{Cause, Key, Phase as OutcomePhase};
use crate::package::{self, PackageSpec};
use crate::protocol::download::DeviceLimits;
use crate::protocol::fumo::{FumoState, Operation};
use crate::tree::{Format, Node, Tree, UriLimits};
use std::sync::Arc;

const MODEL: &str = "SIM-1";

/// The device's side of a step, as the job runner would hand it.
struct Device {
    tree: Tree,
    faults: Faults,
    now: u64,
    locked: bool,
    busy: Vec<String>,
    preconditions: Preconditions,
    user: ScriptedUser,
}

impl Device {
    fn new() -> Device {
        let mut tree = Tree::new(UriLimits::default());
        tree.insert("./DevInfo/Mod", Node::leaf(Format::Chr, MODEL))
            .expect("insert");
        Device {
            tree,
            faults: Faults::default(),
            now: 1000,
            locked: false,
            busy: Vec::new(),
            preconditions: Preconditions::default(),
            user: ScriptedUser::default(),
        }
    }
}

/// The agent of a device running 1.0, holding a package to 2.0 (as after an in-band Replace), with
/// an Update job queued.
fn agent(config: FumoConfig, device: &mut Device, operation: Operation) -> Fumo {
    let mut fumo = Fumo::new(Arc::new(config), Firmware::factory("1.0"));
    fumo.mount(&mut device.tree, "srv", device.now)
        .expect("mounts");
    if operation == Operation::Update {
        let spec = PackageSpec::new(MODEL, "1.0", "2.0", 2048).expect("spec");
        let bytes = package::build(&spec, &package::test_signing_key());
        fumo.store_pkg_data(bytes, &mut device.tree, device.now);
    }
    fumo.queue(Job {
        operation,
        correlator: Some("c1".into()),
        url: "http://x/fw.pkg".into(),
        phase: Phase::Start,
    });
    fumo
}

/// What a job came to: its report, and the seconds it waited on the device's clock.
struct Ended {
    reported: Reported,
    waited: u64,
}

impl Ended {
    fn key(&self) -> Key {
        self.reported.outcome.key()
    }
}

/// Step the job to its report, carrying out its actions as the job runner does (a download is
/// answered with `download`, the package it would fetch).
fn run(fumo: &mut Fumo, device: &mut Device, download: Option<Vec<u8>>) -> Ended {
    let mut waited = 0;
    let mut input = Input::Resume;
    for _ in 0..100 {
        let mut env = Env {
            tree: &mut device.tree,
            faults: &mut device.faults,
            now: device.now,
            roaming: false,
            battery_allows_update: true,
            free_memory: u64::MAX,
            download_limits: DeviceLimits::default(),
            profile: crate::profile::builtin("oma").expect("oma"),
            locked: device.locked,
            busy_services: &device.busy,
            preconditions: &device.preconditions,
            user: &mut device.user,
        };
        let action = fumo.step(std::mem::replace(&mut input, Input::Resume), &mut env);
        match action {
            Action::Save => {}
            Action::Wait { seconds } => {
                waited += seconds;
                device.now += seconds;
            }
            Action::SaveAndReboot | Action::PowerLoss => fumo.boot(&mut device.tree, device.now),
            Action::Download { .. } => {
                let bytes = download.clone().expect("the test serves no download");
                input = Input::Downloaded {
                    outcome: Box::new(crate::download::DownloadOutcome::Downloaded {
                        bytes,
                        dl_status: None,
                        descriptor: None,
                        notify: None,
                    }),
                    partial: Partial::new(),
                };
            }
            Action::Report { reported, .. } => {
                fumo.reported();
                assert!(!fumo.has_job(), "the report ends the job");
                return Ended { reported, waited };
            }
        }
    }
    panic!("the job never reported");
}

fn key(phase: OutcomePhase, cause: Cause) -> Key {
    Key(phase, cause)
}

fn efota_nodes() -> Preconditions {
    Preconditions {
        device_ready: Some("./Ext/EFOTA/DeviceReady".into()),
        inventory: Some("./Ext/EFOTA/Inventory".into()),
    }
}

/// A job first checks the update client's nodes: missing DeviceReady is `start.not-ready`, then a
/// missing Inventory `start.no-inventory`, the State left as it was and the package kept; with
/// both there, or none required, the update goes through.
#[test]
fn a_job_needs_the_update_clients_nodes_before_it_starts() {
    let mut device = Device::new();
    device.preconditions = efota_nodes();
    let mut fumo = agent(
        FumoConfig::new(mo::DEFAULT_ROOT),
        &mut device,
        Operation::Update,
    );
    let ended = run(&mut fumo, &mut device, None);
    assert_eq!(ended.key(), key(OutcomePhase::Start, Cause::NotReady));
    assert_eq!(ended.reported.code, 400);
    assert_eq!(
        ended.reported.outcome.detail.as_deref(),
        Some("./Ext/EFOTA/DeviceReady does not exist")
    );
    assert_eq!(fumo.durable.state, FumoState::ReadyToUpdate, "unchanged");
    assert!(fumo.has_package());

    device
        .tree
        .insert("./Ext/EFOTA/DeviceReady", Node::leaf(Format::Int, "1"))
        .expect("insert");
    let mut fumo = agent(
        FumoConfig::new(mo::DEFAULT_ROOT),
        &mut device,
        Operation::Update,
    );
    let ended = run(&mut fumo, &mut device, None);
    assert_eq!(ended.key(), key(OutcomePhase::Start, Cause::NoInventory));

    device
        .tree
        .insert("./Ext/EFOTA/Inventory", Node::interior())
        .expect("insert");
    let mut fumo = agent(
        FumoConfig::new(mo::DEFAULT_ROOT),
        &mut device,
        Operation::Update,
    );
    let ended = run(&mut fumo, &mut device, None);
    assert_eq!(ended.key(), key(OutcomePhase::Install, Cause::Succeeded));

    let mut bare = Device::new();
    let mut fumo = agent(
        FumoConfig::new(mo::DEFAULT_ROOT),
        &mut bare,
        Operation::Update,
    );
    let ended = run(&mut fumo, &mut bare, None);
    assert_eq!(
        ended.key(),
        key(OutcomePhase::Install, Cause::Succeeded),
        "a device without preconditions checks no node"
    );
}

/// A locked device, or one with other services running, does not begin the install: State 70,
/// the package kept for another Exec on Update; the lock is checked first. A Download alone
/// installs nothing and is not held back.
#[test]
fn a_locked_or_busy_device_refuses_the_install_and_keeps_the_package() {
    let mut device = Device::new();
    device.locked = true;
    device.busy = vec!["call".into()];
    let mut fumo = agent(
        FumoConfig::new(mo::DEFAULT_ROOT),
        &mut device,
        Operation::Update,
    );
    let ended = run(&mut fumo, &mut device, None);
    assert_eq!(ended.key(), key(OutcomePhase::Checks, Cause::DeviceLocked));
    assert_eq!(ended.reported.code, 400);
    assert_eq!(fumo.durable.state, FumoState::UpdateFailedHaveData);
    assert!(fumo.has_package());
    assert_eq!(fumo.durable.firmware.version(), "1.0");

    device.locked = false;
    let mut fumo = agent(
        FumoConfig::new(mo::DEFAULT_ROOT),
        &mut device,
        Operation::Update,
    );
    let ended = run(&mut fumo, &mut device, None);
    assert_eq!(ended.key(), key(OutcomePhase::Checks, Cause::ServicesBusy));
    assert_eq!(
        ended.reported.outcome.detail.as_deref(),
        Some("running: call")
    );
    assert_eq!(fumo.durable.state, FumoState::UpdateFailedHaveData);

    device.locked = true;
    let spec = PackageSpec::new(MODEL, "1.0", "2.0", 1024).expect("spec");
    let bytes = package::build(&spec, &package::test_signing_key());
    let mut fumo = agent(
        FumoConfig::new(mo::DEFAULT_ROOT),
        &mut device,
        Operation::Download,
    );
    let ended = run(&mut fumo, &mut device, Some(bytes));
    assert_eq!(ended.key(), key(OutcomePhase::Download, Cause::Succeeded));

    device.locked = false;
    device.busy.clear();
    let mut fumo = agent(
        FumoConfig::new(mo::DEFAULT_ROOT),
        &mut device,
        Operation::Update,
    );
    let ended = run(&mut fumo, &mut device, None);
    assert_eq!(ended.key(), key(OutcomePhase::Install, Cause::Succeeded));
    assert_eq!(fumo.durable.firmware.version(), "2.0");
}

/// A device that asks for the installation conditions installs only once the user accepts; an
/// unanswered prompt keeps the job at State 50 for the prompt's timeout on the device's clock,
/// then ends `checks.conditions-timeout` (401 under `oma`), package kept; a declined one is a user
/// rejection. A device that does not ask shows no prompt.
#[test]
fn unanswered_installation_conditions_time_out_on_the_devices_clock() {
    let asking = || {
        let mut config = FumoConfig::new(mo::DEFAULT_ROOT);
        config.install_conditions = Some(ConditionsPrompt { timeout: 120 });
        config
    };
    let mut device = Device::new();
    device.user = ScriptedUser::new([PromptAnswer::NoAnswer, PromptAnswer::Rejected]);
    let mut fumo = agent(asking(), &mut device, Operation::Update);
    let before = device.now;
    let ended = run(&mut fumo, &mut device, None);
    assert_eq!(
        ended.key(),
        key(OutcomePhase::Checks, Cause::ConditionsTimeout)
    );
    assert_eq!(ended.reported.code, 401);
    assert_eq!((ended.waited, device.now - before), (120, 120));
    assert_eq!(
        fumo.records.states.last(),
        Some(&FumoState::UpdateFailedHaveData)
    );
    assert!(
        !fumo.records.states.contains(&FumoState::UpdateProgressing),
        "the install never began"
    );
    assert!(fumo.has_package());

    let mut fumo = agent(asking(), &mut device, Operation::Update);
    let ended = run(&mut fumo, &mut device, None);
    assert_eq!(ended.key(), key(OutcomePhase::Checks, Cause::UserRejected));
    assert_eq!(ended.waited, 0);

    let mut fumo = agent(asking(), &mut device, Operation::Update);
    let ended = run(&mut fumo, &mut device, None);
    assert_eq!(
        ended.key(),
        key(OutcomePhase::Install, Cause::Succeeded),
        "no answer left: the user accepts"
    );
    assert_eq!(device.user.shown, [DevicePrompt::InstallConditions; 3]);

    let mut quiet = Device::new();
    quiet.user = ScriptedUser::new([PromptAnswer::NoAnswer]);
    let mut fumo = agent(
        FumoConfig::new(mo::DEFAULT_ROOT),
        &mut quiet,
        Operation::Update,
    );
    let ended = run(&mut fumo, &mut quiet, None);
    assert_eq!(ended.key(), key(OutcomePhase::Install, Cause::Succeeded));
    assert!(
        quiet.user.shown.is_empty(),
        "a device that does not ask shows nothing"
    );
}

/// A job whose prompt is timing out when the power goes resumes in that phase and ends the same
/// way: the phase is durable.
#[test]
fn the_conditions_timeout_phase_survives_a_restore() {
    let mut config = FumoConfig::new(mo::DEFAULT_ROOT);
    config.install_conditions = Some(ConditionsPrompt::default());
    let mut device = Device::new();
    device.user = ScriptedUser::new([PromptAnswer::NoAnswer]);
    let mut fumo = agent(config, &mut device, Operation::Update);
    let mut env = Env {
        tree: &mut device.tree,
        faults: &mut device.faults,
        now: device.now,
        roaming: false,
        battery_allows_update: true,
        free_memory: u64::MAX,
        download_limits: DeviceLimits::default(),
        profile: crate::profile::builtin("oma").expect("oma"),
        locked: false,
        busy_services: &[],
        preconditions: &device.preconditions,
        user: &mut device.user,
    };
    assert_eq!(
        fumo.step(Input::Resume, &mut env),
        Action::Wait {
            seconds: crate::engine::DEFAULT_CONDITIONS_TIMEOUT
        }
    );
    let saved = Agent::durable(&fumo).expect("encodes");
    let blob = fumo.bytes.clone();
    let mut restored = Fumo::new(Arc::clone(&fumo.config), Firmware::factory("1.0"));
    restored.restore(saved, blob).expect("restores");
    assert_eq!(
        restored.durable.job.as_ref().map(|j| j.phase.clone()),
        Some(Phase::ConditionsTimeout)
    );
    let ended = run(&mut restored, &mut device, None);
    assert_eq!(
        ended.key(),
        key(OutcomePhase::Checks, Cause::ConditionsTimeout)
    );
    assert_eq!(ended.waited, 0, "the wait was done before the save");
}
