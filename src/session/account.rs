//! The DM account a session runs under, read from the device's `./DMAcc` subtree (DM 1.2 form).
//!
//! A real client reads its server address, its own credentials (AppAuth with AAuthLevel `CLCRED`)
//! and the server's (`SRVCRED`) from the tree, and writes new nonces back to `AAuthData`, so a server
//! that replaces those nodes changes how the next session authenticates. dmsim does the same.

use crate::syncml::auth::{AuthType, Secret};
use crate::tree::Tree;

/// Credentials of one direction of an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthEntry {
    pub kind: AuthType,
    pub secret: Secret,
    /// URI of the entry's `AAuthData` node (the nonce to use next).
    pub data_uri: String,
}

/// The account of one DM server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// `./DMAcc/<x>`.
    pub uri: String,
    pub server_id: String,
    /// `AppAddr/<x>/Addr`: where Package 1 goes.
    pub addr: String,
    /// How the device authenticates to the server (`CLCRED`); `None` sends no credentials.
    pub client: Option<AuthEntry>,
    /// How the server must authenticate to the device (`SRVCRED`); `None` trusts any server.
    pub server: Option<AuthEntry>,
}

impl Account {
    /// The account whose ServerID is `server_id`, or the first account when `None`.
    pub fn find(tree: &Tree, server_id: Option<&str>) -> Option<Account> {
        let names: Vec<String> = tree.children("./DMAcc").map(str::to_string).collect();
        names.iter().find_map(|name| {
            let uri = format!("./DMAcc/{name}");
            let sid = tree.value_str(&format!("{uri}/ServerID"))?.to_string();
            if server_id.is_some_and(|want| want != sid) {
                return None;
            }
            Some(Account::read(tree, uri, sid))
        })
    }

    fn read(tree: &Tree, uri: String, server_id: String) -> Account {
        let addr = first_child(tree, &format!("{uri}/AppAddr"))
            .and_then(|a| tree.value_str(&format!("{a}/Addr")).map(str::to_string))
            .unwrap_or_default();
        let auth_uri = format!("{uri}/AppAuth");
        let mut client = None;
        let mut server = None;
        let entries: Vec<String> = tree.children(&auth_uri).map(str::to_string).collect();
        for entry in entries {
            let base = format!("{auth_uri}/{entry}");
            let field = |n: &str| {
                tree.value_str(&format!("{base}/{n}"))
                    .unwrap_or("")
                    .to_string()
            };
            let Some(kind) = AuthType::from_aauth_type(&field("AAuthType")) else {
                continue;
            };
            let auth = AuthEntry {
                kind,
                secret: Secret {
                    name: field("AAuthName"),
                    secret: field("AAuthSecret"),
                },
                data_uri: format!("{base}/AAuthData"),
            };
            match field("AAuthLevel").as_str() {
                "CLCRED" => client = Some(auth),
                "SRVCRED" => server = Some(auth),
                _ => {}
            }
        }
        Account {
            uri,
            server_id,
            addr,
            client,
            server,
        }
    }
}

fn first_child(tree: &Tree, uri: &str) -> Option<String> {
    tree.children(uri).next().map(|c| format!("{uri}/{c}"))
}
