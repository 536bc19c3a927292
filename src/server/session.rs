//! One device session on the mock server: authentication, the next package of the script, and the
//! record of what the device sent.
//!
//! Server behaviour, following reference §1.1, §1.6 and §2:
//! * a request is read by its Content-Type, never by guessing from its bytes (DM Representation
//!   Protocol, "OMA Device Management Usage": one of the two DM MIME types MUST identify a DM
//!   message; the data-sync types `application/vnd.syncml+xml|wbxml` are read too). A type that is
//!   not SyncML, or a body in the other encoding than its type (XML labelled WBXML, WBXML labelled
//!   XML), is answered HTTP 415; a body that does not decode under its type, 400. Such a request
//!   cannot be tied to a session, so it is kept as a violation in the server's
//!   [`RefusedRequests`](super::RefusedRequests);
//! * the server answers in the encoding it was spoken to, with that encoding's DM Content-Type; its
//!   HMAC is over the bytes of the answer, and a package is split by the size of the messages in
//!   that encoding;
//! * the device's credentials are checked until accepted (212 for basic and MD5, with a Chal carrying
//!   the nonce for the next session; 200 and a fresh nonce in every message for HMAC); missing → 407,
//!   wrong → 401, each with a Chal (DM Protocol §2.4.1; DM Security §5.1.3.3: a failure gets one
//!   more challenge with a new nonce). dmsim allows [`MAX_AUTH_ATTEMPTS`] failures in a session:
//!   the last one's reply also carries Alert 1223 (reference §1.6, §1.7), and the session is over
//!   for good. Every later message of it gets the same answer (401, or 407 without credentials,
//!   with a Chal as every refusal must have, a refusal Status for each command, Alert 1223 and
//!   Final), whatever credentials it carries;
//! * a session is (device, SessionID); only a message with MsgID 1 that opens a session (Alert
//!   1200 or 1201) starts a new one on the key of a session that ended (a device that restarted
//!   its SessionID counter, e.g. a fresh client against a long-running `dmsim serve`). A Package 1
//!   sent again in the session, as after a 401 (MsgID 2, 3, …), stays in it (reference §1.6:
//!   "same SessionID, next MsgID");
//! * every device command gets a Status (200), except Status and Results;
//! * each authenticated client message that is not an abort gets the next package of the script
//!   for this session (a package's `session`: the device's first by default, the Nth, or every
//!   one, counting the device's sessions from the first it passed authentication in; see
//!   [`super::SessionChoice`]); when they are done, the server's [`Operator`] (if it has one) is
//!   asked for more, package by package ([`super::operator`]); when there are no more, a reply
//!   with no commands ends the session;
//! * a device that refuses the server's credentials (401/407 on the server's SyncHdr) gets the
//!   commands of the message it refused again, ahead of the rest of the package, this time with
//!   credentials computed on the device's new nonce; when that message had no commands (the
//!   server had refused the device, which then refuses the server in its Package 1 sent again),
//!   the package that was due goes once the device passes;
//! * the nonce of a Chal the device sends, on whatever status (401 and 407, but also 200 and 212
//!   when it accepts the server and gives it a fresh nonce), is the nonce of the server's next
//!   credentials (DM Protocol §2.4.1, reference §2.3); from a device authenticated in that
//!   message it is also kept for the device's next session (DM Security §5.1.3.4: not from one
//!   that is not).
//!
//! Every device message is checked against the protocol's rules ([`super::check`], and here the
//! MsgID sequence and a Status for every command by the device's Final, except in an abort, which
//! carries only the Statuses already produced: reference §1.6); each breach is recorded in
//! [`SessionRecord::violations`].

use super::check::{self, SentRef};
use super::faults::{Answer, SessionFault, SessionFaultKind};
use super::operator::Operator;
use super::quirks;
use super::record::{
    DeviceViolation, ReceivedAlert, ReceivedStatus, Rule, ServerExchange, SessionRecord,
};
use super::sessions::DEFAULT_KEPT_SESSIONS;
use super::{ScriptCommand, SendCredentials, ServerConfig, State};
use crate::protocol::fumo;
use crate::protocol::http::{HttpRequest, HttpResponse};
use crate::syncml::auth::{self, AuthType, HmacHeader, NonceSource, MAX_AUTH_ATTEMPTS};
use crate::syncml::large_object::{self, Chunk};
use crate::syncml::outbox::{Outbox, PeerLimits};
use crate::syncml::{
    decode_labelled, Alert, AlertCode, Chal, CmdName, Command, Data, Encoding, LabelError,
    Location, Meta, Status, StatusCode, SyncBody, SyncHdr, SyncMl, CONTENT_TYPE_WBXML,
    CONTENT_TYPE_XML, VER_DTD, VER_PROTO,
};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

/// How the server's answer goes on after its Statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Then {
    /// Send as much of the package as fits; Final when it is all sent.
    Package,
    /// The device's package goes on: Alert 1222 and no Final.
    AskNext,
    /// Only the Statuses, with Final (refused credentials, abort, session over).
    Close,
}

