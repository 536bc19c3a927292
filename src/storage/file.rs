//! [`FileStore`]: one file per device in a directory, replaced atomically.
//!
//! A save writes `.<name>.<n>.tmp` in the same directory, fsyncs it, renames it over `<name>`, and
//! fsyncs the directory so the rename itself is durable. A crash before the rename leaves the old
//! file untouched (and a stray temp file that loads never read); a crash after it leaves the new
//! one. File names come from device ids by escaping: letters, digits and `-` stay, every other byte
//! becomes `_xx` (its hex), so two ids never share a file, no id can climb out of the directory,
//! and no state file starts with `.` like the temp files do.

use super::{StateStore, StoreError};
use sha2::{Digest, Sha256};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Longest escaped id used as it is; longer ones are cut and suffixed with their SHA-256.
const MAX_NAME: usize = 160;

/// Device states as files under a directory (`--state-dir`).
#[derive(Debug)]
pub struct FileStore {
    dir: PathBuf,
    temp_counter: AtomicU64,
}

impl FileStore {
    /// A store in `dir`, created if missing.
    pub fn new(dir: impl Into<PathBuf>) -> Result<FileStore, StoreError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(|e| StoreError::Write {
            path: dir.clone(),
            reason: e.to_string(),
        })?;
        Ok(FileStore {
            dir,
            temp_counter: AtomicU64::new(0),
        })
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file that holds `device`'s state.
    pub fn path_of(&self, device: &str) -> PathBuf {
        self.dir.join(file_name(device))
    }

    /// First half of a save: the new state, durable in a temp file beside the state file. Until
    /// [`FileStore::commit`] renames it, loads still read the old state.
    pub fn write_temp(&self, device: &str, bytes: &[u8]) -> Result<PathBuf, StoreError> {
        let n = self.temp_counter.fetch_add(1, Ordering::Relaxed);
        let temp = self.dir.join(format!(
            ".{}.{}-{n}.tmp",
            file_name(device),
            std::process::id()
        ));
        let write_error = |e: std::io::Error| StoreError::Write {
            path: temp.clone(),
            reason: e.to_string(),
        };
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
            .map_err(write_error)?;
        let written = file.write_all(bytes).and_then(|()| file.sync_all());
        if let Err(e) = written {
            let _ = std::fs::remove_file(&temp);
            return Err(write_error(e));
        }
        Ok(temp)
    }

    /// Second half of a save: rename the temp file over `device`'s state file and make the rename
    /// durable.
    pub fn commit(&self, device: &str, temp: &Path) -> Result<(), StoreError> {
        let path = self.path_of(device);
        std::fs::rename(temp, &path).map_err(|e| {
            let _ = std::fs::remove_file(temp);
            StoreError::Write {
                path: path.clone(),
                reason: e.to_string(),
            }
        })?;
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| StoreError::Write {
                path: self.dir.clone(),
                reason: format!("cannot sync the directory: {e}"),
            })
    }
}

impl StateStore for FileStore {
    fn load(&self, device: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let path = self.path_of(device);
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StoreError::Read {
                path,
                reason: e.to_string(),
            }),
        }
    }

    fn save(&self, device: &str, bytes: &[u8]) -> Result<(), StoreError> {
        let temp = self.write_temp(device, bytes)?;
        self.commit(device, &temp)
    }

    fn location(&self, device: &str) -> String {
        self.path_of(device).display().to_string()
    }
}

/// The file name of a device id: see the module docs.
pub fn file_name(device: &str) -> String {
    let mut name = String::with_capacity(device.len() + 5);
    for b in device.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' {
            name.push(char::from(b));
        } else {
            name.push_str(&format!("_{b:02x}"));
        }
    }
    if name.is_empty() {
        // `_` alone is never an escape, so the empty id has a name of its own.
        name.push('_');
    }
    if name.len() > MAX_NAME {
        // Escapes are ASCII, so any byte index is a char boundary.
        let digest = crate::package::to_hex(&Sha256::digest(device.as_bytes()));
        name = format!("{}_{digest}", &name[..MAX_NAME - 65]);
    }
    name.push_str(".json");
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_escaped_injectively() {
        assert_eq!(file_name("dev-01"), "dev-01.json");
        assert_eq!(file_name("IMEI:35693"), "IMEI_3a35693.json");
        assert_eq!(file_name("a_b"), "a_5fb.json");
        assert_eq!(file_name("../x"), "_2e_2e_2fx.json");
        assert_eq!(file_name(""), "_.json");
        assert_ne!(file_name("a:b"), file_name("a_3ab"));
        let long = "x".repeat(1000);
        let name = file_name(&long);
        assert!(name.len() <= MAX_NAME + 5, "{}", name.len());
        assert_ne!(name, file_name(&"x".repeat(1001)));
        assert!(!name.starts_with('.'));
    }

    #[test]
    fn a_temp_file_that_was_never_renamed_leaves_the_old_state() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = FileStore::new(dir.path()).expect("store");
        store.save("dev", b"old").expect("saved");
        // The crash: the new state is durable in its temp file, the rename never happened.
        let temp = store.write_temp("dev", b"new").expect("temp written");
        assert!(temp.exists());
        assert_eq!(store.load("dev"), Ok(Some(b"old".to_vec())));
        // After the reboot the next save replaces the state; the stray temp file is harmless.
        store.save("dev", b"newer").expect("saved");
        assert_eq!(store.load("dev"), Ok(Some(b"newer".to_vec())));
        // Committing the leftover temp file is the other crash window: all of the new state.
        store.commit("dev", &temp).expect("renamed");
        assert_eq!(store.load("dev"), Ok(Some(b"new".to_vec())));
    }
}
