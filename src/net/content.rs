//! Content over HTTP(S) ([`HttpContent`]): the [`ContentClient`] a device uses to download from a
//! real server (or `dmsim serve`), on the same shared `reqwest` and rustls setup as the DM
//! transport.
//!
//! A body cut after the response head is not an error: the answer comes back with the bytes that
//! arrived and [`BodyEnd::ConnectionLost`] or [`BodyEnd::TimedOut`], so the download agent resumes
//! from there; a body longer than the client reads of one answer is [`BodyEnd::TooLarge`].

use super::client::{build_client, build_client_with, causes, error_chain};
use super::dns::LookedUp;
use super::{ClientOptions, NetError};
use crate::download::client::parse_url;
use crate::download::{ContentClient, FetchError};
use crate::protocol::http::{BodyEnd, ContentResponse};
use reqwest::header::{
    HeaderValue, AUTHORIZATION, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG, LAST_MODIFIED,
    RANGE,
};
use reqwest::Url;

/// Redirects followed by [`HttpContent`] (download servers and CDNs redirect; DM sessions do not).
const MAX_REDIRECTS: usize = 10;

/// The most [`HttpContent`] reads of one answer by default: a server that sends more (an endless
/// body, a lying descriptor) cannot make a simulated device hold more than this.
pub const MAX_CONTENT_BYTES: u64 = 1 << 30;

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

    /// [`HttpContent::new`], connecting to the addresses in `names` (what a device looked up, e.g.
    /// a Snom m3 base through its own resolver) rather than to what the operating system finds; a
    /// name not in it (a redirect to another server) is looked up by the operating system.
    pub fn with_names(options: &ClientOptions, names: LookedUp) -> Result<HttpContent, NetError> {
        let client = build_client_with(
            options,
            reqwest::redirect::Policy::limited(MAX_REDIRECTS),
            Some(std::sync::Arc::new(names)),
        )?;
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
        self.get_authorized(url, range_from, None).await
    }

    async fn get_authorized(
        &self,
        url: &str,
        range_from: Option<u64>,
        authorization: Option<&str>,
    ) -> Result<ContentResponse, FetchError> {
        let url = parse_url(url)?;
        let peer = peer_of(&url);
        let mut request = self.client.get(url);
        if let Some(from) = range_from {
            request = request.header(RANGE, format!("bytes={from}-"));
        }
        if let Some(authorization) = authorization {
            let value = HeaderValue::from_str(authorization)
                .map_err(|_| FetchError::Other("invalid Authorization header".into()))?;
            request = request.header(AUTHORIZATION, value);
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
        let etag = header(ETAG);
        let last_modified = header(LAST_MODIFIED);
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
            etag,
            last_modified,
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
}
