//! Whatever a server hosts, a FUMO job ends: random descriptors and packages, cut, corrupted or
//! refused answers never panic the device, never leave it between two firmwares, and always end in
//! exactly one result code reported to the server.

use dmsim::inproc::{InProcess, InProcessContent};
use dmsim::jobs;
use dmsim::protocol::download::{Descriptor, DlStatus, DD_CONTENT_TYPE};
use dmsim::scenario::load::parse;
use dmsim::scenario::{build_device, server_config};
use dmsim::server::{
    fumo_results, Attempts, ContentConfig, ContentFault, ContentFaultKind, HostedFile, MockServer,
};
use dmsim::session::{run_session, Initiator, SessionStart};
use dmsim::storage::MemoryStore;
use proptest::prelude::*;
use std::path::Path;
use std::sync::Arc;

const CAMPAIGN: &str = r#"
name = "robustness"
seed = 5

[device.fumo]

[[server.package]]
[[server.package.command]]
cmd = "replace"
target = "./FUMO/Pkg1/DownloadAndUpdate/PkgURL"
data = "$SERVER/fw/update.dd"

[[server.package.command]]
cmd = "exec"
target = "./FUMO/Pkg1/DownloadAndUpdate"
"#;

/// A descriptor document: a truthful one with some bytes changed, or bytes of any kind.
fn descriptor_bytes() -> impl Strategy<Value = Vec<u8>> {
    let truthful = Descriptor::new("update.pkg", "application/vnd.dmsim.firmware", 300)
        .with_install_notify("/fw/notify")
        .to_xml()
        .into_bytes();
    prop_oneof![
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6).prop_map(
            move |flips| {
                let mut doc = truthful.clone();
                for (at, byte) in flips {
                    let i = at.index(doc.len());
                    doc[i] = byte;
                }
                doc
            }
        ),
        prop::collection::vec(any::<u8>(), 0..400),
    ]
}

fn fault_kind() -> impl Strategy<Value = Option<ContentFaultKind>> {
    prop_oneof![
        Just(None),
        Just(Some(ContentFaultKind::Unauthorized)),
        Just(Some(ContentFaultKind::Unavailable)),
        (0u64..400).prop_map(|n| Some(ContentFaultKind::CutAt(n))),
        (0u64..400).prop_map(|n| Some(ContentFaultKind::WrongContentLength(n))),
        (0u64..400).prop_map(|n| Some(ContentFaultKind::CorruptByte(n))),
        (100u16..600).prop_map(|s| Some(ContentFaultKind::Status(s))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, rng_seed: proptest::test_runner::RngSeed::Fixed(0x5EED), ..ProptestConfig::default() })]

    #[test]
    fn descriptors_of_any_bytes_parse_or_are_refused_with_906_or_951(doc in descriptor_bytes()) {
        if let Err(e) = Descriptor::parse(&doc) {
            prop_assert!(matches!(
                e.dl_status(),
                DlStatus::InvalidDescriptor | DlStatus::InvalidDdVersion
            ));
        }
    }

    #[test]
    fn any_hosted_content_ends_the_job_with_one_result(
        doc in descriptor_bytes(),
        object in prop::collection::vec(any::<u8>(), 0..400),
        fault in fault_kind(),
        on_descriptor in any::<bool>(),
        first_only in any::<bool>(),
    ) {
        let loaded = parse(Path::new("robustness.toml"), CAMPAIGN).expect("valid scenario");
        let file = &loaded.file;
        let mut content = ContentConfig::default()
            .file(HostedFile::new("/fw/update.dd", DD_CONTENT_TYPE, doc))
            .file(HostedFile::new("/fw/update.pkg", "application/vnd.dmsim.firmware", object))
            .notify_path("/fw/notify");
        if let Some(kind) = fault {
            content = content.fault(ContentFault {
                path: if on_descriptor { "/fw/update.dd" } else { "/fw/update.pkg" }.into(),
                kind,
                attempts: if first_only { Attempts::First } else { Attempts::Every },
            });
        }
        let server = Arc::new(MockServer::with_content(server_config(file), content));
        let transport = InProcess::new(Arc::clone(&server));
        let client = InProcessContent::new(Arc::clone(&server));
        let store = MemoryStore::new();
        let mut device = build_device(file).expect("device");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .expect("runtime");
        let start = || SessionStart {
            initiator: Initiator::Client,
            server_id: Some(file.server.server_id.clone()),
        };
        runtime.block_on(run_session(&transport, &mut device, start(), false));
        let result = runtime
            .block_on(jobs::run_job(&mut device, &client, &store))
            .expect("the job runs");
        // Random bytes are never a package signed with the trusted key.
        prop_assert!(
            result.as_ref().is_some_and(|r| !r.outcome.is_success() && r.code != 200),
            "{result:?}"
        );
        runtime.block_on(run_session(&transport, &mut device, start(), false));
        prop_assert_eq!(fumo_results(&server.records()).len(), 1);
        prop_assert!(device.reports.pending().is_empty());
        let agent = device.fumo().expect("FUMO");
        prop_assert_eq!(agent.durable.firmware.version(), "FW-1.0.0");
        prop_assert!(agent.durable.job.is_none());
        prop_assert!(agent.durable.state.is_terminal());
        prop_assert_eq!(device.tree.value_str("./DevDetail/FwV"), Some("FW-1.0.0"));
    }
}
