//! The conditions a device puts on its FUMO and SCOMO jobs, end to end through sessions with the
//! mock server: the update client's nodes (a server Delete of `DeviceReady` before its Exec, a
//! device built without `Inventory`), the lock (and the user unlocking the device before the
//! server tries again), other services running, an unanswered installation-conditions prompt, and
//! a SCOMO Exec that comes while another job is queued. Each condition is shown to fire: the same
//! flow without it ends otherwise.

use dmsim::device::{Device, Saved};
use dmsim::inproc::{InProcess, InProcessContent};
use dmsim::jobs;
use dmsim::outcome::Key;
use dmsim::protocol::scomo::reported_result;
use dmsim::scenario::load::parse;
use dmsim::scenario::{self, build_device, mock_server, RunOptions, Verdict};
use dmsim::scomo::Scomo;
use dmsim::server::SessionRecord;
use dmsim::session::{run_session_with, DriverOptions, Initiator, Pace, SessionStart};
use dmsim::storage::MemoryStore;
use dmsim::syncml::CmdName;
use std::path::Path;
use std::sync::Arc;

/// What a run left: the device (its agents' records) and what the server received.
struct Run {
    device: Device,
    records: Vec<SessionRecord>,
}

impl Run {
    /// The outcome of every job the device reported, FUMO's then SCOMO's, as `phase.cause`.
    fn outcomes(&self) -> Vec<String> {
        let fumo = self
            .device
            .fumo()
            .into_iter()
            .flat_map(|f| &f.records.results);
        let scomo = self
            .device
            .agents
            .iter()
            .filter_map(|a| a.as_any().downcast_ref::<Scomo>())
            .flat_map(|s| &s.records.results);
        fumo.chain(scomo)
            .map(|r| r.outcome.key().to_string())
            .collect()
    }

    /// The FUMO results the server received.
    fn fumo_results(&self) -> Vec<u16> {
        dmsim::server::fumo_results(&self.records)
    }

    /// The SCOMO results the server received, with each alert's correlator.
    fn scomo_results(&self) -> Vec<(u16, Option<String>)> {
        self.records
            .iter()
            .flat_map(|r| &r.alerts)
            .flat_map(|a| {
                a.items
                    .iter()
                    .filter_map(reported_result)
                    .map(|r| (r.code, a.correlator.clone()))
            })
            .collect()
    }

    /// The statuses of the server's Execs, in order.
    fn exec_statuses(&self) -> Vec<u16> {
        self.records
            .iter()
            .flat_map(|r| &r.statuses)
            .filter(|s| s.cmd == CmdName::Exec)
            .map(|s| s.code.code())
            .collect()
    }
}

/// Run the scenario `text`'s device through its sessions with the mock server, each followed by
/// its jobs, then as many more (up to three) as its reports need.
fn run(text: &str) -> Run {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("runtime");
    let loaded = parse(Path::new("conditions.toml"), text).expect("valid scenario");
    let file = &loaded.file;
    rt.block_on(async {
        let mut device = build_device(file).expect("device");
        let server = Arc::new(mock_server(file).expect("server"));
        let transport = InProcess::new(Arc::clone(&server));
        let client = InProcessContent::new(Arc::clone(&server));
        let store = MemoryStore::default();
        let start = || SessionStart {
            initiator: Initiator::Client,
            server_id: Some(file.server.server_id.clone()),
        };
        for n in 0..file.sessions + 3 {
            if n >= file.sessions && device.reports.pending().is_empty() {
                break;
            }
            let options = DriverOptions {
                keep_transcript: false,
                pace: Pace::Skip,
            };
            run_session_with(&transport, &mut device, start(), options).await;
            assert_eq!(device.save(&store).expect("save"), Saved::Landed);
            jobs::run_job(&mut device, &client, &store)
                .await
                .expect("the job ends");
        }
        Run {
            device,
            records: server.records(),
        }
    })
}

