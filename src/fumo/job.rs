//! A FUMO job as the engine's sans-IO state machine ([`crate::engine::Agent::step`]): the download
//! (the only I/O, asked for with [`Action::Download`]), the checks before an install, the install
//! through the firmware's state machine, and the report. The job runner ([`crate::jobs`]) saves the
//! device's durable state after every step; when the power goes out (at a save, or inside an
//! install step) the device reboots from what it saved last and the job goes on from there.
//!
//! The named steps, each followed by a save (the points the power-cut test reaches):
//!
//! | step | State | what happens |
//! | --- | --- | --- |
//! | start | 30 | the job begins: the device's preconditions (its update client's nodes), `fumo.start` fault, implemented operation, roaming (451), a previous package dropped |
//! | download attempt *n* | 30 | one GET of the package or descriptor and object, resumed from the bytes held; a network or availability failure is tried again ([`MAX_DOWNLOAD_ATTEMPTS`]) |
//! | downloaded | 40 | the whole, verified package is stored |
//! | ready | 50 | Download ends here (200); DownloadAndUpdate goes on to the checks |
//! | checks | 60 | battery (450), the device locked, other services running, the user's confirmation (401), the installation conditions (when the device asks: declined 401, unanswered below), the version already running (250); then the install begins |
//! | conditions timeout | 50 | the installation conditions went unanswered: the job waits out the prompt's timeout on the device's clock, then ends `checks.conditions-timeout` (70) |
//! | install: verify, write, reboot, boot-verify, commit or rollback, done | 60 | [`Firmware::step`](crate::firmware::Firmware::step); its reboots are real reboots of the device |
//! | report | 20, 50, 70, 80, 90, 100 | the job ends: result recorded, Generic Alert queued, package kept or deleted, all in one save |

use super::agent::{install_outcome, update_state, Fumo, Job, Phase};
use crate::download::{DownloadOutcome, DownloadRequest, Partial};
use crate::engine::{self, Action, Conditions, Env, Input, Reported};
use crate::faults::{FaultEffect, FaultPoint};
use crate::firmware::{Env as InstallEnv, Next};
use crate::outcome::{self, Cause, Outcome};
use crate::protocol::fumo::{FumoState, Operation};

