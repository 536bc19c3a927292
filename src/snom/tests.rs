//! The base's update, each display code from its cause: a scripted content server (files of a
//! release built by `package::snom`, with faults per file and Basic authentication) and a scripted
//! resolver (or the in-process DNS responder), and power loss at every save.

use super::*;
use crate::download::{ContentClient, FetchError};
use crate::faults::{FaultEffect, FaultPlan, FaultPoint, FaultRule, Faults, Trigger};
use crate::firmware::SlotState;
use crate::inproc::InProcessDns;
use crate::outcome::{Cause, Key, Phase};
use crate::package::snom::{build_release, Defect, FwuDefect, Part, ReleaseSpec};
use crate::protocol::http::{BodyEnd, ContentResponse};
use crate::server::dns::{DnsFault, DnsResponder};
use crate::storage::MemoryStore;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};

const SERVER: &str = "http://fw.example.com/";
const OLD: &str = "0780";
const NEW: &str = "0790";

/// What the scripted server does for one file instead of serving it.
#[derive(Clone)]
enum Fault {
    Status(u16),
    Error(FetchError),
    End(BodyEnd),
}

/// A content server holding a release's files under `/Updates/`.
struct Server {
    files: HashMap<String, Vec<u8>>,
    faults: HashMap<String, Fault>,
    /// The `Authorization` it requires, if any.
    auth: Option<String>,
    requests: Mutex<Vec<(String, Option<String>)>>,
}

impl Server {
    fn new(spec: &ReleaseSpec) -> Server {
        let release = build_release(spec).expect("a release");
        Server {
            files: release
                .files
                .into_iter()
                .map(|(name, bytes)| (format!("{SERVER}Updates/{name}"), bytes))
                .collect(),
            faults: HashMap::new(),
            auth: None,
            requests: Mutex::new(Vec::new()),
        }
    }

    fn release(version: &str) -> Server {
        Server::new(&ReleaseSpec::new(version))
    }

    fn fault(mut self, file: &str, fault: Fault) -> Server {
        self.faults.insert(format!("{SERVER}Updates/{file}"), fault);
        self
    }

    fn requests(&self) -> Vec<(String, Option<String>)> {
        self.requests.lock().unwrap().clone()
    }
}

/// The path of a URL (the URL itself when it does not parse).
fn path_of(url: &str) -> String {
    reqwest::Url::parse(url).map_or_else(|_| url.to_string(), |u| u.path().to_string())
}

impl ContentClient for Server {
    async fn get(&self, url: &str, range: Option<u64>) -> Result<ContentResponse, FetchError> {
        self.get_authorized(url, range, None).await
    }

    async fn get_authorized(
        &self,
        url: &str,
        _range: Option<u64>,
        authorization: Option<&str>,
    ) -> Result<ContentResponse, FetchError> {
        self.requests
            .lock()
            .unwrap()
            .push((url.to_string(), authorization.map(str::to_string)));
        if self.auth.is_some() && self.auth.as_deref() != authorization {
            return Ok(ContentResponse::new(401, None, Vec::new()));
        }
        // The base connects to the address its lookup gave: the server answers by path, as one
        // host serving every name it has would.
        let path = path_of(url);
        let Some(bytes) = self
            .files
            .iter()
            .find(|(k, _)| path_of(k) == path)
            .map(|(_, v)| v)
        else {
            return Ok(ContentResponse::new(404, None, Vec::new()));
        };
        let fault = self
            .faults
            .iter()
            .find(|(k, _)| path_of(k) == path)
            .map(|(_, f)| f.clone());
        match fault {
            None => Ok(ContentResponse::new(200, None, bytes.clone())),
            Some(Fault::Status(status)) => Ok(ContentResponse::new(status, None, Vec::new())),
            Some(Fault::Error(e)) => Err(e),
            Some(Fault::End(end)) => Ok(ContentResponse {
                status: 200,
                content_length: Some(bytes.len() as u64),
                body: bytes[..bytes.len() / 2].to_vec(),
                end,
                ..ContentResponse::default()
            }),
        }
    }

    async fn post(
        &self,
        _url: &str,
        _content_type: &str,
        _body: Vec<u8>,
    ) -> Result<u16, FetchError> {
        Ok(405)
    }
}

