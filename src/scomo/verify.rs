//! Post-update verification and version rollback: the steps of a SCOMO job on a device that
//! verifies and rolls back ([`ScomoConfig::verify_and_rollback`](super::ScomoConfig)), on the
//! component files of [`super::files`].
//!
//! * **Install.** Before it writes a component that replaces a deployed version, the device sets
//!   that version's installed file aside as the source version file (the `scomo.source-file` fault
//!   point fires once it is kept: `file.missing` removes it, `file.corrupt` changes a byte). A write
//!   that fails (`install.write` → `storage.write-error`) leaves the component without its file,
//!   so it is rolled back too, the first.
//! * **Verify**, once every component is installed, one per step: the component's installed file
//!   is read back and compared with the package's declared payload length and hash and its version
//!   ([`Scomo::check_installed`]); `install.verify` → `verify.fail` damages the file first, as
//!   storage that kept other bytes than were written, and the check finds it. All pass:
//!   `verify.succeeded`; the first that fails starts the rollback.
//! * **Roll back**, one component per step, the last installed first: a component that replaced a
//!   version gets its source version file back (checked first: there, and hashing to what was
//!   kept), one the job added is removed. `install.rollback` → `rollback.fail` fails the write
//!   back; a source file missing or unreadable fails the rollback too, distinctly. The first
//!   failure ends the job; what was not rolled back stays as the job left it.
//! * **Trial install**: an Exec whose Data is `rollback=after-install` asks to return to the
//!   source versions once the install succeeded and verified (E-FOTA lets an administrator test an
//!   update this way before rolling it out).
//!
//! | why it rolls back | rolled back | writing back failed | source file missing |
//! | --- | --- | --- | --- |
//! | a component's write failed | `install.rolled-back` | `install.rollback-failed` | `install.source-missing` |
//! | a component failed its verification | `verify.rolled-back` | `verify.rollback-failed` | `verify.source-missing` |
//! | the server asked (trial) | `trial.succeeded` | `trial.rollback-failed` | `trial.source-missing` |
//!
//! The job's source version files are dropped when it ends, in the save that queues its report.
//! A failure ends as a failed install does (the package kept: Delivered Status 50, Download Status
//! 60); `verify.succeeded` as an install does, and `trial.succeeded` leaves the package Delivered.

use super::agent::{Installed, Job, Phase, RevertReason, Scomo};
use super::files::FileKind;
use super::job::{
    delivered_path, download_status, ended, finish, held_package, install_failed, refused,
    set_phase, sub_devices_missing, Step,
};
use crate::engine::Env;
use crate::faults::{FaultEffect, FaultPoint};
use crate::outcome::{self, Cause, Outcome, Rollback};
use crate::protocol::scomo::{DeliveredState, DeliveredStatus, DownloadStatus};

/// Set component `id`'s installed file aside as its source version file, through the
/// `scomo.source-file` fault point; whether there was one to keep.
pub(super) fn keep_source(scomo: &mut Scomo, env: &mut Env<'_>, id: &str) -> bool {
    if !scomo.keep_source(id) {
        return false;
    }
    let kept = scomo.file_index(FileKind::Source, id);
    match (env.faults.fire(FaultPoint::ScomoSourceFile), kept) {
        (Some(FaultEffect::FileMissing), Some(index)) => scomo.remove_file(index),
        (Some(FaultEffect::FileCorrupt), Some(index)) => scomo.damage_file(index),
        _ => {}
    }
    true
}

/// Verify component `next` of those the job installed (one per step).
pub(super) fn verify_component(
    scomo: &mut Scomo,
    env: &mut Env<'_>,
    job: &Job,
    delivered: &str,
    next: usize,
    installed: Vec<Installed>,
    skipped: Vec<String>,
) -> Step {
    let package = match held_package(scomo, delivered, env.now) {
        Ok(package) => package,
        Err(e) => return install_failed(scomo, env, job, delivered, refused(job, &e), None),
    };
    let Some(entry) = installed.get(next) else {
        if job.trial {
            set_phase(
                scomo,
                Phase::Revert {
                    delivered: delivered.to_string(),
                    reason: RevertReason::Requested,
                    remaining: installed,
                },
            );
            return Step::Save;
        }
        // What was installed verified; the components for a missing sub-device were not.
        if let Some(step) = sub_devices_missing(scomo, env, job, delivered, &package, &skipped) {
            return step;
        }
        scomo.set_delivered(
            env.tree,
            delivered,
            DeliveredStatus::Idle,
            Some(DeliveredState::Installed),
            env.now,
        );
        download_status(scomo, env, job, DownloadStatus::Idle);
        return finish(
            ended(job, outcome::Phase::Verify, Cause::Succeeded),
            Some(delivered_path(delivered)),
            Some(package.pkg_id),
        );
    };
    if env.faults.fire(FaultPoint::InstallVerify) == Some(FaultEffect::VerifyFail) {
        if let Some(index) = scomo.file_index(FileKind::Installed, &entry.id) {
            scomo.damage_file(index);
        }
    }
    let checked = match package.component(&entry.id) {
        Some(component) => scomo
            .check_installed(&component.header)
            .map_err(|m| m.to_string()),
        None => Err(format!("component {:?} is not in the package", entry.id)),
    };
    let phase = match checked {
        Ok(()) => Phase::Verify {
            delivered: delivered.to_string(),
            next: next + 1,
            installed,
            skipped,
        },
        Err(detail) => Phase::Revert {
            delivered: delivered.to_string(),
            reason: RevertReason::VerifyFailed {
                component: entry.id.clone(),
                detail,
            },
            remaining: installed,
        },
    };
    set_phase(scomo, phase);
    Step::Save
}

