//! What a run observed: codes read from what happened, never from the scenario's expectations.
//!
//! Each observation names its `source`:
//! - `wire`: the messages the device and the server exchanged (the session transcript), each read
//!   as its Content-Type says (a body that is not what its type says is not read, as no strict
//!   peer would read it).
//!   `syncml-status` is every Status the device sent, with the command it answered; `alert` every
//!   Alert either side sent, with its sender; `fumo-result` the result code of every FUMO Generic
//!   Alert the device sent, with its alert type; `scomo-result` the `ResultCode` of every SCOMO
//!   OperationComplete Generic Alert the device sent (either of its alert types, reference §6.3),
//!   with its alert type; `knox-efota` every code of every Knox E-FOTA report the device sent
//!   ([`crate::protocol::efota`]). `server-violation` is every protocol rule the server
//!   broke in its messages as the device read them ([`crate::session::Violation`]): one observation
//!   per rule, its `code` the rule's stable number ([`ServerRule::number`]) and its `command` the
//!   rule's id (`duplicate-cmd-id`, …), with how often the device saw it broken.
//! - `device`: the device's own records. `fumo-state` is every value its FUMO State node took;
//!   `dl-status` the OMA Download status each download attempt that read a descriptor ended with,
//!   whether or not the device posted it anywhere (a 903 it retried after, a download without an
//!   installNotifyURI), by FUMO, by the Knox E-FOTA client's items and by SCOMO; `scomo-status` every value a SCOMO Status node took, with the node's kind
//!   (`download`, `delivered`, `deployed`) as its `command`.
//! - `server`: the mock server's records. `install-notify` is every status a device posted to the
//!   server's installNotifyURI, as the server received it. `knox-efota` with `side` `portal` is a
//!   code of the Knox E-FOTA portal, read from the answers its REST API gave the scenario's calls
//!   (`[[portal.call]]`, never the calls' expectations): the object at `/error` with an integer
//!   `code` (a request the portal refused), and every object under a key `result`, at any depth,
//!   with an integer `code` (an operation's result, overall or per device). An `agentError` is the
//!   device's own E-FOTA code as the portal shows it, not the portal's: nothing under it is read.
//!
//! Each distinct observation is listed once, in the order first seen, with how often it occurred.
//!
//! [`WireSummary`] says what the messages themselves were on the wire, per direction: WBXML, XML or
//! other, judged from each message's bytes and its Content-Type together.

use crate::device::Device;
use crate::server::InstallNotification;
use crate::session::{Exchange, ServerRule, Violation};
use crate::syncml::{decode_labelled, Command, Encoding, SyncMl};
use crate::transport::TransportError;
use serde::Serialize;

/// One distinct observed code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Observation {
    pub family: &'static str,
    pub code: i64,
    /// Where it was read: `wire`, `device` or `server`.
    pub source: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender: Option<&'static str>,
    /// Whose code of a family with two sides: `portal` for a Knox E-FOTA portal's code (a
    /// `knox-efota` observation without it is the device's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub side: Option<&'static str>,
    pub count: u32,
}

/// Which side sent a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sender {
    Device,
    Server,
}

impl Sender {
    fn as_str(self) -> &'static str {
        match self {
            Sender::Device => "device",
            Sender::Server => "server",
        }
    }
}

/// Collects observations, merging repeats.
#[derive(Debug, Default)]
pub struct Observations {
    list: Vec<Observation>,
}

impl Observations {
    /// Observations of a whole transcript.
    pub fn from_transcript(transcript: &[Exchange]) -> Observations {
        Observations::from_exchanges(transcript)
    }

