//! The network layer: SyncML DM and content downloads over HTTP and HTTPS, on real sockets. It
//! joins the device side and the server side, so it sits above both.
//!
//! * [`HttpTransport`] is the device side: a [`Transport`](crate::transport::Transport) that POSTs
//!   each message over one shared HTTP client (rustls, custom CA, optional client certificate);
//!   [`HttpContent`] is the device's [`ContentClient`](crate::download::ContentClient) on the same
//!   kind of client, for packages and descriptors.
//! * [`serve`] is the network front end of the mock server (or of any [`DmService`]): it listens on
//!   a socket, optionally with TLS and client-certificate checks, and hands each POST to the service;
//!   a service's REST API ([`WithApi`]) is served beside it, in JSON.
//! * [`dns`] looks a Snom m3 base's server name up on a real network: through the operating system
//!   ([`SystemResolver`]), or by the base's own DNS messages to a server over UDP ([`UdpDns`]).
//! * [`webhook`] posts JSON events to the URLs a user gave (a portal's webhook notifications).
//! * [`tls`] reads PEM files into shared rustls configurations; [`certs`] generates the test PKI
//!   committed in `certs/`.

mod api;
pub mod certs;
pub mod client;
pub mod content;
pub mod dns;
pub mod server;
pub mod tls;
pub mod webhook;

pub use api::{WithApi, MAX_API_BODY_BYTES};
pub use client::{ClientOptions, HttpTransport};
pub use content::{HttpContent, MAX_CONTENT_BYTES};
pub use dns::{LookedUp, Remembering, SystemResolver, UdpDns};
pub use server::{serve, DmService, RunningServer, MAX_BODY_BYTES};
pub use tls::{ClientAuth, Identity, TlsError};

use std::net::SocketAddr;

/// The `x-syncml-hmac` header of HMAC-authenticated messages.
pub const HMAC_HEADER: &str = "x-syncml-hmac";

/// Content types of SyncML messages accepted on both sides: the DM types, and the data-sync types
/// some real servers send.
pub const SYNCML_CONTENT_TYPES: [&str; 4] = [
    crate::syncml::CONTENT_TYPE_XML,
    crate::syncml::CONTENT_TYPE_WBXML,
    "application/vnd.syncml+xml",
    "application/vnd.syncml+wbxml",
];

/// Whether a `Content-Type` value is one of [`SYNCML_CONTENT_TYPES`] (parameters such as
/// `; charset=utf-8` ignored, case-insensitive).
pub fn is_syncml_content_type(value: &str) -> bool {
    let essence = value.split(';').next().unwrap_or("").trim();
    SYNCML_CONTENT_TYPES
        .iter()
        .any(|t| t.eq_ignore_ascii_case(essence))
}

/// Why the network layer could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetError {
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("cannot listen on {addr}: {reason}")]
    Bind { addr: SocketAddr, reason: String },
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_ignore_parameters_and_case() {
        assert!(is_syncml_content_type("application/vnd.syncml.dm+xml"));
        assert!(is_syncml_content_type(
            "Application/VND.syncml.dm+WBXML; charset=utf-8"
        ));
        assert!(is_syncml_content_type("application/vnd.syncml+xml"));
        assert!(!is_syncml_content_type("text/xml"));
        assert!(!is_syncml_content_type(""));
    }
}
