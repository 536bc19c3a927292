//! The mock server against device messages built by hand: every breach of a rule it checks is
//! recorded, a well-behaved device is not accused of anything, and the server's own messages keep
//! to the device's MaxMsgSize.

use super::*;
use crate::syncml::auth::AuthType;
use crate::syncml::{
    Alert, AlertCode, CmdName, Command, Data, Encoding, Item, ItemCommand, Location, Meta, Results,
    Status, StatusCode, SyncBody, SyncHdr, SyncMl, VER_DTD, VER_PROTO,
};
use std::sync::Arc;

const SERVER: &str = "https://dm.dmsim.test/dm";
const DEVICE: &str = "IMEI:356938035643809";

/// A server with this script (TOML `[[package]]` tables) and limits.
fn server(script: &str, max_msg: Option<u64>, max_obj: Option<u64>) -> MockServer {
    #[derive(serde::Deserialize)]
    struct Script {
        #[serde(default, rename = "package")]
        packages: Vec<ScriptPackage>,
    }
    let script: Script = toml::from_str(script).expect("valid script");
    MockServer::new(ServerConfig {
        server_id: "dmsim".into(),
        url: SERVER.into(),
        packages: script.packages,
        seed: 1,
        max_msg_size: max_msg,
        max_obj_size: max_obj,
        ..ServerConfig::default()
    })
}

const ONE_GET: &str = r#"
[[package]]
[[package.command]]
cmd = "get"
target = "./DevInfo/Mod"
[[package.command]]
cmd = "get"
target = "./DevInfo/Man"
"#;

/// A device message; `max_msg` is the device's MaxMsgSize in its SyncHdr.
fn device_msg(msg_id: u32, commands: Vec<Command>, final_flag: bool, max_msg: u64) -> SyncMl {
    SyncMl {
        hdr: SyncHdr {
            ver_dtd: VER_DTD.into(),
            ver_proto: VER_PROTO.into(),
            session_id: "1".into(),
            msg_id: msg_id.to_string(),
            target: Location::uri(SERVER),
            source: Location::uri(DEVICE),
            resp_uri: None,
            no_resp: false,
            cred: None,
            // A device that takes large objects announces its MaxObjSize (reference §1.3).
            meta: Some(Meta {
                max_msg_size: Some(max_msg),
                max_obj_size: Some(1 << 20),
                ..Meta::default()
            }),
        },
        body: SyncBody {
            commands,
            final_flag,
        },
    }
}

/// Package 1 with `devinfo` DevInfo items.
fn package1(devinfo: usize, max_msg: u64) -> SyncMl {
    let items = (0..devinfo)
        .map(|n| Item {
            source: Some(Location::uri(format!("./DevInfo/Ext/Node{n}"))),
            data: Some(Data::Text(format!("value {n}"))),
            ..Item::default()
        })
        .collect();
    device_msg(
        1,
        vec![
            Command::Alert(Alert::bare(AlertCode::ClientInitiatedMgmt)),
            Command::Replace(ItemCommand {
                items,
                ..ItemCommand::default()
            }),
        ],
        true,
        max_msg,
    )
}

/// POST a message (numbered as a sender does) in `encoding`: the raw response and its message.
fn post_in(server: &MockServer, msg: &SyncMl, encoding: Encoding) -> (HttpResponse, SyncMl) {
    let mut msg = msg.clone();
    msg.body.number_commands();
    let response = server.handle(&HttpRequest {
        url: SERVER.into(),
        content_type: encoding.content_type().into(),
        hmac: None,
        body: encoding.encode(&msg),
    });
    assert_eq!(
        response.status,
        200,
        "{}",
        String::from_utf8_lossy(&response.body)
    );
    let reply = crate::syncml::decode(&response.body).expect("server message decodes");
    (response, reply)
}

fn post(server: &MockServer, msg: &SyncMl) -> SyncMl {
    post_in(server, msg, Encoding::Xml).1
}

/// The server's management commands in a message (what needs a Status).
fn commands(msg: &SyncMl) -> Vec<&Command> {
    msg.body
        .commands
        .iter()
        .filter(|c| !matches!(c, Command::Status(_) | Command::Results(_)))
        .collect()
}

fn hdr_status(server_msg: &SyncMl) -> Command {
    Command::Status(Status::for_header(server_msg, StatusCode::Ok, None))
}

fn status(server_msg: &SyncMl, cmd: &Command, code: StatusCode) -> Command {
    Command::Status(Status::for_command(&server_msg.hdr.msg_id, cmd, code))
}

fn results(cmd: &Command, uri: &str, data: Data, meta: Option<Meta>, more: bool) -> Command {
    Command::Results(Results {
        cmd_ref: cmd.cmd_id().to_string(),
        items: vec![Item {
            source: Some(Location::uri(uri)),
            meta,
            data: Some(data),
            more_data: more,
            ..Item::default()
        }],
        ..Results::default()
    })
}

fn violations(server: &MockServer) -> Vec<DeviceViolation> {
    server
        .records()
        .into_iter()
        .flat_map(|r| r.violations)
        .collect()
}

