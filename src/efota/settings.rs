//! The E-FOTA client's configuration profile: dmsim's own small format (Samsung does not publish
//! the real one) and the settings the client knows.
//!
//! # Format
//!
//! UTF-8 text of at most [`MAX_PROFILE_LEN`] bytes, one setting per line, `key = value` (spaces
//! around either are ignored); blank lines and lines starting with `#` are skipped:
//!
//! ```text
//! # a weekday night window, no downloads over mobile data
//! update.wifi-only = true
//! update.window-start = 2
//! update.window-end = 4
//! custom.samsung.update-notification = silent
//! profile.data-sha256 = 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
//! ```
//!
//! * The standard settings ([`STANDARD`]) each have a type: `true`/`false`, or a whole number in a
//!   range. A line that is not `key = value`, a key given twice, a standard key the client does
//!   not know, or a value of the wrong type or out of range is an invalid setting (-1461).
//! * Keys under `custom.` are a device's own settings: one the device does not support
//!   ([`DEFAULT_CUSTOM_SETTINGS`]) is -1462; a supported one takes any printable text of 1 to
//!   [`MAX_CUSTOM_VALUE_LEN`] characters.
//! * `profile.data-sha256` is not a setting: it names the SHA-256 (64 hex digits) of the
//!   profile's additional data (`Config/ProfileData`). Additional data whose hash is another, data
//!   without that line, or the line without data all fail validation (1465).
//!
//! The first failing line decides; the additional data is checked once every line passed. A
//! profile without any setting is invalid.

use crate::outcome::Cause;
use crate::protocol::download::HashAlgorithm;
use serde::{Deserialize, Serialize};

/// Longest profile (and longest additional data), in bytes.
pub const MAX_PROFILE_LEN: usize = 64 * 1024;

/// Longest value of a custom setting, in characters.
pub const MAX_CUSTOM_VALUE_LEN: usize = 256;

/// The line naming the additional data's checksum.
pub const DATA_CHECKSUM_KEY: &str = "profile.data-sha256";

/// The namespace of custom settings.
pub const CUSTOM_PREFIX: &str = "custom.";

/// The custom settings the family's devices support.
pub const DEFAULT_CUSTOM_SETTINGS: &[&str] = &[
    "custom.samsung.update-notification",
    "custom.samsung.auto-reboot-time",
];

/// A component of the device that restarts to take a setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Component {
    /// The update scheduler (the update window).
    Scheduler,
    /// The network stack (roaming).
    Network,
    /// The client's own agent (its polling).
    Agent,
}

impl Component {
    pub fn as_str(self) -> &'static str {
        match self {
            Component::Scheduler => "update scheduler",
            Component::Network => "network stack",
            Component::Agent => "E-FOTA agent",
        }
    }

    /// Seconds of the device's clock a restart takes.
    pub fn restart_secs(self) -> u64 {
        match self {
            Component::Scheduler => 20,
            Component::Network => 30,
            Component::Agent => 45,
        }
    }
}

/// The type of a standard setting's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Bool,
    /// A whole number from `min` to `max`.
    Int {
        min: i64,
        max: i64,
    },
}

/// A standard setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    pub key: &'static str,
    pub kind: Kind,
    /// The component that restarts when it changes.
    pub restarts: Option<Component>,
}

/// The standard settings the client knows.
pub const STANDARD: &[Setting] = &[
    Setting {
        key: "update.wifi-only",
        kind: Kind::Bool,
        restarts: None,
    },
    Setting {
        key: "update.window-start",
        kind: Kind::Int { min: 0, max: 23 },
        restarts: Some(Component::Scheduler),
    },
    Setting {
        key: "update.window-end",
        kind: Kind::Int { min: 0, max: 23 },
        restarts: Some(Component::Scheduler),
    },
    Setting {
        key: "update.postpone-days",
        kind: Kind::Int { min: 0, max: 30 },
        restarts: None,
    },
    Setting {
        key: "update.battery-min",
        kind: Kind::Int { min: 0, max: 100 },
        restarts: None,
    },
    Setting {
        key: "network.roaming-allowed",
        kind: Kind::Bool,
        restarts: Some(Component::Network),
    },
    Setting {
        key: "client.polling-hours",
        kind: Kind::Int { min: 1, max: 168 },
        restarts: Some(Component::Agent),
    },
];

/// The component a setting's change restarts.
pub fn restarts(key: &str) -> Option<Component> {
    STANDARD
        .iter()
        .find(|s| s.key == key)
        .and_then(|s| s.restarts)
}

/// A profile that passed its checks: its settings in order, and the checksum it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileDoc {
    /// `(key, value)`, values as the client stores them (numbers without leading zeros).
    pub settings: Vec<(String, String)>,
    /// The SHA-256 of the additional data, lower-case hex.
    pub data_sha256: Option<String>,
}

