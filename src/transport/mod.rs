//! Moving SyncML messages between a device and a DM server.
//!
//! The session core never does IO: it hands an [`HttpRequest`] to a [`Transport`] and gets an
//! [`HttpResponse`] back (both are plain data of [`crate::protocol::http`]). The implementations sit above both the device side and the server
//! side, with what they reach: `dmsim::inproc::InProcess` calls the embedded mock server directly
//! (no sockets, fully deterministic, works under paused tokio time); `dmsim::net::HttpTransport`
//! posts them over HTTP/HTTPS.

use crate::protocol::http::{HttpRequest, HttpResponse};
use std::future::Future;

/// Why a message could not be exchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    #[error("no server answers at {0}")]
    Unreachable(String),
    #[error("connection failed: {0}")]
    Connect(String),
    #[error("request timed out after {0} ms")]
    Timeout(u64),
    #[error("server answered HTTP {status}: {reason}")]
    Http { status: u16, reason: String },
    /// The TLS handshake failed (untrusted certificate, a client certificate the server wanted…).
    #[error("TLS handshake with {peer} failed: {reason}")]
    Tls { peer: String, reason: String },
    /// The server answered 2xx with a Content-Type that is not SyncML.
    #[error("server answered with content type {0:?}, not a SyncML DM message")]
    ContentType(String),
    #[error("invalid server URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    /// The server closed a new connection before the request could be sent on it. Over TLS 1.3
    /// this is how a server's refusal of the client's certificate (none, or one it does not trust)
    /// often reaches the client: the client's side of the handshake is complete when it sends its
    /// Finished, the server's alert comes after, and whether it is read as the handshake's
    /// failure or as a connection that closed before the request went out is a race the client
    /// cannot win (RFC 8446 §4.4.2.4).
    #[error("{peer} closed the connection before the request was sent{}", if *.tls { " (right after the TLS handshake: how a TLS 1.3 server refuses a client certificate it requires or does not trust)" } else { "" })]
    ClosedBeforeRequest { peer: String, tls: bool },
    /// The connection broke during the exchange.
    #[error("HTTP exchange with {peer} failed: {reason}")]
    Io { peer: String, reason: String },
}

/// Sends one request and waits for its response.
pub trait Transport: Send + Sync {
    fn exchange(
        &self,
        request: HttpRequest,
    ) -> impl Future<Output = Result<HttpResponse, TransportError>> + Send;
}
