//! `dmsim codes` and `dmsim faults`: every code of every profile and every fault point, with what
//! produces each, measured by running the scenario suite (see `dmsim::scenario::coverage`).

use dmsim::profile::{self, Profile, Table};
use dmsim::scenario::coverage::{self, CodeRow, FaultRow, Measured};
use dmsim::scenario::{self, RunOptions};
use std::io::Write;

/// The section of vendor rows that the vendor's tables do not list (codes its text names).
const NOT_IN_SEED: &str = "not-in-seed";
use std::path::PathBuf;
use std::process::ExitCode;

/// Where the suite is, for both commands.
#[derive(clap::Args)]
pub struct Suite {
    /// The scenario files or directories whose runs prove the codes.
    #[arg(long = "scenarios", value_name = "PATH", default_value = "scenarios")]
    paths: Vec<PathBuf>,
    /// Print a JSON list of rows instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct CodesArgs {
    /// Only this profile's codes (built in: oma, dmsim, knox-efota, snom-m3) [default: every
    /// profile].
    #[arg(long, value_name = "NAME")]
    profile: Option<String>,
    /// Only the codes no passing scenario produces.
    #[arg(long)]
    uncovered: bool,
    /// Only this code (in every table that has it), with the command that reproduces it.
    #[arg(long, value_name = "CODE", allow_negative_numbers = true)]
    code: Option<i64>,
    #[command(flatten)]
    suite: Suite,
}

#[derive(clap::Args)]
pub struct FaultsArgs {
    #[command(flatten)]
    suite: Suite,
}

pub fn codes(args: CodesArgs) -> ExitCode {
    let profiles: Vec<&Profile> = match &args.profile {
        Some(name) => match profile::builtin(name) {
            Some(p) => vec![p],
            None => {
                eprintln!(
                    "dmsim: --profile {name:?} is not a known profile (known: {})",
                    profile::NAMES
                );
                return ExitCode::from(2);
            }
        },
        None => profile::builtins().to_vec(),
    };
    let Some(measured) = measure(&args.suite) else {
        return ExitCode::from(2);
    };
    let rows: Vec<CodeRow> = coverage::code_rows(&measured, &profiles)
        .into_iter()
        .filter(|r| !args.uncovered || !r.covered)
        .filter(|r| args.code.is_none_or(|c| r.code == c))
        .collect();
    if args.suite.json {
        return print_json(&rows);
    }
    let mut out = String::new();
    let mut heading = None;
    for row in &rows {
        let this = (row.profile.as_str(), row.table);
        if heading != Some(this) {
            out.push_str(&format!("\n{} {}\n", row.profile, row.table));
            heading = Some(this);
        }
        let mark = if row.covered { " " } else { "!" };
        out.push_str(&format!("{mark} {:>5}  {}\n", row.code, row.meaning));
        if let Some(section) = &row.section {
            out.push_str(&format!("         section:   {section}\n"));
        }
        if !row.outcomes.is_empty() {
            out.push_str(&format!(
                "         outcomes:  {}\n",
                row.outcomes.join(", ")
            ));
        }
        if !row.from.is_empty() {
            out.push_str(&format!("         from:      {}\n", row.from.join(", ")));
        }
        if !row.preceded_by.is_empty() {
            let codes: Vec<String> = row.preceded_by.iter().map(i64::to_string).collect();
            out.push_str(&format!(
                "         after:     {} (in the same report)\n",
                codes.join(", ")
            ));
        }
        if let Some(platform) = row.platform {
            out.push_str(&format!("         platform:  {platform}\n"));
        }
        if row.side == "server" {
            let why = row.why.as_deref().unwrap_or("the server reports it");
            out.push_str(&format!("         side:      server ({why})\n"));
        }
        if !row.faults.is_empty() {
            out.push_str(&format!("         faults:    {}\n", row.faults.join(", ")));
        }
        if args.code.is_some() {
            // Asked for one code: every scenario, and how to run the first.
            for s in &row.scenarios {
                out.push_str(&format!("         scenario:  {s}\n"));
            }
            if let Some(first) = row.scenarios.first() {
                out.push_str(&format!("         reproduce: dmsim run {first}\n"));
                if row.table == Table::KnoxEfotaPortal {
                    // The mock portal gives this code, not a server under test.
                    out.push_str(
                        "         the portal: dmsim serve --profile knox-efota (README, \"Knox E-FOTA portal\")\n",
                    );
                } else {
                    out.push_str(&format!(
                        "         against your server: dmsim device --profile {} --scenario {first} --server URL\n",
                        row.profile
                    ));
                }
            }
            continue;
        }
        match row.scenarios.as_slice() {
            [] => out.push_str("         scenarios: none passing produces it\n"),
            [one] => out.push_str(&format!("         scenario:  {one}\n")),
            [first, rest @ ..] => out.push_str(&format!(
                "         scenarios: {first} and {} more\n",
                rest.len()
            )),
        }
    }
    let covered = rows.iter().filter(|r| r.covered).count();
    out.push_str(&format!(
        "\n{} codes, {covered} produced by a passing scenario, {} not (marked !)\n",
        rows.len(),
        rows.len() - covered
    ));
    // A vendor's codes are the rows that name the table of its document they are listed in
    // (`section`): the seed's codes, apart from the OMA rows a vendor adds to.
    let vendor: Vec<&CodeRow> = rows
        .iter()
        .filter(|r| r.section.as_deref().is_some_and(|s| s != NOT_IN_SEED))
        .collect();
    if !vendor.is_empty() {
        let produced = vendor.iter().filter(|r| r.covered).count();
        out.push_str(&format!(
            "the vendor's own tables: {produced}/{} codes produced\n",
            vendor.len()
        ));
    }
    print!("{out}");
    ExitCode::SUCCESS
}

