//! How a Snom m3 base finds its firmware server's address: the [`Resolver`] its update's driver
//! asks, and [`DnsResolver`], which does a real DNS lookup: it encodes a query
//! ([`crate::protocol::dns`], RFC 1035 §4.1), hands the bytes to a [`DnsExchange`] (a DNS server:
//! in process, over UDP, or scripted by a test) and decodes the answer. Any failure is Code 11
//! (`update.name-lookup-failed`): NXDOMAIN, SERVFAIL or another error RCODE, an answer with no
//! address, an answer that is not a DNS response to the query, or no answer at all.
//!
//! The lookup asks for A records first and, when the answer holds none, for AAAA records.

use crate::protocol::dns::{DnsError, Message, Rcode, RecordType};
use std::future::Future;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU16, Ordering};

/// Why a name has no address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    /// The name cannot be asked for (an empty label, a label or name too long).
    #[error("{0:?} is not a name DNS can look up: {1}")]
    BadName(String, DnsError),
    /// The DNS server answered NXDOMAIN.
    #[error("no such name (NXDOMAIN)")]
    NoSuchName,
    /// The DNS server answered with another error RCODE (SERVFAIL, REFUSED…).
    #[error("the DNS server answered {0}")]
    ServerFailed(Rcode),
    /// The answer holds no address of the name.
    #[error("the name has no address")]
    NoAddress,
    /// The answer is not a DNS response to the query.
    #[error("not a DNS answer to the query: {0}")]
    BadAnswer(String),
    /// No answer came within the resolver's time.
    #[error("no answer from the DNS server")]
    NoAnswer,
    /// The operating system's resolver (which speaks DNS, or reads a hosts file, on the device's
    /// behalf) found no address; its reason.
    #[error("the system resolver: {0}")]
    System(String),
}

/// How a base's update looks a name up.
pub trait Resolver: Send + Sync {
    fn lookup(&self, host: &str) -> impl Future<Output = Result<Vec<IpAddr>, LookupError>> + Send;
}

/// A DNS server, by bytes: a query's message in, the answer's message out (`None`: no answer
/// within the client's time).
pub trait DnsExchange: Send + Sync {
    fn exchange(&self, query: Vec<u8>) -> impl Future<Output = Option<Vec<u8>>> + Send;
}

/// A resolver that asks a DNS server through an exchange.
#[derive(Debug)]
pub struct DnsResolver<X> {
    exchange: X,
    next_id: AtomicU16,
}

impl<X: DnsExchange> DnsResolver<X> {
    /// The DNS server it asks.
    pub fn exchange(&self) -> &X {
        &self.exchange
    }

    pub fn new(exchange: X) -> DnsResolver<X> {
        DnsResolver {
            exchange,
            next_id: AtomicU16::new(1),
        }
    }

    /// The addresses of one type, from one query and its answer.
    async fn ask(&self, host: &str, qtype: RecordType) -> Result<Vec<IpAddr>, LookupError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let query = Message::query(id, host, qtype);
        let bytes = query
            .encode()
            .map_err(|e| LookupError::BadName(host.to_string(), e))?;
        let answer = self
            .exchange
            .exchange(bytes)
            .await
            .ok_or(LookupError::NoAnswer)?;
        addresses(&query, &answer)
    }
}

impl<X: DnsExchange> Resolver for DnsResolver<X> {
    async fn lookup(&self, host: &str) -> Result<Vec<IpAddr>, LookupError> {
        let v4 = self.ask(host, RecordType::A).await?;
        if !v4.is_empty() {
            return Ok(v4);
        }
        match self.ask(host, RecordType::Aaaa).await? {
            v6 if v6.is_empty() => Err(LookupError::NoAddress),
            v6 => Ok(v6),
        }
    }
}

/// The addresses an answer gives for a query (empty when it has none of the type asked for).
pub fn addresses(query: &Message, answer: &[u8]) -> Result<Vec<IpAddr>, LookupError> {
    let answer = Message::decode(answer).map_err(|e| LookupError::BadAnswer(e.to_string()))?;
    if !answer.response || answer.id != query.id {
        return Err(LookupError::BadAnswer(format!(
            "message {} is not the response to query {}",
            answer.id, query.id
        )));
    }
    match answer.rcode {
        Rcode::NoError => {}
        Rcode::NameError => return Err(LookupError::NoSuchName),
        other => return Err(LookupError::ServerFailed(other)),
    }
    let Some(question) = query.questions.first() else {
        return Ok(Vec::new());
    };
    Ok(answer
        .answers
        .iter()
        .filter(|r| r.data.rtype() == question.qtype)
        .filter_map(|r| r.data.address())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::dns::{Record, RecordData, CLASS_IN};
    use std::net::Ipv4Addr;

    /// A DNS server answering every query with `answer(query)`.
    struct Scripted(fn(&Message) -> Option<Message>);

    impl DnsExchange for Scripted {
        async fn exchange(&self, query: Vec<u8>) -> Option<Vec<u8>> {
            let query = Message::decode(&query).expect("the resolver sends a valid query");
            (self.0)(&query).map(|m| m.encode().expect("encodable"))
        }
    }

    fn lookup(answer: fn(&Message) -> Option<Message>) -> Result<Vec<IpAddr>, LookupError> {
        let resolver = DnsResolver::new(Scripted(answer));
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(resolver.lookup("fw.example.com"))
    }

    #[test]
    fn addresses_come_from_the_answer_records() {
        let got = lookup(|q| {
            let qtype = q.questions[0].qtype;
            let answers = if qtype == RecordType::A {
                vec![Record {
                    name: q.questions[0].name.clone(),
                    class: CLASS_IN,
                    ttl: 60,
                    data: RecordData::A(Ipv4Addr::new(192, 0, 2, 1)),
                }]
            } else {
                vec![]
            };
            Some(q.response_to(Rcode::NoError, answers))
        });
        assert_eq!(got, Ok(vec![IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))]));
        let v6_only = lookup(|q| {
            let answers = if q.questions[0].qtype == RecordType::Aaaa {
                vec![Record {
                    name: q.questions[0].name.clone(),
                    class: CLASS_IN,
                    ttl: 60,
                    data: RecordData::Aaaa("2001:db8::5".parse().unwrap()),
                }]
            } else {
                vec![]
            };
            Some(q.response_to(Rcode::NoError, answers))
        });
        assert_eq!(v6_only, Ok(vec!["2001:db8::5".parse::<IpAddr>().unwrap()]));
    }

    #[test]
    fn every_failure_is_a_typed_lookup_error() {
        assert_eq!(
            lookup(|q| Some(q.response_to(Rcode::NameError, vec![]))),
            Err(LookupError::NoSuchName)
        );
        assert_eq!(
            lookup(|q| Some(q.response_to(Rcode::ServerFailure, vec![]))),
            Err(LookupError::ServerFailed(Rcode::ServerFailure))
        );
        assert_eq!(
            lookup(|q| Some(q.response_to(Rcode::NoError, vec![]))),
            Err(LookupError::NoAddress)
        );
        assert_eq!(lookup(|_| None), Err(LookupError::NoAnswer));
        assert!(matches!(
            lookup(|q| {
                let mut m = q.response_to(Rcode::NoError, vec![]);
                m.id = m.id.wrapping_add(1);
                Some(m)
            }),
            Err(LookupError::BadAnswer(_))
        ));
        assert!(matches!(
            lookup(|q| Some(q.clone())),
            Err(LookupError::BadAnswer(_))
        ));
    }
}
