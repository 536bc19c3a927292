//! The network front end of the mock DM server: [`serve`] listens on a socket (HTTP, or HTTPS with
//! optional client-certificate checks), turns each POST into an [`HttpRequest`] for a [`DmService`]
//! and writes its [`HttpResponse`] back.
//!
//! Connections are tokio tasks (no thread per connection) served by hyper's HTTP/1.1 with
//! keep-alive. The service is synchronous and fast, so it is called inline. A TLS handshake that
//! fails is logged with the peer and the reason, and the server goes on. What is refused before the
//! service sees it: a method other than POST (405), a content type that is not SyncML (415), and a
//! body over [`MAX_BODY_BYTES`] (413), each with a short text body. A POST with a SyncML content
//! type reaches [`DmService::handle`] with its Content-Type and body exactly as received: whether
//! the body is what its type says is the service's to judge (the mock server answers 415 and
//! records a violation when it is not, as it does in-process). A POST whose type is not SyncML is
//! not taken for a DM message here (it may be content for a path nothing hosts), so it is refused
//! with the same 415 text the mock server gives, and not recorded by the service.
//!
//! Content (OMA Download): a GET, or a POST whose content type is not SyncML, goes to
//! [`DmService::content`] first; when the service hosts that path its answer is sent (a `Range:
//! bytes=N-` header is passed on, 206 answers get a `Content-Range`, and an answer's `ETag` and
//! `Last-Modified` go out as those headers), else the request is refused
//! as above (405, 415). The answer's faults happen on the wire: a `delay` is waited out before the
//! head, and a cut body ([`BodyEnd::ConnectionLost`]) announces its whole `Content-Length`, sends
//! the bytes it has, and drops the connection once they had [`CUT_FLUSH_GRACE`] to leave.
//!
//! A REST API ([`DmService::api`]) comes first: a request whose path it serves goes to it, whatever
//! its method, and is answered in JSON (the `api` module of `net` says how).

use super::{api, is_syncml_content_type, NetError, HMAC_HEADER};
use crate::protocol::http::{
    BodyEnd, ContentMethod, ContentRequest, ContentResponse, HttpRequest, HttpResponse,
};
use crate::server::{Answer, Api, MockServer};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Body, Bytes, Frame, Incoming, SizeHint};
use hyper::header::{
    HeaderValue, ACCEPT_RANGES, ALLOW, AUTHORIZATION, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE,
    ETAG, HOST, LAST_MODIFIED, RANGE,
};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

/// Largest request body accepted; larger ones are answered 413.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
/// Time a client has to complete its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Time a client has to send a request's headers once it started one.
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// Time open connections get to finish their request after a shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// Time the bytes of a cut body get to leave before the connection is dropped.
pub const CUT_FLUSH_GRACE: Duration = Duration::from_millis(200);

/// Something that answers SyncML DM requests, such as the [`MockServer`].
pub trait DmService: Send + Sync + 'static {
    /// Answer one request (synchronous and quick: it runs on the connection's task).
    fn handle(&self, request: &HttpRequest) -> HttpResponse;

    /// Answer one request, with how late to send the answer (the front end waits that long
    /// before it answers). By default [`DmService::handle`]'s answer, at once.
    fn answer(&self, request: &HttpRequest) -> Answer {
        Answer {
            response: self.handle(request),
            delay: None,
        }
    }

    /// Whether something is hosted at this URL's path, for GETs and non-SyncML POSTs. When not,
    /// they are refused before their body is read (405 for a GET, 415 for a POST). By default
    /// nothing is hosted.
    fn hosts_content(&self, url: &str) -> bool {
        let _ = url;
        false
    }

    /// Answer a GET or a non-SyncML POST to a hosted path (`None`: refused as if not hosted).
    fn content(&self, request: &ContentRequest) -> Option<ContentResponse> {
        let _ = request;
        None
    }

    /// A client's TLS handshake failed or timed out, so its connection was closed before any
    /// request (the front end logs it too). By default nothing more is done.
    fn tls_refused(&self, peer: SocketAddr, reason: &str) {
        let _ = (peer, reason);
    }

    /// A REST API served beside the DM endpoint: requests whose path it serves go to it, whatever
    /// their method, before anything else (see [`WithApi`](super::WithApi)). None by default.
    fn api(&self) -> Option<&dyn Api> {
        None
    }
}

