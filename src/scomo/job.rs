//! A SCOMO job as the engine's sans-IO state machine ([`crate::engine::Agent::step`]). The job
//! runner saves after every step; a power loss reboots the device from the last save and the job
//! goes on from there.
//!
//! | step | Status | what happens |
//! | --- | --- | --- |
//! | aborted transaction | unchanged | a transaction accepted while this job was queued or running is reported aborted, before the job goes on (`start.transaction-in-progress`) |
//! | start | unchanged | the device's preconditions (its update client's nodes), the `scomo.start` fault, an implemented operation |
//! | start (Download ops) | Download 30 | roaming refused (20); the download begins |
//! | download attempt *n* | Download 30 | one GET through the download agent, resumed from the bytes held |
//! | downloaded | Download 40 | the whole object is held |
//! | delivered | Download 40 or 50, Delivered 10 or 40 | the package verified (structure, certificates on the device's clock, signature, terms, payloads) and still valid, then delivered; Download ends here |
//! | checks | Delivered 40 | the package verified again, then: the devices and software version it is for, its validity, the packages it requires, battery, the device locked, other services running, the user, the installation conditions (when the device asks), environment types, no downgrade, memory, the versions the operation asked for, storage to install, already installed |
//! | conditions timeout | Delivered 40 | the installation conditions went unanswered: the job waits out the prompt's timeout on the device's clock, then the install fails (Delivered 50, `checks.conditions-timeout`) |
//! | install component *k* | Delivered 40 | one component deployed (Active, or Inactive for the Inactive operations), or skipped when it is for a sub-device the device does not have |
//! | rollback component *k* | Delivered 40 | after a failed component, one installed by the job removed (or restored) |
//! | verify component *k* | Delivered 40 | on a device that verifies and rolls back ([`super::verify`]): one component the job installed read back and checked |
//! | revert component *k* | Delivered 40 | on such a device, after a failed install or verification or for a trial install: one component returned to its source version (or removed) |
//! | operate (Remove, Activate, Deactivate) | Delivered 30, Deployed 30, 50 or 70 | the operation carried out |
//! | report | the terminal values | result recorded, Generic Alert queued, the source version files dropped, in one save |
//!
//! # Choices where the Knox E-FOTA codes leave one
//!
//! * **Not attempted** (Knox -1451, -1482): a package that requires another (its terms name the
//!   PkgID) is skipped when no deployed component came from that package: the operation that
//!   was to install it failed earlier (or never ran), and this one depends on it. A SCOMO agent
//!   runs one job at a time, so "operations sent in order" are operations of successive sessions.
//!   An install is not attempted either when a component is not at the version the operation
//!   asked for (`version=V` or `version.<id>=V` in `Download/<p>/InstallParams`) or when the
//!   device lacks the storage to install the components beside the packages it stores.
//! * **Sub-devices** (Knox -1463): a component for an attached peripheral the device does not have
//!   (`[device.scomo] sub_devices`) is skipped and the others installed, as the Knox portal's
//!   -7007 (partially updated) describes; the job reports one result, the sub-device's failure
//!   (the part that worked is in the Deployed inventory), and keeps the package, its State still
//!   Delivered, for an Install once the peripheral is attached.
//! * **A stored package no longer valid** (Knox -1456): the package's validity (declared in its
//!   terms) is checked when it is delivered and again when it is installed, on the device's clock;
//!   a package delivered while valid and installed after its validity ended is refused and
//!   deleted.

use super::agent::{Delivered, Deployed, Installed, Job, Phase, RevertReason, Scomo};
use super::mo::{self, Area};
use super::verify;
use crate::download::{DownloadOutcome, DownloadRequest, Partial};
use crate::engine::{self, Action, Conditions, Env, Input, Reported};
use crate::faults::{FaultEffect, FaultPoint};
use crate::outcome::{self, Cause, Outcome, Rollback};
use crate::package::{self, AskedVersions, DeliveryDevice, DeliveryPackage, InstallError};
use crate::protocol::scomo::{
    DeliveredState, DeliveredStatus, DeployedState, DeployedStatus, DownloadStatus, ScomoOperation,
};

pub use crate::engine::MAX_DOWNLOAD_ATTEMPTS;

