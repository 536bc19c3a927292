//! The Knox E-FOTA portal's REST API as a UEM developer calls it: `dmsim serve --profile
//! knox-efota --plain` as a process on loopback (port 0), HTTP requests with reqwest, and `dmsim
//! device --profile knox-efota` as a process for the device side.
//!
//! * tokens by JSON and by form; every refusal in the API's error shape (`{"error": {"key",
//!   "message"}}`, with `code` where the seed has one): a wrong secret, no token, an unknown token,
//!   a read-only client writing, bad JSON, a missing field, a wrong content type, a wrong method, an
//!   unknown path, a body over 1 MiB, an empty device list; the server keeps answering after them;
//! * the UEM loop: upload a device, register a webhook (a receiver in the test), create a campaign,
//!   run the device: `getDevices`, the operation and the webhook show the update done (`0`); a
//!   second campaign the user rejects during the download: `getDevices` filtered by
//!   `agentErrorCodes` shows the device's `-2401` and the operation's `-7005`.
//!
//! Every test is bounded by a timeout.

mod support;

use dmsim::net::{webhook, ClientOptions};
use serde_json::{json, Value};
use std::future::Future;
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use support::receiver::{receiver, Received};
use support::served::{serve, Served};
use tokio::sync::mpsc;

const LIMIT: Duration = Duration::from_secs(120);

/// How long a webhook may take: the server hands its events over every 500 ms.
const WEBHOOK_WAIT: Duration = Duration::from_secs(10);

const IMEI: &str = "356938035643809";

async fn bounded<F: Future>(f: F) -> F::Output {
    tokio::time::timeout(LIMIT, f)
        .await
        .expect("the test finished in time")
}

/// The portal's API of a running `dmsim serve`.
struct Portal {
    client: reqwest::Client,
    /// `http://127.0.0.1:PORT/api/efota`.
    api: String,
}

/// What the API answered: the status and the JSON body.
#[derive(Debug)]
struct Answer {
    status: u16,
    body: Value,
}

impl Answer {
    /// The answer is a refusal with this status and key, in the error shape: `key` and
    /// `message`, `code` only where the seed has one.
    fn refused(&self, status: u16, key: &str, code: Option<i64>) {
        assert_eq!(self.status, status, "{:?}", self.body);
        let error = self.body["error"]
            .as_object()
            .unwrap_or_else(|| panic!("no error object: {}", self.body));
        assert_eq!(error.get("key"), Some(&json!(key)), "{}", self.body);
        assert!(
            error["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{}",
            self.body
        );
        assert_eq!(error.get("code").and_then(Value::as_i64), code);
        let mut keys: Vec<&str> = error.keys().map(String::as_str).collect();
        keys.sort_unstable();
        let want: &[&str] = if code.is_some() {
            &["code", "key", "message"]
        } else {
            &["key", "message"]
        };
        assert_eq!(keys, want, "{}", self.body);
        assert_eq!(self.body.as_object().map(|o| o.len()), Some(1));
    }
}

impl Portal {
    fn of(served: &Served) -> Portal {
        Portal {
            client: webhook::client(&ClientOptions::default()).expect("client"),
            api: format!("{}/api/efota", served.base()),
        }
    }

