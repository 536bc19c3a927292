//! `dmsim serve`: the embedded mock DM server on a real socket, for DM clients that are not dmsim's.
//!
//! The first line on stdout is `listening on URL` with the real bound address (so `--listen
//! 127.0.0.1:0` works for scripts). Each message's statuses are logged at info level, the default
//! for `serve` (`RUST_LOG` overrides it); on Ctrl-C (or SIGTERM) the server stops and prints a
//! summary: how many sessions it saw, how many ended and how many were cut by the shutdown (still
//! open when the server stopped: the device had not finished them, or had given up on them), how
//! many TLS handshakes it refused, then each session, and the device messages it refused (415,
//! 400) before it could tie them to a session.
//!
//! Script packages go in the device sessions their `session` key names (the device's first by
//! default, `session = N`, or `session = "every"`): at start the server says on stderr which
//! session each package is for, and the summary says of a session that got no commands which
//! of the device's sessions it was, so a client that runs twice against one server and gets
//! nothing the second time sees why. The default script (no `--script`) reads its two nodes in
//! every session.
//!
//! `--profile knox-efota` makes the server play the Knox E-FOTA portal too (`dmsim::portal`): its
//! REST API under `/api/efota/…` beside the DM endpoint, its operations turned into the commands
//! devices get when they check in, on the wall clock; webhook notifications are posted to the URLs
//! registered through the API. Without `--script` it hosts the files of the portal's default
//! catalogue ([`PORTAL_SCRIPT`]): the firmware update to G991BXXU5DWA1 and the E-FOTA tool 2.4.1.

use anyhow::Context;
use dmsim::net::{self, tls, ClientAuth, DmService, Identity};
use dmsim::portal::Portal;
use dmsim::protocol::http::{ContentRequest, ContentResponse, HttpRequest, HttpResponse};
use dmsim::scenario::model::ScenarioFile;
use dmsim::scenario::{self, load, server_and_portal};
use dmsim::server::Api;
use dmsim::server::{
    Answer, MockServer, RefusedRequests, ScriptPackage, SessionChoice, SessionRecord,
};
use dmsim::syncml::Command;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

/// The script of the default server: read two nodes every device has, in every session.
const DEFAULT_SCRIPT: &str = r#"
name = "dmsim serve: default script"

[[server.package]]
session = "every"
[[server.package.command]]
cmd = "get"
target = "./DevInfo/Mod"
[[server.package.command]]
cmd = "get"
target = "./DevDetail/FwV"
"#;

/// The script of `--profile knox-efota` without `--script`: no packages (the portal decides what
/// devices get), the portal's default catalogue, and the files that catalogue names.
pub const PORTAL_SCRIPT: &str = r#"
name = "dmsim serve: the Knox E-FOTA portal"

[[server.file]]
path = "/efota/fw/G991BXXU5DWA1.pkg"
package = { from = "G991BXXU5CVJB", to = "G991BXXU5DWA1", size = "16KiB", model = "SM-G991B" }

[[server.file]]
path = "/efota/fw/G991BXXU5DWA1.dd"
descriptor = { object = "G991BXXU5DWA1.pkg", notify = "/efota/fw/notify" }

[[server.file]]
path = "/efota/sw/tool-2.4.1.pkg"
delivery = { pkg_id = "dp-tool-2.4.1", components = [
  { id = "efota-tool", name = "E-FOTA tool", version = "2.4.1", env = "Android", size = "4KiB" },
] }

[[server.file]]
path = "/efota/sw/tool-2.4.1.dd"
descriptor = { object = "tool-2.4.1.pkg", notify = "/efota/sw/notify" }

[portal]
"#;

/// The profiles `--profile` takes: the ones whose server side dmsim plays.
const SERVER_PROFILES: &[&str] = &["knox-efota"];

