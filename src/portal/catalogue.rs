//! The portal's catalogue: what it knows and checks every request against (models, firmware
//! versions and their update files, software and its deployment packages, triggers, the
//! configuration a client needs, the client and protocol versions it manages) and its limits.
//!
//! A scenario's `[portal.catalogue]` table overrides any part (`[[portal.catalogue.model]]`,
//! `[[portal.catalogue.firmware]]`, …, each list whole); what it leaves out is
//! [`Catalogue::default`]'s, which fits the `knox-efota` family's
//! Android device (SM-G991B on G991BXXU5CVJB, E-FOTA client 3.6.12, DM 1.2). Samsung's real
//! catalogue is not public: its shape here is dmsim's, documented in the README ("Knox E-FOTA
//! portal").

use serde::Deserialize;

/// Everything the portal validates against.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Catalogue {
    /// The device models the portal manages (`-1` for another).
    #[serde(rename = "model")]
    pub models: Vec<Model>,
    /// The firmware versions of each model (`-19` for another, `-20` for an inactive one).
    #[serde(rename = "firmware")]
    pub firmware: Vec<Firmware>,
    /// The software the portal deploys through SCOMO (`-11`, `-7`, `-12`).
    #[serde(rename = "software")]
    pub software: Vec<Software>,
    /// The deployment packages software is delivered in (`-29` … `-33`).
    #[serde(rename = "deployment_package")]
    pub deployment_packages: Vec<DeploymentPackage>,
    /// The triggers an operation may name (`-16` for another).
    pub triggers: Vec<String>,
    /// The properties every client configuration must set (`-26` when one is missing).
    pub config_properties: Vec<String>,
    /// The DM protocol versions (`./DevInfo/DmV`) the portal speaks (`-34` for another).
    pub protocol_versions: Vec<String>,
    /// The E-FOTA client versions the portal supports (`-7036` for another).
    pub client_versions: Vec<String>,
    /// The scripted plugin that maps tool versions to update files and signs them (`-7037`,
    /// `-7047`, `-7048`).
    pub plugin: Plugin,
    pub limits: Limits,
}

/// A device model.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Model {
    pub name: String,
    /// Where the model's SCOMO object is (`-25` for a software operation when it has none).
    #[serde(default)]
    pub scomo_uri: Option<String>,
    /// The largest deployment package the model takes (`-31` for a larger one).
    #[serde(default = "default_max_dp_size")]
    pub max_dp_size: u64,
    /// The deployment package encodings the model reads (`-32` for another).
    #[serde(default = "default_encodings")]
    pub dp_encodings: Vec<String>,
    /// Whether the portal holds a signing key for the model's deployment packages (`-33` when
    /// not).
    #[serde(default = "yes")]
    pub signing_key: bool,
    /// Nodes every device of the model must have for an operation: the portal reads them first
    /// (`-7021` when one is missing).
    #[serde(default = "default_parameters")]
    pub parameters: Vec<String>,
}

/// One firmware version of a model.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Firmware {
    pub model: String,
    pub version: String,
    #[serde(default = "yes")]
    pub active: bool,
    /// The updates to this version: from a base version (or a full image), each a Download
    /// Descriptor the DM server hosts.
    #[serde(default, rename = "update")]
    pub updates: Vec<FirmwareUpdate>,
}

/// An update file of a firmware version.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirmwareUpdate {
    /// The version it updates from (`None`: any, a full image).
    #[serde(default)]
    pub from: Option<String>,
    /// The path of its Download Descriptor on the DM server (`-18` when nothing is hosted there).
    pub file: String,
}

/// A software title.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Software {
    pub instance: String,
    #[serde(default, rename = "version")]
    pub versions: Vec<SoftwareVersion>,
}

/// One version of a software title.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SoftwareVersion {
    pub version: String,
    #[serde(default = "yes")]
    pub active: bool,
    /// The models it suits (`-27` for another).
    pub models: Vec<String>,
    /// Its deployment package (an id of [`Catalogue::deployment_packages`]).
    pub package: String,
    /// The E-FOTA client versions whose deployment-package reader the package is built for
    /// (`-28` for a device whose client has another).
    #[serde(default = "default_readers")]
    pub readers: Vec<String>,
}

/// A deployment package.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeploymentPackage {
    pub id: String,
    /// Dotted numbers (`-30` otherwise).
    pub version: String,
    pub size: u64,
    #[serde(default = "default_encoding")]
    pub encoding: String,
    /// The path of its Download Descriptor on the DM server (`-18` when nothing is hosted there).
    pub file: String,
}

/// The scripted plugin the portal asks for the update files of a device's tool version, and for
/// their signatures (a rollback operation).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Plugin {
    /// What the plugin answers for each tool version: the update files it names.
    #[serde(rename = "tool")]
    pub tools: Vec<PluginTool>,
    /// Whether the signatures it returns verify (`-7047` when not).
    pub signatures_valid: bool,
    /// Pad each answer to this many bytes (an external server answering too much: `-7048` over
    /// [`Limits::external_response`]).
    pub pad_response: usize,
}

