//! What the session fuzz targets share: how one input becomes several messages, which scenario's
//! device or server a message goes to, and the Content-Type it is labelled with.
//!
//! An input of `device_session` or `server_handle` is a selector byte followed by messages separated
//! by [`SEPARATOR`] (`fuzz/seed.sh` writes captured sessions in this form):
//!
//! ```text
//! [selector] message 1 SEPARATOR message 2 SEPARATOR …
//! ```
//!
//! The selector's bits 0-2 pick one of the eight [`SCENARIOS`] (each a file of `scenarios/`, so that
//! the messages captured from a run of it carry the right session ids, nonces and credentials), bit
//! 3 the device's encoding (XML or WBXML), bits 4-6 how each message is labelled ([`Label`]).

use std::sync::OnceLock;

use base64::Engine as _;
use dmsim::device::Device;
use dmsim::scenario::LoadedScenario;
use dmsim::scenario::{build_device, mock_server};
use dmsim::server::MockServer;
use dmsim::syncml::{Command, Data, Encoding, Item, SyncMl, CONTENT_TYPE_WBXML, CONTENT_TYPE_XML};

/// Between two messages of one input. 0xFF never occurs in UTF-8 (so never in an XML message), and
/// the whole sequence is unlikely in WBXML.
pub const SEPARATOR: &[u8] = b"\xff\xfeNEXT\xfe\xff";

/// The most messages one input is split into (a session goes on as long as it is fed).
pub const MAX_MESSAGES: usize = 64;

/// The scenario files the session targets build their device or server from, by selector value.
pub const SCENARIOS: [(&str, &str); 8] = [
    (
        "commands/atomic-nested.toml",
        include_str!("../../scenarios/commands/atomic-nested.toml"),
    ),
    (
        "auth/md5.toml",
        include_str!("../../scenarios/auth/md5.toml"),
    ),
    (
        "auth/server-credentials.toml",
        include_str!("../../scenarios/auth/server-credentials.toml"),
    ),
    (
        "fumo/download-and-update.toml",
        include_str!("../../scenarios/fumo/download-and-update.toml"),
    ),
    (
        "messages/large-object-to-device.toml",
        include_str!("../../scenarios/messages/large-object-to-device.toml"),
    ),
    (
        "messages/large-object-from-device.toml",
        include_str!("../../scenarios/messages/large-object-from-device.toml"),
    ),
    (
        "ui/choices.toml",
        include_str!("../../scenarios/ui/choices.toml"),
    ),
    (
        "session/packages.toml",
        include_str!("../../scenarios/session/packages.toml"),
    ),
];

/// How a message is labelled (its Content-Type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    /// The type of the encoding its bytes are in (XML or WBXML), or the receiver's own when the
    /// bytes are neither: what a well-behaved peer sends.
    Right,
    /// Always the XML type.
    Xml,
    /// Always the WBXML type.
    Wbxml,
    /// No Content-Type.
    Missing,
    /// A type that is not SyncML.
    Other,
}

impl Label {
    /// The Content-Type of `body` sent to a peer whose own encoding is `own`.
    pub fn content_type(self, body: &[u8], own: Encoding) -> String {
        match self {
            Label::Right => Encoding::recognise(body)
                .unwrap_or(own)
                .content_type()
                .to_string(),
            Label::Xml => CONTENT_TYPE_XML.to_string(),
            Label::Wbxml => CONTENT_TYPE_WBXML.to_string(),
            Label::Missing => String::new(),
            Label::Other => "text/html; charset=utf-8".to_string(),
        }
    }
}

/// What the selector byte says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Selector {
    /// Index into [`SCENARIOS`].
    pub scenario: usize,
    /// The device's encoding.
    pub encoding: Encoding,
    pub label: Label,
}

impl Selector {
    /// Bits 0-2: the scenario; bit 3: WBXML; bits 4-6: the label, [`Label::Right`] for four of
    /// the eight values (the usual case).
    pub fn from_byte(b: u8) -> Selector {
        Selector {
            scenario: usize::from(b & 0x07),
            encoding: if b & 0x08 == 0 {
                Encoding::Xml
            } else {
                Encoding::Wbxml
            },
            label: match (b >> 4) & 0x07 {
                4 => Label::Xml,
                5 => Label::Wbxml,
                6 => Label::Missing,
                7 => Label::Other,
                _ => Label::Right,
            },
        }
    }
}

