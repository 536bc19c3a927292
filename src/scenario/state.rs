//! Where a scenario's devices keep their durable state (files under `--state-dir`, or memory),
//! and the name a scenario's own directory gets.

use super::error::RunError;
use super::run::RunEnv;
use crate::storage::{FileStore, MemoryStore, StateStore};

/// Where a scenario's devices keep their durable state: a fresh directory of `state_dir` named
/// after the scenario file, or memory.
pub(super) fn state_store(
    env: &RunEnv,
    scenario: &std::path::Path,
) -> Result<Box<dyn StateStore>, RunError> {
    let Some(root) = &env.state_dir else {
        return Ok(Box::new(MemoryStore::new()));
    };
    let dir = root.join(file_slug(scenario));
    if dir.exists() {
        // A scenario starts from a factory-fresh device: the previous run's state goes.
        if let Err(error) = std::fs::remove_dir_all(&dir) {
            return Err(RunError::ClearState { dir, error });
        }
    }
    FileStore::new(dir)
        .map(|s| Box::new(s) as Box<dyn StateStore>)
        .map_err(RunError::StateDir)
}

/// The name a scenario's own directory gets (state, captures): its file's path without the
/// extension, the parts joined by `-` (`scenarios/auth/md5.toml` → `scenarios-auth-md5`).
pub(super) fn file_slug(scenario: &std::path::Path) -> String {
    scenario
        .with_extension("")
        .components()
        .filter_map(|c| match c {
            std::path::Component::Normal(part) => part.to_str(),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("-")
}
