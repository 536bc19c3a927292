//! Untrusted input never panics the device and never leaves it inconsistent: random management
//! packages run end to end against the mock server, and corrupted server messages are fed straight
//! to the session state machine.

use dmsim::device::Device;
use dmsim::inproc::InProcess;
use dmsim::scenario::load::parse;
use dmsim::scenario::{build_device, server_config};
use dmsim::server::script::{AlertSpec, ContainerSpec, ExecSpec, ItemsSpec};
use dmsim::server::{MockServer, ScriptCommand, ScriptPackage};
use dmsim::session::{run_session, ClientSession, SessionEnd, SessionStart, Step};
use dmsim::syncml::{decode, AlertCode, Command, Encoding};
use proptest::prelude::*;
use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

const BASE: &str = r#"
name = "random"
[device]
max_depth = 6
tree_capacity = 2048
[[device.node]]
uri = "./Vendor"
format = "node"
acl = "Add=*&Delete=*&Exec=*&Get=*&Replace=*"
[[device.node]]
uri = "./Vendor/Op"
format = "node"
access = ["Exec", "Get"]
"#;

fn base() -> (dmsim::scenario::LoadedScenario, Device) {
    let scenario = parse(Path::new("random.toml"), BASE).expect("valid");
    let device = build_device(&scenario.file).expect("device");
    (scenario, device)
}

fn uri() -> impl Strategy<Value = String> {
    let segment = prop_oneof![
        Just("Vendor".to_string()),
        Just("DevInfo".to_string()),
        Just("DMAcc".to_string()),
        Just("Op".to_string()),
        "[a-zA-Z]{1,6}",
        Just("".to_string()),
        Just("..".to_string()),
    ];
    let query = prop_oneof![
        Just(String::new()),
        Just("?prop=ACL".to_string()),
        Just("?list=Struct".to_string()),
        Just("?prop=Bogus".to_string()),
    ];
    (prop::collection::vec(segment, 0..5), query).prop_map(|(segs, q)| {
        let mut u = String::from(".");
        for s in segs {
            u.push('/');
            u.push_str(&s);
        }
        u + &q
    })
}

fn items() -> impl Strategy<Value = ItemsSpec> {
    (
        prop::option::of(uri()),
        prop::option::of(uri()),
        prop::option::of("[ -~]{0,12}"),
        prop::option::of(prop_oneof![
            Just("chr".to_string()),
            Just("int".to_string()),
            Just("b64".to_string()),
            Just("node".to_string()),
            Just("bogus".to_string()),
        ]),
    )
        .prop_map(|(target, source, data, format)| ItemsSpec {
            target,
            source,
            data,
            format,
            ..ItemsSpec::default()
        })
}

fn leaf_command() -> impl Strategy<Value = ScriptCommand> {
    prop_oneof![
        items().prop_map(ScriptCommand::Add),
        items().prop_map(ScriptCommand::Replace),
        items().prop_map(ScriptCommand::Delete),
        items().prop_map(ScriptCommand::Copy),
        items().prop_map(ScriptCommand::Get),
        (prop::option::of(uri()), 0usize..3).prop_map(|(target, n)| ScriptCommand::Exec(
            ExecSpec {
                target,
                item_count: Some(n),
                ..ExecSpec::default()
            }
        )),
        (1100u16..1106, prop::option::of("[ -~]{0,20}")).prop_map(|(code, text)| {
            ScriptCommand::Alert(AlertSpec {
                code,
                text,
                ..AlertSpec::default()
            })
        }),
    ]
}

fn command() -> impl Strategy<Value = ScriptCommand> {
    leaf_command().prop_recursive(2, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4)
                .prop_map(|commands| ScriptCommand::Atomic(ContainerSpec { commands })),
            prop::collection::vec(inner, 0..4)
                .prop_map(|commands| ScriptCommand::Sequence(ContainerSpec { commands })),
        ]
    })
}

