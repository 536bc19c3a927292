//! OAuth 2.0 client credentials (RFC 6749 §4.4) and bearer tokens (RFC 6750): a client trades its
//! id and secret for a token at `POST /api/efota/oauth/token` and sends it as
//! `Authorization: Bearer <token>`. A token lives [`TOKEN_LIFETIME`] seconds of the portal's
//! clock. A client has full access or may only read (its writes are refused 403, the facts'
//! "wrong access").
//!
//! Tokens are drawn from the run's seed, so a scenario's transcript is the same every run.

use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, VecDeque};

/// Seconds a token is valid.
pub const TOKEN_LIFETIME: u64 = 3600;

/// The most tokens kept valid at once; the oldest go first.
pub const MAX_TOKENS: usize = 4096;

/// An API client.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Client {
    pub id: String,
    pub secret: String,
    #[serde(default)]
    pub access: Access,
}

/// What a client may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Access {
    #[default]
    Full,
    Read,
}

/// The clients of a portal set up without any: `dmsim-uem` (full access) and `dmsim-viewer`
/// (read only).
pub fn default_clients() -> Vec<Client> {
    vec![
        Client {
            id: "dmsim-uem".into(),
            secret: "dmsim-secret".into(),
            access: Access::Full,
        },
        Client {
            id: "dmsim-viewer".into(),
            secret: "viewer-secret".into(),
            access: Access::Read,
        },
    ]
}

/// The tokens issued.
#[derive(Debug)]
pub struct Tokens {
    seed: u64,
    issued: u64,
    /// Token → (client id, when it was issued).
    live: HashMap<String, (String, u64)>,
    order: VecDeque<String>,
}

impl Tokens {
    pub fn new(seed: u64) -> Tokens {
        Tokens {
            seed,
            issued: 0,
            live: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    /// A new token for `client`, and its lifetime.
    pub fn issue(&mut self, client: &str, now: u64) -> (String, u64) {
        self.issued = self.issued.wrapping_add(1);
        let digest = Sha256::new()
            .chain_update(self.seed.to_be_bytes())
            .chain_update(self.issued.to_be_bytes())
            .chain_update(client.as_bytes())
            .finalize();
        let token: String = digest[..20].iter().map(|b| format!("{b:02x}")).collect();
        if self.order.len() >= MAX_TOKENS {
            if let Some(old) = self.order.pop_front() {
                self.live.remove(&old);
            }
        }
        self.order.push_back(token.clone());
        self.live.insert(token.clone(), (client.to_string(), now));
        (token, TOKEN_LIFETIME)
    }

    /// The client a bearer token was issued to, while it is valid at `now`.
    pub fn client(&self, token: &str, now: u64) -> Option<&str> {
        let (client, at) = self.live.get(token)?;
        (now < at.saturating_add(TOKEN_LIFETIME)).then_some(client.as_str())
    }
}

/// The client id and secret of a token request: a JSON body (`clientId`, `clientSecret`) or a
/// form (`grant_type=client_credentials&client_id=…&client_secret=…`).
pub fn credentials(content_type: Option<&str>, body: &[u8]) -> Option<(String, String)> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Json {
        client_id: String,
        client_secret: String,
    }
    let form = content_type.is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    if !form {
        let json: Json = serde_json::from_slice(body).ok()?;
        return Some((json.client_id, json.client_secret));
    }
    let text = std::str::from_utf8(body).ok()?;
    let mut id = None;
    let mut secret = None;
    let mut grant = None;
    for pair in text.split('&') {
        let (key, value) = pair.split_once('=')?;
        let value = percent_decode(value)?;
        match key {
            "client_id" => id = Some(value),
            "client_secret" => secret = Some(value),
            "grant_type" => grant = Some(value),
            _ => {}
        }
    }
    (grant.as_deref() == Some("client_credentials")).then_some(())?;
    Some((id?, secret?))
}

/// A form value decoded (`+` is a space, `%XX` a byte).
fn percent_decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = value.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_expire_and_are_the_same_for_a_seed() {
        let mut a = Tokens::new(7);
        let mut b = Tokens::new(7);
        let (t, _) = a.issue("dmsim-uem", 100);
        assert_eq!(b.issue("dmsim-uem", 100).0, t);
        assert_eq!(a.client(&t, 100 + TOKEN_LIFETIME - 1), Some("dmsim-uem"));
        assert_eq!(a.client(&t, 100 + TOKEN_LIFETIME), None);
        assert_eq!(a.client("nope", 100), None);
    }

    #[test]
    fn credentials_come_as_json_or_as_a_form() {
        assert_eq!(
            credentials(None, br#"{"clientId":"a","clientSecret":"b"}"#),
            Some(("a".into(), "b".into()))
        );
        let form = b"grant_type=client_credentials&client_id=a%2Bb&client_secret=c+d";
        assert_eq!(
            credentials(Some("application/x-www-form-urlencoded"), form),
            Some(("a+b".into(), "c d".into()))
        );
        let wrong_grant = b"grant_type=password&client_id=a&client_secret=b";
        assert_eq!(
            credentials(Some("application/x-www-form-urlencoded"), wrong_grant),
            None
        );
        assert_eq!(credentials(None, b"{"), None);
    }
}
