//! Durable device state: what a simulated device keeps across a reboot or a power loss (firmware
//! slots, an install in progress, reports not yet sent, …).
//!
//! A [`StateStore`] keeps one opaque blob per device id. [`FileStore`] writes one file per device
//! atomically (temp file, fsync, rename, fsync of the directory), so a crash at any moment leaves
//! either the previous state or the new one, never a mix. [`MemoryStore`] keeps the blobs in memory
//! for large simulated fleets, where a "power loss" is dropping the device's in-memory state and
//! reloading its last saved blob.
//!
//! The blob is JSON of a [`Persisted`] envelope: a format version and the state. [`save_state`] and
//! [`load_state`] do the encoding; a blob of another format version is refused, not guessed at.

mod file;

pub use file::FileStore;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

/// Version of the [`Persisted`] envelope and of the state formats inside it (2: a device keeps the
/// state of each of its agents under the agent's root, where 1 had one FUMO state).
pub const STATE_FORMAT: u32 = 2;

/// Where devices keep their durable state.
pub trait StateStore: Send + Sync {
    /// The last state saved for `device`, or `None` if it never saved one.
    fn load(&self, device: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Replace `device`'s state, atomically: a crash leaves the old state or the new one.
    fn save(&self, device: &str, bytes: &[u8]) -> Result<(), StoreError>;
    /// Where `device`'s state lives, for error messages.
    fn location(&self, device: &str) -> String {
        format!("memory:{device}")
    }
}

/// Why state cannot be stored or read back; each names where it lives.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("{}: cannot read: {reason}", path.display())]
    Read { path: PathBuf, reason: String },
    #[error("{}: cannot write: {reason}", path.display())]
    Write { path: PathBuf, reason: String },
    #[error("{location}: not a saved device state: {reason}")]
    Decode { location: String, reason: String },
    #[error("{location}: saved in state format {found}, this dmsim reads format {expected}")]
    UnsupportedFormat {
        location: String,
        found: u32,
        expected: u32,
    },
    #[error("{location}: cannot encode the state: {reason}")]
    Encode { location: String, reason: String },
}

/// The envelope every saved state is written in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Persisted<T> {
    /// [`STATE_FORMAT`] when written.
    pub format: u32,
    pub state: T,
}

impl<T> Persisted<T> {
    /// An envelope of the current format.
    pub fn new(state: T) -> Persisted<T> {
        Persisted {
            format: STATE_FORMAT,
            state,
        }
    }
}

/// Only the format version, to refuse a newer format with a clear message before decoding it.
#[derive(Deserialize)]
struct FormatOnly {
    format: u32,
}

impl<T: Serialize> Persisted<T> {
    /// The envelope as JSON bytes.
    pub fn encode(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(self)
    }
}

impl<T: DeserializeOwned> Persisted<T> {
    /// Read an envelope; `location` names it in errors.
    pub fn decode(bytes: &[u8], location: &str) -> Result<Persisted<T>, StoreError> {
        let decode_error = |e: serde_json::Error| StoreError::Decode {
            location: location.to_string(),
            reason: e.to_string(),
        };
        let FormatOnly { format } = serde_json::from_slice(bytes).map_err(decode_error)?;
        if format != STATE_FORMAT {
            return Err(StoreError::UnsupportedFormat {
                location: location.to_string(),
                found: format,
                expected: STATE_FORMAT,
            });
        }
        serde_json::from_slice(bytes).map_err(decode_error)
    }
}

/// Save `state` for `device` in its envelope.
pub fn save_state<T: Serialize>(
    store: &dyn StateStore,
    device: &str,
    state: &T,
) -> Result<(), StoreError> {
    let bytes = Persisted::new(state)
        .encode()
        .map_err(|e| StoreError::Encode {
            location: store.location(device),
            reason: e.to_string(),
        })?;
    store.save(device, &bytes)
}

/// The state last saved for `device`, if any.
pub fn load_state<T: DeserializeOwned>(
    store: &dyn StateStore,
    device: &str,
) -> Result<Option<T>, StoreError> {
    match store.load(device)? {
        None => Ok(None),
        Some(bytes) => {
            Persisted::<T>::decode(&bytes, &store.location(device)).map(|p| Some(p.state))
        }
    }
}

/// States in memory: for large runs, and for tests of power loss without a file system.
#[derive(Debug, Default)]
pub struct MemoryStore {
    states: Mutex<HashMap<String, Vec<u8>>>,
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// How many devices have a saved state.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<u8>>> {
        // A panic elsewhere while holding the lock cannot leave a half-replaced blob: the map's
        // insert is the only write, so the data is still whole.
        self.states.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl StateStore for MemoryStore {
    fn load(&self, device: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.lock().get(device).cloned())
    }

    fn save(&self, device: &str, bytes: &[u8]) -> Result<(), StoreError> {
        self.lock().insert(device.to_string(), bytes.to_vec());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct State {
        slots: Vec<String>,
    }

    #[test]
    fn memory_store_round_trips_and_replaces() {
        let store = MemoryStore::new();
        assert!(store.is_empty());
        assert_eq!(load_state::<State>(&store, "d1"), Ok(None));
        let one = State {
            slots: vec!["1.0".into()],
        };
        save_state(&store, "d1", &one).expect("saved");
        let two = State {
            slots: vec!["2.0".into()],
        };
        save_state(&store, "d1", &two).expect("saved");
        assert_eq!(load_state::<State>(&store, "d1"), Ok(Some(two)));
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn envelopes_carry_the_format_version() {
        let bytes = Persisted::new(State { slots: vec![] })
            .encode()
            .expect("encodes");
        let json = String::from_utf8(bytes).expect("utf-8");
        assert_eq!(json, r#"{"format":2,"state":{"slots":[]}}"#);
    }

    #[test]
    fn another_format_or_garbage_is_refused_naming_the_location() {
        let store = MemoryStore::new();
        store
            .save("d", br#"{"format":99,"state":{"whatever":true}}"#)
            .expect("saved");
        assert_eq!(
            load_state::<State>(&store, "d"),
            Err(StoreError::UnsupportedFormat {
                location: "memory:d".into(),
                found: 99,
                expected: STATE_FORMAT
            })
        );
        store.save("d", b"{\"format\":1,\"sta").expect("saved");
        let err = load_state::<State>(&store, "d").expect_err("truncated");
        assert!(err
            .to_string()
            .starts_with("memory:d: not a saved device state"));
        store
            .save("d", br#"{"format":2,"state":{"slots":3}}"#)
            .expect("saved");
        assert!(matches!(
            load_state::<State>(&store, "d"),
            Err(StoreError::Decode { .. })
        ));
    }
}
