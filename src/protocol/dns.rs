//! DNS messages (RFC 1035 §4.1), as much of them as a device's name lookup needs: the header
//! (§4.1.1), questions (§4.1.2) and answer records (§4.1.3) of type A (§3.4.1) and AAAA
//! (RFC 3596 §2.2), and the response code (RCODE). Pure: a device encodes a [`Message::query`] and
//! decodes the answer with [`Message::decode`]; a responder decodes the query and encodes its
//! answer with [`Message::encode`].
//!
//! Decoding reads any bytes without panicking: every length is checked against what is left,
//! compressed names (§4.1.4) follow at most [`MAX_POINTERS`] pointers and must point backwards, and
//! a name is at most 255 octets (§2.3.4). Records of other types are kept as raw data; the
//! authority and additional sections are not read (a lookup needs only the answers). Encoding
//! writes names uncompressed.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The header's length (§4.1.1).
pub const HEADER_LEN: usize = 12;
/// The most octets a name takes on the wire (§2.3.4).
pub const MAX_NAME_LEN: usize = 255;
/// The most octets a label holds (§2.3.4).
pub const MAX_LABEL_LEN: usize = 63;
/// How many compression pointers one name may follow before the decoder gives up.
pub const MAX_POINTERS: usize = 32;
/// The class of every record a device asks for: IN (§3.2.4).
pub const CLASS_IN: u16 = 1;

/// A record type (§3.2.2): the two a lookup asks for, or another one read from an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordType {
    /// An IPv4 host address (TYPE 1).
    A,
    /// An IPv6 host address (TYPE 28, RFC 3596).
    Aaaa,
    /// Any other type (CNAME, NS…), carried as its number.
    Other(u16),
}

impl RecordType {
    pub fn code(self) -> u16 {
        match self {
            RecordType::A => 1,
            RecordType::Aaaa => 28,
            RecordType::Other(code) => code,
        }
    }

    pub fn from_code(code: u16) -> RecordType {
        match code {
            1 => RecordType::A,
            28 => RecordType::Aaaa,
            other => RecordType::Other(other),
        }
    }
}

/// The response code (§4.1.1 RCODE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rcode {
    NoError,
    /// The server could not read the query.
    FormatError,
    /// The server failed (SERVFAIL).
    ServerFailure,
    /// The name does not exist (NXDOMAIN; meaningful from an authoritative server).
    NameError,
    /// The server does not do this kind of query.
    NotImplemented,
    /// The server refuses, by policy.
    Refused,
    /// 6-15: reserved in RFC 1035.
    Other(u8),
}

impl Rcode {
    pub fn code(self) -> u8 {
        match self {
            Rcode::NoError => 0,
            Rcode::FormatError => 1,
            Rcode::ServerFailure => 2,
            Rcode::NameError => 3,
            Rcode::NotImplemented => 4,
            Rcode::Refused => 5,
            Rcode::Other(code) => code & 0x0f,
        }
    }

    pub fn from_code(code: u8) -> Rcode {
        match code & 0x0f {
            0 => Rcode::NoError,
            1 => Rcode::FormatError,
            2 => Rcode::ServerFailure,
            3 => Rcode::NameError,
            4 => Rcode::NotImplemented,
            5 => Rcode::Refused,
            other => Rcode::Other(other),
        }
    }
}

impl fmt::Display for Rcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rcode::NoError => f.write_str("NOERROR"),
            Rcode::FormatError => f.write_str("FORMERR"),
            Rcode::ServerFailure => f.write_str("SERVFAIL"),
            Rcode::NameError => f.write_str("NXDOMAIN"),
            Rcode::NotImplemented => f.write_str("NOTIMP"),
            Rcode::Refused => f.write_str("REFUSED"),
            Rcode::Other(code) => write!(f, "RCODE {code}"),
        }
    }
}

/// A question (§4.1.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// The name, dot-separated, without the root's trailing dot.
    pub name: String,
    pub qtype: RecordType,
    pub qclass: u16,
}

/// What a record holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordData {
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    /// Another type's RDATA, as sent.
    Other {
        rtype: u16,
        data: Vec<u8>,
    },
}

