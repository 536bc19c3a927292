//! The wire: SyncML DM 1.2 messages, their XML and WBXML codecs, credentials, status and alert
//! codes, Package #0, and packages over several messages.
//!
//! Everything here is pure (no IO): bytes in, typed messages out, and back.

mod alert;
pub mod auth;
mod codec;
mod generic_alert;
pub mod large_object;
mod message;
pub mod notes;
pub mod outbox;
pub mod pkg0;
mod status;
mod tree_map;
pub mod wbxml;
pub mod xml;

pub use alert::AlertCode;
pub use codec::{
    decode, decode_labelled, decode_labelled_with_notes, render_as_received, CodecError,
    Deviations, Encoding, LabelError,
};
pub use generic_alert::GenericAlert;
pub use message::*;
pub use notes::{DecodeNote, NoteKind};
pub use status::StatusCode;

/// MIME type of SyncML DM messages in XML.
pub const CONTENT_TYPE_XML: &str = "application/vnd.syncml.dm+xml";
/// MIME type of SyncML DM messages in WBXML.
pub const CONTENT_TYPE_WBXML: &str = "application/vnd.syncml.dm+wbxml";
