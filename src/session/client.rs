//! The DM client session as a sans-IO state machine.
//!
//! [`ClientSession::start`] gives Package 1; [`ClientSession::receive`] takes each server message
//! and gives the next client message or the end of the session. No IO and no clock: the simulated
//! time a message took (user prompts) comes back as [`Outgoing::delay`] for the driver to wait.
//!
//! What it does, following reference §1.1, §1.6 and §2:
//! * Every message is encoded in the device's [`Encoding`] (`Device::encoding`: a scenario's
//!   `device.encoding`, `dmsim device --wbxml`) and labelled with that encoding's DM Content-Type;
//!   the HMAC header is taken over those very bytes, and the device's package is cut to the server's
//!   MaxMsgSize by their size in that encoding.
//! * The server's message is read by its Content-Type, never by guessing (DM Representation
//!   Protocol, "OMA Device Management Usage"). A reply without a Content-Type is read by its bytes,
//!   as a tolerant device would, and recorded as a [`Violation`]; so is a reply in the other
//!   encoding than the device's (the device asks for its own: the HTTP transport sends it as
//!   `Accept`). A Content-Type that is not SyncML, or a body that is not what its type says, ends
//!   the session ([`SessionEnd::Failed`]).
//! * Package 1: Alert 1201 (1200 when a notification started the session) and a Replace of every
//!   `./DevInfo` leaf, plus any queued Generic Alerts; credentials from the DMAcc `CLCRED` entry.
//! * The server's SyncHdr Status: 212 stops sending credentials, 200 keeps sending them (HMAC always),
//!   401/407 with a Chal make the device start Package 1 again with the new nonce, same SessionID,
//!   next MsgID, up to [`MAX_AUTH_ATTEMPTS`] times. A 5xx Status for it says the server could not
//!   process the device's message: the session ends there ([`SessionEnd::Failed`]), a failure
//!   of the server's ([`ClientSession::failure`]).
//! * The server's credentials, when the DMAcc has a `SRVCRED` entry: missing → 407, wrong → 401, each
//!   with a Chal carrying a fresh nonce (and with HMAC, every answer to an accepted message, 200,
//!   carries one too: reference §2.3); the server's commands are then not executed and answer the
//!   same code (dmsim's choice: the spec only says the reply holds Status commands). After
//!   [`MAX_AUTH_ATTEMPTS`] failures the device aborts the session (Alert 1223).
//! * Every other command goes to the device's [`Executor`]; a Final-only reply (or one with only
//!   Status/Results) ends the session; Alert 1223 from the server ends it without an answer. The
//!   device's agents hear the Statuses before they go ([`Device::statuses_sent`]); a report one
//!   queues then goes in the same reply, after them (reference §1.6: Package 3 may carry new
//!   alerts), and is matched to the server's Status for it like Package 1's reports.
//! * A server message without Final is one message of a longer package: the device answers it and
//!   asks for the next one with Alert 1222.
//! * Every message after the server's first keeps to the MaxMsgSize the server announced (its
//!   SyncHdr Meta, in force until it gives another; reference §1.3): replies that do not fit go on
//!   in the next messages, large items in chunks (DM Protocol §2.1, §2.2, through
//!   [`Outbox`]), and so does a Package 1 sent again after a challenge. Package 1 itself goes
//!   whole: the server's limit is not known before its first answer. A reply that cannot fit at all
//!   (a Status or Alert that cannot be cut and does not fit even alone) cannot be sent, since a
//!   command must fit entirely into one message (DM Protocol §2.1.1): the device aborts the session
//!   with Alert 1223 instead (§2.1 allows 1223 in place of 1222), and when not even that message
//!   fits, it stops without sending anything more ([`SessionEnd::Failed`]): any message it could
//!   send would break the limit.
//!
//! Protocol slips of the server that do not stop the session are collected as [`Violation`]s for
//! conformance reports, each with its [`ServerRule`] and the offending excerpt (see
//! [`super::violation`]): a missing SyncHdr Status, a wrong MsgRef, a missing Content-Type, an
//! answer in the other encoding, a message over the device's own MaxMsgSize, a NextNonce that is
//! not base64, a 401/407 without a Chal, a MsgID out of sequence (the server's first message of a
//! session is 1, then +1), a CmdID used twice in a message, and what the decoder read past:
//! children out of the reference §1.2 order and namespaces other than SyncML DM 1.2's.

use super::account::{Account, AuthEntry};
use super::violation::{self, Found, ServerRule, Violation};
use crate::device::{Device, Executor, SessionFailure};
use crate::protocol::http::{HttpRequest, HttpResponse};
use crate::syncml::auth::{self, AuthType, HmacHeader, MAX_AUTH_ATTEMPTS};
use crate::syncml::large_object::{self, Chunk};
use crate::syncml::outbox::{Outbox, PeerLimits, TooBig};
use crate::syncml::{
    Alert, AlertCode, Chal, CmdName, Command, DecodeNote, Encoding, Item, ItemCommand, LabelError,
    Location, Meta, Results, Status, StatusCode, SyncBody, SyncHdr, SyncMl, VER_DTD, VER_PROTO,
};
use crate::tree;
use std::time::Duration;

