//! The simulated user and the device's UI: how server UI alerts (1100-1104) are shown and answered.
//!
//! A UI alert carries its options in Item 1 (`MINDT`, `MAXDT`, `DR`, `MAXLEN`, `IT`, `ET`, `&`-joined),
//! its text in Item 2 and its choices in Items 3.. (reference §1.7). The device shows it if it can
//! (a device without a display answers 406; a text longer than the display, or a choice list longer
//! than it can list, answers 416: "the client can't display the alert because of a limitation, e.g.
//! the choice list is too long", as Knox E-FOTA's -6416 says), then takes the
//! next scripted [`UserAnswer`]. The statuses follow reference §1.7: confirm → 200, reject → 304,
//! cancel → 214, no answer before `MAXDT` → 408.
//!
//! Where the spec is silent, dmsim chooses (and documents) this:
//! * a reject (304), a cancel (214) or an unanswered confirmation (408 on 1101) stops the processing
//!   of the rest of the server's package: every later command gets 215 (Not executed);
//! * "reject" on an alert that is not a confirmation means the user pressed Cancel (214);
//! * when the script has no answer left, the user accepts (the default value, or the first choice).
//!
//! The device also shows prompts of its own during a job ([`crate::engine::prompt`]): the
//! installation conditions a device may ask its user to accept before it installs. Their answers
//! are scripted apart from the UI alerts' ([`User::with_install_conditions`]), so a scenario says
//! how the user answers each without counting the server's alerts: `yes` accepts, `no` declines,
//! `cancel` cancels, `timeout` never answers (the prompt times out on the device's clock); once
//! the script has no answer left, the user accepts.

use crate::engine::{DevicePrompt, DeviceUser, PromptAnswer};
use crate::syncml::{AlertCode, Data, Item, StatusCode};
use std::collections::VecDeque;
use std::time::Duration;

/// The most choices a device's display lists in a 1103/1104 alert unless told otherwise (dmsim's
/// choice, generous for a phone: a longer list answers 416).
pub const DEFAULT_MAX_CHOICES: usize = 32;

/// How long the device waits for an answer when the alert gives no `MAXDT`.
pub const DEFAULT_UI_TIMEOUT: Duration = Duration::from_secs(60);

/// The longest a prompt stays on the display: a `MINDT` or `MAXDT` beyond it (the spec sets no upper
/// bound on either, and a server may send any number) is taken as this, as a device would not keep
/// a prompt up for longer than a day.
pub const MAX_UI_TIME: Duration = Duration::from_secs(24 * 60 * 60);

/// One scripted answer of the simulated user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserAnswer {
    /// OK / Yes; the default value for inputs and choices.
    Accept,
    /// No (304 on a confirmation).
    Reject,
    /// Cancel (214).
    Cancel,
    /// The user never answers (408 after `MAXDT`).
    Timeout,
    /// Typed text for a 1102 TEXT INPUT.
    Input(String),
    /// Chosen item numbers (1-based) for 1103 / 1104.
    Choose(Vec<usize>),
}

/// A scripted answer that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown user answer {0:?}: expected yes, no, cancel, timeout, input:<text> or choose:<n>[,<n>…]")]
pub struct BadAnswer(pub String);

impl std::str::FromStr for UserAnswer {
    type Err = BadAnswer;

    fn from_str(s: &str) -> Result<UserAnswer, BadAnswer> {
        let bad = || BadAnswer(s.to_string());
        match s {
            "yes" | "accept" | "ok" => return Ok(UserAnswer::Accept),
            "no" | "reject" => return Ok(UserAnswer::Reject),
            "cancel" => return Ok(UserAnswer::Cancel),
            "timeout" | "ignore" => return Ok(UserAnswer::Timeout),
            _ => {}
        }
        if let Some(text) = s.strip_prefix("input:") {
            return Ok(UserAnswer::Input(text.to_string()));
        }
        let list = s.strip_prefix("choose:").ok_or_else(bad)?;
        let picks = list
            .split(',')
            .map(|n| n.trim().parse::<usize>().ok().filter(|&n| n > 0))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(bad)?;
        Ok(UserAnswer::Choose(picks))
    }
}

/// What the device's UI can do, and the user's scripted answers.
#[derive(Debug, Clone)]
pub struct User {
    /// False for a device without a display: every UI alert answers 406.
    pub has_display: bool,
    /// Longest text the display can show (characters); longer texts answer 416.
    pub max_text: usize,
    /// Most choices the display lists in a choice alert (1103, 1104); more answer 416.
    pub max_choices: usize,
    answers: VecDeque<UserAnswer>,
    /// Answers to the installation-conditions prompt, in order.
    install_conditions: VecDeque<UserAnswer>,
    /// The prompts the device showed by itself, in order.
    pub device_prompts: Vec<DevicePrompt>,
}

