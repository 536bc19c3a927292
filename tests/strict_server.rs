//! The mock server is as strict as the specification: device messages written by hand that break a
//! rule are recorded as violations (and a scenario run and its JSON report show them), while the
//! simulated device keeps to the server's MaxMsgSize whatever the limit.

use dmsim::inproc::InProcess;
use dmsim::protocol::http::HttpRequest;
use dmsim::scenario::load::parse;
use dmsim::scenario::{build_device, mock_server};
use dmsim::scenario::{report, run_all, RunOptions, Verdict};
use dmsim::server::{DeviceViolation, MockServer, Rule, ScriptPackage, ServerConfig};
use dmsim::session::{run_session, SessionEnd, SessionStart};
use dmsim::syncml::{self, Command, Encoding, SyncMl};
use std::path::Path;
use std::sync::Arc;

const SERVER: &str = "https://dm.dmsim.test/dm";

/// The server's script: an Add sent as a chunk with MoreData (CmdID 4 of its first message, after
/// the Statuses for the SyncHdr, the Alert and the Replace) and a Get (CmdID 5).
const SCRIPT: &str = r#"
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

fn server(max_msg_size: Option<u64>) -> MockServer {
    #[derive(serde::Deserialize)]
    struct Script {
        package: Vec<ScriptPackage>,
    }
    let script: Script = toml::from_str(SCRIPT).expect("valid script");
    MockServer::new(ServerConfig {
        server_id: "dmsim".into(),
        url: SERVER.into(),
        packages: script.package,
        seed: 7,
        max_msg_size,
        ..ServerConfig::default()
    })
}

/// A device message as XML text, written out by hand.
fn message(msg_id: u32, body: &str, final_flag: bool) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><SyncML xmlns=\"SYNCML:SYNCML1.2\"><SyncHdr>\
         <VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID>\
         <MsgID>{msg_id}</MsgID><Target><LocURI>{SERVER}</LocURI></Target>\
         <Source><LocURI>IMEI:1</LocURI></Source>\
         <Meta><MaxMsgSize xmlns=\"syncml:metinf\">16384</MaxMsgSize></Meta></SyncHdr>\
         <SyncBody>{body}{}</SyncBody></SyncML>",
        if final_flag { "<Final/>" } else { "" }
    )
}

const PACKAGE1: &str = "<Alert><CmdID>1</CmdID><Data>1201</Data></Alert>\
    <Replace><CmdID>2</CmdID><Item><Source><LocURI>./DevInfo/Mod</LocURI></Source>\
    <Data>SIM-1</Data></Item></Replace>";

/// POST bytes as the device would; the server's answer, decoded.
fn post(server: &MockServer, body: Vec<u8>, encoding: Encoding) -> SyncMl {
    let response = server.handle(&HttpRequest {
        url: SERVER.into(),
        content_type: encoding.content_type().into(),
        hmac: None,
        body,
    });
    assert_eq!(response.status, 200);
    syncml::decode(&response.body).expect("the server's message decodes")
}

/// Package 1, then `reply` (the body of the device's message 2, answering the Add chunk and the
/// Get): the violations the server recorded.
fn exchange(server: &MockServer, reply: &str) -> Vec<DeviceViolation> {
    let pkg2 = post(
        server,
        message(1, PACKAGE1, true).into_bytes(),
        Encoding::Xml,
    );
    let ids: Vec<(&str, bool)> = pkg2
        .body
        .commands
        .iter()
        .filter(|c| !matches!(c, Command::Status(_)))
        .map(|c| (c.cmd_id(), c.items().iter().any(|i| i.more_data)))
        .collect();
    assert_eq!(ids, [("4", true), ("5", false)], "the script as sent");
    post(server, message(2, reply, true).into_bytes(), Encoding::Xml);
    server
        .records()
        .into_iter()
        .flat_map(|r| r.violations)
        .collect()
}

const HDR_STATUS: &str = "<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef>\
    <Cmd>SyncHdr</Cmd><TargetRef>IMEI:1</TargetRef><SourceRef>https://dm.dmsim.test/dm</SourceRef>\
    <Data>200</Data></Status>";

fn status(cmd_id: u32, cmd_ref: u32, cmd: &str, code: &str) -> String {
    format!(
        "<Status><CmdID>{cmd_id}</CmdID><MsgRef>1</MsgRef><CmdRef>{cmd_ref}</CmdRef>\
         <Cmd>{cmd}</Cmd><Data>{code}</Data></Status>"
    )
}

fn results(cmd_id: u32, data: &str) -> String {
    format!(
        "<Results><CmdID>{cmd_id}</CmdID><MsgRef>1</MsgRef><CmdRef>5</CmdRef><Item>\
         <Source><LocURI>./DevInfo/Mod</LocURI></Source><Data>{data}</Data></Item></Results>"
    )
}

