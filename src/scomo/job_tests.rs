//! The SCOMO job's state machine driven step by step, without a device or a job runner: the
//! conditions the engine puts on jobs (the update client's nodes, the lock and other services
//! running before an install, the installation conditions) end an install of a delivered package
//! the way their outcomes say, and a device set up to abort a transaction that comes while its job
//! is queued reports that second one on its own, before the first goes on.

use super::agent::{ExecWhileBusy, Scomo, ScomoConfig, MAX_ABORTED};
use super::mo::{self, Area};
use crate::engine::{
    Action, Agent, ConditionsPrompt, Env, Input, Preconditions, PromptAnswer, Reported,
    ScriptedUser,
};
use crate::faults::Faults;
use crate::outcome::{Cause, Key, Phase};
use crate::package::{self, ComponentSpec, DeliverySpec};
use crate::protocol::download::DeviceLimits;
use crate::protocol::scomo::{DeliveredStatus, ResultData};
use crate::syncml::{GenericAlert, StatusCode};
use crate::tree::{Format, Node, Tree, UriLimits};
use std::sync::Arc;

const INSTALL: &str = "./SCOMO/Inventory/Delivered/suite/Operations/Install";
const REMOVE: &str = "./SCOMO/Inventory/Delivered/suite/Operations/Remove";

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

/// A SCOMO agent set up with `config`, holding the delivered package `suite` (two components,
/// pushed in-band), nothing deployed.
fn holding_suite(config: ScomoConfig) -> (Scomo, Device) {
    let mut device = Device {
        tree: Tree::new(UriLimits::default()),
        faults: Faults::default(),
        now: 1000,
        locked: false,
        busy: Vec::new(),
        preconditions: Preconditions::default(),
        user: ScriptedUser::default(),
    };
    let mut scomo = Scomo::new(Arc::new(config));
    Agent::mount(&scomo, &mut device.tree, "srv", device.now).expect("mounts");
    let spec = DeliverySpec::new(
        "suite",
        vec![
            ComponentSpec::new("maps", "Maps", "2.1", "Android", 1024).expect("spec"),
            ComponentSpec::new("agent", "Agent", "1.4", "Linux", 512).expect("spec"),
        ],
    )
    .expect("spec");
    let bytes = package::build_delivery(&spec, &package::test_signing_key());
    let data = "./SCOMO/Inventory/Delivered/suite/Data";
    scomo.store(data, bytes, &mut device.tree, device.now);
    assert!(scomo.delivered_index("suite").is_some());
    (scomo, device)
}

/// An Exec on `uri` as a session makes it: accepted (the job queued), or refused with its status.
fn exec(scomo: &mut Scomo, device: &Device, uri: &str, corr: &str) -> Result<(), StatusCode> {
    let ticket =
        Agent::exec(scomo, uri, Some(corr), &device.tree, false).expect("an operation node")?;
    scomo.queue(ticket);
    Ok(())
}

/// Every report the agent makes until it has no job left, and the seconds it waited.
fn run(scomo: &mut Scomo, device: &mut Device) -> (Vec<(GenericAlert, Reported)>, u64) {
    let mut reports = Vec::new();
    let mut waited = 0;
    for _ in 0..100 {
        if !scomo.has_job() {
            return (reports, waited);
        }
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
        match scomo.step(Input::Resume, &mut env) {
            Action::Save => {}
            Action::Wait { seconds } => {
                waited += seconds;
                device.now += seconds;
            }
            Action::Report { alert, reported } => {
                scomo.reported();
                reports.push((alert, reported));
            }
            other => panic!("an install of a delivered package does not {other:?}"),
        }
    }
    panic!("the job never ended");
}

/// The one report of a run.
fn single(scomo: &mut Scomo, device: &mut Device) -> (Reported, u64) {
    let (mut reports, waited) = run(scomo, device);
    assert_eq!(reports.len(), 1, "{reports:?}");
    (reports.remove(0).1, waited)
}

fn delivered_status(scomo: &Scomo) -> DeliveredStatus {
    scomo.durable.delivered[0].status
}

