//! Component files, on a device that verifies and rolls back
//! ([`ScomoConfig::verify_and_rollback`](super::ScomoConfig::verify_and_rollback)).
//!
//! Such a device keeps, in durable storage (the agent's blob, ahead of the delivered packages):
//!
//! * the **installed file** of every deployed component: the payload bytes the install wrote,
//!   with the version and the SHA-256 they were written with. The post-update verification reads
//!   it back and compares it with the delivery package's declared payload hash, length and version
//!   ([`Scomo::check_installed`]).
//! * while a job runs, the **source version file** of every component the job replaces: the
//!   previous version's installed file, set aside when the new version is written and dropped when
//!   the job ends ([`Scomo::drop_sources`], in the save that queues the report). A rollback checks it
//!   before use (there, and its bytes still hash to what was kept: [`Scomo::check_source`]), then
//!   makes it the installed file again.
//!
//! Each file is one [`ComponentFile`] record in [`ScomoDurable::files`](super::ScomoDurable::files)
//! and its bytes in the blob, in the records' order; the state and the blob are saved together, so
//! a power cut leaves both as one save left them.

use super::agent::Scomo;
use crate::package::ComponentHeader;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::ops::Range;

/// What a kept file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileKind {
    /// The bytes a deployed component runs from.
    Installed,
    /// The file of the version a job replaced, kept for a rollback until the job ends.
    Source,
}

/// One kept file: whose, which version, and what its bytes were when it was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentFile {
    pub kind: FileKind,
    /// The component's id.
    pub component: String,
    pub version: String,
    /// Its bytes in the blob.
    pub len: u64,
    /// The SHA-256 of its bytes when they were written.
    #[serde(with = "crate::package::hex32")]
    pub hash: [u8; 32],
}

/// Why a component's installed file does not match its package (the post-update verification).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Mismatch {
    #[error("component {0:?} is not deployed")]
    NotDeployed(String),
    #[error("component {0:?} has no installed file")]
    NoFile(String),
    #[error("component {component:?} is installed at version {found:?}, not {expected:?}")]
    Version {
        component: String,
        expected: String,
        found: String,
    },
    #[error("component {component:?}: {found} installed bytes, the package declares {expected}")]
    Length {
        component: String,
        expected: u64,
        found: u64,
    },
    #[error("component {0:?}: the installed bytes do not hash to the package's payload hash")]
    Hash(String),
}

/// Why a source version file cannot be used for a rollback.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceProblem {
    #[error("the source version file of component {0:?} is missing")]
    Missing(String),
    #[error("the source version file of component {0:?} does not read back as it was kept")]
    Unreadable(String),
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

impl Scomo {
    /// The bytes of every component file (the first part of the blob).
    pub(super) fn files_len(&self) -> usize {
        self.durable
            .files
            .iter()
            .map(|f| usize::try_from(f.len).unwrap_or(usize::MAX))
            .fold(0usize, usize::saturating_add)
    }

    /// Where the bytes of the file at `index` are in the blob (from saved lengths: checked, and a
    /// range that cannot be is empty).
    fn file_range(&self, index: usize) -> Range<usize> {
        let len = |f: &ComponentFile| usize::try_from(f.len).ok();
        let files = &self.durable.files;
        let start = files[..index.min(files.len())]
            .iter()
            .try_fold(0usize, |sum, f| sum.checked_add(len(f)?));
        let end = start.and_then(|s| s.checked_add(files.get(index).map_or(Some(0), len)?));
        match (start, end) {
            (Some(s), Some(e)) if e <= self.bytes.len() => s..e,
            _ => 0..0,
        }
    }

    /// The index of component `component`'s file of `kind`.
    pub fn file_index(&self, kind: FileKind, component: &str) -> Option<usize> {
        self.durable
            .files
            .iter()
            .position(|f| f.kind == kind && f.component == component)
    }

    /// The bytes of the file at `index`.
    pub fn file_bytes(&self, index: usize) -> &[u8] {
        &self.bytes[self.file_range(index)]
    }

    /// Forget the file at `index`, record and bytes.
    pub(super) fn remove_file(&mut self, index: usize) {
        if index >= self.durable.files.len() {
            return;
        }
        let range = self.file_range(index);
        self.bytes.drain(range);
        self.durable.files.remove(index);
        self.bytes_dirty = true;
    }

