//! The SCOMO expectations (the results the server received, every value each Status node took,
//! and the inventory at the end), and the Knox E-FOTA codes the server received.

use super::list::{Brief, List};
use crate::device::Device;
use crate::scenario::model::{Expect, ListName};
use crate::scenario::scomo::{self, InventoryExpect, StatusExpect};
use crate::server::SessionRecord;

impl Brief for StatusExpect {
    fn brief(&self) -> String {
        format!("{} {:?}", self.node, self.values)
    }
}

/// The SCOMO expectations.
pub(crate) fn check_scomo(
    expect: &Expect,
    device: &Device,
    records: &[SessionRecord],
    failures: &mut Vec<String>,
) {
    // What the server received needs no SCOMO agent on the device.
    if let Some(want) = &expect.scomo_result {
        let results: Vec<u16> = crate::server::scomo_results(records)
            .iter()
            .map(|r| r.code)
            .collect();
        List::new(
            "the server received SCOMO results",
            expect.at_least(ListName::ScomoResult),
        )
        .check(want, &results, |w, a| w == a, failures);
    }
    if let Some(want) = &expect.knox_efota {
        List::new(
            "the server received Knox E-FOTA codes",
            expect.at_least(ListName::KnoxEfota),
        )
        .check(
            want,
            &crate::server::efota_codes(records),
            |w, a| w == a,
            failures,
        );
    }
    let wants_agent = expect.scomo_status.is_some() || expect.inventory.is_some();
    let Some(agent) = scomo::agent(device) else {
        if wants_agent {
            failures.push(
                "the scenario expects SCOMO statuses or an inventory of a device without \
                 [device.scomo]"
                    .into(),
            );
        }
        return;
    };
    if let Some(want) = &expect.scomo_status {
        List::new(
            "the SCOMO Status nodes took",
            expect.at_least(ListName::ScomoStatus),
        )
        .check(want, &scomo::statuses(agent), |w, a| w == a, failures);
    }
    if let Some(want) = &expect.inventory {
        let held = scomo::inventory(agent);
        if held != *want {
            failures.push(format!(
                "the SCOMO inventory is {}, expected {}",
                describe(&held),
                describe(want)
            ));
        }
    }
}

/// An inventory in words: `delivered [suite 20], deployed [maps 2.1 20, agent 1.4 20]`.
fn describe(inventory: &InventoryExpect) -> String {
    let delivered: Vec<String> = inventory
        .delivered
        .iter()
        .map(|d| format!("{} {}", d.id, d.state))
        .collect();
    let deployed: Vec<String> = inventory
        .deployed
        .iter()
        .map(|c| format!("{} {} {}", c.id, c.version, c.state))
        .collect();
    format!(
        "delivered [{}], deployed [{}]",
        delivered.join(", "),
        deployed.join(", ")
    )
}
