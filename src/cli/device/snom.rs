//! `dmsim device --profile snom-m3 --server URL --version NNNN`: one update of a simulated Snom m3
//! base ([`dmsim::snom`]) against a real firmware server over HTTP(S).
//!
//! The URL names the server and the update folder: `http://127.0.0.1:8000/Updates/` is the server
//! `http://127.0.0.1:8000/` and the folder `Updates/`; a path without a final `/` is a folder all
//! the same (`/Updates` is `Updates/`), and no path at all is the server's root (dmsim's choice:
//! the URL says exactly where the files are; the base's own default folder, `Updates/`, is for a
//! server setting without one, which the URL always has). The base starts from its factory state
//! (`--firmware` for the gateway, `--handset` for each handset; or what it saved in `--state-dir`
//! in an earlier run), looks the server's name up (the operating system's resolver, or its own DNS
//! messages to `--dns ADDR` over UDP; an IP literal needs none), fetches through
//! [`dmsim::net::HttpContent`] from the address it found, with Basic credentials when
//! `--user`/`--password` are given, and writes what it fetched. Each lookup and GET is printed as it ends, then each code the display
//! shows (`Code N: <meaning in the profile>`), how the update ended and the versions.
//!
//! Exit code: 0 when the update ended with Code 0, 1 when it ended with another code (or the power
//! went out), 2 on a bad flag or an unusable `--state-dir`.

use super::Args;
use dmsim::download::{ContentClient, FetchError};
use dmsim::net::{HttpContent, LookedUp, Remembering, SystemResolver, UdpDns};
use dmsim::package::snom::fwu;
use dmsim::profile::Profile;
use dmsim::protocol::http::ContentResponse;
use dmsim::snom::{
    run_update, Base, BaseState, DnsResolver, Ended, LookupError, Request, Resolver, SnomConfig,
};
use dmsim::storage::{FileStore, MemoryStore, StateStore};
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// The profile that makes `dmsim device` a Snom m3 base.
pub const PROFILE: &str = "snom-m3";

/// The gateway's factory version unless `--firmware` says otherwise.
const FACTORY_VERSION: &str = "0780";

/// Handsets a base has unless `--handset` says otherwise (each at the gateway's version).
const FACTORY_HANDSETS: usize = 2;

/// The base's id (its key in `--state-dir`) unless `--dev-id` says otherwise.
const BASE_ID: &str = "snom-m3";

/// How long the base waits for a DNS answer from `--dns`.
const DNS_WAIT: Duration = Duration::from_secs(5);

/// The flags of a DM device, which a Snom m3 base has no use for.
fn dm_only_flags(args: &Args) -> Vec<&'static str> {
    [
        ("--scenario", args.scenario.is_some()),
        ("--server-id", args.server_id.is_some()),
        ("--model", args.model.is_some()),
        ("--manufacturer", args.manufacturer.is_some()),
        ("--auth", args.auth.is_some()),
        ("--nonce", args.nonce.is_some()),
        ("--server-auth", args.server_auth.is_some()),
        ("--wbxml", args.wbxml),
        ("--fumo", args.fumo),
    ]
    .into_iter()
    .filter_map(|(flag, given)| given.then_some(flag))
    .collect()
}

/// The flags only a Snom m3 base has, given to another profile's device.
pub fn snom_only_flags(args: &Args) -> Vec<&'static str> {
    [
        ("--version", args.version.is_some()),
        ("--language", args.language.is_some()),
        ("--handset", !args.handset.is_empty()),
        ("--dns", args.dns.is_some()),
    ]
    .into_iter()
    .filter_map(|(flag, given)| given.then_some(flag))
    .collect()
}

/// The server and the folder of a URL that `--server` accepted (http or https, with a host).
pub fn split_server(url: &str) -> Result<(String, String), String> {
    let mut parsed = reqwest::Url::parse(url).map_err(|e| format!("not a URL ({e})"))?;
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err("a firmware server URL has no query or fragment".to_string());
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("credentials go in --user and --password, not in the URL".to_string());
    }
    let path = parsed.path().trim_start_matches('/').to_string();
    let folder = if path.is_empty() || path.ends_with('/') {
        path
    } else {
        format!("{path}/")
    };
    parsed.set_path("/");
    Ok((parsed.to_string(), folder))
}