impl RecordData {
    pub fn rtype(&self) -> RecordType {
        match self {
            RecordData::A(_) => RecordType::A,
            RecordData::Aaaa(_) => RecordType::Aaaa,
            RecordData::Other { rtype, .. } => RecordType::from_code(*rtype),
        }
    }

    /// The address an A or AAAA record holds.
    pub fn address(&self) -> Option<IpAddr> {
        match self {
            RecordData::A(a) => Some(IpAddr::V4(*a)),
            RecordData::Aaaa(a) => Some(IpAddr::V6(*a)),
            RecordData::Other { .. } => None,
        }
    }
}

/// A resource record of the answer section (§4.1.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub name: String,
    pub class: u16,
    pub ttl: u32,
    pub data: RecordData,
}

/// A DNS message: the header's fields a lookup uses, the questions and the answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: u16,
    /// QR: a response (not a query).
    pub response: bool,
    /// OPCODE (0: a standard query).
    pub opcode: u8,
    /// AA: the answer is authoritative.
    pub authoritative: bool,
    /// TC: the message was truncated.
    pub truncated: bool,
    /// RD: recursion desired.
    pub recursion_desired: bool,
    /// RA: recursion available.
    pub recursion_available: bool,
    pub rcode: Rcode,
    pub questions: Vec<Question>,
    pub answers: Vec<Record>,
}

