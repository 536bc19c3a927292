//! Job-level tests of the checks a SCOMO install makes of a delivery package's terms, certificates
//! and files, and of the device: the agent's job is stepped against a bench (a tree, faults, a
//! clock, storage) with no session and no server, each test showing the outcome one check ends
//! the job with, its code under `oma`, what the device keeps, and that without the condition (the
//! defect, the term, the missing peripheral) the same job succeeds.

use super::agent::{Scomo, ScomoConfig};
use super::mo;
use crate::download::{DownloadOutcome, Partial};
use crate::engine::{Action, Agent, Env, Input, Preconditions, Reported, ScriptedUser, Ticket};
use crate::faults::Faults;
use crate::outcome::{Cause, Key, Phase};
use crate::package::{
    build_defective_delivery, build_delivery, test_signing_key, CertificateSpec, ComponentSpec,
    DeliveryDefect, DeliverySpec, TermsSpec, CLOCK_START,
};
use crate::protocol::download::DeviceLimits;
use crate::protocol::scomo::{DeliveredState, DeployedState};
use crate::tree::{Format, Node, Tree, UriLimits};
use std::sync::Arc;

const DEV_ID: &str = "IMEI:356938035643809";
const SW: &str = "SW-1.0.0";

/// A device with a SCOMO agent, without sessions: the job is stepped here.
struct Bench {
    scomo: Scomo,
    tree: Tree,
    faults: Faults,
    now: u64,
    free_storage: u64,
    preconditions: Preconditions,
    user: ScriptedUser,
}

impl Bench {
    fn new(config: ScomoConfig) -> Bench {
        let mut tree = Tree::new(UriLimits::default());
        for (node, leaf, value) in [("./DevInfo", "DevId", DEV_ID), ("./DevDetail", "SwV", SW)] {
            tree.insert(node, Node::interior()).expect("interior");
            tree.insert(&format!("{node}/{leaf}"), Node::leaf(Format::Chr, value))
                .expect("leaf");
        }
        let scomo = Scomo::new(Arc::new(config));
        scomo.mount(&mut tree, "srv", CLOCK_START).expect("mounts");
        Bench {
            scomo,
            tree,
            faults: Faults::default(),
            now: CLOCK_START,
            free_storage: u64::MAX,
            preconditions: Preconditions::default(),
            user: ScriptedUser::default(),
        }
    }

    fn device() -> Bench {
        Bench::new(ScomoConfig::new(mo::DEFAULT_ROOT))
    }

    /// The server pushes `bytes` in-band as `Inventory/Delivered/<node>`.
    fn push(&mut self, node: &str, bytes: Vec<u8>) {
        let uri = format!("./SCOMO/Inventory/Delivered/{node}/Data");
        self.scomo.store(&uri, bytes, &mut self.tree, self.now);
    }

    /// Install what was pushed as `Delivered/<node>`.
    fn install(&mut self, node: &str) -> Reported {
        self.run(
            &format!("Inventory/Delivered/{node}/Operations/Install"),
            None,
        )
    }

    /// The server adds `Download/App1` with `InstallParams` and Execs DownloadInstall; the
    /// download brings `bytes`.
    fn download_install(&mut self, install_params: &str, bytes: &[u8]) -> Reported {
        let base = "./SCOMO/Download/App1";
        if self.tree.node(base).is_none() {
            self.tree.insert(base, Node::interior()).expect("added");
            mo::complete_download(&mut self.tree, mo::DEFAULT_ROOT, "App1").expect("completed");
            self.tree
                .insert(
                    &format!("{base}/InstallParams"),
                    Node::leaf(Format::Chr, ""),
                )
                .expect("params");
        }
        self.tree
            .set_value(
                &format!("{base}/InstallParams"),
                install_params.as_bytes(),
                0,
            )
            .expect("set");
        self.run("Download/App1/Operations/DownloadInstall", Some(bytes))
    }

