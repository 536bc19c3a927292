//! Package #0: the General Notification Initiated Session Alert (reference §4) that a DM server
//! pushes (WAP push / SMS) to make a device open a management session.
//!
//! The package is binary: a 16-byte MD5 digest followed by the *trigger* (an 8-byte header, the
//! server id and an optional vendor body). The mock server [`build`]s it; the simulated device
//! [`parse`]s it and [`verify`]s the digest with its stored server password and server nonce,
//! falling back to the resync nonces of reference §2.4 / §12.
//!
//! Digest = `MD5(B64(MD5(serverid ":" serverpwd)) ":" nonce ":" B64(MD5(trigger)))`, the same
//! construction as the HMAC credential, so it is computed by [`auth::hmac_mac_raw`].

use super::auth;

/// MIME type of Package #0 named by DM 1.2.1 (WSP code 0x44).
pub const CONTENT_TYPE: &str = "application/vnd.syncml.notification";
/// IANA-registered alias (WSP code 0x58); accept it as well.
pub const CONTENT_TYPE_ALT: &str = "application/vnd.syncml.dm.notification";
/// Notification version DM 1.2 writes (version × 10).
pub const VERSION: u16 = 11;
/// Length of the digest at the start of the package.
pub const DIGEST_LEN: usize = 16;
/// Length of the fixed trigger header (version … server-id length).
pub const HEADER_LEN: usize = 8;
/// Offset of the server-id length byte.
const ID_LEN_OFFSET: usize = DIGEST_LEN + HEADER_LEN - 1;
/// Offset of the first server-id byte.
const ID_OFFSET: usize = DIGEST_LEN + HEADER_LEN;
/// Resync nonce as 4 zero bytes (reading of the spec's "0x00000000").
pub const RESYNC_NONCE_ZERO: &[u8] = &[0, 0, 0, 0];
/// Resync nonce as the ASCII text `0x00000000` (what libdmclient uses).
pub const RESYNC_NONCE_ASCII: &[u8] = b"0x00000000";

/// How the server wants the user involved (2 bits of the header).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UiMode {
    /// 0: not specified (device decides).
    NotSpecified,
    /// 1: background, no user interaction.
    Background,
    /// 2: informative: tell the user, do not ask.
    Informative,
    /// 3: user interaction: ask before starting.
    UserInteraction,
}

impl UiMode {
    /// The 2-bit field value.
    pub fn bits(self) -> u8 {
        match self {
            UiMode::NotSpecified => 0,
            UiMode::Background => 1,
            UiMode::Informative => 2,
            UiMode::UserInteraction => 3,
        }
    }

    /// The mode of a 2-bit field value (higher bits ignored).
    pub fn from_bits(bits: u8) -> UiMode {
        match bits & 0b11 {
            0 => UiMode::NotSpecified,
            1 => UiMode::Background,
            2 => UiMode::Informative,
            _ => UiMode::UserInteraction,
        }
    }
}

/// Who initiated the session (1 bit of the header).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Initiator {
    /// 0: the client / user.
    Client,
    /// 1: the server.
    Server,
}

/// The content of a Package #0 (everything but the digest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// Notification version × 10 (10 bits; DM 1.2 writes [`VERSION`], any value is accepted).
    pub version: u16,
    pub ui_mode: UiMode,
    pub initiator: Initiator,
    /// Session id the device must use (as [`Notification::session_id_hex`]) in its SessionID.
    pub session_id: u16,
    /// The DMAcc ServerID of the server (ASCII, 1-255 bytes).
    pub server_id: String,
    /// Vendor-specific body after the server id (often empty).
    pub vendor: Vec<u8>,
}

impl Notification {
    /// A server-initiated notification of version 11, UI mode not specified, no vendor body.
    pub fn new(server_id: impl Into<String>, session_id: u16) -> Notification {
        Notification {
            version: VERSION,
            ui_mode: UiMode::NotSpecified,
            initiator: Initiator::Server,
            session_id,
            server_id: server_id.into(),
            vendor: Vec::new(),
        }
    }

