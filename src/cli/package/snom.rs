//! `dmsim package --family snom-m3`: a Snom m3 firmware server's folder, `DirList.txt` and each
//! version's gateway and handset `.fwu` files, good or broken on purpose.

use super::{size, write, Args};
use dmsim::package::snom::{self, Defect, FwuDefect, ReleaseSpec};
use std::process::ExitCode;

/// The device families `--family` builds for (without it: the DM devices' packages).
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Family {
    /// A Snom m3 DECT base: DirList.txt and .fwu files into the --out folder.
    #[value(name = "snom-m3")]
    SnomM3,
}

/// The flags of `--family snom-m3`.
#[derive(clap::Args)]
pub struct SnomArgs {
    /// The firmware version to build: four digits, e.g. 0790 (v07.90).
    #[arg(
        long = "version",
        id = "snom_version",
        value_name = "NNNN",
        requires = "family"
    )]
    version: Option<String>,
    /// Another version to list and build beside --version, once per version.
    #[arg(long, value_name = "NNNN", requires = "family")]
    also: Vec<String>,
    /// The language tag of the files: two lower-case letters and two digits.
    #[arg(long, value_name = "TAG", default_value = "fr01", requires = "family")]
    language: String,
    /// Gateway (base) body size: bytes, or with a unit (512KiB); at most 4 GiB - 1.
    #[arg(long, value_name = "SIZE", value_parser = size32, default_value = "512KiB", requires = "family")]
    size_gw: u32,
    /// Handset body size, as --size-gw.
    #[arg(long, value_name = "SIZE", value_parser = size32, default_value = "384KiB", requires = "family")]
    size_pp: u32,
    /// The link date listed for every file: yymmddhhmm.
    #[arg(
        long,
        value_name = "DATE",
        default_value = "2406121030",
        requires = "family"
    )]
    link_date: String,
    /// List every version with `requires = both` (no handset-only update to it).
    #[arg(long, requires = "family")]
    requires_both: bool,
}

fn size32(text: &str) -> Result<u32, String> {
    let bytes = size(text)?;
    u32::try_from(bytes).map_err(|_| format!("{text}: at most 4 GiB - 1 bytes"))
}

/// What the base shows for a release broken with `defect` (the seed's codes).
fn code(defect: Defect) -> &'static str {
    match defect {
        Defect::DirListSyntax => "Code 9 (DirList syntax error)",
        Defect::DirListFormat => "Code 10 (unknown DirList format)",
        Defect::Fwu(_, _) => "Code 7 (wrong format of a firmware file)",
    }
}

pub(super) fn build(args: &Args) -> Result<ExitCode, String> {
    let snom = &args.snom;
    let (Some(version), Some(out)) = (&snom.version, &args.out) else {
        return Err("--family snom-m3 needs --version and --out (a folder)".into());
    };
    let defect = args
        .defect
        .as_deref()
        .map(str::parse::<Defect>)
        .transpose()?;
    let spec = ReleaseSpec {
        version: version.clone(),
        also: snom.also.clone(),
        language: snom.language.clone(),
        gateway_size: snom.size_gw,
        handset_size: snom.size_pp,
        link_date: snom.link_date.clone(),
        requires_both: snom.requires_both,
        seed: args.seed.unwrap_or(0),
        defect,
    };
    let release = snom::build_release(&spec).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(out)
        .map_err(|e| format!("{}: cannot create the folder: {e}", out.display()))?;
    for (name, bytes) in &release.files {
        let path = out.join(name);
        write(&path, bytes)?;
        println!("wrote {} ({} bytes)", path.display(), bytes.len());
    }
    match defect {
        None => println!(
            "valid: a Snom m3 base selecting {version} in {} updates (Code 0)",
            spec.language
        ),
        Some(d) => {
            let file = match d {
                Defect::Fwu(_, part) => part.file_name(&spec.language, version),
                _ => snom::DIRLIST_FILE.to_string(),
            };
            let parsed = match d {
                Defect::Fwu(FwuDefect::WrongPart, _)
                | Defect::Fwu(FwuDefect::WrongVersion, _)
                | Defect::Fwu(FwuDefect::WrongLanguage, _) => "parses, the base's check refuses it",
                _ => "the parser refuses it",
            };
            println!("defect {d} in {file}: {parsed}; the base shows {}", code(d));
        }
    }
    Ok(ExitCode::SUCCESS)
}