    /// Queue the operation at `path` (relative to the root) and step its job to its report,
    /// answering its download with `download`.
    fn run(&mut self, path: &str, download: Option<&[u8]>) -> Reported {
        self.scomo.queue(Ticket {
            operation: path.to_string(),
            correlator: Some("corr".to_string()),
            argument: "https://content.test/sw/suite.pkg".to_string(),
        });
        let mut input = Input::Resume;
        for _ in 0..1000 {
            let mut env = Env {
                tree: &mut self.tree,
                faults: &mut self.faults,
                now: self.now,
                roaming: false,
                battery_allows_update: true,
                free_memory: u64::MAX,
                download_limits: DeviceLimits {
                    free_storage: self.free_storage,
                    accepted_types: Vec::new(),
                },
                profile: crate::profile::builtin("oma").expect("oma"),
                locked: false,
                busy_services: &[],
                preconditions: &self.preconditions,
                user: &mut self.user,
            };
            let action = self
                .scomo
                .step(std::mem::replace(&mut input, Input::Resume), &mut env);
            match action {
                Action::Save | Action::SaveAndReboot | Action::Wait { .. } => {}
                Action::PowerLoss => panic!("no power loss on the bench"),
                Action::Download { .. } => {
                    let bytes = download.expect("a download").to_vec();
                    input = Input::Downloaded {
                        outcome: Box::new(DownloadOutcome::Downloaded {
                            bytes,
                            dl_status: None,
                            descriptor: None,
                            notify: None,
                        }),
                        partial: Partial::new(),
                    };
                }
                Action::Report { reported, .. } => {
                    self.scomo.reported();
                    assert!(
                        reported.outcome.key().is_reachable(),
                        "{} is listed in REACHABLE",
                        reported.outcome
                    );
                    return reported;
                }
            }
        }
        panic!("the job never reported");
    }

    /// (id, version, state) of every deployed component.
    fn deployed(&self) -> Vec<(String, String, DeployedState)> {
        self.scomo
            .durable
            .deployed
            .iter()
            .map(|c| (c.id.clone(), c.version.clone(), c.state))
            .collect()
    }

    /// The delivered package at `node`: its State, and whether its bytes are kept.
    fn delivered(&self, node: &str) -> (DeliveredState, bool) {
        let index = self.scomo.delivered_index(node).expect("delivered");
        let d = &self.scomo.durable.delivered[index];
        (d.state, !self.scomo.package(index).is_empty())
    }
}

fn component(id: &str, version: &str) -> ComponentSpec {
    ComponentSpec::new(id, id, version, "Linux", 256).expect("component")
}

fn suite(pkg_id: &str, maps: &str, agent: &str) -> DeliverySpec {
    DeliverySpec::new(
        pkg_id,
        vec![component("maps", maps), component("agent", agent)],
    )
    .expect("spec")
    .with_seed(1)
}

fn package(spec: &DeliverySpec) -> Vec<u8> {
    build_delivery(spec, &test_signing_key())
}

fn with_terms(spec: DeliverySpec, terms: TermsSpec) -> Vec<u8> {
    package(&spec.with_terms(terms).expect("terms"))
}

fn defective(spec: &DeliverySpec, defect: DeliveryDefect) -> Vec<u8> {
    build_defective_delivery(spec, &test_signing_key(), defect).expect("builds")
}

fn key(phase: Phase, cause: Cause) -> Key {
    Key(phase, cause)
}

/// The outcome and the code under `oma`.
fn ended(r: &Reported) -> (Key, i64) {
    (r.outcome.key(), r.code)
}

fn versions(bench: &Bench) -> Vec<(String, String)> {
    bench
        .deployed()
        .into_iter()
        .map(|(id, v, _)| (id, v))
        .collect()
}

#[test]
fn a_package_that_would_downgrade_a_deployed_component_is_refused_and_kept() {
    let mut bench = Bench::device();
    bench.push("suite", package(&suite("suite", "2.1", "1.4")));
    assert_eq!(ended(&bench.install("suite")).1, 1200);
    bench.push("old", package(&suite("old", "2.0", "1.4")));
    let r = bench.install("old");
    assert_eq!(ended(&r), (key(Phase::Install, Cause::Downgrade), 1407));
    assert!(
        r.outcome
            .detail
            .as_deref()
            .unwrap_or("")
            .contains("\"maps\": 2.0 is older than 2.1"),
        "{:?}",
        r.outcome.detail
    );
    assert_eq!(
        versions(&bench),
        [
            ("maps".into(), "2.1".into()),
            ("agent".into(), "1.4".into())
        ]
    );
    // Refused for what the device has deployed, not for what the package is: kept.
    assert_eq!(bench.delivered("old"), (DeliveredState::Delivered, true));
    // A newer one installs.
    bench.push("new", package(&suite("new", "2.2", "1.4")));
    assert_eq!(ended(&bench.install("new")).1, 1200);
}