/// Why bytes are not a DNS message, or a message cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DnsError {
    #[error("the message ends at byte {at}, inside its {part}")]
    Truncated { at: usize, part: &'static str },
    #[error("a label of {len} octets (at most {MAX_LABEL_LEN})")]
    LabelTooLong { len: usize },
    #[error("an empty label in {name:?}")]
    EmptyLabel { name: String },
    #[error("a name longer than {MAX_NAME_LEN} octets")]
    NameTooLong,
    #[error("a label type 0x{bits:02x} at byte {at} (only plain labels and pointers are defined)")]
    BadLabelType { bits: u8, at: usize },
    #[error("a compression pointer at byte {at} to byte {to}, not to an earlier name")]
    BadPointer { at: usize, to: usize },
    #[error("more than {MAX_POINTERS} compression pointers in one name")]
    PointerLoop,
    #[error("a {rtype:?} record of {len} octets of data")]
    BadRecordLength { rtype: RecordType, len: u16 },
    #[error("more than 65535 {0}")]
    TooMany(&'static str),
}

impl Message {
    /// A standard query with recursion desired for one name and type, class IN.
    pub fn query(id: u16, name: &str, qtype: RecordType) -> Message {
        Message {
            id,
            response: false,
            opcode: 0,
            authoritative: false,
            truncated: false,
            recursion_desired: true,
            recursion_available: false,
            rcode: Rcode::NoError,
            questions: vec![Question {
                name: name.trim_end_matches('.').to_string(),
                qtype,
                qclass: CLASS_IN,
            }],
            answers: Vec::new(),
        }
    }

    /// The response to this query: its id and questions, `rcode` and `answers`.
    pub fn response_to(&self, rcode: Rcode, answers: Vec<Record>) -> Message {
        Message {
            id: self.id,
            response: true,
            opcode: self.opcode,
            authoritative: true,
            truncated: false,
            recursion_desired: self.recursion_desired,
            recursion_available: true,
            rcode,
            questions: self.questions.clone(),
            answers,
        }
    }

    /// The message on the wire (names uncompressed).
    pub fn encode(&self) -> Result<Vec<u8>, DnsError> {
        let mut out = Vec::with_capacity(HEADER_LEN + 64);
        out.extend_from_slice(&self.id.to_be_bytes());
        let mut flags: u16 = 0;
        if self.response {
            flags |= 0x8000;
        }
        flags |= u16::from(self.opcode & 0x0f) << 11;
        if self.authoritative {
            flags |= 0x0400;
        }
        if self.truncated {
            flags |= 0x0200;
        }
        if self.recursion_desired {
            flags |= 0x0100;
        }
        if self.recursion_available {
            flags |= 0x0080;
        }
        flags |= u16::from(self.rcode.code());
        out.extend_from_slice(&flags.to_be_bytes());
        let count = |n: usize, what| u16::try_from(n).map_err(|_| DnsError::TooMany(what));
        out.extend_from_slice(&count(self.questions.len(), "questions")?.to_be_bytes());
        out.extend_from_slice(&count(self.answers.len(), "answers")?.to_be_bytes());
        out.extend_from_slice(&[0, 0, 0, 0]); // NSCOUNT, ARCOUNT
        for q in &self.questions {
            write_name(&mut out, &q.name)?;
            out.extend_from_slice(&q.qtype.code().to_be_bytes());
            out.extend_from_slice(&q.qclass.to_be_bytes());
        }
        for r in &self.answers {
            write_name(&mut out, &r.name)?;
            out.extend_from_slice(&r.data.rtype().code().to_be_bytes());
            out.extend_from_slice(&r.class.to_be_bytes());
            out.extend_from_slice(&r.ttl.to_be_bytes());
            let data: Vec<u8> = match &r.data {
                RecordData::A(a) => a.octets().to_vec(),
                RecordData::Aaaa(a) => a.octets().to_vec(),
                RecordData::Other { data, .. } => data.clone(),
            };
            out.extend_from_slice(&count(data.len(), "octets of record data")?.to_be_bytes());
            out.extend_from_slice(&data);
        }
        Ok(out)
    }

    /// Read a message (header, questions, answers; the sections after are not read).
    pub fn decode(bytes: &[u8]) -> Result<Message, DnsError> {
        let mut r = Reader { bytes, at: 0 };
        let id = r.u16("header")?;
        let flags = r.u16("header")?;
        let qdcount = r.u16("header")?;
        let ancount = r.u16("header")?;
        r.u16("header")?; // NSCOUNT
        r.u16("header")?; // ARCOUNT
        let mut questions = Vec::new();
        for _ in 0..qdcount {
            let name = r.name()?;
            let qtype = RecordType::from_code(r.u16("question")?);
            let qclass = r.u16("question")?;
            questions.push(Question {
                name,
                qtype,
                qclass,
            });
        }
        let mut answers = Vec::new();
        for _ in 0..ancount {
            let name = r.name()?;
            let rtype = RecordType::from_code(r.u16("record")?);
            let class = r.u16("record")?;
            let ttl = r.u32("record")?;
            let len = r.u16("record")?;
            let data = r.take(usize::from(len), "record data")?;
            let data = match rtype {
                RecordType::A => RecordData::A(Ipv4Addr::from(
                    <[u8; 4]>::try_from(data)
                        .map_err(|_| DnsError::BadRecordLength { rtype, len })?,
                )),
                RecordType::Aaaa => RecordData::Aaaa(Ipv6Addr::from(
                    <[u8; 16]>::try_from(data)
                        .map_err(|_| DnsError::BadRecordLength { rtype, len })?,
                )),
                RecordType::Other(code) => RecordData::Other {
                    rtype: code,
                    data: data.to_vec(),
                },
            };
            answers.push(Record {
                name,
                class,
                ttl,
                data,
            });
        }
        Ok(Message {
            id,
            response: flags & 0x8000 != 0,
            opcode: ((flags >> 11) & 0x0f) as u8,
            authoritative: flags & 0x0400 != 0,
            truncated: flags & 0x0200 != 0,
            recursion_desired: flags & 0x0100 != 0,
            recursion_available: flags & 0x0080 != 0,
            rcode: Rcode::from_code((flags & 0x000f) as u8),
            questions,
            answers,
        })
    }
}

/// Whether two names are the same name: DNS compares ASCII case-insensitively (§2.3.3).
pub fn same_name(a: &str, b: &str) -> bool {
    a.trim_end_matches('.')
        .eq_ignore_ascii_case(b.trim_end_matches('.'))
}

/// Write `name` as labels and the root's zero octet.
fn write_name(out: &mut Vec<u8>, name: &str) -> Result<(), DnsError> {
    let name = name.trim_end_matches('.');
    let mut written = 1; // the root's zero octet
    if !name.is_empty() {
        for label in name.split('.') {
            if label.is_empty() {
                return Err(DnsError::EmptyLabel {
                    name: name.to_string(),
                });
            }
            if label.len() > MAX_LABEL_LEN {
                return Err(DnsError::LabelTooLong { len: label.len() });
            }
            written += 1 + label.len();
            if written > MAX_NAME_LEN {
                return Err(DnsError::NameTooLong);
            }
            // A label of at most 63 octets: its length fits the octet.
            out.push(label.len() as u8);
            out.extend_from_slice(label.as_bytes());
        }
    }
    out.push(0);
    Ok(())
}

/// A cursor over a message.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, part: &'static str) -> Result<&'a [u8], DnsError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len())
            .ok_or(DnsError::Truncated {
                at: self.bytes.len(),
                part,
            })?;
        let taken = &self.bytes[self.at..end];
        self.at = end;
        Ok(taken)
    }

    fn u16(&mut self, part: &'static str) -> Result<u16, DnsError> {
        let b = self.take(2, part)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self, part: &'static str) -> Result<u32, DnsError> {
        let b = self.take(4, part)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A name at the cursor, following compression pointers (§4.1.4); the cursor ends after the
    /// name as it is written here (after its first pointer, if any).
    fn name(&mut self) -> Result<String, DnsError> {
        let mut labels: Vec<String> = Vec::new();
        let mut length = 1usize;
        let mut pos = self.at;
        let mut resume: Option<usize> = None;
        let mut pointers = 0usize;
        loop {
            let truncated = DnsError::Truncated {
                at: self.bytes.len(),
                part: "name",
            };
            let len = *self.bytes.get(pos).ok_or(truncated.clone())?;
            match len & 0xc0 {
                0x00 if len == 0 => {
                    pos += 1;
                    break;
                }
                0x00 => {
                    let start = pos + 1;
                    let end = start + usize::from(len);
                    let label = self.bytes.get(start..end).ok_or(truncated)?;
                    length += 1 + usize::from(len);
                    if length > MAX_NAME_LEN {
                        return Err(DnsError::NameTooLong);
                    }
                    labels.push(String::from_utf8_lossy(label).into_owned());
                    pos = end;
                }
                0xc0 => {
                    let low = *self.bytes.get(pos + 1).ok_or(truncated)?;
                    let to = usize::from(u16::from_be_bytes([len & 0x3f, low]));
                    if to >= pos {
                        return Err(DnsError::BadPointer { at: pos, to });
                    }
                    pointers += 1;
                    if pointers > MAX_POINTERS {
                        return Err(DnsError::PointerLoop);
                    }
                    resume.get_or_insert(pos + 2);
                    pos = to;
                }
                bits => return Err(DnsError::BadLabelType { bits, at: pos }),
            }
        }
        self.at = resume.unwrap_or(pos);
        Ok(labels.join("."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_query_is_written_as_rfc_1035_lays_it_out() {
        let bytes = Message::query(0x1234, "fw.example.com", RecordType::A)
            .encode()
            .unwrap();
        let expected: &[u8] = &[
            0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, // header: RD, one question
            2, b'f', b'w', 7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 3, b'c', b'o', b'm', 0, 0,
            1, 0, 1, // A, IN
        ];
        assert_eq!(bytes, expected);
    }

    #[test]
    fn a_response_round_trips_with_its_answers_and_rcode() {
        let query = Message::query(7, "fw.example.com", RecordType::A);
        let answer = query.response_to(
            Rcode::NoError,
            vec![
                Record {
                    name: "fw.example.com".into(),
                    class: CLASS_IN,
                    ttl: 300,
                    data: RecordData::A(Ipv4Addr::new(192, 0, 2, 10)),
                },
                Record {
                    name: "fw.example.com".into(),
                    class: CLASS_IN,
                    ttl: 300,
                    data: RecordData::Aaaa("2001:db8::1".parse().unwrap()),
                },
            ],
        );
        let decoded = Message::decode(&answer.encode().unwrap()).unwrap();
        assert_eq!(decoded, answer);
        assert!(decoded.response && decoded.authoritative);
        for rcode in [Rcode::NameError, Rcode::ServerFailure, Rcode::Refused] {
            let m = query.response_to(rcode, vec![]);
            assert_eq!(Message::decode(&m.encode().unwrap()).unwrap().rcode, rcode);
        }
    }

    #[test]
    fn compressed_names_are_followed_backwards_only() {
        let mut bytes = Message::query(1, "fw.example.com", RecordType::A)
            .response_to(Rcode::NoError, vec![])
            .encode()
            .unwrap();
        bytes[7] = 1; // ANCOUNT = 1
        bytes.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 1]);
        let m = Message::decode(&bytes).unwrap();
        assert_eq!(m.answers[0].name, "fw.example.com");
        assert_eq!(
            m.answers[0].data.address(),
            Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)))
        );
        // A pointer to itself, or forwards, is refused, not followed forever.
        let at = bytes.len() - 16;
        let mut looped = bytes.clone();
        looped[at + 1] = at as u8;
        assert!(matches!(
            Message::decode(&looped),
            Err(DnsError::BadPointer { .. })
        ));
    }

    #[test]
    fn malformed_messages_are_typed_errors() {
        assert!(matches!(
            Message::decode(&[0; 5]),
            Err(DnsError::Truncated { .. })
        ));
        let mut bad_a = Message::query(1, "h", RecordType::A)
            .response_to(Rcode::NoError, vec![])
            .encode()
            .unwrap();
        bad_a[7] = 1;
        bad_a.extend_from_slice(&[0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 3, 1, 2, 3]);
        assert!(matches!(
            Message::decode(&bad_a),
            Err(DnsError::BadRecordLength { .. })
        ));
        let long = "a".repeat(64);
        assert_eq!(
            Message::query(1, &long, RecordType::A).encode(),
            Err(DnsError::LabelTooLong { len: 64 })
        );
        let too_long = vec!["abcdefgh"; 40].join(".");
        assert_eq!(
            Message::query(1, &too_long, RecordType::A).encode(),
            Err(DnsError::NameTooLong)
        );
        assert!(matches!(
            Message::query(1, "a..b", RecordType::A).encode(),
            Err(DnsError::EmptyLabel { .. })
        ));
    }

    #[test]
    fn names_compare_without_case() {
        assert!(same_name("FW.Example.com.", "fw.example.com"));
        assert!(!same_name("fw.example.com", "fw.example.org"));
    }

    fn label() -> impl Strategy<Value = String> {
        "[a-z0-9-]{1,20}"
    }

    proptest! {
        #[test]
        fn decoding_any_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = Message::decode(&bytes);
        }

        #[test]
        fn decoding_a_damaged_response_never_panics(
            flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
            cut in any::<prop::sample::Index>(),
        ) {
            let mut bytes = Message::query(9, "fw.example.com", RecordType::A)
                .response_to(Rcode::NoError, vec![Record {
                    name: "fw.example.com".into(),
                    class: CLASS_IN,
                    ttl: 1,
                    data: RecordData::A(Ipv4Addr::LOCALHOST),
                }])
                .encode()
                .unwrap();
            for (at, value) in flips {
                let i = at.index(bytes.len());
                bytes[i] = value;
            }
            let keep = cut.index(bytes.len() + 1);
            let _ = Message::decode(&bytes[..keep]);
        }

        #[test]
        fn messages_round_trip(
            id in any::<u16>(),
            labels in proptest::collection::vec(label(), 1..5),
            v4 in proptest::collection::vec(any::<[u8; 4]>(), 0..4),
            v6 in proptest::collection::vec(any::<[u8; 16]>(), 0..3),
            rcode in 0u8..16,
            ttl in any::<u32>(),
        ) {
            let name = labels.join(".");
            let query = Message::query(id, &name, RecordType::A);
            let wire = query.encode().unwrap();
            prop_assert_eq!(Message::decode(&wire).unwrap(), query.clone());
            let answers = v4.into_iter().map(|a| RecordData::A(a.into()))
                .chain(v6.into_iter().map(|a| RecordData::Aaaa(a.into())))
                .map(|data| Record { name: name.clone(), class: CLASS_IN, ttl, data })
                .collect();
            let response = query.response_to(Rcode::from_code(rcode), answers);
            prop_assert_eq!(Message::decode(&response.encode().unwrap()).unwrap(), response);
        }
    }
}
