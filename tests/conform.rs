//! `dmsim::conform` against the embedded mock server in process: the server as it is passes every
//! check that applies, and each of its quirks (a broken-server mode) fails exactly the check it
//! breaks.

use dmsim::conform::{self, checks, verdict};
use dmsim::inproc::InProcess;
use dmsim::scenario::{load, mock_server};
use std::path::Path;
use std::sync::Arc;

/// The scenario of `dmsim serve`'s default script with `quirks`, the device with `auth`.
fn scenario(quirks: &str, auth: &str) -> dmsim::scenario::model::ScenarioFile {
    let text = format!(
        r#"
name = "conform"
[device]
{auth}
[server]
quirks = [{quirks}]
[[server.package]]
session = "every"
[[server.package.command]]
cmd = "get"
target = "./DevInfo/Mod"
[[server.package.command]]
cmd = "get"
target = "./DevDetail/FwV"
"#
    );
    load::parse(Path::new("conform.toml"), &text)
        .expect("scenario")
        .file
}

fn judge(quirks: &str, auth: &str) -> Vec<verdict::Judged> {
    let file = scenario(quirks, auth);
    let server = Arc::new(mock_server(&file).expect("server"));
    let transport = InProcess::new(server);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("runtime");
    let ran = runtime
        .block_on(conform::run_battery(&transport, &file))
        .expect("battery");
    let tallies: Vec<_> = ran.into_iter().map(|r| (r.name, r.tally)).collect();
    verdict::judge(&tallies, &verdict::AllowList::default())
}

fn failed(judged: &[verdict::Judged]) -> Vec<&'static str> {
    judged
        .iter()
        .filter(|j| j.verdict == verdict::Verdict::Fail)
        .map(|j| j.check.id)
        .collect()
}

#[test]
fn the_embedded_server_passes_every_check() {
    let judged = judge("", "");
    assert_eq!(failed(&judged), Vec::<&str>::new());
    let report = conform::report::human("inproc", &judged);
    eprintln!("{report}");
    assert_eq!(judged.len(), checks::CHECKS.len());
}

#[test]
fn each_quirk_fails_exactly_its_check() {
    for quirk in [
        "duplicate-cmd-id",
        "msg-id-sequence",
        "element-order",
        "namespace",
    ] {
        let judged = judge(&format!("\"{quirk}\""), "");
        assert_eq!(failed(&judged), [quirk], "quirk {quirk}");
    }
}

#[test]
fn a_server_that_demands_credentials_is_checked_on_its_refusals() {
    for kind in ["basic", "md5", "hmac"] {
        let auth = format!(
            "[device.auth]\ntype = \"{kind}\"\nname = \"Bruce2\"\nsecret = \"OhBehave\"\nnonce = \"Nonce\"\n"
        );
        let judged = judge("", &auth);
        assert_eq!(
            failed(&judged),
            Vec::<&str>::new(),
            "{kind}: {}",
            conform::report::human("inproc", &judged)
        );
        let verdict = |id: &str| judged.iter().find(|j| j.check.id == id).expect(id).verdict;
        // The sessions without credentials were refused by the rules.
        for id in [
            "missing-chal",
            "next-nonce-base64",
            "auth-failure-statuses-only",
        ] {
            assert_eq!(verdict(id), verdict::Verdict::Pass, "{kind}: {id}");
        }
    }
}

#[test]
fn the_readme_table_is_the_catalogue() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let start = "<!-- conform checks: generated from src/conform/checks.rs; tests/conform.rs keeps them equal -->\n";
    let end = "<!-- /conform checks -->";
    let from = readme.find(start).expect("the README's table start") + start.len();
    let to = readme[from..].find(end).expect("the README's table end") + from;
    assert_eq!(
        &readme[from..to],
        checks::markdown_table(),
        "the README's table of checks differs from the catalogue: paste checks::markdown_table()"
    );
}
