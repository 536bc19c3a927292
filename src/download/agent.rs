//! The download agent: from a `PkgURL` to the object's bytes, the way an OMA DL 1.0 device does it.
//!
//! One attempt is a sans-IO state machine, [`DownloadAttempt`]: each step takes the start or the
//! answer to the request it asked for last ([`DownloadInput`]) and says what to do next
//! ([`DownloadAction`]: a GET, a POST, or the [`DownloadOutcome`]), like the session and the
//! installer. [`download`] is its thin async driver over a [`ContentClient`]. An attempt:
//! 1. GET the `PkgURL`. The answer is a Download Descriptor when its `Content-Type` is
//!    `application/vnd.oma.dd+xml`, or when it has no `Content-Type` or a generic one
//!    (`application/octet-stream`, `application/xml`, `text/xml`, `text/plain`) and the URL's path
//!    ends in `.dd` or `.xml`; anything else is the package itself (a direct download).
//! 2. With a descriptor: parse and validate it (906, 951), check it against the device (953, then
//!    901), fire `download.storage-check`, ask the user (`download.user-confirm`: `user.reject`,
//!    `user.cancel` and `user.ignore` are 902; asked only when the
//!    download starts afresh, not when it resumes), then GET its `objectURI` (relative URIs are
//!    resolved against the descriptor's URL, as are `installNotifyURI`s).
//! 3. The object is fetched with resume: the caller keeps a [`Partial`] across attempts. When it
//!    holds bytes of this object, the GET carries `Range: bytes=<len>-`; a 206 from there is
//!    appended, a 200 restarts from zero, a 416 drops the partial bytes and fetches again from zero
//!    at once. `download.transfer` fires on each object GET (`network.lost@N` keeps only the first N
//!    bytes of the answer and counts as a lost connection; `device.abort` gives up, 952). A cut
//!    answer leaves its bytes in the [`Partial`] and fails with [`DownloadFailure::ConnectionLost`]
//!    (or [`DownloadFailure::Timeout`] when the client's time ran out mid-body).
//! 4. The whole object is checked against the descriptor: its `Content-Type` (when given) is one
//!    of the descriptor's types, its size is the descriptor's `size`, and the `MD5=`/`SHA256=`
//!    hashes of `installParam` match; any of these failing is 905 and drops the bytes.
//! 5. The status goes to the descriptor's `installNotifyURI`, when it has one: 900 on success, the
//!    failure's status otherwise (for a descriptor that failed to validate, when its
//!    `installNotifyURI` could still be read). Failures the caller will retry
//!    ([`DownloadFailure::is_resumable`] with [`DownloadRequest::resume_later`]) are not reported:
//!    903 goes out when the caller gives up (an attempt without `resume_later`).
//!
//! A direct download (no descriptor) checks `Content-Length` against the free storage (901), and
//! nothing is reported (there is no `installNotifyURI`); its failures carry no DL status.
//!
//! A resumed answer (206) must carry the validator of the bytes held ([`Partial::validator`]: the
//! object's `ETag`, else its `Last-Modified`, RFC 9110 §8.8): one that carries another is a part
//! of another version of the object, which changed on the server since the first part arrived.
//! The device does not splice the two: it drops the bytes and the download fails with
//! [`DownloadFailure::ObjectChanged`] (the check an `If-Range` asks a server to make, RFC 9110
//! §13.1.5, made by the device itself).
//!
//! A *document* request ([`DownloadRequest::document`]) reads a small document the device uses
//! itself (a descriptor it looks at before it downloads anything, a license): the answer is taken
//! as it comes, whatever its type (a descriptor is not followed), and whole (nothing is resumed).
//! The user is not asked, its length is not held against the free storage for objects, and the
//! `download.storage-check` and `download.transfer` fault points do not fire: they are about an
//! object downloaded for the user.
//!
//! The agent never sleeps: a timeout is the client's outcome ([`FetchError::Timeout`]).
//!
//! [`FetchError::Timeout`]: super::FetchError::Timeout

use super::client::{parse_url, ContentClient, FetchError};
use crate::faults::{FaultEffect, FaultPoint, Faults};
use crate::outcome::{Cause, Key, Phase};
use crate::profile::{self, Profile};
use crate::protocol::download::{
    essence, Descriptor, DescriptorError, DescriptorProblem, DeviceLimits, DlStatus, HashAlgorithm,
    DD_CONTENT_TYPE,
};
use crate::protocol::http::{BodyEnd, ContentResponse};
use reqwest::Url;

/// Content type of install notifications.
const NOTIFY_CONTENT_TYPE: &str = "text/plain";

/// What to download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadRequest {
    /// The `PkgURL`: a descriptor's URL or the package's.
    pub url: String,
    /// What the device offers.
    pub limits: DeviceLimits,
    /// The caller will try again after a resumable failure (connection lost, timeout, 503, server
    /// unreachable), so its 903 or 954 is not reported yet.
    pub resume_later: bool,
    /// What the device reports for each way the download ends.
    pub profile: &'static Profile,
    /// Read a document the device uses itself (see the module docs): the answer as it comes,
    /// whole, no descriptor followed, no prompt, no storage-check or transfer faults.
    pub document: bool,
}

impl DownloadRequest {
    /// A download of `url` on a device with these limits, reporting every failure.
    pub fn new(url: impl Into<String>, limits: DeviceLimits) -> Self {
        DownloadRequest {
            url: url.into(),
            limits,
            resume_later: false,
            profile: profile::default_profile(),
            document: false,
        }
    }

    /// The same request, for a document the device reads itself.
    pub fn as_document(mut self) -> Self {
        self.document = true;
        self
    }
}

/// The bytes of an object received so far, kept by the caller between attempts (and persisted by
/// it: a device keeps them across a reboot).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Partial {
    /// The object's URL (the descriptor's `objectURI`, resolved, or the `PkgURL` of a direct
    /// download); empty before the first attempt.
    pub url: String,
    pub bytes: Vec<u8>,
    /// The object's whole size: the descriptor's `size`, or the `Content-Length` of a direct
    /// download.
    pub expected_size: Option<u64>,
    /// The validator of the version of the object the bytes are of (its `ETag`, else its
    /// `Last-Modified`, as [`ContentResponse::validator`] gives it), when the server sent one.
    pub validator: Option<String>,
}