/// What a transition asks for.
pub(super) enum Step {
    Save,
    PowerLoss,
    Wait(u64),
    Download {
        request: DownloadRequest,
        partial: Partial,
    },
    /// End the job with `outcome`, reporting `target` (relative to the root) and `identifier`.
    Finish {
        outcome: Outcome,
        target: Option<String>,
        identifier: Option<String>,
    },
}

pub(super) fn ended(job: &Job, phase: outcome::Phase, cause: Cause) -> Outcome {
    Outcome::new(job.outcome_operation(), phase, cause)
}

pub(super) fn finish(outcome: Outcome, target: Option<String>, identifier: Option<String>) -> Step {
    Step::Finish {
        outcome,
        target,
        identifier,
    }
}

pub(super) fn delivered_path(name: &str) -> String {
    format!("{}/{name}", Area::Delivered.path())
}

fn deployed_path(name: &str) -> String {
    format!("{}/{name}", Area::Deployed.path())
}

/// One step of the agent's job.
pub(super) fn step(scomo: &mut Scomo, input: Input, env: &mut Env<'_>) -> Action {
    if input == Input::Resume && !scomo.durable.aborted.is_empty() {
        return report_aborted(scomo, env);
    }
    let Some(job) = scomo.durable.job.clone() else {
        return Action::Save;
    };
    let step = match (job.phase.clone(), input) {
        (Phase::Download { attempts }, Input::Downloaded { outcome, partial }) => {
            downloaded(scomo, env, &job, attempts, *outcome, partial)
        }
        (phase, Input::Downloaded { .. }) => {
            tracing::error!(
                ?phase,
                "a download outcome for a SCOMO job not downloading is dropped"
            );
            Step::Save
        }
        (Phase::Start, Input::Resume) => start(scomo, env, &job),
        (Phase::Download { attempts }, Input::Resume) => attempt(scomo, env, &job, attempts),
        (Phase::Downloaded, Input::Resume) => deliver(scomo, env, &job),
        (
            Phase::Install {
                delivered,
                next,
                installed,
                skipped,
            },
            Input::Resume,
        ) => install_component(scomo, env, &job, &delivered, next, installed, skipped),
        (
            Phase::Rollback {
                delivered,
                failed,
                remaining,
            },
            Input::Resume,
        ) => rollback_component(scomo, env, &job, &delivered, &failed, remaining),
        (Phase::ConditionsTimeout { delivered }, Input::Resume) => {
            let pkg_id = scomo
                .delivered_index(&delivered)
                .map(|i| scomo.durable.delivered[i].pkg_id.clone());
            let outcome = ended(&job, outcome::Phase::Checks, Cause::ConditionsTimeout);
            install_failed(scomo, env, &job, &delivered, outcome, pkg_id)
        }
        (
            Phase::Verify {
                delivered,
                next,
                installed,
                skipped,
            },
            Input::Resume,
        ) => verify::verify_component(scomo, env, &job, &delivered, next, installed, skipped),
        (
            Phase::Revert {
                delivered,
                reason,
                remaining,
            },
            Input::Resume,
        ) => verify::revert_component(scomo, env, &job, &delivered, &reason, remaining),
        (Phase::Operate, Input::Resume) => operate(scomo, env, &job),
    };
    match step {
        Step::Save => Action::Save,
        Step::PowerLoss => Action::PowerLoss,
        Step::Wait(seconds) => Action::Wait { seconds },
        Step::Download { request, partial } => Action::Download { request, partial },
        Step::Finish {
            outcome,
            target,
            identifier,
        } => report(scomo, env, &job, outcome, target, identifier),
    }
}

pub(super) fn set_phase(scomo: &mut Scomo, phase: Phase) {
    if let Some(job) = scomo.durable.job.as_mut() {
        job.phase = phase;
    }
}

pub(super) fn download_status(
    scomo: &mut Scomo,
    env: &mut Env<'_>,
    job: &Job,
    status: DownloadStatus,
) {
    if job.area == Area::Download {
        scomo.set_download_status(env.tree, &job.name, status, env.now);
    }
}

