//! The E-FOTA client's jobs as state machines: each driven by a small rig that carries out their
//! actions as the job runner does (saves, waits on a clock, downloads through the real download
//! agent against a scripted content server), and cut by a power loss at every save.

use super::agent::{Efota, EfotaConfig};
use super::items::{INSTALL_FAILED_VERSION_DOWNGRADE, INSTALL_PARSE_FAILED_NOT_APK};
use super::mo::{self, ClientInfo};
use crate::download::{DownloadAction, DownloadAttempt, DownloadInput, FetchError, Partial};
use crate::engine::{Action, Agent, Env, Input, Reported};
use crate::faults::{FaultEffect, FaultPlan, FaultPoint, FaultRule, Faults, Trigger};
use crate::outcome::{Cause, Key, Phase};
use crate::package::license::{
    build_defective_license, build_license, Date, License, LicenseDefect,
};
use crate::profile::{self, Platform};
use crate::protocol::download::{Descriptor, DeviceLimits, HashAlgorithm, DD_CONTENT_TYPE};
use crate::protocol::efota;
use crate::protocol::http::{BodyEnd, ContentResponse};
use crate::syncml::{GenericAlert, StatusCode};
use crate::tree::{Format, Node, Tree, UriLimits};
use std::collections::HashMap;

const DEV_ID: &str = "IMEI:356938035643809";
/// 2026-01-01, the simulated clock's start.
const START: u64 = 1_767_225_600;
const ROOT: &str = "./Ext/EFOTA";

/// A file the scripted server hosts: its answers, one per request (the last one repeats).
#[derive(Clone)]
struct Hosted {
    answers: Vec<Result<ContentResponse, FetchError>>,
    served: usize,
}

/// An E-FOTA client on a device, and what the job runner would do for it.
struct Rig {
    agent: Efota,
    tree: Tree,
    faults: Faults,
    now: u64,
    files: HashMap<String, Hosted>,
    /// What each save kept: the agent's durable state and blob.
    saves: Vec<(serde_json::Value, Vec<u8>)>,
    /// Cut the power at this save (1-based), once.
    cut_at: Option<usize>,
    boots: u32,
    notified: Vec<u16>,
}

impl Rig {
    fn new(rules: Vec<FaultRule>) -> Rig {
        let info = ClientInfo {
            client_version: "3.6.12".into(),
            sales_code: "BTU".into(),
            csc: "G991BOXM5CVJB".into(),
        };
        let agent = Efota::new(EfotaConfig::new(info, Platform::Android));
        let mut tree = Tree::new(UriLimits::default());
        tree.insert("./DevInfo/DevId", Node::leaf(Format::Chr, DEV_ID))
            .expect("DevId");
        agent.mount(&mut tree, "srv", START).expect("mounts");
        let mut rig = Rig {
            agent,
            tree,
            faults: FaultPlan::new(rules).for_device(1),
            now: START,
            files: HashMap::new(),
            saves: Vec::new(),
            cut_at: None,
            boots: 0,
            notified: Vec::new(),
        };
        rig.save();
        rig
    }

    fn host(&mut self, url: &str, answers: Vec<Result<ContentResponse, FetchError>>) {
        self.files
            .insert(url.to_string(), Hosted { answers, served: 0 });
    }

    fn host_file(&mut self, url: &str, content_type: &str, body: &[u8]) {
        let mut r = ContentResponse::new(200, Some(content_type), body.to_vec());
        r.etag = Some(format!("\"{}\"", &HashAlgorithm::Md5.hex_digest(body)[..8]));
        self.host(url, vec![Ok(r)]);
    }

    /// Host an item: its object and a descriptor of it with `param` in `installParam`.
    fn host_item(&mut self, name: &str, content_type: &str, body: &[u8], param: &str) -> String {
        let object = format!("http://h/items/{name}.bin");
        let dd_url = format!("http://h/items/{name}.dd");
        self.host_file(&object, content_type, body);
        let mut dd =
            Descriptor::for_object(object, content_type, body).with_install_notify("/notify");
        dd.install_param = Some(match dd.install_param.take() {
            Some(hash) if !param.is_empty() => format!("{param};{hash}"),
            Some(hash) => hash,
            None => param.to_string(),
        });
        self.host_file(&dd_url, DD_CONTENT_TYPE, dd.to_xml().as_bytes());
        dd_url
    }

