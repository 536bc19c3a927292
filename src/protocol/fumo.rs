//! FUMO 1.0 codes (reference §5.2-§5.4): the State node's values, the OMA table of result codes a
//! device reports in its Generic Alert, and the alert types.
//!
//! Which result a device reports for an outcome is its profile's choice (`profiles/oma.toml`);
//! dmsim's vendor codes (250, 450, 451, 551, 552) are rows of `profiles/dmsim.toml`, not values of
//! [`FumoResult`], which is the OMA table only.

/// The value of `<x>/State`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum FumoState {
    /// 10: nothing pending.
    Idle,
    /// 20: the download failed.
    DownloadFailed,
    /// 30: the download is in progress.
    DownloadProgressing,
    /// 40: the package is downloaded.
    DownloadComplete,
    /// 50: the package is ready to install.
    ReadyToUpdate,
    /// 60: the update is in progress.
    UpdateProgressing,
    /// 70: the update failed; the package is still on the device.
    UpdateFailedHaveData,
    /// 80: the update failed; the package is gone.
    UpdateFailedNoData,
    /// 90: the update succeeded; the package is still on the device.
    UpdateSuccessfulHaveData,
    /// 100: the update succeeded; the package is gone.
    UpdateSuccessfulNoData,
}

impl FumoState {
    pub const ALL: [FumoState; 10] = [
        FumoState::Idle,
        FumoState::DownloadFailed,
        FumoState::DownloadProgressing,
        FumoState::DownloadComplete,
        FumoState::ReadyToUpdate,
        FumoState::UpdateProgressing,
        FumoState::UpdateFailedHaveData,
        FumoState::UpdateFailedNoData,
        FumoState::UpdateSuccessfulHaveData,
        FumoState::UpdateSuccessfulNoData,
    ];

    /// The value written to the State node.
    pub fn value(self) -> u16 {
        match self {
            FumoState::Idle => 10,
            FumoState::DownloadFailed => 20,
            FumoState::DownloadProgressing => 30,
            FumoState::DownloadComplete => 40,
            FumoState::ReadyToUpdate => 50,
            FumoState::UpdateProgressing => 60,
            FumoState::UpdateFailedHaveData => 70,
            FumoState::UpdateFailedNoData => 80,
            FumoState::UpdateSuccessfulHaveData => 90,
            FumoState::UpdateSuccessfulNoData => 100,
        }
    }

    pub fn from_value(v: u16) -> Option<FumoState> {
        FumoState::ALL.into_iter().find(|s| s.value() == v)
    }

    /// A state in which an operation ended (20, 70, 80, 90, 100).
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            FumoState::DownloadFailed
                | FumoState::UpdateFailedHaveData
                | FumoState::UpdateFailedNoData
                | FumoState::UpdateSuccessfulHaveData
                | FumoState::UpdateSuccessfulNoData
        )
    }
}

crate::codes::code_table! {
    /// A FUMO result code: the Data of the Generic Alert that ends an operation.
    #[derive(serde::Serialize, serde::Deserialize)]
    pub enum FumoResult {
        Successful = 200, "Successful";
        ClientError = 400, "Management Client Error";
        UserCancelled = 401, "User Cancelled";
        CorruptedPackage = 402, "Corrupted Firmware Update Package";
        DeviceMismatch = 403, "Firmware Update Package - Device Mismatch";
        ValidationFailed = 404, "Failed Firmware Update Package Validation";
        NotAcceptable = 405, "Firmware Update Package Not Acceptable";
        DownloadAuthFailure = 406, "Alternate Download Authentication Failure";
        DownloadTimeout = 407, "Alternate Download Request Time-Out";
        NotImplemented = 408, "Not Implemented";
        UndefinedError = 409, "Undefined Error";
        UpdateFailed = 410, "Firmware Update Failed";
        MalformedUrl = 411, "Malformed or Bad URL";
        ServerUnavailable = 412, "Alternate Download Server Unavailable";
        ServerError = 500, "Alternate Download Server Error";
        DownloadOutOfMemory = 501, "Download fails: device out of memory";
        UpdateOutOfMemory = 502, "Update fails: device out of memory";
        NetworkError = 503, "Download fails: network issues";
    }
}

/// The FUMO operations a server can Exec, and the Generic Alert type that reports each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Operation {
    Download,
    Update,
    DownloadAndUpdate,
}