fn start(scomo: &mut Scomo, env: &mut Env<'_>, job: &Job) -> Step {
    if let Some(unmet) = env.preconditions.check(env.tree) {
        return finish(
            ended(job, outcome::Phase::Start, unmet.cause).with_detail(unmet.detail),
            None,
            None,
        );
    }
    if env.faults.fire(FaultPoint::ScomoStart) == Some(FaultEffect::InternalError) {
        return finish(
            ended(job, outcome::Phase::Start, Cause::InternalError),
            None,
            None,
        );
    }
    if !scomo.config.operations.contains(&job.operation) {
        return finish(
            ended(job, outcome::Phase::Start, Cause::NotImplemented),
            None,
            None,
        );
    }
    match (job.area, job.operation) {
        (Area::Download, _) => {
            if env.roaming {
                download_status(scomo, env, job, DownloadStatus::DownloadFailed);
                return finish(
                    ended(job, outcome::Phase::Start, Cause::Roaming),
                    None,
                    None,
                );
            }
            if scomo.durable.pending.complete {
                scomo.drop_pending();
            }
            download_status(scomo, env, job, DownloadStatus::DownloadProgressing);
            set_phase(scomo, Phase::Download { attempts: 0 });
            Step::Save
        }
        (Area::Delivered, ScomoOperation::Install | ScomoOperation::InstallInactive) => {
            begin_install(scomo, env, job, &job.name)
        }
        (Area::Delivered, _) => {
            scomo.set_delivered(
                env.tree,
                &job.name,
                DeliveredStatus::RemoveProgressing,
                None,
                env.now,
            );
            set_phase(scomo, Phase::Operate);
            Step::Save
        }
        (Area::Deployed, operation) => {
            let status = match operation {
                ScomoOperation::Activate => DeployedStatus::ActivateProgressing,
                ScomoOperation::Deactivate => DeployedStatus::DeactivateProgressing,
                _ => DeployedStatus::RemoveProgressing,
            };
            scomo.set_deployed(env.tree, &job.name, status, None, env.now);
            set_phase(scomo, Phase::Operate);
            Step::Save
        }
    }
}

fn attempt(scomo: &mut Scomo, env: &mut Env<'_>, job: &Job, attempts: u32) -> Step {
    let partial = scomo.take_partial();
    let request = engine::download_request(&job.url, attempts, env);
    Step::Download { request, partial }
}

fn downloaded(
    scomo: &mut Scomo,
    env: &mut Env<'_>,
    job: &Job,
    attempts: u32,
    outcome: DownloadOutcome,
    partial: Partial,
) -> Step {
    if let Some(status) = outcome.dl_status() {
        scomo.records.dl_statuses.push(status);
    }
    match outcome {
        DownloadOutcome::Downloaded { bytes, .. } => {
            let whole = Partial {
                url: job.url.clone(),
                expected_size: Some(bytes.len() as u64),
                bytes,
                validator: None,
            };
            scomo.keep_pending(whole, true);
            download_status(scomo, env, job, DownloadStatus::DownloadComplete);
            set_phase(scomo, Phase::Downloaded);
            Step::Save
        }
        DownloadOutcome::Failed { cause, .. } => match engine::retry_after(&cause, attempts) {
            Some(seconds) => {
                scomo.keep_pending(partial, false);
                set_phase(
                    scomo,
                    Phase::Download {
                        attempts: attempts + 1,
                    },
                );
                Step::Wait(seconds)
            }
            None => {
                scomo.drop_pending();
                download_status(scomo, env, job, DownloadStatus::DownloadFailed);
                finish(
                    ended(job, outcome::Phase::Download, cause.cause()).with_detail(&cause),
                    None,
                    None,
                )
            }
        },
    }
}