impl Partial {
    pub fn new() -> Partial {
        Partial::default()
    }

    /// Bytes held.
    pub fn received(&self) -> u64 {
        self.bytes.len() as u64
    }

    /// Whether this holds bytes of the object at `url` of that size.
    fn holds(&self, url: &str, expected_size: Option<u64>) -> bool {
        !self.bytes.is_empty() && self.url == url && self.expected_size == expected_size
    }

    /// Start over on another object.
    fn reset(&mut self, url: &str, expected_size: Option<u64>) {
        self.url = url.to_string();
        self.bytes.clear();
        self.expected_size = expected_size;
        self.validator = None;
    }
}

/// An install notification the agent sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyResult {
    /// The `installNotifyURI`, resolved.
    pub url: String,
    /// The status reported (the body was its status line).
    pub status: DlStatus,
    /// The HTTP status of the answer, or why there was none.
    pub response: Result<u16, FetchError>,
}

impl NotifyResult {
    /// Whether the server answered 2xx. (A device keeps a successful download only then, per
    /// the DL spec; whether it does is the caller's decision.)
    pub fn accepted(&self) -> bool {
        matches!(self.response, Ok(s) if (200..300).contains(&s))
    }
}

/// Why a download failed. Each variant's doc says the DL status the OMA profile reports for it
/// (through [`DownloadFailure::cause`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DownloadFailure {
    /// The `PkgURL` is not an http(s) URL. 954 Loader Error.
    #[error("bad URL: {0}")]
    BadUrl(String),
    /// HTTP 401. 954 Loader Error.
    #[error("authentication failed (HTTP 401)")]
    AuthenticationFailed,
    /// HTTP 403, e.g. an expired download URL. 954 Loader Error.
    #[error("forbidden (HTTP 403)")]
    Forbidden,
    /// HTTP 404. 954 Loader Error.
    #[error("not found (HTTP 404)")]
    NotFound,
    /// HTTP 5xx other than 503. 954 Loader Error.
    #[error("server error (HTTP {0})")]
    ServerError(u16),
    /// HTTP 503. 954 Loader Error; resumable.
    #[error("server unavailable (HTTP 503)")]
    ServerUnavailable,
    /// Any other status that is not 200 or 206 (a redirect not followed, 4xx, 416 twice).
    /// 954 Loader Error.
    #[error("unexpected HTTP status {0}")]
    UnexpectedStatus(u16),
    /// A 206 that does not start where the partial bytes end. 954 Loader Error.
    #[error("the server resumed at byte {got:?}, not at byte {requested}")]
    BadRange { requested: u64, got: Option<u64> },
    /// A 206 whose start and length add up past any size a file can have. 954 Loader Error.
    #[error("the server's answer runs from byte {start} for {length} bytes, past any file size")]
    ImpossibleRange { start: u64, length: u64 },
    /// No server answered. 903 Loss of Service; resumable.
    #[error("server unreachable: {0}")]
    Unreachable(String),
    /// No answer, or no whole body, within the client's time (the bytes received are kept).
    /// 903 Loss of Service; resumable.
    #[error("timed out")]
    Timeout,
    /// The connection dropped (server cut, `network.lost@N`); `received` is the object's bytes now
    /// held in the [`Partial`]. 903 Loss of Service; resumable.
    #[error("connection lost ({received} bytes of the object received)")]
    ConnectionLost { received: u64 },
    /// The TLS handshake failed. 954 Loader Error.
    #[error("TLS failed: {0}")]
    Tls(String),
    /// Another transport failure. 954 Loader Error.
    #[error("transport failed: {0}")]
    Transport(String),
    /// The descriptor does not parse, misses a required field, or has an unusable `objectURI`.
    /// 906 Invalid descriptor.
    #[error("{0}")]
    InvalidDescriptor(DescriptorError),
    /// The descriptor's DDVersion is not 1.x. 951 Invalid DDVersion.
    #[error("DDVersion {version:?} is not supported")]
    InvalidDdVersion { version: String },
    /// Too little free storage (`free` is 0 when the `storage.insufficient` fault fired).
    /// 901 Insufficient memory.
    #[error("insufficient storage: {needed:?} bytes needed, {free} free")]
    InsufficientStorage { needed: Option<u64>, free: u64 },
    /// The device accepts none of the descriptor's types. 953 Non-Acceptable Content.
    #[error("none of the types {types:?} is acceptable")]
    NonAcceptableContent { types: Vec<String> },
    /// The object's size is not the descriptor's. 905 Attribute mismatch.
    #[error("size mismatch: the descriptor says {expected} bytes, {received} received")]
    SizeMismatch { expected: u64, received: u64 },
    /// The object's `Content-Type` is none of the descriptor's types. 905 Attribute mismatch.
    #[error("type mismatch: the object is {received:?}, the descriptor says {expected:?}")]
    TypeMismatch {
        expected: Vec<String>,
        received: String,
    },
    /// The object's hash is not the one of `installParam`. 905 Attribute mismatch.
    #[error("{algorithm:?} mismatch: expected {expected}, got {actual}")]
    HashMismatch {
        algorithm: HashAlgorithm,
        expected: String,
        actual: String,
    },
    /// A resumed answer is of another version of the object than the bytes held (another
    /// validator): the object changed on the server. The bytes are dropped. 954 Loader Error.
    #[error("the object changed on the server: the bytes held are of {held}, the rest of {got}")]
    ObjectChanged { held: String, got: String },
    /// The user said no when asked to confirm (`user.reject`). 902 User Cancelled.
    #[error("the user rejected the download")]
    UserRejected,
    /// The user cancelled the download (`user.cancel`). 902 User Cancelled.
    #[error("the user cancelled the download")]
    UserCancelled,
    /// The user never answered the confirmation prompt (`user.ignore`); it timed out, which counts
    /// as cancelled. 902 User Cancelled.
    #[error("the user did not answer the download prompt")]
    UserIgnored,
    /// The device gave up (`device.abort`). 952 Device Aborted.
    #[error("the device aborted the download")]
    DeviceAborted,
}

