//! `dmsim decode` and `dmsim encode`: captured SyncML between its encodings.
//!
//! `decode` reads XML or WBXML (recognised by the first byte) and prints normalized XML, or JSON;
//! `encode` turns an XML message into WBXML (or normalized XML). `-` is standard input (the message)
//! and standard output (`encode -o -`). A malformed message is exit 2 with one line naming the file
//! and the position of the problem: `FILE:LINE:COLUMN: …` for XML, `FILE: byte N: …` for WBXML.

use anyhow::Context;
use dmsim::syncml::{self, xml, CodecError, Encoding, SyncMl};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The name of standard input and output on the command line.
const STDIO: &str = "-";

#[derive(clap::Args)]
pub struct Args {
    /// The captured message (XML or WBXML); `-` reads standard input.
    file: PathBuf,
    /// Print the decoded message as JSON instead of XML (the schema is in the README).
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct EncodeArgs {
    /// The message, in XML (or WBXML); `-` reads standard input.
    file: PathBuf,
    /// Write WBXML (the default is normalized XML).
    #[arg(long)]
    wbxml: bool,
    /// Where to write it; `-` writes standard output.
    #[arg(long, short, value_name = "FILE")]
    out: PathBuf,
}

pub fn run(args: Args) -> ExitCode {
    exit(decode(&args).and_then(|text| write_stdout(text.as_bytes())))
}

pub fn encode(args: EncodeArgs) -> ExitCode {
    let written = read(&args.file).and_then(|msg| {
        let encoding = if args.wbxml {
            Encoding::Wbxml
        } else {
            Encoding::Xml
        };
        let bytes = encoding.encode(&msg);
        if is_stdio(&args.out) {
            write_stdout(&bytes)
        } else {
            std::fs::write(&args.out, bytes)
                .with_context(|| format!("cannot write {}", args.out.display()))
        }
    });
    exit(written)
}

fn exit(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dmsim: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn is_stdio(path: &Path) -> bool {
    path.as_os_str() == STDIO
}

fn write_stdout(bytes: &[u8]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .context("cannot write standard output")
}

/// The message in `path` (or standard input), decoded.
fn read(path: &Path) -> anyhow::Result<SyncMl> {
    let (name, bytes) = if is_stdio(path) {
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut bytes)
            .context("cannot read standard input")?;
        ("<stdin>".to_string(), bytes)
    } else {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        (path.display().to_string(), bytes)
    };
    let (msg, notes) = syncml::Encoding::detect(&bytes)
        .decode_with_notes(&bytes)
        .map_err(|e| anyhow::anyhow!(located(&name, &e)))?;
    // What the decoder read past (a namespace or element order other than DM 1.2's) goes to
    // standard error, one line each, so the output stays the message alone.
    for note in &notes {
        eprintln!("dmsim: {name}: note: {note}");
    }
    Ok(msg)
}

/// A decoding error as one line that starts with where it is: `name:line:column:` for XML (as
/// compilers write it, so that editors can jump there), `name: byte N:` for WBXML.
fn located(name: &str, e: &CodecError) -> String {
    let element = |path: &str| {
        if path.is_empty() {
            String::new()
        } else {
            format!(" (at {path})")
        }
    };
    match e {
        CodecError::Xml(e) => format!(
            "{name}:{}:{}: {}{}",
            e.line,
            e.column,
            e.kind,
            element(&e.path)
        ),
        CodecError::Wbxml(e) => format!(
            "{name}: byte {}: WBXML: {}{}",
            e.offset,
            e.kind,
            element(&e.path)
        ),
    }
}

fn decode(args: &Args) -> anyhow::Result<String> {
    let msg = read(&args.file)?;
    if args.json {
        let mut text = serde_json::to_string_pretty(&msg).context("cannot write JSON")?;
        text.push('\n');
        Ok(text)
    } else {
        Ok(xml::encode_pretty(&msg))
    }
}
