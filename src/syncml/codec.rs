//! Choosing between the two encodings of SyncML DM: XML and WBXML.
//!
//! On the wire a message is read by its label, never by guessing: one of the two DM MIME types
//! (`application/vnd.syncml.dm+xml`, `…+wbxml`) MUST identify a DM message wherever the transport
//! carries MIME types (DM Representation Protocol, "OMA Device Management Usage"; reference §1.1).
//! [`decode_labelled`] reads a body by its Content-Type (the DM types, and the data-sync types
//! `application/vnd.syncml+xml|wbxml` some servers send) and refuses, as [`LabelError`]s, a type that
//! is not SyncML, a body that is recognisably the other encoding (XML labelled WBXML, WBXML labelled
//! XML), and a body that does not decode in the encoding its type names. The mock server, the
//! device, the scenario observations and the wire summaries of scenario reports all read messages
//! this way.
//!
//! The `…_with_notes` forms also give the deviations from the schema the decoder read past
//! ([`super::notes`]): a device records them as the server's violations.
//!
//! Guessing is for people: [`decode`] and [`Encoding::detect`] recognise a message by its first
//! byte (a WBXML version, 1 to 3, never starts an XML document), for `dmsim decode` on a captured
//! file, for showing transcripts as received ([`render_as_received`]), and for a device that got a
//! reply with no Content-Type at all (which it records as a violation).

use super::{wbxml, xml, DecodeNote, SyncMl, CONTENT_TYPE_WBXML, CONTENT_TYPE_XML};

/// An encoding of SyncML messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    #[default]
    Xml,
    Wbxml,
}

/// Deviations from SyncML DM 1.2 an encoder writes on purpose, to see how a peer copes (the mock
/// server's `server.quirks`, for testing devices); dmsim's own messages never carry them. Each keeps
/// the size of the message as [`Encoding::size`] measures it (the same bytes in another order, a
/// namespace or public id of the same length), so that a package is still cut to the peer's
/// MaxMsgSize.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Deviations {
    /// Every Status's Data (its code) before its Cmd, against the order of reference §1.2
    /// (CmdID, MsgRef, CmdRef, Cmd, TargetRef*, SourceRef*, Cred?, Chal?, Data, Item*).
    pub status_data_before_cmd: bool,
    /// The SyncML 1.1 document type: XML namespace `SYNCML:SYNCML1.1`, WBXML public id 0x0FD3
    /// (reference §1.1, §9.1).
    pub syncml_11: bool,
}

/// A message that neither codec could read.
///
/// It displays its codec's error once: the XML one as it is, the WBXML one after `WBXML`. Neither is
/// also given as the [`std::error::Error::source`], so that a chain of causes (`anyhow`'s `{:#}`)
/// does not repeat it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    #[error(transparent)]
    Xml(#[from] xml::DecodeError),
    #[error("WBXML {0}")]
    Wbxml(wbxml::WbxmlError),
}

impl From<wbxml::WbxmlError> for CodecError {
    fn from(e: wbxml::WbxmlError) -> CodecError {
        CodecError::Wbxml(e)
    }
}

/// Why a body could not be read as the message its Content-Type says it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelError {
    /// The Content-Type is not a SyncML message type (or there is none).
    #[error("content type {0:?} is not a SyncML DM message type")]
    NotSyncMl(String),
    /// The body is recognisably in the other encoding than its Content-Type names.
    #[error("the body is {found}, but its content type {content_type:?} says {labelled}")]
    Mismatch {
        content_type: String,
        labelled: Encoding,
        found: Encoding,
    },
    /// The body does not decode in the encoding its Content-Type names.
    #[error("{0}")]
    Malformed(CodecError),
}

impl LabelError {
    /// Whether the label is what is wrong (HTTP 415 Unsupported Media Type), rather than the
    /// message under a right label (400).
    pub fn is_media_type(&self) -> bool {
        !matches!(self, LabelError::Malformed(_))
    }
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

    /// The encoding of a message, guessed from its first byte (anything not WBXML is taken for
    /// XML): only where a person asks for it (see the module docs).
    pub fn detect(bytes: &[u8]) -> Encoding {
        if wbxml::is_wbxml(bytes) {
            Encoding::Wbxml
        } else {
            Encoding::Xml
        }
    }

