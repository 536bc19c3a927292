//! The REST API on the network front end: a request whose path a service's [`Api`]
//! [`serves`](Api::serves) goes to [`Api::handle`], whatever its method (the API answers a wrong
//! one itself, 405), before the DM and content routing see it; the answer goes back as JSON
//! (`Content-Type: application/json`).
//!
//! The front end's own part:
//! * the body is bounded at [`MAX_API_BODY_BYTES`] (1 MiB): a larger one is answered 413 with the
//!   API's error shape (`{"error": {"key": "PAYLOAD_TOO_LARGE", "message"}}`). A body a little
//!   over is read to its end and dropped (up to [`MAX_BODY_BYTES`], the DM endpoint's bound) so
//!   the client gets its 413 rather than a reset connection; one declared or found larger than
//!   that is answered at once;
//! * a body that cannot be read is 400 (`BAD_REQUEST`), an API that panics or answers an invalid
//!   status 500 (`INTERNAL_ERROR`), both in the same shape and without a code (the API's own codes
//!   are its to give);
//! * `now` is the wall clock, in Unix seconds.
//!
//! [`WithApi`] serves any [`DmService`] (such as a [`MockServer`](crate::server::MockServer)) with
//! an API beside it.

use super::server::{DmService, MAX_BODY_BYTES};
use crate::protocol::http::{ContentRequest, ContentResponse, HttpRequest, HttpResponse};
use crate::server::{Answer, Api, ApiRequest, ApiResponse};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{Request, Response, StatusCode};
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// Largest API request body accepted; larger ones are answered 413.
pub const MAX_API_BODY_BYTES: usize = 1024 * 1024;

/// A DM service with a REST API beside it.
pub struct WithApi {
    service: Arc<dyn DmService>,
    api: Arc<dyn Api>,
}

impl WithApi {
    pub fn new(service: Arc<dyn DmService>, api: Arc<dyn Api>) -> WithApi {
        WithApi { service, api }
    }
}

impl DmService for WithApi {
    fn handle(&self, request: &HttpRequest) -> HttpResponse {
        self.service.handle(request)
    }

    fn answer(&self, request: &HttpRequest) -> Answer {
        self.service.answer(request)
    }

    fn hosts_content(&self, url: &str) -> bool {
        self.service.hosts_content(url)
    }

    fn content(&self, request: &ContentRequest) -> Option<ContentResponse> {
        self.service.content(request)
    }

    fn tls_refused(&self, peer: SocketAddr, reason: &str) {
        self.service.tls_refused(peer, reason);
    }

    fn api(&self) -> Option<&dyn Api> {
        Some(self.api.as_ref())
    }
}

/// Whether `api` serves this path (an API that panics serves nothing).
pub(super) fn serves(api: &dyn Api, path: &str) -> bool {
    std::panic::catch_unwind(AssertUnwindSafe(|| api.serves(path))).unwrap_or(false)
}

/// Read the request, ask the API, and write its answer as JSON.
pub(super) async fn respond(
    api: &dyn Api,
    peer: SocketAddr,
    request: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let header = |name| {
        request
            .headers()
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .map(str::to_string)
    };
    let declared = header(CONTENT_LENGTH).and_then(|v| v.parse::<u64>().ok());
    let (authorization, content_type) = (header(AUTHORIZATION), header(CONTENT_TYPE));
    let method = request.method().to_string();
    let path = request
        .uri()
        .path_and_query()
        .map_or_else(|| request.uri().path().to_string(), |p| p.to_string());
    if declared.is_some_and(|n| n > MAX_API_BODY_BYTES as u64) {
        return too_large(peer, &path);
    }
    let body = match read_body(request.into_body()).await {
        Ok(Some(body)) => body,
        Ok(None) => return too_large(peer, &path),
        Err(e) => {
            tracing::info!(%peer, path, error = %e, "API request body unreadable");
            let message = format!("cannot read the request body: {e}");
            return json(ApiResponse::error(400, None, "BAD_REQUEST", &message));
        }
    };
    let request = ApiRequest {
        method,
        path,
        authorization,
        content_type,
        body,
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let answer = std::panic::catch_unwind(AssertUnwindSafe(|| api.handle(&request, now)))
        .unwrap_or_else(|_| {
            tracing::error!(%peer, path = request.path, "the API panicked");
            ApiResponse::error(500, None, "INTERNAL_ERROR", "the API failed")
        });
    tracing::info!(
        %peer,
        method = request.method,
        path = request.path,
        bytes = request.body.len(),
        status = answer.status,
        "API request"
    );
    json(answer)
}

/// The body, `None` when it is over [`MAX_API_BODY_BYTES`] (read on to its end up to
/// [`MAX_BODY_BYTES`] and dropped, see the module docs).
async fn read_body(mut body: Incoming) -> Result<Option<Vec<u8>>, hyper::Error> {
    let mut kept = Vec::new();
    let mut total: usize = 0;
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame?.into_data() else {
            continue;
        };
        total = total.saturating_add(data.len());
        if total > MAX_BODY_BYTES {
            return Ok(None);
        }
        if total <= MAX_API_BODY_BYTES {
            kept.extend_from_slice(&data);
        }
    }
    Ok((total <= MAX_API_BODY_BYTES).then_some(kept))
}

fn too_large(peer: SocketAddr, path: &str) -> Response<Full<Bytes>> {
    tracing::info!(%peer, path, limit = MAX_API_BODY_BYTES, "refused: API request body too large");
    json(ApiResponse::error(
        413,
        None,
        "PAYLOAD_TOO_LARGE",
        &format!("request body over {MAX_API_BODY_BYTES} bytes"),
    ))
}

/// The answer as an HTTP response with a JSON body.
fn json(answer: ApiResponse) -> Response<Full<Bytes>> {
    let (status, body) = match StatusCode::from_u16(answer.status) {
        Ok(status) => (status, answer.body),
        Err(_) => {
            tracing::error!(status = answer.status, "the API answered an invalid status");
            let message = format!("invalid status {}", answer.status);
            let error = ApiResponse::error(500, None, "INTERNAL_ERROR", &message);
            (StatusCode::INTERNAL_SERVER_ERROR, error.body)
        }
    };
    // Serialising a `Value` fails only for maps with non-string keys, which it cannot hold.
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    let mut response = Response::new(Full::new(Bytes::from(bytes)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}
