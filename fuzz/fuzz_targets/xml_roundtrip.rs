//! Fuzz target: what the XML decoder accepts, the codecs carry unchanged. For every input that
//! `xml::decode` reads as a message `m`:
//! - `xml::decode(xml::encode(m)) == m` and `xml::decode(xml::encode_pretty(m)) == m`;
//! - `wbxml::decode(wbxml::encode(m)) == m` (a message read from XML has text Data only, which WBXML
//!   carries as it is).
//!
//! Not `encode(decode(bytes)) == bytes`: the decoder is lenient (namespace prefixes, child order,
//! whitespace between elements, comments, CDATA), so the first decode normalises; after it the
//! message is a fixed point of every encode → decode.

#![no_main]

use dmsim::syncml::{wbxml, xml};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(msg) = xml::decode(data) else {
        return;
    };
    let compact = xml::encode(&msg);
    assert_eq!(
        xml::decode(&compact).as_ref(),
        Ok(&msg),
        "XML: {}",
        String::from_utf8_lossy(&compact)
    );
    let pretty = xml::encode_pretty(&msg);
    assert_eq!(
        xml::decode(pretty.as_bytes()).as_ref(),
        Ok(&msg),
        "pretty XML: {pretty}"
    );
    let binary = wbxml::encode(&msg);
    assert_eq!(
        wbxml::decode(&binary).as_ref(),
        Ok(&msg),
        "WBXML: {binary:02x?}"
    );
});
