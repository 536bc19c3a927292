//! `dmsim conform` as a process against `dmsim serve --plain` as a process: the server as it is
//! passes (exit 0), a quirk of it fails exactly its check (exit 1) in the summary, the JSON and the
//! JUnit report, an allow file turns that failure into `allowed` (exit 0), bad flags exit 2.

mod support;

use std::path::Path;
use std::process::Command;
use support::served::serve;

/// The default script of `dmsim serve` with `quirks`.
const QUIRKY: &str = r#"
name = "quirky"
[server]
quirks = ["duplicate-cmd-id"]
[[server.package]]
session = "every"
[[server.package.command]]
cmd = "get"
target = "./DevInfo/Mod"
[[server.package.command]]
cmd = "get"
target = "./DevDetail/FwV"
"#;

fn conform(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_dmsim"))
        .arg("conform")
        .args(args)
        .output()
        .expect("dmsim conform runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("json")).expect("valid JSON")
}

fn verdicts(json: &serde_json::Value, verdict: &str) -> Vec<String> {
    json["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["verdict"] == verdict)
        .map(|c| c["id"].as_str().expect("id").to_string())
        .collect()
}

#[test]
fn the_embedded_server_passes_and_a_quirk_fails_its_check() {
    let dir = tempfile::tempdir().expect("dir");
    let json = dir.path().join("c.json");
    let junit = dir.path().join("c.xml");
    let served = serve(&["--plain"]);
    let (code, out) = conform(&[
        "--server",
        &served.url,
        "--json",
        json.to_str().expect("path"),
    ]);
    served.stop();
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(" 0 fail,"), "{out}");
    let report = read_json(&json);
    assert_eq!(
        report["checks"].as_array().expect("checks").len(),
        dmsim::conform::checks::CHECKS.len()
    );
    assert_eq!(verdicts(&report, "fail"), Vec::<String>::new());
    assert!(verdicts(&report, "pass").len() > 20, "{report}");

    let script = dir.path().join("quirky.toml");
    std::fs::write(&script, QUIRKY).expect("script");
    let served = serve(&["--plain", "--script", script.to_str().expect("path")]);
    let (code, out) = conform(&[
        "--server",
        &served.url,
        "--json",
        json.to_str().expect("path"),
        "--junit",
        junit.to_str().expect("path"),
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("fail            duplicate-cmd-id"), "{out}");
    assert_eq!(verdicts(&read_json(&json), "fail"), ["duplicate-cmd-id"]);
    let xml = std::fs::read_to_string(&junit).expect("junit");
    assert!(xml.contains("failures=\"1\""), "{xml}");
    assert_eq!(xml.matches("<failure ").count(), 1, "{xml}");

    let allow = dir.path().join("allow.toml");
    std::fs::write(
        &allow,
        "[[allow]]\nid = \"duplicate-cmd-id\"\nreason = \"fixed in 4.2\"\n\n[[allow]]\nid = \"ver-dtd\"\nreason = \"was 1.1\"\n",
    )
    .expect("allow");
    let (code, out) = conform(&[
        "--server",
        &served.url,
        "--allow",
        allow.to_str().expect("path"),
        "--json",
        json.to_str().expect("path"),
    ]);
    served.stop();
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("allowed but passed: ver-dtd"), "{out}");
    assert_eq!(verdicts(&read_json(&json), "allowed"), ["duplicate-cmd-id"]);
}

#[test]
fn bad_flags_and_files_exit_2() {
    let dir = tempfile::tempdir().expect("dir");
    let allow = dir.path().join("allow.toml");
    std::fs::write(
        &allow,
        "[[allow]]\nid = \"no-such-check\"\nreason = \"x\"\n",
    )
    .expect("allow");
    for args in [
        vec!["--server", "ftp://x/dm"],
        vec![],
        vec![
            "--server",
            "http://127.0.0.1:9/dm",
            "--allow",
            allow.to_str().expect("path"),
        ],
        vec!["--server", "http://127.0.0.1:9/dm", "--auth", "md5"],
    ] {
        let (code, out) = conform(&args);
        assert_eq!(code, 2, "{args:?}: {out}");
    }
}
