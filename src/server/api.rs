//! A REST API served beside the DM endpoint (the Knox E-FOTA portal's): requests and answers as
//! values, no IO.

/// One API request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiRequest {
    pub method: String,
    /// The path, with its query when it has one.
    pub path: String,
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

/// One API answer: always JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiResponse {
    pub status: u16,
    pub body: serde_json::Value,
}

impl ApiResponse {
    /// A JSON answer.
    pub fn json(status: u16, body: serde_json::Value) -> ApiResponse {
        ApiResponse { status, body }
    }

    /// The error shape: `{"error": {"code", "key", "message"}}`, the code left out when `None`.
    pub fn error(status: u16, code: Option<i64>, key: &str, message: &str) -> ApiResponse {
        let mut error = serde_json::Map::new();
        if let Some(code) = code {
            error.insert("code".into(), code.into());
        }
        error.insert("key".into(), key.into());
        error.insert("message".into(), message.into());
        ApiResponse::json(status, serde_json::json!({ "error": error }))
    }
}

/// A REST API a front end serves beside the DM endpoint.
pub trait Api: Send + Sync {
    /// Whether a request for this path is the API's (else the DM or content server's).
    fn serves(&self, path: &str) -> bool;
    /// Answer one request at `now` (seconds of the server's clock).
    fn handle(&self, request: &ApiRequest, now: u64) -> ApiResponse;
}