impl Default for User {
    fn default() -> User {
        User {
            has_display: true,
            max_text: 1024,
            max_choices: DEFAULT_MAX_CHOICES,
            answers: VecDeque::new(),
            install_conditions: VecDeque::new(),
            device_prompts: Vec::new(),
        }
    }
}

/// The options of a UI alert (Item 1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UiOptions {
    pub min_dt: Option<u64>,
    pub max_dt: Option<u64>,
    pub default: Option<String>,
    pub max_len: Option<usize>,
    pub input_type: Option<String>,
    pub echo_type: Option<String>,
}

impl UiOptions {
    /// Parse `MINDT=10&MAXDT=30&DR=1`; unknown or malformed options are ignored, as the spec asks.
    pub fn parse(s: &str) -> UiOptions {
        let mut o = UiOptions::default();
        for pair in s.split('&').filter(|p| !p.is_empty()) {
            let Some((key, value)) = pair.split_once('=') else {
                continue;
            };
            let value = value.trim();
            match key.trim().to_ascii_uppercase().as_str() {
                "MINDT" => o.min_dt = value.parse().ok(),
                "MAXDT" => o.max_dt = value.parse().ok(),
                "DR" => o.default = Some(value.to_string()),
                "MAXLEN" => o.max_len = value.parse().ok(),
                "IT" => o.input_type = Some(value.to_string()),
                "ET" => o.echo_type = Some(value.to_string()),
                _ => {}
            }
        }
        o
    }
}

/// A UI alert as the device reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub kind: AlertCode,
    pub options: UiOptions,
    pub text: String,
    pub choices: Vec<String>,
}

impl Prompt {
    /// Read a UI alert's items; `None` when the text item is missing (the command is incomplete).
    pub fn from_items(kind: AlertCode, items: &[Item]) -> Option<Prompt> {
        let text_of = |i: &Item| i.data_text().map(|t| t.into_owned()).unwrap_or_default();
        let options = items.first().map(|i| UiOptions::parse(&text_of(i)))?;
        let text = items.get(1).map(text_of)?;
        let choices = items.iter().skip(2).map(text_of).collect();
        Some(Prompt {
            kind,
            options,
            text,
            choices,
        })
    }
}

/// How a prompt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UiOutcome {
    pub status: StatusCode,
    /// Items of the Status (typed text, chosen numbers).
    pub items: Vec<Item>,
    /// Simulated time the prompt took.
    pub elapsed: Duration,
    /// The rest of the package must not be executed.
    pub stops_package: bool,
}

impl UiOutcome {
    fn new(status: StatusCode, elapsed: Duration) -> UiOutcome {
        UiOutcome {
            status,
            items: Vec::new(),
            elapsed,
            stops_package: false,
        }
    }

    fn stopping(mut self) -> UiOutcome {
        self.stops_package = true;
        self
    }
}

impl User {
    /// A user with a display who gives these answers in order.
    pub fn new(has_display: bool, max_text: usize, answers: Vec<UserAnswer>) -> User {
        User {
            has_display,
            max_text,
            max_choices: DEFAULT_MAX_CHOICES,
            answers: answers.into(),
            ..User::default()
        }
    }

    /// The same user, on a display that lists at most `max` choices.
    pub fn with_max_choices(mut self, max: usize) -> User {
        self.max_choices = max;
        self
    }

    /// The same user, answering the installation-conditions prompt with `answers` in order.
    pub fn with_install_conditions(mut self, answers: Vec<UserAnswer>) -> User {
        self.install_conditions = answers.into();
        self
    }

    /// Show a prompt and take the user's answer.
    pub fn answer(&mut self, prompt: &Prompt) -> UiOutcome {
        if !self.has_display {
            return UiOutcome::new(StatusCode::OptionalFeatureNotSupported, Duration::ZERO);
        }
        let too_long = prompt.text.chars().count() > self.max_text
            || prompt
                .choices
                .iter()
                .any(|c| c.chars().count() > self.max_text);
        let too_many = matches!(
            prompt.kind,
            AlertCode::SingleChoice | AlertCode::MultipleChoice
        ) && prompt.choices.len() > self.max_choices;
        if too_long || too_many {
            return UiOutcome::new(StatusCode::RequestedSizeTooBig, Duration::ZERO);
        }
        let answer = self.answers.pop_front().unwrap_or(UserAnswer::Accept);
        let shown = Duration::from_secs(prompt.options.min_dt.unwrap_or(0)).min(MAX_UI_TIME);
        let timeout = prompt
            .options
            .max_dt
            .map(Duration::from_secs)
            .unwrap_or(DEFAULT_UI_TIMEOUT)
            .min(MAX_UI_TIME);
        match answer {
            UserAnswer::Timeout => {
                let out = UiOutcome::new(StatusCode::RequestTimeout, timeout);
                if prompt.kind == AlertCode::ConfirmOrReject {
                    out.stopping()
                } else {
                    out
                }
            }
            UserAnswer::Cancel => UiOutcome::new(StatusCode::OperationCancelled, shown).stopping(),
            UserAnswer::Reject if prompt.kind == AlertCode::ConfirmOrReject => {
                UiOutcome::new(StatusCode::NotModified, shown).stopping()
            }
            UserAnswer::Reject => UiOutcome::new(StatusCode::OperationCancelled, shown).stopping(),
            answer => self.accepted(prompt, answer, shown),
        }
    }

