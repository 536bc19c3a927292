//! Power loss at every step of a firmware install: the device's durable state goes through a real
//! `FileStore` (in a temp dir) or a `MemoryStore`; at the cut the in-memory state is dropped and
//! reloaded, the device boots, and the flow runs to its end.
//!
//! Whatever the step, the device ends on exactly the old version (failed or rolled back) or exactly
//! the new one (committed), every slot's contents match its version at every moment, and the
//! outcome is handed out exactly once, however often the device boots afterwards.

use dmsim::faults::{FaultEffect, FaultPlan, FaultPoint, FaultRule, Faults, Trigger};
use dmsim::firmware::{
    Env, Firmware, InstallFailure, InstallOutcome, Next, SlotId, SlotState, Step,
};
use dmsim::package::{self, test_signing_key, PackageSpec};
use dmsim::storage::{load_state, save_state, FileStore, MemoryStore, StateStore};

const DEVICE: &str = "IMEI:356938035643809";
const MODEL: &str = "SIM-1";

/// Which way the install goes when nothing interrupts it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Path {
    Commits,
    VerifyFails,
    RollbackFails,
}

/// Where the power goes out.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Cut {
    /// Before the step runs, the first time it is about to.
    Before(Step),
    /// The step runs, but its state never becomes durable (for a `FileStore`: the temp file is
    /// written and the rename never happens).
    DuringSave(Step),
}

impl Cut {
    fn step(self) -> Step {
        match self {
            Cut::Before(s) | Cut::DuringSave(s) => s,
        }
    }
}

fn plan(path: Path) -> FaultPlan {
    let rule = |point, effect| FaultRule {
        point,
        effect,
        trigger: Trigger::Always,
    };
    FaultPlan::new(match path {
        Path::Commits => vec![],
        Path::VerifyFails => vec![rule(FaultPoint::InstallVerify, FaultEffect::VerifyFail)],
        Path::RollbackFails => vec![
            rule(FaultPoint::InstallVerify, FaultEffect::VerifyFail),
            rule(FaultPoint::InstallRollback, FaultEffect::RollbackFail),
        ],
    })
}

struct Fixture {
    package: Vec<u8>,
    new_hash: [u8; 32],
    old_hash: [u8; 32],
}

fn fixture() -> Fixture {
    let spec = PackageSpec::new(MODEL, "1.0", "2.0", 2048).expect("spec");
    let package = package::build(&spec, &test_signing_key());
    let new_hash = package::parse(&package)
        .expect("parses")
        .header
        .payload_hash;
    let old_hash = Firmware::factory("1.0").slot(SlotId::A).payload_hash;
    Fixture {
        package,
        new_hash,
        old_hash,
    }
}

/// The slots always hold what their versions say, and the device runs exactly one slot's version.
fn assert_consistent(fw: &Firmware, fx: &Fixture, when: &str) {
    let active = fw.slot(fw.active());
    assert_eq!(fw.version(), active.version, "{when}");
    match active.state {
        SlotState::Good => {}
        SlotState::Pending => {
            // Only while an install runs the new slot before committing it.
            let install = fw
                .install()
                .expect("a Pending slot runs only during an install");
            assert_eq!(install.target(), fw.active(), "{when}");
        }
        SlotState::Empty => panic!("{when}: the device runs an empty slot: {fw:?}"),
    }
    for id in [SlotId::A, SlotId::B] {
        let slot = fw.slot(id);
        match (slot.state, slot.version.as_str()) {
            (SlotState::Empty, v) => assert_eq!((v, slot.payload_hash), ("", [0; 32]), "{when}"),
            (_, "1.0") => assert_eq!(slot.payload_hash, fx.old_hash, "{when}"),
            (_, "2.0") => assert_eq!(slot.payload_hash, fx.new_hash, "{when}"),
            (_, v) => panic!("{when}: slot {id:?} holds an unknown version {v:?}"),
        }
    }
}

struct Run {
    firmware: Firmware,
    outcomes: Vec<InstallOutcome>,
    cut_happened: bool,
}

