//! The `dmsim` binary: exit codes, reports and error messages as a user sees them.

use dmsim::syncml::{self, wbxml, Command as SyncCommand, Data, Item, ItemCommand, Location};
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
        // Embedded XML (Format xml, in CDATA or inline) is printed as XML, not escaped.
        (
            "crlf-bom-cdata.xml",
            "<Meta>\n          <Format xmlns=\"syncml:metinf\">xml</Format>\n        </Meta>\n        <Data><Config><Mode>kiosk</Mode></Config></Data>",
        ),
        (
            "crlf-bom-cdata.xml",
            "<LocURI>./DevDetail/Ext/Inline</LocURI>\n        </Source>\n        <Data><Config><Mode>kiosk</Mode></Config></Data>",
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
    let alert = &json["body"]["commands"][1];
    assert_eq!(alert["command"], "Alert");
    assert_eq!(alert["code"], 1226);
    assert_eq!(alert["correlator"], "abc123");
    assert_eq!(alert["items"][0]["meta"]["format"], "int");
    assert_eq!(alert["items"][0]["data"], "410");
    assert_eq!(json["body"]["final"], true);
    // No nulls, no empty lists, no false flags, no Rust field names.
    let mut stack = vec![&json];
    while let Some(v) = stack.pop() {
        match v {
            serde_json::Value::Object(map) => {
                for (key, value) in map {
                    assert!(!key.ends_with('_'), "key {key}");
                    assert!(key != "final_flag", "key {key}");
                    assert!(!value.is_null() && value != false, "{key}: {value}");
                    if key != "commands" {
                        assert!(value.as_array().is_none_or(|a| !a.is_empty()), "{key}");
                    }
                    stack.push(value);
                }
            }
            serde_json::Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
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
    // One line, said once, starting with where the problem is.
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("dmsim: ") && stderr.contains("truncated.xml:15:3: malformed XML: "),
        "{stderr}"
    );
    assert_eq!(stderr.matches("comment not closed").count(), 1, "{stderr}");
    let out = dmsim()
        .arg("decode")
        .arg(fixture("no-such-file.xml"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
}

/// What the decoder read past is said on standard error, one line each; the message still decodes
/// and standard output holds it alone.
#[test]
fn decode_says_what_it_read_past() {
    let dir = temp_dir("decode-notes");
    let file = dir.join("old-namespace.xml");
    std::fs::write(
        &file,
        "<SyncML xmlns=\"SYNCML:SYNCML1.1\"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto>\
         <SessionID>1</SessionID><MsgID>1</MsgID><Target><LocURI>x</LocURI></Target>\
         <Source><LocURI>y</LocURI></Source></SyncHdr><SyncBody><Final/></SyncBody></SyncML>",
    )
    .expect("write");
    let out = dmsim().arg("decode").arg(&file).output().expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("old-namespace.xml: note: at SyncML: ")
            && stderr.contains("\"SYNCML:SYNCML1.1\""),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("<SyncML xmlns=\"SYNCML:SYNCML1.2\">"),
        "{stdout}"
    );
    assert!(!stdout.contains("note:"), "{stdout}");
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
    let stderr = String::from_utf8_lossy(&cut.stderr);
    assert!(
        stderr.contains("cut.wbxml: byte "),
        "names the byte offset: {stderr}"
    );
    assert_eq!(
        stderr.matches("unexpected end of input").count(),
        1,
        "{stderr}"
    );
}

/// Runs dmsim with `args`, `input` on its standard input.
fn dmsim_with_stdin(args: &[&str], input: &[u8]) -> std::process::Output {
    use std::io::Write;
    let mut child = dmsim()
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(input).expect("writes stdin");
    drop(stdin);
    child.wait_with_output().expect("ends")
}

#[test]
fn dash_is_standard_input_and_output() {
    let xml = std::fs::read(fixture("samsung-pkg1.xml")).expect("fixture");
    let from_file = dmsim()
        .arg("decode")
        .arg(fixture("samsung-pkg1.xml"))
        .output()
        .expect("runs");
    let from_stdin = dmsim_with_stdin(&["decode", "-"], &xml);
    assert_eq!(from_stdin.status.code(), Some(0));
    assert_eq!(from_stdin.stdout, from_file.stdout);

    // encode from standard input to standard output, and decode that from standard input.
    let wbxml = dmsim_with_stdin(&["encode", "-", "--wbxml", "-o", "-"], &xml);
    assert_eq!(
        wbxml.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&wbxml.stderr)
    );
    assert_eq!(&wbxml.stdout[..4], &[0x02, 0xA4, 0x01, 0x6A]);
    let back = dmsim_with_stdin(&["decode", "-"], &wbxml.stdout);
    assert_eq!(back.stdout, from_file.stdout);

    // Errors name standard input.
    let cut = dmsim_with_stdin(&["decode", "-"], &xml[..xml.len() / 2]);
    assert_eq!(cut.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&cut.stderr);
    assert!(stderr.starts_with("dmsim: <stdin>:"), "{stderr}");
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

/// A WBXML message whose Replace carries `data` as OPAQUE (as libwbxml and real clients send text).
fn wbxml_with_opaque(data: &[u8]) -> Vec<u8> {
    let xml = std::fs::read(fixture("samsung-pkg1.xml")).expect("fixture");
    let mut msg = syncml::decode(&xml).expect("fixture decodes");
    msg.hdr.cred = None;
    msg.body.commands = vec![SyncCommand::Replace(ItemCommand {
        cmd_id: "2".into(),
        items: vec![Item {
            source: Some(Location::uri("./Vendor/Value")),
            data: Some(Data::Opaque(data.to_vec())),
            ..Item::default()
        }],
        ..ItemCommand::default()
    })];
    wbxml::encode(&msg)
}

/// The Data of the only Replace of a message.
fn replace_data(bytes: &[u8]) -> (Option<String>, Data) {
    let msg = syncml::decode(bytes).expect("decodes");
    let item = msg.body.commands[0].items()[0].clone();
    let format = item.meta.and_then(|m| m.format);
    (format, item.data.expect("data"))
}

#[test]
fn opaque_text_is_printed_as_text_and_binary_as_base64_with_format_b64() {
    let dir = temp_dir("opaque");
    let cases: [(&[u8], &str, Option<&str>, &str); 2] = [
        (
            b"<b>1.0</b> & more",
            "&lt;b&gt;1.0&lt;/b&gt; &amp; more",
            None,
            "<b>1.0</b> & more",
        ),
        (&[0, 0xFF, 0x10], "AP8Q", Some("b64"), "AP8Q"),
    ];
    for (i, (bytes, printed, format, value)) in cases.into_iter().enumerate() {
        let wbxml = dir.join(format!("{i}.wbxml"));
        std::fs::write(&wbxml, wbxml_with_opaque(bytes)).expect("write");
        let out = dmsim().arg("decode").arg(&wbxml).output().expect("runs");
        assert_eq!(out.status.code(), Some(0));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains(&format!("<Data>{printed}</Data>")),
            "{stdout}"
        );
        assert_eq!(
            stdout.contains("<Format xmlns=\"syncml:metinf\">b64</Format>"),
            format.is_some(),
            "{stdout}"
        );
        // Encoding what decode printed keeps the value (and says when it is base64).
        let xml = dir.join(format!("{i}.xml"));
        std::fs::write(&xml, &out.stdout).expect("write");
        let again = dir.join(format!("{i}-again.wbxml"));
        let out = dmsim()
            .arg("encode")
            .arg(&xml)
            .arg("--wbxml")
            .arg("-o")
            .arg(&again)
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(0));
        let (read_format, data) = replace_data(&std::fs::read(&again).expect("written"));
        assert_eq!(read_format.as_deref(), format);
        assert_eq!(data, Data::Text(value.to_string()));
    }
}

