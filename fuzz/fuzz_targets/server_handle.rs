//! Fuzz target: the mock server fed arbitrary device requests (`MockServer::handle`).
//!
//! The input is a selector byte and device messages (see `dmsim_fuzz::split`): the server of the
//! selected scenario (each has a script; `auth/md5.toml` demands MD5 credentials, and its captured
//! messages carry the right ones) gets each message as an HTTP POST, labelled as the selector says,
//! one after the other.
//!
//! Never a panic, hang or unbounded allocation, and whatever the device says:
//! - an answer is a 2xx with a SyncML message that decodes as its Content-Type says, in the
//!   encoding the request was labelled with, or a 4xx/5xx;
//! - a refused request is 400 (the body does not decode) or 415 (the label is wrong), and is kept in
//!   the refused list, which stays bounded.

#![no_main]

use dmsim::protocol::http::HttpRequest;
use dmsim::server::MAX_REFUSED_KEPT;
use dmsim::syncml::{decode_labelled, Encoding};
use dmsim_fuzz::split;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((selector, requests)) = split(data) else {
        return;
    };
    let server = dmsim_fuzz::server(selector.scenario);
    let url = server.config().url.clone();
    for body in requests {
        let request = HttpRequest {
            url: url.clone(),
            content_type: selector.label.content_type(body, selector.encoding),
            hmac: None,
            body: body.to_vec(),
        };
        let response = server.handle(&request);
        if (200..300).contains(&response.status) {
            match decode_labelled(&response.content_type, &response.body) {
                Ok((encoding, _)) => assert_eq!(
                    Some(encoding),
                    Encoding::from_content_type(&request.content_type),
                    "the server answers in the encoding it was spoken to"
                ),
                Err(e) => panic!(
                    "the server answered {} with a message that does not decode: {e}\n{}",
                    response.status,
                    String::from_utf8_lossy(&response.body)
                ),
            }
        } else {
            assert!(
                (400..600).contains(&response.status),
                "HTTP {}",
                response.status
            );
        }
    }
    let refused = server.refused();
    assert!(refused.violations.len() <= MAX_REFUSED_KEPT);
    let _ = server.records();
});
