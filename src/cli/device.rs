//! `dmsim device`: one simulated device against a DM server URL, for trying a server by hand.
//!
//! The device is built by the scenario machinery: from a scenario file's `[device]` section, or
//! from a small scenario composed from the flags. Its DM account points at `--server`. Every
//! message is printed as it goes, as it was sent or received (XML as its own text, WBXML as XML
//! token by token: [`render_as_received`]), each rule the server broke in a message right after it,
//! then how the session ended; at the very end, a summary of the rules the server broke (each
//! rule's id, how often, and where first, with the excerpt). The exit code is 0 when every session
//! completed and every FUMO job ended in success, 1 when one did not, 2 on a bad flag or unusable
//! file. A server's violations do not change the exit code: the device tolerates them, and says
//! so.
//!
//! A device with FUMO (`--fumo`, or `[device.fumo]` in the scenario) carries out what the server
//! Exec'd after the session: it downloads from the server's `PkgURL`, installs, and opens sessions
//! of its own (up to three) to report the result, printing those too. With `--state-dir` a device
//! that saved state in an earlier run starts from it, and says what it carries over: its
//! firmware, a FUMO job it had not finished (which it resumes after the first session), reports
//! it had not delivered.
//!
//! With `--profile snom-m3` the device is a Snom m3 DECT base instead, which updates its firmware
//! from the firmware server and folder of `--server` ([`snom`]).

use anyhow::Context;
use dmsim::device::{Device, Saved};
use dmsim::engine::Reported;
use dmsim::fumo::Phase;
use dmsim::net::HttpContent;
use dmsim::net::{self, tls, ClientOptions, HttpTransport, Identity};
use dmsim::protocol::http::{HttpRequest, HttpResponse};
use dmsim::scenario::{self, build_device, load, model::ScenarioFile};
use dmsim::session::{
    run_session_watched, DriverOptions, Exchange, Initiator, SessionReport, SessionStart, Violation,
};
use dmsim::storage::{FileStore, MemoryStore, StateStore, StoreError};
use dmsim::syncml::render_as_received;
use dmsim::transport::{Transport, TransportError};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

mod snom;

/// An authentication scheme on the command line.
#[derive(Clone, Copy, clap::ValueEnum)]
enum AuthArg {
    Basic,
    Md5,
    Hmac,
}

impl AuthArg {
    fn as_str(self) -> &'static str {
        match self {
            AuthArg::Basic => "basic",
            AuthArg::Md5 => "md5",
            AuthArg::Hmac => "hmac",
        }
    }
}