/// The server's state for one device session.
pub(super) struct ServerSession {
    pub(super) record: SessionRecord,
    next_msg_id: u32,
    /// The MsgID of the server's last message in this session.
    last_msg_sent: Option<String>,
    next_package: usize,
    /// The device challenged the server's credentials at least once.
    challenged: bool,
    /// The nonce the device wants the server's next credentials to use.
    server_nonce: Vec<u8>,
    /// Management commands of the last message as sent: each needs a Status from the device, and
    /// they go again after a device challenge.
    last_sent: Vec<Command>,
    /// MsgID of the device's last message.
    last_client_msg: Option<u64>,
    /// Commands sent that the device has not answered yet: (server MsgID, CmdID, name).
    unanswered: Vec<(String, String, String)>,
    /// The rest of the server's current package.
    outbox: Outbox,
    /// The device's MaxMsgSize (0: not given).
    device_max_msg: usize,
    /// The device's MaxObjSize, when it gave one: it takes large objects up to that size.
    device_max_obj: Option<u64>,
    /// A large object (Results) the device is sending.
    incoming: Option<large_object::Pending>,
    /// Commands the server sent as chunks with MoreData: each is due a 213.
    chunks_sent: HashSet<SentRef>,
    /// Which of the device's sessions on this server this is, from 1 (failed ones counted: the
    /// session faults' count).
    attempt: u32,
    /// Device messages received in this session.
    messages: u32,
}

pub(super) fn handle(
    config: &ServerConfig,
    state: &mut State,
    operator: Option<&dyn Operator>,
    request: &HttpRequest,
) -> Answer {
    let (encoding, msg) = match decode_labelled(&request.content_type, &request.body) {
        Ok(read) => read,
        Err(e) => {
            return Answer {
                response: refuse(state, request, &e),
                delay: None,
            }
        }
    };
    let device = msg.hdr.source.loc_uri.clone();
    let key = (device.clone(), msg.hdr.session_id.clone());
    // A Package 1 with MsgID 1 on the key of a session that ended opens a new session (see the
    // module docs); a Package 1 sent again within the session stays in it.
    let reopens = |id| {
        state.sessions.get(id).is_some_and(|s| s.record.ended)
            && opens_session(&msg)
            && first_message(&msg)
    };
    let index = match state.sessions.find(&key) {
        Some(id) if !reopens(id) => id,
        _ => {
            // The nonce the device gave in an earlier session, else the configured one.
            let server_nonce = state
                .server_nonces
                .get(&key.0)
                .cloned()
                .or_else(|| config.credentials.as_ref().map(|c| c.nonce.clone()))
                .unwrap_or_default();
            let mut session = ServerSession::new(&key.0, &key.1, server_nonce);
            let attempts = state.attempts_of.entry(key.0.clone()).or_insert(0);
            *attempts = attempts.saturating_add(1);
            session.attempt = *attempts;
            let keep = config.keep_sessions.unwrap_or(DEFAULT_KEPT_SESSIONS);
            state.sessions.open(key, session, keep)
        }
    };
    let State {
        sessions,
        sessions_of,
        client_nonces,
        server_nonces,
        nonces,
        refusals_left,
        faults_fired,
        ..
    } = state;
    // Opened or found just now, so kept (the bound keeps at least one session).
    let Some(session) = sessions.get_mut(index) else {
        tracing::error!(device, "mock server: a session it had just opened is gone");
        return Answer {
            response: text_response(500, "the session is not kept"),
            delay: None,
        };
    };
    session.messages = session.messages.saturating_add(1);
    let mut faults = Faults::of(config, session, faults_fired);
    if let Some(status) = faults.http_status() {
        // The server failed: it checks the message as always, keeps nothing of it, and answers
        // no SyncML.
        session.check_device(config, &msg, request.body.len());
        session.record.ended = true;
        let response = text_response(status, "the DM server failed to process the message");
        session.keep_exchange(config, request, &response);
        return Answer {
            response,
            delay: None,
        };
    }
    let (hdr_code, chal) = match faults.hdr_status() {
        // It could not process the message: it did not authenticate the device either.
        Some(code) => {
            session.record.ended = true;
            (code, None)
        }
        None => authenticate(
            config,
            session,
            (client_nonces, nonces),
            (&msg, request),
            &mut faults,
        ),
    };
    if hdr_code.is_success() && session.record.ordinal == 0 {
        // The device's sessions count from the first it passed authentication in: the script's
        // packages go by that count (`SessionChoice`).
        let count = sessions_of.entry(device.clone()).or_insert(0);
        *count = count.saturating_add(1);
        session.record.ordinal = *count;
    }
    session.check_device(config, &msg, request.body.len());
    if let Some(nonce) = session.take_device_nonce(&msg) {
        // Used for the server's next credentials whoever sent it; kept for later sessions only
        // when the device is authenticated (DM Security §5.1.3.4: a nonce from an agent not
        // authenticated must not overwrite the stored one).
        if hdr_code.is_success() {
            server_nonces.insert(device, nonce);
        }
    }
    let owed = session.record_commands(config, &msg);
    let operator = operator.map(|o| (o, msg.hdr.source.loc_uri.as_str()));
    if let (Some((o, device)), true) = (operator, hdr_code.is_success()) {
        o.received(device, session.record.ordinal, &msg);
    }
    let body = session.next_body(
        (config, operator),
        &msg,
        (hdr_code, chal),
        owed,
        refusals_left,
    );
    let response = session.respond(config, &msg, body, encoding);
    session.keep_exchange(config, request, &response);
    Answer {
        response,
        delay: faults.delay(),
    }
}