fn rules(server: &MockServer) -> Vec<Rule> {
    violations(server).iter().map(|v| v.rule).collect()
}

/// The well-behaved answer to a server message: a Status for its SyncHdr and 200 (213 for a
/// chunk) for each of its commands.
fn answer(server_msg: &SyncMl, msg_id: u32, max_msg: u64) -> SyncMl {
    let mut body = vec![hdr_status(server_msg)];
    for cmd in commands(server_msg) {
        if matches!(cmd, Command::Alert(a) if a.code == AlertCode::NextMessage) {
            continue;
        }
        let code = if cmd.items().iter().any(|i| i.more_data) {
            StatusCode::ChunkAccepted
        } else {
            StatusCode::Ok
        };
        body.push(status(server_msg, cmd, code));
    }
    if !server_msg.body.final_flag {
        body.push(Command::Alert(Alert::bare(AlertCode::NextMessage)));
    }
    device_msg(msg_id, body, server_msg.body.final_flag, max_msg)
}

#[test]
fn a_device_message_over_the_announced_max_msg_size_is_a_violation() {
    let s = server(ONE_GET, Some(1000), None);
    // Package 1 goes before the device can know the limit: no breach however large.
    let pkg1 = package1(30, 16384);
    let pkg2 = post(&s, &pkg1);
    assert!(violations(&s).is_empty(), "{:?}", violations(&s));
    // The answer, with a Results padded over the limit.
    let gets = commands(&pkg2);
    let mut pkg3 = answer(&pkg2, 2, 16384);
    pkg3.body.commands.push(results(
        gets[0],
        "./DevInfo/Mod",
        Data::Text("M".repeat(1200)),
        None,
        false,
    ));
    let mut sent = pkg3.clone();
    sent.body.number_commands();
    let size = Encoding::Xml.encode(&sent).len();
    post(&s, &pkg3);
    let found = violations(&s);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (
            found[0].rule,
            found[0].msg_id.as_str(),
            found[0].cmd_id.as_deref()
        ),
        (Rule::MaxMsgSize, "2", None)
    );
    assert_eq!(
        found[0].to_string(),
        format!(
            "MaxMsgSize (reference §1.3): device message 2: {size} bytes, over the server's MaxMsgSize of 1000"
        )
    );
}

#[test]
fn the_size_is_the_body_as_received_in_either_encoding() {
    // The same message: under 1000 bytes in WBXML, over in XML.
    for (encoding, breach) in [(Encoding::Wbxml, false), (Encoding::Xml, true)] {
        let s = server(ONE_GET, Some(1000), None);
        let (_, pkg2) = post_in(&s, &package1(2, 16384), encoding);
        let gets = commands(&pkg2);
        let mut pkg3 = answer(&pkg2, 2, 16384);
        pkg3.body.commands.push(results(
            gets[0],
            "./DevInfo/Mod",
            Data::Text("M".repeat(500)),
            None,
            false,
        ));
        post_in(&s, &pkg3, encoding);
        assert_eq!(rules(&s) == [Rule::MaxMsgSize], breach, "{encoding:?}");
    }
}

#[test]
fn status_codes_outside_the_dm_table_are_violations() {
    let s = server(ONE_GET, None, None);
    let pkg2 = post(&s, &package1(2, 16384));
    let gets = commands(&pkg2);
    let mut body = vec![hdr_status(&pkg2)];
    body.push(status(&pkg2, gets[0], StatusCode::from_code(0)));
    body.push(status(&pkg2, gets[1], StatusCode::from_code(299)));
    post(&s, &device_msg(2, body, true, 16384));
    let found = violations(&s);
    assert_eq!(rules(&s), [Rule::StatusCode, Rule::StatusCode], "{found:?}");
    assert_eq!(found[0].msg_id, "2");
    assert_eq!(found[0].cmd_id.as_deref(), Some("2"));
    assert_eq!(found[1].cmd_id.as_deref(), Some("3"));
    assert!(
        found[0].detail.contains("Status 0 for Get")
            && found[0].detail.contains("of server message 1"),
        "{}",
        found[0]
    );
    assert!(found[1].detail.contains("Status 299"), "{}", found[1]);
    // Every code of the table is fine.
    let s = server(ONE_GET, None, None);
    let pkg2 = post(&s, &package1(2, 16384));
    let gets = commands(&pkg2);
    let body = vec![
        hdr_status(&pkg2),
        status(&pkg2, gets[0], StatusCode::NotFound),
        status(&pkg2, gets[1], StatusCode::OptionalFeatureNotSupported),
    ];
    post(&s, &device_msg(2, body, true, 16384));
    assert!(violations(&s).is_empty());
}

const CHUNK: &str = r#"
[[package]]
[[package.command]]
cmd = "add"
target = "./Vendor/Partial"
data = "the first part"
size = 100
more_data = true
[[package.command]]
cmd = "get"
target = "./DevInfo/Mod"
"#;

