//! A scenario's expectations (`[expect]`) checked against what happened: how the sessions ended,
//! what the server received, the device's tree and what it executed, the protocol rules either
//! side broke ([`check`]), the FUMO, download and firmware outcomes ([`updates`]) and the SCOMO
//! results, Status values and inventory ([`scomo`]). Each
//! expectation that does not hold is a failure in words; lists are compared as [`list`] says.

mod list;
mod scomo;
mod updates;

pub(super) use scomo::check_scomo;
pub(super) use updates::check_updates;

use super::model::{Expect, ListName, ResultExpect, StatusExpect};
use crate::device::Device;
use crate::server::{ReceivedStatus, RefusedRequests, SessionRecord};
use crate::session::{ServerRule, SessionReport};
use crate::syncml::Item;
use list::List;

/// Every expectation that did not hold, in words.
pub(super) fn check(
    expect: &Expect,
    reports: &[SessionReport],
    device: &Device,
    records: &[SessionRecord],
    refused: &RefusedRequests,
) -> Vec<String> {
    let mut failures = Vec::new();
    let Some(report) = reports.last() else {
        return vec!["no session ran".to_string()];
    };
    if let Some(end) = expect.end {
        if report.end.kind() != end.as_str() {
            failures.push(format!(
                "session ended {}, expected {}",
                report.end,
                end.as_str()
            ));
        }
    }
    if let Some(want) = &expect.ends {
        let ended: Vec<&str> = reports.iter().map(|r| r.end.kind()).collect();
        let want: Vec<&str> = want.iter().map(|e| e.as_str()).collect();
        if ended != want {
            failures.push(format!("sessions ended {ended:?}, expected {want:?}"));
        }
    }
    if let Some(want) = &expect.session_id {
        if report.session_id != *want {
            failures.push(format!(
                "session id was {:?}, expected {want:?}",
                report.session_id
            ));
        }
    }
    if let Some(want) = expect.reports_pending {
        let pending = device.reports.pending().len();
        if pending != want {
            failures.push(format!(
                "the device still owes {pending} reports, expected {want}"
            ));
        }
    }
    if let Some(want) = expect.sessions {
        if reports.len() != want {
            failures.push(format!("{} sessions ran, expected {want}", reports.len()));
        }
    }
    if let Some(want) = &expect.statuses {
        let received: Vec<&ReceivedStatus> = records.iter().flat_map(|r| &r.statuses).collect();
        let list = List::new(
            "the server received Statuses",
            expect.at_least(ListName::Status),
        );
        list.check(want, &received, status_matches, &mut failures);
    }
    if let Some(want) = &expect.alerts {
        let received: Vec<u16> = records
            .iter()
            .flat_map(|r| &r.alerts)
            .map(|a| a.code.code())
            .collect();
        let list = List::new(
            "the server received alerts",
            expect.at_least(ListName::Alerts),
        );
        list.check(want, &received, |w, a| w == a, &mut failures);
    }
    if let Some(want) = &expect.results {
        let received: Vec<&Item> = records.iter().flat_map(|r| &r.results).collect();
        let list = List::new(
            "the server received Results items",
            expect.at_least(ListName::Result),
        );
        list.check(want, &received, result_matches, &mut failures);
    }
    for (uri, want) in &expect.tree {
        match device.tree.value(uri) {
            Some(v) if v == want.as_bytes() => {}
            Some(v) => failures.push(format!(
                "tree {uri} is {:?}, expected {want:?}",
                String::from_utf8_lossy(v)
            )),
            None => failures.push(format!("tree {uri} does not exist, expected {want:?}")),
        }
    }
    for (uri, want) in &expect.tree_len {
        match device.tree.value(uri) {
            Some(v) if v.len() == *want => {}
            Some(v) => failures.push(format!(
                "tree {uri} holds {} bytes, expected {want}",
                v.len()
            )),
            None => failures.push(format!("tree {uri} does not exist, expected {want} bytes")),
        }
    }
    for uri in &expect.absent {
        if device.tree.node(uri).is_some() {
            failures.push(format!("tree {uri} exists, expected it absent"));
        }
    }
    if let Some(want) = &expect.execs {
        let execs: Vec<&str> = device
            .records
            .execs
            .iter()
            .map(|e| e.uri.as_str())
            .collect();
        if execs != *want {
            failures.push(format!("device executed {execs:?}, expected {want:?}"));
        }
    }
    // The simulated device must never break the protocol itself: what the server saw is checked
    // in every scenario, in its sessions and in the messages it refused before knowing a session.
    let session_rules = records
        .iter()
        .flat_map(|r| r.violations.iter().map(ToString::to_string));
    for rule in session_rules.chain(refused.lines()) {
        failures.push(format!("the device broke a protocol rule: {rule}"));
    }
    if expect.no_violations {
        for v in reports.iter().flat_map(|r| &r.violations) {
            failures.push(format!("the server broke a protocol rule: {v}"));
        }
    }
    if let Some(want) = &expect.server_violations {
        let mut seen: Vec<ServerRule> = Vec::new();
        for v in reports.iter().flat_map(|r| &r.violations) {
            if !seen.contains(&v.rule) {
                seen.push(v.rule);
            }
        }
        let list = List::new(
            "the device saw the server break",
            expect.at_least(ListName::ServerViolations),
        );
        list.check(want, &seen, |w, a| w == a, &mut failures);
    }
    failures
}