    /// The encoding a body is recognisably in, if any: WBXML when its first byte is a WBXML
    /// version (1 to 3), XML when it starts with `<` after an optional UTF-8 byte order mark and
    /// whitespace. Garbage is neither.
    pub fn recognise(bytes: &[u8]) -> Option<Encoding> {
        if wbxml::is_wbxml(bytes) {
            return Some(Encoding::Wbxml);
        }
        let text = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
        let first = text
            .iter()
            .find(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'));
        (first == Some(&b'<')).then_some(Encoding::Xml)
    }

    pub fn encode(self, msg: &SyncMl) -> Vec<u8> {
        match self {
            Encoding::Xml => xml::encode(msg),
            Encoding::Wbxml => wbxml::encode(msg),
        }
    }

    /// Encode a message with deliberate [`Deviations`] (none: as [`Encoding::encode`]).
    pub fn encode_with(self, msg: &SyncMl, deviations: Deviations) -> Vec<u8> {
        match self {
            Encoding::Xml => xml::encode_with(msg, deviations),
            Encoding::Wbxml => wbxml::encode_with(msg, deviations),
        }
    }

    /// Decode a message that is in this encoding (no guessing).
    pub fn decode(self, bytes: &[u8]) -> Result<SyncMl, CodecError> {
        match self {
            Encoding::Xml => Ok(xml::decode(bytes)?),
            Encoding::Wbxml => Ok(wbxml::decode(bytes)?),
        }
    }

    /// Decode a message that is in this encoding (no guessing), with a note for every deviation
    /// from the schema the decoder read past (see [`super::notes`]).
    pub fn decode_with_notes(self, bytes: &[u8]) -> Result<(SyncMl, Vec<DecodeNote>), CodecError> {
        match self {
            Encoding::Xml => Ok(xml::decode_with_notes(bytes)?),
            Encoding::Wbxml => Ok(wbxml::decode_with_notes(bytes)?),
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

impl std::fmt::Display for Encoding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Encoding::Xml => "XML",
            Encoding::Wbxml => "WBXML",
        })
    }
}

/// Read a body as the SyncML message its Content-Type says it is: the encoding the type names and
/// the message, or why not (see [`LabelError`]).
pub fn decode_labelled(content_type: &str, bytes: &[u8]) -> Result<(Encoding, SyncMl), LabelError> {
    let labelled = label(content_type, bytes)?;
    labelled
        .decode(bytes)
        .map(|msg| (labelled, msg))
        .map_err(LabelError::Malformed)
}

/// [`decode_labelled`], with a note for every deviation from the schema the decoder read past
/// (see [`super::notes`]).
pub fn decode_labelled_with_notes(
    content_type: &str,
    bytes: &[u8],
) -> Result<(Encoding, SyncMl, Vec<DecodeNote>), LabelError> {
    let labelled = label(content_type, bytes)?;
    labelled
        .decode_with_notes(bytes)
        .map(|(msg, notes)| (labelled, msg, notes))
        .map_err(LabelError::Malformed)
}

/// The encoding a Content-Type names, when the body is not recognisably the other one.
fn label(content_type: &str, bytes: &[u8]) -> Result<Encoding, LabelError> {
    let labelled = Encoding::from_content_type(content_type)
        .ok_or_else(|| LabelError::NotSyncMl(content_type.to_string()))?;
    match Encoding::recognise(bytes) {
        Some(found) if found != labelled => Err(LabelError::Mismatch {
            content_type: content_type.to_string(),
            labelled,
            found,
        }),
        _ => Ok(labelled),
    }
}

/// A message as received, for people (transcripts, `dmsim device`): WBXML, recognised by its first
/// byte, as XML token by token ([`wbxml::to_xml`]); anything else as its own text
/// ([`xml::as_received`]; bytes that are not UTF-8 shown as U+FFFD). Never through the message
/// model, so what is shown is what came, in its order.
pub fn render_as_received(bytes: &[u8]) -> String {
    if wbxml::is_wbxml(bytes) {
        wbxml::to_xml(bytes)
    } else {
        xml::as_received(&String::from_utf8_lossy(bytes))
    }
}

