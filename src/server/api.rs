//! A REST API served beside the DM endpoint (such as the mock Knox E-FOTA portal's), sans-IO like
//! the rest of the server: an [`Api`] takes one [`ApiRequest`] and gives one [`ApiResponse`], and
//! a front end does the IO (the network one routes every request whose path the API
//! [`serves`](Api::serves) to it, whatever its method, and writes the answer as JSON).
//!
//! Answers are always JSON. Errors have one shape, built by [`ApiResponse::error`]:
//! `{"error": {"code": -4, "key": "EMPTY_DEVICE_LIST", "message": "…"}}`, the `code` left out when
//! an error has none (a missing token, a body too large for the front end).

use serde_json::{json, Map, Value};

/// One request to the API, as the front end read it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ApiRequest {
    /// `GET`, `POST`, … as sent (upper case by HTTP convention; not checked here).
    pub method: String,
    /// The path, with its `?query` when there is one.
    pub path: String,
    /// The `Authorization` header, as sent.
    pub authorization: Option<String>,
    /// The `Content-Type` header, as sent.
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

/// The API's answer: an HTTP status and a JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiResponse {
    pub status: u16,
    pub body: Value,
}

impl ApiResponse {
    /// An answer with this status and body.
    pub fn json(status: u16, body: Value) -> ApiResponse {
        ApiResponse { status, body }
    }

    /// An error answer: `{"error": {"code", "key", "message"}}`, without `code` when it is `None`.
    pub fn error(status: u16, code: Option<i64>, key: &str, message: &str) -> ApiResponse {
        let mut error = Map::new();
        if let Some(code) = code {
            error.insert("code".into(), json!(code));
        }
        error.insert("key".into(), json!(key));
        error.insert("message".into(), json!(message));
        ApiResponse::json(status, json!({ "error": error }))
    }
}

/// A REST API beside the DM endpoint.
pub trait Api: Send + Sync {
    /// Whether a request for this path is the API's (else the DM/content server's).
    fn serves(&self, path: &str) -> bool;

    /// Answer one request at `now` (seconds of the server's clock: simulated in scenarios,
    /// wall-clock Unix seconds under `dmsim serve`).
    fn handle(&self, request: &ApiRequest, now: u64) -> ApiResponse;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_have_one_shape_with_the_code_only_when_there_is_one() {
        let with = ApiResponse::error(400, Some(-4), "EMPTY_DEVICE_LIST", "no devices");
        assert_eq!(with.status, 400);
        assert_eq!(
            with.body,
            json!({"error": {"code": -4, "key": "EMPTY_DEVICE_LIST", "message": "no devices"}})
        );
        let without = ApiResponse::error(401, None, "UNAUTHORIZED", "no token");
        assert_eq!(
            without.body,
            json!({"error": {"key": "UNAUTHORIZED", "message": "no token"}})
        );
        assert!(without.body["error"].get("code").is_none());
    }

    #[test]
    fn json_keeps_status_and_body() {
        let r = ApiResponse::json(201, json!({"id": 7}));
        assert_eq!((r.status, r.body["id"].as_i64()), (201, Some(7)));
    }
}