impl DownloadFailure {
    /// Why the download ended, in the flow's terms; the device's profile gives the DL status and
    /// the operation's result.
    pub fn cause(&self) -> Cause {
        use DownloadFailure::*;
        match self {
            BadUrl(_) => Cause::BadUrl,
            AuthenticationFailed => Cause::AuthenticationFailed,
            Tls(_) => Cause::TlsFailed,
            Forbidden => Cause::Forbidden,
            NotFound => Cause::NotFound,
            ServerError(_) => Cause::ServerError,
            ServerUnavailable => Cause::ServerUnavailable,
            UnexpectedStatus(_) => Cause::UnexpectedStatus,
            BadRange { .. } => Cause::BadRange,
            ImpossibleRange { .. } => Cause::ImpossibleRange,
            Transport(_) => Cause::Transport,
            Unreachable(_) => Cause::Unreachable,
            Timeout => Cause::Timeout,
            ConnectionLost { .. } => Cause::ConnectionLost,
            InvalidDescriptor(_) => Cause::InvalidDescriptor,
            InvalidDdVersion { .. } => Cause::InvalidDdVersion,
            InsufficientStorage { .. } => Cause::InsufficientStorage,
            NonAcceptableContent { .. } => Cause::NonAcceptableContent,
            SizeMismatch { .. } => Cause::SizeMismatch,
            TypeMismatch { .. } => Cause::TypeMismatch,
            HashMismatch { .. } => Cause::HashMismatch,
            ObjectChanged { .. } => Cause::ObjectChanged,
            UserRejected => Cause::UserRejected,
            UserCancelled => Cause::UserCancelled,
            UserIgnored => Cause::UserIgnored,
            DeviceAborted => Cause::DeviceAborted,
        }
    }

    /// The outcome of the download phase this failure is.
    pub fn key(&self) -> Key {
        Key(Phase::Download, self.cause())
    }

    /// Whether trying again later may succeed and resume from the [`Partial`]: the network or the
    /// server was away (connection lost, timeout, unreachable, 503).
    pub fn is_resumable(&self) -> bool {
        matches!(
            self,
            DownloadFailure::ConnectionLost { .. }
                | DownloadFailure::Timeout
                | DownloadFailure::Unreachable(_)
                | DownloadFailure::ServerUnavailable
        )
    }

    /// The failure for a status that is not 200 or 206.
    fn from_status(status: u16) -> DownloadFailure {
        match status {
            401 => DownloadFailure::AuthenticationFailed,
            403 => DownloadFailure::Forbidden,
            404 => DownloadFailure::NotFound,
            503 => DownloadFailure::ServerUnavailable,
            500..=599 => DownloadFailure::ServerError(status),
            other => DownloadFailure::UnexpectedStatus(other),
        }
    }

    /// The failure for an exchange with no response; `held` is what the [`Partial`] holds.
    fn from_fetch(e: FetchError, held: u64) -> DownloadFailure {
        match e {
            FetchError::BadUrl(u) => DownloadFailure::BadUrl(u),
            FetchError::Unreachable(p) => DownloadFailure::Unreachable(p),
            FetchError::Timeout => DownloadFailure::Timeout,
            FetchError::ConnectionLost { .. } => DownloadFailure::ConnectionLost { received: held },
            FetchError::Tls(t) => DownloadFailure::Tls(t),
            FetchError::Other(o) => DownloadFailure::Transport(o),
        }
    }
}

/// What a download attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DownloadOutcome {
    /// The whole object, verified. The [`Partial`] is empty again.
    Downloaded {
        bytes: Vec<u8>,
        /// The status of the DL transaction (success, in the device's profile) when a descriptor
        /// was used; `None` for a direct download.
        dl_status: Option<DlStatus>,
        /// The descriptor, when the `PkgURL` was one.
        descriptor: Option<Descriptor>,
        /// The 900 notification, when the descriptor has an `installNotifyURI`.
        notify: Option<NotifyResult>,
    },
    /// Nothing usable yet; resumable failures leave the bytes received in the [`Partial`].
    Failed {
        cause: DownloadFailure,
        /// The status of the DL transaction (the profile's for `cause`) when a descriptor was read, even
        /// an invalid one, whether or not it was sent; `None` for a direct download or when the
        /// descriptor could not be fetched.
        dl_status: Option<DlStatus>,
        /// The notification sent, when there was an `installNotifyURI` and the failure was not
        /// held back for a later attempt.
        notify: Option<NotifyResult>,
    },
}

impl DownloadOutcome {
    /// The failure, when the attempt failed.
    pub fn failure(&self) -> Option<&DownloadFailure> {
        match self {
            DownloadOutcome::Failed { cause, .. } => Some(cause),
            DownloadOutcome::Downloaded { .. } => None,
        }
    }

    /// The install notification sent, if any.
    pub fn notify(&self) -> Option<&NotifyResult> {
        match self {
            DownloadOutcome::Downloaded { notify, .. } | DownloadOutcome::Failed { notify, .. } => {
                notify.as_ref()
            }
        }
    }

    /// The DL status of the attempt: 900 when downloaded through a descriptor, the failure's when
    /// a descriptor was read, `None` otherwise.
    pub fn dl_status(&self) -> Option<DlStatus> {
        match self {
            DownloadOutcome::Downloaded { dl_status, .. }
            | DownloadOutcome::Failed { dl_status, .. } => *dl_status,
        }
    }
}

/// Run one download attempt (see the module docs for the steps): the thin driver of a
/// [`DownloadAttempt`], which answers its requests through `client`. `partial` is what the caller
/// holds of the object; it holds what the attempt left when it returns.
pub async fn download<C: ContentClient>(
    client: &C,
    request: DownloadRequest,
    partial: &mut Partial,
    faults: &mut Faults,
) -> DownloadOutcome {
    let mut attempt = DownloadAttempt::new(request, std::mem::take(partial));
    let mut input = DownloadInput::Start;
    let outcome = loop {
        input = match attempt.step(input, faults) {
            DownloadAction::Get { url, range_from } => {
                DownloadInput::Fetched(client.get(&url, range_from).await)
            }
            DownloadAction::Post {
                url,
                content_type,
                body,
            } => DownloadInput::Posted(client.post(&url, content_type, body).await),
            DownloadAction::Done(outcome) => break *outcome,
        };
    };
    *partial = attempt.into_partial();
    outcome
}

