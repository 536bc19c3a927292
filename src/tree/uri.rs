//! Management-tree URIs: parsing, normalisation, limits and the `?prop=` / `?list=` query.
//!
//! A server may address a node as `./A/B` or `A/B`; both mean the same node, and the tree stores it
//! under the canonical form `./A/B`. The root is `.` (and `./` is accepted for it).
//!
//! Rules (reference §1.4, §8.3, §8.5, §8.6):
//! - Empty segments (`A//B`, a leading `/`), and `.` or `..` segments after the root, are malformed:
//!   400 (Bad request). A `?` inside a segment is only legal as the start of the query.
//! - One trailing `/` is accepted and stripped (`./A/` is `./A`); the spec does not say, and servers
//!   are known to send it for interior nodes.
//! - [`UriLimits`] are checked on the canonical path without its query: depth is the number of
//!   segments below the root (`./A/B` has depth 2), total length is the byte length of the canonical
//!   path including the leading `./`, segment length is the byte length of each segment. Exceeding any
//!   limit is 414 (URI too long). A limit of 0 means unlimited.
//! - The query is either `prop=<Name>` with a property of [`Property`], or `list=<Attr>` with
//!   `Struct`, `StructData` or `TNDS` (see [`TndsSelection`]). A query without `=` is 400; any other
//!   key, an unknown property and any other list attribute are 406 (Optional feature not supported).
//! - `list=TNDS` may be followed by `+<Prop>…` (only these) or `-<Prop>…` (all but these), with
//!   properties among [`TndsProp`] (the RTProperties names and `Value`). Mixing `+` and `-` in one
//!   request is 400 (the request is malformed: the spec allows one or the other, not both), as is an
//!   empty name (`TNDS+`, `TNDS+ACL+`); an unknown property is 406, like an unknown `?prop=`.
//!   A property named twice counts once.

use crate::syncml::StatusCode;

/// The URI limits a device publishes in `./DevDetail/URI/MaxDepth|MaxTotLen|MaxSegLen` (0 = unlimited).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct UriLimits {
    /// Maximum number of segments below the root.
    pub max_depth: u16,
    /// Maximum byte length of a canonical path (`./A/B`), query excluded.
    pub max_tot_len: u16,
    /// Maximum byte length of one segment.
    pub max_seg_len: u16,
}

impl UriLimits {
    /// No limit at all.
    pub const UNLIMITED: UriLimits = UriLimits {
        max_depth: 0,
        max_tot_len: 0,
        max_seg_len: 0,
    };

    /// Limits with the given maxima (0 = unlimited).
    pub fn new(max_depth: u16, max_tot_len: u16, max_seg_len: u16) -> UriLimits {
        UriLimits {
            max_depth,
            max_tot_len,
            max_seg_len,
        }
    }

    /// Check a canonical path against the limits: 414 when one is exceeded.
    pub fn check(&self, path: &str) -> Result<(), StatusCode> {
        let over = |limit: u16, value: usize| limit != 0 && value > usize::from(limit);
        if over(self.max_tot_len, path.len())
            || over(self.max_depth, depth(path))
            || segments(path).any(|s| over(self.max_seg_len, s.len()))
        {
            return Err(StatusCode::UriTooLong);
        }
        Ok(())
    }
}

/// A run-time node property, addressed as `<uri>?prop=<Name>` (reference §8.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Property {
    Acl,
    Format,
    Name,
    Size,
    Title,
    TStamp,
    Type,
    VerNo,
}

impl Property {
    /// Every property, in the order of reference §8.5.
    pub const ALL: [Property; 8] = [
        Property::Acl,
        Property::Format,
        Property::Name,
        Property::Size,
        Property::Title,
        Property::TStamp,
        Property::Type,
        Property::VerNo,
    ];

