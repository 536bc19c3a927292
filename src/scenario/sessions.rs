//! A scenario's sessions: the device built, then its sessions run one after the other over a
//! transport (the first one started by a notification when the scenario says so), with the
//! device's work between them ([`super::between`]), until it owes the server nothing more.

use super::between::between_sessions;
use super::device::build_device;
use super::error::RunError;
use super::model::{InitiatorSpec, ScenarioFile, UiModeSpec};
use super::server::mock_server;
use crate::device::Device;
use crate::download::ContentClient;
use crate::inproc::{InProcess, InProcessContent};
use crate::server::{InstallNotification, MockServer, RefusedRequests, SessionRecord};
use crate::session::{
    accept_notification, run_session_with, DriverOptions, Initiator, NotificationRejected, Pace,
    SessionEnd, SessionReport, SessionStart,
};
use crate::storage::StateStore;
use crate::syncml::pkg0::UiMode;
use crate::transport::Transport;
use std::sync::Arc;

/// What a scenario's sessions left behind.
pub(super) struct Outcome {
    pub reports: Vec<SessionReport>,
    pub device: Device,
    pub records: Vec<SessionRecord>,
    /// Device messages the server refused before it could tie them to a session.
    pub refused: RefusedRequests,
    /// The install notifications the server received.
    pub notifications: Vec<InstallNotification>,
    /// How often each `[[server.content_fault]]` changed an answer.
    pub content_faults_fired: Vec<u32>,
    /// How often each `[[server.session_fault]]` changed an answer.
    pub session_faults_fired: Vec<u32>,
}

/// Run the scenario's session against the mock server in the same process.
pub(super) async fn run_in_process(
    file: &ScenarioFile,
    store: &dyn StateStore,
) -> Result<Outcome, RunError> {
    let server = Arc::new(mock_server(file)?);
    let transport = InProcess::new(Arc::clone(&server));
    let content = InProcessContent::new(Arc::clone(&server));
    run_against(&transport, &content, store, &server, file, Pace::Sleep).await
}

/// Extra sessions a device may open on its own to deliver what it still owes the server.
const EXTRA_SESSIONS: u32 = 3;

/// Build the scenario's device and run its sessions over `transport` to `server`: `sessions` of
/// them (the first one started by a notification when the scenario says so), then up to
/// [`EXTRA_SESSIONS`] more while the device still has reports to deliver. After each session the
/// device saves its state and runs the job the session gave it (a FUMO download or update),
/// fetching content with `content`.
pub(super) async fn run_against<T: Transport, C: ContentClient>(
    transport: &T,
    content: &C,
    store: &dyn StateStore,
    server: &MockServer,
    file: &ScenarioFile,
    pace: Pace,
) -> Result<Outcome, RunError> {
    let mut owned = build_device(file)?;
    if let Err(error) = owned.flash(store) {
        return Err(RunError::DeviceState {
            device: owned.dev_id().to_string(),
            error,
        });
    }
    let device = &mut owned;
    let mut reports = Vec::new();
    let planned = file.sessions.max(1);
    for n in 0..planned + EXTRA_SESSIONS {
        if n >= planned && device.reports.pending().is_empty() {
            break;
        }
        if n > 0 {
            device.clock = device.clock.saturating_add(file.session_interval);
        }
        let start = if n == 0 {
            session_start(file, server, device)
        } else {
            Ok(client_start(file))
        };
        let report = match start {
            Ok(start) => {
                let options = DriverOptions {
                    keep_transcript: true,
                    pace,
                };
                run_session_with(transport, device, start, options).await
            }
            Err(rejected) => SessionReport::not_started(SessionEnd::NotificationRejected {
                reason: rejected.to_string(),
            }),
        };
        let stop = matches!(report.end, SessionEnd::NotificationRejected { .. });
        reports.push(report);
        if stop {
            break;
        }
        between_sessions(device, content, store).await?;
        if file.device.resources.unlock_after_session == Some(n + 1) {
            device.resources.locked = false;
        }
    }
    Ok(Outcome {
        reports,
        device: owned,
        records: server.records(),
        refused: server.refused(),
        notifications: server.install_notifications(),
        content_faults_fired: server.content_faults_fired(),
        session_faults_fired: server.session_faults_fired(),
    })
}

/// A client-initiated start, or the one a notification from the server asks for.
fn session_start(
    file: &ScenarioFile,
    server: &MockServer,
    device: &Device,
) -> Result<SessionStart, NotificationRejected> {
    match file.device.initiator {
        InitiatorSpec::Client => Ok(client_start(file)),
        InitiatorSpec::Server => {
            let spec = &file.server.notification;
            let ui_mode = match spec.ui_mode {
                UiModeSpec::NotSpecified => UiMode::NotSpecified,
                UiModeSpec::Background => UiMode::Background,
                UiModeSpec::Informative => UiMode::Informative,
                UiModeSpec::UserInteraction => UiMode::UserInteraction,
            };
            let bytes = server.notification(
                device.dev_id(),
                file.device.session_id,
                ui_mode,
                spec.secret.as_deref(),
            );
            accept_notification(device, &bytes)
        }
    }
}

/// A session the device starts by itself.
fn client_start(file: &ScenarioFile) -> SessionStart {
    SessionStart {
        initiator: Initiator::Client,
        server_id: Some(file.server.server_id.clone()),
    }
}
