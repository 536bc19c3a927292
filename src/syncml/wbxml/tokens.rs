//! WBXML global tokens and the SyncML 1.2 tag code pages (reference §9.1-§9.4).
//!
//! Tag tokens are stored without their flags: bit 0x40 says the element has content, bit 0x80 that
//! it has attributes. Identities 0x00-0x04 of every byte are global tokens, so tags start at 0x05.

/// Switch the tag code page; the next byte is the page.
pub const SWITCH_PAGE: u8 = 0x00;
/// End of an element's content (or of an attribute list).
pub const END: u8 = 0x01;
/// A character entity: mb_u_int32 code point.
pub const ENTITY: u8 = 0x02;
/// Inline string, NUL-terminated.
pub const STR_I: u8 = 0x03;
/// A tag or attribute whose name is in the string table (mb_u_int32 index); 0x44, 0x84 and 0xC4
/// are the same with the content / attribute flags.
pub const LITERAL: u8 = 0x04;
/// Processing instruction: an attribute start, values, END.
pub const PI: u8 = 0x43;
/// String table reference: mb_u_int32 index.
pub const STR_T: u8 = 0x83;
/// Opaque data: mb_u_int32 length, then the bytes.
pub const OPAQUE: u8 = 0xC3;
/// Extension tokens: inline string (EXT_I_*), table reference (EXT_T_*), or nothing (EXT_*).
pub const EXT_I: [u8; 3] = [0x40, 0x41, 0x42];
pub const EXT_T: [u8; 3] = [0x80, 0x81, 0x82];
pub const EXT: [u8; 3] = [0xC0, 0xC1, 0xC2];

/// Tag flag: the element has content and ends with END.
pub const HAS_CONTENT: u8 = 0x40;
/// Tag flag: an attribute list ending with END follows the tag.
pub const HAS_ATTRIBUTES: u8 = 0x80;
/// The identity part of a tag token.
pub const TAG_MASK: u8 = 0x3F;
/// The first tag identity; lower ones are global tokens.
pub const FIRST_TAG: u8 = 0x05;

/// Public id of SyncML 1.2 (`-//SYNCML//DTD SyncML 1.2//EN`).
pub const PUBLIC_ID_SYNCML_12: u32 = 0x1201;
/// Public id of SyncML 1.1, which some DM 1.2 implementations still write.
pub const PUBLIC_ID_SYNCML_11: u32 = 0x0FD3;
/// Public id of SyncML 1.0.
pub const PUBLIC_ID_SYNCML_10: u32 = 0x0FD1;
/// Public id "unknown or missing" (WBXML §5.6); the root element still has to be `SyncML`.
pub const PUBLIC_ID_UNKNOWN: u32 = 0x01;
/// Public id 0: the formal public identifier is a string in the string table.
pub const PUBLIC_ID_IN_STRING_TABLE: u32 = 0x00;
/// The formal public identifiers of SyncML documents accepted in the string table.
pub const SYNCML_FPIS: [&str; 3] = [
    "-//SYNCML//DTD SyncML 1.2//EN",
    "-//SYNCML//DTD SyncML 1.1//EN",
    "-//SYNCML//DTD SyncML 1.0//EN",
];

/// The formal public identifier of a standalone DM DDF / TNDS document (its tags are on code page 2).
pub const DDF_FPIS: [&str; 1] = ["-//OMA//DTD-DM-DDF 1.2//EN"];

/// IANA MIBenum of UTF-8.
pub const CHARSET_UTF8: u32 = 106;
/// IANA MIBenum of US-ASCII, a subset of UTF-8.
pub const CHARSET_US_ASCII: u32 = 3;
/// Charset 0: unknown; read as UTF-8.
pub const CHARSET_UNKNOWN: u32 = 0;

/// Code page 0: SyncML (`SYNCML:SYNCML1.2`).
pub const PAGE_SYNCML: u8 = 0;
/// Code page 1: MetInf (`syncml:metinf`).
pub const PAGE_METINF: u8 = 1;
/// Code page 2: DM DDF (`syncml:dmddf1.2`), the TNDS / DDF elements.
pub const PAGE_DMDDF: u8 = 2;

