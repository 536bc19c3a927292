//! Complete in-process DM sessions: Package 1 to the end, through the XML codec, the tree and the
//! mock server, with MD5 authentication and a typical management package.

use criterion::{criterion_group, criterion_main, Criterion};
use dmsim::inproc::InProcess;
use dmsim::scenario::load::parse;
use dmsim::scenario::{build_device, server_config};
use dmsim::server::MockServer;
use dmsim::session::{run_session, SessionStart};
use std::path::Path;
use std::sync::Arc;

const SCENARIO: &str = r#"
name = "bench"
[device.auth]
type = "md5"
name = "dev"
secret = "pwd"
nonce = "n"
[[device.node]]
uri = "./Vendor"
format = "node"
acl = "Add=*&Get=*&Replace=*"
[[server.package]]
[[server.package.command]]
cmd = "get"
target = "./DevInfo?list=StructData"
[[server.package.command]]
cmd = "add"
target = "./Vendor/Setting"
data = "on"
[[server.package]]
[[server.package.command]]
cmd = "replace"
target = "./Vendor/Setting"
data = "off"
[[server.package.command]]
cmd = "get"
target = "./DevDetail/FwV"
"#;

fn sessions(c: &mut Criterion) {
    let scenario = match parse(Path::new("bench.toml"), SCENARIO) {
        Ok(s) => s,
        Err(e) => panic!("bench scenario: {e}"),
    };
    let device = match build_device(&scenario.file) {
        Ok(d) => d,
        Err(e) => panic!("bench device: {e}"),
    };
    let config = server_config(&scenario.file);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
    {
        Ok(r) => r,
        Err(e) => panic!("runtime: {e}"),
    };
    c.bench_function("session/in-process md5, 2 packages", |b| {
        b.iter(|| {
            let server = Arc::new(MockServer::new(config.clone()));
            let transport = InProcess::new(server);
            let mut device = device.clone();
            runtime.block_on(run_session(
                &transport,
                &mut device,
                SessionStart::default(),
                false,
            ))
        })
    });
}

criterion_group!(benches, sessions);
criterion_main!(benches);
