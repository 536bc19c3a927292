//! Receiving a Package #0 notification: the device checks it and opens a server-initiated session.
//!
//! The notification names a server; the device looks up that server's DM account, checks the digest
//! with the account's `SRVCRED` name, secret and nonce (reference §4; the resync nonces of §2.4 are
//! accepted too), and starts a session with Alert 1200 and the notified session id. A notification for
//! an unknown server or with a wrong digest is dropped, as a real device drops it: no session starts.
//! An account without `SRVCRED` cannot check the digest and trusts the notification.

use super::account::Account;
use super::client::{Initiator, SessionStart};
use crate::device::Device;
use crate::syncml::pkg0::{self, Pkg0Error};

/// Why a device ignored a notification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotificationRejected {
    #[error("malformed notification: {0}")]
    Malformed(Pkg0Error),
    #[error("notification from {0:?}, a server the device has no account for")]
    UnknownServer(String),
    #[error("notification digest does not match the credentials of server {0:?}")]
    BadDigest(String),
}

/// Check a notification and say how the session it asks for starts.
pub fn accept_notification(
    device: &Device,
    bytes: &[u8],
) -> Result<SessionStart, NotificationRejected> {
    let parsed = pkg0::parse(bytes).map_err(NotificationRejected::Malformed)?;
    let server_id = parsed.notification.server_id.clone();
    let account = Account::find(&device.tree, Some(&server_id))
        .ok_or_else(|| NotificationRejected::UnknownServer(server_id.clone()))?;
    if let Some(srv) = &account.server {
        let nonce = device.tree.value(&srv.data_uri).unwrap_or_default();
        // The digest is keyed with the server's name: its SRVCRED AAuthName (libdmclient) or the
        // server id of the trigger (the Motorola engine); accept either.
        let used = parsed
            .verify_as(&srv.secret.name, &srv.secret.secret, nonce)
            .or_else(|_| parsed.verify_as(&server_id, &srv.secret.secret, nonce))
            .map_err(|_| NotificationRejected::BadDigest(server_id.clone()))?;
        if used.is_resync() {
            tracing::debug!(server = %server_id, "notification verified with the resync nonce");
        }
    }
    Ok(SessionStart {
        initiator: Initiator::Server {
            session_id: parsed.notification.session_id,
        },
        server_id: Some(server_id),
    })
}
