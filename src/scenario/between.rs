//! What a device does between two sessions of a scenario: write down what the session changed,
//! then run the job the session gave it (a FUMO download or update) to its end.

use super::error::RunError;
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
) -> Result<(), RunError> {
    let id = device.dev_id().to_string();
    let state = |error| RunError::DeviceState {
        device: id.clone(),
        error,
    };
    match device.save(store) {
        Ok(Saved::Landed) => {}
        Ok(Saved::PowerLost) => device.reboot(store).map_err(state)?,
        Err(error) => return Err(state(error)),
    }
    jobs::run_job(device, content, store)
        .await
        .map(drop)
        .map_err(|error| RunError::Job { device: id, error })
}