    /// The property name as it appears in `?prop=`.
    pub fn as_str(self) -> &'static str {
        match self {
            Property::Acl => "ACL",
            Property::Format => "Format",
            Property::Name => "Name",
            Property::Size => "Size",
            Property::Title => "Title",
            Property::TStamp => "TStamp",
            Property::Type => "Type",
            Property::VerNo => "VerNo",
        }
    }

    /// Parse a property name (case-sensitive, as the spec spells them).
    pub fn parse(name: &str) -> Option<Property> {
        Property::ALL.into_iter().find(|p| p.as_str() == name)
    }
}

/// The supported `?list=` attributes (reference §8.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListKind {
    /// One item per node of the subtree, no data.
    Struct,
    /// One item per node of the subtree, with leaf data.
    StructData,
}

impl ListKind {
    /// The attribute as it appears in `?list=`.
    pub fn as_str(self) -> &'static str {
        match self {
            ListKind::Struct => "Struct",
            ListKind::StructData => "StructData",
        }
    }
}

/// What a TNDS listing may include: the run-time properties of a node and its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TndsProp {
    Acl,
    Format,
    Name,
    Size,
    Title,
    TStamp,
    Type,
    VerNo,
    Value,
}

impl TndsProp {
    /// Every TNDS property, in the order of the DDF `RTProperties` element, `Value` last.
    pub const ALL: [TndsProp; 9] = [
        TndsProp::Acl,
        TndsProp::Format,
        TndsProp::Name,
        TndsProp::Size,
        TndsProp::Title,
        TndsProp::TStamp,
        TndsProp::Type,
        TndsProp::VerNo,
        TndsProp::Value,
    ];

    /// The name as it appears in `?list=TNDS+<Name>` (and as the DDF element name).
    pub fn as_str(self) -> &'static str {
        match self {
            TndsProp::Acl => "ACL",
            TndsProp::Format => "Format",
            TndsProp::Name => "Name",
            TndsProp::Size => "Size",
            TndsProp::Title => "Title",
            TndsProp::TStamp => "TStamp",
            TndsProp::Type => "Type",
            TndsProp::VerNo => "VerNo",
            TndsProp::Value => "Value",
        }
    }

    /// Parse a property name (case-sensitive).
    pub fn parse(name: &str) -> Option<TndsProp> {
        TndsProp::ALL.into_iter().find(|p| p.as_str() == name)
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// How a `?list=TNDS…` request selected its properties.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TndsMode {
    /// `TNDS`: every property.
    All,
    /// `TNDS+A+B`: only the named properties.
    Only,
    /// `TNDS-A-B`: every property but the named ones.
    Except,
}

/// The properties a `?list=TNDS…` request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TndsSelection {
    mode: TndsMode,
    /// The properties named in the request.
    named: u16,
}

impl TndsSelection {
    /// `TNDS`: every property and the value.
    pub const ALL: TndsSelection = TndsSelection {
        mode: TndsMode::All,
        named: 0,
    };

    /// `TNDS+<props>`.
    pub fn only(props: &[TndsProp]) -> TndsSelection {
        TndsSelection::named(TndsMode::Only, props)
    }

    /// `TNDS-<props>`.
    pub fn except(props: &[TndsProp]) -> TndsSelection {
        TndsSelection::named(TndsMode::Except, props)
    }

    fn named(mode: TndsMode, props: &[TndsProp]) -> TndsSelection {
        let named = props.iter().fold(0, |bits, p| bits | p.bit());
        TndsSelection { mode, named }
    }

    /// Whether the listing includes `prop`.
    pub fn includes(self, prop: TndsProp) -> bool {
        let named = self.named & prop.bit() != 0;
        match self.mode {
            TndsMode::All => true,
            TndsMode::Only => named,
            TndsMode::Except => !named,
        }
    }

