//! `dmsim device --profile snom-m3` as a user runs it: a release built by `dmsim package --family
//! snom-m3`, served over plain HTTP by a small static file server started here (with Basic
//! authentication when asked), names looked up by the operating system or by DNS messages to a
//! UDP DNS server started here; the display codes, versions and exit codes the command gives.

use dmsim::server::dns::DnsResponder;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

/// `admin:secret` in Basic (RFC 7617 §2), written out so that the device's encoding is checked.
const ADMIN_SECRET: &str = "Basic YWRtaW46c2VjcmV0";

/// A request the file server got: its path and its `Authorization` header.
type Seen = (String, Option<String>);

/// A static file server on a loopback port: GET `/PATH` answers the file `root/PATH` (200), or 404;
/// with `auth`, a request without that `Authorization` header is 401. Stops when dropped.
struct Files {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
}

impl Files {
    fn serve(root: &Path, auth: Option<&str>) -> Files {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (root, auth) = (root.to_path_buf(), auth.map(str::to_string));
        let (seen2, stop2) = (seen.clone(), stop.clone());
        thread::spawn(move || {
            for stream in listener.incoming() {
                if stop2.load(Ordering::Relaxed) {
                    break;
                }
                if let Ok(stream) = stream {
                    answer(stream, &root, auth.as_deref(), &seen2);
                }
            }
        });
        Files { addr, seen, stop }
    }

    fn url(&self, folder: &str) -> String {
        format!("http://{}/{folder}", self.addr)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn paths(&self) -> Vec<String> {
        self.seen().into_iter().map(|(p, _)| p).collect()
    }
}

impl Drop for Files {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

/// One request on one connection (`Connection: close`).
fn answer(mut stream: TcpStream, root: &Path, auth: Option<&str>, seen: &Mutex<Vec<Seen>>) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut lines = head.split("\r\n");
    let request: Vec<&str> = lines.next().unwrap_or("").split(' ').collect();
    let path = request.get(1).copied().unwrap_or("/").to_string();
    let authorization = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("authorization"))
        .map(|(_, value)| value.trim().to_string());
    seen.lock()
        .unwrap()
        .push((path.clone(), authorization.clone()));
    let file = root.join(path.trim_start_matches('/'));
    let (status, extra, body) = if auth.is_some() && authorization.as_deref() != auth {
        (
            "401 Unauthorized",
            "WWW-Authenticate: Basic realm=\"m3\"\r\n",
            b"unauthorized".to_vec(),
        )
    } else if request.first() != Some(&"GET") || path.contains("..") {
        ("400 Bad Request", "", Vec::new())
    } else {
        match std::fs::read(&file) {
            Ok(bytes) if file.is_file() => ("200 OK", "", bytes),
            _ => ("404 Not Found", "", b"not found".to_vec()),
        }
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\n{extra}Connection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&body);
}

/// A DNS server on a loopback UDP port answering from `responder` (the scenario side's), for the
/// life of the test process.
fn dns(responder: DnsResponder) -> SocketAddr {
    let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let addr = socket.local_addr().unwrap();
    thread::spawn(move || {
        let mut buffer = [0u8; 512];
        while let Ok((n, from)) = socket.recv_from(&mut buffer) {
            if let Some(answer) = responder.answer(&buffer[..n]) {
                let _ = socket.send_to(&answer, from);
            }
        }
    });
    addr
}

fn dmsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dmsim"))
        .args(args)
        .output()
        .expect("dmsim runs")
}

