//! The device side of the network: [`HttpTransport`], a [`Transport`] that POSTs SyncML messages to
//! a DM server over HTTP or HTTPS.
//!
//! One transport holds one `reqwest` client (a connection pool with HTTP/1.1 keep-alive, the shared
//! rustls configuration, timeouts); cloning it is cheap, so a whole fleet of simulated devices shares
//! one pool and one TLS configuration. Redirects are not followed: DM moves a session with RespURI
//! inside the message, never with HTTP redirects. Failures become distinct [`TransportError`]s whose
//! text says what went wrong (an untrusted certificate, a refused connection, a timeout).
//!
//! A request goes with the Content-Type its session gave it and an `Accept` of that same type (a
//! device asks for answers in the encoding it speaks, as the Motorola/AOSP client does; reference
//! §1.1). A 2xx answer whose Content-Type is present and not SyncML is refused
//! ([`TransportError::ContentType`]); one with no Content-Type at all is passed on, and the session
//! reads it by its bytes and records the omission as a violation.

use super::{is_syncml_content_type, tls, NetError, HMAC_HEADER};
use crate::protocol::http::{HttpRequest, HttpResponse, DEFAULT_REQUEST_TIMEOUT};
use crate::transport::{Transport, TransportError};
use reqwest::header::{HeaderValue, ACCEPT, CONTENT_TYPE};
use reqwest::Url;
use std::error::Error as StdError;
use std::sync::Arc;
use std::time::Duration;

/// Longest piece of an error body quoted in a [`TransportError::Http`].
const MAX_REASON_CHARS: usize = 200;

/// How the shared HTTP client is built.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// TLS for `https` URLs (see [`tls::client_config`]); without it no CA is trusted, so every
    /// `https` server is refused as untrusted.
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// Time allowed to open a connection (TCP, then the TLS handshake).
    pub connect_timeout: Duration,
    /// Time allowed for one whole exchange, from connecting to the end of the response body.
    pub request_timeout: Duration,
    /// Idle keep-alive connections kept per server.
    pub max_idle_per_host: usize,
    /// How long an idle keep-alive connection is kept.
    pub idle_timeout: Duration,
}

impl Default for ClientOptions {
    fn default() -> ClientOptions {
        ClientOptions {
            tls: None,
            connect_timeout: Duration::from_secs(10),
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_idle_per_host: 64,
            idle_timeout: Duration::from_secs(90),
        }
    }
}

/// A `reqwest` client with the options' TLS, timeouts and pool, and this redirect policy: every
/// HTTP client of dmsim (the DM transport, the content client) is built here.
pub(crate) fn build_client(
    options: &ClientOptions,
    redirects: reqwest::redirect::Policy,
) -> Result<reqwest::Client, NetError> {
    build_client_with(options, redirects, None)
}