/// Server messages after which the device gives up on a session that does not end.
pub const MAX_MESSAGES: u32 = 1000;

/// Who started the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Initiator {
    /// The device (Alert 1201).
    Client,
    /// A notification (Package #0) with this session id (Alert 1200).
    Server { session_id: u16 },
}

/// How a session starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionStart {
    pub initiator: Initiator,
    /// Which DMAcc account to use; `None` for the first.
    pub server_id: Option<String>,
}

impl Default for SessionStart {
    fn default() -> SessionStart {
        SessionStart {
            initiator: Initiator::Client,
            server_id: None,
        }
    }
}

/// How a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionEnd {
    /// The server closed the session normally.
    Completed,
    /// The server sent Alert 1223.
    AbortedByServer,
    /// The device sent Alert 1223.
    AbortedByDevice { reason: String },
    /// The server kept refusing the device's credentials.
    AuthFailed { code: StatusCode },
    /// The server's message could not be understood, or the exchange failed.
    Failed { reason: String },
    /// The device ignored the server's notification, so no session started.
    NotificationRejected { reason: String },
}

impl SessionEnd {
    /// The name scenarios use for this kind of end.
    pub fn kind(&self) -> &'static str {
        match self {
            SessionEnd::Completed => "completed",
            SessionEnd::AbortedByServer => "aborted-by-server",
            SessionEnd::AbortedByDevice { .. } => "aborted-by-device",
            SessionEnd::AuthFailed { .. } => "auth-failed",
            SessionEnd::Failed { .. } => "failed",
            SessionEnd::NotificationRejected { .. } => "notification-rejected",
        }
    }
}

impl std::fmt::Display for SessionEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SessionEnd::AbortedByDevice { reason }
            | SessionEnd::Failed { reason }
            | SessionEnd::NotificationRejected { reason } => {
                write!(f, "{}: {reason}", self.kind())
            }
            SessionEnd::AuthFailed { code } => write!(f, "{} ({code})", self.kind()),
            _ => f.write_str(self.kind()),
        }
    }
}

/// A message for the driver to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub request: HttpRequest,
    /// Simulated time the device spent before it could send this (user prompts).
    pub delay: Duration,
}

/// What the driver does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Send this and feed the answer back.
    Send(Outgoing),
    /// Send this, read the answer, then the session is over.
    SendAndEnd(Outgoing, SessionEnd),
    /// The session is over.
    Done(SessionEnd),
}

/// The device's view of its own authentication towards the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientAuthState {
    /// Credentials go in every message until the server says 212.
    Unconfirmed,
    /// 212: no more credentials this session.
    Session,
}

/// A client session in progress.
#[derive(Debug, Clone)]
pub struct ClientSession {
    account: Account,
    session_id: String,
    url: String,
    next_msg_id: u32,
    last_msg_id: String,
    package1: Vec<Command>,
    client_state: ClientAuthState,
    client_failures: u32,
    server_authenticated: bool,
    server_failures: u32,
    /// Server messages received so far (the one being read included).
    received: u32,
    /// The MsgID of the server's last message, when it was a number.
    last_server_msg: Option<u64>,
    violations: Vec<Violation>,
    acknowledged: Vec<Status>,
    /// The Generic Alerts of the device's pending reports (CmdIDs blank), and their ids in the
    /// device's report queue.
    reports: Vec<(Command, u64)>,
    /// Where each report went: (MsgID, CmdID, report id). Package 1 goes again after a challenge
    /// and may span messages, so the server's Status for a report is matched on both.
    sent_reports: Vec<(String, String, u64)>,
    /// Chunks of a large object sent with MoreData and not answered yet: (MsgID, CmdID).
    chunks_sent: Vec<(String, String)>,
    /// The rest of the device's current package, when it did not fit one message.
    outbox: Outbox,
    /// A large object the server is sending.
    incoming: Option<large_object::Pending>,
    /// The server's MaxMsgSize (0: not given, no limit) and MaxObjSize.
    server_max_msg: usize,
    server_max_obj: Option<u64>,
    /// How the session failed, when it ended in a way the device's agents hear of
    /// ([`ClientSession::failure`]).
    failure: Option<SessionFailure>,
}

/// Why a session could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StartError {
    #[error("the device has no DM account{}", .0.as_deref().map(|s| format!(" for server {s}")).unwrap_or_default())]
    NoAccount(Option<String>),
}

