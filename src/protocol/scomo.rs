//! SCOMO 1.0 codes (reference §6.2-§6.4): the Status and State values of the Download, Delivered and
//! Deployed nodes, the OMA table of result codes, the operations a server can Exec, and the Generic
//! Alert that reports an operation (its type and its Data, the result fragment).
//!
//! Which result a device reports for an outcome is its profile's choice (`profiles/oma.toml`,
//! dmsim's vendor codes in `profiles/dmsim.toml`); [`ScomoResult`] is the OMA table only.

use std::fmt;

crate::codes::code_table! {
    /// `<x>/Download/<p>/Status` (reference §6.2).
    #[derive(serde::Serialize, serde::Deserialize)]
    pub enum DownloadStatus {
        Idle = 10, "Idle";
        DownloadFailed = 20, "Download Failed";
        DownloadProgressing = 30, "Download Progressing";
        DownloadComplete = 40, "Download Complete";
        InstallProgressing = 50, "Install Progressing";
        InstallFailedWithData = 60, "Install Failed with data";
        InstallFailedWithoutData = 70, "Install Failed without data";
    }
}

crate::codes::code_table! {
    /// `<x>/Inventory/Delivered/<d>/Status` (reference §6.2; Verizon's 70 for "install failed
    /// without data" is outvoted by two sources that give 60).
    #[derive(serde::Serialize, serde::Deserialize)]
    pub enum DeliveredStatus {
        Idle = 10, "Idle";
        RemoveFailed = 20, "Remove Failed";
        RemoveProgressing = 30, "Remove Progressing";
        InstallProgressing = 40, "Install Progressing";
        InstallFailedWithData = 50, "Install Failed with data";
        InstallFailedWithoutData = 60, "Install Failed without data";
    }
}

crate::codes::code_table! {
    /// `<x>/Inventory/Deployed/<c>/Status` (reference §6.2).
    #[derive(serde::Serialize, serde::Deserialize)]
    pub enum DeployedStatus {
        Idle = 10, "Idle";
        RemoveFailed = 20, "Remove Failed";
        RemoveProgressing = 30, "Remove Progressing";
        ActivateFailed = 40, "Activate Failed";
        ActivateProgressing = 50, "Activate Progressing";
        DeactivateFailed = 60, "Deactivate Failed";
        DeactivateProgressing = 70, "Deactivate Progressing";
    }
}

crate::codes::code_table! {
    /// `<x>/Inventory/Delivered/<d>/State` (reference §6.2).
    #[derive(serde::Serialize, serde::Deserialize)]
    pub enum DeliveredState {
        Delivered = 10, "Delivered";
        Installed = 20, "Installed";
    }
}

crate::codes::code_table! {
    /// `<x>/Inventory/Deployed/<c>/State` (reference §6.2).
    #[derive(serde::Serialize, serde::Deserialize)]
    pub enum DeployedState {
        Inactive = 10, "Inactive";
        Active = 20, "Active";
    }
}

crate::codes::code_table! {
    /// A SCOMO result code (reference §6.4): the `ResultCode` of the Generic Alert that ends an
    /// operation. The vendor ranges (1250-1299, 1450-1499, 1550-1599) are profile rows.
    #[derive(serde::Serialize, serde::Deserialize)]
    pub enum ScomoResult {
        Successful = 1200, "Successful";
        ClientError = 1400, "Client Error";
        UserCancelled = 1401, "User Cancelled";
        DownloadFailed = 1402, "Download Failed";
        DownloadAuthFailure = 1403, "Alternate Download Authentication Failure";
        DownloadOutOfMemory = 1404, "Download Failed due to Device is out of Memory";
        InstallFailed = 1405, "Install Failed";
        InstallOutOfMemory = 1406, "Install Failed due to Device is out of Memory";
        ValidationFailed = 1407, "Failed Package Validation";
        RemoveFailed = 1408, "Remove Failed";
        ActivateFailed = 1409, "Activate Failed";
        DeactivateFailed = 1410, "Deactivate Failed";
        NotImplemented = 1411, "Not Implemented";
        UndefinedError = 1412, "Undefined Error";
        UnsupportedEnvironment = 1413, "Operation rejected - unsupported environment";
        ServerError = 1500, "Alternate Download Server Error";
        ServerUnavailable = 1501, "Alternate Download Server Unavailable";
    }
}

crate::codes::code_table! {
    /// What a server can Exec in a SCOMO object, by the operation node's name (reference §6.1).
    #[derive(serde::Serialize, serde::Deserialize)]
    pub enum ScomoOperation {
        /// `Download/<p>/Operations/Download`: fetch the package into Delivered.
        Download = "Download";
        /// `Download/<p>/Operations/DownloadInstall`: fetch and install, components Active.
        DownloadInstall = "DownloadInstall";
        /// `Download/<p>/Operations/DownloadInstallInactive`: fetch and install, components
        /// Inactive.
        DownloadInstallInactive = "DownloadInstallInactive";
        /// `Delivered/<d>/Operations/Install`: install a delivered package, components Active.
        Install = "Install";
        /// `Delivered/<d>/Operations/InstallInactive`: install, components Inactive.
        InstallInactive = "InstallInactive";
        /// `Delivered/<d>/Operations/Remove` or `Deployed/<c>/Operations/Remove`.
        Remove = "Remove";
        /// `Deployed/<c>/Operations/Activate`.
        Activate = "Activate";
        /// `Deployed/<c>/Operations/Deactivate`.
        Deactivate = "Deactivate";
    }
}