    /// The session id as SyncHdr SessionID text: upper-case hex without leading zeros (reference
    /// §1.3), `0` for zero.
    pub fn session_id_hex(&self) -> String {
        format!("{:X}", self.session_id)
    }

    /// Whether [`build`] can encode this notification faithfully, i.e. whether [`parse`] will give
    /// it back: version within 10 bits, server id of 1 to 255 ASCII bytes.
    pub fn validate(&self) -> Result<(), Pkg0Error> {
        if self.version > 0x3ff {
            return Err(Pkg0Error::VersionTooLarge(self.version));
        }
        let id = self.server_id.as_bytes();
        if id.is_empty() {
            return Err(Pkg0Error::EmptyServerId {
                offset: ID_LEN_OFFSET,
            });
        }
        if id.len() > usize::from(u8::MAX) {
            return Err(Pkg0Error::ServerIdTooLong(id.len()));
        }
        if let Some(pos) = id.iter().position(|b| !b.is_ascii()) {
            return Err(Pkg0Error::NonAsciiServerId {
                offset: ID_OFFSET + pos,
            });
        }
        Ok(())
    }
}

/// Why a Package #0 was refused.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum Pkg0Error {
    /// Fewer bytes than the digest and the fixed header need.
    #[error("notification too short: {len} bytes, digest and header need {need}")]
    TooShort { len: usize, need: usize },
    /// The server-id length byte is 0.
    #[error("server-id length at byte {offset} is 0")]
    EmptyServerId { offset: usize },
    /// The server id runs past the end of the package.
    #[error("server id at byte {offset} is {len} bytes long but only {available} bytes follow")]
    ServerIdOutOfBounds {
        offset: usize,
        len: usize,
        available: usize,
    },
    /// A server-id byte outside ASCII.
    #[error("server id has a non-ASCII byte at byte {offset}")]
    NonAsciiServerId { offset: usize },
    /// (validate) The version does not fit its 10 bits.
    #[error("notification version {0} does not fit in 10 bits")]
    VersionTooLarge(u16),
    /// (validate) The server id does not fit its 8-bit length.
    #[error("server id of {0} bytes does not fit an 8-bit length")]
    ServerIdTooLong(usize),
    /// The digest matches none of the stored nonce and the resync nonces.
    #[error("digest matches neither the stored server nonce nor a resync nonce")]
    DigestMismatch,
}

/// Which nonce made the digest match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NonceUsed {
    /// The stored server nonce (SRVCRED AAuthData).
    Stored,
    /// The resync nonce as 4 zero bytes ([`RESYNC_NONCE_ZERO`]).
    ResyncZeroBytes,
    /// The resync nonce as ASCII `0x00000000` ([`RESYNC_NONCE_ASCII`]).
    ResyncAscii,
}

impl NonceUsed {
    /// The nonce bytes this stands for, given the stored nonce.
    pub fn bytes(self, stored: &[u8]) -> &[u8] {
        match self {
            NonceUsed::Stored => stored,
            NonceUsed::ResyncZeroBytes => RESYNC_NONCE_ZERO,
            NonceUsed::ResyncAscii => RESYNC_NONCE_ASCII,
        }
    }

    /// Whether this is one of the resync nonces (both sides must then issue fresh challenges).
    pub fn is_resync(self) -> bool {
        self != NonceUsed::Stored
    }
}

/// A parsed Package #0, borrowing the trigger from the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed<'a> {
    pub notification: Notification,
    /// The digest as sent.
    pub digest: [u8; DIGEST_LEN],
    /// The bytes the digest covers: header, server id and vendor body.
    pub trigger: &'a [u8],
}

