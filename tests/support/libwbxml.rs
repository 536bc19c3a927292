//! libwbxml's command-line tools (Debian's libwbxml2-utils: `wbxml2xml`, `xml2wbxml`) for the
//! WBXML cross-checks: whether they are installed, and running one on some bytes.

use std::io::Write as _;
use std::process::{Command as Process, Stdio};

const NOTICE: &str = "libwbxml2-utils not installed: skipping the libwbxml cross-check";

/// Whether both tools can be run; prints the notice (or fails under CI) when not.
pub fn tools_available() -> bool {
    let runs = |tool: &str| {
        Process::new(tool)
            .arg("-h")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
    };
    if runs("wbxml2xml") && runs("xml2wbxml") {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{NOTICE}, but CI=true: install libwbxml2-utils (.ci/run does)"
    );
    // Straight to the process's stderr: `eprintln!` would be captured, and so hidden, by the
    // test harness when the test passes.
    let _ = writeln!(std::io::stderr(), "{NOTICE}");
    false
}

/// Run `tool` with `args`, `input` on stdin (the args must say `-o - -`); its stdout, or why it
/// failed.
pub fn run_tool(tool: &str, args: &[&str], input: &[u8]) -> Result<Vec<u8>, String> {
    let mut child = Process::new(tool)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{tool}: {e}"))?;
    let mut stdin = child.stdin.take().ok_or("no stdin")?;
    let input = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = child
        .wait_with_output()
        .map_err(|e| format!("{tool}: {e}"))?;
    writer
        .join()
        .map_err(|_| format!("{tool}: writer panicked"))?
        .map_err(|e| format!("{tool}: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "{tool} {args:?} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(output.stdout)
}