#[test]
fn a_chunk_with_more_data_is_due_a_213_and_only_a_chunk_is() {
    let s = server(CHUNK, None, None);
    let pkg2 = post(&s, &package1(2, 16384));
    let cmds = commands(&pkg2);
    assert!(cmds[0].items()[0].more_data);
    let body = vec![
        hdr_status(&pkg2),
        status(&pkg2, cmds[0], StatusCode::Ok),
        status(&pkg2, cmds[1], StatusCode::ChunkAccepted),
    ];
    post(&s, &device_msg(2, body, true, 16384));
    let found = violations(&s);
    assert_eq!(
        rules(&s),
        [Rule::ChunkStatus, Rule::ChunkStatus],
        "{found:?}"
    );
    assert!(
        found[0].detail.contains("Status 200 for Add")
            && found[0]
                .detail
                .contains("213 (Chunked item accepted and buffered) is due"),
        "{}",
        found[0]
    );
    assert_eq!(found[0].cmd_id.as_deref(), Some("2"));
    assert!(
        found[1].detail.contains("not a chunk with MoreData"),
        "{}",
        found[1]
    );
    // 213 for the chunk, 200 for the Get; refusing the chunk (413) is no breach either.
    for code in [StatusCode::ChunkAccepted, StatusCode::RequestEntityTooLarge] {
        let s = server(CHUNK, None, None);
        let pkg2 = post(&s, &package1(2, 16384));
        let cmds = commands(&pkg2);
        let body = vec![
            hdr_status(&pkg2),
            status(&pkg2, cmds[0], code),
            status(&pkg2, cmds[1], StatusCode::Ok),
        ];
        post(&s, &device_msg(2, body, true, 16384));
        assert!(violations(&s).is_empty(), "{code}: {:?}", violations(&s));
    }
}

#[test]
fn a_chunk_the_server_cut_to_the_devices_max_msg_size_is_due_a_213() {
    let script = format!(
        "[[package]]\n[[package.command]]\ncmd = \"add\"\ntarget = \"./Vendor/Big\"\ndata = \"{}\"\n",
        "0123456789".repeat(300)
    );
    let s = server(&script, None, None);
    let pkg2 = post(&s, &package1(2, 1000));
    let add = commands(&pkg2)[0];
    assert!(add.items()[0].more_data, "the server sent a chunk");
    let body = vec![hdr_status(&pkg2), status(&pkg2, add, StatusCode::Ok)];
    post(&s, &device_msg(2, body, false, 1000));
    assert_eq!(rules(&s), [Rule::ChunkStatus]);
}

#[test]
fn chr_data_with_a_nul_is_a_violation_in_results_replace_alert_and_status_items() {
    let nul = || Data::Text("a\u{0}b".into());
    for encoding in [Encoding::Xml, Encoding::Wbxml] {
        let s = server(ONE_GET, None, None);
        let mut pkg1 = package1(1, 16384);
        if let Command::Replace(r) = &mut pkg1.body.commands[1] {
            r.items[0].data = Some(nul());
        }
        pkg1.body.commands.push(Command::Alert(Alert {
            items: vec![Item {
                source: Some(Location::uri("./Vendor/Battery")),
                meta: Some(Meta {
                    type_: Some("com.dmsim.battery.low".into()),
                    format: Some("chr".into()),
                    ..Meta::default()
                }),
                data: Some(nul()),
                ..Item::default()
            }],
            ..Alert::bare(AlertCode::GenericAlert)
        }));
        let (_, pkg2) = post_in(&s, &pkg1, encoding);
        let gets = commands(&pkg2);
        let Command::Status(mut typed) = status(&pkg2, gets[1], StatusCode::Ok) else {
            unreachable!()
        };
        typed.items = vec![Item {
            data: Some(nul()),
            ..Item::default()
        }];
        let body = vec![
            hdr_status(&pkg2),
            status(&pkg2, gets[0], StatusCode::Ok),
            Command::Status(typed),
            results(gets[0], "./DevInfo/Mod", nul(), None, false),
            // Not chr: a NUL is fine in binary data.
            results(
                gets[1],
                "./DevInfo/Man",
                Data::Opaque(vec![0, 1, 2]),
                Some(Meta {
                    format: Some("bin".into()),
                    ..Meta::default()
                }),
                false,
            ),
        ];
        post_in(&s, &device_msg(2, body, true, 16384), encoding);
        let found = violations(&s);
        assert!(found.iter().all(|v| v.rule == Rule::ChrData), "{found:?}");
        let wheres: Vec<(&str, Option<&str>)> = found
            .iter()
            .map(|v| (v.msg_id.as_str(), v.cmd_id.as_deref()))
            .collect();
        assert_eq!(
            wheres,
            [
                ("1", Some("2")),
                ("1", Some("3")),
                ("2", Some("3")),
                ("2", Some("4"))
            ],
            "{encoding:?}: {found:?}"
        );
        assert!(
            found[3]
                .detail
                .contains("Results item ./DevInfo/Mod has chr data with a NUL at byte 1"),
            "{}",
            found[3]
        );
    }
}

