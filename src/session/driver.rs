//! The async driver: feeds a [`ClientSession`] its server's answers over a [`Transport`].
//!
//! Waiting for the simulated user goes through `tokio::time::sleep`, so under paused tokio time
//! (tests, scenario runs) a prompt that times out after 60 s costs nothing.
//!
//! When a session is over the driver tells the device how it ended ([`Device::session_ended`]),
//! so its agents hear of a session that failed before it got through: the server kept refusing
//! its credentials, or failed (both the session's to tell: [`ClientSession::failure`]), or an
//! exchange failed in a way that names the server ([`exchange_failure`]: it did not answer in
//! time, or answered HTTP 5xx).

use super::client::{ClientSession, SessionEnd, SessionStart, Step};
use super::violation::Violation;
use crate::device::{Device, SessionFailure};
use crate::protocol::http::{HttpRequest, HttpResponse};
use crate::syncml::Status;
use crate::transport::{Transport, TransportError};

/// One request and what came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    pub request: HttpRequest,
    pub response: Result<HttpResponse, TransportError>,
}

/// Everything a finished session leaves behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionReport {
    pub session_id: String,
    pub end: SessionEnd,
    /// Every message exchanged, in order (empty unless a transcript was asked for).
    pub transcript: Vec<Exchange>,
    pub violations: Vec<Violation>,
    /// Statuses the server sent for the device's own commands.
    pub acknowledged: Vec<Status>,
}

impl SessionReport {
    /// The report of a session that never started.
    pub fn not_started(end: SessionEnd) -> SessionReport {
        SessionReport {
            session_id: String::new(),
            end,
            transcript: Vec::new(),
            violations: Vec::new(),
            acknowledged: Vec::new(),
        }
    }
}

/// How the driver spends the simulated time a device takes (user prompts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pace {
    /// Wait with `tokio::time::sleep`: free under paused time, real time otherwise.
    #[default]
    Sleep,
    /// Do not wait (the device's own clock still advances): for runs over real sockets, where
    /// tokio time cannot be paused but a scenario should not take minutes.
    Skip,
}

/// Options of [`run_session_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DriverOptions {
    /// Keep every exchanged message in the report.
    pub keep_transcript: bool,
    pub pace: Pace,
}

/// Run one session of `device` to its end.
pub async fn run_session<T: Transport>(
    transport: &T,
    device: &mut Device,
    start: SessionStart,
    keep_transcript: bool,
) -> SessionReport {
    let options = DriverOptions {
        keep_transcript,
        pace: Pace::Sleep,
    };
    run_session_with(transport, device, start, options).await
}

/// Run one session of `device` to its end, with explicit options.
pub async fn run_session_with<T: Transport>(
    transport: &T,
    device: &mut Device,
    start: SessionStart,
    options: DriverOptions,
) -> SessionReport {
    run_session_watched(transport, device, start, options, |_, _| {}).await
}

/// Run one session of `device` to its end, calling `watch` after each exchange, once the device
/// has read the answer: with the exchange, and the rules the server broke in that answer (for
/// showing them as the session goes, right after the message they concern).
pub async fn run_session_watched<T: Transport, W: FnMut(&Exchange, &[Violation])>(
    transport: &T,
    device: &mut Device,
    start: SessionStart,
    options: DriverOptions,
    mut watch: W,
) -> SessionReport {
    let keep_transcript = options.keep_transcript;
    let mut transcript = Vec::new();
    let (mut session, first) = match ClientSession::start(device, start) {
        Ok(s) => s,
        Err(e) => {
            return SessionReport {
                session_id: String::new(),
                end: SessionEnd::Failed {
                    reason: e.to_string(),
                },
                transcript,
                violations: Vec::new(),
                acknowledged: Vec::new(),
            }
        }
    };
    let mut step = Step::Send(first);
    let mut failure = None;
    let end = loop {
        let (outgoing, then) = match step {
            Step::Done(end) => break end,
            Step::Send(o) => (o, None),
            Step::SendAndEnd(o, end) => (o, Some(end)),
        };
        if !outgoing.delay.is_zero() && options.pace == Pace::Sleep {
            tokio::time::sleep(outgoing.delay).await;
        }
        let result = transport.exchange(outgoing.request.clone()).await;
        let known = session.violations().len();
        let next = match (&result, then) {
            (_, Some(end)) => Step::Done(end),
            (Ok(response), None) => session.receive(device, response),
            (Err(e), None) => {
                failure = exchange_failure(e);
                Step::Done(SessionEnd::Failed {
                    reason: e.to_string(),
                })
            }
        };
        let exchange = Exchange {
            request: outgoing.request,
            response: result,
        };
        watch(
            &exchange,
            session.violations().get(known..).unwrap_or_default(),
        );
        if keep_transcript {
            transcript.push(exchange);
        }
        step = next;
    };
    let failure = failure.or(session.failure());
    device.session_ended(failure.map(|f| (f, end.to_string())));
    SessionReport {
        session_id: session.session_id().to_string(),
        end,
        transcript,
        violations: session.violations().to_vec(),
        acknowledged: session.acknowledged().to_vec(),
    }
}

/// How a failed exchange ended the session, when it names the server: it did not answer before
/// the transport's timeout, or it failed (HTTP 5xx; but 503 Service Unavailable, which says it is
/// away rather than failed). Other failures (unreachable, TLS, a content type that is not SyncML)
/// are not the server's failure in a session.
pub fn exchange_failure(error: &TransportError) -> Option<SessionFailure> {
    match error {
        TransportError::Timeout(_) => Some(SessionFailure::TimedOut),
        TransportError::Http { status, .. } if (500..600).contains(status) && *status != 503 => {
            Some(SessionFailure::ServerError)
        }
        _ => None,
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn only_timeouts_and_server_failures_name_the_server() {
        let http = |status| TransportError::Http {
            status,
            reason: String::new(),
        };
        assert_eq!(
            exchange_failure(&TransportError::Timeout(60_000)),
            Some(SessionFailure::TimedOut)
        );
        assert_eq!(
            exchange_failure(&http(500)),
            Some(SessionFailure::ServerError)
        );
        assert_eq!(
            exchange_failure(&http(502)),
            Some(SessionFailure::ServerError)
        );
        assert_eq!(exchange_failure(&http(503)), None);
        assert_eq!(exchange_failure(&http(404)), None);
        assert_eq!(
            exchange_failure(&TransportError::Unreachable("dm.example".into())),
            None
        );
    }
}
