//! dmsim's `DirList.txt`: the text a Snom m3 base fetches first, listing the firmware versions on
//! the server and, for each, its gateway and handset `.fwu` files.
//!
//! Snom's real DirList syntax is not public; this one is dmsim's own. Example:
//!
//! ```text
//! # dmsim DirList for Snom m3
//! format = dmsim-m3-dirlist/1
//!
//! [0790]                                            # a version: four digits
//! name = m3 v07.90                                  # what the handset shows
//! gateway = m3Gw_fr01_v0790.fwu 524288 2406121030   # file, code size, link date
//! handset = m3Pp_fr01_v0790.fwu 393216 2406121030
//! languages = fr01 de01
//! requires = both
//! ```
//!
//! # Syntax
//!
//! * The text is UTF-8, at most [`MAX_LEN`] bytes (a byte-order mark at the start is skipped).
//!   Lines end with LF; a CR before it is dropped.
//! * `#` starts a comment that runs to the end of its line (so no value contains `#`). Spaces and
//!   tabs around keys, values and section headers are ignored; a line left empty is skipped.
//! * The first line that is not empty is the **format line**, `format = dmsim-m3-dirlist/1`.
//! * Then sections: `[NNNN]` (four ASCII digits, the version) starts one; `key = value` lines set
//!   its keys, each at most once. At most [`MAX_VERSIONS`] sections, each version once.
//! * Keys of a section:
//!   * `name` (required): 1 to 64 characters, no control characters: the version's display name.
//!   * `gateway`, `handset` (required): three fields separated by spaces: the file name (1 to 64
//!     of `A-Z a-z 0-9 . _ -`, not starting with `.`, ending in `.fwu`; dmsim names them
//!     `m3Gw_<lang>_v<NNNN>.fwu` and `m3Pp_<lang>_v<NNNN>.fwu`), the code size (the `.fwu`
//!     body's length in bytes, decimal digits, at most 4294967295) and the link date (ten digits,
//!     `yymmddhhmm`, a real month 01-12, day 01-31, hour 00-23 and minute 00-59).
//!   * `languages` (required): 1 to 16 distinct language tags separated by spaces, each two
//!     lower-case letters and two digits (`fr01`): the languages the version's files carry (the
//!     first is the files' own, the one in their names and `.fwu` headers).
//!   * `requires` (optional): `both`: a handset update of this version needs the base on this
//!     version too (the base updates both, or refuses a handset-only update).
//!
//! # Syntax error or unknown format
//!
//! The base shows Code 10 (unknown DirList format) or Code 9 (DirList syntax error); the parser
//! tells them apart by one rule, **the first non-empty line decides**:
//!
//! * [`DirListError::UnknownFormat`] (Code 10): the text has no non-empty line, or its first one
//!   is not the format line of this format: another key (`[0790]`, `version = 3`, `<!DOCTYPE
//!   html>`: any other text, even one of this format missing its format line), or `format = X`
//!   with X other than `dmsim-m3-dirlist/1` (another format, or another version of this one). The
//!   text is well-formed as far as the base cares: it is simply not a list it knows, such as an
//!   HTML index page or another product's list fetched from the wrong folder.
//! * [`DirListError::Syntax`] (Code 9), with the line and a [`SyntaxReason`]: a text longer than
//!   [`MAX_LEN`] (line 0: the text as a whole) or not UTF-8 (the line of the first bad byte,
//!   whatever comes before it), and, after a valid format line, any line or section that breaks
//!   the syntax above.

use super::fwu::{is_language, is_version, Part};
use std::fmt;

/// The format line's value this parser reads.
pub const FORMAT: &str = "dmsim-m3-dirlist/1";
/// The longest DirList read, in bytes.
pub const MAX_LEN: usize = 1 << 20;
/// The most versions a DirList may list.
pub const MAX_VERSIONS: usize = 1000;
/// The most languages a version may list.
pub const MAX_LANGUAGES: usize = 16;
/// The longest name and file name, in characters.
pub const MAX_TEXT: usize = 64;
/// How much of a foreign text [`DirListError::UnknownFormat`] keeps, in characters.
const FOUND_MAX: usize = 80;

