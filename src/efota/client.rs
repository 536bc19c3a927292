//! The E-FOTA client's own operations (`./Ext/EFOTA/Operations/…`, see [`super::mo`]): what the
//! client keeps across a power loss, the Exec that starts an operation, the job it runs as the
//! engine's sans-IO state machine ([`crate::engine::Agent::step`]: input in, [`Action`] out), and
//! the E-FOTA report that ends it.
//!
//! * `RetrieveLicense` ([`super::license`]): fetch the license at `License/URL`, check it, keep it;
//! * `InstallProfile` ([`super::config`]): check and apply the configuration profile of
//!   `Config/Profile` (and `Config/ProfileData`), restarting the components that take a setting;
//! * `DownloadItems` ([`super::items`]): download every `Items/<n>/URL` through OMA Download
//!   ([`Action::Download`] and the download agent) and install each item into the inventory.
//!
//! An Exec on one of them is answered 202 and carries what the tree holds at that moment (the
//! URL, the profile, the item URLs); another while a job is queued, or after one was accepted
//! earlier in the same Atomic, is 409; `DownloadItems` with no `Items/<n>/URL` is 412 (there is
//! nothing to download). The job runs after the session, the runner saving after every step; it
//! ends with an [`Ending`]: its outcome, and the E-FOTA code(s) the device's profile gives it in
//! its `knox-efota` table, sent in the client's report alert ([`crate::protocol::efota`]) in the
//! same save that ends the job. A profile without that table has no code for it: nothing is
//! reported.
//!
//! What the client keeps ([`ClientDurable`]) is saved with the device; the nodes it shows
//! (`License/Status`, `License/Key`, `License/Expires`, `Config/Settings/<key>`,
//! `Inventory/<id>`) are set again from it at every boot, so a power loss never leaves the tree
//! showing what was not saved.

use super::config::{self, ConfigJob};
use super::items::{self, ContentHandler, InventoryItem, ItemsJob};
use super::license::{self, LicenseJob};
use super::mo;
use crate::download::{DownloadRequest, Partial};
use crate::engine::{mark, Action, Env, Input, Reported, SimSeconds, Ticket};
use crate::outcome::Outcome;
use crate::package::license::License;
use crate::package::VerifyingKey;
use crate::profile::{Platform, Row, Table};
use crate::protocol::download::DlStatus;
use crate::protocol::efota;
use crate::syncml::{GenericAlert, StatusCode};
use crate::tree::{Access, Format, Node, Tree};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// How the client is set up: dmsim's defaults, the same on every device of the family (README,
/// "Knox E-FOTA").
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The key licenses must be signed with (the package test key).
    pub trusted: VerifyingKey,
    /// The content handlers items are installed by ([`items::default_handlers`]).
    pub handlers: Vec<ContentHandler>,
    /// The features the device has, which an item may require (`REQUIRES=`).
    pub features: Vec<String>,
    /// The custom settings (`custom.*`) the device supports.
    pub custom_settings: Vec<String>,
    /// Seconds the client waits for a configuration profile to take effect.
    pub config_timeout: u64,
}

impl Default for ClientConfig {
    fn default() -> ClientConfig {
        ClientConfig {
            trusted: crate::package::test_signing_key().verifying_key(),
            handlers: items::default_handlers(),
            features: ["knox", "dex", "nfc"].map(str::to_string).to_vec(),
            custom_settings: config::DEFAULT_CUSTOM_SETTINGS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            config_timeout: config::DEFAULT_TIMEOUT_SECS,
        }
    }
}

/// An operation of the client, by its node under `Operations`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientOperation {
    RetrieveLicense,
    InstallProfile,
    DownloadItems,
}

impl ClientOperation {
    /// The node name under `Operations`.
    pub fn node(self) -> &'static str {
        match self {
            ClientOperation::RetrieveLicense => mo::OPERATION_NAMES[0],
            ClientOperation::InstallProfile => mo::OPERATION_NAMES[1],
            ClientOperation::DownloadItems => mo::OPERATION_NAMES[2],
        }
    }

    pub fn from_node(name: &str) -> Option<ClientOperation> {
        [
            ClientOperation::RetrieveLicense,
            ClientOperation::InstallProfile,
            ClientOperation::DownloadItems,
        ]
        .into_iter()
        .find(|op| op.node() == name)
    }
}

