//! What a Snom m3 base keeps across a power loss: the gateway's firmware in two A/B slots and the
//! handsets' versions ([`BaseState`], saved through [`crate::storage`]); and what its display
//! showed ([`DisplayLog`], the simulator's record, kept across power losses but never saved).
//!
//! # The gateway's A/B slots
//!
//! The gateway writes a new image into the slot it does not run, then switches to it, like the
//! FUMO installer ([`crate::firmware`], whose slot types it reuses): each step is one save.
//!
//! | step | saved state | a power loss before the next save boots |
//! | --- | --- | --- |
//! | [`Gateway::invalidate_inactive`] | the inactive slot `Empty` (about to be overwritten) | the old image |
//! | [`Gateway::write_inactive`] | the inactive slot `Pending`, with the new version and the body's hash | the old image (the new one is complete but not switched to) |
//! | [`Gateway::switch`] | the new slot active, still `Pending` | the new image, which [`Gateway::boot`] commits |
//! | [`Gateway::boot`] | the active slot `Good` | the new image |
//!
//! A `Pending` active slot is committed at boot without a further check: its `.fwu` was checked
//! (header, size, SHA-256) before it was written, and the slot only becomes `Pending` once the
//! whole image is written. So the version the gateway reports is always that of a whole image, the
//! old one or the new one, never a mix.

use crate::firmware::{Slot, SlotId, SlotState};
use crate::outcome::Key;
use serde::{Deserialize, Serialize};

/// How many codes the display log keeps; older ones are dropped (and counted).
pub const MAX_SHOWN: usize = 1024;

/// The gateway's firmware: two slots, one of them active.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gateway {
    slots: [Slot; 2],
    active: SlotId,
}

impl Gateway {
    /// A gateway running `version` from slot A, slot B empty.
    pub fn factory(version: &str) -> Gateway {
        Gateway {
            slots: [
                Slot {
                    version: version.to_string(),
                    payload_hash: [0; 32],
                    state: SlotState::Good,
                },
                Slot::empty(),
            ],
            active: SlotId::A,
        }
    }

    /// The version of the image the gateway runs.
    pub fn version(&self) -> &str {
        &self.slot(self.active).version
    }

    pub fn active(&self) -> SlotId {
        self.active
    }

    pub fn slot(&self, id: SlotId) -> &Slot {
        match id {
            SlotId::A => &self.slots[0],
            SlotId::B => &self.slots[1],
        }
    }

    fn slot_mut(&mut self, id: SlotId) -> &mut Slot {
        match id {
            SlotId::A => &mut self.slots[0],
            SlotId::B => &mut self.slots[1],
        }
    }

    /// Before a write: the inactive slot holds nothing bootable.
    pub fn invalidate_inactive(&mut self) {
        *self.slot_mut(self.active.other()) = Slot::empty();
    }

    /// The whole new image is in the inactive slot.
    pub fn write_inactive(&mut self, version: &str, body_hash: [u8; 32]) {
        *self.slot_mut(self.active.other()) = Slot {
            version: version.to_string(),
            payload_hash: body_hash,
            state: SlotState::Pending,
        };
    }

    /// Make the written image the active one, for the next boot. False (nothing changes) when the
    /// inactive slot holds no complete image.
    pub fn switch(&mut self) -> bool {
        let inactive = self.active.other();
        if self.slot(inactive).state != SlotState::Pending {
            return false;
        }
        self.active = inactive;
        true
    }

    /// A power-up: an active `Pending` image is committed (see the module docs); an active slot
    /// with nothing bootable (never the case after a save of this module's steps) falls back to
    /// the other. True when something changed, to be saved.
    pub fn boot(&mut self) -> bool {
        let active = self.active;
        match self.slot(active).state {
            SlotState::Good => false,
            SlotState::Pending => {
                self.slot_mut(active).state = SlotState::Good;
                true
            }
            SlotState::Empty => {
                self.active = active.other();
                true
            }
        }
    }
}

/// One handset and the firmware version it runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handset {
    pub id: String,
    pub version: String,
}

/// The base's durable state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaseState {
    pub gateway: Gateway,
    pub handsets: Vec<Handset>,
}

impl BaseState {
    /// A base running `gateway` with handsets `(id, version)`.
    pub fn factory(gateway: &str, handsets: &[(&str, &str)]) -> BaseState {
        BaseState {
            gateway: Gateway::factory(gateway),
            handsets: handsets
                .iter()
                .map(|(id, version)| Handset {
                    id: id.to_string(),
                    version: version.to_string(),
                })
                .collect(),
        }
    }
}

/// Every code the display showed, in order (the last [`MAX_SHOWN`]), each with the outcome it
/// was shown for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DisplayLog {
    shown: std::collections::VecDeque<(u8, Key)>,
    dropped: u64,
}

impl DisplayLog {
    pub fn show(&mut self, code: u8, key: Key) {
        if self.shown.len() == MAX_SHOWN {
            self.shown.pop_front();
            self.dropped = self.dropped.saturating_add(1);
        }
        self.shown.push_back((code, key));
    }

    /// The codes shown, oldest first.
    pub fn codes(&self) -> Vec<u8> {
        self.shown.iter().map(|&(code, _)| code).collect()
    }

    /// The codes shown with their outcomes, oldest first.
    pub fn entries(&self) -> impl Iterator<Item = (u8, Key)> + '_ {
        self.shown.iter().copied()
    }

    /// The code shown last.
    pub fn last(&self) -> Option<u8> {
        self.shown.back().map(|&(code, _)| code)
    }

    /// How many codes were dropped from the front to keep the log bounded.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gateway_reports_the_old_image_until_the_switch_and_the_new_one_after() {
        let mut g = Gateway::factory("0780");
        g.invalidate_inactive();
        assert_eq!(g.version(), "0780");
        assert!(!g.switch(), "nothing complete to switch to");
        g.write_inactive("0790", [7; 32]);
        assert_eq!(g.version(), "0780");
        let mut before_switch = g.clone();
        assert!(!before_switch.boot());
        assert_eq!(before_switch.version(), "0780");
        assert!(g.switch());
        assert_eq!(g.version(), "0790");
        assert!(g.boot());
        assert_eq!(g.slot(g.active()).state, SlotState::Good);
        assert_eq!(g.slot(g.active().other()).version, "0780");
    }

    #[test]
    fn the_display_log_is_bounded() {
        let mut log = DisplayLog::default();
        for i in 0..(MAX_SHOWN + 3) {
            let key = Key(
                crate::outcome::Phase::Update,
                crate::outcome::Cause::Succeeded,
            );
            log.show((i % 13) as u8, key);
        }
        assert_eq!(log.codes().len(), MAX_SHOWN);
        assert_eq!(log.dropped(), 3);
        assert_eq!(log.last(), Some(((MAX_SHOWN + 2) % 13) as u8));
    }
}