impl DmService for MockServer {
    fn handle(&self, request: &HttpRequest) -> HttpResponse {
        MockServer::handle(self, request)
    }

    fn answer(&self, request: &HttpRequest) -> Answer {
        MockServer::answer(self, request)
    }

    fn hosts_content(&self, url: &str) -> bool {
        MockServer::hosts_content(self, url)
    }

    fn content(&self, request: &ContentRequest) -> Option<ContentResponse> {
        Some(MockServer::content(self, request))
    }
}

/// A server running in the background; dropping it stops it too (without waiting for it).
#[derive(Debug)]
pub struct RunningServer {
    local_addr: SocketAddr,
    scheme: &'static str,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl RunningServer {
    /// The address the server is bound to (the real port when port 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `http` or `https`.
    pub fn scheme(&self) -> &'static str {
        self.scheme
    }

    /// The URL of `path` on this server, e.g. `https://127.0.0.1:8443/dm` (an unspecified listen
    /// address such as `0.0.0.0` becomes the loopback address).
    pub fn url(&self, path: &str) -> String {
        let ip = match self.local_addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        let addr = SocketAddr::new(ip, self.local_addr.port());
        let slash = if path.starts_with('/') { "" } else { "/" };
        format!("{}://{addr}{slash}{path}", self.scheme)
    }

    /// Stop accepting connections, let requests in progress finish (a few seconds at most), and
    /// wait until the server is down.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            // The server task may already be gone; then there is nothing to stop.
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

/// Listen on `addr` (port 0 picks a free port) and serve `service` in the background, over TLS
/// when `tls` is given. Returns as soon as the socket is bound. Must be called within a tokio
/// runtime with IO and time enabled.
pub async fn serve(
    addr: SocketAddr,
    service: Arc<dyn DmService>,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> Result<RunningServer, NetError> {
    let bind_error = |e: std::io::Error| NetError::Bind {
        addr,
        reason: e.to_string(),
    };
    let listener = TcpListener::bind(addr).await.map_err(bind_error)?;
    let local_addr = listener.local_addr().map_err(bind_error)?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let (stop, stopped) = oneshot::channel();
    let context = Arc::new(Context {
        service,
        scheme,
        local_addr,
    });
    let acceptor = tls.map(TlsAcceptor::from);
    let task = tokio::spawn(accept_loop(listener, context, acceptor, stopped));
    tracing::info!(%local_addr, scheme, "DM server listening");
    Ok(RunningServer {
        local_addr,
        scheme,
        stop: Some(stop),
        task,
    })
}

/// What every connection needs.
struct Context {
    service: Arc<dyn DmService>,
    scheme: &'static str,
    local_addr: SocketAddr,
}

async fn accept_loop(
    listener: TcpListener,
    context: Arc<Context>,
    acceptor: Option<TlsAcceptor>,
    mut stopped: oneshot::Receiver<()>,
) {
    let graceful = GracefulShutdown::new();
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let context = Arc::clone(&context);
                    let acceptor = acceptor.clone();
                    let watcher = graceful.watcher();
                    tokio::spawn(connection(stream, peer, context, acceptor, watcher));
                }
                Err(e) => {
                    // Out of file descriptors and the like: wait a little instead of spinning.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the shutdown grace period; closing them");
    }
    tracing::info!(local_addr = %context.local_addr, "DM server stopped");
}

/// One client connection: the TLS handshake when there is one, then HTTP/1.1 requests.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    context: Arc<Context>,
    acceptor: Option<TlsAcceptor>,
    watcher: Watcher,
) {
    // Small request/response messages: do not wait to fill segments.
    let _ = stream.set_nodelay(true);
    match acceptor {
        None => serve_http(TokioIo::new(stream), peer, context, watcher).await,
        Some(acceptor) => {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => {
                    let client_cert = tls.get_ref().1.peer_certificates().is_some();
                    tracing::debug!(%peer, client_cert, "TLS handshake done");
                    serve_http(TokioIo::new(tls), peer, context, watcher).await;
                }
                Ok(Err(e)) => {
                    tracing::warn!(%peer, reason = %e, "TLS handshake failed");
                    context.service.tls_refused(peer, &e.to_string());
                }
                Err(_) => {
                    let reason = "no handshake within 10 s";
                    tracing::warn!(%peer, reason, "TLS handshake failed");
                    context.service.tls_refused(peer, reason);
                }
            }
        }
    }
}