/// What a transition asks for.
enum Step {
    Save,
    SaveAndReboot,
    PowerLoss,
    /// Let time pass, then save.
    Wait(u64),
    Download {
        request: DownloadRequest,
        partial: Partial,
    },
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

/// One step of the agent's job (see [`crate::engine::Agent::step`]).
pub(super) fn step(fumo: &mut Fumo, input: Input, env: &mut Env<'_>) -> Action {
    let Some(job) = fumo.durable.job.clone() else {
        return Action::Save;
    };
    let step = match (job.phase.clone(), input) {
        (Phase::Download { attempts }, Input::Downloaded { outcome, partial }) => {
            downloaded(fumo, env, &job, attempts, *outcome, partial)
        }
        (phase, Input::Downloaded { .. }) => {
            tracing::error!(
                ?phase,
                "a download outcome for a FUMO job not downloading is dropped"
            );
            Step::Save
        }
        (Phase::Start, Input::Resume) => start(fumo, env, &job),
        (Phase::Download { attempts }, Input::Resume) => attempt(fumo, env, &job, attempts),
        (Phase::Downloaded, Input::Resume) => ready(fumo, env, &job),
        (Phase::ConditionsTimeout, Input::Resume) => Step::Finish {
            outcome: ended(&job, outcome::Phase::Checks, Cause::ConditionsTimeout),
            state: FumoState::UpdateFailedHaveData,
        },
        (Phase::Install, Input::Resume) => install_step(fumo, env, &job),
    };
    match step {
        Step::Save => Action::Save,
        Step::SaveAndReboot => Action::SaveAndReboot,
        Step::PowerLoss => Action::PowerLoss,
        Step::Wait(seconds) => Action::Wait { seconds },
        Step::Download { request, partial } => Action::Download { request, partial },
        Step::Finish { outcome, state } => finish(fumo, env, &job, outcome, state),
    }
}

fn set_state(fumo: &mut Fumo, env: &mut Env<'_>, state: FumoState) {
    fumo.set_state(env.tree, state, env.now);
}

fn set_phase(fumo: &mut Fumo, phase: Phase) {
    if let Some(job) = fumo.durable.job.as_mut() {
        job.phase = phase;
    }
}

fn start(fumo: &mut Fumo, env: &mut Env<'_>, job: &Job) -> Step {
    let current = fumo.durable.state;
    if let Some(unmet) = env.preconditions.check(env.tree) {
        return Step::Finish {
            outcome: ended(job, outcome::Phase::Start, unmet.cause).with_detail(unmet.detail),
            state: current,
        };
    }
    match env.faults.fire(FaultPoint::FumoStart) {
        Some(FaultEffect::InternalError) => {
            return Step::Finish {
                outcome: ended(job, outcome::Phase::Start, Cause::InternalError),
                state: current,
            }
        }
        Some(FaultEffect::PowerLoss) => return Step::PowerLoss,
        _ => {}
    }
    if !fumo.config.operations.contains(&job.operation) {
        return Step::Finish {
            outcome: ended(job, outcome::Phase::Start, Cause::NotImplemented),
            state: current,
        };
    }
    match job.operation {
        Operation::Update if !fumo.has_package() => Step::Finish {
            outcome: ended(job, outcome::Phase::Start, Cause::NoPackage),
            state: current,
        },
        Operation::Update => checks(fumo, env, job),
        Operation::Download | Operation::DownloadAndUpdate => {
            if env.roaming {
                return Step::Finish {
                    outcome: ended(job, outcome::Phase::Start, Cause::Roaming),
                    state: FumoState::DownloadFailed,
                };
            }
            if fumo.durable.store.complete {
                // A new download replaces the package held; a partial one may be resumed.
                fumo.drop_package();
            }
            set_state(fumo, env, FumoState::DownloadProgressing);
            set_phase(fumo, Phase::Download { attempts: 0 });
            Step::Save
        }
    }
}

/// Ask for download attempt `attempts + 1`, resuming from the bytes held.
fn attempt(fumo: &mut Fumo, env: &mut Env<'_>, job: &Job, attempts: u32) -> Step {
    let partial = fumo.take_partial();
    let request = engine::download_request(&job.url, attempts, env);
    Step::Download { request, partial }
}

/// What download attempt `attempts + 1` came to.
fn downloaded(
    fumo: &mut Fumo,
    env: &mut Env<'_>,
    job: &Job,
    attempts: u32,
    outcome: DownloadOutcome,
    partial: Partial,
) -> Step {
    if let Some(status) = outcome.dl_status() {
        fumo.records.dl_statuses.push(status);
    }
    match outcome {
        DownloadOutcome::Downloaded { bytes, .. } => {
            fumo.keep_package(&job.url, bytes);
            set_state(fumo, env, FumoState::DownloadComplete);
            set_phase(fumo, Phase::Downloaded);
            Step::Save
        }
        DownloadOutcome::Failed { cause, .. } => match engine::retry_after(&cause, attempts) {
            Some(seconds) => {
                tracing::debug!(%cause, attempt = attempts + 1, "download interrupted; resuming later");
                fumo.keep_partial(partial);
                set_phase(
                    fumo,
                    Phase::Download {
                        attempts: attempts + 1,
                    },
                );
                Step::Wait(seconds)
            }
            None => {
                tracing::debug!(%cause, "download failed");
                fumo.drop_package();
                Step::Finish {
                    outcome: ended(job, outcome::Phase::Download, cause.cause())
                        .with_detail(&cause),
                    state: FumoState::DownloadFailed,
                }
            }
        },
    }
}

fn ready(fumo: &mut Fumo, env: &mut Env<'_>, job: &Job) -> Step {
    set_state(fumo, env, FumoState::ReadyToUpdate);
    match job.operation {
        Operation::Download => Step::Finish {
            outcome: ended(job, outcome::Phase::Download, Cause::Succeeded),
            state: FumoState::ReadyToUpdate,
        },
        Operation::Update | Operation::DownloadAndUpdate => checks(fumo, env, job),
    }
}

/// The checks before an install, then its beginning.
fn checks(fumo: &mut Fumo, env: &mut Env<'_>, job: &Job) -> Step {
    let failed = |cause| Step::Finish {
        outcome: ended(job, outcome::Phase::Checks, cause),
        state: FumoState::UpdateFailedHaveData,
    };
    if !env.battery_allows_update {
        return failed(Cause::BatteryLow);
    }
    if let Some(unmet) = engine::install_gate(env) {
        return Step::Finish {
            outcome: ended(job, outcome::Phase::Checks, unmet.cause).with_detail(unmet.detail),
            state: FumoState::UpdateFailedHaveData,
        };
    }
    match env.faults.fire(FaultPoint::UpdateUserConfirm) {
        Some(FaultEffect::UserReject) => return failed(Cause::UserRejected),
        Some(FaultEffect::UserCancel) => return failed(Cause::UserCancelled),
        Some(FaultEffect::UserIgnore) => return failed(Cause::UserIgnored),
        _ => {}
    }
    match engine::ask_install_conditions(fumo.config.install_conditions, env) {
        Conditions::Accepted => {}
        Conditions::Refused(cause) => return failed(cause),
        Conditions::TimedOut { wait } => {
            set_phase(fumo, Phase::ConditionsTimeout);
            return Step::Wait(wait);
        }
    }
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
    set_state(fumo, env, FumoState::UpdateProgressing);
    set_phase(fumo, Phase::Install);
    Step::Save
}

fn install_step(fumo: &mut Fumo, env: &mut Env<'_>, job: &Job) -> Step {
    let model = env
        .tree
        .value_str("./DevInfo/Mod")
        .unwrap_or("")
        .to_string();
    let config = std::sync::Arc::clone(&fumo.config);
    let mut install = InstallEnv {
        package: &fumo.bytes,
        trusted: &config.trusted,
        model: &model,
        free_memory: env.free_memory,
        faults: env.faults,
    };
    match fumo.durable.firmware.step(&mut install) {
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

/// End the job: State, no job, and the report (recorded once the save that queues it lands).
fn finish(
    fumo: &mut Fumo,
    env: &mut Env<'_>,
    job: &Job,
    outcome: Outcome,
    state: FumoState,
) -> Action {
    set_state(fumo, env, state);
    fumo.durable.job = None;
    let row = env.profile.fumo_result_row(outcome.key());
    let alert = fumo.report(job, &outcome, row.code);
    let reported = Reported {
        outcome,
        table: row.table,
        code: row.code,
        meaning: &row.meaning,
    };
    fumo.ending = Some(reported.clone());
    Action::Report { alert, reported }
}
