//! `dmsim package --delivery` and the inspection of a delivery package: the terms a package is
//! built with (what it requires, the devices and software version it is for, how long it is valid,
//! the certificates it and its components are signed under, the sub-devices its components are
//! for), and the device a package is inspected for.

use super::{signing_key, size, write, Args};
use dmsim::device::EPOCH;
use dmsim::outcome::{Key, Phase};
use dmsim::package::{
    self, cert::Certificate, terms, time, CertificateSpec, ComponentSpec, DeliveryDefect,
    DeliveryDevice, DeliverySpec, TermsSpec,
};
use dmsim::profile;
use std::path::Path;
use std::process::ExitCode;

/// The terms of a delivery package being built (format 3 when any is given).
#[derive(clap::Args)]
pub struct TermsArgs {
    /// The package requires this package (a PkgID) installed first, once per package: a device
    /// that has none of its components skips the install (Knox -1451).
    #[arg(long, value_name = "PKGID", requires = "delivery")]
    requires: Vec<String>,
    /// The package is for this device (its DevId, e.g. IMEI:356938035643809), once per device;
    /// any other device refuses it (Knox -1455). Default: any device.
    #[arg(long, value_name = "DEVID", requires = "delivery")]
    for_device: Vec<String>,
    /// The package is for devices running this software version (DevDetail/SwV); a device
    /// running another refuses it (Knox -1455).
    #[arg(long, value_name = "VERSION", requires = "delivery")]
    source_version: Option<String>,
    /// The last moment the package is valid: a device refuses to store or install it after that,
    /// on its clock (Knox -1456: a stored package no longer valid).
    #[arg(long, value_name = "TIME", value_parser = time_arg, requires = "delivery")]
    valid_until: Option<u64>,
    /// Sign the package under a certificate of this subject, issued by --key (which then signs
    /// only the certificate; the subject's key is derived from --key and the subject).
    #[arg(long, value_name = "SUBJECT", requires = "delivery")]
    certificate: Option<String>,
    /// Sign component K on its own under a certificate of SUBJECT issued by --key, once per
    /// component.
    #[arg(long, value_name = "K=SUBJECT", value_parser = numbered, requires = "delivery")]
    component_certificate: Vec<(usize, String)>,
    /// Where the certificates' validity starts [default: 2025-01-01].
    #[arg(long, value_name = "TIME", value_parser = time_arg, requires = "delivery")]
    cert_not_before: Option<u64>,
    /// Where the certificates' validity ends [default: 2036-01-01].
    #[arg(long, value_name = "TIME", value_parser = time_arg, requires = "delivery")]
    cert_not_after: Option<u64>,
    /// Component K is for the attached peripheral ID: a device without it skips the component
    /// and installs the others (Knox -1463), once per component.
    #[arg(long, value_name = "K=ID", value_parser = numbered, requires = "delivery")]
    component_sub_device: Vec<(usize, String)>,
}

/// The device a delivery package is inspected for, beyond its environments and memory.
#[derive(clap::Args)]
pub struct DeviceArgs {
    /// The device's DevId, for a package that names the devices it is for.
    #[arg(long, value_name = "DEVID", requires = "inspect")]
    dev_id: Option<String>,
    /// The software version the device runs (DevDetail/SwV), for a package that names one.
    #[arg(long, value_name = "VERSION", requires = "inspect")]
    sw_version: Option<String>,
    /// The device's clock [default: 2026-01-01T00:00:00Z, where simulated devices' clocks start].
    #[arg(long, value_name = "TIME", value_parser = time_arg, requires = "inspect")]
    now: Option<u64>,
    /// A component the device has deployed, once per component: a package component older than
    /// it is a downgrade (Knox -1454).
    #[arg(long, value_name = "ID=VERSION", value_parser = pair, requires = "inspect")]
    deployed: Vec<(String, String)>,
    /// A package (PkgID) the device has installed, once per package.
    #[arg(long, value_name = "PKGID", requires = "inspect")]
    installed: Vec<String>,
    /// Storage the device has free to install the components (unchecked when not given).
    #[arg(long, value_name = "SIZE", value_parser = size, requires = "inspect")]
    free_storage: Option<u64>,
    /// The sub-devices (attached peripherals) the device has, separated by commas.
    #[arg(long, value_name = "IDS", value_delimiter = ',', requires = "inspect")]
    sub_devices: Vec<String>,
}

