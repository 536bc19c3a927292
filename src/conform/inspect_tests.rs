//! Each per-message check of [`super::inspect`] on a device message and the server's answer: the
//! answer as it should be passes it, and one changed to break the rule fails it and no other check.

use super::inspect::{session, Tally, Turn};
use crate::syncml::{
    decode, AlertCode, Chal, Command, Cred, Exec, Item, Location, Meta, Results, StatusCode, SyncMl,
};

const DEVICE: &str = r#"<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto>
<SessionID>1</SessionID><MsgID>1</MsgID><Target><LocURI>http://dm.example.com/dm?x=1</LocURI></Target>
<Source><LocURI>IMEI:1</LocURI></Source></SyncHdr><SyncBody>
<Alert><CmdID>1</CmdID><Data>1201</Data></Alert>
<Replace><CmdID>2</CmdID><Item><Source><LocURI>./DevInfo/Mod</LocURI></Source><Data>M</Data></Item></Replace>
<Final/></SyncBody></SyncML>"#;

const SERVER: &str = r#"<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto>
<SessionID>1</SessionID><MsgID>1</MsgID><Target><LocURI>IMEI:1</LocURI></Target>
<Source><LocURI>http://dm.example.com/dm</LocURI></Source></SyncHdr><SyncBody>
<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><TargetRef>http://dm.example.com/dm</TargetRef><SourceRef>IMEI:1</SourceRef><Data>200</Data></Status>
<Status><CmdID>2</CmdID><MsgRef>1</MsgRef><CmdRef>1</CmdRef><Cmd>Alert</Cmd><Data>200</Data></Status>
<Status><CmdID>3</CmdID><MsgRef>1</MsgRef><CmdRef>2</CmdRef><Cmd>Replace</Cmd><Data>200</Data></Status>
<Get><CmdID>4</CmdID><Item><Target><LocURI>./DevInfo/FwV</LocURI></Target></Item></Get>
<Final/></SyncBody></SyncML>"#;

fn messages() -> (SyncMl, SyncMl) {
    (
        decode(DEVICE.as_bytes()).expect("device message"),
        decode(SERVER.as_bytes()).expect("server message"),
    )
}

fn run(device: &SyncMl, server: &SyncMl) -> Tally {
    let turn = Turn {
        device,
        device_hmac: false,
        server: Some(server),
    };
    session(&[turn], true)
}

fn status_mut(msg: &mut SyncMl, i: usize) -> &mut crate::syncml::Status {
    match msg.body.commands.get_mut(i) {
        Some(Command::Status(s)) => s,
        _ => panic!("command {i} is not a Status"),
    }
}

fn alert(code: u16) -> Command {
    let mut a = crate::syncml::Alert::bare(AlertCode::from_code(code));
    a.cmd_id = "9".into();
    Command::Alert(a)
}

type Change = fn(&mut SyncMl, &mut SyncMl);

