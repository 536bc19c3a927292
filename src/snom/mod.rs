//! The Snom m3 DECT base station: a device family of its own, not OMA-DM. The base updates its
//! gateway (its own firmware) and its handsets over HTTP from a firmware server: it looks the
//! server's name up, fetches the DirList and the selected version's `.fwu` files
//! ([`crate::package::snom`]), checks and writes them, and shows "Code N" on its display, N from
//! the profile's `snom-m3` table (`profiles/snom-m3.toml`).
//!
//! * [`config`]: the settings (server, credentials, folder, version, language, flash sizes);
//! * [`state`]: the durable state (the gateway's A/B slots, the handsets) and the display log;
//! * [`base`]: the base station, its saves and its device faults;
//! * [`job`]: the update as a sans-IO state machine, each code from its cause;
//! * [`resolver`]: the name lookup by DNS messages;
//! * [`driver`]: [`run_update`], the job run to its end against a content client and a resolver.

pub mod base;
pub mod config;
pub mod driver;
pub mod job;
pub mod resolver;
pub mod state;

pub use base::{Base, BaseError, WriteError};
pub use config::{Credentials, SnomConfig};
pub use driver::{run_update, Ended};
pub use job::{Action, Input, Request, SnomCodes, Stage, UpdateJob};
pub use resolver::{DnsExchange, DnsResolver, LookupError, Resolver};
pub use state::{BaseState, DisplayLog, Gateway, Handset};

#[cfg(test)]
mod tests;