/// A job first checks the update client's nodes; the package stays as delivered, its Status
/// untouched.
#[test]
fn a_job_needs_the_update_clients_nodes_before_it_starts() {
    let (mut scomo, mut device) = holding_suite(ScomoConfig::new(mo::DEFAULT_ROOT));
    device.preconditions = Preconditions {
        device_ready: Some("./Ext/EFOTA/DeviceReady".into()),
        inventory: Some("./Ext/EFOTA/Inventory".into()),
    };
    exec(&mut scomo, &device, INSTALL, "c1").expect("accepted");
    let (reported, _) = single(&mut scomo, &mut device);
    assert_eq!(reported.outcome.key(), Key(Phase::Start, Cause::NotReady));
    assert_eq!(reported.code, 1400);
    assert_eq!(delivered_status(&scomo), DeliveredStatus::Idle);
    assert!(scomo.durable.deployed.is_empty());

    device
        .tree
        .insert("./Ext/EFOTA/DeviceReady", Node::leaf(Format::Int, "1"))
        .expect("insert");
    exec(&mut scomo, &device, INSTALL, "c2").expect("accepted");
    let (reported, _) = single(&mut scomo, &mut device);
    assert_eq!(
        reported.outcome.key(),
        Key(Phase::Start, Cause::NoInventory)
    );

    device
        .tree
        .insert("./Ext/EFOTA/Inventory", Node::interior())
        .expect("insert");
    exec(&mut scomo, &device, INSTALL, "c3").expect("accepted");
    let (reported, _) = single(&mut scomo, &mut device);
    assert_eq!(
        reported.outcome.key(),
        Key(Phase::Install, Cause::Succeeded)
    );
    assert_eq!(scomo.durable.deployed.len(), 2);
}

/// A locked device, or one with other services running, does not install: the package is kept
/// (Delivered Status 50, install failed with data); the operations that install nothing are not
/// held back.
#[test]
fn a_locked_or_busy_device_refuses_the_install_and_keeps_the_package() {
    let (mut scomo, mut device) = holding_suite(ScomoConfig::new(mo::DEFAULT_ROOT));
    device.locked = true;
    device.busy = vec!["call".into(), "backup".into()];
    exec(&mut scomo, &device, INSTALL, "c1").expect("accepted");
    let (reported, _) = single(&mut scomo, &mut device);
    assert_eq!(
        reported.outcome.key(),
        Key(Phase::Checks, Cause::DeviceLocked)
    );
    assert_eq!(reported.code, 1400);
    assert_eq!(
        delivered_status(&scomo),
        DeliveredStatus::InstallFailedWithData
    );
    assert!(!scomo.package(0).is_empty(), "the package is kept");

    device.locked = false;
    exec(&mut scomo, &device, INSTALL, "c2").expect("accepted");
    let (reported, _) = single(&mut scomo, &mut device);
    assert_eq!(
        reported.outcome.key(),
        Key(Phase::Checks, Cause::ServicesBusy)
    );
    assert_eq!(
        reported.outcome.detail.as_deref(),
        Some("running: call, backup")
    );
    assert!(scomo.durable.deployed.is_empty());

    device.busy.clear();
    exec(&mut scomo, &device, INSTALL, "c3").expect("accepted");
    let (reported, _) = single(&mut scomo, &mut device);
    assert_eq!(
        reported.outcome.key(),
        Key(Phase::Install, Cause::Succeeded)
    );

    device.locked = true;
    exec(&mut scomo, &device, REMOVE, "c4").expect("accepted");
    let (reported, _) = single(&mut scomo, &mut device);
    assert_eq!(
        reported.outcome.key(),
        Key(Phase::Remove, Cause::Succeeded),
        "a Remove installs nothing: the lock does not hold it back"
    );
}

/// An unanswered installation-conditions prompt waits out its timeout on the device's clock and
/// fails the install `checks.conditions-timeout` (1401 under `oma`), the package kept; declined,
/// it is a user rejection; accepted, the install goes on.
#[test]
fn unanswered_installation_conditions_time_out_on_the_devices_clock() {
    let mut config = ScomoConfig::new(mo::DEFAULT_ROOT);
    config.install_conditions = Some(ConditionsPrompt { timeout: 90 });
    let (mut scomo, mut device) = holding_suite(config);
    device.user = ScriptedUser::new([PromptAnswer::NoAnswer, PromptAnswer::Cancelled]);
    exec(&mut scomo, &device, INSTALL, "c1").expect("accepted");
    let (reported, waited) = single(&mut scomo, &mut device);
    assert_eq!(
        reported.outcome.key(),
        Key(Phase::Checks, Cause::ConditionsTimeout)
    );
    assert_eq!((reported.code, waited, device.now), (1401, 90, 1090));
    assert_eq!(
        delivered_status(&scomo),
        DeliveredStatus::InstallFailedWithData
    );

    exec(&mut scomo, &device, INSTALL, "c2").expect("accepted");
    let (reported, waited) = single(&mut scomo, &mut device);
    assert_eq!(
        (reported.outcome.key(), waited),
        (Key(Phase::Checks, Cause::UserCancelled), 0)
    );

    exec(&mut scomo, &device, INSTALL, "c3").expect("accepted");
    let (reported, _) = single(&mut scomo, &mut device);
    assert_eq!(
        reported.outcome.key(),
        Key(Phase::Install, Cause::Succeeded)
    );
    assert_eq!(device.user.shown.len(), 3);
}

