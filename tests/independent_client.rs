//! The mock server against an independent OMA-DM 1.2 client, played here by hand (messages built
//! as SyncML and posted to [`MockServer::handle`] as HTTP requests): the behaviours of a client
//! written in C by another team that issue 10 reported, each completing in the fewest rounds the
//! protocol allows, in one session as the server records it.
//!
//! The client checks the server's credentials in every message it receives (MD5 `Cred`, or the
//! HMAC header) against the nonce it last gave the server; when they are wrong or missing it
//! refuses the message (401 or 407 with a Chal carrying a fresh nonce, the same code for every
//! command, nothing executed: DM Protocol §2.4.1). When the server refuses the client's own
//! credentials it reverts to Package 1, with a Status for the server's SyncHdr (DM Protocol
//! §2.4.1: "the next message containing the proper credentials MUST contain a Status for the
//! SyncHdr"). A round is one client message and the server's answer.

use dmsim::protocol::http::{HttpRequest, HttpResponse};
use dmsim::server::{
    ClientAuthPolicy, MockServer, ScriptPackage, SendCredentials, ServerConfig, ServerCredentials,
};
use dmsim::syncml::auth::{self, AuthType, HmacHeader, Secret};
use dmsim::syncml::{
    Alert, AlertCode, Chal, CmdName, Command, Data, Encoding, Item, ItemCommand, Location, Meta,
    Status, StatusCode, SyncBody, SyncHdr, SyncMl, VER_DTD, VER_PROTO,
};

const SERVER: &str = "https://dm.dmsim.test/dm";
const DEVICE: &str = "IMEI:490154203237518";

/// How the client checks the server.
#[derive(Clone)]
struct ServerCheck {
    kind: AuthType,
    secret: Secret,
    /// The nonce the server's next credentials must use: the last one the client gave it.
    nonce: Vec<u8>,
    /// Give the server a fresh nonce with every message it accepts (212 or 200 + Chal).
    fresh_every_message: bool,
}

/// The independent client.
struct Client<'s> {
    server: &'s MockServer,
    session_id: String,
    msg_id: u32,
    rounds: u32,
    /// Its own credentials (basic or MD5), and whether it sends them before being challenged.
    creds: Option<(AuthType, Secret)>,
    creds_first: bool,
    /// The nonce its next MD5 credentials use (the server's last NextNonce).
    client_nonce: Vec<u8>,
    /// Whether the server accepted its credentials for the session (212).
    accepted: bool,
    check: Option<ServerCheck>,
    nonces_issued: u32,
    /// Stop when the server aborts the session (Alert 1223), as the protocol says; a stubborn
    /// client sends Package 1 again.
    stops_on_abort: bool,
    /// Every server message, in order.
    received: Vec<(HttpResponse, SyncMl)>,
    /// The MaxMsgSize it announces.
    max_msg: u64,
}

/// How a client's session went.
#[derive(Debug, PartialEq, Eq)]
enum End {
    /// The server ended the session with a Final and no commands.
    Completed,
    /// The server sent Alert 1223.
    Aborted,
}

