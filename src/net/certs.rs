//! A test PKI for HTTPS runs: a CA, a server certificate for the loopback names signed by it, a
//! device (client) certificate signed by it, and an unrelated CA for "wrong CA" tests.
//!
//! The certificates are valid for [`VALIDITY_YEARS`] years from the start of the current year, so
//! a generated set can be committed (`certs/`) without expiring under CI. They are for tests only:
//! the private keys are not secret. The committed set is also built into the binary
//! ([`builtin`]), so that the commands' defaults work from any directory.

use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// How long generated certificates are valid.
pub const VALIDITY_YEARS: i32 = 20;
/// The device id put in the client certificate's CN by default.
pub const DEFAULT_DEVICE_ID: &str = "IMEI:356938035643809";
/// The names the server certificate is valid for.
pub const SERVER_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// Why a test PKI could not be made or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertsError {
    #[error("cannot generate the {what}: {reason}")]
    Generate { what: &'static str, reason: String },
    #[error("{}: cannot write: {reason}", path.display())]
    Write { path: PathBuf, reason: String },
}

/// A generated test PKI, every part as PEM text.
#[derive(Clone)]
pub struct TestPki {
    /// The test CA's certificate (`ca.pem`): what devices and the server trust.
    pub ca_cert: String,
    /// The test CA's private key (`ca.key`), to sign more certificates by hand.
    pub ca_key: String,
    /// The server certificate for `localhost`, `127.0.0.1` and `::1` (`server.pem`).
    pub server_cert: String,
    pub server_key: String,
    /// The device certificate, CN = the device id, clientAuth (`client.pem`).
    pub client_cert: String,
    pub client_key: String,
    /// A CA that signed none of these (`wrong-ca.pem`).
    pub wrong_ca_cert: String,
}

impl std::fmt::Debug for TestPki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TestPki { .. }")
    }
}

fn failed(what: &'static str) -> impl Fn(rcgen::Error) -> CertsError {
    move |e| CertsError::Generate {
        what,
        reason: e.to_string(),
    }
}

/// The current year (UTC), from the system clock.
fn current_year() -> i32 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    // Whole years since 1970, counted in average Gregorian years: exact enough for a 1 January
    // start date (off by a day at most around new year, and the start is 1 January anyway).
    let year = 1970 + secs / 31_556_952;
    i32::try_from(year).unwrap_or(2026)
}

fn params(common_name: &str, year: i32) -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "dmsim test PKI");
    dn.push(DnType::CommonName, common_name);
    params.distinguished_name = dn;
    params.not_before = date_time_ymd(year, 1, 1);
    params.not_after = date_time_ymd(year + VALIDITY_YEARS, 1, 1);
    params
}

fn ca_params(common_name: &str, year: i32) -> CertificateParams {
    let mut params = params(common_name, year);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params
}

/// Generate a fresh test PKI; the client certificate's CN is `device_id`.
pub fn generate(device_id: &str) -> Result<TestPki, CertsError> {
    let year = current_year();

    let ca_key = KeyPair::generate().map_err(failed("CA key"))?;
    let ca = CertifiedIssuer::self_signed(ca_params("dmsim test CA", year), ca_key)
        .map_err(failed("CA certificate"))?;

    let server_names: Vec<String> = SERVER_NAMES.iter().map(|s| s.to_string()).collect();
    let mut server = CertificateParams::new(server_names).map_err(failed("server names"))?;
    let base = params("localhost", year);
    server.distinguished_name = base.distinguished_name;
    server.not_before = base.not_before;
    server.not_after = base.not_after;
    server.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    server.use_authority_key_identifier_extension = true;
    let server_key = KeyPair::generate().map_err(failed("server key"))?;
    let server_cert = server
        .signed_by(&server_key, &ca)
        .map_err(failed("server certificate"))?;

    let mut client = params(device_id, year);
    client.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    client.use_authority_key_identifier_extension = true;
    let client_key = KeyPair::generate().map_err(failed("client key"))?;
    let client_cert = client
        .signed_by(&client_key, &ca)
        .map_err(failed("client certificate"))?;

    let wrong_key = KeyPair::generate().map_err(failed("unrelated CA key"))?;
    let wrong_ca = ca_params("dmsim unrelated CA (trusted by nothing)", year)
        .self_signed(&wrong_key)
        .map_err(failed("unrelated CA certificate"))?;

    Ok(TestPki {
        ca_cert: ca.pem(),
        ca_key: ca.key().serialize_pem(),
        server_cert: server_cert.pem(),
        server_key: server_key.serialize_pem(),
        client_cert: client_cert.pem(),
        client_key: client_key.serialize_pem(),
        wrong_ca_cert: wrong_ca.pem(),
    })
}