/// A resolver giving one answer to every name, recording what it was asked.
struct Names {
    answer: Result<Vec<IpAddr>, LookupError>,
    asked: Mutex<Vec<String>>,
}

fn names(answer: Result<Vec<IpAddr>, LookupError>) -> Names {
    Names {
        answer,
        asked: Mutex::new(Vec::new()),
    }
}

fn resolves() -> Names {
    names(Ok(vec![IpAddr::V4(Ipv4Addr::new(192, 0, 2, 80))]))
}

impl Resolver for Names {
    async fn lookup(&self, host: &str) -> Result<Vec<IpAddr>, LookupError> {
        self.asked.lock().unwrap().push(host.to_string());
        self.answer.clone()
    }
}

fn config() -> SnomConfig {
    SnomConfig::new(NEW).with_server(SERVER)
}

fn base_with(config: SnomConfig, store: Arc<MemoryStore>, faults: Faults) -> Base {
    let profile = crate::profile::builtin("snom-m3").expect("built in");
    let factory = BaseState::factory(OLD, &[("hs1", OLD), ("hs2", OLD)]);
    Base::new("m3-1", config, profile, factory, store, faults).expect("a base")
}

fn base(config: SnomConfig) -> Base {
    base_with(config, Arc::new(MemoryStore::new()), Faults::default())
}

async fn update(base: &mut Base, server: &Server, resolver: &Names) -> Ended {
    run_update(base, Request::Full, server, resolver, &[]).await
}

/// The outcome key of a finished run.
fn key(ended: &Ended) -> Key {
    match ended {
        Ended::Finished(outcome) => {
            assert!(outcome.key().is_reachable(), "{outcome} is in REACHABLE");
            outcome.key()
        }
        other => panic!("not finished: {other:?}"),
    }
}

fn handsets(base: &Base) -> Vec<String> {
    base.handset_versions()
        .into_iter()
        .map(|(_, v)| v)
        .collect()
}

/// Run a full update of a default base against `server`; the codes shown and the outcome.
async fn codes_of(config: SnomConfig, server: Server, resolver: Names) -> (Vec<u8>, Key, Base) {
    let mut b = base(config);
    let ended = update(&mut b, &server, &resolver).await;
    (b.display().codes(), key(&ended), b)
}

#[tokio::test]
async fn code_0_both_parts_installed_and_the_versions_changed() {
    let server = Server::release(NEW);
    let resolver = resolves();
    let mut b = base(config());
    let ended = update(&mut b, &server, &resolver).await;
    assert_eq!(key(&ended), Key(Phase::Update, Cause::Succeeded));
    assert_eq!(b.display().codes(), [0]);
    assert_eq!(b.gateway_version(), NEW);
    assert_eq!(handsets(&b), [NEW, NEW]);
    assert_eq!(*resolver.asked.lock().unwrap(), ["fw.example.com"]);
    let urls: Vec<String> = server.requests().into_iter().map(|(u, _)| u).collect();
    assert_eq!(
        urls,
        [
            "http://fw.example.com/Updates/DirList.txt",
            "http://fw.example.com/Updates/m3Gw_fr01_v0790.fwu",
            "http://fw.example.com/Updates/m3Pp_fr01_v0790.fwu",
        ]
    );
    // The new image is committed in the other slot; the old one stays beside it.
    let g = &b.state().gateway;
    assert_eq!(g.slot(g.active()).state, SlotState::Good);
    assert_eq!(g.slot(g.active().other()).version, OLD);
}

#[tokio::test]
async fn an_ip_literal_server_needs_no_lookup() {
    let server = Server::release(NEW);
    let resolver = names(Err(LookupError::NoSuchName));
    let mut b = base(SnomConfig::new(NEW).with_server("http://127.0.0.1:8080/"));
    let ended = update(&mut b, &server, &resolver).await;
    // No lookup (one would have failed), and every request went to the literal.
    assert_eq!(key(&ended), Key(Phase::Update, Cause::Succeeded));
    assert!(resolver.asked.lock().unwrap().is_empty());
    assert!(server
        .requests()
        .iter()
        .all(|(u, _)| u.starts_with("http://127.0.0.1:8080/Updates/")));
}

