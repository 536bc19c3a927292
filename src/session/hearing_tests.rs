//! The device's agents hear its sessions, end to end against the mock server: a session that
//! fails before it gets through is reported by the Knox E-FOTA client in the next one that does,
//! and the statuses the device sends are reported in its next message, once per code per session,
//! without changing them. Devices and servers are built from scenario text; the server's session
//! faults make the sessions fail; the mock server stays strict (the device breaks no rule).

use super::*;
use crate::device::{Device, SessionFailure};
use crate::efota::Efota;
use crate::inproc::InProcess;
use crate::scenario::load::parse;
use crate::scenario::{build_device, mock_server};
use crate::server::{efota_codes, MockServer};
use crate::syncml::{AlertCode, CmdName, Command, SyncMl};
use std::path::Path;
use std::sync::Arc;

const KNOX: &str = "[device]\nfamily = \"knox-efota\"\n";

const MD5: &str = "[device.auth]\ntype = \"md5\"\nname = \"dev\"\nsecret = \"s\"\nnonce = \"n\"\n";

fn setup(text: &str) -> (Device, Arc<MockServer>) {
    let file = parse(Path::new("t.toml"), &format!("name = \"t\"\n{text}"))
        .expect("valid scenario")
        .file;
    let device = build_device(&file).expect("device");
    (device, Arc::new(mock_server(&file).expect("server")))
}

async fn session(device: &mut Device, server: &Arc<MockServer>) -> SessionReport {
    let transport = InProcess::new(Arc::clone(server));
    run_session(&transport, device, SessionStart::default(), true).await
}

/// The E-FOTA codes of the device's pending reports.
fn pending_codes(device: &Device) -> Vec<String> {
    device
        .reports
        .pending()
        .iter()
        .map(|r| r.alert.data.clone())
        .collect()
}

/// The mock server saw no breach of the protocol by the device.
fn strict(server: &MockServer) {
    for record in server.records() {
        assert!(record.violations.is_empty(), "{:?}", record.violations);
    }
    assert!(server.refused().violations.is_empty());
}

/// Each way a session fails is reported in the next session that gets through, in its Package 1,
/// with the code the profile gives it; the server acknowledges the report and the queue empties.
#[tokio::test(start_paused = true)]
async fn a_failed_session_is_reported_in_the_next_session_that_gets_through() {
    let cases = [
        ("refuse-credentials", "", MD5, "auth-failed", "-2406"),
        ("slow", "value = 120000\n", "", "failed", "-2407"),
        ("server-error", "", "", "failed", "-5000"),
        ("hdr-status", "value = 500\n", "", "failed", "-5000"),
    ];
    for (kind, value, auth, end, code) in cases {
        let (mut device, server) = setup(&format!(
            "{KNOX}{auth}[[server.session_fault]]\nkind = \"{kind}\"\n{value}"
        ));
        let first = session(&mut device, &server).await;
        assert_eq!(first.end.kind(), end, "{kind}: {}", first.end);
        assert_eq!(pending_codes(&device), [code], "{kind}");
        assert!(
            server.session_faults_fired().iter().sum::<u32>() > 0,
            "{kind} fired"
        );
        let second = session(&mut device, &server).await;
        assert_eq!(second.end, SessionEnd::Completed, "{kind}");
        let package1 = crate::syncml::decode(&second.transcript[0].request.body).expect("decodes");
        assert!(
            package1
                .body
                .commands
                .iter()
                .any(|c| matches!(c, Command::Alert(a)
                if a.code == AlertCode::GenericAlert
                    && a.items[0].data_text().as_deref() == Some(code))),
            "{kind}: the report rides Package 1"
        );
        assert!(device.reports.pending().is_empty(), "{kind}: acknowledged");
        let wanted: i64 = code.parse().expect("a code");
        assert_eq!(efota_codes(&server.records()), [wanted], "{kind}");
        strict(&server);
    }
}

