//! OMA Download Descriptors (`application/vnd.oma.dd+xml`, reference §7.1): parsing, validation,
//! the device's checks, and writing them back for the mock server to host.
//!
//! A descriptor is `<media xmlns="http://www.openmobilealliance.org/xmlns/dd">` with its fields as
//! child elements. Parsing is lenient where real descriptors vary and strict where DL 1.0 is:
//! * element names are matched without case (`objectUri` is `objectURI`), values are trimmed, an
//!   empty optional field counts as absent, unknown elements are skipped, a repeated single field
//!   keeps its last value;
//! * the root may carry the DD namespace or none, never another one;
//! * `type` (one or more), `size` (a number above 0) and `objectURI` are required; anything wrong
//!   there, or XML that does not parse, is [`DlStatus::InvalidDescriptor`] (906);
//! * `DDVersion`, when present, must be `1` or `1.<digits>`, else [`DlStatus::InvalidDdVersion`]
//!   (951). That is checked before the required fields: another version may define other fields.
//!
//! [`Descriptor::to_xml`] writes whatever the struct holds without validating it, so a test or the
//! mock server can host a descriptor that lies (a wrong size, a wrong type, no objectURI).

use super::DlStatus;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;
use sha2::Digest;
use std::fmt;

/// The content type of Download Descriptors.
pub const DD_CONTENT_TYPE: &str = "application/vnd.oma.dd+xml";
/// The namespace of the `<media>` root.
pub const DD_NAMESPACE: &str = "http://www.openmobilealliance.org/xmlns/dd";

/// A parsed OMA Download Descriptor. Fields are public so a test can build one that lies.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Descriptor {
    /// MIME types of the object (`type`, one or more).
    pub types: Vec<String>,
    /// Bytes to download (`size`).
    pub size: u64,
    /// Where to GET the object (`objectURI`), possibly relative to the descriptor's URL.
    pub object_uri: String,
    /// Where to POST the status report (`installNotifyURI`).
    pub install_notify_uri: Option<String>,
    /// The page to open after the transaction (`nextURL`).
    pub next_url: Option<String>,
    /// `DDVersion`; absent means 1.0.
    pub dd_version: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub vendor: Option<String>,
    pub info_url: Option<String>,
    pub icon_uri: Option<String>,
    /// Opaque install parameter; `MD5=<hex>` and `SHA256=<hex>` among its `;`-separated
    /// `key=value` pairs are checked against the object (see [`Descriptor::expected_hashes`]).
    pub install_param: Option<String>,
}

/// What the device offers a download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceLimits {
    /// Free storage for the object, in bytes.
    pub free_storage: u64,
    /// MIME types the device can use: `type/subtype`, `type/*` or `*/*`, without case. An empty
    /// list accepts everything.
    pub accepted_types: Vec<String>,
}

impl Default for DeviceLimits {
    /// Unlimited storage, every type accepted.
    fn default() -> DeviceLimits {
        DeviceLimits {
            free_storage: u64::MAX,
            accepted_types: Vec::new(),
        }
    }
}

impl DeviceLimits {
    /// Whether the device can use content of type `mime` (parameters such as `; charset=…`
    /// ignored).
    pub fn accepts(&self, mime: &str) -> bool {
        if self.accepted_types.is_empty() {
            return true;
        }
        let mime = essence(mime);
        let (kind, _) = mime.split_once('/').unwrap_or((mime.as_str(), ""));
        self.accepted_types.iter().any(|a| {
            let a = essence(a);
            a == "*/*" || a == mime || a.strip_suffix("/*") == Some(kind)
        })
    }
}

/// A MIME type without parameters, lower case.
pub(crate) fn essence(mime: &str) -> String {
    mime.split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// A hash algorithm of `installParam`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashAlgorithm {
    Md5,
    Sha256,
}