/// Verify the downloaded package (its certificates on the device's clock, and its validity: a
/// device does not store a package that is no longer valid) and deliver it; Download ends here,
/// the others install.
fn deliver(scomo: &mut Scomo, env: &mut Env<'_>, job: &Job) -> Step {
    let checked = package::verify_delivery(scomo.pending_bytes(), &scomo.config.trusted, env.now)
        .and_then(|p| package::check_validity(&p, env.now).map(|()| p));
    let package = match checked {
        Ok(package) => package,
        Err(e) => {
            scomo.drop_pending();
            let status = match job.operation {
                ScomoOperation::Download => DownloadStatus::DownloadFailed,
                _ => DownloadStatus::InstallFailedWithoutData,
            };
            download_status(scomo, env, job, status);
            return finish(refused(job, &e), None, None);
        }
    };
    let base = mo::entry(&scomo.config.root, Area::Download, &job.name);
    let field = |leaf: &str| {
        env.tree
            .value_str(&format!("{base}/{leaf}"))
            .unwrap_or("")
            .to_string()
    };
    let node = mo::node_name(&package.pkg_id, &job.name);
    let install = job.operation != ScomoOperation::Download;
    scomo.deliver(
        Delivered {
            node: node.clone(),
            pkg_id: package.pkg_id.clone(),
            name: field("Name"),
            description: field("Description"),
            pkg_type: field("PkgType"),
            status: DeliveredStatus::Idle,
            state: DeliveredState::Delivered,
            len: 0,
        },
        env.tree,
        env.now,
    );
    if !install {
        return finish(
            ended(job, outcome::Phase::Download, Cause::Succeeded),
            Some(delivered_path(&node)),
            Some(package.pkg_id),
        );
    }
    download_status(scomo, env, job, DownloadStatus::InstallProgressing);
    begin_install(scomo, env, job, &node)
}

/// The package of `Delivered/<delivered>`, verified again from the bytes held (on the device's
/// clock now: a certificate may have expired since the package was delivered).
pub(super) fn held_package(
    scomo: &Scomo,
    delivered: &str,
    now: u64,
) -> Result<DeliveryPackage, InstallError> {
    // A node without its bytes (deleted by an earlier failure) holds nothing to verify.
    let bytes = scomo
        .delivered_index(delivered)
        .map_or(&[][..], |index| scomo.package(index));
    package::verify_delivery(bytes, &scomo.config.trusted, now)
}

/// A refusal of the package, as the outcome of `job`.
pub(super) fn refused(job: &Job, e: &InstallError) -> Outcome {
    ended(job, e.phase(), e.cause()).with_detail(e)
}

/// A failed install of `Delivered/<delivered>`: its Status says the package is still held.
pub(super) fn install_failed(
    scomo: &mut Scomo,
    env: &mut Env<'_>,
    job: &Job,
    delivered: &str,
    outcome: Outcome,
    pkg_id: Option<String>,
) -> Step {
    // A package no install of this device can use (components for an environment it lacks, bytes
    // or a format that do not verify, a signature or certificate that does not validate, terms
    // that exclude the device, a validity that ended) is deleted; one that failed for the
    // device's passing reasons (battery, the user, memory, storage, what is deployed or installed,
    // the version the operation asked for, a missing sub-device) is kept for another Install.
    let keep = !matches!(
        outcome.cause,
        Cause::UnsupportedEnvironment
            | Cause::PackageCorrupt
            | Cause::SignatureInvalid
            | Cause::InvalidFormat
            | Cause::CertificateInvalid
            | Cause::CertificateExpired
            | Cause::TargetMismatch
            | Cause::PackageExpired
    );
    let (delivered_status, download) = if keep {
        (
            DeliveredStatus::InstallFailedWithData,
            DownloadStatus::InstallFailedWithData,
        )
    } else {
        if let Some(index) = scomo.delivered_index(delivered) {
            scomo.drop_delivered_data(index);
        }
        (
            DeliveredStatus::InstallFailedWithoutData,
            DownloadStatus::InstallFailedWithoutData,
        )
    };
    scomo.set_delivered(env.tree, delivered, delivered_status, None, env.now);
    download_status(scomo, env, job, download);
    finish(outcome, Some(delivered_path(delivered)), pkg_id)
}

/// What the device's tree says of it, for the package's terms.
fn identity(env: &Env<'_>) -> (String, String) {
    let leaf = |uri: &str| env.tree.value_str(uri).unwrap_or("").to_string();
    (leaf("./DevInfo/DevId"), leaf("./DevDetail/SwV"))
}

/// The versions the operation asks for: `Download/<p>/InstallParams` of a Download operation
/// (the Delivered and Deployed operations have none).
fn asked_versions(scomo: &Scomo, env: &Env<'_>, job: &Job) -> AskedVersions {
    if job.area != Area::Download {
        return AskedVersions::default();
    }
    let base = mo::entry(&scomo.config.root, Area::Download, &job.name);
    AskedVersions::parse(
        env.tree
            .value_str(&format!("{base}/InstallParams"))
            .unwrap_or(""),
    )
}