/// What a [`DownloadAttempt`] needs done next: the requests are its only I/O.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DownloadAction {
    /// GET `url`, from byte `range_from` on when given (`Range: bytes=<n>-`); the answer goes back
    /// as [`DownloadInput::Fetched`].
    Get {
        url: String,
        range_from: Option<u64>,
    },
    /// POST `body` to `url` (an install notification); the answer goes back as
    /// [`DownloadInput::Posted`].
    Post {
        url: String,
        content_type: &'static str,
        body: Vec<u8>,
    },
    /// The attempt is over (boxed: an outcome is much larger than a request).
    Done(Box<DownloadOutcome>),
}

/// What the caller brings a [`DownloadAttempt`]: the start, then the answer to each request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DownloadInput {
    /// Begin the attempt (the first step).
    Start,
    /// The answer to a [`DownloadAction::Get`].
    Fetched(Result<ContentResponse, FetchError>),
    /// The answer to a [`DownloadAction::Post`].
    Posted(Result<u16, FetchError>),
}

impl DownloadInput {
    fn name(&self) -> &'static str {
        match self {
            DownloadInput::Start => "the start",
            DownloadInput::Fetched(_) => "a GET's answer",
            DownloadInput::Posted(_) => "a POST's answer",
        }
    }
}

/// One download attempt as a sans-IO state machine: [`DownloadAttempt::step`] takes the start or
/// the answer to the last request and says what to do next, until [`DownloadAction::Done`]. The
/// device's faults fire inside the steps (`download.storage-check`, `download.user-confirm`,
/// `download.transfer`); the attempt never waits: time passes only in the client
/// ([`FetchError::Timeout`]) and in the caller's clock.
#[derive(Debug, Clone)]
pub struct DownloadAttempt {
    request: DownloadRequest,
    partial: Partial,
    wait: Wait,
}

/// What an attempt waits for.
#[derive(Debug, Clone)]
enum Wait {
    Start,
    /// The answer to the `PkgURL`'s GET.
    First {
        url: String,
        range: Option<u64>,
    },
    /// The answer to a GET of the descriptor's object.
    Object {
        object: ObjectFetch,
        range: Option<u64>,
    },
    /// The answer to the install notification, after which the attempt ends.
    Notified {
        url: String,
        status: DlStatus,
        then: Ending,
    },
    /// Nothing: the attempt is over.
    Over,
}

/// The object a descriptor points at, being fetched.
#[derive(Debug, Clone)]
struct ObjectFetch {
    url: String,
    descriptor: Descriptor,
    notify_uri: Option<String>,
    /// A 416 already made the agent start over once.
    retried: bool,
}

/// How a descriptor's download ends, once its notification is answered.
#[derive(Debug, Clone)]
enum Ending {
    Downloaded {
        bytes: Vec<u8>,
        descriptor: Descriptor,
    },
    Failed {
        cause: DownloadFailure,
    },
}

impl DownloadAttempt {
    /// An attempt at `request`, resuming from `partial` when it holds bytes of the object.
    pub fn new(request: DownloadRequest, partial: Partial) -> DownloadAttempt {
        DownloadAttempt {
            request,
            partial,
            wait: Wait::Start,
        }
    }

    /// What the attempt holds of the object: give it back to the next attempt to resume.
    pub fn into_partial(self) -> Partial {
        self.partial
    }

    /// Take `input` (first [`DownloadInput::Start`], then the answer to the request the last step
    /// asked for); what to do next. An input the attempt is not waiting for ends it with
    /// [`DownloadFailure::Transport`] (a bug of the caller, logged).
    pub fn step(&mut self, input: DownloadInput, faults: &mut Faults) -> DownloadAction {
        match (std::mem::replace(&mut self.wait, Wait::Over), input) {
            (Wait::Start, DownloadInput::Start) => self.begin(),
            (Wait::First { url, range }, DownloadInput::Fetched(answer)) => {
                self.first_answer(&url, range, answer, faults)
            }
            (Wait::Object { object, range }, DownloadInput::Fetched(answer)) => {
                self.object_answer(object, range, answer, faults)
            }
            (Wait::Notified { url, status, then }, DownloadInput::Posted(response)) => {
                if let Err(e) = &response {
                    tracing::debug!(url, error = %e, "install notification not delivered");
                }
                let notify = NotifyResult {
                    url,
                    status,
                    response,
                };
                done(ending(then, status, Some(notify)))
            }
            (wait, input) => {
                let waiting = match wait {
                    Wait::Start => "the start",
                    Wait::First { .. } | Wait::Object { .. } => "a GET's answer",
                    Wait::Notified { .. } => "a POST's answer",
                    Wait::Over => "nothing (it was over)",
                };
                let problem = format!(
                    "the download agent got {} while it waited for {waiting}",
                    input.name()
                );
                tracing::error!(problem, "download attempt misused");
                done(plain_failure(DownloadFailure::Transport(problem)))
            }
        }
    }

    fn begin(&mut self) -> DownloadAction {
        let url = self.request.url.clone();
        if let Err(e) = parse_url(&url) {
            return done(plain_failure(DownloadFailure::from_fetch(
                e,
                self.partial.received(),
            )));
        }
        if self.request.document {
            self.partial.reset(&url, None);
        }
        let resuming = self.partial.url == url && !self.partial.bytes.is_empty();
        let range = resuming.then(|| self.partial.received());
        self.wait = Wait::First {
            url: url.clone(),
            range,
        };
        DownloadAction::Get {
            url,
            range_from: range,
        }
    }

    fn first_answer(
        &mut self,
        url: &str,
        range: Option<u64>,
        answer: Result<ContentResponse, FetchError>,
        faults: &mut Faults,
    ) -> DownloadAction {
        let first = match answer {
            Ok(r) => r,
            Err(e) => {
                return done(plain_failure(DownloadFailure::from_fetch(
                    e,
                    self.partial.received(),
                )))
            }
        };
        if !matches!(first.status, 200 | 206) {
            return done(plain_failure(DownloadFailure::from_status(first.status)));
        }
        if !self.request.document && is_descriptor(&first, url) {
            self.via_descriptor(url, first, faults)
        } else {
            done(self.direct(url, range, first, faults))
        }
    }