#[test]
fn a_package_for_other_devices_or_another_software_version_is_refused_and_deleted() {
    let for_device = |devices: &[&str], version: Option<&str>| {
        with_terms(
            suite("suite", "2.1", "1.4"),
            TermsSpec {
                devices: devices.iter().map(|d| d.to_string()).collect(),
                source_version: version.map(str::to_string),
                ..TermsSpec::default()
            },
        )
    };
    for (bytes, why) in [
        (
            for_device(&["IMEI:000000000000000"], None),
            "another device",
        ),
        (for_device(&[], Some("SW-0.9")), "another version"),
    ] {
        let mut bench = Bench::device();
        bench.push("suite", bytes);
        let r = bench.install("suite");
        assert_eq!(
            ended(&r),
            (key(Phase::Install, Cause::TargetMismatch), 1407),
            "{why}"
        );
        assert!(bench.deployed().is_empty());
        assert_eq!(bench.delivered("suite"), (DeliveredState::Delivered, false));
    }
    let mut bench = Bench::device();
    bench.push("suite", for_device(&["IMEI:1", DEV_ID], Some(SW)));
    assert_eq!(ended(&bench.install("suite")).1, 1200);
}

/// Delivered while valid, installed after its validity ended on the device's clock: the stored
/// copy is no longer valid, and deleted; installed in time, it installs. A package already past
/// its validity is not even delivered.
#[test]
fn a_stored_package_whose_validity_ended_is_no_longer_valid() {
    let valid_until = CLOCK_START + 3600;
    let bytes = with_terms(
        suite("suite", "2.1", "1.4"),
        TermsSpec {
            valid_until: Some(valid_until),
            ..TermsSpec::default()
        },
    );
    let mut late = Bench::device();
    late.push("suite", bytes.clone());
    late.now = valid_until + 1;
    let r = late.install("suite");
    assert_eq!(
        ended(&r),
        (key(Phase::Install, Cause::PackageExpired), 1407)
    );
    assert_eq!(late.delivered("suite"), (DeliveredState::Delivered, false));
    assert!(late.deployed().is_empty());

    let mut in_time = Bench::device();
    in_time.push("suite", bytes.clone());
    in_time.now = valid_until;
    assert_eq!(ended(&in_time.install("suite")).1, 1200);

    let mut download = Bench::device();
    download.now = valid_until + 1;
    let r = download.download_install("", &bytes);
    assert_eq!(
        ended(&r),
        (key(Phase::Install, Cause::PackageExpired), 1407)
    );
    assert!(download.scomo.durable.delivered.is_empty(), "not delivered");
}

#[test]
fn a_package_missing_a_file_or_of_an_unknown_layout_is_an_invalid_format() {
    let spec = suite("suite", "2.1", "1.4");
    for defect in [
        DeliveryDefect::MissingPayload(2),
        DeliveryDefect::UnknownAttribute,
    ] {
        let mut bench = Bench::device();
        bench.push("suite", defective(&spec, defect));
        let r = bench.install("suite");
        assert_eq!(
            ended(&r),
            (key(Phase::Install, Cause::InvalidFormat), 1407),
            "{defect}"
        );
        assert!(bench.deployed().is_empty(), "{defect}: nothing installed");
        assert!(!bench.delivered("suite").1, "{defect}: deleted");
    }
    // Downloaded, the same package is refused as it is delivered.
    let mut bench = Bench::device();
    let r = bench.download_install("", &defective(&spec, DeliveryDefect::MissingPayload(1)));
    assert_eq!(r.outcome.key(), key(Phase::Install, Cause::InvalidFormat));
    // A corrupt one is still corrupt (not an invalid format).
    let mut bench = Bench::device();
    bench.push("suite", defective(&spec, DeliveryDefect::Corrupt(2)));
    assert_eq!(
        bench.install("suite").outcome.key(),
        key(Phase::Install, Cause::PackageCorrupt)
    );
}

