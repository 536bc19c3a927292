//! The client session without sockets: server messages are built by hand and fed to the state
//! machine, and the client messages it answers with are decoded and checked.

use super::*;
use crate::device::Device;
use crate::protocol::http::HttpResponse;
use crate::scenario::build_device;
use crate::scenario::load::parse;
use crate::syncml::auth::{self, AuthType, HmacHeader, Secret, MAX_AUTH_ATTEMPTS};
use crate::syncml::{
    xml, Alert, AlertCode, CmdName, Command, Encoding, Exec, Get, Item, Location, Status,
    StatusCode, SyncBody, SyncHdr, SyncMl, VER_DTD, VER_PROTO,
};
use std::path::Path;

const SERVER: &str = "https://dm.dmsim.test/dm";

fn device(extra: &str) -> Device {
    let text = format!("name = \"t\"\n{extra}");
    let scenario = parse(Path::new("t.toml"), &text).expect("valid scenario");
    build_device(&scenario.file).expect("device")
}

fn start(device: &mut Device) -> (ClientSession, SyncMl, Outgoing) {
    let (session, out) = ClientSession::start(device, SessionStart::default()).expect("account");
    let msg = xml::decode(&out.request.body).expect("client message decodes");
    (session, msg, out)
}

fn hdr_status(client: &SyncMl, code: StatusCode) -> Command {
    Command::Status(Status {
        cmd_id: "1".into(),
        msg_ref: client.hdr.msg_id.clone(),
        cmd_ref: "0".into(),
        cmd: CmdName::SyncHdr,
        target_refs: vec![SERVER.into()],
        source_refs: vec![client.hdr.source.loc_uri.clone()],
        cred: None,
        chal: None,
        code,
        items: Vec::new(),
    })
}

fn server_msg(client: &SyncMl, msg_id: &str, commands: Vec<Command>, final_flag: bool) -> SyncMl {
    SyncMl {
        hdr: SyncHdr {
            ver_dtd: VER_DTD.into(),
            ver_proto: VER_PROTO.into(),
            session_id: client.hdr.session_id.clone(),
            msg_id: msg_id.into(),
            target: Location::uri(client.hdr.source.loc_uri.clone()),
            source: Location::uri(SERVER),
            resp_uri: None,
            no_resp: false,
            cred: None,
            meta: None,
        },
        body: SyncBody {
            commands,
            final_flag,
        },
    }
}

fn response(msg: &SyncMl) -> HttpResponse {
    HttpResponse {
        status: 200,
        content_type: crate::syncml::CONTENT_TYPE_XML.into(),
        hmac: None,
        body: xml::encode(msg),
    }
}

fn get(id: &str, uri: &str) -> Command {
    Command::Get(Get {
        cmd_id: id.into(),
        items: vec![Item {
            target: Some(Location::uri(uri)),
            ..Item::default()
        }],
        ..Get::default()
    })
}

fn sent(step: Step) -> (SyncMl, Outgoing) {
    match step {
        Step::Send(out) => (
            crate::syncml::decode(&out.request.body).expect("decodes"),
            out,
        ),
        other => panic!("expected a message to send, got {other:?}"),
    }
}

fn statuses(msg: &SyncMl) -> Vec<(CmdName, u16)> {
    msg.body
        .commands
        .iter()
        .filter_map(|c| match c {
            Command::Status(s) => Some((s.cmd.clone(), s.code.code())),
            _ => None,
        })
        .collect()
}

#[test]
fn package1_has_alert_1201_devinfo_credentials_and_final() {
    let mut d = device("[device.auth]\ntype = \"basic\"\nname = \"u\"\nsecret = \"p\"\n");
    let (session, msg, out) = start(&mut d);
    assert_eq!(out.request.url, SERVER);
    assert_eq!(msg.hdr.session_id, session.session_id());
    assert_eq!(msg.hdr.msg_id, "1");
    assert_eq!(msg.hdr.source.loc_uri, "IMEI:356938035643809");
    assert_eq!(
        msg.hdr.cred.as_ref().map(|c| c.data.as_str()),
        Some(auth::basic("u", "p").as_str())
    );
    assert!(
        matches!(&msg.body.commands[0], Command::Alert(a) if a.code == AlertCode::ClientInitiatedMgmt)
    );
    let Command::Replace(devinfo) = &msg.body.commands[1] else {
        panic!("no DevInfo Replace")
    };
    let uris: Vec<_> = devinfo.items.iter().filter_map(Item::source_uri).collect();
    assert_eq!(
        uris[..5],
        [
            "./DevInfo/DevId",
            "./DevInfo/Man",
            "./DevInfo/Mod",
            "./DevInfo/DmV",
            "./DevInfo/Lang"
        ]
    );
    assert!(msg.body.final_flag);
    let meta = msg.hdr.meta.as_ref().expect("size limits announced");
    assert_eq!(meta.max_msg_size, Some(16 * 1024));
}

#[test]
fn a_212_stops_credentials_and_commands_are_answered_with_status_then_results() {
    let mut d = device("[device.auth]\ntype = \"basic\"\nname = \"u\"\nsecret = \"p\"\n");
    let (mut session, pkg1, _) = start(&mut d);
    let pkg2 = server_msg(
        &pkg1,
        "1",
        vec![
            hdr_status(&pkg1, StatusCode::AuthAccepted),
            get("2", "./DevInfo/Mod"),
        ],
        true,
    );
    let (pkg3, _) = sent(session.receive(&mut d, &response(&pkg2)));
    assert!(pkg3.hdr.cred.is_none(), "no credentials after 212");
    assert_eq!(pkg3.hdr.msg_id, "2");
    assert_eq!(
        statuses(&pkg3),
        [(CmdName::SyncHdr, 200), (CmdName::Get, 200)]
    );
    let Some(Command::Results(r)) = pkg3.body.commands.get(2) else {
        panic!("Results after the Status")
    };
    assert_eq!((r.cmd_ref.as_str(), r.msg_ref.as_deref()), ("2", Some("1")));
    assert_eq!(r.items[0].data_text().as_deref(), Some("SIM-1"));
    let pkg4 = server_msg(&pkg3, "2", vec![hdr_status(&pkg3, StatusCode::Ok)], true);
    assert_eq!(
        session.receive(&mut d, &response(&pkg4)),
        Step::Done(SessionEnd::Completed)
    );
    assert!(session.violations().is_empty());
}