    /// The `PkgURL` answered with the package itself.
    fn direct(
        &mut self,
        url: &str,
        range: Option<u64>,
        response: ContentResponse,
        faults: &mut Faults,
    ) -> DownloadOutcome {
        // A partial answer's size is where it starts plus its length (both from the peer: the sum
        // is checked), a whole answer's its length.
        let total = match response.status {
            206 => match (
                response.content_range_start.or(range),
                response.content_length,
            ) {
                (Some(start), Some(length)) => match start.checked_add(length) {
                    Some(total) => Some(total),
                    None => {
                        return plain_failure(DownloadFailure::ImpossibleRange { start, length });
                    }
                },
                _ => None,
            },
            _ => response.content_length,
        };
        let free = self.request.limits.free_storage;
        let document = self.request.document;
        if total.is_some_and(|t| t > free) && !document {
            return plain_failure(DownloadFailure::InsufficientStorage {
                needed: total,
                free,
            });
        }
        if !document {
            if let Err(cause) = storage_fault(faults, total) {
                return plain_failure(cause);
            }
        }
        if self.partial.url != url || response.status == 200 {
            self.partial.reset(url, total);
        }
        if self.partial.bytes.is_empty() && !document {
            if let Err(cause) = confirm(faults) {
                return plain_failure(cause);
            }
        }
        if total.is_some() {
            self.partial.expected_size = total;
        }
        if let Err(cause) = self.receive(range, response, faults) {
            return plain_failure(cause);
        }
        let received = self.partial.received();
        if let Some(expected) = self.partial.expected_size.filter(|&e| e != received) {
            self.partial.bytes.clear();
            return plain_failure(DownloadFailure::SizeMismatch { expected, received });
        }
        let bytes = std::mem::take(&mut self.partial.bytes);
        self.partial.reset("", None);
        DownloadOutcome::Downloaded {
            bytes,
            dl_status: None,
            descriptor: None,
            notify: None,
        }
    }

    /// The `PkgURL` answered with a descriptor.
    fn via_descriptor(
        &mut self,
        dd_url: &str,
        response: ContentResponse,
        faults: &mut Faults,
    ) -> DownloadAction {
        let cut = match response.end {
            BodyEnd::Complete => None,
            BodyEnd::ConnectionLost => Some(DownloadFailure::ConnectionLost {
                received: self.partial.received(),
            }),
            BodyEnd::TimedOut => Some(DownloadFailure::Timeout),
            BodyEnd::TooLarge => Some(DownloadFailure::InvalidDescriptor(DescriptorError {
                problem: DescriptorProblem::TooLarge,
                at: None,
                install_notify_uri: None,
            })),
        };
        if let Some(cause) = cut {
            return done(plain_failure(cause));
        }
        let descriptor = match Descriptor::parse(&response.body) {
            Ok(d) => d,
            Err(e) => {
                let notify_uri = e
                    .install_notify_uri
                    .as_deref()
                    .and_then(|u| resolve(dd_url, u).ok());
                let cause = match &e.problem {
                    DescriptorProblem::UnsupportedVersion { version } => {
                        DownloadFailure::InvalidDdVersion {
                            version: version.clone(),
                        }
                    }
                    _ => DownloadFailure::InvalidDescriptor(e),
                };
                return self.fail(cause, notify_uri);
            }
        };
        let notify_uri = descriptor.install_notify_uri.as_deref().and_then(|u| {
            resolve(dd_url, u)
                .inspect_err(|e| tracing::warn!(uri = u, error = e, "unusable installNotifyURI"))
                .ok()
        });
        let object_url = match resolve(dd_url, &descriptor.object_uri) {
            Ok(u) => u,
            Err(reason) => {
                let cause = DownloadFailure::InvalidDescriptor(DescriptorError {
                    problem: DescriptorProblem::BadObjectUri {
                        value: descriptor.object_uri.clone(),
                        reason,
                    },
                    at: None,
                    install_notify_uri: descriptor.install_notify_uri.clone(),
                });
                return self.fail(cause, notify_uri);
            }
        };
        let limits = &self.request.limits;
        let checked = match descriptor.check(limits) {
            Ok(()) => storage_fault(faults, Some(descriptor.size)),
            Err(DlStatus::NonAcceptableContent) => Err(DownloadFailure::NonAcceptableContent {
                types: descriptor.types.clone(),
            }),
            Err(_) => Err(DownloadFailure::InsufficientStorage {
                needed: Some(descriptor.size),
                free: limits.free_storage,
            }),
        };
        if let Err(cause) = checked {
            return self.fail(cause, notify_uri);
        }
        let size = Some(descriptor.size);
        if !self.partial.holds(&object_url, size) {
            self.partial.reset(&object_url, size);
            if let Err(cause) = confirm(faults) {
                return self.fail(cause, notify_uri);
            }
        }
        let object = ObjectFetch {
            url: object_url,
            descriptor,
            notify_uri,
            retried: false,
        };
        if self.partial.received() == object.descriptor.size {
            return self.object_complete(object);
        }
        self.request_object(object)
    }

    /// GET the rest of the object (all of it when nothing is held).
    fn request_object(&mut self, object: ObjectFetch) -> DownloadAction {
        let range = (!self.partial.bytes.is_empty()).then(|| self.partial.received());
        let url = object.url.clone();
        self.wait = Wait::Object { object, range };
        DownloadAction::Get {
            url,
            range_from: range,
        }
    }

    /// The answer to an object GET: it completes the object, or the attempt fails (a 416 on a
    /// resume drops the bytes held and asks for the whole object, once).
    fn object_answer(
        &mut self,
        mut object: ObjectFetch,
        range: Option<u64>,
        answer: Result<ContentResponse, FetchError>,
        faults: &mut Faults,
    ) -> DownloadAction {
        let response = match answer {
            Ok(r) => r,
            Err(e) => {
                let cause = DownloadFailure::from_fetch(e, self.partial.received());
                return self.fail(cause, object.notify_uri);
            }
        };
        if response.status == 416 && range.is_some() && !object.retried {
            tracing::debug!(url = object.url, "416 on resume: starting over");
            self.partial.bytes.clear();
            object.retried = true;
            return self.request_object(object);
        }
        if !matches!(response.status, 200 | 206) {
            let cause = DownloadFailure::from_status(response.status);
            return self.fail(cause, object.notify_uri);
        }
        if let Some(t) = response.content_type.as_deref() {
            if !object.descriptor.has_type(t) {
                let cause = DownloadFailure::TypeMismatch {
                    expected: object.descriptor.types.clone(),
                    received: t.to_string(),
                };
                return self.fail(cause, object.notify_uri);
            }
        }
        if let Err(cause) = self.receive(range, response, faults) {
            return self.fail(cause, object.notify_uri);
        }
        self.object_complete(object)
    }