/// Why a text is not a DirList the base can use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirListError {
    /// Code 9: a syntax error at `line` (counted from 1; 0 for the text as a whole).
    #[error("DirList syntax error at line {line}: {reason}")]
    Syntax { line: usize, reason: SyntaxReason },
    /// Code 10: not a `dmsim-m3-dirlist/1` text. `found` is the value of its `format` line, or
    /// its first non-empty line when that is not a format line (at most 80 characters; empty for
    /// a text with no such line).
    #[error("unknown DirList format {found:?} (expected format = {FORMAT})")]
    UnknownFormat { found: String },
}

/// What is wrong with a line of a DirList (or with a [`Version`] given to [`DirList::new`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyntaxReason {
    #[error("longer than {MAX_LEN} bytes ({len})")]
    TooLong { len: usize },
    #[error("not UTF-8")]
    NotUtf8,
    #[error("not `key = value` nor `[NNNN]`")]
    NotKeyValue,
    #[error("a section header is `[NNNN]`, four digits")]
    BadSection,
    #[error("key {key:?} before the first section")]
    KeyOutsideSection { key: String },
    #[error("unknown key {key:?}")]
    UnknownKey { key: String },
    #[error("key {key:?} set twice in a section")]
    DuplicateKey { key: &'static str },
    #[error("version {number} listed twice")]
    DuplicateVersion { number: String },
    #[error("more than {MAX_VERSIONS} versions")]
    TooManyVersions,
    #[error("section [{number}] has no {key:?}")]
    MissingKey { number: String, key: &'static str },
    #[error("bad value of {key:?}: expected {expected}")]
    BadValue {
        key: &'static str,
        expected: &'static str,
    },
}

/// One file of a version, as the DirList lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRef {
    /// File name, in the DirList's folder.
    pub file: String,
    /// Code size: the `.fwu` body's length in bytes.
    pub size: u32,
    /// Link date, ten digits `yymmddhhmm`.
    pub link_date: String,
}

/// One version listed in a DirList.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// Four digits, `0790`.
    pub number: String,
    /// Display name.
    pub name: String,
    pub gateway: FileRef,
    pub handset: FileRef,
    /// Language tags, at least one, the files' own first.
    pub languages: Vec<String>,
    /// `requires = both`: no handset-only update to this version.
    pub requires_both: bool,
}

impl Version {
    /// The file of a part.
    pub fn file(&self, part: Part) -> &FileRef {
        match part {
            Part::Gateway => &self.gateway,
            Part::Handset => &self.handset,
        }
    }
}

/// A parsed DirList: its versions in the order listed, at most [`MAX_VERSIONS`], all different.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DirList {
    versions: Vec<Version>,
}

impl DirList {
    /// A DirList of these versions, checked as [`parse`] checks a text.
    pub fn new(versions: Vec<Version>) -> Result<DirList, SyntaxReason> {
        if versions.len() > MAX_VERSIONS {
            return Err(SyntaxReason::TooManyVersions);
        }
        for (i, v) in versions.iter().enumerate() {
            check_version(v)?;
            if versions[..i].iter().any(|w| w.number == v.number) {
                return Err(SyntaxReason::DuplicateVersion {
                    number: v.number.clone(),
                });
            }
        }
        Ok(DirList { versions })
    }

    /// The versions, in the order listed.
    pub fn versions(&self) -> &[Version] {
        &self.versions
    }

    /// The version numbered `number` (`0790`), if listed.
    pub fn version(&self, number: &str) -> Option<&Version> {
        self.versions.iter().find(|v| v.number == number)
    }

    /// The text of this DirList, which [`parse`] reads back to the same DirList.
    pub fn to_text(&self) -> String {
        let mut out = format!("# dmsim DirList for Snom m3\nformat = {FORMAT}\n");
        for v in &self.versions {
            out.push_str(&format!("\n[{}]\nname = {}\n", v.number, v.name));
            for (key, f) in [("gateway", &v.gateway), ("handset", &v.handset)] {
                out.push_str(&format!("{key} = {} {} {}\n", f.file, f.size, f.link_date));
            }
            out.push_str(&format!("languages = {}\n", v.languages.join(" ")));
            if v.requires_both {
                out.push_str("requires = both\n");
            }
        }
        out
    }
}