#[test]
fn a_challenge_restarts_package1_with_the_new_nonce_until_the_device_gives_up() {
    let mut d =
        device("[device.auth]\ntype = \"md5\"\nname = \"u\"\nsecret = \"p\"\nnonce = \"old\"\n");
    let (mut session, mut client, _) = start(&mut d);
    for attempt in 1..=MAX_AUTH_ATTEMPTS {
        let nonce = format!("nonce-{attempt}");
        let Command::Status(mut s) = hdr_status(&client, StatusCode::InvalidCredentials) else {
            unreachable!()
        };
        s.chal = Some(auth::challenge(AuthType::Md5, nonce.as_bytes()));
        let reply = server_msg(
            &client,
            &attempt.to_string(),
            vec![Command::Status(s)],
            true,
        );
        let step = session.receive(&mut d, &response(&reply));
        if attempt == MAX_AUTH_ATTEMPTS {
            assert_eq!(
                step,
                Step::Done(SessionEnd::AuthFailed {
                    code: StatusCode::InvalidCredentials
                })
            );
            break;
        }
        let (next, _) = sent(step);
        assert_eq!(next.hdr.session_id, client.hdr.session_id);
        assert_eq!(next.hdr.msg_id, (attempt + 1).to_string());
        let cred = next.hdr.cred.as_ref().expect("credentials again");
        assert_eq!(cred.data, auth::md5_digest("u", "p", nonce.as_bytes()));
        // The Status every message owes the server's SyncHdr (DM Protocol §2.4.1), then Package 1.
        assert!(
            matches!(&next.body.commands[0], Command::Status(s) if s.cmd == CmdName::SyncHdr && s.msg_ref == reply.hdr.msg_id)
        );
        assert!(
            matches!(&next.body.commands[1], Command::Alert(a) if a.code == AlertCode::ClientInitiatedMgmt)
        );
        client = next;
    }
}

#[test]
fn hmac_signs_the_exact_body_of_every_message() {
    let mut d =
        device("[device.auth]\ntype = \"hmac\"\nname = \"u\"\nsecret = \"p\"\nnonce = \"n1\"\n");
    let (mut session, pkg1, out) = start(&mut d);
    assert!(pkg1.hdr.cred.is_none(), "HMAC never goes in Cred");
    let header = HmacHeader::parse(out.request.hmac.as_deref().expect("header")).expect("parses");
    auth::check_hmac(&header, &Secret::new("u", "p"), b"n1", &out.request.body).expect("valid MAC");
    let Command::Status(mut s) = hdr_status(&pkg1, StatusCode::Ok) else {
        unreachable!()
    };
    s.chal = Some(auth::challenge(AuthType::Hmac, b"n2"));
    let pkg2 = server_msg(
        &pkg1,
        "1",
        vec![Command::Status(s), get("2", "./DevInfo/Lang")],
        true,
    );
    let (_, out) = sent(session.receive(&mut d, &response(&pkg2)));
    let header = HmacHeader::parse(out.request.hmac.as_deref().expect("header")).expect("parses");
    auth::check_hmac(&header, &Secret::new("u", "p"), b"n2", &out.request.body)
        .expect("MAC on the new nonce");
}

#[test]
fn resp_uri_is_followed_and_a_message_without_final_asks_for_the_next_one() {
    let mut d = device("");
    let (mut session, pkg1, _) = start(&mut d);
    let mut pkg2 = server_msg(
        &pkg1,
        "1",
        vec![hdr_status(&pkg1, StatusCode::Ok), get("2", "./DevInfo/Mod")],
        false,
    );
    pkg2.hdr.resp_uri = Some("https://dm.dmsim.test/dm?s=42".into());
    let (reply, out) = sent(session.receive(&mut d, &response(&pkg2)));
    assert_eq!(out.request.url, "https://dm.dmsim.test/dm?s=42");
    assert_eq!(reply.hdr.target.loc_uri, "https://dm.dmsim.test/dm?s=42");
    assert!(
        !reply.body.final_flag,
        "no Final before the server's package is complete"
    );
    assert!(
        matches!(reply.body.commands.last(), Some(Command::Alert(a)) if a.code == AlertCode::NextMessage)
    );
}

#[test]
fn broken_server_messages_end_the_session_with_a_reason() {
    let mut d = device("");
    let (mut session, pkg1, _) = start(&mut d);
    let garbage = HttpResponse {
        body: b"<SyncML><SyncHdr>".to_vec(),
        ..response(&pkg1)
    };
    assert!(
        matches!(session.receive(&mut d, &garbage), Step::Done(SessionEnd::Failed { reason }) if reason.contains("undecodable"))
    );

    let (mut session, pkg1, _) = start(&mut d);
    let mut other = server_msg(&pkg1, "1", vec![hdr_status(&pkg1, StatusCode::Ok)], true);
    other.hdr.session_id = "999".into();
    assert!(
        matches!(session.receive(&mut d, &response(&other)), Step::Done(SessionEnd::Failed { reason }) if reason.contains("999"))
    );
}

#[test]
fn protocol_slips_are_recorded_as_violations() {
    let mut d = device("");
    let (mut session, pkg1, _) = start(&mut d);
    let pkg2 = server_msg(&pkg1, "1", vec![get("1", "./DevInfo/Mod")], true);
    let _ = sent(session.receive(&mut d, &response(&pkg2)));
    assert_eq!(session.violations().len(), 1);
    let v = &session.violations()[0];
    assert_eq!(v.rule, ServerRule::MissingHdrStatus);
    assert_eq!((v.message, v.msg_id.as_str()), (1, "1"));
    assert!(
        v.detail.contains("no Status for the device's SyncHdr"),
        "{v}"
    );
    assert_eq!(v.excerpt, "<SyncBody><Get>…</Get><Final/></SyncBody>");
}