/// A session whose server keeps failing the same way is reported once: the device owes one report
/// of it, sent in each session until one gets through.
#[tokio::test(start_paused = true)]
async fn a_device_whose_sessions_keep_failing_owes_one_report() {
    let (mut device, server) = setup(&format!(
        "{KNOX}[[server.session_fault]]\nkind = \"server-error\"\nsession = 1\n\
         [[server.session_fault]]\nkind = \"server-error\"\nsession = 2\n"
    ));
    for _ in 0..2 {
        let failed = session(&mut device, &server).await;
        assert_eq!(failed.end.kind(), "failed");
        assert_eq!(pending_codes(&device), ["-5000"]);
    }
    assert_eq!(server.session_faults_fired(), [1, 1]);
    assert_eq!(
        session(&mut device, &server).await.end,
        SessionEnd::Completed
    );
    let delivered = device.reports.delivered();
    assert_eq!(delivered.len(), 1);
    assert_eq!(delivered[0].attempts, 2, "sent in sessions 2 and 3");
    assert_eq!(efota_codes(&server.records()), [-5000]);
}

/// A device without the E-FOTA client hears its sessions fail and reports nothing: the agents'
/// hooks do nothing by default. A failure that does not name the server (a 503) is no session
/// failure for the E-FOTA client either.
#[tokio::test(start_paused = true)]
async fn only_a_client_that_reports_sessions_reports_them() {
    let (mut plain, server) = setup("[[server.session_fault]]\nkind = \"server-error\"\n");
    assert_eq!(session(&mut plain, &server).await.end.kind(), "failed");
    assert!(plain.reports.pending().is_empty());
    let (mut knox, server) = setup(&format!(
        "{KNOX}[[server.session_fault]]\nkind = \"server-error\"\nvalue = 503\n"
    ));
    assert_eq!(session(&mut knox, &server).await.end.kind(), "failed");
    assert!(knox.reports.pending().is_empty());
    assert_eq!(server.session_faults_fired(), [1]);
}

/// The device's reply to a script of two missing nodes and a read-only one: its statuses and the
/// E-FOTA codes it carries, in order.
async fn reply_to_failing_commands(mut device: Device) -> (Vec<(CmdName, u16)>, Vec<String>) {
    let (_, server) = setup(&format!("{KNOX}{SCRIPT}"));
    let report = session(&mut device, &server).await;
    assert_eq!(report.end, SessionEnd::Completed);
    strict(&server);
    assert_eq!(report.transcript.len(), 2, "Package 1 and one reply");
    let reply: SyncMl = crate::syncml::decode(&report.transcript[1].request.body).expect("decodes");
    let mut statuses = Vec::new();
    let mut codes = Vec::new();
    for cmd in &reply.body.commands {
        match cmd {
            Command::Status(s) => statuses.push((s.cmd.clone(), s.code.code())),
            Command::Alert(a) if a.code == AlertCode::GenericAlert => {
                assert!(statuses.len() == 5, "the reports come after every Status");
                codes.extend(
                    a.items
                        .iter()
                        .filter_map(|i| i.data_text())
                        .map(String::from),
                );
            }
            _ => {}
        }
    }
    (statuses, codes)
}

const SCRIPT: &str = r#"
[[server.package]]
[[server.package.command]]
cmd = "get"
target = "./Ext/EFOTA/License/Seat"
[[server.package.command]]
cmd = "replace"
target = "./Ext/EFOTA/ClientVersion"
data = "9"
[[server.package.command]]
cmd = "get"
target = "./Ext/EFOTA/Config/Proxy"
[[server.package.command]]
cmd = "get"
target = "./Ext/EFOTA/ClientVersion"
"#;

/// Statuses the profile has E-FOTA codes for are reported in the very reply that carries them,
/// after them, once per code (two 404s, one -6404); the statuses are the same with or without
/// the E-FOTA client, which only adds its reports; the server acknowledges them.
#[tokio::test(start_paused = true)]
async fn failed_statuses_are_reported_once_per_code_in_the_same_reply_and_left_as_they_are() {
    let (knox, _) = setup(KNOX);
    let (statuses, codes) = reply_to_failing_commands(knox).await;
    assert_eq!(
        statuses,
        [
            (CmdName::SyncHdr, 200),
            (CmdName::Get, 404),
            (CmdName::Replace, 405),
            (CmdName::Get, 404),
            (CmdName::Get, 200),
        ]
    );
    assert_eq!(codes, ["-6404", "-6405"]);
    let (mut without, _) = setup(KNOX);
    without
        .agents
        .retain(|a| a.as_any().downcast_ref::<Efota>().is_none());
    let (same, none) = reply_to_failing_commands(without).await;
    assert_eq!(same, statuses);
    assert!(none.is_empty());
}