impl Parsed<'_> {
    /// Check the digest with the server password and the stored server nonce, then with the two
    /// resync nonces, and say which matched. The server id is the one in the trigger.
    pub fn verify(&self, server_pwd: &str, stored_nonce: &[u8]) -> Result<NonceUsed, Pkg0Error> {
        self.verify_as(&self.notification.server_id, server_pwd, stored_nonce)
    }

    /// As [`Parsed::verify`], keying the digest with `server_name` (e.g. the SRVCRED AAuthName, as
    /// libdmclient does) instead of the server id in the trigger.
    pub fn verify_as(
        &self,
        server_name: &str,
        server_pwd: &str,
        stored_nonce: &[u8],
    ) -> Result<NonceUsed, Pkg0Error> {
        [
            NonceUsed::Stored,
            NonceUsed::ResyncZeroBytes,
            NonceUsed::ResyncAscii,
        ]
        .into_iter()
        .find(|used| {
            let expected = digest(
                server_name,
                server_pwd,
                used.bytes(stored_nonce),
                self.trigger,
            );
            auth::ct_eq(&expected, &self.digest)
        })
        .ok_or(Pkg0Error::DigestMismatch)
    }
}

/// The Package #0 digest over `trigger`.
fn digest(server_id: &str, server_pwd: &str, nonce: &[u8], trigger: &[u8]) -> [u8; DIGEST_LEN] {
    auth::hmac_mac_raw(server_id, server_pwd, nonce, trigger)
}

/// Encode `n` as digest ‖ trigger, the digest keyed with the server password and server nonce.
///
/// Fields are written as given so faulty packages can be produced: the version is cut to its 10
/// bits, and the server id to 255 bytes, and an empty or non-ASCII server id is written as is.
/// [`Notification::validate`] says whether the result will parse back to `n`.
pub fn build(n: &Notification, server_pwd: &str, server_nonce: &[u8]) -> Vec<u8> {
    let id = n.server_id.as_bytes();
    let id = id.get(..usize::from(u8::MAX)).unwrap_or(id);
    let id_len = u8::try_from(id.len()).unwrap_or(u8::MAX);
    let header = (u64::from(n.version & 0x3ff) << 54)
        | (u64::from(n.ui_mode.bits()) << 52)
        | (u64::from(n.initiator == Initiator::Server) << 51)
        | (u64::from(n.session_id) << 8)
        | u64::from(id_len);

    let mut out = Vec::with_capacity(ID_OFFSET + id.len() + n.vendor.len());
    out.extend_from_slice(&[0; DIGEST_LEN]);
    out.extend_from_slice(&header.to_be_bytes());
    out.extend_from_slice(id);
    out.extend_from_slice(&n.vendor);
    let (digest_slot, trigger) = out.split_at_mut(DIGEST_LEN);
    let d = digest(
        &String::from_utf8_lossy(id),
        server_pwd,
        server_nonce,
        trigger,
    );
    digest_slot.copy_from_slice(&d);
    out
}

/// The error for input shorter than digest and header.
fn too_short(bytes: &[u8]) -> Pkg0Error {
    Pkg0Error::TooShort {
        len: bytes.len(),
        need: ID_OFFSET,
    }
}

/// Decode a Package #0. Any version value is accepted and the reserved bits are ignored; the
/// digest is not checked (see [`Parsed::verify`] / [`verify`]).
pub fn parse(bytes: &[u8]) -> Result<Parsed<'_>, Pkg0Error> {
    let Some((digest, trigger)) = bytes.split_first_chunk::<DIGEST_LEN>() else {
        return Err(too_short(bytes));
    };
    let Some((header, rest)) = trigger.split_first_chunk::<HEADER_LEN>() else {
        return Err(too_short(bytes));
    };
    let header = u64::from_be_bytes(*header);

    let id_len = (header & 0xff) as usize;
    if id_len == 0 {
        return Err(Pkg0Error::EmptyServerId {
            offset: ID_LEN_OFFSET,
        });
    }
    let (id, vendor) = rest
        .split_at_checked(id_len)
        .ok_or(Pkg0Error::ServerIdOutOfBounds {
            offset: ID_OFFSET,
            len: id_len,
            available: rest.len(),
        })?;
    if let Some(pos) = id.iter().position(|b| !b.is_ascii()) {
        return Err(Pkg0Error::NonAsciiServerId {
            offset: ID_OFFSET + pos,
        });
    }

    let notification = Notification {
        version: ((header >> 54) & 0x3ff) as u16,
        ui_mode: UiMode::from_bits(((header >> 52) & 0b11) as u8),
        initiator: if (header >> 51) & 1 == 1 {
            Initiator::Server
        } else {
            Initiator::Client
        },
        session_id: ((header >> 8) & 0xffff) as u16,
        server_id: id.iter().map(|&b| char::from(b)).collect(),
        vendor: vendor.to_vec(),
    };
    Ok(Parsed {
        notification,
        digest: *digest,
        trigger,
    })
}