impl ClientSession {
    /// Open a session: the session and Package 1.
    pub fn start(
        device: &mut Device,
        start: SessionStart,
    ) -> Result<(ClientSession, Outgoing), StartError> {
        let account = Account::find(&device.tree, start.server_id.as_deref())
            .ok_or(StartError::NoAccount(start.server_id.clone()))?;
        let (session_id, alert) = match start.initiator {
            Initiator::Client => (device.next_session_id(), AlertCode::ClientInitiatedMgmt),
            Initiator::Server { session_id } => {
                (format!("{session_id:X}"), AlertCode::ServerInitiatedMgmt)
            }
        };
        let mut package1 = vec![
            Command::Alert(Alert::bare(alert)),
            Command::Replace(ItemCommand {
                items: tree::devinfo_items(&device.tree),
                ..ItemCommand::default()
            }),
        ];
        // The device's pending reports ride in Package 1; where each goes is noted as it is sent,
        // to match the server's Status for it.
        let reports: Vec<(Command, u64)> = device
            .reports
            .pending()
            .iter()
            .map(|r| (r.alert.to_command(), r.id))
            .collect();
        package1.extend(reports.iter().map(|(alert, _)| alert.clone()));
        device.reports.sent();
        let mut session = ClientSession {
            url: account.addr.clone(),
            account,
            session_id,
            next_msg_id: 1,
            last_msg_id: String::new(),
            package1,
            client_state: ClientAuthState::Unconfirmed,
            client_failures: 0,
            server_authenticated: false,
            server_failures: 0,
            received: 0,
            last_server_msg: None,
            violations: Vec::new(),
            acknowledged: Vec::new(),
            reports,
            sent_reports: Vec::new(),
            chunks_sent: Vec::new(),
            outbox: Outbox::default(),
            incoming: None,
            server_max_msg: 0,
            server_max_obj: None,
            failure: None,
        };
        // The server's MaxMsgSize is not known yet: Package 1 goes whole.
        let body = session.package1.clone();
        let out = session.message(&*device, body, true, Duration::ZERO);
        Ok((session, out))
    }

    /// The session's SessionID.
    pub fn session_id(&self) -> &str {
        &self.session_id
    }

    /// Protocol rules the server broke so far.
    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    /// Statuses the server sent for the device's own commands.
    pub fn acknowledged(&self) -> &[Status] {
        &self.acknowledged
    }

    /// How the session failed before it got through, when it ended so by itself: the server kept
    /// refusing the device's credentials, or answered its SyncHdr with a 5xx Status. (A failed
    /// exchange is the driver's to tell.)
    pub fn failure(&self) -> Option<SessionFailure> {
        self.failure
    }

    /// Take the server's answer to the last message.
    pub fn receive(&mut self, device: &mut Device, response: &HttpResponse) -> Step {
        self.received += 1;
        let msg = match self.read_reply(device, response) {
            Ok(m) => m,
            Err(end) => return Step::Done(end),
        };
        if msg.hdr.session_id != self.session_id {
            return Step::Done(failed(format!(
                "server answered in session {:?}, not {:?}",
                msg.hdr.session_id, self.session_id
            )));
        }
        let (last, slip) = violation::msg_id(&msg, self.last_server_msg);
        self.last_server_msg = last;
        for found in slip.into_iter().chain(violation::cmd_ids(&msg)) {
            self.violation(&msg, found);
        }
        if let Some(uri) = msg.hdr.resp_uri.as_deref().filter(|u| !u.is_empty()) {
            self.url = uri.to_string();
        }
        // The device announced its MaxMsgSize in every message (reference §1.3).
        let own_max = device.limits.max_msg_size;
        if own_max > 0 && response.body.len() as u64 > own_max {
            let size = response.body.len();
            let detail = format!(
                "a message of {size} bytes, over the MaxMsgSize of {own_max} the device announced (reference §1.3)"
            );
            let found = (ServerRule::MaxMsgSize, detail, format!("{size} bytes"));
            self.violation(&msg, found);
        }
        // Before anything is answered: even a Package 1 sent again after a challenge keeps to it.
        self.take_limits(&msg);
        self.collect_acknowledgements(device, &msg);
        if let Some(step) = self.client_auth_result(device, &msg, response) {
            return step;
        }
        if aborts(&msg) {
            return Step::Done(SessionEnd::AbortedByServer);
        }
        let (hdr_code, chal) = self.check_server(device, &msg, response);
        if !hdr_code.is_success() {
            return self.refuse_server(device, &msg, hdr_code, chal);
        }
        let asks_next = msg.body.commands.iter().any(is_next_message);
        let management =
            msg.body.commands.iter().any(|c| {
                !matches!(c, Command::Status(_) | Command::Results(_)) && !is_next_message(c)
            });
        if !management && msg.body.final_flag && self.outbox.is_empty() && !asks_next {
            return Step::Done(SessionEnd::Completed);
        }
        if self.received >= MAX_MESSAGES {
            let codes = (hdr_code, StatusCode::NotExecuted);
            return self.abort(device, &msg, codes, "the server never ended the session");
        }
        let server_id = self.account.server_id.clone();
        let max_obj = Some(device.limits.max_obj_size);
        let mut exec = Executor::new(device, &server_id, &msg.hdr.msg_id)
            .with_peer_max_obj(self.server_max_obj);
        // Alert 1222 is flow control, like Final: it asks for the next message and gets no Status
        // (an answer to it would take room in every message and could keep a package that barely
        // fits from ever finishing).
        for cmd in msg.body.commands.iter().filter(|c| !is_next_message(c)) {
            self.feed(&mut exec, cmd, max_obj);
        }
        if msg.body.final_flag {
            if let Some(pending) = self.incoming.take() {
                if let Some(alert) = pending.no_end_of_data() {
                    exec.send(alert);
                }
            }
        }
        let mut processed = exec.finish();
        // With HMAC, a fresh nonce for the server's next message in every answer (reference §2.3).
        let chal = self
            .account
            .server
            .clone()
            .filter(|expected| expected.kind == AuthType::Hmac)
            .map(|expected| self.new_server_nonce(device, &expected));
        let hdr = Command::Status(Status::for_header(&msg, hdr_code, chal));
        self.refuse_unsendable_results(device, &hdr, &mut processed.replies);
        // The statuses are settled: the device's agents hear them, and what they report goes in
        // this very reply, after them.
        device.statuses_sent(&processed.replies, &msg.body.commands);
        self.outbox.extend(processed.replies);
        self.send_new_reports(device);
        // The server's package goes on: answer what fits and ask for its next message.
        let server_continues = !msg.body.final_flag && !asks_next;
        self.reply(device, hdr, server_continues, processed.elapsed)
    }