/// Code page 0 tags, from token 0x05; an empty name is a reserved token.
const SYNCML: [&str; 56] = [
    "Add",             // 05
    "Alert",           // 06
    "Archive",         // 07
    "Atomic",          // 08
    "Chal",            // 09
    "Cmd",             // 0A
    "CmdID",           // 0B
    "CmdRef",          // 0C
    "Copy",            // 0D
    "Cred",            // 0E
    "Data",            // 0F
    "Delete",          // 10
    "Exec",            // 11
    "Final",           // 12
    "Get",             // 13
    "Item",            // 14
    "Lang",            // 15
    "LocName",         // 16
    "LocURI",          // 17
    "Map",             // 18
    "MapItem",         // 19
    "Meta",            // 1A
    "MsgID",           // 1B
    "MsgRef",          // 1C
    "NoResp",          // 1D
    "NoResults",       // 1E
    "Put",             // 1F
    "Replace",         // 20
    "RespURI",         // 21
    "Results",         // 22
    "Search",          // 23
    "Sequence",        // 24
    "SessionID",       // 25
    "SftDel",          // 26
    "Source",          // 27
    "SourceRef",       // 28
    "Status",          // 29
    "Sync",            // 2A
    "SyncBody",        // 2B
    "SyncHdr",         // 2C
    "SyncML",          // 2D
    "Target",          // 2E
    "TargetRef",       // 2F
    "",                // 30 reserved
    "VerDTD",          // 31
    "VerProto",        // 32
    "NumberOfChanges", // 33
    "MoreData",        // 34
    "Field",           // 35
    "Filter",          // 36
    "Record",          // 37
    "FilterType",      // 38
    "SourceParent",    // 39
    "TargetParent",    // 3A
    "Move",            // 3B
    "Correlator",      // 3C
];

/// Code page 1 tags, from token 0x05.
const METINF: [&str; 18] = [
    "Anchor",     // 05
    "EMI",        // 06
    "Format",     // 07
    "FreeID",     // 08
    "FreeMem",    // 09
    "Last",       // 0A
    "Mark",       // 0B
    "MaxMsgSize", // 0C
    "Mem",        // 0D
    "MetInf",     // 0E
    "Next",       // 0F
    "NextNonce",  // 10
    "SharedMem",  // 11
    "Size",       // 12
    "Type",       // 13
    "Version",    // 14
    "MaxObjSize", // 15
    "FieldLevel", // 16
];

/// Code page 2 tags, from token 0x05.
const DMDDF: [&str; 56] = [
    "AccessType",   // 05
    "ACL",          // 06
    "Add",          // 07
    "b64",          // 08
    "bin",          // 09
    "bool",         // 0A
    "chr",          // 0B
    "CaseSense",    // 0C
    "CIS",          // 0D
    "Copy",         // 0E
    "CS",           // 0F
    "date",         // 10
    "DDFName",      // 11
    "DefaultValue", // 12
    "Delete",       // 13
    "Description",  // 14
    "DFFormat",     // 15
    "DFProperties", // 16
    "DFTitle",      // 17
    "DFType",       // 18
    "Dynamic",      // 19
    "Exec",         // 1A
    "float",        // 1B
    "Format",       // 1C
    "Get",          // 1D
    "int",          // 1E
    "Man",          // 1F
    "MgmtTree",     // 20
    "MIME",         // 21
    "Mod",          // 22
    "Name",         // 23
    "Node",         // 24
    "node",         // 25
    "NodeName",     // 26
    "null",         // 27
    "Occurrence",   // 28
    "One",          // 29
    "OneOrMore",    // 2A
    "OneOrN",       // 2B
    "Path",         // 2C
    "Permanent",    // 2D
    "Replace",      // 2E
    "RTProperties", // 2F
    "Scope",        // 30
    "Size",         // 31
    "time",         // 32
    "Title",        // 33
    "TStamp",       // 34
    "Type",         // 35
    "Value",        // 36
    "VerDTD",       // 37
    "VerNo",        // 38
    "xml",          // 39
    "ZeroOrMore",   // 3A
    "ZeroOrN",      // 3B
    "ZeroOrOne",    // 3C
];