/// A plain-text HTTP answer.
fn text_response(status: u16, text: &str) -> HttpResponse {
    HttpResponse {
        status,
        content_type: "text/plain; charset=utf-8".to_string(),
        hmac: None,
        body: format!("{text}\n").into_bytes(),
    }
}

/// The session faults that apply to the message being answered, counting each that changes the
/// answer ([`super::faults`]).
struct Faults<'a> {
    due: Vec<(usize, SessionFault)>,
    fired: &'a mut Vec<u32>,
}

impl<'a> Faults<'a> {
    fn of(config: &ServerConfig, session: &ServerSession, fired: &'a mut Vec<u32>) -> Faults<'a> {
        let due = config
            .session_faults
            .iter()
            .copied()
            .enumerate()
            .filter(|(_, f)| f.applies(session.attempt, session.messages))
            .collect();
        Faults { due, fired }
    }

    /// The first due fault `pick` keeps, counted as fired.
    fn take<T>(&mut self, pick: impl Fn(SessionFaultKind) -> Option<T>) -> Option<T> {
        let (index, value) = self
            .due
            .iter()
            .find_map(|&(i, f)| pick(f.kind).map(|v| (i, v)))?;
        if let Some(count) = self.fired.get_mut(index) {
            *count = count.saturating_add(1);
        }
        Some(value)
    }

    fn http_status(&mut self) -> Option<u16> {
        self.take(|k| match k {
            SessionFaultKind::HttpStatus(s) => Some(s),
            _ => None,
        })
    }

    fn hdr_status(&mut self) -> Option<StatusCode> {
        self.take(|k| match k {
            SessionFaultKind::HdrStatus(code) => Some(code),
            _ => None,
        })
    }

    /// Whether the device's credentials are to be refused (counted only when asked, which is
    /// when they would have been accepted).
    fn refuse_credentials(&mut self) -> bool {
        self.take(|k| (k == SessionFaultKind::RefuseCredentials).then_some(()))
            .is_some()
    }

    fn delay(&mut self) -> Option<std::time::Duration> {
        self.take(|k| match k {
            SessionFaultKind::Slow(d) => Some(d),
            _ => None,
        })
    }
}

/// Refuse a request whose body cannot be read as its Content-Type says, and keep it as a
/// violation (it cannot be tied to a session: its SessionID is in the body). A wrong or non-SyncML
/// type, or a body in the other encoding, is 415 Unsupported Media Type, with the text the network
/// front end gives; a body that does not decode under its right type is 400.
fn refuse(state: &mut State, request: &HttpRequest, error: &LabelError) -> HttpResponse {
    let (status, body) = match error {
        LabelError::NotSyncMl(t) => (
            415,
            format!(
                "unsupported content type {t:?}: use {CONTENT_TYPE_XML} or {CONTENT_TYPE_WBXML}"
            ),
        ),
        LabelError::Mismatch { .. } => (415, format!("unsupported media type: {error}")),
        LabelError::Malformed(e) => (400, format!("cannot decode SyncML message: {e}")),
    };
    tracing::warn!(url = %request.url, content_type = %request.content_type, status, error = %error, "mock server: refused a device message");
    state.refused.push(format!(
        "a message to {} was refused with HTTP {status}: {error}",
        request.url
    ));
    HttpResponse {
        status,
        content_type: "text/plain; charset=utf-8".to_string(),
        hmac: None,
        body: format!("{body}\n").into_bytes(),
    }
}

/// Check the device's credentials: the Status for its SyncHdr, and a Chal when one is due. A
/// `refuse-credentials` fault refuses credentials that would have been accepted.
fn authenticate(
    config: &ServerConfig,
    session: &mut ServerSession,
    (client_nonces, nonces): (&mut HashMap<String, Vec<u8>>, &mut NonceSource),
    (msg, request): (&SyncMl, &HttpRequest),
    faults: &mut Faults<'_>,
) -> (StatusCode, Option<Chal>) {
    let Some(policy) = &config.client_auth else {
        return (StatusCode::Ok, None);
    };
    let device = msg.hdr.source.loc_uri.clone();
    if policy.kind != AuthType::Hmac && session.record.client_authenticated {
        return (StatusCode::Ok, None);
    }
    // After the failures allowed, the session is over for good: nothing is accepted any more.
    let over = session.record.auth_failures >= MAX_AUTH_ATTEMPTS;
    let nonce = client_nonces
        .get(&device)
        .cloned()
        .unwrap_or_else(|| policy.nonce.clone());
    let verdict = match policy.kind {
        AuthType::Hmac => match request.hmac.as_deref() {
            None => Err(StatusCode::MissingCredentials),
            Some(h) => HmacHeader::parse(h)
                .and_then(|h| auth::check_hmac(&h, &policy.secret, &nonce, &request.body))
                .map_err(|_| StatusCode::InvalidCredentials),
        },
        kind => match &msg.hdr.cred {
            None => Err(StatusCode::MissingCredentials),
            Some(cred) => auth::check_cred(cred, kind, &policy.secret, &nonce)
                .map_err(|_| StatusCode::InvalidCredentials),
        },
    };
    let verdict = match verdict {
        Ok(()) if over || faults.refuse_credentials() => Err(StatusCode::InvalidCredentials),
        v => v,
    };
    let next_nonce = nonces.next();
    let chal = auth::challenge(policy.kind, &next_nonce);
    client_nonces.insert(device, next_nonce);
    match verdict {
        Ok(()) => {
            session.record.client_authenticated = true;
            let code = if policy.kind == AuthType::Hmac {
                StatusCode::Ok
            } else {
                StatusCode::AuthAccepted
            };
            (code, Some(chal))
        }
        Err(code) => {
            session.record.auth_failures = session.record.auth_failures.saturating_add(1);
            (code, Some(chal))
        }
    }
}

impl ServerSession {
    pub(super) fn new(device: &str, session_id: &str, server_nonce: Vec<u8>) -> ServerSession {
        ServerSession {
            record: SessionRecord {
                device: device.to_string(),
                session_id: session_id.to_string(),
                ..SessionRecord::default()
            },
            next_msg_id: 1,
            last_msg_sent: None,
            next_package: 0,
            challenged: false,
            server_nonce,
            last_sent: Vec::new(),
            last_client_msg: None,
            unanswered: Vec::new(),
            outbox: Outbox::default(),
            device_max_msg: 0,
            device_max_obj: None,
            incoming: None,
            chunks_sent: HashSet::new(),
            attempt: 0,
            messages: 0,
        }
    }

