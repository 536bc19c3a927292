//! The mock server's session faults against a real device session (built from scenario text, run
//! over the in-process transport): each fault fires where it is placed and only there, counts only
//! when it changes an answer, and leaves the server strict.

use super::*;
use crate::device::Device;
use crate::inproc::InProcess;
use crate::scenario::load::parse;
use crate::scenario::{build_device, mock_server};
use crate::session::{run_session, SessionEnd, SessionReport, SessionStart};
use crate::syncml::{Command, StatusCode};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const MD5: &str = "[device.auth]\ntype = \"md5\"\nname = \"dev\"\nsecret = \"s\"\nnonce = \"n\"\n";

fn setup(text: &str) -> (Device, Arc<MockServer>) {
    let file = parse(Path::new("t.toml"), &format!("name = \"t\"\n{text}"))
        .expect("valid scenario")
        .file;
    (
        build_device(&file).expect("device"),
        Arc::new(mock_server(&file).expect("server")),
    )
}

async fn session(device: &mut Device, server: &Arc<MockServer>) -> SessionReport {
    run_session(
        &InProcess::new(Arc::clone(server)),
        device,
        SessionStart::default(),
        true,
    )
    .await
}

/// The codes of the server's SyncHdr Statuses in a session, message by message.
fn hdr_codes(report: &SessionReport) -> Vec<u16> {
    report
        .transcript
        .iter()
        .filter_map(|e| e.response.as_ref().ok())
        .filter_map(|r| crate::syncml::decode(&r.body).ok())
        .filter_map(|m| {
            m.body.commands.iter().find_map(|c| match c {
                Command::Status(s) if s.cmd == crate::syncml::CmdName::SyncHdr => {
                    Some(s.code.code())
                }
                _ => None,
            })
        })
        .collect()
}

fn strict(server: &MockServer) {
    for record in server.records() {
        assert!(record.violations.is_empty(), "{:?}", record.violations);
    }
}

/// `refuse-credentials` refuses credentials the server would have accepted, in the session it
/// names only, and counts each refusal; the next session authenticates at once.
#[tokio::test(start_paused = true)]
async fn refused_credentials_only_in_the_session_named() {
    let (mut device, server) = setup(&format!(
        "{MD5}[[server.session_fault]]\nkind = \"refuse-credentials\"\nsession = 2\n"
    ));
    let first = session(&mut device, &server).await;
    assert_eq!(
        (first.end.clone(), hdr_codes(&first)),
        (SessionEnd::Completed, vec![212])
    );
    let second = session(&mut device, &server).await;
    assert_eq!(
        second.end,
        SessionEnd::AuthFailed {
            code: StatusCode::InvalidCredentials
        }
    );
    assert_eq!(hdr_codes(&second), [401, 401, 401]);
    assert_eq!(server.session_faults_fired(), [3]);
    let third = session(&mut device, &server).await;
    assert_eq!(hdr_codes(&third), [212]);
    // Failed sessions count for the faults, not for the script: the third session was the
    // device's second that got through.
    let ordinals: Vec<u32> = server.records().iter().map(|r| r.ordinal).collect();
    assert_eq!(ordinals, [1, 0, 2]);
    strict(&server);
}

/// Without device authentication there is nothing to refuse: the fault never fires.
#[tokio::test(start_paused = true)]
async fn refusing_credentials_needs_a_server_that_authenticates() {
    let (mut device, server) = setup("[[server.session_fault]]\nkind = \"refuse-credentials\"\n");
    assert_eq!(
        session(&mut device, &server).await.end,
        SessionEnd::Completed
    );
    assert_eq!(server.session_faults_fired(), [0]);
}

/// `server-error` answers HTTP 500 and keeps nothing of the message; `hdr-status` answers the
/// SyncHdr and every command with its Status, Final, without authenticating the device, so its
/// nonce is unchanged and the next session authenticates at once.
#[tokio::test(start_paused = true)]
async fn a_failing_server_keeps_nothing_and_leaves_the_nonces_alone() {
    let (mut device, server) =
        setup("[[server.session_fault]]\nkind = \"server-error\"\nvalue = 502\n");
    let failed = session(&mut device, &server).await;
    assert_eq!(failed.end.kind(), "failed");
    assert!(
        failed.end.to_string().contains("HTTP 502"),
        "{}",
        failed.end
    );
    let records = server.records();
    assert!(records[0].alerts.is_empty() && records[0].ended);
    assert_eq!(server.session_faults_fired(), [1]);

    let (mut device, server) = setup(&format!(
        "{MD5}[[server.session_fault]]\nkind = \"hdr-status\"\nvalue = 503\n"
    ));
    let failed = session(&mut device, &server).await;
    assert_eq!(hdr_codes(&failed), [503]);
    let answer = failed.transcript[0].response.as_ref().expect("answered");
    let msg = crate::syncml::decode(&answer.body).expect("SyncML");
    assert!(msg.body.final_flag);
    let codes: Vec<u16> = msg
        .body
        .commands
        .iter()
        .filter_map(|c| match c {
            Command::Status(s) => Some(s.code.code()),
            _ => None,
        })
        .collect();
    assert_eq!(codes, [503, 503, 503], "SyncHdr, Alert 1201, Replace");
    assert!(msg.body.commands.iter().all(|c| match c {
        Command::Status(s) => s.chal.is_none(),
        _ => true,
    }));
    assert_eq!(hdr_codes(&session(&mut device, &server).await), [212]);
    strict(&server);
}

/// `slow` answers late from the message it names on: the message before it is answered at once.
/// `handle` gives the answer at once; `answer` says how late.
#[tokio::test(start_paused = true)]
async fn a_slow_answer_is_late_from_the_message_named() {
    let (mut device, server) = setup(
        "[[server.session_fault]]\nkind = \"slow\"\nvalue = 90000\nmessage = 2\n\
         [[server.package]]\n[[server.package.command]]\ncmd = \"get\"\ntarget = \"./DevInfo/Mod\"\n",
    );
    let started = tokio::time::Instant::now();
    let report = session(&mut device, &server).await;
    assert_eq!(report.end.kind(), "failed");
    assert!(
        report.end.to_string().contains("timed out"),
        "{}",
        report.end
    );
    assert_eq!(report.transcript.len(), 2);
    assert!(report.transcript[0].response.is_ok());
    assert_eq!(
        started.elapsed(),
        crate::protocol::http::DEFAULT_REQUEST_TIMEOUT
    );
    assert_eq!(server.session_faults_fired(), [1]);
    // The server took the late message in: the device's Statuses are recorded.
    assert_eq!(server.records()[0].statuses.len(), 2);

    let late = Arc::new(MockServer::new(ServerConfig {
        session_faults: vec![SessionFault {
            session: 1,
            message: 1,
            kind: SessionFaultKind::Slow(Duration::from_secs(5)),
        }],
        ..ServerConfig::default()
    }));
    let (mut device, _) = setup("");
    let (_, out) =
        crate::session::ClientSession::start(&mut device, SessionStart::default()).expect("ok");
    let answer = late.answer(&out.request);
    assert_eq!(answer.delay, Some(Duration::from_secs(5)));
    assert_eq!(answer.response.status, 200);
}