/// [`build_client`], with `names` finding the addresses of names instead of the operating system
/// when given.
pub(crate) fn build_client_with(
    options: &ClientOptions,
    redirects: reqwest::redirect::Policy,
    names: Option<Arc<dyn reqwest::dns::Resolve>>,
) -> Result<reqwest::Client, NetError> {
    // reqwest takes the rustls configuration by value: one copy per client, shared by every clone
    // of it (never one per device or per request).
    let config: rustls::ClientConfig = match &options.tls {
        Some(config) => config.as_ref().clone(),
        None => tls::client_config(rustls::RootCertStore::empty(), None)?
            .as_ref()
            .clone(),
    };
    let mut builder = reqwest::Client::builder();
    if let Some(names) = names {
        builder = builder.dns_resolver(names);
    }
    builder
        .tls_backend_preconfigured(config)
        .http1_only()
        .redirect(redirects)
        .no_proxy()
        .connect_timeout(options.connect_timeout)
        .timeout(options.request_timeout)
        .pool_max_idle_per_host(options.max_idle_per_host)
        .pool_idle_timeout(options.idle_timeout)
        .tcp_nodelay(true)
        .user_agent(concat!("dmsim/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| NetError::Client(error_chain(&e)))
}

/// SyncML DM over HTTP(S): one shared client, cheap to clone.
#[derive(Clone, Debug)]
pub struct HttpTransport {
    client: reqwest::Client,
    connect_timeout: Duration,
    request_timeout: Duration,
}

impl HttpTransport {
    /// Build the one client every clone of this transport shares.
    pub fn new(options: &ClientOptions) -> Result<HttpTransport, NetError> {
        let client = build_client(options, reqwest::redirect::Policy::none())?;
        Ok(HttpTransport {
            client,
            connect_timeout: options.connect_timeout,
            request_timeout: options.request_timeout,
        })
    }

    async fn post(&self, url: Url, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let peer = peer_of(&url);
        let content_type =
            HeaderValue::from_str(&request.content_type).map_err(|_| TransportError::Io {
                peer: peer.clone(),
                reason: format!("invalid content type {:?}", request.content_type),
            })?;
        let mut builder = self
            .client
            .post(url)
            .header(CONTENT_TYPE, content_type.clone())
            .header(ACCEPT, content_type)
            .body(request.body);
        if let Some(hmac) = &request.hmac {
            let value = HeaderValue::from_str(hmac).map_err(|_| TransportError::Io {
                peer: peer.clone(),
                reason: format!("invalid {HMAC_HEADER} header {hmac:?}"),
            })?;
            builder = builder.header(HMAC_HEADER, value);
        }
        let response = builder.send().await.map_err(|e| self.classify(&peer, &e))?;
        let status = response.status();
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
                .map(str::to_string)
        };
        let content_type = header(CONTENT_TYPE.as_str()).unwrap_or_default();
        let hmac = header(HMAC_HEADER);
        let body = response
            .bytes()
            .await
            .map_err(|e| self.classify(&peer, &e))?;
        if !status.is_success() {
            return Err(TransportError::Http {
                status: status.as_u16(),
                reason: reason(status, &body),
            });
        }
        if !content_type.trim().is_empty() && !is_syncml_content_type(&content_type) {
            return Err(TransportError::ContentType(content_type));
        }
        Ok(HttpResponse {
            status: status.as_u16(),
            content_type,
            hmac,
            body: body.to_vec(),
        })
    }

    /// Turn a client error into the transport error that says best what happened.
    fn classify(&self, peer: &str, e: &reqwest::Error) -> TransportError {
        if let Some(tls) = find_rustls_error(e) {
            return TransportError::Tls {
                peer: peer.to_string(),
                reason: describe_tls(tls),
            };
        }
        if e.is_timeout() {
            let limit = if e.is_connect() {
                self.connect_timeout
            } else {
                self.request_timeout
            };
            return TransportError::Timeout(u64::try_from(limit.as_millis()).unwrap_or(u64::MAX));
        }
        if find_io_kind(e) == Some(std::io::ErrorKind::ConnectionRefused) {
            return TransportError::Unreachable(peer.to_string());
        }
        if e.is_connect() {
            return TransportError::Connect(format!("{peer}: {}", error_chain(e)));
        }
        // hyper cancels a request whose new connection closed before it could be sent (a reused
        // one it retries by itself): the server hung up first, whatever it said as it did.
        if causes(e)
            .into_iter()
            .filter_map(|c| c.downcast_ref::<hyper::Error>())
            .any(hyper::Error::is_canceled)
        {
            return TransportError::ClosedBeforeRequest {
                peer: peer.to_string(),
                tls: e.url().is_some_and(|u| u.scheme() == "https"),
            };
        }
        TransportError::Io {
            peer: peer.to_string(),
            reason: error_chain(e),
        }
    }
}

impl Transport for HttpTransport {
    async fn exchange(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let url = parse_url(&request.url)?;
        self.post(url, request).await
    }
}

/// The URL of a request, which must be `http` or `https`.
fn parse_url(url: &str) -> Result<Url, TransportError> {
    let invalid = |reason: String| TransportError::InvalidUrl {
        url: url.to_string(),
        reason,
    };
    let parsed = Url::parse(url).map_err(|e| invalid(e.to_string()))?;
    match parsed.scheme() {
        "http" | "https" if parsed.host_str().is_some() => Ok(parsed),
        "http" | "https" => Err(invalid("no host".to_string())),
        other => Err(invalid(format!("scheme {other:?} is not http or https"))),
    }
}

/// `host:port` of a URL, for messages.
fn peer_of(url: &Url) -> String {
    let host = url.host_str().unwrap_or("?");
    match url.port_or_known_default() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    }
}

