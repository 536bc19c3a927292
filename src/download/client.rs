//! How a device fetches content and posts install notifications: the [`ContentClient`] trait, an
//! in-process client calling the mock server directly ([`InProcessContent`]) and an HTTP(S) client
//! ([`HttpContent`]).
//!
//! A body that stops early is not an error: `get` answers `Ok` with the bytes that did arrive (see
//! [`ContentResponse`], which is also what the mock server answers). [`FetchError`] is for
//! exchanges that produced no response at all (an unusable URL, no server, a TLS failure, a
//! timeout or a dropped connection before the response head). [`InProcessContent`] turns a server
//! delay longer than its timeout into [`FetchError::Timeout`] (without sleeping) and passes the
//! rest through, so both clients see the same thing.

use crate::net::client::{build_client, causes, error_chain};
use crate::net::{ClientOptions, NetError};
use crate::protocol::http::{BodyEnd, ContentRequest, ContentResponse};
use crate::server::MockServer;
use reqwest::header::{HeaderValue, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, RANGE};
use reqwest::Url;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// Redirects followed by [`HttpContent`] (download servers and CDNs redirect; DM sessions do not).
const MAX_REDIRECTS: usize = 10;

/// The most [`HttpContent`] reads of one answer by default: a server that sends more (an endless
/// body, a lying descriptor) cannot make a simulated device hold more than this.
pub const MAX_CONTENT_BYTES: u64 = 1 << 30;

/// Why a content request got no response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// Not an http(s) URL with a host.
    #[error("bad URL: {0}")]
    BadUrl(String),
    /// No server answered (connection refused, no route, unknown host).
    #[error("unreachable: {0}")]
    Unreachable(String),
    /// No response within the client's time.
    #[error("timed out")]
    Timeout,
    /// The connection dropped before a response head arrived. (A body cut after the head is an
    /// `Ok` response with [`BodyEnd::ConnectionLost`].)
    #[error("connection lost after {received} bytes")]
    ConnectionLost { received: u64 },
    /// The TLS handshake failed (untrusted certificate and the like).
    #[error("TLS failed: {0}")]
    Tls(String),
    #[error("{0}")]
    Other(String),
}

/// How a device fetches content. Implementations are shared by many devices (`Send + Sync`).
pub trait ContentClient: Send + Sync {
    /// GET `url`, from byte `range_from` on when given (`Range: bytes=<n>-`).
    fn get(
        &self,
        url: &str,
        range_from: Option<u64>,
    ) -> impl Future<Output = Result<ContentResponse, FetchError>> + Send;

    /// POST `body` to `url`; the HTTP status of the answer.
    fn post(
        &self,
        url: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> impl Future<Output = Result<u16, FetchError>> + Send;
}

/// The URL of a request, which must be `http` or `https` with a host.
pub(crate) fn parse_url(url: &str) -> Result<Url, FetchError> {
    let parsed = Url::parse(url).map_err(|e| FetchError::BadUrl(format!("{url:?}: {e}")))?;
    match parsed.scheme() {
        "http" | "https" if parsed.host_str().is_some() => Ok(parsed),
        "http" | "https" => Err(FetchError::BadUrl(format!("{url:?}: no host"))),
        other => Err(FetchError::BadUrl(format!(
            "{url:?}: scheme {other:?} is not http or https"
        ))),
    }
}

/// The mock server, called directly: no sockets, no sleeping. Cheap to clone.
#[derive(Clone)]
pub struct InProcessContent {
    server: Arc<MockServer>,
    timeout: Duration,
}

impl InProcessContent {
    /// A client of `server` with the default request timeout of [`ClientOptions`].
    pub fn new(server: Arc<MockServer>) -> InProcessContent {
        InProcessContent {
            server,
            timeout: ClientOptions::default().request_timeout,
        }
    }

    /// With another timeout: a server delay longer than this is [`FetchError::Timeout`].
    pub fn with_timeout(mut self, timeout: Duration) -> InProcessContent {
        self.timeout = timeout;
        self
    }

    fn exchange(&self, request: &ContentRequest) -> Result<ContentResponse, FetchError> {
        let mut response = self.server.content(request);
        match response.delay.take() {
            Some(delay) if delay > self.timeout => Err(FetchError::Timeout),
            _ => Ok(response),
        }
    }
}

impl ContentClient for InProcessContent {
    async fn get(&self, url: &str, range_from: Option<u64>) -> Result<ContentResponse, FetchError> {
        parse_url(url)?;
        self.exchange(&ContentRequest::get(url, range_from))
    }

    async fn post(&self, url: &str, content_type: &str, body: Vec<u8>) -> Result<u16, FetchError> {
        parse_url(url)?;
        self.exchange(&ContentRequest::post(url, content_type, body))
            .map(|r| r.status)
    }
}

/// Content over HTTP(S): one shared `reqwest` client (connection pool, rustls configuration),
/// cheap to clone; build one per fleet, never one per device.
#[derive(Clone, Debug)]
pub struct HttpContent {
    client: reqwest::Client,
    max_body: u64,
}

impl HttpContent {
    /// Build the client every clone shares. Unlike the DM transport it follows redirects (up to
    /// 10): download servers use them.
    pub fn new(options: &ClientOptions) -> Result<HttpContent, NetError> {
        let client = build_client(options, reqwest::redirect::Policy::limited(MAX_REDIRECTS))?;
        Ok(HttpContent {
            client,
            max_body: MAX_CONTENT_BYTES,
        })
    }

