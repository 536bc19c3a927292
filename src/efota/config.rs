//! `Operations/InstallProfile`: the E-FOTA client applies the configuration profile the server
//! wrote to `Config/Profile` (with its additional data in `Config/ProfileData`, when it has some).
//!
//! The profile is dmsim's own small format ([`settings`](super::settings)): `key = value` lines.
//! The job:
//!
//! | step | what happens |
//! | --- | --- |
//! | check | every line of the profile (`-1461` for a malformed line, an unknown standard key, a value of the wrong type or out of range; `-1462` for a custom key the device does not support; the first failing line decides), then the additional data against the checksum the profile names (`1465`) |
//! | apply | the `efota.config-apply` fault point (`storage.write-error`: the settings store refuses the write, `-1460`, nothing changes); then the settings are written (`Config/Settings/<key>`), the old ones kept to roll back to |
//! | restart component *k* | a component whose setting changed restarts (the scheduler, the network, the client's agent), taking its time on the device's clock plus the `efota.component-restart` fault's `delay@N`; the client waits at most [`DEFAULT_TIMEOUT_SECS`] from the apply on: past it, it stops waiting, rolls the settings back and reports `1464` |
//! | report | `0` once every restart is done |
//!
//! A power loss during the job brings back the settings of the last save: the apply and the
//! restarts after it are done again.

use super::client::{Client, Ending, Step};
use super::settings::{self, Component};
use crate::engine::{Env, Input};
use crate::faults::{FaultEffect, FaultPoint};
use crate::outcome::{self, Cause, Operation, Outcome};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use super::settings::DEFAULT_CUSTOM_SETTINGS;

/// Seconds the client waits for a profile to take effect, from the moment it writes the settings.
pub const DEFAULT_TIMEOUT_SECS: u64 = 300;

/// A profile install, as persisted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigJob {
    /// `Config/Profile` and `Config/ProfileData` when the Exec came (dropped once applied).
    #[serde(with = "bytes_b64")]
    pub profile: Vec<u8>,
    #[serde(with = "bytes_b64")]
    pub data: Vec<u8>,
    pub phase: ConfigPhase,
}

/// Where a profile install is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConfigPhase {
    /// Accepted: nothing checked yet.
    Start,
    /// The settings are written; the components that take them restart one after the other.
    Restarting {
        /// When the settings were written (the client's timeout counts from there).
        began: u64,
        /// The settings before, to roll back to.
        previous: BTreeMap<String, String>,
        components: Vec<Component>,
        /// The next component to restart.
        next: usize,
        /// The client stopped waiting: the last wait was its timeout.
        timed_out: bool,
    },
}

impl ConfigJob {
    pub fn new(profile: Vec<u8>, data: Vec<u8>) -> ConfigJob {
        ConfigJob {
            profile,
            data,
            phase: ConfigPhase::Start,
        }
    }
}

fn ended(cause: Cause) -> Outcome {
    Outcome::new(Operation::InstallProfile, outcome::Phase::Config, cause)
}

/// One step of the job.
pub(super) fn step(
    job: &mut ConfigJob,
    client: &mut Client,
    input: Input,
    env: &mut Env<'_>,
) -> Step {
    if let Input::Downloaded { .. } = input {
        tracing::error!("a download outcome for a profile install is dropped");
        return Step::Save;
    }
    let platform = client.platform;
    let finish = |outcome: Outcome, env: &Env<'_>| Step::Finish(Ending::of(outcome, env, platform));
    match job.phase.clone() {
        ConfigPhase::Start => {
            let checked = settings::parse_profile(&job.profile, &client.config.custom_settings)
                .and_then(|doc| settings::check_data(&doc, &job.data).map(|()| doc));
            let doc = match checked {
                Ok(doc) => doc,
                Err(e) => return finish(ended(e.cause()).with_detail(&e), env),
            };
            if env.faults.fire(FaultPoint::EfotaConfigApply) == Some(FaultEffect::StorageWriteError)
            {
                return finish(
                    ended(Cause::WriteFailed).with_detail("the settings store refused the write"),
                    env,
                );
            }
            let previous = client.durable.settings.clone();
            let mut components = Vec::new();
            for (key, value) in doc.settings {
                if previous.get(&key) == Some(&value) {
                    continue;
                }
                if let Some(c) = settings::restarts(&key) {
                    if !components.contains(&c) {
                        components.push(c);
                    }
                }
                client.durable.settings.insert(key, value);
            }
            client.show_settings(env.tree, env.now);
            job.profile = Vec::new();
            job.data = Vec::new();
            job.phase = ConfigPhase::Restarting {
                began: env.now,
                previous,
                components,
                next: 0,
                timed_out: false,
            };
            Step::Save
        }
        ConfigPhase::Restarting {
            began,
            previous,
            components,
            next,
            timed_out,
        } => {
            let timeout = client.config.config_timeout;
            if timed_out {
                let waiting = components.get(next).map_or("?", |c| c.as_str());
                client.durable.settings = previous;
                client.show_settings(env.tree, env.now);
                return finish(
                    ended(Cause::Timeout).with_detail(format!(
                        "the {waiting} had not restarted {timeout} s after the settings were written; they are rolled back"
                    )),
                    env,
                );
            }
            let Some(&component) = components.get(next) else {
                let detail = format!("{} component(s) restarted", components.len());
                return finish(ended(Cause::Succeeded).with_detail(detail), env);
            };
            let mut takes = component.restart_secs();
            if let Some(FaultEffect::DelaySeconds(extra)) =
                env.faults.fire(FaultPoint::EfotaComponentRestart)
            {
                takes = takes.saturating_add(extra);
            }
            let left = timeout.saturating_sub(env.now.saturating_sub(began));
            let (wait, next, timed_out) = if takes > left {
                (left, next, true)
            } else {
                (takes, next.saturating_add(1), false)
            };
            job.phase = ConfigPhase::Restarting {
                began,
                previous,
                components,
                next,
                timed_out,
            };
            Step::Wait(wait)
        }
    }
}

/// Bytes as base64 text in the persisted state.
mod bytes_b64 {
    use base64::Engine as _;
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(D::Error::custom)
    }
}
