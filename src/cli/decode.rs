//! `dmsim decode`: a captured SyncML message printed as normalized XML, or as JSON.

use anyhow::Context;
use dmsim::syncml::xml;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The captured message (SyncML DM XML).
    file: PathBuf,
    /// Print the decoded message as JSON instead of XML.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> ExitCode {
    match decode(&args) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("dmsim: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn decode(args: &Args) -> anyhow::Result<String> {
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let msg = xml::decode(&bytes).with_context(|| format!("{}", args.file.display()))?;
    if args.json {
        let mut text = serde_json::to_string_pretty(&msg).context("cannot write JSON")?;
        text.push('\n');
        Ok(text)
    } else {
        Ok(xml::encode_pretty(&msg))
    }
}
