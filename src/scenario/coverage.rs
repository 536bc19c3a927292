//! Which scenario proves which code, and what each fault produces, measured by running a suite:
//! the data of `dmsim codes` and `dmsim faults`, and of the test that fails when a code of a
//! profile has no passing scenario that produces it.
//!
//! A code counts as produced by a scenario when the scenario passed and observed it (in the
//! observation family named like the code's table, on the device's side) with a device whose
//! profile is the code's profile or is layered on it. The Knox E-FOTA portal's codes are the one
//! table of the server's side: a `knox-efota` observation with `side` `portal` (read from the
//! portal's API answers, see [`super::observe`]) credits the table `knox-efota-portal`, the
//! device's `knox-efota` observations the table `knox-efota`. What a fault rule produces is measured, not
//! declared: the scenario runs again without the rule, and the codes that are then no longer
//! observed are the rule's.

use super::load::LoadedScenario;
use super::observe::Observation;
use super::run::{ScenarioResult, Verdict};
use super::RunOptions;
use crate::faults::{FaultEffect, FaultPoint};
use crate::profile::{self, Profile, Table};
use std::collections::BTreeSet;

/// A code as observed: its family and number.
pub type Code = (&'static str, i64);

/// What one scenario of the suite showed.
#[derive(Debug, Clone)]
pub struct ScenarioCoverage {
    /// The scenario's file, as given.
    pub file: String,
    pub passed: bool,
    /// The profile of its device.
    pub profile: String,
    /// Every code observed, by family.
    pub observed: BTreeSet<Code>,
    /// Each fault rule, and the codes that disappear without it.
    pub rules: Vec<RuleEffect>,
}

/// One fault rule of a scenario and the codes it produces there.
#[derive(Debug, Clone)]
pub struct RuleEffect {
    /// The rule as the scenario writes it (`[[fault]] at = "…", inject = "…"`).
    pub rule: String,
    /// The fault point (or `content`, `session` for a server fault) and the effect (or the server
    /// fault's kind).
    pub point: String,
    pub effect: String,
    pub produces: BTreeSet<Code>,
}

/// A suite, run with and without each of its fault rules.
#[derive(Debug, Clone, Default)]
pub struct Measured {
    pub scenarios: Vec<ScenarioCoverage>,
}

/// Run `suite`, then each scenario again without each of its fault rules.
pub fn measure(suite: &[LoadedScenario], options: &RunOptions) -> std::io::Result<Measured> {
    let results = super::run_all(suite, options)?;
    let mut variants = Vec::new();
    let mut owners = Vec::new();
    for (index, s) in suite.iter().enumerate() {
        for i in 0..s.file.faults.len() {
            let mut v = s.clone();
            let rule = v.file.faults.remove(i);
            owners.push((
                index,
                format!("[[fault]] {rule}"),
                rule.at.as_str().to_string(),
                rule.inject.as_str().to_string(),
            ));
            variants.push(v);
        }
        for i in 0..s.file.server.session_faults.len() {
            let mut v = s.clone();
            let rule = v.file.server.session_faults.remove(i);
            owners.push((
                index,
                format!("[[server.session_fault]] {rule}"),
                "session".to_string(),
                rule.kind.as_str().to_string(),
            ));
            variants.push(v);
        }
        let portal_faults = s
            .file
            .portal
            .as_ref()
            .and_then(|spec| super::server::portal_config(spec).ok())
            .map(|config| config.faults)
            .unwrap_or_default();
        for (i, rule) in portal_faults.iter().enumerate() {
            let mut v = s.clone();
            if let Some(toml::Value::Array(faults)) = v
                .file
                .portal
                .as_mut()
                .and_then(|spec| spec.config.get_mut("fault"))
            {
                faults.remove(i);
            }
            owners.push((
                index,
                format!("[[portal.fault]] {rule}"),
                "portal".to_string(),
                rule.kind.as_str().to_string(),
            ));
            variants.push(v);
        }
        for i in 0..s.file.server.content_faults.len() {
            let mut v = s.clone();
            let rule = v.file.server.content_faults.remove(i);
            owners.push((
                index,
                format!("[[server.content_fault]] {rule}"),
                "content".to_string(),
                rule.kind.as_str().to_string(),
            ));
            variants.push(v);
        }
    }
    let without = super::run_all(&variants, options)?;
    let mut scenarios: Vec<ScenarioCoverage> = suite
        .iter()
        .zip(&results)
        .map(|(s, r)| ScenarioCoverage {
            file: s.path.display().to_string(),
            passed: r.verdict == Verdict::Passed,
            profile: s.file.device.profile.clone(),
            observed: codes(r),
            rules: Vec::new(),
        })
        .collect();
    for ((index, rule, point, effect), r) in owners.into_iter().zip(&without) {
        let scenario = &mut scenarios[index];
        let remaining = codes(r);
        let produces = scenario.observed.difference(&remaining).copied().collect();
        scenario.rules.push(RuleEffect {
            rule,
            point,
            effect,
            produces,
        });
    }
    Ok(Measured { scenarios })
}

/// The codes of a result, by the profile table they credit (commands, senders and counts aside):
/// the observation's family, or `knox-efota-portal` for a portal's `knox-efota` code.
fn codes(result: &ScenarioResult) -> BTreeSet<Code> {
    result.observed.iter().map(code_of).collect()
}

/// The profile table and code an observation credits.
fn code_of(o: &Observation) -> Code {
    match (o.family, o.side) {
        ("knox-efota", Some("portal")) => (Table::KnoxEfotaPortal.as_str(), o.code),
        _ => (o.family, o.code),
    }
}

/// One code of a profile, with what produces it: a row of `dmsim codes --json`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CodeRow {
    pub profile: String,
    pub code: i64,
    pub table: Table,
    pub meaning: String,
    pub side: &'static str,
    /// Why the code is its side's, where the vendor's table does not say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    /// The vendor document's table the code is listed in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    /// The outcomes the profile reports with this code (`phase.cause`).
    pub outcomes: Vec<String>,
    /// A vendor report code: the OMA codes it reports again (`fumo-result 402`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub from: Vec<String>,
    /// A vendor report code of one platform only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<&'static str>,
    /// A vendor report code reported after these in the same report (a partial result).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub preceded_by: Vec<i64>,
    /// The fault rules whose removal makes a producing scenario lose the code.
    pub faults: Vec<String>,
    /// The passing scenarios that produce it.
    pub scenarios: Vec<String>,
    pub covered: bool,
}

