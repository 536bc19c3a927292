//! Unit tests of the installer: every `InstallFailure` path, the boot rules, and the slots after
//! each outcome.

use super::*;
use crate::faults::{FaultPlan, FaultRule, Trigger};
use crate::package::{build, build_defective, test_signing_key, Defect, PackageSpec};

const MODEL: &str = "SIM-1";

fn package() -> Vec<u8> {
    let spec = PackageSpec::new(MODEL, "1.0", "2.0", 1024).expect("spec");
    build(&spec, &test_signing_key())
}

fn faults(rules: &[(FaultPoint, FaultEffect, Trigger)]) -> Faults {
    FaultPlan::new(
        rules
            .iter()
            .map(|&(point, effect, trigger)| FaultRule {
                point,
                effect,
                trigger,
            })
            .collect(),
    )
    .for_device(1)
}

/// Install `bytes` on a factory 1.0 device with `drive`, persisting as JSON in memory.
fn install_with(
    bytes: &[u8],
    faults: &mut Faults,
    free_memory: u64,
) -> (Firmware, Option<InstallOutcome>) {
    let mut firmware = Firmware::factory("1.0");
    firmware.begin().expect("idle");
    let trusted = test_signing_key().verifying_key();
    let mut env = Env {
        package: bytes,
        trusted: &trusted,
        model: MODEL,
        free_memory,
        faults,
    };
    let saved = std::cell::RefCell::new(serde_json::to_vec(&firmware).expect("json"));
    let outcome = drive(
        &mut firmware,
        &mut env,
        |f: &Firmware| {
            *saved.borrow_mut() = serde_json::to_vec(f)?;
            Ok::<_, serde_json::Error>(())
        },
        || serde_json::from_slice(&saved.borrow()),
    )
    .expect("persisted");
    (firmware, outcome)
}

fn install(faults_: &[(FaultPoint, FaultEffect, Trigger)]) -> (Firmware, Option<InstallOutcome>) {
    install_with(&package(), &mut faults(faults_), 1 << 20)
}

fn failed(outcome: Option<InstallOutcome>) -> (InstallFailure, bool) {
    match outcome {
        Some(InstallOutcome::Failed { error, rolled_back }) => (error, rolled_back),
        other => panic!("expected a failure, got {other:?}"),
    }
}

/// The device runs 1.0 from slot A, as before the install, and is idle.
fn assert_old(firmware: &Firmware) {
    assert_eq!(firmware.version(), "1.0");
    assert_eq!(firmware.active(), SlotId::A);
    assert_eq!(firmware.slot(SlotId::A).state, SlotState::Good);
    assert!(firmware.install().is_none());
    assert!(firmware.outcome_reported());
}

#[test]
fn a_good_package_updates_and_commits_the_new_slot() {
    let (firmware, outcome) = install(&[]);
    assert_eq!(
        outcome,
        Some(InstallOutcome::Updated {
            from: "1.0".into(),
            to: "2.0".into()
        })
    );
    assert_eq!(
        outcome.map(|o| o.cause()),
        Some((Cause::Succeeded, Rollback::NotNeeded))
    );
    assert_eq!(firmware.version(), "2.0");
    assert_eq!(firmware.active(), SlotId::B);
    let new = firmware.slot(SlotId::B);
    assert_eq!(new.state, SlotState::Good);
    assert_eq!(
        Some(new.payload_hash),
        crate::package::parse(&package())
            .ok()
            .map(|p| p.header.payload_hash)
    );
    // The old image stays as the fallback.
    assert_eq!(firmware.slot(SlotId::A).version, "1.0");
    assert_eq!(firmware.slot(SlotId::A).state, SlotState::Good);
    assert!(firmware.outcome_reported());
}

#[test]
fn every_package_error_fails_at_verify_with_its_code_and_writes_nothing() {
    let spec = PackageSpec::new(MODEL, "1.0", "2.0", 1024).expect("spec");
    for &defect in Defect::ALL {
        let bytes = build_defective(&spec, &test_signing_key(), defect);
        let (firmware, outcome) = install_with(&bytes, &mut Faults::default(), 1 << 20);
        let (error, rolled_back) = failed(outcome);
        assert!(matches!(error, InstallFailure::Package(_)), "{defect}");
        assert_eq!(error.cause(), defect.cause(), "{defect}");
        assert!(!rolled_back);
        assert_old(&firmware);
        assert_eq!(firmware.slot(SlotId::B), &Slot::empty(), "{defect}");
    }
}

