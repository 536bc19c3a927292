//! What is on the wire, in each encoding: every message a device sends and every answer of the mock
//! server, captured in-process (the session transcript), over loopback HTTP (the requests as the
//! server's front end read them off the socket, the answers as the device's HTTP client read them),
//! and by a recording HTTP peer of this file's own that keeps the raw request bytes, headers
//! included.
//!
//! A WBXML message must start with the WBXML 1.2 header `02 A4 01 6A` (version 1.2, public id
//! 0x1201 SyncML 1.2 as mb_u_int32, UTF-8; reference §9.1) and carry the DM WBXML type; an XML one
//! starts with its XML declaration and `<SyncML`, with the DM XML type (reference §1.1). The server
//! answers in the encoding it was spoken to. HMAC is over the bytes sent, and each package is cut
//! by the size of the bytes sent. A body that is not what its Content-Type says is refused with
//! 415 and kept as a violation, in-process and over HTTP.

use dmsim::device::Device;
use dmsim::inproc::InProcess;
use dmsim::net::{self, ClientOptions, DmService, HttpTransport};
use dmsim::protocol::http::{HttpRequest, HttpResponse};
use dmsim::scenario::{self, load, model::ScenarioFile, WireSummary};
use dmsim::server::{MockServer, RefusedRequests};
use dmsim::session::{
    run_session_with, ClientSession, DriverOptions, Exchange, Initiator, Pace, SessionEnd,
    SessionReport, SessionStart,
};
use dmsim::syncml::auth::{self, HmacHeader, Secret};
use dmsim::syncml::{Encoding, CONTENT_TYPE_WBXML, CONTENT_TYPE_XML};
use dmsim::transport::{Transport, TransportError};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const LIMIT: Duration = Duration::from_secs(10);
const ENCODINGS: [Encoding; 2] = [Encoding::Xml, Encoding::Wbxml];
/// The server's MaxMsgSize in [`SCENARIO`].
const SERVER_MAX_MSG: usize = 1200;
/// The device's MaxMsgSize in [`SCENARIO`].
const DEVICE_MAX_MSG: usize = 1500;

/// HMAC both ways, and packages that do not fit one message either way: the server's two Adds of
/// 600 bytes exceed the device's 1500 bytes per message, and the device's answer (two listings and
/// those 1200 bytes back in Results) the server's 1200, in either encoding.
const SCENARIO: &str = r#"
name = "wire"
seed = 21

[device]
max_msg_size = 1500

[device.auth]
type = "hmac"
name = "device01"
secret = "devpass"
nonce = "abc"

[device.server_auth]
type = "hmac"
name = "dmsim-server"
secret = "srvmac"
nonce = "srvnonce"

[[device.node]]
uri = "./Vendor"
format = "node"
acl = "Add=*&Get=*&Replace=*"

[server]
max_msg_size = 1200
max_obj_size = 65536                        # it takes large objects: the values go in chunks

[[server.package]]
[[server.package.command]]
cmd = "add"
target = "./Vendor/A"
data = "0123456789"
repeat = 60
[[server.package.command]]
cmd = "add"
target = "./Vendor/B"
data = "abcdefghij"
repeat = 60
[[server.package.command]]
cmd = "get"
target = "./DevInfo?list=StructData"
[[server.package.command]]
cmd = "get"
target = "./DevDetail?list=StructData"
[[server.package.command]]
cmd = "get"
target = "./Vendor/A"
[[server.package.command]]
cmd = "get"
target = "./Vendor/B"
"#;

fn scenario(encoding: Encoding) -> ScenarioFile {
    let mut file = load::parse(Path::new("wire.toml"), SCENARIO)
        .expect("test scenario")
        .file;
    file.device.encoding = encoding;
    file
}

/// The scenario's mock server, keeping every exchange.
fn server(file: &ScenarioFile) -> Arc<MockServer> {
    let mut config = scenario::server_config(file);
    config.keep_exchanges = true;
    Arc::new(MockServer::new(config))
}