const FIRMWARE: &str = r#"
name = "conditions: firmware"
seed = 31

[device.fumo]

[[server.file]]
path = "/fw/update.pkg"
package = { to = "FW-1.1.0", size = "8KiB" }

[[server.file]]
path = "/fw/update.dd"
descriptor = { object = "update.pkg", notify = "/fw/notify" }
"#;

const FIRMWARE_CAMPAIGN: &str = r#"
[[server.package.command]]
cmd = "replace"
target = "./FUMO/Pkg1/DownloadAndUpdate/PkgURL"
data = "$SERVER/fw/update.dd"

[[server.package.command]]
cmd = "exec"
target = "./FUMO/Pkg1/DownloadAndUpdate"
correlator = "fw-1"
"#;

const SOFTWARE: &str = r#"
name = "conditions: software"
seed = 32

[device.scomo]

[[server.file]]
path = "/sw/suite.pkg"
delivery = { pkg_id = "suite", components = [{ id = "maps", version = "2.1", env = "Android" }] }
"#;

const SOFTWARE_CAMPAIGN: &str = r#"
[[server.package.command]]
cmd = "add"
target = "./SCOMO/Download/App1"
format = "node"

[[server.package.command]]
cmd = "add"
target = "./SCOMO/Download/App1/PkgURL"
data = "$SERVER/sw/suite.pkg"

[[server.package.command]]
cmd = "exec"
target = "./SCOMO/Download/App1/Operations/DownloadInstall"
correlator = "sw-1"
"#;

/// The E-FOTA client's nodes, which the server may Delete, and the device's preconditions on them.
const EFOTA_NODES: &str = r#"
[device.preconditions]
device_ready = "./Ext/EFOTA/DeviceReady"
inventory = "./Ext/EFOTA/Inventory"

[[device.node]]
uri = "./Ext"
format = "node"
acl = "Add=*&Delete=*&Get=*&Replace=*"

[[device.node]]
uri = "./Ext/EFOTA"
format = "node"

[[device.node]]
uri = "./Ext/EFOTA/DeviceReady"
format = "bool"
value = "true"
"#;

const INVENTORY_NODE: &str = r#"
[[device.node]]
uri = "./Ext/EFOTA/Inventory"
format = "node"
"#;

/// A scenario: the device's part, then one server package with `commands`.
fn scenario(device: &[&str], commands: &[&str]) -> String {
    format!(
        "{}\n[[server.package]]\n{}",
        device.join("\n"),
        commands.join("\n")
    )
}

const DELETE_READY: &str = r#"
[[server.package.command]]
cmd = "delete"
target = "./Ext/EFOTA/DeviceReady"
"#;

/// The server Deletes the E-FOTA client's `DeviceReady` node, then Execs an update: the job finds
/// it missing as it starts, downloads nothing and reports `start.not-ready` (FUMO 400 under the
/// dmsim profile), State unchanged. The same campaign without the Delete updates the device.
#[test]
fn a_server_delete_of_device_ready_makes_the_next_job_not_ready() {
    let deleted = run(&scenario(
        &[FIRMWARE, EFOTA_NODES, INVENTORY_NODE],
        &[DELETE_READY, FIRMWARE_CAMPAIGN],
    ));
    assert_eq!(deleted.outcomes(), ["start.not-ready"]);
    assert_eq!(deleted.fumo_results(), [400]);
    let fumo = deleted.device.fumo().expect("FUMO");
    assert_eq!(fumo.durable.state.value(), 10);
    assert!(fumo.records.dl_statuses.is_empty(), "nothing downloaded");
    assert!(deleted
        .device
        .tree
        .node("./Ext/EFOTA/DeviceReady")
        .is_none());

    let kept = run(&scenario(
        &[FIRMWARE, EFOTA_NODES, INVENTORY_NODE],
        &[FIRMWARE_CAMPAIGN],
    ));
    assert_eq!(kept.outcomes(), ["install.succeeded"]);
    assert_eq!(kept.fumo_results(), [200]);
}

