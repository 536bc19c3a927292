//! Credentials (in progress).