    fn set(&mut self, path: &str, value: &[u8]) {
        let node = mo::node(ROOT, path);
        if self.tree.node(&node).is_none() {
            self.tree
                .insert(&node, Node::leaf(Format::Chr, value))
                .expect("insert");
        } else {
            self.tree.set_value(&node, value, self.now).expect("set");
        }
    }

    fn exec(&mut self, operation: &str) -> Result<(), StatusCode> {
        let uri = format!("{ROOT}/Operations/{operation}");
        let ticket = self
            .agent
            .exec(&uri, Some("corr-1"), &self.tree, false)
            .expect("an operation of the client")?;
        self.agent.queue(ticket);
        self.save();
        Ok(())
    }

    fn save(&mut self) {
        let durable = self.agent.durable().expect("encodes");
        let blob = self.agent.blob().0.to_vec();
        self.agent.blob_saved();
        self.saves.push((durable, blob));
    }

    /// A save the runner makes: lands, or is cut (the device boots from the last one).
    fn runner_save(&mut self) -> bool {
        let number = self.saves.len();
        if self.cut_at == Some(number) {
            self.cut_at = None;
            self.reboot();
            return false;
        }
        self.save();
        true
    }

    fn reboot(&mut self) {
        let (durable, blob) = self.saves.last().cloned().expect("a save");
        self.agent.restore(durable, blob).expect("restores");
        self.agent.boot(&mut self.tree, self.now);
        self.boots += 1;
        self.check_shown();
    }

    /// The tree shows what the client keeps: its license, settings and inventory.
    fn check_shown(&self) {
        let kept = &self.agent.client.durable;
        let status = if kept.license.is_some() {
            "retrieved"
        } else {
            "none"
        };
        assert_eq!(self.value(mo::LICENSE_STATUS).as_deref(), Some(status));
        let settings: Vec<(String, String)> = self
            .tree
            .children(&mo::node(ROOT, mo::CONFIG_SETTINGS))
            .map(|k| {
                let value = self.value(&format!("{}/{k}", mo::CONFIG_SETTINGS));
                (k.to_string(), value.unwrap_or_default())
            })
            .collect();
        let expected: Vec<(String, String)> = kept
            .settings
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        assert_eq!(settings, expected);
        let items: Vec<String> = self
            .tree
            .children(&mo::node(ROOT, mo::INVENTORY))
            .map(str::to_string)
            .collect();
        let expected: Vec<String> = kept.inventory.iter().map(|i| i.node_name()).collect();
        assert_eq!(items, expected);
    }

    fn serve(&mut self, url: &str) -> Result<ContentResponse, FetchError> {
        let Some(file) = self.files.get_mut(url) else {
            return Ok(ContentResponse::text(404, "nothing here"));
        };
        let index = file.served.min(file.answers.len() - 1);
        file.served += 1;
        file.answers[index].clone()
    }

    fn download(&mut self, request: crate::download::DownloadRequest, partial: Partial) -> Input {
        let mut attempt = DownloadAttempt::new(request, partial);
        let mut input = DownloadInput::Start;
        loop {
            match attempt.step(input, &mut self.faults) {
                DownloadAction::Get { url, range_from } => {
                    let mut answer = self.serve(&url);
                    if let (Some(from), Ok(r)) = (range_from, answer.as_mut()) {
                        if r.status == 200 {
                            let start = usize::try_from(from)
                                .unwrap_or(usize::MAX)
                                .min(r.body.len());
                            r.body.drain(..start);
                            r.status = 206;
                            r.content_range_start = Some(from);
                            r.content_length = Some(r.body.len() as u64);
                        }
                    }
                    input = DownloadInput::Fetched(answer);
                }
                DownloadAction::Post { body, .. } => {
                    let code = String::from_utf8_lossy(&body[..3])
                        .parse()
                        .expect("a status");
                    self.notified.push(code);
                    input = DownloadInput::Posted(Ok(200));
                }
                DownloadAction::Done(outcome) => {
                    return Input::Downloaded {
                        outcome,
                        partial: attempt.into_partial(),
                    }
                }
            }
        }
    }

