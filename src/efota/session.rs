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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::efota::{mo::ClientInfo, EfotaConfig};
    use crate::engine::Agent;
    use crate::outcome::{Cause, Key, Operation, Phase, REACHABLE};
    use crate::profile::{builtin, Platform};

    fn client(platform: Platform) -> Efota {
        let info = ClientInfo {
            client_version: "3.6.12".into(),
            sales_code: "BTU".into(),
            csc: "G991BOXM5CVJB".into(),
        };
        Efota::new(EfotaConfig::new(info, platform))
    }

    /// Each way a session fails has its E-FOTA code on both platforms, reported without a
    /// correlator, critical, and recorded; a session that got through is not reported.
    #[test]
    fn each_failed_session_is_reported_with_its_code() {
        let knox = builtin("knox-efota").expect("profile");
        let expected = [
            (Cause::AuthenticationFailed, "-2406"),
            (Cause::Timeout, "-2407"),
            (Cause::ServerError, "-5000"),
        ];
        let sessions: Vec<Key> = REACHABLE
            .iter()
            .copied()
            .filter(|k| k.in_session())
            .collect();
        assert_eq!(sessions.len(), expected.len());
        for platform in [Platform::Android, Platform::Ios] {
            for (cause, code) in expected {
                let mut efota = client(platform);
                let failure = Outcome::new(Operation::Session, Phase::Session, cause)
                    .with_detail("the session failed");
                let alert = efota.session_ended(Some(&failure), knox).expect("reported");
                assert_eq!(alert.data, code);
                assert_eq!(alert.correlator, None);
                assert_eq!(alert.mark.as_deref(), Some("critical"));
                assert_eq!(efota.records.len(), 1);
                assert_eq!(efota.records[0].outcome, failure);
            }
        }
        assert_eq!(client(Platform::Android).session_ended(None, knox), None);
        let oma = builtin("oma").expect("profile");
        let failure = Outcome::new(Operation::Session, Phase::Session, Cause::Timeout);
        assert_eq!(
            client(Platform::Android).session_ended(Some(&failure), oma),
            None
        );
    }
}
