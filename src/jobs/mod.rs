//! The jobs a device runs between sessions, above the device and its agents: a session leaves a
//! job with an agent (an Exec accepted with 202), and [`run_job`] runs it to its end on the
//! [`Device`], carrying out what the agent's steps ask for ([`Action`]): the downloads (the only
//! I/O, through a [`ContentClient`]), the saves of the device's durable state, the reboots when the
//! power goes, the waits on the device's clock, and the report, queued in the device's reports.
//!
//! The agents' state machines sit below the device (the device holds them, through the engine's
//! [`Agent`](crate::engine::Agent) trait); what steps them against a device, its content client
//! and its store sits here, so neither the agents nor the device import the other's driver.

use crate::device::{Device, Saved};
use crate::download::{download, ContentClient};
use crate::engine::Reported;
use crate::engine::{Action, Env, Input};
use crate::storage::{StateStore, StoreError};

/// Most reports one agent makes in one run of its jobs; what it still has to do then waits for the
/// next run (an agent whose jobs never end cannot keep the device from its next session).
pub const MAX_REPORTS_PER_RUN: u32 = 64;

/// Most reboots one run of a job goes through before the driver gives up on it (a power supply
/// that fails at every save would otherwise keep the device booting forever).
pub const MAX_BOOTS_PER_RUN: u32 = 32;

/// Why a job could not be run to its end.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the device lost power {0} times running its {1} job; it never got to finish it")]
    PowerUnstable(u32, &'static str),
}

/// Run the jobs of the device's agents, if they have any, to their ends, one agent after the
/// other. Returns how the last job ended and what it reported (queued in the device's reports), or `None`
/// when there was no job.
pub async fn run_job<C: ContentClient>(
    device: &mut Device,
    client: &C,
    store: &dyn StateStore,
) -> Result<Option<Reported>, JobError> {
    let mut last = None;
    for index in 0..device.agents.len() {
        if let Some(reported) = run_agent(device, index, client, store).await? {
            last = Some(reported);
        }
    }
    Ok(last)
}

/// Run the job of the agent at `index` to its end, and the jobs it still has after that one's
/// report (a SCOMO transaction aborted for the one in progress is reported on its own, before it:
/// see [`crate::scomo::agent`]); returns the last report.
async fn run_agent<C: ContentClient>(
    device: &mut Device,
    index: usize,
    client: &C,
    store: &dyn StateStore,
) -> Result<Option<Reported>, JobError> {
    let mut boots = 0;
    let mut reports = 0;
    let mut last = None;
    let mut input = Input::Resume;
    loop {
        if boots > MAX_BOOTS_PER_RUN {
            let kind = device.agents.get(index).map_or("agent's", |a| a.kind());
            return Err(JobError::PowerUnstable(boots, kind));
        }
        let Some(action) = step(device, index, input) else {
            return Ok(last);
        };
        input = Input::Resume;
        let mut reboot = false;
        match action {
            Action::Save => reboot = device.save(store)? == Saved::PowerLost,
            Action::Wait { seconds } => {
                device.clock = device.clock.saturating_add(seconds);
                reboot = device.save(store)? == Saved::PowerLost;
            }
            Action::SaveAndReboot => {
                // A planned reboot after the save; a cut save is a power loss, the same reboot.
                let _ = device.save(store)?;
                reboot = true;
            }
            Action::PowerLoss => reboot = true,
            Action::Download {
                request,
                mut partial,
            } => {
                let outcome = download(client, request, &mut partial, &mut device.faults).await;
                input = Input::Downloaded {
                    outcome: Box::new(outcome),
                    partial,
                };
            }
            Action::Report { alert, reported } => {
                let profile = device.profile;
                let witnessed: Vec<_> = device
                    .agents
                    .iter_mut()
                    .enumerate()
                    .filter(|&(i, _)| i != index)
                    .filter_map(|(_, a)| a.witness(&alert, &reported, profile))
                    .collect();
                device.reports.push(alert);
                for extra in witnessed {
                    device.reports.push(extra);
                }
                match device.save(store)? {
                    Saved::Landed => {
                        if let Some(agent) = device.agents.get_mut(index) {
                            agent.reported();
                        }
                        reports += 1;
                        last = Some(reported);
                        if reports >= MAX_REPORTS_PER_RUN {
                            return Ok(last);
                        }
                    }
                    Saved::PowerLost => reboot = true,
                }
            }
        }
        if reboot {
            device.reboot(store)?;
            boots += 1;
        }
    }
}

/// One step of the agent at `index`, when it has a job.
fn step(device: &mut Device, index: usize, input: Input) -> Option<Action> {
    let Device {
        agents,
        tree,
        faults,
        resources,
        clock,
        profile,
        preconditions,
        user,
        ..
    } = device;
    let agent = agents.get_mut(index).filter(|a| a.has_job())?;
    let mut env = Env {
        tree,
        faults,
        now: *clock,
        roaming: resources.roaming,
        battery_allows_update: resources.battery_allows_update(),
        free_memory: resources.free_memory,
        download_limits: resources.download_limits(),
        profile,
        locked: resources.locked,
        busy_services: &resources.busy_services,
        preconditions,
        user,
    };
    Some(agent.step(input, &mut env))
}