    /// Observations of exchanges, in order (e.g. of several sessions).
    pub fn from_exchanges<'a>(exchanges: impl IntoIterator<Item = &'a Exchange>) -> Observations {
        let mut obs = Observations::default();
        for exchange in exchanges {
            let request = &exchange.request;
            if let Ok((_, msg)) = decode_labelled(&request.content_type, &request.body) {
                obs.message(&msg, Sender::Device);
            }
            if let Ok(Ok((_, msg))) = exchange
                .response
                .as_ref()
                .map(|r| decode_labelled(&r.content_type, &r.body))
            {
                obs.message(&msg, Sender::Server);
            }
        }
        obs
    }

    /// Add one observation.
    pub fn add(
        &mut self,
        family: &'static str,
        code: i64,
        command: Option<String>,
        sender: Option<&'static str>,
    ) {
        self.push(Observation {
            family,
            code,
            source: source_of(family),
            command,
            sender,
            side: None,
            count: 1,
        });
    }

    /// Add an observation, or count it again if it was seen.
    fn push(&mut self, new: Observation) {
        match self.list.iter_mut().find(|o| {
            o.family == new.family
                && o.code == new.code
                && o.source == new.source
                && o.command == new.command
                && o.sender == new.sender
                && o.side == new.side
        }) {
            Some(o) => o.count = o.count.saturating_add(new.count),
            None => self.list.push(new),
        }
    }

    /// The Knox E-FOTA portal's codes in the answers its REST API gave (see the module docs).
    pub fn portal_answers<'a>(&mut self, answers: impl IntoIterator<Item = &'a serde_json::Value>) {
        for body in answers {
            if let Some(code) = body
                .pointer("/error/code")
                .and_then(serde_json::Value::as_i64)
            {
                self.portal_code(code);
            }
            self.portal_results(body);
        }
    }

    /// Every `result` object's integer `code` in `value`, at any depth, outside `agentError`.
    fn portal_results(&mut self, value: &serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, inner) in map {
                    if key == "agentError" {
                        continue;
                    }
                    if key == "result" {
                        if let Some(code) = inner.get("code").and_then(serde_json::Value::as_i64) {
                            self.portal_code(code);
                        }
                    }
                    self.portal_results(inner);
                }
            }
            serde_json::Value::Array(items) => {
                for item in items {
                    self.portal_results(item);
                }
            }
            _ => {}
        }
    }

    fn portal_code(&mut self, code: i64) {
        self.push(Observation {
            family: "knox-efota",
            code,
            source: "server",
            command: None,
            sender: None,
            side: Some("portal"),
            count: 1,
        });
    }

    fn message(&mut self, msg: &SyncMl, sender: Sender) {
        self.commands(&msg.body.commands, sender);
    }

    fn commands(&mut self, commands: &[Command], sender: Sender) {
        for cmd in commands {
            match cmd {
                Command::Status(s) if sender == Sender::Device => self.add(
                    "syncml-status",
                    s.code.code().into(),
                    Some(s.cmd.to_string()),
                    None,
                ),
                Command::Alert(a) => {
                    self.add("alert", a.code.code().into(), None, Some(sender.as_str()));
                    if sender == Sender::Device {
                        self.fumo_results(&a.items);
                        self.scomo_results(&a.items);
                        self.efota_reports(&a.items);
                    }
                }
                Command::Atomic(c) | Command::Sequence(c) => self.commands(&c.commands, sender),
                _ => {}
            }
        }
    }

    /// The FUMO result codes of a device's Generic Alert items.
    fn fumo_results(&mut self, items: &[crate::syncml::Item]) {
        for (alert_type, code) in items
            .iter()
            .filter_map(crate::protocol::fumo::reported_result)
        {
            self.add(
                "fumo-result",
                code.into(),
                Some(alert_type.to_string()),
                None,
            );
        }
    }

    /// The SCOMO result codes of a device's Generic Alert items.
    fn scomo_results(&mut self, items: &[crate::syncml::Item]) {
        use crate::protocol::{fumo::bare_alert_type, scomo};
        for item in items {
            let Some(result) = scomo::reported_result(item) else {
                continue;
            };
            let alert_type = item
                .meta
                .as_ref()
                .and_then(|m| m.type_.as_deref())
                .map(|t| bare_alert_type(t).to_string());
            self.add("scomo-result", result.code.into(), alert_type, None);
        }
    }

    /// The Knox E-FOTA codes of a device's E-FOTA report items, each code of a report in order.
    fn efota_reports(&mut self, items: &[crate::syncml::Item]) {
        for codes in items
            .iter()
            .filter_map(crate::protocol::efota::reported_codes)
        {
            for code in codes {
                self.add("knox-efota", code, None, None);
            }
        }
    }

    /// The rules the server broke as the device read its messages, one observation per rule.
    pub fn server_violations<'a>(&mut self, violations: impl IntoIterator<Item = &'a Violation>) {
        for v in violations {
            self.server_violation(v.rule);
        }
    }

    fn server_violation(&mut self, rule: ServerRule) {
        self.add(
            "server-violation",
            rule.number().into(),
            Some(rule.id().to_string()),
            None,
        );
    }

    /// Observations of the device's own records (FUMO states, DL statuses, SCOMO statuses).
    pub fn device(&mut self, device: &Device) {
        if let Some(fumo) = device.fumo() {
            for state in &fumo.records.states {
                self.add("fumo-state", state.value().into(), None, None);
            }
            for status in &fumo.records.dl_statuses {
                self.add("dl-status", status.code().into(), None, None);
            }
        }
        if let Some(efota) = crate::scenario::family::efota(device) {
            for status in &efota.client.dl_statuses {
                self.add("dl-status", status.code().into(), None, None);
            }
        }
        if let Some(scomo) = crate::scenario::scomo::agent(device) {
            for status in &scomo.records.dl_statuses {
                self.add("dl-status", status.code().into(), None, None);
            }
            for r in &scomo.records.statuses {
                self.add(
                    "scomo-status",
                    r.value.into(),
                    Some(r.area.as_str().to_string()),
                    None,
                );
            }
        }
    }

    /// Observations of the mock server's install-notify records.
    pub fn install_notifications(&mut self, notifications: &[InstallNotification]) {
        for n in notifications {
            self.add("install-notify", n.code.into(), None, None);
        }
    }

    /// Observations of a Snom m3 base's display: every code it showed, in order.
    pub fn snom_display(&mut self, codes: &[u8]) {
        for &code in codes {
            self.add("snom-m3", code.into(), None, None);
        }
    }

    /// The observations, in the order first seen.
    pub fn into_vec(self) -> Vec<Observation> {
        self.list
    }
}

