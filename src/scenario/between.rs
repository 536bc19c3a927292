//! What a device does between two sessions of a scenario: write down what the session changed,
//! then run the job the session gave it (a FUMO download or update) to its end.

use crate::device::{Device, Saved};
use crate::download::ContentClient;
use crate::jobs;
use crate::storage::StateStore;

/// What a device does between sessions: write down what the session changed, then work on the
/// job it accepted.
pub(super) async fn between_sessions<C: ContentClient>(
    device: &mut Device,
    content: &C,
    store: &dyn StateStore,
) -> Result<(), String> {
    let id = device.dev_id().to_string();
    let failed = |e: &dyn std::fmt::Display| format!("device {id}: {e}");
    match device.save(store) {
        Ok(Saved::Landed) => {}
        Ok(Saved::PowerLost) => device.reboot(store).map_err(|e| failed(&e))?,
        Err(e) => return Err(failed(&e)),
    }
    match jobs::run_job(device, content, store).await {
        Ok(_) => Ok(()),
        Err(e) => Err(failed(&e)),
    }
}
