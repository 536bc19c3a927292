//! Sessions on real loopback sockets: simulated devices over `HttpTransport` against the mock
//! server behind `net::serve`, over HTTPS (with and without client certificates) and plain HTTP,
//! with the committed test certificates in `certs/`; refusals (wrong CA, missing client
//! certificate, wrong method or content type, oversized body); many devices sharing one transport;
//! and `dmsim serve` + `dmsim device` as processes.
//!
//! Everything listens on 127.0.0.1 with port 0, and every test is bounded by a timeout.

mod support;

use dmsim::device::Device;
use dmsim::net::{self, tls, ClientAuth, ClientOptions, DmService, HttpTransport, Identity};
use dmsim::protocol::http::{HttpRequest, HttpResponse};
use dmsim::scenario::{self, load, model::ScenarioFile};
use dmsim::server::MockServer;
use dmsim::session::{run_session, Initiator, SessionEnd, SessionReport, SessionStart};
use dmsim::syncml::CONTENT_TYPE_XML;
use dmsim::transport::{Transport, TransportError};
use std::future::Future;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;
use support::served::serve;

const LIMIT: Duration = Duration::from_secs(10);

/// A device with MD5 credentials, and a server reading two nodes and replacing one.
const SCENARIO: &str = r#"
name = "net"
seed = 7

[device.auth]
type = "md5"
name = "device01"
secret = "devpass"
nonce = "abc"

[[device.node]]
uri = "./Vendor"
format = "node"
acl = "Add=*&Get=*&Replace=*"

[[device.node]]
uri = "./Vendor/Setting"
value = "old"
acl = "Get=*&Replace=*"

[[server.package]]
[[server.package.command]]
cmd = "get"
target = "./DevInfo/Mod"
[[server.package.command]]
cmd = "replace"
target = "./Vendor/Setting"
data = "new"
"#;

fn certs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("certs")
}

fn scenario(text: &str) -> ScenarioFile {
    load::parse(Path::new("net.toml"), text)
        .expect("test scenario")
        .file
}

fn localhost() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// The server TLS config of the committed certs.
fn server_tls(client_auth: ClientAuth) -> Arc<rustls::ServerConfig> {
    let dir = certs();
    let identity = Identity::load(&dir.join("server.pem"), &dir.join("server.key")).expect("id");
    tls::server_config(identity, client_auth).expect("server config")
}

fn ca(name: &str) -> rustls::RootCertStore {
    tls::load_roots(&certs().join(name)).expect("ca")
}

/// A transport trusting `ca_file`, presenting the committed client certificate when asked.
fn transport(ca_file: Option<&str>, client_cert: bool) -> HttpTransport {
    let dir = certs();
    let identity = client_cert.then(|| {
        Identity::load(&dir.join("client.pem"), &dir.join("client.key")).expect("client id")
    });
    let tls = ca_file.map(|f| tls::client_config(ca(f), identity).expect("client config"));
    HttpTransport::new(&ClientOptions {
        tls,
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(5),
        ..ClientOptions::default()
    })
    .expect("transport")
}