#[test]
fn certificates_are_validated_against_the_trust_anchor_and_the_clock() {
    let spec = suite("suite", "2.1", "1.4")
        .with_terms(TermsSpec {
            certificate: Some(CertificateSpec::new("acme-apps")),
            ..TermsSpec::default()
        })
        .expect("terms");
    let mut good = Bench::device();
    good.push("suite", package(&spec));
    assert_eq!(ended(&good.install("suite")).1, 1200);
    let cases = [
        (
            DeliveryDefect::CertificateUntrusted,
            Cause::CertificateInvalid,
        ),
        (
            DeliveryDefect::CertificateExpired,
            Cause::CertificateExpired,
        ),
        (
            DeliveryDefect::ComponentCertificateUntrusted(2),
            Cause::CertificateInvalid,
        ),
        (
            DeliveryDefect::ComponentCertificateExpired(1),
            Cause::CertificateExpired,
        ),
    ];
    for (defect, cause) in cases {
        let mut bench = Bench::device();
        bench.push("suite", defective(&spec, defect));
        let r = bench.install("suite");
        assert_eq!(ended(&r), (key(Phase::Install, cause), 1407), "{defect}");
        assert!(bench.deployed().is_empty(), "{defect}");
        assert!(!bench.delivered("suite").1, "{defect}: deleted");
    }
    // A certificate valid at delivery that expires while the package is stored.
    let short = suite("suite", "2.1", "1.4")
        .with_terms(TermsSpec {
            certificate: Some(CertificateSpec {
                not_before: CLOCK_START,
                not_after: CLOCK_START + 60,
                ..CertificateSpec::new("acme-apps")
            }),
            ..TermsSpec::default()
        })
        .expect("terms");
    let mut bench = Bench::device();
    bench.push("suite", package(&short));
    bench.now += 61;
    assert_eq!(
        ended(&bench.install("suite")),
        (key(Phase::Install, Cause::CertificateExpired), 1407)
    );
    // A device that trusts another anchor trusts no certificate of this one.
    let mut config = ScomoConfig::new(mo::DEFAULT_ROOT);
    config.trusted = crate::package::SigningKey::from_bytes(&[7; 32]).verifying_key();
    let mut stranger = Bench::new(config);
    stranger.push("suite", package(&spec));
    assert_eq!(
        stranger.install("suite").outcome.key(),
        key(Phase::Install, Cause::CertificateInvalid)
    );
}

/// The component for a peripheral the device does not have is skipped, the others installed; the
/// package is kept (its State still Delivered) and, once the peripheral is there, installs whole.
#[test]
fn a_component_for_a_missing_sub_device_is_skipped_and_the_rest_installed() {
    let spec = DeliverySpec::new(
        "suite",
        vec![
            component("maps", "2.1"),
            component("dock-fw", "3.0")
                .with_sub_device("dock-DX30")
                .expect("sub-device"),
            component("agent", "1.4"),
        ],
    )
    .expect("spec");
    let mut bench = Bench::device();
    bench.push("suite", package(&spec));
    let r = bench.install("suite");
    assert_eq!(
        ended(&r),
        (key(Phase::Install, Cause::SubDeviceMissing), 1405)
    );
    assert!(
        r.outcome
            .detail
            .as_deref()
            .unwrap_or("")
            .contains("\"dock-fw\" is for sub-device \"dock-DX30\""),
        "{:?}",
        r.outcome.detail
    );
    assert_eq!(
        versions(&bench),
        [
            ("maps".into(), "2.1".into()),
            ("agent".into(), "1.4".into())
        ]
    );
    assert_eq!(bench.delivered("suite"), (DeliveredState::Delivered, true));

    let mut config = ScomoConfig::new(mo::DEFAULT_ROOT);
    config.sub_devices = vec!["dock-DX30".to_string()];
    let mut docked = Bench::new(config);
    docked.push("suite", package(&spec));
    assert_eq!(ended(&docked.install("suite")).1, 1200);
    assert_eq!(docked.deployed().len(), 3);
    assert_eq!(docked.delivered("suite"), (DeliveredState::Installed, true));
}

/// On a device that verifies and rolls back, the components installed are verified, then the job
/// reports the one it skipped; nothing is rolled back.
#[test]
fn a_device_that_verifies_verifies_what_it_installed_then_reports_the_missing_sub_device() {
    let spec = DeliverySpec::new(
        "suite",
        vec![
            component("maps", "2.1"),
            component("dock-fw", "3.0")
                .with_sub_device("dock-DX30")
                .expect("sub-device"),
        ],
    )
    .expect("spec");
    let mut config = ScomoConfig::new(mo::DEFAULT_ROOT);
    config.verify_and_rollback = true;
    let mut bench = Bench::new(config);
    bench.push("suite", package(&spec));
    let r = bench.install("suite");
    assert_eq!(
        ended(&r),
        (key(Phase::Install, Cause::SubDeviceMissing), 1405)
    );
    assert_eq!(versions(&bench), [("maps".into(), "2.1".into())]);
    assert_eq!(bench.delivered("suite"), (DeliveredState::Delivered, true));
}

