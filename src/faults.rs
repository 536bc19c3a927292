//! Fault injection: named points in the device's flows where a scenario makes things go wrong.
//!
//! A [`FaultPlan`] is a list of rules `(point, effect, trigger)`, shared by every device of a run. Each
//! device keeps a small [`Faults`] state (hit counters and a seeded random generator) so a run with the
//! same seed fires the same faults. A flow asks `faults.fire(FaultPoint::…)` at its fault point and, if
//! an effect comes back, fails the way a real device would (the flow's docs say which code follows).
//!
//! Some effects carry a count, written `name@N` in scenarios: `network.lost@4096` drops the network
//! after 4096 bytes of a transfer. Effects reaching a point that has no use for them do nothing.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::Arc;

crate::codes::code_table! {
    /// Where in a flow a fault can fire.
    pub enum FaultPoint {
        /// Any write of a server command to the DM tree (Add, Replace, Delete, Copy): 510.
        TreeWrite = "tree.write";
        /// Undoing a failed Atomic: the members that could not be undone answer 516.
        AtomicRollback = "tree.atomic-rollback";
        /// The installer's memory check before an install (`memory.low`): 502.
        InstallMemoryCheck = "install.memory-check";
        /// Writing the new firmware into the inactive slot (`power.loss`: the write is cut and the
        /// device reboots on the old firmware; `storage.write-error`: 410).
        InstallWrite = "install.write";
        /// The reboot into the new slot (`power.loss`: the device comes up on the old slot and
        /// resumes the install).
        InstallReboot = "install.reboot";
        /// The post-update verification on the new slot (`verify.fail`: 410 and a rollback); for
        /// SCOMO on a device that verifies, of one installed component (`verify.fail`: its
        /// installed file reads back other bytes than were written, the check finds the mismatch
        /// and the job rolls back: `verify.rolled-back`).
        InstallVerify = "install.verify";
        /// The rollback to the old slot after a failed update (`rollback.fail`: 410, recorded); for
        /// SCOMO, undoing one component the job installed (writing its source version back).
        InstallRollback = "install.rollback";
        /// OMA Download: the device checks its free storage before a download (`storage.insufficient`:
        /// 901 Insufficient memory).
        DownloadStorageCheck = "download.storage-check";
        /// OMA Download: one transfer of the object (`network.lost@N`: the connection drops after N
        /// bytes of this transfer, 903 Loss of Service; `device.abort`: 952 Device Aborted).
        DownloadTransfer = "download.transfer";
        /// OMA Download: the user confirms a new download (`user.reject`, `user.cancel`: 902 User
        /// Cancelled).
        DownloadUserConfirm = "download.user-confirm";
        /// FUMO: the agent starts a job it accepted with 202 (`internal.error`: 409 Undefined
        /// Error).
        FumoStart = "fumo.start";
        /// FUMO: the user confirms the install of a downloaded update (`user.reject`,
        /// `user.cancel`, `user.ignore`: 401 User Cancelled, the package is kept).
        UpdateUserConfirm = "update.user-confirm";
        /// Any save of the device's durable state (`power.loss`: the power goes out before the
        /// save lands; the device boots from the state saved before). With `nth = N` this cuts the
        /// power at the Nth save, which is how a scenario or a test reaches every step of a flow.
        StateSave = "state.save";
        /// SCOMO: the agent starts a job it accepted with 202 (`internal.error`: SCOMO 1412
        /// Undefined Error).
        ScomoStart = "scomo.start";
        /// SCOMO: removing a delivered package or a deployed component (`storage.write-error`:
        /// 1408 Remove Failed, the node's Status 20, the package or component kept).
        ScomoRemove = "scomo.remove";
        /// SCOMO: activating a deployed component (`internal.error`: 1409 Activate Failed,
        /// Status 40, still Inactive).
        ScomoActivate = "scomo.activate";
        /// SCOMO: deactivating a deployed component (`internal.error`: 1410 Deactivate Failed,
        /// Status 60, still Active).
        ScomoDeactivate = "scomo.deactivate";
        /// SCOMO on a device that rolls back: the source version file of a component the job
        /// replaces, once it is kept (`file.missing`: it is gone from storage; `file.corrupt`: its
        /// bytes change). A rollback that needs it finds it missing, or its hash wrong, and fails
        /// (`*.source-missing`).
        ScomoSourceFile = "scomo.source-file";
        /// Knox E-FOTA: the client writes a configuration profile's settings to the device's
        /// settings store (`storage.write-error`: the store refuses the write, -1460; the settings
        /// stay as they were).
        EfotaConfigApply = "efota.config-apply";
        /// Knox E-FOTA: a component restarts to take a new setting (`delay@N`: the restart takes N
        /// seconds more of the device's clock; past the client's configuration timeout, 1464).
        EfotaComponentRestart = "efota.component-restart";
    }
}

