//! The mock server a scenario describes (`[server]`): its configuration (identity, authentication
//! both ways, the script, limits, quirks, session faults) and what it hosts for devices to
//! download.

use super::error::BuildError;
use super::model::{AuthSpec, ScenarioFile};
use super::updates;
use crate::portal::{Hosted, Portal, PortalConfig};
use crate::server::{ClientAuthPolicy, MockServer, Operator, ServerConfig, ServerCredentials};
use crate::syncml::auth::Secret;
use std::collections::HashSet;
use std::sync::Arc;

/// The mock server a scenario describes, with what it hosts.
pub fn mock_server(file: &ScenarioFile) -> Result<MockServer, BuildError> {
    Ok(server_and_portal(file)?.0)
}

/// The mock server a scenario describes, with what it hosts, and the Knox E-FOTA portal it plays
/// when the scenario has `[portal]`: the portal decides the commands devices get beyond the
/// script (the server's operator) and asks the server's content whether an update file is
/// hosted.
pub fn server_and_portal(
    file: &ScenarioFile,
) -> Result<(MockServer, Option<Arc<Portal>>), BuildError> {
    let mut content = updates::content(file)?;
    super::snom::host(file, &mut content)?;
    let mut config = server_config(file);
    crate::server::attach_files(&mut config.packages, &|path: &str| {
        content.hosted_file(path).map(|f| f.body.as_slice())
    })
    .map_err(BuildError::DataFile)?;
    let Some(spec) = &file.portal else {
        return Ok((MockServer::with_content(config, content), None));
    };
    let portal_config = portal_config(spec)?;
    let paths: HashSet<String> = content
        .files
        .iter()
        .map(|f| f.path.trim_start_matches('/').to_string())
        .collect();
    let hosted: Hosted = Arc::new(move |path: &str| paths.contains(path.trim_start_matches('/')));
    let portal = Arc::new(Portal::new(portal_config, file.seed, hosted));
    let operator: Arc<dyn Operator> = portal.clone();
    Ok((
        MockServer::with_operator(config, content, operator),
        Some(portal),
    ))
}

/// The portal's configuration of a scenario's `[portal]` (its calls aside).
pub fn portal_config(spec: &super::portal_spec::PortalSpec) -> Result<PortalConfig, BuildError> {
    spec.config
        .clone()
        .try_into()
        .map_err(|e: toml::de::Error| BuildError::Portal(e.message().to_string()))
}

/// The mock server's configuration a scenario describes.
pub fn server_config(file: &ScenarioFile) -> ServerConfig {
    let s = &file.server;
    let client_auth = s
        .auth
        .as_ref()
        .or(file.device.auth.as_ref())
        .map(|a| ClientAuthPolicy {
            kind: a.kind.auth_type(),
            secret: Secret {
                name: a.name.clone(),
                secret: a.secret.clone(),
            },
            nonce: server_nonce(s.auth.as_ref(), file.device.auth.as_ref()),
        });
    let credentials = s
        .credentials
        .as_ref()
        .or(file.device.server_auth.as_ref())
        .map(|a| ServerCredentials {
            kind: a.kind.auth_type(),
            secret: Secret {
                name: a.name.clone(),
                secret: a.secret.clone(),
            },
            nonce: server_nonce(s.credentials.as_ref(), file.device.server_auth.as_ref()),
            send: s.send_credentials,
        });
    ServerConfig {
        server_id: s.server_id.clone(),
        url: s.url.clone(),
        client_auth,
        credentials,
        packages: s.packages.clone(),
        seed: file.seed,
        keep_exchanges: false,
        max_msg_size: s.max_msg_size,
        max_obj_size: s.max_obj_size,
        refuse_generic_alerts: s.refuse_generic_alerts,
        quirks: s.quirks.clone(),
        keep_sessions: None,
        session_faults: s.session_faults.iter().map(|f| f.fault).collect(),
    }
}

/// The nonce the server starts from for one direction of authentication: the one its own part
/// (`server.auth`, `server.credentials`) names, else the device's (`device.auth`,
/// `device.server_auth`), else none. A server nonce that differs from the device's is honoured as
/// written: it is how a scenario (or `dmsim serve --script`) gives the server a stale nonce.
fn server_nonce(server: Option<&AuthSpec>, device: Option<&AuthSpec>) -> Vec<u8> {
    server
        .filter(|a| a.nonce.is_some())
        .or(device)
        .map(AuthSpec::nonce_bytes)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::load::parse;

    /// `server.auth.nonce` and `server.credentials.nonce` are what the server starts from (not
    /// read before issue 10: the device's were used whatever the server part said); without them
    /// the server starts from the device's own nonces.
    #[test]
    fn the_server_part_nonces_are_honoured() {
        let file = |server: &str| {
            let text = format!(
                "name = \"t\"\n\
                 [device.auth]\ntype = \"md5\"\nname = \"d\"\nsecret = \"s\"\nnonce = \"device-client\"\n\
                 [device.server_auth]\ntype = \"md5\"\nname = \"srv\"\nsecret = \"p\"\nnonce = \"device-server\"\n\
                 {server}"
            );
            parse(std::path::Path::new("t.toml"), &text)
                .expect("valid")
                .file
        };
        let nonces = |config: ServerConfig| {
            (
                config.client_auth.map(|a| a.nonce),
                config.credentials.map(|c| c.nonce),
            )
        };
        let given = file(
            "[server.auth]\ntype = \"md5\"\nname = \"d\"\nsecret = \"s\"\nnonce = \"stale-client\"\n\
             [server.credentials]\ntype = \"md5\"\nname = \"srv\"\nsecret = \"p\"\nnonce = \"stale-server\"\n",
        );
        assert_eq!(
            nonces(server_config(&given)),
            (
                Some(b"stale-client".to_vec()),
                Some(b"stale-server".to_vec())
            )
        );
        // An empty nonce is a nonce too.
        let empty = file(
            "[server.credentials]\ntype = \"md5\"\nname = \"srv\"\nsecret = \"p\"\nnonce = \"\"\n",
        );
        assert_eq!(nonces(server_config(&empty)).1, Some(Vec::new()));
        // Not given: the device's.
        let unsaid = file(
            "[server.auth]\ntype = \"md5\"\nname = \"d\"\nsecret = \"s\"\n\
             [server.credentials]\ntype = \"md5\"\nname = \"srv\"\nsecret = \"p\"\n",
        );
        assert_eq!(
            nonces(server_config(&unsaid)),
            (
                Some(b"device-client".to_vec()),
                Some(b"device-server".to_vec())
            )
        );
        assert_eq!(
            nonces(server_config(&file(""))),
            nonces(server_config(&unsaid))
        );
    }
}
