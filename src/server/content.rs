//! Content hosting on the mock server: files devices download (packages, Download Descriptors),
//! install-notify endpoints that record what devices report, and faults per path.
//!
//! What a request gets, in this order:
//! 1. a status fault of its path (401, 403, 404, 500, 503, any other) answers that status, whatever
//!    the method;
//! 2. `POST` to an install-notify path records an [`InstallNotification`] (the code is the body's
//!    leading three digits, reference §7.2) and answers 200, or 400 when there are no digits;
//!    `POST` elsewhere is 405 on a hosted file and 404 otherwise;
//! 3. `GET` of a hosted file answers it whole (200) or, for `Range: bytes=N-`, from byte N (206 with
//!    `Content-Range`; 416 when N is past the end), with the file version's strong `ETag` (the
//!    first 16 hex digits of the SHA-256 of its bytes, quoted); `GET` of a notify path is 405, of
//!    anything else 404; [`ContentFaultKind::UpdatedAfter`] serves a newer version of the file (its
//!    bytes changed, so its `ETag` too) from a given request on;
//! 4. the transfer faults of the path then change the answer: [`ContentFaultKind::CorruptByte`]
//!    flips a byte (in transit: the `ETag` stays the file's), [`ContentFaultKind::WrongContentLength`]
//!    announces another length, [`ContentFaultKind::CutAt`] drops the connection,
//!    [`ContentFaultKind::Slow`] delays it.
//!
//! A path where nothing is hosted (no file, notify path or fault) is not the content part's:
//! [`MockServer::content`](super::MockServer::content) refuses it like the HTTP front end does
//! (GET 405, POST 415).
//!
//! Faults fire on the path's first request only ([`Attempts::First`]) or on every request
//! ([`Attempts::Every`]); requests are counted per path and device, the device being the `device`
//! query parameter of the URL when there is one (so one fault hits each device once). Paths are
//! compared without the query. A lying descriptor needs no fault: host one
//! ([`HostedFile::descriptor`] writes any [`Descriptor`], lies included).

use crate::protocol::download::{Descriptor, DlStatus, HashAlgorithm, DD_CONTENT_TYPE};
use crate::protocol::http::{BodyEnd, ContentMethod, ContentRequest, ContentResponse};
use std::collections::HashMap;
use std::time::Duration;

/// A file the server hosts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostedFile {
    /// The URL path, e.g. `/fw/update.bin` (a missing leading `/` is added).
    pub path: String,
    pub content_type: String,
    pub body: Vec<u8>,
}

impl HostedFile {
    pub fn new(path: impl Into<String>, content_type: impl Into<String>, body: Vec<u8>) -> Self {
        HostedFile {
            path: path.into(),
            content_type: content_type.into(),
            body,
        }
    }

    /// A Download Descriptor, written as it is (see [`Descriptor::to_xml`]).
    pub fn descriptor(path: impl Into<String>, descriptor: &Descriptor) -> Self {
        HostedFile::new(path, DD_CONTENT_TYPE, descriptor.to_xml().into_bytes())
    }
}

/// Which requests of a path a fault hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Attempts {
    /// The first request only (per device).
    First,
    /// Every request.
    #[default]
    Every,
}

/// What goes wrong on a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentFaultKind {
    /// 401 Unauthorized.
    Unauthorized,
    /// 403 Forbidden, as for an expired download URL.
    Expired,
    /// 404 Not Found, even for a hosted file.
    NotFound,
    /// 500 Internal Server Error.
    ServerError,
    /// 503 Service Unavailable.
    Unavailable,
    /// Any other status.
    Status(u16),
    /// Answer this late. The HTTP front end really waits; [`InProcessContent`] reports a timeout
    /// when this is longer than its timeout, and answers at once otherwise.
    ///
    /// [`InProcessContent`]: crate::inproc::InProcessContent
    Slow(Duration),
    /// Drop the connection after this many bytes of the answer's body (counted from the start of
    /// this answer, so with [`Attempts::Every`] each resumed request gets that much further).
    /// `Content-Length` still announces the whole body.
    CutAt(u64),
    /// Announce this `Content-Length`. Longer than the body: the body is sent and the connection
    /// dropped (the device sees a cut). Shorter: only that many bytes are sent (the device sees a
    /// short object).
    WrongContentLength(u64),
    /// Flip every bit of the byte at this offset of the file (when the answer carries it).
    CorruptByte(u64),
    /// The file is updated on the server after the device's Nth request of it (N at least 1):
    /// later requests get its new version, every byte changed ([`updated_version`]), under a new
    /// `ETag`. (Fires on the requests it changes, so it needs [`Attempts::Every`].)
    UpdatedAfter(u32),
}