/// The checks before an install, then its beginning. The package is verified again; then, in
/// order: the devices and software version it is for, its validity on the device's clock, the
/// packages it requires (the install skipped when one is not installed), the battery, the user,
/// the environments, no downgrade, the memory, the versions the operation asked for and the
/// storage to install (not attempted), and whether it is all installed already.
fn begin_install(scomo: &mut Scomo, env: &mut Env<'_>, job: &Job, delivered: &str) -> Step {
    scomo.set_delivered(
        env.tree,
        delivered,
        DeliveredStatus::InstallProgressing,
        None,
        env.now,
    );
    let package = match held_package(scomo, delivered, env.now) {
        Ok(package) => package,
        Err(e) => return install_failed(scomo, env, job, delivered, refused(job, &e), None),
    };
    let id = Some(package.pkg_id.clone());
    let (dev_id, sw_version) = identity(env);
    let installed: Vec<String> = scomo
        .durable
        .deployed
        .iter()
        .map(|c| c.pkg_id_ref.clone())
        .collect();
    if let Err(e) = package::check_target(&package, &dev_id, &sw_version)
        .and_then(|()| package::check_validity(&package, env.now))
        .and_then(|()| package::check_prerequisites(&package, &installed))
    {
        return install_failed(scomo, env, job, delivered, refused(job, &e), id);
    }
    let checks = |cause| ended(job, outcome::Phase::Checks, cause);
    if !env.battery_allows_update {
        return install_failed(scomo, env, job, delivered, checks(Cause::BatteryLow), id);
    }
    if let Some(unmet) = engine::install_gate(env) {
        let outcome = checks(unmet.cause).with_detail(unmet.detail);
        return install_failed(scomo, env, job, delivered, outcome, id);
    }
    match env.faults.fire(FaultPoint::UpdateUserConfirm) {
        Some(FaultEffect::UserReject) => {
            return install_failed(scomo, env, job, delivered, checks(Cause::UserRejected), id)
        }
        Some(FaultEffect::UserCancel) => {
            return install_failed(scomo, env, job, delivered, checks(Cause::UserCancelled), id)
        }
        Some(FaultEffect::UserIgnore) => {
            return install_failed(scomo, env, job, delivered, checks(Cause::UserIgnored), id)
        }
        _ => {}
    }
    match engine::ask_install_conditions(scomo.config.install_conditions, env) {
        Conditions::Accepted => {}
        Conditions::Refused(cause) => {
            return install_failed(scomo, env, job, delivered, checks(cause), id)
        }
        Conditions::TimedOut { wait } => {
            let delivered = delivered.to_string();
            set_phase(scomo, Phase::ConditionsTimeout { delivered });
            return Step::Wait(wait);
        }
    }
    let free_memory = match env.faults.fire(FaultPoint::InstallMemoryCheck) {
        Some(FaultEffect::MemoryLow) => 0,
        _ => env.free_memory,
    };
    let device = DeliveryDevice {
        env_types: &scomo.config.env_types,
        free_memory,
        ..DeliveryDevice::default()
    };
    let deployed: Vec<(String, String)> = scomo
        .durable
        .deployed
        .iter()
        .map(|c| (c.id.clone(), c.version.clone()))
        .collect();
    // The packages the device stores take their share of its storage.
    let free_storage = env
        .download_limits
        .free_storage
        .saturating_sub(scomo.delivered_len() as u64);
    if let Err(e) = package::check_environments(&package, device.env_types)
        .and_then(|()| package::check_downgrade(&package, &deployed))
        .and_then(|()| package::check_delivery_memory(&package, device.free_memory))
        .and_then(|()| package::check_asked_versions(&package, &asked_versions(scomo, env, job)))
        .and_then(|()| package::check_install_storage(&package, free_storage))
    {
        return install_failed(scomo, env, job, delivered, refused(job, &e), id);
    }
    let state = if job.inactive() {
        DeployedState::Inactive
    } else {
        DeployedState::Active
    };
    let all_there = package.components.iter().all(|c| {
        scomo
            .durable
            .deployed
            .iter()
            .any(|d| d.id == c.header.id && d.version == c.header.version && d.state == state)
    });
    if all_there {
        scomo.set_delivered(
            env.tree,
            delivered,
            DeliveredStatus::Idle,
            Some(DeliveredState::Installed),
            env.now,
        );
        download_status(scomo, env, job, DownloadStatus::Idle);
        return finish(
            checks(Cause::AlreadyInstalled),
            Some(delivered_path(delivered)),
            id,
        );
    }
    set_phase(
        scomo,
        Phase::Install {
            delivered: delivered.to_string(),
            next: 0,
            installed: Vec::new(),
            skipped: Vec::new(),
        },
    );
    Step::Save
}

