//! Fuzz target: the WBXML decoder (`dmsim::syncml::wbxml::decode`) on arbitrary bytes, and the
//! display of its errors. It must never panic, hang or allocate without bound.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = dmsim::syncml::wbxml::decode(data) {
        let _ = e.to_string();
    }
});
