//! Cross-check of the WBXML codec against an independent implementation: libwbxml's command-line
//! tools `wbxml2xml` and `xml2wbxml` (Debian package libwbxml2-utils), on every message of the
//! scenario suite's transcripts.
//!
//! (a) our `wbxml::encode` → `wbxml2xml` → our `xml::decode` must give the original message;
//! (b) our `xml::encode` → `xml2wbxml` → our `wbxml::decode` must give the original message.
//!
//! The tools are run with `wbxml2xml -m 0` (compact XML, no indentation added inside text) and
//! `xml2wbxml -k` (keep whitespace; without it libwbxml trims every text, Data included), the latter
//! once with `-n` (inline strings only; a message with a command name that has no token falls back
//! to the string table, which libwbxml needs for a LITERAL) and once with its string table and the
//! WBXML 1.1 header. libwbxml reads our public id 0x1201 and writes it too. What libwbxml still
//! changes, and the comparison therefore normalises, is exactly this (checked on the tool itself by
//! `libwbxml_writes_add_and_replace_data_as_opaque_crlf`):
//! - `xml2wbxml` writes the Data of every Item of an Add or Replace (its "vObject" heuristic for
//!   SyncML, also applied to Meta Types `text/clear`, `text/x-vcard`, …) as OPAQUE instead of a
//!   string, so our decoder gives `Data::Opaque` for them: those are compared by their text, which
//!   must be valid UTF-8 and equal;
//! - in that same Data it turns every line feed into CR LF (its fix for vCards): the expected text
//!   gets the same change before comparing;
//! - it rewrites an Item's Meta Type `application/vnd.syncml.dmtnds+xml` as `…+wbxml` (it embeds a
//!   TNDS tree as a DDF document when the Data holds one as elements), even when the Data is a
//!   string, as our XML encoder writes it: the Type is set back before comparing;
//! - and in direction (a), `wbxml2xml` has no names for the DM DDF code page 2 inside SyncML, so the
//!   TNDS trees our encoder writes there come back with every element named `unknown`: the expected
//!   TNDS text gets the same renaming (`tests/tnds.rs` checks both behaviours on the tool itself).
//!
//! Nothing else is normalised. When the tools are missing each test says so on stderr and returns,
//! except under CI (`CI=true`), where `.ci/run` installs them and their absence is a failure.

mod support;

use dmsim::inproc::InProcess;
use dmsim::scenario::model::InitiatorSpec;
use dmsim::scenario::{build_device, server_config};
use dmsim::server::MockServer;
use dmsim::session::{run_session, Initiator, SessionStart};
use dmsim::syncml::{wbxml, xml, Command, Data, Item, SyncMl};
use dmsim::tree::{TNDS_WBXML, TNDS_XML};
use std::path::PathBuf;
use std::sync::Arc;
use support::libwbxml::{run_tool, tools_available};

/// A message of a transcript and where it comes from.
struct Sample {
    origin: String,
    msg: SyncMl,
}

/// Every SyncML message (requests and responses) of every scenario's session transcript.
fn transcript_messages() -> Vec<Sample> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let files = dmsim::scenario::discover(&[dir]).expect("scenarios/ has scenario files");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("runtime");
    let mut samples = Vec::new();
    for path in files {
        let scenario = dmsim::scenario::load(&path).expect("valid scenario");
        let file = &scenario.file;
        let Ok(mut device) = build_device(file) else {
            continue;
        };
        let transport = InProcess::new(Arc::new(MockServer::new(server_config(file))));
        let start = SessionStart {
            initiator: match file.device.initiator {
                InitiatorSpec::Client => Initiator::Client,
                InitiatorSpec::Server => Initiator::Server {
                    session_id: file.device.session_id,
                },
            },
            server_id: Some(file.server.server_id.clone()),
        };
        let report = runtime.block_on(run_session(&transport, &mut device, start, true));
        let name = path.file_stem().map(|s| s.to_string_lossy().into_owned());
        let name = name.unwrap_or_default();
        for (i, exchange) in report.transcript.iter().enumerate() {
            let mut bodies = vec![("request", exchange.request.body.as_slice())];
            if let Ok(response) = &exchange.response {
                bodies.push(("response", response.body.as_slice()));
            }
            for (side, body) in bodies {
                // Bodies a fault made unreadable are not messages to compare.
                if let Ok(msg) = xml::decode(body) {
                    let origin = format!("{name} exchange {} {side}", i + 1);
                    samples.push(Sample { origin, msg });
                }
            }
        }
    }
    assert!(
        samples.len() >= 60,
        "only {} transcript messages",
        samples.len()
    );
    samples
}

