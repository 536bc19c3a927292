//! Node formats (the `Format` property) and validation of values against them (reference §8.5).
//!
//! Values are checked when written:
//! - `int`: a 32-bit signed decimal (`-12`, `+7`, `0`), no white space.
//! - `bool`: exactly `true` or `false`.
//! - `float`: parses as an IEEE single and is finite (`1e40` overflows and is refused).
//! - `date`: ISO 8601 calendar date, extended `YYYY-MM-DD` or basic `YYYYMMDD`.
//! - `time`: ISO 8601 time of day `hh:mm[:ss[.f]]` or `hhmm[ss[.f]]`, optionally followed by `Z` or
//!   an offset `±hh[:mm]` / `±hhmm`.
//! - `chr`: valid UTF-8 without NUL (character data; a NUL is no character a DM value holds, and
//!   the mock server counts one in `chr` data the device sends as a breach).
//! - `xml`: valid UTF-8 (XML well-formedness is not checked).
//! - `b64`: valid base64 text (a node stored as `b64` by the device itself; server data sent with Meta
//!   Format `b64` is decoded and stored as `bin`, see [`decode_b64`]).
//! - `null`: empty. `bin`: anything. `node`: interior nodes carry no value.
//!
//! A value that does not match its format is 400 (Bad request); an unknown format name is 415
//! (Unsupported media type or format).

use std::fmt;

use base64::Engine as _;

use crate::syncml::StatusCode;

/// The format of a node value (the DM `Format` property).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Format {
    B64,
    Bin,
    Bool,
    #[default]
    Chr,
    Int,
    /// Interior node.
    Node,
    Null,
    Xml,
    Date,
    Time,
    Float,
}

impl Format {
    /// Every format.
    pub const ALL: [Format; 11] = [
        Format::B64,
        Format::Bin,
        Format::Bool,
        Format::Chr,
        Format::Int,
        Format::Node,
        Format::Null,
        Format::Xml,
        Format::Date,
        Format::Time,
        Format::Float,
    ];

    /// The format name as written in Meta Format and the Format property.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::B64 => "b64",
            Format::Bin => "bin",
            Format::Bool => "bool",
            Format::Chr => "chr",
            Format::Int => "int",
            Format::Node => "node",
            Format::Null => "null",
            Format::Xml => "xml",
            Format::Date => "date",
            Format::Time => "time",
            Format::Float => "float",
        }
    }

    /// Parse a format name (ASCII case-insensitive, surrounding white space ignored).
    pub fn parse(s: &str) -> Option<Format> {
        let s = s.trim();
        Format::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s))
    }

    /// Parse a format name, 415 when unknown.
    pub fn parse_status(s: &str) -> Result<Format, StatusCode> {
        Format::parse(s).ok_or(StatusCode::UnsupportedMediaType)
    }

    /// Whether a value of this format is shown as text (everything but `bin`).
    pub fn is_text(self) -> bool {
        self != Format::Bin
    }

    /// Whether `value` is a valid value of this format.
    pub fn is_valid(self, value: &[u8]) -> bool {
        let text = || std::str::from_utf8(value).ok();
        match self {
            Format::Bin => true,
            Format::Node | Format::Null => value.is_empty(),
            Format::Chr => text().is_some_and(|t| !t.contains('\0')),
            Format::Xml => text().is_some(),
            Format::B64 => decode_b64(value).is_ok(),
            Format::Int => text().is_some_and(is_int),
            Format::Bool => value == b"true" || value == b"false",
            Format::Float => text().is_some_and(is_float),
            Format::Date => text().is_some_and(is_date),
            Format::Time => text().is_some_and(is_time),
        }
    }

    /// Validate `value` for this format: 400 when it does not match.
    pub fn validate(self, value: &[u8]) -> Result<(), StatusCode> {
        if self.is_valid(value) {
            Ok(())
        } else {
            Err(StatusCode::BadRequest)
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Decode base64 item data (white space such as XML line breaks is ignored): 400 when malformed.
pub fn decode_b64(data: &[u8]) -> Result<Vec<u8>, StatusCode> {
    let compact: Vec<u8> = data
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|_| StatusCode::BadRequest)
}

/// Encode bytes as base64 (for `bin` values sent with Meta Format `b64`).
pub fn encode_b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

fn is_int(s: &str) -> bool {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) && s.parse::<i32>().is_ok()
}

fn is_float(s: &str) -> bool {
    let looks_numeric = s
        .bytes()
        .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b));
    looks_numeric && s.parse::<f32>().is_ok_and(f32::is_finite)
}

/// Parse exactly `n` ASCII digits at the start of `s`, returning the number and the rest.
fn digits(s: &str, n: usize) -> Option<(u32, &str)> {
    let head = s.get(..n)?;
    if !head.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((head.parse().ok()?, &s[n..]))
}

/// Strip an optional separator `sep` if `extended`, else require it to be absent.
fn sep(s: &str, sep: char, extended: bool) -> Option<&str> {
    if extended {
        s.strip_prefix(sep)
    } else {
        Some(s)
    }
}

