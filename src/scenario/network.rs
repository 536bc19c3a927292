//! Running a scenario over real sockets: the mock server behind `dmsim::net::serve` on a loopback
//! port, and the device on a shared [`HttpTransport`], over plain HTTP or HTTPS with a test PKI
//! (`ca.pem`, `server.pem`/`.key`, `client.pem`/`.key`, `wrong-ca.pem`): the one built into the
//! binary ([`crate::net::certs::builtin`], the repository's `certs/`), or the files of a directory.
//!
//! TLS configurations and HTTP clients are built once per kind and shared by every scenario of the
//! run. Tokio time cannot be paused over sockets, so the device's simulated waits are skipped
//! (its own clock still advances).

use super::error::RunError;
use super::model::{ScenarioFile, Trust};
use super::server::server_and_portal;
use super::sessions::{run_against, Outcome};
use crate::net::certs::{builtin, builtin_path};
use crate::net::LookedUp;
use crate::net::{
    self, tls, ClientAuth, ClientOptions, DmService, HttpContent, HttpTransport, Identity,
};
use crate::protocol::http::{ContentRequest, ContentResponse, HttpRequest, HttpResponse};
use crate::server::{Answer, MockServer};
use crate::session::Pace;
use crate::storage::StateStore;
use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

/// Which clients: https, with a client certificate, trusting which CA.
type ClientKey = (bool, bool, Trust);

/// Shared network resources of a run.
pub struct NetworkEnv {
    /// The directory of the test PKI; the built-in one when `None`.
    certs: Option<PathBuf>,
    clients: Mutex<HashMap<ClientKey, (HttpTransport, HttpContent)>>,
    servers: Mutex<HashMap<bool, Arc<rustls::ServerConfig>>>,
}

impl NetworkEnv {
    /// Resources using the PEM files in the directory `certs`, or the built-in test PKI.
    pub fn new(certs: Option<PathBuf>) -> NetworkEnv {
        NetworkEnv {
            certs,
            clients: Mutex::new(HashMap::new()),
            servers: Mutex::new(HashMap::new()),
        }
    }

    /// The shared clients (DM and content) for this combination of scheme, client certificate and
    /// trusted CA.
    fn client(
        &self,
        https: bool,
        client_cert: bool,
        trust: Trust,
    ) -> Result<(HttpTransport, HttpContent), RunError> {
        let key = (https, client_cert, trust);
        let mut clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(c) = clients.get(&key) {
            return Ok(c.clone());
        }
        let options = self.options(https, client_cert, trust)?;
        let client = HttpTransport::new(&options)?;
        let content = HttpContent::new(&options)?;
        clients.insert(key, (client.clone(), content.clone()));
        Ok((client, content))
    }

    /// The HTTP client options of a scenario's transport settings.
    fn options(
        &self,
        https: bool,
        client_cert: bool,
        trust: Trust,
    ) -> Result<ClientOptions, RunError> {
        let tls = if https {
            let ca = match trust {
                Trust::Ca => "ca.pem",
                Trust::WrongCa => "wrong-ca.pem",
            };
            let roots = self.roots(ca)?;
            let identity = client_cert
                .then(|| self.identity("client.pem", "client.key"))
                .transpose()?;
            Some(tls::client_config(roots, identity)?)
        } else {
            None
        };
        Ok(ClientOptions {
            tls,
            ..ClientOptions::default()
        })
    }

    /// The shared server TLS configuration, requiring client certificates or not.
    fn server_tls(&self, require_client_cert: bool) -> Result<Arc<rustls::ServerConfig>, RunError> {
        let mut servers = self.servers.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(c) = servers.get(&require_client_cert) {
            return Ok(Arc::clone(c));
        }
        let identity = self.identity("server.pem", "server.key")?;
        let roots = self.roots("ca.pem")?;
        let auth = if require_client_cert {
            ClientAuth::Required(roots)
        } else {
            ClientAuth::Optional(roots)
        };
        let config = tls::server_config(identity, auth)?;
        servers.insert(require_client_cert, Arc::clone(&config));
        Ok(config)
    }
}

impl NetworkEnv {
    /// The PEM text of a file of the test PKI, with the path that names it.
    fn pem(&self, name: &str) -> Result<(Vec<u8>, PathBuf), RunError> {
        match &self.certs {
            Some(dir) => {
                let path = dir.join(name);
                match std::fs::read(&path) {
                    Ok(bytes) => Ok((bytes, path)),
                    Err(error) => Err(RunError::ReadPem { path, error }),
                }
            }
            None => {
                let pki = builtin();
                let text = pki
                    .file(name)
                    .ok_or_else(|| RunError::NoBuiltinPem(name.to_string()))?;
                Ok((text.as_bytes().to_vec(), builtin_path(name)))
            }
        }
    }

