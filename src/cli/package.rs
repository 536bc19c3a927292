//! `dmsim package`: build simulated firmware update packages and delivery packages of software
//! components (good, or broken on purpose), and inspect one as a device would; with `--family
//! snom-m3`, build a Snom m3 firmware server's folder instead.

mod delivery;
mod snom;

use dmsim::outcome::{Cause, Key, Phase};
use dmsim::package::{self, ComponentSpec, Defect, DeviceView, PackageFormat, PackageSpec};
use dmsim::profile;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("device").multiple(true)))]
#[command(after_help = "Examples:
  dmsim package --model SIM-1 --from 1.0 --to 2.0 --size 4MiB --out update.pkg
  dmsim package --model SIM-1 --from 1.0 --to 2.0 --size 4MiB --out bad.pkg --defect corrupt
  dmsim package --inspect update.pkg --model SIM-1 --current 1.0
  dmsim package --delivery --pkg-id suite-1 --component maps:Maps:2.1:Android:64KiB \\
      --component agent:Agent:1.4:Linux:16KiB --out suite.pkg
  dmsim package --delivery --pkg-id suite-1 --component maps:Maps:2.1:Android:64KiB \\
      --component agent:Agent:1.4:Linux:16KiB --out bad.pkg --defect corrupt:2
  dmsim package --inspect suite.pkg --env-types Android,Linux --free-memory 1MiB
  dmsim package --delivery --pkg-id app-2 --component app:App:2.0:Android:64KiB \\
      --requires base-1 --for-device IMEI:356938035643809 --valid-until 2026-06-30 \\
      --certificate acme-apps --component-sub-device 1=dock-DX30 --out app.pkg
  dmsim package --inspect app.pkg --env-types Android --dev-id IMEI:356938035643809 \\
      --installed base-1 --sub-devices dock-DX30 --now 2026-03-01
  dmsim package --family snom-m3 --version 0790 --also 0805 --out Updates/
  dmsim package --family snom-m3 --version 0790 --out Updates/ --defect bad-checksum:pp

--inspect reads either kind of package: a firmware package is checked against --model and
--current, a delivery package against --env-types, --free-memory and the other flags that
describe the device (the other kind's flags are ignored, so one command line inspects both).
Times are seconds since 1970-01-01 UTC, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ.")]
pub struct Args {
    /// Inspect this package instead of building one: print its header (a firmware package's model
    /// and versions, a delivery package's components) and whether the device would install it.
    #[arg(
        long,
        value_name = "FILE",
        requires = "device",
        conflicts_with_all = ["from", "to", "size", "out", "seed", "defect", "key", "delivery"]
    )]
    inspect: Option<PathBuf>,
    /// The model the firmware package is for (building), or the device's model (inspecting a
    /// firmware package).
    #[arg(long, value_name = "MODEL", required_unless_present_any = ["inspect", "delivery", "family"])]
    model: Option<String>,
    /// The firmware version the package updates.
    #[arg(long, value_name = "VERSION", required_unless_present_any = ["inspect", "delivery", "family"])]
    from: Option<String>,
    /// The firmware version after the update.
    #[arg(long, value_name = "VERSION", required_unless_present_any = ["inspect", "delivery", "family"])]
    to: Option<String>,
    /// Payload size of a firmware package: bytes, or with a unit (4KiB, 4MiB, 1GiB, 10kB, 10MB).
    #[arg(long, value_name = "SIZE", value_parser = size, required_unless_present_any = ["inspect", "delivery", "family"])]
    size: Option<u64>,
    /// Build a delivery package of software components (SCOMO) instead of a firmware package:
    /// --pkg-id, one --component per component, --out.
    #[arg(
        long,
        requires_all = ["pkg_id", "component", "out"],
        conflicts_with_all = ["model", "from", "to", "size"]
    )]
    delivery: bool,
    /// The delivery package's id (SCOMO PkgID).
    #[arg(long, value_name = "ID", requires = "delivery")]
    pkg_id: Option<String>,
    /// A component of the delivery package, once per component (1 to 64, in order):
    /// id:name:version:env:size, e.g. maps:Maps:2.1.0:Android:64KiB (no field may contain a colon;
    /// the size as for --size; ids must differ).
    #[arg(long, value_name = "ID:NAME:VERSION:ENV:SIZE", value_parser = component, requires = "delivery")]
    component: Vec<ComponentSpec>,
    /// Build the files of another device family: snom-m3, a Snom m3 DECT base's firmware server
    /// folder (DirList.txt, m3Gw_<lang>_v<ver>.fwu, m3Pp_<lang>_v<ver>.fwu) into --out, from
    /// --version (and --also, --language, --size-gw, --size-pp, --link-date, --requires-both)
    /// [default: the DM devices' firmware and delivery packages].
    #[arg(
        long,
        value_name = "FAMILY",
        requires_all = ["snom_version", "out"],
        conflicts_with_all = ["inspect", "delivery", "model", "from", "to", "size", "key"]
    )]
    family: Option<snom::Family>,
    #[command(flatten)]
    snom: snom::SnomArgs,
    /// Where to write the package (with --family snom-m3: the folder to write the files into).
    #[arg(long, value_name = "FILE", required_unless_present = "inspect")]
    out: Option<PathBuf>,
    /// Seed of the payloads' pseudo-random bytes (the same flags make the same package).
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Build a broken package. Firmware: corrupt (402), truncated (402), bad-magic (402),
    /// wrong-model (403), bad-signature (404), tampered-header (404), wrong-from-version (405).
    /// Delivery (K: a component number from 1, default 1): corrupt:K, truncated, bad-magic,
    /// too-many-components, duplicate-id, huge-length:K (402), bad-signature, tampered-header
    /// (404), unsupported-env:K (the component's environment type becomes <env>-OTHER);
    /// missing-payload:K (the component's file left out), unknown-attribute (Knox -1458);
    /// cert-untrusted, component-cert-untrusted:K (a certificate the trust anchor did not issue:
    /// Knox -1470); cert-expired, component-cert-expired:K (Knox -1471). Snom m3 (Code 7 on the
    /// base; :pp breaks the handset file instead of the gateway file): bad-magic, bad-checksum,
    /// truncated, trailing-bytes (the parser refuses them), wrong-part, wrong-version,
    /// wrong-language (the base's check refuses them), each [:gw|:pp]; dirlist-syntax (Code 9),
    /// dirlist-format (Code 10).
    #[arg(long, value_name = "DEFECT")]
    defect: Option<String>,
    #[command(flatten)]
    terms: delivery::TermsArgs,
    /// Signing key: 64 hex digits, the Ed25519 seed [default: the test key built into dmsim, the
    /// certs/package-signing.key of its repository, which simulated devices trust].
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// The firmware version the device runs (inspecting a firmware package).
    #[arg(long, value_name = "VERSION", requires = "inspect", group = "device")]
    current: Option<String>,
    /// The execution environment types the device has, separated by commas (inspecting a delivery
    /// package; compared exactly, case included), e.g. Android,Linux.
    #[arg(
        long,
        value_name = "TYPES",
        value_delimiter = ',',
        requires = "inspect",
        group = "device"
    )]
    env_types: Option<Vec<String>>,
    /// The key the device trusts (inspecting): 64 hex digits, the Ed25519 public key [default: the
    /// public half of the built-in test key, certs/package-signing.pub of the repository].
    #[arg(long, value_name = "FILE", requires = "inspect")]
    trust: Option<PathBuf>,
    /// Memory the device has free for the install (inspecting; unchecked when not given).
    #[arg(long, value_name = "SIZE", value_parser = size, requires = "inspect")]
    free_memory: Option<u64>,
    #[command(flatten)]
    device: delivery::DeviceArgs,
}