    /// Run the job to its report, as the job runner does.
    fn run(&mut self) -> (GenericAlert, Reported) {
        let mut input = Input::Resume;
        for _ in 0..200 {
            let profile = profile::builtin("knox-efota").expect("built in");
            let mut env = Env {
                tree: &mut self.tree,
                faults: &mut self.faults,
                now: self.now,
                roaming: false,
                battery_allows_update: true,
                free_memory: u64::MAX,
                download_limits: DeviceLimits::default(),
                profile,
                locked: false,
                busy_services: &[],
                preconditions: &crate::engine::Preconditions::default(),
                user: &mut crate::engine::ScriptedUser::default(),
            };
            let action = self.agent.step(input, &mut env);
            input = Input::Resume;
            match action {
                Action::Save => {
                    self.runner_save();
                }
                Action::Wait { seconds } => {
                    self.now += seconds;
                    self.runner_save();
                }
                Action::Download { request, partial } => input = self.download(request, partial),
                Action::Report { alert, reported } => {
                    if self.runner_save() {
                        self.agent.reported();
                        return (alert, reported);
                    }
                }
                other => panic!("the client asked for {other:?}"),
            }
        }
        panic!("the job never ended");
    }

    fn value(&self, path: &str) -> Option<String> {
        self.tree
            .value_str(&mo::node(ROOT, path))
            .map(str::to_string)
    }
}

fn codes(alert: &GenericAlert) -> String {
    assert_eq!(alert.alert_type, efota::ALERT_TYPE);
    assert_eq!(alert.source_uri, ROOT);
    assert_eq!(alert.correlator.as_deref(), Some("corr-1"));
    alert.data.clone()
}

fn rule(point: FaultPoint, effect: FaultEffect) -> FaultRule {
    FaultRule {
        point,
        effect,
        trigger: Trigger::Always,
    }
}

fn license(device: &str, expires: &str) -> License {
    License {
        key: "KLM09-6KX2P".into(),
        device: device.into(),
        expires: Date::parse(expires).expect("a date"),
    }
}

const LICENSE_URL: &str = "http://h/license";

fn license_rig(document: Option<Vec<u8>>) -> Rig {
    let mut rig = Rig::new(Vec::new());
    if let Some(document) = document {
        rig.host_file(LICENSE_URL, "text/plain", &document);
    }
    rig.set(mo::LICENSE_URL, LICENSE_URL.as_bytes());
    rig.exec("RetrieveLicense").expect("accepted");
    rig
}

#[test]
fn a_license_is_fetched_checked_and_kept() {
    let key = crate::package::test_signing_key();
    let mut rig = license_rig(Some(build_license(&license(DEV_ID, "2027-01-01"), &key)));
    assert_eq!(rig.value(mo::LICENSE_STATUS).as_deref(), Some("none"));
    let (alert, reported) = rig.run();
    assert_eq!(codes(&alert), "956");
    assert_eq!(alert.mark.as_deref(), Some("informational"));
    assert_eq!(
        reported.outcome.key(),
        Key(Phase::License, Cause::Succeeded)
    );
    assert_eq!(rig.value(mo::LICENSE_STATUS).as_deref(), Some("retrieved"));
    assert_eq!(rig.value(mo::LICENSE_KEY).as_deref(), Some("KLM09-6KX2P"));
    assert_eq!(
        rig.value(mo::LICENSE_EXPIRES).as_deref(),
        Some("2027-01-01")
    );
    assert!(!rig.agent.has_job());
    assert_eq!(rig.agent.records.len(), 1);
}

#[test]
fn every_bad_license_is_a_957_for_its_own_cause() {
    let key = crate::package::test_signing_key();
    let good = license(DEV_ID, "2027-01-01");
    let cases: Vec<(Option<Vec<u8>>, Cause)> = vec![
        (None, Cause::NotFound),
        (Some(b"not a license\n".to_vec()), Cause::LicenseInvalid),
        (
            Some(build_defective_license(
                &good,
                &key,
                LicenseDefect::Tampered,
            )),
            Cause::SignatureInvalid,
        ),
        (
            Some(build_license(&license("IMEI:1", "2027-01-01"), &key)),
            Cause::WrongDevice,
        ),
        (
            Some(build_license(&license(DEV_ID, "2025-12-31"), &key)),
            Cause::LicenseExpired,
        ),
    ];
    for (document, cause) in cases {
        let mut rig = license_rig(document);
        let (alert, reported) = rig.run();
        assert_eq!(codes(&alert), "957", "{cause}");
        assert_eq!(alert.mark.as_deref(), Some("critical"));
        assert_eq!(reported.outcome.key(), Key(Phase::License, cause));
        assert_eq!(
            rig.value(mo::LICENSE_STATUS).as_deref(),
            Some("none"),
            "{cause}"
        );
        assert_eq!(rig.now, START, "{cause}: not tried again");
    }
}

