//! A scenario's sessions: the device built, then its sessions run one after the other over a
//! transport (the first one started by a notification when the scenario says so), with the
//! device's work between them ([`super::between`]), until it owes the server nothing more.

use super::between::between_sessions;
use super::device::build_device;
use super::error::RunError;
use super::model::{InitiatorSpec, ScenarioFile, UiModeSpec};
use super::portal_calls::{make_calls, CallRecord, Moment, ScenarioPortal};
use super::portal_spec::Placeholders;
use super::server::server_and_portal;
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
    /// The `[[portal.call]]`s made, in order, with the portal's answers.
    pub api_calls: Vec<CallRecord>,
    /// How often each `[[portal.fault]]` fired.
    pub portal_faults_fired: Vec<u32>,
}

/// Run the scenario's session against the mock server in the same process.
pub(super) async fn run_in_process(
    file: &ScenarioFile,
    store: &dyn StateStore,
) -> Result<Outcome, RunError> {
    let (server, portal) = server_and_portal(file)?;
    let server = Arc::new(server);
    let portal = portal.map(|p| p as Arc<dyn ScenarioPortal>);
    let transport = InProcess::new(Arc::clone(&server));
    let content = InProcessContent::new(Arc::clone(&server));
    run_against(
        &transport,
        &content,
        store,
        &server,
        portal,
        file,
        Pace::Sleep,
    )
    .await
}

/// Extra sessions a device may open on its own to deliver what it still owes the server.
pub(super) const EXTRA_SESSIONS: u32 = 3;

/// Build the scenario's device and run its sessions over `transport` to `server`: `sessions` of
/// them (the first one started by a notification when the scenario says so), then up to
/// [`EXTRA_SESSIONS`] more while the device still has reports to deliver. After each session the
/// device saves its state and runs the job the session gave it (a FUMO download or update),
/// fetching content with `content`.
///
/// With `portal` (the portal the server plays, for a scenario with `[portal]`), the scenario's
/// `[[portal.call]]`s are made at their moments ([`super::portal_calls`]), at the device's clock,
/// and the portal's clock is set to the device's before each session.
pub(super) async fn run_against<T: Transport, C: ContentClient>(
    transport: &T,
    content: &C,
    store: &dyn StateStore,
    server: &MockServer,
    portal: Option<Arc<dyn ScenarioPortal>>,
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
    let placeholders = Placeholders::of(device.dev_id());
    let mut api_calls = Vec::new();
    let mut calls = |moment: Moment, now: u64| match (&portal, &file.portal) {
        (Some(portal), Some(spec)) => make_calls(
            portal.as_ref(),
            spec,
            moment,
            &placeholders,
            now,
            &mut api_calls,
        ),
        _ => Ok(()),
    };
    let planned = file.sessions.max(1);
    for n in 0..planned + EXTRA_SESSIONS {
        if n >= planned && device.reports.pending().is_empty() {
            break;
        }
        if n > 0 {
            device.clock = device.clock.saturating_add(file.session_interval);
        }
        calls(Moment::BeforeSession(n + 1), device.clock)?;
        if let Some(portal) = &portal {
            portal.set_now(device.clock);
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
    calls(Moment::End, device.clock)?;
    Ok(Outcome {
        reports,
        device: owned,
        records: server.records(),
        refused: server.refused(),
        notifications: server.install_notifications(),
        content_faults_fired: server.content_faults_fired(),
        session_faults_fired: server.session_faults_fired(),
        api_calls,
        portal_faults_fired: portal
            .as_ref()
            .map(|p| p.faults_fired())
            .unwrap_or_default(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::load::parse;
    use crate::scenario::portal_calls::tests::FakePortal;
    use crate::storage::MemoryStore;
    use std::path::Path;

    /// Calls are made at their moments: `start` and `session 1` before the first session (in the
    /// order written), `session 2` after the first session and the time between sessions, `end`
    /// after the last; each at the device's clock, which the portal is also set to before each
    /// session.
    #[tokio::test(start_paused = true)]
    async fn portal_calls_are_made_at_their_moments_around_the_sessions() {
        let call = |at: &str, path: &str| {
            format!("[[portal.call]]\nat = \"{at}\"\nmethod = \"GET\"\npath = \"{path}\"\nstatus = 200\n")
        };
        let text = format!(
            "name = \"x\"\nsessions = 2\nsession_interval = 60\n[portal]\n{}{}{}{}",
            call("end", "/api/efota/end"),
            call("session 2", "/api/efota/two"),
            call("start", "/api/efota/start"),
            call("session 1", "/api/efota/one"),
        );
        let file = parse(Path::new("s.toml"), &text).expect("valid").file;
        let server = Arc::new(super::super::server::mock_server(&file).expect("server"));
        let seen = Arc::clone(&server);
        let portal = Arc::new(FakePortal {
            probe: Some(Box::new(move || seen.records().len().to_string())),
            ..FakePortal::default()
        });
        let transport = InProcess::new(Arc::clone(&server));
        let content = InProcessContent::new(Arc::clone(&server));
        let store = MemoryStore::new();
        let outcome = run_against(
            &transport,
            &content,
            &store,
            &server,
            Some(Arc::clone(&portal) as Arc<dyn ScenarioPortal>),
            &file,
            Pace::Sleep,
        )
        .await
        .expect("ran");
        assert_eq!(outcome.reports.len(), 2);
        let asked = portal.asked.lock().expect("lock").clone();
        let made: Vec<(&str, &str)> = asked
            .iter()
            .map(|a| (a.path.as_str(), a.seen.as_str()))
            .collect();
        // What the server had recorded of the device's sessions when each call was made.
        assert_eq!(
            made,
            [
                ("/api/efota/start", "0"),
                ("/api/efota/one", "0"),
                ("/api/efota/two", "1"),
                ("/api/efota/end", "2"),
            ]
        );
        let start = asked[0].now;
        assert_eq!(asked[1].now, start);
        assert!(asked[2].now >= start + 60, "{asked:?}");
        assert_eq!(asked[3].now, outcome.device.clock);
        let records: Vec<(usize, Option<usize>, u16)> = outcome
            .api_calls
            .iter()
            .map(|r| (r.index, r.before, r.status))
            .collect();
        assert_eq!(
            records,
            [
                (2, Some(0), 200),
                (3, Some(0), 200),
                (1, Some(1), 200),
                (0, None, 200)
            ]
        );
        // The clock is set before each call and each session: start, one, session 1, two,
        // session 2, end.
        let clock = portal.clock.lock().expect("lock").clone();
        assert_eq!(
            clock,
            [
                start,
                start,
                start,
                asked[2].now,
                asked[2].now,
                asked[3].now
            ]
        );
    }

    /// A `[portal]` whose catalogue does not read is an error naming it, not a run without the
    /// portal.
    #[tokio::test(start_paused = true)]
    async fn a_portal_that_does_not_read_is_an_error() {
        let text = "name = \"x\"\n[portal]\nbogus = 1\n";
        let file = parse(Path::new("s.toml"), text).expect("valid").file;
        let e = run_in_process(&file, &MemoryStore::new())
            .await
            .err()
            .expect("a bad portal");
        assert!(
            e.to_string().starts_with("[portal]: unknown field `bogus`"),
            "{e}"
        );
    }
}