    /// Write `bytes` as the installed file of `component` at `version` (replacing the one it has).
    pub(super) fn write_installed(&mut self, component: &str, version: &str, bytes: &[u8]) {
        if let Some(index) = self.file_index(FileKind::Installed, component) {
            self.remove_file(index);
        }
        let at = self.files_len().min(self.bytes.len());
        self.bytes.splice(at..at, bytes.iter().copied());
        self.durable.files.push(ComponentFile {
            kind: FileKind::Installed,
            component: component.to_string(),
            version: version.to_string(),
            len: bytes.len() as u64,
            hash: sha256(bytes),
        });
        self.bytes_dirty = true;
    }

    /// Set `component`'s installed file aside as its source version file (before the new version
    /// is written over it); whether it had one.
    pub(super) fn keep_source(&mut self, component: &str) -> bool {
        if let Some(stale) = self.file_index(FileKind::Source, component) {
            self.remove_file(stale);
        }
        match self.file_index(FileKind::Installed, component) {
            Some(index) => {
                self.durable.files[index].kind = FileKind::Source;
                true
            }
            None => false,
        }
    }

    /// `component`'s source version file, if it is there and its bytes still hash to what was kept.
    pub(super) fn check_source(&self, component: &str) -> Result<usize, SourceProblem> {
        let index = self
            .file_index(FileKind::Source, component)
            .ok_or_else(|| SourceProblem::Missing(component.to_string()))?;
        let file = &self.durable.files[index];
        let bytes = self.file_bytes(index);
        if bytes.len() as u64 != file.len || sha256(bytes) != file.hash {
            return Err(SourceProblem::Unreadable(component.to_string()));
        }
        Ok(index)
    }

    /// Make the source version file at `index` (checked) its component's installed file again.
    pub(super) fn restore_source(&mut self, index: usize) {
        let Some(component) = self.durable.files.get(index).map(|f| f.component.clone()) else {
            return;
        };
        let mut index = index;
        if let Some(installed) = self.file_index(FileKind::Installed, &component) {
            self.remove_file(installed);
            if installed < index {
                index -= 1;
            }
        }
        self.durable.files[index].kind = FileKind::Installed;
    }

    /// Drop every source version file (the job ends).
    pub(super) fn drop_sources(&mut self) {
        while let Some(index) = self
            .durable
            .files
            .iter()
            .position(|f| f.kind == FileKind::Source)
        {
            self.remove_file(index);
        }
    }

    /// Flip one byte of the file at `index` (storage that keeps other bytes than were written: the
    /// `verify.fail` and `file.corrupt` faults).
    pub(super) fn damage_file(&mut self, index: usize) {
        let range = self.file_range(index);
        if range.is_empty() {
            return;
        }
        let at = range.start + range.len() / 2;
        self.bytes[at] ^= 0xFF;
        self.bytes_dirty = true;
    }

    /// The post-update verification of one component: its deployed version and its installed
    /// file read back, against the package's header entry.
    pub fn check_installed(&self, header: &ComponentHeader) -> Result<(), Mismatch> {
        let component = || header.id.clone();
        let deployed = self
            .durable
            .deployed
            .iter()
            .find(|c| c.id == header.id)
            .ok_or_else(|| Mismatch::NotDeployed(component()))?;
        let index = self
            .file_index(FileKind::Installed, &header.id)
            .ok_or_else(|| Mismatch::NoFile(component()))?;
        let file = &self.durable.files[index];
        for found in [deployed.version.as_str(), file.version.as_str()] {
            if found != header.version {
                return Err(Mismatch::Version {
                    component: component(),
                    expected: header.version.clone(),
                    found: found.to_string(),
                });
            }
        }
        let bytes = self.file_bytes(index);
        if bytes.len() as u64 != header.payload_len {
            return Err(Mismatch::Length {
                component: component(),
                expected: header.payload_len,
                found: bytes.len() as u64,
            });
        }
        if sha256(bytes) != header.payload_hash {
            return Err(Mismatch::Hash(component()));
        }
        Ok(())
    }
}