crate::codes::code_table! {
    /// What goes wrong when a fault fires.
    pub enum FaultEffect {
        /// The device's storage refuses the write.
        StorageWriteError = "storage.write-error";
        /// The power goes out: what was not yet durable is lost, and the device boots again.
        PowerLoss = "power.loss";
        /// The new firmware fails its post-update verification.
        VerifyFail = "verify.fail";
        /// The rollback to the old firmware fails.
        RollbackFail = "rollback.fail";
        /// Less memory is free than the install needs.
        MemoryLow = "memory.low";
        /// The device finds too little free storage for a download.
        StorageInsufficient = "storage.insufficient";
        /// The user answers "no" when asked to confirm a download.
        UserReject = "user.reject";
        /// The user cancels the download when asked to confirm it.
        UserCancel = "user.cancel";
        /// The device gives the download up (battery low, reboot, a lower layer failing).
        DeviceAbort = "device.abort";
        /// The user does not answer a confirmation prompt; it times out and counts as cancelled.
        UserIgnore = "user.ignore";
        /// The device's management agent fails in a way it cannot name.
        InternalError = "internal.error";
        /// A file the device kept is gone from its storage.
        FileMissing = "file.missing";
        /// A file the device kept reads back other bytes than were written.
        FileCorrupt = "file.corrupt";
    } with a count {
        /// The network drops after this many bytes of the transfer (`network.lost@4096`; plain
        /// `network.lost` drops it before the first byte).
        NetworkLostAtByte(u64) = "network.lost";
        /// The step takes this many seconds more of the device's clock (`delay@600`).
        DelaySeconds(u64) = "delay";
    }
}

impl FaultPoint {
    /// Whether the flow at this point does something with `effect` (the point's doc says what).
    /// Scenarios may only pair a point with such an effect, so a rule never silently does nothing.
    pub fn uses(self, effect: FaultEffect) -> bool {
        use FaultEffect as E;
        use FaultPoint as P;
        match self {
            P::TreeWrite | P::AtomicRollback => matches!(effect, E::StorageWriteError),
            P::InstallMemoryCheck => matches!(effect, E::MemoryLow),
            P::InstallWrite => matches!(effect, E::PowerLoss | E::StorageWriteError),
            P::InstallReboot | P::StateSave => matches!(effect, E::PowerLoss),
            P::InstallVerify => matches!(effect, E::VerifyFail),
            P::InstallRollback => matches!(effect, E::RollbackFail),
            P::DownloadStorageCheck => matches!(effect, E::StorageInsufficient),
            P::DownloadTransfer => matches!(effect, E::NetworkLostAtByte(_) | E::DeviceAbort),
            P::DownloadUserConfirm | P::UpdateUserConfirm => {
                matches!(effect, E::UserReject | E::UserCancel | E::UserIgnore)
            }
            P::FumoStart => matches!(effect, E::InternalError | E::PowerLoss),
            P::ScomoStart | P::ScomoActivate | P::ScomoDeactivate => {
                matches!(effect, E::InternalError)
            }
            P::ScomoRemove | P::EfotaConfigApply => matches!(effect, E::StorageWriteError),
            P::ScomoSourceFile => matches!(effect, E::FileMissing | E::FileCorrupt),
            P::EfotaComponentRestart => matches!(effect, E::DelaySeconds(_)),
        }
    }

    /// The effects this point uses, by name.
    pub fn effect_names(self) -> Vec<&'static str> {
        FaultEffect::ALL
            .iter()
            .filter(|e| self.uses(**e))
            .map(|e| e.as_str())
            .collect()
    }
}

/// When a rule fires.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Trigger {
    /// Every time the point is reached.
    Always,
    /// Only the Nth time (1-based).
    Nth(u32),
    /// Each time with this probability, drawn from the run's seed.
    Probability(f64),
}

/// One rule of a plan.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultRule {
    pub point: FaultPoint,
    pub effect: FaultEffect,
    pub trigger: Trigger,
}

/// The rules of a run, shared by all its devices.
#[derive(Debug, Clone, Default)]
pub struct FaultPlan {
    rules: Arc<[FaultRule]>,
}

impl FaultPlan {
    pub fn new(rules: Vec<FaultRule>) -> FaultPlan {
        FaultPlan {
            rules: rules.into(),
        }
    }

    pub fn rules(&self) -> &[FaultRule] {
        &self.rules
    }

    /// A device's own state for this plan.
    pub fn for_device(&self, seed: u64) -> Faults {
        Faults {
            plan: self.clone(),
            hits: vec![0; self.rules.len()],
            rng: ChaCha8Rng::seed_from_u64(seed),
            fired: vec![0; self.rules.len()],
        }
    }
}

