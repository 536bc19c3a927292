//! Choosing between the two encodings of SyncML DM: XML and WBXML.
//!
//! A device speaks one encoding (its scenario or flag says which); the server answers in the one it
//! was spoken to; captured files are recognised by their first byte (a WBXML version, 1 to 3, never
//! starts an XML document).

use super::{wbxml, xml, SyncMl, CONTENT_TYPE_WBXML, CONTENT_TYPE_XML};

/// An encoding of SyncML messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    #[default]
    Xml,
    Wbxml,
}

/// A message that neither codec could read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    #[error("{0}")]
    Xml(#[from] xml::DecodeError),
    #[error("WBXML {0}")]
    Wbxml(#[from] wbxml::WbxmlError),
}

impl Encoding {
    /// The MIME type of DM messages in this encoding.
    pub fn content_type(self) -> &'static str {
        match self {
            Encoding::Xml => CONTENT_TYPE_XML,
            Encoding::Wbxml => CONTENT_TYPE_WBXML,
        }
    }

    /// The encoding a Content-Type names: the DM types and the data-sync ones some servers send,
    /// parameters (`; charset=…`) ignored.
    pub fn from_content_type(value: &str) -> Option<Encoding> {
        let mime = value
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match mime.as_str() {
            "application/vnd.syncml.dm+xml" | "application/vnd.syncml+xml" => Some(Encoding::Xml),
            "application/vnd.syncml.dm+wbxml" | "application/vnd.syncml+wbxml" => {
                Some(Encoding::Wbxml)
            }
            _ => None,
        }
    }

    /// The encoding of a message, from its first byte.
    pub fn detect(bytes: &[u8]) -> Encoding {
        if wbxml::is_wbxml(bytes) {
            Encoding::Wbxml
        } else {
            Encoding::Xml
        }
    }

    pub fn encode(self, msg: &SyncMl) -> Vec<u8> {
        match self {
            Encoding::Xml => xml::encode(msg),
            Encoding::Wbxml => wbxml::encode(msg),
        }
    }

    /// Encoded size of a message as it will be sent: numbered with
    /// [`super::SyncBody::number_commands`] first, as both ends do before encoding, so the size is
    /// exact whatever CmdIDs the commands hold now. The measure both sides give
    /// [`super::outbox::Outbox::fill`].
    pub fn size(self, msg: &SyncMl) -> usize {
        let mut numbered = msg.clone();
        numbered.body.number_commands();
        self.encode(&numbered).len()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Xml => "xml",
            Encoding::Wbxml => "wbxml",
        }
    }
}

/// Decode a message in whichever encoding it is.
pub fn decode(bytes: &[u8]) -> Result<SyncMl, CodecError> {
    match Encoding::detect(bytes) {
        Encoding::Xml => Ok(xml::decode(bytes)?),
        Encoding::Wbxml => Ok(wbxml::decode(bytes)?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_and_detection() {
        assert_eq!(
            Encoding::from_content_type("application/vnd.syncml.dm+wbxml"),
            Some(Encoding::Wbxml)
        );
        assert_eq!(
            Encoding::from_content_type("application/vnd.syncml+xml; charset=UTF-8"),
            Some(Encoding::Xml)
        );
        assert_eq!(Encoding::from_content_type("text/html"), None);
        assert_eq!(Encoding::detect(b"\x02\xa4\x01\x6a\x00"), Encoding::Wbxml);
        assert_eq!(
            Encoding::detect(b"<?xml version=\"1.0\"?><SyncML/>"),
            Encoding::Xml
        );
        assert_eq!(Encoding::detect(b"\xef\xbb\xbf<SyncML/>"), Encoding::Xml);
    }

    #[test]
    fn size_is_the_length_of_the_message_as_sent() {
        let text = include_str!("../../tests/fixtures/syncml/server-pkg2-prefixed.xml");
        let mut msg = xml::decode(text.as_bytes()).expect("fixture decodes");
        // Enough commands for CmdIDs of two and three digits, with CmdIDs blank or stale.
        let first = msg.body.commands[0].clone();
        for n in 0..120 {
            let mut cmd = first.clone();
            *cmd.cmd_id_mut() = if n % 2 == 0 {
                String::new()
            } else {
                "7".into()
            };
            msg.body.commands.push(cmd);
        }
        for enc in [Encoding::Xml, Encoding::Wbxml] {
            let mut sent = msg.clone();
            sent.body.number_commands();
            assert_eq!(enc.size(&msg), enc.encode(&sent).len(), "{enc:?}");
        }
    }

    #[test]
    fn both_encodings_decode_to_the_same_message() {
        let text = include_str!("../../tests/fixtures/syncml/server-pkg2-prefixed.xml");
        let msg = xml::decode(text.as_bytes()).expect("fixture decodes");
        for enc in [Encoding::Xml, Encoding::Wbxml] {
            assert_eq!(decode(&enc.encode(&msg)).expect("decodes"), msg, "{enc:?}");
        }
        assert!(decode(b"\x02\xa4\x01").is_err());
    }
}