/// Decode a message in whichever encoding it looks like (a guess: see the module docs).
pub fn decode(bytes: &[u8]) -> Result<SyncMl, CodecError> {
    Encoding::detect(bytes).decode(bytes)
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
    fn bodies_are_recognised_only_by_their_own_marks() {
        assert_eq!(
            Encoding::recognise(b"\x02\xa4\x01\x6a\x00"),
            Some(Encoding::Wbxml)
        );
        assert_eq!(Encoding::recognise(b"<SyncML/>"), Some(Encoding::Xml));
        assert_eq!(
            Encoding::recognise(b"\xef\xbb\xbf \r\n<?xml version=\"1.0\"?>"),
            Some(Encoding::Xml)
        );
        assert_eq!(Encoding::recognise(b""), None);
        assert_eq!(Encoding::recognise(b"hello"), None);
        assert_eq!(Encoding::recognise(b"\x00<SyncML/>"), None);
    }

    #[test]
    fn bodies_are_read_by_their_label() {
        let text = include_str!("../../tests/fixtures/syncml/server-pkg2-prefixed.xml");
        let msg = xml::decode(text.as_bytes()).expect("fixture decodes");
        let as_xml = Encoding::Xml.encode(&msg);
        let as_wbxml = Encoding::Wbxml.encode(&msg);
        assert_eq!(
            decode_labelled("application/vnd.syncml.dm+wbxml", &as_wbxml),
            Ok((Encoding::Wbxml, msg.clone()))
        );
        assert_eq!(
            decode_labelled("application/vnd.syncml+xml; charset=UTF-8", &as_xml),
            Ok((Encoding::Xml, msg))
        );
        let mislabelled = decode_labelled(CONTENT_TYPE_WBXML, &as_xml).expect_err("XML as WBXML");
        assert_eq!(
            mislabelled,
            LabelError::Mismatch {
                content_type: CONTENT_TYPE_WBXML.to_string(),
                labelled: Encoding::Wbxml,
                found: Encoding::Xml,
            }
        );
        assert!(mislabelled.is_media_type());
        assert_eq!(
            mislabelled.to_string(),
            "the body is XML, but its content type \"application/vnd.syncml.dm+wbxml\" says WBXML"
        );
        let e = decode_labelled(CONTENT_TYPE_XML, &as_wbxml).expect_err("WBXML as XML");
        assert!(
            matches!(
                e,
                LabelError::Mismatch {
                    found: Encoding::Wbxml,
                    ..
                }
            ),
            "{e:?}"
        );
        let e = decode_labelled("text/plain", &as_xml).expect_err("not SyncML");
        assert_eq!(e, LabelError::NotSyncMl("text/plain".to_string()));
        assert!(e.is_media_type());
        let e = decode_labelled("", &as_xml).expect_err("no type");
        assert!(e.is_media_type());
        // A right label on a broken body is a malformed message, not a wrong label.
        let e =
            decode_labelled(CONTENT_TYPE_WBXML, &as_wbxml[..as_wbxml.len() / 2]).expect_err("cut");
        assert!(
            matches!(e, LabelError::Malformed(CodecError::Wbxml(_))),
            "{e:?}"
        );
        assert!(!e.is_media_type());
        let e = decode_labelled(CONTENT_TYPE_WBXML, b"garbage").expect_err("garbage");
        assert!(!e.is_media_type(), "{e:?}");
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

    #[test]
    fn deviations_keep_the_size_and_the_message_and_are_noted() {
        use crate::syncml::NoteKind;
        let text = include_str!("../../tests/fixtures/syncml/server-pkg2-prefixed.xml");
        let msg = xml::decode(text.as_bytes()).expect("fixture decodes");
        let statuses = msg
            .body
            .commands
            .iter()
            .filter(|c| matches!(c, crate::syncml::Command::Status(_)))
            .count();
        assert!(statuses >= 2);
        let all = Deviations {
            status_data_before_cmd: true,
            syncml_11: true,
        };
        for enc in [Encoding::Xml, Encoding::Wbxml] {
            assert_eq!(
                enc.encode_with(&msg, Deviations::default()),
                enc.encode(&msg)
            );
            let bytes = enc.encode_with(&msg, all);
            assert_eq!(
                bytes.len(),
                enc.encode(&msg).len(),
                "{enc:?}: the size measured"
            );
            let (read, notes) = enc.decode_with_notes(&bytes).expect("decodes");
            assert_eq!(
                read,
                enc.decode(&enc.encode(&msg)).expect("decodes"),
                "{enc:?}"
            );
            let kinds: Vec<NoteKind> = notes.iter().map(|n| n.kind).collect();
            let mut want = vec![NoteKind::Namespace];
            want.extend(std::iter::repeat_n(NoteKind::ElementOrder, statuses));
            assert_eq!(kinds, want, "{enc:?}: {notes:#?}");
            assert!(notes[1]
                .detail
                .starts_with("Cmd comes after Data in Status"));
        }
    }

    /// Every cause in the chain of `e`, outermost first, as `anyhow`'s `{:#}` prints them.
    fn chain(e: &dyn std::error::Error) -> Vec<String> {
        std::iter::successors(Some(e), |e| e.source())
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn an_error_is_told_once() {
        let xml_err = decode(b"<SyncML xmlns='SYNCML:SYNCML1.2'><SyncHdr>").expect_err("truncated");
        assert!(matches!(xml_err, CodecError::Xml(_)));
        let told = chain(&xml_err).join(": ");
        assert_eq!(told.matches("unexpected end of input").count(), 1, "{told}");

        let wbxml_err = decode(b"\x02\xa4\x01").expect_err("truncated");
        assert!(matches!(wbxml_err, CodecError::Wbxml(_)));
        let told = chain(&wbxml_err).join(": ");
        assert!(told.starts_with("WBXML byte "), "{told}");
        assert_eq!(told.matches("unexpected end of input").count(), 1, "{told}");
    }
}
