//! Fuzz target: the XML decoder (`dmsim::syncml::xml::decode`) on arbitrary bytes, and the display
//! of its errors (line and column of the offending input). It must never panic, hang or allocate
//! without bound.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = dmsim::syncml::xml::decode(data) {
        let _ = e.to_string();
    }
});