/// The commands of a server message that are due a Status (members of Atomic and Sequence too):
/// all but Status, Results and Alert 1222 (flow control, reference §1.6), and those sent with
/// NoResp.
fn owed(commands: &[Command], due: &mut Vec<(String, String)>) {
    for cmd in commands {
        match cmd {
            Command::Status(_) | Command::Results(_) => continue,
            Command::Alert(a) if a.code == AlertCode::NextMessage => continue,
            Command::Atomic(c) | Command::Sequence(c) => owed(&c.commands, due),
            _ => {}
        }
        if !cmd.no_resp() {
            due.push((cmd.name().to_string(), cmd.cmd_id().to_string()));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, rng_seed: proptest::test_runner::RngSeed::Fixed(0x5EED), ..ProptestConfig::default() })]

    #[test]
    fn random_packages_complete_and_every_command_is_answered_once(
        packages in prop::collection::vec(prop::collection::vec(command(), 0..6), 1..3),
        server_max_msg in prop_oneof![Just(None), (900u64..4000).prop_map(Some)],
        device_max_msg in prop_oneof![Just(16384u64), 1200u64..4000],
        wbxml in any::<bool>(),
    ) {
        let (scenario, mut device) = base();
        device.limits.max_msg_size = device_max_msg;
        if wbxml {
            device.encoding = Encoding::Wbxml;
        }
        let mut config = server_config(&scenario.file);
        config.keep_exchanges = true;
        config.max_msg_size = server_max_msg;
        config.max_obj_size = Some(1 << 20);
        config.packages = packages
            .iter()
            .map(|commands| ScriptPackage {
                session: Default::default(),
                commands: commands.clone(),
            })
            .collect();
        let server = Arc::new(MockServer::new(config));
        let transport = InProcess::new(Arc::clone(&server));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .expect("runtime");
        let report = runtime.block_on(run_session(&transport, &mut device, SessionStart::default(), false));
        // Only a package that cannot be sent within the limits ends otherwise: the device aborts
        // saying why, or the server, whose Atomic (which cannot be split) does not fit one of
        // the device's messages, ends the session with 1223.
        let completed = report.end == SessionEnd::Completed;
        let too_big_for_the_device = server_max_msg.is_none() || device_max_msg < 16384;
        prop_assert!(
            completed
                || report.end.to_string().contains("MaxMsgSize")
                || (report.end == SessionEnd::AbortedByServer && too_big_for_the_device),
            "{}",
            report.end
        );
        let exchanges = &server.records()[0].exchanges;
        let mut answered: HashSet<(String, String, Option<String>, Option<String>)> = HashSet::new();
        for exchange in exchanges {
            let sent = decode(&exchange.request.body).expect("device message decodes");
            // A CmdID is never used twice in a message.
            let mut ids = HashSet::new();
            for cmd in &sent.body.commands {
                prop_assert!(ids.insert(cmd.cmd_id().to_string()), "CmdID {} twice in device message {}", cmd.cmd_id(), sent.hdr.msg_id);
            }
            // Never two Statuses for one command (one per item of an item command).
            for cmd in &sent.body.commands {
                let Command::Status(st) = cmd else { continue };
                let key = (st.msg_ref.clone(), st.cmd_ref.clone(), st.target_refs.first().cloned(), st.source_refs.first().cloned());
                prop_assert!(answered.insert(key), "two Statuses for {} {} of server message {}", st.cmd, st.cmd_ref, st.msg_ref);
            }
        }
        if completed {
            // Every command of every server message (Atomic and Sequence members too) is answered.
            let statuses: HashSet<(String, String)> = answered.iter().map(|(m, c, _, _)| (m.clone(), c.clone())).collect();
            for exchange in exchanges {
                let server_msg = decode(&exchange.response.body).expect("server message decodes");
                let mut due = Vec::new();
                owed(&server_msg.body.commands, &mut due);
                for (name, id) in due {
                    prop_assert!(statuses.contains(&(server_msg.hdr.msg_id.clone(), id.clone())),
                        "{} {} of server message {} has no Status", name, id, server_msg.hdr.msg_id);
                }
            }
        }
        // Standard objects the server may not write are untouched.
        prop_assert_eq!(device.tree.value_str("./DevInfo/Mod"), Some("SIM-1"));
        prop_assert_eq!(device.tree.value_str("./DevInfo/DevId"), Some("IMEI:356938035643809"));
        prop_assert!(device.tree.used_bytes() <= 2048);
    }

    #[test]
    fn corrupted_server_messages_never_panic(flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8), cut in any::<prop::sample::Index>()) {
        let (scenario, mut device) = base();
        let server = MockServer::new(server_config(&scenario.file));
        let (mut session, first) = ClientSession::start(&mut device, SessionStart::default()).expect("account");
        let mut response = server.handle(&first.request);
        for (at, byte) in &flips {
            let i = at.index(response.body.len());
            response.body[i] = *byte;
        }
        let keep = cut.index(response.body.len() + 1);
        response.body.truncate(keep.max(1));
        let step = session.receive(&mut device, &response);
        prop_assert!(matches!(step, Step::Send(_) | Step::Done(_) | Step::SendAndEnd(..)));
        prop_assert_eq!(device.tree.value_str("./DevInfo/Mod"), Some("SIM-1"));
    }
}
