//! The Knox E-FOTA client's license file: dmsim's own small signed format (Samsung does not publish
//! the real one), built by whoever issues licenses (a scenario, for its mock portal) and checked by
//! the E-FOTA client before it keeps one ([`crate::efota`]).
//!
//! # Format (version 1)
//!
//! UTF-8 text, five lines, each ended by a line feed, in this order:
//!
//! ```text
//! DMSIM-EFOTA-LICENSE 1
//! key: KLM09-6KX2P-7B4RT-Q9ZW3
//! device: IMEI:356938035643809
//! expires: 2027-01-01
//! signature: 3f0a…(128 hex digits)
//! ```
//!
//! * `key`: the license key, 1 to [`MAX_KEY_LEN`] characters of `A`-`Z`, `0`-`9` and `-`;
//! * `device`: the device id (`DevInfo/DevId`) the license is issued for, 1 to
//!   [`MAX_DEVICE_LEN`] printable ASCII characters;
//! * `expires`: the last day (UTC) the license is valid, `YYYY-MM-DD`; it ends when that day
//!   does;
//! * `signature`: the Ed25519 signature (the package signing scheme, [`super::SigningKey`]) of
//!   every byte before the `signature` line, in lower-case hex.
//!
//! Nothing else is allowed: no other line, no blank line, no space around the values beyond the
//! one after each colon. A document longer than [`MAX_LICENSE_LEN`] is not a license.
//!
//! [`verify_license`] checks the format ([`Cause::LicenseInvalid`]), then the signature with the
//! trusted key ([`Cause::SignatureInvalid`]); nothing in it is believed before the signature
//! verifies. [`License::check`] then checks it against the device: its id
//! ([`Cause::WrongDevice`]) and its clock ([`Cause::LicenseExpired`]).

use super::{from_hex, time, to_hex, SigningKey, VerifyingKey, SIGNATURE_LEN};
use crate::outcome::Cause;
use ed25519_dalek::{Signature, Signer};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The first line of a license.
pub const LICENSE_MAGIC: &str = "DMSIM-EFOTA-LICENSE 1";
/// Longest license key.
pub const MAX_KEY_LEN: usize = 64;
/// Longest device id.
pub const MAX_DEVICE_LEN: usize = 128;
/// Longest license document, in bytes.
pub const MAX_LICENSE_LEN: usize = 1024;

/// Seconds in a day.
const DAY: u64 = 86_400;

/// A calendar day (proleptic Gregorian, UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Date {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl Date {
    /// `YYYY-MM-DD`, a day that exists, from 1970 on.
    pub fn parse(text: &str) -> Option<Date> {
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return None;
        }
        let number = |range: std::ops::Range<usize>| -> Option<u16> {
            let digits = text.get(range)?;
            digits
                .bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| digits.parse().ok())?
        };
        let date = Date {
            year: number(0..4)?,
            month: u8::try_from(number(5..7)?).ok()?,
            day: u8::try_from(number(8..10)?).ok()?,
        };
        let days_in_month = time::days_in_month(u64::from(date.year), u64::from(date.month));
        (date.year >= 1970 && (1..=days_in_month).contains(&u64::from(date.day))).then_some(date)
    }

    /// Days from 1970-01-01 to this day ([`time::days_from_civil`]).
    pub fn days_since_epoch(self) -> u64 {
        time::days_from_civil(
            u64::from(self.year),
            u64::from(self.month),
            u64::from(self.day),
        )
    }

    /// The first second after this day (UTC), in seconds since the Unix epoch.
    pub fn end(self) -> u64 {
        self.days_since_epoch()
            .saturating_add(1)
            .saturating_mul(DAY)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// What a license says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct License {
    pub key: String,
    /// The device id it is issued for.
    pub device: String,
    /// The last day it is valid.
    pub expires: Date,
}

/// Why a license was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LicenseError {
    #[error("not a license: {0}")]
    Malformed(String),
    #[error("the license's signature does not verify with the trusted key")]
    BadSignature,
    #[error("the license is for device {licensed:?}, not {device:?}")]
    WrongDevice { licensed: String, device: String },
    #[error("the license expired at the end of {expires}")]
    Expired { expires: Date },
}

