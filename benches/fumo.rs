//! A FUMO job on one device, after the session that started it: fetch a Download Descriptor and a
//! 64 KiB package from the in-process mock server, verify it (SHA-256, Ed25519), install it
//! through every A/B step with the durable state saved after each, and queue the report.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use dmsim::device::Device;
use dmsim::inproc::{InProcess, InProcessContent};
use dmsim::scenario::load::parse;
use dmsim::scenario::{build_device, mock_server};
use dmsim::session::{run_session, Initiator, SessionStart};
use dmsim::storage::MemoryStore;
use std::path::Path;
use std::sync::Arc;

const SCENARIO: &str = r#"
name = "bench"
[device.fumo]
[[server.file]]
path = "/fw/update.pkg"
package = { to = "FW-1.1.0", size = "64KiB" }
[[server.file]]
path = "/fw/update.dd"
descriptor = { object = "update.pkg", notify = "/fw/notify", sha256 = true }
[[server.package]]
[[server.package.command]]
cmd = "replace"
target = "./FUMO/Pkg1/DownloadAndUpdate/PkgURL"
data = "$SERVER/fw/update.dd"
[[server.package.command]]
cmd = "exec"
target = "./FUMO/Pkg1/DownloadAndUpdate"
"#;

fn fumo_job(c: &mut Criterion) {
    let scenario = match parse(Path::new("bench.toml"), SCENARIO) {
        Ok(s) => s,
        Err(e) => panic!("bench scenario: {e}"),
    };
    let server = match mock_server(&scenario.file) {
        Ok(s) => Arc::new(s),
        Err(e) => panic!("bench server: {e}"),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
    {
        Ok(r) => r,
        Err(e) => panic!("runtime: {e}"),
    };
    let mut accepted: Device = match build_device(&scenario.file) {
        Ok(d) => d,
        Err(e) => panic!("bench device: {e}"),
    };
    let start = SessionStart {
        initiator: Initiator::Client,
        server_id: Some(scenario.file.server.server_id.clone()),
    };
    let transport = InProcess::new(Arc::clone(&server));
    runtime.block_on(run_session(&transport, &mut accepted, start, false));
    let content = InProcessContent::new(Arc::clone(&server));
    c.bench_function("fumo/download and update, 64 KiB package", |b| {
        b.iter_batched(
            || (accepted.clone(), MemoryStore::new()),
            |(mut device, store)| {
                let result = runtime.block_on(dmsim::jobs::run_job(&mut device, &content, &store));
                assert!(matches!(result, Ok(Some(r)) if r.data == "200"));
                device
            },
            BatchSize::SmallInput,
        )
    });
}

criterion_group!(benches, fumo_job);
criterion_main!(benches);
