//! `dmsim certs`: generate a test PKI (CA, server and device certificates, an unrelated CA) as PEM
//! files for HTTPS runs of `dmsim serve` and `dmsim device`; and the built-in test PKI that those
//! commands use by default (the repository's `certs/`, compiled in, so it works from any directory).

use anyhow::Context;
use dmsim::net::certs;
use dmsim::net::{tls, Identity};
use std::path::PathBuf;
use std::process::ExitCode;

/// An identity (certificate and key) of the built-in test PKI, e.g. `server.pem` and `server.key`.
pub fn builtin_identity(cert: &str, key: &str) -> anyhow::Result<Identity> {
    let pki = certs::builtin();
    let pem = |name: &str| {
        pki.file(name)
            .map(str::as_bytes)
            .with_context(|| format!("the built-in test PKI has no {name}"))
    };
    Ok(Identity::from_pem(
        (pem(cert)?, &certs::builtin_path(cert)),
        (pem(key)?, &certs::builtin_path(key)),
    )?)
}

/// The CA certificates of a file of the built-in test PKI, e.g. `ca.pem`.
pub fn builtin_roots(name: &str) -> anyhow::Result<rustls::RootCertStore> {
    let pki = certs::builtin();
    let pem = pki
        .file(name)
        .with_context(|| format!("the built-in test PKI has no {name}"))?;
    Ok(tls::roots_from_pem(
        pem.as_bytes(),
        &certs::builtin_path(name),
    )?)
}

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
