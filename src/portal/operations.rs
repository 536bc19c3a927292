//! Operations and their results: what the portal asked of each device, how far each device got,
//! and the seed's operation codes derived from what the devices reported (the E-FOTA reports of
//! [`crate::protocol::efota`]) and from the portal's clock.
//!
//! # A device's part of an operation
//!
//! | state | how it gets there | result |
//! | --- | --- | --- |
//! | queued | the operation was created | none yet; `-7004` once the operation's timeout has passed without the device checking in |
//! | reading | the device checked in: the portal reads what it needs first ([`super::checkin`]) | none yet |
//! | sent | the checks passed and the commands went (the device answered the Exec 202) | `-7020` "report pending", then `-600` "waiting for a report" once [`Limits::report_wait`](super::catalogue::Limits::report_wait) has passed |
//! | done | the device reported, or the portal ended it | the code below |
//!
//! A new operation for a device whose part of an earlier one is queued, reading or sent ends that
//! part `-7001` ("a new request is being performed"), or `-7027` when the new one is urgent.
//!
//! # From a device's report to an operation code
//!
//! dmsim's reading of the seed's words (documented in the README, "Knox E-FOTA portal"):
//!
//! | the device's E-FOTA codes | operation code |
//! | --- | --- |
//! | every one a success (`0`, `900`, `956`, `-1200`, `-1251`) | `0` |
//! | `-1200 -1463` (the seed's -7007 names both) | `-7007` partly updated |
//! | `-5400` (locked) | `-7008` |
//! | `-5300` (not ready) | `-7002` |
//! | `-1401`, `-2401`, `902` (the user refused the download) | `-7005` |
//! | `958` (already on the device), or `970` with every item `958` | `-7003` |
//! | `970` with successes and `958`s | `-7018` partly updated, part not attempted |
//! | `-1451` (skipped: what it depends on failed) | `-7015` failed, part not attempted |
//! | `-1482` (not attempted: version mismatch or storage) | `-7017` |
//! | anything else | `-7006` failed |
//!
//! The operation's own result is `0` when every device's is, the devices' common code when they
//! all have the same, and `-7006` otherwise; it is given once every device has a result.

use super::plan::{Kind, Plan};

/// Codes of a report that mean success.
const SUCCESS: [i64; 5] = [0, 900, 956, -1200, -1251];

/// One operation.
#[derive(Debug, Clone)]
pub struct Operation {
    pub id: String,
    pub kind: Kind,
    pub plan: Plan,
    /// The model the request named (its parameters are read from each device).
    pub model: Option<String>,
    /// The target of the Exec the operation's commands end with, once sent.
    pub exec_target: Option<String>,
    pub urgent: bool,
    pub created: u64,
    /// When devices that have not taken it stop being offered it.
    pub deadline: Option<u64>,
    pub devices: Vec<Part>,
}

/// One device's part of an operation.
#[derive(Debug, Clone)]
pub struct Part {
    /// The device's key in the registry.
    pub device: usize,
    pub state: PartState,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PartState {
    Queued,
    /// Reading the device in its session `ordinal`.
    Reading {
        ordinal: u32,
    },
    /// The commands went at `at`.
    Sent {
        at: u64,
    },
    Done {
        code: i64,
        at: u64,
    },
}

impl Part {
    /// The device's result at `now`, if it has one.
    pub fn result(&self, op: &Operation, now: u64, report_wait: u64) -> Option<i64> {
        match self.state {
            PartState::Done { code, .. } => Some(code),
            PartState::Sent { at } if now.saturating_sub(at) >= report_wait => Some(-600),
            PartState::Sent { .. } => Some(-7020),
            PartState::Queued | PartState::Reading { .. } => op.expired(now).then_some(-7004),
        }
    }

    /// Whether the part is still open (queued, reading or sent).
    pub fn open(&self) -> bool {
        !matches!(self.state, PartState::Done { .. })
    }
}

impl Operation {
    pub fn expired(&self, now: u64) -> bool {
        self.deadline.is_some_and(|d| now >= d)
    }

    /// The operation's result at `now`: once every device has one.
    pub fn result(&self, now: u64, report_wait: u64) -> Option<i64> {
        let results: Vec<i64> = self
            .devices
            .iter()
            .map(|p| p.result(self, now, report_wait))
            .collect::<Option<_>>()?;
        let first = *results.first()?;
        Some(if results.iter().all(|&c| c == first) {
            first
        } else {
            -7006
        })
    }

    /// The operation's status in words.
    pub fn status(&self, now: u64) -> &'static str {
        if self.devices.iter().all(|p| !p.open()) {
            "Completed"
        } else if self.expired(now)
            && self
                .devices
                .iter()
                .all(|p| matches!(p.state, PartState::Queued | PartState::Done { .. }))
        {
            "Expired"
        } else if self.devices.iter().any(|p| p.state != PartState::Queued) {
            "InProgress"
        } else {
            "Pending"
        }
    }
}

/// The operation code of a device's report (see the module's table).
pub fn from_report(codes: &[i64]) -> i64 {
    let success = |c: &i64| SUCCESS.contains(c);
    match codes {
        [-1200, -1463] => -7007,
        _ if codes.contains(&-5400) => -7008,
        _ if codes.contains(&-5300) => -7002,
        _ if codes.iter().any(|c| matches!(c, -1401 | -2401 | 902)) => -7005,
        [958] => -7003,
        [970, items @ ..] if !items.is_empty() && items.iter().all(|&c| c == 958) => -7003,
        [970, items @ ..]
            if items.contains(&958) && items.iter().all(|c| success(c) || *c == 958) =>
        {
            -7018
        }
        [-1451] => -7015,
        [-1482] => -7017,
        _ if !codes.is_empty() && codes.iter().all(success) => 0,
        _ => -7006,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_map_to_the_seed_operation_codes() {
        let cases: &[(&[i64], i64)] = &[
            (&[0], 0),
            (&[900], 0),
            (&[-1200], 0),
            (&[-1200, -1463], -7007),
            (&[-5400], -7008),
            (&[-5300], -7002),
            (&[-2401], -7005),
            (&[-1401], -7005),
            (&[958], -7003),
            (&[970, 958, 958], -7003),
            (&[970, 900, 958], -7018),
            (&[970, 900, 903], -7006),
            (&[-1451], -7015),
            (&[-1482], -7017),
            (&[-2402], -7006),
            (&[], -7006),
        ];
        for (codes, want) in cases {
            assert_eq!(from_report(codes), *want, "{codes:?}");
        }
    }
}