    /// Keep the exchange in the record, when the server keeps them.
    fn keep_exchange(
        &mut self,
        config: &ServerConfig,
        request: &HttpRequest,
        response: &HttpResponse,
    ) {
        if config.keep_exchanges {
            let record = &mut self.record;
            SessionRecord::keep(
                &mut record.exchanges,
                ServerExchange {
                    request: request.clone(),
                    response: response.clone(),
                },
                &mut record.unrecorded,
            );
        }
    }

    /// Whether the server has sent this session a message, and with it its MaxMsgSize and
    /// MaxObjSize (they go in the SyncHdr of every server message).
    fn announced(&self) -> bool {
        self.next_msg_id > 1
    }

    /// Check the device's message against the rules a server can see: MsgIDs count up by one,
    /// every command of the server's package has a Status by the device's Final, and the rules of
    /// [`check`] (sizes against the limits the server announced, status codes, `chr` data).
    /// `size` is the message's size as received.
    /// A chunk the device refused (413 over its MaxObjSize, or any other error) ends that large
    /// object: the chunks left are not sent (DM Protocol §2.2). Answered chunks are forgotten, so
    /// the record of chunks in flight stays small.
    fn stop_refused_objects(&mut self, msg: &SyncMl) {
        for cmd in &msg.body.commands {
            let Command::Status(s) = cmd else { continue };
            let sent = (s.msg_ref.clone(), s.cmd_ref.clone());
            if self.chunks_sent.remove(&sent) && !s.code.is_success() {
                tracing::debug!(device = %self.record.device, code = s.code.code(), "the device refused a chunk: the object is not sent further");
                self.outbox.abandon_object();
            }
        }
    }

