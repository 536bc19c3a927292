//! Soak: thousands of sessions through one mock server, as `dmsim serve` sees under a fleet. The
//! server's memory must level off: it keeps a bounded number of sessions and a bounded record per
//! session, so what it holds after 3 000 sessions is what it held after 1 000.
//!
//! Memory is measured by this test binary's own allocator (live bytes, allocations minus frees),
//! not by the process's RSS, so the figure is exact and does not depend on the machine.

use dmsim::inproc::InProcess;
use dmsim::scenario::load::parse;
use dmsim::scenario::{build_device, server_config};
use dmsim::server::{MockServer, MAX_RECORDED};
use dmsim::session::{run_session, SessionEnd, SessionStart};
use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::Arc;

/// The system allocator, counting the bytes in use.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is passed to the system allocator unchanged; only a counter is kept beside.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: the caller's contract for `alloc` holds for `System.alloc` too.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: `ptr` was allocated by `System` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // SAFETY: as for `alloc` and `dealloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const SCENARIO: &str = r#"
name = "soak"
[device.auth]
type = "md5"
name = "dev"
secret = "pw"
nonce = "n0"
[[server.package]]
session = "every"
[[server.package.command]]
cmd = "get"
target = "./DevInfo/Mod"
[[server.package.command]]
cmd = "replace"
target = "./DevInfo/Lang"
data = "fr-FR"
"#;

#[test]
fn the_mock_server_holds_a_bounded_amount_however_many_sessions_it_serves() {
    const KEPT: usize = 200;
    let file = parse(Path::new("soak.toml"), SCENARIO).expect("valid").file;
    let mut config = server_config(&file);
    config.keep_sessions = Some(KEPT);
    let server = Arc::new(MockServer::new(config));
    let transport = InProcess::new(Arc::clone(&server));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("runtime");
    let run = |sessions: usize| {
        for n in 0..sessions {
            // A new device now and then, as a fleet would bring.
            let mut device = build_device(&file).expect("device");
            let id = format!("IMEI:{:015}", n % 500);
            device
                .tree
                .set_value("./DevInfo/DevId", id.as_bytes(), 0)
                .expect("id");
            let report = runtime.block_on(run_session(
                &transport,
                &mut device,
                SessionStart::default(),
                false,
            ));
            assert_eq!(report.end, SessionEnd::Completed);
        }
    };
    run(1_000);
    let after_1000 = LIVE.load(Ordering::Relaxed);
    run(2_000);
    let after_3000 = LIVE.load(Ordering::Relaxed);
    // The server's per-device state (500 devices: nonces, session counts) is the same size after
    // the first thousand sessions; what grows with sessions is capped. Allow a little slack for
    // hash maps that grow in steps.
    let growth = after_3000 - after_1000;
    assert!(
        growth < 64 * 1024,
        "live bytes grew by {growth} between 1 000 and 3 000 sessions ({after_1000} → {after_3000})"
    );
    let records = server.records();
    assert_eq!(records.len(), KEPT);
    assert_eq!(server.sessions_dropped(), 3_000 - KEPT as u64);
    assert!(records.iter().all(|r| r.statuses.len() <= MAX_RECORDED));
}
