//! Tests of Atomic and the commands' side effects: a FUMO Exec or an in-band package inside an
//! Atomic takes effect only when the Atomic commits (reference §1.4, §5.3; see
//! [`super::effects`]).

use super::{Device, Executor};
use crate::protocol::fumo::{FumoState, Operation};
use crate::scenario::build_device;
use crate::scenario::load::parse;
use crate::syncml::{CmdName, Command, Container, Exec, Item, ItemCommand, Location};
use std::path::Path;

const SERVER_ID: &str = "dmsim-server";
const URL_NODE: &str = "./FUMO/Pkg1/DownloadAndUpdate/PkgURL";
const DAU_NODE: &str = "./FUMO/Pkg1/DownloadAndUpdate";
const PKG_DATA: &str = "./FUMO/Pkg1/Update/PkgData";

/// A FUMO device with `./Vendor/Existing`, so an Add of it fails (418) and fails its Atomic.
fn device(extra: &str) -> Device {
    let text = format!(
        r#"name = "t"
seed = 9

[device.fumo]

[[device.node]]
uri = "./Vendor"
format = "node"
acl = "Add=*&Get=*&Replace=*"

[[device.node]]
uri = "./Vendor/Existing"
value = "keep"
{extra}"#
    );
    let scenario = parse(Path::new("t.toml"), &text).expect("valid scenario");
    build_device(&scenario.file).expect("device")
}

const ROLLBACK_FAILS: &str = r#"
[[fault]]
at = "tree.atomic-rollback"
inject = "storage.write-error"
"#;

fn item(uri: &str, data: Option<&str>) -> Item {
    Item {
        target: Some(Location::uri(uri)),
        data: data.map(|d| crate::syncml::Data::Text(d.to_string())),
        ..Item::default()
    }
}

fn replace(id: &str, uri: &str, data: &str) -> Command {
    Command::Replace(ItemCommand {
        cmd_id: id.to_string(),
        items: vec![item(uri, Some(data))],
        ..ItemCommand::default()
    })
}

fn add(id: &str, uri: &str, data: &str) -> Command {
    Command::Add(ItemCommand {
        cmd_id: id.to_string(),
        items: vec![item(uri, Some(data))],
        ..ItemCommand::default()
    })
}

/// An Add that fails (418: the node exists), failing the Atomic it is in.
fn failing(id: &str) -> Command {
    add(id, "./Vendor/Existing", "2")
}

fn exec(id: &str, uri: &str, correlator: &str) -> Command {
    Command::Exec(Exec {
        cmd_id: id.to_string(),
        correlator: Some(correlator.to_string()),
        items: vec![item(uri, None)],
        ..Exec::default()
    })
}

fn atomic(id: &str, commands: Vec<Command>) -> Command {
    Command::Atomic(Container {
        cmd_id: id.to_string(),
        commands,
        ..Container::default()
    })
}

fn sequence(id: &str, commands: Vec<Command>) -> Command {
    Command::Sequence(Container {
        cmd_id: id.to_string(),
        commands,
        ..Container::default()
    })
}

/// Run commands as one server message; the Statuses answered, as (command, CmdRef, code).
fn run(device: &mut Device, commands: &[Command]) -> Vec<(CmdName, String, u16)> {
    let mut executor = Executor::new(device, SERVER_ID, "2");
    for cmd in commands {
        executor.run(cmd);
    }
    executor
        .finish()
        .replies
        .into_iter()
        .filter_map(|r| match r {
            Command::Status(s) => Some((s.cmd, s.cmd_ref, s.code.code())),
            _ => None,
        })
        .collect()
}

fn st(cmd: CmdName, cmd_ref: &str, code: u16) -> (CmdName, String, u16) {
    (cmd, cmd_ref.to_string(), code)
}

/// No job, no package, no State change, no Exec record: nothing of FUMO happened.
fn assert_fumo_untouched(device: &Device) {
    let fumo = device.fumo().expect("FUMO");
    assert_eq!(fumo.durable.job, None, "a job was queued");
    assert_eq!(fumo.durable.store, Default::default(), "the store changed");
    assert!(fumo.bytes.is_empty(), "package bytes were kept");
    assert_eq!(fumo.durable.state, FumoState::Idle);
    assert_eq!(fumo.records.states, [FumoState::Idle]);
    assert_eq!(device.tree.value_str("./FUMO/Pkg1/State"), Some("10"));
    assert!(
        device.records.execs.is_empty(),
        "{:?}",
        device.records.execs
    );
}

