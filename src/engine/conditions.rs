//! The conditions a device puts on its update jobs beyond its resources, shared by every agent of
//! the engine (FUMO and SCOMO check the same ones at the same steps):
//!
//! * **preconditions of any job** ([`Preconditions`]): tree nodes the device's update client keeps
//!   and must find before it starts a job. Samsung's Knox E-FOTA client keeps a `DeviceReady` node
//!   and an `Inventory` node (a `knox-efota` device has them at `./Ext/EFOTA/DeviceReady` and
//!   `./Ext/EFOTA/Inventory`); when the first is missing "the device isn't ready for this
//!   operation" (`start.not-ready`), when the second is, "the update installer isn't installed and
//!   enabled" (`start.no-inventory`). They are checked first, before the agent looks at the job,
//!   in that order; only what exists at the moment the job starts counts, so a server that
//!   Deletes the node before its Exec makes the job fail. A device without preconditions (every
//!   device unless set up so) checks nothing.
//! * **the device's state when an install would begin** ([`install_gate`]): a locked device is not
//!   ready for the update (`checks.device-locked`); other services running, such as a call in
//!   progress, abort it (`checks.services-busy`). The lock is checked first. Both are checked with
//!   the battery, before the user is asked anything, and only before an install (a Download alone
//!   installs nothing, and neither do Remove, Activate or Deactivate).
//!
//! dmsim chooses the "not ready" state of Knox's "the device isn't ready for the update" (-5400) to
//! be the screen lock: a device whose user has locked it cannot show the install's prompts nor be
//! rebooted into the update unattended, which is what a Samsung device waits for; the seed names
//! no other state, and the other "not ready" of the seed (-5300) is the `DeviceReady` node above.

use super::Env;
use crate::outcome::Cause;
use crate::tree::Tree;

/// Tree nodes every job of the device needs before it starts (none by default).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preconditions {
    /// The update client's "device ready" node: missing, the job ends `start.not-ready`.
    pub device_ready: Option<String>,
    /// The update installer's inventory node: missing, the job ends `start.no-inventory`.
    pub inventory: Option<String>,
}

/// A condition that ended a job, and what the device knows about it (for people).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmet {
    pub cause: Cause,
    pub detail: String,
}

impl Preconditions {
    /// Whether any node is required.
    pub fn is_empty(&self) -> bool {
        self.device_ready.is_none() && self.inventory.is_none()
    }

    /// The first required node `tree` lacks, as the cause it ends a job with.
    pub fn check(&self, tree: &Tree) -> Option<Unmet> {
        let required = [
            (&self.device_ready, Cause::NotReady),
            (&self.inventory, Cause::NoInventory),
        ];
        required.into_iter().find_map(|(node, cause)| {
            let node = node.as_deref()?;
            tree.node(node).is_none().then(|| Unmet {
                cause,
                detail: format!("{node} does not exist"),
            })
        })
    }
}

/// The device's state when an install would begin: locked, or other services running (see the
/// module docs).
pub fn install_gate(env: &Env<'_>) -> Option<Unmet> {
    if env.locked {
        return Some(Unmet {
            cause: Cause::DeviceLocked,
            detail: "the device is locked".to_string(),
        });
    }
    if !env.busy_services.is_empty() {
        return Some(Unmet {
            cause: Cause::ServicesBusy,
            detail: format!("running: {}", env.busy_services.join(", ")),
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::{Format, Node, UriLimits};

    #[test]
    fn the_ready_node_is_checked_before_the_inventory_node() {
        let mut tree = Tree::new(UriLimits::default());
        let none = Preconditions::default();
        assert!(none.is_empty());
        assert_eq!(none.check(&tree), None, "nothing required, nothing checked");
        let both = Preconditions {
            device_ready: Some("./Ext/EFOTA/DeviceReady".into()),
            inventory: Some("./Ext/EFOTA/Inventory".into()),
        };
        assert!(!both.is_empty());
        let cause = |t: &Tree| both.check(t).map(|u| u.cause);
        assert_eq!(cause(&tree), Some(Cause::NotReady));
        tree.insert("./Ext/EFOTA/DeviceReady", Node::leaf(Format::Int, "1"))
            .expect("insert");
        assert_eq!(cause(&tree), Some(Cause::NoInventory));
        let unmet = both.check(&tree).expect("inventory missing");
        assert_eq!(unmet.detail, "./Ext/EFOTA/Inventory does not exist");
        tree.insert("Ext/EFOTA/Inventory", Node::interior())
            .expect("insert");
        assert_eq!(
            cause(&tree),
            None,
            "either spelling of a URI names the node"
        );
        tree.remove("./Ext/EFOTA/DeviceReady").expect("remove");
        assert_eq!(cause(&tree), Some(Cause::NotReady));
    }
}