/// The version of `body` a [`ContentFaultKind::UpdatedAfter`] serves: as long, every byte changed.
pub fn updated_version(body: &[u8]) -> Vec<u8> {
    body.iter().map(|b| b ^ 0x5a).collect()
}

/// The strong `ETag` the server gives a file's version: the first 16 hex digits of the SHA-256 of
/// its bytes, quoted (RFC 9110 §8.8.3).
pub fn etag(body: &[u8]) -> String {
    let hex = HashAlgorithm::Sha256.hex_digest(body);
    format!("\"{}\"", &hex[..16])
}

impl ContentFaultKind {
    /// The status a status fault answers.
    pub fn status(self) -> Option<u16> {
        match self {
            ContentFaultKind::Unauthorized => Some(401),
            ContentFaultKind::Expired => Some(403),
            ContentFaultKind::NotFound => Some(404),
            ContentFaultKind::ServerError => Some(500),
            ContentFaultKind::Unavailable => Some(503),
            ContentFaultKind::Status(s) => Some(s),
            _ => None,
        }
    }
}

/// A fault on one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentFault {
    pub path: String,
    pub kind: ContentFaultKind,
    pub attempts: Attempts,
}

impl ContentFault {
    /// `kind` on every request of `path`.
    pub fn every(path: impl Into<String>, kind: ContentFaultKind) -> Self {
        ContentFault {
            path: path.into(),
            kind,
            attempts: Attempts::Every,
        }
    }

    /// `kind` on the first request of `path` (per device).
    pub fn first(path: impl Into<String>, kind: ContentFaultKind) -> Self {
        ContentFault {
            path: path.into(),
            kind,
            attempts: Attempts::First,
        }
    }
}

/// What the server hosts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContentConfig {
    pub files: Vec<HostedFile>,
    pub faults: Vec<ContentFault>,
    /// Paths that take install notifications (`installNotifyURI`s).
    pub notify_paths: Vec<String>,
    /// Credentials the files under a path need (HTTP Basic, RFC 7617): a request without them, or
    /// with others, is answered 401.
    pub auth: Option<ContentAuth>,
}

/// Hosted files that need credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentAuth {
    /// The path the files are under (`/Updates/`).
    pub prefix: String,
    /// The `Authorization` header a request must carry (`Basic <base64 of user:password>`).
    pub authorization: String,
}

impl ContentAuth {
    /// Files under `prefix` need `user` and `password`.
    pub fn basic(prefix: &str, user: &str, password: &str) -> ContentAuth {
        use base64::Engine as _;
        let pair = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        ContentAuth {
            prefix: prefix.to_string(),
            authorization: format!("Basic {pair}"),
        }
    }
}

impl ContentConfig {
    /// With a hosted file.
    pub fn file(mut self, file: HostedFile) -> Self {
        self.files.push(file);
        self
    }

    /// With an install-notify path.
    pub fn notify_path(mut self, path: impl Into<String>) -> Self {
        self.notify_paths.push(path.into());
        self
    }

    /// With a fault.
    pub fn fault(mut self, fault: ContentFault) -> Self {
        self.faults.push(fault);
        self
    }

    /// Whether a request for `path` is the content part's: a file, a notify path or a fault is
    /// there.
    pub fn hosts(&self, path: &str) -> bool {
        self.hosted_file(path).is_some()
            || self.is_notify_path(path)
            || self.faults.iter().any(|f| same_path(&f.path, path))
    }

    /// The file hosted at `path` (leading `/` optional), if any.
    pub fn hosted_file(&self, path: &str) -> Option<&HostedFile> {
        self.files.iter().find(|f| same_path(&f.path, path))
    }

    fn is_notify_path(&self, path: &str) -> bool {
        self.notify_paths.iter().any(|p| same_path(p, path))
    }
}

/// Whether a configured path (leading `/` optional) is the requested one.
fn same_path(configured: &str, requested: &str) -> bool {
    configured.strip_prefix('/').unwrap_or(configured)
        == requested.strip_prefix('/').unwrap_or(requested)
}

/// An install notification a device posted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallNotification {
    pub path: String,
    /// The `device` query parameter of the notify URL.
    pub device: Option<String>,
    /// The leading three digits of the body.
    pub code: u16,
    /// The body as sent (lossy UTF-8).
    pub body: String,
}

impl InstallNotification {
    /// The code as a DL status.
    pub fn status(&self) -> DlStatus {
        DlStatus::from_code(self.code)
    }
}