/// The end of an install that went through every component and skipped those in `skipped` (their
/// sub-device is missing): the others stay installed, the package is kept, its State Delivered,
/// for an Install once the sub-device is there. `None` when none was skipped.
pub(super) fn sub_devices_missing(
    scomo: &mut Scomo,
    env: &mut Env<'_>,
    job: &Job,
    delivered: &str,
    package: &DeliveryPackage,
    skipped: &[String],
) -> Option<Step> {
    let first = skipped.first()?;
    let sub_device = package
        .component(first)
        .and_then(|c| c.terms.sub_device.clone())
        .unwrap_or_default();
    let outcome =
        ended(job, outcome::Phase::Install, Cause::SubDeviceMissing).with_detail(format!(
            "component {first:?} is for sub-device {sub_device:?}, which the device does not \
             have: {} of {} components installed, {} skipped",
            package.components.len().saturating_sub(skipped.len()),
            package.components.len(),
            skipped.len()
        ));
    let id = Some(package.pkg_id.clone());
    Some(install_failed(scomo, env, job, delivered, outcome, id))
}

/// Install component `next` of `Delivered/<delivered>` (one per step), or skip it when it is for
/// a sub-device the device does not have.
fn install_component(
    scomo: &mut Scomo,
    env: &mut Env<'_>,
    job: &Job,
    delivered: &str,
    next: usize,
    mut installed: Vec<Installed>,
    mut skipped: Vec<String>,
) -> Step {
    let package = match held_package(scomo, delivered, env.now) {
        Ok(package) => package,
        Err(e) => return install_failed(scomo, env, job, delivered, refused(job, &e), None),
    };
    let Some(component) = package.components.get(next) else {
        if scomo.config.verify_and_rollback {
            set_phase(
                scomo,
                Phase::Verify {
                    delivered: delivered.to_string(),
                    next: 0,
                    installed,
                    skipped,
                },
            );
            return Step::Save;
        }
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
            ended(job, outcome::Phase::Install, Cause::Succeeded),
            Some(delivered_path(delivered)),
            Some(package.pkg_id),
        );
    };
    let header = &component.header;
    if package::missing_sub_device(component, &scomo.config.sub_devices).is_some() {
        skipped.push(header.id.clone());
        set_phase(
            scomo,
            Phase::Install {
                delivered: delivered.to_string(),
                next: next + 1,
                installed,
                skipped,
            },
        );
        return Step::Save;
    }
    let rolls_back = scomo.config.verify_and_rollback;
    let source = rolls_back && verify::keep_source(scomo, env, &header.id);
    match env.faults.fire(FaultPoint::InstallWrite) {
        Some(FaultEffect::PowerLoss) => return Step::PowerLoss,
        Some(FaultEffect::StorageWriteError) if rolls_back => {
            // The previous version's file was set aside and the new one is not there: this
            // component is rolled back too, the first.
            if source {
                installed.push(Installed {
                    id: header.id.clone(),
                    previous: scomo
                        .durable
                        .deployed
                        .iter()
                        .find(|c| c.id == header.id)
                        .cloned(),
                    source,
                });
            }
            if installed.is_empty() {
                let outcome = ended(job, outcome::Phase::Install, Cause::ComponentFailed)
                    .with_detail(format!("component {:?} could not be written", header.id));
                return install_failed(scomo, env, job, delivered, outcome, Some(package.pkg_id));
            }
            set_phase(
                scomo,
                Phase::Revert {
                    delivered: delivered.to_string(),
                    reason: RevertReason::InstallFailed {
                        component: header.id.clone(),
                    },
                    remaining: installed,
                },
            );
            return Step::Save;
        }
        Some(FaultEffect::StorageWriteError) => {
            if installed.is_empty() {
                let outcome = ended(job, outcome::Phase::Install, Cause::ComponentFailed)
                    .with_detail(format!("component {:?} could not be written", header.id));
                return install_failed(scomo, env, job, delivered, outcome, Some(package.pkg_id));
            }
            set_phase(
                scomo,
                Phase::Rollback {
                    delivered: delivered.to_string(),
                    failed: header.id.clone(),
                    remaining: installed,
                },
            );
            return Step::Save;
        }
        _ => {}
    }
    let state = if job.inactive() {
        DeployedState::Inactive
    } else {
        DeployedState::Active
    };
    if rolls_back {
        let payload = scomo
            .delivered_index(delivered)
            .map(|i| component.payload(scomo.package(i)).to_vec())
            .unwrap_or_default();
        scomo.write_installed(&header.id, &header.version, &payload);
    }
    let previous = scomo.deploy(
        Deployed {
            node: scomo.deployed_node_name(&header.id),
            id: header.id.clone(),
            pkg_id_ref: package.pkg_id.clone(),
            name: header.name.clone(),
            description: String::new(),
            version: header.version.clone(),
            env_type: header.env_type.clone(),
            status: DeployedStatus::Idle,
            state,
        },
        env.tree,
        env.now,
    );
    installed.push(Installed {
        id: header.id.clone(),
        previous,
        source,
    });
    set_phase(
        scomo,
        Phase::Install {
            delivered: delivered.to_string(),
            next: next + 1,
            installed,
            skipped,
        },
    );
    Step::Save
}

