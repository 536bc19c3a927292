//! The files a Snom m3 base fetches from its firmware server, in dmsim's own formats (Snom's are
//! not public): [`dirlist`], the `DirList.txt` listing versions and their files, and [`fwu`], the
//! `.fwu` image of one part (gateway or handset) of a version. Both are pure: bytes in, typed
//! values or typed errors out.
//!
//! [`build_release`] writes a server folder's files for one version (and more with
//! [`ReleaseSpec::also`]): `DirList.txt`, then each version's `m3Gw_<lang>_v<ver>.fwu` and
//! `m3Pp_<lang>_v<ver>.fwu`, good or broken on purpose ([`Defect`]). `dmsim package --family
//! snom-m3` and the scenarios' server build their files here.

pub mod dirlist;
pub mod fwu;

pub use dirlist::{DirList, DirListError, FileRef, SyntaxReason, Version};
pub use fwu::{Fwu, FwuError, FwuHeader, Part};

use std::fmt;

/// The DirList's file name in a server folder.
pub const DIRLIST_FILE: &str = "DirList.txt";

/// A way to break a release on purpose, and what the base sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Defect {
    /// Something wrong with one part's `.fwu` file of the first version.
    Fwu(FwuDefect, Part),
    /// The DirList has a line that is not `key = value` after its format line (Code 9).
    DirListSyntax,
    /// The DirList's format line names `dmsim-m3-dirlist/2`, a format the base does not know
    /// (Code 10).
    DirListFormat,
}

/// What is wrong with a `.fwu` file. All of them are Code 7 on the base: the first four and
/// [`FwuDefect::TrailingBytes`] the parser refuses, the last two the base's own check does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FwuDefect {
    /// The header names the other part (a well-formed file: parses).
    WrongPart,
    /// A body byte changed after the checksum was computed ([`FwuError::BadChecksum`]).
    BadChecksum,
    /// The magic's first byte changed ([`FwuError::BadMagic`]).
    BadMagic,
    /// The body cut to half its length ([`FwuError::Truncated`]).
    Truncated,
    /// Sixteen bytes after the body ([`FwuError::WrongSize`]).
    TrailingBytes,
    /// The header names the next version (version + 1, 9999 → 0000; parses).
    WrongVersion,
    /// The header names another language (`xx99`, or `xx98` when that is the spec's; parses).
    WrongLanguage,
}

impl FwuDefect {
    /// Every `.fwu` defect.
    pub const ALL: [FwuDefect; 7] = [
        FwuDefect::WrongPart,
        FwuDefect::BadChecksum,
        FwuDefect::BadMagic,
        FwuDefect::Truncated,
        FwuDefect::TrailingBytes,
        FwuDefect::WrongVersion,
        FwuDefect::WrongLanguage,
    ];

    /// Its name on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            FwuDefect::WrongPart => "wrong-part",
            FwuDefect::BadChecksum => "bad-checksum",
            FwuDefect::BadMagic => "bad-magic",
            FwuDefect::Truncated => "truncated",
            FwuDefect::TrailingBytes => "trailing-bytes",
            FwuDefect::WrongVersion => "wrong-version",
            FwuDefect::WrongLanguage => "wrong-language",
        }
    }
}

impl fmt::Display for Defect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Defect::Fwu(d, Part::Gateway) => f.write_str(d.as_str()),
            Defect::Fwu(d, Part::Handset) => write!(f, "{}:pp", d.as_str()),
            Defect::DirListSyntax => f.write_str("dirlist-syntax"),
            Defect::DirListFormat => f.write_str("dirlist-format"),
        }
    }
}

impl std::str::FromStr for Defect {
    type Err = String;

    /// `dirlist-syntax`, `dirlist-format`, or a `.fwu` defect with an optional part suffix
    /// (`bad-magic` breaks the gateway file, `bad-magic:pp` the handset file, `bad-magic:gw` the
    /// gateway file).
    fn from_str(text: &str) -> Result<Defect, String> {
        match text {
            "dirlist-syntax" => return Ok(Defect::DirListSyntax),
            "dirlist-format" => return Ok(Defect::DirListFormat),
            _ => {}
        }
        let (name, part) = match text.split_once(':') {
            None => (text, Part::Gateway),
            Some((name, "gw")) => (name, Part::Gateway),
            Some((name, "pp")) => (name, Part::Handset),
            Some(_) => return Err(format!("{text:?}: the part after `:` is gw or pp")),
        };
        FwuDefect::ALL
            .into_iter()
            .find(|d| d.as_str() == name)
            .map(|d| Defect::Fwu(d, part))
            .ok_or_else(|| {
                let known: Vec<_> = FwuDefect::ALL.iter().map(|d| d.as_str()).collect();
                format!(
                    "unknown snom-m3 defect {text:?}; known: {} (each with an optional :gw or \
                     :pp), dirlist-syntax, dirlist-format",
                    known.join(", ")
                )
            })
    }
}

/// What to build: the files of `version` in `language`, and the versions of `also` beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseSpec {
    /// Four digits, `0790`.
    pub version: String,
    /// More versions, listed after the first and built alike.
    pub also: Vec<String>,
    /// Language tag, `fr01`.
    pub language: String,
    /// Gateway body size in bytes.
    pub gateway_size: u32,
    /// Handset body size in bytes.
    pub handset_size: u32,
    /// Link date of every file, `yymmddhhmm`.
    pub link_date: String,
    /// `requires = both` on every version.
    pub requires_both: bool,
    /// Seed of the bodies ([`fwu::body`]).
    pub seed: u64,
    pub defect: Option<Defect>,
}