/// Every row of `profiles`, with the faults and scenarios of `measured` that produce it.
pub fn code_rows(measured: &Measured, profiles: &[&Profile]) -> Vec<CodeRow> {
    let mut rows = Vec::new();
    for profile in profiles {
        for row in profile.rows() {
            let code = (row.table.as_str(), row.code);
            let producing: Vec<&ScenarioCoverage> = measured
                .scenarios
                .iter()
                .filter(|s| s.passed && s.observed.contains(&code))
                .filter(|s| layered_on(&s.profile, profile.name()))
                .collect();
            let faults: BTreeSet<String> = producing
                .iter()
                .flat_map(|s| &s.rules)
                .filter(|r| r.produces.contains(&code))
                .map(|r| format!("{} → {}", r.point, r.effect))
                .collect();
            rows.push(CodeRow {
                profile: profile.name().to_string(),
                code: row.code,
                table: row.table,
                meaning: row.meaning.clone(),
                side: row.side.as_str(),
                why: row.why.clone(),
                section: row.section.clone(),
                outcomes: row.outcomes.iter().map(|k| k.to_string()).collect(),
                from: row.from.iter().map(|(t, c)| format!("{t} {c}")).collect(),
                platform: row.platform.map(|p| p.as_str()),
                preceded_by: row.preceded_by.clone(),
                faults: faults.into_iter().collect(),
                scenarios: producing.iter().map(|s| s.file.clone()).collect(),
                covered: !producing.is_empty(),
            });
        }
    }
    rows
}

