//! The FUMO, download and firmware expectations: the results and install notifications the server
//! received, and the FUMO states, DL statuses, boots, firmware and slots of the device.

use super::list::List;
use crate::device::Device;
use crate::firmware::{SlotId, SlotState};
use crate::fumo;
use crate::scenario::model::{Expect, ListName};
use crate::server::{InstallNotification, SessionRecord};

/// The FUMO, download and firmware expectations.
pub(crate) fn check_updates(
    expect: &Expect,
    device: &Device,
    records: &[SessionRecord],
    notifications: &[InstallNotification],
    failures: &mut Vec<String>,
) {
    // What the server received needs no FUMO agent on the device.
    if let Some(want) = &expect.fumo_result {
        let results = crate::server::fumo_results(records);
        List::new(
            "the server received FUMO results",
            expect.at_least(ListName::FumoResult),
        )
        .check(want, &results, |w, a| w == a, failures);
    }
    if let Some(want) = &expect.install_notify {
        let notified: Vec<u16> = notifications.iter().map(|n| n.code).collect();
        List::new(
            "the server's installNotifyURI received",
            expect.at_least(ListName::InstallNotify),
        )
        .check(want, &notified, |w, a| w == a, failures);
    }
    // Boots are the device's, whatever its agents.
    if let Some(want) = expect.boots {
        if device.records.boots != want {
            failures.push(format!(
                "the device booted again {} times, expected {want}",
                device.records.boots
            ));
        }
    }
    let wants_fumo = expect.fumo_state.is_some()
        || expect.fumo_states.is_some()
        || expect.dl_status.is_some()
        || expect.firmware.is_some()
        || !expect.slots.is_empty();
    let Some(agent) = device.fumo() else {
        if wants_fumo {
            failures
                .push("the scenario expects FUMO results of a device without [device.fumo]".into());
        }
        return;
    };
    let states: Vec<u16> = agent.records.states.iter().map(|s| s.value()).collect();
    if let Some(want) = expect.fumo_state {
        let now = agent.durable.state.value();
        if now != want {
            failures.push(format!(
                "FUMO State is {now}, expected {want} (went through {states:?})"
            ));
        }
    }
    if let Some(want) = &expect.fumo_states {
        List::new(
            "FUMO State went through",
            expect.at_least(ListName::FumoStates),
        )
        .check(want, &states, |w, a| w == a, failures);
    }
    if let Some(want) = &expect.dl_status {
        let dl: Vec<u16> = agent.records.dl_statuses.iter().map(|s| s.code()).collect();
        List::new(
            "the device's downloads ended with DL statuses",
            expect.at_least(ListName::DlStatus),
        )
        .check(want, &dl, |w, a| w == a, failures);
    }
    let firmware = &agent.durable.firmware;
    if let Some(want) = &expect.firmware {
        let shown = device
            .tree
            .value_str(fumo::agent::FW_VERSION_NODE)
            .unwrap_or("");
        if firmware.version() != want || shown != want {
            failures.push(format!(
                "the device runs firmware {:?} and shows {shown:?}, expected {want:?}",
                firmware.version()
            ));
        }
    }
    for (name, want) in &expect.slots {
        let id = match name.as_str() {
            "a" | "A" => SlotId::A,
            "b" | "B" => SlotId::B,
            other => {
                failures.push(format!("expect.slots: no slot {other:?} (a, b)"));
                continue;
            }
        };
        let slot = firmware.slot(id);
        let shown = match slot.state {
            SlotState::Empty => "empty".to_string(),
            SlotState::Good => format!("good {}", slot.version),
            SlotState::Pending => format!("pending {}", slot.version),
        };
        if shown != *want {
            failures.push(format!("slot {name} holds {shown:?}, expected {want:?}"));
        }
    }
}
