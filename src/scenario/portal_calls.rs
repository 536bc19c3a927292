//! A scenario's calls to the portal's REST API (`[[portal.call]]`, [`super::portal_spec`]): made
//! at their moments of the run, at the device's simulated clock, each recorded with the portal's
//! answer; then checked against what the scenario expects, and shown in the transcript.
//!
//! The runner reaches the portal through [`ScenarioPortal`]: the server's REST API ([`Api`]) plus
//! what only a scenario runner needs of it (a valid token, and the portal's clock set to the
//! device's before each session and call).

pub use crate::server::{Api, ApiRequest, ApiResponse};

use super::error::RunError;
use super::portal_spec::{Placeholders, PortalCall, PortalSpec, TokenSpec};

/// The portal as a scenario runner uses it.
pub trait ScenarioPortal: Api {
    /// A valid bearer token (what `token = "valid"` presents).
    fn token(&self) -> String;
    /// Set the portal's clock (seconds) for what the device's sessions make it do.
    fn set_now(&self, now: u64);
    /// How often each of the portal's own faults (`[[portal.fault]]`, in order) fired.
    fn faults_fired(&self) -> Vec<u32>;
}

impl ScenarioPortal for crate::portal::Portal {
    fn token(&self) -> String {
        crate::portal::Portal::token(self)
    }

    fn set_now(&self, now: u64) {
        crate::portal::Portal::set_now(self, now)
    }

    fn faults_fired(&self) -> Vec<u32> {
        crate::portal::Portal::faults_fired(self)
    }
}

/// One call as made, with the portal's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct CallRecord {
    /// The call's index in `[[portal.call]]`.
    pub index: usize,
    /// The session it was made before (0 for the first), `None` after the last.
    pub before: Option<usize>,
    pub method: &'static str,
    pub path: String,
    /// The body sent, placeholders replaced.
    pub request_body: Option<String>,
    /// The clock it was made at.
    pub now: u64,
    pub status: u16,
    pub body: serde_json::Value,
}

/// A moment of the run at which calls are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Moment {
    /// Before the device's session `n` (from 1).
    BeforeSession(u32),
    /// After the device's last session and its work after it.
    End,
}

/// Make the calls of `spec` due at `moment`, in the order written, at `now`, recording each.
pub(super) fn make_calls(
    portal: &dyn ScenarioPortal,
    spec: &PortalSpec,
    moment: Moment,
    placeholders: &Placeholders,
    now: u64,
    records: &mut Vec<CallRecord>,
) -> Result<(), RunError> {
    let due = |call: &PortalCall| match moment {
        Moment::BeforeSession(n) => call.at.before_session() == Some(n),
        Moment::End => call.at.before_session().is_none(),
    };
    for (index, call) in spec.calls.iter().enumerate().filter(|(_, c)| due(c)) {
        let request_body = call
            .body
            .as_deref()
            .map(|b| placeholders.apply(b))
            .transpose()
            .map_err(|reason| RunError::PortalCall { index, reason })?;
        // The clock first: a valid token is one issued at the call's moment.
        portal.set_now(now);
        let authorization = match &call.token {
            TokenSpec::Valid => Some(format!("Bearer {}", portal.token())),
            TokenSpec::None => None,
            TokenSpec::Literal(t) => Some(format!("Bearer {t}")),
        };
        let request = ApiRequest {
            method: call.method.as_str().to_string(),
            path: call.path.clone(),
            authorization,
            content_type: request_body
                .is_some()
                .then(|| "application/json".to_string()),
            body: request_body.clone().unwrap_or_default().into_bytes(),
        };
        let response = portal.handle(&request, now);
        records.push(CallRecord {
            index,
            before: match moment {
                Moment::BeforeSession(n) => usize::try_from(n.saturating_sub(1)).ok(),
                Moment::End => None,
            },
            method: call.method.as_str(),
            path: call.path.clone(),
            request_body,
            now,
            status: response.status,
            body: response.body,
        });
    }
    Ok(())
}

/// The failures of the calls: one never made (the device ran fewer sessions than its moment
/// needs), a status other than expected, a pointer whose value is not the expected one.
pub(super) fn check(spec: &PortalSpec, records: &[CallRecord], sessions: usize) -> Vec<String> {
    let mut failures = Vec::new();
    for (index, call) in spec.calls.iter().enumerate() {
        let name = format!(
            "portal.call[{index}] {} {}",
            call.method.as_str(),
            call.path
        );
        let Some(record) = records.iter().find(|r| r.index == index) else {
            failures.push(format!(
                "{name} (at {}) was never made: the device ran {sessions} session(s)",
                call.at
            ));
            continue;
        };
        if record.status != call.status {
            failures.push(format!(
                "{name}: status {}, expected {}",
                record.status, call.status
            ));
        }
        for (pointer, expected) in &call.expect {
            match record.body.pointer(pointer) {
                Some(actual) if actual == expected => {}
                Some(actual) => failures.push(format!(
                    "{name}: {pointer:?} is {actual}, expected {expected}"
                )),
                None => failures.push(format!(
                    "{name}: {pointer:?} is absent, expected {expected}"
                )),
            }
        }
    }
    failures
}

