//! `dmsim serve` as a child process for the tests that talk to it over loopback: started on port 0
//! with the caller's flags, its URL read from the first line it prints, stopped with SIGTERM (by
//! its pid) so it prints its summary; killed when dropped unstopped (a test that failed).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc::Receiver;
use std::thread::JoinHandle;
use std::time::Duration;

/// How long to wait for the server's first line, and for each line of its summary.
const LIMIT: Duration = Duration::from_secs(10);

/// A `dmsim serve` running in the background.
pub struct Served {
    child: std::process::Child,
    /// The URL devices use (`http(s)://127.0.0.1:PORT/dm`).
    pub url: String,
    lines: Receiver<String>,
    reader: Option<JoinHandle<()>>,
}

/// `dmsim serve` on a free port with `extra` flags, run from the repository's root; its URL once
/// it printed it.
pub fn serve(extra: &[&str]) -> Served {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_dmsim"))
        .current_dir(root)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("dmsim serve starts");
    let stdout = child.stdout.take().expect("stdout");
    let (lines_tx, lines) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let first = lines.recv_timeout(LIMIT);
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
        lines,
        reader: Some(reader),
    }
}

impl Served {
    /// The URL without its path: `http(s)://127.0.0.1:PORT`.
    pub fn base(&self) -> &str {
        let after_scheme = self.url.find("://").map_or(0, |i| i + 3);
        match self.url[after_scheme..].find('/') {
            Some(slash) => &self.url[..after_scheme + slash],
            None => &self.url,
        }
    }

    /// Stop the server by its pid, gracefully, and collect its summary.
    pub fn stop(mut self) -> String {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let mut summary = Vec::new();
        while let Ok(line) = self.lines.recv_timeout(LIMIT) {
            summary.push(line);
        }
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        summary.join("\n")
    }
}

impl Drop for Served {
    /// A test that failed before stopping the server leaves no process behind.
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
