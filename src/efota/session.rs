//! The E-FOTA client's reports of DM sessions that failed before they got through: the seed's
//! -2406 "DM session authentication failure", -2407 "DM session time out" and -5000 "DM server
//! error", which `profiles/knox-efota.toml` maps from the outcomes of the `session` phase
//! (`session.authentication-failed`, `session.timeout`, `session.server-error`).
//!
//! The device's session driver says how each session ended
//! ([`crate::engine::Agent::session_ended`]); for a failed one the client queues its E-FOTA report
//! (no correlator: the session was not an operation's), which the device keeps in its report queue
//! (durable, so a power loss does not lose it) and sends in the next session's Package 1, and
//! again in each session after until one gets through and the server acknowledges it. The device
//! queues no second copy of a report still pending ([`crate::device::Device::session_ended`]), so
//! a device whose sessions keep failing the same way owes one report of it.
//!
//! Every session's end, whatever it was, also closes the client's record of the statuses reported
//! in it ([`super::statuses`]).

use super::agent::Efota;
use crate::engine::Reported;
use crate::outcome::Outcome;
use crate::profile::{Profile, Table};
use crate::syncml::GenericAlert;

impl Efota {
    /// A DM session ended (`failure`: how, when it failed before it got through): the E-FOTA
    /// report of the failure, when the profile has a code for it.
    pub(super) fn hear_session_end(
        &mut self,
        failure: Option<&Outcome>,
        profile: &'static Profile,
    ) -> Option<GenericAlert> {
        self.statuses.session_over();
        let failure = failure?;
        let row = profile.vendor_row(
            Table::KnoxEfota,
            Some(failure.key()),
            None,
            self.config.platform,
        )?;
        let reported = Reported {
            outcome: failure.clone(),
            table: row.table,
            code: row.code,
            meaning: &row.meaning,
        };
        Some(self.report(row, &reported, None))
    }
}
