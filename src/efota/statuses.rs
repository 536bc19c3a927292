//! The E-FOTA client's reports of the SyncML statuses the device sends: the seed's -6xxx codes,
//! -(6000 + status) (reference §10), which `profiles/knox-efota.toml` gives as `knox-efota` rows
//! with `from = ["syncml-status N"]` (214, 215, 216, 403, 404, 405, 406, 408, 416, 500, 516).
//!
//! The seed gives the codes, not when the client sends them; dmsim chooses, and the README says so
//! ("Knox E-FOTA"):
//! * the client hears every Status the device answers a server command with
//!   ([`crate::engine::Agent::status_sent`]), whatever the command and whoever's node it is: on a
//!   Knox E-FOTA device the E-FOTA client is the one the portal hears the device through, so a
//!   failed command anywhere in the tree is the client's to report;
//! * a Status the profile has a row for is reported, once per session per code: a session that
//!   answers ten Gets 404 reports -6404 once, one that answers a 404 and a 405 reports both, in the
//!   order the device sent them. A session holds at most as many reports as the profile has
//!   such rows, and the set is forgotten when the session ends
//!   ([`crate::engine::Agent::session_ended`]);
//! * the report is an E-FOTA report ([`crate::protocol::efota`]) without a correlator (a Status
//!   answers a command, not an operation), Mark `critical`. The device sends it in its next
//!   message of the same session, after the Statuses ([`crate::device::Device::statuses_sent`]),
//!   or in the next session when this one ends first;
//! * the Statuses themselves are not touched: the client hears them once the device has settled
//!   them, through a shared reference, and only queues reports of its own.

use super::agent::Efota;
use crate::profile::{Profile, Table};
use crate::protocol::efota;
use crate::syncml::{GenericAlert, Status};

/// The E-FOTA codes of the statuses reported in the session going on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusReports {
    reported: Vec<i64>,
}

impl StatusReports {
    /// The codes reported in this session so far, in order.
    pub fn reported(&self) -> &[i64] {
        &self.reported
    }

    /// The session ended: the next one reports its statuses afresh.
    pub fn session_over(&mut self) {
        self.reported.clear();
    }
}

impl Efota {
    /// The device answered a server command with `status`: the E-FOTA report of it, when the
    /// profile has a code for the status and this session has not reported that code yet.
    pub(super) fn hear_status(
        &mut self,
        status: &Status,
        profile: &'static Profile,
    ) -> Option<GenericAlert> {
        let oma = (Table::SyncmlStatus, i64::from(status.code.code()));
        let row = profile.vendor_row(Table::KnoxEfota, None, Some(oma), self.config.platform)?;
        if self.statuses.reported.contains(&row.code) {
            return None;
        }
        self.statuses.reported.push(row.code);
        Some(GenericAlert {
            correlator: None,
            source_uri: self.config.root.clone(),
            target_uri: None,
            alert_type: efota::ALERT_TYPE.to_string(),
            format: "chr".to_string(),
            // A failure's report, critical as every E-FOTA report of a failure is.
            mark: Some("critical".to_string()),
            data: efota::data(&[row.code]),
        })
    }
}