#[tokio::test]
async fn code_1_the_selected_version_or_language_is_not_listed() {
    let (codes, k, b) = codes_of(
        SnomConfig::new("0800").with_server(SERVER),
        Server::release(NEW),
        resolves(),
    )
    .await;
    assert_eq!(
        (codes, k),
        (vec![1], Key(Phase::Update, Cause::VersionNotListed))
    );
    assert_eq!(b.gateway_version(), OLD);
    let mut config = config();
    config.language = "de01".into();
    let (codes, _, _) = codes_of(config, Server::release(NEW), resolves()).await;
    assert_eq!(codes, [1]);
}

#[tokio::test]
async fn code_2_network_failures_and_most_http_statuses() {
    for fault in [
        Fault::Status(500),
        Fault::Status(503),
        Fault::Status(403),
        Fault::Status(302),
        Fault::Error(FetchError::Unreachable("connection refused".into())),
        Fault::Error(FetchError::ConnectionLost { received: 0 }),
        Fault::End(BodyEnd::ConnectionLost),
    ] {
        let server = Server::release(NEW).fault("m3Pp_fr01_v0790.fwu", fault);
        let (codes, k, b) = codes_of(config(), server, resolves()).await;
        assert_eq!(codes, [2], "{k}");
        assert_eq!(k.0, Phase::Download);
        // The gateway was done before the handset file failed.
        assert_eq!(
            (b.gateway_version(), handsets(&b)),
            (NEW, vec![OLD.to_string(), OLD.to_string()])
        );
    }
}

#[tokio::test]
async fn code_3_a_file_not_found() {
    let mut server = Server::release(NEW);
    server
        .files
        .retain(|url, _| !url.ends_with("m3Gw_fr01_v0790.fwu"));
    let (codes, k, b) = codes_of(config(), server, resolves()).await;
    assert_eq!((codes, k), (vec![3], Key(Phase::Download, Cause::NotFound)));
    assert_eq!(b.gateway_version(), OLD);
}

#[tokio::test]
async fn code_4_a_file_too_big_for_the_flash() {
    let mut small = config();
    small.gateway_flash = 1024;
    let (codes, k, b) = codes_of(small, Server::release(NEW), resolves()).await;
    assert_eq!((codes, k), (vec![4], Key(Phase::Update, Cause::TooBig)));
    assert_eq!(b.gateway_version(), OLD);
    let too_large = Server::release(NEW).fault("DirList.txt", Fault::End(BodyEnd::TooLarge));
    assert_eq!(codes_of(config(), too_large, resolves()).await.0, [4]);
}

#[tokio::test]
async fn code_5_timeout_waiting_for_a_file() {
    let server = Server::release(NEW).fault("DirList.txt", Fault::Error(FetchError::Timeout));
    let (codes, k, _) = codes_of(config(), server, resolves()).await;
    assert_eq!((codes, k), (vec![5], Key(Phase::Download, Cause::Timeout)));
    let stalled = Server::release(NEW).fault("m3Gw_fr01_v0790.fwu", Fault::End(BodyEnd::TimedOut));
    assert_eq!(codes_of(config(), stalled, resolves()).await.0, [5]);
}

#[tokio::test]
async fn code_6_no_server() {
    let server = Server::release(NEW);
    let (codes, k, _) = codes_of(SnomConfig::new(NEW), server, resolves()).await;
    assert_eq!((codes, k), (vec![6], Key(Phase::Update, Cause::NoServer)));
}

#[tokio::test]
async fn code_7_a_wrong_file_or_a_failed_flash_write() {
    for defect in FwuDefect::ALL {
        for part in Part::ALL {
            let mut spec = ReleaseSpec::new(NEW);
            spec.defect = Some(Defect::Fwu(defect, part));
            let (codes, k, b) = codes_of(config(), Server::new(&spec), resolves()).await;
            assert_eq!(
                (codes, k),
                (vec![7], Key(Phase::Update, Cause::WrongFormat)),
                "{defect:?} {part}"
            );
            let gateway = if part == Part::Gateway { OLD } else { NEW };
            assert_eq!(b.gateway_version(), gateway, "{defect:?} {part}");
            assert_eq!(handsets(&b), [OLD, OLD]);
        }
    }
    let plan = FaultPlan::new(vec![FaultRule {
        point: FaultPoint::InstallWrite,
        effect: FaultEffect::StorageWriteError,
        trigger: Trigger::Nth(1),
    }]);
    let mut b = base_with(config(), Arc::new(MemoryStore::new()), plan.for_device(0));
    let ended = update(&mut b, &Server::release(NEW), &resolves()).await;
    assert_eq!(key(&ended), Key(Phase::Update, Cause::WriteFailed));
    assert_eq!((b.display().codes(), b.gateway_version()), (vec![7], OLD));
}

