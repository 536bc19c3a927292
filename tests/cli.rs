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
[[expect.status]]
cmd = "Get"
code = 200
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
    let text = PASSING.replace("code = 200", "code = 404");
    std::fs::write(dir.join("bad.toml"), text).expect("write");
    let out = dmsim().arg("run").arg(&dir).output().expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("FAIL") && stdout.contains("expected Status Get 404"),
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