/// The mock server of a scenario, served on a free loopback port.
async fn start(
    file: &ScenarioFile,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> (Arc<MockServer>, net::RunningServer) {
    let server = Arc::new(MockServer::new(scenario::server_config(file)));
    let running = net::serve(localhost(), Arc::clone(&server) as Arc<dyn DmService>, tls)
        .await
        .expect("serve");
    (server, running)
}

/// The scenario's device, its DM account pointing at `url`.
fn device(file: &ScenarioFile, dev_id: &str, url: &str) -> Device {
    let mut file = file.clone();
    file.device.dev_id = dev_id.to_string();
    file.server.url = url.to_string();
    scenario::build_device(&file).expect("device")
}

async fn session<T: Transport>(transport: &T, device: &mut Device) -> SessionReport {
    let start = SessionStart {
        initiator: Initiator::Client,
        server_id: Some("dmsim-server".to_string()),
    };
    run_session(transport, device, start, true).await
}

async fn bounded<F: Future>(f: F) -> F::Output {
    tokio::time::timeout(LIMIT, f)
        .await
        .expect("the test finished in time")
}

fn assert_completed(report: &SessionReport) {
    assert_eq!(
        report.end,
        SessionEnd::Completed,
        "{}",
        scenario::render_transcript(&report.transcript)
    );
}

/// Statuses the server received, as "Cmd code".
fn received(server: &MockServer) -> Vec<String> {
    server
        .records()
        .iter()
        .flat_map(|r| &r.statuses)
        .map(|s| format!("{} {}", s.cmd, s.code.code()))
        .collect()
}

fn probe_request(url: String) -> HttpRequest {
    HttpRequest {
        url,
        content_type: CONTENT_TYPE_XML.to_string(),
        hmac: None,
        body: b"<SyncML/>".to_vec(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_complete_session_over_https() {
    bounded(async {
        let file = scenario(SCENARIO);
        let (server, running) = start(&file, Some(server_tls(ClientAuth::None))).await;
        let url = running.url("/dm");
        assert!(url.starts_with("https://127.0.0.1:"), "{url}");
        let mut dev = device(&file, "IMEI:356938035643809", &url);
        let report = session(&transport(Some("ca.pem"), false), &mut dev).await;
        assert_completed(&report);
        assert_eq!(dev.tree.value("./Vendor/Setting"), Some(&b"new"[..]));
        let records = server.records();
        assert_eq!(records.len(), 1);
        assert!(records[0].ended && records[0].client_authenticated);
        assert_eq!(received(&server), ["SyncHdr 200", "Get 200", "Replace 200"],);
        // The server saw the URL as the device addressed it.
        assert!(report.transcript.iter().all(|e| e.request.url == url));
        running.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hmac_credentials_travel_in_the_header() {
    bounded(async {
        let text = SCENARIO.replace("type = \"md5\"", "type = \"hmac\"");
        let file = scenario(&text);
        let (server, running) = start(&file, Some(server_tls(ClientAuth::None))).await;
        let mut dev = device(&file, "IMEI:1", &running.url("dm"));
        let report = session(&transport(Some("ca.pem"), false), &mut dev).await;
        assert_completed(&report);
        assert!(report.transcript.iter().all(|e| e.request.hmac.is_some()));
        assert!(server.records()[0].client_authenticated);
        running.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_required_client_certificate_admits_only_devices_that_have_one() {
    bounded(async {
        let file = scenario(SCENARIO);
        let tls = server_tls(ClientAuth::Required(ca("ca.pem")));
        let (server, running) = start(&file, Some(tls)).await;
        let url = running.url("/dm");

        let mut dev = device(&file, "IMEI:with-cert", &url);
        let report = session(&transport(Some("ca.pem"), true), &mut dev).await;
        assert_completed(&report);

        // In TLS 1.3 the client's handshake is done when it sends its Finished; the server's
        // certificate_required alert comes after it. The client either reads the alert (a TLS
        // error) or finds the new connection closed before its request went out: which one is a
        // race on the wire, and both say the server refused the client's certificate.
        let refused = |err: &TransportError| {
            let text = err.to_string();
            match err {
                TransportError::Tls { .. } => {
                    text.starts_with("TLS handshake with 127.0.0.1:")
                        && text.contains("client certificate")
                }
                TransportError::ClosedBeforeRequest { tls: true, .. } => {
                    text.contains("client certificate")
                }
                _ => false,
            }
        };
        let without = transport(Some("ca.pem"), false);
        let err = without
            .exchange(probe_request(url.clone()))
            .await
            .expect_err("refused");
        assert!(refused(&err), "{err:?}: {err}");

        let mut dev = device(&file, "IMEI:without-cert", &url);
        let report = session(&without, &mut dev).await;
        assert!(
            matches!(&report.end, SessionEnd::Failed { reason } if reason.contains("TLS") && reason.contains("client certificate")),
            "{}",
            report.end
        );
        // The refusals did not stop the server; only devices with a certificate reach it.
        let mut dev = device(&file, "IMEI:with-cert-2", &url);
        let report = session(&transport(Some("ca.pem"), true), &mut dev).await;
        assert_completed(&report);
        assert_eq!(server.records().len(), 2);
        running.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_trusting_another_ca_refuses_the_server() {
    bounded(async {
        let file = scenario(SCENARIO);
        let (server, running) = start(&file, Some(server_tls(ClientAuth::None))).await;
        let err = transport(Some("wrong-ca.pem"), false)
            .exchange(probe_request(running.url("/dm")))
            .await
            .expect_err("untrusted");
        let text = err.to_string();
        assert!(matches!(err, TransportError::Tls { .. }), "{err:?}");
        assert!(
            text.contains("invalid peer certificate: UnknownIssuer"),
            "{text}"
        );
        // Without any CA, https is refused the same way.
        let err = transport(None, false)
            .exchange(probe_request(running.url("/dm")))
            .await
            .expect_err("no CA");
        assert!(err.to_string().contains("certificate"), "{err}");
        assert!(server.records().is_empty());
        running.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_complete_session_over_plain_http() {
    bounded(async {
        let file = scenario(SCENARIO);
        let (server, running) = start(&file, None).await;
        let url = running.url("/dm");
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
        let mut dev = device(&file, "IMEI:plain", &url);
        let report = session(&transport(None, false), &mut dev).await;
        assert_completed(&report);
        assert!(received(&server).contains(&"Replace 200".to_string()));
        running.shutdown().await;
    })
    .await;
}

/// One raw HTTP/1.1 request; the whole response as text.
fn raw(addr: SocketAddr, request: &str) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(LIMIT)).expect("timeout");
    stream.write_all(request.as_bytes()).expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    response
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_method_content_type_or_size_is_refused() {
    bounded(async {
        let file = scenario(SCENARIO);
        let (server, running) = start(&file, None).await;
        let addr = running.local_addr();

        let err = transport(None, false)
            .exchange(HttpRequest {
                content_type: "text/plain".into(),
                ..probe_request(running.url("/dm"))
            })
            .await
            .expect_err("415");
        match err {
            TransportError::Http { status, reason } => {
                assert_eq!(status, 415);
                assert!(reason.contains("unsupported content type"), "{reason}");
            }
            other => panic!("expected HTTP 415, got {other:?}"),
        }

        let get = tokio::task::spawn_blocking(move || {
            raw(
                addr,
                "GET /dm HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
            )
        })
        .await
        .expect("get");
        assert!(get.starts_with("HTTP/1.1 405"), "{get}");
        assert!(get.to_ascii_lowercase().contains("allow: post"), "{get}");

        let huge = tokio::task::spawn_blocking(move || {
            raw(
                addr,
                &format!(
                    "POST /dm HTTP/1.1\r\nHost: localhost\r\nContent-Type: {CONTENT_TYPE_XML}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    net::MAX_BODY_BYTES + 1
                ),
            )
        })
        .await
        .expect("post");
        assert!(huge.starts_with("HTTP/1.1 413"), "{huge}");

        assert!(server.records().is_empty());
        running.shutdown().await;
    })
    .await;
}

/// Answers every request with a fixed content type.
struct FixedType(&'static str);

impl DmService for FixedType {
    fn handle(&self, _request: &HttpRequest) -> HttpResponse {
        HttpResponse {
            status: 200,
            content_type: self.0.to_string(),
            hmac: Some("algorithm=MD5, username=\"s\", mac=x".to_string()),
            body: b"<SyncML/>".to_vec(),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn response_content_types_and_connection_failures_are_typed() {
    bounded(async {
        let client = transport(None, false);
        let ds = net::serve(
            localhost(),
            Arc::new(FixedType("application/vnd.syncml+xml")),
            None,
        )
        .await
        .expect("serve");
        let ok = client
            .exchange(probe_request(ds.url("/")))
            .await
            .expect("DS content type accepted");
        assert_eq!(ok.content_type, "application/vnd.syncml+xml");
        assert_eq!(
            ok.hmac.as_deref(),
            Some("algorithm=MD5, username=\"s\", mac=x")
        );
        ds.shutdown().await;

        let html = net::serve(localhost(), Arc::new(FixedType("text/html")), None)
            .await
            .expect("serve");
        let err = client
            .exchange(probe_request(html.url("/")))
            .await
            .expect_err("html refused");
        assert_eq!(err, TransportError::ContentType("text/html".into()));
        html.shutdown().await;

        // No Content-Type at all is passed on: the session reads the body and records the omission.
        let untyped = net::serve(localhost(), Arc::new(FixedType("")), None)
            .await
            .expect("serve");
        let ok = client
            .exchange(probe_request(untyped.url("/")))
            .await
            .expect("a missing content type is the session's to judge");
        assert_eq!(ok.content_type, "");
        assert_eq!(ok.body, b"<SyncML/>");
        untyped.shutdown().await;

        // A port that was free a moment ago: nothing listens there.
        let addr = std::net::TcpListener::bind(localhost())
            .and_then(|l| l.local_addr())
            .expect("free port");
        let err = client
            .exchange(probe_request(format!("http://{addr}/dm")))
            .await
            .expect_err("unreachable");
        assert_eq!(err, TransportError::Unreachable(addr.to_string()));
        assert_eq!(err.to_string(), format!("no server answers at {addr}"));

        let err = client
            .exchange(probe_request("ftp://127.0.0.1/dm".into()))
            .await
            .expect_err("bad url");
        assert!(matches!(err, TransportError::InvalidUrl { .. }), "{err:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_devices_share_one_transport() {
    bounded(async {
        let file = scenario(SCENARIO);
        let (server, running) = start(&file, Some(server_tls(ClientAuth::None))).await;
        let url = running.url("/dm");
        let shared = transport(Some("ca.pem"), false);
        let tasks: Vec<_> = (0..50)
            .map(|i| {
                let transport = shared.clone();
                let mut dev = device(&file, &format!("IMEI:3569380356{i:05}"), &url);
                tokio::spawn(async move { session(&transport, &mut dev).await })
            })
            .collect();
        for task in tasks {
            assert_completed(&task.await.expect("device task"));
        }
        let records = server.records();
        assert_eq!(records.len(), 50);
        assert!(records.iter().all(|r| r.ended && r.client_authenticated));
        running.shutdown().await;
    })
    .await;
}

/// `dmsim serve` on a free port, then `dmsim device` against it, then SIGTERM and the summary.
#[test]
fn the_serve_and_device_commands_talk_to_each_other() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let served = serve(&[]);
    let device = Command::new(env!("CARGO_BIN_EXE_dmsim"))
        .current_dir(root)
        .args(["device", "--server", &served.url, "--ca", "certs/ca.pem"])
        .args(["--dev-id", "IMEI:cli", "--firmware", "FW-9"])
        .output()
        .expect("dmsim device runs");
    let printed = String::from_utf8_lossy(&device.stdout).into_owned();
    let summary = served.stop();

    assert_eq!(device.status.code(), Some(0), "{printed}");
    assert!(printed.contains("<Data>FW-9</Data>"), "{printed}");
    assert!(printed.contains("ended: completed"), "{printed}");
    assert!(summary.contains("1 session(s)"), "{summary}");
    assert!(summary.contains("IMEI:cli session"), "{summary}");
    assert!(summary.contains("Get ./DevDetail/FwV 200"), "{summary}");
}

/// A FUMO campaign over real sockets: `dmsim serve` hosts the package and its descriptor,
/// `dmsim device --fumo` downloads, installs and reports in a second session, keeping its state in
/// files.
#[test]
fn a_fumo_campaign_between_serve_and_device() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let state = std::env::temp_dir().join(format!("dmsim-fumo-state-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&state);
    let served = serve(&[
        "--plain",
        "--script",
        "scenarios/fumo/download-and-update.toml",
    ]);
    let device = Command::new(env!("CARGO_BIN_EXE_dmsim"))
        .current_dir(root)
        .args([
            "device",
            "--server",
            &served.url,
            "--fumo",
            "--firmware",
            "FW-1.0.0",
        ])
        .args(["--model", "SIM-1", "--state-dir"])
        .arg(&state)
        .output()
        .expect("dmsim device runs");
    let printed = String::from_utf8_lossy(&device.stdout).into_owned();
    let summary = served.stop();
    let saved = std::fs::read_dir(&state).map(|d| d.count()).unwrap_or(0);
    // The same device again, against the default server (which reads DevDetail/FwV): it starts
    // from its saved state, on the new firmware.
    let served = serve(&["--plain"]);
    let again = Command::new(env!("CARGO_BIN_EXE_dmsim"))
        .current_dir(root)
        .args([
            "device",
            "--server",
            &served.url,
            "--fumo",
            "--firmware",
            "FW-1.0.0",
        ])
        .args(["--model", "SIM-1", "--state-dir"])
        .arg(&state)
        .output()
        .expect("dmsim device runs again");
    let _ = served.stop();
    let printed_again = String::from_utf8_lossy(&again.stdout).into_owned();
    let _ = std::fs::remove_dir_all(&state);
    assert_eq!(again.status.code(), Some(0), "{printed_again}");
    assert!(
        printed_again.contains("<Data>FW-1.1.0</Data>"),
        "{printed_again}"
    );

    assert_eq!(device.status.code(), Some(0), "{printed}");
    assert!(printed.contains("<Data>202</Data>"), "{printed}");
    assert!(
        printed.contains("FUMO job ended: 200 Successful"),
        "{printed}"
    );
    assert!(printed.contains("session 2 ended: completed"), "{printed}");
    assert!(summary.contains("2 session(s)"), "{summary}");
    assert!(summary.contains("FUMO results: [200]"), "{summary}");
    assert!(saved >= 2, "the state directory holds {saved} files");
}

#[test]
fn unusable_files_and_flags_exit_2() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(env!("CARGO_BIN_EXE_dmsim"))
        .current_dir(root)
        .args(["device", "--server", "https://127.0.0.1:9/dm"])
        .args(["--ca", "no/such/ca.pem"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no/such/ca.pem: cannot read"), "{err}");

    let out = Command::new(env!("CARGO_BIN_EXE_dmsim"))
        .current_dir(root)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--cert",
            "certs/server.pem",
        ])
        .args(["--key", "certs/ca.pem"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("certs/ca.pem: not a PKCS#8/RSA/EC private key"),
        "{err}"
    );

    let out = Command::new(env!("CARGO_BIN_EXE_dmsim"))
        .args(["serve", "--plain", "--require-client-cert"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_device_that_cannot_reach_its_server_exits_1() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let out = Command::new(env!("CARGO_BIN_EXE_dmsim"))
        .args(["device", "--server", &format!("http://127.0.0.1:{port}/dm")])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        printed.contains("no server answers at 127.0.0.1:"),
        "{printed}"
    );
}