#[test]
fn the_server_abort_ends_without_an_answer_and_no_resp_suppresses_the_status() {
    let mut d = device("[[device.node]]\nuri = \"./Vendor/Op\"\nformat = \"node\"\naccess = [\"Exec\", \"Get\"]\nacl = \"Exec=*\"\n");
    let (mut session, pkg1, _) = start(&mut d);
    let exec = Command::Exec(Exec {
        cmd_id: "2".into(),
        no_resp: true,
        items: vec![Item {
            target: Some(Location::uri("./Vendor/Op")),
            ..Item::default()
        }],
        ..Exec::default()
    });
    let pkg2 = server_msg(
        &pkg1,
        "1",
        vec![hdr_status(&pkg1, StatusCode::Ok), exec],
        true,
    );
    let (pkg3, _) = sent(session.receive(&mut d, &response(&pkg2)));
    assert_eq!(statuses(&pkg3), [(CmdName::SyncHdr, 200)]);
    assert_eq!(d.records.execs.len(), 1, "executed even without a Status");
    let abort = Command::Alert(Alert {
        cmd_id: "2".into(),
        no_resp: false,
        cred: None,
        code: AlertCode::SessionAbort,
        correlator: None,
        items: Vec::new(),
    });
    let pkg4 = server_msg(
        &pkg3,
        "2",
        vec![hdr_status(&pkg3, StatusCode::Ok), abort],
        true,
    );
    assert_eq!(
        session.receive(&mut d, &response(&pkg4)),
        Step::Done(SessionEnd::AbortedByServer)
    );
}

#[test]
fn a_device_without_an_account_cannot_start() {
    let mut d = device("");
    let start = SessionStart {
        server_id: Some("nobody".into()),
        ..SessionStart::default()
    };
    assert_eq!(
        ClientSession::start(&mut d, start).err(),
        Some(StartError::NoAccount(Some("nobody".into())))
    );
}

#[tokio::test(start_paused = true)]
async fn user_waits_pass_in_simulated_time() {
    use crate::inproc::InProcess;
    use crate::scenario::server_config;
    use crate::server::MockServer;
    let text = r#"
name = "t"
[device.ui]
answers = ["timeout"]
[[server.package]]
[[server.package.command]]
cmd = "alert"
code = 1101
options = "MAXDT=300"
text = "Reboot now?"
"#;
    let scenario = parse(Path::new("t.toml"), text).expect("valid");
    let mut d = build_device(&scenario.file).expect("device");
    let server = std::sync::Arc::new(MockServer::new(server_config(&scenario.file)));
    let transport = InProcess::new(server);
    let (clock, started) = (d.clock, tokio::time::Instant::now());
    let report = run_session(&transport, &mut d, SessionStart::default(), false).await;
    assert_eq!(report.end, SessionEnd::Completed);
    assert_eq!(d.clock - clock, 300, "the device's clock moved by MAXDT");
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(300),
        "tokio time moved too"
    );
}

/// A server reply in `encoding`, labelled `content_type`.
fn labelled(msg: &SyncMl, encoding: Encoding, content_type: &str) -> HttpResponse {
    HttpResponse {
        status: 200,
        content_type: content_type.into(),
        hmac: None,
        body: encoding.encode(msg),
    }
}

#[test]
fn a_wbxml_device_sends_wbxml_labelled_and_signed_as_sent() {
    let mut d = device(
        "[device]\nencoding = \"wbxml\"\n[device.auth]\ntype = \"hmac\"\nname = \"u\"\nsecret = \"p\"\nnonce = \"n0\"\n",
    );
    let (_, out) = ClientSession::start(&mut d, SessionStart::default()).expect("account");
    let request = &out.request;
    assert_eq!(request.content_type, crate::syncml::CONTENT_TYPE_WBXML);
    assert_eq!(
        &request.body[..3],
        &[0x02, 0xA4, 0x01],
        "WBXML 1.2, public id 0x1201"
    );
    let msg = crate::syncml::wbxml::decode(&request.body).expect("WBXML decodes");
    assert_eq!(msg.hdr.msg_id, "1");
    let header = HmacHeader::parse(request.hmac.as_deref().expect("HMAC header")).expect("parses");
    let secret = Secret {
        name: "u".into(),
        secret: "p".into(),
    };
    assert_eq!(
        auth::check_hmac(&header, &secret, b"n0", &request.body),
        Ok(()),
        "the MAC is over the WBXML bytes sent"
    );
}

/// A server message that announces the server's MaxMsgSize.
fn limited(mut msg: SyncMl, max: u64) -> SyncMl {
    // A server that takes large objects says so with a MaxObjSize (reference §1.3).
    msg.hdr.meta = Some(crate::syncml::Meta {
        max_msg_size: Some(max),
        max_obj_size: Some(1 << 20),
        ..crate::syncml::Meta::default()
    });
    msg
}

fn next_message(client: &SyncMl, msg_id: u32, max: u64) -> SyncMl {
    limited(
        server_msg(
            client,
            &msg_id.to_string(),
            vec![
                hdr_status(client, StatusCode::Ok),
                Command::Alert(Alert::bare(AlertCode::NextMessage)),
            ],
            false,
        ),
        max,
    )
}

/// Answer each device message without Final with "next message" until its Final: every message
/// the device sent, with its size.
fn drain_device(
    session: &mut ClientSession,
    d: &mut Device,
    first: Step,
    max: u64,
) -> Vec<(SyncMl, usize)> {
    let mut out = Vec::new();
    let mut step = first;
    for msg_id in 2.. {
        let (msg, o) = sent(step);
        let done = msg.body.final_flag;
        out.push((msg.clone(), o.request.body.len()));
        if done {
            return out;
        }
        assert!(msg_id < 200, "no progress");
        step = session.receive(d, &response(&next_message(&msg, msg_id, max)));
    }
    unreachable!()
}

#[test]
fn replies_keep_to_the_servers_max_msg_size_over_several_messages() {
    let mut d = device("");
    let (mut session, pkg1, _) = start(&mut d);
    let pkg2 = limited(
        server_msg(
            &pkg1,
            "1",
            vec![
                hdr_status(&pkg1, StatusCode::Ok),
                get("2", "./DevInfo?list=StructData"),
                get("3", "./DevDetail?list=StructData"),
                get("4", "./DevInfo/Mod"),
            ],
            true,
        ),
        1000,
    );
    let first = session.receive(&mut d, &response(&pkg2));
    let sent = drain_device(&mut session, &mut d, first, 1000);
    assert!(sent.len() > 3, "split over {} messages", sent.len());
    for (msg, size) in &sent {
        assert!(*size <= 1000, "message {} is {size} bytes", msg.hdr.msg_id);
    }
    let results: Vec<&Item> = sent
        .iter()
        .flat_map(|(m, _)| &m.body.commands)
        .filter(|c| matches!(c, Command::Results(_)))
        .flat_map(|c| c.items())
        .collect();
    assert!(results
        .iter()
        .any(|i| i.source_uri() == Some("./DevDetail/URI/MaxSegLen")));
    assert_eq!(
        results.last().and_then(|i| i.data_text()).as_deref(),
        Some("SIM-1")
    );
    assert!(session.violations().is_empty());
}

