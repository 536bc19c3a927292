//! Reports of a run: the human summary, JSON (`--json`) and JUnit XML (`--junit`).
//!
//! The JSON schema is stable: `{"scenarios": [{"name", "file", "status", "transport", "duration_ms", "failures",
//! "observed": [{"family", "code", "command"?, "sender"?, "count"}], "violations": [{"rule", "msg_id",
//! "cmd_id", "detail"}], "end"}], "summary": {"total", "passed", "failed", "errors",
//! "duration_ms"}}`. `violations` are the protocol rules the device broke as the mock server saw
//! them (`rule` is one of `msg-id`, `missing-status`, `max-msg-size`, `max-obj-size`,
//! `status-code`, `chunk-status`, `chr-data`; `cmd_id` is null when the whole message broke it);
//! each is also among the `failures`.

use super::run::{ScenarioResult, Verdict};
use quick_xml::escape::escape;
use serde::Serialize;
use std::fmt::Write as _;

#[derive(Serialize)]
struct JsonScenario<'a> {
    name: &'a str,
    file: &'a str,
    status: Verdict,
    transport: &'static str,
    duration_ms: u64,
    failures: &'a [String],
    observed: &'a [super::Observation],
    violations: &'a [crate::server::DeviceViolation],
    end: &'a str,
}

/// Totals of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub total: usize,
    pub passed: usize,
    pub failed: usize,
    pub errors: usize,
    pub duration_ms: u64,
}

impl Summary {
    pub fn of(results: &[ScenarioResult]) -> Summary {
        let count = |v| results.iter().filter(|r| r.verdict == v).count();
        Summary {
            total: results.len(),
            passed: count(Verdict::Passed),
            failed: count(Verdict::Failed),
            errors: count(Verdict::Error),
            duration_ms: results.iter().map(|r| r.duration_ms).sum(),
        }
    }

    pub fn all_passed(&self) -> bool {
        self.passed == self.total
    }
}

/// The `--json` report.
pub fn json(results: &[ScenarioResult]) -> String {
    #[derive(Serialize)]
    struct Report<'a> {
        scenarios: Vec<JsonScenario<'a>>,
        summary: Summary,
    }
    let report = Report {
        scenarios: results
            .iter()
            .map(|r| JsonScenario {
                name: &r.name,
                file: &r.file,
                status: r.verdict,
                transport: r.transport.as_str(),
                duration_ms: r.duration_ms,
                failures: &r.failures,
                observed: &r.observed,
                violations: &r.violations,
                end: &r.end,
            })
            .collect(),
        summary: Summary::of(results),
    };
    serde_json::to_string_pretty(&report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// The `--junit` report: one testcase per scenario, failures with the transcript.
pub fn junit(results: &[ScenarioResult]) -> String {
    let s = Summary::of(results);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"dmsim\" tests=\"{}\" failures=\"{}\" errors=\"{}\" time=\"{:.3}\">",
        s.total,
        s.failed,
        s.errors,
        s.duration_ms as f64 / 1000.0
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"scenarios\" tests=\"{}\" failures=\"{}\" errors=\"{}\">",
        s.total, s.failed, s.errors
    );
    for r in results {
        let _ = write!(
            out,
            "    <testcase name=\"{}\" classname=\"{}\" time=\"{:.3}\"",
            escape(&r.name),
            escape(&r.file),
            r.duration_ms as f64 / 1000.0
        );
        let tag = match r.verdict {
            Verdict::Passed => {
                out.push_str("/>\n");
                continue;
            }
            Verdict::Failed => "failure",
            Verdict::Error => "error",
        };
        let message = r.failures.join("; ");
        let _ = writeln!(out, ">\n      <{tag} message=\"{}\">", escape(&message));
        let body = format!(
            "{}\n\nsession: {}\n\n{}",
            r.failures.join("\n"),
            r.end,
            r.transcript
        );
        // CDATA keeps the transcript readable; a "]]>" inside it is split across two sections.
        let _ = writeln!(
            out,
            "<![CDATA[{}]]>",
            body.replace("]]>", "]]]]><![CDATA[>")
        );
        let _ = writeln!(out, "      </{tag}>\n    </testcase>");
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

/// One line per scenario, failures spelled out, and the totals.
pub fn human(results: &[ScenarioResult]) -> String {
    let mut out = String::new();
    for r in results {
        let mark = match r.verdict {
            Verdict::Passed => "PASS ",
            Verdict::Failed => "FAIL ",
            Verdict::Error => "ERROR",
        };
        let _ = writeln!(out, "{mark} {} ({} ms) [{}]", r.name, r.duration_ms, r.file);
        for f in &r.failures {
            let _ = writeln!(out, "        {f}");
        }
    }
    let s = Summary::of(results);
    let _ = writeln!(
        out,
        "\n{} scenarios: {} passed, {} failed, {} errors",
        s.total, s.passed, s.failed, s.errors
    );
    out
}