impl HashAlgorithm {
    /// The key in `installParam`.
    pub fn key(self) -> &'static str {
        match self {
            HashAlgorithm::Md5 => "MD5",
            HashAlgorithm::Sha256 => "SHA256",
        }
    }

    /// The digest of `data` in lower-case hex.
    pub fn hex_digest(self, data: &[u8]) -> String {
        let bytes: Vec<u8> = match self {
            HashAlgorithm::Md5 => md5::Md5::digest(data).to_vec(),
            HashAlgorithm::Sha256 => sha2::Sha256::digest(data).to_vec(),
        };
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// A hash the descriptor announces for its object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedHash {
    pub algorithm: HashAlgorithm,
    /// As written in `installParam` (compared without case).
    pub hex: String,
}

impl ExpectedHash {
    /// Whether `data` has this hash.
    pub fn matches(&self, data: &[u8]) -> bool {
        self.algorithm
            .hex_digest(data)
            .eq_ignore_ascii_case(self.hex.trim())
    }
}

/// A place in a descriptor document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// Byte offset from the start of the document.
    pub offset: u64,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
}

impl Position {
    fn in_text(text: &str, offset: u64) -> Position {
        let end = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(text.len());
        let end = (0..=end)
            .rev()
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(0);
        let before = &text[..end];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        Position {
            offset,
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: u32::try_from(column).unwrap_or(u32::MAX),
        }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// What is wrong with a descriptor.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DescriptorProblem {
    #[error("the descriptor is not UTF-8")]
    NotUtf8,
    #[error("malformed XML: {0}")]
    Malformed(String),
    #[error("no root element")]
    Empty,
    #[error("the root element is <{found}>, not <media>")]
    WrongRoot { found: String },
    #[error("<media> is in namespace {found:?}, not {DD_NAMESPACE:?}")]
    WrongNamespace { found: String },
    #[error("text outside <media>")]
    TextOutsideRoot,
    /// A required field is absent or empty.
    #[error("required <{field}> missing or empty")]
    Missing { field: &'static str },
    #[error("<size> is {value:?}, not a number of bytes")]
    InvalidSize { value: String },
    #[error("<size> is 0")]
    ZeroSize,
    /// `objectURI` cannot be made into an http(s) URL (checked when the descriptor is used).
    #[error("<objectURI> {value:?} is not an http(s) URL: {reason}")]
    BadObjectUri { value: String, reason: String },
    /// The answer went past what the device reads of one response.
    #[error("the descriptor is larger than the device reads of one answer")]
    TooLarge,
    /// `DDVersion` is not 1.x: 951 Invalid DDVersion.
    #[error("DDVersion {version:?} is not 1.x")]
    UnsupportedVersion { version: String },
}

/// Why a descriptor was refused: what, where, and the `installNotifyURI` it named (when that could
/// be read), so a device can still report 906 or 951.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct DescriptorError {
    pub problem: DescriptorProblem,
    /// Where in the document, when the problem has a place (for a missing field: the `<media>`
    /// element).
    pub at: Option<Position>,
    pub install_notify_uri: Option<String>,
}

impl fmt::Display for DescriptorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid download descriptor: {}", self.problem)?;
        if let Some(at) = self.at {
            write!(f, " at {at}")?;
        }
        Ok(())
    }
}

impl DescriptorError {
    /// The install-notify status this error reports: 951 for a DDVersion that is not 1.x, 906 for
    /// everything else.
    pub fn dl_status(&self) -> DlStatus {
        match self.problem {
            DescriptorProblem::UnsupportedVersion { .. } => DlStatus::InvalidDdVersion,
            _ => DlStatus::InvalidDescriptor,
        }
    }
}

/// The fields of a descriptor, by their element names in lower case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Type,
    Size,
    ObjectUri,
    InstallNotifyUri,
    NextUrl,
    DdVersion,
    Name,
    Description,
    Vendor,
    InfoUrl,
    IconUri,
    InstallParam,
}