    /// A Results item that does not fit even in a message of its own cannot be sent to a server
    /// that takes no large objects (it gave no MaxObjSize: reference §1.3, §1.6): the Get it
    /// answers is answered 413 Request entity too large instead, and the Results dropped. (Items
    /// of a Results that each fit go in several Results, as usual.)
    fn refuse_unsendable_results(
        &self,
        device: &Device,
        hdr: &Command,
        replies: &mut Vec<Command>,
    ) {
        if self.server_max_obj.is_some() || self.server_max_msg == 0 {
            return;
        }
        let alone = |item: &Item, results: &Results| {
            let one = Command::Results(Results {
                items: vec![item.clone()],
                ..results.clone()
            });
            self.fits(device, &self.envelope(device, vec![hdr.clone(), one], true))
        };
        let refused: Vec<String> = replies
            .iter()
            .filter_map(|c| match c {
                Command::Results(r) if r.items.iter().any(|i| !alone(i, r)) => {
                    Some(r.cmd_ref.clone())
                }
                _ => None,
            })
            .collect();
        if refused.is_empty() {
            return;
        }
        replies.retain(|c| !matches!(c, Command::Results(r) if refused.contains(&r.cmd_ref)));
        for reply in replies.iter_mut() {
            if let Command::Status(s) = reply {
                if s.cmd == CmdName::Get && refused.contains(&s.cmd_ref) {
                    s.code = StatusCode::RequestEntityTooLarge;
                }
            }
        }
    }

    /// The device's next message: the Status for the server's SyncHdr, as much of the outbox as
    /// fits the server's MaxMsgSize, and Alert 1222 last when the server's package goes on. Final
    /// when neither side's package goes on.
    fn reply(
        &mut self,
        device: &Device,
        hdr: Command,
        server_continues: bool,
        delay: Duration,
    ) -> Step {
        let mut fixed = vec![hdr.clone()];
        if server_continues {
            fixed.push(Command::Alert(Alert::bare(AlertCode::NextMessage)));
        }
        let mut reply = self.envelope(device, fixed, false);
        let encoding = device.encoding;
        let more = match self
            .outbox
            .fill(&mut reply, self.server_limits(), &|m| encoding.size(m))
        {
            Ok(more) => more,
            Err(too_big) => return self.cannot_fit(device, hdr, &too_big),
        };
        if server_continues {
            let next = reply.body.commands.remove(1);
            reply.body.commands.push(next);
        }
        reply.body.final_flag = !server_continues && !more;
        self.send(device, reply, delay)
    }

    /// Seal and send a message that keeps to the server's MaxMsgSize; one that does not is not sent
    /// and the session ends (the smallest message the device can send does not fit).
    fn send(&mut self, device: &Device, msg: SyncMl, delay: Duration) -> Step {
        if !self.fits(device, &msg) {
            let reason = format!(
                "the smallest message the device can send ({} bytes) is over the server's MaxMsgSize of {}",
                device.encoding.size(&msg),
                self.server_max_msg
            );
            tracing::warn!(%reason, "device cannot send within the server's limit");
            return Step::Done(failed(reason));
        }
        Step::Send(self.seal(device, msg, delay))
    }

    /// Whether a message (numbered as it will be) keeps to the server's MaxMsgSize.
    fn fits(&self, device: &Device, msg: &SyncMl) -> bool {
        self.server_max_msg == 0 || device.encoding.size(msg) <= self.server_max_msg
    }

    /// A queued command cannot be sent within the server's MaxMsgSize: end the session with Alert
    /// 1223 (see the module docs).
    fn cannot_fit(&mut self, device: &Device, hdr: Command, too_big: &TooBig) -> Step {
        let reason = format!("a reply cannot fit the server's MaxMsgSize: {too_big}");
        tracing::warn!(%reason, "device aborts the session");
        self.end_with_abort(device, hdr, Vec::new(), reason)
    }