    /// The `list=` attribute in canonical form: `TNDS`, then the named properties in
    /// [`TndsProp::ALL`] order, each after `+` or `-`.
    pub fn attribute(self) -> String {
        let sign = match self.mode {
            TndsMode::All => return "TNDS".to_string(),
            TndsMode::Only => '+',
            TndsMode::Except => '-',
        };
        TndsProp::ALL
            .into_iter()
            .filter(|p| self.named & p.bit() != 0)
            .fold("TNDS".to_string(), |mut s, p| {
                s.push(sign);
                s.push_str(p.as_str());
                s
            })
    }

    /// Parse the text after `TNDS` (empty, `+A+B…` or `-A-B…`): 400 when malformed, 406 for an
    /// unknown property.
    fn parse(rest: &str) -> Result<TndsSelection, StatusCode> {
        let Some(first) = rest.chars().next() else {
            return Ok(TndsSelection::ALL);
        };
        let mode = match first {
            '+' => TndsMode::Only,
            '-' => TndsMode::Except,
            _ => return Err(StatusCode::OptionalFeatureNotSupported),
        };
        let other = if mode == TndsMode::Only { '-' } else { '+' };
        let names = &rest[first.len_utf8()..];
        if names.contains(other) {
            return Err(StatusCode::BadRequest);
        }
        let props = names
            .split(first)
            .map(|name| match name {
                "" => Err(StatusCode::BadRequest),
                _ => TndsProp::parse(name).ok_or(StatusCode::OptionalFeatureNotSupported),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(TndsSelection::named(mode, &props))
    }
}

/// What a URI's query asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Query {
    /// No query: the node itself.
    None,
    /// `?prop=<Name>`.
    Prop(Property),
    /// `?list=<Attr>`.
    List(ListKind),
    /// `?list=TNDS…`: the subtree serialised as one TNDS document.
    Tnds(TndsSelection),
}

/// A parsed server URI: canonical path and query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DmUri {
    /// Canonical path (`.` or `./A/B`).
    pub path: String,
    pub query: Query,
}

/// Parse a server URI: canonical path (400 if malformed), limits (414), query (400/406).
pub fn parse(uri: &str, limits: &UriLimits) -> Result<DmUri, StatusCode> {
    let (raw_path, raw_query) = match uri.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (uri, None),
    };
    let path = canonical(raw_path).ok_or(StatusCode::BadRequest)?;
    limits.check(&path)?;
    let query = match raw_query {
        Some(q) => parse_query(q)?,
        None => Query::None,
    };
    Ok(DmUri { path, query })
}

fn parse_query(query: &str) -> Result<Query, StatusCode> {
    let (key, value) = query.split_once('=').ok_or(StatusCode::BadRequest)?;
    match key {
        "prop" => Property::parse(value)
            .map(Query::Prop)
            .ok_or(StatusCode::OptionalFeatureNotSupported),
        "list" => match value {
            "Struct" => Ok(Query::List(ListKind::Struct)),
            "StructData" => Ok(Query::List(ListKind::StructData)),
            _ => match value.strip_prefix("TNDS") {
                Some(rest) => TndsSelection::parse(rest).map(Query::Tnds),
                None => Err(StatusCode::OptionalFeatureNotSupported),
            },
        },
        _ => Err(StatusCode::OptionalFeatureNotSupported),
    }
}

/// The canonical form of a path (no query allowed), or `None` if it is malformed.
pub fn canonical(path: &str) -> Option<String> {
    let path = match path.strip_suffix('/') {
        Some(stripped) if !stripped.is_empty() => stripped,
        _ => path,
    };
    if path == "." {
        return Some(".".to_string());
    }
    let rest = path.strip_prefix("./").unwrap_or(path);
    if !rest.split('/').all(is_valid_segment) {
        return None;
    }
    Some(format!("./{rest}"))
}

/// Whether `name` may be one segment (node name): non-empty, not `.`/`..`, no `/` or `?`.
pub fn is_valid_segment(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '?'])
}

/// The parent of a canonical path; `None` for the root.
pub fn parent(path: &str) -> Option<&str> {
    if path == "." {
        return None;
    }
    path.rfind('/').map(|i| &path[..i])
}

