//! `dmsim decode` and `dmsim encode`: captured SyncML between its encodings.
//!
//! `decode` reads XML or WBXML (recognised by the first byte) and prints normalized XML, or JSON;
//! `encode` turns an XML message into WBXML (or normalized XML). A malformed file is exit 2 with the
//! position of the problem.

use anyhow::Context;
use dmsim::syncml::{self, xml, Encoding, SyncMl};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The captured message (XML or WBXML).
    file: PathBuf,
    /// Print the decoded message as JSON instead of XML.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct EncodeArgs {
    /// The message, in XML (or WBXML).
    file: PathBuf,
    /// Write WBXML (the default is normalized XML).
    #[arg(long)]
    wbxml: bool,
    /// Where to write it.
    #[arg(long, short, value_name = "FILE")]
    out: PathBuf,
}

pub fn run(args: Args) -> ExitCode {
    exit(decode(&args).map(|text| print!("{text}")))
}

pub fn encode(args: EncodeArgs) -> ExitCode {
    let written = read(&args.file).and_then(|msg| {
        let encoding = if args.wbxml {
            Encoding::Wbxml
        } else {
            Encoding::Xml
        };
        std::fs::write(&args.out, encoding.encode(&msg))
            .with_context(|| format!("cannot write {}", args.out.display()))
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

fn read(path: &Path) -> anyhow::Result<SyncMl> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    syncml::decode(&bytes).with_context(|| format!("{}", path.display()))
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