#[test]
fn an_unavailable_license_server_is_tried_three_times() {
    let mut rig = Rig::new(Vec::new());
    rig.host(LICENSE_URL, vec![Ok(ContentResponse::text(503, "busy"))]);
    rig.set(mo::LICENSE_URL, LICENSE_URL.as_bytes());
    rig.exec("RetrieveLicense").expect("accepted");
    let (alert, reported) = rig.run();
    assert_eq!(codes(&alert), "957");
    assert_eq!(
        reported.outcome.key(),
        Key(Phase::License, Cause::ServerUnavailable)
    );
    assert_eq!(rig.files[LICENSE_URL].served, 3);
    assert_eq!(rig.now, START + 30 + 60);
    let mut rig = Rig::new(Vec::new());
    rig.exec("RetrieveLicense")
        .expect("an empty URL is accepted");
    let (_, reported) = rig.run();
    assert_eq!(reported.outcome.key(), Key(Phase::License, Cause::BadUrl));
}

fn config_rig(rules: Vec<FaultRule>, profile: &str, data: &[u8]) -> Rig {
    let mut rig = Rig::new(rules);
    rig.set(mo::CONFIG_PROFILE, profile.as_bytes());
    rig.set(mo::CONFIG_PROFILE_DATA, data);
    rig.exec("InstallProfile").expect("accepted");
    rig
}

const PROFILE: &str =
    "update.wifi-only = true\nupdate.window-start = 2\nclient.polling-hours = 12\n";

#[test]
fn a_profile_is_applied_and_its_components_restart() {
    let mut rig = config_rig(Vec::new(), PROFILE, b"");
    let (alert, reported) = rig.run();
    assert_eq!(codes(&alert), "0");
    assert_eq!(reported.outcome.key(), Key(Phase::Config, Cause::Succeeded));
    assert_eq!(
        rig.now,
        START + 20 + 45,
        "the scheduler, then the agent restarted"
    );
    let setting = |k: &str| rig.value(&format!("{}/{k}", mo::CONFIG_SETTINGS));
    assert_eq!(setting("update.wifi-only").as_deref(), Some("true"));
    assert_eq!(setting("update.window-start").as_deref(), Some("2"));
    assert_eq!(setting("client.polling-hours").as_deref(), Some("12"));
    // The same profile again changes nothing: nothing restarts.
    rig.exec("InstallProfile").expect("accepted");
    let (alert, _) = rig.run();
    assert_eq!(codes(&alert), "0");
    assert_eq!(rig.now, START + 65);
}

#[test]
fn each_profile_failure_has_its_code_and_changes_nothing() {
    let data = b"wifi: corp\n";
    let sum = HashAlgorithm::Sha256.hex_digest(data);
    type Case<'a> = (Vec<FaultRule>, String, &'a [u8], &'a str, Cause);
    let cases: Vec<Case> = vec![
        (
            Vec::new(),
            "update.battery-min = 150\n".into(),
            b"",
            "-1461",
            Cause::InvalidSetting,
        ),
        (
            Vec::new(),
            "custom.acme.turbo = on\n".into(),
            b"",
            "-1462",
            Cause::UnsupportedSetting,
        ),
        (
            Vec::new(),
            format!("update.wifi-only = true\nprofile.data-sha256 = {sum}\n"),
            b"wifi: other\n",
            "1465",
            Cause::InvalidProfileData,
        ),
        (
            vec![rule(
                FaultPoint::EfotaConfigApply,
                FaultEffect::StorageWriteError,
            )],
            PROFILE.into(),
            b"",
            "-1460",
            Cause::WriteFailed,
        ),
        (
            vec![rule(
                FaultPoint::EfotaComponentRestart,
                FaultEffect::DelaySeconds(600),
            )],
            PROFILE.into(),
            b"",
            "1464",
            Cause::Timeout,
        ),
    ];
    for (rules, profile, data, code, cause) in cases {
        let mut rig = config_rig(rules, &profile, data);
        let (alert, reported) = rig.run();
        assert_eq!(codes(&alert), code, "{cause}");
        assert_eq!(reported.outcome.key(), Key(Phase::Config, cause));
        assert!(
            rig.agent.client.durable.settings.is_empty(),
            "{cause}: {:?}",
            rig.agent.client.durable.settings
        );
        assert_eq!(
            rig.tree
                .children(&mo::node(ROOT, mo::CONFIG_SETTINGS))
                .count(),
            0,
            "{cause}"
        );
        if cause == Cause::Timeout {
            assert_eq!(
                rig.now,
                START + 300,
                "the client waits its timeout, no more"
            );
        }
    }
    let mut rig = config_rig(
        Vec::new(),
        &format!("update.wifi-only = true\nprofile.data-sha256 = {sum}\n"),
        data,
    );
    assert_eq!(codes(&rig.run().0), "0", "data that matches its checksum");
}