/// What the content part remembers.
#[derive(Debug, Default)]
pub(super) struct ContentState {
    /// Requests so far per (path, device).
    attempts: HashMap<(String, Option<String>), u32>,
    pub(super) notifications: Vec<InstallNotification>,
    /// How often each fault of the configuration changed an answer, in its order.
    pub(super) fired: Vec<u32>,
}

impl ContentState {
    /// Count the faults (by index in a configuration of `faults` of them) that changed an answer.
    fn count_fired(&mut self, faults: usize, applied: &[usize]) {
        self.fired.resize(faults, 0);
        for &i in applied {
            if let Some(n) = self.fired.get_mut(i) {
                *n = n.saturating_add(1);
            }
        }
    }
}

impl ContentState {
    /// Requests so far for `path` (compared without the query), from every device.
    pub(super) fn requests(&self, path: &str) -> u32 {
        self.attempts
            .iter()
            .filter(|((p, _), _)| same_path(p, path))
            .map(|(_, n)| *n)
            .sum()
    }
}

/// Answer one content request.
pub(super) fn handle(
    config: &ContentConfig,
    state: &mut ContentState,
    request: &ContentRequest,
) -> ContentResponse {
    let path = request.path();
    let device = request.device();
    let attempt = {
        let n = state
            .attempts
            .entry((path.clone(), device.clone()))
            .or_insert(0);
        *n = n.saturating_add(1);
        *n
    };
    if let Some(auth) = &config.auth {
        let under = path
            .trim_start_matches('/')
            .starts_with(auth.prefix.trim_start_matches('/'));
        if under && request.authorization.as_deref() != Some(auth.authorization.as_str()) {
            tracing::debug!(path, "content: credentials missing or wrong");
            return ContentResponse::text(401, &format!("{path}: authentication required"));
        }
    }
    // The faults due on this request, with their index in the configuration (to count them).
    let due: Vec<(usize, ContentFaultKind)> = config
        .faults
        .iter()
        .enumerate()
        .filter(|(_, f)| same_path(&f.path, &path))
        .filter(|(_, f)| f.attempts == Attempts::Every || attempt == 1)
        .filter(|(_, f)| match f.kind {
            ContentFaultKind::UpdatedAfter(n) => attempt > n,
            _ => true,
        })
        .map(|(i, f)| (i, f.kind))
        .collect();
    let mut applied = Vec::new();
    let delay = due.iter().find_map(|&(i, f)| match f {
        ContentFaultKind::Slow(d) => {
            applied.push(i);
            Some(d)
        }
        _ => None,
    });
    let mut response = match due.iter().find_map(|&(i, f)| f.status().map(|s| (i, s))) {
        Some((i, status)) => {
            tracing::debug!(path, status, "content: status fault");
            applied.push(i);
            ContentResponse::text(status, &format!("fault: HTTP {status} for {path}"))
        }
        None => match request.method {
            ContentMethod::Post => post(config, state, request, &path, device),
            ContentMethod::Get => get(config, request, &path, &due, &mut applied),
        },
    };
    response.delay = delay;
    state.count_fired(config.faults.len(), &applied);
    response
}
fn post(
    config: &ContentConfig,
    state: &mut ContentState,
    request: &ContentRequest,
    path: &str,
    device: Option<String>,
) -> ContentResponse {
    if !config.is_notify_path(path) {
        return match config.hosted_file(path) {
            Some(_) => ContentResponse::text(405, "POST not allowed on a hosted file"),
            None => ContentResponse::text(404, &format!("nothing at {path}")),
        };
    }
    let Some(status) = DlStatus::parse_status_line(&request.body) else {
        tracing::warn!(path, "install notification without a status code");
        return ContentResponse::text(400, "the body does not start with a 3-digit status code");
    };
    let notification = InstallNotification {
        path: path.to_string(),
        device,
        code: status.code(),
        body: String::from_utf8_lossy(&request.body).into_owned(),
    };
    tracing::debug!(path, code = notification.code, device = ?notification.device, "install notification");
    state.notifications.push(notification);
    ContentResponse::text(200, "OK")
}