#[test]
fn a_value_larger_than_a_message_goes_in_chunks_within_the_limit() {
    let value = "0123456789".repeat(500);
    let mut d = device(&format!(
        "[[device.node]]\nuri = \"./Vendor\"\nformat = \"node\"\nacl = \"Get=*\"\n\
         [[device.node]]\nuri = \"./Vendor/Log\"\nvalue = \"{value}\"\n"
    ));
    for encoding in [crate::syncml::Encoding::Xml, crate::syncml::Encoding::Wbxml] {
        d.encoding = encoding;
        let (mut session, pkg1, _) = start_any(&mut d);
        let pkg2 = limited(
            server_msg(
                &pkg1,
                "1",
                vec![hdr_status(&pkg1, StatusCode::Ok), get("2", "./Vendor/Log")],
                true,
            ),
            1200,
        );
        let first = session.receive(&mut d, &response(&pkg2));
        let sent = drain_device(&mut session, &mut d, first, 1200);
        assert!(sent.iter().all(|(_, size)| *size <= 1200), "{encoding:?}");
        let chunks: Vec<&Item> = sent
            .iter()
            .flat_map(|(m, _)| &m.body.commands)
            .filter(|c| matches!(c, Command::Results(_)))
            .flat_map(|c| c.items())
            .collect();
        assert!(chunks.len() > 3, "{encoding:?}: {} chunks", chunks.len());
        assert_eq!(
            chunks[0].meta.as_ref().and_then(|m| m.size),
            Some(5000),
            "the total size in the first chunk"
        );
        let (last, rest) = chunks.split_last().expect("chunks");
        assert!(rest.iter().all(|i| i.more_data) && !last.more_data);
        let joined: String = chunks.iter().filter_map(|i| i.data_text()).collect();
        assert_eq!(joined, value);
    }
}

/// Package 1 of a device in any encoding, decoded.
fn start_any(device: &mut Device) -> (ClientSession, SyncMl, Outgoing) {
    let (session, out) = ClientSession::start(device, SessionStart::default()).expect("account");
    let msg = crate::syncml::decode(&out.request.body).expect("client message decodes");
    (session, msg, out)
}

#[test]
fn package1_sent_again_after_a_challenge_keeps_to_the_announced_limit() {
    let mut d = device(
        "[device.auth]\ntype = \"md5\"\nname = \"u\"\nsecret = \"p\"\nnonce = \"old\"\n\
         [[device.generic_alert]]\nsource = \"./Vendor/Battery\"\ntype = \"com.dmsim.battery.low\"\n\
         data = \"4\"\n",
    );
    let (mut session, pkg1, out) = start(&mut d);
    assert!(
        out.request.body.len() > 1200,
        "Package 1 goes whole at first"
    );
    let Command::Status(mut s) = hdr_status(&pkg1, StatusCode::InvalidCredentials) else {
        unreachable!()
    };
    s.chal = Some(auth::challenge(AuthType::Md5, b"fresh"));
    let challenge = limited(server_msg(&pkg1, "1", vec![Command::Status(s)], true), 1200);
    let first = session.receive(&mut d, &response(&challenge));
    let again = drain_device(&mut session, &mut d, first, 1200);
    assert!(again.len() > 1, "Package 1 spans messages now");
    assert!(again.iter().all(|(_, size)| *size <= 1200));
    let commands: Vec<&Command> = again.iter().flat_map(|(m, _)| &m.body.commands).collect();
    assert!(matches!(commands[0], Command::Status(s) if s.cmd == CmdName::SyncHdr));
    assert!(matches!(commands[1], Command::Alert(a) if a.code == AlertCode::ClientInitiatedMgmt));
    let devinfo: usize = commands
        .iter()
        .filter(|c| matches!(c, Command::Replace(_)))
        .map(|c| c.items().len())
        .sum();
    assert_eq!(devinfo, crate::tree::devinfo_items(&d.tree).len());
    // The report is acknowledged by the Status that names the message and command it went in.
    let (report_msg, report) = again
        .iter()
        .find_map(|(m, _)| {
            m.body
                .commands
                .iter()
                .find(|c| matches!(c, Command::Alert(a) if a.code == AlertCode::GenericAlert))
                .map(|c| (m, c))
        })
        .expect("the report went again");
    let (last, _) = again.last().expect("messages");
    let ack = Command::Status(Status::for_command(
        &report_msg.hdr.msg_id,
        report,
        StatusCode::Ok,
    ));
    let close = limited(
        server_msg(
            last,
            "9",
            vec![hdr_status(last, StatusCode::AuthAccepted), ack],
            true,
        ),
        1200,
    );
    assert_eq!(
        session.receive(&mut d, &response(&close)),
        Step::Done(SessionEnd::Completed)
    );
    assert!(d.reports.pending().is_empty(), "acknowledged");
}

#[test]
fn a_reply_that_cannot_fit_ends_the_session_with_an_abort_that_does() {
    let mut d = device("");
    let (mut session, pkg1, _) = start(&mut d);
    // The Status for this Get names its long target, and a Status cannot be cut.
    let long = format!("./Vendor/{}", "x".repeat(400));
    let pkg2 = limited(
        server_msg(
            &pkg1,
            "1",
            vec![hdr_status(&pkg1, StatusCode::Ok), get("2", &long)],
            true,
        ),
        900,
    );
    let Step::SendAndEnd(out, SessionEnd::AbortedByDevice { reason }) =
        session.receive(&mut d, &response(&pkg2))
    else {
        panic!("expected an abort")
    };
    assert!(reason.contains("MaxMsgSize"), "{reason}");
    assert!(out.request.body.len() <= 900);
    let abort = xml::decode(&out.request.body).expect("decodes");
    assert!(abort.body.final_flag);
    assert!(
        matches!(abort.body.commands.last(), Some(Command::Alert(a)) if a.code == AlertCode::SessionAbort)
    );
    assert_eq!(statuses(&abort), [(CmdName::SyncHdr, 200)]);
}

