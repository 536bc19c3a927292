//! The `dmsim` binary: exit codes, reports and error messages as a user sees them.

use std::path::PathBuf;
use std::process::Command;

fn dmsim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_dmsim"))
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dmsim-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

const PASSING: &str = r#"
name = "get model"
[[server.package]]
[[server.package.command]]
cmd = "get"
target = "./DevInfo/Mod"
[expect]
end = "completed"
status = [{ cmd = "SyncHdr", code = 200 }, { cmd = "Get", code = 200 }]
"#;

#[test]
fn a_passing_run_exits_0_and_writes_json_and_junit() {
    let dir = temp_dir("pass");
    std::fs::write(dir.join("ok.toml"), PASSING).expect("write");
    let out = dmsim()
        .arg("run")
        .arg(&dir)
        .arg("--json")
        .arg(dir.join("r.json"))
        .arg("--junit")
        .arg(dir.join("r.xml"))
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let json = std::fs::read_to_string(dir.join("r.json")).expect("json written");
    assert!(json.contains("\"family\": \"syncml-status\""), "{json}");
    let junit = std::fs::read_to_string(dir.join("r.xml")).expect("junit written");
    assert!(junit.contains("<testcase name=\"get model\""), "{junit}");
}

#[test]
fn a_failing_expectation_exits_1_and_says_why() {
    let dir = temp_dir("fail");
    let text = PASSING.replace(
        r#"{ cmd = "Get", code = 200 }"#,
        r#"{ cmd = "Get", code = 404 }"#,
    );
    std::fs::write(dir.join("bad.toml"), text).expect("write");
    let out = dmsim().arg("run").arg(&dir).output().expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("FAIL")
            && stdout.contains(
                "the server received Statuses [SyncHdr IMEI:356938035643809 200, Get ./DevInfo/Mod 200], expected exactly [SyncHdr 200, Get 404]"
            ),
        "{stdout}"
    );
}

#[test]
fn a_bad_file_exits_2_naming_file_and_line() {
    let dir = temp_dir("invalid");
    std::fs::write(
        dir.join("broken.toml"),
        "name = \"x\"\n[device]\ncolour = \"red\"\n",
    )
    .expect("write");
    let out = dmsim().arg("run").arg(&dir).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("broken.toml:3:1") && stderr.contains("colour"),
        "{stderr}"
    );
}