    /// End the session from the device side: the Status for the server's SyncHdr, `statuses` when
    /// they fit the server's MaxMsgSize, Alert 1223 and Final. When not even the Status and the
    /// Alert fit, nothing is sent and the session fails.
    fn end_with_abort(
        &mut self,
        device: &Device,
        hdr: Command,
        statuses: Vec<Command>,
        reason: String,
    ) -> Step {
        self.outbox.clear();
        let abort = Command::Alert(Alert::bare(AlertCode::SessionAbort));
        let full: Vec<Command> = std::iter::once(hdr.clone())
            .chain(statuses)
            .chain(std::iter::once(abort.clone()))
            .collect();
        for body in [full, vec![hdr, abort]] {
            let msg = self.envelope(device, body, true);
            if self.fits(device, &msg) {
                let out = self.seal(device, msg, Duration::ZERO);
                return Step::SendAndEnd(out, SessionEnd::AbortedByDevice { reason });
            }
        }
        Step::Done(failed(format!(
            "{reason}; not even Alert 1223 fits the server's MaxMsgSize of {}",
            self.server_max_msg
        )))
    }

    /// The server's message, read by its Content-Type (DM RepPro, "OMA Device Management Usage":
    /// one of the two DM types MUST identify it). A reply with no Content-Type is read by its bytes,
    /// as a tolerant device would, and recorded as a violation; so is a reply in the other encoding
    /// than the device's own (it asked for its own: the HTTP transport's `Accept` names only it). A
    /// type that is not SyncML ends the session, as the HTTP transport refuses it; so does a body
    /// that is not what its type says.
    fn read_reply(
        &mut self,
        device: &Device,
        response: &HttpResponse,
    ) -> Result<SyncMl, SessionEnd> {
        let content_type = response.content_type.trim();
        let (encoding, msg, notes, unlabelled) = if content_type.is_empty() {
            let guess = Encoding::detect(&response.body);
            let (msg, notes) = guess
                .decode_with_notes(&response.body)
                .map_err(|e| failed(format!("server message undecodable: {e}")))?;
            (guess, msg, notes, true)
        } else {
            let (encoding, msg, notes) = crate::syncml::decode_labelled_with_notes(
                content_type,
                &response.body,
            )
            .map_err(|e| match e {
                LabelError::NotSyncMl(t) => failed(format!(
                    "server answered with content type {t:?}, not a SyncML DM message"
                )),
                LabelError::Malformed(e) => failed(format!("server message undecodable: {e}")),
                mismatch => failed(format!("server message unreadable: {mismatch}")),
            })?;
            (encoding, msg, notes, false)
        };
        if unlabelled {
            let detail = format!(
                "the server's message has no Content-Type (read as {encoding} by its bytes); one of the DM types must label it (DM RepPro, reference §1.1)"
            );
            let found = (
                ServerRule::MissingContentType,
                detail,
                "Content-Type: (none)".to_string(),
            );
            self.violation(&msg, found);
        }
        if encoding != device.encoding {
            let detail = format!(
                "the server answered in {encoding} to a device that speaks {} (and asks for {})",
                device.encoding,
                device.encoding.content_type()
            );
            let excerpt =
                crate::syncml::notes::excerpt(&format!("Content-Type: {}", response.content_type));
            self.violation(&msg, (ServerRule::OtherEncoding, detail, excerpt));
        }
        self.record_notes(&msg, notes);
        Ok(msg)
    }

    /// What the decoder read past (children out of order, namespaces), as violations.
    fn record_notes(&mut self, msg: &SyncMl, notes: Vec<DecodeNote>) {
        for note in notes {
            self.violation(msg, violation::from_note(note));
        }
    }

    /// A command of the server, through large-object reassembly to the executor.
    fn feed(&mut self, exec: &mut Executor<'_>, cmd: &Command, max_obj: Option<u64>) {
        if exec.is_stopped() {
            exec.run(cmd);
            return;
        }
        loop {
            match large_object::feed(&mut self.incoming, cmd, max_obj) {
                Chunk::Whole => exec.run(cmd),
                Chunk::Complete(whole) => exec.run(&whole),
                Chunk::Buffered => exec.answer(cmd, StatusCode::ChunkAccepted),
                Chunk::SizeMismatch => exec.answer(cmd, StatusCode::SizeMismatch),
                Chunk::TooLarge => exec.answer(cmd, StatusCode::RequestEntityTooLarge),
                Chunk::Abandoned(pending) => {
                    if let Some(alert) = pending.no_end_of_data() {
                        exec.send(alert);
                    }
                    continue;
                }
            }
            return;
        }
    }

    /// What the server announced it takes: its messages, and large objects when it gave a
    /// MaxObjSize.
    fn server_limits(&self) -> PeerLimits {
        PeerLimits {
            max_msg: self.server_max_msg,
            max_obj: self.server_max_obj,
        }
    }

    /// The server's MaxMsgSize and MaxObjSize, when its SyncHdr gives them.
    fn take_limits(&mut self, msg: &SyncMl) {
        if let Some(meta) = &msg.hdr.meta {
            if let Some(size) = meta.max_msg_size {
                self.server_max_msg = usize::try_from(size).unwrap_or(usize::MAX);
            }
            if meta.max_obj_size.is_some() {
                self.server_max_obj = meta.max_obj_size;
            }
        }
    }