/// A GET: the file, then the transfer faults of `faults` that change this answer (their indexes go
/// to `applied`).
fn get(
    config: &ContentConfig,
    request: &ContentRequest,
    path: &str,
    faults: &[(usize, ContentFaultKind)],
    applied: &mut Vec<usize>,
) -> ContentResponse {
    let Some(file) = config.hosted_file(path) else {
        return if config.is_notify_path(path) {
            ContentResponse::text(405, "install notifications are POSTed")
        } else {
            ContentResponse::text(404, &format!("nothing at {path}"))
        };
    };
    let mut body = file.body.clone();
    for &(i, fault) in faults {
        if let ContentFaultKind::UpdatedAfter(_) = fault {
            body = updated_version(&body);
            applied.push(i);
        }
    }
    let tag = etag(&body);
    for &(i, fault) in faults {
        if let ContentFaultKind::CorruptByte(at) = fault {
            if let Some(b) = usize::try_from(at).ok().and_then(|at| body.get_mut(at)) {
                *b ^= 0xff;
                applied.push(i);
            }
        }
    }
    let total = body.len() as u64;
    let mut response = match request.range_from {
        None => ContentResponse::new(200, Some(&file.content_type), body),
        Some(from) if from >= total => {
            let mut r = ContentResponse::text(416, &format!("{path} has {total} bytes"));
            r.content_range_start = None;
            return r;
        }
        Some(from) => {
            let start = usize::try_from(from).unwrap_or(usize::MAX).min(body.len());
            let mut r = ContentResponse::new(206, Some(&file.content_type), body.split_off(start));
            r.content_range_start = Some(from);
            r
        }
    };
    response.etag = Some(tag);
    for &(i, fault) in faults {
        match fault {
            ContentFaultKind::WrongContentLength(declared) => {
                applied.push(i);
                if declared < response.received() {
                    response
                        .body
                        .truncate(usize::try_from(declared).unwrap_or(usize::MAX));
                } else if declared > response.received() {
                    response.end = BodyEnd::ConnectionLost;
                }
                response.content_length = Some(declared);
            }
            ContentFaultKind::CutAt(at) if at < response.received() => {
                applied.push(i);
                response
                    .body
                    .truncate(usize::try_from(at).unwrap_or(usize::MAX));
                response.end = BodyEnd::ConnectionLost;
            }
            _ => {}
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> ContentConfig {
        ContentConfig::default()
            .file(HostedFile::new(
                "/fw.bin",
                "application/octet-stream",
                (0u8..10).collect(),
            ))
            .notify_path("notify")
    }

    fn run(config: &ContentConfig, state: &mut ContentState, r: ContentRequest) -> ContentResponse {
        handle(config, state, &r)
    }

    #[test]
    fn paths_and_devices_come_from_the_url() {
        let r = ContentRequest::get("http://h:1/a/b.bin?device=IMEI%3A1&x=2", None);
        assert_eq!(r.path(), "/a/b.bin");
        assert_eq!(r.device().as_deref(), Some("IMEI:1"));
        let r = ContentRequest::get("/notify?x=1", None);
        assert_eq!((r.path().as_str(), r.device()), ("/notify", None));
    }

    #[test]
    fn files_whole_and_in_ranges() {
        let c = config();
        let mut s = ContentState::default();
        let r = run(&c, &mut s, ContentRequest::get("http://h/fw.bin", None));
        assert_eq!(
            (r.status, r.body.len(), r.content_length),
            (200, 10, Some(10))
        );
        assert_eq!(r.content_type.as_deref(), Some("application/octet-stream"));
        let r = run(&c, &mut s, ContentRequest::get("http://h/fw.bin", Some(4)));
        assert_eq!(
            (r.status, r.content_range_start, r.content_length),
            (206, Some(4), Some(6))
        );
        assert_eq!(r.body, [4, 5, 6, 7, 8, 9]);
        let r = run(&c, &mut s, ContentRequest::get("http://h/fw.bin", Some(10)));
        assert_eq!(r.status, 416);
        assert_eq!(
            run(&c, &mut s, ContentRequest::get("/other", None)).status,
            404
        );
        assert_eq!(
            run(&c, &mut s, ContentRequest::get("/notify", None)).status,
            405
        );
        assert!(c.hosts("/fw.bin") && c.hosts("/notify") && !c.hosts("/dm"));
        assert_eq!(s.requests("/fw.bin"), 3);
        assert_eq!(s.requests("fw.bin"), 3, "with or without the leading slash");
        assert_eq!(s.requests("/notify"), 1);
        assert_eq!(s.requests("/never"), 0);
    }

    #[test]
    fn notifications_read_the_leading_digits() {
        let c = config();
        let mut s = ContentState::default();
        let post = |body: &[u8]| {
            ContentRequest::post("http://h/notify?device=d1", "text/plain", body.to_vec())
        };
        assert_eq!(run(&c, &mut s, post(b"900 Success \n\r")).status, 200);
        assert_eq!(run(&c, &mut s, post(b"905")).status, 200);
        assert_eq!(run(&c, &mut s, post(b"Success")).status, 400);
        let codes: Vec<_> = s
            .notifications
            .iter()
            .map(|n| (n.code, n.device.clone()))
            .collect();
        assert_eq!(codes, [(900, Some("d1".into())), (905, Some("d1".into()))]);
        assert_eq!(s.notifications[0].body, "900 Success \n\r");
        let r = run(
            &c,
            &mut s,
            ContentRequest::post("/fw.bin", "text/plain", b"900".to_vec()),
        );
        assert_eq!(r.status, 405);
    }

    #[test]
    fn faults_by_attempt() {
        let c = config()
            .fault(ContentFault::first(
                "/fw.bin",
                ContentFaultKind::Unavailable,
            ))
            .fault(ContentFault::every("/fw.bin", ContentFaultKind::CutAt(3)))
            .fault(ContentFault::every("/gone", ContentFaultKind::Expired));
        let mut s = ContentState::default();
        let get = || ContentRequest::get("/fw.bin?device=a", None);
        assert_eq!(run(&c, &mut s, get()).status, 503);
        let r = run(&c, &mut s, get());
        assert_eq!(
            (r.status, r.body.len(), r.content_length, r.end),
            (200, 3, Some(10), BodyEnd::ConnectionLost)
        );
        // Another device has its own first attempt.
        assert_eq!(
            run(&c, &mut s, ContentRequest::get("/fw.bin?device=b", None)).status,
            503
        );
        // Cut counts from the start of each answer.
        let r = run(&c, &mut s, ContentRequest::get("/fw.bin?device=a", Some(3)));
        assert_eq!(
            (r.status, r.body.clone(), r.end),
            (206, vec![3, 4, 5], BodyEnd::ConnectionLost)
        );
        let r = run(&c, &mut s, ContentRequest::get("/fw.bin?device=a", Some(8)));
        assert_eq!((r.body.clone(), r.end), (vec![8, 9], BodyEnd::Complete));
        assert_eq!(
            run(&c, &mut s, ContentRequest::get("/gone", None)).status,
            403
        );
        assert!(c.hosts("/gone"));
    }

    #[test]
    fn a_file_updated_on_the_server_changes_its_bytes_and_etag() {
        let c = config().fault(ContentFault::every(
            "/fw.bin",
            ContentFaultKind::UpdatedAfter(1),
        ));
        let mut s = ContentState::default();
        let first = run(&c, &mut s, ContentRequest::get("/fw.bin?device=a", None));
        let original: Vec<u8> = (0u8..10).collect();
        assert_eq!(first.body, original);
        assert_eq!(first.etag, Some(etag(&original)));
        assert_eq!(
            s.fired,
            [0],
            "the first request gets the version it asked for"
        );
        let rest = run(&c, &mut s, ContentRequest::get("/fw.bin?device=a", Some(4)));
        let updated = updated_version(&original);
        assert_eq!(rest.status, 206);
        assert_eq!(rest.body, updated[4..]);
        assert_eq!(rest.etag, Some(etag(&updated)));
        assert_ne!(rest.etag, first.etag);
        assert_eq!(s.fired, [1]);
        let other = run(&c, &mut s, ContentRequest::get("/fw.bin?device=b", None));
        assert_eq!(other.etag, first.etag, "another device's first request");
        let first_only = config().fault(ContentFault::first(
            "/fw.bin",
            ContentFaultKind::UpdatedAfter(1),
        ));
        let mut s = ContentState::default();
        for _ in 0..3 {
            run(&first_only, &mut s, ContentRequest::get("/fw.bin", None));
        }
        assert_eq!(s.fired, [0], "on the first request only, it never fires");
    }

    #[test]
    fn lengths_corruption_and_delays() {
        let c = config()
            .fault(ContentFault::first(
                "/fw.bin",
                ContentFaultKind::WrongContentLength(20),
            ))
            .fault(ContentFault::every(
                "/fw.bin",
                ContentFaultKind::CorruptByte(2),
            ))
            .fault(ContentFault::every(
                "/fw.bin",
                ContentFaultKind::Slow(Duration::from_secs(5)),
            ));
        let mut s = ContentState::default();
        let r = run(&c, &mut s, ContentRequest::get("/fw.bin", None));
        assert_eq!(
            (r.body.len(), r.content_length, r.end),
            (10, Some(20), BodyEnd::ConnectionLost)
        );
        assert_eq!(r.body[2], 2 ^ 0xff);
        assert_eq!(r.delay, Some(Duration::from_secs(5)));
        let short = config().fault(ContentFault::every(
            "/fw.bin",
            ContentFaultKind::WrongContentLength(4),
        ));
        let r = run(&short, &mut s, ContentRequest::get("/fw.bin", None));
        assert_eq!(
            (r.body.len(), r.content_length, r.end),
            (4, Some(4), BodyEnd::Complete)
        );
    }
}