/// The tags of a code page, from token 0x05; `None` for a page SyncML does not define.
fn page(page: u8) -> Option<&'static [&'static str]> {
    match page {
        PAGE_SYNCML => Some(&SYNCML),
        PAGE_METINF => Some(&METINF),
        PAGE_DMDDF => Some(&DMDDF),
        _ => None,
    }
}

/// Whether SyncML defines code page `page`.
pub fn is_known_page(p: u8) -> bool {
    page(p).is_some()
}

/// The name of tag `token` (flags removed) on code page `p`.
pub fn tag_name(p: u8, token: u8) -> Option<&'static str> {
    let index = usize::from(token.checked_sub(FIRST_TAG)?);
    page(p)?.get(index).copied().filter(|name| !name.is_empty())
}

/// The token (flags removed) of the tag named `name` on code page `p`.
pub fn tag_token(p: u8, name: &str) -> Option<u8> {
    let index = page(p)?.iter().position(|n| !n.is_empty() && *n == name)?;
    u8::try_from(index).ok().map(|i| i + FIRST_TAG)
}

/// The XML namespace of code page `p`.
pub fn namespace(p: u8) -> &'static str {
    match p {
        PAGE_METINF => "syncml:metinf",
        PAGE_DMDDF => "syncml:dmddf1.2",
        _ => "SYNCML:SYNCML1.2",
    }
}

/// Code page 0 tokens the encoder writes.
pub mod tag {
    pub const ADD: u8 = 0x05;
    pub const ALERT: u8 = 0x06;
    pub const ARCHIVE: u8 = 0x07;
    pub const ATOMIC: u8 = 0x08;
    pub const CHAL: u8 = 0x09;
    pub const CMD: u8 = 0x0A;
    pub const CMD_ID: u8 = 0x0B;
    pub const CMD_REF: u8 = 0x0C;
    pub const COPY: u8 = 0x0D;
    pub const CRED: u8 = 0x0E;
    pub const DATA: u8 = 0x0F;
    pub const DELETE: u8 = 0x10;
    pub const EXEC: u8 = 0x11;
    pub const FINAL: u8 = 0x12;
    pub const GET: u8 = 0x13;
    pub const ITEM: u8 = 0x14;
    pub const LANG: u8 = 0x15;
    pub const LOC_NAME: u8 = 0x16;
    pub const LOC_URI: u8 = 0x17;
    pub const META: u8 = 0x1A;
    pub const MSG_ID: u8 = 0x1B;
    pub const MSG_REF: u8 = 0x1C;
    pub const NO_RESP: u8 = 0x1D;
    pub const REPLACE: u8 = 0x20;
    pub const RESP_URI: u8 = 0x21;
    pub const RESULTS: u8 = 0x22;
    pub const SEQUENCE: u8 = 0x24;
    pub const SESSION_ID: u8 = 0x25;
    pub const SFT_DEL: u8 = 0x26;
    pub const SOURCE: u8 = 0x27;
    pub const SOURCE_REF: u8 = 0x28;
    pub const STATUS: u8 = 0x29;
    pub const SYNC_BODY: u8 = 0x2B;
    pub const SYNC_HDR: u8 = 0x2C;
    pub const SYNC_ML: u8 = 0x2D;
    pub const TARGET: u8 = 0x2E;
    pub const TARGET_REF: u8 = 0x2F;
    pub const VER_DTD: u8 = 0x31;
    pub const VER_PROTO: u8 = 0x32;
    pub const MORE_DATA: u8 = 0x34;
    pub const CORRELATOR: u8 = 0x3C;
}

