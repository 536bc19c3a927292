//! How a device fetches content and posts install notifications: the [`ContentClient`] trait the
//! download agent talks to, and why a request got no answer ([`FetchError`]). The clients
//! themselves sit with what they reach: `inproc::InProcessContent` calls the embedded mock server,
//! `net::HttpContent` goes over HTTP(S).
//!
//! A body that stops early is not an error: `get` answers `Ok` with the bytes that did arrive (see
//! [`ContentResponse`], which is also what the mock server answers). [`FetchError`] is for
//! exchanges that produced no response at all (an unusable URL, no server, a TLS failure, a
//! timeout or a dropped connection before the response head).

use crate::protocol::http::ContentResponse;
use reqwest::Url;
use std::future::Future;

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
    /// `Ok` response with [`BodyEnd::ConnectionLost`](crate::protocol::http::BodyEnd).)
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

    /// GET `url` with an `Authorization` header when one is given (HTTP Basic credentials of a
    /// device that has them: the Snom m3 base). A client that cannot send the header refuses a
    /// request that has one rather than send it without: the default answers
    /// [`FetchError::Other`] then, and is [`ContentClient::get`] otherwise.
    fn get_authorized(
        &self,
        url: &str,
        range_from: Option<u64>,
        authorization: Option<&str>,
    ) -> impl Future<Output = Result<ContentResponse, FetchError>> + Send {
        async move {
            match authorization {
                None => self.get(url, range_from).await,
                Some(_) => Err(FetchError::Other(
                    "this content client cannot send an Authorization header".into(),
                )),
            }
        }
    }

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

#[cfg(test)]
mod tests {
    use super::*;

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