#[test]
fn an_object_over_the_servers_max_obj_size_is_a_violation_whole_or_in_chunks() {
    let s = server(ONE_GET, None, Some(100));
    let pkg2 = post(&s, &package1(2, 16384));
    let gets = commands(&pkg2);
    let mut pkg3 = answer(&pkg2, 2, 16384);
    pkg3.body.commands.push(results(
        gets[0],
        "./DevInfo/Mod",
        Data::Text("x".repeat(150)),
        None,
        false,
    ));
    let reply = post(&s, &pkg3);
    let found = violations(&s);
    assert_eq!(rules(&s), [Rule::MaxObjSize], "{found:?}");
    assert_eq!(found[0].cmd_id.as_deref(), Some("4"));
    assert!(
        found[0]
            .detail
            .contains("Results item ./DevInfo/Mod is an object of 150 bytes, over the server's MaxObjSize of 100"),
        "{}",
        found[0]
    );
    assert!(
        reply.body.commands.iter().any(
            |c| matches!(c, Command::Status(st) if st.code == StatusCode::RequestEntityTooLarge)
        ),
        "and the server refuses it with 413"
    );

    // In chunks that declare 80 bytes and bring 150: one breach, when they outgrow the limit.
    let s = server(ONE_GET, None, Some(100));
    let pkg2 = post(&s, &package1(2, 16384));
    let gets = commands(&pkg2);
    let chunk = |meta, more| {
        results(
            gets[0],
            "./DevInfo/Mod",
            Data::Text("y".repeat(50)),
            meta,
            more,
        )
    };
    let declared = Some(Meta {
        size: Some(80),
        ..Meta::default()
    });
    let mut pkg3 = answer(&pkg2, 2, 16384);
    pkg3.body.commands.push(chunk(declared, true));
    pkg3.body.final_flag = false;
    let pkg4 = post(&s, &pkg3);
    let mut last = pkg4;
    for (msg_id, more) in [(3, true), (4, false)] {
        let mut msg = device_msg(msg_id, vec![hdr_status(&last)], !more, 16384);
        msg.body.commands.push(chunk(None, more));
        last = post(&s, &msg);
    }
    let found = violations(&s);
    assert_eq!(rules(&s), [Rule::MaxObjSize], "{found:?}");
    assert_eq!(found[0].msg_id, "4");
    assert!(found[0].detail.contains("of 150 bytes"), "{}", found[0]);
}

#[test]
fn an_abort_carries_only_the_statuses_already_produced() {
    let s = server(ONE_GET, None, None);
    let pkg2 = post(&s, &package1(2, 16384));
    let abort = device_msg(
        2,
        vec![
            hdr_status(&pkg2),
            Command::Alert(Alert::bare(AlertCode::SessionAbort)),
        ],
        true,
        16384,
    );
    post(&s, &abort);
    assert!(violations(&s).is_empty(), "{:?}", violations(&s));
    // Without the abort, the missing Statuses are a breach.
    let s = server(ONE_GET, None, None);
    let pkg2 = post(&s, &package1(2, 16384));
    post(&s, &device_msg(2, vec![hdr_status(&pkg2)], true, 16384));
    assert_eq!(rules(&s), [Rule::MissingStatus]);
    assert_eq!(
        violations(&s)[0].detail,
        "no Status for Get 4 of server message 1, Get 5 of server message 1"
    );
}

#[test]
fn a_well_behaved_device_is_accused_of_nothing() {
    let s = server(ONE_GET, Some(1200), Some(1000));
    let pkg2 = post(&s, &package1(5, 16384));
    let gets = commands(&pkg2);
    let mut pkg3 = answer(&pkg2, 2, 16384);
    pkg3.body.commands.push(results(
        gets[0],
        "./DevInfo/Mod",
        Data::Text("SIM-1".into()),
        None,
        false,
    ));
    post(&s, &pkg3);
    assert!(violations(&s).is_empty(), "{:?}", violations(&s));
}

/// Drive a session with a device that announces `max_msg` and answers by the rules: every server
/// message, with its size.
fn server_messages(script: &str, pkg1: SyncMl, max_msg: u64) -> (Vec<(usize, SyncMl)>, MockServer) {
    let s = server(script, None, None);
    let (response, first) = post_in(&s, &pkg1, Encoding::Xml);
    let mut sent = vec![(response.body.len(), first)];
    for msg_id in 2..200 {
        let Some((_, last)) = sent.last() else { break };
        let ends = last.body.final_flag && commands(last).is_empty();
        let aborted = last
            .body
            .commands
            .iter()
            .any(|c| matches!(c, Command::Alert(a) if a.code == AlertCode::SessionAbort));
        if ends || aborted {
            return (sent, s);
        }
        let (response, reply) = post_in(&s, &answer(last, msg_id, max_msg), Encoding::Xml);
        sent.push((response.body.len(), reply));
    }
    panic!("the session did not end")
}

