//! Name lookups of a Snom m3 base on a real network, for `dmsim device --profile snom-m3`:
//!
//! * [`SystemResolver`], a [`Resolver`] that asks the operating system (`getaddrinfo` through
//!   `tokio::net::lookup_host`), as a base on the user's network would find the server: DNS as the
//!   machine is set up for it, `/etc/hosts` included. Its failures are [`LookupError::System`].
//! * [`UdpDns`], a [`DnsExchange`] that sends the base's own DNS query to one DNS server over UDP
//!   (RFC 1035 §4.2.1: one datagram each way, at most 512 bytes) and waits a bounded time for the
//!   answer; with [`crate::snom::DnsResolver`] the whole lookup is the base's own, by DNS messages.
//! * [`LookedUp`], the addresses a base found, kept by [`Remembering`] around its resolver: the
//!   base's HTTP client ([`super::HttpContent::with_names`]) connects to those, so the address the
//!   base looked up is the one it fetches from, whichever resolver found it.

use crate::snom::{DnsExchange, LookupError, Resolver};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::net::UdpSocket;

/// The largest DNS message over UDP without extensions (RFC 1035 §4.2.1).
pub const MAX_UDP_MESSAGE: usize = 512;

/// Names looked up by the operating system.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

impl Resolver for SystemResolver {
    async fn lookup(&self, host: &str) -> Result<Vec<IpAddr>, LookupError> {
        // A URL's IPv6 literal comes in brackets; the port does not matter for the addresses.
        let name = host.trim_start_matches('[').trim_end_matches(']');
        let found = tokio::net::lookup_host((name, 0))
            .await
            .map_err(|e| LookupError::System(e.to_string()))?;
        let mut addresses: Vec<IpAddr> = Vec::new();
        for a in found {
            if !addresses.contains(&a.ip()) {
                addresses.push(a.ip());
            }
        }
        if addresses.is_empty() {
            return Err(LookupError::NoAddress);
        }
        Ok(addresses)
    }
}

/// The addresses of the names a device looked up (names in lower case), shared by its resolver
/// ([`Remembering`]) and its HTTP client. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct LookedUp {
    names: Arc<Mutex<HashMap<String, Vec<IpAddr>>>>,
}

impl LookedUp {
    pub fn new() -> LookedUp {
        LookedUp::default()
    }

    /// The addresses found for `host`, if it was looked up.
    pub fn get(&self, host: &str) -> Option<Vec<IpAddr>> {
        let names = self.names.lock().unwrap_or_else(PoisonError::into_inner);
        names.get(&host.to_ascii_lowercase()).cloned()
    }

    fn remember(&self, host: &str, addresses: &[IpAddr]) {
        let mut names = self.names.lock().unwrap_or_else(PoisonError::into_inner);
        names.insert(host.to_ascii_lowercase(), addresses.to_vec());
    }
}

impl reqwest::dns::Resolve for LookedUp {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        let found = self.get(&host);
        Box::pin(async move {
            let addresses = match found {
                Some(addresses) => addresses,
                None => SystemResolver
                    .lookup(&host)
                    .await
                    .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)?,
            };
            // Port 0: the client puts the URL's port in.
            let addrs: reqwest::dns::Addrs = Box::new(
                addresses
                    .into_iter()
                    .map(|ip| SocketAddr::new(ip, 0))
                    .collect::<Vec<_>>()
                    .into_iter(),
            );
            Ok(addrs)
        })
    }
}

/// A resolver that keeps what it found in a [`LookedUp`].
#[derive(Debug)]
pub struct Remembering<R> {
    resolver: R,
    found: LookedUp,
}

impl<R: Resolver> Remembering<R> {
    pub fn new(resolver: R, found: LookedUp) -> Remembering<R> {
        Remembering { resolver, found }
    }
}

impl<R: Resolver> Resolver for Remembering<R> {
    async fn lookup(&self, host: &str) -> Result<Vec<IpAddr>, LookupError> {
        let addresses = self.resolver.lookup(host).await?;
        self.found.remember(
            host.trim_start_matches('[').trim_end_matches(']'),
            &addresses,
        );
        Ok(addresses)
    }
}

/// A DNS server over UDP.
#[derive(Debug, Clone, Copy)]
pub struct UdpDns {
    server: SocketAddr,
    wait: Duration,
}

impl UdpDns {
    /// Ask `server`, waiting at most `wait` for each answer.
    pub fn new(server: SocketAddr, wait: Duration) -> UdpDns {
        UdpDns { server, wait }
    }