/// The last segment (node name) of a canonical path; `.` for the root.
pub fn name(path: &str) -> &str {
    path.rfind('/').map_or(path, |i| &path[i + 1..])
}

/// The segments below the root of a canonical path.
pub fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.strip_prefix("./")
        .unwrap_or("")
        .split('/')
        .filter(|s| !s.is_empty())
}

/// Number of segments below the root (`.` is 0, `./A/B` is 2).
pub fn depth(path: &str) -> usize {
    segments(path).count()
}

/// The canonical path of child `name` of canonical `parent`.
pub fn join(parent: &str, name: &str) -> String {
    format!("{parent}/{name}")
}

/// The canonical path and every ancestor up to the root, nearest first.
pub fn ancestors_inclusive(path: &str) -> impl Iterator<Item = &str> {
    std::iter::successors(Some(path), |p| parent(p))
}

/// Whether `path` is `descendant` itself or one of its ancestors.
pub fn is_ancestor_or_self(path: &str, descendant: &str) -> bool {
    path == "."
        || descendant == path
        || (descendant.starts_with(path) && descendant.as_bytes().get(path.len()) == Some(&b'/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_and_absolute_forms_are_the_same_node() {
        assert_eq!(canonical("A/B").as_deref(), Some("./A/B"));
        assert_eq!(canonical("./A/B").as_deref(), Some("./A/B"));
        assert_eq!(canonical(".").as_deref(), Some("."));
        assert_eq!(canonical("./").as_deref(), Some("."));
        assert_eq!(canonical("./A/").as_deref(), Some("./A"));
        assert_eq!(canonical("A").as_deref(), Some("./A"));
        assert_eq!(canonical("./.hidden").as_deref(), Some("./.hidden"));
    }

    #[test]
    fn malformed_paths_are_rejected() {
        for bad in [
            "", "/", "/A", "A//B", "./A/../B", "./A/./B", "..", "./..", "A/B//", "./A?x", ".//",
        ] {
            assert_eq!(canonical(bad), None, "{bad:?}");
            assert_eq!(
                parse(bad, &UriLimits::UNLIMITED).err(),
                Some(StatusCode::BadRequest),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn limits_give_414() {
        let limits = UriLimits::new(2, 10, 4);
        assert!(parse("./ab/cd", &limits).is_ok());
        assert_eq!(
            parse("./a/b/c", &limits).err(),
            Some(StatusCode::UriTooLong)
        );
        assert_eq!(
            parse("./abcde", &limits).err(),
            Some(StatusCode::UriTooLong)
        );
        assert_eq!(
            parse("./abcd/efgh", &limits).err(),
            Some(StatusCode::UriTooLong)
        );
        assert!(parse("./abcd/efg", &limits).is_ok());
        // The query does not count towards the total length.
        assert!(parse("./abcd/efg?prop=Format", &limits).is_ok());
        // Malformed wins over too long.
        assert_eq!(
            parse("./a//b/c/d", &limits).err(),
            Some(StatusCode::BadRequest)
        );
        assert!(parse("./a/b/c/d/e/f/g", &UriLimits::UNLIMITED).is_ok());
    }

    #[test]
    fn queries_parse() {
        let u = |s: &str| parse(s, &UriLimits::UNLIMITED);
        assert_eq!(
            u("A?prop=ACL").map(|d| d.query),
            Ok(Query::Prop(Property::Acl))
        );
        assert_eq!(
            u("A?prop=VerNo").map(|d| d.query),
            Ok(Query::Prop(Property::VerNo))
        );
        assert_eq!(
            u("./A?list=Struct").map(|d| d.query),
            Ok(Query::List(ListKind::Struct))
        );
        assert_eq!(
            u("./A?list=StructData").map(|d| d.query),
            Ok(Query::List(ListKind::StructData))
        );
        assert_eq!(
            u("./A?prop=Colour").err(),
            Some(StatusCode::OptionalFeatureNotSupported)
        );
        assert_eq!(
            u("./A?prop=acl").err(),
            Some(StatusCode::OptionalFeatureNotSupported)
        );
        assert_eq!(
            u("./A?list=TNDS").map(|d| d.query),
            Ok(Query::Tnds(TndsSelection::ALL))
        );
        assert_eq!(
            u("./A?list=TNDSX").err(),
            Some(StatusCode::OptionalFeatureNotSupported)
        );
        assert_eq!(
            u("./A?list=tnds").err(),
            Some(StatusCode::OptionalFeatureNotSupported)
        );
        assert_eq!(
            u("./A?foo=bar").err(),
            Some(StatusCode::OptionalFeatureNotSupported)
        );
        assert_eq!(u("./A?prop").err(), Some(StatusCode::BadRequest));
        assert_eq!(u("./A").map(|d| d.path), Ok("./A".to_string()));
    }

    #[test]
    fn tnds_selections_parse() {
        let sel = |s: &str| match parse(&format!("./A?list={s}"), &UriLimits::UNLIMITED) {
            Ok(DmUri {
                query: Query::Tnds(sel),
                ..
            }) => Ok(sel),
            Ok(other) => panic!("{other:?}"),
            Err(e) => Err(e),
        };
        let all = sel("TNDS").unwrap();
        assert!(TndsProp::ALL.into_iter().all(|p| all.includes(p)));
        assert_eq!(all.attribute(), "TNDS");

        let only = sel("TNDS+Format+ACL+Format").unwrap();
        assert_eq!(
            only,
            TndsSelection::only(&[TndsProp::Acl, TndsProp::Format])
        );
        assert!(only.includes(TndsProp::Acl) && only.includes(TndsProp::Format));
        assert!(!only.includes(TndsProp::Value) && !only.includes(TndsProp::Type));
        assert_eq!(only.attribute(), "TNDS+ACL+Format");

        let except = sel("TNDS-Value").unwrap();
        assert_eq!(except, TndsSelection::except(&[TndsProp::Value]));
        assert!(!except.includes(TndsProp::Value) && except.includes(TndsProp::Acl));
        assert_eq!(except.attribute(), "TNDS-Value");

        use StatusCode as S;
        for bad in [
            "TNDS+ACL-Value",
            "TNDS-ACL+Value",
            "TNDS+",
            "TNDS+ACL+",
            "TNDS-",
            "TNDS++ACL",
        ] {
            assert_eq!(sel(bad), Err(S::BadRequest), "{bad}");
        }
        for unsupported in [
            "TNDS+Colour",
            "TNDS-acl",
            "TNDS+Value+Nope",
            "TNDSACL",
            "TNDS*ACL",
        ] {
            assert_eq!(
                sel(unsupported),
                Err(S::OptionalFeatureNotSupported),
                "{unsupported}"
            );
        }
    }

    #[test]
    fn path_helpers() {
        assert_eq!(parent("./A/B"), Some("./A"));
        assert_eq!(parent("./A"), Some("."));
        assert_eq!(parent("."), None);
        assert_eq!(name("./A/B"), "B");
        assert_eq!(name("."), ".");
        assert_eq!(depth("."), 0);
        assert_eq!(depth("./A/B"), 2);
        assert_eq!(
            ancestors_inclusive("./A/B").collect::<Vec<_>>(),
            vec!["./A/B", "./A", "."]
        );
        assert!(is_ancestor_or_self("./A", "./A/B"));
        assert!(is_ancestor_or_self("./A", "./A"));
        assert!(!is_ancestor_or_self("./A", "./AB"));
        assert!(is_ancestor_or_self(".", "./AB"));
        assert!(!is_valid_segment("a/b"));
        assert!(!is_valid_segment(".."));
        assert!(is_valid_segment("a.b"));
    }
}