fn items_rig(rules: Vec<FaultRule>, urls: &[&str]) -> Rig {
    let mut rig = Rig::new(rules);
    for (n, url) in urls.iter().enumerate() {
        rig.set(&format!("{}/{}/URL", mo::ITEMS, n + 1), url.as_bytes());
    }
    rig
}

const APK: &str = "application/vnd.android.package-archive";

fn apk(body: &str) -> Vec<u8> {
    let mut bytes = b"PK\x03\x04".to_vec();
    bytes.extend_from_slice(body.as_bytes());
    bytes
}

#[test]
fn an_item_is_downloaded_installed_and_then_already_there() {
    let mut rig = items_rig(Vec::new(), &[]);
    let url = rig.host_item("maps", APK, &apk("maps 2.1"), "ID=com.maps;VERSION=2.1");
    rig.set(&format!("{}/1/URL", mo::ITEMS), url.as_bytes());
    rig.exec("DownloadItems").expect("accepted");
    let (alert, reported) = rig.run();
    assert_eq!(codes(&alert), "900");
    assert_eq!(reported.outcome.key(), Key(Phase::Item, Cause::Succeeded));
    assert_eq!(rig.notified, [900]);
    assert_eq!(
        rig.value("Inventory/com_maps/Version").as_deref(),
        Some("2.1")
    );
    assert_eq!(rig.value("Inventory/com_maps/Type").as_deref(), Some(APK));
    assert_eq!(rig.agent.client.dl_statuses.len(), 1);
    rig.exec("DownloadItems").expect("accepted");
    let (alert, reported) = rig.run();
    assert_eq!(codes(&alert), "958");
    assert_eq!(
        reported.outcome.key(),
        Key(Phase::Item, Cause::AlreadyInstalled)
    );
    assert_eq!(rig.notified, [900], "nothing downloaded the second time");
}

#[test]
fn the_clients_checks_and_its_handler_give_their_codes() {
    let cases: &[(&str, &[u8], &str, &str, Cause)] = &[
        ("video/mp4", b"x", "", "907", Cause::UnsupportedContent),
        (
            APK,
            b"PK\x03\x04",
            "MIN-CLIENT=4.0",
            "959",
            Cause::RequirementsNotMet,
        ),
        (
            APK,
            b"PK\x03\x04",
            "REQUIRES=knox,esim",
            "959",
            Cause::RequirementsNotMet,
        ),
        (APK, b"not a zip", "", "960 -100", Cause::HandlerFailed),
        (
            APK,
            b"PK\x03\x04",
            "MIN-CLIENT=3.6;REQUIRES=dex",
            "900",
            Cause::Succeeded,
        ),
        ("text/plain", b"any text", "", "900", Cause::Succeeded),
    ];
    for &(content_type, body, param, code, cause) in cases {
        let mut rig = items_rig(Vec::new(), &[]);
        let url = rig.host_item("it", content_type, body, param);
        rig.set(&format!("{}/1/URL", mo::ITEMS), url.as_bytes());
        rig.exec("DownloadItems").expect("accepted");
        let (alert, reported) = rig.run();
        assert_eq!(codes(&alert), code, "{param} {content_type}");
        assert_eq!(reported.outcome.key(), Key(Phase::Item, cause), "{code}");
        let downloaded = matches!(cause, Cause::Succeeded | Cause::HandlerFailed);
        assert_eq!(
            rig.notified.len(),
            usize::from(downloaded),
            "{code}: {:?}",
            rig.notified
        );
    }
    assert_eq!(INSTALL_PARSE_FAILED_NOT_APK, -100);
}