/// The text of an error response: its body (shortened), or the status's reason phrase.
fn reason(status: reqwest::StatusCode, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return status.canonical_reason().unwrap_or("no reason").to_string();
    }
    let mut short: String = text.chars().take(MAX_REASON_CHARS).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}

/// Each error of the chain, outermost first, looking inside `io::Error`s too (their `source()`
/// skips the error they wrap).
pub(crate) fn causes<'a>(e: &'a (dyn StdError + 'static)) -> Vec<&'a (dyn StdError + 'static)> {
    let mut out = Vec::new();
    let mut next = Some(e);
    while let Some(err) = next {
        out.push(err);
        next = match err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => err.source(),
        };
        if out.len() > 16 {
            break;
        }
    }
    out
}

fn find_rustls_error(e: &reqwest::Error) -> Option<&rustls::Error> {
    causes(e)
        .into_iter()
        .find_map(|c| c.downcast_ref::<rustls::Error>())
}

fn find_io_kind(e: &reqwest::Error) -> Option<std::io::ErrorKind> {
    causes(e)
        .into_iter()
        .find_map(|c| c.downcast_ref::<std::io::Error>())
        .map(std::io::Error::kind)
}

/// The whole chain of an error in one line, repeated texts left out.
pub(crate) fn error_chain(e: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in causes(e) {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ")
}

/// What rustls said, with a hint for the usual mistakes.
fn describe_tls(e: &rustls::Error) -> String {
    use rustls::{AlertDescription, CertificateError};
    let hint = match e {
        rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer) => {
            " (the server's certificate is not signed by a trusted CA)"
        }
        rustls::Error::InvalidCertificate(CertificateError::NotValidForName)
        | rustls::Error::InvalidCertificate(CertificateError::NotValidForNameContext { .. }) => {
            " (the server's certificate is not issued for this host name)"
        }
        rustls::Error::AlertReceived(AlertDescription::CertificateRequired)
        | rustls::Error::AlertReceived(AlertDescription::HandshakeFailure) => {
            " (the server requires a client certificate)"
        }
        rustls::Error::AlertReceived(AlertDescription::UnknownCA)
        | rustls::Error::AlertReceived(AlertDescription::BadCertificate) => {
            " (the server does not trust the client certificate)"
        }
        _ => "",
    };
    format!("{e}{hint}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_http_or_https_with_a_host() {
        assert!(parse_url("https://127.0.0.1:8443/dm").is_ok());
        let e = parse_url("ftp://host/x").expect_err("ftp").to_string();
        assert!(e.contains("\"ftp\" is not http or https"), "{e}");
        let e = parse_url("not a url").expect_err("garbage").to_string();
        assert!(e.starts_with("invalid server URL \"not a url\""), "{e}");
    }

    #[test]
    fn peers_carry_the_default_port() {
        let url = Url::parse("https://dm.example/dm").expect("url");
        assert_eq!(peer_of(&url), "dm.example:443");
        let url = Url::parse("http://[::1]:8080/dm").expect("url");
        assert_eq!(peer_of(&url), "[::1]:8080");
    }

    #[test]
    fn error_reasons_are_short() {
        let long = "x".repeat(1000);
        let r = reason(reqwest::StatusCode::BAD_REQUEST, long.as_bytes());
        assert_eq!(r.chars().count(), MAX_REASON_CHARS + 1);
        let r = reason(reqwest::StatusCode::NOT_FOUND, b"  ");
        assert_eq!(r, "Not Found");
    }

    #[test]
    fn tls_errors_carry_a_hint() {
        let e = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let text = describe_tls(&e);
        assert!(
            text.starts_with("invalid peer certificate: UnknownIssuer"),
            "{text}"
        );
        assert!(text.contains("not signed by a trusted CA"), "{text}");
    }
}