#[tokio::test]
async fn code_8_an_update_started_while_one_runs() {
    let server = Server::release(NEW);
    let mut b = base(config());
    let ended = run_update(
        &mut b,
        Request::Full,
        &server,
        &resolves(),
        &[Stage::GatewayFile],
    )
    .await;
    assert_eq!(key(&ended), Key(Phase::Update, Cause::Succeeded));
    assert_eq!(b.display().codes(), [8, 0]);
    let shown: Vec<Key> = b.display().entries().map(|(_, k)| k).collect();
    assert_eq!(shown[0], Key(Phase::Update, Cause::ApiMisuse));
}

#[tokio::test]
async fn code_8_a_handset_update_without_the_base_update_it_requires() {
    let mut spec = ReleaseSpec::new(NEW);
    spec.requires_both = true;
    let server = Server::new(&spec);
    let mut b = base(config());
    let ended = run_update(&mut b, Request::HandsetsOnly, &server, &resolves(), &[]).await;
    assert_eq!(key(&ended), Key(Phase::Update, Cause::ApiMisuse));
    assert_eq!(
        (b.display().codes(), handsets(&b)),
        (vec![8], vec![OLD.to_string(), OLD.to_string()])
    );
    // After the base update, the handset update is allowed; without `requires = both` at once.
    let ended = update(&mut b, &server, &resolves()).await;
    assert_eq!(key(&ended), Key(Phase::Update, Cause::Succeeded));
    let ended = run_update(&mut b, Request::HandsetsOnly, &server, &resolves(), &[]).await;
    assert_eq!(key(&ended), Key(Phase::Update, Cause::Succeeded));
    let mut b = base(config());
    let ended = run_update(
        &mut b,
        Request::HandsetsOnly,
        &Server::release(NEW),
        &resolves(),
        &[],
    )
    .await;
    assert_eq!(key(&ended), Key(Phase::Update, Cause::Succeeded));
    assert_eq!(
        (b.gateway_version(), handsets(&b)),
        (OLD, vec![NEW.to_string(), NEW.to_string()])
    );
}

#[tokio::test]
async fn code_9_and_10_a_dirlist_syntax_error_and_an_unknown_format() {
    for (defect, code, cause) in [
        (Defect::DirListSyntax, 9, Cause::DirlistSyntax),
        (Defect::DirListFormat, 10, Cause::DirlistUnknownFormat),
    ] {
        let mut spec = ReleaseSpec::new(NEW);
        spec.defect = Some(defect);
        let (codes, k, _) = codes_of(config(), Server::new(&spec), resolves()).await;
        assert_eq!((codes, k), (vec![code], Key(Phase::Update, cause)));
    }
    // An HTML index page where the DirList should be: another format.
    let mut server = Server::release(NEW);
    server.files.insert(
        format!("{SERVER}Updates/DirList.txt"),
        b"<html><body>Index of /</body></html>\n".to_vec(),
    );
    assert_eq!(codes_of(config(), server, resolves()).await.0, [10]);
}

#[tokio::test]
async fn code_11_the_server_name_lookup_failed() {
    for error in [
        LookupError::NoSuchName,
        LookupError::NoAnswer,
        LookupError::NoAddress,
    ] {
        let (codes, k, _) = codes_of(config(), Server::release(NEW), names(Err(error))).await;
        assert_eq!(
            (codes, k),
            (vec![11], Key(Phase::Update, Cause::NameLookupFailed))
        );
    }
}