/// Why a profile was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    #[error("invalid setting at line {line}: {reason}")]
    Invalid { line: usize, reason: String },
    #[error("line {line}: the device does not support the custom setting {key:?}")]
    Unsupported { line: usize, key: String },
    #[error("the additional profile data failed validation: {0}")]
    Data(String),
}

impl ProfileError {
    /// Why the install ends, in the flow's terms.
    pub fn cause(&self) -> Cause {
        match self {
            ProfileError::Invalid { .. } => Cause::InvalidSetting,
            ProfileError::Unsupported { .. } => Cause::UnsupportedSetting,
            ProfileError::Data(_) => Cause::InvalidProfileData,
        }
    }
}

fn invalid(line: usize, reason: impl Into<String>) -> ProfileError {
    ProfileError::Invalid {
        line,
        reason: reason.into(),
    }
}

/// Read and check a profile (see the module docs); `custom` lists the custom settings the device
/// supports.
pub fn parse_profile(document: &[u8], custom: &[String]) -> Result<ProfileDoc, ProfileError> {
    if document.len() > MAX_PROFILE_LEN {
        return Err(invalid(0, "the profile is longer than the client reads"));
    }
    let text = std::str::from_utf8(document).map_err(|_| invalid(0, "the profile is not UTF-8"))?;
    let mut doc = ProfileDoc {
        settings: Vec::new(),
        data_sha256: None,
    };
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let (key, value) = trimmed
            .split_once('=')
            .map(|(k, v)| (k.trim(), v.trim()))
            .filter(|(k, v)| !k.is_empty() && !v.is_empty())
            .ok_or_else(|| invalid(line, "not `key = value`"))?;
        let key_ok = key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
            && !key.split('.').any(str::is_empty);
        if !key_ok {
            return Err(invalid(line, format!("{key:?} is not a setting name")));
        }
        let given = doc.settings.iter().any(|(k, _)| k == key)
            || (key == DATA_CHECKSUM_KEY && doc.data_sha256.is_some());
        if given {
            return Err(invalid(line, format!("{key} is given twice")));
        }
        if key == DATA_CHECKSUM_KEY {
            if value.len() != 64 || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(invalid(line, "the data checksum is not 64 hex digits"));
            }
            doc.data_sha256 = Some(value.to_ascii_lowercase());
            continue;
        }
        let stored = if key.starts_with(CUSTOM_PREFIX) {
            if !custom.iter().any(|c| c == key) {
                return Err(ProfileError::Unsupported {
                    line,
                    key: key.to_string(),
                });
            }
            let printable = value.chars().all(|c| !c.is_control());
            if !printable || value.chars().count() > MAX_CUSTOM_VALUE_LEN {
                return Err(invalid(
                    line,
                    format!("{key}: not a printable text of 1 to 256 characters"),
                ));
            }
            value.to_string()
        } else {
            let setting = STANDARD
                .iter()
                .find(|s| s.key == key)
                .ok_or_else(|| invalid(line, format!("the client has no setting {key}")))?;
            typed(setting, value).map_err(|reason| invalid(line, reason))?
        };
        doc.settings.push((key.to_string(), stored));
    }
    if doc.settings.is_empty() {
        return Err(invalid(0, "the profile holds no setting"));
    }
    Ok(doc)
}