#[test]
fn when_not_even_an_abort_fits_nothing_is_sent() {
    let mut d = device("");
    let (mut session, pkg1, _) = start(&mut d);
    let pkg2 = limited(
        server_msg(
            &pkg1,
            "1",
            vec![hdr_status(&pkg1, StatusCode::Ok), get("2", "./DevInfo/Mod")],
            true,
        ),
        300,
    );
    let step = session.receive(&mut d, &response(&pkg2));
    assert!(
        matches!(&step, Step::Done(SessionEnd::Failed { reason }) if reason.contains("not even Alert 1223 fits")),
        "{step:?}"
    );
    // And a reply with nothing queued but the Status for the server's SyncHdr.
    let (mut session, pkg1, _) = start(&mut d);
    let pkg2 = limited(
        server_msg(&pkg1, "1", vec![hdr_status(&pkg1, StatusCode::Ok)], false),
        300,
    );
    let step = session.receive(&mut d, &response(&pkg2));
    assert!(
        matches!(&step, Step::Done(SessionEnd::Failed { reason }) if reason.contains("smallest message")),
        "{step:?}"
    );
}

#[test]
fn replies_are_read_by_their_content_type() {
    let wbxml_device = "[device]\nencoding = \"wbxml\"\n";
    let reply = |pkg1: &SyncMl| server_msg(pkg1, "1", vec![hdr_status(pkg1, StatusCode::Ok)], true);
    let wbxml_pkg1 = |out: &Outgoing| {
        crate::syncml::wbxml::decode(&out.request.body).expect("the device speaks WBXML")
    };

    // In its own encoding and labelled so: no violation.
    let mut d = device(wbxml_device);
    let (mut session, out) = ClientSession::start(&mut d, SessionStart::default()).expect("start");
    let pkg1 = wbxml_pkg1(&out);
    let ok = labelled(
        &reply(&pkg1),
        Encoding::Wbxml,
        "application/vnd.syncml.dm+wbxml",
    );
    assert_eq!(
        session.receive(&mut d, &ok),
        Step::Done(SessionEnd::Completed)
    );
    assert!(
        session.violations().is_empty(),
        "{:?}",
        session.violations()
    );

    // In the other encoding, rightly labelled: read, and recorded.
    let (mut session, out) = ClientSession::start(&mut d, SessionStart::default()).expect("start");
    let pkg1 = wbxml_pkg1(&out);
    let xml_reply = labelled(
        &reply(&pkg1),
        Encoding::Xml,
        "application/vnd.syncml.dm+xml",
    );
    assert_eq!(
        session.receive(&mut d, &xml_reply),
        Step::Done(SessionEnd::Completed)
    );
    assert_eq!(session.violations().len(), 1, "{:?}", session.violations());
    let v = &session.violations()[0];
    assert_eq!(v.rule, ServerRule::OtherEncoding);
    assert!(
        v.detail
            .contains("answered in XML to a device that speaks WBXML"),
        "{v}"
    );
    assert_eq!(v.excerpt, "Content-Type: application/vnd.syncml.dm+xml");

    // Without a Content-Type: read by its bytes, and recorded.
    let (mut session, out) = ClientSession::start(&mut d, SessionStart::default()).expect("start");
    let pkg1 = wbxml_pkg1(&out);
    let unlabelled = labelled(&reply(&pkg1), Encoding::Wbxml, "");
    assert_eq!(
        session.receive(&mut d, &unlabelled),
        Step::Done(SessionEnd::Completed)
    );
    let rules: Vec<(ServerRule, &str)> = session
        .violations()
        .iter()
        .map(|v| (v.rule, v.excerpt.as_str()))
        .collect();
    assert_eq!(
        rules,
        [(ServerRule::MissingContentType, "Content-Type: (none)")]
    );
    assert!(
        session.violations()[0]
            .detail
            .starts_with("the server's message has no Content-Type (read as WBXML by its bytes)"),
        "{:?}",
        session.violations()
    );

    // WBXML labelled XML, or a type that is not SyncML: not read, the session ends.
    let (mut session, out) = ClientSession::start(&mut d, SessionStart::default()).expect("start");
    let pkg1 = wbxml_pkg1(&out);
    let mislabelled = labelled(
        &reply(&pkg1),
        Encoding::Wbxml,
        "application/vnd.syncml.dm+xml",
    );
    match session.receive(&mut d, &mislabelled) {
        Step::Done(SessionEnd::Failed { reason }) => assert!(
            reason.contains("the body is WBXML, but its content type"),
            "{reason}"
        ),
        other => panic!("expected a failed session, got {other:?}"),
    }
    let (mut session, out) = ClientSession::start(&mut d, SessionStart::default()).expect("start");
    let pkg1 = wbxml_pkg1(&out);
    let html = labelled(&reply(&pkg1), Encoding::Wbxml, "text/html");
    match session.receive(&mut d, &html) {
        Step::Done(SessionEnd::Failed { reason }) => {
            assert!(
                reason.contains("\"text/html\", not a SyncML DM message"),
                "{reason}"
            )
        }
        other => panic!("expected a failed session, got {other:?}"),
    }
}

#[test]
fn a_server_message_over_the_devices_max_msg_size_is_a_violation_but_is_answered() {
    let mut d = device("[device]\nmax_msg_size = 600\n");
    let (mut session, pkg1, _) = start(&mut d);
    let pkg2 = server_msg(
        &pkg1,
        "1",
        (2..12)
            .map(|n| get(&n.to_string(), "./DevInfo/Mod"))
            .chain([hdr_status(&pkg1, StatusCode::Ok)])
            .collect(),
        true,
    );
    let (reply, _) = sent(session.receive(&mut d, &response(&pkg2)));
    assert_eq!(statuses(&reply).len(), 11, "every command answered");
    assert_eq!(session.violations().len(), 1);
    let v = &session.violations()[0];
    assert_eq!(v.rule, ServerRule::MaxMsgSize);
    assert!(
        v.detail
            .contains("over the MaxMsgSize of 600 the device announced"),
        "{v}"
    );
    assert_eq!(v.excerpt, format!("{} bytes", response(&pkg2).body.len()));
}

