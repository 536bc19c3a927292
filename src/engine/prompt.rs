//! Prompts a device shows its user by itself during a job (not the server's UI alerts, which a
//! session shows): the agent asks through [`Env::user`], the device's user model answers
//! ([`crate::device::User`], from the answers a scenario scripts for the prompt), and a prompt the
//! user never answers times out on the device's clock.
//!
//! The one such prompt is the **installation conditions** ([`DevicePrompt::InstallConditions`]):
//! a device set up to ask ([`ConditionsPrompt`], off by default: `ask_install_conditions` on the
//! FUMO and SCOMO agents) shows the conditions of the install (it reboots, it must not be powered
//! off, it cannot be used meanwhile) and installs only once the user accepts them. It is a prompt
//! of its own, after the update confirmation (the `update.user-confirm` fault point) and apart from
//! it: Samsung's E-FOTA client reports a user who never answers it as "installation conditions
//! response time out" (-453 for firmware, -1453 for software), not as the timed-out confirmation
//! (-450, -1450). Declining it is a user rejection (`checks.user-rejected`), cancelling it a
//! cancellation (`checks.user-cancelled`); an unanswered prompt keeps the job waiting for its
//! timeout ([`ConditionsPrompt::timeout`], on the device's clock) and ends it
//! `checks.conditions-timeout`.

use super::Env;
use crate::outcome::Cause;
use std::fmt::Debug;

/// A prompt the device itself shows during a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DevicePrompt {
    /// Accept the conditions of the install about to begin.
    InstallConditions,
}

/// How the user answered a [`DevicePrompt`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptAnswer {
    Accepted,
    Rejected,
    Cancelled,
    /// The user never answered: the prompt times out.
    NoAnswer,
}

/// The device's user, as an agent's job sees it.
pub trait DeviceUser: Debug + Send {
    /// Show `prompt` and take the user's answer.
    fn answer(&mut self, prompt: DevicePrompt) -> PromptAnswer;
}

/// Seconds the installation-conditions prompt waits for an answer unless the device says
/// otherwise: five minutes, long enough for a user who is near the device.
pub const DEFAULT_CONDITIONS_TIMEOUT: u64 = 300;

/// An agent asks its user to accept the installation conditions before it installs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConditionsPrompt {
    /// Seconds the prompt stays up unanswered before it times out.
    pub timeout: u64,
}

impl Default for ConditionsPrompt {
    fn default() -> ConditionsPrompt {
        ConditionsPrompt {
            timeout: DEFAULT_CONDITIONS_TIMEOUT,
        }
    }
}

/// What asking for the installation conditions came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conditions {
    /// Accepted, or not asked (the device does not ask): the install may begin.
    Accepted,
    /// The user declined (`UserRejected`) or cancelled (`UserCancelled`).
    Refused(Cause),
    /// No answer: the job waits this many seconds, then ends `checks.conditions-timeout`.
    TimedOut { wait: u64 },
}

/// Ask the user to accept the installation conditions, when `prompt` says the device asks.
pub fn ask_install_conditions(prompt: Option<ConditionsPrompt>, env: &mut Env<'_>) -> Conditions {
    let Some(prompt) = prompt else {
        return Conditions::Accepted;
    };
    match env.user.answer(DevicePrompt::InstallConditions) {
        PromptAnswer::Accepted => Conditions::Accepted,
        PromptAnswer::Rejected => Conditions::Refused(Cause::UserRejected),
        PromptAnswer::Cancelled => Conditions::Refused(Cause::UserCancelled),
        PromptAnswer::NoAnswer => Conditions::TimedOut {
            wait: prompt.timeout,
        },
    }
}

/// A user who gives scripted answers in order, then accepts (for tests of the agents' jobs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScriptedUser {
    pub answers: std::collections::VecDeque<PromptAnswer>,
    /// The prompts shown, in order.
    pub shown: Vec<DevicePrompt>,
}

impl ScriptedUser {
    pub fn new(answers: impl IntoIterator<Item = PromptAnswer>) -> ScriptedUser {
        ScriptedUser {
            answers: answers.into_iter().collect(),
            shown: Vec::new(),
        }
    }
}

impl DeviceUser for ScriptedUser {
    fn answer(&mut self, prompt: DevicePrompt) -> PromptAnswer {
        self.shown.push(prompt);
        self.answers.pop_front().unwrap_or(PromptAnswer::Accepted)
    }
}