async fn serve_http<I>(io: TokioIo<I>, peer: SocketAddr, context: Arc<Context>, watcher: Watcher)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let context = Arc::clone(&context);
        async move { Ok::<_, Infallible>(route(&context, peer, request).await) }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .keep_alive(true);
    let conn = builder.serve_connection(io, service);
    if let Err(e) = watcher.watch(conn).await {
        tracing::debug!(%peer, error = %e, "connection ended with an error");
    }
}

/// A short plain-text answer.
fn text(status: StatusCode, message: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(message + "\n")));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// Requests for the API's paths to the API; GETs and non-SyncML POSTs to the content part when
/// it hosts them; everything else to [`respond`].
async fn route(
    context: &Context,
    peer: SocketAddr,
    request: Request<Incoming>,
) -> Response<OutBody> {
    if let Some(service_api) = context.service.api() {
        if api::serves(service_api, request.uri().path()) {
            return api::respond(service_api, peer, request)
                .await
                .map(OutBody::Whole);
        }
    }
    let method = request.method().clone();
    let content_type = content_type_of(&request);
    let is_content =
        method == Method::GET || (method == Method::POST && !is_syncml_content_type(&content_type));
    if !is_content {
        return respond(context, peer, request).await.map(OutBody::Whole);
    }
    let url = request_url(context, &request);
    let hosted = std::panic::catch_unwind(AssertUnwindSafe(|| context.service.hosts_content(&url)))
        .unwrap_or(false);
    if !hosted {
        return refuse_content(peer, &method, &content_type);
    }
    let range_from = request
        .headers()
        .get(RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_range);
    let authorization = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let (content_method, body) = if method == Method::POST {
        match read_body(peer, request.into_body()).await {
            Ok(body) => (ContentMethod::Post, body.to_vec()),
            Err(refusal) => return refusal.map(OutBody::Whole),
        }
    } else {
        (ContentMethod::Get, Vec::new())
    };
    let content_request = ContentRequest {
        method: content_method,
        url,
        range_from,
        content_type: (!content_type.is_empty()).then_some(content_type),
        authorization,
        body,
    };
    let service = &context.service;
    let answer = std::panic::catch_unwind(AssertUnwindSafe(|| service.content(&content_request)));
    let answer = match answer {
        Ok(Some(answer)) => answer,
        Ok(None) => {
            let content_type = content_request.content_type.unwrap_or_default();
            return refuse_content(peer, &method, &content_type);
        }
        Err(_) => {
            tracing::error!(%peer, url = content_request.url, "the content service panicked");
            return text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the content service failed".into(),
            )
            .map(OutBody::Whole);
        }
    };
    tracing::info!(
        %peer,
        %method,
        url = content_request.url,
        range_from,
        status = answer.status,
        bytes = answer.body.len(),
        cut = answer.end != BodyEnd::Complete,
        delay_ms = answer.delay.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        "content request"
    );
    if let Some(delay) = answer.delay {
        tokio::time::sleep(delay).await;
    }
    content_response(answer)
}

/// The answer to a GET or a non-SyncML POST where nothing is hosted: what a DM server answers.
fn refuse_content(peer: SocketAddr, method: &Method, content_type: &str) -> Response<OutBody> {
    let refusal = match *method {
        Method::GET => method_not_allowed(peer, method),
        _ => unsupported_type(peer, content_type),
    };
    refusal.map(OutBody::Whole)
}

/// `N` of `Range: bytes=N-`; other forms are ignored (the whole file is sent).
fn parse_range(value: &str) -> Option<u64> {
    let from = value
        .trim()
        .strip_prefix("bytes=")?
        .trim()
        .strip_suffix('-')?;
    from.trim().parse().ok()
}