pub(super) fn size(text: &str) -> Result<u64, String> {
    package::parse_size(text).map_err(|e| e.to_string())
}

fn component(text: &str) -> Result<ComponentSpec, String> {
    text.parse().map_err(|e: package::SpecError| e.to_string())
}

/// Exit 0 when built or valid, 1 when the inspected package is invalid, 2 on bad flags or files.
pub fn run(args: Args) -> ExitCode {
    let result = match &args.inspect {
        Some(file) => inspect(&args, file),
        None if args.family.is_some() => snom::build(&args),
        None if args.delivery => delivery::build(&args),
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

pub(super) fn signing_key(args: &Args) -> Result<package::SigningKey, String> {
    match &args.key {
        Some(path) => package::load_signing_key(path).map_err(|e| e.to_string()),
        None => {
            eprintln!(
                "dmsim: signing with the test key built into dmsim (certs/package-signing.key of \
                 its repository, for tests only); --key to use another"
            );
            Ok(package::test_signing_key())
        }
    }
}

pub(super) fn write(out: &Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(out, bytes).map_err(|e| format!("{}: cannot write: {e}", out.display()))
}

fn build(args: &Args) -> Result<ExitCode, String> {
    let (Some(model), Some(from), Some(to), Some(size), Some(out)) =
        (&args.model, &args.from, &args.to, args.size, &args.out)
    else {
        return Err("building a package needs --model, --from, --to, --size and --out".into());
    };
    let defect = args
        .defect
        .as_deref()
        .map(str::parse::<Defect>)
        .transpose()?;
    let spec = PackageSpec::new(model.as_str(), from.as_str(), to.as_str(), size)
        .map_err(|e| e.to_string())?
        .with_seed(args.seed.unwrap_or(0));
    let key = signing_key(args)?;
    let bytes = match defect {
        None => package::build(&spec, &key),
        Some(defect) => package::build_defective(&spec, &key, defect),
    };
    write(out, &bytes)?;
    let what = match defect {
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
    let firmware_device = args.model.is_some() && args.current.is_some();
    let delivery = match package::package_format(&bytes) {
        Ok(PackageFormat::Delivery) => true,
        Ok(PackageFormat::Firmware) => false,
        // Unreadable: inspected (and refused) as the kind the flags describe a device for.
        Err(_) => args.env_types.is_some() && !firmware_device,
    };
    if delivery {
        let Some(env_types) = &args.env_types else {
            return Err(format!(
                "{} is a delivery package: --env-types says which environments the device has",
                file.display()
            ));
        };
        return delivery::inspect(args, file, &bytes, &trusted, env_types);
    }
    let (Some(model), Some(current)) = (&args.model, &args.current) else {
        return Err(format!(
            "{} is a firmware package: --model and --current say which device inspects it",
            file.display()
        ));
    };
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
        model,
        current_version: current,
        free_memory: args.free_memory.unwrap_or(u64::MAX),
    };
    match package::inspect(&bytes, &trusted, &device) {
        Ok(p) => {
            println!(
                "verdict   valid: a {model} running {current} installs {}",
                p.header.to_version
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