/// The selector and the messages of an input (at most [`MAX_MESSAGES`]); `None` for an empty
/// input.
pub fn split(data: &[u8]) -> Option<(Selector, Vec<&[u8]>)> {
    let (&first, mut rest) = data.split_first()?;
    let mut messages = Vec::new();
    while messages.len() < MAX_MESSAGES {
        match find(rest, SEPARATOR) {
            Some(at) => {
                messages.push(&rest[..at]);
                rest = &rest[at + SEPARATOR.len()..];
            }
            None => {
                messages.push(rest);
                break;
            }
        }
    }
    Some((Selector::from_byte(first), messages))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The scenarios of [`SCENARIOS`], read once.
pub fn scenario(index: usize) -> &'static LoadedScenario {
    static LOADED: OnceLock<Vec<LoadedScenario>> = OnceLock::new();
    let all = LOADED.get_or_init(|| {
        SCENARIOS
            .iter()
            .map(|(path, text)| {
                // The FUMO device is a Knox E-FOTA family device with a SCOMO object too, so that
                // server input reaches every agent of the engine (Adds under ./SCOMO/Download,
                // Execs of its operations, the E-FOTA client's nodes and operations, and the
                // client's hearing of statuses and session endings).
                let text = match *path {
                    "fumo/download-and-update.toml" => {
                        format!("{text}\n[device]\nfamily = \"knox-efota\"\n\n[device.scomo]\n")
                    }
                    _ => text.to_string(),
                };
                dmsim::scenario::load::parse(std::path::Path::new(path), &text)
                    .unwrap_or_else(|e| panic!("{path}: {e}"))
            })
            .collect()
    });
    &all[index % all.len()]
}

/// A fresh device of scenario `index` speaking `encoding` (built once, cloned per input).
pub fn device(index: usize, encoding: Encoding) -> Device {
    static BUILT: OnceLock<Vec<Device>> = OnceLock::new();
    let all = BUILT.get_or_init(|| {
        (0..SCENARIOS.len())
            .map(|i| {
                build_device(&scenario(i).file)
                    .unwrap_or_else(|e| panic!("{}: {e}", SCENARIOS[i].0))
            })
            .collect()
    });
    let mut device = all[index % all.len()].clone();
    device.encoding = encoding;
    device
}

/// A fresh mock server of scenario `index` (its configuration and hosted files built once).
pub fn server(index: usize) -> MockServer {
    static BUILT: OnceLock<Vec<MockServer>> = OnceLock::new();
    let all = BUILT.get_or_init(|| {
        (0..SCENARIOS.len())
            .map(|i| {
                mock_server(&scenario(i).file).unwrap_or_else(|e| panic!("{}: {e}", SCENARIOS[i].0))
            })
            .collect()
    });
    let built = &all[index % all.len()];
    MockServer::with_content(built.config().clone(), built.content_config().clone())
}

/// `msg` as the XML codec carries it: every opaque Item Data becomes its base64 text (what the XML
/// encoder writes and its decoder gives back).
pub fn opaque_as_base64(mut msg: SyncMl) -> SyncMl {
    fn commands(list: &mut [Command]) {
        for cmd in list {
            match cmd {
                Command::Add(c) | Command::Replace(c) | Command::Copy(c) => items(&mut c.items),
                Command::Delete(c) => items(&mut c.items),
                Command::Get(c) => items(&mut c.items),
                Command::Exec(c) => items(&mut c.items),
                Command::Alert(c) => items(&mut c.items),
                Command::Status(c) => items(&mut c.items),
                Command::Results(c) => items(&mut c.items),
                Command::Atomic(c) | Command::Sequence(c) => commands(&mut c.commands),
                Command::Unknown(_) => {}
            }
        }
    }
    fn items(list: &mut [Item]) {
        for item in list {
            if let Some(Data::Opaque(bytes)) = &item.data {
                item.data = Some(Data::Text(
                    base64::engine::general_purpose::STANDARD.encode(bytes),
                ));
            }
        }
    }
    commands(&mut msg.body.commands);
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_split_into_selector_and_messages() {
        let mut input = vec![0x1b];
        input.extend_from_slice(b"<a/>");
        input.extend_from_slice(SEPARATOR);
        input.extend_from_slice(b"\x02\x00");
        let (sel, messages) = split(&input).expect("not empty");
        assert_eq!(sel.scenario, 3);
        assert_eq!(sel.encoding, Encoding::Wbxml);
        assert_eq!(sel.label, Label::Right);
        assert_eq!(messages, vec![&b"<a/>"[..], &b"\x02\x00"[..]]);
        assert!(split(b"").is_none());
        assert_eq!(split(b"\x00").expect("one byte").1, vec![&b""[..]]);
    }

    #[test]
    fn every_scenario_builds_a_device_and_a_server() {
        for i in 0..SCENARIOS.len() {
            let _ = device(i, Encoding::Xml);
            let _ = server(i);
        }
    }
}