fn device(file: &ScenarioFile, url: Option<&str>) -> Device {
    let mut file = file.clone();
    if let Some(url) = url {
        file.server.url = url.to_string();
    }
    scenario::build_device(&file).expect("device")
}

fn client_start() -> SessionStart {
    SessionStart {
        initiator: Initiator::Client,
        server_id: Some("dmsim-server".to_string()),
    }
}

async fn session<T: Transport>(transport: &T, device: &mut Device, pace: Pace) -> SessionReport {
    let options = DriverOptions {
        keep_transcript: true,
        pace,
    };
    run_session_with(transport, device, client_start(), options).await
}

/// A message on the wire must be in `encoding`, by its bytes and its Content-Type.
fn assert_on_wire(what: &str, encoding: Encoding, content_type: &str, body: &[u8]) {
    assert_eq!(
        content_type,
        encoding.content_type(),
        "{what}: Content-Type"
    );
    match encoding {
        Encoding::Wbxml => {
            assert!(body.len() > 4, "{what}: {} bytes", body.len());
            assert_eq!(body[0], 0x02, "{what}: WBXML version 1.2");
            assert_eq!(
                body[1..3],
                [0xA4, 0x01],
                "{what}: public id 0x1201 (SyncML 1.2)"
            );
            assert_eq!(body[3], 0x6A, "{what}: charset UTF-8 (MIBenum 106)");
            assert!(
                !body.windows(7).any(|w| w == b"<SyncML"),
                "{what}: XML inside WBXML"
            );
            dmsim::syncml::wbxml::decode(body).unwrap_or_else(|e| panic!("{what}: {e}"));
        }
        Encoding::Xml => {
            assert!(
                body.starts_with(br#"<?xml version="1.0" encoding="UTF-8"?><SyncML"#),
                "{what}: {}",
                String::from_utf8_lossy(&body[..body.len().min(60)])
            );
            dmsim::syncml::xml::decode(body).unwrap_or_else(|e| panic!("{what}: {e}"));
        }
    }
}

/// Every request and answer of a transcript in `encoding`, within the peers' MaxMsgSize, and every
/// request signed over its own bytes.
fn assert_transcript(encoding: Encoding, transcript: &[Exchange]) {
    assert!(
        transcript.len() >= 4,
        "packages split both ways: {} exchanges",
        transcript.len()
    );
    for (n, exchange) in transcript.iter().enumerate() {
        let request = &exchange.request;
        let what = format!("{encoding:?} request {}", n + 1);
        assert_on_wire(&what, encoding, &request.content_type, &request.body);
        assert!(request.hmac.is_some(), "{what}: x-syncml-hmac");
        // The device learns the server's MaxMsgSize from its first answer.
        if n > 0 {
            assert!(
                request.body.len() <= SERVER_MAX_MSG,
                "{what}: {} bytes over the server's MaxMsgSize",
                request.body.len()
            );
        }
        let response = exchange
            .response
            .as_ref()
            .unwrap_or_else(|e| panic!("{what}: no answer: {e}"));
        let what = format!("{encoding:?} answer {}", n + 1);
        assert_eq!(response.status, 200, "{what}");
        assert_on_wire(&what, encoding, &response.content_type, &response.body);
        assert!(response.hmac.is_some(), "{what}: x-syncml-hmac");
        assert!(
            response.body.len() <= DEVICE_MAX_MSG,
            "{what}: {} bytes over the device's MaxMsgSize",
            response.body.len()
        );
    }
    // The first message is signed with the nonce the device starts with.
    let first = &transcript[0].request;
    let header = HmacHeader::parse(first.hmac.as_deref().unwrap_or_default()).expect("HMAC");
    let secret = Secret {
        name: "device01".into(),
        secret: "devpass".into(),
    };
    assert_eq!(
        auth::check_hmac(&header, &secret, b"abc", &first.body),
        Ok(()),
        "{encoding:?}: the MAC is over the bytes sent"
    );
    let wire = WireSummary::of(transcript);
    let count = u32::try_from(transcript.len()).expect("count");
    let (device, server) = match encoding {
        Encoding::Wbxml => (wire.device.wbxml, wire.server.wbxml),
        Encoding::Xml => (wire.device.xml, wire.server.xml),
    };
    assert_eq!((device, server), (count, count), "{encoding:?}: {wire:?}");
}

/// The session completed with nothing for either side to complain about.
fn assert_clean(encoding: Encoding, report: &SessionReport, server: &MockServer) {
    assert_eq!(
        report.end,
        SessionEnd::Completed,
        "{encoding:?}\n{}",
        scenario::render_transcript(&report.transcript)
    );
    assert!(report.violations.is_empty(), "{:?}", report.violations);
    let records = server.records();
    assert_eq!(records.len(), 1);
    assert!(
        records[0].client_authenticated,
        "the server checked the MAC"
    );
    assert!(
        records[0].violations.is_empty(),
        "{:?}",
        records[0].violations
    );
    assert_eq!(server.refused(), RefusedRequests::default());
}

#[tokio::test(start_paused = true)]
async fn in_process_every_message_is_in_the_device_encoding() {
    for encoding in ENCODINGS {
        let file = scenario(encoding);
        let server = server(&file);
        let transport = InProcess::new(Arc::clone(&server));
        let mut device = device(&file, None);
        let report = session(&transport, &mut device, Pace::Sleep).await;
        assert_clean(encoding, &report, &server);
        assert_transcript(encoding, &report.transcript);
        // The server received exactly these bytes and answered exactly those.
        let kept = &server.records()[0].exchanges;
        assert_eq!(kept.len(), report.transcript.len());
        for (k, t) in kept.iter().zip(&report.transcript) {
            assert_eq!(k.request, t.request);
            assert_eq!(Ok(&k.response), t.response.as_ref());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_http_every_message_is_in_the_device_encoding() {
    tokio::time::timeout(LIMIT, async {
        let client = HttpTransport::new(&ClientOptions::default()).expect("transport");
        for encoding in ENCODINGS {
            let file = scenario(encoding);
            let server = server(&file);
            let running = net::serve(localhost(), Arc::clone(&server) as Arc<dyn DmService>, None)
                .await
                .expect("serve");
            let mut device = device(&file, Some(&running.url("/dm")));
            let report = session(&client, &mut device, Pace::Skip).await;
            running.shutdown().await;
            assert_clean(encoding, &report, &server);
            // What the device's HTTP client read off the socket.
            assert_transcript(encoding, &report.transcript);
            // What the server's front end read off the socket: the same bytes and types.
            let kept = &server.records()[0].exchanges;
            assert_eq!(kept.len(), report.transcript.len());
            for (k, t) in kept.iter().zip(&report.transcript) {
                assert_eq!(k.request.content_type, t.request.content_type);
                assert_eq!(k.request.hmac, t.request.hmac);
                assert_eq!(k.request.body, t.request.body);
                let answer = t.response.as_ref().expect("answered");
                assert_eq!(k.response.content_type, answer.content_type);
                assert_eq!(k.response.hmac, answer.hmac);
                assert_eq!(k.response.body, answer.body);
            }
        }
    })
    .await
    .expect("in time");
}

fn localhost() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// One request exactly as it came off the socket.
struct RawRequest {
    /// The request line and headers, as text.
    head: String,
    body: Vec<u8>,
}

impl RawRequest {
    /// The value of a header (name case-insensitive).
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// A minimal HTTP/1.1 peer of its own (no hyper): reads each request off the socket with
/// `Content-Length` framing, keeps it raw, has the mock server answer it and writes the answer.
async fn recording_peer(
    server: Arc<MockServer>,
) -> (
    SocketAddr,
    Arc<Mutex<Vec<RawRequest>>>,
    tokio::task::JoinHandle<()>,
) {
    let listener = tokio::net::TcpListener::bind(localhost())
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&seen);
    let task = tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let (server, kept) = (Arc::clone(&server), Arc::clone(&kept));
            tokio::spawn(async move {
                let mut buf = Vec::new();
                while let Some(request) = read_request(&mut stream, &mut buf).await {
                    let answer = server.handle(&HttpRequest {
                        url: "http://recorder/dm".into(),
                        content_type: request.header("content-type").unwrap_or("").into(),
                        hmac: request.header("x-syncml-hmac").map(str::to_string),
                        body: request.body.clone(),
                    });
                    kept.lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(request);
                    if stream.write_all(&raw_response(&answer)).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (addr, seen, task)
}

/// The next request on a keep-alive connection, or `None` when the peer closed it.
async fn read_request(stream: &mut tokio::net::TcpStream, buf: &mut Vec<u8>) -> Option<RawRequest> {
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.ok().filter(|&n| n > 0)?;
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8(buf[..head_end].to_vec()).expect("an ASCII head");
    let mut request = RawRequest {
        head,
        body: Vec::new(),
    };
    let length: usize = request
        .header("content-length")
        .expect("Content-Length")
        .parse()
        .expect("a length");
    while buf.len() < head_end + length {
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.ok().filter(|&n| n > 0)?;
        buf.extend_from_slice(&chunk[..n]);
    }
    request.body = buf[head_end..head_end + length].to_vec();
    buf.drain(..head_end + length);
    Some(request)
}

fn raw_response(answer: &HttpResponse) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {} X\r\nContent-Type: {}\r\nContent-Length: {}\r\n",
        answer.status,
        answer.content_type,
        answer.body.len()
    );
    if let Some(h) = &answer.hmac {
        out.push_str(&format!("x-syncml-hmac: {h}\r\n"));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&answer.body);
    bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_peer_reads_the_device_encoding_in_the_raw_requests() {
    tokio::time::timeout(LIMIT, async {
        let client = HttpTransport::new(&ClientOptions::default()).expect("transport");
        for encoding in ENCODINGS {
            let file = scenario(encoding);
            let server = server(&file);
            let (addr, seen, task) = recording_peer(Arc::clone(&server)).await;
            let mut device = device(&file, Some(&format!("http://{addr}/dm")));
            let report = session(&client, &mut device, Pace::Skip).await;
            task.abort();
            assert_clean(encoding, &report, &server);
            let seen = std::mem::take(&mut *seen.lock().unwrap_or_else(PoisonError::into_inner));
            assert_eq!(seen.len(), report.transcript.len());
            for (n, request) in seen.iter().enumerate() {
                let what = format!("{encoding:?} raw request {}", n + 1);
                assert!(request.head.starts_with("POST /dm HTTP/1.1\r\n"), "{what}");
                let content_type = request.header("content-type").unwrap_or_default();
                assert_on_wire(&what, encoding, content_type, &request.body);
                assert_eq!(
                    request.header("accept"),
                    Some(encoding.content_type()),
                    "{what}: the device asks for its own encoding"
                );
                assert!(request.header("x-syncml-hmac").is_some(), "{what}");
            }
        }
    })
    .await
    .expect("in time");
}

/// Package 1 of an XML device, and the same message in WBXML.
fn package1() -> (Vec<u8>, Vec<u8>) {
    let file = scenario(Encoding::Xml);
    let mut device = device(&file, None);
    let (_, out) = ClientSession::start(&mut device, client_start()).expect("account");
    let msg = dmsim::syncml::xml::decode(&out.request.body).expect("XML");
    (out.request.body, Encoding::Wbxml.encode(&msg))
}

fn post(content_type: &str, body: &[u8]) -> HttpRequest {
    HttpRequest {
        url: "http://127.0.0.1/dm".into(),
        content_type: content_type.into(),
        hmac: None,
        body: body.to_vec(),
    }
}

#[test]
fn a_body_that_is_not_what_its_type_says_is_refused_in_process() {
    let (xml, wbxml) = package1();
    let file = scenario(Encoding::Xml);
    let server = server(&file);
    let cases: [(&str, &[u8], u16, &str); 4] = [
        (CONTENT_TYPE_WBXML, &xml, 415, "the body is XML"),
        (CONTENT_TYPE_XML, &wbxml, 415, "the body is WBXML"),
        ("text/plain", &xml, 415, "content type \"text/plain\""),
        (CONTENT_TYPE_WBXML, &wbxml[..wbxml.len() / 2], 400, "WBXML"),
    ];
    for (n, (content_type, body, status, says)) in cases.iter().enumerate() {
        let answer = server.handle(&post(content_type, body));
        assert_eq!(answer.status, *status, "{content_type}");
        let refused = server.refused();
        assert_eq!(refused.violations.len(), n + 1);
        let rule = &refused.violations[n];
        assert!(rule.contains(&format!("HTTP {status}")), "{rule}");
        assert!(rule.contains(says), "{rule}");
    }
    assert!(server.records().is_empty(), "no session was opened");
    // The in-process transport gives the device the refusal as an HTTP error.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let err = runtime
        .block_on(InProcess::new(Arc::clone(&server)).exchange(post(CONTENT_TYPE_WBXML, &xml)))
        .expect_err("refused");
    assert!(
        matches!(&err, TransportError::Http { status: 415, reason } if reason.contains("the body is XML")),
        "{err:?}"
    );
    // A rightly labelled message still opens its session.
    assert_eq!(server.handle(&post(CONTENT_TYPE_XML, &xml)).status, 200);
    assert_eq!(server.records().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_is_not_what_its_type_says_is_refused_over_http() {
    tokio::time::timeout(LIMIT, async {
        let (xml, wbxml) = package1();
        let file = scenario(Encoding::Xml);
        let server = server(&file);
        let running = net::serve(localhost(), Arc::clone(&server) as Arc<dyn DmService>, None)
            .await
            .expect("serve");
        let client = HttpTransport::new(&ClientOptions::default()).expect("transport");
        let url = running.url("/dm");
        let send = |content_type: &str, body: &[u8]| {
            let request = HttpRequest {
                url: url.clone(),
                ..post(content_type, body)
            };
            client.exchange(request)
        };
        let err = send(CONTENT_TYPE_WBXML, &xml).await.expect_err("refused");
        assert!(
            matches!(&err, TransportError::Http { status: 415, reason } if reason.contains("the body is XML")),
            "{err:?}"
        );
        let err = send(CONTENT_TYPE_XML, &wbxml).await.expect_err("refused");
        assert!(
            matches!(&err, TransportError::Http { status: 415, reason } if reason.contains("the body is WBXML")),
            "{err:?}"
        );
        let err = send(CONTENT_TYPE_WBXML, &wbxml[..wbxml.len() / 2])
            .await
            .expect_err("refused");
        assert!(
            matches!(&err, TransportError::Http { status: 400, .. }),
            "{err:?}"
        );
        // A type that is not SyncML is refused by the front end with the same 415 (it may be
        // content for a path nothing hosts, so the DM service does not see it).
        let err = send("text/plain", &xml).await.expect_err("refused");
        assert!(
            matches!(&err, TransportError::Http { status: 415, reason } if reason.contains("unsupported content type \"text/plain\"")),
            "{err:?}"
        );
        let refused = server.refused();
        assert_eq!(refused.violations.len(), 3, "{:?}", refused.violations);
        assert!(refused.violations[0].contains("HTTP 415"), "{refused:?}");
        assert!(refused.violations[1].contains("HTTP 415"), "{refused:?}");
        assert!(refused.violations[2].contains("HTTP 400"), "{refused:?}");
        assert!(server.records().is_empty(), "no session was opened");
        running.shutdown().await;
    })
    .await
    .expect("in time");
}

#[test]
fn refused_requests_are_bounded() {
    let (xml, _) = package1();
    let server = server(&scenario(Encoding::Xml));
    let extra = 5;
    for _ in 0..dmsim::server::MAX_REFUSED_KEPT + extra {
        assert_eq!(server.handle(&post(CONTENT_TYPE_WBXML, &xml)).status, 415);
    }
    let refused = server.refused();
    assert_eq!(refused.violations.len(), dmsim::server::MAX_REFUSED_KEPT);
    assert_eq!(refused.dropped, extra as u64);
    let lines = refused.lines();
    assert_eq!(lines.len(), dmsim::server::MAX_REFUSED_KEPT + 1);
    assert!(
        lines[dmsim::server::MAX_REFUSED_KEPT].contains("5 more"),
        "{lines:?}"
    );
}