#[test]
fn a_downgrade_is_the_package_managers_refusal() {
    let mut rig = items_rig(Vec::new(), &[]);
    let new = rig.host_item("new", APK, &apk("2.1"), "ID=maps;VERSION=2.1");
    let old = rig.host_item("old", APK, &apk("2.0"), "ID=maps;VERSION=2.0");
    rig.set(&format!("{}/1/URL", mo::ITEMS), new.as_bytes());
    rig.exec("DownloadItems").expect("accepted");
    assert_eq!(codes(&rig.run().0), "900");
    rig.set(&format!("{}/1/URL", mo::ITEMS), old.as_bytes());
    rig.exec("DownloadItems").expect("accepted");
    let (alert, _) = rig.run();
    assert_eq!(
        codes(&alert),
        format!("960 {INSTALL_FAILED_VERSION_DOWNGRADE}")
    );
    assert_eq!(rig.value("Inventory/maps/Version").as_deref(), Some("2.1"));
}

#[test]
fn items_that_end_differently_are_a_970_with_each_code() {
    let mut rig = items_rig(Vec::new(), &[]);
    let good = rig.host_item("a", "text/plain", b"a", "");
    let not_apk = rig.host_item("b", APK, b"b", "");
    let missing = "http://h/items/missing.dd";
    let unsupported = rig.host_item("c", "video/mp4", b"c", "");
    for (n, url) in [&good, &not_apk, &missing.to_string(), &unsupported]
        .iter()
        .enumerate()
    {
        rig.set(&format!("{}/{}/URL", mo::ITEMS, n + 1), url.as_bytes());
    }
    rig.set(&format!("{}/10/URL", mo::ITEMS), good.as_bytes());
    rig.exec("DownloadItems").expect("accepted");
    let (alert, reported) = rig.run();
    assert_eq!(codes(&alert), "970 900 960 -100 954 907 900");
    assert_eq!(
        reported.outcome.key(),
        Key(Phase::Item, Cause::ItemsDiffered)
    );
    assert_eq!(alert.mark.as_deref(), Some("critical"));
    // Items that all end the same way report that code once.
    let mut rig = items_rig(Vec::new(), &[missing, "http://h/items/gone.dd"]);
    rig.exec("DownloadItems").expect("accepted");
    let (alert, reported) = rig.run();
    assert_eq!(codes(&alert), "954");
    assert_eq!(
        reported.outcome.key(),
        Key(Phase::Download, Cause::NotFound)
    );
}

#[test]
fn an_item_that_changed_on_the_server_mid_download_is_a_955() {
    let mut rig = items_rig(Vec::new(), &[]);
    let body = b"0123456789".to_vec();
    let url = rig.host_item("fw", "application/octet-stream", &body, "");
    let object = "http://h/items/fw.bin";
    let mut cut = ContentResponse::new(200, Some("application/octet-stream"), body[..4].to_vec());
    cut.content_length = Some(10);
    cut.end = BodyEnd::ConnectionLost;
    cut.etag = Some("\"v1\"".into());
    let mut changed = ContentResponse::new(200, Some("application/octet-stream"), body.clone());
    changed.etag = Some("\"v2\"".into());
    rig.host(object, vec![Ok(cut), Ok(changed)]);
    rig.set(&format!("{}/1/URL", mo::ITEMS), url.as_bytes());
    rig.exec("DownloadItems").expect("accepted");
    let (alert, reported) = rig.run();
    assert_eq!(codes(&alert), "955");
    assert_eq!(
        reported.outcome.key(),
        Key(Phase::Download, Cause::ObjectChanged)
    );
    assert_eq!(
        rig.notified,
        [955],
        "the knox profile's DL status goes to the notify URI"
    );
    assert_eq!(rig.now, START + 30, "resumed once, after the first cut");
    assert!(
        rig.agent.blob().0.is_empty(),
        "the bytes of the old version are dropped"
    );
}