fn content_response(answer: ContentResponse) -> Response<OutBody> {
    let Ok(status) = StatusCode::from_u16(answer.status) else {
        tracing::error!(
            status = answer.status,
            "the content service answered an invalid status"
        );
        return text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("invalid status {}", answer.status),
        )
        .map(OutBody::Whole);
    };
    let sent = answer.body.len() as u64;
    let length = answer.content_length.unwrap_or(sent);
    let body = Bytes::from(answer.body);
    let mut response = Response::new(match answer.end {
        BodyEnd::Complete => OutBody::Whole(Full::new(body)),
        BodyEnd::ConnectionLost | BodyEnd::TimedOut | BodyEnd::TooLarge => {
            OutBody::Cut(CutState::Data(body))
        }
    });
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if let Some(v) = answer
        .content_type
        .as_deref()
        .and_then(|t| HeaderValue::from_str(t).ok())
    {
        headers.insert(CONTENT_TYPE, v);
    }
    if answer.end != BodyEnd::Complete {
        headers.insert(CONTENT_LENGTH, HeaderValue::from(length));
    }
    if matches!(answer.status, 200 | 206) {
        headers.insert(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    }
    let validators = [
        (ETAG, answer.etag.as_deref()),
        (LAST_MODIFIED, answer.last_modified.as_deref()),
    ];
    for (name, value) in validators {
        if let Some(v) = value.and_then(|v| HeaderValue::from_str(v).ok()) {
            headers.insert(name, v);
        }
    }
    if let (206, Some(start)) = (answer.status, answer.content_range_start) {
        let last = (start + length).saturating_sub(1);
        if let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{last}/*")) {
            headers.insert(CONTENT_RANGE, v);
        }
    }
    response
}

/// A response body: whole, or cut (its bytes, a pause for them to leave, then an error that makes
/// hyper drop the connection).
enum OutBody {
    Whole(Full<Bytes>),
    Cut(CutState),
}

enum CutState {
    Data(Bytes),
    Flushing(Pin<Box<tokio::time::Sleep>>),
    Dropped,
}

impl Body for OutBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        match self.get_mut() {
            OutBody::Whole(full) => Pin::new(full)
                .poll_frame(cx)
                .map_err(|never| match never {}),
            OutBody::Cut(state) => loop {
                match state {
                    CutState::Data(data) => {
                        let data = std::mem::take(data);
                        *state = CutState::Flushing(Box::pin(tokio::time::sleep(CUT_FLUSH_GRACE)));
                        if !data.is_empty() {
                            return Poll::Ready(Some(Ok(Frame::data(data))));
                        }
                    }
                    CutState::Flushing(sleep) => {
                        if std::future::Future::poll(sleep.as_mut(), cx).is_pending() {
                            return Poll::Pending;
                        }
                        *state = CutState::Dropped;
                    }
                    CutState::Dropped => {
                        return Poll::Ready(Some(Err(std::io::Error::new(
                            std::io::ErrorKind::ConnectionAborted,
                            "body cut by a content fault",
                        ))))
                    }
                }
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            OutBody::Whole(full) => full.is_end_stream(),
            OutBody::Cut(_) => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            OutBody::Whole(full) => full.size_hint(),
            OutBody::Cut(_) => SizeHint::default(),
        }
    }
}

async fn respond(
    context: &Context,
    peer: SocketAddr,
    request: Request<Incoming>,
) -> Response<Full<Bytes>> {
    if request.method() != Method::POST {
        return method_not_allowed(peer, request.method());
    }
    let content_type = content_type_of(&request);
    if !is_syncml_content_type(&content_type) {
        return unsupported_type(peer, &content_type);
    }
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return too_large(peer);
    }
    let url = request_url(context, &request);
    let hmac = request
        .headers()
        .get(HMAC_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = match read_body(peer, request.into_body()).await {
        Ok(body) => body,
        Err(refusal) => return refusal,
    };
    let request = HttpRequest {
        url,
        content_type,
        hmac,
        body: body.to_vec(),
    };
    let started = Instant::now();
    let service = &context.service;
    let answer = std::panic::catch_unwind(AssertUnwindSafe(|| service.answer(&request)));
    let answer = match answer {
        Ok(Answer { response, delay }) => {
            // A late answer (a `slow` session fault) is really late: the client's request timeout
            // runs meanwhile.
            if let Some(delay) = delay {
                tokio::time::sleep(delay).await;
            }
            response
        }
        Err(_) => {
            tracing::error!(%peer, url = request.url, "the DM service panicked");
            return text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the DM service failed".into(),
            );
        }
    };
    log_exchange(peer, &request, &answer, started.elapsed());
    into_response(answer)
}

fn method_not_allowed(peer: SocketAddr, method: &Method) -> Response<Full<Bytes>> {
    tracing::info!(%peer, %method, "refused: method not allowed");
    let mut response = text(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{method} not allowed: SyncML DM messages are POSTed"),
    );
    response
        .headers_mut()
        .insert(ALLOW, HeaderValue::from_static("POST"));
    response
}

fn unsupported_type(peer: SocketAddr, content_type: &str) -> Response<Full<Bytes>> {
    tracing::info!(%peer, content_type, "refused: unsupported content type");
    text(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        format!(
            "unsupported content type {content_type:?}: use application/vnd.syncml.dm+xml or application/vnd.syncml.dm+wbxml"
        ),
    )
}

/// The request's `Content-Type`, empty when there is none.
fn content_type_of(request: &Request<Incoming>) -> String {
    request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// The body of a request, or the answer refusing it (413, 400).
async fn read_body(peer: SocketAddr, body: Incoming) -> Result<Bytes, Response<Full<Bytes>>> {
    match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(too_large(peer)),
        Err(e) => {
            tracing::info!(%peer, error = %e, "refused: request body unreadable");
            Err(text(
                StatusCode::BAD_REQUEST,
                format!("cannot read the request body: {e}"),
            ))
        }
    }
}

fn too_large(peer: SocketAddr) -> Response<Full<Bytes>> {
    tracing::info!(%peer, limit = MAX_BODY_BYTES, "refused: request body too large");
    text(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("request body over {MAX_BODY_BYTES} bytes"),
    )
}

/// The URL as the client addressed it: absolute already, or scheme + Host + path.
fn request_url(context: &Context, request: &Request<Incoming>) -> String {
    let uri = request.uri();
    if uri.scheme().is_some() && uri.authority().is_some() {
        return uri.to_string();
    }
    let host = request
        .headers()
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| context.local_addr.to_string());
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    format!("{}://{host}{path}", context.scheme)
}

fn into_response(answer: HttpResponse) -> Response<Full<Bytes>> {
    let status = match StatusCode::from_u16(answer.status) {
        Ok(s) => s,
        Err(_) => {
            tracing::error!(
                status = answer.status,
                "the DM service answered an invalid status"
            );
            return text(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("invalid status {}", answer.status),
            );
        }
    };
    let mut response = Response::new(Full::new(Bytes::from(answer.body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&answer.content_type) {
        headers.insert(CONTENT_TYPE, v);
    }
    if let Some(v) = answer
        .hmac
        .as_deref()
        .and_then(|h| HeaderValue::from_str(h).ok())
    {
        headers.insert(HMAC_HEADER, v);
    }
    response
}

/// One line per request: who (device, SessionID, MsgID when the body reads as its Content-Type
/// says) and the outcome.
fn log_exchange(peer: SocketAddr, request: &HttpRequest, answer: &HttpResponse, took: Duration) {
    if !tracing::enabled!(tracing::Level::INFO) {
        return;
    }
    let (device, session, msg) =
        match crate::syncml::decode_labelled(&request.content_type, &request.body) {
            Ok((_, m)) => (m.hdr.source.loc_uri, m.hdr.session_id, m.hdr.msg_id),
            Err(_) => Default::default(),
        };
    tracing::info!(
        %peer,
        device,
        session,
        msg,
        content_type = request.content_type,
        bytes = request.body.len(),
        status = answer.status,
        micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
        "DM request"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_open_ended_byte_ranges_are_passed_on() {
        assert_eq!(parse_range("bytes=4096-"), Some(4096));
        assert_eq!(parse_range(" bytes= 0 - "), Some(0));
        assert_eq!(parse_range("bytes=0-99"), None);
        assert_eq!(parse_range("bytes=-500"), None);
        assert_eq!(parse_range("items=1-"), None);
    }
}
