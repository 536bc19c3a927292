//! Why a profile file was refused, naming the row.

use super::{RowAt, Table};
use crate::outcome::Key;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    #[error("not a profile file: {0}")]
    Syntax(String),
    #[error("base profile {0:?} is not a known profile")]
    UnknownBase(String),
    #[error(
        "{at}: unknown table {table:?} (known: fumo-result, scomo-result, dl-status, fumo-state, syncml-status, knox-efota, knox-efota-portal)"
    )]
    UnknownTable { at: RowAt, table: String },
    #[error("{at}: not a code of {table}")]
    NotACode { at: RowAt, table: Table },
    #[error("{at}: the code appears twice in {table}")]
    DuplicateCode { at: RowAt, table: Table },
    #[error(
        "{at}: a {table} code must name the outcomes it reports (`outcomes = [\"phase.cause\"]`)"
    )]
    NoOutcome { at: RowAt, table: Table },
    #[error("{at}: {table} codes are fixed by the protocol, so the row names no outcomes")]
    FixedByProtocol { at: RowAt, table: Table },
    #[error("{at}: {outcome:?} is not a way a flow can end (`phase.cause`, see src/outcome.rs)")]
    UnknownOutcome { at: RowAt, outcome: String },
    #[error("{at}: {table} has no codes for {key}")]
    OutcomeNotInTable { at: RowAt, table: Table, key: Key },
    #[error("{at}: {key} is already reported by another {table} code of this profile")]
    DuplicateOutcome { at: RowAt, table: Table, key: Key },
    #[error(
        "{at}: only a vendor report table (knox-efota) has `from` and `platform`, not {table}"
    )]
    NotAVendorReport { at: RowAt, table: Table },
    #[error("{at}: {from:?} is not an OMA code a device reports (`<table> <code>`, e.g. `fumo-result 402`)")]
    BadRelation { at: RowAt, from: String },
    #[error("{at}: {from:?} is already reported again by another code of this table")]
    DuplicateRelation { at: RowAt, from: String },
    #[error("{at}: preceded_by names {code}, which is not a code of its table in this profile")]
    UnknownPrecedingCode { at: RowAt, code: i64 },
    #[error("no {table} code reports {key}, and the profile has no base to report it")]
    Unmapped { table: Table, key: Key },
}