#[test]
fn too_little_memory_is_502() {
    let (firmware, outcome) = install_with(&package(), &mut Faults::default(), 1000);
    assert_eq!(
        failed(outcome),
        (
            InstallFailure::Package(InstallError::OutOfMemory {
                need: 1024,
                have: 1000
            }),
            false
        )
    );
    assert_old(&firmware);
}

#[test]
fn memory_low_fault_is_502() {
    let (firmware, outcome) = install(&[(
        FaultPoint::InstallMemoryCheck,
        FaultEffect::MemoryLow,
        Trigger::Always,
    )]);
    let (error, _) = failed(outcome);
    assert_eq!(
        error,
        InstallFailure::Package(InstallError::OutOfMemory {
            need: 1024,
            have: 0
        })
    );
    assert_eq!(error.cause(), Cause::OutOfMemory);
    assert_old(&firmware);
}

#[test]
fn a_storage_error_while_writing_is_410_on_the_old_firmware() {
    let (firmware, outcome) = install(&[(
        FaultPoint::InstallWrite,
        FaultEffect::StorageWriteError,
        Trigger::Always,
    )]);
    let (error, rolled_back) = failed(outcome);
    assert_eq!(error, InstallFailure::WriteFailed);
    assert_eq!(error.cause(), Cause::WriteFailed);
    assert!(!rolled_back);
    assert_old(&firmware);
    assert_eq!(firmware.slot(SlotId::B).state, SlotState::Empty);
}

#[test]
fn a_power_loss_while_writing_abandons_the_install() {
    let (firmware, outcome) = install(&[(
        FaultPoint::InstallWrite,
        FaultEffect::PowerLoss,
        Trigger::Nth(1),
    )]);
    let (error, rolled_back) = failed(outcome);
    assert_eq!(
        error,
        InstallFailure::PowerLoss {
            step: Step::WriteInactive
        }
    );
    assert_eq!(error.cause(), Cause::PowerLost);
    assert!(!rolled_back);
    assert_old(&firmware);
    assert_eq!(firmware.slot(SlotId::B).state, SlotState::Empty);
}

#[test]
fn a_power_loss_at_the_reboot_resumes_the_complete_image() {
    let (firmware, outcome) = install(&[(
        FaultPoint::InstallReboot,
        FaultEffect::PowerLoss,
        Trigger::Nth(1),
    )]);
    assert_eq!(
        outcome.map(|o| o.cause()),
        Some((Cause::Succeeded, Rollback::NotNeeded))
    );
    assert_eq!(firmware.version(), "2.0");
}

#[test]
fn a_power_supply_that_keeps_failing_at_the_reboot_gives_up() {
    let mut f = faults(&[(
        FaultPoint::InstallReboot,
        FaultEffect::PowerLoss,
        Trigger::Always,
    )]);
    let (firmware, outcome) = install_with(&package(), &mut f, 1 << 20);
    let (error, rolled_back) = failed(outcome);
    assert_eq!(error, InstallFailure::PowerLoss { step: Step::Reboot });
    assert!(!rolled_back);
    assert_old(&firmware);
    assert_eq!(firmware.slot(SlotId::B).state, SlotState::Empty);
    // The plan's one rule is the reboot's power loss.
    assert_eq!(f.fired(), [u32::from(MAX_INTERRUPTIONS) + 1]);
}

#[test]
fn a_failed_post_update_verification_rolls_back() {
    let (firmware, outcome) = install(&[(
        FaultPoint::InstallVerify,
        FaultEffect::VerifyFail,
        Trigger::Always,
    )]);
    let (error, rolled_back) = failed(outcome);
    assert_eq!(error, InstallFailure::VerifyFailed);
    assert_eq!(error.cause(), Cause::VerifyFailed);
    assert!(rolled_back);
    assert_old(&firmware);
    assert_eq!(firmware.slot(SlotId::B), &Slot::empty());
}

#[test]
fn a_failed_rollback_is_recorded_and_the_bootloader_falls_back_to_the_old_slot() {
    let (firmware, outcome) = install(&[
        (
            FaultPoint::InstallVerify,
            FaultEffect::VerifyFail,
            Trigger::Always,
        ),
        (
            FaultPoint::InstallRollback,
            FaultEffect::RollbackFail,
            Trigger::Always,
        ),
    ]);
    let (error, rolled_back) = failed(outcome);
    assert_eq!(
        error,
        InstallFailure::RollbackFailed {
            after: Box::new(InstallFailure::VerifyFailed)
        }
    );
    assert_eq!(error.cause(), Cause::RollbackFailed);
    assert!(!rolled_back);
    assert_old(&firmware);
    // The new image is left behind, uncommitted and inactive: never booted again.
    let stale = firmware.slot(SlotId::B);
    assert_eq!(
        (stale.version.as_str(), stale.state),
        ("2.0", SlotState::Pending)
    );
    let mut again = firmware.clone();
    assert_eq!(again.boot(), Next::Idle);
    assert_eq!(again.version(), "1.0");
}