#[test]
fn an_exec_in_a_failing_atomic_is_rolled_back_and_queues_no_job() {
    let mut d = device("");
    let before = d.tree.value_str(URL_NODE).map(str::to_string);
    let statuses = run(
        &mut d,
        &[atomic(
            "1",
            vec![
                replace("2", URL_NODE, "http://dl/fw.dd"),
                exec("3", DAU_NODE, "c1"),
                failing("4"),
                replace("5", "./Vendor/Existing", "3"),
            ],
        )],
    );
    assert_eq!(
        statuses,
        [
            st(CmdName::Atomic, "1", 507),
            st(CmdName::Replace, "2", 216),
            st(CmdName::Exec, "3", 216),
            st(CmdName::Add, "4", 418),
            st(CmdName::Replace, "5", 215),
        ]
    );
    assert_fumo_untouched(&d);
    assert_eq!(d.tree.value_str(URL_NODE).map(str::to_string), before);
}

#[test]
fn an_exec_in_a_committing_atomic_queues_its_job_with_the_url_of_its_moment() {
    let mut d = device("");
    let statuses = run(
        &mut d,
        &[atomic(
            "1",
            vec![
                replace("2", URL_NODE, "http://dl/fw.dd"),
                exec("3", DAU_NODE, "c1"),
                replace("4", URL_NODE, "http://dl/later.dd"),
            ],
        )],
    );
    assert_eq!(
        statuses,
        [
            st(CmdName::Atomic, "1", 200),
            st(CmdName::Replace, "2", 200),
            st(CmdName::Exec, "3", 202),
            st(CmdName::Replace, "4", 200),
        ]
    );
    let fumo = d.fumo().expect("FUMO");
    let job = fumo.durable.job.as_ref().expect("queued at the commit");
    assert_eq!(job.operation, Operation::DownloadAndUpdate);
    assert_eq!(job.url, "http://dl/fw.dd", "the PkgURL when the Exec ran");
    assert_eq!(job.correlator.as_deref(), Some("c1"));
    let execs: Vec<_> = d.records.execs.iter().map(|e| e.uri.as_str()).collect();
    assert_eq!(execs, [DAU_NODE]);
    assert_eq!(d.records.execs[0].correlator.as_deref(), Some("c1"));
}

#[test]
fn a_second_exec_in_one_atomic_conflicts_and_fails_it() {
    let mut d = device("");
    let statuses = run(
        &mut d,
        &[atomic(
            "1",
            vec![
                exec("2", DAU_NODE, "c1"),
                exec("3", "./FUMO/Pkg1/Download", "c2"),
            ],
        )],
    );
    assert_eq!(
        statuses,
        [
            st(CmdName::Atomic, "1", 507),
            st(CmdName::Exec, "2", 216),
            st(CmdName::Exec, "3", 409),
        ]
    );
    assert_fumo_untouched(&d);
}

#[test]
fn an_exec_in_an_atomic_conflicts_with_a_job_already_queued() {
    let mut d = device("");
    let statuses = run(
        &mut d,
        &[
            exec("1", DAU_NODE, "first"),
            atomic("2", vec![exec("3", "./FUMO/Pkg1/Update", "second")]),
        ],
    );
    assert_eq!(
        statuses,
        [
            st(CmdName::Exec, "1", 202),
            st(CmdName::Atomic, "2", 507),
            st(CmdName::Exec, "3", 409),
        ]
    );
    let fumo = d.fumo().expect("FUMO");
    let job = fumo.durable.job.as_ref().expect("the first job");
    assert_eq!(job.correlator.as_deref(), Some("first"));
    let execs: Vec<_> = d.records.execs.iter().map(|e| e.uri.as_str()).collect();
    assert_eq!(execs, [DAU_NODE], "the refused Exec is not recorded");
}

#[test]
fn an_exec_in_a_sequence_in_a_failing_atomic_queues_no_job() {
    let mut d = device("");
    let statuses = run(
        &mut d,
        &[atomic(
            "1",
            vec![sequence("2", vec![exec("3", DAU_NODE, "c1")]), failing("4")],
        )],
    );
    assert_eq!(
        statuses,
        [
            st(CmdName::Atomic, "1", 507),
            st(CmdName::Sequence, "2", 216),
            st(CmdName::Exec, "3", 216),
            st(CmdName::Add, "4", 418),
        ]
    );
    assert_fumo_untouched(&d);
}

#[test]
fn pkg_data_in_a_failing_atomic_never_reaches_the_store() {
    let mut d = device("");
    let statuses = run(
        &mut d,
        &[atomic(
            "1",
            vec![replace("2", PKG_DATA, "PACKAGE"), failing("3")],
        )],
    );
    assert_eq!(
        statuses,
        [
            st(CmdName::Atomic, "1", 507),
            st(CmdName::Replace, "2", 216),
            st(CmdName::Add, "3", 418),
        ]
    );
    assert_fumo_untouched(&d);
    assert_eq!(d.tree.value(PKG_DATA), Some(&b""[..]), "PkgData restored");
}

