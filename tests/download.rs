//! OMA Download end to end: the download agent against the mock server's content hosting.
//!
//! In-process (no sockets, no waiting): a direct package, a package through a descriptor, resume
//! after a cut (server cut and device `network.lost@N`), 200 answers to a Range, size, type and
//! hash mismatches, every HTTP fault, a slow server, device-side faults, and the install
//! notifications the server records for each. Then the same downloads over real loopback HTTPS
//! with `HttpContent` and `net::serve` (127.0.0.1, port 0, the committed `certs/`, every test
//! bounded by a timeout).

use dmsim::download::{
    download, ContentClient, DownloadFailure, DownloadOutcome, DownloadRequest, FetchError, Partial,
};
use dmsim::faults::{FaultEffect, FaultPlan, FaultPoint, FaultRule, Faults, Trigger};
use dmsim::inproc::InProcessContent;
use dmsim::net::{self, tls, ClientAuth, ClientOptions, DmService, HttpContent, Identity};
use dmsim::protocol::download::{Descriptor, DeviceLimits, DlStatus, HashAlgorithm};
use dmsim::protocol::http::ContentResponse;
use dmsim::server::{
    ContentConfig, ContentFault, ContentFaultKind, HostedFile, InstallNotification, MockServer,
    ServerConfig,
};
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const FW_TYPE: &str = "application/vnd.oma.dm.fw";
const DEVICE: &str = "IMEI:490154203237518";
const LIMIT: Duration = Duration::from_secs(20);

