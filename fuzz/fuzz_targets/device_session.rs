//! Fuzz target: a device in mid-session fed arbitrary server replies (`ClientSession::receive`).
//!
//! The input is a selector byte and server messages (see `dmsim_fuzz::split`): the device of the
//! selected scenario, speaking the selected encoding, starts a session (`ClientSession::start`),
//! and each message is its server's HTTP 200 reply to what it last sent, labelled as the selector
//! says. A session goes on as long as the device asks for more; when one ends and messages are
//! left, the device opens its next session and those messages answer it.
//!
//! Never a panic, hang or unbounded allocation, and whatever the server says:
//! - every message the device sends decodes as its own Content-Type says (it is the device's own
//!   encoding) and carries the session's SessionID;
//! - the device's identity (`./DevInfo`) is untouched and its tree stays within its capacity.

#![no_main]

use dmsim::protocol::http::{HttpRequest, HttpResponse};
use dmsim::session::{ClientSession, SessionStart, Step};
use dmsim::syncml::decode_labelled;
use dmsim_fuzz::split;
use libfuzzer_sys::fuzz_target;

fn check_request(request: &HttpRequest, session: &ClientSession, own: dmsim::syncml::Encoding) {
    match decode_labelled(&request.content_type, &request.body) {
        Ok((encoding, msg)) => {
            assert_eq!(encoding, own, "the device speaks its own encoding");
            assert_eq!(msg.hdr.session_id, session.session_id());
        }
        Err(e) => panic!(
            "the device sent a message that does not decode: {e}\n{}",
            String::from_utf8_lossy(&request.body)
        ),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((selector, replies)) = split(data) else {
        return;
    };
    let own = selector.encoding;
    let mut device = dmsim_fuzz::device(selector.scenario, own);
    let model = device.tree.value_str("./DevInfo/Mod").map(str::to_string);
    let dev_id = device.tree.value_str("./DevInfo/DevId").map(str::to_string);
    let mut replies = replies.into_iter();
    'sessions: while replies.len() > 0 {
        let (mut session, first) = ClientSession::start(&mut device, SessionStart::default())
            .expect("the scenario's device has an account");
        check_request(&first.request, &session, own);
        for body in replies.by_ref() {
            let response = HttpResponse {
                status: 200,
                content_type: selector.label.content_type(body, own),
                hmac: None,
                body: body.to_vec(),
            };
            match session.receive(&mut device, &response) {
                Step::Send(next) => check_request(&next.request, &session, own),
                Step::SendAndEnd(last, _) => {
                    check_request(&last.request, &session, own);
                    continue 'sessions;
                }
                Step::Done(_) => continue 'sessions,
            }
        }
    }
    assert_eq!(
        device.tree.value_str("./DevInfo/Mod").map(str::to_string),
        model
    );
    assert_eq!(
        device.tree.value_str("./DevInfo/DevId").map(str::to_string),
        dev_id
    );
    if let Some(cap) = device.tree.capacity_bytes() {
        assert!(device.tree.used_bytes() <= cap);
    }
});