/// Logs redirected to a file or a pipe carry no ANSI colour codes, whatever NO_COLOR says.
#[test]
fn redirected_logs_are_not_coloured() {
    // A FUMO run logs at debug level (the job's end, the install notification).
    let scenario =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/fumo/download-and-update.toml");
    let out = dmsim()
        .arg("run")
        .arg(&scenario)
        .env("RUST_LOG", "debug")
        .env_remove("NO_COLOR")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("DEBUG"), "logs were written: {stderr}");
    assert!(!stderr.contains('\u{1b}'), "{stderr}");
    assert!(!out.stdout.contains(&0x1b));
}

/// A --server that is not an http(s) URL is a bad flag: exit 2, before any session starts.
#[test]
fn a_device_server_url_that_is_not_http_exits_2_before_starting() {
    for url in ["ftp://x/dm", "dm.example.com/dm"] {
        let out = dmsim()
            .args(["device", "--server", url])
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2), "{url}");
        assert!(
            out.stdout.is_empty(),
            "nothing started: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("--server"), "{stderr}");
    }
    let out = dmsim()
        .args(["device", "--server", "ftp://x/dm"])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("the scheme is ftp:"), "{stderr}");
}

/// The JUnit classname is the dotted folder path from the folder given to `dmsim run`, however it
/// was reached (`../suite`), never a file path.
#[test]
fn junit_classnames_are_dotted_folders() {
    let dir = temp_dir("junit");
    std::fs::create_dir_all(dir.join("suite/fumo")).expect("mkdir");
    std::fs::create_dir_all(dir.join("elsewhere")).expect("mkdir");
    std::fs::write(dir.join("suite/fumo/ok.toml"), PASSING).expect("write");
    std::fs::write(
        dir.join("suite/top.toml"),
        PASSING.replace("get model", "top"),
    )
    .expect("write");
    let out = dmsim()
        .current_dir(dir.join("elsewhere"))
        .args(["run", "../suite", "--junit", "r.xml"])
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let junit = std::fs::read_to_string(dir.join("elsewhere/r.xml")).expect("junit written");
    assert!(
        junit.contains(r#"<testcase name="get model" classname="suite.fumo""#),
        "{junit}"
    );
    assert!(
        junit.contains(r#"<testcase name="top" classname="suite""#),
        "{junit}"
    );
}

/// A `dmsim serve` in the background, started in `cwd`.
struct Served {
    child: std::process::Child,
    url: String,
    stdout: std::sync::mpsc::Receiver<String>,
    stderr: std::thread::JoinHandle<String>,
}

/// How long a test waits for a line from `dmsim serve`.
const SERVE_WAIT: std::time::Duration = std::time::Duration::from_secs(20);

/// `dmsim serve --listen 127.0.0.1:0` with `extra` flags, run in `cwd`; its URL once printed.
fn serve(cwd: &std::path::Path, extra: &[&str]) -> Served {
    use std::io::{BufRead, BufReader, Read};
    let mut child = dmsim()
        .current_dir(cwd)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(extra)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("dmsim serve starts");
    let out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let (tx, stdout) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let stderr = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = err.read_to_string(&mut text);
        text
    });
    let first = stdout.recv_timeout(SERVE_WAIT);
    let url = match first.as_deref().map(|l| l.strip_prefix("listening on ")) {
        Ok(Some(url)) => url.to_string(),
        other => {
            let _ = child.kill();
            panic!("dmsim serve did not print its URL: {other:?}");
        }
    };
    Served {
        child,
        url,
        stdout,
        stderr,
    }
}

