//! A DNS server in the same process ([`InProcessDns`]): the [`DnsExchange`] of a Snom m3 base
//! whose lookups go straight to a [`DnsResponder`], no sockets.

use crate::server::dns::DnsResponder;
use crate::snom::DnsExchange;
use std::sync::Arc;

/// A base's DNS server, called directly. Cheap to clone.
#[derive(Debug, Clone)]
pub struct InProcessDns {
    responder: Arc<DnsResponder>,
}

impl InProcessDns {
    pub fn new(responder: Arc<DnsResponder>) -> InProcessDns {
        InProcessDns { responder }
    }
}

impl DnsExchange for InProcessDns {
    async fn exchange(&self, query: Vec<u8>) -> Option<Vec<u8>> {
        self.responder.answer(&query)
    }
}
