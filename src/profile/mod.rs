//! Profiles: what a device reports for each way a flow can end. A profile is a file in
//! `profiles/` with one row per code (code, table, meaning, side, the outcomes that produce it);
//! a profile may be layered on a base, whose rows answer every outcome it does not map itself.
//!
//! Flows end with an [`Outcome`](crate::outcome::Outcome) and ask their device's profile for the
//! code: [`Profile::fumo_result`], [`Profile::scomo_result_row`], [`Profile::dl_status`]. The `fumo-state` and `syncml-status`
//! tables list codes the protocol itself fixes at a step (FUMO 1.0's State machine, the DM
//! statuses); their rows carry no outcomes, and are there so that `dmsim codes` and the coverage
//! test see every code a device of the profile reports.
//!
//! The built-in profiles are `oma` (the OMA codes alone) and `dmsim` (dmsim's vendor codes on top
//! of it, the default). They are read from `profiles/*.toml` into the binary and checked by
//! [`Profile::parse`]; `cargo test` parses them, and the suite proves every row.

mod builtin;
mod error;

pub use builtin::{builtin, builtins, default_profile, DEFAULT, NAMES};
pub use error::ProfileError;

use crate::outcome::{Key, Phase, REACHABLE};
use crate::protocol::download::DlStatus;
use crate::protocol::fumo::FumoState;
use crate::syncml::StatusCode;
use serde::Deserialize;
use std::collections::HashMap;
use std::fmt;

/// A table of codes: the observation family `dmsim run --json` reports its codes under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Table {
    /// FUMO results (Generic Alert 1226 Data), mapped from outcomes.
    FumoResult,
    /// SCOMO results (the `ResultCode` of the OperationComplete Generic Alert), mapped from
    /// outcomes.
    ScomoResult,
    /// OMA Download statuses (install notify), mapped from outcomes of the download phase.
    DlStatus,
    /// FUMO States, fixed by the protocol.
    FumoState,
    /// SyncML statuses the device sends, fixed by the protocol.
    SyncmlStatus,
    /// Samsung Knox E-FOTA Advanced client codes, which a knox-efota device reports in its own
    /// Generic Alert beside the OMA one ([`crate::protocol::efota`]): chosen from an outcome of
    /// the E-FOTA client's own flows, or from the OMA code the device reported (`from`).
    KnoxEfota,
    /// The Knox E-FOTA portal's own codes (validation, operation results): the server's side.
    KnoxEfotaPortal,
    /// The display codes of a Snom m3 base's firmware update ("Code 0" to "Code 12"), mapped from
    /// the outcomes of its update ([`Key::in_snom`]).
    SnomM3,
}

impl Table {
    pub const ALL: &'static [Table] = &[
        Table::FumoResult,
        Table::ScomoResult,
        Table::DlStatus,
        Table::FumoState,
        Table::SyncmlStatus,
        Table::KnoxEfota,
        Table::KnoxEfotaPortal,
        Table::SnomM3,
    ];

    /// The name profile files (and observation families) use.
    pub fn as_str(self) -> &'static str {
        match self {
            Table::FumoResult => "fumo-result",
            Table::ScomoResult => "scomo-result",
            Table::DlStatus => "dl-status",
            Table::FumoState => "fumo-state",
            Table::SyncmlStatus => "syncml-status",
            Table::KnoxEfota => "knox-efota",
            Table::KnoxEfotaPortal => "knox-efota-portal",
            Table::SnomM3 => "snom-m3",
        }
    }

    pub fn parse(name: &str) -> Option<Table> {
        Table::ALL.iter().copied().find(|t| t.as_str() == name)
    }

    /// Whether the table's codes are chosen from outcomes (otherwise the protocol fixes them).
    pub fn is_mapped(self) -> bool {
        matches!(
            self,
            Table::FumoResult | Table::ScomoResult | Table::DlStatus | Table::SnomM3
        )
    }

    /// Whether the table's codes are a vendor client's report, produced from outcomes of any flow
    /// or from the OMA codes the device reported (`from`).
    pub fn is_vendor_report(self) -> bool {
        self == Table::KnoxEfota
    }

    /// Whether an outcome is one this table gives a code for: the outcomes of FUMO flows have FUMO
    /// results, those of SCOMO flows SCOMO results ([`Key::in_fumo`], [`Key::in_scomo`]); only
    /// the download phase's have DL statuses. A vendor report table takes any outcome, the
    /// endings of DM sessions ([`Key::in_session`]) included: they are the only tables that have
    /// codes for those, so a base profile (`oma`) needs no row for them.
    pub fn applies_to(self, key: Key) -> bool {
        match self {
            Table::FumoResult => key.in_fumo(),
            Table::ScomoResult => key.in_scomo(),
            Table::DlStatus => key.0 == Phase::Download,
            Table::KnoxEfota => true,
            Table::SnomM3 => key.in_snom(),
            Table::FumoState | Table::SyncmlStatus | Table::KnoxEfotaPortal => false,
        }
    }

    /// Whether `code` is a code of this table at all (the mapped tables take any code in their
    /// range: vendor codes are the point of profiles).
    fn accepts(self, code: i64) -> bool {
        if matches!(self, Table::KnoxEfota | Table::KnoxEfotaPortal) {
            // E-FOTA codes are signed, from -9999 (the -7xxx operation codes) to 9999.
            return (-9999..=9999).contains(&code);
        }
        let Ok(code) = u16::try_from(code) else {
            return false;
        };
        match self {
            Table::KnoxEfota | Table::KnoxEfotaPortal => false,
            Table::SnomM3 => code <= 12,
            Table::FumoResult => (200..=599).contains(&code),
            Table::ScomoResult => (1200..=1599).contains(&code),
            Table::DlStatus => (900..=999).contains(&code),
            Table::FumoState => FumoState::from_value(code).is_some(),
            Table::SyncmlStatus => !matches!(StatusCode::from_code(code), StatusCode::Other(_)),
        }
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who reports a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Side {
    #[default]
    Device,
    Server,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Device => "device",
            Side::Server => "server",
        }
    }
}