/// One device's view of the plan: how often each rule's point was reached, and how often each
/// rule fired (counters, so a long run keeps a fixed amount per device).
#[derive(Debug, Clone)]
pub struct Faults {
    plan: FaultPlan,
    hits: Vec<u32>,
    rng: ChaCha8Rng,
    fired: Vec<u32>,
}

impl Default for Faults {
    fn default() -> Faults {
        FaultPlan::default().for_device(0)
    }
}

impl Faults {
    /// The flow reached `point`: the effect to apply, if a rule fires.
    ///
    /// Several rules of one point may be due at once: the first in the plan applies and is the one
    /// counted as fired (the others did nothing).
    pub fn fire(&mut self, point: FaultPoint) -> Option<FaultEffect> {
        let mut effect = None;
        for (i, rule) in self
            .plan
            .rules
            .iter()
            .enumerate()
            .filter(|(_, r)| r.point == point)
        {
            self.hits[i] = self.hits[i].saturating_add(1);
            let fires = match rule.trigger {
                Trigger::Always => true,
                Trigger::Nth(n) => self.hits[i] == n,
                Trigger::Probability(p) => self.rng.gen_bool(p.clamp(0.0, 1.0)),
            };
            if fires && effect.is_none() {
                effect = Some(rule.effect);
                self.fired[i] = self.fired[i].saturating_add(1);
                tracing::debug!(
                    point = point.as_str(),
                    effect = rule.effect.as_str(),
                    rule = i,
                    "fault fired"
                );
            }
        }
        effect
    }

    /// How often each rule of the plan fired, in the plan's order.
    pub fn fired(&self) -> &[u32] {
        &self.fired
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(trigger: Trigger) -> FaultPlan {
        FaultPlan::new(vec![FaultRule {
            point: FaultPoint::TreeWrite,
            effect: FaultEffect::StorageWriteError,
            trigger,
        }])
    }

    #[test]
    fn nth_fires_once_at_the_nth_hit_only() {
        let mut f = plan(Trigger::Nth(2)).for_device(1);
        let hits: Vec<_> = (0..4)
            .map(|_| f.fire(FaultPoint::TreeWrite).is_some())
            .collect();
        assert_eq!(hits, [false, true, false, false]);
        assert_eq!(f.fire(FaultPoint::AtomicRollback), None);
        assert_eq!(f.fired(), [1]);
    }

    #[test]
    fn probability_is_reproducible_from_the_seed() {
        let draw = |seed| {
            let mut f = plan(Trigger::Probability(0.5)).for_device(seed);
            (0..64)
                .map(|_| f.fire(FaultPoint::TreeWrite).is_some())
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
        assert!(draw(7).iter().any(|&b| b) && draw(7).iter().any(|&b| !b));
    }

    #[test]
    fn names_round_trip() {
        for p in FaultPoint::ALL {
            assert_eq!(FaultPoint::parse(p.as_str()), Some(*p));
        }
        assert_eq!(
            FaultEffect::parse("storage.write-error"),
            Some(FaultEffect::StorageWriteError)
        );
        assert_eq!(FaultPoint::parse("nope"), None);
    }

    #[test]
    fn every_point_uses_some_effect_and_every_effect_has_a_point() {
        for p in FaultPoint::ALL {
            assert!(!p.effect_names().is_empty(), "{p}");
        }
        for e in FaultEffect::ALL {
            assert!(FaultPoint::ALL.iter().any(|p| p.uses(*e)), "{e}");
        }
        assert!(FaultPoint::DownloadTransfer.uses(FaultEffect::NetworkLostAtByte(9)));
        assert!(FaultPoint::EfotaComponentRestart.uses(FaultEffect::DelaySeconds(600)));
        assert!(!FaultPoint::EfotaComponentRestart.uses(FaultEffect::PowerLoss));
        assert!(!FaultPoint::TreeWrite.uses(FaultEffect::PowerLoss));
    }

    #[test]
    fn counted_effects_carry_their_count() {
        // How `name@N` is read and written is the macro's (see `codes`); these are the names.
        assert_eq!(
            FaultEffect::parse("network.lost@4096"),
            Some(FaultEffect::NetworkLostAtByte(4096))
        );
        assert_eq!(
            FaultEffect::parse("network.lost"),
            Some(FaultEffect::NetworkLostAtByte(0))
        );
        assert_eq!(
            FaultEffect::NetworkLostAtByte(7).to_string(),
            "network.lost@7"
        );
        assert_eq!(
            FaultEffect::parse("delay@600"),
            Some(FaultEffect::DelaySeconds(600))
        );
        assert_eq!(FaultEffect::parse("user.cancel@1"), None);
        assert_eq!(FaultPoint::parse("download.transfer@1"), None);
        for e in FaultEffect::ALL {
            assert_eq!(FaultEffect::parse(&e.to_string()), Some(*e));
        }
    }
}