    fn check_device(&mut self, config: &ServerConfig, msg: &SyncMl, size: usize) {
        match (msg.hdr.msg_id.trim().parse::<u64>(), self.last_client_msg) {
            (Ok(id), Some(last)) if Some(id) != last.checked_add(1) => self.violation(
                Rule::MsgId,
                msg,
                format!("MsgID {id} does not follow {last}"),
            ),
            (Err(_), _) => self.violation(
                Rule::MsgId,
                msg,
                format!("MsgID {:?} is not a number", msg.hdr.msg_id),
            ),
            _ => {}
        }
        self.last_client_msg = msg.hdr.msg_id.trim().parse().ok().or(self.last_client_msg);
        let mut found = Vec::new();
        if self.announced() {
            found.extend(
                config
                    .max_msg_size
                    .and_then(|max| check::max_msg_size(msg, size, max)),
            );
            if let Some(max) = config.max_obj_size {
                found.extend(check::whole_objects(msg, max));
            }
        }
        found.extend(check::statuses(msg, &self.chunks_sent));
        self.stop_refused_objects(msg);
        found.extend(check::chr_data(msg));
        found.extend(check::hdr_status(msg, self.last_msg_sent.as_deref()));
        for v in found {
            self.record_violation(v);
        }
        self.unanswered.retain(|(m, c, _)| {
            !msg.body
                .commands
                .iter()
                .any(|r| matches!(r, Command::Status(s) if s.cmd_ref == *c && s.msg_ref == *m))
        });
        // Statuses may come in later messages of the device's package; by its Final all are due,
        // unless it aborts the session (reference §1.6: an abort carries the Statuses already
        // produced).
        if msg.body.final_flag && !self.unanswered.is_empty() {
            let missing: Vec<String> = self
                .unanswered
                .drain(..)
                .map(|(m, c, name)| format!("{name} {c} of server message {m}"))
                .collect();
            if !msg.body.commands.iter().any(is_abort) {
                self.violation(
                    Rule::MissingStatus,
                    msg,
                    format!("no Status for {}", missing.join(", ")),
                );
            }
        }
    }

    /// A breach of the whole message.
    fn violation(&mut self, rule: Rule, msg: &SyncMl, detail: String) {
        self.record_violation(DeviceViolation {
            rule,
            msg_id: msg.hdr.msg_id.clone(),
            cmd_id: None,
            detail,
        });
    }

    fn record_violation(&mut self, v: DeviceViolation) {
        tracing::debug!(device = %self.record.device, violation = %v, "device protocol violation");
        let record = &mut self.record;
        SessionRecord::keep(&mut record.violations, v, &mut record.unrecorded);
    }

    /// Keep the items of a whole Results.
    fn keep_results(&mut self, items: &[crate::syncml::Item]) {
        let record = &mut self.record;
        for item in items {
            SessionRecord::keep(&mut record.results, item.clone(), &mut record.unrecorded);
        }
    }

    /// Keep what the device sent; the Statuses owed for Results chunks (213, 424, 413) and the
    /// Alert 1225 for an object that never ended come back to go in the reply.
    fn record_commands(&mut self, config: &ServerConfig, msg: &SyncMl) -> Vec<Command> {
        let mut owed = Vec::new();
        let starts = opens_session(msg);
        for cmd in &msg.body.commands {
            match cmd {
                Command::Status(s) => {
                    let status = ReceivedStatus {
                        cmd: s.cmd.clone(),
                        cmd_ref: s.cmd_ref.clone(),
                        msg_ref: s.msg_ref.clone(),
                        code: s.code,
                        target_ref: s.target_refs.first().cloned(),
                        source_ref: s.source_refs.first().cloned(),
                        items: s.items.clone(),
                    };
                    let record = &mut self.record;
                    SessionRecord::keep(&mut record.statuses, status, &mut record.unrecorded);
                }
                Command::Results(_) => self.receive_results(config, msg, cmd, &mut owed),
                Command::Alert(a) => {
                    let alert = ReceivedAlert {
                        code: a.code,
                        correlator: a.correlator.clone(),
                        items: a.items.clone(),
                    };
                    let record = &mut self.record;
                    SessionRecord::keep(&mut record.alerts, alert, &mut record.unrecorded);
                }
                Command::Replace(r) if starts && self.record.devinfo.is_empty() => {
                    self.record.devinfo = r.items.clone();
                }
                _ => {}
            }
        }
        if msg.body.final_flag {
            if let Some(pending) = self.incoming.take() {
                owed.extend(pending.no_end_of_data());
            }
        }
        owed
    }

    /// Results, possibly one chunk of a large object.
    fn receive_results(
        &mut self,
        config: &ServerConfig,
        msg: &SyncMl,
        cmd: &Command,
        owed: &mut Vec<Command>,
    ) {
        let code = loop {
            // A new object refused for its size is a breach of MaxObjSize once the server has
            // announced it (its later chunks are refused without a second record).
            let same_object = self
                .incoming
                .as_ref()
                .filter(|p| cmd.items().first().and_then(|i| i.source_uri()) == Some(p.uri()));
            let continues_refused = same_object.is_some_and(|p| p.is_refused());
            let before = same_object.map_or(0, large_object::Pending::received);
            match large_object::feed(&mut self.incoming, cmd, config.max_obj_size) {
                Chunk::Whole => self.keep_results(cmd.items()),
                Chunk::Complete(whole) => self.keep_results(whole.items()),
                Chunk::Buffered => break Some(StatusCode::ChunkAccepted),
                Chunk::SizeMismatch => break Some(StatusCode::SizeMismatch),
                Chunk::TooLarge => {
                    if let (false, true, Some(max), Some(item)) = (
                        continues_refused,
                        self.announced(),
                        config.max_obj_size,
                        cmd.items().first(),
                    ) {
                        let len = item.data.as_ref().map_or(0, |d| d.as_bytes().len()) as u64;
                        let declared = item.meta.as_ref().and_then(|m| m.size).unwrap_or(0);
                        let size = before.saturating_add(len).max(declared);
                        let v = check::object_too_large(msg, cmd, item, size, max);
                        self.record_violation(v);
                    }
                    break Some(StatusCode::RequestEntityTooLarge);
                }
                Chunk::Abandoned(pending) => {
                    owed.extend(pending.no_end_of_data());
                    continue;
                }
            }
            break None;
        };
        if let Some(code) = code {
            owed.push(Command::Status(Status::for_command(
                &msg.hdr.msg_id,
                cmd,
                code,
            )));
        }
    }

