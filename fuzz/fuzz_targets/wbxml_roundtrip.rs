//! Fuzz target: what the WBXML decoder accepts, the codecs carry unchanged. For every input that
//! `wbxml::decode` reads as a message `m`:
//! - `wbxml::decode(wbxml::encode(m)) == m`;
//! - `xml::decode(xml::encode(m))` is `m` with every opaque Data as its base64 text (XML has no
//!   opaque data: the encoder writes it as base64, and the decoder gives it back as text).
//!
//! Not `encode(decode(bytes)) == bytes`: the decoder takes what real implementations write (string
//! tables, other public ids, LITERAL tags, PIs, ENTITY), the encoder writes one canonical form.

#![no_main]

use dmsim::syncml::{wbxml, xml};
use dmsim_fuzz::opaque_as_base64;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(msg) = wbxml::decode(data) else {
        return;
    };
    let binary = wbxml::encode(&msg);
    assert_eq!(
        wbxml::decode(&binary).as_ref(),
        Ok(&msg),
        "WBXML: {binary:02x?}"
    );
    let text = xml::encode(&msg);
    assert_eq!(
        xml::decode(&text),
        Ok(opaque_as_base64(msg)),
        "XML: {}",
        String::from_utf8_lossy(&text)
    );
});