#[derive(clap::Args)]
pub struct Args {
    /// Address and port to listen on (port 0 picks a free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8443")]
    listen: SocketAddr,
    /// Scenario file whose [server] part (auth, credentials, packages, hosted files and their
    /// faults) configures the server; a package goes in each device's first session unless its
    /// `session` says a number or "every". Without it the server accepts any device and sends
    /// Get ./DevInfo/Mod and ./DevDetail/FwV in every session.
    #[arg(long, value_name = "FILE")]
    script: Option<PathBuf>,
    /// Server certificate chain (PEM) [default: the test certificate built into dmsim, for
    /// localhost, 127.0.0.1 and ::1: the certs/server.pem of its repository].
    #[arg(long, value_name = "FILE", requires = "key")]
    cert: Option<PathBuf>,
    /// Private key of --cert (PEM: PKCS#8, RSA or EC).
    #[arg(long, value_name = "FILE", requires = "cert")]
    key: Option<PathBuf>,
    /// Ask devices for a client certificate signed by this CA (PEM); see --require-client-cert.
    #[arg(long, value_name = "FILE")]
    client_ca: Option<PathBuf>,
    /// Refuse devices without a client certificate signed by --client-ca.
    #[arg(long, requires = "client_ca")]
    require_client_cert: bool,
    /// Serve plain HTTP instead of HTTPS.
    #[arg(long, conflicts_with_all = ["cert", "key", "client_ca", "require_client_cert"])]
    plain: bool,
    /// Path of the URL printed for devices (the server answers on any path).
    #[arg(long, value_name = "PATH", default_value = "/dm")]
    path: String,
    /// Play a vendor's server too: `knox-efota` serves the Knox E-FOTA portal's REST API under
    /// /api/efota (README, "Knox E-FOTA portal"); the script's [portal] sets it up.
    #[arg(long, value_name = "NAME")]
    profile: Option<String>,
}