    fn accepted(&self, prompt: &Prompt, answer: UserAnswer, shown: Duration) -> UiOutcome {
        let mut out = UiOutcome::new(StatusCode::Ok, shown);
        let data_item = |text: String| Item {
            data: Some(Data::Text(text)),
            ..Item::default()
        };
        match prompt.kind {
            AlertCode::TextInput => {
                let mut text = match answer {
                    UserAnswer::Input(t) => t,
                    _ => prompt.options.default.clone().unwrap_or_default(),
                };
                if let Some(max) = prompt.options.max_len {
                    text = text.chars().take(max).collect();
                }
                out.items.push(data_item(text));
            }
            AlertCode::SingleChoice | AlertCode::MultipleChoice => {
                let mut picks = match answer {
                    UserAnswer::Choose(p) => p,
                    _ => default_choice(prompt),
                };
                picks.retain(|&n| n >= 1 && n <= prompt.choices.len());
                if prompt.kind == AlertCode::SingleChoice {
                    picks.truncate(1);
                }
                out.items
                    .extend(picks.into_iter().map(|n| data_item(n.to_string())));
            }
            _ => {}
        }
        out
    }
}

/// The device's own prompts: the scripted answer for the prompt, read as the prompt's choices
/// (an input or a choice accepts).
impl DeviceUser for User {
    fn answer(&mut self, prompt: DevicePrompt) -> PromptAnswer {
        self.device_prompts.push(prompt);
        let answer = match prompt {
            DevicePrompt::InstallConditions => self.install_conditions.pop_front(),
        };
        match answer {
            None | Some(UserAnswer::Accept | UserAnswer::Input(_) | UserAnswer::Choose(_)) => {
                PromptAnswer::Accepted
            }
            Some(UserAnswer::Reject) => PromptAnswer::Rejected,
            Some(UserAnswer::Cancel) => PromptAnswer::Cancelled,
            Some(UserAnswer::Timeout) => PromptAnswer::NoAnswer,
        }
    }
}