/// The platform a vendor report row is for: the same client runs on more than one kind of device,
/// and a few of its codes are one platform's (Knox E-FOTA's iOS app codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Platform {
    #[default]
    Android,
    Ios,
}

impl Platform {
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Android => "android",
            Platform::Ios => "ios",
        }
    }
}

/// One code of a profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub code: i64,
    pub table: Table,
    pub meaning: String,
    pub side: Side,
    /// Why the code is the side's (vendor tables, where the seed does not say).
    pub why: Option<String>,
    /// The table of the vendor's own document the code is listed in.
    pub section: Option<String>,
    /// The outcomes reported with this code (none in the protocol's own tables).
    pub outcomes: Vec<Key>,
    /// A vendor report row: the OMA codes (table, code) the device reported that this code reports
    /// again in the vendor's terms, when no row names the outcome itself.
    pub from: Vec<(Table, i64)>,
    /// A vendor report row for one platform only (`None`: every platform).
    pub platform: Option<Platform>,
    /// A vendor report row: codes of the same table the device reports before this one in the
    /// same report, for an ending that was partly a success (Knox E-FOTA's partial install: -1200
    /// for the part done, then -1463 for the part whose device was missing).
    pub preceded_by: Vec<i64>,
}

/// A profile, parsed and checked.
#[derive(Debug)]
pub struct Profile {
    name: String,
    description: String,
    base: Option<&'static Profile>,
    rows: Vec<Row>,
    /// Which of `rows` maps an outcome, per table.
    by_outcome: HashMap<(Table, Key), usize>,
}

/// A profile file as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    name: String,
    #[serde(default)]
    base: Option<String>,
    #[serde(default)]
    description: String,
    #[serde(default, rename = "code")]
    codes: Vec<FileRow>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRow {
    code: i64,
    table: String,
    meaning: String,
    #[serde(default)]
    side: Side,
    #[serde(default)]
    why: Option<String>,
    #[serde(default)]
    section: Option<String>,
    #[serde(default)]
    outcomes: Vec<String>,
    #[serde(default)]
    from: Vec<String>,
    #[serde(default)]
    platform: Option<Platform>,
    #[serde(default)]
    preceded_by: Vec<i64>,
}