#[derive(clap::Args)]
pub struct Args {
    /// The DM server's URL (http:// or https://); it becomes the device account's server address.
    #[arg(long, value_name = "URL", value_parser = server_url)]
    server: String,
    /// CA certificates (PEM) the device trusts for https [default: the test CA built into dmsim,
    /// the certs/ca.pem of its repository, which signed the certificate of `dmsim serve`].
    #[arg(long, value_name = "FILE")]
    ca: Option<PathBuf>,
    /// Client certificate (PEM) presented when the server asks for one.
    #[arg(long, value_name = "FILE", requires = "key")]
    cert: Option<PathBuf>,
    /// Private key of --cert (PEM: PKCS#8, RSA or EC).
    #[arg(long, value_name = "FILE", requires = "cert")]
    key: Option<PathBuf>,
    /// Scenario file whose [device] section describes the device (identity, auth, tree, user).
    #[arg(long, value_name = "FILE")]
    scenario: Option<PathBuf>,
    /// The DM account's ServerID [default: dmsim-server, or the scenario's server.server_id].
    #[arg(long, value_name = "ID")]
    server_id: Option<String>,
    /// Device id (DevInfo/DevId and the message Source), e.g. IMEI:356938035643809.
    #[arg(long, value_name = "ID", conflicts_with = "scenario")]
    dev_id: Option<String>,
    /// Model (DevInfo/Mod).
    #[arg(long, value_name = "TEXT", conflicts_with = "scenario")]
    model: Option<String>,
    /// Manufacturer (DevInfo/Man).
    #[arg(long, value_name = "TEXT", conflicts_with = "scenario")]
    manufacturer: Option<String>,
    /// Firmware version (DevDetail/FwV); with --profile snom-m3, the gateway's factory version
    /// [default there: 0780].
    #[arg(long, value_name = "TEXT", conflicts_with = "scenario")]
    firmware: Option<String>,
    /// How the device authenticates to the server.
    #[arg(long, value_enum, requires_all = ["user", "password"], conflicts_with = "scenario")]
    auth: Option<AuthArg>,
    /// The device's user name towards the server (with --auth; with --profile snom-m3, the HTTP
    /// Basic user name the base sends the firmware server).
    #[arg(long, value_name = "NAME")]
    user: Option<String>,
    /// The device's password towards the server (with --auth; with --profile snom-m3, the HTTP
    /// Basic password).
    #[arg(long, value_name = "SECRET")]
    password: Option<String>,
    /// The nonce for the device's first credentials (MD5, HMAC).
    #[arg(long, value_name = "TEXT", requires = "auth")]
    nonce: Option<String>,
    /// How the server must authenticate to the device.
    #[arg(long, value_enum, requires_all = ["server_user", "server_password"], conflicts_with = "scenario")]
    server_auth: Option<AuthArg>,
    /// The server's user name as the device expects it.
    #[arg(long, value_name = "NAME", requires = "server_auth")]
    server_user: Option<String>,
    /// The server's password as the device expects it.
    #[arg(long, value_name = "SECRET", requires = "server_auth")]
    server_password: Option<String>,
    /// The nonce the server's first credentials must use (MD5, HMAC).
    #[arg(long, value_name = "TEXT", requires = "server_auth")]
    server_nonce: Option<String>,
    /// Seed of the device's random choices (its nonces).
    #[arg(
        long,
        value_name = "N",
        default_value_t = 1,
        conflicts_with = "scenario"
    )]
    seed: u64,
    /// Seconds allowed for each HTTP exchange.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    timeout: u64,
    /// Speak WBXML (application/vnd.syncml.dm+wbxml) instead of XML.
    #[arg(long)]
    wbxml: bool,
    /// Give the device a FUMO object at ./FUMO/Pkg1 and carry out the server's firmware updates.
    #[arg(long, conflicts_with = "scenario")]
    fumo: bool,
    /// The codes the device reports (built in: oma, dmsim, knox-efota, snom-m3) [default: the
    /// scenario's, else dmsim]. `knox-efota` makes it the Knox E-FOTA family's device when the
    /// scenario names no family: a Samsung identity, FUMO at ./FUMO, SCOMO, and the E-FOTA client,
    /// which reports every operation in E-FOTA codes too. `snom-m3` makes it a Snom m3 DECT base
    /// that updates its firmware from the folder of --server (`http://HOST:PORT/Updates/`), with
    /// --version; it prints each display code.
    #[arg(long, value_name = "NAME")]
    profile: Option<String>,
    /// Snom m3: the firmware version the base installs, four digits (required with --profile
    /// snom-m3).
    #[arg(long, value_name = "NNNN")]
    version: Option<String>,
    /// Snom m3: the language of the files the base fetches [default: fr01].
    #[arg(long, value_name = "LANG")]
    language: Option<String>,
    /// Snom m3: a handset and the version it runs, once per handset [default: two handsets at
    /// the gateway's version].
    #[arg(long, value_name = "NNNN")]
    handset: Vec<String>,
    /// Snom m3: look the server's name up by the base's own DNS queries to this DNS server over
    /// UDP (ADDR or ADDR:PORT, port 53 by default) [default: the operating system's resolver].
    #[arg(long, value_name = "ADDR", value_parser = snom::dns_server)]
    dns: Option<std::net::SocketAddr>,
    /// Keep the device's durable state (firmware slots, FUMO state, downloads, reports) in this
    /// directory, and start from the state saved there by an earlier run; in memory by default.
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
}

