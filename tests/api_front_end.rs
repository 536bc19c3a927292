//! The REST API on the network front end, on loopback: a fake API beside a mock DM server behind
//! `net::serve` (plain HTTP, port 0), called with reqwest: JSON answers with their content type,
//! any method for the API's paths, the 1 MiB bound (413 in the API's error shape), DM POSTs and
//! other paths still the DM server's; and webhook delivery to a loopback receiver.
//!
//! Every test is bounded by a timeout.

mod support;

use dmsim::net::{self, webhook, ClientOptions, DmService, WithApi, MAX_API_BODY_BYTES};
use dmsim::server::{Api, ApiRequest, ApiResponse, MockServer, ServerConfig};
use dmsim::syncml::{
    Alert, AlertCode, Encoding, Location, SyncBody, SyncHdr, SyncMl, CONTENT_TYPE_XML, VER_DTD,
    VER_PROTO,
};
use serde_json::{json, Value};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use support::receiver::receiver;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

const LIMIT: Duration = Duration::from_secs(20);

async fn bounded<F: Future>(f: F) -> F::Output {
    tokio::time::timeout(LIMIT, f)
        .await
        .expect("the test finished in time")
}

fn localhost() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

/// Serves `/api/test/…`: echoes what it was given (GET and POST), 405 for other methods; keeps
/// every request with its `now`.
#[derive(Default)]
struct FakeApi {
    seen: Mutex<Vec<(ApiRequest, u64)>>,
}

impl Api for FakeApi {
    fn serves(&self, path: &str) -> bool {
        path.starts_with("/api/test/")
    }

    fn handle(&self, request: &ApiRequest, now: u64) -> ApiResponse {
        self.seen.lock().expect("lock").push((request.clone(), now));
        if !matches!(request.method.as_str(), "GET" | "POST") {
            return ApiResponse::error(405, None, "METHOD_NOT_ALLOWED", "GET or POST");
        }
        ApiResponse::json(
            200,
            json!({
                "method": request.method,
                "path": request.path,
                "authorization": request.authorization,
                "contentType": request.content_type,
                "bytes": request.body.len(),
            }),
        )
    }
}

struct Running {
    server: Arc<MockServer>,
    api: Arc<FakeApi>,
    running: net::RunningServer,
    client: reqwest::Client,
}

async fn start() -> Running {
    let server = Arc::new(MockServer::new(ServerConfig {
        server_id: "dmsim".into(),
        url: "http://127.0.0.1/dm".into(),
        seed: 1,
        ..ServerConfig::default()
    }));
    let api = Arc::new(FakeApi::default());
    let service = WithApi::new(
        Arc::clone(&server) as Arc<dyn DmService>,
        Arc::clone(&api) as Arc<dyn Api>,
    );
    let running = net::serve(localhost(), Arc::new(service), None)
        .await
        .expect("serve");
    let client = webhook::client(&ClientOptions::default()).expect("client");
    Running {
        server,
        api,
        running,
        client,
    }
}