fn is_date(s: &str) -> bool {
    let extended = s.as_bytes().get(4) == Some(&b'-');
    let check = || -> Option<bool> {
        let (_, rest) = digits(s, 4)?;
        let (month, rest) = digits(sep(rest, '-', extended)?, 2)?;
        let (day, rest) = digits(sep(rest, '-', extended)?, 2)?;
        Some(rest.is_empty() && (1..=12).contains(&month) && (1..=31).contains(&day))
    };
    check().unwrap_or(false)
}

fn is_time(s: &str) -> bool {
    let extended = s.as_bytes().get(2) == Some(&b':');
    let check = || -> Option<bool> {
        let (hour, rest) = digits(s, 2)?;
        let (minute, mut rest) = digits(sep(rest, ':', extended)?, 2)?;
        let mut second = 0;
        if let Some((sec, r)) = sep(rest, ':', extended).and_then(|r| digits(r, 2)) {
            second = sec;
            rest = skip_fraction(r)?;
        }
        Some(hour < 24 && minute < 60 && second <= 60 && is_zone(rest))
    };
    check().unwrap_or(false)
}

/// Skip `.123` or `,123` (at least one digit) if present.
fn skip_fraction(s: &str) -> Option<&str> {
    match s.strip_prefix(['.', ',']) {
        Some(r) => {
            let n = r.bytes().take_while(u8::is_ascii_digit).count();
            (n > 0).then(|| &r[n..])
        }
        None => Some(s),
    }
}

fn is_zone(s: &str) -> bool {
    if s.is_empty() || s == "Z" {
        return true;
    }
    let Some(offset) = s.strip_prefix(['+', '-']) else {
        return false;
    };
    let check = || -> Option<bool> {
        let (hours, rest) = digits(offset, 2)?;
        let rest = rest.strip_prefix(':').unwrap_or(rest);
        let minutes_ok =
            rest.is_empty() || digits(rest, 2).is_some_and(|(m, r)| m < 60 && r.is_empty());
        Some(hours < 24 && minutes_ok)
    };
    check().unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for f in Format::ALL {
            assert_eq!(Format::parse(f.as_str()), Some(f));
        }
        assert_eq!(Format::parse("B64"), Some(Format::B64));
        assert_eq!(Format::parse(" chr "), Some(Format::Chr));
        assert_eq!(Format::parse("string"), None);
        assert_eq!(
            Format::parse_status("string"),
            Err(StatusCode::UnsupportedMediaType)
        );
    }

    #[test]
    fn int_values() {
        for ok in ["0", "-12", "+7", "2147483647", "-2147483648"] {
            assert!(Format::Int.is_valid(ok.as_bytes()), "{ok}");
        }
        for bad in ["", "1.5", "2147483648", " 1", "abc", "+", "0x10"] {
            assert_eq!(
                Format::Int.validate(bad.as_bytes()),
                Err(StatusCode::BadRequest),
                "{bad}"
            );
        }
    }

    #[test]
    fn bool_float_null_chr_values() {
        assert!(Format::Bool.is_valid(b"true"));
        assert!(Format::Bool.is_valid(b"false"));
        assert!(!Format::Bool.is_valid(b"True"));
        assert!(!Format::Bool.is_valid(b"1"));
        assert!(Format::Float.is_valid(b"1.5"));
        assert!(Format::Float.is_valid(b"-3e-2"));
        assert!(!Format::Float.is_valid(b"1e40"));
        assert!(!Format::Float.is_valid(b"NaN"));
        assert!(!Format::Float.is_valid(b"inf"));
        assert!(!Format::Float.is_valid(b""));
        assert!(Format::Null.is_valid(b""));
        assert!(!Format::Null.is_valid(b"x"));
        assert!(Format::Chr.is_valid("héllo".as_bytes()));
        assert!(!Format::Chr.is_valid(&[0xff, 0xfe]));
        assert!(!Format::Chr.is_valid(b"a\0b"));
        assert!(Format::Bin.is_valid(&[0xff, 0xfe]));
        assert!(Format::B64.is_valid(b"aGk="));
        assert!(!Format::B64.is_valid(b"a"));
    }

    #[test]
    fn date_and_time_values() {
        for ok in ["2024-02-29", "20240229"] {
            assert!(Format::Date.is_valid(ok.as_bytes()), "{ok}");
        }
        for bad in [
            "2024-13-01",
            "2024-02-00",
            "2024-0229",
            "24-02-29",
            "2024/02/29",
            "2024-02-29T",
        ] {
            assert!(!Format::Date.is_valid(bad.as_bytes()), "{bad}");
        }
        for ok in [
            "16:38",
            "16:38:17",
            "163817",
            "1638",
            "16:38:17Z",
            "16:38:17.250+02:00",
            "163817-0500",
            "23:59:60",
        ] {
            assert!(Format::Time.is_valid(ok.as_bytes()), "{ok}");
        }
        for bad in [
            "24:00",
            "12:60",
            "1:00",
            "12:00:00X",
            "12:00+25",
            "12:0000",
            "12:00:00.",
        ] {
            assert!(!Format::Time.is_valid(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn base64_decoding() {
        assert_eq!(decode_b64(b"aGVs\r\nbG8="), Ok(b"hello".to_vec()));
        assert_eq!(decode_b64(b"!!"), Err(StatusCode::BadRequest));
        assert_eq!(encode_b64(b"hello"), "aGVsbG8=");
    }
}
