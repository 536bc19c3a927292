//! Fuzz target: OMA Download Descriptors (`Descriptor::parse`) on arbitrary bytes. Never a panic,
//! hang or unbounded allocation, and what parses is a fixed point of writing it back:
//! `Descriptor::parse(d.to_xml()) == d` (values are trimmed and unescaped once, `to_xml` escapes
//! them again). A valid descriptor also goes through the device's checks and its hashes.
//! The same bytes are read as an install-notify status line (`DlStatus::parse_status_line`).

#![no_main]

use dmsim::protocol::download::{Descriptor, DeviceLimits, DlStatus};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = DlStatus::parse_status_line(data);
    let descriptor = match Descriptor::parse(data) {
        Ok(d) => d,
        Err(e) => {
            let _ = (e.to_string(), e.dl_status());
            return;
        }
    };
    let written = descriptor.to_xml();
    assert_eq!(
        Descriptor::parse(written.as_bytes()).as_ref(),
        Ok(&descriptor),
        "written back as {written}"
    );
    let limits = DeviceLimits {
        free_storage: 1 << 20,
        accepted_types: vec!["application/*".into(), "text/plain".into()],
    };
    let _ = descriptor.check(&limits);
    for t in &descriptor.types {
        assert!(descriptor.has_type(t));
    }
    for hash in descriptor.expected_hashes() {
        let _ = hash.matches(data);
    }
});