#[test]
fn an_install_is_not_attempted_when_a_component_is_not_the_version_asked_for() {
    let bytes = package(&suite("suite", "2.1", "1.4"));
    let mut bench = Bench::device();
    let r = bench.download_install("mode=silent;version.maps=2.2", &bytes);
    assert_eq!(
        ended(&r),
        (key(Phase::Checks, Cause::VersionMismatch), 1400)
    );
    assert!(bench.deployed().is_empty());
    // Not attempted for what the operation asked: the package is kept.
    assert_eq!(bench.delivered("suite"), (DeliveredState::Delivered, true));
    let mut bench = Bench::device();
    let r = bench.download_install("version.maps=2.1;version.agent=1.4", &bytes);
    assert_eq!(ended(&r).1, 1200);
}

#[test]
fn an_install_is_not_attempted_without_storage_for_its_components() {
    let bytes = package(&suite("suite", "2.1", "1.4"));
    // The package's bytes are stored; the components need 512 more.
    let stored = bytes.len() as u64;
    let mut bench = Bench::device();
    bench.free_storage = stored + 511;
    let r = bench.download_install("", &bytes);
    assert_eq!(
        ended(&r),
        (key(Phase::Checks, Cause::InsufficientStorage), 1406)
    );
    assert!(r
        .outcome
        .detail
        .as_deref()
        .unwrap_or("")
        .contains("512 bytes needed, 511 free"));
    assert_eq!(bench.delivered("suite"), (DeliveredState::Delivered, true));
    let mut bench = Bench::device();
    bench.free_storage = stored + 512;
    assert_eq!(ended(&bench.download_install("", &bytes)).1, 1200);
}

/// Two operations in order: the first, installing the base package, fails; the second installs a
/// package that requires the base, and is skipped. With the first succeeding, both install.
#[test]
fn an_install_that_depends_on_a_failed_one_is_skipped() {
    let base = suite("base", "1.0", "1.0");
    let app = DeliverySpec::new("app", vec![component("app", "3.0")])
        .expect("spec")
        .with_terms(TermsSpec {
            requires: vec!["base".into()],
            ..TermsSpec::default()
        })
        .expect("terms");
    let mut bench = Bench::device();
    bench.push("base", defective(&base, DeliveryDefect::Corrupt(1)));
    assert_eq!(
        ended(&bench.install("base")),
        (key(Phase::Install, Cause::PackageCorrupt), 1407)
    );
    bench.push("app", package(&app));
    let r = bench.install("app");
    assert_eq!(
        ended(&r),
        (key(Phase::Checks, Cause::PrerequisiteMissing), 1400)
    );
    assert!(bench.deployed().is_empty());
    assert_eq!(bench.delivered("app"), (DeliveredState::Delivered, true));

    let mut bench = Bench::device();
    bench.push("base", package(&base));
    assert_eq!(ended(&bench.install("base")).1, 1200);
    bench.push("app", package(&app));
    assert_eq!(ended(&bench.install("app")).1, 1200);
    assert_eq!(bench.deployed().len(), 3);
}

/// The order of the checks: a package for another device that would also downgrade, lacks storage
/// and requires a missing package is refused for the device first.
#[test]
fn the_device_is_checked_before_what_it_holds() {
    let mut bench = Bench::device();
    bench.push("suite", package(&suite("suite", "2.1", "1.4")));
    assert_eq!(ended(&bench.install("suite")).1, 1200);
    let everything = with_terms(
        suite("old", "2.0", "1.4"),
        TermsSpec {
            requires: vec!["base".into()],
            devices: vec!["IMEI:1".into()],
            ..TermsSpec::default()
        },
    );
    bench.free_storage = 0;
    bench.push("old", everything);
    assert_eq!(
        bench.install("old").outcome.key(),
        key(Phase::Install, Cause::TargetMismatch)
    );
}