#[test]
fn the_servers_messages_keep_to_the_devices_max_msg_size() {
    let mut script = String::new();
    for n in 0..12 {
        script.push_str(&format!(
            "[[package]]\n[[package.command]]\ncmd = \"add\"\ntarget = \"./Vendor/N{n}\"\ndata = \"{}\"\n\
             [[package.command]]\ncmd = \"replace\"\ntarget = \"./Vendor/R{n}\"\ndata = \"{}\"\n",
            "v".repeat(n * 150),
            "w".repeat(40)
        ));
    }
    for max in (700..3000).step_by(150) {
        let (sent, s) = server_messages(&script, package1(3, max), max);
        assert!(sent.len() > 12, "{max}: every package went");
        for (n, (size, _)) in sent.iter().enumerate() {
            assert!(
                *size as u64 <= max,
                "{max}: server message {} is {size}",
                n + 1
            );
        }
        assert!(violations(&s).is_empty(), "{max}: {:?}", violations(&s));
    }
}

#[test]
fn statuses_that_do_not_fit_go_in_the_next_messages() {
    // Package 1 with 12 Generic Alerts: their Statuses do not fit one 800-byte message.
    let mut pkg1 = package1(1, 800);
    for n in 0..12 {
        pkg1.body.commands.push(Command::Alert(Alert {
            items: vec![Item {
                source: Some(Location::uri(format!("./Vendor/Sensor{n}"))),
                meta: Some(Meta {
                    type_: Some("com.dmsim.sensor".into()),
                    format: Some("int".into()),
                    ..Meta::default()
                }),
                data: Some(Data::Text(n.to_string())),
                ..Item::default()
            }],
            ..Alert::bare(AlertCode::GenericAlert)
        }));
    }
    let (sent, s) = server_messages(ONE_GET, pkg1, 800);
    let sizes: Vec<usize> = sent.iter().map(|(size, _)| *size).collect();
    assert!(sizes.iter().all(|size| *size <= 800), "{sizes:?}");
    let (_, first) = &sent[0];
    assert!(
        !first.body.final_flag,
        "the Statuses go on in the next message"
    );
    let answered: usize = sent
        .iter()
        .flat_map(|(_, m)| &m.body.commands)
        .filter(|c| matches!(c, Command::Status(st) if st.cmd == CmdName::Alert))
        .count();
    assert_eq!(answered, 13, "every alert got its Status");
    assert!(violations(&s).is_empty(), "{:?}", violations(&s));
}

#[test]
fn a_script_command_that_cannot_fit_the_devices_limit_ends_the_session_with_1223() {
    let script = format!(
        "[[package]]\n[[package.command]]\ncmd = \"get\"\ntarget = \"./Vendor/{}\"\n",
        "x".repeat(600)
    );
    let (sent, s) = server_messages(&script, package1(1, 800), 800);
    assert!(sent.iter().all(|(size, _)| *size <= 800));
    let (_, last) = sent.last().expect("messages");
    assert!(last.body.final_flag);
    assert!(
        matches!(last.body.commands.last(), Some(Command::Alert(a)) if a.code == AlertCode::SessionAbort)
    );
    assert!(
        !sent
            .iter()
            .flat_map(|(_, m)| &m.body.commands)
            .any(|c| matches!(c, Command::Get(_))),
        "the Get was never sent"
    );
    assert!(s.records()[0].ended);
}

#[test]
fn a_chal_whose_next_nonce_is_not_base64_is_a_violation_and_changes_nothing() {
    let s = MockServer::new(ServerConfig {
        server_id: "dmsim".into(),
        url: SERVER.into(),
        credentials: Some(ServerCredentials {
            kind: AuthType::Md5,
            secret: crate::syncml::auth::Secret::new("dmsim", "srvpass"),
            nonce: b"kept".to_vec(),
            send: SendCredentials::Always,
        }),
        seed: 1,
        ..ServerConfig::default()
    });
    let pkg2 = post(&s, &package1(1, 16384));
    let mut chal = crate::syncml::auth::challenge(AuthType::Md5, b"x");
    chal.meta.next_nonce = Some("not base64!".into());
    let hdr = Command::Status(Status::for_header(
        &pkg2,
        StatusCode::AuthAccepted,
        Some(chal),
    ));
    let reply = post(&s, &device_msg(2, vec![hdr], true, 16384));
    assert_eq!(rules(&s), [Rule::NextNonce]);
    assert_eq!(violations(&s)[0].cmd_id.as_deref(), Some("1"));
    let cred = reply.hdr.cred.as_ref().expect("the server's Cred");
    let secret = crate::syncml::auth::Secret::new("dmsim", "srvpass");
    assert!(crate::syncml::auth::check_cred(cred, AuthType::Md5, &secret, b"kept").is_ok());
}

#[test]
fn a_package_session_is_a_number_from_1_or_every() {
    let parse = |value: &str| {
        toml::from_str::<ScriptPackage>(&format!("session = {value}\n")).map(|p| p.session)
    };
    assert_eq!(parse("2").ok(), Some(SessionChoice::Nth(2)));
    assert_eq!(parse("\"every\"").ok(), Some(SessionChoice::Every));
    assert_eq!(parse("\"each\"").ok(), Some(SessionChoice::Every));
    for bad in ["0", "-1", "1.5", "\"twice\"", "4294967296"] {
        let err = parse(bad).expect_err(bad).to_string();
        assert!(
            err.contains("a session number from 1, or \"every\""),
            "{bad}: {err}"
        );
    }
    let default: ScriptPackage = toml::from_str("").expect("no session key");
    assert_eq!(default.session, SessionChoice::Nth(1));
}