/// A job of the client, as persisted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientJob {
    pub correlator: Option<String>,
    pub work: Work,
}

/// What a job does, and where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Work {
    License(LicenseJob),
    Config(ConfigJob),
    Items(ItemsJob),
}

/// The bytes of the item being downloaded that the client holds (saved apart, as the blob).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Held {
    /// The object's URL and size, and the validator of its version ([`Partial`]).
    pub url: String,
    pub expected_size: Option<u64>,
    pub validator: Option<String>,
    /// Bytes held.
    pub len: u64,
    /// The bytes are the whole, verified object.
    pub complete: bool,
}

/// What the client keeps across a power loss.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ClientDurable {
    /// The license kept (the last one retrieved).
    pub license: Option<License>,
    /// The settings applied, by key.
    pub settings: BTreeMap<String, String>,
    /// The items installed.
    pub inventory: Vec<InventoryItem>,
    pub job: Option<ClientJob>,
    pub held: Held,
}

/// The client's operations on one device.
#[derive(Debug, Clone)]
pub struct Client {
    pub config: Arc<ClientConfig>,
    /// The client's root, its version and the device's platform (from the agent's configuration).
    pub root: String,
    pub client_version: String,
    pub platform: Platform,
    pub durable: ClientDurable,
    /// The held bytes ([`Held::len`] of them).
    pub bytes: Vec<u8>,
    /// The bytes changed since they were last saved.
    pub bytes_dirty: bool,
    /// The DL status of every download attempt of an item that read a descriptor (not device
    /// memory: it survives the simulated power losses).
    pub dl_statuses: Vec<DlStatus>,
    /// How the job that just ended was reported, until the save that reports it lands.
    pub ending: Option<Reported>,
}

/// What a job's step asks for.
pub(super) enum Step {
    Save,
    Wait(u64),
    Download {
        request: DownloadRequest,
        partial: Partial,
    },
    Finish(Ending),
}

/// How a job ended: its outcome, the row of the E-FOTA code it is reported with (none when the
/// device's profile has none), and the codes of the report (the row's, and for 960 and 970 the
/// statuses they announce).
pub(super) struct Ending {
    pub outcome: Outcome,
    pub row: Option<&'static Row>,
    pub codes: Vec<i64>,
}

impl Ending {
    /// An ending reported with the code of the row that names `outcome`.
    pub fn of(outcome: Outcome, env: &Env<'_>, platform: Platform) -> Ending {
        let row = env
            .profile
            .vendor_row(Table::KnoxEfota, Some(outcome.key()), None, platform);
        Ending {
            codes: row.map(|r| vec![r.code]).unwrap_or_default(),
            outcome,
            row,
        }
    }
}

/// Most bytes of a configuration profile or its additional data an Exec takes along (one more
/// than the client reads, so a longer one is refused as such).
pub const MAX_PROFILE_BYTES: usize = super::settings::MAX_PROFILE_LEN;

/// Most items one `DownloadItems` takes: a `970` report of that many, each followed by a handler's
/// status, still fits one report ([`efota::MAX_CODES`]).
pub const MAX_ITEMS: usize = (efota::MAX_CODES - 1) / 2;

/// What an `InstallProfile` Exec takes from the tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct ProfileArgument {
    profile: Vec<u8>,
    data: Vec<u8>,
}

impl Client {
    /// The client at `root`, of version `client_version`, on a `platform` device, nothing kept.
    pub fn new(root: &str, client_version: &str, platform: Platform) -> Client {
        Client {
            config: Arc::new(ClientConfig::default()),
            root: root.to_string(),
            client_version: client_version.to_string(),
            platform,
            durable: ClientDurable::default(),
            bytes: Vec::new(),
            bytes_dirty: false,
            dl_statuses: Vec::new(),
            ending: None,
        }
    }

    /// The node `path` under the root.
    pub fn node(&self, path: &str) -> String {
        mo::node(&self.root, path)
    }