/// By default an Exec while a job is queued is refused 409 and nothing more is reported; a device
/// set up to abort takes it (202), reports it aborted first, with its own Source and correlator
/// and no Target, and then runs the job in progress as if nothing had come.
#[test]
fn an_exec_while_busy_is_refused_or_aborted_and_reported() {
    let (mut scomo, device) = holding_suite(ScomoConfig::new(mo::DEFAULT_ROOT));
    exec(&mut scomo, &device, INSTALL, "c1").expect("accepted");
    assert_eq!(
        exec(&mut scomo, &device, REMOVE, "c2"),
        Err(StatusCode::Conflict)
    );
    assert_eq!(
        Agent::exec(&scomo, REMOVE, None, &device.tree, true).map(|r| r.map(drop)),
        Some(Err(StatusCode::Conflict)),
        "another accepted in the same Atomic"
    );

    let mut config = ScomoConfig::new(mo::DEFAULT_ROOT);
    config.exec_while_busy = ExecWhileBusy::Abort;
    let (mut scomo, mut device) = holding_suite(config);
    assert!(
        Agent::exec(&scomo, REMOVE, None, &device.tree, true).is_some_and(|r| r.is_ok()),
        "in an Atomic, the second is accepted too"
    );
    exec(&mut scomo, &device, INSTALL, "c1").expect("accepted");
    exec(&mut scomo, &device, REMOVE, "c2").expect("accepted while busy");
    assert_eq!(scomo.durable.aborted.len(), 1);
    let (reports, _) = run(&mut scomo, &mut device);
    let summary: Vec<(Key, i64, &str, Option<&str>)> = reports
        .iter()
        .map(|(alert, r)| {
            (
                r.outcome.key(),
                r.code,
                alert.source_uri.as_str(),
                alert.correlator.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                Key(Phase::Start, Cause::TransactionInProgress),
                1400,
                REMOVE,
                Some("c2")
            ),
            (
                Key(Phase::Install, Cause::Succeeded),
                1200,
                INSTALL,
                Some("c1")
            ),
        ]
    );
    let (aborted, reported) = &reports[0];
    assert_eq!(aborted.target_uri, None);
    assert_eq!(aborted.mark.as_deref(), Some("critical"));
    let data = ResultData::parse(&aborted.data).expect("a result fragment");
    assert_eq!((data.code, data.identifier), (1400, None));
    assert_eq!(
        reported.outcome.detail.as_deref(),
        Some("Inventory/Delivered/suite/Operations/Install is in progress")
    );
    assert_eq!(scomo.durable.deployed.len(), 2, "the first job ran whole");
    assert_eq!(
        scomo.durable.delivered.len(),
        1,
        "the aborted Remove removed nothing"
    );
    assert_eq!(scomo.records.results.len(), 2);
}

/// A device holds at most [`MAX_ABORTED`] aborted transactions; an Exec beyond them is refused.
#[test]
fn aborted_transactions_are_bounded() {
    let mut config = ScomoConfig::new(mo::DEFAULT_ROOT);
    config.exec_while_busy = ExecWhileBusy::Abort;
    let (mut scomo, mut device) = holding_suite(config);
    exec(&mut scomo, &device, INSTALL, "c0").expect("accepted");
    for n in 0..MAX_ABORTED {
        exec(&mut scomo, &device, REMOVE, &format!("a{n}")).expect("accepted while busy");
    }
    assert_eq!(
        exec(&mut scomo, &device, REMOVE, "one too many"),
        Err(StatusCode::Conflict)
    );
    let (reports, _) = run(&mut scomo, &mut device);
    assert_eq!(reports.len(), MAX_ABORTED + 1);
    assert!(reports[..MAX_ABORTED]
        .iter()
        .all(|(_, r)| r.outcome.cause == Cause::TransactionInProgress));
    let areas: Vec<Area> = scomo
        .records
        .statuses
        .iter()
        .map(|s| s.area)
        .filter(|a| *a != Area::Delivered)
        .collect();
    assert_eq!(areas.len(), 2, "only the install's components changed");
}