    /// React to the server's Status for our SyncHdr: `Some` when the session restarts or ends.
    fn client_auth_result(
        &mut self,
        device: &mut Device,
        msg: &SyncMl,
        response: &HttpResponse,
    ) -> Option<Step> {
        let found = msg.body.commands.iter().find_map(|c| match c {
            Command::Status(s) if s.cmd == CmdName::SyncHdr => Some(s),
            _ => None,
        });
        let Some(status) = found else {
            let detail = "no Status for the device's SyncHdr: every server message answers the device's SyncHdr with one (reference §1.4, §1.6)".to_string();
            self.violation(
                msg,
                (
                    ServerRule::MissingHdrStatus,
                    detail,
                    violation::body_outline(msg),
                ),
            );
            return None;
        };
        if status.msg_ref != self.last_msg_id {
            let detail = format!(
                "the Status for the device's SyncHdr has MsgRef {:?}, but the device's message was MsgID {:?} (reference §1.5)",
                status.msg_ref, self.last_msg_id
            );
            let excerpt = violation::leaf("MsgRef", &status.msg_ref);
            self.violation(msg, (ServerRule::MsgRef, detail, excerpt));
        }
        if let Some(chal) = &status.chal {
            self.take_challenge(device, msg, chal);
        }
        match status.code {
            StatusCode::AuthAccepted => self.client_state = ClientAuthState::Session,
            StatusCode::InvalidCredentials | StatusCode::MissingCredentials => {
                self.client_failures += 1;
                if status.chal.is_none() {
                    let code = status.code.code();
                    let detail = format!(
                        "{code} for the device's credentials without a Chal to say how to authenticate (reference §2)"
                    );
                    let excerpt = crate::syncml::notes::excerpt(&format!(
                        "<Status>…<Cmd>SyncHdr</Cmd>…<Data>{code}</Data></Status>"
                    ));
                    self.violation(msg, (ServerRule::MissingChal, detail, excerpt));
                }
                if self.client_failures >= MAX_AUTH_ATTEMPTS || self.account.client.is_none() {
                    self.failure = Some(SessionFailure::AuthenticationRefused);
                    return Some(Step::Done(SessionEnd::AuthFailed { code: status.code }));
                }
                // Package 1 again, within the limit the server has announced by now, after the
                // Status for the server's SyncHdr that every message owes (DM Protocol §2.4.1):
                // the device's verdict on the server's credentials when it checks them.
                let (code, chal) = self.check_server(device, msg, response);
                let hdr = Command::Status(Status::for_header(msg, code, chal));
                self.outbox.clear();
                self.outbox.extend(self.package1.clone());
                let mut again = self.envelope(device, vec![hdr.clone()], false);
                let encoding = device.encoding;
                return Some(
                    match self
                        .outbox
                        .fill(&mut again, self.server_limits(), &|m| encoding.size(m))
                    {
                        Ok(more) => {
                            again.body.final_flag = !more;
                            self.send(device, again, Duration::ZERO)
                        }
                        Err(too_big) => self.cannot_fit(device, hdr, &too_big),
                    },
                );
            }
            code if (500..600).contains(&code.code()) => {
                // The server could not process the device's message: nothing of the session can
                // be trusted to go on (its commands, if any, came from a failed server).
                self.failure = Some(SessionFailure::ServerError);
                return Some(Step::Done(failed(format!(
                    "the server could not process the device's message: {code} for its SyncHdr"
                ))));
            }
            _ => {}
        }
        None
    }

    /// A server Chal: the nonce (and maybe the scheme) for the device's next credentials.
    fn take_challenge(&mut self, device: &mut Device, msg: &SyncMl, chal: &Chal) {
        let Some(client) = self.account.client.as_mut() else {
            return;
        };
        if let Some(kind) = chal
            .meta
            .type_
            .as_deref()
            .and_then(AuthType::from_meta_type)
        {
            client.kind = kind;
        }
        let Some(next) = chal.meta.next_nonce.as_deref() else {
            return;
        };
        match auth::decode_nonce(next) {
            Ok(nonce) => {
                let uri = client.data_uri.clone();
                if device.tree.set_value(&uri, &nonce, device.clock).is_err() {
                    tracing::warn!(%uri, "could not store the server's nonce");
                }
            }
            Err(e) => {
                let detail = format!(
                    "the Chal's NextNonce is not base64 ({e}); its Format must be b64 (reference §2)"
                );
                let excerpt = violation::leaf("NextNonce", next);
                self.violation(msg, (ServerRule::NextNonceBase64, detail, excerpt));
            }
        }
    }