/// Run one well-behaved session of the device with SessionID `session_id`: every server message.
fn whole_session(s: &MockServer, session_id: &str) -> Vec<SyncMl> {
    let with_id = |mut m: SyncMl| {
        m.hdr.session_id = session_id.into();
        m
    };
    let mut sent = vec![post(s, &with_id(package1(1, 16384)))];
    for msg_id in 2..50 {
        let last = sent.last().expect("a message");
        if last.body.final_flag && commands(last).is_empty() {
            return sent;
        }
        let reply = post(s, &with_id(answer(last, msg_id, 16384)));
        sent.push(reply);
    }
    panic!("the session did not end")
}

/// The targets of the script commands a session's messages carried.
fn targets(messages: &[SyncMl]) -> Vec<String> {
    messages
        .iter()
        .flat_map(commands)
        .flat_map(|c| c.items())
        .filter_map(|i| i.target.as_ref().map(|t| t.loc_uri.clone()))
        .collect()
}

#[test]
fn a_package_goes_in_the_session_it_names_or_in_every_one() {
    let script = r#"
[[package]]
session = "every"
[[package.command]]
cmd = "get"
target = "./DevInfo/Mod"
[[package]]
session = 2
[[package.command]]
cmd = "get"
target = "./DevDetail/FwV"
"#;
    let s = server(script, None, None);
    assert_eq!(targets(&whole_session(&s, "1")), ["./DevInfo/Mod"]);
    assert_eq!(
        targets(&whole_session(&s, "2")),
        ["./DevInfo/Mod", "./DevDetail/FwV"]
    );
    assert_eq!(targets(&whole_session(&s, "3")), ["./DevInfo/Mod"]);
    let seen: Vec<(u32, u32, bool)> = s
        .records()
        .iter()
        .map(|r| (r.ordinal, r.packages_sent, r.ended))
        .collect();
    assert_eq!(seen, [(1, 1, true), (2, 2, true), (3, 1, true)]);
    // A package for the first session only (the default): a second session gets none, and its
    // record says so.
    let s = server(ONE_GET, None, None);
    assert_eq!(targets(&whole_session(&s, "1")).len(), 2);
    assert!(targets(&whole_session(&s, "2")).is_empty());
    let records = s.records();
    assert_eq!((records[1].ordinal, records[1].packages_sent), (2, 0));
}

#[test]
fn a_session_refused_for_good_does_not_count_as_one_of_the_devices_sessions() {
    let s = MockServer::new(ServerConfig {
        server_id: "dmsim".into(),
        url: SERVER.into(),
        client_auth: Some(ClientAuthPolicy {
            kind: AuthType::Basic,
            secret: crate::syncml::auth::Secret::new("device01", "right"),
            nonce: Vec::new(),
        }),
        packages: toml::from_str::<std::collections::BTreeMap<String, Vec<ScriptPackage>>>(ONE_GET)
            .expect("script")
            .remove("package")
            .expect("packages"),
        seed: 1,
        ..ServerConfig::default()
    });
    // Session 1: no credentials, three times; the server ends it.
    for msg_id in 1..=3 {
        let mut pkg1 = package1(1, 16384);
        pkg1.hdr.msg_id = msg_id.to_string();
        post(&s, &pkg1);
    }
    // Session 2, with the right credentials: the device's first session for the script.
    let mut pkg1 = package1(1, 16384);
    pkg1.hdr.session_id = "2".into();
    pkg1.hdr.source.loc_name = Some("device01".into());
    pkg1.hdr.cred = crate::syncml::auth::make_cred(
        AuthType::Basic,
        &crate::syncml::auth::Secret::new("device01", "right"),
        &[],
    );
    let pkg2 = post(&s, &pkg1);
    assert_eq!(commands(&pkg2).len(), 2, "the first session's package");
    let seen: Vec<(u32, u32)> = s
        .records()
        .iter()
        .map(|r| (r.ordinal, r.auth_failures))
        .collect();
    assert_eq!(seen, [(0, 3), (1, 0)]);
}

#[test]
fn a_notification_is_signed_with_the_nonce_the_device_last_gave() {
    let secret = crate::syncml::auth::Secret::new("dmsim", "srvpass");
    let s = MockServer::new(ServerConfig {
        server_id: "dmsim".into(),
        url: SERVER.into(),
        credentials: Some(ServerCredentials {
            kind: AuthType::Hmac,
            secret: secret.clone(),
            nonce: b"configured".to_vec(),
            send: SendCredentials::Always,
        }),
        seed: 1,
        ..ServerConfig::default()
    });
    let ui = crate::syncml::pkg0::UiMode::Background;
    let verify = |bytes: &[u8], nonce: &[u8]| crate::syncml::pkg0::verify(bytes, "srvpass", nonce);
    assert!(verify(&s.notification(DEVICE, 7, ui, None), b"configured").is_ok());
    // The device gives a fresh nonce with its 200 (HMAC).
    let pkg2 = post(&s, &package1(1, 16384));
    let chal = crate::syncml::auth::challenge(AuthType::Hmac, b"given");
    let hdr = Command::Status(Status::for_header(&pkg2, StatusCode::Ok, Some(chal)));
    post(&s, &device_msg(2, vec![hdr], true, 16384));
    let bytes = s.notification(DEVICE, 7, ui, None);
    assert!(verify(&bytes, b"given").is_ok());
    assert!(verify(&bytes, b"configured").is_err());
    // Another device: the configured nonce.
    assert!(verify(&s.notification("IMEI:other", 7, ui, None), b"configured").is_ok());
}

