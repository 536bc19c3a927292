//! Session transcripts for people: every message as it went on the wire (XML as its own text,
//! WBXML token by token), with the rules the server broke after the message they concern.

use crate::session::{Exchange, SessionReport, Violation};
use crate::syncml::render_as_received;

/// The transcript message by message, each headed by its Content-Type and shown as received
/// ([`crate::syncml::render_as_received`]): XML as its own text, WBXML as XML token by token, in
/// wire order and never through the message model, so that what reads out of order came out of
/// order.
pub fn render_transcript(transcript: &[Exchange]) -> String {
    render_with(transcript, &[])
}

/// A session's transcript as [`render_transcript`] shows it, each rule the server broke right after
/// the message it concerns.
pub fn render_report(report: &SessionReport) -> String {
    render_with(&report.transcript, &report.violations)
}

fn render_with(transcript: &[Exchange], violations: &[Violation]) -> String {
    let mut out = String::new();
    for (n, exchange) in transcript.iter().enumerate() {
        out.push_str(&render_exchange(n + 1, exchange));
        let message = u32::try_from(n + 1).unwrap_or(u32::MAX);
        for v in violations.iter().filter(|v| v.message == message) {
            out.push_str(&format!("--- server violation: {v}\n"));
        }
    }
    let shown = u32::try_from(transcript.len()).unwrap_or(u32::MAX);
    for v in violations.iter().filter(|v| v.message > shown) {
        out.push_str(&format!("--- server violation: {v}\n"));
    }
    out
}

/// The `n`-th exchange of a session: the device's message, then the server's answer (or why
/// there is none), each as received.
pub fn render_exchange(n: usize, exchange: &Exchange) -> String {
    let mut out = format!(
        "--- message {n} device -> server ({}, {})\n",
        exchange.request.url, exchange.request.content_type
    );
    out.push_str(&render_as_received(&exchange.request.body));
    out.push('\n');
    match &exchange.response {
        Ok(r) => {
            out.push_str(&format!(
                "--- message {n} server -> device (HTTP {}, {})\n",
                r.status, r.content_type
            ));
            out.push_str(&render_as_received(&r.body));
            out.push('\n');
        }
        Err(e) => out.push_str(&format!("--- message {n} failed: {e}\n")),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::http::{HttpRequest, HttpResponse};
    use crate::session::{ServerRule, SessionEnd};
    use crate::syncml::{
        CmdName, Command, Deviations, Encoding, Location, Status, StatusCode, SyncBody, SyncHdr,
        SyncMl,
    };

    /// A WBXML exchange whose answer has its Status's Data before its Cmd on the wire.
    fn wbxml_exchange() -> (Exchange, Violation) {
        let msg = SyncMl {
            hdr: SyncHdr {
                ver_dtd: "1.2".into(),
                ver_proto: "DM/1.2".into(),
                session_id: "1".into(),
                msg_id: "1".into(),
                target: Location::uri("IMEI:1"),
                source: Location::uri("https://dm/dm"),
                resp_uri: None,
                no_resp: false,
                cred: None,
                meta: None,
            },
            body: SyncBody {
                commands: vec![Command::Status(Status {
                    cmd_id: "1".into(),
                    msg_ref: "1".into(),
                    cmd_ref: "0".into(),
                    cmd: CmdName::SyncHdr,
                    target_refs: Vec::new(),
                    source_refs: Vec::new(),
                    cred: None,
                    chal: None,
                    code: StatusCode::Ok,
                    items: Vec::new(),
                })],
                final_flag: true,
            },
        };
        let out_of_order = Deviations {
            status_data_before_cmd: true,
            ..Deviations::default()
        };
        let exchange = Exchange {
            request: HttpRequest {
                url: "https://dm/dm".into(),
                content_type: Encoding::Wbxml.content_type().into(),
                hmac: None,
                body: Encoding::Wbxml.encode(&msg),
            },
            response: Ok(HttpResponse {
                status: 200,
                content_type: Encoding::Wbxml.content_type().into(),
                hmac: None,
                body: Encoding::Wbxml.encode_with(&msg, out_of_order),
            }),
        };
        let violation = Violation {
            message: 1,
            msg_id: "1".into(),
            rule: ServerRule::ElementOrder,
            detail: "at SyncML/SyncBody/Status/Cmd: Cmd comes after Data in Status".into(),
            excerpt: "<Cmd>SyncHdr</Cmd>".into(),
        };
        (exchange, violation)
    }

    #[test]
    fn the_transcript_shows_wbxml_in_wire_order_and_each_violation_after_its_message() {
        let (exchange, violation) = wbxml_exchange();
        let report = SessionReport {
            session_id: "1".into(),
            end: SessionEnd::Completed,
            transcript: vec![exchange.clone(), exchange],
            violations: vec![violation],
            acknowledged: Vec::new(),
        };
        let shown = render_report(&report);
        let answer = shown
            .find("--- message 1 server -> device (HTTP 200, application/vnd.syncml.dm+wbxml)\n")
            .expect("the answer");
        let status = &shown[answer..];
        let at = |needle: &str| {
            status
                .find(needle)
                .unwrap_or_else(|| panic!("{needle} not in\n{shown}"))
        };
        // As on the wire: CmdRef, Data, Cmd (the model would give CmdRef, Cmd, Data).
        assert!(at("<CmdRef>0</CmdRef>") < at("<Data>200</Data>"), "{shown}");
        assert!(at("<Data>200</Data>") < at("<Cmd>SyncHdr</Cmd>"), "{shown}");
        // The violation right after the message it concerns, before the next exchange.
        let line = "--- server violation: element-order (server MsgID 1): at SyncML/SyncBody/Status/Cmd: Cmd comes after Data in Status [<Cmd>SyncHdr</Cmd>]\n";
        assert!(at("</SyncML>\n") < at(line), "{shown}");
        assert!(at(line) < at("--- message 2 device -> server"), "{shown}");
        assert_eq!(shown.matches("--- server violation").count(), 1);
        // The device's own message reads as it went too.
        assert!(shown.starts_with("--- message 1 device -> server (https://dm/dm, application/vnd.syncml.dm+wbxml)\n<!-- WBXML 1.2, public id 0x1201 (SyncML 1.2)"), "{shown}");
        assert_eq!(
            render_transcript(&report.transcript),
            shown.replace(line, "")
        );
    }
}