#[test]
fn execs_are_refused_while_busy_and_without_items() {
    let mut rig = Rig::new(Vec::new());
    let uri = |op: &str| format!("{ROOT}/Operations/{op}");
    assert_eq!(
        rig.agent
            .exec(&uri("DownloadItems"), None, &rig.tree, false),
        Some(Err(StatusCode::IncompleteCommand))
    );
    assert_eq!(
        rig.agent
            .exec(&format!("{ROOT}/License"), None, &rig.tree, false),
        None
    );
    assert_eq!(
        rig.agent.exec("./FUMO/Update", None, &rig.tree, false),
        None
    );
    assert_eq!(
        rig.agent
            .exec(&uri("RetrieveLicense"), None, &rig.tree, true),
        Some(Err(StatusCode::Conflict)),
        "another accepted in the same Atomic"
    );
    rig.exec("RetrieveLicense").expect("accepted");
    assert_eq!(rig.exec("InstallProfile"), Err(StatusCode::Conflict));
    assert!(rig.agent.owns(&uri("InstallProfile")));
}

/// Cut the power at every save of a job in turn: the job always ends as it does uncut, with the
/// same report, and the tree shows what was saved.
#[test]
fn a_power_loss_at_any_save_changes_nothing_of_the_ending() {
    let key = crate::package::test_signing_key();
    let doc = build_license(&license(DEV_ID, "2027-01-01"), &key);
    type Setup = Box<dyn Fn() -> Rig>;
    let setups: Vec<(&str, Setup)> = vec![
        ("license", Box::new(move || license_rig(Some(doc.clone())))),
        ("config", Box::new(|| config_rig(Vec::new(), PROFILE, b""))),
        (
            "items",
            Box::new(|| {
                let mut rig = items_rig(Vec::new(), &[]);
                let a = rig.host_item("a", APK, &apk("a"), "ID=a;VERSION=1");
                let b = rig.host_item("b", "video/mp4", b"b", "");
                let mut cut = ContentResponse::new(200, Some(APK), apk("a")[..3].to_vec());
                cut.content_length = Some(5);
                cut.end = BodyEnd::ConnectionLost;
                let whole = ContentResponse::new(200, Some(APK), apk("a"));
                rig.host("http://h/items/a.bin", vec![Ok(cut), Ok(whole)]);
                rig.set(&format!("{}/1/URL", mo::ITEMS), a.as_bytes());
                rig.set(&format!("{}/2/URL", mo::ITEMS), b.as_bytes());
                rig.exec("DownloadItems").expect("accepted");
                rig
            }),
        ),
    ];
    for (name, setup) in setups {
        let mut uncut = setup();
        let saved_before = uncut.saves.len();
        let (alert, reported) = uncut.run();
        let saves = uncut.saves.len() - saved_before;
        let least = match name {
            "license" => 1,
            "config" => 3,
            _ => 6,
        };
        assert!(saves >= least, "{name}: {saves} saves");
        let shown = |rig: &Rig| {
            let mut nodes: Vec<(String, String)> = rig
                .tree
                .uris()
                .filter(|u| u.contains("Ext/EFOTA"))
                .map(|u| {
                    (
                        u.to_string(),
                        rig.tree.value_str(u).unwrap_or("").to_string(),
                    )
                })
                .collect();
            nodes.sort();
            nodes
        };
        assert!(
            shown(&uncut)
                .iter()
                .any(|(u, _)| u.ends_with("License/Status")),
            "{name}: {:?}",
            shown(&uncut)
        );
        for cut in 0..saves {
            let mut rig = setup();
            rig.cut_at = Some(rig.saves.len() + cut);
            let (cut_alert, cut_reported) = rig.run();
            assert_eq!(rig.boots, 1, "{name}: cut at save {cut}");
            assert_eq!(cut_alert.data, alert.data, "{name}: cut at save {cut}");
            assert_eq!(cut_reported.outcome.key(), reported.outcome.key());
            assert_eq!(shown(&rig), shown(&uncut), "{name}: cut at save {cut}");
            assert_eq!(
                rig.agent.client.durable, uncut.agent.client.durable,
                "{name}: {cut}"
            );
        }
    }
}