impl Field {
    fn from_name(local: &[u8]) -> Option<Field> {
        let name = std::str::from_utf8(local).ok()?.to_ascii_lowercase();
        Some(match name.as_str() {
            "type" => Field::Type,
            "size" => Field::Size,
            "objecturi" => Field::ObjectUri,
            "installnotifyuri" => Field::InstallNotifyUri,
            "nexturl" => Field::NextUrl,
            "ddversion" => Field::DdVersion,
            "name" => Field::Name,
            "description" => Field::Description,
            "vendor" => Field::Vendor,
            "infourl" => Field::InfoUrl,
            "iconuri" => Field::IconUri,
            "installparam" => Field::InstallParam,
            _ => return None,
        })
    }
}

/// Fields as read, before validation.
#[derive(Default)]
struct Raw {
    types: Vec<String>,
    size: Option<(String, u64)>,
    object_uri: Option<String>,
    install_notify_uri: Option<String>,
    next_url: Option<String>,
    dd_version: Option<(String, u64)>,
    name: Option<String>,
    description: Option<String>,
    vendor: Option<String>,
    info_url: Option<String>,
    icon_uri: Option<String>,
    install_param: Option<String>,
}

impl Raw {
    fn set(&mut self, field: Field, value: String, at: u64) {
        let value = value.trim().to_string();
        if value.is_empty() {
            return;
        }
        match field {
            Field::Type => self.types.push(value),
            Field::Size => self.size = Some((value, at)),
            Field::ObjectUri => self.object_uri = Some(value),
            Field::InstallNotifyUri => self.install_notify_uri = Some(value),
            Field::NextUrl => self.next_url = Some(value),
            Field::DdVersion => self.dd_version = Some((value, at)),
            Field::Name => self.name = Some(value),
            Field::Description => self.description = Some(value),
            Field::Vendor => self.vendor = Some(value),
            Field::InfoUrl => self.info_url = Some(value),
            Field::IconUri => self.icon_uri = Some(value),
            Field::InstallParam => self.install_param = Some(value),
        }
    }
}

/// Whether a DDVersion is `1` or `1.<digits>`.
fn is_version_1(version: &str) -> bool {
    match version.split_once('.') {
        None => version == "1",
        Some((major, minor)) => {
            major == "1" && !minor.is_empty() && minor.bytes().all(|b| b.is_ascii_digit())
        }
    }
}

impl Descriptor {
    /// A descriptor for an object of `size` bytes at `object_uri`, of one type, DDVersion 1.0.
    pub fn new(object_uri: impl Into<String>, content_type: impl Into<String>, size: u64) -> Self {
        Descriptor {
            types: vec![content_type.into()],
            size,
            object_uri: object_uri.into(),
            dd_version: Some("1.0".to_string()),
            ..Descriptor::default()
        }
    }

    /// A descriptor telling the truth about `body`: its size, and its MD5 in `installParam`.
    pub fn for_object(
        object_uri: impl Into<String>,
        content_type: impl Into<String>,
        body: &[u8],
    ) -> Self {
        let size = u64::try_from(body.len()).unwrap_or(u64::MAX);
        Descriptor::new(object_uri, content_type, size).with_hash(HashAlgorithm::Md5, body)
    }

    /// With an `installNotifyURI`.
    pub fn with_install_notify(mut self, uri: impl Into<String>) -> Self {
        self.install_notify_uri = Some(uri.into());
        self
    }

    /// With `<KEY>=<hex digest of body>` added to `installParam`.
    pub fn with_hash(mut self, algorithm: HashAlgorithm, body: &[u8]) -> Self {
        let pair = format!("{}={}", algorithm.key(), algorithm.hex_digest(body));
        self.install_param = Some(match self.install_param.take() {
            Some(p) if !p.is_empty() => format!("{p};{pair}"),
            _ => pair,
        });
        self
    }