/// The base's settings and factory state from the flags.
fn configure(args: &Args) -> Result<(SnomConfig, BaseState), String> {
    let dm = dm_only_flags(args);
    if !dm.is_empty() {
        return Err(format!(
            "a Snom m3 base (--profile {PROFILE}) has no {}: they are a DM device's",
            dm.join(", ")
        ));
    }
    let Some(version) = &args.version else {
        return Err(format!(
            "--profile {PROFILE} needs --version NNNN, the firmware version the base installs"
        ));
    };
    let four_digits = |flag: &str, v: &str| {
        if fwu::is_version(v.as_bytes()) {
            Ok(())
        } else {
            Err(format!("{flag} {v:?}: a version is four digits, e.g. 0790"))
        }
    };
    four_digits("--version", version)?;
    let gateway = args.firmware.as_deref().unwrap_or(FACTORY_VERSION);
    four_digits("--firmware", gateway)?;
    for h in &args.handset {
        four_digits("--handset", h)?;
    }
    let (server, folder) = split_server(&args.server)?;
    let mut config = SnomConfig::new(version.clone()).with_server(server);
    config.folder = folder;
    if let Some(language) = &args.language {
        if !fwu::is_language(language.as_bytes()) {
            return Err(format!(
                "--language {language:?}: two lower-case letters and two digits, e.g. fr01"
            ));
        }
        config.language = language.clone();
    }
    match (&args.user, &args.password) {
        (Some(user), Some(password)) => config = config.with_credentials(user, password),
        (None, None) => {}
        _ => return Err("--user and --password go together".to_string()),
    }
    let handsets: Vec<String> = if args.handset.is_empty() {
        vec![gateway.to_string(); FACTORY_HANDSETS]
    } else {
        args.handset.clone()
    };
    let ids: Vec<String> = (1..=handsets.len()).map(|i| format!("hs{i}")).collect();
    let pairs: Vec<(&str, &str)> = ids
        .iter()
        .zip(&handsets)
        .map(|(id, v)| (id.as_str(), v.as_str()))
        .collect();
    Ok((config, BaseState::factory(gateway, &pairs)))
}

