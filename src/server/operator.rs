//! What decides a device's commands besides the static script: a portal's pending operations.

use super::script::ScriptCommand;
use crate::syncml::SyncMl;

/// Decides packages for devices as their sessions go.
pub trait Operator: Send + Sync {
    /// Every message of an authenticated device session, as decoded.
    fn received(&self, device: &str, ordinal: u32, msg: &SyncMl);
    /// The next package for `device` in its session `ordinal`, once the script's are sent.
    fn next_package(&self, device: &str, ordinal: u32) -> Option<Vec<ScriptCommand>>;
}
