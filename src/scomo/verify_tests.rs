//! The SCOMO job as a state machine, on a device that verifies and rolls back: the agent is stepped
//! by hand (no runner, no session) on packages pushed in-band, and every way the verification and
//! the rollback end is reached by the faults that make them, each shown to matter: without it the
//! job ends otherwise.
//!
//! The device first installs `suite` 1.0 (`maps` and `agent`, both fresh: nothing to roll back),
//! then the test installs `suite` 2.0 over it, which replaces both and keeps their 1.0 files as
//! source version files.

use super::agent::{Phase, Scomo, ScomoConfig};
use super::files::FileKind;
use crate::engine::{Action, Agent, Env, Input, Reported};
use crate::faults::{FaultEffect, FaultPlan, FaultPoint, FaultRule, Faults, Trigger};
use crate::outcome::Rollback;
use crate::package::{self, ComponentSpec, DeliveryPackage, DeliverySpec};
use crate::protocol::download::DeviceLimits;
use crate::syncml::StatusCode;
use crate::tree::{Tree, UriLimits};
use std::sync::Arc;

const ROOT: &str = "./SCOMO";

fn spec(pkg_id: &str, version: &str, extra: bool, seed: u64) -> DeliverySpec {
    let mut components = vec![
        ComponentSpec::new("maps", "Maps", version, "Android", 700).expect("spec"),
        ComponentSpec::new("agent", "Agent", version, "Linux", 300).expect("spec"),
    ];
    if extra {
        components.push(ComponentSpec::new("extra", "Extra", version, "Linux", 100).expect("spec"));
    }
    DeliverySpec::new(pkg_id, components)
        .expect("spec")
        .with_seed(seed)
}

fn bytes(spec: &DeliverySpec) -> Vec<u8> {
    package::build_delivery(spec, &package::test_signing_key())
}

fn verified(spec: &DeliverySpec) -> DeliveryPackage {
    package::verify_delivery(
        &bytes(spec),
        &package::test_signing_key().verifying_key(),
        package::CLOCK_START,
    )
    .expect("verifies")
}

/// A device with the agent mounted, set up to verify and roll back (or not).
struct Bench {
    scomo: Scomo,
    tree: Tree,
}

impl Bench {
    fn new(verify_and_rollback: bool) -> Bench {
        let mut config = ScomoConfig::new(ROOT);
        config.verify_and_rollback = verify_and_rollback;
        let scomo = Scomo::new(Arc::new(config));
        let mut tree = Tree::new(UriLimits::default());
        scomo.mount(&mut tree, "srv", 0).expect("mounts");
        Bench { scomo, tree }
    }

    /// Push `spec`'s package in-band as `Delivered/<node>`.
    fn push(&mut self, node: &str, spec: &DeliverySpec) {
        let uri = format!("{ROOT}/Inventory/Delivered/{node}/Data");
        self.scomo.store(&uri, bytes(spec), &mut self.tree, 0);
    }

    /// The answer to an Exec of `Delivered/<node>/Operations/Install` carrying `data`; the job is
    /// queued when it is accepted.
    fn exec(&mut self, node: &str, data: Option<&str>) -> Result<(), StatusCode> {
        let uri = format!("{ROOT}/Inventory/Delivered/{node}/Operations/Install");
        let ticket = self
            .scomo
            .exec_with_data(&uri, data, Some("c"), &self.tree, false)
            .expect("an operation of the agent")?;
        self.scomo.queue(ticket);
        Ok(())
    }

