//! OMA Download OTA 1.0 install-notify status codes (reference §7.2).
//!
//! A [`DlStatus`] is what a device reports to a descriptor's `installNotifyURI`: the body of the POST
//! is its [`status_line`](DlStatus::status_line), `<code> <text>` (e.g. `900 Success`). Codes outside
//! the DL 1.0 table (MIDP's 904 and 907–912, vendor codes) survive as [`DlStatus::Other`], so a code
//! read from a peer is never rewritten.

crate::codes::code_table! {
    /// An OMA DL 1.0 install-notify status code.
    #[derive(PartialOrd, Ord)]
    pub enum DlStatus {
        /// The object was downloaded (and, for FUMO, handed over) successfully.
        Success = 900, "Success";
        /// Not enough free storage for the object.
        InsufficientMemory = 901, "Insufficient memory";
        /// The user refused or cancelled the download.
        UserCancelled = 902, "User Cancelled";
        /// The network went away during the transfer (connection lost, timeout).
        LossOfService = 903, "Loss of Service";
        /// The object does not match the descriptor (size, type, hash).
        AttributeMismatch = 905, "Attribute mismatch";
        /// The descriptor could not be read or misses a required field.
        InvalidDescriptor = 906, "Invalid descriptor";
        /// The descriptor's DDVersion is not 1.x.
        InvalidDdVersion = 951, "Invalid DDVersion";
        /// The device gave the download up.
        DeviceAborted = 952, "Device Aborted";
        /// The device cannot use the object's type.
        NonAcceptableContent = 953, "Non-Acceptable Content";
        /// The object could not be loaded from its URL (HTTP errors and the like).
        LoaderError = 954, "Loader Error";
    } else {
        /// A code outside the DL 1.0 table, kept verbatim.
        Other(u16) = "Unknown status";
    }
}

impl DlStatus {
    /// The install-notify body: `<code> <text>`, e.g. `900 Success`, with no trailing bytes.
    pub fn status_line(self) -> String {
        format!("{} {}", self.code(), self.text())
    }

    /// Whether this is 900 Success.
    pub fn is_success(self) -> bool {
        self == DlStatus::Success
    }

    /// The code at the start of an install-notify body: its first three bytes after any leading
    /// white space, as digits (reference §7.2: implementations differ in what follows, so only the
    /// leading digits count). `None` when there are no three digits there.
    pub fn parse_status_line(body: &[u8]) -> Option<DlStatus> {
        let start = body.iter().position(|b| !b.is_ascii_whitespace())?;
        let digits = body.get(start..start + 3)?;
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let code = digits
            .iter()
            .fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
        Some(DlStatus::from_code(code))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknown_codes_survive() {
        for s in DlStatus::ALL {
            assert_eq!(DlStatus::from_code(s.code()), *s);
        }
        assert_eq!(DlStatus::ALL.len(), 10);
        assert_eq!(DlStatus::from_code(904), DlStatus::Other(904));
        assert_eq!(DlStatus::Other(904).code(), 904);
        assert_eq!(DlStatus::from_code(951), DlStatus::InvalidDdVersion);
    }

    #[test]
    fn status_lines_follow_the_dl_table() {
        assert_eq!(DlStatus::Success.status_line(), "900 Success");
        assert_eq!(
            DlStatus::InsufficientMemory.status_line(),
            "901 Insufficient memory"
        );
        assert_eq!(
            DlStatus::NonAcceptableContent.status_line(),
            "953 Non-Acceptable Content"
        );
        assert_eq!(DlStatus::LoaderError.to_string(), "954 Loader Error");
    }

    #[test]
    fn only_the_leading_three_digits_are_read() {
        let parse = |b: &[u8]| DlStatus::parse_status_line(b).map(DlStatus::code);
        assert_eq!(parse(b"900 Success"), Some(900));
        assert_eq!(parse(b"900 Success \n\r"), Some(900));
        assert_eq!(parse(b"901 Insufficient Memory"), Some(901));
        assert_eq!(parse(b"  \r\n953"), Some(953));
        assert_eq!(parse(b"9000"), Some(900));
        assert_eq!(parse(b"904 MIDP"), Some(904));
        assert_eq!(parse(b"90"), None);
        assert_eq!(parse(b"Success 900"), None);
        assert_eq!(parse(b""), None);
        assert_eq!(parse(b"9a0"), None);
    }
}