impl LicenseError {
    /// Why the license retrieval ends, in the flow's terms.
    pub fn cause(&self) -> Cause {
        match self {
            LicenseError::Malformed(_) => Cause::LicenseInvalid,
            LicenseError::BadSignature => Cause::SignatureInvalid,
            LicenseError::WrongDevice { .. } => Cause::WrongDevice,
            LicenseError::Expired { .. } => Cause::LicenseExpired,
        }
    }
}

/// How a built license is broken on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LicenseDefect {
    /// The key was changed after signing: the signature no longer verifies.
    Tampered,
}

impl LicenseDefect {
    /// The name scenarios use.
    pub fn as_str(self) -> &'static str {
        match self {
            LicenseDefect::Tampered => "tampered",
        }
    }

    pub fn parse(name: &str) -> Option<LicenseDefect> {
        (name == "tampered").then_some(LicenseDefect::Tampered)
    }
}

impl License {
    /// The signed part of the document (every line before `signature`).
    fn body(&self) -> String {
        format!(
            "{LICENSE_MAGIC}\nkey: {}\ndevice: {}\nexpires: {}\n",
            self.key, self.device, self.expires
        )
    }

    /// Whether the license is usable on device `device_id` at `now` (seconds since the epoch).
    pub fn check(&self, device_id: &str, now: u64) -> Result<(), LicenseError> {
        if self.device != device_id {
            return Err(LicenseError::WrongDevice {
                licensed: self.device.clone(),
                device: device_id.to_string(),
            });
        }
        if now >= self.expires.end() {
            return Err(LicenseError::Expired {
                expires: self.expires,
            });
        }
        Ok(())
    }
}

/// The document of `license`, signed with `key`. (Fields the format does not allow are written as
/// given: a scenario may build a license the device must refuse.)
pub fn build_license(license: &License, key: &SigningKey) -> Vec<u8> {
    let body = license.body();
    let signature = key.sign(body.as_bytes()).to_bytes();
    format!("{body}signature: {}\n", to_hex(&signature)).into_bytes()
}

/// The document of `license` with `defect`.
pub fn build_defective_license(
    license: &License,
    key: &SigningKey,
    defect: LicenseDefect,
) -> Vec<u8> {
    match defect {
        LicenseDefect::Tampered => {
            let signed = build_license(license, key);
            let text = String::from_utf8_lossy(&signed).into_owned();
            let mut forged = license.clone();
            forged.key = format!("{}X", license.key);
            text.replacen(&license.body(), &forged.body(), 1)
                .into_bytes()
        }
    }
}