#[test]
fn repeated_power_loss_on_the_new_slot_rolls_back() {
    let mut firmware = Firmware::factory("1.0");
    firmware.begin().expect("idle");
    let trusted = test_signing_key().verifying_key();
    let bytes = package();
    let mut f = Faults::default();
    let mut env = Env {
        package: &bytes,
        trusted: &trusted,
        model: MODEL,
        free_memory: 1 << 20,
        faults: &mut f,
    };
    assert_eq!(firmware.step(&mut env), Next::Continue(Step::WriteInactive));
    assert_eq!(firmware.step(&mut env), Next::Continue(Step::Reboot));
    assert_eq!(firmware.step(&mut env), Next::Reboot);
    assert_eq!(firmware.boot(), Next::Continue(Step::BootVerify));
    assert_eq!(firmware.version(), "2.0");
    for _ in 0..MAX_INTERRUPTIONS {
        assert_eq!(firmware.boot(), Next::Continue(Step::BootVerify));
    }
    assert_eq!(firmware.boot(), Next::Continue(Step::Rollback));
    assert_eq!(firmware.step(&mut env), Next::Reboot);
    assert_eq!(firmware.version(), "1.0");
    assert_eq!(firmware.boot(), Next::Continue(Step::Done));
    let Next::Done(outcome) = firmware.step(&mut env) else {
        panic!("expected the outcome");
    };
    assert_eq!(
        outcome,
        InstallOutcome::Failed {
            error: InstallFailure::PowerLoss {
                step: Step::BootVerify
            },
            rolled_back: true
        }
    );
    assert_eq!(firmware.step(&mut env), Next::Idle);
}

#[test]
fn an_install_cannot_begin_while_one_is_in_progress() {
    let mut firmware = Firmware::factory("1.0");
    firmware.begin().expect("idle");
    assert_eq!(firmware.begin(), Err(BeginError::Busy(Step::Verify)));
}

#[test]
fn the_next_install_goes_to_the_other_slot() {
    let (mut firmware, _) = install(&[]);
    assert_eq!(firmware.version(), "2.0");
    firmware.begin().expect("idle");
    assert_eq!(firmware.install().map(Install::target), Some(SlotId::A));
    let spec = PackageSpec::new(MODEL, "2.0", "3.0", 64).expect("spec");
    let bytes = build(&spec, &test_signing_key());
    let trusted = test_signing_key().verifying_key();
    let mut f = Faults::default();
    let mut env = Env {
        package: &bytes,
        trusted: &trusted,
        model: MODEL,
        free_memory: 64,
        faults: &mut f,
    };
    let snapshot = std::cell::RefCell::new(firmware.clone());
    let outcome = drive(
        &mut firmware,
        &mut env,
        |f: &Firmware| {
            *snapshot.borrow_mut() = f.clone();
            Ok::<_, ()>(())
        },
        || Ok(snapshot.borrow().clone()),
    );
    assert_eq!(
        outcome,
        Ok(Some(InstallOutcome::Updated {
            from: "2.0".into(),
            to: "3.0".into()
        }))
    );
    assert_eq!(
        (firmware.active(), firmware.slot(SlotId::B).version.as_str()),
        (SlotId::A, "2.0")
    );
}

#[test]
fn without_an_install_steps_are_idle_and_boot_keeps_a_good_slot() {
    let mut firmware = Firmware::factory("1.0");
    assert_eq!(firmware.boot(), Next::Idle);
    let trusted = test_signing_key().verifying_key();
    let mut f = Faults::default();
    let mut env = Env {
        package: &[],
        trusted: &trusted,
        model: MODEL,
        free_memory: 0,
        faults: &mut f,
    };
    assert_eq!(firmware.step(&mut env), Next::Idle);
    assert_eq!(firmware.outcome(), None);
}

#[test]
fn failures_serialize_with_their_causes() {
    let outcome = InstallOutcome::Failed {
        error: InstallFailure::RollbackFailed {
            after: Box::new(InstallFailure::PowerLoss {
                step: Step::BootVerify,
            }),
        },
        rolled_back: false,
    };
    let json = serde_json::to_string(&outcome).expect("json");
    assert!(json.contains("boot-verify"), "{json}");
    assert_eq!(
        serde_json::from_str::<InstallOutcome>(&json).ok(),
        Some(outcome)
    );
    assert_eq!(
        InstallFailure::Package(InstallError::BadSignature).to_string(),
        "the package signature does not verify with the trusted key"
    );
}