/// 10 000 bytes that are not all alike.
fn firmware() -> Vec<u8> {
    (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect()
}

/// The notify path with the device in its query (so the server records who reported).
fn notify_uri() -> String {
    format!("/notify?device={DEVICE}")
}

/// A truthful descriptor of the firmware at `/fw.bin`, with relative URIs, MD5 and SHA256.
fn descriptor() -> Descriptor {
    let fw = firmware();
    Descriptor::for_object("/fw.bin", FW_TYPE, &fw)
        .with_hash(HashAlgorithm::Sha256, &fw)
        .with_install_notify(notify_uri())
}

/// The firmware, its descriptor at `/fw.dd`, and the notify path.
fn content() -> ContentConfig {
    ContentConfig::default()
        .file(HostedFile::new("/fw.bin", FW_TYPE, firmware()))
        .file(HostedFile::descriptor("/fw.dd", &descriptor()))
        .notify_path("/notify")
}

fn hosting(content: ContentConfig) -> Arc<MockServer> {
    Arc::new(MockServer::with_content(ServerConfig::default(), content))
}

fn request(url: &str) -> DownloadRequest {
    DownloadRequest::new(url, DeviceLimits::default())
}

fn no_faults() -> Faults {
    Faults::default()
}

/// One download of `url` from scratch, without faults.
async fn fetch<C: ContentClient>(client: &C, url: &str) -> DownloadOutcome {
    download(client, request(url), &mut Partial::new(), &mut no_faults()).await
}

fn faults(point: FaultPoint, effect: FaultEffect, trigger: Trigger) -> Faults {
    FaultPlan::new(vec![FaultRule {
        point,
        effect,
        trigger,
    }])
    .for_device(1)
}

/// The codes the server recorded, with the device of each.
fn recorded(server: &MockServer) -> Vec<(u16, Option<String>)> {
    server
        .install_notifications()
        .into_iter()
        .map(|n: InstallNotification| (n.code, n.device))
        .collect()
}

fn expect_failure(outcome: &DownloadOutcome) -> (&DownloadFailure, Option<DlStatus>) {
    match outcome {
        DownloadOutcome::Failed {
            cause, dl_status, ..
        } => (cause, *dl_status),
        DownloadOutcome::Downloaded { .. } => panic!("expected a failure, got {outcome:?}"),
    }
}

fn expect_bytes(outcome: DownloadOutcome) -> Vec<u8> {
    match outcome {
        DownloadOutcome::Downloaded { bytes, .. } => bytes,
        DownloadOutcome::Failed { .. } => panic!("expected a download, got {outcome:?}"),
    }
}

/// A client that remembers every GET (URL and range) of the client it wraps, and can ignore
/// ranges like a server without Range support.
struct Recording<C> {
    inner: C,
    gets: Mutex<Vec<(String, Option<u64>)>>,
    ignore_ranges: bool,
}

impl<C> Recording<C> {
    fn new(inner: C) -> Self {
        Recording {
            inner,
            gets: Mutex::new(Vec::new()),
            ignore_ranges: false,
        }
    }

    fn gets(&self) -> Vec<(String, Option<u64>)> {
        self.gets.lock().expect("lock").clone()
    }
}

impl<C: ContentClient> ContentClient for Recording<C> {
    async fn get(&self, url: &str, range_from: Option<u64>) -> Result<ContentResponse, FetchError> {
        self.gets
            .lock()
            .expect("lock")
            .push((url.to_string(), range_from));
        let range = if self.ignore_ranges { None } else { range_from };
        self.inner.get(url, range).await
    }

    fn post(
        &self,
        url: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> impl Future<Output = Result<u16, FetchError>> + Send {
        self.inner.post(url, content_type, body)
    }
}

const BASE: &str = "http://dl.example";

#[tokio::test]
async fn a_direct_package_is_downloaded_without_notification() {
    let server = hosting(content());
    let client = InProcessContent::new(Arc::clone(&server));
    let mut partial = Partial::new();
    let outcome = download(
        &client,
        request(&format!("{BASE}/fw.bin")),
        &mut partial,
        &mut no_faults(),
    )
    .await;
    assert_eq!(outcome.dl_status(), None);
    assert_eq!(outcome.notify(), None);
    match outcome {
        DownloadOutcome::Downloaded {
            bytes, descriptor, ..
        } => {
            assert_eq!(bytes, firmware());
            assert_eq!(descriptor, None);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(partial, Partial::new());
    assert!(server.install_notifications().is_empty());
}

#[tokio::test]
async fn a_package_through_its_descriptor_is_verified_and_notified() {
    let server = hosting(content());
    let client = InProcessContent::new(Arc::clone(&server));
    let outcome = fetch(&client, &format!("{BASE}/fw.dd")).await;
    assert_eq!(outcome.dl_status(), Some(DlStatus::Success));
    let notify = outcome.notify().expect("notified").clone();
    assert_eq!(notify.url, format!("{BASE}/notify?device={DEVICE}"));
    assert_eq!(notify.status, DlStatus::Success);
    assert!(notify.accepted());
    match outcome {
        DownloadOutcome::Downloaded {
            bytes, descriptor, ..
        } => {
            assert_eq!(bytes, firmware());
            assert_eq!(descriptor, Some(descriptor_resolved_as_parsed()));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(recorded(&server), [(900, Some(DEVICE.to_string()))]);
    assert_eq!(server.install_notifications()[0].body, "900 Success");
}

/// The descriptor as the device parses it (the same struct: to_xml and parse round-trip).
fn descriptor_resolved_as_parsed() -> Descriptor {
    Descriptor::parse(descriptor().to_xml().as_bytes()).expect("parses")
}

#[tokio::test]
async fn a_descriptor_is_recognised_by_its_url_when_served_as_xml() {
    let server = hosting(content().file(HostedFile::new(
        "/dd/fw.xml",
        "text/xml",
        descriptor().to_xml().into_bytes(),
    )));
    let client = InProcessContent::new(Arc::clone(&server));
    let outcome = fetch(&client, &format!("{BASE}/dd/fw.xml")).await;
    assert_eq!(outcome.dl_status(), Some(DlStatus::Success));
}

#[tokio::test]
async fn a_cut_transfer_resumes_with_a_range() {
    let server = hosting(content().fault(ContentFault::first(
        "/fw.bin",
        ContentFaultKind::CutAt(4096),
    )));
    let client = Recording::new(InProcessContent::new(Arc::clone(&server)));
    let mut partial = Partial::new();
    let mut faults = no_faults();
    let mut req = request(&format!("{BASE}/fw.dd"));
    req.resume_later = true;

    let first = download(&client, req.clone(), &mut partial, &mut faults).await;
    let (cause, status) = expect_failure(&first);
    assert_eq!(*cause, DownloadFailure::ConnectionLost { received: 4096 });
    assert!(cause.is_resumable());
    assert_eq!(status, Some(DlStatus::LossOfService));
    assert_eq!(first.notify(), None, "held back: the caller resumes");
    assert_eq!(partial.url, format!("{BASE}/fw.bin"));
    assert_eq!(partial.bytes, firmware()[..4096]);
    assert_eq!(partial.expected_size, Some(10_000));

    let second = download(&client, req, &mut partial, &mut faults).await;
    assert_eq!(expect_bytes(second), firmware());
    let fw = format!("{BASE}/fw.bin");
    let dd = format!("{BASE}/fw.dd");
    assert_eq!(
        client.gets(),
        [
            (dd.clone(), None),
            (fw.clone(), None),
            (dd, None),
            (fw, Some(4096))
        ]
    );
    assert_eq!(partial, Partial::new());
    assert_eq!(recorded(&server), [(900, Some(DEVICE.to_string()))]);
}

#[tokio::test]
async fn a_cut_on_every_attempt_still_gets_there_and_a_direct_package_resumes_too() {
    let server = hosting(content().fault(ContentFault::every(
        "/fw.bin",
        ContentFaultKind::CutAt(3000),
    )));
    let client = Recording::new(InProcessContent::new(Arc::clone(&server)));
    let mut partial = Partial::new();
    let mut req = request(&format!("{BASE}/fw.bin"));
    req.resume_later = true;
    let mut received = Vec::new();
    let bytes = loop {
        match download(&client, req.clone(), &mut partial, &mut no_faults()).await {
            DownloadOutcome::Downloaded { bytes, .. } => break bytes,
            DownloadOutcome::Failed {
                cause: DownloadFailure::ConnectionLost { received: n },
                dl_status: None,
                notify: None,
            } => received.push(n),
            other => panic!("{other:?}"),
        }
        assert!(received.len() < 10, "no progress");
    };
    assert_eq!(bytes, firmware());
    assert_eq!(received, [3000, 6000, 9000]);
    let ranges: Vec<_> = client.gets().into_iter().map(|(_, r)| r).collect();
    assert_eq!(ranges, [None, Some(3000), Some(6000), Some(9000)]);
}

#[tokio::test]
async fn the_device_losing_the_network_keeps_what_arrived() {
    let server = hosting(content());
    let client = InProcessContent::new(Arc::clone(&server));
    let mut partial = Partial::new();
    let mut faults = faults(
        FaultPoint::DownloadTransfer,
        FaultEffect::NetworkLostAtByte(5000),
        Trigger::Nth(1),
    );
    // Not resuming later: 903 goes out at once.
    let first = download(
        &client,
        request(&format!("{BASE}/fw.dd")),
        &mut partial,
        &mut faults,
    )
    .await;
    let (cause, status) = expect_failure(&first);
    assert_eq!(*cause, DownloadFailure::ConnectionLost { received: 5000 });
    assert_eq!(status, Some(DlStatus::LossOfService));
    assert_eq!(
        first.notify().map(|n| n.status),
        Some(DlStatus::LossOfService)
    );
    assert_eq!(partial.received(), 5000);
    let second = download(
        &client,
        request(&format!("{BASE}/fw.dd")),
        &mut partial,
        &mut faults,
    )
    .await;
    assert_eq!(expect_bytes(second), firmware());
    let codes: Vec<_> = recorded(&server).into_iter().map(|(c, _)| c).collect();
    assert_eq!(codes, [903, 900]);
}

#[tokio::test]
async fn a_200_answer_to_a_range_restarts_from_zero() {
    let server =
        hosting(content().fault(ContentFault::first("/fw.bin", ContentFaultKind::CutAt(100))));
    let mut client = Recording::new(InProcessContent::new(Arc::clone(&server)));
    client.ignore_ranges = true;
    let mut partial = Partial::new();
    let url = format!("{BASE}/fw.dd");
    let first = download(&client, request(&url), &mut partial, &mut no_faults()).await;
    assert_eq!(partial.received(), 100, "{first:?}");
    let second = download(&client, request(&url), &mut partial, &mut no_faults()).await;
    assert_eq!(expect_bytes(second), firmware());
    assert_eq!(client.gets()[3].1, Some(100), "the range was asked");
}

#[tokio::test]
async fn size_and_hash_mismatches_are_905_and_notified() {
    let fw = firmware();
    let lying_size = Descriptor {
        size: 12_000,
        ..descriptor()
    };
    let lying_hash = Descriptor::new("/fw.bin", FW_TYPE, fw.len() as u64)
        .with_hash(HashAlgorithm::Sha256, b"something else")
        .with_install_notify(notify_uri());
    let lying_type = Descriptor {
        types: vec!["application/zip".into()],
        ..descriptor()
    };
    let server = hosting(
        content()
            .file(HostedFile::descriptor("/size.dd", &lying_size))
            .file(HostedFile::descriptor("/hash.dd", &lying_hash))
            .file(HostedFile::descriptor("/type.dd", &lying_type))
            .file(HostedFile::new("/bad.bin", FW_TYPE, fw.clone()))
            .file(HostedFile::descriptor(
                "/corrupt.dd",
                &Descriptor {
                    object_uri: "/bad.bin".into(),
                    ..descriptor()
                },
            ))
            .file(HostedFile::new("/short.bin", FW_TYPE, fw.clone()))
            .file(HostedFile::descriptor(
                "/short.dd",
                &Descriptor {
                    object_uri: "/short.bin".into(),
                    ..descriptor()
                },
            ))
            .fault(ContentFault::every(
                "/bad.bin",
                ContentFaultKind::CorruptByte(1234),
            ))
            .fault(ContentFault::every(
                "/short.bin",
                ContentFaultKind::WrongContentLength(9000),
            )),
    );
    let client = InProcessContent::new(Arc::clone(&server));
    let run = |path: &'static str| {
        let client = client.clone();
        let url = format!("{BASE}{path}");
        let mut partial = Partial::new();
        async move {
            let outcome = download(&client, request(&url), &mut partial, &mut no_faults()).await;
            assert!(partial.bytes.is_empty(), "{path}: bytes dropped");
            outcome
        }
    };

    let o = run("/size.dd").await;
    assert_eq!(
        expect_failure(&o),
        (
            &DownloadFailure::SizeMismatch {
                expected: 12_000,
                received: 10_000
            },
            Some(DlStatus::AttributeMismatch)
        )
    );
    let o = run("/hash.dd").await;
    assert!(
        matches!(
            expect_failure(&o),
            (
                DownloadFailure::HashMismatch {
                    algorithm: HashAlgorithm::Sha256,
                    ..
                },
                Some(DlStatus::AttributeMismatch)
            )
        ),
        "{o:?}"
    );
    let o = run("/corrupt.dd").await;
    assert!(
        matches!(
            expect_failure(&o).0,
            DownloadFailure::HashMismatch {
                algorithm: HashAlgorithm::Md5,
                ..
            }
        ),
        "{o:?}"
    );
    let o = run("/type.dd").await;
    assert!(
        matches!(
            expect_failure(&o),
            (DownloadFailure::TypeMismatch { received, .. }, Some(DlStatus::AttributeMismatch)) if received == FW_TYPE
        ),
        "{o:?}"
    );
    let o = run("/short.dd").await;
    assert_eq!(
        *expect_failure(&o).0,
        DownloadFailure::SizeMismatch {
            expected: 10_000,
            received: 9_000
        }
    );
    let codes: Vec<_> = recorded(&server).into_iter().map(|(c, _)| c).collect();
    assert_eq!(codes, [905, 905, 905, 905, 905]);
}

#[tokio::test]
async fn every_http_fault_is_its_own_failure() {
    let cases = [
        (
            ContentFaultKind::Unauthorized,
            DownloadFailure::AuthenticationFailed,
        ),
        (ContentFaultKind::Expired, DownloadFailure::Forbidden),
        (ContentFaultKind::NotFound, DownloadFailure::NotFound),
        (
            ContentFaultKind::ServerError,
            DownloadFailure::ServerError(500),
        ),
        (
            ContentFaultKind::Status(502),
            DownloadFailure::ServerError(502),
        ),
        (
            ContentFaultKind::Unavailable,
            DownloadFailure::ServerUnavailable,
        ),
        (
            ContentFaultKind::Status(410),
            DownloadFailure::UnexpectedStatus(410),
        ),
    ];
    for (kind, expected) in cases {
        // On the object behind a descriptor: reported as 954 Loader Error.
        let server = hosting(content().fault(ContentFault::every("/fw.bin", kind)));
        let client = InProcessContent::new(Arc::clone(&server));
        let o = fetch(&client, &format!("{BASE}/fw.dd")).await;
        assert_eq!(
            expect_failure(&o),
            (&expected, Some(DlStatus::LoaderError)),
            "{kind:?}"
        );
        assert_eq!(
            recorded(&server),
            [(954, Some(DEVICE.to_string()))],
            "{kind:?}"
        );
        // On the PkgURL itself: nothing to report to.
        let server = hosting(content().fault(ContentFault::every("/fw.dd", kind)));
        let client = InProcessContent::new(Arc::clone(&server));
        let o = fetch(&client, &format!("{BASE}/fw.dd")).await;
        assert_eq!(expect_failure(&o), (&expected, None), "{kind:?}");
        assert_eq!(o.notify(), None);
        assert!(server.install_notifications().is_empty());
    }
    let server = hosting(content());
    let client = InProcessContent::new(Arc::clone(&server));
    let o = fetch(&client, &format!("{BASE}/missing.bin")).await;
    assert_eq!(
        *expect_failure(&o).0,
        DownloadFailure::UnexpectedStatus(405),
        "nothing hosted there: refused like any GET to a DM server"
    );
    let o = fetch(&client, "ftp://dl.example/fw.bin").await;
    assert!(
        matches!(expect_failure(&o).0, DownloadFailure::BadUrl(_)),
        "{o:?}"
    );
}

#[tokio::test]
async fn a_slow_server_is_a_timeout_only_past_the_client_timeout() {
    let server = hosting(content().fault(ContentFault::first(
        "/fw.bin",
        ContentFaultKind::Slow(Duration::from_secs(90)),
    )));
    let client = InProcessContent::new(Arc::clone(&server)).with_timeout(Duration::from_secs(30));
    let mut partial = Partial::new();
    let url = format!("{BASE}/fw.dd");
    let o = download(&client, request(&url), &mut partial, &mut no_faults()).await;
    assert_eq!(
        expect_failure(&o),
        (&DownloadFailure::Timeout, Some(DlStatus::LossOfService))
    );
    assert_eq!(recorded(&server)[0].0, 903);
    let patient = InProcessContent::new(hosting(content().fault(ContentFault::every(
        "/fw.bin",
        ContentFaultKind::Slow(Duration::from_secs(5)),
    ))));
    let o = download(
        &patient,
        request(&url),
        &mut Partial::new(),
        &mut no_faults(),
    )
    .await;
    assert_eq!(expect_bytes(o), firmware());
}

#[tokio::test]
async fn descriptor_problems_are_reported_when_the_notify_uri_is_known() {
    let missing_size = descriptor().to_xml().replace("<size>10000</size>", "");
    let version_2 = Descriptor {
        dd_version: Some("2.0".into()),
        ..descriptor()
    };
    let server = hosting(
        content()
            .file(HostedFile::new(
                "/nosize.dd",
                "application/vnd.oma.dd+xml",
                missing_size.into_bytes(),
            ))
            .file(HostedFile::descriptor("/v2.dd", &version_2))
            .file(HostedFile::new(
                "/broken.dd",
                "application/vnd.oma.dd+xml",
                b"<media><type>".to_vec(),
            ))
            .file(HostedFile::descriptor(
                "/badobj.dd",
                &Descriptor {
                    object_uri: "ftp://elsewhere/fw.bin".into(),
                    ..descriptor()
                },
            )),
    );
    let client = InProcessContent::new(Arc::clone(&server));
    let run = |path: &str| {
        let url = format!("{BASE}{path}");
        let client = client.clone();
        async move { fetch(&client, &url).await }
    };
    let o = run("/nosize.dd").await;
    assert!(
        matches!(
            expect_failure(&o),
            (
                DownloadFailure::InvalidDescriptor(_),
                Some(DlStatus::InvalidDescriptor)
            )
        ),
        "{o:?}"
    );
    let o = run("/v2.dd").await;
    assert_eq!(
        expect_failure(&o),
        (
            &DownloadFailure::InvalidDdVersion {
                version: "2.0".into()
            },
            Some(DlStatus::InvalidDdVersion)
        )
    );
    let o = run("/broken.dd").await;
    assert_eq!(expect_failure(&o).1, Some(DlStatus::InvalidDescriptor));
    assert_eq!(o.notify(), None, "no notify URI could be read");
    let o = run("/badobj.dd").await;
    assert!(
        matches!(expect_failure(&o).0, DownloadFailure::InvalidDescriptor(e) if e.to_string().contains("objectURI")),
        "{o:?}"
    );
    let codes: Vec<_> = recorded(&server).into_iter().map(|(c, _)| c).collect();
    assert_eq!(codes, [906, 951, 906]);
}

#[tokio::test]
async fn device_checks_and_device_faults_are_notified() {
    let server = hosting(content());
    let client = InProcessContent::new(Arc::clone(&server));
    let url = format!("{BASE}/fw.dd");
    let limited = |free, types: &[&str]| {
        DownloadRequest::new(
            url.clone(),
            DeviceLimits {
                free_storage: free,
                accepted_types: types.iter().map(|t| t.to_string()).collect(),
            },
        )
    };
    let mut partial = Partial::new();

    let o = download(&client, limited(9_999, &[]), &mut partial, &mut no_faults()).await;
    assert_eq!(
        expect_failure(&o),
        (
            &DownloadFailure::InsufficientStorage {
                needed: Some(10_000),
                free: 9_999
            },
            Some(DlStatus::InsufficientMemory)
        )
    );
    let o = download(
        &client,
        limited(u64::MAX, &["image/*"]),
        &mut partial,
        &mut no_faults(),
    )
    .await;
    assert_eq!(
        expect_failure(&o),
        (
            &DownloadFailure::NonAcceptableContent {
                types: vec![FW_TYPE.into()]
            },
            Some(DlStatus::NonAcceptableContent)
        )
    );
    let cases = [
        (
            FaultPoint::DownloadStorageCheck,
            FaultEffect::StorageInsufficient,
            DownloadFailure::InsufficientStorage {
                needed: Some(10_000),
                free: 0,
            },
        ),
        (
            FaultPoint::DownloadUserConfirm,
            FaultEffect::UserReject,
            DownloadFailure::UserRejected,
        ),
        (
            FaultPoint::DownloadUserConfirm,
            FaultEffect::UserCancel,
            DownloadFailure::UserCancelled,
        ),
        (
            FaultPoint::DownloadTransfer,
            FaultEffect::DeviceAbort,
            DownloadFailure::DeviceAborted,
        ),
    ];
    for (point, effect, expected) in cases {
        let mut f = faults(point, effect, Trigger::Always);
        let o = download(&client, request(&url), &mut partial, &mut f).await;
        assert_eq!(*expect_failure(&o).0, expected, "{effect}");
        assert_eq!(f.fired(), [1], "{point} {effect} fired once");
    }
    // A device that has nothing to say about a direct package still checks its storage.
    let o = download(
        &client,
        DownloadRequest::new(
            format!("{BASE}/fw.bin"),
            DeviceLimits {
                free_storage: 10,
                accepted_types: vec![],
            },
        ),
        &mut partial,
        &mut no_faults(),
    )
    .await;
    assert_eq!(
        expect_failure(&o),
        (
            &DownloadFailure::InsufficientStorage {
                needed: Some(10_000),
                free: 10
            },
            None
        )
    );
    let codes: Vec<_> = recorded(&server).into_iter().map(|(c, _)| c).collect();
    assert_eq!(codes, [901, 953, 901, 902, 902, 952]);
}

#[tokio::test]
async fn the_user_is_asked_once_per_download_not_on_resume() {
    let server =
        hosting(content().fault(ContentFault::first("/fw.bin", ContentFaultKind::CutAt(10))));
    let client = InProcessContent::new(Arc::clone(&server));
    let mut f = faults(
        FaultPoint::DownloadUserConfirm,
        FaultEffect::UserCancel,
        Trigger::Nth(2),
    );
    let mut partial = Partial::new();
    let url = format!("{BASE}/fw.dd");
    let first = download(&client, request(&url), &mut partial, &mut f).await;
    assert!(matches!(
        expect_failure(&first).0,
        DownloadFailure::ConnectionLost { received: 10 }
    ));
    let second = download(&client, request(&url), &mut partial, &mut f).await;
    assert_eq!(expect_bytes(second), firmware());
    assert!(
        f.fired() == [0],
        "asked once: the second ask would have cancelled"
    );
}

#[tokio::test]
async fn a_notify_server_refusing_is_reported_as_such() {
    let server = hosting(content().fault(ContentFault::every(
        "/notify",
        ContentFaultKind::ServerError,
    )));
    let client = InProcessContent::new(Arc::clone(&server));
    let o = fetch(&client, &format!("{BASE}/fw.dd")).await;
    let notify = o.notify().expect("sent").clone();
    assert_eq!(notify.response, Ok(500));
    assert!(!notify.accepted());
    assert_eq!(expect_bytes(o), firmware());
    assert!(server.install_notifications().is_empty());
}

// ---- over loopback HTTPS ----

fn certs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("certs")
}

/// The mock server with `content` on a free loopback port, over HTTPS with the committed certs.
async fn serve(content: ContentConfig) -> (Arc<MockServer>, net::RunningServer) {
    let dir = certs();
    let identity = Identity::load(&dir.join("server.pem"), &dir.join("server.key")).expect("id");
    let tls = tls::server_config(identity, ClientAuth::None).expect("server tls");
    let server = hosting(content);
    let addr = SocketAddr::from(([127, 0, 0, 1], 0));
    let running = net::serve(addr, Arc::clone(&server) as Arc<dyn DmService>, Some(tls))
        .await
        .expect("serve");
    (server, running)
}

/// One shared HTTPS content client trusting the test CA.
fn https_client(request_timeout: Duration) -> HttpContent {
    let roots = tls::load_roots(&certs().join("ca.pem")).expect("ca");
    HttpContent::new(&ClientOptions {
        tls: Some(tls::client_config(roots, None).expect("client tls")),
        connect_timeout: Duration::from_secs(2),
        request_timeout,
        ..ClientOptions::default()
    })
    .expect("client")
}

async fn bounded<T>(f: impl Future<Output = T>) -> T {
    tokio::time::timeout(LIMIT, f)
        .await
        .expect("within the limit")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_https_a_cut_download_resumes_and_is_notified() {
    bounded(async {
        let (server, running) = serve(content().fault(ContentFault::first(
            "/fw.bin",
            ContentFaultKind::CutAt(4096),
        )))
        .await;
        let client = Recording::new(https_client(Duration::from_secs(5)));
        let url = running.url("/fw.dd");
        let mut partial = Partial::new();
        let mut req = request(&url);
        req.resume_later = true;
        let first = download(&client, req.clone(), &mut partial, &mut no_faults()).await;
        assert_eq!(
            expect_failure(&first).0,
            &DownloadFailure::ConnectionLost { received: 4096 }
        );
        assert_eq!(partial.bytes, firmware()[..4096]);
        let second = download(&client, req, &mut partial, &mut no_faults()).await;
        let notify = second.notify().expect("notified").clone();
        assert_eq!(notify.response, Ok(200));
        assert_eq!(expect_bytes(second), firmware());
        assert_eq!(client.gets()[3], (running.url("/fw.bin"), Some(4096)));
        assert_eq!(recorded(&server), [(900, Some(DEVICE.to_string()))]);
        // A direct package over the same client.
        let direct = fetch(&client, &running.url("/fw.bin")).await;
        assert_eq!(expect_bytes(direct), firmware());
        running.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_https_faults_are_the_same_failures() {
    bounded(async {
        let (server, running) = serve(
            content()
                .fault(ContentFault::every(
                    "/fw.bin",
                    ContentFaultKind::Slow(Duration::from_secs(2)),
                ))
                .fault(ContentFault::every("/gone.bin", ContentFaultKind::Expired))
                .file(HostedFile::new("/long.bin", FW_TYPE, firmware()))
                .fault(ContentFault::every(
                    "/long.bin",
                    ContentFaultKind::WrongContentLength(20_000),
                )),
        )
        .await;
        let client = https_client(Duration::from_millis(500));
        let run = |path: &str| {
            let url = running.url(path);
            let client = client.clone();
            async move { fetch(&client, &url).await }
        };
        let o = run("/fw.dd").await;
        assert_eq!(
            expect_failure(&o),
            (&DownloadFailure::Timeout, Some(DlStatus::LossOfService))
        );
        assert_eq!(o.notify().map(|n| n.response.clone()), Some(Ok(200)));
        let o = run("/gone.bin").await;
        assert_eq!(expect_failure(&o), (&DownloadFailure::Forbidden, None));
        let o = run("/missing.bin").await;
        assert_eq!(
            *expect_failure(&o).0,
            DownloadFailure::UnexpectedStatus(405)
        );
        let o = run("/long.bin").await;
        assert_eq!(
            *expect_failure(&o).0,
            DownloadFailure::ConnectionLost { received: 10_000 }
        );
        assert_eq!(
            recorded(&server)
                .into_iter()
                .map(|(c, _)| c)
                .collect::<Vec<_>>(),
            [903]
        );
        // What is not hosted is refused as before.
        let fetched = client.get(&running.url("/dm"), None).await.expect("answer");
        assert_eq!(fetched.status, 405);
        let posted = client
            .post(&running.url("/dm"), "text/plain", b"900".to_vec())
            .await;
        assert_eq!(posted, Ok(415));
        running.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_https_an_untrusted_server_and_a_closed_port_are_told_apart() {
    bounded(async {
        let (_server, running) = serve(content()).await;
        let roots = tls::load_roots(&certs().join("wrong-ca.pem")).expect("ca");
        let untrusting = HttpContent::new(&ClientOptions {
            tls: Some(tls::client_config(roots, None).expect("tls")),
            ..ClientOptions::default()
        })
        .expect("client");
        let o = download(
            &untrusting,
            request(&running.url("/fw.dd")),
            &mut Partial::new(),
            &mut no_faults(),
        )
        .await;
        assert!(
            matches!(expect_failure(&o).0, DownloadFailure::Tls(_)),
            "{o:?}"
        );
        let addr = running.local_addr();
        running.shutdown().await;
        let closed = format!("https://{addr}/fw.dd");
        let o = download(
            &https_client(Duration::from_secs(2)),
            request(&closed),
            &mut Partial::new(),
            &mut no_faults(),
        )
        .await;
        assert!(
            matches!(expect_failure(&o).0, DownloadFailure::Unreachable(_)),
            "{o:?}"
        );
    })
    .await;
}

/// A server may send more than a device can hold (an endless body, a descriptor that lies): the
/// HTTP client stops reading at its limit, and the device reports it is out of storage (901) with
/// nothing of the object kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_https_a_body_past_the_client_limit_is_out_of_storage() {
    bounded(async {
        let (_server, running) = serve(content()).await;
        let client = https_client(Duration::from_secs(5)).with_max_body(4096);
        let mut partial = Partial::new();
        let o = download(
            &client,
            request(&running.url("/fw.dd")),
            &mut partial,
            &mut no_faults(),
        )
        .await;
        assert!(
            matches!(
                expect_failure(&o),
                (
                    DownloadFailure::InsufficientStorage { .. },
                    Some(DlStatus::InsufficientMemory)
                )
            ),
            "{o:?}"
        );
        assert_eq!(partial.received(), 0);
        // A descriptor past the limit is refused as one (there is no notify URI to report to).
        let tiny = https_client(Duration::from_secs(5)).with_max_body(64);
        let o = fetch(&tiny, &running.url("/fw.dd")).await;
        assert!(
            matches!(
                expect_failure(&o),
                (DownloadFailure::InvalidDescriptor(_), None)
            ),
            "{o:?}"
        );
        running.shutdown().await;
    })
    .await;
}

/// A peer that answers every GET with a 206 whose start and length add up past `u64::MAX`.
struct OverflowingRange;

impl ContentClient for OverflowingRange {
    async fn get(&self, _url: &str, _range: Option<u64>) -> Result<ContentResponse, FetchError> {
        Ok(ContentResponse {
            status: 206,
            content_type: Some(FW_TYPE.to_string()),
            content_length: Some(u64::MAX - 10),
            content_range_start: Some(100),
            body: vec![0; 16],
            ..ContentResponse::default()
        })
    }

    fn post(
        &self,
        _url: &str,
        _content_type: &str,
        _body: Vec<u8>,
    ) -> impl Future<Output = Result<u16, FetchError>> + Send {
        std::future::ready(Ok(200))
    }
}

#[tokio::test]
async fn a_range_past_any_file_size_is_a_loader_error_not_an_overflow() {
    let mut partial = Partial::new();
    let outcome = download(
        &OverflowingRange,
        request(&format!("{BASE}/fw.bin")),
        &mut partial,
        &mut no_faults(),
    )
    .await;
    let (failure, status) = expect_failure(&outcome);
    assert_eq!(
        *failure,
        DownloadFailure::ImpossibleRange {
            start: 100,
            length: u64::MAX - 10
        }
    );
    // A package fetched directly (no descriptor) has no DL status to report.
    assert_eq!(status, None, "{outcome:?}");
    assert_eq!(failure.cause(), dmsim::outcome::Cause::ImpossibleRange);
    let oma = dmsim::profile::builtin("oma").expect("built in");
    assert_eq!(oma.dl_status(failure.key()), DlStatus::LoaderError);
}
