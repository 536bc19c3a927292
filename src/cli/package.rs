//! `dmsim package`: build simulated firmware update packages (good, or broken on purpose), and
//! inspect one as a device would.

use dmsim::outcome::{Cause, Key, Phase};
use dmsim::package::{self, Defect, DeviceView, PackageSpec};
use dmsim::profile;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
#[command(after_help = "Examples:
  dmsim package --model SIM-1 --from 1.0 --to 2.0 --size 4MiB --out update.pkg
  dmsim package --model SIM-1 --from 1.0 --to 2.0 --size 4MiB --out bad.pkg --defect corrupt
  dmsim package --inspect update.pkg --model SIM-1 --current 1.0")]
pub struct Args {
    /// Inspect this package instead of building one: print its header and whether a device of
    /// --model running --current would install it.
    #[arg(
        long,
        value_name = "FILE",
        requires = "current",
        conflicts_with_all = ["from", "to", "size", "out", "seed", "defect", "key"]
    )]
    inspect: Option<PathBuf>,
    /// The model the package is for (building), or the device's model (inspecting).
    #[arg(long, value_name = "MODEL")]
    model: String,
    /// The firmware version the package updates.
    #[arg(long, value_name = "VERSION", required_unless_present = "inspect")]
    from: Option<String>,
    /// The firmware version after the update.
    #[arg(long, value_name = "VERSION", required_unless_present = "inspect")]
    to: Option<String>,
    /// Payload size: bytes, or with a unit (4KiB, 4MiB, 1GiB, 10kB, 10MB).
    #[arg(long, value_name = "SIZE", value_parser = size, required_unless_present = "inspect")]
    size: Option<u64>,
    /// Where to write the package.
    #[arg(long, value_name = "FILE", required_unless_present = "inspect")]
    out: Option<PathBuf>,
    /// Seed of the payload's pseudo-random bytes (the same flags make the same package).
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Build a broken package: corrupt (402), truncated (402), bad-magic (402), wrong-model
    /// (403), bad-signature (404), tampered-header (404), wrong-from-version (405).
    #[arg(long, value_name = "DEFECT", value_parser = str::parse::<Defect>)]
    defect: Option<Defect>,
    /// Signing key: 64 hex digits, the Ed25519 seed [default: the test key built into dmsim, the
    /// certs/package-signing.key of its repository, which simulated devices trust].
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// The firmware version the device runs (inspecting).
    #[arg(long, value_name = "VERSION", requires = "inspect")]
    current: Option<String>,
    /// The key the device trusts (inspecting): 64 hex digits, the Ed25519 public key [default: the
    /// public half of the built-in test key, certs/package-signing.pub of the repository].
    #[arg(long, value_name = "FILE", requires = "inspect")]
    trust: Option<PathBuf>,
    /// Memory the device has free for the install (inspecting; unchecked when not given).
    #[arg(long, value_name = "SIZE", value_parser = size, requires = "inspect")]
    free_memory: Option<u64>,
}

fn size(text: &str) -> Result<u64, String> {
    package::parse_size(text).map_err(|e| e.to_string())
}

/// Exit 0 when built or valid, 1 when the inspected package is invalid, 2 on bad flags or files.
pub fn run(args: Args) -> ExitCode {
    let result = match &args.inspect {
        Some(file) => inspect(&args, file),
        None => build(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("dmsim: {e}");
            ExitCode::from(2)
        }
    }
}

fn build(args: &Args) -> Result<ExitCode, String> {
    let (Some(from), Some(to), Some(size), Some(out)) =
        (&args.from, &args.to, args.size, &args.out)
    else {
        return Err("building a package needs --from, --to, --size and --out".into());
    };
    let spec = PackageSpec::new(args.model.as_str(), from.as_str(), to.as_str(), size)
        .map_err(|e| e.to_string())?
        .with_seed(args.seed.unwrap_or(0));
    let key = match &args.key {
        Some(path) => package::load_signing_key(path).map_err(|e| e.to_string())?,
        None => {
            eprintln!(
                "dmsim: signing with the test key built into dmsim (certs/package-signing.key of \
                 its repository, for tests only); --key to use another"
            );
            package::test_signing_key()
        }
    };
    let bytes = match args.defect {
        None => package::build(&spec, &key),
        Some(defect) => package::build_defective(&spec, &key, defect),
    };
    std::fs::write(out, &bytes).map_err(|e| format!("{}: cannot write: {e}", out.display()))?;
    let what = match args.defect {
        None => "valid".to_string(),
        Some(d) => format!(
            "defect {d}: a device reports FUMO {}",
            install_code(d.cause()).0
        ),
    };
    println!(
        "wrote {} ({} bytes): {} {} -> {}, {}-byte payload, seed {} ({what})",
        out.display(),
        bytes.len(),
        spec.model(),
        spec.from_version(),
        spec.to_version(),
        spec.size(),
        spec.seed(),
    );
    Ok(ExitCode::SUCCESS)
}

fn inspect(args: &Args, file: &Path) -> Result<ExitCode, String> {
    let bytes = std::fs::read(file).map_err(|e| format!("{}: cannot read: {e}", file.display()))?;
    let trusted = match &args.trust {
        Some(path) => package::load_verifying_key(path).map_err(|e| e.to_string())?,
        None => {
            eprintln!(
                "dmsim: trusting the test key built into dmsim (certs/package-signing.pub of its \
                 repository); --trust to trust another"
            );
            package::test_signing_key().verifying_key()
        }
    };
    let current = args.current.as_deref().unwrap_or_default();
    println!("package   {} ({} bytes)", file.display(), bytes.len());
    match package::parse(&bytes) {
        Ok(parsed) => {
            let h = &parsed.header;
            println!("format    {}", package::FORMAT_VERSION);
            println!("model     {}", h.model);
            println!("from      {}", h.from_version);
            println!("to        {}", h.to_version);
            println!("payload   {} bytes", h.payload_len);
            println!("sha256    {}", package::to_hex(&h.payload_hash));
        }
        Err(_) => println!("header    unreadable"),
    }
    let device = DeviceView {
        model: &args.model,
        current_version: current,
        free_memory: args.free_memory.unwrap_or(u64::MAX),
    };
    match package::inspect(&bytes, &trusted, &device) {
        Ok(p) => {
            println!(
                "verdict   valid: a {} running {} installs {}",
                args.model, current, p.header.to_version
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            let (code, meaning) = install_code(e.cause());
            println!("verdict   invalid: {e} (FUMO {code} {meaning})");
            Ok(ExitCode::from(1))
        }
    }
}

/// The FUMO result, and its meaning, that a device of the default profile reports when its
/// install ends for `cause`.
fn install_code(cause: Cause) -> (i64, &'static str) {
    let row = profile::default_profile().fumo_result_row(Key(Phase::Install, cause));
    (row.code, &row.meaning)
}