/// The plugin's answer for one tool version.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginTool {
    pub version: String,
    /// The update files it names (`-7037` when one is not the catalogue's rollback file).
    pub files: Vec<String>,
}

/// The portal's limits.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// The longest value a device may return for what the portal reads (`-7049` over it).
    pub device_info: usize,
    /// The longest answer the portal takes from an external server (the plugin; `-7048`).
    pub external_response: usize,
    /// Bytes a device may upload to the data collector per day (`-7046` over it).
    pub daily_upload: u64,
    /// Seconds the portal waits for a device's report once it took an operation (`-7020` until
    /// then, `-600` after).
    pub report_wait: u64,
    /// Devices one bulk upload may name.
    pub bulk_upload: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            device_info: 4096,
            external_response: 8192,
            daily_upload: 64 * 1024,
            report_wait: 24 * 3600,
            bulk_upload: 10_000,
        }
    }
}

impl Default for Plugin {
    fn default() -> Plugin {
        Plugin {
            tools: vec![PluginTool {
                version: "2.4.1".into(),
                files: vec!["rollback-2.4.1.bin".into()],
            }],
            signatures_valid: true,
            pad_response: 0,
        }
    }
}

fn yes() -> bool {
    true
}

fn default_max_dp_size() -> u64 {
    64 << 20
}

fn default_encoding() -> String {
    "zip".into()
}

fn default_encodings() -> Vec<String> {
    vec!["zip".into()]
}

fn default_readers() -> Vec<String> {
    vec![CLIENT_VERSION.into()]
}

fn default_parameters() -> Vec<String> {
    vec![
        "./Ext/EFOTA/Device/SalesCode".into(),
        "./Ext/EFOTA/Device/CSC".into(),
    ]
}

/// The E-FOTA client version of the family's devices.
const CLIENT_VERSION: &str = "3.6.12";

impl Default for Catalogue {
    fn default() -> Catalogue {
        Catalogue {
            models: vec![Model {
                name: "SM-G991B".into(),
                scomo_uri: Some("./SCOMO".into()),
                max_dp_size: default_max_dp_size(),
                dp_encodings: default_encodings(),
                signing_key: true,
                parameters: default_parameters(),
            }],
            firmware: vec![
                Firmware {
                    model: "SM-G991B".into(),
                    version: "G991BXXU5CVJB".into(),
                    active: true,
                    updates: Vec::new(),
                },
                Firmware {
                    model: "SM-G991B".into(),
                    version: "G991BXXU5DWA1".into(),
                    active: true,
                    updates: vec![FirmwareUpdate {
                        from: None,
                        file: "/efota/fw/G991BXXU5DWA1.dd".into(),
                    }],
                },
            ],
            software: vec![Software {
                instance: "com.samsung.knox.efota.tool".into(),
                versions: vec![SoftwareVersion {
                    version: "2.4.1".into(),
                    active: true,
                    models: vec!["SM-G991B".into()],
                    package: "dp-tool-2.4.1".into(),
                    readers: default_readers(),
                }],
            }],
            deployment_packages: vec![DeploymentPackage {
                id: "dp-tool-2.4.1".into(),
                version: "2.4.1".into(),
                size: 16 * 1024,
                encoding: default_encoding(),
                file: "/efota/sw/tool-2.4.1.dd".into(),
            }],
            triggers: vec!["immediate".into(), "scheduled".into(), "on-charge".into()],
            config_properties: vec!["update.wifi-only".into()],
            protocol_versions: vec!["1.2".into()],
            client_versions: vec![CLIENT_VERSION.into()],
            plugin: Plugin::default(),
            limits: Limits::default(),
        }
    }
}

impl Catalogue {
    pub fn model(&self, name: &str) -> Option<&Model> {
        self.models.iter().find(|m| m.name == name)
    }

    /// The versions of `model`'s firmware, in the catalogue's order.
    pub fn firmware_of<'a>(&'a self, model: &'a str) -> impl Iterator<Item = &'a Firmware> {
        self.firmware.iter().filter(move |f| f.model == model)
    }

    pub fn software(&self, instance: &str) -> Option<&Software> {
        self.software.iter().find(|s| s.instance == instance)
    }

    pub fn deployment_package(&self, id: &str) -> Option<&DeploymentPackage> {
        self.deployment_packages.iter().find(|p| p.id == id)
    }
}

/// Whether `version` is dotted decimal numbers (`2.4.1`).
pub fn is_dotted(version: &str) -> bool {
    !version.is_empty()
        && version
            .split('.')
            .all(|p| !p.is_empty() && p.len() <= 9 && p.bytes().all(|b| b.is_ascii_digit()))
}