/// Install the fixture's package on a factory 1.0 device, persisting after every step into
/// `store`, with the power going out at `cut`.
fn run(
    store: &dyn StateStore,
    files: Option<&FileStore>,
    path: Path,
    cut: Option<Cut>,
    fx: &Fixture,
) -> Run {
    let save = |fw: &Firmware| save_state(store, DEVICE, fw).expect("saved");
    let load = || -> Firmware {
        load_state(store, DEVICE)
            .expect("readable")
            .expect("saved before")
    };
    let trusted = test_signing_key().verifying_key();
    let mut faults: Faults = plan(path).for_device(3);
    let mut env = Env {
        package: &fx.package,
        trusted: &trusted,
        model: MODEL,
        free_memory: 1 << 20,
        faults: &mut faults,
    };

    let mut fw = Firmware::factory("1.0");
    save(&fw);
    fw.begin().expect("idle");
    save(&fw);
    let mut pending_cut = cut;
    let mut outcomes = Vec::new();
    for round in 0.. {
        assert!(round < 100, "the install never ends: {fw:?}");
        let about_to = fw.install().map(|i| i.step());
        if let Some(c) = pending_cut.filter(|c| Some(c.step()) == about_to) {
            pending_cut = None;
            if let Cut::DuringSave(_) = c {
                // The step runs; its result reaches at most a temp file, never the state file.
                let next = fw.step(&mut env);
                if let (Some(files), false) = (files, next == Next::PowerLoss) {
                    let bytes =
                        serde_json::to_vec(&dmsim::storage::Persisted::new(&fw)).expect("encodes");
                    files.write_temp(DEVICE, &bytes).expect("temp written");
                }
                // An outcome handed out by this step is never delivered: the driver delivers only
                // after the save.
            }
            drop(fw);
            fw = load();
            assert_consistent(&fw, fx, "after the cut, as reloaded");
            fw.boot();
            save(&fw);
            assert_consistent(&fw, fx, "after the boot");
            continue;
        }
        match fw.step(&mut env) {
            Next::Idle => break,
            Next::Continue(_) => save(&fw),
            Next::Reboot => {
                save(&fw);
                fw = load();
                fw.boot();
                save(&fw);
            }
            Next::PowerLoss => {
                fw = load();
                fw.boot();
                save(&fw);
            }
            Next::Done(outcome) => {
                save(&fw);
                outcomes.push(outcome);
            }
        }
        assert_consistent(&fw, fx, &format!("after round {round}"));
    }
    // The device keeps rebooting: the outcome is never handed out again.
    for _ in 0..2 {
        fw = load();
        assert_eq!(fw.boot(), Next::Idle);
        assert_eq!(fw.step(&mut env), Next::Idle);
        save(&fw);
        assert_consistent(&fw, fx, "after a later boot");
    }
    Run {
        firmware: fw,
        outcomes,
        cut_happened: cut.is_some() && pending_cut.is_none(),
    }
}

/// What the install must end with, for a path and the step the power went out before.
fn expected(path: Path, cut: Option<Step>) -> InstallOutcome {
    let power_loss = |step| InstallOutcome::Failed {
        error: InstallFailure::PowerLoss { step },
        rolled_back: false,
    };
    match cut {
        Some(step @ (Step::Verify | Step::WriteInactive)) => power_loss(step),
        _ => match path {
            Path::Commits => InstallOutcome::Updated {
                from: "1.0".into(),
                to: "2.0".into(),
            },
            Path::VerifyFails => InstallOutcome::Failed {
                error: InstallFailure::VerifyFailed,
                rolled_back: true,
            },
            Path::RollbackFails => InstallOutcome::Failed {
                error: InstallFailure::RollbackFailed {
                    after: Box::new(InstallFailure::VerifyFailed),
                },
                rolled_back: false,
            },
        },
    }
}

/// The steps each path goes through when nothing interrupts it.
fn reached(path: Path, step: Step) -> bool {
    match step {
        Step::Commit => path == Path::Commits,
        Step::Rollback => path != Path::Commits,
        _ => true,
    }
}

/// A fresh store for each case.
enum Store {
    Files(FileStore, tempfile::TempDir),
    Memory(MemoryStore),
}

