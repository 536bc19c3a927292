//! From what the checks saw over a battery of sessions to one verdict per check of the catalogue,
//! with a server team's allow file applied.
//!
//! * `fail`: the check failed in at least one server message (the first excerpt is kept);
//! * `pass`: it applied at least once and never failed;
//! * `not-applicable`: server messages were read, but what the check is about never came (no
//!   RespURI, no Exec, no 401 …);
//! * `not-reached`: no session got a server message the device could read, so nothing was checked;
//! * `allowed`: it failed, and the allow file names it (with the reason). An allowed check that
//!   passed keeps `pass` and is flagged, so the entry can be removed from the allow file.

use super::checks::{Check, CHECKS};
use super::inspect::Tally;
use std::collections::BTreeMap;

/// A check's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Pass,
    Fail,
    NotApplicable,
    NotReached,
    Allowed,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::NotApplicable => "not-applicable",
            Verdict::NotReached => "not-reached",
            Verdict::Allowed => "allowed",
        }
    }
}

/// One check's verdict over the whole run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judged {
    pub check: &'static Check,
    pub verdict: Verdict,
    /// The first offending excerpt (failed or allowed checks), with the session it came from.
    pub excerpt: String,
    /// How many times it failed.
    pub failures: usize,
    /// The allow file's reason, when the allow file names the check.
    pub allowed: Option<String>,
}

impl Judged {
    /// Whether the allow file names a check that passed (the entry can go).
    pub fn allowed_but_passed(&self) -> bool {
        self.allowed.is_some() && self.verdict == Verdict::Pass
    }
}

/// A server team's known deviations: check id → reason.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList {
    pub entries: BTreeMap<String, String>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct AllowFile {
    #[serde(default)]
    allow: Vec<AllowEntry>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct AllowEntry {
    id: String,
    reason: String,
}

/// Why an allow file cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AllowError {
    #[error("not an allow file: {0}")]
    Toml(String),
    #[error("[[allow]] id = {0:?} is not a check of dmsim conform")]
    UnknownCheck(String),
    #[error("[[allow]] id = {0:?} is there twice")]
    Twice(String),
}

impl AllowList {
    /// Read an allow file's text: `[[allow]] id = "…" reason = "…"`, each id a check of the
    /// catalogue, once.
    pub fn parse(text: &str) -> Result<AllowList, AllowError> {
        let file: AllowFile = toml::from_str(text).map_err(|e| AllowError::Toml(e.to_string()))?;
        let mut entries = BTreeMap::new();
        for e in file.allow {
            if super::checks::find(&e.id).is_none() {
                return Err(AllowError::UnknownCheck(e.id));
            }
            if entries.insert(e.id.clone(), e.reason).is_some() {
                return Err(AllowError::Twice(e.id));
            }
        }
        Ok(AllowList { entries })
    }
}

/// One verdict per check of the catalogue, in catalogue order, from the tallies of every session
/// (each with the name of its session) and whether any server message was read at all.
pub fn judge(tallies: &[(String, Tally)], allow: &AllowList) -> Vec<Judged> {
    let reached = tallies.iter().any(|(_, t)| !t.applied.is_empty());
    CHECKS
        .iter()
        .map(|check| {
            let mut failures = 0;
            let mut excerpt = String::new();
            let mut applied = false;
            for (session, tally) in tallies {
                applied |= tally.applied.contains(check.id);
                for f in tally.findings.iter().filter(|f| f.id == check.id) {
                    if failures == 0 {
                        excerpt = format!("{session}: {}", f.excerpt);
                    }
                    failures += 1;
                }
            }
            let allowed = allow.entries.get(check.id).cloned();
            let verdict = match (failures, applied, reached) {
                (0, true, _) => Verdict::Pass,
                (0, false, true) => Verdict::NotApplicable,
                (0, false, false) => Verdict::NotReached,
                _ if allowed.is_some() => Verdict::Allowed,
                _ => Verdict::Fail,
            };
            Judged {
                check,
                verdict,
                excerpt,
                failures,
                allowed,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conform::inspect::Finding;

    fn tally(applied: &[&'static str], failed: &[&'static str]) -> Tally {
        Tally {
            applied: applied.iter().copied().collect(),
            findings: failed
                .iter()
                .map(|id| Finding {
                    id,
                    excerpt: format!("<{id}/>"),
                })
                .collect(),
        }
    }

    fn verdict(judged: &[Judged], id: &str) -> Verdict {
        judged.iter().find(|j| j.check.id == id).expect(id).verdict
    }

    #[test]
    fn verdicts_from_tallies() {
        let t = tally(&["ver-dtd", "ver-proto"], &["ver-proto"]);
        let judged = judge(&[("xml".into(), t)], &AllowList::default());
        assert_eq!(judged.len(), CHECKS.len());
        assert_eq!(verdict(&judged, "ver-dtd"), Verdict::Pass);
        assert_eq!(verdict(&judged, "ver-proto"), Verdict::Fail);
        assert_eq!(verdict(&judged, "resp-uri"), Verdict::NotApplicable);
        let j = judged
            .iter()
            .find(|j| j.check.id == "ver-proto")
            .expect("j");
        assert_eq!(j.excerpt, "xml: <ver-proto/>");
        let none = judge(&[("xml".into(), Tally::default())], &AllowList::default());
        assert!(none.iter().all(|j| j.verdict == Verdict::NotReached));
    }

    #[test]
    fn the_allow_file_turns_a_failure_into_allowed_and_flags_a_pass() {
        let allow = AllowList::parse(
            "[[allow]]\nid = \"ver-proto\"\nreason = \"DM/1.1 until 2027\"\n\n[[allow]]\nid = \"ver-dtd\"\nreason = \"fixed?\"\n",
        )
        .expect("allow file");
        let t = tally(&["ver-dtd", "ver-proto"], &["ver-proto"]);
        let judged = judge(&[("xml".into(), t)], &allow);
        assert_eq!(verdict(&judged, "ver-proto"), Verdict::Allowed);
        let dtd = judged
            .iter()
            .find(|j| j.check.id == "ver-dtd")
            .expect("dtd");
        assert!(dtd.allowed_but_passed());
        assert_eq!(
            AllowList::parse("[[allow]]\nid = \"typo\"\nreason = \"x\"\n"),
            Err(AllowError::UnknownCheck("typo".into()))
        );
        assert!(matches!(
            AllowList::parse("[[allow]]\nid = \"ver-dtd\"\n"),
            Err(AllowError::Toml(_))
        ));
        assert_eq!(
            AllowList::parse("[[allow]]\nid = \"ver-dtd\"\nreason = \"a\"\n[[allow]]\nid = \"ver-dtd\"\nreason = \"b\"\n"),
            Err(AllowError::Twice("ver-dtd".into()))
        );
    }
}
