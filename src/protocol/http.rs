//! The HTTP exchanges both ends see: a SyncML message POSTed to a DM server and its answer
//! ([`HttpRequest`], [`HttpResponse`]), and a content request (a GET of a package or a Download
//! Descriptor, a POST of an install notification) and its answer ([`ContentRequest`],
//! [`ContentResponse`]).
//!
//! These are plain data: a device's transport and content clients produce and consume them, the
//! mock server answers them, and the network layer maps them to and from real HTTP.
//!
//! A body that stops early is not an error: a [`ContentResponse`] carries the bytes that did
//! arrive and [`ContentResponse::end`] says how it stopped ([`BodyEnd::ConnectionLost`] or
//! [`BodyEnd::TimedOut`]), so a download agent keeps them and resumes from there. From the mock
//! server, `end` and `delay` are instructions: `ConnectionLost` means "send the headers (with the
//! full `Content-Length`) and `body`, then drop the connection", and `delay` means "answer this
//! late". The HTTP front end does exactly that on the wire, and the in-process content client
//! turns a delay longer than its timeout into a timeout, so both kinds of client see the same
//! thing.

use reqwest::Url;
use std::time::Duration;

/// How long a client waits for a whole answer (a DM message's or a content request's) unless it
/// is told otherwise.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// One POST of a SyncML message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// Where the message goes (the server URL, or the last RespURI).
    pub url: String,
    pub content_type: String,
    /// The `x-syncml-hmac` header value, when HMAC authentication is in use.
    pub hmac: Option<String>,
    pub body: Vec<u8>,
}

/// The server's answer to an [`HttpRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub content_type: String,
    pub hmac: Option<String>,
    pub body: Vec<u8>,
}

/// The method of a content request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentMethod {
    Get,
    Post,
}

/// A GET or a non-SyncML POST to the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentRequest {
    pub method: ContentMethod,
    /// The URL as requested: absolute, or a path with its query.
    pub url: String,
    /// `Range: bytes=<n>-`.
    pub range_from: Option<u64>,
    pub content_type: Option<String>,
    /// The `Authorization` header, as sent (`Basic …`): a device with HTTP credentials for its
    /// content server (the Snom m3 base).
    pub authorization: Option<String>,
    pub body: Vec<u8>,
}

impl ContentRequest {
    pub fn get(url: impl Into<String>, range_from: Option<u64>) -> Self {
        ContentRequest {
            method: ContentMethod::Get,
            url: url.into(),
            range_from,
            content_type: None,
            authorization: None,
            body: Vec::new(),
        }
    }

    pub fn post(url: impl Into<String>, content_type: &str, body: Vec<u8>) -> Self {
        ContentRequest {
            method: ContentMethod::Post,
            url: url.into(),
            range_from: None,
            content_type: Some(content_type.to_string()),
            authorization: None,
            body,
        }
    }

    /// The same request with an `Authorization` header.
    pub fn with_authorization(mut self, authorization: Option<&str>) -> Self {
        self.authorization = authorization.map(str::to_string);
        self
    }

    fn parsed(&self) -> Option<Url> {
        Url::parse(&self.url).ok().or_else(|| {
            Url::parse("http://localhost/")
                .ok()
                .and_then(|base| base.join(&self.url).ok())
        })
    }

    /// The URL's path, without the query.
    pub fn path(&self) -> String {
        self.parsed()
            .map_or_else(|| self.url.clone(), |u| u.path().to_string())
    }

    /// The `device` query parameter.
    pub fn device(&self) -> Option<String> {
        self.parsed()?
            .query_pairs()
            .find(|(k, _)| k == "device")
            .map(|(_, v)| v.into_owned())
    }
}

/// How a response body ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BodyEnd {
    /// The whole body arrived.
    #[default]
    Complete,
    /// The connection dropped before the whole body arrived (from the mock server: drop it after
    /// `body`).
    ConnectionLost,
    /// The client's time ran out while the body was arriving.
    TimedOut,
    /// The body went past what the client reads of one answer (its maximum body size); reading
    /// stopped there and the bytes were dropped.
    TooLarge,
}

/// An HTTP answer to a content request, as a device received it (or as the mock server wants it
/// sent; see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContentResponse {
    pub status: u16,
    pub content_type: Option<String>,
    /// The `Content-Length` header: the length of the whole body as announced, which is more than
    /// `body.len()` when the body was cut.
    pub content_length: Option<u64>,
    /// The first byte of a 206 answer (from `Content-Range: bytes <start>-<end>/<total>`).
    pub content_range_start: Option<u64>,
    /// The `ETag` header: the entity's version as the server tags it (RFC 9110 §8.8.3).
    pub etag: Option<String>,
    /// The `Last-Modified` header (RFC 9110 §8.8.2), as sent.
    pub last_modified: Option<String>,
    /// The bytes received (all of them, or those before the cut).
    pub body: Vec<u8>,
    pub end: BodyEnd,
    /// Mock server only: answer after this long. Clients always return `None`.
    pub delay: Option<Duration>,
}

impl ContentResponse {
    /// A complete answer.
    pub fn new(status: u16, content_type: Option<&str>, body: Vec<u8>) -> ContentResponse {
        ContentResponse {
            status,
            content_type: content_type.map(str::to_string),
            content_length: Some(body.len() as u64),
            body,
            ..ContentResponse::default()
        }
    }

    /// A short plain-text answer (errors, acknowledgements).
    pub fn text(status: u16, message: &str) -> ContentResponse {
        ContentResponse::new(
            status,
            Some("text/plain; charset=utf-8"),
            format!("{message}\n").into_bytes(),
        )
    }

    /// The validator of the entity the answer carries: its `ETag`, else its `Last-Modified`, each
    /// marked with its kind so the two never compare equal. Two parts of one object that carry
    /// different validators are parts of different versions of it (RFC 9110 §8.8, §13.1.5: what
    /// an `If-Range` asks a server to check, checked by the device itself).
    pub fn validator(&self) -> Option<String> {
        match (&self.etag, &self.last_modified) {
            (Some(etag), _) => Some(format!("etag {}", etag.trim())),
            (None, Some(date)) => Some(format!("last-modified {}", date.trim())),
            (None, None) => None,
        }
    }

    /// Bytes of body received.
    pub fn received(&self) -> u64 {
        self.body.len() as u64
    }

    /// Whether the body arrived whole.
    pub fn is_complete(&self) -> bool {
        self.end == BodyEnd::Complete
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_know_whether_they_are_whole() {
        let r = ContentResponse::new(200, Some("a/b"), vec![1, 2, 3]);
        assert_eq!((r.received(), r.content_length), (3, Some(3)));
        assert!(r.is_complete());
        let t = ContentResponse::text(404, "no such file");
        assert_eq!(t.body, b"no such file\n");
    }

    #[test]
    fn the_validator_is_the_etag_else_the_date() {
        let mut r = ContentResponse::new(200, None, vec![1]);
        assert_eq!(r.validator(), None);
        r.last_modified = Some("Thu, 01 Jan 2026 00:00:00 GMT".into());
        assert_eq!(
            r.validator().as_deref(),
            Some("last-modified Thu, 01 Jan 2026 00:00:00 GMT")
        );
        r.etag = Some(" \"v1\" ".into());
        assert_eq!(r.validator().as_deref(), Some("etag \"v1\""));
    }
}