/// Undo the last component the job installed (one per step); a failed rollback ends the job.
fn rollback_component(
    scomo: &mut Scomo,
    env: &mut Env<'_>,
    job: &Job,
    delivered: &str,
    failed: &str,
    mut remaining: Vec<Installed>,
) -> Step {
    let pkg_id = scomo
        .delivered_index(delivered)
        .map(|i| scomo.durable.delivered[i].pkg_id.clone());
    let detail = format!("component {failed:?} could not be written");
    if env.faults.fire(FaultPoint::InstallRollback) == Some(FaultEffect::RollbackFail) {
        let mut outcome =
            ended(job, outcome::Phase::Install, Cause::RollbackFailed).with_detail(detail);
        outcome.rollback = Rollback::Failed;
        return install_failed(scomo, env, job, delivered, outcome, pkg_id);
    }
    if let Some(last) = remaining.pop() {
        scomo.undeploy(&last.id, env.tree);
        if let Some(previous) = last.previous {
            scomo.deploy(previous, env.tree, env.now);
        }
    }
    if remaining.is_empty() {
        let mut outcome =
            ended(job, outcome::Phase::Install, Cause::ComponentFailed).with_detail(detail);
        outcome.rollback = Rollback::Done;
        return install_failed(scomo, env, job, delivered, outcome, pkg_id);
    }
    set_phase(
        scomo,
        Phase::Rollback {
            delivered: delivered.to_string(),
            failed: failed.to_string(),
            remaining,
        },
    );
    Step::Save
}