async fn json_of(response: reqwest::Response) -> (u16, String, Value) {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let bytes = response.bytes().await.expect("body");
    let body = serde_json::from_slice(&bytes).expect("a JSON body");
    (status, content_type, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_paths_get_json_answers_whatever_the_method() {
    bounded(async {
        let t = start().await;
        let before = unix_now();
        let response = t
            .client
            .post(t.running.url("/api/test/echo?page=2"))
            .header("authorization", "Bearer abc")
            .header("content-type", "application/json")
            .body(r#"{"devices": []}"#)
            .send()
            .await
            .expect("post");
        let (status, content_type, body) = json_of(response).await;
        assert_eq!((status, content_type.as_str()), (200, "application/json"));
        assert_eq!(
            body,
            json!({
                "method": "POST",
                "path": "/api/test/echo?page=2",
                "authorization": "Bearer abc",
                "contentType": "application/json",
                "bytes": 15,
            })
        );
        let now = t.api.seen.lock().expect("lock")[0].1;
        assert!(before <= now && now <= unix_now(), "wall clock: {now}");
        // Any method reaches the API, which refuses it itself.
        let response = t
            .client
            .delete(t.running.url("/api/test/echo"))
            .send()
            .await
            .expect("delete");
        let (status, content_type, body) = json_of(response).await;
        assert_eq!((status, content_type.as_str()), (405, "application/json"));
        assert_eq!(body["error"]["key"], "METHOD_NOT_ALLOWED");
        assert_eq!(t.api.seen.lock().expect("lock").len(), 2);
        assert!(t.server.records().is_empty() && t.server.refused().is_empty());
        t.running.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_body_over_one_mib_is_413_in_the_error_shape() {
    bounded(async {
        let t = start().await;
        let url = t.running.url("/api/test/upload");
        let response = t
            .client
            .post(&url)
            .body(vec![b'x'; MAX_API_BODY_BYTES])
            .send()
            .await
            .expect("1 MiB");
        let (status, _, body) = json_of(response).await;
        assert_eq!((status, body["bytes"].as_u64()), (200, Some(1 << 20)));
        let response = t
            .client
            .post(&url)
            .body(vec![b'x'; MAX_API_BODY_BYTES + 1])
            .send()
            .await
            .expect("1 MiB + 1");
        let (status, content_type, body) = json_of(response).await;
        assert_eq!((status, content_type.as_str()), (413, "application/json"));
        assert_eq!(body["error"]["key"], "PAYLOAD_TOO_LARGE");
        assert!(body["error"]["message"].is_string());
        assert!(body["error"].get("code").is_none(), "{body}");
        // A body sent in chunks, with no length announced, is bounded the same way.
        let addr = t.running.local_addr();
        let chunk = MAX_API_BODY_BYTES / 2 + 1;
        let head = raw_chunked(addr, "/api/test/upload", 2, chunk).await;
        assert!(head.starts_with("HTTP/1.1 413"), "{head}");
        assert!(head.contains("PAYLOAD_TOO_LARGE"), "{head}");
        assert_eq!(t.api.seen.lock().expect("lock").len(), 1, "only the 1 MiB");
        t.running.shutdown().await;
    })
    .await;
}

/// POST `count` chunks of `size` bytes with chunked transfer coding on a raw connection; the
/// answer as text.
async fn raw_chunked(addr: SocketAddr, path: &str, count: usize, size: usize) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.expect("head");
    for _ in 0..count {
        stream
            .write_all(format!("{size:x}\r\n").as_bytes())
            .await
            .expect("chunk size");
        stream.write_all(&vec![b'y'; size]).await.expect("chunk");
        stream.write_all(b"\r\n").await.expect("chunk end");
    }
    stream.write_all(b"0\r\n\r\n").await.expect("last chunk");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("answer");
    String::from_utf8_lossy(&answer).into_owned()
}

/// A Package 1 of device `IMEI:1` opening a session.
fn package1() -> Vec<u8> {
    let mut msg = SyncMl {
        hdr: SyncHdr {
            ver_dtd: VER_DTD.into(),
            ver_proto: VER_PROTO.into(),
            session_id: "1".into(),
            msg_id: "1".into(),
            target: Location::uri("http://127.0.0.1/dm"),
            source: Location::uri("IMEI:1"),
            resp_uri: None,
            no_resp: false,
            cred: None,
            meta: None,
        },
        body: SyncBody {
            commands: vec![dmsim::syncml::Command::Alert(Alert::bare(
                AlertCode::ClientInitiatedMgmt,
            ))],
            final_flag: true,
        },
    };
    msg.body.number_commands();
    Encoding::Xml.encode(&msg)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dm_posts_and_other_paths_are_still_the_dm_servers() {
    bounded(async {
        let t = start().await;
        let response = t
            .client
            .post(t.running.url("/dm"))
            .header("content-type", CONTENT_TYPE_XML)
            .body(package1())
            .send()
            .await
            .expect("dm post");
        assert_eq!(response.status().as_u16(), 200);
        let content_type = response.headers()[reqwest::header::CONTENT_TYPE].clone();
        assert_eq!(content_type, CONTENT_TYPE_XML);
        let records = t.server.records();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].device, "IMEI:1");
        // A GET of a path that is not the API's: the DM server's 405, in text.
        let response = t
            .client
            .get(t.running.url("/api/other"))
            .send()
            .await
            .expect("get");
        assert_eq!(response.status().as_u16(), 405);
        let text = response.text().await.expect("text");
        assert!(text.contains("SyncML DM messages are POSTed"), "{text}");
        assert!(t.api.seen.lock().expect("lock").is_empty());
        t.running.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_arrive_as_json_in_order_and_failures_are_typed() {
    bounded(async {
        let client = webhook::client(&ClientOptions::default()).expect("client");
        let (url, mut received) = receiver(204).await;
        let event = json!({"type": "device.status-changed", "deviceId": "IMEI:1"});
        let status = webhook::deliver(&client, &url, &event)
            .await
            .expect("delivered");
        assert_eq!(status, 204);
        let (content_type, body) = received.recv().await.expect("received");
        assert_eq!(content_type, "application/json");
        assert_eq!(serde_json::from_slice::<Value>(&body).expect("json"), event);

        // The background loop: two events, in order; the loop ends when the channel closes.
        let (events, rx) = mpsc::channel(8);
        let task = webhook::spawn_delivery(client.clone(), rx);
        for n in 1..=2 {
            events
                .send((url.clone(), json!({"n": n})))
                .await
                .expect("queued");
        }
        drop(events);
        task.await.expect("the loop ends without panicking");
        for n in 1..=2 {
            let (_, body) = received.recv().await.expect("received");
            assert_eq!(
                serde_json::from_slice::<Value>(&body).expect("json"),
                json!({"n": n})
            );
        }

        // A receiver answering 500, and one that is gone.
        let (refusing, _kept) = receiver(500).await;
        let err = webhook::deliver(&client, &refusing, &event)
            .await
            .expect_err("500");
        assert!(
            matches!(err, webhook::WebhookError::Status { status: 500, .. }),
            "{err}"
        );
        let gone = {
            let listener = TcpListener::bind(localhost()).await.expect("bind");
            format!("http://{}/hook", listener.local_addr().expect("addr"))
        };
        let err = webhook::deliver(&client, &gone, &event)
            .await
            .expect_err("nobody listens");
        assert!(matches!(err, webhook::WebhookError::Send { .. }), "{err}");
        // The loop logs a failed event and goes on with the next.
        let (events, rx) = mpsc::channel(8);
        let task = webhook::spawn_delivery(client, rx);
        events.send((gone, json!({"n": 0}))).await.expect("queued");
        events.send((url, json!({"n": 3}))).await.expect("queued");
        drop(events);
        task.await.expect("the loop ends without panicking");
        let (_, body) = received.recv().await.expect("received");
        assert_eq!(
            serde_json::from_slice::<Value>(&body).expect("json"),
            json!({"n": 3})
        );
    })
    .await;
}