#[test]
fn every_answer_has_a_status_for_the_servers_synchdr_and_a_refusal_a_chal() {
    // A device message answering the server without a Status for its SyncHdr.
    let s = server("", None, None);
    let pkg2 = post(&s, &package1(1, 16384));
    post(&s, &device_msg(2, Vec::new(), true, 16384));
    assert_eq!(rules(&s), [Rule::HdrStatus]);
    assert!(
        violations(&s)[0]
            .detail
            .contains(&format!("server message {}", pkg2.hdr.msg_id)),
        "{:?}",
        violations(&s)
    );
    // A refusal of the server's credentials without a Chal.
    let s = server("", None, None);
    let pkg2 = post(&s, &package1(1, 16384));
    let refusal = Command::Status(Status::for_header(
        &pkg2,
        StatusCode::InvalidCredentials,
        None,
    ));
    post(&s, &device_msg(2, vec![refusal], true, 16384));
    assert_eq!(rules(&s), [Rule::MissingChal]);
    // Package 1 needs none: it answers no server message.
    let s = server("", None, None);
    post(&s, &package1(1, 16384));
    assert!(violations(&s).is_empty(), "{:?}", violations(&s));
}

/// An operator that plays back packages per session (by ordinal) and records what it was told
/// and asked.
#[derive(Default)]
struct FakeOperator {
    /// Packages per session ordinal, given in order.
    plan: std::collections::HashMap<u32, Vec<Vec<ScriptCommand>>>,
    given: Mutex<std::collections::HashMap<u32, usize>>,
    received: Mutex<Vec<(String, u32, SyncMl)>>,
    asked: Mutex<Vec<(String, u32)>>,
}

impl FakeOperator {
    /// Each package is the `[[package.command]]` TOML of one package, for session `ordinal`.
    fn with(packages: &[(u32, &str)]) -> FakeOperator {
        let mut op = FakeOperator::default();
        for (ordinal, text) in packages {
            let package: ScriptPackage = toml::from_str(text).expect("package");
            op.plan.entry(*ordinal).or_default().push(package.commands);
        }
        op
    }

    fn received(&self) -> Vec<(String, u32, SyncMl)> {
        self.received.lock().expect("lock").clone()
    }

    fn asked(&self) -> Vec<(String, u32)> {
        self.asked.lock().expect("lock").clone()
    }
}

impl Operator for FakeOperator {
    fn received(&self, device: &str, ordinal: u32, msg: &SyncMl) {
        let mut received = self.received.lock().expect("lock");
        received.push((device.to_string(), ordinal, msg.clone()));
    }

    fn next_package(&self, device: &str, ordinal: u32) -> Option<Vec<ScriptCommand>> {
        self.asked
            .lock()
            .expect("lock")
            .push((device.to_string(), ordinal));
        let mut given = self.given.lock().expect("lock");
        let n = given.entry(ordinal).or_insert(0);
        let package = self.plan.get(&ordinal)?.get(*n)?.clone();
        *n += 1;
        Some(package)
    }
}

const OP_GET_MOD: &str = r#"
[[command]]
cmd = "get"
target = "./DevInfo/Mod"
"#;

const OP_REPLACE: &str = r#"
[[command]]
cmd = "replace"
target = "./Vendor/Url"
data = "$SERVER/report"
"#;

/// A server with this script and `operator`.
fn operated(script: &str, operator: &Arc<FakeOperator>) -> MockServer {
    let config = server(script, None, None).config().clone();
    MockServer::with_operator(
        config,
        ContentConfig::default(),
        Arc::clone(operator) as Arc<dyn Operator>,
    )
}