/// The choice a user gets by pressing OK: the `DR` default (`2` or `1-3` style lists), else the first.
fn default_choice(prompt: &Prompt) -> Vec<usize> {
    let picks: Vec<usize> = prompt
        .options
        .default
        .as_deref()
        .unwrap_or("1")
        .split(['-', ','])
        .filter_map(|n| n.trim().parse().ok())
        .collect();
    if picks.is_empty() {
        vec![1]
    } else {
        picks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(text: &str) -> Item {
        Item {
            data: Some(Data::Text(text.into())),
            ..Item::default()
        }
    }

    fn prompt(kind: AlertCode, opts: &str, choices: &[&str]) -> Prompt {
        let mut items = vec![item(opts), item("Install the update?")];
        items.extend(choices.iter().map(|c| item(c)));
        Prompt::from_items(kind, &items).expect("text item present")
    }

    fn user(answers: &[&str]) -> User {
        User::new(
            true,
            100,
            answers.iter().map(|a| a.parse().expect("answer")).collect(),
        )
    }

    #[test]
    fn options_are_parsed_and_unknown_ones_ignored() {
        let o = UiOptions::parse("MINDT=5&MAXDT=30&DR=2&MAXLEN=4&IT=N&ET=P&FOO=1&junk");
        assert_eq!(o.min_dt, Some(5));
        assert_eq!(o.max_dt, Some(30));
        assert_eq!(o.default.as_deref(), Some("2"));
        assert_eq!(o.max_len, Some(4));
        assert_eq!(o.input_type.as_deref(), Some("N"));
    }

    #[test]
    fn confirmation_answers_map_to_their_statuses() {
        let p = prompt(AlertCode::ConfirmOrReject, "MAXDT=30", &[]);
        let mut u = user(&["yes", "no", "cancel", "timeout"]);
        assert_eq!(u.answer(&p).status, StatusCode::Ok);
        let no = u.answer(&p);
        assert_eq!(
            (no.status, no.stops_package),
            (StatusCode::NotModified, true)
        );
        assert_eq!(u.answer(&p).status, StatusCode::OperationCancelled);
        let t = u.answer(&p);
        assert_eq!(
            (t.status, t.elapsed),
            (StatusCode::RequestTimeout, Duration::from_secs(30))
        );
    }

    #[test]
    fn display_times_beyond_a_day_are_a_day() {
        let max = u64::MAX.to_string();
        let p = prompt(AlertCode::Display, &format!("MINDT={max}&MAXDT={max}"), &[]);
        let mut u = user(&["yes", "timeout"]);
        assert_eq!(u.answer(&p).elapsed, MAX_UI_TIME);
        let p = prompt(AlertCode::TextInput, &format!("MAXDT={max}"), &[]);
        assert_eq!(u.answer(&p).elapsed, MAX_UI_TIME);
    }

    #[test]
    fn text_input_returns_the_typed_text_cut_to_maxlen() {
        let p = prompt(AlertCode::TextInput, "MAXLEN=4&IT=N", &[]);
        let out = user(&["input:123456"]).answer(&p);
        assert_eq!(out.status, StatusCode::Ok);
        assert_eq!(out.items[0].data_text().as_deref(), Some("1234"));
    }

    #[test]
    fn choices_return_one_item_per_pick() {
        let multi = prompt(AlertCode::MultipleChoice, "", &["a", "b", "c"]);
        let out = user(&["choose:1,3,9"]).answer(&multi);
        let picks: Vec<_> = out.items.iter().filter_map(|i| i.data_text()).collect();
        assert_eq!(picks, ["1", "3"]);
        let single = prompt(AlertCode::SingleChoice, "DR=2", &["a", "b"]);
        let out = user(&[]).answer(&single);
        assert_eq!(out.items.len(), 1);
        assert_eq!(out.items[0].data_text().as_deref(), Some("2"));
    }

    #[test]
    fn display_limits_and_missing_display() {
        let p = prompt(AlertCode::Display, "", &[]);
        let mut small = User::new(true, 5, vec![]);
        assert_eq!(small.answer(&p).status, StatusCode::RequestedSizeTooBig);
        let mut headless = User::new(false, 100, vec![]);
        assert_eq!(
            headless.answer(&p).status,
            StatusCode::OptionalFeatureNotSupported
        );
    }

    /// A choice list longer than the display lists cannot be shown: 416, without asking the user
    /// (the scripted answer stays for the next prompt). The limit is on choice alerts only.
    #[test]
    fn choice_lists_longer_than_the_display_answer_416() {
        let mut u = user(&["choose:2"]).with_max_choices(3);
        let long = prompt(AlertCode::SingleChoice, "", &["a", "b", "c", "d"]);
        let out = u.answer(&long);
        assert_eq!(
            (out.status, out.stops_package, out.elapsed),
            (StatusCode::RequestedSizeTooBig, false, Duration::ZERO)
        );
        let multi = prompt(AlertCode::MultipleChoice, "", &["a", "b", "c", "d"]);
        assert_eq!(u.answer(&multi).status, StatusCode::RequestedSizeTooBig);
        let fits = prompt(AlertCode::SingleChoice, "", &["a", "b", "c"]);
        let out = u.answer(&fits);
        assert_eq!(out.status, StatusCode::Ok);
        assert_eq!(out.items[0].data_text().as_deref(), Some("2"));
        assert_eq!(User::default().max_choices, DEFAULT_MAX_CHOICES);
    }

    /// The installation-conditions prompt takes its own answers, not the UI alerts' ones, and
    /// accepts once they run out.
    #[test]
    fn install_conditions_have_answers_of_their_own() {
        let mut u = user(&["no"]).with_install_conditions(
            ["timeout", "no", "cancel", "yes"]
                .iter()
                .map(|a| a.parse().expect("answer"))
                .collect(),
        );
        let mut ask = || DeviceUser::answer(&mut u, DevicePrompt::InstallConditions);
        assert_eq!(ask(), PromptAnswer::NoAnswer);
        assert_eq!(ask(), PromptAnswer::Rejected);
        assert_eq!(ask(), PromptAnswer::Cancelled);
        assert_eq!(ask(), PromptAnswer::Accepted);
        assert_eq!(ask(), PromptAnswer::Accepted, "no answer left: accept");
        assert_eq!(u.device_prompts.len(), 5);
        let p = prompt(AlertCode::ConfirmOrReject, "", &[]);
        assert_eq!(
            u.answer(&p).status,
            StatusCode::NotModified,
            "the UI alerts' answers are untouched"
        );
    }

    #[test]
    fn bad_answers_are_refused() {
        assert!("choose:".parse::<UserAnswer>().is_err());
        assert!("choose:0".parse::<UserAnswer>().is_err());
        assert!("maybe".parse::<UserAnswer>().is_err());
        assert_eq!(
            "input:".parse::<UserAnswer>(),
            Ok(UserAnswer::Input(String::new()))
        );
    }
}