/// A device built without the E-FOTA `Inventory` node has no update installer: a SCOMO job
/// reports `start.no-inventory` (1400) and delivers nothing; built with it, it installs. The
/// Delete of `DeviceReady` fails a SCOMO job too, before the missing inventory is looked at.
#[test]
fn a_device_built_without_its_inventory_node_has_no_installer() {
    let bare = run(&scenario(&[SOFTWARE, EFOTA_NODES], &[SOFTWARE_CAMPAIGN]));
    assert_eq!(bare.outcomes(), ["start.no-inventory"]);
    assert_eq!(bare.scomo_results(), [(1400, Some("sw-1".into()))]);

    let deleted = run(&scenario(
        &[SOFTWARE, EFOTA_NODES],
        &[DELETE_READY, SOFTWARE_CAMPAIGN],
    ));
    assert_eq!(deleted.outcomes(), ["start.not-ready"]);

    let whole = run(&scenario(
        &[SOFTWARE, EFOTA_NODES, INVENTORY_NODE],
        &[SOFTWARE_CAMPAIGN],
    ));
    assert_eq!(whole.outcomes(), ["install.succeeded"]);
    assert_eq!(whole.scomo_results(), [(1200, Some("sw-1".into()))]);
}

/// Other services running keep both agents from installing; the same device idle installs.
#[test]
fn other_services_running_abort_the_install() {
    let busy = "[device.resources]\nbusy_services = [\"call\"]\n";
    let fumo = run(&scenario(&[FIRMWARE, busy], &[FIRMWARE_CAMPAIGN]));
    assert_eq!(fumo.outcomes(), ["checks.services-busy"]);
    assert_eq!(fumo.fumo_results(), [400]);
    assert_eq!(fumo.device.fumo().expect("FUMO").durable.state.value(), 70);
    let scomo = run(&scenario(&[SOFTWARE, busy], &[SOFTWARE_CAMPAIGN]));
    assert_eq!(scomo.outcomes(), ["checks.services-busy"]);
    assert_eq!(scomo.scomo_results()[0].0, 1400);

    let idle = run(&scenario(&[SOFTWARE], &[SOFTWARE_CAMPAIGN]));
    assert_eq!(idle.outcomes(), ["install.succeeded"]);
}

/// A device that asks for the installation conditions waits out an unanswered prompt on its clock
/// and reports `checks.conditions-timeout` (401, 1401); without `ask_install_conditions` the same
/// user's scripted "timeout" is never asked and the install goes through.
#[test]
fn unanswered_installation_conditions_time_out() {
    let user = "[device.ui]\ninstall_conditions = [\"timeout\"]\n";
    let fumo_asks = FIRMWARE.replace(
        "[device.fumo]",
        "[device.fumo]\nask_install_conditions = true\ninstall_conditions_timeout = 600",
    );
    let asked = run(&scenario(&[&fumo_asks, user], &[FIRMWARE_CAMPAIGN]));
    assert_eq!(asked.outcomes(), ["checks.conditions-timeout"]);
    assert_eq!(asked.fumo_results(), [401]);
    let quiet = run(&scenario(&[FIRMWARE, user], &[FIRMWARE_CAMPAIGN]));
    assert_eq!(quiet.outcomes(), ["install.succeeded"]);
    assert!(
        asked.device.clock >= quiet.device.clock + 600,
        "the prompt's 600 s passed on the device's clock"
    );

    let scomo_asks = SOFTWARE.replace(
        "[device.scomo]",
        "[device.scomo]\nask_install_conditions = true",
    );
    let asked = run(&scenario(&[&scomo_asks, user], &[SOFTWARE_CAMPAIGN]));
    assert_eq!(asked.outcomes(), ["checks.conditions-timeout"]);
    assert_eq!(asked.scomo_results()[0].0, 1401);
    let accepted = run(&scenario(
        &[&scomo_asks, "[device.ui]\ninstall_conditions = [\"yes\"]\n"],
        &[SOFTWARE_CAMPAIGN],
    ));
    assert_eq!(accepted.outcomes(), ["install.succeeded"]);
}

