//! The E-FOTA client's reports of the SyncML statuses the device sends: the seed's -6xxx codes,
//! -(6000 + status) (reference §10), which `profiles/knox-efota.toml` gives as `knox-efota` rows
//! with `from = ["syncml-status N"]` (214, 215, 216, 403, 404, 405, 406, 408, 416, 500, 516).
//!
//! The seed gives the codes, not when the client sends them; dmsim chooses, and the README says so
//! ("Knox E-FOTA"):
//! * the client hears every Status the device answers a server command with
//!   ([`crate::engine::Agent::status_sent`]) and reports those of the commands addressed to it: a
//!   command on one of its nodes (`./Ext/EFOTA/…`, the target of the command, whether or not its
//!   Status names it), and a server Alert (the UI alerts of its campaigns, and alerts the device
//!   does not support: -6214, -6406, -6408, -6416 are alerts' codes). A command on another
//!   agent's node (a FUMO or SCOMO node, which reports its operations its own way, or a server
//!   reading back a component that is gone) is not the client's;
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
use crate::engine::Agent;
use crate::profile::{Profile, Table};
use crate::protocol::efota;
use crate::syncml::{CmdName, GenericAlert, Status};

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
    /// The device answered a server command on `target` with `status`: the E-FOTA report of it,
    /// when the command was addressed to the client, the profile has a code for the status and
    /// this session has not reported that code yet.
    pub(super) fn hear_status(
        &mut self,
        status: &Status,
        target: Option<&str>,
        profile: &'static Profile,
    ) -> Option<GenericAlert> {
        let addressed = status.cmd == CmdName::Alert || target.is_some_and(|t| self.owns(t));
        if !addressed {
            return None;
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::efota::{mo::ClientInfo, EfotaConfig};
    use crate::engine::Agent;
    use crate::profile::{builtin, Platform};
    use crate::syncml::{CmdName, StatusCode};

    fn client() -> Efota {
        let info = ClientInfo {
            client_version: "3.6.12".into(),
            sales_code: "BTU".into(),
            csc: "G991BOXM5CVJB".into(),
        };
        Efota::new(EfotaConfig::new(info, Platform::Android))
    }

    const MINE: &str = "./Ext/EFOTA/Config/Proxy";

    fn status(code: u16) -> Status {
        Status {
            cmd_id: "3".into(),
            msg_ref: "1".into(),
            cmd_ref: "2".into(),
            cmd: CmdName::Get,
            target_refs: Vec::new(),
            source_refs: Vec::new(),
            cred: None,
            chal: None,
            code: StatusCode::from_code(code),
            items: Vec::new(),
        }
    }

    /// -(6000 + status) for the statuses the profile names, once per code until the session
    /// ends; none for the statuses it does not (200, 507) nor under a profile without the table.
    #[test]
    fn each_code_is_reported_once_per_session() {
        let knox = builtin("knox-efota").expect("profile");
        let mut efota = client();
        let mut heard = |code| {
            efota
                .status_sent(&status(code), Some(MINE), knox)
                .map(|a| (a.data, a.mark, a.correlator, a.source_uri))
        };
        let report = |data: &str| {
            Some((
                data.to_string(),
                Some("critical".to_string()),
                None,
                "./Ext/EFOTA".to_string(),
            ))
        };
        assert_eq!(heard(404), report("-6404"));
        assert_eq!(heard(404), None, "once per session");
        assert_eq!(heard(200), None);
        assert_eq!(heard(507), None);
        assert_eq!(heard(215), report("-6215"));
        assert_eq!(efota.statuses.reported(), [-6404, -6215]);
        assert_eq!(efota.session_ended(None, knox), None);
        assert!(efota.statuses.reported().is_empty());
        assert!(
            efota.status_sent(&status(404), Some(MINE), knox).is_some(),
            "a new session"
        );
        let oma = builtin("oma").expect("profile");
        assert_eq!(client().status_sent(&status(404), Some(MINE), oma), None);
    }

    /// Only the commands addressed to the client are its to report: those on its nodes, and the
    /// server's alerts; not a Get of a SCOMO node, nor a command without a target that is not an
    /// alert.
    #[test]
    fn only_the_commands_addressed_to_the_client_are_reported() {
        let knox = builtin("knox-efota").expect("profile");
        let mut efota = client();
        assert_eq!(
            efota.status_sent(&status(404), Some("./SCOMO/Inventory/Deployed/x"), knox),
            None
        );
        assert_eq!(efota.status_sent(&status(404), None, knox), None);
        assert_eq!(
            efota.status_sent(&status(404), Some("./Ext/EFOTAX"), knox),
            None
        );
        let mut alert = status(214);
        alert.cmd = CmdName::Alert;
        assert_eq!(
            efota.status_sent(&alert, None, knox).map(|a| a.data),
            Some("-6214".to_string())
        );
        assert!(efota
            .status_sent(&status(404), Some("./Ext/EFOTA"), knox)
            .is_some());
    }

    /// Every status the seed's -6xxx codes name is reported, by the relation.
    #[test]
    fn every_status_row_of_the_profile_is_reported_by_the_relation() {
        let knox = builtin("knox-efota").expect("profile");
        for code in [214, 215, 216, 403, 404, 405, 406, 408, 416, 500, 516] {
            let alert = client()
                .status_sent(&status(code), Some(MINE), knox)
                .expect("reported");
            assert_eq!(alert.data, (-(6000 + i64::from(code))).to_string());
        }
    }
}