impl Served {
    /// Stop the server by its pid with SIGTERM; its summary (stdout) and its stderr.
    fn stop(mut self) -> (String, String) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let mut summary = Vec::new();
        while let Ok(line) = self.stdout.recv_timeout(SERVE_WAIT) {
            summary.push(line);
        }
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        let stderr = self.stderr.join().unwrap_or_default();
        (summary.join("\n"), stderr)
    }
}

/// From a directory without `certs/`, https runs, `serve`, `device` and `package` use the test
/// PKI and signing key built into the binary, and say so.
#[test]
fn default_certificates_and_keys_work_from_any_directory() {
    let dir = temp_dir("defaults");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));

    let scenario = root.join("scenarios/transport/client-certificate.toml");
    let out = dmsim()
        .current_dir(&dir)
        .arg("run")
        .arg(&scenario)
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let help = dmsim().args(["run", "--help"]).output().expect("runs");
    assert!(
        String::from_utf8_lossy(&help.stdout).contains("built into dmsim"),
        "--help says which PKI is used"
    );

    let served = serve(&dir, &[]);
    assert!(served.url.starts_with("https://"), "{}", served.url);
    let device = dmsim()
        .current_dir(&dir)
        .args(["device", "--server", &served.url])
        .output()
        .expect("runs");
    let (_, serve_err) = served.stop();
    let device_err = String::from_utf8_lossy(&device.stderr);
    assert_eq!(
        device.status.code(),
        Some(0),
        "{}{device_err}",
        String::from_utf8_lossy(&device.stdout)
    );
    assert!(
        device_err.contains("test CA built into dmsim"),
        "{device_err}"
    );
    let printed = String::from_utf8_lossy(&device.stdout);
    assert!(
        printed.ends_with("--- the server broke no protocol rule the device checks\n"),
        "{printed}"
    );
    assert!(
        serve_err.contains("test certificate built into dmsim"),
        "{serve_err}"
    );

    let out = dmsim()
        .current_dir(&dir)
        .args(["package", "--model", "SIM-1", "--from", "1", "--to", "2"])
        .args(["--size", "1KiB", "--out", "fw.pkg"])
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("test key built into dmsim"));
    let out = dmsim()
        .current_dir(&dir)
        .args([
            "package",
            "--inspect",
            "fw.pkg",
            "--model",
            "SIM-1",
            "--current",
            "1",
        ])
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A device whose FUMO job fails exits 1 (after reporting the result), saying why.
#[test]
fn a_device_whose_fumo_job_failed_exits_1() {
    let dir = temp_dir("job-failed");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let script = root.join("scenarios/fumo/wrong-model.toml");
    let served = serve(
        &dir,
        &["--plain", "--script", script.to_str().expect("utf-8")],
    );
    let device = dmsim()
        .current_dir(&dir)
        .args(["device", "--server", &served.url, "--fumo"])
        .args(["--firmware", "FW-1.0.0", "--model", "SIM-1"])
        .output()
        .expect("runs");
    let (summary, _) = served.stop();
    let printed = String::from_utf8_lossy(&device.stdout);
    let stderr = String::from_utf8_lossy(&device.stderr);
    assert!(printed.contains("FUMO job ended: 403"), "{printed}");
    assert!(
        printed.contains("session 2 ended: completed"),
        "reported: {printed}"
    );
    assert!(summary.contains("FUMO results: [403]"), "{summary}");
    assert_eq!(device.status.code(), Some(1), "{printed}{stderr}");
    assert!(stderr.contains("the FUMO job failed: 403"), "{stderr}");
}