/// Where a family's observations are read (see the module docs).
fn source_of(family: &str) -> &'static str {
    match family {
        "fumo-state" | "dl-status" | "scomo-status" | "snom-m3" => "device",
        "install-notify" => "server",
        _ => "wire",
    }
}

/// How many messages of one direction were of each kind on the wire.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct WireCounts {
    /// Labelled with a WBXML SyncML type, and WBXML SyncML in their bytes (a WBXML header with a
    /// SyncML public id, and a body that decodes).
    pub wbxml: u32,
    /// Labelled with an XML SyncML type, and an XML SyncML document in their bytes.
    pub xml: u32,
    /// Anything else: a body that is not what its type says, a type that is not SyncML, a body
    /// that does not decode, or (from the server) an HTTP error instead of a message.
    pub other: u32,
}

impl WireCounts {
    /// All messages counted.
    pub fn total(&self) -> u32 {
        self.wbxml + self.xml + self.other
    }

    fn count(&mut self, content_type: &str, body: &[u8]) {
        match decode_labelled(content_type, body) {
            Ok((Encoding::Wbxml, _)) => self.wbxml += 1,
            Ok((Encoding::Xml, _)) => self.xml += 1,
            Err(_) => self.other += 1,
        }
    }
}

/// What the messages of a run were on the wire: `device` counts the device's requests, `server` the
/// server's answers.
///
/// Taken from the raw bytes of the transcript, not from the device's settings. An exchange counts
/// when an answer came back, so the request surely went out: a SyncML answer counts by its kind,
/// an HTTP error or a non-SyncML answer as the server's `other`. An exchange that failed without an
/// answer (no connection, a TLS handshake, a timeout, a connection broken midway) is not counted
/// in either direction, as whether its request left cannot be told.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct WireSummary {
    pub device: WireCounts,
    pub server: WireCounts,
}

