//! TLS settings from PEM files: trusted CAs, certificate + key identities, and the shared rustls
//! client and server configurations built from them.
//!
//! Every configuration uses rustls with the *ring* crypto provider explicitly (nothing depends on a
//! process-wide default provider), and is returned in an [`Arc`] so that one configuration serves
//! every connection and every simulated device. Errors name the file and what was wrong with it.

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A PEM file or a TLS configuration that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlsError {
    #[error("{}: cannot read: {reason}", path.display())]
    Read { path: PathBuf, reason: String },
    #[error("{}: not valid PEM: {reason}", path.display())]
    Pem { path: PathBuf, reason: String },
    #[error("{}: no certificate found", path.display())]
    NoCertificate { path: PathBuf },
    #[error("{}: not a PKCS#8/RSA/EC private key", path.display())]
    NoPrivateKey { path: PathBuf },
    #[error("{}: certificate rejected as a trust anchor: {reason}", path.display())]
    BadCaCertificate { path: PathBuf, reason: String },
    #[error("{} with {}: {reason}", cert.display(), key.display())]
    Identity {
        cert: PathBuf,
        key: PathBuf,
        reason: String,
    },
    #[error("TLS configuration rejected: {0}")]
    Config(String),
}

/// The crypto provider of every configuration built here.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// ALPN protocols offered and accepted: SyncML DM goes over HTTP/1.1.
fn alpn() -> Vec<Vec<u8>> {
    vec![b"http/1.1".to_vec()]
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|e| TlsError::Read {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

fn pem_error(path: &Path, e: pem::Error) -> TlsError {
    match e {
        pem::Error::NoItemsFound => TlsError::NoCertificate {
            path: path.to_path_buf(),
        },
        other => TlsError::Pem {
            path: path.to_path_buf(),
            reason: other.to_string(),
        },
    }
}

/// Every certificate of a PEM file, in order (at least one).
pub fn load_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    certificates_from_pem(&read(path)?, path)
}

/// Every certificate of PEM text, in order (at least one); errors name `path`, where it came from.
pub fn certificates_from_pem(
    bytes: &[u8],
    path: &Path,
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(path, e))?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate {
            path: path.to_path_buf(),
        });
    }
    Ok(certs)
}

/// The private key of a PEM file: PKCS#8, PKCS#1 (RSA) or SEC1 (EC).
pub fn load_private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    private_key_from_pem(&read(path)?, path)
}

/// The private key of PEM text; errors name `path`, where it came from.
pub fn private_key_from_pem(bytes: &[u8], path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_slice(bytes).map_err(|e| match e {
        pem::Error::NoItemsFound => TlsError::NoPrivateKey {
            path: path.to_path_buf(),
        },
        other => TlsError::Pem {
            path: path.to_path_buf(),
            reason: other.to_string(),
        },
    })
}

/// The CA certificates of a PEM bundle as trust anchors.
pub fn load_roots(path: &Path) -> Result<RootCertStore, TlsError> {
    roots_from_pem(&read(path)?, path)
}

/// The CA certificates of PEM text as trust anchors; errors name `path`, where it came from.
pub fn roots_from_pem(bytes: &[u8], path: &Path) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    for cert in certificates_from_pem(bytes, path)? {
        roots.add(cert).map_err(|e| TlsError::BadCaCertificate {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    }
    Ok(roots)
}

/// A certificate chain and its private key, with the files they came from.
#[derive(Debug)]
pub struct Identity {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    cert_path: PathBuf,
    key_path: PathBuf,
}

impl Clone for Identity {
    fn clone(&self) -> Identity {
        Identity {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
            cert_path: self.cert_path.clone(),
            key_path: self.key_path.clone(),
        }
    }
}

impl Identity {
    /// Read a certificate chain (leaf first) and its private key from PEM files.
    pub fn load(cert: &Path, key: &Path) -> Result<Identity, TlsError> {
        Identity::from_pem((&read(cert)?, cert), (&read(key)?, key))
    }

    /// A certificate chain (leaf first) and its private key from PEM text, each with the path it
    /// came from (for errors).
    pub fn from_pem(cert: (&[u8], &Path), key: (&[u8], &Path)) -> Result<Identity, TlsError> {
        Ok(Identity {
            chain: certificates_from_pem(cert.0, cert.1)?,
            key: private_key_from_pem(key.0, key.1)?,
            cert_path: cert.1.to_path_buf(),
            key_path: key.1.to_path_buf(),
        })
    }

    /// The certificate chain, leaf first.
    pub fn chain(&self) -> &[CertificateDer<'static>] {
        &self.chain
    }

    fn rejected(&self, e: rustls::Error) -> TlsError {
        TlsError::Identity {
            cert: self.cert_path.clone(),
            key: self.key_path.clone(),
            reason: e.to_string(),
        }
    }
}

/// Whether and how the server asks devices for a client certificate.
#[derive(Debug, Clone, Default)]
pub enum ClientAuth {
    /// No client certificate is asked for.
    #[default]
    None,
    /// A client certificate is asked for and, when sent, must chain to these CAs.
    Optional(RootCertStore),
    /// Every client must present a certificate chaining to these CAs.
    Required(RootCertStore),
}

/// The client configuration every device shares: trust `roots` only (no system roots), and present
/// `identity` when a server asks for a client certificate.
pub fn client_config(
    roots: RootCertStore,
    identity: Option<Identity>,
) -> Result<Arc<ClientConfig>, TlsError> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_root_certificates(roots);
    let mut config = match identity {
        Some(id) => {
            let chain = id.chain.clone();
            let key = id.key.clone_key();
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| id.rejected(e))?
        }
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = alpn();
    Ok(Arc::new(config))
}