/// The rule-abiding answer: 213 for the chunk, 200 and Results for the Get.
fn good_reply(data: &str) -> String {
    format!(
        "{HDR_STATUS}{}{}{}",
        status(2, 4, "Add", "213"),
        status(3, 5, "Get", "200"),
        results(4, data)
    )
}

#[test]
fn a_device_that_keeps_the_rules_is_accused_of_nothing() {
    assert_eq!(exchange(&server(Some(1000)), &good_reply("SIM-1")), []);
}

#[test]
fn a_device_message_over_the_servers_max_msg_size_is_recorded() {
    let reply = good_reply(&"M".repeat(600));
    let size = message(2, &reply, true).len();
    assert!(size > 1000);
    let found = exchange(&server(Some(1000)), &reply);
    assert_eq!(
        found,
        [DeviceViolation {
            rule: Rule::MaxMsgSize,
            msg_id: "2".into(),
            cmd_id: None,
            detail: format!("{size} bytes, over the server's MaxMsgSize of 1000"),
        }]
    );
    // Package 1 was larger than nothing at all, but went before the server announced a limit.
    assert!(exchange(&server(Some(100)), &good_reply("SIM-1"))
        .iter()
        .all(|v| v.msg_id == "2"));
}

#[test]
fn a_status_0_is_recorded() {
    let reply = format!(
        "{HDR_STATUS}{}{}{}",
        status(2, 4, "Add", "213"),
        status(3, 5, "Get", "0"),
        results(4, "SIM-1")
    );
    let found = exchange(&server(None), &reply);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (
            found[0].rule,
            found[0].msg_id.as_str(),
            found[0].cmd_id.as_deref()
        ),
        (Rule::StatusCode, "2", Some("3"))
    );
    assert_eq!(
        found[0].to_string(),
        "DM status codes (reference §3): device message 2, command 3: \
         Status 0 for Get 5 of server message 1 is not a DM status code"
    );
}

#[test]
fn a_200_for_a_chunk_with_more_data_is_recorded() {
    let reply = format!(
        "{HDR_STATUS}{}{}{}",
        status(2, 4, "Add", "200"),
        status(3, 5, "Get", "200"),
        results(4, "SIM-1")
    );
    let found = exchange(&server(None), &reply);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (
            found[0].rule,
            found[0].msg_id.as_str(),
            found[0].cmd_id.as_deref()
        ),
        (Rule::ChunkStatus, "2", Some("2"))
    );
    assert!(
        found[0].to_string().contains(
            "Status 200 for Add 4 of server message 1, a chunk sent with MoreData: \
             213 (Chunked item accepted and buffered) is due"
        ),
        "{}",
        found[0]
    );
}

#[test]
fn a_nul_in_chr_data_is_recorded_in_xml_and_in_wbxml() {
    // In XML the NUL byte is in the text; in WBXML it is an entity inside an inline string.
    let found = exchange(&server(None), &good_reply("SIM\u{0}1"));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (
            found[0].rule,
            found[0].msg_id.as_str(),
            found[0].cmd_id.as_deref()
        ),
        (Rule::ChrData, "2", Some("4"))
    );
    assert!(found[0]
        .detail
        .contains("Results item ./DevInfo/Mod has chr data with a NUL at byte 3"));

    let s = server(None);
    let pkg1 = syncml::xml::decode(message(1, PACKAGE1, true).as_bytes()).expect("decodes");
    post(&s, Encoding::Wbxml.encode(&pkg1), Encoding::Wbxml);
    let reply = syncml::xml::decode(message(2, &good_reply("SIM\u{0}1"), true).as_bytes())
        .expect("decodes");
    post(&s, Encoding::Wbxml.encode(&reply), Encoding::Wbxml);
    let rules: Vec<Rule> = s.records()[0].violations.iter().map(|v| v.rule).collect();
    assert_eq!(rules, [Rule::ChrData]);
}

/// Several packages, large objects both ways, listings: a session whose device messages are
/// mostly larger than a small MaxMsgSize.
const BUSY: &str = r#"
name = "busy"
seed = 3

[server]
max_obj_size = 1048576                      # it takes large objects (the device's log goes in chunks)

[[device.node]]
uri = "./Vendor"
format = "node"
acl = "Add=*&Get=*&Replace=*"

[[device.node]]
uri = "./Vendor/Log"
value = "2026-01-01T00:00:00Z boot ok; "
repeat = 120

[[device.node]]
uri = "./Vendor/Note"
value = "a & b < c > d\r\n"
repeat = 40

[[server.package]]
[[server.package.command]]
cmd = "get"
target = "./DevInfo?list=StructData"
[[server.package.command]]
cmd = "get"
target = "./Vendor/Log"