    /// The CA certificates of a file of the test PKI.
    fn roots(&self, name: &str) -> Result<rustls::RootCertStore, RunError> {
        let (pem, path) = self.pem(name)?;
        Ok(tls::roots_from_pem(&pem, &path)?)
    }

    /// A certificate and its key from files of the test PKI.
    fn identity(&self, cert: &str, key: &str) -> Result<Identity, RunError> {
        let (cert_pem, cert_path) = self.pem(cert)?;
        let (key_pem, key_path) = self.pem(key)?;
        Ok(Identity::from_pem(
            (&cert_pem, &cert_path),
            (&key_pem, &key_path),
        )?)
    }
}

/// The mock server, set once the socket is bound and its URL known.
struct Deferred(OnceLock<Arc<MockServer>>);

impl DmService for Deferred {
    fn handle(&self, request: &HttpRequest) -> HttpResponse {
        self.answer(request).response
    }

    fn answer(&self, request: &HttpRequest) -> Answer {
        match self.0.get() {
            Some(server) => server.answer(request),
            None => Answer {
                response: HttpResponse {
                    status: 503,
                    content_type: "text/plain".into(),
                    hmac: None,
                    body: b"server starting".to_vec(),
                },
                delay: None,
            },
        }
    }

    fn hosts_content(&self, url: &str) -> bool {
        self.0.get().is_some_and(|s| s.hosts_content(url))
    }

    fn content(&self, request: &ContentRequest) -> Option<ContentResponse> {
        self.0.get().map(|s| s.content(request))
    }
}

/// Start the mock server behind `service` and run the device against it.
async fn serve_and_run(
    file: &ScenarioFile,
    service: &Deferred,
    client: &HttpTransport,
    content: &HttpContent,
    store: &dyn StateStore,
) -> Result<Outcome, RunError> {
    let (server, portal) = server_and_portal(file)?;
    let server = Arc::new(server);
    let portal = portal.map(|p| p as Arc<dyn super::portal_calls::ScenarioPortal>);
    let _ = service.0.set(Arc::clone(&server));
    run_against(client, content, store, &server, portal, file, Pace::Skip).await
}

/// Run the scenario's session over loopback HTTP or HTTPS.
pub(super) async fn run(
    file: &ScenarioFile,
    env: &NetworkEnv,
    https: bool,
    store: &dyn StateStore,
) -> Result<Outcome, RunError> {
    let spec = &file.transport;
    let tls = https
        .then(|| env.server_tls(spec.require_client_certificate))
        .transpose()?;
    let (client, content) = env.client(https, spec.client_certificate, spec.trust)?;
    let service = Arc::new(Deferred(OnceLock::new()));
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let running = net::serve(addr, Arc::clone(&service) as Arc<dyn DmService>, tls).await?;
    let mut file = file.clone();
    file.server.url = running.url("/dm");
    let outcome = serve_and_run(&file, &service, &client, &content, store).await;
    running.shutdown().await;
    outcome
}

/// Run a `snom-m3` scenario's base against the mock server over loopback HTTP or HTTPS: its
/// content fetched with the project's HTTP content client.
pub(super) async fn run_snom(
    file: &ScenarioFile,
    env: &NetworkEnv,
    https: bool,
    store: Arc<dyn StateStore>,
) -> Result<super::snom::SnomOutcome, RunError> {
    let spec = &file.transport;
    let tls = https
        .then(|| env.server_tls(spec.require_client_certificate))
        .transpose()?;
    // The base's own content client: it connects to the addresses the base looked up.
    let found = LookedUp::new();
    let content = HttpContent::with_names(
        &env.options(https, spec.client_certificate, spec.trust)?,
        found.clone(),
    )?;
    let service = Arc::new(Deferred(OnceLock::new()));
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let running = net::serve(addr, Arc::clone(&service) as Arc<dyn DmService>, tls).await?;
    let mut file = file.clone();
    file.server.url = running.url("/dm");
    let outcome = async {
        let server = Arc::new(super::server::mock_server(&file)?);
        let _ = service.0.set(Arc::clone(&server));
        let address = Ipv4Addr::LOCALHOST.into();
        super::snom::run_against(&file, &server, &content, address, store, found).await
    }
    .await;
    running.shutdown().await;
    outcome
}