pub fn faults(args: FaultsArgs) -> ExitCode {
    let Some(measured) = measure(&args.suite) else {
        return ExitCode::from(2);
    };
    let rows: Vec<FaultRow> = coverage::fault_rows(&measured);
    if args.suite.json {
        return print_json(&rows);
    }
    let mut out = String::new();
    for row in &rows {
        let name = match row.kind {
            "content" => format!("[[server.content_fault]] kind = {:?}", row.effect),
            "session" => format!("[[server.session_fault]] kind = {:?}", row.effect),
            _ => format!("[[fault]] at = {:?}, inject = {:?}", row.point, row.effect),
        };
        out.push_str(&format!("{name}\n"));
        if row.produces.is_empty() {
            out.push_str("    produces:  (no code of its own in the suite)\n");
        } else {
            out.push_str(&format!("    produces:  {}\n", row.produces.join(", ")));
        }
        match row.scenarios.first() {
            Some(example) => out.push_str(&format!(
                "    example:   {example} ({} scenario{})\n",
                row.scenarios.len(),
                if row.scenarios.len() == 1 { "" } else { "s" }
            )),
            None => out.push_str("    example:   none in the suite\n"),
        }
    }
    print!("{out}");
    ExitCode::SUCCESS
}

/// Load and measure the suite; `None` after printing why it could not be.
fn measure(suite: &Suite) -> Option<Measured> {
    let loaded = scenario::discover(&suite.paths)
        .and_then(|files| files.iter().map(|f| scenario::load(f)).collect());
    let loaded: Vec<_> = match loaded {
        Ok(l) => l,
        Err(e) => {
            eprintln!("dmsim: {e}");
            return None;
        }
    };
    match coverage::measure(&loaded, &RunOptions::default()) {
        Ok(m) => Some(m),
        Err(e) => {
            eprintln!("dmsim: cannot run the suite: {e}");
            None
        }
    }
}

fn print_json<T: serde::Serialize>(rows: &T) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    let written = serde_json::to_writer_pretty(&mut stdout, rows)
        .map_err(std::io::Error::from)
        .and_then(|()| writeln!(stdout));
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dmsim: cannot write the JSON: {e}");
            ExitCode::from(1)
        }
    }
}