fn time_arg(text: &str) -> Result<u64, String> {
    time::parse_time(text).map_err(|e| e.to_string())
}

fn pair(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((a, b)) if !a.is_empty() && !b.is_empty() => Ok((a.to_string(), b.to_string())),
        _ => Err(format!("expected NAME=VALUE, not {text:?}")),
    }
}

fn numbered(text: &str) -> Result<(usize, String), String> {
    let (k, value) = pair(text)?;
    match k.parse::<usize>() {
        Ok(k) if k >= 1 && text.as_bytes()[0].is_ascii_digit() => Ok((k, value)),
        _ => Err(format!(
            "expected K=VALUE with K a component number from 1, not {text:?}"
        )),
    }
}

impl TermsArgs {
    fn certificate(&self, subject: &str) -> CertificateSpec {
        let mut spec = CertificateSpec::new(subject);
        if let Some(t) = self.cert_not_before {
            spec.not_before = t;
        }
        if let Some(t) = self.cert_not_after {
            spec.not_after = t;
        }
        spec
    }

    /// The components with their sub-devices and certificates.
    fn components(&self, components: &[ComponentSpec]) -> Result<Vec<ComponentSpec>, String> {
        let mut out = components.to_vec();
        let count = out.len();
        let get = |k: usize| {
            if (1..=count).contains(&k) {
                Ok(k - 1)
            } else {
                Err(format!(
                    "there is no component {k} (the package has {count}; components count from 1)"
                ))
            }
        };
        for (k, id) in &self.component_sub_device {
            let i = get(*k)?;
            out[i] = out[i]
                .clone()
                .with_sub_device(id.as_str())
                .map_err(|e| e.to_string())?;
        }
        for (k, subject) in &self.component_certificate {
            let i = get(*k)?;
            out[i] = out[i]
                .clone()
                .with_certificate(self.certificate(subject))
                .map_err(|e| e.to_string())?;
        }
        Ok(out)
    }

    fn terms(&self) -> TermsSpec {
        TermsSpec {
            requires: self.requires.clone(),
            devices: self.for_device.clone(),
            source_version: self.source_version.clone(),
            valid_until: self.valid_until,
            certificate: self.certificate.as_deref().map(|s| self.certificate(s)),
        }
    }
}