// ---------------------------------------------------------------------------------------------
// Server deviations: recorded with their rule and excerpt, while the session goes on as before.
// ---------------------------------------------------------------------------------------------

/// A server deviation built by hand: what changes in the message model, then in its bytes.
struct Deviation {
    name: &'static str,
    encoding: Encoding,
    /// The change to Package 2 as a message.
    model: fn(&mut SyncMl),
    /// The change to its bytes as encoded.
    bytes: fn(Vec<u8>) -> Vec<u8>,
    /// What the device records: (rule, excerpt).
    expect: &'static [(ServerRule, &'static str)],
}

fn no_change(_: &mut SyncMl) {}

fn same(bytes: Vec<u8>) -> Vec<u8> {
    bytes
}

/// `bytes` with the first `from` replaced by `to`.
fn splice(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let at = bytes
        .windows(from.len())
        .position(|w| w == from)
        .unwrap_or_else(|| panic!("{from:02X?} not in {bytes:02X?}"));
    [&bytes[..at], to, &bytes[at + from.len()..]].concat()
}

fn text_splice(bytes: Vec<u8>, from: &str, to: &str) -> Vec<u8> {
    splice(&bytes, from.as_bytes(), to.as_bytes())
}

/// The device's Package 1 in its encoding.
fn start_in(device: &mut Device) -> (ClientSession, SyncMl) {
    let (session, out) = ClientSession::start(device, SessionStart::default()).expect("account");
    let msg = device.encoding.decode(&out.request.body).expect("decodes");
    (session, msg)
}

/// Package 2: the SyncHdr Status and a Get (the device answers with a Status and Results).
fn package2(pkg1: &SyncMl) -> SyncMl {
    server_msg(
        pkg1,
        "1",
        vec![hdr_status(pkg1, StatusCode::Ok), get("2", "./DevInfo/Mod")],
        true,
    )
}

/// The device's answer to `bytes` (in its encoding), and after it the answer to a closing
/// message: the statuses of its reply, and the violations of the session.
fn run_deviation(d: &mut Device, deviation: &Deviation) -> (Vec<(CmdName, u16)>, Vec<Violation>) {
    let (mut session, pkg1) = start_in(d);
    let mut pkg2 = package2(&pkg1);
    (deviation.model)(&mut pkg2);
    let bytes = (deviation.bytes)(d.encoding.encode(&pkg2));
    let reply = labelled_bytes(d.encoding, bytes);
    let Step::Send(out) = session.receive(d, &reply) else {
        panic!("{}: the device stopped", deviation.name)
    };
    let pkg3 = d.encoding.decode(&out.request.body).expect("decodes");
    let next = pkg2.hdr.msg_id.trim().parse::<u32>().unwrap_or(1) + 1;
    let close = server_msg(
        &pkg3,
        &next.to_string(),
        vec![hdr_status(&pkg3, StatusCode::Ok)],
        true,
    );
    assert_eq!(
        session.receive(d, &labelled_bytes(d.encoding, d.encoding.encode(&close))),
        Step::Done(SessionEnd::Completed),
        "{}",
        deviation.name
    );
    (statuses(&pkg3), session.violations().to_vec())
}

fn labelled_bytes(encoding: Encoding, body: Vec<u8>) -> HttpResponse {
    HttpResponse {
        status: 200,
        content_type: encoding.content_type().into(),
        hmac: None,
        body,
    }
}

fn wbxml_device() -> Device {
    device("[device]\nencoding = \"wbxml\"\n")
}