/// Whether a device of profile `device` reports the codes of profile `name` (its own, or a base's).
fn layered_on(device: &str, name: &str) -> bool {
    profile::builtin(device).is_some_and(|p| p.chain().any(|p| p.name() == name))
}

/// A fault and what it produces across the suite: a row of `dmsim faults --json`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FaultRow {
    /// `device` for a `[[fault]]` point, `content` for a `[[server.content_fault]]`, `session`
    /// for a `[[server.session_fault]]`.
    pub kind: &'static str,
    /// The fault point (`download.transfer`), or `content`, or `session`.
    pub point: String,
    /// The effect (`network.lost`), or the content or session fault's kind (`not-found`,
    /// `slow`).
    pub effect: String,
    /// The codes it produces in the suite (`family code`), measured by removing it.
    pub produces: Vec<String>,
    /// The passing scenarios that use it.
    pub scenarios: Vec<String>,
}

/// Every fault point with each effect it uses, and every content and session fault kind, with what the
/// scenarios of `measured` show each produces.
pub fn fault_rows(measured: &Measured) -> Vec<FaultRow> {
    let mut rows = Vec::new();
    for &point in FaultPoint::ALL {
        for &effect in FaultEffect::ALL.iter().filter(|&&e| point.uses(e)) {
            rows.push(fault_row(
                measured,
                "device",
                point.as_str(),
                effect.as_str(),
            ));
        }
    }
    for kind in super::updates::ContentFaultKindSpec::ALL {
        rows.push(fault_row(measured, "content", "content", kind.as_str()));
    }
    for kind in super::session_faults::SessionFaultKindSpec::ALL {
        rows.push(fault_row(measured, "session", "session", kind.as_str()));
    }
    rows
}

fn fault_row(measured: &Measured, kind: &'static str, point: &str, effect: &str) -> FaultRow {
    let mut produces = BTreeSet::new();
    let mut scenarios = BTreeSet::new();
    for s in measured.scenarios.iter().filter(|s| s.passed) {
        for r in s
            .rules
            .iter()
            .filter(|r| r.point == point && r.effect == effect)
        {
            produces.extend(r.produces.iter().copied());
            scenarios.insert(s.file.clone());
        }
    }
    FaultRow {
        kind,
        point: point.to_string(),
        effect: effect.to_string(),
        produces: produces
            .into_iter()
            .map(|(family, code)| format!("{family} {code}"))
            .collect(),
        scenarios: scenarios.into_iter().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn observation(family: &'static str, code: i64, side: Option<&'static str>) -> Observation {
        Observation {
            family,
            code,
            source: if side.is_some() { "server" } else { "wire" },
            command: None,
            sender: None,
            side,
            count: 1,
        }
    }

    /// A portal's `knox-efota` code credits the profile's `knox-efota-portal` table; the device's
    /// own `knox-efota` codes and other families credit the table named like their family.
    #[test]
    fn a_portal_code_credits_the_portal_table() {
        assert_eq!(
            code_of(&observation("knox-efota", -4, Some("portal"))),
            ("knox-efota-portal", -4)
        );
        assert_eq!(
            code_of(&observation("knox-efota", -4, None)),
            ("knox-efota", -4)
        );
        assert_eq!(
            code_of(&observation("fumo-result", 402, None)),
            ("fumo-result", 402)
        );
        let efota = profile::builtin("knox-efota").expect("built in");
        let portal_row = efota
            .rows()
            .iter()
            .find(|r| r.table == Table::KnoxEfotaPortal && r.code == -4)
            .expect("-4 is a portal code");
        assert_eq!(
            portal_row.table.as_str(),
            code_of(&observation("knox-efota", -4, Some("portal"))).0
        );
    }
}