pub fn run(args: Args) -> ExitCode {
    let setup = prepare(&args);
    let (config, tls) = match setup {
        Ok(s) => s,
        Err(e) => {
            eprintln!("dmsim: {e:#}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("dmsim: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let https = tls.is_some();
    let portal = config.portal.is_some();
    match runtime.block_on(serve_until_stopped(&args, config, tls)) {
        Ok((records, refused, tls_refused)) => {
            print!(
                "{}",
                summary(&records, &refused, https.then_some(tls_refused), portal,)
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("dmsim: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// The scenario whose server part configures the server, and the TLS settings, from the flags
/// and files.
fn prepare(args: &Args) -> anyhow::Result<(ScenarioFile, Option<Arc<rustls::ServerConfig>>)> {
    if let Some(name) = &args.profile {
        if !SERVER_PROFILES.contains(&name.as_str()) {
            anyhow::bail!(
                "--profile {name}: dmsim plays the server side of {} only",
                SERVER_PROFILES.join(", ")
            );
        }
    }
    let portal = args.profile.is_some();
    let mut config = match &args.script {
        Some(path) => scenario::load(path)?.file,
        None if portal => load::parse(Path::new("<portal script>"), PORTAL_SCRIPT)?.file,
        None => load::parse(Path::new("<default script>"), DEFAULT_SCRIPT)?.file,
    };
    if portal && config.portal.is_none() {
        config.portal = Some(Default::default());
    }
    if !portal && config.portal.is_some() {
        anyhow::bail!("the script has [portal]: serve it with --profile knox-efota");
    }
    if portal {
        // Tokens come from the seed: a server started again must not accept the last one's.
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        config.seed ^= started;
    }
    if args.plain {
        return Ok((config, None));
    }
    let identity = match (&args.cert, &args.key) {
        (Some(cert), Some(key)) => Identity::load(cert, key).context("server certificate")?,
        _ => {
            eprintln!(
                "dmsim: HTTPS with the test certificate built into dmsim (certs/server.pem of its \
                 repository: localhost, for tests only); --cert and --key to use another"
            );
            super::certs::builtin_identity("server.pem", "server.key")?
        }
    };
    let client_auth = match &args.client_ca {
        None => ClientAuth::None,
        Some(path) => {
            let roots = tls::load_roots(path).context("client CA")?;
            if args.require_client_cert {
                ClientAuth::Required(roots)
            } else {
                ClientAuth::Optional(roots)
            }
        }
    };
    Ok((config, Some(tls::server_config(identity, client_auth)?)))
}

/// Serve until Ctrl-C or SIGTERM; the sessions the server saw, and the TLS handshakes it refused.
async fn serve_until_stopped(
    args: &Args,
    mut file: ScenarioFile,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> anyhow::Result<(Vec<SessionRecord>, RefusedRequests, u64)> {
    let service = Arc::new(LoggedServer {
        server: OnceLock::new(),
        portal: OnceLock::new(),
        tls_refused: AtomicU64::new(0),
    });
    let running = net::serve(args.listen, Arc::clone(&service) as Arc<dyn DmService>, tls).await?;
    // The server's LocURI is the URL it really listens on, known once the socket is bound.
    let url = running.url(&args.path);
    file.server.url = url.clone();
    let (server, portal) = server_and_portal(&file)?;
    let _ = service.server.set(server);
    let webhooks = match portal {
        Some(portal) => {
            let _ = service.portal.set(Arc::clone(&portal));
            eprintln!(
                "dmsim: the Knox E-FOTA portal's API at {}",
                running.url(dmsim::portal::PREFIX)
            );
            Some(spawn_webhooks(portal)?)
        }
        None => None,
    };
    println!("listening on {url}");
    if service.portal.get().is_none() || !file.server.packages.is_empty() {
        eprintln!("dmsim: {}", package_plan(&file.server.packages));
    }
    eprintln!("dmsim: serving until Ctrl-C (RUST_LOG=debug shows more, RUST_LOG=warn less)");
    stopped().await;
    if let Some(task) = webhooks {
        task.abort();
    }
    running.shutdown().await;
    let (records, refused) = service
        .server
        .get()
        .map(|s| (s.records(), s.refused()))
        .unwrap_or_default();
    Ok((
        records,
        refused,
        service.tls_refused.load(Ordering::Relaxed),
    ))
}

/// Until Ctrl-C, or SIGTERM on Unix.
async fn stopped() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    // Without a signal handler the server runs until the process is killed.
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// The mock server (set once the socket is bound), logging the statuses of each device message,
/// and counting the TLS handshakes refused.
struct LoggedServer {
    server: OnceLock<MockServer>,
    /// The portal it plays (`--profile knox-efota`), set with the server.
    portal: OnceLock<Arc<Portal>>,
    tls_refused: AtomicU64,
}

impl DmService for LoggedServer {
    fn handle(&self, request: &HttpRequest) -> HttpResponse {
        self.answer(request).response
    }

    fn answer(&self, request: &HttpRequest) -> Answer {
        let Some(server) = self.server.get() else {
            return Answer {
                response: HttpResponse {
                    status: 503,
                    content_type: "text/plain".into(),
                    hmac: None,
                    body: b"the server is starting".to_vec(),
                },
                delay: None,
            };
        };
        if let Some(portal) = self.portal.get() {
            // What devices' sessions make the portal do happens on the wall clock.
            portal.set_now(unix_now());
        }
        let answer = server.answer(request);
        let response = &answer.response;
        if tracing::enabled!(tracing::Level::INFO) {
            if let Ok((_, msg)) =
                dmsim::syncml::decode_labelled(&request.content_type, &request.body)
            {
                let statuses: Vec<String> = msg
                    .body
                    .commands
                    .iter()
                    .filter_map(|c| match c {
                        Command::Status(s) => Some(format!("{} {}", s.cmd, s.code.code())),
                        _ => None,
                    })
                    .collect();
                tracing::info!(
                    device = msg.hdr.source.loc_uri,
                    session = msg.hdr.session_id,
                    msg = msg.hdr.msg_id,
                    statuses = statuses.join(", "),
                    http = response.status,
                    delay_ms = answer
                        .delay
                        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
                    "device message"
                );
            }
        }
        answer
    }

    fn hosts_content(&self, url: &str) -> bool {
        self.server.get().is_some_and(|s| s.hosts_content(url))
    }

    fn content(&self, request: &ContentRequest) -> Option<ContentResponse> {
        // The network front end logs every content request already.
        self.server.get().map(|s| s.content(request))
    }

    fn api(&self) -> Option<&dyn Api> {
        self.portal.get().map(|p| p.as_ref() as &dyn Api)
    }

    fn tls_refused(&self, _peer: SocketAddr, _reason: &str) {
        // The network front end logs the peer and the reason.
        self.tls_refused.fetch_add(1, Ordering::Relaxed);
    }
}

/// Seconds since the Unix epoch, by the wall clock.
fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Deliver the portal's webhook notifications: every half second, the events it has are handed to
/// the delivery task, which posts them in order (`net::webhook`).
fn spawn_webhooks(portal: Arc<Portal>) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let client =
        net::webhook::client(&net::ClientOptions::default()).context("the webhook client")?;
    let (sender, events) = tokio::sync::mpsc::channel(dmsim::portal::MAX_EVENTS);
    let delivery = net::webhook::spawn_delivery(client, events);
    Ok(tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(500));
        loop {
            tick.tick().await;
            for event in portal.take_webhooks() {
                if sender.send((event.url, event.body)).await.is_err() {
                    delivery.abort();
                    return;
                }
            }
        }
    }))
}

/// Which sessions the script's packages go in, in words: e.g. `script: 2 package(s), 1 in each
/// device's session 1, 1 in every session (a package's "session" key: a number or "every")`.
fn package_plan(packages: &[ScriptPackage]) -> String {
    if packages.is_empty() {
        return "script: no packages: every session ends after Package 1".to_string();
    }
    let mut groups: Vec<(SessionChoice, usize)> = Vec::new();
    for p in packages {
        match groups.iter_mut().find(|(choice, _)| *choice == p.session) {
            Some((_, n)) => *n += 1,
            None => groups.push((p.session, 1)),
        }
    }
    let parts: Vec<String> = groups
        .iter()
        .map(|(choice, n)| match choice {
            SessionChoice::Every => format!("{n} in every session"),
            SessionChoice::Nth(s) => format!("{n} in each device's session {s}"),
        })
        .collect();
    format!(
        "script: {} package(s), {} (a package's \"session\" key: a number or \"every\")",
        packages.len(),
        parts.join(", ")
    )
}

/// What the server saw: the totals (`tls_refused` when it served HTTPS), then session by session,
/// then the requests it refused before knowing their session.
fn summary(
    records: &[SessionRecord],
    refused: &RefusedRequests,
    tls_refused: Option<u64>,
    portal: bool,
) -> String {
    let ended = records.iter().filter(|r| r.ended).count();
    let mut out = format!(
        "{} session(s): {ended} ended, {} cut by shutdown",
        records.len(),
        records.len() - ended
    );
    if let Some(refused) = tls_refused {
        out.push_str(&format!("; {refused} TLS handshake(s) refused"));
    }
    out.push('\n');
    for r in records {
        let statuses: Vec<String> = r
            .statuses
            .iter()
            .map(|s| match &s.target_ref {
                Some(t) => format!("{} {} {}", s.cmd, t, s.code.code()),
                None => format!("{} {}", s.cmd, s.code.code()),
            })
            .collect();
        let auth = match (r.client_authenticated, r.auth_failures) {
            (true, 0) => ", authenticated".to_string(),
            (true, n) => format!(", authenticated after {n} refused credential(s)"),
            (false, 0) => String::new(),
            (false, n) => format!(", credentials refused {n} time(s)"),
        };
        out.push_str(&format!(
            "  {} session {}: {}{auth}; statuses: {}\n",
            r.device,
            r.session_id,
            if r.ended { "ended" } else { "cut by shutdown" },
            if statuses.is_empty() {
                "none".to_string()
            } else {
                statuses.join(", ")
            }
        ));
        if r.ordinal > 0 && r.packages_sent == 0 && portal {
            out.push_str("    no commands: the portal had no operation waiting for the device\n");
        } else if r.ordinal > 0 && r.packages_sent == 0 {
            out.push_str(&format!(
                "    no commands: the script has no package for the device's session {} \
                 (a package's session = {} or session = \"every\" would go in it)\n",
                r.ordinal, r.ordinal
            ));
        }
        let results = dmsim::server::fumo_results(std::slice::from_ref(r));
        if !results.is_empty() {
            out.push_str(&format!("    FUMO results: {results:?}\n"));
        }
        let scomo: Vec<String> = dmsim::server::scomo_results(std::slice::from_ref(r))
            .iter()
            .map(|d| match &d.identifier {
                Some(id) => format!("{} ({id})", d.code),
                None => d.code.to_string(),
            })
            .collect();
        if !scomo.is_empty() {
            out.push_str(&format!("    SCOMO results: {}\n", scomo.join(", ")));
        }
        let efota = dmsim::server::efota_codes(std::slice::from_ref(r));
        if !efota.is_empty() {
            out.push_str(&format!("    Knox E-FOTA codes: {efota:?}\n"));
        }
        for v in &r.violations {
            out.push_str(&format!("    protocol violation: {v}\n"));
        }
    }
    for v in refused.lines() {
        out.push_str(&format!("  protocol violation: {v}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(device: &str, ended: bool) -> SessionRecord {
        SessionRecord {
            device: device.into(),
            session_id: "1".into(),
            ended,
            ..SessionRecord::default()
        }
    }

    #[test]
    fn the_summary_tells_ended_sessions_from_cut_ones_and_counts_refused_handshakes() {
        let records = [record("IMEI:1", true), record("IMEI:2", false)];
        let text = summary(&records, &RefusedRequests::default(), Some(3), false);
        assert!(
            text.starts_with(
                "2 session(s): 1 ended, 1 cut by shutdown; 3 TLS handshake(s) refused\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("  IMEI:1 session 1: ended; statuses: none\n"),
            "{text}"
        );
        assert!(
            text.contains("  IMEI:2 session 1: cut by shutdown; statuses: none\n"),
            "{text}"
        );
        let refused = SessionRecord {
            auth_failures: 3,
            ..record("IMEI:3", true)
        };
        let text = summary(&[refused], &RefusedRequests::default(), None, false);
        assert!(
            text.contains(
                "  IMEI:3 session 1: ended, credentials refused 3 time(s); statuses: none\n"
            ),
            "{text}"
        );
        // A session that passed but got no script package says so, and which one it was.
        let empty = SessionRecord {
            ordinal: 2,
            client_authenticated: true,
            ..record("IMEI:4", true)
        };
        let text = summary(&[empty], &RefusedRequests::default(), None, false);
        assert!(
            text.contains(
                "  IMEI:4 session 1: ended, authenticated; statuses: none\n    no commands: the \
                 script has no package for the device's session 2 (a package's session = 2 or \
                 session = \"every\" would go in it)\n"
            ),
            "{text}"
        );
        // Over plain HTTP there is no handshake to count.
        assert!(summary(&[], &RefusedRequests::default(), None, false)
            .starts_with("0 session(s): 0 ended, 0 cut by shutdown\n"));
    }

    /// A client that keeps sending Package 1 with no credentials in one session (MsgID 1 to 40) is
    /// one session in the summary, ended after the failures allowed (issue 10 #4).
    #[test]
    fn a_client_retrying_package_1_is_one_session_in_the_summary() {
        let script =
            "name = \"t\"\n[server.auth]\ntype = \"basic\"\nname = \"d\"\nsecret = \"s\"\n";
        let file = load::parse(Path::new("t.toml"), script)
            .expect("valid")
            .file;
        let server = scenario::mock_server(&file).expect("server");
        for msg_id in 1..=40 {
            let body = format!(
                "<SyncML xmlns=\"SYNCML:SYNCML1.2\"><SyncHdr><VerDTD>1.2</VerDTD>\
                 <VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>{msg_id}</MsgID>\
                 <Target><LocURI>{url}</LocURI></Target><Source><LocURI>IMEI:9</LocURI></Source>\
                 </SyncHdr><SyncBody><Alert><CmdID>1</CmdID><Data>1201</Data></Alert><Final/>\
                 </SyncBody></SyncML>",
                url = file.server.url
            );
            let response = server.handle(&HttpRequest {
                url: file.server.url.clone(),
                content_type: "application/vnd.syncml.dm+xml".into(),
                hmac: None,
                body: body.into_bytes(),
            });
            assert_eq!(response.status, 200);
        }
        let text = summary(&server.records(), &server.refused(), None, false);
        assert!(
            text.starts_with("1 session(s): 1 ended, 0 cut by shutdown\n"),
            "{text}"
        );
        assert!(text.contains("credentials refused 40 time(s)"), "{text}");
    }

    #[test]
    fn the_package_plan_says_which_session_each_package_is_for() {
        let plan = |script: &str| {
            let file = load::parse(Path::new("t.toml"), script)
                .expect("valid")
                .file;
            package_plan(&file.server.packages)
        };
        assert_eq!(
            plan("name = \"t\"\n"),
            "script: no packages: every session ends after Package 1"
        );
        assert_eq!(
            plan(DEFAULT_SCRIPT),
            "script: 1 package(s), 1 in every session (a package's \"session\" key: a number or \"every\")"
        );
        assert_eq!(
            plan("name = \"t\"\n[[server.package]]\n[[server.package]]\nsession = 2\n[[server.package]]\n"),
            "script: 3 package(s), 2 in each device's session 1, 1 in each device's session 2 \
             (a package's \"session\" key: a number or \"every\")"
        );
    }
}