/// Carry out Remove, Activate or Deactivate (through the fault point of each: a failure leaves
/// what the device holds as it was, its Status the operation's "failed" value).
fn operate(scomo: &mut Scomo, env: &mut Env<'_>, job: &Job) -> Step {
    match job.area {
        Area::Delivered => {
            let pkg_id = scomo
                .delivered_index(&job.name)
                .map(|i| scomo.durable.delivered[i].pkg_id.clone());
            let target = Some(delivered_path(&job.name));
            if env.faults.fire(FaultPoint::ScomoRemove) == Some(FaultEffect::StorageWriteError) {
                scomo.set_delivered(
                    env.tree,
                    &job.name,
                    DeliveredStatus::RemoveFailed,
                    None,
                    env.now,
                );
                let outcome = ended(job, outcome::Phase::Remove, Cause::OperationFailed);
                return finish(outcome, target, pkg_id);
            }
            if let Some(index) = scomo.delivered_index(&job.name) {
                scomo.remove_delivered(index, env.tree);
            }
            finish(
                ended(job, outcome::Phase::Remove, Cause::Succeeded),
                target,
                pkg_id,
            )
        }
        Area::Deployed => {
            let id = scomo
                .durable
                .deployed
                .iter()
                .find(|c| c.node == job.name)
                .map(|c| c.id.clone());
            let target = Some(deployed_path(&job.name));
            let (point, effect, failed) = match job.operation {
                ScomoOperation::Activate => (
                    FaultPoint::ScomoActivate,
                    FaultEffect::InternalError,
                    DeployedStatus::ActivateFailed,
                ),
                ScomoOperation::Deactivate => (
                    FaultPoint::ScomoDeactivate,
                    FaultEffect::InternalError,
                    DeployedStatus::DeactivateFailed,
                ),
                _ => (
                    FaultPoint::ScomoRemove,
                    FaultEffect::StorageWriteError,
                    DeployedStatus::RemoveFailed,
                ),
            };
            let active = scomo
                .durable
                .deployed
                .iter()
                .any(|c| c.node == job.name && c.state == DeployedState::Active);
            if job.operation == ScomoOperation::Remove && active && !scomo.config.remove_active {
                scomo.set_deployed(env.tree, &job.name, failed, None, env.now);
                let outcome = ended(job, outcome::Phase::Remove, Cause::InUse);
                return finish(outcome, target, id);
            }
            if env.faults.fire(point) == Some(effect) {
                scomo.set_deployed(env.tree, &job.name, failed, None, env.now);
                let phase = match job.operation {
                    ScomoOperation::Activate => outcome::Phase::Activate,
                    ScomoOperation::Deactivate => outcome::Phase::Deactivate,
                    _ => outcome::Phase::Remove,
                };
                return finish(ended(job, phase, Cause::OperationFailed), target, id);
            }
            let (phase, state) = match job.operation {
                ScomoOperation::Activate => (outcome::Phase::Activate, DeployedState::Active),
                ScomoOperation::Deactivate => (outcome::Phase::Deactivate, DeployedState::Inactive),
                _ => {
                    if let Some(id) = &id {
                        scomo.undeploy(id, env.tree);
                    }
                    return finish(
                        ended(job, outcome::Phase::Remove, Cause::Succeeded),
                        target,
                        id,
                    );
                }
            };
            scomo.set_deployed(
                env.tree,
                &job.name,
                DeployedStatus::Idle,
                Some(state),
                env.now,
            );
            finish(ended(job, phase, Cause::Succeeded), target, id)
        }
        Area::Download => finish(
            ended(job, outcome::Phase::Start, Cause::InternalError),
            None,
            None,
        ),
    }
}

/// Report the first transaction aborted for the job in progress (see
/// [`ExecWhileBusy::Abort`](super::ExecWhileBusy::Abort)): it leaves the aborted ones in the same
/// save that queues its report, and the job in progress goes on at the next step.
fn report_aborted(scomo: &mut Scomo, env: &mut Env<'_>) -> Action {
    let aborted = scomo.durable.aborted.remove(0);
    let mut outcome = ended(
        &aborted,
        outcome::Phase::Start,
        Cause::TransactionInProgress,
    );
    if let Some(running) = &scomo.durable.job {
        outcome = outcome.with_detail(format!("{} is in progress", running.path()));
    }
    let row = env.profile.scomo_result_row(outcome.key());
    let alert = scomo.report(&aborted, &outcome, row.code, None, None);
    let reported = Reported {
        outcome,
        table: row.table,
        code: row.code,
        meaning: &row.meaning,
    };
    scomo.ending = Some(reported.clone());
    Action::Report { alert, reported }
}

/// End the job: no job, and the report (recorded once the save that queues it lands).
fn report(
    scomo: &mut Scomo,
    env: &mut Env<'_>,
    job: &Job,
    outcome: Outcome,
    target: Option<String>,
    identifier: Option<String>,
) -> Action {
    scomo.durable.job = None;
    scomo.drop_sources();
    let row = env.profile.scomo_result_row(outcome.key());
    let alert = scomo.report(job, &outcome, row.code, target, identifier);
    let reported = Reported {
        outcome,
        table: row.table,
        code: row.code,
        meaning: &row.meaning,
    };
    scomo.ending = Some(reported.clone());
    Action::Report { alert, reported }
}