    /// The server's answer: its commands, and whether it ends the server's package (Final).
    fn next_body(
        &mut self,
        (config, operator): (&ServerConfig, Option<(&dyn Operator, &str)>),
        msg: &SyncMl,
        (hdr_code, chal): (StatusCode, Option<Chal>),
        owed: Vec<Command>,
        refusals_left: &mut u32,
    ) -> (Vec<Command>, Then) {
        let mut body = vec![Command::Status(Status::for_header(msg, hdr_code, chal))];
        if Self::device_refused(msg) {
            // The device refused the server's credentials: it ran none of the commands of the
            // message it refused (DM Protocol §2.4.1: a failure reply holds only Statuses). They
            // go again first, before the rest of the package, with credentials on the device's
            // new nonce, once the device itself is authenticated. A refused message that carried
            // no commands (the server's own refusal of the device, which the device answers in
            // its Package 1 sent again) leaves the package that was due to go as it is.
            self.challenged = true;
            let refused = std::mem::take(&mut self.last_sent);
            self.outbox.prepend(
                refused
                    .into_iter()
                    .filter(|c| !is_next_message(c) && !is_abort(c)),
            );
        }
        let answer = if hdr_code.is_success() {
            StatusCode::Ok
        } else {
            hdr_code
        };
        // A device's or user's request for an update: 200 when this session will act on it (its
        // script has packages), 202 when it will not now (reference §5.3).
        let will_act = config
            .packages
            .iter()
            .any(|p| p.session.includes(self.record.ordinal));
        let request_answer = if will_act {
            StatusCode::Ok
        } else {
            StatusCode::Accepted
        };
        body.extend(
            msg.body
                .commands
                .iter()
                .filter(|c| {
                    !matches!(c, Command::Status(_) | Command::Results(_)) && !is_next_message(c)
                })
                .map(|c| {
                    let refused =
                        hdr_code.is_success() && is_generic_alert(c) && *refusals_left > 0;
                    if refused {
                        *refusals_left -= 1;
                    }
                    let code = if refused {
                        StatusCode::CommandFailed
                    } else if hdr_code.is_success() && is_update_request(c) {
                        request_answer
                    } else {
                        answer
                    };
                    Command::Status(Status::for_command(&msg.hdr.msg_id, c, code))
                }),
        );
        if !hdr_code.is_success() {
            // A failure reply holds only Statuses (DM Protocol §2.4.1), and after the failures
            // allowed, Alert 1223: the session is over (see the module docs).
            if self.record.auth_failures >= MAX_AUTH_ATTEMPTS {
                self.record.ended = true;
                body.push(Command::Alert(Alert::bare(AlertCode::SessionAbort)));
            }
            return (body, Then::Close);
        }
        body.extend(owed);
        let aborted = msg
            .body
            .commands
            .iter()
            .any(|c| matches!(c, Command::Alert(a) if a.code == AlertCode::SessionAbort));
        if aborted || self.record.ended {
            self.record.ended = true;
            return (body, Then::Close);
        }
        let asks_next = msg
            .body
            .commands
            .iter()
            .any(|c| matches!(c, Command::Alert(a) if a.code == AlertCode::NextMessage));
        if !msg.body.final_flag && !asks_next {
            // The device's package goes on: ask for its next message.
            body.push(Command::Alert(Alert::bare(AlertCode::NextMessage)));
            return (body, Then::AskNext);
        }
        if self.outbox.is_empty() && !asks_next {
            self.load_next_package(config, operator);
        }
        (body, Then::Package)
    }

    /// Queue the next package of this session's script, or once those are sent, the operator's
    /// (the `operator` module); none left ends the session.
    fn load_next_package(
        &mut self,
        config: &ServerConfig,
        operator: Option<(&dyn Operator, &str)>,
    ) {
        let ordinal = self.record.ordinal;
        let scripted = config
            .packages
            .iter()
            .filter(|p| p.session.includes(ordinal))
            .nth(self.next_package)
            .map(|p| Cow::Borrowed(p.commands.as_slice()));
        let package = scripted.or_else(|| {
            let (operator, device) = operator?;
            operator
                .next_package(device, ordinal)
                .filter(|commands| !commands.is_empty())
                .map(Cow::Owned)
        });
        let Some(commands) = package else {
            self.record.ended = true;
            return;
        };
        // Counts the operator's packages too: past the script's, the script has none to give.
        self.next_package = self.next_package.saturating_add(1);
        self.record.packages_sent = self.record.packages_sent.saturating_add(1);
        let mut id = 1;
        let origin = server_origin(&config.url);
        self.outbox.extend(commands.iter().map(|c| {
            let mut cmd = c.to_command(&mut id);
            expand_server(&mut cmd, &origin);
            cmd
        }));
        if commands.iter().any(|c| matches!(c, ScriptCommand::Abort)) {
            self.record.ended = true;
        }
    }