    /// Check the server's credentials when the account demands them: the SyncHdr status to answer.
    fn check_server(
        &mut self,
        device: &mut Device,
        msg: &SyncMl,
        response: &HttpResponse,
    ) -> (StatusCode, Option<Chal>) {
        let Some(expected) = self.account.server.clone() else {
            return (StatusCode::Ok, None);
        };
        if self.server_authenticated && expected.kind != AuthType::Hmac {
            return (StatusCode::Ok, None);
        }
        let nonce = device
            .tree
            .value(&expected.data_uri)
            .unwrap_or_default()
            .to_vec();
        let verdict = match expected.kind {
            AuthType::Hmac => match response.hmac.as_deref() {
                None => Err(StatusCode::MissingCredentials),
                Some(h) => HmacHeader::parse(h)
                    .and_then(|h| auth::check_hmac(&h, &expected.secret, &nonce, &response.body))
                    .map_err(|_| StatusCode::InvalidCredentials),
            },
            kind => match &msg.hdr.cred {
                None => Err(StatusCode::MissingCredentials),
                Some(cred) => auth::check_cred(cred, kind, &expected.secret, &nonce)
                    .map_err(|_| StatusCode::InvalidCredentials),
            },
        };
        match verdict {
            Ok(()) => {
                self.server_authenticated = true;
                let code = if expected.kind == AuthType::Hmac {
                    StatusCode::Ok
                } else {
                    StatusCode::AuthAccepted
                };
                (code, None)
            }
            Err(code) => {
                self.server_failures += 1;
                (code, Some(self.new_server_nonce(device, &expected)))
            }
        }
    }

    /// Issue a fresh nonce for the server's next credentials and remember it in `AAuthData`.
    fn new_server_nonce(&mut self, device: &mut Device, expected: &AuthEntry) -> Chal {
        let nonce = device.nonces.next();
        if device
            .tree
            .set_value(&expected.data_uri, &nonce, device.clock)
            .is_err()
        {
            tracing::warn!(uri = %expected.data_uri, "could not store the device's nonce");
        }
        auth::challenge(expected.kind, &nonce)
    }

    /// The server failed authentication: answer every command with the same code, or abort.
    fn refuse_server(
        &mut self,
        device: &mut Device,
        msg: &SyncMl,
        code: StatusCode,
        chal: Option<Chal>,
    ) -> Step {
        if self.server_failures >= MAX_AUTH_ATTEMPTS {
            return self.abort(
                device,
                msg,
                (code, code),
                "the server failed to authenticate",
            );
        }
        let hdr = Command::Status(Status::for_header(msg, code, chal));
        self.outbox.prepend(
            msg.body
                .commands
                .iter()
                .filter(|c| answerable(c))
                .map(|c| Command::Status(Status::for_command(&msg.hdr.msg_id, c, code))),
        );
        self.reply(device, hdr, false, Duration::ZERO)
    }

    /// End the session from the device side with Alert 1223, answering the server's SyncHdr and
    /// (unexecuted) commands with the given codes.
    fn abort(
        &mut self,
        device: &mut Device,
        msg: &SyncMl,
        (hdr_code, cmd_code): (StatusCode, StatusCode),
        reason: &str,
    ) -> Step {
        // A refusal of the server's credentials carries a Chal, even the last one (reference §2).
        let chal = match hdr_code {
            StatusCode::InvalidCredentials | StatusCode::MissingCredentials => self
                .account
                .server
                .clone()
                .map(|expected| self.new_server_nonce(device, &expected)),
            _ => None,
        };
        let hdr = Command::Status(Status::for_header(msg, hdr_code, chal));
        let statuses = msg
            .body
            .commands
            .iter()
            .filter(|c| answerable(c))
            .map(|c| Command::Status(Status::for_command(&msg.hdr.msg_id, c, cmd_code)))
            .collect();
        self.end_with_abort(device, hdr, statuses, reason.to_string())
    }

    /// Keep the server's Statuses for the device's commands; a report acknowledged with 200 or 202
    /// leaves the device's queue.
    fn collect_acknowledgements(&mut self, device: &mut Device, msg: &SyncMl) {
        for cmd in &msg.body.commands {
            let Command::Status(s) = cmd else { continue };
            if s.cmd == CmdName::SyncHdr {
                continue;
            }
            let delivered =
                matches!(s.code, StatusCode::Ok | StatusCode::Accepted) && s.cmd == CmdName::Alert;
            // A chunk the server refused (413 over its MaxObjSize, or any error) ends that object:
            // the chunks left are not sent (DM Protocol §2.2).
            if let Some(i) = self
                .chunks_sent
                .iter()
                .position(|(m, c)| *m == s.msg_ref && *c == s.cmd_ref)
            {
                self.chunks_sent.swap_remove(i);
                if !s.code.is_success() {
                    self.outbox.abandon_object();
                }
            }
            if let Some((_, _, id)) = self
                .sent_reports
                .iter()
                .find(|(m, c, _)| *m == s.msg_ref && *c == s.cmd_ref)
                .filter(|_| delivered)
            {
                device.reports.acknowledge(*id);
            }
            self.acknowledged.push(s.clone());
        }
    }

    /// Record a rule the server broke in `msg`, the message being read.
    fn violation(&mut self, msg: &SyncMl, (rule, detail, excerpt): Found) {
        let v = Violation {
            message: self.received,
            msg_id: msg.hdr.msg_id.clone(),
            rule,
            detail,
            excerpt,
        };
        tracing::debug!(violation = %v, "server protocol violation");
        self.violations.push(v);
    }

    /// Assemble, number, encode and (for HMAC) sign a client message.
    fn message(
        &mut self,
        device: &Device,
        commands: Vec<Command>,
        final_flag: bool,
        delay: Duration,
    ) -> Outgoing {
        let msg = self.envelope(device, commands, final_flag);
        self.seal(device, msg, delay)
    }