/// `dmsim package --family snom-m3 --version 0790` into `<dir>/Updates`; `dir`.
fn release(dir: &tempfile::TempDir) -> PathBuf {
    let updates = dir.path().join("Updates");
    let out = dmsim(&[
        "package",
        "--family",
        "snom-m3",
        "--out",
        updates.to_str().unwrap(),
        "--version",
        "0790",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir.path().to_path_buf()
}

/// A run of the base: exit code, standard output.
fn device(url: &str, more: &[&str]) -> (Option<i32>, String) {
    let mut args = vec![
        "device",
        "--profile",
        "snom-m3",
        "--server",
        url,
        "--version",
        "0790",
    ];
    args.extend_from_slice(more);
    let out = dmsim(&args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    eprintln!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    (out.status.code(), stdout)
}

/// The display codes a run printed, in order.
fn codes(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter(|l| l.starts_with("Code "))
        .map(str::to_string)
        .collect()
}

/// The line giving the versions after the update.
fn after(stdout: &str) -> &str {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("--- after: "))
        .expect("the versions after the update")
}

const UPDATED: &str =
    "gateway 0790 (was 0780), handset hs1 0790 (was 0780), handset hs2 0790 (was 0780)";
const CODE_0: &str =
    "Code 0: No problem: the update ran through, the gateway and the handsets run the selected version";

#[test]
fn the_base_updates_from_a_plain_http_server() {
    let dir = tempfile::tempdir().unwrap();
    let files = Files::serve(&release(&dir), None);
    let (exit, stdout) = device(&files.url("Updates/"), &[]);
    assert_eq!(exit, Some(0));
    assert_eq!(codes(&stdout), [CODE_0]);
    assert_eq!(after(&stdout), UPDATED);
    assert_eq!(
        files.seen(),
        [
            ("/Updates/DirList.txt".to_string(), None),
            ("/Updates/m3Gw_fr01_v0790.fwu".to_string(), None),
            ("/Updates/m3Pp_fr01_v0790.fwu".to_string(), None),
        ]
    );
}

#[test]
fn a_missing_file_is_code_3_after_the_gateway_was_committed() {
    let dir = tempfile::tempdir().unwrap();
    let root = release(&dir);
    std::fs::remove_file(root.join("Updates/m3Pp_fr01_v0790.fwu")).unwrap();
    let files = Files::serve(&root, None);
    let (exit, stdout) = device(&files.url("Updates/"), &[]);
    assert_eq!(exit, Some(1));
    assert_eq!(
        codes(&stdout),
        ["Code 3: Firmware file not found: the server answered HTTP 404 for the DirList or a .fwu file"]
    );
    assert!(stdout.contains("--- update ended: download.not-found (HTTP 404)"));
    // The gateway runs the new image; the handsets were not written.
    assert_eq!(
        after(&stdout),
        "gateway 0790 (was 0780), handset hs1 0780, handset hs2 0780"
    );
    // The wrong folder: the DirList itself is not there.
    let (exit, stdout) = device(&files.url("Other/"), &[]);
    assert_eq!(exit, Some(1));
    assert!(codes(&stdout)[0].starts_with("Code 3: "), "{stdout}");
    assert_eq!(files.paths().last().unwrap(), "/Other/DirList.txt");
}

#[test]
fn a_server_that_requires_basic_credentials_is_code_12_without_them() {
    let dir = tempfile::tempdir().unwrap();
    let files = Files::serve(&release(&dir), Some(ADMIN_SECRET));
    let url = files.url("Updates/");
    let refused = [
        "Code 12: Authentication failed: the server answered HTTP 401 (no credentials, or wrong ones)",
    ];
    let (exit, stdout) = device(&url, &[]);
    assert_eq!(exit, Some(1));
    assert_eq!(codes(&stdout), refused);
    assert_eq!(
        after(&stdout),
        "gateway 0780, handset hs1 0780, handset hs2 0780"
    );
    assert_eq!(files.seen(), [("/Updates/DirList.txt".to_string(), None)]);
    let (exit, stdout) = device(&url, &["--user", "admin", "--password", "wrong"]);
    assert_eq!(exit, Some(1));
    assert_eq!(codes(&stdout), refused);
    let (exit, stdout) = device(&url, &["--user", "admin", "--password", "secret"]);
    assert_eq!(exit, Some(0));
    assert_eq!(codes(&stdout), [CODE_0]);
    assert_eq!(after(&stdout), UPDATED);
    let sent: Vec<Option<String>> = files.seen().into_iter().skip(2).map(|(_, a)| a).collect();
    assert_eq!(sent, vec![Some(ADMIN_SECRET.to_string()); 3]);
}

#[test]
fn names_are_looked_up_by_the_system_or_by_dns_messages() {
    let dir = tempfile::tempdir().unwrap();
    let files = Files::serve(&release(&dir), None);
    let port = files.addr.port();
    let by_name = format!("http://localhost:{port}/Updates/");
    let (exit, stdout) = device(&by_name, &[]);
    assert_eq!(exit, Some(0), "{stdout}");
    assert!(stdout.contains("--- lookup localhost (system resolver): "));
    assert_eq!(codes(&stdout), [CODE_0]);
    let lookup_failed = [
        "Code 11: Server name lookup failed: DNS gave no address for the firmware server's name",
    ];
    // RFC 6761 §6.4: no name under .invalid resolves.
    let (exit, stdout) = device("http://fw.dmsim.invalid/Updates/", &[]);
    assert_eq!(exit, Some(1));
    assert_eq!(codes(&stdout), lookup_failed);

    let server = dns(DnsResponder::new().with_name("fw.m3.test", vec![Ipv4Addr::LOCALHOST.into()]));
    let server = server.to_string();
    let (exit, stdout) = device(
        &format!("http://fw.m3.test:{port}/Updates/"),
        &["--dns", &server],
    );
    assert_eq!(exit, Some(0), "{stdout}");
    assert!(stdout.contains("--- lookup fw.m3.test (DNS resolver): 127.0.0.1"));
    assert_eq!(codes(&stdout), [CODE_0]);
    let (exit, stdout) = device(
        &format!("http://other.m3.test:{port}/Updates/"),
        &["--dns", &server],
    );
    assert_eq!(exit, Some(1));
    assert_eq!(codes(&stdout), lookup_failed);
    assert!(stdout.contains("no such name (NXDOMAIN)"), "{stdout}");
}

#[test]
fn the_base_keeps_its_versions_in_a_state_dir() {
    let dir = tempfile::tempdir().unwrap();
    let files = Files::serve(&release(&dir), None);
    let state = dir.path().join("state");
    let state = state.to_str().unwrap();
    let url = files.url("Updates/");
    let (exit, _) = device(&url, &["--state-dir", state, "--firmware", "0700"]);
    assert_eq!(exit, Some(0));
    let (exit, stdout) = device(&url, &["--state-dir", state]);
    assert_eq!(exit, Some(0));
    assert!(stdout.contains("--- base state loaded from "));
    assert!(stdout.contains("--- before: gateway 0790, handset hs1 0790, handset hs2 0790"));
}

#[test]
fn bad_flags_exit_2() {
    let url = "http://127.0.0.1:9/Updates/";
    let runs: [&[&str]; 6] = [
        &["device", "--profile", "snom-m3", "--server", url],
        &[
            "device",
            "--profile",
            "snom-m3",
            "--server",
            url,
            "--version",
            "790",
        ],
        &[
            "device",
            "--profile",
            "snom-m3",
            "--server",
            url,
            "--version",
            "0790",
            "--language",
            "french",
        ],
        &[
            "device",
            "--profile",
            "snom-m3",
            "--server",
            url,
            "--version",
            "0790",
            "--fumo",
        ],
        &[
            "device",
            "--profile",
            "snom-m3",
            "--server",
            url,
            "--version",
            "0790",
            "--user",
            "admin",
        ],
        &["device", "--server", url, "--version", "0790"],
    ];
    for args in runs {
        let out = dmsim(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}: nothing ran");
    }
    // The flags are right, the server is not there: the update ran and failed (Code 2).
    let (exit, stdout) = device(url, &[]);
    assert_eq!(exit, Some(1));
    assert!(
        codes(&stdout)[0].starts_with("Code 2: Network not available"),
        "{stdout}"
    );
}