/// Each session reports its statuses afresh, and a report acknowledged earlier in a session does
/// not stand in for a new one: two sessions with a 404 each report -6404 twice, each delivered.
#[tokio::test(start_paused = true)]
async fn each_session_reports_its_statuses_afresh() {
    let (mut device, server) = setup(&format!(
        "{KNOX}[[server.package]]\nsession = \"every\"\n[[server.package.command]]\n\
         cmd = \"get\"\ntarget = \"./Ext/EFOTA/Nope\"\n"
    ));
    for _ in 0..2 {
        assert_eq!(
            session(&mut device, &server).await.end,
            SessionEnd::Completed
        );
        assert!(device.reports.pending().is_empty());
    }
    assert_eq!(efota_codes(&server.records()), [-6404, -6404]);
    assert_eq!(device.reports.delivered().len(), 2);
    let efota = crate::scenario::family::efota(&device).expect("the client");
    assert!(efota.statuses.reported().is_empty(), "forgotten at the end");
}

/// A 5xx Status for the device's SyncHdr ends the session at once, as the server's failure: the
/// device sends nothing more, and runs none of the commands of that message.
#[test]
fn a_5xx_for_the_devices_synchdr_ends_the_session_as_the_servers_failure() {
    let (mut device, _) = setup(KNOX);
    let (mut client, out) = ClientSession::start(&mut device, SessionStart::default()).expect("ok");
    let pkg1 = crate::syncml::decode(&out.request.body).expect("decodes");
    let hdr = Command::Status(crate::syncml::Status::for_header(
        &pkg1,
        crate::syncml::StatusCode::CommandFailed,
        None,
    ));
    let get = Command::Get(crate::syncml::Get {
        cmd_id: "2".into(),
        items: vec![crate::syncml::Item {
            target: Some(crate::syncml::Location::uri("./Ext/EFOTA/Nope")),
            ..Default::default()
        }],
        ..Default::default()
    });
    let mut reply = pkg1.clone();
    std::mem::swap(&mut reply.hdr.source, &mut reply.hdr.target);
    reply.body.commands = vec![hdr, get];
    let response = crate::protocol::http::HttpResponse {
        status: 200,
        content_type: crate::syncml::CONTENT_TYPE_XML.into(),
        hmac: None,
        body: crate::syncml::xml::encode(&reply),
    };
    match client.receive(&mut device, &response) {
        Step::Done(SessionEnd::Failed { reason }) => {
            assert!(reason.contains("500"), "{reason}")
        }
        other => panic!("expected the session to end, got {other:?}"),
    }
    assert_eq!(client.failure(), Some(SessionFailure::ServerError));
    assert!(device.reports.pending().is_empty(), "the Get was not run");
}

/// A command on another agent's node (a server reading back a SCOMO component that is not there)
/// fails as it always did, and is not the E-FOTA client's to report; one not executed inside an
/// Atomic (no TargetRef in its Status) is, when it addressed the client.
#[tokio::test(start_paused = true)]
async fn only_the_commands_addressed_to_the_client_are_reported() {
    let (mut device, server) = setup(&format!(
        "{KNOX}[[server.package]]\n[[server.package.command]]\ncmd = \"get\"\n\
         target = \"./SCOMO/Inventory/Deployed/gone/State\"\n"
    ));
    assert_eq!(
        session(&mut device, &server).await.end,
        SessionEnd::Completed
    );
    let codes: Vec<u16> = server.records()[0]
        .statuses
        .iter()
        .map(|s| s.code.code())
        .collect();
    assert_eq!(codes, [200, 404]);
    assert!(efota_codes(&server.records()).is_empty());
    assert!(device.reports.pending().is_empty() && device.reports.delivered().is_empty());

    let (mut device, server) = setup(&format!(
        "{KNOX}[[server.package]]\n[[server.package.command]]\ncmd = \"sequence\"\n\
         [[server.package.command.command]]\ncmd = \"get\"\ntarget = \"./Ext/EFOTA/Nope\"\n\
         [[server.package.command.command]]\ncmd = \"get\"\ntarget = \"./Ext/EFOTA/ClientVersion\"\n"
    ));
    assert_eq!(
        session(&mut device, &server).await.end,
        SessionEnd::Completed
    );
    let statuses: Vec<(String, u16, Option<String>)> = server.records()[0]
        .statuses
        .iter()
        .map(|s| (s.cmd.to_string(), s.code.code(), s.target_ref.clone()))
        .collect();
    assert_eq!(statuses[3], ("Get".to_string(), 215, None));
    assert_eq!(efota_codes(&server.records()), [-6404, -6215]);
}