    /// The whole object is held: verify it, then report success.
    fn object_complete(&mut self, object: ObjectFetch) -> DownloadAction {
        if let Err(cause) = verify(&self.partial.bytes, &object.descriptor) {
            self.partial.bytes.clear();
            return self.fail(cause, object.notify_uri);
        }
        let bytes = std::mem::take(&mut self.partial.bytes);
        self.partial.reset("", None);
        let then = Ending::Downloaded {
            bytes,
            descriptor: object.descriptor,
        };
        let status = self
            .request
            .profile
            .dl_status(Key(Phase::Download, Cause::Succeeded));
        self.notify(object.notify_uri, status, then)
    }

    /// Add a 200/206 answer to the [`Partial`], through the `download.transfer` fault point.
    fn receive(
        &mut self,
        range: Option<u64>,
        mut response: ContentResponse,
        faults: &mut Faults,
    ) -> Result<(), DownloadFailure> {
        let fault = match self.request.document {
            true => None,
            false => faults.fire(FaultPoint::DownloadTransfer),
        };
        match fault {
            Some(FaultEffect::NetworkLostAtByte(n)) => {
                if let Some(keep) = usize::try_from(n).ok().filter(|&k| k < response.body.len()) {
                    response.body.truncate(keep);
                    response.end = BodyEnd::ConnectionLost;
                }
            }
            Some(FaultEffect::DeviceAbort) => return Err(DownloadFailure::DeviceAborted),
            Some(other) => tracing::debug!(effect = %other, "no such effect at download.transfer"),
            None => {}
        }
        let validator = response.validator();
        if response.status == 206 {
            let held = self.partial.received();
            let start = response.content_range_start.or(range);
            if range.is_none() || start != Some(held) {
                self.partial.bytes.clear();
                return Err(DownloadFailure::BadRange {
                    requested: held,
                    got: start,
                });
            }
            if let (Some(held), Some(got)) = (&self.partial.validator, &validator) {
                if held != got {
                    let cause = DownloadFailure::ObjectChanged {
                        held: held.clone(),
                        got: got.clone(),
                    };
                    self.partial.bytes.clear();
                    self.partial.validator = None;
                    return Err(cause);
                }
            }
            if validator.is_some() {
                self.partial.validator = validator;
            }
        } else {
            // 200: the whole object again, whatever was asked.
            self.partial.bytes.clear();
            self.partial.validator = validator;
        }
        self.partial.bytes.extend_from_slice(&response.body);
        match response.end {
            BodyEnd::Complete => Ok(()),
            BodyEnd::ConnectionLost => Err(DownloadFailure::ConnectionLost {
                received: self.partial.received(),
            }),
            BodyEnd::TimedOut => Err(DownloadFailure::Timeout),
            // More than the device will hold: it is out of storage for this object.
            BodyEnd::TooLarge => {
                self.partial.bytes.clear();
                Err(DownloadFailure::InsufficientStorage {
                    needed: None,
                    free: self.request.limits.free_storage,
                })
            }
        }
    }

    /// A failure after a descriptor was read: its status, reported unless held back.
    fn fail(&mut self, cause: DownloadFailure, notify_uri: Option<String>) -> DownloadAction {
        let status = self.request.profile.dl_status(cause.key());
        tracing::debug!(%cause, status = status.code(), "download failed");
        let held_back = cause.is_resumable() && self.request.resume_later;
        let notify_uri = notify_uri.filter(|_| !held_back);
        self.notify(notify_uri, status, Ending::Failed { cause })
    }

    /// POST the status line to the notify URI when there is one, then end with `then`.
    fn notify(&mut self, uri: Option<String>, status: DlStatus, then: Ending) -> DownloadAction {
        let Some(url) = uri else {
            return done(ending(then, status, None));
        };
        let body = status.status_line().into_bytes();
        self.wait = Wait::Notified {
            url: url.clone(),
            status,
            then,
        };
        DownloadAction::Post {
            url,
            content_type: NOTIFY_CONTENT_TYPE,
            body,
        }
    }
}

/// The end of an attempt.
fn done(outcome: DownloadOutcome) -> DownloadAction {
    DownloadAction::Done(Box::new(outcome))
}

/// The outcome of a descriptor's download with its DL status, its notification (if one was sent)
/// answered.
fn ending(then: Ending, status: DlStatus, notify: Option<NotifyResult>) -> DownloadOutcome {
    match then {
        Ending::Downloaded { bytes, descriptor } => DownloadOutcome::Downloaded {
            bytes,
            dl_status: Some(status),
            descriptor: Some(descriptor),
            notify,
        },
        Ending::Failed { cause } => DownloadOutcome::Failed {
            dl_status: Some(status),
            cause,
            notify,
        },
    }
}

/// A failure in a direct download or before a descriptor was read: no DL status, no notification.
fn plain_failure(cause: DownloadFailure) -> DownloadOutcome {
    tracing::debug!(%cause, "download failed");
    DownloadOutcome::Failed {
        cause,
        dl_status: None,
        notify: None,
    }
}

/// Whether an answer to `url` is a Download Descriptor.
fn is_descriptor(response: &ContentResponse, url: &str) -> bool {
    let generic = [
        "application/octet-stream",
        "application/xml",
        "text/xml",
        "text/plain",
    ];
    match response.content_type.as_deref().map(essence) {
        Some(t) if t == DD_CONTENT_TYPE => true,
        Some(t) if !generic.contains(&t.as_str()) => false,
        _ => {
            let path = Url::parse(url).map(|u| u.path().to_ascii_lowercase());
            path.is_ok_and(|p| p.ends_with(".dd") || p.ends_with(".xml"))
        }
    }
}

/// `reference` resolved against `base`, as an http(s) URL.
fn resolve(base: &str, reference: &str) -> Result<String, String> {
    let base = Url::parse(base).map_err(|e| e.to_string())?;
    let url = base.join(reference).map_err(|e| e.to_string())?;
    parse_url(url.as_str()).map_err(|e| e.to_string())?;
    Ok(url.into())
}

