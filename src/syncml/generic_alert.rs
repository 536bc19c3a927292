//! Generic Alerts (1226, reference §1.8): what a device reports to its server outside the answer
//! to a command, such as a FUMO operation's result. The format is shared: the device builds the
//! Alert from a [`GenericAlert`], the mock server reads its items.

use super::{Alert, AlertCode, Command, Data, Item, Location, Meta};

/// A Generic Alert (1226) to report to the server (reference §1.8).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GenericAlert {
    pub correlator: Option<String>,
    pub source_uri: String,
    pub target_uri: Option<String>,
    /// Alert type string, e.g. `org.openmobilealliance.dm.firmwareupdate.download`.
    pub alert_type: String,
    pub format: String,
    pub mark: Option<String>,
    pub data: String,
}

impl GenericAlert {
    /// The Alert command that carries it: one item, its Meta giving the type, format and mark.
    pub fn to_command(&self) -> Command {
        Command::Alert(Alert {
            correlator: self.correlator.clone(),
            items: vec![Item {
                source: Some(Location::uri(self.source_uri.clone())),
                target: self.target_uri.clone().map(Location::uri),
                meta: Some(Meta {
                    type_: Some(self.alert_type.clone()),
                    format: Some(self.format.clone()),
                    mark: self.mark.clone(),
                    ..Meta::default()
                }),
                data: Some(Data::Text(self.data.clone())),
                more_data: false,
            }],
            ..Alert::bare(AlertCode::GenericAlert)
        })
    }
}
