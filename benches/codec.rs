//! Codec speed on a typical client Package 3 (~2 KB as XML, about half as WBXML): encode, decode,
//! and both, in each encoding.

use criterion::{black_box, criterion_group, criterion_main, Criterion};

use dmsim::syncml::{
    CmdName, Command, Data, Encoding, Item, Location, Meta, Results, Status, StatusCode, SyncBody,
    SyncHdr, SyncMl, VER_DTD, VER_PROTO,
};

const SERVER: &str = "https://dm.example.com/oma";
const DEVICE: &str = "IMEI:356938035643809";

/// A Status for command `cmd_ref` of the server's message 1.
fn status(cmd_id: u32, cmd_ref: u32, cmd: CmdName, code: StatusCode) -> Status {
    Status {
        cmd_id: cmd_id.to_string(),
        msg_ref: "1".into(),
        cmd_ref: cmd_ref.to_string(),
        cmd,
        target_refs: Vec::new(),
        source_refs: Vec::new(),
        cred: None,
        chal: None,
        code,
        items: Vec::new(),
    }
}

/// Results for the Get `cmd_ref`, one chr item per `(uri, value)`.
fn results(cmd_id: u32, cmd_ref: u32, leaves: &[(&str, &str)]) -> Command {
    let items = leaves
        .iter()
        .map(|(uri, value)| Item {
            source: Some(Location::uri(*uri)),
            meta: Some(Meta::format("chr")),
            data: Some(Data::Text((*value).to_string())),
            ..Item::default()
        })
        .collect();
    Command::Results(Results {
        cmd_id: cmd_id.to_string(),
        msg_ref: Some("1".into()),
        cmd_ref: cmd_ref.to_string(),
        items,
        ..Results::default()
    })
}

/// Package 3: Status for the SyncHdr and eight commands, Results for three Gets.
fn package_3() -> SyncMl {
    let mut commands = vec![Command::Status(Status {
        target_refs: vec![DEVICE.into()],
        source_refs: vec![SERVER.into()],
        ..status(1, 0, CmdName::SyncHdr, StatusCode::Ok)
    })];
    let answered = [
        (CmdName::Get, StatusCode::Ok),
        (CmdName::Get, StatusCode::Ok),
        (CmdName::Get, StatusCode::Ok),
        (CmdName::Replace, StatusCode::Ok),
        (CmdName::Replace, StatusCode::NotFound),
        (CmdName::Add, StatusCode::AlreadyExists),
        (CmdName::Delete, StatusCode::Ok),
        (CmdName::Exec, StatusCode::Accepted),
    ];
    for (i, (cmd, code)) in (2..).zip(answered) {
        commands.push(Command::Status(status(i, i, cmd, code)));
    }
    commands.push(results(
        10,
        2,
        &[
            ("./DevInfo/DevId", DEVICE),
            ("./DevInfo/Man", "Samsung"),
            ("./DevInfo/Mod", "SM-G991B"),
        ],
    ));
    commands.push(results(
        11,
        3,
        &[
            ("./DevDetail/SwV", "G991BXXU5CVK1"),
            ("./DevDetail/FwV", "G991BXXU5CVK1"),
            ("./DevDetail/HwV", "REV1.0"),
        ],
    ));
    commands.push(results(
        12,
        4,
        &[
            ("./DevDetail/LrgObj", "true"),
            ("./DevInfo/DmV", "1.2"),
            ("./DevInfo/Lang", "en-US"),
        ],
    ));
    SyncMl {
        hdr: SyncHdr {
            ver_dtd: VER_DTD.into(),
            ver_proto: VER_PROTO.into(),
            session_id: "1A2B".into(),
            msg_id: "2".into(),
            target: Location::uri(SERVER),
            source: Location {
                loc_uri: DEVICE.into(),
                loc_name: Some("dmuser".into()),
            },
            resp_uri: None,
            no_resp: false,
            cred: None,
            meta: Some(Meta {
                max_msg_size: Some(5120),
                max_obj_size: Some(1_048_576),
                ..Meta::default()
            }),
        },
        body: SyncBody {
            commands,
            final_flag: true,
        },
    }
}

fn codec(c: &mut Criterion) {
    let msg = package_3();
    for encoding in [Encoding::Xml, Encoding::Wbxml] {
        let name = encoding.as_str();
        let bytes = encoding.encode(&msg);
        c.bench_function(&format!("{name} encode pkg3"), |b| {
            b.iter(|| encoding.encode(black_box(&msg)))
        });
        c.bench_function(&format!("{name} decode pkg3"), |b| {
            b.iter(|| dmsim::syncml::decode(black_box(&bytes)))
        });
        c.bench_function(&format!("{name} encode+decode pkg3"), |b| {
            b.iter(|| dmsim::syncml::decode(&encoding.encode(black_box(&msg))))
        });
    }
}

criterion_group!(benches, codec);
criterion_main!(benches);
