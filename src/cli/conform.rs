//! `dmsim conform`: a battery of device sessions against a DM server, every server message checked
//! against the catalogue of `dmsim::conform`, a verdict per check.
//!
//! The device is built as `dmsim device` builds it from its flags (a default identity, or
//! `--dev-id`; credentials with `--auth --user --password`), its DM account pointing at `--server`,
//! over HTTP(S) (`--ca` to trust the server's CA; for https without it, the test CA built into
//! dmsim). It prints how each session ended, then the summary grouped by area; `--json` and
//! `--junit` write the reports, `--allow` reads a server team's known deviations (`[[allow]] id =
//! "…" reason = "…"`). Exits 0 when no check fails, 1 when one fails (or when no session got an
//! answer it could read, so nothing was checked), 2 on a bad flag or an unusable file.

use super::device::{is_https, server_url};
use anyhow::Context;
use dmsim::conform::{self, report, verdict};
use dmsim::net::{tls, ClientOptions, HttpTransport};
use dmsim::scenario::load;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// An authentication scheme on the command line.
#[derive(Clone, Copy, clap::ValueEnum)]
enum AuthArg {
    Basic,
    Md5,
    Hmac,
}

#[derive(clap::Args)]
pub struct Args {
    /// The DM server under test (http:// or https://).
    #[arg(long, value_name = "URL", value_parser = server_url)]
    server: String,
    /// Write the JSON report here.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write the JUnit report here (one testcase per check).
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// The server's known deviations (TOML: [[allow]] id = "…" reason = "…"): their failures are
    /// reported as `allowed`.
    #[arg(long, value_name = "FILE")]
    allow: Option<PathBuf>,
    /// CA certificates (PEM) trusted for https [default: the test CA built into dmsim].
    #[arg(long, value_name = "FILE")]
    ca: Option<PathBuf>,
    /// How the device authenticates; the battery then also runs sessions without credentials.
    #[arg(long, value_enum, requires_all = ["user", "password"])]
    auth: Option<AuthArg>,
    /// The device's user name towards the server (with --auth).
    #[arg(long, value_name = "NAME", requires = "auth")]
    user: Option<String>,
    /// The device's password towards the server (with --auth).
    #[arg(long, value_name = "SECRET", requires = "auth")]
    password: Option<String>,
    /// The DM account's ServerID.
    #[arg(long, value_name = "ID", default_value = "dmsim-server")]
    server_id: String,
    /// Device id (DevInfo/DevId and the message Source) [default: the scenario default].
    #[arg(long, value_name = "ID")]
    dev_id: Option<String>,
    /// Seconds allowed for each HTTP exchange.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    timeout: u64,
}

pub fn run(args: Args) -> ExitCode {
    let prepared = prepare(&args);
    let (file, transport, allow) = match prepared {
        Ok(p) => p,
        Err(e) => {
            eprintln!("dmsim: {e:#}");
            return ExitCode::from(2);
        }
    };
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
    let ran = match runtime.block_on(conform::run_battery(&transport, &file)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("dmsim: {e}");
            return ExitCode::from(2);
        }
    };
    for r in &ran {
        println!(
            "session {} ({}): {}",
            r.report.session_id, r.name, r.report.end
        );
    }
    let tallies: Vec<_> = ran.into_iter().map(|r| (r.name, r.tally)).collect();
    let judged = verdict::judge(&tallies, &allow);
    print!("{}", report::human(&args.server, &judged));
    let written = write_reports(&args, &judged);
    if let Err(e) = written {
        eprintln!("dmsim: {e:#}");
        return ExitCode::from(2);
    }
    let failed = judged.iter().any(|j| j.verdict == verdict::Verdict::Fail);
    let unreached = judged
        .iter()
        .all(|j| j.verdict == verdict::Verdict::NotReached);
    if unreached {
        eprintln!("dmsim: no session got an answer from the server that could be read: nothing was checked");
    }
    if failed || unreached {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// The device's scenario, the HTTP(S) transport and the allow list of the flags.
fn prepare(
    args: &Args,
) -> anyhow::Result<(
    dmsim::scenario::model::ScenarioFile,
    HttpTransport,
    verdict::AllowList,
)> {
    let allow = match &args.allow {
        None => verdict::AllowList::default(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("--allow {}", path.display()))?;
            verdict::AllowList::parse(&text)
                .with_context(|| format!("--allow {}", path.display()))?
        }
    };
    let text = compose(args)?;
    let mut file = load::parse(Path::new("<conform flags>"), &text)?.file;
    file.server.url = args.server.clone();
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
        Some(roots) => Some(tls::client_config(roots, None)?),
        None => None,
    };
    let options = ClientOptions {
        tls,
        request_timeout: Duration::from_secs(args.timeout.max(1)),
        ..ClientOptions::default()
    };
    Ok((file, HttpTransport::new(&options)?, allow))
}

/// The scenario (TOML text) of the device of the flags.
fn compose(args: &Args) -> anyhow::Result<String> {
    use toml::{Table, Value};
    let text = |s: &str| Value::String(s.to_string());
    let mut device = Table::new();
    if let Some(id) = &args.dev_id {
        device.insert("dev_id".into(), text(id));
    }
    if let Some(kind) = args.auth {
        let kind = match kind {
            AuthArg::Basic => "basic",
            AuthArg::Md5 => "md5",
            AuthArg::Hmac => "hmac",
        };
        let mut t = Table::new();
        t.insert("type".into(), text(kind));
        t.insert("name".into(), text(args.user.as_deref().unwrap_or("")));
        t.insert(
            "secret".into(),
            text(args.password.as_deref().unwrap_or("")),
        );
        device.insert("auth".into(), Value::Table(t));
    }
    let mut server = Table::new();
    server.insert("url".into(), text(&args.server));
    server.insert("server_id".into(), text(&args.server_id));
    let mut root = Table::new();
    root.insert("name".into(), text("dmsim conform"));
    root.insert("device".into(), Value::Table(device));
    root.insert("server".into(), Value::Table(server));
    toml::to_string(&root).context("cannot compose the device scenario")
}

/// Write the JSON and JUnit reports the flags ask for.
fn write_reports(args: &Args, judged: &[verdict::Judged]) -> anyhow::Result<()> {
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&report::json(&args.server, judged))?;
        std::fs::write(path, json + "\n").with_context(|| format!("--json {}", path.display()))?;
    }
    if let Some(path) = &args.junit {
        std::fs::write(path, report::junit(&args.server, judged))
            .with_context(|| format!("--junit {}", path.display()))?;
    }
    Ok(())
}
