//! Fuzz target: Package #0 notifications (`dmsim::syncml::pkg0`) and a device receiving one
//! (`dmsim::session::accept_notification`). Never a panic, hang or unbounded allocation, and:
//! - what parses and is valid builds back into a notification that parses to the same thing and
//!   verifies with the nonce it was built with;
//! - a notification the device accepts starts a session (the account it named exists) whose first
//!   message decodes as its Content-Type says;
//! - a valid notification for the device's server, signed with the server credentials the device
//!   holds, is accepted.
//!
//! The first byte chooses how far the rest gets: bit 0 re-signs a notification that parses with
//! the credentials of the device (scenario `auth/server-credentials.toml`: name and server id
//! `dmsim-server`, password `srvpass`, nonce `srvnonce`), bit 1 names the device's server in it.

#![no_main]

use dmsim::session::{accept_notification, ClientSession, Initiator};
use dmsim::syncml::decode_labelled;
use dmsim::syncml::pkg0::{self, NonceUsed};
use dmsim::syncml::Encoding;
use libfuzzer_sys::fuzz_target;

/// `scenarios/auth/server-credentials.toml`: the device checks its server's credentials.
const SCENARIO: usize = 2;
const SERVER_ID: &str = "dmsim-server";
const PASSWORD: &str = "srvpass";
const NONCE: &[u8] = b"srvnonce";

fuzz_target!(|data: &[u8]| {
    let Some((&mode, bytes)) = data.split_first() else {
        return;
    };
    let _ = pkg0::verify(bytes, PASSWORD, NONCE);
    let mut notification = match pkg0::parse(bytes) {
        Ok(parsed) => Some(parsed.notification),
        Err(e) => {
            let _ = e.to_string();
            None
        }
    };
    if let Some(n) = notification.as_mut() {
        if n.validate().is_ok() {
            let rebuilt = pkg0::build(n, "pwd", b"nonce");
            let parsed = pkg0::parse(&rebuilt).expect("a built notification parses");
            assert_eq!(&parsed.notification, n);
            assert_eq!(parsed.verify("pwd", b"nonce"), Ok(NonceUsed::Stored));
        }
        if mode & 2 == 2 {
            n.server_id = SERVER_ID.to_string();
        }
    }
    let signed;
    let input = match notification.as_ref() {
        Some(n) if mode & 1 == 1 => {
            signed = pkg0::build(n, PASSWORD, NONCE);
            &signed[..]
        }
        _ => bytes,
    };
    for encoding in [Encoding::Xml, Encoding::Wbxml] {
        let mut device = dmsim_fuzz::device(SCENARIO, encoding);
        match accept_notification(&device, input) {
            Ok(start) => {
                let Initiator::Server { session_id } = start.initiator else {
                    panic!("a notification starts a server-initiated session: {start:?}");
                };
                let (session, first) = ClientSession::start(&mut device, start)
                    .expect("the account the notification named exists");
                assert_eq!(session.session_id(), format!("{session_id:X}"));
                let request = &first.request;
                if let Err(e) = decode_labelled(&request.content_type, &request.body) {
                    panic!("the device's first message does not decode: {e}");
                }
            }
            Err(e) => {
                let _ = e.to_string();
                if let Some(n) = notification.as_ref().filter(|_| mode & 3 == 3) {
                    assert!(
                        n.validate().is_err(),
                        "a valid notification signed with the device's credentials was refused: {e}"
                    );
                }
            }
        }
    }
});