/// Read a license document and verify its signature with `trusted` (see the module docs).
pub fn verify_license(document: &[u8], trusted: &VerifyingKey) -> Result<License, LicenseError> {
    let malformed = |what: &str| LicenseError::Malformed(what.to_string());
    if document.len() > MAX_LICENSE_LEN {
        return Err(malformed("longer than a license can be"));
    }
    let text = std::str::from_utf8(document).map_err(|_| malformed("not UTF-8"))?;
    let lines: Vec<&str> = text
        .strip_suffix('\n')
        .ok_or_else(|| malformed("the last line does not end"))?
        .split('\n')
        .collect();
    let [magic, key, device, expires, signature] = lines.as_slice() else {
        return Err(malformed("not five lines"));
    };
    if *magic != LICENSE_MAGIC {
        return Err(malformed("the first line is not DMSIM-EFOTA-LICENSE 1"));
    }
    let field = |line: &'_ str, name: &str| -> Result<String, LicenseError> {
        line.strip_prefix(name)
            .and_then(|rest| rest.strip_prefix(": "))
            .filter(|v| !v.is_empty() && v.trim() == *v)
            .map(str::to_string)
            .ok_or_else(|| LicenseError::Malformed(format!("no {name} line where it belongs")))
    };
    let key = field(key, "key")?;
    if key.len() > MAX_KEY_LEN
        || !key
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(malformed("the key is not 1 to 64 of A-Z, 0-9, -"));
    }
    let device = field(device, "device")?;
    if device.len() > MAX_DEVICE_LEN || !device.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(malformed("the device id is not printable ASCII"));
    }
    let expires = Date::parse(&field(expires, "expires")?)
        .ok_or_else(|| malformed("no valid expiry date"))?;
    let signature = from_hex(&field(signature, "signature")?)
        .and_then(|s| <[u8; SIGNATURE_LEN]>::try_from(s).ok())
        .ok_or_else(|| malformed("the signature is not 64 bytes in hex"))?;
    let license = License {
        key,
        device,
        expires,
    };
    trusted
        .verify_strict(
            license.body().as_bytes(),
            &Signature::from_bytes(&signature),
        )
        .map_err(|_| LicenseError::BadSignature)?;
    Ok(license)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::test_signing_key;

    fn license() -> License {
        License {
            key: "KLM09-6KX2P-7B4RT".into(),
            device: "IMEI:356938035643809".into(),
            expires: Date::parse("2027-01-01").expect("a date"),
        }
    }

    #[test]
    fn dates_read_and_count_days() {
        let d = |t: &str| Date::parse(t);
        assert_eq!(d("1970-01-01").map(Date::days_since_epoch), Some(0));
        assert_eq!(d("2026-01-01").map(Date::days_since_epoch), Some(20_454));
        assert_eq!(
            d("2026-01-01").map(Date::end),
            Some(1_767_225_600 + 86_400),
            "the simulated epoch's first day ends a day after it starts"
        );
        assert_eq!(
            d("2024-02-29").map(|x| x.to_string()).as_deref(),
            Some("2024-02-29")
        );
        assert_eq!(d("2024-03-01").map(Date::days_since_epoch), Some(19_783));
        for bad in [
            "2023-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-1-1",
            "1969-12-31",
            "2026-01-32",
            "2026/01/01",
            "+026-01-01",
            "2026-0a-01",
        ] {
            assert_eq!(d(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_license_round_trips_and_is_checked_against_the_device() {
        let key = test_signing_key();
        let doc = build_license(&license(), &key);
        let text = String::from_utf8(doc.clone()).expect("UTF-8");
        assert!(
            text.starts_with("DMSIM-EFOTA-LICENSE 1\nkey: KLM09-6KX2P-7B4RT\n"),
            "{text}"
        );
        let read = verify_license(&doc, &key.verifying_key()).expect("valid");
        assert_eq!(read, license());
        let now = 1_767_225_600;
        assert_eq!(read.check("IMEI:356938035643809", now), Ok(()));
        let other = read.check("IMEI:1", now).expect_err("another device");
        assert_eq!(other.cause(), Cause::WrongDevice);
        let last = Date::parse("2027-01-01").expect("date").end();
        assert_eq!(read.check("IMEI:356938035643809", last - 1), Ok(()));
        let expired = read
            .check("IMEI:356938035643809", last)
            .expect_err("past its day");
        assert_eq!(expired.cause(), Cause::LicenseExpired);
    }

    #[test]
    fn broken_licenses_are_refused_with_their_cause() {
        let key = test_signing_key();
        let trusted = key.verifying_key();
        let tampered = build_defective_license(&license(), &key, LicenseDefect::Tampered);
        assert_eq!(
            verify_license(&tampered, &trusted),
            Err(LicenseError::BadSignature)
        );
        let rogue = SigningKey::from_bytes(&[7; 32]);
        assert_eq!(
            verify_license(&build_license(&license(), &rogue), &trusted).map_err(|e| e.cause()),
            Err(Cause::SignatureInvalid)
        );
        let good = String::from_utf8(build_license(&license(), &key)).expect("UTF-8");
        let malformed = [
            String::from("not a license\n"),
            good.trim_end().to_string(),
            good.replace("key: ", "key:  "),
            good.replace("key: KLM09-6KX2P-7B4RT", "key: klm09"),
            good.replace("expires: 2027-01-01", "expires: 2027-02-30"),
            good.replace("DMSIM-EFOTA-LICENSE 1", "DMSIM-EFOTA-LICENSE 2"),
            format!("{good}extra: 1\n"),
            good.replacen("device", "devise", 1),
            good[..good.len() - 3].to_string() + "\n",
            "x".repeat(MAX_LICENSE_LEN + 1),
        ];
        for doc in malformed {
            let err = verify_license(doc.as_bytes(), &trusted).expect_err(&doc);
            assert_eq!(err.cause(), Cause::LicenseInvalid, "{doc:?}: {err}");
        }
        assert!(verify_license(&[0xff, 0xfe, b'\n'], &trusted).is_err());
        assert_eq!(
            LicenseDefect::parse("tampered"),
            Some(LicenseDefect::Tampered)
        );
        assert_eq!(LicenseDefect::Tampered.as_str(), "tampered");
        assert_eq!(LicenseDefect::parse("nope"), None);
    }
}