/// The test PKI committed in the repository's `certs/`, built into the binary: what `dmsim serve`,
/// `dmsim device` and `dmsim run` use when no other certificate files are given.
pub fn builtin() -> TestPki {
    TestPki {
        ca_cert: include_str!("../../certs/ca.pem").to_string(),
        ca_key: include_str!("../../certs/ca.key").to_string(),
        server_cert: include_str!("../../certs/server.pem").to_string(),
        server_key: include_str!("../../certs/server.key").to_string(),
        client_cert: include_str!("../../certs/client.pem").to_string(),
        client_key: include_str!("../../certs/client.key").to_string(),
        wrong_ca_cert: include_str!("../../certs/wrong-ca.pem").to_string(),
    }
}

/// How the built-in set names a file of it in errors and messages: `<built-in>/ca.pem`.
pub fn builtin_path(name: &str) -> PathBuf {
    Path::new("<built-in test PKI>").join(name)
}

impl TestPki {
    /// The contents of one file of the set by its name (`ca.pem`, `server.key`, …).
    pub fn file(&self, name: &str) -> Option<&str> {
        self.files()
            .into_iter()
            .find(|(n, _)| *n == name)
            .map(|(_, contents)| contents)
    }

    /// The files of the set: name and contents.
    pub fn files(&self) -> [(&'static str, &str); 7] {
        [
            ("ca.pem", &self.ca_cert),
            ("ca.key", &self.ca_key),
            ("server.pem", &self.server_cert),
            ("server.key", &self.server_key),
            ("client.pem", &self.client_cert),
            ("client.key", &self.client_key),
            ("wrong-ca.pem", &self.wrong_ca_cert),
        ]
    }

    /// Write every file into `dir` (created if needed, files replaced); the paths written.
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>, CertsError> {
        std::fs::create_dir_all(dir).map_err(|e| CertsError::Write {
            path: dir.to_path_buf(),
            reason: e.to_string(),
        })?;
        let mut written = Vec::new();
        for (name, contents) in self.files() {
            let path = dir.join(name);
            std::fs::write(&path, contents).map_err(|e| CertsError::Write {
                path: path.clone(),
                reason: e.to_string(),
            })?;
            written.push(path);
        }
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::tls;

    #[test]
    fn a_generated_set_loads_and_builds_configs() {
        let pki = generate("IMEI:001").expect("generated");
        let dir = std::env::temp_dir().join(format!("dmsim-certs-{}", std::process::id()));
        let written = pki.write(&dir).expect("written");
        assert_eq!(written.len(), 7);
        let roots = tls::load_roots(&dir.join("ca.pem")).expect("ca");
        tls::load_roots(&dir.join("wrong-ca.pem")).expect("wrong ca");
        let server =
            tls::Identity::load(&dir.join("server.pem"), &dir.join("server.key")).expect("server");
        let client =
            tls::Identity::load(&dir.join("client.pem"), &dir.join("client.key")).expect("client");
        tls::server_config(server, tls::ClientAuth::Required(roots.clone())).expect("server");
        tls::client_config(roots, Some(client)).expect("client");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn the_builtin_set_is_the_committed_one_and_works() {
        let pki = builtin();
        let certs = Path::new(env!("CARGO_MANIFEST_DIR")).join("certs");
        for (name, contents) in pki.files() {
            let committed = std::fs::read_to_string(certs.join(name)).expect("committed file");
            assert_eq!(contents, committed, "{name}");
        }
        let pem = |name: &str| pki.file(name).expect(name).as_bytes();
        let roots = tls::roots_from_pem(pem("ca.pem"), &builtin_path("ca.pem")).expect("ca");
        let server = tls::Identity::from_pem(
            (pem("server.pem"), &builtin_path("server.pem")),
            (pem("server.key"), &builtin_path("server.key")),
        )
        .expect("server");
        tls::server_config(server, tls::ClientAuth::Optional(roots.clone())).expect("server");
        assert_eq!(pki.file("nope.pem"), None);
        let e = tls::roots_from_pem(b"", &builtin_path("ca.pem")).expect_err("empty");
        assert_eq!(
            e.to_string(),
            "<built-in test PKI>/ca.pem: no certificate found"
        );
    }

    #[test]
    fn the_year_is_plausible() {
        assert!(current_year() >= 2024);
    }
}