/// The calls made before session `before` (0 for the first; `None`: after the last), for the
/// transcript: each call's request, then the portal's status and answer as pretty JSON.
pub fn render_calls(records: &[CallRecord], before: Option<usize>) -> String {
    let mut out = String::new();
    for r in records.iter().filter(|r| r.before == before) {
        out.push_str(&format!(
            "--- portal call {} (at {}s): {} {}\n",
            r.index, r.now, r.method, r.path
        ));
        if let Some(body) = &r.request_body {
            out.push_str(body);
            out.push('\n');
        }
        out.push_str(&format!(
            "--- portal call {} answered HTTP {}\n",
            r.index, r.status
        ));
        let pretty = serde_json::to_string_pretty(&r.body).unwrap_or_else(|_| r.body.to_string());
        out.push_str(&pretty);
        out.push('\n');
    }
    out
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::scenario::portal_spec::{CallAt, Method};
    use serde_json::json;
    use std::sync::Mutex;

    /// A request as the fake portal saw it, with the clock and what `probe` said then.
    #[derive(Debug, Clone)]
    pub struct Asked {
        pub method: String,
        pub path: String,
        pub authorization: Option<String>,
        pub content_type: Option<String>,
        pub body: Vec<u8>,
        pub now: u64,
        pub seen: String,
    }

    /// A fake portal: answers every request with the next scripted answer (or 200 `{}`), and
    /// keeps what it was asked, with the clock set and, if given, what `probe` says at the time.
    #[derive(Default)]
    pub struct FakePortal {
        pub answers: Mutex<Vec<(u16, serde_json::Value)>>,
        pub asked: Mutex<Vec<Asked>>,
        pub clock: Mutex<Vec<u64>>,
        #[allow(clippy::type_complexity)]
        pub probe: Option<Box<dyn Fn() -> String + Send + Sync>>,
    }

    impl Api for FakePortal {
        fn serves(&self, path: &str) -> bool {
            path.starts_with("/api/efota/")
        }

        fn handle(&self, request: &ApiRequest, now: u64) -> ApiResponse {
            let seen = self.probe.as_ref().map(|p| p()).unwrap_or_default();
            self.asked.lock().expect("lock").push(Asked {
                method: request.method.clone(),
                path: request.path.clone(),
                authorization: request.authorization.clone(),
                content_type: request.content_type.clone(),
                body: request.body.clone(),
                now,
                seen,
            });
            let mut answers = self.answers.lock().expect("lock");
            let (status, body) = if answers.is_empty() {
                (200, json!({}))
            } else {
                answers.remove(0)
            };
            ApiResponse { status, body }
        }
    }

    impl ScenarioPortal for FakePortal {
        fn token(&self) -> String {
            "T0KEN".to_string()
        }

        fn faults_fired(&self) -> Vec<u32> {
            Vec::new()
        }

        fn set_now(&self, now: u64) {
            self.clock.lock().expect("lock").push(now);
        }
    }

    fn call(at: CallAt, method: Method, path: &str) -> PortalCall {
        PortalCall {
            at,
            method,
            path: path.into(),
            body: None,
            token: TokenSpec::Valid,
            status: 200,
            expect: Vec::new(),
        }
    }

    fn spec(calls: Vec<PortalCall>) -> PortalSpec {
        PortalSpec {
            config: toml::Table::new(),
            calls,
        }
    }

    #[test]
    fn calls_due_at_a_moment_are_made_in_order_with_their_token_and_body() {
        let mut upload = call(
            CallAt::Session(1),
            Method::Post,
            "/api/efota/devices/bulkUpload",
        );
        upload.body = Some(r#"{"devices": [{"imei": "$IMEI"}]}"#.into());
        let mut bad = call(CallAt::Start, Method::Get, "/api/efota/licenses");
        bad.token = TokenSpec::Literal("nope".into());
        let mut anon = call(CallAt::End, Method::Get, "/api/efota/licenses");
        anon.token = TokenSpec::None;
        let spec = spec(vec![
            upload,
            call(CallAt::Session(2), Method::Delete, "/api/efota/x"),
            bad,
            anon,
        ]);
        let portal = FakePortal::default();
        let p = Placeholders::of("IMEI:356938035643809");
        let mut records = Vec::new();
        make_calls(
            &portal,
            &spec,
            Moment::BeforeSession(1),
            &p,
            5,
            &mut records,
        )
        .expect("made");
        make_calls(&portal, &spec, Moment::End, &p, 9, &mut records).expect("made");
        let asked = portal.asked.lock().expect("lock");
        let seen: Vec<(&str, &str, Option<&str>, u64)> = asked
            .iter()
            .map(|r| {
                (
                    r.method.as_str(),
                    r.path.as_str(),
                    r.authorization.as_deref(),
                    r.now,
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                (
                    "POST",
                    "/api/efota/devices/bulkUpload",
                    Some("Bearer T0KEN"),
                    5
                ),
                ("GET", "/api/efota/licenses", Some("Bearer nope"), 5),
                ("GET", "/api/efota/licenses", None, 9),
            ]
        );
        assert_eq!(
            asked[0].body,
            br#"{"devices": [{"imei": "356938035643809"}]}"#
        );
        assert_eq!(asked[0].content_type.as_deref(), Some("application/json"));
        assert_eq!(asked[1].content_type, None);
        assert!(asked[1].body.is_empty());
        assert_eq!(*portal.clock.lock().expect("lock"), [5, 5, 9]);
        let made: Vec<(usize, Option<usize>)> =
            records.iter().map(|r| (r.index, r.before)).collect();
        assert_eq!(made, [(0, Some(0)), (2, Some(0)), (3, None)]);
        // The session-2 call was never made: a failure naming it.
        let failures = check(&spec, &records, 1);
        assert_eq!(
            failures,
            ["portal.call[1] DELETE /api/efota/x (at session 2) was never made: the device ran 1 session(s)"]
        );
        let e = make_calls(
            &portal,
            &spec,
            Moment::BeforeSession(1),
            &Placeholders::of("dev-1"),
            0,
            &mut Vec::new(),
        )
        .expect_err("no IMEI");
        assert!(
            e.to_string()
                .starts_with("portal.call[0]: the body names $IMEI"),
            "{e}"
        );
    }

    #[test]
    fn a_wrong_status_or_value_fails_naming_the_call_pointer_and_both_values() {
        let mut c = call(CallAt::Start, Method::Post, "/api/efota/campaigns");
        c.status = 400;
        c.expect = vec![
            ("/error/code".into(), json!(-4)),
            ("/error/key".into(), json!("EMPTY_DEVICE_LIST")),
            ("/error/detail".into(), json!({"a": 1})),
        ];
        let spec = spec(vec![c]);
        let record = |status, body| CallRecord {
            index: 0,
            before: Some(0),
            method: "POST",
            path: "/api/efota/campaigns".into(),
            request_body: None,
            now: 0,
            status,
            body,
        };
        let good = record(
            400,
            json!({"error": {"code": -4, "key": "EMPTY_DEVICE_LIST", "detail": {"a": 1}}}),
        );
        assert_eq!(check(&spec, &[good], 1), Vec::<String>::new());
        let bad = record(
            200,
            json!({"error": {"code": -7, "key": "EMPTY_DEVICE_LIST"}}),
        );
        assert_eq!(
            check(&spec, &[bad], 1),
            [
                "portal.call[0] POST /api/efota/campaigns: status 200, expected 400",
                "portal.call[0] POST /api/efota/campaigns: \"/error/code\" is -7, expected -4",
                "portal.call[0] POST /api/efota/campaigns: \"/error/detail\" is absent, expected {\"a\":1}",
            ]
        );
        // An integer is not the float of the same value: values are exact.
        let float = record(
            400,
            json!({"error": {"code": -4.0, "key": "EMPTY_DEVICE_LIST", "detail": {"a": 1}}}),
        );
        assert_eq!(check(&spec, &[float], 1).len(), 1);
    }

    #[test]
    fn the_transcript_shows_each_call_and_its_answer() {
        let records = [
            CallRecord {
                index: 1,
                before: Some(0),
                method: "POST",
                path: "/api/efota/devices/bulkUpload".into(),
                request_body: Some("{\"devices\": []}".into()),
                now: 60,
                status: 400,
                body: json!({"error": {"code": -4}}),
            },
            CallRecord {
                index: 2,
                before: None,
                method: "GET",
                path: "/api/efota/licenses".into(),
                request_body: None,
                now: 90,
                status: 200,
                body: json!([]),
            },
        ];
        assert_eq!(
            render_calls(&records, Some(0)),
            "--- portal call 1 (at 60s): POST /api/efota/devices/bulkUpload\n{\"devices\": []}\n--- portal call 1 answered HTTP 400\n{\n  \"error\": {\n    \"code\": -4\n  }\n}\n"
        );
        assert_eq!(
            render_calls(&records, None),
            "--- portal call 2 (at 90s): GET /api/efota/licenses\n--- portal call 2 answered HTTP 200\n[]\n"
        );
        assert_eq!(render_calls(&records, Some(1)), "");
    }
}