/// The message as `xml2wbxml` + our decoder give it back: Data of Add/Replace items as text with
/// LF → CR LF (`expected`), and opaque Data read as text (`decoded`).
fn libwbxml_normalised(mut expected: SyncMl, mut decoded: SyncMl) -> (SyncMl, SyncMl) {
    vobject_crlf(&mut expected.body.commands);
    opaque_as_text(&mut decoded.body.commands);
    for_each_item(&mut decoded.body.commands, &mut tnds_type_as_xml);
    (expected, decoded)
}

/// Every Item of the Add, Replace and Results commands (in Atomic / Sequence too).
fn for_each_item(commands: &mut [Command], f: &mut dyn FnMut(&mut Item)) {
    for cmd in commands {
        match cmd {
            Command::Add(c) | Command::Replace(c) => c.items.iter_mut().for_each(&mut *f),
            Command::Results(c) => c.items.iter_mut().for_each(&mut *f),
            Command::Atomic(c) | Command::Sequence(c) => for_each_item(&mut c.commands, f),
            _ => {}
        }
    }
}

fn item_type(item: &Item) -> Option<&str> {
    item.meta.as_ref().and_then(|m| m.type_.as_deref())
}

/// libwbxml's `…dmtnds+xml` → `…dmtnds+wbxml` on an Item whose Data stayed a string, undone.
fn tnds_type_as_xml(item: &mut Item) {
    if item_type(item) == Some(TNDS_WBXML) && matches!(item.data, Some(Data::Text(_))) {
        if let Some(meta) = &mut item.meta {
            meta.type_ = Some(TNDS_XML.to_string());
        }
    }
}

/// A TNDS tree's elements renamed `unknown` (attributes dropped), as `wbxml2xml` gives them.
fn tnds_anonymous(item: &mut Item) {
    if item_type(item) != Some(TNDS_XML) {
        return;
    }
    let Some(Data::Text(text)) = &mut item.data else {
        return;
    };
    if !text.starts_with("<MgmtTree") {
        return;
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let (Some(start), Some(len)) = (rest.find('<'), rest.find('>')) {
        out.push_str(&rest[..start]);
        let tag = &rest[start..=len];
        out.push_str(match (tag.starts_with("</"), tag.ends_with("/>")) {
            (true, _) => "</unknown>",
            (false, true) => "<unknown/>",
            (false, false) => "<unknown>",
        });
        rest = &rest[len + 1..];
    }
    out.push_str(rest);
    *text = out;
}

fn vobject_crlf(commands: &mut [Command]) {
    for cmd in commands {
        match cmd {
            Command::Add(c) | Command::Replace(c) => {
                for item in &mut c.items {
                    if let Some(Data::Text(text)) = &mut item.data {
                        *text = text.replace('\n', "\r\n");
                    }
                }
            }
            Command::Atomic(c) | Command::Sequence(c) => vobject_crlf(&mut c.commands),
            _ => {}
        }
    }
}

fn opaque_as_text(commands: &mut [Command]) {
    for cmd in commands {
        match cmd {
            Command::Atomic(c) | Command::Sequence(c) => opaque_as_text(&mut c.commands),
            Command::Add(c) | Command::Replace(c) => c.items.iter_mut().for_each(item_text),
            // Only Add/Replace items are written as OPAQUE; anywhere else it stays a mismatch.
            _ => {}
        }
    }
}

fn item_text(item: &mut Item) {
    if let Some(Data::Opaque(bytes)) = &item.data {
        if let Ok(text) = String::from_utf8(bytes.clone()) {
            item.data = Some(Data::Text(text));
        }
    }
}

/// Check every sample with `check`, reporting all mismatches at once.
fn check_all(check: impl Fn(&SyncMl) -> Result<(), String>) {
    let samples = transcript_messages();
    let failures: Vec<String> = samples
        .iter()
        .filter_map(|s| check(&s.msg).err().map(|e| format!("{}: {e}", s.origin)))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} messages differ:\n{}",
        failures.len(),
        samples.len(),
        failures.join("\n\n")
    );
}

#[test]
fn libwbxml_reads_our_wbxml() {
    if !tools_available() {
        return;
    }
    check_all(|msg| {
        let encoded = wbxml::encode(msg);
        // -k: without it wbxml2xml trims text, and large-object chunks may start or end in a space.
        let xml_doc = run_tool("wbxml2xml", &["-m", "0", "-k", "-o", "-", "-"], &encoded)?;
        let decoded = xml::decode(&xml_doc)
            .map_err(|e| format!("{e}\n{}", String::from_utf8_lossy(&xml_doc)))?;
        let mut msg = msg.clone();
        for_each_item(&mut msg.body.commands, &mut tnds_anonymous);
        if decoded == msg {
            Ok(())
        } else {
            Err(format!(
                "differs\n  ours:     {msg:?}\n  libwbxml: {decoded:?}\n{}",
                String::from_utf8_lossy(&xml_doc)
            ))
        }
    });
}

