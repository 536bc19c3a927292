//! Running a FUMO job to its end: the download (the only I/O), the checks before an install, the
//! install through the firmware's state machine, and the report. After every step the device saves
//! its durable state; when the power goes out (at a save, or inside an install step) the device
//! reboots from what it saved last and the job goes on from there.
//!
//! The named steps, each followed by a save (the points the power-cut test reaches):
//!
//! | step | State | what happens |
//! | --- | --- | --- |
//! | start | 30 | the job begins: `fumo.start` fault, implemented operation, roaming (451), a previous package dropped |
//! | download attempt *n* | 30 | one GET of the package or descriptor and object, resumed from the bytes held; a network or availability failure is tried again ([`MAX_DOWNLOAD_ATTEMPTS`]) |
//! | downloaded | 40 | the whole, verified package is stored |
//! | ready | 50 | Download ends here (200); DownloadAndUpdate goes on to the checks |
//! | checks | 60 | battery (450), the user's confirmation (401), the version already running (250); then the install begins |
//! | install: verify, write, reboot, boot-verify, commit or rollback, done | 60 | [`Firmware::step`](crate::firmware::Firmware::step); its reboots are real reboots of the device |
//! | report | 20, 50, 70, 80, 90, 100 | the job ends: result recorded, Generic Alert queued, package kept or deleted, all in one save |

use crate::device::{Device, Saved};
use crate::download::{download, ContentClient, DownloadOutcome, DownloadRequest};
use crate::faults::{FaultEffect, FaultPoint};
use crate::firmware::{Env, Next};
use crate::fumo::agent::{
    install_outcome, update_state, Fumo, Job, Phase, Reported, MAX_DOWNLOAD_ATTEMPTS,
};
use crate::outcome::{self, Cause, Outcome};
use crate::protocol::fumo::{FumoState, Operation};
use crate::storage::{StateStore, StoreError};

/// Seconds the device waits before it resumes a download that failed (doubled each time).
const RETRY_BACKOFF_SECS: u64 = 30;

/// Most reboots one run of a job goes through before the driver gives up on it (a power supply
/// that fails at every save would otherwise keep the device booting forever).
pub const MAX_BOOTS_PER_RUN: u32 = 32;

/// Why a job could not be run to its end.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the device lost power {0} times running its FUMO job; it never got to finish it")]
    PowerUnstable(u32),
}

/// Run the device's FUMO job, if it has one, to its end. Returns how it ended and the result it
/// reported (queued in the device's reports), or `None` when there was no job.
pub async fn run_job<C: ContentClient>(
    device: &mut Device,
    client: &C,
    store: &dyn StateStore,
) -> Result<Option<Reported>, JobError> {
    let boots_before = device.fumo.as_ref().map_or(0, |f| f.records.boots);
    loop {
        let boots = device.fumo.as_ref().map_or(0, |f| f.records.boots) - boots_before;
        if boots > MAX_BOOTS_PER_RUN {
            return Err(JobError::PowerUnstable(boots));
        }
        let Some(job) = device.fumo.as_ref().and_then(|f| f.durable.job.clone()) else {
            return Ok(None);
        };
        let step = match job.phase {
            Phase::Start => start(device, &job),
            Phase::Download { attempts } => attempt(device, &job, attempts, client).await,
            Phase::Downloaded => ready(device, &job),
            Phase::Install => install_step(device, &job),
        };
        match step {
            Step::Save => {
                if device.save(store)? == Saved::PowerLost {
                    device.reboot(store)?;
                }
            }
            Step::SaveAndReboot => {
                // A planned reboot after the save; a cut save is a power loss, the same reboot.
                let _ = device.save(store)?;
                device.reboot(store)?;
            }
            Step::PowerLoss => device.reboot(store)?,
            Step::Finish { outcome, state } => {
                let reported = finish(device, &job, outcome, state);
                match device.save(store)? {
                    Saved::Landed => {
                        if let Some(fumo) = device.fumo.as_mut() {
                            fumo.records.results.push(reported.clone());
                        }
                        tracing::debug!(outcome = %reported.outcome, code = reported.code, "FUMO job ended");
                        return Ok(Some(reported));
                    }
                    Saved::PowerLost => device.reboot(store)?,
                }
            }
        }
    }
}