const SECOND_EXEC: &str = r#"
[[server.package.command]]
cmd = "exec"
target = "./SCOMO/Download/App1/Operations/Download"
correlator = "sw-2"
"#;

/// Two SCOMO Execs in one package: by default the second is refused 409 and only the first is
/// reported; on a device set up to abort, both are accepted (202), the second is reported aborted
/// (`start.transaction-in-progress`, 1400, its own correlator) and the first is installed.
#[test]
fn a_scomo_exec_while_another_job_is_queued_is_aborted_and_reported() {
    let refused = run(&scenario(&[SOFTWARE], &[SOFTWARE_CAMPAIGN, SECOND_EXEC]));
    assert_eq!(refused.exec_statuses(), [202, 409]);
    assert_eq!(refused.scomo_results(), [(1200, Some("sw-1".into()))]);

    let aborting = SOFTWARE.replace(
        "[device.scomo]",
        "[device.scomo]\nexec_while_busy = \"abort\"",
    );
    let aborted = run(&scenario(&[&aborting], &[SOFTWARE_CAMPAIGN, SECOND_EXEC]));
    assert_eq!(aborted.exec_statuses(), [202, 202]);
    assert_eq!(
        aborted.outcomes(),
        ["start.transaction-in-progress", "install.succeeded"]
    );
    assert_eq!(
        aborted.scomo_results(),
        [(1400, Some("sw-2".into())), (1200, Some("sw-1".into()))]
    );
    assert!(
        aborted.device.reports.pending().is_empty(),
        "both acknowledged"
    );
}

/// A locked device fails the install (400, State 70, the package kept); the user unlocks it after
/// that session, and the server's Exec on Update in the next one installs the package it kept.
/// Left locked, the second install fails too; without the lock the first session's update
/// succeeds and the second Exec finds no package.
#[test]
fn a_locked_device_installs_once_the_user_unlocks_it() {
    let check = |resources: &str, results: &str| {
        let text = format!(
            "{}\n{resources}\n[[server.package]]\n{FIRMWARE_CAMPAIGN}\n\
             [[server.package]]\nsession = 2\n[[server.package.command]]\ncmd = \"exec\"\n\
             target = \"./FUMO/Pkg1/Update\"\ncorrelator = \"fw-2\"\n\n\
             [expect]\nfumo_result = {results}\n",
            FIRMWARE.replacen("seed = 31\n", "seed = 31\nsessions = 2\n", 1)
        );
        let loaded = parse(Path::new("locked.toml"), &text).expect("valid scenario");
        let result = scenario::run_all(&[loaded], &RunOptions::default())
            .expect("runtime")
            .remove(0);
        assert_eq!(
            result.verdict,
            Verdict::Passed,
            "{resources}: {:?}",
            result.failures
        );
    };
    check(
        "[device.resources]\nlocked = true\nunlock_after_session = 1",
        "[400, 200]",
    );
    check("[device.resources]\nlocked = true", "[400, 400]");
    check("", "[200, 400]");
    let key = Key::parse("checks.device-locked").expect("a key");
    assert!(key.in_fumo() && key.in_scomo());
}

/// `unlock_after_session` needs a locked device and a session from 1.
#[test]
fn an_unlock_needs_a_lock_and_a_session() {
    for resources in [
        "locked = true\nunlock_after_session = 0",
        "unlock_after_session = 1",
    ] {
        let text = format!("name = \"x\"\n[device.resources]\n{resources}\n");
        let loaded = parse(Path::new("unlock.toml"), &text).expect("parses");
        let e = build_device(&loaded.file).expect_err("refused");
        assert!(
            e.to_string()
                .starts_with("device.resources.unlock_after_session"),
            "{e}"
        );
    }
}
