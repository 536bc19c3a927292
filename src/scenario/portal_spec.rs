//! The scenario's `[portal]` table: the embedded server plays the Knox E-FOTA portal, and the
//! scenario calls its REST API (`[[portal.call]]`) at chosen points of the run.
//!
//! Everything of `[portal]` but `call` is the portal's catalogue, kept as TOML ([`PortalSpec::config`])
//! for the portal to read as its own configuration. The calls are read strictly, each error naming
//! the call by its index (`portal.call[2]: …`, counted from 0 like `fault[i]`):
//!
//! ```toml
//! [[portal.call]]
//! at = "start"            # "start" (default), "session N" (N ≥ 1) or "end"
//! method = "POST"         # GET, POST, PUT or DELETE
//! path = "/api/efota/devices/bulkUpload"
//! body = '''{"devices": [{"imei": "$IMEI"}]}'''
//! token = "valid"         # "valid" (default), "none", or a literal bearer token
//! status = 200            # the HTTP status expected
//! expect = { "/error/code" = -4 }   # RFC 6901 JSON pointer → exact JSON value
//! ```
//!
//! `start` and `session 1` are the same moment, before the device's first session; `session N`
//! is right before its Nth session (after the time between sessions has passed and the device's
//! work after the session before is done), `end` after its last session and that work. Calls of one
//! moment run in the order written. In `body`, `$IMEI`, `$SERIAL` and `$DEVICE` (the device's
//! DevId) are replaced by the device's (see [`Placeholders`]); a body naming `$IMEI` or `$SERIAL`
//! needs a device whose DevId is an IMEI.

use serde::Deserialize;
use std::fmt;

/// `[portal]`: the portal's catalogue (opaque here) and the API calls.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(try_from = "toml::Table")]
pub struct PortalSpec {
    /// Everything of `[portal]` but `call`: the portal's own configuration (its catalogue),
    /// deserialised by the portal.
    pub config: toml::Table,
    /// `[[portal.call]]`, in the order written.
    pub calls: Vec<PortalCall>,
}

/// One `[[portal.call]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct PortalCall {
    pub at: CallAt,
    pub method: Method,
    /// The path (and query) as written, starting with `/`.
    pub path: String,
    /// The request body as written, placeholders not yet replaced.
    pub body: Option<String>,
    pub token: TokenSpec,
    /// The HTTP status the call must get.
    pub status: u16,
    /// JSON pointers into the response body and the exact value each must have, sorted by pointer.
    pub expect: Vec<(String, serde_json::Value)>,
}

/// When a call is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CallAt {
    /// Before the device's first session (the same moment as `Session(1)`).
    Start,
    /// Before the device's Nth session (from 1).
    Session(u32),
    /// After the device's last session.
    End,
}

impl CallAt {
    /// The session the call comes before (from 1), `None` for `end`.
    pub fn before_session(self) -> Option<u32> {
        match self {
            CallAt::Start => Some(1),
            CallAt::Session(n) => Some(n),
            CallAt::End => None,
        }
    }

    fn parse(text: &str) -> Option<CallAt> {
        match text.split_whitespace().collect::<Vec<_>>()[..] {
            ["start"] => Some(CallAt::Start),
            ["end"] => Some(CallAt::End),
            ["session", n] => n
                .parse::<u32>()
                .ok()
                .filter(|&n| n >= 1)
                .map(CallAt::Session),
            _ => None,
        }
    }
}

impl fmt::Display for CallAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallAt::Start => f.write_str("start"),
            CallAt::Session(n) => write!(f, "session {n}"),
            CallAt::End => f.write_str("end"),
        }
    }
}

/// The HTTP method of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }
}

/// The bearer token a call presents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSpec {
    /// A valid token, as the portal gives the runner.
    Valid,
    /// No `Authorization` header.
    None,
    /// This token, as written.
    Literal(String),
}

/// A call as written, before its values are checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCall {
    at: Option<String>,
    method: Method,
    path: String,
    body: Option<String>,
    token: Option<String>,
    status: u16,
    #[serde(default)]
    expect: toml::Table,
}

impl TryFrom<toml::Table> for PortalSpec {
    type Error = String;

