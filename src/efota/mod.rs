//! The Samsung Knox E-FOTA Advanced client of a `knox-efota` device: an agent of the engine that
//! owns the client's own subtree (configuration, license, client version, the device-ready and
//! inventory paths) and reports every operation of the device in the E-FOTA codes of
//! `profiles/knox-efota.toml`.
//!
//! * [`mo`]: the client's subtree under `./Ext/EFOTA` (dmsim's layout; Samsung does not publish
//!   the real client's);
//! * [`agent`]: the agent. After another agent's job (FUMO, SCOMO) has reported its OMA result, it
//!   reports the same ending as an E-FOTA code ([`crate::engine::Agent::witness`]): the row of the
//!   profile's `knox-efota` table that names the outcome, else the row whose `from` names the OMA
//!   code reported (the relation of reference §10: -(2000 + FUMO result), -(SCOMO result)). The
//!   report's format is [`crate::protocol::efota`];
//! * [`client`]: the client's own operations, each a job of the agent: [`license`] (retrieve the
//!   license: 956, 957), [`config`] (install a configuration profile of [`settings`]: 0, -1460,
//!   -1461, -1462, 1465, 1464) and [`items`] (download items through OMA Download and install
//!   them: 900, the DL statuses, 907, 955, 958, 959, 960, 970);
//! * [`session`]: the reports of DM sessions that failed before they got through (-2406, -2407,
//!   -5000), sent in the next session that does;
//! * [`statuses`]: the reports of the SyncML statuses the device sends, -(6000 + status), once
//!   per code per session, in the device's next message;
//! * [`dispatch`]: an Exec on the `Operations` node names the operation in its Data; a name the
//!   client does not have is refused 403 (-6403 "the command was not found").

pub mod agent;
pub mod client;
pub mod config;
pub mod dispatch;
pub mod items;
pub mod license;
pub mod mo;
pub mod session;
pub mod settings;
pub mod statuses;
#[cfg(test)]
mod tests;

pub use agent::{Efota, EfotaConfig};