/// Per check: a change that still passes it (where the check only applies to some messages), and
/// one that breaks it.
fn cases() -> Vec<(&'static str, Change, Change)> {
    vec![
        ("ver-dtd", |_, _| {}, |_, s| s.hdr.ver_dtd = "1.1".into()),
        (
            "ver-proto",
            |_, _| {},
            |_, s| s.hdr.ver_proto = "DM/1.1".into(),
        ),
        (
            "session-id-echo",
            |_, _| {},
            |_, s| s.hdr.session_id = "2".into(),
        ),
        (
            "hdr-target",
            |_, _| {},
            |_, s| s.hdr.target = Location::uri("IMEI:2"),
        ),
        (
            "hdr-source",
            |_, _| {},
            |_, s| s.hdr.source = Location::uri(""),
        ),
        (
            "resp-uri",
            |_, s| s.hdr.resp_uri = Some("https://dm.example.com/dm?s=1".into()),
            |_, s| s.hdr.resp_uri = Some("/dm?s=1".into()),
        ),
        (
            "hdr-status-first",
            |_, _| {},
            |_, s| s.body.commands.swap(0, 1),
        ),
        (
            "hdr-status-once",
            |_, _| {},
            |_, s| {
                let again = s.body.commands[0].clone();
                s.body.commands.insert(3, again);
            },
        ),
        (
            "hdr-status-refs",
            |_, _| {},
            |_, s| {
                status_mut(s, 0).source_refs = vec!["IMEI:2".into()];
            },
        ),
        (
            "status-every-command",
            |_, _| {},
            |_, s| {
                s.body.commands.remove(2);
            },
        ),
        (
            "status-once",
            |_, _| {},
            |_, s| {
                let again = s.body.commands[2].clone();
                s.body.commands.insert(3, again);
            },
        ),
        (
            "status-known-ref",
            |_, _| {},
            |_, s| {
                let mut extra = status_mut(s, 2).clone();
                extra.cmd_ref = "7".into();
                s.body.commands.insert(3, Command::Status(extra));
            },
        ),
        (
            "status-cmd-name",
            |_, _| {},
            |_, s| {
                status_mut(s, 2).cmd = crate::syncml::CmdName::Add;
            },
        ),
        (
            "auth-212-with-cred",
            |d, s| {
                d.hdr.cred = Some(Cred {
                    meta: Some(Meta::format("b64")),
                    data: "QnJ1Y2UyOk9oQmVoYXZl".into(),
                });
                status_mut(s, 0).code = StatusCode::from_code(212);
            },
            |_, s| status_mut(s, 0).code = StatusCode::from_code(212),
        ),
        (
            "auth-failure-statuses-only",
            |_, s| {
                status_mut(s, 0).code = StatusCode::from_code(407);
                status_mut(s, 0).chal = Some(Chal {
                    meta: Meta {
                        type_: Some("syncml:auth-md5".into()),
                        format: Some("b64".into()),
                        next_nonce: Some("Tm9uY2U=".into()),
                        ..Meta::default()
                    },
                });
                s.body.commands.truncate(3);
            },
            |_, s| {
                status_mut(s, 0).code = StatusCode::from_code(407);
                status_mut(s, 0).chal = Some(Chal {
                    meta: Meta {
                        type_: Some("syncml:auth-md5".into()),
                        format: Some("b64".into()),
                        next_nonce: Some("Tm9uY2U=".into()),
                        ..Meta::default()
                    },
                });
            },
        ),
        (
            "server-commands",
            |_, _| {},
            |_, s| {
                s.body.commands.insert(
                    3,
                    Command::Results(Results {
                        cmd_id: "8".into(),
                        cmd_ref: "1".into(),
                        items: vec![Item::default()],
                        ..Results::default()
                    }),
                );
            },
        ),
        (
            "server-alert-codes",
            |_, s| s.body.commands.insert(3, alert(1100)),
            |_, s| s.body.commands.insert(3, alert(1226)),
        ),
        (
            "exec-one-item",
            |_, s| {
                s.body.commands.insert(
                    3,
                    Command::Exec(Exec {
                        cmd_id: "8".into(),
                        items: vec![Item::default()],
                        ..Exec::default()
                    }),
                )
            },
            |_, s| {
                s.body.commands.insert(
                    3,
                    Command::Exec(Exec {
                        cmd_id: "8".into(),
                        items: vec![Item::default(), Item::default()],
                        ..Exec::default()
                    }),
                )
            },
        ),
        (
            "cred-only-in-hdr",
            |_, _| {},
            |_, s| {
                if let Some(Command::Get(g)) = s.body.commands.get_mut(3) {
                    g.cred = Some(Cred {
                        meta: None,
                        data: "x".into(),
                    });
                }
            },
        ),
        (
            "abort-alone",
            |_, s| {
                s.body.commands.truncate(3);
                s.body.commands.push(alert(1223));
            },
            |_, s| s.body.commands.push(alert(1223)),
        ),
        ("final-at-end", |_, _| {}, |_, s| s.body.final_flag = false),
    ]
}

#[test]
fn the_reply_as_it_should_be_passes_every_check_that_applies() {
    let (device, server) = messages();
    let tally = run(&device, &server);
    assert_eq!(tally.findings, []);
    assert!(tally.applied.contains("status-every-command"));
}

#[test]
fn each_check_passes_a_good_reply_and_fails_only_on_its_own_rule() {
    for (id, good, bad) in cases() {
        let (mut device, mut server) = messages();
        good(&mut device, &mut server);
        let tally = run(&device, &server);
        assert!(tally.applied.contains(id), "{id} did not apply");
        assert_eq!(tally.findings, [], "{id}: the good reply failed");
        let (mut device, mut server) = messages();
        bad(&mut device, &mut server);
        let tally = run(&device, &server);
        let failed: Vec<&str> = tally.findings.iter().map(|f| f.id).collect();
        assert!(failed.contains(&id), "{id} did not fail: {failed:?}");
        assert!(
            failed.iter().all(|f| *f == id),
            "{id}: others failed too: {failed:?}"
        );
        assert!(tally.findings.iter().all(|f| !f.excerpt.is_empty()), "{id}");
    }
}

#[test]
fn every_check_of_inspect_has_a_case() {
    let cased: Vec<&str> = cases().iter().map(|c| c.0).collect();
    for check in super::checks::CHECKS {
        let devices_own = crate::session::ServerRule::from_id(check.id).is_some();
        assert!(
            devices_own || cased.contains(&check.id),
            "{} has no case",
            check.id
        );
    }
}