#[test]
fn an_operators_package_reaches_the_wire_and_the_devices_reports_reach_it() {
    let op = Arc::new(FakeOperator::with(&[(1, OP_GET_MOD)]));
    let s = operated("", &op);
    let pkg2 = post(&s, &package1(1, 16384));
    let gets = commands(&pkg2);
    assert_eq!(targets(std::slice::from_ref(&pkg2)), ["./DevInfo/Mod"]);
    assert!(pkg2.body.final_flag);
    // The device answers with the Results and a Generic Alert.
    let mut pkg3 = answer(&pkg2, 2, 16384);
    pkg3.body.commands.push(results(
        gets[0],
        "./DevInfo/Mod",
        Data::Text("Galaxy".into()),
        None,
        false,
    ));
    pkg3.body.commands.push(Command::Alert(Alert {
        items: vec![Item {
            data: Some(Data::Text("-1200".into())),
            ..Item::default()
        }],
        ..Alert::bare(AlertCode::GenericAlert)
    }));
    let pkg4 = post(&s, &pkg3);
    assert!(pkg4.body.final_flag && commands(&pkg4).is_empty());
    let received = op.received();
    assert_eq!(received.len(), 2, "Package 1 and Package 3");
    assert!(received.iter().all(|(d, o, _)| d == DEVICE && *o == 1));
    let last = &received[1].2.body.commands;
    assert!(last.iter().any(|c| matches!(c, Command::Results(r)
        if r.items[0].data == Some(Data::Text("Galaxy".into())))));
    assert!(last
        .iter()
        .any(|c| matches!(c, Command::Alert(a) if a.code == AlertCode::GenericAlert)));
    // Asked after Package 1 (gave the Get), after Package 3 (none left): the session ended.
    assert_eq!(
        op.asked(),
        [(DEVICE.to_string(), 1), (DEVICE.to_string(), 1)]
    );
    let record = &s.records()[0];
    assert_eq!((record.packages_sent, record.ended), (1, true));
    // Session 2: nothing planned, so nothing sent; the operator heard of it under ordinal 2.
    assert!(targets(&whole_session(&s, "2")).is_empty());
    assert!(op.received().iter().skip(2).all(|(_, o, _)| *o == 2));
    assert_eq!(s.records()[1].packages_sent, 0);
}

#[test]
fn operator_packages_follow_the_script_one_after_another() {
    let op = Arc::new(FakeOperator::with(&[(1, OP_GET_MOD), (1, OP_REPLACE)]));
    let s = operated(ONE_GET, &op);
    let messages = whole_session(&s, "1");
    assert_eq!(
        targets(&messages),
        [
            "./DevInfo/Mod",
            "./DevInfo/Man",
            "./DevInfo/Mod",
            "./Vendor/Url"
        ]
    );
    // One package per server message, `$SERVER` expanded.
    let per_message: Vec<usize> = messages.iter().map(|m| commands(m).len()).collect();
    assert_eq!(per_message, [2, 1, 1, 0]);
    let replace = commands(&messages[2])[0];
    assert_eq!(
        replace.items()[0].data,
        Some(Data::Text("https://dm.dmsim.test/report".into()))
    );
    assert_eq!(s.records()[0].packages_sent, 3);
    // Asked only once the script was sent: after its package, after each of its own, then None.
    assert_eq!(op.asked().len(), 3);
}

#[test]
fn an_operators_abort_ends_the_session_and_an_empty_package_is_none() {
    let op = Arc::new(FakeOperator::with(&[(1, "[[command]]\ncmd = \"abort\"\n")]));
    let s = operated("", &op);
    let pkg2 = post(&s, &package1(1, 16384));
    assert!(commands(&pkg2)
        .iter()
        .any(|c| matches!(c, Command::Alert(a) if a.code == AlertCode::SessionAbort)));
    assert!(s.records()[0].ended);
    let op = Arc::new(FakeOperator::with(&[(1, "")]));
    let s = operated("", &op);
    let pkg2 = post(&s, &package1(1, 16384));
    assert!(pkg2.body.final_flag && commands(&pkg2).is_empty());
    let record = &s.records()[0];
    assert_eq!((record.packages_sent, record.ended), (0, true));
}

#[test]
fn a_message_refused_at_its_synchdr_does_not_reach_the_operator() {
    let op = Arc::new(FakeOperator::with(&[(1, OP_GET_MOD)]));
    let mut config = server("", None, None).config().clone();
    config.client_auth = Some(ClientAuthPolicy {
        kind: AuthType::Basic,
        secret: crate::syncml::auth::Secret::new("device01", "right"),
        nonce: Vec::new(),
    });
    let s = MockServer::with_operator(
        config,
        ContentConfig::default(),
        Arc::clone(&op) as Arc<dyn Operator>,
    );
    let refused = post(&s, &package1(1, 16384));
    assert!(commands(&refused).is_empty());
    assert!(op.received().is_empty() && op.asked().is_empty());
    let mut pkg1 = package1(1, 16384);
    pkg1.hdr.msg_id = "2".into();
    pkg1.hdr.source.loc_name = Some("device01".into());
    pkg1.hdr.cred = crate::syncml::auth::make_cred(
        AuthType::Basic,
        &crate::syncml::auth::Secret::new("device01", "right"),
        &[],
    );
    let pkg2 = post(&s, &pkg1);
    assert_eq!(targets(std::slice::from_ref(&pkg2)), ["./DevInfo/Mod"]);
    assert_eq!(op.received().len(), 1);
}

#[test]
fn without_an_operator_the_session_ends_with_the_script() {
    let s = server(ONE_GET, None, None);
    let messages = whole_session(&s, "1");
    assert_eq!(targets(&messages), ["./DevInfo/Mod", "./DevInfo/Man"]);
    assert_eq!(s.records()[0].packages_sent, 1);
}