    /// Parse and validate a descriptor document.
    pub fn parse(document: &[u8]) -> Result<Descriptor, DescriptorError> {
        let text = std::str::from_utf8(document).map_err(|e| DescriptorError {
            problem: DescriptorProblem::NotUtf8,
            at: std::str::from_utf8(&document[..e.valid_up_to()])
                .ok()
                .map(|ok| Position::in_text(ok, ok.len() as u64)),
            install_notify_uri: None,
        })?;
        // quick-xml skips a byte order mark without counting it in its positions.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut raw = Raw::default();
        let root_at = read_fields(text, &mut raw).map_err(|(problem, offset)| DescriptorError {
            problem,
            at: offset.map(|o| Position::in_text(text, o)),
            install_notify_uri: raw.install_notify_uri.clone(),
        })?;
        validate(raw, text, root_at)
    }

    /// The device's checks before it downloads: a type it can use (else 953 Non-Acceptable
    /// Content), then room for `size` bytes (else 901 Insufficient memory).
    pub fn check(&self, device: &DeviceLimits) -> Result<(), DlStatus> {
        if !self.types.iter().any(|t| device.accepts(t)) {
            return Err(DlStatus::NonAcceptableContent);
        }
        if self.size > device.free_storage {
            return Err(DlStatus::InsufficientMemory);
        }
        Ok(())
    }

    /// The hashes `installParam` announces (`MD5=<hex>`, `SHA256=<hex>` or `SHA-256=<hex>` among
    /// its `;`-separated pairs, keys without case).
    pub fn expected_hashes(&self) -> Vec<ExpectedHash> {
        let Some(param) = &self.install_param else {
            return Vec::new();
        };
        param
            .split(';')
            .filter_map(|pair| {
                let (key, value) = pair.split_once('=')?;
                let algorithm = match key.trim().to_ascii_uppercase().as_str() {
                    "MD5" => HashAlgorithm::Md5,
                    "SHA256" | "SHA-256" => HashAlgorithm::Sha256,
                    _ => return None,
                };
                Some(ExpectedHash {
                    algorithm,
                    hex: value.trim().to_string(),
                })
            })
            .collect()
    }

    /// Whether the object's type (from its `Content-Type`) is one of the descriptor's types.
    pub fn has_type(&self, mime: &str) -> bool {
        let mime = essence(mime);
        self.types.iter().any(|t| essence(t) == mime)
    }

    /// The descriptor as a document, fields in the order of the DL 1.0 table. Nothing is validated:
    /// what the struct holds is written, lies included.
    pub fn to_xml(&self) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        out.push_str(&format!("<media xmlns=\"{DD_NAMESPACE}\">\n"));
        let mut field = |name: &str, value: &str| {
            let value = quick_xml::escape::escape(value);
            out.push_str(&format!("  <{name}>{value}</{name}>\n"));
        };
        for t in &self.types {
            field("type", t);
        }
        field("size", &self.size.to_string());
        field("objectURI", &self.object_uri);
        let optional = [
            ("installNotifyURI", &self.install_notify_uri),
            ("nextURL", &self.next_url),
            ("DDVersion", &self.dd_version),
            ("name", &self.name),
            ("description", &self.description),
            ("vendor", &self.vendor),
            ("infoURL", &self.info_url),
            ("iconURI", &self.icon_uri),
            ("installParam", &self.install_param),
        ];
        for (name, value) in optional {
            if let Some(v) = value {
                field(name, v);
            }
        }
        out.push_str("</media>\n");
        out
    }
}