/// Return the last component the job installed to its source version, or remove it when it
/// replaced none (one per step); the first failure ends the job.
pub(super) fn revert_component(
    scomo: &mut Scomo,
    env: &mut Env<'_>,
    job: &Job,
    delivered: &str,
    reason: &RevertReason,
    mut remaining: Vec<Installed>,
) -> Step {
    let (phase, why) = match reason {
        RevertReason::InstallFailed { component } => (
            outcome::Phase::Install,
            format!("component {component:?} could not be written"),
        ),
        RevertReason::VerifyFailed { detail, .. } => (outcome::Phase::Verify, detail.clone()),
        RevertReason::Requested => (
            outcome::Phase::Trial,
            "a trial install returned to the source versions".to_string(),
        ),
    };
    let end = |scomo: &mut Scomo, env: &mut Env<'_>, cause, rollback, detail: String| {
        let mut outcome = ended(job, phase, cause).with_detail(detail);
        outcome.rollback = rollback;
        ended_revert(scomo, env, job, delivered, outcome)
    };
    let Some(last) = remaining.pop() else {
        let cause = match reason {
            RevertReason::Requested => Cause::Succeeded,
            _ => Cause::RolledBack,
        };
        return end(scomo, env, cause, Rollback::Done, why);
    };
    let source = match (&last.previous, last.source) {
        (None, _) => None,
        (Some(_), true) => match scomo.check_source(&last.id) {
            Ok(index) => Some(index),
            Err(problem) => {
                let detail = format!("{why}; {problem}");
                return end(scomo, env, Cause::SourceMissing, Rollback::Failed, detail);
            }
        },
        (Some(_), false) => {
            let detail = format!(
                "{why}; no source version file of component {:?} was kept",
                last.id
            );
            return end(scomo, env, Cause::SourceMissing, Rollback::Failed, detail);
        }
    };
    if env.faults.fire(FaultPoint::InstallRollback) == Some(FaultEffect::RollbackFail) {
        let detail = format!("{why}; component {:?} could not be written back", last.id);
        return end(scomo, env, Cause::RollbackFailed, Rollback::Failed, detail);
    }
    match (source, last.previous) {
        (Some(index), Some(previous)) => {
            scomo.restore_source(index);
            scomo.deploy(previous, env.tree, env.now);
        }
        _ => {
            scomo.undeploy(&last.id, env.tree);
        }
    }
    if remaining.is_empty() {
        let cause = match reason {
            RevertReason::Requested => Cause::Succeeded,
            _ => Cause::RolledBack,
        };
        return end(scomo, env, cause, Rollback::Done, why);
    }
    set_phase(
        scomo,
        Phase::Revert {
            delivered: delivered.to_string(),
            reason: reason.clone(),
            remaining,
        },
    );
    Step::Save
}

/// The job ends after a rollback: a trial that returned is a success that leaves the package
/// Delivered; everything else a failed install that keeps the package.
fn ended_revert(
    scomo: &mut Scomo,
    env: &mut Env<'_>,
    job: &Job,
    delivered: &str,
    outcome: Outcome,
) -> Step {
    let pkg_id = scomo
        .delivered_index(delivered)
        .map(|i| scomo.durable.delivered[i].pkg_id.clone());
    if !outcome.is_success() {
        return install_failed(scomo, env, job, delivered, outcome, pkg_id);
    }
    scomo.set_delivered(env.tree, delivered, DeliveredStatus::Idle, None, env.now);
    download_status(scomo, env, job, DownloadStatus::Idle);
    finish(outcome, Some(delivered_path(delivered)), pkg_id)
}