    /// Step the job to its report under `rules`, returning how it ended.
    fn run(&mut self, rules: Vec<FaultRule>) -> Reported {
        let mut faults: Faults = FaultPlan::new(rules).for_device(1);
        for _ in 0..100 {
            let mut env = Env {
                tree: &mut self.tree,
                faults: &mut faults,
                now: 0,
                roaming: false,
                battery_allows_update: true,
                free_memory: u64::MAX,
                download_limits: DeviceLimits::default(),
                profile: crate::profile::builtin("oma").expect("oma"),
                locked: false,
                busy_services: &[],
                preconditions: &crate::engine::Preconditions::default(),
                user: &mut crate::engine::ScriptedUser::default(),
            };
            match self.scomo.step(Input::Resume, &mut env) {
                Action::Save => {}
                Action::Report { reported, .. } => {
                    self.scomo.reported();
                    return reported;
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        panic!("the job does not end");
    }

    /// Install `spec` from `Delivered/<node>` with `data` and `rules`.
    fn install(
        &mut self,
        node: &str,
        spec: &DeliverySpec,
        data: Option<&str>,
        rules: Vec<FaultRule>,
    ) -> Reported {
        self.push(node, spec);
        self.exec(node, data).expect("accepted");
        self.run(rules)
    }

    /// (id, version) of the deployed components, sorted.
    fn deployed(&self) -> Vec<(String, String)> {
        let mut found: Vec<(String, String)> = self
            .scomo
            .durable
            .deployed
            .iter()
            .map(|c| (c.id.clone(), c.version.clone()))
            .collect();
        found.sort();
        found
    }

    /// Whether component `id`'s installed file holds exactly `package`'s payload of it.
    fn holds(&self, package: &DeliveryPackage, id: &str) -> bool {
        let header = &package.component(id).expect("in the package").header;
        self.scomo.check_installed(header).is_ok()
    }
}

fn rule(point: FaultPoint, effect: FaultEffect, nth: u32) -> FaultRule {
    FaultRule {
        point,
        effect,
        trigger: Trigger::Nth(nth),
    }
}

/// A device holding `suite` 1.0, installed and verified.
fn with_v1() -> Bench {
    let mut bench = Bench::new(true);
    let v1 = spec("suite", "1.0", false, 1);
    let ended = bench.install("s1", &v1, None, Vec::new());
    assert_eq!(ended.outcome.key().to_string(), "verify.succeeded");
    assert_eq!(ended.code, 1200);
    bench
}

fn v1() -> DeliveryPackage {
    verified(&spec("suite", "1.0", false, 1))
}

fn v2_spec() -> DeliverySpec {
    spec("suite", "2.0", false, 2)
}

/// Install 2.0 over 1.0 with `data` and `rules`: how it ended, and the device after.
fn over_v1(data: Option<&str>, rules: Vec<FaultRule>) -> (Reported, Bench) {
    let mut bench = with_v1();
    let ended = bench.install("s2", &v2_spec(), data, rules);
    (ended, bench)
}

fn key(ended: &Reported) -> String {
    ended.outcome.key().to_string()
}

const TRIAL: Option<&str> = Some(super::TRIAL_ARGUMENT);

fn at(version: &str) -> Vec<(String, String)> {
    vec![
        ("agent".to_string(), version.to_string()),
        ("maps".to_string(), version.to_string()),
    ]
}

/// After any job: no source version file is left, and every deployed component has its
/// installed file at its version.
fn assert_tidy(bench: &Bench) {
    let files = &bench.scomo.durable.files;
    assert!(
        files.iter().all(|f| f.kind == FileKind::Installed),
        "{files:?}"
    );
    for c in &bench.scomo.durable.deployed {
        assert!(
            files
                .iter()
                .any(|f| f.component == c.id && f.version == c.version),
            "{} {} has no file: {files:?}",
            c.id,
            c.version
        );
    }
    assert!(bench.scomo.durable.job.is_none());
}

#[test]
fn every_component_verified_is_verify_succeeded_and_the_sources_are_dropped() {
    let (ended, bench) = over_v1(None, Vec::new());
    assert_eq!(key(&ended), "verify.succeeded");
    assert_eq!(ended.code, 1200);
    assert!(ended.outcome.is_success());
    assert_eq!(bench.deployed(), at("2.0"));
    let v2 = verified(&v2_spec());
    assert!(bench.holds(&v2, "maps") && bench.holds(&v2, "agent"));
    assert_tidy(&bench);
}

#[test]
fn without_the_option_the_same_install_is_install_succeeded_and_keeps_no_files() {
    let mut bench = Bench::new(false);
    let ended = bench.install("s1", &spec("suite", "1.0", false, 1), None, Vec::new());
    assert_eq!(key(&ended), "install.succeeded");
    assert!(bench.scomo.durable.files.is_empty());
    assert!(bench.scomo.bytes.len() as u64 == bench.scomo.durable.delivered[0].len);
    // Its Exec Data is not read, as before.
    bench.push("s2", &v2_spec());
    assert_eq!(bench.exec("s2", Some("anything")), Ok(()));
}

#[test]
fn a_trial_install_returns_to_the_source_versions() {
    let (ended, bench) = over_v1(TRIAL, Vec::new());
    assert_eq!(key(&ended), "trial.succeeded");
    assert_eq!(ended.outcome.rollback, Rollback::Done);
    assert_eq!(ended.code, 1200);
    assert_eq!(bench.deployed(), at("1.0"));
    assert!(bench.holds(&v1(), "maps") && bench.holds(&v1(), "agent"));
    assert_tidy(&bench);
    // The package stays delivered, not installed.
    let s2 = &bench.scomo.durable.delivered[1];
    assert_eq!(s2.state.code(), 10);
}

#[test]
fn a_trial_whose_write_back_fails_is_trial_rollback_failed() {
    let fail = rule(FaultPoint::InstallRollback, FaultEffect::RollbackFail, 1);
    let (ended, bench) = over_v1(TRIAL, vec![fail]);
    assert_eq!(key(&ended), "trial.rollback-failed");
    assert_eq!(ended.outcome.rollback, Rollback::Failed);
    assert_eq!(ended.code, 1412);
    // The last component is rolled back first: it failed, so both stay at 2.0.
    assert_eq!(bench.deployed(), at("2.0"));
    assert_tidy(&bench);
    // The second write back fails instead: `agent` is back at 1.0, `maps` stays at 2.0.
    let second = rule(FaultPoint::InstallRollback, FaultEffect::RollbackFail, 2);
    let (ended, bench) = over_v1(TRIAL, vec![second]);
    assert_eq!(key(&ended), "trial.rollback-failed");
    assert_eq!(
        bench.deployed(),
        [
            ("agent".into(), "1.0".into()),
            ("maps".into(), "2.0".into())
        ]
    );
    assert_tidy(&bench);
}

#[test]
fn a_trial_whose_source_file_is_gone_is_trial_source_missing() {
    // The second source kept is `agent`'s, the first rolled back.
    let lost = rule(FaultPoint::ScomoSourceFile, FaultEffect::FileMissing, 2);
    let (ended, bench) = over_v1(TRIAL, vec![lost]);
    assert_eq!(key(&ended), "trial.source-missing");
    assert_eq!(ended.outcome.rollback, Rollback::Failed);
    assert_eq!(ended.code, 1412);
    assert!(ended
        .outcome
        .detail
        .as_deref()
        .is_some_and(|d| d.contains("missing")));
    assert_eq!(bench.deployed(), at("2.0"));
    assert_tidy(&bench);
    // `maps`'s source is lost instead: `agent` returns, then the rollback stops at `maps`.
    let first = rule(FaultPoint::ScomoSourceFile, FaultEffect::FileMissing, 1);
    let (ended, bench) = over_v1(TRIAL, vec![first]);
    assert_eq!(key(&ended), "trial.source-missing");
    assert_eq!(
        bench.deployed(),
        [
            ("agent".into(), "1.0".into()),
            ("maps".into(), "2.0".into())
        ]
    );
}

#[test]
fn a_failed_write_rolls_back_the_component_and_those_before_it() {
    let write = rule(FaultPoint::InstallWrite, FaultEffect::StorageWriteError, 2);
    let (ended, bench) = over_v1(None, vec![write.clone()]);
    assert_eq!(key(&ended), "install.rolled-back");
    assert_eq!(ended.outcome.rollback, Rollback::Done);
    assert_eq!(ended.code, 1405);
    assert_eq!(bench.deployed(), at("1.0"));
    assert!(bench.holds(&v1(), "maps") && bench.holds(&v1(), "agent"));
    assert_tidy(&bench);
    // The first component's write fails: it alone is rolled back (its source was set aside).
    let first = rule(FaultPoint::InstallWrite, FaultEffect::StorageWriteError, 1);
    let (ended, bench) = over_v1(None, vec![first]);
    assert_eq!(key(&ended), "install.rolled-back");
    assert_eq!(bench.deployed(), at("1.0"));
    assert_tidy(&bench);
}

#[test]
fn a_partial_install_of_a_new_component_removes_it_and_returns_the_others() {
    // `extra` is new: its write fails, nothing of it to undo; `agent` and `maps` return to 1.0.
    let mut bench = with_v1();
    let write = rule(FaultPoint::InstallWrite, FaultEffect::StorageWriteError, 3);
    let ended = bench.install("s2", &spec("suite", "2.0", true, 2), None, vec![write]);
    assert_eq!(key(&ended), "install.rolled-back");
    assert_eq!(bench.deployed(), at("1.0"));
    assert_tidy(&bench);
    // A fresh install whose only write fails has nothing to roll back.
    let mut fresh = Bench::new(true);
    let write = rule(FaultPoint::InstallWrite, FaultEffect::StorageWriteError, 1);
    let ended = fresh.install("s1", &spec("suite", "1.0", false, 1), None, vec![write]);
    assert_eq!(key(&ended), "install.component-failed");
    assert!(fresh.deployed().is_empty());
}

#[test]
fn a_failed_write_whose_rollback_fails_is_install_rollback_failed() {
    let write = rule(FaultPoint::InstallWrite, FaultEffect::StorageWriteError, 2);
    let back = rule(FaultPoint::InstallRollback, FaultEffect::RollbackFail, 2);
    let (ended, bench) = over_v1(None, vec![write, back]);
    assert_eq!(key(&ended), "install.rollback-failed");
    assert_eq!(ended.outcome.rollback, Rollback::Failed);
    assert_eq!(ended.code, 1405);
    // `agent` (whose write failed) was restored; `maps` could not be.
    assert_eq!(
        bench.deployed(),
        [
            ("agent".into(), "1.0".into()),
            ("maps".into(), "2.0".into())
        ]
    );
    assert_tidy(&bench);
}

#[test]
fn a_failed_write_whose_source_is_corrupt_is_install_source_missing() {
    let write = rule(FaultPoint::InstallWrite, FaultEffect::StorageWriteError, 2);
    let corrupt = rule(FaultPoint::ScomoSourceFile, FaultEffect::FileCorrupt, 2);
    let (ended, bench) = over_v1(None, vec![write.clone(), corrupt]);
    assert_eq!(key(&ended), "install.source-missing");
    assert_eq!(ended.outcome.rollback, Rollback::Failed);
    assert!(ended
        .outcome
        .detail
        .as_deref()
        .is_some_and(|d| d.contains("does not read back")));
    // `agent` has neither its 2.0 file (never written) nor its 1.0 one (unreadable); the inventory
    // still names 1.0, and `maps` stays at 2.0.
    assert_eq!(
        bench.deployed(),
        [
            ("agent".into(), "1.0".into()),
            ("maps".into(), "2.0".into())
        ]
    );
    assert!(bench
        .scomo
        .file_index(FileKind::Installed, "agent")
        .is_none());
    assert!(bench
        .scomo
        .durable
        .files
        .iter()
        .all(|f| f.kind == FileKind::Installed));
}

#[test]
fn a_component_failing_its_verification_rolls_everything_back() {
    let verify = rule(FaultPoint::InstallVerify, FaultEffect::VerifyFail, 2);
    let (ended, bench) = over_v1(None, vec![verify]);
    assert_eq!(key(&ended), "verify.rolled-back");
    assert_eq!(ended.outcome.rollback, Rollback::Done);
    assert_eq!(ended.code, 1405);
    assert!(ended
        .outcome
        .detail
        .as_deref()
        .is_some_and(|d| d.contains("\"agent\"") && d.contains("hash")));
    assert_eq!(bench.deployed(), at("1.0"));
    assert!(bench.holds(&v1(), "maps") && bench.holds(&v1(), "agent"));
    assert_tidy(&bench);
}

#[test]
fn a_failed_verification_whose_rollback_fails_is_verify_rollback_failed() {
    let verify = rule(FaultPoint::InstallVerify, FaultEffect::VerifyFail, 1);
    let back = rule(FaultPoint::InstallRollback, FaultEffect::RollbackFail, 1);
    let (ended, bench) = over_v1(None, vec![verify, back]);
    assert_eq!(key(&ended), "verify.rollback-failed");
    assert_eq!(ended.outcome.rollback, Rollback::Failed);
    assert_eq!(ended.code, 1405);
    assert_eq!(bench.deployed(), at("2.0"));
    // `maps` failed its verification and was not rolled back: its file is still damaged.
    assert!(!bench.holds(&verified(&v2_spec()), "maps"));
    assert!(bench.holds(&verified(&v2_spec()), "agent"));
}

#[test]
fn a_failed_verification_whose_source_is_gone_is_verify_source_missing() {
    let verify = rule(FaultPoint::InstallVerify, FaultEffect::VerifyFail, 1);
    let lost = rule(FaultPoint::ScomoSourceFile, FaultEffect::FileMissing, 2);
    let (ended, bench) = over_v1(None, vec![verify, lost]);
    assert_eq!(key(&ended), "verify.source-missing");
    assert_eq!(ended.outcome.rollback, Rollback::Failed);
    assert_eq!(ended.code, 1405);
    assert_eq!(bench.deployed(), at("2.0"));
    assert_tidy(&bench);
}

/// Each fault of the matrix fires: without it the same job ends another way.
#[test]
fn every_fault_of_the_matrix_changes_the_outcome() {
    use FaultEffect as E;
    use FaultPoint as P;
    let write = || rule(P::InstallWrite, E::StorageWriteError, 2);
    let verify = || rule(P::InstallVerify, E::VerifyFail, 1);
    let back = || rule(P::InstallRollback, E::RollbackFail, 1);
    let lost = || rule(P::ScomoSourceFile, E::FileMissing, 2);
    let corrupt = || rule(P::ScomoSourceFile, E::FileCorrupt, 2);
    // (Exec Data, the faults around it, the fault, the outcome with it, the outcome without it)
    type Case = (
        Option<&'static str>,
        Vec<FaultRule>,
        FaultRule,
        &'static str,
        &'static str,
    );
    let cases: Vec<Case> = vec![
        (
            TRIAL,
            vec![],
            back(),
            "trial.rollback-failed",
            "trial.succeeded",
        ),
        (
            TRIAL,
            vec![],
            lost(),
            "trial.source-missing",
            "trial.succeeded",
        ),
        (
            TRIAL,
            vec![],
            corrupt(),
            "trial.source-missing",
            "trial.succeeded",
        ),
        (
            None,
            vec![],
            write(),
            "install.rolled-back",
            "verify.succeeded",
        ),
        (
            None,
            vec![write()],
            back(),
            "install.rollback-failed",
            "install.rolled-back",
        ),
        (
            None,
            vec![write()],
            lost(),
            "install.source-missing",
            "install.rolled-back",
        ),
        (
            None,
            vec![],
            verify(),
            "verify.rolled-back",
            "verify.succeeded",
        ),
        (
            None,
            vec![verify()],
            back(),
            "verify.rollback-failed",
            "verify.rolled-back",
        ),
        (
            None,
            vec![verify()],
            corrupt(),
            "verify.source-missing",
            "verify.rolled-back",
        ),
        // A kept source file that no rollback needs changes nothing.
        (None, vec![], lost(), "verify.succeeded", "verify.succeeded"),
    ];
    for (data, base, fault, with, without) in cases {
        let mut rules = base.clone();
        rules.push(fault.clone());
        let label = format!("{} {}", fault.point, fault.effect);
        assert_eq!(key(&over_v1(data, rules).0), with, "{label}");
        assert_eq!(key(&over_v1(data, base).0), without, "{label} removed");
    }
}

#[test]
fn the_exec_data_asks_for_a_trial_only_on_a_device_that_rolls_back() {
    let mut bench = with_v1();
    bench.push("s2", &v2_spec());
    assert_eq!(
        bench.exec("s2", Some("rollback=never")),
        Err(StatusCode::OptionalFeatureNotSupported)
    );
    assert!(bench.scomo.durable.job.is_none());
    assert_eq!(bench.exec("s2", Some(" rollback=after-install\n")), Ok(()));
    assert!(bench.scomo.durable.job.as_ref().is_some_and(|j| j.trial));
    assert_eq!(bench.exec("s2", None), Err(StatusCode::Conflict));
    // Not on an operation that installs nothing.
    let bench = with_v1();
    let uri = format!("{ROOT}/Inventory/Deployed/maps/Operations/Remove");
    let answer = bench
        .scomo
        .exec_with_data(&uri, TRIAL, None, &bench.tree, false)
        .expect("an operation");
    assert_eq!(answer, Err(StatusCode::OptionalFeatureNotSupported));
    let answer = bench
        .scomo
        .exec_with_data(&uri, Some(""), None, &bench.tree, false)
        .expect("an operation");
    assert!(answer.is_ok());
}

/// The steps a verified trial takes, one save each: the two components installed, each verified,
/// each returned.
#[test]
fn a_trial_goes_through_install_verify_and_revert_one_component_per_step() {
    let mut bench = with_v1();
    bench.push("s2", &v2_spec());
    bench.exec("s2", TRIAL).expect("accepted");
    let mut faults = Faults::default();
    let mut phases = Vec::new();
    for _ in 0..20 {
        let mut env = Env {
            tree: &mut bench.tree,
            faults: &mut faults,
            now: 0,
            roaming: false,
            battery_allows_update: true,
            free_memory: u64::MAX,
            download_limits: DeviceLimits::default(),
            profile: crate::profile::builtin("oma").expect("oma"),
            locked: false,
            busy_services: &[],
            preconditions: &crate::engine::Preconditions::default(),
            user: &mut crate::engine::ScriptedUser::default(),
        };
        match bench.scomo.step(Input::Resume, &mut env) {
            Action::Save => {}
            Action::Report { .. } => break,
            other => panic!("unexpected {other:?}"),
        }
        let phase = bench.scomo.durable.job.as_ref().map(|j| match &j.phase {
            Phase::Install { next, .. } => format!("install {next}"),
            Phase::Verify { next, .. } => format!("verify {next}"),
            Phase::Revert { remaining, .. } => format!("revert {}", remaining.len()),
            other => format!("{other:?}"),
        });
        phases.extend(phase);
    }
    assert_eq!(
        phases,
        [
            "install 0",
            "install 1",
            "install 2",
            "verify 0",
            "verify 1",
            "verify 2",
            "revert 2",
            "revert 1"
        ]
    );
    assert!(bench
        .scomo
        .durable
        .files
        .iter()
        .all(|f| f.kind == FileKind::Installed));
}

/// The files sit ahead of the delivered packages in the blob: a package read back after files
/// came and went is still whole.
#[test]
fn the_delivered_packages_survive_the_files_before_them() {
    let (_, bench) = over_v1(TRIAL, Vec::new());
    for (index, d) in bench.scomo.durable.delivered.iter().enumerate() {
        let held = bench.scomo.package(index);
        assert_eq!(held.len() as u64, d.len);
        assert!(package::verify_delivery(
            held,
            &package::test_signing_key().verifying_key(),
            package::CLOCK_START
        )
        .is_ok());
    }
}