impl ReleaseSpec {
    /// Version `version` in `fr01`, a 512 KiB gateway and a 384 KiB handset body linked
    /// 2406121030, seed 0, no defect.
    pub fn new(version: &str) -> ReleaseSpec {
        ReleaseSpec {
            version: version.to_string(),
            also: Vec::new(),
            language: "fr01".to_string(),
            gateway_size: 512 * 1024,
            handset_size: 384 * 1024,
            link_date: "2406121030".to_string(),
            requires_both: false,
            seed: 0,
            defect: None,
        }
    }
}

/// A server folder's files: the DirList first, then each version's gateway and handset files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    pub files: Vec<(String, Vec<u8>)>,
}

impl Release {
    /// The bytes of a file by name.
    pub fn file(&self, name: &str) -> Option<&[u8]> {
        self.files
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b.as_slice())
    }
}

/// Why a [`ReleaseSpec`] cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReleaseError {
    #[error("version {0:?}: expected four digits")]
    BadVersion(String),
    #[error("language {0:?}: expected two lower-case letters and two digits, e.g. fr01")]
    BadLanguage(String),
    #[error("link date {0:?}: expected yymmddhhmm")]
    BadLinkDate(String),
    #[error("DirList: {0}")]
    DirList(#[from] SyntaxReason),
    #[error(".fwu: {0}")]
    Fwu(#[from] FwuError),
}

/// The display name dmsim gives version `0790`: `m3 v07.90`.
pub fn display_name(version: &str) -> String {
    let (major, minor) = version.split_at(version.len().min(2));
    format!("m3 v{major}.{minor}")
}

/// Build the files of a release (the DirList, then the first version's files, then those of
/// `also`), with the spec's defect.
pub fn build_release(spec: &ReleaseSpec) -> Result<Release, ReleaseError> {
    if !fwu::is_language(spec.language.as_bytes()) {
        return Err(ReleaseError::BadLanguage(spec.language.clone()));
    }
    if !dirlist::is_link_date(&spec.link_date) {
        return Err(ReleaseError::BadLinkDate(spec.link_date.clone()));
    }
    let numbers: Vec<&String> = std::iter::once(&spec.version).chain(&spec.also).collect();
    if let Some(bad) = numbers.iter().find(|n| !fwu::is_version(n.as_bytes())) {
        return Err(ReleaseError::BadVersion(bad.to_string()));
    }
    let versions = numbers
        .iter()
        .map(|number| {
            let file = |part: Part, size| FileRef {
                file: part.file_name(&spec.language, number),
                size,
                link_date: spec.link_date.clone(),
            };
            Version {
                number: number.to_string(),
                name: display_name(number),
                gateway: file(Part::Gateway, spec.gateway_size),
                handset: file(Part::Handset, spec.handset_size),
                languages: vec![spec.language.clone()],
                requires_both: spec.requires_both,
            }
        })
        .collect();
    let list = DirList::new(versions)?;
    let mut files = vec![(DIRLIST_FILE.to_string(), dirlist_text(&list, spec.defect))];
    for (index, version) in list.versions().iter().enumerate() {
        for part in Part::ALL {
            let size = version.file(part).size;
            let body = fwu::body(spec.seed, &version.number, part, size);
            let defect = match spec.defect {
                Some(Defect::Fwu(d, p)) if index == 0 && p == part => Some(d),
                _ => None,
            };
            let bytes = build_fwu(part, &version.number, &spec.language, &body, defect)?;
            files.push((version.file(part).file.clone(), bytes));
        }
    }
    Ok(Release { files })
}

fn dirlist_text(list: &DirList, defect: Option<Defect>) -> Vec<u8> {
    let text = list.to_text();
    let text = match defect {
        Some(Defect::DirListSyntax) => text.replacen("handset = ", "handset: ", 1),
        Some(Defect::DirListFormat) => text.replacen(dirlist::FORMAT, "dmsim-m3-dirlist/2", 1),
        _ => text,
    };
    text.into_bytes()
}

/// One `.fwu` file, broken as `defect` says.
fn build_fwu(
    part: Part,
    version: &str,
    language: &str,
    body: &[u8],
    defect: Option<FwuDefect>,
) -> Result<Vec<u8>, FwuError> {
    let next_version = || {
        let n: u32 = version.parse().unwrap_or(0);
        format!("{:04}", (n + 1) % 10_000)
    };
    let other_language = if language == "xx99" { "xx98" } else { "xx99" };
    let (header_part, header_version, header_language) = match defect {
        Some(FwuDefect::WrongPart) => (part.other(), version.to_string(), language),
        Some(FwuDefect::WrongVersion) => (part, next_version(), language),
        Some(FwuDefect::WrongLanguage) => (part, version.to_string(), other_language),
        _ => (part, version.to_string(), language),
    };
    let mut bytes = Fwu::build(header_part, &header_version, header_language, body)?;
    match defect {
        Some(FwuDefect::BadChecksum) => match bytes.get_mut(fwu::HEADER_LEN) {
            Some(b) => *b ^= 0xFF,
            // An empty body: change the checksum instead.
            None => bytes[fwu::HEADER_LEN - 11] ^= 0xFF,
        },
        Some(FwuDefect::BadMagic) => bytes[0] ^= 0xFF,
        Some(FwuDefect::Truncated) => {
            let cut = fwu::HEADER_LEN + body.len() / 2;
            if body.is_empty() {
                bytes.truncate(fwu::HEADER_LEN / 2);
            } else {
                bytes.truncate(cut);
            }
        }
        Some(FwuDefect::TrailingBytes) => bytes.extend_from_slice(&[0u8; 16]),
        _ => {}
    }
    Ok(bytes)
}

#[cfg(test)]
mod dirlist_tests;
#[cfg(test)]
mod fwu_tests;
#[cfg(test)]
mod release_tests;