    async fn ask(&self, query: &[u8]) -> std::io::Result<Vec<u8>> {
        let local: SocketAddr = match self.server {
            SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
            SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
        };
        let socket = UdpSocket::bind(local).await?;
        // Connected: datagrams from anyone else are not taken for the answer.
        socket.connect(self.server).await?;
        socket.send(query).await?;
        let mut buffer = vec![0; MAX_UDP_MESSAGE];
        let n = socket.recv(&mut buffer).await?;
        buffer.truncate(n);
        Ok(buffer)
    }
}

impl DnsExchange for UdpDns {
    async fn exchange(&self, query: Vec<u8>) -> Option<Vec<u8>> {
        match tokio::time::timeout(self.wait, self.ask(&query)).await {
            Ok(Ok(answer)) => Some(answer),
            Ok(Err(e)) => {
                tracing::debug!(server = %self.server, error = %e, "no DNS answer");
                None
            }
            Err(_) => {
                tracing::debug!(server = %self.server, wait = ?self.wait, "no DNS answer in time");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::dns::{DnsFault, DnsResponder};
    use crate::snom::DnsResolver;

    /// A DNS server on a loopback UDP socket, answering from `responder` until dropped.
    async fn serve(responder: DnsResponder) -> (SocketAddr, tokio::task::JoinHandle<()>) {
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = socket.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let mut buffer = vec![0; MAX_UDP_MESSAGE];
            while let Ok((n, from)) = socket.recv_from(&mut buffer).await {
                if let Some(answer) = responder.answer(&buffer[..n]) {
                    let _ = socket.send_to(&answer, from).await;
                }
            }
        });
        (addr, task)
    }

    #[tokio::test]
    async fn a_lookup_over_udp_gets_the_servers_addresses_and_its_errors() {
        let address: IpAddr = "192.0.2.7".parse().unwrap();
        let (addr, task) = serve(DnsResponder::new().with_name("fw.m3.test", vec![address])).await;
        let resolver = DnsResolver::new(UdpDns::new(addr, Duration::from_secs(5)));
        assert_eq!(resolver.lookup("fw.m3.test").await, Ok(vec![address]));
        assert_eq!(
            resolver.lookup("other.m3.test").await,
            Err(LookupError::NoSuchName)
        );
        task.abort();
    }

    // Paused time: the wait passes as soon as nothing else can happen.
    #[tokio::test(start_paused = true)]
    async fn a_silent_server_is_no_answer() {
        let (addr, task) = serve(DnsResponder::new().with_fault(Some(DnsFault::Silent))).await;
        let resolver = DnsResolver::new(UdpDns::new(addr, Duration::from_secs(5)));
        assert_eq!(
            resolver.lookup("fw.m3.test").await,
            Err(LookupError::NoAnswer)
        );
        task.abort();
    }

    #[tokio::test]
    async fn the_http_client_gets_the_addresses_the_device_looked_up() {
        use reqwest::dns::Resolve;
        let found = LookedUp::new();
        let address: IpAddr = "192.0.2.9".parse().unwrap();
        struct Local(DnsResponder);
        impl DnsExchange for Local {
            async fn exchange(&self, query: Vec<u8>) -> Option<Vec<u8>> {
                self.0.answer(&query)
            }
        }
        let responder = DnsResponder::new().with_name("fw.m3.test", vec![address]);
        let resolver = Remembering::new(DnsResolver::new(Local(responder)), found.clone());
        assert_eq!(found.get("fw.m3.test"), None);
        assert_eq!(resolver.lookup("FW.m3.test").await, Ok(vec![address]));
        let name: reqwest::dns::Name = "fw.m3.test".parse().unwrap();
        let addrs: Vec<SocketAddr> = found.resolve(name).await.unwrap().collect();
        assert_eq!(addrs, [SocketAddr::new(address, 0)]);
        // A name the device did not look up: the operating system's answer.
        let name: reqwest::dns::Name = "127.0.0.1".parse().unwrap();
        let addrs: Vec<SocketAddr> = found.resolve(name).await.unwrap().collect();
        assert_eq!(addrs, [SocketAddr::new(Ipv4Addr::LOCALHOST.into(), 0)]);
    }

    #[tokio::test]
    async fn the_system_resolves_ip_literals_and_refuses_invalid_names() {
        assert_eq!(
            SystemResolver.lookup("127.0.0.1").await,
            Ok(vec![IpAddr::V4(Ipv4Addr::LOCALHOST)])
        );
        assert_eq!(
            SystemResolver.lookup("[::1]").await,
            Ok(vec![IpAddr::V6(Ipv6Addr::LOCALHOST)])
        );
        // RFC 6761 §6.4: no name under .invalid resolves.
        assert!(matches!(
            SystemResolver.lookup("fw.dmsim.invalid").await,
            Err(LookupError::System(_))
        ));
    }
}