    /// Read at most `max` bytes of one answer ([`BodyEnd::TooLarge`] past that).
    pub fn with_max_body(mut self, max: u64) -> HttpContent {
        self.max_body = max;
        self
    }
}

impl ContentClient for HttpContent {
    async fn get(&self, url: &str, range_from: Option<u64>) -> Result<ContentResponse, FetchError> {
        let url = parse_url(url)?;
        let peer = peer_of(&url);
        let mut request = self.client.get(url);
        if let Some(from) = range_from {
            request = request.header(RANGE, format!("bytes={from}-"));
        }
        let mut response = request.send().await.map_err(|e| classify(&peer, &e))?;
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
                .map(str::to_string)
        };
        let content_type = header(CONTENT_TYPE);
        let content_length = header(CONTENT_LENGTH).and_then(|v| v.trim().parse().ok());
        let content_range_start = header(CONTENT_RANGE).and_then(|v| range_start(&v));
        let status = response.status().as_u16();
        let mut body = Vec::new();
        let end = loop {
            match response.chunk().await {
                Ok(Some(chunk)) if (body.len() + chunk.len()) as u64 > self.max_body => {
                    tracing::debug!(%peer, max = self.max_body, "body too large; reading stopped");
                    body = Vec::new();
                    break BodyEnd::TooLarge;
                }
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                Ok(None) => break BodyEnd::Complete,
                Err(e) if e.is_timeout() => break BodyEnd::TimedOut,
                Err(e) => {
                    tracing::debug!(%peer, received = body.len(), error = %error_chain(&e), "body cut");
                    break BodyEnd::ConnectionLost;
                }
            }
        };
        Ok(ContentResponse {
            status,
            content_type,
            content_length,
            content_range_start,
            body,
            end,
            delay: None,
        })
    }

    async fn post(&self, url: &str, content_type: &str, body: Vec<u8>) -> Result<u16, FetchError> {
        let url = parse_url(url)?;
        let peer = peer_of(&url);
        let content_type = HeaderValue::from_str(content_type)
            .map_err(|_| FetchError::Other(format!("invalid content type {content_type:?}")))?;
        let response = self
            .client
            .post(url)
            .header(CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await
            .map_err(|e| classify(&peer, &e))?;
        let status = response.status().as_u16();
        // The answer's body says nothing more; a failure reading it does not change the status.
        let _ = response.bytes().await;
        Ok(status)
    }
}

/// The start of `Content-Range: bytes <start>-<end>/<total>`.
fn range_start(value: &str) -> Option<u64> {
    let rest = value.trim().strip_prefix("bytes")?.trim_start();
    let (start, _) = rest.split_once('-')?;
    start.trim().parse().ok()
}

/// `host:port` of a URL, for messages.
fn peer_of(url: &Url) -> String {
    let host = url.host_str().unwrap_or("?");
    match url.port_or_known_default() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    }
}

/// Turn a client error into the fetch error that says best what happened.
fn classify(peer: &str, e: &reqwest::Error) -> FetchError {
    let chain = causes(e);
    if let Some(tls) = chain.iter().find_map(|c| c.downcast_ref::<rustls::Error>()) {
        return FetchError::Tls(format!("{peer}: {tls}"));
    }
    if e.is_timeout() {
        return FetchError::Timeout;
    }
    let io_kind = chain
        .iter()
        .find_map(|c| c.downcast_ref::<std::io::Error>())
        .map(std::io::Error::kind);
    if e.is_connect() || io_kind == Some(std::io::ErrorKind::ConnectionRefused) {
        return FetchError::Unreachable(format!("{peer}: {}", error_chain(e)));
    }
    let incomplete = chain
        .iter()
        .filter_map(|c| c.downcast_ref::<hyper::Error>())
        .any(|h| h.is_incomplete_message() || h.is_closed() || h.is_canceled());
    let dropped = matches!(
        io_kind,
        Some(
            std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::ConnectionAborted
                | std::io::ErrorKind::UnexpectedEof
                | std::io::ErrorKind::BrokenPipe
        )
    );
    if incomplete || dropped {
        return FetchError::ConnectionLost { received: 0 };
    }
    if e.is_builder() {
        return FetchError::BadUrl(error_chain(e));
    }
    FetchError::Other(format!("{peer}: {}", error_chain(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ranges_give_their_start() {
        assert_eq!(range_start("bytes 100-199/200"), Some(100));
        assert_eq!(range_start("bytes 0-0/*"), Some(0));
        assert_eq!(range_start("bytes */200"), None);
        assert_eq!(range_start("items 1-2/3"), None);
    }

    #[test]
    fn only_http_urls_with_a_host() {
        assert!(parse_url("https://127.0.0.1:8443/fw.bin").is_ok());
        for bad in ["ftp://h/x", "/relative", "http://", "not a url"] {
            assert!(
                matches!(parse_url(bad), Err(FetchError::BadUrl(_))),
                "{bad}"
            );
        }
    }
}