impl Profile {
    /// Read a profile file. `base` finds the profile a `base = "…"` names. Every row is checked:
    /// its table and code exist, its outcomes are ways a flow can end that the table has codes
    /// for, no code or outcome appears twice in a table, a mapped table's row names an outcome,
    /// and a profile with no base maps every outcome of every mapped table it has rows in (`oma`
    /// the OMA tables, `snom-m3` its display codes).
    pub fn parse(
        text: &str,
        base: impl Fn(&str) -> Option<&'static Profile>,
    ) -> Result<Profile, ProfileError> {
        let file: File = toml::from_str(text).map_err(|e| ProfileError::Syntax(e.to_string()))?;
        let base = match &file.base {
            Some(name) => Some(base(name).ok_or_else(|| ProfileError::UnknownBase(name.clone()))?),
            None => None,
        };
        let mut rows = Vec::with_capacity(file.codes.len());
        let mut by_outcome = HashMap::new();
        let mut codes = HashMap::new();
        let mut relations = std::collections::HashSet::new();
        let mut vendor_outcomes = std::collections::HashSet::new();
        for (index, row) in file.codes.into_iter().enumerate() {
            let at = RowAt {
                index,
                code: row.code,
            };
            let table = Table::parse(&row.table).ok_or_else(|| ProfileError::UnknownTable {
                at,
                table: row.table.clone(),
            })?;
            if !table.accepts(row.code) {
                return Err(ProfileError::NotACode { at, table });
            }
            if codes
                .insert((table, row.code, row.platform), index)
                .is_some()
            {
                return Err(ProfileError::DuplicateCode { at, table });
            }
            if !table.is_vendor_report()
                && (!row.from.is_empty() || row.platform.is_some() || !row.preceded_by.is_empty())
            {
                return Err(ProfileError::NotAVendorReport { at, table });
            }
            let mut from = Vec::with_capacity(row.from.len());
            for text in &row.from {
                let relation = parse_relation(text)
                    .filter(|&(t, c)| {
                        !t.is_vendor_report() && t != Table::KnoxEfotaPortal && t.accepts(c)
                    })
                    .ok_or_else(|| ProfileError::BadRelation {
                        at,
                        from: text.clone(),
                    })?;
                if !relations.insert((table, relation, row.platform)) {
                    return Err(ProfileError::DuplicateRelation {
                        at,
                        from: text.clone(),
                    });
                }
                from.push(relation);
            }
            if table.is_mapped() && row.outcomes.is_empty() {
                return Err(ProfileError::NoOutcome { at, table });
            }
            if !table.is_mapped() && !table.is_vendor_report() && !row.outcomes.is_empty() {
                return Err(ProfileError::FixedByProtocol { at, table });
            }
            let mut outcomes = Vec::with_capacity(row.outcomes.len());
            for text in &row.outcomes {
                let key = Key::parse(text)
                    .filter(|k| k.is_reachable())
                    .ok_or_else(|| ProfileError::UnknownOutcome {
                        at,
                        outcome: text.clone(),
                    })?;
                if !table.applies_to(key) {
                    return Err(ProfileError::OutcomeNotInTable { at, table, key });
                }
                let fresh = if table.is_vendor_report() {
                    vendor_outcomes.insert((table, key, row.platform))
                } else {
                    by_outcome.insert((table, key), index).is_none()
                };
                if !fresh {
                    return Err(ProfileError::DuplicateOutcome { at, table, key });
                }
                outcomes.push(key);
            }
            rows.push(Row {
                code: row.code,
                table,
                meaning: row.meaning,
                side: row.side,
                why: row.why,
                section: row.section,
                outcomes,
                from,
                platform: row.platform,
                preceded_by: row.preceded_by,
            });
        }
        for (index, row) in rows.iter().enumerate() {
            let known = |code: i64| {
                rows.iter().any(|r| r.table == row.table && r.code == code)
                    || base.is_some_and(|b| {
                        b.chain()
                            .flat_map(|p| p.rows.iter())
                            .any(|r| r.table == row.table && r.code == code)
                    })
            };
            if let Some(&code) = row.preceded_by.iter().find(|&&c| !known(c)) {
                let at = RowAt {
                    index,
                    code: row.code,
                };
                return Err(ProfileError::UnknownPrecedingCode { at, code });
            }
        }
        if base.is_none() {
            let tables = Table::ALL
                .iter()
                .filter(|t| t.is_mapped() && rows.iter().any(|r| r.table == **t));
            for &table in tables {
                if let Some(&key) = REACHABLE
                    .iter()
                    .find(|&&k| table.applies_to(k) && !by_outcome.contains_key(&(table, k)))
                {
                    return Err(ProfileError::Unmapped { table, key });
                }
            }
        }
        Ok(Profile {
            name: file.name,
            description: file.description,
            base,
            rows,
            by_outcome,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn description(&self) -> &str {
        &self.description
    }

    /// The profile this one is layered on.
    pub fn base(&self) -> Option<&'static Profile> {
        self.base
    }

    /// This profile's own rows, in file order (not its base's).
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// The profile and its bases, this one first.
    pub fn chain(&self) -> impl Iterator<Item = &Profile> {
        std::iter::successors(Some(self), |p| p.base.map(|b| b as &Profile))
    }

    /// The row that reports `key` in `table`: this profile's, else its base's.
    pub fn row(&self, table: Table, key: Key) -> Option<&Row> {
        self.chain()
            .find_map(|p| p.by_outcome.get(&(table, key)).map(|&i| &p.rows[i]))
    }

    /// The FUMO result a device of this profile reports for an outcome.
    pub fn fumo_result(&self, key: Key) -> u16 {
        code_u16(self.mapped(Table::FumoResult, key))
    }

    /// The row of the FUMO result a device of this profile reports for an outcome.
    pub fn fumo_result_row(&self, key: Key) -> &Row {
        self.mapped(Table::FumoResult, key)
    }

    /// The row of the SCOMO result a device of this profile reports for an outcome of a SCOMO
    /// flow.
    pub fn scomo_result_row(&self, key: Key) -> &Row {
        self.mapped(Table::ScomoResult, key)
    }

    /// The OMA Download status a device of this profile reports for an outcome of the download
    /// phase.
    pub fn dl_status(&self, key: Key) -> DlStatus {
        DlStatus::from_code(code_u16(self.mapped(Table::DlStatus, key)))
    }

    /// The row of the `snom-m3` display code a base of this profile shows for an outcome of its
    /// firmware update; `None` when the profile has no `snom-m3` table (a Snom base refuses such a
    /// profile when it is built, so that every ending has its code).
    pub fn snom_row(&self, key: Key) -> Option<&Row> {
        self.row(Table::SnomM3, key)
    }

    /// The row of vendor report `table` for how a flow ended on a device of `platform`: the row
    /// that names the outcome `key`, else the row whose `from` names the OMA code the device
    /// reported (`oma`: table and code); this profile's rows before its base's, a row of the
    /// device's platform before one for every platform. `None` when the profile says nothing.
    pub fn vendor_row(
        &self,
        table: Table,
        key: Option<Key>,
        oma: Option<(Table, i64)>,
        platform: Platform,
    ) -> Option<&Row> {
        let rows = || {
            self.chain()
                .flat_map(|p| p.rows.iter())
                .filter(move |r| r.table == table)
                .filter(move |r| r.platform.is_none_or(|p| p == platform))
        };
        let best = |matches: &dyn Fn(&Row) -> bool| {
            rows()
                .filter(|r| matches(r))
                .find(|r| r.platform.is_some())
                .or_else(|| rows().find(|r| matches(r)))
        };
        key.and_then(|key| best(&|r| r.outcomes.contains(&key)))
            .or_else(|| oma.and_then(|oma| best(&|r| r.from.contains(&oma))))
    }

    /// The row of a mapped table: total, because [`Profile::parse`] made the root of every chain
    /// map every reachable outcome, and the flows' tests check they end only in those.
    fn mapped(&self, table: Table, key: Key) -> &Row {
        self.row(table, key).unwrap_or_else(|| {
            panic!(
                "profile {}: {key} is not a reachable outcome of {table}",
                self.name
            )
        })
    }
}

/// Read a relation `<table> <code>` (`fumo-result 402`).
fn parse_relation(text: &str) -> Option<(Table, i64)> {
    let (table, code) = text.split_once(' ')?;
    Some((Table::parse(table)?, code.trim().parse().ok()?))
}

/// A code of an OMA table, which [`Table::accepts`] keeps in `u16`.
fn code_u16(row: &Row) -> u16 {
    u16::try_from(row.code).expect("Table::accepts keeps OMA codes in u16")
}

/// Profiles are told apart by name (two profiles with one name cannot be loaded together).
impl PartialEq for Profile {
    fn eq(&self, other: &Profile) -> bool {
        self.name == other.name
    }
}

impl Eq for Profile {}

/// Where a row is in its file, for errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowAt {
    /// 1-based, as a reader counts `[[code]]` blocks.
    pub index: usize,
    pub code: i64,
}

impl fmt::Display for RowAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[[code]] #{} (code {})", self.index + 1, self.code)
    }
}

#[cfg(test)]
mod tests;