/// Code page 1 tokens the encoder writes.
pub mod metinf {
    pub const EMI: u8 = 0x06;
    pub const FORMAT: u8 = 0x07;
    pub const MARK: u8 = 0x0B;
    pub const MAX_MSG_SIZE: u8 = 0x0C;
    pub const NEXT_NONCE: u8 = 0x10;
    pub const SIZE: u8 = 0x12;
    pub const TYPE: u8 = 0x13;
    pub const VERSION: u8 = 0x14;
    pub const MAX_OBJ_SIZE: u8 = 0x15;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_match_the_tables() {
        let syncml = [
            (tag::ADD, "Add"),
            (tag::ALERT, "Alert"),
            (tag::ARCHIVE, "Archive"),
            (tag::ATOMIC, "Atomic"),
            (tag::CHAL, "Chal"),
            (tag::CMD, "Cmd"),
            (tag::CMD_ID, "CmdID"),
            (tag::CMD_REF, "CmdRef"),
            (tag::COPY, "Copy"),
            (tag::CRED, "Cred"),
            (tag::DATA, "Data"),
            (tag::DELETE, "Delete"),
            (tag::EXEC, "Exec"),
            (tag::FINAL, "Final"),
            (tag::GET, "Get"),
            (tag::ITEM, "Item"),
            (tag::LANG, "Lang"),
            (tag::LOC_NAME, "LocName"),
            (tag::LOC_URI, "LocURI"),
            (tag::META, "Meta"),
            (tag::MSG_ID, "MsgID"),
            (tag::MSG_REF, "MsgRef"),
            (tag::NO_RESP, "NoResp"),
            (tag::REPLACE, "Replace"),
            (tag::RESP_URI, "RespURI"),
            (tag::RESULTS, "Results"),
            (tag::SEQUENCE, "Sequence"),
            (tag::SESSION_ID, "SessionID"),
            (tag::SFT_DEL, "SftDel"),
            (tag::SOURCE, "Source"),
            (tag::SOURCE_REF, "SourceRef"),
            (tag::STATUS, "Status"),
            (tag::SYNC_BODY, "SyncBody"),
            (tag::SYNC_HDR, "SyncHdr"),
            (tag::SYNC_ML, "SyncML"),
            (tag::TARGET, "Target"),
            (tag::TARGET_REF, "TargetRef"),
            (tag::VER_DTD, "VerDTD"),
            (tag::VER_PROTO, "VerProto"),
            (tag::MORE_DATA, "MoreData"),
            (tag::CORRELATOR, "Correlator"),
        ];
        for (token, name) in syncml {
            assert_eq!(tag_name(PAGE_SYNCML, token), Some(name));
            assert_eq!(tag_token(PAGE_SYNCML, name), Some(token));
        }
        let metinf = [
            (metinf::EMI, "EMI"),
            (metinf::FORMAT, "Format"),
            (metinf::MARK, "Mark"),
            (metinf::MAX_MSG_SIZE, "MaxMsgSize"),
            (metinf::NEXT_NONCE, "NextNonce"),
            (metinf::SIZE, "Size"),
            (metinf::TYPE, "Type"),
            (metinf::VERSION, "Version"),
            (metinf::MAX_OBJ_SIZE, "MaxObjSize"),
        ];
        for (token, name) in metinf {
            assert_eq!(tag_name(PAGE_METINF, token), Some(name));
        }
    }

    #[test]
    fn table_edges() {
        assert_eq!(tag_name(PAGE_SYNCML, 0x04), None);
        assert_eq!(tag_name(PAGE_SYNCML, 0x30), None);
        assert_eq!(tag_name(PAGE_SYNCML, 0x3D), None);
        assert_eq!(tag_name(PAGE_METINF, 0x16), Some("FieldLevel"));
        assert_eq!(tag_name(PAGE_METINF, 0x17), None);
        assert_eq!(tag_name(PAGE_DMDDF, 0x20), Some("MgmtTree"));
        assert_eq!(tag_name(PAGE_DMDDF, 0x3C), Some("ZeroOrOne"));
        assert_eq!(tag_name(3, 0x05), None);
        assert_eq!(tag_token(PAGE_SYNCML, ""), None);
        assert_eq!(tag_token(PAGE_SYNCML, "Sync"), Some(0x2A));
        assert!(!is_known_page(3));
    }
}