    /// The nonce of the last Chal in the device's Statuses, on whatever status it came: 401 or
    /// 407 when the device refused the server, but also 200 or 212 when it accepted it and gives
    /// the nonce for the server's next credentials (DM Protocol §2.4.1: "The next nonce in Chal
    /// MUST be used when the next request is sent"; reference §2.3: with HMAC a fresh nonce comes
    /// with every message). It becomes the nonce of the server's next credentials. A NextNonce
    /// that is not base64 (reference §2.4: Format `b64`) is a violation, and the nonce stays.
    fn take_device_nonce(&mut self, msg: &SyncMl) -> Option<Vec<u8>> {
        let mut taken = None;
        for cmd in &msg.body.commands {
            let Command::Status(s) = cmd else { continue };
            let Some(next) = s.chal.as_ref().and_then(|c| c.meta.next_nonce.as_deref()) else {
                continue;
            };
            match auth::decode_nonce(next) {
                Ok(nonce) => taken = Some(nonce),
                Err(e) => self.record_violation(DeviceViolation {
                    rule: Rule::NextNonce,
                    msg_id: msg.hdr.msg_id.clone(),
                    cmd_id: Some(s.cmd_id.clone()),
                    detail: format!("the Chal of the Status for {} {}: {e}", s.cmd, s.cmd_ref),
                }),
            }
        }
        if let Some(nonce) = &taken {
            self.server_nonce = nonce.clone();
        }
        taken
    }

    /// Whether the device refused the server's credentials (401 or 407 on the server's SyncHdr).
    fn device_refused(msg: &SyncMl) -> bool {
        msg.body.commands.iter().any(|c| {
            matches!(c, Command::Status(s) if s.cmd == CmdName::SyncHdr
                && matches!(s.code, StatusCode::InvalidCredentials | StatusCode::MissingCredentials))
        })
    }

