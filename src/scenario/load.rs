//! Finding scenario files and reading them, with errors that name the file, line and problem.

use super::model::ScenarioFile;
use std::path::{Path, PathBuf};

/// A scenario file that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: cannot read: {reason}")]
    Io { path: PathBuf, reason: String },
    #[error("{path}:{line}:{column}: {message}")]
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: no scenario files (*.toml) found")]
    Empty { path: PathBuf },
}

/// A scenario read from disk.
#[derive(Debug, Clone)]
pub struct LoadedScenario {
    pub path: PathBuf,
    pub file: ScenarioFile,
}

/// Every `*.toml` file under the given files and directories, sorted, each once.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, LoadError> {
    let mut found = Vec::new();
    for path in paths {
        let before = found.len();
        collect(path, &mut found)?;
        if found.len() == before {
            return Err(LoadError::Empty { path: path.clone() });
        }
    }
    found.dedup();
    Ok(found)
}

fn collect(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), LoadError> {
    let io = |e: std::io::Error| LoadError::Io {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if meta.is_file() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(io)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for entry in entries {
        if entry.is_dir() {
            collect(&entry, out)?;
        } else if entry.extension().is_some_and(|e| e == "toml") {
            out.push(entry);
        }
    }
    Ok(())
}

/// Read and check one scenario file.
pub fn load(path: &Path) -> Result<LoadedScenario, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|e| LoadError::Io {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    parse(path, &text)
}

/// Check the text of a scenario file.
pub fn parse(path: &Path, text: &str) -> Result<LoadedScenario, LoadError> {
    let mut file: ScenarioFile = toml::from_str(text).map_err(|e| {
        let (line, column) = e.span().map(|s| line_col(text, s.start)).unwrap_or((1, 1));
        LoadError::Invalid {
            path: path.to_path_buf(),
            line,
            column,
            message: e.message().trim().to_string(),
        }
    })?;
    let invalid = |message: String| LoadError::Invalid {
        path: path.to_path_buf(),
        line: 1,
        column: 1,
        message,
    };
    if file.name.trim().is_empty() {
        return Err(invalid("the scenario needs a non-empty name".into()));
    }
    // The family's preset is part of what the file says, for every use of it (packages built for
    // the device's firmware, the device, expectations).
    if let std::borrow::Cow::Owned(device) = super::family::resolve(&file.device) {
        file.device = device;
    }
    if let Some(portal) = &file.portal {
        check_portal_calls(portal, &file).map_err(invalid)?;
    }
    check_family_expectations(&file, text).map_err(invalid)?;
    for (i, f) in file.faults.iter().enumerate() {
        if let Some(p) = f.probability.filter(|p| !(0.0..=1.0).contains(p)) {
            return Err(invalid(format!(
                "fault[{i}]: probability {p} is not between 0 and 1"
            )));
        }
        if f.nth.is_some() && f.probability.is_some() {
            return Err(invalid(format!(
                "fault[{i}]: give nth or probability, not both"
            )));
        }
        if f.nth == Some(0) {
            return Err(invalid(format!("fault[{i}]: nth counts from 1")));
        }
    }
    crate::server::check_limits(&file.server.packages).map_err(invalid)?;
    for (i, node) in file.device.nodes.iter().enumerate() {
        let len = node.value.as_ref().map_or(0, String::len);
        let total = len.checked_mul(node.repeat.unwrap_or(1));
        if total.is_none_or(|t| t > crate::server::MAX_ITEM_DATA) {
            return Err(invalid(format!(
                "device.node[{i}] {:?}: a value of {len} bytes repeated {} times is more than the {} bytes a node may hold",
                node.uri,
                node.repeat.unwrap_or(1),
                crate::server::MAX_ITEM_DATA
            )));
        }
    }
    if file.expect.no_violations
        && file
            .expect
            .server_violations
            .as_ref()
            .is_some_and(|v| !v.is_empty())
    {
        return Err(invalid(
            "expect.no_violations says the server breaks no rule, expect.server_violations names rules it breaks"
                .to_string(),
        ));
    }
    for &list in &file.expect.at_least {
        let name = list.as_str();
        if !file.expect.has(list) {
            return Err(invalid(format!(
                "expect.at_least names {name}, which the scenario does not expect"
            )));
        }
        if file.expect.is_empty(list) {
            return Err(invalid(format!(
                "expect.at_least names {name}, which is empty: \"at least nothing\" always holds (an empty list alone means none happened)"
            )));
        }
    }
    Ok(LoadedScenario {
        path: path.to_path_buf(),
        file,
    })
}

/// What a `[[portal.call]]` needs of the rest of the file: a session it comes before that the
/// device may run (its `sessions` and the extra ones it may open), and the device's values its
/// body names.
/// The expectations a Snom m3 base can be checked against (it has no DM session).
const SNOM_EXPECTATIONS: &[&str] = &["snom_m3", "gateway", "handsets"];

/// A `snom-m3` scenario expects only what a base can show, and needs its settings; a DM device's
/// scenario expects nothing of a base. An expectation that cannot be checked would pass unchecked.
fn check_family_expectations(file: &ScenarioFile, text: &str) -> Result<(), String> {
    let snom = file.device.family == Some(super::family::Family::SnomM3);
    let keys: Vec<String> = text
        .parse::<toml::Table>()
        .ok()
        .and_then(|t| t.get("expect").and_then(|e| e.as_table()).cloned())
        .map(|e| e.keys().cloned().collect())
        .unwrap_or_default();
    for key in keys {
        let of_snom = SNOM_EXPECTATIONS.contains(&key.as_str());
        if snom && !of_snom {
            return Err(format!(
                "expect.{key}: a snom-m3 base has no DM session; it is checked by {}",
                SNOM_EXPECTATIONS.join(", ")
            ));
        }
        if !snom && of_snom {
            return Err(format!(
                "expect.{key}: only a snom-m3 device ([device] family = \"snom-m3\") has a base's display and versions"
            ));
        }
    }
    if snom && file.device.snom.is_none() {
        return Err("[device.snom]: a snom-m3 device needs its settings (at least version)".into());
    }
    if !snom && file.device.snom.is_some() {
        return Err(
            "[device.snom]: only for a snom-m3 device ([device] family = \"snom-m3\")".into(),
        );
    }
    Ok(())
}

fn check_portal_calls(
    portal: &super::portal_spec::PortalSpec,
    file: &ScenarioFile,
) -> Result<(), String> {
    let most = file
        .sessions
        .max(1)
        .saturating_add(super::sessions::EXTRA_SESSIONS);
    let placeholders = super::portal_spec::Placeholders::of(&file.device.dev_id);
    for (i, call) in portal.calls.iter().enumerate() {
        if call.at.before_session().is_some_and(|n| n > most) {
            return Err(format!(
                "portal.call[{i}]: at = \"{}\": the device runs at most {most} sessions ({} and up to {} more while it owes the server reports)",
                call.at,
                file.sessions.max(1),
                super::sessions::EXTRA_SESSIONS
            ));
        }
        if let Some(body) = &call.body {
            placeholders
                .apply(body)
                .map_err(|e| format!("portal.call[{i}]: {e}"))?;
        }
    }
    Ok(())
}

/// 1-based line and column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..offset.min(text.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        match parse(Path::new("s.toml"), text) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("expected an error for {text:?}"),
        }
    }

    #[test]
    fn a_family_s_scenario_expects_only_what_the_family_can_be_checked_by() {
        let snom =
            "name = \"x\"\n[device]\nfamily = \"snom-m3\"\n[device.snom]\nversion = \"0790\"\n";
        let e = err(&format!("{snom}[expect]\nfumo_result = [200]\n"));
        assert!(
            e.contains("expect.fumo_result: a snom-m3 base has no DM session"),
            "{e}"
        );
        assert!(parse(
            Path::new("s.toml"),
            &format!("{snom}[expect]\nsnom_m3 = [0]\n")
        )
        .is_ok());
        let e = err("name = \"x\"\n[expect]\nsnom_m3 = [0]\n");
        assert!(e.contains("expect.snom_m3: only a snom-m3 device"), "{e}");
        let e = err("name = \"x\"\n[device]\nfamily = \"snom-m3\"\n");
        assert!(
            e.contains("[device.snom]: a snom-m3 device needs its settings"),
            "{e}"
        );
        let e = err("name = \"x\"\n[device.snom]\nversion = \"0790\"\n");
        assert!(
            e.contains("[device.snom]: only for a snom-m3 device"),
            "{e}"
        );
    }

    #[test]
    fn a_minimal_scenario_reads() {
        let s = parse(Path::new("s.toml"), "name = \"x\"\n").expect("valid");
        assert_eq!(s.file.name, "x");
        assert_eq!(s.file.device.model, "SIM-1");
    }

    #[test]
    fn errors_name_file_line_and_problem() {
        let e = err("name = \"x\"\n[device]\nmodle = \"typo\"\n");
        assert!(e.starts_with("s.toml:3:1:"), "{e}");
        assert!(e.contains("modle"), "{e}");
        let e = err(
            "name = \"x\"\n\n[[fault]]\nat = \"tree.nope\"\ninject = \"storage.write-error\"\n",
        );
        assert!(e.starts_with("s.toml:4:"), "{e}");
        assert!(e.contains("unknown fault point"), "{e}");
        let e = err("name = \"x\"\n[device.ui]\nanswers = [\"yes\", \"perhaps\"]\n");
        assert!(e.contains("s.toml:3:") && e.contains("perhaps"), "{e}");
        let e = err(
            "name = \"x\"\n[[server.package]]\n[[server.package.command]]\ncmd = \"frobnicate\"\n",
        );
        assert!(e.contains("s.toml:") && e.contains("frobnicate"), "{e}");
        assert!(err("name = \"\"\n").contains("non-empty name"));
        let e =
            err("name = \"x\"\n\n[[fault]]\nat = \"install.write\"\ninject = \"user.cancel\"\n");
        assert!(e.starts_with("s.toml:3:"), "{e}");
        assert!(
            e.contains("does nothing with user.cancel") && e.contains("power.loss"),
            "{e}"
        );
        assert!(err("name = \"x\"\n[[fault]]\nat = \"tree.write\"\ninject = \"storage.write-error\"\nprobability = 2.0\n").contains("between 0 and 1"));
    }

    #[test]
    fn quirks_and_server_violations_are_checked_when_read() {
        let e = err("name = \"x\"\n[server]\nquirks = [\"namespace\", \"typo\"]\n");
        assert!(e.starts_with("s.toml:3:") && e.contains("typo"), "{e}");
        let e = err("name = \"x\"\n[expect]\nserver_violations = [\"no-such-rule\"]\n");
        assert!(
            e.starts_with("s.toml:3:") && e.contains("no-such-rule"),
            "{e}"
        );
        let e = err(
            "name = \"x\"\n[expect]\nno_violations = true\nserver_violations = [\"namespace\"]\n",
        );
        assert!(
            e.contains("expect.no_violations says the server breaks no rule"),
            "{e}"
        );
        let s = parse(
            Path::new("s.toml"),
            "name = \"x\"\n[server]\nquirks = [\"msg-id-sequence\"]\n[expect]\nserver_violations = [\"msg-id-sequence\"]\nat_least = [\"server_violations\"]\n",
        )
        .expect("valid");
        assert_eq!(s.file.server.quirks, [crate::server::Quirk::MsgIdSequence]);
    }

    #[test]
    fn the_time_between_sessions_reads_with_its_unit() {
        let read = |value: &str| {
            parse(
                Path::new("s.toml"),
                &format!("name = \"x\"\nsession_interval = {value}\n"),
            )
            .map(|s| s.file.session_interval)
        };
        assert_eq!(read("90").ok(), Some(90));
        assert_eq!(read("\"45s\"").ok(), Some(45));
        assert_eq!(read("\"30m\"").ok(), Some(1800));
        assert_eq!(read("\"2h\"").ok(), Some(7200));
        assert_eq!(read("\"3 d\"").ok(), Some(259_200));
        assert_eq!(
            parse(Path::new("s.toml"), "name = \"x\"\n")
                .map(|s| s.file.session_interval)
                .ok(),
            Some(0)
        );
        for bad in ["\"2w\"", "\"d\"", "\"-1d\"", "\"99999999999999999999d\""] {
            let e = err(&format!("name = \"x\"\nsession_interval = {bad}\n"));
            assert!(e.contains("invalid duration"), "{bad}: {e}");
        }
    }

    #[test]
    fn portal_calls_are_checked_against_the_file() {
        let call = |extra: &str| {
            format!("name = \"x\"\nsessions = 2\n[portal]\n[[portal.call]]\nmethod = \"GET\"\npath = \"/api/efota/licenses\"\nstatus = 200\n{extra}\n")
        };
        let s = parse(Path::new("s.toml"), &call("at = \"session 5\"")).expect("valid");
        let portal = s.file.portal.expect("[portal]");
        assert_eq!(portal.calls.len(), 1);
        assert!(portal.config.is_empty());
        assert!(parse(Path::new("s.toml"), "name = \"x\"\n")
            .expect("valid")
            .file
            .portal
            .is_none());
        let e = err(&call("at = \"session 6\""));
        assert!(
            e.starts_with("s.toml:1:1: portal.call[0]: at = \"session 6\": the device runs at most 5 sessions"),
            "{e}"
        );
        let e = err(&call("at = \"bogus\""));
        assert!(
            e.starts_with("s.toml:") && e.contains("portal.call[0]: at = \"bogus\""),
            "{e}"
        );
        let e = err(&format!(
            "{}[device]\ndev_id = \"dev-1\"\n",
            call("body = '{\"sn\": \"$SERIAL\"}'")
        ));
        assert!(e.contains("portal.call[0]: the body names $SERIAL"), "{e}");
        assert!(parse(Path::new("s.toml"), &call("body = '{\"sn\": \"$SERIAL\"}'")).is_ok());
    }

    #[test]
    fn line_col_counts_from_one() {
        assert_eq!(line_col("ab\ncd", 0), (1, 1));
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("ab", 99), (1, 3));
    }
}