[[server.package]]
[[server.package.command]]
cmd = "add"
target = "./Vendor/Blob"
data = "0123456789abcdef"
repeat = 200
[[server.package.command]]
cmd = "get"
target = "./Vendor/Note"
[[server.package.command]]
cmd = "get"
target = "./DevDetail?list=StructData"

[[server.package]]
[[server.package.command]]
cmd = "get"
target = "./Vendor/Blob"
[[server.package.command]]
cmd = "get"
target = "./DevInfo/Mod"
"#;

#[tokio::test(start_paused = true)]
async fn the_device_never_exceeds_the_servers_max_msg_size() {
    let scenario = parse(Path::new("busy.toml"), BUSY).expect("valid scenario");
    for encoding in [Encoding::Xml, Encoding::Wbxml] {
        let mut smallest_completed = None;
        for max in (400..=4000u64).step_by(50) {
            let mut file = scenario.file.clone();
            file.device.encoding = encoding;
            file.server.max_msg_size = Some(max);
            let mut device = build_device(&file).expect("device");
            let server = Arc::new(mock_server(&file).expect("server"));
            let start = SessionStart {
                server_id: Some(file.server.server_id.clone()),
                ..SessionStart::default()
            };
            let report =
                run_session(&InProcess::new(server.clone()), &mut device, start, true).await;
            let sizes: Vec<usize> = report
                .transcript
                .iter()
                .map(|e| e.request.body.len())
                .collect();
            // Package 1 goes before the server's limit is known; every later message keeps to it.
            for (n, size) in sizes.iter().enumerate().skip(1) {
                assert!(
                    *size as u64 <= max,
                    "{encoding:?} {max}: device message {} is {size} bytes",
                    n + 1
                );
            }
            let violations: Vec<String> = server
                .records()
                .iter()
                .flat_map(|r| &r.violations)
                .map(ToString::to_string)
                .collect();
            assert_eq!(violations, Vec::<String>::new(), "{encoding:?} {max}");
            match &report.end {
                SessionEnd::Completed => {
                    smallest_completed.get_or_insert(max);
                    assert!(device
                        .tree
                        .value("./Vendor/Blob")
                        .is_some_and(|v| v.len() == 3200));
                    // The 3600-byte log went in chunks: it cannot go whole in these messages.
                    let chunked = report.transcript.iter().any(|e| {
                        syncml::decode(&e.request.body).is_ok_and(|m| {
                            m.body
                                .commands
                                .iter()
                                .any(|c| c.items().iter().any(|i| i.more_data))
                        })
                    });
                    assert!(chunked || max > 3600, "{encoding:?} {max}");
                }
                // Below what one reply needs, the device gives up rather than break the limit.
                SessionEnd::AbortedByDevice { reason } | SessionEnd::Failed { reason } => {
                    assert!(
                        reason.contains("MaxMsgSize"),
                        "{encoding:?} {max}: {reason}"
                    );
                    assert!(
                        smallest_completed.is_none(),
                        "{encoding:?} {max}: gave up above a limit that worked"
                    );
                }
                other => panic!("{encoding:?} {max}: {other}"),
            }
        }
        let smallest = smallest_completed.expect("some limit works");
        let bound = match encoding {
            Encoding::Xml => 1000,
            Encoding::Wbxml => 450,
        };
        assert!(
            smallest <= bound,
            "{encoding:?}: sessions complete from {smallest} bytes"
        );
    }
}

#[test]
fn the_runner_and_the_json_report_see_what_the_device_broke() {
    // The simulated user types a NUL into a text input, and the device returns what was typed
    // (its widget only cuts to MAXLEN): chr data with a NUL in the Status item.
    let text = r#"
name = "a user types a NUL"
[device.ui]
answers = ["input:a\u0000b"]
[[server.package]]
[[server.package.command]]
cmd = "alert"
code = 1102
text = "Name?"
[expect]
end = "completed"
"#;
    let scenario = parse(Path::new("nul.toml"), text).expect("valid scenario");
    let results = run_all(&[scenario], &RunOptions::default()).expect("runtime");
    let result = &results[0];
    assert_eq!(result.verdict, Verdict::Failed);
    let detail =
        "an item of the Status for Alert 4 of server message 1 has chr data with a NUL at byte 1";
    assert_eq!(
        result.failures,
        [format!(
            "the device broke a protocol rule: chr data is text without NUL (reference §8.5): \
             device message 2, command 2: {detail}"
        )]
    );
    let json: serde_json::Value =
        serde_json::from_str(&report::json(&results)).expect("the report is JSON");
    assert_eq!(
        json["scenarios"][0]["violations"],
        serde_json::json!([{
            "rule": "chr-data",
            "msg_id": "2",
            "cmd_id": "2",
            "detail": detail,
        }])
    );
}