fn status_matches(want: &StatusExpect, s: &&ReceivedStatus) -> bool {
    s.cmd.as_str() == want.cmd
        && s.code.code() == want.code
        && want
            .target
            .as_deref()
            .is_none_or(|t| s.target_ref.as_deref() == Some(t))
        && want
            .data
            .as_deref()
            .is_none_or(|d| s.items.first().and_then(|i| i.data_text()).as_deref() == Some(d))
}

fn result_matches(want: &ResultExpect, item: &&Item) -> bool {
    item.source_uri() == Some(want.source.as_str())
        && want
            .data
            .as_deref()
            .is_none_or(|d| item.data_text().as_deref() == Some(d))
        && want
            .len
            .is_none_or(|n| item.data.as_ref().map_or(0, |d| d.as_bytes().len()) == n)
        && want.format.as_deref().is_none_or(|f| {
            item.meta
                .as_ref()
                .and_then(|m| m.format.as_deref())
                .unwrap_or("chr")
                == f
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::build_device;
    use crate::scenario::load::parse;
    use crate::server::MAX_REFUSED_KEPT;
    use crate::session::SessionEnd;

    #[test]
    fn refused_requests_fail_the_scenario_like_session_violations() {
        let file = parse(std::path::Path::new("t.toml"), "name = \"t\"\n")
            .expect("valid")
            .file;
        let device = build_device(&file).expect("device");
        let reports = [SessionReport::not_started(SessionEnd::Completed)];
        let records = [SessionRecord {
            violations: vec![crate::server::DeviceViolation {
                rule: crate::server::Rule::MsgId,
                msg_id: "3".into(),
                cmd_id: None,
                detail: "device MsgID 3 does not follow 1".into(),
            }],
            ..SessionRecord::default()
        }];
        let mut refused = RefusedRequests::default();
        assert!(check(&file.expect, &reports, &device, &records, &refused).len() == 1);
        refused.violations = vec!["a message to /dm was refused with HTTP 415: …".into()];
        let failures = check(&file.expect, &reports, &device, &records, &refused);
        assert_eq!(
            failures,
            [
                "the device broke a protocol rule: MsgID sequence (reference §1.3): device message 3: device MsgID 3 does not follow 1",
                "the device broke a protocol rule: a message to /dm was refused with HTTP 415: …",
            ]
        );
        refused.dropped = 2;
        let failures = check(&file.expect, &reports, &device, &[], &refused);
        assert_eq!(failures.len(), 2);
        assert!(
            failures[1].contains(&format!(
                "2 more refused requests (only the first {MAX_REFUSED_KEPT}"
            )),
            "{failures:?}"
        );
    }
}