    /// The operation whose node `uri` is, if it is one of the client's.
    pub fn operation_at(&self, uri: &str) -> Option<ClientOperation> {
        let root = self.root.trim_start_matches("./");
        let name = uri
            .trim_start_matches("./")
            .strip_prefix(root)?
            .strip_prefix('/')?
            .strip_prefix(mo::OPERATIONS)?
            .strip_prefix('/')?;
        ClientOperation::from_node(name)
    }

    /// An Exec on `uri` (see the module docs): `None` when it is not one of the client's
    /// operations.
    pub fn exec(
        &self,
        uri: &str,
        correlator: Option<&str>,
        tree: &Tree,
        another_accepted: bool,
    ) -> Option<Result<Ticket, StatusCode>> {
        let operation = self.operation_at(uri)?;
        if self.durable.job.is_some() || another_accepted {
            return Some(Err(StatusCode::Conflict));
        }
        let argument = match operation {
            ClientOperation::RetrieveLicense => tree
                .value_str(&self.node(mo::LICENSE_URL))
                .unwrap_or("")
                .trim()
                .to_string(),
            ClientOperation::InstallProfile => {
                let value = |path| {
                    let mut v = tree.value(&self.node(path)).unwrap_or_default().to_vec();
                    v.truncate(MAX_PROFILE_BYTES + 1);
                    v
                };
                let argument = ProfileArgument {
                    profile: value(mo::CONFIG_PROFILE),
                    data: value(mo::CONFIG_PROFILE_DATA),
                };
                serde_json::to_string(&argument).unwrap_or_default()
            }
            ClientOperation::DownloadItems => {
                let urls = self.item_urls(tree);
                if urls.is_empty() {
                    return Some(Err(StatusCode::IncompleteCommand));
                }
                serde_json::to_string(&urls).unwrap_or_default()
            }
        };
        Some(Ok(Ticket {
            operation: operation.node().to_string(),
            correlator: correlator.map(str::to_string),
            argument,
        }))
    }

    /// The URLs of `Items/<n>/URL`, in the order of `<n>` (numbers by value, then names), at most
    /// [`MAX_ITEMS`]; items without a URL are skipped.
    fn item_urls(&self, tree: &Tree) -> Vec<String> {
        let items = self.node(mo::ITEMS);
        let mut names: Vec<&str> = tree.children(&items).collect();
        names.sort_by_key(|n| (n.parse::<u64>().map_or(u64::MAX, |v| v), n.to_string()));
        names
            .into_iter()
            .filter_map(|n| tree.value_str(&format!("{items}/{n}/URL")))
            .map(|u| u.trim().to_string())
            .filter(|u| !u.is_empty())
            .take(MAX_ITEMS)
            .collect()
    }

    /// Queue the job of a ticket whose Exec took effect.
    pub fn queue(&mut self, ticket: Ticket) {
        if self.durable.job.is_some() {
            tracing::error!(
                dropped = ticket.operation,
                "a second E-FOTA job while one is queued: the new one is dropped"
            );
            return;
        }
        let work = match ClientOperation::from_node(&ticket.operation) {
            Some(ClientOperation::RetrieveLicense) => {
                Work::License(LicenseJob::new(ticket.argument))
            }
            Some(ClientOperation::InstallProfile) => {
                match serde_json::from_str::<ProfileArgument>(&ticket.argument) {
                    Ok(a) => Work::Config(ConfigJob::new(a.profile, a.data)),
                    Err(e) => {
                        tracing::error!(error = %e, "an InstallProfile ticket that does not read");
                        return;
                    }
                }
            }
            Some(ClientOperation::DownloadItems) => {
                match serde_json::from_str::<Vec<String>>(&ticket.argument) {
                    Ok(urls) => Work::Items(ItemsJob::new(urls)),
                    Err(e) => {
                        tracing::error!(error = %e, "a DownloadItems ticket that does not read");
                        return;
                    }
                }
            }
            None => {
                tracing::error!(
                    operation = ticket.operation,
                    "a ticket for an operation the E-FOTA client does not have is dropped"
                );
                return;
            }
        };
        self.durable.job = Some(ClientJob {
            correlator: ticket.correlator,
            work,
        });
    }

    pub fn has_job(&self) -> bool {
        self.durable.job.is_some()
    }