#[test]
fn each_server_deviation_is_recorded_with_its_rule_and_excerpt_and_the_session_goes_on() {
    // WBXML tokens of the SyncHdr Status the encoder writes: CmdRef 0, Data 200.
    const WBXML_CMD_REF_0: &[u8] = &[0x4C, 0x03, b'0', 0x00, 0x01];
    const WBXML_DATA_200: &[u8] = &[0x4F, 0x03, b'2', b'0', b'0', 0x00, 0x01];
    let deviations = [
        Deviation {
            name: "a CmdID twice",
            encoding: Encoding::Xml,
            model: |m| *m.body.commands[1].cmd_id_mut() = "1".into(),
            bytes: same,
            expect: &[(ServerRule::DuplicateCmdId, "<Get><CmdID>1</CmdID>…")],
        },
        Deviation {
            name: "a CmdID twice, in WBXML",
            encoding: Encoding::Wbxml,
            model: |m| *m.body.commands[1].cmd_id_mut() = "1".into(),
            bytes: same,
            expect: &[(ServerRule::DuplicateCmdId, "<Get><CmdID>1</CmdID>…")],
        },
        Deviation {
            name: "CmdID 0, the SyncHdr's",
            encoding: Encoding::Xml,
            model: |m| *m.body.commands[1].cmd_id_mut() = "0".into(),
            bytes: same,
            expect: &[(ServerRule::DuplicateCmdId, "<Get><CmdID>0</CmdID>…")],
        },
        Deviation {
            name: "the first server MsgID is not 1",
            encoding: Encoding::Xml,
            model: |m| m.hdr.msg_id = "2".into(),
            bytes: same,
            expect: &[(ServerRule::MsgIdSequence, "<MsgID>2</MsgID>")],
        },
        Deviation {
            name: "Data before CmdRef in the SyncHdr Status",
            encoding: Encoding::Xml,
            model: no_change,
            bytes: |b| {
                let b = text_splice(b, "<Data>200</Data>", "");
                text_splice(
                    b,
                    "<CmdRef>0</CmdRef>",
                    "<Data>200</Data><CmdRef>0</CmdRef>",
                )
            },
            expect: &[(ServerRule::ElementOrder, "<CmdRef>0</CmdRef>")],
        },
        Deviation {
            name: "Data before CmdRef in the SyncHdr Status, in WBXML",
            encoding: Encoding::Wbxml,
            model: no_change,
            bytes: |b| {
                let b = splice(&b, WBXML_DATA_200, &[]);
                splice(
                    &b,
                    WBXML_CMD_REF_0,
                    &[WBXML_DATA_200, WBXML_CMD_REF_0].concat(),
                )
            },
            expect: &[(ServerRule::ElementOrder, "<CmdRef>0</CmdRef>")],
        },
        Deviation {
            name: "the SyncML 1.1 namespace",
            encoding: Encoding::Xml,
            model: no_change,
            bytes: |b| text_splice(b, "SYNCML:SYNCML1.2", "SYNCML:SYNCML1.1"),
            expect: &[(ServerRule::Namespace, "<SyncML xmlns=\"SYNCML:SYNCML1.1\">")],
        },
        Deviation {
            name: "MetInf outside syncml:metinf",
            encoding: Encoding::Xml,
            model: |m| {
                m.hdr.meta = Some(crate::syncml::Meta {
                    max_msg_size: Some(16_000),
                    ..crate::syncml::Meta::default()
                })
            },
            bytes: |b| text_splice(b, " xmlns=\"syncml:metinf\"", ""),
            expect: &[(ServerRule::Namespace, "<MaxMsgSize>16000</MaxMsgSize>")],
        },
        Deviation {
            name: "the SyncML 1.1 public id, in WBXML",
            encoding: Encoding::Wbxml,
            model: no_change,
            bytes: |b| splice(&b, &[0x02, 0xA4, 0x01], &[0x02, 0x9F, 0x53]),
            expect: &[(ServerRule::Namespace, "02 9F 53 6A 00")],
        },
        Deviation {
            name: "a wrong MsgRef",
            encoding: Encoding::Xml,
            model: |m| {
                if let Command::Status(s) = &mut m.body.commands[0] {
                    s.msg_ref = "7".into();
                }
            },
            bytes: same,
            expect: &[(ServerRule::MsgRef, "<MsgRef>7</MsgRef>")],
        },
        Deviation {
            name: "several at once, in document order after the message's own",
            encoding: Encoding::Xml,
            model: |m| {
                m.hdr.msg_id = "5".into();
                *m.body.commands[1].cmd_id_mut() = "1".into();
            },
            bytes: |b| text_splice(b, "SYNCML:SYNCML1.2", "urn:x"),
            expect: &[
                (ServerRule::Namespace, "<SyncML xmlns=\"urn:x\">"),
                (ServerRule::MsgIdSequence, "<MsgID>5</MsgID>"),
                (ServerRule::DuplicateCmdId, "<Get><CmdID>1</CmdID>…"),
            ],
        },
    ];
    for deviation in &deviations {
        let mut d = match deviation.encoding {
            Encoding::Xml => device(""),
            Encoding::Wbxml => wbxml_device(),
        };
        let clean = Deviation {
            name: "clean",
            model: no_change,
            bytes: same,
            expect: &[],
            ..*deviation
        };
        let (answered, violations) = run_deviation(&mut d, &clean);
        assert_eq!(violations, [], "{}", deviation.name);
        assert_eq!(
            answered,
            [(CmdName::SyncHdr, 200), (CmdName::Get, 200)],
            "{}",
            deviation.name
        );
        let (answered_now, violations) = run_deviation(&mut d, deviation);
        assert_eq!(
            answered_now, answered,
            "{}: answered as before",
            deviation.name
        );
        let found: Vec<(ServerRule, &str)> = violations
            .iter()
            .map(|v| (v.rule, v.excerpt.as_str()))
            .collect();
        assert_eq!(
            found, deviation.expect,
            "{}: {violations:#?}",
            deviation.name
        );
        assert!(
            violations.iter().all(|v| v.message == 1),
            "{}: read in the first server message: {violations:?}",
            deviation.name
        );
    }
}

#[test]
fn violations_read_like_their_rule() {
    let mut d = device("");
    let deviation = Deviation {
        name: "Data before CmdRef",
        encoding: Encoding::Xml,
        model: |m| *m.body.commands[1].cmd_id_mut() = "1".into(),
        bytes: |b| {
            let b = text_splice(b, "<Data>200</Data>", "");
            text_splice(
                b,
                "<CmdRef>0</CmdRef>",
                "<Data>200</Data><CmdRef>0</CmdRef>",
            )
        },
        expect: &[],
    };
    let (_, violations) = run_deviation(&mut d, &deviation);
    let shown: Vec<String> = violations.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "element-order (server MsgID 1): at SyncML/SyncBody/Status/CmdRef: CmdRef comes after Data in Status, whose children go in the order CmdID, MsgRef, CmdRef, Cmd, TargetRef, SourceRef, Cred, Chal, Data, Item (reference §1.2) [<CmdRef>0</CmdRef>]",
            "duplicate-cmd-id (server MsgID 1): Get has CmdID 1, as Status before it: CmdIDs are unique within a message (reference §1.5) [<Get><CmdID>1</CmdID>…]",
        ]
    );
    for rule in ServerRule::ALL {
        assert_eq!(ServerRule::from_id(rule.id()), Some(rule));
        assert_eq!(
            serde_json::to_value(rule).expect("serializes"),
            serde_json::json!(rule.id())
        );
    }
    let numbers: Vec<u16> = ServerRule::ALL.iter().map(|r| r.number()).collect();
    assert_eq!(numbers, (1..=11).collect::<Vec<u16>>(), "stable, in order");
}

#[test]
fn server_msg_ids_restart_at_1_and_count_up_by_one() {
    let mut d = device("");
    // Right: 1, 2, 3.
    let (mut session, pkg1, _) = start(&mut d);
    let mut client = pkg1;
    for id in ["1", "2"] {
        let msg = server_msg(
            &client,
            id,
            vec![
                hdr_status(&client, StatusCode::Ok),
                get("2", "./DevInfo/Mod"),
            ],
            true,
        );
        client = sent(session.receive(&mut d, &response(&msg))).0;
    }
    assert_eq!(session.violations(), []);
    // A MsgID repeated in the second message, then counting on from it: one violation.
    let (mut session, pkg1, _) = start(&mut d);
    let mut client = pkg1;
    for id in ["1", "1", "2"] {
        let msg = server_msg(
            &client,
            id,
            vec![
                hdr_status(&client, StatusCode::Ok),
                get("2", "./DevInfo/Mod"),
            ],
            true,
        );
        client = sent(session.receive(&mut d, &response(&msg))).0;
    }
    let found: Vec<(u32, ServerRule, &str)> = session
        .violations()
        .iter()
        .map(|v| (v.message, v.rule, v.detail.as_str()))
        .collect();
    assert_eq!(
        found,
        [(
            2,
            ServerRule::MsgIdSequence,
            "MsgID 1, where 2 is due: the server's last message was MsgID 1, each next one more (reference §1.3)"
        )]
    );
    // A MsgID that is not a number.
    let (mut session, pkg1, _) = start(&mut d);
    let msg = server_msg(&pkg1, "one", vec![hdr_status(&pkg1, StatusCode::Ok)], true);
    assert_eq!(
        session.receive(&mut d, &response(&msg)),
        Step::Done(SessionEnd::Completed)
    );
    assert_eq!(session.violations()[0].excerpt, "<MsgID>one</MsgID>");
}