/// Build the delivery package the flags describe.
pub fn build(args: &Args) -> Result<ExitCode, String> {
    let (Some(pkg_id), Some(out)) = (&args.pkg_id, &args.out) else {
        return Err("building a delivery package needs --pkg-id, --component and --out".into());
    };
    let defect = args
        .defect
        .as_deref()
        .map(str::parse::<DeliveryDefect>)
        .transpose()?;
    let components = args.terms.components(&args.component)?;
    let spec = DeliverySpec::new(pkg_id.as_str(), components)
        .and_then(|s| s.with_terms(args.terms.terms()))
        .map_err(|e| e.to_string())?
        .with_seed(args.seed.unwrap_or(0));
    let key = signing_key(args)?;
    let bytes = match defect {
        None => package::build_delivery(&spec, &key),
        Some(defect) => {
            package::build_defective_delivery(&spec, &key, defect).map_err(|e| e.to_string())?
        }
    };
    write(out, &bytes)?;
    let what = match defect {
        None => "valid".to_string(),
        Some(d) => format!(
            "defect {d}: a device refuses it, {}",
            verdict_code(Key(Phase::Install, d.cause()))
        ),
    };
    println!(
        "wrote {} ({} bytes): delivery package {}, {} component(s), {} payload bytes, seed {} ({what})",
        out.display(),
        bytes.len(),
        spec.pkg_id(),
        spec.components().len(),
        spec.total_size(),
        spec.seed(),
    );
    for (number, c) in (1..).zip(spec.components()) {
        println!(
            "  {number:>2}  {}  {:?}  {}  {}  {} bytes",
            c.id(),
            c.name(),
            c.version(),
            c.env_type(),
            c.size()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// One attribute, for people.
fn describe(tag: u8, value: &[u8]) -> String {
    let text = || String::from_utf8_lossy(value).into_owned();
    match tag {
        terms::TAG_REQUIRES => format!("requires  {}", text()),
        terms::TAG_DEVICE => format!("for       {}", text()),
        terms::TAG_SOURCE_VERSION => format!("source    software version {}", text()),
        terms::TAG_VALID_UNTIL => match <[u8; 8]>::try_from(value) {
            Ok(b) => format!(
                "valid     until {}",
                time::format_time(u64::from_be_bytes(b))
            ),
            Err(_) => "valid     (malformed)".to_string(),
        },
        terms::TAG_CERTIFICATE => match Certificate::parse(value) {
            Some(c) => format!(
                "cert      {} from {} to {}",
                c.subject,
                time::format_time(c.not_before),
                time::format_time(c.not_after)
            ),
            None => "cert      (malformed)".to_string(),
        },
        terms::TAG_SUB_DEVICE => format!("sub-device {}", text()),
        terms::TAG_SIGNATURE => "signed    by its certificate's key".to_string(),
        other => format!("attribute {other} ({} bytes, unknown)", value.len()),
    }
}

fn print_attributes(block: &[u8], indent: &str) {
    match terms::split(block) {
        Ok(attributes) => {
            for (tag, value) in attributes {
                println!("{indent}{}", describe(tag, value));
            }
        }
        Err(e) => println!("{indent}attributes unreadable: {e}"),
    }
}

/// Inspect a delivery package for the device the flags describe.
pub fn inspect(
    args: &Args,
    file: &Path,
    bytes: &[u8],
    trusted: &package::VerifyingKey,
    env_types: &[String],
) -> Result<ExitCode, String> {
    println!("package   {} ({} bytes)", file.display(), bytes.len());
    match package::parse_delivery(bytes) {
        Ok(parsed) => {
            let h = &parsed.header;
            println!("format    {} (delivery)", parsed.format);
            println!("pkg-id    {}", h.pkg_id);
            print_attributes(&h.attributes, "");
            println!("components {}", h.components.len());
            for (number, c) in (1..).zip(&h.components) {
                println!(
                    "  {number:>2}  {}  {:?}  {}  {}  {} bytes  sha256 {}",
                    c.id,
                    c.name,
                    c.version,
                    c.env_type,
                    c.payload_len,
                    package::to_hex(&c.payload_hash)
                );
                print_attributes(&c.attributes, "      ");
            }
        }
        Err(_) => println!("header    unreadable"),
    }
    let d = &args.device;
    let device = DeliveryDevice {
        env_types,
        free_memory: args.free_memory.unwrap_or(u64::MAX),
        free_storage: d.free_storage.unwrap_or(u64::MAX),
        dev_id: d.dev_id.as_deref().unwrap_or(""),
        sw_version: d.sw_version.as_deref().unwrap_or(""),
        now: d.now.unwrap_or(EPOCH),
        deployed: &d.deployed,
        installed: &d.installed,
    };
    match package::inspect_delivery(bytes, trusted, &device) {
        Ok(p) => {
            let skipped: Vec<String> = p
                .components
                .iter()
                .filter_map(|c| {
                    package::missing_sub_device(c, &d.sub_devices)
                        .map(|s| format!("{} (for sub-device {s})", c.header.id))
                })
                .collect();
            println!(
                "verdict   valid: a device with {} installs {} component(s), {} bytes",
                env_types.join(", "),
                p.components.len() - skipped.len(),
                p.total_payload_len()
            );
            if !skipped.is_empty() {
                let key = Key(Phase::Install, dmsim::outcome::Cause::SubDeviceMissing);
                println!("skipped   {} ({})", skipped.join(", "), verdict_code(key));
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            println!("verdict   invalid: {e} ({})", verdict_code(e.key()));
            Ok(ExitCode::from(1))
        }
    }
}

/// The outcome and the SCOMO result a device of the default profile reports for it.
fn verdict_code(key: Key) -> String {
    let row = profile::default_profile().scomo_result_row(key);
    format!("{key}: result {} {}", row.code, row.meaning)
}