/// The lookup by DNS messages, against the in-process DNS responder: each fault is Code 11, a
/// name in its table updates.
#[tokio::test]
async fn code_11_through_dns_messages() {
    let ip = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 80));
    for (fault, name, code) in [
        (None, "fw.example.com", 0),
        (None, "other.example.com", 11),
        (Some(DnsFault::NxDomain), "fw.example.com", 11),
        (Some(DnsFault::ServFail), "fw.example.com", 11),
        (Some(DnsFault::Silent), "fw.example.com", 11),
    ] {
        let responder = DnsResponder::new()
            .with_name(name, vec![ip])
            .with_fault(fault);
        let resolver = DnsResolver::new(InProcessDns::new(Arc::new(responder)));
        let mut b = base(config());
        run_update(&mut b, Request::Full, &Server::release(NEW), &resolver, &[]).await;
        assert_eq!(b.display().codes(), [code], "{fault:?} {name}");
    }
}

#[tokio::test]
async fn code_12_authentication_failed_with_and_without_credentials() {
    let header = config().with_credentials("admin", "secret").authorization();
    let protected = || {
        let mut s = Server::release(NEW);
        s.auth = header.clone();
        s
    };
    let (codes, k, _) = codes_of(config(), protected(), resolves()).await;
    assert_eq!(
        (codes, k),
        (vec![12], Key(Phase::Download, Cause::AuthenticationFailed))
    );
    let wrong = config().with_credentials("admin", "wrong");
    assert_eq!(codes_of(wrong, protected(), resolves()).await.0, [12]);
    let server = protected();
    let mut b = base(config().with_credentials("admin", "secret"));
    update(&mut b, &server, &resolves()).await;
    assert_eq!(b.display().codes(), [0]);
    assert!(server.requests().iter().all(|(_, a)| *a == header));
}

/// A power loss at each save of the update, one run each: the base boots on the old gateway image
/// or the new one, whole, and each handset runs the old version or the new one. The run with no
/// power loss is the last: every save was reached.
#[tokio::test]
async fn power_loss_at_every_save_boots_the_old_or_the_new_gateway_never_a_mix() {
    let mut seen = Vec::new();
    for point in [FaultPoint::StateSave, FaultPoint::InstallWrite] {
        for n in 1.. {
            let plan = FaultPlan::new(vec![FaultRule {
                point,
                effect: FaultEffect::PowerLoss,
                trigger: Trigger::Nth(n),
            }]);
            let store = Arc::new(MemoryStore::new());
            let mut b = base_with(config(), store.clone(), plan.for_device(0));
            let ended = update(&mut b, &Server::release(NEW), &resolves()).await;
            let g = b.state().gateway.clone();
            assert_eq!(g.slot(g.active()).state, SlotState::Good, "{point} #{n}");
            assert!([OLD, NEW].contains(&g.version()), "{point} #{n}");
            for v in handsets(&b) {
                assert!([OLD, NEW].contains(&v.as_str()), "{point} #{n}");
            }
            // What the base runs is what it saved: a fresh power-up from the store agrees.
            let again = base_with(config(), store, Faults::default());
            assert_eq!(again.state(), b.state(), "{point} #{n}");
            match ended {
                Ended::PowerLost { stage } => {
                    assert!(b.display().codes().is_empty());
                    seen.push((point, stage, g.version().to_string()));
                    // The update runs again to its end after the power comes back.
                    let ended = update(&mut b, &Server::release(NEW), &resolves()).await;
                    assert_eq!(
                        key(&ended),
                        Key(Phase::Update, Cause::Succeeded),
                        "{point} #{n}"
                    );
                    assert_eq!(
                        (b.gateway_version(), handsets(&b)),
                        (NEW, vec![NEW.to_string(), NEW.to_string()])
                    );
                }
                Ended::Finished(_) => break,
            }
        }
    }
    // Saves: 2 for the gateway's write, 2 for the switch and the commit, 1 per handset.
    let saves: Vec<_> = seen
        .iter()
        .filter(|(p, ..)| *p == FaultPoint::StateSave)
        .collect();
    assert_eq!(saves.len(), 6, "{seen:?}");
    let versions: Vec<&str> = saves.iter().map(|(_, _, v)| v.as_str()).collect();
    // Lost before the switch landed: old; at the commit save: the switched image, committed at boot.
    assert_eq!(versions, [OLD, OLD, OLD, NEW, NEW, NEW]);
    let writes = seen
        .iter()
        .filter(|(p, ..)| *p == FaultPoint::InstallWrite)
        .count();
    assert_eq!(writes, 3, "one gateway write, one per handset: {seen:?}");
}
