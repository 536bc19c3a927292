//! Why a scenario cannot be run as written: [`BuildError`] when the device, the mock server or what
//! it hosts cannot be built from the file, [`RunError`] when running it fails for another reason
//! (the state directory, the device's durable state or its job, the loopback network). A scenario
//! that meets either gets the verdict `error`, with the message as its failure.
//!
//! Messages name the part of the scenario file at fault (`device.node "./X": …`) and say the whole
//! story, the wrapped error's text included, so no variant also hands that error out as its
//! `source()` (a printer of error chains would say it twice).

use super::updates::{ContentFaultKindSpec, MAX_PACKAGE_SIZE};
use crate::jobs::JobError;
use crate::net::{NetError, TlsError};
use crate::package::SpecError;
use crate::server::UnhostedDataFile;
use crate::storage::StoreError;
use crate::tree::TreeError;
use std::path::PathBuf;

/// Something the scenario describes cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// A `[[server.snom_release]]` that cannot be built.
    #[error("server.snom_release[{index}]: {reason}")]
    SnomRelease { index: usize, reason: String },
    #[error("device.node {uri:?}: unknown format {format:?}")]
    NodeFormat { uri: String, format: String },
    #[error(
        "device.node {uri:?}: unknown access {access:?} (Add, Copy, Delete, Exec, Get, Replace)"
    )]
    NodeAccess { uri: String, access: String },
    /// The tree refused the node (an invalid URI, no parent, a limit).
    #[error("device.node {uri:?}: {error}")]
    Node { uri: String, error: TreeError },
    #[error("device.profile {0:?} is not a known profile (known: oma, dmsim, knox-efota)")]
    UnknownProfile(String),
    #[error("device.resources.battery is {0}%, more than 100")]
    Battery(u8),
    #[error("device.resources.unlock_after_session = {0}: it needs locked = true, and sessions count from 1")]
    UnlockAfterSession(u32),
    /// The FUMO object cannot be mounted at its root.
    #[error("device.fumo.root {root:?}: {error}")]
    FumoRoot { root: String, error: TreeError },
    /// The SCOMO object cannot be mounted at its root.
    #[error("device.scomo.root {root:?}: {error}")]
    ScomoRoot { root: String, error: TreeError },
    #[error("the Knox E-FOTA client's subtree cannot be mounted at {root:?}: {error}")]
    EfotaRoot { root: String, error: TreeError },
    #[error(
        "server.file {path:?}: give exactly one of package, delivery, license, descriptor, text"
    )]
    FileKind { path: String },
    #[error(
        "server.file {path:?}: a {size}-byte package is larger than the {max} bytes a scenario may build",
        max = MAX_PACKAGE_SIZE
    )]
    PackageTooLarge { path: String, size: u64 },
    /// The package's model or versions cannot go in a package.
    #[error("server.file {path:?}: {error}")]
    Package { path: String, error: SpecError },
    #[error("server.file {path:?}: the descriptor's object {object:?} is not hosted here; give its size and type")]
    DescriptorObject { path: String, object: String },
    #[error("server.file {path:?}: cannot omit {field:?} (type, size, objectURI)")]
    DescriptorOmit { path: String, field: String },
    #[error("server.content_fault {path:?}: {kind:?} needs a value ({needs})")]
    FaultValue {
        path: String,
        kind: ContentFaultKindSpec,
        /// What the value is, e.g. "the HTTP status".
        needs: &'static str,
    },
    #[error("server.content_fault {path:?}: status {status} is not an HTTP status")]
    FaultStatus { path: String, status: u64 },
    #[error(
        "server.content_fault {path:?}: updated needs the request after which the file changes (1 or more, value = {value} given) on every request (attempts = \"every\")"
    )]
    FaultUpdated { path: String, value: u64 },
    /// The scenario's `[portal]` does not set up a portal.
    #[error("[portal]: {0}")]
    Portal(String),
    /// A script command's `data_file` is not hosted.
    #[error("server.package: {0}")]
    DataFile(UnhostedDataFile),
}

/// A scenario could not be run to its end.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Build(#[from] BuildError),
    /// A `snom-m3` device without `[device.snom]`.
    #[error(
        "device.snom: a snom-m3 device needs its settings (at least the version to update to)"
    )]
    SnomSpecMissing,
    /// The device's profile is not built in.
    #[error("device.profile {0:?}: not a built-in profile")]
    SnomProfile(String),
    /// The base could not power up.
    #[error("the Snom m3 base: {0}")]
    SnomBase(String),
    /// The previous run's state could not be removed from `--state-dir`.
    #[error("{}: cannot clear the old state: {error}", dir.display())]
    ClearState { dir: PathBuf, error: std::io::Error },
    /// The scenario's state directory cannot be used.
    #[error(transparent)]
    StateDir(StoreError),
    /// The device's durable state could not be written or read back.
    #[error("device {device}: {error}")]
    DeviceState { device: String, error: StoreError },
    #[error("device {device}: {error}")]
    Job { device: String, error: JobError },
    /// A file of the test PKI could not be read.
    #[error("{}: cannot read: {error}", path.display())]
    ReadPem {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("the built-in test PKI has no {0}")]
    NoBuiltinPem(String),
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// A `[[portal.call]]` could not be made as written.
    #[error("portal.call[{index}]: {reason}")]
    PortalCall { index: usize, reason: String },
    /// The loopback server or the device's HTTP clients could not be set up.
    #[error(transparent)]
    Net(#[from] NetError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_part_of_the_file_at_fault() {
        let e = BuildError::NodeAccess {
            uri: "./X".into(),
            access: "Run".into(),
        };
        assert_eq!(
            e.to_string(),
            "device.node \"./X\": unknown access \"Run\" (Add, Copy, Delete, Exec, Get, Replace)"
        );
        let e = RunError::from(BuildError::PackageTooLarge {
            path: "/fw.pkg".into(),
            size: 1 << 30,
        });
        assert_eq!(
            e.to_string(),
            format!("server.file \"/fw.pkg\": a 1073741824-byte package is larger than the {MAX_PACKAGE_SIZE} bytes a scenario may build")
        );
        let e = BuildError::FaultValue {
            path: "/fw.pkg".into(),
            kind: ContentFaultKindSpec::CutAt,
            needs: "the byte",
        };
        assert_eq!(
            e.to_string(),
            "server.content_fault \"/fw.pkg\": CutAt needs a value (the byte)"
        );
        let e = BuildError::DataFile(UnhostedDataFile("/big.bin".into()));
        assert_eq!(
            e.to_string(),
            "server.package: data_file \"/big.bin\" is not a file the server hosts"
        );
        assert!(std::error::Error::source(&e).is_none());
    }
}