    fn try_from(mut config: toml::Table) -> Result<PortalSpec, String> {
        let calls = match config.remove("call") {
            None => Vec::new(),
            Some(toml::Value::Array(calls)) => calls,
            Some(_) => {
                return Err("portal.call: expected calls as [[portal.call]] tables".to_string())
            }
        };
        let calls = calls
            .into_iter()
            .enumerate()
            .map(|(i, call)| read_call(call).map_err(|e| format!("portal.call[{i}]: {e}")))
            .collect::<Result<_, _>>()?;
        Ok(PortalSpec { config, calls })
    }
}

fn read_call(value: toml::Value) -> Result<PortalCall, String> {
    if !value.is_table() {
        return Err("expected a table ([[portal.call]])".to_string());
    }
    let raw: RawCall = value
        .try_into()
        .map_err(|e: toml::de::Error| e.message().trim().to_string())?;
    let at = match raw.at.as_deref() {
        None => CallAt::Start,
        Some(text) => CallAt::parse(text).ok_or_else(|| {
            format!("at = {text:?}: expected \"start\", \"session N\" (N from 1) or \"end\"")
        })?,
    };
    if !raw.path.starts_with('/') {
        return Err(format!("path = {:?}: must start with '/'", raw.path));
    }
    if raw
        .path
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(format!(
            "path = {:?}: no spaces or control characters in a path",
            raw.path
        ));
    }
    let token = match raw.token.as_deref() {
        None | Some("valid") => TokenSpec::Valid,
        Some("none") => TokenSpec::None,
        Some(t) if t.trim().is_empty() || t.chars().any(char::is_control) => {
            return Err(format!(
                "token = {t:?}: \"valid\", \"none\", or a token (not blank, no control characters)"
            ))
        }
        Some(t) => TokenSpec::Literal(t.to_string()),
    };
    if !(100..=599).contains(&raw.status) {
        return Err(format!("status = {}: not an HTTP status", raw.status));
    }
    let expect = raw
        .expect
        .into_iter()
        .map(|(pointer, value)| {
            check_pointer(&pointer).map_err(|why| format!("expect {pointer:?}: {why}"))?;
            let json = json_of(value).map_err(|why| format!("expect {pointer:?}: {why}"))?;
            Ok((pointer, json))
        })
        .collect::<Result<_, String>>()?;
    Ok(PortalCall {
        at,
        method: raw.method,
        path: raw.path,
        body: raw.body,
        token,
        status: raw.status,
        expect,
    })
}

/// An RFC 6901 JSON pointer: empty (the whole document) or `/`-separated reference tokens, in
/// which `~` is only `~0` or `~1` (§3).
fn check_pointer(pointer: &str) -> Result<(), &'static str> {
    if !pointer.is_empty() && !pointer.starts_with('/') {
        return Err("a JSON pointer is empty or starts with '/' (RFC 6901 §3)");
    }
    let mut chars = pointer.chars();
    while let Some(c) = chars.next() {
        if c == '~' && !matches!(chars.next(), Some('0' | '1')) {
            return Err("'~' in a JSON pointer is '~0' or '~1' (RFC 6901 §3)");
        }
    }
    Ok(())
}

/// The JSON value a TOML value writes: a date-time is its RFC 3339 text (JSON has no dates), a
/// float that is not finite has none.
fn json_of(value: toml::Value) -> Result<serde_json::Value, String> {
    use serde_json::Value as J;
    Ok(match value {
        toml::Value::String(s) => J::String(s),
        toml::Value::Integer(i) => J::from(i),
        toml::Value::Float(f) => serde_json::Number::from_f64(f)
            .map(J::Number)
            .ok_or_else(|| format!("{f} is not a JSON number"))?,
        toml::Value::Boolean(b) => J::Bool(b),
        toml::Value::Datetime(d) => J::String(d.to_string()),
        toml::Value::Array(items) => J::Array(
            items
                .into_iter()
                .map(json_of)
                .collect::<Result<_, String>>()?,
        ),
        toml::Value::Table(t) => J::Object(
            t.into_iter()
                .map(|(k, v)| json_of(v).map(|v| (k, v)))
                .collect::<Result<_, String>>()?,
        ),
    })
}

/// What a call's body may name of the device: `$IMEI`, `$SERIAL` and `$DEVICE` (its DevId).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholders {
    pub device: String,
    /// The device's IMEI, when its DevId is one ([`crate::protocol::efota::imei`]).
    pub imei: Option<String>,
    /// Its serial number, from the IMEI ([`crate::protocol::efota::serial_number`]).
    pub serial: Option<String>,
}