/// The `download.storage-check` fault point.
fn storage_fault(faults: &mut Faults, needed: Option<u64>) -> Result<(), DownloadFailure> {
    match faults.fire(FaultPoint::DownloadStorageCheck) {
        Some(FaultEffect::StorageInsufficient) => {
            Err(DownloadFailure::InsufficientStorage { needed, free: 0 })
        }
        Some(other) => {
            tracing::debug!(effect = %other, "no such effect at download.storage-check");
            Ok(())
        }
        None => Ok(()),
    }
}

/// The `download.user-confirm` fault point.
fn confirm(faults: &mut Faults) -> Result<(), DownloadFailure> {
    match faults.fire(FaultPoint::DownloadUserConfirm) {
        Some(FaultEffect::UserReject) => Err(DownloadFailure::UserRejected),
        Some(FaultEffect::UserCancel) => Err(DownloadFailure::UserCancelled),
        Some(FaultEffect::UserIgnore) => Err(DownloadFailure::UserIgnored),
        Some(other) => {
            tracing::debug!(effect = %other, "no such effect at download.user-confirm");
            Ok(())
        }
        None => Ok(()),
    }
}

/// The whole object against the descriptor: size, then the hashes of `installParam`.
fn verify(bytes: &[u8], descriptor: &Descriptor) -> Result<(), DownloadFailure> {
    let received = bytes.len() as u64;
    if received != descriptor.size {
        return Err(DownloadFailure::SizeMismatch {
            expected: descriptor.size,
            received,
        });
    }
    for hash in descriptor.expected_hashes() {
        if !hash.matches(bytes) {
            return Err(DownloadFailure::HashMismatch {
                algorithm: hash.algorithm,
                expected: hash.hex.clone(),
                actual: hash.algorithm.hex_digest(bytes),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::download::DeviceLimits;

    #[test]
    fn descriptors_by_type_or_by_url() {
        let with = |t: Option<&str>| ContentResponse {
            status: 200,
            content_type: t.map(str::to_string),
            ..ContentResponse::default()
        };
        let dd = Some("application/vnd.oma.dd+xml; charset=utf-8");
        assert!(is_descriptor(&with(dd), "http://h/pkg.bin"));
        assert!(is_descriptor(&with(None), "http://h/pkg.dd?x=1"));
        assert!(is_descriptor(
            &with(Some("text/xml")),
            "http://h/dd/PKG.XML"
        ));
        assert!(!is_descriptor(
            &with(Some("application/zip")),
            "http://h/pkg.dd"
        ));
        assert!(!is_descriptor(&with(None), "http://h/pkg.bin"));
        assert!(!is_descriptor(
            &with(Some("application/octet-stream")),
            "http://h/x.dd.bin"
        ));
    }

    #[test]
    fn relative_uris_resolve_against_the_descriptor() {
        assert_eq!(
            resolve("http://h:8/dd/p.dd", "../fw.bin").as_deref(),
            Ok("http://h:8/fw.bin")
        );
        assert_eq!(
            resolve("http://h/p.dd", "https://cdn/x").as_deref(),
            Ok("https://cdn/x")
        );
        assert!(resolve("http://h/p.dd", "ftp://x/y").is_err());
    }

    fn get(url: &str, range_from: Option<u64>) -> DownloadAction {
        DownloadAction::Get {
            url: url.into(),
            range_from,
        }
    }

    #[test]
    fn a_descriptor_download_is_a_sequence_of_requests() {
        let dd = br#"<media xmlns="http://www.openmobilealliance.org/xmlns/dd">
            <DDVersion>1.0</DDVersion><objectURI>fw.bin</objectURI><size>4</size>
            <type>application/octet-stream</type><installNotifyURI>/notify</installNotifyURI>
            </media>"#;
        let mut faults = Faults::default();
        let request = DownloadRequest::new("http://h/dl/p.dd", DeviceLimits::default());
        let mut held = Partial::new();
        held.url = "http://h/dl/fw.bin".into();
        held.bytes = b"FW".to_vec();
        held.expected_size = Some(4);
        let mut attempt = DownloadAttempt::new(request, held);
        assert_eq!(
            attempt.step(DownloadInput::Start, &mut faults),
            get("http://h/dl/p.dd", None),
            "the descriptor's URL is not the object's: no range"
        );
        let descriptor = ContentResponse::new(200, Some(DD_CONTENT_TYPE), dd.to_vec());
        assert_eq!(
            attempt.step(DownloadInput::Fetched(Ok(descriptor)), &mut faults),
            get("http://h/dl/fw.bin", Some(2)),
            "the object resumes from the bytes held"
        );
        let mut rest = ContentResponse::new(206, None, b"!!".to_vec());
        rest.content_range_start = Some(2);
        let notify = attempt.step(DownloadInput::Fetched(Ok(rest)), &mut faults);
        assert_eq!(
            notify,
            DownloadAction::Post {
                url: "http://h/notify".into(),
                content_type: NOTIFY_CONTENT_TYPE,
                body: DlStatus::Success.status_line().into_bytes(),
            }
        );
        let DownloadAction::Done(outcome) =
            attempt.step(DownloadInput::Posted(Ok(200)), &mut faults)
        else {
            panic!("the attempt ends after the notification");
        };
        let DownloadOutcome::Downloaded { bytes, notify, .. } = *outcome else {
            panic!("downloaded: {outcome:?}");
        };
        assert_eq!(bytes, b"FW!!");
        assert!(notify.is_some_and(|n| n.accepted()));
        assert_eq!(attempt.into_partial(), Partial::new(), "nothing left over");
    }

    #[test]
    fn an_input_out_of_turn_ends_the_attempt() {
        let mut faults = Faults::default();
        let request = DownloadRequest::new("http://h/fw.bin", DeviceLimits::default());
        let mut attempt = DownloadAttempt::new(request, Partial::new());
        let early = attempt.step(DownloadInput::Posted(Ok(200)), &mut faults);
        let DownloadAction::Done(outcome) = early else {
            panic!("a POST answer before the start: {early:?}");
        };
        let DownloadOutcome::Failed { cause, .. } = *outcome else {
            panic!("a POST answer before the start fails the attempt: {outcome:?}");
        };
        assert!(matches!(cause, DownloadFailure::Transport(_)), "{cause}");
        let again = attempt.step(DownloadInput::Start, &mut faults);
        assert!(
            matches!(&again, DownloadAction::Done(o) if o.failure().is_some()),
            "an attempt that is over stays over: {again:?}"
        );
    }

    #[test]
    fn every_failure_is_a_reachable_outcome_with_its_oma_dl_status() {
        use DownloadFailure::*;
        let cases = [
            (AuthenticationFailed, 954),
            (Forbidden, 954),
            (NotFound, 954),
            (ServerError(500), 954),
            (ServerUnavailable, 954),
            (Timeout, 903),
            (ConnectionLost { received: 1 }, 903),
            (
                InvalidDdVersion {
                    version: "2".into(),
                },
                951,
            ),
            (
                InsufficientStorage {
                    needed: None,
                    free: 0,
                },
                901,
            ),
            (NonAcceptableContent { types: vec![] }, 953),
            (
                SizeMismatch {
                    expected: 1,
                    received: 2,
                },
                905,
            ),
            (UserRejected, 902),
            (UserCancelled, 902),
            (DeviceAborted, 952),
            (
                ObjectChanged {
                    held: "etag \"a\"".into(),
                    got: "etag \"b\"".into(),
                },
                954,
            ),
        ];
        let oma = profile::builtin("oma").expect("built in");
        for (failure, code) in cases {
            assert!(failure.key().is_reachable(), "{failure}");
            assert_eq!(oma.dl_status(failure.key()).code(), code, "{failure}");
        }
        assert_eq!(DownloadFailure::from_status(502), ServerError(502));
        assert_eq!(DownloadFailure::from_status(410), UnexpectedStatus(410));
    }

    fn tagged(status: u16, body: &[u8], etag: &str) -> ContentResponse {
        let mut r = ContentResponse::new(status, Some("application/octet-stream"), body.to_vec());
        r.etag = Some(etag.into());
        r
    }

    /// The first part's `ETag` is kept with the bytes; a resumed part of another version fails the
    /// download and drops them, one of the same version completes it.
    #[test]
    fn a_resumed_part_of_another_version_is_refused() {
        let mut faults = Faults::default();
        let request = DownloadRequest::new("http://h/item.bin", DeviceLimits::default());
        let mut attempt = DownloadAttempt::new(request.clone(), Partial::new());
        attempt.step(DownloadInput::Start, &mut faults);
        let mut cut = tagged(200, b"AB", "\"v1\"");
        cut.content_length = Some(4);
        cut.end = BodyEnd::ConnectionLost;
        let done = attempt.step(DownloadInput::Fetched(Ok(cut)), &mut faults);
        assert!(
            matches!(&done, DownloadAction::Done(o) if matches!(o.failure(), Some(DownloadFailure::ConnectionLost { received: 2 }))),
            "{done:?}"
        );
        let held = attempt.into_partial();
        assert_eq!(held.validator.as_deref(), Some("etag \"v1\""));

        let resume = |held: Partial, etag: &str| {
            let mut faults = Faults::default();
            let mut attempt = DownloadAttempt::new(request.clone(), held);
            assert_eq!(
                attempt.step(DownloadInput::Start, &mut faults),
                get("http://h/item.bin", Some(2))
            );
            let mut rest = tagged(206, b"CD", etag);
            rest.content_range_start = Some(2);
            let DownloadAction::Done(outcome) =
                attempt.step(DownloadInput::Fetched(Ok(rest)), &mut faults)
            else {
                panic!("a direct download ends with its object");
            };
            (*outcome, attempt.into_partial())
        };
        let (outcome, left) = resume(held.clone(), "\"v2\"");
        assert_eq!(
            outcome.failure(),
            Some(&DownloadFailure::ObjectChanged {
                held: "etag \"v1\"".into(),
                got: "etag \"v2\"".into(),
            })
        );
        assert!(left.bytes.is_empty() && left.validator.is_none());
        assert!(!outcome.failure().is_some_and(DownloadFailure::is_resumable));
        let (outcome, _) = resume(held, "\"v1\"");
        assert!(
            matches!(&outcome, DownloadOutcome::Downloaded { bytes, .. } if bytes == b"ABCD"),
            "{outcome:?}"
        );
    }

    /// A document is read as it comes: a descriptor is not followed, nothing held is resumed, the
    /// free storage for objects does not count, and the fault points of an object download do not
    /// fire.
    #[test]
    fn a_document_is_read_whole_without_prompts_or_transfer_faults() {
        use crate::faults::{FaultPlan, FaultRule, Trigger};
        let rule = |point, effect| FaultRule {
            point,
            effect,
            trigger: Trigger::Always,
        };
        let mut faults = FaultPlan::new(vec![
            rule(FaultPoint::DownloadUserConfirm, FaultEffect::UserReject),
            rule(FaultPoint::DownloadTransfer, FaultEffect::DeviceAbort),
            rule(
                FaultPoint::DownloadStorageCheck,
                FaultEffect::StorageInsufficient,
            ),
        ])
        .for_device(1);
        let little_room = DeviceLimits {
            free_storage: 1,
            accepted_types: Vec::new(),
        };
        let request = DownloadRequest::new("http://h/item.dd", little_room).as_document();
        let mut held = Partial::new();
        held.url = "http://h/item.dd".into();
        held.bytes = b"<me".to_vec();
        let mut attempt = DownloadAttempt::new(request, held);
        assert_eq!(
            attempt.step(DownloadInput::Start, &mut faults),
            get("http://h/item.dd", None),
            "a document is fetched whole"
        );
        let dd = ContentResponse::new(200, Some(DD_CONTENT_TYPE), b"<media/>".to_vec());
        let DownloadAction::Done(outcome) =
            attempt.step(DownloadInput::Fetched(Ok(dd)), &mut faults)
        else {
            panic!("a document is one GET");
        };
        assert!(
            matches!(&*outcome, DownloadOutcome::Downloaded { bytes, descriptor: None, .. } if bytes == b"<media/>"),
            "{outcome:?}"
        );
        assert_eq!(faults.fired(), [0, 0, 0]);
    }
}