/// A device started from a --state-dir holding an unfinished FUMO job says so, then resumes it.
#[test]
fn a_job_resumed_from_the_state_dir_is_announced() {
    use dmsim::fumo::{Job, Phase};
    use dmsim::protocol::fumo::{FumoState, Operation};
    let dir = temp_dir("resumed");
    let state = dir.join("state");
    let served = serve(&dir, &["--plain"]);
    {
        let text = r#"
name = "saved device"
[device]
dev_id = "IMEI:resumed"
model = "SIM-1"
firmware = "FW-1.0.0"
[device.fumo]
"#;
        let file = dmsim::scenario::load::parse(std::path::Path::new("saved.toml"), text)
            .expect("scenario")
            .file;
        let mut device = dmsim::scenario::build_device(&file).expect("device");
        let store = dmsim::storage::FileStore::new(&state).expect("store");
        device.flash(&store).expect("flash");
        let fumo = device.fumo_mut().expect("fumo");
        fumo.durable.state = FumoState::DownloadProgressing;
        fumo.durable.job = Some(Job {
            operation: Operation::DownloadAndUpdate,
            correlator: Some("campaign-7".into()),
            url: format!("{}/fw/gone.pkg", served.url.trim_end_matches("/dm")),
            phase: Phase::Download { attempts: 1 },
        });
        let saved = device.save(&store).expect("save");
        assert_eq!(saved, dmsim::device::Saved::Landed);
    }
    let device = dmsim()
        .current_dir(&dir)
        .args([
            "device",
            "--server",
            &served.url,
            "--fumo",
            "--dev-id",
            "IMEI:resumed",
        ])
        .args(["--model", "SIM-1", "--firmware", "FW-1.0.0", "--state-dir"])
        .arg(&state)
        .output()
        .expect("runs");
    let _ = served.stop();
    let printed = String::from_utf8_lossy(&device.stdout);
    assert!(
        printed.contains("--- device state loaded from ")
            && printed.contains(": firmware FW-1.0.0, FUMO State 30"),
        "{printed}"
    );
    assert!(
        printed.contains(
            "--- resuming the unfinished FUMO job DownloadAndUpdate of http://127.0.0.1:"
        ) && printed.contains(", correlator campaign-7: downloading, 1 attempt(s) made"),
        "{printed}"
    );
    // The job is carried out: the package is not there, so it fails and the device says so.
    assert!(printed.contains("--- FUMO job ended: "), "{printed}");
    assert_eq!(device.status.code(), Some(1), "{printed}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The serve summary counts refused TLS handshakes and tells ended sessions from cut ones.
#[test]
fn the_serve_summary_counts_refused_handshakes_and_cut_sessions() {
    use std::io::{Read, Write};
    let dir = temp_dir("summary");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));

    // A device that trusts another CA refuses the server's certificate.
    let served = serve(&dir, &[]);
    let device = dmsim()
        .current_dir(&dir)
        .args(["device", "--server", &served.url, "--ca"])
        .arg(root.join("certs/wrong-ca.pem"))
        .output()
        .expect("runs");
    let (summary, _) = served.stop();
    assert_eq!(device.status.code(), Some(1));
    assert!(
        summary.starts_with("0 session(s): 0 ended, 0 cut by shutdown; ")
            && summary.contains(" TLS handshake(s) refused")
            && !summary.contains("; 0 TLS handshake(s) refused"),
        "{summary}"
    );

    // One session a device completes, one left open (Package 1 sent by hand, never followed up).
    let served = serve(&dir, &["--plain"]);
    let device = dmsim()
        .args(["device", "--server", &served.url, "--dev-id", "IMEI:done"])
        .output()
        .expect("runs");
    assert_eq!(device.status.code(), Some(0));
    let pkg1 = std::fs::read(fixture("libdmclient-generic-alert.xml")).expect("fixture");
    let addr = served
        .url
        .trim_start_matches("http://")
        .trim_end_matches("/dm")
        .to_string();
    let mut stream = std::net::TcpStream::connect(&addr).expect("connects");
    let head = format!(
        "POST /dm HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/vnd.syncml.dm+xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        pkg1.len()
    );
    stream.write_all(head.as_bytes()).expect("writes");
    stream.write_all(&pkg1).expect("writes");
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let (summary, _) = served.stop();
    assert!(
        summary.starts_with("2 session(s): 1 ended, 1 cut by shutdown\n"),
        "{summary}"
    );
    assert!(summary.contains("IMEI:done session 1: ended"), "{summary}");
    assert!(
        summary.contains("IMEI:493005100592800 session 1: cut by shutdown"),
        "{summary}"
    );
}

