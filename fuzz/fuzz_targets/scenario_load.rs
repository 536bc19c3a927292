//! Fuzz target: scenario files (`dmsim::scenario::load::parse`) on arbitrary text. Never a panic,
//! hang or unbounded allocation; an error names a line and column inside the text. What loads also
//! gives the mock server's configuration (`server_config`, pure and cheap); the device and the
//! hosted files are not built, as that is running the scenario.

#![no_main]

use dmsim::scenario::load::{parse, LoadError};
use dmsim::scenario::server_config;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match parse(Path::new("fuzz.toml"), &text) {
        Ok(loaded) => {
            let _ = server_config(&loaded.file);
        }
        Err(e) => {
            if let LoadError::Invalid { line, column, .. } = &e {
                let lines = text.split('\n').count();
                assert!(*line >= 1 && *line <= lines, "line {line} of {lines}: {e}");
                assert!(*column >= 1, "{e}");
            }
            let _ = e.to_string();
        }
    }
});