/// Run the update; see the module docs.
pub fn run(args: &Args) -> ExitCode {
    let bad = |e: String| {
        eprintln!("dmsim: {e}");
        ExitCode::from(2)
    };
    let (config, factory) = match configure(args) {
        Ok(c) => c,
        Err(e) => return bad(e),
    };
    // The base fetches from the address its own lookup found.
    let names = LookedUp::new();
    let content = match super::client_options(args)
        .and_then(|options| Ok(HttpContent::with_names(&options, names.clone())?))
    {
        Ok(content) => content,
        Err(e) => return bad(format!("{e:#}")),
    };
    let store: Arc<dyn StateStore> = match &args.state_dir {
        None => Arc::new(MemoryStore::new()),
        Some(dir) => match FileStore::new(dir) {
            Ok(s) => Arc::new(s),
            Err(e) => return bad(format!("--state-dir: {e}")),
        },
    };
    let id = args.dev_id.as_deref().unwrap_or(BASE_ID);
    let saved = match store.load(id) {
        Ok(saved) => saved.is_some(),
        Err(e) => return bad(format!("--state-dir: {e}")),
    };
    let Some(profile) = dmsim::profile::builtin(PROFILE) else {
        return bad(format!("the {PROFILE} profile is not built in"));
    };
    let mut base = match Base::new(
        id,
        config,
        profile,
        factory,
        store,
        dmsim::faults::Faults::default(),
    ) {
        Ok(b) => b,
        Err(e) => return bad(format!("--state-dir: {e}")),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return bad(format!("cannot start the runtime: {e}")),
    };
    let c = base.config();
    println!(
        "base {id} -> server {}, folder {:?}, version {} in {}{}",
        c.server.as_deref().unwrap_or_default(),
        c.folder,
        c.version,
        c.language,
        if c.credentials.is_some() {
            ", with Basic credentials"
        } else {
            ""
        }
    );
    if let (true, Some(dir)) = (saved, &args.state_dir) {
        println!("--- base state loaded from {}", dir.display());
    }
    let before = versions(&base);
    println!("--- before: {}", describe(&before, None));
    let shown_before = base.display().codes().len();
    let client = Printing(content);
    let ended = match args.dns {
        Some(server) => runtime.block_on(update(
            &mut base,
            &client,
            &Named(
                Remembering::new(DnsResolver::new(UdpDns::new(server, DNS_WAIT)), names),
                "DNS",
            ),
        )),
        None => runtime.block_on(update(
            &mut base,
            &client,
            &Named(Remembering::new(SystemResolver, names), "system"),
        )),
    };
    let entries: Vec<_> = base.display().entries().collect();
    for (code, key) in entries.iter().skip(shown_before) {
        println!("Code {code}: {}", meaning(profile, *key));
    }
    let success = match &ended {
        Ended::Finished(outcome) => {
            println!("--- update ended: {outcome}");
            base.codes().code(outcome.key()) == 0
        }
        Ended::PowerLost { stage } => {
            println!("--- the power went out ({stage:?}); the base booted from its saved state");
            false
        }
    };
    println!("--- after: {}", describe(&versions(&base), Some(&before)));
    if success {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

async fn update<R: Resolver>(base: &mut Base, client: &Printing, resolver: &R) -> Ended {
    run_update(base, Request::Full, client, resolver, &[]).await
}

/// The meaning of the row that gives `key` its code.
fn meaning(profile: &Profile, key: dmsim::outcome::Key) -> String {
    profile
        .snom_row(key)
        .map_or_else(|| key.to_string(), |row| row.meaning.clone())
}

/// The gateway's version, then each handset's id and version.
fn versions(base: &Base) -> Vec<(String, String)> {
    let mut all = vec![("gateway".to_string(), base.gateway_version().to_string())];
    all.extend(
        base.handset_versions()
            .into_iter()
            .map(|(id, v)| (format!("handset {id}"), v)),
    );
    all
}

/// `gateway 0790 (was 0780), handset hs1 0790 (was 0780)`.
fn describe(now: &[(String, String)], before: Option<&[(String, String)]>) -> String {
    now.iter()
        .map(|(what, version)| {
            let was = before
                .and_then(|b| b.iter().find(|(w, _)| w == what))
                .filter(|(_, v)| v != version)
                .map(|(_, v)| format!(" (was {v})"))
                .unwrap_or_default();
            format!("{what} {version}{was}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The HTTP content client, printing each GET as it ends.
struct Printing(HttpContent);

impl ContentClient for Printing {
    async fn get(&self, url: &str, range: Option<u64>) -> Result<ContentResponse, FetchError> {
        self.get_authorized(url, range, None).await
    }

    async fn get_authorized(
        &self,
        url: &str,
        range: Option<u64>,
        authorization: Option<&str>,
    ) -> Result<ContentResponse, FetchError> {
        let answer = self.0.get_authorized(url, range, authorization).await;
        let with = if authorization.is_some() {
            " (with credentials)"
        } else {
            ""
        };
        match &answer {
            Ok(r) => println!(
                "--- GET {url}{with}: HTTP {}, {} bytes",
                r.status,
                r.body.len()
            ),
            Err(e) => println!("--- GET {url}{with}: {e}"),
        }
        answer
    }

    async fn post(&self, url: &str, content_type: &str, body: Vec<u8>) -> Result<u16, FetchError> {
        self.0.post(url, content_type, body).await
    }
}

/// A resolver, printing each lookup as it ends.
struct Named<R>(R, &'static str);

impl<R: Resolver> Resolver for Named<R> {
    async fn lookup(&self, host: &str) -> Result<Vec<IpAddr>, LookupError> {
        let found = self.0.lookup(host).await;
        match &found {
            Ok(addresses) => {
                let list: Vec<String> = addresses.iter().map(IpAddr::to_string).collect();
                println!(
                    "--- lookup {host} ({} resolver): {}",
                    self.1,
                    list.join(" ")
                );
            }
            Err(e) => println!("--- lookup {host} ({} resolver): {e}", self.1),
        }
        found
    }
}

/// `--dns`: a socket address, or an IP address on port 53.
pub fn dns_server(text: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    text.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .map(|ip| SocketAddr::new(ip, 53))
        .map_err(|_| format!("{text:?} is not an address (e.g. 127.0.0.1:5353 or 192.0.2.53)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_names_the_server_and_the_folder() {
        let split = |u: &str| split_server(u).map_err(|_| ());
        assert_eq!(
            split("http://127.0.0.1:8000/Updates/"),
            Ok(("http://127.0.0.1:8000/".into(), "Updates/".into()))
        );
        assert_eq!(
            split("https://fw.example.com/m3/group1"),
            Ok(("https://fw.example.com/".into(), "m3/group1/".into()))
        );
        assert_eq!(
            split("http://fw.example.com"),
            Ok(("http://fw.example.com/".into(), String::new()))
        );
        assert!(split("http://fw.example.com/Updates/?x=1").is_err());
        assert!(split("http://fw.example.com/Updates/#top").is_err());
        assert!(split("http://user:pw@fw.example.com/Updates/").is_err());
    }

    #[test]
    fn dns_servers_are_addresses_with_port_53_by_default() {
        assert_eq!(
            dns_server("127.0.0.1:5353"),
            Ok("127.0.0.1:5353".parse().unwrap())
        );
        assert_eq!(
            dns_server("192.0.2.53"),
            Ok("192.0.2.53:53".parse().unwrap())
        );
        assert_eq!(dns_server("[::1]"), Ok("[::1]:53".parse().unwrap()));
        assert!(dns_server("dns.example.com").is_err());
    }

    #[test]
    fn versions_say_what_changed() {
        let v = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        let before = v(&[("gateway", "0780"), ("handset hs1", "0780")]);
        let after = v(&[("gateway", "0790"), ("handset hs1", "0780")]);
        assert_eq!(
            describe(&after, Some(&before)),
            "gateway 0790 (was 0780), handset hs1 0780"
        );
        assert_eq!(describe(&before, None), "gateway 0780, handset hs1 0780");
    }
}