impl WireSummary {
    /// The summary of exchanges (e.g. of several sessions).
    pub fn of<'a>(exchanges: impl IntoIterator<Item = &'a Exchange>) -> WireSummary {
        let mut wire = WireSummary::default();
        for exchange in exchanges {
            let request = &exchange.request;
            match &exchange.response {
                Ok(response) => {
                    wire.device.count(&request.content_type, &request.body);
                    wire.server.count(&response.content_type, &response.body);
                }
                Err(TransportError::Http { .. } | TransportError::ContentType(_)) => {
                    wire.device.count(&request.content_type, &request.body);
                    wire.server.other += 1;
                }
                Err(_) => {}
            }
        }
        wire
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::http::{HttpRequest, HttpResponse};
    use crate::syncml::{Location, SyncBody, SyncHdr, CONTENT_TYPE_WBXML, CONTENT_TYPE_XML};

    fn message() -> SyncMl {
        SyncMl {
            hdr: SyncHdr {
                ver_dtd: "1.2".into(),
                ver_proto: "DM/1.2".into(),
                session_id: "1".into(),
                msg_id: "1".into(),
                target: Location::uri("https://dm.example/dm"),
                source: Location::uri("IMEI:1"),
                resp_uri: None,
                no_resp: false,
                cred: None,
                meta: None,
            },
            body: SyncBody {
                commands: Vec::new(),
                final_flag: true,
            },
        }
    }

    fn exchange(
        request: (&str, Vec<u8>),
        response: Result<(&str, Vec<u8>), TransportError>,
    ) -> Exchange {
        Exchange {
            request: HttpRequest {
                url: "https://dm.example/dm".into(),
                content_type: request.0.into(),
                hmac: None,
                body: request.1,
            },
            response: response.map(|(content_type, body)| HttpResponse {
                status: 200,
                content_type: content_type.into(),
                hmac: None,
                body,
            }),
        }
    }

    #[test]
    fn the_wire_summary_judges_each_message_by_its_bytes_and_its_type() {
        let (xml, wbxml) = (
            Encoding::Xml.encode(&message()),
            Encoding::Wbxml.encode(&message()),
        );
        let exchanges = [
            exchange(
                (CONTENT_TYPE_WBXML, wbxml.clone()),
                Ok((CONTENT_TYPE_WBXML, wbxml.clone())),
            ),
            // XML labelled WBXML, answered in XML.
            exchange(
                (CONTENT_TYPE_WBXML, xml.clone()),
                Ok((CONTENT_TYPE_XML, xml.clone())),
            ),
            // Refused: the answer was an HTTP error, not a message.
            exchange(
                (CONTENT_TYPE_XML, wbxml.clone()),
                Err(TransportError::Http {
                    status: 415,
                    reason: "unsupported".into(),
                }),
            ),
            // Never sent: nothing counts.
            exchange(
                (CONTENT_TYPE_XML, xml.clone()),
                Err(TransportError::Unreachable("127.0.0.1:9".into())),
            ),
            exchange(
                ("application/vnd.syncml+xml", xml.clone()),
                Ok(("", wbxml.clone())),
            ),
        ];
        let wire = WireSummary::of(&exchanges);
        assert_eq!(
            wire.device,
            WireCounts {
                wbxml: 1,
                xml: 1,
                other: 2
            }
        );
        assert_eq!(
            wire.server,
            WireCounts {
                wbxml: 1,
                xml: 1,
                other: 2
            }
        );
        assert_eq!(wire.device.total(), 4);
        let json = serde_json::to_value(wire).expect("serializes");
        assert_eq!(
            json,
            serde_json::json!({
                "device": {"wbxml": 1, "xml": 1, "other": 2},
                "server": {"wbxml": 1, "xml": 1, "other": 2}
            })
        );
    }

    /// A SCOMO OperationComplete alert from the device is a `scomo-result`, with its bare type; a
    /// FUMO result alert is not, and a server's alert is not the device's result.
    #[test]
    fn scomo_results_are_read_from_the_devices_operation_complete_alerts() {
        use crate::protocol::scomo::{ResultData, LEGACY_OPERATION_COMPLETE, OPERATION_COMPLETE};
        use crate::syncml::GenericAlert;
        let alert = |alert_type: &str, data: String| GenericAlert {
            correlator: Some("c1".into()),
            source_uri: "./SCOMO/Download/App/Operations/DownloadInstall".into(),
            target_uri: Some("./SCOMO/Inventory/Deployed/maps".into()),
            alert_type: alert_type.into(),
            format: "xml".into(),
            mark: Some("informational".into()),
            data,
        };
        let result = |code| {
            ResultData {
                code,
                identifier: Some("maps".into()),
            }
            .to_string()
        };
        let mut device = message();
        device.body.commands = vec![
            alert(OPERATION_COMPLETE, result(1200)).to_command(),
            alert(
                &format!("Reversed-Domain-Name: {LEGACY_OPERATION_COMPLETE}"),
                result(1405),
            )
            .to_command(),
            alert(
                "org.openmobilealliance.dm.firmwareupdate.update",
                "410".into(),
            )
            .to_command(),
            alert(OPERATION_COMPLETE, "no result here".into()).to_command(),
        ];
        let mut server = message();
        server.body.commands = vec![alert(OPERATION_COMPLETE, result(1412)).to_command()];
        let exchanges = [exchange(
            (CONTENT_TYPE_XML, Encoding::Xml.encode(&device)),
            Ok((CONTENT_TYPE_XML, Encoding::Xml.encode(&server))),
        )];
        let scomo: Vec<(i64, Option<String>)> = Observations::from_exchanges(&exchanges)
            .into_vec()
            .into_iter()
            .filter(|o| o.family == "scomo-result")
            .map(|o| (o.code, o.command))
            .collect();
        assert_eq!(
            scomo,
            [
                (1200, Some(OPERATION_COMPLETE.to_string())),
                (1405, Some(LEGACY_OPERATION_COMPLETE.to_string())),
            ]
        );
    }

    /// The portal's codes: the refusal at `/error`, every `result` at any depth (an operation's
    /// and each device's), never a device's `agentError`; repeats are counted, and the device's
    /// own `knox-efota` codes stay apart from the portal's.
    #[test]
    fn portal_codes_are_read_from_the_apis_answers() {
        let answers = [
            serde_json::json!({"error": {"code": -4, "key": "EMPTY_DEVICE_LIST", "message": "x"}}),
            serde_json::json!({"error": {"key": "UNAUTHORIZED", "message": "no token"}}),
            serde_json::json!({
                "id": "op-1",
                "result": {"code": -7007, "message": "partial"},
                "devices": [
                    {"deviceId": "a", "result": {"code": 0}},
                    {"deviceId": "b", "result": {"code": -7006},
                     "agentError": {"code": -1463, "result": {"code": -1200}}},
                    {"deviceId": "c", "operation": {"id": "op-1", "result": {"code": 0}}},
                    {"deviceId": "d", "result": {"code": "-1"}},
                    {"deviceId": "e", "result": {"code": -4.5}},
                ]
            }),
            serde_json::json!([{"result": {"code": -4}}]),
            serde_json::json!({"data": {"error": {"code": -100}}}),
        ];
        let mut obs = Observations::default();
        obs.add("knox-efota", -4, None, None);
        obs.portal_answers(&answers);
        let seen: Vec<(&str, i64, &str, Option<&str>, u32)> = obs
            .into_vec()
            .into_iter()
            .map(|o| (o.family, o.code, o.source, o.side, o.count))
            .collect();
        assert_eq!(
            seen,
            [
                ("knox-efota", -4, "wire", None, 1),
                ("knox-efota", -4, "server", Some("portal"), 2),
                ("knox-efota", 0, "server", Some("portal"), 2),
                ("knox-efota", -7006, "server", Some("portal"), 1),
                ("knox-efota", -7007, "server", Some("portal"), 1),
            ]
        );
        let json = serde_json::to_value(Observation {
            family: "knox-efota",
            code: -4,
            source: "server",
            command: None,
            sender: None,
            side: Some("portal"),
            count: 1,
        })
        .expect("serializes");
        assert_eq!(
            json,
            serde_json::json!({"family": "knox-efota", "code": -4, "source": "server", "side": "portal", "count": 1})
        );
        let mut device = Observations::default();
        device.add("knox-efota", -4, None, None);
        let json = serde_json::to_value(&device.into_vec()[0]).expect("serializes");
        assert!(json.get("side").is_none(), "{json}");
    }
}