impl<'s> Client<'s> {
    fn new(server: &'s MockServer) -> Client<'s> {
        Client {
            server,
            session_id: "1".into(),
            msg_id: 0,
            rounds: 0,
            creds: None,
            creds_first: true,
            client_nonce: Vec::new(),
            accepted: false,
            check: None,
            nonces_issued: 0,
            stops_on_abort: true,
            received: Vec::new(),
            max_msg: 16384,
        }
    }

    /// Package 1: Alert 1201 and the DevInfo.
    fn package1() -> Vec<Command> {
        vec![
            Command::Alert(Alert::bare(AlertCode::ClientInitiatedMgmt)),
            Command::Replace(ItemCommand {
                items: vec![Item {
                    source: Some(Location::uri("./DevInfo/Mod")),
                    data: Some(Data::Text("C-CLIENT-1".into())),
                    ..Item::default()
                }],
                ..ItemCommand::default()
            }),
        ]
    }

    /// POST one message; the server's answer.
    fn send(&mut self, commands: Vec<Command>, final_flag: bool, with_creds: bool) -> SyncMl {
        self.msg_id += 1;
        self.rounds += 1;
        let cred = self
            .creds
            .as_ref()
            .filter(|_| with_creds && !self.accepted)
            .and_then(|(kind, secret)| auth::make_cred(*kind, secret, &self.client_nonce));
        let mut msg = SyncMl {
            hdr: SyncHdr {
                ver_dtd: VER_DTD.into(),
                ver_proto: VER_PROTO.into(),
                session_id: self.session_id.clone(),
                msg_id: self.msg_id.to_string(),
                target: Location::uri(SERVER),
                source: Location {
                    loc_uri: DEVICE.into(),
                    loc_name: self.creds.as_ref().map(|(_, s)| s.name.clone()),
                },
                resp_uri: None,
                no_resp: false,
                cred,
                meta: Some(Meta {
                    max_msg_size: Some(self.max_msg),
                    ..Meta::default()
                }),
            },
            body: SyncBody {
                commands,
                final_flag,
            },
        };
        msg.body.number_commands();
        let response = self.server.handle(&HttpRequest {
            url: SERVER.into(),
            content_type: Encoding::Xml.content_type().into(),
            hmac: None,
            body: Encoding::Xml.encode(&msg),
        });
        assert_eq!(response.status, 200, "{:?}", response);
        let reply = Encoding::Xml.decode(&response.body).expect("decodes");
        self.received.push((response, reply.clone()));
        reply
    }

    /// A fresh nonce for the server, now the one its credentials must use.
    fn fresh_chal(&mut self) -> Option<Chal> {
        self.nonces_issued += 1;
        let nonce = format!("client-gave-{}", self.nonces_issued).into_bytes();
        let check = self.check.as_mut()?;
        check.nonce = nonce.clone();
        Some(auth::challenge(check.kind, &nonce))
    }

    /// The client's verdict on the server's credentials: the code for its SyncHdr.
    fn verdict(&self, response: &HttpResponse, msg: &SyncMl) -> StatusCode {
        let Some(check) = &self.check else {
            return StatusCode::Ok;
        };
        let result = match check.kind {
            AuthType::Hmac => match response.hmac.as_deref() {
                None => Err(StatusCode::MissingCredentials),
                Some(h) => HmacHeader::parse(h)
                    .and_then(|h| auth::check_hmac(&h, &check.secret, &check.nonce, &response.body))
                    .map_err(|_| StatusCode::InvalidCredentials),
            },
            kind => match &msg.hdr.cred {
                None => Err(StatusCode::MissingCredentials),
                Some(c) => auth::check_cred(c, kind, &check.secret, &check.nonce)
                    .map_err(|_| StatusCode::InvalidCredentials),
            },
        };
        match result {
            Ok(()) if check.kind == AuthType::Hmac => StatusCode::Ok,
            Ok(()) => StatusCode::AuthAccepted,
            Err(code) => code,
        }
    }

    /// The Status for the server's SyncHdr in the client's next message: a refusal carries a Chal
    /// with a fresh nonce, and so does an acceptance when the client gives one every message.
    fn hdr_status(&mut self, msg: &SyncMl, code: StatusCode) -> Command {
        let fresh = self.check.as_ref().is_some_and(|c| c.fresh_every_message);
        let chal = if !code.is_success() || fresh {
            self.fresh_chal()
        } else {
            None
        };
        Command::Status(Status::for_header(msg, code, chal))
    }

    /// Run a session from Package 1 until the server ends it (or `max_rounds`).
    fn run(&mut self, max_rounds: u32) -> Option<End> {
        // Going on in a session, the client answers the server's last SyncHdr first.
        let mut body = match self.received.last().cloned() {
            Some((response, last)) => {
                let code = self.verdict(&response, &last);
                std::iter::once(self.hdr_status(&last, code))
                    .chain(Self::package1())
                    .collect()
            }
            None => Self::package1(),
        };
        let mut final_flag = true;
        let mut with_creds = self.creds_first;
        while self.rounds < max_rounds {
            let msg = self.send(body, final_flag, with_creds);
            let response = self.received.last().map(|(r, _)| r.clone()).expect("sent");
            let hdr = msg
                .body
                .commands
                .iter()
                .find_map(|c| match c {
                    Command::Status(s) if s.cmd == CmdName::SyncHdr => Some(s.clone()),
                    _ => None,
                })
                .expect("a Status for the client's SyncHdr");
            if let Some(next) = hdr.chal.as_ref().and_then(|c| c.meta.next_nonce.as_deref()) {
                self.client_nonce = auth::decode_nonce(next).expect("b64 nonce");
            }
            let aborted = msg
                .body
                .commands
                .iter()
                .any(|c| matches!(c, Command::Alert(a) if a.code == AlertCode::SessionAbort));
            if aborted && self.stops_on_abort {
                return Some(End::Aborted);
            }
            let code = self.verdict(&response, &msg);
            if matches!(
                hdr.code,
                StatusCode::InvalidCredentials | StatusCode::MissingCredentials
            ) {
                // Back to Package 1, with credentials and the Status for the server's SyncHdr.
                body = std::iter::once(self.hdr_status(&msg, code))
                    .chain(Self::package1())
                    .collect();
                final_flag = true;
                with_creds = true;
                continue;
            }
            self.accepted |= hdr.code == StatusCode::AuthAccepted;
            let management: Vec<&Command> = msg
                .body
                .commands
                .iter()
                .filter(|c| !matches!(c, Command::Status(_) | Command::Results(_)))
                .filter(|c| !matches!(c, Command::Alert(a) if a.code == AlertCode::NextMessage))
                .collect();
            if code.is_success() && management.is_empty() && msg.body.final_flag {
                return Some(End::Completed);
            }
            // Executed when the server passed, refused with its code when not.
            let answer = if code.is_success() {
                StatusCode::Ok
            } else {
                code
            };
            body = std::iter::once(self.hdr_status(&msg, code))
                .chain(management.iter().map(|c| {
                    // A chunk of a large object is buffered (213) until its last chunk.
                    let chunk = c.items().iter().any(|i| i.more_data);
                    let answer = if chunk && answer == StatusCode::Ok {
                        StatusCode::ChunkAccepted
                    } else {
                        answer
                    };
                    let mut status = Status::for_command(&msg.hdr.msg_id, c, answer);
                    status.target_refs = c
                        .items()
                        .iter()
                        .filter_map(|i| i.target.as_ref().map(|t| t.loc_uri.clone()))
                        .collect();
                    Command::Status(status)
                }))
                .collect();
            final_flag = msg.body.final_flag || !code.is_success();
            if !final_flag {
                body.push(Command::Alert(Alert::bare(AlertCode::NextMessage)));
            }
        }
        None
    }
}

/// A server with this script and these credentials both ways.
fn server(
    script: &str,
    client_auth: Option<ClientAuthPolicy>,
    credentials: Option<ServerCredentials>,
) -> MockServer {
    #[derive(serde::Deserialize)]
    struct Script {
        #[serde(default, rename = "package")]
        packages: Vec<ScriptPackage>,
    }
    let script: Script = toml::from_str(script).expect("valid script");
    MockServer::new(ServerConfig {
        server_id: "dmsim-server".into(),
        url: SERVER.into(),
        client_auth,
        credentials,
        packages: script.packages,
        seed: 10,
        ..ServerConfig::default()
    })
}

/// Two packages of one Replace each.
const TWO_PACKAGES: &str = r#"
[[package]]
[[package.command]]
cmd = "replace"
target = "./Vendor/A"
data = "1"
[[package]]
[[package.command]]
cmd = "replace"
target = "./Vendor/B"
data = "2"
"#;

fn server_secret() -> Secret {
    Secret::new("dmsim-server", "srvpass")
}

fn server_creds(kind: AuthType, nonce: &str) -> Option<ServerCredentials> {
    Some(ServerCredentials {
        kind,
        secret: server_secret(),
        nonce: nonce.as_bytes().to_vec(),
        send: SendCredentials::Always,
    })
}

fn check(kind: AuthType, nonce: &str, fresh: bool) -> Option<ServerCheck> {
    Some(ServerCheck {
        kind,
        secret: server_secret(),
        nonce: nonce.as_bytes().to_vec(),
        fresh_every_message: fresh,
    })
}

/// The Statuses the server received, as "Cmd code" ("Replace ./Vendor/A 200" with a target).
fn received(server: &MockServer) -> Vec<String> {
    server
        .records()
        .iter()
        .flat_map(|r| &r.statuses)
        .map(|s| match &s.target_ref {
            Some(t) if s.cmd != CmdName::SyncHdr => format!("{} {t} {}", s.cmd, s.code.code()),
            _ => format!("{} {}", s.cmd, s.code.code()),
        })
        .collect()
}

/// Issue 10 #1: a client that gives the server a fresh NextNonce with every 212 (MD5) or 200
/// (HMAC) and checks every message gets each package in one round: the server's next
/// credentials use that nonce. Before, the server read a Chal only from 401/407 and every package
/// took an extra round (the client refused credentials on the old nonce).
#[test]
fn a_fresh_nonce_with_every_acceptance_is_used_for_the_next_message() {
    for (kind, accepted) in [(AuthType::Md5, "212"), (AuthType::Hmac, "200")] {
        let s = server(TWO_PACKAGES, None, server_creds(kind, "first"));
        let mut client = Client::new(&s);
        client.check = check(kind, "first", true);
        assert_eq!(client.run(20), Some(End::Completed), "{kind:?}");
        // Package 1 → Package 2; its Statuses → the second package; those → the end.
        assert_eq!(client.rounds, 3, "{kind:?}");
        assert_eq!(
            received(&s),
            [
                format!("SyncHdr {accepted}"),
                "Replace ./Vendor/A 200".into(),
                format!("SyncHdr {accepted}"),
                "Replace ./Vendor/B 200".into(),
            ],
            "{kind:?}"
        );
        let records = s.records();
        assert_eq!(records.len(), 1, "{kind:?}");
        assert!(
            records[0].ended && records[0].violations.is_empty(),
            "{kind:?}"
        );
    }
}

/// The nonce a device gave while authenticated signs the server's first message of its next
/// session (DM Protocol §2.4.1: a Chal with 212 is for the next session), so a second session
/// takes one round too.
#[test]
fn the_last_nonce_of_a_session_signs_the_next_one() {
    for kind in [AuthType::Md5, AuthType::Hmac] {
        let s = server(TWO_PACKAGES, None, server_creds(kind, "first"));
        let mut client = Client::new(&s);
        client.check = check(kind, "first", true);
        assert_eq!(client.run(20), Some(End::Completed));
        let holds = client.check.clone();
        let mut again = Client::new(&s);
        again.session_id = "2".into();
        again.check = holds;
        again.nonces_issued = client.nonces_issued;
        assert_eq!(again.run(20), Some(End::Completed), "{kind:?}");
        assert_eq!(
            again.rounds, 1,
            "{kind:?}: no package left, accepted at once"
        );
        assert_eq!(s.records().len(), 2);
    }
}

/// A nonce from a device that has not authenticated is used for the server's next credentials in
/// that session, but does not replace the one kept for its later sessions (DM Security
/// §5.1.3.4).
#[test]
fn a_nonce_from_a_device_not_authenticated_is_not_kept_for_later_sessions() {
    let policy = ClientAuthPolicy {
        kind: AuthType::Basic,
        secret: Secret::new("device01", "right"),
        nonce: Vec::new(),
    };
    let s = server(
        TWO_PACKAGES,
        Some(policy),
        server_creds(AuthType::Md5, "first"),
    );
    // The client's password is wrong, and it refuses the server's first credentials (it holds
    // another nonce), giving it a Chal with its retry; it gives up after two rounds.
    let mut client = Client::new(&s);
    client.creds = Some((AuthType::Basic, Secret::new("device01", "wrong")));
    client.check = check(AuthType::Md5, "other", false);
    assert_eq!(client.run(2), None);
    let (_, last) = client.received.last().expect("answers");
    let cred = last.hdr.cred.as_ref().expect("the server's Cred");
    assert!(
        auth::check_cred(cred, AuthType::Md5, &server_secret(), b"client-gave-1").is_ok(),
        "in the session, the server's next credentials use the nonce it was given"
    );
    // Its next session (right password) starts again from the nonce kept before.
    let mut next = Client::new(&s);
    next.session_id = "2".into();
    next.creds = Some((AuthType::Basic, Secret::new("device01", "right")));
    next.check = check(AuthType::Md5, "first", false);
    assert_eq!(next.run(20), Some(End::Completed));
    // Accepted at once both ways, with both packages (the refused session does not count as
    // one of the device's sessions for the script).
    assert_eq!(next.rounds, 3);
}

/// Issue 10 #2: the client passes authentication on its retry and in the same message refuses the
/// server's credentials (401 + Chal). The server sends the package it had not sent yet, with
/// credentials on the new nonce. Before, it re-sent its last batch of commands, which was empty,
/// and answered 212 and Final: the package never went and the session was left open.
#[test]
fn a_device_that_passes_on_its_retry_and_refuses_the_server_gets_the_package() {
    let policy = ClientAuthPolicy {
        kind: AuthType::Basic,
        secret: Secret::new("device01", "devpass"),
        nonce: Vec::new(),
    };
    let s = server(
        "[[package]]\n[[package.command]]\ncmd = \"replace\"\ntarget = \"./Vendor/A\"\ndata = \"1\"\n",
        Some(policy),
        server_creds(AuthType::Md5, "configured"),
    );
    let mut client = Client::new(&s);
    client.creds = Some((AuthType::Basic, Secret::new("device01", "devpass")));
    client.creds_first = false;
    client.check = check(AuthType::Md5, "what-the-client-holds", false);
    assert_eq!(client.run(20), Some(End::Completed));
    // Package 1 without credentials → 407; Package 1 again with them, refusing the server → 212
    // and the package; its Statuses → the end.
    assert_eq!(client.rounds, 3);
    assert_eq!(
        received(&s),
        ["SyncHdr 401", "SyncHdr 212", "Replace ./Vendor/A 200"]
    );
    let records = s.records();
    assert_eq!(records.len(), 1);
    assert!(records[0].ended, "the session ended");
    assert!(
        records[0].violations.is_empty(),
        "{:?}",
        records[0].violations
    );
}

/// A refused message of a package split over several messages is sent again, and the rest of the
/// package follows it (before, the rest was dropped).
#[test]
fn a_refused_message_of_a_split_package_goes_again_and_the_rest_follows() {
    let mut script = String::from("[[package]]\n");
    for n in 0..8 {
        script.push_str(&format!(
            "[[package.command]]\ncmd = \"replace\"\ntarget = \"./Vendor/N{n}\"\ndata = \"{}\"\n",
            "v".repeat(300)
        ));
    }
    let s = server(&script, None, server_creds(AuthType::Md5, "configured"));
    let mut client = Client::new(&s);
    client.check = check(AuthType::Md5, "what-the-client-holds", false);
    // A MaxMsgSize that holds two or three of the Replaces.
    client.max_msg = 1500;
    assert_eq!(client.run(40), Some(End::Completed));
    let (_, first) = &client.received[0];
    assert!(
        !first.body.final_flag,
        "the package does not fit one message"
    );
    let replaced: Vec<String> = received(&s)
        .into_iter()
        .filter(|r| r.starts_with("Replace") && r.ends_with(" 200"))
        .collect();
    let want: Vec<String> = (0..8)
        .map(|n| format!("Replace ./Vendor/N{n} 200"))
        .collect();
    assert_eq!(replaced, want, "every Replace once, in order");
    let refused = received(&s)
        .iter()
        .filter(|r| r.starts_with("Replace") && r.ends_with(" 401"))
        .count();
    assert!(refused >= 1, "the first message was refused");
    assert!(s.records()[0].ended);
    assert!(
        s.records()[0].violations.is_empty(),
        "{:?}",
        s.records()[0].violations
    );
}

/// Issue 10 #4: a client that keeps sending Package 1 with wrong credentials in the same session
/// (MsgID 2, 3, …) stays in that session; after the failures allowed the server ends it with Alert
/// 1223, and answers every later message of it the same way, right credentials or not. Before,
/// every third message opened a fresh session with a fresh failure count (43 sessions for 128
/// messages).
#[test]
fn a_client_retrying_package_1_stays_in_one_session_until_the_server_ends_it() {
    let policy = || ClientAuthPolicy {
        kind: AuthType::Md5,
        secret: Secret::new("device01", "right"),
        nonce: b"n0".to_vec(),
    };
    let wrong = Some((AuthType::Md5, Secret::new("device01", "wrong")));
    let right = Some((AuthType::Md5, Secret::new("device01", "right")));

    // A client that stops when the server aborts: three rounds.
    let s = server(TWO_PACKAGES, Some(policy()), None);
    let mut client = Client::new(&s);
    client.creds = wrong.clone();
    assert_eq!(client.run(50), Some(End::Aborted));
    assert_eq!(client.rounds, 3);
    let records = s.records();
    assert_eq!(records.len(), 1);
    assert!(records[0].ended && !records[0].client_authenticated);
    assert_eq!(records[0].auth_failures, 3);
    for (n, (_, reply)) in client.received.iter().enumerate() {
        let Some(Command::Status(hdr)) = reply.body.commands.first() else {
            panic!("no SyncHdr Status first")
        };
        assert_eq!(hdr.code, StatusCode::InvalidCredentials);
        assert!(hdr.chal.is_some(), "every refusal carries a Chal");
        let aborts = reply
            .body
            .commands
            .iter()
            .any(|c| matches!(c, Command::Alert(a) if a.code == AlertCode::SessionAbort));
        assert_eq!(aborts, n == 2, "Alert 1223 with the last failure allowed");
        assert!(reply.body.final_flag);
    }

    // A stubborn client: 128 messages, the right password from the tenth on. One session.
    let s = server(TWO_PACKAGES, Some(policy()), None);
    let mut client = Client::new(&s);
    client.stops_on_abort = false;
    client.creds = wrong;
    assert_eq!(client.run(9), None);
    client.creds = right.clone();
    assert_eq!(client.run(128), None);
    assert_eq!(client.rounds, 128);
    let records = s.records();
    assert_eq!(records.len(), 1, "one session");
    assert_eq!(records[0].auth_failures, 128);
    assert!(records[0].ended && !records[0].client_authenticated);
    assert!(
        records[0].violations.is_empty(),
        "{:?}",
        records[0].violations
    );
    let management = client
        .received
        .iter()
        .flat_map(|(_, m)| &m.body.commands)
        .filter(|c| !matches!(c, Command::Status(_) | Command::Alert(_)))
        .count();
    assert_eq!(management, 0, "no package ever went");

    // The client started afresh (MsgID 1) opens a new session, and passes.
    let mut fresh = Client::new(&s);
    fresh.creds = right;
    fresh.client_nonce = client.client_nonce.clone();
    assert_eq!(fresh.run(20), Some(End::Completed));
    // Accepted at once, and the script's packages go in it: the session refused for good does
    // not count as one of the device's sessions.
    assert_eq!(fresh.rounds, 3);
    assert_eq!(s.records().len(), 2);
}

/// Issue 10 #5: a client that announced no MaxObjSize (it takes no large objects, like the C
/// client) is never sent a chunk. An item that does not fit the room left in a message goes in the
/// next one whole; one larger than any message cannot be sent at all, and the server ends the
/// session (1223) rather than chunk it.
#[test]
fn a_client_without_max_obj_size_is_never_sent_a_chunk() {
    let item = |target: &str, len: usize| {
        format!(
            "[[package.command]]\ncmd = \"replace\"\ntarget = \"{target}\"\ndata = \"{}\"\n",
            "x".repeat(len)
        )
    };
    // Three 700-byte values through 1500-byte messages: one per message, none cut.
    let script = format!(
        "[[package]]\n{}{}{}",
        item("./Vendor/A", 700),
        item("./Vendor/B", 700),
        item("./Vendor/C", 700)
    );
    let s = server(&script, None, None);
    let mut client = Client::new(&s);
    client.max_msg = 1500;
    assert_eq!(client.run(20), Some(End::Completed));
    let sent: Vec<&Command> = client
        .received
        .iter()
        .flat_map(|(_, m)| &m.body.commands)
        .filter(|c| matches!(c, Command::Replace(_)))
        .collect();
    assert_eq!(sent.len(), 3, "each value whole, in a message of its own");
    assert!(sent.iter().all(|c| c.items()[0]
        .data
        .as_ref()
        .is_some_and(|d| d.as_bytes().len() == 700)));
    assert!(sent.iter().all(|c| !c.items()[0].more_data));
    // The answer to Package 1 has no room left for a 700-byte value beside its Statuses: it holds
    // those alone, then one value a message, then the end.
    assert_eq!(client.rounds, 5);
    assert_eq!(s.records().len(), 1);

    // A 5000-byte value can go neither whole nor in chunks: the session ends with 1223.
    let s = server(
        &format!("[[package]]\n{}", item("./Vendor/Big", 5000)),
        None,
        None,
    );
    let mut client = Client::new(&s);
    client.max_msg = 1500;
    assert_eq!(client.run(20), Some(End::Aborted));
    assert!(client
        .received
        .iter()
        .flat_map(|(_, m)| &m.body.commands)
        .all(|c| c.items().iter().all(|i| !i.more_data)));
    // Package 1's answer holds its Statuses; the next message would be the value: 1223 instead.
    assert_eq!(client.rounds, 2);
}