/// A standard setting's value as stored, or why it is not one.
fn typed(setting: &Setting, value: &str) -> Result<String, String> {
    match setting.kind {
        Kind::Bool => match value {
            "true" | "false" => Ok(value.to_string()),
            _ => Err(format!("{}: {value:?} is not true or false", setting.key)),
        },
        Kind::Int { min, max } => {
            let digits = value.strip_prefix('-').unwrap_or(value);
            let number = (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
                .then(|| value.parse::<i64>().ok())
                .flatten()
                .ok_or_else(|| format!("{}: {value:?} is not a whole number", setting.key))?;
            if !(min..=max).contains(&number) {
                return Err(format!(
                    "{}: {number} is not from {min} to {max}",
                    setting.key
                ));
            }
            Ok(number.to_string())
        }
    }
}

/// Check the additional data against the checksum the profile names (see the module docs).
pub fn check_data(doc: &ProfileDoc, data: &[u8]) -> Result<(), ProfileError> {
    match (&doc.data_sha256, data.is_empty()) {
        (None, true) => Ok(()),
        (None, false) => Err(ProfileError::Data(format!(
            "{} bytes of data, and no {DATA_CHECKSUM_KEY} to check them against",
            data.len()
        ))),
        (Some(_), true) => Err(ProfileError::Data(format!(
            "the profile names data ({DATA_CHECKSUM_KEY}) and none was sent"
        ))),
        (Some(_), false) if data.len() > MAX_PROFILE_LEN => Err(ProfileError::Data(
            "longer than the client reads".to_string(),
        )),
        (Some(expected), false) => {
            let actual = HashAlgorithm::Sha256.hex_digest(data);
            if &actual == expected {
                Ok(())
            } else {
                Err(ProfileError::Data(format!(
                    "its SHA-256 is {actual}, the profile says {expected}"
                )))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn custom() -> Vec<String> {
        DEFAULT_CUSTOM_SETTINGS
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    fn parse(text: &str) -> Result<ProfileDoc, ProfileError> {
        parse_profile(text.as_bytes(), &custom())
    }

    #[test]
    fn a_profile_reads_as_its_settings() {
        let doc = parse(
            "# night window\n\nupdate.wifi-only = true\n  update.window-start=02 \ncustom.samsung.update-notification = silent mode\n",
        )
        .expect("valid");
        assert_eq!(
            doc.settings,
            [
                ("update.wifi-only".to_string(), "true".to_string()),
                ("update.window-start".to_string(), "2".to_string()),
                (
                    "custom.samsung.update-notification".to_string(),
                    "silent mode".to_string()
                ),
            ]
        );
        assert_eq!(doc.data_sha256, None);
        assert_eq!(restarts("update.window-start"), Some(Component::Scheduler));
        assert_eq!(restarts("update.wifi-only"), None);
        assert_eq!(restarts("custom.samsung.update-notification"), None);
    }

    #[test]
    fn each_bad_line_is_refused_with_its_cause_and_line() {
        let cases: &[(&str, Cause, usize)] = &[
            ("update.wifi-only = yes", Cause::InvalidSetting, 1),
            ("update.wifi-only", Cause::InvalidSetting, 1),
            ("update.wifi-only =", Cause::InvalidSetting, 1),
            ("update.battery-min = 101", Cause::InvalidSetting, 1),
            ("update.battery-min = -1", Cause::InvalidSetting, 1),
            ("update.battery-min = 5O", Cause::InvalidSetting, 1),
            (
                "update.battery-min = 99999999999999999999",
                Cause::InvalidSetting,
                1,
            ),
            (
                "update.window-start = 3\nupdate.window-start = 4",
                Cause::InvalidSetting,
                2,
            ),
            ("update.colour = blue", Cause::InvalidSetting, 1),
            ("Update.Wifi-Only = true", Cause::InvalidSetting, 1),
            ("update..x = 1", Cause::InvalidSetting, 1),
            ("# nothing", Cause::InvalidSetting, 0),
            ("custom.acme.turbo = on", Cause::UnsupportedSetting, 1),
            (
                "update.wifi-only = true\ncustom.acme.turbo = on\nupdate.x = 1",
                Cause::UnsupportedSetting,
                2,
            ),
            (
                "custom.samsung.auto-reboot-time = a\u{7}b",
                Cause::InvalidSetting,
                1,
            ),
            (
                "profile.data-sha256 = abc\nupdate.wifi-only = true",
                Cause::InvalidSetting,
                1,
            ),
        ];
        for &(text, cause, line) in cases {
            let err = parse(text).expect_err(text);
            assert_eq!(err.cause(), cause, "{text}: {err}");
            let at = match &err {
                ProfileError::Invalid { line, .. } | ProfileError::Unsupported { line, .. } => {
                    *line
                }
                ProfileError::Data(_) => usize::MAX,
            };
            assert_eq!(at, line, "{text}: {err}");
        }
        let long = vec![b'#'; MAX_PROFILE_LEN + 1];
        assert!(parse_profile(&long, &custom()).is_err());
        assert!(parse_profile(&[0xff, b'\n'], &custom()).is_err());
    }

    #[test]
    fn additional_data_must_match_the_checksum_the_profile_names() {
        let data = b"wifi: corp-ssid\n";
        let sum = HashAlgorithm::Sha256.hex_digest(data);
        let doc = parse(&format!(
            "update.wifi-only = true\n{DATA_CHECKSUM_KEY} = {}",
            sum.to_uppercase()
        ))
        .expect("valid");
        assert_eq!(doc.data_sha256.as_deref(), Some(sum.as_str()));
        assert_eq!(check_data(&doc, data), Ok(()));
        let err = check_data(&doc, b"wifi: other\n").expect_err("another hash");
        assert_eq!(err.cause(), Cause::InvalidProfileData);
        assert!(check_data(&doc, b"").is_err(), "named, not sent");
        let plain = parse("update.wifi-only = true").expect("valid");
        assert_eq!(check_data(&plain, b""), Ok(()));
        assert_eq!(
            check_data(&plain, data).map_err(|e| e.cause()),
            Err(Cause::InvalidProfileData),
            "sent, not named"
        );
    }
}