/// (b) for one message: `xml::encode` → `xml2wbxml args` → `wbxml::decode`, compared after
/// libwbxml's normalisation.
fn via_xml2wbxml(msg: &SyncMl, args: &[&str]) -> Result<(), String> {
    let xml_doc = xml::encode(msg);
    let encoded = match run_tool("xml2wbxml", args, &xml_doc) {
        // A command name without a token is a LITERAL, which needs the string table.
        Err(e) if e.contains("can't encode Literal") => {
            let with_table: Vec<&str> = args.iter().copied().filter(|&a| a != "-n").collect();
            run_tool("xml2wbxml", &with_table, &xml_doc)?
        }
        other => other?,
    };
    let decoded = wbxml::decode(&encoded).map_err(|e| format!("{e}\n{encoded:02X?}"))?;
    let (expected, decoded) = libwbxml_normalised(msg.clone(), decoded);
    if decoded == expected {
        Ok(())
    } else {
        Err(format!(
            "differs\n  expected: {expected:?}\n  decoded:  {decoded:?}\n{encoded:02X?}"
        ))
    }
}

#[test]
fn we_read_libwbxml_wbxml() {
    if !tools_available() {
        return;
    }
    // WBXML 1.3 (libwbxml's default), inline strings only.
    check_all(|msg| via_xml2wbxml(msg, &["-k", "-n", "-o", "-", "-"]));
}

#[test]
fn we_read_libwbxml_wbxml_with_a_string_table_and_version_1_1() {
    if !tools_available() {
        return;
    }
    // libwbxml's string table (STR_T references) and the WBXML 1.1 header.
    check_all(|msg| via_xml2wbxml(msg, &["-k", "-v", "1.1", "-o", "-", "-"]));
}

#[test]
fn libwbxml_writes_add_and_replace_data_as_opaque_crlf() {
    if !tools_available() {
        return;
    }
    // The normalisation above, checked on the tool itself: Replace item Data is OPAQUE with LF →
    // CR LF (CR LF → CR CR LF); Alert item Data is an inline string, unchanged.
    let xml_doc = concat!(
        r#"<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto>"#,
        "<SessionID>1</SessionID><MsgID>1</MsgID><Target><LocURI>s</LocURI></Target>",
        "<Source><LocURI>d</LocURI></Source></SyncHdr><SyncBody>",
        "<Replace><CmdID>1</CmdID><Item><Data>l1\nl2&#13;\nl3</Data></Item></Replace>",
        "<Alert><CmdID>2</CmdID><Data>1100</Data><Item><Data>p\nq</Data></Item></Alert>",
        "</SyncBody></SyncML>"
    );
    let encoded = run_tool(
        "xml2wbxml",
        &["-k", "-n", "-o", "-", "-"],
        xml_doc.as_bytes(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let msg = wbxml::decode(&encoded).unwrap_or_else(|e| panic!("{e}"));
    let data: Vec<_> = msg
        .body
        .commands
        .iter()
        .map(|c| c.items()[0].data.clone())
        .collect();
    assert_eq!(
        data,
        [
            Some(Data::Opaque(b"l1\r\nl2\r\r\nl3".to_vec())),
            Some(Data::Text("p\nq".into()))
        ]
    );
}

#[test]
fn text_libwbxml_sends_as_opaque_is_written_to_xml_as_text() {
    if !tools_available() {
        return;
    }
    // xml2wbxml writes this Replace's Data as OPAQUE; our XML (and `dmsim decode`) shows its text,
    // not base64, and reading that XML gives the same bytes back.
    let xml_doc = concat!(
        r#"<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto>"#,
        "<SessionID>1</SessionID><MsgID>1</MsgID><Target><LocURI>s</LocURI></Target>",
        "<Source><LocURI>d</LocURI></Source></SyncHdr><SyncBody>",
        "<Replace><CmdID>1</CmdID><Item><Data>FW-1.2 &lt;beta&gt;</Data></Item></Replace>",
        "</SyncBody></SyncML>"
    );
    let encoded = run_tool(
        "xml2wbxml",
        &["-k", "-n", "-o", "-", "-"],
        xml_doc.as_bytes(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let msg = wbxml::decode(&encoded).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        msg.body.commands[0].items()[0].data,
        Some(Data::Opaque(b"FW-1.2 <beta>".to_vec()))
    );
    let pretty = xml::encode_pretty(&msg);
    assert!(
        pretty.contains("<Data>FW-1.2 &lt;beta&gt;</Data>"),
        "{pretty}"
    );
    let back = xml::decode(pretty.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        back.body.commands[0].items()[0].data,
        Some(Data::Text("FW-1.2 <beta>".into()))
    );
}