/// Parse DirList bytes: [`parse`] after the length and UTF-8 checks.
pub fn parse_bytes(bytes: &[u8]) -> Result<DirList, DirListError> {
    if bytes.len() > MAX_LEN {
        return Err(too_long(bytes.len()));
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => parse(text),
        Err(e) => Err(DirListError::Syntax {
            line: 1 + bytes[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count(),
            reason: SyntaxReason::NotUtf8,
        }),
    }
}

/// Parse a DirList text (the rules of the module docs). Never panics, whatever the text.
pub fn parse(text: &str) -> Result<DirList, DirListError> {
    if text.len() > MAX_LEN {
        return Err(too_long(text.len()));
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text
        .split('\n')
        .enumerate()
        .map(|(i, line)| (i + 1, significant(line)))
        .filter(|(_, line)| !line.is_empty());
    match lines.next() {
        None => {
            return Err(DirListError::UnknownFormat {
                found: String::new(),
            })
        }
        Some((_, first)) => match key_value(first) {
            Some(("format", FORMAT)) => {}
            Some(("format", other)) => return Err(unknown(other)),
            _ => return Err(unknown(first)),
        },
    }
    let mut versions: Vec<Version> = Vec::new();
    let mut section: Option<Section> = None;
    for (line, content) in lines {
        let syntax = |reason| DirListError::Syntax { line, reason };
        if content.starts_with('[') {
            if let Some(done) = section.take() {
                versions.push(done.finish()?);
            }
            let number = content
                .strip_prefix('[')
                .and_then(|c| c.strip_suffix(']'))
                .filter(|n| is_version(n.as_bytes()))
                .ok_or(syntax(SyntaxReason::BadSection))?;
            if versions.iter().any(|v| v.number == number) {
                return Err(syntax(SyntaxReason::DuplicateVersion {
                    number: number.to_string(),
                }));
            }
            if versions.len() >= MAX_VERSIONS {
                return Err(syntax(SyntaxReason::TooManyVersions));
            }
            section = Some(Section::new(line, number));
            continue;
        }
        let (key, value) = key_value(content).ok_or(syntax(SyntaxReason::NotKeyValue))?;
        let Some(current) = section.as_mut() else {
            return Err(syntax(SyntaxReason::KeyOutsideSection { key: clip(key) }));
        };
        current.set(key, value).map_err(syntax)?;
    }
    if let Some(done) = section.take() {
        versions.push(done.finish()?);
    }
    Ok(DirList { versions })
}

/// A section being read: its keys as set so far.
struct Section {
    line: usize,
    number: String,
    name: Option<String>,
    gateway: Option<FileRef>,
    handset: Option<FileRef>,
    languages: Option<Vec<String>>,
    requires_both: Option<bool>,
}

impl Section {
    fn new(line: usize, number: &str) -> Section {
        Section {
            line,
            number: number.to_string(),
            name: None,
            gateway: None,
            handset: None,
            languages: None,
            requires_both: None,
        }
    }

    fn set(&mut self, key: &str, value: &str) -> Result<(), SyntaxReason> {
        fn once<T>(slot: &mut Option<T>, key: &'static str, value: T) -> Result<(), SyntaxReason> {
            if slot.is_some() {
                return Err(SyntaxReason::DuplicateKey { key });
            }
            *slot = Some(value);
            Ok(())
        }
        match key {
            "name" => once(&mut self.name, "name", name(value)?),
            "gateway" => once(&mut self.gateway, "gateway", file_ref("gateway", value)?),
            "handset" => once(&mut self.handset, "handset", file_ref("handset", value)?),
            "languages" => once(&mut self.languages, "languages", languages(value)?),
            "requires" => once(&mut self.requires_both, "requires", requires(value)?),
            other => Err(SyntaxReason::UnknownKey { key: clip(other) }),
        }
    }

    fn finish(self) -> Result<Version, DirListError> {
        let missing = |key| DirListError::Syntax {
            line: self.line,
            reason: SyntaxReason::MissingKey {
                number: self.number.clone(),
                key,
            },
        };
        Ok(Version {
            name: self.name.clone().ok_or_else(|| missing("name"))?,
            gateway: self.gateway.clone().ok_or_else(|| missing("gateway"))?,
            handset: self.handset.clone().ok_or_else(|| missing("handset"))?,
            languages: self.languages.clone().ok_or_else(|| missing("languages"))?,
            requires_both: self.requires_both.unwrap_or(false),
            number: self.number,
        })
    }
}

/// A line without its comment and surrounding blanks.
fn significant(line: &str) -> &str {
    let line = line.strip_suffix('\r').unwrap_or(line);
    line.split('#').next().unwrap_or("").trim()
}

/// `key = value`, both trimmed, the key not empty.
fn key_value(line: &str) -> Option<(&str, &str)> {
    let (key, value) = line.split_once('=')?;
    let key = key.trim();
    (!key.is_empty()).then_some((key, value.trim()))
}

fn name(value: &str) -> Result<String, SyntaxReason> {
    let count = value.chars().count();
    let ok = (1..=MAX_TEXT).contains(&count)
        && value.trim() == value
        && !value.contains('#')
        && !value.chars().any(char::is_control);
    ok.then(|| value.to_string()).ok_or(SyntaxReason::BadValue {
        key: "name",
        expected: "1 to 64 characters, no control characters",
    })
}

fn file_ref(key: &'static str, value: &str) -> Result<FileRef, SyntaxReason> {
    let bad = SyntaxReason::BadValue {
        key,
        expected: "`FILE.fwu SIZE yymmddhhmm`",
    };
    let mut fields = value.split_ascii_whitespace();
    let (Some(file), Some(size), Some(date), None) =
        (fields.next(), fields.next(), fields.next(), fields.next())
    else {
        return Err(bad);
    };
    if !is_file_name(file) || !size.bytes().all(|b| b.is_ascii_digit()) || !is_link_date(date) {
        return Err(bad);
    }
    let size: u32 = size.parse().map_err(|_| bad)?;
    Ok(FileRef {
        file: file.to_string(),
        size,
        link_date: date.to_string(),
    })
}

fn languages(value: &str) -> Result<Vec<String>, SyntaxReason> {
    let tags: Vec<&str> = value.split_ascii_whitespace().collect();
    let ok = (1..=MAX_LANGUAGES).contains(&tags.len())
        && tags.iter().all(|t| is_language(t.as_bytes()))
        && tags.iter().enumerate().all(|(i, t)| !tags[..i].contains(t));
    ok.then(|| tags.iter().map(|t| t.to_string()).collect())
        .ok_or(SyntaxReason::BadValue {
            key: "languages",
            expected: "1 to 16 distinct tags such as fr01",
        })
}

fn requires(value: &str) -> Result<bool, SyntaxReason> {
    (value == "both")
        .then_some(true)
        .ok_or(SyntaxReason::BadValue {
            key: "requires",
            expected: "both",
        })
}

/// 1 to 64 of `A-Za-z0-9._-`, not starting with `.`, ending in `.fwu`.
fn is_file_name(file: &str) -> bool {
    (1..=MAX_TEXT).contains(&file.len())
        && !file.starts_with('.')
        && file.ends_with(".fwu")
        && file
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Ten digits `yymmddhhmm` with a real month, day, hour and minute.
pub fn is_link_date(date: &str) -> bool {
    let b = date.as_bytes();
    if b.len() != 10 || !b.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let two = |i: usize| u32::from(b[i] - b'0') * 10 + u32::from(b[i + 1] - b'0');
    (1..=12).contains(&two(2)) && (1..=31).contains(&two(4)) && two(6) <= 23 && two(8) <= 59
}

/// The checks [`parse`] makes of one section, for [`DirList::new`].
fn check_version(v: &Version) -> Result<(), SyntaxReason> {
    if !is_version(v.number.as_bytes()) {
        return Err(SyntaxReason::BadSection);
    }
    name(&v.name)?;
    for (key, f) in [("gateway", &v.gateway), ("handset", &v.handset)] {
        let text = format!("{} {} {}", f.file, f.size, f.link_date);
        if file_ref(key, &text)? != *f {
            return Err(SyntaxReason::BadValue {
                key,
                expected: "`FILE.fwu SIZE yymmddhhmm`",
            });
        }
    }
    if languages(&v.languages.join(" "))? != v.languages {
        return Err(SyntaxReason::BadValue {
            key: "languages",
            expected: "1 to 16 distinct tags such as fr01",
        });
    }
    Ok(())
}

fn too_long(len: usize) -> DirListError {
    DirListError::Syntax {
        line: 0,
        reason: SyntaxReason::TooLong { len },
    }
}

fn unknown(found: &str) -> DirListError {
    DirListError::UnknownFormat { found: clip(found) }
}

/// At most 80 characters of a text from the input, for an error.
fn clip(text: &str) -> String {
    text.chars().take(FOUND_MAX).collect()
}

impl fmt::Display for FileRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.file, self.size, self.link_date)
    }
}