/// What the driver does after a transition.
enum Step {
    Save,
    SaveAndReboot,
    PowerLoss,
    /// End the job with `outcome`, leaving the State at `state`.
    Finish {
        outcome: Outcome,
        state: FumoState,
    },
}

/// The job's outcome: it ended in `phase` for `cause`.
fn ended(job: &Job, phase: outcome::Phase, cause: Cause) -> Outcome {
    Outcome::new(job.operation.into(), phase, cause)
}

fn fumo(device: &mut Device) -> &mut Fumo {
    device
        .fumo
        .as_deref_mut()
        .expect("a job exists only on a device with FUMO")
}

fn set_state(device: &mut Device, state: FumoState) {
    let now = device.clock;
    if let Some(f) = device.fumo.as_deref_mut() {
        f.set_state(&mut device.tree, state, now);
    }
}

fn set_phase(device: &mut Device, phase: Phase) {
    if let Some(job) = fumo(device).durable.job.as_mut() {
        job.phase = phase;
    }
}

fn start(device: &mut Device, job: &Job) -> Step {
    let current = fumo(device).durable.state;
    match device.faults.fire(FaultPoint::FumoStart) {
        Some(FaultEffect::InternalError) => {
            return Step::Finish {
                outcome: ended(job, outcome::Phase::Start, Cause::InternalError),
                state: current,
            }
        }
        Some(FaultEffect::PowerLoss) => return Step::PowerLoss,
        _ => {}
    }
    if !fumo(device).config.operations.contains(&job.operation) {
        return Step::Finish {
            outcome: ended(job, outcome::Phase::Start, Cause::NotImplemented),
            state: current,
        };
    }
    match job.operation {
        Operation::Update if !fumo(device).has_package() => Step::Finish {
            outcome: ended(job, outcome::Phase::Start, Cause::NoPackage),
            state: current,
        },
        Operation::Update => checks(device, job),
        Operation::Download | Operation::DownloadAndUpdate => {
            if device.resources.roaming {
                return Step::Finish {
                    outcome: ended(job, outcome::Phase::Start, Cause::Roaming),
                    state: FumoState::DownloadFailed,
                };
            }
            let fumo = fumo(device);
            if fumo.durable.store.complete {
                // A new download replaces the package held; a partial one may be resumed.
                fumo.drop_package();
            }
            set_state(device, FumoState::DownloadProgressing);
            set_phase(device, Phase::Download { attempts: 0 });
            Step::Save
        }
    }
}

async fn attempt<C: ContentClient>(
    device: &mut Device,
    job: &Job,
    attempts: u32,
    client: &C,
) -> Step {
    let mut partial = fumo(device).take_partial();
    let mut request = DownloadRequest::new(job.url.clone(), device.resources.download_limits());
    request.resume_later = attempts + 1 < MAX_DOWNLOAD_ATTEMPTS;
    request.profile = device.profile;
    let outcome = download(client, request, &mut partial, &mut device.faults).await;
    if let Some(status) = outcome.dl_status() {
        fumo(device).records.dl_statuses.push(status);
    }
    match outcome {
        DownloadOutcome::Downloaded { bytes, .. } => {
            fumo(device).keep_package(&job.url, bytes);
            set_state(device, FumoState::DownloadComplete);
            set_phase(device, Phase::Downloaded);
            Step::Save
        }
        DownloadOutcome::Failed { cause, .. }
            if cause.is_resumable() && attempts + 1 < MAX_DOWNLOAD_ATTEMPTS =>
        {
            tracing::debug!(%cause, attempt = attempts + 1, "download interrupted; resuming later");
            fumo(device).keep_partial(partial);
            device.clock = device
                .clock
                .saturating_add(RETRY_BACKOFF_SECS << attempts.min(16));
            set_phase(
                device,
                Phase::Download {
                    attempts: attempts + 1,
                },
            );
            Step::Save
        }
        DownloadOutcome::Failed { cause, .. } => {
            tracing::debug!(%cause, "download failed");
            fumo(device).drop_package();
            Step::Finish {
                outcome: ended(job, outcome::Phase::Download, cause.cause()).with_detail(&cause),
                state: FumoState::DownloadFailed,
            }
        }
    }
}