/// Parse `bytes` and check its digest (see [`Parsed::verify`]).
pub fn verify(bytes: &[u8], server_pwd: &str, stored_nonce: &[u8]) -> Result<NonceUsed, Pkg0Error> {
    parse(bytes)?.verify(server_pwd, stored_nonce)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn example() -> Notification {
        Notification {
            version: 11,
            ui_mode: UiMode::Informative,
            initiator: Initiator::Server,
            session_id: 0x1234,
            server_id: "dmsrv".to_string(),
            vendor: Vec::new(),
        }
    }

    const EXAMPLE_HEX: &str = "598f83d293c6373d08363d7a2b3170b202e8000000123405646d737276";

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn builds_reference_vector() {
        let bytes = build(&example(), "srvpwd", b"nonce");
        assert_eq!(hex(&bytes), EXAMPLE_HEX);
    }

    #[test]
    fn parses_and_verifies_reference_vector() {
        let bytes = build(&example(), "srvpwd", b"nonce");
        let parsed = parse(&bytes).unwrap();
        assert_eq!(parsed.notification, example());
        assert_eq!(hex(&parsed.digest), "598f83d293c6373d08363d7a2b3170b2");
        assert_eq!(parsed.trigger, &bytes[16..]);
        assert_eq!(parsed.notification.session_id_hex(), "1234");
        assert_eq!(parsed.verify("srvpwd", b"nonce"), Ok(NonceUsed::Stored));
        assert_eq!(verify(&bytes, "srvpwd", b"nonce"), Ok(NonceUsed::Stored));
        assert_eq!(
            parsed.verify_as("dmsrv", "srvpwd", b"nonce"),
            Ok(NonceUsed::Stored)
        );
        assert_eq!(
            parsed.verify_as("other", "srvpwd", b"nonce"),
            Err(Pkg0Error::DigestMismatch)
        );
        assert_eq!(
            verify(&bytes, "srvpwd", b"other"),
            Err(Pkg0Error::DigestMismatch)
        );
        assert_eq!(
            verify(&bytes, "wrong", b"nonce"),
            Err(Pkg0Error::DigestMismatch)
        );
        let mut tampered = bytes.clone();
        if let Some(last) = tampered.last_mut() {
            *last ^= 1;
        }
        assert_eq!(
            verify(&tampered, "srvpwd", b"nonce"),
            Err(Pkg0Error::DigestMismatch)
        );
    }

    #[test]
    fn resync_nonces() {
        let zero = build(&example(), "srvpwd", RESYNC_NONCE_ZERO);
        let ascii = build(&example(), "srvpwd", RESYNC_NONCE_ASCII);
        assert_ne!(zero, ascii);
        assert_eq!(
            verify(&zero, "srvpwd", b"nonce"),
            Ok(NonceUsed::ResyncZeroBytes)
        );
        assert_eq!(
            verify(&ascii, "srvpwd", b"nonce"),
            Ok(NonceUsed::ResyncAscii)
        );
        assert_eq!(
            verify(&ascii, "wrong", b"nonce"),
            Err(Pkg0Error::DigestMismatch)
        );
        assert_eq!(NonceUsed::ResyncAscii.bytes(b"nonce"), b"0x00000000");
        assert_eq!(NonceUsed::Stored.bytes(b"nonce"), b"nonce");
        assert!(NonceUsed::ResyncZeroBytes.is_resync());
        assert!(!NonceUsed::Stored.is_resync());
    }

    #[test]
    fn every_truncation_is_an_error() {
        let bytes = build(&example(), "srvpwd", b"nonce");
        for len in 0..bytes.len() {
            let err = parse(&bytes[..len]).unwrap_err();
            if len < 24 {
                assert_eq!(err, Pkg0Error::TooShort { len, need: 24 });
            } else {
                assert_eq!(
                    err,
                    Pkg0Error::ServerIdOutOfBounds {
                        offset: 24,
                        len: 5,
                        available: len - 24
                    }
                );
            }
            assert!(verify(&bytes[..len], "srvpwd", b"nonce").is_err());
        }
    }

    #[test]
    fn bad_server_ids() {
        let mut bytes = build(&example(), "srvpwd", b"nonce");
        bytes[26] = 0xc3;
        assert_eq!(
            parse(&bytes),
            Err(Pkg0Error::NonAsciiServerId { offset: 26 })
        );
        bytes[23] = 0;
        assert_eq!(parse(&bytes), Err(Pkg0Error::EmptyServerId { offset: 23 }));
        let mut empty = example();
        empty.server_id.clear();
        assert_eq!(
            empty.validate(),
            Err(Pkg0Error::EmptyServerId { offset: 23 })
        );
        assert!(parse(&build(&empty, "p", b"n")).is_err());
        let long = Notification::new("s".repeat(300), 1);
        assert_eq!(long.validate(), Err(Pkg0Error::ServerIdTooLong(300)));
        let parsed = parse(&build(&long, "p", b"n")).map(|p| p.notification.server_id);
        assert_eq!(parsed, Ok("s".repeat(255)));
    }

    #[test]
    fn fields_and_vendor_body() {
        let n = Notification {
            version: 0x3ff,
            ui_mode: UiMode::UserInteraction,
            initiator: Initiator::Client,
            session_id: 0,
            server_id: "x".to_string(),
            vendor: vec![0xde, 0xad],
        };
        assert_eq!(n.validate(), Ok(()));
        assert_eq!(n.session_id_hex(), "0");
        let bytes = build(&n, "p", b"n");
        let parsed = parse(&bytes).unwrap();
        assert_eq!(parsed.notification, n);
        assert_eq!(parsed.verify("p", b"n"), Ok(NonceUsed::Stored));
        // Reserved bits set by a peer are ignored.
        let mut odd = bytes.clone();
        odd[18] = 0xff;
        assert_eq!(parse(&odd).unwrap().notification, n);
        let hex_id = Notification::new("s", 0x00ab);
        assert_eq!(hex_id.session_id_hex(), "AB");
        assert_eq!(
            Notification {
                version: 0x400,
                ..hex_id.clone()
            }
            .validate(),
            Err(Pkg0Error::VersionTooLarge(0x400))
        );
    }

    fn notification() -> impl Strategy<Value = Notification> {
        (
            0u16..0x400,
            0u8..4,
            any::<bool>(),
            any::<u16>(),
            proptest::collection::vec(0u8..0x80, 1..=255),
            proptest::collection::vec(any::<u8>(), 0..64),
        )
            .prop_map(
                |(version, ui, server, session_id, id, vendor)| Notification {
                    version,
                    ui_mode: UiMode::from_bits(ui),
                    initiator: if server {
                        Initiator::Server
                    } else {
                        Initiator::Client
                    },
                    session_id,
                    server_id: id.into_iter().map(char::from).collect(),
                    vendor,
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig { rng_seed: proptest::test_runner::RngSeed::Fixed(0x5EED), ..ProptestConfig::default() })]
        #[test]
        fn build_parse_round_trip(
            n in notification(),
            pwd in "[ -~]{0,16}",
            nonce in proptest::collection::vec(any::<u8>(), 0..16),
        ) {
            prop_assert_eq!(n.validate(), Ok(()));
            let bytes = build(&n, &pwd, &nonce);
            let parsed = parse(&bytes).unwrap();
            prop_assert_eq!(&parsed.notification, &n);
            prop_assert_eq!(parsed.trigger, &bytes[16..]);
            prop_assert_eq!(parsed.verify(&pwd, &nonce), Ok(NonceUsed::Stored));
        }

        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse(&bytes);
            let _ = verify(&bytes, "p", b"n");
        }
    }
}