#[test]
fn duplicate_cmd_ids_are_found_inside_atomic_and_sequence() {
    let mut d =
        device("[[device.node]]\nuri = \"./Vendor\"\nformat = \"node\"\nacl = \"Add=*&Get=*\"\n");
    let (mut session, pkg1, _) = start(&mut d);
    let atomic = Command::Atomic(crate::syncml::Container {
        cmd_id: "3".into(),
        commands: vec![get("4", "./DevInfo/Mod"), get("2", "./DevInfo/Man")],
        ..crate::syncml::Container::default()
    });
    let sequence = Command::Sequence(crate::syncml::Container {
        cmd_id: "5".into(),
        commands: vec![get("4", "./DevInfo/Lang")],
        ..crate::syncml::Container::default()
    });
    let msg = server_msg(
        &pkg1,
        "1",
        vec![
            hdr_status(&pkg1, StatusCode::Ok),
            get("2", "./DevInfo/Mod"),
            atomic,
            sequence,
        ],
        true,
    );
    let _ = sent(session.receive(&mut d, &response(&msg)));
    let found: Vec<(&str, &str)> = session
        .violations()
        .iter()
        .map(|v| (v.detail.as_str(), v.excerpt.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (
                "Get has CmdID 2, as Get before it: CmdIDs are unique within a message (reference §1.5)",
                "<Get><CmdID>2</CmdID>…"
            ),
            (
                "Get has CmdID 4, as Get before it: CmdIDs are unique within a message (reference §1.5)",
                "<Get><CmdID>4</CmdID>…"
            ),
        ]
    );
}

#[test]
fn a_challenge_without_chal_or_with_a_nonce_that_is_not_base64_is_recorded() {
    let md5 = "[device.auth]\ntype = \"md5\"\nname = \"u\"\nsecret = \"p\"\nnonce = \"old\"\n";
    // 401 without a Chal: Package 1 goes again all the same.
    let mut d = device(md5);
    let (mut session, pkg1, _) = start(&mut d);
    let msg = server_msg(
        &pkg1,
        "1",
        vec![hdr_status(&pkg1, StatusCode::InvalidCredentials)],
        true,
    );
    let (again, _) = sent(session.receive(&mut d, &response(&msg)));
    assert!(
        matches!(&again.body.commands[1], Command::Alert(a) if a.code == AlertCode::ClientInitiatedMgmt)
    );
    let found: Vec<(ServerRule, &str)> = session
        .violations()
        .iter()
        .map(|v| (v.rule, v.excerpt.as_str()))
        .collect();
    assert_eq!(
        found,
        [(
            ServerRule::MissingChal,
            "<Status>…<Cmd>SyncHdr</Cmd>…<Data>401</Data></Status>"
        )]
    );
    // A Chal whose NextNonce is not base64: the old nonce stays, and it is recorded.
    let (mut session, pkg1, _) = start(&mut d);
    let Command::Status(mut s) = hdr_status(&pkg1, StatusCode::InvalidCredentials) else {
        unreachable!()
    };
    let mut chal = auth::challenge(AuthType::Md5, b"n");
    chal.meta.next_nonce = Some("not base64!".into());
    s.chal = Some(chal);
    let msg = server_msg(&pkg1, "1", vec![Command::Status(s)], true);
    let _ = sent(session.receive(&mut d, &response(&msg)));
    let found: Vec<(ServerRule, &str)> = session
        .violations()
        .iter()
        .map(|v| (v.rule, v.excerpt.as_str()))
        .collect();
    assert_eq!(
        found,
        [(
            ServerRule::NextNonceBase64,
            "<NextNonce>not base64!</NextNonce>"
        )]
    );
}

#[test]
fn a_large_object_the_server_refuses_is_sent_no_further() {
    let value = "0123456789".repeat(500);
    let mut d = device(&format!(
        "[[device.node]]\nuri = \"./Vendor\"\nformat = \"node\"\nacl = \"Get=*\"\n\
         [[device.node]]\nuri = \"./Vendor/Log\"\nvalue = \"{value}\"\n"
    ));
    let (mut session, pkg1, _) = start_any(&mut d);
    let pkg2 = limited(
        server_msg(
            &pkg1,
            "1",
            vec![hdr_status(&pkg1, StatusCode::Ok), get("2", "./Vendor/Log")],
            true,
        ),
        1200,
    );
    let (reply, _) = sent(session.receive(&mut d, &response(&pkg2)));
    let chunk = reply
        .body
        .commands
        .iter()
        .find(|c| matches!(c, Command::Results(_)))
        .expect("the first chunk");
    assert!(chunk.items()[0].more_data);
    // The server refuses the chunk (413): the device sends no more of the object, and with nothing
    // else to send, the session ends at the server's Final.
    let refused = Status {
        cmd_id: "2".into(),
        msg_ref: reply.hdr.msg_id.clone(),
        cmd_ref: chunk.cmd_id().to_string(),
        cmd: CmdName::Results,
        target_refs: Vec::new(),
        source_refs: Vec::new(),
        cred: None,
        chal: None,
        code: StatusCode::RequestEntityTooLarge,
        items: Vec::new(),
    };
    let pkg4 = limited(
        server_msg(
            &reply,
            "2",
            vec![hdr_status(&reply, StatusCode::Ok), Command::Status(refused)],
            true,
        ),
        1200,
    );
    assert_eq!(
        session.receive(&mut d, &response(&pkg4)),
        Step::Done(SessionEnd::Completed)
    );
}