fn check_every_cut(new_store: fn() -> Store) {
    let fx = fixture();
    for path in [Path::Commits, Path::VerifyFails, Path::RollbackFails] {
        let cuts = std::iter::once(None).chain(
            Step::ALL
                .iter()
                .flat_map(|&s| [Some(Cut::Before(s)), Some(Cut::DuringSave(s))]),
        );
        for cut in cuts {
            let store = new_store();
            let r = match &store {
                Store::Files(files, _dir) => run(files, Some(files), path, cut, &fx),
                Store::Memory(memory) => run(memory, None, path, cut, &fx),
            };
            let case = format!("{path:?}, cut {cut:?}");
            let step = cut.map(Cut::step);
            assert_eq!(
                r.cut_happened,
                step.is_some_and(|s| reached(path, s)),
                "{case}"
            );
            // A cut where the step already ran (DuringSave) loses the step: same result as a cut
            // before it.
            let effective = step.filter(|_| r.cut_happened);
            assert_eq!(r.outcomes, vec![expected(path, effective)], "{case}");

            let fw = &r.firmware;
            assert!(fw.install().is_none(), "{case}");
            assert!(fw.outcome_reported(), "{case}");
            assert_eq!(fw.outcome(), r.outcomes.first(), "{case}");
            assert_eq!(fw.slot(fw.active()).state, SlotState::Good, "{case}");
            match &r.outcomes[0] {
                InstallOutcome::Updated { .. } => {
                    assert_eq!((fw.version(), fw.active()), ("2.0", SlotId::B), "{case}");
                    assert_eq!(fw.slot(SlotId::B).payload_hash, fx.new_hash, "{case}");
                    assert_eq!(
                        fw.slot(SlotId::A).version,
                        "1.0",
                        "{case}: the fallback stays"
                    );
                }
                InstallOutcome::Failed { rolled_back, error } => {
                    assert_eq!((fw.version(), fw.active()), ("1.0", SlotId::A), "{case}");
                    assert_eq!(fw.slot(SlotId::A).payload_hash, fx.old_hash, "{case}");
                    let b = fw.slot(SlotId::B);
                    if matches!(error, InstallFailure::RollbackFailed { .. }) {
                        assert_eq!((b.version.as_str(), b.state), ("2.0", SlotState::Pending));
                    } else {
                        assert_eq!(b.state, SlotState::Empty, "{case}");
                    }
                    let abandoned = matches!(effective, Some(Step::Verify | Step::WriteInactive));
                    assert_eq!(
                        *rolled_back,
                        path == Path::VerifyFails && !abandoned,
                        "{case}"
                    );
                }
            }
        }
    }
}

#[test]
fn power_loss_at_every_step_with_a_file_store() {
    check_every_cut(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let files = FileStore::new(dir.path()).expect("store");
        Store::Files(files, dir)
    });
}

#[test]
fn power_loss_at_every_step_with_a_memory_store() {
    check_every_cut(|| Store::Memory(MemoryStore::new()));
}

#[test]
fn power_loss_inside_the_write_and_the_reboot() {
    let fx = fixture();
    for (point, expect_update) in [
        (FaultPoint::InstallWrite, false),
        (FaultPoint::InstallReboot, true),
    ] {
        let store = MemoryStore::new();
        let trusted = test_signing_key().verifying_key();
        let mut faults = FaultPlan::new(vec![FaultRule {
            point,
            effect: FaultEffect::PowerLoss,
            trigger: Trigger::Nth(1),
        }])
        .for_device(1);
        let mut env = Env {
            package: &fx.package,
            trusted: &trusted,
            model: MODEL,
            free_memory: 1 << 20,
            faults: &mut faults,
        };
        let mut fw = Firmware::factory("1.0");
        fw.begin().expect("idle");
        save_state(&store, DEVICE, &fw).expect("saved");
        let outcome = dmsim::firmware::drive(
            &mut fw,
            &mut env,
            |f: &Firmware| save_state(&store, DEVICE, f),
            || load_state(&store, DEVICE).map(|s| s.unwrap_or_else(|| Firmware::factory("?"))),
        )
        .expect("stored");
        assert_consistent(&fw, &fx, &format!("{point:?}"));
        let outcome = outcome.expect("an outcome");
        if expect_update {
            assert!(outcome.cause().0.is_success(), "{point:?}");
            assert_eq!(fw.version(), "2.0");
        } else {
            assert_eq!(
                outcome,
                InstallOutcome::Failed {
                    error: InstallFailure::PowerLoss {
                        step: Step::WriteInactive
                    },
                    rolled_back: false
                }
            );
            assert_eq!(fw.version(), "1.0");
        }
    }
}