/// The server configuration every connection shares: `identity` as the server certificate, and
/// client certificates checked as `client_auth` says.
pub fn server_config(
    identity: Identity,
    client_auth: ClientAuth,
) -> Result<Arc<ServerConfig>, TlsError> {
    let provider = provider();
    let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?;
    let verifier = |roots: RootCertStore, optional: bool| {
        let b = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider));
        let b = if optional {
            b.allow_unauthenticated()
        } else {
            b
        };
        b.build()
            .map_err(|e| TlsError::Config(format!("client certificate verifier: {e}")))
    };
    let builder = match client_auth {
        ClientAuth::None => builder.with_no_client_auth(),
        ClientAuth::Optional(roots) => builder.with_client_cert_verifier(verifier(roots, true)?),
        ClientAuth::Required(roots) => builder.with_client_cert_verifier(verifier(roots, false)?),
    };
    let chain = identity.chain.clone();
    let key = identity.key.clone_key();
    let mut config = builder
        .with_single_cert(chain, key)
        .map_err(|e| identity.rejected(e))?;
    config.alpn_protocols = alpn();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_file(name: &str, contents: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("dmsim-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join(name);
        std::fs::write(&path, contents).expect("temp file");
        path
    }

    #[test]
    fn errors_name_the_file_and_the_problem() {
        let missing = Path::new("no/such/ca.pem");
        let e = load_roots(missing).expect_err("missing file").to_string();
        assert!(e.starts_with("no/such/ca.pem: cannot read"), "{e}");

        let empty = temp_file("empty.pem", "just text\n");
        let e = load_roots(&empty).expect_err("no certificate").to_string();
        assert!(e.ends_with("empty.pem: no certificate found"), "{e}");
        let e = load_private_key(&empty).expect_err("no key").to_string();
        assert!(
            e.ends_with("empty.pem: not a PKCS#8/RSA/EC private key"),
            "{e}"
        );

        let broken = temp_file(
            "broken.pem",
            "-----BEGIN CERTIFICATE-----\n@@@@\n-----END CERTIFICATE-----\n",
        );
        let e = load_certificates(&broken)
            .expect_err("bad base64")
            .to_string();
        assert!(e.contains("broken.pem: not valid PEM"), "{e}");
    }

    #[test]
    fn committed_certificates_build_both_configs() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("certs");
        let roots = load_roots(&dir.join("ca.pem")).expect("ca");
        let client = Identity::load(&dir.join("client.pem"), &dir.join("client.key"))
            .expect("client identity");
        client_config(roots.clone(), Some(client)).expect("client config");
        let server = Identity::load(&dir.join("server.pem"), &dir.join("server.key"))
            .expect("server identity");
        server_config(server, ClientAuth::Required(roots)).expect("server config");
    }

    #[test]
    fn a_key_that_does_not_match_its_certificate_is_refused() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("certs");
        let mixed =
            Identity::load(&dir.join("server.pem"), &dir.join("client.key")).expect("files read");
        let e = server_config(mixed, ClientAuth::None)
            .expect_err("mismatch")
            .to_string();
        assert!(
            e.contains("server.pem with") && e.contains("client.key"),
            "{e}"
        );
    }
}
