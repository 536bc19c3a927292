//! SyncML DM alert codes (reference §1.7): the `Data` of an `Alert` command.

crate::codes::code_table! {
    /// An alert code.
    #[derive(PartialOrd, Ord)]
    pub enum AlertCode {
        /// Show a text to the user.
        Display = 1100, "DISPLAY";
        /// Ask the user to confirm (Status 200) or reject (Status 304).
        ConfirmOrReject = 1101, "CONFIRM OR REJECT";
        /// Ask the user for text, returned in the Status item.
        TextInput = 1102, "TEXT INPUT";
        /// Ask the user to pick one choice.
        SingleChoice = 1103, "SINGLE CHOICE";
        /// Ask the user to pick one or more choices.
        MultipleChoice = 1104, "MULTIPLE CHOICE";
        /// Package 1 of a session started by a notification (Package #0).
        ServerInitiatedMgmt = 1200, "SERVER-INITIATED MGMT";
        /// Package 1 of a session the device started by itself.
        ClientInitiatedMgmt = 1201, "CLIENT-INITIATED MGMT";
        /// Ask the peer for the next message of a package.
        NextMessage = 1222, "NEXT MESSAGE";
        /// The sender ends the session.
        SessionAbort = 1223, "SESSION ABORT";
        /// A device event.
        ClientEvent = 1224, "CLIENT EVENT";
        /// The last chunk of a large object never came.
        NoEndOfData = 1225, "NO END OF DATA";
        /// A client alert, optionally tied to a management object (e.g. a FUMO result).
        GenericAlert = 1226, "GENERIC ALERT";
    } else {
        /// A code outside the DM 1.2 table, kept verbatim.
        Other(u16) = "UNKNOWN";
    }
}

impl AlertCode {
    /// User-interaction alerts (1100-1104), which only a server sends.
    pub fn is_user_interaction(self) -> bool {
        (1100..=1104).contains(&self.code())
    }
}

/// Serialised as its number, as on the wire.
impl serde::Serialize for AlertCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u16(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for &a in AlertCode::ALL {
            assert_eq!(AlertCode::from_code(a.code()), a);
        }
        assert!(AlertCode::TextInput.is_user_interaction());
        assert!(!AlertCode::GenericAlert.is_user_interaction());
        assert_eq!(AlertCode::from_code(1999), AlertCode::Other(1999));
    }
}