    /// One step of the job (see [`crate::engine::Agent::step`]).
    pub fn step(&mut self, input: Input, env: &mut Env<'_>) -> Action {
        let Some(mut job) = self.durable.job.take() else {
            return Action::Save;
        };
        let step = match &mut job.work {
            Work::License(l) => license::step(l, self, input, env),
            Work::Config(c) => config::step(c, self, input, env),
            Work::Items(i) => items::step(i, self, input, env),
        };
        match step {
            Step::Finish(ending) => self.finish(job.correlator, ending),
            step => {
                self.durable.job = Some(job);
                match step {
                    Step::Save | Step::Finish(_) => Action::Save,
                    Step::Wait(seconds) => Action::Wait { seconds },
                    Step::Download { request, partial } => Action::Download { request, partial },
                }
            }
        }
    }

    /// End the job (already out of the durable state) with its report.
    fn finish(&mut self, correlator: Option<String>, ending: Ending) -> Action {
        let Some(row) = ending.row else {
            tracing::warn!(
                outcome = %ending.outcome,
                "the device's profile has no E-FOTA code for how the operation ended: nothing is reported"
            );
            return Action::Save;
        };
        let reported = Reported {
            outcome: ending.outcome,
            table: row.table,
            code: row.code,
            meaning: &row.meaning,
        };
        let alert = GenericAlert {
            correlator,
            source_uri: self.root.clone(),
            target_uri: None,
            alert_type: efota::ALERT_TYPE.to_string(),
            format: "chr".to_string(),
            mark: Some(mark(&reported.outcome).to_string()),
            data: efota::data(&ending.codes),
        };
        self.ending = Some(reported.clone());
        Action::Report { alert, reported }
    }

    /// Take back what was saved; held bytes shorter than counted are dropped.
    pub fn restore(
        &mut self,
        durable: serde_json::Value,
        mut blob: Vec<u8>,
    ) -> Result<(), serde_json::Error> {
        let durable: ClientDurable = if durable.is_null() {
            ClientDurable::default()
        } else {
            serde_json::from_value(durable)?
        };
        let len = usize::try_from(durable.held.len).unwrap_or(usize::MAX);
        self.durable = durable;
        self.ending = None;
        if blob.len() < len {
            tracing::warn!(
                saved = blob.len(),
                counted = len,
                "the E-FOTA client's download lost bytes; they are dropped"
            );
            self.drop_held();
        } else {
            blob.truncate(len);
            self.bytes = blob;
            self.bytes_dirty = false;
        }
        Ok(())
    }

    /// Show what the client keeps in the tree (at mount and after every boot).
    pub fn sync_tree(&self, tree: &mut Tree, now: SimSeconds) {
        self.show_license(tree, now);
        self.show_settings(tree, now);
        self.show_inventory(tree, now);
    }

    fn set(&self, tree: &mut Tree, path: &str, value: &str, now: SimSeconds) {
        let node = self.node(path);
        if tree.value(&node).is_some_and(|v| v != value.as_bytes()) {
            if let Err(e) = tree.set_value(&node, value.as_bytes(), now) {
                tracing::warn!(node, error = %e, "cannot set an E-FOTA node");
            }
        }
    }

    /// `License/Status`, `License/Key`, `License/Expires` from the license kept.
    pub fn show_license(&self, tree: &mut Tree, now: SimSeconds) {
        let license = self.durable.license.as_ref();
        let status = if license.is_some() {
            "retrieved"
        } else {
            "none"
        };
        self.set(tree, mo::LICENSE_STATUS, status, now);
        self.set(tree, mo::LICENSE_KEY, license.map_or("", |l| &l.key), now);
        let expires = license.map(|l| l.expires.to_string()).unwrap_or_default();
        self.set(tree, mo::LICENSE_EXPIRES, &expires, now);
    }

    /// Keep a license that was checked.
    pub fn keep_license(&mut self, license: License, tree: &mut Tree, now: SimSeconds) {
        self.durable.license = Some(license);
        self.show_license(tree, now);
    }