/// Read the document's fields into `raw`; the offset of `<media>` on success, the problem and its
/// offset otherwise.
fn read_fields(text: &str, raw: &mut Raw) -> Result<u64, (DescriptorProblem, Option<u64>)> {
    let mut reader = NsReader::from_str(text);
    let mut depth = 0usize;
    let mut root_at = None;
    // The field being read (depth 2), its text so far, and where it started.
    let mut current: Option<(Field, String, u64)> = None;
    loop {
        let pos = reader.buffer_position();
        let (ns, event) = match reader.read_resolved_event() {
            Ok((ns, event)) => (owned_namespace(ns), event),
            Err(e) => {
                return Err((
                    DescriptorProblem::Malformed(e.to_string()),
                    Some(reader.error_position()),
                ))
            }
        };
        let opens = matches!(event, Event::Start(_));
        match event {
            Event::Start(e) | Event::Empty(e) if depth == 0 => {
                if root_at.is_some() {
                    return Err((
                        DescriptorProblem::Malformed("a second root element".into()),
                        Some(pos),
                    ));
                }
                check_root(&ns, &e).map_err(|p| (p, Some(pos)))?;
                root_at = Some(pos);
                if opens {
                    depth = 1;
                }
            }
            Event::Start(e) => {
                depth += 1;
                if depth == 2 {
                    current =
                        Field::from_name(e.local_name().as_ref()).map(|f| (f, String::new(), pos));
                }
            }
            Event::Empty(_) => {}
            Event::End(_) => {
                if depth == 2 {
                    if let Some((field, value, at)) = current.take() {
                        raw.set(field, value, at);
                    }
                }
                depth = depth.saturating_sub(1);
            }
            Event::Text(t) => {
                let value = t
                    .unescape()
                    .map_err(|e| (DescriptorProblem::Malformed(e.to_string()), Some(pos)))?;
                if depth == 0 && !value.trim().is_empty() {
                    return Err((DescriptorProblem::TextOutsideRoot, Some(pos)));
                }
                if let (2, Some((_, text, _))) = (depth, current.as_mut()) {
                    text.push_str(&value);
                }
            }
            Event::CData(c) => {
                if depth == 0 {
                    return Err((DescriptorProblem::TextOutsideRoot, Some(pos)));
                }
                if let (2, Some((_, text, _))) = (depth, current.as_mut()) {
                    let value = c
                        .decode()
                        .map_err(|e| (DescriptorProblem::Malformed(e.to_string()), Some(pos)))?;
                    text.push_str(&value);
                }
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
    }
    if depth > 0 {
        return Err((
            DescriptorProblem::Malformed("the document ends inside <media>".into()),
            Some(text.len() as u64),
        ));
    }
    root_at.ok_or((DescriptorProblem::Empty, None))
}

/// The namespace of an element: none, a namespace, or an undeclared prefix (`Err`).
type ElementNamespace = Result<Option<Vec<u8>>, Vec<u8>>;

fn owned_namespace(ns: ResolveResult) -> ElementNamespace {
    match ns {
        ResolveResult::Unbound => Ok(None),
        ResolveResult::Bound(n) => Ok(Some(n.as_ref().to_vec())),
        ResolveResult::Unknown(prefix) => Err(prefix),
    }
}

fn check_root(ns: &ElementNamespace, e: &BytesStart) -> Result<(), DescriptorProblem> {
    let local = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
    if local != "media" {
        let found = String::from_utf8_lossy(e.name().as_ref()).into_owned();
        return Err(DescriptorProblem::WrongRoot { found });
    }
    match ns {
        Ok(None) => Ok(()),
        Ok(Some(n)) if n.as_slice() == DD_NAMESPACE.as_bytes() => Ok(()),
        Ok(Some(n)) => Err(DescriptorProblem::WrongNamespace {
            found: String::from_utf8_lossy(n).into_owned(),
        }),
        Err(prefix) => Err(DescriptorProblem::Malformed(format!(
            "undeclared namespace prefix {:?}",
            String::from_utf8_lossy(prefix)
        ))),
    }
}

fn validate(raw: Raw, text: &str, root_at: u64) -> Result<Descriptor, DescriptorError> {
    let error = |problem, at: u64| DescriptorError {
        problem,
        at: Some(Position::in_text(text, at)),
        install_notify_uri: raw.install_notify_uri.clone(),
    };
    if let Some((version, at)) = &raw.dd_version {
        if !is_version_1(version) {
            return Err(error(
                DescriptorProblem::UnsupportedVersion {
                    version: version.clone(),
                },
                *at,
            ));
        }
    }
    if raw.types.is_empty() {
        return Err(error(DescriptorProblem::Missing { field: "type" }, root_at));
    }
    let size = match &raw.size {
        None => return Err(error(DescriptorProblem::Missing { field: "size" }, root_at)),
        Some((value, at)) => match value.parse::<u64>() {
            Ok(0) => return Err(error(DescriptorProblem::ZeroSize, *at)),
            Ok(n) => n,
            Err(_) => {
                return Err(error(
                    DescriptorProblem::InvalidSize {
                        value: value.clone(),
                    },
                    *at,
                ))
            }
        },
    };
    let Some(object_uri) = raw.object_uri.clone() else {
        return Err(error(
            DescriptorProblem::Missing { field: "objectURI" },
            root_at,
        ));
    };
    Ok(Descriptor {
        types: raw.types,
        size,
        object_uri,
        install_notify_uri: raw.install_notify_uri,
        next_url: raw.next_url,
        dd_version: raw.dd_version.map(|(v, _)| v),
        name: raw.name,
        description: raw.description,
        vendor: raw.vendor,
        info_url: raw.info_url,
        icon_uri: raw.icon_uri,
        install_param: raw.install_param,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<media xmlns="http://www.openmobilealliance.org/xmlns/dd">
  <type>application/vnd.oma.dm.fw</type>
  <type>application/octet-stream</type>
  <size>1024</size>
  <objectURI>http://dl.example/fw.bin</objectURI>
  <installNotifyURI>http://dl.example/notify?device=IMEI:1</installNotifyURI>
  <nextURL>http://dl.example/next</nextURL>
  <DDVersion>1.0</DDVersion>
  <name>Firmware &amp; fixes</name>
  <description>Security patch</description>
  <vendor>ACME</vendor>
  <infoURL>http://dl.example/info</infoURL>
  <iconURI>http://dl.example/icon.png</iconURI>
  <installParam>MD5=0123;updateFwV=AP/CP/CSC</installParam>
</media>
"#;

    fn parse(s: &str) -> Result<Descriptor, DescriptorError> {
        Descriptor::parse(s.as_bytes())
    }

    fn without(field: &str) -> String {
        FULL.lines()
            .filter(|l| !l.trim_start().starts_with(&format!("<{field}>")))
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn every_field_is_read() {
        let d = parse(FULL).expect("valid");
        assert_eq!(
            d.types,
            ["application/vnd.oma.dm.fw", "application/octet-stream"]
        );
        assert_eq!(d.size, 1024);
        assert_eq!(d.object_uri, "http://dl.example/fw.bin");
        assert_eq!(
            d.install_notify_uri.as_deref(),
            Some("http://dl.example/notify?device=IMEI:1")
        );
        assert_eq!(d.next_url.as_deref(), Some("http://dl.example/next"));
        assert_eq!(d.dd_version.as_deref(), Some("1.0"));
        assert_eq!(d.name.as_deref(), Some("Firmware & fixes"));
        assert_eq!(d.description.as_deref(), Some("Security patch"));
        assert_eq!(d.vendor.as_deref(), Some("ACME"));
        assert_eq!(d.info_url.as_deref(), Some("http://dl.example/info"));
        assert_eq!(d.icon_uri.as_deref(), Some("http://dl.example/icon.png"));
        assert_eq!(
            d.install_param.as_deref(),
            Some("MD5=0123;updateFwV=AP/CP/CSC")
        );
    }

    #[test]
    fn minimal_lenient_descriptors_parse() {
        let d = parse(
            "\u{feff}<dd:media xmlns:dd='http://www.openmobilealliance.org/xmlns/dd'>\
             <dd:TYPE> text/plain </dd:TYPE><Size>5</Size><objectUri><![CDATA[/a?b=1&c=2]]></objectUri>\
             <unknown><type>ignored/inner</type></unknown><installNotifyURI/></dd:media>",
        )
        .expect("valid");
        assert_eq!(d.types, ["text/plain"]);
        assert_eq!(d.size, 5);
        assert_eq!(d.object_uri, "/a?b=1&c=2");
        assert_eq!(d.install_notify_uri, None);
        assert_eq!(d.dd_version, None);
        let no_ns = parse("<media><type>a/b</type><size>1</size><objectURI>x</objectURI></media>");
        assert!(no_ns.is_ok(), "{no_ns:?}");
    }

    #[test]
    fn each_missing_required_field_is_906() {
        for (field, name) in [
            ("type", "type"),
            ("size", "size"),
            ("objectURI", "objectURI"),
        ] {
            let e = parse(&without(field)).expect_err(field);
            assert_eq!(e.problem, DescriptorProblem::Missing { field: name });
            assert_eq!(e.dl_status(), DlStatus::InvalidDescriptor);
            assert_eq!(e.at.map(|p| p.line), Some(2), "at <media>");
            // The notify URI is still known, so 906 can be reported.
            assert_eq!(
                e.install_notify_uri.as_deref(),
                Some("http://dl.example/notify?device=IMEI:1")
            );
        }
        let e = parse(&FULL.replace(
            "<objectURI>http://dl.example/fw.bin</objectURI>",
            "<objectURI> </objectURI>",
        ))
        .expect_err("empty");
        assert_eq!(e.problem, DescriptorProblem::Missing { field: "objectURI" });
    }

    #[test]
    fn sizes_must_be_positive_numbers() {
        let e = parse(&FULL.replace("<size>1024</size>", "<size>1k</size>")).expect_err("1k");
        assert_eq!(
            e.problem,
            DescriptorProblem::InvalidSize { value: "1k".into() }
        );
        assert_eq!(e.dl_status(), DlStatus::InvalidDescriptor);
        let at = e.at.expect("position");
        assert_eq!((at.line, at.column), (5, 3));
        assert!(e.to_string().contains("at line 5, column 3"), "{e}");
        let e = parse(&FULL.replace("<size>1024</size>", "<size>-3</size>")).expect_err("-3");
        assert!(matches!(e.problem, DescriptorProblem::InvalidSize { .. }));
        let e = parse(&FULL.replace("<size>1024</size>", "<size>0</size>")).expect_err("0");
        assert_eq!(e.problem, DescriptorProblem::ZeroSize);
    }

    #[test]
    fn dd_versions_other_than_1_x_are_951() {
        for ok in ["1", "1.0", "1.1", "1.10"] {
            let doc = FULL.replace(
                "<DDVersion>1.0</DDVersion>",
                &format!("<DDVersion>{ok}</DDVersion>"),
            );
            assert!(parse(&doc).is_ok(), "{ok}");
        }
        for bad in ["2.0", "0.9", "1.", "1.x", "v1", "11.0"] {
            let doc = FULL.replace(
                "<DDVersion>1.0</DDVersion>",
                &format!("<DDVersion>{bad}</DDVersion>"),
            );
            let e = parse(&doc).expect_err(bad);
            assert_eq!(e.dl_status(), DlStatus::InvalidDdVersion, "{bad}");
            assert!(e.install_notify_uri.is_some());
        }
        // The version is checked before the fields it may define.
        let doc =
            without("size").replace("<DDVersion>1.0</DDVersion>", "<DDVersion>2.0</DDVersion>");
        assert_eq!(
            parse(&doc).expect_err("2.0").dl_status(),
            DlStatus::InvalidDdVersion
        );
    }

    #[test]
    fn broken_documents_are_906_with_a_position() {
        type Check = fn(&DescriptorProblem) -> bool;
        let cases: [(&[u8], Check); 7] = [
            (b"", |p| *p == DescriptorProblem::Empty),
            (b"<media><type>a/b</media>", |p| {
                matches!(p, DescriptorProblem::Malformed(_))
            }),
            (b"<media><type>a/b</type>", |p| {
                matches!(p, DescriptorProblem::Malformed(_))
            }),
            (
                b"<SyncML/>",
                |p| matches!(p, DescriptorProblem::WrongRoot { found } if found == "SyncML"),
            ),
            (b"<media xmlns='urn:other'/>", |p| {
                matches!(p, DescriptorProblem::WrongNamespace { .. })
            }),
            (b"junk<media/>", |p| {
                *p == DescriptorProblem::TextOutsideRoot
            }),
            (b"<media>\xff</media>", |p| *p == DescriptorProblem::NotUtf8),
        ];
        for (doc, expected) in cases {
            let e = Descriptor::parse(doc).expect_err("invalid");
            assert!(
                expected(&e.problem),
                "{:?}: {e:?}",
                String::from_utf8_lossy(doc)
            );
            assert_eq!(e.dl_status(), DlStatus::InvalidDescriptor);
        }
        let e = Descriptor::parse(b"<media>\n  <type>a</typo>\n</media>").expect_err("mismatch");
        assert_eq!(e.at.map(|p| p.line), Some(2), "{e}");
    }

    #[test]
    fn device_checks_type_then_storage() {
        let d = Descriptor::new("/fw", "application/vnd.oma.dm.fw", 1000);
        assert_eq!(d.check(&DeviceLimits::default()), Ok(()));
        let limits = |free, types: &[&str]| DeviceLimits {
            free_storage: free,
            accepted_types: types.iter().map(|t| t.to_string()).collect(),
        };
        assert_eq!(
            d.check(&limits(1000, &["application/vnd.oma.dm.fw"])),
            Ok(())
        );
        assert_eq!(
            d.check(&limits(999, &["application/*"])),
            Err(DlStatus::InsufficientMemory)
        );
        assert_eq!(
            d.check(&limits(u64::MAX, &["image/png", "text/*"])),
            Err(DlStatus::NonAcceptableContent)
        );
        assert_eq!(
            d.check(&limits(0, &["image/png"])),
            Err(DlStatus::NonAcceptableContent)
        );
        assert_eq!(d.check(&limits(5000, &["*/*"])), Ok(()));
        assert!(limits(0, &["Application/VND.oma.dm.fw"]).accepts("application/vnd.oma.dm.fw; v=1"));
    }

    #[test]
    fn written_descriptors_parse_back_and_can_lie() {
        let body = b"firmware bytes";
        let d = Descriptor::for_object("http://h/fw<1>.bin", "application/octet-stream", body)
            .with_install_notify("/notify")
            .with_hash(HashAlgorithm::Sha256, body);
        assert_eq!(Descriptor::parse(d.to_xml().as_bytes()), Ok(d.clone()));
        let hashes = d.expected_hashes();
        assert_eq!(hashes.len(), 2);
        assert!(hashes.iter().all(|h| h.matches(body)));
        assert!(hashes.iter().all(|h| !h.matches(b"other")));
        let lying = Descriptor {
            size: 0,
            types: Vec::new(),
            ..d
        };
        let e = Descriptor::parse(lying.to_xml().as_bytes()).expect_err("lies");
        assert_eq!(e.problem, DescriptorProblem::Missing { field: "type" });
    }

    #[test]
    fn known_digests() {
        assert_eq!(
            HashAlgorithm::Md5.hex_digest(b"abc"),
            "900150983cd24fb0d6963f7d28e17f72"
        );
        assert_eq!(
            HashAlgorithm::Sha256.hex_digest(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let d = Descriptor {
            install_param: Some(" md5 = 900150983CD24FB0D6963F7D28E17F72 ; x=y; SHA-256=00".into()),
            ..Descriptor::default()
        };
        let h = d.expected_hashes();
        assert_eq!(h.len(), 2);
        assert!(h[0].matches(b"abc"));
        assert!(!h[1].matches(b"abc"));
    }
}
