//! What a device has to spare for an update: storage, memory, battery, the network it is on and
//! the content types it can use; and the state it is in: locked or not, services running. The
//! download agent and the FUMO and SCOMO agents check these before they act, so a scenario
//! produces "out of storage" (901/501), "out of memory" (502), "battery too low" (450),
//! "roaming" (451), "locked" and "other services running" by describing the device, not by
//! forcing a code (see [`crate::engine::conditions`] for where the last two are checked).

use crate::protocol::download::DeviceLimits;
use std::sync::Arc;

/// Lowest battery level (percent) at which the device starts an install.
pub const MIN_BATTERY_TO_UPDATE: u8 = 20;

/// A device's resources. Small and cheap to clone: the type list is shared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resources {
    /// Bytes free to store a download.
    pub free_storage: u64,
    /// Bytes of memory free for an install.
    pub free_memory: u64,
    /// Battery level, percent.
    pub battery: u8,
    /// On a roaming network: downloads are refused.
    pub roaming: bool,
    /// MIME types the device accepts (`type/subtype`, `type/*`, `*/*`); empty accepts all.
    pub accepted_types: Arc<[String]>,
    /// The user has locked the device: it is not ready for an install.
    pub locked: bool,
    /// Services running that an install may not interrupt (`call`, `backup`…); empty: none.
    pub busy_services: Arc<[String]>,
}

impl Default for Resources {
    /// Plenty of everything, on the home network, every type accepted, unlocked and idle.
    fn default() -> Resources {
        Resources {
            free_storage: u64::MAX,
            free_memory: u64::MAX,
            battery: 100,
            roaming: false,
            accepted_types: Arc::from(Vec::new()),
            locked: false,
            busy_services: Arc::from(Vec::new()),
        }
    }
}

impl Resources {
    /// What the download agent checks a descriptor against.
    pub fn download_limits(&self) -> DeviceLimits {
        DeviceLimits {
            free_storage: self.free_storage,
            accepted_types: self.accepted_types.to_vec(),
        }
    }

    /// Whether the battery allows an install.
    pub fn battery_allows_update(&self) -> bool {
        self.battery >= MIN_BATTERY_TO_UPDATE
    }
}