impl Operation {
    /// The node name under `<x>`.
    pub fn node(self) -> &'static str {
        match self {
            Operation::Download => "Download",
            Operation::Update => "Update",
            Operation::DownloadAndUpdate => "DownloadAndUpdate",
        }
    }

    /// The alert type of the Generic Alert that reports the operation's result.
    pub fn alert_type(self) -> &'static str {
        match self {
            Operation::Download => "org.openmobilealliance.dm.firmwareupdate.download",
            Operation::Update => "org.openmobilealliance.dm.firmwareupdate.update",
            Operation::DownloadAndUpdate => {
                "org.openmobilealliance.dm.firmwareupdate.downloadandupdate"
            }
        }
    }

    pub fn from_node(name: &str) -> Option<Operation> {
        [
            Operation::Download,
            Operation::Update,
            Operation::DownloadAndUpdate,
        ]
        .into_iter()
        .find(|o| o.node() == name)
    }
}

impl From<Operation> for crate::outcome::Operation {
    fn from(op: Operation) -> Self {
        match op {
            Operation::Download => crate::outcome::Operation::Download,
            Operation::Update => crate::outcome::Operation::Install,
            Operation::DownloadAndUpdate => crate::outcome::Operation::DownloadAndInstall,
        }
    }
}

/// Alert type of an update the device asks for by itself.
pub const DEVICE_REQUEST: &str = "org.openmobilealliance.dm.firmwareupdate.devicerequest";
/// Alert type of an update the user asks for.
pub const USER_REQUEST: &str = "org.openmobilealliance.dm.firmwareupdate.userrequest";

/// Whether an alert type (with or without its prefix) reports a FUMO operation's result.
pub fn is_result_alert_type(t: &str) -> bool {
    let bare = bare_alert_type(t);
    [
        Operation::Download,
        Operation::Update,
        Operation::DownloadAndUpdate,
    ]
    .iter()
    .any(|o| o.alert_type() == bare)
}

/// The FUMO result a Generic Alert item reports: its bare alert type and code, when the item's
/// Meta Type is a FUMO result type and its Data a number.
pub fn reported_result(item: &crate::syncml::Item) -> Option<(&str, u16)> {
    let alert_type = item.meta.as_ref()?.type_.as_deref()?;
    if !is_result_alert_type(alert_type) {
        return None;
    }
    let code = item.data_text()?.trim().parse().ok()?;
    Some((bare_alert_type(alert_type), code))
}

/// The alert type without the `Reversed-Domain-Name: ` prefix the spec text shows and real
/// implementations omit (reference §12: accept both).
pub fn bare_alert_type(t: &str) -> &str {
    t.trim()
        .strip_prefix("Reversed-Domain-Name:")
        .map(str::trim)
        .unwrap_or(t.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_and_results_round_trip() {
        for s in FumoState::ALL {
            assert_eq!(FumoState::from_value(s.value()), Some(s));
        }
        for &r in FumoResult::ALL {
            assert_eq!(FumoResult::from_code(r.code()), Some(r));
        }
        assert_eq!(FumoResult::from_code(299), None);
        assert_eq!(
            FumoResult::from_code(250),
            None,
            "vendor codes are profile rows"
        );
    }

    #[test]
    fn the_oma_table_is_there_and_nothing_else() {
        let codes: Vec<u16> = FumoResult::ALL.iter().map(|r| r.code()).collect();
        for c in [
            200, 400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 500, 501, 502,
            503,
        ] {
            assert!(codes.contains(&c), "{c}");
        }
        assert_eq!(codes.len(), 18);
    }

    #[test]
    fn a_result_is_read_from_a_fumo_alert_item_only() {
        use crate::syncml::{Data, Item, Meta};
        let item = |t: &str, data: &str| Item {
            meta: Some(Meta {
                type_: Some(t.to_string()),
                ..Meta::default()
            }),
            data: Some(Data::Text(data.to_string())),
            ..Item::default()
        };
        let update = Operation::Update.alert_type();
        let prefixed = format!("Reversed-Domain-Name: {update}");
        assert_eq!(
            reported_result(&item(&prefixed, " 410 ")),
            Some((update, 410))
        );
        assert_eq!(reported_result(&item(DEVICE_REQUEST, "200")), None);
        assert_eq!(reported_result(&item(update, "soon")), None);
        assert_eq!(reported_result(&Item::default()), None);
    }

    #[test]
    fn alert_types_with_and_without_prefix() {
        assert_eq!(
            bare_alert_type(
                "Reversed-Domain-Name: org.openmobilealliance.dm.firmwareupdate.update"
            ),
            Operation::Update.alert_type()
        );
        assert_eq!(
            Operation::from_node("DownloadAndUpdate"),
            Some(Operation::DownloadAndUpdate)
        );
    }
}
