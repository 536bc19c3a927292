//! The async driver: feeds a [`ClientSession`] its server's answers over a [`Transport`].
//!
//! Waiting for the simulated user goes through `tokio::time::sleep`, so under paused tokio time
//! (tests, scenario runs) a prompt that times out after 60 s costs nothing.

use super::client::{ClientSession, SessionEnd, SessionStart, Step};
use super::violation::Violation;
use crate::device::Device;
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
            (Err(e), None) => Step::Done(SessionEnd::Failed {
                reason: e.to_string(),
            }),
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
    SessionReport {
        session_id: session.session_id().to_string(),
        end,
        transcript,
        violations: session.violations().to_vec(),
        acknowledged: session.acknowledged().to_vec(),
    }
}