    /// Wrap the body in a message with the server's credentials as the policy says, adding as much
    /// of the package as fits the device's MaxMsgSize; Final when the package is done.
    fn respond(
        &mut self,
        config: &ServerConfig,
        msg: &SyncMl,
        (commands, then): (Vec<Command>, Then),
        encoding: Encoding,
    ) -> HttpResponse {
        // The device's limits, in force until it gives others (reference §1.3): a MaxObjSize
        // says it takes large objects.
        if let Some(meta) = msg.hdr.meta.as_ref() {
            if let Some(size) = meta.max_msg_size {
                self.device_max_msg = usize::try_from(size).unwrap_or(usize::MAX);
            }
            if meta.max_obj_size.is_some() {
                self.device_max_obj = meta.max_obj_size;
            }
        }
        let msg_id = quirks::msg_id(&config.quirks, self.next_msg_id);
        self.next_msg_id += 1;
        self.last_msg_sent = Some(msg_id.clone());
        let creds = config.credentials.as_ref().filter(|c| match c.send {
            SendCredentials::Always => true,
            SendCredentials::OnChallenge => self.challenged,
            SendCredentials::Never => false,
        });
        let mut reply = SyncMl {
            hdr: SyncHdr {
                ver_dtd: VER_DTD.to_string(),
                ver_proto: VER_PROTO.to_string(),
                session_id: msg.hdr.session_id.clone(),
                msg_id,
                target: Location::uri(msg.hdr.source.loc_uri.clone()),
                source: Location {
                    loc_uri: config.url.clone(),
                    loc_name: creds.map(|c| c.secret.name.clone()),
                },
                resp_uri: None,
                no_resp: false,
                cred: creds.and_then(|c| auth::make_cred(c.kind, &c.secret, &self.server_nonce)),
                meta: limits_meta(config),
            },
            body: SyncBody {
                commands,
                final_flag: false,
            },
        };
        reply.body.final_flag = match then {
            Then::Package => self.fill(&mut reply, encoding),
            Then::AskNext => false,
            Then::Close => true,
        };
        reply.body.number_commands();
        quirks::renumber(&config.quirks, &mut reply);
        self.chunks_sent.extend(check::chunks_in(&reply));
        self.last_sent = reply
            .body
            .commands
            .iter()
            .filter(|c| !matches!(c, Command::Status(_) | Command::Results(_)))
            .cloned()
            .collect();
        self.unanswered.extend(
            self.last_sent
                .iter()
                .filter(|c| !c.no_resp() && !is_next_message(c) && !is_abort(c))
                .map(|c| {
                    (
                        reply.hdr.msg_id.clone(),
                        c.cmd_id().to_string(),
                        c.name().to_string(),
                    )
                }),
        );
        let body = encoding.encode_with(&reply, quirks::deviations(&config.quirks));
        if self.device_max_msg > 0 && body.len() > self.device_max_msg {
            // Only a reply of Statuses alone can get here (the package is cut to fit).
            tracing::warn!(
                device = %self.record.device,
                size = body.len(),
                max = self.device_max_msg,
                "mock server message over the device's MaxMsgSize"
            );
        }
        let hmac = creds
            .filter(|c| c.kind == AuthType::Hmac)
            .map(|c| HmacHeader::sign(&c.secret, &self.server_nonce, &body).to_string());
        HttpResponse {
            status: 200,
            content_type: encoding.content_type().to_string(),
            hmac,
            body,
        }
    }
}

impl ServerSession {
    /// Fill a reply whose first command is the Status for the device's SyncHdr with the other
    /// Statuses and as much of the package as fits the device's MaxMsgSize (reference §1.3; DM
    /// Protocol §2.1, §2.2: what does not fit goes in the next messages, large items in chunks).
    /// Returns whether the package is done (Final). A command that cannot fit even alone cannot be
    /// sent (a command must fit entirely into one message, DM Protocol §2.1.1): the server aborts
    /// the session with Alert 1223 instead.
    fn fill(&mut self, reply: &mut SyncMl, encoding: Encoding) -> bool {
        let statuses = reply
            .body
            .commands
            .split_off(1.min(reply.body.commands.len()));
        self.outbox.prepend(statuses);
        match self.outbox.fill(
            reply,
            PeerLimits {
                max_msg: self.device_max_msg,
                max_obj: self.device_max_obj,
            },
            &|m| encoding.size(m),
        ) {
            Ok(more) => !more,
            Err(too_big) => {
                tracing::warn!(
                    device = %self.record.device,
                    %too_big,
                    "mock server cannot send its package within the device's MaxMsgSize: aborting"
                );
                self.outbox.clear();
                self.record.ended = true;
                reply
                    .body
                    .commands
                    .push(Command::Alert(Alert::bare(AlertCode::SessionAbort)));
                true
            }
        }
    }
}

/// Alert 1222 asks for the next message of a package: flow control that gets no Status.
fn is_next_message(cmd: &Command) -> bool {
    matches!(cmd, Command::Alert(a) if a.code == AlertCode::NextMessage)
}

/// Alert 1223 ends the session: the device does not answer it (reference §1.6).
fn is_abort(cmd: &Command) -> bool {
    matches!(cmd, Command::Alert(a) if a.code == AlertCode::SessionAbort)
}

fn is_generic_alert(cmd: &Command) -> bool {
    matches!(cmd, Command::Alert(a) if a.code == AlertCode::GenericAlert)
}

/// A Generic Alert in which a device or its user asks for a firmware update.
fn is_update_request(cmd: &Command) -> bool {
    is_generic_alert(cmd)
        && cmd.items().iter().any(|i| {
            i.meta
                .as_ref()
                .and_then(|m| m.type_.as_deref())
                .map(fumo::bare_alert_type)
                .is_some_and(|t| t == fumo::DEVICE_REQUEST || t == fumo::USER_REQUEST)
        })
}

/// MsgID 1: the first message of a session (reference §1.3: MsgIDs count 1, 2, 3…).
fn first_message(msg: &SyncMl) -> bool {
    msg.hdr.msg_id.trim().parse::<u64>() == Ok(1)
}

/// Alert 1200 or 1201: the message is a Package 1.
fn opens_session(msg: &SyncMl) -> bool {
    msg.body.commands.iter().any(|c| {
        matches!(c, Command::Alert(a) if matches!(a.code, AlertCode::ClientInitiatedMgmt | AlertCode::ServerInitiatedMgmt))
    })
}

/// The server's MaxMsgSize and MaxObjSize for its SyncHdr, when configured.
fn limits_meta(config: &ServerConfig) -> Option<Meta> {
    let meta = Meta {
        max_msg_size: config.max_msg_size,
        max_obj_size: config.max_obj_size,
        ..Meta::default()
    };
    (!meta.is_empty()).then_some(meta)
}

/// What `$SERVER` stands for in a script's data: the scheme, host and port of the server's URL.
fn server_origin(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => u.origin().ascii_serialization(),
        Err(_) => url.trim_end_matches('/').to_string(),
    }
}

/// Replace `$SERVER` in the command's item data (e.g. a `PkgURL` of `$SERVER/fw/update.dd`).
fn expand_server(cmd: &mut Command, origin: &str) {
    if let Command::Atomic(c) | Command::Sequence(c) = cmd {
        for member in &mut c.commands {
            expand_server(member, origin);
        }
        return;
    }
    for item in cmd.items_mut() {
        if let Some(Data::Text(text)) = &mut item.data {
            if text.contains("$SERVER") {
                *text = text.replace("$SERVER", origin);
            }
        }
    }
}