/// `--server`: a URL with scheme http or https and a host, checked before anything starts.
pub(super) fn server_url(text: &str) -> Result<String, String> {
    let url = reqwest::Url::parse(text)
        .map_err(|e| format!("not a URL ({e}); expected e.g. https://dm.example.com/dm"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "the scheme is {}:, but a DM server is reached over http:// or https://",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the URL names no host".to_string());
    }
    Ok(text.to_string())
}

/// Whether a URL that [`server_url`] accepted is https (the scheme in any case).
pub(super) fn is_https(url: &str) -> bool {
    url.get(..8)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"))
}

/// Sessions the device opens by itself to deliver what it owes the server.
const REPORT_SESSIONS: usize = 3;

pub fn run(args: Args) -> ExitCode {
    if args.profile.as_deref() == Some(snom::PROFILE) {
        return snom::run(&args);
    }
    let misplaced = snom::snom_only_flags(&args);
    if !misplaced.is_empty() {
        eprintln!(
            "dmsim: only a Snom m3 base (--profile {}) has {}",
            snom::PROFILE,
            misplaced.join(", ")
        );
        return ExitCode::from(2);
    }
    if args.auth.is_none() && (args.user.is_some() || args.password.is_some()) {
        eprintln!("dmsim: --user and --password need --auth (or --profile snom-m3)");
        return ExitCode::from(2);
    }
    let prepared = scenario_of(&args).and_then(|file| Ok((clients(&args)?, file)));
    let ((transport, content), file) = match prepared {
        Ok(p) => p,
        Err(e) => {
            eprintln!("dmsim: {e:#}");
            return ExitCode::from(2);
        }
    };
    let mut device = match build_device(&file) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("dmsim: {e}");
            return ExitCode::from(2);
        }
    };
    if args.wbxml {
        device.encoding = dmsim::syncml::Encoding::Wbxml;
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("dmsim: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let store: Box<dyn StateStore> = match &args.state_dir {
        None => Box::new(MemoryStore::new()),
        Some(dir) => match FileStore::new(dir) {
            Ok(s) => Box::new(s),
            Err(e) => {
                eprintln!("dmsim: --state-dir: {e}");
                return ExitCode::from(2);
            }
        },
    };
    let resumed = match power_on(&mut device, store.as_ref()) {
        Ok(resumed) => resumed,
        Err(e) => {
            eprintln!("dmsim: --state-dir: {e}");
            return ExitCode::from(2);
        }
    };
    let printing = Printing {
        inner: transport,
        count: AtomicUsize::new(0),
    };
    println!(
        "device {} -> {} (server id {})",
        file.device.dev_id, file.server.url, file.server.server_id
    );
    if let (true, Some(dir)) = (resumed, &args.state_dir) {
        print_resumed(&device, dir);
    }
    let mut broken: Vec<Violation> = Vec::new();
    let mut session = |device: &mut Device| {
        let start = SessionStart {
            initiator: Initiator::Client,
            server_id: Some(file.server.server_id.clone()),
        };
        let watch = |exchange: &Exchange, violations: &[Violation]| {
            print_answer(printing.count.load(Ordering::Relaxed), exchange, violations);
        };
        let options = DriverOptions::default();
        let report = runtime.block_on(run_session_watched(
            &printing, device, start, options, watch,
        ));
        print_end(&report);
        broken.extend(report.violations.iter().cloned());
        report.end.kind() == "completed"
    };
    let mut completed = session(&mut device);
    let mut failed_jobs: Vec<Reported> = Vec::new();
    for _ in 0..REPORT_SESSIONS {
        match runtime.block_on(work(&mut device, &content, store.as_ref())) {
            Ok(Some(result)) if !result.outcome.is_success() => failed_jobs.push(result),
            Ok(_) => {}
            Err(e) => {
                eprintln!("dmsim: {e:#}");
                return ExitCode::from(1);
            }
        }
        if device.reports.pending().is_empty() {
            break;
        }
        // The scenario's time between sessions passes on the device's clock, as in `dmsim run`.
        device.clock = device.clock.saturating_add(file.session_interval);
        completed = session(&mut device);
    }
    print!("{}", violation_summary(&broken));
    for result in &failed_jobs {
        let kind = match result.table {
            dmsim::profile::Table::ScomoResult => "SCOMO",
            dmsim::profile::Table::FumoResult => "FUMO",
            _ => "E-FOTA",
        };
        eprintln!("dmsim: the {kind} job failed: {result}");
    }
    if completed && failed_jobs.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Start the device from the state it saved in an earlier run (true), or write its factory state
/// (false).
fn power_on(device: &mut Device, store: &dyn StateStore) -> Result<bool, StoreError> {
    if store.load(device.dev_id())?.is_some() {
        device.reboot(store)?;
        Ok(true)
    } else {
        device.flash(store)?;
        Ok(false)
    }
}

/// What a device started from the state saved in `dir` carries over.
fn print_resumed(device: &Device, dir: &Path) {
    let mut line = format!("--- device state loaded from {}", dir.display());
    if let Some(fumo) = device.fumo() {
        line += &format!(
            ": firmware {}, FUMO State {}",
            fumo.durable.firmware.version(),
            fumo.durable.state.value()
        );
    }
    println!("{line}");
    if let Some(job) = device.fumo().and_then(|f| f.durable.job.as_ref()) {
        let correlator = job
            .correlator
            .as_deref()
            .map(|c| format!(", correlator {c}"))
            .unwrap_or_default();
        let url = if job.url.is_empty() {
            String::new()
        } else {
            format!(" of {}", job.url)
        };
        let phase = match job.phase {
            Phase::Start => "not started yet".to_string(),
            Phase::Download { attempts } => format!("downloading, {attempts} attempt(s) made"),
            Phase::Downloaded => "downloaded".to_string(),
            Phase::ConditionsTimeout => "the installation conditions went unanswered".to_string(),
            Phase::Install => "installing".to_string(),
        };
        println!(
            "--- resuming the unfinished FUMO job {}{url}{correlator}: {phase}",
            job.operation.node()
        );
    }
    let pending = device.reports.pending().len();
    if pending > 0 {
        println!("--- {pending} report(s) from an earlier run still to deliver");
    }
}

/// How a session ended, and how many rules the server broke in it (each was printed after its
/// message).
fn print_end(report: &SessionReport) {
    let broken = match report.violations.len() {
        0 => String::new(),
        n => format!(" (the server broke {n} protocol rule(s), shown above)"),
    };
    println!(
        "--- session {} ended: {}{broken}",
        if report.session_id.is_empty() {
            "(none)"
        } else {
            report.session_id.as_str()
        },
        report.end
    );
}

/// The server's answer to message `n` as received (or why there is none), then each rule it broke
/// in it.
fn print_answer(n: usize, exchange: &Exchange, violations: &[Violation]) {
    match &exchange.response {
        Ok(r) => {
            println!(
                "--- message {n} server -> device (HTTP {}, {})",
                r.status, r.content_type
            );
            if let Some(h) = &r.hmac {
                println!("{}: {h}", net::HMAC_HEADER);
            }
            println!("{}", render_as_received(&r.body));
        }
        Err(e) => println!("--- message {n} failed: {e}"),
    }
    for v in violations {
        println!("--- server violation: {v}");
    }
}

/// The rules the server broke over the whole run: each rule's id, how often, and where it was
/// first seen with its excerpt; or that it broke none.
fn violation_summary(violations: &[Violation]) -> String {
    if violations.is_empty() {
        return "--- the server broke no protocol rule the device checks\n".to_string();
    }
    let mut rules: Vec<(&Violation, usize)> = Vec::new();
    for v in violations {
        match rules.iter_mut().find(|(first, _)| first.rule == v.rule) {
            Some((_, count)) => *count += 1,
            None => rules.push((v, 1)),
        }
    }
    let mut out = format!(
        "--- the server broke {} protocol rule(s) {} time(s):\n",
        rules.len(),
        violations.len()
    );
    for (first, count) in rules {
        out.push_str(&format!(
            "    {} x{count}, first in server MsgID {}: {}\n",
            first.rule,
            first.msg_id,
            if first.excerpt.is_empty() {
                first.detail.as_str()
            } else {
                first.excerpt.as_str()
            }
        ));
    }
    out
}

/// Between sessions: save what the session changed and carry out the job it started (or the one
/// resumed from saved state); the result it ended with, if there was one.
async fn work(
    device: &mut Device,
    content: &HttpContent,
    store: &dyn StateStore,
) -> anyhow::Result<Option<Reported>> {
    if device.save(store)? == Saved::PowerLost {
        device.reboot(store)?;
    }
    let efota_before = scenario::family::efota(device).map_or(0, |e| e.records.len());
    let result = dmsim::jobs::run_job(device, content, store).await?;
    if let Some(result) = &result {
        let kind = match result.table {
            dmsim::profile::Table::ScomoResult => "SCOMO",
            dmsim::profile::Table::FumoResult => "FUMO",
            _ => "E-FOTA",
        };
        println!("--- {kind} job ended: {result}");
    }
    if let Some(efota) = scenario::family::efota(device) {
        for r in efota.records.iter().skip(efota_before) {
            println!("--- Knox E-FOTA report: {} {}", r.code, r.meaning);
        }
    }
    Ok(result)
}

/// The scenario the device comes from, its server URL set to `--server`.
fn scenario_of(args: &Args) -> anyhow::Result<ScenarioFile> {
    let mut file = match &args.scenario {
        Some(path) => scenario::load(path)?.file,
        None => {
            let text = compose(args)?;
            load::parse(Path::new("<device flags>"), &text)?.file
        }
    };
    file.server.url = args.server.clone();
    if let Some(id) = &args.server_id {
        file.server.server_id = id.clone();
    }
    if let Some(name) = &args.profile {
        if dmsim::profile::builtin(name).is_none() {
            anyhow::bail!(
                "--profile {name:?} is not a known profile (known: {})",
                dmsim::profile::NAMES
            );
        }
        file.device.profile = name.clone();
        if name == "knox-efota" && file.device.family.is_none() {
            file.device.family = Some(scenario::family::Family::KnoxEfota);
            file.device = scenario::family::resolve(&file.device).into_owned();
        }
    }
    Ok(file)
}

/// A scenario file (TOML text) describing the device of the flags.
fn compose(args: &Args) -> anyhow::Result<String> {
    use toml::{Table, Value};
    let text = |s: &str| Value::String(s.to_string());
    let mut device = Table::new();
    let identity = [
        ("dev_id", &args.dev_id),
        ("model", &args.model),
        ("manufacturer", &args.manufacturer),
        ("firmware", &args.firmware),
    ];
    for (key, value) in identity {
        if let Some(v) = value {
            device.insert(key.into(), text(v));
        }
    }
    let auth = |kind: Option<AuthArg>,
                name: &Option<String>,
                secret: &Option<String>,
                nonce: &Option<String>| {
        kind.map(|kind| {
            let mut t = Table::new();
            t.insert("type".into(), text(kind.as_str()));
            t.insert("name".into(), text(name.as_deref().unwrap_or("")));
            t.insert("secret".into(), text(secret.as_deref().unwrap_or("")));
            t.insert("nonce".into(), text(nonce.as_deref().unwrap_or("")));
            Value::Table(t)
        })
    };
    if let Some(a) = auth(args.auth, &args.user, &args.password, &args.nonce) {
        device.insert("auth".into(), a);
    }
    if let Some(a) = auth(
        args.server_auth,
        &args.server_user,
        &args.server_password,
        &args.server_nonce,
    ) {
        device.insert("server_auth".into(), a);
    }
    let mut server = Table::new();
    server.insert("url".into(), text(&args.server));
    server.insert(
        "server_id".into(),
        text(args.server_id.as_deref().unwrap_or("dmsim-server")),
    );
    if args.fumo {
        device.insert("fumo".into(), Value::Table(Table::new()));
    }
    let mut root = Table::new();
    root.insert("name".into(), text("dmsim device"));
    root.insert(
        "seed".into(),
        Value::Integer(i64::try_from(args.seed).context("--seed is too large")?),
    );
    root.insert("device".into(), Value::Table(device));
    root.insert("server".into(), Value::Table(server));
    toml::to_string(&root).context("cannot compose the device scenario")
}

/// The HTTP(S) clients of the flags (DM and content): the CA for https, the client certificate
/// when given.
fn clients(args: &Args) -> anyhow::Result<(HttpTransport, HttpContent)> {
    let options = client_options(args)?;
    Ok((HttpTransport::new(&options)?, HttpContent::new(&options)?))
}

/// The HTTP client options of the flags: the CA for https, the client certificate when given, the
/// timeout.
fn client_options(args: &Args) -> anyhow::Result<ClientOptions> {
    let roots = match &args.ca {
        Some(path) => Some(tls::load_roots(path).context("CA certificates (--ca)")?),
        None if is_https(&args.server) => {
            eprintln!(
                "dmsim: trusting the test CA built into dmsim (certs/ca.pem of its repository, for \
                 tests only); --ca to trust another"
            );
            Some(super::certs::builtin_roots("ca.pem")?)
        }
        None => None,
    };
    let tls = match roots {
        None => None,
        Some(roots) => {
            let identity = match (&args.cert, &args.key) {
                (Some(cert), Some(key)) => {
                    Some(Identity::load(cert, key).context("client certificate")?)
                }
                _ => None,
            };
            Some(tls::client_config(roots, identity)?)
        }
    };
    Ok(ClientOptions {
        tls,
        request_timeout: Duration::from_secs(args.timeout.max(1)),
        ..ClientOptions::default()
    })
}

/// Prints every device message as it goes; the server's answers are printed by [`print_answer`].
struct Printing<T> {
    inner: T,
    count: AtomicUsize,
}

impl<T: Transport> Transport for Printing<T> {
    async fn exchange(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let n = self.count.fetch_add(1, Ordering::Relaxed) + 1;
        println!(
            "--- message {n} device -> server ({}, {})",
            request.url, request.content_type
        );
        if let Some(h) = &request.hmac {
            println!("{}: {h}", net::HMAC_HEADER);
        }
        println!("{}", render_as_received(&request.body));
        // The answer is printed once the device has read it, with the rules it breaks
        // (`print_answer`).
        self.inner.exchange(request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_are_http_or_https_with_a_host() {
        for good in [
            "http://127.0.0.1:8080/dm",
            "https://dm.example.com/dm",
            "HTTPS://x/dm",
        ] {
            assert_eq!(server_url(good), Ok(good.to_string()));
        }
        assert!(is_https("HTTPS://x/dm") && is_https("https://x") && !is_https("http://x"));
        let ftp = server_url("ftp://x/dm").expect_err("ftp");
        assert!(ftp.contains("the scheme is ftp:"), "{ftp}");
        for bad in [
            "x/dm",
            "127.0.0.1:8443",
            "",
            "file:///tmp/dm",
            "http://",
            "mailto:a@b",
        ] {
            assert!(server_url(bad).is_err(), "{bad}");
        }
    }
}