/// The Generic Alert type of an operation's result (reference §6.3).
pub const OPERATION_COMPLETE: &str = "urn:oma:at:scomo:1.0:OperationComplete";

/// The draft-era type Nokia's devices sent (reference §6.3); a server reading results accepts
/// both.
pub const LEGACY_OPERATION_COMPLETE: &str =
    "org.openmobilealliance.dm.softwarecomponent.OperationComplete";

/// Whether an alert type reports a SCOMO operation's result.
pub fn is_result_alert_type(t: &str) -> bool {
    let t = super::fumo::bare_alert_type(t);
    t == OPERATION_COMPLETE || t == LEGACY_OPERATION_COMPLETE
}

/// The Data of the result alert: `<ResultCode>1200</ResultCode><Identifier>id</Identifier>`
/// (reference §6.3), the identifier being the package's or component's id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultData {
    pub code: u16,
    pub identifier: Option<String>,
}

impl ResultData {
    /// Read a result fragment: its `ResultCode` (digits, surrounding white space allowed) and its
    /// `Identifier`, when there is one. `None` when there is no readable `ResultCode`.
    pub fn parse(data: &str) -> Option<ResultData> {
        let code = element(data, "ResultCode")?.trim().parse().ok()?;
        let identifier = element(data, "Identifier").map(|s| unescape(s.trim()));
        Some(ResultData { code, identifier })
    }
}

impl fmt::Display for ResultData {
    /// The fragment as the device writes it (the identifier escaped as XML text).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<ResultCode>{}</ResultCode>", self.code)?;
        if let Some(id) = &self.identifier {
            write!(f, "<Identifier>{}</Identifier>", escape(id))?;
        }
        Ok(())
    }
}

/// The text between `<name>` and `</name>`, the first of them.
fn element<'a>(data: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = data.find(&open)? + open.len();
    let len = data.get(start..)?.find(&close)?;
    data.get(start..start + len)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The SCOMO result a Generic Alert item reports, when the item's Meta Type is a SCOMO result type
/// and its Data a result fragment.
pub fn reported_result(item: &crate::syncml::Item) -> Option<ResultData> {
    let alert_type = item.meta.as_ref()?.type_.as_deref()?;
    if !is_result_alert_type(alert_type) {
        return None;
    }
    ResultData::parse(&item.data_text()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tables_of_the_reference() {
        let values = |all: Vec<u16>| all;
        assert_eq!(
            values(DownloadStatus::ALL.iter().map(|s| s.code()).collect()),
            [10, 20, 30, 40, 50, 60, 70]
        );
        assert_eq!(
            values(DeliveredStatus::ALL.iter().map(|s| s.code()).collect()),
            [10, 20, 30, 40, 50, 60]
        );
        assert_eq!(
            values(DeployedStatus::ALL.iter().map(|s| s.code()).collect()),
            [10, 20, 30, 40, 50, 60, 70]
        );
        assert_eq!(
            DeliveredState::from_code(20),
            Some(DeliveredState::Installed)
        );
        assert_eq!(DeployedState::from_code(10), Some(DeployedState::Inactive));
        let results: Vec<u16> = ScomoResult::ALL.iter().map(|r| r.code()).collect();
        assert_eq!(results.len(), 17);
        assert!(results.iter().all(|c| !(1250..1300).contains(c)
            && !(1450..1500).contains(c)
            && !(1550..1600).contains(c)));
        assert_eq!(
            ScomoOperation::parse("DownloadInstallInactive"),
            Some(ScomoOperation::DownloadInstallInactive)
        );
    }

    #[test]
    fn result_fragments_round_trip_and_bad_ones_are_none() {
        let data = ResultData {
            code: 1200,
            identifier: Some("app<1>&co".into()),
        };
        let text = data.to_string();
        assert_eq!(
            text,
            "<ResultCode>1200</ResultCode><Identifier>app&lt;1&gt;&amp;co</Identifier>"
        );
        assert_eq!(ResultData::parse(&text), Some(data));
        assert_eq!(
            ResultData::parse(" <ResultCode> 1405 </ResultCode>"),
            Some(ResultData {
                code: 1405,
                identifier: None
            })
        );
        for bad in [
            "",
            "1200",
            "<ResultCode>x</ResultCode>",
            "<ResultCode>1200",
            "<ResultCode>99999</ResultCode>",
        ] {
            assert_eq!(ResultData::parse(bad), None, "{bad}");
        }
        assert!(is_result_alert_type(OPERATION_COMPLETE));
        assert!(is_result_alert_type(&format!(
            "Reversed-Domain-Name: {LEGACY_OPERATION_COMPLETE}"
        )));
        assert!(!is_result_alert_type(
            "org.openmobilealliance.dm.firmwareupdate.update"
        ));
    }
}
