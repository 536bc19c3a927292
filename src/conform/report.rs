//! The reports of a conformance run: the human summary grouped by area, the JSON report and the
//! JUnit report (one testcase per check; a failure carries the excerpt, a check that was not
//! applicable, not reached or allowed is skipped with the reason).

use super::checks::AREAS;
use super::verdict::{Judged, Verdict};

/// The summary for a person: per area, each check's verdict, and for a failure its excerpt; then
/// the allowed checks that passed (their allow entries can go), then the counts.
pub fn human(server: &str, judged: &[Judged]) -> String {
    let mut out = format!("conformance of {server}\n");
    for area in AREAS {
        let rows: Vec<&Judged> = judged.iter().filter(|j| j.check.area == area).collect();
        if rows.is_empty() {
            continue;
        }
        out.push_str(&format!("{area}\n"));
        for j in rows {
            out.push_str(&format!("  {:<15} {}", j.verdict.as_str(), j.check.id));
            match j.verdict {
                Verdict::Fail => out.push_str(&format!(
                    " ({}): {} x{}: {}",
                    j.check.reference, j.check.rule, j.failures, j.excerpt
                )),
                Verdict::Allowed => out.push_str(&format!(
                    ": {} ({}) x{}: {}",
                    j.allowed.as_deref().unwrap_or(""),
                    j.check.rule,
                    j.failures,
                    j.excerpt
                )),
                _ => {}
            }
            out.push('\n');
        }
    }
    for j in judged.iter().filter(|j| j.allowed_but_passed()) {
        out.push_str(&format!(
            "allowed but passed: {} (remove it from the allow file)\n",
            j.check.id
        ));
    }
    let count = |v: Verdict| judged.iter().filter(|j| j.verdict == v).count();
    out.push_str(&format!(
        "{} checks: {} pass, {} fail, {} allowed, {} not-applicable, {} not-reached\n",
        judged.len(),
        count(Verdict::Pass),
        count(Verdict::Fail),
        count(Verdict::Allowed),
        count(Verdict::NotApplicable),
        count(Verdict::NotReached)
    ));
    out
}

/// The JSON report: `{"server": URL, "checks": [{"id", "area", "rule", "reference", "verdict",
/// "excerpt"}]}`, an allowed check with its `allow_reason` too.
pub fn json(server: &str, judged: &[Judged]) -> serde_json::Value {
    let checks: Vec<serde_json::Value> = judged
        .iter()
        .map(|j| {
            let mut v = serde_json::json!({
                "id": j.check.id,
                "area": j.check.area,
                "rule": j.check.rule,
                "reference": j.check.reference,
                "verdict": j.verdict.as_str(),
                "excerpt": j.excerpt,
            });
            if let (Some(reason), Some(map)) = (&j.allowed, v.as_object_mut()) {
                map.insert("allow_reason".into(), serde_json::json!(reason));
            }
            v
        })
        .collect();
    serde_json::json!({ "server": server, "checks": checks })
}

fn escape(text: &str) -> String {
    let mut out = String::new();
    crate::syncml::xml::push_escaped(&mut out, text);
    out.replace('"', "&quot;")
}

/// The JUnit report: one testsuite, one testcase per check (classname `conform.<area>`).
pub fn junit(server: &str, judged: &[Judged]) -> String {
    let failures = judged.iter().filter(|j| j.verdict == Verdict::Fail).count();
    let skipped = judged
        .iter()
        .filter(|j| !matches!(j.verdict, Verdict::Pass | Verdict::Fail))
        .count();
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"dmsim conform {}\" tests=\"{}\" failures=\"{failures}\" skipped=\"{skipped}\">\n",
        escape(server),
        judged.len()
    );
    for j in judged {
        out.push_str(&format!(
            "  <testcase classname=\"conform.{}\" name=\"{}\"",
            j.check.area, j.check.id
        ));
        match j.verdict {
            Verdict::Pass => out.push_str("/>\n"),
            Verdict::Fail => out.push_str(&format!(
                ">\n    <failure message=\"{} ({})\">{}</failure>\n  </testcase>\n",
                escape(j.check.rule),
                escape(j.check.reference),
                escape(&j.excerpt)
            )),
            other => {
                let why = match other {
                    Verdict::Allowed => format!(
                        "allowed: {}; {}",
                        j.allowed.as_deref().unwrap_or(""),
                        j.excerpt
                    ),
                    _ => other.as_str().to_string(),
                };
                out.push_str(&format!(
                    ">\n    <skipped message=\"{}\"/>\n  </testcase>\n",
                    escape(&why)
                ));
            }
        }
    }
    out.push_str("</testsuite>\n");
    out
}