/// `dmsim device` against a server that breaks rules on purpose (`server.quirks` in a `--script`):
/// each message as received, in wire order, each violation right after the message it concerns,
/// and a summary at the end; the device still completes (exit 0).
#[test]
fn a_device_prints_the_servers_violations_after_each_message_and_sums_them_up() {
    let dir = temp_dir("quirks");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let script = root.join("scenarios/session/server-quirks.toml");
    let served = serve(
        &dir,
        &["--plain", "--script", script.to_str().expect("utf-8")],
    );
    let device = dmsim()
        .current_dir(&dir)
        .args(["device", "--server", &served.url, "--wbxml"])
        .output()
        .expect("runs");
    let _ = served.stop();
    let printed = String::from_utf8_lossy(&device.stdout);
    assert_eq!(
        device.status.code(),
        Some(0),
        "{printed}{}",
        String::from_utf8_lossy(&device.stderr)
    );
    let at = |needle: &str| {
        printed
            .find(needle)
            .unwrap_or_else(|| panic!("{needle:?} not in\n{printed}"))
    };
    // The first answer, as on the wire: SyncML 1.1, MsgID 2, Data before Cmd.
    let answer = at("--- message 1 server -> device (HTTP 200, application/vnd.syncml.dm+wbxml)\n<!-- WBXML 1.2, public id 0x0FD3 (SyncML 1.1)");
    let first = at("--- server violation: namespace (server MsgID 2)");
    assert!(
        answer < first && first < at("--- message 2 device -> server"),
        "{printed}"
    );
    let status = &printed[answer..first];
    let data = status.find("<Data>200</Data>").expect("Data");
    let cmd = status.find("<Cmd>SyncHdr</Cmd>").expect("Cmd");
    assert!(data < cmd, "wire order: {status}");
    assert!(
        printed.contains(
            "--- session 1 ended: completed (the server broke 11 protocol rule(s), shown above)"
        ),
        "{printed}"
    );
    let summary = &printed[at("--- the server broke 4 protocol rule(s) 11 time(s):\n")..];
    for line in [
        "    namespace x3, first in server MsgID 2: 02 9F 53 6A 00\n",
        "    element-order x5, first in server MsgID 2: <Cmd>SyncHdr</Cmd>\n",
        "    msg-id-sequence x1, first in server MsgID 2: <MsgID>2</MsgID>\n",
        "    duplicate-cmd-id x2, first in server MsgID 2: <Status><CmdID>1</CmdID>…\n",
    ] {
        assert!(summary.contains(line), "{line:?} not in {summary}");
    }
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

/// `dmsim device --profile knox-efota` is the Knox E-FOTA family's device against a server under
/// test: it reports the FUMO result and its E-FOTA code, and the server receives both.
#[test]
fn a_knox_efota_device_reports_its_efota_code_to_the_server() {
    let dir = temp_dir("knox-efota");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let script = root.join("scenarios/knox-efota/2404-bad-signature.toml");
    let script = script.to_str().expect("utf-8");
    let served = serve(&dir, &["--plain", "--script", script]);
    let device = dmsim()
        .current_dir(&dir)
        .args(["device", "--server", &served.url, "--profile", "knox-efota"])
        .args(["--scenario", script])
        .output()
        .expect("runs");
    let (summary, _) = served.stop();
    let printed = String::from_utf8_lossy(&device.stdout);
    let stderr = String::from_utf8_lossy(&device.stderr);
    assert!(printed.contains("FUMO job ended: 404"), "{printed}");
    assert!(printed.contains("Knox E-FOTA report: -2404"), "{printed}");
    assert!(summary.contains("FUMO results: [404]"), "{summary}");
    assert!(summary.contains("Knox E-FOTA codes: [-2404]"), "{summary}");
    assert_eq!(device.status.code(), Some(1), "{printed}{stderr}");
    let unknown = dmsim()
        .args([
            "device",
            "--server",
            "http://127.0.0.1:9/dm",
            "--profile",
            "knox",
        ])
        .output()
        .expect("runs");
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("\"knox\" is not a known profile"),
        "{}",
        String::from_utf8_lossy(&unknown.stderr)
    );
}

/// `dmsim device` lets the scenario's time pass between sessions, as `dmsim run` does: against
/// `dmsim serve` with the same campaign, the package delivered in session 1 is installed two days
/// later in session 2, and its validity has ended (-1456).
#[test]
fn dmsim_device_lets_the_time_between_sessions_pass() {
    let dir = temp_dir("session-interval");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let script = root.join("scenarios/knox-efota/1456-stored-update-no-longer-valid.toml");
    let script = script.to_str().expect("utf-8");
    let served = serve(&dir, &["--plain", "--script", script]);
    let device = dmsim()
        .current_dir(&dir)
        .args(["device", "--server", &served.url, "--scenario", script])
        .output()
        .expect("runs");
    let (summary, _) = served.stop();
    let printed = String::from_utf8_lossy(&device.stdout);
    assert!(printed.contains("SCOMO job ended: 1456"), "{printed}");
    assert!(summary.contains("SCOMO results: 1456 (suite)"), "{summary}");
    assert!(summary.contains("Knox E-FOTA codes: [-1456]"), "{summary}");
}