fn ready(device: &mut Device, job: &Job) -> Step {
    set_state(device, FumoState::ReadyToUpdate);
    match job.operation {
        Operation::Download => Step::Finish {
            outcome: ended(job, outcome::Phase::Download, Cause::Succeeded),
            state: FumoState::ReadyToUpdate,
        },
        Operation::Update | Operation::DownloadAndUpdate => checks(device, job),
    }
}

/// The checks before an install, then its beginning.
fn checks(device: &mut Device, job: &Job) -> Step {
    let failed = |cause| Step::Finish {
        outcome: ended(job, outcome::Phase::Checks, cause),
        state: FumoState::UpdateFailedHaveData,
    };
    if !device.resources.battery_allows_update() {
        return failed(Cause::BatteryLow);
    }
    match device.faults.fire(FaultPoint::UpdateUserConfirm) {
        Some(FaultEffect::UserReject) => return failed(Cause::UserRejected),
        Some(FaultEffect::UserCancel) => return failed(Cause::UserCancelled),
        Some(FaultEffect::UserIgnore) => return failed(Cause::UserIgnored),
        _ => {}
    }
    let fumo = fumo(device);
    let running = fumo.durable.firmware.version().to_string();
    let target = crate::package::parse(&fumo.bytes)
        .ok()
        .map(|p| p.header.to_version);
    if target.as_deref() == Some(running.as_str()) {
        let keep = fumo.config.keep_package;
        if !keep {
            fumo.drop_package();
        }
        let outcome = ended(job, outcome::Phase::Checks, Cause::AlreadyInstalled);
        let state = update_state(&outcome, keep);
        return Step::Finish { outcome, state };
    }
    if let Err(e) = fumo.durable.firmware.begin() {
        tracing::warn!(error = %e, "cannot begin the install");
        return failed(Cause::InternalError);
    }
    set_state(device, FumoState::UpdateProgressing);
    set_phase(device, Phase::Install);
    Step::Save
}

fn install_step(device: &mut Device, job: &Job) -> Step {
    let model = device
        .tree
        .value_str("./DevInfo/Mod")
        .unwrap_or("")
        .to_string();
    let free_memory = device.resources.free_memory;
    let Some(fumo) = device.fumo.as_deref_mut() else {
        return Step::PowerLoss;
    };
    let config = std::sync::Arc::clone(&fumo.config);
    let mut env = Env {
        package: &fumo.bytes,
        trusted: &config.trusted,
        model: &model,
        free_memory,
        faults: &mut device.faults,
    };
    match fumo.durable.firmware.step(&mut env) {
        Next::Continue(_) => Step::Save,
        Next::Reboot => Step::SaveAndReboot,
        Next::PowerLoss => Step::PowerLoss,
        Next::Done(install) => {
            let (outcome, usable) = install_outcome(job.operation, &install);
            let keep = if outcome.is_success() {
                config.keep_package
            } else {
                usable
            };
            if !keep {
                fumo.drop_package();
            }
            let state = update_state(&outcome, keep);
            Step::Finish { outcome, state }
        }
        // The install ended without handing an outcome out: only a state saved inconsistently
        // gets here.
        Next::Idle => Step::Finish {
            outcome: ended(job, outcome::Phase::Install, Cause::InternalError),
            state: FumoState::UpdateFailedHaveData,
        },
    }
}

/// End the job: State, report (with the code the device's profile gives the outcome), no job.
fn finish(device: &mut Device, job: &Job, outcome: Outcome, state: FumoState) -> Reported {
    set_state(device, state);
    let profile = device.profile;
    let row = profile.fumo_result_row(outcome.key());
    let code = u16::try_from(row.code).expect("a FUMO result is a u16");
    let fumo = fumo(device);
    fumo.durable.job = None;
    let alert = fumo.report(job, &outcome, code);
    device.reports.push(alert);
    Reported {
        outcome,
        code,
        meaning: &row.meaning,
    }
}
