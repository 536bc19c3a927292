//! Reports of a run: the human summary, JSON (`--json`) and JUnit XML (`--junit`).
//!
//! The JSON schema is stable: `{"scenarios": [{"name", "file", "status", "transport", "duration_ms",
//! "failures", "observed": [{"family", "code", "source", "command"?, "sender"?, "side"?, "count"}], "faults":
//! [{"rule", "fired", "optional"?}], "violations": [{"rule", "msg_id", "cmd_id", "detail"}],
//! "wire": {"device": {"wbxml", "xml", "other"}, "server": {"wbxml", "xml", "other"}}, "end"}],
//! "summary": {"total", "passed", "failed", "errors", "duration_ms"}}`. `source` says where an
//! observation was read and `side` whose code it is where a family has two (see [`super::observe`]; the `server-violation` family has the rule's
//! number as `code` and its id as `command`, see [`crate::session::ServerRule`]); `faults` lists every fault rule of the scenario
//! and how often it fired; `violations` are the protocol rules the device broke as the mock server
//! saw them (`rule` is one of `msg-id`, `missing-status`, `max-msg-size`, `max-obj-size`,
//! `status-code`, `chunk-status`, `chr-data`, `next-nonce`, `hdr-status`, `missing-chal`; `cmd_id` is null when the whole message broke it),
//! each also among the `failures`; `wire` counts the messages of each direction by what they were
//! on the wire, from their bytes and Content-Type ([`super::WireSummary`]).
//!
//! In the JUnit report each scenario is a testcase named by the scenario's `name`, in a class named
//! by its folder ([`junit_classname`]): the folder given to `dmsim run` and those below it down
//! to the file, dotted (`scenarios.fumo`), so that tools that split class names on dots show the
//! folders as packages.

use super::run::{ScenarioResult, Verdict};
use quick_xml::escape::escape;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

#[derive(Serialize)]
struct JsonScenario<'a> {
    name: &'a str,
    file: &'a str,
    status: Verdict,
    transport: &'static str,
    duration_ms: u64,
    failures: &'a [String],
    observed: &'a [super::Observation],
    faults: &'a [super::run::FiredRule],
    violations: &'a [crate::server::DeviceViolation],
    wire: &'a super::WireSummary,
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
                faults: &r.faults,
                violations: &r.violations,
                wire: &r.wire,
                end: &r.end,
            })
            .collect(),
        summary: Summary::of(results),
    };
    serde_json::to_string_pretty(&report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// The JUnit `classname` of the scenario in `file`, found under one of `roots` (the files and
/// folders given to `dmsim run`): the root folder's name and the folders below it down to the
/// file's, joined by dots (`scenarios/fumo/x.toml` under `scenarios` is `scenarios.fumo`, and so
/// it is under `../dmsim/scenarios`). A file given by itself, or under no root, is in the class of
/// its folder's name. Dots inside a folder's name become `_`.
pub fn junit_classname(file: &Path, roots: &[PathBuf]) -> String {
    let folder = file.parent().unwrap_or(Path::new(""));
    let root = roots
        .iter()
        .filter(|r| r.as_path() != file && folder.starts_with(r))
        .max_by_key(|r| r.components().count());
    let mut names = Vec::new();
    let below = match root {
        Some(root) => {
            names.push(folder_name(root));
            folder.strip_prefix(root).unwrap_or(Path::new(""))
        }
        None => {
            names.push(folder_name(folder));
            Path::new("")
        }
    };
    names.extend(below.components().filter_map(|c| match c {
        Component::Normal(name) => Some(name.to_string_lossy().into_owned()),
        _ => None,
    }));
    names
        .iter()
        .filter(|n| !n.is_empty())
        .map(|n| n.replace('.', "_"))
        .collect::<Vec<_>>()
        .join(".")
}

/// The name of a folder, `.` and `..` resolved through the file system.
fn folder_name(folder: &Path) -> String {
    let name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned());
    let resolved = || {
        let dir = if folder.as_os_str().is_empty() {
            Path::new(".")
        } else {
            folder
        };
        dir.canonicalize().ok().as_deref().and_then(name)
    };
    name(folder).or_else(resolved).unwrap_or_default()
}

/// The `--junit` report: one testcase per scenario, in the class of its folder
/// ([`junit_classname`] under `roots`), failures with the transcript.
pub fn junit(results: &[ScenarioResult], roots: &[PathBuf]) -> String {
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
            escape(junit_classname(Path::new(&r.file), roots)),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn class(file: &str, roots: &[&str]) -> String {
        let roots: Vec<PathBuf> = roots.iter().map(PathBuf::from).collect();
        junit_classname(Path::new(file), &roots)
    }

    #[test]
    fn classnames_are_dotted_folders_from_the_root_given() {
        assert_eq!(
            class("scenarios/fumo/x.toml", &["scenarios"]),
            "scenarios.fumo"
        );
        assert_eq!(
            class("scenarios/fumo/x.toml", &["scenarios/"]),
            "scenarios.fumo"
        );
        assert_eq!(
            class("../dmsim/scenarios/fumo/x.toml", &["../dmsim/scenarios"]),
            "scenarios.fumo"
        );
        assert_eq!(
            class(
                "/ci/checkout/scenarios/a/b/x.toml",
                &["/ci/checkout/scenarios"]
            ),
            "scenarios.a.b"
        );
        assert_eq!(class("scenarios/x.toml", &["scenarios"]), "scenarios");
        // The innermost root given wins.
        assert_eq!(
            class("scenarios/fumo/x.toml", &["scenarios", "scenarios/fumo"]),
            "fumo"
        );
        // A file given by itself, or under no root: its folder's name.
        assert_eq!(
            class(
                "../dmsim/scenarios/fumo/x.toml",
                &["../dmsim/scenarios/fumo/x.toml"]
            ),
            "fumo"
        );
        assert_eq!(class("/tmp/v1.2/x.toml", &[]), "v1_2");
        assert_eq!(class("my/v1.2/x.toml", &["my"]), "my.v1_2");
    }
}