    /// `Config/Settings/<key>` as the settings applied.
    pub fn show_settings(&self, tree: &mut Tree, now: SimSeconds) {
        let base = self.node(mo::CONFIG_SETTINGS);
        mirror(
            tree,
            &base,
            self.durable
                .settings
                .iter()
                .map(|(k, v)| (k.clone(), vec![("".to_string(), v.clone())]))
                .collect(),
            now,
        );
    }

    /// `Inventory/<id>/Version` and `Type` as the items installed, while `Inventory` is there
    /// (the server may remove it; the client does not make it again).
    pub fn show_inventory(&self, tree: &mut Tree, now: SimSeconds) {
        let base = self.node(mo::INVENTORY);
        if tree.node(&base).is_none() {
            return;
        }
        mirror(
            tree,
            &base,
            self.durable
                .inventory
                .iter()
                .map(|i| {
                    (
                        i.node_name(),
                        vec![
                            ("Version".to_string(), i.version.clone()),
                            ("Type".to_string(), i.content_type.clone()),
                        ],
                    )
                })
                .collect(),
            now,
        );
    }

    /// The bytes held, to resume from (an empty [`Partial`] when they are a whole object).
    pub fn take_partial(&mut self) -> Partial {
        if self.durable.held.complete {
            return Partial::new();
        }
        self.bytes_dirty = true;
        Partial {
            url: self.durable.held.url.clone(),
            bytes: std::mem::take(&mut self.bytes),
            expected_size: self.durable.held.expected_size,
            validator: self.durable.held.validator.clone(),
        }
    }

    /// Keep what a download attempt left (`complete`: the whole, verified object).
    pub fn keep_partial(&mut self, partial: Partial, complete: bool) {
        self.durable.held = Held {
            url: partial.url,
            expected_size: partial.expected_size,
            validator: partial.validator,
            len: partial.bytes.len() as u64,
            complete,
        };
        self.bytes = partial.bytes;
        self.bytes_dirty = true;
    }

    /// Whether a whole object is held.
    pub fn holds_object(&self) -> bool {
        self.durable.held.complete && self.bytes.len() as u64 == self.durable.held.len
    }

    /// Forget the bytes held.
    pub fn drop_held(&mut self) {
        self.durable.held = Held::default();
        self.bytes = Vec::new();
        self.bytes_dirty = true;
    }
}

/// Make the children of the interior node `base` exactly `entries`: each `(name, leaves)` an
/// interior child with those leaves, or, when its one leaf's name is empty, a leaf child. Nodes
/// not listed are removed.
fn mirror(
    tree: &mut Tree,
    base: &str,
    entries: BTreeMap<String, Vec<(String, String)>>,
    now: SimSeconds,
) {
    let stale: Vec<String> = tree
        .children(base)
        .filter(|c| !entries.contains_key(*c))
        .map(str::to_string)
        .collect();
    for name in stale {
        if let Err(e) = tree.remove(&format!("{base}/{name}")) {
            tracing::warn!(node = name, error = %e, "cannot remove an E-FOTA node");
        }
    }
    for (name, leaves) in entries {
        let child = format!("{base}/{name}");
        let result = match leaves.as_slice() {
            [(leaf, value)] if leaf.is_empty() => set_leaf(tree, &child, value, now),
            _ => leaves.iter().try_for_each(|(leaf, value)| {
                set_leaf(tree, &format!("{child}/{leaf}"), value, now)
            }),
        };
        if let Err(e) = result {
            tracing::warn!(node = child, error = %e, "cannot show an E-FOTA node");
        }
    }
}

/// Set a read-only leaf, making it (and its parents) when missing.
fn set_leaf(
    tree: &mut Tree,
    uri: &str,
    value: &str,
    now: SimSeconds,
) -> Result<(), crate::tree::TreeError> {
    if tree.value(uri) == Some(value.as_bytes()) {
        return Ok(());
    }
    if tree.node(uri).is_none() {
        if let Some((parent, _)) = uri.rsplit_once('/') {
            if tree.node(parent).is_none() {
                tree.insert(parent, Node::interior().access(Access::GET))?;
            }
        }
        return tree.insert(
            uri,
            Node::leaf(Format::Chr, value)
                .access(Access::GET)
                .tstamp(now),
        );
    }
    tree.set_value(uri, value.as_bytes(), now)
}
