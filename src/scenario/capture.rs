//! Writing a run's messages out raw (`dmsim run --capture DIR`): for each scenario a directory
//! named after its file (`scenarios/auth/md5.toml` → `DIR/scenarios-auth-md5/`), and in it every
//! message of its sessions, in order, one file each: `001-device.xml`, `002-server.xml`, … The
//! extension is what the message's Content-Type says (`xml`, `wbxml`, or `bin` for a type that is
//! not SyncML, or none); the bytes are exactly those exchanged. A device message that got no answer
//! (the transport failed) has no server file after it; an HTTP error's body is written like any
//! answer. A scenario's directory is emptied first, so a capture is always one
//! run's.

use super::run::ScenarioResult;
use super::state::file_slug;
use crate::syncml::Encoding;
use std::io;
use std::path::Path;

/// The extension of a captured message with this Content-Type.
pub fn extension(content_type: &str) -> &'static str {
    match Encoding::from_content_type(content_type) {
        Some(Encoding::Xml) => "xml",
        Some(Encoding::Wbxml) => "wbxml",
        None => "bin",
    }
}

/// Write the messages of every scenario of `results` under `dir`; the number of files written.
pub fn write(dir: &Path, results: &[ScenarioResult]) -> io::Result<usize> {
    let mut written = 0;
    for result in results {
        let scenario_dir = dir.join(file_slug(Path::new(&result.file)));
        match std::fs::remove_dir_all(&scenario_dir) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(at(&scenario_dir, e)),
        }
        std::fs::create_dir_all(&scenario_dir).map_err(|e| at(&scenario_dir, e))?;
        let mut n = 0;
        let mut put = |side: &str, content_type: &str, body: &[u8]| {
            n += 1;
            let path = scenario_dir.join(format!("{n:03}-{side}.{}", extension(content_type)));
            std::fs::write(&path, body).map_err(|e| at(&path, e))
        };
        for exchange in &result.exchanges {
            put(
                "device",
                &exchange.request.content_type,
                &exchange.request.body,
            )?;
            written += 1;
            if let Ok(response) = &exchange.response {
                put("server", &response.content_type, &response.body)?;
                written += 1;
            }
        }
    }
    Ok(written)
}

/// An IO error that names the file.
fn at(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_follow_the_content_type() {
        assert_eq!(extension("application/vnd.syncml.dm+xml"), "xml");
        assert_eq!(
            extension("application/vnd.syncml.dm+wbxml; charset=x"),
            "wbxml"
        );
        assert_eq!(extension("text/plain"), "bin");
        assert_eq!(extension(""), "bin");
    }
}
