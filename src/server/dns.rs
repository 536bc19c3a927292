//! A DNS server for a simulated network ([`DnsResponder`]): a table of names and their addresses,
//! answering queries by bytes (RFC 1035 §4.1: a query's message in, the answer's out), sans-IO. A
//! name it does not know is NXDOMAIN; a fault ([`DnsFault`]) makes it answer SERVFAIL or NXDOMAIN
//! for every name, or not answer at all. A query it cannot read is answered FORMERR when its id can
//! be read, else not at all.

use crate::protocol::dns::{Message, Rcode, Record, RecordData, RecordType, CLASS_IN};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// How long a device may keep an answer: the responder's answers are for one run.
const TTL: u32 = 60;

/// What the responder does instead of answering from its table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DnsFault {
    /// Every name is NXDOMAIN.
    NxDomain,
    /// Every query is SERVFAIL.
    ServFail,
    /// No query is answered (the client times out).
    Silent,
}

/// Names and their addresses, and a fault.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DnsResponder {
    names: BTreeMap<String, Vec<IpAddr>>,
    fault: Option<DnsFault>,
}

impl DnsResponder {
    pub fn new() -> DnsResponder {
        DnsResponder::default()
    }

    /// `name` has `addresses` (case-insensitive; a trailing dot is ignored).
    pub fn with_name(mut self, name: &str, addresses: Vec<IpAddr>) -> DnsResponder {
        self.names.insert(key(name), addresses);
        self
    }

    pub fn with_fault(mut self, fault: Option<DnsFault>) -> DnsResponder {
        self.fault = fault;
        self
    }

    /// The answer to a query's bytes, or `None` for no answer.
    pub fn answer(&self, query: &[u8]) -> Option<Vec<u8>> {
        let query = match Message::decode(query) {
            Ok(q) if !q.response => q,
            _ => {
                // FORMERR to a message whose id can be read.
                let id = u16::from_be_bytes([*query.first()?, *query.get(1)?]);
                let mut empty = Message::query(id, "", RecordType::A);
                empty.questions.clear();
                return empty.response_to(Rcode::FormatError, vec![]).encode().ok();
            }
        };
        let (rcode, answers) = match self.fault {
            Some(DnsFault::Silent) => return None,
            Some(DnsFault::ServFail) => (Rcode::ServerFailure, vec![]),
            Some(DnsFault::NxDomain) => (Rcode::NameError, vec![]),
            None => self.lookup(&query),
        };
        query.response_to(rcode, answers).encode().ok()
    }

    fn lookup(&self, query: &Message) -> (Rcode, Vec<Record>) {
        let [question] = query.questions.as_slice() else {
            return (Rcode::FormatError, vec![]);
        };
        let Some(addresses) = self.names.get(&key(&question.name)) else {
            return (Rcode::NameError, vec![]);
        };
        let answers = addresses
            .iter()
            .filter_map(|a| match (a, question.qtype) {
                (IpAddr::V4(a), RecordType::A) => Some(RecordData::A(*a)),
                (IpAddr::V6(a), RecordType::Aaaa) => Some(RecordData::Aaaa(*a)),
                _ => None,
            })
            .map(|data| Record {
                name: question.name.clone(),
                class: CLASS_IN,
                ttl: TTL,
                data,
            })
            .collect();
        (Rcode::NoError, answers)
    }
}

fn key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn ask(responder: &DnsResponder, name: &str, qtype: RecordType) -> Option<Message> {
        let query = Message::query(42, name, qtype).encode().unwrap();
        responder
            .answer(&query)
            .map(|a| Message::decode(&a).unwrap())
    }

    #[test]
    fn names_are_answered_from_the_table_and_faults_override_it() {
        let ip = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7));
        let r = DnsResponder::new().with_name("FW.example.com.", vec![ip]);
        let a = ask(&r, "fw.example.com", RecordType::A).unwrap();
        assert_eq!((a.id, a.rcode), (42, Rcode::NoError));
        assert_eq!(a.answers[0].data.address(), Some(ip));
        let none = ask(&r, "fw.example.com", RecordType::Aaaa).unwrap();
        assert!(none.answers.is_empty() && none.rcode == Rcode::NoError);
        assert_eq!(
            ask(&r, "other.example.com", RecordType::A).unwrap().rcode,
            Rcode::NameError
        );
        let r = r.with_fault(Some(DnsFault::ServFail));
        assert_eq!(
            ask(&r, "fw.example.com", RecordType::A).unwrap().rcode,
            Rcode::ServerFailure
        );
        let r = r.with_fault(Some(DnsFault::NxDomain));
        assert_eq!(
            ask(&r, "fw.example.com", RecordType::A).unwrap().rcode,
            Rcode::NameError
        );
        assert!(ask(
            &r.with_fault(Some(DnsFault::Silent)),
            "fw.example.com",
            RecordType::A
        )
        .is_none());
    }

    #[test]
    fn unreadable_queries_get_formerr_or_nothing() {
        let r = DnsResponder::new();
        let answer = Message::decode(&r.answer(&[0, 9, 1]).unwrap()).unwrap();
        assert_eq!((answer.id, answer.rcode), (9, Rcode::FormatError));
        assert_eq!(r.answer(&[1]), None);
    }
}
