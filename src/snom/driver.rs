//! Running a base's update to its end: [`run_update`] feeds the job ([`super::job`]) what its
//! actions came to, through a [`ContentClient`] (the DirList and `.fwu` GETs) and a [`Resolver`]
//! (the server's name), and carries out its flash writes and reboot on the [`Base`].

use super::base::{Base, WriteError};
use super::job::{Action, Input, Request, Stage, UpdateJob};
use super::resolver::Resolver;
use crate::download::ContentClient;
use crate::outcome::Outcome;

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// The update ended and its code is on the display.
    Finished(Outcome),
    /// The power went out during `stage`: the base booted from its saved state, with no code shown
    /// for the update.
    PowerLost { stage: Stage },
}

/// Run one update of `base` to its end. `start_again_at`: stages at which someone asks for another
/// update while this one runs (each shows Code 8, the update goes on).
pub async fn run_update<C: ContentClient, R: Resolver>(
    base: &mut Base,
    request: Request,
    client: &C,
    resolver: &R,
    start_again_at: &[Stage],
) -> Ended {
    let gateway = base.gateway_version().to_string();
    let mut job = UpdateJob::new(base.config().clone(), base.codes(), request, &gateway);
    let mut actions = job.step(Input::Start);
    let mut asked_again = Vec::new();
    loop {
        let stage = job.stage();
        if start_again_at.contains(&stage) && !asked_again.contains(&stage) {
            asked_again.push(stage);
            actions.extend(job.step(Input::StartRequested));
        }
        let mut next = None;
        for action in actions.drain(..) {
            let input = match action {
                Action::Show { code, outcome } => {
                    base.show(code, &outcome);
                    continue;
                }
                Action::Resolve { host } => match resolver.lookup(&host).await {
                    Ok(addresses) => Input::Resolved(addresses),
                    Err(e) => Input::LookupFailed(e),
                },
                Action::Fetch { url, authorization } => Input::Fetched(
                    client
                        .get_authorized(&url, None, authorization.as_deref())
                        .await,
                ),
                Action::Flash {
                    part,
                    version,
                    body,
                } => match base.flash(part, &version, &body) {
                    Ok(()) => Input::Flashed,
                    Err(WriteError::Failed(reason)) => Input::FlashFailed(reason),
                    Err(WriteError::PowerLoss) => return power_lost(base, stage),
                },
                Action::Reboot => match base.reboot_into_new_gateway() {
                    Ok(()) => Input::Rebooted,
                    Err(WriteError::Failed(reason)) => Input::FlashFailed(reason),
                    Err(WriteError::PowerLoss) => return power_lost(base, stage),
                },
            };
            next = Some(input);
        }
        match next {
            Some(input) => actions = job.step(input),
            None => break,
        }
    }
    match job.outcome() {
        Some(outcome) => Ended::Finished(outcome.clone()),
        // Every path of the job ends with an outcome or asks for something; a job that stops
        // without one is a defect of the job, reported as the stage it stopped in.
        None => {
            tracing::error!(stage = ?job.stage(), "the update stopped without an outcome");
            Ended::PowerLost { stage: job.stage() }
        }
    }
}

fn power_lost(base: &mut Base, stage: Stage) -> Ended {
    if let Err(e) = base.power_cycle() {
        tracing::error!(base = base.id(), error = %e, "the base cannot read its saved state");
    }
    Ended::PowerLost { stage }
}
