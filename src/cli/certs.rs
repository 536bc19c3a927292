//! `dmsim certs`: generate a test PKI (CA, server and device certificates, an unrelated CA) as PEM
//! files for HTTPS runs of `dmsim serve` and `dmsim device`.

use anyhow::Context;
use dmsim::net::certs;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Directory to write ca.pem, ca.key, server.pem, server.key, client.pem, client.key and
    /// wrong-ca.pem into (created if missing; existing files are replaced).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Device id in the client certificate's common name.
    #[arg(long, value_name = "ID", default_value = certs::DEFAULT_DEVICE_ID)]
    dev_id: String,
}

pub fn run(args: Args) -> ExitCode {
    match generate(&args) {
        Ok(written) => {
            for path in written {
                println!("wrote {}", path.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("dmsim: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn generate(args: &Args) -> anyhow::Result<Vec<PathBuf>> {
    let pki = certs::generate(&args.dev_id).context("cannot generate the test certificates")?;
    Ok(pki.write(&args.out)?)
}