impl Placeholders {
    /// The values of a device with this DevId.
    pub fn of(dev_id: &str) -> Placeholders {
        use crate::protocol::efota;
        Placeholders {
            device: dev_id.to_string(),
            imei: efota::imei(dev_id).map(str::to_string),
            serial: efota::serial_number(dev_id),
        }
    }

    /// `body` with every placeholder replaced, each value escaped as inside a JSON string (a
    /// DevId with a quote does not break the body); an error names a placeholder the device has
    /// no value for.
    pub fn apply(&self, body: &str) -> Result<String, String> {
        let mut out = body.to_string();
        for (name, value) in [
            ("$IMEI", &self.imei),
            ("$SERIAL", &self.serial),
            ("$DEVICE", &Some(self.device.clone())),
        ] {
            if !out.contains(name) {
                continue;
            }
            let Some(value) = value else {
                return Err(format!(
                    "the body names {name}, but the device's DevId {:?} is not an IMEI (IMEI: and 15 digits)",
                    self.device
                ));
            };
            out = out.replace(name, &json_string_content(value));
        }
        Ok(out)
    }
}

/// `text` as the inside of a JSON string (without the quotes).
fn json_string_content(text: &str) -> String {
    let quoted = serde_json::Value::String(text.to_string()).to_string();
    quoted[1..quoted.len() - 1].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(calls: &str) -> Result<PortalSpec, String> {
        let text = format!("[portal]\nmodels = [\"SM-G991B\"]\n{calls}");
        #[derive(Deserialize)]
        struct File {
            portal: PortalSpec,
        }
        toml::from_str::<File>(&text)
            .map(|f| f.portal)
            .map_err(|e| e.message().to_string())
    }

    fn err(call: &str) -> String {
        match spec(&format!("[[portal.call]]\n{call}\n")) {
            Err(e) => e,
            Ok(s) => panic!("expected an error for {call:?}, got {s:?}"),
        }
    }

    const GOOD: &str = "method = \"POST\"\npath = \"/api/efota/devices/bulkUpload\"\nstatus = 200";

    #[test]
    fn a_call_reads_with_its_defaults_and_the_rest_is_the_catalogue() {
        let s = spec(&format!(
            "[[portal.call]]\n{GOOD}\n[[portal.call]]\nat = \"session 2\"\nmethod = \"GET\"\npath = \"/api/efota/licenses?x=1\"\ntoken = \"none\"\nstatus = 401\nbody = '{{\"imei\": \"$IMEI\"}}'\nexpect = {{ \"/error/key\" = \"UNAUTHORIZED\", \"/devices/0/result\" = {{ code = -7, ok = [true, 1.5] }} }}\n[[portal.call]]\nat = \"end\"\nmethod = \"DELETE\"\npath = \"/x\"\ntoken = \"abc\"\nstatus = 404\n"
        ))
        .expect("valid");
        assert_eq!(
            s.config.get("models"),
            Some(&toml::Value::Array(vec!["SM-G991B".into()]))
        );
        assert!(!s.config.contains_key("call"));
        let c = &s.calls;
        assert_eq!(c.len(), 3);
        assert_eq!(
            c[0],
            PortalCall {
                at: CallAt::Start,
                method: Method::Post,
                path: "/api/efota/devices/bulkUpload".into(),
                body: None,
                token: TokenSpec::Valid,
                status: 200,
                expect: Vec::new(),
            }
        );
        assert_eq!(c[1].at, CallAt::Session(2));
        assert_eq!(c[1].token, TokenSpec::None);
        assert_eq!(c[1].body.as_deref(), Some("{\"imei\": \"$IMEI\"}"));
        assert_eq!(
            c[1].expect,
            [
                (
                    "/devices/0/result".to_string(),
                    serde_json::json!({"code": -7, "ok": [true, 1.5]})
                ),
                ("/error/key".to_string(), serde_json::json!("UNAUTHORIZED")),
            ]
        );
        assert_eq!(c[2].at, CallAt::End);
        assert_eq!(c[2].method, Method::Delete);
        assert_eq!(c[2].token, TokenSpec::Literal("abc".into()));
        assert_eq!(spec("").expect("no calls").calls, []);
        let dated = spec(&format!(
            "[[portal.call]]\n{GOOD}\nexpect = {{ \"/date\" = 1979-05-27 }}\n"
        ))
        .expect("valid");
        assert_eq!(dated.calls[0].expect[0].1, serde_json::json!("1979-05-27"));
    }

    #[test]
    fn each_bad_field_is_an_error_naming_the_call() {
        let cases = [
            ("at = \"sesion 2\"", "at = \"sesion 2\": expected"),
            ("at = \"session 0\"", "at = \"session 0\""),
            ("at = \"session -1\"", "at = \"session -1\""),
            ("at = \"middle\"", "at = \"middle\""),
            ("at = 3", "invalid type"),
            ("methd = \"GET\"", "unknown field `methd`"),
            ("body = 3", "invalid type"),
            ("expect = 3", "invalid type"),
        ];
        for (line, needle) in cases {
            let e = err(&format!("{GOOD}\n{line}"));
            assert!(
                e.contains("portal.call[0]: ") && e.contains(needle),
                "{line}: {e}"
            );
        }
        let without = |field: &str| {
            GOOD.lines()
                .filter(|l| !l.starts_with(field))
                .collect::<Vec<_>>()
                .join("\n")
        };
        for field in ["method", "path", "status"] {
            let e = err(&without(field));
            assert!(e.contains(&format!("missing field `{field}`")), "{e}");
        }
        let replaced = |field: &str, line: &str| format!("{}\n{line}", without(field));
        for (field, line, needle) in [
            ("method", "method = \"post\"", "unknown variant `post`"),
            ("method", "method = \"PATCH\"", "unknown variant `PATCH`"),
            ("path", "path = \"api/efota\"", "must start with '/'"),
            ("path", "path = \"/a b\"", "no spaces"),
            ("status", "status = 99", "status = 99: not an HTTP status"),
            ("status", "status = 70000", "invalid value"),
        ] {
            let e = err(&replaced(field, line));
            assert!(
                e.contains("portal.call[0]: ") && e.contains(needle),
                "{line}: {e}"
            );
        }
        for (line, needle) in [
            ("token = \"\"", "token = \"\""),
            ("token = \"a\\nb\"", "no control characters"),
            ("expect = { \"error/code\" = 1 }", "starts with '/'"),
            ("expect = { \"/a~2\" = 1 }", "'~0' or '~1'"),
            ("expect = { \"/a~\" = 1 }", "'~0' or '~1'"),
            ("expect = { \"/a\" = nan }", "not a JSON number"),
        ] {
            let e = err(&format!("{GOOD}\n{line}"));
            assert!(
                e.contains("portal.call[0]: ") && e.contains(needle),
                "{line}: {e}"
            );
        }
        // The index is the call's.
        let e = spec(&format!(
            "[[portal.call]]\n{GOOD}\n[[portal.call]]\n{GOOD}\nat = \"later\"\n"
        ))
        .expect_err("bad second call");
        assert!(e.contains("portal.call[1]: at = \"later\""), "{e}");
        let e = spec("call = 3\n").expect_err("not tables");
        assert!(e.contains("portal.call: expected"), "{e}");
        let e = spec("call = [3]\n").expect_err("not a table");
        assert!(e.contains("portal.call[0]: expected a table"), "{e}");
        assert!(check_pointer("").is_ok() && check_pointer("/a~0b/~1/0").is_ok());
    }

    #[test]
    fn placeholders_take_the_devices_values() {
        let p = Placeholders::of("IMEI:356938035643809");
        assert_eq!(
            p.apply(r#"{"imei": "$IMEI", "sn": "$SERIAL", "id": "$DEVICE", "n": "$IMEI"}"#),
            Ok(r#"{"imei": "356938035643809", "sn": "R5C35643809", "id": "IMEI:356938035643809", "n": "356938035643809"}"#.to_string())
        );
        assert_eq!(p.apply("no placeholder $X"), Ok("no placeholder $X".into()));
        let other = Placeholders::of("dev\"1");
        assert_eq!(other.apply("$DEVICE"), Ok("dev\\\"1".into()));
        let e = other.apply("$IMEI").expect_err("no IMEI");
        assert!(e.contains("$IMEI") && e.contains("not an IMEI"), "{e}");
        let e = other.apply("$SERIAL").expect_err("no serial");
        assert!(e.contains("$SERIAL"), "{e}");
    }

    #[test]
    fn call_moments_say_which_session_they_precede() {
        assert_eq!(CallAt::Start.before_session(), Some(1));
        assert_eq!(CallAt::Session(3).before_session(), Some(3));
        assert_eq!(CallAt::End.before_session(), None);
        assert_eq!(CallAt::Session(3).to_string(), "session 3");
        assert_eq!(CallAt::parse(" session  2 "), Some(CallAt::Session(2)));
    }
}
