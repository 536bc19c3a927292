//! SyncML status codes as used in OMA DM 1.2 (reference §3).
//!
//! A [`StatusCode`] is what a `<Status><Data>` carries. Every code the DM protocol defines has its own
//! variant, so code past the parser matches on names, never on numbers. A peer may still send a code we
//! do not know; it survives as [`StatusCode::Other`] so a transcript is never rewritten.

crate::codes::code_table! {
    /// A SyncML status code (the `Data` of a `Status` command).
    #[derive(PartialOrd, Ord)]
    pub enum StatusCode {
        InProgress = 101, "In progress";
        Ok = 200, "OK";
        /// An Exec or Alert accepted for asynchronous processing.
        Accepted = 202, "Accepted for processing";
        /// Authenticated for the rest of the session.
        AuthAccepted = 212, "Authentication accepted";
        /// A large-object chunk was accepted and buffered.
        ChunkAccepted = 213, "Chunked item accepted and buffered";
        /// The user cancelled (UI alert), or the command ended the session's processing.
        OperationCancelled = 214, "Operation cancelled";
        /// Not executed: the user refused, or an earlier failure stopped processing.
        NotExecuted = 215, "Not executed";
        /// A member of a failed Atomic was rolled back.
        AtomicRollbackOk = 216, "Atomic roll back OK";
        /// The user answered "No" to a confirmation.
        NotModified = 304, "Not modified";
        BadRequest = 400, "Bad request";
        InvalidCredentials = 401, "Invalid credentials";
        Forbidden = 403, "Forbidden";
        NotFound = 404, "Not found";
        CommandNotAllowed = 405, "Command not allowed";
        OptionalFeatureNotSupported = 406, "Optional feature not supported";
        MissingCredentials = 407, "Missing credentials";
        RequestTimeout = 408, "Request timeout";
        Conflict = 409, "Conflict";
        Gone = 410, "Gone";
        IncompleteCommand = 412, "Incomplete command";
        RequestEntityTooLarge = 413, "Request entity too large";
        UriTooLong = 414, "URI too long";
        UnsupportedMediaType = 415, "Unsupported media type or format";
        RequestedSizeTooBig = 416, "Requested size too big";
        AlreadyExists = 418, "Already exists";
        DeviceFull = 420, "Device full";
        SizeMismatch = 424, "Size mismatch";
        PermissionDenied = 425, "Permission denied";
        CommandFailed = 500, "Command failed";
        CommandNotImplemented = 501, "Command not implemented";
        ServiceUnavailable = 503, "Service unavailable";
        GatewayTimeout = 504, "Gateway timeout";
        ProcessingError = 506, "Processing error";
        AtomicFailed = 507, "Atomic failed";
        DataStoreFailure = 510, "Data store failure";
        OperationCancelledFailure = 514, "Operation cancelled";
        AtomicRollbackFailed = 516, "Atomic roll back failed";
        AtomicResponseTooLarge = 517, "Atomic response too large to fit";
    } else {
        /// A code outside the DM 1.2 table, kept verbatim.
        Other(u16) = "Unknown status";
    }
}

impl StatusCode {
    /// 2xx: the command (or header) succeeded.
    pub fn is_success(self) -> bool {
        (200..300).contains(&self.code())
    }
}

/// Serialised as its number, as on the wire.
impl serde::Serialize for StatusCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u16(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_code_round_trips_through_its_number() {
        for &s in StatusCode::ALL {
            assert_eq!(StatusCode::from_code(s.code()), s);
            assert!(!matches!(s, StatusCode::Other(_)));
        }
        assert_eq!(StatusCode::from_code(299), StatusCode::Other(299));
        assert_eq!(StatusCode::NotFound.to_string(), "404 Not found");
    }
}
