//! The DM client session: a sans-IO state machine ([`ClientSession`]) and a thin async driver
//! ([`run_session`]) that moves its messages over a [`crate::transport::Transport`].

mod account;
mod client;
mod driver;
mod notification;
pub mod violation;

pub use account::{Account, AuthEntry};
pub use client::{
    ClientSession, Initiator, Outgoing, SessionEnd, SessionStart, StartError, Step, MAX_MESSAGES,
};
pub use driver::{
    exchange_failure, run_session, run_session_watched, run_session_with, DriverOptions, Exchange,
    Pace, SessionReport,
};
pub use notification::{accept_notification, NotificationRejected};
pub use violation::{ServerRule, Violation};

#[cfg(test)]
mod hearing_tests;
#[cfg(test)]
mod tests;
