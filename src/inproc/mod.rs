//! A device and the embedded mock server in one process: the glue between the device side and the
//! server side when no sockets are wanted (scenario runs under simulated time, tests, benches).
//!
//! * [`InProcess`]: the [`Transport`](crate::transport::Transport) whose messages go straight to
//!   [`MockServer::handle`](crate::server::MockServer::handle);
//! * [`InProcessContent`]: the [`ContentClient`](crate::download::ContentClient) whose requests go
//!   straight to [`MockServer::content`](crate::server::MockServer::content);
//! * [`InProcessDns`]: the [`DnsExchange`](crate::snom::DnsExchange) of a Snom m3 base whose
//!   lookups go straight to a [`DnsResponder`](crate::server::dns::DnsResponder).
//!
//! Neither side knows the other: the traits are the device's, the server is plain sans-IO, and
//! this module (like `net` for real sockets) sits above both.

mod content;
mod dns;
mod transport;

pub use content::InProcessContent;
pub use dns::InProcessDns;
pub use transport::InProcess;