#[test]
fn pkg_data_and_an_update_in_a_committing_atomic_take_effect_in_order() {
    let mut d = device("");
    let statuses = run(
        &mut d,
        &[atomic(
            "1",
            vec![
                replace("2", PKG_DATA, "FIRST"),
                replace("3", PKG_DATA, "PACKAGE"),
                exec("4", "./FUMO/Pkg1/Update", "in-band"),
            ],
        )],
    );
    assert_eq!(
        statuses,
        [
            st(CmdName::Atomic, "1", 200),
            st(CmdName::Replace, "2", 200),
            st(CmdName::Replace, "3", 200),
            st(CmdName::Exec, "4", 202),
        ]
    );
    let fumo = d.fumo().expect("FUMO");
    assert!(fumo.has_package());
    assert_eq!(fumo.bytes, b"PACKAGE", "the last Replace wins");
    assert_eq!(fumo.durable.state, FumoState::ReadyToUpdate);
    assert_eq!(
        fumo.durable.job.as_ref().map(|j| j.operation),
        Some(Operation::Update)
    );
    assert_eq!(d.tree.value(PKG_DATA), Some(&b""[..]), "not kept twice");
}

#[test]
fn outside_an_atomic_effects_apply_at_once() {
    let mut d = device("");
    let statuses = run(
        &mut d,
        &[
            replace("1", PKG_DATA, "PACKAGE"),
            exec("2", "./FUMO/Pkg1/Update", "now"),
            exec("3", DAU_NODE, "busy"),
        ],
    );
    assert_eq!(
        statuses,
        [
            st(CmdName::Replace, "1", 200),
            st(CmdName::Exec, "2", 202),
            st(CmdName::Exec, "3", 409),
        ]
    );
    let fumo = d.fumo().expect("FUMO");
    assert_eq!(fumo.bytes, b"PACKAGE");
    assert_eq!(fumo.durable.state, FumoState::ReadyToUpdate);
    assert_eq!(
        fumo.durable.job.as_ref().map(|j| j.operation),
        Some(Operation::Update)
    );
    assert_eq!(d.records.execs.len(), 1);
}

/// The rollback fails: the tree keeps the members' changes (516), but their effects were never
/// applied and are dropped, so the Exec is undone (216) and no update starts.
#[test]
fn when_the_rollback_fails_the_tree_keeps_its_changes_but_no_effect_is_applied() {
    let mut d = device(ROLLBACK_FAILS);
    let statuses = run(
        &mut d,
        &[atomic(
            "1",
            vec![
                replace("2", URL_NODE, "http://dl/fw.dd"),
                exec("3", DAU_NODE, "c1"),
                replace("4", PKG_DATA, "PACKAGE"),
                failing("5"),
            ],
        )],
    );
    assert_eq!(
        statuses,
        [
            st(CmdName::Atomic, "1", 507),
            st(CmdName::Replace, "2", 516),
            st(CmdName::Exec, "3", 216),
            st(CmdName::Replace, "4", 516),
            st(CmdName::Add, "5", 418),
        ]
    );
    assert_eq!(
        d.tree.value_str(URL_NODE),
        Some("http://dl/fw.dd"),
        "not undone"
    );
    assert_eq!(
        d.tree.value(PKG_DATA),
        Some(&b""[..]),
        "write-only: never kept"
    );
    assert_fumo_untouched(&d);
}

#[test]
fn a_plain_exec_in_a_failing_atomic_is_not_recorded() {
    let mut d = device(
        r#"
[[device.node]]
uri = "./Vendor/Reboot"
format = "node"
access = ["Get", "Exec"]
acl = "Exec=*&Get=*"
"#,
    );
    let statuses = run(
        &mut d,
        &[
            atomic("1", vec![exec("2", "./Vendor/Reboot", "r1"), failing("3")]),
            atomic("4", vec![exec("5", "./Vendor/Reboot", "r2")]),
        ],
    );
    assert_eq!(
        statuses,
        [
            st(CmdName::Atomic, "1", 507),
            st(CmdName::Exec, "2", 216),
            st(CmdName::Add, "3", 418),
            st(CmdName::Atomic, "4", 200),
            st(CmdName::Exec, "5", 200),
        ]
    );
    let correlators: Vec<_> = d
        .records
        .execs
        .iter()
        .map(|e| e.correlator.as_deref())
        .collect();
    assert_eq!(correlators, [Some("r2")], "only the committed Exec");
}