    /// A client message around `commands`, with the credentials due (not numbered yet).
    fn envelope(&self, device: &Device, commands: Vec<Command>, final_flag: bool) -> SyncMl {
        let client = self.account.client.as_ref();
        let cred = match client {
            Some(c) if self.client_state == ClientAuthState::Unconfirmed => {
                let nonce = device.tree.value(&c.data_uri).unwrap_or_default();
                auth::make_cred(c.kind, &c.secret, nonce)
            }
            _ => None,
        };
        SyncMl {
            hdr: SyncHdr {
                ver_dtd: VER_DTD.to_string(),
                ver_proto: VER_PROTO.to_string(),
                session_id: self.session_id.clone(),
                msg_id: self.next_msg_id.to_string(),
                target: Location::uri(self.url.clone()),
                source: Location {
                    loc_uri: device.dev_id().to_string(),
                    loc_name: client.map(|c| c.secret.name.clone()),
                },
                resp_uri: None,
                no_resp: false,
                cred,
                meta: Some(Meta {
                    max_msg_size: Some(device.limits.max_msg_size),
                    max_obj_size: device
                        .limits
                        .large_objects
                        .then_some(device.limits.max_obj_size),
                    ..Meta::default()
                }),
            },
            body: SyncBody {
                commands,
                final_flag,
            },
        }
    }

    /// Number the message and its commands, encode it and sign it when HMAC is in use.
    fn seal(&mut self, device: &Device, mut msg: SyncMl, delay: Duration) -> Outgoing {
        msg.hdr.msg_id = self.next_msg_id.to_string();
        self.next_msg_id += 1;
        msg.body.number_commands();
        self.note_reports(&msg);
        // The device's own encoding: the HMAC, the Content-Type and the size accounting
        // (`Encoding::size`) all follow these bytes.
        let body = device.encoding.encode(&msg);
        let hmac = self
            .account
            .client
            .as_ref()
            .filter(|c| c.kind == AuthType::Hmac)
            .map(|c| {
                let nonce = device.tree.value(&c.data_uri).unwrap_or_default();
                HmacHeader::sign(&c.secret, nonce, &body).to_string()
            });
        self.last_msg_id = msg.hdr.msg_id;
        Outgoing {
            request: HttpRequest {
                url: self.url.clone(),
                content_type: device.encoding.content_type().to_string(),
                hmac,
                body,
            },
            delay,
        }
    }
}

impl ClientSession {
    /// Reports the device queued while the session runs (an agent that reports the statuses it
    /// sends) go in its next message, after what is queued: the session takes them on as it took
    /// Package 1's, to match the server's Status for each. Reports acknowledged already are
    /// forgotten first, so a report queued again later in the session is matched to itself.
    fn send_new_reports(&mut self, device: &mut Device) {
        let pending = device.reports.pending();
        self.reports
            .retain(|(_, id)| pending.iter().any(|r| r.id == *id));
        let fresh: Vec<(Command, u64)> = pending
            .iter()
            .filter(|r| !self.reports.iter().any(|(_, id)| *id == r.id))
            .map(|r| (r.alert.to_command(), r.id))
            .collect();
        if fresh.is_empty() {
            return;
        }
        let ids: Vec<u64> = fresh.iter().map(|(_, id)| *id).collect();
        device.reports.sent_these(&ids);
        self.outbox
            .extend(fresh.iter().map(|(alert, _)| alert.clone()));
        self.reports.extend(fresh);
    }

    /// Note which of the device's reports a numbered message carries, and where.
    fn note_reports(&mut self, msg: &SyncMl) {
        self.chunks_sent.extend(
            msg.body
                .commands
                .iter()
                .filter(|c| c.items().iter().any(|i| i.more_data))
                .map(|c| (msg.hdr.msg_id.clone(), c.cmd_id().to_string())),
        );
        let mut taken = vec![false; self.reports.len()];
        for cmd in &msg.body.commands {
            if !matches!(cmd, Command::Alert(a) if a.code == AlertCode::GenericAlert) {
                continue;
            }
            let mut blank = cmd.clone();
            blank.cmd_id_mut().clear();
            let found = self
                .reports
                .iter()
                .zip(taken.iter_mut())
                .find(|((alert, _), taken)| !**taken && *alert == blank);
            if let Some(((_, id), taken)) = found {
                *taken = true;
                self.sent_reports
                    .push((msg.hdr.msg_id.clone(), cmd.cmd_id().to_string(), *id));
            }
        }
    }
}

fn failed(reason: String) -> SessionEnd {
    SessionEnd::Failed { reason }
}

fn aborts(msg: &SyncMl) -> bool {
    msg.body
        .commands
        .iter()
        .any(|c| matches!(c, Command::Alert(a) if a.code == AlertCode::SessionAbort))
}

fn is_next_message(cmd: &Command) -> bool {
    matches!(cmd, Command::Alert(a) if a.code == AlertCode::NextMessage)
}

/// Commands that get a Status (everything but the server's own Status and Results).
fn answerable(cmd: &Command) -> bool {
    !matches!(cmd, Command::Status(_) | Command::Results(_))
}