#[test]
fn a_bad_flag_or_missing_path_exits_2() {
    let out = dmsim()
        .args(["run", "--no-such-flag", "x"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let out = dmsim()
        .args(["run", "/no/such/dir"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/syncml")
        .join(name)
}

#[test]
fn decode_reads_messages_written_by_other_implementations() {
    let cases = [
        (
            "samsung-pkg1.xml",
            "<LocURI>./DevInfo/Ext/FotaClientVer</LocURI>",
        ),
        (
            "server-pkg2-prefixed.xml",
            "<NextNonce xmlns=\"syncml:metinf\">bm9uY2UyMDI2</NextNonce>",
        ),
        (
            "server-pkg2-prefixed.xml",
            "<Correlator>job-1138</Correlator>",
        ),
        ("libdmclient-generic-alert.xml", "<Data>1226</Data>"),
        (
            "crlf-bom-cdata.xml",
            "&lt;Config&gt;&lt;Mode&gt;kiosk&lt;/Mode&gt;&lt;/Config&gt;",
        ),
    ];
    for (file, expected) in cases {
        let out = dmsim()
            .arg("decode")
            .arg(fixture(file))
            .output()
            .expect("runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains(expected),
            "{file}: no {expected} in\n{stdout}"
        );
    }
}

#[test]
fn decode_prints_json_on_request() {
    let out = dmsim()
        .arg("decode")
        .arg("--json")
        .arg(fixture("libdmclient-generic-alert.xml"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["hdr"]["session_id"], "1");
    assert_eq!(json["body"]["commands"][1]["Alert"]["code"], 1226);
    assert_eq!(json["body"]["commands"][1]["Alert"]["correlator"], "abc123");
}

#[test]
fn decode_rejects_a_truncated_file_naming_the_position() {
    let out = dmsim()
        .arg("decode")
        .arg(fixture("truncated.xml"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("truncated.xml") && stderr.contains("line 15, column 3"),
        "{stderr}"
    );
    let out = dmsim()
        .arg("decode")
        .arg(fixture("no-such-file.xml"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn encode_to_wbxml_and_decode_it_back() {
    let dir = temp_dir("wbxml");
    let wbxml = dir.join("pkg1.wbxml");
    let out = dmsim()
        .arg("encode")
        .arg(fixture("samsung-pkg1.xml"))
        .arg("--wbxml")
        .arg("-o")
        .arg(&wbxml)
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&wbxml).expect("written");
    assert_eq!(
        &bytes[..4],
        &[0x02, 0xA4, 0x01, 0x6A],
        "WBXML 1.2, SyncML 1.2 public id, UTF-8"
    );
    let decoded = dmsim().arg("decode").arg(&wbxml).output().expect("runs");
    assert_eq!(decoded.status.code(), Some(0));
    let original = dmsim()
        .arg("decode")
        .arg(fixture("samsung-pkg1.xml"))
        .output()
        .expect("runs");
    assert_eq!(
        decoded.stdout, original.stdout,
        "the same message either way"
    );
    std::fs::write(dir.join("cut.wbxml"), &bytes[..bytes.len() / 2]).expect("write");
    let cut = dmsim()
        .arg("decode")
        .arg(dir.join("cut.wbxml"))
        .output()
        .expect("runs");
    assert_eq!(cut.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&cut.stderr).contains("byte"),
        "names the byte offset"
    );
}

/// `--state-dir` keeps each scenario's device state in files: the firmware the device ended on,
/// its FUMO State, and its package store, readable after the run; a second run starts afresh.
#[test]
fn a_fumo_run_keeps_device_state_in_the_state_dir() {
    let dir = temp_dir("state");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let scenario = root.join("scenarios/fumo/download-then-update.toml");
    for _ in 0..2 {
        let out = dmsim()
            .current_dir(&root)
            .arg("run")
            .arg(&scenario)
            .arg("--state-dir")
            .arg(&dir)
            .output()
            .expect("runs");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    let device_dir = std::fs::read_dir(&dir)
        .expect("state dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.to_string_lossy().ends_with("download-then-update"))
        .expect("a directory for the scenario");
    let files: Vec<String> = std::fs::read_dir(&device_dir)
        .expect("device dir")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    let state = files
        .iter()
        .find(|f| f.starts_with("IMEI") && !f.contains("_23package"))
        .map(|f| std::fs::read_to_string(device_dir.join(f)).expect("state file"))
        .unwrap_or_else(|| panic!("no device state among {files:?}"));
    assert!(state.contains("\"FW-1.1.0\""), "{state}");
    assert!(state.contains("UpdateSuccessfulHaveData"), "{state}");
    assert!(
        files.iter().any(|f| f.contains("_23package")),
        "the kept package is stored: {files:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The files of a capture directory's one scenario, sorted.
fn captured(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let scenarios: Vec<_> = std::fs::read_dir(dir)
        .expect("capture dir")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(scenarios.len(), 1, "{scenarios:?}");
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&scenarios[0])
        .expect("scenario dir")
        .map(|e| {
            let path = e.expect("entry").path();
            let name = path
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            (name, std::fs::read(&path).expect("read"))
        })
        .collect();
    files.sort();
    files
}

#[test]
fn capture_writes_every_message_raw() {
    let dir = temp_dir("capture");
    std::fs::write(dir.join("ok.toml"), PASSING).expect("write");
    let capture = dir.join("cap");
    for (encoding, ext) in [("xml", "xml"), ("wbxml", "wbxml")] {
        let out = dmsim()
            .arg("run")
            .arg(dir.join("ok.toml"))
            .args(["--encoding", encoding, "--capture"])
            .arg(&capture)
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        // A second run replaces the first one's files.
        let files = captured(&capture);
        assert_eq!(files.len(), 4, "Package 1 to 4: {files:?}");
        for (i, (name, body)) in files.iter().enumerate() {
            let side = if i % 2 == 0 { "device" } else { "server" };
            assert_eq!(name, &format!("{:03}-{side}.{ext}", i + 1));
            let label = format!("application/vnd.syncml.dm+{ext}");
            let (_, msg) = dmsim::syncml::decode_labelled(&label, body).expect("a message");
            assert_eq!(msg.hdr.msg_id, ((i / 2) + 1).to_string(), "{name}");
        }
    }
}