    /// `method path` with the bearer token (if any), a body (if any) of the content type.
    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<(&str, Vec<u8>)>,
    ) -> Answer {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self.client.request(method, format!("{}{path}", self.api));
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        if let Some((content_type, bytes)) = body {
            request = request.header("content-type", content_type).body(bytes);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let bytes = response.bytes().await.expect("body");
        assert_eq!(content_type, "application/json", "{status}");
        let body = serde_json::from_slice(&bytes).expect("a JSON body");
        Answer { status, body }
    }

    /// POST a JSON value.
    async fn post(&self, path: &str, token: &str, body: &Value) -> Answer {
        let bytes = serde_json::to_vec(body).expect("JSON");
        self.call("POST", path, Some(token), Some(("application/json", bytes)))
            .await
    }

    async fn get(&self, path: &str, token: &str) -> Answer {
        self.call("GET", path, Some(token), None).await
    }

    /// A token for a client, asked for with a JSON body.
    async fn token(&self, id: &str, secret: &str) -> String {
        let body = json!({ "clientId": id, "clientSecret": secret });
        let answer = self
            .call(
                "POST",
                "/oauth/token",
                None,
                Some(("application/json", serde_json::to_vec(&body).expect("JSON"))),
            )
            .await;
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        assert_eq!(answer.body["token_type"], "Bearer");
        assert_eq!(answer.body["expires_in"], 3600);
        answer.body["access_token"]
            .as_str()
            .expect("a token")
            .to_string()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_and_every_refusal_come_in_the_api_s_shapes() {
    let served = serve(&["--profile", "knox-efota", "--plain"]);
    let portal = Portal::of(&served);
    bounded(async {
        // A token by JSON, and one by an OAuth 2.0 client-credentials form: both work.
        let token = portal.token("dmsim-uem", "dmsim-secret").await;
        let form = portal
            .call(
                "POST",
                "/oauth/token",
                None,
                Some((
                    "application/x-www-form-urlencoded",
                    b"grant_type=client_credentials&client_id=dmsim-uem&client_secret=dmsim-secret"
                        .to_vec(),
                )),
            )
            .await;
        assert_eq!(form.status, 200, "{:?}", form.body);
        let form_token = form.body["access_token"].as_str().expect("token");
        assert_ne!(form_token, token, "each request gets its own token");
        for t in [token.as_str(), form_token] {
            let licenses = portal.get("/licenses", t).await;
            assert_eq!(licenses.status, 200, "{:?}", licenses.body);
            assert_eq!(licenses.body["licenses"][0]["key"], "KNOX-EFOTA-DMSIM-0001");
        }

        // A wrong secret.
        let body = serde_json::to_vec(&json!({"clientId": "dmsim-uem", "clientSecret": "nope"}))
            .expect("JSON");
        portal
            .call(
                "POST",
                "/oauth/token",
                None,
                Some(("application/json", body)),
            )
            .await
            .refused(401, "INVALID_CLIENT", None);
        // No token, and a token the portal never issued.
        portal
            .call(
                "POST",
                "/devices/getDevices",
                None,
                Some(("application/json", b"{}".to_vec())),
            )
            .await
            .refused(401, "UNAUTHORIZED", None);
        portal
            .post("/devices/getDevices", "0123456789abcdef", &json!({}))
            .await
            .refused(401, "UNAUTHORIZED", None);

        // A read-only client reads (getDevices is a POST that reads) but does not write.
        let viewer = portal.token("dmsim-viewer", "viewer-secret").await;
        let devices = portal
            .post("/devices/getDevices", &viewer, &json!({}))
            .await;
        assert_eq!(devices.status, 200, "{:?}", devices.body);
        assert_eq!(devices.body["total"], 0);
        let upload = json!({"devices": [{"imei": IMEI, "model": "SM-G991B"}]});
        portal
            .post("/devices/bulkUpload", &viewer, &upload)
            .await
            .refused(403, "FORBIDDEN", None);

        // Bodies that are not what the endpoint reads.
        let bad_json = portal
            .call(
                "POST",
                "/campaigns",
                Some(&token),
                Some(("application/json", br#"{"name": "Q4", "model": "#.to_vec())),
            )
            .await;
        bad_json.refused(400, "INVALID_JSON", None);
        let missing = portal
            .post(
                "/campaigns",
                &token,
                &json!({"name": "Q4", "devices": [IMEI], "firmwarePolicy": {"type": "latest"}}),
            )
            .await;
        missing.refused(400, "INVALID_REQUEST", None);
        assert!(
            missing.body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("model")),
            "the message names the field: {:?}",
            missing.body
        );
        portal
            .call(
                "POST",
                "/devices/getDevices",
                Some(&token),
                Some(("text/plain", b"{}".to_vec())),
            )
            .await
            .refused(415, "UNSUPPORTED_MEDIA_TYPE", None);
        portal
            .get("/devices/getDevices", &token)
            .await
            .refused(405, "METHOD_NOT_ALLOWED", None);
        portal
            .get("/no/such/endpoint", &token)
            .await
            .refused(404, "NOT_FOUND", None);
        portal
            .get("/operations/op-99", &token)
            .await
            .refused(404, "OPERATION_NOT_FOUND", None);
        let big = vec![b' '; (1 << 20) + 1];
        portal
            .call(
                "POST",
                "/devices/bulkUpload",
                Some(&token),
                Some(("application/json", big)),
            )
            .await
            .refused(413, "PAYLOAD_TOO_LARGE", None);

        // The seed's validation code for an empty device list, on upload and on a campaign.
        portal
            .post("/devices/bulkUpload", &token, &json!({"devices": []}))
            .await
            .refused(400, "EMPTY_DEVICE_LIST", Some(-4));
        let campaign = json!({"name": "Q4", "model": "SM-G991B", "devices": [],
            "firmwarePolicy": {"type": "latest"}});
        portal.post("/campaigns", &token, &campaign).await.refused(
            400,
            "EMPTY_DEVICE_LIST",
            Some(-4),
        );

        // None of it hurt the server: it still works, and nothing was created.
        let accepted = portal.post("/devices/bulkUpload", &token, &upload).await;
        assert_eq!(accepted.status, 202, "{:?}", accepted.body);
        assert_eq!(accepted.body["accepted"], 1);
        let devices = portal
            .post("/devices/getDevices", &viewer, &json!({}))
            .await;
        assert_eq!(devices.body["total"], 1, "{:?}", devices.body);
        assert_eq!(devices.body["devices"][0]["imei"], IMEI);
        assert_eq!(devices.body["devices"][0]["updateStatus"], "None");
    })
    .await;
    let summary = served.stop();
    assert!(summary.starts_with("0 session(s)"), "{summary}");
}

/// The first DEVICE_STATUS_CHANGED the receiver gets for `operation`, within [`WEBHOOK_WAIT`].
async fn status_change(hooks: &mut mpsc::UnboundedReceiver<Received>, operation: &str) -> Value {
    let wait = async {
        while let Some((_, bytes)) = hooks.recv().await {
            let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            if body["eventType"] == "DEVICE_STATUS_CHANGED" && body["operationId"] == operation {
                return body;
            }
        }
        panic!("the receiver stopped");
    };
    tokio::time::timeout(WEBHOOK_WAIT, wait)
        .await
        .unwrap_or_else(|_| panic!("no DEVICE_STATUS_CHANGED for {operation} in time"))
}

/// `dmsim device --profile knox-efota --server URL` with `extra` flags: its exit code and what it
/// printed.
async fn device(url: &str, extra: &[&str]) -> (Option<i32>, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut command = Command::new(env!("CARGO_BIN_EXE_dmsim"));
    command
        .current_dir(root)
        .args(["device", "--profile", "knox-efota", "--server", url])
        .args(extra);
    let out = tokio::task::spawn_blocking(move || command.output().expect("dmsim device runs"))
        .await
        .expect("the device's task");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// `YYYY-MM-DDTHH:MM:SSZ`.
fn is_iso_utc(value: &Value) -> bool {
    value.as_str().is_some_and(|s| {
        s.len() == 20
            && s.ends_with('Z')
            && s.bytes().enumerate().all(|(i, b)| match i {
                4 | 7 => b == b'-',
                10 => b == b'T',
                13 | 16 => b == b':',
                19 => b == b'Z',
                _ => b.is_ascii_digit(),
            })
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_uem_uploads_a_device_runs_campaigns_and_sees_the_agent_error() {
    let served = serve(&["--profile", "knox-efota", "--plain"]);
    let portal = Portal::of(&served);
    let url = served.url.clone();
    bounded(async {
        let token = portal.token("dmsim-uem", "dmsim-secret").await;
        let upload = json!({"devices": [{"imei": IMEI, "model": "SM-G991B"}],
            "licenseKey": "KNOX-EFOTA-DMSIM-0001"});
        let uploaded = portal.post("/devices/bulkUpload", &token, &upload).await;
        assert_eq!(uploaded.status, 202, "{:?}", uploaded.body);
        assert_eq!(uploaded.body["accepted"], 1);
        assert_eq!(uploaded.body["rejected"], json!([]));

        let (hook_url, mut hooks) = receiver(204).await;
        let hook = portal
            .post("/webhooks", &token, &json!({ "url": hook_url }))
            .await;
        assert_eq!(hook.status, 201, "{:?}", hook.body);

        // Round 1: the latest firmware; the device installs it.
        let campaign = json!({"name": "Q4", "model": "SM-G991B", "devices": [IMEI],
            "firmwarePolicy": {"type": "latest"}});
        let created = portal.post("/campaigns", &token, &campaign).await;
        assert_eq!(created.status, 201, "{:?}", created.body);
        assert_eq!(created.body["operationId"], "op-1");
        assert_eq!(created.body["status"], "Pending");
        let pending = portal.post("/devices/getDevices", &token, &json!({})).await;
        assert_eq!(pending.body["devices"][0]["updateStatus"], "Pending");
        assert_eq!(pending.body["devices"][0]["clientStatus"], "NotConnected");

        let (code, printed) = device(&url, &[]).await;
        assert_eq!(code, Some(0), "{printed}");
        assert!(printed.contains("--- Knox E-FOTA report: 0 "), "{printed}");

        let devices = portal.post("/devices/getDevices", &token, &json!({})).await;
        assert_eq!(devices.status, 200, "{:?}", devices.body);
        assert_eq!(devices.body["total"], 1, "{:?}", devices.body);
        let d = &devices.body["devices"][0];
        assert_eq!(d["imei"], IMEI);
        assert_eq!(d["firmwareVersion"], "G991BXXU5DWA1", "{d}");
        assert_eq!(d["updateStatus"], "Succeeded", "{d}");
        assert_eq!(d["clientStatus"], "Idle", "{d}");
        assert_eq!(d["operationStatus"], "CampaignSynced", "{d}");
        assert_eq!(d["agentError"], Value::Null, "{d}");
        assert_eq!(d["operation"]["id"], "op-1", "{d}");
        assert_eq!(d["operation"]["result"]["code"], 0, "{d}");
        assert!(is_iso_utc(&d["lastSeen"]), "{d}");
        let op = portal.get("/operations/op-1", &token).await;
        assert_eq!(op.status, 200, "{:?}", op.body);
        assert_eq!(op.body["status"], "Completed", "{:?}", op.body);
        assert_eq!(op.body["result"]["code"], 0, "{:?}", op.body);
        assert_eq!(op.body["devices"][0]["imei"], IMEI, "{:?}", op.body);
        assert_eq!(op.body["devices"][0]["result"]["code"], 0, "{:?}", op.body);
        let event = status_change(&mut hooks, "op-1").await;
        assert_eq!(event["operationCode"], 0, "{event}");
        assert_eq!(event["device"]["imei"], IMEI, "{event}");
        assert!(is_iso_utc(&event["occurredAt"]), "{event}");

        // Round 2: the device keeps its state in memory only, so it starts again from the
        // factory firmware (G991BXXU5CVJB), and the portal, reading FwV at check-in, sends the
        // latest again; this time the user cancels the download (the scenario's [[fault]]).
        let campaign = json!({"name": "Q4 again", "model": "SM-G991B", "devices": [IMEI],
            "firmwarePolicy": {"type": "latest"}});
        let created = portal.post("/campaigns", &token, &campaign).await;
        assert_eq!(created.status, 201, "{:?}", created.body);
        assert_eq!(created.body["operationId"], "op-2");
        let (code, printed) = device(
            &url,
            &[
                "--scenario",
                "scenarios/knox-efota/portal/-7005-user-rejected-download.toml",
            ],
        )
        .await;
        assert_eq!(code, Some(1), "the FUMO job failed: {printed}");
        assert!(
            printed.contains("--- Knox E-FOTA report: -2401 "),
            "{printed}"
        );

        let failed = portal
            .post(
                "/devices/getDevices",
                &token,
                &json!({"agentErrorCodes": [-2401]}),
            )
            .await;
        assert_eq!(failed.status, 200, "{:?}", failed.body);
        assert_eq!(failed.body["total"], 1, "{:?}", failed.body);
        let d = &failed.body["devices"][0];
        assert_eq!(d["imei"], IMEI, "{d}");
        assert_eq!(d["agentError"]["code"], -2401, "{d}");
        assert!(
            d["agentError"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("cancelled the download")),
            "{d}"
        );
        assert!(is_iso_utc(&d["agentError"]["date"]), "{d}");
        assert_eq!(d["operation"]["id"], "op-2", "{d}");
        assert_eq!(d["operation"]["result"]["code"], -7005, "{d}");
        assert_eq!(d["updateStatus"], "Failed", "{d}");
        assert_eq!(d["clientStatus"], "Error", "{d}");
        assert_eq!(d["firmwareVersion"], "G991BXXU5CVJB", "{d}");
        // The filter filters: no device has another code.
        let none = portal
            .post(
                "/devices/getDevices",
                &token,
                &json!({"agentErrorCodes": [-2405]}),
            )
            .await;
        assert_eq!(none.body["total"], 0, "{:?}", none.body);
        let op = portal.get("/operations/op-2", &token).await;
        assert_eq!(op.body["result"]["code"], -7005, "{:?}", op.body);
        // The first operation's result stands.
        let op = portal.get("/operations/op-1", &token).await;
        assert_eq!(op.body["result"]["code"], 0, "{:?}", op.body);
        let event = status_change(&mut hooks, "op-2").await;
        assert_eq!(event["operationCode"], -7005, "{event}");
        assert_eq!(event["device"]["agentError"]["code"], -2401, "{event}");
    })
    .await;
    let summary = served.stop();
    assert!(summary.contains("FUMO results: [200]"), "{summary}");
    assert!(summary.contains("FUMO results: [401]"), "{summary}");
}
